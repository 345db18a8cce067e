//! Output: one module per format. Renderers only read findings and the catalog; they never
//! parse input. Everything taken from the input is made safe here (see `sanitize`).

pub mod human;
pub mod json;
pub mod probe;

use crate::catalog::{self, Entry, Lang, Texts};
use crate::extract::Finding;
use std::collections::BTreeMap;
use std::io::{self, Write};

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
    Ndjson,
}

/// How to present.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub lang: Lang,
    pub color: bool,
}

/// Running totals of a diagnosis, kept by the driver and shown at the end.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    pub inputs: usize,
    pub findings: usize,
    pub root_causes: usize,
    pub by_code: BTreeMap<String, usize>,
    pub by_category: BTreeMap<String, usize>,
    pub by_state: BTreeMap<String, usize>,
    /// Inputs that could not be read (path and reason), shown in the summary.
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
}

impl Tally {
    pub fn add(&mut self, f: &Finding) {
        self.findings += 1;
        if f.root_cause {
            self.root_causes += 1;
        }
        *self
            .by_code
            .entry(f.code.map_or_else(|| "none".to_string(), |c| c.to_string()))
            .or_default() += 1;
        *self.by_category.entry(f.category.clone()).or_default() += 1;
        *self
            .by_state
            .entry(f.state.as_str().to_string())
            .or_default() += 1;
    }
}

/// The texts that explain a finding in one language: its entry's, and for a code without an
/// entry of its own, the fallback's plus the EOP "other error" guidance.
pub struct Explanation<'a> {
    pub entry: Option<&'a Entry>,
    pub title: &'a str,
    pub summary: &'a str,
    pub causes: Vec<&'a str>,
    pub fixes: Vec<&'a str>,
    pub verify: Vec<&'a str>,
}

pub fn explain(entry_key: &str, known: bool, lang: Lang) -> Explanation<'static> {
    let cat = catalog::get();
    let entry = cat.by_key(entry_key);
    let t: Option<&Texts> = entry.map(|e| e.texts(lang));
    let mut x = Explanation {
        entry,
        title: t.map_or("", |t| t.title.as_str()),
        summary: t.map_or("", |t| t.summary.as_str()),
        causes: t.map_or_else(Vec::new, |t| t.causes.iter().map(String::as_str).collect()),
        fixes: t.map_or_else(Vec::new, |t| t.fixes.iter().map(String::as_str).collect()),
        verify: t.map_or_else(Vec::new, |t| t.verify.iter().map(String::as_str).collect()),
    };
    // a code without an entry of its own also gets the EOP "any other error" guidance
    if let Some(o) = cat
        .other()
        .filter(|o| !known && Some(o.code.as_str()) != entry.map(|e| e.code.as_str()))
    {
        let ot = o.texts(lang);
        if x.title.is_empty() {
            x.title = &ot.title;
            x.summary = &ot.summary;
        }
        for f in &ot.fixes {
            if !x.fixes.contains(&f.as_str()) {
                x.fixes.push(f);
            }
        }
    }
    x
}

/// A format's writer: takes findings as they come (in input order) and closes with totals.
pub trait Renderer {
    fn findings(&mut self, w: &mut dyn Write, batch: &[Finding]) -> io::Result<()>;
    fn warning(&mut self, _w: &mut dyn Write, _message: &str) -> io::Result<()> {
        Ok(())
    }
    fn finish(&mut self, w: &mut dyn Write, tally: &Tally) -> io::Result<()>;
}

pub fn renderer(format: Format, style: Style) -> Box<dyn Renderer> {
    match format {
        Format::Human => Box::new(human::Human::new(style)),
        Format::Json => Box::new(json::Json::new(style, false)),
        Format::Ndjson => Box::new(json::Json::new(style, true)),
    }
}
