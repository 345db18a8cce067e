//! Flag values: every duration flag takes one grammar, and a value its flag refuses is a
//! usage error at parse time (exit 2, one line naming the flag and the value).

mod common;

use common::cmd;

/// Runs with `args` and returns (exit code, standard error), checking nothing was printed.
fn refused<S: AsRef<std::ffi::OsStr> + std::fmt::Debug>(args: &[S]) -> (Option<i32>, String) {
    let out = cmd().args(args).output().unwrap();
    assert!(out.stdout.is_empty(), "{args:?}");
    (out.status.code(), String::from_utf8(out.stderr).unwrap())
}

/// The one line a refused value gives.
fn one_line<S: AsRef<std::ffi::OsStr> + std::fmt::Debug>(args: &[S]) -> String {
    let (code, err) = refused(args);
    assert_eq!(code, Some(2), "{args:?}: {err}");
    assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
    err
}

#[test]
fn an_impossible_date_and_an_endless_window_are_usage_errors() {
    let err = one_line(&[
        "--now",
        "2026-02-31T00:00:00Z",
        "tests/fixtures/postfix.log",
    ]);
    assert_eq!(
        err,
        "ndr-doctor: --now 2026-02-31T00:00:00Z: 2026-02-31 is not a day of the calendar\n"
    );
    let err = one_line(&[
        "--retry-window",
        "99999999999h",
        "tests/fixtures/postfix.log",
    ]);
    assert!(
        err.starts_with("ndr-doctor: --retry-window 99999999999h: longer than "),
        "{err}"
    );
    let err = one_line(&["--now", "yesterday"]);
    assert!(err.contains("not a timestamp (expected RFC 3339"), "{err}");
    // the value is shown, its escape sequences made visible
    let err = one_line(&["--retry-window", "1\u{1b}[31m"]);
    assert!(
        err.contains("--retry-window 1\\x1b[31m: not a duration"),
        "{err}"
    );
}

#[test]
fn every_duration_flag_takes_the_same_grammar() {
    let flags: [&[&str]; 3] = [
        &["--retry-window"],
        &["probe", "127.0.0.1:1", "--timeout"],
        &["probe", "127.0.0.1:1", "--deadline"],
    ];
    for flag in flags {
        // `--flag=VALUE`, so that `-5m` is a value, not a flag
        let with = |value: &str| {
            let (name, before) = flag.split_last().unwrap();
            let mut args: Vec<String> = before.iter().map(|s| s.to_string()).collect();
            args.push(format!("{name}={value}"));
            args
        };
        // a unit is required: a bare number could mean seconds or hours
        let err = one_line(&with("24"));
        assert!(
            err.ends_with(
                " 24: no unit (expected a number and a unit: 500ms, 30s, 2m, 24h, 5d, 1w, 2d12h)\n"
            ),
            "{err}"
        );
        for bad in ["0s", "-5m", "5x", "1 month"] {
            one_line(&with(bad));
        }
        let err = one_line(&with("40000d"));
        assert!(err.contains("longer than"), "{err}");
    }
    // accepted by each: compound, spaced and ISO 8601 forms
    for value in ["1h30m", "1h 30m", "PT90M"] {
        let out = cmd()
            .args([
                "--retry-window",
                value,
                "--fail-on",
                "none",
                "tests/fixtures/postfix.log",
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{value}");
        for flag in ["--timeout", "--deadline"] {
            // nothing listens on port 1 of loopback: refused at once, 4.4.316
            let out = cmd()
                .args(["probe", "127.0.0.1:1", flag, value, "--format", "json"])
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(1), "{flag} {value}");
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(v["code"], "4.4.316", "{flag} {value}: {v}");
        }
    }
}
