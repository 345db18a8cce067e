//! Ranking: of the findings of one line or one recipient, which is the root cause, and
//! which words settle a generic code.

use super::finding::*;
use super::hit::*;
use super::reason::Basis;
use super::{reason, symptom};
use crate::catalog::{Catalog, Severity};

/// A coded finding whose category a symptom phrase set (`dsn=4.4.1 ... Connection refused`).
pub(super) fn mapped_by_symptom(f: &Finding) -> bool {
    f.code.is_some()
        && f.symptom.is_some()
        && f.entry != f.code_str()
        && is_seed_category(&f.category)
}

/// How strongly a finding claims to be the root cause of its group (higher wins): first the
/// kind of evidence (connector errors, then failures a symptom names, then plain codes,
/// quoted replies and expiry wrappers), then where it stood (a DSN's Diagnostic-Code, its
/// Status, an SMTP reply, a bare token), then how specific the code is.
pub(super) fn rank(f: &Finding, weight: u8) -> (u8, u8, u8, u8) {
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

pub(super) fn is_seed_category(c: &str) -> bool {
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
pub(super) fn settle_group(cat: &Catalog, group: &mut [(Finding, u8)], across_lines: bool) {
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
            words_across_lines(cat, group, i);
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
                let (entry, known, category) = entry_for(cat, f.code, "expired", true);
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
pub(super) fn words_across_lines(cat: &Catalog, group: &mut [(Finding, u8)], root: usize) {
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
        let (entry, known, category) = entry_for(cat, f.code, reason, basis != Basis::Code);
        f.entry = entry;
        f.known = known;
        f.category = category;
    }
}

/// The highest-ranked finding among those `keep` accepts (the first of equals).
pub(super) fn best_index(
    group: &[(Finding, u8)],
    keep: impl Fn(&Finding) -> bool,
) -> Option<usize> {
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

/// The findings of one line's hits; a reply quoted inside another error shares that
/// error's state (the 5.7.3 inside a queued 4.4.317 is queued too).
pub(super) fn line_findings(hits: Vec<Hit>, site: &Site<'_>) -> Vec<Finding> {
    let mut found: Vec<Finding> = hits.into_iter().map(|h| finding_of(h, site)).collect();
    if let Some(outer) = found.iter().find(|f| !f.nested).map(|f| f.state) {
        for f in found.iter_mut().filter(|f| f.nested) {
            f.state = outer;
        }
    }
    found
}

pub(super) fn push_group(hits: Vec<Hit>, site: &Site<'_>, out: &mut Vec<Finding>) {
    let mut group: Vec<(Finding, u8)> = line_findings(hits, site)
        .into_iter()
        .map(|f| (f, 0))
        .collect();
    settle_group(site.catalog, &mut group, false);
    out.extend(group.into_iter().map(|(f, _)| f));
}
