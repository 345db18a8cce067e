//! The types of a catalog entry (`data/README.md`), shared by the crate (`src/catalog/mod.rs`
//! re-exports them) and the build script (`build.rs` deserialises every built-in entry into
//! them, so that an entry the program could not read fails the build). Only `serde` here:
//! a build script sees none of the crate's modules.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Class 4: a temporary failure; the sending server retries.
    Transient,
    /// Class 5: a permanent failure; the message is returned to the sender.
    Permanent,
    /// Class 2: a success report (only with `--all`).
    Success,
}

/// The texts of an entry in one language.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Texts {
    /// A one-line heading for the code.
    pub title: String,
    /// What the code means, in one or two sentences.
    pub summary: String,
    /// Likely causes, most likely first.
    pub causes: Vec<String>,
    /// Imperative steps in the order to try them; may hold runbook slots (`{recipient}`).
    pub fixes: Vec<String>,
    /// How to confirm that a fix worked (empty when the file gives none).
    #[serde(default)]
    pub verify: Vec<String>,
}

/// One catalog entry, as in `data/README.md`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// The catalog key: `4.4.316`, `X.1.1` (both classes), a range `5.7.606-649`, or
    /// `other`.
    pub code: String,
    /// Other spellings that resolve to this entry (`5.4.316`, the expiry form of `4.4.316`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also: Vec<String>,
    /// The basic reply code usually sent with it (450, 550 ...).
    pub reply: u16,
    /// A stable slug scripts group on (`connection-refused`, `mailbox-full` ...).
    pub category: String,
    /// The usual class of the code; a finding's own follows the class actually seen.
    pub(crate) severity: Severity,
    /// Where the meaning comes from: `eop-connector`, `exchange-online`, `exchange-server`,
    /// `iana` or `rfc3463` (`local` or a runbook's own value for overlay entries).
    pub source: String,
    /// Who has to act: `your-organization`, `destination` or `sender`.
    pub owner: String,
    /// The IANA registry's title, when the registry also defines the code and this entry
    /// carries a vendor meaning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry_title: Option<String>,
    /// Codes to look at together with this one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<String>,
    /// The English texts.
    pub en: Texts,
    /// The Japanese texts.
    pub ja: Texts,
    /// URLs of the public documentation the facts come from.
    pub references: Vec<String>,
    /// Real-looking lines the extractor must turn into exactly this entry (checked by a
    /// test).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub examples: Vec<String>,
    /// The reasons (`data/reasons.json`) this entry's meaning is for, when the code means
    /// something else from other systems (Exchange Online's 5.2.2 is a submission quota,
    /// everyone else's a full mailbox): a finding whose words name another reason is
    /// explained by the registry's entry for the code, or by the reason's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<String>,
}

impl Severity {
    /// The severity of a code class (2, 4 or 5); None for any other class, `X` included.
    pub(crate) fn of_class(class: u8) -> Option<Severity> {
        match class {
            2 => Some(Severity::Success),
            4 => Some(Severity::Transient),
            5 => Some(Severity::Permanent),
            _ => None,
        }
    }
    /// The name in JSON output and the catalog files (`transient` ...).
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Severity::Transient => "transient",
            Severity::Permanent => "permanent",
            Severity::Success => "success",
        }
    }
}

/// A language the catalog's texts and the output are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum Lang {
    /// English, the default.
    #[default]
    #[serde(rename = "en")]
    En,
    /// Japanese.
    #[serde(rename = "ja")]
    Ja,
}

impl Lang {
    /// Every language, English first.
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Ja];
    /// The language tag: `en` or `ja`.
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ja => "ja",
        }
    }
}

impl Entry {
    /// The texts in a language: [`Entry::en`] or [`Entry::ja`].
    pub fn texts(&self, lang: Lang) -> &Texts {
        match lang {
            Lang::En => &self.en,
            Lang::Ja => &self.ja,
        }
    }
}
