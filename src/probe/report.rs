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
    /// A mail domain: its MX hosts in preference order, each at each of its addresses, until
    /// one accepts (the domain itself when it has no MX), with its DANE and MTA-STS checks.
    Mx { domain: String, port: u16 },
    /// The smart hosts of a connector, in the order given: each at each of its addresses,
    /// until one accepts (no MX look-up; DANE and MTA-STS do not apply).
    SmartHosts { hosts: Vec<String>, port: u16 },
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
    /// The DNS server to ask instead of the system's (MX, addresses, TLSA, TXT).
    pub resolver: Option<SocketAddr>,
    /// Where to fetch the MTA-STS policy instead of `https://mta-sts.DOMAIN/.well-known/mta-sts.txt`
    /// (its certificate is still checked for `mta-sts.DOMAIN`).
    pub mta_sts_url: Option<String>,
}

/// One step of the probe, as reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// `resolve`, `connect`, `banner`, `ehlo`, `starttls`, `tls`, `ehlo-tls`, `quit`.
    pub step: &'static str,
    pub ok: bool,
    pub millis: u64,
    pub detail: String,
    /// The host and the address of the attempt the step belongs to (`None` for the steps
    /// before any attempt: `resolve`, the domain's `mta-sts`).
    pub host: Option<String>,
    pub address: Option<SocketAddr>,
}

/// One delivery attempt of a walk over hosts and addresses: a row of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub host: String,
    /// `None` when the host was passed over before connecting (MTA-STS, DANE look-up).
    pub address: Option<SocketAddr>,
    /// The code this attempt predicts, `None` when it was accepted.
    pub code: Option<&'static str>,
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
    /// The attempts, in order: every host and address tried, and how each ended.
    pub attempts: Vec<Attempt>,
    /// What else the reader should know (addresses not tried, the deadline).
    pub notes: Vec<String>,
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
/// A null MX (RFC 7505): the domain accepts no mail.
pub const NULL_MX: &str = "5.1.10";
pub const DANE_NO_STARTTLS: &str = "4.7.321";
pub const DANE_EXPIRED: &str = "4.7.322";
pub const DANE_NO_MATCH: &str = "4.7.323";
pub const DANE_DNSSEC: &str = "4.7.324";
pub const DANE_NAME: &str = "4.7.325";
pub const STS_MX: &str = "4.4.8";
pub const STS_CERTIFICATE: &str = "4.7.5";
