//! Limits on what one line or one document can yield, and a record of where they cut, so
//! that the driver can warn about it (extraction itself has no channel for warnings).

/// Status codes read from one line. A line with more is a list of numbers rather than an
/// error report, and reading them all would let one long line cost quadratic time.
pub const MAX_CODES_PER_LINE: usize = 32;

/// Findings kept from one document (a bounce message or a pasted text): the rest of the
/// document is not read. Bounds the memory a small input full of codes can claim.
pub const MAX_DOCUMENT_FINDINGS: usize = 50_000;

/// Where the limits cut: lines and documents that yielded only part of what they held.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cuts {
    /// Lines that held more than `MAX_CODES_PER_LINE` codes.
    pub lines: u64,
    /// Documents that yielded more than `MAX_DOCUMENT_FINDINGS` findings.
    pub documents: u64,
}

/// What a scan counts beside its findings: where the limits cut, and the lines where an
/// incoming client hung up on our server (noise, not findings, only counted). The caller
/// owns it and passes it to every scan, so that counts of different inputs never mix.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Where the limits cut.
    pub cuts: Cuts,
    /// Client disconnect lines seen.
    pub disconnects: u64,
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
    fn cuts_add_up_and_say_what_was_cut() {
        let mut got = Cuts {
            lines: 1,
            documents: 1,
        };
        got.add(Cuts {
            lines: 1,
            documents: 0,
        });
        assert_eq!(Cuts::default().warnings(), Vec::<String>::new());
        let w = got.warnings();
        assert_eq!(w.len(), 2);
        assert!(w[0].starts_with("2 lines held more than 32"), "{w:?}");
        assert!(w[1].starts_with("1 message yielded more"), "{w:?}");
        assert!(Cuts::default().warnings().is_empty());
    }
}
