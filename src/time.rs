//! Time without a clock: RFC 3339 instants, calendar dates, ISO 8601 durations and the
//! program's time zone. The zone arrives as a table of UTC-offset changes (the JS shim builds
//! it with `Intl`), which keeps the wasm free of a time-zone database and the engine pure.

use chrono::{DateTime, Datelike, Months, NaiveDate};


const MS_PER_DAY: i64 = 86_400_000;
/// The largest UTC offset a zone table may have (`Zone::validate`), in ms.
const MAX_OFFSET_MS: i64 = 18 * 3_600_000;

/// A calendar date, as days since 1970-01-01.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(pub i64);

/// Day 0 (1970-01-01) as chrono counts days from the common era.
const EPOCH_CE: i64 = 719_163;

impl Date {
    /// The chrono date; a day past chrono's range (hundreds of thousands of years, out of
    /// reach of any parsed date plus a bounded duration) reads as its nearest end.
    fn naive(self) -> NaiveDate {
        let d = i32::try_from(self.0 + EPOCH_CE).ok().and_then(NaiveDate::from_num_days_from_ce_opt);
        d.unwrap_or(if self.0 < 0 { NaiveDate::MIN } else { NaiveDate::MAX })
    }
    fn of(d: NaiveDate) -> Date {
        Date(d.num_days_from_ce() as i64 - EPOCH_CE)
    }
    pub fn from_ymd(y: i64, m: u32, d: u32) -> Option<Date> {
        if !(1..=9999).contains(&y) {
            return None;
        }
        NaiveDate::from_ymd_opt(y as i32, m, d).map(Date::of)
    }
    pub fn ymd(self) -> (i64, u32, u32) {
        let d = self.naive();
        (d.year() as i64, d.month(), d.day())
    }
    pub fn parse(s: &str) -> Option<Date> {
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        Date::from_ymd(s.get(0..4)?.parse().ok()?, s.get(5..7)?.parse().ok()?, s.get(8..10)?.parse().ok()?)
    }
    /// Adds a duration's calendar part: months first (clamped to the month's last day, so
    /// Jan 31 + P1M is Feb 28/29), then days.
    /// Past chrono's range the date stays at its end (see `naive`).
    pub fn add(self, d: &Duration, sign: i64) -> Date {
        let months = Months::new(d.months.unsigned_abs().min(u32::MAX as u64) as u32);
        let back = (sign < 0) != (d.months < 0);
        let moved = if back { self.naive().checked_sub_months(months) } else { self.naive().checked_add_months(months) };
        let moved = moved.unwrap_or(if back { NaiveDate::MIN } else { NaiveDate::MAX });
        Date(Date::of(moved).0 + sign * d.days)
    }
    pub fn next(self) -> Date {
        Date(self.0 + 1)
    }
    /// The ISO weekday: 1 for Monday to 7 for Sunday.
    pub fn weekday(self) -> u32 {
        self.naive().weekday().number_from_monday()
    }
    /// The month as one number, `year * 12 + (month - 1)`: consecutive months differ by 1.
    pub fn month_index(self) -> i64 {
        let (y, m, _) = self.ymd();
        y * 12 + m as i64 - 1
    }
}

impl Date {
    /// `yyyy-mm-dd` for years 0 to 9999, made on the stack (every ledger entry carries one);
    /// `None` beyond, where `Display` writes the year's sign and digits.
    pub(crate) fn ascii(self) -> Option<[u8; 10]> {
        let (y, m, d) = self.ymd();
        if !(0..=9999).contains(&y) {
            return None;
        }
        let mut b = *b"0000-00-00";
        for (at, n) in [(0, y as u32 / 100), (2, y as u32 % 100), (5, m), (8, d)] {
            b[at] = b'0' + (n / 10 % 10) as u8;
            b[at + 1] = b'0' + (n % 10) as u8;
        }
        Some(b)
    }

    /// `yyyy-mm-dd`, as `Display` writes it.
    pub fn text(self) -> String {
        self.to_string()
    }
}

/// Dates are stored as `yyyy-mm-dd` text.
impl serde::Serialize for Date {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text())
    }
}

#[cfg(feature = "schema")]
text_schema!(Date, "LocalDate", { "format": "date" });

impl<'de> serde::Deserialize<'de> for Date {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
        let s = std::borrow::Cow::<str>::deserialize(d)?;
        Date::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("invalid date \"{s}\"")))
    }
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `{y:04}-{m:02}-{d:02}`, without core::fmt's padding code.
        let (y, m, d) = self.ymd();
        let mut s = String::with_capacity(10);
        if y < 0 {
            s.push('-');
        }
        crate::money::push_digits(&mut s, y.unsigned_abs() as u128, if y < 0 { 3 } else { 4 });
        s.push('-');
        crate::money::push_digits(&mut s, m as u128, 2);
        s.push('-');
        crate::money::push_digits(&mut s, d as u128, 2);
        f.write_str(&s)
    }
}


/// Parses an RFC 3339 instant (`2026-11-24T10:00:00.5+01:00`) into UTC milliseconds.
/// An offset is required: a time without one means different instants in cart and webhook.
pub fn parse_instant(s: &str) -> Result<i64, String> {
    let err = || format!("\"{s}\" is not an RFC 3339 time with offset like \"2026-11-24T10:00:00+01:00\"");
    let t = DateTime::parse_from_rfc3339(s).map_err(|_| err())?;
    if !(1..=9999).contains(&t.year()) || t.offset().local_minus_utc().abs() >= 24 * 3600 {
        return Err(err());
    }
    // Milliseconds, truncated; a leap second (:60) reads as :59 and its fraction.
    Ok(t.timestamp() * 1000 + (t.timestamp_subsec_millis() % 1000) as i64)
}

/// Formats UTC milliseconds as RFC 3339 at the given offset (seconds), with milliseconds
/// only when they are not zero.
pub fn format_instant(utc_ms: i64, offset_s: i32) -> String {
    Stamp::new(utc_ms, offset_s).as_str().to_owned()
}

/// An instant's RFC 3339 text (`format_instant`), kept inline: every ledger entry carries
/// one, and a `String` was an allocation (and a reallocation) per entry.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    len: u8,
    /// Room for the longest: a year of nine digits and a sign, to the offset.
    text: [u8; 40],
}

impl Stamp {
    pub fn new(utc_ms: i64, offset_s: i32) -> Stamp {
        let local = utc_ms + offset_s as i64 * 1000;
        let date = Date(local.div_euclid(MS_PER_DAY));
        let t = local.rem_euclid(MS_PER_DAY);
        let (h, mi, s, ms) = (t / 3_600_000, t / 60_000 % 60, t / 1000 % 60, t % 1000);
        let mut out = Stamp { len: 0, text: [0; 40] };
        let two = |out: &mut Stamp, n: i64| out.push(&[b'0' + (n / 10 % 10) as u8, b'0' + (n % 10) as u8]);
        match date.ascii() {
            Some(d) => out.push(&d),
            None => out.push(date.to_string().as_bytes()),
        }
        out.push(b"T");
        two(&mut out, h);
        out.push(b":");
        two(&mut out, mi);
        out.push(b":");
        two(&mut out, s);
        if ms != 0 {
            out.push(&[b'.', b'0' + (ms / 100) as u8]);
            two(&mut out, ms % 100);
        }
        if offset_s == 0 {
            out.push(b"Z");
        } else {
            let a = (offset_s.unsigned_abs() / 60) as i64;
            out.push(if offset_s < 0 { b"-" } else { b"+" });
            two(&mut out, a / 60);
            out.push(b":");
            two(&mut out, a % 60);
        }
        out
    }

    /// Appends ASCII (what `new` writes always fits).
    fn push(&mut self, b: &[u8]) {
        for &c in b {
            if let Some(slot) = self.text.get_mut(self.len as usize) {
                *slot = c;
                self.len += 1;
            }
        }
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(self.text.get(..self.len as usize).unwrap_or_default()).unwrap_or_default()
    }
}

impl std::ops::Deref for Stamp {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl serde::Serialize for Stamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

// A stamp is written as its text (RFC 3339, in the program's zone).
#[cfg(feature = "schema")]
text_schema!(Stamp, "Stamp", { "format": "date-time" });

impl std::fmt::Debug for Stamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.as_str().fmt(f)
    }
}

impl PartialEq<&str> for Stamp {
    fn eq(&self, o: &&str) -> bool {
        self.as_str() == *o
    }
}

/// An ISO 8601 duration restricted to what loyalty programs use: years, months, weeks, days
/// and a time part. Months are calendar months, not 30 days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Duration {
    pub months: i64,
    pub days: i64,
    pub ms: i64,
}

impl Duration {
    pub fn months(n: i64) -> Duration {
        Duration { months: n, ..Duration::default() }
    }
    /// The most days the calendar part can span (a month is at most 31 days).
    pub fn max_days(&self) -> i64 {
        self.months * 31 + self.days
    }
    pub fn parse(s: &str) -> Result<Duration, String> {
        let err = || format!("\"{s}\" is not an ISO 8601 duration like \"P30D\", \"P2M\" or \"P1Y\"");
        let rest = s.strip_prefix('P').ok_or_else(err)?;
        let mut d = Duration::default();
        let (mut in_time, mut n, mut digits, mut any) = (false, 0i64, 0, false);
        for c in rest.chars() {
            match c {
                '0'..='9' => {
                    n = n.checked_mul(10).and_then(|n| n.checked_add(c as i64 - '0' as i64)).ok_or_else(err)?;
                    digits += 1;
                    if digits > 6 {
                        return Err(err());
                    }
                }
                'T' if !in_time && digits == 0 => in_time = true,
                _ if digits == 0 => return Err(err()),
                'Y' if !in_time => d.months += n * 12,
                'M' if !in_time => d.months += n,
                'W' if !in_time => d.days += n * 7,
                'D' if !in_time => d.days += n,
                'H' if in_time => d.ms += n * 3_600_000,
                'M' if in_time => d.ms += n * 60_000,
                'S' if in_time => d.ms += n * 1000,
                _ => return Err(err()),
            }
            if !c.is_ascii_digit() && c != 'T' {
                (n, digits, any) = (0, 0, true);
            }
        }
        if !any || digits != 0 {
            return Err(err());
        }
        Ok(d)
    }
}

/// A time zone as the UTC offsets it used: `offset` before the first change, then each
/// `[utc_seconds, offset_seconds]` from that instant on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zone {
    pub name: String,
    pub offset: i32,
    pub changes: Vec<(i64, i32)>,
}

impl Zone {
    /// Reads the table the JS shim builds: `{"name", "offset", "changes": [[t, offset], ...]}`.
    pub fn parse(json: &str) -> crate::error::Result<Zone> {
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Table {
            name: String,
            offset: i32,
            #[serde(default)]
            changes: Vec<(i64, i32)>,
        }
        let t: Table = crate::error::from_json("invalid_zone", json)?;
        Ok(Zone { name: t.name, offset: t.offset, changes: t.changes })
    }
    pub fn utc() -> Zone {
        Zone { name: "UTC".into(), offset: 0, changes: vec![] }
    }
    /// Checks the table is usable: sorted changes and offsets within ±18 hours.
    pub fn validate(&self) -> Result<(), String> {
        let ok = |o: i32| o.abs() as i64 * 1000 <= MAX_OFFSET_MS;
        if !ok(self.offset) || !self.changes.iter().all(|c| ok(c.1)) {
            return Err("offsets must be within ±18 hours".into());
        }
        if !self.changes.windows(2).all(|w| w[0].0 < w[1].0) {
            return Err("changes must be sorted by time".into());
        }
        Ok(())
    }
    /// The UTC offset in seconds at a UTC instant.
    pub fn offset_at(&self, utc_ms: i64) -> i32 {
        let t = utc_ms.div_euclid(1000);
        self.offset_after(self.changes.partition_point(|c| c.0 <= t))
    }
    /// The offset in force after the first `i` changes.
    fn offset_after(&self, i: usize) -> i32 {
        if i == 0 { self.offset } else { self.changes[i - 1].1 }
    }
    pub fn local_date(&self, utc_ms: i64) -> Date {
        Date((utc_ms + self.offset_at(utc_ms) as i64 * 1000).div_euclid(MS_PER_DAY))
    }
    /// The first instant of a local day. Where midnight falls in a DST gap, the day starts
    /// when the clocks jump forward.
    pub fn start_of_day(&self, d: Date) -> i64 {
        let local = d.0 * MS_PER_DAY;
        // No change within a day of local midnight (nearly every day): one offset holds for
        // the whole window, and midnight is `local - offset`. One search instead of three.
        let from = (local - MS_PER_DAY).div_euclid(1000);
        let i = self.changes.partition_point(|c| c.0 <= from);
        if self.changes.get(i).is_none_or(|c| c.0 > (local + MS_PER_DAY).div_euclid(1000)) {
            return local - self.offset_after(i) as i64 * 1000;
        }
        let before = self.offset_at(local - MS_PER_DAY) as i64 * 1000;
        let after = self.offset_at(local + MS_PER_DAY) as i64 * 1000;
        for off in [before, after] {
            let t = local - off;
            if self.offset_at(t) as i64 * 1000 == off {
                return t;
            }
        }
        local - before
    }
    /// No later than `start_of_day(d)` in any valid zone, without looking anything up: rules
    /// use it to skip exact day boundaries that are plainly still far off.
    pub fn earliest_start(d: Date) -> i64 {
        d.0 * MS_PER_DAY - MAX_OFFSET_MS
    }
    /// The exclusive end of a local day: the start of the next one.
    pub fn end_of_day(&self, d: Date) -> i64 {
        self.start_of_day(d.next())
    }
    /// Where a duration from `at` ends, through the end of a local day: exactly `at + d` for
    /// a time-only duration (`PT72H`); otherwise the time part is added first and the
    /// calendar part counted in local dates, and the day it reaches is included (a coupon's
    /// validity, a return window).
    pub fn after(&self, at: i64, d: &Duration) -> i64 {
        self.span(at, d, true)
    }
    /// Like `after`, but the day reached starts the period rather than ending it (a
    /// win-back offer's quiet period is over as that day begins).
    pub fn reached(&self, at: i64, d: &Duration) -> i64 {
        self.span(at, d, false)
    }
    fn span(&self, at: i64, d: &Duration, through: bool) -> i64 {
        if d.months == 0 && d.days == 0 {
            return at + d.ms;
        }
        let day = self.local_date(at + d.ms).add(d, 1);
        if through { self.end_of_day(day) } else { self.start_of_day(day) }
    }
    pub fn format(&self, utc_ms: i64) -> String {
        format_instant(utc_ms, self.offset_at(utc_ms))
    }
    /// `format` without an allocation.
    pub fn stamp(&self, utc_ms: i64) -> Stamp {
        Stamp::new(utc_ms, self.offset_at(utc_ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Europe/Oslo for 2026-2027: CET (+1), CEST (+2) from the last Sunday of March 01:00 UTC
    /// to the last Sunday of October 01:00 UTC.
    pub fn oslo() -> Zone {
        let at = |s: &str| parse_instant(s).unwrap() / 1000;
        Zone {
            name: "Europe/Oslo".into(),
            offset: 3600,
            changes: vec![
                (at("2026-03-29T01:00:00Z"), 7200),
                (at("2026-10-25T01:00:00Z"), 3600),
                (at("2027-03-28T01:00:00Z"), 7200),
                (at("2027-10-31T01:00:00Z"), 3600),
            ],
        }
    }

    #[test]
    fn civil_dates_round_trip() {
        for z in [-800_000, -1, 0, 1, 10_957, 20_000, 2_900_000] {
            let (y, m, d) = Date(z).ymd();
            assert_eq!(Date::of(NaiveDate::from_ymd_opt(y as i32, m, d).unwrap()), Date(z));
        }
        assert_eq!(Date::parse("2024-02-29").unwrap().to_string(), "2024-02-29");
        assert!(Date::parse("2023-02-29").is_none());
        assert!(Date::parse("2023-13-01").is_none());
    }

    #[test]
    fn parses_and_formats_instants() {
        let t = parse_instant("2026-11-24T10:00:00.5+01:00").unwrap();
        assert_eq!(format_instant(t, 0), "2026-11-24T09:00:00.500Z");
        assert_eq!(format_instant(t - 495, 0), "2026-11-24T09:00:00.005Z");
        assert_eq!(format_instant(t - 450, -(9 * 3600 + 30 * 60)), "2026-11-23T23:30:00.050-09:30");
        for days in [0, 1, -1, 59, 365 * 3000, 800 * 365, -719_000, -720_000, -800_000, 3_000_000, -3_000_000] {
            let (y, m, d) = Date(days).ymd();
            assert_eq!(Date(days).to_string(), format!("{y:04}-{m:02}-{d:02}"));
        }
        // The far end of chrono's range: far beyond any date a program can reach.
        let far = 260_000 * 365;
        assert!(format_instant(far * 86_400_000, 0).starts_with(&(Date(far).to_string() + "T00:00:00Z")));
        assert_eq!(format_instant(t, 3600), "2026-11-24T10:00:00.500+01:00");
        assert_eq!(parse_instant("2026-11-24T09:00:00.500Z"), Ok(t));
        for same in ["2026-11-24 09:00:00.5Z", "2026-11-24t09:00:00.5z", "2026-11-24T10:00:00.500999999999+01:00"] {
            assert_eq!(parse_instant(same), Ok(t), "{same}");
        }
        assert_eq!(format_instant(parse_instant("2026-01-01T00:00:00-05:30").unwrap(), -19800), "2026-01-01T00:00:00-05:30");
        for bad in ["2026-11-24", "2026-11-24T10:00:00", "2026-11-24T25:00:00Z", "2026-02-30T10:00:00Z", "2026-11-24T10:00:00+1:00", "x", "2026-11-24T10:00:00é0:00"] {
            assert!(parse_instant(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn durations() {
        assert_eq!(Duration::parse("P30D"), Ok(Duration { days: 30, ..Default::default() }));
        assert_eq!(Duration::parse("P1Y2M"), Ok(Duration { months: 14, ..Default::default() }));
        assert_eq!(Duration::parse("P2W"), Ok(Duration { days: 14, ..Default::default() }));
        assert_eq!(Duration::parse("PT1H30M"), Ok(Duration { ms: 5_400_000, ..Default::default() }));
        for bad in ["", "P", "30D", "P1", "PT", "P1H", "PD", "P-1D", "P1.5D"] {
            assert!(Duration::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn month_arithmetic_clamps() {
        let d = |s| Date::parse(s).unwrap();
        let m = |n| Duration { months: n, ..Default::default() };
        assert_eq!(d("2026-01-31").add(&m(1), 1), d("2026-02-28"));
        assert_eq!(d("2024-02-29").add(&m(12), 1), d("2025-02-28"));
        assert_eq!(d("2027-03-31").add(&m(1), -1), d("2027-02-28"));
        assert_eq!(d("2026-11-30").add(&m(12), 1), d("2027-11-30"));
    }

    #[test]
    fn local_days_across_dst() {
        let z = oslo();
        // The spring-forward day is 23 hours long, the fall-back day 25.
        let spring = Date::parse("2026-03-29").unwrap();
        assert_eq!(z.end_of_day(spring) - z.start_of_day(spring), 23 * 3_600_000);
        let fall = Date::parse("2026-10-25").unwrap();
        assert_eq!(z.end_of_day(fall) - z.start_of_day(fall), 25 * 3_600_000);
        assert_eq!(z.format(z.end_of_day(fall) - 1), "2026-10-25T23:59:59.999+01:00");
        assert_eq!(z.format(z.end_of_day(spring) - 1), "2026-03-29T23:59:59.999+02:00");
        // 23:30 UTC on Oct 31 is already Nov 1 in Oslo.
        assert_eq!(z.local_date(parse_instant("2026-10-31T23:30:00Z").unwrap()).to_string(), "2026-11-01");
    }

    #[test]
    fn shortcut_bounds_hold() {
        // What expiry's shortcuts rely on: no day starts before `earliest_start`, and going
        // back a duration never goes back more than 31 days per month.
        let gap = parse_instant("2026-09-06T04:00:00Z").unwrap() / 1000;
        let far = Zone { name: "Y".into(), offset: 18 * 3600, changes: vec![(gap, -18 * 3600), (gap + 7200, 14 * 3600)] };
        let start = Date::parse("2025-12-01").unwrap().0;
        for z in [oslo(), far] {
            for d in (start..start + 800).map(Date) {
                assert!(Zone::earliest_start(d) <= z.start_of_day(d), "{} {d}", z.name);
            }
        }
        for d in (start..start + 1500).map(Date) {
            for (months, days) in [(1, 0), (2, 0), (12, 0), (0, 30), (1, 14), (25, 3)] {
                let w = Duration { months, days, ms: 0 };
                assert!(Date(d.0 - (months * 31 + days)) <= d.add(&w, -1), "{d} - {w:?}");
            }
        }
    }

    #[test]
    fn start_of_day_is_the_first_instant_whose_local_date_is_that_day() {
        // The definition, checked minute by minute around every day of two years, in zones
        // with changes at 02:00, at midnight and twice within one day.
        let gap = parse_instant("2026-09-06T04:00:00Z").unwrap() / 1000;
        let midnight = Zone { name: "X".into(), offset: -4 * 3600, changes: vec![(gap, -3 * 3600), (gap + 200 * 86_400, -4 * 3600)] };
        let twice = Zone { name: "Y".into(), offset: 18 * 3600, changes: vec![(gap, -18 * 3600), (gap + 7200, 14 * 3600)] };
        let start = Date::parse("2025-12-01").unwrap().0;
        for z in [oslo(), midnight, twice] {
            for d in (start..start + 730).map(Date) {
                let t = z.start_of_day(d);
                assert_eq!(z.local_date(t), d, "{} {d}", z.name);
                assert!(z.local_date(t - 60_000) < d, "{} {d}: a minute earlier is the day before", z.name);
            }
        }
    }

    #[test]
    fn midnight_in_a_gap_starts_when_clocks_jump() {
        // A zone that springs forward at local midnight (like America/Santiago).
        let at = parse_instant("2026-09-06T04:00:00Z").unwrap() / 1000;
        let z = Zone { name: "X".into(), offset: -4 * 3600, changes: vec![(at, -3 * 3600)] };
        let day = Date::parse("2026-09-06").unwrap();
        assert_eq!(z.format(z.start_of_day(day)), "2026-09-06T01:00:00-03:00");
    }
}
