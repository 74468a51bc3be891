//! Publishing, wired: store → archive bookkeeping → rendered files → WebSub pings.
//!
//! Owns: which entries make a feed's head and which go to its RFC 5005 archive (newest
//! `limit` not yet archived stay in the head; the rest are archived oldest first and never
//! move again), the stylesheet override lookup, and the order "file on disk, then ping".
//! Must not: render documents itself (`publish` does), run SQL (`store` does) or print.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use url::Url;

use crate::config::{Config, FeedConfig};
use crate::publish::{self, ATOM_FILE, FeedInfo, JSON_FILE, RSS_FILE};
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
    /// Public URLs of the head documents whose content changed (the WebSub topics to ping).
    pub changed_topics: Vec<String>,
}

/// What [`publish_all`] did.
#[derive(Debug, Default)]
pub struct PublishReport {
    /// One result per `[[feed]]`, in config order; an error is `(feed name, message)`.
    pub feeds: Vec<Result<Published, (String, String)>>,
    /// The stylesheet could not be read (an override) or written; feeds are still published.
    pub stylesheet_error: Option<String>,
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
pub fn publish_all(cfg: &Config, store: &mut Store, config_dir: &Path) -> PublishReport {
    let stylesheet_error = stylesheet(config_dir)
        .and_then(|xsl| {
            publish::publish_stylesheet(&cfg.output_dir, &xsl).map_err(|e| e.to_string())
        })
        .map_err(|e| format!("{e} (the stylesheet already published is kept)"))
        .err();
    let feeds = cfg
        .feeds
        .iter()
        .map(|f| publish_one(cfg, store, f).map_err(|e| (f.name.clone(), e)))
        .collect();
    PublishReport {
        feeds,
        stylesheet_error,
    }
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

/// Is `text` well-formed XML whose root is an XSLT `stylesheet` or `transform` element?
fn check_xslt(text: &str) -> Result<(), String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(text);
    let mut root: Option<String> = None;
    loop {
        let at = reader.buffer_position();
        match reader.read_event() {
            Ok(Event::Eof) => break,
            Ok(Event::Start(e) | Event::Empty(e)) if root.is_none() => {
                root = Some(String::from_utf8_lossy(e.local_name().as_ref()).into_owned());
            }
            Ok(_) => {}
            Err(e) => return Err(format!("not well-formed XML near byte {at}: {e}")),
        }
    }
    match root.as_deref() {
        Some("stylesheet" | "transform") => Ok(()),
        Some(other) => Err(format!(
            "the root element is <{other}>, not an XSLT <xsl:stylesheet>"
        )),
        None => Err("no root element".into()),
    }
}

fn publish_one(cfg: &Config, store: &mut Store, feed: &FeedConfig) -> Result<Published, String> {
    let mut info = feed_info(cfg, feed)?;
    let limit = feed.limit as usize;
    let err = |e: crate::store::StoreError| e.to_string();

    let (head, pages) = if feed.archive {
        let ids = store
            .unarchived_ids(&feed.name, &feed.sources, &feed.categories)
            .map_err(err)?;
        if ids.len() > limit {
            let oldest_first: Vec<String> = ids[limit..].iter().rev().cloned().collect();
            let frozen_info = info.clone();
            store
                .archive(
                    &feed.name,
                    &oldest_first,
                    feed.archive_page_size,
                    &mut |page, mut entries| {
                        publish::order_entries(&mut entries);
                        publish::atom::render_archive(&frozen_info, page, &entries, true)
                    },
                )
                .map_err(err)?;
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
    if head.is_empty() && pages.is_empty() {
        return Ok(Published {
            feed: feed.name.clone(),
            entries: 0,
            archive_pages: 0,
            files: Vec::new(),
            changed_topics: Vec::new(),
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
    let mut files = publish::publish_feed(
        &cfg.output_dir,
        &info,
        &head,
        open.map(|page| (page, open_entries.as_slice())),
    )
    .map_err(|e| e.to_string())?;
    let changed_topics = files
        .iter()
        .take(3)
        .filter(|(_, changed)| *changed)
        .filter_map(|(path, _)| path.file_name()?.to_str())
        .filter(|name| [ATOM_FILE, RSS_FILE, JSON_FILE].contains(name))
        .map(|name| info.file_url(name))
        .collect();
    for page in pages.iter().filter(|p| p.frozen) {
        // One document in memory at a time: an old feed can have many pages.
        let Some(document) = store.frozen_archive(&feed.name, page.page).map_err(err)? else {
            continue;
        };
        files.push(
            publish::publish_frozen_archive(&cfg.output_dir, &info, page.page, &document)
                .map_err(|e| e.to_string())?,
        );
    }
    Ok(Published {
        feed: feed.name.clone(),
        entries: head.len(),
        archive_pages: pages.len(),
        files,
        changed_topics,
    })
}

/// Feed-level metadata from the config (no archive link yet: that comes from the store).
pub fn feed_info(cfg: &Config, feed: &FeedConfig) -> Result<FeedInfo, String> {
    let public = Url::parse(&cfg.public_url).map_err(|e| format!("public_url: {e}"))?;
    let public_base = public
        .join(&format!("{}/", feed.name))
        .map_err(|e| format!("public_url: {e}"))?;
    let home_page_url = feed
        .sources
        .iter()
        .filter_map(|s| cfg.source(s))
        .map(|s| s.url.clone())
        .find(|u| u.starts_with("http://") || u.starts_with("https://"))
        .unwrap_or_else(|| cfg.public_url.clone());
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
    })
}

/// What [`announce`] did.
#[derive(Debug, Default)]
pub struct Announced {
    /// Topics the hub accepted a ping for.
    pub pinged: Vec<String>,
    /// Pings that failed after their retries; transient ones are kept and sent after the next
    /// publish.
    pub failed: Vec<PingError>,
    /// The pings could not be recorded or sent at all (store error, client error).
    pub error: Option<String>,
}

/// Tell the `[websub]` hub about every head document `report` changed, plus any ping still owed
/// from an earlier run. Called only after [`publish_all`] returned, so every file pinged is
/// already on disk. Each owed topic is recorded in the store first, so a ping lost to a down
/// hub or a crash is sent next time. Without `[websub]` it does nothing.
pub async fn announce(
    cfg: &Config,
    store: &mut Store,
    report: &PublishReport,
    now: DateTime<Utc>,
) -> Announced {
    let mut out = Announced::default();
    let Some(ws) = &cfg.websub else {
        return out;
    };
    if let Err(e) = store.websub_owe(&report.changed_topics(), now) {
        out.error = Some(e.to_string());
        return out;
    }
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
    for (topic, _since) in owed {
        match hub.publish(&topic).await {
            Ok(()) => {
                if let Err(e) = store.websub_done(&topic) {
                    out.error = Some(e.to_string());
                }
                out.pinged.push(topic);
            }
            Err(e) => {
                if matches!(e, PingError::Refused { .. }) {
                    // Retrying will not change the hub's mind: drop it, once reported.
                    if let Err(e) = store.websub_done(&topic) {
                        out.error = Some(e.to_string());
                    }
                }
                out.failed.push(e);
            }
        }
    }
    out
}
