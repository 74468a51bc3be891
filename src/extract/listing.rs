//! Listing pages: the post list (never intro text, navigation, sidebars, widgets or comments; at
//! most `MAX_LISTING_POSTS` links, the rest counted),
//! the modified date each post's card shows, if any, and the next listing page (never a single
//! post's adjacent-post link, a comment page or the page itself): WordPress' pagination first,
//! then other engines' (Hugo, Jekyll, Blogger, Drupal), then "Next"/"Older" link text inside a
//! pagination block. Links guessed as posts only for being first in an `<article>` are never
//! feeds, files, profiles or the site root.

use std::collections::HashSet;

use scraper::{ElementRef, Selector};
use url::Url;

use super::dom::{self, Ctx, text_of};
use super::{PageCtx, user_selector};
use crate::config::Selectors;
use crate::model::{LinkRule, Listing, MAX_LISTING_POSTS};

pub(super) fn extract(ctx: &PageCtx<'_>, sel: &Selectors) -> Listing {
    let single_post = is_single_post(ctx);
    let next = if single_post {
        None
    } else {
        next_page(ctx, sel)
    };
    let (posts, left_out, found_by) = post_links(ctx, sel);
    let modified = card_dates(ctx, &posts);
    Listing {
        posts,
        next,
        modified,
        left_out,
        found_by,
        // A post's own description is no site's.
        description: (!single_post)
            .then(|| super::post::page_description(ctx))
            .flatten(),
        feed: advertised_feed(ctx),
    }
}

/// The modified date each post's card shows, raw (`time.updated`, a block theme's modified
/// date, `itemprop=dateModified`: what a post page's own markup is read for). A card is an
/// `article`, `.hentry` or block-theme post item linking to exactly one of `posts`; a card
/// linking to several is nobody's. The first date in a card counts.
fn card_dates(ctx: &PageCtx<'_>, posts: &[Url]) -> Vec<(Url, String)> {
    let mut out: Vec<(Url, String)> = Vec::new();
    if posts.is_empty() {
        return out;
    }
    let wanted: HashSet<&Url> = posts.iter().collect();
    let mut dated: HashSet<Url> = HashSet::new();
    let cards: &Selector = sel!("article, .hentry, .wp-block-post-template > li, li.wp-block-post");
    for card in ctx.select(&ctx.elements.all, cards) {
        let mut linked = card
            .select(sel!("a[href]"))
            .filter_map(|a| ctx.resolve(a.value().attr("href")?))
            .map(dom::without_fragment)
            .filter(|u| wanted.contains(u));
        let Some(post) = linked.next() else { continue };
        if linked.any(|u| u != post) || dated.contains(&post) {
            continue;
        }
        let date = card
            .select(super::post::modified_markup().css)
            .find_map(|e| super::post::date_value(e, false));
        if let Some(date) = date {
            dated.insert(post.clone());
            out.push((post, date));
        }
    }
    out
}

/// A single post: WordPress body classes, or `og:type=article` with at most one article.
fn is_single_post(ctx: &PageCtx<'_>) -> bool {
    if ctx.body_has_class("single") || ctx.body_has_class("single-post") {
        return true;
    }
    ctx.meta
        .first("og:type")
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("article"))
        && ctx.select(&ctx.elements.article, sel!("article")).count() <= 1
}

struct Posts {
    page: Url,
    posts: Vec<Url>,
    /// The same links, for a look-up that does not grow with the page (a page can hold
    /// thousands of links).
    seen: HashSet<Url>,
    /// Links found once `posts` is full ([`MAX_LISTING_POSTS`]).
    left_out: usize,
}

impl Posts {
    fn push(&mut self, ctx: &PageCtx<'_>, a: ElementRef<'_>) {
        let Some(href) = a.value().attr("href") else {
            return;
        };
        if self.posts.len() >= MAX_LISTING_POSTS {
            self.left_out += 1;
            return;
        }
        let Some(url) = ctx.resolve(href) else {
            return;
        };
        if matches!(url.fragment(), Some(f) if f == "respond" || f == "comments" || f.starts_with("comment-"))
        {
            return;
        }
        let url = dom::without_fragment(url);
        if url == self.page || !self.seen.insert(url.clone()) {
            return;
        }
        self.posts.push(url);
    }
}

/// "Continue reading" / "Read more" links and comment links are not post titles.
fn is_more_or_comment_link(a: ElementRef<'_>) -> bool {
    let v = a.value();
    if v.classes()
        .any(|c| c.contains("more-link") || c.contains("read-more"))
    {
        return true;
    }
    let text = text_of(a).to_lowercase();
    text.starts_with("continue reading") || text.starts_with("read more")
}

/// Is `a` inside the main content region (when the page has one)?
fn in_main(a: ElementRef<'_>, has_main: bool) -> bool {
    !has_main
        || a.ancestors().filter_map(ElementRef::wrap).any(|e| {
            let v = e.value();
            v.name() == "main"
                || v.attr("role") == Some("main")
                || matches!(v.id(), Some("main" | "primary"))
                || v.classes()
                    .any(|c| c == "site-main" || c == "wp-block-query")
        })
}

/// The feed the page advertises: the first `<link rel="alternate">` of an RSS, Atom or JSON
/// Feed type that is not a comments feed.
fn advertised_feed(ctx: &PageCtx<'_>) -> Option<Url> {
    ctx.select(&ctx.elements.link, sel!("link[rel~=alternate][href][type]"))
        .filter(|l| {
            let t = l
                .value()
                .attr("type")
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            matches!(
                t.as_str(),
                "application/rss+xml" | "application/atom+xml" | "application/feed+json"
            )
        })
        .filter_map(|l| ctx.resolve(l.value().attr("href")?))
        .find(|u| !u.path().to_ascii_lowercase().contains("comments"))
}

/// File name endings of links that are never a post page: feeds, data, documents, images,
/// media and archives.
const NOT_POST_ENDINGS: [&str; 22] = [
    ".xml", ".rss", ".atom", ".rdf", ".json", ".pdf", ".jpg", ".jpeg", ".png", ".gif", ".webp",
    ".svg", ".avif", ".ico", ".mp3", ".mp4", ".m4a", ".webm", ".ogg", ".zip", ".epub", ".txt",
];

/// Can this link, taken by the fallback only because it is the first of an item, not be a
/// post? A feed (`rel=alternate`, a `type`, a `.xml` path …), a file, an author's profile
/// elsewhere (`rel=me`), a taxonomy or author page (`rel=tag`/`author`), a `mailto:`/`tel:`
/// link, the site root, or a link in a social-icons block inside the `item`.
fn cannot_be_post(ctx: &PageCtx<'_>, a: ElementRef<'_>, item: ElementRef<'_>) -> bool {
    let v = a.value();
    if v.attr("rel").is_some_and(|rel| {
        rel.split_ascii_whitespace().any(|r| {
            ["alternate", "me", "author", "tag", "license", "search"]
                .iter()
                .any(|w| r.eq_ignore_ascii_case(w))
        })
    }) || v.attr("type").is_some_and(|t| {
        !t.trim().is_empty() && !t.trim().to_ascii_lowercase().starts_with("text/html")
    }) {
        return true;
    }
    let Some(url) = v.attr("href").and_then(|h| ctx.resolve(h)) else {
        // `mailto:`, `tel:`, `javascript:` …: nothing to fetch.
        return true;
    };
    let path = url.path().to_ascii_lowercase();
    if (path.is_empty() || path == "/") && url.query().is_none() {
        return true;
    }
    let path = path.trim_end_matches('/');
    if NOT_POST_ENDINGS.iter().any(|e| path.ends_with(e)) {
        return true;
    }
    // A block inside the item named for its social links (`social-icons`, `social_links`):
    // not the item's own classes or those around it, where a post's taxonomy shows
    // (`category-social-media` on a WordPress `<article>` and `<body>`).
    a.ancestors()
        .filter_map(ElementRef::wrap)
        .take_while(|e| e.id() != item.id())
        .any(|e| {
            e.value().classes().any(|c| {
                let c = dom::ascii_lower(c);
                !dom::is_post_class_token(&c) && c.split(['-', '_']).any(|part| part == "social")
            })
        })
}

/// The page's post links, at most [`MAX_LISTING_POSTS`], how many more it holds, and the rule
/// that found them.
fn post_links(ctx: &PageCtx<'_>, sel: &Selectors) -> (Vec<Url>, usize, LinkRule) {
    let mut p = Posts {
        page: dom::without_fragment(ctx.url.clone()),
        posts: Vec::new(),
        seen: HashSet::new(),
        left_out: 0,
    };
    if let Some(s) = user_selector(sel.item_link.as_ref()) {
        for el in ctx.select(&ctx.elements.all, &s) {
            let a = if el.value().name() == "a" {
                Some(el)
            } else {
                el.select(sel!("a[href]")).next()
            };
            if let Some(a) = a {
                p.push(ctx, a);
            }
        }
        if !p.posts.is_empty() {
            return (p.posts, p.left_out, LinkRule::ItemLink);
        }
    }
    let has_main = ctx
        .select(
            &ctx.elements.all,
            sel!("main, [role=main], #main, #primary, .site-main, .wp-block-query"),
        )
        .next()
        .is_some();
    let ok = |a: &ElementRef<'_>| {
        in_main(*a, has_main)
            && !ctx.chrome.in_chrome(*a, None, Ctx::Listing)
            && !is_more_or_comment_link(*a)
    };
    let titles = titles();
    let candidates = ctx.elements.a.iter().filter(|a| may_be_title(a));
    for a in candidates.copied().filter(|a| titles.matches(a)).filter(ok) {
        p.push(ctx, a);
    }
    if !p.posts.is_empty() {
        return (p.posts, p.left_out, LinkRule::Titles);
    }
    // Items without a recognised title class: the first heading link (or first link) of each
    // that can be a post (a guess, so never a feed, a file or a profile: see `cannot_be_post`).
    let items: &Selector = sel!(".wp-block-post-template > li, article");
    let guess = |a: &ElementRef<'_>, item: ElementRef<'_>| ok(a) && !cannot_be_post(ctx, *a, item);
    for item in ctx.select(&ctx.elements.all, items) {
        let first = item
            .select(sel!("h1 a[href], h2 a[href], h3 a[href], h4 a[href]"))
            .find(|a| guess(a, item))
            .or_else(|| item.select(sel!("a[href]")).find(|a| guess(a, item)));
        if let Some(a) = first {
            p.push(ctx, a);
        }
    }
    let rule = if p.posts.is_empty() {
        LinkRule::None
    } else {
        LinkRule::ItemFallback
    };
    (p.posts, p.left_out, rule)
}

/// Post title links.
fn titles() -> &'static Selector {
    sel!(
        "article .entry-title a[href], article a[rel~=bookmark][href], \
         .hentry .entry-title a[href], .wp-block-post-title a[href], \
         .wp-block-post-template li .entry-title a[href], .entry-title a[href], \
         .post-title a[href], a[rel~=bookmark][href], \
         a.post-link[href], a.postlist-link[href], a.post-preview-title[href], \
         .node-teaser h2 a[href]"
    )
}

/// Classes of a post's title link on other engines' listings: Jekyll's minima (`post-link`),
/// the Eleventy base blog (`postlist-link`), Substack's archive (`post-preview-title`).
const TITLE_LINK_CLASSES: [&str; 3] = ["post-link", "postlist-link", "post-preview-title"];

/// What every [`titles`] match has: a `rel`, or a title element around it. One walk up, where
/// the selector walks up once per alternative for every link of the page.
fn may_be_title(a: &ElementRef<'_>) -> bool {
    a.value().attr("rel").is_some()
        || a.value().classes().any(|c| TITLE_LINK_CLASSES.contains(&c))
        || a.ancestors().filter_map(ElementRef::wrap).any(|e| {
            e.value().classes().any(|c| {
                matches!(
                    c,
                    "entry-title" | "wp-block-post-title" | "post-title" | "node-teaser"
                )
            })
        })
}

/// Inside comment pagination?
fn in_comments(e: ElementRef<'_>) -> bool {
    std::iter::once(e)
        .chain(e.ancestors().filter_map(ElementRef::wrap))
        .any(|a| {
            let v = a.value();
            v.id()
                .is_some_and(|i| dom::is_comment_token(&i.to_ascii_lowercase()))
                || v.classes()
                    .any(|c| dom::is_comment_token(&c.to_ascii_lowercase()))
        })
}

fn next_page(ctx: &PageCtx<'_>, sel: &Selectors) -> Option<Url> {
    let page = dom::without_fragment(ctx.url.clone());
    let accept = |e: ElementRef<'_>| -> Option<Url> {
        let href = e.value().attr("href").or_else(|| {
            e.select(sel!("a[href]"))
                .next()
                .and_then(|a| a.value().attr("href"))
        })?;
        let url = ctx.resolve(href)?;
        (dom::without_fragment(url.clone()) != page).then_some(url)
    };
    if let Some(s) = user_selector(sel.next_page.as_ref())
        && let Some(u) = ctx.select(&ctx.elements.all, &s).find_map(accept)
    {
        return Some(u);
    }
    let (a, all) = (&ctx.elements.a, &ctx.elements.all);
    let tiers: [(&[ElementRef<'_>], &Selector); 5] = [
        (&ctx.elements.link, sel!("link[rel~=next][href]")),
        (a, sel!("a[rel~=next][href]")),
        (a, sel!("a.next.page-numbers[href]")),
        (all, sel!(".wp-block-query-pagination-next")),
        (
            a,
            sel!(
                ".posts-navigation .nav-previous a[href], .paging-navigation .nav-previous a[href]"
            ),
        ),
    ];
    // Other engines' pagination, after WordPress': Hugo PaperMod and jekyll-paginate themes
    // (`.pagination a.next`, Poole's `a.older`), Hugo's own template (`aria-label=Next`),
    // Blogger ("Older Posts"), Drupal 7 and Drupal 8+ pagers.
    let engines: [&Selector; 3] = [
        sel!(
            ".pagination a.next[href], .pagination a.older[href], \
             .pagination a[aria-label=Next][href]"
        ),
        sel!("a.blog-pager-older-link[href]"),
        sel!("li.pager-next a[href], li.pager__item--next a[href]"),
    ];
    let not_comment = |e: &ElementRef<'_>| !in_comments(*e);
    tiers
        .into_iter()
        .chain(engines.map(|s| (a.as_slice(), s)))
        .find_map(|(among, s)| ctx.select(among, s).filter(not_comment).find_map(accept))
        .or_else(|| {
            a.iter()
                .copied()
                .filter(|e| is_next_by_text(*e))
                .filter(not_comment)
                .find_map(accept)
        })
}

/// The last tier of [`next_page`]: a link reading "Next", "Next page", "Older", "Older posts"
/// or "Older entries" (arrows and the like aside) inside a pagination block (a class or id
/// holding a part `pagination`, `pager`, `paging`, `pagenav` or `page-nav`). Never a bare `<nav>`: a post's
/// navigation reads "Next" too.
fn is_next_by_text(a: ElementRef<'_>) -> bool {
    let text = text_of(a).to_lowercase();
    let text = text
        .trim_matches(|c: char| !c.is_alphanumeric())
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if !matches!(
        text.as_str(),
        "next" | "next page" | "older" | "older posts" | "older entries"
    ) {
        return false;
    }
    // A whole part of the token (`pager__items`, `nav-pagination`), never a substring
    // (`newspaper`).
    let pager = |t: &str| {
        let t = dom::ascii_lower(t);
        let parts: Vec<&str> = t.split(['-', '_']).collect();
        parts.windows(2).any(|w| w == ["page", "nav"])
            || parts
                .iter()
                .any(|p| matches!(*p, "pagination" | "pager" | "paging" | "pagenav"))
    };
    a.ancestors().filter_map(ElementRef::wrap).any(|e| {
        let v = e.value();
        v.classes().any(pager) || v.id().is_some_and(pager)
    })
}

#[cfg(test)]
mod tests {
    use scraper::{ElementRef, Html};

    use super::{may_be_title, titles};
    use crate::config::Selectors;
    use crate::model::{LinkRule, Listing, RawPage};

    /// The listing `body` gives at `http://blog.test/posts/`.
    fn listing(body: &str) -> Listing {
        let url = url::Url::parse("http://blog.test/posts/").unwrap();
        let page = RawPage {
            requested_url: url.clone(),
            url,
            content_type: Some("text/html".into()),
            body: format!("<!DOCTYPE html><html><head></head><body>{body}</body></html>"),
            fetched_at: chrono::Utc::now(),
        };
        crate::extract::extract_listing(&page, &Selectors::default()).unwrap()
    }

    fn next_of(body: &str) -> Option<String> {
        listing(body).next.map(String::from)
    }

    fn posts_of(body: &str) -> Vec<String> {
        listing(body).posts.into_iter().map(String::from).collect()
    }

    #[test]
    fn next_page_of_other_engines() {
        let cases = [
            // Hugo PaperMod.
            (
                r#"<main><footer class="page-footer"><nav class="pagination">
                   <a class="next" href="/posts/page/2/">Next&nbsp;&nbsp;»</a></nav></footer></main>"#,
                "http://blog.test/posts/page/2/",
            ),
            // Jekyll minima with jekyll-paginate.
            (
                r#"<div class="pagination"><span class="previous">Previous</span>
                   <span class="page_number ">Page: 1 of 2</span>
                   <a href="/page2" class="next">Next</a></div>"#,
                "http://blog.test/page2",
            ),
            // Jekyll Poole / Lanyon.
            (
                r#"<div class="pagination"><a class="pagination-item older" href="/page2">Older</a>
                   <span class="pagination-item newer">Newer</span></div>"#,
                "http://blog.test/page2",
            ),
            // Hugo's built-in pagination template.
            (
                r#"<ul class="pagination"><li class="page-item"><a class="page-link"
                   aria-label="Next" href="/posts/page/2/">»</a></li></ul>"#,
                "http://blog.test/posts/page/2/",
            ),
            // Blogger.
            (
                r#"<div class="blog-pager" id="blog-pager"><span id="blog-pager-older-link">
                   <a class="blog-pager-older-link" href="/search?updated-max=2024-11-12T10:30:00-08:00&amp;max-results=3"
                   title="Older Posts">Older Posts</a></span><a class="home-link" href="/">Home</a></div>"#,
                "http://blog.test/search?updated-max=2024-11-12T10:30:00-08:00&max-results=3",
            ),
            // Drupal 7.
            (
                r#"<div class="item-list"><ul class="pager"><li class="pager-current first">1</li>
                   <li class="pager-item"><a href="/blog?page=1">2</a></li>
                   <li class="pager-next"><a title="Go to next page" href="/blog?page=1">next ›</a></li>
                   <li class="pager-last last"><a href="/blog?page=4">last »</a></li></ul></div>"#,
                "http://blog.test/blog?page=1",
            ),
            // Drupal 8+ without `rel=next`.
            (
                r#"<nav class="pager"><ul class="pager__items js-pager__items">
                   <li class="pager__item pager__item--next"><a href="?page=1">Next ›</a></li></ul></nav>"#,
                "http://blog.test/posts/?page=1",
            ),
            // Link text inside a pagination block.
            (
                r#"<div class="blog-paging"><a href="/posts/?p=0">Newer</a>
                   <a href="/posts/?p=2">Older posts →</a></div>"#,
                "http://blog.test/posts/?p=2",
            ),
        ];
        for (body, want) in cases {
            assert_eq!(next_of(body).as_deref(), Some(want), "{body}");
        }
    }

    #[test]
    fn next_page_tiers_keep_their_limits() {
        // The existing tiers come first: a `rel=next` wins over an engine's class.
        let body = r#"<a rel="next" href="/posts/page/3/">3</a>
            <nav class="pagination"><a class="next" href="/posts/page/2/">Next</a></nav>"#;
        assert_eq!(
            next_of(body).as_deref(),
            Some("http://blog.test/posts/page/3/")
        );
        let none = [
            // Comment pagination.
            r#"<div id="comments"><div class="pagination"><a class="next" href="/posts/?cpage=2">Next</a></div>
               <ul class="pager"><li class="pager-next"><a href="/posts/?cpage=2">next</a></li></ul></div>"#,
            // A link back to this page.
            r#"<nav class="pagination"><a class="next" href="/posts/">Next</a></nav>"#,
            // "Next" outside a pagination block: a post's navigation, a menu.
            r#"<nav class="post-nav"><a href="/posts/b/">Next</a></nav><a href="/x/">Older posts</a>"#,
            // A class that merely holds "pager" as a substring.
            r#"<div class="newspaper"><a href="/posts/page/2/">Next</a></div>"#,
            // Some other text in a pagination block.
            r#"<div class="pagination"><a href="/posts/page/9/">Last</a></div>"#,
        ];
        for body in none {
            assert_eq!(next_of(body), None, "{body}");
        }
    }

    /// PaperMod's home page: the first `<article>` is the author's intro, whose first links are
    /// a feed and a profile elsewhere; the post cards link their post in an empty `a.entry-link`.
    #[test]
    fn article_fallback_skips_links_that_cannot_be_posts() {
        let body = r#"<main class="main">
            <article class="first-entry home-info"><header class="entry-header"><h1>Hi</h1></header>
            <footer class="entry-footer"><div class="social-icons">
            <a href="/index.xml" rel="noopener noreferrer me" title="Rss">rss</a>
            <a href="/team/jane/" title="Jane">jane</a></div></footer></article>
            <article class="card"><a href="/feed.rss">rss</a><a href="/cv.pdf">cv</a>
            <a href="/logo.png">logo</a><a href="mailto:jane@blog.test">mail</a>
            <a href="tel:+123">call</a><a href="/">home</a>
            <a href="/atom" type="application/atom+xml">feed</a>
            <a href="/about/" rel="author">about</a><a href="/tags/x/" rel="tag">x</a>
            <a href="/posts/real-one/">Real one</a></article>
            <article class="post-entry"><header class="entry-header"><h2>Anchoring</h2></header>
            <a class="entry-link" aria-label="post link to Anchoring" href="/posts/anchoring/"></a>
            </article></main>"#;
        let l = listing(body);
        let posts: Vec<String> = l.posts.iter().map(|u| u.to_string()).collect();
        assert_eq!(
            posts,
            [
                "http://blog.test/posts/real-one/",
                "http://blog.test/posts/anchoring/"
            ]
        );
        assert_eq!(l.found_by, LinkRule::ItemFallback);

        // A category named "social" is the post's taxonomy (on the article and the body), not
        // a social-icons block.
        let body = r#"<main><article class="post category-social-media tag-social">
            <h2><a href="/2024/a/">A</a></h2></article><article class="post social">
            <h2><a href="/2024/b/">B</a></h2></article></main>"#;
        assert_eq!(
            posts_of(body),
            ["http://blog.test/2024/a/", "http://blog.test/2024/b/"]
        );
    }

    #[test]
    fn listing_names_the_rule_that_found_its_posts() {
        let titled = r#"<article><h2 class="entry-title"><a href="/posts/a/">A</a></h2></article>"#;
        assert_eq!(listing(titled).found_by, LinkRule::Titles);
        assert_eq!(listing("<p>nothing</p>").found_by, LinkRule::None);
        let url = url::Url::parse("http://blog.test/posts/").unwrap();
        let page = RawPage {
            requested_url: url.clone(),
            url,
            content_type: None,
            body: r#"<ul><li><a class="post-link" href="/posts/b/">B</a></li></ul>"#.into(),
            fetched_at: chrono::Utc::now(),
        };
        let sel = Selectors {
            item_link: Some("a.post-link".into()),
            ..Selectors::default()
        };
        let l = crate::extract::extract_listing(&page, &sel).unwrap();
        assert_eq!(l.found_by, LinkRule::ItemLink);
        assert_eq!(l.posts.len(), 1);
    }

    /// Blogger's posts sit in its main `widget Blog`; its sidebar widgets are still chrome.
    #[test]
    fn blogger_posts_are_found() {
        let body = r#"<div class="main section" id="main"><div class="widget Blog" id="Blog1">
            <div class="blog-posts hfeed"><div class="post-outer"><div class="post hentry">
            <h3 class="post-title entry-title"><a href="/2024/11/a.html">A</a></h3></div></div>
            </div></div></div><div class="widget PopularPosts"><ul><li>
            <h3 class="post-title entry-title"><a href="/2024/11/b.html">B</a></h3></li></ul></div>"#;
        assert_eq!(posts_of(body), ["http://blog.test/2024/11/a.html"]);
    }

    /// Other engines' title links: the Eleventy base blog's and Substack's archive, without
    /// their excerpt, author and comment links.
    #[test]
    fn other_engines_title_links_are_found() {
        let eleventy = r#"<main><ol class="postlist"><li class="postlist-item">
            <a href="/blog/fifth/" class="postlist-link">Fifth</a>
            <time class="postlist-date" datetime="2024-11-18">18 November 2024</time></li>
            <li class="postlist-item"><a href="/blog/fourth/" class="postlist-link">Fourth</a>
            </li></ol></main>"#;
        assert_eq!(
            posts_of(eleventy),
            [
                "http://blog.test/blog/fifth/",
                "http://blog.test/blog/fourth/"
            ]
        );
        let substack = r#"<div id="main"><div class="portable-archive-list">
            <div class="post-preview"><a class="post-preview-title newsletter" href="/p/a">A</a>
            <div class="post-preview-description"><a href="/p/a">Excerpt</a></div>
            <div class="post-preview-meta"><a href="https://substack.com/@jane">Jane</a>
            <a class="post-ufi-button" href="/p/a/comments">12</a></div></div>
            <div class="post-preview"><a class="post-preview-title newsletter" href="/p/b">B</a>
            </div></div></div>"#;
        assert_eq!(
            posts_of(substack),
            ["http://blog.test/p/a", "http://blog.test/p/b"]
        );
    }

    /// Every title link passes the prefilter, on every page we have and on a snippet made to
    /// match each alternative.
    #[test]
    fn title_prefilter_admits_every_match() {
        let mut pages = vec![
            r#"<article><h2 class="entry-title"><a href="1">x</a></h2><a rel="bookmark" href="2">
               </a></article><div class="hentry"><div class="entry-title"><a href="3"></a></div>
               </div><div class="wp-block-post-title"><a href="4"></a></div>
               <ul class="wp-block-post-template"><li><b class="entry-title"><a href="5"></a></b>
               </li></ul><b class="post-title"><i><a href="6"></a></i></b>
               <a rel="next bookmark" href="7"></a><a class="post-link" href="8"></a>
               <a class="postlist-link" href="9"></a><a class="post-preview-title" href="10"></a>
               <div class="node node-teaser"><h2><a href="11"></a></h2></div>"#
                .to_string(),
        ];
        pages.extend(crate::extract::fixture_pages());
        let mut matched = 0;
        for page in &pages {
            let doc = Html::parse_document(page);
            for e in doc.tree.nodes().filter_map(ElementRef::wrap) {
                if titles().matches(&e) {
                    matched += 1;
                    assert!(may_be_title(&e), "{:?} fails the prefilter", e.value());
                }
            }
        }
        assert!(matched > 20, "only {matched} matches");
    }
}
