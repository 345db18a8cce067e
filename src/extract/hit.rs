//! A line's hits (codes, failure words, the MTA's verdict) and the finding each makes, with
//! the scan's options and the origin of the text.

use super::context::{self, Verdict};
use super::finding::*;
use super::limits::Cuts;
use super::reason::Basis;
use super::{codes, reason, symptom};
use crate::catalog::{self, Catalog, Code, Severity};
use crate::re::Line;
use crate::sanitize;
use std::sync::LazyLock;

/// What to report, and the catalog that explains it.
#[derive(Clone, Copy)]
pub struct Options {
    /// Also report 2.x.x success codes.
    pub all: bool,
    /// Success reports are wanted only to settle deliveries (the summary, not `--all`):
    /// a log line of one is read for its delivery's key and time alone.
    pub successes_settle_only: bool,
    /// The reference time (UTC seconds): supplies the year of a BSD syslog timestamp.
    pub now: i64,
    /// The codes, their entries and categories (the built-in one by default).
    pub catalog: &'static Catalog,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            all: false,
            successes_settle_only: false,
            now: 0,
            catalog: catalog::builtin_or_empty(),
        }
    }
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
pub(super) fn is_connector(c: Code) -> bool {
    matches!(
        (c.class, c.subject, c.detail),
        (4 | 5, 4, 312 | 315 | 316 | 317 | 318) | (4 | 5, 7, 320)
    )
}

/// The system whose queue holds a finding's message: what the input told (the MTA of a log
/// line, a trace's kind, a bounce's layout), else Exchange Online for its own codes (the
/// connector errors, three-digit details), else any mail server.
pub(super) fn platform_of(site: &Site<'_>, code: Option<Code>) -> &'static str {
    site.platform.or(site.mta).unwrap_or(
        if code.is_some_and(|c| is_connector(c) || c.detail >= 100) {
            crate::runbook::EXCHANGE_ONLINE
        } else {
            crate::runbook::GENERIC
        },
    )
}

/// A generic code says little by itself: the symptom on the same line names the failure.
pub(super) fn is_generic(c: Code, symptom: &str) -> bool {
    c.detail == 0
        || (c.subject == 4 && c.detail < 10)
        || (c.subject == 7
            && (c.detail == 5 || c.detail == 10)
            && (symptom == symptom::CERTIFICATE || symptom == symptom::CANNOT_CONNECT))
        || (c.subject == 3 && c.detail == 2 && symptom == symptom::CANNOT_CONNECT)
        || (c.subject == 4 && c.detail == 397)
}

/// Expiry wrappers: they say that retries ran out, not why.
pub(super) fn is_expiry_wrapper(c: Code) -> bool {
    matches!((c.subject, c.detail), (4, 7) | (4, 300))
}

/// A code or symptom on one line, before context is attached.
#[derive(Debug, Clone)]
pub(super) struct Hit {
    pub(super) code: Option<Code>,
    pub(super) reply: Option<u16>,
    pub(super) anchored: bool,
    pub(super) symptom: Option<(&'static str, String)>,
    /// category set by the symptom rather than the code
    pub(super) overridden: bool,
    pub(super) nested: bool,
    pub(super) remote_reply: Option<String>,
    /// the reason the line's words name
    pub(super) words: Option<&'static str>,
}

impl Hit {
    /// A failure stated in words (and perhaps a bare reply code) only.
    pub(super) fn words_only(reply: Option<u16>, words: Option<&'static str>) -> Hit {
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
pub(super) static NESTED: LazyLock<Line> = LazyLock::new(|| {
    crate::re::line(
        r#"(?i)\[Message=([^\]]*)\]|responded with:?\s*"?([^"]*)"?|->\s*([^>]*?)(?:\s*->|$)|\(((?:[245][0-9][0-9][ -])?[245]\.[0-9]{1,3}\.[0-9]{1,3}[^()]*)\)"#,
    )
});

pub(super) fn nested_spans(line: &[u8]) -> Vec<(usize, usize)> {
    NESTED
        .captures_iter(line)
        .filter_map(|c| (1..=4).find_map(|i| c.get(i)).map(|m| (m.start(), m.end())))
        .collect()
}

/// `said` is the line with the lines that continue it (a folded reply): where the words of
/// the reply are read.
pub(super) fn analyze(
    line: &[u8],
    said: &[u8],
    doc_mail: bool,
    opts: &Options,
    cuts: &mut Cuts,
) -> Vec<Hit> {
    analyze_with(line, said, doc_mail, true, opts, cuts)
}

/// `analyze`; without `words_alone`, words with nothing else on the line are no finding (the
/// line continues one above, whose finding has read them).
pub(super) fn analyze_with(
    line: &[u8],
    said: &[u8],
    doc_mail: bool,
    words_alone: bool,
    opts: &Options,
    cuts: &mut Cuts,
) -> Vec<Hit> {
    // whether the line is about mail is asked only when the answer matters (a bare code, or a
    // symptom with no anchored code): the common log line, `dsn=4.4.1 ...`, never needs it
    let mut mail_known: Option<bool> = doc_mail.then_some(true);
    let mut mail = || *mail_known.get_or_insert_with(|| symptom::is_mail_line(line));
    let mut all = codes::find_all(line, cuts);
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
            // a part of the line, whose cut (if any) the line's own search counted
            codes::find(t.as_bytes(), true, &mut Cuts::default())
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
pub(super) static BARE_REPLY: LazyLock<Line> =
    LazyLock::new(|| crate::re::line(r"(?:^|[\s:;(\[<>\x22'=#])([45][0-5][0-9])(?:[ -]|$)"));

pub(super) fn bare_reply(line: &[u8]) -> Option<u16> {
    let m = BARE_REPLY.captures(line)?.get(1)?;
    std::str::from_utf8(m.as_bytes()).ok()?.parse().ok()
}

/// Turns a hit into a finding: catalog entry, category, severity, first-guess state.
/// Where hits were found: the line and what is known around it.
pub(super) struct Site<'a> {
    pub(super) line: &'a [u8],
    pub(super) line_no: u64,
    pub(super) origin: &'a Origin<'a>,
    pub(super) ctx: context::LineContext,
    pub(super) verdict: Option<Verdict>,
    pub(super) now: i64,
    /// the SMTP stage the reply was given at, when known
    pub(super) stage: Option<reason::Stage>,
    /// whose delivery it is
    pub(super) direction: Direction,
    /// the MTA that wrote the line
    pub(super) mta: Option<&'static str>,
    /// the system whose queue holds the message, when the input tells (a bounce's layout)
    pub(super) platform: Option<&'static str>,
    /// the catalog that explains the findings
    pub(super) catalog: &'static Catalog,
}

pub(super) fn finding_of(hit: Hit, site: &Site<'_>) -> Finding {
    let (line, line_no, origin, verdict) = (site.line, site.line_no, site.origin, site.verdict);
    let ctx = site.ctx.clone();
    let cat = site.catalog;
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
        (code, _) => entry_for(cat, code, reason, basis != Basis::Code),
    };
    // an incoming client refused by our server is not explained with Microsoft 365's or a
    // connector's steps: the registry's meaning of the code, or the reason's entry
    let (entry, known, category) = if site.direction == Direction::Inbound {
        inbound_entry(cat, hit.code, reason).unwrap_or((entry, known, category))
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
pub(super) fn inbound_entry(
    cat: &Catalog,
    code: Option<Code>,
    reason: &'static str,
) -> Option<(String, bool, String)> {
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
pub(super) fn entry_for(
    cat: &Catalog,
    code: Option<Code>,
    reason: &'static str,
    from_words: bool,
) -> (String, bool, String) {
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

pub(super) fn trim_eol(line: &[u8]) -> &[u8] {
    let mut l = line;
    while let [rest @ .., b'\n' | b'\r'] = l {
        l = rest;
    }
    l
}
