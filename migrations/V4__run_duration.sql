-- How long each source run took, in milliseconds (0: not measured, e.g. runs recorded before
-- this column existed).
ALTER TABLE source_runs ADD COLUMN duration_ms INTEGER NOT NULL DEFAULT 0;
