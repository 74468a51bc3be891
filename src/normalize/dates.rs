//! A small date normalizer over chrono formats: machine formats first, then dates written for
//! people, whose month names come from chrono's locale data for the languages it reads.

use std::sync::LazyLock;

use chrono::{
    DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone,
    Timelike, Utc,
};
use chrono_tz::{OffsetName, Tz};

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

/// Dates alone, the whole string: midnight in the day's zone.
const DATE_FORMATS: &[&str] = &["%Y-%m-%d", "%Y/%m/%d"];

/// The languages whose month names [`parse_date`] reads, by chrono's locale data (glibc's):
/// full and abbreviated names, matched without case, accents or a trailing dot.
const LANGUAGES: [chrono::Locale; 7] = [
    chrono::Locale::en_US,
    chrono::Locale::fr_FR,
    chrono::Locale::de_DE,
    chrono::Locale::es_ES,
    chrono::Locale::it_IT,
    chrono::Locale::pt_PT,
    chrono::Locale::nl_NL,
];

/// Month names sites write that the locale data lacks (already folded, see [`fold`]); any
/// other abbreviation is read as the start of a full name (`sept`, `févr`, `janv`).
const MORE_MONTHS: [(&str, u32); 4] = [("maerz", 3), ("mrz", 3), ("janner", 1), ("setiembre", 9)];

/// Words between the day, the month and the year: `12 de noviembre de 2024`, `12th of
/// November 2024`.
const FILLERS: [&str; 3] = ["de", "del", "of"];

/// Words between a date and its time of day: `November 12, 2024 at 3:45 pm`, `12 novembre
/// 2024 à 11:00`.
const TIME_CONNECTORS: [&str; 12] = [
    "at", "à", "a", "as", "às", "um", "om", "alle", "ore", "las", "-", "@",
];

/// Every month name of [`LANGUAGES`], folded: `(name, month, full)`.
static MONTH_NAMES: LazyLock<Vec<(String, u32, bool)>> = LazyLock::new(|| {
    let mut names = Vec::new();
    for locale in LANGUAGES {
        for month in 1..=12 {
            let Some(day) = NaiveDate::from_ymd_opt(2024, month, 1) else {
                continue;
            };
            for (format, full) in [("%B", true), ("%b", false)] {
                let name = fold(&day.format_localized(format, locale).to_string());
                if !name.is_empty() && !names.contains(&(name.clone(), month, full)) {
                    names.push((name, month, full));
                }
            }
        }
    }
    for (name, month) in MORE_MONTHS {
        names.push((name.to_string(), month, true));
    }
    names
});

/// Lower case, without accents, dots and ordinal signs: how month names are compared.
fn fold(s: &str) -> String {
    s.chars()
        .flat_map(char::to_lowercase)
        .filter_map(|c| {
            Some(match c {
                'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => 'a',
                'ç' => 'c',
                'è' | 'é' | 'ê' | 'ë' => 'e',
                'ì' | 'í' | 'î' | 'ï' => 'i',
                'ñ' => 'n',
                'ò' | 'ó' | 'ô' | 'õ' | 'ö' => 'o',
                'ù' | 'ú' | 'û' | 'ü' => 'u',
                '.' => return None,
                c => c,
            })
        })
        .collect()
}

/// The month a word names in one of [`LANGUAGES`]: a full or abbreviated name, or the start
/// (three letters or more) of full names that all name the same month (`sept`, `févr`; `jui`
/// names none: juin or juillet).
fn month_named(word: &str) -> Option<u32> {
    let word = fold(word);
    if word.chars().count() < 3 || !word.chars().all(char::is_alphabetic) {
        return None;
    }
    if let Some((_, month, _)) = MONTH_NAMES.iter().find(|(name, ..)| *name == word) {
        return Some(*month);
    }
    let mut months = MONTH_NAMES
        .iter()
        .filter(|(name, _, full)| *full && name.starts_with(&word))
        .map(|(_, month, _)| *month);
    let first = months.next()?;
    months.all(|m| m == first).then_some(first)
}

/// A day of the month as written before or after a month name: `12`, `3.`, `1er`, `12th`,
/// `1º`.
fn day_number(word: &str) -> Option<u32> {
    let digits = word.len() - word.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    if !(1..=2).contains(&digits) {
        return None;
    }
    let (number, suffix) = word.split_at(digits);
    let suffix = suffix.trim_end_matches('.').to_lowercase();
    ["", "st", "nd", "rd", "th", "er", "re", "º", "ª", "°"]
        .contains(&suffix.as_str())
        .then(|| number.parse().ok())
        .flatten()
        .filter(|d| (1..=31).contains(d))
}

/// A year of four digits (a date needs one: `12 novembre` alone is not read).
fn year_number(word: &str) -> Option<i32> {
    (word.len() == 4 && word.bytes().all(|b| b.is_ascii_digit()))
        .then(|| word.parse().ok())
        .flatten()
}

/// A time of day: `11:00`, `11:00:00`, `11h00`, `11h`; with `am`/`pm` in the next word.
fn time_of_day(word: &str, next: Option<&str>) -> Option<(NaiveTime, bool)> {
    let (h, rest) = word.split_once([':', 'h', 'H'])?;
    let (m, s) = match rest.split_once(':') {
        Some((m, s)) => (m, s),
        None => (rest, "0"),
    };
    let m = if m.is_empty() { "0" } else { m };
    let digits = |x: &str, max: usize| {
        (!x.is_empty() && x.len() <= max && x.bytes().all(|b| b.is_ascii_digit()))
            .then(|| x.parse::<u32>().ok())
            .flatten()
    };
    let (mut h, m, s) = (digits(h, 2)?, digits(m, 2)?, digits(s, 2)?);
    let meridiem = next.map(fold).filter(|n| n == "am" || n == "pm");
    if let Some(meridiem) = &meridiem {
        if !(1..=12).contains(&h) {
            return None;
        }
        h = h % 12 + if meridiem == "pm" { 12 } else { 0 };
    }
    Some((NaiveTime::from_hms_opt(h, m, s)?, meridiem.is_some()))
}

/// A zone after a time of day: `+0100`, `+01:00`, `-05:00`, `Z`, `UTC`, `GMT`.
fn offset_of(word: &str) -> Option<chrono::FixedOffset> {
    if ["z", "utc", "gmt"].contains(&word.to_lowercase().as_str()) {
        return chrono::FixedOffset::east_opt(0);
    }
    let sign = match word.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits: String = word[1..].chars().filter(|c| *c != ':').collect();
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (h, m): (i32, i32) = (digits[..2].parse().ok()?, digits[2..].parse().ok()?);
    if h > 14 || m > 59 {
        return None;
    }
    chrono::FixedOffset::east_opt(sign * (h * 3600 + m * 60))
}

/// US zones named without saying standard or daylight time (`3:00 PM ET`): the zone itself,
/// whichever of the two is in effect at that date.
const GENERIC_US_ZONES: [(&str, Tz); 4] = [
    ("ET", chrono_tz::America::New_York),
    ("CT", chrono_tz::America::Chicago),
    ("MT", chrono_tz::America::Denver),
    ("PT", chrono_tz::America::Los_Angeles),
];

/// What a zone written as a name after a time of day means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Named {
    /// That offset.
    Offset(FixedOffset),
    /// A zone name, but of several offsets (`IST`: India, Ireland, Israel) none of them the
    /// configured zone's.
    Ambiguous,
}

/// A zone name as sites write one after a time: two to five capital letters (`CET`, `BST`,
/// `AEDT`, `ACWST`), a trailing dot left aside. Words of running text (`par`, `Est`, `By`)
/// are not names.
fn zone_name(word: &str) -> Option<&str> {
    let name = word.strip_suffix('.').unwrap_or(word);
    ((2..=5).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_uppercase())).then_some(name)
}

/// The offsets `tz` calls `name` around `naive` (a wall-clock time there): the one in effect
/// then, else one the zone uses under that name in the same year (`CEST` written in
/// November is still two hours ahead of UTC).
fn offsets_named(name: &str, naive: NaiveDateTime, tz: Tz) -> Vec<FixedOffset> {
    let named = |o: &chrono_tz::TzOffset| o.abbreviation() == Some(name);
    let local = match tz.offset_from_local_datetime(&naive) {
        chrono::LocalResult::Single(o) => vec![o],
        chrono::LocalResult::Ambiguous(a, b) => vec![a, b],
        chrono::LocalResult::None => Vec::new(),
    };
    let mut offsets: Vec<FixedOffset> =
        local.iter().filter(|o| named(o)).map(|o| o.fix()).collect();
    if offsets.is_empty() {
        for month in [1, 7] {
            let Some(at) = NaiveDate::from_ymd_opt(naive.year(), month, 15)
                .and_then(|d| d.and_hms_opt(12, 0, 0))
            else {
                continue;
            };
            let o = tz.offset_from_utc_datetime(&at);
            if named(&o) && !offsets.contains(&o.fix()) {
                offsets.push(o.fix());
            }
        }
    }
    offsets
}

/// The zone `word`, written after the wall-clock time `naive`, names; `None` when it is no
/// zone name (see [`zone_name`]), or one no zone uses. In this order: a name the configured
/// zones (`zones`) use at that date (`CET`, `CEST` in Europe/Paris; `BST` in Europe/London;
/// `IST` in Asia/Kolkata; `CST` in Asia/Shanghai), then the names RFC 2822 gives (`UT`, `GMT`,
/// `EST`, `EDT`, `CST`, `CDT`, `MST`, `MDT`, `PST`, `PDT`, as chrono reads them), then `ET`,
/// `CT`, `MT`, `PT`, then a name the time zone database gives one offset only at that date
/// (`JST`, `AEDT`, `MSK`); a name it gives several is [`Named::Ambiguous`].
fn zone_named(word: &str, naive: NaiveDateTime, zones: &[Tz]) -> Option<Named> {
    let name = zone_name(word)?;
    if let Some(offset) = zones
        .iter()
        .find_map(|tz| offsets_named(name, naive, *tz).first().copied())
    {
        return Some(Named::Offset(offset));
    }
    if let Ok(dt) = DateTime::parse_from_rfc2822(&format!("1 Jan 2000 00:00:00 {name}")) {
        return Some(Named::Offset(*dt.offset()));
    }
    if let Some((_, tz)) = GENERIC_US_ZONES.iter().find(|(n, _)| *n == name) {
        let at = in_zone(naive, *tz);
        return Some(Named::Offset(
            tz.offset_from_utc_datetime(&at.naive_utc()).fix(),
        ));
    }
    let mut offsets: Vec<FixedOffset> = Vec::new();
    for tz in chrono_tz::TZ_VARIANTS {
        for offset in offsets_named(name, naive, tz) {
            if !offsets.contains(&offset) {
                offsets.push(offset);
            }
        }
    }
    match offsets.as_slice() {
        [] => None,
        [offset] => Some(Named::Offset(*offset)),
        _ => Some(Named::Ambiguous),
    }
}

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
/// without an offset (taken as UTC), ISO dates (midnight UTC) and dates written for people in
/// English, French, German, Spanish, Italian, Portuguese or Dutch, found inside a longer text
/// (see [`parse_human`]): `April 28, 2019`, `Sunday, April 28th, 2019`, `Publié le 1er mars
/// 2024`, `3. März 2024`, `12 de noviembre de 2024`, `mar., 12 nov. 2024 11:00:00 +0100`.
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
    read_date_in_zones(s, zone, day_zone).map(|d| d.at)
}

/// A date read by [`read_date_in_zones`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadDate {
    /// The instant, UTC, whole seconds.
    pub at: DateTime<Utc>,
    /// The zone name written after the time when it names several offsets, none of them the
    /// configured zone's (`IST` on a site whose zone is Europe/Paris: India's, Ireland's or
    /// Israel's?): the time was read as a wall-clock time in `day_zone` instead, which the
    /// reader should be told.
    pub unsure_zone: Option<String>,
}

/// [`parse_date_in_zones`], saying also whether a zone written as a name could not be told
/// (see [`ReadDate::unsure_zone`]).
///
/// A zone written as a name after a time of day (`11:00 CET`, `3:00 PM EST`) is read as the
/// offset it names: a name `zone` or `day_zone` uses at that date first (`CET` and `CEST` in
/// Europe/Paris, `BST` in Europe/London, `IST` in Asia/Kolkata, `CST` in Asia/Shanghai), then
/// RFC 2822's names (`EST` … `PDT`, as chrono reads them), `ET`, `CT`, `MT`, `PT`, and a name
/// the time zone database gives one offset at that date (`JST`, `AEDT`). Only two to five
/// capital letters right after the time count as a name; other words are left aside.
pub fn read_date_in_zones(s: &str, zone: Tz, day_zone: Tz) -> Option<ReadDate> {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.is_empty() {
        return None;
    }
    // A text ending in a zone name is read word by word first, where the configured zone's
    // own names come before RFC 2822's (`CST` in China is not Chicago's).
    let named = s.rsplit(' ').next().and_then(zone_name).is_some();
    let machine = || parse_machine(&s, zone).map(|at| (at, None));
    let human = || parse_human(&s, zone, day_zone);
    let read = if named {
        human().or_else(machine)
    } else {
        machine().or_else(human)
    };
    read.filter(|(d, _)| (1000..=9999).contains(&d.year()))
        .map(|(at, unsure_zone)| ReadDate {
            at: whole_seconds(at),
            unsure_zone,
        })
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

/// A date written for people, found inside the text: a day, a month named in one of
/// [`LANGUAGES`] and a four-digit year, in either order of day and month (`22 mars 2024`,
/// `Publié le 12 novembre 2024`, `3. März 2024`, `12 de noviembre de 2024`, `Posted on
/// November 12th, 2024`, `mar., 12 nov. 2024 11:00:00 +0100`), or an ISO date (`2024-11-12`).
/// Words before it (a weekday, "Posted on") and after it are left aside; a time of day right
/// after the year is read too (`à 11:00`, `at 3:45 pm`), with its offset or zone name if it has
/// one (`11:00 CET`, see [`read_date_in_zones`]; with the name when it names no one offset),
/// else as a wall-clock time in `zone`. A date alone is its midnight in `day_zone`. Numbers
/// alone (`03/04/2024`) are never guessed at.
fn parse_human(s: &str, zone: Tz, day_zone: Tz) -> Option<(DateTime<Utc>, Option<String>)> {
    if let Some(date) = DATE_FORMATS
        .iter()
        .find_map(|format| NaiveDate::parse_from_str(s, format).ok())
    {
        return Some((in_zone(date.and_time(NaiveTime::MIN), day_zone), None));
    }
    let tokens: Vec<&str> = s
        .split(|c: char| c.is_whitespace() || ",;|()[]".contains(c))
        .filter(|t| !t.is_empty())
        .collect();
    let word = |t: &str| -> String {
        t.trim_matches(|c: char| !c.is_alphanumeric() && !"ºª".contains(c))
            .to_string()
    };
    // The words that may make up a date, with their place among the tokens.
    let words: Vec<(usize, String)> = tokens
        .iter()
        .enumerate()
        .map(|(i, t)| (i, word(t)))
        .filter(|(_, w)| !w.is_empty() && !FILLERS.contains(&fold(w).as_str()))
        .collect();
    for (k, (at, w)) in words.iter().enumerate() {
        let date = if let Ok(date) = NaiveDate::parse_from_str(w, "%Y-%m-%d")
            && w.len() == 10
        {
            Some(date)
        } else if let Some(year) = year_number(w)
            && k >= 2
        {
            // A day then a month, or a month then a day, right before the year.
            let (a, b) = (&words[k - 2].1, &words[k - 1].1);
            let day_month = day_number(a)
                .zip(month_named(b))
                .or_else(|| day_number(b).zip(month_named(a)));
            day_month.and_then(|(day, month)| NaiveDate::from_ymd_opt(year, month, day))
        } else {
            None
        };
        if let Some(date) = date {
            return Some(with_time_of_day(date, &tokens[at + 1..], zone, day_zone));
        }
    }
    None
}

/// `date` at the time of day the tokens after it begin with, if any (see [`parse_human`]),
/// with the zone name written after it when that names no one offset (see
/// [`ReadDate::unsure_zone`]).
fn with_time_of_day(
    date: NaiveDate,
    after: &[&str],
    zone: Tz,
    day_zone: Tz,
) -> (DateTime<Utc>, Option<String>) {
    let midnight = (in_zone(date.and_time(NaiveTime::MIN), day_zone), None);
    let connected = after
        .first()
        .is_some_and(|t| TIME_CONNECTORS.contains(&t.to_lowercase().as_str()));
    let mut rest = after
        .iter()
        .copied()
        .skip_while(|t| TIME_CONNECTORS.contains(&t.to_lowercase().as_str()));
    let Some(first) = rest.next() else {
        return midnight;
    };
    // Whole hours alone (`2h`) after a date are a reading time (`2h de lecture`), not the hour
    // it was published at, unless a word such as `à` or `at` says so (`à 11h`).
    let whole_hours = first
        .strip_suffix(['h', 'H'])
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    if whole_hours && !connected {
        return midnight;
    }
    let second = rest.next();
    // `3:45pm` as well as `3:45 pm`.
    let lower = first.to_lowercase();
    let (first, glued) = match lower
        .strip_suffix("pm")
        .or_else(|| lower.strip_suffix("am"))
    {
        Some(time) => (time.to_string(), Some(&lower[time.len()..])),
        None => (lower.clone(), None),
    };
    let Some((time, took_next)) = time_of_day(&first, glued.or(second)) else {
        return midnight;
    };
    let zone_word = if took_next && glued.is_none() {
        rest.next()
    } else {
        second
    };
    let naive = date.and_time(time);
    let named = zone_word.and_then(|word| match offset_of(word) {
        Some(offset) => Some(Named::Offset(offset)),
        None => zone_named(word, naive, &[zone, day_zone]),
    });
    match named {
        Some(Named::Offset(offset)) => (
            offset
                .from_local_datetime(&naive)
                .single()
                .map_or_else(|| in_zone(naive, zone), |t| t.with_timezone(&Utc)),
            None,
        ),
        // Not UTC, but which zone? The configured one is the likeliest.
        Some(Named::Ambiguous) => (
            in_zone(naive, day_zone),
            zone_word.and_then(zone_name).map(str::to_string),
        ),
        None => (in_zone(naive, zone), None),
    }
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

    fn utc(s: &str) -> Option<String> {
        parse_date(s).map(|d| d.to_rfc3339())
    }

    /// Month names of the common European languages, full or abbreviated, with or without
    /// accents and dots, with `1er`, `3.`, `de`, `of` and ordinals; a prefix such as "Publié
    /// le" or a weekday before the date, and words after it, are left aside.
    #[test]
    fn dates_written_for_people_in_european_languages() {
        for (written, day) in [
            ("22 mars 2024", "2024-03-22"),
            ("Publié le 12 novembre 2024", "2024-11-12"),
            ("Publié le 1er février 2024", "2024-02-01"),
            ("1er fevrier 2024", "2024-02-01"),
            ("12 févr. 2024", "2024-02-12"),
            ("12 janv. 2024", "2024-01-12"),
            ("14 juil. 2024", "2024-07-14"),
            ("15 août 2024", "2024-08-15"),
            ("15 aout 2024", "2024-08-15"),
            ("mardi 12 novembre 2024", "2024-11-12"),
            ("3. März 2024", "2024-03-03"),
            ("Veröffentlicht am 3. Maerz 2024", "2024-03-03"),
            ("Dienstag, 12. Dezember 2023", "2023-12-12"),
            ("1. Okt. 2024", "2024-10-01"),
            ("12 de noviembre de 2024", "2024-11-12"),
            ("Publicado el martes, 12 de noviembre de 2024", "2024-11-12"),
            ("5 de março de 2024", "2024-03-05"),
            ("5 de marco de 2024", "2024-03-05"),
            ("1º de maio de 2024", "2024-05-01"),
            ("12 dicembre 2024", "2024-12-12"),
            ("Pubblicato il 3 gen 2024", "2024-01-03"),
            ("12 oktober 2024", "2024-10-12"),
            ("3 mrt. 2024", "2024-03-03"),
            ("Posted on November 12, 2024", "2024-11-12"),
            (
                "Posted on Tuesday, November 12th, 2024 by Jane",
                "2024-11-12",
            ),
            ("Sept. 3, 2024", "2024-09-03"),
            ("the 12th of November 2024", "2024-11-12"),
            ("November 12,2024", "2024-11-12"),
            ("Posted on 2024-11-12", "2024-11-12"),
        ] {
            assert_eq!(
                utc(written),
                Some(format!("{day}T00:00:00+00:00")),
                "{written}"
            );
        }
    }

    /// A time of day after the date is read, with its offset (a feed's `pubDate` in French),
    /// or as a wall-clock time in the zone without one.
    #[test]
    fn a_time_after_a_written_date_is_read() {
        for (written, at) in [
            (
                "mar., 12 nov. 2024 11:00:00 +0100",
                "2024-11-12T10:00:00+00:00",
            ),
            (
                "Di, 12 Nov 2024 11:00:00 +01:00",
                "2024-11-12T10:00:00+00:00",
            ),
            ("12 novembre 2024 à 11h30", "2024-11-12T11:30:00+00:00"),
            ("November 12, 2024 at 3:45 pm", "2024-11-12T15:45:00+00:00"),
            (
                "November 12, 2024 at 12:05am UTC",
                "2024-11-12T00:05:00+00:00",
            ),
            (
                "12 de noviembre de 2024 a las 09:15 GMT",
                "2024-11-12T09:15:00+00:00",
            ),
            ("12 novembre 2024 par Zoé", "2024-11-12T00:00:00+00:00"),
            ("12 novembre 2024 à 11h", "2024-11-12T11:00:00+00:00"),
            // Whole hours without a word before them: a reading time, not the hour.
            (
                "Publié le 12 novembre 2024 | 2h de lecture",
                "2024-11-12T00:00:00+00:00",
            ),
        ] {
            assert_eq!(utc(written).as_deref(), Some(at), "{written}");
        }
        assert_eq!(
            in_new_york("12 novembre 2024 à 11:00").as_deref(),
            Some("2024-11-12T16:00:00+00:00")
        );
    }

    fn read_in(s: &str, day_zone: Tz) -> Option<(String, Option<String>)> {
        read_date_in_zones(s, Tz::UTC, day_zone).map(|d| (d.at.to_rfc3339(), d.unsure_zone))
    }

    /// A zone written as a name after the time is the zone it names: the configured zone's own
    /// names first (`CEST` even in November, when Paris is on `CET`; `CST` in China is not
    /// Chicago's), then RFC 2822's, `ET`/`PT`, and the names the time zone database gives one
    /// offset. Before, each was read as if the name were not there (UTC here).
    #[test]
    fn a_zone_written_as_a_name_is_read() {
        use chrono_tz::{America, Asia, Europe};
        for (written, day_zone, at) in [
            (
                "18 novembre 2024, 11:00 CET",
                Europe::Paris,
                "2024-11-18T10:00:00+00:00",
            ),
            (
                "18 juillet 2024 à 11h00 CEST",
                Europe::Paris,
                "2024-07-18T09:00:00+00:00",
            ),
            (
                "18 novembre 2024 11:00 CEST",
                Europe::Paris,
                "2024-11-18T09:00:00+00:00",
            ),
            (
                "18 July 2024, 11:00 BST",
                Europe::London,
                "2024-07-18T10:00:00+00:00",
            ),
            (
                "18 July 2024, 11:00 BST",
                Tz::UTC,
                "2024-07-18T10:00:00+00:00",
            ),
            (
                "18 November 2024 11:00 IST",
                Asia::Kolkata,
                "2024-11-18T05:30:00+00:00",
            ),
            (
                "18 November 2024 11:00 CST",
                Asia::Shanghai,
                "2024-11-18T03:00:00+00:00",
            ),
            (
                "Mon, 18 Nov 2024 11:00:00 CST",
                Asia::Shanghai,
                "2024-11-18T03:00:00+00:00",
            ),
            (
                "Mon, 18 Nov 2024 11:00:00 CST",
                Tz::UTC,
                "2024-11-18T17:00:00+00:00",
            ),
            (
                "Nov 18, 2024 3:00 PM EST",
                Tz::UTC,
                "2024-11-18T20:00:00+00:00",
            ),
            (
                "Nov 18, 2024 3:00PM EST",
                Europe::Paris,
                "2024-11-18T20:00:00+00:00",
            ),
            (
                "Mon, 18 Nov 2024 15:00:00 EST",
                Tz::UTC,
                "2024-11-18T20:00:00+00:00",
            ),
            (
                "July 18, 2024 at 3:00 pm PDT",
                Tz::UTC,
                "2024-07-18T22:00:00+00:00",
            ),
            (
                "18 Nov 2024 15:00 UT",
                Europe::Paris,
                "2024-11-18T15:00:00+00:00",
            ),
            (
                "Nov 18, 2024 3:00 PM ET",
                Tz::UTC,
                "2024-11-18T20:00:00+00:00",
            ),
            (
                "July 18, 2024 3:00 PM ET",
                Tz::UTC,
                "2024-07-18T19:00:00+00:00",
            ),
            (
                "November 18, 2024 9:00 am PT",
                Tz::UTC,
                "2024-11-18T17:00:00+00:00",
            ),
            (
                "18 novembre 2024 11:00 JST",
                Europe::Paris,
                "2024-11-18T02:00:00+00:00",
            ),
            (
                "18 novembre 2024 11:00 MSK",
                Europe::Paris,
                "2024-11-18T08:00:00+00:00",
            ),
            (
                "18 November 2024 11:00 AEDT",
                Tz::UTC,
                "2024-11-18T00:00:00+00:00",
            ),
            (
                "18 novembre 2024, 11:00 (CET)",
                Europe::Paris,
                "2024-11-18T10:00:00+00:00",
            ),
            (
                "le 18 novembre 2024 à 11:00 CET.",
                Europe::Paris,
                "2024-11-18T10:00:00+00:00",
            ),
            (
                "Nov 3, 2024 1:30 AM EDT",
                America::New_York,
                "2024-11-03T05:30:00+00:00",
            ),
            (
                "Nov 3, 2024 1:30 AM EST",
                America::New_York,
                "2024-11-03T06:30:00+00:00",
            ),
        ] {
            assert_eq!(
                read_in(written, day_zone),
                Some((at.to_string(), None)),
                "{written} in {day_zone}"
            );
        }
    }

    /// A name several zones use, none of them the configured one, is not taken for UTC: the
    /// time is read in the configured zone, and the name is given for a warning.
    #[test]
    fn a_zone_name_of_several_offsets_is_read_in_the_configured_zone() {
        assert_eq!(
            read_in("18 novembre 2024, 11:00 IST", chrono_tz::Europe::Paris),
            Some((
                "2024-11-18T10:00:00+00:00".to_string(),
                Some("IST".to_string())
            ))
        );
        assert_eq!(
            parse_date_in_zones(
                "18 novembre 2024, 11:00 IST",
                Tz::UTC,
                chrono_tz::Europe::Paris
            )
            .map(|d| d.to_rfc3339())
            .as_deref(),
            Some("2024-11-18T10:00:00+00:00")
        );
    }

    /// Only two to five capital letters right after the time are a zone name that some zone
    /// uses: the words of running text after it are left aside, and the time read as written
    /// without a zone (UTC here), with nothing to warn about.
    #[test]
    fn words_after_a_time_are_not_zones() {
        let paris = chrono_tz::Europe::Paris;
        for (written, at) in [
            (
                "12 novembre 2024 à 11:00 par Zoé",
                "2024-11-12T11:00:00+00:00",
            ),
            (
                "Posted on November 12, 2024 at 3:45 pm By Jane",
                "2024-11-12T15:45:00+00:00",
            ),
            ("12 novembre 2024 11:00 Est", "2024-11-12T11:00:00+00:00"),
            ("12 novembre 2024 11:00 est", "2024-11-12T11:00:00+00:00"),
            (
                "November 12, 2024 11:00 NEW rules",
                "2024-11-12T11:00:00+00:00",
            ),
            ("12 novembre 2024 à 11:00 ONU", "2024-11-12T11:00:00+00:00"),
            (
                "12 novembre 2024 à 11:00 UNESCO",
                "2024-11-12T11:00:00+00:00",
            ),
            (
                "12 novembre 2024 11:00 A new text",
                "2024-11-12T11:00:00+00:00",
            ),
            ("12 novembre 2024 11:00 I", "2024-11-12T11:00:00+00:00"),
            // A name not right after a time is no zone of anything: the day, in the zone.
            ("12 novembre 2024 CET", "2024-11-11T23:00:00+00:00"),
            (
                "12 novembre 2024 par AFP 11:00 CET",
                "2024-11-11T23:00:00+00:00",
            ),
        ] {
            assert_eq!(
                read_in(written, paris),
                Some((at.to_string(), None)),
                "{written}"
            );
        }
    }

    /// No year, no month name, an ambiguous abbreviation, numbers alone, an impossible day:
    /// no date (the next candidate, or the time the post was first seen).
    #[test]
    fn no_date_is_guessed() {
        for written in [
            "12 novembre",
            "novembre 2024",
            "03/04/2024",
            "12.11.2024",
            "12 jui 2024",
            "31 février 2024",
            "Posted 3 days ago",
            "le 12 mais 2024",
            "",
        ] {
            assert_eq!(utc(written), None, "{written}");
        }
    }

    /// Every name and unambiguous start of a name names one month whatever the language.
    #[test]
    fn month_names_name_one_month_each() {
        for (name, month, _) in MONTH_NAMES.iter() {
            assert_eq!(month_named(name), Some(*month), "{name}");
        }
        assert_eq!(month_named("Mär"), Some(3));
        assert_eq!(month_named("SEPT."), Some(9));
        assert_eq!(month_named("jui"), None);
        assert_eq!(month_named("ma"), None);
    }
}
