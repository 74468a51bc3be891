//! Publishing, wired: store → archive bookkeeping → rendered files → WebSub pings.
//!
//! Owns: which entries make a feed's head and which go to its RFC 5005 archive (newest
//! `limit` not yet archived stay in the head; the rest are archived oldest first and never
//! move again), the feeds' home link (the website a feed source names as its own, else the
//! first listing URL, never an upstream feed's XML), the stylesheet override lookup, and the
//! order "file on disk, then ping".
//! Must not: render documents itself (`publish` does), run SQL (`store` does) or print.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use url::Url;

use crate::config::{Config, FeedConfig, SourceConfig, SourceKind};
use crate::publish::{self, FeedInfo};
use crate::store::Store;
use crate::websub::{Hub, PingError};

/// What publishing one feed did.
#[derive(Debug)]
pub struct Published {
    pub feed: String,
    /// Entries in the head documents.
    pub entries: usize,
    /// Archive documents the feed has.
    pub archive_pages: usize,
    /// Files written, with whether their content changed.
    pub files: Vec<(PathBuf, bool)>,
    /// Public URLs of the head documents whose content changed (the WebSub topics).
    pub changed_topics: Vec<String>,
    /// False when nothing was written because the store has no post of the feed yet.
    pub written: bool,
    /// Entries past the head left unarchived, and the sources whose unfinished backfill they
    /// wait for (see [`publish_one`]).
    pub archive_held: Option<(usize, Vec<String>)>,
    /// The feed's `categories` filter matches none of the entries its sources hold: what it
    /// asks for and which categories there are, in words (see [`unmatched_categories`]).
    pub unmatched_categories: Option<String>,
    /// Archive pages in the feed's folder that this store had no record of when the run began
    /// (a new or lost store, or a changed `store.path`): their page numbers, ascending. The
    /// store's archive starts again at page 1 and writes over them as it fills them.
    pub unknown_archive_pages: Vec<u32>,
}

impl Published {
    /// What waits for an unfinished backfill (see [`Published::archive_held`]), in words.
    pub fn archive_held_note(&self) -> Option<String> {
        self.archive_held.as_ref().map(|(held, sources)| {
            format!(
                "{held} older entries wait to be archived until the backfill of {} is complete \
                 (archive pages are built oldest first then)",
                sources.join(", ")
            )
        })
    }

    /// Archive pages this store has no record of (see [`Published::unknown_archive_pages`]),
    /// in words, naming the folder; `dir` is the feed's folder.
    pub fn unknown_archive_note(&self, dir: &Path) -> Option<String> {
        let (first, last) = (
            self.unknown_archive_pages.first()?,
            self.unknown_archive_pages.last()?,
        );
        let n = self.unknown_archive_pages.len();
        let which = if n == 1 {
            format!("{first}.xml")
        } else {
            format!("{first}.xml to {last}.xml")
        };
        Some(format!(
            "{} holds {n} archive {} ({which}) this store has no record of (a new store, or \
             a changed `store.path`?): the feed's archive starts again at page 1 and writes \
             over them as it fills them; to keep them, run with the store that wrote them, or \
             move the folder away",
            dir.join(publish::ARCHIVE_DIR).display(),
            if n == 1 { "page" } else { "pages" },
        ))
    }
}

/// What [`publish_all`] did.
#[derive(Debug, Default)]
pub struct PublishReport {
    /// One result per `[[feed]]`, in config order; an error is `(feed name, message)`.
    pub feeds: Vec<Result<Published, (String, String)>>,
    /// The stylesheet could not be read (an override) or written; feeds are still published.
    pub stylesheet_error: Option<String>,
    /// Folders of `output_dir` holding a feed the configuration no longer has (renamed or
    /// removed): left as they are, so still served, and said so ([`retired_feeds`]).
    pub retired: Vec<std::path::PathBuf>,
}

impl PublishReport {
    /// Did anything fail?
    pub fn failed(&self) -> bool {
        self.stylesheet_error.is_some() || self.feeds.iter().any(Result::is_err)
    }

    /// Every changed head document's public URL, in feed order.
    pub fn changed_topics(&self) -> Vec<String> {
        self.feeds
            .iter()
            .flatten()
            .flat_map(|p| p.changed_topics.iter().cloned())
            .collect()
    }
}

/// Publish every `[[feed]]` from the store, and the feeds' stylesheet (`templates/feed.xsl`
/// next to the config file when it exists, else the built-in one). Errors are per feed.
///
/// With `[websub]`, a head document about to change is recorded in the store as owed a ping
/// *before* it is written, so a crash between writing and pinging loses no ping; [`announce`]
/// sends them.
pub fn publish_all(
    cfg: &Config,
    store: &mut Store,
    config_dir: &Path,
    now: DateTime<Utc>,
) -> PublishReport {
    let stylesheet_error = stylesheet(config_dir)
        .and_then(|xsl| {
            publish::publish_stylesheet(&cfg.output_dir, &xsl).map_err(|e| e.to_string())
        })
        .map_err(|e| format!("{e} (the stylesheet already published is kept)"))
        .err();
    let feeds = cfg
        .feeds
        .iter()
        .map(|f| {
            let result = publish_one(cfg, store, f, now).map_err(|e| (f.name.clone(), e));
            // So that `status`, `/healthz` and `/metrics` tell of a feed that cannot be written
            // (a feed with nothing to write yet was not published: nothing is recorded).
            let error = result.as_ref().err().map(|(_, e)| e.as_str());
            let attempted = result.as_ref().map_or(true, |p| p.written);
            if attempted && let Err(e) = store.record_publish(&f.name, now, error) {
                tracing::warn!(feed = %f.name, "cannot record how publishing went: {e}");
            }
            result
        })
        .collect();
    PublishReport {
        feeds,
        stylesheet_error,
        retired: retired_feeds(cfg),
    }
}

/// The folders of `output_dir` (sorted) that hold a published feed (an `atom.xml`, `rss.xml` or
/// `feed.json`) under a name the configuration has no `[[feed]]` for: a feed renamed or removed.
/// Nothing is deleted (its subscribers would get errors, and it may be wanted); the operator is
/// told, once per run.
pub fn retired_feeds(cfg: &Config) -> Vec<std::path::PathBuf> {
    let Ok(dir) = std::fs::read_dir(&cfg.output_dir) else {
        return Vec::new();
    };
    let mut out: Vec<std::path::PathBuf> = dir
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            !name.starts_with('.') && !cfg.feeds.iter().any(|f| f.name == name)
        })
        .map(|e| e.path())
        .filter(|p| {
            ["atom.xml", "rss.xml", "feed.json"]
                .iter()
                .any(|f| p.join(f).is_file())
        })
        .collect();
    out.sort();
    out
}

/// Make sure `output_dir` exists and accepts files, before any fetching (and before a daemon
/// takes a reloaded configuration): an error names the folder.
pub fn prepare_output_dir(dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir)
        .map_err(|e| format!("output_dir: cannot create {}: {e}", dir.display()))?;
    tempfile::Builder::new()
        .prefix(".feedwright-probe")
        .tempfile_in(dir)
        .map(drop)
        .map_err(|e| format!("output_dir: {} is not writable: {e}", dir.display()))
}

/// The stylesheet to publish: the user's override (`templates/feed.xsl` next to the config
/// file) when it exists and is a well-formed XSLT document, else the built-in one. An override
/// that cannot be read or is malformed is an error naming the file; the caller then keeps the
/// stylesheet already published.
pub fn stylesheet(config_dir: &Path) -> Result<String, String> {
    let path = config_dir.join("templates").join(publish::STYLESHEET_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            check_xslt(&text).map_err(|e| format!("{}: {e}", path.display()))?;
            Ok(text)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Ok(publish::BUILTIN_STYLESHEET.to_string())
        }
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

/// XSLT's namespace.
const XSLT_NAMESPACE: &[u8] = b"http://www.w3.org/1999/XSL/Transform";

/// Is `text` well-formed XML (one root element, every element closed) whose root is an XSLT
/// `stylesheet` or `transform` element?
fn check_xslt(text: &str) -> Result<(), String> {
    use quick_xml::events::Event;
    use quick_xml::name::ResolveResult;
    let mut reader = quick_xml::NsReader::from_str(text);
    let mut depth = 0usize;
    let mut roots = 0usize;
    loop {
        let at = reader.buffer_position();
        let malformed =
            |e: &dyn std::fmt::Display| format!("not well-formed XML near byte {at}: {e}");
        let (ns, event) = reader.read_resolved_event().map_err(|e| malformed(&e))?;
        match event {
            Event::Start(_) | Event::Empty(_) if depth == 0 => {
                roots += 1;
                if roots > 1 {
                    return Err(malformed(&"a second root element"));
                }
                let local = match &event {
                    Event::Start(e) | Event::Empty(e) => e.local_name().as_ref().to_vec(),
                    _ => Vec::new(),
                };
                let is_xslt = matches!(ns, ResolveResult::Bound(n) if n.as_ref() == XSLT_NAMESPACE)
                    && matches!(local.as_slice(), b"stylesheet" | b"transform");
                if !is_xslt {
                    return Err(format!(
                        "the root element <{}> is not an XSLT <xsl:stylesheet> (namespace {})",
                        String::from_utf8_lossy(&local),
                        String::from_utf8_lossy(XSLT_NAMESPACE)
                    ));
                }
                if matches!(event, Event::Start(_)) {
                    depth += 1;
                }
            }
            Event::Start(_) => depth += 1,
            Event::End(_) => depth = depth.saturating_sub(1),
            Event::Text(t) if depth == 0 && !t.iter().all(u8::is_ascii_whitespace) => {
                return Err(malformed(&"text outside the root element"));
            }
            Event::Eof if depth > 0 => return Err(malformed(&"an element is not closed")),
            Event::Eof => break,
            _ => {}
        }
    }
    if roots == 0 {
        return Err("no root element".into());
    }
    Ok(())
}

fn publish_one(
    cfg: &Config,
    store: &mut Store,
    feed: &FeedConfig,
    now: DateTime<Utc>,
) -> Result<Published, String> {
    let err = |e: crate::store::StoreError| e.to_string();
    let mut sites = std::collections::HashMap::new();
    for src in feed.sources.iter().filter_map(|s| cfg.source(s)) {
        if let Some(url) = super::index_url(src) {
            sites.insert(&src.name, store.index_site(&src.name, &url).map_err(err)?);
        }
    }
    let mut info = feed_info(cfg, feed, |src| sites.get(&src.name).cloned().flatten())?;
    let limit = feed.limit as usize;

    let mut archive_held = None;
    let mut unknown_archive_pages = Vec::new();
    let (head, pages) = if feed.archive {
        // Pages on disk the store does not know, looked at before this run archives anything
        // (the pages it writes over would be known by then).
        let on_disk = archive_pages_on_disk(&cfg.output_dir.join(&feed.name));
        if !on_disk.is_empty() {
            let known: std::collections::HashSet<u32> = store
                .archive_pages(&feed.name)
                .map_err(err)?
                .iter()
                .map(|p| p.page)
                .collect();
            unknown_archive_pages = on_disk.into_iter().filter(|p| !known.contains(p)).collect();
        }
        let ids = store
            .unarchived_ids(&feed.name, &feed.sources, &feed.categories)
            .map_err(err)?;
        // A backfill stores an archive newest first, a run's budget at a time: archived as it
        // comes, each run's posts would go onto pages after the newer ones, and complete pages
        // never change. What an unfinished backfill of a source of the feed stored, and no
        // head has shown, waits past the head, unarchived, until it is complete; then it is
        // archived oldest first. Every other entry leaving the head is archived as usual: one
        // shown before, or a new post, must not be missing from every document meanwhile.
        let mut backfilling = Vec::new();
        for source in &feed.sources {
            if store.backfill_get(source).map_err(err)?.is_some() {
                backfilling.push(source.clone());
            }
        }
        // Only an unfinished backfill's rows can be there (its completion clears them).
        if !backfilling.is_empty() {
            store
                .shown_in_head(&ids[..ids.len().min(limit)])
                .map_err(err)?;
        }
        if ids.len() > limit {
            let overflow = &ids[limit..];
            let held = store
                .backfill_history(&backfilling, overflow)
                .map_err(err)?;
            let oldest_first: Vec<String> = overflow
                .iter()
                .rev()
                .filter(|id| !held.contains(*id))
                .cloned()
                .collect();
            if !oldest_first.is_empty() {
                store
                    .archive(&feed.name, &oldest_first, feed.archive_page_size)
                    .map_err(err)?;
            }
            if !held.is_empty() {
                archive_held = Some((held.len(), backfilling));
            }
        }
        let head = store
            .entries_by_ids(&ids[..ids.len().min(limit)])
            .map_err(err)?;
        (head, store.archive_pages(&feed.name).map_err(err)?)
    } else {
        let head = store
            .entries(&feed.sources, &feed.categories, limit)
            .map_err(err)?;
        (head, Vec::new())
    };
    // A feed with nothing to show is written (empty) only when its posts were all taken out
    // (a folder's files deleted or made drafts, a category filter that no longer matches):
    // its subscribers must see them go. One this store has no post of yet (a new store, a
    // source never reached) is left alone, so an old feed is never blanked by a lost store.
    if head.is_empty() && pages.is_empty() && !store.ever_stored_from(&feed.sources).map_err(err)? {
        return Ok(Published {
            feed: feed.name.clone(),
            entries: 0,
            archive_pages: 0,
            files: Vec::new(),
            changed_topics: Vec::new(),
            written: false,
            archive_held: None,
            unmatched_categories: None,
            unknown_archive_pages,
        });
    }
    info.prev_archive = pages.last().map(|p| info.archive_url(p.page));

    let open = pages.iter().find(|p| !p.frozen).map(|p| p.page);
    let open_entries = match open {
        Some(page) => {
            let ids = store.archive_page_ids(&feed.name, page).map_err(err)?;
            let mut entries = store.entries_by_ids(&ids).map_err(err)?;
            publish::order_entries(&mut entries);
            entries
        }
        None => Vec::new(),
    };
    let documents = publish::render_feed(
        &info,
        &head,
        open.map(|page| (page, open_entries.as_slice())),
    );
    let mut changed_topics = Vec::new();
    for doc in documents.iter().take(3) {
        if publish::would_change(&cfg.output_dir, &info, doc).map_err(|e| e.to_string())? {
            changed_topics.push(info.file_url(&doc.file));
        }
    }
    if cfg.websub.is_some() {
        store.websub_owe(&changed_topics, now).map_err(err)?;
    }
    // The feed's files are replaced as one set (`publish::FeedSet`): every document that
    // changes is written to a temporary file first, and only when all are written are they
    // renamed into place, archive pages before the documents that link them. A failure while
    // writing (a full disk, a folder that cannot be written) leaves every old document in
    // place, so the head never goes out of step with the archive pages.
    let io_err = |e: std::io::Error| e.to_string();
    let mut set = publish::FeedSet::begin(&cfg.output_dir, &info).map_err(io_err)?;
    // Complete pages: rendered again only when the feed's metadata or the program changed
    // since the file was written, or the file is missing or has another length. They are
    // rendered a few at a time, one per core, and staged as temporary files: an old feed can
    // have many pages, and only those in hand are held in memory.
    let fingerprint = publish::archive_fingerprint(&info);
    let mut complete_files = Vec::new();
    let mut stale = Vec::new();
    for page in pages.iter().filter(|p| p.frozen) {
        let path = cfg
            .output_dir
            .join(&feed.name)
            .join(publish::archive_path(page.page));
        let on_disk = std::fs::metadata(&path).ok().map(|m| m.len());
        if let Some((from, len)) = &page.written
            && *from == fingerprint
            && on_disk == Some(*len)
        {
            complete_files.push((path, false));
        } else {
            stale.push(page.page);
        }
    }
    let at_once = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    // Each complete page staged, with its document's length: recorded once it is in place.
    let mut staged_pages = Vec::new();
    for chunk in stale.chunks(at_once) {
        let mut loaded = Vec::with_capacity(chunk.len());
        for &page in chunk {
            if let Some(mut entries) = store.frozen_entries(&feed.name, page).map_err(err)? {
                publish::order_entries(&mut entries);
                loaded.push((page, entries));
            }
        }
        let rendered = publish::render_complete_archives(&info, &loaded);
        set.stage(&rendered).map_err(io_err)?;
        staged_pages.extend(
            loaded
                .iter()
                .zip(&rendered)
                .map(|((page, _), doc)| (*page, doc.text.len() as u64)),
        );
    }
    set.stage(&documents).map_err(io_err)?;
    let mut files = set.commit().map_err(io_err)?;
    // Only now is each complete page's file in place (renamed, or already holding its bytes).
    for (page, len) in staged_pages {
        store
            .set_archive_written(&feed.name, page, &fingerprint, len)
            .map_err(err)?;
    }
    files.extend(complete_files);
    Ok(Published {
        feed: feed.name.clone(),
        entries: head.len(),
        archive_pages: pages.len(),
        files,
        changed_topics,
        written: true,
        archive_held,
        unmatched_categories: if head.is_empty() {
            unmatched_categories(store, feed).map_err(err)?
        } else {
            None
        },
        unknown_archive_pages,
    })
}

/// The page numbers of the archive documents (`archive/<n>.xml`) in a feed's folder, ascending;
/// none when there is no such folder.
fn archive_pages_on_disk(feed_dir: &Path) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir(feed_dir.join(publish::ARCHIVE_DIR)) else {
        return Vec::new();
    };
    let mut pages: Vec<u32> = dir
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| {
            let name = e.file_name();
            let page = name.to_str()?.strip_suffix(".xml")?;
            // Only the names feedwright writes: "1.xml", not "01.xml" or "+1.xml".
            (page.bytes().all(|b| b.is_ascii_digit()) && !page.starts_with('0'))
                .then(|| page.parse().ok())
                .flatten()
        })
        .collect();
    pages.sort_unstable();
    pages
}

/// How many categories [`unmatched_categories`] names at most.
const CATEGORIES_SHOWN: usize = 8;

/// When `feed`'s `categories` filter matches none of the entries its sources hold (a typo such
/// as "Event" for "Events" publishes empty feeds, and says nothing else), the filter and the
/// categories those entries do have, most used first, in words; `None` when there is no
/// filter, no entry, or an entry it matches.
fn unmatched_categories(
    store: &Store,
    feed: &FeedConfig,
) -> Result<Option<String>, crate::store::StoreError> {
    if feed.categories.is_empty() {
        return Ok(None);
    }
    let entries = store.entries_without_text(&feed.sources)?;
    if entries.is_empty() {
        return Ok(None);
    }
    let wanted: Vec<String> = feed.categories.iter().map(|c| c.to_lowercase()).collect();
    // Each category once whatever its case (the filter ignores case), as first written.
    let mut counts: Vec<(String, usize)> = Vec::new();
    for e in &entries {
        let mut seen = std::collections::HashSet::new();
        for c in &e.categories {
            let lower = c.to_lowercase();
            if wanted.contains(&lower) {
                return Ok(None);
            }
            if !seen.insert(lower.clone()) {
                continue;
            }
            match counts.iter_mut().find(|(k, _)| k.to_lowercase() == lower) {
                Some((_, n)) => *n += 1,
                None => counts.push((c.clone(), 1)),
            }
        }
    }
    counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let n = entries.len();
    let there = if counts.is_empty() {
        "none of them has a category".to_string()
    } else {
        let shown: Vec<String> = counts
            .iter()
            .take(CATEGORIES_SHOWN)
            .map(|(c, k)| format!("{c:?} ({k})"))
            .collect();
        let more = match counts.len().saturating_sub(CATEGORIES_SHOWN) {
            0 => String::new(),
            k => format!(" and {k} more"),
        };
        format!("their categories: {}{more}", shown.join(", "))
    };
    Ok(Some(format!(
        "categories = {:?} matches no entry of its sources ({n} stored; {there}), so it is \
         published with no entries: a name must match one of theirs, ignoring case",
        feed.categories
    )))
}

/// Feed-level metadata from the config (no archive link yet: that comes from the store).
/// `feed_site` says what each source's own URL was when last read in full (see
/// `Store::index_site`); the home link is the first source's page that is one (see
/// [`home_page`]), else `public_url`.
pub fn feed_info(
    cfg: &Config,
    feed: &FeedConfig,
    feed_site: impl Fn(&SourceConfig) -> Option<Option<String>>,
) -> Result<FeedInfo, String> {
    let public = Url::parse(&cfg.public_url).map_err(|e| format!("public_url: {e}"))?;
    let public_base = public
        .join(&format!("{}/", feed.name))
        .map_err(|e| format!("public_url: {e}"))?;
    let home_page_url = feed
        .sources
        .iter()
        .filter_map(|s| cfg.source(s))
        .find_map(|src| home_page(src, feed_site(src)))
        .unwrap_or_else(|| public.to_string());
    let description = feed
        .description
        .clone()
        .unwrap_or_else(|| format!("{} — posts collected by feedwright", feed.title()));
    Ok(FeedInfo {
        name: feed.name.clone(),
        title: feed.title().to_string(),
        description,
        home_page_url,
        public_base,
        hub: cfg.websub.as_ref().map(|w| w.hub.clone()),
        prev_archive: None,
        language: feed.language(),
    })
}

/// The web page a source stands for, the home link of its feeds: the website the feed it reads
/// names as its own when it reads one (`feed_site`, see [`feed_info`]), else its listing URL.
/// `None` for a folder, and for a feed that names no website: the upstream XML is no page for
/// readers (a `feed` source not read in full since the site was recorded has none yet either).
/// Written out as a URL (parsed and serialized, so valid whatever the config's spelling) and
/// cleaned as post links are: no credentials (the feed is public), fragment or tracking
/// parameters.
fn home_page(src: &SourceConfig, feed_site: Option<Option<String>>) -> Option<String> {
    let web_page = |text: &str| {
        Url::parse(text.trim())
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .map(|u| crate::normalize::clean_url(&u).to_string())
    };
    match feed_site {
        Some(site) => site.and_then(|s| web_page(&s)),
        None if src.kind == SourceKind::Feed => None,
        None => web_page(&src.url),
    }
}

/// What [`announce`] did.
#[derive(Debug, Default)]
pub struct Announced {
    /// Topics the hub accepted a ping for.
    pub pinged: Vec<String>,
    /// Pings that failed after their retries; transient ones stay owed and are sent after the
    /// next publish.
    pub failed: Vec<PingError>,
    /// Owed pings not tried this time because the hub had just failed (they stay owed).
    pub deferred: usize,
    /// The pings could not be read or sent at all (store error, client error).
    pub error: Option<String>,
}

/// Send the `[websub]` hub every ping owed: those [`publish_all`] recorded for the head
/// documents it changed (already on disk when this runs), and any left from earlier runs.
/// After a ping fails for a transient reason (hub down, slow, 5xx) the rest are not tried this
/// time, so a down hub costs one ping's retries per run, not one per feed file. Without
/// `[websub]` it does nothing.
pub async fn announce(cfg: &Config, store: &mut Store) -> Announced {
    let mut out = Announced::default();
    let Some(ws) = &cfg.websub else {
        return out;
    };
    let owed = match store.websub_owed() {
        Ok(owed) => owed,
        Err(e) => {
            out.error = Some(e.to_string());
            return out;
        }
    };
    if owed.is_empty() {
        return out;
    }
    let hub = match Hub::new(ws, &cfg.http.user_agent) {
        Ok(h) => h,
        Err(e) => {
            out.error = Some(e);
            return out;
        }
    };
    for (i, (topic, _since)) in owed.iter().enumerate() {
        match hub.publish(topic).await {
            Ok(()) => {
                if let Err(e) = store.websub_done(topic) {
                    out.error = Some(e.to_string());
                }
                out.pinged.push(topic.clone());
            }
            Err(e @ PingError::Refused { .. }) => {
                // Retrying will not change the hub's mind: drop it, once reported.
                if let Err(e) = store.websub_done(topic) {
                    out.error = Some(e.to_string());
                }
                out.failed.push(e);
            }
            Err(e @ PingError::Transient { .. }) => {
                out.failed.push(e);
                out.deferred = owed.len() - i - 1;
                break;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::check_xslt;

    const XSL: &str = "http://www.w3.org/1999/XSL/Transform";

    #[test]
    fn the_built_in_stylesheet_is_accepted() {
        check_xslt(crate::publish::BUILTIN_STYLESHEET).expect("built-in");
        check_xslt(&format!(
            "<?xml version=\"1.0\"?>\n<x:transform version=\"1.0\" xmlns:x=\"{XSL}\"/>\n"
        ))
        .expect("transform, any prefix");
    }

    /// The home link is a valid URL whatever the config's spelling, cleaned as post links are;
    /// without a source web page it is `public_url`, serialized.
    #[test]
    fn the_home_link_is_a_clean_serialized_url() {
        let cfg = |source_url: &str| {
            let kind = if source_url.contains(':') {
                "html"
            } else {
                "dir"
            };
            crate::config::Config::parse(
                &format!(
                    "output_dir = \"out\"\npublic_url = \"http://feeds.test/my feeds/\u{e9}/\"\n\
                     [[source]]\nname = \"s\"\nurl = {source_url:?}\nkind = {kind:?}\n\
                     [[feed]]\nname = \"f\"\nsources = [\"s\"]\n"
                ),
                std::path::Path::new("config.toml"),
            )
            .expect("valid")
        };
        let home = |source_url: &str| {
            let cfg = cfg(source_url);
            super::feed_info(&cfg, &cfg.feeds[0], |_| None)
                .expect("info")
                .home_page_url
        };
        assert_eq!(
            home("HTTP://User:pw@Example.ORG/category/negotiation/?x=a b|c&utm_source=news#top"),
            "http://example.org/category/negotiation/?x=a%20b|c"
        );
        assert_eq!(home("posts"), "http://feeds.test/my%20feeds/%C3%A9/");
        let cfg = cfg("https://example.org/feed/");
        let named = |site: &str| {
            super::feed_info(&cfg, &cfg.feeds[0], |_| Some(Some(site.to_string())))
                .expect("info")
                .home_page_url
        };
        assert_eq!(
            named("https://example.org/blog#x"),
            "https://example.org/blog"
        );
        assert_eq!(named("not a url"), "http://feeds.test/my%20feeds/%C3%A9/");
    }

    #[test]
    fn broken_or_foreign_stylesheets_are_refused() {
        let cases = [
            (
                format!("<xsl:stylesheet version=\"1.0\" xmlns:xsl=\"{XSL}\"><xsl:template>"),
                "not closed",
            ),
            (
                format!(
                    "<xsl:stylesheet xmlns:xsl=\"{XSL}\"/><xsl:stylesheet xmlns:xsl=\"{XSL}\"/>"
                ),
                "second root",
            ),
            (
                "<xsl:stylesheet xmlns:xsl=\"http://example.org/not-xslt\"/>".to_string(),
                "not an XSLT",
            ),
            ("<stylesheet/>".to_string(), "not an XSLT"),
            (
                format!("<xsl:stylesheet xmlns:xsl=\"{XSL}\"></xsl:other>"),
                "not well-formed",
            ),
            (
                format!("<xsl:stylesheet xmlns:xsl=\"{XSL}\"/>trailing words"),
                "outside the root",
            ),
            (String::new(), "no root element"),
        ];
        for (text, want) in cases {
            let err = check_xslt(&text).expect_err(&text);
            assert!(err.contains(want), "{text:?}: {err}");
        }
    }
}
