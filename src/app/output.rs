//! Where the output goes. The human format is wrapped to the width as it is written; when
//! standard output is not a terminal (a file, a pipe) the wrapping runs on a thread of its
//! own, beside the renderer: on a large log it costs as much as the rendering.

use crate::render::wrap::Wrap;
use crossbeam_channel::{Sender, bounded};
use std::io::{self, Write};
use std::sync::{Arc, OnceLock};
use std::thread::JoinHandle;

/// Bytes collected before they are passed to the wrapping thread.
const CHUNK: usize = 64 * 1024;
/// Chunks on their way at most (the renderer waits beyond).
const IN_FLIGHT: usize = 16;

enum Msg {
    Text(Vec<u8>),
    /// Write out everything so far, then answer.
    Flush(Sender<io::Result<()>>),
}

/// A writer that hands what it is given to a thread, which wraps it (see `Wrap`) and writes
/// it to standard output. A write error there (a closed pipe) is returned by the next
/// `write` or `flush`, so the run stops as soon as it would have.
pub struct WrapThread {
    buf: Vec<u8>,
    tx: Option<Sender<Msg>>,
    thread: Option<JoinHandle<()>>,
    /// The first write error of the thread: its kind and text (set once; a plain atomic
    /// load to ask, as every write does).
    failed: Arc<OnceLock<(io::ErrorKind, String)>>,
}

impl WrapThread {
    /// Starts the thread, wrapping at `width` columns.
    pub fn new(width: usize) -> WrapThread {
        let (tx, rx) = bounded::<Msg>(IN_FLIGHT);
        let failed = Arc::new(OnceLock::new());
        let failed_there = Arc::clone(&failed);
        let thread = std::thread::spawn(move || {
            let mut out = Wrap::new(io::BufWriter::with_capacity(CHUNK, io::stdout()), width);
            let mut error: Option<(io::ErrorKind, String)> = None;
            for msg in rx {
                match msg {
                    Msg::Text(text) => {
                        if error.is_none()
                            && let Err(e) = out.write_all(&text)
                        {
                            error = Some((e.kind(), e.to_string()));
                            let _ = failed_there.set((e.kind(), e.to_string()));
                        }
                    }
                    Msg::Flush(answer) => {
                        let result = match &error {
                            Some((kind, text)) => Err(io::Error::new(*kind, text.clone())),
                            None => out.flush(),
                        };
                        let _ = answer.send(result);
                    }
                }
            }
        });
        WrapThread {
            buf: Vec::with_capacity(CHUNK),
            tx: Some(tx),
            thread: Some(thread),
            failed,
        }
    }

    /// The thread's write error, if it had one.
    fn failure(&self) -> io::Result<()> {
        match self.failed.get() {
            Some((kind, text)) => Err(io::Error::new(*kind, text.clone())),
            None => Ok(()),
        }
    }

    fn send(&mut self, msg: Msg) -> io::Result<()> {
        self.tx
            .as_ref()
            .ok_or_else(|| io::Error::other("the output thread has stopped"))?
            .send(msg)
            .map_err(|_| io::Error::other("the output thread has stopped"))
    }

    fn pass_on(&mut self) -> io::Result<()> {
        if !self.buf.is_empty() {
            let text = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK));
            self.send(Msg::Text(text))?;
        }
        Ok(())
    }
}

impl Write for WrapThread {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.failure()?;
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.pass_on()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.pass_on()?;
        let (answer, answered) = bounded(1);
        self.send(Msg::Flush(answer))?;
        answered
            .recv()
            .map_err(|_| io::Error::other("the output thread has stopped"))?
    }
}

impl Drop for WrapThread {
    fn drop(&mut self) {
        // what was not flushed still goes out (the driver flushes before this; nowhere to
        // report a failure from a drop)
        let _ = self.pass_on();
        self.tx = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_output_is_reported_by_the_next_write_or_flush() {
        let mut w = WrapThread::new(100);
        w.failed
            .set((io::ErrorKind::BrokenPipe, "closed".into()))
            .unwrap();
        assert_eq!(w.write(b"x").unwrap_err().kind(), io::ErrorKind::BrokenPipe);
    }
}
