//! `explain CODE...`: the catalog's explanation of codes given on the command line.

use super::cli::Format;
use super::exit::{EXIT_ERROR, EXIT_OK, note};
use crate::render::{self, Style};
use crate::{catalog, sanitize};
use std::io::Write;

/// Joins `450 4.4.316` given as two words back into one spelling.
fn join_spellings(words: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let w = words[i].trim();
        if w.len() == 3 && w.bytes().all(|b| b.is_ascii_digit()) && i + 1 < words.len() {
            out.push(format!("{w} {}", words[i + 1].trim()));
            i += 2;
        } else {
            out.push(w.to_string());
            i += 1;
        }
    }
    out
}

pub fn command(
    out: &mut dyn Write,
    words: &[String],
    format: Format,
    style: Style,
) -> anyhow::Result<u8> {
    let cat = style.catalog;
    let mut items = Vec::new();
    let mut bad = false;
    for q in join_spellings(words) {
        let found = match catalog::Code::parse_spelling(&q) {
            Some((code, _)) => cat.lookup(code).map(|l| (code, l)),
            None => cat.by_key(q.trim()).map(|e| {
                let code = catalog::Code::parse(e.code.split('-').next().unwrap_or(""))
                    .unwrap_or(catalog::Code::new(0, 0, 0));
                (
                    code,
                    catalog::Lookup {
                        entry: e,
                        how: catalog::Match::Exact,
                    },
                )
            }),
        };
        match found {
            Some(x) => items.push((q, x)),
            None => {
                note(format_args!(
                    "`{}` is not a status code (expected e.g. 4.4.316, \"450 4.4.316\" or X.1.1)",
                    sanitize::text(&q)
                ));
                bad = true;
            }
        }
    }
    match format {
        Format::Human => {
            for (i, (q, (code, l))) in items.iter().enumerate() {
                if i > 0 {
                    writeln!(out)?;
                }
                let class = (code.class != 0).then_some(code.class);
                render::human::write_entry(out, q, l.entry, l.how, class, style)?;
            }
        }
        Format::Markdown => {
            for (i, (_, (_, l))) in items.iter().enumerate() {
                if i > 0 {
                    writeln!(out)?;
                }
                render::markdown::write_entry(out, l.entry, l.how.known(), style)?;
            }
        }
        Format::Github => {
            for (_, (_, l)) in &items {
                render::github::write_entry(out, l.entry, l.how.known(), style)?;
            }
        }
        Format::Json | Format::Ndjson => {
            let objs: Vec<render::json::ExplainJson<'_>> = items
                .iter()
                .map(|(q, (code, l))| {
                    let x =
                        render::explain(style.catalog, &l.entry.code, l.how.known(), style.lang);
                    let sev = catalog::Severity::of_class(code.class).unwrap_or(l.entry.severity);
                    render::json::ExplainJson {
                        query: q,
                        code: code.to_string(),
                        entry: &l.entry.code,
                        known: l.how.known(),
                        how: match l.how {
                            catalog::Match::Exact => "exact",
                            catalog::Match::Range => "range",
                            catalog::Match::Registry => "registry",
                            catalog::Match::Subject => "subject",
                            catalog::Match::Class => "class",
                        },
                        state: match (
                            code.class,
                            l.entry.also.iter().any(|a| *a == code.to_string()),
                        ) {
                            (2, _) => "delivered",
                            (5, true) => "expired",
                            (5, false) => "failed",
                            _ => "queued",
                        },
                        category: if l.how.known() {
                            &l.entry.category
                        } else {
                            catalog::OTHER
                        },
                        severity: sev.as_str(),
                        title: x.title,
                        summary: x.summary,
                        causes: x.causes,
                        fixes: x.fixes,
                        verify: x.verify,
                        details: l.entry,
                    }
                })
                .collect();
            if format == Format::Ndjson {
                for o in &objs {
                    let s = render::json::to_safe_string(o, false)?;
                    writeln!(out, "{s}")?;
                }
            } else {
                let s = render::json::explain_json(&objs)?;
                writeln!(out, "{s}")?;
            }
        }
    }
    Ok(if bad { EXIT_ERROR } else { EXIT_OK })
}
