//! Deliveries, expiry countdowns, summaries and the CI formats (issue: queue timelines).

mod common;

use common::cmd;
use predicates::prelude::*;
use serde_json::Value;

const TRACE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/trace-24h.csv");
const NOW: &str = "2026-03-05T09:30:00Z";

fn deliveries(extra: &[&str]) -> Vec<Value> {
    let out = cmd()
        .args([
            "--summary",
            "--format",
            "ndjson",
            "--fail-on",
            "none",
            "--now",
            NOW,
        ])
        .args(extra)
        .arg(TRACE)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    common::ndjson_lines(&out.stdout)
}

#[test]
fn trace_over_more_than_a_day_gives_deliveries() {
    let d = deliveries(&[]);
    assert_eq!(d.len(), 4, "{d:?}");
    // deferred for 24 hours, then expired: first attempt + 24 h
    assert_eq!(d[0]["message_id"], "11111111-1111-1111-1111-111111111111");
    assert_eq!(d[0]["recipient"], "dana@example.com");
    assert_eq!(d[0]["destination"], "mail.example.com");
    assert_eq!(d[0]["state"], "expired");
    assert_eq!(d[0]["attempts"], 4);
    assert_eq!(d[0]["first_attempt"], "2026-03-04T09:01:00Z");
    assert_eq!(d[0]["last_attempt"], "2026-03-05T09:01:30Z");
    assert_eq!(d[0]["expires_at"], "2026-03-05T09:01:00Z");
    assert_eq!(d[0]["last_code"], "5.4.316");
    assert_eq!(d[0]["category"], "connection-refused");
    // still queued: expires 24 h after its first attempt
    assert_eq!(d[1]["state"], "queued");
    assert_eq!(d[1]["attempts"], 2);
    assert_eq!(d[1]["expires_at"], "2026-03-06T06:00:00Z");
    assert_eq!(d[1]["expires_in_seconds"], 20 * 3600 + 30 * 60);
    // a later 2.x.x for the same delivery
    assert_eq!(d[2]["state"], "delivered");
    assert_eq!(d[2]["expires_at"], Value::Null);
    assert_eq!(d[3]["state"], "failed");
    assert_eq!(d[3]["last_code"], "5.1.1");
    assert_eq!(d[3]["destination"], "example.org");
    // the reason of the last error; a hard bounce only where the delivery failed for good
    let reasons: Vec<(&str, bool)> = d
        .iter()
        .map(|x| {
            (
                x["reason"].as_str().unwrap(),
                x["hard_bounce"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        reasons,
        [
            ("expired", false),
            ("networkerror", false),
            ("delivered", false),
            ("userunknown", true)
        ]
    );
}

#[test]
fn retry_window_and_now_move_the_countdown() {
    let d = deliveries(&["--retry-window", "2d"]);
    assert_eq!(d[0]["expires_at"], "2026-03-06T09:01:00Z");
    // the 5.4.316 NDR says it expired, whatever the window
    assert_eq!(d[0]["state"], "expired");
    assert_eq!(d[1]["expires_at"], "2026-03-07T06:00:00Z");
    let out = cmd()
        .args([
            "--summary",
            "--format",
            "ndjson",
            "--now",
            "2026-03-06T07:00:00Z",
            "--fail-on",
            "none",
        ])
        .arg(TRACE)
        .output()
        .unwrap();
    let d: Vec<Value> = common::ndjson_lines(&out.stdout);
    assert_eq!(
        d[1]["state"], "expired",
        "queued past its window has expired by now"
    );
    cmd()
        .args(["--summary", "--retry-window", "soon"])
        .arg(TRACE)
        .assert()
        .code(2);
    cmd()
        .args(["--summary", "--now", "yesterday"])
        .arg(TRACE)
        .assert()
        .code(2);
}

#[test]
fn human_summary_tables() {
    let out = cmd()
        .args([
            "--summary",
            "--now",
            NOW,
            "--fail-on",
            "none",
            "--width",
            "200",
        ])
        .arg(TRACE)
        .output()
        .unwrap();
    let s = String::from_utf8(out.stdout).unwrap();
    assert!(
        s.contains("By category and code")
            && s.contains("By destination")
            && s.contains("Expiring soonest"),
        "{s}"
    );
    assert!(s.contains("expires in 20h 30m"), "{s}");
    assert!(
        s.lines()
            .any(|l| l.contains("connection-refused") && l.contains("4.4.316")),
        "{s}"
    );
    assert!(
        s.lines()
            .any(|l| l.trim_start().starts_with("mail.example.com") && l.contains(" 2 ")),
        "{s}"
    );
    // narrower than the table: each row as `HEADER: value` lines, nothing cut
    let out = cmd()
        .args([
            "--summary",
            "--now",
            NOW,
            "--fail-on",
            "none",
            "--width",
            "80",
        ])
        .arg(TRACE)
        .output()
        .unwrap();
    let s = String::from_utf8(out.stdout).unwrap();
    assert!(
        s.lines().any(|l| l == "  CATEGORY: connection-refused"),
        "{s}"
    );
    assert!(s.lines().any(|l| l == "  CODE: 4.4.316"), "{s}");
    let ja = cmd()
        .args([
            "--summary",
            "--now",
            NOW,
            "--lang",
            "ja",
            "--fail-on",
            "none",
        ])
        .arg(TRACE)
        .output()
        .unwrap();
    assert!(
        String::from_utf8(ja.stdout)
            .unwrap()
            .contains("期限切れが近い配信")
    );
}

#[test]
fn json_has_deliveries_and_summary_figures() {
    let out = cmd()
        .args(["--format", "json", "--now", NOW, "--fail-on", "none"])
        .arg(TRACE)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["deliveries"].as_array().unwrap().len(), 4);
    assert_eq!(v["summary"]["deliveries_by_state"]["queued"], 1);
    assert_eq!(v["summary"]["deliveries_by_state"]["expired"], 1);
    let cats = v["summary"]["by_category_and_code"].as_array().unwrap();
    let refused = cats.iter().find(|c| c["code"] == "4.4.316").unwrap();
    assert_eq!(
        (
            refused["findings"].as_u64(),
            refused["messages"].as_u64(),
            refused["recipients"].as_u64()
        ),
        (Some(5), Some(2), Some(2))
    );
    assert!(!refused["top_fix"].as_str().unwrap().is_empty());
    let dest = &v["summary"]["by_destination"][0];
    assert_eq!(
        (dest["destination"].as_str(), dest["deliveries"].as_u64()),
        (Some("mail.example.com"), Some(2))
    );
    assert_eq!(
        v["summary"]["expiring_soonest"][0]["recipient"],
        "lee@example.com"
    );
    assert_eq!(v["summary"]["now"], NOW);
    // findings stay as they were, with their time in UTC
    assert_eq!(v["findings"][0]["time"], "2026-03-04T09:01:00Z");
    assert_eq!(v["findings"][0]["timestamp"], "2026-03-04T09:01:00.000Z");
}

#[test]
fn fail_on_expired_and_counts() {
    cmd()
        .args(["--fail-on", "expired", "--now", NOW])
        .arg(TRACE)
        .assert()
        .code(1);
    cmd()
        .args(["--fail-on", "expired", "--fail-on-count", "1", "--now", NOW])
        .arg(TRACE)
        .assert()
        .code(1);
    cmd()
        .args(["--fail-on", "expired", "--fail-on-count", "2", "--now", NOW])
        .arg(TRACE)
        .assert()
        .code(0);
    cmd()
        .args(["--fail-on", "queued", "--fail-on-count", "1", "--now", NOW])
        .arg(TRACE)
        .assert()
        .code(1);
    cmd()
        .args(["--fail-on", "queued", "--fail-on-count", "2", "--now", NOW])
        .arg(TRACE)
        .assert()
        .code(0);
    cmd()
        .args(["--fail-on", "any", "--fail-on-count", "3", "--now", NOW])
        .arg(TRACE)
        .assert()
        .code(1);
    cmd()
        .args(["--fail-on", "any", "--fail-on-count", "4", "--now", NOW])
        .arg(TRACE)
        .assert()
        .code(0);
}

#[test]
fn github_workflow_commands_are_escaped() {
    let out = cmd()
        .args(["--format", "github", "--now", NOW])
        .arg(TRACE)
        .output()
        .unwrap();
    let s = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = s.lines().collect();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("::warning file=") && l.contains("title=4.4.316")),
        "{s}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("::error file=") && l.contains("title=5.4.316")),
        "{s}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("::error file=")
            && l.contains("title=5.1.1")
            && l.contains("(failed, userunknown, ")),
        "{s}"
    );
    assert!(
        lines
            .last()
            .unwrap()
            .starts_with("::notice title=ndr-doctor::")
    );
    // a hostile line cannot start a command of its own nor break the properties
    let hostile = "450 4.4.316 Connection refused 100% %0A::set-output name=x::y [LastAttemptedServerName=a,b:c]\n";
    let out = cmd()
        .args(["--format", "github"])
        .write_stdin(hostile)
        .output()
        .unwrap();
    let s = String::from_utf8(out.stdout).unwrap();
    let first = s.lines().next().unwrap();
    assert!(
        first.starts_with("::warning file=-,line=1,title=4.4.316 "),
        "{first}"
    );
    let (props, data) = first
        .split_once("::")
        .and_then(|(_, rest)| rest.split_once("::"))
        .unwrap();
    assert!(!props.contains("a,b:c"));
    assert!(data.contains("100%25") && data.contains("%250A"), "{data}");
    assert_eq!(s.lines().filter(|l| l.starts_with("::")).count(), 2);
}

#[test]
fn markdown_report() {
    let out = cmd()
        .args(["--format", "markdown", "--now", NOW, "--fail-on", "none"])
        .arg(TRACE)
        .output()
        .unwrap();
    let s = String::from_utf8(out.stdout).unwrap();
    assert!(s.starts_with("## ndr-doctor report"));
    assert!(
        s.contains("| connection-refused | 4.4.316 | 5 | 2 | 2 |"),
        "{s}"
    );
    assert!(s.contains("### What to do"));
    assert!(s.contains("(connection-refused, networkerror)"), "{s}");
    assert!(s.contains("1. "));
    let out = cmd()
        .args(["--format", "markdown"])
        .write_stdin("450 4.4.316 refused | <script> `x`\n")
        .output()
        .unwrap();
    let s = String::from_utf8(out.stdout).unwrap();
    // escaped for Markdown with backslashes, never HTML (no entities to show in plain text)
    assert!(s.contains("\\| \\<script\\> \\`x\\`"), "{s}");
    assert!(!s.contains("&gt;") && !s.contains("<script>"), "{s}");
    // nothing the input holds becomes a link where the report is pasted
    let out = cmd()
        .args(["--format", "markdown"])
        .write_stdin("450 4.4.316 see https://evil.example/x www.evil.example m@evil.example\n")
        .output()
        .unwrap();
    let s = String::from_utf8(out.stdout).unwrap();
    assert!(s.contains("https\\://evil.example/x"), "{s}");
    assert!(
        s.contains("www\\.evil.example") && s.contains("m\\@evil.example"),
        "{s}"
    );
    assert!(!s.contains("https://evil"), "{s}");
}

#[test]
fn redact_replaces_names_everywhere() {
    let trace = std::fs::read_to_string(TRACE)
        .unwrap()
        .replace("example.com", "fabrikam-test.net")
        .replace("example.net", "northwind-test.org")
        .replace("192.0.2.25", "198.51.100.77");
    for format in ["human", "json", "ndjson", "github", "markdown"] {
        let out = cmd()
            .args([
                "--redact",
                "--summary",
                "--now",
                NOW,
                "--fail-on",
                "none",
                "--format",
                format,
            ])
            .write_stdin(trace.clone())
            .output()
            .unwrap();
        let s = String::from_utf8(out.stdout).unwrap();
        for secret in [
            "fabrikam-test",
            "northwind-test",
            "198.51.100.77",
            "q1@example.org",
        ] {
            assert!(!s.contains(secret), "{format}: {secret} in output:\n{s}");
        }
        assert!(
            s.contains("@domain") || s.contains("host1"),
            "{format}: {s}"
        );
    }
    let out = cmd()
        .args(["--redact", "--format", "ndjson", "--fail-on", "none"])
        .write_stdin(trace)
        .output()
        .unwrap();
    let v: Vec<Value> = common::ndjson_lines(&out.stdout);
    assert_eq!(
        v[0]["remote_host"], v[1]["remote_host"],
        "the same host gets the same placeholder"
    );
    assert_eq!(v[0]["remote_ip"], "ip1");
    assert_eq!(v[0]["recipient"], "user1@domain1");
}

#[test]
fn completions_and_man() {
    cmd()
        .args(["completions", "bash"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("ndr-doctor").and(predicate::str::contains("--fail-on")));
    cmd()
        .args(["completions", "zsh"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("#compdef ndr-doctor"));
    cmd().args(["completions", "fish"]).assert().code(0);
    cmd().arg("man").assert().code(0).stdout(
        predicate::str::contains(".TH ndr-doctor").and(predicate::str::contains("fail\\-on")),
    );
    cmd().arg("--help").assert().code(0).stdout(
        predicate::str::contains("Paste a bounce").and(predicate::str::contains("--fail-on-count")),
    );
}

#[test]
fn deliveries_are_keyed_by_queue_id_and_the_to_field() {
    // a collector's prefix before each syslog line (loghub's Thunderbird log): still a log,
    // one delivery per queue id, and the recipient is `to=root`, not the prefix's `src@host`
    let log = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/sendmail-collected.log"
    );
    let out = cmd()
        .args([
            "--summary",
            "--format",
            "ndjson",
            "--fail-on",
            "none",
            "--now",
            NOW,
            log,
        ])
        .output()
        .unwrap();
    let d = common::ndjson_lines(&out.stdout);
    let keys: Vec<(&str, &str, &str)> = d
        .iter()
        .map(|x| {
            (
                x["message_id"].as_str().unwrap(),
                x["recipient"].as_str().unwrap(),
                x["state"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        keys,
        [
            ("jA9K13Fd006004", "root", "queued"),
            ("jA9K14Fd006005", "root", "queued"),
            ("jA9K15Fd007005", "root", "queued"),
            ("jA9K16Fd007006", "root", "queued"),
        ]
    );
}

#[test]
fn mta_verdicts_settle_deliveries() {
    let summary = |file: &str, now: &str| {
        let out = cmd()
            .args([
                "--summary",
                "--format",
                "ndjson",
                "--fail-on",
                "none",
                "--now",
                now,
            ])
            .arg(format!(
                "{}/tests/fixtures/{file}",
                env!("CARGO_MANIFEST_DIR")
            ))
            .output()
            .unwrap();
        common::ndjson_lines(&out.stdout)
    };
    // Postfix: deferred twice, then qmgr's status=expired: one expired delivery, with the
    // deferrals' reason and Postfix's 5-day queue lifetime; deferred then bounced: failed
    let d = summary("postfix-expiry.log", "2026-03-10T00:00:00Z");
    assert_eq!(d.len(), 2, "{d:#?}");
    assert_eq!(
        (
            d[0]["recipient"].as_str(),
            d[0]["state"].as_str(),
            d[0]["reason"].as_str()
        ),
        (
            Some("dana@example.com"),
            Some("expired"),
            Some("networkerror")
        )
    );
    assert_eq!(d[0]["attempts"], 2);
    assert_eq!(d[0]["expires_at"], "2026-03-09T12:33:10Z");
    assert_eq!(
        (
            d[1]["recipient"].as_str(),
            d[1]["state"].as_str(),
            d[1]["reason"].as_str()
        ),
        (Some("lee@example.net"), Some("failed"), Some("mailboxfull"))
    );
    // Exim: `==` deferrals, then `** ... retry timeout exceeded`; Exim's 4 days
    let d = summary("exim-main.log", "2026-03-10T00:00:00Z");
    let dana = d
        .iter()
        .find(|x| x["recipient"] == "dana@example.com")
        .expect("dana's delivery");
    assert_eq!(dana["state"], "expired");
    assert_eq!(dana["expires_at"], "2026-03-08T12:33:10Z");
    // a message-level line before the recipients is not a delivery of its own
    assert!(d.iter().all(|x| !x["recipient"].is_null()), "{d:#?}");
    // --retry-window still wins
    let out = cmd()
        .args([
            "--summary",
            "--format",
            "ndjson",
            "--fail-on",
            "none",
            "--retry-window",
            "24h",
        ])
        .args(["--now", "2026-03-10T00:00:00Z"])
        .arg(format!(
            "{}/tests/fixtures/postfix-expiry.log",
            env!("CARGO_MANIFEST_DIR")
        ))
        .output()
        .unwrap();
    let d = common::ndjson_lines(&out.stdout);
    assert_eq!(d[0]["expires_at"], "2026-03-05T12:33:10Z");
}

#[test]
fn exchange_server_tracking_logs_count_down_two_days() {
    let out = cmd()
        .args(["--summary", "--format", "ndjson", "--fail-on", "none"])
        .args(["--now", "2026-03-05T00:00:00Z"])
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/exchange-tracking.log"
        ))
        .output()
        .unwrap();
    let d = common::ndjson_lines(&out.stdout);
    assert_eq!(d[0]["first_attempt"], "2026-03-04T12:20:01Z");
    assert_eq!(d[0]["expires_at"], "2026-03-06T12:20:01Z");
}

/// The json document is written as the findings are found: its findings are the ndjson
/// objects, in the same order, laid out as one pretty-printed document.
#[test]
fn the_streamed_json_document_holds_the_ndjson_findings() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
    let run = |format: &str| {
        cmd()
            .args(["--format", format, "--now", NOW, "--fail-on", "none"])
            .arg(dir)
            .output()
            .unwrap()
            .stdout
    };
    let doc = run("json");
    let v: Value = serde_json::from_slice(&doc).unwrap();
    let lines = common::ndjson_lines(&run("ndjson"));
    assert!(lines.len() > 50);
    assert_eq!(v["findings"].as_array().unwrap(), &lines);
    // laid out as serde_json's pretty printer does: two spaces per level of nesting
    pretty_layout(&String::from_utf8(doc).unwrap());
    // no findings: an empty array, and still a document
    let empty = cmd()
        .args(["--format", "json", "--fail-on", "none"])
        .write_stdin("nothing to see\n")
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&empty.stdout).unwrap();
    assert_eq!(v["findings"], serde_json::json!([]));
    assert_eq!(v["deliveries"], serde_json::json!([]));
}

/// Checks that every line of a JSON document is indented two spaces per level of nesting.
fn pretty_layout(doc: &str) {
    let mut depth: usize = 0;
    for (n, line) in doc.lines().enumerate() {
        let body = line.trim_start_matches(' ');
        let closes = body.starts_with('}') || body.starts_with(']');
        let want = 2 * (depth - usize::from(closes && depth > 0));
        assert_eq!(line.len() - body.len(), want, "line {}: {line}", n + 1);
        let mut in_string = false;
        let mut escaped = false;
        for c in body.chars() {
            match c {
                _ if escaped => escaped = false,
                '\\' if in_string => escaped = true,
                '"' => in_string = !in_string,
                '{' | '[' if !in_string => depth += 1,
                '}' | ']' if !in_string => depth -= 1,
                _ => {}
            }
        }
    }
    assert_eq!(depth, 0);
}

/// A delivery that went out without a failure is counted in the summary, not listed; one
/// delivered after failures is listed with no failure title.
#[test]
fn deliveries_without_a_failure_are_counted_not_listed() {
    let log = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/postfix.log");
    let out = cmd()
        .args(["--format", "json", "--now", NOW, "--fail-on", "none", log])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let listed = v["deliveries"].as_array().unwrap();
    assert!(listed.iter().all(|d| d["recipient"] != "sam@example.com"));
    let by_state = &v["summary"]["deliveries_by_state"];
    assert_eq!(by_state["delivered"], 1);
    let total: u64 = by_state
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert_eq!(v["summary"]["deliveries"].as_u64(), Some(total));
    assert_eq!(total, listed.len() as u64 + 1);
    // the trace: kim's delivery failed twice, then went out
    let d = deliveries(&[]);
    let kim = d
        .iter()
        .find(|d| d["recipient"] == "kim@example.net")
        .unwrap();
    assert_eq!(kim["state"], "delivered");
    assert_eq!(
        (&kim["title"], &kim["top_fix"]),
        (&Value::Null, &Value::Null)
    );
    assert_eq!(kim["last_code"], "4.7.320");
    assert!(
        d.iter()
            .all(|d| d["state"] == "delivered" || d["title"].is_string())
    );
}

/// The human and markdown summaries list the 20 destinations with the most deliveries and
/// count the rest; json lists them all.
#[test]
fn summaries_list_the_top_destinations() {
    let log: String = (0..30)
        .map(|i| {
            format!(
                "Mar  4 12:33:{i:02} mx1 postfix/smtp[1]: Q{i:04}: to=<u@d{i}.example.com>, relay=none, delay=1, dsn=4.4.1, status=deferred (connect to mx.d{i}.example.com[192.0.2.{i}]:25: Connection refused)\n"
            )
        })
        .collect();
    let run = |args: &[&str]| {
        let out = cmd()
            .args(["--fail-on", "none", "--now", NOW, "--width", "100"])
            .args(args)
            .write_stdin(log.clone())
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    let human = run(&["--summary"]);
    assert!(human.contains("... and 10 more destinations"), "{human}");
    assert_eq!(human.matches("DESTINATION: mx.d").count(), 20, "{human}");
    let md = run(&["--format", "markdown"]);
    assert!(md.contains("... and 10 more destinations."), "{md}");
    let v: Value = serde_json::from_str(&run(&["--format", "json"])).unwrap();
    assert_eq!(v["summary"]["by_destination"].as_array().unwrap().len(), 30);
}
