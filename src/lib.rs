//! ndr-doctor: explains why a mail message was not delivered and what to do about it.
//!
//! Data flows one way: `input` (bytes in, kinds, documents) -> `extract` (findings) ->
//! `render` (formats). `catalog` is a leaf that any stage may read; `sanitize` makes
//! untrusted text safe to show.

pub mod catalog;
pub mod cli;
pub mod extract;
pub mod input;
pub mod pipeline;
pub mod policy;
pub mod probe;
pub mod queue;
pub mod re;
pub mod reasons;
pub mod redact;
pub mod render;
pub mod runbook;
pub mod sanitize;
pub mod time;

use clap::Parser;
use cli::{Cli, ColorChoice, Command, LangArg};
use render::{Format, Style, Tally};
use std::ffi::OsString;
use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;

/// Exit status when no finding matched `--fail-on`.
pub const EXIT_OK: u8 = 0;
/// Exit status when a finding matched `--fail-on`.
pub const EXIT_FINDING: u8 = 1;
/// Exit status on a usage or input error.
pub const EXIT_ERROR: u8 = 2;

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
    if let Err(msg) = load_overlays(&cli.catalog) {
        note(format_args!("{msg}"));
        return ExitCode::from(EXIT_ERROR);
    }
    let stdout = io::stdout();
    let style = Style {
        lang: resolve_lang(cli.lang),
        color: decide_color(cli.color),
        width: cli.width.map(usize::from).unwrap_or_else(|| {
            terminal_size::terminal_size_of(&stdout)
                .filter(|_| stdout.is_terminal())
                .map_or(render::DEFAULT_WIDTH, |(w, _)| usize::from(w.0).max(20))
        }),
    };
    colored::control::set_override(style.color);
    let mut out: Box<dyn Write> = if stdout.is_terminal() {
        Box::new(io::LineWriter::new(stdout.lock()))
    } else {
        Box::new(io::BufWriter::with_capacity(64 * 1024, stdout.lock()))
    };
    // the human output is for reading: wrapped to the terminal (or --width)
    if cli.format == render::Format::Human {
        out = Box::new(render::wrap::Wrap::new(out, style.width));
    }
    let result = match &cli.command {
        Some(Command::Explain { codes }) => explain(&mut out, codes, cli.format, style),
        Some(Command::Codes {
            query,
            class,
            source,
        }) => list_codes(
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
        Some(Command::Man) => man_page(&mut out).map(|_| EXIT_OK),
        Some(Command::Probe(args)) => probe::command(&mut out, args, cli.format, style),
        None => diagnose(&mut out, &cli, style),
    };
    let result = result.and_then(|code| out.flush().map(|_| code));
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::from(EXIT_OK),
        Err(e) => {
            note(format_args!("{}", sanitize::text(&e.to_string())));
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

/// Lays the local runbook files (NDR_DOCTOR_CATALOG, then `--catalog`) over the built-in
/// catalog. A mistake in one is an error naming the file, line and column.
fn load_overlays(args: &[std::path::PathBuf]) -> Result<(), String> {
    let mut paths: Vec<std::path::PathBuf> = std::env::var_os("NDR_DOCTOR_CATALOG")
        .map(|v| {
            std::env::split_paths(&v)
                .filter(|p| !p.as_os_str().is_empty())
                .collect()
        })
        .unwrap_or_default();
    paths.extend(args.iter().cloned());
    if paths.is_empty() {
        return Ok(());
    }
    let mut cat = catalog::builtin().map_err(|e| e.to_string())?.clone();
    for p in &paths {
        let name = input::path_text(p);
        let text = read_runbook(p).map_err(|e| format!("{}: {e}", sanitize::text(&name)))?;
        cat.overlay(&name, &text)
            .map_err(|e| sanitize::text(&e.to_string()).into_owned())?;
    }
    catalog::install(cat);
    Ok(())
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

/// Writes `ndr-doctor: MSG` to standard error. A closed standard error (`2>&1 | head`) is
/// ignored rather than a panic, as `eprintln!` would make it.
fn note(msg: std::fmt::Arguments<'_>) {
    let _ = writeln!(io::stderr().lock(), "ndr-doctor: {msg}");
}

fn usage_error(msg: &str) -> io::Result<u8> {
    note(format_args!("{msg}"));
    Ok(EXIT_ERROR)
}

fn diagnose(out: &mut dyn Write, cli: &Cli, style: Style) -> io::Result<u8> {
    let args = &cli.diagnose;
    let policy = match policy::FailOn::parse(&args.fail_on) {
        Ok(p) => p,
        Err(msg) => return usage_error(&msg),
    };
    let now = args.now.unwrap_or_else(time::system_now);
    let fields = match &args.fields {
        None => None,
        Some(list) => {
            let mut keys = Vec::new();
            for k in list.split(',').map(str::trim).filter(|k| !k.is_empty()) {
                match render::json::FINDING_KEYS.iter().find(|f| **f == k) {
                    Some(f) => keys.push(*f),
                    None => {
                        return usage_error(&format!(
                            "--fields: `{}` is not a key of a finding (keys: {})",
                            sanitize::text(k),
                            render::json::FINDING_KEYS.join(", ")
                        ));
                    }
                }
            }
            if keys.is_empty() {
                return usage_error("--fields: no key given");
            }
            if !matches!(cli.format, Format::Json | Format::Ndjson) {
                return usage_error("--fields works with --format json or ndjson");
            }
            Some(keys)
        }
    };
    // at most 100 years (the flag's parser): whole seconds fit
    let retry_window = args.retry_window.map(|d| d.as_secs() as i64);
    let grouping = render::needs_report(cli.format, args.summary) || args.fail_on_count.is_some();
    // success reports settle deliveries; they are shown only with --all
    let opts = extract::Options {
        all: args.all || grouping,
        successes_settle_only: grouping && !args.all,
        now,
    };
    let (sources, errors) = input::expand(&args.paths);
    let mut tally = Tally::default();
    let mut had_error = false;
    for e in errors {
        note(format_args!("{e}"));
        tally.errors.push(e.to_string());
        had_error = true;
    }
    if sources.contains(&input::Source::Stdin) && io::stdin().is_terminal() {
        let hint = match style.lang {
            catalog::Lang::En => "paste the bounce message, then press Ctrl-D",
            catalog::Lang::Ja => "バウンス メッセージを貼り付けてから Ctrl-D を押してください",
        };
        note(format_args!("{hint}"));
    }
    let mut st = Output {
        out,
        renderer: render::renderer(cli.format, style, args.summary, fields),
        timeline: grouping.then(|| queue::Timeline::new(retry_window, now)),
        redactor: args.redact.then(redact::Redactor::new),
        tally,
        policy: &policy,
        all: args.all,
        direction: match args.direction {
            cli::DirectionArg::Outbound => Some(extract::Direction::Outbound),
            cli::DirectionArg::Inbound => Some(extract::Direction::Inbound),
            cli::DirectionArg::Both => None,
        },
        failed: false,
        cuts: Default::default(),
        platform: args.platform.map(cli::PlatformArg::name),
    };
    std::thread::scope(|scope| -> io::Result<()> {
        let warm = sources.len() > 1;
        let mut pool = pipeline::Pool::start(scope, pipeline::workers(), opts, warm);
        for src in &sources {
            // opening a FIFO (or reading standard input) can wait for a writer: everything
            // found in the inputs before it is shown first
            if src.may_block() {
                pool.flush(&mut |d| st.done(d))?;
                st.out.flush()?;
            }
            st.tally.inputs += 1;
            let path: std::sync::Arc<str> = std::sync::Arc::from(src.display());
            let mut each = |unit: input::Unit| -> io::Result<()> {
                let job = match unit {
                    input::Unit::Lines { buf, first_line } => pipeline::Job::Lines {
                        buf,
                        first_line,
                        path: path.clone(),
                    },
                    input::Unit::Document { doc, message } => pipeline::Job::Document {
                        doc,
                        message,
                        path: path.clone(),
                    },
                    input::Unit::Message {
                        raw,
                        first_line,
                        message,
                        in_mbox,
                    } => pipeline::Job::Message {
                        raw,
                        first_line,
                        message,
                        in_mbox,
                        path: path.clone(),
                    },
                    input::Unit::Record(rec) => pipeline::Job::Record {
                        rec,
                        path: path.clone(),
                    },
                    input::Unit::Warning(w) => {
                        // what came before the warning is shown before it
                        pool.flush(&mut |d| st.done(d))?;
                        return st.warning(w);
                    }
                    input::Unit::Idle => {
                        // a live pipe went quiet: show everything found so far
                        pool.flush(&mut |d| st.done(d))?;
                        return st.out.flush();
                    }
                };
                pool.submit(job, &mut |d| st.done(d))
            };
            match input::read(src, &mut each) {
                Ok(Ok(())) => {}
                Ok(Err(output_error)) => return Err(output_error),
                Err(e) => {
                    pool.flush(&mut |d| st.done(d))?;
                    let msg = match st.redactor.as_mut() {
                        Some(r) => r.text(&e.to_string()),
                        None => e.to_string(),
                    };
                    note(format_args!("{msg}"));
                    st.tally.errors.push(msg);
                    had_error = true;
                }
            }
            // once this input's jobs are passed on: what the extraction limits cut in it
            pool.submit(pipeline::Job::End { path }, &mut |d| st.done(d))?;
        }
        pool.flush(&mut |d| st.done(d))
    })?;
    let timeline = st.timeline.take();
    let report = timeline.as_ref().map(queue::Timeline::report);
    st.renderer.finish(st.out, &st.tally, report.as_ref())?;
    let mut failed = st.failed;
    if let (Some(n), Some(r)) = (args.fail_on_count, report.as_ref()) {
        let mut matching = r
            .deliveries()
            .filter(|d| policy.matches_delivery(d))
            .count();
        if policy.matches_clean_delivery() {
            matching += r.delivered_without_failure;
        }
        let matching = matching as u64;
        failed = matching >= n.max(1);
    }
    Ok(if had_error {
        EXIT_ERROR
    } else if failed {
        EXIT_FINDING
    } else {
        EXIT_OK
    })
}

/// Everything that takes findings in input order: redaction, deliveries, totals, output.
struct Output<'a> {
    out: &'a mut dyn Write,
    renderer: Box<dyn render::Renderer>,
    timeline: Option<queue::Timeline>,
    redactor: Option<redact::Redactor>,
    tally: Tally,
    policy: &'a policy::FailOn,
    all: bool,
    /// Only findings of this direction (None: both).
    direction: Option<extract::Direction>,
    failed: bool,
    /// What the extraction limits cut in the current input so far.
    cuts: extract::limits::Cuts,
    /// `--platform`: whose steps every finding gets.
    platform: Option<&'static str>,
}

impl Output<'_> {
    fn done(&mut self, d: pipeline::Done) -> io::Result<()> {
        for w in d.warnings {
            self.warning(w)?;
        }
        self.findings(d.findings)?;
        self.cuts.add(d.cuts);
        self.tally.client_disconnects += d.disconnects;
        if let Some(path) = d.end_of {
            for w in std::mem::take(&mut self.cuts).warnings() {
                self.warning(format!("{}: {w}", sanitize::text(&path)))?;
            }
            // an input's findings are out before the next input is waited for (a FIFO with
            // no writer yet, a slow pipe)
            self.out.flush()?;
        }
        Ok(())
    }

    fn findings(&mut self, mut batch: Vec<extract::Finding>) -> io::Result<()> {
        if let Some(d) = self.direction {
            batch.retain(|f| f.direction == d);
        }
        if let Some(p) = self.platform {
            batch.iter_mut().for_each(|f| f.platform = p);
        }
        if let Some(r) = self.redactor.as_mut() {
            batch.iter_mut().for_each(|f| r.finding(f));
        }
        if let Some(t) = self.timeline.as_mut() {
            // deliveries are our own: incoming clients refused are counted apart
            batch
                .iter()
                .filter(|f| f.direction == extract::Direction::Outbound)
                .for_each(|f| t.add(f));
        }
        if !self.all {
            batch.retain(|f| f.state != extract::State::Delivered);
        }
        for f in &batch {
            self.tally.add(f);
            self.failed |= self.policy.matches(f);
        }
        self.renderer.findings(self.out, &batch)
    }

    fn warning(&mut self, w: String) -> io::Result<()> {
        let w = match self.redactor.as_mut() {
            Some(r) => r.text(&w),
            None => w,
        };
        note(format_args!("warning: {w}"));
        self.tally.warnings.push(w.clone());
        self.renderer.warning(self.out, &w)
    }
}

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

fn explain(out: &mut dyn Write, words: &[String], format: Format, style: Style) -> io::Result<u8> {
    let cat = catalog::get();
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
                render::markdown::write_entry(out, l.entry, l.how.known(), style.lang)?;
            }
        }
        Format::Github => {
            for (_, (_, l)) in &items {
                render::github::write_entry(out, l.entry, l.how.known(), style.lang)?;
            }
        }
        Format::Json | Format::Ndjson => {
            let objs: Vec<render::json::ExplainJson<'_>> = items
                .iter()
                .map(|(q, (code, l))| {
                    let x = render::explain(&l.entry.code, l.how.known(), style.lang);
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

fn list_codes(
    out: &mut dyn Write,
    query: &[String],
    class: Option<&str>,
    source: Option<&str>,
    format: Format,
    style: Style,
) -> io::Result<u8> {
    if let Some(c) = class.filter(|c| !["2", "4", "5", "x", "X"].contains(c)) {
        return usage_error(&format!(
            "--class {}: expected 2, 4, 5 or X",
            sanitize::text(c)
        ));
    }
    let cat = catalog::get();
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

/// The manual page: the main command's sections, then one section per subcommand with its own
/// options (one page, so it names no `ndr-doctor-explain(1)` pages that are not installed).
fn man_page(out: &mut dyn Write) -> io::Result<()> {
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
