//! The code catalog: `data/codes/*.json` compiled into the binary, parsed once, looked up
//! with fallbacks (exact -> range -> registry `X.S.D` -> subject `X.S.0` -> class `X.0.0`).
//!
//! This module is a leaf: it knows nothing of input, extraction or rendering.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;
use std::sync::{LazyLock, OnceLock};

/// An entry of the index `build.rs` writes: which file, which bytes, and its keys.
pub(crate) struct IndexEntry {
    file: usize,
    start: usize,
    end: usize,
    code: &'static str,
    also: &'static [&'static str],
    category: &'static str,
}

include!(concat!(env!("OUT_DIR"), "/catalog_files.rs"));

// `Entry` and the types it holds are in a file of their own, which `build.rs` includes too
// to check every built-in entry at build time.
#[path = "catalog_entry.rs"]
mod entry;
pub(crate) use entry::Severity;
pub use entry::{Entry, Texts};

/// An enhanced status code `class.subject.detail` (RFC 3463). Class 0 stands for `X`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Code {
    /// 2 (success), 4 (transient), 5 (permanent), or 0 for `X` (either failure class).
    pub class: u8,
    /// What the code is about: 1 addressing, 4 routing, 7 security ... (0 to 999).
    pub subject: u16,
    /// The condition within the subject (0 to 999).
    pub detail: u16,
}

impl Code {
    /// A code from its three parts, unchecked (class 0 stands for `X`).
    pub const fn new(class: u8, subject: u16, detail: u16) -> Self {
        Code {
            class,
            subject,
            detail,
        }
    }

    /// Parses `4.4.316`, `X.4.316`, `450 4.4.316`, `450-4.4.316` (surrounding blanks allowed).
    /// Returns the code and the basic reply code when one was given.
    pub fn parse_spelling(s: &str) -> Option<(Code, Option<u16>)> {
        let s = s.trim();
        let (reply, rest) = match s.split_once([' ', '-']) {
            Some((r, rest)) if r.len() == 3 && r.bytes().all(|b| b.is_ascii_digit()) => {
                (r.parse::<u16>().ok(), rest.trim())
            }
            _ => (None, s),
        };
        Code::parse(rest).map(|c| (c, reply))
    }

    /// Parses exactly `C.S.D` with C in 2/4/5 or `X`, S and D of 1 to 3 digits.
    pub fn parse(s: &str) -> Option<Code> {
        let mut parts = s.split('.');
        let class = match parts.next()? {
            "2" => 2,
            "4" => 4,
            "5" => 5,
            "X" | "x" => 0,
            _ => return None,
        };
        let subject = parse_num(parts.next()?)?;
        let detail = parse_num(parts.next()?)?;
        if parts.next().is_some() {
            return None;
        }
        Some(Code {
            class,
            subject,
            detail,
        })
    }

    /// The same code in the other failure class (4 <-> 5).
    pub fn with_class(self, class: u8) -> Code {
        Code { class, ..self }
    }
}

fn parse_num(s: &str) -> Option<u16> {
    if s.is_empty() || s.len() > 3 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if s.len() > 1 && s.starts_with('0') {
        return None;
    }
    s.parse().ok()
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.class == 0 {
            write!(f, "X.{}.{}", self.subject, self.detail)
        } else {
            write!(f, "{}.{}.{}", self.class, self.subject, self.detail)
        }
    }
}

impl Severity {
    /// The severity of a code class (2, 4 or 5); None for any other class, `X` included.
    pub(crate) fn of_class(class: u8) -> Option<Severity> {
        match class {
            2 => Some(Severity::Success),
            4 => Some(Severity::Transient),
            5 => Some(Severity::Permanent),
            _ => None,
        }
    }
    /// The name in JSON output and the catalog files (`transient` ...).
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Severity::Transient => "transient",
            Severity::Permanent => "permanent",
            Severity::Success => "success",
        }
    }
}

/// A language the catalog's texts and the output are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum Lang {
    /// English, the default.
    #[default]
    #[serde(rename = "en")]
    En,
    /// Japanese.
    #[serde(rename = "ja")]
    Ja,
}

impl Lang {
    /// Every language, English first.
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Ja];
    /// The language tag: `en` or `ja`.
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ja => "ja",
        }
    }
}

impl Entry {
    /// The texts in a language: [`Entry::en`] or [`Entry::ja`].
    pub fn texts(&self, lang: Lang) -> &Texts {
        match lang {
            Lang::En => &self.en,
            Lang::Ja => &self.ja,
        }
    }
}

/// A catalog file: `{"schema": 1, "codes": [...]}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    schema: u32,
    codes: Vec<Entry>,
}

/// The key of an entry, parsed: a single code, or a range of details.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// One code; class 0 (`X.S.D`) covers the same subject and detail in every class.
    Code(Code),
    /// Every detail from `lo` to `hi`, both included (`5.7.606-649`).
    Range {
        /// The class, 2, 4 or 5 (a range is never `X`).
        class: u8,
        /// The subject the range is in.
        subject: u16,
        /// The first detail covered.
        lo: u16,
        /// The last detail covered, greater than `lo`.
        hi: u16,
    },
    /// [`OTHER`]: the "any other error" guidance, which covers no code.
    Other,
}

impl Key {
    /// Parses a catalog key: a code (`4.4.316`, `X.1.1`), a range (`5.7.606-649`) or
    /// [`OTHER`]. None when malformed.
    pub fn parse(s: &str) -> Option<Key> {
        if s == OTHER {
            return Some(Key::Other);
        }
        if let Some((head, hi)) = s.split_once('-') {
            let code = Code::parse(head)?;
            let hi = parse_num(hi)?;
            if code.class == 0 || hi <= code.detail {
                return None;
            }
            return Some(Key::Range {
                class: code.class,
                subject: code.subject,
                lo: code.detail,
                hi,
            });
        }
        let code = Code::parse(s)?;
        if code.class == 2 || code.class == 4 || code.class == 5 || code.class == 0 {
            Some(Key::Code(code))
        } else {
            None
        }
    }

    /// Whether a concrete code falls under this key.
    pub fn covers(&self, c: Code) -> bool {
        match *self {
            Key::Code(k) => {
                k == c || (k.class == 0 && k.subject == c.subject && k.detail == c.detail)
            }
            Key::Range {
                class,
                subject,
                lo,
                hi,
            } => class == c.class && subject == c.subject && (lo..=hi).contains(&c.detail),
            Key::Other => false,
        }
    }
}

/// The key of the EOP "any other error" guidance.
pub const OTHER: &str = "other";

/// How a code was matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Match {
    /// The code (or one of its `also` spellings) has an entry of its own.
    Exact,
    /// A documented range covers it.
    Range,
    /// The registry entry `X.S.D` serves both classes.
    Registry,
    /// No entry: the subject's `X.S.0` explains it.
    Subject,
    /// No entry: the class-wide `X.0.0` explains it.
    Class,
}

impl Match {
    /// Whether the code has an entry of its own (exact, range or registry): a subject or
    /// class fallback is not known.
    pub fn known(self) -> bool {
        matches!(self, Match::Exact | Match::Range | Match::Registry)
    }
}

/// The result of [`Catalog::lookup`]: the entry that explains a code, and how it was found.
pub struct Lookup<'a> {
    /// The entry that explains the code.
    pub entry: &'a Entry,
    /// Which of the fallbacks found it.
    pub how: Match,
}

/// An entry of the table: its keys are known at once, its texts are parsed from the
/// built-in JSON the first time they are needed (or given, for files read at run time).
#[derive(Clone)]
struct Slot {
    code: String,
    category: String,
    raw: Option<&'static str>,
    entry: OnceLock<Entry>,
}

impl Slot {
    fn get(&self) -> &Entry {
        self.entry.get_or_init(|| {
            // the built-in text parses: `cargo test` parses every entry of every file
            self.raw
                .and_then(|r| serde_json::from_str(r).ok())
                .unwrap_or_else(|| Entry {
                    code: self.code.clone(),
                    also: Vec::new(),
                    reply: 0,
                    category: self.category.clone(),
                    severity: Severity::Transient,
                    source: "builtin".into(),
                    reasons: Vec::new(),
                    owner: "your-organization".into(),
                    registry_title: None,
                    related: Vec::new(),
                    en: Texts::default(),
                    ja: Texts::default(),
                    references: Vec::new(),
                    examples: Vec::new(),
                })
        })
    }
}

/// A table of entries with its indexes: by exact code (and `also` spelling), by range, and
/// by key. Built-in entries are parsed the first time they are read.
#[derive(Clone)]
pub struct Catalog {
    entries: Vec<Slot>,
    exact: HashMap<Code, usize>,
    ranges: Vec<(Key, usize)>,
    by_key: HashMap<String, usize>,
    other: Option<usize>,
}

/// An error in a catalog file, with where it is.
#[derive(Debug)]
pub struct CatalogError {
    pub(crate) file: String,
    /// 1-based; 0 when the error has no place in the text (the column then too).
    pub(crate) line: usize,
    pub(crate) column: usize,
    pub(crate) message: String,
}

impl fmt::Display for CatalogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(
                f,
                "{}:{}:{}: {}",
                self.file, self.line, self.column, self.message
            )
        } else {
            write!(f, "{}: {}", self.file, self.message)
        }
    }
}

impl std::error::Error for CatalogError {}

impl CatalogError {
    fn json(file: &str, e: &serde_json::Error) -> CatalogError {
        // serde_json ends its message with the position, which is shown in front instead
        let msg = e.to_string();
        let msg = msg
            .rfind(" at line ")
            .map_or(msg.as_str(), |i| &msg[..i])
            .to_string();
        CatalogError {
            file: file.to_string(),
            line: e.line(),
            column: e.column(),
            message: msg,
        }
    }
}

impl Catalog {
    /// Parses catalog files (name, JSON text) into one table. Later files may not repeat a key.
    pub fn from_files<'a>(
        files: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Catalog, CatalogError> {
        let mut entries = Vec::new();
        for (name, text) in files {
            let file: File =
                serde_json::from_str(text).map_err(|e| CatalogError::json(name, &e))?;
            if file.schema != 1 {
                return Err(CatalogError {
                    file: name.to_string(),
                    line: 0,
                    column: 0,
                    message: format!("unsupported schema {} (expected 1)", file.schema),
                });
            }
            for e in file.codes {
                entries.push((name.to_string(), e));
            }
        }
        let mut cat = Catalog {
            entries: Vec::with_capacity(entries.len()),
            exact: HashMap::new(),
            ranges: Vec::new(),
            by_key: HashMap::new(),
            other: None,
        };
        for (file, e) in entries {
            cat.insert(e).map_err(|message| CatalogError {
                file,
                line: 0,
                column: 0,
                message,
            })?;
        }
        Ok(cat)
    }

    fn insert(&mut self, e: Entry) -> Result<(), String> {
        let also = e.also.clone();
        let slot = Slot {
            code: e.code.clone(),
            category: e.category.clone(),
            raw: None,
            entry: OnceLock::from(e),
        };
        self.insert_slot(slot, &also)
    }

    /// The built-in table, from the index the build wrote: no text is parsed yet.
    fn from_index() -> Result<Catalog, CatalogError> {
        let mut cat = Catalog {
            entries: Vec::with_capacity(CATALOG_INDEX.len()),
            exact: HashMap::new(),
            ranges: Vec::new(),
            by_key: HashMap::new(),
            other: None,
        };
        for ix in CATALOG_INDEX {
            let (name, text) = CATALOG_FILES[ix.file];
            let slot = Slot {
                code: ix.code.to_string(),
                category: ix.category.to_string(),
                raw: text.get(ix.start..ix.end),
                entry: OnceLock::new(),
            };
            let also: Vec<String> = ix.also.iter().map(|a| a.to_string()).collect();
            cat.insert_slot(slot, &also)
                .map_err(|message| CatalogError {
                    file: name.to_string(),
                    line: 0,
                    column: 0,
                    message,
                })?;
        }
        Ok(cat)
    }

    fn insert_slot(&mut self, slot: Slot, also: &[String]) -> Result<(), String> {
        let idx = self.entries.len();
        let code = slot.code.clone();
        let key = Key::parse(&code).ok_or_else(|| format!("entry {code:?}: malformed code"))?;
        if self.by_key.insert(code.clone(), idx).is_some() {
            return Err(format!("entry {code:?} appears twice"));
        }
        match key {
            Key::Code(c) => {
                if self.exact.insert(c, idx).is_some() {
                    return Err(format!("code {} is claimed by two entries", c));
                }
            }
            Key::Range { .. } => self.ranges.push((key, idx)),
            Key::Other => self.other = Some(idx),
        }
        for a in also {
            let c = Code::parse(a)
                .filter(|c| c.class != 0)
                .ok_or_else(|| format!("entry {code:?}: malformed also {a:?}"))?;
            if self.exact.insert(c, idx).is_some() {
                return Err(format!(
                    "code {c} (also of {code:?}) is claimed by two entries"
                ));
            }
            self.by_key.entry(a.clone()).or_insert(idx);
        }
        self.entries.push(slot);
        Ok(())
    }

    /// Every entry, in table order (parses the ones not read yet).
    pub fn entries(&self) -> Vec<&Entry> {
        self.entries.iter().map(Slot::get).collect()
    }

    /// Whether some entry has this category slug.
    pub fn has_category(&self, category: &str) -> bool {
        self.entries.iter().any(|s| s.category == category)
    }

    /// The entry stored under this exact key (`4.4.316`, `X.1.1`, `5.7.606-649`, `other`).
    pub fn by_key(&self, key: &str) -> Option<&Entry> {
        self.by_key.get(key).map(|&i| self.entries[i].get())
    }

    /// The EOP "other error" guidance, appended to fallbacks.
    pub fn other(&self) -> Option<&Entry> {
        self.other.map(|i| self.entries[i].get())
    }

    /// Looks a concrete code up with the fallbacks. `None` only when the catalog has no
    /// `X.0.0` entry (never for the built-in one; checked by a test).
    pub fn lookup(&self, c: Code) -> Option<Lookup<'_>> {
        if c.class != 0 {
            if let Some(&i) = self.exact.get(&c) {
                return Some(Lookup {
                    entry: self.entries[i].get(),
                    how: Match::Exact,
                });
            }
            if let Some((_, i)) = self.ranges.iter().find(|(k, _)| k.covers(c)) {
                return Some(Lookup {
                    entry: self.entries[*i].get(),
                    how: Match::Range,
                });
            }
        }
        if let Some(&i) = self.exact.get(&c.with_class(0)) {
            return Some(Lookup {
                entry: self.entries[i].get(),
                how: Match::Registry,
            });
        }
        if c.class == 0 {
            for class in [4, 5] {
                if let Some(l) = self.lookup(c.with_class(class)).filter(|l| l.how.known()) {
                    return Some(l);
                }
            }
        }
        if let Some(&i) = self.exact.get(&Code::new(0, c.subject, 0)) {
            return Some(Lookup {
                entry: self.entries[i].get(),
                how: Match::Subject,
            });
        }
        self.exact.get(&Code::new(0, 0, 0)).map(|&i| Lookup {
            entry: self.entries[i].get(),
            how: Match::Class,
        })
    }

    /// The entry of a category slug (the first entry that has it): used for symptom findings.
    pub fn by_category(&self, category: &str) -> Option<&Entry> {
        self.entries
            .iter()
            .find(|s| s.category == category)
            .map(Slot::get)
    }
}

/// Texts of an overlay entry: every field optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct OverlayTexts {
    title: Option<String>,
    summary: Option<String>,
    causes: Option<Vec<String>>,
    fixes: Option<Vec<String>>,
    verify: Option<Vec<String>>,
}

/// An entry of a local runbook file: the catalog schema with every field but `code`
/// optional, and `mode` saying what the lists do to a built-in entry's: `extend` (append,
/// the default), `prepend`, or `replace`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OverlayEntry {
    code: String,
    mode: Option<String>,
    also: Option<Vec<String>>,
    reply: Option<u16>,
    category: Option<String>,
    severity: Option<Severity>,
    source: Option<String>,
    owner: Option<String>,
    registry_title: Option<String>,
    related: Option<Vec<String>>,
    en: Option<OverlayTexts>,
    ja: Option<OverlayTexts>,
    references: Option<Vec<String>>,
    examples: Option<Vec<String>>,
}

impl OverlayTexts {
    fn make_safe(&mut self) {
        safe_opt(&mut self.title);
        safe_opt(&mut self.summary);
        for v in [&mut self.causes, &mut self.fixes, &mut self.verify] {
            safe_list(v);
        }
    }
}

impl OverlayEntry {
    /// Escapes control characters in every text of a runbook entry: these are printed as
    /// they are, and a runbook file is input like any other.
    fn make_safe(&mut self) {
        for s in [
            &mut self.mode,
            &mut self.category,
            &mut self.source,
            &mut self.owner,
            &mut self.registry_title,
        ] {
            safe_opt(s);
        }
        for v in [
            &mut self.also,
            &mut self.related,
            &mut self.references,
            &mut self.examples,
        ] {
            safe_list(v);
        }
        for t in [&mut self.en, &mut self.ja].into_iter().flatten() {
            t.make_safe();
        }
    }
}

fn safe_opt(s: &mut Option<String>) {
    if let Some(s) = s
        && let std::borrow::Cow::Owned(t) = crate::sanitize::text(s)
    {
        *s = t;
    }
}

fn safe_list(v: &mut Option<Vec<String>>) {
    for s in v.iter_mut().flatten() {
        if let std::borrow::Cow::Owned(t) = crate::sanitize::text(s) {
            *s = t;
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OverlayFile {
    schema: u32,
    codes: Vec<OverlayEntry>,
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Extend,
    Prepend,
    Replace,
}

fn merge_list(base: &mut Vec<String>, add: Option<Vec<String>>, mode: Mode) {
    let Some(add) = add else { return };
    match mode {
        Mode::Replace => *base = add,
        Mode::Extend => base.extend(add),
        Mode::Prepend => {
            let old = std::mem::replace(base, add);
            base.extend(old);
        }
    }
}

fn merge_texts(base: &mut Texts, o: Option<OverlayTexts>, mode: Mode) {
    let Some(o) = o else { return };
    if let Some(t) = o.title {
        base.title = t;
    }
    if let Some(t) = o.summary {
        base.summary = t;
    }
    merge_list(&mut base.causes, o.causes, mode);
    merge_list(&mut base.fixes, o.fixes, mode);
    merge_list(&mut base.verify, o.verify, mode);
}

fn new_texts(o: OverlayTexts) -> Option<Texts> {
    Some(Texts {
        title: o.title?,
        summary: o.summary.unwrap_or_default(),
        causes: o.causes.unwrap_or_default(),
        fixes: o.fixes.unwrap_or_default(),
        verify: o.verify.unwrap_or_default(),
    })
}

/// 1-based line and column of the first occurrence of `needle` in `text` (0, 0 if absent).
fn position_of(text: &str, needle: &str) -> (usize, usize) {
    match text.find(needle) {
        None => (0, 0),
        Some(at) => {
            let before = &text[..at];
            let line = before.matches('\n').count() + 1;
            let col = before.rfind('\n').map_or(at, |nl| at - nl - 1) + 1;
            (line, col)
        }
    }
}

impl Catalog {
    /// Applies a local runbook file on top of this catalog: new entries are added, entries
    /// with a known key get their texts replaced or extended. Errors name the file, line
    /// and column.
    pub fn overlay(&mut self, name: &str, text: &str) -> Result<(), CatalogError> {
        let file: OverlayFile =
            serde_json::from_str(text).map_err(|e| CatalogError::json(name, &e))?;
        let err = |code: &str, message: String| {
            let (line, column) = position_of(text, &format!("\"{code}\""));
            CatalogError {
                file: name.to_string(),
                line,
                column,
                message,
            }
        };
        if file.schema != 1 {
            let (line, column) = position_of(text, "\"schema\"");
            return Err(CatalogError {
                file: name.to_string(),
                line,
                column,
                message: format!("unsupported schema {} (expected 1)", file.schema),
            });
        }
        let mut entries: Vec<Entry> = self.entries.iter().map(|s| s.get().clone()).collect();
        for mut o in file.codes {
            o.make_safe();
            let code = o.code.clone();
            let mode = match o.mode.as_deref() {
                None | Some("extend") => Mode::Extend,
                Some("prepend") => Mode::Prepend,
                Some("replace") => Mode::Replace,
                Some(m) => {
                    return Err(err(
                        &code,
                        format!("entry {code:?}: mode {m:?} (expected extend, prepend or replace)"),
                    ));
                }
            };
            if Key::parse(&code).is_none() {
                return Err(err(
                    &code,
                    format!(
                        "entry {code:?}: malformed code (expected e.g. 4.4.316, X.1.1, 5.7.606-649)"
                    ),
                ));
            }
            if let Some(e) = entries.iter_mut().find(|e| e.code == code) {
                if let Some(v) = o.reply {
                    e.reply = v;
                }
                if let Some(v) = o.category {
                    e.category = v;
                }
                if let Some(v) = o.severity {
                    e.severity = v;
                }
                if let Some(v) = o.source {
                    e.source = v;
                }
                if let Some(v) = o.owner {
                    e.owner = v;
                }
                if o.registry_title.is_some() {
                    e.registry_title = o.registry_title;
                }
                merge_list(&mut e.related, o.related, mode);
                merge_list(&mut e.references, o.references, mode);
                merge_list(&mut e.examples, o.examples, mode);
                if o.also.is_some() {
                    return Err(err(
                        &code,
                        format!("entry {code:?}: `also` of a built-in entry cannot be changed"),
                    ));
                }
                merge_texts(&mut e.en, o.en, mode);
                merge_texts(&mut e.ja, o.ja, mode);
                continue;
            }
            let missing = |f: &str| err(&code, format!("new entry {code:?} needs `{f}`"));
            let en =
                o.en.and_then(new_texts)
                    .ok_or_else(|| missing("en.title"))?;
            let ja = match o.ja {
                Some(j) => new_texts(j).ok_or_else(|| missing("ja.title"))?,
                None => en.clone(),
            };
            entries.push(Entry {
                reasons: Vec::new(),
                code: code.clone(),
                also: o.also.unwrap_or_default(),
                reply: o.reply.ok_or_else(|| missing("reply"))?,
                category: o.category.ok_or_else(|| missing("category"))?,
                severity: o.severity.ok_or_else(|| missing("severity"))?,
                source: o.source.unwrap_or_else(|| "local".to_string()),
                owner: o.owner.unwrap_or_else(|| "your-organization".to_string()),
                registry_title: o.registry_title,
                related: o.related.unwrap_or_default(),
                en,
                ja,
                references: o.references.unwrap_or_default(),
                examples: o.examples.unwrap_or_default(),
            });
        }
        let mut fresh = Catalog {
            entries: Vec::with_capacity(entries.len()),
            exact: HashMap::new(),
            ranges: Vec::new(),
            by_key: HashMap::new(),
            other: None,
        };
        for e in entries {
            let code = e.code.clone();
            fresh.insert(e).map_err(|m| err(&code, m))?;
        }
        *self = fresh;
        Ok(())
    }
}

static BUILTIN: LazyLock<Result<Catalog, CatalogError>> = LazyLock::new(Catalog::from_index);
static ACTIVE: OnceLock<Catalog> = OnceLock::new();

/// The built-in catalog exactly as compiled in (tests use it to check the data).
pub fn builtin() -> Result<&'static Catalog, &'static CatalogError> {
    BUILTIN.as_ref()
}

/// Installs the catalog to use for this run (built-in plus overlays). Only the first call counts.
pub fn install(cat: Catalog) {
    let _ = ACTIVE.set(cat);
}

/// The catalog in use: the installed one, else the built-in one.
pub fn get() -> &'static Catalog {
    if let Some(c) = ACTIVE.get() {
        return c;
    }
    match BUILTIN.as_ref() {
        Ok(c) => c,
        // The built-in data is checked by the test-suite; should it ever be broken, run
        // with an empty table rather than panic: every code then gets no explanation.
        Err(_) => ACTIVE.get_or_init(|| Catalog {
            entries: Vec::new(),
            exact: HashMap::new(),
            ranges: Vec::new(),
            by_key: HashMap::new(),
            other: None,
        }),
    }
}

/// The built-in file names and texts (for `codes --format json` and tests).
pub fn builtin_files() -> &'static [(&'static str, &'static str)] {
    CATALOG_FILES
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_spellings() {
        assert_eq!(
            Code::parse_spelling("450 4.4.316"),
            Some((Code::new(4, 4, 316), Some(450)))
        );
        assert_eq!(
            Code::parse_spelling("450-4.4.316"),
            Some((Code::new(4, 4, 316), Some(450)))
        );
        assert_eq!(
            Code::parse_spelling(" 5.4.316 "),
            Some((Code::new(5, 4, 316), None))
        );
        assert_eq!(
            Code::parse_spelling("X.1.1"),
            Some((Code::new(0, 1, 1), None))
        );
        assert_eq!(Code::parse("4.4"), None);
        assert_eq!(Code::parse("3.1.1"), None);
        assert_eq!(Code::parse("4.4.3166"), None);
        assert_eq!(Code::parse("4.04.1"), None);
        assert_eq!(Code::parse("4.4.1.1"), None);
        assert_eq!(Code::new(0, 7, 1).to_string(), "X.7.1");
    }

    #[test]
    fn keys() {
        assert_eq!(
            Key::parse("5.7.606-649"),
            Some(Key::Range {
                class: 5,
                subject: 7,
                lo: 606,
                hi: 649
            })
        );
        assert!(Key::parse("5.7.649-606").is_none());
        assert!(Key::parse("X.7.1-5").is_none());
        let r = Key::parse("5.7.606-649").unwrap();
        assert!(r.covers(Code::new(5, 7, 606)) && r.covers(Code::new(5, 7, 649)));
        assert!(!r.covers(Code::new(5, 7, 650)) && !r.covers(Code::new(4, 7, 610)));
        assert!(Key::parse("X.1.1").unwrap().covers(Code::new(4, 1, 1)));
    }

    fn mini() -> Catalog {
        let t = |s: &str| {
            format!(
                r#"{{"title":"{s}","summary":"s","causes":["c"],"fixes":["f1","f2"],"verify":["v"]}}"#
            )
        };
        let e = |code: &str, also: &str| {
            format!(
                r#"{{"code":"{code}","also":[{also}],"reply":550,"category":"cat-{code}","severity":"permanent","source":"iana","owner":"sender","en":{},"ja":{},"references":[]}}"#,
                t(code),
                t(code)
            )
        };
        let text = format!(
            r#"{{"schema":1,"codes":[{},{},{},{},{},{}]}}"#,
            e("X.0.0", ""),
            e("X.4.0", ""),
            e("X.1.1", ""),
            e("4.4.316", "\"5.4.316\""),
            e("5.7.606-649", ""),
            e("other", "")
        );
        Catalog::from_files([("mini.json", text.as_str())]).unwrap()
    }

    #[test]
    fn lookup_falls_back() {
        let c = mini();
        let l = c.lookup(Code::new(5, 4, 316)).unwrap();
        assert_eq!((l.entry.code.as_str(), l.how), ("4.4.316", Match::Exact));
        let l = c.lookup(Code::new(5, 7, 610)).unwrap();
        assert_eq!(
            (l.entry.code.as_str(), l.how),
            ("5.7.606-649", Match::Range)
        );
        let l = c.lookup(Code::new(4, 1, 1)).unwrap();
        assert_eq!((l.entry.code.as_str(), l.how), ("X.1.1", Match::Registry));
        let l = c.lookup(Code::new(4, 4, 399)).unwrap();
        assert_eq!((l.entry.code.as_str(), l.how), ("X.4.0", Match::Subject));
        let l = c.lookup(Code::new(5, 6, 3)).unwrap();
        assert_eq!((l.entry.code.as_str(), l.how), ("X.0.0", Match::Class));
        let l = c.lookup(Code::new(0, 4, 316)).unwrap();
        assert_eq!((l.entry.code.as_str(), l.how), ("4.4.316", Match::Exact));
        assert_eq!(c.other().unwrap().code, "other");
    }

    #[test]
    fn overlays_extend_replace_and_add() {
        let mut c = mini();
        let o = r#"{"schema": 1, "codes": [
          {"code": "4.4.316", "en": {"fixes": ["Open a ticket in queue NET-FW"]}},
          {"code": "X.1.1", "mode": "replace", "ja": {"causes": ["only this"]}},
          {"code": "5.9.1", "reply": 550, "category": "local-policy", "severity": "permanent",
           "en": {"title": "Local policy", "summary": "s", "causes": ["c"], "fixes": ["f"]}}
        ]}"#;
        c.overlay("local.json", o).unwrap();
        let e = c.by_key("4.4.316").unwrap();
        assert_eq!(
            e.en.fixes.last().map(String::as_str),
            Some("Open a ticket in queue NET-FW")
        );
        assert_eq!(e.en.fixes.len(), 3);
        assert_eq!(c.by_key("X.1.1").unwrap().ja.causes, ["only this"]);
        let l = c.lookup(Code::new(5, 9, 1)).unwrap();
        assert_eq!(
            (l.entry.category.as_str(), l.how),
            ("local-policy", Match::Exact)
        );
        assert_eq!(l.entry.ja.title, "Local policy");
        // the 5.4.316 spelling still resolves after the rebuild
        assert_eq!(
            c.lookup(Code::new(5, 4, 316)).unwrap().entry.code,
            "4.4.316"
        );
    }

    #[test]
    fn overlay_errors_name_file_line_and_column() {
        let mut c = mini();
        let e = c
            .overlay(
                "bad.json",
                "{\"schema\": 1,\n \"codes\": [\n {\"code\": \"4.4.316\", \"fixes\": []}]}",
            )
            .unwrap_err();
        assert_eq!((e.file.as_str(), e.line), ("bad.json", 3));
        assert!(e.message.contains("fixes"), "{e}");
        let e = c
            .overlay(
                "new.json",
                "{\"schema\": 1, \"codes\": [\n\n  {\"code\": \"5.9.2\", \"reply\": 550}]}",
            )
            .unwrap_err();
        assert_eq!((e.line, e.column), (3, 12));
        assert!(e.to_string().starts_with("new.json:3:12: new entry"), "{e}");
        assert!(
            c.overlay("x.json", r#"{"schema": 1, "codes": [{"code": "4.4"}]}"#)
                .is_err()
        );
    }

    #[test]
    fn the_index_and_the_files_agree() {
        // every built-in entry parses (the lazy table relies on it) and is indexed
        let full = Catalog::from_files(CATALOG_FILES.iter().copied()).unwrap();
        let lazy = builtin().unwrap();
        assert_eq!(full.entries().len(), lazy.entries().len());
        for (a, b) in full.entries().iter().zip(lazy.entries()) {
            assert_eq!(a.code, b.code);
            assert_eq!(a.en.title, b.en.title);
            assert_eq!(a.ja.fixes, b.ja.fixes);
        }
    }

    #[test]
    fn duplicates_are_errors() {
        let one = r#"{"code":"X.0.0","reply":550,"category":"a","severity":"permanent","source":"iana","owner":"sender","en":{"title":"t","summary":"s","causes":[],"fixes":[]},"ja":{"title":"t","summary":"s","causes":[],"fixes":[]},"references":[]}"#;
        let text = format!(r#"{{"schema":1,"codes":[{one},{one}]}}"#);
        let err = Catalog::from_files([("dup.json", text.as_str())])
            .err()
            .unwrap();
        assert!(err.message.contains("twice"), "{err}");
        let err = Catalog::from_files([("bad.json", "{\"schema\":1,\n \"codes\": [}")])
            .err()
            .unwrap();
        assert_eq!((err.line, err.file.as_str()), (2, "bad.json"));
    }
}
