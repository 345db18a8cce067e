//! Hostile and broken input, end to end: huge lines, bombs, deep nesting, special files,
//! unreadable paths, control sequences in every field, closed pipes, and look-alike lines
//! from other systems' logs. Big inputs are generated on the fly and piped, never written.

mod common;

use assert_cmd::Command;
use serde_json::Value;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command as Std;
use std::time::Duration;
use tempfile::TempDir;

fn cmd() -> Command {
    let mut c = common::cmd();
    c.timeout(Duration::from_secs(60));
    c
}

/// A fresh scratch directory for one test, its name ending in `name`, removed with everything
/// in it when dropped (also when the test fails).
fn scratch(name: &str) -> TempDir {
    tempfile::Builder::new()
        .prefix("ndr-doctor-hostile-")
        .suffix(&format!("-{name}"))
        .tempdir()
        .unwrap()
}

fn ndjson(stdout: &[u8]) -> Vec<Value> {
    common::ndjson_lines(stdout)
}

/// Every character that must never reach a terminal raw.
fn assert_terminal_safe(what: &str, bytes: &[u8]) {
    let s = String::from_utf8_lossy(bytes);
    for c in s.chars() {
        let bad = matches!(c, '\0'..='\u{8}' | '\u{b}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
            | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
        assert!(!bad, "{what}: raw {c:?} in output:\n{s}");
    }
}

/// Writes `head`, `total` bytes of `fill` and then `tail` to a child's standard input in pieces,
/// and returns the peak resident memory (VmHWM, in KiB) the child reached before its input
/// closed, with its output. Linux only (reads /proc).
fn pipe_through(
    args: &[&str],
    head: &[u8],
    fill: u8,
    total: usize,
    tail: &[u8],
) -> (u64, std::process::Output) {
    let mut child = common::spawn(args);
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut v = Vec::new();
        stdout.read_to_end(&mut v).unwrap();
        v
    });
    let err = std::thread::spawn(move || {
        let mut v = Vec::new();
        stderr.read_to_end(&mut v).unwrap();
        v
    });
    stdin.write_all(head).unwrap();
    let block = vec![fill; 1 << 20];
    let mut left = total;
    while left > 0 {
        let n = left.min(block.len());
        stdin.write_all(&block[..n]).unwrap();
        left -= n;
    }
    stdin.write_all(tail).unwrap();
    stdin.flush().unwrap();
    // the child has read all but its last buffers: its peak so far is the peak of the run
    std::thread::sleep(Duration::from_millis(200));
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap();
    let hwm = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    drop(stdin);
    let status = child.wait().unwrap();
    let output = std::process::Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    };
    (hwm, output)
}

#[test]
fn lookalike_logs_yield_no_finding() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lookalikes");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e != "md"))
        .collect();
    files.sort();
    assert!(files.len() >= 8);
    // each file as a whole (a log or a text, as sniffed), and each line alone, as if pasted
    let scratch = scratch("lookalike-lines");
    let lines = scratch.path();
    let mut n = 0;
    for f in &files {
        for line in std::fs::read_to_string(f).unwrap().lines() {
            n += 1;
            std::fs::write(lines.join(format!("{n:04}.txt")), format!("{line}\n")).unwrap();
        }
    }
    let out = cmd()
        .args(["--format", "ndjson", "--all", "--fail-on", "any"])
        .args(&files)
        .arg(lines)
        .output()
        .unwrap();
    let found: Vec<String> = ndjson(&out.stdout)
        .iter()
        .map(|f| {
            format!(
                "{}:{} {} {}",
                f["path"], f["line"], f["category"], f["excerpt"]
            )
        })
        .collect();
    assert!(found.is_empty(), "false findings:\n{}", found.join("\n"));
    assert_eq!(out.status.code(), Some(0));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_200_mib_line_through_a_pipe_stays_in_bounded_memory() {
    if !Path::new("/proc/self/status").exists() {
        eprintln!("skipped: no /proc to read the child's peak memory from");
        return;
    }
    let (hwm_kib, out) = pipe_through(
        &["--format", "ndjson", "--fail-on", "none"],
        b"",
        b'x',
        200 << 20,
        b" 550 5.1.1 <dana@example.com>: User unknown\nnext line 450 4.4.316 Connection refused\n",
    );
    assert_eq!(out.status.code(), Some(0));
    let v = ndjson(&out.stdout);
    let got: Vec<(u64, &str)> = v
        .iter()
        .map(|f| (f["line"].as_u64().unwrap(), f["code"].as_str().unwrap()))
        .collect();
    assert_eq!(got, [(1, "5.1.1"), (2, "4.4.316")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("-: line 1 is longer than 1 MiB"),
        "{stderr}"
    );
    assert!(hwm_kib < 64 * 1024, "peak RSS {hwm_kib} KiB");
}

#[test]
fn a_code_where_a_long_line_is_cut_is_found() {
    // 3 MiB of words with a code across the first 1 MiB piece boundary
    let mut line = Vec::new();
    while line.len() < (1 << 20) - 6 {
        line.extend_from_slice(b"abc def ");
    }
    line.extend_from_slice(b"dsn=5.1.1, status=bounced ");
    while line.len() < 3 << 20 {
        line.extend_from_slice(b"abc def ");
    }
    line.extend_from_slice(b"\n");
    let out = cmd()
        .args(["--format", "ndjson", "--fail-on", "none"])
        .write_stdin(line)
        .output()
        .unwrap();
    let v = ndjson(&out.stdout);
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!(v[0]["code"], "5.1.1");
    let excerpt = v[0]["excerpt"].as_str().unwrap();
    assert!(excerpt.chars().count() <= 300 && excerpt.ends_with('…'));
}

#[test]
fn an_oversized_message_is_read_to_its_end() {
    // 40 MiB of header fields (past MAX_MESSAGE), then the body with the error
    let mut m = b"From: MAILER-DAEMON@example.org\nSubject: Undelivered Mail\n".to_vec();
    let field = format!("X-Junk: {}\n", "a".repeat(90));
    while m.len() < 40 << 20 {
        m.extend_from_slice(field.as_bytes());
    }
    m.extend_from_slice(
        b"\n<dana@example.com>: host mx.example.com said: 550 5.1.1 User unknown\n",
    );
    let lines = m.iter().filter(|&&b| b == b'\n').count() as u64;
    let out = cmd()
        .args(["--format", "json", "--fail-on", "none"])
        .write_stdin(m)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["findings"][0]["code"], "5.1.1");
    assert_eq!(v["findings"][0]["line"], lines);
    let w = v["summary"]["warnings"].to_string();
    assert!(w.contains("message larger than 32 MiB"), "{w}");
}

#[test]
fn a_gzip_bomb_is_cut_with_a_warning() {
    use flate2::{Compression, write::GzEncoder};
    // gzip members of 1 MiB of zeros each (about 1 KiB): 1 GiB inflated from 1 MiB
    let mut e = GzEncoder::new(Vec::new(), Compression::best());
    e.write_all(&vec![0u8; 1 << 20]).unwrap();
    let member = e.finish().unwrap();
    let mut bomb = Vec::with_capacity(member.len() * 1024);
    for _ in 0..1024 {
        bomb.extend_from_slice(&member);
    }
    // bounded by cmd()'s 60 s timeout: inflating the whole GiB unchecked, or a cost that
    // grows with it, would be killed there, and a killed run has no exit code
    let out = cmd()
        .args(["--format", "json", "--fail-on", "none"])
        .write_stdin(bomb)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let w = v["summary"]["warnings"].to_string();
    assert!(w.contains("decompression bomb"), "{w}");
}

#[test]
fn a_trace_row_with_an_unclosed_quote_is_cut_and_the_rest_read() {
    if !Path::new("/proc/self/status").exists() {
        eprintln!("skipped: no /proc to read the child's peak memory from");
        return;
    }
    // an unclosed quote would make the rest of the input one field held in memory
    let (hwm_kib, out) = pipe_through(
        &["--format", "ndjson", "--fail-on", "none"],
        b"date_time_utc,event_id,recipient_status\n2026-03-04T12:33:10Z,DEFER,\"450 4.4.316 Connection refused ",
        b'x',
        100 << 20,
        b"\n2026-03-04T12:40:00Z,DEFER,451 4.4.317 Cannot connect to remote server\n",
    );
    let v = ndjson(&out.stdout);
    let got: Vec<(u64, &str)> = v
        .iter()
        .map(|f| (f["line"].as_u64().unwrap(), f["code"].as_str().unwrap()))
        .collect();
    assert_eq!(got, [(2, "4.4.316"), (3, "4.4.317")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("-: 1 row longer than 1 MiB: cut there"),
        "{stderr}"
    );
    assert!(hwm_kib < 64 * 1024, "peak RSS {hwm_kib} KiB");
}

#[test]
fn deep_mime_nesting_is_cut_and_the_rest_still_read() {
    let n = 10_000;
    let mut m = String::from(
        "From: MAILER-DAEMON@example.org\nSubject: Undelivered Mail\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b0\"\n\n",
    );
    for i in 1..n {
        m += &format!(
            "--b{}\nContent-Type: multipart/mixed; boundary=\"b{i}\"\n\n",
            i - 1
        );
    }
    m += &format!(
        "--b{}\nContent-Type: text/plain\n\n<dana@example.com>: 550 5.1.1 User unknown\n",
        n - 1
    );
    for i in (0..n).rev() {
        m += &format!("--b{i}--\n");
    }
    // twice in an mbox: the second message is still diagnosed after the first is cut
    let mbox = format!(
        "From a@example.org Thu Mar  5 09:14:02 2026\n{m}From b@example.org Thu Mar  5 09:14:03 2026\n{m}"
    );
    let out = cmd()
        .args(["--format", "json", "--fail-on", "none"])
        .write_stdin(mbox)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = v["findings"].as_array().unwrap();
    let got: Vec<(u64, &str)> = f
        .iter()
        .map(|f| (f["message"].as_u64().unwrap(), f["code"].as_str().unwrap()))
        .collect();
    assert_eq!(got, [(1, "5.1.1"), (2, "5.1.1")]);
    let w = v["summary"]["warnings"].as_array().unwrap();
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(w[0].as_str().unwrap().contains("message 1: line"));
    assert!(w[0].as_str().unwrap().contains("MIME structure"));
}

#[test]
fn many_codes_on_a_line_and_many_recipients_stay_cheap() {
    let mut line = String::new();
    for s in 0..8 {
        for d in 0..1000 {
            line += &format!("550 5.{s}.{d} ");
        }
    }
    line.push('\n');
    // each run is bounded by cmd()'s 60 s timeout: a cost quadratic in the codes or in the
    // recipients would be killed there, and a killed run has no exit code (nor whole output)
    let out = cmd()
        .args(["--format", "json", "--fail-on", "none"])
        .write_stdin(line)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["findings"].as_array().unwrap().len(), 32);
    assert!(
        v["summary"]["warnings"]
            .to_string()
            .contains("more than 32 status codes")
    );
    // a pasted text naming 60,000 recipients, each with its own failure
    let mut text = String::from("Delivery has failed to these recipients or groups:\n");
    for i in 0..60_000 {
        text += &format!("u{i}@example.com\n550 5.1.1 User unknown\n");
    }
    let out = cmd()
        .args(["--format", "ndjson", "--fail-on", "none"])
        .write_stdin(text)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(ndjson(&out.stdout).len(), 50_000);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("more than 50000 findings"), "{stderr}");
}

#[test]
fn empty_files_dev_null_and_binary_are_fine() {
    let scratch = scratch("empty");
    let dir = scratch.path();
    std::fs::write(dir.join("empty.txt"), b"").unwrap();
    let mut bin: Vec<u8> = (0..=255u8).cycle().take(1 << 16).collect();
    bin.extend_from_slice(b"\x00\xff\r\r\n\x1b[2J");
    std::fs::write(dir.join("binary.bin"), &bin).unwrap();
    let out = cmd()
        .args(["--color", "never"])
        .arg(dir.join("empty.txt"))
        .arg("/dev/null")
        .arg(dir.join("binary.bin"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "no delivery problems found (3 inputs)\n"
    );
    assert!(out.stderr.is_empty());
}

#[test]
fn a_fifo_is_read_until_its_writer_closes_and_skipped_in_a_walk() {
    let scratch = scratch("fifo");
    let dir = scratch.path();
    let fifo = dir.join("pipe");
    let made = Std::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("skipped: mkfifo is not available");
        return;
    }
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let mut f = std::fs::OpenOptions::new().write(true).open(fifo).unwrap();
            f.write_all(b"450 4.4.316 Connection refused\n").unwrap();
        })
    };
    let out = cmd()
        .args(["--format", "ndjson", "--fail-on", "none"])
        .arg(&fifo)
        .output()
        .unwrap();
    writer.join().unwrap();
    assert_eq!(ndjson(&out.stdout)[0]["code"], "4.4.316");
    // in a directory walk a FIFO without a writer would block for ever: it is skipped
    std::fs::write(dir.join("good.txt"), "450 4.4.316 Connection refused\n").unwrap();
    let out = cmd()
        .args(["--format", "ndjson", "--fail-on", "none"])
        .arg(dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(ndjson(&out.stdout).len(), 1);
}

/// Whether this process runs as root (which reads a file whatever its mode).
fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

#[test]
fn unreadable_inputs_are_named_and_the_rest_is_read() {
    use std::os::unix::fs::{PermissionsExt, symlink};
    let scratch = scratch("unreadable");
    let dir = scratch.path();
    let good = dir.join("good.txt");
    std::fs::write(&good, "450 4.4.316 Connection refused\n").unwrap();
    symlink(dir.join("nowhere"), dir.join("dangling")).unwrap();
    symlink(dir.join("loop-b"), dir.join("loop-a")).unwrap();
    symlink(dir.join("loop-a"), dir.join("loop-b")).unwrap();
    // conditions root cannot read past: a path through a file, a socket, a read error
    let through_file = good.join("x.log");
    let socket = dir.join("socket");
    // (a socket path is limited to about 100 bytes: in a deep checkout it is left out)
    let listener = std::os::unix::net::UnixListener::bind(&socket).ok();
    let no_perm = dir.join("no-perm.log");
    std::fs::write(&no_perm, "550 5.1.1 User unknown\n").unwrap();
    std::fs::set_permissions(&no_perm, std::fs::Permissions::from_mode(0o000)).unwrap();
    let mut args: Vec<PathBuf> = vec![
        good.clone(),
        dir.join("dangling"),
        dir.join("loop-a"),
        through_file.clone(),
        dir.join("missing.log"),
    ];
    if listener.is_some() {
        args.push(socket.clone());
    }
    let read_error = Path::new("/proc/self/mem");
    if read_error.exists() {
        // opens, then fails on the first read (EIO at address 0)
        args.push(read_error.to_path_buf());
    }
    if is_root() {
        eprintln!("note: running as root, which reads a mode-000 file: that case is not checked");
    } else {
        args.push(no_perm.clone());
    }
    args.push(good.clone());
    for format in ["ndjson", "human"] {
        let out = cmd()
            .args(["--format", format, "--color", "never"])
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{format}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        if format == "ndjson" {
            assert_eq!(ndjson(&out.stdout).len(), 2, "{stdout}");
        } else {
            assert_eq!(stdout.matches("found in").count(), 2, "{stdout}");
        }
        let mut expect = vec![
            ("dangling", "dangling symbolic link"),
            ("loop-a", "symbolic links"),
            ("x.log", "Not a directory"),
            ("missing.log", "No such file or directory"),
        ];
        if listener.is_some() {
            expect.push(("socket", "No such device or address"));
        }
        for (name, why) in expect {
            let line = stderr
                .lines()
                .find(|l| l.contains(name))
                .unwrap_or_else(|| panic!("{name} not named in {stderr}"));
            assert!(
                line.starts_with("ndr-doctor: ") && line.contains(why),
                "{line}"
            );
        }
        if read_error.exists() {
            // EIO on the first read (or EACCES where the kernel forbids the open)
            assert!(stderr.contains("ndr-doctor: /proc/self/mem: "), "{stderr}");
        }
        if !is_root() {
            assert!(
                stderr.contains("no-perm.log: Permission denied"),
                "{stderr}"
            );
        }
    }
    // the same, found in a directory walk
    let out = cmd()
        .args(["--format", "ndjson"])
        .arg(dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("dangling: dangling symbolic link"),
        "{stderr}"
    );
    assert!(stderr.contains("loop-a: Too many levels"), "{stderr}");
    // a directory where a file is expected
    let out = cmd().arg("--catalog").arg(dir).arg(&good).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("unreadable: Is a directory"), "{stderr}");
    std::fs::set_permissions(&no_perm, std::fs::Permissions::from_mode(0o644)).unwrap();
}

/// Every way input can try to drive a terminal (a bare CR ends a line of a pasted text, so
/// it is in the file name only; `tests/cli.rs` has it inside a log line).
const HOSTILE: &str = "\x1b[2J\x1b]8;;http://evil.example/\x07link\x1b]8;;\x07\x1b]52;c;ZXZpbA==\x07\x07\x08\u{9b}31m\u{85}\u{202e}\u{2066}";

#[test]
fn input_never_drives_the_terminal_in_any_field_or_format() {
    let h = HOSTILE;
    let log = format!(
        "Mar  4 12:33:10 mx1 postfix/smtp[21877]: 4QbZ{h}x1: to=<da{h}na@example.com>, relay=mail{h}.example.com[192.0.2.25]:25, dsn=4.4.1, status=deferred (connect to mail{h}.example.com[192.0.2.25]:25: Connection refused){h}\n"
    );
    let ndr = format!(
        "Delivery has failed to these recipients or groups:\n\nda{h}na@example.com\nRemote server returned '550 5.1.1 RESOLVER.ADR.RecipNotFound {h}'\nMessage-ID: <{h}@example.org>\n"
    );
    let scratch = scratch("terminal");
    let dir = scratch.path();
    // a file name cannot hold `/`: the sequences that do not need one
    let name = "evil\x1b[2J\x07\x08\r\u{9b}\u{202e}\u{2066}.log";
    std::fs::write(dir.join(name), &log).unwrap();
    std::fs::write(dir.join("ndr.txt"), &ndr).unwrap();
    let missing = dir.join(format!("gone{h}.log"));
    for args in [
        vec!["--format", "human", "--color", "always"],
        vec!["--format", "human", "--summary"],
        vec!["--format", "markdown"],
        vec!["--format", "github"],
    ] {
        let out = cmd().args(&args).arg(dir).arg(&missing).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        // colour codes are ours; everything else must be escaped
        let stdout = String::from_utf8_lossy(&out.stdout).replace("\x1b[", "CSI");
        assert!(!stdout.contains("CSI2J"), "{args:?}: {stdout}");
        let stdout = regex_free_strip_sgr(&String::from_utf8_lossy(&out.stdout));
        assert_terminal_safe(&format!("{args:?} stdout"), stdout.as_bytes());
        assert_terminal_safe(&format!("{args:?} stderr"), &out.stderr);
        assert!(String::from_utf8_lossy(&out.stderr).contains("gone\\x1b[2J"));
    }
    let out = cmd()
        .args(["--format", "human", "--color", "never"])
        .arg(dir)
        .output()
        .unwrap();
    let s = String::from_utf8_lossy(&out.stdout);
    for shown in ["evil\\x1b[2J", "da\\x1b[2J", "\\x07"] {
        assert!(s.contains(shown), "{shown} not in {s}");
    }
    // the recipient (the whole `to=<...>`, so long it may wrap onto the next line) shows the
    // bidi override escaped
    let lines: Vec<&str> = s.lines().collect();
    assert!(
        lines.iter().enumerate().any(|(i, l)| {
            l.trim_start().starts_with("recipient:")
                && format!("{l}{}", lines.get(i + 1).unwrap_or(&"")).contains("\\u{202e}")
        }),
        "the recipient shows the bidi override escaped: {s}"
    );
    // JSON: valid, and nothing a terminal acts on survives unescaped
    for format in ["json", "ndjson"] {
        let out = cmd().args(["--format", format]).arg(dir).output().unwrap();
        assert_terminal_safe(format, &out.stdout);
        if format == "json" {
            let v: Value = serde_json::from_slice(&out.stdout).unwrap();
            assert!(v["findings"].as_array().unwrap().len() >= 2);
        } else {
            assert!(ndjson(&out.stdout).len() >= 2);
        }
    }
}

/// Removes the SGR colour sequences ndr-doctor writes itself (`ESC [ digits ; m`).
fn regex_free_strip_sgr(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("\x1b[") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let len = after
            .find(|c: char| !(c.is_ascii_digit() || c == ';'))
            .unwrap_or(after.len());
        if after[len..].starts_with('m') {
            rest = &after[len + 1..];
        } else {
            out.push('\x1b');
            rest = &rest[i + 1..];
        }
    }
    out.push_str(rest);
    out
}

#[test]
fn random_bytes_give_valid_json() {
    // a small deterministic generator: the same bytes on every run
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for round in 0..6 {
        let len = 1 << (10 + 2 * round);
        let mut bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        // sprinkle codes, symptoms and structure so the scanners have something to bite
        for (i, piece) in [
            &b"\n550 5.1.1 "[..],
            b"\nStatus: 4.4.7\n",
            b"\nConnection refused by [192.0.2.1] dsn=4.0.0\n",
            b"\nContent-Type: multipart/report; boundary=x\n--x\n",
        ]
        .iter()
        .enumerate()
        {
            let at = (next() as usize) % (bytes.len() - piece.len());
            bytes[at..at + piece.len()].copy_from_slice(piece);
            let _ = i;
        }
        for format in ["json", "ndjson"] {
            let out = cmd()
                .args(["--format", format, "--fail-on", "none"])
                .write_stdin(bytes.clone())
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(0), "round {round}");
            if format == "json" {
                serde_json::from_slice::<Value>(&out.stdout).unwrap();
            } else {
                ndjson(&out.stdout);
            }
        }
    }
}

#[test]
fn closed_stdout_and_stderr_are_quiet_in_every_mode() {
    let line = "Mar  4 12:33:10 mx1 postfix/smtp[1]: ABCDEF123: to=<a@example.com>, dsn=4.4.1, status=deferred (connect to mail.example.com[192.0.2.25]:25: Connection refused)\n";
    let input = line.repeat(20_000);
    for args in [
        vec!["--format", "json"],
        vec!["--format", "ndjson"],
        vec!["--summary"],
        vec!["--summary", "--format", "json"],
        vec!["--format", "markdown"],
    ] {
        // `| head -1`: the reader takes one line and goes away
        let mut child = common::spawn(&[&args[..], &["--fail-on", "none"]].concat());
        let mut stdin = child.stdin.take().unwrap();
        let input = input.clone();
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(input.as_bytes());
        });
        let mut first = [0u8; 1];
        let mut stdout = child.stdout.take().unwrap();
        let _ = stdout.read(&mut first);
        drop(stdout);
        let out = child.wait_with_output().unwrap();
        writer.join().unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        assert!(
            out.stderr.is_empty(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // both closed before anything is written, with warnings to give (`2>&1 | head -1`)
    let mut child = common::spawn(&["--format", "ndjson", "--fail-on", "none"]);
    drop(child.stdout.take());
    drop(child.stderr.take());
    let mut stdin = child.stdin.take().unwrap();
    let mut long = vec![b'x'; 3 << 20];
    long.extend_from_slice(line.as_bytes());
    let _ = stdin.write_all(&long);
    drop(stdin);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "no panic on a closed stderr");
}

#[test]
fn an_escape_sequence_inside_a_postfix_recipient_keeps_the_whole_address() {
    // the brackets of `to=<...>` bound the address: its escape sequence is shown escaped,
    // not taken as the end of the local part (which read `31m@example.com`)
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("esc.log");
    std::fs::write(
        &log,
        b"Mar  1 00:00:00 mx1 postfix/smtp[1]: ABC123: to=<a\x1b[31m@example.com>, relay=mx.example.net[198.51.100.7]:25, delay=4, dsn=5.1.1, status=bounced (host mx.example.net[198.51.100.7] said: 550 5.1.1 User unknown (in reply to RCPT TO command))\n",
    )
    .unwrap();
    let out = cmd()
        .args(["--format", "ndjson"])
        .arg(&log)
        .output()
        .unwrap();
    let findings = ndjson(&out.stdout);
    assert!(!findings.is_empty());
    assert!(
        findings
            .iter()
            .all(|f| f["recipient"] == "a\u{1b}[31m@example.com"),
        "{findings:?}"
    );
    let out = cmd()
        .args(["--format", "human", "--color", "never"])
        .arg(&log)
        .output()
        .unwrap();
    let s = String::from_utf8_lossy(&out.stdout);
    assert!(s.contains("recipient: a\\x1b[31m@example.com"), "{s}");
    assert!(!s.contains('\u{1b}'), "{s}");
}
