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
}
