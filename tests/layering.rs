//! The crate's layering rule: no module uses a module that uses it back, directly or around
//! a longer loop. Data flows one way (input -> extract -> render), the leaves (catalog,
//! sanitize, time ...) use none of the stages, and within a folder the parent declares its
//! children, which use their siblings but not their parent.
//!
//! A module "uses" another when its non-test code names it: `crate::a::b` paths (and
//! `use crate::{a, b}` groups), `super::x` paths, and a parent's `child::` paths. The check
//! reads `src/` as text; the second test runs it on a made-up tree to show it finds a loop.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Every module of `src/` by path (`extract::hit`), with its code minus tests and comments.
fn modules(root: &Path) -> BTreeMap<String, String> {
    fn walk(dir: &Path, root: &Path, out: &mut BTreeMap<String, String>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().flatten().collect();
        entries.sort_by_key(|e| e.path());
        for e in entries {
            let p = e.path();
            if p.is_dir() {
                walk(&p, root, out);
                continue;
            }
            if p.extension().is_none_or(|x| x != "rs") {
                continue;
            }
            let rel = p.strip_prefix(root).unwrap().with_extension("");
            let mut parts: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if parts.last().is_some_and(|l| l == "mod") {
                parts.pop();
            }
            if parts == ["lib"] || parts == ["main"] {
                continue;
            }
            let text = std::fs::read_to_string(&p).unwrap();
            out.insert(parts.join("::"), code_of(&text));
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

/// A file's code without its test module (the last item of a file, by the house lint) and
/// without `//` comments.
fn code_of(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => text,
    };
    text.lines()
        .map(|l| l.find("//").map_or(l, |i| &l[..i]))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `use crate::{a, b::c};` as `crate::a; crate::b::c;` (one level of braces at a time).
fn expand_groups(text: &str) -> String {
    let mut text = text.to_string();
    for _ in 0..3 {
        let mut out = String::new();
        let mut rest = text.as_str();
        while let Some(open) = rest.find("::{") {
            let before = &rest[..open];
            let base_start = before
                .rfind(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .map_or(0, |i| i + 1);
            let base = &before[base_start..];
            let Some(close) = rest[open + 3..].find(['{', '}']) else {
                break;
            };
            let inner = &rest[open + 3..open + 3 + close];
            if rest.as_bytes()[open + 3 + close] == b'{' {
                // a nested group: leave it for the next round
                out.push_str(&rest[..open + 3 + close + 1]);
                rest = &rest[open + 3 + close + 1..];
                continue;
            }
            out.push_str(&rest[..base_start]);
            for item in inner.split(',').map(str::trim).filter(|i| !i.is_empty()) {
                let item = item.split(" as ").next().unwrap_or(item);
                if item != "self" {
                    out.push_str(&format!(" {base}::{item};"));
                }
            }
            out.push_str(&format!(" {base};"));
            rest = &rest[open + 3 + close + 1..];
        }
        out.push_str(rest);
        text = out;
    }
    text
}

/// The identifier paths `a::b::c` in `text` (two segments or more), as their segments.
fn paths(text: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let b = text.as_bytes();
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let mut i = 0;
    while i < b.len() {
        if ident(b[i]) && (i == 0 || !(ident(b[i - 1]) || b[i - 1] == b':')) {
            let mut segs = Vec::new();
            let mut j = i;
            loop {
                let s = j;
                while j < b.len() && ident(b[j]) {
                    j += 1;
                }
                segs.push(text[s..j].to_string());
                if j + 2 < b.len() && &b[j..j + 2] == b"::" && ident(b[j + 2]) {
                    j += 2;
                } else {
                    break;
                }
            }
            if segs.len() > 1 {
                out.push(segs);
            }
            i = j;
        } else {
            i += 1;
        }
    }
    out
}

/// Which modules each module uses.
fn uses(mods: &BTreeMap<String, String>) -> BTreeMap<String, BTreeSet<String>> {
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    // the longest prefix of `segs` that is a module
    let module_of = |segs: &[String]| -> Option<String> {
        (1..=segs.len())
            .rev()
            .map(|n| segs[..n].join("::"))
            .find(|m| mods.contains_key(m))
    };
    for (name, text) in mods {
        let me: Vec<String> = name.split("::").map(str::to_string).collect();
        for segs in paths(&expand_groups(text)) {
            let target = match segs[0].as_str() {
                "crate" => module_of(&segs[1..]),
                "super" => {
                    let ups = segs.iter().take_while(|s| *s == "super").count();
                    let base = &me[..me.len().saturating_sub(ups)];
                    let full: Vec<String> = base
                        .iter()
                        .cloned()
                        .chain(segs[ups..].iter().cloned())
                        .collect();
                    module_of(&full).or_else(|| (!base.is_empty()).then(|| base.join("::")))
                }
                // a child named from its parent (`context::find`)
                _ => {
                    let full: Vec<String> =
                        me.iter().cloned().chain(segs.iter().cloned()).collect();
                    module_of(&full).filter(|m| m.len() > name.len())
                }
            };
            if let Some(t) = target
                && t != *name
            {
                edges.entry(name.clone()).or_default().insert(t);
            }
        }
    }
    edges
}

/// The loops among `edges`, each as the modules it goes through.
fn loops(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    let mut done: BTreeSet<&String> = BTreeSet::new();
    for start in edges.keys() {
        // depth first, with the path so far
        let mut stack: Vec<(&String, Vec<&String>)> = vec![(start, vec![start])];
        while let Some((at, path)) = stack.pop() {
            for next in edges.get(at).into_iter().flatten() {
                if next == start {
                    let mut l: Vec<String> = path.iter().map(|s| s.to_string()).collect();
                    l.push(start.clone());
                    found.push(l);
                } else if !path.contains(&next) && !done.contains(next) {
                    let mut p = path.clone();
                    p.push(next);
                    stack.push((next, p));
                }
            }
        }
        done.insert(start);
    }
    found
}

#[test]
fn no_module_uses_one_that_uses_it_back() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mods = modules(&src);
    let edges = uses(&mods);
    // the scan sees the layering it should: the stages and a parent using its children
    for (from, to) in [
        ("extract::log", "extract::hit"),
        ("render", "catalog"),
        ("app::diagnose", "pipeline"),
        ("extract", "extract::codes"),
    ] {
        assert!(
            edges.get(from).is_some_and(|t| t.contains(to)),
            "{from} -> {to} not seen: {edges:#?}"
        );
    }
    let found = loops(&edges);
    assert!(
        found.is_empty(),
        "modules that use each other back:\n{}",
        found
            .iter()
            .map(|l| l.join(" -> "))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn the_check_finds_a_planted_loop() {
    let mut mods = BTreeMap::new();
    let m = |t: &str| code_of(t);
    mods.insert("a".to_string(), m("use crate::b::{self, Thing};\n"));
    mods.insert("b".to_string(), m("fn f() { crate::c::g() }\n"));
    // a parent and a child that uses it back, through `super`
    mods.insert("c".to_string(), m("mod d;\npub fn g() { d::h() }\n"));
    mods.insert("c::d".to_string(), m("use super::X;\npub fn h() {}\n"));
    // only in a comment and in the tests: not uses
    mods.insert(
        "e".to_string(),
        m("// crate::a::x\n#[cfg(test)]\nmod tests {\n    use crate::a::y;\n}\n"),
    );
    mods.insert("f".to_string(), m("use crate::{e, a::deep};\n"));
    let edges = uses(&mods);
    assert_eq!(edges["a"], ["b".to_string()].into());
    assert_eq!(edges["f"], ["a".to_string(), "e".to_string()].into());
    assert!(!edges.contains_key("e"), "{edges:?}");
    let found = loops(&edges);
    assert_eq!(found, [vec!["c", "c::d", "c"]]);
    // a longer loop: a -> b -> c -> a
    mods.insert("c".to_string(), m("pub fn g() { crate::a::x() }\n"));
    mods.insert("c::d".to_string(), m("pub fn h() {}\n"));
    let found = loops(&uses(&mods));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].len(), 4, "{found:?}");
}
