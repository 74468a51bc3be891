//! Listing pages: the post list (never intro text, navigation, sidebars, widgets or comments; at
//! most `MAX_LISTING_POSTS` links, the rest counted),
//! the modified date each post's card shows, if any, and the next listing page (never a single
//! post's adjacent-post link).

use std::collections::HashSet;

use scraper::{ElementRef, Selector};
use url::Url;

use super::dom::{self, Ctx, text_of};
use super::{PageCtx, user_selector};
use crate::config::Selectors;
use crate::model::{Listing, MAX_LISTING_POSTS};

pub(super) fn extract(ctx: &PageCtx<'_>, sel: &Selectors) -> Listing {
    let next = if is_single_post(ctx) {
        None
    } else {
        next_page(ctx, sel)
    };
    let (posts, left_out) = post_links(ctx, sel);
    let modified = card_dates(ctx, &posts);
    Listing {
        posts,
        next,
        modified,
        left_out,
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

/// The page's post links, at most [`MAX_LISTING_POSTS`], and how many more it holds.
fn post_links(ctx: &PageCtx<'_>, sel: &Selectors) -> (Vec<Url>, usize) {
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
            return (p.posts, p.left_out);
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
        return (p.posts, p.left_out);
    }
    // Items without a recognised title class: the first heading link (or first link) of each.
    let items: &Selector = sel!(".wp-block-post-template > li, article");
    for item in ctx.select(&ctx.elements.all, items) {
        let first = item
            .select(sel!("h1 a[href], h2 a[href], h3 a[href], h4 a[href]"))
            .find(ok)
            .or_else(|| item.select(sel!("a[href]")).find(ok));
        if let Some(a) = first {
            p.push(ctx, a);
        }
    }
    (p.posts, p.left_out)
}

/// Post title links.
fn titles() -> &'static Selector {
    sel!(
        "article .entry-title a[href], article a[rel~=bookmark][href], \
         .hentry .entry-title a[href], .wp-block-post-title a[href], \
         .wp-block-post-template li .entry-title a[href], .entry-title a[href], \
         .post-title a[href], a[rel~=bookmark][href]"
    )
}

/// What every [`titles`] match has: a `rel`, or a title element around it. One walk up, where
/// the selector walks up once per alternative for every link of the page.
fn may_be_title(a: &ElementRef<'_>) -> bool {
    a.value().attr("rel").is_some()
        || a.ancestors().filter_map(ElementRef::wrap).any(|e| {
            e.value()
                .classes()
                .any(|c| matches!(c, "entry-title" | "wp-block-post-title" | "post-title"))
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
    tiers.into_iter().find_map(|(among, s)| {
        ctx.select(among, s)
            .filter(|e| !in_comments(*e))
            .find_map(accept)
    })
}

#[cfg(test)]
mod tests {
    use scraper::{ElementRef, Html};

    use super::{may_be_title, titles};

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
               <a rel="next bookmark" href="7"></a>"#
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
