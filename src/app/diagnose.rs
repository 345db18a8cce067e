//! The diagnosis, the command run without a subcommand: inputs read and decoded, findings
//! extracted on the workers, passed in input order through redaction, deliveries and
//! totals to the chosen renderer; the exit status from `--fail-on`.

use super::cli::{self, Cli, Format};
use super::exit::{EXIT_ERROR, EXIT_FINDING, EXIT_OK, note, usage_error};
use crate::render::{self, Renderer, Style, Tally};
use crate::{catalog, deliveries, extract, input, pipeline, policy, redact, sanitize, time};
use std::io::{self, IsTerminal, Write};

pub fn command(out: &mut dyn Write, cli: &Cli, style: Style) -> anyhow::Result<u8> {
    let args = &cli.diagnose;
    let policy = match policy::FailOn::parse(&args.fail_on, style.catalog) {
        Ok(p) => p,
        Err(e) => return usage_error(&format!("--fail-on: {e}")),
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
    let grouping = needs_report(cli.format, args.summary) || args.fail_on_count.is_some();
    // success reports settle deliveries; they are shown only with --all
    let opts = extract::Options {
        all: args.all || grouping,
        successes_settle_only: grouping && !args.all,
        now,
        catalog: style.catalog,
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
        renderer: renderer(cli.format, style, args.summary, fields),
        timeline: grouping.then(|| deliveries::Timeline::new(retry_window, now)),
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
        // log buffers go from the reader to the workers and back
        let buffers = input::Buffers::new();
        let mut pool = pipeline::Pool::start(scope, pipeline::workers(), opts, &buffers, warm);
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
            match input::read(src, &buffers, &mut each) {
                Ok(()) => {}
                Err(input::ReadError::Taker(output_error)) => return Err(output_error),
                Err(input::ReadError::Input(e)) => {
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
    let report = timeline.as_ref().map(deliveries::Timeline::report);
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
    timeline: Option<deliveries::Timeline>,
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
        self.cuts.add(d.counts.cuts);
        self.tally.client_disconnects += d.counts.disconnects;
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
        self.renderer.warning(self.out, &w)
    }
}

/// The renderer of a format. `summary`: the user asked for deliveries and summary tables
/// rather than one entry per finding.
fn renderer(
    format: Format,
    style: Style,
    summary: bool,
    fields: Option<Vec<&'static str>>,
) -> Box<dyn Renderer> {
    match format {
        Format::Human => Box::new(render::human::Human::new(style, summary)),
        Format::Json => {
            Box::new(render::json::Json::new(style, false, summary).with_fields(fields))
        }
        Format::Ndjson => {
            Box::new(render::json::Json::new(style, true, summary).with_fields(fields))
        }
        Format::Github => Box::new(render::github::Github::new(style)),
        Format::Markdown => Box::new(render::markdown::Markdown::new(style)),
    }
}

/// Whether a format needs the deliveries grouped at the end of the run.
fn needs_report(format: Format, summary: bool) -> bool {
    summary || matches!(format, Format::Json | Format::Markdown)
}
