//! The store's error type: every variant names the database file it is about.

/// Why the store could not do what was asked. Every message names the database file.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another process holds the single-writer lock next to the database.
    #[error(
        "database {path} is in use by another feedwright process (lock file {lock} is held); \
         wait for it to finish or stop it"
    )]
    Locked {
        /// The database file.
        path: String,
        /// The lock file that is held.
        lock: String,
    },
    /// The database file, its lock file or its directory cannot be written.
    #[error("database {path} is read-only: {message}")]
    ReadOnly {
        /// The database file.
        path: String,
        /// What exactly cannot be written.
        message: String,
    },
    /// The device holding the database (or its write-ahead log) is full.
    #[error("database {path}: no space left on its device ({message})")]
    Full {
        /// The database file.
        path: String,
        /// SQLite's own words.
        message: String,
    },
    /// Reading or writing the database's files failed (a failing disk, a file size limit).
    #[error("database {path}: cannot read or write its files ({message})")]
    Io {
        /// The database file.
        path: String,
        /// SQLite's own words.
        message: String,
    },
    /// The file exists but is not a SQLite database, or it is corrupt.
    #[error("{path} is not a usable SQLite database, or it is corrupt ({message})")]
    NotADatabase {
        /// The database file.
        path: String,
        /// SQLite's own words.
        message: String,
    },
    /// The database was migrated by a newer build; it is left untouched.
    #[error(
        "database {path} was written by a newer feedwright (schema v{found}, this build knows up \
         to v{known}); upgrade feedwright or use another database file"
    )]
    NewerSchema {
        /// The database file.
        path: String,
        /// Highest schema version recorded in the database.
        found: i64,
        /// Highest schema version this build can migrate to.
        known: i64,
    },
    /// Any other failure: SQL, migration, file system, or a stored value that cannot be read.
    #[error("database {path}: {message}")]
    Db {
        /// The database file.
        path: String,
        /// What went wrong.
        message: String,
    },
}

impl StoreError {
    /// The database file the error is about.
    pub fn path(&self) -> &str {
        match self {
            StoreError::Locked { path, .. }
            | StoreError::ReadOnly { path, .. }
            | StoreError::Full { path, .. }
            | StoreError::Io { path, .. }
            | StoreError::NotADatabase { path, .. }
            | StoreError::NewerSchema { path, .. }
            | StoreError::Db { path, .. } => path,
        }
    }

    /// Classify a SQLite error for the database at `path`.
    pub(crate) fn sql(path: &str, err: rusqlite::Error) -> StoreError {
        use rusqlite::ErrorCode;
        let path = path.to_owned();
        let message = err.to_string();
        match err.sqlite_error_code() {
            Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => {
                StoreError::NotADatabase { path, message }
            }
            Some(ErrorCode::ReadOnly) => StoreError::ReadOnly { path, message },
            Some(ErrorCode::DiskFull) => StoreError::Full { path, message },
            Some(ErrorCode::SystemIoFailure) => StoreError::Io { path, message },
            _ => StoreError::Db { path, message },
        }
    }

    /// Whether no write to the database can succeed until someone acts (a full device, a
    /// read-only file, failing I/O, a corrupt database): a run stops reading what it could not
    /// keep.
    pub fn blocks_writes(&self) -> bool {
        matches!(
            self,
            StoreError::ReadOnly { .. }
                | StoreError::Full { .. }
                | StoreError::Io { .. }
                | StoreError::NotADatabase { .. }
        )
    }

    /// A stored value that cannot be turned back into its Rust type.
    pub(crate) fn bad_value(path: &str, what: impl std::fmt::Display) -> StoreError {
        StoreError::Db {
            path: path.to_owned(),
            message: format!("unreadable stored value: {what}"),
        }
    }
}
