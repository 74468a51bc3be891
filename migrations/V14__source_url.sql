-- The URL a source's index (listing, feed, folder) was last read from. A source whose configured
-- url is no longer this one (moved to another category, say) reads its listing in full once, as
-- a new source does, instead of stopping at the first page of posts the store knows. NULL: not
-- recorded yet (the next read records it).
ALTER TABLE source_state ADD COLUMN url TEXT;
