//! A tidy check in the manner of rustc's: every status code and every category name that the
//! program's source (`src/**/*.rs`, test modules left out) spells as a string literal exists
//! in the built-in catalog (`data/codes/*.json`).
//!
//! The source is read with a small Rust lexer (comments, strings, raw strings, chars and
//! lifetimes told apart), `#[cfg(test)]` items are dropped, and then:
//!
//! * a **code literal** is a string whose whole content is a status code (`4.4.316`,
//!   `X.1.1`, `450 4.4.316`, `5.7.606-649`). It must be a catalog key or resolve to an entry
//!   of its own (an exact, range or registry match; the subject and class fallbacks do not
//!   count, they are what the catalog says when it has no entry);
//! * a **category literal** is a string in a category position: compared with something
//!   named `*category*` (`f.category == "x"`, `"x" != category`), given to it (`category:
//!   "x"`, `category = "x"`, also as the tail of an `if`/`match` value), a match arm or
//!   `matches!` pattern on it (`match category { "x" => .. }`), the argument of a function
//!   whose parameter is named `category` (from the signatures in `src/`), or the first
//!   argument of any other callee named `*category*` (`has_category("x")`,
//!   `Item::Category("x")`). A `SCREAMING_CASE` constant in such a position stands for its
//!   string, found through the module path or the file's `use` items; so do string
//!   constants named `*CATEGORY*` and those documented as categories (their `///` says
//!   "category", or that of the first constant of their block). Each must be the category
//!   of some entry, or `catalog::OTHER`.
//!
//! Deliberate exceptions are listed in `ALLOWED`, with the reason; an entry that no longer
//! matches anything fails the check too. The second test feeds a made-up source to the same
//! scanner and checks that it finds every planted offender and nothing else.

use ndr_doctor::catalog::{self, Catalog, Code};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

/// Literals that are deliberately not catalog codes or categories: (file, literal, reason).
const ALLOWED: &[(&str, &str, &str)] = &[(
    "src/policy.rs",
    "delivered",
    "a clean delivery's category in `matches_clean_delivery`: no `--fail-on` category can match it",
)];

#[test]
fn source_literals_are_in_the_catalog() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut paths = Vec::new();
    rust_files(&root.join("src"), &mut paths);
    paths.sort();
    let sources: Vec<(String, String)> = paths
        .iter()
        .map(|p| {
            let rel = p.strip_prefix(root).unwrap_or(p);
            let name = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            let text = std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{name}: {e}"));
            (name, text)
        })
        .collect();
    assert!(sources.len() > 10, "src/ not found: {sources:?}");

    let uses = scan(&sources);
    // the scanner sees something of both kinds, or it is broken rather than the source clean
    for kind in [Kind::Code, Kind::Category] {
        assert!(
            uses.iter().any(|u| u.kind == kind),
            "no {kind:?} literal found in src/: the scanner is broken"
        );
    }
    let cat = catalog::builtin().expect("built-in catalog parses");
    let bad = offenders(&uses, cat, ALLOWED);
    assert!(
        bad.is_empty(),
        "{} literal(s) in src/ not in the catalog (fix the literal or the catalog, or allow it \
         in tests/tidy.rs with a reason):\n{}",
        bad.len(),
        bad.join("\n")
    );
}

/// The scanner on a made-up source: it must find every planted offender, and nothing in
/// comments, test modules, longer strings or non-category positions.
#[test]
fn scanner_finds_planted_offenders() {
    let main = r##"//! Fake: "4.9.990" in a comment, and https://example.org//x
pub mod sym;
use self::sym::*;
use crate::fake::sym::{Hinted};
/* a block /* nested */ "4.9.991" comment */
const URL: &str = "https://example.org//4.9.992"; // "4.9.993" after a URL
pub const PROBE: &str = "4.9.999";
pub const FINE: &str = "4.4.316";
pub const REGISTRY: &str = "X.0.0";
pub const SPELLED: &str = "550 5.1.1";
pub const RANGE: &str = "5.7.606-649";
const BAD_CATEGORY: &str = "bogus-named";
const FINE_CATEGORY: &str = "mailbox-full";
const NUMBER: u32 = 7;

fn f(category: &str, x: &Thing) -> bool {
    let (q, c, l): (char, char, &'static str) = ('"', '\'', "category == \"4.9.994\"");
    let raw = r#"category == "bogus-in-raw" // "#;
    if category == "bogus-eq" || "bogus-ne" != x.category.as_str() {
        return "4.9.995 in text" == raw;
    }
    let t = Thing {
        category: "bogus-field",
        top_category: if x.ok { "bogus-tail".into() } else { sym::TAILED },
        name: "not-a-category",
        id: NUMBER,
    };
    self.matches_parts(None, "bogus-param", "not-a-category-either");
    cat.has_category("bogus-has");
    let _ = Item::Category("bogus-variant".into());
    match category {
        "bogus-arm" | "other" => "not-an-arm",
        MATCHED => "x",
        sym::DNS if q == c => { "not-an-arm-either" }
        _ => "y",
    }
    let category = "bogus-let";
    matches!(x.category.as_str(), "bogus-matches" | "connection-refused")
}

impl Thing {
    fn matches_parts(&self, code: Option<u8>, category: &str, entry: &str) -> bool {
        category == entry && code.is_none()
    }
}

#[cfg(test)]
mod tests {
    const T: &str = "4.9.998";
    fn g() -> bool {
        category == "bogus-in-test"
    }
}
"##;
    let sym = r#"/// Category slugs of the fake symptoms.
pub const DNS: &str = "dns-query-failed";
pub const GROUPED: &str = "bogus-grouped";

/// Plain constants, named where they are used.
pub const MATCHED: &str = "bogus-matched";
pub const TAILED: &str = "bogus-tailed";
pub const PLAIN: &str = "not-checked";
"#;
    // the same names elsewhere: codes, not categories
    let other = r#"pub const MATCHED: &str = "4.4.316";
pub const DNS: &str = "4.4.312";
"#;
    let sources = [
        ("src/fake/mod.rs".to_string(), main.to_string()),
        ("src/fake/sym.rs".to_string(), sym.to_string()),
        ("src/other.rs".to_string(), other.to_string()),
    ];
    let uses = scan(&sources);
    let cat = catalog::builtin().expect("built-in catalog parses");
    let bad = offenders(&uses, cat, &[]);
    let found: BTreeSet<&str> = bad
        .iter()
        .map(|b| b.split('"').nth(1).expect("offender quotes its literal"))
        .collect();
    let planted = BTreeSet::from([
        "4.9.999",
        "bogus-named",
        "bogus-eq",
        "bogus-ne",
        "bogus-field",
        "bogus-tail",
        "bogus-tailed",
        "bogus-param",
        "bogus-has",
        "bogus-variant",
        "bogus-arm",
        "bogus-matched",
        "bogus-let",
        "bogus-matches",
        "bogus-grouped",
    ]);
    assert_eq!(found, planted, "{}", bad.join("\n"));
    // each with its place: file and line of the literal
    let line_of = |text: &str, needle: &str| {
        text.lines()
            .position(|l| l.contains(needle))
            .map(|i| i + 1)
            .unwrap()
    };
    for (file, text, lit) in [
        ("src/fake/mod.rs", main, "\"4.9.999\""),
        ("src/fake/mod.rs", main, "\"bogus-param\""),
        ("src/fake/sym.rs", sym, "\"bogus-matched\""),
    ] {
        let at = format!("{file}:{}: ", line_of(text, lit));
        assert!(
            bad.iter().any(|b| b.starts_with(&at) && b.contains(lit)),
            "{at}{lit} not reported:\n{}",
            bad.join("\n")
        );
    }
    // the good ones were seen, not missed
    let seen: BTreeSet<&str> = uses.iter().map(|u| u.value.as_str()).collect();
    for good in [
        "4.4.316",
        "X.0.0",
        "550 5.1.1",
        "5.7.606-649",
        "mailbox-full",
        "other",
        "dns-query-failed",
        "connection-refused",
    ] {
        assert!(seen.contains(good), "{good} not seen: {uses:#?}");
    }
    // an allowed literal is not reported; an allowance that matches nothing is
    let allow = [
        ("src/fake/mod.rs", "4.9.999", "planted"),
        ("src/fake/mod.rs", "4.9.997", "stale"),
    ];
    let bad = offenders(&uses, cat, &allow);
    assert!(!bad.iter().any(|b| b.contains("\"4.9.999\"")), "{bad:#?}");
    assert!(
        bad.iter()
            .any(|b| b.contains("\"4.9.997\"") && b.contains("stale")),
        "{bad:#?}"
    );
}

// ---------------------------------------------------------------------------------------
// Checking

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Code,
    Category,
}

/// A literal found in the source, where it is written, and why it was taken.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Use {
    file: String,
    line: usize,
    kind: Kind,
    value: String,
    why: String,
}

/// The uses that the catalog does not know and `allow` does not excuse, and the allowances
/// that excuse nothing, as `file:line: message` lines.
fn offenders(uses: &[Use], cat: &Catalog, allow: &[(&str, &str, &str)]) -> Vec<String> {
    let mut used = vec![false; allow.len()];
    let mut bad = Vec::new();
    for u in uses {
        let ok = match u.kind {
            Kind::Code => code_resolves(cat, &u.value),
            Kind::Category => u.value == catalog::OTHER || cat.has_category(&u.value),
        };
        if ok {
            continue;
        }
        if let Some(i) = allow
            .iter()
            .position(|(f, v, _)| *f == u.file && *v == u.value)
        {
            used[i] = true;
            continue;
        }
        let what = match u.kind {
            Kind::Code => "code",
            Kind::Category => "category",
        };
        bad.push(format!(
            "{}:{}: {what} {:?} ({}) is not in the catalog",
            u.file, u.line, u.value, u.why
        ));
    }
    for ((file, value, _), used) in allow.iter().zip(used) {
        if !used {
            bad.push(format!(
                "{file}: allowed literal {value:?} is stale (not found, or now in the catalog): \
                 remove it from ALLOWED"
            ));
        }
    }
    bad
}

/// A catalog key, or a code that has an entry of its own.
fn code_resolves(cat: &Catalog, s: &str) -> bool {
    cat.by_key(s).is_some()
        || Code::parse_spelling(s)
            .and_then(|(c, _)| cat.lookup(c))
            .is_some_and(|l| l.how.known())
}

/// `4.4.316`, `X.1.1`, `450 4.4.316`, `450-4.4.316`, `5.7.606-649`: the shapes of a status
/// code or catalog key (whether it parses is the catalog's business).
fn is_code_shape(s: &str) -> bool {
    let digits = |t: &str, max: usize| {
        !t.is_empty() && t.len() <= max && t.bytes().all(|b| b.is_ascii_digit())
    };
    let s = match s.split_once([' ', '-']) {
        Some((reply, rest)) if digits(reply, 3) && reply.len() == 3 => rest,
        _ => s,
    };
    let (s, hi) = s.split_once('-').unwrap_or((s, "0"));
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() == 3
        && matches!(parts[0], "2" | "4" | "5" | "X" | "x")
        && digits(parts[1], 3)
        && digits(parts[2], 3)
        && digits(hi, 3)
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for e in entries {
        let path = e.expect("directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Scanning

/// Every code literal and category use in these sources (display path, text).
fn scan(sources: &[(String, String)]) -> Vec<Use> {
    let files: Vec<SourceFile> = sources
        .iter()
        .map(|(path, text)| SourceFile::new(path, text))
        .collect();
    let consts: Vec<ConstDef> = files.iter().flat_map(SourceFile::consts).collect();
    let mut sigs: HashMap<String, BTreeSet<usize>> = HashMap::new();
    for f in &files {
        f.signatures(&mut sigs);
    }
    let mut out = Vec::new();
    for f in &files {
        for t in &f.tokens {
            if let Tok::Str(s) = &t.tok
                && is_code_shape(s)
            {
                out.push(Use {
                    file: f.path.clone(),
                    line: t.line,
                    kind: Kind::Code,
                    value: s.clone(),
                    why: "literal".into(),
                });
            }
        }
        for (operand, line, rule) in category_positions(&f.tokens, &sigs) {
            match operand {
                Operand::Lit(s) => out.push(Use {
                    file: f.path.clone(),
                    line,
                    kind: Kind::Category,
                    value: s,
                    why: rule,
                }),
                Operand::Const(path) => {
                    for c in f.resolve(&path, &consts) {
                        if let Some(v) = &c.value {
                            out.push(Use {
                                file: c.file.clone(),
                                line: c.line,
                                kind: Kind::Category,
                                value: v.clone(),
                                why: format!(
                                    "const {} used in {rule} at {}:{line}",
                                    c.name, f.path
                                ),
                            });
                        }
                    }
                }
            }
        }
    }
    for c in &consts {
        if let (Some(v), Some(why)) = (&c.value, &c.declared) {
            out.push(Use {
                file: c.file.clone(),
                line: c.line,
                kind: Kind::Category,
                value: v.clone(),
                why: why.clone(),
            });
        }
    }
    out.sort();
    out.dedup_by(|a, b| (&a.file, a.line, a.kind, &a.value) == (&b.file, b.line, b.kind, &b.value));
    out
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Punct(&'static str),
    Other,
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    line: usize,
}

impl Token {
    fn is(&self, p: &str) -> bool {
        matches!(&self.tok, Tok::Punct(q) if *q == p)
    }
    fn ident(&self) -> Option<&str> {
        match &self.tok {
            Tok::Ident(s) => Some(s),
            _ => None,
        }
    }
    fn is_ident(&self, s: &str) -> bool {
        self.ident() == Some(s)
    }
    fn opens(&self) -> bool {
        self.is("(") || self.is("[") || self.is("{")
    }
    fn closes(&self) -> bool {
        self.is(")") || self.is("]") || self.is("}")
    }
}

const PUNCTS: &[&str] = &[
    "..=", "...", "::", "==", "!=", "=>", "->", "<=", ">=", "&&", "||", "..", "(", ")", "[", "]",
    "{", "}", "<", ">", "=", "!", "&", "|", "*", ".", ",", ";", ":", "#", "+", "-", "/", "%", "^",
    "?", "@", "$", "~",
];

/// Tokens (comments dropped) and the `///` doc lines by line number.
fn lex(text: &str) -> (Vec<Token>, BTreeMap<usize, String>) {
    let c: Vec<char> = text.chars().collect();
    let n = c.len();
    let at = |k: usize| c.get(k).copied().unwrap_or('\0');
    let ident_char = |ch: char| ch.is_alphanumeric() || ch == '_';
    let (mut i, mut line) = (0, 1);
    let mut tokens = Vec::new();
    let mut docs = BTreeMap::new();
    let count_lines =
        |from: usize, to: usize| c[from..to.min(n)].iter().filter(|&&x| x == '\n').count();
    while i < n {
        let ch = c[i];
        let start_line = line;
        let mut push = |tok: Tok| {
            tokens.push(Token {
                tok,
                line: start_line,
            })
        };
        if ch == '\n' {
            line += 1;
            i += 1;
        } else if ch.is_whitespace() {
            i += 1;
        } else if ch == '/' && at(i + 1) == '/' {
            let start = i;
            while i < n && c[i] != '\n' {
                i += 1;
            }
            let s: String = c[start..i].iter().collect();
            if let Some(doc) = s.strip_prefix("///")
                && !doc.starts_with('/')
            {
                docs.insert(line, doc.trim().to_string());
            }
        } else if ch == '/' && at(i + 1) == '*' {
            let (start, mut depth) = (i, 0);
            while i < n {
                if c[i] == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if c[i] == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            line += count_lines(start, i);
        } else if ch == '"' {
            let end = quoted_end(&c, i);
            push(Tok::Str(
                c[i + 1..end.saturating_sub(1).max(i + 1)].iter().collect(),
            ));
            line += count_lines(i, end);
            i = end;
        } else if ch == '\'' {
            i = char_end(&c, i);
            push(Tok::Other);
        } else if ident_char(ch) && !ch.is_ascii_digit() {
            let start = i;
            while i < n && ident_char(c[i]) {
                i += 1;
            }
            let word: String = c[start..i].iter().collect();
            let hashes = c[i..].iter().take_while(|&&x| x == '#').count();
            match (word.as_str(), at(i)) {
                ("r" | "br" | "cr", '"' | '#') if at(i + hashes) == '"' => {
                    let body = i + hashes + 1;
                    let mut k = body;
                    while k < n && !(c[k] == '"' && (1..=hashes).all(|h| at(k + h) == '#')) {
                        k += 1;
                    }
                    push(Tok::Str(c[body..k.min(n)].iter().collect()));
                    line += count_lines(i, k);
                    i = (k + 1 + hashes).min(n);
                }
                ("r", '#') => {
                    // a raw identifier, `r#type`
                    let s = i + 1;
                    i = s;
                    while i < n && ident_char(c[i]) {
                        i += 1;
                    }
                    push(Tok::Ident(c[s..i].iter().collect()));
                }
                ("b" | "c", '"') => {
                    let end = quoted_end(&c, i);
                    push(Tok::Str(
                        c[i + 1..end.saturating_sub(1).max(i + 1)].iter().collect(),
                    ));
                    line += count_lines(i, end);
                    i = end;
                }
                ("b", '\'') => {
                    i = char_end(&c, i);
                    push(Tok::Other);
                }
                _ => push(Tok::Ident(word)),
            }
        } else if ch.is_ascii_digit() {
            while i < n && (ident_char(c[i]) || (c[i] == '.' && at(i + 1).is_ascii_digit())) {
                i += 1;
            }
            push(Tok::Other);
        } else {
            let p = PUNCTS
                .iter()
                .find(|p| p.chars().enumerate().all(|(k, pc)| at(i + k) == pc));
            match p {
                Some(p) => {
                    push(Tok::Punct(p));
                    i += p.len();
                }
                None => {
                    push(Tok::Other);
                    i += 1;
                }
            }
        }
    }
    (tokens, docs)
}

/// The index after the closing quote of the string opening at `i`.
fn quoted_end(c: &[char], i: usize) -> usize {
    let mut j = i + 1;
    while j < c.len() && c[j] != '"' {
        if c[j] == '\\' {
            j += 1;
        }
        j += 1;
    }
    (j + 1).min(c.len())
}

/// The index after a char literal or lifetime starting at the quote `i`.
fn char_end(c: &[char], i: usize) -> usize {
    let at = |k: usize| c.get(k).copied().unwrap_or('\0');
    if at(i + 1) == '\\' {
        let mut j = i + 3;
        while j < c.len() && c[j] != '\'' {
            j += 1;
        }
        (j + 1).min(c.len())
    } else if at(i + 2) == '\'' {
        i + 3
    } else {
        let mut j = i + 1;
        while j < c.len() && (c[j].is_alphanumeric() || c[j] == '_') {
            j += 1;
        }
        j
    }
}

/// The index of the bracket closing the one at `open` (the last index if unbalanced).
fn close_of(t: &[Token], open: usize) -> usize {
    let mut depth = 0usize;
    for (k, tok) in t.iter().enumerate().skip(open) {
        if tok.opens() {
            depth += 1;
        } else if tok.closes() {
            depth -= 1;
            if depth == 0 {
                return k;
            }
        }
    }
    t.len().saturating_sub(1)
}

/// The tokens without `#[cfg(test)]` items (the whole file under `#![cfg(test)]`).
fn strip_cfg_test(t: Vec<Token>) -> Vec<Token> {
    let is_cfg_test = |k: usize| {
        let want = ["[", "cfg", "(", "test", ")", "]"];
        want.iter()
            .enumerate()
            .all(|(d, w)| t.get(k + d).is_some_and(|x| x.is(w) || x.is_ident(w)))
    };
    let mut out = Vec::with_capacity(t.len());
    let mut i = 0;
    while i < t.len() {
        if t[i].is("#") && t.get(i + 1).is_some_and(|x| x.is("!")) && is_cfg_test(i + 2) {
            return Vec::new();
        }
        if !(t[i].is("#") && is_cfg_test(i + 1)) {
            out.push(t[i].clone());
            i += 1;
            continue;
        }
        // skip the item: up to its `;` or `,`, or through its `{ ... }`
        let mut j = i + 7;
        while j < t.len() {
            if t[j].is(";") || t[j].is(",") {
                j += 1;
                break;
            } else if t[j].is("{") {
                j = close_of(&t, j) + 1;
                break;
            } else if t[j].opens() {
                j = close_of(&t, j) + 1;
            } else if t[j].closes() {
                break;
            } else {
                j += 1;
            }
        }
        i = j;
    }
    out
}

fn is_screaming(s: &str) -> bool {
    s.len() > 1
        && s.bytes().any(|b| b.is_ascii_uppercase())
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

fn is_category_name(s: &str) -> bool {
    s.to_ascii_lowercase().contains("category")
}

/// A value in a category position: a string literal, or a constant's path.
#[derive(Debug)]
enum Operand {
    Lit(String),
    Const(Vec<String>),
}

/// The operand starting at `k` (after `&` or `*`), and the index after it.
fn operand(t: &[Token], mut k: usize) -> Option<(Operand, usize)> {
    while t
        .get(k)
        .is_some_and(|x| x.is("&") || x.is("&&") || x.is("*"))
    {
        k += 1;
    }
    match &t.get(k)?.tok {
        Tok::Str(s) => Some((Operand::Lit(s.clone()), k + 1)),
        Tok::Ident(_) => {
            let (path, next) = path_at(t, k);
            let last = path.last()?;
            (is_screaming(last) && !t.get(next).is_some_and(|x| x.is("(") || x.is("{")))
                .then_some((Operand::Const(path), next))
        }
        _ => None,
    }
}

/// The path `a::b::C` starting at `k`, and the index after it.
fn path_at(t: &[Token], mut k: usize) -> (Vec<String>, usize) {
    let mut path = Vec::new();
    while let Some(s) = t.get(k).and_then(Token::ident) {
        path.push(s.to_string());
        if t.get(k + 1).is_some_and(|x| x.is("::")) && t.get(k + 2).and_then(Token::ident).is_some()
        {
            k += 2;
        } else {
            k += 1;
            break;
        }
    }
    (path, k)
}

/// Whether tokens hold a name like `category` that is not a call (`by_category(..)`).
fn names_category(t: &[Token], from: usize, to: usize) -> bool {
    (from..to.min(t.len())).any(|k| {
        t[k].ident().is_some_and(is_category_name) && !t.get(k + 1).is_some_and(|x| x.is("("))
    })
}

/// The comma-separated parts between the brackets at `open` and `close`, as index ranges.
fn split_top(t: &[Token], open: usize, close: usize) -> Vec<(usize, usize)> {
    let mut parts = Vec::new();
    let (mut start, mut k) = (open + 1, open + 1);
    while k < close {
        if t[k].opens() {
            k = close_of(t, k) + 1;
        } else if t[k].is(",") {
            parts.push((start, k));
            k += 1;
            start = k;
        } else {
            k += 1;
        }
    }
    if start < close {
        parts.push((start, close));
    }
    parts
}

/// The literals and constants of a pattern at its top level, up to a guard.
fn pattern_operands(t: &[Token], from: usize, to: usize, out: &mut Vec<(Operand, usize)>) {
    let mut k = from;
    while k < to {
        if t[k].is_ident("if") {
            break;
        } else if t[k].opens() {
            k = close_of(t, k) + 1;
        } else if let Tok::Str(s) = &t[k].tok {
            out.push((Operand::Lit(s.clone()), t[k].line));
            k += 1;
        } else if t[k].ident().is_some() {
            let (path, next) = path_at(t, k);
            if path.last().is_some_and(|l| is_screaming(l))
                && !t.get(next).is_some_and(|x| x.is("(") || x.is("{"))
            {
                out.push((Operand::Const(path), t[k].line));
            }
            k = next;
        } else {
            k += 1;
        }
    }
}

/// The end of the expression starting at `k`: its `,` or `;`, or the bracket closing it.
fn expression_end(t: &[Token], mut k: usize) -> usize {
    while k < t.len() {
        if t[k].opens() {
            k = close_of(t, k) + 1;
        } else if t[k].is(",") || t[k].is(";") || t[k].closes() {
            break;
        } else {
            k += 1;
        }
    }
    k
}

/// The values an `if`/`match` expression ends its blocks with (`{ "x".into() }`).
fn block_tails(t: &[Token], from: usize, to: usize, out: &mut Vec<(Operand, usize)>) {
    for k in from..to {
        if !t[k].is("{") {
            continue;
        }
        let Some((op, mut next)) = operand(t, k + 1) else {
            continue;
        };
        // `.into()`, `.to_string()` and the like
        while t.get(next).is_some_and(|x| x.is("."))
            && t.get(next + 1).and_then(Token::ident).is_some()
            && t.get(next + 2).is_some_and(|x| x.is("("))
            && t.get(next + 3).is_some_and(|x| x.is(")"))
        {
            next += 4;
        }
        if t.get(next).is_some_and(|x| x.is("}")) {
            out.push((op, t[k + 1].line));
        }
    }
}

/// Every operand in a category position: (operand, line, which rule).
fn category_positions(
    t: &[Token],
    sigs: &HashMap<String, BTreeSet<usize>>,
) -> Vec<(Operand, usize, String)> {
    let mut out = Vec::new();
    let mut add = |found: Vec<(Operand, usize)>, rule: &str| {
        out.extend(found.into_iter().map(|(o, l)| (o, l, rule.to_string())));
    };
    for j in 0..t.len() {
        let mut found = Vec::new();
        // `category == "x"`, `"x" != f.category.as_str()`
        if t[j].is("==") || t[j].is("!=") {
            let is_run = |x: &Token| {
                x.ident().is_some() || x.is(".") || x.is("::") || x.is("&") || x.is("*")
            };
            let mut l = j;
            while l > 0 {
                if t[l - 1].is(")") && l > 1 && t[l - 2].is("(") {
                    l -= 2;
                } else if is_run(&t[l - 1]) {
                    l -= 1;
                } else {
                    break;
                }
            }
            let mut r = j + 1;
            while r < t.len() {
                if t[r].is("(") && t.get(r + 1).is_some_and(|x| x.is(")")) {
                    r += 2;
                } else if is_run(&t[r]) {
                    r += 1;
                } else {
                    break;
                }
            }
            if names_category(t, l, j) {
                found.extend(operand(t, j + 1).map(|(o, _)| (o, t[j].line)));
            }
            if names_category(t, j + 1, r) && j > 0 {
                if let Tok::Str(s) = &t[j - 1].tok {
                    found.push((Operand::Lit(s.clone()), t[j].line));
                } else if let Some((o @ Operand::Const(_), end)) = operand(t, l)
                    && end == j
                {
                    found.push((o, t[j].line));
                }
            }
            add(found, "a comparison with a category");
            continue;
        }
        let Some(name) = t[j].ident() else { continue };
        let next = t.get(j + 1);
        // `category: "x"`, `category = "x"`, or an `if`/`match` ending in such values
        if is_category_name(name) && next.is_some_and(|x| x.is(":") || x.is("=")) {
            if let Some((o, _)) = operand(t, j + 2) {
                found.push((o, t[j].line));
            } else if t
                .get(j + 2)
                .is_some_and(|x| x.is_ident("if") || x.is_ident("match"))
            {
                block_tails(t, j + 2, expression_end(t, j + 2), &mut found);
            }
            add(found, "a category value");
            continue;
        }
        // `match category { "x" => .. }`
        if name == "match" {
            let mut b = j + 1;
            while b < t.len() && !t[b].is("{") {
                b = if t[b].opens() {
                    close_of(t, b) + 1
                } else {
                    b + 1
                };
            }
            if b >= t.len() || !names_category(t, j + 1, b) {
                continue;
            }
            let end = close_of(t, b);
            let mut k = b + 1;
            while k < end {
                let mut arrow = k;
                while arrow < end && !t[arrow].is("=>") {
                    arrow = if t[arrow].opens() {
                        close_of(t, arrow) + 1
                    } else {
                        arrow + 1
                    };
                }
                pattern_operands(t, k, arrow.min(end), &mut found);
                k = arrow + 1;
                if t.get(k).is_some_and(|x| x.is("{")) {
                    k = close_of(t, k) + 1;
                    if t.get(k).is_some_and(|x| x.is(",")) {
                        k += 1;
                    }
                } else {
                    k = expression_end(t, k) + 1;
                }
            }
            add(found, "a match on a category");
            continue;
        }
        // `matches!(category, "x" | "y")`
        if name == "matches"
            && next.is_some_and(|x| x.is("!"))
            && t.get(j + 2).is_some_and(|x| x.is("("))
        {
            let parts = split_top(t, j + 2, close_of(t, j + 2));
            if let Some(&(s, e)) = parts.first()
                && names_category(t, s, e)
            {
                for &(s, e) in &parts[1..] {
                    pattern_operands(t, s, e, &mut found);
                }
            }
            add(found, "a matches! on a category");
            continue;
        }
        // `has_category("x")`, `Item::Category("x")`, `f(.., "x" /* category */, ..)`
        if next.is_some_and(|x| x.is("(")) && !(j > 0 && t[j - 1].is_ident("fn")) {
            let first = BTreeSet::from([0]);
            let positions = match sigs.get(name) {
                Some(p) => p,
                None if is_category_name(name) => &first,
                None => continue,
            };
            let parts = split_top(t, j + 1, close_of(t, j + 1));
            for &p in positions {
                if let Some(&(s, _)) = parts.get(p) {
                    found.extend(operand(t, s).map(|(o, _)| (o, t[s].line)));
                }
            }
            add(found, &format!("a category argument of {name}()"));
        }
    }
    out
}

/// A `const` or `static` item.
#[derive(Debug)]
struct ConstDef {
    module: Vec<String>,
    name: String,
    /// The string it is, when it is one literal.
    value: Option<String>,
    file: String,
    line: usize,
    /// Why it is a category whatever its uses: its name or its documentation.
    declared: Option<String>,
}

struct SourceFile {
    path: String,
    module: Vec<String>,
    tokens: Vec<Token>,
    docs: BTreeMap<usize, String>,
    /// The paths its `use` items bring in (`a::b::*` included).
    uses: Vec<Vec<String>>,
}

impl SourceFile {
    fn new(path: &str, text: &str) -> SourceFile {
        let (tokens, docs) = lex(text);
        let tokens = strip_cfg_test(tokens);
        let mut module: Vec<String> = path
            .trim_start_matches("src/")
            .trim_end_matches(".rs")
            .split('/')
            .map(str::to_string)
            .collect();
        if matches!(
            module.last().map(String::as_str),
            Some("mod" | "lib" | "main")
        ) {
            module.pop();
        }
        let mut uses = Vec::new();
        for k in 0..tokens.len() {
            if tokens[k].is_ident("use") {
                let mut i = k + 1;
                use_tree(&tokens, &mut i, Vec::new(), &mut uses);
            }
        }
        SourceFile {
            path: path.to_string(),
            module,
            tokens,
            docs,
            uses,
        }
    }

    fn consts(&self) -> Vec<ConstDef> {
        let t = &self.tokens;
        let mut out: Vec<ConstDef> = Vec::new();
        for k in 0..t.len() {
            if !(t[k].is_ident("const") || t[k].is_ident("static")) {
                continue;
            }
            let at = if t.get(k + 1).is_some_and(|x| x.is_ident("mut")) {
                k + 2
            } else {
                k + 1
            };
            let Some(name) = t.get(at).and_then(Token::ident) else {
                continue;
            };
            if !is_screaming(name) || !t.get(at + 1).is_some_and(|x| x.is(":")) {
                continue;
            }
            let mut eq = at + 2;
            while eq < t.len() && !t[eq].is("=") && !t[eq].is(";") {
                eq = if t[eq].opens() {
                    close_of(t, eq) + 1
                } else {
                    eq + 1
                };
            }
            let value = match (t.get(eq + 1).map(|x| &x.tok), t.get(eq + 2)) {
                (Some(Tok::Str(s)), Some(semi)) if t[eq].is("=") && semi.is(";") => Some(s.clone()),
                _ => None,
            };
            let line = t[k].line;
            // the `///` right above, or that of the block of constants this one continues
            let mut doc = Vec::new();
            let mut l = line;
            while l > 1 && self.docs.contains_key(&(l - 1)) {
                l -= 1;
                doc.push(self.docs[&l].as_str());
            }
            let documented = if doc.is_empty() {
                out.iter()
                    .rev()
                    .find(|c| c.line + 1 == line)
                    .and_then(|c| c.declared.clone().filter(|d| d.starts_with("documented")))
            } else {
                doc.iter()
                    .any(|d| d.to_ascii_lowercase().contains("categor"))
                    .then(|| format!("documented as a category at {}:{l}", self.path))
            };
            let declared = if name.contains("CATEGORY") {
                Some("a const named CATEGORY".to_string())
            } else {
                documented
            };
            out.push(ConstDef {
                module: self.module.clone(),
                name: name.to_string(),
                value,
                file: self.path.clone(),
                line,
                declared,
            });
        }
        out
    }

    /// For each function, which parameters (counting from the first after `self`) are
    /// named `category`.
    fn signatures(&self, sigs: &mut HashMap<String, BTreeSet<usize>>) {
        let t = &self.tokens;
        for k in 0..t.len() {
            if !t[k].is_ident("fn") {
                continue;
            }
            let Some(name) = t.get(k + 1).and_then(Token::ident) else {
                continue;
            };
            let mut open = k + 2;
            if t.get(open).is_some_and(|x| x.is("<")) {
                let mut depth = 0;
                while open < t.len() {
                    if t[open].is("<") {
                        depth += 1;
                    } else if t[open].is(">") {
                        depth -= 1;
                        if depth == 0 {
                            open += 1;
                            break;
                        }
                    }
                    open += 1;
                }
            }
            if !t.get(open).is_some_and(|x| x.is("(")) {
                continue;
            }
            let mut index = 0;
            for (s, e) in split_top(t, open, close_of(t, open)) {
                let colon = (s..e).find(|&i| t[i].is(":")).unwrap_or(e);
                if (s..colon).any(|i| t[i].is_ident("self")) {
                    continue;
                }
                if colon > s && t[colon - 1].ident().is_some_and(|p| p == "category") {
                    sigs.entry(name.to_string()).or_default().insert(index);
                }
                index += 1;
            }
        }
    }

    /// The constants a path used in this file can name.
    fn resolve<'a>(&self, path: &[String], consts: &'a [ConstDef]) -> Vec<&'a ConstDef> {
        let Some((name, prefix)) = path.split_last() else {
            return Vec::new();
        };
        let find = |module: &[String], exact: bool| {
            consts
                .iter()
                .filter(|c| &c.name == name)
                .filter(|c| {
                    if exact {
                        c.module == module
                    } else {
                        c.module.ends_with(module)
                    }
                })
                .collect::<Vec<_>>()
        };
        if !prefix.is_empty() {
            let (m, exact) = self.module_of(prefix);
            return find(&m, exact);
        }
        let here = find(&self.module, true);
        if !here.is_empty() {
            return here;
        }
        let mut out = Vec::new();
        for u in &self.uses {
            if let Some((leaf, from)) = u.split_last()
                && (leaf == name || leaf == "*")
            {
                let (m, exact) = self.module_of(from);
                out.extend(find(&m, exact));
            }
        }
        out
    }

    /// The module a path prefix names from this file: exact for `crate::`, `self::`,
    /// `super::`, else any module whose path ends with it.
    fn module_of(&self, prefix: &[String]) -> (Vec<String>, bool) {
        match prefix.first().map(String::as_str) {
            Some("crate") => (prefix[1..].to_vec(), true),
            Some("self") => ([&self.module[..], &prefix[1..]].concat(), true),
            Some("super") => {
                let supers = prefix.iter().take_while(|s| *s == "super").count();
                let keep = self.module.len().saturating_sub(supers);
                ([&self.module[..keep], &prefix[supers..]].concat(), true)
            }
            _ => (prefix.to_vec(), false),
        }
    }
}

/// Reads a `use` tree from `i`, adding each full path (`a::b::C`, `a::*`) to `out`.
fn use_tree(t: &[Token], i: &mut usize, mut prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
    while *i < t.len() {
        if t[*i].is("::") {
            *i += 1;
        } else if t[*i].is("*") {
            prefix.push("*".into());
            *i += 1;
            out.push(prefix);
            return;
        } else if t[*i].is("{") {
            *i += 1;
            while *i < t.len() && !t[*i].is("}") {
                if t[*i].is(",") {
                    *i += 1;
                } else {
                    use_tree(t, i, prefix.clone(), out);
                }
            }
            *i += 1;
            return;
        } else if let Some(s) = t[*i].ident() {
            prefix.push(s.to_string());
            *i += 1;
            if t.get(*i).is_some_and(|x| x.is_ident("as")) {
                // renamed: the new name is not the constant's
                *i += 2;
                return;
            }
            if !t.get(*i).is_some_and(|x| x.is("::")) {
                out.push(prefix);
                return;
            }
        } else {
            *i += 1;
            return;
        }
    }
}
