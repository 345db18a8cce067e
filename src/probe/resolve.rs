//! Step 1 of the probe: from HOST, `--smart-host`s or `--mx DOMAIN` to the hosts and
//! addresses to connect to; and the DNS questions of the later checks (TLSA for DANE, TXT
//! for MTA-STS).
//!
//! A host name goes through the system's resolver (getaddrinfo: /etc/hosts, then DNS), as
//! any other program on the machine would, unless `--resolver` names a DNS server. MX, TXT
//! and the rest ask DNS directly with hickory-resolver (the system's DNS servers, or
//! `--resolver`), since getaddrinfo cannot look them up. TLSA goes out as a question of our
//! own with the AD bit set: ndr-doctor does not validate DNSSEC itself, it trusts the AD bit
//! of a validating resolver, as Postfix does. Each look-up is bounded by `--timeout`.
//!
//! Names under `.invalid` never exist (RFC 6761 section 6.4 asks resolvers to answer that at
//! once): they fail here without asking anyone.

use super::dane::Tlsa;
use super::report::{DNS_FAILED, Failure, NULL_MX, Target};
use super::smtp::timed_out;
use hickory_resolver::proto::op::{Edns, Message, Query, ResponseCode};
use hickory_resolver::proto::rr::{Name, RData, RecordType};
use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream, ToSocketAddrs, UdpSocket};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

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

fn show_addrs(addrs: &[SocketAddr]) -> String {
    addrs
        .iter()
        .map(|a| a.ip().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Runs a blocking look-up in a thread and waits for it at most `timeout` (a resolver that
/// hangs is left behind: the process ends soon after anyway).
pub(super) fn bounded<T: Send + 'static>(
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
                "{what}: the resolver {NO_ANSWER} {}",
                crate::time::short_duration(timeout)
            ),
        )),
        Err(mpsc::RecvTimeoutError::Disconnected) => Err(Failure::new(
            DNS_FAILED,
            format!("{what}: the look-up stopped without an answer"),
        )),
    }
}

/// A host to try and its addresses (none when its look-up failed: the plan's detail says why).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub host: String,
    pub addrs: Vec<SocketAddr>,
}

/// The hosts to try, in order, and what the look-ups found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub candidates: Vec<Candidate>,
    /// The mail domain whose MX hosts these are (DANE and MTA-STS apply to them); `None`
    /// for hosts given directly.
    pub mx_domain: Option<String>,
    pub detail: String,
}

/// What a look-up that ran out of time says (and how `plan` tells it from a name that has
/// no address).
const NO_ANSWER: &str = "did not answer within";

/// MX hosts looked up at most (their addresses are capped again by the walk).
pub const MAX_MX_HOSTS: usize = 10;

/// What a TLSA look-up found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsaAnswer {
    /// No record (NXDOMAIN or no data): DANE does not apply.
    None,
    /// Records the resolver did not mark authenticated (no AD bit): not usable for DANE.
    Insecure(Vec<Tlsa>),
    /// Records the validating resolver marked authenticated (the AD bit).
    Secure(Vec<Tlsa>),
    /// SERVFAIL, which a validating resolver answers for DNSSEC-bogus data: a sentence.
    Bogus(String),
    /// The resolver could not be asked, or answered with another error: a sentence.
    Failed(String),
}

/// The DNS side of the probe: hickory-resolver on a runtime of its own, built at first use,
/// asking `--resolver` or the system's name servers; and, for TLSA, a query of our own with
/// the AD bit set, so that a validating resolver says whether the answer is authenticated.
pub struct Dns {
    server: Option<SocketAddr>,
    ctx: Option<Result<Ctx, String>>,
}

struct Ctx {
    rt: tokio::runtime::Runtime,
    resolver: hickory_resolver::TokioResolver,
    /// Where TLSA questions go: `--resolver`, else the system's first name server.
    first: Option<SocketAddr>,
}

impl Dns {
    /// A resolver asking `server` (`--resolver`), or the system's name servers.
    pub fn new(server: Option<SocketAddr>) -> Dns {
        Dns { server, ctx: None }
    }

    /// Whether a DNS server was given (`--resolver`): then host names are asked there too.
    pub fn given(&self) -> bool {
        self.server.is_some()
    }

    fn ctx(&mut self, timeout: Duration) -> Result<&Ctx, String> {
        let server = self.server;
        let ctx = self.ctx.get_or_insert_with(|| build(server, timeout));
        ctx.as_ref().map_err(Clone::clone)
    }

    /// Which server answers, for the report.
    pub fn server_shown(&mut self, timeout: Duration) -> String {
        match (self.server, self.ctx(timeout).ok().and_then(|c| c.first)) {
            (Some(s), _) => format!("{s} (--resolver)"),
            (None, Some(s)) => format!("{} (the system's resolver)", s.ip()),
            (None, None) => "the system's resolver".to_string(),
        }
    }

    /// The MX records of `domain` in the order DNS gave them; `Ok(None)` when it has none.
    fn mx(
        &mut self,
        domain: &str,
        timeout: Duration,
    ) -> Result<Option<Vec<(u16, String)>>, Failure> {
        let fail = |m: String| Failure::new(DNS_FAILED, m);
        let ctx = self
            .ctx(timeout)
            .map_err(|e| fail(format!("MX {domain}: {e}")))?;
        let fqdn = format!("{domain}.");
        match ctx.ask(timeout, ctx.resolver.mx_lookup(fqdn.as_str())) {
            Err(e) => Err(fail(format!("MX {domain}: {e}"))),
            Ok(Ok(l)) => {
                let hosts: Vec<(u16, String)> = l
                    .answers()
                    .iter()
                    .filter_map(|r| match &r.data {
                        RData::MX(mx) => Some((mx.preference, mx.exchange.to_ascii())),
                        _ => None,
                    })
                    .collect();
                Ok((!hosts.is_empty()).then_some(hosts))
            }
            Ok(Err(e)) if e.is_nx_domain() => Err(fail(format!(
                "MX {domain}: NXDOMAIN (the domain does not exist)"
            ))),
            Ok(Err(e)) if e.is_no_records_found() => Ok(None),
            Ok(Err(e)) => Err(fail(format!("MX {domain}: {e}"))),
        }
    }

    /// The IPv4 then IPv6 addresses of `host`.
    pub fn ips(
        &mut self,
        host: &str,
        port: u16,
        timeout: Duration,
    ) -> Result<Vec<SocketAddr>, String> {
        let ctx = self.ctx(timeout)?;
        let fqdn = format!("{}.", host.trim_end_matches('.'));
        match ctx.ask(timeout, ctx.resolver.lookup_ip(fqdn.as_str())) {
            Err(e) => Err(e),
            Ok(Ok(ips)) => Ok(ips.iter().map(|ip| SocketAddr::new(ip, port)).collect()),
            Ok(Err(e)) if e.is_nx_domain() => Err("NXDOMAIN".to_string()),
            Ok(Err(e)) if e.is_no_records_found() => Err("no A or AAAA record".to_string()),
            Ok(Err(e)) => Err(e.to_string()),
        }
    }

    /// The TXT records of `name`, each one string (its character-strings joined); none on
    /// NXDOMAIN or no data.
    pub fn txt(&mut self, name: &str, timeout: Duration) -> Result<Vec<String>, String> {
        let ctx = self.ctx(timeout)?;
        let fqdn = format!("{}.", name.trim_end_matches('.'));
        match ctx.ask(timeout, ctx.resolver.txt_lookup(fqdn.as_str())) {
            Err(e) => Err(e),
            Ok(Ok(l)) => Ok(l
                .answers()
                .iter()
                .filter_map(|r| match &r.data {
                    RData::TXT(t) => Some(
                        t.txt_data
                            .iter()
                            .map(|s| String::from_utf8_lossy(s).into_owned())
                            .collect::<String>(),
                    ),
                    _ => None,
                })
                .collect()),
            Ok(Err(e)) if e.is_nx_domain() || e.is_no_records_found() => Ok(Vec::new()),
            Ok(Err(e)) => Err(e.to_string()),
        }
    }

    /// Whether the AD bit of the answers can be trusted: the resolver was named with
    /// `--resolver`, or the system's is on this machine (a remote one's AD bit crosses the
    /// network unprotected and could be forged on the way; glibc's `trust-ad` reasons alike).
    pub fn ad_trusted(&mut self, timeout: Duration) -> bool {
        self.server.is_some()
            || self
                .ctx(timeout)
                .ok()
                .and_then(|c| c.first)
                .is_some_and(|s| s.ip().is_loopback())
    }

    /// Whether `host`'s address records are DNSSEC-signed (the AD bit on its A, or else its
    /// AAAA, answer), and the name they belong to when `host` is an alias (a CNAME chain);
    /// `Err` when that cannot be told. DANE applies only to a signed host (RFC 7672 section
    /// 2.2.2).
    pub fn host_signed(
        &mut self,
        host: &str,
        timeout: Duration,
    ) -> Result<(bool, Option<String>), String> {
        let server = self
            .ctx(timeout)?
            .first
            .ok_or_else(|| "no name server to ask (give --resolver)".to_string())?;
        let end = Instant::now() + timeout;
        for rtype in [RecordType::A, RecordType::AAAA] {
            let m = raw_query(
                server,
                host,
                rtype,
                end.saturating_duration_since(Instant::now()),
            )?;
            if m.metadata.response_code != ResponseCode::NoError {
                return Err(format!(
                    "{rtype} {host}: the resolver answered {}",
                    m.metadata.response_code
                ));
            }
            if let Some(r) = m.answers.iter().find(|r| r.record_type() == rtype) {
                let owner = r.name.to_ascii();
                let owner = owner.trim_end_matches('.');
                let alias = (!owner.eq_ignore_ascii_case(host.trim_end_matches('.')))
                    .then(|| owner.to_ascii_lowercase());
                return Ok((m.metadata.authentic_data, alias));
            }
        }
        Err(format!("{host} has no A or AAAA record"))
    }

    /// The TLSA records at `name` (`_25._tcp.mx.example.com`), asked with the AD bit set.
    pub fn tlsa(&mut self, name: &str, timeout: Duration) -> TlsaAnswer {
        let server = match self.ctx(timeout) {
            Ok(c) => c.first,
            Err(e) => return TlsaAnswer::Failed(e),
        };
        let Some(server) = server else {
            return TlsaAnswer::Failed("no name server to ask (give --resolver)".into());
        };
        match raw_query(server, name, RecordType::TLSA, timeout) {
            Err(e) => TlsaAnswer::Failed(e),
            Ok(m) => match m.metadata.response_code {
                ResponseCode::NoError => {
                    let records: Vec<Tlsa> = m
                        .answers
                        .iter()
                        .filter_map(|r| match &r.data {
                            RData::TLSA(t) => Some(Tlsa {
                                usage: u8::from(t.cert_usage),
                                selector: u8::from(t.selector),
                                matching: u8::from(t.matching),
                                data: t.cert_data.clone(),
                            }),
                            _ => None,
                        })
                        .collect();
                    if records.is_empty() {
                        TlsaAnswer::None
                    } else if m.metadata.authentic_data {
                        TlsaAnswer::Secure(records)
                    } else {
                        TlsaAnswer::Insecure(records)
                    }
                }
                ResponseCode::NXDomain => TlsaAnswer::None,
                ResponseCode::ServFail => TlsaAnswer::Bogus(
                    "SERVFAIL: the resolver could not validate the answer (DNSSEC bogus) or the zone is broken"
                        .into(),
                ),
                rc => TlsaAnswer::Failed(format!("the resolver answered {rc}")),
            },
        }
    }
}

impl Ctx {
    /// Runs a look-up for at most `timeout`; the error says the time ran out.
    fn ask<F: std::future::Future>(
        &self,
        timeout: Duration,
        look_up: F,
    ) -> Result<F::Output, String> {
        self.rt
            .block_on(async { tokio::time::timeout(timeout, look_up).await })
            .map_err(|_| {
                format!(
                    "the resolver {NO_ANSWER} {}",
                    crate::time::short_duration(timeout)
                )
            })
    }
}

fn build(server: Option<SocketAddr>, timeout: Duration) -> Result<Ctx, String> {
    use hickory_resolver::Resolver;
    use hickory_resolver::config::{
        ConnectionConfig, LookupIpStrategy, NameServerConfig, ResolverConfig,
    };
    use hickory_resolver::net::runtime::TokioRuntimeProvider;

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the resolver: {e}"))?;
    let (mut builder, first) = match server {
        Some(sa) => {
            let mut udp = ConnectionConfig::udp();
            udp.port = sa.port();
            let mut tcp = ConnectionConfig::tcp();
            tcp.port = sa.port();
            let ns = NameServerConfig::new(sa.ip(), true, vec![udp, tcp]);
            (
                Resolver::builder_with_config(
                    ResolverConfig::from_name_servers(vec![ns]),
                    TokioRuntimeProvider::default(),
                ),
                Some(sa),
            )
        }
        None => {
            let first = hickory_resolver::system_conf::read_system_conf()
                .ok()
                .and_then(|(c, _)| c.name_servers().first().map(|n| SocketAddr::new(n.ip, 53)));
            let b = rt
                .block_on(async { Resolver::builder_tokio() })
                .map_err(|e| {
                    format!("cannot read the system's DNS configuration ({e}); try --resolver")
                })?;
            (b, first)
        }
    };
    builder.options_mut().timeout = timeout;
    builder.options_mut().attempts = 1;
    builder.options_mut().ip_strategy = LookupIpStrategy::Ipv4AndIpv6;
    let resolver = rt
        .block_on(async { builder.build() })
        .map_err(|e| format!("cannot start the resolver: {e}"))?;
    Ok(Ctx {
        rt,
        resolver,
        first,
    })
}

/// Largest DNS message read: a UDP answer (EDNS payload 1232, the DNS flag day's size) or
/// one over TCP.
const MAX_DNS_MESSAGE: usize = 65_535;

/// One question to `server` with the RD and AD bits and EDNS's DO bit set (RFC 6840 section
/// 5.7: a validating resolver then says whether the answer is authenticated), over UDP, and
/// again over TCP when the answer comes back truncated.
fn raw_query(
    server: SocketAddr,
    name: &str,
    rtype: RecordType,
    timeout: Duration,
) -> Result<Message, String> {
    let fqdn = format!("{}.", name.trim_end_matches('.'));
    let qname = Name::from_ascii(&fqdn).map_err(|e| format!("{name}: not a DNS name ({e})"))?;
    let mut m = Message::query();
    m.metadata.recursion_desired = true;
    m.metadata.authentic_data = true;
    m.add_query(Query::query(qname, rtype));
    let mut edns = Edns::new();
    edns.set_max_payload(1232);
    edns.set_dnssec_ok(true);
    m.set_edns(edns);
    let id = m.metadata.id;
    let bytes = m
        .to_vec()
        .map_err(|e| format!("cannot encode the question: {e}"))?;
    let end = Instant::now() + timeout;
    let left = || end.saturating_duration_since(Instant::now());
    let no_answer = || {
        format!(
            "{server} did not answer within {}",
            crate::time::short_duration(timeout)
        )
    };
    let local: SocketAddr = if server.is_ipv4() {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let sock = UdpSocket::bind(local).map_err(|e| format!("cannot open a socket: {e}"))?;
    sock.connect(server)
        .map_err(|e| format!("cannot reach {server}: {e}"))?;
    sock.send(&bytes)
        .map_err(|e| format!("cannot ask {server}: {e}"))?;
    let mut buf = vec![0u8; MAX_DNS_MESSAGE];
    let answer = loop {
        let l = left();
        if l.is_zero() {
            return Err(no_answer());
        }
        sock.set_read_timeout(Some(l))
            .map_err(|e| format!("socket: {e}"))?;
        let n = match sock.recv(&mut buf) {
            Ok(n) => n,
            Err(e) if timed_out(&e) => return Err(no_answer()),
            Err(e) => return Err(format!("{server}: {e}")),
        };
        // an answer to another question (or garbage) is not ours: wait on
        if let Ok(a) = Message::from_vec(&buf[..n])
            && a.metadata.id == id
        {
            break a;
        }
    };
    if !answer.metadata.truncation {
        return Ok(answer);
    }
    let l = left();
    if l.is_zero() {
        return Err(no_answer());
    }
    let mut tcp =
        TcpStream::connect_timeout(&server, l).map_err(|e| format!("{server} over TCP: {e}"))?;
    let io = |e: std::io::Error| format!("{server} over TCP: {e}");
    tcp.set_write_timeout(Some(left().max(Duration::from_millis(1))))
        .map_err(io)?;
    let len = u16::try_from(bytes.len()).map_err(|_| "the question is too long".to_string())?;
    let mut framed = len.to_be_bytes().to_vec();
    framed.extend_from_slice(&bytes);
    tcp.write_all(&framed).map_err(io)?;
    // each read waits only for what is left of the whole look-up: a server that drips its
    // answer a byte at a time cannot stretch it
    let mut read_exact = |out: &mut [u8]| -> Result<(), String> {
        let mut got = 0;
        while got < out.len() {
            let l = left();
            if l.is_zero() {
                return Err(no_answer());
            }
            tcp.set_read_timeout(Some(l)).map_err(io)?;
            match tcp.read(&mut out[got..]) {
                Ok(0) => return Err(format!("{server} over TCP closed before its answer ended")),
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) if timed_out(&e) => return Err(no_answer()),
                Err(e) => return Err(io(e)),
            }
        }
        Ok(())
    };
    let mut len = [0u8; 2];
    read_exact(&mut len)?;
    let n = usize::from(u16::from_be_bytes(len));
    read_exact(&mut buf[..n])?;
    match Message::from_vec(&buf[..n]) {
        Ok(a) if a.metadata.id == id => Ok(a),
        Ok(_) => Err(format!("{server} over TCP answered another question")),
        Err(e) => Err(format!("{server} over TCP: a malformed answer ({e})")),
    }
}

/// From the target to the hosts to try and their addresses. A host name goes through the
/// system's resolver unless `--resolver` was given; a name without an address that has MX
/// records is a mail domain and is treated as `--mx` (as mail to it would go).
pub fn plan(target: &Target, dns: &mut Dns, left: &dyn Fn() -> Duration) -> Result<Plan, Failure> {
    match target {
        Target::Mx { domain, port } => mx_plan(domain, *port, dns, left, Vec::new()),
        Target::Host { host, port } => match host_addrs(host, *port, dns, left()) {
            Ok((addrs, detail)) => Ok(Plan {
                candidates: vec![Candidate {
                    host: host.clone(),
                    addrs,
                }],
                mx_domain: None,
                detail,
            }),
            // a name without an address (not one whose look-up ran out of time)
            Err(f)
                if host.parse::<IpAddr>().is_err()
                    && !is_invalid_name(host)
                    && !f.detail.contains(NO_ANSWER)
                    && !left().is_zero() =>
            {
                match dns.mx(host.trim_end_matches('.'), left()) {
                    Ok(Some(_)) => mx_plan(
                        host,
                        *port,
                        dns,
                        left,
                        vec![format!(
                            "{}: {}; it has MX records: probing them, as mail to the domain would go",
                            host.trim_end_matches('.'),
                            f.detail
                        )],
                    ),
                    _ => Err(f),
                }
            }
            Err(f) => Err(f),
        },
        Target::SmartHosts { hosts, port } => {
            let mut candidates = Vec::new();
            let mut notes = Vec::new();
            for h in hosts {
                match host_addrs(h, *port, dns, left()) {
                    Ok((addrs, detail)) => {
                        // an address says so itself
                        notes.push(if h.parse::<IpAddr>().is_ok() {
                            detail
                        } else {
                            format!("{h}: {detail}")
                        });
                        candidates.push(Candidate {
                            host: h.clone(),
                            addrs,
                        });
                    }
                    Err(f) => {
                        notes.push(f.detail);
                        candidates.push(Candidate {
                            host: h.clone(),
                            addrs: Vec::new(),
                        });
                    }
                }
            }
            let detail = notes.join("; ");
            if candidates.iter().all(|c| c.addrs.is_empty()) {
                return Err(Failure::new(DNS_FAILED, detail));
            }
            Ok(Plan {
                candidates,
                mx_domain: None,
                detail,
            })
        }
    }
}

/// The addresses of one host given by name or address, and what the look-up found.
fn host_addrs(
    host: &str,
    port: u16,
    dns: &mut Dns,
    timeout: Duration,
) -> Result<(Vec<SocketAddr>, String), Failure> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok((
            vec![SocketAddr::new(ip, port)],
            format!("{ip} (an address: no look-up)"),
        ));
    }
    if is_invalid_name(host) {
        return Err(invalid(host));
    }
    let shown = host.trim_end_matches('.').to_string();
    let addrs = if dns.given() {
        dns.ips(host, port, timeout)
            .map_err(|e| Failure::new(DNS_FAILED, format!("{shown}: {e}")))?
    } else {
        let name = host.to_string();
        bounded(timeout, shown.clone(), move || {
            match (name.as_str(), port).to_socket_addrs() {
                Ok(it) => Ok(it.collect::<Vec<_>>()),
                Err(e) => Err(Failure::new(DNS_FAILED, format!("{name}: {e}"))),
            }
        })?
    };
    let unique = dedup(addrs);
    if unique.is_empty() {
        return Err(Failure::new(
            DNS_FAILED,
            format!("{shown}: no A or AAAA record"),
        ));
    }
    Ok((unique.clone(), show_addrs(&unique)))
}

fn dedup(addrs: Vec<SocketAddr>) -> Vec<SocketAddr> {
    let mut unique: Vec<SocketAddr> = Vec::new();
    for a in addrs {
        if !unique.contains(&a) {
            unique.push(a);
        }
    }
    unique
}

/// A mail domain's MX hosts, most preferred first (equal preferences in the order DNS gave
/// them, RFC 5321 section 5.1 allows any), each with its addresses.
fn mx_plan(
    domain: &str,
    port: u16,
    dns: &mut Dns,
    left: &dyn Fn() -> Duration,
    mut notes: Vec<String>,
) -> Result<Plan, Failure> {
    let domain = domain.trim_end_matches('.').to_string();
    if is_invalid_name(&domain) {
        return Err(invalid(&domain));
    }
    let fail = |m: String| Failure::new(DNS_FAILED, m);
    let mut hosts = match dns.mx(&domain, left())? {
        None => {
            // RFC 5321 section 5.1: no MX means the domain itself is the mail server
            notes.push(format!("no MX record: {domain} itself (implicit MX)"));
            vec![(0, format!("{domain}."))]
        }
        Some(h) => h,
    };
    // RFC 7505: a single MX of preference 0 naming the root is a null MX (one among others
    // is taken the same way: no host can be tried for it)
    if hosts.iter().any(|(_, h)| h == ".") {
        return Err(Failure::new(
            NULL_MX,
            format!("MX {domain}: a null MX (RFC 7505, `0 .`): the domain accepts no mail"),
        ));
    }
    hosts.sort_by_key(|(p, _)| *p);
    let mut seen: Vec<String> = Vec::new();
    hosts.retain(|(_, h)| {
        let k = h.trim_end_matches('.').to_ascii_lowercase();
        let new = !seen.contains(&k);
        seen.push(k);
        new
    });
    if !notes.iter().any(|n| n.starts_with("no MX record")) {
        notes.push(format!(
            "MX {}",
            hosts
                .iter()
                .map(|(p, h)| format!("{p} {}", h.trim_end_matches('.')))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if hosts.len() > MAX_MX_HOSTS {
        notes.push(format!(
            "{} more MX hosts not looked up (at most {MAX_MX_HOSTS})",
            hosts.len() - MAX_MX_HOSTS
        ));
        hosts.truncate(MAX_MX_HOSTS);
    }
    let mut candidates = Vec::new();
    for (_, h) in &hosts {
        let shown = h.trim_end_matches('.').to_string();
        let addrs = if is_invalid_name(&shown) {
            notes.push(format!("{shown}: NXDOMAIN (.invalid)"));
            Vec::new()
        } else {
            match dns.ips(&shown, port, left()) {
                Ok(a) if a.is_empty() => {
                    notes.push(format!("{shown}: no A or AAAA record"));
                    Vec::new()
                }
                Ok(a) => {
                    let a = dedup(a);
                    notes.push(format!("{shown}: {}", show_addrs(&a)));
                    a
                }
                Err(e) => {
                    notes.push(format!("{shown}: {e}"));
                    Vec::new()
                }
            }
        };
        candidates.push(Candidate { host: shown, addrs });
    }
    let detail = notes.join("; ");
    if candidates.iter().all(|c| c.addrs.is_empty()) {
        return Err(fail(detail));
    }
    Ok(Plan {
        candidates,
        mx_domain: Some(domain),
        detail,
    })
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
        let f = plan(&t, &mut Dns::new(None), &|| Duration::from_secs(5)).unwrap_err();
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
        let r = plan(&t, &mut Dns::new(None), &|| Duration::from_secs(1)).unwrap();
        assert_eq!(r.candidates[0].addrs, vec!["[::1]:2525".parse().unwrap()]);
        assert_eq!(r.mx_domain, None);
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

    #[test]
    fn a_tcp_answer_dripped_a_byte_at_a_time_ends_at_the_time_limit() {
        // UDP and TCP on one port of 127.0.0.1: a truncated answer over UDP sends the
        // question to TCP, whose answer (valid, 2 + 40 bytes) comes one byte every 300 ms
        let (tcp, udp) = loop {
            let t = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            if let Ok(u) = UdpSocket::bind(t.local_addr().unwrap()) {
                break (t, u);
            }
        };
        let server = tcp.local_addr().unwrap();
        thread::spawn(move || {
            let mut buf = [0u8; 512];
            if let Ok((n, peer)) = udp.recv_from(&mut buf) {
                let mut r = buf[..n.min(12)].to_vec();
                r[2] |= 0x82; // a response, truncated
                r[3] = 0x80;
                r[4..12].copy_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0]);
                let _ = udp.send_to(&r, peer);
            }
        });
        let (left_early, told) = mpsc::channel();
        thread::spawn(move || {
            let Ok((mut s, _)) = tcp.accept() else {
                return;
            };
            let mut len = [0u8; 2];
            if s.read_exact(&mut len).is_err() {
                return;
            }
            let mut q = vec![0u8; usize::from(u16::from_be_bytes(len))];
            if s.read_exact(&mut q).is_err() {
                return;
            }
            let mut a = q[..12].to_vec();
            a[2] |= 0x80;
            a[4..12].copy_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0]);
            a.resize(40, 0);
            let mut framed = (a.len() as u16).to_be_bytes().to_vec();
            framed.extend_from_slice(&a);
            for b in framed {
                if s.write_all(&[b]).is_err() {
                    let _ = left_early.send(true);
                    return;
                }
                thread::sleep(Duration::from_millis(300));
            }
            let _ = left_early.send(false);
        });
        let r = raw_query(server, "x.test", RecordType::TLSA, Duration::from_secs(1));
        let e = r.unwrap_err();
        assert!(e.contains(NO_ANSWER), "{e}");
        // the server found the client gone before the end of its 13 s drip
        assert_eq!(told.recv_timeout(Duration::from_secs(30)), Ok(true));
    }
}
