//! Sources: every request to a site and every read of a local folder.
//!
//! Owns: HTTP fetching ([`http`]), the category listing walk ([`scrape`]), feed ingest
//! ([`feed`]), local folders ([`dir`]), the `auto` decision between them, and what a source's
//! own site is ([`site`]): nothing outside it is read for the source. Must not: parse post
//! fields (that is `extract`, called by the pipeline; [`dir`] calls it only on a saved page whose
//! front matter overrides some of them), normalize, or touch the database.

pub mod dir;
pub mod feed;
pub mod http;
pub mod scrape;
pub mod site;
pub mod wordpress;

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use url::Url;

use crate::config::{SourceConfig, SourceKind};
use crate::model::{RawPage, RawPost};
pub use http::{
    Conditional, FetchError, FetchStats, Fetched, Fetcher, INTERRUPT_GRACE, Interrupter,
    RobotsCopy, Validators,
};

/// What a run knows before it fetches: saved validators, the posts already stored and, for each,
/// the date a listing must show to announce an edit (its `updated`, or the listing date it was
/// last fetched again for, whichever is later). Plain data handed in by the pipeline (this module never reads the store);
/// new validators go back out through [`RunState::take_updates`], and the stored posts a
/// listing showed modified later than that through [`RunState::listed_as_modified`].
#[derive(Debug, Default)]
pub struct RunState {
    validators: Mutex<HashMap<String, Validators>>,
    updates: Mutex<Vec<(String, Validators)>>,
    known: HashSet<String>,
    /// Stored posts whose text is a feed item's: see [`RunState::with_items`].
    items: HashSet<String>,
    updated: HashMap<String, DateTime<Utc>>,
    modified: Mutex<HashMap<String, DateTime<Utc>>>,
    listed_known: Mutex<HashSet<String>>,
    /// A post that failed could not be recorded as pending: see [`RunState::note_unrecorded`].
    unrecorded: std::sync::atomic::AtomicBool,
    /// Twin keys of the source's newest stored posts: see [`RunState::with_anchors`].
    anchors: HashSet<String>,
    /// Descriptions of the listing pages read: see [`RunState::note_listing_description`].
    listing_descriptions: Mutex<HashSet<String>>,
    /// The description of the source's first listing page, when this run read it (`Some(None)`:
    /// it gave none).
    first_listing_description: Mutex<Option<Option<String>>>,
    /// The feed each listing page without post links advertises, by page URL.
    advertised_feeds: Mutex<HashMap<String, String>>,
}

impl RunState {
    /// `validators` by URL; `known`: twin keys of stored posts (see `normalize::twin_key`).
    pub fn new(validators: HashMap<String, Validators>, known: HashSet<String>) -> RunState {
        RunState {
            validators: Mutex::new(validators),
            updates: Mutex::default(),
            known,
            items: HashSet::new(),
            updated: HashMap::new(),
            modified: Mutex::default(),
            listed_known: Mutex::default(),
            unrecorded: std::sync::atomic::AtomicBool::new(false),
            anchors: HashSet::new(),
            listing_descriptions: Mutex::default(),
            first_listing_description: Mutex::default(),
            advertised_feeds: Mutex::default(),
        }
    }

    /// The description the source's listing page gave when last read (kept by the store), so
    /// that a post read again in a run that does not read the listing (it answered 304) is
    /// treated as in the run that did.
    pub fn with_site_description(self, description: Option<String>) -> RunState {
        if let Some(d) = description {
            self.listing_descriptions
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(d);
        }
        self
    }

    /// A post of this run failed and could not be recorded as pending either (the store was
    /// locked or full): only the listing still leads to it, so the run's validators must not be
    /// saved, or the next run's 304 would hide the post until the listing changes.
    pub fn note_unrecorded(&self) {
        self.unrecorded
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// Did [`RunState::note_unrecorded`] happen?
    pub fn has_unrecorded(&self) -> bool {
        self.unrecorded.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// `updated`: by twin key, for each stored post the later of its `updated` date and the
    /// listing date it was last fetched again for (see `Store::updated_dates`). Without it no
    /// listing date makes a stored post look modified.
    pub fn with_updated(mut self, updated: HashMap<String, DateTime<Utc>>) -> RunState {
        self.updated = updated;
        self
    }

    /// `items`: twin keys of the stored posts whose text is a feed item's (often a teaser),
    /// stored by a feed source or while a site's pages could not be read. They are stored, but
    /// [`RunState::is_known`] and [`RunState::is_listed_known`] say they are not, so a source
    /// that reads pages fetches them and the whole post replaces the teaser.
    pub fn with_items(mut self, items: HashSet<String>) -> RunState {
        self.items = items;
        self
    }

    /// The twin keys of the source's newest stored posts, where the last read of its listing
    /// began. A walk that has not met one of them by `max_pages`, on a page of posts none of
    /// which is stored, has a gap to read on through (see `scrape::Limits::catch_up`).
    pub fn with_anchors(mut self, anchors: HashSet<String>) -> RunState {
        self.anchors = anchors;
        self
    }

    /// Is the post at `url` one of [`RunState::with_anchors`]'s?
    pub fn is_anchor(&self, url: &Url) -> bool {
        self.anchors
            .contains(&crate::normalize::twin_key(url.as_str()))
    }

    /// A listing shows the post at `url` modified at `at`: when that is later than the post's
    /// date in [`RunState::with_updated`], remember it for [`RunState::listed_as_modified`] and say so.
    pub fn note_listed_modified(&self, url: &Url, at: DateTime<Utc>) -> bool {
        let key = crate::normalize::twin_key(url.as_str());
        let newer = self.updated.get(&key).is_some_and(|stored| at > *stored);
        if newer {
            self.modified
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(key, at);
        }
        newer
    }

    /// Did a listing of this run show the stored post at `url` modified later than its stored
    /// copy (see [`RunState::note_listed_modified`])?
    pub fn listed_as_modified(&self, url: &Url) -> bool {
        self.listed_modified_at(url.as_str()).is_some()
    }

    /// The date a listing of this run showed the stored post at `url` modified, when it is later
    /// than its stored copy's (see [`RunState::note_listed_modified`]).
    pub fn listed_modified_at(&self, url: &str) -> Option<DateTime<Utc>> {
        self.modified
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&crate::normalize::twin_key(url))
            .copied()
    }

    /// Validators saved for `url`.
    pub fn validators(&self, url: &Url) -> Option<Validators> {
        self.validators
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(url.as_str())
            .cloned()
    }

    /// Remember the validators of a fresh response.
    pub fn remember(&self, url: &Url, f: &Fetched) {
        let v = f.validators();
        if v.is_empty() {
            return;
        }
        self.validators
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(url.to_string(), v.clone());
        self.updates
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((url.to_string(), v));
    }

    /// Drop what was learnt about `url` in this run (its page must be read again next time).
    pub fn forget(&self, url: &Url) {
        self.updates
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|(u, _)| u != url.as_str());
    }

    /// Use `own` (or nothing) as the validators of `url` for this run, whatever was loaded for
    /// it: a source's own URL is conditional on what that source itself last read.
    pub fn scope_validators(&self, url: &str, own: Option<Validators>) {
        let mut v = self.validators.lock().unwrap_or_else(|p| p.into_inner());
        match own {
            Some(own) => v.insert(url.to_owned(), own),
            None => v.remove(url),
        };
    }

    /// Validators learnt in this run, to be saved.
    pub fn take_updates(&self) -> Vec<(String, Validators)> {
        std::mem::take(&mut *self.updates.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Is a post with this twin key (or dedup key) already stored?
    pub fn is_known_key(&self, key: &str) -> bool {
        self.known.contains(key)
    }

    /// Is the post at `url` already stored (under this or a twin URL), and not only as a feed
    /// item's text ([`RunState::with_items`])?
    pub fn is_known(&self, url: &Url) -> bool {
        let key = crate::normalize::twin_key(url.as_str());
        self.known.contains(&key) && !self.items.contains(&key)
    }

    /// [`RunState::is_known`] for a post the source lists: a stored one is remembered (see
    /// [`RunState::take_listed_known`]), so the source is linked to it without fetching it,
    /// even when another source (or this one under an earlier name) stored it.
    pub fn is_listed_known(&self, url: &Url) -> bool {
        let key = crate::normalize::twin_key(url.as_str());
        let known = self.known.contains(&key) && !self.items.contains(&key);
        if known {
            self.listed_known
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(key);
        }
        known
    }

    /// Did the source list the stored post with this twin key this run (so far)?
    pub fn was_listed(&self, key: &str) -> bool {
        self.listed_known
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(key)
    }

    /// Twin keys of the stored posts the source listed this run (sorted).
    pub fn take_listed_known(&self) -> Vec<String> {
        let set = std::mem::take(&mut *self.listed_known.lock().unwrap_or_else(|p| p.into_inner()));
        let mut keys: Vec<String> = set.into_iter().collect();
        keys.sort();
        keys
    }

    /// Remember the description of a listing page read (`Listing::description`). A site that
    /// gives every page its own description (`<meta name="description" content="A blog about
    /// …">`) gives it to its post pages too: a post page repeating one is left without a
    /// summary of its own, and the start of its text summarizes it instead.
    pub fn note_listing_description(&self, listing: &crate::model::Listing, first_page: bool) {
        if first_page {
            *self
                .first_listing_description
                .lock()
                .unwrap_or_else(|p| p.into_inner()) = Some(listing.description.clone());
        }
        if let Some(d) = &listing.description {
            self.listing_descriptions
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(d.clone());
        }
    }

    /// The description of the source's first listing page, when this run read it (`Some(None)`
    /// when it gave none): what the store keeps for the next runs.
    pub fn first_listing_description(&self) -> Option<Option<String>> {
        self.first_listing_description
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Remember that listing page `page`, which gave no post links, advertises `feed`.
    pub fn note_advertised_feed(&self, page: &Url, feed: &Url) {
        self.advertised_feeds
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(page.to_string(), feed.to_string());
    }

    /// The feed listing page `page` (one without post links) advertises, if it does.
    pub fn advertised_feed(&self, page: &str) -> Option<String> {
        self.advertised_feeds
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(page)
            .cloned()
    }

    /// The descriptions of the listing pages read so far.
    pub fn listing_descriptions(&self) -> HashSet<String> {
        self.listing_descriptions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// Conditional GET of a page: `None` when the server says it has not changed.
pub async fn fetch_if_changed(
    fetcher: &Fetcher,
    state: &RunState,
    url: &Url,
) -> Result<Option<RawPage>, FetchError> {
    match fetcher
        .get_conditional(url, state.validators(url).as_ref())
        .await?
    {
        Conditional::NotModified => Ok(None),
        Conditional::Modified(f) => {
            state.remember(url, &f);
            Ok(Some(to_page(url, *f)))
        }
    }
}

/// What reading a source's index (listing, feed or folder) produced.
#[derive(Debug)]
pub enum Discovery {
    /// Post pages still to be fetched and extracted.
    Pages(Vec<Url>),
    /// An HTML listing whose first page is read; the rest of the walk is left to
    /// [`walk_listing`], so that the caller can fetch posts while it goes on.
    Listing(Box<Listing>),
    /// Posts already in hand (feed items, REST API posts), with the URL each belongs to.
    Posts(Vec<(Url, RawPost)>),
    /// A folder: posts in hand (Markdown), each with the file it was read from and the URL it
    /// belongs to, and saved pages still to be extracted, each with its file.
    Mixed {
        posts: Vec<(String, Url, RawPost)>,
        documents: Vec<(String, RawPage)>,
    },
}

/// An HTML listing walk ready to go on from its first page (see [`walk_listing`]).
#[derive(Debug)]
pub struct Listing {
    /// The listing URL of the source (page 1 as configured).
    pub start: Url,
    pub first: RawPage,
    pub limits: scrape::Limits,
}

/// Walk the rest of a listing, sending each new post link to `sink` as soon as its page is
/// read (the channel closes when the walk ends). Returns the walk with every post link, too.
pub async fn walk_listing(
    fetcher: &Fetcher,
    state: &RunState,
    src: &SourceConfig,
    listing: Listing,
    sink: tokio::sync::mpsc::UnboundedSender<Url>,
) -> scrape::Walk {
    let Listing {
        start,
        first,
        limits,
    } = listing;
    let walk = scrape::walk_from(fetcher, state, first, src, limits, Some(&sink)).await;
    drop(sink);
    if !walk.failures.is_empty() {
        // Pages after a failed one were not read: read page 1 again next time.
        state.forget(&start);
    }
    walk
}

/// The outcome of reading a source's index.
#[derive(Debug)]
pub struct SourceIndex {
    pub discovery: Discovery,
    /// Pages of the index that failed without ending the walk: `(url or file, reason)`.
    pub failures: Vec<(String, String)>,
    /// What the index holds but leaves out on purpose, not a failure: `(location, reason)`.
    pub skipped: Vec<(String, String)>,
    /// The index was not read to its end (a page of it failed): the next read is a full one
    /// (see `read_index`'s `full_walk`). For an HTML listing, the walk says so instead.
    pub incomplete: bool,
    /// Which way the source was read (`html`, `feed` or `dir`), for logs.
    pub kind: &'static str,
    /// The index answered 304: nothing new.
    pub unchanged: bool,
    /// Listing pages that answered 200 but yielded no post link (a sign of a redesign).
    pub empty_pages: Vec<String>,
    /// `Some` when the source's own URL was read as a feed: the website that feed names as its
    /// own, or `None` when it names no usable one (see `feed::Items::site`). `None` for a
    /// listing, a folder, the REST API, or a 304.
    pub feed_site: Option<Option<Url>>,
    /// A feed's items' own ids (see `feed::Items::ids`); empty otherwise.
    pub item_ids: feed::ItemIds,
    /// A feed whose enclosures could not be told item by item (see
    /// `feed::Items::enclosures_unknown`): its items say nothing of them.
    pub enclosures_unknown: bool,
    /// A folder's draft files (`draft = true`): they publish nothing, but they show the folder
    /// is there (see `pipeline::settle_files`). Empty for other kinds.
    pub drafts: Vec<String>,
    /// Read through the REST API: where the next such read starts its pass over modified posts,
    /// to be recorded once this read's posts are stored (`Store::set_api_window`); `None` when
    /// the window must stay where it was (see [`next_api_window`]).
    pub api_window: Option<chrono::DateTime<chrono::Utc>>,
    /// The items' own pages are read, as `full_text = true` asks: the category feed read in
    /// place of a REST API that could not be used, so that new posts get their whole text, not
    /// the feed's summaries.
    pub full_text: bool,
    /// Read as an HTML listing that advertises no REST API (an `html` source, or an `auto` one
    /// whose site has none, or no longer): a REST API window it has is stale.
    pub no_api: bool,
    /// Read through the REST API: its posts that could not be read and can be asked for again
    /// by id, to be kept pending (see [`wordpress::FailedPost`]); each is in `failures` too.
    pub failed_posts: Vec<wordpress::FailedPost>,
    /// Read through the REST API: the ids asked for again (`retry` of [`read_index`]) that are
    /// not to be asked for any more (see [`wordpress::WpResult::gone`]).
    pub gone: Vec<u64>,
}

impl SourceIndex {
    pub(crate) fn new(discovery: Discovery, kind: &'static str) -> SourceIndex {
        SourceIndex {
            discovery,
            failures: Vec::new(),
            skipped: Vec::new(),
            incomplete: false,
            kind,
            unchanged: false,
            empty_pages: Vec::new(),
            feed_site: None,
            item_ids: feed::ItemIds::default(),
            enclosures_unknown: false,
            drafts: Vec::new(),
            api_window: None,
            full_text: false,
            no_api: false,
            failed_posts: Vec::new(),
            gone: Vec::new(),
        }
    }
}

/// Why a source could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("site could not be reached ({url}): {error}")]
    Unreachable { url: String, error: FetchError },
    #[error("{url}: {error}")]
    Fetch { url: String, error: FetchError },
    /// The source's own URL redirects away from its site (or from http(s)): not followed.
    #[error(
        "{url} redirects to {target}, outside this source's site: not followed (nothing is read \
         from another site); if the site moved there, set this source's `url` to its new address"
    )]
    Moved { url: String, target: String },
    #[error("{location}: {message}")]
    Invalid { location: String, message: String },
}

/// Fetch `url` unconditionally (a new post, or one whose last attempt failed) and remember its
/// validators, so that the first re-check of the post can already be a conditional request.
pub async fn fetch_page_remembering(
    fetcher: &Fetcher,
    state: &RunState,
    url: &Url,
) -> Result<RawPage, FetchError> {
    let f = fetcher.get(url).await?;
    state.remember(url, &f);
    Ok(to_page(url, f))
}

/// Fetch one page and decode it to UTF-8.
pub async fn fetch_page(fetcher: &Fetcher, url: &Url) -> Result<RawPage, FetchError> {
    let f = fetcher.get(url).await?;
    Ok(to_page(url, f))
}

/// Text of an HTML fragment (a title a feed or the REST API gives as HTML): tags stripped,
/// entities decoded, whitespace collapsed, and what a browser never shows as text (the code of
/// a `<script>`, a `<style>` sheet, a `<template>`) left out. Markup that would cost the parser
/// minutes ([`crate::html_limits::check`]) is refused unparsed, like a page.
pub(crate) fn html_text(html: &str) -> Result<String, crate::html_limits::Exceeded> {
    crate::html_limits::check(html)?;
    let frag = scraper::Html::parse_fragment(html);
    let text: String = frag
        .root_element()
        .descendants()
        .filter(|n| {
            !n.ancestors().any(|a| {
                a.value()
                    .as_element()
                    .is_some_and(|e| matches!(e.name(), "script" | "style" | "template"))
            })
        })
        .filter_map(|n| n.value().as_text().map(|t| &**t))
        .collect();
    Ok(crate::normalize::collapse_whitespace(&text))
}

/// Turn a response into a decoded page. A page whose HTTP header and `<meta>` name different
/// charsets, or whose bytes are not all valid in the charset used, is decoded all the same (the
/// header wins, as in browsers) with a warning naming it (see `normalize::Decoded::doubt`).
pub fn to_page(requested: &Url, f: Fetched) -> RawPage {
    let decoded = crate::normalize::decode_page(&f.body, f.content_type.as_deref());
    if let Some(doubt) = decoded.doubt() {
        tracing::warn!("{}: {doubt}", f.url);
    }
    page_of(requested, f, decoded.text)
}

/// [`to_page`] without its warning, for a second look at a page [`to_page`] decodes too.
fn to_page_quietly(requested: &Url, f: Fetched) -> RawPage {
    let body = crate::normalize::decode_text(&f.body, f.content_type.as_deref());
    page_of(requested, f, body)
}

fn page_of(requested: &Url, f: Fetched, body: String) -> RawPage {
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

/// Read the index of `src`: start the listing walk, read the feed or list the folder. Listing
/// pages and feeds are fetched conditionally. An HTML listing comes back as
/// [`Discovery::Listing`] after its first page; [`walk_listing`] goes on from there and stops at
/// the first page whose posts are all known.
///
/// `full_walk`: the previous walk stopped at a failed page, so this one reads page 1 in full
/// and does not stop at known posts until `max_pages` (nor does the REST API's
/// publication-date pass).
///
/// `retry`: ids of REST API posts that failed on an earlier run (kept pending under their
/// [`wordpress::shortlink`]): a read through the API asks for them again by id (see
/// [`wordpress::read_retrying`]). While there are any, the listing page is asked for without
/// its validators, so that a 304 does not keep the API from being read.
pub async fn read_index(
    fetcher: &Fetcher,
    src: &SourceConfig,
    state: &RunState,
    full_walk: bool,
    modified_after: Option<chrono::DateTime<chrono::Utc>>,
    retry: &[u64],
) -> Result<SourceIndex, SourceError> {
    if src.kind == SourceKind::Dir {
        // Reading a folder parses the saved pages whose front matter needs it: page work.
        let folder = src.clone();
        return crate::cpu::blocking(move || Ok(dir::read(&folder)))
            .await
            .unwrap_or_else(|message| {
                Err(SourceError::Invalid {
                    location: src.url.clone(),
                    message,
                })
            });
    }
    let start = Url::parse(&src.url).map_err(|e| SourceError::Invalid {
        location: src.url.clone(),
        message: e.to_string(),
    })?;
    let validators = if full_walk || !retry.is_empty() {
        None
    } else {
        state.validators(&start)
    };
    let first = fetcher
        .get_conditional(&start, validators.as_ref())
        .await
        .map_err(|error| {
            if let Some(target) = error.redirect_target() {
                SourceError::Moved {
                    url: src.url.clone(),
                    target: target.to_owned(),
                }
            } else if error.is_unreachable() {
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
    let first = match first {
        Conditional::NotModified => {
            let mut index = SourceIndex::new(Discovery::Pages(Vec::new()), "unchanged");
            index.unchanged = true;
            return Ok(index);
        }
        Conditional::Modified(f) => *f,
    };
    let is_feed = match src.kind {
        SourceKind::Feed => true,
        SourceKind::Html | SourceKind::Wordpress => false,
        _ => looks_like_feed(first.content_type.as_deref(), &first.body),
    };
    if is_feed {
        let items = feed::parse(&start, &first, &own_site(src)).map_err(|message| {
            SourceError::Invalid {
                location: src.url.clone(),
                message,
            }
        })?;
        state.remember(&start, &first);
        let mut index = SourceIndex::new(Discovery::Posts(items.posts), "feed");
        index.skipped = items.skipped;
        index.feed_site = Some(items.site);
        index.item_ids = items.ids;
        index.enclosures_unknown = items.enclosures_unknown;
        Ok(index)
    } else {
        let root = wordpress_root(src, &start, &first).await;
        if let Some(root) = &root
            && let Some(index) = read_wordpress(
                fetcher,
                src,
                state,
                root,
                &start,
                &first,
                modified_after,
                full_walk,
                retry,
            )
            .await?
        {
            return Ok(index);
        }
        state.remember(&start, &first);
        let first_page = to_page(&start, first);
        // Catching up is the pipeline's call: it knows whether this is the source's first read.
        let limits = scrape::Limits {
            max_pages: src.max_pages as usize,
            stop_at_known: !full_walk,
            catch_up: false,
        };
        let listing = Listing {
            start,
            first: first_page,
            limits,
        };
        let mut index = SourceIndex::new(Discovery::Listing(Box::new(listing)), "html");
        index.no_api = root.is_none();
        Ok(index)
    }
}

/// The site of a source read over HTTP (see [`site::Site::of`]); empty (holding nothing) for a
/// folder.
pub fn own_site(src: &SourceConfig) -> site::Site {
    site::Site::of(src).unwrap_or_default()
}

/// The REST API root a listing page advertises (`<link rel="https://api.w.org/">` or the
/// `Link` header) when it is on the source's own site; for `kind = "wordpress"`, and for a page
/// advertising a root on another site, the conventional `/wp-json/` of the source's URL. The
/// page is decoded and parsed on the blocking pool (`crate::cpu::blocking`), as every fetched
/// page is.
pub async fn wordpress_root(src: &SourceConfig, start: &Url, first: &Fetched) -> Option<Url> {
    if !matches!(src.kind, SourceKind::Wordpress | SourceKind::Auto) {
        return None;
    }
    let (start_url, copy) = (start.clone(), first.clone());
    let advertised = crate::cpu::blocking(move || {
        Ok(wordpress::api_root_from_html(&to_page_quietly(
            &start_url, copy,
        )))
    })
    .await
    .ok()
    .flatten()
    .or_else(|| {
        first
            .header("link")
            .and_then(|l| wordpress::api_root_from_link_header(l, start))
    });
    let default = || Url::parse(&format!("{}/wp-json/", http::origin(start))).ok();
    match advertised {
        Some(root) if site::Site::of(src).is_some_and(|s| s.contains(&root)) => Some(root),
        // A root on another site is not this site's API: its own conventional root is tried.
        Some(root) => {
            tracing::debug!(source = %src.name, root = %root, "REST API root on another site ignored");
            default()
        }
        None => (src.kind == SourceKind::Wordpress).then(default).flatten(),
    }
}

/// How far back the window of a REST API read reaches before the moment the last complete read
/// started: a post saved while that read ran, or by a site whose clock is a little behind ours,
/// is still inside it.
pub const API_WINDOW_OVERLAP: chrono::Duration = chrono::Duration::hours(1);

/// Where the next incremental REST API read starts (its `modified_after`), after a read made
/// with `modified_after` (`None`: a cold read) that started at `started` and returned `r`; `None`
/// when it must stay where it was.
/// - The pass over modified posts read to its end, or a cold read stopped by `max_pages` (the
///   older posts are the backfill's, as for a listing): from `started`, less
///   [`API_WINDOW_OVERLAP`].
/// - An incremental read cut short (by `max_pages` or a failed page) read the oldest
///   modifications first: from the last one it read (no later than `started` less the
///   overlap), less a second so that posts saved in the same second are read again, not
///   skipped (a second later when that would not move on). Such a read also marks the index
///   incomplete, so the next run asks the API again even when the listing answers 304.
/// - A cold read cut by a failed page, an incremental one that read no post, or one that met a
///   post twice (edited while it read on, see `WpResult::unsettled`): unchanged (a cold read
///   again, or the same window).
pub fn next_api_window(
    modified_after: Option<chrono::DateTime<chrono::Utc>>,
    started: chrono::DateTime<chrono::Utc>,
    r: &wordpress::WpResult,
) -> Option<chrono::DateTime<chrono::Utc>> {
    // Posts edited during an incremental read may have shifted one past it: read it again.
    if r.unsettled && modified_after.is_some() {
        return None;
    }
    if r.complete || (modified_after.is_none() && r.cut_by.is_none()) {
        return Some(started - API_WINDOW_OVERLAP);
    }
    let (after, last) = (modified_after?, r.last_modified?);
    // Never past our own clock (less the overlap): a post the site dates in the future would
    // put every later edit out of the window.
    let last = last.min(started - API_WINDOW_OVERLAP);
    let before_last = last - chrono::Duration::seconds(1);
    if before_last > after {
        Some(before_last)
    } else {
        (last > after).then_some(last)
    }
}

/// The WordPress REST API path: taken when `kind = "wordpress"`, or when `auto` finds the page
/// advertising `rel="https://api.w.org/"`. With `modified_after`, an incremental read (see
/// [`wordpress::Incremental`]) told which posts are stored by `state`; the posts with the ids
/// in `retry` are asked for again. Falls back to the category feed, then (returning `None`) to
/// the HTML walk when the API is missing or refuses, or when even its smallest pages are larger
/// than `http.max_body_bytes`.
#[allow(clippy::too_many_arguments)]
async fn read_wordpress(
    fetcher: &Fetcher,
    src: &SourceConfig,
    state: &RunState,
    root: &Url,
    start: &Url,
    first: &Fetched,
    modified_after: Option<chrono::DateTime<chrono::Utc>>,
    full_walk: bool,
    retry: &[u64],
) -> Result<Option<SourceIndex>, SourceError> {
    // An incremental read also reads the newest posts by publication date, up to the first page
    // holding a stored post: this says which are (and the stored posts it meets are this
    // source's too, see `RunState::is_listed_known`).
    let known = |url: &Url| state.is_listed_known(url);
    let incremental = modified_after.map(|modified_after| wordpress::Incremental {
        modified_after,
        known: &known,
        stop_at_known: !full_walk,
    });
    let site = own_site(src);
    let started = chrono::Utc::now();
    match wordpress::read_retrying(
        fetcher,
        root,
        start,
        &site,
        incremental,
        Some(src.max_pages),
        retry,
    )
    .await
    {
        Ok(r) => {
            state.remember(start, first);
            let api_window = next_api_window(modified_after, started, &r);
            let mut index = SourceIndex::new(Discovery::Posts(r.posts), "wordpress");
            index.api_window = api_window;
            if !r.complete
                && r.cut_by.is_none()
                && let (Some(_), Some(last)) = (modified_after, r.last_modified)
            {
                tracing::warn!(
                    source = %src.name,
                    "more posts were modified since the last run than `max_pages` ({}) pages of \
                     {} hold; read up to those modified at {last}, the next run reads on",
                    src.max_pages,
                    wordpress::PER_PAGE
                );
            }
            index.failures = r.failures;
            index.skipped = r.skipped;
            index.failed_posts = r.failed_posts;
            index.gone = r.gone;
            // A read cut short (a failed page; an incremental one by `max_pages`) must go on at
            // the next run even if the listing is unchanged then: no 304 for it.
            index.incomplete = r.pass_failed
                || (!r.complete && (r.cut_by.is_some() || modified_after.is_some()))
                || (r.unsettled && modified_after.is_some());
            Ok(Some(index))
        }
        Err(e) if e.falls_back() => {
            // Said as a warning when the API was asked for by name; `auto` takes what works.
            let say = |what: &str| {
                if src.kind == SourceKind::Wordpress {
                    tracing::warn!(
                        source = %src.name,
                        "REST API not usable ({e}); {what} (set kind = \"html\" if the site \
                         never offers it)"
                    );
                } else {
                    tracing::info!(source = %src.name, "REST API not usable ({e}); {what}");
                }
            };
            // A read that must see the whole category (a new source, one moved, one whose last
            // walk failed) walks the listing: the feed holds only the newest posts.
            if full_walk {
                say("walking the HTML listing instead");
                return Ok(None);
            }
            say("reading the category feed instead, each new post from its own page");
            let Ok(feed_url) = start.join("feed/") else {
                return Ok(None);
            };
            match fetcher.get(&feed_url).await {
                Ok(f) if looks_like_feed(f.content_type.as_deref(), &f.body) => {
                    match feed::parse(&feed_url, &f, &own_site(src)) {
                        Ok(items) => {
                            state.remember(start, first);
                            let mut index = SourceIndex::new(Discovery::Posts(items.posts), "feed");
                            index.skipped = items.skipped;
                            index.item_ids = items.ids;
                            index.enclosures_unknown = items.enclosures_unknown;
                            index.full_text = true;
                            Ok(Some(index))
                        }
                        Err(_) => Ok(None),
                    }
                }
                _ => {
                    tracing::info!(source = %src.name, "no category feed either; walking the HTML listing");
                    Ok(None)
                }
            }
        }
        // A request that failed is said as the listing's would be: its URL once, and "could
        // not be reached" when the site is down.
        Err(wordpress::WpError::Fetch { url, error }) if error.is_unreachable() => {
            Err(SourceError::Unreachable { url, error })
        }
        Err(wordpress::WpError::Fetch { url, error }) => Err(SourceError::Fetch { url, error }),
        Err(e) => Err(SourceError::Invalid {
            location: root.to_string(),
            message: e.to_string(),
        }),
    }
}
