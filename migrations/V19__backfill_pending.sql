-- A post an unfinished backfill met but did not store (left for the next run by the request
-- budget, or failed) is kept pending like any other, marked as the backfill's: it is history
-- the backfill found, so when a run stores it before the backfill is complete it waits past the
-- heads, unarchived, like the posts the backfill stored itself (`backfill_found`). A run's own
-- failure later keeps the mark; the backfill's completion clears it.
ALTER TABLE pending ADD COLUMN from_backfill INTEGER NOT NULL DEFAULT 0;
