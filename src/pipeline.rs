//! Extraction on every core, output in input order.
//!
//! The input stage hands over units (a buffer of log lines, a message, a trace row) on the
//! main thread; each becomes a job that a worker turns into findings. Small jobs (a bounce
//! message, a trace row) travel in batches, so that a directory of bounces or an mbox of
//! tiny messages is spread over the cores without paying a hand-over per message. Results
//! come back tagged with the batch's sequence number and are passed on strictly in that
//! order, so the output is the same as a single-threaded run, whatever the number of
//! workers. At most `IN_FLIGHT_PER_WORKER` batches per worker are outstanding, which
//! bounds memory.

use crate::extract::Counts;
use crate::extract::{self, Finding, Options, Origin};
use crate::input::Buffers;
use crate::input::{Document, Record};
use crossbeam_channel::{Receiver, Sender, bounded};
use std::collections::BTreeMap;
use std::io;
use std::sync::Arc;

/// Jobs handed out but not yet passed on, per worker.
const IN_FLIGHT_PER_WORKER: usize = 4;

/// What a job yields: its findings, the warnings decoding it raised (shown first), and what
/// its scan counted (where the limits cut, client disconnects).
#[derive(Default)]
pub struct Done {
    pub findings: Vec<Finding>,
    pub warnings: Vec<String>,
    pub counts: Counts,
    /// Set by `Job::End`: every job of this input has been passed on before this one.
    pub end_of: Option<Arc<str>>,
}

/// One unit of extraction work.
pub enum Job {
    /// A message still to be decoded: decoding runs on the worker too.
    Message {
        raw: Vec<u8>,
        first_line: u64,
        message: usize,
        in_mbox: bool,
        path: Arc<str>,
    },
    Lines {
        buf: Vec<u8>,
        first_line: u64,
        path: Arc<str>,
    },
    Document {
        doc: Document,
        message: usize,
        path: Arc<str>,
    },
    Record {
        rec: Record,
        path: Arc<str>,
    },
    /// Marks the end of an input (no work: its `Done` says which input ended).
    End {
        path: Arc<str>,
    },
}

/// A batch is handed to a worker once it holds this many bytes of input...
const BATCH_BYTES: usize = 64 * 1024;
/// ...or this many jobs (handing over a small message or a trace row on its own costs more
/// than decoding it).
const BATCH_JOBS: usize = 256;
/// What a trace row counts for in a batch's size.
const RECORD_SIZE: usize = 256;

impl Job {
    /// The input bytes the job reads, roughly: what batching goes by.
    fn size(&self) -> usize {
        match self {
            Job::Lines { buf, .. } => buf.len(),
            Job::Message { raw, .. } => raw.len(),
            Job::Document { doc, .. } => doc.parts.iter().map(|p| p.text.len()).sum(),
            Job::Record { .. } => RECORD_SIZE,
            Job::End { .. } => 0,
        }
    }

    /// Runs the job; a log buffer goes back to `buffers` once scanned.
    pub fn run(self, opts: &Options, buffers: &Buffers) -> Done {
        let mut out = Vec::new();
        let mut counts = Counts::default();
        let mut warnings = Vec::new();
        let mut end_of = None;
        match self {
            Job::Message {
                raw,
                first_line,
                message,
                in_mbox,
                path,
            } => {
                let (doc, w) =
                    crate::input::decode_message(&raw, first_line, &path, message, in_mbox);
                warnings = w;
                extract::scan_document(&doc, &origin(&path, message), opts, &mut out, &mut counts)
            }
            Job::Lines {
                buf,
                first_line,
                path,
            } => {
                extract::scan_log(
                    &buf,
                    first_line,
                    &origin(&path, 1),
                    opts,
                    &mut out,
                    &mut counts,
                );
                buffers.recycle(buf);
            }
            Job::Document { doc, message, path } => {
                extract::scan_document(&doc, &origin(&path, message), opts, &mut out, &mut counts)
            }
            Job::Record { rec, path } => {
                extract::scan_trace_row(&rec, &origin(&path, 1), opts, &mut out, &mut counts)
            }
            Job::End { path } => end_of = Some(path),
        }
        Done {
            findings: out,
            warnings,
            counts,
            end_of,
        }
    }
}

fn origin(path: &str, message: usize) -> Origin<'_> {
    Origin { path, message }
}

/// Where findings go, in input order.
pub type Sink<'a> = dyn FnMut(Done) -> io::Result<()> + 'a;

/// Hands jobs to workers in batches (or runs them inline with one worker) and passes the
/// results on in order.
pub struct Pool {
    opts: Options,
    /// Where scanned log buffers go back, for the reader to fill again.
    buffers: Buffers,
    jobs: Option<Sender<(u64, Vec<Job>)>>,
    results: Option<Receiver<Outcome>>,
    max_in_flight: u64,
    /// The batch being filled, and the input bytes it holds.
    pending: Vec<Job>,
    pending_bytes: usize,
    sent: u64,
    passed: u64,
    ready: BTreeMap<u64, Vec<Done>>,
}

/// How many workers to use: `NDR_DOCTOR_THREADS` when set to a number from 1 to 64, else
/// the cores available, at most 8.
pub fn workers() -> usize {
    std::env::var("NDR_DOCTOR_THREADS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|n| (1..=64).contains(n))
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map_or(1, |n| n.get())
                .min(8)
        })
}

/// Compiles the patterns every input needs, worker `k` of `n` starting at its own share of
/// the steps and going round, so that the workers compile side by side (a step another
/// worker is compiling is waited for, not compiled twice) while the main thread reads.
fn warm(k: usize, n: usize) {
    let steps: Vec<fn()> = [extract::WARM, crate::input::WARM]
        .into_iter()
        .flatten()
        .flat_map(|m| m.iter().copied())
        .collect();
    let start = steps.len() * k / n.max(1);
    for step in steps[start..].iter().chain(&steps[..start]) {
        step();
    }
}

fn stopped() -> io::Error {
    io::Error::other("extraction worker stopped")
}

/// What a worker sends back: a batch's sequence number and results, or that it panicked.
type Outcome = Result<(u64, Vec<Done>), Panicked>;

/// What a worker that panicked sends instead of its batch's results.
#[derive(Debug)]
struct Panicked;

/// Sends `Panicked` when dropped by a worker's panic.
struct PanicNotice(Sender<Outcome>);

impl Drop for PanicNotice {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let _ = self.0.send(Err(Panicked));
        }
    }
}

impl Pool {
    /// Starts `n` workers in `scope` (none when `n` is 1: jobs then run on the caller's thread).
    /// With `warm`, they first compile the patterns side by side (worth it when several
    /// inputs are to come; one small input needs only some of them).
    pub fn start<'scope>(
        scope: &'scope std::thread::Scope<'scope, '_>,
        n: usize,
        opts: Options,
        buffers: &Buffers,
        warm: bool,
    ) -> Pool {
        let mut pool = Pool {
            opts,
            buffers: buffers.clone(),
            jobs: None,
            results: None,
            max_in_flight: 1,
            pending: Vec::new(),
            pending_bytes: 0,
            sent: 0,
            passed: 0,
            ready: BTreeMap::new(),
        };
        if n <= 1 {
            return pool;
        }
        let max_in_flight = n * IN_FLIGHT_PER_WORKER;
        let (job_tx, job_rx) = bounded::<(u64, Vec<Job>)>(max_in_flight);
        let (res_tx, res_rx) = bounded(max_in_flight);
        for k in 0..n {
            let job_rx = job_rx.clone();
            let res_tx = res_tx.clone();
            let buffers = buffers.clone();
            scope.spawn(move || {
                // a panic (a bug) must not leave the pool waiting for a batch that never comes
                let _notice = PanicNotice(res_tx.clone());
                if warm {
                    self::warm(k, n);
                }
                // until the pool drops its sender (or the results are no longer taken)
                while let Ok((seq, batch)) = job_rx.recv() {
                    let done = batch
                        .into_iter()
                        .map(|job| job.run(&opts, &buffers))
                        .collect();
                    if res_tx.send(Ok((seq, done))).is_err() {
                        return;
                    }
                }
            });
        }
        pool.jobs = Some(job_tx);
        pool.results = Some(res_rx);
        pool.max_in_flight = max_in_flight as u64;
        pool
    }

    /// Queues a job; passes on every result that is next in order.
    pub fn submit(&mut self, job: Job, sink: &mut Sink<'_>) -> io::Result<()> {
        if self.jobs.is_none() {
            return sink(job.run(&self.opts, &self.buffers));
        }
        let size = job.size();
        if size >= BATCH_BYTES {
            // in order: the batch before it goes first
            self.send_pending(sink)?;
            return self.send(vec![job], sink);
        }
        self.pending.push(job);
        self.pending_bytes += size;
        if self.pending_bytes >= BATCH_BYTES || self.pending.len() >= BATCH_JOBS {
            self.send_pending(sink)?;
        }
        Ok(())
    }

    /// Waits for every job queued so far and passes the results on.
    pub fn flush(&mut self, sink: &mut Sink<'_>) -> io::Result<()> {
        self.send_pending(sink)?;
        while self.passed < self.sent {
            self.wait_one(sink)?;
        }
        Ok(())
    }

    fn send_pending(&mut self, sink: &mut Sink<'_>) -> io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let batch = std::mem::take(&mut self.pending);
        self.pending_bytes = 0;
        self.send(batch, sink)
    }

    fn send(&mut self, batch: Vec<Job>, sink: &mut Sink<'_>) -> io::Result<()> {
        while self.sent - self.passed >= self.max_in_flight {
            self.wait_one(sink)?;
        }
        self.jobs
            .as_ref()
            .ok_or_else(stopped)?
            .send((self.sent, batch))
            .map_err(|_| stopped())?;
        self.sent += 1;
        self.drain(sink, false)
    }

    fn wait_one(&mut self, sink: &mut Sink<'_>) -> io::Result<()> {
        let Some(results) = &self.results else {
            return Ok(());
        };
        let (seq, done) = results
            .recv()
            .map_err(|_| stopped())?
            .map_err(|_| stopped())?;
        self.ready.insert(seq, done);
        self.drain(sink, true)
    }

    fn drain(&mut self, sink: &mut Sink<'_>, received: bool) -> io::Result<()> {
        if !received && let Some(results) = &self.results {
            while let Ok(result) = results.try_recv() {
                let (seq, done) = result.map_err(|_| stopped())?;
                self.ready.insert(seq, done);
            }
        }
        while let Some(batch) = self.ready.remove(&self.passed) {
            self.passed += 1;
            for done in batch {
                sink(done)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::Cuts;

    #[test]
    fn order_is_kept_with_any_number_of_workers() {
        let lines: Vec<String> = (0..4000)
            .map(|i| format!("Mar  4 12:00:00 mx postfix/smtp[1]: Q{i:05}: to=<u{i}@example.com>, dsn=4.4.1, status=deferred (connect to x[192.0.2.1]:25: Connection refused)\n"))
            .collect();
        // (line, end-of-input marker) in the order the sink saw them
        let run = |n: usize| -> Vec<(u64, Option<String>)> {
            let mut got = Vec::new();
            std::thread::scope(|s| {
                let mut pool = Pool::start(s, n, Options::default(), &Buffers::new(), n > 2);
                let mut sink = |d: Done| -> io::Result<()> {
                    got.extend(d.findings.iter().map(|f| (f.line, None)));
                    if let Some(p) = d.end_of {
                        got.push((0, Some(p.to_string())));
                    }
                    Ok(())
                };
                // jobs of 600 lines go to a worker on their own, the smaller ones in batches
                // (by count and by size), with inputs ending in between
                let sizes = [600, 3, 1, 250, 7, 1, 1, 600, 40];
                let (mut at, mut k) = (0, 0);
                while at < lines.len() {
                    let len = sizes[k % sizes.len()].min(lines.len() - at);
                    let job = Job::Lines {
                        buf: lines[at..at + len].concat().into_bytes(),
                        first_line: 1 + at as u64,
                        path: Arc::from("t"),
                    };
                    pool.submit(job, &mut sink).unwrap();
                    at += len;
                    k += 1;
                    if k % 2 == 0 {
                        let path = Arc::from(format!("input {k}"));
                        pool.submit(Job::End { path }, &mut sink).unwrap();
                    }
                }
                pool.flush(&mut sink).unwrap();
            });
            got
        };
        let one = run(1);
        let lines_seen: Vec<u64> = one.iter().filter(|x| x.1.is_none()).map(|x| x.0).collect();
        assert_eq!(lines_seen, (1..=4000).collect::<Vec<u64>>());
        assert!(one.iter().filter(|x| x.1.is_some()).count() > 8);
        assert_eq!(run(2), one);
        assert_eq!(run(4), one);
    }

    #[test]
    fn a_job_reports_its_own_cuts() {
        let line = "5.1.1 ".repeat(40) + "\n";
        let job = |buf: &str| Job::Lines {
            buf: buf.as_bytes().to_vec(),
            first_line: 1,
            path: Arc::from("t"),
        };
        let opts = Options::default();
        let buffers = Buffers::new();
        let cut = job(&line.repeat(3)).run(&opts, &buffers);
        assert_eq!(cut.counts.cuts.lines, 3);
        assert_eq!(
            job("5.1.1\n").run(&opts, &buffers).counts.cuts,
            Cuts::default()
        );
    }
}
