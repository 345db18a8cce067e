//! Context fields on a line: recipient, remote host and IP, timestamp, message or queue id,
//! and the MTA's own verdict (deferred / bounced / expired).

use crate::re::{Groups, Line, LineSet};
use crate::sanitize::decode;
use std::sync::LazyLock;

// every pattern here runs on one line
fn re(p: &str) -> Line {
    crate::re::line(p)
}

/// A pattern with literals (lower case), one of which any line it matches contains: the
/// regex runs only on lines that hold one, which keeps the per-line cost low.
struct Guarded {
    needles: Vec<memchr::memmem::Finder<'static>>,
    /// Every match starts where a needle does: the regex is tried anchored at each of them
    /// rather than run over the whole line (a prefilter made to measure).
    anchored: bool,
    re: Line,
}

/// A guard that the match contains somewhere (none with `""`).
fn g(needle: &'static str, pattern: &str) -> Guarded {
    if needle.is_empty() {
        any(&[], pattern)
    } else {
        any(&[needle], pattern)
    }
}

/// Guards one of which the match contains somewhere.
fn any(needles: &[&'static str], pattern: &str) -> Guarded {
    Guarded {
        anchored: false,
        ..at(needles, pattern)
    }
}

/// Guards that every match starts with (after a `\b`), one of them each time.
fn at(needles: &[&'static str], pattern: &str) -> Guarded {
    Guarded {
        needles: needles
            .iter()
            .map(|n| memchr::memmem::Finder::new(n.as_bytes()))
            .collect(),
        anchored: true,
        re: re(pattern),
    }
}

/// Needle places tried one by one before the rest of the line is searched in one pass (a
/// line holding a needle thousands of times must not cost thousands of searches).
const ANCHORED_TRIES: usize = 4;

impl Guarded {
    fn captures<'l>(&self, line: &'l [u8], lower: &[u8]) -> Option<Groups<'l>> {
        if self.needles.is_empty() {
            return self.re.captures(line);
        }
        let next = |from: usize| {
            let rest = lower.get(from..)?;
            self.needles
                .iter()
                .filter_map(|n| n.find(rest))
                .min()
                .map(|i| from + i)
        };
        if !self.anchored {
            next(0)?;
            return self.re.captures(line);
        }
        let mut from = 0;
        for _ in 0..ANCHORED_TRIES {
            let place = next(from)?;
            if let Some(c) = self.re.captures_at_anchored(line, place) {
                return Some(c);
            }
            from = place + 1;
        }
        self.re.captures_from(line, next(from)?)
    }
}

const IP: &str = r"(?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f]{0,4}:[0-9A-Fa-f:.]*[0-9A-Fa-f]";
const DOMAIN: &str = r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?";
const ADDR: &str = r"[^\s<>@,;:()\[\]]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?";

static RECIPIENT_KEYED: LazyLock<Vec<Guarded>> = LazyLock::new(|| {
    vec![
        at(&["to="], &format!(r"(?i)\bto=<?({ADDR})")),
        // Postfix's brackets say where the address ends, whatever its local part holds (an
        // escape sequence, a bracket): taken whole rather than from its last clean piece
        at(&["to=<"], &format!(r"(?i)\bto=<([^<>\s@]+@{DOMAIN})>")),
        at(
            &["final-recipient"],
            &format!(r"(?i)final-recipient:\s*[^;\s]*;\s*<?({ADDR})"),
        ),
        at(
            &["original-recipient"],
            &format!(r"(?i)original-recipient:\s*[^;\s]*;\s*<?({ADDR})"),
        ),
        at(&["rcpt to"], &format!(r"(?i)rcpt to:\s*<({ADDR})>")),
        any(
            &["==", "**", "=>", "->"],
            &format!(r"\s(?:==|\*\*|=>|->)\s+<?({ADDR})"),
        ),
        at(
            &["recipient_address"],
            &format!(r"(?i)recipient_address[=:]\s*({ADDR})"),
        ),
        g(">:", &format!(r"^\s*<({ADDR})>:")),
        // Sendmail's local recipients: `to=root,` (a local name, no domain)
        at(&["to="], r"\bto=<?([A-Za-z0-9._+-]{1,64})>?(?:,|\s|$)"),
    ]
});
static ANY_ADDR: LazyLock<Line> = LazyLock::new(|| re(&format!(r"<?({ADDR})>?")));
/// A line that is only a recipient: `dana@example.com`, `Dana Ito (dana@example.com)`, `<dana@example.com>`.
static ADDR_LINE: LazyLock<Line> = LazyLock::new(|| {
    re(&format!(
        r"^\s*(?:[^<>()@]{{0,80}}[(<])?\s*({ADDR})\s*[)>]?\s*(?:\.\.\.|:)?\s*$"
    ))
});

static HOST_IP: LazyLock<Vec<Guarded>> = LazyLock::new(|| {
    vec![
        // Exchange Online bracketed fields
        at(
            &["[lastattemptedservername="],
            r"\[LastAttemptedServerName=([^\]\s]+)\]()",
        ),
        at(&["{fqdn="], r"\{FQDN=([^}\s]+)\}()"),
        at(
            &["outboundproxytargethostname"],
            r"OutboundProxyTargetHostName: ([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)()",
        ),
        // NDR history: `Server at host (ip) returned`
        at(
            &["server at"],
            &format!(r"(?i)server at ([A-Za-z0-9.-]+) \(({IP})\)"),
        ),
        at(
            &["server at"],
            r"(?i)server at ([A-Za-z0-9.-]+)()\s+returned",
        ),
        at(
            &["receiving server"],
            &format!(r"(?i)receiving server: ([A-Za-z0-9.-]+)(?: \(({IP})\))?"),
        ),
        // Postfix
        at(&["relay="], &format!(r"\brelay=([A-Za-z0-9.-]+)\[({IP})\]")),
        at(
            &["connect to"],
            &format!(r"(?i)connect to ([A-Za-z0-9.-]+)\[({IP})\]"),
        ),
        at(
            &["host "],
            &format!(r"(?i)\bhost ([A-Za-z0-9.-]+)\[({IP})\](?::\d+)? (?:said|refused)"),
        ),
        at(
            &["connection with"],
            &format!(r"(?i)connection with ([A-Za-z0-9.-]+)\[({IP})\]"),
        ),
        at(
            &["conversation with"],
            &format!(r"(?i)conversation with ([A-Za-z0-9.-]+)\[({IP})\]"),
        ),
        // Sendmail
        at(
            &["relay="],
            &format!(r"\brelay=([A-Za-z0-9.-]+?)\.? \[({IP})\]"),
        ),
        at(&["relay=["], &format!(r"\brelay=\[({IP})\]()")),
        at(
            &["refused by", "timed out with", "reset by"],
            &format!(r"(?i)(?:refused by|timed out with|reset by) \[({IP})\]()"),
        ),
        at(
            &["refused by", "timed out with", "reset by"],
            r"(?i)(?:refused by|timed out with|reset by) ([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)\.?()",
        ),
        // `relay=mx.example.net.,` when no address was reached (a dotted name: not `local`)
        at(
            &["relay="],
            r"\brelay=([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)\.?(?:,|\s|$)()",
        ),
        // Exim
        at(&["h="], &format!(r"\bH=([A-Za-z0-9.-]+) \[({IP})\]")),
        at(
            &["host "],
            &format!(r"(?i)\bhost ([A-Za-z0-9.-]+) \[({IP})\]"),
        ),
        // DSN
        at(
            &["remote-mta"],
            r"(?i)remote-mta:\s*[^;\s]*;\s*([A-Za-z0-9.-]+)()",
        ),
        // Postfix smtpd: the incoming client a refusal was given to
        at(
            &[
                "rcpt from ",
                "mail from ",
                "data from ",
                "end-of-message from ",
                "connect from ",
                "ehlo from ",
                "helo from ",
            ],
            &format!(
                r"(?i)(?:rcpt|mail|data|end-of-message|connect|ehlo|helo) from ([A-Za-z0-9.-]+)\[({IP})\]"
            ),
        ),
    ]
});
static IP_ONLY: LazyLock<Vec<Guarded>> = LazyLock::new(|| {
    vec![
        at(
            &["[lastattemptedip="],
            r"\[LastAttemptedIP=\[?([0-9A-Fa-f.:]+?)\]?(?::\d+)?\]",
        ),
        at(&["{ip="], r"\{IP=([0-9A-Fa-f.:]+)\}"),
        at(
            &["outboundproxytargetip"],
            r"OutboundProxyTargetIP: ([0-9A-Fa-f.:]+[0-9A-Fa-f])",
        ),
        at(
            &["last endpoint attempted"],
            r"(?i)last endpoint attempted was ([0-9.]+)(?::\d+)?",
        ),
        at(
            &["remote-mta"],
            r"(?i)remote-mta:\s*[^;\s]*;\s*\[([0-9A-Fa-f.:]+)\]",
        ),
    ]
});

static TIMESTAMP: LazyLock<Vec<Guarded>> = LazyLock::new(|| {
    vec![
        // RFC 3339 / ISO 8601 (journal, Exim, Exchange logs and CSV exports; RFC 5424 syslog
        // after its `<PRI>VERSION`)
        g(
            "",
            r"^\s*(?:<\d{1,3}>\d{0,2} ?)?(\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?)",
        ),
        // BSD syslog, with or without its `<PRI>`
        g(
            "",
            r"^\s*(?:<\d{1,3}>)?((?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) {1,2}\d{1,2} \d\d:\d\d:\d\d)",
        ),
        // Exchange NDR history lines and LRT fields: 3/5/2026 9:14:02 AM
        g("/", r"(\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d\d:\d\d(?: [AP]M)?)"),
        at(
            &["last-attempt-date", "arrival-date"],
            r"(?i)(?:last-attempt-date|arrival-date):\s*(.+?)\s*$",
        ),
    ]
});

static QUEUE_ID: LazyLock<Vec<Guarded>> = LazyLock::new(|| {
    vec![
        // Postfix: `postfix/smtp[123]: 4QbZ2x1Hj7z9vN:` (short hex or long base-52 ids)
        at(
            &["postfix"],
            r"postfix(?:/[\w-]+)+\[\d+\]: ([0-9A-Za-z]{6,20}):",
        ),
        // Sendmail: `sendmail[4306]: jA9J1UvC004306:`
        at(&["sendmail["], r"sendmail\[\d+\]: ([0-9A-Za-z]{8,20}):"),
        // RFC 5424 syslog: `postfix/smtp 21877 - - 4QbZ2x1Hj7z9vN:` (APP-NAME PROCID MSGID SD)
        at(
            &["postfix", "sendmail", "sm-mta"],
            r"\b(?:postfix(?:/[\w-]+)*|sendmail|sm-mta) \d+ \S+ (?:-|(?:\[[^\]]*\])+) ([0-9A-Za-z]{6,20}):",
        ),
        // Exim: `2026-03-04 12:33:10 1rXyZa-000AbC-1d`
        g(
            "",
            r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?(?: [+-]\d{4})? (?:\[\d+\] )?([0-9A-Za-z]{6}-[0-9A-Za-z]{6,11}-[0-9A-Za-z]{2,4})\b",
        ),
        at(&["message-id"], r"(?i)\bmessage-id[=:]\s*(<[^>\s]+>)"),
    ]
});

/// The MTA's own word on the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Deferred,
    Bounced,
    Expired,
}

/// The three verdicts' phrases, in this order: the leftmost phrase on a line decides.
static VERDICT: LazyLock<LineSet> = LazyLock::new(|| {
    crate::re::line_set(
        &[
            r"(?i)status=deferred|stat=deferred|\sdefer \(|\s==\s|will keep trying|delivery is delayed|action:\s*delayed",
            r"(?i)status=bounced|\s\*\*\s|stat=(?:user unknown|service unavailable)|action:\s*failed",
            r"(?i)status=expired|message expired|queue\.expired|retry time(?:out)? (?:not reached|exceeded)",
        ],
        false,
    )
});

pub fn verdict(line: &[u8]) -> Option<Verdict> {
    Some(match VERDICT.leftmost(line)? {
        0 => Verdict::Deferred,
        1 => Verdict::Bounced,
        _ => Verdict::Expired,
    })
}

#[derive(Debug, Default, Clone, PartialEq)]
pub struct LineContext {
    pub recipient: Option<String>,
    pub remote_host: Option<String>,
    pub remote_ip: Option<String>,
    pub timestamp: Option<String>,
    pub message_id: Option<String>,
}

fn first_capture(res: &[Guarded], line: &[u8], lower: &[u8]) -> Option<String> {
    res.iter().find_map(|r| {
        r.captures(line, lower)
            .and_then(|c| c.get(1))
            .map(|m| decode(m.as_bytes()))
    })
}

fn keyed_recipient_in(line: &[u8], lower: &[u8]) -> Option<String> {
    if memchr::memchr(b'@', line).is_none() {
        // only Sendmail's local `to=root` names a recipient without a domain
        let local = RECIPIENT_KEYED.last()?;
        return local
            .captures(line, lower)
            .and_then(|c| c.get(1))
            .map(|m| decode(m.as_bytes()));
    }
    first_capture(&RECIPIENT_KEYED, line, lower)
}

/// The recipient named on a line by a field (`to=<...>`, `Final-Recipient:`, Exim's `== addr`).
pub fn keyed_recipient(line: &[u8]) -> Option<String> {
    memchr::memchr(b'@', line)?;
    keyed_recipient_in(line, &line.to_ascii_lowercase())
}

/// Header fields of a message (the returned original's, quoted in a bounce's text): their
/// words (`spf=fail`, `by mx ... with SMTP`) are never the failure, and their addresses
/// (`Message-Id: <...>`, `From:`) never the failed recipient.
static HEADER: LazyLock<Line> = LazyLock::new(|| {
    crate::re::line(
        r"(?i)^(?:received|from|sender|reply-to|authentication-results|arc-[a-z-]+|dkim-signature|domainkey-signature|received-spf|return-path|x-[a-z0-9-]+|list-[a-z-]+|message-id|in-reply-to|references|mime-version|content-[a-z-]+|thread-[a-z-]+):",
    )
});

/// Whether a line is a message header field that names no failure and no recipient.
pub fn is_header(line: &[u8]) -> bool {
    matches!(line.first(), Some(b'A'..=b'Z' | b'a'..=b'z')) && HEADER.is_match(line)
}

/// Lines where our server refused an incoming client's message: Postfix smtpd and
/// postscreen rejects, Exim's `rejected RCPT` / `H=... rejected` / `sender verify fail`,
/// Sendmail's `ruleset=check_*` and `reject=`.
static INBOUND: LazyLock<Line> = LazyLock::new(|| {
    re(concat!(
        r"(?i)(?:smtpd|cleanup)\[\d+\]: (?:\S+: )?(?:NOQUEUE: )?(?:milter-)?reject(?:ed)?:|",
        r"\brejected (?:RCPT|MAIL|EHLO|HELO|after DATA|connection)\b|\bH=\S+ (?:\([^)]*\) )?\[[^\]]+\][^\n]{0,200}\brejected\b|sender verify (?:fail|defer)|",
        r"\bruleset=check_|\breject=\d"
    ))
});

/// The MTA that wrote a log line, by its syslog tag or, for Exim, its message id and marker.
static MTA: LazyLock<Line> = LazyLock::new(|| {
    re(concat!(
        r"\b(?:postfix(?:/[\w-]+)+\[\d+\]: ()|sendmail\[\d+\]: ()|qmail[\w-]*\[\d+\]: ()|",
        r"exim\d*\[\d+\]: ()|[0-9A-Za-z]{6}-[0-9A-Za-z]{6,11}-[0-9A-Za-z]{2,4} (?:\*\*|==|=>|->|<=|H=)())"
    ))
});

/// The MTA that wrote a log line, when its form tells.
pub fn mta(line: &[u8]) -> Option<&'static str> {
    let c = MTA.captures(line)?;
    ["postfix", "sendmail", "qmail", "exim", "exim"]
        .iter()
        .enumerate()
        .find_map(|(i, name)| c.get(i + 1).map(|_| *name))
}

/// Whose delivery a log line is about.
pub fn direction(line: &[u8]) -> super::finding::Direction {
    if INBOUND.is_match(line) {
        super::finding::Direction::Inbound
    } else {
        super::finding::Direction::Outbound
    }
}

/// A line that holds nothing but a recipient (Exchange NDRs list them so).
pub fn address_line(line: &[u8]) -> Option<String> {
    ADDR_LINE
        .captures(line)
        .and_then(|c| c.get(1))
        .map(|m| decode(m.as_bytes()))
}

/// Remote host and IP named on a line.
pub fn remote(line: &[u8]) -> (Option<String>, Option<String>) {
    remote_in(line, &line.to_ascii_lowercase())
}

fn remote_in(line: &[u8], lower: &[u8]) -> (Option<String>, Option<String>) {
    let mut host = None;
    let mut ip = None;
    for r in HOST_IP.iter() {
        if let Some(c) = r.captures(line, lower) {
            let h = c
                .get(1)
                .map(|m| decode(m.as_bytes()))
                .filter(|s| !s.is_empty());
            let i = c
                .get(2)
                .map(|m| decode(m.as_bytes()))
                .filter(|s| !s.is_empty());
            // `relay=[127.0.0.1]` and `refused by [ip]` give an IP in the host slot
            let (h, i) = match h {
                Some(h) if looks_like_ip(&h) && i.is_none() => (None, Some(h)),
                other => (other, i),
            };
            if host.is_none() && h.as_deref().is_some_and(|h| h != "none") {
                host = h;
            }
            if ip.is_none() {
                ip = i;
            }
            if host.is_some() && ip.is_some() {
                break;
            }
        }
    }
    if ip.is_none() {
        ip = first_capture(&IP_ONLY, line, lower);
    }
    if ip.is_none() && host.as_deref().is_some_and(looks_like_ip) {
        ip = host.take();
    }
    (host.map(|h| h.trim_end_matches('.').to_string()), ip)
}

fn looks_like_ip(s: &str) -> bool {
    s.parse::<std::net::IpAddr>().is_ok()
}

/// Everything a line says about its context. Addresses after `from=` or `MAIL FROM` are the
/// sender's, never the recipient.
pub fn line_context(line: &[u8]) -> LineContext {
    let lower_line = line.to_ascii_lowercase();
    let (remote_host, remote_ip) = remote_in(line, &lower_line);
    LineContext {
        recipient: recipient_in(line, &lower_line),
        remote_host,
        remote_ip,
        timestamp: timestamp_in(line, &lower_line),
        message_id: first_capture(&QUEUE_ID, line, &lower_line),
    }
}

/// The recipient a line names: by a field, else the first address that is not a sender's.
fn recipient_in(line: &[u8], lower_line: &[u8]) -> Option<String> {
    let has_at = memchr::memchr(b'@', line).is_some();
    keyed_recipient_in(line, lower_line).or_else(|| {
        if !has_at {
            return None;
        }
        ANY_ADDR.captures_iter(line).find_map(|c| {
            let m = c.get(1)?;
            let before = &line[..m.start()];
            let tail = &before[before.len().saturating_sub(12)..];
            let lower = tail.to_ascii_lowercase();
            let senderish = lower.ends_with(b"from=<")
                || lower.ends_with(b"from=")
                || lower.ends_with(b"from:<")
                || lower.ends_with(b"from: <")
                || lower.ends_with(b"ctladdr=<")
                || lower.ends_with(b"sender=<")
                || lower.ends_with(b"(by ");
            (!senderish).then(|| decode(m.as_bytes()))
        })
    })
}

/// The time a line was written, as the line has it.
fn timestamp_in(line: &[u8], lower: &[u8]) -> Option<String> {
    match bsd_stamp(line) {
        Some(s) => Some(decode(s)),
        None => first_capture(&TIMESTAMP, line, lower),
    }
}

/// The BSD syslog stamp (`Mar  4 12:33:10`, after an optional `<PRI>`) a line starts with,
/// read by hand: most log lines have one, and it is what the second pattern of `TIMESTAMP`
/// captures (the first, RFC 3339, cannot match a line that starts so).
fn bsd_stamp(line: &[u8]) -> Option<&[u8]> {
    const MONTHS: [&[u8]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ];
    let digit = |i: usize| line.get(i).is_some_and(u8::is_ascii_digit);
    let mut i = line
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'))?;
    if line.get(i) == Some(&b'<') {
        let n = line[i + 1..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if !(1..=3).contains(&n) || line.get(i + 1 + n) != Some(&b'>') {
            return None;
        }
        i += n + 2;
    }
    let start = i;
    if !MONTHS.contains(&line.get(i..i + 3)?) {
        return None;
    }
    i += 3;
    let spaces = line[i..].iter().take_while(|b| **b == b' ').count();
    if !(1..=2).contains(&spaces) {
        return None;
    }
    i += spaces;
    let days = line[i..].iter().take_while(|b| b.is_ascii_digit()).count();
    if !(1..=2).contains(&days) {
        return None;
    }
    i += days;
    // ` dd:dd:dd`
    let time = line.get(i..i + 9)?;
    let shape = time[0] == b' '
        && time[3] == b':'
        && time[6] == b':'
        && [1, 2, 4, 5, 7, 8].iter().all(|&k| digit(i + k));
    shape.then(|| &line[start..i + 9])
}

/// What settles a delivery from a line reporting its success: the recipient, the message
/// id and the time (the remote host is only wanted for failures).
pub fn success_context(line: &[u8]) -> LineContext {
    let lower_line = line.to_ascii_lowercase();
    LineContext {
        recipient: recipient_in(line, &lower_line),
        remote_host: None,
        remote_ip: None,
        timestamp: timestamp_in(line, &lower_line),
        message_id: first_capture(&QUEUE_ID, line, &lower_line),
    }
}

/// Compiles this module's patterns, one step each (see `pipeline`'s warm-up).
pub(crate) const WARM: &[fn()] = crate::re::warm_steps![
    RECIPIENT_KEYED,
    ANY_ADDR,
    ADDR_LINE,
    HOST_IP,
    IP_ONLY,
    TIMESTAMP,
    QUEUE_ID,
    VERDICT,
    HEADER,
    INBOUND,
    MTA,
];

/// The marks of the systems that write bounces, in the order they are tried (Exchange Online
/// before Exchange Server, whose NDR layout it shares): lower-case literals of their
/// delivery-status fields and texts.
const BOUNCE_MARKS: &[(&str, &[&str])] = &[
    (
        "exchange-online",
        &[
            ".prod.outlook.com",
            ".protection.outlook.com",
            ".prod.exchangelabs.com",
            "outlook.office365.com",
        ],
    ),
    (
        "exchange-server",
        &[
            "diagnostic information for administrators",
            "microsoft exchange server",
            "x-ms-exchange",
        ],
    ),
    ("qmail", &["this is the qmail-send program"]),
    (
        "postfix",
        &["x-postfix-queue-id", "this is the mail system at host"],
    ),
    (
        "exim",
        &[
            "this message was created automatically by mail delivery software",
            "smtp error from remote mail server after",
        ],
    ),
    (
        "sendmail",
        &[
            "----- transcript of session follows -----",
            "----- the following addresses had permanent fatal errors -----",
            "the original message was received at",
        ],
    ),
];

/// All the marks as one case-insensitive automaton, each pattern's platform by its index.
static MARKS: LazyLock<Option<(aho_corasick::AhoCorasick, Vec<usize>)>> = LazyLock::new(|| {
    let mut pats = Vec::new();
    let mut which = Vec::new();
    for (i, (_, marks)) in BOUNCE_MARKS.iter().enumerate() {
        for m in marks.iter() {
            pats.push(*m);
            which.push(i);
        }
    }
    aho_corasick::AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .build(pats)
        .ok()
        .map(|ac| (ac, which))
});

/// The system that wrote a bounce, from the text of one of its parts (its first 16 KiB: the
/// marks are in a notice's first lines and a delivery report's fields).
pub fn platform_of_bounce(text: &[u8]) -> Option<&'static str> {
    let (ac, which) = MARKS.as_ref()?;
    let head = &text[..text.len().min(16 * 1024)];
    ac.find_overlapping_iter(head)
        .filter_map(|m| which.get(m.pattern().as_usize()).copied())
        .min()
        .map(|i| BOUNCE_MARKS[i].0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bsd_stamp_is_read_as_the_pattern_reads_it() {
        let lines: [&[u8]; 12] = [
            b"Mar  4 12:33:10 mx1 postfix/smtp[1]: x",
            b"Mar 14 12:33:10 mx1",
            b"<13>Mar  4 12:33:10 mx1",
            b"  \tDec 31 23:59:59",
            b"Mar   4 12:33:10 three spaces",
            b"Mar 4 12:33:1 short",
            b"Mar 123 12:33:10",
            b"<1234>Mar  4 12:33:10",
            b"Mars 4 12:33:10",
            b"2026-03-04T12:33:10Z Mar  4 12:33:10",
            b"<13>1 2026-03-04T12:33:10Z host",
            b"Mar  4 12:33:10",
        ];
        for l in lines {
            let by_hand = bsd_stamp(l).map(decode);
            let by_pattern = TIMESTAMP[1]
                .captures(l, &l.to_ascii_lowercase())
                .and_then(|c| c.get(1))
                .map(|m| decode(m.as_bytes()));
            assert_eq!(by_hand, by_pattern, "{}", String::from_utf8_lossy(l));
            let first = first_capture(&TIMESTAMP, l, &l.to_ascii_lowercase());
            assert_eq!(timestamp_in(l, &l.to_ascii_lowercase()), first);
        }
    }

    #[test]
    fn postfix_line() {
        let l = b"Mar  4 12:33:10 mx1 postfix/smtp[21877]: 4QbZ2x1Hj7z9vN: to=<dana@example.com>, relay=none, delay=3605, delays=3600/0.02/5/0, dsn=4.4.1, status=deferred (connect to mail.example.com[192.0.2.25]:25: Connection refused)";
        let c = line_context(l);
        assert_eq!(c.recipient.as_deref(), Some("dana@example.com"));
        assert_eq!(c.remote_host.as_deref(), Some("mail.example.com"));
        assert_eq!(c.remote_ip.as_deref(), Some("192.0.2.25"));
        assert_eq!(c.timestamp.as_deref(), Some("Mar  4 12:33:10"));
        assert_eq!(c.message_id.as_deref(), Some("4QbZ2x1Hj7z9vN"));
        assert_eq!(verdict(l), Some(Verdict::Deferred));
    }

    #[test]
    fn rfc5424_syslog_line() {
        let l = b"<22>1 2026-03-04T12:38:00.412Z mx1 postfix/smtp 21930 - - 4QbZ3c9No4z9vS: to=<noor@example.org>, relay=mail.example.org[203.0.113.25]:25, dsn=4.7.5, status=deferred (Server certificate not verified)";
        let c = line_context(l);
        assert_eq!(c.timestamp.as_deref(), Some("2026-03-04T12:38:00.412Z"));
        assert_eq!(c.message_id.as_deref(), Some("4QbZ3c9No4z9vS"));
        let l = b"<22>1 2026-03-04T12:38:00Z mx1 sendmail 4306 - [meta sequenceId=\"7\"] 524CX5k9031570: to=<a@example.org>, dsn=4.0.0, stat=Deferred";
        assert_eq!(
            line_context(l).message_id.as_deref(),
            Some("524CX5k9031570")
        );
        let l = b"<22>Mar  4 12:33:10 mx1 postfix/smtp[1]: 4QbZ2x1Hj7z9vN: to=<a@example.org>, dsn=4.4.1";
        assert_eq!(
            line_context(l).timestamp.as_deref(),
            Some("Mar  4 12:33:10")
        );
    }

    #[test]
    fn sendmail_line() {
        let l = b"Nov 9 12:01:31 host sendmail[4306]: jA9J1UvC004306: to=root, ctladdr=<root@example.org> (0/0), delay=00:00:00, relay=[127.0.0.1] [127.0.0.1], dsn=4.0.0, stat=Deferred: Connection refused by [127.0.0.1]";
        let c = line_context(l);
        // the local recipient `to=root`, not the controlling user `ctladdr=<root@...>`
        assert_eq!(c.recipient.as_deref(), Some("root"));
        assert_eq!(c.remote_ip.as_deref(), Some("127.0.0.1"));
        assert_eq!(c.message_id.as_deref(), Some("jA9J1UvC004306"));
    }

    #[test]
    fn exim_and_exchange() {
        let l = b"2026-03-04 12:35:02 1rXyZb-000AbD-2e ** lee@example.net R=dnslookup T=remote_smtp H=mx.example.net [198.51.100.7]: SMTP error from remote mail server after RCPT TO:<lee@example.net>: 550 5.1.1 User unknown";
        let c = line_context(l);
        assert_eq!(c.recipient.as_deref(), Some("lee@example.net"));
        assert_eq!(c.remote_host.as_deref(), Some("mx.example.net"));
        assert_eq!(c.remote_ip.as_deref(), Some("198.51.100.7"));
        assert_eq!(c.message_id.as_deref(), Some("1rXyZb-000AbD-2e"));
        assert_eq!(verdict(l), Some(Verdict::Bounced));
        let l = b"450 4.4.316 Connection refused [Message=Socket error code 10061] [LastAttemptedServerName=mail.example.com] [LastAttemptedIP=192.0.2.25:25] [AM0EUR01FT012.eop-EUR01.prod.protection.outlook.com]";
        let c = line_context(l);
        assert_eq!(c.remote_host.as_deref(), Some("mail.example.com"));
        assert_eq!(c.remote_ip.as_deref(), Some("192.0.2.25"));
        let l = b"3/5/2026 9:04:40 AM - Server at mail.example.com (192.0.2.25) returned '450 4.4.316 Connection refused'";
        let c = line_context(l);
        assert_eq!(c.remote_host.as_deref(), Some("mail.example.com"));
        assert_eq!(c.timestamp.as_deref(), Some("3/5/2026 9:04:40 AM"));
    }

    #[test]
    fn sendmail_hosts_without_an_address() {
        let l = b"Mar  4 12:33:41 gw sendmail[31574]: 524CX5k9031570: to=<ana@example.net>, delay=01:00:36, mailer=esmtp, relay=mx.example.net., dsn=4.0.0, stat=Deferred: Connection timed out with mx.example.net.";
        let c = line_context(l);
        assert_eq!(c.remote_host.as_deref(), Some("mx.example.net"));
        assert_eq!(c.remote_ip, None);
        let (h, i) =
            remote(b"<ana@example.net>... Deferred: Connection timed out with mx.example.net.");
        assert_eq!((h.as_deref(), i), (Some("mx.example.net"), None));
        let (h, i) = remote(b"stat=Deferred: Connection reset by [198.51.100.7]");
        assert_eq!((h, i.as_deref()), (None, Some("198.51.100.7")));
        // local deliveries and Postfix's relay=none name no remote host
        assert_eq!(remote(b"to=<a@example.org>, relay=local, delay=0").0, None);
        assert_eq!(remote(b"to=<a@example.org>, relay=none, delay=0").0, None);
    }

    #[test]
    fn address_lines() {
        assert_eq!(
            address_line(b"dana@example.com").as_deref(),
            Some("dana@example.com")
        );
        assert_eq!(
            address_line(b"Dana Ito (dana@example.com)").as_deref(),
            Some("dana@example.com")
        );
        assert_eq!(
            address_line(b"<dana@example.com>:").as_deref(),
            Some("dana@example.com")
        );
        assert_eq!(
            address_line(b"please write to dana@example.com today"),
            None
        );
    }

    #[test]
    fn sender_is_not_recipient() {
        let c = line_context(
            b"postfix/qmgr[1022]: 4QbZ2x1Hj7z9vN: from=<sam@example.org>, size=1, nrcpt=1",
        );
        assert_eq!(c.recipient, None);
    }

    /// Lines of every sample and fixture, and some made to trip an anchored search.
    fn sample_lines() -> Vec<Vec<u8>> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        let mut dirs = vec![root.join("tests/fixtures"), root.join("data/samples")];
        while let Some(d) = dirs.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    dirs.push(p);
                } else {
                    files.push(p);
                }
            }
        }
        assert!(files.len() > 15, "{files:?}");
        let mut lines: Vec<Vec<u8>> = files
            .iter()
            .flat_map(|f| {
                let text = std::fs::read(f).unwrap();
                crate::input::lines(&text)
                    .map(<[u8]>::to_vec)
                    .collect::<Vec<_>>()
            })
            .collect();
        for l in [
            "relay=none, delay=1, xrelay=a[192.0.2.1], Relay=b.example.com[192.0.2.2]:25",
            "Connection Refused by relay=[10.0.0.1] then refused by [192.0.2.9]",
            "ghost mx[192.0.2.1] said, host mx.example.com[192.0.2.3] said: 550",
            "postfix/postfix/smtp[12]: ABCDEF12: postfix 77 - - QQQQQQQ1: sm-mta 5 - - RRRRRRRR:",
            "relay=relay=relay=relay=relay=relay=relay=x.example.net, dsn=4.4.1",
            "Final-Recipient: rfc822;a@example.org final-recipient: rfc822; <b@example.org>",
            "Remote-MTA: dns; [192.0.2.7] Remote-MTA: dns; mx.example.org",
            "Arrival-Date: Tue, 3 Mar 2026 09:00:00 +0000 Last-Attempt-Date: x",
            "to=x, TO=<c@example.org>, rcpt to:<d@example.org> RCPT TO:<e@example.org>",
        ] {
            lines.push(l.as_bytes().to_vec());
        }
        lines
    }

    fn spans(c: Option<Groups<'_>>) -> Option<Vec<Option<(usize, usize)>>> {
        c.map(|c| {
            (0..4)
                .map(|i| c.get(i).map(|m| (m.start(), m.end())))
                .collect()
        })
    }

    #[test]
    fn anchored_guards_find_what_the_whole_line_search_finds() {
        let lists: [&[Guarded]; 5] = [&RECIPIENT_KEYED, &HOST_IP, &IP_ONLY, &TIMESTAMP, &QUEUE_ID];
        let lines = sample_lines();
        let mut matched = 0;
        for list in lists {
            for g in list.iter().filter(|g| g.anchored) {
                for line in &lines {
                    let lower = line.to_ascii_lowercase();
                    let want = spans(g.re.captures(line));
                    matched += usize::from(want.is_some());
                    assert_eq!(
                        spans(g.captures(line, &lower)),
                        want,
                        "{:?} on {:?}",
                        g.re,
                        String::from_utf8_lossy(line)
                    );
                }
            }
        }
        assert!(matched > 100, "{matched}");
    }
}
