//! Reasons: what a failure is, in the shared vocabulary (`data/reasons.json`), told from the
//! words of the reply, the status code, the reply code and the symptom. Words decide where a
//! code is generic or has several meanings; a specific code decides otherwise.

use crate::catalog::Code;
use crate::re::{Line, Probe};
use crate::reasons::{self, UNDEFINED};
use aho_corasick::{AhoCorasick, AhoCorasickKind};
use regex_automata::hybrid::dfa::Cache;
use serde::Serialize;
use std::cell::RefCell;
use std::sync::{LazyLock, OnceLock};

/// What a finding's reason rests on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Basis {
    /// The status (or reply) code alone.
    #[serde(rename = "code")]
    Code,
    /// The words alone: no code was written.
    #[serde(rename = "text")]
    Text,
    /// A code and the words around it.
    #[serde(rename = "code+text")]
    CodeText,
}

impl Basis {
    /// The name in JSON output: `code`, `text` or `code+text`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Basis::Code => "code",
            Basis::Text => "text",
            Basis::CodeText => "code+text",
        }
    }
}

/// The SMTP stage a reply was given at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    /// The connection or the greeting.
    Connect,
    Helo,
    Mail,
    Rcpt,
    Data,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Connect => "connect",
            Stage::Helo => "helo",
            Stage::Mail => "mail",
            Stage::Rcpt => "rcpt",
            Stage::Data => "data",
        }
    }
}

/// How MTAs name the command a reply answered: Postfix `(in reply to RCPT TO command)`,
/// Exim `after RCPT TO:<...>`, Sendmail's transcript `>>> DATA`, `while talking to`.
static STAGE: LazyLock<Line> = LazyLock::new(|| {
    crate::re::line(
        r"(?i)(?:in reply to|after|while sending|during|progress was|>>>|smtp:)\s*(?:the\s+)?(?:end of\s+)?(rcpt(?: to)?|mail(?: from)?|data|helo|ehlo|initial (?:connection|greeting|banner)|connect|greeting|banner|message body|message text)\b",
    )
});

/// The SMTP stage a line names, if it names one.
pub fn stage(line: &[u8]) -> Option<Stage> {
    memchr::memchr3(b'>', b'r', b'R', line)?;
    let c = STAGE.captures(line)?;
    let w = c.get(1)?.as_bytes().to_ascii_lowercase();
    Some(match w.first()? {
        b'r' => Stage::Rcpt,
        b'm' if w.starts_with(b"mail") => Stage::Mail,
        b'm' => Stage::Data,
        b'd' => Stage::Data,
        b'h' | b'e' => Stage::Helo,
        _ => Stage::Connect,
    })
}

/// The phrases' top-level alternatives with the literals one of which starts every match of
/// each (extracted from the patterns by regex-syntax in `build.rs`), all searched at once in
/// the lower-cased line: a line is tried only against the alternatives whose literals it holds,
/// in the phrases' priority order, and most lines of a bounce hold none. Each alternative is
/// a small pattern, compiled the first time a line needs it.
struct Prefixes {
    ac: AhoCorasick,
    /// the alternative of each literal
    alternative: Vec<usize>,
}

include!(concat!(env!("OUT_DIR"), "/reason_prefixes.rs"));

static PREFIXES: LazyLock<Option<Prefixes>> = LazyLock::new(|| {
    let mut literals: Vec<&[u8]> = Vec::new();
    let mut alternative = Vec::new();
    for (i, (_, _, lits)) in ALTERNATIVES.iter().enumerate() {
        for l in lits.iter() {
            literals.push(l);
            alternative.push(i);
        }
    }
    // searched in the lower-cased line; a noncontiguous NFA is the quickest to build, and the
    // lines it is run on are few and short
    let ac = AhoCorasick::builder()
        .kind(Some(AhoCorasickKind::ContiguousNFA))
        .build(&literals)
        .ok()?;
    Some(Prefixes { ac, alternative })
});

static EACH: [OnceLock<Probe>; ALTERNATIVES.len()] =
    [const { OnceLock::new() }; ALTERNATIVES.len()];

thread_local! {
    /// This thread's lazy-DFA cache of each alternative, made when first needed.
    static CACHES: RefCell<Vec<Option<Cache>>> = const { RefCell::new(Vec::new()) };
}

/// The reason a line's words name, and the phrase as written.
pub fn find(line: &[u8]) -> Option<&'static str> {
    let pre = PREFIXES.as_ref()?;
    // the patterns and their literals are written in lower case (a test checks): matching
    // them against the line in ASCII lower case is `(?i)` at half the automaton
    let lower = line.to_ascii_lowercase();
    // the alternatives that can match, and where: every match of an alternative starts with
    // one of its literals, so each is tried anchored where one of its literals starts
    let mut candidates: Vec<(usize, usize)> = pre
        .ac
        .find_overlapping_iter(&lower)
        .filter_map(|m| {
            let alt = pre.alternative.get(m.pattern().as_usize()).copied()?;
            Some((alt, m.start()))
        })
        .collect();
    if candidates.is_empty() {
        return None;
    }
    // in priority order: by phrase, then as written
    candidates.sort_unstable();
    candidates.dedup();
    let phrase = CACHES.with(|caches| {
        let mut caches = caches.borrow_mut();
        if caches.len() < ALTERNATIVES.len() {
            caches.resize_with(ALTERNATIVES.len(), || None);
        }
        candidates.into_iter().find_map(|(i, at)| {
            let (phrase, pattern, _) = ALTERNATIVES.get(i)?;
            let probe = EACH.get(i)?.get_or_init(|| crate::re::probe(pattern));
            let cache = caches.get_mut(i)?.get_or_insert_with(|| probe.cache());
            probe.is_match_at(cache, &lower, at).then_some(*phrase)
        })
    })?;
    Some(reasons::intern(&reasons::get().phrases.get(phrase)?.reason))
}

/// The reason a status code names by itself, and whether it is specific enough to stand
/// against the words (x.1.1 is "user unknown" whatever else the line says; x.7.1 is one of
/// many refusals, and the words tell which).
pub fn of_code(c: Code) -> Option<(&'static str, bool)> {
    let r = match (c.class, c.subject, c.detail) {
        (2, _, _) => return None,
        (_, 4, 312) => ("hostunknown", true),
        (_, 4, 315..=318) => ("networkerror", true),
        (_, 7, 320) => ("securityerror", true),
        (_, 7, 321..=325) => ("securityerror", true),
        (_, 4, 300) => ("expired", false),
        (_, 7, 500..=699) if c.class == 4 => ("toomanyconn", false),
        (_, 7, 606..=649) => ("blocked", true),
        (_, 7, 509) => ("authfailure", true),
        (_, 7, 700..=750) => ("policyviolation", false),
        (_, 0, _) => return None,
        (_, 1, 0) => ("userunknown", false),
        (_, 1, 1) => ("userunknown", true),
        (_, 1, 2) => ("hostunknown", true),
        (_, 1, 3) => ("syntaxerror", false),
        (_, 1, 4) => ("userunknown", false),
        (_, 1, 6) => ("hasmoved", true),
        (_, 1, 7) | (_, 1, 8) => ("rejected", true),
        (_, 1, 10) => ("notaccept", false),
        (_, 1, _) => ("userunknown", false),
        (_, 2, 0) => ("filtered", false),
        (_, 2, 1) => ("suspend", false),
        (_, 2, 2) => ("mailboxfull", false),
        (_, 2, 3) => ("exceedlimit", true),
        (_, 2, _) => ("filtered", false),
        (_, 3, 1) => ("systemfull", true),
        (_, 3, 2) => ("notaccept", false),
        (_, 3, 4) => ("mesgtoobig", true),
        (_, 3, _) => ("systemerror", false),
        (_, 4, 4) => ("hostunknown", false),
        (_, 4, 5) => ("toomanyconn", false),
        (_, 4, 7) => ("expired", true),
        (_, 4, _) => ("networkerror", false),
        (_, 5, 3) => ("toomanyconn", false),
        (_, 5, _) => ("syntaxerror", false),
        (_, 6, _) => ("contenterror", false),
        (_, 7, 0) => ("securityerror", false),
        (_, 7, 1) => ("blocked", false),
        (_, 7, 13) => ("suspend", true),
        (_, 7, 17 | 18) => ("hasmoved", true),
        (_, 7, 20..=24) | (_, 7, 26) | (_, 7, 29) => ("authfailure", true),
        (_, 7, 25) => ("requireptr", true),
        (_, 7, 27) => ("notaccept", true),
        (_, 7, 28) => ("spamdetected", false),
        (_, 7, 10 | 11 | 30) => ("failedstarttls", false),
        (_, 7, _) => ("securityerror", false),
        _ => return None,
    };
    Some(r)
}

/// The reason a symptom category names.
pub fn of_symptom(category: &str) -> &'static str {
    use super::symptom::*;
    match category {
        DNS => "hostunknown",
        CERTIFICATE => "securityerror",
        _ => "networkerror",
    }
}

/// Decides a finding's reason from what is known about it.
pub fn decide(
    code: Option<Code>,
    reply: Option<u16>,
    words: Option<&'static str>,
    symptom: Option<&str>,
    stage: Option<Stage>,
) -> (&'static str, Basis) {
    // a recipient refused after the message was sent (or at no known command) was refused
    // for this message, not for not existing: the recipient's filter
    let said = words;
    let words = match (words, stage) {
        (Some("userunknown"), Some(Stage::Data)) => Some("filtered"),
        // refused at the greeting or HELO, before any address was given: the client itself
        (
            None | Some("rejected" | "filtered" | "systemerror"),
            Some(Stage::Connect | Stage::Helo),
        ) if code.is_none_or(|c| c.class == 5 && c.detail == 0)
            && reply.is_none_or(|r| r >= 500) =>
        {
            Some("blocked")
        }
        // refused at MAIL FROM: the sender's address or domain, not the recipient's
        (Some("userunknown" | "hostunknown"), Some(Stage::Mail)) => Some("rejected"),
        // a remote server's bare "550 user unknown" at no known command, with no code that
        // says the address (X.1.x), is read as bounce processors read it: refused by the
        // recipient's filter; the reporting server's own prose ("not listed in Domino
        // Directory") stays an unknown user
        (Some("userunknown"), None)
            if reply.is_some()
                && code.is_none_or(|c| (c.subject, c.detail) == (0, 0) || c.subject == 7) =>
        {
            Some("filtered")
        }
        (Some("userunknown"), _) if code.is_some_and(|c| (c.subject, c.detail) == (2, 0)) => {
            Some("filtered")
        }
        _ => words,
    };
    let words = words.or_else(|| symptom.map(of_symptom));
    let coded = code.and_then(of_code);
    match (coded, words) {
        (Some((c, strong)), Some(w)) => {
            // the recipient's own refusal, in so many words, beside an address code
            // (`550 5.1.1 ... Refused due to recipient preferences`)
            let refused = (c, said) == ("userunknown", Some("filtered"));
            if strong && c != w && !overrides(c, w) && !refused {
                (c, Basis::Code)
            } else {
                (w, Basis::CodeText)
            }
        }
        (Some((c, _)), None) => (c, Basis::Code),
        (None, Some(w)) => (
            w,
            if code.is_some() || reply.is_some() {
                Basis::CodeText
            } else {
                Basis::Text
            },
        ),
        (None, None) => (
            UNDEFINED,
            if code.is_some() || reply.is_some() {
                Basis::Code
            } else {
                Basis::Text
            },
        ),
    }
}

/// Words that win over a specific code: the code names the class of failure, the words the
/// failure itself.
fn overrides(code_reason: &str, words: &str) -> bool {
    matches!(
        (code_reason, words),
        ("userunknown", "suspend" | "hasmoved" | "mailboxfull")
            | ("networkerror", "expired")
            | ("hostunknown", "expired")
            | ("rejected", "blocked")
    )
}

/// Compiles this module's patterns (see `pipeline`'s warm-up).
pub(crate) const WARM: &[fn()] = &[
    || {
        LazyLock::force(&PREFIXES);
    },
    || {
        LazyLock::force(&STAGE);
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_as_mtas_name_them() {
        for (line, want) in [
            (
                "<a@b.example>: User unknown (in reply to RCPT TO command)",
                Stage::Rcpt,
            ),
            (
                "said: 550 Protocol violation (in reply to end of DATA command)",
                Stage::Data,
            ),
            (
                "SMTP error from remote mail server after MAIL FROM:<a@b.example> SIZE=1024:",
                Stage::Mail,
            ),
            (">>> DATA", Stage::Data),
            (
                "Sorry, no SMTP connection got far enough; most progress was RCPT TO response;",
                Stage::Rcpt,
            ),
        ] {
            assert_eq!(stage(line.as_bytes()), Some(want), "{line}");
        }
        assert_eq!(stage(b"550 5.1.1 User unknown"), None);
    }

    #[test]
    fn the_recipients_refusal_in_words_wins_over_an_address_code() {
        let c = crate::catalog::Code::parse;
        let refusal = find(b"550 5.1.1 RCP-P2 Refused due to recipient preferences");
        assert_eq!(refusal, Some("filtered"));
        assert_eq!(
            decide(c("5.1.1"), Some(550), refusal, None, None).0,
            "filtered"
        );
        // a user unknown made "filtered" by its stage is still the code's unknown user
        assert_eq!(
            decide(
                c("5.1.1"),
                Some(550),
                Some("userunknown"),
                None,
                Some(Stage::Data)
            )
            .0,
            "userunknown"
        );
    }

    #[test]
    fn a_bare_user_unknown_at_no_known_stage_is_the_recipients_filter() {
        let c = crate::catalog::Code::parse;
        // a remote reply without a stage or an address code
        assert_eq!(
            decide(None, Some(550), Some("userunknown"), None, None).0,
            "filtered"
        );
        assert_eq!(
            decide(c("5.0.0"), Some(550), Some("userunknown"), None, None).0,
            "filtered"
        );
        // the stage, an address code, or the reporting server's own words keep it unknown
        for (code, reply, stage) in [
            (None, Some(550), Some(Stage::Rcpt)),
            (c("5.1.1"), Some(550), None),
            (c("5.2.1"), Some(550), None),
            (None, None, None),
        ] {
            assert_eq!(
                decide(code, reply, Some("userunknown"), None, stage).0,
                "userunknown",
                "{code:?} {reply:?} {stage:?}"
            );
        }
    }
}
