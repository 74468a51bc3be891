-- RFC 5005 archives. An entry is archived once, when it falls out of its feed's head document,
-- and stays on that page. A page is completed when the next page is started: its entries are
-- kept here as they were then, so a complete archive document never changes its entries.
CREATE TABLE archive_pages (
    feed           TEXT    NOT NULL,
    page           INTEGER NOT NULL CHECK (page >= 1),
    -- The complete page's entries (JSON array of entries); NULL while the page is the newest,
    -- still filling one.
    frozen_entries TEXT    CHECK (frozen_entries IS NULL OR json_valid(frozen_entries)),
    -- What the complete page's file was last written from (feed metadata and program version)
    -- and its length: an unchanged page is not rendered again.
    written_from   TEXT,
    written_len    INTEGER,
    PRIMARY KEY (feed, page)
) STRICT;

CREATE TABLE archive_entries (
    feed     TEXT    NOT NULL,
    entry_id TEXT    NOT NULL,
    page     INTEGER NOT NULL,
    PRIMARY KEY (feed, entry_id),
    FOREIGN KEY (feed, page) REFERENCES archive_pages (feed, page)
) STRICT;

CREATE INDEX archive_entries_by_page ON archive_entries (feed, page);

-- WebSub publish pings the hub has not accepted yet (topic = the feed file's public URL);
-- retried after the next publish.
CREATE TABLE websub_pending (
    topic TEXT    NOT NULL PRIMARY KEY,
    since INTEGER NOT NULL
) STRICT;
