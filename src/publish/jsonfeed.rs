//! JSON Feed 1.1 rendering (<https://jsonfeed.org/version/1.1>). Pure: entries in, document out.
//!
//! Owns the serde shape of the document: struct field order is the key order, so output is
//! stable. Must not: read the clock, the store or the network, or reorder the entries it is
//! given.
//!
//! Related posts have no JSON Feed field; they go under the extension key
//! `_feedwright: {"related": [{"url", "title"}]}` (extension keys start with `_`). Enclosures
//! are `attachments`, with `mime_type` (required: `application/octet-stream` when unknown),
//! and `title`, `size_in_bytes`, `duration_in_seconds` when known.

use serde::Serialize;

use super::{FeedInfo, JSON_FILE, rfc3339};
use crate::model::Entry;

/// The `version` URL of the format written.
pub const VERSION: &str = "https://jsonfeed.org/version/1.1";

#[derive(Serialize)]
struct Document<'a> {
    version: &'static str,
    title: &'a str,
    home_page_url: &'a str,
    feed_url: String,
    #[serde(skip_serializing_if = "str::is_empty")]
    description: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    language: Option<&'a str>,
    authors: Vec<Author<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    hubs: Vec<Hub<'a>>,
    items: Vec<Item<'a>>,
}

#[derive(Serialize)]
struct Hub<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    url: &'a str,
}

#[derive(Serialize)]
struct Author<'a> {
    name: &'a str,
}

#[derive(Serialize)]
struct Item<'a> {
    id: &'a str,
    url: &'a str,
    title: &'a str,
    content_html: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    summary: &'a str,
    date_published: String,
    date_modified: String,
    authors: Vec<Author<'a>>,
    tags: &'a [String],
    #[serde(skip_serializing_if = "Vec::is_empty")]
    attachments: Vec<Attachment<'a>>,
    #[serde(rename = "_feedwright", skip_serializing_if = "Option::is_none")]
    extension: Option<Extension<'a>>,
}

#[derive(Serialize)]
struct Attachment<'a> {
    url: &'a str,
    mime_type: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    size_in_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    duration_in_seconds: Option<u64>,
}

#[derive(Serialize)]
struct Extension<'a> {
    related: Vec<Related<'a>>,
}

#[derive(Serialize)]
struct Related<'a> {
    url: &'a str,
    title: &'a str,
}

/// Render the document for `entries` (already ordered newest first and limited).
///
/// The feed title is the feed-level author; an item whose post names no author carries that
/// same author, so every item has one.
pub fn render(info: &FeedInfo, entries: &[Entry]) -> String {
    let feed_author = || vec![Author { name: &info.title }];
    let items = entries
        .iter()
        .map(|e| Item {
            id: &e.id.0,
            url: &e.url,
            title: &e.title,
            content_html: &e.content_html,
            summary: &e.summary,
            date_published: rfc3339(e.published),
            date_modified: rfc3339(e.updated),
            authors: if e.authors.is_empty() {
                feed_author()
            } else {
                e.authors.iter().map(|a| Author { name: a }).collect()
            },
            tags: &e.categories,
            attachments: e
                .enclosures
                .iter()
                .map(|m| Attachment {
                    url: &m.url,
                    mime_type: m.media_type.as_deref().unwrap_or(super::UNKNOWN_MEDIA_TYPE),
                    title: m.title.as_deref(),
                    size_in_bytes: m.length,
                    duration_in_seconds: m.duration_secs,
                })
                .collect(),
            extension: (!e.related.is_empty()).then(|| Extension {
                related: e
                    .related
                    .iter()
                    .map(|r| Related {
                        url: &r.url,
                        title: &r.title,
                    })
                    .collect(),
            }),
        })
        .collect();
    let doc = Document {
        version: VERSION,
        title: &info.title,
        home_page_url: &info.home_page_url,
        feed_url: info.file_url(JSON_FILE),
        description: &info.description,
        language: info.language.as_deref(),
        authors: feed_author(),
        hubs: info
            .hub
            .iter()
            .map(|url| Hub {
                kind: "WebSub",
                url,
            })
            .collect(),
        items,
    };
    let mut text =
        serde_json::to_string_pretty(&doc).expect("serializing plain strings cannot fail");
    text.push('\n');
    text
}
