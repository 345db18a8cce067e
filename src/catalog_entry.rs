//! The types of a catalog entry (`data/README.md`), shared by the crate (`src/catalog.rs`
//! re-exports them) and the build script (`build.rs` deserialises every built-in entry into
//! them, so that an entry the program could not read fails the build). Only `serde` here:
//! a build script sees none of the crate's modules.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Transient,
    Permanent,
    /// Class 2: a success report (only with `--all`).
    Success,
}

/// The texts of an entry in one language.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Texts {
    pub title: String,
    pub summary: String,
    pub causes: Vec<String>,
    pub fixes: Vec<String>,
    #[serde(default)]
    pub verify: Vec<String>,
}

/// One catalog entry, as in `data/README.md`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub code: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also: Vec<String>,
    pub reply: u16,
    pub category: String,
    pub severity: Severity,
    pub source: String,
    pub owner: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry_title: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<String>,
    pub en: Texts,
    pub ja: Texts,
    pub references: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub examples: Vec<String>,
    /// The reasons (`data/reasons.json`) this entry's meaning is for, when the code means
    /// something else from other systems (Exchange Online's 5.2.2 is a submission quota,
    /// everyone else's a full mailbox): a finding whose words name another reason is
    /// explained by the registry's entry for the code, or by the reason's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<String>,
}
