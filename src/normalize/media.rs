//! Audio, video and embedded media: the policy keeps none of `<audio>`, `<video>`, `<iframe>`,
//! `<embed>` and `<object>` (feed readers and mail clients block them), so before sanitizing
//! each is replaced by a plain link to what it plays and by its fallback content, instead of
//! vanishing with everything inside it.
//!
//! - `<audio>` / `<video>`: a link to its `src`, else to the first `<source src>` inside it (a
//!   lazy-loading `data-src` / `data-lazy-src` / `data-original` when `src` is missing), named
//!   by its `title`, else "Audio: file.mp3" / "Video: file.mp4"; then its fallback content
//!   (everything but `<source>` and `<track>`). A video's `poster` becomes an `<img>` inside
//!   the link. No link is added when the fallback already links to the same file (query and
//!   fragment aside: WordPress's player adds `?_=1` to the `src` it also links plainly).
//! - `<iframe>` / `<embed>` (`src`, or a lazy-loading attribute) and `<object>` (`data`): a link
//!   named by its `title`, else "YouTube video" / "Vimeo video" / "Embedded content (host)". A
//!   YouTube or Vimeo player URL becomes the video's own page. An `<object>` keeps its
//!   fallback content (not its `<param>`s); an `<iframe>`'s content is not HTML and is dropped.
//!
//! URLs are resolved against the page the way the sanitizer resolves every URL, and only
//! http(s) ones give a link. A media element inside a link gives no link of its own (its poster
//! stays); a hidden one (a tracking frame: `hidden`, 0 or 1 pixel, `display: none`…) none at
//! all. Only the parsed tree is rewritten, with escaped text and attribute values: what is
//! safe stays the sanitizer's decision, which cleans the result (generated links and fallback
//! content included) like any other markup.

use std::collections::HashMap;

use percent_encoding::percent_decode_str;
use scraper::node::Text;
use scraper::{ElementRef, Html, Node};
use url::Url;

use super::html::{BLOCK_TAGS, DROP_WITH_CONTENT, collapse_whitespace, resolve_http};

/// The elements replaced.
const MEDIA: [&str; 5] = ["audio", "video", "iframe", "embed", "object"];

/// Attributes lazy-loading scripts keep a frame's or a media file's real URL in, after `src`.
const LAZY_SRC: [&str; 3] = ["data-src", "data-lazy-src", "data-original"];

/// At most this many nodes of a media element's fallback are searched for a link to its file.
const FALLBACK_SCAN: usize = 512;

/// Longest label taken from a `title` attribute or a file name, in characters.
const MAX_LABEL_CHARS: usize = 200;

const HTML_NS: &str = "http://www.w3.org/1999/xhtml";

/// Could `html` hold a media element? A cheap test (any `<audio`, `<video`, `<iframe`,
/// `<embed` or `<object`, in any case) so that bodies without one are not parsed for it.
pub(super) fn may_contain_media(html: &str) -> bool {
    html.match_indices('<').any(|(at, _)| {
        let rest = html.as_bytes()[at + 1..].get(..6).unwrap_or(&[]);
        MEDIA.iter().any(|name| {
            rest.get(..name.len())
                .is_some_and(|r| r.eq_ignore_ascii_case(name.as_bytes()))
        })
    })
}

/// What one media element becomes: markup written before its fallback content, and whether a
/// space must come before and after it all (text or an inline element touches it: the element
/// was a box of its own, its link and fallback are words).
struct Plan {
    markup: String,
    space_before: bool,
    space_after: bool,
}

/// Replace every HTML media element of `doc` by its link and fallback content (see the module
/// documentation), resolving URLs against `base`.
pub(super) fn replace_media(doc: &mut Html, base: &Url) {
    // Every media element in document order, and whether it is inside a link.
    let mut found = Vec::new();
    let mut stack = vec![(doc.tree.root(), false)];
    while let Some((node, mut in_link)) = stack.pop() {
        if let Some(el) = ElementRef::wrap(node)
            && &*el.value().name.ns == HTML_NS
        {
            match el.value().name() {
                name if MEDIA.contains(&name) => found.push((node.id(), in_link)),
                "a" if el.attr("href").is_some() => in_link = true,
                _ => {}
            }
        }
        stack.extend(node.children().rev().map(|child| (child, in_link)));
    }
    if found.is_empty() {
        return;
    }

    // Innermost first, so that an element's fallback is known to link to what an element
    // inside it links to (an `<object>` around an `<embed>` of the same video).
    let mut linked = HashMap::new();
    let mut plans = Vec::with_capacity(found.len());
    for &(id, in_link) in found.iter().rev() {
        let Some(el) = doc.tree.get(id).and_then(ElementRef::wrap) else {
            plans.push(None);
            continue;
        };
        let (plan, link) = plan(el, in_link, base, &|e| linked.get(&e.id()).cloned());
        if let Some(link) = link {
            linked.insert(id, link);
        }
        plans.push(Some(plan));
    }
    plans.reverse();

    // All the generated markup parsed at once, one `<div>` per element.
    let mut snippet = String::new();
    for plan in plans.iter().flatten() {
        snippet.push_str("<div>");
        snippet.push_str(&plan.markup);
        snippet.push_str("</div>");
    }
    let snippet = Html::parse_fragment(&snippet);
    let snippet_root = doc.tree.extend_tree(snippet.tree).id();
    let holders: Vec<_> = doc
        .tree
        .get(snippet_root)
        .and_then(|root| root.first_child())
        .map(|html| html.children().map(|div| div.id()).collect())
        .unwrap_or_default();
    let mut holders = holders.into_iter();
    debug_assert_eq!(holders.len(), plans.iter().flatten().count());

    for ((id, _), plan) in found.into_iter().zip(plans) {
        let Some(node) = doc.tree.get(id) else {
            continue;
        };
        if node.parent().is_none() {
            continue;
        }
        let name = ElementRef::wrap(node).map_or("", |el| el.value().name());
        let mut moved: Vec<_> = Vec::new();
        let (mut space_before, mut space_after) = (false, false);
        if let Some(plan) = plan {
            if let Some(holder) = holders.next().and_then(|h| doc.tree.get(h)) {
                moved.extend(holder.children().map(|c| c.id()));
            }
            (space_before, space_after) = (plan.space_before, plan.space_after);
        }
        moved.extend(
            node.children()
                .filter(|c| keeps(name, c.value()))
                .map(|c| c.id()),
        );
        let Some(mut node) = doc.tree.get_mut(id) else {
            continue;
        };
        if space_before {
            node.insert_before(Node::Text(Text { text: " ".into() }));
        }
        for child in moved {
            node.insert_id_before(child);
        }
        if space_after {
            node.insert_before(Node::Text(Text { text: " ".into() }));
        }
        node.detach();
    }
}

/// Is `child` of a `media` element part of its fallback content?
fn keeps(media: &str, child: &Node) -> bool {
    let name = child.as_element().map(|e| e.name());
    match media {
        "audio" | "video" => !matches!(name, Some("source" | "track")),
        "object" => name != Some("param"),
        // An iframe's content is text the parser did not read as HTML; an embed has none.
        _ => false,
    }
}

/// The markup replacing `el` and the URL it links to, if any. `linked` gives the URL a media
/// element inside `el` (already planned) links to.
fn plan(
    el: ElementRef<'_>,
    in_link: bool,
    base: &Url,
    linked: &dyn Fn(ElementRef<'_>) -> Option<Url>,
) -> (Plan, Option<Url>) {
    let name = el.value().name();
    let mut markup = String::new();
    let mut link = None;
    if let Some((href, label)) = target(el, base) {
        let poster = (name == "video")
            .then(|| el.attr("poster"))
            .flatten()
            .and_then(|p| usable_url(base, p));
        let href_attr = html_escape::encode_double_quoted_attribute(href.as_str()).into_owned();
        let img = |alt: &str| match &poster {
            Some(p) => format!(
                "<img src=\"{}\" alt=\"{}\">",
                html_escape::encode_double_quoted_attribute(p.as_str()),
                html_escape::encode_double_quoted_attribute(alt)
            ),
            None => String::new(),
        };
        if in_link {
            markup = img(&label);
        } else if fallback_links_to(el, &href, base, linked) {
            if poster.is_some() {
                markup = format!("<a href=\"{href_attr}\">{}</a>", img(&label));
                link = Some(href);
            }
        } else {
            let before_label = if poster.is_some() {
                format!("{}<br>", img(""))
            } else {
                String::new()
            };
            markup = format!(
                "<a href=\"{href_attr}\">{before_label}{}</a>",
                html_escape::encode_text(&label)
            );
            link = Some(href);
        }
    }
    let fallback = fallback_start(el);
    if !markup.is_empty() && fallback.is_some_and(inline) {
        markup.push_str("<br>");
    }
    let replaced = !markup.is_empty() || fallback.is_some();
    let (prev, next) = (el.prev_sibling(), el.next_sibling());
    let plan = Plan {
        // A media element before this one sets its own space after.
        space_before: replaced
            && prev.is_some_and(|n| {
                !is_media(n.value()) && touches(n.value(), |t| t.ends_with(char::is_whitespace))
            }),
        space_after: replaced
            && next.is_some_and(|n| touches(n.value(), |t| t.starts_with(char::is_whitespace))),
        markup,
    };
    (plan, link)
}

/// The URL `el` plays or shows (for a YouTube or Vimeo player, the video's page) and the text
/// of the link to it.
fn target(el: ElementRef<'_>, base: &Url) -> Option<(Url, String)> {
    if hidden(el) {
        return None;
    }
    let name = el.value().name();
    let url = match name {
        "audio" | "video" => src(el, base).or_else(|| {
            el.children()
                .filter_map(ElementRef::wrap)
                .filter(|c| c.value().name() == "source")
                .find_map(|c| src(c, base))
        })?,
        "object" => usable_url(base, el.attr("data")?)?,
        _ => src(el, base)?,
    };
    let title = el
        .attr("title")
        .map(collapse_whitespace)
        .filter(|t| !t.is_empty())
        .map(|t| t.chars().take(MAX_LABEL_CHARS).collect::<String>());
    if let Some((page, site)) = video_page(&url) {
        return Some((page, title.unwrap_or_else(|| format!("{site} video"))));
    }
    let label = title.unwrap_or_else(|| {
        let host = url.host_str().unwrap_or_default().to_string();
        match name {
            "audio" => format!("Audio: {}", file_name(&url).unwrap_or(host)),
            "video" => format!("Video: {}", file_name(&url).unwrap_or(host)),
            _ => format!("Embedded content ({host})"),
        }
    });
    Some((url, label))
}

/// Is `el` kept out of sight (`hidden`, `aria-hidden="true"`, 0 or 1 pixel wide or high,
/// `display: none` or `visibility: hidden`): a tracking or advertising frame, not content.
fn hidden(el: ElementRef<'_>) -> bool {
    let tiny = |attr: &str| {
        el.attr(attr).is_some_and(|v| {
            let digits: String = v.trim().chars().take_while(char::is_ascii_digit).collect();
            let rest = v.trim()[digits.len()..].trim();
            !digits.is_empty()
                && digits.parse::<u32>().is_ok_and(|n| n <= 1)
                && (rest.is_empty() || rest.eq_ignore_ascii_case("px"))
        })
    };
    let style: String = el
        .attr("style")
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase();
    el.attr("hidden").is_some()
        || el
            .attr("aria-hidden")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
        || tiny("width")
        || tiny("height")
        || style.contains("display:none")
        || style.contains("visibility:hidden")
}

/// The first of `el`'s `src` and lazy-loading attributes that gives an http(s) URL.
fn src(el: ElementRef<'_>, base: &Url) -> Option<Url> {
    std::iter::once("src")
        .chain(LAZY_SRC)
        .filter_map(|a| el.attr(a))
        .find_map(|v| usable_url(base, v))
}

/// `value` resolved against `base` when that gives an http(s) URL other than the page itself
/// (which a blank or fragment-only value gives).
pub(crate) fn usable_url(base: &Url, value: &str) -> Option<Url> {
    let value = value.trim();
    if value.is_empty() || value.starts_with('#') {
        return None;
    }
    resolve_http(base, value)
}

/// The last segment of `url`'s path, percent-decoded, when there is one.
fn file_name(url: &Url) -> Option<String> {
    let last = url.path_segments()?.rev().find(|s| !s.is_empty())?;
    let name = collapse_whitespace(&percent_decode_str(last).decode_utf8_lossy());
    (!name.is_empty()).then(|| name.chars().take(MAX_LABEL_CHARS).collect())
}

/// A YouTube or Vimeo player URL's video page, and the site's name.
fn video_page(url: &Url) -> Option<(Url, &'static str)> {
    let host = url.host_str()?;
    let host = host.strip_prefix("www.").unwrap_or(host);
    let segments: Vec<&str> = url.path_segments()?.filter(|s| !s.is_empty()).collect();
    let query = |key: &str| {
        url.query_pairs()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.into_owned())
    };
    let token = |s: &str, max: usize| {
        !s.is_empty()
            && s.len() <= max
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    let page = match (host, segments.as_slice()) {
        ("youtube.com" | "m.youtube.com" | "youtube-nocookie.com", ["embed", "videoseries"]) => {
            let list = query("list").filter(|l| token(l, 64))?;
            (
                format!("https://www.youtube.com/playlist?list={list}"),
                "YouTube",
            )
        }
        ("youtube.com" | "m.youtube.com" | "youtube-nocookie.com", ["embed" | "v", id])
            if id.len() == 11 && token(id, 11) =>
        {
            let start = query("start")
                .filter(|s| !s.is_empty() && s.len() <= 6 && s.bytes().all(|b| b.is_ascii_digit()))
                .map(|s| format!("&t={s}s"))
                .unwrap_or_default();
            (
                format!("https://www.youtube.com/watch?v={id}{start}"),
                "YouTube",
            )
        }
        ("player.vimeo.com", ["video", id])
            if id.len() <= 12 && !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) =>
        {
            let hash = query("h")
                .filter(|h| {
                    !h.is_empty() && h.len() <= 32 && h.bytes().all(|b| b.is_ascii_hexdigit())
                })
                .map(|h| format!("/{h}"))
                .unwrap_or_default();
            (format!("https://vimeo.com/{id}{hash}"), "Vimeo")
        }
        _ => return None,
    };
    Url::parse(&page.0).ok().map(|u| (u, page.1))
}

/// The same file: equal URLs once query and fragment are set aside.
fn same_file(a: &Url, b: &Url) -> bool {
    let bare = |u: &Url| {
        let mut u = u.clone();
        u.set_query(None);
        u.set_fragment(None);
        u
    };
    bare(a) == bare(b)
}

/// Does the fallback content of `el` (its first [`FALLBACK_SCAN`] nodes) link to `href`,
/// through a link or a media element inside it? Links the sanitizer removes (inside a
/// `<button>` or an `<svg>`, say) do not count.
fn fallback_links_to(
    el: ElementRef<'_>,
    href: &Url,
    base: &Url,
    linked: &dyn Fn(ElementRef<'_>) -> Option<Url>,
) -> bool {
    let name = el.value().name();
    let mut stack: Vec<_> = el
        .children()
        .filter(|c| keeps(name, c.value()))
        .rev()
        .collect();
    let mut seen = 0;
    while let Some(node) = stack.pop() {
        seen += 1;
        if seen > FALLBACK_SCAN {
            return false;
        }
        let Some(e) = ElementRef::wrap(node) else {
            continue;
        };
        let name = e.value().name();
        let html = &*e.value().name.ns == HTML_NS;
        if html && MEDIA.contains(&name) {
            if linked(e).is_some_and(|u| same_file(&u, href)) {
                return true;
            }
        } else if DROP_WITH_CONTENT.contains(&name) {
            continue;
        } else if html
            && name == "a"
            && e.attr("href")
                .and_then(|h| usable_url(base, h))
                .is_some_and(|u| same_file(&u, href))
        {
            return true;
        }
        stack.extend(
            node.children()
                .filter(|c| keeps_or_not_media(name, c.value()))
                .rev(),
        );
    }
    false
}

/// [`keeps`] for the children of a media element, every child of any other.
fn keeps_or_not_media(parent: &str, child: &Node) -> bool {
    !MEDIA.contains(&parent) || keeps(parent, child)
}

/// The first node of `el`'s fallback content that is not blank text.
fn fallback_start(el: ElementRef<'_>) -> Option<&Node> {
    let name = el.value().name();
    el.children()
        .filter(|c| keeps(name, c.value()))
        .map(|c| c.value())
        .find(|n| !n.as_text().is_some_and(|t| t.trim().is_empty()))
}

/// Is `sibling` an inline element, or text that `spaced` does not find spaced from the media
/// element beside it?
fn touches(sibling: &Node, spaced: impl Fn(&str) -> bool) -> bool {
    match sibling {
        Node::Text(t) => !t.is_empty() && !spaced(t),
        other => inline(other),
    }
}

fn is_media(node: &Node) -> bool {
    node.as_element().is_some_and(|e| MEDIA.contains(&e.name()))
}

/// Text, an inline element, or a media element (which becomes a link); not an element the
/// policy drops with its content, nor the `<source>`, `<track>` and `<param>` elements a media
/// element drops.
fn inline(node: &Node) -> bool {
    match node {
        Node::Text(t) => !t.trim().is_empty(),
        Node::Element(e) => {
            MEDIA.contains(&e.name())
                || !(BLOCK_TAGS.contains(&e.name())
                    || DROP_WITH_CONTENT.contains(&e.name())
                    || matches!(e.name(), "source" | "track" | "param"))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_are_looked_for_in_any_case() {
        for html in [
            "<AUDIO src=x>",
            "a<Video>",
            "<iframe",
            "<eMbEd src=x>",
            "<object>",
        ] {
            assert!(may_contain_media(html), "{html}");
        }
        for html in ["", "<p>audio</p>", "< video>", "<img src=x>", "&lt;iframe"] {
            assert!(!may_contain_media(html), "{html}");
        }
    }

    /// Nesting and numbers no real page nears stay linear: a media element's fallback is only
    /// searched so far, and whether it is inside a link is found in one pass.
    #[test]
    fn many_and_deeply_nested_media_stay_cheap() {
        let base = Url::parse("https://example.org/").expect("base");
        let nested = format!(
            "<a href=\"/x\">{}{}</a>",
            "<object data=\"/o\">".repeat(400),
            "</object>".repeat(400)
        )
        .repeat(100);
        let many = "<embed src=\"/e\">".repeat(20_000);
        for html in [nested, many] {
            let started = std::time::Instant::now();
            let mut doc = Html::parse_fragment(&html);
            replace_media(&mut doc, &base);
            assert!(
                started.elapsed() < std::time::Duration::from_secs(20),
                "{:?}",
                started.elapsed()
            );
        }
    }
}
