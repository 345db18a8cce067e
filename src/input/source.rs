//! The inputs named on the command line: standard input, files, and the files found by
//! walking directories; what could not be opened is an `InputError` beside them.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// An input that could not be read.
#[derive(Debug, thiserror::Error)]
#[error("{}: {error}", crate::sanitize::text(.path))]
pub struct InputError {
    /// The path as the user gave it or the walk found it (not yet made safe to show).
    pub path: String,
    /// Why it could not be read.
    #[source]
    pub error: io::Error,
}

/// One input named on the command line, or found in a directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Standard input (`-`, or no path at all).
    Stdin,
    /// A file named on the command line or found in a directory.
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
            Ok(m) if m.is_dir() => walk(p, &mut sources, &mut errors),
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

/// Walks a directory: entries sorted by name, depth first; symlinked directories are not
/// followed (no loops), a symlink to a file is read, anything but a regular file is skipped.
fn walk(dir: &Path, sources: &mut Vec<Source>, errors: &mut Vec<InputError>) {
    let entries = walkdir::WalkDir::new(dir)
        .min_depth(1)
        .max_depth(MAX_DEPTH + 1)
        .sort_by_file_name();
    let mut it = entries.into_iter();
    while let Some(entry) = it.next() {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                // the directory that could not be listed (or the entry that could not be read)
                let path = e.path().map_or_else(|| path_text(dir), path_text);
                let error = e
                    .into_io_error()
                    .unwrap_or_else(|| io::Error::other("file system loop"));
                errors.push(InputError { path, error });
                continue;
            }
        };
        let p = entry.path();
        let file_type = entry.file_type();
        if file_type.is_dir() {
            if entry.depth() > MAX_DEPTH {
                errors.push(InputError {
                    path: path_text(p),
                    error: io::Error::other(format!(
                        "directory nesting deeper than {MAX_DEPTH}: not walked"
                    )),
                });
                it.skip_current_dir();
            }
        } else if file_type.is_symlink() {
            match fs::metadata(p) {
                Ok(t) if t.is_dir() => {} // not followed: avoids loops
                Ok(t) if t.is_file() => sources.push(Source::File(p.to_path_buf())),
                Ok(_) => {} // a FIFO, socket or device: not a file to read
                Err(error) => errors.push(InputError {
                    error: dangling(p, error),
                    path: path_text(p),
                }),
            }
        } else if file_type.is_file() {
            sources.push(Source::File(p.to_path_buf()));
        }
        // else a FIFO (opening it would wait for a writer), socket or device
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(sources: &[Source], root: &Path) -> Vec<String> {
        sources
            .iter()
            .map(|s| match s {
                Source::File(p) => p.strip_prefix(root).unwrap().display().to_string(),
                Source::Stdin => "-".to_string(),
            })
            .collect()
    }

    #[test]
    fn walks_sorted_without_following_directory_links() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("b/c")).unwrap();
        for f in ["b/c/z.log", "b/a.log", "a.log", ".hidden.log"] {
            fs::write(root.join(f), "x\n").unwrap();
        }
        std::os::unix::fs::symlink(root.join("b"), root.join("loop")).unwrap();
        std::os::unix::fs::symlink(root.join("a.log"), root.join("link.log")).unwrap();
        std::os::unix::fs::symlink(root.join("gone"), root.join("dangling.log")).unwrap();
        let (sources, errors) = expand(&[root.to_path_buf()]);
        assert_eq!(
            names(&sources, root),
            [".hidden.log", "a.log", "b/a.log", "b/c/z.log", "link.log"]
        );
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].path.ends_with("dangling.log"));
        assert!(
            errors[0]
                .error
                .to_string()
                .contains("dangling symbolic link")
        );
    }

    #[test]
    fn a_tree_deeper_than_the_limit_is_cut_with_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut deep = dir.path().to_path_buf();
        for _ in 0..MAX_DEPTH + 2 {
            deep.push("d");
        }
        fs::create_dir_all(&deep).unwrap();
        // a file in the deepest directory walked, and one in the first that is not
        let mut walked = dir.path().to_path_buf();
        (0..MAX_DEPTH).for_each(|_| walked.push("d"));
        fs::write(walked.join("in.log"), "x\n").unwrap();
        fs::write(walked.join("d").join("out.log"), "x\n").unwrap();
        let (sources, errors) = expand(&[dir.path().to_path_buf()]);
        assert_eq!(sources, [Source::File(walked.join("in.log"))]);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].path, path_text(&walked.join("d")));
        assert!(errors[0].error.to_string().contains("deeper than 64"));
    }
}
