//! `probe`: does what a Microsoft 365 outbound connector does when it delivers to a server
//! (resolve, connect, banner, EHLO, STARTTLS, certificate check, QUIT) and names the error
//! the connector would queue at the first step that fails. It never sends MAIL FROM, RCPT
//! TO or DATA.
//!
//! This module runs the steps and returns a `Report`; `render::probe` shows it. Everything
//! in a report that came from the network (replies, certificate names, resolver errors) is
//! kept as received and escaped by the renderers.

pub mod der;
mod report;
pub mod resolve;
pub mod smtp;
pub mod tls;

pub use report::{
    CANNOT_CONNECT, CERTIFICATE, CLOSED, DEFAULT_PORT, Failure, Options, REFUSED, Report, Step,
    TIMED_OUT, Target,
};

use smtp::{Conn, DialogueError, Stream};
use std::io;
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// A step in progress: its timing and its outcome, reported to `on_step` as it ends.
struct Run<'a> {
    report: Report,
    on_step: &'a mut dyn FnMut(&Step),
}

impl Run<'_> {
    fn step<T>(
        &mut self,
        name: &'static str,
        f: impl FnOnce() -> Result<(T, String), Failure>,
    ) -> Option<T> {
        let start = Instant::now();
        let r = f();
        let millis = u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX);
        let (value, ok, detail) = match r {
            Ok((v, d)) => (Some(v), true, d),
            Err(f) => {
                self.report.code = Some(f.code);
                self.report.reason = f.reason;
                (None, false, f.detail)
            }
        };
        let s = Step {
            step: name,
            ok,
            millis,
            detail,
        };
        (self.on_step)(&s);
        self.report.steps.push(s);
        value
    }
}

fn dialogue_failure(e: DialogueError, waiting_for: &str, timeout: Duration) -> Failure {
    match e {
        DialogueError::Timeout => Failure::new(
            TIMED_OUT,
            format!(
                "no {waiting_for} within {}",
                crate::time::short_duration(timeout)
            ),
        ),
        DialogueError::Closed(what) => {
            Failure::new(CLOSED, format!("{what} (waiting for {waiting_for})"))
        }
        DialogueError::Malformed(what) => Failure::new(CANNOT_CONNECT, what),
        DialogueError::Io(e) => Failure::new(CLOSED, format!("the connection failed: {e}")),
    }
}

/// A reply that is not the one expected: the code predicts 4.4.317 (the session could not be
/// set up), with the server's words.
fn refused_reply(what: &str, r: &smtp::Reply) -> Failure {
    Failure::new(CANNOT_CONNECT, format!("{what}: {}", r.text()))
}

/// TCP connect to each address in turn; the first that answers wins. Every failure is
/// listed; the predicted code is 4.4.316 when every address refused, 4.4.315 when one
/// timed out, else 4.4.317.
/// Addresses tried at most, as MTAs cap them (Postfix's `smtp_mx_address_limit` is 5, Exim
/// tries each host's addresses until its own limit): the rest are named, not tried.
pub const MAX_ADDRESSES: usize = 10;

/// Tries the addresses in turn (duplicates once, at most `MAX_ADDRESSES`), each for
/// `timeout` and none past `end`; reports every attempt.
pub fn connect(
    addrs: &[SocketAddr],
    timeout: Duration,
    end: Instant,
) -> Result<(TcpStream, String), Failure> {
    let mut unique: Vec<SocketAddr> = Vec::new();
    for a in addrs {
        if !unique.contains(a) {
            unique.push(*a);
        }
    }
    let skipped = unique.len().saturating_sub(MAX_ADDRESSES);
    unique.truncate(MAX_ADDRESSES);
    let mut tried = Vec::new();
    let (mut refused, mut timed_out) = (0, 0);
    for (i, a) in unique.iter().enumerate() {
        let left = timeout.min(end.saturating_duration_since(Instant::now()));
        if left.is_zero() {
            timed_out += 1;
            tried.push(format!(
                "{} more not tried: the probe's deadline passed",
                unique.len() - i
            ));
            break;
        }
        match TcpStream::connect_timeout(a, left) {
            Ok(s) => {
                let mut d = format!("connected to {a}");
                if !tried.is_empty() {
                    d.push_str(&format!(" (after: {})", tried.join("; ")));
                }
                return Ok((s, d));
            }
            Err(e) => {
                let what = match e.kind() {
                    io::ErrorKind::ConnectionRefused => {
                        refused += 1;
                        "refused".to_string()
                    }
                    io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => {
                        timed_out += 1;
                        format!("no answer within {}", crate::time::short_duration(left))
                    }
                    _ => e.to_string(),
                };
                tried.push(format!("{a} {what}"));
            }
        }
    }
    if skipped > 0 {
        tried.push(format!(
            "{skipped} more address{} not tried (at most {MAX_ADDRESSES})",
            if skipped == 1 { "" } else { "es" }
        ));
    }
    let code = if timed_out > 0 {
        TIMED_OUT
    } else if refused == unique.len() {
        REFUSED
    } else {
        CANNOT_CONNECT
    };
    Err(Failure::new(code, tried.join("; ")))
}

/// `[192.0.2.1]` or `[IPv6:2001:db8::1]`: an address literal (RFC 5321 section 4.1.3).
fn address_literal(a: SocketAddr) -> String {
    match a.ip() {
        IpAddr::V4(v4) => format!("[{v4}]"),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => format!("[{v4}]"),
            None => format!("[IPv6:{v6}]"),
        },
    }
}

/// Runs the probe. `on_step` sees each step as it ends (for live output).
pub fn run(opts: &Options, on_step: &mut dyn FnMut(&Step)) -> Report {
    let (host, domain, port) = match &opts.target {
        Target::Host { host, port } => (host.clone(), None, *port),
        Target::Mx { domain, port, .. } => (domain.clone(), Some(domain.clone()), *port),
    };
    let mut run = Run {
        report: Report {
            host,
            domain,
            port,
            address: None,
            code: None,
            reason: None,
            steps: Vec::new(),
        },
        on_step,
    };
    probe_steps(opts, &mut run);
    run.report
}

fn probe_steps(opts: &Options, run: &mut Run<'_>) {
    let end = Instant::now() + opts.deadline;
    // each step's time limit: --timeout, and never past the whole probe's deadline
    let left = || {
        opts.timeout
            .min(end.saturating_duration_since(Instant::now()))
    };
    let timeout = opts.timeout;
    // 1. resolve
    let Some((host, addrs)) = run.step("resolve", || {
        resolve::resolve(&opts.target, left()).map(|r| {
            let d = r.detail.clone();
            ((r.host, r.addrs), d)
        })
    }) else {
        return;
    };
    run.report.host = host.clone();
    // 2. connect
    let Some(tcp) = run.step("connect", || connect(&addrs, timeout, end)) else {
        return;
    };
    run.report.address = tcp.peer_addr().ok();
    let helo = opts.helo.clone().unwrap_or_else(|| {
        tcp.local_addr()
            .map(address_literal)
            .unwrap_or_else(|_| "[127.0.0.1]".into())
    });
    let _ = tcp.set_nodelay(true);
    let mut conn = Conn::new(Stream::Plain(tcp), timeout).until(end);
    // 3. banner and EHLO
    // after a refusing reply the session is still up: end it as a client should (RFC 5321
    // section 3.1: a server that refuses with 554 waits for QUIT), without a step of its own
    let mut still_up = false;
    let ok = run.step("banner", || match conn.read_reply() {
        Ok(r) if r.code == 220 => Ok(((), r.text())),
        Ok(r) => {
            still_up = true;
            Err(refused_reply("the server refused the session", &r))
        }
        Err(e) => Err(dialogue_failure(e, "banner", timeout)),
    });
    if ok.is_none() {
        return goodbye(&mut conn, still_up);
    }
    let Some(keywords) = run.step("ehlo", || match conn.command(&format!("EHLO {helo}")) {
        Ok(r) if r.code == 250 => {
            let kw = r.ehlo_keywords();
            let mut d = r.first_line();
            if !kw.is_empty() {
                d.push_str(&format!(" (offers {})", kw.join(", ")));
            }
            Ok((kw, d))
        }
        Ok(r) => {
            still_up = true;
            Err(refused_reply(&format!("EHLO {helo} was refused"), &r))
        }
        Err(e) => Err(dialogue_failure(e, "reply to EHLO", timeout)),
    }) else {
        return goodbye(&mut conn, still_up);
    };
    // 4. STARTTLS and the certificate
    let offered = keywords.iter().any(|k| k == "STARTTLS");
    if !offered {
        let required = opts.require_tls;
        let ok = run.step("starttls", || {
            if required {
                Err(Failure::new(
                    CANNOT_CONNECT,
                    "the server does not offer STARTTLS, and TLS is required (--require-tls)",
                ))
            } else {
                Ok((
                    (),
                    "not offered: mail would go unencrypted (a connector that requires TLS fails with 4.4.317; --require-tls checks that)".to_string(),
                ))
            }
        });
        match ok {
            Some(()) => quit(run, &mut conn),
            None => goodbye(&mut conn, true),
        }
        return;
    }
    let Some(()) = run.step("starttls", || match conn.command("STARTTLS") {
        Ok(r) if r.code == 220 => Ok(((), r.text())),
        Ok(r) => {
            still_up = true;
            Err(refused_reply("STARTTLS was refused", &r))
        }
        Err(e) => Err(dialogue_failure(e, "reply to STARTTLS", timeout)),
    }) else {
        return goodbye(&mut conn, still_up);
    };
    let (tcp, extra) = match conn.into_tcp() {
        Ok(x) => x,
        // not reachable: the connection is still plain here; end quietly if it ever is
        Err(_) => return,
    };
    let name = opts.cert_name.clone().unwrap_or_else(|| host.clone());
    let Some(session) = run.step("tls", || {
        let s = tls::handshake(tcp, &name, &opts.roots, left()).map_err(|e| match e {
            tls::TlsError::Certificate { reason, detail } => Failure {
                code: CERTIFICATE,
                reason: Some(reason),
                detail,
            },
            tls::TlsError::Negotiation(d) => Failure::new(CANNOT_CONNECT, d),
            tls::TlsError::Setup(d) => Failure::new(CANNOT_CONNECT, d),
            tls::TlsError::Io(e) => {
                dialogue_failure(DialogueError::from_io(e), "TLS handshake", timeout)
            }
        })?;
        let mut d = format!("{} (checked for {name}", s.summary);
        d.push_str(match &opts.roots.file {
            Some(_) => " against --ca-file)",
            None => " against the built-in public roots)",
        });
        if extra > 0 {
            d.push_str(&format!(
                "; ignored {extra} bytes the server sent before the handshake"
            ));
        }
        Ok((s, d))
    }) else {
        return;
    };
    let mut conn = Conn::new(Stream::Tls(Box::new(session.stream)), timeout).until(end);
    let ok = run.step("ehlo-tls", || match conn.command(&format!("EHLO {helo}")) {
        Ok(r) if r.code == 250 => Ok(((), r.first_line())),
        Ok(r) => {
            still_up = true;
            Err(refused_reply(
                &format!("EHLO {helo} over TLS was refused"),
                &r,
            ))
        }
        Err(e) => Err(dialogue_failure(e, "reply to EHLO over TLS", timeout)),
    });
    match ok {
        Some(()) => quit(run, &mut conn),
        None => goodbye(&mut conn, still_up),
    }
}

/// QUIT after a refusing reply, unreported and bounded like every socket operation.
fn goodbye(conn: &mut Conn, still_up: bool) {
    if still_up {
        let _ = conn.command("QUIT");
    }
}

/// QUIT, politely: whatever happens here, the server passed (a connector would have sent
/// the mail by now), so this step never fails.
fn quit(run: &mut Run<'_>, conn: &mut Conn) {
    run.step("quit", || {
        let d = match conn.command("QUIT") {
            Ok(r) => r.text(),
            Err(DialogueError::Timeout) => "no reply (ignored)".to_string(),
            Err(_) => "the server closed without a reply (ignored)".to_string(),
        };
        Ok(((), d))
    });
}

#[cfg(test)]
mod tests {
    use super::report::DNS_FAILED;
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn connect_tries_each_address_in_turn() {
        // a port that was free a moment ago: refused
        let closed = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let open = TcpListener::bind("127.0.0.1:0").unwrap();
        let addrs = [closed, open.local_addr().unwrap()];
        let end = Instant::now() + Duration::from_secs(60);
        let (_s, detail) = connect(&addrs, Duration::from_secs(5), end).unwrap();
        assert!(detail.contains("refused"), "{detail}");
        // the same address twice is tried once
        let f = connect(&[closed, closed], Duration::from_secs(5), end).unwrap_err();
        assert_eq!(f.code, REFUSED);
        assert_eq!(f.detail.matches("refused").count(), 1);
        // at most MAX_ADDRESSES are tried, the rest named
        let many: Vec<SocketAddr> = (0..MAX_ADDRESSES + 2)
            .map(|_| {
                TcpListener::bind("127.0.0.1:0")
                    .unwrap()
                    .local_addr()
                    .unwrap()
            })
            .collect();
        let f = connect(&many, Duration::from_secs(5), end).unwrap_err();
        assert_eq!(f.detail.matches("refused").count(), MAX_ADDRESSES);
        assert!(
            f.detail.contains("2 more addresses not tried"),
            "{}",
            f.detail
        );
        // past the probe's deadline nothing more is tried
        let f = connect(&many, Duration::from_secs(5), Instant::now()).unwrap_err();
        assert_eq!(f.code, TIMED_OUT);
        assert!(f.detail.contains("deadline passed"), "{}", f.detail);
    }

    #[test]
    fn classifies_dialogue_failures() {
        let t = Duration::from_millis(500);
        assert_eq!(
            dialogue_failure(DialogueError::Timeout, "banner", t).code,
            TIMED_OUT
        );
        assert!(
            dialogue_failure(DialogueError::Timeout, "banner", t)
                .detail
                .contains("500ms")
        );
        assert_eq!(
            dialogue_failure(DialogueError::Closed("x".into()), "banner", t).code,
            CLOSED
        );
        assert_eq!(
            dialogue_failure(DialogueError::Malformed("x".into()), "banner", t).code,
            CANNOT_CONNECT
        );
        assert_eq!(
            dialogue_failure(
                DialogueError::from_io(io::ErrorKind::ConnectionReset.into()),
                "b",
                t
            )
            .code,
            CLOSED
        );
        assert_eq!(
            dialogue_failure(
                DialogueError::from_io(io::ErrorKind::WouldBlock.into()),
                "b",
                t
            )
            .code,
            TIMED_OUT
        );
    }

    #[test]
    fn address_literals() {
        assert_eq!(
            address_literal("192.0.2.1:25".parse().unwrap()),
            "[192.0.2.1]"
        );
        assert_eq!(
            address_literal("[2001:db8::1]:25".parse().unwrap()),
            "[IPv6:2001:db8::1]"
        );
    }

    #[test]
    fn predicted_codes_are_in_the_catalog() {
        for k in [
            DNS_FAILED,
            TIMED_OUT,
            REFUSED,
            CANNOT_CONNECT,
            CLOSED,
            CERTIFICATE,
        ] {
            assert!(
                crate::catalog::builtin_or_empty().by_key(k).is_some(),
                "{k}"
            );
        }
    }
}
