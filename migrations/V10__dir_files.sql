-- Which entry each file of a `dir` source gave when it was last stored. The folder is the
-- editor's: a file keeps its entry when a copy with the same `url` appears, keeps its entry's
-- id when its `url` changes, and takes its entry out of the source's feeds when it is deleted
-- or marked a draft (the entry stays stored, unlinked, and comes back with the file).
CREATE TABLE dir_files (
    source   TEXT NOT NULL,
    path     TEXT NOT NULL,
    entry_id TEXT NOT NULL,
    PRIMARY KEY (source, path)
) STRICT;
