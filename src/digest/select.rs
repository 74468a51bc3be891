//! Which entries an issue holds.
//!
//! Owns: the selection rule of the weekly issue. Must not: read the clock, the store or the
//! configuration file — callers pass the candidates, the week and the already-mailed ids.

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};

use super::week::Window;
use crate::model::{DateSource, EntryId};
use crate::store::StoredEntry;

/// How far back a late discovery may be dated: an entry first seen during the week whose
/// published date is at most this much before the week's start still makes the issue.
pub const LATE_DISCOVERY_DAYS: i64 = 7;

/// The date an entry counts from: its published date, or the time it was first seen when the
/// post carried no date at all.
pub fn effective_date(e: &StoredEntry) -> DateTime<Utc> {
    if e.entry.published_source == DateSource::FirstSeen {
        e.first_seen
    } else {
        e.entry.published
    }
}

/// The entries of `candidates` that belong to the issue covering `window` (its week, from
/// earlier when the issue before it ended earlier: see [`Window`]), newest first (then by id):
///
/// - entries whose [`effective_date`] falls inside the window, and
/// - late discoveries: entries first seen inside the window whose published date is at most
///   [`LATE_DISCOVERY_DAYS`] before the window's start,
///
/// in both cases only when their id is not in `mailed` (an entry is mailed at most once, however
/// its date or text changes later) and, when `categories` is non-empty, only entries carrying one
/// of them (case-insensitive), as the feed does.
pub fn select(
    candidates: &[StoredEntry],
    week: &Window,
    mailed: &HashSet<EntryId>,
    categories: &[String],
) -> Vec<StoredEntry> {
    let wanted: Vec<String> = categories.iter().map(|c| c.to_lowercase()).collect();
    let earliest_late = week.start - Duration::days(LATE_DISCOVERY_DAYS);
    let mut seen = HashSet::new();
    let mut out: Vec<StoredEntry> = candidates
        .iter()
        .filter(|e| may_go(e, mailed, &wanted))
        .filter(|e| {
            let date = effective_date(e);
            week.contains(date)
                || (week.contains(e.first_seen) && date >= earliest_late && date < week.start)
        })
        .filter(|e| seen.insert(e.entry.id.clone()))
        .cloned()
        .collect();
    out.sort_by(newest_first);
    out
}

/// Not mailed yet, and of the feed's `wanted` categories (lowercase) when it names any.
fn may_go(e: &StoredEntry, mailed: &HashSet<EntryId>, wanted: &[String]) -> bool {
    !mailed.contains(&e.entry.id)
        && (wanted.is_empty()
            || e.entry
                .categories
                .iter()
                .any(|c| wanted.contains(&c.to_lowercase())))
}

/// An issue's order: newest [`effective_date`] first, then by id.
fn newest_first(a: &StoredEntry, b: &StoredEntry) -> std::cmp::Ordering {
    effective_date(b)
        .cmp(&effective_date(a))
        .then_with(|| a.entry.id.cmp(&b.entry.id))
}

/// The entries of `candidates` first seen inside `week` (not mailed, of `categories` as in
/// [`select`]) that no issue holds: dated more than [`LATE_DISCOVERY_DAYS`] before the window's
/// start (a backfill's history, or a post dated back by its editor). Newest first.
pub fn too_late<'a>(
    candidates: &'a [StoredEntry],
    week: &Window,
    mailed: &HashSet<EntryId>,
    categories: &[String],
) -> Vec<&'a StoredEntry> {
    let wanted: Vec<String> = categories.iter().map(|c| c.to_lowercase()).collect();
    let earliest_late = week.start - Duration::days(LATE_DISCOVERY_DAYS);
    let mut out: Vec<&StoredEntry> = candidates
        .iter()
        .filter(|e| may_go(e, mailed, &wanted))
        .filter(|e| week.contains(e.first_seen) && effective_date(e) < earliest_late)
        .collect();
    out.sort_by(|a, b| newest_first(a, b));
    out.dedup_by(|a, b| a.entry.id == b.entry.id);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::week::last_complete_week;
    use crate::model::Entry;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("test date")
            .with_timezone(&Utc)
    }

    fn stored(id: &str, published: &str, source: DateSource, first_seen: &str) -> StoredEntry {
        let url = format!("https://example.org/{id}/");
        StoredEntry {
            entry: Entry {
                id: EntryId(url.clone()),
                dedup_key: format!("example.org/{id}/"),
                source: "s".into(),
                url,
                title: id.into(),
                published: utc(published),
                published_source: source,
                updated: utc(published),
                updated_source: source,
                authors: vec![],
                categories: vec!["Mediation".into()],
                content_html: String::new(),
                summary: String::new(),
                related: vec![],
                enclosures: Vec::new(),
            },
            first_seen: utc(first_seen),
            last_seen: utc(first_seen),
            content_hash: String::new(),
        }
    }

    fn ids(v: &[StoredEntry]) -> Vec<&str> {
        v.iter().map(|e| e.entry.title.as_str()).collect()
    }

    /// W46 of 2024 in UTC: Mon 2024-11-11 00:00 to Mon 2024-11-18 00:00.
    fn week() -> Window {
        Window::from(&last_complete_week(
            utc("2024-11-18T08:00:00Z"),
            chrono_tz::UTC,
        ))
    }

    #[test]
    fn takes_the_week_and_late_discoveries_only() {
        let j = DateSource::Jsonld;
        let cands = vec![
            stored("in-week", "2024-11-12T10:00:00Z", j, "2024-11-12T11:00:00Z"),
            stored(
                "first-second",
                "2024-11-11T00:00:00Z",
                j,
                "2024-11-11T01:00:00Z",
            ),
            stored(
                "next-week",
                "2024-11-18T00:00:00Z",
                j,
                "2024-11-18T01:00:00Z",
            ),
            stored(
                "prev-week",
                "2024-11-10T23:59:59Z",
                j,
                "2024-11-11T00:30:00Z",
            ),
            stored("late-6d", "2024-11-05T09:00:00Z", j, "2024-11-15T09:00:00Z"),
            stored("late-8d", "2024-11-03T09:00:00Z", j, "2024-11-15T09:00:00Z"),
            // A backfill: old posts first seen in the week are not an issue's worth.
            stored("archive", "2023-01-01T09:00:00Z", j, "2024-11-13T09:00:00Z"),
            // Seen before the week, dated before it: the previous issue had it.
            stored(
                "old-seen",
                "2024-11-08T09:00:00Z",
                j,
                "2024-11-08T10:00:00Z",
            ),
        ];
        let got = select(&cands, &week(), &HashSet::new(), &[]);
        assert_eq!(
            ids(&got),
            vec!["in-week", "first-second", "prev-week", "late-6d"]
        );
        // Those first seen in the week that no issue holds, for the digest to say so.
        let late: Vec<&str> = too_late(&cands, &week(), &HashSet::new(), &[])
            .iter()
            .map(|e| e.entry.title.as_str())
            .collect();
        assert_eq!(late, vec!["late-8d", "archive"]);
    }

    #[test]
    fn a_window_from_before_its_week_takes_the_posts_dated_in_between() {
        let j = DateSource::Jsonld;
        // The issue before ended 11 hours before this week began (another time zone).
        let mut window = week();
        window.start -= Duration::hours(11);
        let cands = vec![
            stored("gap", "2024-11-10T15:00:00Z", j, "2024-11-10T15:30:00Z"),
            stored("before", "2024-11-10T12:59:00Z", j, "2024-11-10T12:59:59Z"),
        ];
        assert_eq!(
            ids(&select(&cands, &window, &HashSet::new(), &[])),
            vec!["gap"]
        );
        assert!(select(&cands, &week(), &HashSet::new(), &[]).is_empty());
    }

    #[test]
    fn undated_posts_count_from_first_seen() {
        let f = DateSource::FirstSeen;
        // `published` of an undated post is only the time it was fetched: ignore it.
        let cands = vec![
            stored(
                "undated-in",
                "2024-11-20T00:00:00Z",
                f,
                "2024-11-14T09:00:00Z",
            ),
            stored(
                "undated-out",
                "2024-11-14T00:00:00Z",
                f,
                "2024-11-04T09:00:00Z",
            ),
        ];
        let got = select(&cands, &week(), &HashSet::new(), &[]);
        assert_eq!(ids(&got), vec!["undated-in"]);
    }

    #[test]
    fn already_mailed_entries_are_never_selected_again() {
        let j = DateSource::Jsonld;
        let a = stored("a", "2024-11-12T10:00:00Z", j, "2024-11-12T11:00:00Z");
        let b = stored("b", "2024-11-13T10:00:00Z", j, "2024-11-13T11:00:00Z");
        let mailed: HashSet<EntryId> = [a.entry.id.clone()].into_iter().collect();
        let got = select(&[a, b], &week(), &mailed, &[]);
        assert_eq!(ids(&got), vec!["b"]);
    }

    #[test]
    fn category_filter_is_case_insensitive_and_order_is_newest_first() {
        let j = DateSource::Jsonld;
        let mut other = stored("other", "2024-11-14T10:00:00Z", j, "2024-11-14T11:00:00Z");
        other.entry.categories = vec!["Sports".into()];
        let cands = vec![
            stored("x", "2024-11-12T10:00:00Z", j, "2024-11-12T11:00:00Z"),
            other,
            stored("w", "2024-11-12T10:00:00Z", j, "2024-11-12T11:00:00Z"),
            stored("y", "2024-11-15T10:00:00Z", j, "2024-11-15T11:00:00Z"),
        ];
        let got = select(&cands, &week(), &HashSet::new(), &["mediation".into()]);
        assert_eq!(ids(&got), vec!["y", "w", "x"]);
    }
}
