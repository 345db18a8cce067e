//! The catalog's tidy checks, modelled on rustc's error index: every entry complete in every
//! language, codes well formed and unique, files sorted, and every example line really
//! produces its entry when run through the extractor.

mod common;

use ndr_doctor::catalog::{self, Code, Entry, Key, Lang};

fn cat() -> &'static catalog::Catalog {
    catalog::builtin().expect("built-in catalog parses")
}

fn has_japanese(s: &str) -> bool {
    s.chars()
        .any(|c| ('\u{3040}'..='\u{30ff}').contains(&c) || ('\u{4e00}'..='\u{9fff}').contains(&c))
}

const SOURCES: &[&str] = &[
    "eop-connector",
    "exchange-online",
    "exchange-server",
    "iana",
    "rfc3463",
];
const OWNERS: &[&str] = &["your-organization", "destination", "sender"];

#[test]
fn every_entry_is_complete_in_every_language() {
    let mut problems = Vec::new();
    for e in cat().entries() {
        let mut p = |m: String| problems.push(format!("{}: {m}", e.code));
        if Key::parse(&e.code).is_none() {
            p("malformed code".into());
        }
        if !(200..=599).contains(&e.reply) {
            p(format!("reply {} out of range", e.reply));
        }
        let slug_ok = !e.category.is_empty()
            && e.category
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !e.category.starts_with('-')
            && !e.category.ends_with('-');
        if !slug_ok {
            p(format!(
                "category {:?} is not a kebab-case slug",
                e.category
            ));
        }
        if !SOURCES.contains(&e.source.as_str()) {
            p(format!("source {:?}", e.source));
        }
        if !OWNERS.contains(&e.owner.as_str()) {
            p(format!("owner {:?}", e.owner));
        }
        if e.references.is_empty() || e.references.iter().any(|r| !r.starts_with("https://")) {
            p("references must be https URLs, at least one".into());
        }
        for lang in Lang::ALL {
            let t = e.texts(lang);
            let l = lang.as_str();
            if t.title.trim().is_empty() || t.summary.trim().is_empty() {
                p(format!("{l}: empty title or summary"));
            }
            if t.causes.is_empty() || t.fixes.len() < 2 || t.verify.is_empty() {
                p(format!(
                    "{l}: needs causes, at least two fixes and a verify step"
                ));
            }
            let all = [&t.title, &t.summary]
                .into_iter()
                .chain(&t.causes)
                .chain(&t.fixes)
                .chain(&t.verify);
            for s in all {
                if s.trim().is_empty() {
                    p(format!("{l}: empty text"));
                }
                let lower = s.to_lowercase();
                if lower.contains("todo") || lower.contains("lorem") || lower.contains("tbd") {
                    p(format!("{l}: placeholder text {s:?}"));
                }
            }
            if lang == Lang::Ja && !has_japanese(&t.summary) {
                p("ja: summary is not Japanese".into());
            }
        }
        for r in e.related.iter().chain(&e.also) {
            let resolves = cat().by_key(r).is_some()
                || Code::parse(r)
                    .and_then(|c| cat().lookup(c))
                    .is_some_and(|l| l.how.known());
            if !resolves {
                p(format!("related/also {r} has no entry"));
            }
        }
        if e.code != catalog::OTHER && e.examples.is_empty() {
            p("no example".into());
        }
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

fn sort_key(code: &str) -> (u8, u16, u16, u16) {
    if code == catalog::OTHER {
        return (9, 0, 0, 0);
    }
    let head = code.split('-').next().unwrap_or("");
    let c = Code::parse(head).expect("well formed");
    let hi = code
        .split_once('-')
        .map_or(c.detail, |(_, h)| h.parse().unwrap_or(0));
    (c.class, c.subject, c.detail, hi)
}

#[test]
fn files_are_sorted_and_codes_unique() {
    let mut seen = std::collections::HashSet::new();
    for (name, text) in catalog::builtin_files() {
        let v: serde_json::Value = serde_json::from_str(text).expect(name);
        let codes: Vec<&str> = v["codes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["code"].as_str().unwrap())
            .collect();
        let mut sorted = codes.clone();
        sorted.sort_by_key(|c| sort_key(c));
        assert_eq!(codes, sorted, "{name} is not sorted by code");
        for c in codes {
            assert!(
                seen.insert(c.to_string()),
                "{c} appears twice (second in {name})"
            );
        }
    }
}

fn covers(e: &Entry, c: Code) -> bool {
    Key::parse(&e.code).is_some_and(|k| k.covers(c))
        || e.also.iter().any(|a| Code::parse(a) == Some(c))
}

#[test]
fn every_example_produces_its_entry() {
    let mut problems = Vec::new();
    for e in cat().entries() {
        for ex in &e.examples {
            match common::root_of_text(ex, false, true) {
                None => problems.push(format!("{}: no finding in {ex:?}", e.code)),
                Some(f) => {
                    let code = f.code.expect("examples carry a code");
                    if !covers(e, code) {
                        problems.push(format!("{}: {ex:?} gives code {code}", e.code));
                    }
                    // a registry entry may be shadowed by a vendor entry for one class
                    if !e.code.starts_with('X') && f.entry != e.code {
                        problems.push(format!("{}: {ex:?} gives entry {}", e.code, f.entry));
                    }
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn the_six_connector_errors_and_the_fallbacks_exist() {
    for (code, category) in [
        ("4.4.312", "dns-query-failed"),
        ("4.4.315", "connection-timed-out"),
        ("4.4.316", "connection-refused"),
        ("4.4.317", "cannot-connect"),
        ("4.4.318", "connection-closed"),
        ("4.7.320", "certificate-invalid"),
    ] {
        let e = cat()
            .by_key(code)
            .unwrap_or_else(|| panic!("{code} missing"));
        assert_eq!(e.category, category);
        assert_eq!(e.reply, 450);
        assert_eq!(e.source, "eop-connector");
        let expired = format!("5{}", &code[1..]);
        let l = cat().lookup(Code::parse(&expired).unwrap()).unwrap();
        assert_eq!(l.entry.code, code, "{expired} resolves to {code}");
    }
    assert_eq!(cat().other().map(|o| o.category.as_str()), Some("other"));
    let l = cat().lookup(Code::new(4, 9, 999)).expect("class fallback");
    assert_eq!(l.entry.code, "X.0.0");
    for subject in 1..=7 {
        let l = cat()
            .lookup(Code::new(5, subject, 299))
            .expect("subject fallback");
        assert_eq!(l.entry.code, format!("X.{subject}.0"));
    }
}

/// Every `{name}` in a step that looks like a slot is one the renderer fills.
fn slots_known(where_: &str, text: &str, problems: &mut Vec<String>) {
    let re = regex::Regex::new(r"\{([a-z_]+)\}").unwrap();
    for c in re.captures_iter(text) {
        if !ndr_doctor::runbook::SLOTS.contains(&&c[1]) {
            problems.push(format!("{where_}: unknown slot {{{}}}", &c[1]));
        }
    }
}

#[test]
fn every_step_template_uses_known_slots_and_no_sample_values() {
    let mut problems = Vec::new();
    for e in cat().entries() {
        for lang in [Lang::En, Lang::Ja] {
            let t = e.texts(lang);
            for s in t.fixes.iter().chain(&t.verify) {
                slots_known(&e.code, s, &mut problems);
                // commands hold the finding's values, not made-up ones
                for sample in ["dana@example.com", "mail.example.com -", "-Recipients dana"] {
                    if s.contains(sample) {
                        problems.push(format!("{}: sample value {sample:?} in a step", e.code));
                    }
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_runbook_is_complete_for_every_platform_in_both_languages() {
    use ndr_doctor::runbook;
    let rb = runbook::get();
    let mut problems = Vec::new();
    let names = runbook::platform_names();
    for want in [
        "exchange-online",
        "exchange-server",
        "postfix",
        "sendmail",
        "exim",
        "qmail",
        "generic",
    ] {
        if !names.contains(&want) {
            problems.push(format!("platform {want} missing"));
        }
    }
    for p in &rb.platforms {
        if !matches!(p.shell.as_str(), "sh" | "powershell") {
            problems.push(format!("{}: shell {}", p.name, p.shell));
        }
    }
    let mut seen = std::collections::HashSet::new();
    for s in &rb.steps {
        let at = format!("step {}/{}", s.platform, s.kind);
        if !seen.insert((s.platform.clone(), s.kind.clone())) {
            problems.push(format!("{at}: duplicate"));
        }
        if !names.contains(&s.platform.as_str()) || s.platform == runbook::EXCHANGE_ONLINE {
            problems.push(format!("{at}: not a platform with its own runbook"));
        }
        for (lang, t) in [("en", &s.en), ("ja", &s.ja)] {
            if t.fixes.is_empty() || t.verify.is_empty() {
                problems.push(format!("{at} {lang}: fixes and verify required"));
            }
            for x in t.fixes.iter().chain(&t.verify) {
                slots_known(&at, x, &mut problems);
                if x.trim().is_empty() {
                    problems.push(format!("{at} {lang}: empty step"));
                }
            }
        }
        if s.ja.fixes.len() != s.en.fixes.len() || !has_japanese(&s.ja.fixes.join(" ")) {
            problems.push(format!("{at}: ja must match en step for step, in Japanese"));
        }
    }
    for e in &rb.entries {
        for key in &e.entries {
            if cat().by_key(key).is_none() {
                problems.push(format!("runbook for unknown entry {key}"));
            }
        }
        // every kind an entry names has generic steps, the fallback of every platform
        for k in &e.kinds {
            if !rb
                .steps
                .iter()
                .any(|s| s.platform == runbook::GENERIC && &s.kind == k)
            {
                problems.push(format!("{:?}: kind {k} has no generic steps", e.entries));
            }
        }
        if let Some(g) = &e.generic {
            for (lang, t) in [("en", &g.en), ("ja", &g.ja)] {
                if t.title.is_empty() || t.summary.is_empty() || t.causes.is_empty() {
                    problems.push(format!(
                        "{:?} generic {lang}: title, summary, causes",
                        e.entries
                    ));
                }
                for x in t.fixes.iter().chain(&t.verify) {
                    slots_known(&format!("{:?}", e.entries), x, &mut problems);
                }
            }
            if !has_japanese(&g.ja.summary) {
                problems.push(format!("{:?}: generic ja in Japanese", e.entries));
            }
        }
    }
    // the six connector errors carry texts for every platform but Exchange Online
    for code in [
        "4.4.312", "4.4.315", "4.4.316", "4.4.317", "4.4.318", "4.7.320",
    ] {
        if runbook::of_entry(code).is_none_or(|b| b.generic.is_none()) {
            problems.push(format!("{code}: no generic runbook"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
