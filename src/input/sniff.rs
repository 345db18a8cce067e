//! Tells what an input is from its first bytes.

use crate::re::Line;
use std::sync::LazyLock;

/// How much of an input is looked at to tell its kind.
pub const SNIFF_BYTES: usize = 64 * 1024;

/// What an input is, told from its first bytes: it decides how the input is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// One RFC 5322 message (a bounce saved as .eml, a maildir file).
    Message,
    /// Messages in mbox format, each starting with a `From ` line.
    Mbox,
    /// A message trace export or tracking log (CSV): its header.
    Trace(super::trace::Header),
    /// Lines that each stand alone (an MTA or system log): streamed, one record per line.
    Log,
    /// Anything else (a pasted bounce, a note): one document with context across lines.
    Text,
}

/// A line that starts like a log record: a syslog, ISO 8601 or bracketed timestamp.
static LOG_LINE: LazyLock<Line> = LazyLock::new(|| {
    crate::re::line(concat!(
        r"^(?:<\d{1,3}>\d? ?)?(?:",
        r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) {1,2}\d{1,2} \d\d:\d\d:\d\d|",
        r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d|",
        r"\d{4}/\d\d/\d\d \d\d:\d\d:\d\d|",
        r"\[\d|",
        r"\d{10}(?:\.\d+)? |",
        // an MTA's syslog tag after whatever prefix a collector puts in front (loghub's
        // `- 1131566463 2005.11.09 host Nov 9 12:01:03 src@host sendmail[6004]: `)
        r"[^\n]{0,120}?\b(?:postfix(?:/[\w-]+)+|sendmail|exim\d*|qmail[\w-]*|smtpd|opensmtpd)\[\d+\]: ",
        r")"
    ))
});

/// A header field line: a name of printable characters, a colon.
static HEADER: LazyLock<Line> = LazyLock::new(|| crate::re::line(r"^[!-9;-~]{1,76}:(?:[ \t]|$)"));
/// Header names that only a message has (DSN field names alone do not make a message).
static MESSAGE_HEADER: LazyLock<Line> = LazyLock::new(|| {
    crate::re::line(
        r"(?i)^(?:received|from|to|cc|subject|date|return-path|message-id|mime-version|content-type|delivered-to|x-original-to|reply-to|sender|x-[a-z0-9-]+):",
    )
});

pub(crate) fn is_message(head: &[u8]) -> bool {
    let mut known = false;
    for (i, line) in super::document::lines(head).enumerate().take(200) {
        if line.is_empty() {
            return known && i > 0;
        }
        if line[0] == b' ' || line[0] == b'\t' {
            if i == 0 {
                return false;
            }
            continue;
        }
        if !HEADER.is_match(line) {
            return false;
        }
        known |= MESSAGE_HEADER.is_match(line);
    }
    known
}

/// Decides the kind from the first bytes of an input.
pub fn kind(head: &[u8]) -> Kind {
    if let Some(h) = super::trace::header_of(head) {
        return Kind::Trace(h);
    }
    if head.starts_with(b"From ") {
        return Kind::Mbox;
    }
    // a message keeps its structure when its body holds a NUL (a raw binary part)
    if is_message(head) {
        return Kind::Message;
    }
    if memchr::memchr(0, head).is_some() {
        // binary: no document structure to follow, look at it line by line
        return Kind::Log;
    }
    let mut total = 0usize;
    let mut logish = 0usize;
    for line in super::document::lines(head)
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

/// Compiles this module's patterns, one step each (see `pipeline`'s warm-up).
pub(crate) const WARM: &[fn()] = crate::re::warm_steps![LOG_LINE, HEADER, MESSAGE_HEADER];

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
        // a collector's prefix before the syslog line (loghub's Thunderbird log)
        assert_eq!(
            kind(b"- 1131566463 2005.11.09 eadmin1 Nov 9 12:01:03 src@eadmin1 sendmail[6004]: jA9K13Fd006004: to=root, stat=Deferred\n"),
            Kind::Log
        );
        assert_eq!(kind(b""), Kind::Text);
        assert_eq!(kind(b"\x00\x01binary"), Kind::Log);
        assert_eq!(kind(b"Delivery has failed\n\x00\n"), Kind::Log);
        assert_eq!(
            kind(b"From: MAILER-DAEMON@x\nSubject: Undelivered\n\nbody \x00 5.1.1\n"),
            Kind::Message
        );
        assert_eq!(
            kind(b"From MAILER-DAEMON Thu Mar  5 09:14:02 2026\nFrom: x\n\nbody\n"),
            Kind::Mbox
        );
        assert_eq!(
            kind(b"Return-Path: <>\nReceived: from x\n\tby y\nSubject: Undelivered\n\nbody\n"),
            Kind::Message
        );
        assert_eq!(
            kind(b"Final-Recipient: rfc822; a@example.com\nAction: failed\nStatus: 5.1.1\n"),
            Kind::Text
        );
        assert!(matches!(
            kind(b"date_time_utc,event_id,recipient_status\n"),
            Kind::Trace(_)
        ));
    }
}
