//! DOM helpers shared by the extractors: text clean-up, "page chrome" detection (navigation,
//! sidebars, widgets, comments …), URL resolution and a filtered inner-HTML serializer.
//!
//! Everything here reads a parsed document; nothing allocates a second DOM.

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::LazyLock;

use scraper::{ElementRef, Node};
use url::Url;

/// Collapse every run of Unicode whitespace to one space and trim the ends.
pub(crate) use crate::normalize::collapse_whitespace as collapse;

/// Decode HTML entities left in an already-parsed string (double-encoded `<meta>` content, JSON-LD
/// written by WordPress), then collapse whitespace.
pub(crate) fn clean_text(s: &str) -> String {
    if s.contains('&') {
        collapse(&html_escape::decode_html_entities(s))
    } else {
        collapse(s)
    }
}

/// The visible text of an element, cleaned with [`clean_text`].
pub(crate) fn text_of(el: ElementRef<'_>) -> String {
    let mut raw = String::new();
    for t in el.text() {
        raw.push_str(t);
        raw.push(' ');
    }
    // The parser has already decoded entities once; only collapse.
    collapse(&raw)
}

/// `s` in ASCII lower case, copied only when it has an upper-case letter.
pub(crate) fn ascii_lower(s: &str) -> std::borrow::Cow<'_, str> {
    if s.bytes().any(|b| b.is_ascii_uppercase()) {
        s.to_ascii_lowercase().into()
    } else {
        s.into()
    }
}

/// Resolve `href` against `base`, keeping only http(s) results.
pub(crate) fn resolve(base: &Url, href: &str) -> Option<Url> {
    let href = href.trim();
    if href.is_empty() {
        return None;
    }
    let url = base.join(href).ok()?;
    matches!(url.scheme(), "http" | "https").then_some(url)
}

/// `url` without its fragment.
pub(crate) fn without_fragment(mut url: Url) -> Url {
    url.set_fragment(None);
    url
}

/// What the surrounding chrome test is for: a single post, or a listing page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ctx {
    /// Reading one post: other posts' blocks (query loops, related posts) are chrome too.
    Post,
    /// Reading a listing: the archive header and its intro text are chrome too.
    Listing,
}

/// Class or id tokens carrying these prefixes describe a layout, not a region (`has-sidebar`).
const LAYOUT_PREFIXES: [&str; 4] = ["has-", "no-", "with-", "without-"];

/// Prefixes of the tokens WordPress' `post_class()` / `body_class()` derive from a post's
/// taxonomy, type, format or status (`category-power-sharing`, `tag-market-share-talks`,
/// `type-post`, `status-publish`, `format-standard`, `postid-12`, `author-jane`). They name what
/// the post is about, never a page region.
const POST_CLASS_PREFIXES: [&str; 7] = [
    "category-",
    "tag-",
    "type-",
    "format-",
    "status-",
    "postid-",
    "author-",
];

/// `post-…` tokens that do name a region (everything else, `post-12`,
/// `post-password-required`, is `post_class()` output).
const POST_REGION_TOKENS: [&str; 4] = [
    "post-navigation",
    "post-comments",
    "post-nav-links",
    "post-sharing",
];

/// Is `t` (lower case) a taxonomy / post class from `post_class()` rather than a region name?
pub(crate) fn is_post_class_token(t: &str) -> bool {
    POST_CLASS_PREFIXES.iter().any(|p| t.starts_with(p))
        || (t.starts_with("post-") && !POST_REGION_TOKENS.contains(&t))
}

/// Chrome words of a class or id, in every context. Each entry is a run of whole
/// hyphen/underscore-separated parts (`site-header` matches `site-header-inner`, never
/// `website-headers`); a one-part word also matches its plural and a numbered form
/// (`widgets`, `sidebar1`).
const CHROME_ALWAYS: [&str; 12] = [
    "sidebar",
    "widget",
    "masthead",
    "colophon",
    "breadcrumb",
    "site-header",
    "site-footer",
    "sharedaddy",
    "sharing",
    "share",
    "addtoany",
    "navigation",
];

/// Chrome words (see [`CHROME_ALWAYS`]) of another post's block when reading a single post.
const CHROME_POST: [&str; 10] = [
    "related",
    "relatedposts",
    "yarpp",
    "crp",
    "wp-block-query",
    "wp-block-post-template",
    "wp-block-latest-posts",
    "post-navigation",
    "nav-links",
    "more-posts",
];

/// Chrome words (see [`CHROME_ALWAYS`]) of the archive header (title, category description) of
/// a listing.
const CHROME_LISTING: [&str; 8] = [
    "page-header",
    "archive-header",
    "archive-description",
    "taxonomy-description",
    "term-description",
    "wp-block-query-title",
    "related",
    "relatedposts",
];

/// A comments region (`comments`, `comment-list`, `post-comments`, `disqus_thread`), not a
/// post that merely has comments (`commented`, `comments-open`) nor a taxonomy class
/// (`tag-comments`, `category-public-comment`).
pub(crate) fn is_comment_token(t: &str) -> bool {
    if is_post_class_token(t) {
        return false;
    }
    t == "comment"
        || t == "comments"
        || t == "respond"
        || (t.starts_with("comment-") || t.starts_with("comments-") || t.starts_with("comment_"))
            && !t.ends_with("-open")
            && !t.ends_with("-closed")
        || t.ends_with("-comments")
        || t.ends_with("-comment")
        || t.contains("commentlist")
        || t.contains("disqus")
}

/// Does one part of a token stand for the one-part chrome `word` (`widget`, `widgets`,
/// `sidebar1`)?
fn part_is_word(part: &str, word: &str) -> bool {
    part.strip_prefix(word).is_some_and(|rest| {
        rest.is_empty() || rest == "s" || rest.bytes().all(|b| b.is_ascii_digit())
    })
}

/// The chrome words of `ctx` ([`CHROME_ALWAYS`] and the context's list), each split into its
/// hyphen/underscore-separated parts once per process.
fn chrome_words(ctx: Ctx) -> &'static [Vec<&'static str>] {
    fn split(words: &[&'static str]) -> Vec<Vec<&'static str>> {
        CHROME_ALWAYS
            .iter()
            .chain(words)
            .map(|w| w.split(['-', '_']).collect())
            .collect()
    }
    static POST: LazyLock<Vec<Vec<&str>>> = LazyLock::new(|| split(&CHROME_POST));
    static LISTING: LazyLock<Vec<Vec<&str>>> = LazyLock::new(|| split(&CHROME_LISTING));
    match ctx {
        Ctx::Post => &POST,
        Ctx::Listing => &LISTING,
    }
}

/// Does the hyphen/underscore-separated token `parts` contain a chrome word's `wanted` parts as
/// a contiguous run?
fn has_word(parts: &[&str], wanted: &[&str]) -> bool {
    match wanted {
        [word] => parts.iter().any(|p| part_is_word(p, word)),
        _ => parts.windows(wanted.len()).any(|w| w == wanted),
    }
}

fn token_is_chrome(token: &str, ctx: Ctx) -> bool {
    let t = ascii_lower(token);
    let t = t.as_ref();
    if LAYOUT_PREFIXES.iter().any(|p| t.starts_with(p)) || is_post_class_token(t) {
        return false;
    }
    if is_comment_token(t) {
        return true;
    }
    // Runs for every class of every element a chrome test looks at: the parts go into a
    // fixed array (a longer token, never seen in practice, into a `Vec`).
    let mut buf = [""; 16];
    let mut n = 0;
    let mut long = Vec::new();
    for part in t.split(['-', '_']).filter(|p| !p.is_empty()) {
        if n < buf.len() {
            buf[n] = part;
            n += 1;
        } else {
            if long.is_empty() {
                long.extend_from_slice(&buf);
            }
            long.push(part);
        }
    }
    let parts = if long.is_empty() {
        &buf[..n]
    } else {
        &long[..]
    };
    chrome_words(ctx).iter().any(|w| has_word(parts, w))
}

/// Is this element itself a chrome region (ignoring its ancestors)?
fn element_is_chrome(el: ElementRef<'_>, ctx: Ctx) -> bool {
    let e = el.value();
    match e.name() {
        "nav" | "aside" => return true,
        "header" | "footer" if !inside_post_container(el) => {
            return true;
        }
        _ => {}
    }
    let blogger_main = is_blogger_main(el);
    if e.classes()
        .any(|c| !(blogger_main && c == "widget") && token_is_chrome(c, ctx))
    {
        return true;
    }
    if let Some(id) = e.id()
        && (token_is_chrome(id, ctx) || id.eq_ignore_ascii_case("secondary"))
    {
        return true;
    }
    matches!(
        e.attr("role"),
        Some("navigation" | "complementary" | "banner" | "contentinfo")
    )
}

/// Blogger's main `Blog` widget (`<div class="widget Blog" id="Blog1">`): it holds the posts of
/// a listing and the post of a post page, so its `widget` class is no chrome. Only the exact
/// `Blog` class (Blogger's name for that widget type) counts; Blogger's other widgets
/// (`widget PopularPosts`, `widget BlogArchive`) and WordPress' (`widget widget_recent_entries`)
/// stay chrome.
fn is_blogger_main(el: ElementRef<'_>) -> bool {
    el.value()
        .has_class("Blog", scraper::CaseSensitivity::CaseSensitive)
}

/// Does `el` sit inside an article, a post wrapper or the main region?
fn inside_post_container(el: ElementRef<'_>) -> bool {
    el.ancestors().filter_map(ElementRef::wrap).any(|a| {
        let e = a.value();
        matches!(e.name(), "article" | "main")
            || e.attr("role") == Some("main")
            || e.classes().any(|c| {
                matches!(c, "hentry" | "post" | "type-post" | "site-main" | "entry")
                    || c.starts_with("entry-")
            })
    })
}

/// A node of the document, by the address of its value: unique and stable while the parsed
/// document is borrowed (the tree is never changed after parsing).
type NodeKey = usize;

fn node_key(value: &Node) -> NodeKey {
    std::ptr::from_ref(value) as usize
}

/// The chrome test of one document, remembering per node (and per [`Ctx`]) the nearest chrome
/// element at or above it, so that every element is tested at most once however many
/// candidates share its ancestors. Tied to the document it was made for (`'doc`): node
/// addresses are keys, so it must never see the elements of another document.
#[derive(Default)]
pub(crate) struct Chrome<'doc> {
    /// Node → nearest chrome element at or above it (below `<body>`), by `Ctx as usize`.
    nearest: [RefCell<NearestMap>; 2],
    document: std::marker::PhantomData<&'doc scraper::Html>,
}

type NearestMap = HashMap<NodeKey, Option<NodeKey>, BuildHasherDefault<KeyHasher>>;

impl<'doc> Chrome<'doc> {
    /// Is `el` (or an ancestor below `stop`) page chrome: navigation, header, footer, sidebar,
    /// widgets, comments, sharing, and depending on `ctx` other posts' blocks or the archive
    /// header? `<body>` and `<html>` are never chrome (their classes describe the layout).
    pub(crate) fn in_chrome(
        &self,
        el: ElementRef<'doc>,
        stop: Option<ElementRef<'doc>>,
        ctx: Ctx,
    ) -> bool {
        let Some(chrome) = self.nearest(el, ctx) else {
            return false;
        };
        let Some(stop) = stop else {
            return true;
        };
        // Chrome only if the walk from `el` up reaches the chrome element before `stop`.
        for node in std::iter::once(*el).chain(el.ancestors()) {
            if node.id() == stop.id() {
                return false;
            }
            if node_key(node.value()) == chrome {
                return true;
            }
        }
        true
    }

    /// The first chrome element on the way from `el` up to `<body>` / `<html>` (excluded).
    fn nearest(&self, el: ElementRef<'doc>, ctx: Ctx) -> Option<NodeKey> {
        let mut memo = self.nearest[ctx as usize].borrow_mut();
        let mut pending = Vec::new();
        let mut node = Some(*el);
        let found = loop {
            let Some(n) = node else {
                break None;
            };
            let key = node_key(n.value());
            if let Some(&known) = memo.get(&key) {
                break known;
            }
            pending.push(key);
            if let Some(a) = ElementRef::wrap(n) {
                if matches!(a.value().name(), "body" | "html") {
                    break None;
                }
                if element_is_chrome(a, ctx) {
                    break Some(key);
                }
            }
            node = n.parent();
        };
        for key in pending {
            memo.insert(key, found);
        }
        found
    }
}

/// Hashes a [`NodeKey`] by one multiplication; the rotation brings the well-mixed high bits
/// down to where the table picks its bucket (addresses have their low bits in common).
#[derive(Default)]
pub(crate) struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0.rotate_left(32)
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(*b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_usize(&mut self, n: usize) {
        self.0 = (self.0 ^ n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// Does any class of `el` contain one of `needles`? Taxonomy classes from `post_class()`
/// (`tag-power-sharing`) never count.
pub(crate) fn class_contains(el: ElementRef<'_>, needles: &[&str]) -> bool {
    el.value()
        .classes()
        .any(|c| !is_post_class_token(&ascii_lower(c)) && needles.iter().any(|n| c.contains(n)))
}

/// The inner HTML of `root`, leaving out HTML comments and every element (with its subtree) for
/// which `skip` is true. Iterative, so deeply nested documents cannot overflow the stack.
pub(crate) fn inner_html_filtered(
    root: ElementRef<'_>,
    skip: &dyn Fn(ElementRef<'_>) -> bool,
) -> String {
    crate::html_out::inner_html(root, skip, &crate::html_out::same_attrs)
}

#[cfg(test)]
mod tests {
    use scraper::{Html, Selector};

    use super::{Chrome, Ctx};

    /// Is the element `css` picks on `html` chrome, in a listing and in a post?
    fn chrome_of(html: &str, css: &str) -> (bool, bool) {
        let doc = Html::parse_document(html);
        let sel = Selector::parse(css).unwrap();
        let el = doc.select(&sel).next().expect("element");
        let chrome = Chrome::default();
        (
            chrome.in_chrome(el, None, Ctx::Listing),
            chrome.in_chrome(el, None, Ctx::Post),
        )
    }

    #[test]
    fn blogger_main_blog_widget_is_no_chrome() {
        let page = r#"<div class="main section" id="main"><div class="widget Blog" id="Blog1">
            <div class="blog-posts hfeed"><div class="post hentry"><h3 class="post-title">
            <a id="post" href="/2024/11/a.html">A</a></h3></div></div></div></div>
            <div class="sidebar section"><div class="widget PopularPosts" id="PopularPosts1">
            <a id="popular" href="/2024/11/b.html">B</a></div></div>
            <div class="widget BlogArchive"><a id="archive" href="/2024/">2024</a></div>
            <section class="widget widget_recent_entries"><a id="recent" href="/c/">C</a></section>
            <div class="widget blog"><a id="lower" href="/d/">D</a></div>"#;
        assert_eq!(chrome_of(page, "#post"), (false, false));
        for other in ["#popular", "#archive", "#recent", "#lower"] {
            assert_eq!(chrome_of(page, other), (true, true), "{other}");
        }
    }
}
