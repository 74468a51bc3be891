//! Store support for RFC 5005 archives and WebSub (`migrations/V6__archives_websub.sql`).
//!
//! Owns: which archive page of a feed each archived entry is on, the frozen entries of complete
//! pages (and what their files were last written from), the WebSub publish pings the hub
//! has not accepted yet, and how publishing each feed last went (`V16__feed_state.sql`). Must not: render documents, choose page sizes or head lengths
//! (parameters), or speak to the hub.
//!
//! An entry is archived once, when it falls out of its feed's head, and stays on its page. The
//! newest page is open (it fills up); the moment the next page is started, the full page is
//! frozen: its entries are kept as they were then (JSON), so its document never changes its
//! entries, even when a post on it is edited later.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};

use super::entries::{COLUMNS, RawRow};
use super::{Store, StoreError};
use crate::model::Entry;

/// How publishing a feed last went (migration `V16__feed_state.sql`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedState {
    pub feed: String,
    /// The last time all its files were written (or found unchanged).
    pub last_published: Option<DateTime<Utc>>,
    /// Why the last attempt failed, while it fails.
    pub last_error: Option<String>,
    /// Since when it has been failing.
    pub failing_since: Option<DateTime<Utc>>,
}

/// One archive page of a feed, as the store knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchivePageInfo {
    /// 1 is the oldest page.
    pub page: u32,
    /// Complete: its entries are frozen.
    pub frozen: bool,
    /// For a complete page: what its file was last written from and the file's length (see
    /// [`Store::set_archive_written`]).
    pub written: Option<(String, u64)>,
}

impl Store {
    /// Ids of the entries of `sources` (with at least one of `categories`, case-insensitive,
    /// when that is non-empty) that `feed` has not archived, in feed order: newest `published`
    /// first, then newest `updated`, then `id` ascending.
    pub fn unarchived_ids(
        &self,
        feed: &str,
        sources: &[String],
        categories: &[String],
    ) -> Result<Vec<String>, StoreError> {
        if sources.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders = (2..sources.len() + 2)
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let query = format!(
            "SELECT id, categories FROM entries
             WHERE id IN (SELECT entry_id FROM entry_sources WHERE source IN ({placeholders}))
               AND id NOT IN (SELECT entry_id FROM archive_entries WHERE feed = ?1)
             ORDER BY published DESC, updated DESC, id ASC"
        );
        let wanted: Vec<String> = categories.iter().map(|c| c.to_lowercase()).collect();
        let mut stmt = self.conn.prepare(&query).map_err(|e| self.err(e))?;
        let args = std::iter::once(feed).chain(sources.iter().map(String::as_str));
        let mut rows = stmt
            .query(params_from_iter(args))
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(|e| self.err(e))? {
            let id: String = row.get(0).map_err(|e| self.err(e))?;
            if !wanted.is_empty() {
                let cats: String = row.get(1).map_err(|e| self.err(e))?;
                let cats: Vec<String> = serde_json::from_str(&cats).map_err(|e| {
                    StoreError::bad_value(&self.path, format!("categories of {id}: {e}"))
                })?;
                if !cats.iter().any(|c| wanted.contains(&c.to_lowercase())) {
                    continue;
                }
            }
            out.push(id);
        }
        Ok(out)
    }

    /// Which of `ids` the unfinished backfills of `sources` stored and no head has shown yet
    /// (see [`Store::note_backfill_found`]).
    pub fn backfill_history(
        &self,
        sources: &[String],
        ids: &[String],
    ) -> Result<std::collections::HashSet<String>, StoreError> {
        let mut out = std::collections::HashSet::new();
        if sources.is_empty() || ids.is_empty() {
            return Ok(out);
        }
        let n = sources.len();
        let in_sources = (1..=n)
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(", ");
        // SQLite allows 32766 parameters; stay well below.
        for chunk in ids.chunks(500) {
            let in_ids = (n + 1..=n + chunk.len())
                .map(|i| format!("?{i}"))
                .collect::<Vec<_>>()
                .join(", ");
            let query = format!(
                "SELECT entry_id FROM backfill_found
                 WHERE source IN ({in_sources}) AND entry_id IN ({in_ids})"
            );
            let mut stmt = self.conn.prepare(&query).map_err(|e| self.err(e))?;
            let mut rows = stmt
                .query(params_from_iter(sources.iter().chain(chunk)))
                .map_err(|e| self.err(e))?;
            while let Some(row) = rows.next().map_err(|e| self.err(e))? {
                out.insert(row.get(0).map_err(|e| self.err(e))?);
            }
        }
        Ok(out)
    }

    /// These entries are shown in a head document: they wait for no backfill any more (see
    /// [`Store::note_backfill_found`]).
    pub fn shown_in_head(&mut self, ids: &[String]) -> Result<(), StoreError> {
        for chunk in ids.chunks(500) {
            let in_ids = (1..=chunk.len())
                .map(|i| format!("?{i}"))
                .collect::<Vec<_>>()
                .join(", ");
            self.conn
                .execute(
                    &format!("DELETE FROM backfill_found WHERE entry_id IN ({in_ids})"),
                    params_from_iter(chunk),
                )
                .map_err(|e| self.err(e))?;
        }
        Ok(())
    }

    /// The entries with these ids, in the order given; ids no longer stored are skipped. Their
    /// related links are those readers are shown (see [`Store::get_stored`]); a page frozen from
    /// them keeps the links it was frozen with.
    pub fn entries_by_ids(&self, ids: &[String]) -> Result<Vec<Entry>, StoreError> {
        entries_by_ids(&self.conn, &self.path, ids)
    }

    /// The archive pages of `feed`, oldest first.
    pub fn archive_pages(&self, feed: &str) -> Result<Vec<ArchivePageInfo>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT page, frozen_entries IS NOT NULL, written_from, written_len
                 FROM archive_pages WHERE feed = ?1 ORDER BY page",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([feed], |row| {
                let from: Option<String> = row.get(2)?;
                let len: Option<i64> = row.get(3)?;
                Ok(ArchivePageInfo {
                    page: row.get(0)?,
                    frozen: row.get(1)?,
                    written: from.zip(len.map(|n| n.max(0) as u64)),
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Ids of the entries on archive page `page` of `feed`.
    pub fn archive_page_ids(&self, feed: &str, page: u32) -> Result<Vec<String>, StoreError> {
        page_ids(&self.conn, feed, page).map_err(|e| self.err(e))
    }

    /// The entries of a complete page as they were when it was completed; `None` while the
    /// page is open (or does not exist).
    pub fn frozen_entries(&self, feed: &str, page: u32) -> Result<Option<Vec<Entry>>, StoreError> {
        let json: Option<String> = self
            .conn
            .query_row(
                "SELECT frozen_entries FROM archive_pages WHERE feed = ?1 AND page = ?2",
                params![feed, page],
                |row| row.get::<_, Option<String>>(0),
            )
            .optional()
            .map(Option::flatten)
            .map_err(|e| self.err(e))?;
        json.map(|j| {
            serde_json::from_str(&j).map_err(|e| {
                StoreError::bad_value(&self.path, format!("archive page {feed}/{page}: {e}"))
            })
        })
        .transpose()
    }

    /// Remember that complete page `page`'s file was written from `from` (the caller's summary
    /// of everything besides the frozen entries that the document depends on) with `len` bytes.
    pub fn set_archive_written(
        &mut self,
        feed: &str,
        page: u32,
        from: &str,
        len: u64,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE archive_pages SET written_from = ?3, written_len = ?4
                 WHERE feed = ?1 AND page = ?2",
                params![feed, page, from, len as i64],
            )
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// Archive `oldest_first` (entry ids, oldest first) for `feed`, in one transaction: each
    /// goes onto the open page until it holds `page_size` entries; then that page is completed
    /// (its current entries frozen) and the next page is opened. Nothing is archived twice: an
    /// id already archived for `feed` is skipped.
    pub fn archive(
        &mut self,
        feed: &str,
        oldest_first: &[String],
        page_size: u32,
    ) -> Result<(), StoreError> {
        if oldest_first.is_empty() {
            return Ok(());
        }
        let path = self.path.clone();
        let sql = |e| StoreError::sql(&path, e);
        let tx = self.conn.transaction().map_err(sql)?;
        let newest: Option<(u32, bool)> = tx
            .query_row(
                "SELECT page, frozen_entries IS NOT NULL FROM archive_pages
                 WHERE feed = ?1 ORDER BY page DESC LIMIT 1",
                [feed],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()
            .map_err(sql)?;
        let mut page = match newest {
            Some((p, false)) => p,
            Some((p, true)) => open_page(&tx, feed, p + 1).map_err(sql)?,
            None => open_page(&tx, feed, 1).map_err(sql)?,
        };
        let mut count: u32 = tx
            .query_row(
                "SELECT count(*) FROM archive_entries WHERE feed = ?1 AND page = ?2",
                params![feed, page],
                |row| row.get(0),
            )
            .map_err(sql)?;
        for id in oldest_first {
            let already: bool = tx
                .prepare_cached(
                    "SELECT EXISTS (SELECT 1 FROM archive_entries WHERE feed = ?1 AND entry_id = ?2)",
                )
                .and_then(|mut stmt| stmt.query_row(params![feed, id], |row| row.get(0)))
                .map_err(sql)?;
            if already {
                continue;
            }
            if count >= page_size {
                let ids = page_ids(&tx, feed, page).map_err(sql)?;
                let entries = entries_by_ids(&tx, &path, &ids)?;
                let json = serde_json::to_string(&entries).map_err(|e| {
                    StoreError::bad_value(&path, format!("archive page {feed}/{page}: {e}"))
                })?;
                tx.execute(
                    "UPDATE archive_pages SET frozen_entries = ?3 WHERE feed = ?1 AND page = ?2",
                    params![feed, page, json],
                )
                .map_err(sql)?;
                page = open_page(&tx, feed, page + 1).map_err(sql)?;
                count = 0;
            }
            tx.prepare_cached(
                "INSERT INTO archive_entries (feed, entry_id, page) VALUES (?1, ?2, ?3)",
            )
            .and_then(|mut stmt| stmt.execute(params![feed, id, page]))
            .map_err(sql)?;
            count += 1;
        }
        tx.commit().map_err(sql)
    }

    /// Record how publishing `feed` went at `now`: `error` when it failed (the failure's start
    /// is kept while it goes on), `None` when every file was written or found unchanged.
    pub fn record_publish(
        &mut self,
        feed: &str,
        now: DateTime<Utc>,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        let done = match error {
            None => self.conn.execute(
                "INSERT INTO feed_state (feed, last_published) VALUES (?1, ?2)
                 ON CONFLICT (feed) DO UPDATE SET last_published = excluded.last_published,
                     last_error = NULL, failing_since = NULL",
                params![feed, now.timestamp()],
            ),
            Some(error) => self.conn.execute(
                "INSERT INTO feed_state (feed, last_error, failing_since) VALUES (?1, ?3, ?2)
                 ON CONFLICT (feed) DO UPDATE SET last_error = excluded.last_error,
                     failing_since = coalesce(feed_state.failing_since, excluded.failing_since)",
                params![feed, now.timestamp(), error],
            ),
        };
        done.map(|_| ()).map_err(|e| self.err(e))
    }

    /// How publishing each feed last went, by feed name; empty on a database from before this
    /// was recorded (a read-only reader next to an older writer).
    pub fn feed_states(&self) -> Result<Vec<FeedState>, StoreError> {
        if !self.has_table("feed_state")? {
            return Ok(Vec::new());
        }
        let mut stmt = self
            .conn
            .prepare(
                "SELECT feed, last_published, last_error, failing_since FROM feed_state
                 ORDER BY feed",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<i64>>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, Option<i64>>(3)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (feed, published, error, since) = row.map_err(|e| self.err(e))?;
            out.push(FeedState {
                feed,
                last_published: published.map(|t| self.time(t)).transpose()?,
                last_error: error,
                failing_since: since.map(|t| self.time(t)).transpose()?,
            });
        }
        Ok(out)
    }

    /// Record that the hub is owed a publish ping for each of `topics` (kept until
    /// [`Store::websub_done`]), so a ping lost to a crash or a down hub is sent next time.
    pub fn websub_owe(&mut self, topics: &[String], now: DateTime<Utc>) -> Result<(), StoreError> {
        let path = self.path.clone();
        let sql = |e| StoreError::sql(&path, e);
        let tx = self.conn.transaction().map_err(sql)?;
        for t in topics {
            tx.execute(
                "INSERT OR IGNORE INTO websub_pending (topic, since) VALUES (?1, ?2)",
                params![t, now.timestamp()],
            )
            .map_err(sql)?;
        }
        tx.commit().map_err(sql)
    }

    /// Topics still owed a publish ping, oldest first, with the time they were first owed.
    pub fn websub_owed(&self) -> Result<Vec<(String, DateTime<Utc>)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT topic, since FROM websub_pending ORDER BY since, topic")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
            })
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (topic, since) = row.map_err(|e| self.err(e))?;
            out.push((topic, self.time(since)?));
        }
        Ok(out)
    }

    /// How many pings are owed. 0 on a database from before WebSub existed (a read-only
    /// reader next to an older writer).
    pub fn websub_owed_count(&self) -> Result<u64, StoreError> {
        if !self.has_table("websub_pending")? {
            return Ok(0);
        }
        self.conn
            .query_row("SELECT count(*) FROM websub_pending", [], |r| {
                r.get::<_, i64>(0)
            })
            .map(|n| n.max(0) as u64)
            .map_err(|e| self.err(e))
    }

    /// The hub accepted the ping for `topic`.
    pub fn websub_done(&mut self, topic: &str) -> Result<(), StoreError> {
        self.conn
            .execute("DELETE FROM websub_pending WHERE topic = ?1", [topic])
            .map(|_| ())
            .map_err(|e| self.err(e))
    }
}

fn open_page(conn: &Connection, feed: &str, page: u32) -> rusqlite::Result<u32> {
    conn.execute(
        "INSERT INTO archive_pages (feed, page) VALUES (?1, ?2)",
        params![feed, page],
    )?;
    Ok(page)
}

fn page_ids(conn: &Connection, feed: &str, page: u32) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare(
        "SELECT entry_id FROM archive_entries WHERE feed = ?1 AND page = ?2 ORDER BY entry_id",
    )?;
    let rows = stmt.query_map(params![feed, page], |row| row.get(0))?;
    rows.collect()
}

fn entries_by_ids(conn: &Connection, path: &str, ids: &[String]) -> Result<Vec<Entry>, StoreError> {
    let mut found: HashMap<String, Entry> = HashMap::with_capacity(ids.len());
    // SQLite allows 32766 parameters; stay well below.
    for chunk in ids.chunks(500) {
        let placeholders = (1..=chunk.len())
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let query = format!("SELECT {COLUMNS} FROM entries WHERE id IN ({placeholders})");
        let mut stmt = conn.prepare(&query).map_err(|e| StoreError::sql(path, e))?;
        let mut rows = stmt
            .query(params_from_iter(chunk))
            .map_err(|e| StoreError::sql(path, e))?;
        while let Some(row) = rows.next().map_err(|e| StoreError::sql(path, e))? {
            let stored = RawRow::read(row)
                .map_err(|e| StoreError::sql(path, e))?
                .into_stored(path)?;
            found.insert(stored.entry.id.0.clone(), stored.entry);
        }
    }
    let mut entries: Vec<Entry> = ids.iter().filter_map(|id| found.remove(id)).collect();
    for e in &mut entries {
        super::digest::show_related(conn, path, &mut e.related)?;
    }
    Ok(entries)
}
