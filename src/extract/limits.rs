//! Limits on what one line or one document can yield, and a record of where they cut, so
//! that the driver can warn about it (extraction itself has no channel for warnings).

use std::sync::atomic::{AtomicU64, Ordering};

/// Status codes read from one line. A line with more is a list of numbers rather than an
/// error report, and reading them all would let one long line cost quadratic time.
pub const MAX_CODES_PER_LINE: usize = 32;

/// Findings kept from one document (a bounce message or a pasted text): the rest of the
/// document is not read. Bounds the memory a small input full of codes can claim.
pub const MAX_DOCUMENT_FINDINGS: usize = 50_000;

// counted across the extraction workers; the driver takes them after each input
static LINES_CUT: AtomicU64 = AtomicU64::new(0);
static DOCUMENTS_CUT: AtomicU64 = AtomicU64::new(0);

/// Notes that a line held more than `MAX_CODES_PER_LINE` codes.
pub(crate) fn line_cut() {
    LINES_CUT.fetch_add(1, Ordering::Relaxed);
}

/// Notes that a document yielded more than `MAX_DOCUMENT_FINDINGS` findings.
pub(crate) fn document_cut() {
    DOCUMENTS_CUT.fetch_add(1, Ordering::Relaxed);
}

/// Warnings for the cuts made since the last call (call it once the input's jobs are done).
pub fn take_warnings() -> Vec<String> {
    let lines = LINES_CUT.swap(0, Ordering::Relaxed);
    let docs = DOCUMENTS_CUT.swap(0, Ordering::Relaxed);
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
