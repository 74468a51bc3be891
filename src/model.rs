//! Plain data passed between the pipeline stages.
//!
//! Owns: the types every stage agrees on (`RawPage`, `RawPost`, `Listing`, `Entry`, `EntryId`,
//! `RunReport`). Must not: do I/O, read the clock or know about configuration files.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use url::Url;

/// A fetched (or read) document, already decoded to UTF-8.
#[derive(Debug, Clone, PartialEq)]
pub struct RawPage {
    /// The URL that was asked for.
    pub requested_url: Url,
    /// The URL the body came from, after redirects (for `dir` sources: the front-matter `url`, or
    /// a `file://` URL).
    pub url: Url,
    /// `Content-Type` header as sent, if any.
    pub content_type: Option<String>,
    /// The body decoded to UTF-8 (BOM → HTTP charset → `<meta charset>` → detection).
    pub body: String,
    /// When the response arrived.
    pub fetched_at: DateTime<Utc>,
}

/// Where a date came from, most trusted first. Stored with the entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DateSource {
    /// JSON-LD `datePublished` / `dateModified`.
    Jsonld,
    /// `article:published_time` / `modified_time` and similar `<meta>`.
    Meta,
    /// Theme markup such as `time.entry-date[datetime]`.
    Markup,
    /// The text of a theme's byline (`<span class="posted-on">Publié le 12 novembre 2024`),
    /// read only when the page gives no other date: after a feed item's own date. Stored as
    /// `markup`, so that a store stays readable by the feedwright of the same schema before it.
    Byline,
    /// An ingested feed's own date (`pubDate`, `published`, `date_published`) or front matter.
    Feed,
    /// No date anywhere: the first time feedwright saw the post.
    FirstSeen,
}

impl DateSource {
    /// The name used in the store and in logs.
    pub fn as_str(self) -> &'static str {
        match self {
            DateSource::Jsonld => "jsonld",
            DateSource::Meta => "meta",
            DateSource::Markup | DateSource::Byline => "markup",
            DateSource::Feed => "feed",
            DateSource::FirstSeen => "first_seen",
        }
    }

    /// Inverse of [`DateSource::as_str`].
    pub fn parse(s: &str) -> Option<DateSource> {
        Some(match s {
            "jsonld" => DateSource::Jsonld,
            "meta" => DateSource::Meta,
            "markup" => DateSource::Markup,
            "feed" => DateSource::Feed,
            "first_seen" => DateSource::FirstSeen,
            _ => return None,
        })
    }
}

/// A date exactly as found in a document, not yet parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawDate {
    pub value: String,
    pub source: DateSource,
}

/// A link to another post, as the page itself presents it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Link {
    /// Absolute URL.
    pub url: String,
    /// The link text (may be empty).
    pub title: String,
}

/// What extraction found on one post page: every field raw and untrusted.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RawPost {
    /// `<link rel="canonical">` resolved against the page, if present.
    pub canonical: Option<Url>,
    /// WordPress post id from `<link rel="shortlink" href="…?p=ID">`, `article#post-ID`, JSON
    /// or the REST API.
    pub wp_post_id: Option<u64>,
    /// `<base href>` resolved against the page URL, if present.
    pub base_href: Option<Url>,
    /// Title with any site-name suffix already stripped, unescaped text.
    pub title: Option<String>,
    /// Candidates for the published date, most trusted first.
    pub published: Vec<RawDate>,
    /// Candidates for the modified date, most trusted first.
    pub modified: Vec<RawDate>,
    /// Author display names, in page order, deduplicated.
    pub authors: Vec<String>,
    /// Category and tag names, in page order, deduplicated.
    pub categories: Vec<String>,
    /// The post body as HTML, untrusted and possibly with relative URLs.
    pub body_html: Option<String>,
    /// The page's own description / excerpt, if any, as HTML: a source holding plain text
    /// escapes it, so `a<b` is text, not a tag.
    pub summary: Option<String>,
    /// The page's own related-post links (YARPP, CRP, "Related Posts" heading), absolute.
    pub related: Vec<Link>,
    /// Media files the post carries as a feed item (RSS `<enclosure>`, Atom `<link
    /// rel="enclosure">`, JSON Feed `attachments`), URLs resolved but not checked yet; a page
    /// gives none.
    pub enclosures: Vec<Enclosure>,
}

/// A media file attached to a post: a podcast episode's audio, a video (RSS `<enclosure>`,
/// Atom `<link rel="enclosure">`, JSON Feed `attachments`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Enclosure {
    /// Absolute http(s) URL (in an [`Entry`]: without credentials or fragment, XML-safe).
    pub url: String,
    /// Media type (`audio/mpeg`), lower case, without parameters; `None` when the feed gave
    /// none that reads as one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// Size in bytes; `None` when unknown (a feed's `0` says unknown too).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<u64>,
    /// Its own title (JSON Feed `title`, Atom `title`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Playing time in whole seconds (JSON Feed `duration_in_seconds`), if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_secs: Option<u64>,
}

/// Most enclosures an entry keeps: a podcast episode has one, a gallery a few; the rest are
/// left out with a warning.
pub const MAX_ENCLOSURES: usize = 20;

/// Post links and the next listing page found on one listing page.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Listing {
    /// Absolute post URLs in page order, deduplicated.
    pub posts: Vec<Url>,
    /// The next listing page, if the page advertises one.
    pub next: Option<Url>,
    /// Modified dates the page shows for its posts (a `time.updated` or the like in a post's
    /// card), raw, with the post URL they belong to, in page order; a post without one is absent.
    pub modified: Vec<(Url, String)>,
    /// Post links the page holds past the first [`MAX_LISTING_POSTS`], left out (counted as
    /// found, duplicates included).
    pub left_out: usize,
    /// Which rule gave `posts` (for the debug log of a listing walk).
    pub found_by: LinkRule,
    /// The page's own description (`og:description`, else `<meta name="description">`), as
    /// `RawPost::summary` is written: a post page repeating it carries the site's description,
    /// not its own.
    pub description: Option<String>,
    /// The feed the page advertises (`<link rel="alternate" type="application/rss+xml">`, Atom
    /// or JSON Feed; not a comments feed), for the hint about a listing without post links.
    pub feed: Option<Url>,
}

/// The rule that found a listing page's post links.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LinkRule {
    /// No rule gave a link.
    #[default]
    None,
    /// The source's `[source.selectors] item_link`.
    ItemLink,
    /// Post title links (`.entry-title a`, `a[rel=bookmark]` …).
    Titles,
    /// The first heading link (or first link that can be a post) of each `article` or
    /// block-theme post item.
    ItemFallback,
}

impl std::fmt::Display for LinkRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            LinkRule::None => "none",
            LinkRule::ItemLink => "the item_link selector",
            LinkRule::Titles => "post title links",
            LinkRule::ItemFallback => "the first link of each article",
        })
    }
}

impl Listing {
    /// Why some of the page's post links were left out, when they were (reported as skipped).
    pub fn left_out_reason(&self) -> Option<String> {
        (self.left_out > 0).then(|| {
            format!(
                "{} more post links left out: at most {MAX_LISTING_POSTS} are taken from one \
                 listing page",
                self.left_out
            )
        })
    }
}

/// Most post links taken from one listing page. A real category page lists 10 to a few hundred
/// posts; a page listing hundreds of thousands would become as many pending posts.
pub const MAX_LISTING_POSTS: usize = 1000;

/// Stable identity of an entry: an absolute IRI, never a hash of mutable content.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EntryId(pub String);

impl std::fmt::Display for EntryId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Longest sanitized body an entry keeps, in bytes: 512 KiB, about twice the HTML of a long
/// real post. Every stored body is rendered into each feed document on every publish, so one
/// oversized post would weigh on every run and every reader.
pub const MAX_CONTENT_HTML_BYTES: usize = 512 * 1024;

/// A normalized, sanitized post: what the store keeps and the feeds publish.
///
/// Complete archive pages keep their entries as this struct's JSON for good, so every version
/// must read what earlier ones wrote: a field added later needs `#[serde(default)]` (the test
/// `frozen_entries_of_0_1_still_read` reads the 0.1 format).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// Public id (Atom `id`, RSS `guid`, JSON Feed `id`).
    pub id: EntryId,
    /// Scheme-, `www.`- and fragment-insensitive key: twins of one post share it.
    pub dedup_key: String,
    /// Name of the `[[source]]` it came from.
    pub source: String,
    /// Canonical absolute URL.
    pub url: String,
    pub title: String,
    pub published: DateTime<Utc>,
    pub published_source: DateSource,
    pub updated: DateTime<Utc>,
    pub updated_source: DateSource,
    pub authors: Vec<String>,
    pub categories: Vec<String>,
    /// Sanitized HTML with absolute URLs, XML-safe; at most [`MAX_CONTENT_HTML_BYTES`] long
    /// (a longer body is replaced by a short notice, the summary and a link to the post).
    pub content_html: String,
    /// Plain-text summary (no markup), XML-safe.
    pub summary: String,
    /// Related posts (absolute URLs).
    pub related: Vec<Link>,
    /// Attached media files, at most [`MAX_ENCLOSURES`], one per URL, in the feed's order.
    /// (Absent from what versions before it froze: read as none.)
    #[serde(default)]
    pub enclosures: Vec<Enclosure>,
}

impl Entry {
    /// This entry without its text (`content_html` and `summary` empty): what
    /// [`crate::store::Store::entries_without_text`] lists for it.
    pub fn without_text(mut self) -> Entry {
        self.content_html.clear();
        self.summary.clear();
        self
    }
}

/// What happened to one source during a run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SourceReport {
    pub source: String,
    pub new: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Posts stored already (by another source, or under the source's old name when its
    /// history could not be carried over) that the listing showed and that now belong to this
    /// source, and so to its feeds, unfetched.
    pub linked: usize,
    /// `(url or file, reason)` for every post or page that failed.
    pub failures: Vec<(String, String)>,
    /// Set when the whole source could not be read (site unreachable, bad feed …).
    pub fatal: Option<String>,
    /// What was left out on purpose, not failures: `(URL or feed, reason)` for pages robots.txt
    /// disallows, feed items without a link, `full_text` pages that are not HTML or are gone.
    pub skipped: Vec<(String, String)>,
    /// Posts left for the next run (request budget used up, host asked to wait): kept pending,
    /// not failures.
    pub deferred: usize,
    /// A backfill the request budget stopped before a page of the archive: that page's URL,
    /// where the next backfill continues (the posts on it and after are left, not counted in
    /// `deferred`).
    pub backfill_left_at: Option<String>,
    /// This run read the source's listing, and every page of it that it read gave post links.
    pub listing_links: bool,
    /// Requests made, of which answered 304, and body bytes received.
    pub requests: u32,
    pub not_modified: u32,
    pub bytes: u64,
    /// Set when the source looks broken (a redesign?) although it answered: why.
    pub degraded: Option<String>,
    /// Set when the store could not be written at all (a full disk), which stopped the read:
    /// why. The store cannot record this itself.
    pub store_blocked: Option<String>,
    /// Ids of the entries stored new in this run.
    pub new_ids: Vec<EntryId>,
    /// Of the entries stored new in this run, those with no date of their own (dated when
    /// first seen).
    pub new_undated: usize,
    /// The first few of those, by URL (for the warning that names them).
    pub undated_urls: Vec<String>,
    /// The run was interrupted (SIGINT, SIGTERM) while it read this source, and left some of it
    /// unread: what it read is stored, but the run is not recorded (no last success or error,
    /// no validators), and the next run reads the source in full.
    pub interrupted: bool,
    /// The source's `url` moved to another scheme, host or port with the same path (its site
    /// moved): `(old site, new site, stored posts that took their address there)`, when some did.
    pub site_moved: Option<(String, String, usize)>,
}

impl SourceReport {
    /// A source failed when it could not be read, a post failed, or it looks degraded.
    pub fn failed(&self) -> bool {
        self.fatal.is_some() || !self.failures.is_empty() || self.degraded.is_some()
    }

    /// The run in one line, without the source's name: why the source could not be read, or
    /// its counts (`2 new, 0 updated, 5 unchanged, 1 failed; 9 requests (6 not modified), 40
    /// KiB`).
    pub fn summary(&self) -> String {
        match &self.fatal {
            Some(reason) => reason.clone(),
            None => format!(
                "{} new, {} updated, {} unchanged, {}{} failed; {} requests ({} not modified), {} KiB",
                self.new,
                self.updated,
                self.unchanged,
                match self.linked {
                    0 => String::new(),
                    n => format!("{n} stored already added, "),
                },
                self.failures.len(),
                self.requests,
                self.not_modified,
                self.bytes.div_ceil(1024)
            ),
        }
    }
}

/// What one `run` did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunReport {
    pub sources: Vec<SourceReport>,
    /// `(feed name, error)` for feeds that could not be published.
    pub publish_failures: Vec<(String, String)>,
}

impl RunReport {
    pub fn failed(&self) -> bool {
        self.sources.iter().any(SourceReport::failed) || !self.publish_failures.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What version 0.1 froze into complete archive pages still reads, field for field (those
    /// pages are never rewritten).
    #[test]
    fn frozen_entries_of_0_1_still_read() {
        let json = include_str!("../tests/fixtures/frozen/entries-0.1.json");
        let entries: Vec<Entry> = serde_json::from_str(json).expect("the 0.1 format reads");
        assert_eq!(entries.len(), 2);
        let e = &entries[0];
        assert_eq!(e.id, EntryId("https://www.example.org/?p=42".into()));
        assert_eq!(e.title, "Water treaties – a panel");
        assert_eq!(e.published.to_rfc3339(), "2024-11-12T15:00:00+00:00");
        assert_eq!(e.published_source, DateSource::Jsonld);
        assert_eq!(e.updated_source, DateSource::Meta);
        assert_eq!(e.authors, ["Ana Ruiz", "Miriam Brenner"]);
        assert_eq!(e.related[0].title, "River basin negotiations");
        assert_eq!(entries[1].published_source, DateSource::FirstSeen);
        // Enclosures came later: 0.1 froze none.
        assert!(entries.iter().all(|e| e.enclosures.is_empty()));
        // And what this version writes, it reads back the same, enclosures included.
        let mut entries = entries;
        entries[0].enclosures = vec![Enclosure {
            url: "https://www.example.org/media/panel.mp3".into(),
            media_type: Some("audio/mpeg".into()),
            length: Some(1234),
            title: None,
            duration_secs: Some(3600),
        }];
        let written = serde_json::to_string(&entries).expect("write");
        let again: Vec<Entry> = serde_json::from_str(&written).expect("read");
        assert_eq!(again, entries);
    }
}
