//! Timestamps as mail systems write them, turned into UTC seconds since the Unix epoch:
//! RFC 3339 / ISO 8601 (journal, Exim, Exchange logs, trace exports), RFC 5322 dates (DSN
//! fields), BSD syslog (no year: taken from the reference time), and the US forms of
//! Exchange NDRs and message traces (`3/5/2026 9:14:02 AM`). A leaf module: no other
//! module of the crate is used here.

use jiff::{Timestamp, civil, tz::Offset};
use std::time::Duration;

/// UTC seconds of a civil date and time, if it is one (1970 to 9999; a leap second `:60`
/// counts as `:59`).
fn epoch(y: i64, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> Option<i64> {
    if !(1970..=9999).contains(&y) || s > 60 {
        return None;
    }
    let small = |n: u32| i8::try_from(n).ok();
    let dt = civil::DateTime::new(
        i16::try_from(y).ok()?,
        small(mo)?,
        small(d)?,
        small(h)?,
        small(mi)?,
        small(s.min(59))?,
        0,
    )
    .ok()?;
    Offset::UTC.to_timestamp(dt).ok().map(|t| t.as_second())
}

/// The UTC calendar year of a time in UTC seconds (1970 when out of range).
fn year_of(t: i64) -> i64 {
    Timestamp::from_second(t).map_or(1970, |ts| i64::from(Offset::UTC.to_datetime(ts).year()))
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

fn month(s: &str) -> Option<u32> {
    let s = s.get(..3)?.to_ascii_lowercase();
    MONTHS.iter().position(|m| *m == s).map(|i| i as u32 + 1)
}

/// Splits on anything that is not a letter, digit or sign, keeping `+`/`-` offsets.
struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Cursor<'a> {
    fn num(&mut self, min: usize, max: usize) -> Option<u32> {
        let start = self.i;
        while self.i < self.s.len() && self.s[self.i].is_ascii_digit() && self.i - start < max {
            self.i += 1;
        }
        if self.i - start < min {
            return None;
        }
        std::str::from_utf8(&self.s[start..self.i])
            .ok()?
            .parse()
            .ok()
    }
    fn eat(&mut self, c: u8) -> bool {
        if self.s.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn spaces(&mut self) {
        while self
            .s
            .get(self.i)
            .is_some_and(|b| *b == b' ' || *b == b'\t')
        {
            self.i += 1;
        }
    }
    fn word(&mut self) -> &'a str {
        let start = self.i;
        while self.s.get(self.i).is_some_and(u8::is_ascii_alphabetic) {
            self.i += 1;
        }
        std::str::from_utf8(&self.s[start..self.i]).unwrap_or("")
    }
    fn rest(&self) -> &'a [u8] {
        &self.s[self.i.min(self.s.len())..]
    }
}

/// A numeric zone (`Z`, `+0900`, `+09:00`, `-0400`) or a few RFC 5322 names, in seconds east.
/// The zone after a time: its offset in seconds, `Some(None)` when there is none (UTC is
/// assumed), `None` when an offset is there but malformed (`+99:99`).
fn zone(c: &mut Cursor<'_>) -> Option<Option<i64>> {
    c.spaces();
    match c.s.get(c.i) {
        Some(b'Z') | Some(b'z') => {
            c.i += 1;
            Some(Some(0))
        }
        Some(&sign @ (b'+' | b'-')) => {
            c.i += 1;
            let h = i64::from(c.num(2, 2)?);
            c.eat(b':');
            let m = i64::from(c.num(2, 2).unwrap_or(0));
            // an offset is at most 23:59 (RFC 3339, RFC 5322)
            if h > 23 || m > 59 {
                return None;
            }
            let off = h * 3600 + m * 60;
            Some(Some(if sign == b'-' { -off } else { off }))
        }
        _ => Some(match c.word().to_ascii_uppercase().as_str() {
            "UT" | "UTC" | "GMT" => Some(0),
            "EST" => Some(-5 * 3600),
            "EDT" => Some(-4 * 3600),
            "CST" => Some(-6 * 3600),
            "CDT" => Some(-5 * 3600),
            "MST" => Some(-7 * 3600),
            "MDT" => Some(-6 * 3600),
            "PST" => Some(-8 * 3600),
            "PDT" => Some(-7 * 3600),
            "JST" => Some(9 * 3600),
            _ => None,
        }),
    }
}

fn hms(c: &mut Cursor<'_>) -> Option<(u32, u32, u32)> {
    let h = c.num(1, 2)?;
    if !c.eat(b':') {
        return None;
    }
    let m = c.num(2, 2)?;
    let s = if c.eat(b':') { c.num(2, 2)? } else { 0 };
    // fractions of a second
    if c.eat(b'.') || c.eat(b',') {
        c.num(1, 9);
    }
    Some((h, m, s))
}

/// `2026-03-04T12:33:10.123Z`, `2026-03-04 12:33:10 +0900`, `2026-03-04 12:33:10` (UTC).
fn iso(s: &str) -> Option<i64> {
    let mut c = Cursor {
        s: s.as_bytes(),
        i: 0,
    };
    let y = i64::from(c.num(4, 4)?);
    if !c.eat(b'-') {
        return None;
    }
    let mo = c.num(2, 2)?;
    c.eat(b'-').then_some(())?;
    let d = c.num(2, 2)?;
    if !(c.eat(b'T') || c.eat(b't') || c.eat(b' ')) {
        return epoch(y, mo, d, 0, 0, 0);
    }
    let (h, mi, se) = hms(&mut c)?;
    let off = zone(&mut c)?.unwrap_or(0);
    Some(epoch(y, mo, d, h, mi, se)? - off)
}

/// `Thu, 5 Mar 2026 09:12:44 +0000`, `5 Mar 2026 09:12:44 -0400 (EDT)`.
fn rfc5322(s: &str) -> Option<i64> {
    let mut c = Cursor {
        s: s.as_bytes(),
        i: 0,
    };
    c.spaces();
    let w = c.word();
    if !w.is_empty() {
        // a day name, then a comma
        c.eat(b',');
        c.spaces();
    }
    let d = c.num(1, 2)?;
    c.spaces();
    let mo = month(c.word())?;
    c.spaces();
    let y = i64::from(c.num(4, 4)?);
    c.spaces();
    let (h, mi, se) = hms(&mut c)?;
    let off = zone(&mut c)?.unwrap_or(0);
    Some(epoch(y, mo, d, h, mi, se)? - off)
}

/// `3/5/2026 9:14:02 AM` (month first, as Exchange and the EAC write it; UTC).
fn us(s: &str) -> Option<i64> {
    let mut c = Cursor {
        s: s.as_bytes(),
        i: 0,
    };
    let mo = c.num(1, 2)?;
    c.eat(b'/').then_some(())?;
    let d = c.num(1, 2)?;
    c.eat(b'/').then_some(())?;
    let y = i64::from(c.num(4, 4)?);
    c.spaces();
    let (mut h, mi, se) = hms(&mut c)?;
    c.spaces();
    let ampm = c.word().to_ascii_uppercase();
    match ampm.as_str() {
        "AM" if h == 12 => h = 0,
        "PM" if h < 12 => h += 12,
        _ => {}
    }
    let off = zone(&mut c)?.unwrap_or(0);
    Some(epoch(y, mo, d, h, mi, se)? - off)
}

/// `Mar  4 12:33:10` (BSD syslog): the year is the one that puts the time nearest before
/// `now` (a December line read in January belongs to last year).
fn syslog(s: &str, now: i64) -> Option<i64> {
    let mut c = Cursor {
        s: s.as_bytes(),
        i: 0,
    };
    let mo = month(c.word())?;
    c.spaces();
    let d = c.num(1, 2)?;
    c.spaces();
    let (h, mi, se) = hms(&mut c)?;
    if !c.rest().is_empty() && !c.rest().starts_with(b" ") {
        return None;
    }
    let ny = year_of(now);
    let this = epoch(ny, mo, d, h, mi, se)?;
    // a log line from "the future" by more than a day is last year's
    if this > now + 86_400 {
        epoch(ny - 1, mo, d, h, mi, se)
    } else {
        Some(this)
    }
}

/// The current time in UTC seconds.
pub fn system_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Parses any of the forms above; `now` (UTC seconds) supplies a syslog line's year.
pub fn parse(s: &str, now: i64) -> Option<i64> {
    let s = s.trim();
    let first = *s.as_bytes().first()?;
    if first.is_ascii_digit() {
        if s.len() >= 10 && s.as_bytes().get(4) == Some(&b'-') {
            return iso(s);
        }
        if s.contains('/') {
            return us(s);
        }
        return rfc5322(s);
    }
    syslog(s, now).or_else(|| rfc5322(s))
}

/// Parses a timestamp flag's value (`--now`): RFC 3339, or another form [`parse`] reads;
/// the error says why not, as a flag's error.
pub fn parse_flag(s: &str, now: i64) -> Result<i64, TimestampError> {
    if let Some(t) = parse(s, now) {
        return Ok(t);
    }
    let t = s.trim();
    let field = |r: std::ops::Range<usize>| t.get(r).and_then(|f| f.parse::<i16>().ok());
    let dashes = t.as_bytes().get(4) == Some(&b'-') && t.as_bytes().get(7) == Some(&b'-');
    if let (true, Some(y), Some(m), Some(d)) = (dashes, field(0..4), field(5..7), field(8..10))
        && civil::Date::new(y, m as i8, d as i8).is_err()
    {
        return Err(TimestampError::NoSuchDay(format!("{y:04}-{m:02}-{d:02}")));
    }
    Err(TimestampError::NotATimestamp)
}

/// RFC 3339 in UTC: `2026-03-04T12:33:10Z` (a time beyond the years -9999 to 9999 is shown
/// as the calendar's end: an expiry 100 years after 9999 never comes).
pub fn rfc3339(t: i64) -> String {
    let dt = match Timestamp::from_second(t) {
        Ok(ts) => Offset::UTC.to_datetime(ts),
        Err(_) if t > 0 => civil::DateTime::MAX,
        Err(_) => civil::DateTime::MIN,
    };
    dt.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// `t` with each run of digits made `1`.
fn digits_as_one(t: &str) -> String {
    let mut out = String::with_capacity(t.len());
    let mut in_digits = false;
    for c in t.chars() {
        if c.is_ascii_digit() {
            if !in_digits {
                out.push('1');
            }
            in_digits = true;
        } else {
            out.push(c);
            in_digits = false;
        }
    }
    out
}

/// A duration in its largest whole unit, as a flag would take it: `24h`, `5d`, `90s`.
pub fn short_duration(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        _ if d.subsec_millis() != 0 || s == 0 => format!("{}ms", d.as_millis()),
        _ if s.is_multiple_of(86_400) && s >= 2 * 86_400 => format!("{}d", s / 86_400),
        _ if s.is_multiple_of(3600) => format!("{}h", s / 3600),
        _ if s.is_multiple_of(60) => format!("{}m", s / 60),
        _ => format!("{s}s"),
    }
}

/// A duration for people: `3h 10m`, `2d 4h`, `45m`, `20s`.
pub fn human_duration(secs: i64) -> String {
    let s = secs.abs();
    let (d, h, m) = (s / 86_400, s % 86_400 / 3600, s % 3600 / 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, m) => format!("{m}m"),
        (0, h, m) => format!("{h}h {m}m"),
        (d, h, _) => format!("{d}d {h}h"),
    }
}

/// The longest retry window taken (100 years): anything longer is a typo, and would overflow
/// the time arithmetic it is added to.
pub const MAX_DURATION: i64 = 100 * 366 * 86_400;

/// What a duration flag takes, for its help and its errors.
pub const DURATION_FORMS: &str = "a number and a unit: 500ms, 30s, 2m, 24h, 5d, 1w, 2d12h";

/// Why a duration flag's value is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// A bare number: its unit would be a guess.
    #[error("no unit (expected {DURATION_FORMS})")]
    NoUnit,
    /// Not the grammar.
    #[error("not a duration (expected {DURATION_FORMS})")]
    NotADuration,
    /// Zero or negative.
    #[error("not more than zero")]
    NotPositive,
    /// Longer than the flag allows (its limit, as a flag would take it).
    #[error("longer than {0}")]
    TooLong(String),
}

/// Why a timestamp flag's value is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimestampError {
    /// A date that is not a day of the calendar (`2026-02-31`).
    #[error("{0} is not a day of the calendar")]
    NoSuchDay(String),
    /// None of the forms a timestamp is read in.
    #[error("not a timestamp (expected RFC 3339, e.g. 2026-03-05T09:00:00Z)")]
    NotATimestamp,
}

/// Parses the value of a duration flag (every flag takes the same grammar): numbers with
/// units, `500ms`, `30s`, `2m`, `24h`, `5d`, `1w`, `2d12h`, `1h 30m`, or ISO 8601 `PT30S`;
/// a day is 24 hours. A unit is required: a bare `24` could mean seconds or hours. The
/// result is more than zero and at most `max`.
pub fn parse_duration(s: &str, max: Duration) -> Result<Duration, DurationError> {
    let t = s.trim();
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DurationError::NoUnit);
    }
    let too_long = || DurationError::TooLong(short_duration(max));
    let span: jiff::Span = t.parse().map_err(|_| {
        // what parses with every number made 1 failed for its size
        let ones = digits_as_one(t);
        if ones.parse::<jiff::Span>().is_ok() {
            too_long()
        } else {
            DurationError::NotADuration
        }
    })?;
    let signed = span
        .to_duration(jiff::SpanRelativeTo::days_are_24_hours())
        .map_err(|_| too_long())?;
    if signed.is_negative() || signed.is_zero() {
        return Err(DurationError::NotPositive);
    }
    let d = Duration::try_from(signed).map_err(|_| too_long())?;
    if d > max {
        return Err(too_long());
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_772_700_000; // 2026-03-05T08:40:00Z

    #[test]
    fn civil_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(NOW), "2026-03-05T08:40:00Z");
        assert_eq!(rfc3339(i64::MAX), "9999-12-31T23:59:59Z");
        assert_eq!(epoch(2000, 2, 29, 0, 0, 0), Some(951_782_400));
        assert_eq!(epoch(2026, 12, 31, 23, 59, 60), Some(1_798_761_599));
        for bad in [
            (2026, 2, 29),
            (2026, 2, 31),
            (2026, 4, 31),
            (1969, 12, 31),
            (2026, 13, 1),
        ] {
            assert_eq!(epoch(bad.0, bad.1, bad.2, 0, 0, 0), None, "{bad:?}");
        }
        assert_eq!((year_of(0), year_of(NOW)), (1970, 2026));
        assert_eq!(parse_flag("2026-03-05T08:40:00Z", 0), Ok(NOW));
        assert_eq!(
            parse_flag("2026-02-31T00:00:00Z", NOW)
                .unwrap_err()
                .to_string(),
            "2026-02-31 is not a day of the calendar"
        );
        assert_eq!(
            parse_flag("yesterday", NOW),
            Err(TimestampError::NotATimestamp)
        );
    }

    #[test]
    fn forms() {
        let t = |s: &str| parse(s, NOW).map(rfc3339);
        assert_eq!(
            t("2026-03-04T12:33:10.123Z").as_deref(),
            Some("2026-03-04T12:33:10Z")
        );
        assert_eq!(
            t("2026-03-04 12:33:10 +0900").as_deref(),
            Some("2026-03-04T03:33:10Z")
        );
        assert_eq!(
            t("2026-03-04T12:33:10+09:00").as_deref(),
            Some("2026-03-04T03:33:10Z")
        );
        assert_eq!(
            t("2026-03-04 12:33:10").as_deref(),
            Some("2026-03-04T12:33:10Z")
        );
        assert_eq!(
            t("Thu, 5 Mar 2026 09:12:44 +0000").as_deref(),
            Some("2026-03-05T09:12:44Z")
        );
        assert_eq!(
            t("Wed, 13 Apr 2016 09:08:47 -0400").as_deref(),
            Some("2016-04-13T13:08:47Z")
        );
        assert_eq!(
            t("Thu, 15 Oct 2015 15:22:22 +0900 (JST)").as_deref(),
            Some("2015-10-15T06:22:22Z")
        );
        assert_eq!(
            t("3/5/2026 9:14:02 AM").as_deref(),
            Some("2026-03-05T09:14:02Z")
        );
        assert_eq!(
            t("3/5/2026 12:14:02 AM").as_deref(),
            Some("2026-03-05T00:14:02Z")
        );
        assert_eq!(
            t("11/1/2017 12:12:45 PM").as_deref(),
            Some("2017-11-01T12:12:45Z")
        );
        assert_eq!(
            t("Mar  4 12:33:10").as_deref(),
            Some("2026-03-04T12:33:10Z")
        );
        assert_eq!(
            t("Dec 31 23:59:59").as_deref(),
            Some("2025-12-31T23:59:59Z")
        );
        assert_eq!(t("Nov 9 12:01:31").as_deref(), Some("2025-11-09T12:01:31Z"));
        assert_eq!(t("not a date"), None);
        assert_eq!(t("2026-13-04T12:33:10Z"), None);
        assert_eq!(t("99/99/2026 1:00:00 PM"), None);
    }

    #[test]
    fn durations() {
        let year = Duration::from_secs(366 * 86_400);
        let secs = |s: &str| {
            parse_duration(s, year)
                .map(|d| d.as_millis())
                .map_err(|e| e.to_string())
        };
        for (text, ms) in [
            ("24h", 86_400_000),
            ("5d", 432_000_000),
            ("2d12h", 216_000_000),
            ("2d 12h", 216_000_000),
            ("90m", 5_400_000),
            ("1w", 604_800_000),
            ("500ms", 500),
            (" 30s ", 30_000),
            ("1h30m", 5_400_000),
            ("PT30S", 30_000),
        ] {
            assert_eq!(secs(text), Ok(ms), "{text}");
        }
        for bad in [
            "36",
            "5x",
            "",
            "0h",
            "-5h",
            "1 month",
            "99999999999h",
            "2562047788015215h",
            "367d",
        ] {
            assert!(secs(bad).is_err(), "{bad}");
        }
        assert_eq!(
            secs("36").unwrap_err(),
            format!("no unit (expected {DURATION_FORMS})")
        );
        assert_eq!(secs("367d").unwrap_err(), "longer than 366d");
        assert_eq!(secs("99999999999h").unwrap_err(), "longer than 366d");
        assert!(secs("5x").unwrap_err().starts_with("not a duration"));
        assert_eq!(short_duration(Duration::from_secs(86_400)), "24h");
        assert_eq!(short_duration(Duration::from_secs(90)), "90s");
        assert_eq!(short_duration(Duration::from_millis(1500)), "1500ms");
        assert_eq!(human_duration(3 * 3600 + 10 * 60), "3h 10m");
        assert_eq!(human_duration(-7200), "2h 0m");
        assert_eq!(human_duration(2 * 86_400 + 4 * 3600), "2d 4h");
    }
}
