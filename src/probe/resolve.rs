//! Step 1 of the probe: from HOST (or `--mx DOMAIN`) to the addresses to connect to.
//!
//! A host name goes through the system's resolver (getaddrinfo: /etc/hosts, then DNS), as
//! any other program on the machine would. `--mx` asks DNS directly with hickory-resolver
//! (the system's DNS servers, or `--resolver`), since getaddrinfo cannot look up MX
//! records; it is the only path that uses hickory. Each look-up is bounded by `--timeout`.
//!
//! Names under `.invalid` never exist (RFC 6761 section 6.4 asks resolvers to answer that at
//! once): they fail here without asking anyone.

use super::report::{DNS_FAILED, Failure, Target};
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

/// The addresses to try, and what the look-up found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The host to connect to (for `--mx`, the MX host).
    pub host: String,
    pub addrs: Vec<SocketAddr>,
    pub detail: String,
}

/// Whether a name is under the special-use `.invalid` domain.
pub fn is_invalid_name(name: &str) -> bool {
    let n = name.trim_end_matches('.').to_ascii_lowercase();
    n == "invalid" || n.ends_with(".invalid")
}

fn invalid(name: &str) -> Failure {
    Failure::new(
        DNS_FAILED,
        format!("{name}: NXDOMAIN (names under .invalid never exist, RFC 6761; nothing was asked)"),
    )
}

pub fn resolve(target: &Target, timeout: Duration) -> Result<Resolved, Failure> {
    match target {
        Target::Host { host, port } => resolve_host(host, *port, timeout),
        Target::Mx {
            domain,
            port,
            resolver,
        } => {
            if is_invalid_name(domain) {
                return Err(invalid(domain));
            }
            resolve_mx(domain, *port, *resolver, timeout)
        }
    }
}

fn show_addrs(addrs: &[SocketAddr]) -> String {
    addrs
        .iter()
        .map(|a| a.ip().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Runs a blocking look-up in a thread and waits for it at most `timeout` (a resolver that
/// hangs is left behind: the process ends soon after anyway).
fn bounded<T: Send + 'static>(
    timeout: Duration,
    what: String,
    f: impl FnOnce() -> Result<T, Failure> + Send + 'static,
) -> Result<T, Failure> {
    let (tx, rx) = mpsc::channel();
    let spawned = thread::Builder::new()
        .name("resolve".into())
        .spawn(move || {
            let _ = tx.send(f());
        });
    if let Err(e) = spawned {
        return Err(Failure::new(
            DNS_FAILED,
            format!("{what}: cannot start the look-up: {e}"),
        ));
    }
    match rx.recv_timeout(timeout) {
        Ok(r) => r,
        Err(mpsc::RecvTimeoutError::Timeout) => Err(Failure::new(
            DNS_FAILED,
            format!(
                "{what}: the resolver did not answer within {}",
                crate::time::short_duration(timeout)
            ),
        )),
        Err(mpsc::RecvTimeoutError::Disconnected) => Err(Failure::new(
            DNS_FAILED,
            format!("{what}: the look-up stopped without an answer"),
        )),
    }
}

fn resolve_host(host: &str, port: u16, timeout: Duration) -> Result<Resolved, Failure> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(Resolved {
            host: host.to_string(),
            addrs: vec![SocketAddr::new(ip, port)],
            detail: format!("{ip} (an address: no look-up)"),
        });
    }
    if is_invalid_name(host) {
        return Err(invalid(host));
    }
    let name = host.to_string();
    let shown = host.to_string();
    let addrs = bounded(timeout, shown.clone(), move || {
        match (name.as_str(), port).to_socket_addrs() {
            Ok(it) => Ok(it.collect::<Vec<_>>()),
            Err(e) => Err(Failure::new(DNS_FAILED, format!("{name}: {e}"))),
        }
    })?;
    let mut unique: Vec<SocketAddr> = Vec::new();
    for a in addrs {
        if !unique.contains(&a) {
            unique.push(a);
        }
    }
    if unique.is_empty() {
        return Err(Failure::new(
            DNS_FAILED,
            format!("{shown}: no A or AAAA record"),
        ));
    }
    Ok(Resolved {
        host: shown,
        detail: show_addrs(&unique),
        addrs: unique,
    })
}

fn resolve_mx(
    domain: &str,
    port: u16,
    server: Option<SocketAddr>,
    timeout: Duration,
) -> Result<Resolved, Failure> {
    let d = domain.trim_end_matches('.').to_string();
    bounded(timeout, format!("MX {d}"), move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Failure::new(DNS_FAILED, format!("cannot start the resolver: {e}")))?;
        rt.block_on(mx_flow(d, port, server, timeout))
    })
}

async fn mx_flow(
    domain: String,
    port: u16,
    server: Option<SocketAddr>,
    timeout: Duration,
) -> Result<Resolved, Failure> {
    use hickory_resolver::Resolver;
    use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig};
    use hickory_resolver::net::runtime::TokioRuntimeProvider;
    use hickory_resolver::proto::rr::RData;

    let fail = |m: String| Failure::new(DNS_FAILED, m);
    let mut builder = match server {
        Some(sa) => {
            let mut udp = ConnectionConfig::udp();
            udp.port = sa.port();
            let mut tcp = ConnectionConfig::tcp();
            tcp.port = sa.port();
            let ns = NameServerConfig::new(sa.ip(), true, vec![udp, tcp]);
            Resolver::builder_with_config(
                ResolverConfig::from_name_servers(vec![ns]),
                TokioRuntimeProvider::default(),
            )
        }
        None => Resolver::builder_tokio().map_err(|e| {
            fail(format!(
                "cannot read the system's DNS configuration ({e}); try --resolver"
            ))
        })?,
    };
    builder.options_mut().timeout = timeout;
    builder.options_mut().attempts = 1;
    let resolver = builder
        .build()
        .map_err(|e| fail(format!("cannot start the resolver: {e}")))?;

    let fqdn = format!("{domain}.");
    let mut hosts: Vec<(u16, String)> = match resolver.mx_lookup(fqdn.as_str()).await {
        Ok(l) => l
            .answers()
            .iter()
            .filter_map(|r| match &r.data {
                RData::MX(mx) => Some((mx.preference, mx.exchange.to_ascii())),
                _ => None,
            })
            .collect(),
        Err(e) if e.is_nx_domain() => {
            return Err(fail(format!(
                "MX {domain}: NXDOMAIN (the domain does not exist)"
            )));
        }
        Err(e) if e.is_no_records_found() => Vec::new(),
        Err(e) => return Err(fail(format!("MX {domain}: {e}"))),
    };
    hosts.sort();
    let mut notes = Vec::new();
    if hosts.is_empty() {
        // RFC 5321 section 5.1: no MX means the domain itself is the mail server
        notes.push(format!("no MX record: {domain} itself (implicit MX)"));
        hosts.push((0, fqdn.clone()));
    } else if hosts.iter().any(|(_, h)| h == ".") {
        return Err(fail(format!(
            "MX {domain}: a null MX (RFC 7505): the domain accepts no mail"
        )));
    } else {
        notes.push(format!(
            "MX {}",
            hosts
                .iter()
                .map(|(p, h)| format!("{p} {}", h.trim_end_matches('.')))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    // the most preferred host that has an address (as a sending server would)
    let mut errors = Vec::new();
    for (_, h) in &hosts {
        let shown = h.trim_end_matches('.').to_string();
        if is_invalid_name(&shown) {
            errors.push(format!("{shown}: NXDOMAIN (.invalid)"));
            continue;
        }
        match resolver.lookup_ip(h.as_str()).await {
            Ok(ips) => {
                let addrs: Vec<SocketAddr> =
                    ips.iter().map(|ip| SocketAddr::new(ip, port)).collect();
                if addrs.is_empty() {
                    errors.push(format!("{shown}: no A or AAAA record"));
                    continue;
                }
                notes.extend(errors);
                notes.push(format!("{shown}: {}", show_addrs(&addrs)));
                return Ok(Resolved {
                    host: shown,
                    addrs,
                    detail: notes.join("; "),
                });
            }
            Err(e) if e.is_nx_domain() => errors.push(format!("{shown}: NXDOMAIN")),
            Err(e) if e.is_no_records_found() => {
                errors.push(format!("{shown}: no A or AAAA record"))
            }
            Err(e) => errors.push(format!("{shown}: {e}")),
        }
    }
    notes.extend(errors);
    Err(fail(notes.join("; ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_names_fail_at_once() {
        assert!(is_invalid_name("mx.example.invalid"));
        assert!(is_invalid_name("MX.EXAMPLE.INVALID."));
        assert!(is_invalid_name("invalid"));
        assert!(!is_invalid_name("invalid.example.com"));
        assert!(!is_invalid_name("notinvalid"));
        let t = Target::Host {
            host: "mx.example.invalid".into(),
            port: 25,
        };
        let start = std::time::Instant::now();
        let f = resolve(&t, Duration::from_secs(5)).unwrap_err();
        assert_eq!(f.code, DNS_FAILED);
        assert!(f.detail.contains("NXDOMAIN"));
        assert!(start.elapsed() < Duration::from_secs(1));
    }

    #[test]
    fn addresses_need_no_look_up() {
        let t = Target::Host {
            host: "::1".into(),
            port: 2525,
        };
        let r = resolve(&t, Duration::from_secs(1)).unwrap();
        assert_eq!(r.addrs, vec!["[::1]:2525".parse().unwrap()]);
    }

    #[test]
    fn bounded_gives_up() {
        let r: Result<(), Failure> = bounded(Duration::from_millis(50), "slow".into(), || {
            thread::sleep(Duration::from_millis(500));
            Ok(())
        });
        let f = r.unwrap_err();
        assert_eq!(f.code, DNS_FAILED);
        assert!(
            f.detail.contains("did not answer within 50ms"),
            "{}",
            f.detail
        );
    }
}
