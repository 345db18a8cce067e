//! The command line (clap derive). Names here are a contract: extend, never rename.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::time::Duration;

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
    Ndjson,
    /// GitHub Actions workflow commands (`::error`, `::warning`).
    Github,
    /// A summary to paste into a ticket or chat.
    Markdown,
}
const EXAMPLES: &str = "\
Examples:
  Paste a bounce (end with Ctrl-D):
    ndr-doctor
  Explain a code:
    ndr-doctor explain 450 4.4.316
  Pipe a mail log or a message trace through it:
    grep status=deferred /var/log/mail.log | ndr-doctor
    ndr-doctor --format ndjson /var/log/mail.log > findings.ndjson
  Summarise a day of logs: what fails, where, what expires first:
    zcat /var/log/mail.log.1.gz | ndr-doctor --summary --retry-window 5d
  Fail a CI job when a permanent failure or a connector error appears:
    ndr-doctor --fail-on permanent,connection-refused bounces/
  Fail only when 10 or more deliveries have expired, annotate the run on GitHub:
    ndr-doctor --format github --fail-on expired --fail-on-count 10 trace.csv

Exit status: 0 no finding matched --fail-on, 1 one did, 2 usage or input error.";

#[derive(Debug, Parser)]
#[command(
    name = "ndr-doctor",
    version,
    about = "Explains why a mail message was not delivered, and what to do about it.",
    long_about = "Finds SMTP enhanced status codes, Microsoft 365 / Exchange Online queue errors \
                  (4.4.312 to 4.4.318, 4.7.320) and their symptoms in bounce messages, NDRs and \
                  MTA logs, and prints the cause and the fix for each.",
    after_help = EXAMPLES,
    subcommand_precedence_over_arg = false
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub diagnose: DiagnoseArgs,

    /// Output format.
    #[arg(long, value_enum, default_value = "human", global = true)]
    pub format: Format,

    /// When to use colours (NO_COLOR and CLICOLOR_FORCE are honoured with `auto`).
    #[arg(long, value_enum, default_value = "auto", global = true)]
    pub color: ColorChoice,

    /// Language of the explanations [default: from LC_ALL, LC_MESSAGES or LANG, else en].
    #[arg(long, value_enum, global = true)]
    pub lang: Option<LangArg>,

    /// Wrap the human output to N display columns [default: the terminal's width, else
    /// 100].
    #[arg(long, value_name = "N", global = true, value_parser = clap::value_parser!(u16).range(20..=1000))]
    pub width: Option<u16>,

    /// A local runbook file (catalog JSON) laid over the built-in table; repeatable. The
    /// files in NDR_DOCTOR_CATALOG (a path list) come first.
    #[arg(long, value_name = "FILE", global = true)]
    pub catalog: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DiagnoseArgs {
    /// Files or directories (walked recursively) to diagnose; `-` or nothing reads standard input.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Exit with 1 when a finding matches: any, none, transient, permanent, queued, expired,
    /// failed, or a comma list of codes and categories (e.g. 4.4.316,certificate-invalid).
    #[arg(long, value_name = "POLICY", default_value = "any")]
    pub fail_on: String,

    /// Also report 2.x.x success codes.
    #[arg(long)]
    pub all: bool,

    /// Group findings into deliveries (message, recipient) and print a summary: by category
    /// and code, by destination, and the deliveries that expire soonest. With
    /// `--format ndjson`: one object per delivery that had a failure (those that went out
    /// without one are counted, not listed).
    #[arg(long)]
    pub summary: bool,

    /// How long the sending server retries a queued message [default: the MTA's own when
    /// its log says which (Postfix and Sendmail 5d, Exim 4d), else 24h as Exchange Online];
    /// e.g. 2d for Exchange Server.
    #[arg(long, value_name = "DURATION", value_parser = retry_window)]
    pub retry_window: Option<Duration>,

    /// The reference time for expiry countdowns and for the year of syslog timestamps
    /// (RFC 3339, e.g. 2026-03-05T09:00:00Z) [default: now].
    #[arg(long, value_name = "TIMESTAMP", value_parser = timestamp)]
    pub now: Option<i64>,

    /// Fail (exit 1) only when at least N deliveries match --fail-on.
    #[arg(long, value_name = "N")]
    pub fail_on_count: Option<u64>,

    /// Which failures to report: outbound (our server could not deliver), inbound (our
    /// server refused an incoming client), or both.
    #[arg(long, value_name = "WHICH", value_enum, default_value_t = DirectionArg::Both)]
    pub direction: DirectionArg,

    /// With --format json or ndjson: only these keys of each finding, in this order (a comma
    /// list, e.g. path,line,code,reason,recipient).
    #[arg(long, value_name = "KEYS")]
    pub fields: Option<String>,

    /// The system whose queue holds the messages, for its own steps (default: told by each
    /// input: the log's MTA, the bounce's layout, the trace's kind).
    #[arg(long, value_name = "NAME", value_enum)]
    pub platform: Option<PlatformArg>,

    /// Replace addresses, host names and IPs in all output by stable placeholders
    /// (user1@domain1, host3, ip2), for pasting into a public ticket.
    #[arg(long)]
    pub redact: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the full catalog entry for codes: 4.4.316, "450 4.4.316", 5.4.316, X.1.1.
    Explain {
        #[arg(required = true, value_name = "CODE")]
        codes: Vec<String>,
    },
    /// List the catalog, one line per entry (or the whole table with --format json).
    /// Words filter on code, category, title and summary: `codes tls`, `codes 5.7`.
    Codes {
        /// Words that every listed entry must contain (any language, any case).
        #[arg(value_name = "TEXT")]
        query: Vec<String>,
        /// Only entries that serve this class: 2, 4, 5 or X (registry codes serve 4 and 5).
        #[arg(long, value_name = "CLASS")]
        class: Option<String>,
        /// Only entries from this source: eop-connector, exchange-online, exchange-server,
        /// iana, rfc3463 (or local, for runbook additions).
        #[arg(long, value_name = "SOURCE")]
        source: Option<String>,
    },
    /// Print a shell completion script: bash, zsh, fish, elvish or powershell.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) to standard output.
    Man,
    /// Deliver to a server or a mail domain the way Microsoft 365 does (resolve; for a domain
    /// its MTA-STS policy and each MX host's DANE records; connect, banner, EHLO, STARTTLS,
    /// certificate check, QUIT at each host and address until one accepts; never sends mail)
    /// and name the error it would queue.
    #[command(after_help = PROBE_EXAMPLES)]
    Probe(ProbeArgs),
}

const PROBE_EXAMPLES: &str = "\
Examples:
  Did the firewall change work?
    ndr-doctor probe mail.contoso.com
  Check every morning that the server still offers TLS with a valid certificate:
    ndr-doctor probe mail.contoso.com:25 --require-tls --cert-name mail.contoso.com
  Which code would Exchange Online queue for mail to this domain (MX hosts, DANE, MTA-STS)?
    ndr-doctor probe --mx contoso.com
  Probe a connector's smart hosts in turn:
    ndr-doctor probe --smart-host relay1.contoso.com --smart-host relay2.contoso.com

Exit status: 0 a host accepted (or the predicted code did not match --fail-on),
1 the predicted code matched --fail-on, 2 usage or local error.";

/// Options of `probe`.
#[derive(Debug, Args)]
pub struct ProbeArgs {
    /// Host name or address to probe, with an optional port: mail.contoso.com,
    /// mail.contoso.com:2525, 192.0.2.10, [2001:db8::25]:25.
    /// A name with no address but MX records is probed as a mail domain (as with --mx).
    #[arg(
        value_name = "HOST[:PORT]",
        required_unless_present_any = ["mx", "smart_host"],
        conflicts_with_all = ["mx", "smart_host"]
    )]
    pub host: Option<String>,

    /// Probe a mail domain as Exchange Online delivers to it: its MTA-STS policy, then each MX
    /// host in preference order (with its DANE records), each address in turn, until one
    /// accepts.
    #[arg(long, value_name = "DOMAIN", conflicts_with = "smart_host")]
    pub mx: Option<String>,

    /// Probe as a connector with smart hosts does: each host in the order given (repeat the
    /// option), each address in turn, until one accepts; no MX look-up.
    #[arg(long, value_name = "HOST[:PORT]")]
    pub smart_host: Vec<String>,

    /// TCP port [default: 25, or the one given with HOST].
    #[arg(long, value_name = "PORT")]
    pub port: Option<u16>,

    /// Fail (4.4.317) when the server does not offer STARTTLS.
    #[arg(long)]
    pub require_tls: bool,

    /// Name the certificate must be valid for [default: HOST, or the MX host].
    #[arg(long, value_name = "NAME")]
    pub cert_name: Option<String>,

    /// Limit for each step and socket operation: 30s, 500ms, 2m (at most 24h).
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = probe_limit)]
    pub timeout: Duration,

    /// Time limit for the whole probe, every address and step included [default: four times
    /// --timeout].
    #[arg(long, value_name = "DURATION", value_parser = probe_limit)]
    pub deadline: Option<Duration>,

    /// Name to send with EHLO [default: the local address literal, e.g. [192.0.2.1]].
    #[arg(long, value_name = "NAME")]
    pub helo: Option<String>,

    /// Trust the CA certificates in this PEM file instead of the built-in public roots.
    #[arg(long, value_name = "PEM")]
    pub ca_file: Option<PathBuf>,

    /// DNS server to ask instead of the system's (MX, A/AAAA, TLSA, TXT): 192.0.2.53 or
    /// 192.0.2.53:5353. DANE trusts its DNSSEC validation (the AD bit of its answers).
    #[arg(long, value_name = "IP[:PORT]")]
    pub resolver: Option<String>,

    /// Fetch the MTA-STS policy from this https:// URL instead of
    /// https://mta-sts.DOMAIN/.well-known/mta-sts.txt (its certificate is still checked for
    /// mta-sts.DOMAIN): for a test server.
    #[arg(long, value_name = "URL")]
    pub mta_sts_url: Option<String>,

    /// Exit with 1 when the predicted code matches: any, none, transient, permanent, queued,
    /// or a comma list of codes and categories (e.g. 4.4.316,certificate-invalid).
    #[arg(long, value_name = "POLICY", default_value = "any")]
    pub fail_on: String,
}

/// `--platform`: the platforms of `data/runbooks.json` (a test checks they agree).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlatformArg {
    ExchangeOnline,
    ExchangeServer,
    Postfix,
    Exim,
    Sendmail,
    Qmail,
    Generic,
}

impl PlatformArg {
    /// The platform's name in the data and the JSON `platform` field.
    pub fn name(self) -> &'static str {
        match self {
            PlatformArg::ExchangeOnline => "exchange-online",
            PlatformArg::ExchangeServer => "exchange-server",
            PlatformArg::Postfix => "postfix",
            PlatformArg::Exim => "exim",
            PlatformArg::Sendmail => "sendmail",
            PlatformArg::Qmail => "qmail",
            PlatformArg::Generic => "generic",
        }
    }
}

/// `--direction`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DirectionArg {
    Outbound,
    Inbound,
    Both,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LangArg {
    En,
    Ja,
}

/// `--retry-window`: the duration grammar of every flag, at most 100 years.
fn retry_window(s: &str) -> Result<Duration, crate::time::DurationError> {
    crate::time::parse_duration(s, Duration::from_secs(crate::time::MAX_DURATION as u64))
}

/// `--timeout` and `--deadline` of a probe: at most a day.
fn probe_limit(s: &str) -> Result<Duration, crate::time::DurationError> {
    crate::time::parse_duration(s, Duration::from_secs(86_400))
}

/// `--now`: an RFC 3339 timestamp (or another form a mail log writes), in UTC seconds.
fn timestamp(s: &str) -> Result<i64, crate::time::TimestampError> {
    crate::time::parse_flag(s, crate::time::system_now())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_platform_option_knows_every_platform_of_the_runbooks() {
        let names: Vec<&str> = PlatformArg::value_variants()
            .iter()
            .map(|p| p.name())
            .collect();
        assert_eq!(names.len(), crate::runbook::platform_names().len());
        for n in names {
            assert!(crate::runbook::platform(n).is_some(), "{n}");
        }
    }
}
