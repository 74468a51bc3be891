//! Normalization: `RawPost -> Entry`.
//!
//! Owns: canonical URLs and twin handling, stable entry ids, date parsing to UTC with provenance,
//! HTML sanitizing (one `ammonia` policy for feeds and email) with absolute URLs, summaries,
//! XML-forbidden character removal, title limits. Must not: do I/O or read the clock (`fetched_at`
//! is a parameter).

use chrono::{DateTime, Utc};
use url::Url;

use crate::model::{Entry, RawPost};

/// Why a post could not be normalized.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NormalizeError {
    #[error("post has no usable URL: {0}")]
    BadUrl(String),
}

/// Normalize one extracted post fetched from `page_url` at `fetched_at` for source `source`.
/// Returns the entry and human-readable warnings (clamped future date, cut title, …).
pub fn normalize(
    _page_url: &Url,
    _raw: RawPost,
    _source: &str,
    _fetched_at: DateTime<Utc>,
) -> Result<(Entry, Vec<String>), NormalizeError> {
    todo!("normalize")
}

/// Placeholder until the normalize module lands.
pub fn decode_text(_bytes: &[u8], _content_type: Option<&str>) -> String {
    todo!()
}

/// Placeholder until the normalize module lands.
pub fn twin_key(_url: &str) -> String {
    todo!()
}
