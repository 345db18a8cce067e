//! Symptom phrases: the six connector failures as every MTA words them, and the test for a
//! mail context (a symptom counts only in one).

use crate::re::{Line, LineSet};
use aho_corasick::{AhoCorasick, MatchKind};
use std::sync::{LazyLock, OnceLock};

/// Category slugs of the six EOP connector errors (the catalog's seed entries carry them).
pub const DNS: &str = "dns-query-failed";
pub const TIMEOUT: &str = "connection-timed-out";
pub const REFUSED: &str = "connection-refused";
pub const CANNOT_CONNECT: &str = "cannot-connect";
pub const CLOSED: &str = "connection-closed";
pub const CERTIFICATE: &str = "certificate-invalid";

/// In priority order: the first that matches names the symptom of a line.
const SYMPTOMS: &[(&str, &str)] = &[
    (
        CERTIFICATE,
        r"certificate verify failed|certificate not verified|certificate (?:has )?expired|expired certificate|certificate validation failed|subject ?mismatch|certificate name mismatch|hostname mismatch|does not match (?:the )?certificate|(?:self[- ]signed|untrusted|invalid|revoked) (?:server )?certificate|certificate (?:is )?(?:not (?:yet )?valid|invalid|revoked|untrusted)|unable to get local issuer certificate|untrusted ?root|certificate chain",
    ),
    (
        CANNOT_CONNECT,
        r"starttls is required|must issue a starttls|tls (?:is )?required|requires (?:tls|starttls|encryption)|encryption required|tls required but not (?:offered|available)|(?:does not|doesn't) support (?:starttls|tls)|starttls (?:is )?not (?:supported|offered|available)|tls is not available",
    ),
    (
        DNS,
        r"host or domain name not found|name service error|host not found|dns query failed|nonexistentdomain|nonexistent domain|nxdomain|no mx (?:record|host)|unrouteable (?:address|mail domain)|(?:mail )?domain (?:name )?not found|no such domain|temporary failure in name resolution|name or service not known|errordnsqueryfailed|dns (?:lookup|resolution) failed",
    ),
    (
        REFUSED,
        r"connection refused|actively refused|(?:socket|winsock) error(?: code)?:? 10061|error 10061|econnrefused|defer \(111\)",
    ),
    (
        CLOSED,
        r"lost connection|connection reset|connection dropped|connection (?:was )?closed (?:abruptly|unexpectedly|by (?:the )?(?:remote|peer|foreign|server))|(?:socket|winsock) error(?: code)?:? 10054|error 10054|econnreset|broken pipe|unexpected eof|timed out while (?:receiving|sending|performing|waiting)|remote (?:server|host) closed (?:the )?connection|connection closed abruptly",
    ),
    (
        TIMEOUT,
        r"connection timed out|connect(?:ion)? timeout|timed out while connecting|(?:socket|winsock) error(?: code)?:? 10060|error 10060|etimedout|sockettimedout|no route to host|network is unreachable|defer \(110\)|no answer from host",
    ),
    (
        CANNOT_CONNECT,
        r"service not available|service not active|no smtp service|cannot establish session|cannot connect to remote server|unable to connect|failed to connect",
    ),
];

/// Each symptom's pattern, compiled when first needed (one at a time, so that start-up can
/// compile them on several threads).
static EACH: [OnceLock<Line>; SYMPTOMS.len()] = [const { OnceLock::new() }; SYMPTOMS.len()];

/// All symptom patterns as one automaton: which of them match, in one pass over the line.
static ANY: LazyLock<LineSet> = LazyLock::new(|| {
    let patterns: Vec<String> = SYMPTOMS.iter().map(|(_, p)| format!("(?i){p}")).collect();
    let patterns: Vec<&str> = patterns.iter().map(String::as_str).collect();
    crate::re::line_set(&patterns, true)
});

fn each(i: usize) -> &'static Line {
    EACH[i].get_or_init(|| crate::re::line(&format!("(?i){}", SYMPTOMS[i].1)))
}

/// Fragments, one of which every symptom phrase above contains as it is usually written
/// (lower case or Capitalised: the first letter is left off so one fragment serves both; the
/// upper-case forms logs really use, like ECONNREFUSED, are listed too). The whole-buffer
/// search looks for these case-sensitively and only reads the lines they are on. At most
/// 64 fragments, so that the search runs on SIMD (Teddy); a test keeps this list and the
/// patterns in step.
pub const FRAGMENTS: &[&str] = &[
    "efused",
    "EFUSED",
    "onnection reset",
    "onnreset",
    "ONNRESET",
    "onnection dropped",
    "onnection closed",
    "onnection was closed",
    "losed the connection",
    "losed connection",
    "ost connection",
    "imed out",
    "imedout",
    "IMEDOUT",
    "imeout",
    "1006",
    "10054",
    "ertificate",
    "ismatch",
    "ntrusted",
    "TARTTLS",
    "tarttls",
    "LS is required",
    "ls is required",
    "LS required",
    "ls required",
    "equires TLS",
    "equires tls",
    "upport TLS",
    "LS is not available",
    "ncryption required",
    "equires encryption",
    "ot found",
    "ame service",
    "uery failed",
    "onexistent",
    "onExistent",
    "XDOMAIN",
    "xdomain",
    "o MX",
    "o mx",
    "nrouteable",
    "o such domain",
    "ame resolution",
    "ot known",
    "nsQueryFailed",
    "nsqueryfailed",
    "ookup failed",
    "esolution failed",
    "efer (11",
    "roken pipe",
    "nexpected EOF",
    "nexpected eof",
    "o route to host",
    "nreachable",
    "o answer from host",
    "ot available",
    "ot active",
    "MTP service",
    "mtp service",
    "stablish session",
    "annot connect",
    "nable to connect",
    "ailed to connect",
];

/// The fragment search over a buffer: an Aho-Corasick automaton, which runs on SIMD
/// (Teddy) where the CPU has it.
pub fn keywords() -> &'static AhoCorasick {
    static AC: LazyLock<AhoCorasick> = LazyLock::new(|| {
        AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostFirst)
            .build(FRAGMENTS)
            .expect("static fragments") // ok: constant literals, built by the tests
    });
    &AC
}

/// The symptom on a line: its category and the phrase as written.
pub fn find(line: &[u8]) -> Option<(&'static str, String)> {
    // in priority order; most lines hold none, and the fragment search rules those out cheaply
    keywords().find(line)?;
    let i = ANY.lowest(line)?;
    each(i)
        .find(line)
        .map(|m| (SYMPTOMS[i].0, crate::sanitize::decode(m.as_bytes())))
}

/// Words that place a line in a mail context: an MTA's log line, a DSN field, an SMTP
/// reply or command, port 25, an Exchange queue error.
static MAIL: LazyLock<Line> = LazyLock::new(|| {
    crate::re::line(concat!(
        // `smtp` and `mx` as words, not as a host name's first label (`mx.example.com`)
        r"(?i)postfix/|sendmail|\bexim|\bqmail|\bsmtpd?(?:$|[^\w.]|\.(?:$|\W))|\bsmtp[;:\]\[]|",
        r"\besmtp\b|remote_smtp|",
        r"\b(?:dsn|relay|stat|mailer|ctladdr)=|\bstatus=(?:deferred|bounced|sent|expired)|",
        // port 25 after a host, an IPv4 address or `[ip]`; not the `:25` of a time of day
        r"\bport 25\b|(?:\]|\.\d{1,3}|[a-z]):25\b|",
        r"\b(?:mail from|rcpt to|ehlo|helo|starttls|data command)\b|",
        r"mail server|mail host|mail exchanger|\bmx(?:$|[^\w.]|\.(?:$|\W))|remote server|lastattempted|",
        r"said:|diagnostic-code|final-recipient|remote-mta|reporting-mta|",
        r"\bmailbox\b|\bmessage expired\b|queue\.expired|\bLED=|",
        r"\s(?:==|\*\*)\s+\S+@|\b[RT]=\S*(?:smtp|lookup|dns)|",
        // Exim refusing an incoming client
        r"\brejected (?:RCPT|MAIL|after DATA) |sender verify fail|",
        // Exim: a message id and a delivery field (`1rXyZa-000AbC-1d H=host [ip] ...`)
        r"\b[0-9A-Za-z]{6}-[0-9A-Za-z]{6,11}-[0-9A-Za-z]{2,4} (?:H=|==|\*\*|=>|->|\*>|<=)"
    ))
});

/// A basic SMTP reply code followed by an enhanced code, `<`, or a word (checked by
/// `is_reply_word`).
static REPLY: LazyLock<Line> = LazyLock::new(|| {
    crate::re::line(r"(?:^|[\s'(:])(?:421|45[0-5]|5[35][0-5])[ -](?:[245]\.\d|<|([A-Za-z]+))")
});

/// Units of measure: `450 MB`, `421 ms` are quantities, not replies.
const UNITS: &[&str] = &[
    "b", "kb", "mb", "gb", "tb", "pb", "kib", "mib", "gib", "tib", "k", "m", "g", "byte", "bytes",
    "bit", "bits", "kbit", "mbit", "gbit", "hz", "khz", "mhz", "ghz", "w", "kw", "v", "ms", "us",
    "ns", "s", "sec", "secs", "second", "seconds", "min", "mins", "minute", "minutes", "h", "hr",
    "hrs", "hour", "hours", "px", "dpi", "rpm",
];

/// Whether the word after a basic reply code reads as a reply's text: capitalised, as
/// servers write them (`550 User unknown`, `421 Service not available`), and no unit.
/// A lower-case word (`553 files`, `550 skipped`) is prose about a number.
fn is_reply_word(w: &[u8]) -> bool {
    w.first().is_some_and(u8::is_ascii_uppercase)
        && !UNITS.iter().any(|u| w.eq_ignore_ascii_case(u.as_bytes()))
}

/// Whether a line is evidently about mail (so a symptom or bare code on it counts).
pub fn is_mail_line(line: &[u8]) -> bool {
    MAIL.is_match(line)
        || REPLY
            .captures_iter(line)
            .any(|c| c.get(1).is_none_or(|w| is_reply_word(w.as_bytes())))
}

/// Compiles this module's patterns, one step each (see `pipeline`'s warm-up).
pub(crate) const WARM: &[fn()] = &[
    || {
        keywords();
    },
    || {
        LazyLock::force(&ANY);
    },
    || {
        each(0);
    },
    || {
        each(1);
    },
    || {
        each(2);
    },
    || {
        each(3);
    },
    || {
        each(4);
    },
    || {
        each(5);
    },
    || {
        each(6);
    },
    || {
        LazyLock::force(&MAIL);
    },
    || {
        LazyLock::force(&REPLY);
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    fn cat(s: &str) -> Option<&'static str> {
        find(s.as_bytes()).map(|(c, _)| c)
    }

    #[test]
    fn six_failures_in_other_words() {
        assert_eq!(
            cat("stat=Deferred: Connection refused by [127.0.0.1]"),
            Some(REFUSED)
        );
        assert_eq!(cat("[Message=Socket error code 10061]"), Some(REFUSED));
        assert_eq!(
            cat("connect to mx.example.org[203.0.113.10]:25: Connection timed out"),
            Some(TIMEOUT)
        );
        assert_eq!(
            cat("Host or domain name not found. Name service error for name=example.com type=MX"),
            Some(DNS)
        );
        assert_eq!(
            cat("lost connection with mx.example.com[192.0.2.1] while sending RCPT TO"),
            Some(CLOSED)
        );
        assert_eq!(cat("Connection reset by peer"), Some(CLOSED));
        assert_eq!(
            cat("TLS handshake: certificate verify failed"),
            Some(CERTIFICATE)
        );
        assert_eq!(cat("Server certificate not verified"), Some(CERTIFICATE));
        assert_eq!(
            cat("421 Service not available, closing transmission channel"),
            Some(CANNOT_CONNECT)
        );
        assert_eq!(
            cat("530 Must issue a STARTTLS command first"),
            Some(CANNOT_CONNECT)
        );
        assert_eq!(cat("User unknown"), None);
    }

    /// Spellings of every symptom alternative (the test below checks that each top-level
    /// alternative of each pattern is matched by one of them).
    const SAMPLES: &[&str] = &[
        "certificate verify failed",
        "Server certificate not verified",
        "certificate has expired",
        "expired certificate",
        "certificate validation failed",
        "SubjectMismatch",
        "certificate name mismatch",
        "hostname mismatch",
        "name does not match the certificate",
        "self-signed certificate",
        "certificate is not yet valid",
        "unable to get local issuer certificate",
        "UntrustedRoot",
        "certificate chain too long",
        "STARTTLS is required to send mail",
        "Must issue a STARTTLS command first",
        "TLS is required",
        "requires TLS",
        "encryption required for",
        "TLS required but not offered",
        "does not support STARTTLS",
        "STARTTLS not supported",
        "TLS is not available",
        "Host or domain name not found",
        "Name service error",
        "Host not found",
        "DNS query failed",
        "SMTPSEND.DNS.NonExistentDomain",
        "nonexistent domain",
        "NXDOMAIN",
        "no MX record",
        "Unrouteable address",
        "domain not found",
        "no such domain",
        "Temporary failure in name resolution",
        "Name or service not known",
        "ErrorDnsQueryFailed",
        "DNS lookup failed",
        "Connection refused",
        "Socket error code 10061",
        "No connection could be made because the target machine actively refused it",
        "error 10061",
        "ECONNREFUSED",
        "defer (111)",
        "lost connection with",
        "Connection reset by peer",
        "connection dropped",
        "connection closed by remote",
        "Socket error code 10054",
        "error 10054",
        "ECONNRESET",
        "Broken pipe",
        "unexpected EOF",
        "timed out while receiving the initial server greeting",
        "remote server closed the connection",
        "connection closed abruptly",
        "Connection timed out",
        "connect timeout",
        "timed out while connecting",
        "Winsock error code: 10060",
        "error 10060",
        "ETIMEDOUT",
        "SocketTimedout",
        "No route to host",
        "Network is unreachable",
        "defer (110)",
        "no answer from host",
        "Service not available",
        "service not active",
        "No SMTP service here",
        "Cannot establish session",
        "Cannot connect to remote server",
        "Unable to connect",
        "Failed to connect",
    ];

    /// Splits a pattern at its top-level `|`.
    fn alternatives(p: &str) -> Vec<&str> {
        let (mut depth, mut start, mut out) = (0i32, 0usize, Vec::new());
        for (i, c) in p.char_indices() {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                '|' if depth == 0 => {
                    out.push(&p[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
        out.push(&p[start..]);
        out
    }

    #[test]
    fn every_symptom_phrase_has_a_keyword() {
        assert!(
            FRAGMENTS.len() <= 64,
            "more than 64 fragments leave the SIMD search"
        );
        for (_, pattern) in SYMPTOMS {
            for alt in alternatives(pattern) {
                let re = crate::re::bytes(&format!("(?i){alt}"));
                assert!(
                    SAMPLES.iter().any(|s| re.is_match(s.as_bytes())),
                    "no sample for {alt:?}"
                );
            }
        }
        let capital = |t: &str| {
            let mut c = t.chars();
            c.next()
                .map_or(String::new(), |f| f.to_uppercase().chain(c).collect())
        };
        for s in SAMPLES {
            assert!(find(s.as_bytes()).is_some(), "{s} is not a symptom");
            for v in [s.to_lowercase(), capital(&s.to_lowercase()), s.to_string()] {
                assert!(
                    keywords().find(v.as_bytes()).is_some(),
                    "no keyword finds {v:?}"
                );
            }
        }
    }

    #[test]
    fn mail_context() {
        assert!(is_mail_line(
            b"Mar  4 12:33:10 mx1 postfix/smtp[21877]: 4QbZ: to=<a@example.com>"
        ));
        assert!(is_mail_line(
            b"host sendmail[4306]: jA9J1UvC004306: to=root, dsn=4.0.0"
        ));
        assert!(is_mail_line(b"2026-03-04 12:33:10 1rXyZa-000AbC-1d == dana@example.com R=dnslookup T=remote_smtp defer (111): Connection refused"));
        assert!(is_mail_line(
            b"connect to mail.example.com[192.0.2.25]:25: Connection refused"
        ));
        assert!(is_mail_line(b"421 Service not available"));
        assert!(is_mail_line(
            b"2026-03-04 12:33:10 1rXyZa-000AbC-1d H=mail.example.com [192.0.2.25] Connection refused"
        ));
        assert!(is_mail_line(
            b"2026-03-04 12:33:10 1vAbCd-00000001Xy-2Kqz H=mx.example.net [198.51.100.7]: Remote host closed connection in response to initial connection"
        ));
        assert!(!is_mail_line(
            b"2026-03-04 12:33:10 build 1a2b3c-4d5e6f7-8a9b done: Connection refused"
        ));
        assert!(!is_mail_line(
            b"sshd[811]: error: connect to host 192.0.2.9 port 22: Connection refused"
        ));
        assert!(!is_mail_line(
            b"nginx: connect() failed (111: Connection refused) while connecting to upstream"
        ));
        assert!(!is_mail_line(
            b"\"GET /x HTTP/1.1\" 503 Service Unavailable"
        ));
        // a time of day is no port, a host name's first label no keyword, a number before a
        // unit or a lower-case word no reply
        assert!(!is_mail_line(b"Mar  4 06:25:01 host kernel: x"));
        assert!(!is_mail_line(b"Mar  4 06:33:25 host app: x"));
        assert!(is_mail_line(b"connect to 192.0.2.25:25: x"));
        assert!(is_mail_line(b"connect to mail.example.com:25: x"));
        assert!(!is_mail_line(
            b"ssh: connect to host mx.example.com port 22: Connection refused"
        ));
        assert!(!is_mail_line(
            b"Could not resolve hostname smtp.example.com"
        ));
        assert!(is_mail_line(b"no MX record for example.com"));
        assert!(is_mail_line(b"SMTP error from remote server"));
        assert!(!is_mail_line(b"Connection refused, retrying in 450 ms"));
        assert!(!is_mail_line(
            b"upload of 553 files took 421 seconds; 550 skipped"
        ));
        assert!(!is_mail_line(b"cache 450 MB, 550 MiB"));
        assert!(is_mail_line(b"550 User unknown"));
        assert!(is_mail_line(b"(421 Service not available)"));
    }
}
