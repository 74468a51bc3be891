-- The latest modified date a listing card showed for the post when it was last fetched again
-- for it (Unix seconds; NULL: never). A card date no later than this, or than `updated`, is not
-- an edit this store lacks, so a card date that moves while the post's content does not (a
-- save that changed nothing feedwright extracts) makes one re-fetch, not one per run.
ALTER TABLE entries ADD COLUMN listed_modified INTEGER;
