//! Atom 1.0 rendering (RFC 4287), head and RFC 5005 archive documents. Pure: entries in,
//! document out.
//!
//! Owns the mapping of [`Entry`] onto Atom elements and the feed-level links (`self`, `hub`,
//! `current`, `prev-archive`, `next-archive`). Must not: read the clock, the store or the
//! network, or reorder the entries it is given.

use atom_syndication::{
    Category, Content, Feed, FixedDateTime, Generator, Link, Person, Text, WriteConfig,
};
use chrono::{DateTime, Utc};

use super::{ATOM_FILE, FeedInfo, GENERATOR, feed_updated, xml_document, xml_text};
use crate::model::Entry;

/// Media type of the Atom document, used on its `rel="self"` link.
pub const MEDIA_TYPE: &str = "application/atom+xml";

/// Namespace of RFC 5005 feed history (`fh:archive`).
pub const HISTORY_NAMESPACE: &str = "http://purl.org/syndication/history/1.0";

/// Render the head document for `entries` (already ordered newest first and limited).
///
/// The feed `id` is its own public URL, `updated` is the latest entry `updated` (the Unix epoch
/// without entries) and the feed title doubles as the feed-level author, so every entry has an
/// author even when the post names none. With a hub configured it links `rel="hub"`; with
/// archives it links the newest archive document as `rel="prev-archive"`.
pub fn render(info: &FeedInfo, entries: &[Entry]) -> String {
    let self_url = info.file_url(ATOM_FILE);
    let mut links = vec![link(&self_url, "self", MEDIA_TYPE)];
    if !info.home_page_url.is_empty() {
        links.push(link(&info.home_page_url, "alternate", "text/html"));
    }
    if let Some(hub) = &info.hub {
        links.push(hub_link(hub));
    }
    if let Some(prev) = &info.prev_archive {
        links.push(link(prev, "prev-archive", MEDIA_TYPE));
    }
    document(info, entries, self_url, links, false, STYLESHEET_FROM_HEAD)
}

/// Render archive document `page` (1 is the oldest) of an RFC 5005 archived feed: `fh:archive`,
/// `rel="current"` to the head document, `prev-archive` to page − 1 (from page 2 on) and
/// `next-archive` to page + 1 when `has_next`. Its `id` is the head document's, as every
/// document of one logical feed shares it.
pub fn render_archive(info: &FeedInfo, page: u32, entries: &[Entry], has_next: bool) -> String {
    let head_url = info.file_url(ATOM_FILE);
    let self_url = info.archive_url(page);
    let mut links = vec![
        link(&self_url, "self", MEDIA_TYPE),
        link(&head_url, "current", MEDIA_TYPE),
    ];
    if !info.home_page_url.is_empty() {
        links.push(link(&info.home_page_url, "alternate", "text/html"));
    }
    if page > 1 {
        links.push(link(
            &info.archive_url(page - 1),
            "prev-archive",
            MEDIA_TYPE,
        ));
    }
    if has_next {
        links.push(link(
            &info.archive_url(page + 1),
            "next-archive",
            MEDIA_TYPE,
        ));
    }
    document(
        info,
        entries,
        head_url,
        links,
        true,
        STYLESHEET_FROM_ARCHIVE,
    )
}

/// Where the stylesheet is, relative to a head document (`<feed>/atom.xml`).
const STYLESHEET_FROM_HEAD: &str = "../feed.xsl";
/// … and relative to an archive document (`<feed>/archive/<n>.xml`).
const STYLESHEET_FROM_ARCHIVE: &str = "../../feed.xsl";

fn link(href: &str, rel: &str, mime_type: &str) -> Link {
    Link {
        href: xml_text(href).into_owned(),
        rel: rel.into(),
        mime_type: Some(mime_type.into()),
        ..Link::default()
    }
}

fn hub_link(hub: &str) -> Link {
    Link {
        href: xml_text(hub).into_owned(),
        rel: "hub".into(),
        ..Link::default()
    }
}

fn document(
    info: &FeedInfo,
    entries: &[Entry],
    id: String,
    links: Vec<Link>,
    archive: bool,
    stylesheet: &str,
) -> String {
    let title = xml_text(&info.title).into_owned();
    let mut feed = Feed {
        title: Text::plain(title.clone()),
        id,
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
        lang: info.language.as_deref().map(|l| xml_text(l).into_owned()),
        ..Feed::default()
    };
    if archive {
        feed.namespaces
            .insert("fh".into(), HISTORY_NAMESPACE.into());
    }
    let config = WriteConfig {
        write_document_declaration: false,
        indent_size: Some(2),
    };
    let body = feed
        .write_with_config(Vec::new(), config)
        .expect("writing XML into memory cannot fail");
    if !archive {
        return xml_document(&body, Some(stylesheet));
    }
    // The crate writes extension elements after the entries, where the Atom schema does not
    // allow them: put the marker among the feed-level elements, before the first entry. Every
    // text is escaped, so the first `<entry>` at feed indentation is the first entry element.
    let body = String::from_utf8_lossy(&body);
    let at = body
        .find("\n  <entry>")
        .or_else(|| body.rfind("\n</feed>"))
        .expect("a rendered feed ends with </feed>");
    let marked = format!("{}\n  <fh:archive/>{}", &body[..at], &body[at..]);
    xml_document(marked.as_bytes(), Some(stylesheet))
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
    // Every enclosure (RFC 4287 4.2.7.2); `type` and `length` only when known.
    links.extend(e.enclosures.iter().map(|m| Link {
        href: xml_text(&m.url).into_owned(),
        rel: "enclosure".into(),
        mime_type: m.media_type.clone(),
        length: m.length.map(|n| n.to_string()),
        title: m.title.as_deref().map(|t| xml_text(t).into_owned()),
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
