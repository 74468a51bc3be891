-- Requests per source by how they ended: the final HTTP status code ("200", "304", "404"…) or
-- "timeout", "connect", "error" for a request that got no complete answer. Cumulative counters,
-- added to at the end of each source run.
CREATE TABLE fetch_status (
    source TEXT    NOT NULL,
    status TEXT    NOT NULL,
    count  INTEGER NOT NULL,
    PRIMARY KEY (source, status)
) STRICT;
