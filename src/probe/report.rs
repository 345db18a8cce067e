//! What a probe is asked (`Target`, `Options`) and what it returns (`Step`s, a `Report`), and
//! the codes a failed step predicts: shared by the steps, the DNS look-up and the renderer.

use super::tls;
use std::net::SocketAddr;
use std::time::Duration;

pub const DEFAULT_PORT: u16 = 25;

/// What to probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A host name or address.
    Host { host: String, port: u16 },
    /// A mail domain: its most preferred MX host (or the domain itself when it has no MX).
    Mx {
        domain: String,
        port: u16,
        resolver: Option<SocketAddr>,
    },
}

/// Everything a probe needs, checked.
pub struct Options {
    pub target: Target,
    pub require_tls: bool,
    pub cert_name: Option<String>,
    pub timeout: Duration,
    /// The whole probe's time limit: no step goes on past it.
    pub deadline: Duration,
    pub helo: Option<String>,
    pub roots: tls::Roots,
}

/// One step of the probe, as reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// `resolve`, `connect`, `banner`, `ehlo`, `starttls`, `tls`, `ehlo-tls`, `quit`.
    pub step: &'static str,
    pub ok: bool,
    pub millis: u64,
    pub detail: String,
}

/// The outcome of a probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The host probed (for `--mx`, the MX host once known).
    pub host: String,
    /// The mail domain, for `--mx`.
    pub domain: Option<String>,
    pub port: u16,
    /// The address connected to.
    pub address: Option<SocketAddr>,
    /// The catalog key of the predicted error (`4.4.316`), `None` when every step passed.
    pub code: Option<&'static str>,
    /// For a certificate failure: expired, not yet valid, wrong name, untrusted issuer,
    /// self-signed (or another rustls reason).
    pub reason: Option<&'static str>,
    pub steps: Vec<Step>,
}

/// A failed step: the code it predicts and what happened.
#[derive(Debug)]
pub struct Failure {
    pub code: &'static str,
    pub reason: Option<&'static str>,
    pub detail: String,
}

impl Failure {
    pub(super) fn new(code: &'static str, detail: impl Into<String>) -> Failure {
        Failure {
            code,
            reason: None,
            detail: detail.into(),
        }
    }
}

pub const DNS_FAILED: &str = "4.4.312";
pub const TIMED_OUT: &str = "4.4.315";
pub const REFUSED: &str = "4.4.316";
pub const CANNOT_CONNECT: &str = "4.4.317";
pub const CLOSED: &str = "4.4.318";
pub const CERTIFICATE: &str = "4.7.320";
