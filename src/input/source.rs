//! The inputs named on the command line: standard input, files, and the files found by
//! walking directories; what could not be opened is an `InputError` beside them.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// An input that could not be read.
#[derive(Debug)]
pub struct InputError {
    pub path: String,
    pub error: io::Error,
}

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", crate::sanitize::text(&self.path), self.error)
    }
}

/// One input named on the command line, or found in a directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Stdin,
    File(PathBuf),
}

impl Source {
    /// Whether opening or reading it can wait on another process: standard input, a FIFO, a
    /// device (a regular file never does).
    pub fn may_block(&self) -> bool {
        match self {
            Source::Stdin => true,
            Source::File(p) => std::fs::metadata(p).is_ok_and(|m| !m.is_file() && !m.is_dir()),
        }
    }

    /// The path as the user gave it (`-` for standard input).
    pub fn display(&self) -> String {
        match self {
            Source::Stdin => "-".to_string(),
            Source::File(p) => path_text(p),
        }
    }
}

/// A path as text, its bytes kept: a byte that is not UTF-8 becomes `\xNN` (not U+FFFD,
/// so that two such names stay apart). Control characters are escaped where it is shown.
pub fn path_text(p: &Path) -> String {
    crate::sanitize::decode(p.as_os_str().as_encoded_bytes())
}

/// Says "dangling symbolic link" for a symlink whose target is missing, rather than the
/// bare "No such file or directory" about a name that is there.
fn dangling(p: &Path, error: io::Error) -> io::Error {
    let is_link = fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_symlink());
    if is_link && error.kind() == io::ErrorKind::NotFound {
        io::Error::new(
            io::ErrorKind::NotFound,
            "dangling symbolic link (its target does not exist)",
        )
    } else {
        error
    }
}

/// Expands the command-line paths: `-` is standard input, a directory is walked recursively
/// (entries sorted by name, hidden ones included, symlinked directories not followed, only
/// regular files read: a FIFO, socket or device found in a walk is skipped, while one named
/// on the command line is read). Errors (a missing path, an unreadable directory) are returned beside the sources found.
pub fn expand(paths: &[PathBuf]) -> (Vec<Source>, Vec<InputError>) {
    let mut sources = Vec::new();
    let mut errors = Vec::new();
    if paths.is_empty() {
        sources.push(Source::Stdin);
    }
    for p in paths {
        if p.as_os_str() == "-" {
            sources.push(Source::Stdin);
            continue;
        }
        match fs::metadata(p) {
            Ok(m) if m.is_dir() => walk(p, &mut sources, &mut errors, 0),
            Ok(_) => sources.push(Source::File(p.clone())),
            Err(error) => errors.push(InputError {
                path: path_text(p),
                error: dangling(p, error),
            }),
        }
    }
    (sources, errors)
}

/// Directory depth at which the walk stops (a guard against pathological trees).
const MAX_DEPTH: usize = 64;

fn walk(dir: &Path, sources: &mut Vec<Source>, errors: &mut Vec<InputError>, depth: usize) {
    if depth > MAX_DEPTH {
        errors.push(InputError {
            path: path_text(dir),
            error: io::Error::other(format!(
                "directory nesting deeper than {MAX_DEPTH}: not walked"
            )),
        });
        return;
    }
    let rd = match fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(error) => {
            errors.push(InputError {
                path: path_text(dir),
                error,
            });
            return;
        }
    };
    // the entry's type comes with the directory listing on most file systems: no stat per file
    let mut entries: Vec<(PathBuf, io::Result<fs::FileType>)> = Vec::new();
    for e in rd {
        match e {
            Ok(e) => entries.push((e.path(), e.file_type())),
            Err(error) => errors.push(InputError {
                path: path_text(dir),
                error,
            }),
        }
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    for (p, file_type) in entries {
        match file_type {
            Ok(m) if m.is_dir() => walk(&p, sources, errors, depth + 1),
            Ok(m) if m.is_symlink() => match fs::metadata(&p) {
                Ok(t) if t.is_dir() => {} // not followed: avoids loops
                Ok(t) if t.is_file() => sources.push(Source::File(p)),
                Ok(_) => {} // a FIFO, socket or device: not a file to read
                Err(error) => errors.push(InputError {
                    error: dangling(&p, error),
                    path: path_text(&p),
                }),
            },
            Ok(m) if m.is_file() => sources.push(Source::File(p)),
            // a FIFO (opening it would wait for a writer), socket or device
            Ok(_) => {}
            Err(error) => errors.push(InputError {
                path: path_text(&p),
                error,
            }),
        }
    }
}
