//! The table: entries indexed by exact code (and `also` spelling), range and key, built
//! from the index `build.rs` writes (entries parsed the first time they are read) or from
//! catalog files; the lookups with their fallbacks.

use super::code::{Code, Key};
use super::entry::{Entry, Severity, Texts};
use serde::Deserialize;
use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

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

/// A catalog file: `{"schema": 1, "codes": [...]}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    schema: u32,
    codes: Vec<Entry>,
}

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
pub(super) struct Slot {
    code: String,
    category: String,
    raw: Option<&'static str>,
    entry: OnceLock<Entry>,
}

impl Slot {
    pub(super) fn get(&self) -> &Entry {
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
    pub(super) entries: Vec<Slot>,
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
    pub(super) fn json(file: &str, e: &serde_json::Error) -> CatalogError {
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

impl fmt::Debug for Catalog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Catalog")
            .field("entries", &self.entries.len())
            .finish_non_exhaustive()
    }
}

impl Catalog {
    /// A table with no entry yet, with room for `n` (with none: what runs when the built-in
    /// data is broken, never as the build checks it, every code then unexplained rather
    /// than a panic).
    pub(super) fn with_capacity(n: usize) -> Catalog {
        Catalog {
            entries: Vec::with_capacity(n),
            exact: HashMap::new(),
            ranges: Vec::new(),
            by_key: HashMap::new(),
            other: None,
        }
    }

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
        let mut cat = Catalog::with_capacity(entries.len());
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

    pub(super) fn insert(&mut self, e: Entry) -> Result<(), String> {
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
    pub(super) fn from_index() -> Result<Catalog, CatalogError> {
        let mut cat = Catalog::with_capacity(CATALOG_INDEX.len());
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
