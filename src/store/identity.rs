//! A source's identity beyond its name: the sources the store holds anything of, a source's
//! history carried over to its new name when it is renamed ([`Store::adopt_source`]), the posts
//! of a source the configuration no longer has that no feed shows ([`Store::posts_in_no_feed`]),
//! and the files of a `dir` source keyed by their path inside its folder ([`Store::rekey_files`],
//! migration `V22__source_identity.sql`).
//!
//! Which source is which (same kind, same URL or folder) is the pipeline's call: the store only
//! says what it holds and moves rows.

use std::collections::BTreeMap;

use rusqlite::{OptionalExtension, params, params_from_iter};

use super::{Store, StoreError};

/// Every table with a column naming a source (always called `source`): what a rename carries
/// over. `entries.source` is the first source that stored the post. A test checks that the
/// schema has no other such column, so a migration adding one must add its table here.
pub(super) const SOURCE_TABLES: &[&str] = &[
    "entries",
    "entry_sources",
    "pending",
    "source_state",
    "source_runs",
    "source_run_totals",
    "source_run_durations",
    "fetch_status",
    "index_validators",
    "source_items",
    "backfill",
    "backfill_found",
];

/// A source the store holds anything of, as it was last read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownSource {
    pub name: String,
    /// The kind (`auto`, `html`, `feed`, `wordpress`, `dir`) it was configured with when last
    /// read; `None` when no run recorded it (stores from before schema v22).
    pub kind: Option<String>,
    /// The URL (or, for a `dir` source, the folder) it was last read from; `None` when not
    /// recorded.
    pub url: Option<String>,
    /// The stored posts it holds (its feeds show).
    pub posts: usize,
}

impl Store {
    /// Every source the store holds anything of (a row in any table naming a source), by name.
    pub fn known_sources(&self) -> Result<Vec<KnownSource>, StoreError> {
        let sql = |e| StoreError::sql(&self.path, e);
        let mut names: BTreeMap<String, KnownSource> = BTreeMap::new();
        for table in SOURCE_TABLES {
            // A reader beside an older writer may miss a newer table: it holds nothing then.
            if !self.has_table(table)? {
                continue;
            }
            let mut stmt = self
                .conn
                .prepare(&format!("SELECT DISTINCT source FROM {table}"))
                .map_err(sql)?;
            let rows = stmt.query_map([], |r| r.get::<_, String>(0)).map_err(sql)?;
            for name in rows {
                let name = name.map_err(sql)?;
                names.entry(name.clone()).or_insert(KnownSource {
                    name,
                    kind: None,
                    url: None,
                    posts: 0,
                });
            }
        }
        let has_kind = self.has_column("source_state", "kind")?;
        for known in names.values_mut() {
            let (kind, url): (Option<String>, Option<String>) = self
                .conn
                .query_row(
                    if has_kind {
                        "SELECT kind, url FROM source_state WHERE source = ?1"
                    } else {
                        "SELECT NULL, url FROM source_state WHERE source = ?1"
                    },
                    [&known.name],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()
                .map_err(sql)?
                .unwrap_or_default();
            // Not recorded (a store from before it was): the URL its own validators are kept
            // for, when there is one.
            let url = match url {
                Some(url) => Some(url),
                None => {
                    let mut stmt = self
                        .conn
                        .prepare("SELECT DISTINCT url FROM index_validators WHERE source = ?1")
                        .map_err(sql)?;
                    let urls: Vec<String> = stmt
                        .query_map([&known.name], |r| r.get(0))
                        .map_err(sql)?
                        .collect::<Result<_, _>>()
                        .map_err(sql)?;
                    match urls.as_slice() {
                        [one] => Some(one.clone()),
                        _ => None,
                    }
                }
            };
            known.kind = kind;
            known.url = url;
            known.posts = self.entry_count(&known.name)?;
        }
        Ok(names.into_values().collect())
    }

    /// The source `old` is now called `new`: every row of `old`, in every table naming a
    /// source (its posts, run history and health, validators, pending posts, backfill and what
    /// it found, files and feed items, request counts), becomes `new`'s, in one transaction.
    /// Only when `new` holds nothing of its own: returns `None` (and changes nothing) otherwise,
    /// else how many posts `new` now holds.
    pub fn adopt_source(&mut self, old: &str, new: &str) -> Result<Option<usize>, StoreError> {
        let Store { conn, path, .. } = self;
        let path: &str = path;
        let sql = |e| StoreError::sql(path, e);
        let tx = conn.transaction().map_err(sql)?;
        for table in SOURCE_TABLES {
            let taken: bool = tx
                .query_row(
                    &format!("SELECT EXISTS (SELECT 1 FROM {table} WHERE source = ?1)"),
                    [new],
                    |r| r.get(0),
                )
                .map_err(sql)?;
            if taken {
                return Ok(None);
            }
        }
        for table in SOURCE_TABLES {
            tx.execute(
                &format!("UPDATE {table} SET source = ?2 WHERE source = ?1"),
                params![old, new],
            )
            .map_err(sql)?;
        }
        let posts: i64 = tx
            .query_row(
                "SELECT count(*) FROM entry_sources WHERE source = ?1",
                [new],
                |r| r.get(0),
            )
            .map_err(sql)?;
        tx.commit().map_err(sql)?;
        Ok(Some(posts as usize))
    }

    /// How many of `source`'s posts no source of `shown` (the sources the feeds name) holds:
    /// posts no feed shows.
    pub fn posts_in_no_feed(&self, source: &str, shown: &[String]) -> Result<usize, StoreError> {
        let placeholders = (0..shown.len())
            .map(|i| format!("?{}", i + 2))
            .collect::<Vec<_>>()
            .join(", ");
        let query = format!(
            "SELECT count(*) FROM entry_sources s WHERE s.source = ?1
             AND NOT EXISTS (SELECT 1 FROM entry_sources o
                             WHERE o.entry_id = s.entry_id AND o.source IN ({placeholders}))"
        );
        let args = std::iter::once(source).chain(shown.iter().map(String::as_str));
        let n: i64 = self
            .conn
            .query_row(&query, params_from_iter(args), |r| r.get(0))
            .map_err(|e| self.err(e))?;
        Ok(n as usize)
    }

    /// The files of the `dir` source `source` remembered by a path beginning with `folder` (as
    /// stores before schema v22 kept them, a folder the migration could not tell) are
    /// remembered by their path inside it (`file <path>`), as the pipeline now keys them.
    /// Returns how many were.
    pub fn rekey_files(&mut self, source: &str, folder: &str) -> Result<usize, StoreError> {
        let prefix = format!("{}/", folder.trim_end_matches('/'));
        self.conn
            .execute(
                "UPDATE OR IGNORE source_items SET item = 'file ' || substr(item, length(?2) + 1)
                 WHERE source = ?1 AND substr(item, 1, 5) NOT IN ('file ', 'item ')
                   AND length(item) > length(?2) AND substr(item, 1, length(?2)) = ?2",
                params![source, prefix],
            )
            .map_err(|e| self.err(e))
    }

    /// Does `table` have the column `column`? (A reader beside an older writer may find a
    /// newer migration's column missing.)
    fn has_column(&self, table: &str, column: &str) -> Result<bool, StoreError> {
        self.conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2)",
                params![table, column],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(&dir.path().join("feedwright.db")).expect("open");
        (dir, store)
    }

    /// A rename carries every table naming a source over: a migration that adds such a table
    /// (or column) must list it in `SOURCE_TABLES`, or a rename would leave its rows behind.
    #[test]
    fn every_table_naming_a_source_is_carried_over_by_a_rename() {
        let (_dir, store) = store();
        let mut stmt = store
            .conn
            .prepare(
                "SELECT m.name FROM sqlite_schema m, pragma_table_info(m.name) c
                 WHERE m.type = 'table' AND c.name = 'source' ORDER BY m.name",
            )
            .expect("query");
        let found: Vec<String> = stmt
            .query_map([], |r| r.get(0))
            .expect("rows")
            .collect::<Result<_, _>>()
            .expect("names");
        let mut listed: Vec<String> = SOURCE_TABLES.iter().map(|t| t.to_string()).collect();
        listed.sort();
        assert_eq!(found, listed);
    }

    #[test]
    fn a_source_is_adopted_only_by_a_name_that_holds_nothing() {
        let (_dir, mut store) = store();
        let now = chrono::Utc::now();
        store
            .set_walk_incomplete("old", "http://example.org/cat/", "html", false, now)
            .expect("state");
        store
            .backfill_put("old", "http://example.org/cat/page/3/", 2, now)
            .expect("backfill");
        store
            .add_fetch_statuses("old", &[("200".to_string(), 3)])
            .expect("statuses");
        store
            .set_walk_incomplete("busy", "http://example.org/other/", "html", false, now)
            .expect("state");
        assert_eq!(store.adopt_source("old", "busy").expect("adopt"), None);
        assert_eq!(store.adopt_source("old", "new").expect("adopt"), Some(0));
        assert_eq!(store.backfill_get("old").expect("read"), None);
        assert_eq!(
            store.backfill_get("new").expect("read"),
            Some(("http://example.org/cat/page/3/".to_string(), 2))
        );
        let known = store.known_sources().expect("known");
        let names: Vec<&str> = known.iter().map(|k| k.name.as_str()).collect();
        assert_eq!(names, ["busy", "new"]);
        assert_eq!(known[1].kind.as_deref(), Some("html"));
        assert_eq!(known[1].url.as_deref(), Some("http://example.org/cat/"));
    }

    #[test]
    fn legacy_file_keys_under_the_folder_lose_its_path() {
        let (_dir, mut store) = store();
        for item in [
            "posts/a.md",
            "posts/sub/b.md",
            "other/c.md",
            "item x",
            "file d.md",
        ] {
            store
                .conn
                .execute(
                    "INSERT INTO source_items (source, item, entry_id) VALUES ('ev', ?1, 'id')",
                    [item],
                )
                .expect("insert");
        }
        assert_eq!(store.rekey_files("ev", "posts/").expect("rekey"), 2);
        let mut items: Vec<String> = store
            .source_items("ev")
            .expect("items")
            .into_keys()
            .collect();
        items.sort();
        assert_eq!(
            items,
            [
                "file a.md",
                "file d.md",
                "file sub/b.md",
                "item x",
                "other/c.md"
            ]
        );
    }
}
