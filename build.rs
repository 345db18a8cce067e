//! Compiles every `data/codes/*.json` catalog file into the binary: the file texts
//! (`CATALOG_FILES`) and an index of their entries (`CATALOG_INDEX`: file, byte span, code,
//! `also` spellings, category), so that the program finds an entry without parsing the
//! whole table and parses only the entries it shows (`src/catalog.rs`).
use std::{env, fs, path::PathBuf};

/// Byte spans of the objects in the top-level `"codes"` array of a catalog file.
fn entry_spans(text: &str) -> Vec<(usize, usize)> {
    let b = text.as_bytes();
    let Some(key) = text.find("\"codes\"") else {
        return Vec::new();
    };
    let Some(open) = text[key..].find('[').map(|i| key + i) else {
        return Vec::new();
    };
    let mut spans = Vec::new();
    let (mut depth, mut start, mut i, mut in_str) = (0usize, 0usize, open + 1, false);
    while i < b.len() {
        let c = b[i];
        if in_str {
            if c == b'\\' {
                i += 1;
            } else if c == b'"' {
                in_str = false;
            }
        } else {
            match c {
                b'"' => in_str = true,
                b'{' | b'[' => {
                    if depth == 0 && c == b'{' {
                        start = i;
                    }
                    depth += 1;
                }
                b'}' | b']' => {
                    if depth == 0 {
                        break; // the end of the codes array
                    }
                    depth -= 1;
                    if depth == 0 && c == b'}' {
                        spans.push((start, i + 1));
                    }
                }
                _ => {}
            }
        }
        i += 1;
    }
    spans
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
        for (start, end) in entry_spans(&text) {
            let v: serde_json::Value = serde_json::from_str(&text[start..end])
                .unwrap_or_else(|e| panic!("{name}: entry at byte {start}: {e}"));
            let field = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
            let code = field("code")
                .unwrap_or_else(|| panic!("{name}: entry at byte {start} has no code"));
            let category =
                field("category").unwrap_or_else(|| panic!("{name}: {code} has no category"));
            let also: Vec<String> = v
                .get("also")
                .and_then(|a| a.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
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
