//! Timestamps as mail systems write them, turned into UTC seconds since the Unix epoch:
//! RFC 3339 / ISO 8601 (journal, Exim, Exchange logs, trace exports), RFC 5322 dates (DSN
//! fields), BSD syslog (no year: taken from the reference time), and the US forms of
//! Exchange NDRs and message traces (`3/5/2026 9:14:02 AM`). A leaf module: no other
//! module of the crate is used here.

/// Days from 1970-01-01 to a civil date (proleptic Gregorian).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day count from 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Days in a month of the proleptic Gregorian calendar.
fn days_in_month(y: i64, mo: u32) -> u32 {
    match mo {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn valid(y: i64, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> bool {
    (1970..=9999).contains(&y)
        && (1..=12).contains(&mo)
        && d >= 1
        && d <= days_in_month(y, mo)
        && h < 24
        && mi < 60
        && s <= 60
}

fn epoch(y: i64, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> Option<i64> {
    valid(y, mo, d, h, mi, s)
        .then(|| days_from_civil(y, mo, d) * 86_400 + i64::from(h * 3600 + mi * 60 + s.min(59)))
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
    let (ny, _, _) = civil_from_days(now.div_euclid(86_400));
    let this = epoch(ny, mo, d, h, mi, se)?;
    // a log line from "the future" by more than a day is last year's
    if this > now + 86_400 {
        epoch(ny - 1, mo, d, h, mi, se)
    } else {
        Some(this)
    }
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

/// RFC 3339 in UTC: `2026-03-04T12:33:10Z`.
pub fn rfc3339(t: i64) -> String {
    let (y, m, d) = civil_from_days(t.div_euclid(86_400));
    let secs = t.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
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

/// The longest duration taken (100 years): anything longer is a typo, and would overflow the
/// time arithmetic it is added to.
pub const MAX_DURATION: i64 = 100 * 366 * 86_400;

/// Parses a duration: `24h`, `5d`, `90m`, `2d12h`, `3600s`, `1w`; a bare number is hours.
/// None beyond [`MAX_DURATION`].
pub fn parse_duration(s: &str) -> Option<i64> {
    parse_any_duration(s).filter(|d| (0..=MAX_DURATION).contains(d))
}

fn parse_any_duration(s: &str) -> Option<i64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Ok(h) = s.parse::<i64>() {
        return h.checked_mul(3600);
    }
    let mut total: i64 = 0;
    let mut num = String::new();
    for ch in s.chars() {
        if ch.is_ascii_digit() {
            num.push(ch);
            continue;
        }
        let n: i64 = num.parse().ok()?;
        num.clear();
        let unit = match ch {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 7 * 86_400,
            _ => return None,
        };
        total = total.checked_add(n.checked_mul(unit)?)?;
    }
    if !num.is_empty() {
        return None;
    }
    (total > 0).then_some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_772_700_000; // 2026-03-05T08:40:00Z

    #[test]
    fn civil_round_trip() {
        for days in [-1, 0, 1, 59, 365, 10_957, 20_517, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(NOW), "2026-03-05T08:40:00Z");
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
        assert_eq!(parse_duration("24h"), Some(86_400));
        assert_eq!(parse_duration("5d"), Some(432_000));
        assert_eq!(parse_duration("2d12h"), Some(216_000));
        assert_eq!(parse_duration("90m"), Some(5400));
        assert_eq!(parse_duration("36"), Some(129_600));
        assert_eq!(parse_duration("5x"), None);
        assert_eq!(parse_duration(""), None);
        assert_eq!(parse_duration("0h"), None);
        assert_eq!(human_duration(3 * 3600 + 10 * 60), "3h 10m");
        assert_eq!(human_duration(-7200), "2h 0m");
        assert_eq!(human_duration(2 * 86_400 + 4 * 3600), "2d 4h");
    }
}
