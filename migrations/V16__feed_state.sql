-- How publishing each feed last went, so that a feed that cannot be written (a read-only or full
-- output_dir) shows in `status`, `/healthz` and `/metrics`, not only in a log line. Times are Unix
-- seconds. `last_published`: the last time every file of the feed was written (or found
-- unchanged); `last_error` / `failing_since`: set while publishing it fails, cleared by the next
-- success.
CREATE TABLE feed_state (
    feed           TEXT    NOT NULL PRIMARY KEY,
    last_published INTEGER,
    last_error     TEXT,
    failing_since  INTEGER
) STRICT;
