//! Normalization: `RawPost -> Entry`.
//!
//! Owns: canonical URLs and twin handling, stable entry ids, date parsing to UTC with provenance,
//! HTML sanitizing (one `ammonia` policy for feeds and email) with absolute URLs, summaries,
//! author names without email addresses, XML-forbidden character removal, title limits, the body
//! limit (`model::MAX_CONTENT_HTML_BYTES`), enclosures (http(s), one per URL, at most
//! `model::MAX_ENCLOSURES`), and
//! decoding fetched bytes to UTF-8. Must not:
//! do I/O or read the clock (`fetched_at` is a parameter).
//!
//! Submodules: `urls` (canonical URL, cleaning, twin keys, ids), `dates` (the date normalizer),
//! `html` (sanitizer, `xml_safe`, HTML → text), `images` (lazy-loaded images), `media` (audio,
//! video and embeds become links), `text` (titles, summaries, names), `enclosures` (media
//! files), `charset` (bytes → UTF-8).

mod charset;
mod dates;
mod enclosures;
pub(crate) mod html;
mod images;
mod media;
mod text;
mod urls;

use std::collections::HashSet;

use chrono::{DateTime, Timelike, Utc};
use chrono_tz::Tz;
use url::Url;

use crate::model::{DateSource, Entry, EntryId, Link, MAX_CONTENT_HTML_BYTES, RawDate, RawPost};

pub use charset::{Chosen, Declared, Decoded, decode_page, decode_text};
pub use dates::{ReadDate, parse_date, parse_date_in, parse_date_in_zones, read_date_in_zones};
pub(crate) use enclosures::enclosures;
pub(crate) use html::collapse_whitespace;
pub use html::{sanitize_html, xml_safe};
pub(crate) use media::usable_url;
pub(crate) use text::cut_at_word;
pub(crate) use urls::key_escapes;
pub use urls::without_credentials;
pub use urls::{clean_url, twin_key};

/// Why a post could not be normalized.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NormalizeError {
    /// Neither the declared canonical URL nor the page URL is an http(s) URL.
    #[error("post has no usable URL: {0}")]
    BadUrl(String),
    /// The body or summary HTML would cost html5ever minutes to parse ([`crate::html_limits`]).
    #[error("post body refused unparsed: {0}")]
    TooCostly(#[from] crate::html_limits::Exceeded),
}

/// Normalize one extracted post fetched from `page_url` at `fetched_at` for source `source`.
/// Returns the entry and human-readable warnings (clamped future date, cut title, …).
///
/// - URL: `raw.canonical` when it is http(s) on the page's host (modulo `www.`; any host when
///   the page itself is not http(s)) and not the site root while the page is another page,
///   else the page URL; then [`clean_url`].
/// - Id: `<scheme>://<host>/?p=<id>` when the WordPress post id is known, else the URL.
/// - Dates: the first parseable candidate (see [`parse_date`]) with its provenance, else the
///   modified date, else `fetched_at` as [`DateSource::FirstSeen`]; updated falls back to published and is never
///   earlier; dates after `fetched_at` are clamped to it (provenance `first_seen`, so the
///   store keeps the first clamp); whole seconds.
/// - Content: [`sanitize_html`] against `raw.base_href`, else the page URL; a result over
///   [`MAX_CONTENT_HTML_BYTES`] is replaced by a short notice, the summary and a link to the
///   post (never cut inside markup), with a warning giving its size; a body or summary beyond [`crate::html_limits`] is an error,
///   like a post without a URL.
/// - Enclosures: absolute http(s) URLs without credentials or fragment, one per URL, at most
///   [`crate::model::MAX_ENCLOSURES`] (a warning says how many more were left out); a media
///   type as `type/subtype` or none, a length of `0` as unknown.
pub fn normalize(
    page_url: &Url,
    raw: RawPost,
    source: &str,
    fetched_at: DateTime<Utc>,
) -> Result<(Entry, Vec<String>), NormalizeError> {
    normalize_in(page_url, raw, source, fetched_at, Tz::UTC)
}

/// [`normalize`], with a date given without a time of day (`2024-11-18`, `12 novembre 2024`)
/// read as that day's midnight in `day_zone` rather than in UTC: the zone where the day is
/// shown and the digest's weeks are counted (see `SourceConfig::day_zone`), as a `dir`
/// source's front matter is read. A date-time without an offset stays UTC.
pub fn normalize_in(
    page_url: &Url,
    raw: RawPost,
    source: &str,
    fetched_at: DateTime<Utc>,
    day_zone: Tz,
) -> Result<(Entry, Vec<String>), NormalizeError> {
    let mut warnings = Vec::new();
    // A feed item's, a REST API post's or a Markdown file's HTML was never parsed before; a
    // page's body was, but is checked again as cheaply as the rest.
    for html in [raw.body_html.as_deref(), raw.summary.as_deref()] {
        crate::html_limits::check(html.unwrap_or(""))?;
    }

    let (chosen, warning) = urls::choose_canonical(page_url, raw.canonical.as_ref());
    warnings.extend(warning);
    let canonical = clean_url(&chosen);
    if !urls::is_http(&canonical) {
        return Err(NormalizeError::BadUrl(canonical.to_string()));
    }
    let url = xml_safe(canonical.as_str());
    let id = xml_safe(&urls::entry_id(&canonical, raw.wp_post_id));
    let dedup_key = twin_key(&url);

    let fetched_at = whole_seconds(fetched_at);
    let dates = Dates {
        fetched_at,
        day_zone,
    };
    let modified = dates.first(&raw.modified, "modified", &mut warnings);
    // A page dated only by its modification date (`<time class="updated">`, say) is dated by
    // it: the time the post was first seen is for posts with no date at all.
    let (published, published_source) = dates
        .first(&raw.published, "published", &mut warnings)
        .or(modified)
        .unwrap_or((fetched_at, DateSource::FirstSeen));
    let (mut updated, mut updated_source) = modified.unwrap_or((published, published_source));
    if updated < published {
        // WordPress publishes a scheduled post without touching its modification date: from
        // its REST API or feed that is the rule, not news.
        if !(published_source == DateSource::Feed && updated_source == DateSource::Feed) {
            warnings.push(format!(
                "modified date {updated} is before published date {published}: using published"
            ));
        }
        updated = published;
        updated_source = published_source;
    }

    let base = [raw.base_href.as_ref(), Some(page_url)]
        .into_iter()
        .flatten()
        .find(|u| urls::is_http(u))
        .unwrap_or(&canonical);
    // Links made absolute against the page never take on a source URL's credentials, nor the
    // tracking parameters of the link the post was reached by (a `#notes` link would carry
    // them into the body).
    let base = &clean_url(base);
    // Trimmed, so the same post read from the REST API (which ends bodies with a newline) and
    // from its page hashes the same.
    let content_html = sanitize_html(raw.body_html.as_deref().unwrap_or(""), base)
        .trim()
        .to_string();

    let summary_text = raw
        .summary
        .as_deref()
        .map(html::html_to_text)
        .filter(|s| !s.is_empty())
        // Only the start of the body can reach the summary: enough to cut it exactly.
        .unwrap_or_else(|| html::sanitized_text_prefix(&content_html, text::MAX_SUMMARY_CHARS + 2));

    let summary = text::summary(&summary_text);
    let content_html = if content_html.len() > MAX_CONTENT_HTML_BYTES {
        warnings.push(format!(
            "body of {} KiB (after cleaning) is over the {} KiB limit: the feeds carry a notice, \
             the summary and a link to the post instead",
            content_html.len().div_ceil(1024),
            MAX_CONTENT_HTML_BYTES / 1024
        ));
        drop(content_html);
        sanitize_html(&over_limit_notice(&url, &summary), base)
    } else {
        content_html
    };

    let related = related_links(&raw.related, &[&dedup_key, &twin_key(&id)]);
    let enclosures = enclosures::enclosures(&raw.enclosures, &mut warnings);

    let entry = Entry {
        id: EntryId(id),
        dedup_key,
        source: xml_safe(source),
        title: text::title(raw.title.as_deref(), &canonical, &mut warnings),
        url,
        published,
        published_source,
        updated,
        updated_source,
        authors: text::authors(&raw.authors, &mut warnings),
        categories: text::names(&raw.categories, text::NameKind::Category, &mut warnings),
        content_html,
        summary,
        related,
        enclosures,
    };
    Ok((entry, warnings))
}

/// The body of an entry whose own is over [`MAX_CONTENT_HTML_BYTES`]: a notice, the summary
/// (plain text) and a link to the post, all escaped; well-formed and short.
fn over_limit_notice(url: &str, summary: &str) -> String {
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let mut html = format!(
        "<p><em>This post is too long to be included in the feed (over {} KiB of HTML).</em></p>",
        MAX_CONTENT_HTML_BYTES / 1024
    );
    if !summary.is_empty() {
        html.push_str(&format!("<p>{}</p>", escape(summary)));
    }
    html.push_str(&format!(
        "<p><a href=\"{}\">Read it on its site</a></p>",
        escape(url)
    ));
    html
}

fn whole_seconds(dt: DateTime<Utc>) -> DateTime<Utc> {
    dt.with_nanosecond(0).unwrap_or(dt)
}

/// How a post's date candidates are read: when it was fetched, and the zone of a day alone.
struct Dates {
    fetched_at: DateTime<Utc>,
    day_zone: Tz,
}

impl Dates {
    /// The first parseable candidate, clamped to `fetched_at`, with its provenance.
    fn first(
        &self,
        candidates: &[RawDate],
        what: &str,
        warnings: &mut Vec<String>,
    ) -> Option<(DateTime<Utc>, DateSource)> {
        let fetched_at = self.fetched_at;
        for candidate in candidates {
            let Some(ReadDate {
                at: date,
                unsure_zone,
            }) = read_date_in_zones(&candidate.value, Tz::UTC, self.day_zone)
            else {
                warnings.push(format!(
                    "unparseable {what} date {:?} from {}",
                    candidate.value,
                    candidate.source.as_str()
                ));
                continue;
            };
            if let Some(name) = unsure_zone {
                warnings.push(format!(
                    "{what} date {:?} from {}: the zone {name} names several offsets, none of \
                     them {}'s: its time is read as a time in {} ({date})",
                    candidate.value,
                    candidate.source.as_str(),
                    self.day_zone,
                    self.day_zone,
                ));
            }
            if date > fetched_at {
                // A future date is not trusted: the post is dated when it was first seen, with
                // that provenance, so the store keeps the first clamp instead of moving it every
                // run.
                warnings.push(format!(
                    "{what} date {date} is in the future: using the time the post was first seen"
                ));
                return Some((whole_seconds(fetched_at), DateSource::FirstSeen));
            }
            return Some((date, candidate.source));
        }
        None
    }
}

/// Related links: absolute http(s) only, cleaned, one per twin key, never the entry itself.
fn related_links(raw: &[Link], own_keys: &[&str]) -> Vec<Link> {
    let mut seen: HashSet<String> = own_keys.iter().map(|k| k.to_string()).collect();
    raw.iter()
        .filter_map(|link| {
            let url = Url::parse(link.url.trim()).ok()?;
            if !urls::is_http(&url) {
                return None;
            }
            let url = xml_safe(clean_url(&url).as_str());
            seen.insert(twin_key(&url)).then(|| Link {
                url,
                title: text::link_title(&link.title),
            })
        })
        .collect()
}
