//! RSS 2.0 rendering. Pure: entries in, document out.
//!
//! Owns the mapping of [`Entry`] onto RSS 2.0 items (and the channel's `atom:link`s: `self`,
//! `hub`, `prev-archive`) with the `atom`, `content` and Dublin Core
//! (`dc`) modules. Must not: read the clock, the store or the network, or reorder the entries it
//! is given.
//!
//! Author names go into `dc:creator`: RSS reserves `<author>` for email addresses. The plain-text
//! summary is HTML-escaped into `description`, which readers treat as HTML.
//!
//! An item carries its entry's first enclosure only: RSS 2.0 allows one an item (and the `rss`
//! crate writes one); the Atom and JSON Feed documents carry them all. Its `length` and `type`
//! are required: `0` and `application/octet-stream` when unknown, as the RSS Best Practices
//! Profile says.

use std::collections::BTreeMap;

use ::rss::extension::atom::{AtomExtension, Link};
use ::rss::extension::dublincore::{self, DublinCoreExtension};
use ::rss::{Category, Channel, Enclosure, Guid, Item};

use super::{FeedInfo, GENERATOR, RSS_FILE, latest_published, rfc822, xml_document, xml_text};
use crate::model::Entry;

/// Media type of the RSS document, used on its `atom:link rel="self"`.
pub const MEDIA_TYPE: &str = "application/rss+xml";

/// Namespace of the RSS content module (`content:encoded`).
const CONTENT_NAMESPACE: &str = "http://purl.org/rss/1.0/modules/content/";

/// Render the document for `entries` (already ordered newest first and limited).
///
/// `pubDate` is the latest entry `published` and `lastBuildDate` the latest entry `updated`;
/// both are omitted when there are no entries (they never come from the clock).
pub fn render(info: &FeedInfo, entries: &[Entry]) -> String {
    let title = xml_text(&info.title).into_owned();
    let description = if info.description.trim().is_empty() {
        title.clone()
    } else {
        xml_text(&info.description).into_owned()
    };
    let namespaces = BTreeMap::from([
        (
            "atom".to_string(),
            ::rss::extension::atom::NAMESPACE.to_string(),
        ),
        ("content".to_string(), CONTENT_NAMESPACE.to_string()),
        ("dc".to_string(), dublincore::NAMESPACE.to_string()),
    ]);
    let channel = Channel {
        title,
        link: xml_text(&info.home_page_url).into_owned(),
        description,
        pub_date: latest_published(entries).map(rfc822),
        last_build_date: (!entries.is_empty()).then(|| rfc822(super::feed_updated(entries))),
        generator: Some(GENERATOR.into()),
        language: info.language.as_deref().map(|l| xml_text(l).into_owned()),
        atom_ext: Some(AtomExtension {
            links: channel_links(info),
        }),
        items: entries.iter().map(item).collect(),
        namespaces,
        ..Channel::default()
    };
    let body = channel
        .pretty_write_to(Vec::new(), b' ', 2)
        .expect("writing XML into memory cannot fail");
    // The crate writes its own declaration; replace it with ours so all documents agree.
    let text = String::from_utf8_lossy(&body);
    let without_decl = match text.strip_prefix("<?xml") {
        Some(rest) => rest.split_once("?>").map_or(rest, |(_, after)| after),
        None => &text,
    };
    xml_document(without_decl.as_bytes(), Some("../feed.xsl"))
}

/// `atom:link`s of the channel: `self`, then `hub` and `prev-archive` when there are any.
fn channel_links(info: &FeedInfo) -> Vec<Link> {
    let mut links = vec![Link {
        href: info.file_url(RSS_FILE),
        rel: "self".into(),
        mime_type: Some(MEDIA_TYPE.into()),
        ..Link::default()
    }];
    if let Some(hub) = &info.hub {
        links.push(Link {
            href: xml_text(hub).into_owned(),
            rel: "hub".into(),
            ..Link::default()
        });
    }
    if let Some(prev) = &info.prev_archive {
        // Archive documents are Atom (RFC 5005 Appendix B allows linking them from RSS).
        links.push(Link {
            href: xml_text(prev).into_owned(),
            rel: "prev-archive".into(),
            mime_type: Some(super::atom::MEDIA_TYPE.into()),
            ..Link::default()
        });
    }
    links
}

fn item(e: &Entry) -> Item {
    let related: Vec<Link> = e
        .related
        .iter()
        .map(|r| Link {
            href: r.url.clone(),
            rel: "related".into(),
            mime_type: Some("text/html".into()),
            title: (!r.title.is_empty()).then(|| xml_text(&r.title).into_owned()),
            ..Link::default()
        })
        .collect();
    Item {
        title: Some(xml_text(&e.title).into_owned()),
        link: Some(e.url.clone()),
        // The summary is plain text but readers render `description` as HTML: escape it, or
        // text such as "<script>" written out in a post would become markup.
        description: (!e.summary.is_empty())
            .then(|| html_escape::encode_text(&xml_text(&e.summary)).into_owned()),
        categories: e
            .categories
            .iter()
            .map(|c| Category {
                name: xml_text(c).into_owned(),
                domain: None,
            })
            .collect(),
        guid: Some(Guid {
            value: e.id.0.clone(),
            permalink: e.id.0 == e.url,
        }),
        pub_date: Some(rfc822(e.published)),
        enclosure: e.enclosures.first().map(|m| Enclosure {
            url: xml_text(&m.url).into_owned(),
            length: m.length.unwrap_or(0).to_string(),
            mime_type: m
                .media_type
                .clone()
                .unwrap_or_else(|| super::UNKNOWN_MEDIA_TYPE.into()),
        }),
        content: Some(xml_text(&e.content_html).into_owned()),
        atom_ext: (!related.is_empty()).then_some(AtomExtension { links: related }),
        dublin_core_ext: (!e.authors.is_empty()).then(|| DublinCoreExtension {
            creators: e.authors.iter().map(|a| xml_text(a).into_owned()).collect(),
            ..DublinCoreExtension::default()
        }),
        ..Item::default()
    }
}
