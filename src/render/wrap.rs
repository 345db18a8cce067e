//! Wrapping the human output to the terminal: a writer that re-flows each line longer than
//! the width at word boundaries, continuing it under its own text (a hanging indent after a
//! list marker `1. `, `- `, or a `key: ` label; an excerpt's `| ` is repeated). Widths are
//! display columns (East Asian wide characters count two, escape sequences none); a word is
//! never split, and Japanese text, which has no spaces, breaks between its characters but
//! not before closing or after opening punctuation.

use std::io::{self, Write};
use textwrap::core::Word;
use unicode_width::UnicodeWidthChar;

/// Wraps what is written to `inner` at `width` columns, line by line.
pub struct Wrap<W: Write> {
    inner: W,
    width: usize,
    line: Vec<u8>,
    /// Long lines already wrapped, and how: a log's findings repeat their entries' causes
    /// and steps thousands of times (bounded: cleared when full).
    wrapped: std::collections::HashMap<Vec<u8>, Vec<u8>>,
    wrapped_bytes: usize,
}

/// How much wrapped text `Wrap` remembers.
const WRAPPED_BYTES: usize = 4 << 20;

impl<W: Write> Wrap<W> {
    pub fn new(inner: W, width: usize) -> Wrap<W> {
        Wrap {
            inner,
            width: width.max(20),
            line: Vec::new(),
            wrapped: std::collections::HashMap::new(),
            wrapped_bytes: 0,
        }
    }

    fn emit(&mut self) -> io::Result<()> {
        let line = std::mem::take(&mut self.line);
        // no wider than its bytes: a line that short fits
        if line.len() <= self.width {
            self.inner.write_all(&line)?;
            self.inner.write_all(b"\n")?;
        } else if let Some(out) = self.wrapped.get(&line) {
            self.inner.write_all(out)?;
        } else {
            let out = match std::str::from_utf8(&line) {
                Ok(text)
                    if printable_ascii(text)
                        || textwrap::core::display_width(text) > self.width =>
                {
                    let mut out = Vec::with_capacity(line.len() + 64);
                    for l in wrap_line(text, self.width) {
                        out.extend_from_slice(l.as_bytes());
                        out.push(b'\n');
                    }
                    out
                }
                _ => [&line[..], b"\n"].concat(),
            };
            self.inner.write_all(&out)?;
            if self.wrapped_bytes > WRAPPED_BYTES {
                self.wrapped.clear();
                self.wrapped_bytes = 0;
            }
            self.wrapped_bytes += 2 * line.len() + 64;
            self.wrapped.insert(line.clone(), out);
        }
        self.line = line;
        self.line.clear();
        Ok(())
    }
}

impl<W: Write> Write for Wrap<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut rest = buf;
        while let Some(nl) = memchr::memchr(b'\n', rest) {
            self.line.extend_from_slice(&rest[..nl]);
            self.emit()?;
            rest = &rest[nl + 1..];
        }
        self.line.extend_from_slice(rest);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        // a partial line stays until its end: it cannot be wrapped before
        self.inner.flush()
    }
}

impl<W: Write> Drop for Wrap<W> {
    fn drop(&mut self) {
        if !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            // nowhere to report a failure from a drop: the driver flushes before this
            let _ = self.inner.write_all(&line);
            let _ = self.inner.flush();
        }
    }
}

/// A line cut to `width` display columns, marked with `…` when cut.
pub fn cut(s: &str, width: usize) -> std::borrow::Cow<'_, str> {
    if textwrap::core::display_width(s) <= width {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > width {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    std::borrow::Cow::Owned(out)
}

/// The indent a line's continuation gets: under the text after its indent and list marker.
fn hang(line: &str) -> String {
    let indent = line.len() - line.trim_start_matches(' ').len();
    let body = &line[indent..];
    let pad = |n: usize| " ".repeat(n);
    // a numbered step `12. `
    let digits = body.bytes().take_while(u8::is_ascii_digit).count();
    if digits > 0 && body[digits..].starts_with(". ") {
        return pad(indent + digits + 2);
    }
    if body.starts_with("- ") {
        return pad(indent + 2);
    }
    // an excerpt of the input: every line of it marked
    if body.starts_with("| ") || body.starts_with("\u{1b}[2m| ") {
        return format!("{}| ", pad(indent));
    }
    pad(indent + 2)
}

/// One long line wrapped to `width` columns.
pub fn wrap_line(line: &str, width: usize) -> Vec<String> {
    let indent = line.len() - line.trim_start_matches(' ').len();
    let rest = hang(line);
    let opts = textwrap::Options::new(width)
        .initial_indent(&line[..indent])
        .subsequent_indent(&rest)
        .break_words(false)
        .word_splitter(textwrap::WordSplitter::NoHyphenation)
        .word_separator(textwrap::WordSeparator::Custom(words));
    textwrap::wrap(&line[indent..], &opts)
        .into_iter()
        .map(|l| l.trim_end().to_string())
        .collect()
}

/// Characters a line must not start with (closing punctuation, Japanese small kana marks).
fn no_break_before(c: char) -> bool {
    "、。，．・：；！？）」』】〕〉》ー々ゝゞ,.;:!?)]}".contains(c)
}

/// Characters a line must not end with (opening punctuation).
fn no_break_after(c: char) -> bool {
    "（「『【〔〈《([{".contains(c)
}

/// Whether every character of `s` is printable ASCII, one column each (a log's lines, the
/// English texts): then a width is a length.
fn printable_ascii(s: &str) -> bool {
    s.bytes().all(|b| (b' '..=b'~').contains(&b))
}

/// Words for wrapping: runs between spaces, and each wide (East Asian) character on its own,
/// so Japanese breaks between characters and a command's `-vz` never from its word.
fn words(line: &str) -> Box<dyn Iterator<Item = Word<'_>> + '_> {
    if printable_ascii(line) {
        Box::new(ascii_words(line))
    } else {
        Box::new(any_words(line).into_iter())
    }
}

/// `words` for any text, character by character.
fn any_words(line: &str) -> Vec<Word<'_>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut prev: Option<char> = None;
    let wide = |c: char| c.width() == Some(2);
    for (i, c) in line.char_indices() {
        if let Some(p) = prev {
            let after_space = p == ' ' && c != ' ';
            let between_wide = (wide(c) || wide(p))
                && c != ' '
                && p != ' '
                && !no_break_before(c)
                && !no_break_after(p);
            if after_space || between_wide {
                out.push(Word::from(&line[start..i]));
                start = i;
            }
        }
        prev = Some(c);
    }
    if start < line.len() {
        out.push(Word::from(&line[start..]));
    }
    out
}

/// `words` for printable ASCII: runs that end in their spaces, as wide as they are long
/// (what `Word::from` gives, without measuring each character).
fn ascii_words(line: &str) -> impl Iterator<Item = Word<'_>> + '_ {
    let bytes = line.as_bytes();
    let mut start = 0;
    let ends = (1..=bytes.len())
        .filter(move |&i| i == bytes.len() || (bytes[i - 1] == b' ' && bytes[i] != b' '));
    ends.map(move |end| {
        let run = &line[start..end];
        start = end;
        let word = run.trim_end_matches(' ');
        Word {
            word,
            whitespace: &run[word.len()..],
            penalty: "",
            width: word.len(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wrapped(text: &str, width: usize) -> String {
        let mut out = Vec::new();
        {
            let mut w = Wrap::new(&mut out, width);
            w.write_all(text.as_bytes()).unwrap();
            w.flush().unwrap();
        }
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn long_lines_wrap_under_their_text() {
        let out = wrapped(
            "    3. From the Postfix host, test the destination port: nc -vz mx.example.org 25. If it fails only from this host, check its outbound firewall.\nshort\n",
            40,
        );
        for l in out.lines() {
            assert!(textwrap::core::display_width(l) <= 40, "{l:?}");
        }
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines[0].starts_with("    3. From"));
        assert!(lines[1].starts_with("       "), "{lines:?}");
        assert!(out.contains("nc -vz") || out.contains("-vz"));
        assert!(
            !out.lines()
                .any(|l| l.ends_with("-") || l.trim_start().starts_with("vz"))
        );
        assert_eq!(*lines.last().unwrap(), "short");
    }

    #[test]
    fn japanese_breaks_between_characters_and_counts_double_width() {
        let out = wrapped(
            "  意味: メール サーバーが宛先のメール サーバーへの接続を開けませんでした。タイムアウトまで何も応答しませんでした。\n",
            30,
        );
        for l in out.lines() {
            assert!(textwrap::core::display_width(l) <= 30, "{l:?}");
            assert!(!l.trim_start().starts_with('。'), "{l:?}");
        }
        assert!(out.lines().count() > 2);
    }

    #[test]
    fn ascii_words_are_the_words_of_the_general_path() {
        for line in [
            "",
            " ",
            "a",
            "status=deferred (connect to mx.example.org[192.0.2.1]:25: Connection refused)",
            "two  spaces   and trailing  ",
            "  leading",
            "nc -vz mx.example.org 25.",
        ] {
            let fast: Vec<Word> = ascii_words(line).collect();
            assert_eq!(fast, any_words(line), "{line:?}");
        }
        assert!(printable_ascii("a b ~"));
        assert!(!printable_ascii("a\tb") && !printable_ascii("\u{1b}[2m") && !printable_ascii("é"));
    }

    #[test]
    fn excerpts_keep_their_marker() {
        let out = wrapped(
            "  | Mar  4 12:33:10 mx1 postfix/smtp[21877]: 4QbZ2x1Hj7z9vN: to=<dana@example.com>, relay=none, status=deferred\n",
            50,
        );
        assert!(out.lines().all(|l| l.starts_with("  | ")), "{out}");
    }
}
