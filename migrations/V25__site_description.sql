-- The description a source's listing page (its `url`) gives, written as a post's summary is
-- (`og:description`, else `<meta name="description">`): a site that puts its own description on
-- every page gives it to its post pages too, and a post page repeating it is summarized by the
-- start of its text instead. Kept so that a run that does not read the listing (it answered
-- 304) treats a post it reads again the same way as the run that read the listing did.
ALTER TABLE source_state ADD COLUMN site_description TEXT;
