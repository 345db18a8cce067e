//! Bytes in: files, directories, standard input; the kind of each input sniffed from its
//! content; logs streamed in large buffers of whole lines, messages handed over as documents.
//!
//! This stage knows nothing of extraction or output: it calls back with `Unit`s.

mod decode;
mod document;
mod halt;
mod limits;
mod mbox;
pub mod mime;
mod reader;
mod sniff;
mod source;
pub mod trace;

pub use document::{Document, Part, PartKind, Record, Unit, lines};
pub use limits::{CHUNK, GZIP_RATIO_FLOOR, MAX_DOCUMENT, MAX_GZIP_RATIO, MAX_LINE, MAX_MESSAGE};
pub use reader::Buffers;
pub use sniff::Kind;
pub use source::{InputError, Source, expand, path_text};

/// The input patterns (sniffing, bounce-message tests), in steps like `extract::WARM`.
pub(crate) const WARM: &[&[fn()]] = &[sniff::WARM, mime::WARM];

use decode::{BareCrToLf, Counted, RatioLimit, has_bare_cr};
use halt::Halt;
use mbox::stream_mbox;
use reader::{Reader, grow_pipe, stdin_is_pipe, stream_lines};
use std::cell::Cell;
use std::fs::File;
use std::io::{self, Read};
use std::rc::Rc;

/// Why reading an input stopped before its end.
#[derive(Debug, thiserror::Error)]
pub enum ReadError<E> {
    /// The input could not be read: reported, and the next input is read.
    #[error(transparent)]
    Input(#[from] InputError),
    /// The taker of the units failed (a closed output pipe): passed back as it is.
    #[error("the taker of the units stopped the reading")]
    Taker(E),
}

/// Reads one source and hands its units to `each`, in order, filling line buffers taken from
/// `buffers` (the taker gives them back there once scanned). An error from `each` stops
/// the reading and is returned as `ReadError::Taker` (so a closed output pipe ends the run
/// quietly).
pub fn read<E>(
    source: &Source,
    buffers: &Buffers,
    each: &mut dyn FnMut(Unit) -> Result<(), E>,
) -> Result<(), ReadError<E>> {
    let path = source.display();
    let err = |error: io::Error| InputError {
        path: path.clone(),
        error,
    };
    // a stream that stopped early: the input's error (with its path), or the taker's
    let halt = |h: Halt<E>| match h {
        Halt::Io(error) => ReadError::Input(err(error)),
        Halt::Taker(e) => ReadError::Taker(e),
    };
    let mut size = None;
    // bytes read from the file itself: fewer than its size at the end, and it shrank
    let raw_read = Rc::new(Cell::new(0u64));
    let reader: Box<dyn Read> = match source {
        Source::Stdin => {
            grow_pipe();
            Box::new(io::stdin().lock())
        }
        Source::File(p) => {
            let f = File::open(p).map_err(err)?;
            let m = f.metadata().map_err(err)?;
            if m.is_dir() {
                return Err(err(io::Error::other("is a directory")).into());
            }
            size = Some(m.len());
            Box::new(Counted {
                inner: Box::new(f),
                n: raw_read.clone(),
            })
        }
    };
    // room for a small file whole (one read, no regrowth), else for the sniffed head
    let room = size.map_or(sniff::SNIFF_BYTES as u64, |n| {
        n.saturating_add(1).min(sniff::SNIFF_BYTES as u64)
    });
    let mut r = Reader {
        inner: reader,
        buf: Vec::with_capacity(room as usize),
        eof: false,
        live: matches!(source, Source::Stdin) && stdin_is_pipe(),
    };
    // a live pipe is sniffed on what it has written before going quiet
    r.fill_live(sniff::SNIFF_BYTES).map_err(err)?;
    // gzip, by its magic bytes (a .gz name alone proves nothing)
    let bomb = Rc::new(Cell::new(false));
    let damaged = Rc::new(std::cell::RefCell::new(None));
    if r.buf.starts_with(&[0x1f, 0x8b]) {
        r = r.wrap(|inner| {
            let compressed = Rc::new(Cell::new(0));
            let counted = Counted {
                inner,
                n: compressed.clone(),
            };
            Box::new(RatioLimit {
                inner: Box::new(flate2::read::MultiGzDecoder::new(counted)),
                compressed,
                inflated: 0,
                cut: bomb.clone(),
                damaged: damaged.clone(),
            })
        });
        r.fill(sniff::SNIFF_BYTES).map_err(err)?;
    }
    // a tar archive (plain or gzipped: `ustar` in its first header) is many files with
    // binary headers between them, not a log: not read, and said (no all-clear for it)
    if r.buf.get(257..262) == Some(b"ustar") {
        return Err(err(io::Error::other(
            "a tar archive, not read: extract it and give the folder",
        ))
        .into());
    }
    // UTF-16 with BOM: LE as PowerShell's Export-Csv and Excel's "Unicode text" write it,
    // BE as `-Encoding BigEndianUnicode` does
    let utf16 = match r.buf.get(..2) {
        Some([0xff, 0xfe]) => Some(false),
        Some([0xfe, 0xff]) => Some(true),
        _ => None,
    };
    if let Some(big_endian) = utf16 {
        r.buf.drain(..2);
        let encoding = if big_endian {
            encoding_rs::UTF_16BE
        } else {
            encoding_rs::UTF_16LE
        };
        r = r.wrap(|inner| {
            Box::new(
                encoding_rs_io::DecodeReaderBytesBuilder::new()
                    .encoding(Some(encoding))
                    .bom_override(false)
                    .build(inner),
            )
        });
        r.fill(sniff::SNIFF_BYTES).map_err(err)?;
    }
    if r.buf.starts_with(b"\xef\xbb\xbf") {
        r.buf.drain(..3);
    }
    // bare CR line ends (classic Mac files, or a header block ended by CRs in a file of LF
    // lines): as LF, so that logs, traces and mboxes split into lines like any other input;
    // CRLF stays as it is
    if has_bare_cr(&r.buf) {
        r = r.wrap(|inner| Box::new(BareCrToLf { inner, held: false }));
        r.fill(sniff::SNIFF_BYTES).map_err(err)?;
    }
    let warn = |each: &mut dyn FnMut(Unit) -> Result<(), E>, msg: String| each(Unit::Warning(msg));
    let done = match sniff::kind(&r.buf) {
        Kind::Log => stream_lines(&mut r, 1, &path, buffers, each).map_err(halt),
        Kind::Trace(header) => {
            let reader = io::Cursor::new(std::mem::take(&mut r.buf)).chain(r.inner);
            let limited = trace::RowLimit::new(reader);
            let cut = limited.cut.clone();
            match trace::read(limited, &header, &mut |rec| each(Unit::Record(rec))).map_err(halt) {
                Ok(()) if cut.get() > 0 => each(Unit::Warning(format!(
                    "{}: {} row{} longer than {} MiB: cut there",
                    crate::sanitize::text(&path),
                    cut.get(),
                    if cut.get() == 1 { "" } else { "s" },
                    trace::MAX_ROW >> 20
                )))
                .map_err(ReadError::Taker),
                done => done,
            }
        }
        Kind::Mbox => stream_mbox(&mut r, &path, each).map_err(halt),
        Kind::Message => {
            r.fill(MAX_MESSAGE).map_err(err)?;
            let cut = if r.eof {
                r.buf.len()
            } else {
                if let Err(e) = warn(
                    each,
                    format!(
                        "{}: message larger than {} MiB: the rest is scanned line by line",
                        crate::sanitize::text(&path),
                        MAX_MESSAGE >> 20,
                    ),
                ) {
                    return Err(ReadError::Taker(e));
                }
                // the message ends with its last whole line; the line cut there goes on below
                memchr::memrchr(b'\n', &r.buf).map_or(r.buf.len(), |i| i + 1)
            };
            let unit = Unit::Message {
                raw: r.buf[..cut].to_vec(),
                first_line: 1,
                message: 1,
                in_mbox: false,
            };
            if let Err(e) = each(unit) {
                return Err(ReadError::Taker(e));
            }
            let lines = memchr::memchr_iter(b'\n', &r.buf[..cut]).count() as u64;
            r.buf.drain(..cut);
            if r.eof && r.buf.is_empty() {
                Ok(())
            } else {
                stream_lines(&mut r, lines + 1, &path, buffers, each).map_err(halt)
            }
        }
        Kind::Text => {
            r.fill(MAX_DOCUMENT).map_err(err)?;
            if r.eof {
                let text = std::mem::take(&mut r.buf);
                each(Unit::Document {
                    doc: Document::text(text),
                    message: 1,
                })
                .map_err(ReadError::Taker)
            } else {
                // Too big for a pasted message: whatever it is, it is scanned line by line.
                match warn(
                    each,
                    format!(
                        "{}: more than {} MiB of unstructured text: scanned line by line",
                        crate::sanitize::text(&path),
                        MAX_DOCUMENT >> 20
                    ),
                ) {
                    Err(e) => Err(ReadError::Taker(e)),
                    Ok(()) => stream_lines(&mut r, 1, &path, buffers, each).map_err(halt),
                }
            }
        }
    };
    let lost = damaged.borrow_mut().take();
    if let (Some((at, why)), Ok(())) = (lost, &done) {
        return each(Unit::Warning(format!(
            "{}: the gzip data is damaged near compressed byte {at} ({}): what came before it was read, the rest was not",
            crate::sanitize::text(&path),
            crate::sanitize::text(&why)
        )))
        .map_err(ReadError::Taker);
    }
    if let (Some(n), false, Ok(())) = (size, bomb.get(), &done)
        && raw_read.get() < n
    {
        return each(Unit::Warning(format!(
            "{}: the file shrank while it was read ({} of its {n} bytes were there): it was read as far as it went",
            crate::sanitize::text(&path),
            raw_read.get()
        )))
        .map_err(ReadError::Taker);
    }
    if bomb.get() && matches!(done, Ok(())) {
        return each(Unit::Warning(format!(
            "{}: inflates to more than {MAX_GZIP_RATIO} times its compressed size (a decompression bomb?): the rest is not read",
            crate::sanitize::text(&path)
        )))
        .map_err(ReadError::Taker);
    }
    done
}

/// Decodes a message handed over as `Unit::Message`: the document, and its own warnings
/// (a cut MIME structure...) naming the input, and the message when it is one of an mbox.
pub fn decode_message(
    raw: &[u8],
    first_line: u64,
    path: &str,
    message: usize,
    in_mbox: bool,
) -> (Document, Vec<String>) {
    // an mbox message is read as the same text in a file of its own would be: without a
    // header block ended by a blank line it is plain text, not a message
    let mut doc = if in_mbox && !sniff::is_message(raw) {
        let mut d = Document::text(raw.to_vec());
        d.parts[0].start_line = first_line;
        d
    } else {
        mime::document(raw, first_line)
    };
    let at = if in_mbox {
        format!(" message {message}:")
    } else {
        String::new()
    };
    let warnings = doc
        .warnings
        .drain(..)
        .map(|w| format!("{}:{at} {w}", crate::sanitize::text(path)))
        .collect();
    (doc, warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn units(bytes: &[u8]) -> Vec<String> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("input");
        std::fs::write(&p, bytes).unwrap();
        let mut out = Vec::new();
        read::<()>(&Source::File(p.clone()), &Buffers::new(), &mut |u| {
            out.push(match u {
                Unit::Lines { buf, first_line } => {
                    format!("lines {first_line}: {}", String::from_utf8_lossy(&buf))
                }
                Unit::Record(r) => format!("record {}", r.line),
                Unit::Document { message, .. } | Unit::Message { message, .. } => {
                    format!("message {message}")
                }
                Unit::Warning(w) => format!("warning {w}"),
                Unit::Idle => "idle".to_string(),
            });
            Ok(())
        })
        .unwrap();
        out
    }

    #[test]
    fn cr_only_inputs_split_into_lines() {
        let log = units(
            b"Mar  4 12:33:10 mx1 postfix/smtp[1]: a\rMar  4 12:33:11 mx1 postfix/smtp[1]: b\r",
        );
        assert_eq!(
            log,
            [
                "lines 1: Mar  4 12:33:10 mx1 postfix/smtp[1]: a\nMar  4 12:33:11 mx1 postfix/smtp[1]: b\n"
            ]
        );
        let trace = units(b"date_time_utc,event_id,recipient_status\r2026-03-04T12:00:00Z,RECEIVE,\r2026-03-04T12:33:10Z,DEFER,450 4.4.316 Connection refused\r");
        assert_eq!(trace, ["record 3"]);
        let mbox = units(b"From a Thu Mar  5 09:14:02 2026\rFrom: x@example.org\r\rone\rFrom b Thu Mar  5 09:14:03 2026\rFrom: y@example.org\r\rtwo\r");
        assert_eq!(mbox, ["message 1", "message 2"]);
    }

    #[test]
    fn broken_utf16_becomes_replacement_characters() {
        // a lone high surrogate inside, an odd byte at the end; an astral character whose
        // surrogate pair straddles two reads of the underlying file
        let mut bytes = vec![0xff, 0xfe];
        for u in "Mar  4 12:33:10 mx1 postfix/smtp[1]: a".encode_utf16() {
            bytes.extend(u.to_le_bytes());
        }
        bytes.extend(0xd800u16.to_le_bytes());
        for u in "b \u{1f600}\nMar  4 12:33:11 mx1 postfix/smtp[1]: c\n".encode_utf16() {
            bytes.extend(u.to_le_bytes());
        }
        bytes.push(b'x');
        assert_eq!(
            units(&bytes),
            [
                "lines 1: Mar  4 12:33:10 mx1 postfix/smtp[1]: a\u{fffd}b \u{1f600}\nMar  4 12:33:11 mx1 postfix/smtp[1]: c\n\u{fffd}"
            ]
        );
        // 40,000 astral characters: the underlying reads end at every alignment
        let mut long = vec![0xff, 0xfe];
        for u in "Mar  4 12:33:10 mx1 postfix/smtp[1]: a\n"
            .repeat(2)
            .encode_utf16()
        {
            long.extend(u.to_le_bytes());
        }
        for _ in 0..40_000 {
            for u in "\u{1f600}a ".encode_utf16() {
                long.extend(u.to_le_bytes());
            }
        }
        let text = units(&long).concat();
        assert!(!text.contains('\u{fffd}'));
        assert_eq!(text.matches('\u{1f600}').count(), 40_000);
        assert!(text.ends_with("\u{1f600}a "));
    }

    #[test]
    fn utf16_with_either_byte_order() {
        let text = "Mar  4 12:33:10 mx1 postfix/smtp[1]: a \u{2713}\nMar  4 12:33:11 mx1 postfix/smtp[1]: b\n";
        for (bom, be) in [([0xff, 0xfe], false), ([0xfe, 0xff], true)] {
            let mut bytes = bom.to_vec();
            bytes.extend(
                text.encode_utf16().flat_map(
                    |u| {
                        if be { u.to_be_bytes() } else { u.to_le_bytes() }
                    },
                ),
            );
            assert_eq!(
                units(&bytes),
                [format!("lines 1: {text}")],
                "big endian: {be}"
            );
        }
    }
}
