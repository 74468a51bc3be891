-- RFC 5005 archives. An entry is archived once, when it falls out of its feed's head document,
-- and stays on that page. A page is frozen (its document kept here, byte for byte) when the
-- next page is started, so a complete archive document never changes.
CREATE TABLE archive_pages (
    feed     TEXT    NOT NULL,
    page     INTEGER NOT NULL CHECK (page >= 1),
    -- The complete page's Atom document; NULL while the page is the newest, still filling one.
    document TEXT,
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
