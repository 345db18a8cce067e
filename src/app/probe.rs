//! `probe HOST` / `probe --mx DOMAIN` / `probe --smart-host HOST`: the options checked, the probe run (its steps shown
//! as they end in the human formats), the report rendered, and `--fail-on` applied to the
//! predicted code.

use super::cli::{Format, ProbeArgs};
use super::exit::{EXIT_ERROR, EXIT_FINDING, EXIT_OK, note};
use crate::probe::{self, DEFAULT_PORT, Options, Step, Target, tls};
use crate::render::{self, Style};
use std::io::{self, Write};
use std::net::{IpAddr, SocketAddr};

/// The `probe` subcommand: checks the options, probes, renders, and returns the exit status.
pub fn command(
    out: &mut dyn Write,
    args: &ProbeArgs,
    format: Format,
    style: Style,
) -> anyhow::Result<u8> {
    let policy = match crate::policy::FailOn::parse(&args.fail_on, style.catalog) {
        Ok(p) => p,
        Err(e) => {
            note(format_args!("--fail-on: {e}"));
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
        let mut steps = render::probe::HumanSteps::new(&opts.target);
        let mut live = |s: &Step| {
            if write_error.is_none()
                && let Err(e) = steps.step(out, s, style)
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
    let target = match (&a.host, &a.mx, a.smart_host.as_slice()) {
        (Some(h), None, []) => {
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
        (None, Some(d), []) => {
            let d = d.trim();
            check_host(d).map_err(|e| format!("--mx {e}"))?;
            if d.parse::<IpAddr>().is_ok() {
                return Err("--mx takes a mail domain, not an address".into());
            }
            Target::Mx {
                domain: d.to_string(),
                port: a.port.unwrap_or(DEFAULT_PORT),
            }
        }
        (None, None, hosts) if !hosts.is_empty() => {
            let mut names = Vec::new();
            let mut port = a.port;
            for h in hosts {
                let (host, p) = parse_host_port(h).map_err(|e| format!("--smart-host {e}"))?;
                if let (Some(p1), Some(p2)) = (p, port)
                    && p1 != p2
                {
                    return Err(format!(
                        "--smart-host: the smart hosts are probed at one port ({p2} and {p1} given)"
                    ));
                }
                port = port.or(p);
                names.push(host);
            }
            Target::SmartHosts {
                hosts: names,
                port: port.unwrap_or(DEFAULT_PORT),
            }
        }
        _ => return Err("give one of HOST, --mx DOMAIN or --smart-host HOST".into()),
    };
    if a.mta_sts_url.is_some() && matches!(target, Target::SmartHosts { .. }) {
        return Err(
            "--mta-sts-url is for a mail domain's policy (--mx DOMAIN); smart hosts have none"
                .into(),
        );
    }
    let resolver = a.resolver.as_deref().map(parse_resolver).transpose()?;
    if let Some(u) = &a.mta_sts_url
        && (!u.starts_with("https://")
            || u.len() > 2048
            || !u.bytes().all(|b| b.is_ascii_graphic()))
    {
        return Err(format!(
            "--mta-sts-url `{}` is not an https:// URL",
            crate::sanitize::text(u)
        ));
    }
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
        Some(p) => tls::Roots::from_pem_file(p).map_err(|e| {
            format!(
                "--ca-file {}: {e}",
                crate::sanitize::visible(p.as_os_str().as_encoded_bytes())
            )
        })?,
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
        resolver,
        mta_sts_url: a.mta_sts_url.clone(),
    })
}

/// Parses `HOST`, `HOST:PORT`, `[IPv6]`, `[IPv6]:PORT` or a bare IPv6 address.
fn parse_host_port(s: &str) -> Result<(String, Option<u16>), String> {
    let shown = || crate::sanitize::text(s).into_owned();
    let t = s.trim();
    let port = |p: &str| -> Result<u16, String> {
        match p.parse::<u16>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(format!(
                "`{}`: the port must be a number from 1 to 65535",
                shown()
            )),
        }
    };
    let (host, port) = if let Some(rest) = t.strip_prefix('[') {
        let (inside, after) = rest
            .split_once(']')
            .ok_or_else(|| format!("`{}`: `[` without `]`", shown()))?;
        if inside.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(format!("`{}`: not an IPv6 address inside [ ]", shown()));
        }
        let p = match after {
            "" => None,
            _ => Some(port(after.strip_prefix(':').ok_or_else(|| {
                format!("`{}`: expected `:PORT` after `]`", shown())
            })?)?),
        };
        (inside.to_string(), p)
    } else if t.matches(':').count() > 1 {
        if t.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(format!("`{}`: not a host name or address", shown()));
        }
        (t.to_string(), None)
    } else if let Some((h, p)) = t.split_once(':') {
        (h.to_string(), Some(port(p)?))
    } else {
        (t.to_string(), None)
    };
    check_host(&host)?;
    Ok((host, port))
}

/// A host name (letters, digits, `-`, `_`, dots; at most 253 characters) or an IP address.
fn check_host(host: &str) -> Result<(), String> {
    if host.parse::<IpAddr>().is_ok() {
        return Ok(());
    }
    let name = host.strip_suffix('.').unwrap_or(host);
    let ok = !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        });
    if ok {
        Ok(())
    } else if !host.is_ascii() {
        Err(format!(
            "`{}`: give an internationalized name in its xn-- (punycode) form",
            crate::sanitize::text(host)
        ))
    } else {
        Err(format!(
            "`{}`: not a host name or address",
            crate::sanitize::text(host)
        ))
    }
}

/// `--resolver`: `IP` or `IP:PORT` (`[IPv6]:PORT`), port 53 by default.
fn parse_resolver(s: &str) -> Result<SocketAddr, String> {
    let t = s.trim();
    if let Ok(ip) = t.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, 53));
    }
    t.parse::<SocketAddr>().map_err(|_| {
        format!(
            "--resolver: `{}` is not an IP address (expected e.g. 192.0.2.53 or 192.0.2.53:5353)",
            crate::sanitize::text(s)
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_hosts_and_ports() {
        let ok = |s: &str| parse_host_port(s).unwrap();
        assert_eq!(ok("mail.contoso.com"), ("mail.contoso.com".into(), None));
        assert_eq!(
            ok("mail.contoso.com:2525"),
            ("mail.contoso.com".into(), Some(2525))
        );
        assert_eq!(ok("192.0.2.1:25"), ("192.0.2.1".into(), Some(25)));
        assert_eq!(ok("[::1]:2525"), ("::1".into(), Some(2525)));
        assert_eq!(ok("[2001:db8::1]"), ("2001:db8::1".into(), None));
        assert_eq!(ok("2001:db8::1"), ("2001:db8::1".into(), None));
        assert_eq!(ok("mx.test."), ("mx.test.".into(), None));
        for bad in [
            "",
            ":25",
            "host:0",
            "host:70000",
            "host:x",
            "[::1",
            "[nope]:25",
            "[::1]25",
            "a..b",
            "bad host",
            "héllo.test",
            "x\u{1b}y",
            "1:2:3:zz",
        ] {
            assert!(parse_host_port(bad).is_err(), "{bad:?}");
        }
        assert!(parse_host_port("x\u{1b}y").unwrap_err().contains("\\x1b"));
        assert_eq!(
            parse_resolver("127.0.0.1"),
            Ok("127.0.0.1:53".parse().unwrap())
        );
        assert_eq!(
            parse_resolver("[::1]:5353"),
            Ok("[::1]:5353".parse().unwrap())
        );
        assert!(parse_resolver("dns.google").is_err());
    }
}
