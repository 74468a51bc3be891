-- Twin keys write every percent-escape one way: an escaped unreserved character decoded (`%7E`
-- is `~`), any other escape in uppercase hex (`%c3%a9` is `%C3%A9`, as a raw `é` is written), so a
-- post linked as `caf%c3%a9`, `caf%C3%A9` or `café` is one post. The keys stored before, escapes
-- as written, are rewritten so by `twin_key_escapes`, the program's own rule (registered on the
-- connection before migrating): those of entries (`id_key`, `dedup_key`) and of the other URLs a
-- post was reached by (`aliases`). Only keys holding a `%` change.
--
-- Rows whose keys become one are a post an older version stored more than once. The one first
-- seen takes the key (should another hold it already, that one takes the first one's old key),
-- and later runs update it. The others keep only keys nothing gives any more (a key this rule
-- would write is marked retired with a leading `#`, which no key has), so they are never matched
-- again: they stay stored and published as they are, and leave the head feeds as newer posts
-- come. The other URLs they were reached by lead to the one first seen. No entry is deleted.

-- The rows of one key's group, by the key they will share (`new`), first seen first (`n`).
CREATE TEMP TABLE twin_rank (
    rid INTEGER PRIMARY KEY, -- the row's rowid
    old TEXT    NOT NULL UNIQUE,
    new TEXT    NOT NULL,
    n   INTEGER NOT NULL
);
-- The key each row whose key moves ends with.
CREATE TEMP TABLE twin_rekey (
    rid INTEGER PRIMARY KEY,
    new TEXT    NOT NULL
);
-- The entries not first seen in their group, and the one that was.
CREATE TEMP TABLE twin_losers (
    rid    INTEGER PRIMARY KEY,
    winner INTEGER NOT NULL
);

-- entries.dedup_key; the aliases naming a row of a group name the key the group shares.
INSERT INTO twin_rank (rid, old, new, n)
WITH changing AS (
    SELECT rowid AS rid, dedup_key AS old, twin_key_escapes(dedup_key) AS new
    FROM entries WHERE instr(dedup_key, '%') > 0
),
members AS (
    SELECT rid, old, new FROM changing
    UNION ALL
    SELECT rowid, dedup_key, dedup_key FROM entries
    WHERE instr(dedup_key, '%') = 0 AND dedup_key IN (SELECT new FROM changing)
)
SELECT m.rid, m.old, m.new, row_number() OVER (PARTITION BY m.new ORDER BY e.first_seen, m.rid)
FROM members m JOIN entries e ON e.rowid = m.rid;

INSERT INTO twin_rekey (rid, new)
SELECT rid, new FROM twin_rank WHERE n = 1 AND old <> new
UNION ALL
SELECT r.rid, w.old FROM twin_rank w JOIN twin_rank r ON r.new = w.new AND r.old = w.new
WHERE w.n = 1 AND w.old <> w.new;

INSERT OR IGNORE INTO twin_losers (rid, winner)
SELECT r.rid, w.rid FROM twin_rank r JOIN twin_rank w ON w.new = r.new AND w.n = 1
WHERE r.n > 1;

-- (No key contains `#`: `'#' || rowid` is free while keys move.)
UPDATE entries SET dedup_key = '#' || rowid WHERE rowid IN (SELECT rid FROM twin_rekey);
UPDATE entries SET dedup_key = (SELECT new FROM twin_rekey WHERE rid = entries.rowid)
WHERE rowid IN (SELECT rid FROM twin_rekey);
UPDATE aliases SET dedup_key = (SELECT new FROM twin_rank WHERE old = aliases.dedup_key)
WHERE dedup_key IN (SELECT old FROM twin_rank);
DELETE FROM twin_rank;
DELETE FROM twin_rekey;

-- entries.id_key, the same way.
INSERT INTO twin_rank (rid, old, new, n)
WITH changing AS (
    SELECT rowid AS rid, id_key AS old, twin_key_escapes(id_key) AS new
    FROM entries WHERE instr(id_key, '%') > 0
),
members AS (
    SELECT rid, old, new FROM changing
    UNION ALL
    SELECT rowid, id_key, id_key FROM entries
    WHERE instr(id_key, '%') = 0 AND id_key IN (SELECT new FROM changing)
)
SELECT m.rid, m.old, m.new, row_number() OVER (PARTITION BY m.new ORDER BY e.first_seen, m.rid)
FROM members m JOIN entries e ON e.rowid = m.rid;

INSERT INTO twin_rekey (rid, new)
SELECT rid, new FROM twin_rank WHERE n = 1 AND old <> new
UNION ALL
SELECT r.rid, w.old FROM twin_rank w JOIN twin_rank r ON r.new = w.new AND r.old = w.new
WHERE w.n = 1 AND w.old <> w.new;

INSERT OR IGNORE INTO twin_losers (rid, winner)
SELECT r.rid, w.rid FROM twin_rank r JOIN twin_rank w ON w.new = r.new AND w.n = 1
WHERE r.n > 1;

UPDATE entries SET id_key = '#' || rowid WHERE rowid IN (SELECT rid FROM twin_rekey);
UPDATE entries SET id_key = (SELECT new FROM twin_rekey WHERE rid = entries.rowid)
WHERE rowid IN (SELECT rid FROM twin_rekey);

-- The rows not first seen keep no key a link gives: one that still has one (its other key, or
-- both for a row that lost one group only) is retired, and the aliases naming it name the row
-- first seen.
UPDATE aliases SET dedup_key = (
    SELECT w.dedup_key FROM twin_losers l
    JOIN entries e ON e.rowid = l.rid
    JOIN entries w ON w.rowid = l.winner
    WHERE e.dedup_key = aliases.dedup_key
)
WHERE dedup_key IN (
    SELECT e.dedup_key FROM twin_losers l JOIN entries e ON e.rowid = l.rid
    WHERE twin_key_escapes(e.dedup_key) = e.dedup_key
);
UPDATE entries SET dedup_key = '#' || dedup_key
WHERE rowid IN (SELECT rid FROM twin_losers) AND twin_key_escapes(dedup_key) = dedup_key;
UPDATE entries SET id_key = '#' || id_key
WHERE rowid IN (SELECT rid FROM twin_losers) AND twin_key_escapes(id_key) = id_key;
DELETE FROM twin_rank;
DELETE FROM twin_rekey;

-- aliases.url_key. An alias whose key becomes its entry's own, or another alias's naming the
-- same entry, says nothing more; of two that become one, the alias of the entry first seen
-- takes the key, unless an entry holds it.
DELETE FROM aliases
WHERE instr(url_key, '%') > 0
  AND (twin_key_escapes(url_key) = dedup_key
       OR (twin_key_escapes(url_key) <> url_key
           AND EXISTS (SELECT 1 FROM aliases b
                       WHERE b.url_key = twin_key_escapes(aliases.url_key)
                         AND b.dedup_key = aliases.dedup_key)));

INSERT INTO twin_rank (rid, old, new, n)
WITH changing AS (
    SELECT rowid AS rid, url_key AS old, twin_key_escapes(url_key) AS new
    FROM aliases WHERE instr(url_key, '%') > 0
),
members AS (
    SELECT rid, old, new FROM changing
    UNION ALL
    SELECT rowid, url_key, url_key FROM aliases
    WHERE instr(url_key, '%') = 0 AND url_key IN (SELECT new FROM changing)
)
SELECT m.rid, m.old, m.new,
       row_number() OVER (PARTITION BY m.new ORDER BY e.first_seen IS NULL, e.first_seen, m.rid)
FROM members m
JOIN aliases a ON a.rowid = m.rid
LEFT JOIN entries e ON e.dedup_key = a.dedup_key;

INSERT INTO twin_rekey (rid, new)
SELECT rid, new FROM twin_rank
WHERE n = 1 AND old <> new AND new NOT IN (SELECT dedup_key FROM entries)
UNION ALL
SELECT r.rid, w.old FROM twin_rank w JOIN twin_rank r ON r.new = w.new AND r.old = w.new
WHERE w.n = 1 AND w.old <> w.new AND w.new NOT IN (SELECT dedup_key FROM entries);

UPDATE aliases SET url_key = '#' || rowid WHERE rowid IN (SELECT rid FROM twin_rekey);
UPDATE aliases SET url_key = (SELECT new FROM twin_rekey WHERE rid = aliases.rowid)
WHERE rowid IN (SELECT rid FROM twin_rekey);

DROP TABLE twin_rank;
DROP TABLE twin_rekey;
DROP TABLE twin_losers;
