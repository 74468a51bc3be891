//! The WordPress REST API source: a category's posts read as JSON instead of scraped HTML.
//!
//! Owns: finding a site's API root (`<link rel="https://api.w.org/">` or the HTTP `Link` header),
//! building endpoint URLs for both `…/wp-json/` and `?rest_route=` roots, resolving a category
//! listing URL to its category id, paging through `wp/v2/posts`, and mapping each post to a
//! [`RawPost`] (names of authors, categories and tags from `_embed`, or from cached look-ups of
//! the users and terms endpoints). Must not: normalize or sanitize (that is `normalize`), decide
//! between the API, the feed and HTML (the caller falls back on [`WpError::falls_back`]), or
//! touch the store. Every request goes through [`Fetcher::get`], so politeness, the body limit
//! and the request budget apply.
//!
//! Paging: the walk stops at `max_pages`, at an empty page, at the page count the API announces
//! in `X-WP-TotalPages`, or at a `400` past the first page (WordPress answers
//! `400 rest_post_invalid_page_number` past the last page). Without that header (some caches and
//! proxies strip it) a page with fewer than [`PER_PAGE`] posts is taken as the last one. With it,
//! a short page does not end the walk, so a server that caps `per_page` below 100 is still read
//! to the end. A page whose answer is larger than `http.max_body_bytes` (long posts, 100 a page)
//! is asked for again as the smaller pages that hold the same posts ([`SMALLER_PAGES`]: 20, then
//! 5 a page), and so is every later page of the read; the walk still counts pages of 100, so
//! `max_pages` and a backfill's saved place mean the same. Past 5, [`WpError::TooLarge`], on
//! which the caller falls back.
//!
//! A post that cannot be read (its JSON has an unexpected shape; a field given as `null` is only
//! a missing one) is reported by its `link`, and given back in [`WpResult::failed_posts`] so the
//! caller can keep it pending; [`read_retrying`] asks for such posts again by id, an answer
//! larger than `http.max_body_bytes` asked for again in smaller parts (20, 5, then one post a
//! request), so that a post too large alone holds none of the others back.
//!
//! Incremental reads ([`Incremental`]) make two passes. The first asks for the posts modified
//! after the instant the caller gives (`orderby=modified&order=asc&modified_after=…`), oldest
//! modification first, so that a pass cut short by `max_pages` or by a failed page has read
//! everything up to the last post it holds, and the next read can go on from there
//! ([`WpResult::last_modified`]); `total_pages` and `complete` describe it. A page after the
//! first that fails ends the pass without losing the pages before it ([`WpResult::cut_by`]). That pass alone misses a post published on schedule: WordPress publishes a scheduled post
//! by flipping its status, without touching its modification date, so a post written on Monday
//! and published on Friday still says Monday. It also misses a post saved while the site's clock
//! was behind ours by more than the overlap. So a second pass reads the category's newest posts
//! by publication date (`orderby=date`, no date filter, [`PUBLISHED_PER_PAGE`] a page), page after
//! page until a page holds a post stored before this run (the caller says which are, see
//! [`Incremental::known`]: everything published since is newer; after a failed read, not
//! before `max_pages`, see [`Incremental::stop_at_known`]), up to `max_pages`; it adds only
//! the posts neither stored nor returned by the first pass. A failure of the
//! second pass is reported with the posts' failures and keeps what the first pass read. A cold
//! read (no [`Incremental`]) makes only the first pass, without `modified_after`.
//!
//! Backfills read one page at a time ([`backfill_page`], newest published first, the page's URL
//! being the backfill's saved place, see [`backfill_url`] / [`backfill_place`]): the caller stores
//! each page before asking for the next.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Deserialize;
use serde_json::Value;
use url::Url;

use crate::model::{DateSource, RawDate, RawPage, RawPost};
use crate::source::http::{FetchError, Fetcher};
use crate::source::site::Site;

/// The `rel` value WordPress uses to advertise its REST API root.
pub const API_REL: &str = "https://api.w.org/";

/// Posts asked for per page (the largest value WordPress accepts).
pub const PER_PAGE: usize = 100;

/// The smaller page sizes a read falls back to, in turn, when a page is larger than
/// `http.max_body_bytes` (a category of long posts): the same posts are then read as several
/// smaller pages (page 2 of 100 as pages 6 to 10 of 20), so the walk's paging, `max_pages` and
/// a backfill's saved place keep counting pages of [`PER_PAGE`] (or [`PUBLISHED_PER_PAGE`]).
/// Each divides both.
pub const SMALLER_PAGES: [usize; 2] = [20, 5];

/// Posts asked for per page by the publication-date pass of an incremental read: the newest
/// posts by date are those published since the last run (a scheduled post is dated when it is
/// published), so a short page usually holds all of them, and the pass reads on until a page
/// holds a post stored before the run. Pages of [`PER_PAGE`] posts with their bodies would cost
/// ~900 KB on every run that reads the API.
pub const PUBLISHED_PER_PAGE: usize = 10;

/// What an incremental [`read`] is given: where the modification window starts, and which posts
/// are stored already (this module never reads the store: the caller answers from what it
/// loaded, as `RunState::is_known` does).
#[derive(Clone, Copy)]
pub struct Incremental<'a> {
    /// The first pass asks only for posts modified after this instant.
    pub modified_after: DateTime<Utc>,
    /// Is the post at this URL (its `link`) stored already? The publication-date pass reads on
    /// until a page holds a post for which this is true (see `stop_at_known`), and adds only
    /// the posts for which it is false (and the first pass did not return).
    pub known: &'a (dyn Fn(&Url) -> bool + Sync),
    /// Does the publication-date pass end at the first page holding a stored post? Not after a
    /// read that failed: the posts that read stored may be newer than one it never reached (a
    /// scheduled post behind ten new ones), so the pass then reads up to `max_pages`.
    pub stop_at_known: bool,
}

impl std::fmt::Debug for Incremental<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Incremental")
            .field("modified_after", &self.modified_after)
            .finish_non_exhaustive()
    }
}

/// What one [`read`] produced.
#[derive(Debug, Clone, PartialEq)]
pub struct WpResult {
    /// Each post's URL (its `link`) and its raw fields: the modification pass's posts (a cold
    /// read's newest modification first, an incremental read's oldest first), then those only
    /// the publication-date pass found (newest first), each post once.
    pub posts: Vec<(Url, RawPost)>,
    /// Pages of posts the modification pass's query has, as announced by `X-WP-TotalPages`;
    /// without the header, the pages requested (including an empty or out-of-range last page).
    pub total_pages: u32,
    /// Requests made by this read, look-ups and both passes included.
    pub requests: u32,
    /// True when the modification pass reached the last page; false when `max_pages` or a
    /// failed page stopped it first.
    pub complete: bool,
    /// The modification date of the last post the modification pass read (in its order), when
    /// it had one: where an incremental read cut short goes on next time.
    pub last_modified: Option<DateTime<Utc>>,
    /// The page of the modification pass that failed and ended it, with the reason (also in
    /// `failures`); `None` when it was not cut by a failure.
    pub cut_by: Option<(String, String)>,
    /// The modification pass met a post twice: it was edited while the pass read on, so the
    /// posts after it shifted a place and one may have been skipped. An incremental read then
    /// keeps its window and is read again (see `source::next_api_window`).
    pub unsettled: bool,
    /// Posts that were skipped because they could not be mapped, and a page of the
    /// publication-date pass that failed: `(post or URL, reason)`.
    pub failures: Vec<(String, String)>,
    /// Posts left out on purpose: those whose `link` is on another site than the source's
    /// (see `source::site`), `(link, reason)`. Another site's posts are not the API's to give.
    pub skipped: Vec<(String, String)>,
    /// A page of the publication-date pass failed: the next read must not stop at stored posts
    /// (see [`Incremental::stop_at_known`]). A post that could not be mapped does not count.
    pub pass_failed: bool,
    /// The posts among `failures` that can be asked for again by id on a later run (see
    /// [`read_retrying`]): those the API gave with an id and a `link` on the source's site.
    pub failed_posts: Vec<FailedPost>,
    /// Posts asked for again by id (see [`read_retrying`]) that are not to be asked for any
    /// more: the API no longer returns them in the category (deleted, unpublished, moved to
    /// another category), or their `link` is on another site now.
    pub gone: Vec<u64>,
}

/// A post the API gave that could not be read (its JSON has an unexpected shape, or its body
/// cannot be used), with what is needed to ask for it again by id: see [`read_retrying`].
#[derive(Debug, Clone, PartialEq)]
pub struct FailedPost {
    pub id: u64,
    pub link: Url,
    pub reason: String,
}

/// The URL a post that failed stays pending under: its shortlink `<scheme>://<host>[:port]/?p=<id>`
/// (the form of the post's entry id, and a URL WordPress answers with a redirect to the post),
/// so that the id can be read back from it ([`shortlink_id`]).
pub fn shortlink(link: &Url, id: u64) -> Url {
    let mut short = link.clone();
    short.set_path("/");
    short.set_query(Some(&format!("p={id}")));
    short.set_fragment(None);
    let _ = short.set_username("");
    let _ = short.set_password(None);
    short
}

/// The post id of a [`shortlink`] on `site` (path `/`, query `p=<id>` alone); `None` for any
/// other URL.
pub fn shortlink_id(url: &str, site: &Site) -> Option<u64> {
    let url = Url::parse(url).ok()?;
    if url.path() != "/" || url.fragment().is_some() || !site.contains(&url) {
        return None;
    }
    let mut pairs = url.query_pairs();
    let (key, value) = pairs.next()?;
    if key != "p" || pairs.next().is_some() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse().ok()
}

/// Why the API could not be read.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum WpError {
    /// The API is missing or refuses us: 400/401/403/404/405/410/501, or it answered with
    /// something that is not JSON (typically an HTML page). Fall back to the feed, then HTML.
    #[error("WordPress API not usable at {url}: {reason}")]
    Unavailable { url: String, reason: String },
    /// The API answered, but it knows no category with the listing URL's slug.
    #[error("WordPress API at {url} knows no category with slug `{slug}`")]
    NoCategory { url: String, slug: String },
    /// The listing URL has no path segment or `cat`/`category_name` parameter to resolve.
    #[error("cannot tell the category from the listing URL {0}")]
    NoSlug(String),
    /// The body claimed to be JSON (or was not HTML) but did not parse as the expected JSON.
    #[error("malformed JSON from {url}: {message}")]
    Malformed { url: String, message: String },
    /// The request itself failed: unreachable site, timeout, 5xx, 429, body too large, budget,
    /// or robots.txt forbids the URL.
    #[error("{url}: {error}")]
    Fetch { url: String, error: FetchError },
    /// Even a page of the fewest posts a read asks for (see [`SMALLER_PAGES`]) was larger than
    /// `http.max_body_bytes`. Falls back: the category feed and the posts' own pages are
    /// smaller.
    #[error("{url}: {}", too_large(*.per_page, *.limit))]
    TooLarge {
        url: String,
        limit: u64,
        per_page: usize,
    },
}

fn too_large(per_page: usize, limit: u64) -> String {
    format!(
        "even a page of {per_page} posts is larger than the {limit}-byte limit \
         (http.max_body_bytes); raise it to read this category through the REST API"
    )
}

impl WpError {
    /// The URL of the request that failed, when there was one.
    pub fn url(&self) -> Option<&str> {
        match self {
            WpError::Unavailable { url, .. }
            | WpError::NoCategory { url, .. }
            | WpError::Malformed { url, .. }
            | WpError::Fetch { url, .. }
            | WpError::TooLarge { url, .. } => Some(url),
            WpError::NoSlug(_) => None,
        }
    }

    /// Should the caller try the category feed (then HTML) instead? True when the API is
    /// missing, refusing, broken or does not know the category, when robots.txt forbids the
    /// API (the feed may be allowed), and when even its smallest pages are too large; false for
    /// transport errors, where the other ways to read the same site would fail the same way.
    pub fn falls_back(&self) -> bool {
        match self {
            WpError::Fetch { error, .. } => error.is_skip(),
            _ => true,
        }
    }
}

/// The API root a page advertises with `<link rel="https://api.w.org/" href="…">`, resolved
/// against the page URL. Only http(s) roots are returned; none from a page refused by
/// [`crate::html_limits::check`] (too costly to parse).
pub fn api_root_from_html(page: &RawPage) -> Option<Url> {
    crate::html_limits::check(&page.body).ok()?;
    let doc = scraper::Html::parse_document(&page.body);
    let sel = scraper::Selector::parse("link[rel][href]").ok()?;
    doc.select(&sel)
        .filter(|el| {
            el.value()
                .attr("rel")
                .is_some_and(|rel| rel.split_ascii_whitespace().any(is_api_rel))
        })
        .filter_map(|el| el.value().attr("href"))
        .find_map(|href| http_url(page.url.join(href.trim()).ok()?))
}

/// The API root from an HTTP `Link` header value such as
/// `<https://example.org/wp-json/>; rel="https://api.w.org/"` (several comma-separated links
/// allowed), resolved against `base`. Only http(s) roots are returned.
pub fn api_root_from_link_header(value: &str, base: &Url) -> Option<Url> {
    let mut rest = value;
    while let Some(start) = rest.find('<') {
        let after = &rest[start + 1..];
        let end = after.find('>')?;
        let target = &after[..end];
        let params_end = after[end..].find('<').map_or(after.len(), |i| end + i);
        let params = &after[end + 1..params_end];
        let is_api = params.split(';').any(|p| {
            let Some((k, v)) = p.split_once('=') else {
                return false;
            };
            k.trim().eq_ignore_ascii_case("rel")
                && v.trim()
                    .trim_matches('"')
                    .split_ascii_whitespace()
                    .any(is_api_rel)
        });
        if is_api && let Some(url) = base.join(target.trim()).ok().and_then(http_url) {
            return Some(url);
        }
        rest = &after[params_end..];
    }
    None
}

fn is_api_rel(rel: &str) -> bool {
    rel.eq_ignore_ascii_case(API_REL)
}

fn http_url(url: Url) -> Option<Url> {
    matches!(url.scheme(), "http" | "https").then_some(url)
}

/// The URL of `route` (such as `wp/v2/posts`) under `api_root` with query `params` appended.
///
/// A pretty root (`https://example.org/wp-json/`) gets the route appended to its path; a plain
/// root (`https://example.org/?rest_route=/`) gets it appended to its `rest_route` parameter.
pub fn endpoint(api_root: &Url, route: &str, params: &[(&str, String)]) -> Url {
    let route = route.trim_start_matches('/');
    let mut url = api_root.clone();
    url.set_fragment(None);
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let rest_base = pairs
        .iter()
        .find(|(k, _)| k == "rest_route")
        .map(|(_, v)| v.clone());
    if rest_base.is_none() {
        let path = format!("{}/{route}", url.path().trim_end_matches('/'));
        url.set_path(&path);
    }
    url.set_query(None);
    if pairs.is_empty() && params.is_empty() {
        return url;
    }
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in &pairs {
            if k == "rest_route" {
                q.append_pair(k, &format!("{}/{route}", v.trim_end_matches('/')));
            } else {
                q.append_pair(k, v);
            }
        }
        for (k, v) in params {
            q.append_pair(k, v);
        }
    }
    url
}

/// What identifies the category in a listing URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CategoryRef {
    /// A numeric id (`?cat=12`): no look-up needed.
    Id(u64),
    /// A slug (the last path segment, or `?category_name=`), percent-decoded.
    Slug(String),
}

/// The category a listing URL names: `?cat=ID`, `?category_name=SLUG`, or the last path segment
/// (ignoring a trailing `page/N/` or `feed/`), e.g.
/// `/category/daily/international-negotiation-daily/` → `international-negotiation-daily`.
pub fn category_of(listing_url: &Url) -> Option<CategoryRef> {
    for (k, v) in listing_url.query_pairs() {
        if k == "cat"
            && let Ok(id) = v.trim().parse::<u64>()
        {
            return Some(CategoryRef::Id(id));
        }
        if k == "category_name" {
            let slug = v.trim().trim_matches('/').rsplit('/').next().unwrap_or("");
            if !slug.is_empty() {
                return Some(CategoryRef::Slug(slug.to_string()));
            }
        }
    }
    let mut segments: Vec<&str> = listing_url
        .path_segments()?
        .filter(|s| !s.is_empty())
        .collect();
    if segments.len() >= 2
        && segments[segments.len() - 2] == "page"
        && segments[segments.len() - 1].parse::<u32>().is_ok()
    {
        segments.truncate(segments.len() - 2);
    }
    if segments.last() == Some(&"feed") {
        segments.pop();
    }
    let slug = percent_decode(segments.last()?);
    (!slug.is_empty()).then_some(CategoryRef::Slug(slug))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Read the posts of the category named by `listing_url` through the API at `api_root`,
/// newest modification first; at most `max_pages` pages of [`PER_PAGE`] posts per pass when
/// given. With `incremental`, only posts modified after its `modified_after`, plus the posts the
/// publication-date pass finds that are neither stored nor returned already (see the module
/// docs). Posts whose `link` is not on `site` (the source's, see `source::site`) are left out,
/// in [`WpResult::skipped`].
///
/// # Errors
///
/// [`WpError`] when the category look-up or the modification pass fails; on an error for which
/// [`WpError::falls_back`] is true the caller should read the category feed, then the HTML
/// listing. A failure of the publication-date pass is not an error: it is reported in
/// [`WpResult::failures`].
pub async fn read(
    fetcher: &Fetcher,
    api_root: &Url,
    listing_url: &Url,
    site: &Site,
    incremental: Option<Incremental<'_>>,
    max_pages: Option<u32>,
) -> Result<WpResult, WpError> {
    read_retrying(
        fetcher,
        api_root,
        listing_url,
        site,
        incremental,
        max_pages,
        &[],
    )
    .await
}

/// [`read`], then the posts with the ids in `retry` that neither pass returned, asked for by
/// id (`wp/v2/posts?categories=ID&include=…`, up to [`PER_PAGE`] a request): posts that failed
/// on an earlier read ([`WpResult::failed_posts`]) and were kept pending, read again until
/// they succeed. An id the API no longer returns in the category is in [`WpResult::gone`]; a
/// request for them that fails is in [`WpResult::failures`] (they are asked for again next
/// time).
///
/// # Errors
///
/// As [`read`].
pub async fn read_retrying(
    fetcher: &Fetcher,
    api_root: &Url,
    listing_url: &Url,
    site: &Site,
    incremental: Option<Incremental<'_>>,
    max_pages: Option<u32>,
    retry: &[u64],
) -> Result<WpResult, WpError> {
    let mut reader = Reader::new(fetcher, api_root, site);
    let category = match category_of(listing_url) {
        Some(CategoryRef::Id(id)) => id,
        Some(CategoryRef::Slug(slug)) => reader.category_id(&slug).await?,
        None => return Err(WpError::NoSlug(listing_url.to_string())),
    };
    reader.posts(category, incremental, max_pages, retry).await
}

/// Like [`read`], for a category id already known (for instance remembered from an earlier
/// run), saving the category look-up.
///
/// # Errors
///
/// As [`read`].
pub async fn read_category(
    fetcher: &Fetcher,
    api_root: &Url,
    category_id: u64,
    site: &Site,
    incremental: Option<Incremental<'_>>,
    max_pages: Option<u32>,
) -> Result<WpResult, WpError> {
    Reader::new(fetcher, api_root, site)
        .posts(category_id, incremental, max_pages, &[])
        .await
}

/// Resolve a category slug to its id with `GET <root>wp/v2/categories?slug=<slug>`.
/// Returns the id and the number of requests made (one).
///
/// # Errors
///
/// [`WpError::NoCategory`] when the API knows no such slug, else as [`read`].
pub async fn category_id(
    fetcher: &Fetcher,
    api_root: &Url,
    slug: &str,
) -> Result<(u64, u32), WpError> {
    let site = Site::default();
    let mut reader = Reader::new(fetcher, api_root, &site);
    let id = reader.category_id(slug).await?;
    Ok((id, reader.requests))
}

/// One page of a backfill through the API ([`backfill_page`]).
#[derive(Debug)]
pub struct BackfillPage {
    /// The page's posts, as [`WpResult::posts`].
    pub posts: Vec<(Url, RawPost)>,
    /// Posts of the page that could not be mapped: `(post, reason)`.
    pub failures: Vec<(String, String)>,
    /// Those of them that can be asked for again by id, as [`WpResult::failed_posts`].
    pub failed_posts: Vec<FailedPost>,
    /// Posts left out as [`WpResult::skipped`] says (their `link` is on another site).
    pub skipped: Vec<(String, String)>,
    /// No page follows.
    pub last: bool,
    /// The most posts a request for this page asked for: what to pass to the next
    /// [`backfill_page`], so that a category whose pages of [`PER_PAGE`] are too large is not
    /// asked for them again on every page.
    pub page_cap: usize,
}

/// The category id the listing URL names, looked up through the API when it gives a slug.
///
/// # Errors
///
/// As [`read`].
pub async fn listing_category(
    fetcher: &Fetcher,
    api_root: &Url,
    listing_url: &Url,
) -> Result<u64, WpError> {
    match category_of(listing_url) {
        Some(CategoryRef::Id(id)) => Ok(id),
        Some(CategoryRef::Slug(slug)) => {
            let site = Site::default();
            Reader::new(fetcher, api_root, &site)
                .category_id(&slug)
                .await
        }
        None => Err(WpError::NoSlug(listing_url.to_string())),
    }
}

/// The URL of page `page` of a backfill of the category's posts (newest published first, 100
/// a page): what a backfill's saved progress holds, so an interrupted one resumes there.
pub fn backfill_url(api_root: &Url, category: u64, page: u32) -> Url {
    posts_url(api_root, category, page, Order::Backfill)
}

/// Could `url` be one of [`backfill_url`]'s (before the API root is known)?
pub fn may_be_backfill_url(url: &str) -> bool {
    url.contains("wp/v2/posts") || url.contains("wp%2Fv2%2Fposts")
}

/// The category and page a saved backfill URL stands for, when it is one of
/// [`backfill_url`]'s for this API root; `None` for any other URL (a listing page).
pub fn backfill_place(api_root: &Url, url: &str) -> Option<(u64, u32)> {
    let parsed = Url::parse(url).ok()?;
    let param = |name: &str| {
        parsed
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    let category: u64 = param("categories")?.parse().ok()?;
    let page: u32 = param("page")?.parse().ok()?;
    (page >= 1 && backfill_url(api_root, category, page).as_str() == url)
        .then_some((category, page))
}

/// Read page `page` of a backfill of the category's posts, with its authors' and terms' names.
/// A page too large for `http.max_body_bytes` is read as smaller ones (see [`SMALLER_PAGES`]),
/// asking at most `page_cap` posts a request ([`PER_PAGE`], or the previous page's
/// [`BackfillPage::page_cap`]).
///
/// # Errors
///
/// As [`read`]; a `400` past the first page (WordPress's answer past the last page) is an
/// empty last page, not an error.
pub async fn backfill_page(
    fetcher: &Fetcher,
    api_root: &Url,
    site: &Site,
    category: u64,
    page: u32,
    page_cap: usize,
) -> Result<BackfillPage, WpError> {
    let mut reader = Reader::new(fetcher, api_root, site);
    reader.page_cap = page_cap.clamp(1, PER_PAGE);
    let mut out = BackfillPage {
        posts: Vec::new(),
        failures: Vec::new(),
        failed_posts: Vec::new(),
        skipped: Vec::new(),
        last: true,
        page_cap: PER_PAGE,
    };
    let got = reader.page(category, page, Order::Backfill).await?;
    out.page_cap = reader.page_cap;
    let Some(got) = got else {
        return Ok(out);
    };
    out.last = got.is_last(page, got.announced, PER_PAGE);
    out.failures = got.failures;
    out.failed_posts = got.failed_posts;
    reader.fill_lookups(&got.posts).await;
    for p in got.posts {
        if let Some(off) = reader.off_site(&p) {
            out.skipped.push(off);
            continue;
        }
        match reader.map_post(p) {
            Ok(pair) => out.posts.push(pair),
            Err(f) => out.failures.push(f),
        }
    }
    Ok(out)
}

/// The fields of a `wp/v2/posts` item this source uses; everything optional so one odd post
/// (or a plugin's extra fields) never breaks the page. A field given as `null` is read as a
/// missing one (`"title": null` is a post without a title), and an `_embedded` block that
/// cannot be read as one that is not there (the names are then looked up).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct WpPost {
    id: Option<u64>,
    link: Option<String>,
    date_gmt: Option<String>,
    modified_gmt: Option<String>,
    #[serde(deserialize_with = "null_as_default")]
    title: Rendered,
    #[serde(deserialize_with = "null_as_default")]
    content: Rendered,
    #[serde(deserialize_with = "null_as_default")]
    excerpt: Rendered,
    author: Option<u64>,
    #[serde(deserialize_with = "null_as_default")]
    categories: Vec<u64>,
    #[serde(deserialize_with = "null_as_default")]
    tags: Vec<u64>,
    #[serde(rename = "_embedded", deserialize_with = "unreadable_as_none")]
    embedded: Option<Embedded>,
}

/// A `null` read as the field's default (as a missing field is).
fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A value read as `None` when it does not have the expected shape.
fn unreadable_as_none<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    Ok(serde_json::from_value(Value::deserialize(d)?).ok())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Rendered {
    rendered: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Embedded {
    author: Option<Vec<Value>>,
    #[serde(rename = "wp:term")]
    terms: Option<Vec<Vec<Value>>>,
}

/// Which term endpoint an id belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Taxonomy {
    Category,
    Tag,
}

impl Taxonomy {
    fn route(self) -> &'static str {
        match self {
            Taxonomy::Category => "wp/v2/categories",
            Taxonomy::Tag => "wp/v2/tags",
        }
    }
}

/// Which way a pass asks for the posts, newest first: by modification date (after the given
/// instant, when there is one) or by publication date.
#[derive(Debug, Clone, Copy)]
enum Order {
    Modified(Option<DateTime<Utc>>),
    Published,
    /// A backfill's pages: by publication date, [`PER_PAGE`] a page. A post published while a
    /// backfill is interrupted moves the older ones down a place, so a resumed page repeats a
    /// post (stored once) rather than missing one, as a modification order could.
    Backfill,
}

impl Order {
    fn per_page(self) -> usize {
        match self {
            Order::Modified(_) | Order::Backfill => PER_PAGE,
            Order::Published => PUBLISHED_PER_PAGE,
        }
    }
}

/// One page of `wp/v2/posts`.
struct PostPage {
    /// The items that parsed.
    posts: Vec<WpPost>,
    /// How many items the page had, parsed or not.
    count: usize,
    /// `X-WP-TotalPages`, when sent.
    announced: Option<u32>,
    /// The items that did not parse: `(post, reason)`, each named by its `link`, else its id,
    /// else its place on the page.
    failures: Vec<(String, String)>,
    /// Those of them that can be asked for again by id (see [`FailedPost`]).
    failed_posts: Vec<FailedPost>,
}

impl PostPage {
    /// Is page number `page` the last? With `announced` (the `X-WP-TotalPages` seen so far),
    /// when it is reached or the page is empty; without, when the page is short.
    fn is_last(&self, page: u32, announced: Option<u32>, per_page: usize) -> bool {
        match announced {
            Some(total) => page >= total || self.count == 0,
            None => self.count < per_page,
        }
    }
}

/// The URL of `page` of the category's posts, newest first by `order`.
fn posts_url(root: &Url, category: u64, page: u32, order: Order) -> Url {
    sized_posts_url(root, category, page, order, order.per_page())
}

/// [`posts_url`] for pages of `per_page` posts.
fn sized_posts_url(root: &Url, category: u64, page: u32, order: Order, per_page: usize) -> Url {
    let orderby = match order {
        Order::Modified(_) => "modified",
        Order::Published | Order::Backfill => "date",
    };
    // An incremental read goes oldest modification first (see the module docs).
    let direction = match order {
        Order::Modified(Some(_)) => "asc",
        _ => "desc",
    };
    let mut params = vec![
        ("categories", category.to_string()),
        ("per_page", per_page.to_string()),
        ("page", page.to_string()),
        ("_embed", "1".to_string()),
        ("orderby", orderby.to_string()),
        ("order", direction.to_string()),
    ];
    if let Order::Modified(Some(after)) = order {
        params.push((
            "modified_after",
            after.to_rfc3339_opts(SecondsFormat::Secs, true),
        ));
    }
    endpoint(root, "wp/v2/posts", &params)
}

/// State of one read: the request count and the name caches (never shared between reads).
struct Reader<'a> {
    fetcher: &'a Fetcher,
    root: &'a Url,
    /// The source's site: posts linking elsewhere are skipped.
    site: &'a Site,
    requests: u32,
    users: HashMap<u64, Option<String>>,
    terms: HashMap<(Taxonomy, u64), Option<String>>,
    /// The most posts a page of this read asks for: [`PER_PAGE`], or one of [`SMALLER_PAGES`]
    /// once a page was larger than `http.max_body_bytes`.
    page_cap: usize,
    /// The id of every item a page of this read held, read or not.
    met: HashSet<u64>,
}

impl<'a> Reader<'a> {
    fn new(fetcher: &'a Fetcher, root: &'a Url, site: &'a Site) -> Self {
        Reader {
            fetcher,
            root,
            site,
            requests: 0,
            users: HashMap::new(),
            terms: HashMap::new(),
            page_cap: PER_PAGE,
            met: HashSet::new(),
        }
    }

    /// GET `url` and parse its body as JSON.
    async fn json(&mut self, url: &Url) -> Result<Value, WpError> {
        Ok(self.json_paged(url).await?.0)
    }

    /// GET `url`, parse its body as JSON, and read `X-WP-TotalPages` when present.
    async fn json_paged(&mut self, url: &Url) -> Result<(Value, Option<u32>), WpError> {
        self.requests += 1;
        let fetched = self.fetcher.get(url).await.map_err(|error| match error {
            FetchError::Status(code @ (400 | 401 | 403 | 404 | 405 | 410 | 501)) => {
                WpError::Unavailable {
                    url: url.to_string(),
                    reason: format!("HTTP status {code}"),
                }
            }
            error => WpError::Fetch {
                url: url.to_string(),
                error,
            },
        })?;
        let total = fetched
            .header("x-wp-totalpages")
            .and_then(|v| v.trim().parse::<u32>().ok());
        let value = parse_json(url, fetched.content_type.as_deref(), &fetched.body)?;
        Ok((value, total))
    }

    async fn category_id(&mut self, slug: &str) -> Result<u64, WpError> {
        let url = endpoint(self.root, "wp/v2/categories", &[("slug", slug.to_string())]);
        let value = self.json(&url).await?;
        let Value::Array(items) = value else {
            return Err(malformed(&url, "expected a JSON array of categories"));
        };
        let ids: Vec<(u64, Option<&str>)> = items
            .iter()
            .filter_map(|c| {
                Some((
                    c.get("id")?.as_u64()?,
                    c.get("slug").and_then(Value::as_str),
                ))
            })
            .collect();
        ids.iter()
            .find(|(_, s)| s.is_some_and(|s| percent_decode(s).eq_ignore_ascii_case(slug)))
            .or_else(|| ids.first())
            .map(|(id, _)| *id)
            .ok_or_else(|| WpError::NoCategory {
                url: url.to_string(),
                slug: slug.to_string(),
            })
    }

    async fn posts(
        mut self,
        category: u64,
        incremental: Option<Incremental<'_>>,
        max_pages: Option<u32>,
        retry: &[u64],
    ) -> Result<WpResult, WpError> {
        let mut result = self
            .modified_pass(category, incremental.map(|i| i.modified_after), max_pages)
            .await?;
        if let Some(incremental) = incremental {
            self.published_pass(category, incremental, max_pages, &mut result)
                .await;
        }
        self.retry_pass(category, retry, &mut result).await;
        // A post both passes met is reported once.
        let mut said = HashSet::new();
        result.failures.retain(|f| said.insert(f.clone()));
        let mut failed = HashSet::new();
        result.failed_posts.retain(|f| failed.insert(f.id));
        result.requests = self.requests;
        Ok(result)
    }

    /// GET one page of posts: `Ok(None)` for a 400 past the first page (WordPress answers
    /// `400 rest_post_invalid_page_number` past the last page), else the page. Items that do
    /// not parse are in [`PostPage::failures`]; every item's id is [`Reader::met`].
    async fn post_page(&mut self, url: &Url, page: u32) -> Result<Option<PostPage>, WpError> {
        let (value, announced) = match self.json_paged(url).await {
            Ok(answer) => answer,
            Err(WpError::Unavailable { reason, .. }) if page > 1 && reason == "HTTP status 400" => {
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        let Value::Array(items) = value else {
            return Err(malformed(url, "expected a JSON array of posts"));
        };
        let count = items.len();
        let mut got = PostPage {
            posts: Vec::with_capacity(count),
            count,
            announced,
            failures: Vec::new(),
            failed_posts: Vec::new(),
        };
        for (i, item) in items.into_iter().enumerate() {
            let id = item.get("id").and_then(Value::as_u64);
            self.met.extend(id);
            let link = item.get("link").and_then(Value::as_str).map(str::to_owned);
            match serde_json::from_value::<WpPost>(item) {
                Ok(p) => got.posts.push(p),
                Err(e) => {
                    let reason = format!("unexpected post JSON: {e}");
                    let label = link
                        .clone()
                        .or_else(|| id.map(|id| format!("post {id}")))
                        .unwrap_or_else(|| format!("{url} (item {})", i + 1));
                    let own = link
                        .and_then(|l| Url::parse(l.trim()).ok())
                        .and_then(http_url)
                        .filter(|l| self.site.contains(l));
                    if let (Some(id), Some(link)) = (id, own) {
                        got.failed_posts.push(FailedPost {
                            id,
                            link,
                            reason: reason.clone(),
                        });
                    }
                    got.failures.push((label, reason));
                }
            }
        }
        Ok(Some(got))
    }

    /// Page `page` of the category's posts in `order`, [`Order::per_page`] posts a page. A page
    /// whose answer is larger than `http.max_body_bytes` is read again as several smaller
    /// pages holding the same posts ([`SMALLER_PAGES`] in turn), and so is every later page of
    /// this read; past the smallest, [`WpError::TooLarge`].
    async fn page(
        &mut self,
        category: u64,
        page: u32,
        order: Order,
    ) -> Result<Option<PostPage>, WpError> {
        loop {
            let size = order.per_page().min(self.page_cap);
            match self.page_in_parts(category, page, order, size).await {
                Err(WpError::Fetch {
                    url,
                    error: FetchError::TooLarge(limit),
                }) => match SMALLER_PAGES.into_iter().find(|s| *s < size) {
                    Some(smaller) => {
                        tracing::warn!(
                            "{url}: a page of {size} posts is larger than the {limit}-byte limit \
                             (http.max_body_bytes): reading {smaller} posts a page instead"
                        );
                        self.page_cap = smaller;
                    }
                    None => {
                        return Err(WpError::TooLarge {
                            url,
                            limit,
                            per_page: size,
                        });
                    }
                },
                other => return other,
            }
        }
    }

    /// Page `page` of [`Order::per_page`] posts read as pages of `size` posts (a divisor):
    /// those holding the same posts, until one is the last. `announced` is then counted in
    /// pages of [`Order::per_page`].
    async fn page_in_parts(
        &mut self,
        category: u64,
        page: u32,
        order: Order,
        size: usize,
    ) -> Result<Option<PostPage>, WpError> {
        let parts = u32::try_from(order.per_page() / size).unwrap_or(1).max(1);
        let first = (page - 1) * parts + 1;
        let mut whole: Option<PostPage> = None;
        for part in first..first + parts {
            let url = sized_posts_url(self.root, category, part, order, size);
            let Some(got) = self.post_page(&url, part).await? else {
                break;
            };
            let last = got.is_last(part, got.announced, size);
            let announced = got.announced.map(|total| total.div_ceil(parts));
            match &mut whole {
                None => whole = Some(got),
                Some(w) => {
                    w.posts.extend(got.posts);
                    w.count += got.count;
                    w.failures.extend(got.failures);
                    w.failed_posts.extend(got.failed_posts);
                }
            }
            if let Some(w) = &mut whole {
                w.announced = announced.or(w.announced);
            }
            if last {
                break;
            }
        }
        Ok(whole)
    }

    /// The posts modified after `modified_after`, oldest modification first (without it: all
    /// posts, newest modification first), page by page until the last page or `max_pages`. A
    /// page after the first that fails ends the pass, keeping the pages read (see
    /// [`WpResult::cut_by`]).
    async fn modified_pass(
        &mut self,
        category: u64,
        modified_after: Option<DateTime<Utc>>,
        max_pages: Option<u32>,
    ) -> Result<WpResult, WpError> {
        let mut posts = Vec::new();
        let mut failures = Vec::new();
        let mut failed_posts = Vec::new();
        let mut skipped = Vec::new();
        let mut pages = 0u32;
        let mut complete = false;
        let mut announced: Option<u32> = None;
        let mut last_modified = None;
        let mut cut_by = None;
        let mut seen: HashSet<u64> = HashSet::new();
        let mut unsettled = false;
        let order = Order::Modified(modified_after);
        loop {
            if max_pages.is_some_and(|max| pages >= max) {
                break;
            }
            pages += 1;
            let mut page = match self.page(category, pages, order).await {
                Ok(Some(page)) => page,
                Ok(None) => {
                    complete = true;
                    break;
                }
                // The first page failing is the API failing: the caller decides what next.
                Err(e) if pages == 1 => return Err(e),
                Err(e) => {
                    let url = e.url().map_or_else(
                        || posts_url(self.root, category, pages, order).to_string(),
                        str::to_owned,
                    );
                    let failure = (url, failure_reason(e));
                    failures.push(failure.clone());
                    cut_by = Some(failure);
                    break;
                }
            };
            failures.extend(std::mem::take(&mut page.failures));
            failed_posts.extend(std::mem::take(&mut page.failed_posts));
            announced = page.announced.or(announced);
            let last = page.is_last(pages, announced, PER_PAGE);
            if let Some(date) = page.posts.iter().rev().find_map(|p| {
                gmt_date(p.modified_gmt.as_deref())
                    .first()
                    .and_then(|d| DateTime::parse_from_rfc3339(&d.value).ok())
            }) {
                last_modified = Some(date.with_timezone(&Utc));
            }
            // A post met again was edited while the pass read the pages before: it moved, and
            // the others shifted a place, so one may have slid onto a page already read. It is
            // read once; the pass is unsettled (see `WpResult::unsettled`).
            let fresh: Vec<WpPost> = page
                .posts
                .into_iter()
                .filter(|p| {
                    let again = p.id.is_some_and(|id| !seen.insert(id));
                    unsettled |= again;
                    !again
                })
                .collect();
            self.fill_lookups(&fresh).await;
            for p in fresh {
                if let Some(off) = self.off_site(&p) {
                    skipped.push(off);
                    continue;
                }
                match self.map_post(p) {
                    Ok(pair) => posts.push(pair),
                    Err(f) => failures.push(f),
                }
            }
            if last {
                complete = true;
                break;
            }
        }
        Ok(WpResult {
            posts,
            total_pages: announced.unwrap_or(pages),
            requests: self.requests,
            complete,
            last_modified,
            cut_by,
            unsettled,
            failures,
            skipped,
            pass_failed: false,
            failed_posts,
            gone: Vec::new(),
        })
    }

    /// Add to `result` the category's newest posts by publication date that are neither `known`
    /// (stored) nor in `result` already: page by page until a page holds a stored post (when
    /// [`Incremental::stop_at_known`]), the last page or `max_pages`. A page that fails ends the
    /// pass with a failure in `result`.
    async fn published_pass(
        &mut self,
        category: u64,
        incremental: Incremental<'_>,
        max_pages: Option<u32>,
        result: &mut WpResult,
    ) {
        let known = incremental.known;
        let mut ids: HashSet<u64> = HashSet::new();
        let mut links: HashSet<String> = HashSet::new();
        for (url, raw) in &result.posts {
            ids.extend(raw.wp_post_id);
            links.insert(url.to_string());
        }
        let mut pages = 0u32;
        let mut announced: Option<u32> = None;
        loop {
            if max_pages.is_some_and(|max| pages >= max) {
                break;
            }
            pages += 1;
            let mut page = match self.page(category, pages, Order::Published).await {
                Ok(Some(page)) => page,
                Ok(None) => break,
                Err(e) => {
                    let url = e.url().map_or_else(
                        || posts_url(self.root, category, pages, Order::Published).to_string(),
                        str::to_owned,
                    );
                    result.failures.push((url, failure_reason(e)));
                    result.pass_failed = true;
                    break;
                }
            };
            result.failures.extend(std::mem::take(&mut page.failures));
            result
                .failed_posts
                .extend(std::mem::take(&mut page.failed_posts));
            announced = page.announced.or(announced);
            // A post stored before this run marks the end: every post published since (a
            // scheduled one too: it is dated when it is published) is newer, so on this page or
            // an earlier one.
            let reached_stored = incremental.stop_at_known
                && page
                    .posts
                    .iter()
                    .any(|p| self.own_link(p).is_some_and(|l| known(&l)));
            let last = reached_stored || page.is_last(pages, announced, PUBLISHED_PER_PAGE);
            let fresh: Vec<WpPost> = page
                .posts
                .into_iter()
                .filter(|p| {
                    let returned = p.id.is_some_and(|id| ids.contains(&id));
                    let seen = link_of(p).is_some_and(|l| links.contains(l.as_str()) || known(&l));
                    !returned && !seen
                })
                .collect();
            self.fill_lookups(&fresh).await;
            for p in fresh {
                if let Some(off) = self.off_site(&p) {
                    if !result.skipped.contains(&off) {
                        result.skipped.push(off);
                    }
                    continue;
                }
                match self.map_post(p) {
                    Ok((url, raw)) => {
                        ids.extend(raw.wp_post_id);
                        links.insert(url.to_string());
                        result.posts.push((url, raw));
                    }
                    Err(f) => result.failures.push(f),
                }
            }
            if last {
                break;
            }
        }
    }

    /// Ask for the posts with the ids in `retry` that no page of this read held, by id (see
    /// [`read_retrying`]), and add them to `result`; those the API does not return go to
    /// [`WpResult::gone`], as do those whose `link` is on another site now.
    async fn retry_pass(&mut self, category: u64, retry: &[u64], result: &mut WpResult) {
        let mut wanted: Vec<u64> = retry
            .iter()
            .copied()
            .filter(|id| !self.met.contains(id))
            .collect();
        wanted.sort_unstable();
        wanted.dedup();
        // An answer larger than `http.max_body_bytes` is asked for again in smaller parts
        // (SMALLER_PAGES, then one post a request), and so is every later part: a post too
        // large alone stays pending, failing, without holding the others back.
        let mut cap = self.page_cap;
        let mut queue: std::collections::VecDeque<Vec<u64>> =
            wanted.chunks(cap).map(<[u64]>::to_vec).collect();
        while let Some(mut chunk) = queue.pop_front() {
            if chunk.len() > cap {
                for part in chunk.split_off(cap).chunks(cap).rev() {
                    queue.push_front(part.to_vec());
                }
            }
            let include = chunk
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(",");
            let url = endpoint(
                self.root,
                "wp/v2/posts",
                &[
                    ("categories", category.to_string()),
                    ("include", include),
                    ("per_page", PER_PAGE.to_string()),
                    ("_embed", "1".to_string()),
                ],
            );
            let page = match self.post_page(&url, 1).await {
                Ok(Some(page)) => page,
                // Asked again next time: they stay pending.
                Ok(None) => continue,
                Err(WpError::Fetch {
                    url,
                    error: FetchError::TooLarge(limit),
                }) if chunk.len() > 1 => {
                    let smaller = SMALLER_PAGES
                        .into_iter()
                        .find(|s| *s < chunk.len())
                        .unwrap_or(1);
                    tracing::warn!(
                        "{url}: {} posts asked for again are larger than the {limit}-byte limit \
                         (http.max_body_bytes): asking for {smaller} a request instead",
                        chunk.len()
                    );
                    cap = smaller;
                    queue.push_front(chunk);
                    continue;
                }
                Err(WpError::Fetch {
                    error: FetchError::TooLarge(limit),
                    ..
                }) => {
                    // It stays pending, failing once more, under the shortlink it is pending
                    // under (on the site's origin, as the API root is).
                    let reason = format!(
                        "this post alone is larger than the {limit}-byte limit \
                         (http.max_body_bytes); raise it to read it through the REST API"
                    );
                    let link = shortlink(self.root, chunk[0]);
                    result.failures.push((link.to_string(), reason.clone()));
                    result.failed_posts.push(FailedPost {
                        id: chunk[0],
                        link,
                        reason,
                    });
                    continue;
                }
                Err(e) => {
                    result.failures.push((url.to_string(), failure_reason(e)));
                    continue;
                }
            };
            // An item that could not be read at all may be one of those asked for: none of
            // them is taken for gone on this answer (they stay pending).
            let unreadable = !page.failures.is_empty();
            result.failures.extend(page.failures);
            result.failed_posts.extend(page.failed_posts);
            self.fill_lookups(&page.posts).await;
            for p in page.posts {
                if let Some(off) = self.off_site(&p) {
                    result.gone.extend(p.id);
                    result.skipped.push(off);
                    continue;
                }
                match self.map_post(p) {
                    Ok(pair) => result.posts.push(pair),
                    Err(f) => result.failures.push(f),
                }
            }
            if !unreadable {
                result
                    .gone
                    .extend(chunk.iter().filter(|id| !self.met.contains(id)));
            }
        }
    }

    /// Fetch the names `_embed` did not provide, one request per author and one per taxonomy
    /// for the whole page; failures only leave the names out.
    async fn fill_lookups(&mut self, posts: &[WpPost]) {
        let mut users: Vec<u64> = Vec::new();
        let mut terms: HashMap<Taxonomy, Vec<u64>> = HashMap::new();
        for p in posts {
            let embedded = p.embedded.as_ref();
            if embedded.and_then(embedded_authors).is_none()
                && let Some(id) = p.author.filter(|id| *id != 0)
                && !self.users.contains_key(&id)
                && !users.contains(&id)
            {
                users.push(id);
            }
            if embedded.and_then(|e| e.terms.as_ref()).is_none() {
                for (tax, ids) in [
                    (Taxonomy::Category, &p.categories),
                    (Taxonomy::Tag, &p.tags),
                ] {
                    let wanted = terms.entry(tax).or_default();
                    for id in ids {
                        if !self.terms.contains_key(&(tax, *id)) && !wanted.contains(id) {
                            wanted.push(*id);
                        }
                    }
                }
            }
        }
        for id in users {
            let url = endpoint(self.root, &format!("wp/v2/users/{id}"), &[]);
            let name = match self.json(&url).await {
                Ok(v) => v.get("name").and_then(Value::as_str).map(text_of),
                // A site that hides its users (a common hardening) does so on every run: not
                // news. Any other failure is.
                Err(e @ WpError::Unavailable { .. }) => {
                    tracing::debug!("author {id}: name not read, left out: {e}");
                    None
                }
                Err(e) => {
                    tracing::warn!("author {id}: name not read, left out: {e}");
                    None
                }
            };
            self.users.insert(id, name.filter(|n| !n.is_empty()));
        }
        for tax in [Taxonomy::Category, Taxonomy::Tag] {
            let Some(ids) = terms.remove(&tax).filter(|ids| !ids.is_empty()) else {
                continue;
            };
            for chunk in ids.chunks(PER_PAGE) {
                let include = chunk
                    .iter()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(",");
                let url = endpoint(
                    self.root,
                    tax.route(),
                    &[("include", include), ("per_page", PER_PAGE.to_string())],
                );
                match self.json(&url).await {
                    Ok(Value::Array(items)) => {
                        for t in items {
                            if let (Some(id), Some(name)) = (
                                t.get("id").and_then(Value::as_u64),
                                t.get("name").and_then(Value::as_str),
                            ) {
                                let name = Some(text_of(name)).filter(|n| !n.is_empty());
                                self.terms.insert((tax, id), name);
                            }
                        }
                    }
                    Ok(_) => tracing::warn!("{url}: expected a JSON array of terms"),
                    Err(e @ WpError::Unavailable { .. }) => {
                        tracing::debug!("term names not read, left out: {e}");
                    }
                    Err(e) => tracing::warn!("term names not read, left out: {e}"),
                }
                for id in chunk {
                    self.terms.entry((tax, *id)).or_insert(None);
                }
            }
        }
    }

    /// A post's `link` when it is on the source's site.
    fn own_link(&self, p: &WpPost) -> Option<Url> {
        link_of(p).filter(|l| self.site.contains(l))
    }

    /// The `skipped` line of a post whose `link` is on another site, if it is.
    fn off_site(&self, p: &WpPost) -> Option<(String, String)> {
        let link = link_of(p)?;
        (!self.site.contains(&link)).then(|| {
            (
                link.to_string(),
                format!(
                    "post {} links to another site: not read (the API of {} speaks only for \
                     its own site's posts)",
                    p.id.map_or_else(|| "without id".to_owned(), |id| id.to_string()),
                    super::http::origin(self.root)
                ),
            )
        })
    }

    fn map_post(&self, p: WpPost) -> Result<(Url, RawPost), (String, String)> {
        let label = p
            .link
            .clone()
            .or_else(|| p.id.map(|id| format!("post {id}")))
            .unwrap_or_else(|| "post without id".into());
        let link = link_of(&p)
            .ok_or_else(|| (label.clone(), "post has no absolute http(s) `link`".into()))?;
        let embedded = p.embedded.as_ref();

        let authors = match embedded.and_then(embedded_authors) {
            Some(names) => names,
            None => p
                .author
                .and_then(|id| self.users.get(&id).cloned().flatten())
                .into_iter()
                .collect(),
        };
        let categories = match embedded.and_then(|e| e.terms.as_ref()) {
            Some(groups) => {
                let mut cats = Vec::new();
                let mut tags = Vec::new();
                for term in groups.iter().flatten() {
                    let Some(name) = term.get("name").and_then(Value::as_str) else {
                        continue;
                    };
                    match term.get("taxonomy").and_then(Value::as_str) {
                        Some("category") => cats.push(text_of(name)),
                        Some("post_tag") => tags.push(text_of(name)),
                        _ => {}
                    }
                }
                cats.extend(tags);
                cats
            }
            None => [
                (Taxonomy::Category, &p.categories),
                (Taxonomy::Tag, &p.tags),
            ]
            .into_iter()
            .flat_map(|(tax, ids)| {
                ids.iter()
                    .filter_map(move |id| self.terms.get(&(tax, *id)).cloned().flatten())
            })
            .collect(),
        };

        let non_empty = |s: Option<String>| s.filter(|s| !s.trim().is_empty());
        let raw = RawPost {
            canonical: Some(link.clone()),
            wp_post_id: p.id,
            base_href: None,
            title: non_empty(p.title.rendered.as_deref().map(text_of)),
            published: gmt_date(p.date_gmt.as_deref()),
            modified: gmt_date(p.modified_gmt.as_deref()),
            authors: dedup(authors),
            categories: dedup(categories),
            body_html: non_empty(p.content.rendered),
            summary: non_empty(p.excerpt.rendered),
            related: Vec::new(),
            enclosures: Vec::new(),
        };
        Ok((link, raw))
    }
}

/// A post's `link`, when it is an absolute http(s) URL.
fn link_of(p: &WpPost) -> Option<Url> {
    p.link
        .as_deref()
        .and_then(|l| Url::parse(l.trim()).ok())
        .and_then(http_url)
}

/// The reason to report for a page that failed, without repeating its URL.
fn failure_reason(e: WpError) -> String {
    match e {
        WpError::Unavailable { reason, .. } => reason,
        WpError::Malformed { message, .. } => format!("malformed JSON: {message}"),
        WpError::Fetch { error, .. } => error.to_string(),
        WpError::TooLarge {
            limit, per_page, ..
        } => too_large(per_page, limit),
        other => other.to_string(),
    }
}

/// The text of a title or name the API gives as HTML, or nothing when its markup would cost
/// the parser minutes (see [`super::html_text`]): then it is left out, as an empty one is.
fn text_of(html: &str) -> String {
    super::html_text(html).unwrap_or_default()
}

/// Author names from `_embedded.author`, or `None` when they are missing (not embedded, or
/// embedded as error objects because the users endpoint is closed).
fn embedded_authors(e: &Embedded) -> Option<Vec<String>> {
    let names: Vec<String> = e
        .author
        .as_ref()?
        .iter()
        .filter_map(|a| a.get("name").and_then(Value::as_str))
        .map(text_of)
        .filter(|n| !n.is_empty())
        .collect();
    (!names.is_empty()).then_some(names)
}

/// `date_gmt` / `modified_gmt` carry no zone but are UTC: append `Z`. The provenance is
/// [`DateSource::Feed`]: the API is a feed of the site's own data, as trustworthy as its
/// RSS `pubDate` and no more.
fn gmt_date(value: Option<&str>) -> Vec<RawDate> {
    value
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(|v| {
            let has_zone = v.ends_with('Z')
                || v.ends_with('z')
                || v.get(10..)
                    .is_some_and(|t| t.contains('+') || t.contains('-'));
            RawDate {
                value: if has_zone {
                    v.to_string()
                } else {
                    format!("{v}Z")
                },
                source: DateSource::Feed,
            }
        })
        .into_iter()
        .collect()
}

fn dedup(names: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(names.len());
    for n in names {
        if !n.is_empty() && !out.iter().any(|o| o.eq_ignore_ascii_case(&n)) {
            out.push(n);
        }
    }
    out
}

fn malformed(url: &Url, message: &str) -> WpError {
    WpError::Malformed {
        url: url.to_string(),
        message: message.to_string(),
    }
}

/// Parse an API body as JSON. An HTML body (by content type or first character) means the URL
/// is not an API endpoint at all: [`WpError::Unavailable`]. A UTF-8 BOM and leading whitespace
/// (left by some plugins) are tolerated.
fn parse_json(url: &Url, content_type: Option<&str>, body: &[u8]) -> Result<Value, WpError> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let start = body
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(body.len());
    let body = &body[start..];
    let html_type = content_type.is_some_and(|ct| ct.to_ascii_lowercase().contains("html"));
    if html_type || body.first() == Some(&b'<') {
        return Err(WpError::Unavailable {
            url: url.to_string(),
            reason: format!(
                "answered with an HTML page (content type {}), not JSON",
                content_type.unwrap_or("none")
            ),
        });
    }
    serde_json::from_slice(body).map_err(|e| malformed(url, &e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).expect("test URL")
    }

    #[test]
    fn endpoint_pretty_and_plain_roots() {
        let p = [("slug", "a b".to_string())];
        assert_eq!(
            endpoint(&url("https://ex.org/wp-json/"), "wp/v2/categories", &p).as_str(),
            "https://ex.org/wp-json/wp/v2/categories?slug=a+b"
        );
        assert_eq!(
            endpoint(&url("https://ex.org/blog/wp-json"), "/wp/v2/users/3", &[]).as_str(),
            "https://ex.org/blog/wp-json/wp/v2/users/3"
        );
        assert_eq!(
            endpoint(&url("https://ex.org/?rest_route=/"), "wp/v2/categories", &p).as_str(),
            "https://ex.org/?rest_route=%2Fwp%2Fv2%2Fcategories&slug=a+b"
        );
        assert_eq!(
            endpoint(
                &url("https://ex.org/index.php?rest_route="),
                "wp/v2/posts",
                &[]
            )
            .as_str(),
            "https://ex.org/index.php?rest_route=%2Fwp%2Fv2%2Fposts"
        );
    }

    #[test]
    fn category_from_listing_urls() {
        let slug = |s: &str| Some(CategoryRef::Slug(s.to_string()));
        assert_eq!(
            category_of(&url(
                "https://ex.org/category/daily/international-negotiation-daily/"
            )),
            slug("international-negotiation-daily")
        );
        assert_eq!(
            category_of(&url("https://ex.org/category/news/page/3/")),
            slug("news")
        );
        assert_eq!(
            category_of(&url("https://ex.org/category/news/feed/")),
            slug("news")
        );
        assert_eq!(
            category_of(&url("https://ex.org/category/caf%C3%A9")),
            slug("café")
        );
        assert_eq!(
            category_of(&url("https://ex.org/?cat=12")),
            Some(CategoryRef::Id(12))
        );
        assert_eq!(
            category_of(&url("https://ex.org/?category_name=daily/news")),
            slug("news")
        );
        assert_eq!(category_of(&url("https://ex.org/")), None);
    }

    #[test]
    fn link_header_forms() {
        let base = url("https://ex.org/post/");
        assert_eq!(
            api_root_from_link_header(
                r#"<https://ex.org/wp-json/>; rel="https://api.w.org/""#,
                &base
            ),
            Some(url("https://ex.org/wp-json/"))
        );
        assert_eq!(
            api_root_from_link_header(
                r#"<https://ex.org/?p=5>; rel=shortlink, </wp-json/>; rel="https://api.w.org/""#,
                &base
            ),
            Some(url("https://ex.org/wp-json/"))
        );
        assert_eq!(
            api_root_from_link_header(
                r#"<https://ex.org/wp-json/wp/v2/posts/5>; rel="alternate"; type="application/json""#,
                &base
            ),
            None
        );
        assert_eq!(api_root_from_link_header("garbage <", &base), None);
    }

    #[test]
    fn gmt_dates_get_a_zone_once() {
        let v = |s: &str| gmt_date(Some(s)).pop().map(|d| d.value);
        assert_eq!(
            v("2024-03-04T10:00:00").as_deref(),
            Some("2024-03-04T10:00:00Z")
        );
        assert_eq!(
            v("2024-03-04T10:00:00Z").as_deref(),
            Some("2024-03-04T10:00:00Z")
        );
        assert_eq!(
            v("2024-03-04T10:00:00+02:00").as_deref(),
            Some("2024-03-04T10:00:00+02:00")
        );
        assert!(gmt_date(Some("")).is_empty());
        assert!(gmt_date(None).is_empty());
    }

    #[test]
    fn html_and_broken_bodies() {
        let u = url("https://ex.org/wp-json/wp/v2/posts");
        assert!(matches!(
            parse_json(&u, Some("text/html; charset=UTF-8"), b"{}"),
            Err(WpError::Unavailable { .. })
        ));
        assert!(matches!(
            parse_json(&u, None, b"  <!DOCTYPE html><html></html>"),
            Err(WpError::Unavailable { .. })
        ));
        assert!(matches!(
            parse_json(&u, Some("application/json"), b"[{\"id\": 1,"),
            Err(WpError::Malformed { .. })
        ));
        assert_eq!(
            parse_json(&u, Some("application/json"), b"\xEF\xBB\xBF\n[1]").ok(),
            Some(serde_json::json!([1]))
        );
    }

    #[test]
    fn text_of_strips_tags_and_entities() {
        assert_eq!(
            text_of("Talks &#8220;resume&#8221; <em>at  last</em> &amp; more"),
            "Talks \u{201c}resume\u{201d} at last & more"
        );
        // Markup too costly to parse is not parsed: no text, as for an empty name.
        assert_eq!(text_of(&format!("{}x", "<div>".repeat(5_000))), "");
    }
}
