//! The finding: a plain struct the extractor fills and the renderers only read.

use super::reason::{Basis, Stage};
use crate::catalog::{Code, Severity};
use serde::Serialize;

/// Where a delivery stands, as far as one finding tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, PartialOrd, Ord, Hash)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// A temporary failure: the sending server keeps the message and retries.
    Queued,
    /// Retried until the retry window ran out, then returned to the sender.
    Expired,
    /// Rejected for good.
    Failed,
    /// A success report (2.x.x, only with `--all`).
    Delivered,
}

/// Whose delivery failed: ours to another server, or another's to ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Our server could not deliver (delivery agents, transports, bounces we received).
    Outbound,
    /// Our server refused or lost an incoming client's message (smtpd rejects).
    Inbound,
}

impl Direction {
    /// The name in JSON output: `outbound` or `inbound`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Direction::Outbound => "outbound",
            Direction::Inbound => "inbound",
        }
    }
}

impl State {
    /// The name in JSON output: `queued`, `expired`, `failed` or `delivered`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            State::Queued => "queued",
            State::Expired => "expired",
            State::Failed => "failed",
            State::Delivered => "delivered",
        }
    }
}

/// One code (or symptom) found in the input, with its context.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// The path as given (`-` for standard input).
    pub path: String,
    /// 1-based number of the message within the input (mbox files hold several).
    pub message: usize,
    /// 1-based line in the input.
    pub line: u64,
    /// The enhanced status code; None for a failure found by its words or symptom alone.
    pub code: Option<Code>,
    pub(crate) reply: Option<u16>,
    /// Catalog key of the entry that explains it.
    pub entry: String,
    pub(crate) known: bool,
    pub(crate) category: String,
    pub(crate) severity: Severity,
    pub(crate) state: State,
    /// The finding that explains the failure: one per log line, and one per recipient of a
    /// bounce or pasted text; the others are what else the text held.
    pub root_cause: bool,
    pub(crate) recipient: Option<String>,
    pub(crate) remote_host: Option<String>,
    pub(crate) remote_ip: Option<String>,
    pub(crate) timestamp: Option<String>,
    pub(crate) message_id: Option<String>,
    /// The source line, made visible (escapes) and cut to 300 characters.
    pub excerpt: String,
    /// The remote server's own reply quoted inside this error (`[Message=451 5.7.3 ...]`).
    pub remote_reply: Option<String>,
    /// The symptom phrase that set the category when no specific code did.
    pub symptom: Option<String>,
    /// This code was quoted inside another error on the same line.
    pub nested: bool,
    /// `timestamp` parsed, in UTC seconds since the epoch.
    pub time: Option<i64>,
    /// What the failure is, in the shared vocabulary (`data/reasons.json`).
    pub reason: &'static str,
    /// Resending the same message to the same address cannot succeed.
    pub hard_bounce: bool,
    /// The reason the words alone name, before the code and stage are weighed.
    pub words: Option<&'static str>,
    /// What the reason rests on: the code, the words, or both.
    pub basis: Basis,
    /// The SMTP stage the failure happened at, when the text tells.
    pub stage: Option<Stage>,
    /// Whose delivery failed: ours (outbound) or an incoming client's (inbound).
    pub direction: Direction,
    /// The MTA whose log line this is (`postfix`, `sendmail`, `exim`, `qmail`), when the
    /// line says: its queue lifetime is the retry window of the delivery.
    pub mta: Option<&'static str>,
    /// The system whose queue holds the message (`postfix`, `exim`, `exchange-online`,
    /// `generic` ...; `data/runbooks.json`): whose steps explain the finding.
    pub platform: &'static str,
    /// A delayed DSN's `Will-Retry-Until`, in UTC seconds: when the sender gives up.
    pub retry_until: Option<i64>,
}

impl Finding {
    /// The code as printed (`4.4.316`), or an empty string for a symptom without a code.
    pub fn code_str(&self) -> String {
        self.code.map(|c| c.to_string()).unwrap_or_default()
    }
}
