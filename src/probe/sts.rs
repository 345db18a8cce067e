//! MTA-STS (RFC 8461): the `_mta-sts` TXT record (section 3.1), the policy file (section
//! 3.2), its fetch over HTTPS with a certificate valid for `mta-sts.DOMAIN` (section 3.3),
//! and whether an MX host is one the policy names (section 4.1).
//!
//! Everything here comes from the network and is treated as hostile: sizes are bounded (a
//! policy body of at most 64 KiB, a response head of at most 16 KiB), the fetch ends by one
//! deadline, and an error is a sentence naming the problem (network text in it escaped and
//! cut short).

use super::smtp::{Deadlined, timed_out};
use rustls::pki_types::ServerName;
use rustls::{CertificateError, ClientConnection, StreamOwned};
use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv6Addr, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The largest policy body accepted (RFC 8461 section 3.2 sets none; 64 KiB is hundreds of
/// `mx` lines).
pub const MAX_BODY: usize = 64 * 1024;
/// The largest HTTP response head (status line and header fields) accepted.
const MAX_HEAD: usize = 16 * 1024;
/// The most header fields read from the response.
const MAX_HEADERS: usize = 64;
/// The largest `max_age` (RFC 8461 section 3.2: about one year).
pub const MAX_AGE_LIMIT: u64 = 31_557_600;
/// The most addresses a policy host name's look-up is tried at.
const MAX_ADDRS: usize = 8;

/// Network text as it may appear in a sentence: escaped, and at most `max` characters.
fn shown(bytes: &[u8], max: usize) -> String {
    crate::sanitize::truncate(&crate::sanitize::visible(bytes), max).into_owned()
}

/// The `_mta-sts.DOMAIN` TXT record's fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Txt {
    /// The policy's identifier (`id=`): 1 to 32 letters and digits, changed whenever the
    /// policy changes.
    pub id: String,
}

/// Whether a TXT record is an MTA-STS one: `v=STSv1` first, then (after optional spaces) a
/// `;` or nothing. `v=STSv10` is not.
fn is_sts_record(r: &str) -> bool {
    r.strip_prefix("v=STSv1").is_some_and(|rest| {
        let rest = rest.trim_start_matches([' ', '\t']);
        rest.is_empty() || rest.starts_with(';')
    })
}

/// RFC 8461 section 3.1: among the TXT strings given (each one record, its character-strings
/// already joined), those that start with `v=STSv1` (the version field first, followed by
/// `;`, fields `key=value` separated by `;` with optional spaces, a trailing `;` allowed).
/// None → `Ok(None)`. More than one → an error (the policy is then ignored). An `id` that is
/// missing or not 1–32 letters/digits, or a field that is not `key=value`, → an error. Each
/// error is one sentence.
pub fn parse_txt(records: &[String]) -> Result<Option<Txt>, String> {
    let sts: Vec<&String> = records.iter().filter(|r| is_sts_record(r)).collect();
    let record = match sts.as_slice() {
        [] => return Ok(None),
        [one] => one.as_str(),
        more => {
            return Err(format!(
                "{} TXT records start with v=STSv1: the policy is ignored (RFC 8461 section 3.1)",
                more.len()
            ));
        }
    };
    let whole = || shown(record.as_bytes(), 120);
    // the version field was checked by is_sts_record; the fields follow
    let rest = record.strip_prefix("v=STSv1").unwrap_or_default();
    let mut fields: Vec<&str> = rest
        .split(';')
        .map(|f| f.trim_matches([' ', '\t']))
        .collect();
    // `rest` is empty or starts with `;` (after spaces): the first piece is empty
    if fields.first().is_some_and(|f| f.is_empty()) {
        fields.remove(0);
    }
    // a trailing `;` leaves one empty piece at the end
    if fields.last().is_some_and(|f| f.is_empty()) {
        fields.pop();
    }
    let mut id: Option<&str> = None;
    for f in fields {
        let Some((key, value)) = f.split_once('=') else {
            return Err(format!(
                "the MTA-STS TXT record `{}` has a field `{}` that is not key=value (RFC 8461 section 3.1)",
                whole(),
                shown(f.as_bytes(), 40)
            ));
        };
        if key == "id" {
            if id.is_some() {
                return Err(format!(
                    "the MTA-STS TXT record `{}` has more than one id field (RFC 8461 section 3.1)",
                    whole()
                ));
            }
            id = Some(value);
        }
    }
    let Some(id) = id else {
        return Err(format!(
            "the MTA-STS TXT record `{}` has no id field (RFC 8461 section 3.1)",
            whole()
        ));
    };
    if id.is_empty() || id.len() > 32 || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(format!(
            "the MTA-STS TXT record's id `{}` is not 1 to 32 letters and digits (RFC 8461 section 3.1)",
            shown(id.as_bytes(), 40)
        ));
    }
    Ok(Some(Txt { id: id.to_string() }))
}

/// What a sending server does when no MX host matches or TLS fails (RFC 8461 section 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `enforce`: do not deliver to an MX host that fails the policy.
    Enforce,
    /// `testing`: deliver anyway, and report the failure (TLSRPT, RFC 8460).
    Testing,
    /// `none`: the domain withdraws its policy.
    None,
}

/// A parsed policy file (RFC 8461 section 3.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// The `mode` field.
    pub mode: Mode,
    /// The `mx` patterns, in the file's order: host names or `*.` followed by one.
    pub mx: Vec<String>,
    /// The `max_age` field, in seconds (at most `MAX_AGE_LIMIT`).
    pub max_age: u64,
}

/// Whether `p` is an `mx` pattern: an optional `*.`, then a host name (labels of letters,
/// digits, `-` and `_`, 1 to 63 characters each, 253 in all, an optional trailing dot).
fn is_mx_pattern(p: &str) -> bool {
    let name = p.strip_prefix("*.").unwrap_or(p);
    let name = name.strip_suffix('.').unwrap_or(name);
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|l| {
            (1..=63).contains(&l.len())
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// RFC 8461 section 3.2: `key: value` lines separated by LF or CRLF, leading and trailing
/// spaces of values trimmed (blank lines skipped); `version: STSv1` required; `mode` one of
/// enforce/testing/none required; `max_age` required, digits, at most 31557600; `mx` may
/// repeat and is required (at least one) unless the mode is none; unknown keys ignored; a
/// body that is not UTF-8, larger than `MAX_BODY`, has a line without `:`, repeats
/// `version`, `mode` or `max_age`, or has an `mx` value that is not a host name pattern is an
/// error. Errors are one sentence naming the problem.
pub fn parse_policy(text: &[u8]) -> Result<Policy, String> {
    if text.len() > MAX_BODY {
        return Err(format!(
            "the MTA-STS policy is {} bytes, more than the {MAX_BODY} accepted",
            text.len()
        ));
    }
    let text = std::str::from_utf8(text).map_err(|e| {
        format!(
            "the MTA-STS policy is not UTF-8 text (an invalid byte at offset {})",
            e.valid_up_to()
        )
    })?;
    let mut version: Option<&str> = None;
    let mut mode: Option<&str> = None;
    let mut max_age: Option<&str> = None;
    let mut mx: Vec<String> = Vec::new();
    // field names that differ from a known one only in case, for the error's hint
    let mut cased: Vec<&str> = Vec::new();
    for (n, line) in text.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim_matches([' ', '\t']).is_empty() {
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            return Err(format!(
                "line {} of the MTA-STS policy, `{}`, is not `key: value` (RFC 8461 section 3.2)",
                n + 1,
                shown(line.as_bytes(), 60)
            ));
        };
        let key = key.trim_matches([' ', '\t']);
        let value = value.trim_matches([' ', '\t']);
        let slot = match key {
            "version" => &mut version,
            "mode" => &mut mode,
            "max_age" => &mut max_age,
            "mx" => {
                if !is_mx_pattern(value) {
                    return Err(format!(
                        "the MTA-STS policy's mx `{}` (line {}) is not a host name or `*.` followed by one (RFC 8461 section 3.2)",
                        shown(value.as_bytes(), 80),
                        n + 1
                    ));
                }
                mx.push(value.to_string());
                continue;
            }
            other => {
                if ["version", "mode", "max_age", "mx"]
                    .iter()
                    .any(|k| k.eq_ignore_ascii_case(other))
                {
                    cased.push(other);
                }
                continue;
            }
        };
        if slot.is_some() {
            return Err(format!(
                "the MTA-STS policy has more than one {key} field (line {}) (RFC 8461 section 3.2)",
                n + 1
            ));
        }
        *slot = Some(value);
    }
    let missing = |field: &str| {
        let hint = cased
            .iter()
            .find(|c| c.eq_ignore_ascii_case(field))
            .map(|c| {
                format!(
                    " (there is a `{}` field: field names are case-sensitive)",
                    shown(c.as_bytes(), 20)
                )
            })
            .unwrap_or_default();
        format!("the MTA-STS policy has no {field} field{hint} (RFC 8461 section 3.2)")
    };
    match version {
        None => return Err(missing("version")),
        Some("STSv1") => {}
        Some(v) => {
            return Err(format!(
                "the MTA-STS policy's version is `{}`, not STSv1 (RFC 8461 section 3.2)",
                shown(v.as_bytes(), 40)
            ));
        }
    }
    let mode = match mode {
        None => return Err(missing("mode")),
        Some("enforce") => Mode::Enforce,
        Some("testing") => Mode::Testing,
        Some("none") => Mode::None,
        Some(m) => {
            return Err(format!(
                "the MTA-STS policy's mode `{}` is not enforce, testing or none (RFC 8461 section 3.2)",
                shown(m.as_bytes(), 40)
            ));
        }
    };
    let max_age = match max_age {
        None => return Err(missing("max_age")),
        Some(a) => {
            // at most 10 digits (the RFC's grammar), so the value fits a u64
            let value = (!a.is_empty() && a.len() <= 10 && a.bytes().all(|b| b.is_ascii_digit()))
                .then(|| a.parse::<u64>().ok())
                .flatten();
            match value {
                Some(v) if v <= MAX_AGE_LIMIT => v,
                _ => {
                    return Err(format!(
                        "the MTA-STS policy's max_age `{}` is not a number of seconds from 0 to {MAX_AGE_LIMIT} (RFC 8461 section 3.2)",
                        shown(a.as_bytes(), 40)
                    ));
                }
            }
        }
    };
    if mx.is_empty() && mode != Mode::None {
        return Err(missing("mx"));
    }
    Ok(Policy { mode, mx, max_age })
}

impl Policy {
    /// RFC 8461 section 4.1: whether `mx_host` (case-insensitive, trailing dot ignored)
    /// matches a pattern: an exact name, or `*.example.com` matching exactly one extra
    /// leftmost label (`mx1.example.com` yes, `example.com` and `a.b.example.com` no).
    pub fn allows(&self, mx_host: &str) -> bool {
        let host = mx_host.strip_suffix('.').unwrap_or(mx_host);
        if host.is_empty() {
            return false;
        }
        self.mx.iter().any(|p| {
            let p = p.strip_suffix('.').unwrap_or(p);
            match p.strip_prefix("*.") {
                Some(parent) => host.split_once('.').is_some_and(|(label, rest)| {
                    !label.is_empty() && !label.contains('*') && rest.eq_ignore_ascii_case(parent)
                }),
                None => host.eq_ignore_ascii_case(p),
            }
        })
    }
}

/// Why the policy could not be fetched.
#[derive(Debug)]
pub enum FetchError {
    /// The HTTPS server's certificate failed PKIX validation for the policy host name: a
    /// sentence.
    Certificate(String),
    /// Anything else (URL, connect, TLS negotiation, time-out, HTTP status other than 200 —
    /// redirects are not followed, RFC 8461 section 3.3 — a body over 64 KiB, a malformed
    /// response): a sentence.
    Other(String),
}

/// `https://HOST[:PORT]/PATH`, taken apart.
#[derive(Debug, PartialEq, Eq)]
struct Url {
    /// A name (lower-case) or an IP address, without brackets.
    host: String,
    ip: Option<IpAddr>,
    port: u16,
    /// Starts with `/`; printable ASCII without spaces.
    path: String,
}

impl Url {
    /// `host:port`, an IPv6 address in brackets.
    fn authority(&self) -> String {
        match self.ip {
            Some(IpAddr::V6(a)) => format!("[{a}]:{}", self.port),
            _ => format!("{}:{}", self.host, self.port),
        }
    }
}

fn parse_url(url: &str) -> Result<Url, String> {
    let bad = |why: &str| {
        format!(
            "`{}` is not a usable policy URL: {why}",
            shown(url.as_bytes(), 100)
        )
    };
    let rest = url
        .get(..8)
        .filter(|s| s.eq_ignore_ascii_case("https://"))
        .and_then(|_| url.get(8..))
        .ok_or_else(|| bad("only https:// is allowed"))?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    let path = path.split('#').next().unwrap_or_default();
    let path = if path.starts_with('/') {
        path.to_string()
    } else {
        format!("/{path}")
    };
    if !path.bytes().all(|b| (0x21..0x7f).contains(&b)) {
        return Err(bad("the path has spaces, controls or non-ASCII characters"));
    }
    if authority.contains('@') {
        return Err(bad("user names are not allowed"));
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (addr, after) = v6
            .split_once(']')
            .ok_or_else(|| bad("the IPv6 address has no closing `]`"))?;
        let ip: Ipv6Addr = addr
            .parse()
            .map_err(|_| bad("the part in brackets is not an IPv6 address"))?;
        let port = match after {
            "" => None,
            p => Some(
                p.strip_prefix(':')
                    .ok_or_else(|| bad("`]` is not followed by `:PORT`"))?,
            ),
        };
        (ip.to_string(), port)
    } else {
        match authority.split_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (authority.to_string(), None),
        }
    };
    let port = match port {
        None => 443,
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|&n| n != 0 && p.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| bad("the port is not a number from 1 to 65535"))?,
    };
    let ip = host.parse::<IpAddr>().ok();
    if ip.is_none()
        && (host.is_empty()
            || host.len() > 253
            || !host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_')))
    {
        return Err(bad("the host is not a name or an IP address"));
    }
    Ok(Url {
        host: host.to_ascii_lowercase(),
        ip,
        port,
        path,
    })
}

fn seconds(d: Duration) -> String {
    format!("{}s", d.as_secs_f64())
}

/// An I/O error while talking to `from`, in words.
fn io_sentence(e: &io::Error, doing: &str, from: &str, timeout: Duration) -> String {
    if timed_out(e) {
        return format!(
            "no answer from {from} while {doing} within the {} allowed",
            seconds(timeout)
        );
    }
    let what = match e.kind() {
        io::ErrorKind::ConnectionRefused => "the connection was refused".to_string(),
        io::ErrorKind::ConnectionReset => "the server reset the connection".to_string(),
        io::ErrorKind::UnexpectedEof => "the server closed the connection".to_string(),
        io::ErrorKind::ConnectionAborted | io::ErrorKind::BrokenPipe => {
            "the connection was closed".to_string()
        }
        _ => e.to_string(),
    };
    format!("{what} while {doing} ({from})")
}

/// `DnsName("a.test")` or `IpAddress(192.0.2.1)` (how webpki lists a certificate's names) as
/// `a.test` or `192.0.2.1`.
fn presented_name(n: &str) -> String {
    let n = n
        .strip_prefix("DnsName(\"")
        .and_then(|r| r.strip_suffix("\")"))
        .or_else(|| {
            n.strip_prefix("IpAddress(")
                .and_then(|r| r.strip_suffix(')'))
        })
        .unwrap_or(n);
    shown(n.as_bytes(), 80)
}

/// A certificate refusal as the user reads it.
fn certificate_sentence(ce: &CertificateError, from: &str, name: &str) -> String {
    let why = match ce {
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            "it has expired".to_string()
        }
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            "it is not valid yet (check the clocks too)".to_string()
        }
        CertificateError::NotValidForNameContext { presented, .. } => {
            let names: Vec<String> = presented
                .iter()
                .take(8)
                .map(|n| presented_name(n))
                .collect();
            if names.is_empty() {
                "it names no host at all".to_string()
            } else {
                format!("it names {}", names.join(", "))
            }
        }
        CertificateError::NotValidForName => "it is for another name".to_string(),
        CertificateError::UnknownIssuer => {
            "it does not lead to a trusted root (self-signed, or an incomplete chain?)".to_string()
        }
        CertificateError::BadSignature => "it is not correctly signed by its issuer".to_string(),
        CertificateError::Revoked => "it was revoked".to_string(),
        CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => {
            "it is not for server authentication".to_string()
        }
        other => format!("it was refused ({other})"),
    };
    format!(
        "the certificate of {from} is not valid for {name}: {why} (RFC 8461 section 3.3 requires one that is)"
    )
}

/// The head of an HTTP response, as far as the fetch uses it.
struct Head {
    code: u16,
    reason: String,
    content_length: Option<usize>,
    content_type: Option<String>,
    location: Option<String>,
    transfer_encoding: Option<String>,
}

/// Parses a complete response head; `Ok(None)` when more bytes are needed.
fn parse_head(buf: &[u8], from: &str) -> Result<Option<(Head, usize)>, String> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut resp = httparse::Response::new(&mut headers);
    let n = match resp.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => {
            return Err(format!(
                "the answer of {from} is not an HTTP response ({e}): `{}`",
                shown(buf.get(..60).unwrap_or(buf), 60)
            ));
        }
    };
    let mut content_length: Option<usize> = None;
    let mut content_type = None;
    let mut location = None;
    let mut transfer_encoding = None;
    for h in resp.headers.iter() {
        let value = || shown(h.value, 100);
        if h.name.eq_ignore_ascii_case("content-length") {
            let text = std::str::from_utf8(h.value).unwrap_or_default().trim();
            let len = (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()))
                .then(|| text.parse::<usize>().ok())
                .flatten()
                .ok_or_else(|| {
                    format!(
                        "{from} sent a Content-Length that is not a number: `{}`",
                        value()
                    )
                })?;
            if content_length.is_some_and(|l| l != len) {
                return Err(format!("{from} sent two different Content-Length fields"));
            }
            content_length = Some(len);
        } else if h.name.eq_ignore_ascii_case("content-type") {
            content_type = Some(value());
        } else if h.name.eq_ignore_ascii_case("location") {
            location = Some(value());
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            transfer_encoding = Some(value());
        }
    }
    let head = Head {
        code: resp.code.unwrap_or_default(),
        reason: shown(resp.reason.unwrap_or_default().as_bytes(), 60),
        content_length,
        content_type,
        location,
        transfer_encoding,
    };
    Ok(Some((head, n)))
}

/// Looks `host` up through the system's resolver within `left` (in a thread of its own,
/// `resolve::bounded`: the system resolver has no time limit of its own).
fn lookup(host: &str, port: u16, left: Duration) -> Result<Vec<SocketAddr>, String> {
    let name = host.to_string();
    let addrs = super::resolve::bounded(left, format!("the look-up of {host}"), move || {
        (name.as_str(), port)
            .to_socket_addrs()
            .map(|a| a.take(MAX_ADDRS).collect::<Vec<_>>())
            .map_err(|e| {
                super::report::Failure::new(
                    super::report::DNS_FAILED,
                    format!("cannot look up {name}: {e}"),
                )
            })
    })
    .map_err(|f| f.detail)?;
    if addrs.is_empty() {
        return Err(format!("{host} has no address"));
    }
    Ok(addrs)
}

/// Fetches the policy body over HTTPS: connects to `url`'s host and port
/// (`https://HOST[:PORT]/PATH`, only https; HOST a name, an IPv4 address or a bracketed
/// IPv6 address; the port 443 by default), but validates the server's certificate for
/// `policy_host` (normally `mta-sts.DOMAIN`, the URL's host in real use) against `roots`
/// (PKIX, with rustls's `WebPkiServerVerifier`: certificates pinned by `--ca-file` count
/// only as roots here), sends `GET PATH HTTP/1.0` with `Host: policy_host` and
/// `Connection: close`, and reads the response (a body by Content-Length or until the
/// server closes; at most `MAX_BODY` bytes), all within `timeout` in total. Redirects are
/// not followed (RFC 8461 section 3.3): any status but 200 is an error. Returns the body and
/// a short sentence for the report, like `HTTP 200 from 127.0.0.1:4443, 123 bytes
/// (certificate valid for mta-sts.example.com)`.
pub fn fetch(
    url: &str,
    policy_host: &str,
    roots: &super::tls::Roots,
    timeout: Duration,
) -> Result<(Vec<u8>, String), FetchError> {
    let deadline = Instant::now() + timeout;
    let other = FetchError::Other;
    let url = parse_url(url).map_err(other)?;
    let from = url.authority();
    let name = policy_host.strip_suffix('.').unwrap_or(policy_host);
    let server_name = ServerName::try_from(name.to_string()).map_err(|_| {
        other(format!(
            "`{}` is not a host name or an IP address",
            shown(policy_host.as_bytes(), 100)
        ))
    })?;
    let host_field = match name.parse::<IpAddr>() {
        Ok(IpAddr::V6(a)) => format!("[{a}]"),
        _ => name.to_string(),
    };

    // the TLS client, before any network traffic
    let verifier = super::tls::pkix_verifier(roots).map_err(other)?;
    let config = super::tls::client_config(verifier)
        .map_err(|e| other(format!("cannot set up TLS: {e}")))?;
    let mut conn = ClientConnection::new(Arc::new(config), server_name)
        .map_err(|e| other(format!("cannot set up TLS: {e}")))?;

    // connect
    let left = || deadline.saturating_duration_since(Instant::now());
    let addrs = match url.ip {
        Some(ip) => vec![SocketAddr::new(ip, url.port)],
        None => lookup(&url.host, url.port, left()).map_err(other)?,
    };
    let mut tcp = None;
    let mut last: Option<io::Error> = None;
    for a in &addrs {
        let l = left();
        if l.is_zero() {
            break;
        }
        match TcpStream::connect_timeout(a, l) {
            Ok(s) => {
                tcp = Some(s);
                break;
            }
            Err(e) => last = Some(e),
        }
    }
    let Some(tcp) = tcp else {
        let e = last.unwrap_or_else(|| io::ErrorKind::TimedOut.into());
        return Err(other(io_sentence(&e, "connecting", &from, timeout)));
    };
    let mut sock = Deadlined::until(tcp, deadline);

    // handshake
    while conn.is_handshaking() {
        if let Err(e) = conn.complete_io(&mut sock) {
            let tls = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>());
            return Err(match tls {
                Some(rustls::Error::InvalidCertificate(ce)) => {
                    FetchError::Certificate(certificate_sentence(ce, &from, name))
                }
                Some(rustls::Error::AlertReceived(alert)) => other(format!(
                    "{from} ended the TLS handshake with the alert {alert:?}"
                )),
                Some(t) => other(format!("TLS negotiation with {from} failed: {t}")),
                None => other(io_sentence(&e, "negotiating TLS", &from, timeout)),
            });
        }
    }

    // request
    let mut tls = StreamOwned::new(conn, sock);
    let request = format!(
        "GET {} HTTP/1.0\r\nHost: {host_field}\r\nConnection: close\r\nAccept: text/plain\r\nUser-Agent: ndr-doctor/{}\r\n\r\n",
        url.path,
        env!("CARGO_PKG_VERSION")
    );
    tls.write_all(request.as_bytes())
        .and_then(|()| tls.flush())
        .map_err(|e| other(io_sentence(&e, "sending the request", &from, timeout)))?;

    // response head
    let mut buf: Vec<u8> = Vec::new();
    let mut chunk = [0u8; 8192];
    let (head, body_start) = loop {
        if let Some(h) = parse_head(&buf, &from).map_err(other)? {
            break h;
        }
        if buf.len() > MAX_HEAD {
            return Err(other(format!(
                "the HTTP response head of {from} is longer than {MAX_HEAD} bytes"
            )));
        }
        match tls.read(&mut chunk) {
            Ok(0) => {
                return Err(other(format!(
                    "{from} closed the connection before a complete HTTP response{}",
                    if buf.is_empty() {
                        " (no answer at all)"
                    } else {
                        ""
                    }
                )));
            }
            Ok(n) => buf.extend_from_slice(chunk.get(..n).unwrap_or_default()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                return Err(other(format!(
                    "{from} closed the connection before a complete HTTP response"
                )));
            }
            Err(e) => {
                return Err(other(io_sentence(
                    &e,
                    "reading the response",
                    &from,
                    timeout,
                )));
            }
        }
    };
    if head.code != 200 {
        let mut s = format!("{from} answered HTTP {}", head.code);
        if !head.reason.is_empty() {
            s.push(' ');
            s.push_str(&head.reason);
        }
        if (300..400).contains(&head.code) {
            s.push_str(", a redirect");
            if let Some(l) = &head.location {
                s.push_str(&format!(" to {l}"));
            }
            s.push_str(": redirects are not followed (RFC 8461 section 3.3)");
        } else {
            s.push_str(", not 200 (RFC 8461 section 3.3)");
        }
        return Err(other(s));
    }
    if let Some(te) = head
        .transfer_encoding
        .as_ref()
        .filter(|t| !t.eq_ignore_ascii_case("identity"))
    {
        return Err(other(format!(
            "{from} sent the policy with Transfer-Encoding {te}, which an HTTP/1.0 request does not allow"
        )));
    }
    if let Some(len) = head.content_length.filter(|&l| l > MAX_BODY) {
        return Err(other(format!(
            "the policy from {from} is {len} bytes (Content-Length), more than the {MAX_BODY} accepted"
        )));
    }

    // body
    let mut body = buf.split_off(body_start.min(buf.len()));
    loop {
        if let Some(len) = head.content_length
            && body.len() >= len
        {
            body.truncate(len);
            break;
        }
        if body.len() > MAX_BODY {
            return Err(other(format!(
                "the policy from {from} is more than the {MAX_BODY} bytes accepted"
            )));
        }
        match tls.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => body.extend_from_slice(chunk.get(..n).unwrap_or_default()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            // closed without close_notify: the end only when Content-Length says how long the
            // body is (checked below); without it, the policy may have been cut short (an
            // `mx:` line lost), so it is not used
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                if head.content_length.is_some() {
                    break;
                }
                return Err(other(format!(
                    "{from} closed the connection without TLS close_notify and sent no Content-Length: the policy may be cut short"
                )));
            }
            Err(e) => {
                return Err(other(io_sentence(&e, "reading the policy", &from, timeout)));
            }
        }
    }
    if let Some(len) = head.content_length
        && body.len() < len
    {
        return Err(other(format!(
            "{from} closed the connection after {} of the {len} bytes of the policy",
            body.len()
        )));
    }
    let mut summary = format!(
        "HTTP 200 from {from}, {} bytes (certificate valid for {name})",
        body.len()
    );
    if let Some(ct) = &head.content_type {
        let media = ct.split(';').next().unwrap_or_default().trim();
        if !media.eq_ignore_ascii_case("text/plain") {
            summary.push_str(&format!(
                "; Content-Type {ct}, not text/plain (RFC 8461 section 3.2)"
            ));
        }
    }
    Ok((body, summary))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{
        BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair,
        KeyUsagePurpose,
    };
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    use std::net::TcpListener;
    use std::thread;

    const HOST: &str = "mta-sts.probe.test";

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn txt_records() {
        let one = |r: &str| parse_txt(&strings(&[r]));
        assert_eq!(
            one("v=STSv1; id=20160831085700Z;").unwrap(),
            Some(Txt {
                id: "20160831085700Z".into()
            })
        );
        assert_eq!(parse_txt(&[]).unwrap(), None);
        assert_eq!(
            parse_txt(&strings(&["v=spf1 -all", "google-site-verification=x"])).unwrap(),
            None
        );
        // other records beside it are ignored
        assert_eq!(
            parse_txt(&strings(&["v=spf1 include:x -all", "v=STSv1; id=abc"]))
                .unwrap()
                .unwrap()
                .id,
            "abc"
        );
        let two = parse_txt(&strings(&["v=STSv1; id=a", "v=STSv1; id=b"])).unwrap_err();
        assert!(
            two.starts_with("2 TXT records start with v=STSv1: the policy is ignored"),
            "{two}"
        );
        assert_eq!(
            one("v=STSv1; id=20260101T000000;").unwrap().unwrap().id,
            "20260101T000000"
        );
        assert!(
            one("v=STSv1; id=2026-01-01")
                .unwrap_err()
                .contains("letters and digits")
        );
        assert!(
            one("v=STSv1; id=")
                .unwrap_err()
                .contains("letters and digits")
        );
        assert!(one(&format!("v=STSv1; id={}", "a".repeat(33))).is_err());
        assert_eq!(
            one(&format!("v=STSv1; id={}", "a".repeat(32)))
                .unwrap()
                .unwrap()
                .id
                .len(),
            32
        );
        assert!(one("v=STSv1;").unwrap_err().contains("no id"));
        assert!(one("v=STSv1").unwrap_err().contains("no id"));
        assert!(
            one("v=STSv1; id=a; id=b")
                .unwrap_err()
                .contains("more than one id")
        );
        assert!(
            one("v=STSv1; id=a; junk")
                .unwrap_err()
                .contains("not key=value")
        );
        // spaces and tabs around `;`, extension fields
        assert_eq!(one("v=STSv1 ;\tid=x1 ; ext=1 ;").unwrap().unwrap().id, "x1");
        assert_eq!(one("v=STSv1;id=x2").unwrap().unwrap().id, "x2");
        // not STS records: a later version, the version not first
        assert_eq!(one("v=STSv10; id=a").unwrap(), None);
        assert_eq!(one("id=a; v=STSv1").unwrap(), None);
    }

    const ENFORCE: &[u8] = b"version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\nmx: backupmx.example.com\r\nmax_age: 604800\r\n";

    #[test]
    fn policies() {
        assert_eq!(
            parse_policy(ENFORCE).unwrap(),
            Policy {
                mode: Mode::Enforce,
                mx: strings(&["mail.example.com", "*.example.net", "backupmx.example.com"]),
                max_age: 604800
            }
        );
        let p = parse_policy(b"version:STSv1\nmode:   testing  \nmx: mx.test\nmax_age: 0").unwrap();
        assert_eq!((p.mode, p.max_age), (Mode::Testing, 0));
        assert_eq!(p.mx, ["mx.test"]);
        let p = parse_policy(b"version: STSv1\nmode: none\nmax_age: 86400\n\n").unwrap();
        assert_eq!((p.mode, p.mx.len()), (Mode::None, 0));
        // unknown keys are ignored
        assert!(parse_policy(b"version: STSv1\nmode: none\nmax_age: 1\nx-note: a: b\n").is_ok());
        assert_eq!(
            parse_policy(
                format!("version: STSv1\nmode: enforce\nmx: a.test\nmax_age: {MAX_AGE_LIMIT}")
                    .as_bytes()
            )
            .unwrap()
            .max_age,
            MAX_AGE_LIMIT
        );

        let err = |t: &[u8]| parse_policy(t).unwrap_err();
        assert!(err(b"mode: enforce\nmx: a.test\nmax_age: 1").contains("no version"));
        assert!(err(b"version: STSv2\nmode: enforce\nmx: a.test\nmax_age: 1").contains("STSv2"));
        assert!(err(b"version: STSv1\nmode: strict\nmx: a.test\nmax_age: 1").contains("`strict`"));
        assert!(err(b"version: STSv1\nmx: a.test\nmax_age: 1").contains("no mode"));
        assert!(err(b"version: STSv1\nmode: enforce\nmx: a.test").contains("no max_age"));
        for age in ["31557601", "99999999999", "-1", "1d", "", "+5"] {
            let t = format!("version: STSv1\nmode: enforce\nmx: a.test\nmax_age: {age}");
            assert!(err(t.as_bytes()).contains("max_age"), "{age}");
        }
        assert!(err(b"version: STSv1\nmode: enforce\nmax_age: 1").contains("no mx"));
        assert!(err(b"version: STSv1\nmode: testing\nmax_age: 1").contains("no mx"));
        assert!(err(b"version: STSv1\nmode: none\nmx: a test\nmax_age: 1").contains("mx"));
        assert!(
            err(b"version: STSv1\nmode: none\nmode: enforce\nmax_age: 1")
                .contains("more than one mode")
        );
        assert!(err(b"version: STSv1\nthis line has no colon\n").contains("line 2"));
        assert!(err(b"version: STSv1\nmode: en\xffforce\nmax_age: 1").contains("not UTF-8"));
        assert!(err(b"<html>\n<body>hello</body>").contains("not `key: value`"));
        assert!(err(&vec![b'a'; MAX_BODY + 1]).contains("more than"));
        let cased = err(b"version: STSv1\nMode: enforce\nmx: a.test\nmax_age: 1");
        assert!(cased.contains("case-sensitive"), "{cased}");
    }

    #[test]
    fn mx_matching() {
        let p = Policy {
            mode: Mode::Enforce,
            mx: strings(&["mail.example.com", "*.example.net"]),
            max_age: 1,
        };
        assert!(p.allows("mail.example.com"));
        assert!(p.allows("MAIL.Example.COM"));
        assert!(p.allows("mail.example.com."));
        assert!(!p.allows("mail2.example.com"));
        assert!(!p.allows("example.com"));
        assert!(p.allows("mx1.example.net"));
        assert!(p.allows("MX1.EXAMPLE.NET."));
        assert!(!p.allows("example.net"));
        assert!(!p.allows("a.b.example.net"));
        assert!(!p.allows(".example.net"));
        assert!(!p.allows("*.example.net"));
        assert!(!p.allows(""));
        assert!(!p.allows("."));
    }

    #[test]
    fn urls() {
        let u = parse_url("https://mta-sts.Example.com/.well-known/mta-sts.txt").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str(), u.ip),
            ("mta-sts.example.com", 443, "/.well-known/mta-sts.txt", None)
        );
        let u = parse_url("https://127.0.0.1:4443/p?q=1#frag").unwrap();
        assert_eq!(
            (u.authority().as_str(), u.path.as_str()),
            ("127.0.0.1:4443", "/p?q=1")
        );
        let u = parse_url("https://[::1]:8443").unwrap();
        assert_eq!(
            (u.authority().as_str(), u.path.as_str()),
            ("[::1]:8443", "/")
        );
        assert_eq!(parse_url("HTTPS://[::1]/").unwrap().port, 443);
        for bad in [
            "http://mta-sts.example.com/",
            "https://",
            "https://:443/",
            "https://a.test:0/",
            "https://a.test:65536/",
            "https://a.test:+1/",
            "https://u@a.test/",
            "https://[::1/",
            "https://[zz]/",
            "https://::1/",
            "https://a.test/a b",
            "https://a.test/\r\nX: y",
            "https://a.test/é",
            "ftp",
        ] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
    }

    // ---- a loopback HTTPS server ----

    struct Pki {
        ca: CertifiedIssuer<'static, KeyPair>,
        _dir: tempfile::TempDir,
        roots: super::super::tls::Roots,
    }

    fn make_pki() -> Pki {
        make_pki_named("ndr-doctor STS Test CA")
    }

    fn make_pki_named(cn: &str) -> Pki {
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.distinguished_name.push(DnType::CommonName, cn);
        p.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca = CertifiedIssuer::self_signed(p, KeyPair::generate().unwrap()).unwrap();
        let dir = tempfile::Builder::new()
            .prefix("ndr-doctor-sts-")
            .tempdir()
            .unwrap();
        let file = dir.path().join("ca.pem");
        std::fs::write(&file, ca.pem()).unwrap();
        let roots = super::super::tls::Roots::from_pem_file(&file).unwrap();
        Pki {
            ca,
            _dir: dir,
            roots,
        }
    }

    fn server_config(pki: &Pki, name: &str) -> rustls::ServerConfig {
        let key = KeyPair::generate().unwrap();
        let mut p = CertificateParams::new(vec![name.to_string()]).unwrap();
        p.distinguished_name.push(DnType::CommonName, name);
        let cert = p.signed_by(&key, &pki.ca).unwrap();
        let chain: Vec<CertificateDer<'static>> = vec![cert.der().clone(), pki.ca.der().clone()];
        rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            chain,
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )
        .unwrap()
    }

    /// One connection on 127.0.0.1, served in a thread that gives up after 20 s; the TLS
    /// stream (handshake done by the first read) is handed to `serve` once the request's
    /// head is read, with that head. Returns the port.
    fn https(
        config: rustls::ServerConfig,
        serve: impl FnOnce(&mut StreamOwned<rustls::ServerConnection, TcpStream>, String)
        + Send
        + 'static,
    ) -> u16 {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        l.set_nonblocking(true).unwrap();
        thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(20);
            while Instant::now() < deadline {
                match l.accept() {
                    Ok((s, _)) => {
                        let _ = s.set_nonblocking(false);
                        let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
                        let _ = s.set_write_timeout(Some(Duration::from_secs(10)));
                        let Ok(conn) = rustls::ServerConnection::new(Arc::new(config)) else {
                            return;
                        };
                        let mut tls = StreamOwned::new(conn, s);
                        let mut req = Vec::new();
                        let mut b = [0u8; 1];
                        while !req.ends_with(b"\r\n\r\n") && req.len() < 4096 {
                            match tls.read(&mut b) {
                                Ok(1) => req.push(b[0]),
                                _ => return,
                            }
                        }
                        serve(&mut tls, String::from_utf8_lossy(&req).into_owned());
                        return;
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        thread::sleep(Duration::from_millis(10))
                    }
                    Err(_) => return,
                }
            }
        });
        port
    }

    fn url(port: u16) -> String {
        format!("https://127.0.0.1:{port}/.well-known/mta-sts.txt")
    }

    fn timeout() -> Duration {
        Duration::from_secs(10)
    }

    #[test]
    fn fetches_a_policy() {
        let pki = make_pki();
        let (tx, rx) = std::sync::mpsc::channel();
        let port = https(server_config(&pki, HOST), move |tls, req| {
            let _ = tx.send(req);
            let _ = write!(
                tls,
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n",
                ENFORCE.len()
            );
            let _ = tls.write_all(ENFORCE);
            let _ = tls.flush();
            // no close_notify: the socket just closes
        });
        let (body, summary) = fetch(&url(port), HOST, &pki.roots, timeout()).unwrap();
        assert_eq!(body, ENFORCE);
        assert_eq!(
            summary,
            format!(
                "HTTP 200 from 127.0.0.1:{port}, {} bytes (certificate valid for {HOST})",
                ENFORCE.len()
            )
        );
        assert_eq!(parse_policy(&body).unwrap().mode, Mode::Enforce);
        let req = rx.recv_timeout(Duration::from_secs(10)).unwrap();
        assert!(
            req.starts_with(&format!(
                "GET /.well-known/mta-sts.txt HTTP/1.0\r\nHost: {HOST}\r\nConnection: close\r\n"
            )),
            "{req}"
        );
    }

    #[test]
    fn reads_until_close_notify_without_content_length() {
        let pki = make_pki();
        let port = https(server_config(&pki, HOST), move |tls, _| {
            let _ = tls.write_all(b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n");
            let _ = tls.write_all(ENFORCE);
            tls.conn.send_close_notify();
            let _ = tls.flush();
        });
        let (body, summary) = fetch(&url(port), HOST, &pki.roots, timeout()).unwrap();
        assert_eq!(body, ENFORCE);
        assert!(summary.contains("not text/plain"), "{summary}");

        // closed without close_notify and without Content-Length: perhaps cut short, not used
        let port = https(server_config(&pki, HOST), move |tls, _| {
            let _ = tls.write_all(b"HTTP/1.0 200 OK\r\n\r\n");
            let _ = tls.write_all(ENFORCE);
            let _ = tls.flush();
        });
        let e = other(fetch(&url(port), HOST, &pki.roots, timeout()));
        assert!(e.contains("may be cut short"), "{e}");
    }

    /// A fetch from `port` with a 1 s limit, which must end within 10 s: its error.
    fn fetch_for_a_second(port: u16, pki: &Pki) -> String {
        let start = Instant::now();
        let e = other(fetch(&url(port), HOST, &pki.roots, Duration::from_secs(1)));
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{:?}",
            start.elapsed()
        );
        e
    }

    fn other(r: Result<(Vec<u8>, String), FetchError>) -> String {
        match r {
            Err(FetchError::Other(s)) => s,
            r => panic!("{r:?}"),
        }
    }

    #[test]
    fn does_not_follow_redirects() {
        let pki = make_pki();
        let port = https(server_config(&pki, HOST), move |tls, _| {
            let _ = tls.write_all(
                b"HTTP/1.1 301 Moved Permanently\r\nLocation: https://elsewhere.test/\r\nContent-Length: 0\r\n\r\n",
            );
            let _ = tls.flush();
        });
        let e = other(fetch(&url(port), HOST, &pki.roots, timeout()));
        assert!(e.contains("HTTP 301"), "{e}");
        assert!(e.contains("https://elsewhere.test/"), "{e}");
        assert!(e.contains("not followed"), "{e}");
    }

    #[test]
    fn refuses_a_certificate_for_another_name() {
        let pki = make_pki();
        let port = https(server_config(&pki, "other.probe.test"), |_, _| {});
        match fetch(&url(port), HOST, &pki.roots, timeout()) {
            Err(FetchError::Certificate(s)) => {
                assert!(s.contains(&format!("not valid for {HOST}")), "{s}");
                assert!(s.contains("other.probe.test"), "{s}");
            }
            r => panic!("{r:?}"),
        }
        // and one from a CA that is not trusted
        let stranger = make_pki_named("Another CA");
        let port = https(server_config(&stranger, HOST), |_, _| {});
        match fetch(&url(port), HOST, &pki.roots, timeout()) {
            Err(FetchError::Certificate(s)) => assert!(s.contains("trusted root"), "{s}"),
            r => panic!("{r:?}"),
        }
    }

    #[test]
    fn refuses_large_bodies() {
        let pki = make_pki();
        let big = vec![b'a'; MAX_BODY + 1];
        let port = https(server_config(&pki, HOST), move |tls, _| {
            let _ = tls.write_all(b"HTTP/1.0 200 OK\r\n\r\n");
            let _ = tls.write_all(&big);
            let _ = tls.flush();
        });
        let e = other(fetch(&url(port), HOST, &pki.roots, timeout()));
        assert!(e.contains("more than"), "{e}");

        // announced by Content-Length
        let port = https(server_config(&pki, HOST), move |tls, _| {
            let _ = tls.write_all(b"HTTP/1.0 200 OK\r\nContent-Length: 1000000\r\n\r\n");
            let _ = tls.flush();
        });
        let e = other(fetch(&url(port), HOST, &pki.roots, timeout()));
        assert!(e.contains("1000000 bytes"), "{e}");

        // exactly the limit is fine
        let exact = vec![b'a'; MAX_BODY];
        let port = https(server_config(&pki, HOST), move |tls, _| {
            let _ = write!(tls, "HTTP/1.0 200 OK\r\nContent-Length: {MAX_BODY}\r\n\r\n");
            let _ = tls.write_all(&exact);
            let _ = tls.flush();
        });
        assert_eq!(
            fetch(&url(port), HOST, &pki.roots, timeout())
                .unwrap()
                .0
                .len(),
            MAX_BODY
        );
    }

    #[test]
    fn malformed_and_short_responses() {
        let pki = make_pki();
        let cases: [(&'static [u8], &str); 4] = [
            (b"SSH-2.0-OpenSSH\r\n\r\n", "not an HTTP response"),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nversion: STSv1\n",
                "after 15 of the 100 bytes",
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                "Transfer-Encoding",
            ),
            (
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
                "HTTP 404 Not Found",
            ),
        ];
        for (response, want) in cases {
            let port = https(server_config(&pki, HOST), move |tls, _| {
                let _ = tls.write_all(response);
                let _ = tls.flush();
            });
            let e = other(fetch(&url(port), HOST, &pki.roots, timeout()));
            assert!(e.contains(want), "{want}: {e}");
        }
    }

    #[test]
    fn gives_up_on_a_silent_server() {
        let pki = make_pki();
        // accepts, reads nothing, answers nothing, holds the connection 5 s
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        l.set_nonblocking(true).unwrap();
        thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(20);
            while Instant::now() < deadline {
                if let Ok((s, _)) = l.accept() {
                    thread::sleep(Duration::from_secs(5));
                    drop(s);
                    return;
                }
                thread::sleep(Duration::from_millis(10));
            }
        });
        let e = fetch_for_a_second(port, &pki);
        assert!(e.contains("no answer"), "{e}");
        assert!(e.contains("1s"), "{e}");

        // a server that answers the handshake and then never sends the response
        let port = https(server_config(&pki, HOST), |_, _| {
            thread::sleep(Duration::from_secs(5));
        });
        let e = fetch_for_a_second(port, &pki);
        assert!(e.contains("reading the response"), "{e}");
    }

    #[test]
    fn refuses_closed_ports_and_bad_names() {
        let pki = make_pki();
        // a port held on 127.0.0.1 (no parallel test can take it): nothing listens on it at
        // 127.0.0.2
        let held = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = held.local_addr().unwrap().port();
        let e = other(fetch(
            &format!("https://127.0.0.2:{port}/.well-known/mta-sts.txt"),
            HOST,
            &pki.roots,
            timeout(),
        ));
        assert!(e.contains("refused"), "{e}");
        let e = other(fetch(&url(port), "bad name!", &pki.roots, timeout()));
        assert!(e.contains("not a host name"), "{e}");
        let e = other(fetch("http://127.0.0.1/", HOST, &pki.roots, timeout()));
        assert!(e.contains("https://"), "{e}");
    }

    proptest::proptest! {
        // what a hostile DNS server or web server can send: the parsers never panic, and a
        // policy they accept keeps its limits
        #[test]
        fn parsers_never_panic(
            txt in proptest::collection::vec(".{0,80}", 0..4),
            body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600),
            host in ".{0,40}",
        ) {
            let _ = parse_txt(&txt);
            let mut with_fields = b"version: STSv1\nmode: enforce\nmax_age: 1\n".to_vec();
            with_fields.extend_from_slice(&body);
            for text in [&body[..], &with_fields[..]] {
                if let Ok(p) = parse_policy(text) {
                    proptest::prop_assert!(p.max_age <= MAX_AGE_LIMIT);
                    let _ = p.allows(&host);
                }
            }
        }
    }
}
