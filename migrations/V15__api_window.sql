-- Where the next read of a source through the WordPress REST API starts its pass over the posts
-- modified since (`modified_after`, Unix seconds). Set only by a read of the API that was stored,
-- never by a run that did not ask it (a listing answering 304, an API that was down), so an edit
-- made meanwhile is still inside the next window. NULL: no such read recorded yet, the next read
-- of the API is a cold one (newest posts first, up to `max_pages`).
ALTER TABLE source_state ADD COLUMN api_modified_after INTEGER;
