//! The human output fits the width it is given (`--width`, display columns: Japanese counts
//! double) and wraps between words, never inside one.

mod common;
use common::cmd;
use unicode_width::UnicodeWidthStr;

fn human(args: &[&str], width: u16) -> String {
    let out = cmd()
        .args(["--color", "never", "--fail-on", "none", "--width"])
        .arg(width.to_string())
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// The words of an output, without the excerpt markers wrapping repeats.
fn words(s: &str) -> Vec<&str> {
    s.split_whitespace().filter(|w| *w != "|").collect()
}

#[test]
fn findings_explain_and_summary_fit_80_columns_in_both_languages() {
    let postfix = fixture("postfix.log");
    let bounce = fixture("platforms/postfix-refused.eml");
    let runs: Vec<Vec<&str>> = vec![
        vec![postfix.as_str()],
        vec![bounce.as_str()],
        vec!["explain", "4.4.316", "5.1.1"],
        vec!["--summary", postfix.as_str()],
    ];
    for lang in ["en", "ja"] {
        for args in &runs {
            let mut a = vec!["--lang", lang];
            a.extend(args);
            let narrow = human(&a, 80);
            for line in narrow.lines() {
                // a link longer than the line stands alone, whole (split, it would not work)
                let alone =
                    line.split_whitespace().count() == 1 && line.trim().starts_with("https://");
                assert!(
                    alone || line.width() <= 80,
                    "{lang} {args:?}: {} columns: {line:?}",
                    line.width()
                );
            }
            if args[0] == "--summary" {
                continue;
            }
            // the same text as unwrapped: nothing lost, no word split
            let wide = human(&a, 1000);
            if lang == "en" {
                assert_eq!(words(&narrow), words(&wide), "{args:?}");
            } else {
                let squeeze = |s: &str| -> String { words(s).concat() };
                assert_eq!(squeeze(&narrow), squeeze(&wide), "{args:?}");
            }
            assert!(
                narrow.lines().count() > wide.lines().count(),
                "{args:?} did not wrap"
            );
        }
    }
}

#[test]
fn wrapped_steps_hang_under_their_text() {
    let out = human(&[&fixture("postfix.log")], 60);
    let lines: Vec<&str> = out.lines().collect();
    let i = lines
        .iter()
        .position(|l| l.starts_with("    1. "))
        .expect("a numbered step");
    assert!(
        lines[i + 1].starts_with("       "),
        "{:?}",
        &lines[i..i + 2]
    );
}
