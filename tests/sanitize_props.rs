//! Property tests: whatever HTML-ish input, `sanitize_html` yields script-free, handler-free,
//! XML-safe output that can be embedded as text in an XML document and read back unchanged; and
//! an audio, video, frame, embed or object with an http(s) URL leaves a link to it, whatever
//! its fallback content.

use feedwright::normalize::sanitize_html;
use proptest::prelude::*;
use quick_xml::Reader;
use quick_xml::Writer;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesEnd, BytesStart, BytesText, Event};
use url::Url;

/// Elements that are kept and carry URLs: where a policy mistake would show.
const URL_TAGS: &[&str] = &[
    "a",
    "img",
    "blockquote",
    "q",
    "source",
    "picture",
    "del",
    "ins",
];

/// Elements that must disappear, often with their content.
const DANGEROUS_TAGS: &[&str] = &[
    "script",
    "SCRIPT",
    "iframe",
    "svg",
    "math",
    "style",
    "object",
    "embed",
    "form",
    "input",
    "noscript",
    "template",
    "textarea",
    "title",
    "base",
    "meta",
    "link",
    "frame",
    "xmp",
    "plaintext",
    "select",
    "video",
    "VIDEO",
    "audio",
    "track",
    "param",
    "animate",
    "set",
    "use",
    "image",
];

/// Ordinary elements.
const OTHER_TAGS: &[&str] = &[
    "p", "div", "b", "table", "td", "tr", "li", "ul", "option", "span",
];

/// Attributes that hold URLs.
const URL_ATTR_NAMES: &[&str] = &[
    "href",
    "src",
    "srcset",
    "cite",
    "xlink:href",
    "action",
    "formaction",
    "data",
    "poster",
    "background",
    "ping",
    "HREF",
    "data-src",
    "data-lazy-src",
];

/// Event handlers.
const HANDLERS: &[&str] = &["onerror", "onclick", "ONLOAD", "onmouseover", "onfocus"];

/// Other attributes.
const OTHER_ATTRS: &[&str] = &[
    "style",
    "class",
    "id",
    "title",
    "alt",
    "width",
    "values",
    "attributeName",
    "to",
    "from",
    "rel",
    "target",
];

const URL_VALUES: &[&str] = &[
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "java&#x09;script:alert(1)",
    "&#106;avascript:alert(1)",
    "&#x6A;avascript:alert(1)",
    "\u{1}javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "data:image/png;base64,AAAA",
    "about:blank",
    "https://www.youtube.com/embed/dQw4w9WgXcQ?start=12",
    "https://player.vimeo.com/video/76979871",
    "vbscript:msgbox(1)",
    "https://example.org/x?a=1&b=2",
    "http://example.org/",
    "//cdn.example.org/i.png",
    "/relative/path",
    "../up",
    "mailto:me@example.org",
    "a.png 1x, javascript:alert(1) 2x",
    "a.png 300w, b.png 600w",
    "alert(1)",
    "\"><script>alert(1)</script>",
    "]]>",
];

const TEXTS: &[&str] = &[
    "]]>",
    "&amp;",
    "&nbsp;",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "&#0;",
    "&#1;",
    "&#x1F;",
    "&#xFFFE;",
    "&#xFFFF;",
    "&#xD800;",
    "&#13;",
    "&#x110000;",
    "&bogus;",
    "&",
    "<",
    ">",
    "<!--",
    "-->",
    "<![CDATA[",
    "<!DOCTYPE html>",
    "</",
    "<?xml version=\"1.0\"?>",
    "\r\n",
    "\r",
    "\u{0}",
    "\u{1}",
    "\u{8}",
    "\u{b}",
    "\u{c}",
    "\u{1b}",
    "\u{7f}",
    "\u{FFFE}",
    "\u{FFFF}",
    "onerror=alert(1)",
    "javascript:alert(1)",
    "<scr<script>ipt>",
    "\"",
    "'",
    "=",
];

fn pick(list: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop::sample::select(list).prop_map(str::to_string)
}

fn attr_value() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => pick(URL_VALUES),
        1 => any::<String>().prop_map(|s| s.chars().take(12).collect()),
        1 => pick(TEXTS),
    ]
}

fn tag() -> impl Strategy<Value = String> {
    prop_oneof![3 => pick(URL_TAGS), 2 => pick(DANGEROUS_TAGS), 1 => pick(OTHER_TAGS)]
}

fn attribute() -> impl Strategy<Value = String> {
    let name = prop_oneof![3 => pick(URL_ATTR_NAMES), 1 => pick(HANDLERS), 1 => pick(OTHER_ATTRS)];
    (name, attr_value(), 0..4u8).prop_map(|(name, value, quoting)| match quoting {
        0 => format!(" {name}=\"{}\"", value.replace('"', "&quot;")),
        1 => format!(" {name}='{}'", value.replace('\'', "&#39;")),
        2 => format!(" {name}={value}"),
        _ => format!(" {name}"),
    })
}

fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => (tag(), prop::collection::vec(attribute(), 0..4), any::<bool>())
            .prop_map(|(tag, attrs, self_closing)| {
                format!("<{tag}{}{}>", attrs.concat(), if self_closing { "/" } else { "" })
            }),
        2 => tag().prop_map(|tag| format!("</{tag}>")),
        3 => pick(TEXTS),
        2 => any::<String>().prop_map(|s| s.chars().take(16).collect()),
        1 => prop::collection::vec(any::<char>(), 0..8).prop_map(|c| c.into_iter().collect()),
    ]
}

fn html() -> impl Strategy<Value = String> {
    prop::collection::vec(piece(), 0..30).prop_map(|pieces| pieces.concat())
}

fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Attributes whose values are URLs (or lists of URLs).
const URL_ATTRS: &[&str] = &[
    "href",
    "src",
    "cite",
    "srcset",
    "action",
    "formaction",
    "xlink:href",
    "data",
    "poster",
    "background",
    "ping",
];

const ALLOWED_ATTRS: &[&str] = &[
    "href", "hreflang", "rel", "src", "alt", "width", "height", "srcset", "sizes", "media", "type",
    "cite", "datetime", "start", "reversed", "value", "colspan", "rowspan", "headers", "scope",
    "abbr", "span", "open", "lang", "title", "dir",
];

fn is_allowed_url(value: &str) -> bool {
    ["http://", "https://", "mailto:"]
        .iter()
        .any(|prefix| value.starts_with(prefix))
}

/// Check the sanitized output's structure by parsing it as HTML.
fn check_attributes(out: &str) -> Result<(), TestCaseError> {
    let doc = scraper::Html::parse_fragment(out);
    for node in doc.tree.nodes() {
        let scraper::Node::Element(element) = node.value() else {
            continue;
        };
        for (name, value) in element.attrs() {
            let lower = name.to_ascii_lowercase();
            prop_assert!(!lower.starts_with("on"), "handler {name} in {out}");
            prop_assert!(
                ALLOWED_ATTRS.contains(&lower.as_str()),
                "attribute {name} in {out}"
            );
            if URL_ATTRS.contains(&lower.as_str()) {
                // The URL itself must not use a dangerous scheme (the text may appear inside
                // a path or query of a safe URL, which is harmless).
                let squashed: String = value
                    .chars()
                    .filter(|c| !c.is_whitespace() && !c.is_control())
                    .collect::<String>()
                    .to_ascii_lowercase();
                for scheme in ["javascript:", "vbscript:", "data:"] {
                    prop_assert!(!squashed.starts_with(scheme), "{scheme} URL in {out}");
                }
                if lower == "srcset" {
                    for candidate in value.split(',') {
                        let url = candidate.split_whitespace().next().unwrap_or("");
                        prop_assert!(is_allowed_url(url), "srcset candidate {url} in {out}");
                        let parsed = Url::parse(url);
                        prop_assert!(
                            parsed.is_ok_and(|u| ["http", "https"].contains(&u.scheme())),
                            "srcset candidate {url} not an absolute http(s) URL"
                        );
                    }
                } else {
                    prop_assert!(is_allowed_url(value), "{name}={value} in {out}");
                    let parsed = Url::parse(value);
                    prop_assert!(
                        parsed.is_ok_and(|u| ["http", "https", "mailto"].contains(&u.scheme())),
                        "{name}={value} not an absolute http(s)/mailto URL"
                    );
                }
            }
        }
    }
    Ok(())
}

/// Embed `out` as an escaped text node in an XML document, parse it back, return the text.
fn xml_round_trip(out: &str) -> Result<String, TestCaseError> {
    let mut writer = Writer::new(Vec::new());
    let write = |w: &mut Writer<Vec<u8>>, e: Event<'_>| {
        w.write_event(e)
            .map_err(|e| TestCaseError::fail(format!("write: {e}")))
    };
    write(&mut writer, Event::Start(BytesStart::new("content")))?;
    write(&mut writer, Event::Text(BytesText::new(out)))?;
    write(&mut writer, Event::End(BytesEnd::new("content")))?;
    let xml = String::from_utf8(writer.into_inner())
        .map_err(|e| TestCaseError::fail(format!("utf-8: {e}")))?;
    prop_assert!(
        xml.chars().all(is_xml_char),
        "forbidden character in document"
    );

    let mut reader = Reader::from_str(&xml);
    let mut text = String::new();
    let mut depth = 0;
    loop {
        match reader.read_event() {
            Ok(Event::Start(_)) => depth += 1,
            Ok(Event::End(_)) => depth -= 1,
            Ok(Event::Text(t)) => {
                prop_assert_eq!(depth, 1);
                let content = t
                    .xml10_content()
                    .map_err(|e| TestCaseError::fail(format!("decode: {e}")))?;
                text.push_str(&content);
            }
            Ok(Event::GeneralRef(r)) => {
                if r.is_char_ref() {
                    let c = r
                        .resolve_char_ref()
                        .map_err(|e| TestCaseError::fail(format!("char ref: {e}")))?;
                    let c = c.ok_or_else(|| TestCaseError::fail("empty char ref"))?;
                    prop_assert!(is_xml_char(c));
                    text.push(c);
                } else {
                    let name = r
                        .decode()
                        .map_err(|e| TestCaseError::fail(format!("decode: {e}")))?;
                    let resolved = resolve_predefined_entity(&name)
                        .ok_or_else(|| TestCaseError::fail(format!("undeclared entity {name}")))?;
                    text.push_str(resolved);
                }
            }
            Ok(Event::Eof) => break,
            Ok(other) => return Err(TestCaseError::fail(format!("unexpected event {other:?}"))),
            Err(e) => return Err(TestCaseError::fail(format!("not well-formed: {e}"))),
        }
    }
    prop_assert_eq!(depth, 0);
    Ok(text)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn sanitized_html_is_safe_and_embeds_in_xml(input in html()) {
        let base = Url::parse("https://example.org/2024/01/post/").expect("base URL");
        let out = sanitize_html(&input, &base);

        let lower = out.to_ascii_lowercase();
        for tag in ["<script", "<iframe", "<svg", "<math", "<object", "<embed", "<style", "<form",
                    "<input", "<base", "<meta", "<link", "<frame", "<template", "<noscript",
                    "<audio", "<video", "<track", "<param"] {
            prop_assert!(!lower.contains(tag), "{} in {}", tag, out);
        }
        prop_assert!(out.chars().all(is_xml_char), "forbidden character in {:?}", out);
        prop_assert!(!out.contains('\r'));
        check_attributes(&out)?;
        let back = xml_round_trip(&out)?;
        prop_assert_eq!(back, out);
    }

    /// A media element's URL, as the parser reads its attribute and resolved against the page,
    /// is linked to when it is http(s) (a YouTube or Vimeo player's as the video's page), by a
    /// link of its own or by one in its fallback content (query aside): no fallback content
    /// hides it. Whatever it holds, the output stays as safe as any other.
    #[test]
    fn media_leave_a_link_to_their_url(
        tag in prop::sample::select(
            &["audio", "video", "iframe", "embed", "object", "VIDEO", "amp-audio", "amp-video", "amp-iframe"][..]
        ),
        value in attr_value(),
        title in pick(TEXTS),
        inner in html(),
        after in html(),
    ) {
        let base = Url::parse("https://example.org/2024/01/post/").expect("base URL");
        let attr = if tag == "object" { "data" } else { "src" };
        let input = format!(
            "<{tag} {attr}=\"{}\" title=\"{}\">{inner}</{tag}>{after}",
            value.replace('"', "&quot;"),
            title.replace('"', "&quot;")
        );
        let out = sanitize_html(&input, &base);

        let lower = out.to_ascii_lowercase();
        for tag in ["<script", "<iframe", "<object", "<embed", "<audio", "<video", "<svg"] {
            prop_assert!(!lower.contains(tag), "{} in {}", tag, out);
        }
        check_attributes(&out)?;
        prop_assert_eq!(xml_round_trip(&out)?, out.clone());

        let parsed = scraper::Html::parse_fragment(&input);
        let Some(first) = parsed.root_element().children().find_map(scraper::ElementRef::wrap)
        else {
            return Err(TestCaseError::fail(format!("no element in {input}")));
        };
        let value = first.attr(attr).unwrap_or("").trim();
        let expected = (!value.is_empty() && !value.starts_with('#'))
            .then(|| base.join(value).ok())
            .flatten()
            .filter(|u| ["http", "https"].contains(&u.scheme()));
        let Some(mut expected) = expected else {
            return Ok(());
        };
        if expected.host_str() == Some("www.youtube.com") {
            expected = Url::parse("https://www.youtube.com/watch?v=dQw4w9WgXcQ").expect("URL");
        } else if expected.host_str() == Some("player.vimeo.com") {
            expected = Url::parse("https://vimeo.com/76979871").expect("URL");
        }
        let bare = |u: &Url| {
            let mut u = u.clone();
            u.set_query(None);
            u.set_fragment(None);
            u
        };
        let doc = scraper::Html::parse_fragment(&out);
        let linked = doc.tree.nodes().filter_map(|n| n.value().as_element()).any(|e| {
            e.name() == "a"
                && e.attr("href")
                    .and_then(|h| Url::parse(h).ok())
                    .is_some_and(|u| bare(&u) == bare(&expected))
        });
        prop_assert!(linked, "no link to {} in {}\nfrom {}", expected, out, input);
    }
}
