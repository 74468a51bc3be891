//! A source's identity beyond its name: the sources the store holds anything of, a source's
//! history carried over to its new name when it is renamed ([`Store::adopt_source`]), the posts
//! of a source the configuration no longer has that no feed shows ([`Store::posts_in_no_feed`]),
//! the stored posts of a site that moved to another host taking their new address
//! ([`Store::move_site`]), and the files of a `dir` source keyed by their path inside its folder
//! ([`Store::rekey_files`], migration `V23__source_identity.sql`).
//!
//! Which source is which (same kind, same URL or folder) is the pipeline's call: the store only
//! says what it holds and moves rows.

use std::collections::{BTreeMap, HashMap, HashSet};

use rusqlite::{Connection, OptionalExtension, params, params_from_iter};

use super::entries::{COLUMNS, RawRow, content_hash, json};
use super::{Store, StoreError};
use crate::model::Link;
use crate::normalize::twin_key;

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

/// Columns other than `source` that name a source, `(table, column)`: a rename carries them
/// over too.
pub(super) const SOURCE_COLUMNS: &[(&str, &str)] = &[("entries", "enclosures_source")];

/// A source the store holds anything of, as it was last read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownSource {
    pub name: String,
    /// The kind (`auto`, `html`, `feed`, `wordpress`, `dir`) it was configured with when last
    /// read; `None` when no run recorded it (stores from before schema v23).
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
        // Columns naming a source under another name: who gave an entry its enclosures.
        for (table, column) in SOURCE_COLUMNS {
            tx.execute(
                &format!("UPDATE {table} SET {column} = ?2 WHERE {column} = ?1"),
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

    /// The site `source` reads moved: each of its stored posts whose URL `moved` gives a new
    /// address (the same path on the new host) takes it, in one transaction. The entry keeps
    /// its id, its dates and its text (a new link is no edit: `updated` stays); its old URL is
    /// remembered as an alias of it, other entries' related links to it take the new one, and
    /// the source's pending posts on the old host are asked for at the new one. A post whose
    /// new address is another stored entry's is left as it is. Posts no longer `source`'s
    /// are not touched. Returns how many posts moved.
    pub fn move_site(
        &mut self,
        source: &str,
        moved: &dyn Fn(&str) -> Option<String>,
    ) -> Result<usize, StoreError> {
        let Store { conn, path, .. } = self;
        let path: &str = path;
        let sql = |e| StoreError::sql(path, e);
        let tx = conn.transaction().map_err(sql)?;
        let query = format!(
            "SELECT {COLUMNS} FROM entries
             WHERE id IN (SELECT entry_id FROM entry_sources WHERE source = ?1)"
        );
        let rows: Vec<RawRow> = {
            let mut stmt = tx.prepare(&query).map_err(sql)?;
            stmt.query_map([source], RawRow::read)
                .map_err(sql)?
                .collect::<Result<_, _>>()
                .map_err(sql)?
        };
        // By the twin key of each old URL: the entry's new URL and title.
        let mut retarget: HashMap<String, (String, String)> = HashMap::new();
        for raw in rows {
            let stored = raw.into_stored(path)?;
            let mut entry = stored.entry;
            let Some(url) = moved(&entry.url) else {
                continue;
            };
            let (old_url, old_key) = (entry.url.clone(), entry.dedup_key.clone());
            let key = twin_key(&url);
            if key != old_key {
                let taken: bool = tx
                    .query_row(
                        "SELECT EXISTS (SELECT 1 FROM entries WHERE dedup_key = ?1)",
                        [&key],
                        |r| r.get(0),
                    )
                    .map_err(sql)?;
                if taken {
                    continue;
                }
            }
            entry.url.clone_from(&url);
            entry.dedup_key.clone_from(&key);
            tx.execute(
                "UPDATE entries SET url = ?2, dedup_key = ?3, content_hash = ?4 WHERE id = ?1",
                params![entry.id.0, url, key, content_hash(&entry)],
            )
            .map_err(sql)?;
            if key != old_key {
                // The old address still leads to the post (a listing or a related link that
                // names it), and whatever led to it leads on to the new one.
                tx.execute("DELETE FROM aliases WHERE url_key = ?1", [&key])
                    .map_err(sql)?;
                tx.execute(
                    "UPDATE aliases SET dedup_key = ?2 WHERE dedup_key = ?1",
                    params![old_key, key],
                )
                .map_err(sql)?;
                tx.execute(
                    "INSERT INTO aliases (url_key, dedup_key) VALUES (?1, ?2)
                     ON CONFLICT (url_key) DO UPDATE SET dedup_key = excluded.dedup_key",
                    params![old_key, key],
                )
                .map_err(sql)?;
            }
            retarget.insert(twin_key(&old_url), (url, entry.title.clone()));
        }
        let pending: Vec<String> = {
            let mut stmt = tx
                .prepare("SELECT url FROM pending WHERE source = ?1")
                .map_err(sql)?;
            stmt.query_map([source], |r| r.get(0))
                .map_err(sql)?
                .collect::<Result<_, _>>()
                .map_err(sql)?
        };
        for old in pending {
            if let Some(new) = moved(&old) {
                tx.execute(
                    "UPDATE OR REPLACE pending SET url = ?3 WHERE source = ?1 AND url = ?2",
                    params![source, old, new],
                )
                .map_err(sql)?;
            }
        }
        retarget_links(&tx, path, &retarget)?;
        tx.commit().map_err(sql)?;
        Ok(retarget.len())
    }

    /// The files of the `dir` source `source` remembered by a path beginning with `folder` (as
    /// stores before schema v23 kept them, a folder the migration could not tell) are
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

/// Every related link that names one of the old URLs in `moved` (by twin key) takes the new
/// URL and title: one pass over the entries that have related links, whatever the number of
/// posts that moved. Only the `related` column of those entries changes (they were not edited).
fn retarget_links(
    conn: &Connection,
    path: &str,
    moved: &HashMap<String, (String, String)>,
) -> Result<(), StoreError> {
    if moved.is_empty() {
        return Ok(());
    }
    let sql = |e| StoreError::sql(path, e);
    let mut changed = Vec::new();
    {
        let mut stmt = conn
            .prepare("SELECT id, related FROM entries WHERE related <> '[]'")
            .map_err(sql)?;
        let mut rows = stmt.query([]).map_err(sql)?;
        while let Some(row) = rows.next().map_err(sql)? {
            let id: String = row.get(0).map_err(sql)?;
            let text: String = row.get(1).map_err(sql)?;
            let Ok(mut links) = serde_json::from_str::<Vec<Link>>(&text) else {
                // An unreadable row keeps what it has (see `digest::retarget_related`).
                continue;
            };
            let mut dirty = false;
            for l in &mut links {
                if let Some((url, title)) = moved.get(&twin_key(&l.url)) {
                    l.url.clone_from(url);
                    l.title.clone_from(title);
                    dirty = true;
                }
            }
            if dirty {
                let mut seen = HashSet::new();
                links.retain(|l| seen.insert(twin_key(&l.url)));
                changed.push((id, links));
            }
        }
    }
    for (id, links) in changed {
        conn.execute(
            "UPDATE entries SET related = ?2 WHERE id = ?1",
            params![id, json(&links)],
        )
        .map_err(sql)?;
    }
    Ok(())
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
        // Every other column a rename carries over exists (tests/renames.rs shows it carried).
        for (table, column) in SOURCE_COLUMNS {
            let named: i64 = store
                .conn
                .query_row(
                    &format!(
                        "SELECT count(*) FROM pragma_table_info('{table}') WHERE name = '{column}'"
                    ),
                    [],
                    |r| r.get(0),
                )
                .expect("column");
            assert_eq!(named, 1, "{table}.{column}");
        }
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
