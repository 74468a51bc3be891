//! Sources: every request to a site and every read of a local folder.
//!
//! Owns: HTTP fetching ([`http`]), the category listing walk ([`scrape`]), feed ingest
//! ([`feed`]), local folders ([`dir`]) and the `auto` decision between them. Must not: parse post
//! fields (that is `extract`, called by the pipeline), normalize, or touch the database.

pub mod dir;
pub mod feed;
pub mod http;
pub mod scrape;
pub mod wordpress;

use url::Url;

use crate::config::{SourceConfig, SourceKind};
use crate::model::{RawPage, RawPost};
pub use http::{FetchError, Fetched, Fetcher};

/// What reading a source's index (listing, feed or folder) produced.
#[derive(Debug)]
pub enum Discovery {
    /// Post pages still to be fetched and extracted.
    Pages(Vec<Url>),
    /// Posts already in hand (feed items, Markdown files), with the URL each belongs to.
    Posts(Vec<(Url, RawPost)>),
    /// A folder: posts in hand (Markdown) and saved pages still to be extracted.
    Mixed {
        posts: Vec<(Url, RawPost)>,
        documents: Vec<RawPage>,
    },
}

/// The outcome of reading a source's index.
#[derive(Debug)]
pub struct SourceIndex {
    pub discovery: Discovery,
    /// Pages of the index that failed without ending the walk: `(url or file, reason)`.
    pub failures: Vec<(String, String)>,
    /// Which way the source was read (`html`, `feed` or `dir`), for logs.
    pub kind: &'static str,
}

/// Why a source could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("site could not be reached ({url}): {error}")]
    Unreachable { url: String, error: FetchError },
    #[error("{url}: {error}")]
    Fetch { url: String, error: FetchError },
    #[error("{location}: {message}")]
    Invalid { location: String, message: String },
}

/// Fetch one page and decode it to UTF-8.
pub async fn fetch_page(fetcher: &Fetcher, url: &Url) -> Result<RawPage, FetchError> {
    let f = fetcher.get(url).await?;
    Ok(to_page(url, f))
}

/// Turn a response into a decoded page.
pub fn to_page(requested: &Url, f: Fetched) -> RawPage {
    let body = crate::normalize::decode_text(&f.body, f.content_type.as_deref());
    RawPage {
        requested_url: requested.clone(),
        url: f.url,
        content_type: f.content_type,
        body,
        fetched_at: f.fetched_at,
    }
}

/// Does this response look like a feed rather than an HTML page?
pub fn looks_like_feed(content_type: Option<&str>, body: &[u8]) -> bool {
    if let Some(ct) = content_type {
        let ct = ct.to_ascii_lowercase();
        if ct.contains("rss")
            || ct.contains("atom")
            || ct.contains("feed+json")
            || ct.contains("/xml")
        {
            return true;
        }
        if ct.contains("html") {
            return false;
        }
    }
    let head: Vec<u8> = body
        .iter()
        .skip_while(|b| b.is_ascii_whitespace() || **b == 0xEF || **b == 0xBB || **b == 0xBF)
        .take(512)
        .copied()
        .collect();
    let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
    head.starts_with("<?xml")
        && (head.contains("<rss") || head.contains("<feed") || head.contains("<rdf"))
        || head.starts_with("<rss")
        || head.starts_with("<feed")
        || head.starts_with('{') && head.contains("jsonfeed")
}

/// Read the index of `src`: walk the listing, read the feed or list the folder.
pub async fn read_index(fetcher: &Fetcher, src: &SourceConfig) -> Result<SourceIndex, SourceError> {
    match src.kind {
        SourceKind::Dir => dir::read(src),
        kind => {
            let start = Url::parse(&src.url).map_err(|e| SourceError::Invalid {
                location: src.url.clone(),
                message: e.to_string(),
            })?;
            let first = fetcher.get(&start).await.map_err(|error| {
                if error.is_unreachable() {
                    SourceError::Unreachable {
                        url: src.url.clone(),
                        error,
                    }
                } else {
                    SourceError::Fetch {
                        url: src.url.clone(),
                        error,
                    }
                }
            })?;
            let is_feed = match kind {
                SourceKind::Feed => true,
                SourceKind::Html | SourceKind::Wordpress => false,
                _ => looks_like_feed(first.content_type.as_deref(), &first.body),
            };
            if is_feed {
                let posts =
                    feed::parse(&start, &first).map_err(|message| SourceError::Invalid {
                        location: src.url.clone(),
                        message,
                    })?;
                Ok(SourceIndex {
                    discovery: Discovery::Posts(posts),
                    failures: Vec::new(),
                    kind: "feed",
                })
            } else {
                let first_page = to_page(&start, first);
                let walk = scrape::walk(fetcher, first_page, src).await;
                Ok(SourceIndex {
                    discovery: Discovery::Pages(walk.posts),
                    failures: walk.failures,
                    kind: "html",
                })
            }
        }
    }
}
