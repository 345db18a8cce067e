//! Limits on what one line or one document can yield, and a record of where they cut, so
//! that the driver can warn about it (extraction itself has no channel for warnings).

use std::cell::Cell;

/// Status codes read from one line. A line with more is a list of numbers rather than an
/// error report, and reading them all would let one long line cost quadratic time.
pub const MAX_CODES_PER_LINE: usize = 32;

/// Findings kept from one document (a bounce message or a pasted text): the rest of the
/// document is not read. Bounds the memory a small input full of codes can claim.
pub const MAX_DOCUMENT_FINDINGS: usize = 50_000;

/// Where the limits cut: lines and documents that yielded only part of what they held.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cuts {
    pub lines: u64,
    pub documents: u64,
}

// per thread: a job runs on one thread, which takes the counts when the job ends, so jobs
// of different inputs running side by side never mix their counts
thread_local! {
    static CUTS: Cell<Cuts> = const { Cell::new(Cuts { lines: 0, documents: 0 }) };
}

/// Notes that a line held more than `MAX_CODES_PER_LINE` codes.
pub(crate) fn line_cut() {
    CUTS.with(|c| {
        let mut v = c.get();
        v.lines += 1;
        c.set(v);
    });
}

/// Notes that a document yielded more than `MAX_DOCUMENT_FINDINGS` findings.
pub(crate) fn document_cut() {
    CUTS.with(|c| {
        let mut v = c.get();
        v.documents += 1;
        c.set(v);
    });
}

/// The cuts this thread made since the last call, which resets them.
pub fn take() -> Cuts {
    CUTS.with(Cell::take)
}

impl Cuts {
    /// Adds another job's cuts.
    pub fn add(&mut self, other: Cuts) {
        self.lines += other.lines;
        self.documents += other.documents;
    }

    /// One warning per kind of cut, none when nothing was cut.
    pub fn warnings(&self) -> Vec<String> {
        let (lines, docs) = (self.lines, self.documents);
        let mut out = Vec::new();
        if lines > 0 {
            out.push(format!(
                "{lines} line{} held more than {MAX_CODES_PER_LINE} status codes: only the first {MAX_CODES_PER_LINE} of each were read",
                if lines == 1 { "" } else { "s" }
            ));
        }
        if docs > 0 {
            out.push(format!(
                "{docs} message{} yielded more than {MAX_DOCUMENT_FINDINGS} findings: the rest of each was not read",
                if docs == 1 { "" } else { "s" }
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_are_counted_per_thread_and_reset_when_taken() {
        let _ = take();
        line_cut();
        line_cut();
        document_cut();
        // another thread's cuts are its own
        std::thread::spawn(line_cut).join().ok();
        let got = take();
        assert_eq!(
            got,
            Cuts {
                lines: 2,
                documents: 1
            }
        );
        assert_eq!(take(), Cuts::default());
        let w = got.warnings();
        assert_eq!(w.len(), 2);
        assert!(w[0].starts_with("2 lines held more than 32"), "{w:?}");
        assert!(w[1].starts_with("1 message yielded more"), "{w:?}");
        assert!(Cuts::default().warnings().is_empty());
    }
}
