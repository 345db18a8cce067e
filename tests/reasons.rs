//! The reason vocabulary's tidy checks (`data/reasons.json`), in the manner of the catalog's:
//! every reason complete in both languages with an entry that exists, every phrase well
//! formed, and every phrase's example line read as its reason by the extractor.

mod common;

use ndr_doctor::catalog;
use ndr_doctor::reasons;
use std::collections::HashSet;

/// The vocabulary of `shared/reference/bounce-reasons.md` that a failure can have.
const VOCABULARY: &[&str] = &[
    "userunknown",
    "hostunknown",
    "mailboxfull",
    "exceedlimit",
    "mesgtoobig",
    "suspend",
    "hasmoved",
    "expired",
    "networkerror",
    "blocked",
    "rejected",
    "filtered",
    "spamdetected",
    "virusdetected",
    "policyviolation",
    "securityerror",
    "authfailure",
    "requireptr",
    "norelaying",
    "notaccept",
    "toomanyconn",
    "speeding",
    "badreputation",
    "syntaxerror",
    "contenterror",
    "notcompliantrfc",
    "systemerror",
    "systemfull",
    "mailererror",
    "onhold",
    "failedstarttls",
    "undefined",
];

fn has_japanese(s: &str) -> bool {
    s.chars()
        .any(|c| ('\u{3040}'..='\u{30ff}').contains(&c) || ('\u{4e00}'..='\u{9fff}').contains(&c))
}

#[test]
fn the_file_parses_strictly() {
    let v: reasons::Vocabulary = serde_json::from_str(reasons::TEXT).expect("reasons.json parses");
    assert_eq!(v.schema, 1);
    assert!(!v.phrases.is_empty());
}

#[test]
fn every_reason_is_complete_and_known_once() {
    let cat = catalog::builtin().expect("catalog");
    let mut seen = HashSet::new();
    for r in &reasons::get().reasons {
        assert!(
            VOCABULARY.contains(&r.name.as_str()),
            "{} is not in the vocabulary",
            r.name
        );
        assert!(seen.insert(r.name.clone()), "{} listed twice", r.name);
        assert!(!r.en.trim().is_empty() && r.en.is_ascii(), "{}: en", r.name);
        assert!(has_japanese(&r.ja), "{}: ja is not Japanese", r.name);
        assert!(
            cat.by_key(&r.entry).is_some(),
            "{}: entry {} not in the catalog",
            r.name,
            r.entry
        );
    }
    for name in VOCABULARY {
        assert!(seen.contains(*name), "{name} has no entry in reasons.json");
    }
}

#[test]
fn catalog_entries_declare_only_known_reasons() {
    let cat = catalog::builtin().expect("catalog");
    for e in cat.entries() {
        for r in &e.reasons {
            assert!(
                reasons::by_name(r).is_some(),
                "{}: unknown reason {r}",
                e.code
            );
        }
    }
}

#[test]
fn every_phrase_example_gives_its_reason() {
    let mut problems = Vec::new();
    for (i, p) in reasons::get().phrases.iter().enumerate() {
        assert!(
            reasons::by_name(&p.reason).is_some(),
            "phrase {i}: unknown reason {}",
            p.reason
        );
        assert!(
            ["en", "ja", "de", "fr", "es"].contains(&p.lang.as_str()),
            "phrase {i}: lang"
        );
        assert!(
            !p.pattern.contains(".*"),
            "phrase {i}: `.*` makes the phrase automaton slow"
        );
        // lines are matched in ASCII lower case: a capital letter (not an escape like `\S`)
        // could never match
        let mut chars = p.pattern.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                chars.next();
            } else {
                assert!(
                    !c.is_ascii_uppercase(),
                    "phrase {i}: upper case {c:?} in the pattern"
                );
            }
        }
        if p.lang == "ja" {
            assert!(
                has_japanese(&p.example),
                "phrase {i}: a ja example in Japanese"
            );
        }
        match common::root_of_text(&p.example, true, false) {
            None => problems.push(format!(
                "phrase {i} ({}): no finding in {:?}",
                p.reason, p.example
            )),
            Some(f) if f.reason != p.reason => problems.push(format!(
                "phrase {i} ({}): {:?} gives {}",
                p.reason, p.example, f.reason
            )),
            Some(_) => {}
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
fn every_reason_has_one_receiving_side_explanation_in_both_languages() {
    let v = reasons::get();
    for r in &v.reasons {
        let n = v
            .inbound
            .iter()
            .filter(|f| f.reasons.contains(&r.name))
            .count();
        assert_eq!(n, 1, "{}: in {n} inbound families", r.name);
    }
    for f in &v.inbound {
        for r in &f.reasons {
            assert!(
                reasons::by_name(r).is_some(),
                "{}: unknown reason {r}",
                f.name
            );
        }
        for (lang, t) in [("en", &f.en), ("ja", &f.ja)] {
            assert!(!t.meaning.trim().is_empty(), "{} {lang}: meaning", f.name);
            assert!(!t.fixes.is_empty(), "{} {lang}: fixes", f.name);
            assert!(!t.verify.is_empty(), "{} {lang}: verify", f.name);
            assert!(
                t.fixes
                    .iter()
                    .chain(&t.verify)
                    .all(|x| !x.trim().is_empty()),
                "{} {lang}: an empty step",
                f.name
            );
        }
        assert!(has_japanese(&f.ja.meaning), "{}: ja in Japanese", f.name);
        assert_eq!(
            f.en.fixes.len(),
            f.ja.fixes.len(),
            "{}: as many steps",
            f.name
        );
    }
}
