//! Output: one module per format. Renderers only read findings and the catalog; they never
//! parse input. Everything taken from the input is made safe here (see `sanitize`).

pub(crate) mod github;
pub(crate) mod human;
pub mod json;
pub(crate) mod markdown;
pub(crate) mod probe;
pub(crate) mod wrap;

use crate::catalog::{self, Catalog, Entry, Lang, Texts};
use crate::deliveries::{Delivery, DeliveryReport};
use crate::extract::{Finding, State};
use crate::runbook::{self, Shell, Slots};
use std::collections::BTreeMap;
use std::io::{self, Write};

/// How to present.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    /// The catalog whose texts explain the findings.
    pub catalog: &'static catalog::Catalog,
    /// The language of the texts and labels.
    pub lang: Lang,
    /// Whether to colour the human output with ANSI escapes.
    pub color: bool,
    /// Display columns the human output wraps to.
    pub width: usize,
}

/// The width when the output is not a terminal and `--width` is not given.
pub const DEFAULT_WIDTH: usize = 100;

/// Running totals of a diagnosis, kept by the driver and shown at the end.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    pub(crate) inputs: usize,
    pub(crate) findings: usize,
    pub(crate) root_causes: usize,
    pub(crate) by_code: BTreeMap<String, usize>,
    pub(crate) by_category: BTreeMap<String, usize>,
    pub(crate) by_state: BTreeMap<String, usize>,
    /// Findings about incoming clients our server refused (`direction: inbound`), counted
    /// apart from our own failed deliveries.
    pub inbound: usize,
    /// Log lines where an incoming client hung up on our server or went silent: not
    /// failures and not findings, only counted.
    pub client_disconnects: u64,
    /// Inputs that could not be read (path and reason), shown in the summary.
    pub errors: Vec<String>,
}

impl Tally {
    /// Counts a finding: in the totals (findings, root causes, inbound) and by code,
    /// category and state.
    pub fn add(&mut self, f: &Finding) {
        self.findings += 1;
        if f.direction == crate::extract::Direction::Inbound {
            self.inbound += 1;
        }
        if f.root_cause {
            self.root_causes += 1;
        }
        *self
            .by_code
            .entry(f.code.map_or_else(|| "none".to_string(), |c| c.to_string()))
            .or_default() += 1;
        *self.by_category.entry(f.category.clone()).or_default() += 1;
        *self
            .by_state
            .entry(f.state.as_str().to_string())
            .or_default() += 1;
    }
}

/// The texts that explain a finding in one language: its entry's, and for a code without an
/// entry of its own, the fallback's plus the EOP "other error" guidance. Fixes and checks are
/// templates: print them through [`Explanation::step`], which fills in the finding's values.
pub(crate) struct Explanation<'a> {
    pub entry: Option<&'a Entry>,
    pub title: &'a str,
    pub summary: &'a str,
    pub causes: Vec<&'a str>,
    pub fixes: Vec<&'a str>,
    pub verify: Vec<&'a str>,
    /// The finding's values for the steps' slots, and the shell its commands are for.
    pub slots: Option<(Slots<'a>, Shell)>,
}

impl Explanation<'_> {
    /// A fix or check with its slots filled (placeholders when there is no finding).
    pub fn step<'t>(&self, template: &'t str) -> std::borrow::Cow<'t, str> {
        let (slots, shell) = match &self.slots {
            Some((s, sh)) => (s.clone(), *sh),
            None => (Slots::default(), Shell::Sh),
        };
        runbook::fill(template, &slots, shell, &|v| v.to_string())
    }

    /// The first fix, filled in (the summary's "top fix").
    pub fn top_fix(&self) -> String {
        self.fixes
            .first()
            .map(|f| self.step(f).into_owned())
            .unwrap_or_default()
    }
}

/// An entry's texts as the catalog has them (Exchange Online's), with the EOP "any other
/// error" guidance for a code without an entry of its own.
pub(crate) fn explain(
    cat: &'static Catalog,
    entry_key: &str,
    known: bool,
    lang: Lang,
) -> Explanation<'static> {
    explain_entry(cat, entry_key, known, true, lang)
}

/// An entry's texts; `other`: a code without an entry of its own also gets the EOP "any other
/// error" guidance (Exchange Online's; other platforms get their runbook's instead).
fn explain_entry(
    cat: &'static Catalog,
    entry_key: &str,
    known: bool,
    other: bool,
    lang: Lang,
) -> Explanation<'static> {
    let entry = cat.by_key(entry_key);
    let t: Option<&Texts> = entry.map(|e| e.texts(lang));
    let mut x = Explanation {
        entry,
        title: t.map_or("", |t| t.title.as_str()),
        summary: t.map_or("", |t| t.summary.as_str()),
        causes: t.map_or_else(Vec::new, |t| t.causes.iter().map(String::as_str).collect()),
        fixes: t.map_or_else(Vec::new, |t| t.fixes.iter().map(String::as_str).collect()),
        verify: t.map_or_else(Vec::new, |t| t.verify.iter().map(String::as_str).collect()),
        slots: None,
    };
    if let Some(o) = cat
        .other()
        .filter(|o| other && !known && Some(o.code.as_str()) != entry.map(|e| e.code.as_str()))
    {
        let ot = o.texts(lang);
        if x.title.is_empty() {
            x.title = &ot.title;
            x.summary = &ot.summary;
        }
        for f in &ot.fixes {
            if !x.fixes.contains(&f.as_str()) {
                x.fixes.push(f);
            }
        }
    }
    x
}

/// An entry's texts for the system whose queue holds the message: Exchange Online's are the
/// catalog's own; elsewhere an Exchange Online entry is explained by its runbook's generic
/// texts or by the registry's entry for the code, and the platform's steps (or the generic
/// ones) of each kind the entry's runbook names are added; the queue's steps only while the
/// message is `queued` (a bounced or expired message has left the queue: it is resent).
pub(crate) fn explain_on(
    cat: &'static Catalog,
    entry_key: &str,
    known: bool,
    platform: &str,
    queued: bool,
    lang: Lang,
) -> Explanation<'static> {
    if platform == runbook::EXCHANGE_ONLINE {
        return explain(cat, entry_key, known, lang);
    }
    let mut x = explain_entry(cat, entry_key, known, false, lang);
    let microsoft = |e: &Entry| matches!(e.source.as_str(), "exchange-online" | "eop-connector");
    let mut book = runbook::of_entry(entry_key);
    if !known {
        book = book.or_else(|| runbook::of_entry(catalog::OTHER));
    }
    if book.is_none_or(|b| b.generic.is_none())
        && let Some(e) = x.entry.filter(|e| microsoft(e))
        && let Some(reg) = catalog::Code::parse(&e.code).map(|c| c.with_class(0).to_string())
        && let Some(r) = cat.by_key(&reg)
    {
        // Exchange Online's meaning of the code is not this platform's: the registry's
        x = explain_entry(cat, &r.code, true, false, lang);
        book = runbook::of_entry(&r.code).or(book);
    }
    if let Some(b) = book {
        if let Some(g) = &b.generic {
            let t = if lang == Lang::Ja { &g.ja } else { &g.en };
            x.title = &t.title;
            x.summary = &t.summary;
            x.causes = t.causes.iter().map(String::as_str).collect();
            x.fixes = t.fixes.iter().map(String::as_str).collect();
            x.verify = t.verify.iter().map(String::as_str).collect();
        }
        for kind in &b.kinds {
            let kind = if kind == "queue" && !queued {
                "resend"
            } else {
                kind.as_str()
            };
            if let Some(s) = runbook::step(platform, kind) {
                let t = if lang == Lang::Ja { &s.ja } else { &s.en };
                x.fixes.extend(t.fixes.iter().map(String::as_str));
                x.verify.extend(t.verify.iter().map(String::as_str));
            }
        }
    }
    x
}

/// The texts that explain a finding: its entry's for its platform, or for an incoming client
/// that our server refused (`direction: inbound`), the receiving side's (what our server did,
/// and the steps of its admin) under the entry's title; with the finding's values for the
/// steps' slots.
pub(crate) fn explain_finding<'f>(
    cat: &'static Catalog,
    f: &'f Finding,
    lang: Lang,
) -> Explanation<'f> {
    let queued = f.state == State::Queued;
    let mut x = explain_for(
        cat,
        &f.entry,
        f.known,
        inbound_of(f),
        f.platform,
        queued,
        lang,
    );
    x.slots = Some((slots_of(f), Shell::of(f.platform)));
    x
}

/// A finding's values for the steps' slots.
pub(crate) fn slots_of(f: &Finding) -> Slots<'_> {
    let (queue_id, message_id) = split_id(f.message_id.as_deref());
    Slots {
        recipient: f.recipient.as_deref(),
        remote_host: f.remote_host.as_deref(),
        remote_ip: f.remote_ip.as_deref(),
        queue_id,
        message_id,
    }
}

/// A finding's or delivery's message id as the slot it fills: a log's is the MTA's queue id
/// (Postfix's `NOQUEUE` is none), a bounce's the original `Message-ID` (it holds an `@`).
fn split_id(id: Option<&str>) -> (Option<&str>, Option<&str>) {
    match id {
        Some(m) if m.contains('@') => (None, Some(m)),
        Some(m) if m != "NOQUEUE" => (Some(m), None),
        _ => (None, None),
    }
}

/// The receiving side's explanation that applies to a finding, if it is inbound.
pub fn inbound_of(f: &Finding) -> Option<&'static crate::reasons::Inbound> {
    (f.direction == crate::extract::Direction::Inbound)
        .then(|| crate::reasons::inbound(f.reason))
        .flatten()
}

/// [`explain_on`], with the receiving side's texts when `inbound` is given.
pub(crate) fn explain_for(
    cat: &'static Catalog,
    entry_key: &str,
    known: bool,
    inbound: Option<&'static crate::reasons::Inbound>,
    platform: &str,
    queued: bool,
    lang: Lang,
) -> Explanation<'static> {
    let mut x = explain_on(cat, entry_key, known, platform, queued, lang);
    if let Some(i) = inbound {
        let t = i.texts(lang == Lang::Ja);
        x.summary = &t.meaning;
        x.causes = Vec::new();
        x.fixes = t.fixes.iter().map(String::as_str).collect();
        x.verify = t.verify.iter().map(String::as_str).collect();
    }
    x
}

/// A format's writer: takes findings as they come (in input order) and closes with totals.
pub trait Renderer {
    /// Writes a batch of findings (or keeps them, for a format that writes at the end).
    fn findings(&mut self, w: &mut dyn Write, batch: &[Finding]) -> io::Result<()>;
    /// A warning about the run, as it happens (the driver prints it to standard error as
    /// well): `json` keeps it for its document; by default it is dropped.
    fn warning(&mut self, _w: &mut dyn Write, _message: &str) -> io::Result<()> {
        Ok(())
    }
    /// Closes the output; `report` holds the deliveries when the run grouped them.
    fn finish(
        &mut self,
        w: &mut dyn Write,
        tally: &Tally,
        report: Option<&DeliveryReport>,
    ) -> io::Result<()>;
}

/// How many destinations the human and markdown summaries list, most deliveries first
/// (json lists them all).
pub const TOP_DESTINATIONS: usize = 20;

/// How many deliveries are in each state: `3 queued, 1 expired`.
pub fn state_counts(r: &DeliveryReport, lang: Lang) -> String {
    let states: Vec<String> = r
        .by_state()
        .iter()
        .map(|(s, n)| match lang {
            Lang::En => format!("{n} {s}"),
            Lang::Ja => format!("{} {n} 件", state_word(s, lang)),
        })
        .collect();
    states.join(if lang == Lang::Ja { "、" } else { ", " })
}

/// A state's name in a language (`queued`, `キュー内` ...).
pub fn state_word(state: &str, lang: Lang) -> &str {
    match (lang, state) {
        (Lang::Ja, "queued") => "キュー内",
        (Lang::Ja, "expired") => "期限切れ",
        (Lang::Ja, "failed") => "失敗",
        (Lang::Ja, "delivered") => "配信済み",
        _ => state,
    }
}

/// "expires in 3h 10m" / "expired 2h 0m ago" for a delivery, relative to `now`; empty
/// when it has no expiry.
pub(crate) fn expiry_text(d: &Delivery, now: i64, lang: Lang) -> String {
    let Some(at) = d.expires_at else {
        return String::new();
    };
    let left = at - now;
    let dur = crate::time::human_duration(left);
    match (lang, left > 0) {
        (Lang::En, true) => format!("expires in {dur}"),
        (Lang::En, false) => format!("expired {dur} ago"),
        (Lang::Ja, true) => format!("あと {dur} で期限切れ"),
        (Lang::Ja, false) => format!("{dur} 前に期限切れ"),
    }
}

/// The first fix of an entry in one language (the summary's "top fix").
/// Slots left unfilled show their placeholders (a row of the summary is many deliveries).
pub fn top_fix(
    cat: &'static Catalog,
    entry: &str,
    known: bool,
    platform: &str,
    lang: Lang,
) -> String {
    explain_on(cat, entry, known, platform, true, lang).top_fix()
}

/// A delivery's explanation on its platform, with its values for the steps' slots.
pub(crate) fn explain_delivery<'a>(
    cat: &'static Catalog,
    d: &Delivery<'a>,
    lang: Lang,
) -> Explanation<'a> {
    let mut x = explain_on(
        cat,
        d.entry,
        d.known,
        d.platform,
        d.state == State::Queued,
        lang,
    );
    let (queue_id, message_id) = split_id(d.message_id);
    x.slots = Some((
        Slots {
            recipient: d.recipient,
            remote_host: d.destination.filter(|h| h.contains('.')),
            remote_ip: None,
            queue_id,
            message_id,
        },
        Shell::of(d.platform),
    ));
    x
}

/// Whether a finding is one the GitHub and Markdown reports list (root causes that are
/// not success reports).
pub fn reportable(f: &Finding) -> bool {
    f.root_cause && f.state != State::Delivered
}
