-- Whether an entry's text is a feed item's (1), often a teaser, rather than its page's (0). A
-- feed item never rewrites an entry whose text was read from its page (by a source still
-- configured), and a source that reads pages fetches a post stored only from a feed item, so its
-- page replaces the teaser. Existing entries count as read from their pages.
ALTER TABLE entries ADD COLUMN from_item INTEGER NOT NULL DEFAULT 0 CHECK (from_item IN (0, 1));
