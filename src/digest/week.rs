//! ISO weeks in a time zone: which week an issue covers and where it starts and ends.
//!
//! Owns: the arithmetic from a point in time to "the last complete ISO week before it" in the
//! digest's time zone, DST-safe. Must not: read the clock (`now` is a parameter) or do I/O.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;

/// One ISO 8601 week: the ISO year (which can differ from the calendar year around New Year)
/// and the week number (1 to 52 or 53).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IsoWeek {
    /// The ISO week-numbering year.
    pub year: i32,
    /// The week number, 1-based.
    pub week: u32,
}

impl IsoWeek {
    /// The label used in file names, Message-IDs and subjects: `2024-W07`.
    pub fn label(&self) -> String {
        format!("{:04}-W{:02}", self.year, self.week)
    }

    /// The Monday that starts this week, or `None` for a week that does not exist.
    pub fn monday(&self) -> Option<NaiveDate> {
        NaiveDate::from_isoywd_opt(self.year, self.week, Weekday::Mon)
    }
}

impl std::fmt::Display for IsoWeek {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.label())
    }
}

/// A week as instants: from Monday 00:00 (inclusive) to the next Monday 00:00 (exclusive), both
/// in the digest's time zone, converted to UTC. Such a week lasts 167, 168 or 169 hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WeekRange {
    /// Which ISO week.
    pub week: IsoWeek,
    /// The local Monday the week starts on.
    pub first_day: NaiveDate,
    /// The local Sunday the week ends on.
    pub last_day: NaiveDate,
    /// Monday 00:00 local, as UTC (inclusive).
    pub start: DateTime<Utc>,
    /// The next Monday 00:00 local, as UTC (exclusive).
    pub end: DateTime<Utc>,
}

impl WeekRange {
    /// Whether `t` falls inside the week.
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.start <= t && t < self.end
    }

    /// The ISO week before this one.
    pub fn previous(&self) -> IsoWeek {
        let iso = (self.first_day - Duration::days(7)).iso_week();
        IsoWeek {
            year: iso.year(),
            week: iso.week(),
        }
    }
}

/// The instants an issue covers: its week, and before it, when the issue of the week before
/// ended earlier (it was counted in another time zone), the time between the two, so that no
/// post falls between two issues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// The first instant covered (inclusive).
    pub start: DateTime<Utc>,
    /// The week's end (exclusive).
    pub end: DateTime<Utc>,
}

impl Window {
    /// Whether `t` falls inside the window.
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.start <= t && t < self.end
    }
}

impl From<&WeekRange> for Window {
    fn from(week: &WeekRange) -> Window {
        Window {
            start: week.start,
            end: week.end,
        }
    }
}

/// The last ISO week that ended at or before `now`, weeks being counted in `tz`.
///
/// At exactly Monday 00:00 local time the week that just ended is returned.
pub fn last_complete_week(now: DateTime<Utc>, tz: Tz) -> WeekRange {
    let today = now.with_timezone(&tz).date_naive();
    let this_monday = today - Duration::days(i64::from(today.weekday().num_days_from_monday()));
    week_starting(this_monday - Duration::days(7), tz)
}

/// The range of the ISO week `week` in `tz`, or `None` for a week that does not exist
/// (week 53 of a year that has 52).
pub fn week_range(week: IsoWeek, tz: Tz) -> Option<WeekRange> {
    week.monday().map(|monday| week_starting(monday, tz))
}

/// The week whose local Monday is `monday`.
fn week_starting(monday: NaiveDate, tz: Tz) -> WeekRange {
    let iso = monday.iso_week();
    let next = monday + Duration::days(7);
    WeekRange {
        week: IsoWeek {
            year: iso.year(),
            week: iso.week(),
        },
        first_day: monday,
        last_day: next - Duration::days(1),
        start: local_midnight(monday, tz),
        end: local_midnight(next, tz),
    }
}

/// The first instant of `day` in `tz`. Where midnight is skipped by a DST change (some zones
/// switch at 00:00), the day starts at the first local time that exists; where it is repeated,
/// at the earlier one.
fn local_midnight(day: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let mut t = day.and_time(NaiveTime::MIN);
    // A DST gap lasts at most a few hours; probe in 15-minute steps.
    for _ in 0..(4 * 24) {
        if let Some(local) = tz.from_local_datetime(&t).earliest() {
            return local.with_timezone(&Utc);
        }
        t += Duration::minutes(15);
    }
    // Unreachable for real zones: fall back to reading the local midnight as UTC.
    Utc.from_utc_datetime(&day.and_time(NaiveTime::MIN))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("test date")
            .with_timezone(&Utc)
    }

    #[test]
    fn monday_midnight_local_closes_the_previous_week() {
        let tz: Tz = "America/New_York".parse().expect("tz");
        // 2024-11-18 00:00 EST = 05:00 UTC.
        let w = last_complete_week(utc("2024-11-18T05:00:00Z"), tz);
        assert_eq!(w.week.label(), "2024-W46");
        assert_eq!(w.start, utc("2024-11-11T05:00:00Z"));
        assert_eq!(w.end, utc("2024-11-18T05:00:00Z"));
        // One second earlier the week W46 is still running.
        let w = last_complete_week(utc("2024-11-18T04:59:59Z"), tz);
        assert_eq!(w.week.label(), "2024-W45");
    }

    #[test]
    fn week_with_spring_forward_has_167_hours() {
        let tz: Tz = "America/New_York".parse().expect("tz");
        // DST began Sunday 2024-03-10 02:00 local.
        let w = last_complete_week(utc("2024-03-12T12:00:00Z"), tz);
        assert_eq!(w.week.label(), "2024-W10");
        assert_eq!(w.start, utc("2024-03-04T05:00:00Z"));
        assert_eq!(w.end, utc("2024-03-11T04:00:00Z"));
        assert_eq!((w.end - w.start).num_hours(), 167);
    }

    #[test]
    fn week_with_fall_back_has_169_hours() {
        let tz: Tz = "Europe/Paris".parse().expect("tz");
        // DST ended Sunday 2024-10-27 03:00 local.
        let w = last_complete_week(utc("2024-10-29T12:00:00Z"), tz);
        assert_eq!(w.week.label(), "2024-W43");
        assert_eq!(w.start, utc("2024-10-20T22:00:00Z"));
        assert_eq!(w.end, utc("2024-10-27T23:00:00Z"));
        assert_eq!((w.end - w.start).num_hours(), 169);
    }

    #[test]
    fn midnight_skipped_by_dst_starts_at_first_existing_time() {
        // Brazil switched to DST at 00:00 on 2018-11-04 (a Sunday), so Monday midnights were
        // never skipped there; Asia/Beirut switched at 00:00 on Sunday too. Use Chile's 2022
        // change at 24:00 on Saturday 2022-09-10 (clocks jump to 01:00 on Sunday): a day start
        // that does not exist must still produce an instant.
        let tz: Tz = "America/Santiago".parse().expect("tz");
        let day = NaiveDate::from_ymd_opt(2022, 9, 11).expect("date");
        let start = local_midnight(day, tz);
        assert_eq!(start, utc("2022-09-11T04:00:00Z"));
    }

    #[test]
    fn year_end_with_iso_week_53() {
        let tz: Tz = "UTC".parse().expect("tz");
        // 2020 has 53 ISO weeks; W53 runs Mon 2020-12-28 to Sun 2021-01-03.
        let w = last_complete_week(utc("2021-01-04T08:00:00Z"), tz);
        assert_eq!(w.week.label(), "2020-W53");
        assert_eq!(
            w.first_day,
            NaiveDate::from_ymd_opt(2020, 12, 28).expect("d")
        );
        assert_eq!(w.last_day, NaiveDate::from_ymd_opt(2021, 1, 3).expect("d"));
        // Run during the first days of 2021 (still ISO 2020-W53): the previous week is W52.
        let w = last_complete_week(utc("2021-01-02T08:00:00Z"), tz);
        assert_eq!(w.week.label(), "2020-W52");
        // The ISO year differs from the calendar year: 2024-12-30 is in 2025-W01.
        let w = last_complete_week(utc("2025-01-06T00:00:00Z"), tz);
        assert_eq!(w.week.label(), "2025-W01");
        assert_eq!(
            w.first_day,
            NaiveDate::from_ymd_opt(2024, 12, 30).expect("d")
        );
        assert!(
            week_range(
                IsoWeek {
                    year: 2021,
                    week: 53
                },
                tz
            )
            .is_none()
        );
        assert!(
            week_range(
                IsoWeek {
                    year: 2026,
                    week: 53
                },
                tz
            )
            .is_some()
        );
    }

    #[test]
    fn the_week_before_crosses_iso_years() {
        let tz: Tz = "UTC".parse().expect("tz");
        let w = last_complete_week(utc("2021-01-11T08:00:00Z"), tz);
        assert_eq!(w.week.label(), "2021-W01");
        assert_eq!(w.previous().label(), "2020-W53");
        let w = last_complete_week(utc("2024-11-25T08:00:00Z"), tz);
        assert_eq!(w.previous().label(), "2024-W46");
    }

    #[test]
    fn same_instant_in_different_zones_can_close_different_weeks() {
        let now = utc("2024-11-18T03:00:00Z");
        let paris: Tz = "Europe/Paris".parse().expect("tz");
        let ny: Tz = "America/New_York".parse().expect("tz");
        assert_eq!(last_complete_week(now, paris).week.label(), "2024-W46");
        assert_eq!(last_complete_week(now, ny).week.label(), "2024-W45");
    }
}
