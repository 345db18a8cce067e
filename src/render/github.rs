//! `--format github`: GitHub Actions workflow commands, one per root cause:
//! `::error` for permanent failures and expired deliveries, `::warning` for queued ones.
//! Data and properties are escaped by the workflow-command rules, so text from the input
//! can never end the command or start one of its own.

use super::{Renderer, Style, Tally, explain_finding, reportable};
use crate::deliveries::DeliveryReport;
use crate::extract::{Finding, State};
use std::io::{self, Write};

/// Escapes a command's message (`%`, CR, LF).
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value (`%`, CR, LF, `:` and `,`).
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

pub struct Github {
    style: Style,
}

impl Github {
    pub fn new(style: Style) -> Github {
        Github { style }
    }
}

impl Renderer for Github {
    fn findings(&mut self, w: &mut dyn Write, batch: &[Finding]) -> io::Result<()> {
        for f in batch.iter().filter(|f| reportable(f)) {
            let level = match (f.state, f.severity) {
                (State::Queued, _) => "warning",
                _ => "error",
            };
            let x = explain_finding(self.style.catalog, f, self.style.lang);
            let code = f.code.map_or_else(|| f.category.clone(), |c| c.to_string());
            let title = format!("{code} {}", x.title);
            let mut msg = format!(
                "{} ({}, {}, {})",
                f.category,
                f.state.as_str(),
                f.reason,
                crate::sanitize::text(&f.excerpt)
            );
            if let Some(r) = &f.recipient {
                msg.push_str(&format!(" recipient {}", crate::sanitize::text(r)));
            }
            if let Some(fix) = x.fixes.first() {
                msg.push_str(&format!(" | fix: {}", x.step(fix)));
            }
            writeln!(
                w,
                "::{level} file={},line={},title={}::{}",
                escape_property(&crate::sanitize::text(&f.path)),
                f.line,
                escape_property(&title),
                escape_data(&msg)
            )?;
        }
        Ok(())
    }

    fn finish(
        &mut self,
        w: &mut dyn Write,
        t: &Tally,
        report: Option<&DeliveryReport>,
    ) -> io::Result<()> {
        let mut line = format!(
            "ndr-doctor: {} findings, {} root causes in {} inputs",
            t.findings, t.root_causes, t.inputs
        );
        if let Some(r) = report {
            line.push_str(&format!(
                "; {} deliveries ({})",
                r.count,
                super::state_counts(r, self.style.lang)
            ));
        }
        writeln!(w, "::notice title=ndr-doctor::{}", escape_data(&line))?;
        w.flush()
    }
}

/// `explain --format github`: an entry as a notice annotation (its title, meaning and first
/// fix), for a workflow step that explains a code it met.
pub fn write_entry(
    w: &mut dyn Write,
    e: &crate::catalog::Entry,
    known: bool,
    style: Style,
) -> io::Result<()> {
    let lang = style.lang;
    let x = super::explain(style.catalog, &e.code, known, lang);
    let mut msg = x.summary.to_string();
    if let Some(fix) = x.fixes.first() {
        msg.push_str(&format!(" | fix: {}", x.step(fix)));
    }
    writeln!(
        w,
        "::notice title={}::{}",
        escape_property(&format!("{} {}", e.code, x.title)),
        escape_data(&msg)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_follows_the_workflow_command_rules() {
        assert_eq!(
            escape_data("50% done\r\n::error::x"),
            "50%25 done%0D%0A::error::x"
        );
        assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
    }
}
