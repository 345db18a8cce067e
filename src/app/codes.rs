//! `codes`: the catalog's codes as a table, filtered by words, class or source.

use super::cli::Format;
use super::exit::{EXIT_FINDING, EXIT_OK, usage_error};
use crate::render::{self, Style};
use crate::{catalog, sanitize};
use std::io::Write;

/// Whether an entry serves a class given as `2`, `4`, `5` or `X`.
fn serves_class(e: &catalog::Entry, class: &str) -> bool {
    let head = e.code.chars().next().unwrap_or(' ');
    match class.to_ascii_uppercase().as_str() {
        "X" => head == 'X',
        c @ ("4" | "5") => head == 'X' || c.starts_with(head),
        "2" => head == '2',
        _ => false,
    }
}

fn matches_words(e: &catalog::Entry, words: &[String]) -> bool {
    let hay = [
        e.code.as_str(),
        e.category.as_str(),
        e.en.title.as_str(),
        e.ja.title.as_str(),
        e.en.summary.as_str(),
        e.ja.summary.as_str(),
        e.registry_title.as_deref().unwrap_or(""),
    ]
    .join("\n")
    .to_lowercase();
    words.iter().all(|w| hay.contains(&w.to_lowercase()))
}

pub fn command(
    out: &mut dyn Write,
    query: &[String],
    class: Option<&str>,
    source: Option<&str>,
    format: Format,
    style: Style,
) -> anyhow::Result<u8> {
    if let Some(c) = class.filter(|c| !["2", "4", "5", "x", "X"].contains(c)) {
        return usage_error(&format!(
            "--class {}: expected 2, 4, 5 or X",
            sanitize::text(c)
        ));
    }
    let cat = style.catalog;
    let entries: Vec<&catalog::Entry> = cat
        .entries()
        .into_iter()
        .filter(|e| class.is_none_or(|c| serves_class(e, c)))
        .filter(|e| source.is_none_or(|s| e.source == s))
        .filter(|e| matches_words(e, query))
        .collect();
    // a class-less (X) entry listed for `--class 4` or `5` is shown in that class
    let as_class = class.and_then(|c| c.parse::<u8>().ok());
    let shown = |e: &catalog::Entry| -> (u16, &'static str) {
        match as_class {
            Some(4) if e.code.starts_with('X') => (450, "transient"),
            Some(5) if e.code.starts_with('X') => (550, "permanent"),
            _ => (e.reply, e.severity.as_str()),
        }
    };
    match format {
        Format::Markdown => {
            let rows: Vec<(&catalog::Entry, u16, &str)> = entries
                .iter()
                .map(|e| {
                    let (reply, severity) = shown(e);
                    (*e, reply, severity)
                })
                .collect();
            render::markdown::write_codes(out, &rows, style.lang)?;
        }
        Format::Human | Format::Github => {
            for e in &entries {
                let (reply, severity) = shown(e);
                let line = format!(
                    "{:<14} {:>3}  {:<9}  {:<32} {}",
                    e.code,
                    reply,
                    severity,
                    e.category,
                    sanitize::text(&e.texts(style.lang).title)
                );
                // one line per code, cut to the width (the human output's wrapping would
                // break a list meant for grep)
                writeln!(out, "{}", render::wrap::cut(&line, style.width))?;
            }
        }
        Format::Json => {
            let s = render::json::codes_json(&entries)?;
            writeln!(out, "{s}")?;
        }
        Format::Ndjson => {
            for e in &entries {
                let s = render::json::to_safe_string(e, false)?;
                writeln!(out, "{s}")?;
            }
        }
    }
    Ok(if entries.is_empty() {
        EXIT_FINDING
    } else {
        EXIT_OK
    })
}
