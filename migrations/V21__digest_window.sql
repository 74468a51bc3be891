-- The instants each week's digest covered, recorded by a real run that sent an issue, wrote one
-- or found nothing to send: one row per ISO week, whichever feed (a store holds one digest's
-- history). The next week's issue starts where this one ended when that is earlier than its own
-- week's start (`[digest] timezone` changed between them), so no post falls between two issues.
-- Weeks recorded before this table have no row: the next issue covers its own week.
CREATE TABLE digest_window (
    week      TEXT    NOT NULL PRIMARY KEY, -- "2024-W47"
    timezone  TEXT    NOT NULL,             -- the zone its week was counted in
    starts_at INTEGER NOT NULL,             -- the first instant covered (Unix seconds)
    ends_at   INTEGER NOT NULL              -- the first instant after it
) STRICT;
