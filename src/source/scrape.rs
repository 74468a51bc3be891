//! The category listing walk: listing page 1, then `next` links up to `max_pages`.
//!
//! Owns: pagination policy (stop at `max_pages`, at a 404 past the last page, at a `next` link
//! back to a visited page) and de-duplication of post links across pages. Must not: fetch post
//! pages or extract post fields.

use std::collections::HashSet;

use url::Url;

use super::http::{FetchError, Fetcher};
use crate::config::SourceConfig;
use crate::model::RawPage;

/// Post links found by a walk, and listing pages that failed.
#[derive(Debug, Default)]
pub struct Walk {
    pub posts: Vec<Url>,
    pub failures: Vec<(String, String)>,
    pub pages: usize,
}

/// Key used to recognise one URL under cosmetic variations (fragment, scheme, `www.`).
fn url_key(u: &Url) -> String {
    let mut u = u.clone();
    u.set_fragment(None);
    crate::normalize::twin_key(u.as_str())
}

/// Walk the listing starting from the already fetched first page.
pub async fn walk(fetcher: &Fetcher, first: RawPage, src: &SourceConfig) -> Walk {
    let mut out = Walk::default();
    let mut seen_posts = HashSet::new();
    let mut visited = HashSet::new();
    visited.insert(url_key(&first.requested_url));
    visited.insert(url_key(&first.url));
    let mut page = first;
    loop {
        out.pages += 1;
        let listing = crate::extract::extract_listing(&page, &src.selectors);
        for p in listing.posts {
            if seen_posts.insert(url_key(&p)) {
                out.posts.push(p);
            }
        }
        if out.pages >= src.max_pages as usize {
            break;
        }
        let Some(next) = listing.next else { break };
        if !visited.insert(url_key(&next)) {
            tracing::debug!(url = %next, "next link points back to a visited page; listing ends");
            break;
        }
        match super::fetch_page(fetcher, &next).await {
            Ok(p) => {
                visited.insert(url_key(&p.url));
                page = p;
            }
            Err(FetchError::Status(404)) => {
                tracing::debug!(url = %next, "404 past the last listing page; listing ends");
                break;
            }
            Err(e) => {
                out.failures.push((next.to_string(), e.to_string()));
                break;
            }
        }
    }
    out
}
