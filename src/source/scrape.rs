//! The category listing walk: listing page 1, then `next` links up to `max_pages`.
//!
//! Owns: pagination policy (stop at `max_pages`, at a 404 past the last page, at a `next` link
//! back to a visited page, and, unless the walk is a full one, at a page that has not changed
//! (304) or whose posts are all already stored, even when some of them show an edit) and
//! de-duplication of post links across pages (at most `MAX_LISTING_POSTS` from one page, the
//! rest reported), and leaving out links to other sites ([`on_site`]).
//! Each new post link is also sent, as soon as its page is read, to an optional channel, so that
//! the pipeline can fetch posts while the walk goes on; before it is sent, a stored post whose
//! card shows it modified later than its stored copy is noted in the [`RunState`]. A listing
//! page is extracted on the blocking pool; one refused unparsed (too costly, see
//! `crate::html_limits`) is a failure of that page and ends the walk there. An interrupted
//! fetcher ends the walk too, at the page it did not read, without a failure. Must not: fetch post
//! pages or extract post fields.

use std::collections::HashSet;

use tokio::sync::mpsc::UnboundedSender;
use url::Url;

use super::RunState;
use super::http::{FetchError, Fetcher};
use super::site::Site;
use crate::config::SourceConfig;
use crate::model::{Listing, RawPage};

/// Post links found by a walk, and listing pages that failed.
#[derive(Debug, Default)]
pub struct Walk {
    pub posts: Vec<Url>,
    pub failures: Vec<(String, String)>,
    /// Listing pages holding more post links than are taken from one page, with the reason
    /// (`Listing::left_out_reason`): reported as skipped.
    pub skipped: Vec<(String, String)>,
    /// Listing pages that answered 200 without a single post link.
    pub empty_pages: Vec<String>,
    pub pages: usize,
    /// The page to continue from, when the walk stopped before the end of the listing.
    pub next: Option<Url>,
}

/// Key used to recognise one URL under cosmetic variations (fragment, scheme, `www.`, tracking).
pub fn url_key(u: &Url) -> String {
    crate::normalize::twin_key(u.as_str())
}

/// A listing's post links and `next` page on the source's `site` only: a link to another site
/// is never a post of this source (nor a page of its listing), so it is never fetched. Left out
/// quietly (a debug log): many listings link elsewhere.
pub fn on_site(mut listing: Listing, site: &Site) -> Listing {
    listing.posts.retain(|u| {
        let own = site.contains(u);
        if !own {
            tracing::debug!(url = %u, "listing link to another site: not a post");
        }
        own
    });
    listing.modified.retain(|(u, _)| site.contains(u));
    if let Some(next) = listing.next.take_if(|n| !site.contains(n)) {
        tracing::debug!(url = %next, "next listing page on another site: the listing ends");
    }
    listing
}

/// How far a walk goes.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_pages: usize,
    /// Stop at the first page whose posts are all known, or unchanged since the last run (a
    /// 304): regular runs, not full walks.
    pub stop_at_known: bool,
    /// Read on past `max_pages`, up to as many pages again, while no page read has shown one
    /// of the source's newest stored posts (`RunState::is_anchor`) and the last one read holds
    /// no stored post at all: more posts came out since the last run than `max_pages` pages
    /// show, and those past them would otherwise never be read (the next run's first pages
    /// hold only stored posts). Not for a source's first read, whose whole archive is new
    /// (that is `backfill`'s).
    pub catch_up: bool,
}

/// Walk the listing starting from the already fetched first page.
pub async fn walk(fetcher: &Fetcher, state: &RunState, first: RawPage, src: &SourceConfig) -> Walk {
    let limits = Limits {
        max_pages: src.max_pages as usize,
        stop_at_known: true,
        catch_up: false,
    };
    walk_from(fetcher, state, first, src, limits, None).await
}

/// Walk from `first` within `limits`; every post link kept in [`Walk::posts`] is also sent to
/// `sink` (when given) as soon as its listing page is read.
pub async fn walk_from(
    fetcher: &Fetcher,
    state: &RunState,
    first: RawPage,
    src: &SourceConfig,
    limits: Limits,
    sink: Option<&UnboundedSender<Url>>,
) -> Walk {
    let mut out = Walk::default();
    let mut seen_posts = HashSet::new();
    let mut visited = HashSet::new();
    visited.insert(url_key(&first.requested_url));
    visited.insert(url_key(&first.url));
    let mut page = first;
    let site = super::own_site(src);
    // Has a page shown one of the source's newest stored posts (see `Limits::catch_up`)?
    let mut anchored = false;
    loop {
        out.pages += 1;
        let listing = match read_listing(page, src).await {
            Ok((read, listing)) => {
                page = read;
                listing
            }
            Err((url, e)) => {
                out.failures.push((url, e));
                break;
            }
        };
        state.note_listing_description(&listing, out.pages == 1);
        // A mistyped `item_link` is said even when the built-in rules find the posts without
        // it (once per walk: the first page tells).
        if out.pages == 1
            && src.selectors.item_link.is_some()
            && !listing.posts.is_empty()
            && listing.found_by != crate::model::LinkRule::ItemLink
        {
            tracing::warn!(
                source = %src.name,
                url = %page.requested_url,
                "[source.selectors] item_link matches no post link on the listing page: its \
                 post links were found by the built-in rules ({}) instead; check the selector \
                 against the page, or remove it",
                listing.found_by
            );
        }
        let listing = on_site(listing, &site);
        if listing.posts.is_empty() {
            out.empty_pages.push(page.requested_url.to_string());
            if let Some(feed) = &listing.feed {
                state.note_advertised_feed(&page.requested_url, feed);
            }
        }
        if let Some(why) = listing.left_out_reason() {
            out.skipped.push((page.requested_url.to_string(), why));
        }
        let all_known =
            !listing.posts.is_empty() && listing.posts.iter().all(|p| state.is_known(p));
        let none_known =
            !listing.posts.is_empty() && !listing.posts.iter().any(|p| state.is_known(p));
        // A stored post listed above one not stored is pinned (a sticky post), not where the
        // last read began: only those after the last post not stored count.
        let after_new = listing
            .posts
            .iter()
            .rposition(|p| !state.is_known(p))
            .map_or(0, |i| i + 1);
        anchored |= listing.posts[after_new..]
            .iter()
            .any(|p| state.is_anchor(p));
        for (p, raw) in &listing.modified {
            if let Some(at) = crate::normalize::parse_date(raw)
                && state.note_listed_modified(p, at)
            {
                tracing::debug!(url = %p, modified = %at, "listing shows a stored post modified after its stored copy");
            }
        }
        for p in listing.posts {
            if seen_posts.insert(url_key(&p)) {
                if let Some(sink) = sink {
                    // The receiver may be gone (the run stopped listening); the walk goes on.
                    let _ = sink.send(p.clone());
                }
                out.posts.push(p);
            }
        }
        let Some(next) = listing.next else {
            tracing::debug!(
                source = %src.name,
                url = %page.requested_url,
                "listing page shows no link to a next page; listing ends"
            );
            break;
        };
        if !visited.insert(url_key(&next)) {
            tracing::debug!(url = %next, "next link points back to a visited page; listing ends");
            break;
        }
        if limits.stop_at_known && all_known {
            out.next = Some(next);
            break;
        }
        if out.pages >= limits.max_pages {
            if !(limits.catch_up && none_known && !anchored) {
                out.next = Some(next);
                break;
            }
            if out.pages >= limits.max_pages * 2 {
                tracing::warn!(
                    source = %src.name,
                    "listing page {} still shows only posts not stored, and not the newest one \
                     stored: more may lie past it, which later runs will not read; `feedwright \
                     backfill {}` reads them (it fetches only what is not stored)",
                    out.pages,
                    src.name
                );
                out.next = Some(next);
                break;
            }
            if out.pages == limits.max_pages {
                tracing::info!(
                    source = %src.name,
                    "listing page {} (max_pages) holds only new posts: reading on until a page \
                     shows a post already stored",
                    out.pages
                );
            }
        }
        let catching_up = out.pages >= limits.max_pages;
        // A walk that must not stop at known posts (a full walk) must not stop at an unchanged
        // page either: it needs every page's links.
        let fetched = if limits.stop_at_known {
            super::fetch_if_changed(fetcher, state, &next).await
        } else {
            super::fetch_page_remembering(fetcher, state, &next)
                .await
                .map(Some)
        };
        match fetched {
            Ok(Some(p)) => {
                visited.insert(url_key(&p.url));
                page = p;
            }
            Ok(None) => {
                tracing::debug!(url = %next, "listing page unchanged (304); listing ends");
                break;
            }
            Err(FetchError::Status(404)) => {
                tracing::debug!(url = %next, "404 past the last listing page; listing ends");
                break;
            }
            // Not a failure of the page: the run stops (the pipeline keeps the walk marked
            // incomplete, so the next one reads the listing in full).
            Err(FetchError::Interrupted) => {
                out.next = Some(next);
                break;
            }
            Err(e) => {
                if catching_up && matches!(e, FetchError::Budget(_)) {
                    tracing::warn!(
                        source = %src.name,
                        "more posts came out since the last run than this run's request budget \
                         (max_requests) can read: the listing was read to page {}, and the new \
                         posts past it will not be found by later runs; `feedwright backfill {}` \
                         fetches them (it fetches only what is not stored)",
                        out.pages,
                        src.name
                    );
                }
                out.failures.push((next.to_string(), e.to_string()));
                out.next = Some(next);
                break;
            }
        }
    }
    out
}

/// Extract a listing page on the blocking pool (`crate::cpu::blocking`), as posts are: a page
/// that takes long to parse never holds an async worker. Hands the page back with its listing;
/// a page refused unparsed (`crate::html_limits`) is a failure of that page, under its URL.
/// Logs (debug) what the page gave: how many post links, by which rule, and the next page.
pub(crate) async fn read_listing(
    page: RawPage,
    src: &SourceConfig,
) -> Result<(RawPage, crate::model::Listing), (String, String)> {
    let url = page.requested_url.to_string();
    let selectors = src.selectors.clone();
    let read = crate::cpu::blocking(move || {
        let listing =
            crate::extract::extract_listing(&page, &selectors).map_err(|e| e.to_string())?;
        Ok((page, listing))
    })
    .await
    .map_err(|e| (url, e))?;
    let listing = &read.1;
    tracing::debug!(
        source = %src.name,
        url = %read.0.requested_url,
        posts = listing.posts.len(),
        found_by = %listing.found_by,
        next = %listing.next.as_ref().map_or("none", Url::as_str),
        "listing page read"
    );
    Ok(read)
}
