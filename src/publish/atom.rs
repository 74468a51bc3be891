//! Atom 1.0 rendering (RFC 4287). Pure: entries in, document out.
//!
//! Owns the mapping of [`Entry`] onto Atom elements. Must not: read the clock, the store or the
//! network, or reorder the entries it is given.

use atom_syndication::{
    Category, Content, Feed, FixedDateTime, Generator, Link, Person, Text, WriteConfig,
};
use chrono::{DateTime, Utc};

use super::{ATOM_FILE, FeedInfo, GENERATOR, feed_updated, xml_document, xml_text};
use crate::model::Entry;

/// Media type of the Atom document, used on its `rel="self"` link.
pub const MEDIA_TYPE: &str = "application/atom+xml";

/// Render the document for `entries` (already ordered newest first and limited).
///
/// The feed `id` is its own public URL, `updated` is the latest entry `updated` (the Unix epoch
/// without entries) and the feed title doubles as the feed-level author, so every entry has an
/// author even when the post names none.
pub fn render(info: &FeedInfo, entries: &[Entry]) -> String {
    let self_url = info.file_url(ATOM_FILE);
    let mut links = vec![Link {
        href: self_url.clone(),
        rel: "self".into(),
        mime_type: Some(MEDIA_TYPE.into()),
        ..Link::default()
    }];
    if !info.home_page_url.is_empty() {
        links.push(Link {
            href: xml_text(&info.home_page_url).into_owned(),
            rel: "alternate".into(),
            mime_type: Some("text/html".into()),
            ..Link::default()
        });
    }
    let title = xml_text(&info.title).into_owned();
    let feed = Feed {
        title: Text::plain(title.clone()),
        id: self_url,
        updated: fixed(feed_updated(entries)),
        authors: vec![person(&title)],
        generator: Some(Generator {
            value: GENERATOR.into(),
            uri: None,
            version: None,
        }),
        links,
        subtitle: (!info.description.trim().is_empty())
            .then(|| Text::plain(xml_text(&info.description).into_owned())),
        entries: entries.iter().map(entry).collect(),
        ..Feed::default()
    };
    let config = WriteConfig {
        write_document_declaration: false,
        indent_size: Some(2),
    };
    let body = feed
        .write_with_config(Vec::new(), config)
        .expect("writing XML into memory cannot fail");
    xml_document(&body)
}

fn entry(e: &Entry) -> atom_syndication::Entry {
    let mut links = vec![Link {
        href: e.url.clone(),
        rel: "alternate".into(),
        mime_type: Some("text/html".into()),
        ..Link::default()
    }];
    links.extend(e.related.iter().map(|r| Link {
        href: r.url.clone(),
        rel: "related".into(),
        mime_type: Some("text/html".into()),
        title: (!r.title.is_empty()).then(|| xml_text(&r.title).into_owned()),
        ..Link::default()
    }));
    atom_syndication::Entry {
        title: Text::plain(xml_text(&e.title).into_owned()),
        id: e.id.0.clone(),
        updated: fixed(e.updated),
        published: Some(fixed(e.published)),
        authors: e.authors.iter().map(|a| person(a)).collect(),
        categories: e
            .categories
            .iter()
            .map(|c| Category {
                term: xml_text(c).into_owned(),
                ..Category::default()
            })
            .collect(),
        links,
        summary: (!e.summary.is_empty()).then(|| Text::plain(xml_text(&e.summary).into_owned())),
        content: Some(Content {
            value: Some(xml_text(&e.content_html).into_owned()),
            content_type: Some("html".into()),
            ..Content::default()
        }),
        ..atom_syndication::Entry::default()
    }
}

fn person(name: &str) -> Person {
    Person {
        name: xml_text(name).into_owned(),
        ..Person::default()
    }
}

/// Whole seconds, offset `+00:00`.
fn fixed(d: DateTime<Utc>) -> FixedDateTime {
    use chrono::SubsecRound;
    d.trunc_subsecs(0).fixed_offset()
}
