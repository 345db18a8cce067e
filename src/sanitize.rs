//! The one place that makes untrusted text safe to show.
//!
//! Input bytes never reach a terminal raw: C0 controls (except TAB), DEL, C1 controls, bidi
//! overrides and isolates, zero-width and line/paragraph separators become visible escapes,
//! and invalid UTF-8 becomes `\xNN` (not U+FFFD, which would hide evidence).

use std::borrow::Cow;

/// Whether a character must be shown escaped.
pub fn is_unsafe(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{8}' | '\u{a}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
        // soft hyphen, Arabic letter mark, Mongolian vowel separator: invisible format
        // characters
        | '\u{ad}' | '\u{61c}' | '\u{180e}'
        | '\u{200b}'..='\u{200f}' | '\u{2028}' | '\u{2029}'
        | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}'
        // interlinear annotation controls, and the tag characters that can hide text
        | '\u{fff9}'..='\u{fffb}' | '\u{e0000}'..='\u{e007f}')
}

fn push_escaped(out: &mut String, c: char) {
    use std::fmt::Write;
    let n = c as u32;
    if n < 0x80 {
        let _ = write!(out, "\\x{n:02x}");
    } else {
        let _ = write!(out, "\\u{{{n:x}}}");
    }
}

/// Decodes bytes as UTF-8, showing invalid bytes as `\xNN` and unsafe characters escaped.
pub fn visible(bytes: &[u8]) -> String {
    // the common case: printable ASCII (and tabs) only
    if bytes
        .iter()
        .all(|&b| (0x20..0x7f).contains(&b) || b == b'\t')
    {
        // ok: all bytes checked ASCII just above
        return String::from_utf8(bytes.to_vec()).unwrap_or_default();
    }
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        push_visible_str(&mut out, chunk.valid());
        for b in chunk.invalid() {
            use std::fmt::Write;
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
}

fn push_visible_str(out: &mut String, s: &str) {
    for c in s.chars() {
        if is_unsafe(c) {
            push_escaped(out, c);
        } else {
            out.push(c);
        }
    }
}

/// Makes a string safe for a terminal (borrowed when nothing needs escaping).
pub fn text(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    push_visible_str(&mut out, s);
    Cow::Owned(out)
}

/// Decodes input bytes to a String without hiding anything: valid UTF-8 as is (control
/// characters kept: the renderers escape them), invalid bytes as `\xNN`.
pub fn decode(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => {
            let mut out = String::with_capacity(bytes.len() + 8);
            for chunk in bytes.utf8_chunks() {
                out.push_str(chunk.valid());
                for b in chunk.invalid() {
                    use std::fmt::Write;
                    let _ = write!(out, "\\x{b:02x}");
                }
            }
            out
        }
    }
}

/// Cuts a string to at most `max` characters, marking the cut with `…`.
pub fn truncate(s: &str, max: usize) -> Cow<'_, str> {
    if s.len() <= max {
        // no more bytes than `max`, so no more characters either
        return Cow::Borrowed(s);
    }
    match s.char_indices().nth(max) {
        None => Cow::Borrowed(s),
        Some((i, _)) => {
            let keep = s[..i]
                .char_indices()
                .nth(max.saturating_sub(1))
                .map_or(i, |(j, _)| j);
            Cow::Owned(format!("{}…", &s[..keep]))
        }
    }
}

/// Escapes, in serialized JSON, the characters serde_json leaves raw but a terminal would
/// act on (DEL, C1, bidi controls, zero-width characters, separators) as `\u` escapes. JSON
/// structure is ASCII, so these can only occur inside strings.
pub fn json_escape_extra(json: &str) -> Cow<'_, str> {
    // serde_json escapes every C0 control inside strings, so a raw newline (or space) can
    // only be the pretty printer's layout
    let unsafe_in_json = |c: char| c != '\n' && is_unsafe(c);
    // fast path: every character to escape here is DEL, or starts with byte C2 (C1
    // controls, soft hyphen), D8 (U+061C), E1 (U+180E), E2 (U+2000 block), EF (BOM,
    // U+FFF9..) or F3 (tags); output without those bytes is left alone
    let b = json.as_bytes();
    let lead_at = |i: usize| {
        json.get(i..)
            .and_then(|s| s.chars().next())
            .is_some_and(unsafe_in_json)
    };
    let found = memchr::memchr3_iter(0x7f, 0xc2, 0xe2, b).any(lead_at)
        || memchr::memchr3_iter(0xef, 0xd8, 0xe1, b).any(lead_at)
        || memchr::memchr_iter(0xf3, b).any(lead_at);
    if !found {
        return Cow::Borrowed(json);
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if unsafe_in_json(c) {
            use std::fmt::Write;
            // beyond the BMP (the tag characters): a UTF-16 surrogate pair, as JSON spells it
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                let _ = write!(out, "\\u{:04x}", u);
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_controls_and_bidi() {
        assert_eq!(visible(b"a\x1b[2Jb"), "a\\x1b[2Jb");
        assert_eq!(
            visible(b"bell\x07 bs\x08 cr\r"),
            "bell\\x07 bs\\x08 cr\\x0d"
        );
        assert_eq!(
            visible("x\u{202e}y\u{2066}z".as_bytes()),
            "x\\u{202e}y\\u{2066}z"
        );
        assert_eq!(visible("c1\u{9b}".as_bytes()), "c1\\u{9b}");
        assert_eq!(visible(b"bad \xff\xfe utf8"), "bad \\xff\\xfe utf8");
        assert_eq!(visible(b"tab\tok"), "tab\tok");
        assert_eq!(visible("日本語".as_bytes()), "日本語");
    }

    #[test]
    fn invisible_format_and_tag_characters_are_shown() {
        for (c, shown) in [
            ('\u{ad}', "\\u{ad}"),
            ('\u{61c}', "\\u{61c}"),
            ('\u{180e}', "\\u{180e}"),
            ('\u{fff9}', "\\u{fff9}"),
            ('\u{e0041}', "\\u{e0041}"),
        ] {
            let s = format!("a{c}b");
            assert_eq!(visible(s.as_bytes()), format!("a{shown}b"));
            assert_eq!(text(&s), format!("a{shown}b"));
        }
        // in JSON, a tag character is escaped as its surrogate pair
        let j = json_escape_extra("\"a\u{e0041}\u{ad}\"");
        assert_eq!(j, "\"a\\udb40\\udc41\\u00ad\"");
        let back: String = serde_json::from_str(&j).unwrap();
        assert_eq!(back, "a\u{e0041}\u{ad}");
    }

    #[test]
    fn no_control_survives() {
        let all: Vec<u8> = (0u8..=255).collect();
        let v = visible(&all);
        assert!(!v.chars().any(|c| c != '\t' && is_unsafe(c)));
        assert!(!v.contains('\u{1b}'));
    }

    #[test]
    fn json_extra() {
        let j = serde_json::to_string("a\u{7f}\u{85}\u{202e}\u{1b}").unwrap();
        let e = json_escape_extra(&j);
        assert_eq!(e, r#""a\u007f\u0085\u202e\u001b""#);
        let back: String = serde_json::from_str(&e).unwrap();
        assert_eq!(back, "a\u{7f}\u{85}\u{202e}\u{1b}");
        let pretty = serde_json::to_string_pretty(&vec!["x\ny"]).unwrap();
        assert_eq!(json_escape_extra(&pretty), pretty);
    }

    #[test]
    fn truncates_on_chars() {
        assert_eq!(truncate("abcdef", 10), "abcdef");
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("日本語テキスト", 4).chars().count(), 4);
    }
}
