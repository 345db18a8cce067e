//! Deliveries: findings grouped per (message, recipient) into a timeline with attempts, the
//! last error, a state and the expiry countdown; and the summary figures over them.
//!
//! Sits between extraction and rendering: reads findings, knows nothing of output.

use crate::catalog::{Code, Severity};
use crate::extract::{Finding, State};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Exchange Online keeps retrying a queued message for 24 hours.
pub const DEFAULT_RETRY_WINDOW: i64 = 24 * 3600;

/// How long an MTA keeps retrying by default: Postfix's `maximal_queue_lifetime` and
/// Sendmail's `Timeout.queuereturn` are 5 days, qmail's `control/queuelifetime` a week
/// (604800 seconds), Exim's usual retry rule gives up after 4, Exchange Server's transport
/// after 2; otherwise Exchange Online's 24 hours.
pub fn retry_window_of(mta: Option<&str>) -> i64 {
    match mta {
        Some("postfix" | "sendmail") => 5 * 24 * 3600,
        Some("qmail") => 7 * 24 * 3600,
        Some("exim") => 4 * 24 * 3600,
        // Set-TransportService -MessageExpirationTimeout, 2 days by default
        Some("exchange-server") => 2 * 24 * 3600,
        _ => DEFAULT_RETRY_WINDOW,
    }
}

/// One delivery: a message to one recipient, as far as the input shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// Network message id, message id or queue id, whichever the input has.
    pub message_id: Option<String>,
    pub recipient: Option<String>,
    /// The remote host or IP of the last error, else the recipient's domain.
    pub destination: Option<String>,
    pub first_attempt: Option<i64>,
    pub last_attempt: Option<i64>,
    pub attempts: usize,
    pub last_code: Option<Code>,
    pub category: String,
    /// Catalog entry of the last error.
    pub entry: String,
    pub known: bool,
    /// The system whose queue holds the message (whose steps explain the last error).
    pub platform: &'static str,
    pub severity: Severity,
    pub state: State,
    /// The reason of the last error (`delivered` once delivered).
    pub reason: &'static str,
    /// The last error is a hard bounce and the delivery failed for good.
    pub hard_bounce: bool,
    /// When retries run out (queued) or ran out (expired); None otherwise.
    pub expires_at: Option<i64>,
    /// Where the last error was found.
    pub path: String,
    pub line: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Key {
    id: String,
    recipient: String,
}

#[derive(Debug)]
struct Acc {
    d: Delivery,
    times: BTreeSet<i64>,
    roots: usize,
    /// input order of the last error, for inputs without times
    last_seq: u64,
    delivered_after: Option<(Option<i64>, u64)>,
    /// the MTA whose log the delivery's errors come from
    mta: Option<&'static str>,
    retry_until: Option<i64>,
    any_expired: bool,
    any_failed: bool,
}

/// A row of the summary by category and code.
#[derive(Debug, Clone, PartialEq)]
pub struct CategoryRow {
    pub category: String,
    pub code: Option<Code>,
    pub entry: String,
    pub known: bool,
    pub platform: &'static str,
    pub findings: usize,
    pub messages: usize,
    pub recipients: usize,
    pub first_seen: Option<i64>,
    pub last_seen: Option<i64>,
}

/// A row of the summary by destination.
#[derive(Debug, Clone, PartialEq)]
pub struct DestinationRow {
    pub destination: String,
    pub deliveries: usize,
    pub messages: usize,
    pub recipients: usize,
    pub first_seen: Option<i64>,
    pub last_seen: Option<i64>,
    /// The category seen most often for this destination, and its entry.
    pub top_category: String,
    pub top_entry: String,
    pub top_known: bool,
    pub top_platform: &'static str,
}

#[derive(Debug, Default)]
struct CatAcc {
    entry: String,
    known: bool,
    platform: &'static str,
    findings: usize,
    messages: BTreeSet<String>,
    recipients: BTreeSet<String>,
    first: Option<i64>,
    last: Option<i64>,
}

/// Collects findings as they come and turns them into deliveries and summary rows.
pub struct Timeline {
    /// `--retry-window`; without it each delivery takes its MTA's queue lifetime
    retry_window: Option<i64>,
    now: i64,
    index: HashMap<Key, usize>,
    /// the deliveries of each message id
    by_id: HashMap<String, Vec<usize>>,
    accs: Vec<Acc>,
    cats: BTreeMap<(String, Option<Code>), CatAcc>,
    seq: u64,
}

fn min_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

fn max_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

fn domain_of(addr: &str) -> Option<String> {
    addr.rsplit_once('@')
        .map(|(_, d)| d.trim_end_matches('>').to_ascii_lowercase())
}

impl Timeline {
    pub fn new(retry_window: Option<i64>, now: i64) -> Timeline {
        Timeline {
            retry_window,
            now,
            index: HashMap::new(),
            by_id: HashMap::new(),
            accs: Vec::new(),
            cats: BTreeMap::new(),
            seq: 0,
        }
    }

    /// Takes one finding. Only root causes and success reports shape deliveries; every
    /// root cause counts in the summary.
    pub fn add(&mut self, f: &Finding) {
        self.seq += 1;
        let delivered = f.state == State::Delivered;
        if !f.root_cause && !delivered {
            return;
        }
        // a queue-level verdict (Postfix's `ID: from=<...>, status=expired, returned to
        // sender`, an Exim line of the message id alone) settles the message's deliveries
        // already seen, rather than making one of its own
        if !delivered
            && f.recipient.is_none()
            && let Some(ids) = f.message_id.as_ref().and_then(|id| self.by_id.get(id))
        {
            for &i in ids {
                let a = &mut self.accs[i];
                a.d.last_attempt = max_opt(a.d.last_attempt, f.time);
                a.any_expired |= f.state == State::Expired;
                a.any_failed |= f.state == State::Failed;
            }
            return;
        }
        let id = f.message_id.clone().unwrap_or_else(|| {
            if f.recipient.is_some() {
                String::new()
            } else {
                format!("{}:{}:{}", f.path, f.message, f.line)
            }
        });
        let key = Key {
            id,
            recipient: f.recipient.clone().unwrap_or_default().to_ascii_lowercase(),
        };
        let idx = match self.index.get(&key) {
            Some(&i) => i,
            None => {
                self.accs.push(Acc {
                    d: Delivery {
                        message_id: f.message_id.clone(),
                        recipient: f.recipient.clone(),
                        destination: None,
                        first_attempt: None,
                        last_attempt: None,
                        attempts: 0,
                        last_code: None,
                        category: String::new(),
                        entry: String::new(),
                        known: false,
                        platform: f.platform,
                        severity: f.severity,
                        state: State::Queued,
                        reason: crate::reasons::UNDEFINED,
                        hard_bounce: false,
                        expires_at: None,
                        path: f.path.clone(),
                        line: f.line,
                    },
                    times: BTreeSet::new(),
                    roots: 0,
                    last_seq: 0,
                    delivered_after: None,
                    mta: None,
                    retry_until: None,
                    any_expired: false,
                    any_failed: false,
                });
                if let Some(id) = &f.message_id {
                    self.by_id
                        .entry(id.clone())
                        .or_default()
                        .push(self.accs.len() - 1);
                }
                self.index.insert(key, self.accs.len() - 1);
                self.accs.len() - 1
            }
        };
        let a = &mut self.accs[idx];
        a.d.first_attempt = min_opt(a.d.first_attempt, f.time);
        a.d.last_attempt = max_opt(a.d.last_attempt, f.time);
        if let Some(t) = f.time
            && a.times.len() < 10_000
        {
            a.times.insert(t);
        }
        if delivered {
            a.delivered_after = Some((f.time, self.seq));
            return;
        }
        a.roots += 1;
        a.mta = a.mta.or(f.mta);
        a.retry_until = max_opt(a.retry_until, f.retry_until);
        a.any_expired |= f.state == State::Expired;
        a.any_failed |= f.state == State::Failed;
        // the last error: latest in time, else latest in the input
        let later = match (f.time, a.d.last_attempt) {
            (Some(t), Some(last)) => t >= last,
            _ => true,
        };
        if a.d.entry.is_empty() || later {
            a.last_seq = self.seq;
            a.d.last_code = f.code;
            a.d.category = f.category.clone();
            a.d.entry = f.entry.clone();
            a.d.platform = f.platform;
            a.d.reason = f.reason;
            a.d.hard_bounce = f.hard_bounce;
            a.d.known = f.known;
            a.d.severity = f.severity;
            a.d.path = f.path.clone();
            a.d.line = f.line;
            if let Some(dest) = f.remote_host.clone().or_else(|| f.remote_ip.clone()) {
                a.d.destination = Some(dest);
            }
        }
        if a.d.destination.is_none() {
            a.d.destination = f.recipient.as_deref().and_then(domain_of);
        }
        let c = self.cats.entry((f.category.clone(), f.code)).or_default();
        c.entry = f.entry.clone();
        c.known = f.known;
        c.platform = f.platform;
        c.findings += 1;
        if let Some(m) = &f.message_id {
            c.messages.insert(m.clone());
        }
        if let Some(r) = &f.recipient {
            c.recipients.insert(r.to_ascii_lowercase());
        }
        c.first = min_opt(c.first, f.time);
        c.last = max_opt(c.last, f.time);
    }

    /// The deliveries, in the order they first appeared, with states and expiry settled.
    pub fn deliveries(&self) -> Vec<Delivery> {
        let mut out = Vec::with_capacity(self.accs.len());
        for a in &self.accs {
            if a.roots == 0 && a.delivered_after.is_none() {
                continue;
            }
            // a message-level error seen before the message's recipients: theirs tell more
            let has_recipients = |id: &String| {
                self.by_id
                    .get(id)
                    .is_some_and(|v| v.iter().any(|&j| self.accs[j].d.recipient.is_some()))
            };
            if a.d.recipient.is_none() && a.d.message_id.as_ref().is_some_and(has_recipients) {
                continue;
            }
            let mut d = a.d.clone();
            d.attempts = a.roots.max(a.times.len()).max(1);
            let delivered = match a.delivered_after {
                Some((Some(t), _)) => d.last_attempt.is_none_or(|last| t >= last) || a.roots == 0,
                Some((None, seq)) => seq > a.last_seq,
                None => false,
            };
            d.state = if delivered {
                State::Delivered
            } else if a.any_expired {
                State::Expired
            } else if a.any_failed {
                State::Failed
            } else {
                State::Queued
            };
            if a.roots == 0 {
                d.category = "delivered".into();
            }
            if d.state == State::Delivered {
                d.reason = "delivered";
            }
            d.hard_bounce &= d.state == State::Failed;
            d.expires_at = match d.state {
                State::Queued | State::Expired => a.retry_until.or_else(|| {
                    let window = self.retry_window.unwrap_or_else(|| retry_window_of(a.mta));
                    d.first_attempt.map(|t| t.saturating_add(window))
                }),
                _ => None,
            };
            // a queued delivery past its window has expired by now
            if d.state == State::Queued && d.expires_at.is_some_and(|e| e <= self.now) {
                d.state = State::Expired;
            }
            out.push(d);
        }
        out
    }

    /// Rows by category and code, most findings first.
    pub fn categories(&self) -> Vec<CategoryRow> {
        let mut rows: Vec<CategoryRow> = self
            .cats
            .iter()
            .map(|((category, code), c)| CategoryRow {
                category: category.clone(),
                code: *code,
                entry: c.entry.clone(),
                known: c.known,
                platform: c.platform,
                findings: c.findings,
                messages: c.messages.len(),
                recipients: c.recipients.len(),
                first_seen: c.first,
                last_seen: c.last,
            })
            .collect();
        rows.sort_by(|a, b| {
            b.findings
                .cmp(&a.findings)
                .then(a.category.cmp(&b.category))
                .then(a.code.cmp(&b.code))
        });
        rows
    }

    pub fn now(&self) -> i64 {
        self.now
    }
}

/// Everything the summary shows, settled at the end of a run.
#[derive(Debug, Clone)]
pub struct Report {
    pub now: i64,
    pub retry_window: i64,
    pub deliveries: Vec<Delivery>,
    pub categories: Vec<CategoryRow>,
    pub destinations: Vec<DestinationRow>,
}

impl Report {
    /// Deliveries per state.
    pub fn by_state(&self) -> BTreeMap<&'static str, usize> {
        let mut m = BTreeMap::new();
        for d in &self.deliveries {
            *m.entry(d.state.as_str()).or_default() += 1;
        }
        m
    }
}

impl Timeline {
    pub fn report(&self) -> Report {
        let deliveries = self.deliveries();
        let destinations = destinations(&deliveries);
        Report {
            now: self.now,
            retry_window: self.retry_window.unwrap_or(DEFAULT_RETRY_WINDOW),
            deliveries,
            categories: self.categories(),
            destinations,
        }
    }
}

/// Rows by destination, most deliveries first.
pub fn destinations(deliveries: &[Delivery]) -> Vec<DestinationRow> {
    #[derive(Default)]
    struct D {
        deliveries: usize,
        messages: BTreeSet<String>,
        recipients: BTreeSet<String>,
        first: Option<i64>,
        last: Option<i64>,
        cats: BTreeMap<String, (usize, String, bool, &'static str)>,
    }
    let mut by: BTreeMap<String, D> = BTreeMap::new();
    for d in deliveries.iter().filter(|d| d.state != State::Delivered) {
        let key = d.destination.clone().unwrap_or_else(|| "(unknown)".into());
        let e = by.entry(key).or_default();
        e.deliveries += 1;
        if let Some(m) = &d.message_id {
            e.messages.insert(m.clone());
        }
        if let Some(r) = &d.recipient {
            e.recipients.insert(r.to_ascii_lowercase());
        }
        e.first = min_opt(e.first, d.first_attempt);
        e.last = max_opt(e.last, d.last_attempt);
        let c =
            e.cats
                .entry(d.category.clone())
                .or_insert((0, d.entry.clone(), d.known, d.platform));
        c.0 += 1;
    }
    let mut rows: Vec<DestinationRow> = by
        .into_iter()
        .map(|(destination, d)| {
            let (top_category, (_, top_entry, top_known, top_platform)) = d
                .cats
                .into_iter()
                .max_by(|a, b| a.1.0.cmp(&b.1.0).then(b.0.cmp(&a.0)))
                .unwrap_or_default();
            DestinationRow {
                destination,
                deliveries: d.deliveries,
                messages: d.messages.len(),
                recipients: d.recipients.len(),
                first_seen: d.first,
                last_seen: d.last,
                top_category,
                top_entry,
                top_known,
                top_platform,
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        b.deliveries
            .cmp(&a.deliveries)
            .then(a.destination.cmp(&b.destination))
    });
    rows
}

/// Queued deliveries, the soonest to expire first (those without an expiry time last).
pub fn expiring(deliveries: &[Delivery], limit: usize) -> Vec<&Delivery> {
    let mut q: Vec<&Delivery> = deliveries
        .iter()
        .filter(|d| d.state == State::Queued)
        .collect();
    q.sort_by_key(|d| (d.expires_at.is_none(), d.expires_at));
    q.truncate(limit);
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(line: u64, id: &str, rcpt: &str, code: &str, state: State, time: i64) -> Finding {
        let c = Code::parse(code);
        Finding {
            path: "t".into(),
            message: 1,
            line,
            code: c,
            reply: None,
            entry: code.into(),
            known: true,
            category: if state == State::Delivered {
                "x".into()
            } else {
                "connection-refused".into()
            },
            severity: Severity::of_class(c.map_or(4, |c| c.class)).unwrap_or(Severity::Transient),
            state,
            root_cause: state != State::Delivered,
            recipient: Some(rcpt.into()),
            remote_host: Some("mail.example.com".into()),
            remote_ip: None,
            timestamp: None,
            message_id: Some(id.into()),
            excerpt: String::new(),
            remote_reply: None,
            symptom: None,
            nested: false,
            time: Some(time),
            retry_until: None,
            platform: crate::runbook::GENERIC,
            reason: "networkerror",
            hard_bounce: false,
            words: None,
            basis: crate::extract::Basis::Code,
            stage: None,
            direction: crate::extract::Direction::Outbound,
            mta: None,
        }
    }

    #[test]
    fn deferrals_then_expiry() {
        let h = 3600;
        let mut t = Timeline::new(None, 100 * h);
        for i in 0..5 {
            t.add(&f(
                i + 1,
                "m1",
                "a@example.com",
                "4.4.316",
                State::Queued,
                i as i64 * 5 * h,
            ));
        }
        t.add(&f(
            10,
            "m2",
            "b@example.com",
            "4.4.316",
            State::Queued,
            90 * h,
        ));
        t.add(&f(
            11,
            "m3",
            "c@example.com",
            "4.4.316",
            State::Queued,
            80 * h,
        ));
        t.add(&f(
            12,
            "m3",
            "c@example.com",
            "2.0.0",
            State::Delivered,
            81 * h,
        ));
        let d = t.deliveries();
        assert_eq!(d.len(), 3);
        assert_eq!(
            (d[0].attempts, d[0].state, d[0].expires_at),
            (5, State::Expired, Some(24 * h))
        );
        assert_eq!(
            (d[0].first_attempt, d[0].last_attempt),
            (Some(0), Some(20 * h))
        );
        assert_eq!(
            (d[1].state, d[1].expires_at),
            (State::Queued, Some(114 * h))
        );
        assert_eq!((d[2].state, d[2].expires_at), (State::Delivered, None));
        assert_eq!(d[1].destination.as_deref(), Some("mail.example.com"));
        let e = expiring(&d, 10);
        assert_eq!(e.len(), 1);
        let cats = t.categories();
        assert_eq!(cats[0].findings, 7);
        assert_eq!(cats[0].messages, 3);
        let dest = destinations(&d);
        assert_eq!(
            (dest[0].deliveries, dest[0].top_category.as_str()),
            (2, "connection-refused")
        );
    }

    #[test]
    fn retry_until_wins() {
        let mut t = Timeline::new(None, 0);
        let mut x = f(1, "m", "a@example.com", "4.4.7", State::Queued, -3600);
        x.retry_until = Some(7200);
        t.add(&x);
        assert_eq!(t.deliveries()[0].expires_at, Some(7200));
    }
}
