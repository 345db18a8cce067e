//! The reader: whole lines in large buffers from a file or a pipe (a live pipe shown as it
//! goes quiet), with the buffers recycled.

use super::document::Unit;
use super::halt::Halt;
use super::limits::*;
use std::io::{self, Read};
use std::sync::{Arc, Mutex};

/// When standard input is a pipe, asks Linux for a 1 MiB pipe buffer instead of 64 KiB:
/// the writer (`cat`, `zcat`, `journalctl`) runs ahead while a buffer is being scanned, and
/// there are 16 times fewer reads. Harmless when it is not a pipe or the call is refused.
pub(super) fn grow_pipe() {
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

pub(super) struct Reader {
    pub(super) inner: Box<dyn Read>,
    pub(super) buf: Vec<u8>,
    pub(super) eof: bool,
    /// Standard input is a pipe read as it is written (`tail -f | ndr-doctor`): see
    /// `fill_live`.
    pub(super) live: bool,
}

impl Reader {
    /// Puts a decoder in front of what is left of the input (the bytes read so far first).
    pub(super) fn wrap(self, f: impl FnOnce(Box<dyn Read>) -> Box<dyn Read>) -> Reader {
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
    pub(super) fn fill_live(&mut self, want: usize) -> io::Result<bool> {
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
    pub(super) fn fill(&mut self, want: usize) -> io::Result<()> {
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
pub(super) const LIVE_WAIT_MS: i32 = 100;

/// Whether standard input is a pipe or FIFO, which `Reader::fill_live` reads as it comes.
/// (A terminal is not: a pasted bounce is read whole, up to Ctrl-D.)
pub(super) fn stdin_is_pipe() -> bool {
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
pub(super) fn stdin_readable(timeout_ms: i32) -> bool {
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
pub(super) fn piece_end(buf: &[u8]) -> usize {
    let half = buf.len() / 2;
    memchr::memrchr2(b' ', b'\t', &buf[half..]).map_or(buf.len(), |i| half + i + 1)
}

/// Buffers kept for reuse: more than the pipeline ever has in flight.
const MAX_SPARE: usize = 32;

/// Line buffers handed back once their lines are scanned, for the reader to fill again: a
/// long log streams through a few buffers, not an allocation (and fresh pages) per chunk.
/// The reader and the workers that scan share one pool: a clone is a handle to the same.
#[derive(Clone, Debug, Default)]
pub struct Buffers(Arc<Mutex<Vec<Vec<u8>>>>);

impl Buffers {
    /// An empty pool.
    pub fn new() -> Buffers {
        Buffers::default()
    }

    /// Hands back a buffer from `Unit::Lines` once its lines are scanned.
    pub fn recycle(&self, mut buf: Vec<u8>) {
        // a buffer grown for one very long line is not kept
        if buf.capacity() < CHUNK || buf.capacity() > 2 * CHUNK {
            return;
        }
        buf.clear();
        if let Ok(mut spare) = self.0.lock()
            && spare.len() < MAX_SPARE
        {
            spare.push(buf);
        }
    }

    /// A buffer to fill: a recycled one, else a new one.
    pub(super) fn take(&self) -> Vec<u8> {
        self.0
            .lock()
            .ok()
            .and_then(|mut s| s.pop())
            .unwrap_or_else(|| Vec::with_capacity(CHUNK + CHUNK / 4))
    }
}

/// Streams complete lines in buffers of about `CHUNK` bytes.
pub(super) fn stream_lines<E>(
    r: &mut Reader,
    mut first_line: u64,
    path: &str,
    buffers: &Buffers,
    each: &mut dyn FnMut(Unit) -> Result<(), E>,
) -> Result<(), Halt<E>> {
    let mut warned_long = false;
    loop {
        let idle = r.fill_live(CHUNK)?;
        if r.buf.is_empty() {
            return Ok(());
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
                                    return Err(Halt::Taker(e));
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
        let mut next = buffers.take();
        next.extend_from_slice(&r.buf[cut..]);
        let mut buf = std::mem::replace(&mut r.buf, next);
        buf.truncate(cut);
        if let Err(e) = each(Unit::Lines { buf, first_line }) {
            return Err(Halt::Taker(e));
        }
        if idle && let Err(e) = each(Unit::Idle) {
            return Err(Halt::Taker(e));
        }
        first_line += lines;
        if r.eof && r.buf.is_empty() {
            return Ok(());
        }
    }
}
