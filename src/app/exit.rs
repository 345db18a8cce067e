//! Exit statuses and the one-line messages on standard error, for every command.

use std::io::{self, Write};

/// Exit status when no finding matched `--fail-on`.
pub const EXIT_OK: u8 = 0;
/// Exit status when a finding matched `--fail-on`.
pub const EXIT_FINDING: u8 = 1;
/// Exit status on a usage or input error.
pub const EXIT_ERROR: u8 = 2;

/// Writes `ndr-doctor: MSG` to standard error. A closed standard error (`2>&1 | head`) is
/// ignored rather than a panic, as `eprintln!` would make it.
pub fn note(msg: std::fmt::Arguments<'_>) {
    let _ = writeln!(io::stderr().lock(), "ndr-doctor: {msg}");
}

pub fn usage_error(msg: &str) -> anyhow::Result<u8> {
    note(format_args!("{msg}"));
    Ok(EXIT_ERROR)
}
