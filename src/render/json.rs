//! `--format json` (one document at the end) and `--format ndjson` (one finding per line,
//! written as found). The finding object is the contract documented in the README.

use super::{Renderer, Style, Tally, top_fix};
use crate::catalog::{Entry, Lang};
use crate::deliveries::{CategoryRow, Delivery, DeliveryReport, DestinationRow};
use crate::extract::Finding;
use crate::runbook::Segment;
use crate::sanitize::json_escape_extra;
use crate::time::rfc3339;
use serde::Serialize;
use std::io::{self, Write};

/// The finding object (schema 1): the fields taken from the input, then the entry's texts.
/// Field names are a contract: extend, never rename.
#[derive(Serialize)]
pub(crate) struct FindingJson<'a> {
    #[serde(flatten)]
    fields: FindingFields<'a>,
    #[serde(flatten)]
    texts: FilledTexts<'a>,
}

/// [`FindingTexts`] with the slots filled.
#[derive(Serialize)]
struct FilledTexts<'a> {
    title: &'a str,
    causes: Vec<&'a str>,
    fixes: Vec<std::borrow::Cow<'a, str>>,
    verify: Vec<std::borrow::Cow<'a, str>>,
}

impl<'a> FindingJson<'a> {
    /// A finding's object, with its entry's texts in `lang` and its values in their slots.
    pub(crate) fn new(f: &'a Finding, style: Style) -> FindingJson<'a> {
        let x = super::explain_finding(style.catalog, f, style.lang);
        FindingJson {
            fields: FindingFields::new(f),
            texts: FilledTexts {
                title: x.title,
                causes: x.causes.clone(),
                fixes: x.fixes.iter().map(|t| x.step(t)).collect(),
                verify: x.verify.iter().map(|t| x.step(t)).collect(),
            },
        }
    }
}

/// The keys of a finding object, in their order: what `--fields` may name.
pub const FINDING_KEYS: &[&str] = &[
    "path",
    "message",
    "line",
    "code",
    "reply",
    "entry",
    "known",
    "category",
    "severity",
    "state",
    "root_cause",
    "recipient",
    "remote_host",
    "remote_ip",
    "timestamp",
    "message_id",
    "excerpt",
    "remote_reply",
    "symptom",
    "nested",
    "time",
    "reason",
    "hard_bounce",
    "basis",
    "stage",
    "direction",
    "platform",
    "title",
    "causes",
    "fixes",
    "verify",
];

/// The keys that come from the catalog: a selection without them needs no texts.
const TEXT_KEYS: &[&str] = &["title", "causes", "fixes", "verify"];

/// A finding object with only some of its keys, in the order asked for.
struct Selected(Vec<(&'static str, serde_json::Value)>);

impl Serialize for Selected {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// A finding object with only the `fields` asked for (`--fields`), in their order.
fn selected(f: &Finding, style: Style, fields: &[&'static str]) -> io::Result<Selected> {
    let whole = if fields.iter().any(|k| TEXT_KEYS.contains(k)) {
        serde_json::to_value(FindingJson::new(f, style))
    } else {
        serde_json::to_value(FindingFields::new(f))
    }
    .map_err(io::Error::other)?;
    Ok(Selected(
        fields
            .iter()
            .map(|k| {
                (
                    *k,
                    whole.get(*k).cloned().unwrap_or(serde_json::Value::Null),
                )
            })
            .collect(),
    ))
}

/// One line of ndjson with only the `fields` asked for, in their order.
fn selected_line(
    f: &Finding,
    style: Style,
    fields: &[&'static str],
    out: &mut String,
) -> io::Result<()> {
    out.push_str(&to_safe_string(&selected(f, style, fields)?, false)?);
    Ok(())
}

/// The part of a finding object that comes from the input (everything but the texts).
#[derive(Serialize)]
struct FindingFields<'a> {
    path: &'a str,
    message: usize,
    line: u64,
    code: Option<String>,
    reply: Option<u16>,
    entry: &'a str,
    known: bool,
    category: &'a str,
    severity: &'static str,
    state: &'static str,
    root_cause: bool,
    recipient: Option<&'a str>,
    remote_host: Option<&'a str>,
    remote_ip: Option<&'a str>,
    timestamp: Option<&'a str>,
    message_id: Option<&'a str>,
    excerpt: &'a str,
    // extensions of schema 1
    remote_reply: Option<&'a str>,
    symptom: Option<&'a str>,
    nested: bool,
    /// `timestamp` in UTC, RFC 3339 (null when the line had none or it could not be read).
    time: Option<String>,
    /// What the failure is, in the shared vocabulary (sisimai's names).
    reason: &'static str,
    /// Resending the same message to the same address cannot succeed.
    hard_bounce: bool,
    /// What the reason rests on: `code`, `text` or `code+text`.
    basis: &'static str,
    /// The SMTP stage the reply answered, when the text says.
    stage: Option<&'static str>,
    /// `outbound` (our server could not deliver) or `inbound` (it refused an incoming client).
    direction: &'static str,
    /// The system whose queue holds the message: whose steps `fixes` and `verify` are.
    platform: &'static str,
}

impl<'a> FindingFields<'a> {
    fn new(f: &'a Finding) -> FindingFields<'a> {
        FindingFields {
            path: &f.path,
            message: f.message,
            line: f.line,
            code: f.code.map(|c| c.to_string()),
            reply: f.reply,
            entry: &f.entry,
            known: f.known,
            category: &f.category,
            severity: f.severity.as_str(),
            state: f.state.as_str(),
            root_cause: f.root_cause,
            recipient: f.recipient.as_deref(),
            remote_host: f.remote_host.as_deref(),
            remote_ip: f.remote_ip.as_deref(),
            timestamp: f.timestamp.as_deref(),
            message_id: f.message_id.as_deref(),
            excerpt: &f.excerpt,
            remote_reply: f.remote_reply.as_deref(),
            symptom: f.symptom.as_deref(),
            nested: f.nested,
            time: f.time.map(rfc3339),
            reason: f.reason,
            hard_bounce: f.hard_bounce,
            basis: f.basis.as_str(),
            stage: f.stage.map(|s| s.as_str()),
            direction: f.direction.as_str(),
            platform: f.platform,
        }
    }
}

/// The catalog part of a finding object (title, causes, fixes, verify): the templates of the
/// entry's texts for the finding's platform and direction (slots not yet filled).
#[derive(Serialize)]
struct FindingTexts<'a> {
    title: &'a str,
    causes: Vec<&'a str>,
    fixes: Vec<&'a str>,
    verify: Vec<&'a str>,
}

impl FindingTexts<'static> {
    fn new(f: &Finding, style: Style) -> FindingTexts<'static> {
        let queued = f.state == crate::extract::State::Queued;
        let x = super::explain_for(
            style.catalog,
            &f.entry,
            f.known,
            super::inbound_of(f),
            f.platform,
            queued,
            style.lang,
        );
        FindingTexts {
            title: x.title,
            causes: x.causes,
            fixes: x.fixes,
            verify: x.verify,
        }
    }
}

/// A value made safe inside a JSON string.
fn json_inner(v: &str) -> String {
    let s = serde_json::to_string(v).unwrap_or_default();
    let s = s
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or("");
    json_escape_extra(s).into_owned()
}

/// ndjson writes tens of thousands of findings that share a few entries: each entry's texts
/// are serialized once, and only the fields taken from the input (and the values of the
/// steps' slots) are put in per finding. The object is the same as `FindingJson` (a test
/// checks it).
#[derive(Default)]
pub struct TextCache {
    /// By entry (looked up by the finding's `&str`, so a finding costs no key of its own),
    /// then by what else the texts depend on.
    texts: std::collections::HashMap<String, std::collections::HashMap<TextsOf, Vec<Segment>>>,
}

/// What a finding's texts depend on beside its entry.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct TextsOf {
    known: bool,
    inbound: Option<&'static str>,
    platform: &'static str,
    queued: bool,
    lang: Lang,
    pretty: bool,
}

impl TextCache {
    /// Appends one finding object to `out` (ndjson's line).
    pub fn finding_line(&mut self, f: &Finding, style: Style, out: &mut String) -> io::Result<()> {
        self.finding(f, style, false, out)
    }

    /// Appends one finding object to `out`, compact or laid out by serde_json's pretty
    /// printer.
    pub fn finding(
        &mut self,
        f: &Finding,
        style: Style,
        pretty: bool,
        out: &mut String,
    ) -> io::Result<()> {
        let lang = style.lang;
        let fields = FindingFields::new(f);
        let head = to_safe_string(&fields, pretty)?;
        let of = TextsOf {
            known: f.known,
            inbound: super::inbound_of(f).map(|i| i.name.as_str()),
            platform: f.platform,
            queued: f.state == crate::extract::State::Queued,
            lang,
            pretty,
        };
        let cached = |c: &Self| {
            c.texts
                .get(f.entry.as_str())
                .and_then(|m| m.get(&of))
                .is_some()
        };
        if !cached(self) {
            let t = to_safe_string(&FindingTexts::new(f, style), pretty)?;
            // `texts...}` without its opening brace, cut at the steps' slots
            let open = if pretty { "{\n" } else { "{" };
            let t = crate::runbook::segments(t.strip_prefix(open).unwrap_or(&t));
            self.texts.entry(f.entry.clone()).or_default().insert(of, t);
        }
        // `{...fields}` + `,` + the texts with the finding's values in their slots
        let (close, comma) = if pretty { ("\n}", ",\n") } else { ("}", ",") };
        out.push_str(head.strip_suffix(close).unwrap_or(&head));
        out.push_str(comma);
        if let Some(texts) = self.texts.get(f.entry.as_str()).and_then(|m| m.get(&of)) {
            crate::runbook::fill_into(
                texts,
                &super::slots_of(f),
                crate::runbook::Shell::of(f.platform),
                &json_inner,
                out,
            );
        }
        Ok(())
    }
}

/// Serializes to JSON (laid out by serde_json's pretty printer when `pretty`), with the
/// characters serde_json leaves raw escaped too (see [`json_escape_extra`]).
pub(crate) fn to_safe_string<T: Serialize>(v: &T, pretty: bool) -> io::Result<String> {
    let s = if pretty {
        serde_json::to_string_pretty(v)
    } else {
        serde_json::to_string(v)
    };
    let s = s.map_err(io::Error::other)?;
    Ok(json_escape_extra(&s).into_owned())
}

/// A delivery object (documented in the README beside the finding).
#[derive(Serialize)]
pub(crate) struct DeliveryJson<'a> {
    pub message_id: Option<&'a str>,
    pub recipient: Option<&'a str>,
    pub destination: Option<&'a str>,
    pub first_attempt: Option<String>,
    pub last_attempt: Option<String>,
    pub attempts: usize,
    pub last_code: Option<String>,
    pub category: &'a str,
    pub state: &'static str,
    pub expires_at: Option<String>,
    // extensions
    pub expires_in_seconds: Option<i64>,
    pub entry: &'a str,
    pub known: bool,
    pub severity: &'static str,
    /// The last error's title and first fix; null once delivered (no failure is left).
    pub title: Option<&'a str>,
    pub top_fix: Option<String>,
    pub path: &'a str,
    pub line: u64,
    /// The reason of the last error, in the shared vocabulary (`delivered` once delivered).
    pub reason: &'static str,
    /// The last error is a hard bounce and the delivery failed for good.
    pub hard_bounce: bool,
}

impl<'a> DeliveryJson<'a> {
    /// A delivery's object; `now` (UTC seconds) gives `expires_in_seconds`.
    pub(crate) fn new(d: &Delivery<'a>, now: i64, style: Style) -> DeliveryJson<'a> {
        let lang = style.lang;
        let failing = d.state != crate::extract::State::Delivered;
        let x = failing.then(|| super::explain_delivery(style.catalog, d, lang));
        DeliveryJson {
            message_id: d.message_id,
            recipient: d.recipient,
            destination: d.destination,
            first_attempt: d.first_attempt.map(rfc3339),
            last_attempt: d.last_attempt.map(rfc3339),
            attempts: d.attempts,
            last_code: d.last_code.map(|c| c.to_string()),
            category: d.category,
            state: d.state.as_str(),
            expires_at: d.expires_at.map(rfc3339),
            expires_in_seconds: d.expires_at.map(|e| e - now),
            entry: d.entry,
            known: d.known,
            severity: d.severity.as_str(),
            title: x.as_ref().map(|x| x.title),
            top_fix: x.as_ref().map(|x| x.top_fix()),
            path: d.path,
            line: d.line,
            reason: d.reason,
            hard_bounce: d.hard_bounce,
        }
    }
}

#[derive(Serialize)]
struct CategoryJson<'a> {
    category: &'a str,
    code: Option<String>,
    entry: &'a str,
    findings: usize,
    messages: usize,
    recipients: usize,
    first_seen: Option<String>,
    last_seen: Option<String>,
    top_fix: String,
}

impl<'a> CategoryJson<'a> {
    fn new(r: &'a CategoryRow, style: Style) -> Self {
        CategoryJson {
            category: &r.category,
            code: r.code.map(|c| c.to_string()),
            entry: &r.entry,
            findings: r.findings,
            messages: r.messages,
            recipients: r.recipients,
            first_seen: r.first_seen.map(rfc3339),
            last_seen: r.last_seen.map(rfc3339),
            top_fix: top_fix(style.catalog, &r.entry, r.known, r.platform, style.lang),
        }
    }
}

#[derive(Serialize)]
struct DestinationJson<'a> {
    destination: &'a str,
    deliveries: usize,
    messages: usize,
    recipients: usize,
    first_seen: Option<String>,
    last_seen: Option<String>,
    top_category: &'a str,
    top_fix: String,
}

impl<'a> DestinationJson<'a> {
    fn new(r: &'a DestinationRow, style: Style) -> Self {
        DestinationJson {
            destination: &r.destination,
            deliveries: r.deliveries,
            messages: r.messages,
            recipients: r.recipients,
            first_seen: r.first_seen.map(rfc3339),
            last_seen: r.last_seen.map(rfc3339),
            top_category: &r.top_category,
            top_fix: top_fix(
                style.catalog,
                &r.top_entry,
                r.top_known,
                r.top_platform,
                style.lang,
            ),
        }
    }
}

/// `--format json` (`stream: false`) and `--format ndjson` (`stream: true`).
pub struct Json {
    style: Style,
    stream: bool,
    summary: bool,
    /// json: findings written so far (the document's head goes before the first one)
    written: usize,
    warnings: Vec<String>,
    texts: TextCache,
    /// `--fields`: only these keys of each finding, in this order.
    fields: Option<Vec<&'static str>>,
}

impl Json {
    /// A renderer of one document at the end (`stream: false`: the findings, the deliveries
    /// when grouped, and the totals) or of one finding per line as found (`stream: true`;
    /// with `summary`, one delivery per line at the end instead).
    pub fn new(style: Style, stream: bool, summary: bool) -> Json {
        Json {
            style,
            stream,
            summary,
            written: 0,
            warnings: Vec::new(),
            texts: TextCache::default(),
            fields: None,
        }
    }

    /// Keeps only these keys of each finding (`--fields`; each one of [`FINDING_KEYS`]).
    pub fn with_fields(mut self, fields: Option<Vec<&'static str>>) -> Json {
        self.fields = fields;
        self
    }
}

#[derive(Serialize)]
struct Summary<'a> {
    inputs: usize,
    findings: usize,
    root_causes: usize,
    by_code: &'a std::collections::BTreeMap<String, usize>,
    by_category: &'a std::collections::BTreeMap<String, usize>,
    by_state: &'a std::collections::BTreeMap<String, usize>,
    /// Findings about incoming clients our server refused (`direction: inbound`).
    inbound: usize,
    /// Log lines where an incoming client hung up on our server (not findings).
    client_disconnects: u64,
    errors: &'a [String],
    warnings: &'a [String],
    // with deliveries
    #[serde(skip_serializing_if = "Option::is_none")]
    now: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_window_seconds: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    deliveries: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    deliveries_by_state: Option<std::collections::BTreeMap<&'static str, usize>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    by_category_and_code: Option<Vec<CategoryJson<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    by_destination: Option<Vec<DestinationJson<'a>>>,
    /// Queued deliveries, soonest to expire first.
    #[serde(skip_serializing_if = "Option::is_none")]
    expiring_soonest: Option<Vec<DeliveryJson<'a>>>,
}

/// The json document's opening, up to its findings array.
const HEAD: &str = "{\n  \"schema\": 1,\n  \"findings\": [";

/// Writes `v` pretty-printed as a value nested in the document, its lines indented by
/// `indent` (JSON strings hold no raw line ends, so every line end is the layout's).
fn write_nested<T: Serialize>(w: &mut dyn Write, v: &T, indent: &str) -> io::Result<()> {
    let s = to_safe_string(v, true)?;
    for (i, line) in s.split('\n').enumerate() {
        if i > 0 {
            w.write_all(b"\n")?;
            w.write_all(indent.as_bytes())?;
        }
        w.write_all(line.as_bytes())?;
    }
    Ok(())
}

/// Writes the elements of an array nested in the document as `serde_json`'s pretty printer
/// lays them out (`[]` when empty).
fn write_array<T: Serialize>(
    w: &mut dyn Write,
    items: impl Iterator<Item = io::Result<T>>,
) -> io::Result<()> {
    w.write_all(b"[")?;
    let mut n = 0;
    for item in items {
        w.write_all(if n == 0 { b"\n    " } else { b",\n    " })?;
        write_nested(w, &item?, "    ")?;
        n += 1;
    }
    w.write_all(if n == 0 { b"]" } else { b"\n  ]" })
}

impl Json {
    /// json: one finding of the document's findings array, written as found.
    fn document_finding(
        &mut self,
        w: &mut dyn Write,
        f: &Finding,
        buf: &mut String,
    ) -> io::Result<()> {
        w.write_all(if self.written == 0 {
            HEAD.as_bytes()
        } else {
            b","
        })?;
        w.write_all(b"\n    ")?;
        match &self.fields {
            Some(k) => write_nested(w, &selected(f, self.style, k)?, "    ")?,
            None => {
                buf.clear();
                self.texts.finding(f, self.style, true, buf)?;
                for (i, line) in buf.split('\n').enumerate() {
                    if i > 0 {
                        w.write_all(b"\n    ")?;
                    }
                    w.write_all(line.as_bytes())?;
                }
            }
        }
        self.written += 1;
        Ok(())
    }
}

impl Renderer for Json {
    fn findings(&mut self, w: &mut dyn Write, batch: &[Finding]) -> io::Result<()> {
        if self.stream && self.summary {
            // one object per delivery, written at the end
            return Ok(());
        }
        if self.stream {
            let mut line = String::new();
            for f in batch {
                line.clear();
                match &self.fields {
                    Some(k) => selected_line(f, self.style, k, &mut line)?,
                    None => self.texts.finding_line(f, self.style, &mut line)?,
                }
                line.push('\n');
                w.write_all(line.as_bytes())?;
            }
        } else {
            let mut buf = String::new();
            for f in batch {
                self.document_finding(w, f, &mut buf)?;
            }
        }
        Ok(())
    }

    fn warning(&mut self, _w: &mut dyn Write, message: &str) -> io::Result<()> {
        self.warnings.push(message.to_string());
        Ok(())
    }

    fn finish(
        &mut self,
        w: &mut dyn Write,
        tally: &Tally,
        report: Option<&DeliveryReport>,
    ) -> io::Result<()> {
        if self.stream {
            if let (true, Some(r)) = (self.summary, report) {
                for d in r.deliveries() {
                    let line = to_safe_string(&DeliveryJson::new(&d, r.now, self.style), false)?;
                    w.write_all(line.as_bytes())?;
                    w.write_all(b"\n")?;
                }
            }
            return w.flush();
        }
        // the findings were written as found: close their array, then the deliveries (from
        // the timeline's records) and the summary
        if self.written == 0 {
            w.write_all(HEAD.as_bytes())?;
            w.write_all(b"]")?;
        } else {
            w.write_all(b"\n  ]")?;
        }
        if let Some(r) = report {
            w.write_all(b",\n  \"deliveries\": ")?;
            write_array(
                w,
                r.deliveries()
                    .map(|d| Ok(DeliveryJson::new(&d, r.now, self.style))),
            )?;
        }
        let summary = Summary {
            inputs: tally.inputs,
            findings: tally.findings,
            root_causes: tally.root_causes,
            by_code: &tally.by_code,
            by_category: &tally.by_category,
            by_state: &tally.by_state,
            inbound: tally.inbound,
            client_disconnects: tally.client_disconnects,
            errors: &tally.errors,
            warnings: &self.warnings,
            now: report.map(|r| rfc3339(r.now)),
            retry_window_seconds: report.map(|r| r.retry_window),
            deliveries: report.map(|r| r.count),
            deliveries_by_state: report.map(DeliveryReport::by_state),
            by_category_and_code: report.map(|r| {
                r.categories
                    .iter()
                    .map(|c| CategoryJson::new(c, self.style))
                    .collect()
            }),
            by_destination: report.map(|r| {
                r.destinations
                    .iter()
                    .map(|d| DestinationJson::new(d, self.style))
                    .collect()
            }),
            expiring_soonest: report.map(|r| {
                r.expiring
                    .iter()
                    .map(|d| DeliveryJson::new(d, r.now, self.style))
                    .collect()
            }),
        };
        w.write_all(b",\n  \"summary\": ")?;
        write_nested(w, &summary, "  ")?;
        w.write_all(b"\n}\n")?;
        w.flush()
    }
}

/// An entry as `explain --format json` prints it: the whole entry plus how it was matched.
#[derive(Serialize)]
pub(crate) struct ExplainJson<'a> {
    pub query: &'a str,
    pub code: String,
    pub entry: &'a str,
    pub known: bool,
    #[serde(rename = "match")]
    pub how: &'static str,
    pub state: &'static str,
    pub category: &'a str,
    pub severity: &'static str,
    pub title: &'a str,
    pub summary: &'a str,
    pub causes: Vec<&'a str>,
    pub fixes: Vec<&'a str>,
    pub verify: Vec<&'a str>,
    pub details: &'a Entry,
}

/// The objects of `explain --format json`, as one pretty-printed array.
pub(crate) fn explain_json(items: &[ExplainJson<'_>]) -> io::Result<String> {
    to_safe_string(&items, true)
}

/// The whole catalog as `codes --format json` prints it.
pub fn codes_json(entries: &[&Entry]) -> io::Result<String> {
    #[derive(Serialize)]
    struct Out<'a> {
        schema: u32,
        codes: &'a [&'a Entry],
    }
    to_safe_string(
        &Out {
            schema: 1,
            codes: entries,
        },
        true,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::{Options, Origin};

    #[test]
    fn streamed_objects_equal_the_full_ones() {
        let text = "Mar  4 12:33:10 mx1 postfix/smtp[1]: ABC123: to=<dana@example.com>, relay=none, dsn=4.4.1, status=deferred (connect to mail.example.com[192.0.2.25]:25: Connection refused)\n450 4.4.399 new \u{202e} thing\n";
        let mut found = Vec::new();
        crate::extract::scan_log(
            text.as_bytes(),
            1,
            &Origin {
                path: "p",
                message: 1,
            },
            &Options::default(),
            &mut found,
            &mut crate::extract::Counts::default(),
        );
        assert_eq!(found.len(), 2);
        let mut cache = TextCache::default();
        for f in &found {
            for lang in [Lang::En, Lang::Ja] {
                let style = Style {
                    catalog: crate::catalog::builtin_or_empty(),
                    lang,
                    color: false,
                    width: 100,
                };
                let mut line = String::new();
                cache.finding_line(f, style, &mut line).unwrap();
                let fast: serde_json::Value = serde_json::from_str(&line).unwrap();
                let full: serde_json::Value = serde_json::from_str(
                    &to_safe_string(&FindingJson::new(f, style), false).unwrap(),
                )
                .unwrap();
                assert_eq!(fast, full);
                assert!(!line.contains('\u{202e}'));
                let mut pretty = String::new();
                cache.finding(f, style, true, &mut pretty).unwrap();
                assert_eq!(
                    pretty,
                    to_safe_string(&FindingJson::new(f, style), true).unwrap()
                );
            }
        }
    }
}
