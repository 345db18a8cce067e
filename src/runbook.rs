//! Platform runbooks (`data/runbooks.json`, compiled in): the steps a failure needs on the
//! system whose queue holds the message (Postfix, Exim, Sendmail, qmail, Exchange Server, or
//! any server), for the catalog entries whose fixes differ by platform. Exchange Online input
//! keeps the catalog's own steps. A leaf like the catalog: any stage may read it, it knows
//! none of them.
//!
//! Steps are templates: `{recipient}`, `{recipient_domain}`, `{remote_host}` ... are filled
//! from the finding when it is rendered (see `fill`).

use serde::Deserialize;
use std::borrow::Cow;
use std::sync::LazyLock;

/// The file as compiled in.
pub const TEXT: &str = include_str!("../data/runbooks.json");

/// The platform whose own steps the catalog already holds.
pub const EXCHANGE_ONLINE: &str = "exchange-online";
/// The fallback: steps any mail server's admin can follow.
pub const GENERIC: &str = "generic";

/// A platform a finding can belong to.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Platform {
    /// Its name in `--platform` and the finding's `platform` field.
    pub name: String,
    /// The shell its commands are written for: `sh` or `powershell` (values put into them are
    /// quoted for it).
    pub shell: String,
    /// Its display name in English (`Exchange Server`).
    pub en: String,
    /// Its display name in Japanese.
    pub ja: String,
}

/// Steps and checks in one language.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepTexts {
    /// Templates of the steps, in order; their `{slots}` are filled when shown.
    pub fixes: Vec<String>,
    /// Templates of the checks that the steps worked.
    pub verify: Vec<String>,
}

/// One kind of step (`queue`, `connect`, `dns` ...) on one platform.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// The [`Platform::name`] the steps are for; [`GENERIC`] for any mail server.
    pub platform: String,
    /// What the steps act on (`queue`, `resend`, `connect`, `dns`, `tls` ...), as an
    /// [`EntryRunbook`] names it.
    pub kind: String,
    /// The English steps.
    pub en: StepTexts,
    /// The Japanese steps, one for each English one.
    pub ja: StepTexts,
}

/// An entry's explanation for any platform but Exchange Online, when the catalog's own is
/// Exchange Online's (the connector errors).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Generic {
    /// The English texts.
    pub en: crate::catalog::Texts,
    /// The Japanese texts.
    pub ja: crate::catalog::Texts,
}

/// The step kinds that catalog entries need on each platform, in order.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntryRunbook {
    /// Catalog keys.
    pub entries: Vec<String>,
    /// The [`Step::kind`]s whose steps are added, in order (`queue` becomes `resend` once
    /// the message has left the queue).
    pub kinds: Vec<String>,
    /// The texts shown instead of the catalog's own on any platform but Exchange Online,
    /// when it has them (see [`Generic`]).
    #[serde(default)]
    pub generic: Option<Generic>,
}

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Runbooks {
    /// The file format's version: 1.
    pub schema: u32,
    /// Every platform, Exchange Online included.
    pub platforms: Vec<Platform>,
    /// The steps of each kind on each platform that has its own, and the generic ones.
    pub steps: Vec<Step>,
    /// The catalog entries whose steps differ by platform.
    pub entries: Vec<EntryRunbook>,
}

static DATA: LazyLock<Runbooks> = LazyLock::new(|| {
    // checked by the tests; were it ever broken, run with the catalog's own steps
    serde_json::from_str(TEXT).unwrap_or(Runbooks {
        schema: 1,
        platforms: Vec::new(),
        steps: Vec::new(),
        entries: Vec::new(),
    })
});

/// The runbooks, parsed on first use.
pub fn get() -> &'static Runbooks {
    &DATA
}

/// A platform's name as a `'static` string (None for an unknown name).
pub fn platform(name: &str) -> Option<&'static Platform> {
    DATA.platforms.iter().find(|p| p.name == name)
}

/// The platform names, for `--platform` and its help.
pub fn platform_names() -> Vec<&'static str> {
    DATA.platforms.iter().map(|p| p.name.as_str()).collect()
}

/// The runbook of a catalog entry, if its steps differ by platform.
pub fn of_entry(key: &str) -> Option<&'static EntryRunbook> {
    DATA.entries
        .iter()
        .find(|e| e.entries.iter().any(|k| k == key))
}

/// The steps of one kind on a platform, or the generic ones when the platform has none of
/// its own.
pub fn step(platform: &str, kind: &str) -> Option<&'static Step> {
    let find = |p: &str| {
        DATA.steps
            .iter()
            .find(|s| s.platform == p && s.kind == kind)
    };
    find(platform).or_else(|| find(GENERIC))
}

/// The shell a platform's commands are written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shell {
    /// POSIX sh (the Unix MTAs, and any unknown platform).
    Sh,
    /// PowerShell (Exchange Online and Exchange Server).
    PowerShell,
}

impl Shell {
    /// The shell of a platform by its name; `sh` for an unknown one.
    pub(crate) fn of(platform: &str) -> Shell {
        match self::platform(platform).map(|p| p.shell.as_str()) {
            Some("powershell") => Shell::PowerShell,
            _ => Shell::Sh,
        }
    }
}

/// The values a step's slots are filled with; None shows the slot's placeholder.
#[derive(Debug, Clone, Default)]
pub(crate) struct Slots<'a> {
    pub recipient: Option<&'a str>,
    pub remote_host: Option<&'a str>,
    pub remote_ip: Option<&'a str>,
    pub queue_id: Option<&'a str>,
    pub message_id: Option<&'a str>,
}

/// A slot's visible placeholder when the finding has no value for it.
fn placeholder(name: &str) -> &'static str {
    match name {
        "recipient" => "<recipient>",
        "recipient_domain" => "<recipient domain>",
        "remote_host" => "<destination host>",
        "remote_ip" => "<destination IP>",
        "queue_id" => "<queue id>",
        "message_id" => "<message id>",
        "sender" => "<sender address>",
        "sender_domain" => "<sender domain>",
        "connector" => "<connector name>",
        _ => "<value>",
    }
}

/// The slot names a template may use.
pub const SLOTS: &[&str] = &[
    "recipient",
    "recipient_domain",
    "remote_host",
    "remote_ip",
    "port",
    "queue_id",
    "message_id",
    "sender",
    "sender_domain",
    "connector",
];

impl Slots<'_> {
    fn value(&self, name: &str) -> Option<Cow<'_, str>> {
        let v = match name {
            "recipient" => self.recipient,
            "recipient_domain" => self
                .recipient
                .and_then(|r| r.rsplit_once('@'))
                .map(|(_, d)| d)
                .filter(|d| !d.is_empty()),
            "remote_host" => self.remote_host.or(self.remote_ip),
            "remote_ip" => self.remote_ip,
            // the SMTP port every MX delivery uses
            "port" => Some("25"),
            "queue_id" => self.queue_id,
            "message_id" => self.message_id,
            _ => None,
        };
        v.filter(|v| !v.is_empty()).map(Cow::Borrowed)
    }
}

/// Whether a value can stand in a command as it is: a plain name, address or number.
fn plain(v: &str) -> bool {
    !v.starts_with('-')
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"@._:+=/-".contains(&b))
}

/// A value made one harmless argument of `shell`: as it is when plain, else single-quoted
/// (POSIX sh: `'` becomes `'\''`; PowerShell: each single quote, including its typographic
/// forms, is doubled). Control characters are made visible first.
pub(crate) fn quote(v: &str, shell: Shell) -> String {
    let v = crate::sanitize::text(v);
    if plain(&v) {
        return v.into_owned();
    }
    let mut out = String::with_capacity(v.len() + 2);
    out.push('\'');
    for c in v.chars() {
        match (shell, c) {
            (Shell::Sh, '\'') => out.push_str("'\\''"),
            (Shell::PowerShell, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}') => {
                out.push(c);
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// A template cut at its slots: literal text, and slots (indexes into [`SLOTS`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Segment {
    /// Literal text, copied as it is.
    Text(String),
    /// A slot, by its index into [`SLOTS`].
    Slot(usize),
}

/// Cuts a template at its slots: each `{name}` of [`SLOTS`]; other braces (`{$_.Count}`)
/// stay text.
pub(crate) fn segments(template: &str) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        text.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let slot = after
            .find('}')
            .and_then(|close| SLOTS.iter().position(|n| *n == &after[..close]));
        match slot {
            Some(i) => {
                if !text.is_empty() {
                    out.push(Segment::Text(std::mem::take(&mut text)));
                }
                out.push(Segment::Slot(i));
                rest = &after[SLOTS[i].len() + 1..];
            }
            None => {
                text.push('{');
                rest = after;
            }
        }
    }
    text.push_str(rest);
    if !text.is_empty() {
        out.push(Segment::Text(text));
    }
    out
}

/// Appends a cut template to `out` with its slots filled: each slot the finding's value
/// quoted for `shell` (`escape` applied last, for the output format), or its placeholder.
/// Each slot's value is made once.
pub(crate) fn fill_into(
    segments: &[Segment],
    slots: &Slots<'_>,
    shell: Shell,
    escape: &dyn Fn(&str) -> String,
    out: &mut String,
) {
    let mut made: [Option<String>; SLOTS.len()] = Default::default();
    for seg in segments {
        match seg {
            Segment::Text(t) => out.push_str(t),
            Segment::Slot(i) => {
                let v = made[*i].get_or_insert_with(|| match slots.value(SLOTS[*i]) {
                    Some(v) => escape(&quote(&v, shell)),
                    None => escape(placeholder(SLOTS[*i])),
                });
                out.push_str(v);
            }
        }
    }
}

/// Fills a template's slots (see [`fill_into`]).
pub(crate) fn fill<'t>(
    template: &'t str,
    slots: &Slots<'_>,
    shell: Shell,
    escape: &dyn Fn(&str) -> String,
) -> Cow<'t, str> {
    if !template.contains('{') {
        return Cow::Borrowed(template);
    }
    let mut out = String::with_capacity(template.len() + 32);
    fill_into(&segments(template), slots, shell, escape, &mut out);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none(s: &str) -> String {
        s.to_string()
    }

    #[test]
    fn slots_are_filled_quoted_or_shown_as_placeholders() {
        let slots = Slots {
            recipient: Some("neko@example.org"),
            remote_host: Some("mx.example.org"),
            ..Slots::default()
        };
        let t = "dig MX {recipient_domain}; nc -vz {remote_host} {port}; postcat -q {queue_id}";
        assert_eq!(
            fill(t, &slots, Shell::Sh, &none),
            "dig MX example.org; nc -vz mx.example.org 25; postcat -q <queue id>"
        );
        // PowerShell script blocks are not slots
        let t = "Get-Queue | Where-Object {$_.MessageCount -gt 0}";
        assert_eq!(fill(t, &slots, Shell::PowerShell, &none), t);
    }

    #[test]
    fn hostile_values_stay_one_harmless_argument() {
        for (host, sh, ps) in [
            (
                "mx.example.com;rm -rf ~",
                "'mx.example.com;rm -rf ~'",
                "'mx.example.com;rm -rf ~'",
            ),
            ("$(reboot)", "'$(reboot)'", "'$(reboot)'"),
            ("a'b", r"'a'\''b'", "'a''b'"),
            ("a\u{2019}b", "'a\u{2019}b'", "'a\u{2019}\u{2019}b'"),
            (
                "-oProxyCommand=x",
                "'-oProxyCommand=x'",
                "'-oProxyCommand=x'",
            ),
        ] {
            assert_eq!(quote(host, Shell::Sh), sh, "{host}");
            assert_eq!(quote(host, Shell::PowerShell), ps, "{host}");
        }
        // control characters are made visible before quoting
        assert!(!quote("a\u{1b}[2Jb", Shell::Sh).contains('\u{1b}'));
    }
}
