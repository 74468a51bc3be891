//! Requests per source by how they ended (`migrations/V5__fetch_status.sql`).
//!
//! Owns: the `fetch_status` table — cumulative counters per `(source, status)`, where `status` is
//! the final HTTP status code as text (`"200"`, `"304"`, `"404"`…) or a transport label
//! (`"timeout"`, `"connect"`, `"error"`) — with [`Store::add_fetch_statuses`] (the writer, once
//! per source run) and [`Store::fetch_status_totals`] (the reader behind `/metrics`).
//! Must not: decide which label a request gets (that is `source::http`) or what a figure means
//! to a monitoring system (that is `server`).

use rusqlite::params;

use super::{Store, StoreError};

/// The requests of one source that ended with one status, over every recorded run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FetchStatusTotal {
    /// The source name.
    pub source: String,
    /// The final HTTP status code as text, or `timeout`, `connect` or `error`.
    pub status: String,
    /// How many requests.
    pub count: u64,
}

impl Store {
    /// Add one run's requests by status to the counters of `source`, in one transaction.
    /// Labels with a zero count are skipped.
    pub fn add_fetch_statuses(
        &mut self,
        source: &str,
        counts: &[(String, u32)],
    ) -> Result<(), StoreError> {
        if counts.iter().all(|(_, n)| *n == 0) {
            return Ok(());
        }
        let Store { conn, path, .. } = self;
        let path: &str = path;
        let sql = |e| StoreError::sql(path, e);
        let tx = conn.transaction().map_err(sql)?;
        for (status, n) in counts.iter().filter(|(_, n)| *n > 0) {
            tx.execute(
                "INSERT INTO fetch_status (source, status, count) VALUES (?1, ?2, ?3)
                 ON CONFLICT (source, status) DO UPDATE SET count = count + excluded.count",
                params![source, status, n],
            )
            .map_err(sql)?;
        }
        tx.commit().map_err(sql)
    }

    /// Every counter, ordered by source then status (numeric codes first, ascending). Empty on a
    /// database from before these counters existed (a reader next to an older writer).
    pub fn fetch_status_totals(&self) -> Result<Vec<FetchStatusTotal>, StoreError> {
        if !self.has_table("fetch_status")? {
            return Ok(Vec::new());
        }
        let mut stmt = self
            .conn
            .prepare(
                "SELECT source, status, count FROM fetch_status
                 ORDER BY source, length(status) <> 3 OR status GLOB '*[^0-9]*', status",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok(FetchStatusTotal {
                    source: r.get(0)?,
                    status: r.get(1)?,
                    count: r.get::<_, i64>(2)?.max(0) as u64,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }
}
