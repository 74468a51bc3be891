-- The website a source's own URL names when it is a feed (RSS channel link, Atom alternate link,
-- JSON Feed home_page_url): the feeds it publishes link that page as their home, not the
-- upstream XML. Kept beside the validators of that URL because it is what the source last read
-- there: a 304 reads no feed, and the page it named then still holds. NULL: not read as a feed
-- (a listing), or not read in full since this column exists; '': a feed naming no usable site.
ALTER TABLE index_validators ADD COLUMN site_url TEXT;
