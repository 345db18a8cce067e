//! Mbox files: messages split on their `From ` lines, each handed over to be decoded.

use super::document::Unit;
use super::halt::Halt;
use super::limits::*;
use super::reader::Reader;

/// Splits an mbox into messages at `From ` lines and hands each over as a document. The
/// buffer is compacted only when less than a `CHUNK` of it is left to search, so that many
/// small messages cost no more than a few large ones.
pub(super) fn stream_mbox<E>(
    r: &mut Reader,
    path: &str,
    each: &mut dyn FnMut(Unit) -> Result<(), E>,
) -> Result<(), Halt<E>> {
    let mut message = 0usize;
    let mut first_line: u64 = 1;
    let finder = memchr::memmem::Finder::new(b"\nFrom ");
    // the current message starts at `start`; `searched` of its bytes hold no `From ` line
    let mut start = 0usize;
    let mut searched = 0usize;
    // after a message was cut at `MAX_MESSAGE`: the rest of it, up to the next `From ` line,
    // is scanned line by line as part of that message, not taken for a new one
    let mut rest_of_cut = false;
    loop {
        if !r.eof && r.buf.len() - start - searched < CHUNK {
            r.buf.drain(..start);
            start = 0;
            r.fill(searched + 2 * CHUNK)?;
        }
        let from = start + searched.saturating_sub(6);
        let mut by_size = false;
        let cut = match finder.find(&r.buf[from..]) {
            Some(i) => Some(from + i + 1),
            None if r.eof => Some(r.buf.len()),
            None if r.buf.len() - start >= MAX_MESSAGE => {
                if !rest_of_cut
                    && let Err(e) = each(Unit::Warning(format!(
                        "{}: message {} larger than {} MiB: the rest of it is scanned line by line",
                        crate::sanitize::text(path),
                        message + 1,
                        MAX_MESSAGE >> 20
                    )))
                {
                    return Err(Halt::Taker(e));
                }
                // at the end of its last whole line
                by_size = true;
                let end =
                    memchr::memrchr(b'\n', &r.buf[start..]).map_or(r.buf.len(), |i| start + i + 1);
                Some(end)
            }
            None => None,
        };
        let Some(cut) = cut else {
            searched = r.buf.len() - start;
            continue;
        };
        searched = 0;
        let raw = &r.buf[start..cut];
        let lines = memchr::memchr_iter(b'\n', raw).count() as u64;
        if rest_of_cut {
            // the rest of a cut message: its lines, in that message
            if let Err(e) = each(Unit::Lines {
                buf: raw.to_vec(),
                first_line,
            }) {
                return Err(Halt::Taker(e));
            }
        } else if !raw.iter().all(u8::is_ascii_whitespace) {
            message += 1;
            // the envelope `From ` line is not part of the message
            let (body, skip) = match memchr::memchr(b'\n', raw) {
                Some(i) if raw.starts_with(b"From ") => (&raw[i + 1..], 1),
                _ => (raw, 0),
            };
            let unit = Unit::Message {
                raw: body.to_vec(),
                first_line: first_line + skip,
                message,
                in_mbox: true,
            };
            if let Err(e) = each(unit) {
                return Err(Halt::Taker(e));
            }
        }
        first_line += lines;
        start = cut;
        // a cut for size (not at a `From ` line) leaves the message's rest to come
        rest_of_cut = by_size;
        if r.eof && start == r.buf.len() {
            return Ok(());
        }
    }
}
