//! `probe HOST` / `probe --mx DOMAIN`: the options checked, the probe run (its steps shown
//! as they end in the human formats), the report rendered, and `--fail-on` applied to the
//! predicted code.

use super::cli::{Format, ProbeArgs};
use super::exit::{EXIT_ERROR, EXIT_FINDING, EXIT_OK, note};
use crate::probe::{
    self, DEFAULT_PORT, Options, Step, Target, check_host, parse_host_port, parse_resolver, tls,
};
use crate::render::{self, Style};
use std::io::{self, Write};
use std::net::IpAddr;

/// The `probe` subcommand: checks the options, probes, renders, and returns the exit status.
pub fn command(
    out: &mut dyn Write,
    args: &ProbeArgs,
    format: Format,
    style: Style,
) -> anyhow::Result<u8> {
    let policy = match crate::policy::FailOn::parse(&args.fail_on, style.catalog) {
        Ok(p) => p,
        Err(msg) => {
            note(format_args!("{msg}"));
            return Ok(EXIT_ERROR);
        }
    };
    let opts = match options(args) {
        Ok(o) => o,
        Err(msg) => {
            note(format_args!("probe: {msg}"));
            return Ok(EXIT_ERROR);
        }
    };
    let mut write_error: Option<io::Error> = None;
    let report = if matches!(format, Format::Human | Format::Github | Format::Markdown) {
        render::probe::human_header(out, &opts.target, style)?;
        let mut live = |s: &Step| {
            if write_error.is_none()
                && let Err(e) = render::probe::human_step(out, s, style)
            {
                write_error = Some(e);
            }
        };
        let r = probe::run(&opts, &mut live);
        if let Some(e) = write_error {
            return Err(e.into());
        }
        render::probe::human_verdict(out, &r, style)?;
        r
    } else {
        let r = probe::run(&opts, &mut |_| {});
        render::probe::json(out, &r, style, format == Format::Json)?;
        r
    };
    Ok(match report.code {
        Some(code) if policy.matches_code(code, style.catalog) => EXIT_FINDING,
        _ => EXIT_OK,
    })
}

/// The probe's options from its arguments. An error is one line for the user (exit status 2).
fn options(a: &ProbeArgs) -> Result<Options, String> {
    let timeout = a.timeout;
    let deadline = a.deadline.unwrap_or_else(|| timeout.saturating_mul(4));
    let target = match (&a.host, &a.mx) {
        (Some(h), None) => {
            let (host, p) = parse_host_port(h)?;
            if let (Some(p1), Some(p2)) = (p, a.port)
                && p1 != p2
            {
                return Err(format!("the port is given twice ({p1} and --port {p2})"));
            }
            Target::Host {
                host,
                port: p.or(a.port).unwrap_or(DEFAULT_PORT),
            }
        }
        (None, Some(d)) => {
            let d = d.trim();
            check_host(d).map_err(|e| format!("--mx {e}"))?;
            if d.parse::<IpAddr>().is_ok() {
                return Err("--mx takes a mail domain, not an address".into());
            }
            Target::Mx {
                domain: d.to_string(),
                port: a.port.unwrap_or(DEFAULT_PORT),
                resolver: a.resolver.as_deref().map(parse_resolver).transpose()?,
            }
        }
        _ => return Err("give either HOST or --mx DOMAIN".into()),
    };
    if let Some(n) = &a.cert_name {
        check_host(n).map_err(|e| format!("--cert-name {e}"))?;
        if rustls::pki_types::ServerName::try_from(n.trim_end_matches('.')).is_err() {
            return Err(format!(
                "--cert-name `{}` cannot be a certificate name",
                crate::sanitize::text(n)
            ));
        }
    }
    if let Some(h) = &a.helo
        && (h.is_empty() || h.len() > 255 || !h.bytes().all(|b| b.is_ascii_graphic()))
    {
        return Err(format!(
            "--helo: `{}` is not a name to send (printable ASCII without spaces)",
            crate::sanitize::text(h)
        ));
    }
    let roots = match &a.ca_file {
        Some(p) => tls::Roots::from_pem_file(p)?,
        None => tls::Roots::builtin(),
    };
    Ok(Options {
        target,
        require_tls: a.require_tls,
        cert_name: a.cert_name.clone(),
        timeout,
        deadline,
        helo: a.helo.clone(),
        roots,
    })
}
