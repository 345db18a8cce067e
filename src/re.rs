//! The crate's byte regexes are built here: ASCII classes (`\s`, `\d`, `\b`, `(?i)`) and
//! byte-wise `.`, which match what mail logs hold, compile to far smaller automata than
//! their Unicode forms (start-up and lazy-DFA cost), and never refuse invalid UTF-8.
//!
//! Two kinds: `bytes` for the searches over whole buffers, which gain from the literal
//! prefilter the regex engine derives from a pattern, and `line` for the patterns run on
//! one line that a cheaper test (a keyword search, a `memmem` needle, the line's first
//! byte) has already picked out. A line is short, so the prefilter buys nothing there, and
//! deriving one from a case-insensitive alternation is two thirds of its compile time.

use regex::bytes::{Regex, RegexBuilder};
use regex_automata::util::captures::Captures;
use regex_automata::util::primitives::NonMaxUsize;
use regex_automata::util::syntax;
use regex_automata::{Anchored, Input, MatchKind, PatternSet, hybrid, meta};

/// Warm-up steps (see `pipeline`), one per static pattern: `warm_steps![A, B]` is a
/// `&[fn()]` whose steps force `A` and `B`.
macro_rules! warm_steps {
    ($($pattern:expr),* $(,)?) => {
        &[$(|| {
            std::sync::LazyLock::force(&$pattern);
        }),*]
    };
}
pub(crate) use warm_steps;

/// Compiles one of the crate's static patterns for searches over large buffers (a mistake
/// in one is a bug, caught by the tests that use it).
pub fn bytes(pattern: &str) -> Regex {
    RegexBuilder::new(pattern)
        .unicode(false)
        .build()
        .expect("static regex") // ok: a constant pattern, compiled by the tests
}

/// Compiles one of the crate's static patterns for searches within one line.
pub fn line(pattern: &str) -> Line {
    let re = meta::Builder::new()
        .syntax(syntax::Config::new().unicode(false).utf8(false))
        .configure(meta::Config::new().auto_prefilter(false))
        .build(pattern)
        .expect("static regex"); // ok: a constant pattern, compiled by the tests
    Line(re)
}

/// Compiles several of the crate's static patterns, for one line, as one automaton.
/// With `overlapping`, `lowest` tells the first pattern (in the given order) that matches
/// anywhere; without, `leftmost` tells which pattern the leftmost match is of.
pub fn line_set(patterns: &[&str], overlapping: bool) -> LineSet {
    let kind = if overlapping {
        MatchKind::All
    } else {
        MatchKind::LeftmostFirst
    };
    let re = meta::Builder::new()
        .syntax(syntax::Config::new().unicode(false).utf8(false))
        .configure(meta::Config::new().auto_prefilter(false).match_kind(kind))
        .build_many(patterns)
        .expect("static regex"); // ok: constant patterns, compiled by the tests
    LineSet(re)
}

/// A pattern that is only asked whether it matches: a forward lazy DFA and nothing more (no
/// reverse automaton, no capture engines), built in a fraction of `line`'s time. For many
/// small patterns of which a run needs a few.
#[derive(Debug)]
pub struct Probe {
    dfa: hybrid::dfa::DFA,
    pattern: String,
}

/// Compiles one of the crate's static patterns as a `Probe`.
pub fn probe(pattern: &str) -> Probe {
    let dfa = hybrid::dfa::DFA::builder()
        .syntax(syntax::Config::new().unicode(false).utf8(false))
        .build(pattern)
        .expect("static regex"); // ok: a constant pattern, compiled by the tests
    Probe {
        dfa,
        pattern: pattern.to_string(),
    }
}

impl Probe {
    /// A cache for `is_match` (one per thread).
    pub fn cache(&self) -> hybrid::dfa::Cache {
        self.dfa.create_cache()
    }

    /// Whether a match of the pattern starts exactly at `at` (what is before `at` still
    /// counts for a `\b` at the start).
    pub fn is_match_at(&self, cache: &mut hybrid::dfa::Cache, hay: &[u8], at: usize) -> bool {
        if at > hay.len() {
            return false;
        }
        let input = Input::new(hay)
            .range(at..)
            .anchored(Anchored::Yes)
            .earliest(true);
        match self.dfa.try_search_fwd(cache, &input) {
            Ok(m) => m.is_some(),
            Err(_) => line(&self.pattern).captures_at_anchored(hay, at).is_some(),
        }
    }
}

/// Several patterns searched in one pass (see `line_set`).
#[derive(Clone, Debug)]
pub struct LineSet(meta::Regex);

impl LineSet {
    /// The lowest-numbered pattern that matches anywhere in `hay` (built `overlapping`).
    pub fn lowest(&self, hay: &[u8]) -> Option<usize> {
        let mut set = PatternSet::new(self.0.pattern_len());
        self.0.which_overlapping_matches(&Input::new(hay), &mut set);
        set.iter().next().map(|p| p.as_usize())
    }

    /// The pattern of the leftmost match, the first listed when several start there (built
    /// without `overlapping`, this is what an alternation of the patterns would match).
    pub fn leftmost(&self, hay: &[u8]) -> Option<usize> {
        self.0.find(hay).map(|m| m.pattern().as_usize())
    }
}

/// A pattern for one line (see `line`), with the part of `regex::bytes::Regex`'s interface
/// the crate uses.
#[derive(Clone, Debug)]
pub struct Line(meta::Regex);

/// A match: the bytes it covers and where they are.
#[derive(Clone, Copy, Debug)]
pub struct Piece<'h> {
    hay: &'h [u8],
    start: usize,
    end: usize,
}

impl<'h> Piece<'h> {
    pub fn as_bytes(&self) -> &'h [u8] {
        &self.hay[self.start..self.end]
    }
    pub fn start(&self) -> usize {
        self.start
    }
    pub fn end(&self) -> usize {
        self.end
    }
}

/// The most slots (two per group, group 0 included) a match keeps inline; a pattern with
/// more groups keeps them on the heap.
const INLINE_SLOTS: usize = 16;

/// The groups of one match (group 0 is the whole match).
#[derive(Debug)]
pub struct Groups<'h> {
    hay: &'h [u8],
    slots: Slots,
}

/// Where a match's groups start and end: inline for the crate's patterns (no allocation per
/// search on the hot path), else as the regex engine's own captures.
#[derive(Debug)]
enum Slots {
    Inline([Option<NonMaxUsize>; INLINE_SLOTS]),
    Heap(Captures),
}

impl<'h> Groups<'h> {
    pub fn get(&self, i: usize) -> Option<Piece<'h>> {
        let (start, end) = match &self.slots {
            Slots::Inline(s) => (
                s.get(2 * i)?.as_ref()?.get(),
                s.get(2 * i + 1)?.as_ref()?.get(),
            ),
            Slots::Heap(c) => {
                let g = c.get_group(i)?;
                (g.start, g.end)
            }
        };
        Some(Piece {
            hay: self.hay,
            start,
            end,
        })
    }
}

impl Line {
    pub fn is_match(&self, hay: &[u8]) -> bool {
        self.0.is_match(hay)
    }

    pub fn find<'h>(&self, hay: &'h [u8]) -> Option<Piece<'h>> {
        self.0.find(hay).map(|m| Piece {
            hay,
            start: m.start(),
            end: m.end(),
        })
    }

    pub fn captures<'h>(&self, hay: &'h [u8]) -> Option<Groups<'h>> {
        self.search(hay, &Input::new(hay))
    }

    /// The match that starts exactly at `at`, if there is one (what an unanchored search
    /// finds when its leftmost match starts there).
    pub fn captures_at_anchored<'h>(&self, hay: &'h [u8], at: usize) -> Option<Groups<'h>> {
        if at > hay.len() {
            return None;
        }
        self.search(hay, &Input::new(hay).range(at..).anchored(Anchored::Yes))
    }

    /// The leftmost match that starts at `from` or later.
    pub fn captures_from<'h>(&self, hay: &'h [u8], from: usize) -> Option<Groups<'h>> {
        if from > hay.len() {
            return None;
        }
        self.search(hay, &Input::new(hay).range(from..))
    }

    /// The groups of the match `input` (a search of `hay`) finds.
    fn search<'h>(&self, hay: &'h [u8], input: &Input<'_>) -> Option<Groups<'h>> {
        let n = self.0.group_info().implicit_slot_len() + self.0.group_info().explicit_slot_len();
        if let Some(mut inline) = (n <= INLINE_SLOTS).then_some([None; INLINE_SLOTS]) {
            self.0.search_slots(input, &mut inline[..n])?;
            return Some(Groups {
                hay,
                slots: Slots::Inline(inline),
            });
        }
        let mut caps = self.0.create_captures();
        self.0.search_captures(input, &mut caps);
        caps.is_match().then_some(Groups {
            hay,
            slots: Slots::Heap(caps),
        })
    }

    pub fn captures_iter<'r, 'h>(&'r self, hay: &'h [u8]) -> impl Iterator<Item = Groups<'h>> + 'r
    where
        'h: 'r,
    {
        self.0.captures_iter(hay).map(move |caps| Groups {
            hay,
            slots: Slots::Heap(caps),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_pattern_matches_as_the_buffer_pattern_does() {
        let p = r"(?i)connect to ([A-Za-z0-9.-]+)\[([0-9.]+)\](x)?";
        let hay = b"\xff Connect to MX.example.com[192.0.2.1]:25: refused; connect to b[10.0.0.1]";
        let (l, b) = (line(p), bytes(p));
        assert!(l.is_match(hay));
        assert!(!l.is_match(b"nothing here"));
        let (m, n) = (l.find(hay).unwrap(), b.find(hay).unwrap());
        assert_eq!(
            (m.start(), m.end(), m.as_bytes()),
            (n.start(), n.end(), n.as_bytes())
        );
        let c = l.captures(hay).unwrap();
        assert_eq!(c.get(1).unwrap().as_bytes(), b"MX.example.com");
        let ip = c.get(2).unwrap();
        assert_eq!((ip.start(), ip.end()), (28, 37));
        assert!(c.get(3).is_none());
        let all: Vec<&[u8]> = l
            .captures_iter(hay)
            .filter_map(|c| c.get(2).map(|p| p.as_bytes()))
            .collect();
        assert_eq!(all, [&b"192.0.2.1"[..], b"10.0.0.1"]);
        assert!(l.captures(b"connect to nowhere").is_none());
        // anchored at the second `connect`, from after the first one
        let second = hay.len() - 22;
        let at = l.captures_at_anchored(hay, second).unwrap();
        assert_eq!(at.get(1).unwrap().as_bytes(), b"b");
        assert!(l.captures_at_anchored(hay, second + 1).is_none());
        let from = l.captures_from(hay, 3).unwrap();
        assert_eq!(from.get(0).unwrap().start(), second);
        // a `\b` at the anchor still looks at the byte before it
        let w = line(r"\bto=(\w+)");
        assert!(w.captures_at_anchored(b"xto=a", 1).is_none());
        assert!(w.captures_at_anchored(b" to=a", 1).is_some());
        assert!(w.captures_at_anchored(b"to=a", 9).is_none());
    }

    #[test]
    fn pattern_sets() {
        let all = line_set(&["(?i)beta", "alpha", "a"], true);
        assert_eq!(all.lowest(b"x alpha BETA"), Some(0));
        assert_eq!(all.lowest(b"x alpha"), Some(1));
        assert_eq!(all.lowest(b"xa"), Some(2));
        assert_eq!(all.lowest(b"xyz"), None);
        let first = line_set(&["beta", "alpha|bet", "be"], false);
        assert_eq!(first.leftmost(b"x alpha beta"), Some(1));
        assert_eq!(first.leftmost(b"x beta alpha"), Some(0));
        assert_eq!(first.leftmost(b"x bex"), Some(2));
        assert_eq!(first.leftmost(b"xyz"), None);
    }
}
