//! Related-post links a page renders itself: YARPP, Contextual Related Posts, Jetpack (when the
//! server filled it) and a "Related Posts" style heading followed by links.

use scraper::{ElementRef, Selector};
use url::Url;

use super::PageCtx;
use super::dom::{self, text_of};
use crate::model::Link;

/// Headings (lower case, trailing colon removed) that introduce a related-posts list.
const HEADINGS: [&str; 5] = [
    "related posts",
    "related articles",
    "you may also like",
    "you might also like",
    "related reading",
];

/// Related links and the page regions they came from (left out of the body).
pub(crate) struct Related<'a> {
    pub links: Vec<Link>,
    /// Heading-introduced blocks: the heading and the list after it.
    pub blocks: Vec<ElementRef<'a>>,
}

struct Collector<'c> {
    self_urls: &'c [Url],
    host: Option<String>,
    same_host_only: bool,
    links: Vec<Link>,
}

fn bare_host(u: &Url) -> Option<String> {
    u.host_str()
        .map(|h| h.trim_start_matches("www.").to_ascii_lowercase())
}

impl Collector<'_> {
    fn push(&mut self, ctx: &PageCtx<'_>, a: ElementRef<'_>) {
        let Some(url) = a.value().attr("href").and_then(|h| ctx.resolve(h)) else {
            return;
        };
        let url = dom::without_fragment(url);
        if self.self_urls.contains(&url) {
            return;
        }
        if self.same_host_only && bare_host(&url) != self.host {
            return;
        }
        let mut title = text_of(a);
        if title.is_empty() {
            title = a
                .value()
                .attr("title")
                .map(dom::clean_text)
                .or_else(|| {
                    a.select(sel!("img[alt]"))
                        .next()
                        .and_then(|i| i.value().attr("alt"))
                        .map(dom::clean_text)
                })
                .unwrap_or_default();
        }
        let url = url.to_string();
        if let Some(existing) = self.links.iter_mut().find(|l| l.url == url) {
            if existing.title.is_empty() {
                existing.title = title;
            }
            return;
        }
        self.links.push(Link { url, title });
    }

    fn push_all(&mut self, ctx: &PageCtx<'_>, root: ElementRef<'_>) {
        for a in root.select(sel!("a[href]")) {
            self.push(ctx, a);
        }
        if root.value().name() == "a" {
            self.push(ctx, root);
        }
    }
}

fn is_related_heading(h: ElementRef<'_>) -> bool {
    let text = text_of(h).to_lowercase();
    let text = text.trim_end_matches([':', '.', ' ']);
    HEADINGS.contains(&text)
}

/// The element holding the links that follow a heading: its next element sibling, or, when
/// the heading is the last child of a wrapper, the wrapper's next sibling.
fn block_after(h: ElementRef<'_>) -> Option<ElementRef<'_>> {
    let mut cur = h;
    for _ in 0..3 {
        if let Some(next) = cur.next_siblings().find_map(ElementRef::wrap) {
            return Some(next);
        }
        cur = cur.parent().and_then(ElementRef::wrap)?;
        if matches!(cur.value().name(), "body" | "html") {
            return None;
        }
    }
    None
}

/// Collect the page's related-post links. `self_urls` (without fragments) are never returned.
/// With an override selector, its matches alone are used when they yield links.
pub(crate) fn extract<'a>(
    ctx: &PageCtx<'a>,
    user: Option<&Selector>,
    self_urls: &[Url],
) -> Related<'a> {
    let mut c = Collector {
        self_urls,
        host: bare_host(ctx.url),
        same_host_only: false,
        links: Vec::new(),
    };
    if let Some(s) = user {
        for el in ctx.select(&ctx.elements.all, s) {
            c.push_all(ctx, el);
        }
        if !c.links.is_empty() {
            return Related {
                links: c.links,
                blocks: Vec::new(),
            };
        }
    }
    c.same_host_only = true;
    // Without a YARPP or CRP container (most pages) only the Jetpack alternative can match:
    // leave out the ones that would test every link's ancestors.
    let plugins = if ctx.elements.any_has_class("yarpp-related")
        || ctx.elements.any_has_class("crp_related")
    {
        sel!(".yarpp-related a[href], .crp_related a[href], a.jp-relatedposts-post-a[href]")
    } else {
        sel!("a.jp-relatedposts-post-a[href]")
    };
    for a in ctx.select(&ctx.elements.a, plugins) {
        c.push(ctx, a);
    }
    let mut blocks = Vec::new();
    for h in ctx.select(&ctx.elements.headings, sel!("h1, h2, h3, h4, h5, h6")) {
        if !is_related_heading(h) {
            continue;
        }
        if let Some(block) = block_after(h) {
            let before = c.links.len();
            c.push_all(ctx, block);
            if c.links.len() > before || dom::class_contains(block, &["related", "yarpp", "crp_"]) {
                blocks.push(h);
                blocks.push(block);
            }
        }
    }
    Related {
        links: c.links,
        blocks,
    }
}
