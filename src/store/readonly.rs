//! Read-only access for the server and `status`, and the run-duration bookkeeping the server
//! reports.
//!
//! Owns: [`Store::open_read_only`] and [`Store::open_read_only_if_ready`] (no lock file, no
//! migrations, never writes; the latter tells "nothing to read yet" from a failure), the aggregate
//! queries behind `/metrics` (sums over `source_runs` and the runs folded out of it,
//! run-duration histograms, digest issue counts), [`Store::set_last_run_duration`]
//! (`migrations/V4__run_duration.sql`) and [`ChangeStamp`], which tells a reader whether
//! anything was committed since it last read.
//! Must not: take the single-writer lock, migrate, or decide what a figure means to a monitoring
//! system (that is `server`).

use std::fs::File;
use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, params, params_from_iter};

use super::{
    BUSY_TIMEOUT, Store, StoreError, applied_schema_version, known_schema_version, lock_path,
};

/// How the database's files look on disk (the main file and its write-ahead log: identity, size,
/// modification time). Every committed transaction changes it (a commit appends to the log or
/// restarts it, a checkpoint rewrites the main file), so figures read under one stamp still
/// hold while the stamp is the same. Costs two `stat` calls, no SQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeStamp([Option<(u64, u64, Option<std::time::SystemTime>)>; 2]);

impl ChangeStamp {
    /// The stamp of the database at `path` now.
    pub fn of(path: &Path) -> ChangeStamp {
        let mut wal = path.as_os_str().to_owned();
        wal.push("-wal");
        // An empty log holds nothing: readers create one when there is none.
        let stat = |p: &Path| {
            let m = std::fs::metadata(p).ok().filter(|m| m.len() > 0)?;
            #[cfg(unix)]
            let id = std::os::unix::fs::MetadataExt::ino(&m);
            #[cfg(not(unix))]
            let id = 0;
            Some((id, m.len(), m.modified().ok()))
        };
        ChangeStamp([stat(path), stat(Path::new(&wal))])
    }
}

/// Totals over every recorded run of one source (the `source_runs` table).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunTotals {
    /// The source name.
    pub source: String,
    /// Runs recorded.
    pub runs: u64,
    /// Requests made.
    pub requests: u64,
    /// Requests answered `304 Not Modified`.
    pub not_modified: u64,
    /// Body bytes received.
    pub bytes: u64,
    /// Entries inserted.
    pub new: u64,
    /// Entries rewritten because their content changed.
    pub updated: u64,
    /// Posts or pages whose fetch or extraction failed.
    pub failures: u64,
}

/// Run durations of one source as a cumulative histogram. Only measured runs count (see
/// [`Store::set_last_run_duration`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DurationHistogram {
    /// The source name.
    pub source: String,
    /// Measured runs.
    pub count: u64,
    /// Sum of their durations, in milliseconds.
    pub sum_ms: u64,
    /// For each bound given to [`Store::run_duration_histograms`], the runs that took at most
    /// that many milliseconds.
    pub cumulative: Vec<u64>,
}

/// How many digest issues of one feed were recorded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DigestCounts {
    /// The feed name.
    pub feed: String,
    /// Issues an SMTP server accepted.
    pub delivered: u64,
    /// Issues written to files, sent or not (every issue is written; one written without an
    /// `smtp_url` and sent later counts in both, so neither count ever goes down).
    pub written: u64,
}

/// A failure of a reader's first read. Reading a database in WAL mode needs its `-shm` and `-wal`
/// files, which SQLite creates next to it when no writer holds them: a reader that may not
/// create files in that directory (another user than the writer's) fails between runs only,
/// with SQLite's bare "attempt to write a readonly database"; said so instead.
fn reader_error(path: &Path, shown: &str, e: rusqlite::Error) -> StoreError {
    let err = StoreError::sql(shown, e);
    let mut shm = path.as_os_str().to_owned();
    shm.push("-shm");
    match err {
        StoreError::ReadOnly { path, .. } if !Path::new(&shm).exists() => StoreError::ReadOnly {
            path: path.clone(),
            message: format!(
                "cannot create {path}-shm and {path}-wal, which SQLite needs to read it while \
                 no feedwright process holds it: this user needs write access to the database's \
                 directory (a group shared with the user that runs feedwright), or run it as \
                 that user"
            ),
        },
        other => other,
    }
}

impl Store {
    /// Open the database at `path` for reading only, next to a writer that may be running.
    ///
    /// Takes no lock and creates no lock file, runs no migration and never writes. Fails with a
    /// [`StoreError::Db`] saying so when the file does not exist yet (no run created it) or holds
    /// no schema yet, and with [`StoreError::NewerSchema`] when a newer build migrated it. The
    /// write methods of the returned store fail with [`StoreError::ReadOnly`].
    ///
    /// SQLite needs the database's `-shm` file to read a WAL database: it exists while a writer
    /// runs; otherwise the directory must be writable so SQLite can create it.
    pub fn open_read_only(path: &Path) -> Result<Store, StoreError> {
        match Store::open_read_only_if_ready(path)? {
            Some(store) => Ok(store),
            None => Err(StoreError::Db {
                path: path.display().to_string(),
                message: if path.exists() {
                    "the database was never initialised by feedwright"
                } else {
                    "the database does not exist yet (no run has created it)"
                }
                .to_owned(),
            }),
        }
    }

    /// As [`Store::open_read_only`], but `None` while there is nothing to read yet: the file
    /// does not exist, or no schema was committed to it yet (the first run is creating it: it
    /// creates the whole schema in one transaction, so a reader sees none of it or all of it).
    pub fn open_read_only_if_ready(path: &Path) -> Result<Option<Store>, StoreError> {
        let shown = path.display().to_string();
        match std::fs::metadata(path) {
            Ok(m) if m.is_file() => {}
            Ok(_) => {
                return Err(StoreError::Db {
                    path: shown,
                    message: "not a file".to_owned(),
                });
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(StoreError::Db {
                    path: shown,
                    message: format!("cannot inspect the database file: {e}"),
                });
            }
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn =
            Connection::open_with_flags(path, flags).map_err(|e| StoreError::sql(&shown, e))?;
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| StoreError::sql(&shown, e))?;
        let known = known_schema_version();
        match applied_schema_version(&conn).map_err(|e| reader_error(path, &shown, e))? {
            Some(found) if found > known => {
                return Err(StoreError::NewerSchema {
                    path: shown,
                    found,
                    known,
                });
            }
            Some(_) => {}
            None => return Ok(None),
        }
        Ok(Some(Store {
            conn,
            path: shown,
            _lock: placeholder_handle(path).map_err(|e| StoreError::Db {
                path: path.display().to_string(),
                message: format!("cannot open a placeholder handle: {e}"),
            })?,
        }))
    }

    /// Record how long the most recent run of `source` took. A measured duration is stored as
    /// at least 1 ms, because 0 means "not measured". Returns `false` when `source` has no
    /// recorded run.
    pub fn set_last_run_duration(
        &mut self,
        source: &str,
        duration: Duration,
    ) -> Result<bool, StoreError> {
        let ms = i64::try_from(duration.as_millis())
            .unwrap_or(i64::MAX)
            .max(1);
        let n = self
            .conn
            .execute(
                "UPDATE source_runs SET duration_ms = ?2 WHERE id = (
                     SELECT id FROM source_runs WHERE source = ?1 ORDER BY at DESC, id DESC LIMIT 1)",
                params![source, ms],
            )
            .map_err(|e| self.err(e))?;
        Ok(n > 0)
    }

    /// Totals over every recorded run, one row per source that ran, ordered by name: the runs
    /// still in `source_runs` plus those folded into `source_run_totals` (see
    /// `Store::record_run_health`), so a total never goes down.
    pub fn run_totals(&self) -> Result<Vec<RunTotals>, StoreError> {
        let folded = if self.has_table("source_run_totals")? {
            "UNION ALL
             SELECT source, runs, requests, not_modified, bytes, new, updated, failures
             FROM source_run_totals"
        } else {
            ""
        };
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT source, total(runs), total(requests), total(not_modified), total(bytes),
                        total(new), total(updated), total(failures)
                 FROM (SELECT source, count(*) AS runs, total(requests) AS requests,
                              total(not_modified) AS not_modified, total(bytes) AS bytes,
                              total(new) AS new, total(updated) AS updated,
                              total(failures) AS failures
                       FROM source_runs GROUP BY source
                       {folded})
                 GROUP BY source ORDER BY source"
            ))
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                // `total()` is a float; the sums of non-negative integers fit u64 exactly here.
                let n = |i: usize| r.get::<_, f64>(i).map(|v| v.max(0.0) as u64);
                Ok(RunTotals {
                    source: r.get(0)?,
                    runs: n(1)?,
                    requests: n(2)?,
                    not_modified: n(3)?,
                    bytes: n(4)?,
                    new: n(5)?,
                    updated: n(6)?,
                    failures: n(7)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Run-duration histograms, one per source with a measured run, ordered by name; `bounds_ms`
    /// are the bucket upper bounds in milliseconds (ascending). Empty on a database from before
    /// durations were recorded. Runs folded out of `source_runs` are counted with their
    /// duration rounded up to 100 ms: exactly, for bounds that are multiples of 100 ms.
    pub fn run_duration_histograms(
        &self,
        bounds_ms: &[u64],
    ) -> Result<Vec<DurationHistogram>, StoreError> {
        let has_column: bool = self
            .conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM pragma_table_info('source_runs')
                                WHERE name = 'duration_ms')",
                [],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))?;
        if !has_column {
            return Ok(Vec::new());
        }
        let column = |i: usize| format!("b{i}");
        let buckets: String = (0..bounds_ms.len())
            .map(|i| format!(", total(duration_ms <= ?{}) AS {}", i + 1, column(i)))
            .collect();
        let sums: String = (0..bounds_ms.len())
            .map(|i| format!(", total({})", column(i)))
            .collect();
        // Folded runs: their count and buckets from `source_run_durations` (durations rounded
        // up to 100 ms, exact for bounds that are multiples of it), their sum from the totals.
        let folded = if self.has_table("source_run_durations")? {
            let folded_buckets: String = (0..bounds_ms.len())
                .map(|i| format!(", total(runs * (upto_ms <= ?{}))", i + 1))
                .collect();
            let zeros: String = (0..bounds_ms.len()).map(|_| ", 0").collect();
            format!(
                "UNION ALL
                 SELECT source, total(runs), 0{folded_buckets}
                 FROM source_run_durations GROUP BY source
                 UNION ALL
                 SELECT source, 0, duration_ms{zeros} FROM source_run_totals"
            )
        } else {
            String::new()
        };
        let sql = format!(
            "SELECT source, total(n), total(ms){sums}
             FROM (SELECT source, count(*) AS n, total(duration_ms) AS ms{buckets}
                   FROM source_runs WHERE duration_ms > 0 GROUP BY source
                   {folded})
             GROUP BY source HAVING total(n) > 0 ORDER BY source"
        );
        let mut stmt = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        let bounds: Vec<i64> = bounds_ms
            .iter()
            .map(|b| i64::try_from(*b).unwrap_or(i64::MAX))
            .collect();
        let rows = stmt
            .query_map(params_from_iter(bounds.iter()), |r| {
                let mut cumulative = Vec::with_capacity(bounds_ms.len());
                for i in 0..bounds_ms.len() {
                    cumulative.push(r.get::<_, f64>(3 + i)?.max(0.0) as u64);
                }
                Ok(DurationHistogram {
                    source: r.get(0)?,
                    count: r.get::<_, f64>(1)?.max(0.0) as u64,
                    sum_ms: r.get::<_, f64>(2)?.max(0.0) as u64,
                    cumulative,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Recorded digest issues per feed, ordered by name.
    pub fn digest_counts(&self) -> Result<Vec<DigestCounts>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT feed, total(delivered = 1), count(*)
                 FROM digest_issue GROUP BY feed ORDER BY feed",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok(DigestCounts {
                    feed: r.get(0)?,
                    delivered: r.get::<_, f64>(1)?.max(0.0) as u64,
                    written: r.get::<_, f64>(2)?.max(0.0) as u64,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }
}

/// A file handle to fill the store's lock slot without taking a lock: the existing lock file
/// opened for reading (never created, never locked), or else an anonymous temporary file. Never
/// the database itself: closing another handle to it would drop SQLite's POSIX locks.
fn placeholder_handle(db: &Path) -> std::io::Result<File> {
    match File::open(lock_path(db)) {
        Ok(f) => Ok(f),
        Err(_) => tempfile::tempfile(),
    }
}
