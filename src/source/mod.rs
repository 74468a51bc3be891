//! Sources: every request to a site and every read of a local folder.
//!
//! Owns: HTTP fetching (`http`), the listing walk (`scrape`), feed ingest (`feed`), local folders
//! (`dir`). Must not: parse post fields beyond handing pages to `extract`, or touch the database.
