//! Status codes as the catalog spells them: `Code` (`4.4.316`, `X.1.1`) and `Key` (a code,
//! a documented range `5.7.606-649`, or a named key such as `other`).

use std::fmt;

/// The key of the EOP "any other error" guidance.
pub const OTHER: &str = "other";

/// An enhanced status code `class.subject.detail` (RFC 3463). Class 0 stands for `X`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Code {
    /// 2 (success), 4 (transient), 5 (permanent), or 0 for `X` (either failure class).
    pub class: u8,
    /// What the code is about: 1 addressing, 4 routing, 7 security ... (0 to 999).
    pub subject: u16,
    /// The condition within the subject (0 to 999).
    pub detail: u16,
}

impl Code {
    /// A code from its three parts, unchecked (class 0 stands for `X`).
    pub const fn new(class: u8, subject: u16, detail: u16) -> Self {
        Code {
            class,
            subject,
            detail,
        }
    }

    /// Parses `4.4.316`, `X.4.316`, `450 4.4.316`, `450-4.4.316` (surrounding blanks allowed).
    /// Returns the code and the basic reply code when one was given.
    pub fn parse_spelling(s: &str) -> Option<(Code, Option<u16>)> {
        let s = s.trim();
        let (reply, rest) = match s.split_once([' ', '-']) {
            Some((r, rest)) if r.len() == 3 && r.bytes().all(|b| b.is_ascii_digit()) => {
                (r.parse::<u16>().ok(), rest.trim())
            }
            _ => (None, s),
        };
        Code::parse(rest).map(|c| (c, reply))
    }

    /// Parses exactly `C.S.D` with C in 2/4/5 or `X`, S and D of 1 to 3 digits.
    pub fn parse(s: &str) -> Option<Code> {
        let mut parts = s.split('.');
        let class = match parts.next()? {
            "2" => 2,
            "4" => 4,
            "5" => 5,
            "X" | "x" => 0,
            _ => return None,
        };
        let subject = parse_num(parts.next()?)?;
        let detail = parse_num(parts.next()?)?;
        if parts.next().is_some() {
            return None;
        }
        Some(Code {
            class,
            subject,
            detail,
        })
    }

    /// The same code in the other failure class (4 <-> 5).
    pub fn with_class(self, class: u8) -> Code {
        Code { class, ..self }
    }
}

fn parse_num(s: &str) -> Option<u16> {
    if s.is_empty() || s.len() > 3 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if s.len() > 1 && s.starts_with('0') {
        return None;
    }
    s.parse().ok()
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.class == 0 {
            write!(f, "X.{}.{}", self.subject, self.detail)
        } else {
            write!(f, "{}.{}.{}", self.class, self.subject, self.detail)
        }
    }
}

/// The key of an entry, parsed: a single code, or a range of details.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// One code; class 0 (`X.S.D`) covers the same subject and detail in every class.
    Code(Code),
    /// Every detail from `lo` to `hi`, both included (`5.7.606-649`).
    Range {
        /// The class, 2, 4 or 5 (a range is never `X`).
        class: u8,
        /// The subject the range is in.
        subject: u16,
        /// The first detail covered.
        lo: u16,
        /// The last detail covered, greater than `lo`.
        hi: u16,
    },
    /// [`OTHER`]: the "any other error" guidance, which covers no code.
    Other,
}

impl Key {
    /// Parses a catalog key: a code (`4.4.316`, `X.1.1`), a range (`5.7.606-649`) or
    /// [`OTHER`]. None when malformed.
    pub fn parse(s: &str) -> Option<Key> {
        if s == OTHER {
            return Some(Key::Other);
        }
        if let Some((head, hi)) = s.split_once('-') {
            let code = Code::parse(head)?;
            let hi = parse_num(hi)?;
            if code.class == 0 || hi <= code.detail {
                return None;
            }
            return Some(Key::Range {
                class: code.class,
                subject: code.subject,
                lo: code.detail,
                hi,
            });
        }
        let code = Code::parse(s)?;
        if code.class == 2 || code.class == 4 || code.class == 5 || code.class == 0 {
            Some(Key::Code(code))
        } else {
            None
        }
    }

    /// Whether a concrete code falls under this key.
    pub fn covers(&self, c: Code) -> bool {
        match *self {
            Key::Code(k) => {
                k == c || (k.class == 0 && k.subject == c.subject && k.detail == c.detail)
            }
            Key::Range {
                class,
                subject,
                lo,
                hi,
            } => class == c.class && subject == c.subject && (lo..=hi).contains(&c.detail),
            Key::Other => false,
        }
    }
}
