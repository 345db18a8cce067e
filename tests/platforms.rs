//! Steps for the system the user runs: the platform each finding belongs to, its own commands,
//! filled in with the names from the failure and quoted for its shell.

mod common;
use common::{cmd, ndjson_lines, roots, run};
use serde_json::Value;
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn steps(f: &Value) -> String {
    let mut out = Vec::new();
    for key in ["fixes", "verify"] {
        for s in f[key].as_array().unwrap() {
            out.push(s.as_str().unwrap().to_string());
        }
    }
    out.join("\n")
}

/// A command only this platform has, in the steps of its connection-refused failure.
const ONLY: &[(&str, &str)] = &[
    ("postfix", "postqueue -i "),
    ("exim", "exim -M "),
    ("sendmail", "sendmail -v -qI"),
    ("exchange-server", "Retry-Queue -Identity <server>"),
    ("exchange-online", "Validate-OutboundConnector"),
];

#[test]
fn the_same_refusal_gets_each_platforms_own_steps() {
    for (file, platform) in [
        ("postfix.log", "postfix"),
        ("exim-main.log", "exim"),
        ("sendmail.log", "sendmail"),
        ("platforms/exchange-server.log", "exchange-server"),
        ("trace-24h.csv", "exchange-online"),
    ] {
        let v = run(&fixture(file));
        let f = v
            .iter()
            .find(|f| f["category"] == "connection-refused" && f["state"] == "queued")
            .unwrap_or_else(|| panic!("{file}: no queued connection-refused finding"));
        assert_eq!(f["platform"], platform, "{file}");
        let text = steps(f);
        for (p, command) in ONLY {
            assert_eq!(
                text.contains(command),
                *p == platform,
                "{file}: {command:?} in the steps of {platform}:\n{text}"
            );
        }
        if platform != "exchange-online" {
            // no Microsoft 365 steps for another system's queue
            for ms in ["Fix now", "Set-AcceptedDomain", "Microsoft 365"] {
                assert!(!text.contains(ms), "{file}: {ms:?} in\n{text}");
            }
        }
    }
}

#[test]
fn a_bounces_names_fill_its_steps() {
    let v = run(&fixture("platforms/postfix-refused.eml"));
    let r = roots(&v);
    assert_eq!(r.len(), 1);
    let f = r[0];
    assert_eq!(f["platform"], "postfix");
    let text = steps(f);
    for name in [
        "nc -vz mx.example.org 25",
        "routing for example.org",
        "send it again to neko@example.org",
    ] {
        assert!(text.contains(name), "{name:?} not in\n{text}");
    }
    // no made-up sample values, and the message has left the queue: no retry of it
    assert!(!text.contains("example.com"), "{text}");
    assert!(!text.contains("postqueue -i"), "{text}");
}

#[test]
fn a_slot_without_a_value_shows_a_placeholder() {
    let v = common::ndjson(
        &["--platform", "postfix"],
        "450 4.4.316 Connection refused\n",
    );
    let text = steps(&v[0]);
    assert!(text.contains("nc -vz <destination host> 25"), "{text}");
    assert!(text.contains("postqueue -i <queue id>"), "{text}");
}

#[test]
fn hostile_values_stay_one_quoted_argument() {
    // an Exchange tracking log's recipient column is taken as it is
    let log = std::fs::read_to_string(fixture("platforms/exchange-server.log")).unwrap();
    let log = log.replace(
        ",dana@example.com,",
        ",$(Remove-Item -Recurse C:\\)'dana@example.com,",
    );
    let v = common::ndjson(&[], &log);
    let f = roots(&v)[0];
    let text = steps(f);
    assert!(
        text.contains("-Recipients '$(Remove-Item -Recurse C:\\)''dana@example.com'"),
        "{text}"
    );
    // never bare
    assert!(!text.contains(" $(Remove-Item"), "{text}");
}

#[test]
fn redacted_runs_show_no_real_value_in_steps() {
    let out = cmd()
        .args(["--format", "ndjson", "--fail-on", "none", "--redact"])
        .arg(fixture("postfix.log"))
        .output()
        .unwrap();
    let v = ndjson_lines(&out.stdout);
    assert!(!v.is_empty());
    for f in &v {
        let text = steps(f);
        for real in ["example.com", "example.net", "dana", "192.0.2."] {
            assert!(!text.contains(real), "{real:?} in\n{text}");
        }
    }
}

#[test]
fn platform_can_be_given() {
    let out = cmd()
        .args([
            "--format",
            "ndjson",
            "--fail-on",
            "none",
            "--platform",
            "exim",
        ])
        .arg(fixture("postfix.log"))
        .output()
        .unwrap();
    let v = ndjson_lines(&out.stdout);
    assert!(v.iter().all(|f| f["platform"] == "exim"));
    assert!(steps(&v[1]).contains("exim -M "), "{}", steps(&v[1]));
}

#[test]
fn a_hostile_remote_host_is_quoted_for_each_shell() {
    let line = "450 4.4.315 Connection timed out [LastAttemptedServerName=mx.example.com;$(reboot)] [LastAttemptedIP=192.0.2.25:25]\n";
    // Exchange Online's own steps: PowerShell
    let v = common::ndjson(&[], line);
    assert_eq!(v[0]["platform"], "exchange-online");
    let text = steps(&v[0]);
    assert!(
        text.contains("Test-NetConnection 'mx.example.com;$(reboot)' -Port 25"),
        "{text}"
    );
    // Postfix's: POSIX sh
    let v = common::ndjson(&["--platform", "postfix"], line);
    let text = steps(&v[0]);
    assert!(
        text.contains("nc -vz 'mx.example.com;$(reboot)' 25"),
        "{text}"
    );
    assert!(!text.contains(" mx.example.com;"), "{text}");
}
