//! Enhanced status code tokens (`class.subject.detail`) on one line, with look-alike rejection.

use crate::catalog::Code;
use regex::bytes::Regex;
use std::sync::LazyLock;

static CODE: LazyLock<Regex> =
    LazyLock::new(|| crate::re::bytes(r"([245])\.([0-9]{1,3})\.([0-9]{1,3})"));

/// A code token on a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeHit {
    pub start: usize,
    pub end: usize,
    pub code: Code,
    /// The basic reply code written just before it (`450 4.4.316`, `550-5.1.1`).
    pub reply: Option<u16>,
    /// Preceded by a field key (`dsn=`, `Status:`, `#`, `smtp;`, `LED=`...).
    pub keyed: bool,
}

impl CodeHit {
    /// Strong evidence that this is a status code and not a number that looks like one.
    pub fn anchored(&self) -> bool {
        self.reply.is_some() || self.keyed
    }
}

fn num(b: &[u8]) -> Option<u16> {
    if b.len() > 1 && b[0] == b'0' {
        return None;
    }
    let mut n: u16 = 0;
    for &d in b {
        n = n * 10 + u16::from(d - b'0');
    }
    Some(n)
}

fn rejects_before(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'.' | b'-' | b'_' | b'/' | b'\\' | b'+' | b'@' | b'$' | b'%'
        )
}

fn rejects_after(line: &[u8], end: usize) -> bool {
    let Some(&b) = line.get(end) else {
        return false;
    };
    if b.is_ascii_alphanumeric() || b == b'_' || b == b'%' {
        return true;
    }
    // `2.3.13.4`, `4.1.0-ioctl`, `2.6.5-1.358`: part of a longer dotted or dashed token.
    if matches!(b, b'.' | b'-' | b'/' | b',')
        && let Some(&n) = line.get(end + 1)
    {
        return n.is_ascii_digit() || (b == b'-' && n.is_ascii_alphabetic());
    }
    false
}

/// The basic reply code immediately before `start` (`450 `, `550-`), if any.
fn reply_before(line: &[u8], start: usize) -> Option<u16> {
    if start < 4 {
        return None;
    }
    let sep = line[start - 1];
    if sep != b' ' && sep != b'-' {
        return None;
    }
    let r = &line[start - 4..start - 1];
    if !r.iter().all(u8::is_ascii_digit) || !matches!(r[0], b'2' | b'4' | b'5') {
        return None;
    }
    if start >= 5 && (line[start - 5].is_ascii_alphanumeric() || line[start - 5] == b'.') {
        return None;
    }
    num(r)
}

const KEYS: &[&[u8]] = &[
    b"dsn=",
    b"status=",
    b"status:",
    b"#",
    b"smtp;",
    b"led=",
    b"code=",
    b"stat=",
    b"x-postfix;",
    b"smtp; ",
    b"diagnostic-code:",
    b"said:",
    b"error:",
    b"reply:",
    b"response:",
];

fn keyed_before(line: &[u8], start: usize) -> bool {
    let mut s = start;
    while s > 0 && line[s - 1] == b' ' {
        s -= 1;
    }
    let before = &line[..s];
    KEYS.iter().any(|k| {
        before.len() >= k.len() && before[before.len() - k.len()..].eq_ignore_ascii_case(k)
    })
}

const VERSION_WORDS: &[&[u8]] = &[
    b"version",
    b"ver",
    b"v",
    b"release",
    b"rel",
    b"kernel",
    b"linux",
    b"firmware",
    b"build",
    b"php",
    b"python",
    b"perl",
    b"openssl",
    b"exim",
    b"postfix",
    b"sendmail",
    b"dovecot",
    b"libc",
];

fn version_word_before(line: &[u8], start: usize) -> bool {
    let mut s = start;
    while s > 0 && matches!(line[s - 1], b' ' | b':' | b'(') {
        s -= 1;
    }
    let mut w = s;
    while w > 0 && line[w - 1].is_ascii_alphabetic() {
        w -= 1;
    }
    let word = &line[w..s];
    !word.is_empty() && VERSION_WORDS.iter().any(|v| word.eq_ignore_ascii_case(v))
}

/// Code-shaped tokens of class 4 or 5 (with `all`: also 2), and an MTA's verdict on a
/// delivery that may carry no code at all (Postfix `status=expired`, Exim's `**` and `==`),
/// for the whole-buffer search of a log. A match that starts with a digit is a code token.
pub fn candidates(all: bool) -> &'static Regex {
    const VERDICTS: &str = r"|status=(?:expired|bounced|deferred|undeliverable)| \*\* | == | rejected (?:RCPT|MAIL|after DATA) |sender verify fail";
    static FAIL: LazyLock<Regex> =
        LazyLock::new(|| crate::re::bytes(&format!(r"[45]\.[0-9]{{1,3}}\.[0-9]{{1,3}}{VERDICTS}")));
    static ANY: LazyLock<Regex> = LazyLock::new(|| {
        crate::re::bytes(&format!(r"[245]\.[0-9]{{1,3}}\.[0-9]{{1,3}}{VERDICTS}"))
    });
    if all { &ANY } else { &FAIL }
}

/// Whether the code-shaped bytes at `start..end` of a buffer stand as their own token
/// (the cheap part of `find`, used to skip IPs and version numbers before a line is read).
pub fn stands_alone(buf: &[u8], start: usize, end: usize) -> bool {
    let before_ok =
        start == 0 || !rejects_before(buf[start - 1]) || reply_before(buf, start).is_some();
    before_ok && !rejects_after(buf, end)
}

/// Finds the status code tokens on a line. `strict`: only codes with a reply code or field
/// key before them count (a line of some other system's log that happens to hold a dotted
/// number); otherwise any well-formed token that stands on its own counts.
pub fn find(line: &[u8], strict: bool, cuts: &mut super::limits::Cuts) -> Vec<CodeHit> {
    find_all(line, cuts)
        .into_iter()
        .filter(|h| h.anchored() || (!strict && !h.weak))
        .map(|h| h.hit)
        .collect()
}

/// Every code token on a line that stands on its own; `weak` marks those that would count
/// only in a mail context (no reply code or key before them, and an implausible subject or
/// a version word in front).
pub fn find_all(line: &[u8], cuts: &mut super::limits::Cuts) -> Vec<WeakHit> {
    let mut out = Vec::new();
    for m in CODE.find_iter(line) {
        if out.len() >= super::limits::MAX_CODES_PER_LINE {
            cuts.lines += 1;
            break;
        }
        let (start, end) = (m.start(), m.end());
        let reply = reply_before(line, start);
        if start > 0 && reply.is_none() && rejects_before(line[start - 1]) {
            continue;
        }
        if rejects_after(line, end) {
            continue;
        }
        // `C.S.D`: the class digit, then two dot-separated numbers
        let text = m.as_bytes();
        let mut parts = text[2..].splitn(2, |&b| b == b'.');
        let (Some(subject), Some(detail)) =
            (parts.next().and_then(num), parts.next().and_then(num))
        else {
            continue;
        };
        let hit = CodeHit {
            start,
            end,
            code: Code::new(text[0] - b'0', subject, detail),
            reply,
            keyed: keyed_before(line, start),
        };
        let weak = !hit.anchored() && (subject > 7 || version_word_before(line, start));
        out.push(WeakHit { hit, weak });
    }
    out
}

/// A code token and whether it needs a mail context to count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WeakHit {
    pub hit: CodeHit,
    pub weak: bool,
}

impl WeakHit {
    pub fn anchored(&self) -> bool {
        self.hit.anchored()
    }
}

/// Compiles this module's patterns, one step each (see `pipeline`'s warm-up).
pub(crate) const WARM: &[fn()] = &[
    || {
        LazyLock::force(&CODE);
    },
    || {
        candidates(false);
    },
    || {
        candidates(true);
    },
];

#[cfg(test)]
mod tests {
    use super::super::limits::Cuts;
    use super::*;

    fn codes(line: &str, strict: bool) -> Vec<String> {
        find(line.as_bytes(), strict, &mut Cuts::default())
            .iter()
            .map(|h| h.code.to_string())
            .collect()
    }

    #[test]
    fn finds_codes_in_their_usual_forms() {
        assert_eq!(codes("450 4.4.316 Connection refused", true), ["4.4.316"]);
        assert_eq!(codes("450-4.4.316 Connection refused", true), ["4.4.316"]);
        assert_eq!(codes("dsn=4.0.0, stat=Deferred", true), ["4.0.0"]);
        assert_eq!(codes("Status: 5.1.1", true), ["5.1.1"]);
        assert_eq!(
            codes("Diagnostic-Code: smtp; 550 5.1.1 <a@example.com>", true),
            ["5.1.1"]
        );
        assert_eq!(
            codes(
                "Remote Server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound'",
                true
            ),
            ["5.1.10"]
        );
        assert_eq!(
            codes("#550 4.4.7 QUEUE.Expired; message expired ##", true),
            ["4.4.7"]
        );
        assert_eq!(
            codes(
                "#< #5.7.1 smtp;530 5.7.1 Client was not authenticated> #SMTP#",
                true
            ),
            ["5.7.1", "5.7.1"]
        );
        assert_eq!(codes("[Stage: CreateMessage] 5.4.316", false), ["5.4.316"]);
        assert_eq!(codes("the error was 5.7.23.", false), ["5.7.23"]);
        assert_eq!(codes("(4.4.1)", false), ["4.4.1"]);
    }

    #[test]
    fn ignores_look_alikes() {
        for s in [
            "kernel: Linux version 2.6.5-1.358 (bhcompile@example.com)",
            "device-mapper: 4.1.0-ioctl (2003-12-10) initialised",
            "gateway 10.4.4.31 reachable",
            "OID 1.3.6.1.4.1.311.21.7",
            "Version 2.3.13",
            "libfoo 4.4.1.2 installed",
            "date 4.07.2024",
            "size 5.4.1234 bytes",
            "v4.4.1 tag",
            "upgrade to 4.4.1-2ubuntu1",
            "package /opt/5.1.1/bin",
            "exim 4.94.2 daemon started",
        ] {
            assert!(codes(s, false).is_empty(), "{s}: {:?}", codes(s, false));
        }
        assert!(codes("Setting up foo (4.4.1) ...", true).is_empty());
        assert!(codes("linux version 5.4.0 booted", false).is_empty());
    }

    #[test]
    fn reply_and_keys() {
        let h = find(b"550 5.1.1 <x@example.com>", true, &mut Cuts::default());
        assert_eq!(h[0].reply, Some(550));
        let h = find(b"dsn=5.1.1, status=bounced", true, &mut Cuts::default());
        assert!(h[0].keyed && h[0].reply.is_none());
        assert_eq!(
            find(b"code 1550 5.1.1", true, &mut Cuts::default()).len(),
            0
        );
    }
}
