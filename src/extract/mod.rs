//! Findings out: the code scanner, symptom phrases, context fields, root cause.
//!
//! Two ways in: `scan_log` for a buffer of complete log lines (each line is its own
//! record, only lines that hold a candidate are looked at), and `scan_document` for a bounce
//! message or pasted text (context carries from line to line; one root cause per recipient).

pub(crate) mod codes;
pub(crate) mod context;
mod finding;
pub(crate) mod limits;
pub(crate) mod noise;
pub(crate) mod reason;
pub(crate) mod symptom;

pub use finding::{Direction, Finding, State};
pub use reason::Basis;

use crate::catalog::{self, Code, Severity};
use crate::input::{Document, PartKind, Record, lines};
use crate::re::Line;
use crate::sanitize;
use context::Verdict;
use memchr::{memchr, memrchr};
use regex::bytes::Regex;
use std::collections::HashMap;
use std::sync::LazyLock;

/// What to report.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Also report 2.x.x success codes.
    pub all: bool,
    /// Success reports are wanted only to settle deliveries (the summary, not `--all`):
    /// a log line of one is read for its delivery's key and time alone.
    pub successes_settle_only: bool,
    /// The reference time (UTC seconds): supplies the year of a BSD syslog timestamp.
    pub now: i64,
}

/// Where the text being scanned comes from.
#[derive(Debug, Clone, Copy)]
pub struct Origin<'a> {
    /// The input's path as given (`-` for standard input), copied into each finding.
    pub path: &'a str,
    /// 1-based number of the message within the input (mbox files hold several).
    pub message: usize,
}

/// The longest excerpt kept, in characters.
pub const EXCERPT_CHARS: usize = 300;

/// Codes the EOP connector errors and their expiry forms use: these are the root cause
/// whenever they appear.
fn is_connector(c: Code) -> bool {
    matches!(
        (c.class, c.subject, c.detail),
        (4 | 5, 4, 312 | 315 | 316 | 317 | 318) | (4 | 5, 7, 320)
    )
}

/// The system whose queue holds a finding's message: what the input told (the MTA of a log
/// line, a trace's kind, a bounce's layout), else Exchange Online for its own codes (the
/// connector errors, three-digit details), else any mail server.
fn platform_of(site: &Site<'_>, code: Option<Code>) -> &'static str {
    site.platform.or(site.mta).unwrap_or(
        if code.is_some_and(|c| is_connector(c) || c.detail >= 100) {
            crate::runbook::EXCHANGE_ONLINE
        } else {
            crate::runbook::GENERIC
        },
    )
}

/// A generic code says little by itself: the symptom on the same line names the failure.
fn is_generic(c: Code, symptom: &str) -> bool {
    c.detail == 0
        || (c.subject == 4 && c.detail < 10)
        || (c.subject == 7
            && (c.detail == 5 || c.detail == 10)
            && (symptom == symptom::CERTIFICATE || symptom == symptom::CANNOT_CONNECT))
        || (c.subject == 3 && c.detail == 2 && symptom == symptom::CANNOT_CONNECT)
        || (c.subject == 4 && c.detail == 397)
}

/// Expiry wrappers: they say that retries ran out, not why.
fn is_expiry_wrapper(c: Code) -> bool {
    matches!((c.subject, c.detail), (4, 7) | (4, 300))
}

/// A code or symptom on one line, before context is attached.
#[derive(Debug, Clone)]
struct Hit {
    code: Option<Code>,
    reply: Option<u16>,
    anchored: bool,
    symptom: Option<(&'static str, String)>,
    /// category set by the symptom rather than the code
    overridden: bool,
    nested: bool,
    remote_reply: Option<String>,
    /// the reason the line's words name
    words: Option<&'static str>,
}

impl Hit {
    /// A failure stated in words (and perhaps a bare reply code) only.
    fn words_only(reply: Option<u16>, words: Option<&'static str>) -> Hit {
        Hit {
            code: None,
            reply,
            anchored: false,
            symptom: None,
            overridden: false,
            nested: false,
            remote_reply: None,
            words,
        }
    }
}

/// Segments of a line that quote another server's reply: `[Message=...]`, `responded with:`,
/// `-> ...` chains.
static NESTED: LazyLock<Line> = LazyLock::new(|| {
    crate::re::line(
        r#"(?i)\[Message=([^\]]*)\]|responded with:?\s*"?([^"]*)"?|->\s*([^>]*?)(?:\s*->|$)|\(((?:[245][0-9][0-9][ -])?[245]\.[0-9]{1,3}\.[0-9]{1,3}[^()]*)\)"#,
    )
});

fn nested_spans(line: &[u8]) -> Vec<(usize, usize)> {
    NESTED
        .captures_iter(line)
        .filter_map(|c| (1..=4).find_map(|i| c.get(i)).map(|m| (m.start(), m.end())))
        .collect()
}

/// `said` is the line with the lines that continue it (a folded reply): where the words of
/// the reply are read.
fn analyze(line: &[u8], said: &[u8], doc_mail: bool, opts: &Options) -> Vec<Hit> {
    analyze_with(line, said, doc_mail, true, opts)
}

/// `analyze`; without `words_alone`, words with nothing else on the line are no finding (the
/// line continues one above, whose finding has read them).
fn analyze_with(
    line: &[u8],
    said: &[u8],
    doc_mail: bool,
    words_alone: bool,
    opts: &Options,
) -> Vec<Hit> {
    // whether the line is about mail is asked only when the answer matters (a bare code, or a
    // symptom with no anchored code): the common log line, `dsn=4.4.1 ...`, never needs it
    let mut mail_known: Option<bool> = doc_mail.then_some(true);
    let mut mail = || *mail_known.get_or_insert_with(|| symptom::is_mail_line(line));
    let mut all = codes::find_all(line);
    if !opts.all {
        // a success report (a 2.x.x code where a status goes, and no other code) is no
        // failure, whatever words its reply text holds
        let success = all.iter().any(|h| h.anchored()) && all.iter().all(|h| h.hit.code.class == 2);
        if success {
            return Vec::new();
        }
        all.retain(|h| h.hit.code.class != 2);
    }
    let needs_context = all.iter().any(|h| !h.anchored());
    let bare_ok = needs_context && mail();
    let found: Vec<codes::CodeHit> = all
        .into_iter()
        .filter(|h| h.anchored() || (bare_ok && !h.weak))
        .map(|h| h.hit)
        .collect();
    // a success report (`--all`, and the summary's deliveries) is only its code: the words
    // and symptoms that explain failures have nothing to say about it
    let success_only = !found.is_empty() && found.iter().all(|h| h.code.class == 2);
    let spans = if found.len() > 1 && !success_only {
        nested_spans(line)
    } else {
        Vec::new()
    };
    let mut hits: Vec<Hit> = Vec::new();
    for h in &found {
        if let Some(prev) = hits.iter_mut().find(|x| x.code == Some(h.code)) {
            if prev.reply.is_none() {
                prev.reply = h.reply;
            }
            prev.anchored |= h.anchored();
            continue;
        }
        let nested = spans.iter().any(|&(s, e)| h.start >= s && h.end <= e);
        hits.push(Hit {
            code: Some(h.code),
            reply: h.reply,
            anchored: h.anchored(),
            symptom: None,
            overridden: false,
            nested,
            remote_reply: None,
            words: None,
        });
    }
    if success_only {
        return hits;
    }
    let sym = if found.iter().any(|h| h.anchored()) || mail() {
        symptom::find(line)
    } else {
        None
    };
    // an outer code carries the reply it quotes
    if hits.iter().any(|h| h.nested) {
        let quoted = spans.iter().find_map(|&(s, e)| {
            let t = sanitize::decode(&line[s..e]);
            let t = t.trim();
            codes::find(t.as_bytes(), true)
                .first()
                .map(|_| sanitize::truncate(t, EXCERPT_CHARS).into_owned())
        });
        if let Some(outer) = hits.iter_mut().find(|h| !h.nested) {
            outer.remote_reply = quoted;
        }
    }
    // the words: what the failure is, whatever code stands beside them
    let words = if (!hits.is_empty() || sym.is_some() || mail()) && !context::is_header(line) {
        reason::find(said)
    } else {
        None
    };
    if let Some(w) = &words {
        for h in hits.iter_mut().filter(|h| !h.nested) {
            h.words = Some(*w);
        }
    }
    if let Some((cat, phrase)) = sym {
        let mut used = false;
        for h in hits.iter_mut().filter(|h| !h.nested) {
            if let Some(c) = h.code {
                // 4.7.5 is Exchange Online's MTA-STS failure: only Postfix-style generic use maps
                let mta_sts = c.subject == 7
                    && c.detail == 5
                    && memchr::memmem::find(&line.to_ascii_lowercase(), b"mta-sts").is_some();
                if !is_connector(c) && is_generic(c, cat) && !mta_sts {
                    h.overridden = true;
                }
                h.symptom = Some((cat, phrase.clone()));
                used = true;
            }
        }
        if !used && hits.is_empty() && mail() {
            hits.push(Hit {
                code: None,
                reply: None,
                anchored: false,
                symptom: Some((cat, phrase)),
                overridden: true,
                nested: false,
                remote_reply: None,
                words,
            });
        }
    } else if hits.is_empty()
        && words_alone
        && let Some(w) = words
    {
        // a failure stated in words only, or with a bare reply code
        hits.push(Hit::words_only(bare_reply(line), Some(w)));
    }
    hits
}

/// A basic reply code standing at the start of a reply (`550 User unknown`, `: 552-Mailbox`).
static BARE_REPLY: LazyLock<Line> =
    LazyLock::new(|| crate::re::line(r"(?:^|[\s:;(\[<>\x22'=#])([45][0-5][0-9])(?:[ -]|$)"));

fn bare_reply(line: &[u8]) -> Option<u16> {
    let m = BARE_REPLY.captures(line)?.get(1)?;
    std::str::from_utf8(m.as_bytes()).ok()?.parse().ok()
}

/// Turns a hit into a finding: catalog entry, category, severity, first-guess state.
/// Where hits were found: the line and what is known around it.
struct Site<'a> {
    line: &'a [u8],
    line_no: u64,
    origin: &'a Origin<'a>,
    ctx: context::LineContext,
    verdict: Option<Verdict>,
    now: i64,
    /// the SMTP stage the reply was given at, when known
    stage: Option<reason::Stage>,
    /// whose delivery it is
    direction: Direction,
    /// the MTA that wrote the line
    mta: Option<&'static str>,
    /// the system whose queue holds the message, when the input tells (a bounce's layout)
    platform: Option<&'static str>,
}

fn finding_of(hit: Hit, site: &Site<'_>) -> Finding {
    let (line, line_no, origin, verdict) = (site.line, site.line_no, site.origin, site.verdict);
    let ctx = site.ctx.clone();
    let cat = catalog::get();
    let symptom_cat = hit.symptom.as_ref().map(|(c, _)| *c);
    let (reason, basis) = reason::decide(hit.code, hit.reply, hit.words, symptom_cat, site.stage);
    let (entry, known, category) = match (hit.code, symptom_cat) {
        // the symptom's entry, unless the words alone name another failure (`No MX record
        // found` is a DNS symptom, and the domain's refusal to take mail)
        (_, Some(sc))
            if hit.overridden
                && (hit.code.is_some()
                    || hit.words.is_none_or(|w| w == reason::of_symptom(sc))) =>
        {
            match cat.by_category(sc) {
                Some(e) => (e.code.clone(), true, sc.to_string()),
                None => (catalog::OTHER.to_string(), false, sc.to_string()),
            }
        }
        (Some(code), _) if is_connector(code) => match cat.lookup(code) {
            Some(l) => (l.entry.code.clone(), true, l.entry.category.clone()),
            None => (
                catalog::OTHER.to_string(),
                false,
                catalog::OTHER.to_string(),
            ),
        },
        (code, _) => entry_for(code, reason, basis != Basis::Code),
    };
    // an incoming client refused by our server is not explained with Microsoft 365's or a
    // connector's steps: the registry's meaning of the code, or the reason's entry
    let (entry, known, category) = if site.direction == Direction::Inbound {
        inbound_entry(hit.code, reason).unwrap_or((entry, known, category))
    } else {
        (entry, known, category)
    };
    let severity = match hit
        .code
        .map(|c| c.class)
        .or(hit.reply.map(|r| (r / 100) as u8))
        .and_then(Severity::of_class)
    {
        Some(s) => s,
        None => match verdict {
            Some(Verdict::Bounced | Verdict::Expired) => Severity::Permanent,
            _ => Severity::Transient,
        },
    };
    let state = match (hit.code, verdict) {
        (Some(c), _) if c.class == 2 => State::Delivered,
        (Some(c), _) if c.class == 5 && is_connector(c) => State::Expired,
        (Some(c), Some(Verdict::Expired)) if c.class == 4 || is_expiry_wrapper(c) => State::Expired,
        (Some(c), Some(Verdict::Bounced)) if c.class == 4 => State::Expired,
        (Some(c), _) if c.class == 4 => State::Queued,
        (Some(_), _) => State::Failed,
        (None, Some(Verdict::Expired)) => State::Expired,
        (None, Some(Verdict::Bounced)) => State::Failed,
        (None, _) if severity == Severity::Permanent => State::Failed,
        (None, _) => State::Queued,
    };
    // only what the excerpt can show is escaped (a line may be a megabyte long): at most 4
    // bytes a character, and one more so that a longer line is marked as cut
    let line = trim_eol(line);
    let head = &line[..line.len().min(EXCERPT_CHARS * 4 + 1)];
    let excerpt = sanitize::truncate(&sanitize::visible(head), EXCERPT_CHARS).into_owned();
    Finding {
        path: origin.path.to_string(),
        message: origin.message,
        line: line_no,
        code: hit.code,
        reply: hit.reply,
        entry,
        known,
        category,
        severity,
        state,
        root_cause: false,
        recipient: ctx.recipient,
        remote_host: ctx.remote_host,
        remote_ip: ctx.remote_ip,
        message_id: ctx.message_id,
        excerpt,
        remote_reply: hit.remote_reply,
        symptom: hit.symptom.map(|(_, p)| p),
        nested: hit.nested,
        time: ctx
            .timestamp
            .as_deref()
            .and_then(|t| crate::time::parse(t, site.now)),
        retry_until: None,
        timestamp: ctx.timestamp,
        reason,
        hard_bounce: false,
        words: hit.words,
        basis,
        stage: site.stage,
        direction: site.direction,
        mta: site.mta,
        platform: platform_of(site, hit.code),
    }
}

/// The registry's entry (or the reason's) for an inbound finding, when the one chosen is
/// a vendor's (Exchange Online, Exchange Server, the EOP connectors).
fn inbound_entry(code: Option<Code>, reason: &'static str) -> Option<(String, bool, String)> {
    let cat = catalog::get();
    let registry = code
        .and_then(|c| cat.lookup(c.with_class(0)))
        .filter(|l| l.how.known() && l.entry.code.starts_with('X'))
        .map(|l| l.entry);
    let of_reason = crate::reasons::by_name(reason)
        .filter(|_| reason != crate::reasons::UNDEFINED)
        .and_then(|r| cat.by_key(&r.entry));
    let e = registry.or(of_reason)?;
    Some((e.code.clone(), true, e.category.clone()))
}

/// The catalog entry that explains a finding: the code's own entry, unless the code is
/// generic (`x.y.0`) and the words say more, or the entry declares the reasons its meaning is
/// for and this failure's reason is another (Exchange Online's 5.2.2 is a submission quota,
/// every other system's a full mailbox): then the registry's entry for the code, or the
/// reason's entry.
fn entry_for(code: Option<Code>, reason: &'static str, from_words: bool) -> (String, bool, String) {
    let cat = catalog::get();
    let of_reason = || {
        crate::reasons::by_name(reason)
            .filter(|_| reason != crate::reasons::UNDEFINED)
            .and_then(|r| cat.by_key(&r.entry))
            .map(|e| (e.code.clone(), true, e.category.clone()))
    };
    let other = || {
        (
            catalog::OTHER.to_string(),
            false,
            catalog::OTHER.to_string(),
        )
    };
    // a failure with no code that nothing names: the registry's "other undefined status",
    // whose steps start from the error text (not the connector guidance `other` holds)
    let undefined = || {
        cat.by_key("X.0.0")
            .map(|e| (e.code.clone(), true, e.category.clone()))
    };
    let Some(code) = code else {
        return of_reason().or_else(undefined).unwrap_or_else(other);
    };
    match cat.lookup(code) {
        Some(l) if l.how.known() => {
            let own = (l.entry.code.clone(), true, l.entry.category.clone());
            let declared = !l.entry.reasons.is_empty();
            if reason == crate::reasons::UNDEFINED || l.entry.reasons.iter().any(|r| r == reason) {
                return own;
            }
            if declared {
                // the registry's meaning of the same code, or the reason's entry
                return cat
                    .lookup(code.with_class(0))
                    .filter(|r| r.how == catalog::Match::Registry && r.entry.reasons.is_empty())
                    .filter(|_| code.detail != 0)
                    .map(|r| (r.entry.code.clone(), true, r.entry.category.clone()))
                    .or_else(of_reason)
                    .unwrap_or(own);
            }
            if code.detail == 0 && from_words {
                return of_reason().unwrap_or(own);
            }
            own
        }
        // an unknown code: the words can still name the failure; the code alone cannot
        Some(l) => of_reason().filter(|_| from_words).unwrap_or((
            l.entry.code.clone(),
            false,
            catalog::OTHER.to_string(),
        )),
        None => of_reason().unwrap_or_else(other),
    }
}

fn trim_eol(line: &[u8]) -> &[u8] {
    let mut l = line;
    while let [rest @ .., b'\n' | b'\r'] = l {
        l = rest;
    }
    l
}

/// A coded finding whose category a symptom phrase set (`dsn=4.4.1 ... Connection refused`).
fn mapped_by_symptom(f: &Finding) -> bool {
    f.code.is_some()
        && f.symptom.is_some()
        && f.entry != f.code_str()
        && is_seed_category(&f.category)
}

/// How strongly a finding claims to be the root cause of its group (higher wins): first the
/// kind of evidence (connector errors, then failures a symptom names, then plain codes,
/// quoted replies and expiry wrappers), then where it stood (a DSN's Diagnostic-Code, its
/// Status, an SMTP reply, a bare token), then how specific the code is.
fn rank(f: &Finding, weight: u8) -> (u8, u8, u8, u8) {
    let tier = match f.code {
        _ if f.state == State::Delivered => 0,
        Some(c) if is_connector(c) => {
            if c.class == 4 {
                100
            } else {
                95
            }
        }
        Some(c) if mapped_by_symptom(f) => {
            if is_expiry_wrapper(c) {
                88
            } else {
                90
            }
        }
        // words alone: those that name the failure before those that only say it failed
        None if matches!(f.reason, "systemerror" | "undefined" | "onhold") => 84,
        None => 85,
        Some(_) if f.nested => 40,
        Some(c) if is_expiry_wrapper(c) => 20,
        Some(_) => 50,
    };
    let (specific, weight) = match f.code {
        // a DSN Status of x.0.0 says nothing the text does not say better
        Some(c) if c.subject == 0 && c.detail == 0 => (0, if weight == 2 { 0 } else { weight }),
        Some(c) if c.detail == 0 => (1, weight),
        _ => (2, weight),
    };
    (tier, weight, specific, u8::from(f.reply.is_some()))
}

fn is_seed_category(c: &str) -> bool {
    [
        symptom::DNS,
        symptom::TIMEOUT,
        symptom::REFUSED,
        symptom::CANNOT_CONNECT,
        symptom::CLOSED,
        symptom::CERTIFICATE,
    ]
    .contains(&c)
}

/// Marks one root cause per group of findings and settles expiry across the group. In a
/// document (`across_lines`), a symptom on one line names the failure that a generic code on
/// another line (a DSN's `Status: 4.4.1`) reports.
fn settle_group(group: &mut [(Finding, u8)], across_lines: bool) {
    let expired = group.iter().any(|(f, _)| {
        f.state == State::Expired
            || (f.code.is_some_and(is_expiry_wrapper) && f.severity == Severity::Permanent)
    });
    // words that say the retries ran out (`could not be delivered for 5 days`) settle the
    // failures of the group that carry no permanent code
    let expired_by_words = group
        .iter()
        .any(|(f, _)| f.reason == "expired" && f.basis != Basis::Code && f.state != State::Queued);
    if expired || expired_by_words {
        for (f, _) in group.iter_mut() {
            let temporary = f.code.is_some_and(|c| c.class == 4);
            if (temporary && f.state == State::Queued)
                || (expired_by_words && f.code.is_none() && f.state == State::Failed)
            {
                f.state = State::Expired;
            }
        }
    }
    let coded = group
        .iter()
        .any(|(f, _)| f.code.is_some() && !f.nested && f.state != State::Delivered);
    if across_lines && coded {
        let symptom = group
            .iter()
            .find(|(f, _)| f.code.is_none() && f.symptom.is_some())
            .and_then(|(f, _)| Some((f.category.clone(), f.entry.clone(), f.symptom.clone()?)));
        let best = best_index(group, |f| f.code.is_some() && !f.nested);
        if let (Some((category, entry, phrase)), Some(i)) = (symptom, best) {
            let f = &mut group[i].0;
            if f.code
                .is_some_and(|c| !is_connector(c) && is_generic(c, &category))
                && !mapped_by_symptom(f)
            {
                {
                    f.category = category;
                    f.entry = entry;
                    f.known = true;
                    f.symptom = Some(phrase);
                }
            }
        }
    }
    let candidate = |f: &Finding| !(across_lines && coded && f.code.is_none());
    if let Some(i) = best_index(group, candidate).or_else(|| best_index(group, |_| true)) {
        group[i].0.root_cause = true;
        if across_lines {
            words_across_lines(group, i);
        }
    }
    for (f, _) in group.iter_mut() {
        // words that say the retries ran out (`retry timeout exceeded`) make a failure expired
        if f.reason == "expired" && f.state == State::Failed {
            f.state = State::Expired;
        }
        // a temporary error that says nothing of its cause (`450 4.0.0 Temporary failure`,
        // `421 4.3.0 Upstream error`): the outcome was never known, the delivery was on hold
        if f.code
            .is_some_and(|c| c.class == 4 && matches!(c.subject, 0 | 3) && c.detail == 0)
            && matches!(f.reason, "systemerror" | "undefined")
            && f.state != State::Queued
        {
            f.reason = "onhold";
            continue;
        }
        // retried until the sender gave up: expired, unless the words name what kept failing
        // at the destination (a full mailbox, a refusal)
        if f.state == State::Expired
            && matches!(
                f.reason,
                "networkerror" | "systemerror" | "undefined" | "onhold" | "expired"
            )
        {
            if f.reason != "expired"
                && f.code.is_none_or(|c| !is_connector(c))
                && !mapped_by_symptom(f)
            {
                let (entry, known, category) = entry_for(f.code, "expired", true);
                f.entry = entry;
                f.known = known;
                f.category = category;
            }
            f.reason = "expired";
        }
        // a name that could not be looked up this time is a network error; only a lookup that
        // failed for good (or the connector's own DNS error) says the domain is unknown
        if f.reason == "hostunknown"
            && f.basis != Basis::Code
            && (f.state == State::Queued || f.code.is_some_and(|c| c.class == 4))
            && f.code.is_none_or(|c| !is_connector(c))
        {
            f.reason = "networkerror";
        }
        f.hard_bounce = f.state == State::Failed
            && f.severity == Severity::Permanent
            && crate::reasons::is_hard(f.reason);
    }
}

/// In a document, the words on another line of the same recipient name the failure that the
/// root cause's code leaves open (`Status: 5.0.0` and, above it, `... User unknown`).
fn words_across_lines(group: &mut [(Finding, u8)], root: usize) {
    let f = &group[root].0;
    if f.basis != Basis::Code && f.reason != crate::reasons::UNDEFINED {
        return;
    }
    let words = group
        .iter()
        .map(|(g, _)| g)
        .filter(|g| !g.nested && g.basis != Basis::Code && g.reason != crate::reasons::UNDEFINED)
        .max_by_key(|g| (u8::from(g.code.is_none()), u8::from(g.reply.is_none())))
        // the words themselves (what their own line's code made of them is not this
        // line's), and the reply they were given in
        .map(|g| (g.words.unwrap_or(g.reason), g.reply, g.stage));
    let Some((words, reply, stage)) = words else {
        return;
    };
    let f = &mut group[root].0;
    let (reason, basis) = reason::decide(
        f.code,
        f.reply.or(reply),
        Some(words),
        None,
        f.stage.or(stage),
    );
    if reason == f.reason {
        return;
    }
    f.reason = reason;
    f.basis = basis;
    if f.code.is_none_or(|c| !is_connector(c)) && !mapped_by_symptom(f) {
        let (entry, known, category) = entry_for(f.code, reason, basis != Basis::Code);
        f.entry = entry;
        f.known = known;
        f.category = category;
    }
}

/// The highest-ranked finding among those `keep` accepts (the first of equals).
fn best_index(group: &[(Finding, u8)], keep: impl Fn(&Finding) -> bool) -> Option<usize> {
    let mut best: Option<(usize, (u8, u8, u8, u8))> = None;
    for (i, (f, w)) in group.iter().enumerate() {
        if !keep(f) {
            continue;
        }
        let r = rank(f, *w);
        if best.is_none_or(|(_, b)| r > b) {
            best = Some((i, r));
        }
    }
    best.map(|(i, _)| i)
}

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
        scan_record(trim_eol(&buf[start..end]), line_no, origin, opts, out);
    }
}

/// Scans one log record (a line) and appends its findings.
pub fn scan_record(
    line: &[u8],
    line_no: u64,
    origin: &Origin,
    opts: &Options,
    out: &mut Vec<Finding>,
) {
    let mut hits = analyze(line, line, false, opts);
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
        if failure
            && context::mta(line).is_some()
            && context::direction(line) == Direction::Outbound
        {
            hits.push(Hit::words_only(reply, None));
        }
    }
    if hits.is_empty() || noise::is_noise(line) {
        return;
    }
    let direction = context::direction(line);
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

/// The findings of one line's hits; a reply quoted inside another error shares that
/// error's state (the 5.7.3 inside a queued 4.4.317 is queued too).
fn line_findings(hits: Vec<Hit>, site: &Site<'_>) -> Vec<Finding> {
    let mut found: Vec<Finding> = hits.into_iter().map(|h| finding_of(h, site)).collect();
    if let Some(outer) = found.iter().find(|f| !f.nested).map(|f| f.state) {
        for f in found.iter_mut().filter(|f| f.nested) {
            f.state = outer;
        }
    }
    found
}

fn push_group(hits: Vec<Hit>, site: &Site<'_>, out: &mut Vec<Finding>) {
    let mut group: Vec<(Finding, u8)> = line_findings(hits, site)
        .into_iter()
        .map(|f| (f, 0))
        .collect();
    settle_group(&mut group, false);
    out.extend(group.into_iter().map(|(f, _)| f));
}

/// Scans a row of a message trace or tracking log: its status text, with the row's own
/// recipient, message id, time and event as context.
pub fn scan_trace_row(rec: &Record, origin: &Origin, opts: &Options, out: &mut Vec<Finding>) {
    let hits = analyze(&rec.text, &rec.text, true, opts);
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

/// Lines that end the diagnostic part of a bounce: what follows is the returned original
/// message, whose codes are not findings.
static ORIGINAL_MARKER: LazyLock<Line> = LazyLock::new(|| {
    crate::re::line(
        r"(?i)^\s*(?:original message headers:?|-+ ?(?:this is a copy of the message|below this line is a copy of the message|original message|the original message|a copy of the original message|ursprüngliche nachricht|message d'origine|元のメッセージ|元メッセージ|送信したメッセージ)|-+ ?returned message|content-type: (?:message/rfc822|text/rfc822-headers))",
    )
});

/// Words that make a pasted text a bounce message (so symptoms in it count).
static BOUNCE_MARKER: LazyLock<Regex> = LazyLock::new(|| {
    crate::re::bytes(concat!(
        r"(?i)delivery has failed|undeliver|delivery status notification|mail delivery (?:failed|subsystem|system)|returned mail|diagnostic information for administrators|remote server returned|final-recipient|diagnostic-code|non-delivery|could not be delivered|couldn't be delivered|wasn't delivered|delivery to the following recipient|message not delivered|failure notice|mailer-daemon|lastattemptedservername|\bLED=|generating server|delivery is delayed|delivery incomplete|",
        // German, French, Spanish, Japanese
        r"unzustellbar|konnte nicht zugestellt werden|n'a pas pu (?:\xc3\xaatre|etre) (?:remis|distribu)|no se (?:ha podido|pudo) entregar|",
        r"\xe9\x85\x8d\xe4\xbf\xa1\xe3\x81\xa7\xe3\x81\x8d\xe3\x81\xbe\xe3\x81\x9b\xe3\x82\x93\xe3\x81\xa7\xe3\x81\x97\xe3\x81\x9f|\xe9\x80\x81\xe4\xbf\xa1\xe3\x81\xa7\xe3\x81\x8d\xe3\x81\xbe\xe3\x81\x9b\xe3\x82\x93\xe3\x81\xa7\xe3\x81\x97\xe3\x81\x9f|\xe9\x85\x8d\xe9\x80\x81\xe3\x81\xa7\xe3\x81\x8d\xe3\x81\xbe\xe3\x81\x9b\xe3\x82\x93\xe3\x81\xa7\xe3\x81\x97\xe3\x81\x9f"
    ))
});

/// Words of a delay notice: the sender still retries.
static DELAY_NOTICE: LazyLock<Regex> = LazyLock::new(|| {
    crate::re::bytes(
        r"(?i)delivery (?:has been |is )?delayed|delayed mail|will (?:be )?retr(?:y|ied)|will continue to (?:try|retry)|has not yet been delivered|not been delivered yet|still trying|warning: could not send|action: delayed|delivery attempts will continue|\xe9\x81\x85\xe5\xbb\xb6",
    )
});

/// Whether a text reads as a bounce or queue report.
pub fn looks_like_bounce(text: &[u8]) -> bool {
    BOUNCE_MARKER.is_match(text)
}

/// The last value of a per-recipient DSN field (`Action:`, `Will-Retry-Until:`) that
/// applies to a recipient: the last one given for it or for no recipient in particular.
struct LastBy<'a> {
    unnamed: Option<(usize, &'a str)>,
    named: HashMap<&'a str, (usize, &'a str)>,
}

impl<'a> LastBy<'a> {
    fn new(list: &'a [(Option<String>, String)]) -> LastBy<'a> {
        let mut l = LastBy {
            unnamed: None,
            named: HashMap::new(),
        };
        for (i, (r, v)) in list.iter().enumerate() {
            match r {
                None => l.unnamed = Some((i, v)),
                Some(r) => {
                    l.named.insert(r, (i, v));
                }
            }
        }
        l
    }

    fn get(&self, recipient: &Option<String>) -> Option<&'a str> {
        let named = recipient
            .as_deref()
            .and_then(|r| self.named.get(r))
            .copied();
        match (named, self.unnamed) {
            (Some(a), Some(b)) => Some(if a.0 > b.0 { a.1 } else { b.1 }),
            (a, b) => a.or(b).map(|(_, v)| v),
        }
    }
}

/// What a document's findings are grouped by, one root cause per group: the recipient; in a
/// document that names no recipient at all (a queue listing), the destination, where a
/// finding with none goes with the destination above it (or, before any, the first one).
fn group_keys(found: &[(Finding, u8)]) -> Vec<Option<String>> {
    if found.iter().any(|(f, _)| f.recipient.is_some()) {
        return found.iter().map(|(f, _)| f.recipient.clone()).collect();
    }
    let destination = |f: &Finding| f.remote_host.clone().or_else(|| f.remote_ip.clone());
    let first = found.iter().find_map(|(f, _)| destination(f));
    let mut above = first;
    found
        .iter()
        .map(|(f, _)| {
            if let Some(d) = destination(f) {
                above = Some(d);
            }
            above.clone()
        })
        .collect()
}

/// Per-document state: what earlier lines said about the lines after them.
#[derive(Default)]
struct DocState {
    recipient: Option<String>,
    remote_host: Option<String>,
    remote_ip: Option<String>,
    timestamp: Option<String>,
    /// DSN `Action:` per recipient
    actions: Vec<(Option<String>, String)>,
    /// DSN `Will-Retry-Until:` per recipient
    retry_until: Vec<(Option<String>, String)>,
    /// the SMTP stage the last reply was given at
    stage: Option<reason::Stage>,
}

/// What a bounce says about a recipient: the line that names it, with its folded lines, and
/// the next line that says something when the line is little more than the address.
fn said_about(all: &[&[u8]], i: usize, recipient: &str) -> Vec<u8> {
    let mut buf = Vec::new();
    let mut text = folded(all, i, &mut buf).to_vec();
    let bare = String::from_utf8_lossy(&text)
        .trim()
        .trim_matches(|c| matches!(c, '<' | '>' | ':' | ',' | '"'))
        .len()
        <= recipient.len() + 4;
    if bare
        && let Some(next) = all[i + 1..]
            .iter()
            .take(4)
            .find(|l| l.iter().any(|b| !b.is_ascii_whitespace()))
    {
        push_continued(&mut text, next);
    }
    text.truncate(FOLD_BYTES);
    text
}

/// The longest folded reply read as one (continuation lines and bytes).
const FOLD_LINES: usize = 8;
const FOLD_BYTES: usize = 4096;

/// A line with the indented lines that continue it (`said: 550 Protocol` / `    violation
/// (in reply to DATA command)`), joined with spaces into `buf`; the line itself when none do.
fn folded<'a, 'b: 'a>(all: &[&'b [u8]], i: usize, buf: &'a mut Vec<u8>) -> &'a [u8] {
    let line = all[i];
    let continues = |l: &[u8]| {
        matches!(l.first(), Some(b' ' | b'\t')) && l.iter().any(|b| !b.is_ascii_whitespace())
    };
    let more = all[i + 1..]
        .iter()
        .take(FOLD_LINES)
        .take_while(|l| continues(l))
        .count();
    if more == 0 || line.iter().all(u8::is_ascii_whitespace) {
        return line;
    }
    buf.clear();
    buf.extend_from_slice(trim_eol(line));
    for l in &all[i + 1..=i + more] {
        if buf.len() >= FOLD_BYTES {
            break;
        }
        push_continued(buf, l);
    }
    buf
}

/// Appends a continuation line to a joined one: a space, then the line without its indent
/// and line end.
fn push_continued(buf: &mut Vec<u8>, line: &[u8]) {
    buf.push(b' ');
    let t = trim_eol(line);
    let start = t
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(t.len());
    buf.extend_from_slice(&t[start..]);
}

static DSN_FIELD: LazyLock<Line> = LazyLock::new(|| {
    crate::re::line(
        r"(?i)^\s*(action|remote-mta|last-attempt-date|will-retry-until|receiving server|nexthopdomain)\s*:\s*(.*?)\s*$",
    )
});

static DIAGNOSTIC_FIELD: LazyLock<Line> =
    LazyLock::new(|| crate::re::line(r"(?i)^\s*diagnostic-code:"));
static STATUS_FIELD: LazyLock<Line> = LazyLock::new(|| crate::re::line(r"(?i)^\s*status:"));

/// Scans a whole document (a bounce message, or pasted text). Findings inside the returned
/// original message are skipped; each recipient gets one root cause.
pub fn scan_document(doc: &Document, origin: &Origin, opts: &Options, out: &mut Vec<Finding>) {
    if doc.not_failure.is_some() {
        // an auto-reply or a feedback report: nothing failed (decoding said what it is)
        return;
    }
    let bounce = doc.bounce || doc.parts.iter().any(|p| looks_like_bounce(&p.text));
    let doc_platform = doc
        .parts
        .iter()
        .filter(|p| !matches!(p.kind, PartKind::Original))
        .find_map(|p| context::platform_of_bounce(&p.text));
    let mut st = DocState::default();
    let mut found: Vec<(Finding, u8)> = Vec::new();
    // what a bounce says about its first failed recipient, and its first bounce sentence: the
    // failure text quoted when nothing in it is recognised
    let mut failure_text: Option<(u64, Vec<u8>)> = None;
    let mut marker_text: Option<(u64, Vec<u8>)> = None;
    let mut first_recipient: Option<String> = None;
    'parts: for part in &doc.parts {
        if matches!(part.kind, PartKind::Original) {
            continue;
        }
        let dsn = matches!(part.kind, PartKind::DeliveryStatus);
        let mut line_no = part.start_line;
        let mut in_diagnostic = false;
        let all_lines: Vec<&[u8]> = lines(&part.text).collect();
        let mut joined: Vec<u8> = Vec::new();
        for (li, &line) in all_lines.iter().enumerate() {
            let this_line = line_no;
            if part.exact_lines {
                line_no += 1;
            }
            if found.len() >= limits::MAX_DOCUMENT_FINDINGS {
                limits::document_cut();
                break 'parts;
            }
            // what the line starts with decides which field checks can apply to it
            let first = line
                .iter()
                .find(|b| !b.is_ascii_whitespace())
                .map(u8::to_ascii_lowercase);
            if !dsn && matches!(first, Some(b'-' | b'o' | b'c')) && ORIGINAL_MARKER.is_match(line) {
                // the rest of this part quotes the original message
                continue 'parts;
            }
            let has_at = memchr(b'@', line).is_some() && !context::is_header(line);
            if let Some(r) = has_at
                .then(|| context::keyed_recipient(line).or_else(|| context::address_line(line)))
                .flatten()
            {
                if st.recipient.as_deref() != Some(r.as_str()) {
                    st.remote_host = None;
                    st.remote_ip = None;
                }
                if first_recipient.is_none() {
                    first_recipient = Some(r.clone());
                    failure_text = Some((this_line, said_about(&all_lines, li, &r)));
                }
                st.recipient = Some(r);
            }
            let field_like = matches!(first, Some(b'a' | b'r' | b'l' | b'w' | b'n'));
            if let Some(c) = field_like.then(|| DSN_FIELD.captures(line)).flatten() {
                let key = c
                    .get(1)
                    .map(|m| m.as_bytes().to_ascii_lowercase())
                    .unwrap_or_default();
                let val = c
                    .get(2)
                    .map(|m| sanitize::decode(m.as_bytes()))
                    .unwrap_or_default();
                match key.as_slice() {
                    b"action" => st
                        .actions
                        .push((st.recipient.clone(), val.to_ascii_lowercase())),
                    b"last-attempt-date" => st.timestamp = Some(val),
                    b"will-retry-until" => st.retry_until.push((st.recipient.clone(), val)),
                    // Exchange's Get-Queue: the queue's destination, for the LastError below it
                    b"nexthopdomain" => {
                        st.remote_host = (!val.is_empty()).then_some(val);
                        st.remote_ip = None;
                    }
                    _ => {
                        let (h, i) = context::remote(line);
                        if h.is_some() {
                            st.remote_host = h;
                        }
                        if i.is_some() {
                            st.remote_ip = i;
                        }
                    }
                }
            }
            // a Diagnostic-Code field and its folded continuation lines
            if first == Some(b'd') && DIAGNOSTIC_FIELD.is_match(line) {
                in_diagnostic = true;
            } else if !line.first().is_some_and(|b| *b == b' ' || *b == b'\t') {
                in_diagnostic = false;
            }
            if marker_text.is_none() && bounce && looks_like_bounce(line) {
                marker_text = Some((this_line, trim_eol(line).to_vec()));
            }
            let said = folded(&all_lines, li, &mut joined);
            if let Some(stage) = reason::stage(said) {
                st.stage = Some(stage);
            }
            let continues_above = li > 0
                && matches!(line.first(), Some(b' ' | b'\t'))
                && all_lines[li - 1].iter().any(|b| !b.is_ascii_whitespace());
            let hits = analyze_with(line, said, bounce, !continues_above, opts);
            if hits.is_empty() {
                continue;
            }
            let mut ctx = context::line_context(line);
            // the recipient the bounce names for this failure (a DSN field, the address a
            // reply is given for) wins over an address inside the error text
            // (`551 User has moved; please try <new@example.com>`)
            ctx.recipient = st.recipient.clone().or(ctx.recipient);
            if ctx.remote_host.is_none() && ctx.remote_ip.is_none() {
                ctx.remote_host = st.remote_host.clone();
                ctx.remote_ip = st.remote_ip.clone();
            }
            ctx.timestamp = ctx.timestamp.or_else(|| st.timestamp.clone());
            ctx.message_id = ctx.message_id.or_else(|| doc.message_id.clone());
            let verdict = context::verdict(line);
            let weight = if in_diagnostic {
                3
            } else if dsn && STATUS_FIELD.is_match(line) {
                2
            } else {
                u8::from(dsn || hits.iter().any(|h| h.anchored))
            };
            let site = Site {
                line,
                line_no: this_line,
                origin,
                ctx,
                verdict,
                now: opts.now,
                stage: st.stage,
                direction: Direction::Outbound,
                mta: None,
                platform: doc_platform,
            };
            found.extend(line_findings(hits, &site).into_iter().map(|f| (f, weight)));
        }
    }
    // a bounce that is not a delay notice reports a failure: words without a code there are
    // final, not a queued retry
    if bounce && !doc.parts.iter().any(|p| DELAY_NOTICE.is_match(&p.text)) {
        for (f, _) in found.iter_mut() {
            if f.code.is_none() && f.reply.is_none_or(|r| r >= 500) && f.state == State::Queued {
                f.state = if f.reason == "expired" {
                    State::Expired
                } else {
                    State::Failed
                };
                f.severity = Severity::Permanent;
            }
        }
    }
    // a bounce whose subject says the retries ran out (`Returned mail: Cannot send message
    // for 5 days`): its failures without a permanent code expired
    if bounce
        && doc
            .subject
            .as_deref()
            .is_some_and(|s| reason::find(s.as_bytes()) == Some("expired"))
    {
        for (f, _) in found.iter_mut() {
            if f.state == State::Failed && f.code.is_none_or(|c| c.class == 4) {
                f.state = State::Expired;
            }
        }
    }
    // DSN actions: delayed -> still queued; failed -> temporary codes ran out of retries
    let actions = LastBy::new(&st.actions);
    let retry_until = LastBy::new(&st.retry_until);
    for (f, _) in found.iter_mut() {
        f.retry_until = retry_until
            .get(&f.recipient)
            .and_then(|t| crate::time::parse(t, opts.now));
        match actions.get(&f.recipient) {
            Some(a) if a.starts_with("delayed") => f.state = State::Queued,
            Some(a) if a.starts_with("failed") && f.state == State::Queued => {
                f.state = State::Expired
            }
            // not in RFC 3464, but what some senders write when retries ran out
            Some(a) if a.starts_with("expired") && f.state != State::Delivered => {
                f.state = State::Expired
            }
            _ => {}
        }
    }
    // one root cause per recipient; with a single recipient, the document is one group
    let mut recipients = found.iter().filter_map(|(f, _)| f.recipient.as_ref());
    if let Some(only) = recipients.next().cloned()
        && recipients.all(|r| *r == only)
    {
        for (f, _) in found.iter_mut() {
            if f.recipient.is_none() {
                f.recipient = Some(only.clone());
            }
        }
    }
    // groups in order of first appearance (a map, so that thousands of recipients stay cheap)
    let keys = group_keys(&found);
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut index: HashMap<Option<String>, usize> = HashMap::new();
    for (i, key) in keys.into_iter().enumerate() {
        let g = *index.entry(key).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[g].push(i);
    }
    let mut keep = vec![true; found.len()];
    for idx in groups {
        let mut group: Vec<(Finding, u8)> = idx.iter().map(|&i| found[i].clone()).collect();
        settle_group(&mut group, true);
        // the destination a document names on another line of the same recipient (the
        // prose's `connect to mx[ip]` beside the DSN's `Status:`)
        if let Some(r) = group.iter().position(|(f, _)| f.root_cause)
            && group[r].0.remote_host.is_none()
            && group[r].0.remote_ip.is_none()
            && let Some((host, ip)) = group
                .iter()
                .map(|(f, _)| f)
                .find(|f| f.remote_host.is_some() || f.remote_ip.is_some())
                .map(|f| (f.remote_host.clone(), f.remote_ip.clone()))
        {
            group[r].0.remote_host = host;
            group[r].0.remote_ip = ip;
        }
        // words without a code or symptom are findings where nothing else is: beside a
        // code they have named its reason, and would only repeat it
        let coded = group
            .iter()
            .any(|(f, _)| f.code.is_some() || f.symptom.is_some());
        for ((g, _), &i) in group.iter().zip(&idx) {
            keep[i] = !coded || g.root_cause || g.code.is_some() || g.symptom.is_some();
        }
        for (g, i) in group.into_iter().zip(idx) {
            found[i] = g;
        }
    }
    // a bounce always gets a root cause: when nothing in it was recognised, its own failure
    // text, for its first recipient, with the reason undefined
    if !found.iter().any(|(f, _)| f.root_cause)
        && (doc.bounce || (bounce && first_recipient.is_some()))
        && let Some((line_no, text)) = failure_text.or(marker_text)
    {
        let hit = Hit::words_only(bare_reply(&text), reason::find(&text));
        let mut ctx = context::line_context(&text);
        ctx.recipient = ctx.recipient.or_else(|| first_recipient.clone());
        ctx.message_id = ctx.message_id.or_else(|| doc.message_id.clone());
        ctx.timestamp = ctx.timestamp.or_else(|| st.timestamp.clone());
        let site = Site {
            line: &text,
            line_no,
            origin,
            verdict: context::verdict(&text),
            ctx,
            now: opts.now,
            stage: st.stage,
            direction: Direction::Outbound,
            mta: None,
            platform: doc_platform,
        };
        let mut f = finding_of(hit, &site);
        match actions.get(&f.recipient) {
            Some(a) if a.starts_with("delayed") => f.state = State::Queued,
            _ if f.state == State::Queued && f.reply.is_none() => {
                f.state = State::Failed;
                f.severity = Severity::Permanent;
            }
            _ => {}
        }
        let mut group = vec![(f, 0)];
        settle_group(&mut group, true);
        found.extend(group);
        keep.push(true);
    }
    out.extend(
        found
            .into_iter()
            .zip(keep)
            .filter(|(_, k)| *k)
            .map(|((f, _), _)| f),
    );
}

/// The extraction patterns, in steps that can run on several threads at once: compiling
/// them all takes a few milliseconds, and every input needs most of them.
pub(crate) const WARM: &[&[fn()]] = &[
    symptom::WARM,
    codes::WARM,
    context::WARM,
    crate::re::warm_steps![
        NESTED,
        ORIGINAL_MARKER,
        BOUNCE_MARKER,
        DELAY_NOTICE,
        DSN_FIELD,
        DIAGNOSTIC_FIELD,
        STATUS_FIELD,
        BARE_REPLY,
    ],
    reason::WARM,
    noise::WARM,
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::Document;

    fn log(text: &str) -> Vec<Finding> {
        let mut out = Vec::new();
        scan_log(
            text.as_bytes(),
            1,
            &Origin {
                path: "t",
                message: 1,
            },
            &Options::default(),
            &mut out,
        );
        out
    }

    fn doc(text: &str) -> Vec<Finding> {
        let d = Document::text(text.as_bytes().to_vec());
        let mut out = Vec::new();
        scan_document(
            &d,
            &Origin {
                path: "t",
                message: 1,
            },
            &Options::default(),
            &mut out,
        );
        out
    }

    #[test]
    fn sendmail_refused_is_one_finding() {
        let f = log(
            "Nov 9 12:01:31 host sendmail[4306]: jA9J1UvC004306: to=root, ctladdr=<root@example.org> (0/0), delay=00:00:00, xdelay=00:00:00, mailer=esmtp, pri=30005, relay=[127.0.0.1] [127.0.0.1], dsn=4.0.0, stat=Deferred: Connection refused by [127.0.0.1]\n",
        );
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].category, "connection-refused");
        assert_eq!(f[0].code_str(), "4.0.0");
        assert_eq!(f[0].entry, "4.4.316");
        assert_eq!(f[0].state, State::Queued);
        assert!(f[0].root_cause);
        assert_eq!(f[0].remote_ip.as_deref(), Some("127.0.0.1"));
        assert_eq!(f[0].message_id.as_deref(), Some("jA9J1UvC004306"));
    }

    #[test]
    fn look_alikes_are_not_findings() {
        assert!(log("Nov 9 12:00:01 host kernel: Linux version 2.6.5-1.358 (bhcompile@example.com) (gcc version 3.3.3)\n").is_empty());
        assert!(
            log(
                "Nov 9 12:00:01 host kernel: device-mapper: 4.1.0-ioctl (2003-12-10) initialised\n"
            )
            .is_empty()
        );
        assert!(log("Nov 9 12:00:02 host sshd[811]: error: connect to host 192.0.2.9 port 22: Connection refused\n").is_empty());
        assert!(
            log("Nov 9 12:00:03 host app[1]: route 10.4.4.31 via 5.4.3.2 up, build 4.4.1 ok\n")
                .is_empty()
        );
        assert!(log("2026-03-04 10:00:00 dpkg: status installed libfoo:amd64 5.2.1\n").is_empty());
    }

    #[test]
    fn postfix_lines_and_line_numbers() {
        let text = "Mar  4 12:33:09 mx1 postfix/smtp[1]: connect from unknown\nMar  4 12:33:10 mx1 postfix/smtp[21877]: 4QbZ2x1Hj7z9vN: to=<dana@example.com>, relay=none, delay=3605, delays=3600/0.02/5/0, dsn=4.4.1, status=deferred (connect to mail.example.com[192.0.2.25]:25: Connection refused)\nMar  4 12:35:02 mx1 postfix/smtp[21901]: 4QbZ2y0Kk8z9vP: to=<lee@example.net>, relay=mx.example.net[198.51.100.7]:25, delay=1.2, delays=0.1/0/0.5/0.6, dsn=5.1.1, status=bounced (host mx.example.net[198.51.100.7] said: 550 5.1.1 <lee@example.net>: Recipient address rejected: User unknown (in reply to RCPT TO command))\n";
        let f = log(text);
        assert_eq!(f.len(), 2, "{f:?}");
        assert_eq!(
            (f[0].line, f[0].category.as_str(), f[0].recipient.as_deref()),
            (2, "connection-refused", Some("dana@example.com"))
        );
        assert_eq!(
            (f[1].line, f[1].code_str().as_str(), f[1].state),
            (3, "5.1.1", State::Failed)
        );
        assert_eq!(f[1].remote_host.as_deref(), Some("mx.example.net"));
        assert!(f[0].root_cause && f[1].root_cause);
    }

    #[test]
    fn nested_reply_is_context() {
        let f = doc(
            "LED=450 4.4.317 Cannot connect to remote server [Message=451 5.7.3 STARTTLS is required to send mail] [LastAttemptedServerName=mail.example.com] [LastAttemptedIP=192.0.2.25:25]",
        );
        assert_eq!(f.len(), 2);
        let root: Vec<_> = f.iter().filter(|f| f.root_cause).collect();
        assert_eq!(root.len(), 1);
        assert_eq!(root[0].code_str(), "4.4.317");
        assert_eq!(
            root[0].remote_reply.as_deref(),
            Some("451 5.7.3 STARTTLS is required to send mail")
        );
        assert!(f.iter().any(|x| x.code_str() == "5.7.3" && x.nested));
    }

    #[test]
    fn expired_ndr_roots_on_connector_error() {
        let text = "Delivery has failed to these recipients or groups:\n\nDana Ito (dana@example.com)\nYour message wasn't delivered.\n\nDiagnostic information for administrators:\n\nGenerating server: AM0PR01MB1234.eurprd01.prod.exchangelabs.com\n\ndana@example.com\n3/5/2026 9:14:02 AM - Server at AM0PR01MB1234.eurprd01.prod.exchangelabs.com returned '550 5.4.316 Message expired, connection refused(Socket error code 10061)'\n3/5/2026 9:04:40 AM - Server at mail.example.com (192.0.2.25) returned '450 4.4.316 Connection refused [Message=Socket error code 10061] [LastAttemptedServerName=mail.example.com] [LastAttemptedIP=192.0.2.25:25]'\n\nOriginal message headers:\n\nX-Test: 550 5.1.1 quoted\n";
        let f = doc(text);
        assert_eq!(f.len(), 2, "{f:?}");
        let root = f.iter().find(|f| f.root_cause).unwrap();
        assert_eq!(
            (root.code_str().as_str(), root.state),
            ("4.4.316", State::Expired)
        );
        assert_eq!(root.recipient.as_deref(), Some("dana@example.com"));
        assert_eq!(root.remote_host.as_deref(), Some("mail.example.com"));
        assert_eq!(root.line, 12);
        assert!(
            f.iter()
                .all(|f| f.entry == "4.4.316" && f.state == State::Expired)
        );
    }

    #[test]
    fn quoted_replies_follow_their_error() {
        let f = doc(
            "550 5.4.317 Message expired, cannot connect to remote server(451 5.7.3 STARTTLS is required to send mail)",
        );
        let outer = f.iter().find(|x| x.code_str() == "5.4.317").unwrap();
        let inner = f.iter().find(|x| x.code_str() == "5.7.3").unwrap();
        assert!(inner.nested && outer.root_cause);
        assert_eq!(
            outer.remote_reply.as_deref(),
            Some("451 5.7.3 STARTTLS is required to send mail")
        );
        assert_eq!((outer.state, inner.state), (State::Expired, State::Expired));
        let f = doc(
            "450 4.4.317 Cannot connect to remote server [Message=451 5.7.3 STARTTLS is required to send mail]",
        );
        assert!(f.iter().all(|x| x.state == State::Queued), "{f:?}");
        let f = log(
            "Mar  4 12:39:30 mx1 postfix/smtp[1]: AB12: to=<a@example.com>, relay=mx.example.com[192.0.2.9]:25, dsn=4.7.5, status=deferred (TLS is required, but was not offered by host mx.example.com[192.0.2.9])\n",
        );
        assert_eq!(f[0].category, "cannot-connect");
    }

    #[test]
    fn japanese_original_message_is_not_scanned() {
        let f = doc(
            "Diagnostic-Code: smtp; 550 5.1.1 unknown\n------ 元のメッセージ ------\nX-Old: 421 4.4.2 quoted\n",
        );
        assert_eq!(
            f.iter().map(|x| x.code_str()).collect::<Vec<_>>(),
            ["5.1.1"]
        );
    }

    #[test]
    fn one_finding_per_line_per_code() {
        let f = log(
            "Mar  4 12:35:02 mx1 postfix/smtp[1]: AB12CD34EF: to=<a@example.net>, dsn=5.1.1, status=bounced (host x[192.0.2.1] said: 550 5.1.1 unknown)\n",
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].reply, Some(550));
    }

    #[test]
    fn success_codes_only_with_all() {
        let line = "Mar  4 12:35:02 mx1 postfix/smtp[1]: AB12CD34EF: to=<a@example.net>, dsn=2.0.0, status=sent (250 2.0.0 Ok)\n";
        assert!(log(line).is_empty());
        let mut out = Vec::new();
        scan_log(
            line.as_bytes(),
            1,
            &Origin {
                path: "t",
                message: 1,
            },
            &Options {
                all: true,
                now: 0,
                ..Options::default()
            },
            &mut out,
        );
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].state, State::Delivered);
    }

    #[test]
    fn delayed_dsn_is_queued() {
        let text = "Reporting-MTA: dns;mx.example.org\n\nFinal-Recipient: rfc822;dana@example.com\nAction: delayed\nStatus: 4.4.7\nDiagnostic-Code: smtp;400 4.4.7 Message delayed\nWill-Retry-Until: Thu, 5 Mar 2026 09:12:44 +0000\n";
        let f = doc(text);
        assert!(!f.is_empty());
        assert!(f.iter().all(|f| f.state == State::Queued), "{f:?}");
    }

    #[test]
    fn without_recipients_each_destination_is_a_failure_of_its_own() {
        let roots = |fs: &[Finding]| {
            fs.iter()
                .filter(|f| f.root_cause)
                .map(|f| f.code.map(|c| c.to_string()).unwrap_or_default())
                .collect::<Vec<_>>()
        };
        // a queue listing: the line without a destination goes with the queue above it
        let queues = doc(
            "NextHopDomain : mail.example.com\nLastError : 451 4.4.0 Primary target IP address responded with: \"421 4.4.2 Connection dropped.\"\nStatus : 451 4.4.0 retry later\n\nNextHopDomain : example.net\nLastError : 451 4.4.0 DNS query failed. nonexistent domain\n",
        );
        assert_eq!(roots(&queues), ["4.4.0", "4.4.0"]);
        assert_eq!(
            queues.last().unwrap().remote_host.as_deref(),
            Some("example.net")
        );
        // one delivery's lines, one naming the server and one not: still one failure, and the
        // expiry settles across them
        let ndr = doc(
            "Remote server returned '550 5.4.316 Message expired, connection refused(Socket error code 10061)'\n450 4.4.316 Connection refused [Message=Socket error code 10061] [LastAttemptedServerName=mail.example.com] [LastAttemptedIP=192.0.2.25:25]\n",
        );
        assert_eq!(ndr.iter().filter(|f| f.root_cause).count(), 1);
        assert!(ndr.iter().all(|f| f.state == State::Expired), "{ndr:?}");
    }
}
