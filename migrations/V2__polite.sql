-- Polite, incremental fetching: URL aliases of stored posts, day-old robots.txt copies,
-- per-run source health, and resumable backfills.

-- Other URLs (twin keys) under which a stored post was reached, so listings that link a post
-- under a different URL do not make it look new.
CREATE TABLE aliases (
    url_key   TEXT NOT NULL PRIMARY KEY,
    dedup_key TEXT NOT NULL
) STRICT;

-- robots.txt per origin; body NULL when the file did not exist (4xx = allow all).
CREATE TABLE robots (
    origin     TEXT    NOT NULL PRIMARY KEY,
    body       BLOB,
    fetched_at INTEGER NOT NULL
) STRICT;

-- One row per source per run.
CREATE TABLE source_runs (
    id              INTEGER PRIMARY KEY,
    source          TEXT    NOT NULL,
    at              INTEGER NOT NULL,
    requests        INTEGER NOT NULL,
    not_modified    INTEGER NOT NULL,
    bytes           INTEGER NOT NULL,
    seen            INTEGER NOT NULL,
    new             INTEGER NOT NULL,
    updated         INTEGER NOT NULL,
    failures        INTEGER NOT NULL,
    extracted       INTEGER NOT NULL,
    fill_title      REAL    NOT NULL,
    fill_date       REAL    NOT NULL,
    fill_author     REAL    NOT NULL,
    fill_categories REAL    NOT NULL,
    state           TEXT    NOT NULL
) STRICT;
CREATE INDEX source_runs_by_source ON source_runs (source, at);

ALTER TABLE source_state ADD COLUMN state TEXT NOT NULL DEFAULT 'healthy';
ALTER TABLE source_state ADD COLUMN reason TEXT;
ALTER TABLE source_state ADD COLUMN warned_at INTEGER;

-- Where an interrupted backfill continues.
CREATE TABLE backfill (
    source     TEXT    NOT NULL PRIMARY KEY,
    next_url   TEXT    NOT NULL,
    pages_done INTEGER NOT NULL,
    started_at INTEGER NOT NULL
) STRICT;

-- A post can belong to several sources (a post in two watched categories): feeds select
-- entries through this table, not through entries.source (which keeps the first source).
CREATE TABLE entry_sources (
    entry_id TEXT NOT NULL REFERENCES entries (id) ON DELETE CASCADE,
    source   TEXT NOT NULL,
    PRIMARY KEY (entry_id, source)
) STRICT;
INSERT INTO entry_sources (entry_id, source) SELECT id, source FROM entries;
CREATE INDEX entry_sources_by_source ON entry_sources (source, entry_id);
