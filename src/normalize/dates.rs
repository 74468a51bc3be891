//! A small date normalizer over chrono formats: machine formats first, then common human forms.

use std::sync::LazyLock;

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use regex::Regex;

/// Date-times with an explicit offset (`%z` accepts `+0000` and `+00:00`).
const OFFSET_FORMATS: &[&str] = &[
    "%Y-%m-%dT%H:%M:%S%.f%z",
    "%Y-%m-%d %H:%M:%S%.f%z",
    "%Y-%m-%dT%H:%M%z",
    "%Y-%m-%d %H:%M%z",
    "%Y-%m-%dT%H:%M:%S%.f %z",
    "%Y-%m-%d %H:%M:%S%.f %z",
];

/// Date-times without an offset: taken as UTC.
const NAIVE_DATETIME_FORMATS: &[&str] = &[
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
];

/// Dates alone: midnight UTC. `%B` and `%b` accept full and abbreviated month names.
const DATE_FORMATS: &[&str] = &[
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%B %d, %Y",
    "%B %d %Y",
    "%d %B %Y",
    "%d %B, %Y",
    "%B %d,%Y",
];

/// Ordinal suffixes (`28th`), a leading weekday (`Sunday, `), a trailing `UTC`/`GMT`/`Z` word.
static ORDINAL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\b(\d{1,2})(?:st|nd|rd|th)\b").expect("static regex"));
static WEEKDAY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tues|tue|wed|thurs|thur|thu|fri|sat|sun)\.?,?\s+",
    )
    .expect("static regex")
});

fn whole_seconds(dt: DateTime<Utc>) -> DateTime<Utc> {
    dt.with_nanosecond(0).unwrap_or(dt)
}

/// A wall-clock time in `zone` as UTC. A time a DST change skips (it does not exist there)
/// is read an hour later, as clocks show it; one it repeats is the first of the two.
fn in_zone(naive: NaiveDateTime, zone: Tz) -> DateTime<Utc> {
    let local = zone.from_local_datetime(&naive).earliest().or_else(|| {
        zone.from_local_datetime(&(naive + chrono::Duration::hours(1)))
            .earliest()
    });
    local.map_or_else(|| naive.and_utc(), |t| t.with_timezone(&Utc))
}

/// Parse a date as found in pages and feeds into UTC, truncated to whole seconds.
///
/// Accepts RFC 3339 (fractional seconds, `Z`, offsets, also `+0000`), RFC 2822, ISO date-times
/// without an offset (taken as UTC), ISO dates (midnight UTC) and common human forms such as
/// `April 28, 2019`, `28 April 2019`, `Apr 28, 2019` or `Sunday, April 28th, 2019`.
/// Returns `None` for anything else, and for a year outside 1000-9999: no post is that old,
/// RFC 822 and RFC 3339 have no way to write it, and WordPress's "no date" comes out of PHP as
/// `-0001-11-30T00:00:00+00:00`.
pub fn parse_date(s: &str) -> Option<DateTime<Utc>> {
    parse_date_in(s, Tz::UTC)
}

/// [`parse_date`], with a date or date-time written without an offset read as the wall-clock
/// time in `zone` (a date alone: its midnight there) instead of in UTC. For what an editor
/// writes, in the project's time zone.
pub fn parse_date_in(s: &str, zone: Tz) -> Option<DateTime<Utc>> {
    parse_date_in_zones(s, zone, zone)
}

/// [`parse_date_in`], with a date alone (no time of day) taken as its midnight in `day_zone`
/// rather than in `zone`: the zone where the day it names is shown and counted (the digest's),
/// so that `2024-03-05` stays the 5th there whatever the project's own zone.
pub fn parse_date_in_zones(s: &str, zone: Tz, day_zone: Tz) -> Option<DateTime<Utc>> {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.is_empty() {
        return None;
    }
    parse_machine(&s, zone)
        .or_else(|| parse_human(&s, day_zone))
        .filter(|d| (1000..=9999).contains(&d.year()))
        .map(whole_seconds)
}

fn parse_machine(s: &str, zone: Tz) -> Option<DateTime<Utc>> {
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Some(dt.with_timezone(&Utc));
    }
    if let Ok(dt) = DateTime::parse_from_rfc2822(s) {
        return Some(dt.with_timezone(&Utc));
    }
    // RFC 2822 look-alikes with a `UTC` zone name, which chrono does not accept.
    if let Some(rest) = s.strip_suffix(" UTC")
        && let Ok(dt) = DateTime::parse_from_rfc2822(&format!("{rest} +0000"))
    {
        return Some(dt.with_timezone(&Utc));
    }
    for format in OFFSET_FORMATS {
        if let Ok(dt) = DateTime::parse_from_str(s, format) {
            return Some(dt.with_timezone(&Utc));
        }
    }
    // `2019-04-28 06:01:07 UTC` / `…Z` handled as naive UTC.
    let naive = s
        .strip_suffix(" UTC")
        .or_else(|| s.strip_suffix(" GMT"))
        .unwrap_or(s);
    // Only a time without any zone name is a wall-clock time in `zone`.
    let zone = if naive.len() == s.len() {
        zone
    } else {
        Tz::UTC
    };
    for format in NAIVE_DATETIME_FORMATS {
        if let Ok(dt) = NaiveDateTime::parse_from_str(naive, format) {
            return Some(in_zone(dt, zone));
        }
    }
    None
}

fn parse_human(s: &str, zone: Tz) -> Option<DateTime<Utc>> {
    let s = WEEKDAY.replace(s, "");
    let s = ORDINAL.replace_all(&s, "$1");
    let s = s.replace(". ", " ");
    let s = s.trim();
    DATE_FORMATS
        .iter()
        .find_map(|format| NaiveDate::parse_from_str(s, format).ok())
        .map(|date| in_zone(date.and_time(NaiveTime::MIN), zone))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn in_new_york(s: &str) -> Option<String> {
        parse_date_in(s, chrono_tz::America::New_York).map(|d| d.to_rfc3339())
    }

    /// Without an offset, a wall-clock time in the zone; with one (or a zone name), as written.
    /// A time the spring DST change skips is read as the clocks show it an hour on, and one the
    /// autumn change repeats as the first of the two.
    #[test]
    fn a_time_without_an_offset_is_read_in_the_zone() {
        for (written, utc) in [
            ("2024-11-25", "2024-11-25T05:00:00+00:00"),
            ("25 November 2024", "2024-11-25T05:00:00+00:00"),
            ("2024-07-01 18:30", "2024-07-01T22:30:00+00:00"),
            ("2024-07-01T18:30:00Z", "2024-07-01T18:30:00+00:00"),
            ("2024-07-01 18:30:00 UTC", "2024-07-01T18:30:00+00:00"),
            ("2024-07-01T18:30:00+02:00", "2024-07-01T16:30:00+00:00"),
            ("2024-03-10T02:30:00", "2024-03-10T07:30:00+00:00"),
            ("2024-11-03T01:30:00", "2024-11-03T05:30:00+00:00"),
        ] {
            assert_eq!(in_new_york(written).as_deref(), Some(utc), "{written}");
        }
        assert_eq!(
            parse_date("2024-11-25").map(|d| d.to_rfc3339()).as_deref(),
            Some("2024-11-25T00:00:00+00:00")
        );
    }
}
