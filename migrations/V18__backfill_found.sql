-- The entries an unfinished backfill stored that no head document has shown yet: while it is
-- unfinished they wait past the head, unarchived, so that the history it found is archived
-- oldest first once it is complete. A row goes when its entry is shown in a head, and every row
-- of a source when its backfill completes.
CREATE TABLE backfill_found (
    entry_id TEXT NOT NULL PRIMARY KEY REFERENCES entries (id) ON DELETE CASCADE,
    source   TEXT NOT NULL
) STRICT;
