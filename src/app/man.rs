//! `man`: the manual page, in roff, from the command line's own definition.

use super::cli::Cli;
use std::io::{self, Write};

/// The manual page: the main command's sections, then one section per subcommand with its own
/// options (one page, so it names no `ndr-doctor-explain(1)` pages that are not installed).
pub fn page(out: &mut dyn Write) -> io::Result<()> {
    let cmd = <Cli as clap::CommandFactory>::command();
    let man = clap_mangen::Man::new(cmd.clone());
    man.render_title(out)?;
    man.render_name_section(out)?;
    man.render_synopsis_section(out)?;
    man.render_description_section(out)?;
    man.render_options_section(out)?;
    writeln!(out, ".SH COMMANDS")?;
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        writeln!(out, ".SS \"ndr\\-doctor {}\"", roff(sub.get_name()))?;
        if let Some(about) = sub.get_long_about().or(sub.get_about()) {
            writeln!(out, ".PP\n{}", roff(&about.to_string()))?;
        }
        for arg in sub.get_arguments().filter(|a| !a.is_hide_set()) {
            let value = arg
                .get_value_names()
                .and_then(|v| v.first())
                .map(|v| v.to_string())
                .unwrap_or_else(|| arg.get_id().to_string().to_uppercase());
            let takes_value = arg.get_action().takes_values();
            let mut head = String::new();
            if let Some(c) = arg.get_short() {
                head.push_str(&format!("\\fB\\-{c}\\fR, "));
            }
            match arg.get_long() {
                Some(l) => {
                    head.push_str(&format!("\\fB\\-\\-{}\\fR", roff(l)));
                    if takes_value {
                        head.push_str(&format!(" <{}>", roff(&value)));
                    }
                }
                None => head.push_str(&format!("<{}>", roff(&value))),
            }
            let help = arg
                .get_long_help()
                .or(arg.get_help())
                .map(|h| h.to_string())
                .unwrap_or_default();
            writeln!(out, ".TP\n{head}\n{}", roff(&help))?;
        }
    }
    man.render_extra_section(out)?;
    man.render_version_section(out)
}

/// Text made safe for roff: backslashes escaped, no line starting with a control character.
fn roff(s: &str) -> String {
    s.replace('\\', "\\e")
        .replace('-', "\\-")
        .lines()
        .map(|l| {
            if l.starts_with('.') || l.starts_with('\'') {
                format!("\\&{l}")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}
