//! Digest bookkeeping: sent issues, mailed entries, fixed related links, and the queries the
//! digest needs.
//!
//! Owns: the SQL of the `digest_issue`, `digest_mailed` and `related_fixed` tables
//! (`migrations/V3__digest.sql`), of `digest_reached` (`V13`), of `digest_state` (`V17`: a
//! digest that could not be sent) and of `digest_window` (`V21`: the instants each week's digest
//! covered), the statements that fix an entry's related links, and the
//! one that keeps a link's URL and title those of the entry it points at ([`retarget_related`],
//! run by the upsert that changes that entry), and the lookups that give readers each link as
//! they are shown it (`show_related`: only to entries some source still holds).
//! A store holds one digest's history (a configuration has one `[digest]`, one list): an issue
//! is recorded once per week, under the feed it was built from until
//! [`Store::carry_digest_history`] makes it the digest's current feed's, and the entries every
//! issue mailed, whichever feed, are mailed ([`Store::digest_mailed_ids`]). An issue is recorded
//! as delivered when an SMTP server accepted it, or as only written; a written issue may later
//! be marked delivered, never the other way round.
//! Must not: decide what an issue holds (that is `digest::select`) or render anything.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};

use super::{Store, StoreError, from_unix};
use crate::model::{Entry, EntryId, Link};
use crate::normalize::twin_key;

use super::StoredEntry;

/// A recorded issue of a feed's digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestIssue {
    /// The ISO week label, `2024-W46`.
    pub week: String,
    /// The subject line it was sent with.
    pub subject: String,
    /// The `Message-ID` it was sent with (without angle brackets).
    pub message_id: String,
    /// When the server accepted it (or when it was written, if not delivered).
    pub sent_at: DateTime<Utc>,
    /// Whether an SMTP server accepted it; `false` when only its files were written.
    pub delivered: bool,
    /// The headlines it carried, in order.
    pub titles: Vec<String>,
}

/// What [`Store::carry_digest_history`] changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CarriedHistory {
    /// Issues recorded for another feed that are now the digest's feed's: (that feed, week).
    pub moved: Vec<(String, String)>,
    /// Weeks that were on record for the digest's feed and another feed both: one record kept.
    pub doubled: Vec<DoubledWeek>,
}

/// A week an earlier version recorded for two feeds (it sent the week once for each): see
/// [`Store::carry_digest_history`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoubledWeek {
    pub week: String,
    /// The other feed the week was on record for.
    pub other_feed: String,
    /// The `Message-ID` of the record kept.
    pub kept_message_id: String,
    /// The `Message-ID` of the record dropped.
    pub dropped_message_id: String,
    /// The other feed's record was kept (it was sent; the digest's feed's only written): its
    /// web copies replace those in the digest's folder.
    pub took_other: bool,
}

/// How [`Store::record_digest_issue_around`] failed.
#[derive(Debug)]
pub enum SendAndRecord<E> {
    /// The record could not be reserved (the store is locked, full or read-only, or the week
    /// was recorded meanwhile): nothing was sent, nothing recorded.
    NotSent(StoreError),
    /// Sending failed: nothing was recorded.
    SendFailed(E),
    /// Sending succeeded, but the record could not be committed.
    NotRecorded(StoreError),
}

/// The instants a week's digest covered (migration `V21__digest_window.sql`): its week, Monday
/// 00:00 to Monday 00:00 in the zone it was counted in, from earlier when the week before it
/// ended earlier (`[digest] timezone` changed between them). Recorded by a real run that sent
/// or wrote an issue, or found nothing to send; read by the next week's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestWindow {
    /// The ISO week label, `2024-W47`.
    pub week: String,
    /// The IANA zone the week was counted in.
    pub timezone: String,
    /// The first instant covered.
    pub start: DateTime<Utc>,
    /// The first instant after it.
    pub end: DateTime<Utc>,
}

/// A digest that could not be sent (migration `V17__digest_state.sql`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestFailure {
    pub feed: String,
    /// The ISO week it was for.
    pub week: String,
    pub error: String,
    pub since: DateTime<Utc>,
}

impl Store {
    /// Record how the digest of `feed` went at `now`: `Some((week, error))` when it could not be
    /// sent (the failure's start is kept while it goes on), `None` when it was sent, written or
    /// had nothing to send.
    pub fn record_digest_attempt(
        &mut self,
        feed: &str,
        now: DateTime<Utc>,
        failure: Option<(&str, &str)>,
    ) -> Result<(), StoreError> {
        let done = match failure {
            None => self
                .conn
                .execute("DELETE FROM digest_state WHERE feed = ?1", [feed]),
            Some((week, error)) => self.conn.execute(
                "INSERT INTO digest_state (feed, week, last_error, failing_since)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (feed) DO UPDATE SET week = excluded.week,
                     last_error = excluded.last_error",
                params![feed, week, error, now.timestamp()],
            ),
        };
        done.map(|_| ()).map_err(|e| self.err(e))
    }

    /// The digest of `feed`, when it could not be sent; `None` on a database from before this
    /// was recorded.
    pub fn digest_failure(&self, feed: &str) -> Result<Option<DigestFailure>, StoreError> {
        if !self.has_table("digest_state")? {
            return Ok(None);
        }
        let row: Option<(String, String, i64)> = self
            .conn
            .query_row(
                "SELECT week, last_error, failing_since FROM digest_state WHERE feed = ?1",
                [feed],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        row.map(|(week, error, since)| {
            Ok(DigestFailure {
                feed: feed.to_owned(),
                week,
                error,
                since: from_unix(&self.path, since)?,
            })
        })
        .transpose()
    }

    /// The entries of `sources` that were published or first seen in `[from, to)`.
    pub fn digest_candidates(
        &self,
        sources: &[String],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<StoredEntry>, StoreError> {
        if sources.is_empty() {
            return Ok(Vec::new());
        }
        let n = sources.len();
        let placeholders = (1..=n)
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let query = format!(
            "SELECT dedup_key FROM entries
             WHERE id IN (SELECT entry_id FROM entry_sources WHERE source IN ({placeholders}))
             AND ((published >= ?{a} AND published < ?{b}) OR (first_seen >= ?{a} AND first_seen < ?{b}))
             ORDER BY id",
            a = n + 1,
            b = n + 2
        );
        let mut args: Vec<rusqlite::types::Value> = sources
            .iter()
            .map(|s| rusqlite::types::Value::Text(s.clone()))
            .collect();
        args.push(from.timestamp().into());
        args.push(to.timestamp().into());
        let keys = {
            let mut stmt = self.conn.prepare(&query).map_err(|e| self.err(e))?;
            let rows = stmt
                .query_map(params_from_iter(args), |r| r.get::<_, String>(0))
                .map_err(|e| self.err(e))?;
            rows.collect::<Result<Vec<_>, _>>()
                .map_err(|e| self.err(e))?
        };
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            if let Some(s) = self.get_stored(&key)? {
                out.push(s);
            }
        }
        Ok(out)
    }

    /// Every source name that has entries, sorted.
    pub fn entry_sources(&self) -> Result<Vec<String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT DISTINCT source FROM entry_sources ORDER BY source")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.err(e))
    }

    /// The ids of the entries some issue already mailed, whichever feed it was recorded for:
    /// a store holds one digest (one `[digest]` table, one list), so a post mailed once is
    /// never mailed again after `[digest] feed` is renamed or pointed at another feed.
    pub fn digest_mailed_ids(&self) -> Result<HashSet<EntryId>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT DISTINCT entry_id FROM digest_mailed")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(|e| self.err(e))?;
        rows.map(|r| r.map(EntryId))
            .collect::<Result<HashSet<_>, _>>()
            .map_err(|e| self.err(e))
    }

    /// The recipients the issue of `week` already reached on an attempt that stopped before it
    /// reached them all (see [`Store::record_digest_reached`]), as envelope addresses.
    pub fn digest_reached(&self, feed: &str, week: &str) -> Result<Vec<String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT address FROM digest_reached WHERE feed = ?1 AND week = ?2 ORDER BY rowid",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([feed, week], |r| r.get::<_, String>(0))
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.err(e))
    }

    /// Record that the issue of `week` reached `addresses` though the send stopped before it
    /// reached every recipient: the retry leaves them out. Synced to disk like the issue's own
    /// record (see [`Store::record_digest_issue_around`]); the rows go once the issue is
    /// recorded.
    pub fn record_digest_reached(
        &mut self,
        feed: &str,
        week: &str,
        addresses: &[String],
    ) -> Result<(), StoreError> {
        self.with_full_sync(|store| {
            let sql = |e| store.err(e);
            store.conn.execute_batch("BEGIN IMMEDIATE").map_err(sql)?;
            let written = addresses
                .iter()
                .try_for_each(|address| {
                    store
                        .conn
                        .execute(
                            "INSERT OR IGNORE INTO digest_reached (feed, week, address)
                             VALUES (?1, ?2, ?3)",
                            params![feed, week, address],
                        )
                        .map(drop)
                })
                .and_then(|()| store.conn.execute_batch("COMMIT"))
                .map_err(sql);
            if written.is_err() && !store.conn.is_autocommit() {
                let _ = store.conn.execute_batch("ROLLBACK");
            }
            written
        })?
    }

    /// The ids the issue of `week` mailed, in the order it listed them.
    pub fn digest_issue_entries(&self, feed: &str, week: &str) -> Result<Vec<EntryId>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT entry_id FROM digest_mailed WHERE feed = ?1 AND week = ?2 ORDER BY rowid",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([feed, week], |r| r.get::<_, String>(0))
            .map_err(|e| self.err(e))?;
        rows.map(|r| r.map(EntryId))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.err(e))
    }

    /// The recorded issue of `feed` for `week`, if one was sent (or written).
    pub fn digest_issue(&self, feed: &str, week: &str) -> Result<Option<DigestIssue>, StoreError> {
        let row = self
            .conn
            .query_row(
                "SELECT week, subject, message_id, sent_at, delivered, titles FROM digest_issue
                 WHERE feed = ?1 AND week = ?2",
                [feed, week],
                issue_row,
            )
            .optional()
            .map_err(|e| self.err(e))?;
        row.map(|r| self.issue_from_row(r)).transpose()
    }

    /// The issue on record for `week` whichever feed it was recorded for, with that feed: one
    /// recorded as sent first (an earlier version could record a week once per feed). A week on
    /// record is never sent again, whatever `[digest] feed` names now.
    pub fn digest_week_issue(
        &self,
        week: &str,
    ) -> Result<Option<(String, DigestIssue)>, StoreError> {
        let row = self
            .conn
            .query_row(
                "SELECT week, subject, message_id, sent_at, delivered, titles, feed
                 FROM digest_issue WHERE week = ?1 ORDER BY delivered DESC, feed LIMIT 1",
                [week],
                |r| Ok((issue_row(r)?, r.get::<_, String>(6)?)),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        row.map(|(r, feed)| Ok((feed, self.issue_from_row(r)?)))
            .transpose()
    }

    /// The feeds, other than `feed`, that issues are on record for, with how many each and the
    /// newest week: the digest's history that [`Store::carry_digest_history`] would make
    /// `feed`'s.
    pub fn digest_history_elsewhere(
        &self,
        feed: &str,
    ) -> Result<Vec<(String, usize, String)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT feed, count(*), max(week) FROM digest_issue WHERE feed <> ?1
                 GROUP BY feed ORDER BY feed",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([feed], |r| {
                Ok((r.get(0)?, r.get::<_, i64>(1)?.max(0) as usize, r.get(2)?))
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.err(e))
    }

    /// Every recorded issue of `feed`, newest week first.
    pub fn digest_issues(&self, feed: &str) -> Result<Vec<DigestIssue>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT week, subject, message_id, sent_at, delivered, titles FROM digest_issue
                 WHERE feed = ?1 ORDER BY week DESC",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([feed], issue_row)
            .map_err(|e| self.err(e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.err(e))?;
        rows.into_iter().map(|r| self.issue_from_row(r)).collect()
    }

    /// Make the digest's whole history `feed`'s, in one transaction: a store holds one digest,
    /// so the issues recorded for another feed (`[digest] feed` renamed, or pointed at another
    /// feed, once or several times) become `feed`'s, with the entries they mailed and the
    /// recipients an unfinished send reached. A week on record for `feed` and another feed both
    /// (an earlier version sent such a week once per feed) keeps one record: the one sent rather
    /// than only written, else `feed`'s; the entries the other mailed stay mailed.
    ///
    /// `before_commit` is given what changes, before it is committed (to copy the issues' web
    /// copies): its error leaves the history as it was. Returns what changed.
    pub fn carry_digest_history<E: From<StoreError>>(
        &mut self,
        feed: &str,
        before_commit: impl FnOnce(&CarriedHistory) -> Result<(), E>,
    ) -> Result<CarriedHistory, E> {
        let Store { conn, path, .. } = self;
        let path: &str = path;
        let sql = |e| StoreError::sql(path, e);
        let tx = conn.transaction().map_err(sql)?;
        let others: Vec<(String, String, bool, String)> = {
            // Sent before written: the first record of a week taken is one sent, if any was.
            let mut stmt = tx
                .prepare(
                    "SELECT feed, week, delivered, message_id FROM digest_issue WHERE feed <> ?1
                     ORDER BY week, delivered DESC, feed",
                )
                .map_err(sql)?;
            stmt.query_map([feed], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                .map_err(sql)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(sql)?
        };
        let mut carried = CarriedHistory::default();
        if others.is_empty() {
            return Ok(carried);
        }
        for (old, week, delivered, message_id) in others {
            let own: Option<(bool, String)> = tx
                .query_row(
                    "SELECT delivered, message_id FROM digest_issue WHERE feed = ?1 AND week = ?2",
                    [feed, &week],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()
                .map_err(sql)?;
            let delete = |f: &str| {
                tx.execute(
                    "DELETE FROM digest_issue WHERE feed = ?1 AND week = ?2",
                    [f, &week],
                )
                .map_err(sql)
            };
            let take = || {
                tx.execute(
                    "UPDATE digest_issue SET feed = ?1 WHERE feed = ?2 AND week = ?3",
                    [feed, &old, &week],
                )
                .map_err(sql)
            };
            let Some((own_delivered, own_message_id)) = own else {
                take()?;
                carried.moved.push((old, week));
                continue;
            };
            // Two records of one week: the one sent is kept, else `feed`'s.
            let took_other = delivered && !own_delivered;
            let (kept, dropped) = if took_other {
                delete(feed)?;
                take()?;
                (message_id, own_message_id)
            } else {
                delete(&old)?;
                (own_message_id, message_id)
            };
            carried.doubled.push(DoubledWeek {
                week,
                other_feed: old,
                kept_message_id: kept,
                dropped_message_id: dropped,
                took_other,
            });
        }
        for table in ["digest_mailed", "digest_reached"] {
            // A row already there for `feed` (the same entry or address) stays as it is.
            tx.execute(
                &format!("UPDATE OR IGNORE {table} SET feed = ?1 WHERE feed <> ?1"),
                [feed],
            )
            .map_err(sql)?;
            tx.execute(&format!("DELETE FROM {table} WHERE feed <> ?1"), [feed])
                .map_err(sql)?;
        }
        before_commit(&carried)?;
        tx.commit().map_err(sql)?;
        Ok(carried)
    }

    /// Record the issue of `week` as [`Store::record_digest_issue`] does (`entries` given) or as
    /// [`Store::mark_digest_delivered`] does (`entries` `None`: an issue recorded as only
    /// written), with the write reserved before `send` runs: the transaction is opened with
    /// SQLite's write lock and its rows written and flushed to the write-ahead log first, so a
    /// store that is locked, full or read-only fails *before* anything is sent
    /// ([`SendAndRecord::NotSent`]). Then `send` runs with the lock held; its failure rolls
    /// the record back ([`SendAndRecord::SendFailed`]); its success commits it. A commit that
    /// still fails is tried again (three attempts, a second apart) and otherwise reported as
    /// [`SendAndRecord::NotRecorded`]: `send` succeeded, the store does not know.
    ///
    /// A week already recorded (as delivered, or at all when `entries` is given) is
    /// [`SendAndRecord::NotSent`] too: another run recorded it meanwhile, and `send` is not
    /// called. A process killed while `send` runs leaves nothing recorded (SQLite rolls the
    /// open transaction back on the next open).
    ///
    /// The commit is synced to disk (`synchronous = FULL` for this transaction; the store
    /// otherwise runs with `NORMAL`, where a power cut may undo the last commits): the record
    /// of an issue that went out survives a crash of the machine too.
    pub fn record_digest_issue_around<T, E>(
        &mut self,
        feed: &str,
        issue: &DigestIssue,
        entries: Option<&[EntryId]>,
        window: Option<&DigestWindow>,
        send: impl FnOnce() -> Result<T, E>,
    ) -> Result<T, SendAndRecord<E>> {
        self.with_full_sync(|store| store.send_and_record(feed, issue, entries, window, send))
            .map_err(SendAndRecord::NotSent)
            .and_then(|sent| sent)
    }

    /// Run `f` with every commit synced to disk (`synchronous = FULL`), then back to `NORMAL`,
    /// whatever `f` returned. SQLite only takes the change outside a transaction, so it goes
    /// around the whole of one.
    fn with_full_sync<R>(&mut self, f: impl FnOnce(&mut Store) -> R) -> Result<R, StoreError> {
        self.conn
            .pragma_update(None, "synchronous", "FULL")
            .map_err(|e| self.err(e))?;
        let result = f(self);
        // Should this fail, later commits are synced too: that costs time, not data.
        let _ = self.conn.pragma_update(None, "synchronous", "NORMAL");
        Ok(result)
    }

    /// [`Store::record_digest_issue_around`] once the commit is synced.
    fn send_and_record<T, E>(
        &mut self,
        feed: &str,
        issue: &DigestIssue,
        entries: Option<&[EntryId]>,
        window: Option<&DigestWindow>,
        send: impl FnOnce() -> Result<T, E>,
    ) -> Result<T, SendAndRecord<E>> {
        self.reserve_issue(feed, issue, entries, window)
            .map_err(SendAndRecord::NotSent)?;
        let sent = match send() {
            Ok(sent) => sent,
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                return Err(SendAndRecord::SendFailed(e));
            }
        };
        let mut last = None;
        for attempt in 0..3 {
            if attempt > 0 {
                std::thread::sleep(std::time::Duration::from_secs(1));
                // SQLite may have rolled the transaction back by itself (a full disk): write it
                // again. No other writer can have recorded the week: the lock file is ours.
                if self.conn.is_autocommit()
                    && let Err(e) = self.reserve_issue(feed, issue, entries, window)
                {
                    last = Some(e);
                    continue;
                }
            }
            match self.conn.execute_batch("COMMIT") {
                Ok(()) => return Ok(sent),
                Err(e) => last = Some(self.err(e)),
            }
        }
        if !self.conn.is_autocommit() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
        Err(SendAndRecord::NotRecorded(last.unwrap_or_else(|| {
            StoreError::Db {
                path: self.path.clone(),
                message: "the commit failed".into(),
            }
        })))
    }

    /// Open a write transaction holding the issue's rows, flushed to the log, and leave it open.
    /// On error nothing is left open.
    fn reserve_issue(
        &mut self,
        feed: &str,
        issue: &DigestIssue,
        entries: Option<&[EntryId]>,
        window: Option<&DigestWindow>,
    ) -> Result<(), StoreError> {
        self.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| self.err(e))?;
        // As in `batch`: a statement run after SQLite rolled the transaction back by itself
        // must fail, not commit alone.
        let written = self
            .conn
            .commit_hook(Some(|| true))
            .map_err(|e| self.err(e))
            .and_then(|()| self.write_issue_rows(feed, issue, entries, window));
        let _ = self.conn.commit_hook(None::<fn() -> bool>);
        let written = written.and_then(|()| {
            if self.conn.is_autocommit() {
                return Err(StoreError::Db {
                    path: self.path.clone(),
                    message: "SQLite rolled the record back after an error (such as a full disk)"
                        .into(),
                });
            }
            // Dirty pages go to the write-ahead log now, so a full disk shows before sending.
            self.conn.cache_flush().map_err(|e| self.err(e))
        });
        if written.is_err() && !self.conn.is_autocommit() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
        written
    }

    fn write_issue_rows(
        &self,
        feed: &str,
        issue: &DigestIssue,
        entries: Option<&[EntryId]>,
        window: Option<&DigestWindow>,
    ) -> Result<(), StoreError> {
        let sql = |e| self.err(e);
        // Recorded as sent, the issue needs no list of whom an unfinished send reached.
        self.conn
            .execute(
                "DELETE FROM digest_reached WHERE feed = ?1 AND week = ?2",
                params![feed, issue.week],
            )
            .map_err(sql)?;
        let Some(entries) = entries else {
            if !self.mark_delivered_row(feed, issue)? {
                return Err(StoreError::Db {
                    path: self.path.clone(),
                    message: format!(
                        "the digest issue of {} for {} is not recorded as only written any more \
                         (another run sent it meanwhile)",
                        feed, issue.week
                    ),
                });
            }
            return Ok(());
        };
        // One issue per week, whichever feed: a week on record for another feed is sent.
        let elsewhere: Option<String> = self
            .conn
            .query_row(
                "SELECT feed FROM digest_issue WHERE week = ?1 AND feed <> ?2",
                params![issue.week, feed],
                |r| r.get(0),
            )
            .optional()
            .map_err(sql)?;
        if let Some(other) = elsewhere {
            return Err(StoreError::Db {
                path: self.path.clone(),
                message: format!(
                    "the digest issue of {} is already on record (for feed {other})",
                    issue.week
                ),
            });
        }
        self.conn
            .execute(
                "INSERT INTO digest_issue (feed, week, subject, message_id, sent_at, delivered, titles)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    feed,
                    issue.week,
                    issue.subject,
                    issue.message_id,
                    issue.sent_at.timestamp(),
                    issue.delivered,
                    super::entries::json(&issue.titles),
                ],
            )
            .map_err(sql)?;
        for id in entries {
            self.conn
                .execute(
                    "INSERT OR IGNORE INTO digest_mailed (feed, entry_id, week) VALUES (?1, ?2, ?3)",
                    params![feed, id.0, issue.week],
                )
                .map_err(sql)?;
        }
        if let Some(window) = window {
            self.write_window(window)?;
        }
        Ok(())
    }

    fn write_window(&self, window: &DigestWindow) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT OR REPLACE INTO digest_window (week, timezone, starts_at, ends_at)
                 VALUES (?1, ?2, ?3, ?4)",
                params![
                    window.week,
                    window.timezone,
                    window.start.timestamp(),
                    window.end.timestamp()
                ],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// Record the instants the digest of `window.week` covered, when a real run found nothing
    /// to send (an issue's are recorded with it: [`Store::record_digest_issue_covering`]).
    pub fn record_digest_window(&mut self, window: &DigestWindow) -> Result<(), StoreError> {
        self.write_window(window)
    }

    /// The instants the digest of `week` covered, as a real run recorded them (see
    /// [`DigestWindow`]); `None` for a week no run of this version settled.
    pub fn digest_window(&self, week: &str) -> Result<Option<DigestWindow>, StoreError> {
        let row: Option<(String, i64, i64)> = self
            .conn
            .query_row(
                "SELECT timezone, starts_at, ends_at FROM digest_window WHERE week = ?1",
                [week],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        row.map(|(timezone, start, end)| {
            Ok(DigestWindow {
                week: week.to_owned(),
                timezone,
                start: from_unix(&self.path, start)?,
                end: from_unix(&self.path, end)?,
            })
        })
        .transpose()
    }

    /// Record that the issue of `week` went out with `entries`, in one transaction. Fails (and
    /// records nothing) if that week was already recorded.
    pub fn record_digest_issue(
        &mut self,
        feed: &str,
        issue: &DigestIssue,
        entries: &[EntryId],
    ) -> Result<(), StoreError> {
        self.record_issue(feed, issue, entries, None)
    }

    /// [`Store::record_digest_issue`], with the instants the issue covered, in the same
    /// transaction.
    pub fn record_digest_issue_covering(
        &mut self,
        feed: &str,
        issue: &DigestIssue,
        entries: &[EntryId],
        window: &DigestWindow,
    ) -> Result<(), StoreError> {
        self.record_issue(feed, issue, entries, Some(window))
    }

    fn record_issue(
        &mut self,
        feed: &str,
        issue: &DigestIssue,
        entries: &[EntryId],
        window: Option<&DigestWindow>,
    ) -> Result<(), StoreError> {
        self.conn.execute_batch("BEGIN").map_err(|e| self.err(e))?;
        let written = self
            .write_issue_rows(feed, issue, Some(entries), window)
            .and_then(|()| self.conn.execute_batch("COMMIT").map_err(|e| self.err(e)));
        if written.is_err() && !self.conn.is_autocommit() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
        written
    }

    /// Record that the issue of `week`, recorded before as only written (`delivered = false`),
    /// has now been accepted by an SMTP server: `delivered` becomes true and its subject,
    /// `Message-ID`, time and headlines become those of the message sent. The entries it
    /// mailed stay as recorded. Returns `false`, changing nothing, when that week is not
    /// recorded or was already delivered.
    pub fn mark_digest_delivered(
        &mut self,
        feed: &str,
        issue: &DigestIssue,
    ) -> Result<bool, StoreError> {
        self.mark_delivered_row(feed, issue)
    }

    /// The `UPDATE` of [`Store::mark_digest_delivered`]: was a row changed?
    fn mark_delivered_row(&self, feed: &str, issue: &DigestIssue) -> Result<bool, StoreError> {
        let n = self
            .conn
            .execute(
                "UPDATE digest_issue
                 SET subject = ?3, message_id = ?4, sent_at = ?5, delivered = 1, titles = ?6
                 WHERE feed = ?1 AND week = ?2 AND delivered = 0",
                params![
                    feed,
                    issue.week,
                    issue.subject,
                    issue.message_id,
                    issue.sent_at.timestamp(),
                    super::entries::json(&issue.titles),
                ],
            )
            .map_err(|e| self.err(e))?;
        Ok(n > 0)
    }

    /// Whether the related links of `id` were already fixed.
    pub fn related_is_fixed(&self, id: &EntryId) -> Result<bool, StoreError> {
        is_fixed(&self.conn, &id.0).map_err(|e| self.err(e))
    }

    /// Replace the related links of entry `id` and mark them fixed, in one transaction. Returns
    /// whether the entry exists.
    pub fn fix_entry_related(
        &mut self,
        id: &EntryId,
        related: &[Link],
    ) -> Result<bool, StoreError> {
        let Store { conn, path, .. } = self;
        let path: &str = path;
        let sql = |e| StoreError::sql(path, e);
        let tx = conn.transaction().map_err(sql)?;
        let json = super::entries::json(related);
        let n = tx
            .execute(
                "UPDATE entries SET related = ?2 WHERE id = ?1",
                params![id.0, json],
            )
            .map_err(sql)?;
        if n > 0 {
            tx.execute(
                "INSERT OR IGNORE INTO related_fixed (entry_id) VALUES (?1)",
                [&id.0],
            )
            .map_err(sql)?;
        }
        tx.commit().map_err(sql)?;
        Ok(n > 0)
    }

    /// [`Store::fix_entry_related`] for many entries in one transaction (all or nothing).
    /// Returns how many of them exist.
    pub fn fix_entries_related(
        &mut self,
        fixes: &[(EntryId, Vec<Link>)],
    ) -> Result<usize, StoreError> {
        let Store { conn, path, .. } = self;
        let path: &str = path;
        let sql = |e| StoreError::sql(path, e);
        let tx = conn.transaction().map_err(sql)?;
        let mut fixed = 0;
        {
            let mut update = tx
                .prepare_cached("UPDATE entries SET related = ?2 WHERE id = ?1")
                .map_err(sql)?;
            let mut mark = tx
                .prepare_cached("INSERT OR IGNORE INTO related_fixed (entry_id) VALUES (?1)")
                .map_err(sql)?;
            for (id, related) in fixes {
                let json = super::entries::json(related);
                if update.execute(params![id.0, json]).map_err(sql)? > 0 {
                    mark.execute([&id.0]).map_err(sql)?;
                    fixed += 1;
                }
            }
        }
        tx.commit().map_err(sql)?;
        Ok(fixed)
    }

    fn issue_from_row(&self, r: IssueRow) -> Result<DigestIssue, StoreError> {
        let titles = serde_json::from_str(&r.5)
            .map_err(|e| StoreError::bad_value(&self.path, format!("digest_issue.titles: {e}")))?;
        Ok(DigestIssue {
            week: r.0,
            subject: r.1,
            message_id: r.2,
            sent_at: from_unix(&self.path, r.3)?,
            delivered: r.4,
            titles,
        })
    }
}

type IssueRow = (String, String, String, i64, bool, String);

fn issue_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<IssueRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
    ))
}

/// Whether the related links of the entry `id` were fixed (an empty list is fixed too).
pub(super) fn is_fixed(conn: &Connection, id: &str) -> rusqlite::Result<bool> {
    conn.prepare_cached("SELECT EXISTS (SELECT 1 FROM related_fixed WHERE entry_id = ?1)")?
        .query_row([id], |r| r.get(0))
}

/// The stored entry a related link points at, as the ranking resolves a site's own links: the
/// one whose URL or id has the link's twin key.
struct Target {
    url: String,
    title: String,
    /// Some source still holds it (`entry_sources`), so its feeds show it: `false` once the
    /// file of a `dir` source that gave it is deleted or made a draft. A post that leaves a
    /// site's listing stays its source's.
    held: bool,
}

fn target(conn: &Connection, url: &str) -> rusqlite::Result<Option<Target>> {
    let key = twin_key(url);
    // The URL's entry first, then the one whose id it is: two lookups of one unique index
    // each, cheaper than one query over both (every link of every entry read for output).
    for sql in [
        "SELECT e.url, e.title, EXISTS (SELECT 1 FROM entry_sources s WHERE s.entry_id = e.id)
         FROM entries e WHERE e.dedup_key = ?1",
        "SELECT e.url, e.title, EXISTS (SELECT 1 FROM entry_sources s WHERE s.entry_id = e.id)
         FROM entries e WHERE e.id_key = ?1",
    ] {
        let found = conn
            .prepare_cached(sql)?
            .query_row([&key], |r| {
                Ok(Target {
                    url: r.get(0)?,
                    title: r.get(1)?,
                    held: r.get(2)?,
                })
            })
            .optional()?;
        if found.is_some() {
            return Ok(found);
        }
    }
    Ok(None)
}

/// Related links as feeds, archive pages and digests show them, from the links as stored:
/// only those to a stored entry some source still holds, each with that entry's current URL
/// and title. A link to an entry taken out of its source (a deleted or draft file) is left out
/// while it is out, and shows again when the entry comes back: the stored links keep it. A
/// link to no stored entry is left out too, as fixing the links leaves it out (only an entry
/// whose links were never fixed can have one).
pub(super) fn show_related(
    conn: &Connection,
    path: &str,
    related: &mut Vec<Link>,
) -> Result<(), StoreError> {
    if related.is_empty() {
        return Ok(());
    }
    let mut seen = HashSet::new();
    let mut shown = Vec::with_capacity(related.len());
    for l in related.iter() {
        if let Some(t) = target(conn, &l.url).map_err(|e| StoreError::sql(path, e))?
            && t.held
            && seen.insert(twin_key(&t.url))
        {
            shown.push(Link {
                url: t.url,
                title: t.title,
            });
        }
    }
    *related = shown;
    Ok(())
}

/// An entry's own related links (the site's related-post block, a file's `related`) as they
/// are stored until its related posts are fixed: a link to a stored entry takes that entry's
/// URL and title (a file's `related` names no title); one to no stored entry stays as given,
/// since the post it names may be stored later in the same run (fixing keeps only links to
/// stored entries). One link per twin key.
pub(super) fn own_links(conn: &Connection, links: &[Link]) -> rusqlite::Result<Vec<Link>> {
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(links.len());
    for l in links {
        let link = match target(conn, &l.url)? {
            Some(t) => Link {
                url: t.url,
                title: t.title,
            },
            None => l.clone(),
        };
        if seen.insert(twin_key(&link.url)) {
            out.push(link);
        }
    }
    Ok(out)
}

/// Give every related link that points at one of `old_urls` (twin-insensitive) the current URL
/// and title of `entry`, the entry those URLs belonged to: called inside the upsert that changed
/// its title or URL (or merged a duplicate into it), so feeds and digest show its current title
/// from the same commit on. Which entries are related does not change. Only the `related`
/// column of the linking entries is rewritten: their content hash, `updated` and `last_seen`
/// stay, so they do not count as edited; frozen archive pages keep the JSON they were frozen
/// with. Returns how many entries changed.
///
/// Scans the entries that have related links (not their bodies); it runs only when a stored
/// entry's title or URL changes, which is rare.
pub(super) fn retarget_related(
    conn: &Connection,
    path: &str,
    old_urls: &[&str],
    entry: &Entry,
) -> Result<usize, StoreError> {
    let sql = |e| StoreError::sql(path, e);
    let keys: HashSet<String> = old_urls
        .iter()
        .copied()
        .chain([entry.url.as_str()])
        .map(twin_key)
        .collect();
    let mut changed = Vec::new();
    {
        let mut stmt = conn
            .prepare_cached("SELECT id, related FROM entries WHERE related <> '[]' AND id <> ?1")
            .map_err(sql)?;
        let mut rows = stmt.query([&entry.id.0]).map_err(sql)?;
        while let Some(row) = rows.next().map_err(sql)? {
            let id: String = row.get(0).map_err(sql)?;
            let text: String = row.get(1).map_err(sql)?;
            // One unreadable row must not stop every later edit: it keeps what it has.
            let mut links: Vec<Link> = match serde_json::from_str(&text) {
                Ok(links) => links,
                Err(e) => {
                    tracing::warn!(
                        "{path}: entry {id}: unreadable related links left as they are: {e}"
                    );
                    continue;
                }
            };
            let mut dirty = false;
            for l in links
                .iter_mut()
                .filter(|l| keys.contains(&twin_key(&l.url)))
            {
                if l.url != entry.url || l.title != entry.title {
                    l.url.clone_from(&entry.url);
                    l.title.clone_from(&entry.title);
                    dirty = true;
                }
            }
            if dirty {
                // A link to a merged duplicate may now repeat one to the survivor.
                let mut seen = HashSet::new();
                links.retain(|l| seen.insert(twin_key(&l.url)));
                changed.push((id, links));
            }
        }
    }
    let mut update = conn
        .prepare_cached("UPDATE entries SET related = ?2 WHERE id = ?1")
        .map_err(sql)?;
    for (id, links) in &changed {
        update
            .execute(params![id, super::entries::json(links)])
            .map_err(sql)?;
    }
    Ok(changed.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issue(week: &str, delivered: bool, subject: &str) -> DigestIssue {
        DigestIssue {
            week: week.into(),
            subject: subject.into(),
            message_id: format!("digest.f.{week}@example.org"),
            sent_at: DateTime::from_timestamp(1_732_000_000, 0).unwrap_or_default(),
            delivered,
            titles: vec![subject.into()],
        }
    }

    /// The synchronous level as the connection has it: 1 `NORMAL`, 2 `FULL`.
    fn sync_level(s: &Store) -> i64 {
        s.conn
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
            .expect("pragma")
    }

    /// The issue's record is committed with `synchronous = FULL`; the store's other commits
    /// stay `NORMAL`, whether the send succeeded or failed.
    #[test]
    fn the_digest_commit_alone_is_synced() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = Store::open(&dir.path().join("store.db")).expect("open");
        assert_eq!(sync_level(&store), 1);
        let inside = store.with_full_sync(|s| sync_level(s)).expect("full");
        assert_eq!(inside, 2);
        assert_eq!(sync_level(&store), 1);
        let failed = store.record_digest_issue_around(
            "f",
            &issue("2024-W45", true, "s"),
            Some(&[]),
            None,
            || Err::<(), _>("refused"),
        );
        assert!(matches!(failed, Err(SendAndRecord::SendFailed("refused"))));
        assert_eq!(sync_level(&store), 1);
        store
            .record_digest_issue_around("f", &issue("2024-W46", true, "s"), Some(&[]), None, || {
                Ok::<_, ()>(())
            })
            .map_err(|_| "record")
            .expect("recorded");
        assert_eq!(sync_level(&store), 1);
        assert!(store.digest_issue("f", "2024-W46").expect("q").is_some());
    }

    #[test]
    fn only_an_issue_recorded_as_written_can_be_marked_delivered_and_only_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = Store::open(&dir.path().join("store.db")).expect("open");
        let id = EntryId("https://example.org/a/".into());
        assert!(
            !store
                .mark_digest_delivered("f", &issue("2024-W46", true, "s"))
                .expect("unrecorded"),
            "a week never recorded is not created"
        );
        assert_eq!(store.digest_issue("f", "2024-W46").expect("q"), None);

        store
            .record_digest_issue(
                "f",
                &issue("2024-W46", false, "written"),
                std::slice::from_ref(&id),
            )
            .expect("record");
        let sent = DigestIssue {
            sent_at: DateTime::from_timestamp(1_732_100_000, 0).unwrap_or_default(),
            ..issue("2024-W46", true, "sent")
        };
        assert!(store.mark_digest_delivered("f", &sent).expect("mark"));
        assert_eq!(
            store.digest_issue("f", "2024-W46").expect("q"),
            Some(sent.clone())
        );
        assert_eq!(
            store.digest_issue_entries("f", "2024-W46").expect("q"),
            vec![id],
            "the entries stay as recorded"
        );
        assert!(
            !store
                .mark_digest_delivered("f", &issue("2024-W46", true, "again"))
                .expect("mark again"),
            "a delivered issue is never marked again"
        );
        assert_eq!(store.digest_issue("f", "2024-W46").expect("q"), Some(sent));
    }
}
