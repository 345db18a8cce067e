//! Tells what an input is from its first bytes.

use regex::bytes::Regex;
use std::sync::LazyLock;

/// How much of an input is looked at to tell its kind.
pub const SNIFF_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Lines that each stand alone (an MTA or system log): streamed, one record per line.
    Log,
    /// Anything else (a pasted bounce, a note): one document with context across lines.
    Text,
}

/// A line that starts like a log record: a syslog, ISO 8601 or bracketed timestamp.
static LOG_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"^(?:<\d{1,3}>\d? ?)?(?:",
        r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) {1,2}\d{1,2} \d\d:\d\d:\d\d|",
        r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d|",
        r"\d{4}/\d\d/\d\d \d\d:\d\d:\d\d|",
        r"\[\d|",
        r"\d{10}(?:\.\d+)? ",
        r")"
    ))
    .expect("static regex")
});

/// Decides the kind from the first bytes of an input.
pub fn kind(head: &[u8]) -> Kind {
    if memchr::memchr(0, head).is_some() {
        // binary: no document structure to follow, look at it line by line
        return Kind::Log;
    }
    let mut total = 0usize;
    let mut logish = 0usize;
    for line in super::lines(head)
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
        .take(50)
    {
        total += 1;
        if LOG_LINE.is_match(line) {
            logish += 1;
        }
    }
    if total > 0 && logish * 10 >= total * 6 {
        Kind::Log
    } else {
        Kind::Text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        assert_eq!(
            kind(
                b"Mar  4 12:33:10 mx1 postfix/smtp[1]: x\nMar  4 12:33:11 mx1 postfix/smtp[1]: y\n"
            ),
            Kind::Log
        );
        assert_eq!(
            kind(b"2026-03-04 12:33:10 1rXyZa-000AbC-1d == a@example.com\n"),
            Kind::Log
        );
        assert_eq!(
            kind(b"Delivery has failed to these recipients or groups:\n\na@example.com\n"),
            Kind::Text
        );
        assert_eq!(kind(b"450 4.4.316 Connection refused"), Kind::Text);
        assert_eq!(kind(b""), Kind::Text);
        assert_eq!(kind(b"\x00\x01binary"), Kind::Log);
    }
}
