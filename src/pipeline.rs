//! Extraction on every core, output in input order.
//!
//! The input stage hands over units (a buffer of log lines, a message, a trace row) on the
//! main thread; each becomes a job that a worker turns into findings. Results come back
//! tagged with the job's sequence number and are passed on strictly in that order, so the
//! output is the same as a single-threaded run, whatever the number of workers. At most
//! `MAX_IN_FLIGHT` jobs are outstanding, which bounds memory.

use crate::extract::{self, Finding, Options, Origin};
use crate::input::{Document, Record};
use std::collections::BTreeMap;
use std::io;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};

/// Jobs handed out but not yet passed on, per worker.
const IN_FLIGHT_PER_WORKER: usize = 4;

/// What a job yields: its findings, and the warnings decoding it raised (shown first).
#[derive(Default)]
pub struct Done {
    pub findings: Vec<Finding>,
    pub warnings: Vec<String>,
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
}

/// Jobs smaller than this run on the caller's thread: handing a small message or a trace
/// row to a worker costs more than decoding it (a directory of bounces, a message trace).
const SMALL_JOB: usize = 64 * 1024;

impl Job {
    fn is_small(&self) -> bool {
        match self {
            Job::Lines { buf, .. } => buf.len() < SMALL_JOB,
            Job::Message { raw, .. } => raw.len() < SMALL_JOB,
            Job::Document { doc, .. } => {
                doc.parts.iter().map(|p| p.text.len()).sum::<usize>() < SMALL_JOB
            }
            Job::Record { .. } => true,
        }
    }

    pub fn run(self, opts: &Options) -> Done {
        let mut out = Vec::new();
        let mut warnings = Vec::new();
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
                extract::scan_document(
                    &doc,
                    &Origin {
                        path: &path,
                        message,
                    },
                    opts,
                    &mut out,
                )
            }
            Job::Lines {
                buf,
                first_line,
                path,
            } => extract::scan_log(
                &buf,
                first_line,
                &Origin {
                    path: &path,
                    message: 1,
                },
                opts,
                &mut out,
            ),
            Job::Document { doc, message, path } => extract::scan_document(
                &doc,
                &Origin {
                    path: &path,
                    message,
                },
                opts,
                &mut out,
            ),
            Job::Record { rec, path } => extract::scan_trace_row(
                &rec,
                &Origin {
                    path: &path,
                    message: 1,
                },
                opts,
                &mut out,
            ),
        }
        Done {
            findings: out,
            warnings,
        }
    }
}

/// Where findings go, in input order.
pub type Sink<'a> = dyn FnMut(Done) -> io::Result<()> + 'a;

/// Hands jobs to workers (or runs them inline with one worker) and passes results on in order.
pub struct Pool {
    opts: Options,
    jobs: Option<SyncSender<(u64, Job)>>,
    results: Option<Receiver<(u64, Done)>>,
    max_in_flight: u64,
    sent: u64,
    passed: u64,
    ready: BTreeMap<u64, Done>,
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

impl Pool {
    /// Starts `n` workers in `scope` (none when `n` is 1: jobs then run on the caller's thread).
    pub fn start<'scope>(
        scope: &'scope std::thread::Scope<'scope, '_>,
        n: usize,
        opts: Options,
    ) -> Pool {
        if n <= 1 {
            return Pool {
                opts,
                jobs: None,
                results: None,
                max_in_flight: 1,
                sent: 0,
                passed: 0,
                ready: BTreeMap::new(),
            };
        }
        let max_in_flight = n * IN_FLIGHT_PER_WORKER;
        let (job_tx, job_rx) = sync_channel::<(u64, Job)>(max_in_flight);
        let (res_tx, res_rx) = sync_channel::<(u64, Done)>(max_in_flight);
        let job_rx = Arc::new(Mutex::new(job_rx));
        for _ in 0..n {
            let job_rx = Arc::clone(&job_rx);
            let res_tx = res_tx.clone();
            scope.spawn(move || {
                loop {
                    // a poisoned lock means another worker panicked: stop taking jobs
                    let next = match job_rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => return,
                    };
                    let Ok((seq, job)) = next else { return };
                    if res_tx.send((seq, job.run(&opts))).is_err() {
                        return;
                    }
                }
            });
        }
        Pool {
            opts,
            jobs: Some(job_tx),
            results: Some(res_rx),
            max_in_flight: max_in_flight as u64,
            sent: 0,
            passed: 0,
            ready: BTreeMap::new(),
        }
    }

    /// Queues a job; passes on every result that is next in order.
    pub fn submit(&mut self, job: Job, sink: &mut Sink<'_>) -> io::Result<()> {
        if self.jobs.is_some() && job.is_small() {
            // in order: what the workers hold goes first
            self.flush(sink)?;
            let done = job.run(&self.opts);
            self.sent += 1;
            self.passed += 1;
            return sink(done);
        }
        if self.jobs.is_none() {
            self.sent += 1;
            self.passed += 1;
            return sink(job.run(&self.opts));
        }
        while self.sent - self.passed >= self.max_in_flight {
            self.wait_one(sink)?;
        }
        let stopped = || io::Error::other("extraction worker stopped");
        self.jobs
            .as_ref()
            .ok_or_else(stopped)?
            .send((self.sent, job))
            .map_err(|_| stopped())?;
        self.sent += 1;
        self.drain(sink, false)
    }

    /// Waits for every job sent so far and passes the results on.
    pub fn flush(&mut self, sink: &mut Sink<'_>) -> io::Result<()> {
        while self.passed < self.sent {
            self.wait_one(sink)?;
        }
        Ok(())
    }

    fn wait_one(&mut self, sink: &mut Sink<'_>) -> io::Result<()> {
        let Some(results) = &self.results else {
            return Ok(());
        };
        let (seq, found) = results
            .recv()
            .map_err(|_| io::Error::other("extraction worker stopped"))?;
        self.ready.insert(seq, found);
        self.drain(sink, true)
    }

    fn drain(&mut self, sink: &mut Sink<'_>, received: bool) -> io::Result<()> {
        if !received && let Some(results) = &self.results {
            while let Ok((seq, found)) = results.try_recv() {
                self.ready.insert(seq, found);
            }
        }
        while let Some(found) = self.ready.remove(&self.passed) {
            self.passed += 1;
            sink(found)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_is_kept_with_any_number_of_workers() {
        let lines: Vec<String> = (0..4000)
            .map(|i| format!("Mar  4 12:00:00 mx postfix/smtp[1]: Q{i:05}: to=<u{i}@example.com>, dsn=4.4.1, status=deferred (connect to x[192.0.2.1]:25: Connection refused)\n"))
            .collect();
        let run = |n: usize| -> Vec<u64> {
            let mut got = Vec::new();
            std::thread::scope(|s| {
                let mut pool = Pool::start(s, n, Options::default());
                let mut sink = |d: Done| -> io::Result<()> {
                    got.extend(d.findings.iter().map(|f| f.line));
                    Ok(())
                };
                // chunks of 600 lines are over SMALL_JOB (workers), the last one under it (inline)
                for (i, chunk) in lines.chunks(600).enumerate() {
                    let job = Job::Lines {
                        buf: chunk.concat().into_bytes(),
                        first_line: 1 + 600 * i as u64,
                        path: Arc::from("t"),
                    };
                    pool.submit(job, &mut sink).unwrap();
                }
                pool.flush(&mut sink).unwrap();
            });
            got
        };
        let one = run(1);
        assert_eq!(one, (1..=4000).collect::<Vec<u64>>());
        assert_eq!(run(2), one);
        assert_eq!(run(4), one);
    }
}
