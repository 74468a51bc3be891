-- Twin keys write every percent-escape one way: an escaped unreserved character decoded (`%7E`
-- is `~`), any other escape in uppercase hex (`%c3%a9` is `%C3%A9`, as a raw `é` is written), so a
-- post linked as `caf%c3%a9`, `caf%C3%A9` or `café` is one post. The keys stored before, escapes
-- as written, are rewritten so by `twin_key_escapes`, the program's own rule (registered on the
-- connection before migrating): those of entries (`id_key`, `dedup_key`) and of the other URLs a
-- post was reached by (`aliases`). Only keys holding a `%` change.
--
-- Two rows whose keys become one are the duplicate this ends. The one first seen takes the key
-- (should the other hold it already, it takes the first one's old key instead): the next run
-- matches that one. The other keeps a key no link gives any more; it stays stored and published,
-- and leaves the feeds as newer posts come. No row is deleted, but for an alias that only
-- repeats its entry's own key. (No key contains `#`: `'#' || rowid` is free while keys move.)

CREATE TEMP TABLE twin_rekey (
    rid INTEGER PRIMARY KEY, -- the rowid of the row whose key moves
    old TEXT    NOT NULL UNIQUE,
    new TEXT    NOT NULL
);

-- entries.dedup_key, and the aliases naming it.
INSERT INTO twin_rekey (rid, old, new)
WITH changing AS (
    SELECT rowid AS rid, dedup_key AS old, twin_key_escapes(dedup_key) AS new
    FROM entries WHERE instr(dedup_key, '%') > 0
),
members AS (
    SELECT rid, old, new FROM changing
    UNION ALL
    SELECT rowid, dedup_key, dedup_key FROM entries
    WHERE instr(dedup_key, '%') = 0 AND dedup_key IN (SELECT new FROM changing)
),
ranked AS (
    SELECT m.rid, m.old, m.new,
           row_number() OVER (PARTITION BY m.new ORDER BY e.first_seen, m.rid) AS n
    FROM members m JOIN entries e ON e.rowid = m.rid
),
won AS (SELECT rid, old, new FROM ranked WHERE n = 1 AND old <> new)
SELECT rid, old, new FROM won
UNION ALL
SELECT r.rid, r.old, w.old FROM won w JOIN ranked r ON r.new = w.new AND r.old = w.new;

UPDATE entries SET dedup_key = '#' || rowid WHERE rowid IN (SELECT rid FROM twin_rekey);
UPDATE entries SET dedup_key = (SELECT new FROM twin_rekey WHERE rid = entries.rowid)
WHERE rowid IN (SELECT rid FROM twin_rekey);
UPDATE aliases SET dedup_key = (SELECT new FROM twin_rekey WHERE old = aliases.dedup_key)
WHERE dedup_key IN (SELECT old FROM twin_rekey);
DELETE FROM twin_rekey;

-- entries.id_key.
INSERT INTO twin_rekey (rid, old, new)
WITH changing AS (
    SELECT rowid AS rid, id_key AS old, twin_key_escapes(id_key) AS new
    FROM entries WHERE instr(id_key, '%') > 0
),
members AS (
    SELECT rid, old, new FROM changing
    UNION ALL
    SELECT rowid, id_key, id_key FROM entries
    WHERE instr(id_key, '%') = 0 AND id_key IN (SELECT new FROM changing)
),
ranked AS (
    SELECT m.rid, m.old, m.new,
           row_number() OVER (PARTITION BY m.new ORDER BY e.first_seen, m.rid) AS n
    FROM members m JOIN entries e ON e.rowid = m.rid
),
won AS (SELECT rid, old, new FROM ranked WHERE n = 1 AND old <> new)
SELECT rid, old, new FROM won
UNION ALL
SELECT r.rid, r.old, w.old FROM won w JOIN ranked r ON r.new = w.new AND r.old = w.new;

UPDATE entries SET id_key = '#' || rowid WHERE rowid IN (SELECT rid FROM twin_rekey);
UPDATE entries SET id_key = (SELECT new FROM twin_rekey WHERE rid = entries.rowid)
WHERE rowid IN (SELECT rid FROM twin_rekey);
DELETE FROM twin_rekey;

-- aliases.url_key: an alias whose key becomes its entry's own says nothing more; of two that
-- become one, the alias of the entry first seen takes the key, unless an entry holds it.
DELETE FROM aliases WHERE instr(url_key, '%') > 0 AND twin_key_escapes(url_key) = dedup_key;

INSERT INTO twin_rekey (rid, old, new)
WITH changing AS (
    SELECT rowid AS rid, url_key AS old, twin_key_escapes(url_key) AS new
    FROM aliases WHERE instr(url_key, '%') > 0
),
members AS (
    SELECT rid, old, new FROM changing
    UNION ALL
    SELECT rowid, url_key, url_key FROM aliases
    WHERE instr(url_key, '%') = 0 AND url_key IN (SELECT new FROM changing)
),
ranked AS (
    SELECT m.rid, m.old, m.new,
           row_number() OVER (
               PARTITION BY m.new ORDER BY e.first_seen IS NULL, e.first_seen, m.rid
           ) AS n
    FROM members m
    JOIN aliases a ON a.rowid = m.rid
    LEFT JOIN entries e ON e.dedup_key = a.dedup_key
),
won AS (
    SELECT rid, old, new FROM ranked
    WHERE n = 1 AND old <> new AND new NOT IN (SELECT dedup_key FROM entries)
)
SELECT rid, old, new FROM won
UNION ALL
SELECT r.rid, r.old, w.old FROM won w JOIN ranked r ON r.new = w.new AND r.old = w.new;

UPDATE aliases SET url_key = '#' || rowid WHERE rowid IN (SELECT rid FROM twin_rekey);
UPDATE aliases SET url_key = (SELECT new FROM twin_rekey WHERE rid = aliases.rowid)
WHERE rowid IN (SELECT rid FROM twin_rekey);

DROP TABLE twin_rekey;
