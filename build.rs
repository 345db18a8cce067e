//! Compiles every `data/codes/*.json` catalog file into the binary: the file texts
//! (`CATALOG_FILES`) and an index of their entries (`CATALOG_INDEX`: file, byte span, code,
//! `also` spellings, category), so that the program finds an entry without parsing the
//! whole table and parses only the entries it shows (`src/catalog/`).
//! Every entry is deserialised here into the crate's own `Entry` (`src/catalog/entry.rs`):
//! one the program could not read fails the build instead of showing up empty at run time.
use serde::Deserialize;
use serde_json::value::RawValue;
use std::{env, fs, path::PathBuf};

/// The entry types of the crate itself: every built-in entry must deserialise into them.
#[path = "src/catalog/entry.rs"]
#[allow(dead_code)] // only deserialised here, never read past `code`, `also` and `category`
mod catalog_entry;
use catalog_entry::Entry;

/// A catalog file (`src/catalog/`), its entries kept as the text they are in the file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile<'a> {
    schema: u32,
    #[serde(borrow)]
    codes: Vec<&'a RawValue>,
}

/// 1-based line and column of byte `at` of `text`.
fn line_column(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let column = before.rfind('\n').map_or(at, |nl| at - nl - 1) + 1;
    (line, column)
}

/// Every entry of a catalog file: its byte span in `text` and the entry it deserialises
/// to. Panics (failing the build) naming the file, the entry and serde's error when the
/// file or an entry is not what the program reads.
fn catalog_entries(name: &str, text: &str) -> Vec<(usize, usize, Entry)> {
    let file: CatalogFile = serde_json::from_str(text).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert!(
        file.schema == 1,
        "{name}: unsupported schema {} (expected 1)",
        file.schema
    );
    file.codes
        .into_iter()
        .map(|raw| {
            // a borrowed `RawValue` is a slice of the text it was parsed from
            let json = raw.get();
            let start = (json.as_ptr() as usize)
                .checked_sub(text.as_ptr() as usize)
                .filter(|&s| {
                    text.get(s..s + json.len())
                        .is_some_and(|t| t.as_ptr() == json.as_ptr())
                })
                .unwrap_or_else(|| panic!("{name}: an entry is not a slice of the file"));
            let end = start + json.len();
            let entry: Entry = serde_json::from_str(json).unwrap_or_else(|e| {
                let code = serde_json::from_str::<serde_json::Value>(json)
                    .ok()
                    .and_then(|v| v.get("code")?.as_str().map(|c| format!("{c:?}")))
                    .unwrap_or_else(|| "without a readable code".to_string());
                // serde's position is within the entry: shown in the file instead
                let (line, column) = line_column(text, start);
                let (line, column) = if e.line() <= 1 {
                    (line, column + e.column().saturating_sub(1))
                } else {
                    (line + e.line() - 1, e.column())
                };
                let msg = e.to_string();
                let msg = msg.rfind(" at line ").map_or(msg.as_str(), |i| &msg[..i]);
                panic!("{name}:{line}:{column}: entry {code}: {msg}")
            });
            (start, end, entry)
        })
        .collect()
}

fn main() {
    let dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"))
        .join("data")
        .join("codes");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .expect("data/codes exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let mut out = String::from("pub(crate) static CATALOG_FILES: &[(&str, &str)] = &[\n");
    let mut index = String::from(
        "/// Where every built-in entry is, and its keys.\n\
         pub(crate) static CATALOG_INDEX: &[IndexEntry] = &[\n",
    );
    for (n, f) in files.iter().enumerate() {
        println!("cargo:rerun-if-changed={}", f.display());
        let name = f
            .file_name()
            .and_then(|n| n.to_str())
            .expect("utf-8 file name");
        out.push_str(&format!(
            "    ({name:?}, include_str!({:?})),\n",
            f.display().to_string()
        ));
        let text = fs::read_to_string(f).unwrap_or_else(|e| panic!("{name}: {e}"));
        for (start, end, e) in catalog_entries(name, &text) {
            let (code, also, category) = (&e.code, &e.also, &e.category);
            index.push_str(&format!(
                "    IndexEntry {{ file: {n}, start: {start}, end: {end}, code: {code:?}, also: &{also:?}, category: {category:?} }},\n"
            ));
        }
    }
    out.push_str("];\n");
    index.push_str("];\n");
    out.push_str(&index);
    let dest =
        PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("catalog_files.rs");
    fs::write(dest, out).expect("write catalog_files.rs");
    reason_prefixes();
}

/// The reason phrases, split into their top-level alternatives, each with its prefix literals
/// (`src/extract/reason.rs`): one of them starts every match of the alternative. Worked out
/// here once, not on every run; an alternative without usable literals fails the build.
fn reason_prefixes() {
    let path =
        PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"))
            .join("data")
            .join("reasons.json");
    println!("cargo:rerun-if-changed={}", path.display());
    let text = fs::read_to_string(&path).expect("data/reasons.json");
    let v: serde_json::Value = serde_json::from_str(&text).expect("data/reasons.json parses");
    let phrases = v["phrases"].as_array().expect("reasons.json has phrases");
    let mut out = String::from(
        "/// Each phrase's alternatives (phrase index, pattern, prefix literals), from `build.rs`.\n\
         pub(crate) static ALTERNATIVES: &[(usize, &str, &[&[u8]])] = &[\n",
    );
    for (i, p) in phrases.iter().enumerate() {
        let pattern = p["pattern"].as_str().expect("a phrase has a pattern");
        let flags = pattern.starts_with("(?") && !pattern.starts_with("(?:");
        assert!(!flags, "reasons.json phrase {i}: no inline flags");
        for alt in top_level_alternatives(pattern) {
            let lits = prefix_literals(alt).unwrap_or_else(|| {
                panic!("reasons.json phrase {i}: no literal prefix of 3 bytes or more: {alt}")
            });
            out.push_str(&format!("    ({i}, {alt:?}, &["));
            for l in lits {
                out.push_str(&format!("b\"{}\", ", l.escape_ascii()));
            }
            out.push_str("]),\n");
        }
    }
    out.push_str("];\n");
    let dest =
        PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("reason_prefixes.rs");
    fs::write(dest, out).expect("write reason_prefixes.rs");
}

/// The top-level alternatives of a pattern (`a|b(c|d)` -> `a`, `b(c|d)`).
fn top_level_alternatives(pattern: &str) -> Vec<&str> {
    let b = pattern.as_bytes();
    let (mut depth, mut class, mut start, mut i) = (0usize, false, 0usize, 0usize);
    let mut out = Vec::new();
    while i < b.len() {
        match b[i] {
            b'\\' => i += 1,
            b'[' if !class => class = true,
            b']' if class => class = false,
            b'(' if !class => depth += 1,
            b')' if !class => depth = depth.saturating_sub(1),
            b'|' if !class && depth == 0 => {
                out.push(&pattern[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    out.push(&pattern[start..]);
    out
}

/// Prefix literals are cut to this many bytes: long enough to rule most lines out, short
/// enough that a phrase's optional words do not multiply them into thousands.
const PREFIX_LEN: usize = 10;

/// The literals one of which starts every match of a pattern, none shorter than 3 bytes.
fn prefix_literals(pattern: &str) -> Option<Vec<Vec<u8>>> {
    use regex_syntax::hir::literal::{ExtractKind, Extractor};
    let hir = regex_syntax::ParserBuilder::new()
        .unicode(false)
        .utf8(false)
        .build()
        .parse(pattern)
        .ok()?;
    let mut ex = Extractor::new();
    ex.kind(ExtractKind::Prefix)
        .limit_total(1000)
        .limit_literal_len(PREFIX_LEN);
    let seq = ex.extract(&hir);
    let lits = seq.literals()?;
    if lits.is_empty() || lits.iter().any(|l| l.as_bytes().len() < 3) {
        return None;
    }
    let mut out: Vec<Vec<u8>> = lits.iter().map(|l| l.as_bytes().to_vec()).collect();
    out.sort();
    out.dedup();
    Some(out)
}
