//! Feed ingest: an existing RSS 0.9x/1.0/2.0, Atom or JSON Feed document, via `feed-rs`.
//!
//! Owns: turning feed items into `RawPost`s (dates with `feed` provenance, WordPress `?p=ID`
//! guids as post ids), and reading the website the feed names as its own (RSS channel `<link>`,
//! Atom `link rel="alternate"`, JSON Feed `home_page_url`); leaving out items without an
//! http(s) link or with a link outside the source's site (the website the feed names does not
//! widen it: a feed naming another configured source's site could otherwise rewrite its posts);
//! leaving out an item that repeats an earlier item's link (reported, not a failure); the
//! items' own ids, except one the document gives to several items, which identifies none; the
//! items' enclosures (RSS `<enclosure>`, Atom `rel="enclosure"` links, JSON Feed
//! `attachments`), resolved but unchecked; an XML document in the charset its HTTP header
//! names (RFC 7303) read as UTF-8. Must
//! not: fetch, sanitize or normalize (items are as untrusted as pages).

use std::collections::{BTreeSet, HashMap};

use url::Url;

use super::http::Fetched;
use super::site::Site;
use crate::model::{DateSource, Enclosure, RawDate, RawPost};

/// The items of one feed document.
#[derive(Debug, Default)]
pub struct Items {
    /// `(item URL, RawPost)`, in feed order.
    pub posts: Vec<(Url, RawPost)>,
    /// Items left out, as `(feed URL, why)`: those without a usable (http(s)) link (an entry
    /// needs a page for readers to open and for its id), and those linking another site.
    pub skipped: Vec<(String, String)>,
    /// The website the feed names as its own (see [`site_link`]), if it names a usable one.
    pub site: Option<Url>,
    /// The items' own ids: which one tells an item apart, and which ones do not.
    pub ids: ItemIds,
    /// The document has enclosures that could not be told item by item (a warning says why):
    /// the items carry none, and what they say of them is not to be trusted (an entry keeps
    /// those it has).
    pub enclosures_unknown: bool,
}

/// The own ids of a feed document's items (RSS `guid`, Atom `id`, JSON Feed `id`; an item
/// without one has none, feed-rs's made-up ids are not used).
#[derive(Debug, Default)]
pub struct ItemIds {
    /// By item URL, the id of the item there: a post whose link changes keeps its entry by it.
    /// Only ids that name one item of the document (those in `shared` are left out).
    pub by_link: HashMap<String, String>,
    /// Ids the document gives to more than one item (with different links): such an id tells
    /// nothing apart, so those items are known by their links alone, and a new link under the
    /// id is not a post that moved.
    pub shared: BTreeSet<String>,
}

/// Parse a fetched feed into its items. A document that is not a feed is an error message.
///
/// `own`: the site of the source reading the feed (see `source::site`). An item whose link is
/// not on that site is left out (reported in
/// [`Items::skipped`]): a feed cannot speak for another site's posts.
pub fn parse(feed_url: &Url, fetched: &Fetched, own: &Site) -> Result<Items, String> {
    // A UTF-16 document is read as UTF-8: every pass over it then reads the same text (the
    // one telling enclosures read bytes), and feed-rs's reader, which panics on a UTF-16
    // document whose declaration names another encoding than the one its first bytes show
    // (a big-endian one saying `UTF-16`), is handed none.
    let transcoded = utf16_as_utf8(&fetched.body).map(|body| Fetched {
        body,
        ..fetched.clone()
    });
    let fetched = transcoded.as_ref().unwrap_or(fetched);
    // An XML document in the charset its HTTP header names (RFC 7303), read as UTF-8: feed-rs
    // knows only the XML declaration, and without one reads UTF-8.
    let transcoded = header_charset_as_utf8(feed_url, fetched).map(|body| Fetched {
        body,
        ..fetched.clone()
    });
    let fetched = transcoded.as_ref().unwrap_or(fetched);
    // A JSON Feed written by a program that cut a string inside an emoji (JavaScript's
    // `JSON.stringify` does that) holds a lone surrogate escape, which serde_json refuses,
    // and with it the whole feed: it is read as U+FFFD, and the other items are kept.
    let repaired = repair_lone_surrogates(&fetched.body).map(|(body, count)| {
        tracing::warn!(
            "{feed_url}: {count} lone UTF-16 surrogate escape(s) (half of a character, such as \\ud83d alone) read as U+FFFD"
        );
        Fetched {
            body,
            ..fetched.clone()
        }
    });
    let fetched = repaired.as_ref().unwrap_or(fetched);
    // feed-rs reads a JSON Feed in one typed pass, where one attachment it does not take (a
    // `size_in_bytes` of `12345.0` or `-1`, no `mime_type`) fails the whole document: it is
    // handed the document without them, and `json_attachments` reads them from the JSON.
    let stripped = without_attachments(&fetched.body).map(|body| Fetched {
        body,
        ..fetched.clone()
    });
    let typed_input = stripped.as_ref().unwrap_or(fetched);
    let feed = builder(typed_input)
        .build()
        .parse(typed_input.body.as_slice())
        .map_err(|e| {
            if is_html_page(fetched) {
                "not a feed: the answer is an HTML page; for a category listing page set \
                 kind = \"html\" (or \"auto\", which tells a feed from a page), or give the \
                 feed's own URL"
                    .to_string()
            } else {
                format!("not a readable RSS, Atom or JSON feed: {e}")
            }
        })?;
    // feed-rs drops a date it cannot read: find the texts of those, for our own date parser
    // (which also knows human forms such as `28 April 2019`, and zones written as names such
    // as `CET`) and, failing that, a warning. It reads a day alone (`2024-11-18`) as midnight
    // UTC: the text of a date read as midnight UTC is found too, for a day alone is that day
    // in the source's zone (see `normalize_in`).
    let midnight = |d: Option<chrono::DateTime<chrono::Utc>>| {
        d.is_none_or(|d| d.time() == chrono::NaiveTime::MIN)
    };
    let undated = feed
        .entries
        .iter()
        .any(|e| midnight(e.published) || midnight(e.updated));
    let unread = if undated {
        unread_dates(typed_input)
    } else {
        Vec::new()
    };
    // feed-rs also calls an RSS 1.0 description plain text; it usually holds escaped HTML.
    let typed = matches!(
        feed.feed_type,
        feed_rs::model::FeedType::Atom | feed_rs::model::FeedType::JSON
    );
    let mut out = Items {
        site: site_link(&feed, feed_url, fetched),
        ..Items::default()
    };
    // An Atom entry without authors has its feed's (RFC 4287 4.2.1). (feed-rs gives a JSON
    // Feed's items their feed's authors itself; an RSS channel has no authors of its items.)
    // Relative links in an Atom entry's content resolve against the `xml:base` in scope there.
    let bases = if feed.feed_type == feed_rs::model::FeedType::Atom {
        content_bases(fetched)
    } else {
        Vec::new()
    };
    let feed_authors: Vec<String> = if feed.feed_type == feed_rs::model::FeedType::Atom {
        feed.authors.iter().filter_map(|p| p.name.clone()).collect()
    } else {
        Vec::new()
    };
    let links: Vec<Option<Url>> = feed
        .entries
        .iter()
        .map(|item| item_link(item, &fetched.url))
        .collect();
    out.ids.shared = shared_ids(&feed.entries, &links);
    for id in &out.ids.shared {
        tracing::warn!(
            "{feed_url}: the item id {id:?} is on several items with different links, so it \
             does not tell them apart: each is known by its link, and a new item under this id \
             is a new post, not one that moved"
        );
    }
    let mut enclosures = item_enclosures(feed_url, &feed, fetched).unwrap_or_else(|| {
        out.enclosures_unknown = true;
        Vec::new()
    });
    // The first item at each link (by its twin key: the entry it gives), described.
    let mut first_at: HashMap<String, String> = HashMap::new();
    for ((n, item), link) in feed.entries.into_iter().enumerate().zip(links) {
        let Some(link) = link else {
            let why = format!(
                "{} has no usable link, so no page to link to; left out",
                describe(&item)
            );
            out.skipped.push((feed_url.to_string(), why));
            continue;
        };
        if !own.contains(&link) {
            let why = format!(
                "{} links to another site ({link}): not read (a feed's items must be on \
                 the source's own site; list the host in the source's also_hosts if this feed \
                 speaks for it)",
                describe(&item)
            );
            out.skipped.push((feed_url.to_string(), why));
            continue;
        }
        // A feed that repeats a link gives one post twice: the first item is the post. (Not a
        // failure: the feed is someone else's, and the post is read all the same.)
        match first_at.entry(crate::normalize::twin_key(link.as_str())) {
            std::collections::hash_map::Entry::Occupied(first) => {
                let why = format!(
                    "{} repeats the link {link} of {}, which is kept; left out",
                    describe(&item),
                    first.get()
                );
                out.skipped.push((feed_url.to_string(), why));
                continue;
            }
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(describe(&item));
            }
        }
        let id = item.id.trim();
        let trusted = !id.is_empty() && !out.ids.shared.contains(id);
        if trusted {
            out.ids.by_link.insert(link.to_string(), id.to_owned());
        }
        let date = |d: Option<chrono::DateTime<chrono::Utc>>| {
            d.map(|d| RawDate {
                value: d.to_rfc3339(),
                source: DateSource::Feed,
            })
            .into_iter()
            .collect::<Vec<_>>()
        };
        let text = |t: Option<&String>| {
            t.map(|t| RawDate {
                value: t.clone(),
                source: DateSource::Feed,
            })
            .into_iter()
            .collect::<Vec<_>>()
        };
        // A date feed-rs read, else the text of one it could not read (an element that is
        // absent has no text), field by field; the published date falls back to the updated.
        // A day alone is its text, not feed-rs's midnight UTC.
        let (p_text, u_text) = unread.get(n).cloned().unwrap_or_default();
        let read = |d: Option<chrono::DateTime<chrono::Utc>>, t: Option<&String>| match d {
            Some(d) if !t.is_some_and(|t| is_day_alone(t)) => date(Some(d)),
            _ => text(t),
        };
        let modified = read(item.updated, u_text.as_ref());
        let published = match item.published {
            None if p_text.is_none() => modified.clone(),
            d => read(d, p_text.as_ref()),
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
        let mut authors: Vec<String> = item.authors.iter().filter_map(|p| p.name.clone()).collect();
        if authors.is_empty() {
            authors.clone_from(&feed_authors);
        }
        let raw = RawPost {
            canonical: Some(link.clone()),
            // A WordPress post number only from an id that names this item alone.
            wp_post_id: trusted.then(|| wp_id_from_guid(&item.id)).flatten(),
            base_href: bases.get(n).cloned().flatten(),
            // An Atom title typed `html` or `xhtml` is markup: its text is the title. (RSS
            // titles carry no type and are kept as written.)
            // One too costly to parse is left out, as if there were none.
            title: item.title.as_ref().and_then(|t| {
                if is_plain(t.content_type.as_ref()) {
                    return Some(t.content.clone());
                }
                super::html_text(&t.content)
                    .inspect_err(|e| {
                        tracing::warn!("{feed_url}: the title of item {link}: not read: {e}");
                    })
                    .ok()
            }),
            published,
            modified,
            authors,
            categories: item
                .categories
                .iter()
                .map(|c| c.label.clone().unwrap_or_else(|| c.term.clone()))
                .collect(),
            body_html: body,
            // A plain-text summary (Atom `type="text"`, JSON Feed `summary`) is text too.
            summary: item
                .summary
                .as_ref()
                .map(|t| as_html(&t.content, t.content_type.as_ref(), typed)),
            related: Vec::new(),
            enclosures: enclosures
                .get_mut(n)
                .map(std::mem::take)
                .unwrap_or_default(),
        };
        out.posts.push((link, raw));
    }
    Ok(out)
}

/// The enclosures of every item of the document, in feed order (item `n` of `feed.entries` has
/// list `n`): RSS `<enclosure>` elements (RSS allows one an item; a feed with more has them
/// all read), Atom `<link rel="enclosure">`, JSON Feed `attachments`. URLs are resolved against
/// the base in scope (`xml:base`), else the feed's address; they are checked in `normalize`.
/// Empty when the document has none. `None`, with a warning, when it has some but they cannot
/// be told item by item as feed-rs reads the items (the pass over the document does not parse,
/// or finds another number of items): the items' enclosures are not known then.
///
/// RSS and Atom are read by a second pass over the XML (see [`xml_enclosures`]). JSON Feed is
/// read from the JSON again: feed-rs is handed the document without attachments, and would
/// not give their duration.
fn item_enclosures(
    feed_url: &Url,
    feed: &feed_rs::model::Feed,
    fetched: &Fetched,
) -> Option<Vec<Vec<Enclosure>>> {
    use feed_rs::model::FeedType;
    let layout = match feed.feed_type {
        FeedType::Atom => Some(Layout::Atom),
        FeedType::RSS1 => Some(Layout::Rdf),
        FeedType::RSS0 | FeedType::RSS2 => Some(Layout::Channel),
        FeedType::JSON => None,
    };
    let lists = match layout {
        Some(layout) => xml_enclosures(fetched, layout),
        None => json_attachments(feed_url, fetched),
    };
    let Some(lists) = lists else {
        tracing::warn!(
            "{feed_url}: its items' enclosures could not be read (the document does not parse \
             on a second reading): not known this time, its entries keep those they have"
        );
        return None;
    };
    if lists.iter().all(Vec::is_empty) {
        return Some(Vec::new());
    }
    if lists.len() != feed.entries.len() {
        tracing::warn!(
            "{feed_url}: {} items read, but {} found looking for their enclosures: not known \
             this time, its entries keep those they have",
            feed.entries.len(),
            lists.len()
        );
        return None;
    }
    Some(lists)
}

/// A JSON Feed's `attachments`, item by item (`url` resolved against the feed's address;
/// `size_in_bytes` and `duration_in_seconds` as whole numbers, a fraction of one rounded).
/// `None` when it does not parse. A value that is not what JSON Feed says it is (a size of `-1`
/// or `"12345"`, a `mime_type` of `5`) is left out, and an attachment without a `url` string,
/// with a warning naming the feed and the item: the rest of the item is read.
fn json_attachments(feed_url: &Url, fetched: &Fetched) -> Option<Vec<Vec<Enclosure>>> {
    use serde_json::Value;
    let body = fetched
        .body
        .strip_prefix(b"\xEF\xBB\xBF")
        .unwrap_or(&fetched.body);
    let json = serde_json::from_slice::<Value>(body).ok()?;
    let Some(items) = json.get("items").and_then(|i| i.as_array()) else {
        return Some(Vec::new());
    };
    let lists = items
        .iter()
        .enumerate()
        .map(|(n, item)| {
            let warn = |what: String| {
                tracing::warn!("{feed_url}: {}: {what}", describe_json_item(item, n));
            };
            let attachments = match item.get("attachments") {
                None | Some(Value::Null) => return Vec::new(),
                Some(Value::Array(a)) => a,
                Some(other) => {
                    warn(format!(
                        "attachments {} is not a list of attachments: left out",
                        shown(other)
                    ));
                    return Vec::new();
                }
            };
            attachments
                .iter()
                .enumerate()
                .filter_map(|(i, a)| {
                    let which = format!("attachment {}", i + 1);
                    let Some(url) = a.get("url").and_then(Value::as_str) else {
                        warn(format!("{which} has no url: left out"));
                        return None;
                    };
                    let Some(url) = crate::normalize::usable_url(&fetched.url, url) else {
                        warn(format!("{which}: url {url:?} is no http(s) URL: left out"));
                        return None;
                    };
                    let text = |key: &str| match a.get(key)? {
                        Value::String(s) => Some(s.clone()),
                        Value::Null => None,
                        other => {
                            warn(format!(
                                "{which}: {key} {} is not text: left out",
                                shown(other)
                            ));
                            None
                        }
                    };
                    let whole = |key: &str| {
                        let v = a.get(key)?;
                        let n = v.as_u64().or_else(|| {
                            // Saturates at u64::MAX; NaN is not a JSON number.
                            v.as_f64().filter(|f| *f >= 0.0).map(|f| f.round() as u64)
                        });
                        if n.is_none() && !v.is_null() {
                            warn(format!(
                                "{which}: {key} {} is not a whole number of at least 0: left out",
                                shown(v)
                            ));
                        }
                        n
                    };
                    Some(Enclosure {
                        url: url.into(),
                        media_type: text("mime_type"),
                        length: whole("size_in_bytes"),
                        title: text("title"),
                        duration_secs: whole("duration_in_seconds"),
                    })
                })
                .collect()
        })
        .collect();
    Some(lists)
}

/// A JSON Feed item as a warning names it: by its `id`, else its `url`, else its place.
fn describe_json_item(item: &serde_json::Value, n: usize) -> String {
    let field = |key: &str| item.get(key).and_then(|v| v.as_str()).map(str::trim);
    match (field("id"), field("url")) {
        (Some(id), _) if !id.is_empty() => format!("item {id:?}"),
        (_, Some(url)) if !url.is_empty() => format!("item at {url:?}"),
        _ => format!("item {} (no id or url)", n + 1),
    }
}

/// A JSON value as a warning shows it: its JSON text, at most 40 characters of it.
fn shown(value: &serde_json::Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(40) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text,
    }
}

/// A JSON Feed document without its items' `attachments`, for feed-rs: its typed reading of
/// them fails the whole document on one value it does not take (a size written `12345.0`, a
/// missing `mime_type`), and feedwright reads them from the JSON itself
/// ([`json_attachments`]). `None` when the body is not a JSON object or no item has any (it is
/// handed over as it is).
fn without_attachments(body: &[u8]) -> Option<Vec<u8>> {
    let text = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    if text.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return None;
    }
    let mut json = serde_json::from_slice::<serde_json::Value>(text).ok()?;
    let mut removed = false;
    for item in json.get_mut("items")?.as_array_mut()? {
        if let Some(item) = item.as_object_mut() {
            removed |= item.remove("attachments").is_some();
        }
    }
    if !removed {
        return None;
    }
    serde_json::to_vec(&json).ok()
}

/// Where an XML feed keeps its items, as feed-rs reads them, and their enclosures (see
/// [`xml_enclosures`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// RSS 0.9x and 2.0: the `<item>`s of the root's first `<channel>` (feed-rs reads no other
    /// channel, nor an `<item>` outside it), each with its `<enclosure url length type>`s.
    Channel,
    /// RSS 1.0: the `<item>`s of the root, each with its `<enclosure>`s.
    Rdf,
    /// Atom: the `<entry>`s of the root `<feed>` (or the root `<entry>`), each with its
    /// `<link rel="enclosure" href type length title>`s.
    Atom,
}

/// The RSS 1.0 namespace, which feed-rs reads as RSS's, as it does names in no namespace.
const RSS1_NS: &[u8] = b"http://purl.org/rss/1.0/";

/// The Atom namespace.
const ATOM_NS: &[u8] = b"http://www.w3.org/2005/Atom";

/// An XML feed's enclosures, item by item, in document order: the items feed-rs reads (see
/// [`Layout`]; names in RSS's or Atom's namespace, or none, as feed-rs reads them), each with
/// the enclosures that are its own children. A URL is resolved against the `xml:base` in
/// scope, else the document's address; a blank or fragment-only one, which would resolve to
/// that base (the feed itself), is left out. Empty when the document holds no enclosure;
/// `None` when it does not parse up to the end of its items.
///
/// RSS is read here because feed-rs folds an RSS enclosure into the item's Media RSS object,
/// where a `media:content` (a thumbnail) replaces it; Atom because feed-rs hands over a link
/// resolved already, where an empty `href` is the base it resolved against.
fn xml_enclosures(fetched: &Fetched, layout: Layout) -> Option<Vec<Vec<Enclosure>>> {
    use quick_xml::events::{BytesStart, Event};
    use quick_xml::name::ResolveResult;
    if !fetched.body.windows(9).any(|w| w == b"enclosure") {
        return Some(Vec::new());
    }
    let mut reader = quick_xml::NsReader::from_reader(fetched.body.as_slice());
    let mut buf = Vec::new();
    // The open elements: the base URI in scope in each.
    let mut stack: Vec<Url> = Vec::new();
    let mut items: Vec<Vec<Enclosure>> = Vec::new();
    // How deep the item being read is in `stack` (its own place), if one is.
    let mut in_item: Option<usize> = None;
    // RSS 0.9x, 2.0: how deep the root's first `<channel>` is while it is read, and whether it
    // was read (what follows is no item feed-rs reads).
    let mut channel: Option<usize> = None;
    let mut channel_done = false;
    // An attribute's value, trimmed: `Some(Err)` when it is there but does not decode.
    let attribute = |e: &BytesStart<'_>, name: &[u8], decoder: quick_xml::encoding::Decoder| {
        e.attributes()
            .flatten()
            .find(|a| a.key.as_ref() == name)
            .map(|a| {
                a.decoded_and_normalized_value(quick_xml::XmlVersion::default(), decoder)
                    .map(std::borrow::Cow::into_owned)
                    // As feed-rs reads it: as written when an escape in it does not read.
                    .or_else(|_| decoder.decode(&a.value).map(std::borrow::Cow::into_owned))
                    .map(|v| v.trim().to_owned())
                    .map_err(drop)
            })
    };
    let value = |e: &BytesStart<'_>, name: &[u8], decoder| attribute(e, name, decoder)?.ok();
    // An enclosure whose URL does not decode makes the items' enclosures unknown, rather
    // than an item seeming to have withdrawn it.
    let mut undecodable = false;
    loop {
        let (ns, event) = reader.read_resolved_event_into(&mut buf).ok()?;
        // feed-rs reads a name in no namespace (or under an undeclared prefix) as the
        // format's own.
        let own_ns = match &ns {
            ResolveResult::Bound(n) => match layout {
                Layout::Atom => n.as_ref() == ATOM_NS,
                Layout::Channel | Layout::Rdf => n.as_ref() == RSS1_NS,
            },
            ResolveResult::Unbound | ResolveResult::Unknown(_) => true,
        };
        let named = |e: &BytesStart<'_>, local: &[u8]| own_ns && e.local_name().as_ref() == local;
        let (e, empty) = match &event {
            Event::Start(e) => (e, false),
            Event::Empty(e) => (e, true),
            Event::End(_) => {
                stack.pop();
                if in_item.is_some_and(|depth| stack.len() == depth) {
                    in_item = None;
                }
                if channel.is_some_and(|depth| stack.len() == depth) {
                    channel = None;
                    channel_done = true;
                }
                if stack.is_empty() || channel_done {
                    // The root, or the channel, ends: so do the items feed-rs reads.
                    break;
                }
                buf.clear();
                continue;
            }
            Event::Eof => break,
            _ => {
                buf.clear();
                continue;
            }
        };
        let current = stack.last().unwrap_or(&fetched.url);
        let base = value(e, b"xml:base", reader.decoder())
            .and_then(|b| current.join(&b).ok())
            .unwrap_or_else(|| current.clone());
        let is_item = match layout {
            Layout::Channel => channel == Some(1) && stack.len() == 2 && named(e, b"item"),
            Layout::Rdf => stack.len() == 1 && named(e, b"item"),
            Layout::Atom => stack.len() <= 1 && named(e, b"entry"),
        };
        if layout == Layout::Channel
            && stack.len() == 1
            && channel.is_none()
            && e.local_name().as_ref() == b"channel"
        {
            if empty {
                break;
            }
            channel = Some(1);
        }
        match in_item {
            None if is_item => {
                items.push(Vec::new());
                in_item = (!empty).then_some(stack.len());
            }
            Some(depth) if stack.len() == depth + 1 => {
                let decoder = reader.decoder();
                let mut url_of = |url: Option<Result<String, ()>>| match url? {
                    Ok(url) => Some(url),
                    Err(()) => {
                        undecodable = true;
                        None
                    }
                };
                let found = match layout {
                    Layout::Channel | Layout::Rdf if named(e, b"enclosure") => {
                        url_of(attribute(e, b"url", decoder)).map(|url| Enclosure {
                            url,
                            media_type: value(e, b"type", decoder),
                            length: value(e, b"length", decoder).and_then(|l| l.parse().ok()),
                            title: None,
                            duration_secs: None,
                        })
                    }
                    Layout::Atom
                        if named(e, b"link")
                            && value(e, b"rel", decoder).is_some_and(|r| is_enclosure_rel(&r)) =>
                    {
                        url_of(attribute(e, b"href", decoder)).map(|url| Enclosure {
                            url,
                            media_type: value(e, b"type", decoder),
                            length: value(e, b"length", decoder).and_then(|l| l.parse().ok()),
                            title: value(e, b"title", decoder),
                            duration_secs: None,
                        })
                    }
                    _ => None,
                };
                let found = found.and_then(|mut found| {
                    found.url = crate::normalize::usable_url(&base, &found.url)?.into();
                    Some(found)
                });
                if let (Some(found), Some(list)) = (found, items.last_mut()) {
                    list.push(found);
                }
            }
            _ => {}
        }
        if empty && stack.is_empty() {
            // An empty root: nothing more to read.
            break;
        }
        if !empty {
            stack.push(base);
        }
        buf.clear();
    }
    (!undecodable).then_some(items)
}

/// Is this an Atom link relation naming an enclosure: `enclosure`, or its IANA registry URI
/// (RFC 4287 4.2.7.2), in any case?
fn is_enclosure_rel(rel: &str) -> bool {
    let rel = rel.trim();
    rel.eq_ignore_ascii_case("enclosure")
        || rel.eq_ignore_ascii_case("http://www.iana.org/assignments/relation/enclosure")
}

/// The page an item links to: its `alternate` link (or one without `rel`), else its first
/// link, else its own id when that is an http(s) URL; resolved against the feed's URL. `None`
/// when that is no http(s) URL (a `javascript:` or `data:` link is no page).
fn item_link(item: &feed_rs::model::Entry, feed_url: &Url) -> Option<Url> {
    item.links
        .iter()
        .find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
        .or_else(|| item.links.first())
        .map(|l| l.href.clone())
        .or_else(|| item.id.starts_with("http").then(|| item.id.clone()))
        .and_then(|l| feed_url.join(l.trim()).ok())
        .filter(|u| matches!(u.scheme(), "http" | "https"))
}

/// The own ids the document gives to more than one item, when those items have different
/// links (`links`, item by item; compared as the entries they give, twins alike). An item
/// given twice, id and link alike, is one post repeated, which says nothing against its id.
fn shared_ids(items: &[feed_rs::model::Entry], links: &[Option<Url>]) -> BTreeSet<String> {
    let mut seen: HashMap<&str, Option<String>> = HashMap::new();
    let mut shared = BTreeSet::new();
    for (item, link) in items.iter().zip(links) {
        let id = item.id.trim();
        if id.is_empty() {
            continue;
        }
        let key = link
            .as_ref()
            .map(|l| crate::normalize::twin_key(l.as_str()));
        match seen.get(id) {
            None => {
                seen.insert(id, key);
            }
            Some(first) if *first != key => {
                shared.insert(id.to_owned());
            }
            Some(_) => {}
        }
    }
    shared
}

/// An item as a report names it: by its own id and title, as far as it has them.
fn describe(item: &feed_rs::model::Entry) -> String {
    let title = item.title.as_ref().map_or("", |t| t.content.trim());
    let title: String = title.chars().take(80).collect();
    match (item.id.trim(), title.is_empty()) {
        ("", true) => "an item without id or title".to_owned(),
        ("", false) => format!("item titled {title:?} (no id)"),
        (id, true) => format!("item {id:?}"),
        (id, false) => format!("item {id:?} (title {title:?})"),
    }
}

/// The website a feed names as its own, the HTML page it is the feed of: RSS `<channel><link>`,
/// Atom `<link rel="alternate">` (or a link without `rel`) of an HTML type or none, JSON Feed
/// `home_page_url`; the first such link that is an http(s) URL (a relative one resolved
/// against the feed's address) other than the feed's own address. `None` when it names none:
/// the feed document itself is no page for readers.
fn site_link(feed: &feed_rs::model::Feed, feed_url: &Url, fetched: &Fetched) -> Option<Url> {
    let usable = |href: &str| {
        let url = fetched.url.join(href.trim()).ok()?;
        let own = [feed_url, &fetched.url]
            .iter()
            .any(|u| u.as_str().trim_end_matches('/') == url.as_str().trim_end_matches('/'));
        (matches!(url.scheme(), "http" | "https") && !own).then_some(url)
    };
    if feed.feed_type == feed_rs::model::FeedType::JSON {
        // feed-rs lists `home_page_url` and `feed_url` alike, as links without `rel`.
        let json: serde_json::Value = serde_json::from_slice(&fetched.body).ok()?;
        return usable(json.get("home_page_url")?.as_str()?);
    }
    feed.links
        .iter()
        .filter(|l| {
            l.rel
                .as_deref()
                .is_none_or(|r| r.eq_ignore_ascii_case("alternate"))
        })
        .filter(|l| {
            l.media_type.as_deref().is_none_or(|t| {
                let t = t.trim().to_ascii_lowercase();
                t.starts_with("text/html") || t.starts_with("application/xhtml+xml")
            })
        })
        .find_map(|l| usable(&l.href))
}

/// A JSON document's `\uXXXX` escapes of a UTF-16 surrogate without its other half replaced
/// by `\ufffd`, with how many; `None` when `body` is not JSON (its first character, after a
/// byte order mark and whitespace, is not `{`) or has none.
fn repair_lone_surrogates(body: &[u8]) -> Option<(Vec<u8>, usize)> {
    fn escape_at(body: &[u8], at: usize) -> Option<u16> {
        let hex = body.get(at..at + 6)?.strip_prefix(b"\\u")?;
        u16::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()
    }
    let text = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    if text.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return None;
    }
    let mut out: Option<Vec<u8>> = None;
    let mut count = 0;
    let (mut i, mut copied, mut in_string) = (0, 0, false);
    while i < body.len() {
        match body[i] {
            b'"' => in_string = !in_string,
            b'\\' if in_string => {
                let Some(unit) = escape_at(body, i) else {
                    // Another escape: skip the escaped character.
                    i += 2;
                    continue;
                };
                let paired = match unit {
                    0xD800..=0xDBFF => {
                        matches!(escape_at(body, i + 6), Some(0xDC00..=0xDFFF)).then_some(12)
                    }
                    0xDC00..=0xDFFF => None,
                    _ => Some(6),
                };
                match paired {
                    Some(len) => i += len,
                    None => {
                        let o = out.get_or_insert_with(|| Vec::with_capacity(body.len()));
                        o.extend_from_slice(&body[copied..i]);
                        o.extend_from_slice(b"\\ufffd");
                        count += 1;
                        i += 6;
                        copied = i;
                    }
                }
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out.map(|mut o| {
        o.extend_from_slice(&body[copied..]);
        (o, count)
    })
}

/// A UTF-16 XML document (by its byte order mark, or by a declaration written in UTF-16,
/// little- or big-endian) as UTF-8, its declaration saying `encoding="UTF-8"` (what it named
/// was the encoding of the bytes it came in). `None` for any other document. Bytes that are
/// not UTF-16 become U+FFFD, as they would in a reader's decoding.
fn utf16_as_utf8(body: &[u8]) -> Option<Vec<u8>> {
    let (encoding, skip) = match body {
        [0xFF, 0xFE, ..] => (encoding_rs::UTF_16LE, 2),
        [0xFE, 0xFF, ..] => (encoding_rs::UTF_16BE, 2),
        [b'<', 0, b'?', 0, ..] => (encoding_rs::UTF_16LE, 0),
        [0, b'<', 0, b'?', ..] => (encoding_rs::UTF_16BE, 0),
        _ => return None,
    };
    let (text, _) = encoding.decode_without_bom_handling(&body[skip..]);
    let declared = text.starts_with("<?xml").then(|| text.find("?>")).flatten();
    let Some(end) = declared else {
        return Some(text.into_owned().into_bytes());
    };
    let encoding_attr =
        regex::Regex::new(r#"\bencoding\s*=\s*("[^"]*"|'[^']*')"#).expect("a valid pattern");
    let declaration = encoding_attr.replace(&text[..end], r#"encoding="UTF-8""#);
    Some(format!("{declaration}{}", &text[end..]).into_bytes())
}

/// The encoding an XML document's declaration names (`<?xml version="1.0" encoding="…"?>` at
/// its very start), as written; `None` without a declaration or without `encoding` in it.
fn declared_xml_encoding(body: &[u8]) -> Option<String> {
    static DECLARATION: std::sync::LazyLock<regex::bytes::Regex> = std::sync::LazyLock::new(|| {
        regex::bytes::Regex::new(
            r#"\A<\?xml\s[^>]*?\bencoding\s*=\s*(?:"([^"]*)"|'([^']*)')[^>]*\?>"#,
        )
        .expect("a valid pattern")
    });
    // White space before the declaration is not XML, but common (a blank line a WordPress
    // plugin prints) and read by feed-rs: its declaration still counts.
    let start = body
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(body.len());
    let head = &body[start..body.len().min(start + 256)];
    let caps = DECLARATION.captures(head)?;
    let label = caps.get(1).or_else(|| caps.get(2))?.as_bytes();
    Some(String::from_utf8_lossy(label).trim().to_owned())
}

/// An XML media type (RFC 7303): `text/xml`, `application/xml` or a `+xml` one (RSS's
/// `application/rss+xml`, Atom's `application/atom+xml`).
fn is_xml_media_type(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    matches!(essence.as_str(), "text/xml" | "application/xml") || essence.ends_with("+xml")
}

/// An XML document whose HTTP `Content-Type` names a charset, decoded with it to UTF-8, its
/// declaration then saying `encoding="UTF-8"`. `None` when there is nothing to do: no charset in
/// the header (the XML declaration's encoding, else UTF-8, is read by feed-rs), a byte order
/// mark (which wins over both), a JSON document (always UTF-8), or a header naming UTF-8 over a
/// document that does not declare another encoding.
///
/// As RFC 7303 says, for an XML media type (`text/xml` and `application/xml` alike, and
/// `application/rss+xml`, `application/atom+xml`) the header's charset wins over the XML
/// declaration; when they disagree a warning says so. Served as another type (`text/html`,
/// `text/plain`: a server's default charset, not one the feed's author chose), the charset
/// is used only when the document declares no encoding. A UTF-16 charset over bytes that are
/// not UTF-16 (no byte order mark, no declaration in UTF-16) is not believed.
fn header_charset_as_utf8(feed_url: &Url, fetched: &Fetched) -> Option<Vec<u8>> {
    let content_type = fetched.content_type.as_deref()?;
    let body = &fetched.body;
    let first = body.iter().find(|b| !b.is_ascii_whitespace())?;
    if *first != b'<' || encoding_rs::Encoding::for_bom(body).is_some() {
        return None;
    }
    let decoded = crate::normalize::decode_page(body, Some(content_type));
    let header = decoded.header.as_ref()?;
    if decoded.chosen != crate::normalize::Chosen::Header
        || header.encoding == encoding_rs::UTF_16LE
        || header.encoding == encoding_rs::UTF_16BE
    {
        return None;
    }
    let declared = declared_xml_encoding(body);
    let declared_encoding = declared
        .as_deref()
        .and_then(|label| encoding_rs::Encoding::for_label(label.as_bytes()));
    if declared.is_some() && !is_xml_media_type(content_type) {
        return None;
    }
    if header.encoding == encoding_rs::UTF_8
        && declared_encoding.is_none_or(|e| e == encoding_rs::UTF_8)
    {
        return None;
    }
    // A server's default charset (often UTF-8) over a feed in the encoding it declares: the
    // header's does not fit the bytes, the declaration's does. The declaration is read then.
    if decoded.replaced > 0
        && let Some(encoding) = declared_encoding
        && encoding != header.encoding
        && encoding != encoding_rs::UTF_16LE
        && encoding != encoding_rs::UTF_16BE
        && encoding
            .decode_without_bom_handling_and_without_replacement(body)
            .is_some()
    {
        tracing::warn!(
            "{feed_url}: the HTTP header's charset {} does not fit the feed's bytes ({} \
             replacement character{}), the XML declaration's encoding {} does: read as {}",
            header.label,
            decoded.replaced,
            if decoded.replaced == 1 { "" } else { "s" },
            encoding.name(),
            encoding.name()
        );
        return None;
    }
    if let Some(label) = &declared
        && declared_encoding != Some(header.encoding)
    {
        tracing::warn!(
            "{feed_url}: the HTTP header's charset {} and the XML declaration's encoding {label:?} \
             differ: read as {} (the header's, which wins for an XML media type, RFC 7303)",
            header.label,
            header.encoding.name()
        );
    }
    if decoded.replaced > 0 {
        tracing::warn!(
            "{feed_url}: bytes are not valid in the HTTP header's charset {}: {} replacement \
             character{} (U+FFFD)",
            header.label,
            decoded.replaced,
            if decoded.replaced == 1 { "" } else { "s" }
        );
    }
    let text = decoded.text;
    if declared.is_none() {
        return Some(text.into_bytes());
    }
    let end = text.find("?>")?;
    let encoding_attr =
        regex::Regex::new(r#"\bencoding\s*=\s*("[^"]*"|'[^']*')"#).expect("a valid pattern");
    let declaration = encoding_attr.replace(&text[..end], r#"encoding="UTF-8""#);
    Some(format!("{declaration}{}", &text[end..]).into_bytes())
}

/// The feed-rs parser as feedwright uses it: links resolved against the feed's URL, content
/// left unsanitized (sanitizing is `normalize`'s), and no id made up for an item without one
/// (feed-rs would hash its link and title: that is no id of the feed's, and two items
/// repeating a link and title would seem to share one).
fn builder(fetched: &Fetched) -> feed_rs::parser::Builder {
    feed_rs::parser::Builder::new()
        .base_uri(Some(fetched.url.as_str()))
        .sanitize_content(false)
        .id_generator(|_, _, _| String::new())
}

/// Whether a feed's date text is a day alone as ISO 8601 writes it (`2024-11-18`), the one
/// date without a time of day feed-rs reads (as midnight UTC).
fn is_day_alone(text: &str) -> bool {
    text.len() == 10 && chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok()
}

/// The date texts of every entry of the feed, `(published, updated)` in feed order (`None`
/// where the element is absent), to recover the dates feed-rs could not read. The feed is read again with a date parser that
/// numbers the texts it is handed and answers each with "`n` seconds after the epoch", so each
/// entry's dates say which texts they came from. Empty when the feed does not parse.
fn unread_dates(fetched: &Fetched) -> Vec<(Option<String>, Option<String>)> {
    use std::sync::{Arc, Mutex, PoisonError};
    let texts: Arc<Mutex<Vec<String>>> = Arc::default();
    let handed = Arc::clone(&texts);
    let parser = builder(fetched)
        .timestamp_parser(move |text| {
            let mut handed = handed.lock().unwrap_or_else(PoisonError::into_inner);
            handed.push(text.trim().to_owned());
            chrono::DateTime::from_timestamp(i64::try_from(handed.len()).ok()? - 1, 0)
        })
        .build();
    let Ok(feed) = parser.parse(fetched.body.as_slice()) else {
        return Vec::new();
    };
    let texts = texts.lock().unwrap_or_else(PoisonError::into_inner);
    let text = |d: Option<chrono::DateTime<chrono::Utc>>| {
        let n = usize::try_from(d?.timestamp()).ok()?;
        texts.get(n).cloned()
    };
    feed.entries
        .iter()
        .map(|e| (text(e.published), text(e.updated)))
        .collect()
}

/// For an Atom document that uses `xml:base` (RFC 4287 section 2, XML Base), the base URI each
/// entry's text is in, entry by entry in document order: the document's URL resolved through
/// every `xml:base` in scope, that of the `content` element (else the `summary`) included;
/// `None` for an entry with no `xml:base` in scope. Empty when the document uses none or does
/// not parse. Where there is none, links resolve against the entry's own link.
fn content_bases(fetched: &Fetched) -> Vec<Option<Url>> {
    use quick_xml::events::Event;
    if !fetched.body.windows(8).any(|w| w == b"xml:base") {
        return Vec::new();
    }
    let mut reader = quick_xml::Reader::from_reader(fetched.body.as_slice());
    let mut buf = Vec::new();
    // A base in scope, and whether an `xml:base` set it (else it is the document's URL).
    type Base = (Url, bool);
    let mut stack: Vec<Base> = vec![(fetched.url.clone(), false)];
    // Per entry: the base of its `content`, of its `summary`, and its own.
    let mut texts: Vec<(Option<Base>, Option<Base>, Base)> = Vec::new();
    let mut depth_in_entry = 0usize;
    loop {
        let event = match reader.read_event_into(&mut buf) {
            Ok(event) => event,
            Err(_) => return Vec::new(),
        };
        match event {
            Event::Start(e) => {
                let current = stack
                    .last()
                    .cloned()
                    .unwrap_or_else(|| (fetched.url.clone(), false));
                let base = e
                    .attributes()
                    .flatten()
                    .find(|a| a.key.as_ref() == b"xml:base")
                    .and_then(|a| {
                        let value = a
                            .decoded_and_normalized_value(
                                quick_xml::XmlVersion::default(),
                                reader.decoder(),
                            )
                            .ok()?;
                        Some((current.0.join(value.trim()).ok()?, true))
                    })
                    .unwrap_or(current);
                let name = e.local_name();
                if depth_in_entry == 0 && name.as_ref() == b"entry" {
                    texts.push((None, None, base.clone()));
                    depth_in_entry = 1;
                } else if depth_in_entry > 0 {
                    if depth_in_entry == 1
                        && let Some(last) = texts.last_mut()
                    {
                        match name.as_ref() {
                            b"content" => last.0 = Some(base.clone()),
                            b"summary" => last.1 = Some(base.clone()),
                            _ => {}
                        }
                    }
                    depth_in_entry += 1;
                }
                stack.push(base);
            }
            Event::End(_) => {
                stack.pop();
                depth_in_entry = depth_in_entry.saturating_sub(1);
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    // An entry with no `xml:base` in scope keeps the default: its own link.
    texts
        .into_iter()
        .map(|(content, summary, own)| {
            Some(content.or(summary).unwrap_or(own))
                .filter(|(u, set)| *set && matches!(u.scheme(), "http" | "https"))
                .map(|(u, _)| u)
        })
        .collect()
}

/// Is this answer an HTML page (by its content type, else by how its text begins)?
fn is_html_page(fetched: &Fetched) -> bool {
    if let Some(ct) = &fetched.content_type {
        let ct = ct.to_ascii_lowercase();
        if ct.starts_with("text/html") || ct.starts_with("application/xhtml+xml") {
            return true;
        }
    }
    let head: Vec<u8> = fetched
        .body
        .iter()
        .skip_while(|b| b.is_ascii_whitespace() || matches!(**b, 0xEF | 0xBB | 0xBF))
        .take(64)
        .copied()
        .collect();
    let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
    head.starts_with("<!doctype html") || head.starts_with("<html")
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
    // The page's dates first, but a byline's text after the item's own date: a date written
    // for people (a day, often no time) is the page's last resort, not the feed's.
    let (bylines, dates): (Vec<_>, Vec<_>) = std::mem::take(&mut page.published)
        .into_iter()
        .partition(|d| d.source == DateSource::Byline);
    page.published = dates;
    page.published.extend(item.published);
    page.published.extend(bylines);
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
    // A page gives none: the item's media files are the post's.
    if page.enclosures.is_empty() {
        page.enclosures = item.enclosures;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn fetched(body: &str) -> Fetched {
        Fetched {
            url: Url::parse("https://example.org/feed/").expect("url"),
            status: 200,
            content_type: Some("application/rss+xml".into()),
            body: body.as_bytes().to_vec(),
            headers: Default::default(),
            fetched_at: chrono::DateTime::from_timestamp(1_700_000_000, 0).expect("time"),
        }
    }

    fn own() -> Site {
        Site::at(&Url::parse("https://example.org/").expect("url")).expect("site")
    }

    /// `body` parsed as the feed at `https://example.org/feed/` of the site `https://example.org/`.
    fn parse_own(body: &str) -> Items {
        parse(
            &Url::parse("https://example.org/feed/").expect("url"),
            &fetched(body),
            &own(),
        )
        .expect("parse")
    }

    fn published(items: &Items) -> Vec<Vec<String>> {
        items
            .posts
            .iter()
            .map(|(_, p)| p.published.iter().map(|d| d.value.clone()).collect())
            .collect()
    }

    /// One item whose text was cut inside an emoji (`"\ud83d` alone, as JavaScript's
    /// `JSON.stringify` writes it) costs that character, not the whole feed.
    #[test]
    fn a_lone_surrogate_in_a_json_feed_is_read_as_a_replacement_character() {
        let items = parse_own(
            r#"{"version": "https://jsonfeed.org/version/1.1", "title": "t",
            "items": [
              {"id": "1", "url": "https://example.org/a/", "title": "Cut mid-emoji \ud83d",
               "content_html": "<p>Low \udc00 alone, a pair \ud83d\ude00 kept, \\ud83d escaped</p>"},
              {"id": "2", "url": "https://example.org/b/", "title": "Fine"}
            ]}"#,
        );
        let titles: Vec<_> = items.posts.iter().map(|(_, p)| p.title.clone()).collect();
        assert_eq!(
            titles,
            vec![Some("Cut mid-emoji \u{FFFD}".into()), Some("Fine".into())]
        );
        assert_eq!(
            items.posts[0].1.body_html.as_deref(),
            Some("<p>Low \u{FFFD} alone, a pair \u{1F600} kept, \\ud83d escaped</p>")
        );
    }

    #[test]
    fn surrogate_repair_touches_only_lone_escapes_inside_json_strings() {
        assert_eq!(
            repair_lone_surrogates(br#"{"a": "\ud83d\ude00 \u00e9"}"#),
            None
        );
        assert_eq!(repair_lone_surrogates(br#"{"a": "\\ud83d"}"#), None);
        assert_eq!(repair_lone_surrogates(br#"<rss>\ud83d</rss>"#), None);
        let (body, count) = repair_lone_surrogates(
            b"\xEF\xBB\xBF {\"a\": \"x\\ud83d\\u0041\", \"b\": \"\\uDC00\"}",
        )
        .expect("repaired");
        assert_eq!(count, 2);
        assert_eq!(
            String::from_utf8(body).expect("utf-8"),
            "\u{FEFF} {\"a\": \"x\\ufffd\\u0041\", \"b\": \"\\ufffd\"}"
        );
    }

    /// Relative links in an Atom entry's content resolve against the `xml:base` in scope
    /// there (the feed's, the entry's, the content's own), not against the entry's link.
    #[test]
    fn atom_content_links_resolve_against_xml_base() {
        let atom = parse_own(
            r#"<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://example.org/blog/">
            <title>t</title><id>urn:f</id><updated>2024-05-02T00:00:00Z</updated>
            <entry xml:base="posts/2024/"><title>a</title><id>urn:a</id><link href="first/"/>
            <updated>2024-05-02T00:00:00Z</updated>
            <content type="html">&lt;a href="rel/"&gt;r&lt;/a&gt; &lt;img src="../img.png"&gt;</content></entry>
            <entry><title>b</title><id>urn:b</id><link href="second/"/>
            <updated>2024-05-02T00:00:00Z</updated>
            <content type="xhtml" xml:base="https://example.org/other/"><div xmlns="http://www.w3.org/1999/xhtml"><a href="x.html">x</a></div></content></entry>
            </feed>"#,
        );
        let bases: Vec<Option<String>> = atom
            .posts
            .iter()
            .map(|(_, p)| p.base_href.as_ref().map(Url::to_string))
            .collect();
        assert_eq!(
            bases,
            [
                Some("https://example.org/blog/posts/2024/".to_string()),
                Some("https://example.org/other/".to_string())
            ]
        );
        let (link, raw) = atom.posts[0].clone();
        assert_eq!(link.as_str(), "https://example.org/blog/posts/2024/first/");
        let (entry, _) =
            crate::normalize::normalize(&link, raw, "s", chrono::Utc::now()).expect("normalize");
        assert!(
            entry
                .content_html
                .contains("href=\"https://example.org/blog/posts/2024/rel/\"")
                && entry
                    .content_html
                    .contains("src=\"https://example.org/blog/posts/img.png\""),
            "{}",
            entry.content_html
        );
        // An entry with no xml:base in scope keeps its link as the base, even when another
        // entry of the document has one.
        let mixed = parse_own(
            r#"<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><id>urn:f</id>
            <updated>2024-05-02T00:00:00Z</updated>
            <entry xml:base="https://example.org/x/"><title>a</title><id>urn:a</id>
            <link href="https://example.org/a/"/><updated>2024-05-02T00:00:00Z</updated>
            <content type="html">x</content></entry>
            <entry><title>b</title><id>urn:b</id><link href="https://example.org/b/"/>
            <updated>2024-05-02T00:00:00Z</updated><content type="html">y</content></entry>
            </feed>"#,
        );
        let bases: Vec<Option<String>> = mixed
            .posts
            .iter()
            .map(|(_, p)| p.base_href.as_ref().map(Url::to_string))
            .collect();
        assert_eq!(bases, [Some("https://example.org/x/".to_string()), None]);
        // Without xml:base, links resolve against the entry's link, as before.
        let plain = parse_own(
            r#"<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><id>urn:f</id>
            <updated>2024-05-02T00:00:00Z</updated><entry><title>a</title><id>urn:a</id>
            <link href="https://example.org/a/"/><updated>2024-05-02T00:00:00Z</updated>
            <content type="html">x</content></entry></feed>"#,
        );
        assert_eq!(plain.posts[0].1.base_href, None);
    }

    /// A JSON Feed `summary` is plain text (as is an Atom one typed `text`): what looks like
    /// markup in it is text, escaped, not tags dropped.
    #[test]
    fn plain_text_summaries_stay_text() {
        let mut f = fetched(
            r#"{"version":"https://jsonfeed.org/version/1.1","title":"t","items":[
            {"id":"a","url":"https://example.org/a/","summary":"S <b>","content_html":"<p>x</p>"}]}"#,
        );
        f.content_type = Some("application/feed+json".into());
        let json = parse(
            &Url::parse("https://example.org/feed.json").expect("url"),
            &f,
            &own(),
        )
        .expect("parse");
        assert_eq!(
            json.posts[0].1.summary.as_deref(),
            Some("<p>S &lt;b&gt;</p>")
        );
        let atom = parse_own(
            r#"<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><id>urn:f</id>
            <updated>2024-05-02T00:00:00Z</updated>
            <entry><title>a</title><id>urn:a</id><link href="https://example.org/a/"/>
            <updated>2024-05-02T00:00:00Z</updated><summary type="html">&lt;b&gt;Bold&lt;/b&gt;</summary></entry></feed>"#,
        );
        assert_eq!(atom.posts[0].1.summary.as_deref(), Some("<b>Bold</b>"));
    }

    /// A title given as HTML becomes the text a browser would show: a script's code or a style
    /// sheet in it is no part of it.
    #[test]
    fn html_titles_leave_out_scripts_and_styles() {
        let atom = parse_own(
            r#"<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><id>urn:f</id>
            <updated>2024-05-02T00:00:00Z</updated>
            <entry><title type="html">&lt;script&gt;alert(1)&lt;/script&gt;Hello &lt;style&gt;b{}&lt;/style&gt;&lt;b&gt;world&lt;/b&gt;</title>
            <id>urn:a</id><link href="https://example.org/a/"/>
            <updated>2024-05-02T00:00:00Z</updated></entry></feed>"#,
        );
        assert_eq!(atom.posts[0].1.title.as_deref(), Some("Hello world"));
    }

    /// An Atom entry without authors has its feed's (RFC 4287 4.2.1); one with its own keeps
    /// them; an RSS channel's editor is no item's author.
    #[test]
    fn atom_entries_without_authors_have_their_feeds() {
        let atom = parse_own(
            r#"<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><id>urn:f</id>
            <updated>2024-05-02T00:00:00Z</updated><author><name>Up</name></author>
            <entry><title>a</title><id>urn:a</id><link href="https://example.org/a/"/>
            <updated>2024-05-02T00:00:00Z</updated></entry>
            <entry><title>b</title><id>urn:b</id><link href="https://example.org/b/"/>
            <updated>2024-05-02T00:00:00Z</updated><author><name>Own</name></author></entry>
            </feed>"#,
        );
        let authors: Vec<Vec<String>> = atom.posts.iter().map(|(_, p)| p.authors.clone()).collect();
        assert_eq!(
            authors,
            vec![vec!["Up".to_string()], vec!["Own".to_string()]]
        );
        let rss = parse_own(
            r#"<rss version="2.0"><channel><title>t</title><link>https://example.org/</link>
            <description>d</description><managingEditor>ed@example.org (Editor)</managingEditor>
            <item><title>a</title><link>https://example.org/a/</link></item></channel></rss>"#,
        );
        assert!(
            rss.posts[0].1.authors.is_empty(),
            "{:?}",
            rss.posts[0].1.authors
        );
    }

    /// A date feed-rs cannot read reaches normalization as its text (our parser knows more
    /// forms, and warns about the rest), each text with its own item, whatever other dates
    /// the feed holds; dates feed-rs reads are kept as it read them.
    #[test]
    fn dates_feed_rs_cannot_read_are_kept_as_text() {
        let rss = r#"<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
<link>https://example.org/</link><description>d</description>
<lastBuildDate>whenever</lastBuildDate><pubDate>Tue, 02 Jan 2024 09:00:00 +0000</pubDate>
<item><title>A</title><link>https://example.org/a/</link><pubDate>Tue, 02 Jan 2024 10:00:00 +0000</pubDate></item>
<item><title>B</title><link>https://example.org/b/</link><pubDate> 28 April 2019 </pubDate></item>
<item><title>C</title><link>https://example.org/c/</link><pubDate>next Tuesday</pubDate></item>
<item><title>D</title><link>https://example.org/d/</link></item>
</channel></rss>"#;
        let items = parse_own(rss);
        assert_eq!(
            published(&items),
            [
                vec!["2024-01-02T10:00:00+00:00".to_owned()],
                vec!["28 April 2019".to_owned()],
                vec!["next Tuesday".to_owned()],
                vec![],
            ]
        );
        // Read like a readable date: feed-rs gives an RSS item's pubDate as both dates.
        let (a, b) = (&items.posts[0].1, &items.posts[1].1);
        assert_eq!(a.modified, a.published);
        assert_eq!(b.modified, b.published);
        assert_eq!(
            crate::normalize::parse_date(&b.published[0].value).map(|d| d.to_rfc3339()),
            Some("2019-04-28T00:00:00+00:00".to_owned())
        );
    }

    /// Dates are recovered field by field: an Atom entry whose `published` feed-rs cannot read
    /// keeps that text, not its readable `updated`.
    #[test]
    fn an_unreadable_published_date_is_not_replaced_by_the_updated_one() {
        let atom = r#"<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom">
<title>t</title><id>urn:x</id><updated>2024-01-03T00:00:00Z</updated>
<entry><title>A</title><id>urn:a</id><link href="https://example.org/a/"/>
<published>28 April 2019</published><updated>2024-01-02T10:00:00Z</updated></entry>
<entry><title>B</title><id>urn:b</id><link href="https://example.org/b/"/>
<updated>2024-01-02T11:00:00Z</updated></entry>
</feed>"#;
        let items = parse_own(atom);
        let (a, b) = (&items.posts[0].1, &items.posts[1].1);
        assert_eq!(a.published[0].value, "28 April 2019");
        assert_eq!(a.modified[0].value, "2024-01-02T10:00:00+00:00");
        // No <published> at all: the updated date, as before.
        assert_eq!(b.published[0].value, "2024-01-02T11:00:00+00:00");
    }

    /// An Atom title typed `html` whose markup would cost the parser minutes is not parsed:
    /// the item is read without it (normalization then names it after its URL).
    #[test]
    fn a_title_too_costly_to_parse_is_left_out() {
        let nested = "&lt;div&gt;".repeat(5_000);
        let atom = format!(
            r#"<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom">
<title>t</title><id>urn:x</id><updated>2024-01-03T00:00:00Z</updated>
<entry><title type="html">{nested}x</title><id>urn:a</id><link href="https://example.org/a/"/>
<updated>2024-01-02T10:00:00Z</updated></entry>
<entry><title type="html">&lt;em&gt;B&lt;/em&gt; &amp;amp; c</title><id>urn:b</id>
<link href="https://example.org/b/"/><updated>2024-01-02T11:00:00Z</updated></entry>
</feed>"#
        );
        let items = parse_own(&atom);
        let titles: Vec<Option<&str>> = items
            .posts
            .iter()
            .map(|(_, p)| p.title.as_deref())
            .collect();
        assert_eq!(titles, [None, Some("B & c")]);
    }

    /// The website a feed names as its own: RSS `<channel><link>`, Atom `rel="alternate"` of an
    /// HTML type (or no type, or no `rel`), JSON Feed `home_page_url`; never the feed's own
    /// address, a `self` link, another feed's link or a URL that is not http(s).
    #[test]
    fn the_site_a_feed_names_as_its_own() {
        let site = |body: &str| parse_own(body).site.map(String::from);
        let rss = |link: &str| {
            format!(
                r#"<?xml version="1.0"?><rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">
<channel><title>t</title><atom:link href="https://example.org/feed/" rel="self" type="application/rss+xml"/>
{link}<description>d</description></channel></rss>"#
            )
        };
        let atom = |links: &str| {
            format!(
                r#"<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom">
<title>t</title><id>urn:x</id><updated>2024-01-03T00:00:00Z</updated>{links}</feed>"#
            )
        };
        let json = |fields: &str| {
            format!(
                r#"{{"version": "https://jsonfeed.org/version/1.1", "title": "t", {fields} "items": []}}"#
            )
        };
        let home = Some("https://example.org/blog/".to_owned());
        assert_eq!(site(&rss("<link>https://example.org/blog/</link>")), home);
        assert_eq!(site(&rss("<link>/blog/</link>")), home);
        assert_eq!(site(&rss("<link>https://example.org/feed/</link>")), None);
        assert_eq!(site(&rss("<link>ftp://example.org/</link>")), None);
        assert_eq!(site(&rss("")), None);
        assert_eq!(
            site(&atom(
                r#"<link rel="self" href="https://example.org/feed/"/>
<link rel="alternate" type="application/rss+xml" href="https://example.org/rss/"/>
<link rel="alternate" type="text/html" href="https://example.org/blog/"/>"#
            )),
            home
        );
        assert_eq!(
            site(&atom(r#"<link href="https://example.org/blog/"/>"#)),
            home
        );
        assert_eq!(
            site(&atom(
                r#"<link rel="self" href="https://example.org/feed/"/>"#
            )),
            None
        );
        assert_eq!(
            site(&json(
                r#""feed_url": "https://example.org/feed/", "home_page_url": "https://example.org/blog/","#
            )),
            home
        );
        assert_eq!(
            site(&json(r#""feed_url": "https://example.org/feed.json","#)),
            None
        );
    }

    /// A day alone (`2024-11-18`), which feed-rs reads as midnight UTC, reaches normalization
    /// as its text, to be that day in the source's zone; in RSS, Atom and JSON Feed alike. A
    /// date with a time and an offset, midnight UTC included, keeps feed-rs's reading.
    #[test]
    fn a_day_alone_is_kept_as_text() {
        let rss = r#"<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
<link>https://example.org/</link><description>d</description>
<item><title>A</title><link>https://example.org/a/</link><pubDate>2024-11-18</pubDate></item>
<item><title>B</title><link>https://example.org/b/</link><pubDate>Mon, 18 Nov 2024 00:00:00 +0000</pubDate></item>
<item><title>C</title><link>https://example.org/c/</link><pubDate>2024-11-18T00:00:00Z</pubDate></item>
</channel></rss>"#;
        assert_eq!(
            published(&parse_own(rss)),
            [
                vec!["2024-11-18".to_owned()],
                vec!["2024-11-18T00:00:00+00:00".to_owned()],
                vec!["2024-11-18T00:00:00+00:00".to_owned()],
            ]
        );
        let atom = r#"<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom">
<title>t</title><id>urn:x</id><updated>2024-11-19</updated>
<entry><title>A</title><id>urn:a</id><link href="https://example.org/a/"/>
<published>2024-11-18</published><updated>2024-11-19</updated></entry>
<entry><title>B</title><id>urn:b</id><link href="https://example.org/b/"/>
<updated>2024-11-19</updated></entry>
<entry><title>C</title><id>urn:c</id><link href="https://example.org/c/"/>
<published>2024-11-18</published><updated>2024-11-19T08:00:00+01:00</updated></entry>
</feed>"#;
        let items = parse_own(atom);
        let dates: Vec<(&str, &str)> = items
            .posts
            .iter()
            .map(|(_, p)| (p.published[0].value.as_str(), p.modified[0].value.as_str()))
            .collect();
        assert_eq!(
            dates,
            [
                ("2024-11-18", "2024-11-19"),
                ("2024-11-19", "2024-11-19"),
                ("2024-11-18", "2024-11-19T07:00:00+00:00"),
            ]
        );
        let json = r#"{"version":"https://jsonfeed.org/version/1.1","title":"t",
"home_page_url":"https://example.org/","items":[
{"id":"a","url":"https://example.org/a/","content_text":"x","date_published":"2024-11-18"},
{"id":"b","url":"https://example.org/b/","content_text":"x","date_published":"2024-11-18T10:00:00+01:00"}]}"#;
        assert_eq!(
            published(&parse_own(json)),
            [
                vec!["2024-11-18".to_owned()],
                vec!["2024-11-18T09:00:00+00:00".to_owned()],
            ]
        );
    }

    /// Feeds whose dates all read need no second pass, and keep feed-rs's reading.
    #[test]
    fn readable_dates_are_feed_rs_s() {
        let atom = r#"<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom">
<title>t</title><id>urn:x</id><updated>2024-01-03T00:00:00Z</updated>
<entry><title>A</title><id>urn:a</id><link href="https://example.org/a/"/>
<published>2024-01-01T10:00:00+01:00</published><updated>2024-01-02T10:00:00Z</updated></entry>
</feed>"#;
        let items = parse_own(atom);
        let a = &items.posts[0].1;
        assert_eq!(a.published[0].value, "2024-01-01T09:00:00+00:00");
        assert_eq!(a.modified[0].value, "2024-01-02T10:00:00+00:00");
    }

    /// Items whose link is not http(s) have no usable link; items linking another site than
    /// the source's (the site the feed names included) are not the feed's to give. Both are
    /// skipped.
    #[test]
    fn items_off_the_site_or_off_http_are_skipped() {
        let rss = r#"<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
<link>https://news.example.net/</link><description>d</description>
<item><title>A</title><link>https://example.org/a/</link></item>
<item><title>B</title><link>https://www.news.example.net/b/</link></item>
<item><title>C</title><link>https://victim.example/c/</link></item>
<item><title>D</title><link>javascript:alert(1)</link></item>
<item><title>E</title><link>data:text/html,x</link></item>
</channel></rss>"#;
        let items = parse_own(rss);
        let links: Vec<&str> = items.posts.iter().map(|(u, _)| u.as_str()).collect();
        assert_eq!(links, ["https://example.org/a/"]);
        assert_eq!(items.skipped.len(), 4, "{:?}", items.skipped);
        assert!(
            items.skipped[0]
                .1
                .contains("links to another site (https://www.news.example.net/b/)")
        );
        assert!(
            items.skipped[1]
                .1
                .contains("links to another site (https://victim.example/c/)")
        );
        assert!(items.skipped[2].1.contains("no usable link"));
        assert!(items.skipped[3].1.contains("no usable link"));
        assert_eq!(
            items.site.as_ref().map(Url::as_str),
            Some("https://news.example.net/")
        );
    }

    /// An enclosure as `(url, type, length)`.
    type Found = (String, Option<String>, Option<u64>);

    /// Each post's enclosures.
    fn enclosures_of(items: &Items) -> Vec<Vec<Found>> {
        items
            .posts
            .iter()
            .map(|(_, p)| {
                p.enclosures
                    .iter()
                    .map(|e| (e.url.clone(), e.media_type.clone(), e.length))
                    .collect()
            })
            .collect()
    }

    /// RSS `<enclosure>`s are the item's own children, each item's, resolved against the
    /// `xml:base` in scope: several on one item are all read, a Media RSS `media:content` does
    /// not hide one, an element deeper in the item is not one, and an item left out (another
    /// site) takes its enclosures with it.
    #[test]
    fn rss_enclosures_are_read_item_by_item() {
        let rss = r#"<?xml version="1.0"?>
<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/" xmlns:x="urn:x"><channel>
<title>t</title><link>https://example.org/</link><description>d</description>
<item><title>Off</title><link>https://elsewhere.example/o/</link>
<enclosure url="https://elsewhere.example/o.mp3" length="1" type="audio/mpeg"/></item>
<item><title>A</title><link>https://example.org/a/</link>
<media:content url="https://example.org/thumb.jpg" medium="image"/>
<enclosure url="/audio/ep3.mp3" length="12345" type="audio/mpeg"/></item>
<item xml:base="https://cdn.example.net/show/"><title>B</title><link>https://example.org/b/</link>
<enclosure url="b1.mp3" length="" type="audio/mpeg"/>
<enclosure url="https://cdn.example.net/b2.m4a?sig=a&amp;b=c" length="7" type="audio/x-m4a"></enclosure>
<x:wrap><enclosure url="https://example.org/not-its-own.mp3"/></x:wrap></item>
<item><title>C</title><link>https://example.org/c/</link></item>
</channel></rss>"#;
        let items = parse_own(rss);
        let mpeg = Some("audio/mpeg".to_owned());
        assert_eq!(
            enclosures_of(&items),
            vec![
                vec![(
                    "https://example.org/audio/ep3.mp3".to_owned(),
                    mpeg.clone(),
                    Some(12345)
                )],
                vec![
                    ("https://cdn.example.net/show/b1.mp3".to_owned(), mpeg, None),
                    (
                        "https://cdn.example.net/b2.m4a?sig=a&b=c".to_owned(),
                        Some("audio/x-m4a".to_owned()),
                        Some(7)
                    ),
                ],
                vec![],
            ]
        );
    }

    /// Only the items feed-rs reads are counted: those of the root's first `<channel>` (RSS
    /// 2.0), of the root (RSS 1.0), the entries of the root `<feed>` (Atom); an `<item>` after
    /// the channel, or in a second one, is none, and takes no enclosure from the others.
    #[test]
    fn enclosures_are_told_for_the_items_feed_rs_reads() {
        let item = |n: u32| {
            format!(
                r#"<item><title>{n}</title><link>https://example.org/{n}/</link>
                <enclosure url="https://example.org/{n}.mp3"/></item>"#
            )
        };
        let urls = |items: &Items| -> Vec<Vec<String>> {
            assert!(!items.enclosures_unknown);
            enclosures_of(items)
                .into_iter()
                .map(|l| l.into_iter().map(|e| e.0).collect())
                .collect()
        };
        let rss = parse_own(&format!(
            r#"<rss version="2.0">{stray}<channel><title>t</title><link>https://example.org/</link>
            <description>d</description>{one}{two}</channel>{stray}<channel>{stray}</channel></rss>"#,
            one = item(1),
            two = item(2),
            stray = item(9),
        ));
        assert_eq!(
            urls(&rss),
            [["https://example.org/1.mp3"], ["https://example.org/2.mp3"]]
        );
        let rdf = parse_own(&format!(
            r#"<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
            xmlns="http://purl.org/rss/1.0/"><channel><title>t</title>
            <link>https://example.org/</link><description>d</description></channel>{one}{two}
            </rdf:RDF>"#,
            one = item(1),
            two = item(2),
        ));
        assert_eq!(
            urls(&rdf),
            [["https://example.org/1.mp3"], ["https://example.org/2.mp3"]]
        );
    }

    /// When the items' enclosures cannot be told item by item (another number of items than
    /// feed-rs reads), they are not known: no item carries any, and the items say so.
    #[test]
    fn enclosures_not_told_item_by_item_are_unknown() {
        let f = fetched(
            r#"<rss version="2.0"><channel><title>t</title><link>https://example.org/</link>
            <description>d</description><item><title>a</title><link>https://example.org/a/</link>
            <enclosure url="https://example.org/a.mp3"/></item></channel></rss>"#,
        );
        let mut feed = builder(&f).build().parse(f.body.as_slice()).expect("parse");
        let url = Url::parse("https://example.org/feed/").expect("url");
        assert_eq!(item_enclosures(&url, &feed, &f).map(|l| l.len()), Some(1));
        feed.entries.push(feed.entries[0].clone());
        assert_eq!(item_enclosures(&url, &feed, &f), None);
        // A document without any is known to have none, whatever its items.
        let none = fetched(
            r#"<rss version="2.0"><channel><title>t</title><link>https://example.org/</link>
            <description>d</description><item><title>a</title><link>https://example.org/a/</link>
            </item></channel></rss>"#,
        );
        assert_eq!(item_enclosures(&url, &feed, &none), Some(Vec::new()));
    }

    /// Regression: a feed whose charset only the HTTP header names (no XML declaration, or one
    /// without `encoding`) was refused as "cannot decode input using UTF-8". The header's
    /// charset wins for an XML media type (RFC 7303), `text/xml` as `application/rss+xml`; served
    /// as another type, a declared encoding wins; a byte order mark wins over both.
    #[test]
    fn the_http_headers_charset_decodes_an_xml_feed() {
        let title = "Переговоры в Женеве";
        let rss = |declaration: &str| {
            format!(
                r#"{declaration}<rss version="2.0"><channel><title>Новости</title>
<link>https://example.org/</link><description>d</description>
<item><title>{title}</title><link>https://example.org/a/</link></item>
</channel></rss>"#
            )
        };
        let parsed = |body: Vec<u8>, content_type: &str| {
            let mut f = fetched("");
            f.body = body;
            f.content_type = Some(content_type.to_owned());
            parse(&f.url.clone(), &f, &own())
                .map(|items| items.posts[0].1.title.clone().unwrap_or_default())
        };
        let cp1251 = |text: &str| encoding_rs::WINDOWS_1251.encode(text).0.into_owned();
        for declaration in [
            "",
            r#"<?xml version="1.0"?>"#,
            "\n<?xml version=\"1.0\" encoding=\"windows-1251\"?>",
        ] {
            for ct in [
                "application/rss+xml; charset=windows-1251",
                "text/xml;charset=\"windows-1251\"",
                "application/xml; charset=cp1251",
                "text/html; charset=windows-1251",
            ] {
                let doc = cp1251(&rss(declaration));
                assert_eq!(
                    parsed(doc, ct).as_deref(),
                    Ok(title),
                    "{declaration:?} {ct}"
                );
            }
        }
        // The header wins over the declaration for an XML media type, with a warning...
        let doc = cp1251(&rss(r#"<?xml version="1.0" encoding="ISO-8859-5"?>"#));
        assert_eq!(
            parsed(doc.clone(), "application/rss+xml; charset=windows-1251").as_deref(),
            Ok(title)
        );
        // ... not for another type (a server's default charset), also after a blank line.
        for declaration in [
            r#"<?xml version="1.0" encoding='windows-1251'?>"#,
            "\n\n<?xml version=\"1.0\" encoding=\"windows-1251\"?>",
        ] {
            let doc = cp1251(&rss(declaration));
            assert_eq!(
                parsed(doc, "text/html; charset=ISO-8859-1").as_deref(),
                Ok(title),
                "{declaration:?}"
            );
        }
        // A UTF-8 header over a document declaring windows-1251: the header (RFC 7303).
        let utf8 = rss(r#"<?xml version="1.0" encoding="windows-1251"?>"#).into_bytes();
        assert_eq!(
            parsed(utf8.clone(), "application/rss+xml; charset=utf-8").as_deref(),
            Ok(title)
        );
        // A header's charset the bytes do not fit, over a declaration they do fit (a server's
        // default UTF-8 over a Latin-1 feed): the declaration.
        let latin1 = encoding_rs::WINDOWS_1252
            .encode(&rss(r#"<?xml version="1.0" encoding="ISO-8859-1"?>"#).replace(title, "Genève"))
            .0
            .into_owned();
        assert_eq!(
            parsed(latin1, "application/rss+xml; charset=utf-8").as_deref(),
            Ok("Genève")
        );
        // A byte order mark wins over the header; a UTF-16 charset over bytes that are not
        // UTF-16 is not believed.
        let bom = [&b"\xEF\xBB\xBF"[..], &rss("").into_bytes()].concat();
        assert_eq!(
            parsed(bom, "text/xml; charset=windows-1251").as_deref(),
            Ok(title)
        );
        assert_eq!(
            parsed(rss("").into_bytes(), "text/xml; charset=utf-16").as_deref(),
            Ok(title)
        );
        // No charset anywhere: UTF-8, as before.
        assert_eq!(
            parsed(rss("").into_bytes(), "application/rss+xml").as_deref(),
            Ok(title)
        );
        assert_eq!(
            declared_xml_encoding(b"<?xml version='1.0' encoding='KOI8-R' ?><a/>").as_deref(),
            Some("KOI8-R")
        );
        assert_eq!(
            declared_xml_encoding(b"<?xml version='1.0'?><a encoding='x'/>"),
            None
        );
        assert_eq!(
            declared_xml_encoding(b"<a/><?xml version='1.0' encoding='x'?>"),
            None
        );
    }

    /// A UTF-16 document, whichever its byte order and whether or not it has a byte order
    /// mark, is read as UTF-8, its declaration saying so; any other is left as it is.
    #[test]
    fn utf16_documents_are_read_as_utf8() {
        let doc = r#"<?xml version="1.0" encoding='utf-16'?><rss version="2.0"><channel>
            <title>t</title><link>https://example.org/</link><description>d</description>
            <item><title>é</title><link>https://example.org/a/</link>
            <enclosure url="https://example.org/é.mp3"/></item></channel></rss>"#;
        let le: Vec<u8> = doc.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let be: Vec<u8> = doc.encode_utf16().flat_map(u16::to_be_bytes).collect();
        let utf8 = doc.replace("encoding='utf-16'", r#"encoding="UTF-8""#);
        for body in [
            [vec![0xFF, 0xFE], le.clone()].concat(),
            [vec![0xFE, 0xFF], be.clone()].concat(),
            le,
            be,
        ] {
            assert_eq!(
                utf16_as_utf8(&body).map(String::from_utf8),
                Some(Ok(utf8.clone()))
            );
            let mut f = fetched("");
            f.body = body;
            let items = parse(
                &Url::parse("https://example.org/feed/").expect("url"),
                &f,
                &own(),
            )
            .expect("parse");
            assert_eq!(items.posts[0].1.title.as_deref(), Some("é"));
            assert_eq!(
                enclosures_of(&items),
                [[("https://example.org/%C3%A9.mp3".to_owned(), None, None)]]
            );
        }
        assert_eq!(utf16_as_utf8(doc.as_bytes()), None);
        assert_eq!(utf16_as_utf8(b"\xEF\xBB\xBF<rss/>"), None);
    }

    /// An enclosure URL holding bytes the document's encoding does not have is not read as
    /// its item having no enclosure: the items' enclosures are unknown. (feed-rs refuses such
    /// a document; this pass must not be the one to say less.) One whose escapes do not read
    /// is taken as written, as feed-rs takes it.
    #[test]
    fn an_undecodable_enclosure_url_makes_enclosures_unknown() {
        let mut f = fetched("");
        f.body = b"<rss version=\"2.0\"><channel><title>t</title><link>https://example.org/</link>
            <description>d</description><item><title>a</title><link>https://example.org/a/</link>
            <enclosure url=\"https://example.org/\xFF.mp3\"/></item></channel></rss>"
            .to_vec();
        assert_eq!(xml_enclosures(&f, Layout::Channel), None);
        let items = parse_own(
            r#"<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY foo "bar">]>
            <rss version="2.0"><channel><title>t</title><link>https://example.org/</link>
            <description>d</description><item><title>a</title><link>https://example.org/a/</link>
            <enclosure url="https://example.org/a&foo;.mp3"/></item></channel></rss>"#,
        );
        assert!(!items.enclosures_unknown);
        assert_eq!(
            enclosures_of(&items),
            [[("https://example.org/a&foo;.mp3".to_owned(), None, None)]]
        );
    }

    /// RSS 0.92, where `<enclosure>` began (feed-rs's reader of 0.9x drops it).
    #[test]
    fn rss_0_92_enclosures_are_read() {
        let items = parse_own(
            r#"<?xml version="1.0"?><rss version="0.92"><channel><title>t</title>
            <link>https://example.org/</link><description>d</description>
            <item><title>a</title><link>https://example.org/a/</link>
            <enclosure url="https://example.org/a.mp3" length="5" type="audio/mpeg"/></item>
            </channel></rss>"#,
        );
        assert_eq!(
            enclosures_of(&items),
            [vec![(
                "https://example.org/a.mp3".to_owned(),
                Some("audio/mpeg".to_owned()),
                Some(5)
            )]]
        );
    }

    /// Atom `<link rel="enclosure">`s (an entry's other links are not), with their type, length
    /// and title, resolved against the document.
    #[test]
    fn atom_enclosure_links_are_read() {
        let atom = parse_own(
            r#"<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><id>urn:f</id>
            <updated>2024-05-02T00:00:00Z</updated>
            <entry><title>a</title><id>urn:a</id><link href="https://example.org/a/"/>
            <link rel="enclosure" href="one.mp3" type="audio/mpeg" length="99" title="Part one"/>
            <link rel="related" href="https://example.org/r/"/>
            <link rel="enclosure" href="https://example.org/two.ogg"/>
            <updated>2024-05-02T00:00:00Z</updated></entry></feed>"#,
        );
        let got = &atom.posts[0].1.enclosures;
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got[0].url, "https://example.org/feed/one.mp3");
        assert_eq!(got[0].media_type.as_deref(), Some("audio/mpeg"));
        assert_eq!(got[0].length, Some(99));
        assert_eq!(got[0].title.as_deref(), Some("Part one"));
        assert_eq!(got[1].url, "https://example.org/two.ogg");
        assert_eq!((got[1].media_type.as_deref(), got[1].length), (None, None));
    }

    /// Atom enclosure links are read from the document: under a prefix bound to Atom's
    /// namespace too, resolved against the `xml:base` in scope, and not when blank or only a
    /// fragment (which would resolve to that base), nor a link of another namespace.
    #[test]
    fn atom_enclosure_links_resolve_and_blank_ones_are_left_out() {
        let atom = parse_own(
            r##"<a:feed xmlns:a="http://www.w3.org/2005/Atom" xmlns:x="urn:x"><a:title>t</a:title>
            <a:id>urn:f</a:id><a:updated>2024-05-02T00:00:00Z</a:updated>
            <a:entry xml:base="https://cdn.example.org/show/"><a:title>a</a:title><a:id>urn:a</a:id>
            <a:link href="https://example.org/a/"/><a:updated>2024-05-02T00:00:00Z</a:updated>
            <a:link rel="Enclosure" href="ep1.mp3" length="12"/>
            <a:link rel="enclosure" href=""/><a:link rel="enclosure" href=" #t "/>
            <x:link rel="enclosure" href="https://example.org/other.mp3"/></a:entry>
            <a:entry><a:title>b</a:title><a:id>urn:b</a:id><a:link href="https://example.org/b/"/>
            <a:updated>2024-05-02T00:00:00Z</a:updated></a:entry></a:feed>"##,
        );
        assert_eq!(
            enclosures_of(&atom),
            [
                vec![(
                    "https://cdn.example.org/show/ep1.mp3".to_owned(),
                    None,
                    Some(12)
                )],
                vec![]
            ]
        );
    }

    /// JSON Feed `attachments`, with their title, size and duration (a fraction of a second
    /// rounded), and an item without any.
    #[test]
    fn json_feed_attachments_are_read() {
        let mut f = fetched(
            r#"{"version":"https://jsonfeed.org/version/1.1","title":"t","items":[
            {"id":"a","url":"https://example.org/a/","content_html":"<p>x</p>",
             "attachments":[{"url":"/media/a.mp3","mime_type":"audio/mpeg","title":"Episode A",
               "size_in_bytes":2048,"duration_in_seconds":61.6},
              {"url":"https://example.org/media/a.vtt","mime_type":"text/vtt"}]},
            {"id":"b","url":"https://example.org/b/","content_html":"<p>y</p>"}]}"#,
        );
        f.content_type = Some("application/feed+json".into());
        let json = parse(
            &Url::parse("https://example.org/feed.json").expect("url"),
            &f,
            &own(),
        )
        .expect("parse");
        let a = &json.posts[0].1.enclosures;
        assert_eq!(
            a[0],
            Enclosure {
                url: "https://example.org/media/a.mp3".into(),
                media_type: Some("audio/mpeg".into()),
                length: Some(2048),
                title: Some("Episode A".into()),
                duration_secs: Some(62),
            }
        );
        assert_eq!(a[1].url, "https://example.org/media/a.vtt");
        assert_eq!(a[1].length, None);
        assert!(json.posts[1].1.enclosures.is_empty());
    }

    /// A `full_text` page gives no enclosures: the item's are the post's.
    #[test]
    fn a_page_takes_its_items_enclosures() {
        let items = parse_own(
            r#"<rss version="2.0"><channel><title>t</title><link>https://example.org/</link>
            <description>d</description><item><title>a</title><link>https://example.org/a/</link>
            <enclosure url="https://example.org/a.mp3" length="5" type="audio/mpeg"/></item>
            </channel></rss>"#,
        );
        let item = items.posts[0].1.clone();
        let merged = merge(RawPost::default(), item.clone());
        assert_eq!(merged.enclosures, item.enclosures);
        assert_eq!(merged.enclosures.len(), 1);
    }
}
