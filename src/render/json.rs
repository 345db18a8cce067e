//! `--format json` (one document at the end) and `--format ndjson` (one finding per line,
//! written as found). The finding object is the contract documented in the README.

use super::{Renderer, Style, Tally, explain};
use crate::catalog::{Entry, Lang};
use crate::extract::Finding;
use crate::sanitize::json_escape_extra;
use serde::Serialize;
use std::io::{self, Write};

/// The finding object (schema 1). Field names are a contract: extend, never rename.
#[derive(Serialize)]
pub struct FindingJson<'a> {
    pub path: &'a str,
    pub message: usize,
    pub line: u64,
    pub code: Option<String>,
    pub reply: Option<u16>,
    pub entry: &'a str,
    pub known: bool,
    pub category: &'a str,
    pub severity: &'static str,
    pub state: &'static str,
    pub title: &'a str,
    pub root_cause: bool,
    pub recipient: Option<&'a str>,
    pub remote_host: Option<&'a str>,
    pub remote_ip: Option<&'a str>,
    pub timestamp: Option<&'a str>,
    pub message_id: Option<&'a str>,
    pub excerpt: &'a str,
    pub causes: Vec<&'a str>,
    pub fixes: Vec<&'a str>,
    // extensions of schema 1
    pub remote_reply: Option<&'a str>,
    pub symptom: Option<&'a str>,
    pub nested: bool,
    pub verify: Vec<&'a str>,
}

impl<'a> FindingJson<'a> {
    pub fn new(f: &'a Finding, lang: Lang) -> FindingJson<'a> {
        let x = explain(&f.entry, f.known, lang);
        FindingJson {
            path: &f.path,
            message: f.message,
            line: f.line,
            code: f.code.map(|c| c.to_string()),
            reply: f.reply,
            entry: &f.entry,
            known: f.known,
            category: &f.category,
            severity: f.severity.as_str(),
            state: f.state.as_str(),
            title: x.title,
            root_cause: f.root_cause,
            recipient: f.recipient.as_deref(),
            remote_host: f.remote_host.as_deref(),
            remote_ip: f.remote_ip.as_deref(),
            timestamp: f.timestamp.as_deref(),
            message_id: f.message_id.as_deref(),
            excerpt: &f.excerpt,
            causes: x.causes,
            fixes: x.fixes,
            remote_reply: f.remote_reply.as_deref(),
            symptom: f.symptom.as_deref(),
            nested: f.nested,
            verify: x.verify,
        }
    }
}

/// Serializes a value and escapes what serde_json leaves raw but a terminal would obey.
pub fn to_safe_string<T: Serialize>(v: &T, pretty: bool) -> io::Result<String> {
    let s = if pretty {
        serde_json::to_string_pretty(v)
    } else {
        serde_json::to_string(v)
    };
    let s = s.map_err(io::Error::other)?;
    Ok(json_escape_extra(&s).into_owned())
}

pub struct Json {
    style: Style,
    stream: bool,
    collected: Vec<Finding>,
    warnings: Vec<String>,
}

impl Json {
    pub fn new(style: Style, stream: bool) -> Json {
        Json {
            style,
            stream,
            collected: Vec::new(),
            warnings: Vec::new(),
        }
    }
}

#[derive(Serialize)]
struct Summary<'a> {
    inputs: usize,
    findings: usize,
    root_causes: usize,
    by_code: &'a std::collections::BTreeMap<String, usize>,
    by_category: &'a std::collections::BTreeMap<String, usize>,
    by_state: &'a std::collections::BTreeMap<String, usize>,
    errors: &'a [String],
    warnings: &'a [String],
}

#[derive(Serialize)]
struct Document<'a> {
    schema: u32,
    findings: Vec<FindingJson<'a>>,
    summary: Summary<'a>,
}

impl Renderer for Json {
    fn findings(&mut self, w: &mut dyn Write, batch: &[Finding]) -> io::Result<()> {
        if self.stream {
            for f in batch {
                let line = to_safe_string(&FindingJson::new(f, self.style.lang), false)?;
                w.write_all(line.as_bytes())?;
                w.write_all(b"\n")?;
            }
        } else {
            self.collected.extend_from_slice(batch);
        }
        Ok(())
    }

    fn warning(&mut self, _w: &mut dyn Write, message: &str) -> io::Result<()> {
        self.warnings.push(message.to_string());
        Ok(())
    }

    fn finish(&mut self, w: &mut dyn Write, tally: &Tally) -> io::Result<()> {
        if self.stream {
            return w.flush();
        }
        let doc = Document {
            schema: 1,
            findings: self
                .collected
                .iter()
                .map(|f| FindingJson::new(f, self.style.lang))
                .collect(),
            summary: Summary {
                inputs: tally.inputs,
                findings: tally.findings,
                root_causes: tally.root_causes,
                by_code: &tally.by_code,
                by_category: &tally.by_category,
                by_state: &tally.by_state,
                errors: &tally.errors,
                warnings: &self.warnings,
            },
        };
        let s = to_safe_string(&doc, true)?;
        w.write_all(s.as_bytes())?;
        w.write_all(b"\n")?;
        w.flush()
    }
}

/// An entry as `explain --format json` prints it: the whole entry plus how it was matched.
#[derive(Serialize)]
pub struct ExplainJson<'a> {
    pub query: &'a str,
    pub code: String,
    pub entry: &'a str,
    pub known: bool,
    #[serde(rename = "match")]
    pub how: &'static str,
    pub state: &'static str,
    pub category: &'a str,
    pub severity: &'static str,
    pub title: &'a str,
    pub summary: &'a str,
    pub causes: Vec<&'a str>,
    pub fixes: Vec<&'a str>,
    pub verify: Vec<&'a str>,
    pub details: &'a Entry,
}

pub fn explain_json(items: &[ExplainJson<'_>]) -> io::Result<String> {
    to_safe_string(&items, true)
}

/// The whole catalog as `codes --format json` prints it.
pub fn codes_json(entries: &[&Entry]) -> io::Result<String> {
    #[derive(Serialize)]
    struct Out<'a> {
        schema: u32,
        codes: &'a [&'a Entry],
    }
    to_safe_string(
        &Out {
            schema: 1,
            codes: entries,
        },
        true,
    )
}
