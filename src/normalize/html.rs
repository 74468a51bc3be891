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
pub(super) const DROP_WITH_CONTENT: &[&str] = &[
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

/// The elements [`DROP_WITH_CONTENT`] names whose fallback content [`super::media`] keeps: turning
/// HTML into text reads their content.
const FALLBACK_KEPT: &[&str] = &["audio", "video", "object"];

/// Is `name` skipped with its content when HTML is turned into text? Those the policy removes
/// with theirs are, except the media elements whose fallback content is kept.
fn text_skipped(name: &str) -> bool {
    DROP_WITH_CONTENT.contains(&name) && !FALLBACK_KEPT.contains(&name)
}

/// Elements whose boundaries separate words when HTML is turned into text. The media elements
/// are among them: each is a box of its own on the page, and in a body a link and its fallback
/// content set apart from the words beside them.
pub(super) const BLOCK_TAGS: &[&str] = &[
    "address",
    "article",
    "aside",
    "audio",
    "blockquote",
    "br",
    "caption",
    "dd",
    "details",
    "div",
    "dl",
    "dt",
    "embed",
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
    "iframe",
    "li",
    "main",
    "nav",
    "object",
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
    "video",
];

/// `true` for characters allowed by the XML 1.0 `Char` production.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Remove every character XML 1.0 forbids (C0 controls other than tab, LF and CR, U+FFFE,
/// U+FFFF); every other character, C1 controls included, is kept.
pub fn xml_safe(s: &str) -> String {
    xml_safe_cow(s).into_owned()
}

/// Resolve `value` against `base`, keeping only http(s) and mailto results.
fn resolve(base: &Url, value: &str) -> Option<Url> {
    let url = base.join(value.trim()).ok()?;
    URL_SCHEMES.contains(&url.scheme()).then_some(url)
}

/// [`resolve`], keeping only http(s) results: what an image or a media file may be.
pub(super) fn resolve_http(base: &Url, value: &str) -> Option<Url> {
    resolve(base, value).filter(|u| u.scheme() != "mailto")
}

thread_local! {
    /// The policy, built once per thread (building it costs as much as cleaning a short post).
    static POLICY: Builder<'static> = policy();
    /// The base URL of the document [`sanitize_html`] is cleaning on this thread, for the
    /// policy's URL callbacks.
    static BASE: std::cell::RefCell<Option<Url>> = const { std::cell::RefCell::new(None) };
}

/// Sets [`BASE`] for one clean and clears it when dropped, even if the clean panics.
struct BaseGuard;

impl BaseGuard {
    fn set(base: &Url) -> BaseGuard {
        BASE.with_borrow_mut(|b| *b = Some(base.clone()));
        BaseGuard
    }
}

impl Drop for BaseGuard {
    fn drop(&mut self) {
        BASE.with_borrow_mut(|b| *b = None);
    }
}

/// The one sanitizing policy (see [`sanitize_html`]). Relative URLs are resolved against
/// [`BASE`], which `sanitize_html` sets around each clean.
fn policy() -> Builder<'static> {
    let tag_attributes: HashMap<&str, HashSet<&str>> = TAG_ATTRIBUTES
        .iter()
        .map(|(tag, attrs)| (*tag, attrs.iter().copied().collect()))
        .collect();
    let mut builder = Builder::empty();
    builder
        .tags(TAGS.iter().copied().collect())
        .clean_content_tags(DROP_WITH_CONTENT.iter().copied().collect())
        .generic_attributes(GENERIC_ATTRIBUTES.iter().copied().collect())
        .tag_attributes(tag_attributes)
        .url_schemes(URL_SCHEMES.iter().copied().collect())
        .url_relative(UrlRelative::Custom(Box::new(Resolver)))
        .attribute_filter(|_element, attribute, value| {
            BASE.with_borrow(|base| match base {
                Some(base) => filter_attribute(base, attribute, value),
                None => unreachable_base(attribute, value),
            })
        })
        .link_rel(Some("noopener noreferrer"))
        .strip_comments(true);
    builder
}

/// Without a base (never, see [`sanitize_html`]) no URL attribute can be made absolute: drop
/// it rather than let a relative one through.
fn unreachable_base<'u>(attribute: &str, value: &'u str) -> Option<Cow<'u, str>> {
    (!matches!(attribute, "srcset" | "cite")).then_some(Cow::Borrowed(value))
}

/// Rewrites relative `href`/`src` values absolute against [`BASE`]; drops them when that gives
/// no allowed URL. [`filter_attribute`] has made them absolute already: this is its backstop.
struct Resolver;

impl<'a> UrlRelativeEvaluate<'a> for Resolver {
    fn evaluate<'url>(&self, value: &'url str) -> Option<Cow<'url, str>> {
        BASE.with_borrow(|base| {
            let base = base.as_ref()?;
            resolve(base, value).map(|url| Cow::Owned(url.into()))
        })
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
        let url = resolve_http(base, url)?;
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

/// Attribute rewriting that ammonia's URL policy does not cover: `srcset` and `cite`, and
/// `href`/`src` written out absolute and serialized even when they parse on their own (ammonia
/// only rewrites the others): `https:/path` and `https:path` are relative to a page on https,
/// as browsers read them, and a URL with spaces, line breaks or capitals in its scheme or host
/// comes out clean.
fn filter_attribute<'u>(base: &Url, attribute: &str, value: &'u str) -> Option<Cow<'u, str>> {
    match attribute {
        "href" | "src" => resolve(base, value).map(|u| Cow::Owned(u.into())),
        "srcset" => rewrite_srcset(base, value).map(Cow::Owned),
        "cite" => resolve_http(base, value).map(|u| Cow::Owned(u.into())),
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
/// usable `src` is removed. Audio, video, frames, embedded objects and the players scripts
/// draw (`<lite-youtube>`, AMP's, WP Rocket's) become a link to their http(s) media or frame
/// URL (a YouTube or Vimeo player's, to the video's page) followed by their fallback content,
/// a video's poster an image, and those a `<noscript>` holds do too unless something outside
/// it links to the same already (see the `media` module). Links get
/// `rel="noopener noreferrer"`. The result contains no XML-forbidden characters, no DEL or C1
/// controls and no carriage returns.
pub fn sanitize_html(html: &str, base: &Url) -> String {
    let prepared = prepare(html, base);
    let input = xml_safe_cow(&prepared);
    let cleaned = POLICY.with(|policy| {
        let _base = BaseGuard::set(base);
        policy.clean(&input).to_string()
    });
    let cleaned = super::images::drop_images_without_src(&cleaned);
    // Character references in the input can still produce forbidden characters.
    let safe = without_controls(&cleaned);
    if safe.contains('\r') {
        safe.replace("\r\n", "\n").replace('\r', "\n")
    } else {
        safe.into_owned()
    }
}

/// `html` with its lazy-loaded images' real URLs promoted ([`super::images`]) and its media
/// elements replaced by links ([`super::media`]): parsed and written out again only when it
/// may hold either.
/// Do two sanitized bodies hold the same markup, written differently? The same elements,
/// attributes and text in the same tree, attributes in any order (the REST API and the page of
/// one post give an `<img>` its attributes in different orders). The store asks this only of
/// bodies that differ as text, so that reading a post another way is not an edit.
pub fn same_markup(a: &str, b: &str) -> bool {
    fn tokens(html: &str) -> Vec<String> {
        // A stack, not recursion: a hostile body may nest deeply.
        enum Step<'a> {
            Open(scraper::ElementRef<'a>),
            Text(&'a str),
            Close(&'a str),
        }
        let doc = Html::parse_fragment(html);
        let mut out = Vec::new();
        let mut stack = vec![Step::Open(doc.root_element())];
        while let Some(step) = stack.pop() {
            let el = match step {
                Step::Close(name) => {
                    out.push(format!("</{name}"));
                    continue;
                }
                Step::Text(text) => {
                    out.push(format!("#{text}"));
                    continue;
                }
                Step::Open(el) => el,
            };
            let mut attrs: Vec<(&str, &str)> = el.value().attrs().collect();
            attrs.sort_unstable();
            out.push(format!("<{} {attrs:?}", el.value().name()));
            stack.push(Step::Close(el.value().name()));
            for child in el.children().rev() {
                if let Some(child) = scraper::ElementRef::wrap(child) {
                    stack.push(Step::Open(child));
                } else if let Node::Text(t) = child.value() {
                    stack.push(Step::Text(t));
                }
            }
        }
        out
    }
    tokens(a) == tokens(b)
}

fn prepare<'h>(html: &'h str, base: &Url) -> Cow<'h, str> {
    let lazy = super::images::may_be_lazy(html);
    let media = super::media::may_contain_media(html);
    if !lazy && !media {
        return Cow::Borrowed(html);
    }
    let mut doc = Html::parse_fragment(html);
    if media {
        super::media::replace_media(&mut doc, base);
    }
    Cow::Owned(crate::html_out::inner_html(
        doc.root_element(),
        &|_| false,
        &super::images::lazy_attrs,
    ))
}

/// [`xml_safe`], copying only when something is removed.
fn xml_safe_cow(s: &str) -> Cow<'_, str> {
    // The forbidden characters are C0 controls (one byte each in UTF-8, and such bytes occur
    // nowhere else) and U+FFFE / U+FFFF: checked bytewise, without decoding every character.
    let clean = s
        .bytes()
        .all(|b| b >= 0x20 || matches!(b, b'\t' | b'\n' | b'\r'))
        && !s.contains(['\u{FFFE}', '\u{FFFF}']);
    if clean {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(s.chars().filter(|&c| is_xml_char(c)).collect())
    }
}

/// [`xml_safe`], and without DEL and the C1 controls (U+0080-U+009F) either: XML allows them,
/// but in a body they are never text, and a terminal feed reader may run U+009B (the 8-bit
/// CSI) as an escape sequence. The text fields drop them too (`normalize::text`).
fn without_controls(s: &str) -> Cow<'_, str> {
    // DEL is the byte 0x7F; a C1 control is 0xC2 followed by 0x80-0x9F in UTF-8.
    let bytes = s.as_bytes();
    let has_control = bytes.contains(&0x7F)
        || bytes
            .windows(2)
            .any(|w| w[0] == 0xC2 && (0x80..0xA0).contains(&w[1]));
    if has_control {
        Cow::Owned(
            s.chars()
                .filter(|&c| is_xml_char(c) && !matches!(c, '\u{7F}'..='\u{9F}'))
                .collect(),
        )
    } else {
        xml_safe_cow(s)
    }
}

/// White space a reader never sees as written: the ASCII white space HTML collapses (tab, line
/// feed, form feed, carriage return, space), and the line breaks of plain text (NEL, U+2028,
/// U+2029). The other spaces (no-break U+00A0 and U+202F, the fixed-width spaces, the
/// ideographic space U+3000) are characters of the text, which typography puts there.
pub(crate) fn collapsible(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{B}' | '\u{C}' | '\r' | ' ' | '\u{85}' | '\u{2028}' | '\u{2029}'
    )
}

/// Collapse white space as a browser shows it: a run of white space that holds [`collapsible`]
/// white space becomes one space (so a `<p>&nbsp;</p>` between paragraphs is one space), a run
/// of other spaces only (`Genève\u{A0}:`, `vue\u{202F}!`) is kept as written, and white space
/// at either end is trimmed.
pub(crate) fn collapse_whitespace(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    // Where the current run of white space started, and whether it holds collapsible space.
    let mut run: Option<(usize, bool)> = None;
    for (at, c) in s.char_indices() {
        if c.is_whitespace() {
            let (start, any) = run.unwrap_or((at, false));
            run = Some((start, any || collapsible(c)));
            continue;
        }
        if let Some((start, any)) = run.take()
            && !out.is_empty()
        {
            out.push_str(if any { " " } else { &s[start..at] });
        }
        out.push(c);
    }
    out
}

/// Whitespace-collapsed text (see [`collapse_whitespace`]) built one piece at a time, up to a
/// length.
struct Collapsed {
    out: String,
    chars: usize,
    limit: usize,
    /// The white space seen since the last other character that is not [`collapsible`].
    run: String,
    /// The white space seen since the last other character holds collapsible space (or a block
    /// boundary): it becomes one space.
    collapse: bool,
}

impl Collapsed {
    fn full(&self) -> bool {
        self.chars >= self.limit
    }

    fn space(&mut self) {
        self.collapse = true;
    }

    fn push_str(&mut self, text: &str) {
        for c in text.chars() {
            if self.full() {
                return;
            }
            if c.is_whitespace() {
                if collapsible(c) {
                    self.collapse = true;
                } else {
                    self.run.push(c);
                }
                continue;
            }
            if !self.out.is_empty() {
                if self.collapse {
                    self.out.push(' ');
                    self.chars += 1;
                } else {
                    self.out.push_str(&self.run);
                    self.chars += self.run.chars().count();
                }
            }
            self.run.clear();
            self.collapse = false;
            self.out.push(c);
            self.chars += 1;
        }
    }
}

/// A prefix of at least `limit` characters (the whole text when shorter) of what
/// [`html_to_text`] gives for `html`, which must be [`sanitize_html`] output: read straight off
/// the markup instead of parsing it again. That output is regular (double-quoted attributes; text escaped with `&amp;`, `&lt;`, `&gt;` and
/// `&nbsp;` only; no comments, no script-like elements); anything else falls back to
/// [`html_to_text`].
pub(crate) fn sanitized_text_prefix(html: &str, limit: usize) -> String {
    let slow = || html_to_text(html);
    let mut text = Collapsed {
        out: String::new(),
        chars: 0,
        limit,
        run: String::new(),
        collapse: false,
    };
    let mut rest = html;
    while !rest.is_empty() && !text.full() {
        let Some(at) = rest.find(['<', '&']) else {
            text.push_str(rest);
            break;
        };
        text.push_str(&rest[..at]);
        rest = &rest[at..];
        if rest.starts_with('&') {
            let (decoded, len) = if rest.starts_with("&amp;") {
                ("&", 5)
            } else if rest.starts_with("&lt;") {
                ("<", 4)
            } else if rest.starts_with("&gt;") {
                (">", 4)
            } else if rest.starts_with("&nbsp;") {
                ("\u{a0}", 6)
            } else {
                return slow();
            };
            text.push_str(decoded);
            rest = &rest[len..];
            continue;
        }
        // A tag: its name, then up to the `>` outside a quoted attribute value.
        let name_start = usize::from(rest[1..].starts_with('/')) + 1;
        let name_len = rest[name_start..]
            .find(|c: char| c.is_ascii_whitespace() || c == '/' || c == '>')
            .unwrap_or(rest.len() - name_start);
        let name = &rest[name_start..name_start + name_len];
        if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            || text_skipped(name)
        {
            return slow();
        }
        let mut in_quote = false;
        let end = rest[name_start + name_len..]
            .char_indices()
            .find_map(|(i, c)| match c {
                '"' => {
                    in_quote = !in_quote;
                    None
                }
                '>' if !in_quote => Some(name_start + name_len + i + 1),
                _ => None,
            });
        let Some(end) = end else {
            return slow();
        };
        if BLOCK_TAGS.contains(&name) {
            text.space();
        }
        rest = &rest[end..];
    }
    text.out
}

/// The visible text of an HTML fragment: tags removed, entities decoded, script-like content
/// and frames skipped, block boundaries turned into spaces, whitespace collapsed. The fallback
/// content of audio, video and objects is text, as the sanitizer keeps it.
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
                if text_skipped(name) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_markup_ignores_attribute_order_only() {
        let a = r#"<p>Hi <img src="x.jpg" alt="A" width="3"><a href="/b">b</a></p>"#;
        assert!(same_markup(
            a,
            r#"<p>Hi <img width="3" alt="A" src="x.jpg"><a href="/b">b</a></p>"#
        ));
        assert!(!same_markup(
            a,
            r#"<p>Hi <img src="x.jpg" alt="B" width="3"><a href="/b">b</a></p>"#
        ));
        assert!(!same_markup(
            a,
            r#"<p>Ho <img src="x.jpg" alt="A" width="3"><a href="/b">b</a></p>"#
        ));
        assert!(!same_markup(
            a,
            r#"<p>Hi <img src="x.jpg" alt="A" width="3"></p><a href="/b">b</a>"#
        ));
        // Deep nesting is walked without recursion.
        let deep = "<div>".repeat(2_000);
        assert!(same_markup(&deep, &deep));
    }

    /// HTML → text skips what the policy drops with its content, but for the media elements
    /// whose fallback content the body keeps.
    #[test]
    fn text_skips_what_the_policy_drops_but_media_fallback() {
        let html = "<p>start <script>inscript</script><style>instyle</style>\
                    <select><option>inselect</select><video>invideo</video>\
                    <audio>inaudio</audio><object>inobject</object> end</p>";
        let text = html_to_text(html);
        for kept in ["start", "invideo", "inaudio", "inobject", "end"] {
            assert!(text.contains(kept), "{kept} in {text}");
        }
        for gone in ["inscript", "instyle", "inselect"] {
            assert!(!text.contains(gone), "{gone} in {text}");
        }
        assert!(FALLBACK_KEPT.iter().all(|t| DROP_WITH_CONTENT.contains(t)));
    }

    /// Regression: `Genève&nbsp;: «&nbsp;accord&nbsp;»` lost its no-break spaces, which only
    /// ASCII white space is collapsed in HTML.
    #[test]
    fn text_keeps_no_break_spaces() {
        let text = html_to_text(
            "<h1>Genève&nbsp;: &laquo;&nbsp;accord&nbsp;&raquo; vue&#8239;!</h1>\
             <p>&nbsp;</p><p>\n&nbsp; Tokyo\u{3000}Osaka&nbsp;</p>",
        );
        assert_eq!(
            text,
            "Genève\u{A0}: «\u{A0}accord\u{A0}» vue\u{202F}! Tokyo\u{3000}Osaka"
        );
        assert_eq!(
            collapse_whitespace(" a \u{A0}\u{A0}b\u{2029}c\u{85} "),
            "a b c"
        );
        assert_eq!(collapse_whitespace("a\u{A0}\u{A0}b"), "a\u{A0}\u{A0}b");
        assert_eq!(collapse_whitespace("\u{A0}\t"), "");
    }

    /// The markup-reading text of sanitizer output equals the parsed one, as far as a summary
    /// reads it.
    #[test]
    fn sanitized_text_prefix_matches_parsing_the_sanitized_html() {
        let base = Url::parse("https://example.org/a/b/").expect("base");
        let long = "word ".repeat(200);
        let inputs = [
            "<p>One &amp; two &lt;three&gt;&nbsp;four</p><p>five</p>".to_string(),
            "<div><p>a<div>b</div>c</p></div>x<br>y<hr>z".to_string(),
            "<a href=\"/x?a=1&b=2\" title='a > b'>link &gt; text</a><img src=x alt=\"1 > 0\">"
                .to_string(),
            "<table><tr><td>cell</td><td>two</td></tr></table>after<pre>\n\n code  </pre>"
                .to_string(),
            "<script>alert(1)</script><style>p{}</style><noscript>no</noscript>text<!-- c -->"
                .to_string(),
            "caf&eacute; &#169; &#x1F600; &#1; tab\there\r\nline".to_string(),
            format!("<p>{long}</p><ul><li>{long}</li></ul>"),
            format!("<p>{}</p>", "x".repeat(400)),
            "<p>Genève&nbsp;: «&nbsp;accord&nbsp;» vue&#8239;!</p><p>&nbsp;</p><p> &nbsp;x\u{3000}y</p>"
                .to_string(),
            format!("<p>{}</p>", "a&nbsp;&nbsp;".repeat(200)),
            "<p>Listen:<audio src=\"/a.mp3\"><source src=\"/b.ogg\">Get <b>it</b></audio>then\
             <video poster=\"/p.jpg\" src=\"v.mp4\"><a href=\"v.mp4\">v</a></video>\
             <iframe title=\"T &amp; U\" src=\"https://www.youtube.com/embed/dQw4w9WgXcQ\">x</iframe>\
             <object data=\"/o\"><param name=\"a\"><embed src=\"/e\">fallback</object></p>"
                .to_string(),
            String::new(),
        ];
        for input in inputs {
            let clean = sanitize_html(&input, &base);
            let full = html_to_text(&clean);
            let prefix = sanitized_text_prefix(&clean, 302);
            assert!(
                full.starts_with(&prefix),
                "{input:?}: {prefix:?} vs {full:?}"
            );
            assert!(
                prefix.chars().count() >= 302 || prefix == full,
                "{input:?}: {prefix:?} vs {full:?}"
            );
        }
    }
}
