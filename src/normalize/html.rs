//! The one HTML policy (feeds and email), XML-forbidden character removal, and HTML → text.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use ammonia::{Builder, UrlRelative, UrlRelativeEvaluate};
use scraper::{Html, Node};
use url::Url;

/// Elements kept (without their disallowed attributes).
const TAGS: &[&str] = &[
    "a",
    "abbr",
    "article",
    "aside",
    "b",
    "bdi",
    "bdo",
    "blockquote",
    "br",
    "caption",
    "cite",
    "code",
    "col",
    "colgroup",
    "dd",
    "del",
    "details",
    "dfn",
    "div",
    "dl",
    "dt",
    "em",
    "figcaption",
    "figure",
    "footer",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "i",
    "img",
    "ins",
    "kbd",
    "li",
    "mark",
    "ol",
    "p",
    "picture",
    "pre",
    "q",
    "rp",
    "rt",
    "ruby",
    "s",
    "samp",
    "section",
    "small",
    "source",
    "span",
    "strong",
    "sub",
    "summary",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "time",
    "tr",
    "u",
    "ul",
    "var",
    "wbr",
];

/// Elements removed together with everything inside them.
const DROP_WITH_CONTENT: &[&str] = &[
    "script",
    "style",
    "template",
    "noscript",
    "iframe",
    "object",
    "embed",
    "applet",
    "frame",
    "frameset",
    "noembed",
    "noframes",
    "svg",
    "math",
    "canvas",
    "audio",
    "video",
    "select",
    "textarea",
    "button",
    "title",
    "head",
    "xmp",
    "plaintext",
];

/// Attributes allowed on every kept element.
const GENERIC_ATTRIBUTES: &[&str] = &["lang", "title", "dir"];

/// Attributes allowed per element. `href`/`src` go through ammonia's URL checks; `cite` and
/// `srcset` through [`filter_attribute`].
const TAG_ATTRIBUTES: &[(&str, &[&str])] = &[
    ("a", &["href", "hreflang"]),
    ("img", &["src", "alt", "width", "height", "srcset", "sizes"]),
    ("source", &["srcset", "sizes", "media", "type"]),
    ("blockquote", &["cite"]),
    ("q", &["cite"]),
    ("del", &["cite", "datetime"]),
    ("ins", &["cite", "datetime"]),
    ("time", &["datetime"]),
    ("ol", &["start", "reversed", "type"]),
    ("li", &["value"]),
    ("td", &["colspan", "rowspan", "headers"]),
    ("th", &["colspan", "rowspan", "headers", "scope", "abbr"]),
    ("col", &["span"]),
    ("colgroup", &["span"]),
    ("abbr", &["title"]),
    ("details", &["open"]),
];

/// URL schemes allowed in links and images.
const URL_SCHEMES: &[&str] = &["http", "https", "mailto"];

/// Elements whose boundaries separate words when HTML is turned into text.
const BLOCK_TAGS: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "br",
    "caption",
    "dd",
    "details",
    "div",
    "dl",
    "dt",
    "figcaption",
    "figure",
    "footer",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "li",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "summary",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "ul",
];

/// `true` for characters allowed by the XML 1.0 `Char` production.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Remove every character XML 1.0 forbids (C0 controls other than tab, LF and CR, U+FFFE,
/// U+FFFF); every other character, C1 controls included, is kept.
pub fn xml_safe(s: &str) -> String {
    if s.chars().all(is_xml_char) {
        s.to_string()
    } else {
        s.chars().filter(|&c| is_xml_char(c)).collect()
    }
}

/// Resolve `value` against `base`, keeping only http(s) and mailto results.
fn resolve(base: &Url, value: &str) -> Option<Url> {
    let url = base.join(value.trim()).ok()?;
    URL_SCHEMES.contains(&url.scheme()).then_some(url)
}

/// Rewrites relative `href`/`src` values absolute; drops them when that gives no allowed URL.
struct Resolver(Url);

impl<'a> UrlRelativeEvaluate<'a> for Resolver {
    fn evaluate<'url>(&self, value: &'url str) -> Option<Cow<'url, str>> {
        resolve(&self.0, value).map(|url| Cow::Owned(url.into()))
    }
}

/// Rewrite one `srcset` value with absolute http(s) candidates, or `None` to drop it when any
/// candidate is not a plain `url [descriptor]` pair pointing to http(s).
fn rewrite_srcset(base: &Url, value: &str) -> Option<String> {
    let mut candidates = Vec::new();
    for candidate in value.split(',') {
        let mut parts = candidate.split_whitespace();
        let Some(url) = parts.next() else {
            continue;
        };
        let descriptor = parts.next();
        if parts.next().is_some() {
            return None;
        }
        let url = resolve(base, url).filter(|u| u.scheme() != "mailto")?;
        let valid_descriptor = descriptor.is_none_or(|d| {
            let number = d.strip_suffix(['w', 'x']).unwrap_or("");
            !number.is_empty()
                && number
                    .parse::<f64>()
                    .is_ok_and(|n| n.is_finite() && n > 0.0)
        });
        if !valid_descriptor {
            return None;
        }
        candidates.push(match descriptor {
            Some(d) => format!("{url} {d}"),
            None => url.to_string(),
        });
    }
    (!candidates.is_empty()).then(|| candidates.join(", "))
}

/// Attribute rewriting that ammonia's URL policy does not cover (`srcset`, `cite`).
fn filter_attribute<'u>(base: &Url, attribute: &str, value: &'u str) -> Option<Cow<'u, str>> {
    match attribute {
        "srcset" => rewrite_srcset(base, value).map(Cow::Owned),
        "cite" => resolve(base, value)
            .filter(|u| u.scheme() != "mailto")
            .map(|u| Cow::Owned(u.into())),
        _ => Some(Cow::Borrowed(value)),
    }
}

/// Sanitize untrusted HTML with the one policy used for feeds and email.
///
/// A generous article tag set is kept; scripts, styles, frames, embedded objects and forms are
/// removed; no `on*`, `style`, `class` or `id` attributes survive; URLs are limited to http,
/// https and mailto, and every relative URL (also in `srcset` and `cite`) is made absolute
/// against `base` (dropped when `base` cannot make it http(s)). Lazy-loaded images get their
/// real URL from `data-src` / `data-lazy-src` / `data-original` / `data-srcset` /
/// `data-lazy-srcset` when `src` is missing or a `data:` placeholder; an `<img>` left without a
/// usable `src` is removed. Links get
/// `rel="noopener noreferrer"`. The result contains no XML-forbidden characters and no carriage
/// returns.
pub fn sanitize_html(html: &str, base: &Url) -> String {
    let tag_attributes: HashMap<&str, HashSet<&str>> = TAG_ATTRIBUTES
        .iter()
        .map(|(tag, attrs)| (*tag, attrs.iter().copied().collect()))
        .collect();
    let filter_base = base.clone();
    let mut builder = Builder::empty();
    builder
        .tags(TAGS.iter().copied().collect())
        .clean_content_tags(DROP_WITH_CONTENT.iter().copied().collect())
        .generic_attributes(GENERIC_ATTRIBUTES.iter().copied().collect())
        .tag_attributes(tag_attributes)
        .url_schemes(URL_SCHEMES.iter().copied().collect())
        .url_relative(UrlRelative::Custom(Box::new(Resolver(base.clone()))))
        .attribute_filter(move |_element, attribute, value| {
            filter_attribute(&filter_base, attribute, value)
        })
        .link_rel(Some("noopener noreferrer"))
        .strip_comments(true);
    let promoted = super::images::promote_lazy_images(html);
    let cleaned = builder.clean(&xml_safe(&promoted)).to_string();
    let cleaned = super::images::drop_images_without_src(&cleaned);
    // Character references in the input can still produce forbidden characters.
    xml_safe(&cleaned).replace("\r\n", "\n").replace('\r', "\n")
}

/// Collapse every run of whitespace to one space and trim.
pub(crate) fn collapse_whitespace(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// The visible text of an HTML fragment: tags removed, entities decoded, script-like content
/// skipped, block boundaries turned into spaces, whitespace collapsed.
pub(crate) fn html_to_text(html: &str) -> String {
    enum Step<N> {
        Visit(N),
        Space,
    }
    let doc = Html::parse_fragment(html);
    let mut text = String::new();
    let mut stack = vec![Step::Visit(doc.tree.root())];
    while let Some(step) = stack.pop() {
        let node = match step {
            Step::Space => {
                text.push(' ');
                continue;
            }
            Step::Visit(node) => node,
        };
        match node.value() {
            Node::Text(t) => {
                text.push_str(t);
                continue;
            }
            Node::Element(e) => {
                let name = e.name();
                if DROP_WITH_CONTENT.contains(&name) {
                    continue;
                }
                if BLOCK_TAGS.contains(&name) {
                    text.push(' ');
                    stack.push(Step::Space);
                }
            }
            Node::Document | Node::Fragment => {}
            _ => continue,
        }
        let children: Vec<_> = node.children().collect();
        stack.extend(children.into_iter().rev().map(Step::Visit));
    }
    collapse_whitespace(&xml_safe(&text))
}
