//! Property test of the published documents: arbitrary post input (body HTML, titles, summaries,
//! names, links), normalized and rendered as Atom, RSS and JSON Feed, always gives well-formed
//! XML / valid JSON whose HTML contexts carry no script, no event handler and no `javascript:`
//! URL, and whose plain-text summary reads back as the same text in an RSS reader.

use chrono::{DateTime, TimeZone, Utc};
use feedwright::model::{DateSource, Entry, Link, RawDate, RawPost};
use feedwright::normalize::normalize;
use feedwright::publish::{FeedInfo, atom, jsonfeed, rss};
use proptest::prelude::*;
use quick_xml::Reader;
use quick_xml::encoding::Decoder;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, Event};
use scraper::{Html, Node};
use url::Url;

fn fetched() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 7, 1, 12, 0, 0)
        .single()
        .expect("valid date")
}

fn info() -> FeedInfo {
    FeedInfo {
        name: "props".into(),
        title: "Props & <Checks> ]]>".into(),
        description: "Generated \u{1} input".into(),
        home_page_url: "https://blog.example.org/".into(),
        public_base: Url::parse("https://feeds.example.org/props/").expect("url"),
        hub: None,
        prev_archive: None,
        language: None,
    }
}

fn page_url(i: usize) -> Url {
    Url::parse(&format!("https://blog.example.org/2024/06/post-{i}/")).expect("url")
}

fn entries(raws: Vec<RawPost>) -> Vec<Entry> {
    raws.into_iter()
        .enumerate()
        .map(|(i, raw)| {
            normalize(&page_url(i), raw, "props", fetched())
                .expect("an http page URL always normalizes")
                .0
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Checks

/// One element's text after XML unescaping, and whether readers treat it as HTML.
struct Text {
    element: String,
    /// The enclosing element (`item`, `entry`, `channel`, `feed`).
    parent: String,
    html: bool,
    text: String,
}

/// Elements whose text readers render as HTML: RSS `description` and `content:encoded`, and
/// any Atom text construct with `type="html"`.
fn is_html_context(name: &str, type_attr: Option<&str>) -> bool {
    matches!(name, "description" | "content:encoded") || type_attr == Some("html")
}

/// The name and `type` attribute of an element; its `href` attribute goes into `hrefs`.
fn element_info(
    e: &BytesStart<'_>,
    decoder: Decoder,
    hrefs: &mut Vec<String>,
) -> Result<(String, Option<String>), TestCaseError> {
    let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
    let mut type_attr = None;
    for a in e.attributes() {
        let a = a.map_err(|e| TestCaseError::fail(format!("attribute: {e}")))?;
        let value = a
            .decoded_and_normalized_value(quick_xml::XmlVersion::Implicit1_0, decoder)
            .map_err(|e| TestCaseError::fail(format!("attribute value: {e}")))?
            .into_owned();
        match a.key.as_ref() {
            b"type" => type_attr = Some(value),
            b"href" => hrefs.push(value),
            _ => {}
        }
    }
    Ok((name, type_attr))
}

/// Walk `xml` (it must be well-formed) and return every element's unescaped text, plus every
/// `href` attribute.
fn xml_texts(xml: &str) -> Result<(Vec<Text>, Vec<String>), TestCaseError> {
    let mut reader = Reader::from_str(xml);
    reader.config_mut().check_end_names = true;
    let mut open: Vec<Text> = Vec::new();
    let mut done = Vec::new();
    let mut hrefs = Vec::new();
    let fail = |what: &str, e: &dyn std::fmt::Display| TestCaseError::fail(format!("{what}: {e}"));
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                let (name, type_attr) = element_info(&e, reader.decoder(), &mut hrefs)?;
                let parent = open.last().map(|t| t.element.clone()).unwrap_or_default();
                open.push(Text {
                    parent,
                    html: is_html_context(&name, type_attr.as_deref()),
                    element: name,
                    text: String::new(),
                });
            }
            Ok(Event::Empty(e)) => {
                element_info(&e, reader.decoder(), &mut hrefs)?;
            }
            Ok(Event::End(_)) => {
                let t = open
                    .pop()
                    .ok_or_else(|| TestCaseError::fail("end without start"))?;
                done.push(t);
            }
            Ok(Event::Text(t)) => {
                let s = t.xml10_content().map_err(|e| fail("text", &e))?;
                if let Some(top) = open.last_mut() {
                    top.text.push_str(&s);
                } else {
                    prop_assert!(s.trim().is_empty(), "text outside the root: {s:?}");
                }
            }
            Ok(Event::CData(c)) => {
                let s = String::from_utf8(c.into_inner().into_owned())
                    .map_err(|e| fail("CDATA utf-8", &e))?;
                let top = open
                    .last_mut()
                    .ok_or_else(|| TestCaseError::fail("CDATA outside the root"))?;
                top.text.push_str(&s);
            }
            Ok(Event::GeneralRef(r)) => {
                let top = open
                    .last_mut()
                    .ok_or_else(|| TestCaseError::fail("reference outside the root"))?;
                if r.is_char_ref() {
                    let c = r
                        .resolve_char_ref()
                        .map_err(|e| fail("char ref", &e))?
                        .ok_or_else(|| TestCaseError::fail("empty char ref"))?;
                    top.text.push(c);
                } else {
                    let name = r.decode().map_err(|e| fail("reference", &e))?;
                    let resolved = resolve_predefined_entity(&name)
                        .ok_or_else(|| TestCaseError::fail(format!("undeclared entity {name}")))?;
                    top.text.push_str(resolved);
                }
            }
            Ok(Event::Eof) => break,
            Ok(Event::Decl(_) | Event::Comment(_)) => {}
            // The `xml-stylesheet` instruction is the only processing instruction written.
            Ok(Event::PI(pi)) if pi.starts_with(b"xml-stylesheet ") => {}
            Ok(other) => return Err(TestCaseError::fail(format!("unexpected {other:?}"))),
            Err(e) => return Err(fail("not well-formed", &e)),
        }
    }
    prop_assert!(open.is_empty(), "unclosed elements");
    Ok((done, hrefs))
}

/// Squeeze out what browsers ignore inside a URL scheme (whitespace, controls) and lower-case.
fn squeezed(value: &str) -> String {
    value
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Attributes a browser follows or loads as a URL.
const URL_ATTRIBUTES: &[&str] = &[
    "href",
    "src",
    "srcset",
    "cite",
    "action",
    "formaction",
    "xlink:href",
    "poster",
    "background",
    "data",
    "ping",
];

/// `html` (unescaped text of an HTML context) has no script, no dangerous element, no `on*`
/// attribute, and only absolute http(s) / mailto URLs (so no `javascript:`, `data:` or
/// `vbscript:`).
fn check_html(context: &str, html: &str) -> Result<(), TestCaseError> {
    let lower = html.to_lowercase();
    prop_assert!(!lower.contains("<script"), "{context}: <script in {html:?}");
    let doc = Html::parse_fragment(html);
    for node in doc.tree.nodes() {
        let Node::Element(e) = node.value() else {
            continue;
        };
        prop_assert!(
            !matches!(
                e.name(),
                "script" | "iframe" | "object" | "embed" | "svg" | "math" | "style" | "form"
            ),
            "{context}: <{}> in {html:?}",
            e.name()
        );
        for (name, value) in e.attrs() {
            prop_assert!(
                !name.to_ascii_lowercase().starts_with("on"),
                "{context}: handler {name} in {html:?}"
            );
            if !URL_ATTRIBUTES.contains(&name.to_ascii_lowercase().as_str()) {
                continue;
            }
            let urls: Vec<&str> = if name.eq_ignore_ascii_case("srcset") {
                value
                    .split(',')
                    .filter_map(|c| c.split_whitespace().next())
                    .collect()
            } else {
                vec![value.trim()]
            };
            for u in urls {
                let v = squeezed(u);
                prop_assert!(
                    ["http://", "https://", "mailto:"]
                        .iter()
                        .any(|scheme| v.starts_with(scheme)),
                    "{context}: {name}={value:?} in {html:?}"
                );
            }
        }
    }
    Ok(())
}

/// The text a reader shows for an HTML fragment.
fn html_text(html: &str) -> String {
    let doc = Html::parse_fragment(html);
    doc.root_element().text().collect()
}

fn is_http(u: &str) -> bool {
    u.starts_with("https://") || u.starts_with("http://")
}

fn check_xml(
    format: &str,
    xml: &str,
    entries: &[Entry],
    summaries_in: &str,
) -> Result<(), TestCaseError> {
    let (texts, hrefs) = xml_texts(xml)?;
    for t in &texts {
        if t.html {
            check_html(&format!("{format} {}", t.element), &t.text)?;
        }
        if matches!(t.element.as_str(), "link" | "guid" | "id" | "uri") && !t.text.is_empty() {
            prop_assert!(is_http(&t.text), "{format} {}: {:?}", t.element, t.text);
        }
    }
    for h in &hrefs {
        prop_assert!(is_http(h), "{format} href {h:?}");
    }
    // Every non-empty summary reads back as the same text from its element.
    let summaries: Vec<&Text> = texts
        .iter()
        .filter(|t| t.element == summaries_in && matches!(t.parent.as_str(), "item" | "entry"))
        .collect();
    let wanted: Vec<&str> = entries
        .iter()
        .map(|e| e.summary.as_str())
        .filter(|s| !s.is_empty())
        .collect();
    prop_assert_eq!(summaries.len(), wanted.len(), "{} {}", format, summaries_in);
    for (got, want) in summaries.iter().zip(&wanted) {
        let shown = if got.html {
            html_text(&got.text)
        } else {
            got.text.clone()
        };
        prop_assert_eq!(&shown, want, "{} {}", format, summaries_in);
    }
    Ok(())
}

fn check_json(json: &str, entries: &[Entry]) -> Result<(), TestCaseError> {
    let v: serde_json::Value =
        serde_json::from_str(json).map_err(|e| TestCaseError::fail(format!("JSON: {e}")))?;
    let items = v["items"]
        .as_array()
        .ok_or_else(|| TestCaseError::fail("no items array"))?;
    prop_assert_eq!(items.len(), entries.len());
    // The renderers keep the order they are given.
    for (item, entry) in items.iter().zip(entries) {
        let html = item["content_html"].as_str().unwrap_or("");
        check_html("JSON content_html", html)?;
        for key in ["id", "url"] {
            let u = item[key].as_str().unwrap_or("");
            prop_assert!(is_http(u), "JSON {key} {u:?}");
        }
        prop_assert_eq!(item["id"].as_str(), Some(entry.id.0.as_str()));
        // Plain-text fields carry the entry's text unchanged.
        prop_assert_eq!(item["title"].as_str(), Some(entry.title.as_str()));
        if !entry.summary.is_empty() {
            prop_assert_eq!(item["summary"].as_str(), Some(entry.summary.as_str()));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Input

const TRICKY: &[&str] = &[
    "<script>alert(1)</script>",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "]]>",
    "]]&gt;",
    "<![CDATA[",
    "&",
    "&amp;",
    "&bogus;",
    "&#0;",
    "&#x1;",
    "<",
    ">",
    "\"",
    "'",
    "javascript:alert(1)",
    "onerror=alert(1)",
    "\u{0}",
    "\u{1}",
    "\u{b}",
    "\u{1b}",
    "\u{7f}",
    "\u{85}",
    "\u{FFFE}",
    "\r\n",
    "\t",
    " ",
    "Über café — 交渉",
    "<b>bold</b>",
    "<img src=x onerror=alert(1)>",
    "<a href=\"javascript:alert(1)\">x</a>",
];

const TAGS: &[&str] = &[
    "p",
    "a",
    "img",
    "script",
    "style",
    "iframe",
    "svg",
    "math",
    "div",
    "b",
    "noscript",
    "source",
    "picture",
    "table",
    "td",
    "object",
    "form",
    "template",
    "textarea",
    "title",
    "blockquote",
];

const ATTRS: &[&str] = &[
    "href",
    "src",
    "srcset",
    "data-src",
    "data-srcset",
    "data-lazy-src",
    "data-original",
    "cite",
    "onerror",
    "onclick",
    "ONLOAD",
    "style",
    "class",
    "alt",
    "title",
    "xlink:href",
    "action",
];

const VALUES: &[&str] = &[
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    " java\tscript:alert(1)",
    "&#106;avascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "data:image/gif;base64,R0lGODlh",
    "vbscript:msgbox(1)",
    "https://cdn.example.org/chart.png",
    "/img/a.png 1x, javascript:alert(1) 2x",
    "/img/a.png 300w, b.png 600w",
    "relative/page/",
    "//cdn.example.org/x",
    "mailto:me@example.org",
    "\"><script>alert(1)</script>",
    "]]>",
    "alert(1)",
];

fn pick(list: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop::sample::select(list).prop_map(str::to_string)
}

/// Short arbitrary text, tricky pieces and control characters mixed.
fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            3 => pick(TRICKY),
            2 => any::<String>().prop_map(|s| s.chars().take(10).collect()),
            1 => (0u32..0x20).prop_map(|c| char::from_u32(c).map(String::from).unwrap_or_default()),
        ],
        0..6,
    )
    .prop_map(|v| v.concat())
}

fn attribute() -> impl Strategy<Value = String> {
    (
        pick(ATTRS),
        prop_oneof![3 => pick(VALUES), 1 => text()],
        0..3u8,
    )
        .prop_map(|(name, value, quoting)| match quoting {
            0 => format!(" {name}=\"{}\"", value.replace('"', "&quot;")),
            1 => format!(" {name}='{}'", value.replace('\'', "&#39;")),
            _ => format!(" {name}={value}"),
        })
}

fn body() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        3 => (pick(TAGS), prop::collection::vec(attribute(), 0..4))
            .prop_map(|(tag, attrs)| format!("<{tag}{}>", attrs.concat())),
        2 => pick(TAGS).prop_map(|tag| format!("</{tag}>")),
        3 => text(),
    ];
    prop::collection::vec(piece, 0..16).prop_map(|v| v.concat())
}

fn raw_post() -> impl Strategy<Value = RawPost> {
    (
        prop::option::of(text()),
        prop::option::of(text()),
        prop::option::of(body()),
        prop::collection::vec(text(), 0..3),
        prop::collection::vec(text(), 0..3),
        prop::collection::vec((pick(VALUES), text()), 0..3),
        prop::option::of(pick(VALUES)),
    )
        .prop_map(
            |(title, summary, body, authors, categories, related, canonical)| RawPost {
                canonical: canonical.and_then(|c| page_url(0).join(&c).ok()),
                title,
                summary,
                body_html: body,
                authors,
                categories,
                related: related
                    .into_iter()
                    .map(|(url, title)| Link { url, title })
                    .collect(),
                published: vec![RawDate {
                    value: "2024-06-25T10:00:00Z".into(),
                    source: DateSource::Jsonld,
                }],
                ..RawPost::default()
            },
        )
}

// ---------------------------------------------------------------------------------------------
// Tests

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn published_documents_are_well_formed_and_script_free(
        raws in prop::collection::vec(raw_post(), 1..4)
    ) {
        let entries = entries(raws);
        let info = info();
        check_xml("Atom", &atom::render(&info, &entries), &entries, "summary")?;
        check_xml("RSS", &rss::render(&info, &entries), &entries, "description")?;
        check_json(&jsonfeed::render(&info, &entries), &entries)?;
    }
}

/// RSS readers render `description` as HTML; the plain-text summary once went in unescaped, so
/// a post that wrote about `<script>` produced a live script element in the reader.
#[test]
fn regression_rss_description_is_html_escaped_plain_text() {
    let raw = RawPost {
        title: Some("Escaping".into()),
        body_html: Some("<p>Write &lt;script&gt;alert(1)&lt;/script&gt; in a post.</p>".into()),
        published: vec![RawDate {
            value: "2024-06-25T10:00:00Z".into(),
            source: DateSource::Jsonld,
        }],
        ..RawPost::default()
    };
    let entries = entries(vec![raw]);
    assert_eq!(
        entries[0].summary,
        "Write <script>alert(1)</script> in a post."
    );
    let xml = rss::render(&info(), &entries);
    let channel = ::rss::Channel::read_from(xml.as_bytes()).expect("valid RSS");
    let description = channel.items()[0].description().expect("description");
    assert!(
        !description.to_lowercase().contains("<script"),
        "{description}"
    );
    assert_eq!(
        description,
        "Write &lt;script&gt;alert(1)&lt;/script&gt; in a post."
    );
    // A reader rendering it as HTML shows the original text.
    assert_eq!(html_text(description), entries[0].summary);
}
