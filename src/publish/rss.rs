//! rss rendering. Pure: entries in, document out.

use super::FeedInfo;
use crate::model::Entry;

/// Render the document for `entries` (already ordered newest first and limited).
pub fn render(_info: &FeedInfo, _entries: &[Entry]) -> String {
    todo!()
}
