//! `--format human`: a block for each root cause (code, title, where, context, causes,
//! numbered fixes), the other findings in one line each, and a closing total. The full
//! causes and fixes of an entry are printed once; later blocks for it point back.

use super::{Explanation, Renderer, Style, Tally, expiry_text, explain, explain_finding, top_fix};
use crate::catalog::{Entry, Lang, Match, Severity};
use crate::deliveries::DeliveryReport;
use crate::extract::{Finding, State};
use crate::sanitize::text as safe;
use crate::time::rfc3339;
use colored::Colorize;
use std::collections::HashSet;
use std::io::{self, Write};

/// Labels in each language.
pub struct Labels {
    pub root: &'static str,
    pub at: &'static str,
    pub message: &'static str,
    pub recipient: &'static str,
    pub remote: &'static str,
    pub time: &'static str,
    pub id: &'static str,
    pub remote_reply: &'static str,
    pub symptom: &'static str,
    pub reason: &'static str,
    pub hard: &'static str,
    pub inbound: &'static str,
    pub means: &'static str,
    pub causes: &'static str,
    pub fixes: &'static str,
    pub verify: &'static str,
    pub see_above: &'static str,
    pub also: &'static str,
    pub no_findings: &'static str,
    pub fallback: &'static str,
    pub other_findings: &'static str,
    pub related: &'static str,
    pub owner: &'static str,
    pub registry: &'static str,
    pub references: &'static str,
}

pub const EN: Labels = Labels {
    root: "root cause",
    at: "found in",
    message: "message",
    recipient: "recipient",
    remote: "remote server",
    time: "time",
    id: "message id",
    remote_reply: "remote server said",
    symptom: "symptom",
    reason: "reason",
    inbound: "inbound: our server refused an incoming client's message; the steps below are for our server's side",
    hard: "hard bounce: sending the same message to this address again will fail the same way",
    means: "What it means",
    causes: "Likely causes",
    fixes: "How to fix it",
    verify: "Check that it worked",
    see_above: "causes and fixes: see the first block for this code above",
    also: "also",
    no_findings: "no delivery problems found",
    fallback: "no entry of its own: explained by",
    other_findings: "Other findings",
    related: "related codes",
    owner: "who acts",
    registry: "registry title",
    references: "references",
};

pub const JA: Labels = Labels {
    root: "根本原因",
    at: "検出場所",
    message: "メッセージ",
    recipient: "受信者",
    remote: "接続先サーバー",
    time: "日時",
    id: "メッセージ ID",
    remote_reply: "接続先サーバーの応答",
    symptom: "症状",
    reason: "理由",
    inbound: "受信側: 自サーバーが外部から届いたメッセージを拒否しました。以下は自サーバー側の対処です",
    hard: "ハード バウンス: 同じメッセージをこのアドレスに再送しても同じように失敗します",
    means: "意味",
    causes: "考えられる原因",
    fixes: "解決方法",
    verify: "解決の確認",
    see_above: "原因と解決方法: 上にあるこのコードの最初の項目を参照してください",
    also: "ほかに",
    no_findings: "配信の問題は見つかりませんでした",
    fallback: "個別の項目がないため、次の項目で説明します",
    other_findings: "その他の検出結果",
    related: "関連コード",
    owner: "対応する人",
    registry: "IANA 登録名",
    references: "参考資料",
};

pub fn labels(lang: Lang) -> &'static Labels {
    match lang {
        Lang::En => &EN,
        Lang::Ja => &JA,
    }
}

pub fn state_text(state: State, lang: Lang) -> &'static str {
    match (lang, state) {
        (Lang::En, State::Queued) => "queued: the sender's server keeps the message and retries it",
        (Lang::En, State::Expired) => {
            "expired: retries ran out and the message was returned to the sender"
        }
        (Lang::En, State::Failed) => "failed: rejected for good, the message was not delivered",
        (Lang::En, State::Delivered) => "delivered",
        (Lang::Ja, State::Queued) => {
            "キュー内: 送信側サーバーがメッセージを保持して再試行しています"
        }
        (Lang::Ja, State::Expired) => {
            "期限切れ: 再試行の期限が過ぎ、メッセージは送信者に返されました"
        }
        (Lang::Ja, State::Failed) => "失敗: 恒久的に拒否され、メッセージは配信されませんでした",
        (Lang::Ja, State::Delivered) => "配信済み",
    }
}

fn owner_text(owner: &str, lang: Lang) -> &str {
    match (lang, owner) {
        (Lang::En, "your-organization") => "your organization (the sending side's admins)",
        (Lang::En, "destination") => "the destination or partner organization",
        (Lang::En, "sender") => "the sender",
        (Lang::Ja, "your-organization") => "自組織 (送信側の管理者)",
        (Lang::Ja, "destination") => "宛先またはパートナーの組織",
        (Lang::Ja, "sender") => "送信者",
        _ => owner,
    }
}

pub struct Human {
    style: Style,
    summary: bool,
    explained: HashSet<String>,
}

impl Human {
    pub fn new(style: Style, summary: bool) -> Human {
        Human {
            style,
            summary,
            explained: HashSet::new(),
        }
    }
}

fn paint_code(code: &str, sev: Severity, color: bool) -> String {
    if !color {
        return code.to_string();
    }
    match sev {
        Severity::Permanent => code.red().bold().to_string(),
        Severity::Transient => code.yellow().bold().to_string(),
        Severity::Success => code.green().bold().to_string(),
    }
}

fn heading(s: &str, color: bool) -> String {
    if color {
        s.bold().to_string()
    } else {
        s.to_string()
    }
}

fn dim(s: &str, color: bool) -> String {
    if color {
        s.dimmed().to_string()
    } else {
        s.to_string()
    }
}

/// The lines explaining an entry: meaning, causes, numbered fixes, verification.
pub fn write_explanation(
    w: &mut dyn Write,
    x: &Explanation<'_>,
    lang: Lang,
    color: bool,
    indent: &str,
) -> io::Result<()> {
    let l = labels(lang);
    if !x.summary.is_empty() {
        writeln!(w, "{indent}{}: {}", heading(l.means, color), x.summary)?;
    }
    if !x.causes.is_empty() {
        writeln!(w, "{indent}{}:", heading(l.causes, color))?;
        for c in &x.causes {
            writeln!(w, "{indent}  - {c}")?;
        }
    }
    if !x.fixes.is_empty() {
        writeln!(w, "{indent}{}:", heading(l.fixes, color))?;
        for (i, f) in x.fixes.iter().enumerate() {
            writeln!(w, "{indent}  {}. {}", i + 1, x.step(f))?;
        }
    }
    if !x.verify.is_empty() {
        writeln!(w, "{indent}{}:", heading(l.verify, color))?;
        for v in &x.verify {
            writeln!(w, "{indent}  - {}", x.step(v))?;
        }
    }
    Ok(())
}

impl Human {
    fn block(&mut self, w: &mut dyn Write, f: &Finding) -> io::Result<()> {
        let (lang, color) = (self.style.lang, self.style.color);
        let l = labels(lang);
        let x = explain_finding(self.style.catalog, f, lang);
        let code = if f.code.is_some() {
            f.code_str()
        } else {
            f.category.clone()
        };
        let reply = f.reply.map(|r| format!("{r} ")).unwrap_or_default();
        writeln!(
            w,
            "{}{} {} [{}] ({})",
            reply,
            paint_code(&code, f.severity, color),
            heading(x.title, color),
            f.category,
            l.root
        )?;
        let mut place = format!("{} {}:{}", l.at, safe(&f.path), f.line);
        if f.message > 1 {
            place.push_str(&format!(" ({} {})", l.message, f.message));
        }
        writeln!(w, "  {place}")?;
        writeln!(w, "  {}", state_text(f.state, lang))?;
        if let Some(r) = crate::reasons::by_name(f.reason) {
            let words = match lang {
                crate::catalog::Lang::En => &r.en,
                crate::catalog::Lang::Ja => &r.ja,
            };
            writeln!(w, "  {}: {} ({})", l.reason, words, r.name)?;
        }
        if f.hard_bounce {
            writeln!(w, "  {}", l.hard)?;
        }
        if f.direction == crate::extract::Direction::Inbound {
            writeln!(w, "  {}", l.inbound)?;
        }
        if !f.known {
            writeln!(w, "  {} {}", l.fallback, f.entry)?;
        }
        let mut ctx: Vec<String> = Vec::new();
        if let Some(r) = &f.recipient {
            ctx.push(format!("{}: {}", l.recipient, safe(r)));
        }
        match (&f.remote_host, &f.remote_ip) {
            (Some(h), Some(i)) => ctx.push(format!("{}: {} [{}]", l.remote, safe(h), safe(i))),
            (Some(h), None) => ctx.push(format!("{}: {}", l.remote, safe(h))),
            (None, Some(i)) => ctx.push(format!("{}: [{}]", l.remote, safe(i))),
            (None, None) => {}
        }
        if let Some(t) = &f.timestamp {
            ctx.push(format!("{}: {}", l.time, safe(t)));
        }
        if let Some(m) = &f.message_id {
            ctx.push(format!("{}: {}", l.id, safe(m)));
        }
        for c in ctx {
            writeln!(w, "  {c}")?;
        }
        writeln!(w, "  {} {}", dim("|", color), dim(&safe(&f.excerpt), color))?;
        if let Some(r) = &f.remote_reply {
            writeln!(w, "  {}: {}", l.remote_reply, safe(r))?;
        }
        if let Some(s) = f
            .symptom
            .as_ref()
            .filter(|_| f.code.is_some() && f.entry != f.code_str())
        {
            writeln!(w, "  {}: \"{}\"", l.symptom, safe(s))?;
        }
        let side = super::inbound_of(f).map_or("", |i| i.name.as_str());
        let key = format!("{}|{}|{side}", f.entry, f.known);
        if self.explained.insert(key) {
            write_explanation(w, &x, lang, color, "  ")?;
        } else {
            writeln!(w, "  {}", dim(l.see_above, color))?;
        }
        writeln!(w)
    }

    fn brief(&self, w: &mut dyn Write, f: &Finding) -> io::Result<()> {
        let x = explain_finding(self.style.catalog, f, self.style.lang);
        let code = if f.code.is_some() {
            f.code_str()
        } else {
            f.category.clone()
        };
        let mut extra = String::new();
        if let Some(r) = &f.recipient {
            extra.push_str(&format!(" <{}>", safe(r)));
        }
        writeln!(
            w,
            "  {}:{}  {}  {} [{}, {}]{}",
            safe(&f.path),
            f.line,
            paint_code(&code, f.severity, self.style.color),
            x.title,
            f.category,
            super::state_word(f.state.as_str(), self.style.lang),
            extra
        )
    }
}

impl Renderer for Human {
    fn findings(&mut self, w: &mut dyn Write, batch: &[Finding]) -> io::Result<()> {
        if self.summary {
            return Ok(());
        }
        for f in batch.iter().filter(|f| f.root_cause) {
            self.block(w, f)?;
        }
        let others: Vec<&Finding> = batch.iter().filter(|f| !f.root_cause).collect();
        if !others.is_empty() {
            writeln!(
                w,
                "{}:",
                heading(labels(self.style.lang).other_findings, self.style.color)
            )?;
            for f in others {
                self.brief(w, f)?;
            }
            writeln!(w)?;
        }
        Ok(())
    }

    fn warning(&mut self, _w: &mut dyn Write, _message: &str) -> io::Result<()> {
        // warnings go to standard error (written by the driver)
        Ok(())
    }

    fn finish(
        &mut self,
        w: &mut dyn Write,
        t: &Tally,
        report: Option<&DeliveryReport>,
    ) -> io::Result<()> {
        let lang = self.style.lang;
        if let (true, Some(r)) = (self.summary, report) {
            write_summary(w, r, self.style)?;
        }
        let cats: Vec<String> = {
            let mut v: Vec<(&String, &usize)> = t.by_category.iter().collect();
            v.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            v.into_iter().map(|(c, n)| format!("{n} {c}")).collect()
        };
        let line = match (lang, t.findings) {
            // nothing could be read: no all-clear next to the error
            (Lang::En, 0) if !t.errors.is_empty() => format!(
                "no delivery problems found in what could be read: {} input{} could not be read",
                t.errors.len(),
                if t.errors.len() == 1 { "" } else { "s" }
            ),
            (Lang::Ja, 0) if !t.errors.is_empty() => format!(
                "読み込めた範囲では配信の問題は見つかりませんでしたが、{} 件の入力を読み込めませんでした",
                t.errors.len()
            ),
            (Lang::En, 0) => format!(
                "{} ({} input{})",
                EN.no_findings,
                t.inputs,
                if t.inputs == 1 { "" } else { "s" }
            ),
            (Lang::Ja, 0) => format!("{} (入力 {} 件)", JA.no_findings, t.inputs),
            (Lang::En, n) => format!(
                "{n} finding{}, {} root cause{}, in {} input{}: {}",
                if n == 1 { "" } else { "s" },
                t.root_causes,
                if t.root_causes == 1 { "" } else { "s" },
                t.inputs,
                if t.inputs == 1 { "" } else { "s" },
                cats.join(", ")
            ),
            (Lang::Ja, n) => format!(
                "検出 {n} 件 (根本原因 {} 件、入力 {} 件): {}",
                t.root_causes,
                t.inputs,
                cats.join("、")
            ),
        };
        writeln!(w, "{}", heading(&line, self.style.color))?;
        if t.inbound > 0 {
            let n = t.inbound;
            let note = match lang {
                Lang::En => format!(
                    "{n} of them inbound: incoming clients our server refused, not our deliveries"
                ),
                Lang::Ja => format!(
                    "うち {n} 件は受信側: 自サーバーが拒否した外部からの接続で、自組織の配信ではありません"
                ),
            };
            writeln!(w, "{note}")?;
        }
        if t.client_disconnects > 0 {
            let n = t.client_disconnects;
            let note = match lang {
                Lang::En => format!(
                    "{n} client disconnect{}: incoming clients that hung up on our server or went silent (not failures)",
                    if n == 1 { "" } else { "s" }
                ),
                Lang::Ja => format!(
                    "クライアントの切断 {n} 件: 外部から接続したクライアントが途中で切断または応答を止めました (配信の失敗ではありません)"
                ),
            };
            writeln!(w, "{note}")?;
        }
        w.flush()
    }
}

/// `explain`: the full entry for one code.
pub fn write_entry(
    w: &mut dyn Write,
    query: &str,
    e: &Entry,
    how: Match,
    class: Option<u8>,
    style: Style,
) -> io::Result<()> {
    let (lang, color) = (style.lang, style.color);
    let l = labels(lang);
    let x = explain(style.catalog, &e.code, how.known(), lang);
    let sev = class.and_then(Severity::of_class).unwrap_or(e.severity);
    writeln!(
        w,
        "{} {} {} [{}]",
        e.reply,
        paint_code(&e.code, sev, color),
        heading(x.title, color),
        e.category
    )?;
    if !how.known() {
        writeln!(w, "  {}: {} {}", safe(query), l.fallback, e.code)?;
    } else if query.trim() != e.code {
        writeln!(w, "  {} -> {}", safe(query.trim()), e.code)?;
    }
    if !e.also.is_empty() {
        writeln!(w, "  {}: {}", l.also, e.also.join(", "))?;
    }
    if let Some(rt) = &e.registry_title {
        writeln!(w, "  {}: {}", l.registry, rt)?;
    }
    writeln!(w, "  {}: {}", l.owner, owner_text(&e.owner, lang))?;
    write_explanation(w, &x, lang, color, "  ")?;
    if !e.related.is_empty() {
        writeln!(w, "  {}: {}", l.related, e.related.join(", "))?;
    }
    if !e.references.is_empty() {
        writeln!(w, "  {}:", l.references)?;
        for r in &e.references {
            writeln!(w, "    {r}")?;
        }
    }
    Ok(())
}

/// Cuts a cell to `max` characters.
fn cell(s: &str, max: usize) -> String {
    crate::sanitize::truncate(&safe(s), max).into_owned()
}

/// Display columns of a cell (East Asian wide characters count two).
fn cols(s: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(s)
}

/// Writes rows as columns padded to the widest cell (in display columns), within `max`
/// columns: the widest columns are cut (with `…`) until the table fits; when even that
/// cannot make it fit, each row is written as `HEADER: value` lines instead.
fn table(
    w: &mut dyn Write,
    head: &[&str],
    rows: &[Vec<String>],
    color: bool,
    max: usize,
) -> io::Result<()> {
    let n = head.len();
    let mut width: Vec<usize> = head.iter().map(|h| cols(h)).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate().take(n) {
            width[i] = width[i].max(cols(c));
        }
    }
    // a line is " " + " cell" per column + one space of padding between columns
    let total = |width: &[usize]| 1 + width.iter().map(|w| w + 1).sum::<usize>() + n - 1;
    // short columns (codes, counts, categories, times) are never cut, long texts not below
    // 20 columns: a table that cannot fit so is laid out vertically instead
    let least: Vec<usize> = head
        .iter()
        .zip(&width)
        .map(|(h, &natural)| cols(h).max(if natural <= 20 { natural } else { 20 }))
        .collect();
    while total(&width) > max {
        let widest = (0..n)
            .filter(|&i| width[i] > least[i])
            .max_by_key(|&i| (width[i] - least[i], i));
        match widest {
            Some(i) => width[i] -= 1,
            None => return vertical(w, head, rows, color),
        }
    }
    let line = |cells: Vec<String>| -> String {
        let mut out = String::from(" ");
        for (i, c) in cells.iter().enumerate() {
            let c = super::wrap::cut(c, width[i]);
            out.push(' ');
            out.push_str(&c);
            if i + 1 < cells.len() {
                out.push_str(&" ".repeat(width[i].saturating_sub(cols(&c)) + 1));
            }
        }
        out
    };
    writeln!(
        w,
        "{}",
        dim(&line(head.iter().map(|h| h.to_string()).collect()), color)
    )?;
    for r in rows {
        writeln!(w, "{}", line(r.clone()))?;
    }
    Ok(())
}

/// A table too wide for the terminal, one `HEADER: value` line per cell and a blank line
/// between rows.
fn vertical(w: &mut dyn Write, head: &[&str], rows: &[Vec<String>], color: bool) -> io::Result<()> {
    for (k, r) in rows.iter().enumerate() {
        if k > 0 {
            writeln!(w)?;
        }
        for (h, c) in head.iter().zip(r) {
            writeln!(w, "  {}: {c}", dim(h, color))?;
        }
    }
    Ok(())
}

fn when(t: Option<i64>) -> String {
    t.map(rfc3339).unwrap_or_else(|| "-".into())
}

/// `--summary`: by category and code, by destination, the deliveries that expire soonest.
pub fn write_summary(w: &mut dyn Write, r: &DeliveryReport, style: Style) -> io::Result<()> {
    let (lang, color) = (style.lang, style.color);
    let ja = lang == Lang::Ja;
    let h = |en: &'static str, jp: &'static str| if ja { jp } else { en };
    writeln!(
        w,
        "{}",
        heading(h("By category and code", "カテゴリとコード別"), color)
    )?;
    let rows: Vec<Vec<String>> = r
        .categories
        .iter()
        .map(|c| {
            vec![
                c.category.clone(),
                c.code.map_or_else(|| "-".to_string(), |c| c.to_string()),
                c.findings.to_string(),
                c.messages.to_string(),
                c.recipients.to_string(),
                when(c.first_seen),
                when(c.last_seen),
                cell(
                    &top_fix(style.catalog, &c.entry, c.known, c.platform, lang),
                    400,
                ),
            ]
        })
        .collect();
    table(
        w,
        &[
            h("CATEGORY", "カテゴリ"),
            h("CODE", "コード"),
            h("FINDINGS", "件数"),
            h("MESSAGES", "メッセージ"),
            h("RECIPIENTS", "受信者"),
            h("FIRST SEEN", "初回"),
            h("LAST SEEN", "最終"),
            h("TOP FIX", "まず行うこと"),
        ],
        &rows,
        color,
        style.width,
    )?;
    writeln!(w)?;
    writeln!(w, "{}", heading(h("By destination", "宛先別"), color))?;
    let rows: Vec<Vec<String>> = r
        .destinations
        .iter()
        .take(super::TOP_DESTINATIONS)
        .map(|d| {
            vec![
                cell(&d.destination, 48),
                d.deliveries.to_string(),
                d.messages.to_string(),
                d.recipients.to_string(),
                when(d.first_seen),
                when(d.last_seen),
                d.top_category.clone(),
                cell(
                    &top_fix(
                        style.catalog,
                        &d.top_entry,
                        d.top_known,
                        d.top_platform,
                        lang,
                    ),
                    400,
                ),
            ]
        })
        .collect();
    table(
        w,
        &[
            h("DESTINATION", "宛先"),
            h("DELIVERIES", "配信"),
            h("MESSAGES", "メッセージ"),
            h("RECIPIENTS", "受信者"),
            h("FIRST SEEN", "初回"),
            h("LAST SEEN", "最終"),
            h("PROBLEM", "問題"),
            h("TOP FIX", "まず行うこと"),
        ],
        &rows,
        color,
        style.width,
    )?;
    let more = r.destinations.len().saturating_sub(super::TOP_DESTINATIONS);
    if more > 0 {
        let more = match lang {
            Lang::En => format!("  ... and {more} more destinations (all of them: --format json)"),
            Lang::Ja => format!("  ... ほか {more} 件の宛先 (すべて: --format json)"),
        };
        writeln!(w, "{more}")?;
    }
    writeln!(w)?;
    let soon = &r.expiring;
    writeln!(
        w,
        "{}",
        heading(h("Expiring soonest", "期限切れが近い配信"), color)
    )?;
    if soon.is_empty() {
        writeln!(
            w,
            "  {}",
            h("no queued deliveries", "キュー内の配信はありません")
        )?;
    } else {
        let rows: Vec<Vec<String>> = soon
            .iter()
            .map(|d| {
                vec![
                    cell(d.message_id.unwrap_or("-"), 40),
                    cell(d.recipient.unwrap_or("-"), 40),
                    cell(d.destination.unwrap_or("-"), 40),
                    d.last_code
                        .map_or_else(|| d.category.to_string(), |c| c.to_string()),
                    d.attempts.to_string(),
                    expiry_text(d, r.now, lang),
                ]
            })
            .collect();
        table(
            w,
            &[
                h("MESSAGE", "メッセージ"),
                h("RECIPIENT", "受信者"),
                h("DESTINATION", "宛先"),
                h("LAST ERROR", "最後のエラー"),
                h("ATTEMPTS", "試行"),
                h("EXPIRY", "期限"),
            ],
            &rows,
            color,
            style.width,
        )?;
    }
    writeln!(w)?;
    let states = super::state_counts(r, lang);
    let states = if states.is_empty() {
        states
    } else {
        format!("{states}; ")
    };
    writeln!(
        w,
        "{}: {} ({states}{} {})",
        h("Deliveries", "配信"),
        r.count,
        h("as of", "基準時刻"),
        rfc3339(r.now)
    )
}
