//! Extraction: `RawPage -> RawPost` and `RawPage -> Listing`.
//!
//! Owns: reading fields out of untrusted HTML by a cascade (selector override → JSON-LD →
//! OpenGraph/`article:*` meta → WordPress theme markup, classic and block themes → readability
//! fallback for the body only), listing-page link discovery (with each card's modified date,
//! raw), related-post blocks, and telling login / challenge pages apart from posts.
//! Must not: do I/O, read the clock, parse dates, sanitize HTML or resolve final canonical
//! identity (that is `normalize`), or touch configuration other than the selector overrides it is
//! handed.
//!
//! A page is first looked at by [`crate::html_limits::check`] and refused unparsed
//! ([`ExtractError::TooCostly`]) when html5ever would spend minutes on it.
//! Each document is parsed once and walked once to list its elements (all, and some by tag), so
//! that selector passes read a list instead of walking the tree; the chrome test is remembered
//! per element. Built-in CSS selectors are compiled once per process.
//! `scraper::Html` is `!Send`, so everything here is synchronous and returns owned data.

/// A built-in CSS selector, compiled once on first use.
macro_rules! sel {
    ($css:literal) => {{
        static SEL: std::sync::LazyLock<scraper::Selector> = std::sync::LazyLock::new(|| {
            scraper::Selector::parse($css).expect("built-in selector is valid CSS")
        });
        &*SEL
    }};
}

mod dom;
mod jsonld;
mod listing;
mod post;
mod related;

use std::collections::HashMap;

use scraper::{ElementRef, Html, Selector};
use url::Url;

use crate::config::Selectors;
use crate::model::{Listing, RawPage, RawPost};

/// Why a page yielded no post.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ExtractError {
    /// The response declared a content type that is neither HTML nor XHTML.
    #[error("not an HTML page (content type {0})")]
    NotHtml(String),
    /// A login form, bot challenge or "access denied" page answered with 200.
    #[error("looks like a login or challenge page ({0}), not a post")]
    NotAPost(String),
    /// Neither a title nor a body could be found.
    #[error("no post content found")]
    NoContent,
    /// The markup would cost html5ever minutes to parse; refused unparsed
    /// ([`crate::html_limits`]).
    #[error("page refused unparsed: {0}")]
    TooCostly(#[from] crate::html_limits::Exceeded),
}

/// Extract one post page: canonical URL, ids, title, date candidates, authors, categories, body,
/// summary and related links. Every field is raw; `normalize` parses and sanitizes.
///
/// # Errors
///
/// [`ExtractError::NotHtml`] for a non-HTML content type, [`ExtractError::TooCostly`] for markup
/// beyond [`crate::html_limits`], [`ExtractError::NotAPost`] for login, challenge and "access
/// denied" pages, [`ExtractError::NoContent`] when there is neither a title nor a body.
pub fn extract_post(page: &RawPage, sel: &Selectors) -> Result<RawPost, ExtractError> {
    check_content_type(page)?;
    crate::html_limits::check(&page.body)?;
    let doc = Html::parse_document(&page.body);
    let ctx = PageCtx::new(&doc, page);
    post::extract(&ctx, sel)
}

/// Extract the post links (absolute, deduplicated, page order), the modified date each post's
/// card shows (raw) and the next listing page of one listing page. A single post's `rel=next`
/// (the adjacent post) is never reported as `next`. Pages that are not HTML yield an empty
/// listing.
///
/// # Errors
///
/// [`ExtractError::TooCostly`] for markup beyond [`crate::html_limits`].
pub fn extract_listing(page: &RawPage, sel: &Selectors) -> Result<Listing, ExtractError> {
    if check_content_type(page).is_err() {
        return Ok(Listing::default());
    }
    crate::html_limits::check(&page.body)?;
    let doc = Html::parse_document(&page.body);
    let ctx = PageCtx::new(&doc, page);
    Ok(listing::extract(&ctx, sel))
}

/// Is the page HTML (or of no declared type)? [`ExtractError::NotHtml`] when it is not.
pub(crate) fn check_content_type(page: &RawPage) -> Result<(), ExtractError> {
    let Some(ct) = page.content_type.as_deref() else {
        return Ok(());
    };
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if essence.is_empty() || essence == "text/html" || essence == "application/xhtml+xml" {
        Ok(())
    } else {
        Err(ExtractError::NotHtml(ct.to_string()))
    }
}

/// One parsed page and what every extractor needs to know about it.
pub(crate) struct PageCtx<'a> {
    /// The page source, for the readability fallback (which parses on its own).
    pub html: &'a str,
    /// The URL the body came from.
    pub url: &'a Url,
    /// `<base href>` resolved against the page URL.
    pub base_href: Option<Url>,
    /// The document base URL: `base_href`, else the page URL.
    pub base: Url,
    /// `<meta>` contents by lower-cased `property` / `name` / `itemprop`.
    pub meta: MetaIndex,
    /// The chrome test, remembered per element.
    pub chrome: dom::Chrome<'a>,
    /// Every element `Html::select` visits, in its order, and some of them by tag name (see
    /// [`PageCtx::select`]).
    pub elements: Elements<'a>,
}

/// The elements `Html::select` visits (the arena in order, detached nodes left out), all of
/// them and by tag name, each list in that order.
#[derive(Default)]
pub(crate) struct Elements<'a> {
    pub all: Vec<ElementRef<'a>>,
    /// The elements without a parent, which `select` never yields (but which can be the
    /// ancestors of elements it does yield).
    pub detached: Vec<ElementRef<'a>>,
    pub a: Vec<ElementRef<'a>>,
    pub article: Vec<ElementRef<'a>>,
    pub base: Vec<ElementRef<'a>>,
    pub body: Vec<ElementRef<'a>>,
    /// `<h1>` … `<h6>`.
    pub headings: Vec<ElementRef<'a>>,
    pub link: Vec<ElementRef<'a>>,
    pub meta: Vec<ElementRef<'a>>,
    pub script: Vec<ElementRef<'a>>,
    pub title: Vec<ElementRef<'a>>,
}

impl<'a> Elements<'a> {
    /// Does any element of the document (attached or not) carry the class `class`?
    pub fn any_has_class(&self, class: &str) -> bool {
        self.all
            .iter()
            .chain(&self.detached)
            .any(|e| e.value().classes().any(|c| c == class))
    }

    /// One walk over the document instead of one `select` pass per element kind.
    fn new(doc: &'a Html) -> Elements<'a> {
        let mut el = Elements::default();
        for node in doc.tree.nodes() {
            // What `Html::select` skips: non-elements and detached nodes.
            let Some(e) = ElementRef::wrap(node) else {
                continue;
            };
            if node.parent().is_none() {
                el.detached.push(e);
                continue;
            }
            el.all.push(e);
            let list = match e.value().name() {
                "a" => &mut el.a,
                "article" => &mut el.article,
                "base" => &mut el.base,
                "body" => &mut el.body,
                "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => &mut el.headings,
                "link" => &mut el.link,
                "meta" => &mut el.meta,
                "script" => &mut el.script,
                "title" => &mut el.title,
                _ => continue,
            };
            list.push(e);
        }
        el
    }
}

impl<'a> PageCtx<'a> {
    fn new(doc: &'a Html, page: &'a RawPage) -> PageCtx<'a> {
        let elements = Elements::new(doc);
        let base_href = PageCtx::select_in(&elements.base, sel!("base[href]"))
            .next()
            .and_then(|b| b.value().attr("href"))
            .and_then(|h| dom::resolve(&page.url, h));
        let base = base_href.clone().unwrap_or_else(|| page.url.clone());
        let chrome = dom::Chrome::default();
        let meta = MetaIndex::new(
            PageCtx::select_in(&elements.meta, sel!("meta[content]")),
            &chrome,
        );
        PageCtx {
            html: &page.body,
            url: &page.url,
            base_href,
            base,
            meta,
            chrome,
            elements,
        }
    }

    /// `doc.select(s)`, read from the element list `among`: `elements.all`, or the list of the
    /// tag that `s`'s rightmost compound selector names in every one of its alternatives (only
    /// those elements can match). Same elements, same order.
    pub fn select<'s>(
        &self,
        among: &'s [ElementRef<'a>],
        s: &'s Selector,
    ) -> impl Iterator<Item = ElementRef<'a>> + use<'a, 's> {
        PageCtx::select_in(among, s)
    }

    fn select_in<'s>(
        among: &'s [ElementRef<'a>],
        s: &'s Selector,
    ) -> impl Iterator<Item = ElementRef<'a>> + use<'a, 's> {
        among.iter().copied().filter(move |e| s.matches(e))
    }

    /// Resolve a link of this document against its base URL (http(s) only).
    pub fn resolve(&self, href: &str) -> Option<Url> {
        dom::resolve(&self.base, href)
    }

    /// Does `<body>` carry this class?
    pub fn body_has_class(&self, class: &str) -> bool {
        self.elements
            .body
            .first()
            .is_some_and(|b| b.value().classes().any(|c| c == class))
    }

    /// Text of the document's `<title>` (the one in `<head>` when there is one).
    pub fn title_tag(&self) -> Option<String> {
        self.select(&self.elements.title, sel!("head > title"))
            .next()
            .or_else(|| self.elements.title.first().copied())
            .map(dom::text_of)
            .filter(|t| !t.is_empty())
    }
}

/// `<meta>` contents indexed by lower-cased `property`, `name` and `itemprop`, in page order.
pub(crate) struct MetaIndex {
    map: HashMap<String, Vec<String>>,
}

impl MetaIndex {
    /// `metas`: the document's `meta[content]` elements in `select` order.
    fn new<'e>(metas: impl Iterator<Item = ElementRef<'e>>, chrome: &dom::Chrome<'e>) -> MetaIndex {
        let mut map: HashMap<String, Vec<String>> = HashMap::new();
        for m in metas {
            let e = m.value();
            let content = e.attr("content").unwrap_or("").trim();
            if content.is_empty() {
                continue;
            }
            // Microdata inside comments or other posts' blocks is not about this post.
            let keys = [e.attr("property"), e.attr("name")];
            let itemprop = e
                .attr("itemprop")
                .filter(|_| !chrome.in_chrome(m, None, dom::Ctx::Post));
            for key in keys.into_iter().chain([itemprop]).flatten() {
                map.entry(key.trim().to_ascii_lowercase())
                    .or_default()
                    .push(content.to_string());
            }
        }
        MetaIndex { map }
    }

    /// Every content for `key` (lower case), in page order.
    pub fn all(&self, key: &str) -> &[String] {
        self.map.get(key).map_or(&[], Vec::as_slice)
    }

    /// The first content for `key` (lower case).
    pub fn first(&self, key: &str) -> Option<&str> {
        self.all(key).first().map(String::as_str)
    }
}

/// Compile a user-supplied selector override; an invalid one (config validation should have
/// caught it) is ignored.
pub(crate) fn user_selector(css: Option<&String>) -> Option<Selector> {
    css.and_then(|c| Selector::parse(c).ok())
}

/// Every saved HTML page under `tests/fixtures/` (real-page corpora included), for tests that
/// check a property on all of them.
#[cfg(test)]
pub(crate) fn fixture_pages() -> Vec<String> {
    let mut pages = Vec::new();
    let mut dirs = vec![std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures"
    ))];
    while let Some(d) = dirs.pop() {
        for entry in std::fs::read_dir(&d).expect("fixture dir") {
            let path = entry.expect("fixture entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "html") {
                pages.push(std::fs::read_to_string(&path).expect("fixture page"));
            }
        }
    }
    pages
}
