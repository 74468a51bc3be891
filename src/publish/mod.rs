//! Publishing: pure rendering of feed documents and the one atomic writer of `output_dir`.
//!
//! Owns: Atom 1.0, RSS 2.0 and JSON Feed 1.1 rendering (`atom`, `rss`, `jsonfeed`) and
//! [`write_atomic`]. Must not: read the database, the network or the clock.

pub mod atom;
pub mod jsonfeed;
pub mod rss;

use std::path::Path;

use url::Url;

/// Feed-level metadata, resolved from the config by the caller.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedInfo {
    /// `[[feed]] name`.
    pub name: String,
    pub title: String,
    pub description: String,
    /// The site the entries come from (first source URL).
    pub home_page_url: String,
    /// `public_url` joined with `<name>/`: self links are `<this>atom.xml` etc.
    pub public_base: Url,
}

/// Write `bytes` to `path` atomically (temp file in the same directory, fsync, rename).
/// Returns `false` without touching the file when it already holds exactly `bytes`.
pub fn write_atomic(_path: &Path, _bytes: &[u8]) -> std::io::Result<bool> {
    todo!()
}

/// Placeholder.
pub fn publish_feed(
    _out: &Path,
    _info: &FeedInfo,
    _entries: &[crate::model::Entry],
) -> std::io::Result<Vec<(std::path::PathBuf, bool)>> {
    todo!()
}
