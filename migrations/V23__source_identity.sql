-- What a source is beyond its name. `kind`: the kind it was configured with when last read (NULL:
-- not recorded yet), beside `url` (V14), the URL or folder it was read from. A source renamed in
-- the configuration is recognised by the two: the store carries its history over to the new name.
ALTER TABLE source_state ADD COLUMN kind TEXT;

-- The files of a `dir` source are remembered by their path inside the source's folder, as
-- "file <path>", no longer by a path beginning with the folder as the configuration named it: a
-- folder moved (or named through another path) keeps its files' entries. Keys under the folder
-- the source was last read from are rewritten so.
UPDATE source_items
SET item = 'file ' || substr(item, length(rtrim(s.url, '/')) + 2)
FROM source_state s
WHERE s.source = source_items.source
  AND s.url IS NOT NULL
  AND s.url NOT LIKE 'http://%'
  AND s.url NOT LIKE 'https://%'
  AND substr(source_items.item, 1, 5) <> 'item '
  AND length(source_items.item) > length(rtrim(s.url, '/')) + 1
  AND substr(source_items.item, 1, length(rtrim(s.url, '/')) + 1) = rtrim(s.url, '/') || '/';
