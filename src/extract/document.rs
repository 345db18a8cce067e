//! Documents: a bounce message or pasted text, scanned with context carried from line to
//! line and one root cause per recipient.

use super::context::{self};
use super::finding::*;
use super::hit::*;
use super::limits;
use super::limits::Counts;
use super::rank::*;
use super::reason;
use crate::catalog::Severity;
use crate::input::{Document, PartKind, lines};
use crate::re::Line;
use crate::sanitize;
use memchr::memchr;
use regex::bytes::Regex;
use std::collections::HashMap;
use std::sync::LazyLock;

/// Lines that end the diagnostic part of a bounce: what follows is the returned original
/// message, whose codes are not findings.
pub(super) static ORIGINAL_MARKER: LazyLock<Line> = LazyLock::new(|| {
    crate::re::line(
        r"(?i)^\s*(?:original message headers:?|-+ ?(?:this is a copy of the message|below this line is a copy of the message|original message|the original message|a copy of the original message|ursprüngliche nachricht|message d'origine|元のメッセージ|元メッセージ|送信したメッセージ)|-+ ?returned message|content-type: (?:message/rfc822|text/rfc822-headers))",
    )
});

/// Words that make a pasted text a bounce message (so symptoms in it count).
pub(super) static BOUNCE_MARKER: LazyLock<Regex> = LazyLock::new(|| {
    crate::re::bytes(concat!(
        r"(?i)delivery has failed|undeliver|delivery status notification|mail delivery (?:failed|subsystem|system)|returned mail|diagnostic information for administrators|remote server returned|final-recipient|diagnostic-code|non-delivery|could not be delivered|couldn't be delivered|wasn't delivered|delivery to the following recipient|message not delivered|failure notice|mailer-daemon|lastattemptedservername|\bLED=|generating server|delivery is delayed|delivery incomplete|",
        // German, French, Spanish, Japanese
        r"unzustellbar|konnte nicht zugestellt werden|n'a pas pu (?:\xc3\xaatre|etre) (?:remis|distribu)|no se (?:ha podido|pudo) entregar|",
        r"\xe9\x85\x8d\xe4\xbf\xa1\xe3\x81\xa7\xe3\x81\x8d\xe3\x81\xbe\xe3\x81\x9b\xe3\x82\x93\xe3\x81\xa7\xe3\x81\x97\xe3\x81\x9f|\xe9\x80\x81\xe4\xbf\xa1\xe3\x81\xa7\xe3\x81\x8d\xe3\x81\xbe\xe3\x81\x9b\xe3\x82\x93\xe3\x81\xa7\xe3\x81\x97\xe3\x81\x9f|\xe9\x85\x8d\xe9\x80\x81\xe3\x81\xa7\xe3\x81\x8d\xe3\x81\xbe\xe3\x81\x9b\xe3\x82\x93\xe3\x81\xa7\xe3\x81\x97\xe3\x81\x9f"
    ))
});

/// Words of a delay notice: the sender still retries.
pub(super) static DELAY_NOTICE: LazyLock<Regex> = LazyLock::new(|| {
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
pub(super) struct LastBy<'a> {
    pub(super) unnamed: Option<(usize, &'a str)>,
    pub(super) named: HashMap<&'a str, (usize, &'a str)>,
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
pub(super) fn group_keys(found: &[(Finding, u8)]) -> Vec<Option<String>> {
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
pub(super) struct DocState {
    pub(super) recipient: Option<String>,
    pub(super) remote_host: Option<String>,
    pub(super) remote_ip: Option<String>,
    pub(super) timestamp: Option<String>,
    /// DSN `Action:` per recipient
    pub(super) actions: Vec<(Option<String>, String)>,
    /// DSN `Will-Retry-Until:` per recipient
    pub(super) retry_until: Vec<(Option<String>, String)>,
    /// the SMTP stage the last reply was given at
    pub(super) stage: Option<reason::Stage>,
}

/// What a bounce says about a recipient: the line that names it, with its folded lines, and
/// the next line that says something when the line is little more than the address.
pub(super) fn said_about(all: &[&[u8]], i: usize, recipient: &str) -> Vec<u8> {
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
pub(super) const FOLD_LINES: usize = 8;
pub(super) const FOLD_BYTES: usize = 4096;

/// A line with the indented lines that continue it (`said: 550 Protocol` / `    violation
/// (in reply to DATA command)`), joined with spaces into `buf`; the line itself when none do.
pub(super) fn folded<'a, 'b: 'a>(all: &[&'b [u8]], i: usize, buf: &'a mut Vec<u8>) -> &'a [u8] {
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
pub(super) fn push_continued(buf: &mut Vec<u8>, line: &[u8]) {
    buf.push(b' ');
    let t = trim_eol(line);
    let start = t
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(t.len());
    buf.extend_from_slice(&t[start..]);
}

pub(super) static DSN_FIELD: LazyLock<Line> = LazyLock::new(|| {
    crate::re::line(
        r"(?i)^\s*(action|remote-mta|last-attempt-date|will-retry-until|receiving server|nexthopdomain)\s*:\s*(.*?)\s*$",
    )
});

pub(super) static DIAGNOSTIC_FIELD: LazyLock<Line> =
    LazyLock::new(|| crate::re::line(r"(?i)^\s*diagnostic-code:"));
pub(super) static STATUS_FIELD: LazyLock<Line> =
    LazyLock::new(|| crate::re::line(r"(?i)^\s*status:"));

/// Scans a whole document (a bounce message, or pasted text). Findings inside the returned
/// original message are skipped; each recipient gets one root cause.
pub fn scan_document(
    doc: &Document,
    origin: &Origin,
    opts: &Options,
    out: &mut Vec<Finding>,
    counts: &mut Counts,
) {
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
                counts.cuts.documents += 1;
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
            let hits = analyze_with(line, said, bounce, !continues_above, opts, &mut counts.cuts);
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
                catalog: opts.catalog,
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
        settle_group(opts.catalog, &mut group, true);
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
            catalog: opts.catalog,
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
        settle_group(opts.catalog, &mut group, true);
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
