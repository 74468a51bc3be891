//! Extraction: `RawPage -> RawPost` and `RawPage -> Listing`.
//!
//! Owns: reading fields out of untrusted HTML by a cascade (JSON-LD → OpenGraph/`article:*` meta →
//! WordPress theme markup → readability fallback), listing-page link discovery, related-post blocks.
//! Must not: do I/O, read the clock, sanitize or resolve final canonical identity (that is
//! `normalize`), or touch configuration other than the selector overrides it is handed.

use crate::config::Selectors;
use crate::model::{Listing, RawPage, RawPost};

/// Why a page yielded no post.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ExtractError {
    #[error("not an HTML page (content type {0})")]
    NotHtml(String),
    #[error("looks like a login or challenge page ({0}), not a post")]
    NotAPost(String),
    #[error("no post content found")]
    NoContent,
}

/// Extract one post page.
pub fn extract_post(_page: &RawPage, _sel: &Selectors) -> Result<RawPost, ExtractError> {
    todo!("extract_post")
}

/// Extract the post links and the next-page link of one listing page.
pub fn extract_listing(_page: &RawPage, _sel: &Selectors) -> Listing {
    todo!("extract_listing")
}
