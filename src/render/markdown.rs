//! `--format markdown`: a summary to paste into a ticket or a chat: totals, the failures by
//! category and code with their fixes, the failing destinations, what expires first.

use super::{Renderer, Style, Tally, expiry_text, explain_finding, reportable};
use crate::catalog::Lang;
use crate::deliveries::DeliveryReport;
use crate::extract::Finding;
use crate::time::rfc3339;
use std::io::{self, Write};

/// Makes text safe in a Markdown table cell or line: visible controls, no pipes, no
/// backticks, no HTML, no line breaks. Markup characters are backslash-escaped (not turned
/// into `&gt;` entities, which a chat that shows the text plain would print as they are).
pub fn md(s: &str) -> String {
    crate::sanitize::text(s)
        .replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('`', "\\`")
        .replace('<', "\\<")
        .replace('>', "\\>")
        .replace('*', "\\*")
        .replace('_', "\\_")
        .replace('[', "\\[")
        .replace(']', "\\]")
        // what GitHub-flavoured Markdown would turn into links where it is pasted: a URL,
        // a `www.` name, an address
        .replace("://", "\\://")
        .replace("www.", "www\\.")
        .replace('@', "\\@")
}

pub struct Markdown {
    style: Style,
    examples: Vec<Finding>,
}

impl Markdown {
    pub fn new(style: Style) -> Markdown {
        Markdown {
            style,
            examples: Vec::new(),
        }
    }
}

fn when(t: Option<i64>) -> String {
    t.map(rfc3339).unwrap_or_else(|| "-".into())
}

impl Renderer for Markdown {
    fn findings(&mut self, _w: &mut dyn Write, batch: &[Finding]) -> io::Result<()> {
        // one example line per entry, for the report
        for f in batch.iter().filter(|f| reportable(f)) {
            if !self
                .examples
                .iter()
                .any(|e| e.entry == f.entry && e.category == f.category)
                && self.examples.len() < 50
            {
                self.examples.push(f.clone());
            }
        }
        Ok(())
    }

    fn finish(
        &mut self,
        w: &mut dyn Write,
        t: &Tally,
        report: Option<&DeliveryReport>,
    ) -> io::Result<()> {
        let lang = self.style.lang;
        let ja = lang == Lang::Ja;
        let h = |en: &'static str, jp: &'static str| if ja { jp } else { en };
        writeln!(w, "## ndr-doctor {}", h("report", "レポート"))?;
        writeln!(w)?;
        write!(
            w,
            "**{}** {}, **{}** {}, {} {}",
            t.findings,
            h("findings", "件の検出"),
            t.root_causes,
            h("root causes", "件の根本原因"),
            t.inputs,
            h("inputs", "入力")
        )?;
        if let Some(r) = report {
            write!(
                w,
                "; {} {} ({})",
                r.count,
                h("deliveries", "配信"),
                super::state_counts(r, lang)
            )?;
        }
        writeln!(w)?;
        let Some(r) = report else { return w.flush() };
        if !r.categories.is_empty() {
            writeln!(w)?;
            writeln!(
                w,
                "### {}",
                h("Failures by category and code", "カテゴリとコード別の失敗")
            )?;
            writeln!(w)?;
            writeln!(
                w,
                "| {} | {} | {} | {} | {} | {} | {} |",
                h("Category", "カテゴリ"),
                h("Code", "コード"),
                h("Findings", "件数"),
                h("Messages", "メッセージ"),
                h("Recipients", "受信者"),
                h("First seen", "初回"),
                h("Last seen", "最終")
            )?;
            writeln!(w, "|---|---|---:|---:|---:|---|---|")?;
            for c in &r.categories {
                writeln!(
                    w,
                    "| {} | {} | {} | {} | {} | {} | {} |",
                    md(&c.category),
                    c.code.map_or_else(|| "-".to_string(), |c| c.to_string()),
                    c.findings,
                    c.messages,
                    c.recipients,
                    when(c.first_seen),
                    when(c.last_seen)
                )?;
            }
        }
        if !r.destinations.is_empty() {
            writeln!(w)?;
            writeln!(w, "### {}", h("Failing destinations", "失敗している宛先"))?;
            writeln!(w)?;
            writeln!(
                w,
                "| {} | {} | {} | {} |",
                h("Destination", "宛先"),
                h("Deliveries", "配信"),
                h("Problem", "問題"),
                h("Last seen", "最終")
            )?;
            writeln!(w, "|---|---:|---|---|")?;
            for d in r.destinations.iter().take(super::TOP_DESTINATIONS) {
                writeln!(
                    w,
                    "| {} | {} | {} | {} |",
                    md(&d.destination),
                    d.deliveries,
                    md(&d.top_category),
                    when(d.last_seen)
                )?;
            }
            let more = r.destinations.len().saturating_sub(super::TOP_DESTINATIONS);
            if more > 0 {
                writeln!(w)?;
                match lang {
                    Lang::En => writeln!(w, "... and {more} more destinations.")?,
                    Lang::Ja => writeln!(w, "... ほか {more} 件の宛先。")?,
                }
            }
        }
        let soon = &r.expiring;
        if !soon.is_empty() {
            writeln!(w)?;
            writeln!(w, "### {}", h("Expiring soonest", "期限切れが近い配信"))?;
            writeln!(w)?;
            for d in soon {
                writeln!(
                    w,
                    "- {} → {} ({}, {}, {} {}): {}",
                    md(d.message_id.unwrap_or("-")),
                    md(d.recipient.unwrap_or("-")),
                    d.last_code
                        .map_or_else(|| md(d.category), |c| c.to_string()),
                    d.reason,
                    d.attempts,
                    h("attempts", "回試行"),
                    expiry_text(d, r.now, lang)
                )?;
            }
        }
        if !self.examples.is_empty() {
            writeln!(w)?;
            writeln!(w, "### {}", h("What to do", "対処方法"))?;
            for f in &self.examples {
                let x = explain_finding(self.style.catalog, f, lang);
                let code = f.code.map_or_else(|| f.category.clone(), |c| c.to_string());
                writeln!(w)?;
                writeln!(
                    w,
                    "#### {} {} ({}, {})",
                    code,
                    md(x.title),
                    md(&f.category),
                    f.reason
                )?;
                writeln!(w)?;
                writeln!(w, "{}", md(x.summary))?;
                writeln!(w)?;
                writeln!(w, "> {}", md(&f.excerpt))?;
                writeln!(w)?;
                for (i, fix) in x.fixes.iter().enumerate() {
                    writeln!(w, "{}. {}", i + 1, md(&x.step(fix)))?;
                }
            }
        }
        w.flush()
    }
}

/// `explain --format markdown`: an entry as a section to paste into a ticket.
pub fn write_entry(
    w: &mut dyn Write,
    e: &crate::catalog::Entry,
    known: bool,
    style: Style,
) -> io::Result<()> {
    let lang = style.lang;
    let x = super::explain(style.catalog, &e.code, known, lang);
    let h = |en: &'static str, ja: &'static str| if lang == Lang::Ja { ja } else { en };
    writeln!(
        w,
        "### {} {} ({})",
        md(&e.code),
        md(x.title),
        md(&e.category)
    )?;
    writeln!(w)?;
    writeln!(w, "{}", md(x.summary))?;
    for (label, items, numbered) in [
        (h("Likely causes", "考えられる原因"), &x.causes, false),
        (h("How to fix it", "対処方法"), &x.fixes, true),
        (h("Check that it worked", "確認方法"), &x.verify, false),
    ] {
        if items.is_empty() {
            continue;
        }
        writeln!(w)?;
        writeln!(w, "**{label}**")?;
        writeln!(w)?;
        for (i, item) in items.iter().enumerate() {
            let item = md(&x.step(item));
            if numbered {
                writeln!(w, "{}. {item}", i + 1)?;
            } else {
                writeln!(w, "- {item}")?;
            }
        }
    }
    Ok(())
}

/// `codes --format markdown`: the listing as a table.
pub fn write_codes(
    w: &mut dyn Write,
    rows: &[(&crate::catalog::Entry, u16, &str)],
    lang: Lang,
) -> io::Result<()> {
    let h = |en: &'static str, ja: &'static str| if lang == Lang::Ja { ja } else { en };
    writeln!(
        w,
        "| {} | {} | {} | {} | {} |",
        h("Code", "コード"),
        h("Reply", "応答"),
        h("Severity", "重大度"),
        h("Category", "カテゴリ"),
        h("Title", "タイトル")
    )?;
    writeln!(w, "|---|---|---|---|---|")?;
    for (e, reply, severity) in rows {
        writeln!(
            w,
            "| {} | {reply} | {severity} | {} | {} |",
            md(&e.code),
            md(&e.category),
            md(&e.texts(lang).title)
        )?;
    }
    Ok(())
}
