//! Message traces and tracking logs as CSV: Exchange Online message trace exports
//! (Get-MessageTrace, Get-MessageTraceDetail, historical search / extended reports) and
//! Exchange Server message tracking logs (`#Fields:` header). Parsed with the csv crate,
//! header driven: columns in any order, extra columns ignored.

use super::document::Record;
use super::halt::Halt;
use regex::Regex;
use std::collections::VecDeque;
use std::io::Read;
use std::sync::LazyLock;

/// Notes where the line ends are as the csv reader pulls bytes, so that a row's line can be
/// told from its byte offset. (csv's own line count misses CRLF line ends inside quoted
/// fields, and then every later row is off by one per such line.)
struct LineCounter<R> {
    inner: R,
    /// Bytes read so far.
    offset: u64,
    /// Offsets of `\n` and `\r` bytes not yet passed by a row start, with the byte.
    ends: VecDeque<(u64, u8)>,
    /// 1-based line of the first byte after the ends already passed.
    line: u64,
}

impl<R: Read> LineCounter<R> {
    fn new(inner: R) -> Self {
        LineCounter {
            inner,
            offset: 0,
            ends: VecDeque::new(),
            line: 1,
        }
    }

    /// The line where a row that starts at byte `start` begins: line ends at the very start
    /// (the rest of a CRLF, blank lines the csv reader skipped) are passed over. Offsets must
    /// not decrease from one call to the next.
    fn line_at(&mut self, start: u64) -> u64 {
        let mut start = start;
        while let Some(&(at, b)) = self.ends.front() {
            if at > start {
                break;
            }
            self.ends.pop_front();
            if b == b'\n' {
                self.line += 1;
            }
            if at == start {
                start += 1;
            }
        }
        self.line
    }
}

impl<R: Read> Read for LineCounter<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        for i in memchr::memchr2_iter(b'\n', b'\r', &buf[..n]) {
            self.ends.push_back((self.offset + i as u64, buf[i]));
        }
        self.offset += n as u64;
        Ok(n)
    }
}

/// A row (a record, quoted line breaks included) longer than this is cut, with a warning:
/// the csv reader would otherwise hold a row with an unclosed quote, the whole rest of the
/// input, in memory. Trace rows are a few kilobytes.
pub const MAX_ROW: usize = 1 << 20;

/// Cuts rows longer than `MAX_ROW` as it reads: the row's first `MAX_ROW` bytes are kept
/// and ended (with a closing quote if a quoted field is open), the rest is dropped up to the
/// next line end, where reading goes on with no field open. The line count is unchanged:
/// the dropped line end is replaced by the one put in.
pub struct RowLimit<R> {
    inner: R,
    buf: Vec<u8>,
    pos: usize,
    len: usize,
    /// Inside a quoted field (by the parity of the quotes seen in this row).
    quoted: bool,
    /// Bytes of the current row so far.
    row: usize,
    dropping: bool,
    pending: VecDeque<u8>,
    /// Rows cut so far.
    pub cut: std::rc::Rc<std::cell::Cell<u64>>,
}

impl<R: Read> RowLimit<R> {
    /// Limits the rows read from `inner`.
    pub fn new(inner: R) -> Self {
        RowLimit {
            inner,
            buf: vec![0; 64 * 1024],
            pos: 0,
            len: 0,
            quoted: false,
            row: 0,
            dropping: false,
            pending: VecDeque::new(),
            cut: Default::default(),
        }
    }
}

impl<R: Read> Read for RowLimit<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let mut w = 0;
        while w < out.len() {
            if let Some(b) = self.pending.pop_front() {
                out[w] = b;
                w += 1;
                continue;
            }
            if self.pos == self.len {
                if w > 0 {
                    break;
                }
                self.len = self.inner.read(&mut self.buf)?;
                self.pos = 0;
                if self.len == 0 {
                    break;
                }
            }
            let avail = &self.buf[self.pos..self.len];
            if self.dropping {
                match memchr::memchr(b'\n', avail) {
                    Some(i) => {
                        self.pos += i + 1;
                        (self.dropping, self.quoted, self.row) = (false, false, 0);
                    }
                    None => self.pos = self.len,
                }
                continue;
            }
            // ordinary bytes up to the next quote or line end go across in one copy, as far
            // as the room left in `out` and in the row allow
            let span = avail.len().min(out.len() - w).min(MAX_ROW + 1 - self.row);
            let plain = memchr::memchr2(b'"', b'\n', &avail[..span]).unwrap_or(span);
            if plain > 0 {
                out[w..w + plain].copy_from_slice(&avail[..plain]);
                (w, self.pos, self.row) = (w + plain, self.pos + plain, self.row + plain);
                if self.row > MAX_ROW {
                    self.cut_row();
                }
                continue;
            }
            let b = avail[0];
            self.pos += 1;
            out[w] = b;
            w += 1;
            if b == b'"' {
                self.quoted = !self.quoted;
            } else if !self.quoted {
                // a line end outside quotes ends the row
                self.row = 0;
                continue;
            }
            self.row += 1;
            if self.row > MAX_ROW {
                self.cut_row();
            }
        }
        Ok(w)
    }
}

impl<R> RowLimit<R> {
    /// Ends the current row here (closing an open quote) and drops the rest of its line.
    fn cut_row(&mut self) {
        if self.quoted {
            self.pending.push_back(b'"');
        }
        self.pending.push_back(b'\n');
        self.dropping = true;
        self.cut.set(self.cut.get() + 1);
    }
}

/// Column names, normalised: lower case, `-` and spaces as `_`.
fn norm(name: &[u8]) -> String {
    String::from_utf8_lossy(name)
        .trim()
        .trim_matches('"')
        .to_ascii_lowercase()
        .replace(['-', ' '], "_")
}

/// Columns that hold the SMTP status or error text, in the order they are read.
const TEXT_COLUMNS: &[&str] = &[
    "recipient_status",
    "detail",
    "source_context",
    "lasterror",
    "last_error",
    "reason",
    "data",
    "status",
];
const TIME_COLUMNS: &[&str] = &[
    "date_time_utc",
    "date_time",
    "origin_timestamp_utc",
    "origin_timestamp",
    "date",
    "received",
    "timestamp",
];
const RECIPIENT_COLUMNS: &[&str] = &[
    "recipient_address",
    "recipientaddress",
    "recipient",
    "recipients",
];
const ID_COLUMNS: &[&str] = &[
    "network_message_id",
    "networkmessageid",
    "message_id",
    "messageid",
    "internal_message_id",
];
const EVENT_COLUMNS: &[&str] = &["event_id", "event", "action"];

/// Header names that mark a message trace or tracking log.
const MARKERS: &[&str] = &[
    "recipient_status",
    "date_time_utc",
    "origin_timestamp_utc",
    "event_id",
    "network_message_id",
    "messagetraceid",
    "recipientaddress",
];

/// The header of a trace export: its column names, normalised, and the field delimiter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The column names, normalised: lower case, `-` and spaces as `_`.
    pub columns: Vec<String>,
    /// `,`; `;` or tab when a spreadsheet saved the export again (Excel in many locales
    /// writes `;`, and its "Unicode text" is tab-separated UTF-16).
    pub delimiter: u8,
    /// An Exchange Server message tracking log (`#Fields:`), not a Microsoft 365 trace.
    pub tracking_log: bool,
}

/// Whether the first line of an input is the header of a trace export. For a tracking log
/// the header is the `#Fields:` line.
pub fn header_of(head: &[u8]) -> Option<Header> {
    for line in super::document::lines(head).take(16) {
        let line = line.strip_prefix(b"\xef\xbb\xbf").unwrap_or(line);
        if let Some(rest) = line.strip_prefix(b"#Fields:") {
            return Some(Header {
                columns: rest.split(|&b| b == b',').map(norm).collect(),
                delimiter: b',',
                tracking_log: true,
            });
        }
        if line.starts_with(b"#") {
            continue;
        }
        return [b',', b';', b'\t'].into_iter().find_map(|delimiter| {
            let cols: Vec<String> = line.split(|&b| b == delimiter).map(norm).collect();
            let has = |n: &str| cols.iter().any(|c| c == n);
            let marked = cols.len() >= 3 && cols.iter().any(|c| MARKERS.contains(&c.as_str()));
            (marked || (has("event") && has("detail"))).then_some(Header {
                columns: cols,
                delimiter,
                tracking_log: false,
            })
        });
    }
    None
}

fn find(cols: &[String], names: &[&str]) -> Option<usize> {
    names.iter().find_map(|n| cols.iter().position(|c| c == n))
}

fn field(rec: &csv::ByteRecord, i: Option<usize>) -> Option<String> {
    let v = rec.get(i?)?;
    let s = crate::sanitize::decode(v);
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

/// The start of one recipient's status in a `;`-joined list: a reply code, a `To`/`Cc`/`Bcc`
/// placeholder, or an enhanced summary's `##` events.
static STATUS_START: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*(?:[245][0-9][0-9](?:[ -]|$)|(?i:to|cc|bcc)\s*$|##|\{)").expect("static regex") // ok: a constant pattern, compiled by the tests
});

/// Splits a `recipient_status` that holds one status per recipient, `;`-joined, into `n`
/// statuses. A status may hold a `;` of its own (`550 5.1.1 RESOLVER.ADR.ExRecipNotFound; not
/// found`, `550 4.4.7 QUEUE.Expired;<error text>`): when a plain split does not give `n`
/// pieces, a piece that does not start like a status is joined back to the one before it.
/// None when neither way gives `n`.
fn split_statuses(s: &str, n: usize) -> Option<Vec<String>> {
    let plain: Vec<&str> = s.split(';').collect();
    if plain.len() == n {
        return Some(plain.iter().map(|p| p.trim().to_string()).collect());
    }
    let mut joined: Vec<String> = Vec::new();
    for p in plain {
        match joined.last_mut() {
            Some(last) if !STATUS_START.is_match(p) => {
                last.push(';');
                last.push_str(p);
            }
            _ => joined.push(p.to_string()),
        }
    }
    (joined.len() == n).then(|| joined.iter().map(|p| p.trim().to_string()).collect())
}

/// Reads the rows and hands each one that carries status text to `each` as a record.
pub(super) fn read<E>(
    reader: impl Read,
    header: &Header,
    each: &mut dyn FnMut(Record) -> Result<(), E>,
) -> Result<(), Halt<E>> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(header.delimiter)
        .from_reader(LineCounter::new(reader));
    let cols: &[String] = &header.columns;
    // where each field is, found once for the whole input
    let text_columns: Vec<usize> = TEXT_COLUMNS
        .iter()
        .filter_map(|n| find(cols, &[n]))
        .collect();
    let recipient_column = find(cols, RECIPIENT_COLUMNS);
    let status_column = find(cols, &["recipient_status"]);
    let id_column = find(cols, ID_COLUMNS);
    let time_column = find(cols, TIME_COLUMNS);
    let event_column = find(cols, EVENT_COLUMNS);
    let mut first_row = true;
    let mut rec = csv::ByteRecord::new();
    loop {
        match rdr.read_byte_record(&mut rec) {
            Ok(false) => return Ok(()),
            Ok(true) => {}
            // a malformed row (bad quoting): skip it, keep reading
            Err(e) if !e.is_io_error() => continue,
            Err(e) => return Err(Halt::Io(std::io::Error::other(e))),
        }
        let start = rec.position().map_or(0, |p| p.byte());
        let line = rdr.get_mut().line_at(start);
        // tracking-log header lines (`#Software:`, `#Fields:` ...)
        if rec.get(0).is_some_and(|f| f.starts_with(b"#")) {
            continue;
        }
        // the header row itself (a tracking log's #Fields line is a comment to csv)
        if std::mem::take(&mut first_row) && rec.iter().map(norm).eq(cols.iter().cloned()) {
            continue;
        }
        let texts: Vec<String> = text_columns
            .iter()
            .filter_map(|&i| field(&rec, Some(i)))
            .collect();
        if texts.is_empty() {
            continue;
        }
        let recipients = field(&rec, recipient_column);
        let status = field(&rec, status_column);
        let base = Record {
            line,
            text: texts.join(" | ").into_bytes(),
            recipient: recipients
                .as_deref()
                .map(|r| r.split(';').next().unwrap_or("").trim().to_string()),
            message_id: field(&rec, id_column),
            timestamp: field(&rec, time_column),
            event: field(&rec, event_column),
            mta: header.tracking_log.then_some("exchange-server"),
        };
        // several recipients with one status each, in the same order
        let split: Option<Vec<(String, String)>> = match (&recipients, &status) {
            (Some(r), Some(s)) if r.contains(';') => {
                let rs: Vec<&str> = r.split(';').map(str::trim).collect();
                split_statuses(s, rs.len())
                    .map(|ss| rs.iter().zip(ss).map(|(a, b)| (a.to_string(), b)).collect())
            }
            _ => None,
        };
        match split {
            Some(pairs) => {
                for (r, s) in pairs {
                    let rec = Record {
                        recipient: Some(r),
                        text: s.into_bytes(),
                        ..base.clone()
                    };
                    if let Err(e) = each(rec) {
                        return Err(Halt::Taker(e));
                    }
                }
            }
            None => {
                if let Err(e) = each(base) {
                    return Err(Halt::Taker(e));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(text: &str) -> Vec<Record> {
        let header = header_of(text.as_bytes()).expect("a trace header");
        let mut out = Vec::new();
        read::<()>(text.as_bytes(), &header, &mut |r| {
            out.push(r);
            Ok(())
        })
        .unwrap();
        out
    }

    #[test]
    fn long_rows_are_cut_and_lines_still_counted() {
        let mut t = b"date_time_utc,event_id,recipient_status\n2026-03-04T12:00:00Z,DEFER,\"450 4.4.316 x\n".to_vec();
        t.extend(std::iter::repeat_n(b'x', MAX_ROW + 10));
        t.extend_from_slice(
            b"\nmore\n2026-03-04T12:40:00Z,DEFER,\"451 4.4.317\nCannot connect\"\n",
        );
        let header = header_of(&t).unwrap();
        let limited = RowLimit::new(&t[..]);
        let cut = limited.cut.clone();
        let mut out = Vec::new();
        read::<()>(limited, &header, &mut |r| {
            out.push(r);
            Ok(())
        })
        .unwrap();
        assert_eq!(cut.get(), 1);
        let got: Vec<(u64, usize)> = out.iter().map(|r| (r.line, r.text.len())).collect();
        // the cut row keeps its first MAX_ROW bytes; `more` is a row of its own after it
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got[0].0, 2);
        assert!(got[0].1 > MAX_ROW - 64 && got[0].1 <= MAX_ROW);
        assert_eq!(got[1].0, 5);
        assert!(String::from_utf8_lossy(&out[1].text).contains("451 4.4.317"));
    }

    #[test]
    fn extended_report() {
        let t = "date_time_utc,server_hostname,event_id,message_id,network_message_id,recipient_address,recipient_status,sender_address\n2026-03-04T12:33:10.123Z,AM0PR01,DEFER,<a@example.org>,0f1e,dana@example.com,\"450 4.4.316 Connection refused [Message=Socket error code 10061] [LastAttemptedServerName=mail.example.com] [LastAttemptedIP=192.0.2.25:25]\",sam@example.org\n2026-03-04T12:40:00Z,AM0PR01,RECEIVE,<b@example.org>,0f1f,dana@example.com,,sam@example.org\n";
        let r = rows(t);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].line, 2);
        assert_eq!(r[0].recipient.as_deref(), Some("dana@example.com"));
        assert_eq!(r[0].message_id.as_deref(), Some("0f1e"));
        assert_eq!(r[0].event.as_deref(), Some("DEFER"));
        assert!(String::from_utf8_lossy(&r[0].text).starts_with("450 4.4.316"));
    }

    #[test]
    fn tracking_log_with_fields_line() {
        let t = "#Software: Microsoft Exchange Server\n#Version: 15.02.1544.004\n#Log-Type: Message Tracking Log\n#Fields: date-time,client-ip,client-hostname,server-ip,server-hostname,source-context,connector-id,source,event-id,internal-message-id,message-id,network-message-id,recipient-address,recipient-status,total-bytes\n2026-03-04T12:33:10.123Z,,,192.0.2.25,mail.example.com,,Internet,SMTP,DEFER,12884901890,<abc@example.org>,0f1e,dana@example.com,\"451 4.4.0 Primary target IP address responded with: \"\"421 4.2.1 Unable to connect.\"\" Attempted failover to alternate host, but that did not succeed.\",20480\n";
        let r = rows(t);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].line, 5);
        assert_eq!(r[0].event.as_deref(), Some("DEFER"));
        assert!(String::from_utf8_lossy(&r[0].text).contains("421 4.2.1"));
    }

    #[test]
    fn line_numbers_count_line_breaks_inside_quoted_fields() {
        for eol in ["\n", "\r\n"] {
            let t = "date_time_utc,event_id,recipient_address,recipient_status,custom_data\n2026-03-04T09:00:00Z,RECEIVE,a@example.com,,\"one\ntwo\n\nthree\"\n\n2026-03-04T10:00:00Z,DEFER,a@example.com,450 4.4.316 Connection refused,\n"
                .replace('\n', eol);
            let r = rows(&t);
            assert_eq!(r.len(), 1);
            assert_eq!(r[0].line, 7, "{eol:?}");
        }
    }

    #[test]
    fn statuses_with_semicolons_of_their_own_split_per_recipient() {
        let t = "#Fields: date-time,event-id,recipient-address,recipient-status\n2026-03-04T12:41:55.902Z,FAIL,lee@example.org;kai@example.org,550 5.1.1 RESOLVER.ADR.ExRecipNotFound; not found;550 5.1.1 RESOLVER.ADR.ExRecipNotFound; not found\n2026-03-04T12:42:00Z,DSN,a@example.org;b@example.org,250 2.1.5 Recipient OK;452 4.2.2 Mailbox full\n";
        let r = rows(t);
        let got: Vec<(Option<&str>, String)> = r
            .iter()
            .map(|r| {
                (
                    r.recipient.as_deref(),
                    String::from_utf8_lossy(&r.text).into_owned(),
                )
            })
            .collect();
        let notfound = "550 5.1.1 RESOLVER.ADR.ExRecipNotFound; not found".to_string();
        assert_eq!(
            got,
            [
                (Some("lee@example.org"), notfound.clone()),
                (Some("kai@example.org"), notfound),
                (Some("a@example.org"), "250 2.1.5 Recipient OK".to_string()),
                (Some("b@example.org"), "452 4.2.2 Mailbox full".to_string()),
            ]
        );
        assert_eq!(
            split_statuses("550 4.4.7 QUEUE.Expired;451 4.4.0 x;To", 2),
            None
        );
    }

    #[test]
    fn semicolon_and_tab_separated_exports() {
        let comma = "date_time_utc,event_id,recipient_address,recipient_status\n2026-03-04T12:33:10Z,DEFER,dana@example.com,\"450 4.4.316 Connection refused [Message=Socket error code 10061]\"\n";
        let want = rows(comma);
        assert_eq!(want.len(), 1);
        for d in [";", "\t"] {
            let r = rows(&comma.replace(',', d));
            assert_eq!(r.len(), 1, "{d:?}");
            assert_eq!(r[0].line, want[0].line);
            assert_eq!(r[0].recipient, want[0].recipient);
            assert_eq!(r[0].text, want[0].text, "{d:?}");
        }
        assert_eq!(header_of(b"Date;Event;Detail\n").unwrap().delimiter, b';');
    }

    #[test]
    fn not_a_trace() {
        assert!(header_of(b"a,b,c\n1,2,3\n").is_none());
        assert!(header_of(b"Mar  4 12:33:10 mx1 postfix/smtp[1]: x\n").is_none());
    }
}
