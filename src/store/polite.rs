//! Store support for polite, incremental fetching: validators, aliases, re-check candidates
//! (by age; and each stored post's `updated` or `listed_modified`, migration
//! `V7__listed_modified.sql`, for listings that show edits),
//! robots.txt copies, per-run health (its older runs folded into totals, migration
//! `V12__run_totals.sql`), resumable backfills, where a source's next REST API read starts
//! (`V15__api_window.sql`), and linking a source to the stored posts it lists.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError, Validators};

/// How the reason of a source degraded because a listing page gave no post links begins: the
/// pipeline writes it, [`Store::listing_degraded`] and [`Store::clear_listing_degraded`] look
/// for it.
pub const LISTING_DEGRADED: &str = "listing page ";

/// Runs a source keeps in `source_runs`, newest first, when older ones are folded into totals.
const KEEP_RUNS: i64 = 500;

/// Rows a source has in `source_runs` when its older runs are folded (so folding happens once
/// every hundred runs, not every run).
const FOLD_AT: i64 = 600;

/// What one run of a source did, as recorded for health and drift.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunHealth {
    pub requests: u32,
    pub not_modified: u32,
    pub bytes: u64,
    pub seen: u32,
    pub new: u32,
    pub updated: u32,
    pub failures: u32,
    /// Posts extracted from pages in this run (the base of the fill rates).
    pub extracted: u32,
    pub fill: Fill,
    /// `healthy`, `degraded`, `failing` or `neutral` (nothing extracted: says nothing).
    pub state: String,
}

/// Share of extracted posts (0.0–1.0) that had each field.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Fill {
    pub title: f64,
    pub date: f64,
    pub author: f64,
    pub categories: f64,
}

/// A robots.txt copy: `(origin, body or None for "no file", fetched_at)`.
pub type RobotsRow = (String, Option<Vec<u8>>, DateTime<Utc>);

impl Store {
    /// Every saved validator, by URL (loaded once per run).
    pub fn http_cache_all(&self) -> Result<HashMap<String, Validators>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT url, etag, last_modified FROM http_cache")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, (r.get(1)?, r.get(2)?))))
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Twin keys of every stored post and of every other URL it was reached by.
    pub fn known_keys(&self) -> Result<HashSet<String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT dedup_key FROM entries UNION SELECT url_key FROM aliases")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Twin keys (own, and of every other URL it was reached by) of the stored posts whose text
    /// is a feed item's (see [`Store::upsert_item`]): a source that reads pages fetches them,
    /// so their pages replace the items' text.
    pub fn item_keys(&self) -> Result<HashSet<String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT dedup_key FROM entries WHERE from_item = 1
                 UNION
                 SELECT a.url_key FROM aliases a JOIN entries e ON e.dedup_key = a.dedup_key
                 WHERE e.from_item = 1",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// For every stored post, under its twin key and every other URL it was reached by: its
    /// stored `updated` date, or the listing date it was last fetched again for
    /// ([`Store::set_listed_modified`]) when that is later. A listing that shows the post
    /// modified later shows an edit this store does not have.
    pub fn updated_dates(&self) -> Result<HashMap<String, DateTime<Utc>>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT dedup_key, max(updated, coalesce(listed_modified, updated)) FROM entries
                 UNION ALL
                 SELECT a.url_key, max(e.updated, coalesce(e.listed_modified, e.updated))
                 FROM aliases a JOIN entries e ON e.dedup_key = a.dedup_key",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
            .map_err(|e| self.err(e))?;
        let mut out = HashMap::new();
        for row in rows {
            let (key, at) = row.map_err(|e| self.err(e))?;
            if let Some(at) = DateTime::from_timestamp(at, 0) {
                out.insert(key, at);
            }
        }
        Ok(out)
    }

    /// Record that `source` lists the stored posts with these twin keys (their own, or one of
    /// the URLs they were reached by), without touching the entries: a post two sources list
    /// is in both sources' feeds, whichever stored it. Returns how many links were new.
    pub fn link_listed(&mut self, source: &str, keys: &[String]) -> Result<usize, StoreError> {
        let mut added = 0;
        for key in keys {
            added += self
                .conn
                .prepare_cached(
                    "INSERT OR IGNORE INTO entry_sources (entry_id, source)
                     SELECT id, ?2 FROM entries WHERE dedup_key = ?1
                     UNION
                     SELECT e.id, ?2 FROM aliases a JOIN entries e ON e.dedup_key = a.dedup_key
                     WHERE a.url_key = ?1",
                )
                .and_then(|mut stmt| stmt.execute(params![key, source]))
                .map_err(|e| self.err(e))?;
        }
        Ok(added)
    }

    /// Remember that `url_key` leads to the post stored under `dedup_key`.
    pub fn add_alias(&mut self, url_key: &str, dedup_key: &str) -> Result<(), StoreError> {
        if url_key == dedup_key {
            return Ok(());
        }
        self.conn
            .prepare_cached(
                "INSERT INTO aliases (url_key, dedup_key) VALUES (?1, ?2)
                 ON CONFLICT (url_key) DO UPDATE SET dedup_key = excluded.dedup_key",
            )
            .and_then(|mut stmt| stmt.execute(params![url_key, dedup_key]))
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// URLs of `source`'s posts published within `days` of `now` and last checked more than
    /// `hours` ago: candidates for a conditional re-fetch that catches edits. Never a copy of a
    /// post that the v24 upgrade left apart (a key retired with `#`, or one written with escapes
    /// as before): reading its URL updates the post's other entry, so it would stay due.
    pub fn recheck_candidates(
        &self,
        source: &str,
        now: DateTime<Utc>,
        days: u32,
        hours: u32,
    ) -> Result<Vec<String>, StoreError> {
        // A window reaching past chrono's first date (a huge setting meant as "always") is the
        // whole past, not a panic.
        let ago = |d: Duration| {
            now.checked_sub_signed(d)
                .unwrap_or(DateTime::<Utc>::MIN_UTC)
        };
        let young = ago(Duration::days(i64::from(days))).timestamp();
        let stale = ago(Duration::hours(i64::from(hours))).timestamp();
        // A post last seen "in the future" was seen while the clock ran ahead and was then
        // set right: due now, not once real time catches up with that date.
        let mut stmt = self
            .conn
            .prepare(
                "SELECT url FROM entries
                 WHERE id IN (SELECT entry_id FROM entry_sources WHERE source = ?1)
                   AND published >= ?2 AND (last_seen <= ?3 OR last_seen > ?4)
                   AND substr(dedup_key, 1, 1) != '#' AND substr(id_key, 1, 1) != '#'
                   AND twin_key_escapes(dedup_key) = dedup_key
                 ORDER BY published DESC, id",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![source, young, stale, now.timestamp()], |r| {
                r.get::<_, String>(0)
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// The post at `url_key` was fetched again because a listing showed it modified at `at`:
    /// that card date is not news any more, whatever the fetch found.
    pub fn set_listed_modified(
        &mut self,
        url_key: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "UPDATE entries SET listed_modified = max(coalesce(listed_modified, ?2), ?2)
                 WHERE dedup_key = ?1
                    OR dedup_key = (SELECT dedup_key FROM aliases WHERE url_key = ?1)",
            )
            .and_then(|mut stmt| stmt.execute(params![url_key, at.timestamp()]))
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// A conditional re-fetch of the post at `url_key` answered 304: it was checked at `now`.
    pub fn touch(&mut self, url_key: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "UPDATE entries SET last_seen = ?2 WHERE dedup_key = ?1
                    OR dedup_key = (SELECT dedup_key FROM aliases WHERE url_key = ?1)",
            )
            .and_then(|mut stmt| stmt.execute(params![url_key, now.timestamp()]))
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// robots.txt copies fetched less than a day before `now`. One dated after `now` (fetched
    /// while the clock was ahead) is stale, not fresh until the clock catches up with it.
    pub fn robots_fresh(&self, now: DateTime<Utc>) -> Result<Vec<RobotsRow>, StoreError> {
        let since = (now - Duration::days(1)).timestamp();
        let mut stmt = self
            .conn
            .prepare(
                "SELECT origin, body, fetched_at FROM robots WHERE fetched_at > ?1 AND fetched_at <= ?2",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([since, now.timestamp()], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<Vec<u8>>>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (origin, body, at) = row.map_err(|e| self.err(e))?;
            out.push((origin, body, self.time(at)?));
        }
        Ok(out)
    }

    /// Save a robots.txt copy.
    pub fn robots_put(&mut self, row: &RobotsRow) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO robots (origin, body, fetched_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (origin) DO UPDATE SET body = excluded.body, fetched_at = excluded.fetched_at",
                params![row.0, row.1, row.2.timestamp()],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Record a run's health figures.
    pub fn record_run_health(
        &mut self,
        source: &str,
        now: DateTime<Utc>,
        h: &RunHealth,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO source_runs (source, at, requests, not_modified, bytes, seen, new, updated,
                     failures, extracted, fill_title, fill_date, fill_author, fill_categories, state)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
                params![
                    source,
                    now.timestamp(),
                    h.requests,
                    h.not_modified,
                    h.bytes as i64,
                    h.seen,
                    h.new,
                    h.updated,
                    h.failures,
                    h.extracted,
                    h.fill.title,
                    h.fill.date,
                    h.fill.author,
                    h.fill.categories,
                    h.state,
                ],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Keep `source_runs` from growing for ever (called after each run is recorded): once a
    /// source has [`FOLD_AT`] rows, all but its newest [`KEEP_RUNS`] (and its newest healthy
    /// run that extracted posts, the health rules' reference) are added to
    /// `source_run_totals` and `source_run_durations` and deleted, in one savepoint. What
    /// `/metrics` reports stays the same (see [`Store::run_totals`]); `status` and the health
    /// rules read only the rows kept. On error nothing is folded, and the next run tries again.
    pub fn fold_old_runs(&mut self, source: &str) -> Result<(), StoreError> {
        let rows: i64 = self
            .conn
            .query_row(
                "SELECT count(*) FROM source_runs WHERE source = ?1",
                [source],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))?;
        if rows < FOLD_AT {
            return Ok(());
        }
        // The runs folded: older than the newest KEEP_RUNS, except the health reference.
        let folded = "source = ?1
             AND (at, id) < (SELECT at, id FROM source_runs WHERE source = ?1
                             ORDER BY at DESC, id DESC LIMIT 1 OFFSET ?2)
             AND id IS NOT (SELECT id FROM source_runs
                            WHERE source = ?1 AND state = 'healthy' AND extracted > 0
                            ORDER BY at DESC, id DESC LIMIT 1)";
        let path = self.path.clone();
        let sp = self
            .conn
            .savepoint()
            .map_err(|e| StoreError::sql(&path, e))?;
        let result = (|| {
            sp.execute(
                &format!(
                    "INSERT INTO source_run_totals (source, runs, requests, not_modified, bytes,
                         new, updated, failures, duration_ms)
                     SELECT ?1, count(*), coalesce(sum(requests), 0),
                            coalesce(sum(not_modified), 0), coalesce(sum(bytes), 0),
                            coalesce(sum(new), 0), coalesce(sum(updated), 0),
                            coalesce(sum(failures), 0), coalesce(sum(duration_ms), 0)
                     FROM source_runs WHERE {folded}
                     ON CONFLICT (source) DO UPDATE SET
                         runs = runs + excluded.runs,
                         requests = requests + excluded.requests,
                         not_modified = not_modified + excluded.not_modified,
                         bytes = bytes + excluded.bytes,
                         new = new + excluded.new,
                         updated = updated + excluded.updated,
                         failures = failures + excluded.failures,
                         duration_ms = duration_ms + excluded.duration_ms"
                ),
                params![source, KEEP_RUNS - 1],
            )?;
            sp.execute(
                &format!(
                    "INSERT INTO source_run_durations (source, upto_ms, runs)
                     SELECT ?1, (duration_ms + 99) / 100 * 100, count(*)
                     FROM source_runs WHERE {folded} AND duration_ms > 0
                     GROUP BY 2
                     ON CONFLICT (source, upto_ms) DO UPDATE SET runs = runs + excluded.runs"
                ),
                params![source, KEEP_RUNS - 1],
            )?;
            sp.execute(
                &format!("DELETE FROM source_runs WHERE {folded}"),
                params![source, KEEP_RUNS - 1],
            )
        })();
        // Dropped without a commit, the savepoint is rolled back.
        result
            .and_then(|_| sp.commit())
            .map_err(|e| StoreError::sql(&path, e))
    }

    /// The most recent run of `source` that was healthy and extracted posts.
    pub fn last_healthy_run(&self, source: &str) -> Result<Option<RunHealth>, StoreError> {
        self.runs(source, "AND state = 'healthy' AND extracted > 0", 1)
            .map(|mut v| v.pop())
    }

    /// The most recent run of `source`, healthy or not.
    pub fn last_run(&self, source: &str) -> Result<Option<RunHealth>, StoreError> {
        self.runs(source, "", 1).map(|mut v| v.pop())
    }

    fn runs(&self, source: &str, filter: &str, limit: u32) -> Result<Vec<RunHealth>, StoreError> {
        let sql = format!(
            "SELECT requests, not_modified, bytes, seen, new, updated, failures, extracted,
                    fill_title, fill_date, fill_author, fill_categories, state
             FROM source_runs WHERE source = ?1 {filter} ORDER BY at DESC, id DESC LIMIT ?2"
        );
        let mut stmt = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![source, limit], |r| {
                Ok(RunHealth {
                    requests: r.get(0)?,
                    not_modified: r.get(1)?,
                    bytes: r.get::<_, i64>(2)? as u64,
                    seen: r.get(3)?,
                    new: r.get(4)?,
                    updated: r.get(5)?,
                    failures: r.get(6)?,
                    extracted: r.get(7)?,
                    fill: Fill {
                        title: r.get(8)?,
                        date: r.get(9)?,
                        author: r.get(10)?,
                        categories: r.get(11)?,
                    },
                    state: r.get(12)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Record one run of `source` at `now` that read the source without a failure but looks
    /// degraded ([`Store::set_source_health`] says why): its last run and its cleared last error
    /// are recorded as [`Store::record_source_run`] records a success's, but not its last
    /// success, which stays the last run that was one. A maintenance page answering 200 is no
    /// success: `status`, `/healthz` and `/metrics` show how long ago the last real one was.
    pub fn record_degraded_run(
        &mut self,
        source: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO source_state (source, last_success, last_error, last_run)
                 VALUES (?1, NULL, NULL, ?2)
                 ON CONFLICT (source) DO UPDATE SET
                     last_error = NULL,
                     last_run = excluded.last_run",
                params![source, now.timestamp()],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Set the source's state (`healthy`, `degraded`, `failing`) and why.
    pub fn set_source_health(
        &mut self,
        source: &str,
        state: &str,
        reason: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO source_state (source, last_run, state, reason) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (source) DO UPDATE SET state = excluded.state, reason = excluded.reason",
                params![source, now.timestamp(), state, reason],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// A source recorded as failing (unreachable, or its index unreadable) was read again:
    /// healthy, its failure reason cleared. Any other state is left as it is.
    pub fn clear_failing(&mut self, source: &str) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE source_state SET state = 'healthy', reason = NULL
                 WHERE source = ?1 AND state = 'failing'",
                [source],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// A source recorded as degraded because a listing page gave no post links had its listing
    /// read again with post links on every page: healthy, the reason cleared (the posts it
    /// links may all be stored already, so no extraction would say so). A source degraded for
    /// another reason (a field missing from its posts) is left as it is.
    pub fn clear_listing_degraded(&mut self, source: &str) -> Result<bool, StoreError> {
        let changed = self
            .conn
            .execute(
                "UPDATE source_state SET state = 'healthy', reason = NULL
                 WHERE source = ?1 AND state = 'degraded' AND reason LIKE ?2 || '%'",
                params![source, LISTING_DEGRADED],
            )
            .map_err(|e| self.err(e))?;
        Ok(changed > 0)
    }

    /// Is `source` recorded as degraded because a listing page gave no post links (see
    /// [`Store::clear_listing_degraded`])?
    pub fn listing_degraded(&self, source: &str) -> Result<bool, StoreError> {
        let found: Option<i64> = self
            .conn
            .query_row(
                "SELECT 1 FROM source_state
                 WHERE source = ?1 AND state = 'degraded' AND reason LIKE ?2 || '%'",
                params![source, LISTING_DEGRADED],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        Ok(found.is_some())
    }

    /// True (and remembered) when no degradation warning was logged for `source` in the day
    /// before `now`: callers warn at most once a day.
    pub fn should_warn(&mut self, source: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let last: Option<i64> = self
            .conn
            .query_row(
                "SELECT warned_at FROM source_state WHERE source = ?1",
                [source],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?
            .flatten();
        if last.is_some_and(|t| t > (now - Duration::days(1)).timestamp()) {
            return Ok(false);
        }
        self.conn
            .execute(
                "UPDATE source_state SET warned_at = ?2 WHERE source = ?1",
                params![source, now.timestamp()],
            )
            .map_err(|e| self.err(e))?;
        Ok(true)
    }

    /// Did the last listing walk of `source` stop at a failed page?
    pub fn walk_incomplete(&self, source: &str) -> Result<bool, StoreError> {
        let v: Option<i64> = self
            .conn
            .query_row(
                "SELECT walk_incomplete FROM source_state WHERE source = ?1",
                [source],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        Ok(v.unwrap_or(0) != 0)
    }

    /// Remember whether the listing walk of `source`, at its index URL `url` (a folder for a
    /// `dir` source), stopped at a failed page, and the `kind` the source was read as (its
    /// configured kind): with `url`, what a renamed source is recognised by.
    pub fn set_walk_incomplete(
        &mut self,
        source: &str,
        url: &str,
        kind: &str,
        incomplete: bool,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO source_state (source, last_run, walk_incomplete, url, kind)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (source) DO UPDATE SET walk_incomplete = excluded.walk_incomplete,
                     url = excluded.url, kind = excluded.kind",
                params![source, now.timestamp(), i64::from(incomplete), url, kind],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Where the next read of `source` through the WordPress REST API starts its pass over
    /// modified posts (see [`Store::set_api_window`]); `None` when no such read was recorded:
    /// the next one is a cold read.
    pub fn api_window(&self, source: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        let at: Option<Option<i64>> = self
            .conn
            .query_row(
                "SELECT api_modified_after FROM source_state WHERE source = ?1",
                [source],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        at.flatten().map(|t| self.time(t)).transpose()
    }

    /// Record where the next read of `source` through the REST API starts (its
    /// `modified_after`), once what this read returned is stored.
    pub fn set_api_window(
        &mut self,
        source: &str,
        modified_after: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO source_state (source, last_run, api_modified_after)
                 VALUES (?1, ?2, ?3)
                 ON CONFLICT (source) DO UPDATE SET api_modified_after = excluded.api_modified_after",
                params![source, now.timestamp(), modified_after.timestamp()],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// The description the listing page of `source` gave when last read (see
    /// `RunState::note_listing_description`); `None` when it gave none or was never read.
    pub fn site_description(&self, source: &str) -> Result<Option<String>, StoreError> {
        let d: Option<Option<String>> = self
            .conn
            .query_row(
                "SELECT site_description FROM source_state WHERE source = ?1",
                [source],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        Ok(d.flatten())
    }

    /// Record the description the listing page of `source` gave in this run (`None`: none).
    pub fn set_site_description(
        &mut self,
        source: &str,
        description: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO source_state (source, last_run, site_description) VALUES (?1, ?2, ?3)
                 ON CONFLICT (source) DO UPDATE SET site_description = excluded.site_description",
                params![source, now.timestamp(), description],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Forget where the next REST API read of `source` starts: its site offers no API (any
    /// more), so its posts are read from their pages.
    pub fn clear_api_window(&mut self, source: &str) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE source_state SET api_modified_after = NULL WHERE source = ?1",
                [source],
            )
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// The index URL `source` was last read from (see [`Store::set_walk_incomplete`]); `None`
    /// when none was recorded.
    pub fn source_url(&self, source: &str) -> Result<Option<String>, StoreError> {
        let url: Option<Option<String>> = self
            .conn
            .query_row(
                "SELECT url FROM source_state WHERE source = ?1",
                [source],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        Ok(url.flatten())
    }

    /// Where `source`'s interrupted backfill continues: `(next URL, pages done)`.
    pub fn backfill_get(&self, source: &str) -> Result<Option<(String, u32)>, StoreError> {
        self.conn
            .query_row(
                "SELECT next_url, pages_done FROM backfill WHERE source = ?1",
                [source],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Save backfill progress.
    pub fn backfill_put(
        &mut self,
        source: &str,
        next_url: &str,
        pages_done: u32,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO backfill (source, next_url, pages_done, started_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (source) DO UPDATE SET next_url = excluded.next_url, pages_done = excluded.pages_done",
                params![source, next_url, pages_done, now.timestamp()],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// The backfill of `source` is complete: what it found waits no more (see
    /// [`Store::note_backfill_found`]), and a post it left pending is an ordinary pending post.
    pub fn backfill_clear(&mut self, source: &str) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction()
            .map_err(|e| StoreError::sql(&self.path, e))?;
        tx.execute("DELETE FROM backfill WHERE source = ?1", [source])
            .and_then(|_| tx.execute("DELETE FROM backfill_found WHERE source = ?1", [source]))
            .and_then(|_| {
                tx.execute(
                    "UPDATE pending SET from_backfill = 0 WHERE source = ?1 AND from_backfill",
                    [source],
                )
            })
            .map_err(|e| StoreError::sql(&self.path, e))?;
        tx.commit().map_err(|e| StoreError::sql(&self.path, e))
    }

    /// The backfill of `source` starts again from the beginning (another way of reading the
    /// archive): its place is forgotten, but not what it found, which still waits (see
    /// [`Store::note_backfill_found`]) until the backfill is complete.
    pub fn backfill_restart(&mut self, source: &str) -> Result<(), StoreError> {
        self.conn
            .execute("DELETE FROM backfill WHERE source = ?1", [source])
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// The entry `id`, just stored as new from `urls` (the location it was read from, and the
    /// URL a REST API post is kept pending under), is history an unfinished backfill of
    /// `source` found when that backfill stored it (`by_backfill`) or left the post pending
    /// ([`Store::keep_pending`]): it is recorded (migration `V18__backfill_found.sql`) to wait
    /// past the heads, unarchived, until the backfill is complete or a head shows it. Called
    /// in the transaction that stores the entry, before its pending row goes, so that an
    /// interrupted backfill (killed included) leaves nothing it stored unrecorded. Nothing is
    /// recorded when no backfill of `source` is unfinished. Returns whether it was recorded.
    pub fn note_backfill_found(
        &mut self,
        source: &str,
        id: &crate::model::EntryId,
        urls: &[&str],
        by_backfill: bool,
    ) -> Result<bool, StoreError> {
        if self.backfill_get(source)?.is_none() {
            return Ok(false);
        }
        let mut found = by_backfill;
        for url in urls {
            if found {
                break;
            }
            found = self
                .conn
                .prepare_cached(
                    "SELECT EXISTS (SELECT 1 FROM pending
                                    WHERE source = ?1 AND url = ?2 AND from_backfill)",
                )
                .and_then(|mut stmt| stmt.query_row(params![source, url], |r| r.get(0)))
                .map_err(|e| self.err(e))?;
        }
        if found {
            self.conn
                .prepare_cached(
                    "INSERT OR IGNORE INTO backfill_found (entry_id, source) VALUES (?1, ?2)",
                )
                .and_then(|mut stmt| stmt.execute(params![id.0, source]))
                .map_err(|e| self.err(e))?;
        }
        Ok(found)
    }
}
