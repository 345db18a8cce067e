//! The reason vocabulary (`data/reasons.json`, compiled in): what each reason means in words,
//! whether it is a hard bounce, the catalog entry that explains it, and the phrases that name
//! it. A leaf like the catalog: any stage may read it, it knows none of them.

use serde::Deserialize;
use std::sync::LazyLock;

/// The file as compiled in.
pub const TEXT: &str = include_str!("../data/reasons.json");

/// One reason of the vocabulary (sisimai's names, `shared/reference/bounce-reasons.md`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reason {
    /// The token (`userunknown`).
    pub name: String,
    /// Resending the same message to the same address cannot succeed.
    pub hard_bounce: bool,
    /// Catalog key of the entry that explains a failure known only by this reason.
    pub entry: String,
    /// The reason in words, English.
    pub en: String,
    /// The reason in words, Japanese.
    pub ja: String,
}

/// A phrase that names a reason: a case-insensitive pattern, and a line it must match.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Phrase {
    /// The token of the reason it names (a [`Reason::name`]).
    pub reason: String,
    /// The language the phrase is written in (`en`, `ja`, `de` ...).
    pub lang: String,
    /// A regular expression written in lower case, matched case-insensitively anywhere in
    /// a line.
    pub pattern: String,
    /// A real-looking line that the extractor must read as this reason (checked by a test).
    pub example: String,
}

/// How a failure of some reasons reads from the receiving side: an incoming client that our
/// server refused (`direction: inbound`), explained as what our server did and what to do.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inbound {
    /// The family's name (`recipient`, `relay`, `sender` ...).
    pub name: String,
    /// The reasons it explains; every reason is in exactly one family (checked by a test).
    pub reasons: Vec<String>,
    /// The English texts.
    pub en: InboundTexts,
    /// The Japanese texts.
    pub ja: InboundTexts,
}

/// One language of an [`Inbound`] family.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InboundTexts {
    /// What our server did, and why.
    pub meaning: String,
    /// The receiving admin's steps, in order.
    pub fixes: Vec<String>,
    /// How to tell that it worked.
    pub verify: Vec<String>,
}

impl Inbound {
    /// The texts in a language (`ja`, or English).
    pub fn texts(&self, ja: bool) -> &InboundTexts {
        if ja { &self.ja } else { &self.en }
    }
}

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Vocabulary {
    /// The file format's version: 1.
    pub schema: u32,
    /// Every reason, each listed once.
    pub reasons: Vec<Reason>,
    /// In priority order: the first phrase that matches a line names its reason.
    pub phrases: Vec<Phrase>,
    /// The receiving side's explanations, by families of reasons.
    pub inbound: Vec<Inbound>,
}

/// The reason for a failure that cannot be told.
pub const UNDEFINED: &str = "undefined";

static DATA: LazyLock<Vocabulary> = LazyLock::new(|| {
    // checked by the tests; were it ever broken, run with no phrases rather than panic
    serde_json::from_str(TEXT).unwrap_or(Vocabulary {
        schema: 1,
        reasons: Vec::new(),
        phrases: Vec::new(),
        inbound: Vec::new(),
    })
});

/// The vocabulary, parsed on first use.
pub fn get() -> &'static Vocabulary {
    &DATA
}

/// A reason by its token.
pub fn by_name(name: &str) -> Option<&'static Reason> {
    DATA.reasons.iter().find(|r| r.name == name)
}

/// The token as a `'static` string of the vocabulary (`undefined` for an unknown name).
pub fn intern(name: &str) -> &'static str {
    by_name(name).map_or(UNDEFINED, |r| r.name.as_str())
}

/// Whether a failure for this reason is a hard bounce.
pub fn is_hard(name: &str) -> bool {
    by_name(name).is_some_and(|r| r.hard_bounce)
}

/// The receiving side's explanation of a reason (the `undefined` family for an unknown one).
pub fn inbound(reason: &str) -> Option<&'static Inbound> {
    let of = |name: &str| {
        DATA.inbound
            .iter()
            .find(|f| f.reasons.iter().any(|r| r == name))
    };
    of(reason).or_else(|| of(UNDEFINED))
}
