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
    port: &'static str,
    no_mail: &'static str,
    ok: &'static str,
    fail: &'static str,
    predicted: &'static str,
    clean: &'static str,
}

const EN: Labels = Labels {
    probing: "Probing",
    mx_of: "the MX of",
    port: "port",
    no_mail: "as a Microsoft 365 connector would (no mail is sent)",
    ok: "ok",
    fail: "FAIL",
    predicted: "Predicted",
    clean: "Clean: every step passed. A connector delivering to this server would not queue mail with a connection or certificate error.",
};

const JA: Labels = Labels {
    probing: "接続テスト:",
    mx_of: "MX:",
    port: "ポート",
    no_mail: "(Microsoft 365 のコネクタと同じ手順。メールは送信しません)",
    ok: "OK",
    fail: "失敗",
    predicted: "予測されるエラー",
    clean: "問題なし: すべての手順に成功しました。このサーバーへの配信で、コネクタが接続エラーや証明書エラーでメールをキューに入れることはありません。",
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
        Target::Mx { domain, port, .. } => {
            format!("{} {} {} {port}", l.mx_of, safe(domain), l.port)
        }
    };
    let line = format!("{} {what} {}", l.probing, l.no_mail);
    if style.color {
        writeln!(w, "{}", line.bold())
    } else {
        writeln!(w, "{line}")
    }
}

/// One step, as it ends.
pub fn human_step(w: &mut dyn Write, s: &Step, style: Style) -> io::Result<()> {
    let l = labels(style.lang);
    let mark = if s.ok { l.ok } else { l.fail };
    let mark = format!("{mark:<4}");
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
    let Some(key) = r.code else {
        let line = if style.color {
            l.clean.green().bold().to_string()
        } else {
            l.clean.to_string()
        };
        return writeln!(w, "{line}");
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
    if let Some(s) = r.steps.iter().find(|s| !s.ok) {
        writeln!(w, "  {}: {}", s.step, safe(&s.detail))?;
    }
    human::write_explanation(w, &x, style.lang, style.color, "  ")
}

#[derive(Serialize)]
struct StepJson<'a> {
    step: &'a str,
    ok: bool,
    millis: u64,
    detail: &'a str,
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
            })
            .collect(),
        fixes: x.as_ref().map(|x| x.fixes.clone()).unwrap_or_default(),
        domain: r.domain.as_deref(),
        address: r.address.map(|a| a.to_string()),
        reply: entry.map(|e| e.reply),
        title: x.as_ref().map(|x| x.title),
        reason: r.reason,
    };
    let s = super::json::to_safe_string(&o, pretty)?;
    writeln!(w, "{s}")?;
    w.flush()
}
