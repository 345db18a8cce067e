//! RFC 5322 / MIME messages, decoded with mail-parser: each text part (HTML turned into
//! text), each `message/delivery-status` block, and the returned original (context only)
//! become parts of one document, with the input line where each part starts.

use super::document::{Document, Part, PartKind};
use crate::re::Line;
use mail_parser::{Encoding, HeaderName, MessageParser, MimeHeaders, PartType};
use regex::bytes::Regex;
use std::sync::LazyLock;

static BOUNCE_SENDER: LazyLock<Line> = LazyLock::new(|| {
    crate::re::line(
        r"(?i)mailer-daemon|postmaster|mail delivery (?:subsystem|system)|microsoftexchange",
    )
});
static BOUNCE_SUBJECT: LazyLock<Line> = LazyLock::new(|| {
    crate::re::line(concat!(
        r"(?i)undeliver|returned mail|delivery (?:status notification|failure|has failed|failed|delayed|notification|report)|failure notice|non.?delivery|mail delivery failed|could not be delivered|warning: could not send|delivery is delayed|",
        // German, French, Spanish, Italian, Portuguese, Japanese
        r"unzustellbar|nicht zugestellt|zustellung fehlgeschlagen|non remis|non distribuable|(?:é|É|e|E)chec de (?:la )?(?:remise|distribution)|mancata consegna|non consegnat|no se (?:pudo|puede) entregar|mensaje no entregado|no entregado|n(?:ã|a)o entregue|",
        "\u{914d}\u{4fe1}\u{4e0d}\u{80fd}|\u{914d}\u{4fe1}\u{30a8}\u{30e9}\u{30fc}|\u{914d}\u{9001}\u{30a8}\u{30e9}\u{30fc}|\u{9001}\u{4fe1}\u{30a8}\u{30e9}\u{30fc}|\u{30a8}\u{30e9}\u{30fc}\u{30e1}\u{30fc}\u{30eb}|\u{672a}\u{914d}\u{4fe1}|\u{8fd4}\u{9001}"
    ))
});
static MESSAGE_ID: LazyLock<Regex> =
    LazyLock::new(|| crate::re::bytes(r"(?im)^message-id:\s*(<[^>\s]+>)"));

/// Input lines up to a byte offset (1-based line of that offset, given the first line).
fn line_at(raw: &[u8], offset: usize, first_line: u64) -> u64 {
    first_line + memchr::memchr_iter(b'\n', &raw[..offset.min(raw.len())]).count() as u64
}

/// CR-only line endings (old Mac files) as LF, so the header parser sees lines; the line
/// count is unchanged.
pub fn normalize_cr(raw: &[u8]) -> Option<Vec<u8>> {
    if memchr::memchr(b'\n', raw).is_none() && memchr::memchr(b'\r', raw).is_some() {
        Some(
            raw.iter()
                .map(|&b| if b == b'\r' { b'\n' } else { b })
                .collect(),
        )
    } else {
        None
    }
}

/// MIME structure lines (boundary lines `--...` and `Content-Type:` fields; a part has two
/// or three) decoded in one message: past the last of them the message is read as plain
/// text, with a warning. So a message of ten thousand nested parts or messages costs no
/// more than a plain text of its size (and nested messages cannot exhaust the stack).
pub const MAX_STRUCTURE_LINES: usize = 1000;

static STRUCTURE_LINE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\n(?:--|content-type:)").expect("static regex")); // ok: a constant pattern, compiled by the tests

/// Where the first structure line past `MAX_STRUCTURE_LINES` starts, if there is one.
fn boundary_cut(raw: &[u8]) -> Option<usize> {
    STRUCTURE_LINE
        .find_iter(raw)
        .nth(MAX_STRUCTURE_LINES)
        .map(|m| m.start() + 1)
}

/// The message parser, reading only the headers decoding needs: the MIME ones, `Subject` and
/// `Message-ID`. The rest (`Received`, addresses, dates) are skipped, not parsed: structured
/// parsing of `Received` alone was a tenth of decoding a bounce. `From` and
/// `X-Failed-Recipients` are read raw, which works for a skipped header too.
static PARSER: LazyLock<MessageParser> = LazyLock::new(|| {
    MessageParser::new()
        .with_mime_headers()
        .header_text(HeaderName::Subject)
        .header_id(HeaderName::MessageId)
        .default_header_ignore()
});

/// Decodes one message. Never fails: input that is not MIME becomes a plain-text document.
pub fn document(raw: &[u8], first_line: u64) -> Document {
    let normalized = normalize_cr(raw);
    let full: &[u8] = normalized.as_deref().unwrap_or(raw);
    // past MAX_BOUNDARY_LINES the rest is plain text
    let (raw, tail) = match boundary_cut(full) {
        Some(cut) => (&full[..cut], Some(cut)),
        None => (full, None),
    };
    let Some(msg) = PARSER.parse(raw) else {
        let raw = full;
        let mut d = Document::text(raw.to_vec());
        d.parts[0].start_line = first_line;
        return d;
    };
    let mut doc = Document {
        parts: Vec::new(),
        message_id: None,
        bounce: is_bounce(&msg),
        subject: msg.subject().map(str::to_string),
        not_failure: not_failure(&msg),
        warnings: Vec::new(),
    };
    if let Some(what) = doc.not_failure {
        let what = if what == "feedback" {
            "a feedback report (ARF), not a delivery failure"
        } else {
            "an auto-reply (out of office), not a delivery failure"
        };
        doc.warnings.push(format!("line {first_line}: {what}"));
    }
    if let Some(r) = msg.header_raw("X-Failed-Recipients") {
        // a header-only recipient list: give it to the scanner as a first line of context
        let first = r.split(',').next().unwrap_or("").trim();
        doc.parts.push(Part {
            kind: PartKind::Text,
            start_line: first_line,
            exact_lines: false,
            text: format!("Final-Recipient: rfc822; {first}").into_bytes(),
        });
    }
    collect(&msg, raw, first_line, &mut doc, 0);
    if let Some(cut) = tail {
        let start_line = line_at(full, cut, first_line);
        doc.warnings.push(format!(
            "line {start_line}: MIME structure more than {MAX_STRUCTURE_LINES} lines deep or long: the rest is read as plain text"
        ));
        doc.parts.push(Part {
            kind: PartKind::Text,
            start_line,
            exact_lines: true,
            text: full[cut..].to_vec(),
        });
    }
    if doc.parts.iter().all(|p| p.kind == PartKind::Original) {
        // headers only, or nothing readable: scan the raw text rather than miss a code
        let mut d = Document::text(full.to_vec());
        d.parts[0].start_line = first_line;
        d.bounce = doc.bounce;
        d.subject = doc.subject;
        d.not_failure = doc.not_failure;
        d.warnings = doc.warnings;
        return d;
    }
    doc
}

/// Nested messages looked into (mail-parser itself parses three levels): a bounce forwarded
/// inside a bounce more deeply than this is not read, with a warning.
pub const MAX_DEPTH: usize = 3;

fn is_bounce(msg: &mail_parser::Message<'_>) -> bool {
    let from = msg.header_raw("From").unwrap_or("");
    let subject = msg.subject().unwrap_or("");
    BOUNCE_SENDER.is_match(from.as_bytes())
        || BOUNCE_SUBJECT.is_match(subject.as_bytes())
        || msg.header_raw("X-Failed-Recipients").is_some()
        || msg.content_type().is_some_and(|ct| {
            ct.ctype().eq_ignore_ascii_case("multipart")
                && ct
                    .subtype()
                    .is_some_and(|s| s.eq_ignore_ascii_case("report"))
        })
}

static AUTO_REPLY_SUBJECT: LazyLock<Line> = LazyLock::new(|| {
    crate::re::line(
        r"(?i)^\s*(?:auto(?:matic)?[ -]?(?:reply|response|answer|antwort)|auto:|out of (?:the )?office|vacation|on vacation|away from|abwesenheit|automatische antwort|r\xc3\xa9ponse automatique|absence|respuesta autom|\xe8\x87\xaa\xe5\x8b\x95|\xe4\xb8\x8d\xe5\x9c\xa8)",
    )
});

/// Whether a message is an auto-reply or a feedback report: messages that look like a
/// bounce (an automatic answer, a report) but say nothing failed.
fn not_failure(msg: &mail_parser::Message<'_>) -> Option<&'static str> {
    let feedback = |ct: &mail_parser::ContentType<'_>| {
        ct.attribute("report-type")
            .is_some_and(|t| t.eq_ignore_ascii_case("feedback-report"))
            || (ct.ctype().eq_ignore_ascii_case("message")
                && ct
                    .subtype()
                    .is_some_and(|s| s.eq_ignore_ascii_case("feedback-report")))
    };
    if msg.content_type().is_some_and(feedback)
        || msg
            .parts
            .iter()
            .any(|p| p.content_type().is_some_and(feedback))
    {
        return Some("feedback");
    }
    let from = msg.header_raw("From").unwrap_or("");
    let subject = msg.subject().unwrap_or("");
    if BOUNCE_SENDER.is_match(from.as_bytes()) || BOUNCE_SUBJECT.is_match(subject.as_bytes()) {
        return None;
    }
    let auto = msg
        .header_raw("Auto-Submitted")
        .is_some_and(|v| v.trim().to_ascii_lowercase().starts_with("auto-replied"))
        || msg.header_raw("X-Autoreply").is_some()
        || msg.header_raw("X-Autorespond").is_some()
        || msg
            .header_raw("Precedence")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("auto_reply"))
        || AUTO_REPLY_SUBJECT.is_match(subject.as_bytes());
    auto.then_some("vacation")
}

fn is_report_part(part: &mail_parser::MessagePart<'_>) -> bool {
    part.content_type().is_some_and(|c| {
        c.ctype().eq_ignore_ascii_case("message")
            && c.subtype()
                .is_some_and(|s| s.to_ascii_lowercase().contains("delivery-status"))
    })
}

/// Adds the parts of a message to the document; `raw` is the message's own bytes and
/// `first_line` the input line where they start.
fn collect(
    msg: &mail_parser::Message<'_>,
    raw: &[u8],
    first_line: u64,
    doc: &mut Document,
    depth: usize,
) {
    let has_report = msg.parts.iter().any(is_report_part);
    // lines are counted on from the previous part (parts come in input order), so that
    // thousands of parts cost one pass
    let mut counted = (0usize, first_line);
    for part in &msg.parts {
        let (ctype, subtype) = part
            .content_type()
            .map(|c| {
                (
                    c.ctype().to_ascii_lowercase(),
                    c.subtype().unwrap_or("").to_ascii_lowercase(),
                )
            })
            .unwrap_or_else(|| ("text".into(), "plain".into()));
        let start = part.offset_body as usize;
        let end = (part.offset_end as usize).min(raw.len());
        let start_line = if start >= counted.0 {
            line_at(&raw[counted.0..], start - counted.0, counted.1)
        } else {
            line_at(raw, start, first_line)
        };
        counted = (start.min(raw.len()), start_line);
        let raw_body = raw.get(start..end).unwrap_or(&[]);
        let original = || Part {
            kind: PartKind::Original,
            start_line,
            exact_lines: false,
            text: Vec::new(),
        };
        match &part.body {
            PartType::Multipart(_) => {}
            PartType::Message(inner) => {
                // a bounce forwarded as an attachment: its report is the one to read
                if !has_report && depth >= MAX_DEPTH && is_bounce(inner) {
                    doc.warnings.push(format!(
                        "line {start_line}: a bounce nested more than {MAX_DEPTH} messages deep is not read"
                    ));
                }
                if !has_report && depth < MAX_DEPTH && is_bounce(inner) {
                    collect(
                        inner,
                        inner.raw_message.as_ref(),
                        start_line,
                        doc,
                        depth + 1,
                    );
                    continue;
                }
                if doc.message_id.is_none() {
                    doc.message_id = inner.message_id().map(|id| format!("<{id}>"));
                }
                doc.parts.push(original());
            }
            body => {
                // base64 that mail-parser gave up on (a stray character, a cut end)
                let lenient = part.is_encoding_problem
                    && part
                        .content_transfer_encoding()
                        .is_some_and(|e| e.trim().eq_ignore_ascii_case("base64"));
                if part.is_encoding_problem && ctype == "message" && subtype == "rfc822" {
                    doc.warnings.push(format!(
                        "line {start_line}: a message nested more than {MAX_DEPTH} deep (or broken) is not decoded"
                    ));
                }
                let bytes: Vec<u8> = match body {
                    _ if lenient => lenient_base64(raw_body),
                    PartType::Text(t) => t.as_bytes().to_vec(),
                    PartType::Html(h) => mail_parser::decoders::html::html_to_text(h).into_bytes(),
                    PartType::Binary(b) | PartType::InlineBinary(b) => b.to_vec(),
                    _ => Vec::new(),
                };
                let kind = match (ctype.as_str(), subtype.as_str()) {
                    ("message", s) if s.contains("delivery-status") => PartKind::DeliveryStatus,
                    // the returned original (RFC 6522) or, for SMTPUTF8 mail, its RFC 6533 form
                    ("message", "rfc822" | "global" | "rfc822-headers" | "global-headers")
                    | ("text", "rfc822-headers") => {
                        if doc.message_id.is_none() {
                            doc.message_id = MESSAGE_ID
                                .captures(&bytes)
                                .and_then(|c| c.get(1))
                                .map(|m| crate::sanitize::decode(m.as_bytes()));
                        }
                        doc.parts.push(original());
                        continue;
                    }
                    ("text", _) => PartKind::Text,
                    // an unlabelled or undecodable part that is mostly text still gets read
                    ("application" | "message", _) if looks_textual(&bytes) => PartKind::Text,
                    _ => continue,
                };
                // a part with no transfer encoding keeps its lines through charset decoding
                // (ISO-2022-JP, Shift_JIS...): its findings can point at their own line
                let exact = !lenient
                    && part.encoding == Encoding::None
                    && !matches!(body, PartType::Html(_))
                    && (bytes.as_slice() == raw_body || same_lines(&bytes, raw_body));
                doc.parts.push(Part {
                    kind,
                    start_line,
                    exact_lines: exact,
                    text: bytes,
                });
            }
        }
    }
}

/// Whether two texts have the same number of lines (line ends at their very end aside).
fn same_lines(a: &[u8], b: &[u8]) -> bool {
    let trim = |t: &[u8]| {
        let mut t = t;
        while let [rest @ .., b'\n' | b'\r'] = t {
            t = rest;
        }
        super::document::lines(t).count()
    };
    trim(a) == trim(b)
}

/// Decodes base64 leniently: the alphabet's characters are decoded, anything else
/// (padding, stray characters, line ends) is skipped, and a cut last group gives what it can.
fn lenient_base64(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &c in text {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => continue,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

fn looks_textual(b: &[u8]) -> bool {
    !b.is_empty()
        && memchr::memchr(0, &b[..b.len().min(4096)]).is_none()
        && std::str::from_utf8(&b[..b.len().min(4096)]).is_ok()
}

/// Compiles this module's patterns, one step each (see `pipeline`'s warm-up).
pub(crate) const WARM: &[fn()] = crate::re::warm_steps![
    PARSER,
    BOUNCE_SENDER,
    BOUNCE_SUBJECT,
    MESSAGE_ID,
    STRUCTURE_LINE,
];

#[cfg(test)]
mod tests {
    use super::*;

    const DSN: &str = "From: Mail Delivery System <MAILER-DAEMON@mx.example.org>\r\nTo: sam@example.org\r\nSubject: Undelivered Mail Returned to Sender\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n--B\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nI'm sorry to have to inform you that your message could not\r\nbe delivered.\r\n\r\n<dana@example.com>: host mail.example.com[192.0.2.25] said: 550 5.1.1 User unknown\r\n\r\n--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.org\r\n\r\nFinal-Recipient: rfc822; dana@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\nRemote-MTA: dns; mail.example.com\r\nDiagnostic-Code: smtp; 550 5.1.1 User unknown\r\n\r\n--B\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <abc@example.org>\r\nSubject: hello 5.7.1\r\n\r\n--B--\r\n";

    #[test]
    fn multipart_report() {
        let d = document(DSN.as_bytes(), 1);
        assert!(d.bounce);
        assert_eq!(d.message_id.as_deref(), Some("<abc@example.org>"));
        let kinds: Vec<PartKind> = d.parts.iter().map(|p| p.kind).collect();
        assert_eq!(
            kinds,
            [PartKind::Text, PartKind::DeliveryStatus, PartKind::Original]
        );
        assert_eq!(d.parts[0].start_line, 10);
        assert!(d.parts[0].exact_lines);
        assert_eq!(d.parts[1].start_line, 18);
    }

    #[test]
    fn global_headers_are_the_original() {
        let raw = DSN
            .replace(
                "report-type=delivery-status",
                "report-type=global-delivery-status",
            )
            .replace("message/delivery-status", "message/global-delivery-status")
            .replace("text/rfc822-headers", "message/global-headers");
        let d = document(raw.as_bytes(), 1);
        let kinds: Vec<PartKind> = d.parts.iter().map(|p| p.kind).collect();
        assert_eq!(
            kinds,
            [PartKind::Text, PartKind::DeliveryStatus, PartKind::Original]
        );
        assert_eq!(d.message_id.as_deref(), Some("<abc@example.org>"));
    }

    #[test]
    fn base64_part_starts_where_it_starts() {
        let body = "550 5.7.1 Relaying denied";
        let b64 = "NTUwIDUuNy4xIFJlbGF5aW5nIGRlbmllZA==";
        assert_eq!(body.len(), 25);
        let raw = format!(
            "From: a@example.org\nSubject: x\nContent-Type: text/plain\nContent-Transfer-Encoding: base64\n\n{b64}\n"
        );
        let d = document(raw.as_bytes(), 1);
        assert_eq!(d.parts[0].start_line, 6);
        assert!(!d.parts[0].exact_lines);
        assert!(String::from_utf8_lossy(&d.parts[0].text).contains(body));
    }

    #[test]
    fn legacy_japanese_charsets_are_decoded_line_for_line() {
        // "宛先" (recipient) in Shift_JIS and in ISO-2022-JP
        for (charset, word) in [
            ("Shift_JIS", &b"\x88\xb6\x90\xe6"[..]),
            ("ISO-2022-JP", b"\x1b$B08@h\x1b(B"),
        ] {
            let mut raw = format!(
                "From: postmaster@example.org\nSubject: x\nContent-Type: text/plain; charset={charset}\n\nline one\n"
            )
            .into_bytes();
            raw.extend_from_slice(word);
            raw.extend_from_slice(b": dana@example.com\n550 5.1.1 User unknown\n");
            let d = document(&raw, 1);
            let text = String::from_utf8(d.parts[0].text.clone()).unwrap();
            assert!(text.contains("宛先: dana@example.com"), "{charset}: {text}");
            assert_eq!(d.parts[0].start_line, 5);
            assert!(d.parts[0].exact_lines, "{charset}");
        }
    }

    #[test]
    fn broken_base64_is_read_leniently() {
        let raw = "From: MAILER-DAEMON@example.org\nSubject: Undelivered\nContent-Type: text/plain\nContent-Transfer-Encoding: base64\n\n!!##NTUwIDUuNy4xIFJl*bGF5aW5nIGRlbmllZA=*=\n";
        let d = document(raw.as_bytes(), 1);
        assert_eq!(d.parts.len(), 1);
        assert_eq!(d.parts[0].text, b"550 5.7.1 Relaying denied");
        assert_eq!(d.parts[0].start_line, 6);
        assert!(!d.parts[0].exact_lines);
        assert_eq!(lenient_base64(b"YWJj\nZA"), b"abcd");
    }

    #[test]
    fn deep_nesting_is_cut_with_a_warning() {
        // multipart nesting 10,000 deep: decoded up to the limit, the rest read as text
        let n = 10_000;
        let mut raw = String::from(
            "From: MAILER-DAEMON@example.org\nSubject: Undelivered Mail\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b0\"\n\n",
        );
        for i in 1..n {
            raw += &format!(
                "--b{}\nContent-Type: multipart/mixed; boundary=\"b{i}\"\n\n",
                i - 1
            );
        }
        raw += &format!(
            "--b{}\nContent-Type: text/plain\n\n550 5.1.1 User unknown\n",
            n - 1
        );
        for i in (0..n).rev() {
            raw += &format!("--b{i}--\n");
        }
        let d = document(raw.as_bytes(), 1);
        assert_eq!(d.warnings.len(), 1, "{:?}", d.warnings);
        assert!(d.warnings[0].contains("MIME structure"));
        let tail = d.parts.last().unwrap();
        assert_eq!(tail.kind, PartKind::Text);
        let text = String::from_utf8_lossy(&tail.text);
        assert!(text.contains("550 5.1.1 User unknown"));
        let at = tail.start_line as usize;
        let first = text.lines().next().unwrap();
        assert_eq!(raw.lines().nth(at - 1), Some(first));
        assert!(first.starts_with("--b") || first.starts_with("Content-Type"));
        // bounces forwarded inside bounces: read three levels deep, then a warning; ten
        // thousand levels are cut at the structure limit
        let nest = |levels: usize| {
            let mut raw = String::from(
                "From: MAILER-DAEMON@example.org\nSubject: Undelivered Mail\n\n550 5.1.1 User unknown\n",
            );
            for _ in 0..levels {
                raw = format!(
                    "From: MAILER-DAEMON@example.org\nSubject: Undelivered Mail\nMIME-Version: 1.0\nContent-Type: message/rfc822\n\n{raw}"
                );
            }
            document(raw.as_bytes(), 1).warnings
        };
        let w = nest(20);
        assert!(w.iter().any(|w| w.contains("nested more than 3")), "{w:?}");
        let w = nest(n);
        assert!(w.iter().any(|w| w.contains("MIME structure")), "{w:?}");
    }

    #[test]
    fn not_mime_is_text() {
        let d = document(b"just some words\n", 1);
        assert_eq!(d.parts.len(), 1);
        assert_eq!(d.parts[0].kind, PartKind::Text);
    }
}
