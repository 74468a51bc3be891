//! Storage: the SQLite database.
//!
//! Owns: all SQL, the schema and its migrations, the single-writer lock. Must not: make HTTP
//! requests, render documents or read configuration beyond the path it is given.

use std::path::Path;

use chrono::{DateTime, Utc};

use crate::model::Entry;

/// Store errors; each names the database file.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database {path}: {message}")]
    Db { path: String, message: String },
}

/// What an upsert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upsert {
    New,
    Updated,
    Unchanged,
}

/// An open store.
pub struct Store {
    _conn: rusqlite::Connection,
}

impl Store {
    /// Open (creating if missing) and migrate.
    pub fn open(_path: &Path) -> Result<Store, StoreError> {
        todo!()
    }

    /// Insert or update an entry (matched by `dedup_key`).
    pub fn upsert_entry(
        &mut self,
        _entry: &Entry,
        _now: DateTime<Utc>,
    ) -> Result<Upsert, StoreError> {
        todo!()
    }

    /// Entries of `sources`, filtered by `categories` when non-empty, newest first, id tie-break.
    pub fn entries(
        &self,
        _sources: &[String],
        _categories: &[String],
        _limit: usize,
    ) -> Result<Vec<Entry>, StoreError> {
        todo!()
    }

    /// Placeholder.
    pub fn pending(&self, _source: &str) -> Result<Vec<String>, StoreError> {
        todo!()
    }
    /// Placeholder.
    pub fn add_pending(
        &mut self,
        _source: &str,
        _url: &str,
        _reason: &str,
        _now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        todo!()
    }
    /// Placeholder.
    pub fn remove_pending(&mut self, _source: &str, _url: &str) -> Result<(), StoreError> {
        todo!()
    }
    /// Placeholder.
    pub fn record_source_run(
        &mut self,
        _source: &str,
        _now: DateTime<Utc>,
        _error: Option<&str>,
    ) -> Result<(), StoreError> {
        todo!()
    }
}
