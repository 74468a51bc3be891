-- Which entry each file of a `dir` source (`item` = its path), or each item of a feed source
-- (`item` = "item " + the item's own id: its guid or atom:id), gave when it was last stored.
-- The folder is the editor's: a file keeps its entry when a copy with the same `url` appears,
-- keeps its entry's id when its `url` changes, and takes its entry out of the source's feeds
-- when it is deleted or marked a draft (the entry stays stored, unlinked, and comes back with
-- the file). A feed item whose link changes keeps its entry's id the same way.
CREATE TABLE source_items (
    source   TEXT NOT NULL,
    item     TEXT NOT NULL,
    entry_id TEXT NOT NULL,
    PRIMARY KEY (source, item)
) STRICT;
