//! What the input stage hands over: documents and their parts, trace records, log
//! buffers (`Unit`), and the line splitting every decoder shares.

/// What a part of a document holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartKind {
    /// Human-readable text (a pasted bounce, a message body).
    Text,
    /// RFC 3464 `message/delivery-status` fields.
    DeliveryStatus,
    /// The returned original message or its headers: context only, never findings.
    Original,
}

/// A decoded piece of a document.
#[derive(Debug, Clone)]
pub struct Part {
    /// Text to scan, delivery-status fields, or the returned original (context only).
    pub kind: PartKind,
    /// 1-based line of the input where this part starts.
    pub start_line: u64,
    /// Whether lines of `text` map one to one to input lines (false for decoded parts).
    pub exact_lines: bool,
    /// The part's bytes, decoded from its transfer encoding (charset left as is).
    pub text: Vec<u8>,
}

/// A message (or pasted text) to be scanned as a whole.
#[derive(Debug, Clone)]
pub struct Document {
    /// The pieces in the order the message holds them.
    pub parts: Vec<Part>,
    /// The original message's Message-ID, when the document carries it.
    pub message_id: Option<String>,
    /// Known to be a bounce or delivery report (from its structure).
    pub bounce: bool,
    /// The message's own `Subject` (decoded), when it is a message: a bounce's subject can
    /// carry its verdict (`Returned mail: Cannot send message for 5 days`).
    pub subject: Option<String>,
    /// A message that is not a failure at all though it looks like one: `vacation` (an
    /// auto-reply) or `feedback` (an ARF abuse or authentication report).
    pub not_failure: Option<&'static str>,
    /// What was cut while decoding it (nesting too deep, a part that would not decode).
    pub warnings: Vec<String>,
}

impl Document {
    /// Plain text as one part starting at line 1.
    pub fn text(text: Vec<u8>) -> Document {
        Document {
            parts: vec![Part {
                kind: PartKind::Text,
                start_line: 1,
                exact_lines: true,
                text,
            }],
            message_id: None,
            bounce: false,
            subject: None,
            not_failure: None,
            warnings: Vec::new(),
        }
    }
}

/// One row of a message trace or tracking log: the status text and the row's own context.
#[derive(Debug, Clone, Default)]
pub struct Record {
    /// 1-based line of the row in the input.
    pub line: u64,
    /// The status or error text of the row (several columns joined with ` | `).
    pub text: Vec<u8>,
    /// The row's recipient address, as the export writes it.
    pub recipient: Option<String>,
    /// The row's message id (network message id, Message-ID or queue id).
    pub message_id: Option<String>,
    /// The row's date and time, as written (parsed later with `time::parse`).
    pub timestamp: Option<String>,
    /// The trace event (`DEFER`, `FAIL`, `DELIVER`...).
    pub event: Option<String>,
    /// `exchange-server` for a message tracking log (its queue lifetime is 2 days).
    pub mta: Option<&'static str>,
}

/// What the input stage hands over, in input order.
pub enum Unit {
    /// A row of a message trace or tracking log.
    Record(Record),
    /// Complete log lines; `first_line` is the 1-based number of the first. The taker may
    /// hand the buffer back with `recycle` once done with it.
    Lines {
        /// Whole lines, each ended by LF.
        buf: Vec<u8>,
        /// 1-based line number of the first line in the input.
        first_line: u64,
    },
    /// A whole document; `message` counts messages within the input, from 1.
    Document {
        /// The decoded document.
        doc: Document,
        /// Which message of the input it is, from 1.
        message: usize,
    },
    /// An RFC 5322 message still to be decoded with `decode_message`: the taker decodes it,
    /// so that decoding runs in parallel with reading.
    Message {
        /// The message as read (at most `MAX_MESSAGE` bytes).
        raw: Vec<u8>,
        /// 1-based line of the input where it starts.
        first_line: u64,
        /// Which message of the input it is, from 1.
        message: usize,
        /// Whether it came out of an mbox (its findings name the message number).
        in_mbox: bool,
    },
    /// Something the user should know (a cap was hit); the input goes on.
    Warning(String),
    /// A live pipe has gone quiet: what came so far should be shown now.
    Idle,
}

/// Splits text into lines on LF, CRLF or a lone CR; yields (line without its end, 1 per line).
pub fn lines(text: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        match memchr::memchr2(b'\n', b'\r', rest) {
            None => {
                let l = rest;
                rest = &[];
                Some(l)
            }
            Some(i) => {
                let l = &rest[..i];
                let skip = if rest[i] == b'\r' && rest.get(i + 1) == Some(&b'\n') {
                    2
                } else {
                    1
                };
                rest = &rest[i + skip..];
                Some(l)
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_every_line_ending() {
        let v: Vec<&[u8]> = lines(b"a\r\nb\rc\nd").collect();
        assert_eq!(v, [&b"a"[..], b"b", b"c", b"d"]);
    }
}
