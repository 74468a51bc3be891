//! Forgetting a source the configuration no longer has ([`Store::forget_source`]): what the
//! store holds under its name goes, in one transaction, except the posts another source holds
//! too, which stay that source's.
//!
//! Which source may be forgotten (not a configured one, nor one a rename would carry over) is
//! the pipeline's call: the store only says what would go and removes it.
//!
//! What goes, for a source `S`:
//! - its rows in every table naming a source (`identity::SOURCE_TABLES`: posts' links, pending
//!   posts, health and run history, validators, files' and items' entries, backfill and what it
//!   found), and its name in the other columns naming one (`identity::SOURCE_COLUMNS`:
//!   `entries.enclosures_source` becomes NULL, "giver not known", so the next source whose feed
//!   gives enclosures is their giver, as `entries::enclosures_after` treats a giver gone);
//! - the posts no other source holds (by `entry_sources`, or an item of its `source_items`),
//!   with what hangs on them: their source links and backfill marks (cascaded), the aliases
//!   leading to them (or a listing showing one of those URLs would take it as stored), whether
//!   their related links were fixed (a post stored again under the same id gets them anew),
//!   their place on an archive page still filling, and the validators of their pages;
//! - the validators of the pages under its own URL (listing or feed pages), so a source later
//!   configured there reads them afresh.
//!
//! What stays: a post another source holds (its `entries.source` names one of those if it named
//! `S`); complete archive pages and their record of which entries they hold (RFC 5005 archives
//! never change: they keep the copies they froze, and a post stored again later is not shown
//! twice); the digest's history (issues sent or written, and the ids they mailed, so a post
//! stored again is never mailed twice); other entries' related links as stored (readers are shown
//! only links to entries some source holds, `digest::show_related`); robots.txt copies (by
//! origin, shared).

use std::collections::{BTreeMap, HashSet};

use rusqlite::{Connection, params};

use super::identity::{SOURCE_COLUMNS, SOURCE_TABLES};
use super::{Store, StoreError};

/// What forgetting a source removes (or, previewed, would remove).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Forgotten {
    /// Its posts no other source holds: deleted.
    pub deleted: usize,
    /// Its posts another source holds too: kept, that source's only.
    pub kept: usize,
    /// The posts it had pending (failed, to be retried).
    pub pending: usize,
    /// It had an unfinished backfill.
    pub backfill: bool,
    /// The runs of its history (those recorded one by one and those folded into totals).
    pub runs: usize,
    /// Of the deleted posts, those on an archive page still filling, by feed: they leave it.
    pub off_open_pages: BTreeMap<String, usize>,
}

/// The posts of `?1` (the source) no other source holds, as a common table expression `doomed`
/// (and `mine`, every post of it): a post is the source's when it names it as the first
/// source that stored it or the source holds it; another holds it when it lists it
/// (`entry_sources`) or one of its files or items gave it (`source_items`).
const DOOMED: &str = "WITH
    mine(id) AS (SELECT id FROM entries WHERE source = ?1
                 UNION SELECT entry_id FROM entry_sources WHERE source = ?1),
    held(id) AS (SELECT entry_id FROM entry_sources WHERE source <> ?1
                 UNION SELECT entry_id FROM source_items WHERE source <> ?1 AND entry_id <> ''),
    doomed(id) AS (SELECT id FROM mine EXCEPT SELECT id FROM held)";

impl Store {
    /// Does any column naming a source other than the `source` columns
    /// (`identity::SOURCE_COLUMNS`) name `source`? (What [`Store::known_sources`] does not list.)
    pub fn names_source(&self, source: &str) -> Result<bool, StoreError> {
        for (table, column) in SOURCE_COLUMNS {
            let named: bool = self
                .conn
                .query_row(
                    &format!("SELECT EXISTS (SELECT 1 FROM {table} WHERE {column} = ?1)"),
                    [source],
                    |r| r.get(0),
                )
                .map_err(|e| self.err(e))?;
            if named {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// What [`Store::forget_source`] would remove now, changing nothing (a store opened
    /// read-only will do).
    pub fn forget_preview(&self, source: &str) -> Result<Forgotten, StoreError> {
        tally(&self.conn, source).map_err(|e| self.err(e))
    }

    /// Remove everything the store holds under the name `source`, in one transaction (see the
    /// module's documentation): its rows in every table naming a source, and the posts no
    /// other source holds with what hangs on them. A post another source holds stays; when it
    /// named `source` as the first source that stored it, it names one that holds it now (one
    /// of `live`, the configured sources, when it can, the first by name). Returns what went.
    pub fn forget_source(
        &mut self,
        source: &str,
        live: &HashSet<String>,
    ) -> Result<Forgotten, StoreError> {
        let Store { conn, path, .. } = self;
        let path: &str = path;
        let sql = |e| StoreError::sql(path, e);
        let tx = conn.transaction().map_err(sql)?;
        let forgotten = tally(&tx, source).map_err(sql)?;

        // The places it read its listing or feed at: the validators of the pages under them
        // (the store cannot tell whose they are, and one that goes costs a full read once).
        let places: Vec<String> = {
            let mut stmt = tx
                .prepare(
                    "SELECT url FROM source_state WHERE source = ?1 AND url IS NOT NULL
                     UNION SELECT url FROM index_validators WHERE source = ?1",
                )
                .map_err(sql)?;
            stmt.query_map([source], |r| r.get::<_, String>(0))
                .map_err(sql)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(sql)?
                .into_iter()
                .filter(|u| u.starts_with("http://") || u.starts_with("https://"))
                .collect()
        };
        for place in &places {
            tx.execute(
                "DELETE FROM http_cache WHERE substr(url, 1, length(?1)) = ?1",
                [place],
            )
            .map_err(sql)?;
        }

        // What hangs on the posts that go, before they go.
        for statement in [
            // An alias leading to no entry would make a listing take its URL as stored.
            "DELETE FROM aliases WHERE dedup_key IN
                 (SELECT dedup_key FROM entries WHERE id IN (SELECT id FROM doomed))",
            "DELETE FROM related_fixed WHERE entry_id IN (SELECT id FROM doomed)",
            "DELETE FROM http_cache WHERE url IN
                 (SELECT url FROM entries WHERE id IN (SELECT id FROM doomed))",
            // Off the archive pages still filling; complete pages keep them (see the module).
            "DELETE FROM archive_entries WHERE entry_id IN (SELECT id FROM doomed)
                 AND EXISTS (SELECT 1 FROM archive_pages p
                             WHERE p.feed = archive_entries.feed AND p.page = archive_entries.page
                               AND p.frozen_entries IS NULL)",
        ] {
            tx.execute(&format!("{DOOMED} {statement}"), [source])
                .map_err(sql)?;
        }

        // The posts that stay and name it as the first source that stored them name one that
        // holds them now.
        let holders: BTreeMap<String, Vec<String>> = {
            let mut stmt = tx
                .prepare(
                    "SELECT e.id, h.source FROM entries e JOIN
                         (SELECT entry_id, source FROM entry_sources WHERE source <> ?1
                          UNION SELECT entry_id, source FROM source_items
                                WHERE source <> ?1 AND entry_id <> '') h
                       ON h.entry_id = e.id
                     WHERE e.source = ?1
                     ORDER BY e.id, h.source",
                )
                .map_err(sql)?;
            let rows = stmt
                .query_map([source], |r| Ok((r.get::<_, String>(0)?, r.get(1)?)))
                .map_err(sql)?;
            let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for row in rows {
                let (id, holder) = row.map_err(sql)?;
                out.entry(id).or_default().push(holder);
            }
            out
        };
        for (id, holders) in &holders {
            let Some(heir) = holders
                .iter()
                .find(|h| live.contains(*h))
                .or(holders.first())
            else {
                continue;
            };
            tx.execute(
                "UPDATE entries SET source = ?2 WHERE id = ?1",
                params![id, heir],
            )
            .map_err(sql)?;
        }

        // The posts no other source holds; their source links and backfill marks cascade.
        tx.execute(
            &format!("{DOOMED} DELETE FROM entries WHERE id IN (SELECT id FROM doomed)"),
            [source],
        )
        .map_err(sql)?;
        // Who gave an entry's enclosures: not known any more.
        for (table, column) in SOURCE_COLUMNS {
            tx.execute(
                &format!("UPDATE {table} SET {column} = NULL WHERE {column} = ?1"),
                [source],
            )
            .map_err(sql)?;
        }
        for table in SOURCE_TABLES {
            if *table == "entries" {
                // Every post naming it went or names another source now.
                continue;
            }
            tx.execute(&format!("DELETE FROM {table} WHERE source = ?1"), [source])
                .map_err(sql)?;
        }
        let left: bool = tx
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM entries WHERE source = ?1)",
                [source],
                |r| r.get(0),
            )
            .map_err(sql)?;
        if left {
            // Not reached: every post it stored went or names another source. Said rather than
            // deleted, since such a post would be another source's too.
            return Err(StoreError::bad_value(
                path,
                format!("posts of source {source} are left after forgetting it"),
            ));
        }
        tx.commit().map_err(sql)?;
        Ok(forgotten)
    }
}

/// What forgetting `source` removes, as the store is now (reads only).
fn tally(conn: &Connection, source: &str) -> rusqlite::Result<Forgotten> {
    let (mine, deleted): (i64, i64) = conn.query_row(
        &format!("{DOOMED} SELECT (SELECT count(*) FROM mine), (SELECT count(*) FROM doomed)"),
        [source],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let count = |query: &str| -> rusqlite::Result<i64> {
        conn.query_row(query, [source], |r| r.get::<_, Option<i64>>(0))
            .map(Option::unwrap_or_default)
    };
    let pending = count("SELECT count(*) FROM pending WHERE source = ?1")?;
    let backfill = count("SELECT count(*) FROM backfill WHERE source = ?1")? > 0;
    let runs = count("SELECT count(*) FROM source_runs WHERE source = ?1")?
        + count("SELECT sum(runs) FROM source_run_totals WHERE source = ?1")?;
    let mut off_open_pages = BTreeMap::new();
    {
        let mut stmt = conn.prepare(&format!(
            "{DOOMED} SELECT a.feed, count(*) FROM archive_entries a
                 JOIN archive_pages p ON p.feed = a.feed AND p.page = a.page
             WHERE p.frozen_entries IS NULL AND a.entry_id IN (SELECT id FROM doomed)
             GROUP BY a.feed"
        ))?;
        let rows = stmt.query_map([source], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
        })?;
        for row in rows {
            let (feed, n) = row?;
            off_open_pages.insert(feed, n as usize);
        }
    }
    Ok(Forgotten {
        deleted: deleted as usize,
        kept: (mine - deleted) as usize,
        pending: pending as usize,
        backfill,
        runs: runs as usize,
        off_open_pages,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every table with a column naming an entry, and what forgetting a source does to the rows
    /// of a post that goes (see the module's documentation). A migration adding such a table
    /// must say here what becomes of its rows, or the test below fails.
    const ENTRY_TABLES: &[(&str, &str)] = &[
        (
            "archive_entries",
            "off a page still filling; kept on a complete page",
        ),
        ("backfill_found", "cascaded with the entry"),
        ("digest_mailed", "kept: the digest's history"),
        ("entry_sources", "cascaded with the entry"),
        ("related_fixed", "deleted"),
        (
            "source_items",
            "another source's row keeps the post; the source's own go",
        ),
    ];

    #[test]
    fn every_table_naming_an_entry_is_dealt_with() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(&dir.path().join("feedwright.db")).expect("open");
        let mut stmt = store
            .conn
            .prepare(
                "SELECT DISTINCT m.name FROM sqlite_schema m, pragma_table_info(m.name) c
                 WHERE m.type = 'table' AND c.name = 'entry_id' ORDER BY m.name",
            )
            .expect("query");
        let found: Vec<String> = stmt
            .query_map([], |r| r.get(0))
            .expect("rows")
            .collect::<Result<_, _>>()
            .expect("names");
        let listed: Vec<&str> = ENTRY_TABLES.iter().map(|(t, _)| *t).collect();
        assert_eq!(found, listed);
    }

    #[test]
    fn a_source_that_holds_nothing_forgets_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = Store::open(&dir.path().join("feedwright.db")).expect("open");
        let none = Forgotten::default();
        assert_eq!(store.forget_preview("gone").expect("preview"), none);
        assert_eq!(
            store
                .forget_source("gone", &HashSet::new())
                .expect("forget"),
            none
        );
        assert!(!store.names_source("gone").expect("names"));
    }
}
