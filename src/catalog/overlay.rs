//! Local runbooks laid over the catalog (`--catalog FILE`, `NDR_DOCTOR_CATALOG`): their
//! texts extend or replace an entry's, or add entries; a mistake names file, line, column.

use super::code::Key;
use super::entry::{Entry, Severity, Texts};
use super::table::{Catalog, CatalogError};
use serde::Deserialize;

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
        let mut fresh = Catalog::with_capacity(entries.len());
        for e in entries {
            let code = e.code.clone();
            fresh.insert(e).map_err(|m| err(&code, m))?;
        }
        *self = fresh;
        Ok(())
    }
}
