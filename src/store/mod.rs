//! Storage: the SQLite database.
//!
//! Owns: all SQL, the schema and its migrations (`migrations/V<n>__<name>.sql`, embedded at build
//! time), the single-writer lock (`<db>.lock` next to the database), the proof at open that the
//! writer can write (the database, and the `-wal`/`-shm` files SQLite would otherwise quietly
//! open read-only), and the rules for merging a
//! re-fetched post into the stored one. Must not: make HTTP requests, render documents, read the
//! clock (every `now` is a parameter) or read configuration beyond the path it is given.
//!
//! Times are stored as integer Unix seconds (UTC, whole seconds, so they sort); list columns are
//! JSON arrays.

mod archive;
pub mod digest;
mod entries;
mod error;
pub mod fetch_status;
mod forget;
mod identity;
mod polite;
pub mod readonly;

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

pub use archive::{ArchivePageInfo, FeedState};
pub use entries::{EnclosureSay, Read, StoredEntry};
pub use error::StoreError;
pub use forget::Forgotten;
pub use identity::KnownSource;
pub use polite::{Fill, LISTING_DEGRADED, RobotsRow, RunHealth};

/// The migrations in `migrations/`, compiled in.
mod embedded {
    refinery::embed_migrations!("migrations");
}

/// Refinery's history table; one row per applied migration.
const HISTORY_TABLE: &str = "refinery_schema_history";

/// How long a statement waits for another connection's lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// What an upsert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upsert {
    /// No stored entry matched: the entry was inserted.
    New,
    /// A stored entry matched and its content changed: it was rewritten in place.
    Updated,
    /// A stored entry matched with the same content: only `last_seen` moved.
    Unchanged,
}

/// HTTP validators saved for a URL: `(ETag, Last-Modified)`, each as the server sent it.
pub type Validators = (Option<String>, Option<String>);

/// A post whose fetch or extraction failed and that will be retried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingPost {
    /// The post URL.
    pub url: String,
    /// Why the last attempt failed.
    pub reason: String,
    /// How many attempts failed so far.
    pub attempts: u32,
    /// When the first attempt failed.
    pub first_failed: DateTime<Utc>,
    /// When the last attempt failed.
    pub last_failed: DateTime<Utc>,
}

/// Health of one source, as recorded by [`Store::record_source_run`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceState {
    /// The source name.
    pub source: String,
    /// The last run that ended without error and did not look degraded, if any.
    pub last_success: Option<DateTime<Utc>>,
    /// The error of the last run, `None` when it succeeded.
    pub last_error: Option<String>,
    /// The last run, successful or not.
    pub last_run: DateTime<Utc>,
    /// `healthy`, `degraded` or `failing`.
    pub state: String,
    /// Why the source is degraded or failing.
    pub reason: Option<String>,
}

/// An open, migrated database, holding the single-writer lock for its whole lifetime.
pub struct Store {
    // Declared before `_lock` so the connection is closed before the lock is released.
    conn: Connection,
    path: String,
    _lock: File,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Open the database at `path`, creating it (and its directory) if missing, take the
    /// single-writer lock and bring the schema up to date.
    ///
    /// Fails with [`StoreError::Locked`] when another process holds the lock,
    /// [`StoreError::ReadOnly`] when the file or its directory cannot be written,
    /// [`StoreError::NotADatabase`] for a file that is not SQLite or is corrupt, and
    /// [`StoreError::NewerSchema`] — without touching the file — when a newer build migrated it.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let shown = path.display().to_string();

        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| {
                io_error(
                    &shown,
                    &format!("cannot create directory {}", parent.display()),
                    e,
                )
            })?;
        }

        let lock_path = lock_path(path);
        let lock = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock_path)
            .map_err(|e| {
                io_error(
                    &shown,
                    &format!("cannot open lock file {}", lock_path.display()),
                    e,
                )
            })?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(StoreError::Locked {
                    path: shown,
                    lock: lock_path.display().to_string(),
                });
            }
            Err(TryLockError::Error(e)) => {
                return Err(io_error(
                    &shown,
                    &format!("cannot lock {}", lock_path.display()),
                    e,
                ));
            }
        }

        // No URI flag: a file literally named `file:…` is a file, not a URI.
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut conn =
            Connection::open_with_flags(path, flags).map_err(|e| open_error(path, &shown, e))?;
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| StoreError::sql(&shown, e))?;
        // SQLite silently falls back to read-only when the file is not writable.
        if conn
            .is_readonly(rusqlite::MAIN_DB)
            .map_err(|e| StoreError::sql(&shown, e))?
        {
            return Err(StoreError::ReadOnly {
                path: shown,
                message: "the file is not writable".to_owned(),
            });
        }

        // Read-only checks first: a database from a newer build must stay byte-for-byte intact.
        let known = known_schema_version();
        let found = applied_schema_version(&conn).map_err(|e| open_error(path, &shown, e))?;
        if let Some(found) = found
            && found > known
        {
            return Err(StoreError::NewerSchema {
                path: shown,
                found,
                known,
            });
        }

        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
            .map_err(|e| open_error(path, &shown, e))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Db {
                path: shown,
                message: format!("cannot switch to WAL journal mode (still {mode})"),
            });
        }
        // The write-ahead log's files can keep a writer out though the database file lets it
        // in: a `-shm` or `-wal` file it cannot open for writing (left by a reader running as
        // another user, or while the database file was read-only) makes SQLite fall back to
        // reading, and every write of the run fail. Found now, before anything is fetched.
        if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE; ROLLBACK;") {
            return Err(match unwritable_wal_file(path) {
                Some(file) => StoreError::ReadOnly {
                    path: shown,
                    message: format!(
                        "{} cannot be opened for writing (left by a reader running as another \
                         user, or while the database file was read-only?): fix its owner or \
                         permissions, or delete it while no feedwright process runs",
                        file.display()
                    ),
                },
                None => open_error(path, &shown, e),
            });
        }
        conn.pragma_update(None, "foreign_keys", true)
            .map_err(|e| StoreError::sql(&shown, e))?;
        // In WAL mode NORMAL never corrupts the database; a power cut may lose the last
        // transactions, which the next run simply fetches again. FULL would fsync every post.
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(|e| StoreError::sql(&shown, e))?;
        // Room for every statement a refresh repeats per post (`prepare_cached`).
        conn.set_prepared_statement_cache_capacity(64);

        // What migrations compute with this program's rules (V24: twin keys' escapes).
        register_functions(&conn).map_err(|e| StoreError::sql(&shown, e))?;
        // All pending migrations in one transaction: a reader (`open_read_only_if_ready`, the
        // server beside a first run) sees no schema or the whole of it, never part of it, and
        // an upgrade cut short leaves the previous schema whole.
        embedded::migrations::runner()
            .set_grouped(true)
            .run(&mut conn)
            .map_err(|e| StoreError::Db {
                path: shown.clone(),
                message: format!("migration failed: {e}"),
            })?;
        // A one-way step: the operator hears of it (a new database is not news).
        if let Some(found) = found
            && found < known
        {
            tracing::info!(
                "{shown}: the store was upgraded from schema v{found} to v{known}; feedwright \
                 versions older than this one can no longer open it"
            );
        }

        Ok(Store {
            conn,
            path: shown,
            _lock: lock,
        })
    }

    /// The database file, as given to [`Store::open`].
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The schema version this database is at.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        applied_schema_version(&self.conn)
            .map(|v| v.unwrap_or(0))
            .map_err(|e| self.err(e))
    }

    /// Run `f` as one transaction: every write it makes through this store is committed
    /// together when it returns, or not at all.
    ///
    /// Used to store a refresh's outcomes a batch at a time, with one commit per batch instead
    /// of one per post (and a run's validators with one commit). Crash
    /// safety is SQLite's: a process killed or a machine losing power before the commit leaves
    /// the database as it was before the batch (the half-written batch is rolled back whole on
    /// the next open), never half-written or corrupt; the next run fetches those posts again.
    /// Methods that need their own atomic unit inside (such as [`Store::upsert_entry`]) use
    /// savepoints, so a failed entry rolls back alone and the batch goes on.
    ///
    /// Only the batch's own COMMIT commits. On some errors (a full disk, an I/O error) SQLite
    /// rolls the whole transaction back by itself; every statement `f` runs after that would
    /// otherwise be committed alone, storing part of a batch that is then reported failed. A
    /// commit hook turns those commits into rollbacks, so such statements fail instead, and the
    /// batch returns an error saying SQLite rolled it back.
    ///
    /// Returns `f`'s value once committed; an error when the batch could not begin or commit
    /// (it is then rolled back, and nothing `f` wrote is stored). Should `f` panic, the batch is
    /// rolled back before the panic goes on, and the store stays usable.
    pub fn batch<T>(&mut self, f: impl FnOnce(&mut Store) -> T) -> Result<T, StoreError> {
        self.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| self.err(e))?;
        // Refuse (roll back) every commit while `f` runs; removed before the batch's COMMIT.
        if let Err(e) = self.conn.commit_hook(Some(|| true)) {
            let _ = self.conn.execute_batch("ROLLBACK");
            return Err(self.err(e));
        }
        let value = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(self)));
        let _ = self.conn.commit_hook(None::<fn() -> bool>);
        let value = match value {
            Ok(value) => value,
            Err(panic) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                std::panic::resume_unwind(panic);
            }
        };
        if self.conn.is_autocommit() {
            return Err(StoreError::Db {
                path: self.path.clone(),
                message: "SQLite rolled the batch back after an error inside it (such as a full \
                          disk); nothing of the batch is stored"
                    .to_owned(),
            });
        }
        if let Err(e) = self.conn.execute_batch("COMMIT") {
            // A failed COMMIT may leave the transaction open; end it.
            let _ = self.conn.execute_batch("ROLLBACK");
            return Err(self.err(e));
        }
        Ok(value)
    }

    /// Record that fetching or extracting `url` failed: insert it as pending, or bump its attempt
    /// count and reason if it already is.
    pub fn add_pending(
        &mut self,
        source: &str,
        url: &str,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.keep_pending(source, url, reason, now, false)
    }

    /// [`Store::add_pending`], saying whether a backfill of `source` met the post
    /// (`by_backfill`): such a post is history the backfill found, and waits past the heads
    /// when a run stores it before the backfill is complete (see
    /// [`Store::note_backfill_found`]). The mark stays when a run fails it again.
    pub fn keep_pending(
        &mut self,
        source: &str,
        url: &str,
        reason: &str,
        now: DateTime<Utc>,
        by_backfill: bool,
    ) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO pending
                     (source, url, reason, attempts, first_failed, last_failed, from_backfill)
                 VALUES (?1, ?2, ?3, 1, ?4, ?4, ?5)
                 ON CONFLICT (source, url) DO UPDATE SET
                     reason = excluded.reason,
                     attempts = attempts + 1,
                     last_failed = excluded.last_failed,
                     from_backfill = max(from_backfill, excluded.from_backfill)",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![
                    source,
                    url,
                    reason,
                    now.timestamp(),
                    i64::from(by_backfill)
                ])
            })
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Forget a pending post (it was stored, or is no longer wanted). Returns whether it was
    /// pending.
    pub fn remove_pending(&mut self, source: &str, url: &str) -> Result<bool, StoreError> {
        let n = self
            .conn
            .prepare_cached("DELETE FROM pending WHERE source = ?1 AND url = ?2")
            .and_then(|mut stmt| stmt.execute(params![source, url]))
            .map_err(|e| self.err(e))?;
        Ok(n > 0)
    }

    /// URLs pending for `source`, oldest failure first.
    pub fn pending(&self, source: &str) -> Result<Vec<String>, StoreError> {
        Ok(self
            .pending_details(source)?
            .into_iter()
            .map(|p| p.url)
            .collect())
    }

    /// Pending posts of `source` with their failure history, oldest failure first.
    pub fn pending_details(&self, source: &str) -> Result<Vec<PendingPost>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT url, reason, attempts, first_failed, last_failed FROM pending
                 WHERE source = ?1 ORDER BY first_failed ASC, rowid ASC",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([source], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, i64>(2)?,
                    row.get::<_, i64>(3)?,
                    row.get::<_, i64>(4)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (url, reason, attempts, first, last) = row.map_err(|e| self.err(e))?;
            out.push(PendingPost {
                url,
                reason,
                attempts: u32::try_from(attempts)
                    .map_err(|_| StoreError::bad_value(&self.path, "pending.attempts"))?,
                first_failed: self.time(first)?,
                last_failed: self.time(last)?,
            });
        }
        Ok(out)
    }

    /// The validators saved for `url`: `(ETag, Last-Modified)`, or `None` if never saved.
    pub fn http_cache_get(&self, url: &str) -> Result<Option<Validators>, StoreError> {
        self.conn
            .query_row(
                "SELECT etag, last_modified FROM http_cache WHERE url = ?1",
                [url],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// The validators `source` saved for its own URL `url` (see
    /// [`Store::index_validators_put`]), or `None`.
    pub fn index_validators(
        &self,
        source: &str,
        url: &str,
    ) -> Result<Option<Validators>, StoreError> {
        self.conn
            .query_row(
                "SELECT etag, last_modified FROM index_validators WHERE source = ?1 AND url = ?2",
                [source, url],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Save (replace) the validators of `source`'s own URL `url`: kept per source, so two
    /// sources on one URL, or a renamed source, never answer each other's conditional request.
    pub fn index_validators_put(
        &mut self,
        source: &str,
        url: &str,
        etag: Option<&str>,
        last_modified: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO index_validators (source, url, etag, last_modified, checked_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (source, url) DO UPDATE SET
                     etag = excluded.etag,
                     last_modified = excluded.last_modified,
                     checked_at = excluded.checked_at",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![source, url, etag, last_modified, now.timestamp()])
            })
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// What `source` last read at its own URL `url` when it read it in full (see
    /// [`Store::set_index_site`]): `Some(Some(site))` a feed naming the website `site` as its
    /// own, `Some(None)` a feed naming none; `None` when that URL was not a feed, or nothing is
    /// recorded.
    pub fn index_site(
        &self,
        source: &str,
        url: &str,
    ) -> Result<Option<Option<String>>, StoreError> {
        let site: Option<Option<String>> = self
            .conn
            .query_row(
                "SELECT site_url FROM index_validators WHERE source = ?1 AND url = ?2",
                [source, url],
                |row| row.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        Ok(site.flatten().map(|s| Some(s).filter(|s| !s.is_empty())))
    }

    /// Record what `source` read at its own URL `url`, read in full: `Some(site)` a feed and
    /// the website it names (`None`: none), `None` not a feed. Kept until the next full read,
    /// so a 304 keeps it.
    pub fn set_index_site(
        &mut self,
        source: &str,
        url: &str,
        feed_site: Option<Option<&str>>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let result = match feed_site {
            Some(site) => self
                .conn
                .prepare_cached(
                    "INSERT INTO index_validators (source, url, checked_at, site_url)
                     VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (source, url) DO UPDATE SET site_url = excluded.site_url",
                )
                .and_then(|mut stmt| {
                    stmt.execute(params![source, url, now.timestamp(), site.unwrap_or("")])
                }),
            None => self
                .conn
                .prepare_cached(
                    "UPDATE index_validators SET site_url = NULL
                     WHERE source = ?1 AND url = ?2 AND site_url IS NOT NULL",
                )
                .and_then(|mut stmt| stmt.execute(params![source, url])),
        };
        result.map(drop).map_err(|e| self.err(e))
    }

    /// Save (replace) the validators of `url`.
    pub fn http_cache_put(
        &mut self,
        url: &str,
        etag: Option<&str>,
        last_modified: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO http_cache (url, etag, last_modified, checked_at)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (url) DO UPDATE SET
                     etag = excluded.etag,
                     last_modified = excluded.last_modified,
                     checked_at = excluded.checked_at",
            )
            .and_then(|mut stmt| stmt.execute(params![url, etag, last_modified, now.timestamp()]))
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Record one run of `source` at `now`: a success when `error` is `None` (clears the last
    /// error), otherwise a failure with that error (the last success is kept).
    pub fn record_source_run(
        &mut self,
        source: &str,
        now: DateTime<Utc>,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        let ts = now.timestamp();
        let success = error.is_none().then_some(ts);
        self.conn
            .execute(
                "INSERT INTO source_state (source, last_success, last_error, last_run)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (source) DO UPDATE SET
                     last_success = coalesce(excluded.last_success, last_success),
                     last_error = excluded.last_error,
                     last_run = excluded.last_run",
                params![source, success, error, ts],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// The recorded health of `source`, or `None` if it never ran.
    pub fn source_state(&self, source: &str) -> Result<Option<SourceState>, StoreError> {
        let row = self
            .conn
            .query_row(
                "SELECT last_success, last_error, last_run, state, reason FROM source_state
                 WHERE source = ?1",
                [source],
                |row| {
                    Ok((
                        row.get::<_, Option<i64>>(0)?,
                        row.get::<_, Option<String>>(1)?,
                        row.get::<_, i64>(2)?,
                        row.get::<_, String>(3)?,
                        row.get::<_, Option<String>>(4)?,
                    ))
                },
            )
            .optional()
            .map_err(|e| self.err(e))?;
        let Some((success, last_error, run, state, reason)) = row else {
            return Ok(None);
        };
        Ok(Some(SourceState {
            source: source.to_owned(),
            last_success: success.map(|s| self.time(s)).transpose()?,
            last_error,
            last_run: self.time(run)?,
            state,
            reason,
        }))
    }

    /// Does the database have table `name`? A read-only reader next to an older writer may
    /// find a table of a newer migration missing.
    fn has_table(&self, name: &str) -> Result<bool, StoreError> {
        self.conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?1)",
                [name],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))
    }

    fn err(&self, e: rusqlite::Error) -> StoreError {
        StoreError::sql(&self.path, e)
    }

    fn time(&self, secs: i64) -> Result<DateTime<Utc>, StoreError> {
        from_unix(&self.path, secs)
    }
}

/// Unix seconds back to a date; an out-of-range value is a corrupt row.
fn from_unix(path: &str, secs: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp(secs, 0)
        .ok_or_else(|| StoreError::bad_value(path, format!("timestamp {secs} out of range")))
}

/// The write-ahead log's file (`-shm`, then `-wal`) next to the database at `path` that exists
/// but cannot be opened for writing, if any.
fn unwritable_wal_file(path: &Path) -> Option<PathBuf> {
    ["-shm", "-wal"].into_iter().find_map(|suffix| {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let file = PathBuf::from(name);
        let denied = OpenOptions::new()
            .write(true)
            .open(&file)
            .is_err_and(|e| e.kind() == std::io::ErrorKind::PermissionDenied);
        denied.then_some(file)
    })
}

/// `<path>.lock`: the single-writer lock file next to the database.
fn lock_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// Highest migration version embedded in this build.
pub fn known_schema_version() -> i64 {
    embedded::migrations::runner()
        .get_migrations()
        .iter()
        .map(|m| i64::from(m.version()))
        .max()
        .unwrap_or(0)
}

/// The SQL functions migrations and queries of the writing store call, for what only this
/// program's code computes: `twin_key_escapes(key)`, a twin key stored with its
/// percent-escapes as written given as [`crate::normalize::twin_key`] writes it now (migration
/// `V24__twin_key_escapes.sql`, and `recheck_candidates`). A read-only store has none.
fn register_functions(conn: &Connection) -> rusqlite::Result<()> {
    use rusqlite::functions::FunctionFlags;
    conn.create_scalar_function(
        "twin_key_escapes",
        1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            let key = ctx.get_raw(0).as_str_or_null()?;
            Ok(key.map(|key| crate::normalize::key_escapes(key).into_owned()))
        },
    )
}

/// Highest version in refinery's history table, `None` when no migration ever ran.
/// Reads only: never creates the table.
fn applied_schema_version(conn: &Connection) -> Result<Option<i64>, rusqlite::Error> {
    let has_history: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1)",
        [HISTORY_TABLE],
        |row| row.get(0),
    )?;
    if !has_history {
        return Ok(None);
    }
    conn.query_row(
        &format!("SELECT max(version) FROM {HISTORY_TABLE}"),
        [],
        |row| row.get(0),
    )
}

/// Classify an error met while opening: SQLite reports a directory it cannot write into as
/// "unable to open database file", which is really a read-only problem.
fn open_error(path: &Path, shown: &str, e: rusqlite::Error) -> StoreError {
    if e.sqlite_error_code() == Some(rusqlite::ErrorCode::CannotOpen) {
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        if std::fs::metadata(dir).is_ok_and(|m| m.permissions().readonly()) {
            return StoreError::ReadOnly {
                path: shown.to_owned(),
                message: format!("directory {} is not writable ({e})", dir.display()),
            };
        }
    }
    StoreError::sql(shown, e)
}

/// Classify a file-system error about the database at `shown`.
fn io_error(shown: &str, what: &str, e: std::io::Error) -> StoreError {
    use std::io::ErrorKind;
    match e.kind() {
        ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem => StoreError::ReadOnly {
            path: shown.to_owned(),
            message: format!("{what}: {e}"),
        },
        _ => StoreError::Db {
            path: shown.to_owned(),
            message: format!("{what}: {e}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What SQLite does on a full disk or an I/O error at the wrong moment: the whole
    /// transaction rolled back under a running batch. The batch's later writes must not be
    /// committed one by one: the batch fails, and nothing of it is stored.
    #[test]
    fn writes_after_the_transaction_was_rolled_back_under_a_batch_are_not_committed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = Store::open(&dir.path().join("store.db")).expect("open");
        let now = Utc::now();
        let result = store.batch(|s| {
            s.add_pending("blog", "https://example.org/a/", "timeout", now)
                .expect("first write, inside the transaction");
            s.conn
                .execute_batch("ROLLBACK")
                .expect("the transaction ends");
            s.add_pending("blog", "https://example.org/b/", "timeout", now)
        });
        let err = result.expect_err("the batch cannot commit");
        assert!(err.to_string().contains("rolled the batch back"), "{err}");
        assert_eq!(
            store.pending("blog").expect("pending"),
            Vec::<String>::new()
        );
        // The store goes on: the next batch commits, and the hook is gone.
        store
            .batch(|s| s.add_pending("blog", "https://example.org/c/", "timeout", now))
            .expect("next batch")
            .expect("write");
        store
            .add_pending("blog", "https://example.org/d/", "timeout", now)
            .expect("a write outside any batch commits");
        assert_eq!(
            store.pending("blog").expect("pending"),
            vec!["https://example.org/c/", "https://example.org/d/"]
        );
    }

    #[test]
    fn a_panic_inside_a_batch_rolls_it_back_and_the_store_stays_usable() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = Store::open(&dir.path().join("store.db")).expect("open");
        let now = Utc::now();
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _ = store.batch(|s| {
                s.add_pending("blog", "https://example.org/a/", "timeout", now)
                    .expect("write");
                panic!("a bug mid-batch");
            });
        }));
        assert!(panicked.is_err());
        store
            .batch(|s| s.add_pending("blog", "https://example.org/b/", "timeout", now))
            .expect("a new batch begins")
            .expect("write");
        assert_eq!(
            store.pending("blog").expect("pending"),
            vec!["https://example.org/b/"]
        );
    }

    /// A robots.txt copy is fresh for a day after it was fetched; one dated in the future
    /// (fetched while the clock was ahead) is not fresh at all, or a site's new rules would be
    /// ignored until the clock caught up with it.
    #[test]
    fn a_robots_copy_from_the_future_is_stale() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = Store::open(&dir.path().join("store.db")).expect("open");
        let now = Utc::now();
        let row = |origin: &str, at| (origin.to_owned(), Some(b"User-agent: *".to_vec()), at);
        store
            .robots_put(&row("https://a.example", now - chrono::Duration::hours(2)))
            .expect("put");
        store
            .robots_put(&row("https://b.example", now + chrono::Duration::days(400)))
            .expect("put");
        store
            .robots_put(&row("https://c.example", now - chrono::Duration::days(2)))
            .expect("put");
        let fresh: Vec<String> = store
            .robots_fresh(now)
            .expect("read")
            .into_iter()
            .map(|r| r.0)
            .collect();
        assert_eq!(fresh, ["https://a.example"]);
    }

    /// Schema v24 writes twin keys' escapes one way: an older store's keys are rewritten; of
    /// rows whose keys become one, the row first seen takes the key and the others are never
    /// matched again, no row lost.
    #[test]
    fn twin_keys_of_an_older_store_take_their_escapes_one_way() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("store.db");
        drop(Store::open(&path).expect("open"));
        let conn = Connection::open(&path).expect("raw open");
        let entry = |id: &str, id_key: &str, dedup_key: &str, first_seen: i64| {
            conn.execute(
                "INSERT INTO entries (id, id_key, dedup_key, source, url, title, published,
                     published_source, updated, updated_source, content_html, summary,
                     content_hash, first_seen, last_seen)
                 VALUES (?1, ?2, ?3, 'blog', ?1, ?1, 0, 'meta', 0, 'meta', '', '', '', ?4, ?4)",
                params![id, id_key, dedup_key, first_seen],
            )
            .expect("entry");
            conn.execute(
                "INSERT INTO entry_sources (entry_id, source) VALUES (?1, 'blog')",
                [id],
            )
            .expect("entry source");
        };
        // One post, its id and link as the site wrote them.
        let caf = "https://ex.org/caf%c3%a9/";
        entry(caf, "ex.org/caf%c3%a9/", "ex.org/caf%c3%a9/", 1);
        // Twins stored twice: the older with lowercase escapes, the newer with the key.
        entry("https://ex.org/?p=1", "ex.org/?p=1", "ex.org/a%c3%a9/", 1);
        entry("https://ex.org/?p=2", "ex.org/?p=2", "ex.org/a%C3%A9/", 2);
        // Twins neither of which has the key: the older takes it, whatever the rowid order.
        entry("https://ex.org/?p=5", "ex.org/?p=5", "ex.org/b%c3%a9/", 5);
        entry("https://ex.org/?p=3", "ex.org/?p=3", "ex.org/b%C3%a9/", 3);
        // An escaped `~` is `~`; the older row holds that key already and keeps it.
        entry("https://ex.org/~u/", "ex.org/~u/", "ex.org/~u/", 1);
        entry("https://ex.org/%7eu/", "ex.org/%7eu/", "ex.org/%7eu/", 2);
        // Twins by their ids only (the older one moved since).
        entry(
            "https://ex.org/g%c3%a9/",
            "ex.org/g%c3%a9/",
            "ex.org/moved/",
            1,
        );
        entry(
            "https://ex.org/g%C3%A9/",
            "ex.org/g%C3%A9/",
            "ex.org/g%C3%A9/",
            2,
        );
        let alias = |url_key: &str, dedup_key: &str| {
            conn.execute(
                "INSERT INTO aliases (url_key, dedup_key) VALUES (?1, ?2)",
                [url_key, dedup_key],
            )
            .expect("alias");
        };
        // Becomes its entry's own key: says nothing more.
        alias("ex.org/caf%C3%a9/", "ex.org/caf%c3%a9/");
        // Name the post by the key its rows share, held by the one first seen.
        alias("ex.org/x/", "ex.org/a%c3%a9/");
        alias("ex.org/y/", "ex.org/a%C3%A9/");
        // Become one naming one post: says nothing more.
        alias("ex.org/z%C3%A9/", "ex.org/a%C3%A9/");
        alias("ex.org/z%c3%a9/", "ex.org/a%c3%a9/");
        // Becomes an entry's key: stays as it was.
        alias("ex.org/a%C3%a9/", "ex.org/b%C3%a9/");
        // Become one, naming two posts: the one first seen takes the key.
        alias("ex.org/w%C3%A9/", "ex.org/b%C3%a9/");
        alias("ex.org/w%c3%a9/", "ex.org/caf%c3%a9/");
        // Names a row not first seen by a key it loses: names the one first seen.
        alias("ex.org/h/", "ex.org/g%C3%A9/");
        conn.execute_batch(
            "ALTER TABLE source_state DROP COLUMN site_description;
             DELETE FROM refinery_schema_history WHERE version >= 24;",
        )
        .expect("downgrade");
        drop(conn);

        let store = Store::open(&path).expect("upgrade");
        assert_eq!(store.schema_version().expect("version"), 25);
        let rows = |sql: &str| -> Vec<String> {
            store
                .conn
                .prepare(sql)
                .expect("query")
                .query_map([], |r| r.get(0))
                .expect("rows")
                .collect::<Result<_, _>>()
                .expect("read")
        };
        // A row not first seen keeps no key a link gives: one it would keep is retired (`#`).
        assert_eq!(
            rows("SELECT id || ' ' || id_key || ' ' || dedup_key FROM entries ORDER BY id"),
            [
                "https://ex.org/%7eu/ ex.org/%7eu/ ex.org/%7eu/",
                "https://ex.org/?p=1 ex.org/?p=1 ex.org/a%C3%A9/",
                "https://ex.org/?p=2 #ex.org/?p=2 ex.org/a%c3%a9/",
                "https://ex.org/?p=3 ex.org/?p=3 ex.org/b%C3%A9/",
                "https://ex.org/?p=5 #ex.org/?p=5 ex.org/b%c3%a9/",
                "https://ex.org/caf%c3%a9/ ex.org/caf%C3%A9/ ex.org/caf%C3%A9/",
                "https://ex.org/g%C3%A9/ ex.org/g%c3%a9/ #ex.org/g%C3%A9/",
                "https://ex.org/g%c3%a9/ ex.org/g%C3%A9/ ex.org/moved/",
                "https://ex.org/~u/ ex.org/~u/ ex.org/~u/",
            ]
        );
        assert_eq!(
            rows("SELECT url_key || ' ' || dedup_key FROM aliases ORDER BY url_key"),
            [
                "ex.org/a%C3%a9/ ex.org/b%C3%A9/",
                "ex.org/h/ ex.org/moved/",
                "ex.org/w%C3%A9/ ex.org/caf%C3%A9/",
                "ex.org/w%c3%a9/ ex.org/b%C3%A9/",
                "ex.org/x/ ex.org/a%C3%A9/",
                "ex.org/y/ ex.org/a%C3%A9/",
                "ex.org/z%C3%A9/ ex.org/a%C3%A9/",
            ]
        );
        // Re-checks never read a row left apart (its URL would update the other row, and it
        // would stay due): of the five left apart, none is a candidate.
        let due = store
            .recheck_candidates("blog", Utc::now(), 100_000, 0)
            .expect("candidates");
        for apart in [
            "https://ex.org/?p=2",
            "https://ex.org/?p=5",
            "https://ex.org/%7eu/",
            "https://ex.org/g%C3%A9/",
        ] {
            assert!(!due.iter().any(|u| u == apart), "{apart} in {due:?}");
        }
        assert!(due.iter().any(|u| u == caf), "{due:?}");
        // Matched by the keys `twin_key` gives now; the link and id stay as written.
        let key = crate::normalize::twin_key("https://www.ex.org/café/");
        let stored = store.get_stored(&key).expect("read").expect("matched");
        assert_eq!(
            (stored.entry.id.0.as_str(), stored.entry.url.as_str()),
            (caf, caf)
        );
    }
}
