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
//!   YouTube or Vimeo player URL becomes the video's own page (a YouTube playlist's or channel
//!   live stream's: "YouTube playlist", "YouTube live stream"); a player path that is not a
//!   valid video id (`embed/live_stream` without a channel) stays the player URL. An
//!   `<object>` keeps its fallback content (not its `<param>`s); an `<iframe>`'s content is not
//!   HTML and is dropped.
//! - The custom elements scripts turn into players: `<amp-audio>` / `<amp-video>` as `<audio>`
//!   / `<video>`, `<amp-iframe>` as `<iframe>` (its placeholder dropped), and the YouTube and
//!   Vimeo players drawn from a video id, `<lite-youtube videoid>` (or `playlistid`),
//!   `<amp-youtube data-videoid>` (or `data-live-channelid`) and `<amp-vimeo data-videoid>`:
//!   a link to the video's page, named by their `title` (`<lite-youtube>`: else its
//!   `playlabel`), then their fallback content, such as the link to the video a
//!   `<lite-youtube>` often holds (then no second link is added). So is WP Rocket's
//!   `<div class="rll-youtube-player" data-src data-id data-query data-alt>` (named by its
//!   `data-alt`, the frame's title).
//! - `<noscript>`: the media elements it holds for readers without scripts (a lazy-loading
//!   script's frame, the only copy of a video) are read as if they stood in its place, each
//!   unless a media element outside it (the lazy-loading placeholder beside it) or in an
//!   earlier `<noscript>` already links to the same file or video. The rest of it is dropped,
//!   its images too (copies of lazy-loaded ones, or tracking pixels).
//!
//! URLs are resolved against the page the way the sanitizer resolves every URL, and only
//! http(s) ones give a link. A media element inside a link gives no link of its own (its poster
//! stays); a hidden frame, embed or object (a tracking frame: `hidden`, 0 or 1 pixel,
//! `display: none`…) none at all, unless it is a YouTube or Vimeo player: audio, video and
//! players are content even while a script keeps them out of sight. Only the parsed tree is
//! rewritten, with escaped text and attribute values: what is safe stays the sanitizer's
//! decision, which cleans the result (generated links and fallback content included) like any
//! other markup.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use percent_encoding::percent_decode_str;
use scraper::node::{Element, Text};
use scraper::{ElementRef, Html, Node};
use url::Url;

use super::html::{BLOCK_TAGS, DROP_WITH_CONTENT, collapse_whitespace, resolve_http};

/// What a media element is, for what it links to and which of its children are its fallback.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `<audio>`, `<amp-audio>`: a file.
    Audio,
    /// `<video>`, `<amp-video>`: a file, and a poster.
    Video,
    /// `<iframe>`, `<embed>`, `<amp-iframe>`: a page or a file; no fallback content.
    Frame,
    /// `<object>`: its `data`.
    Object,
    /// A YouTube or Vimeo player a script draws from a video id: `<lite-youtube>`,
    /// `<amp-youtube>`, `<amp-vimeo>`, WP Rocket's `<div class="rll-youtube-player">`.
    Player,
}

/// The elements replaced, by name.
const MEDIA: [(&str, Kind); 11] = [
    ("audio", Kind::Audio),
    ("video", Kind::Video),
    ("iframe", Kind::Frame),
    ("embed", Kind::Frame),
    ("object", Kind::Object),
    ("amp-audio", Kind::Audio),
    ("amp-video", Kind::Video),
    ("amp-iframe", Kind::Frame),
    ("lite-youtube", Kind::Player),
    ("amp-youtube", Kind::Player),
    ("amp-vimeo", Kind::Player),
];

/// What media element `e` is, if it is one.
fn media_kind(e: &Element) -> Option<Kind> {
    if &*e.name.ns != HTML_NS {
        return None;
    }
    let name = e.name();
    MEDIA
        .iter()
        .find(|(n, _)| *n == name)
        .map(|&(_, k)| k)
        .or_else(|| (name == "div" && e.classes().any(|c| c == RLL_PLAYER)).then_some(Kind::Player))
}

/// The class of the `<div>` WP Rocket's lazy-loading script turns into a YouTube player (its
/// `<iframe>` is left in a `<noscript>` beside it).
const RLL_PLAYER: &str = "rll-youtube-player";

/// Attributes lazy-loading scripts keep a frame's or a media file's real URL in, after `src`.
const LAZY_SRC: [&str; 3] = ["data-src", "data-lazy-src", "data-original"];

/// At most this many nodes of a media element's fallback are searched for a link to its file.
const FALLBACK_SCAN: usize = 512;

/// Longest label taken from a `title` attribute or a file name, in characters.
const MAX_LABEL_CHARS: usize = 200;

const HTML_NS: &str = "http://www.w3.org/1999/xhtml";

/// Could `html` hold a media element? A cheap test (`<` and the name of one, `<audio`,
/// `<iframe`, `<lite-youtube`…, or `<noscript`, in any case, or WP Rocket's player class) so
/// that bodies without one are not parsed for it.
pub(super) fn may_contain_media(html: &str) -> bool {
    let names = MEDIA.iter().map(|(name, _)| *name).chain(["noscript"]);
    html.contains(RLL_PLAYER)
        || html.match_indices('<').any(|(at, _)| {
            let rest = &html.as_bytes()[at + 1..];
            names.clone().any(|name| {
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
    unwrap_noscripts(doc, base);
    // Every media element in document order, and whether it is inside a link.
    let mut found = Vec::new();
    let mut stack = vec![(doc.tree.root(), false)];
    while let Some((node, mut in_link)) = stack.pop() {
        if let Some(el) = ElementRef::wrap(node)
            && &*el.value().name.ns == HTML_NS
        {
            if let Some(kind) = media_kind(el.value()) {
                found.push((node.id(), in_link, kind));
            } else if el.value().name() == "a" && el.attr("href").is_some() {
                in_link = true;
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
    for &(id, in_link, kind) in found.iter().rev() {
        let Some(el) = doc.tree.get(id).and_then(ElementRef::wrap) else {
            plans.push(None);
            continue;
        };
        let (plan, link) = plan(el, kind, in_link, base, &|e| linked.get(&e.id()).cloned());
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

    for ((id, _, kind), plan) in found.into_iter().zip(plans) {
        let Some(node) = doc.tree.get(id) else {
            continue;
        };
        if node.parent().is_none() {
            continue;
        }
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
                .filter(|c| keeps(kind, c.value()))
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

/// Put before each `<noscript>` of `doc` the media elements it holds for readers without
/// scripts that give a link (see [`target_key`]) no media element outside the `<noscript>`s,
/// nor one taken from an earlier `<noscript>`, gives: a frame kept only there is the one trace
/// of what it plays, but a copy of a lazy-loading placeholder or frame beside it is not a
/// second video. Nothing else it holds is taken (its images are copies of lazy-loaded ones,
/// or tracking pixels, and its text asks for scripts); the policy drops the `<noscript>`.
fn unwrap_noscripts(doc: &mut Html, base: &Url) {
    let mut noscripts = Vec::new();
    let mut media = Vec::new();
    for node in doc.tree.root().descendants() {
        let Some(e) = node.value().as_element() else {
            continue;
        };
        if e.name() == "noscript" && &*e.name.ns == HTML_NS {
            noscripts.push(node.id());
        } else if let Some(kind) = media_kind(e) {
            media.push((node.id(), kind));
        }
    }
    if noscripts.is_empty() {
        return;
    }
    let mut shown: HashSet<String> = media
        .into_iter()
        .filter_map(|(id, kind)| {
            let el = doc.tree.get(id).and_then(ElementRef::wrap)?;
            target(el, kind, base).map(|(url, _)| target_key(&url))
        })
        .collect();
    for id in noscripts {
        let Some(noscript) = doc.tree.get(id) else {
            continue;
        };
        // Parsed with scripting on, as html5ever does, a `<noscript>` holds its markup as
        // text. Written out by a serializer that escapes it (as extraction's does:
        // `&lt;iframe …&gt;`) and parsed again, it holds no `<`: then it is decoded once.
        let text: String = noscript
            .children()
            .filter_map(|c| c.value().as_text())
            .map(|t| &**t)
            .collect();
        let markup = if text.contains('<') {
            Cow::Borrowed(text.as_str())
        } else {
            html_escape::decode_html_entities(&text)
        };
        if !may_contain_media(&markup) {
            continue;
        }
        let fragment = Html::parse_fragment(&markup);
        let root = doc.tree.extend_tree(fragment.tree).id();
        let mut taken = Vec::new();
        let mut stack: Vec<_> = doc.tree.get(root).into_iter().collect();
        while let Some(node) = stack.pop() {
            if let Some(el) = ElementRef::wrap(node)
                && let Some(kind) = media_kind(el.value())
            {
                if let Some((url, _)) = target(el, kind, base)
                    && shown.insert(target_key(&url))
                {
                    taken.push(node.id());
                }
                continue;
            }
            stack.extend(node.children().rev());
        }
        if let Some(mut noscript) = doc.tree.get_mut(id) {
            for media in taken {
                noscript.insert_id_before(media);
            }
        }
    }
}

/// Is `child` of a media element of this kind part of its fallback content?
fn keeps(kind: Kind, child: &Node) -> bool {
    let name = child.as_element().map(|e| e.name());
    match kind {
        Kind::Audio | Kind::Video | Kind::Player => !matches!(name, Some("source" | "track")),
        Kind::Object => name != Some("param"),
        // An iframe's content is text the parser did not read as HTML; an embed has none; an
        // `<amp-iframe>`'s is its placeholder and its "read more" button.
        Kind::Frame => false,
    }
}

/// The markup replacing `el` and the URL it links to, if any. `linked` gives the URL a media
/// element inside `el` (already planned) links to.
fn plan(
    el: ElementRef<'_>,
    kind: Kind,
    in_link: bool,
    base: &Url,
    linked: &dyn Fn(ElementRef<'_>) -> Option<Url>,
) -> (Plan, Option<Url>) {
    let mut markup = String::new();
    let mut link = None;
    if let Some((href, label)) = target(el, kind, base) {
        let poster = (kind == Kind::Video)
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
        } else if fallback_links_to(el, kind, &href, base, linked) {
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
    let fallback = fallback_start(el, kind);
    if !markup.is_empty() && fallback.is_some_and(inline) {
        markup.push_str("<br>");
    }
    let replaced = !markup.is_empty() || fallback.is_some();
    // What the body shows beside it: not a comment, nor the `<noscript>` a media element was
    // taken from.
    let prev = el.prev_siblings().find(|n| !vanishes(n.value()));
    let next = el.next_siblings().find(|n| !vanishes(n.value()));
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
fn target(el: ElementRef<'_>, kind: Kind, base: &Url) -> Option<(Url, String)> {
    let url = match kind {
        Kind::Audio | Kind::Video => src(el, base).or_else(|| {
            el.children()
                .filter_map(ElementRef::wrap)
                .filter(|c| c.value().name() == "source")
                .find_map(|c| src(c, base))
        })?,
        Kind::Object => usable_url(base, el.attr("data")?)?,
        Kind::Frame => src(el, base)?,
        Kind::Player => player_url(el, base)?,
    };
    let page = video_page(&url);
    // A player drawn from a video id links to the video or nowhere.
    if kind == Kind::Player && page.is_none() {
        return None;
    }
    // A frame kept out of sight is a tracking or advertising one; a file that plays, or a
    // video's player, is content however the page sizes or hides it until a script shows it.
    if page.is_none() && matches!(kind, Kind::Frame | Kind::Object) && hidden(el) {
        return None;
    }
    let label_from = |attr: &str| {
        el.attr(attr)
            .map(collapse_whitespace)
            .filter(|t| !t.is_empty())
            .map(|t| super::text::whole_graphemes(&t, MAX_LABEL_CHARS).to_owned())
    };
    let mut title = label_from("title");
    if kind == Kind::Player {
        // The frame's title WP Rocket keeps; the play button's label a `<lite-youtube>` is
        // given.
        title = title.or_else(|| match el.value().name() {
            "lite-youtube" => label_from("playlabel"),
            "div" => label_from("data-alt"),
            _ => None,
        });
    }
    if let Some((page, name)) = page {
        return Some((page, title.unwrap_or_else(|| name.to_string())));
    }
    let label = title.unwrap_or_else(|| {
        let host = url.host_str().unwrap_or_default().to_string();
        match kind {
            Kind::Audio => format!("Audio: {}", file_name(&url).unwrap_or(host)),
            Kind::Video => format!("Video: {}", file_name(&url).unwrap_or(host)),
            _ => format!("Embedded content ({host})"),
        }
    });
    Some((url, label))
}

/// The player URL a YouTube or Vimeo player element stands for, built from the video id (or
/// playlist, or channel) it names; [`video_page`] makes it the video's page.
fn player_url(el: ElementRef<'_>, base: &Url) -> Option<Url> {
    let id = |attr: &str| el.attr(attr).map(str::trim).filter(|v| is_token(v, 64));
    let youtube = |path: &str| Url::parse(&format!("https://www.youtube.com/embed/{path}")).ok();
    match el.value().name() {
        "lite-youtube" => {
            let mut url = match id("videoid") {
                Some(video) => youtube(video)?,
                None => youtube(&format!("videoseries?list={}", id("playlistid")?))?,
            };
            // The player's own parameters (`start=…`), as its script passes them on.
            if let Some(params) = el.attr("params").filter(|_| url.query().is_none()) {
                url.set_query(Some(params.trim()));
            }
            Some(url)
        }
        "amp-youtube" => match id("data-videoid") {
            Some(video) => youtube(video),
            None => youtube(&format!(
                "live_stream?channel={}",
                id("data-live-channelid")?
            )),
        },
        "amp-vimeo" => Url::parse(&format!(
            "https://player.vimeo.com/video/{}",
            id("data-videoid")?
        ))
        .ok(),
        // WP Rocket: the frame's URL, or its video id, and the query it took off the URL.
        _ => {
            let mut url = match el.attr("data-src").and_then(|s| usable_url(base, s)) {
                Some(url) => url,
                None => youtube(id("data-id")?)?,
            };
            if let Some(query) = el.attr("data-query").filter(|_| url.query().is_none()) {
                url.set_query(Some(query.trim()));
            }
            Some(url)
        }
    }
}

/// Is `el` kept out of sight (`hidden`, `aria-hidden="true"`, 0 or 1 pixel wide or high,
/// `display: none` or `visibility: hidden`)? For a frame that plays no video: a tracking or
/// advertising one, not content.
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
    (!name.is_empty()).then(|| super::text::whole_graphemes(&name, MAX_LABEL_CHARS).to_owned())
}

/// Could `id` be a YouTube video's id: 11 characters of URL-safe base64 encoding 64 bits, so
/// that the last one carries 4 bits and its 2 low bits are 0 (one of 16 characters)? The
/// player's other paths (`live_stream`, `videoseries`) are 11 characters too.
fn is_video_id(id: &str) -> bool {
    id.len() == 11
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        && id.ends_with(|c: char| "AEIMQUYcgkosw048".contains(c))
}

/// Letters, digits, `-` and `_`, at least one and at most `max`: a playlist, channel or
/// video id.
fn is_token(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A URL's host without `www.`, and its path's non-empty segments.
fn host_and_segments(url: &Url) -> Option<(&str, Vec<&str>)> {
    let host = url.host_str()?;
    let host = host.strip_prefix("www.").unwrap_or(host);
    Some((
        host,
        url.path_segments()?.filter(|s| !s.is_empty()).collect(),
    ))
}

/// The first value of the query parameter `key`.
fn query_value(url: &Url, key: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

/// A YouTube or Vimeo player URL's page (the video's, the playlist's, the channel's live
/// stream), and the name of a link to it.
fn video_page(url: &Url) -> Option<(Url, &'static str)> {
    let (host, segments) = host_and_segments(url)?;
    let query = |key: &str| query_value(url, key);
    let youtube = matches!(
        host,
        "youtube.com" | "m.youtube.com" | "youtube-nocookie.com"
    );
    let playlist = || {
        let list = query("list").filter(|l| is_token(l, 64))?;
        Some((
            format!("https://www.youtube.com/playlist?list={list}"),
            "YouTube playlist",
        ))
    };
    let page = match segments.as_slice() {
        ["embed", "videoseries"] if youtube => playlist()?,
        ["embed"] if youtube && query("listType").as_deref() == Some("playlist") => playlist()?,
        ["embed", "live_stream"] if youtube => {
            let channel = query("channel").filter(|c| is_token(c, 64))?;
            (
                format!("https://www.youtube.com/channel/{channel}/live"),
                "YouTube live stream",
            )
        }
        ["embed" | "v", id] if youtube && is_video_id(id) => {
            let start = query("start")
                .filter(|s| !s.is_empty() && s.len() <= 6 && s.bytes().all(|b| b.is_ascii_digit()))
                .map(|s| format!("&t={s}s"))
                .unwrap_or_default();
            (
                format!("https://www.youtube.com/watch?v={id}{start}"),
                "YouTube video",
            )
        }
        ["video", id]
            if host == "player.vimeo.com"
                && id.len() <= 12
                && !id.is_empty()
                && id.bytes().all(|b| b.is_ascii_digit()) =>
        {
            let hash = query("h")
                .filter(|h| {
                    !h.is_empty() && h.len() <= 32 && h.bytes().all(|b| b.is_ascii_hexdigit())
                })
                .map(|h| format!("/{h}"))
                .unwrap_or_default();
            (format!("https://vimeo.com/{id}{hash}"), "Vimeo video")
        }
        _ => return None,
    };
    Url::parse(&page.0).ok().map(|u| (u, page.1))
}

/// What a link to `url` is the same as, for telling whether two links show the same thing: the
/// video, playlist or live stream of a YouTube or Vimeo page (`watch?v=`, `youtu.be/…`,
/// `playlist?list=`, `channel/…/live`, `vimeo.com/…`), whatever else its URL says; else the
/// URL without its query and fragment: the same file (WordPress's player adds `?_=1` to the
/// `src` it also links plainly).
fn target_key(url: &Url) -> String {
    if let Some(key) = video_key(url) {
        return key;
    }
    let mut bare = url.clone();
    bare.set_query(None);
    bare.set_fragment(None);
    bare.into()
}

/// The video, playlist or live stream a YouTube or Vimeo page's URL shows.
fn video_key(url: &Url) -> Option<String> {
    let (host, segments) = host_and_segments(url)?;
    let query = |key: &str| query_value(url, key);
    let youtube = matches!(host, "youtube.com" | "m.youtube.com");
    let digits = |s: &str| s.len() <= 12 && !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    Some(match segments.as_slice() {
        ["watch"] if youtube => format!("youtube {}", query("v").filter(|v| is_video_id(v))?),
        ["shorts" | "live", id] if youtube && is_video_id(id) => format!("youtube {id}"),
        [id] if host == "youtu.be" && is_video_id(id) => format!("youtube {id}"),
        ["playlist"] if youtube => format!(
            "youtube playlist {}",
            query("list").filter(|l| is_token(l, 64))?
        ),
        ["channel", channel, "live"] if youtube && is_token(channel, 64) => {
            format!("youtube live {channel}")
        }
        [id] | [id, _] if host == "vimeo.com" && digits(id) => format!("vimeo {id}"),
        _ => return None,
    })
}

/// Do links to `a` and `b` show the same thing (see [`target_key`])?
fn same_target(a: &Url, b: &Url) -> bool {
    target_key(a) == target_key(b)
}

/// Does the fallback content of `el` (its first [`FALLBACK_SCAN`] nodes) link to `href`,
/// through a link or a media element inside it? Links the sanitizer removes (inside a
/// `<button>` or an `<svg>`, say) do not count.
fn fallback_links_to(
    el: ElementRef<'_>,
    kind: Kind,
    href: &Url,
    base: &Url,
    linked: &dyn Fn(ElementRef<'_>) -> Option<Url>,
) -> bool {
    let mut stack: Vec<_> = el
        .children()
        .filter(|c| keeps(kind, c.value()))
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
        let media = media_kind(e.value());
        if media.is_some() {
            if linked(e).is_some_and(|u| same_target(&u, href)) {
                return true;
            }
        } else if DROP_WITH_CONTENT.contains(&name) {
            continue;
        } else if &*e.value().name.ns == HTML_NS
            && name == "a"
            && e.attr("href")
                .and_then(|h| usable_url(base, h))
                .is_some_and(|u| same_target(&u, href))
        {
            return true;
        }
        stack.extend(
            node.children()
                .filter(|c| media.is_none_or(|k| keeps(k, c.value())))
                .rev(),
        );
    }
    false
}

/// The first node of `el`'s fallback content that is not blank text.
fn fallback_start(el: ElementRef<'_>, kind: Kind) -> Option<&Node> {
    el.children()
        .filter(|c| keeps(kind, c.value()))
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

/// Does `node` leave nothing in the body: a comment, or a `<noscript>`?
fn vanishes(node: &Node) -> bool {
    match node {
        Node::Comment(_) => true,
        Node::Element(e) => e.name() == "noscript",
        _ => false,
    }
}

fn is_media(node: &Node) -> bool {
    node.as_element().is_some_and(|e| media_kind(e).is_some())
}

/// Text, an inline element, or a media element (which becomes a link); not an element the
/// policy drops with its content, nor the `<source>`, `<track>` and `<param>` elements a media
/// element drops.
fn inline(node: &Node) -> bool {
    match node {
        Node::Text(t) => !t.trim().is_empty(),
        Node::Element(e) => {
            media_kind(e).is_some()
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
            "<lite-youtube videoid=x>",
            "<AMP-YOUTUBE data-videoid=x>",
            "<amp-vimeo",
            "<amp-audio src=x>",
            "<amp-video>",
            "<amp-iframe src=x>",
            "<NoScript>",
            "<div class=\"rll-youtube-player\" data-id=x>",
        ] {
            assert!(may_contain_media(html), "{html}");
        }
        for html in [
            "",
            "<p>audio</p>",
            "< video>",
            "<img src=x>",
            "&lt;iframe",
            "<amp-img src=x>",
            "<lite-vimeo>",
        ] {
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
        // Each `<noscript>` is parsed on its own; the links already given are looked up, not
        // compared one by one.
        let noscripts: String = (0..5_000)
            .map(|i| format!("<embed src=\"/v{i}\"><noscript><embed src=\"/n{i}\"></noscript>"))
            .collect();
        for html in [nested, many, noscripts] {
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
