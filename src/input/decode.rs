//! Byte filters between the file and the reader: counting what was read, stopping a
//! decompression bomb, bare CR line ends read as LF.

use super::limits::*;
use std::cell::Cell;
use std::io::{self, Read};
use std::rc::Rc;

/// Counts the bytes read through it.
pub(super) struct Counted {
    pub(super) inner: Box<dyn Read>,
    pub(super) n: Rc<Cell<u64>>,
}

impl Read for Counted {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.n.set(self.n.get() + n as u64);
        Ok(n)
    }
}

/// Ends a decompressed stream (setting `cut`) once it outgrows `MAX_GZIP_RATIO`.
pub(super) struct RatioLimit {
    pub(super) inner: Box<dyn Read>,
    pub(super) compressed: Rc<Cell<u64>>,
    pub(super) inflated: u64,
    pub(super) cut: Rc<Cell<bool>>,
    /// Where the compressed data turned out damaged (truncated, trailing bytes, a bad
    /// block), and how: what came before is kept, the rest is not read.
    pub(super) damaged: Rc<std::cell::RefCell<Option<(u64, String)>>>,
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

/// Turns every CR into LF as it reads (for input whose lines end in CR alone).
/// Whether a buffer holds a CR that does not start a CRLF.
pub(super) fn has_bare_cr(buf: &[u8]) -> bool {
    memchr::memchr_iter(b'\r', buf).any(|i| buf.get(i + 1).is_some_and(|&b| b != b'\n'))
}

/// Turns each bare CR (not followed by LF) into LF as it reads; a CR at the end of one read
/// is held until the next byte tells.
pub(super) struct BareCrToLf {
    pub(super) inner: Box<dyn Read>,
    pub(super) held: bool,
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
