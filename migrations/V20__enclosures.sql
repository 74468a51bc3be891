-- The media files attached to an entry (a podcast episode's audio, a video), as a JSON list of
-- {url, media_type, length, title, duration_secs}: RSS <enclosure>, Atom link rel="enclosure",
-- JSON Feed attachments. Existing entries have none.
ALTER TABLE entries ADD COLUMN enclosures TEXT NOT NULL DEFAULT '[]';
-- The sources that stored feed items read their own URL in full once more (no 304), so the
-- items still in their feeds take their enclosures on the first run, not only once the feed
-- next changes.
DELETE FROM index_validators WHERE source IN (SELECT source FROM entries WHERE from_item = 1);
