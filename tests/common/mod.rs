//! What the end-to-end tests share: the binary with a neutral environment, and ndjson
//! output read back.
#![allow(dead_code)] // each test file uses its own part of this module

use assert_cmd::Command;
use serde_json::Value;

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
