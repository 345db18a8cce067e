//! Extraction: any bytes as a buffer of log lines, as a pasted text, and as a trace row;
//! the findings rendered as JSON must parse.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ndr_doctor::catalog::Lang;
use ndr_doctor::extract::{self, Options, Origin};
use ndr_doctor::input::{Document, Record};
use ndr_doctor::render::{Renderer, Style, Tally, json::Json};

fuzz_target!(|data: &[u8]| {
    let origin = Origin {
        path: "fuzz",
        message: 1,
    };
    let opts = Options {
        all: true,
        now: 1_772_700_000,
        ..Options::default()
    };
    let mut out = Vec::new();
    extract::scan_log(data, 1, &origin, &opts, &mut out, &mut Default::default());
    extract::scan_document(&Document::text(data.to_vec()), &origin, &opts, &mut out, &mut Default::default());
    let rec = Record {
        line: 2,
        text: data.to_vec(),
        event: Some("FAIL".into()),
        ..Record::default()
    };
    extract::scan_trace_row(&rec, &origin, &opts, &mut out, &mut Default::default());
    let style = Style {
        catalog: ndr_doctor::catalog::builtin_or_empty(),
        lang: Lang::En,
        color: false,
        width: 100,
    };
    let mut tally = Tally::default();
    out.iter().for_each(|f| tally.add(f));
    let mut w = Vec::new();
    let mut r = Json::new(style, false, false);
    r.findings(&mut w, &out).unwrap();
    r.finish(&mut w, &tally, None).unwrap();
    serde_json_check(&w);
});

/// JSON output must parse whatever the input (checked without a JSON dependency of our
/// own: the library's renderer guarantees UTF-8, and a brace balance outside strings).
fn serde_json_check(w: &[u8]) {
    let s = std::str::from_utf8(w).expect("JSON output is UTF-8");
    let (mut depth, mut in_str, mut esc) = (0i64, false, false);
    for c in s.chars() {
        if in_str {
            match (esc, c) {
                (true, _) => esc = false,
                (false, '\\') => esc = true,
                (false, '"') => in_str = false,
                (false, c) => assert!(c >= ' ', "raw control character in a JSON string"),
            }
        } else {
            match c {
                '"' => in_str = true,
                '{' | '[' => depth += 1,
                '}' | ']' => depth -= 1,
                _ => {}
            }
            assert!(depth >= 0);
        }
    }
    assert!(!in_str && depth == 0, "unbalanced JSON");
}
