//! The application layer: the command line (clap), one module per command turning its
//! arguments into the libraries' options, the choice of renderer, and exit statuses. The
//! libraries below it (input, extract, deliveries, probe, render) know nothing of clap or of
//! exit codes.

mod cli;
mod codes;
mod diagnose;
mod exit;
mod explain;
mod man;
mod output;
mod probe;

pub use exit::{EXIT_ERROR, EXIT_FINDING, EXIT_OK};

use crate::catalog::{self, Catalog};
use crate::{input, render, sanitize};
use clap::Parser;
use cli::{Cli, ColorChoice, Command, Format, LangArg};
use exit::note;
use render::Style;
use std::ffi::OsString;
use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;

/// Runs the command line and returns the exit status.
pub fn run<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        // a value its flag's parser refused: one line, as every other usage error
        Err(e) if e.kind() == clap::error::ErrorKind::ValueValidation => {
            note(format_args!("{}", refused_value(&e)));
            return ExitCode::from(EXIT_ERROR);
        }
        Err(e) if e.use_stderr() => {
            let _ = e.print();
            return ExitCode::from(EXIT_ERROR);
        }
        // --help and --version: written like any output, so a failed write is an error
        // (a closed pipe stays a quiet exit)
        Err(e) => {
            let text = e.render().to_string();
            let mut out = io::stdout().lock();
            return match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
                Ok(()) => ExitCode::from(EXIT_OK),
                Err(w) if w.kind() == io::ErrorKind::BrokenPipe => ExitCode::from(EXIT_OK),
                Err(w) => {
                    note(format_args!("{w}"));
                    ExitCode::from(EXIT_ERROR)
                }
            };
        }
    };
    if let Err(e) = catalog::builtin() {
        note(format_args!("the built-in catalog is broken: {e}"));
        return ExitCode::from(EXIT_ERROR);
    }
    let catalog = match load_catalog(&cli.catalog) {
        Ok(c) => c,
        Err(msg) => {
            note(format_args!("{msg}"));
            return ExitCode::from(EXIT_ERROR);
        }
    };
    let stdout = io::stdout();
    let style = Style {
        catalog,
        lang: resolve_lang(cli.lang),
        color: decide_color(cli.color),
        width: cli.width.map(usize::from).unwrap_or_else(|| {
            terminal_size::terminal_size_of(&stdout)
                .filter(|_| stdout.is_terminal())
                .map_or(render::DEFAULT_WIDTH, |(w, _)| usize::from(w.0).max(20))
        }),
    };
    colored::control::set_override(style.color);
    // the human output is for reading: wrapped to the terminal (or --width); into a file
    // or a pipe, on a thread of its own (wrapping costs as much as rendering)
    let human = cli.format == Format::Human;
    let mut out: Box<dyn Write> = match (stdout.is_terminal(), human) {
        (true, false) => Box::new(io::LineWriter::new(stdout.lock())),
        (true, true) => Box::new(render::wrap::Wrap::new(
            io::LineWriter::new(stdout.lock()),
            style.width,
        )),
        (false, false) => Box::new(io::BufWriter::with_capacity(64 * 1024, stdout.lock())),
        (false, true) => Box::new(output::WrapThread::new(style.width)),
    };
    let result = match &cli.command {
        Some(Command::Explain { codes }) => explain::command(&mut out, codes, cli.format, style),
        Some(Command::Codes {
            query,
            class,
            source,
        }) => codes::command(
            &mut out,
            query,
            class.as_deref(),
            source.as_deref(),
            cli.format,
            style,
        ),
        Some(Command::Completions { shell }) => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(*shell, &mut cmd, "ndr-doctor", &mut out);
            Ok(EXIT_OK)
        }
        Some(Command::Man) => man::page(&mut out).map(|_| EXIT_OK).map_err(Into::into),
        Some(Command::Probe(args)) => probe::command(&mut out, args, cli.format, style),
        None => diagnose::command(&mut out, &cli, style),
    };
    let result = result.and_then(|code| Ok(out.flush().map(|_| code)?));
    match result {
        Ok(code) => ExitCode::from(code),
        // a closed output pipe (`| head`) is a quiet end
        Err(e)
            if e.chain().any(|c| {
                c.downcast_ref::<io::Error>()
                    .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
            }) =>
        {
            ExitCode::from(EXIT_OK)
        }
        Err(e) => {
            note(format_args!("{}", sanitize::text(&format!("{e:#}"))));
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// `--flag VALUE: why`, from a value that a flag's parser refused (clap's own rendering
/// takes three lines and strips the value's escape sequences rather than show them).
fn refused_value(e: &clap::Error) -> String {
    use clap::error::{ContextKind, ContextValue};
    let text = |kind| match e.get(kind) {
        Some(ContextValue::String(s)) => Some(s.as_str()),
        _ => None,
    };
    let why = std::error::Error::source(e).map(|s| s.to_string());
    match (
        text(ContextKind::InvalidArg),
        text(ContextKind::InvalidValue),
        why,
    ) {
        (Some(arg), Some(value), Some(why)) => format!(
            "{} {}: {why}",
            arg.split(' ').next().unwrap_or(arg),
            sanitize::text(value)
        ),
        _ => {
            let rendered = e.render().to_string();
            let first = rendered.lines().next().unwrap_or_default();
            sanitize::text(first.strip_prefix("error: ").unwrap_or(first)).into_owned()
        }
    }
}

/// The catalog of this run: the built-in one, with the local runbook files (NDR_DOCTOR_CATALOG,
/// then `--catalog`) laid over it. A mistake in one is an error naming the file, line and
/// column. It lives as long as the process (every stage is handed a reference to it).
fn load_catalog(args: &[std::path::PathBuf]) -> Result<&'static Catalog, String> {
    let mut paths: Vec<std::path::PathBuf> = std::env::var_os("NDR_DOCTOR_CATALOG")
        .map(|v| {
            std::env::split_paths(&v)
                .filter(|p| !p.as_os_str().is_empty())
                .collect()
        })
        .unwrap_or_default();
    paths.extend(args.iter().cloned());
    let builtin = catalog::builtin().map_err(|e| e.to_string())?;
    if paths.is_empty() {
        return Ok(builtin);
    }
    let mut cat = builtin.clone();
    for p in &paths {
        let name = input::path_text(p);
        let text = read_runbook(p).map_err(|e| format!("{}: {e}", sanitize::text(&name)))?;
        cat.overlay(&name, &text)
            .map_err(|e| sanitize::text(&e.to_string()).into_owned())?;
    }
    // one per process, made once: kept for the whole run like the built-in one
    Ok(Box::leak(Box::new(cat)))
}

/// A local runbook larger than this is refused: it is JSON written by hand, and a wrong path
/// (a log, a device) must not be read into memory whole.
const MAX_RUNBOOK: u64 = 16 << 20;

fn read_runbook(p: &std::path::Path) -> io::Result<String> {
    use std::io::Read;
    let mut text = String::new();
    std::fs::File::open(p)?
        .take(MAX_RUNBOOK + 1)
        .read_to_string(&mut text)?;
    if text.len() as u64 > MAX_RUNBOOK {
        return Err(io::Error::other(format!(
            "larger than {} MiB: not a runbook",
            MAX_RUNBOOK >> 20
        )));
    }
    Ok(text)
}

/// `--lang`, else LC_ALL, LC_MESSAGES, LANG (the first that is set and not empty).
fn resolve_lang(arg: Option<LangArg>) -> catalog::Lang {
    match arg {
        Some(LangArg::En) => catalog::Lang::En,
        Some(LangArg::Ja) => catalog::Lang::Ja,
        None => {
            let v = ["LC_ALL", "LC_MESSAGES", "LANG"]
                .iter()
                .filter_map(|k| std::env::var(k).ok())
                .find(|v| !v.is_empty())
                .unwrap_or_default();
            if v.to_ascii_lowercase().starts_with("ja") {
                catalog::Lang::Ja
            } else {
                catalog::Lang::En
            }
        }
    }
}

/// Colour, decided once: `--color`, then NO_COLOR, CLICOLOR_FORCE, TERM=dumb, a terminal.
fn decide_color(choice: ColorChoice) -> bool {
    let set = |k: &str| std::env::var_os(k).is_some_and(|v| !v.is_empty());
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            if set("NO_COLOR") {
                false
            } else if set("CLICOLOR_FORCE")
                && std::env::var_os("CLICOLOR_FORCE").is_some_and(|v| v != "0")
            {
                true
            } else if std::env::var_os("TERM").is_some_and(|v| v == "dumb") {
                false
            } else {
                io::stdout().is_terminal()
            }
        }
    }
}
