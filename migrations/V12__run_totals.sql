-- Runs folded out of `source_runs`, which would otherwise grow by a row per source per run for
-- as long as feedwright runs: a source keeps its newest runs there (and its newest healthy run
-- that extracted posts), older ones are added up here. `/metrics` reports these totals plus the
-- rows still in `source_runs`, so its counters never go down.
CREATE TABLE source_run_totals (
    source       TEXT    PRIMARY KEY,
    runs         INTEGER NOT NULL,
    requests     INTEGER NOT NULL,
    not_modified INTEGER NOT NULL,
    bytes        INTEGER NOT NULL,
    new          INTEGER NOT NULL,
    updated      INTEGER NOT NULL,
    failures     INTEGER NOT NULL,
    -- Sum of the measured durations (`duration_ms > 0`) of the folded runs.
    duration_ms  INTEGER NOT NULL
) STRICT;

-- How many folded runs of a source took at most `upto_ms`, their duration rounded up to a
-- multiple of 100 ms: a histogram bucket bound that is such a multiple counts them exactly.
CREATE TABLE source_run_durations (
    source  TEXT    NOT NULL,
    upto_ms INTEGER NOT NULL,
    runs    INTEGER NOT NULL,
    PRIMARY KEY (source, upto_ms)
) STRICT;
