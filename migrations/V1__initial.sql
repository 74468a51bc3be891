-- Initial schema. Times are integer Unix seconds (UTC); list columns are JSON arrays.

-- One row per post. `id` is the public id and never changes after insert; `id_key` and
-- `dedup_key` are the twin-insensitive keys an incoming post is matched by.
CREATE TABLE entries (
    id               TEXT    NOT NULL PRIMARY KEY,
    id_key           TEXT    NOT NULL UNIQUE,
    dedup_key        TEXT    NOT NULL UNIQUE,
    source           TEXT    NOT NULL,
    url              TEXT    NOT NULL,
    title            TEXT    NOT NULL,
    published        INTEGER NOT NULL,
    published_source TEXT    NOT NULL,
    updated          INTEGER NOT NULL,
    updated_source   TEXT    NOT NULL,
    authors          TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(authors)),
    categories       TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(categories)),
    related          TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(related)),
    content_html     TEXT    NOT NULL,
    summary          TEXT    NOT NULL,
    content_hash     TEXT    NOT NULL,
    first_seen       INTEGER NOT NULL,
    last_seen        INTEGER NOT NULL
) STRICT;

-- Feed order: newest published first, then updated, then id.
CREATE INDEX entries_by_source_order ON entries (source, published DESC, updated DESC, id);

-- Posts whose fetch or extraction failed; retried on later runs.
CREATE TABLE pending (
    source       TEXT    NOT NULL,
    url          TEXT    NOT NULL,
    reason       TEXT    NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 1,
    first_failed INTEGER NOT NULL,
    last_failed  INTEGER NOT NULL,
    PRIMARY KEY (source, url)
) STRICT;

-- Validators for conditional GETs.
CREATE TABLE http_cache (
    url           TEXT    NOT NULL PRIMARY KEY,
    etag          TEXT,
    last_modified TEXT,
    checked_at    INTEGER NOT NULL
) STRICT;

-- Per-source health.
CREATE TABLE source_state (
    source       TEXT    NOT NULL PRIMARY KEY,
    last_success INTEGER,
    last_error   TEXT,
    last_run     INTEGER NOT NULL
) STRICT;
