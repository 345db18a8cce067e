//! The crate's byte regexes are built here: ASCII classes (`\s`, `\d`, `\b`, `(?i)`) and
//! byte-wise `.`, which match what mail logs hold, compile to far smaller automata than
//! their Unicode forms (start-up and lazy-DFA cost), and never refuse invalid UTF-8.

use regex::bytes::{Regex, RegexBuilder};

/// Compiles one of the crate's static patterns (a mistake in one is a bug, caught by the
/// tests that use it).
pub fn bytes(pattern: &str) -> Regex {
    RegexBuilder::new(pattern)
        .unicode(false)
        .build()
        .expect("static regex") // ok: a constant pattern, compiled by the tests
}
