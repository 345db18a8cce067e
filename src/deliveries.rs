//! Deliveries: findings grouped per (message, recipient) into a timeline with attempts, the
//! last error, a state and the expiry countdown; and the summary figures over them.
//!
//! Sits between extraction and rendering: reads findings, knows nothing of output.
//!
//! Memory grows with the deliveries that failed, not with the log: each keeps one compact
//! record (strings that repeat, such as categories, entries, destinations and paths, are
//! stored once and referred to by number; times are plain integers); a delivery that went
//! out without a failure is only counted, and remembered for a while in case a failure of
//! it turns up later in the input (logs read newest file first). Distinct messages and
//! recipients are counted by hash.

use crate::catalog::{Code, Severity};
use crate::extract::{Finding, State};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{BuildHasher, BuildHasherDefault, Hasher, RandomState};

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

/// One delivery: a message to one recipient, as far as the input shows it. A view of the
/// timeline's record, made when asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery<'a> {
    /// Network message id, message id or queue id, whichever the input has.
    pub message_id: Option<&'a str>,
    pub recipient: Option<&'a str>,
    /// The remote host or IP of the last error, else the recipient's domain.
    pub destination: Option<&'a str>,
    pub first_attempt: Option<i64>,
    pub last_attempt: Option<i64>,
    pub attempts: usize,
    pub last_code: Option<Code>,
    pub category: &'a str,
    /// Catalog entry of the last error.
    pub entry: &'a str,
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
    pub path: &'a str,
    pub line: u64,
}

/// A hasher for keys that are hashes already (of a `RandomState`): they are used as they are.
#[derive(Default)]
struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// A map or set keyed by hashes.
type ByHash<V> = HashMap<u64, V, BuildHasherDefault<Prehashed>>;
type Hashes = HashSet<u64, BuildHasherDefault<Prehashed>>;

/// A time in a record: `NO_TIME` for none.
const NO_TIME: i64 = i64::MIN;
/// A name in a record: `NO_NAME` for none.
const NO_NAME: u32 = u32::MAX;

fn time_of(t: i64) -> Option<i64> {
    (t != NO_TIME).then_some(t)
}

fn raw_time(t: Option<i64>) -> i64 {
    t.unwrap_or(NO_TIME)
}

fn min_time(a: i64, b: i64) -> i64 {
    match (a, b) {
        (NO_TIME, y) => y,
        (x, NO_TIME) => x,
        (x, y) => x.min(y),
    }
}

fn max_time(a: i64, b: i64) -> i64 {
    a.max(b) // NO_TIME is the smallest
}

/// Strings that many records share, each stored once.
#[derive(Default)]
struct Names {
    index: HashMap<std::sync::Arc<str>, u32>,
    all: Vec<std::sync::Arc<str>>,
}

impl Names {
    fn id(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.index.get(s) {
            return i;
        }
        let a: std::sync::Arc<str> = std::sync::Arc::from(s);
        let i = u32::try_from(self.all.len()).unwrap_or(NO_NAME - 1);
        self.all.push(a.clone());
        self.index.insert(a, i);
        i
    }

    fn get(&self, i: u32) -> &str {
        self.all.get(i as usize).map_or("", |s| s)
    }

    fn opt(&self, i: u32) -> Option<&str> {
        (i != NO_NAME).then(|| self.get(i))
    }
}

/// The few `&'static str` values a record holds (platforms, reasons, MTAs), by number.
#[derive(Default)]
struct Statics(Vec<&'static str>);

impl Statics {
    fn id(&mut self, s: &'static str) -> u16 {
        if let Some(i) = self.0.iter().position(|x| *x == s) {
            return i as u16;
        }
        self.0.push(s);
        u16::try_from(self.0.len() - 1).unwrap_or(u16::MAX)
    }

    fn get(&self, i: u16) -> &'static str {
        self.0.get(i as usize).copied().unwrap_or("")
    }
}

/// One failing delivery, as compact as it goes (128 bytes on 64-bit targets, and its two
/// names).
#[derive(Debug)]
struct Rec {
    /// The message id followed by the recipient.
    names: Box<str>,
    /// Length of the message id in `names`; `u32::MAX`: no message id.
    id_len: u32,
    has_recipient: bool,
    destination: u32,
    category: u32,
    entry: u32,
    path: u32,
    first: i64,
    last: i64,
    retry_until: i64,
    /// the latest success report: its time and input order (0: none)
    delivered_at: i64,
    delivered_seq: u64,
    /// input order of the last error, for inputs without times
    last_seq: u64,
    line: u64,
    /// distinct event times (attempts), and root causes
    times: u32,
    roots: u32,
    /// the next record of the same message id (`NO_NAME`: none)
    next_same_id: u32,
    last_code: Option<Code>,
    platform: u16,
    reason: u16,
    /// the MTA whose log the delivery's errors come from (`u16::MAX`: unknown)
    mta: u16,
    severity: Severity,
    known: bool,
    hard_bounce: bool,
    any_expired: bool,
    any_failed: bool,
}

impl Rec {
    fn message_id(&self) -> Option<&str> {
        match self.id_len {
            u32::MAX => None,
            n => self.names.get(..n as usize),
        }
    }

    fn recipient(&self) -> Option<&str> {
        if !self.has_recipient {
            return None;
        }
        match self.id_len {
            u32::MAX => Some(&self.names),
            n => self.names.get(n as usize..),
        }
    }

    /// Whether this is the delivery of `id` (as keyed: none is empty) to `rcpt`.
    fn is(&self, id: &str, rcpt: &str) -> bool {
        self.message_id().unwrap_or("") == id
            && self.recipient().unwrap_or("").eq_ignore_ascii_case(rcpt)
    }

    /// Takes an event's time into first/last attempt; `new`: the time was not seen before
    /// for this delivery (an attempt of its own).
    fn saw(&mut self, t: i64, new: bool) {
        self.first = min_time(self.first, t);
        self.last = max_time(self.last, t);
        if new && self.times < 10_000 {
            self.times += 1;
        }
    }
}

/// Success reports of deliveries without a failure: counted, and the latest ones kept by
/// key hash (two generations of at most `RECENT` each) so a failure of the same delivery
/// found later in the input still meets its success.
#[derive(Default)]
struct Delivered {
    count: usize,
    young: ByHash<(i64, u64)>,
    old: ByHash<(i64, u64)>,
}

const RECENT: usize = 32 * 1024;

impl Delivered {
    fn take(&mut self, key: u64) -> Option<(i64, u64)> {
        let hit = self.young.remove(&key).or_else(|| self.old.remove(&key));
        if hit.is_some() {
            self.count -= 1;
        }
        hit
    }

    fn record(&mut self, key: u64, at: i64, seq: u64) {
        if let Some(e) = self.young.get_mut(&key).or_else(|| self.old.get_mut(&key)) {
            *e = (max_time(e.0, at), seq);
            return;
        }
        if self.young.len() >= RECENT {
            self.old = std::mem::take(&mut self.young);
        }
        self.young.insert(key, (at, seq));
        self.count += 1;
    }
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

#[derive(Debug)]
struct CatAcc {
    entry: u32,
    known: bool,
    platform: &'static str,
    findings: usize,
    messages: Hashes,
    recipients: Hashes,
    first: i64,
    last: i64,
}

/// Collects findings as they come and turns them into deliveries and summary rows.
pub struct Timeline {
    /// `--retry-window`; without it each delivery takes its MTA's queue lifetime
    retry_window: Option<i64>,
    now: i64,
    hasher: RandomState,
    /// key hash (probed onwards on a collision) → record
    index: ByHash<u32>,
    /// message id hash → its first record (the rest chained by `next_same_id`)
    by_id: ByHash<u32>,
    recs: Vec<Rec>,
    names: Names,
    statics: Statics,
    cats: HashMap<(u32, Option<Code>), CatAcc>,
    /// the distinct event times of each record (attempts: one line can report an attempt
    /// twice, and the same log can be read twice)
    times: HashSet<(u32, i64)>,
    delivered: Delivered,
    seq: u64,
}

/// Feeds `s` in ASCII lower case to a hasher, a block at a time (SipHash costs per call).
fn write_lower(h: &mut impl Hasher, s: &str) {
    let mut block = [0u8; 64];
    for chunk in s.as_bytes().chunks(block.len()) {
        let lower = &mut block[..chunk.len()];
        lower.copy_from_slice(chunk);
        lower.make_ascii_lowercase();
        h.write(lower);
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
            hasher: RandomState::new(),
            index: ByHash::default(),
            by_id: ByHash::default(),
            recs: Vec::new(),
            names: Names::default(),
            statics: Statics::default(),
            cats: HashMap::new(),
            times: HashSet::new(),
            delivered: Delivered::default(),
            seq: 0,
        }
    }

    fn hash(&self, s: &str) -> u64 {
        self.hasher.hash_one(s)
    }

    /// The hash of a string in ASCII lower case.
    fn hash_lower(&self, s: &str) -> u64 {
        let mut h = self.hasher.build_hasher();
        write_lower(&mut h, s);
        h.finish()
    }

    /// The hash of a delivery's key: the message id (none is empty) and the recipient in
    /// ASCII lower case.
    fn hash_key(&self, id: &str, rcpt: &str) -> u64 {
        let mut h = self.hasher.build_hasher();
        h.write(id.as_bytes());
        h.write_u8(0xff);
        write_lower(&mut h, rcpt);
        h.finish()
    }

    /// The record of a key, else the free slot of the index to file it under (a collision
    /// of hashes moves on to the next slot).
    fn lookup(&self, key: u64, id: &str, rcpt: &str) -> Result<u32, u64> {
        let mut slot = key;
        loop {
            match self.index.get(&slot) {
                Some(&i) if self.recs.get(i as usize).is_some_and(|r| r.is(id, rcpt)) => {
                    return Ok(i);
                }
                Some(_) => slot = slot.wrapping_add(1),
                None => return Err(slot),
            }
        }
    }

    /// Whether `t` is a time not seen before for record `idx` (an attempt of its own);
    /// a delivery's times are remembered up to the 10,000 its count goes to.
    fn new_time(&mut self, idx: u32, t: i64) -> bool {
        let room = self
            .recs
            .get(idx as usize)
            .is_some_and(|r| r.times < 10_000);
        t != NO_TIME && room && self.times.insert((idx, t))
    }

    /// The records of a message id, by index.
    fn of_id<'t>(&'t self, id: &'t str) -> impl Iterator<Item = u32> + 't {
        let mut next = self.by_id.get(&self.hash(id)).copied().unwrap_or(NO_NAME);
        std::iter::from_fn(move || {
            let (i, r) = (next, self.recs.get(next as usize)?);
            next = r.next_same_id;
            Some((i, r))
        })
        .filter(move |(_, r)| r.message_id() == Some(id))
        .map(|(i, _)| i)
    }

    /// Takes one finding. Only root causes and success reports shape deliveries; every
    /// root cause counts in the summary.
    pub fn add(&mut self, f: &Finding) {
        self.seq += 1;
        let seq = self.seq;
        let delivered = f.state == State::Delivered;
        if !f.root_cause && !delivered {
            return;
        }
        let t = raw_time(f.time);
        // a queue-level verdict (Postfix's `ID: from=<...>, status=expired, returned to
        // sender`, an Exim line of the message id alone) settles the message's deliveries
        // already seen, rather than making one of its own
        if !delivered
            && f.recipient.is_none()
            && let Some(id) = f.message_id.as_deref()
        {
            let seen: Vec<u32> = self.of_id(id).collect();
            for &i in &seen {
                if let Some(r) = self.recs.get_mut(i as usize) {
                    r.last = max_time(r.last, t);
                    r.any_expired |= f.state == State::Expired;
                    r.any_failed |= f.state == State::Failed;
                }
            }
            if !seen.is_empty() {
                return;
            }
        }
        let (id, rcpt) = (f.message_id.as_deref(), f.recipient.as_deref());
        // a finding with neither is a delivery of its own
        let key = (id.is_some() || rcpt.is_some())
            .then(|| self.hash_key(id.unwrap_or(""), rcpt.unwrap_or("")));
        let found = key.map(|k| (k, self.lookup(k, id.unwrap_or(""), rcpt.unwrap_or(""))));
        if delivered {
            match found {
                Some((_, Ok(i))) => {
                    let new = self.new_time(i, t);
                    if let Some(r) = self.recs.get_mut(i as usize) {
                        r.saw(t, new);
                        r.delivered_at = t;
                        r.delivered_seq = seq;
                    }
                }
                Some((k, Err(_))) => self.delivered.record(k, t, seq),
                None => self.delivered.count += 1,
            }
            return;
        }
        let idx = match found {
            Some((_, Ok(i))) => i,
            _ => {
                let slot = found.and_then(|(_, r)| r.err());
                let earlier = key.and_then(|k| self.delivered.take(k));
                self.push(f, slot, earlier)
            }
        };
        let Some(r) = self.recs.get(idx as usize) else {
            return;
        };
        // the last error: latest in time, else latest in the input
        let last = max_time(r.last, t);
        let later = t == NO_TIME || last == NO_TIME || t >= last;
        let take = r.roots == 0 || later;
        let (category, entry) = (self.names.id(&f.category), self.names.id(&f.entry));
        let ids = take.then(|| {
            (
                self.names.id(&f.path),
                self.statics.id(f.platform),
                self.statics.id(f.reason),
            )
        });
        let dest = if take {
            f.remote_host.as_deref().or(f.remote_ip.as_deref())
        } else {
            None
        };
        let dest = match dest {
            Some(d) => Some(self.names.id(d)),
            None if r.destination == NO_NAME => rcpt.and_then(domain_of).map(|d| self.names.id(&d)),
            None => None,
        };
        let mta = match (r.mta, f.mta) {
            (u16::MAX, Some(m)) => self.statics.id(m),
            (m, _) => m,
        };
        let new = self.new_time(idx, t);
        let Some(r) = self.recs.get_mut(idx as usize) else {
            return;
        };
        r.saw(t, new);
        r.roots += 1;
        r.mta = mta;
        r.retry_until = max_time(r.retry_until, raw_time(f.retry_until));
        r.any_expired |= f.state == State::Expired;
        r.any_failed |= f.state == State::Failed;
        if let Some((path, platform, reason)) = ids {
            r.last_seq = seq;
            r.last_code = f.code;
            r.category = category;
            r.entry = entry;
            r.path = path;
            r.platform = platform;
            r.reason = reason;
            r.hard_bounce = f.hard_bounce;
            r.known = f.known;
            r.severity = f.severity;
            r.line = f.line;
        }
        if let Some(d) = dest {
            r.destination = d;
        }
        self.count_category(f, category, entry);
    }

    /// A new record for a failing delivery, filed under `slot` of the index.
    fn push(&mut self, f: &Finding, slot: Option<u64>, earlier: Option<(i64, u64)>) -> u32 {
        let id = f
            .message_id
            .as_deref()
            .filter(|s| s.len() < (u32::MAX - 1) as usize);
        let rcpt = f.recipient.as_deref();
        let idx = u32::try_from(self.recs.len()).unwrap_or(NO_NAME - 1);
        let next_same_id = match id {
            Some(s) => {
                let h = self.hash(s);
                self.by_id.insert(h, idx).unwrap_or(NO_NAME)
            }
            None => NO_NAME,
        };
        let (delivered_at, delivered_seq) = earlier.unwrap_or((NO_TIME, 0));
        let mut r = Rec {
            names: [id.unwrap_or(""), rcpt.unwrap_or("")]
                .concat()
                .into_boxed_str(),
            id_len: id.map_or(u32::MAX, |s| s.len() as u32),
            has_recipient: rcpt.is_some(),
            destination: NO_NAME,
            category: NO_NAME,
            entry: NO_NAME,
            path: NO_NAME,
            first: NO_TIME,
            last: NO_TIME,
            retry_until: NO_TIME,
            delivered_at,
            delivered_seq,
            last_seq: 0,
            line: f.line,
            times: 0,
            roots: 0,
            next_same_id,
            last_code: None,
            platform: self.statics.id(f.platform),
            reason: self.statics.id(crate::reasons::UNDEFINED),
            mta: u16::MAX,
            severity: f.severity,
            known: false,
            hard_bounce: false,
            any_expired: false,
            any_failed: false,
        };
        if delivered_seq != 0 {
            // a new record: its first time is new
            r.saw(delivered_at, delivered_at != NO_TIME);
            if delivered_at != NO_TIME {
                self.times.insert((idx, delivered_at));
            }
        }
        self.recs.push(r);
        if let Some(s) = slot {
            self.index.insert(s, idx);
        }
        idx
    }

    /// Counts a root cause in its category's row (`category`, `entry`: its names' numbers).
    fn count_category(&mut self, f: &Finding, category: u32, entry: u32) {
        let message = f.message_id.as_deref().map(|m| self.hash(m));
        let recipient = f.recipient.as_deref().map(|r| self.hash_lower(r));
        let c = self
            .cats
            .entry((category, f.code))
            .or_insert_with(|| CatAcc {
                entry,
                known: f.known,
                platform: f.platform,
                findings: 0,
                messages: Hashes::default(),
                recipients: Hashes::default(),
                first: NO_TIME,
                last: NO_TIME,
            });
        c.entry = entry;
        c.known = f.known;
        c.platform = f.platform;
        c.findings += 1;
        c.messages.extend(message);
        c.recipients.extend(recipient);
        c.first = min_time(c.first, raw_time(f.time));
        c.last = max_time(c.last, raw_time(f.time));
    }

    /// A record as a delivery, with its state and expiry settled; None for a message-level
    /// error of a message whose recipients have deliveries of their own (theirs tell more).
    fn delivery<'t>(&'t self, r: &'t Rec) -> Option<Delivery<'t>> {
        if let (false, Some(id)) = (r.has_recipient, r.message_id())
            && self
                .of_id(id)
                .any(|i| self.recs.get(i as usize).is_some_and(|x| x.has_recipient))
        {
            return None;
        }
        let delivered = match (r.delivered_seq, r.delivered_at) {
            (0, _) => false,
            (_, NO_TIME) => r.delivered_seq > r.last_seq,
            (_, at) => r.last == NO_TIME || at >= r.last || r.roots == 0,
        };
        let mut state = if delivered {
            State::Delivered
        } else if r.any_expired {
            State::Expired
        } else if r.any_failed {
            State::Failed
        } else {
            State::Queued
        };
        let mta = (r.mta != u16::MAX).then(|| self.statics.get(r.mta));
        let expires_at = match state {
            State::Queued | State::Expired => time_of(r.retry_until).or_else(|| {
                let window = self.retry_window.unwrap_or_else(|| retry_window_of(mta));
                time_of(r.first).map(|t| t.saturating_add(window))
            }),
            _ => None,
        };
        let hard_bounce = r.hard_bounce && state == State::Failed;
        // a queued delivery past its window has expired by now
        if state == State::Queued && expires_at.is_some_and(|e| e <= self.now) {
            state = State::Expired;
        }
        Some(Delivery {
            message_id: r.message_id(),
            recipient: r.recipient(),
            destination: self.names.opt(r.destination),
            first_attempt: time_of(r.first),
            last_attempt: time_of(r.last),
            attempts: (r.roots.max(r.times).max(1)) as usize,
            last_code: r.last_code,
            category: self.names.get(r.category),
            entry: self.names.get(r.entry),
            known: r.known,
            platform: self.statics.get(r.platform),
            severity: r.severity,
            state,
            reason: if state == State::Delivered {
                "delivered"
            } else {
                self.statics.get(r.reason)
            },
            hard_bounce,
            expires_at,
            path: self.names.get(r.path),
            line: r.line,
        })
    }

    /// The deliveries with a failure, in the order they first appeared, with states and
    /// expiry settled. Deliveries that went out without one are only counted (see
    /// [`DeliveryReport::count`]).
    pub fn deliveries(&self) -> impl Iterator<Item = Delivery<'_>> + '_ {
        self.recs.iter().filter_map(|r| self.delivery(r))
    }

    /// Rows by category and code, most findings first.
    pub fn categories(&self) -> Vec<CategoryRow> {
        let mut rows: Vec<CategoryRow> = self
            .cats
            .iter()
            .map(|((category, code), c)| CategoryRow {
                category: self.names.get(*category).to_string(),
                code: *code,
                entry: self.names.get(c.entry).to_string(),
                known: c.known,
                platform: c.platform,
                findings: c.findings,
                messages: c.messages.len(),
                recipients: c.recipients.len(),
                first_seen: time_of(c.first),
                last_seen: time_of(c.last),
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

    /// Everything the summary shows, settled now.
    pub fn report(&self) -> DeliveryReport<'_> {
        let mut by_state: BTreeMap<&'static str, usize> = BTreeMap::new();
        let mut count = 0;
        let mut soonest = Soonest::new(EXPIRING);
        let mut dests = Destinations::default();
        for d in self.deliveries() {
            count += 1;
            *by_state.entry(d.state.as_str()).or_default() += 1;
            if d.state == State::Queued {
                soonest.push(d.clone());
            }
            if d.state != State::Delivered {
                dests.add(self, &d);
            }
        }
        if self.delivered.count > 0 {
            *by_state.entry(State::Delivered.as_str()).or_default() += self.delivered.count;
            count += self.delivered.count;
        }
        DeliveryReport {
            now: self.now,
            retry_window: self.retry_window.unwrap_or(DEFAULT_RETRY_WINDOW),
            timeline: self,
            count,
            delivered_without_failure: self.delivered.count,
            by_state,
            categories: self.categories(),
            destinations: dests.rows(),
            expiring: soonest.take(),
        }
    }
}

/// How many queued deliveries the summary lists, soonest to expire first.
pub const EXPIRING: usize = 10;

/// The queued deliveries that expire soonest (those without an expiry time last; among
/// equals, the first seen), kept to `limit` as they come.
struct Soonest<'t> {
    limit: usize,
    v: Vec<Delivery<'t>>,
}

impl<'t> Soonest<'t> {
    fn new(limit: usize) -> Self {
        Soonest {
            limit,
            v: Vec::new(),
        }
    }

    fn push(&mut self, d: Delivery<'t>) {
        self.v.push(d);
        if self.v.len() >= 4 * self.limit.max(1) {
            self.settle();
        }
    }

    fn settle(&mut self) {
        self.v
            .sort_by_key(|d| (d.expires_at.is_none(), d.expires_at));
        self.v.truncate(self.limit);
    }

    fn take(mut self) -> Vec<Delivery<'t>> {
        self.settle();
        self.v
    }
}

/// Per destination, over the failing deliveries.
#[derive(Default)]
struct Destinations<'t> {
    by: HashMap<&'t str, DestAcc<'t>>,
}

#[derive(Default)]
struct DestAcc<'t> {
    deliveries: usize,
    messages: Hashes,
    recipients: Hashes,
    first: i64,
    last: i64,
    /// category, how many, and the entry, knownness and platform first seen with it
    cats: Vec<(&'t str, usize, &'t str, bool, &'static str)>,
}

impl<'t> Destinations<'t> {
    fn add(&mut self, t: &Timeline, d: &Delivery<'t>) {
        let e = self
            .by
            .entry(d.destination.unwrap_or("(unknown)"))
            .or_insert_with(|| DestAcc {
                first: NO_TIME,
                last: NO_TIME,
                ..DestAcc::default()
            });
        e.deliveries += 1;
        e.messages.extend(d.message_id.map(|m| t.hash(m)));
        e.recipients.extend(d.recipient.map(|r| t.hash_lower(r)));
        e.first = min_time(e.first, raw_time(d.first_attempt));
        e.last = max_time(e.last, raw_time(d.last_attempt));
        match e.cats.iter_mut().find(|c| c.0 == d.category) {
            Some(c) => c.1 += 1,
            None => e.cats.push((d.category, 1, d.entry, d.known, d.platform)),
        }
    }

    /// Rows, most deliveries first.
    fn rows(self) -> Vec<DestinationRow> {
        let mut rows: Vec<DestinationRow> = self
            .by
            .into_iter()
            .map(|(destination, d)| {
                // the most frequent category; among equals, the first by name
                let top = d
                    .cats
                    .iter()
                    .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0)))
                    .copied()
                    .unwrap_or(("", 0, "", false, ""));
                DestinationRow {
                    destination: destination.to_string(),
                    deliveries: d.deliveries,
                    messages: d.messages.len(),
                    recipients: d.recipients.len(),
                    first_seen: time_of(d.first),
                    last_seen: time_of(d.last),
                    top_category: top.0.to_string(),
                    top_entry: top.2.to_string(),
                    top_known: top.3,
                    top_platform: top.4,
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
}

/// Everything the summary shows, settled at the end of a run.
pub struct DeliveryReport<'t> {
    pub now: i64,
    pub retry_window: i64,
    timeline: &'t Timeline,
    /// Every delivery, those without a failure included.
    pub count: usize,
    /// Deliveries that went out without a failure: counted, not listed.
    pub delivered_without_failure: usize,
    by_state: BTreeMap<&'static str, usize>,
    pub categories: Vec<CategoryRow>,
    pub destinations: Vec<DestinationRow>,
    /// Queued deliveries, the soonest to expire first (at most [`EXPIRING`]).
    pub expiring: Vec<Delivery<'t>>,
}

impl<'t> DeliveryReport<'t> {
    /// Deliveries per state.
    pub fn by_state(&self) -> BTreeMap<&'static str, usize> {
        self.by_state.clone()
    }

    /// The deliveries with a failure, in the order they first appeared.
    pub fn deliveries(&self) -> impl Iterator<Item = Delivery<'t>> + 't {
        self.timeline.deliveries()
    }
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
        let d: Vec<Delivery> = t.deliveries().collect();
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
        assert_eq!(d[1].destination, Some("mail.example.com"));
        let r = t.report();
        assert_eq!(r.expiring.len(), 1);
        let cats = t.categories();
        assert_eq!(cats[0].findings, 7);
        assert_eq!(cats[0].messages, 3);
        let dest = &r.destinations;
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
        assert_eq!(t.deliveries().next().unwrap().expires_at, Some(7200));
    }

    #[test]
    fn deliveries_without_a_failure_are_counted_not_kept() {
        let h = 3600;
        let mut t = Timeline::new(None, 10 * h);
        for i in 0..100 {
            let rcpt = format!("u{i}@example.com");
            t.add(&f(i, &format!("m{i}"), &rcpt, "2.0.0", State::Delivered, h));
        }
        // the same success twice is one delivery
        t.add(&f(
            200,
            "m7",
            "U7@example.com",
            "2.0.0",
            State::Delivered,
            h,
        ));
        t.add(&f(201, "x", "a@example.com", "4.4.316", State::Queued, h));
        assert_eq!(t.recs.len(), 1);
        let r = t.report();
        assert_eq!(r.count, 101);
        assert_eq!(r.delivered_without_failure, 100);
        assert_eq!(r.by_state().get("delivered"), Some(&100));
        assert_eq!(r.by_state().get("queued"), Some(&1));
        assert_eq!(r.deliveries().count(), 1);
    }

    #[test]
    fn a_success_read_before_its_failures_still_settles_the_delivery() {
        // the newest log first: the success, then the deferrals that came before it
        let h = 3600;
        let mut t = Timeline::new(None, 10 * h);
        t.add(&f(
            1,
            "m",
            "a@example.com",
            "2.0.0",
            State::Delivered,
            3 * h,
        ));
        t.add(&f(2, "m", "A@example.com", "4.4.316", State::Queued, h));
        t.add(&f(3, "m", "a@example.com", "4.4.316", State::Queued, 2 * h));
        let r = t.report();
        assert_eq!((r.count, r.delivered_without_failure), (1, 0));
        let d: Vec<Delivery> = r.deliveries().collect();
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].state, State::Delivered);
        assert_eq!(d[0].attempts, 3);
        assert_eq!(
            (d[0].first_attempt, d[0].last_attempt),
            (Some(h), Some(3 * h))
        );
    }

    #[test]
    fn a_success_reported_twice_is_one_attempt() {
        // an Exchange tracking log reports a SEND twice (two findings of one line)
        let mut t = Timeline::new(None, 0);
        t.add(&f(1, "m", "a@example.com", "4.4.316", State::Queued, 10));
        t.add(&f(2, "m", "a@example.com", "2.0.0", State::Delivered, 20));
        t.add(&f(2, "m", "a@example.com", "2.0.0", State::Delivered, 20));
        let d = t.deliveries().next().unwrap();
        assert_eq!((d.attempts, d.state), (2, State::Delivered));
    }

    #[test]
    fn a_delivery_remembers_at_most_10000_attempt_times() {
        let mut t = Timeline::new(None, 0);
        for i in 0..10_050 {
            t.add(&f(
                i,
                "m",
                "a@example.com",
                "4.4.316",
                State::Queued,
                i as i64,
            ));
        }
        assert_eq!(t.times.len(), 10_000);
        assert_eq!(t.deliveries().next().unwrap().attempts, 10_050);
    }

    #[test]
    fn a_failing_delivery_costs_a_few_hundred_bytes() {
        let size = std::mem::size_of::<Rec>();
        assert!(size <= 128, "a delivery record grew to {size} bytes");
    }
}
