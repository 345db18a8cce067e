//! `probe`: does what Microsoft 365 does when it delivers to a domain or through a
//! connector (resolve; for a domain its MTA-STS policy and each MX host's DANE records; then
//! at each host and address in turn: connect, banner, EHLO, STARTTLS, certificate check,
//! QUIT, until one accepts) and names the error it would queue: the last failure's. It never
//! sends MAIL FROM, RCPT TO or DATA.
//!
//! This module runs the steps and returns a `Report`; `render::probe` shows it. Everything
//! in a report that came from the network (replies, certificate names, resolver errors) is
//! kept as received and escaped by the renderers.

pub mod dane;
pub mod der;
mod report;
pub mod resolve;
pub mod smtp;
pub mod sts;
pub mod tls;

pub use report::{
    Attempt, CANNOT_CONNECT, CERTIFICATE, CLOSED, DANE_DNSSEC, DANE_EXPIRED, DANE_NAME,
    DANE_NO_MATCH, DANE_NO_STARTTLS, DEFAULT_PORT, Failure, Options, REFUSED, Report,
    STS_CERTIFICATE, STS_MX, Step, TIMED_OUT, Target,
};

use smtp::{Conn, DialogueError, Stream};
use std::io;
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// A step in progress: its timing and its outcome, reported to `on_step` as it ends.
struct Run<'a> {
    report: Report,
    on_step: &'a mut dyn FnMut(&Step),
    /// The host and address of the attempt under way, given to its steps.
    at: (Option<String>, Option<SocketAddr>),
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
            host: self.at.0.clone(),
            address: self.at.1,
        };
        (self.on_step)(&s);
        self.report.steps.push(s);
        value
    }

    /// A host passed over before any connection (its MTA-STS or DANE check failed): a row
    /// of its own.
    fn passed_over(&mut self, host: &str) {
        self.report.host = host.to_string();
        self.report.address = None;
        self.report.attempts.push(Attempt {
            host: host.to_string(),
            address: None,
            code: self.report.code,
        });
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

/// Addresses tried at most in one probe, as MTAs cap them (Postfix's
/// `smtp_mx_address_limit` is 5, Exim tries each host's addresses until its own limit): the
/// rest are named in the report's notes, not tried.
pub const MAX_ADDRESSES: usize = 10;

/// TCP connect to one address, for `timeout` and never past `end`: 4.4.316 when refused,
/// 4.4.315 when nothing answers in time (or the probe's deadline has passed), 4.4.317 for
/// any other failure.
pub fn connect(
    addr: SocketAddr,
    timeout: Duration,
    end: Instant,
) -> Result<(TcpStream, String), Failure> {
    let left = timeout.min(end.saturating_duration_since(Instant::now()));
    if left.is_zero() {
        return Err(Failure::new(
            TIMED_OUT,
            format!("{addr} not tried: the probe's deadline passed"),
        ));
    }
    match TcpStream::connect_timeout(&addr, left) {
        Ok(s) => Ok((s, format!("connected to {addr}"))),
        Err(e) => Err(match e.kind() {
            io::ErrorKind::ConnectionRefused => Failure::new(REFUSED, format!("{addr} refused")),
            _ if smtp::timed_out(&e) => Failure::new(
                TIMED_OUT,
                format!(
                    "{addr} no answer within {}",
                    crate::time::short_duration(left)
                ),
            ),
            _ => Failure::new(CANNOT_CONNECT, format!("{addr} {e}")),
        }),
    }
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
        Target::Mx { domain, port } => (domain.clone(), Some(domain.clone()), *port),
        Target::SmartHosts { hosts, port } => {
            (hosts.first().cloned().unwrap_or_default(), None, *port)
        }
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
            attempts: Vec::new(),
            notes: Vec::new(),
        },
        on_step,
        at: (None, None),
    };
    walk(opts, &mut run);
    run.report
}

/// How one host's TLS is judged.
#[derive(Clone, Copy)]
enum Rule<'a> {
    /// As a connector that validates certificates (a HOST or smart hosts; an MX walk under
    /// `--require-tls`): a PKIX failure is 4.7.320.
    Pkix,
    /// An MX host with neither DANE nor an enforce policy: opportunistic TLS, as Exchange
    /// Online delivers to it. A certificate that fails PKIX is reported; the mail still goes.
    Opportunistic,
    /// The domain's MTA-STS policy in enforce mode lists the host: TLS is required (4.4.317
    /// without it) and a PKIX failure is 4.7.5.
    Sts,
    /// The host has DNSSEC-authenticated TLSA records: TLS is required (4.7.321) and the
    /// certificate must match them (4.7.322, 4.7.323, 4.7.325); the public roots do not
    /// matter.
    Dane(&'a [dane::Tlsa], &'a [String]),
    /// Authenticated TLSA records, none of them usable for SMTP (RFC 7672 section 3.1.3): TLS
    /// is still required (4.7.321), the certificate is not checked.
    TlsOnly,
}

/// What DANE asks of a host.
enum HostDane {
    /// Nothing: DANE does not apply (or could not be checked).
    None,
    /// TLS, authenticated by these usable records; the names a DANE-TA certificate may carry
    /// besides the MX host name (the CNAME target the records were found at: RFC 7672
    /// section 3.2.2).
    Records(Vec<dane::Tlsa>, Vec<String>),
    /// TLS, unauthenticated: its records are all unusable.
    TlsOnly,
}

/// Resolves the target, then tries each host in order, each of its addresses in turn, until
/// one accepts; with an MX walk, the domain's MTA-STS policy first and each host's DANE
/// records. The predicted code is the last failure's, none when a host accepted.
fn walk(opts: &Options, run: &mut Run<'_>) {
    let end = Instant::now() + opts.deadline;
    // a look-up's or step's time limit: --timeout, and never past the probe's deadline
    let left = || {
        opts.timeout
            .min(end.saturating_duration_since(Instant::now()))
    };
    let mut dns = resolve::Dns::new(opts.resolver);
    let Some(plan) = run.step("resolve", || {
        resolve::plan(&opts.target, &mut dns, &left).map(|p| {
            let d = p.detail.clone();
            (p, d)
        })
    }) else {
        return;
    };
    if plan.mx_domain.is_some() {
        run.report.domain = plan.mx_domain.clone();
    }
    let policy = match &plan.mx_domain {
        Some(domain) => run
            .step("mta-sts", || Ok(mta_sts(opts, &mut dns, domain, &left)))
            .flatten(),
        None => None,
    };
    let port = run.report.port;
    let mut seen: Vec<SocketAddr> = Vec::new();
    let (mut skipped, mut late) = (0usize, false);
    for c in &plan.candidates {
        // only a host with an address still to try is checked at all: one that has none (its
        // look-up failed: the resolve step says so), or whose addresses were all tried, or
        // that the cap or the deadline leaves out, never gets a row
        let fresh: Vec<SocketAddr> = c
            .addrs
            .iter()
            .filter(|a| !seen.contains(a))
            .copied()
            .collect();
        if fresh.is_empty() {
            continue;
        }
        if seen.len() >= MAX_ADDRESSES || left().is_zero() {
            late |= left().is_zero();
            skipped += fresh.len();
            continue;
        }
        run.at = (Some(c.host.clone()), None);
        let mut rule = if plan.mx_domain.is_some() && !opts.require_tls {
            Rule::Opportunistic
        } else {
            Rule::Pkix
        };
        let mut records = HostDane::None;
        if plan.mx_domain.is_some() {
            // DANE first: where it applies, MTA-STS does not (RFC 8461 section 2)
            let Some(d) = run.step("dane", || host_dane(&mut dns, &c.host, port, &left)) else {
                run.passed_over(&c.host);
                continue;
            };
            records = d;
            if let (HostDane::None, Some(p)) = (&records, &policy) {
                let listed = p.allows(&c.host);
                let mx = p.mx.join(", ");
                match p.mode {
                    sts::Mode::Enforce if !listed => {
                        run.step::<()>("mta-sts", || {
                            Err(Failure::new(
                                STS_MX,
                                format!(
                                    "{} is not among the MX hosts the domain's MTA-STS policy (enforce) allows: {mx}",
                                    c.host
                                ),
                            ))
                        });
                        run.passed_over(&c.host);
                        continue;
                    }
                    sts::Mode::Enforce => {
                        rule = Rule::Sts;
                        run.step("mta-sts", || {
                            Ok(((), format!(
                                "{} is allowed by the policy (enforce): TLS with a certificate valid for it is required",
                                c.host
                            )))
                        });
                    }
                    sts::Mode::Testing => {
                        run.step("mta-sts", || {
                            Ok(((), if listed {
                                format!("{} is allowed by the policy (testing mode: failures are reported, mail still goes)", c.host)
                            } else {
                                format!(
                                    "{} is not among the policy's MX hosts ({mx}); the policy is in testing mode, so mail still goes (under enforce: {STS_MX})",
                                    c.host
                                )
                            }))
                        });
                    }
                    sts::Mode::None => {}
                }
            }
        }
        match &records {
            HostDane::Records(r, names) => rule = Rule::Dane(r, names),
            HostDane::TlsOnly => rule = Rule::TlsOnly,
            HostDane::None => {}
        }
        for a in fresh {
            if seen.len() >= MAX_ADDRESSES || left().is_zero() {
                late |= left().is_zero();
                skipped += 1;
                continue;
            }
            seen.push(a);
            run.at.1 = Some(a);
            run.report.address = None;
            run.report.host = c.host.clone();
            let ok = session(opts, run, &c.host, a, rule, end);
            let code = if ok { None } else { run.report.code };
            run.report.attempts.push(Attempt {
                host: c.host.clone(),
                address: Some(a),
                code,
            });
            if ok {
                run.report.code = None;
                run.report.reason = None;
                return;
            }
        }
    }
    if skipped > 0 {
        let why = if late {
            "the probe's deadline passed".to_string()
        } else {
            format!("at most {MAX_ADDRESSES} are tried")
        };
        run.report.notes.push(format!(
            "{skipped} more address{} not tried: {why}",
            if skipped == 1 { "" } else { "es" }
        ));
    }
    if run.report.code.is_none() {
        // nothing was tried and nothing failed: the deadline ran out first
        run.report.code = Some(TIMED_OUT);
    }
}

/// The domain's MTA-STS policy (RFC 8461): its TXT record, then the policy over HTTPS. No
/// usable policy is not a failure: Exchange Online then delivers as without one.
fn mta_sts(
    opts: &Options,
    dns: &mut resolve::Dns,
    domain: &str,
    left: &dyn Fn() -> Duration,
) -> (Option<sts::Policy>, String) {
    let name = format!("_mta-sts.{domain}");
    let without = "delivery goes on as if the domain had no policy";
    let txt = match dns.txt(&name, left()) {
        Err(e) => return (None, format!("TXT {name}: {e}; {without}")),
        Ok(t) => t,
    };
    let id = match sts::parse_txt(&txt) {
        Ok(None) => {
            return (
                None,
                format!("no MTA-STS policy ({name} has no v=STSv1 TXT record)"),
            );
        }
        Err(e) => return (None, format!("TXT {name}: {e}; {without}")),
        Ok(Some(t)) => t.id,
    };
    let host = format!("mta-sts.{domain}");
    let url = match &opts.mta_sts_url {
        Some(u) => u.clone(),
        // with --resolver, the policy host's address comes from it too (the certificate is
        // still checked for the name)
        None if dns.given() => match dns.ips(&host, 443, left()) {
            Ok(a) if !a.is_empty() => format!("https://{}/.well-known/mta-sts.txt", a[0]),
            Ok(_) => {
                return (
                    None,
                    format!("policy id {id}: {host} has no address; {without}"),
                );
            }
            Err(e) => return (None, format!("policy id {id}: {host}: {e}; {without}")),
        },
        None => format!("https://{host}/.well-known/mta-sts.txt"),
    };
    let (body, how) = match sts::fetch(&url, &host, &opts.roots, left()) {
        Ok(x) => x,
        Err(sts::FetchError::Certificate(e) | sts::FetchError::Other(e)) => {
            return (None, format!("policy id {id}: {url}: {e}; {without}"));
        }
    };
    match sts::parse_policy(&body) {
        Err(e) => (
            None,
            format!("policy id {id} from {url} is not valid: {e}; {without}"),
        ),
        Ok(p) => {
            let mode = match p.mode {
                sts::Mode::Enforce => "enforce",
                sts::Mode::Testing => "testing",
                sts::Mode::None => "none",
            };
            let d = format!(
                "policy id {id}: mode {mode}, mx {}, max_age {} ({how})",
                if p.mx.is_empty() {
                    "(none)".to_string()
                } else {
                    p.mx.join(", ")
                },
                p.max_age
            );
            ((p.mode != sts::Mode::None).then_some(p), d)
        }
    }
}

/// What DANE asks of an MX host (RFC 7672 section 2.2): nothing unless the resolver's AD bit
/// can be trusted and the host's address records are signed; then its TLSA records. A TLSA
/// look-up that fails for a signed host makes the host unusable (4.7.324).
fn host_dane(
    dns: &mut resolve::Dns,
    host: &str,
    port: u16,
    left: &dyn Fn() -> Duration,
) -> Result<(HostDane, String), Failure> {
    let name = format!("_{port}._tcp.{host}");
    let via = dns.server_shown(left());
    if !dns.ad_trusted(left()) {
        return Ok((
            HostDane::None,
            format!(
                "DANE not checked: the DNSSEC verdict (AD bit) of {via} crosses the network unprotected; give --resolver with a validating resolver you trust (on this machine, or over a trusted path)"
            ),
        ));
    }
    let alias = match dns.host_signed(host, left()) {
        Ok((true, alias)) => alias,
        Ok((false, _)) => {
            return Ok((
                HostDane::None,
                format!(
                    "{host}'s address records are not DNSSEC-signed (no AD bit from {via}): DANE does not apply"
                ),
            ));
        }
        Err(e) => {
            return Ok((
                HostDane::None,
                format!(
                    "DANE not checked: whether {host} is DNSSEC-signed could not be told ({e})"
                ),
            ));
        }
    };
    // a signed CNAME chain: the TLSA records are looked for at its end first, then at the
    // MX host name (RFC 7672 section 2.2.2)
    if let Some(target) = &alias {
        let at_target = format!("_{port}._tcp.{target}");
        match dns.tlsa(&at_target, left()) {
            resolve::TlsaAnswer::None | resolve::TlsaAnswer::Insecure(_) => {}
            answer => {
                return tlsa_verdict(answer, &at_target, host, &via, vec![target.clone()]);
            }
        }
    }
    let answer = dns.tlsa(&name, left());
    tlsa_verdict(answer, &name, host, &via, Vec::new())
}

/// What a TLSA answer at `name` means for `host`; `names`: the names a DANE-TA certificate
/// may carry besides `host`.
fn tlsa_verdict(
    answer: resolve::TlsaAnswer,
    name: &str,
    host: &str,
    via: &str,
    names: Vec<String>,
) -> Result<(HostDane, String), Failure> {
    let show = |r: &[dane::Tlsa]| {
        r.iter()
            .map(|t| t.describe())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match answer {
        resolve::TlsaAnswer::None => Ok((
            HostDane::None,
            format!("{host} is DNSSEC-signed; no TLSA record at {name}: DANE does not apply"),
        )),
        resolve::TlsaAnswer::Insecure(r) => Ok((
            HostDane::None,
            format!(
                "TLSA {name}: {} without the AD bit from {via} (not DNSSEC-authenticated): DANE does not apply",
                show(&r)
            ),
        )),
        resolve::TlsaAnswer::Secure(r) => {
            let usable: Vec<dane::Tlsa> = r.iter().filter(|t| t.usable()).cloned().collect();
            if usable.is_empty() {
                return Ok((
                    HostDane::TlsOnly,
                    format!(
                        "TLSA {name}: {} authenticated, none usable for SMTP (RFC 7672 section 3.1.3): TLS is required, without authentication",
                        show(&r)
                    ),
                ));
            }
            let d = format!(
                "TLSA {name}: {} (authenticated: the AD bit from {via}; ndr-doctor trusts the resolver's DNSSEC validation)",
                show(&usable)
            );
            Ok((HostDane::Records(usable, names), d))
        }
        resolve::TlsaAnswer::Bogus(e) | resolve::TlsaAnswer::Failed(e) => Err(Failure::new(
            DANE_DNSSEC,
            format!(
                "TLSA {name} from {via}: {e}; {host} is DNSSEC-signed, so a sender that checks DANE cannot use it (RFC 7672 section 2.2)"
            ),
        )),
    }
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// One attempt at one address: connect, banner, EHLO, STARTTLS, the certificate (and its
/// DANE match), EHLO again, QUIT. True when the server accepted.
fn session(
    opts: &Options,
    run: &mut Run<'_>,
    host: &str,
    addr: SocketAddr,
    rule: Rule<'_>,
    end: Instant,
) -> bool {
    let left = || {
        opts.timeout
            .min(end.saturating_duration_since(Instant::now()))
    };
    let timeout = opts.timeout;
    let Some(tcp) = run.step("connect", || connect(addr, timeout, end)) else {
        return false;
    };
    run.report.address = tcp.peer_addr().ok();
    let helo = opts.helo.clone().unwrap_or_else(|| {
        tcp.local_addr()
            .map(address_literal)
            .unwrap_or_else(|_| "[127.0.0.1]".into())
    });
    let _ = tcp.set_nodelay(true);
    let mut conn = Conn::new(Stream::Plain(tcp), timeout).until(end);
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
        goodbye(&mut conn, still_up);
        return false;
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
        goodbye(&mut conn, still_up);
        return false;
    };
    // STARTTLS and the certificate
    let offered = keywords.iter().any(|k| k == "STARTTLS");
    if !offered {
        let required = opts.require_tls;
        let ok = run.step("starttls", || match rule {
            Rule::Dane(..) | Rule::TlsOnly => Err(Failure::new(
                DANE_NO_STARTTLS,
                format!("the server does not offer STARTTLS, and {host} has DNSSEC-signed TLSA records: DANE requires TLS"),
            )),
            Rule::Sts => Err(Failure::new(
                CANNOT_CONNECT,
                "the server does not offer STARTTLS, and the domain's MTA-STS policy (enforce) requires TLS",
            )),
            Rule::Pkix if required => Err(Failure::new(
                CANNOT_CONNECT,
                "the server does not offer STARTTLS, and TLS is required (--require-tls)",
            )),
            Rule::Pkix | Rule::Opportunistic => Ok((
                (),
                "not offered: mail would go unencrypted (a connector that requires TLS fails with 4.4.317; --require-tls checks that)".to_string(),
            )),
        });
        return match ok {
            Some(()) => {
                quit(run, &mut conn);
                true
            }
            None => {
                goodbye(&mut conn, true);
                false
            }
        };
    }
    let Some(()) = run.step("starttls", || match conn.command("STARTTLS") {
        Ok(r) if r.code == 220 => Ok(((), r.text())),
        Ok(r) => {
            still_up = true;
            Err(refused_reply("STARTTLS was refused", &r))
        }
        Err(e) => Err(dialogue_failure(e, "reply to STARTTLS", timeout)),
    }) else {
        goodbye(&mut conn, still_up);
        return false;
    };
    let (tcp, extra) = match conn.into_tcp() {
        Ok(x) => x,
        // not reachable: the connection is still plain here; end quietly if it ever is
        Err(_) => return false,
    };
    let name = opts.cert_name.clone().unwrap_or_else(|| host.to_string());
    let check = match rule {
        Rule::Pkix | Rule::Sts => tls::Check::Pkix,
        Rule::Dane(..) | Rule::TlsOnly | Rule::Opportunistic => tls::Check::Keep,
    };
    let Some(session) = run.step("tls", || {
        let s = tls::handshake(tcp, &name, &opts.roots, left(), check).map_err(|e| match e {
            tls::TlsError::Certificate { reason, detail } => Failure {
                code: match rule {
                    Rule::Sts => STS_CERTIFICATE,
                    _ => CERTIFICATE,
                },
                reason: Some(reason),
                detail,
            },
            tls::TlsError::Negotiation(d) => Failure::new(
                match rule {
                    Rule::Dane(..) | Rule::TlsOnly => DANE_NO_STARTTLS,
                    _ => CANNOT_CONNECT,
                },
                d,
            ),
            tls::TlsError::Setup(d) => Failure::new(CANNOT_CONNECT, d),
            tls::TlsError::Io(e) => {
                dialogue_failure(DialogueError::from_io(e), "TLS handshake", timeout)
            }
        })?;
        let mut d = s.summary.clone();
        let against = match &opts.roots.file {
            Some(_) => "--ca-file",
            None => "the built-in public roots",
        };
        match (rule, &s.pkix) {
            (Rule::Dane(..), _) => d.push_str(" (matched against the TLSA records next)"),
            (Rule::TlsOnly, _) => {
                d.push_str(" (not authenticated: the TLSA records are all unusable)")
            }
            (Rule::Opportunistic, Some((_, why))) => d.push_str(&format!(
                "; the certificate fails validation for {name} against {against} ({why}): the mail goes anyway, as opportunistic TLS does not authenticate (a connector that validates certificates would queue {CERTIFICATE}; an MTA-STS policy in enforce mode, {STS_CERTIFICATE})"
            )),
            _ => d.push_str(&format!(" (checked for {name} against {against})")),
        }
        if extra > 0 {
            d.push_str(&format!(
                "; ignored {extra} bytes the server sent before the handshake"
            ));
        }
        Ok((s, d))
    }) else {
        return false;
    };
    if let Rule::Dane(records, names) = rule {
        let matched = run.step("dane", || {
            // a DANE-TA certificate may name either reference identifier
            let now = unix_now();
            let mut r = dane::check(records, &session.chain, host, now);
            for n in names.iter().filter(|n| n.as_str() != host) {
                if !matches!(r, Err(dane::DaneError::NameMismatch(_))) {
                    break;
                }
                r = dane::check(records, &session.chain, n, now);
            }
            r.map(|m| ((), m)).map_err(|e| match e {
                dane::DaneError::NoMatch(d) => Failure::new(DANE_NO_MATCH, d),
                dane::DaneError::Expired(d) => Failure::new(DANE_EXPIRED, d),
                dane::DaneError::NameMismatch(d) => Failure::new(DANE_NAME, d),
            })
        });
        if matched.is_none() {
            return false;
        }
    }
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
        Some(()) => {
            quit(run, &mut conn);
            true
        }
        None => {
            goodbye(&mut conn, still_up);
            false
        }
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
    use super::report::{DNS_FAILED, NULL_MX};
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn connect_names_how_an_address_failed() {
        // a port held on 127.0.0.1 for the whole test, so that no other test's listener can
        // take it: at 127.0.0.2 nothing listens on it, and connecting there is refused (a
        // port freed by dropping its listener could be handed to a parallel test)
        let held = TcpListener::bind("127.0.0.1:0").unwrap();
        let closed = SocketAddr::from(([127, 0, 0, 2], held.local_addr().unwrap().port()));
        let open = TcpListener::bind("127.0.0.1:0").unwrap();
        let end = Instant::now() + Duration::from_secs(60);
        let (_s, detail) =
            connect(open.local_addr().unwrap(), Duration::from_secs(5), end).unwrap();
        assert!(detail.starts_with("connected to 127.0.0.1:"), "{detail}");
        let f = connect(closed, Duration::from_secs(5), end).unwrap_err();
        assert_eq!(f.code, REFUSED);
        assert_eq!(f.detail, format!("{closed} refused"));
        // past the probe's deadline nothing is tried
        let f = connect(closed, Duration::from_secs(5), Instant::now()).unwrap_err();
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
            NULL_MX,
            DANE_NO_STARTTLS,
            DANE_EXPIRED,
            DANE_NO_MATCH,
            DANE_DNSSEC,
            DANE_NAME,
            STS_MX,
            STS_CERTIFICATE,
        ] {
            assert!(
                crate::catalog::builtin_or_empty().by_key(k).is_some(),
                "{k}"
            );
        }
    }
}
