//! Feed ingest: an existing RSS 0.9x/1.0/2.0, Atom or JSON Feed document, via `feed-rs`.
//!
//! Owns: turning feed items into `RawPost`s (dates with `feed` provenance, WordPress `?p=ID`
//! guids as post ids). Must not: fetch, sanitize or normalize (items are as untrusted as pages).

use url::Url;

use super::http::Fetched;
use crate::model::{DateSource, RawDate, RawPost};

/// The items of one feed document.
#[derive(Debug, Default)]
pub struct Items {
    /// `(item URL, RawPost)`, in feed order.
    pub posts: Vec<(Url, RawPost)>,
    /// Items left out, as `(feed URL, why)`: those without a usable link (an entry needs a page
    /// for readers to open and for its id).
    pub skipped: Vec<(String, String)>,
}

/// Parse a fetched feed into its items. A document that is not a feed is an error message.
pub fn parse(feed_url: &Url, fetched: &Fetched) -> Result<Items, String> {
    let parser = feed_rs::parser::Builder::new()
        .base_uri(Some(fetched.url.as_str()))
        .sanitize_content(false)
        .build();
    let feed = parser
        .parse(fetched.body.as_slice())
        .map_err(|e| format!("not a readable RSS, Atom or JSON feed: {e}"))?;
    // feed-rs also calls an RSS 1.0 description plain text; it usually holds escaped HTML.
    let typed = matches!(
        feed.feed_type,
        feed_rs::model::FeedType::Atom | feed_rs::model::FeedType::JSON
    );
    let mut out = Items::default();
    for item in feed.entries {
        let link = item
            .links
            .iter()
            .find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
            .or_else(|| item.links.first())
            .map(|l| l.href.clone())
            .or_else(|| item.id.starts_with("http").then(|| item.id.clone()));
        let Some(link) = link.and_then(|l| fetched.url.join(&l).ok()) else {
            let title = item.title.as_ref().map_or("", |t| t.content.as_str());
            let why = format!(
                "item {:?} (title {:?}) has no usable link, so no page to link to; left out",
                item.id,
                title.chars().take(80).collect::<String>()
            );
            out.skipped.push((feed_url.to_string(), why));
            continue;
        };
        let date = |d: Option<chrono::DateTime<chrono::Utc>>| {
            d.map(|d| RawDate {
                value: d.to_rfc3339(),
                source: DateSource::Feed,
            })
            .into_iter()
            .collect::<Vec<_>>()
        };
        // Plain text (Atom `type="text"`, JSON Feed `content_text`) is text, not markup.
        let body = item
            .content
            .as_ref()
            .and_then(|c| Some(as_html(c.body.as_deref()?, c.content_type.as_ref(), typed)))
            .or_else(|| {
                item.summary
                    .as_ref()
                    .map(|t| as_html(&t.content, t.content_type.as_ref(), typed))
            });
        let raw = RawPost {
            canonical: Some(link.clone()),
            wp_post_id: wp_id_from_guid(&item.id),
            base_href: None,
            // An Atom title typed `html` or `xhtml` is markup: its text is the title. (RSS
            // titles carry no type and are kept as written.)
            title: item.title.as_ref().map(|t| {
                if is_plain(t.content_type.as_ref()) {
                    t.content.clone()
                } else {
                    super::html_text(&t.content)
                }
            }),
            published: date(item.published.or(item.updated)),
            modified: date(item.updated),
            authors: item.authors.iter().filter_map(|p| p.name.clone()).collect(),
            categories: item
                .categories
                .iter()
                .map(|c| c.label.clone().unwrap_or_else(|| c.term.clone()))
                .collect(),
            body_html: body,
            summary: item.summary.as_ref().map(|s| s.content.clone()),
            related: Vec::new(),
        };
        out.posts.push((link, raw));
    }
    Ok(out)
}

/// Is a feed text of this media type plain text (not HTML or XHTML)?
fn is_plain(media_type: &str) -> bool {
    media_type.starts_with("text/plain")
}

/// A feed text of `media_type` as HTML: plain text escaped into paragraphs when the feed's
/// format means its types (`typed`: Atom, JSON Feed), anything else as it is.
fn as_html(text: &str, media_type: &str, typed: bool) -> String {
    if typed && is_plain(media_type) {
        text_to_html(text)
    } else {
        text.to_owned()
    }
}

/// Plain text as HTML: escaped, a paragraph per blank-line-separated block, line breaks kept.
fn text_to_html(text: &str) -> String {
    let text = text.replace("\r\n", "\n");
    text.split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            let lines: Vec<String> = p
                .lines()
                .map(|l| html_escape::encode_text(l.trim()).into_owned())
                .collect();
            format!("<p>{}</p>", lines.join("<br>"))
        })
        .collect()
}

/// WordPress feeds use `https://site/?p=123` as the item guid.
pub fn wp_id_from_guid(guid: &str) -> Option<u64> {
    let u = Url::parse(guid).ok()?;
    if u.path() != "/" && !u.path().is_empty() {
        return None;
    }
    u.query_pairs()
        .find(|(k, _)| k == "p")
        .and_then(|(_, v)| v.parse().ok())
}

/// Fill the gaps of a full-text extraction with what the feed item said.
pub fn merge(mut page: RawPost, item: RawPost) -> RawPost {
    if page.title.is_none() {
        page.title = item.title;
    }
    page.published.extend(item.published);
    page.modified.extend(item.modified);
    if page.authors.is_empty() {
        page.authors = item.authors;
    }
    for c in item.categories {
        if !page.categories.contains(&c) {
            page.categories.push(c);
        }
    }
    if page.body_html.is_none() {
        page.body_html = item.body_html;
    }
    if page.summary.is_none() {
        page.summary = item.summary;
    }
    if page.wp_post_id.is_none() {
        page.wp_post_id = item.wp_post_id;
    }
    page
}

/// The next page of a WordPress feed archive: `?paged=N+1` (`?paged=2` after the first page).
pub fn next_archive_page(url: &Url) -> Option<Url> {
    let current: u32 = url
        .query_pairs()
        .find(|(k, _)| k == "paged")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(1);
    let mut next = url.clone();
    let others: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != "paged")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    next.query_pairs_mut()
        .clear()
        .extend_pairs(others)
        .append_pair("paged", &(current + 1).to_string());
    Some(next)
}
