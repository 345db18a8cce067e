//! Bytes in: files, directories, standard input; the kind of each input sniffed from its
//! content; logs streamed in large buffers of whole lines, messages handed over as documents.
//!
//! This stage knows nothing of extraction or output: it calls back with `Unit`s.

mod document;
pub mod mime;
mod sniff;
mod source;
pub mod trace;

pub use document::{Document, Part, PartKind, Record, Unit, lines};
pub use sniff::Kind;
pub use source::{InputError, Source, expand, path_text};

/// The input patterns (sniffing, bounce-message tests), in steps like `extract::WARM`.
pub(crate) const WARM: &[&[fn()]] = &[sniff::WARM, mime::WARM];

use std::cell::Cell;
use std::fs::File;
use std::io::{self, Read};
use std::rc::Rc;

/// Size of the buffers a log is read in.
pub const CHUNK: usize = 256 * 1024;
/// A line longer than this is scanned in pieces (with a warning) so memory stays bounded.
pub const MAX_LINE: usize = 1 << 20;
/// Unstructured text up to this size is one document; the rest is scanned as lines.
pub const MAX_DOCUMENT: usize = 16 << 20;

/// When standard input is a pipe, asks Linux for a 1 MiB pipe buffer instead of 64 KiB:
/// the writer (`cat`, `zcat`, `journalctl`) runs ahead while a buffer is being scanned, and
/// there are 16 times fewer reads. Harmless when it is not a pipe or the call is refused.
fn grow_pipe() {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let fd = io::stdin().as_raw_fd();
        // SAFETY: fcntl on our own standard input descriptor with an integer argument; a
        // failure (not a pipe, over the system limit) only leaves the buffer as it was
        unsafe {
            libc::fcntl(fd, libc::F_SETPIPE_SZ, 1 << 20);
        }
    }
}

/// A message larger than this is cut (with a warning) so memory stays bounded: its first
/// `MAX_MESSAGE` bytes are decoded as a message, the rest is scanned line by line.
pub const MAX_MESSAGE: usize = 32 << 20;

/// A gzip input that inflates to more than this many times its compressed size (once past
/// `GZIP_RATIO_FLOOR`) is taken for a decompression bomb: reading stops there with a
/// warning. Real logs compress 5 to 30 times; a bomb of zeros, about 1000 times.
pub const MAX_GZIP_RATIO: u64 = 250;
/// Inflated bytes always allowed before `MAX_GZIP_RATIO` applies.
pub const GZIP_RATIO_FLOOR: u64 = 64 << 20;

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

/// Reads one source and hands its units to `each`, in order. An error from `each` stops
/// the reading and is returned as `ReadError::Taker` (so a closed output pipe ends the run
/// quietly).
pub fn read<E>(
    source: &Source,
    each: &mut dyn FnMut(Unit) -> Result<(), E>,
) -> Result<(), ReadError<E>> {
    match read_units(source, each) {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(ReadError::Taker(e)),
        Err(e) => Err(ReadError::Input(e)),
    }
}

/// `read`, with the taker's error inside the input's.
fn read_units<E>(
    source: &Source,
    each: &mut dyn FnMut(Unit) -> Result<(), E>,
) -> Result<Result<(), E>, InputError> {
    let path = source.display();
    let err = |error: io::Error| InputError {
        path: path.clone(),
        error,
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
                return Err(err(io::Error::other("is a directory")));
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
        )));
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
        Kind::Log => Ok(stream_lines(&mut r, 1, &path, each).map_err(err)?),
        Kind::Trace(header) => {
            let reader = io::Cursor::new(std::mem::take(&mut r.buf)).chain(r.inner);
            let limited = trace::RowLimit::new(reader);
            let cut = limited.cut.clone();
            match trace::read(limited, &header, &mut |rec| each(Unit::Record(rec))).map_err(err)? {
                Ok(()) if cut.get() > 0 => Ok(each(Unit::Warning(format!(
                    "{}: {} row{} longer than {} MiB: cut there",
                    crate::sanitize::text(&path),
                    cut.get(),
                    if cut.get() == 1 { "" } else { "s" },
                    trace::MAX_ROW >> 20
                )))),
                done => Ok(done),
            }
        }
        Kind::Mbox => Ok(stream_mbox(&mut r, &path, each).map_err(err)?),
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
                    return Ok(Err(e));
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
                return Ok(Err(e));
            }
            let lines = memchr::memchr_iter(b'\n', &r.buf[..cut]).count() as u64;
            r.buf.drain(..cut);
            if r.eof && r.buf.is_empty() {
                Ok(Ok(()))
            } else {
                Ok(stream_lines(&mut r, lines + 1, &path, each).map_err(err)?)
            }
        }
        Kind::Text => {
            r.fill(MAX_DOCUMENT).map_err(err)?;
            if r.eof {
                let text = std::mem::take(&mut r.buf);
                Ok(each(Unit::Document {
                    doc: Document::text(text),
                    message: 1,
                }))
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
                    Err(e) => Ok(Err(e)),
                    Ok(()) => Ok(stream_lines(&mut r, 1, &path, each).map_err(err)?),
                }
            }
        }
    };
    let lost = damaged.borrow_mut().take();
    if let (Some((at, why)), Ok(Ok(()))) = (lost, &done) {
        return Ok(each(Unit::Warning(format!(
            "{}: the gzip data is damaged near compressed byte {at} ({}): what came before it was read, the rest was not",
            crate::sanitize::text(&path),
            crate::sanitize::text(&why)
        ))));
    }
    if let (Some(n), false, Ok(Ok(()))) = (size, bomb.get(), &done)
        && raw_read.get() < n
    {
        return Ok(each(Unit::Warning(format!(
            "{}: the file shrank while it was read ({} of its {n} bytes were there): it was read as far as it went",
            crate::sanitize::text(&path),
            raw_read.get()
        ))));
    }
    if bomb.get() && matches!(done, Ok(Ok(()))) {
        return Ok(each(Unit::Warning(format!(
            "{}: inflates to more than {MAX_GZIP_RATIO} times its compressed size (a decompression bomb?): the rest is not read",
            crate::sanitize::text(&path)
        ))));
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

/// Counts the bytes read through it.
struct Counted {
    inner: Box<dyn Read>,
    n: Rc<Cell<u64>>,
}

impl Read for Counted {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.n.set(self.n.get() + n as u64);
        Ok(n)
    }
}

/// Ends a decompressed stream (setting `cut`) once it outgrows `MAX_GZIP_RATIO`.
struct RatioLimit {
    inner: Box<dyn Read>,
    compressed: Rc<Cell<u64>>,
    inflated: u64,
    cut: Rc<Cell<bool>>,
    /// Where the compressed data turned out damaged (truncated, trailing bytes, a bad
    /// block), and how: what came before is kept, the rest is not read.
    damaged: Rc<std::cell::RefCell<Option<(u64, String)>>>,
}

impl Read for RatioLimit {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.inflated > GZIP_RATIO_FLOOR
            && self.inflated / MAX_GZIP_RATIO > self.compressed.get()
        {
            self.cut.set(true);
            return Ok(0);
        }
        match self.inner.read(buf) {
            Ok(n) => {
                self.inflated += n as u64;
                Ok(n)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(e),
            Err(e) => {
                *self.damaged.borrow_mut() = Some((self.compressed.get(), e.to_string()));
                Ok(0)
            }
        }
    }
}

/// Splits an mbox into messages at `From ` lines and hands each over as a document. The
/// buffer is compacted only when less than a `CHUNK` of it is left to search, so that many
/// small messages cost no more than a few large ones.
fn stream_mbox<E>(
    r: &mut Reader,
    path: &str,
    each: &mut dyn FnMut(Unit) -> Result<(), E>,
) -> io::Result<Result<(), E>> {
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
                    return Ok(Err(e));
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
                return Ok(Err(e));
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
                return Ok(Err(e));
            }
        }
        first_line += lines;
        start = cut;
        // a cut for size (not at a `From ` line) leaves the message's rest to come
        rest_of_cut = by_size;
        if r.eof && start == r.buf.len() {
            return Ok(Ok(()));
        }
    }
}

/// Turns every CR into LF as it reads (for input whose lines end in CR alone).
/// Whether a buffer holds a CR that does not start a CRLF.
fn has_bare_cr(buf: &[u8]) -> bool {
    memchr::memchr_iter(b'\r', buf).any(|i| buf.get(i + 1).is_some_and(|&b| b != b'\n'))
}

/// Turns each bare CR (not followed by LF) into LF as it reads; a CR at the end of one read
/// is held until the next byte tells.
struct BareCrToLf {
    inner: Box<dyn Read>,
    held: bool,
}

impl Read for BareCrToLf {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let start = usize::from(self.held);
        if self.held {
            buf[0] = b'\r';
            self.held = false;
        }
        let n = self.inner.read(&mut buf[start..])?;
        let mut len = start + n;
        if n == 0 {
            // the end: a held CR ended the last line
            if len == 1 {
                buf[0] = b'\n';
            }
            return Ok(len);
        }
        if buf[len - 1] == b'\r' {
            self.held = true;
            len -= 1;
        }
        for i in 0..len {
            if buf[i] == b'\r' && buf.get(i + 1).is_some_and(|&b| b != b'\n') {
                buf[i] = b'\n';
            }
        }
        if len == 0 {
            // only the held CR came: read again rather than look like the end
            return self.read(buf);
        }
        Ok(len)
    }
}

struct Reader {
    inner: Box<dyn Read>,
    buf: Vec<u8>,
    eof: bool,
    /// Standard input is a pipe read as it is written (`tail -f | ndr-doctor`): see
    /// `fill_live`.
    live: bool,
}

impl Reader {
    /// Puts a decoder in front of what is left of the input (the bytes read so far first).
    fn wrap(self, f: impl FnOnce(Box<dyn Read>) -> Box<dyn Read>) -> Reader {
        let rest: Box<dyn Read> = Box::new(io::Cursor::new(self.buf).chain(self.inner));
        Reader {
            inner: f(rest),
            buf: Vec::with_capacity(CHUNK),
            eof: false,
            // a decoder may hold data that the pipe no longer shows
            live: false,
        }
    }

    /// Like `fill`, but on a live pipe returns early once the buffer holds a complete line
    /// and nothing more has come for `LIVE_WAIT_MS`: a slowly written log is scanned as
    /// it comes, not when 256 KiB have piled up. Returns whether it stopped so (the input
    /// is idle).
    fn fill_live(&mut self, want: usize) -> io::Result<bool> {
        if !self.live {
            self.fill(want)?;
            return Ok(false);
        }
        let mut has_line = memchr::memchr(b'\n', &self.buf).is_some();
        while !self.eof && self.buf.len() < want {
            if has_line && !stdin_readable(LIVE_WAIT_MS) {
                return Ok(true);
            }
            // one read: what the pipe holds now (at most its 1 MiB)
            let at = self.buf.len();
            let room = (want - at).min(1 << 20);
            self.buf.resize(at + room, 0);
            let got = loop {
                match self.inner.read(&mut self.buf[at..]) {
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    other => break other,
                }
            };
            let n = match got {
                Ok(n) => n,
                Err(e) => {
                    self.buf.truncate(at);
                    return Err(e);
                }
            };
            self.buf.truncate(at + n);
            if n == 0 {
                self.eof = true;
            }
            has_line |= memchr::memchr(b'\n', &self.buf[at..]).is_some();
        }
        Ok(false)
    }

    /// Reads until `buf` holds at least `want` bytes or the input ends.
    fn fill(&mut self, want: usize) -> io::Result<()> {
        if self.eof || self.buf.len() >= want {
            return Ok(());
        }
        // read_to_end reads into spare capacity without zero-filling it first, and grows the
        // buffer only as data comes (a small file never gets a big buffer)
        let missing = (want - self.buf.len()) as u64;
        let got = (&mut self.inner).take(missing).read_to_end(&mut self.buf)?;
        if (got as u64) < missing {
            self.eof = true;
        }
        Ok(())
    }
}

/// How long a live pipe may stay quiet before what was read is scanned and shown.
const LIVE_WAIT_MS: i32 = 100;

/// Whether standard input is a pipe or FIFO, which `Reader::fill_live` reads as it comes.
/// (A terminal is not: a pasted bounce is read whole, up to Ctrl-D.)
fn stdin_is_pipe() -> bool {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: fstat on our own standard input, into a zeroed stat owned by this frame
        unsafe {
            let mut st: libc::stat = std::mem::zeroed();
            libc::fstat(0, &mut st) == 0 && (st.st_mode & libc::S_IFMT) == libc::S_IFIFO
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        false
    }
}

/// Whether standard input has data (or its end) within `timeout_ms`. An error counts as
/// readable: the read that follows reports it.
fn stdin_readable(timeout_ms: i32) -> bool {
    #[cfg(target_os = "linux")]
    {
        let mut fd = libc::pollfd {
            fd: 0,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: poll on one pollfd owned by this frame
        unsafe { libc::poll(&mut fd, 1, timeout_ms) != 0 }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = timeout_ms;
        true
    }
}

/// Where a piece of a line longer than `MAX_LINE` ends: after the last blank in the second
/// half of the buffer, so that a code is not cut in two; else at the end of the buffer.
fn piece_end(buf: &[u8]) -> usize {
    let half = buf.len() / 2;
    memchr::memrchr2(b' ', b'\t', &buf[half..]).map_or(buf.len(), |i| half + i + 1)
}

/// Line buffers handed back by `recycle`, for `stream_lines` to fill again: a long log
/// streams through a few buffers, not an allocation (and fresh pages) per chunk.
static SPARE: std::sync::Mutex<Vec<Vec<u8>>> = std::sync::Mutex::new(Vec::new());

/// Buffers kept for reuse: more than the pipeline ever has in flight.
const MAX_SPARE: usize = 32;

/// Hands back a buffer from `Unit::Lines` once its lines are scanned.
pub fn recycle(mut buf: Vec<u8>) {
    // a buffer grown for one very long line is not kept
    if buf.capacity() < CHUNK || buf.capacity() > 2 * CHUNK {
        return;
    }
    buf.clear();
    if let Ok(mut spare) = SPARE.lock()
        && spare.len() < MAX_SPARE
    {
        spare.push(buf);
    }
}

fn spare_buffer() -> Vec<u8> {
    SPARE
        .lock()
        .ok()
        .and_then(|mut s| s.pop())
        .unwrap_or_else(|| Vec::with_capacity(CHUNK + CHUNK / 4))
}

/// Streams complete lines in buffers of about `CHUNK` bytes.
fn stream_lines<E>(
    r: &mut Reader,
    mut first_line: u64,
    path: &str,
    each: &mut dyn FnMut(Unit) -> Result<(), E>,
) -> io::Result<Result<(), E>> {
    let mut warned_long = false;
    loop {
        let idle = r.fill_live(CHUNK)?;
        if r.buf.is_empty() {
            return Ok(Ok(()));
        }
        let cut = if r.eof {
            r.buf.len()
        } else {
            match memchr::memrchr(b'\n', &r.buf) {
                Some(i) => i + 1,
                None => {
                    // one line longer than a buffer: gather up to MAX_LINE, then cut it
                    r.fill(MAX_LINE)?;
                    match memchr::memrchr(b'\n', &r.buf) {
                        Some(i) => i + 1,
                        None if r.eof => r.buf.len(),
                        None => {
                            if !warned_long {
                                warned_long = true;
                                if let Err(e) = each(Unit::Warning(format!(
                                    "{}: line {first_line} is longer than {} MiB: scanned in pieces",
                                    crate::sanitize::text(path),
                                    MAX_LINE >> 20
                                ))) {
                                    return Ok(Err(e));
                                }
                            }
                            piece_end(&r.buf)
                        }
                    }
                }
            }
        };
        let lines = memchr::memchr_iter(b'\n', &r.buf[..cut]).count() as u64;
        // the lines go as they are; the partial line after them starts the next buffer
        let mut next = spare_buffer();
        next.extend_from_slice(&r.buf[cut..]);
        let mut buf = std::mem::replace(&mut r.buf, next);
        buf.truncate(cut);
        if let Err(e) = each(Unit::Lines { buf, first_line }) {
            return Ok(Err(e));
        }
        if idle && let Err(e) = each(Unit::Idle) {
            return Ok(Err(e));
        }
        first_line += lines;
        if r.eof && r.buf.is_empty() {
            return Ok(Ok(()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn units(bytes: &[u8]) -> Vec<String> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("input");
        std::fs::write(&p, bytes).unwrap();
        let mut out = Vec::new();
        read::<()>(&Source::File(p.clone()), &mut |u| {
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
