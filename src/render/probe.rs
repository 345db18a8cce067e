//! Output of `probe`: the steps as they end (human), then the predicted code with the
//! catalog's explanation; or one JSON object. Everything from the network is escaped here.

use super::{Style, explain, human};
use crate::catalog::Lang;
use crate::probe::{Report, Step, Target};
use crate::sanitize::text as safe;
use colored::Colorize;
use serde::Serialize;
use std::io::{self, Write};

struct Labels {
    probing: &'static str,
    mx_of: &'static str,
    smart_hosts: &'static str,
    port: &'static str,
    no_mail: &'static str,
    ok: &'static str,
    fail: &'static str,
    predicted: &'static str,
    clean: &'static str,
    /// After failed attempts: `{host}` accepted after `{n}` failed attempts.
    clean_after: &'static str,
    tried: &'static str,
    accepted: &'static str,
    not_connected: &'static str,
}

const EN: Labels = Labels {
    probing: "Probing",
    mx_of: "the MX of",
    smart_hosts: "the smart hosts",
    port: "port",
    no_mail: "as a Microsoft 365 connector would (no mail is sent)",
    ok: "ok",
    fail: "FAIL",
    predicted: "Predicted",
    clean: "Clean: every step passed. A connector delivering to this server would not queue mail with a connection or certificate error.",
    clean_after: "Delivered, late: {host} accepted after {n} failed attempt{s}. A sender trying the hosts in turn would deliver; mend the failing ones, or every message waits for them first.",
    tried: "Tried",
    accepted: "accepted",
    not_connected: "not connected",
};

const JA: Labels = Labels {
    probing: "接続テスト:",
    mx_of: "MX:",
    smart_hosts: "スマートホスト:",
    port: "ポート",
    no_mail: "(Microsoft 365 のコネクタと同じ手順。メールは送信しません)",
    ok: "OK",
    fail: "失敗",
    predicted: "予測されるエラー",
    clean: "問題なし: すべての手順に成功しました。このサーバーへの配信で、コネクタが接続エラーや証明書エラーでメールをキューに入れることはありません。",
    clean_after: "配信可能 (遅延あり): {n} 回の失敗の後、{host} が受け付けました。送信側は順に試して配信しますが、失敗するホストを直さないと毎回その分だけ遅れます。",
    tried: "試行",
    accepted: "受付",
    not_connected: "未接続",
};

fn labels(lang: Lang) -> &'static Labels {
    match lang {
        Lang::En => &EN,
        Lang::Ja => &JA,
    }
}

/// The first line: what is probed.
pub fn human_header(w: &mut dyn Write, target: &Target, style: Style) -> io::Result<()> {
    let l = labels(style.lang);
    let what = match target {
        Target::Host { host, port } => format!("{} {} {port}", safe(host), l.port),
        Target::Mx { domain, port } => {
            format!("{} {} {} {port}", l.mx_of, safe(domain), l.port)
        }
        Target::SmartHosts { hosts, port } => {
            let hosts: Vec<_> = hosts.iter().map(|h| safe(h).into_owned()).collect();
            format!("{} {} {} {port}", l.smart_hosts, hosts.join(", "), l.port)
        }
    };
    let line = format!("{} {what} {}", l.probing, l.no_mail);
    if style.color {
        writeln!(w, "{}", line.bold())
    } else {
        writeln!(w, "{line}")
    }
}

/// The steps as they end, each attempt's host named once before its steps (unless it is the
/// one host the header already names).
pub struct HumanSteps {
    named: Option<String>,
}

impl HumanSteps {
    /// For the probe of `target`.
    pub fn new(target: &Target) -> HumanSteps {
        HumanSteps {
            named: match target {
                Target::Host { host, .. } => Some(host.clone()),
                Target::Mx { .. } | Target::SmartHosts { .. } => None,
            },
        }
    }

    /// One step, as it ends.
    pub fn step(&mut self, w: &mut dyn Write, s: &Step, style: Style) -> io::Result<()> {
        if let Some(h) = &s.host
            && self.named.as_ref() != Some(h)
        {
            let line = format!("  {}:", safe(h));
            if style.color {
                writeln!(w, "{}", line.bold())?;
            } else {
                writeln!(w, "{line}")?;
            }
            self.named = Some(h.clone());
        }
        human_step(w, s, style)
    }
}

/// One step, as it ends.
fn human_step(w: &mut dyn Write, s: &Step, style: Style) -> io::Result<()> {
    let l = labels(style.lang);
    let mark = if s.ok { l.ok } else { l.fail };
    // padded to 4 columns: `失敗` is two characters but four columns wide
    let mark = format!(
        "{mark}{}",
        " ".repeat(4usize.saturating_sub(unicode_width::UnicodeWidthStr::width(mark)))
    );
    let mark = match (style.color, s.ok) {
        (false, _) => mark,
        (true, true) => mark.green().to_string(),
        (true, false) => mark.red().bold().to_string(),
    };
    writeln!(
        w,
        "  {mark}  {:<8} {:>6} ms  {}",
        s.step,
        s.millis,
        safe(&s.detail)
    )?;
    w.flush()
}

/// The verdict: the predicted code and the catalog's explanation, or a clean bill.
pub fn human_verdict(w: &mut dyn Write, r: &Report, style: Style) -> io::Result<()> {
    let l = labels(style.lang);
    writeln!(w)?;
    let failed = r.attempts.iter().filter(|a| a.code.is_some()).count();
    let Some(key) = r.code else {
        let text = if failed > 0 {
            l.clean_after
                .replace("{host}", &safe(&r.host))
                .replace("{n}", &failed.to_string())
                .replace("{s}", if failed == 1 { "" } else { "s" })
        } else {
            l.clean.to_string()
        };
        let line = if style.color {
            text.green().bold().to_string()
        } else {
            text
        };
        writeln!(w, "{line}")?;
        return tried(w, r, l);
    };
    let x = explain(style.catalog, key, true, style.lang);
    let entry = x.entry;
    let reply = entry.map(|e| format!("{} ", e.reply)).unwrap_or_default();
    let category = entry.map(|e| e.category.as_str()).unwrap_or("");
    let code = if style.color {
        key.yellow().bold().to_string()
    } else {
        key.to_string()
    };
    let title = if style.color {
        x.title.bold().to_string()
    } else {
        x.title.to_string()
    };
    writeln!(w, "{}: {reply}{code} {title} [{category}]", l.predicted)?;
    // the failure the code comes from: the last one
    if let Some(s) = r.steps.iter().rfind(|s| !s.ok) {
        writeln!(w, "  {}: {}", s.step, safe(&s.detail))?;
    }
    tried(w, r, l)?;
    human::write_explanation(w, &x, style.lang, style.color, "  ")
}

/// With more than one attempt, how each ended; and the report's notes.
fn tried(w: &mut dyn Write, r: &Report, l: &Labels) -> io::Result<()> {
    if r.attempts.len() > 1 {
        let rows: Vec<String> = r
            .attempts
            .iter()
            .map(|a| {
                let at = a
                    .address
                    .map_or_else(|| l.not_connected.to_string(), |a| a.to_string());
                let outcome = a.code.unwrap_or(l.accepted);
                // a host given as an address is named by it already
                match (a.address, a.host.parse::<std::net::IpAddr>()) {
                    (Some(sa), Ok(ip)) if sa.ip() == ip => format!("{at} ({outcome})"),
                    _ => format!("{} {at} ({outcome})", safe(&a.host)),
                }
            })
            .collect();
        writeln!(w, "  {}: {}", l.tried, rows.join("; "))?;
    }
    for n in &r.notes {
        writeln!(w, "  {}", safe(n))?;
    }
    Ok(())
}

#[derive(Serialize)]
struct StepJson<'a> {
    step: &'a str,
    ok: bool,
    millis: u64,
    detail: &'a str,
    // extensions: the attempt the step belongs to
    #[serde(skip_serializing_if = "Option::is_none")]
    host: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    address: Option<String>,
}

#[derive(Serialize)]
struct AttemptJson<'a> {
    host: &'a str,
    address: Option<String>,
    ok: bool,
    code: Option<&'a str>,
}

/// The probe object. Field names are a contract: extend, never rename.
#[derive(Serialize)]
struct ProbeJson<'a> {
    host: &'a str,
    port: u16,
    /// Predicted code (catalog key), `null` when every step passed.
    code: Option<&'a str>,
    category: Option<&'a str>,
    steps: Vec<StepJson<'a>>,
    fixes: Vec<&'a str>,
    // extensions
    domain: Option<&'a str>,
    address: Option<String>,
    reply: Option<u16>,
    title: Option<&'a str>,
    reason: Option<&'a str>,
    attempts: Vec<AttemptJson<'a>>,
    notes: &'a [String],
}

/// One JSON object: pretty for `--format json`, one line for `--format ndjson`.
pub fn json(w: &mut dyn Write, r: &Report, style: Style, pretty: bool) -> io::Result<()> {
    let x = r.code.map(|k| explain(style.catalog, k, true, style.lang));
    let entry = x.as_ref().and_then(|x| x.entry);
    let o = ProbeJson {
        host: &r.host,
        port: r.port,
        code: r.code,
        category: entry.map(|e| e.category.as_str()),
        steps: r
            .steps
            .iter()
            .map(|s| StepJson {
                step: s.step,
                ok: s.ok,
                millis: s.millis,
                detail: &s.detail,
                host: s.host.as_deref(),
                address: s.address.map(|a| a.to_string()),
            })
            .collect(),
        fixes: x.as_ref().map(|x| x.fixes.clone()).unwrap_or_default(),
        domain: r.domain.as_deref(),
        address: r.address.map(|a| a.to_string()),
        reply: entry.map(|e| e.reply),
        title: x.as_ref().map(|x| x.title),
        reason: r.reason,
        attempts: r
            .attempts
            .iter()
            .map(|a| AttemptJson {
                host: &a.host,
                address: a.address.map(|a| a.to_string()),
                ok: a.code.is_none(),
                code: a.code,
            })
            .collect(),
        notes: &r.notes,
    };
    let s = super::json::to_safe_string(&o, pretty)?;
    writeln!(w, "{s}")?;
    w.flush()
}
