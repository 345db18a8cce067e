//! Logs and traces: `scan_log` over a buffer of whole lines (only the lines a code or a
//! failure phrase lands on are read), `scan_record` for one line, `scan_trace_row` for a
//! row of a message trace.

use super::context::{self, Verdict};
use super::finding::*;
use super::hit::*;
use super::limits::Counts;
use super::rank::*;
use super::reason::Basis;
use super::{codes, noise, reason, symptom};
use crate::catalog::Severity;
use crate::input::Record;
use memchr::{memchr, memrchr};

/// Scans a buffer of complete log lines. `first_line` is the 1-based number of its first
/// line. Each line is a record of its own: its findings share one root cause.
///
/// The whole buffer is searched at once, like ripgrep does: once for code-shaped tokens
/// (those that are parts of IPs or version numbers are dropped on the spot), once for the
/// symptom keywords; only the lines these land on are read.
pub fn scan_log(
    buf: &[u8],
    first_line: u64,
    origin: &Origin,
    opts: &Options,
    out: &mut Vec<Finding>,
    counts: &mut Counts,
) {
    let mut starts: Vec<usize> = Vec::new();
    let push = |at: usize, starts: &mut Vec<usize>| {
        let start = memrchr(b'\n', &buf[..at]).map_or(0, |i| i + 1);
        if starts.last() != Some(&start) {
            starts.push(start);
        }
    };
    for m in codes::candidates(opts.all).find_iter(buf) {
        let verdict = !buf[m.start()].is_ascii_digit();
        if verdict || codes::stands_alone(buf, m.start(), m.end()) {
            push(m.start(), &mut starts);
        }
    }
    let coded = starts.len();
    for m in symptom::keywords().find_iter(buf) {
        push(m.start(), &mut starts);
    }
    if coded > 0 && starts.len() > coded {
        starts.sort_unstable();
        starts.dedup();
    }
    let mut line_no = first_line;
    let mut counted_to = 0usize;
    for start in starts {
        line_no += memchr::memchr_iter(b'\n', &buf[counted_to..start]).count() as u64;
        counted_to = start;
        let end = memchr(b'\n', &buf[start..]).map_or(buf.len(), |i| start + i);
        scan_record(
            trim_eol(&buf[start..end]),
            line_no,
            origin,
            opts,
            out,
            counts,
        );
    }
}

/// Scans one log record (a line) and appends its findings.
pub fn scan_record(
    line: &[u8],
    line_no: u64,
    origin: &Origin,
    opts: &Options,
    out: &mut Vec<Finding>,
    counts: &mut Counts,
) {
    let mut hits = analyze(line, line, false, opts, &mut counts.cuts);
    // a success that only settles its delivery (never shown): its key, time and direction
    // are all it is read for, and all its finding holds
    let settles_only = opts.successes_settle_only
        && !hits.is_empty()
        && hits.iter().all(|h| h.code.is_some_and(|c| c.class == 2));
    let mut verdict = if settles_only {
        None
    } else {
        context::verdict(line)
    };
    // asked once, and only of a line that may be a finding
    let mut direction = None;
    let mut direction_of = |line: &[u8]| *direction.get_or_insert_with(|| context::direction(line));
    if hits.is_empty() {
        // the MTA's own verdict on a delivery is a failure even when its words are not
        // recognised: Exim's `**` (failed for good), Postfix's `status=bounced|expired`, and a
        // deferral that quotes the remote server's reply code
        let reply = verdict.and_then(|_| bare_reply(line));
        let failure = match verdict {
            Some(Verdict::Bounced | Verdict::Expired) => true,
            Some(Verdict::Deferred) => reply.is_some(),
            None => false,
        };
        if failure && context::mta(line).is_some() && direction_of(line) == Direction::Outbound {
            hits.push(Hit::words_only(reply, None));
        }
    }
    if hits.is_empty() || noise::is_noise(line, &mut counts.disconnects) {
        return;
    }
    let direction = direction_of(line);
    if settles_only {
        let ctx = context::success_context(line);
        let time = ctx
            .timestamp
            .as_deref()
            .and_then(|t| crate::time::parse(t, opts.now));
        out.extend(hits.iter().map(|h| Finding {
            path: String::new(),
            message: origin.message,
            line: line_no,
            code: h.code,
            reply: h.reply,
            entry: String::new(),
            known: false,
            category: String::new(),
            severity: Severity::Success,
            state: State::Delivered,
            root_cause: false,
            recipient: ctx.recipient.clone(),
            remote_host: None,
            remote_ip: None,
            timestamp: None,
            message_id: ctx.message_id.clone(),
            excerpt: String::new(),
            remote_reply: None,
            symptom: None,
            nested: false,
            time,
            retry_until: None,
            reason: crate::reasons::UNDEFINED,
            hard_bounce: false,
            words: None,
            basis: Basis::Code,
            stage: None,
            direction,
            mta: None,
            platform: crate::runbook::GENERIC,
        }));
        return;
    }
    let ctx = context::line_context(line);
    // our server refusing an incoming client says so for good unless it says `temporarily`
    if direction == Direction::Inbound
        && verdict.is_none()
        && memchr::memmem::find(&line.to_ascii_lowercase(), b"temporarily").is_none()
    {
        verdict = Some(Verdict::Bounced);
    }
    push_group(
        hits,
        &Site {
            catalog: opts.catalog,
            line,
            line_no,
            origin,
            ctx,
            verdict,
            now: opts.now,
            stage: reason::stage(line),
            direction,
            mta: context::mta(line),
            platform: None,
        },
        out,
    );
}

/// Scans a row of a message trace or tracking log: its status text, with the row's own
/// recipient, message id, time and event as context.
pub fn scan_trace_row(
    rec: &Record,
    origin: &Origin,
    opts: &Options,
    out: &mut Vec<Finding>,
    counts: &mut Counts,
) {
    let hits = analyze(&rec.text, &rec.text, true, opts, &mut counts.cuts);
    if hits.is_empty() {
        return;
    }
    let mut ctx = context::line_context(&rec.text);
    ctx.recipient = rec.recipient.clone().or(ctx.recipient);
    ctx.message_id = rec.message_id.clone().or(ctx.message_id);
    ctx.timestamp = rec.timestamp.clone().or(ctx.timestamp);
    let event = rec.event.as_deref().unwrap_or("").to_ascii_uppercase();
    let verdict = match event.as_str() {
        "DEFER" | "RESUBMITDEFER" | "SUBMITDEFER" => Some(Verdict::Deferred),
        "FAIL" | "DSN" | "DELIVERFAIL" | "SUBMITFAIL" | "RESUBMITFAIL" | "BADMAIL" => {
            context::verdict(&rec.text)
                .filter(|v| *v == Verdict::Expired)
                .or(Some(Verdict::Bounced))
        }
        _ => context::verdict(&rec.text),
    };
    push_group(
        hits,
        &Site {
            catalog: opts.catalog,
            line: &rec.text,
            line_no: rec.line,
            origin,
            ctx,
            verdict,
            now: opts.now,
            stage: reason::stage(&rec.text),
            direction: Direction::Outbound,
            mta: rec.mta,
            // a trace that is not a tracking log is Exchange Online's
            platform: Some(rec.mta.unwrap_or(crate::runbook::EXCHANGE_ONLINE)),
        },
        out,
    );
}
