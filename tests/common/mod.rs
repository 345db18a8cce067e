//! What the end-to-end tests share: the binary with a neutral environment, and ndjson
//! output read back.
#![allow(dead_code)] // each test file uses its own part of this module

use assert_cmd::Command;
use ndr_doctor::extract::{self, Finding, Options, Origin};
use ndr_doctor::input::Document;
use serde_json::Value;
use std::path::Path;

/// `ndr-doctor` with no colour or language settings inherited from the caller.
pub fn cmd() -> Command {
    let mut c = Command::cargo_bin("ndr-doctor").expect("binary built");
    c.env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env_remove("NDR_DOCTOR_CATALOG")
        .env("LANG", "C");
    c
}

/// `ndr-doctor ARGS` started with the environment of `cmd` and all three standard streams
/// piped, for tests that write and read while it runs.
pub fn spawn(args: &[&str]) -> std::process::Child {
    let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("ndr-doctor"));
    c.args(args)
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env_remove("NDR_DOCTOR_CATALOG")
        .env("LANG", "C")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    c.spawn().expect("binary starts")
}

/// One JSON value per line.
pub fn ndjson_lines(out: &[u8]) -> Vec<Value> {
    std::str::from_utf8(out)
        .expect("ndjson output is UTF-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect()
}

/// `ndr-doctor --format ndjson --fail-on none ARGS` on standard input; it must exit 0.
pub fn ndjson(args: &[&str], stdin: &str) -> Vec<Value> {
    let out = cmd()
        .args(["--format", "ndjson", "--fail-on", "none"])
        .args(args)
        .write_stdin(stdin)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    ndjson_lines(&out.stdout)
}

/// Runs on one path and parses the NDJSON findings; the run must be clean (exit 0 with
/// `--fail-on none`, nothing on stderr).
pub fn run(path: &Path) -> Vec<Value> {
    let out = cmd()
        .args(["--format", "ndjson", "--fail-on", "none"])
        .arg(path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{}: {stderr}", path.display());
    assert!(stderr.is_empty(), "{}: {stderr}", path.display());
    ndjson_lines(&out.stdout)
}

/// The root-cause findings.
pub fn roots(v: &[Value]) -> Vec<&Value> {
    v.iter().filter(|f| f["root_cause"] == true).collect()
}

/// The root-cause finding the extractor gives a text (a catalog or phrase example), read as
/// a bounce message or not, with success codes reported or not.
pub fn root_of_text(example: &str, bounce: bool, all: bool) -> Option<Finding> {
    let mut doc = Document::text(example.as_bytes().to_vec());
    doc.bounce = bounce;
    let mut out = Vec::new();
    extract::scan_document(
        &doc,
        &Origin {
            path: "example",
            message: 1,
        },
        &Options {
            all,
            ..Options::default()
        },
        &mut out,
        &mut Default::default(),
    );
    out.into_iter().find(|f| f.root_cause)
}
