//! End-to-end tests of the command line: formats, languages, exit codes, sanitization.

mod common;

use common::{cmd, ndjson, roots};
use predicates::prelude::*;
use serde_json::Value;

/// The six connector errors as they appear in the EOP queue / message trace, and their category.
const SIX: &[(&str, &str, &str)] = &[
    (
        "4.4.312",
        "dns-query-failed",
        "450 4.4.312 DNS query failed [Message=ErrorRetry] [LastAttemptedServerName=mail.example.com] [AM5EUR03FT022.eop-EUR03.prod.protection.outlook.com]",
    ),
    (
        "4.4.315",
        "connection-timed-out",
        "450 4.4.315 Connection timed out [Message=Failed to connect. Winsock error code: 10060, Win32 error code: 10060.] [LastAttemptedServerName=mail.example.com] [LastAttemptedIP=192.0.2.25:25]",
    ),
    (
        "4.4.316",
        "connection-refused",
        "450 4.4.316 Connection refused [Message=Socket error code 10061] [LastAttemptedServerName=mail.example.com] [LastAttemptedIP=192.0.2.25:25] [BN3NAM01FT008.eop-nam01.prod.protection.outlook.com]",
    ),
    (
        "4.4.317",
        "cannot-connect",
        "Reason: [{LED=450 4.4.317 Cannot connect to remote server [Message=451 5.7.3 STARTTLS is required to send mail] [LastAttemptedServerName=mail.example.com] [LastAttemptedIP=192.0.2.25:25]};{MSG=};{FQDN=mail.example.com};{IP=192.0.2.25};{LRT=3/4/2026 12:33:10 PM}]",
    ),
    (
        "4.4.318",
        "connection-closed",
        "450 4.4.318 Connection was closed abruptly [LastAttemptedServerName=mail.example.com] [LastAttemptedIP=192.0.2.25:25]",
    ),
    (
        "4.7.320",
        "certificate-invalid",
        "Reason: [{LED=450 4.7.320 Certificate validation failed [Message=SubjectMismatch] [LastAttemptedServerName=mail.example.com] [LastAttemptedIP=192.0.2.25:25]};{MSG=SubjectMismatch};{FQDN=mail.example.com};{IP=192.0.2.25};{LRT=11/1/2017 12:12:45 PM}]. OutboundProxyTargetIP: 192.0.2.25. OutboundProxyTargetHostName: mail.example.com",
    ),
];

#[test]
fn six_connector_errors_in_every_format_and_language() {
    for (code, category, line) in SIX {
        for lang in ["en", "ja"] {
            let v = ndjson(&["--lang", lang], line);
            let r = roots(&v);
            assert_eq!(r.len(), 1, "{code} {lang}: {v:?}");
            assert_eq!(r[0]["code"], *code);
            assert_eq!(r[0]["entry"], *code);
            assert_eq!(r[0]["category"], *category);
            assert_eq!(r[0]["known"], true);
            assert_eq!(r[0]["state"], "queued");
            assert_eq!(r[0]["severity"], "transient");
            assert_eq!(r[0]["remote_host"], "mail.example.com", "{code}");
            assert!(!r[0]["fixes"].as_array().unwrap().is_empty());
            let title = r[0]["title"].as_str().unwrap();
            let japanese = title.chars().any(|c| {
                ('\u{3040}'..='\u{30ff}').contains(&c) || ('\u{4e00}'..='\u{9fff}').contains(&c)
            });
            assert_eq!(japanese, lang == "ja", "{code} {lang}: {title}");

            let json = cmd()
                .args(["--format", "json", "--lang", lang])
                .write_stdin(*line)
                .assert()
                .code(1);
            let doc: Value = serde_json::from_slice(&json.get_output().stdout).unwrap();
            assert_eq!(doc["schema"], 1);
            assert!(
                doc["findings"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|f| f["code"] == *code && f["root_cause"] == true)
            );
            assert_eq!(doc["summary"]["by_category"][category], 1, "{doc}");

            cmd()
                .args(["--lang", lang])
                .write_stdin(*line)
                .assert()
                .code(1)
                .stdout(predicate::str::contains(*code).and(predicate::str::contains(title)));
        }
    }
}

#[test]
fn expired_forms_are_the_same_entries() {
    for (code, line) in [
        (
            "5.4.316",
            "550 5.4.316 Message expired, connection refused(Socket error code 10061)",
        ),
        (
            "5.4.312",
            "550 5.4.312 Message expired, DNS query failed(ErrorRetry)",
        ),
        (
            "5.4.317",
            "550 5.4.317 Message expired, cannot connect to remote server(451 5.7.3 STARTTLS is required to send mail)",
        ),
    ] {
        let v = ndjson(&[], line);
        let r = roots(&v);
        assert_eq!(r[0]["code"], code);
        assert_eq!(r[0]["entry"], format!("4{}", &code[1..]));
        assert_eq!(r[0]["state"], "expired");
        assert_eq!(r[0]["severity"], "permanent");
    }
}

#[test]
fn unknown_code_falls_back() {
    for lang in ["en", "ja"] {
        let v = ndjson(
            &["--lang", lang],
            "450 4.4.399 Something new [LastAttemptedServerName=mail.example.com]",
        );
        assert_eq!(v.len(), 1);
        assert_eq!(v[0]["code"], "4.4.399");
        assert_eq!(v[0]["known"], false);
        assert_eq!(v[0]["category"], "other");
        assert_eq!(v[0]["state"], "queued");
        let other_fix = {
            let e: Value = serde_json::from_slice(
                &cmd()
                    .args(["explain", "other", "--format", "json", "--lang", lang])
                    .output()
                    .unwrap()
                    .stdout,
            )
            .unwrap();
            e[0]["fixes"][0].as_str().unwrap().to_string()
        };
        assert!(
            v[0]["fixes"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f.as_str() == Some(&other_fix)),
            "{v:?}"
        );
    }
    cmd()
        .write_stdin("550 5.4.399 Something new")
        .assert()
        .code(1)
        .stdout(predicate::str::contains("5.4.399"));
}

#[test]
fn sendmail_refused_and_kernel_version() {
    let line = "Nov 9 12:01:31 host sendmail[4306]: jA9J1UvC004306: to=root, ctladdr=<root@example.org> (0/0), delay=00:00:00, xdelay=00:00:00, mailer=esmtp, pri=30005, relay=[127.0.0.1] [127.0.0.1], dsn=4.0.0, stat=Deferred: Connection refused by [127.0.0.1]\n";
    let v = ndjson(&[], line);
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!(v[0]["category"], "connection-refused");
    assert_eq!(v[0]["code"], "4.0.0");
    assert_eq!(v[0]["remote_ip"], "127.0.0.1");
    assert_eq!(v[0]["message_id"], "jA9J1UvC004306");
    assert_eq!(v[0]["timestamp"], "Nov 9 12:01:31");
    let kernel = "Nov 9 12:00:01 host kernel: Linux version 2.6.5-1.358 (bhcompile@bugs.build.redhat.com) (gcc version 3.3.3 20040412 (Red Hat Linux 3.3.3-7)) #1 Sat May 8 09:39:07 EDT 2004\n";
    assert!(ndjson(&[], kernel).is_empty());
    assert!(ndjson(&["--all"], kernel).is_empty());
    cmd().write_stdin(kernel).assert().code(0);
}

#[test]
fn ndjson_keys_are_the_contract() {
    let v = ndjson(&[], SIX[2].2);
    let keys = [
        "path",
        "message",
        "line",
        "code",
        "reply",
        "entry",
        "known",
        "category",
        "severity",
        "state",
        "title",
        "root_cause",
        "recipient",
        "remote_host",
        "remote_ip",
        "timestamp",
        "message_id",
        "excerpt",
        "causes",
        "fixes",
    ];
    for k in keys {
        assert!(v[0].get(k).is_some(), "missing {k}");
    }
    assert_eq!(v[0]["path"], "-");
    assert_eq!(v[0]["message"], 1);
    assert_eq!(v[0]["line"], 1);
    assert_eq!(v[0]["reply"], 450);
    assert_eq!(v[0]["recipient"], Value::Null);
}

#[test]
fn exit_codes_follow_fail_on() {
    let refused = SIX[2].2;
    cmd().write_stdin(refused).assert().code(1);
    cmd()
        .args(["--fail-on", "none"])
        .write_stdin(refused)
        .assert()
        .code(0);
    cmd()
        .args(["--fail-on", "permanent"])
        .write_stdin(refused)
        .assert()
        .code(0);
    cmd()
        .args(["--fail-on", "transient"])
        .write_stdin(refused)
        .assert()
        .code(1);
    cmd()
        .args(["--fail-on", "4.4.316"])
        .write_stdin(refused)
        .assert()
        .code(1);
    cmd()
        .args(["--fail-on", "5.4.316"])
        .write_stdin(refused)
        .assert()
        .code(0);
    cmd()
        .args(["--fail-on", "certificate-invalid,5.1.1"])
        .write_stdin(refused)
        .assert()
        .code(0);
    cmd()
        .args(["--fail-on", "connection-refused"])
        .write_stdin(refused)
        .assert()
        .code(1);
    cmd()
        .args(["--fail-on", "expired"])
        .write_stdin("550 5.4.316 Message expired, connection refused")
        .assert()
        .code(1);
    cmd()
        .args(["--fail-on", "no-such-thing"])
        .write_stdin(refused)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no-such-thing"));
    cmd().write_stdin("nothing to see here\n").assert().code(0);
    cmd().arg("--format").arg("xml").assert().code(2);
}

#[test]
fn unreadable_path_is_reported_and_the_rest_processed() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let good = dir.join("good.txt");
    std::fs::write(&good, SIX[2].2).unwrap();
    let out = cmd()
        .args(["--format", "ndjson"])
        .arg(dir.join("missing.log"))
        .arg(&good)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("missing.log"), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
}

#[test]
fn directories_are_walked_and_stdin_dash_works() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::create_dir_all(dir.join("a/b")).unwrap();
    std::fs::write(dir.join("a/b/one.txt"), SIX[0].2).unwrap();
    std::fs::write(dir.join("a/two.txt"), SIX[1].2).unwrap();
    let out = cmd()
        .args(["--format", "ndjson", "--fail-on", "none"])
        .arg(dir)
        .arg("-")
        .write_stdin(SIX[2].2)
        .output()
        .unwrap();
    let v: Vec<Value> = common::ndjson_lines(&out.stdout);
    let codes: Vec<&str> = v
        .iter()
        .filter(|f| f["root_cause"] == true)
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["4.4.312", "4.4.315", "4.4.316"]);
    assert_eq!(v.last().unwrap()["path"], "-");
}

#[test]
fn human_output_never_passes_control_characters() {
    let tail = "450 4.4.316 Connection refused \u{202e}txt.exe \u{2066}x \x1b[2J\x1b]8;;http://evil.example/\x07link\x1b]8;;\x07 \x1b]52;c;ZXZpbA==\x07 bell\x07 back\x08 cr\r \u{9b}31m [LastAttemptedServerName=mail\x1b[31m.example.com]";
    // a log line (split on LF only: the bare CR stays inside) and a pasted text
    let log = format!("Mar  4 12:33:10 mx1 postfix/smtp[1]: {tail}\n");
    let pasted = format!("{}\n", tail.replace('\r', ""));
    for hostile in [log, pasted] {
        let out = cmd()
            .args(["--color", "never"])
            .write_stdin(hostile.clone())
            .output()
            .unwrap();
        let s = String::from_utf8(out.stdout).unwrap();
        for bad in [
            '\x1b', '\x07', '\x08', '\r', '\u{9b}', '\u{202e}', '\u{2066}',
        ] {
            assert!(!s.contains(bad), "{bad:?} in {s}");
        }
        assert!(s.contains("\\x1b[2J"), "{s}");
        assert!(s.contains("\\u{202e}"), "{s}");
        assert!(s.contains("\\x07"), "{s}");
        // JSON: valid, and the terminal-active characters are \u-escaped
        let out = cmd()
            .args(["--format", "json"])
            .write_stdin(hostile.clone())
            .output()
            .unwrap();
        let raw = String::from_utf8(out.stdout).unwrap();
        assert!(
            !raw.contains('\x1b')
                && !raw.contains('\u{9b}')
                && !raw.contains('\u{202e}')
                && !raw.contains('\x07')
        );
        let v: Value = serde_json::from_str(&raw).unwrap();
        assert_eq!(v["findings"][0]["code"], "4.4.316");
    }
}

#[test]
fn invalid_utf8_and_nul_bytes_are_fine() {
    let mut input =
        b"450 4.4.316 Connection refused \xff\xfe\x00 [LastAttemptedServerName=mail.example.com]\n"
            .to_vec();
    input.extend_from_slice(&[0u8; 100]);
    let out = cmd()
        .args(["--format", "ndjson"])
        .write_stdin(input)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: Value =
        serde_json::from_slice(out.stdout.split(|&b| b == b'\n').next().unwrap()).unwrap();
    assert!(v["excerpt"].as_str().unwrap().contains("\\xff\\xfe"), "{v}");
}

#[test]
fn colour_rules() {
    let line = SIX[2].2;
    let plain = cmd().write_stdin(line).output().unwrap().stdout;
    assert!(!plain.contains(&0x1b), "no colour when piped");
    let forced = cmd()
        .args(["--color", "always"])
        .write_stdin(line)
        .output()
        .unwrap()
        .stdout;
    assert!(forced.contains(&0x1b));
    let env_forced = cmd()
        .env("CLICOLOR_FORCE", "1")
        .write_stdin(line)
        .output()
        .unwrap()
        .stdout;
    assert!(env_forced.contains(&0x1b));
    let no = cmd()
        .env("CLICOLOR_FORCE", "1")
        .env("NO_COLOR", "1")
        .write_stdin(line)
        .output()
        .unwrap()
        .stdout;
    assert!(!no.contains(&0x1b), "NO_COLOR beats CLICOLOR_FORCE");
}

#[test]
fn language_from_environment() {
    let line = SIX[2].2;
    cmd()
        .env("LANG", "ja_JP.UTF-8")
        .write_stdin(line)
        .assert()
        .stdout(predicate::str::contains("根本原因"));
    cmd()
        .env("LANG", "ja_JP.UTF-8")
        .env("LC_ALL", "en_US.UTF-8")
        .write_stdin(line)
        .assert()
        .stdout(predicate::str::contains("root cause"));
    cmd()
        .env("LC_MESSAGES", "ja")
        .write_stdin(line)
        .assert()
        .stdout(predicate::str::contains("解決方法"));
    cmd()
        .env("LANG", "ja_JP.UTF-8")
        .args(["--lang", "en"])
        .write_stdin(line)
        .assert()
        .stdout(predicate::str::contains("How to fix it"));
}

#[test]
fn explain_accepts_every_spelling() {
    for q in [
        &["4.4.316"][..],
        &["450 4.4.316"],
        &["450", "4.4.316"],
        &["5.4.316"],
        &["X.4.316"],
    ] {
        cmd().arg("explain").args(q).assert().code(0).stdout(
            predicate::str::contains("4.4.316").and(predicate::str::contains("connection-refused")),
        );
    }
    let out = cmd()
        .args(["explain", "5.4.316", "--format", "json"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["entry"], "4.4.316");
    assert_eq!(v[0]["state"], "expired");
    assert_eq!(v[0]["match"], "exact");
    let out = cmd()
        .args(["explain", "4.4.399", "--format", "json"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["known"], false);
    assert_eq!(v[0]["match"], "subject");
    cmd()
        .args(["explain", "--lang", "ja", "4.7.320"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("証明書"));
    cmd().args(["explain", "hello"]).assert().code(2);
}

#[test]
fn codes_lists_the_table() {
    let out = cmd().arg("codes").output().unwrap();
    let s = String::from_utf8(out.stdout).unwrap();
    for (code, cat, _) in SIX {
        assert!(
            s.lines().any(|l| l.starts_with(code) && l.contains(cat)),
            "{code}"
        );
    }
    let out = cmd().args(["codes", "--format", "json"]).output().unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["schema"], 1);
    assert!(v["codes"].as_array().unwrap().len() >= 7);
}

#[test]
fn closed_pipe_is_a_quiet_exit() {
    use std::io::{BufRead, BufReader, Write};
    let mut child = common::spawn(&["--format", "ndjson", "--fail-on", "none"]);
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let line = "Mar  4 12:33:10 mx1 postfix/smtp[1]: ABCDEF123: to=<a@example.com>, dsn=4.4.1, status=deferred (connect to mail.example.com[192.0.2.25]:25: Connection refused)\n";
        for _ in 0..200_000 {
            if stdin.write_all(line.as_bytes()).is_err() {
                break;
            }
        }
    });
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    drop(out);
    let result = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert!(first.starts_with('{'));
    assert_eq!(result.status.code(), Some(0));
    assert!(
        result.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
}

#[test]
fn bundled_samples_work() {
    let root = env!("CARGO_MANIFEST_DIR");
    let out = cmd()
        .args(["--format", "ndjson"])
        .arg(format!("{root}/data/samples/eop-expired-ndr.txt"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: Vec<Value> = common::ndjson_lines(&out.stdout);
    let r = roots(&v);
    assert_eq!(r.len(), 1);
    assert_eq!(
        (r[0]["code"].as_str(), r[0]["state"].as_str()),
        (Some("4.4.316"), Some("expired"))
    );
    assert_eq!(r[0]["recipient"], "dana@example.com");
    let out = cmd()
        .args(["--format", "ndjson"])
        .arg(format!("{root}/data/samples/postfix-mail.log"))
        .output()
        .unwrap();
    let v: Vec<Value> = common::ndjson_lines(&out.stdout);
    let cats: Vec<&str> = v.iter().map(|f| f["category"].as_str().unwrap()).collect();
    assert_eq!(
        cats,
        [
            "connection-refused",
            "mailbox-unknown",
            "connection-closed",
            "dns-query-failed",
            "certificate-invalid"
        ]
    );
    let lines: Vec<u64> = v.iter().map(|f| f["line"].as_u64().unwrap()).collect();
    assert_eq!(lines, [3, 5, 6, 7, 9]);
}

#[test]
fn exchange_online_guidance_in_both_languages() {
    for (code, en_word) in [("5.7.23", "SPF"), ("5.1.10", "ecipient")] {
        let out = cmd()
            .args(["explain", code, "--format", "json"])
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v[0]["entry"], code);
        assert_eq!(v[0]["details"]["source"], "exchange-online");
        assert!(
            v[0]["title"].as_str().unwrap().contains(en_word),
            "{}",
            v[0]["title"]
        );
        cmd()
            .args(["explain", code, "--lang", "ja"])
            .assert()
            .code(0)
            .stdout(predicate::str::contains(code).and(predicate::str::contains("解決方法")));
    }
    let out = cmd()
        .args(["explain", "5.3.5", "--format", "json"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["entry"], "X.3.5");
    assert_eq!(v[0]["title"], "System incorrectly configured");
    assert_eq!(v[0]["match"], "registry");
}

#[test]
fn overlays_add_runbook_lines_and_report_mistakes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let good = dir.join("runbook.json");
    std::fs::write(&good, r#"{"schema": 1, "codes": [
      {"code": "4.4.316", "en": {"fixes": ["Open a ticket in queue NET-FW with the firewall change template."]},
       "ja": {"fixes": ["キュー NET-FW にファイアウォール変更テンプレートでチケットを起票します。"]}},
      {"code": "5.9.40", "reply": 550, "category": "local-archive-reject", "severity": "permanent",
       "en": {"title": "Rejected by the archive gateway", "summary": "Our archive gateway refused it.", "causes": ["Archive quota"], "fixes": ["Call the archive team"]}}
    ]}"#).unwrap();
    let refused = SIX[2].2;
    let v: Vec<Value> = {
        let out = cmd()
            .args(["--format", "ndjson", "--catalog"])
            .arg(&good)
            .write_stdin(refused)
            .output()
            .unwrap();
        common::ndjson_lines(&out.stdout)
    };
    let fixes = v[0]["fixes"].as_array().unwrap();
    assert_eq!(
        fixes.last().unwrap(),
        "Open a ticket in queue NET-FW with the firewall change template."
    );
    assert!(fixes.len() > 2, "built-in fixes kept");
    cmd()
        .env("NDR_DOCTOR_CATALOG", &good)
        .args(["explain", "4.4.316", "--lang", "ja"])
        .assert()
        .stdout(predicate::str::contains("NET-FW"));
    cmd()
        .env("NDR_DOCTOR_CATALOG", &good)
        .args(["explain", "5.9.40"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("archive gateway"));
    cmd()
        .arg("--catalog")
        .arg(&good)
        .args(["codes", "--source", "local"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("5.9.40"));
    let bad = dir.join("bad.json");
    std::fs::write(
        &bad,
        "{\"schema\": 1,\n \"codes\": [\n  {\"code\": \"4.4.316\", \"fixs\": []}]}",
    )
    .unwrap();
    cmd()
        .arg("--catalog")
        .arg(&bad)
        .write_stdin(refused)
        .assert()
        .code(2)
        .stdout("")
        .stderr(
            predicate::str::contains(format!("{}:3:", bad.display()))
                .and(predicate::str::contains("fixs")),
        );
    cmd()
        .arg("--catalog")
        .arg(dir.join("missing.json"))
        .write_stdin(refused)
        .assert()
        .code(2)
        .stdout("");
}

#[test]
fn codes_filters() {
    let lines = |args: &[&str]| -> Vec<String> {
        let out = cmd().arg("codes").args(args).output().unwrap();
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect()
    };
    let tls = lines(&["tls"]);
    assert!(tls.iter().any(|l| l.starts_with("4.7.321")), "{tls:?}");
    assert!(
        tls.iter()
            .all(|l| l.to_lowercase().contains("tls") || !l.is_empty())
    );
    let x = lines(&["--class", "X"]);
    assert!(x.len() >= 80 && x.iter().all(|l| l.starts_with('X')));
    let four = lines(&["--class", "4"]);
    assert!(
        four.iter()
            .all(|l| l.starts_with('4') || l.starts_with('X'))
    );
    assert!(four.iter().any(|l| l.starts_with("4.4.316")));
    // a class-less entry listed for class 4 is shown as class 4
    let x11 = four.iter().find(|l| l.starts_with("X.1.1 ")).unwrap();
    assert!(x11.contains(" 450  transient"), "{x11}");
    assert!(!four.iter().any(|l| l.contains(" permanent")), "{four:?}");
    let eo = lines(&["--source", "exchange-online"]);
    assert!(eo.iter().any(|l| l.starts_with("5.7.23 ")));
    assert!(!eo.iter().any(|l| l.starts_with("4.4.316")));
    cmd()
        .args(["codes", "no-such-words-anywhere"])
        .assert()
        .code(1);
    cmd().args(["codes", "--class", "7"]).assert().code(2);
    let out = cmd()
        .args(["codes", "--format", "json", "--source", "iana"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        v["codes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["source"] == "iana")
    );
}

/// `tail -f log | ndr-doctor`: a line written to a pipe that stays open is reported while
/// the pipe is still open, not when 256 KiB have piled up or the writer ends.
#[test]
fn a_live_pipe_is_reported_as_it_is_written() {
    use std::io::{BufRead, BufReader, Write};
    use std::sync::mpsc;
    use std::time::Duration;
    let mut child = common::spawn(&["--format", "ndjson", "--fail-on", "none"]);
    drop(child.stderr.take());
    let mut stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if tx.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    let line = |n: u32| {
        format!(
            "Mar  4 12:33:1{n} mx1 postfix/smtp[2187{n}]: 4QbZ2x1Hj7z9v{n}: to=<dana{n}@example.com>, relay=none, delay=3605, dsn=4.4.1, status=deferred (connect to mail.example.com[192.0.2.25]:25: Connection refused)\n"
        )
    };
    for n in 1..=2 {
        stdin.write_all(line(n).as_bytes()).unwrap();
        stdin.flush().unwrap();
        let got = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("a finding while the pipe is still open");
        let v: Value = serde_json::from_str(&got).unwrap();
        assert_eq!(v["line"], n);
        assert_eq!(v["recipient"], format!("dana{n}@example.com"));
    }
    drop(stdin);
    assert!(child.wait().unwrap().success());
    reader.join().unwrap();
    assert!(rx.try_recv().is_err(), "nothing more after the end");
}

#[test]
fn explain_and_codes_speak_every_format_they_accept() {
    let run = |args: &[&str]| -> String {
        let out = cmd().args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let md = run(&["explain", "4.4.316", "--format", "markdown"]);
    assert!(md.starts_with("### 4.4.316 "), "{md}");
    assert!(md.contains("\n1. "), "{md}");
    let gh = run(&["explain", "4.4.316", "--format", "github"]);
    assert!(gh.starts_with("::notice title=4.4.316 "), "{gh}");
    let table = run(&["codes", "tls", "--format", "markdown"]);
    assert!(table.starts_with("| Code | Reply |"), "{table}");
    assert!(
        table.lines().any(|l| l.starts_with("| 4.7.320 | 450 |")),
        "{table}"
    );
    // reading nothing is no all-clear
    let out = cmd().arg("/nonexistent/input").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("could not be read"), "{text}");
    assert!(!text.contains("no delivery problems found ("), "{text}");
    // an archive is not read as a log, and says so
    let dir = tempfile::tempdir().unwrap();
    let mut tar = vec![0u8; 1024];
    tar[..8].copy_from_slice(b"mail.log");
    tar[257..262].copy_from_slice(b"ustar");
    tar.extend_from_slice(b"450 4.4.316 Connection refused\n");
    let path = dir.path().join("logs.tar");
    std::fs::write(&path, &tar).unwrap();
    let out = cmd().arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("a tar archive, not read"));
}

#[test]
fn help_to_a_full_disk_and_impossible_times_are_errors() {
    if std::path::Path::new("/dev/full").exists() {
        for args in [&["--help"][..], &["--version"], &["probe", "--help"]] {
            let full = std::fs::OpenOptions::new()
                .write(true)
                .open("/dev/full")
                .unwrap();
            let status = std::process::Command::new(assert_cmd::cargo::cargo_bin("ndr-doctor"))
                .args(args)
                .stdout(full)
                .stderr(std::process::Stdio::null())
                .status()
                .unwrap();
            assert_eq!(status.code(), Some(2), "{args:?}");
        }
    }
    for (flag, value) in [
        ("--now", "2026-02-30T00:00:00Z"),
        ("--now", "2026-02-10T00:00:00+99:99"),
        ("--now", "2025-02-29T00:00:00Z"),
        ("--retry-window", "9223372036854775807s"),
    ] {
        cmd()
            .args([flag, value])
            .write_stdin("")
            .assert()
            .code(2)
            .stderr(predicates::str::contains(value));
    }
    cmd()
        .args(["--now", "2024-02-29T00:00:00+09:00", "--fail-on", "none"])
        .write_stdin("")
        .assert()
        .code(0);
}

#[cfg(unix)]
#[test]
fn a_catalog_path_with_a_stray_byte_is_shown_as_that_byte() {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::OsStr::from_bytes(b"/nonexistent/run\xffbook.json");
    cmd()
        .arg("--catalog")
        .arg(path)
        .write_stdin("")
        .assert()
        .code(2)
        .stderr(predicates::str::contains("run\\xffbook.json"));
}
