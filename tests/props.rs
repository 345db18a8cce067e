//! Property tests through the library's entry points: whatever the bytes, reading and
//! scanning never panic, rendering gives valid JSON, escaping leaves no control character,
//! and a well-formed code in random text is found exactly once.

use ndr_doctor::catalog::Lang;
use ndr_doctor::extract::{self, Finding, Options, Origin};
use ndr_doctor::input::{self, Document, Source, Unit};
use ndr_doctor::render::{Renderer, Style, Tally, json::Json};
use ndr_doctor::sanitize;
use proptest::prelude::*;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The options every property runs with (the built-in catalog).
fn opts() -> Options {
    Options {
        all: true,
        now: 1_772_700_000,
        ..Options::default()
    }
}

fn origin() -> Origin<'static> {
    Origin {
        path: "prop",
        message: 1,
    }
}

/// Bytes that are random, or random with pieces of the structures the readers look for
/// (codes, DSN fields, MIME headers and boundaries, mbox and trace headers, gzip and BOMs).
fn input() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        4 => prop::collection::vec(any::<u8>(), 1..16),
        1 => Just(b"550 5.1.1 ".to_vec()),
        1 => Just(b"450-4.4.316 Connection refused\n".to_vec()),
        1 => Just(b"\nStatus: 4.4.7\nAction: failed\nFinal-Recipient: rfc822; a@example.com\n".to_vec()),
        1 => Just(b"\nContent-Type: multipart/report; boundary=\"b\"\n\n--b\n".to_vec()),
        1 => Just(b"\nContent-Type: message/rfc822\n\n".to_vec()),
        1 => Just(b"\nContent-Transfer-Encoding: base64\n\nNTUwIDUuMS4x*\n".to_vec()),
        1 => Just(b"\n--b--\n".to_vec()),
        1 => Just(b"From MAILER-DAEMON Thu Mar  5 09:14:02 2026\nFrom: x\n\n".to_vec()),
        1 => Just(b"date_time_utc,event_id,recipient_status\n".to_vec()),
        1 => Just(b"Mar  4 12:33:10 mx1 postfix/smtp[1]: A1: to=<a@example.com>, dsn=4.4.1, status=deferred (connect to x[192.0.2.1]:25: Connection refused)\n".to_vec()),
        1 => Just(vec![0x1f, 0x8b, 8, 0]),
        1 => Just(vec![0xff, 0xfe]),
        1 => Just(b"\r\x1b[2J\x07\xc2\x9b\xe2\x80\xae".to_vec()),
    ];
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..2048),
        prop::collection::vec(piece, 0..48).prop_map(|v| v.concat()),
    ]
}

/// Reads bytes as a file through `input::read` (sniffing, gzip, UTF-16, MIME, mbox,
/// traces) and scans every unit as the driver does.
fn read_and_scan(bytes: &[u8]) -> Vec<Finding> {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("props");
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(format!(
        "{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&p, bytes).unwrap();
    let mut out = Vec::new();
    let o = origin();
    let result = input::read::<()>(&Source::File(p.clone()), &input::Buffers::new(), &mut |u| {
        match u {
            Unit::Lines { buf, first_line } => extract::scan_log(
                &buf,
                first_line,
                &o,
                &opts(),
                &mut out,
                &mut Default::default(),
            ),
            Unit::Document { doc, .. } => {
                extract::scan_document(&doc, &o, &opts(), &mut out, &mut Default::default())
            }
            Unit::Message {
                raw,
                first_line,
                message,
                in_mbox,
            } => {
                let (doc, _) = input::decode_message(&raw, first_line, "p", message, in_mbox);
                extract::scan_document(&doc, &o, &opts(), &mut out, &mut Default::default())
            }
            Unit::Record(r) => {
                extract::scan_trace_row(&r, &o, &opts(), &mut out, &mut Default::default())
            }
            Unit::Warning(_) | Unit::Idle => {}
        }
        Ok(())
    });
    std::fs::remove_file(&p).unwrap();
    // a read error (a broken gzip stream) is a reported outcome, not a panic
    let _ = result;
    out
}

fn json_of(findings: &[Finding]) -> Vec<u8> {
    let style = Style {
        catalog: ndr_doctor::catalog::builtin_or_empty(),
        lang: Lang::En,
        color: false,
        width: 100,
    };
    let mut tally = Tally::default();
    findings.iter().for_each(|f| tally.add(f));
    let mut w = Vec::new();
    let mut r = Json::new(style, false, false);
    r.findings(&mut w, findings).unwrap();
    r.warning(&mut w, "a \x1b[2J warning").unwrap();
    r.finish(&mut w, &tally, None).unwrap();
    w
}

fn no_control(s: &str) -> bool {
    !s.chars().any(|c| c != '\t' && sanitize::is_unsafe(c))
}

proptest! {
    // 256 cases a run (PROPTEST_CASES=N for more)
    #[test]
    fn reading_and_scanning_never_panic_and_json_always_parses(bytes in input()) {
        let mut findings = read_and_scan(&bytes);
        // the extractors directly too: as log lines, as a pasted text, as a message
        extract::scan_log(&bytes, 1, &origin(), &opts(), &mut findings, &mut Default::default());
        extract::scan_document(&Document::text(bytes.clone()), &origin(), &opts(), &mut findings, &mut Default::default());
        let doc = input::mime::document(&bytes, 1);
        extract::scan_document(&doc, &origin(), &opts(), &mut findings, &mut Default::default());
        let json = json_of(&findings);
        let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
        prop_assert_eq!(v["findings"].as_array().unwrap().len(), findings.len());
        for f in &findings {
            prop_assert!(no_control(&f.excerpt), "excerpt {:?}", f.excerpt);
            prop_assert!(f.excerpt.chars().count() <= extract::EXCERPT_CHARS);
        }
    }

    #[test]
    fn visible_text_holds_no_control_character(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        prop_assert!(no_control(&sanitize::visible(&bytes)));
        let lossy = String::from_utf8_lossy(&bytes);
        prop_assert!(no_control(&sanitize::text(&lossy)));
    }

    #[test]
    fn a_code_in_random_text_is_found_exactly_once(
        before in "[a-zA-Z ,;()]{0,40}",
        after in "[a-zA-Z ,;()]{0,40}",
        class in prop_oneof![Just(4u8), Just(5u8)],
        subject in 0u16..8,
        detail in 0u16..1000,
        reply in prop_oneof![Just(None), Just(Some(550u16)), Just(Some(451u16))],
    ) {
        let code = format!("{class}.{subject}.{detail}");
        let spelled = match reply {
            Some(r) => format!("{r} {code}"),
            None => format!("dsn={code}"),
        };
        let line = format!("{before} {spelled} {after}\n");
        let opts = Options {
            all: false,
            ..Options::default()
        };
        // as a log line
        let mut out = Vec::new();
        extract::scan_log(line.as_bytes(), 1, &origin(), &opts, &mut out, &mut Default::default());
        let found: Vec<String> = out.iter().filter_map(|f| f.code.map(|c| c.to_string())).collect();
        prop_assert_eq!(&found, &vec![code.clone()], "log line {:?}", line);
        // and in a pasted bounce
        let text = format!("Delivery has failed to these recipients or groups:\n\n{line}");
        let mut out = Vec::new();
        extract::scan_document(&Document::text(text.into_bytes()), &origin(), &opts, &mut out, &mut Default::default());
        let found: Vec<String> = out.iter().filter_map(|f| f.code.map(|c| c.to_string())).collect();
        prop_assert_eq!(&found, &vec![code], "pasted {:?}", line);
    }
}
