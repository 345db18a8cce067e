//! Damaged and slow input: every finding that can be read is kept, what was lost is said, and
//! an input's findings are out before the next input is waited for.

mod common;
use common::{cmd, ndjson_lines};
use flate2::{Compression, write::GzEncoder};
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn run(path: &std::path::Path) -> (usize, String) {
    let out = cmd()
        .args(["--format", "ndjson", "--fail-on", "none"])
        .arg(path)
        .output()
        .unwrap();
    (
        ndjson_lines(&out.stdout).len(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn gzip_with_trailing_bytes_gives_every_finding_and_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let bounce = std::fs::read(fixture("postfix-dsn.eml")).unwrap();
    let (healthy, _) = run(&fixture("postfix-dsn.eml"));
    assert!(healthy > 0);
    let mut data = gzip(&bounce);
    data.extend_from_slice(b"\0\0\0\0");
    let path = dir.path().join("bounce.eml.gz");
    std::fs::write(&path, data).unwrap();
    let (n, stderr) = run(&path);
    assert_eq!(n, healthy, "{stderr}");
    assert!(
        stderr.contains("bounce.eml.gz: the gzip data is damaged"),
        "{stderr}"
    );
}

#[test]
fn a_truncated_gzip_keeps_what_came_before_the_damage() {
    let dir = tempfile::tempdir().unwrap();
    let line = std::fs::read_to_string(fixture("postfix.log")).unwrap();
    let log = line.repeat(2000);
    let data = gzip(log.as_bytes());
    let path = dir.path().join("mail.log.gz");
    std::fs::write(&path, &data[..data.len() * 9 / 10]).unwrap();
    let (n, stderr) = run(&path);
    let (whole, _) = {
        std::fs::write(dir.path().join("whole.gz"), &data).unwrap();
        run(&dir.path().join("whole.gz"))
    };
    assert!(n > whole / 2 && n < whole, "{n} of {whole}");
    assert!(
        stderr.contains("mail.log.gz: the gzip data is damaged near compressed byte"),
        "{stderr}"
    );
}

#[test]
fn an_inputs_findings_are_out_before_a_fifo_is_waited_for() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("no mkfifo here: skipped");
        return;
    }
    let log = fixture("postfix.log");
    let mut child = common::spawn(&[
        "--format",
        "ndjson",
        "--fail-on",
        "none",
        log.to_str().unwrap(),
        fifo.to_str().unwrap(),
    ]);
    // were the findings held back, the read below would wait forever: a watchdog waits at
    // most a minute for the first line and otherwise ends the child, so the test fails instead
    // of hanging (it ends the child at once if the test fails before: the sender is dropped)
    let (done, seen) = std::sync::mpsc::channel::<()>();
    let pid = child.id().to_string();
    std::thread::spawn(move || {
        if seen
            .recv_timeout(std::time::Duration::from_secs(60))
            .is_err()
        {
            let _ = std::process::Command::new("kill").arg(&pid).status();
        }
    });
    // the first input's findings arrive while the FIFO still has no writer
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let first = lines.next().expect("a finding before the FIFO").unwrap();
    done.send(()).unwrap();
    assert!(first.contains("\"path\":"), "{first}");
    // then a writer comes and goes: the run ends
    std::fs::OpenOptions::new()
        .write(true)
        .open(&fifo)
        .unwrap()
        .write_all(b"")
        .unwrap();
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert_eq!(rest.len() + 1, 7);
    assert!(child.wait().unwrap().success());
}

fn findings_of(bytes: &[u8]) -> Vec<serde_json::Value> {
    let out = cmd()
        .args(["--format", "ndjson", "--fail-on", "none"])
        .write_stdin(bytes.to_vec())
        .output()
        .unwrap();
    ndjson_lines(&out.stdout)
}

/// Each finding's message number and recipient.
fn message_and_recipient(v: &[serde_json::Value]) -> Vec<(u64, &str)> {
    v.iter()
        .map(|f| {
            (
                f["message"].as_u64().unwrap(),
                f["recipient"].as_str().unwrap(),
            )
        })
        .collect()
}

#[test]
fn mbox_messages_of_every_shape_read_as_they_would_alone() {
    let alone = b"From: MAILER-DAEMON@example.org\nSubject: Undelivered Mail\n550 5.1.1 <a@b.example>: User unknown\n";
    assert_eq!(findings_of(alone).len(), 1);
    // the same in an mbox: headers with no blank line after them, and no headers at all
    let mut mbox = b"From MAILER-DAEMON Thu Jan  1 00:00:00 2026\n".to_vec();
    mbox.extend_from_slice(alone);
    mbox.extend_from_slice(
        b"From MAILER-DAEMON Thu Jan  1 00:00:01 2026\n550 5.1.1 <c@d.example>: User unknown\n",
    );
    let v = findings_of(&mbox);
    let got = message_and_recipient(&v);
    assert_eq!(got, [(1, "a@b.example"), (2, "c@d.example")]);
}

#[test]
fn a_header_block_ended_by_bare_crs_among_lf_lines() {
    let v = findings_of(
        b"Subject: Undelivered Mail\r\r550 5.1.1 <a@b.example>: User unknown\nnext line\n",
    );
    assert_eq!(v.len(), 1);
    assert_eq!(v[0]["recipient"], "a@b.example");
    // CRLF stays one line end: the line numbers are the file's
    let v = findings_of(b"one\r\ntwo\r\n550 5.1.1 <a@b.example>: User unknown\r\n");
    assert_eq!(v[0]["line"], 3);
}

#[test]
fn the_rest_of_a_message_cut_for_size_stays_in_that_message() {
    let mut mbox = b"From MAILER-DAEMON Thu Jan  1 00:00:00 2026\nFrom: MAILER-DAEMON@example.org\nSubject: Undelivered Mail\nContent-Type: text/plain\n\n".to_vec();
    let filler = b"a line of the returned message, nothing failed in it\n";
    while mbox.len() < 33 << 20 {
        mbox.extend_from_slice(filler);
    }
    mbox.extend_from_slice(b"550 5.1.1 <late@b.example>: User unknown\n");
    mbox.extend_from_slice(b"From MAILER-DAEMON Thu Jan  1 00:00:01 2026\nFrom: MAILER-DAEMON@example.org\nSubject: Undelivered Mail\n\n550 5.1.1 <second@b.example>: User unknown\n");
    let out = cmd()
        .args(["--format", "ndjson", "--fail-on", "none"])
        .write_stdin(mbox)
        .output()
        .unwrap();
    let v = ndjson_lines(&out.stdout);
    let got = message_and_recipient(&v);
    assert_eq!(got, [(1, "late@b.example"), (2, "second@b.example")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("message 1 larger than 32 MiB"), "{stderr}");
}

#[test]
fn a_file_shorter_than_its_size_says_so() {
    // a /sys attribute stands in for a file that shrank while read: its size says 4096 bytes,
    // it holds a few
    let sys = std::path::Path::new("/sys/class/net/lo/mtu");
    let size = std::fs::metadata(sys).map(|m| m.len()).unwrap_or(0);
    if size == 0 || std::fs::read(sys).map_or(true, |b| b.len() as u64 >= size) {
        eprintln!("no /sys attribute shorter than its size here: skipped");
        return;
    }
    let (_, stderr) = run(sys);
    assert!(
        stderr.contains("mtu: the file shrank while it was read"),
        "{stderr}"
    );
}
