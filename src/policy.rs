//! `--fail-on`: which findings make the run exit with 1.

use crate::catalog::{self, Catalog, Code, Severity};
use crate::extract::{Finding, State};

#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Severity(Severity),
    State(State),
    Code(Code),
    Category(String),
}

/// A parsed `--fail-on` policy.
#[derive(Debug, Clone, PartialEq)]
pub enum FailOn {
    /// Any finding except a success report (the default).
    Any,
    /// Never fail.
    None,
    /// Any of these.
    Items(Vec<Item>),
}

/// Why a `--fail-on` policy is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// `none` with other items.
    #[error("`none` cannot be combined with other items")]
    NoneCombined,
    /// An item that is no keyword, code or category of the catalog.
    #[error(
        "unknown item `{}` (expected any, none, transient, permanent, queued, expired, failed, a code such as 4.4.316, or a category such as connection-refused)",
        crate::sanitize::text(.0)
    )]
    Unknown(String),
    /// Nothing but commas and blanks.
    #[error("empty policy")]
    Empty,
}

impl FailOn {
    /// Reads a policy: `any`, `none`, or a comma list of keywords, codes and categories of
    /// `cat`.
    pub fn parse(s: &str, cat: &Catalog) -> Result<FailOn, PolicyError> {
        let s = s.trim();
        match s {
            "any" => return Ok(FailOn::Any),
            "none" => return Ok(FailOn::None),
            _ => {}
        }
        let mut items = Vec::new();
        for raw in s.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            let item = match raw {
                "any" => return Ok(FailOn::Any),
                "none" => {
                    return Err(PolicyError::NoneCombined);
                }
                "transient" => Item::Severity(Severity::Transient),
                "permanent" => Item::Severity(Severity::Permanent),
                "queued" => Item::State(State::Queued),
                "expired" => Item::State(State::Expired),
                "failed" => Item::State(State::Failed),
                _ => {
                    if let Some((c, _)) = Code::parse_spelling(raw) {
                        Item::Code(c)
                    } else if raw == catalog::OTHER || cat.has_category(raw) {
                        Item::Category(raw.to_string())
                    } else {
                        return Err(PolicyError::Unknown(raw.to_string()));
                    }
                }
            };
            items.push(item);
        }
        if items.is_empty() {
            return Err(PolicyError::Empty);
        }
        Ok(FailOn::Items(items))
    }

    pub fn matches(&self, f: &Finding) -> bool {
        self.matches_parts(f.code, &f.entry, &f.category, f.severity, f.state)
    }

    /// Whether a delivery (its last error and its state) matches.
    pub fn matches_delivery(&self, d: &crate::deliveries::Delivery) -> bool {
        self.matches_parts(d.last_code, d.entry, d.category, d.severity, d.state)
    }

    /// Whether an error predicted by its catalog key (`probe`'s `4.4.316`) matches, as a
    /// queued finding of that code would.
    pub fn matches_code(&self, key: &str, cat: &Catalog) -> bool {
        let entry = cat.by_key(key);
        let code = Code::parse(key);
        let category = entry.map_or(catalog::OTHER, |e| e.category.as_str());
        let severity = code
            .and_then(|c| Severity::of_class(c.class))
            .unwrap_or(Severity::Transient);
        self.matches_parts(code, key, category, severity, State::Queued)
    }

    /// Whether a delivery that went out without a failure (counted, not kept) matches: it
    /// has no code, entry or failure severity.
    pub fn matches_clean_delivery(&self) -> bool {
        self.matches_parts(None, "", "delivered", Severity::Success, State::Delivered)
    }

    fn matches_parts(
        &self,
        code: Option<Code>,
        entry: &str,
        category: &str,
        severity: Severity,
        state: State,
    ) -> bool {
        match self {
            FailOn::Any => state != State::Delivered,
            FailOn::None => false,
            FailOn::Items(items) => items.iter().any(|i| match i {
                Item::Severity(s) => severity == *s && state != State::Delivered,
                Item::State(s) => state == *s,
                // the code itself, or (for a symptom that named the entry) the entry's own key
                Item::Code(c) => {
                    code.is_some_and(|fc| {
                        fc == *c
                            || (c.class == 0 && fc.subject == c.subject && fc.detail == c.detail)
                    }) || entry == c.to_string()
                }
                Item::Category(cat) => category == cat,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses() {
        assert_eq!(
            FailOn::parse("any", catalog::builtin_or_empty()),
            Ok(FailOn::Any)
        );
        assert_eq!(
            FailOn::parse("none", catalog::builtin_or_empty()),
            Ok(FailOn::None)
        );
        assert!(
            matches!(FailOn::parse("transient,4.4.316", catalog::builtin_or_empty()), Ok(FailOn::Items(v)) if v.len() == 2)
        );
        assert!(FailOn::parse("connection-refused", catalog::builtin_or_empty()).is_ok());
        assert!(FailOn::parse("nonsense-category", catalog::builtin_or_empty()).is_err());
        assert!(FailOn::parse("", catalog::builtin_or_empty()).is_err());
        assert!(FailOn::parse("none,4.4.316", catalog::builtin_or_empty()).is_err());
    }
}
