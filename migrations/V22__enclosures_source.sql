-- Which source gave an entry's enclosures (NULL: none, or not known). That source's feed has the
-- say on them; another source's list takes their place only while the entry has none, so a feed
-- without enclosures no longer wipes those another feed of the site gives.
ALTER TABLE entries ADD COLUMN enclosures_source TEXT;
-- An entry whose text is a feed item's was last written whole by the source whose item it is, and
-- that item gave its enclosures. Otherwise the giver is not known: the next source to give some
-- is recorded as their giver.
UPDATE entries SET enclosures_source = source WHERE from_item = 1 AND enclosures <> '[]';
