-- The validators of each source's own URL (the first listing page, or the feed), per source:
-- two sources watching one URL, or a source renamed, must not take each other's 304 (the one
-- asking second would see "not modified" for a change it never read). Other URLs (post pages)
-- keep sharing `http_cache`: their entries are shared by all sources too.
CREATE TABLE index_validators (
    source        TEXT    NOT NULL,
    url           TEXT    NOT NULL,
    etag          TEXT,
    last_modified TEXT,
    checked_at    INTEGER NOT NULL,
    PRIMARY KEY (source, url)
) STRICT;
