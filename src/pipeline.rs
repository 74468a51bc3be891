//! The pipeline: the one place the stages are wired together.
//!
//! Owns: [`refresh`] (source → extract → normalize → store, per source, per post),
//! [`publish_all`] (store → archive bookkeeping → publish) and [`announce`] (WebSub pings for
//! what changed). A failure of one post or one source is recorded in the
//! [`RunReport`] and never stops the others. Must not: parse the command line, print, or decide
//! when jobs run.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use futures_util::{FutureExt, StreamExt};
use url::Url;

mod identity;
mod publishing;

pub use identity::{
    ForgetError, Identities, Renamed, Unclaimed, adopt_renamed, forget, forgotten_note,
    refuse_forgetting_configured, renames_due, unclaimed_note, unclaimed_sources,
};
pub use publishing::{
    Announced, PublishReport, Published, announce, feed_info, prepare_output_dir, publish_all,
    stylesheet,
};

use crate::config::{Config, SourceConfig, SourceKind};
use crate::model::{DateSource, Entry, EntryId, RawPage, RawPost, RunReport, SourceReport};
use crate::source::{self, Discovery, FetchError, Fetcher, RunState, scrape};
use crate::store::{EnclosureSay, Fill, Read, RunHealth, Store, Upsert};

/// Progress notifications for a terminal progress bar; the default does nothing.
pub trait Progress: Sync {
    /// `n` more posts are about to be processed.
    fn add_total(&self, _n: u64) {}
    /// One post is done.
    fn tick(&self) {}
}

/// A [`Progress`] that ignores everything.
pub struct NoProgress;
impl Progress for NoProgress {}

/// One post, ready to be extracted or already extracted.
enum Work {
    /// Fetch and extract; `recheck`: a known post fetched conditionally to catch edits;
    /// `retry`: a post that failed on an earlier run.
    Fetch {
        url: Url,
        recheck: bool,
        retry: bool,
    },
    /// A saved page read from a file (reported under the file's path).
    Page(String, RawPage),
    Post(Url, RawPost, DateTime<Utc>),
    /// A post read from a file (reported under the file's path).
    InFile(String, Url, RawPost, DateTime<Utc>),
    /// A feed item whose full page is to be fetched (`full_text = true`); `retry`: its page
    /// failed on an earlier run (see [`StandIn`]).
    FullText {
        url: Url,
        item: RawPost,
        retry: bool,
    },
}

/// A feed item stored from its own text instead of its page (`full_text = true`). A stand-in
/// is only ever stored as a new entry: it never replaces a stored one (see [`apply_each`]).
enum StandIn {
    /// The page will never give the post (robots.txt keeps it out of reach, it is not HTML, it
    /// is gone): the item is the entry, reported as skipped, nothing pending.
    Final(String),
    /// The page failed, or was left for later: reported (failed, or deferred when `deferred`),
    /// and pending: fetched again on later runs, it then completes the entry.
    Pending { reason: String, deferred: bool },
}

/// Which fields extraction found on a page (for drift detection).
#[derive(Debug, Clone, Copy, Default)]
struct Found {
    title: bool,
    date: bool,
    author: bool,
    categories: bool,
}

/// Posts extracted from pages and how many had each field, summed over batches.
#[derive(Debug, Clone, Copy, Default)]
struct Tally {
    extracted: u32,
    /// Title, date, author, categories.
    fill: [u32; 4],
}

impl Tally {
    fn add(&mut self, f: Found) {
        self.extracted += 1;
        for (i, has) in [f.title, f.date, f.author, f.categories]
            .into_iter()
            .enumerate()
        {
            self.fill[i] += u32::from(has);
        }
    }

    fn merge(&mut self, other: Tally) {
        self.extracted += other.extracted;
        for (a, b) in self.fill.iter_mut().zip(other.fill) {
            *a += b;
        }
    }

    /// The share (0.0–1.0) of extracted posts with each field.
    fn fill(&self) -> Fill {
        let rate = |n: u32| {
            if self.extracted == 0 {
                0.0
            } else {
                f64::from(n) / f64::from(self.extracted)
            }
        };
        Fill {
            title: rate(self.fill[0]),
            date: rate(self.fill[1]),
            author: rate(self.fill[2]),
            categories: rate(self.fill[3]),
        }
    }

    fn health(&self) -> RunHealth {
        RunHealth {
            extracted: self.extracted,
            fill: self.fill(),
            ..Default::default()
        }
    }
}

/// Outcomes stored per transaction while a refresh goes on.
const STORE_BATCH: usize = 32;

enum Outcome {
    /// `found` is set when the entry was extracted from a page in this run; the fourth field is
    /// the twin key of the page it was extracted from, after redirects (`None` for a post in
    /// hand: a feed item, a file); the last is set for a feed item stored without the page it
    /// was to be completed from.
    Entry(
        Box<Entry>,
        Vec<String>,
        Option<Found>,
        Option<String>,
        Option<StandIn>,
    ),
    NotModified,
    Failed(String),
    /// On purpose (robots.txt), or a page that is gone: not a failure.
    Skipped(String),
    /// The re-check of a stored post (or its retry, pending after a failed re-check) answered
    /// 404 or 410: reported as skipped, not a failure
    /// (it was deleted or unpublished). Its entry is kept and counts as checked now, so it is
    /// checked again only after `recheck_hours`, like a post that did not change.
    Gone(String),
    /// Left for the next run (budget, Retry-After, a request an interrupt cut): kept pending, not
    /// a failure.
    Deferred(String),
    /// An entry another outcome of the run also gives, which is kept instead (see
    /// [`one_per_entry`]): reported failed, but never pending, and a page's URL is remembered
    /// as that entry's, so it is not fetched again as a new post.
    Duplicate {
        dedup_key: String,
        reason: String,
    },
    /// An outcome an earlier batch of the run stored, which gave way to one for the same entry
    /// that is kept instead: reported failed; the entry it `created` in this run, if any, is
    /// removed before the one kept is stored.
    GaveWay {
        created: Option<EntryId>,
        reason: String,
    },
    /// A second outcome of the run for the same page, reached through another URL (the old
    /// URL of a post that moved, redirecting to the new one the listing links): nothing to
    /// report or store, but the URL is remembered as that entry's.
    SamePage {
        dedup_key: String,
    },
}

/// Refresh every source once, storing what changed.
pub async fn refresh(
    cfg: &Config,
    store: &mut Store,
    fetcher: &Fetcher,
    progress: &dyn Progress,
) -> RunReport {
    seed_robots(store, fetcher);
    let mut report = RunReport::default();
    for src in &cfg.sources {
        // Interrupted: the sources not begun are left as they are.
        if fetcher.interrupted() {
            break;
        }
        let r = refresh_source(cfg, src, store, fetcher, progress).await;
        report.sources.push(r);
    }
    save_robots(store, fetcher);
    fix_related(cfg, store, &report);
    report
}

/// Refresh one source (the daemon's job): like [`refresh`] for a single source.
pub async fn refresh_one(
    cfg: &Config,
    src: &SourceConfig,
    store: &mut Store,
    fetcher: &Fetcher,
    progress: &dyn Progress,
) -> SourceReport {
    seed_robots(store, fetcher);
    let rep = refresh_source(cfg, src, store, fetcher, progress).await;
    save_robots(store, fetcher);
    let report = RunReport {
        sources: vec![rep],
        ..Default::default()
    };
    fix_related(cfg, store, &report);
    report.sources.into_iter().next().unwrap_or_default()
}

/// Hand the day-old robots.txt copies of the store to the fetcher.
fn seed_robots(store: &Store, fetcher: &Fetcher) {
    match store.robots_fresh(Utc::now()) {
        Ok(rows) => fetcher.seed_robots(
            rows.into_iter()
                .map(|(origin, body, fetched_at)| source::RobotsCopy {
                    origin,
                    body,
                    fetched_at,
                })
                .collect(),
        ),
        Err(e) => tracing::warn!("cannot read saved robots.txt copies: {e}"),
    }
}

/// Keep the robots.txt files fetched in this run for a day.
fn save_robots(store: &mut Store, fetcher: &Fetcher) {
    for copy in fetcher.take_fetched_robots() {
        if let Err(e) = store.robots_put(&(copy.origin, copy.body, copy.fetched_at)) {
            tracing::warn!("cannot save robots.txt copy: {e}");
        }
    }
}

/// Fix the related posts of the entries stored new in this run, from the entries stored by
/// its end; they never change afterwards, so feeds and digest agree.
pub fn fix_related(cfg: &Config, store: &mut Store, report: &RunReport) {
    let new_ids: Vec<crate::model::EntryId> = report
        .sources
        .iter()
        .flat_map(|s| s.new_ids.iter().cloned())
        .collect();
    if new_ids.is_empty() {
        return;
    }
    let limit = cfg.digest.as_ref().map_or(3, |d| d.related_limit) as usize;
    // Weeks as the digest counts them (validated with the configuration).
    let zone = cfg.digest.as_ref().and_then(|d| d.timezone.as_deref());
    let tz = zone
        .unwrap_or(&cfg.timezone)
        .parse()
        .unwrap_or(chrono_tz::UTC);
    if let Err(e) = crate::digest::related::fix_related(store, &new_ids, limit, tz) {
        tracing::warn!("cannot compute related posts: {e}");
    }
}

/// [`run_state`] for one source: its own URL is conditional on what this source itself last
/// read there ([`Store::index_validators`]), not on what another source (or this one under an
/// earlier name) saved for that URL.
fn run_state_for(src: &SourceConfig, store: &Store) -> RunState {
    let state = run_state(store);
    // The listing of a source degraded because it gave no post links is read in full, not
    // answered 304: the site or the source's selectors may have been fixed since, and only a
    // read shows it.
    let degraded = store.listing_degraded(&src.name).unwrap_or(false);
    if let Some(url) = index_url(src) {
        let saved = store
            .index_validators(&src.name, &url)
            .unwrap_or_else(|e| {
                tracing::warn!(source = %src.name, "cannot read the validators of {url}: {e}");
                None
            })
            .map(|(etag, last_modified)| source::Validators {
                etag,
                last_modified,
            })
            .filter(|_| !degraded);
        state.scope_validators(&url, saved);
    }
    let items = store.item_keys().unwrap_or_else(|e| {
        tracing::warn!(source = %src.name, "cannot read which posts are feed items: {e}");
        Default::default()
    });
    // The newest few stored posts: the top of the listing as the last read saw it.
    let anchors = store
        .newest_keys(&src.name, ANCHORS)
        .unwrap_or_else(|e| {
            tracing::warn!(source = %src.name, "cannot read its newest posts: {e}");
            Vec::new()
        })
        .into_iter()
        .flat_map(|(url, dedup_key)| [crate::normalize::twin_key(&url), dedup_key])
        .collect();
    let site_description = store.site_description(&src.name).unwrap_or_else(|e| {
        tracing::warn!(source = %src.name, "cannot read its site's description: {e}");
        None
    });
    state
        .with_items(items)
        .with_anchors(anchors)
        .with_site_description(site_description)
}

/// How many of a source's newest stored posts mark where its listing began last time (see
/// `RunState::with_anchors`).
const ANCHORS: usize = 5;

/// The source's own URL as requests name it (`None` for a folder).
fn index_url(src: &SourceConfig) -> Option<String> {
    (src.kind != SourceKind::Dir)
        .then(|| Url::parse(&src.url).ok())
        .flatten()
        .map(|u| u.to_string())
}

fn run_state(store: &Store) -> RunState {
    let validators = store
        .http_cache_all()
        .map(|m| {
            m.into_iter()
                .map(|(u, (etag, last_modified))| {
                    (
                        u,
                        source::Validators {
                            etag,
                            last_modified,
                        },
                    )
                })
                .collect()
        })
        .unwrap_or_else(|e| {
            tracing::warn!("cannot read saved validators: {e}");
            Default::default()
        });
    let known = store.known_keys().unwrap_or_else(|e| {
        tracing::warn!("cannot read stored post keys: {e}");
        Default::default()
    });
    let updated = store.updated_dates().unwrap_or_else(|e| {
        tracing::warn!("cannot read the updated dates of stored posts: {e}");
        Default::default()
    });
    RunState::new(validators, known).with_updated(updated)
}

/// Refresh one source.
pub async fn refresh_source(
    cfg: &Config,
    src: &SourceConfig,
    store: &mut Store,
    fetcher: &Fetcher,
    progress: &dyn Progress,
) -> SourceReport {
    let first_read = store.entry_count(&src.name).is_ok_and(|n| n == 0);
    let rep = read_source(cfg, src, store, fetcher, progress).await;
    warn_undated(src, store, &rep, first_read);
    rep
}

/// How many URLs of new posts without a date of their own a warning names.
const UNDATED_NAMED: usize = 3;

/// Count a new entry without a date of its own (see [`warn_undated`]).
/// `found`: what its page gave, when it was read from a page; a date it gave that was ahead of
/// the clock (so dated when first seen too) is no missing date.
fn note_undated(rep: &mut SourceReport, entry: &Entry, found: Option<&Found>) {
    let undated = match found {
        Some(f) => !f.date,
        None => entry.published_source == DateSource::FirstSeen,
    };
    if undated {
        rep.new_undated += 1;
        if rep.undated_urls.len() < UNDATED_NAMED {
            rep.undated_urls.push(entry.url.clone());
        }
    }
}

/// New posts of `src` (not a `dir` source) stored without a date of their own, each dated when
/// it was first seen (so it counts as new in this week's digest): one warning naming the source
/// and what to do. On a first read, when none of them has a date; and whenever only some
/// of them have one, or the source's other stored posts have one (a post whose date could not
/// be read where the others' could, named by its URL).
fn warn_undated(src: &SourceConfig, store: &Store, rep: &SourceReport, first_read: bool) {
    // A folder's files are the editor's: one without a date is dated when it was added, as
    // meant.
    if rep.new_undated == 0 || src.kind == SourceKind::Dir {
        return;
    }
    // Asked only when it matters: a run storing nothing undated asks nothing.
    let some = rep.new_undated < rep.new || store.holds_dated(&src.name).unwrap_or(false);
    if !first_read && !some {
        return;
    }
    let hint = if src.selectors.date.is_some() {
        "check [source.selectors] date against a post page: it must match the element that \
         shows the date"
    } else {
        "set [source.selectors] date to a CSS selector matching the element that shows a \
         post's date (its text is read, e.g. \"Publié le 12 novembre 2024\")"
    };
    if some {
        let more = rep.new_undated - rep.undated_urls.len();
        let more = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        tracing::warn!(
            source = %src.name,
            "{} of the {} new post(s) show no date feedwright can read, where the source's \
             other posts do ({}{more}): each is dated when it was first seen; {hint}",
            rep.new_undated,
            rep.new,
            rep.undated_urls.join(", ")
        );
        return;
    }
    tracing::warn!(
        source = %src.name,
        "none of the {} post(s) read for the first time shows a date feedwright can read: \
         each is dated when it was first seen, so the next digest holds them all; {hint}",
        rep.new
    );
}

/// [`refresh_source`], without the warning about a first read without dates.
async fn read_source(
    cfg: &Config,
    src: &SourceConfig,
    store: &mut Store,
    fetcher: &Fetcher,
    progress: &dyn Progress,
) -> SourceReport {
    let mut rep = SourceReport {
        source: src.name.clone(),
        ..Default::default()
    };
    let started = std::time::Instant::now();
    fetcher.reset_budget();
    fetcher.set_site(source::site::Site::of(src));
    fetcher.set_auth(source::http::BasicAuth::of(&src.url));
    // Its site moved to another host: its stored posts there take their new address first, so
    // the listing shows them as stored (see `identity::follow_site_move`).
    rep.site_moved = identity::follow_site_move(src, store);
    let state = run_state_for(src, store);
    // Posts that failed on earlier runs are retried even when the listing did not change.
    let pending = store.pending(&src.name).unwrap_or_else(|e| {
        tracing::warn!(source = %src.name, "cannot read pending posts: {e}");
        Vec::new()
    });
    // A feed item whose page is pending is completed from the item and its page: the feed is
    // then read in full (a 304 would leave only the page).
    // So is the listing of a source no entry belongs to yet: a source renamed, or added over
    // posts another source stored, must link every post it lists, not stop at the first
    // known ones (those beyond would drop out of its feeds).
    // So is the listing of a source moved to another URL (another category, say): its posts
    // there may be stored already, by another source, and the walk must not stop at them.
    let recorded = store.source_url(&src.name).ok().flatten();
    let moved = recorded
        .as_deref()
        .is_some_and(|url| !identity::same_place(src, url));
    // Nothing of a source read for the first time can have moved (see `look_for_moves`).
    let first_read = store.entry_count(&src.name).is_ok_and(|n| n == 0);
    let full_walk = store.walk_incomplete(&src.name).unwrap_or(false)
        || (src.full_text && !pending.is_empty())
        || first_read
        || moved;
    // Through the REST API, the posts modified since the last read of it that was stored (not
    // since the last run: a run whose listing answered 304, or whose API was down, asked
    // nothing). A source moved to another category starts with a cold read.
    let modified_after = if moved {
        None
    } else {
        store.api_window(&src.name).unwrap_or_else(|e| {
            tracing::warn!(source = %src.name, "cannot read where the REST API read stopped: {e}");
            None
        })
    };
    // REST API posts that failed on earlier runs are pending under their shortlinks: a read
    // through the API asks for them again by id.
    let reads_api = src.kind == SourceKind::Wordpress
        || (src.kind == SourceKind::Auto && modified_after.is_some());
    let api_pending = if reads_api {
        api_pending_ids(src, &pending)
    } else {
        HashMap::new()
    };
    let retry: Vec<u64> = api_pending.keys().copied().collect();
    let mut index =
        match source::read_index(fetcher, src, &state, full_walk, modified_after, &retry).await {
            Ok(i) => i,
            Err(e) => {
                // Cut by an interrupt, it is not the source's failure.
                if !fetcher.cut_by_interrupt() {
                    rep.fatal = Some(e.to_string());
                }
                finish_source(src, store, fetcher, &state, &mut rep, None, Some(started));
                return rep;
            }
        };
    if fetcher.cut_by_interrupt() {
        // An index the interrupt cut (a REST API read, say) is not used: the source is left as
        // it was, for the next run to read.
        finish_source(src, store, fetcher, &state, &mut rep, None, Some(started));
        return rep;
    }
    tracing::debug!(source = %src.name, kind = index.kind, "index read");
    let api_window = index.api_window;
    // A site that offers no REST API (any more): its posts are read from their pages now, and
    // are re-checked as such.
    let mut modified_after = modified_after;
    if index.no_api && modified_after.is_some() {
        match store.clear_api_window(&src.name) {
            Ok(()) => modified_after = None,
            Err(e) => tracing::warn!(source = %src.name, "cannot forget its REST API window: {e}"),
        }
    }
    let full_text = src.full_text || index.full_text;
    let mut listing = None;
    let now = Utc::now();
    // The website a feed names, for the home link of the feeds it is in (a 304 keeps it).
    if !index.unchanged
        && let Some(url) = index_url(src)
        && let Err(e) = store.set_index_site(
            &src.name,
            &url,
            index
                .feed_site
                .as_ref()
                .map(|s| s.as_ref().map(Url::as_str)),
            now,
        )
    {
        tracing::warn!(source = %src.name, "cannot record the site its feed names: {e}");
    }
    let mut work: Vec<Work> = Vec::new();
    let live = live_sources(cfg);
    let feed_items = index.kind == "feed";
    // Read through the REST API: the posts pending under their shortlinks were asked for again
    // (not as pages), and a post of this read that fails is kept pending under its shortlink.
    let via_api = index.kind == "wordpress";
    let mut api_keys: HashMap<String, String> = HashMap::new();
    if via_api {
        keep_api_failures(src, store, &state, &api_pending, &index.failed_posts, false);
        for id in &index.gone {
            if let Some(url) = api_pending.get(id) {
                if let Err(e) = store.remove_pending(&src.name, url) {
                    tracing::warn!(source = %src.name, "cannot clear pending {url}: {e}");
                }
                let why = format!(
                    "post {id} failed earlier and the REST API no longer gives it in this \
                     category (deleted, unpublished or moved); no longer retried"
                );
                rep.skipped.push((url.clone(), why));
            }
        }
    }
    // A folder holding only drafts is there (its files were made drafts), not unmounted.
    let has_drafts = !index.drafts.is_empty();
    let dir = src.kind == SourceKind::Dir;
    // A folder's files by their path inside it (see `file_key`): those read in this run, those
    // that failed, and the folders that could not be read (what is below them is not known to
    // be gone), for `settle_files`.
    let mut file_keys: HashMap<String, String> = HashMap::new();
    let mut unread: Vec<String> = Vec::new();
    if dir {
        // Files remembered by a path beginning with the folder (before schema v23, under a
        // folder the upgrade could not tell) are remembered by their path inside it.
        let folders =
            std::iter::once(src.url.as_str()).chain(recorded.as_deref().filter(|r| *r != src.url));
        for folder in folders {
            if let Err(e) = store.rekey_files(&src.name, folder) {
                tracing::warn!(source = %src.name, "cannot rekey its files: {e}");
            }
        }
        if let Discovery::Mixed { posts, documents } = &index.discovery {
            let read = posts.iter().map(|(file, ..)| file);
            let read = read.chain(documents.iter().map(|(file, _)| file));
            for location in read.chain(index.failures.iter().map(|(l, _)| l)) {
                if let Some(key) = file_key(&src.url, location) {
                    file_keys.insert(location.clone(), key);
                }
            }
        }
        unread = index
            .failures
            .iter()
            .filter_map(|(l, _)| inside(&src.url, l))
            .collect();
    }
    let present: HashSet<String> = file_keys.values().cloned().collect();
    let before = if dir || feed_items {
        store.source_items(&src.name).unwrap_or_else(|e| {
            tracing::warn!(source = %src.name, "cannot read which entries its items gave: {e}");
            HashMap::new()
        })
    } else {
        HashMap::new()
    };
    let untrusted = if feed_items {
        let links: HashSet<String> = match &index.discovery {
            Discovery::Posts(posts) => posts
                .iter()
                .map(|(url, _)| crate::normalize::twin_key(url.as_str()))
                .collect(),
            _ => HashSet::new(),
        };
        untrusted_item_ids(src, store, &index.item_ids, &before, &links)
    } else {
        HashSet::new()
    };
    if let Discovery::Posts(posts) = &mut index.discovery {
        forget_untrusted_numbers(posts, &index.item_ids, &untrusted);
    }
    let files = Owners {
        keys: index
            .item_ids
            .by_link
            .iter()
            .map(|(url, id)| (url.clone(), item_key(id)))
            .filter(|(_, key)| !untrusted.contains(key))
            .chain(file_keys)
            .collect(),
        before,
        now: Default::default(),
    };
    // A `full_text` feed's items whose posts are stored: their pages are not read again, but
    // their enclosures are the items' (see `take_item_enclosures`).
    let mut known_items: Vec<(Url, RawPost)> = Vec::new();
    let fetches_pages = match index.discovery {
        Discovery::Listing(mut l) => {
            // A source read before reads on past `max_pages` when they hold only new posts
            // (see `scrape::Limits::catch_up`); a first read (or one of a moved source) does not.
            l.limits.catch_up = !first_read && !moved;
            listing = Some(*l);
            true
        }
        Discovery::Pages(urls) => {
            work.extend(
                urls.into_iter()
                    .filter(|u| !state.is_listed_known(u))
                    .map(|url| Work::Fetch {
                        url,
                        recheck: false,
                        retry: false,
                    }),
            );
            true
        }
        Discovery::Posts(posts) => {
            // A feed item whose page failed before is completed from its page again.
            let retry: HashSet<String> = pending
                .iter()
                .filter_map(|u| Url::parse(u).ok())
                .map(|u| scrape::url_key(&u))
                .collect();
            for (url, item) in posts {
                if via_api && let Some(id) = item.wp_post_id {
                    api_keys.insert(url.to_string(), api_key(&api_pending, &url, id));
                }
                if !full_text {
                    work.push(Work::Post(url, item, now));
                    continue;
                }
                let retry = retry.contains(&scrape::url_key(&url));
                if !state.is_listed_known(&url) || retry {
                    work.push(Work::FullText { url, item, retry });
                } else {
                    known_items.push((url, item));
                }
            }
            full_text
        }
        Discovery::Mixed { posts, documents } => {
            work.extend(
                posts
                    .into_iter()
                    .map(|(file, u, raw)| Work::InFile(file, u, raw, now)),
            );
            work.extend(
                documents
                    .into_iter()
                    .map(|(file, page)| Work::Page(file, page)),
            );
            false
        }
    };
    if !index.enclosures_unknown {
        take_item_enclosures(src, store, &live, known_items, &mut rep);
    }
    let reached = std::sync::Mutex::default();
    let reading = Reading {
        fetches_pages,
        feed_items,
        enclosures_unknown: index.enclosures_unknown,
        live: &live,
        reached: &reached,
        files: &files,
        api_keys: &api_keys,
        backfill: false,
    };
    if listing.is_some() {
        // Posts are stored while the walk goes on: until it ends, the store must say the walk is
        // incomplete, so that a run killed halfway is followed by a full walk (one stopping at
        // known posts would miss those seen on later pages but not yet stored).
        if let Err(e) = store.set_walk_incomplete(
            &src.name,
            &identity::place(src),
            src.kind.as_str(),
            true,
            Utc::now(),
        ) {
            tracing::warn!(source = %src.name, "cannot record the listing walk: {e}");
        }
    } else if !index.unchanged {
        record_walk(src, store, index.incomplete);
    }
    rep.failures.extend(index.failures);
    rep.skipped.extend(index.skipped);
    let mut empty_pages = index.empty_pages;
    let queued: std::collections::HashSet<String> = work
        .iter()
        .filter_map(|w| match w {
            Work::Fetch { url, .. } | Work::FullText { url, .. } => Some(scrape::url_key(url)),
            _ => None,
        })
        .collect();
    let queued = std::sync::Mutex::new(queued);
    let first_time = |url: &Url| {
        queued
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(scrape::url_key(url))
    };
    // Queued after the posts of the listing, unless the listing has them already (or the REST
    // API was asked for them).
    let asked_api: HashSet<&String> = if via_api {
        api_pending.values().collect()
    } else {
        HashSet::new()
    };
    let mut later: Vec<(String, bool, bool)> = pending
        .iter()
        .filter(|u| !asked_api.contains(u))
        .map(|u| (u.clone(), false, true))
        .collect();
    // Young posts are re-checked now and then, conditionally, so that edits are caught. Not
    // those of a source read through the REST API whose listing did not change: the API tells
    // of their edits once it does (their pages would not give the API's text byte for byte,
    // and a difference in markup alone would count as an edit).
    let read_through_api = index.unchanged
        && modified_after.is_some()
        && matches!(src.kind, SourceKind::Wordpress | SourceKind::Auto);
    if fetches_pages && !read_through_api {
        match store.recheck_candidates(&src.name, now, src.recheck_days, src.recheck_hours) {
            Ok(urls) => later.extend(urls.into_iter().map(|u| (u, true, false))),
            Err(e) => tracing::warn!(source = %src.name, "cannot read posts to re-check: {e}"),
        }
    }
    // Posts are fetched while the listing walk goes on. The walk keeps first call on the request
    // budget, as when it ran alone before any post: while it runs, posts may only use what is
    // left after the most its remaining pages could take (every attempt counted).
    let attempts = fetcher.max_attempts();
    let for_walk = listing.as_ref().map_or(0, |l| {
        (l.limits.max_pages.saturating_sub(1) as u32).saturating_mul(attempts)
    });
    let gate = std::sync::Arc::new(tokio::sync::Semaphore::new(
        fetcher.requests_left().saturating_sub(for_walk) as usize,
    ));
    let (sink, posts_found) = tokio::sync::mpsc::unbounded_channel::<Url>();
    // Told when the store turns out not to be writable: the walk stops too.
    let store_blocked = tokio::sync::Notify::new();
    let walking = async {
        let walk = match listing {
            Some(l) => tokio::select! {
                walk = source::walk_listing(fetcher, &state, src, l, sink) => Some(walk),
                () = store_blocked.notified() => None,
            },
            None => {
                drop(sink);
                None
            }
        };
        // The walk is over: the budget is the posts' alone.
        gate.close();
        walk
    };
    let listed = futures_util::stream::unfold(posts_found, |mut rx| async move {
        rx.recv().await.map(|url| (url, rx))
    })
    // New posts, and stored ones the listing shows modified later than their stored copy: those
    // are re-checked (conditionally), whatever their age.
    .filter(|url| {
        let wanted = !state.is_listed_known(url) || state.listed_as_modified(url);
        std::future::ready(wanted && first_time(url))
    })
    .then(|url| admit(std::sync::Arc::clone(&gate), attempts, url))
    .map(|work| match work {
        Work::Fetch { url, retry, .. } if state.is_known(&url) => Work::Fetch {
            url,
            recheck: true,
            retry,
        },
        other => other,
    });
    let requeued = futures_util::stream::iter(later).filter_map(|(u, recheck, retry)| {
        let url = Url::parse(&u).ok().filter(|url| first_time(url));
        std::future::ready(url.map(|url| Work::Fetch {
            url,
            recheck,
            retry,
        }))
    });
    let parallel = (fetcher.per_host_concurrency() * 2).max(2);
    // Work left out because the run was interrupted (see [`unless_interrupted`]).
    let dropped = std::sync::atomic::AtomicBool::new(false);
    // Outcomes are stored as they arrive, [`STORE_BATCH`] per transaction, so that storing
    // overlaps fetching. Updates of entries stored before wait for the drift verdict, which
    // needs every outcome of the run: a source that looks broken keeps its last good entries.
    // So does a second outcome for an entry this run already has (see [`one_per_entry`]).
    let processing = async {
        let mut results = std::pin::pin!(
            futures_util::stream::iter(work)
                .chain(listed)
                .chain(requeued)
                .filter(|w| std::future::ready(unless_interrupted(w, fetcher, &dropped)))
                .inspect(|_| progress.add_total(1))
                .enumerate()
                .map(|(order, w)| {
                    process(w, src, fetcher, &state).map(move |(l, o)| (order, l, o))
                })
                .buffer_unordered(parallel)
        );
        let mut seen = Tally::default();
        let mut stored = Tally::default();
        let mut batch = Vec::with_capacity(STORE_BATCH);
        let mut held = Vec::new();
        // The entries (dedup keys) this run has an outcome for, and the key each entry id
        // came with first.
        let mut first: HashSet<String> = HashSet::new();
        let mut first_ids: HashMap<String, String> = HashMap::new();
        // Those stored by a batch already: where from, and under which id.
        let mut stored_from: HashMap<String, StoredFrom> = HashMap::new();
        while let Some((order, location, mut outcome)) = results.next().await {
            progress.tick();
            // A file or feed item whose URL changed keeps the entry it gave (see
            // `keep_item_entry_id`): known now, so that a copy still carrying the old URL,
            // which gives that entry id too, is held for `one_per_entry` with it, not stored
            // over it in turn.
            if let Outcome::Entry(entry, ..) = &mut outcome
                && let Some(id) = files.key(&location).and_then(|k| files.before.get(k))
            {
                keep_item_entry_id(store, id, entry);
            }
            let hold = match &outcome {
                Outcome::Entry(entry, _, found, ..) => {
                    if let Some(f) = found {
                        seen.add(*f);
                    }
                    let again = !first.insert(entry.dedup_key.clone());
                    // Another page giving the same entry id: held for `one_per_entry` too.
                    let other_page = first_ids
                        .entry(entry.id.0.clone())
                        .or_insert_with(|| entry.dedup_key.clone())
                        != &entry.dedup_key;
                    again || other_page || state.is_known_key(&entry.dedup_key)
                }
                _ => false,
            };
            if hold {
                held.push((order, location, outcome));
            } else {
                batch.push((order, location, outcome));
                if batch.len() == STORE_BATCH {
                    let done = std::mem::take(&mut batch);
                    for (order, location, outcome) in &done {
                        if let Outcome::Entry(entry, ..) = outcome {
                            let from = StoredFrom {
                                order: *order,
                                location: location.clone(),
                                id: entry.id.clone(),
                                page: outcome_page(outcome),
                            };
                            stored_from.insert(entry.dedup_key.clone(), from);
                        }
                    }
                    let done = done.into_iter().map(|(_, l, o)| (l, o)).collect();
                    match apply(src, store, &state, done, &mut rep, reading) {
                        Ok(tally) => stored.merge(tally),
                        Err(blocked) => {
                            store_blocked.notify_one();
                            return (seen, stored, Vec::new(), stored_from, Some(blocked));
                        }
                    }
                }
            }
        }
        batch.append(&mut held);
        (seen, stored, batch, stored_from, None)
    };
    let (walk, (seen, mut stored, rest, stored_from, blocked)) =
        futures_util::future::join(walking, processing).await;
    if let Some(blocked) = blocked {
        return stopped_by_the_store(src, store, fetcher, &state, rep, started, blocked);
    }
    // Cut short by an interrupt: a listing page or post not read, or a request cut. What was
    // read is stored below, but the walk stays incomplete (the next run reads the listing,
    // feed or REST API in full, without a 304 or stopping at known posts: those left out here
    // are found again) and nothing else is recorded (see `finish_source`).
    rep.interrupted = dropped.into_inner() || fetcher.cut_by_interrupt();
    if let Some(walk) = walk {
        rep.listing_links = walk.pages > 0
            && walk.failures.is_empty()
            && walk.empty_pages.is_empty()
            && !walk.posts.is_empty();
        record_walk(src, store, !walk.failures.is_empty() || rep.interrupted);
        rep.failures.extend(walk.failures);
        rep.skipped.extend(walk.skipped);
        empty_pages = walk.empty_pages;
    } else if rep.interrupted {
        record_walk(src, store, true);
    }
    rep.degraded = drift(src, store, &empty_pages, &seen, &state);
    let rest = one_per_entry(rest, &stored_from, &rep, &files);
    match apply(src, store, &state, rest, &mut rep, reading) {
        Ok(tally) => stored.merge(tally),
        Err(blocked) => {
            return stopped_by_the_store(src, store, fetcher, &state, rep, started, blocked);
        }
    }
    let mut reached = reached.into_inner().unwrap_or_else(|p| p.into_inner());
    // What the REST API returned is stored: the next read of it starts where this one stopped.
    if rep.degraded.is_none()
        && !state.has_unrecorded()
        && !rep.interrupted
        && let Some(at) = api_window
        && let Err(e) = store.set_api_window(&src.name, at, Utc::now())
    {
        tracing::warn!(source = %src.name, "cannot record where the REST API read stopped: {e}");
    }
    if rep.degraded.is_none() {
        if fetches_pages && !first_read && !rep.interrupted {
            let asks = moved_asks(src, store, &state, &rep, &reached);
            look_for_moves(src, fetcher, asks, &mut reached).await;
        }
        follow_moves(src, store, &mut rep, reached);
        if src.kind == SourceKind::Dir {
            let lists_files = has_drafts || !present.is_empty();
            // Read from another folder than last time: its files are not "gone" from there.
            let moved_from = recorded.as_deref().filter(|_| moved);
            let read = FolderRead {
                present: &present,
                unread: &unread,
                lists_files,
                moved_from,
            };
            settle_files(src, store, &mut rep, files, &read);
        }
    }
    let health = stored.health();
    finish_source(
        src,
        store,
        fetcher,
        &state,
        &mut rep,
        Some(health),
        Some(started),
    );
    rep
}

/// Where an outcome a batch of this run stored came from (see [`one_per_entry`]).
struct StoredFrom {
    order: usize,
    location: String,
    id: EntryId,
    /// The page it was extracted from (see [`Outcome::Entry`]).
    page: Option<String>,
}

/// The page an entry outcome was extracted from, if it came from a page.
fn outcome_page(outcome: &Outcome) -> Option<String> {
    match outcome {
        Outcome::Entry(_, _, _, page, _) => page.clone(),
        _ => None,
    }
}

/// Two outcomes of one run for one entry (two files of a folder with one `url`, two pages
/// declaring one canonical URL; a feed's item repeating a link is left out before, by
/// `feed::parse`) would each rewrite it, in the
/// order they happened to finish, so the entry and its feeds would change on every run. One is
/// kept: the one whose location (file path or URL) sorts first, names compared before their
/// extensions (`panel.md` before `panel-copy.md`), then the first in the source's order; every
/// other is reported failed, naming the one kept. Outcomes extracted from the same fetched page
/// (after redirects) are one post: it competes with the best of their locations, and one of
/// them stands for it (the one a batch already stored, else the best); the others are
/// [`Outcome::SamePage`]. Pages with different URLs that give one entry id (a WordPress post
/// number) are one entry too, by the same rule: the best ranked keeps it (a stored one that
/// loses gives way), every other is reported failed and remembered as the kept one's.
///
/// `rest` are the outcomes not stored yet, with their place in the source's order;
/// `stored_from`, per entry, the outcome a batch of this run already stored. When that one
/// gives way, it goes first in the returned list as [`Outcome::GaveWay`]: an entry it created
/// in this run is removed, so the one kept is stored as if it had come first (its own id,
/// dates and related links), in the same transaction.
fn one_per_entry(
    rest: Vec<(usize, String, Outcome)>,
    stored_from: &HashMap<String, StoredFrom>,
    rep: &SourceReport,
    files: &Owners,
) -> Vec<(String, Outcome)> {
    // A file of a folder that gave an entry when last stored goes first: a copy of it made
    // later (a template for a new post) does not take its entry over. Then a page read at the
    // URL the entry is under (its canonical one) goes before pages that only declare it (a
    // copy, an `/amp/` or `/print/` version): the post's own page is the post.
    type Rank = (bool, bool, String, String, usize);
    let rank = |order: usize, location: &str, key: &str| -> Rank {
        let name_start = location.rfind('/').map_or(0, |i| i + 1);
        let (stem, ext) = match location[name_start..].rfind('.') {
            Some(dot) if dot > 0 => location.split_at(name_start + dot),
            _ => (location, ""),
        };
        let newcomer = !files
            .key(location)
            .is_some_and(|k| files.before.contains_key(k));
        let elsewhere = location.starts_with("http") && crate::normalize::twin_key(location) != key;
        (
            newcomer,
            elsewhere,
            stem.to_string(),
            ext.to_string(),
            order,
        )
    };
    // A page reached through several URLs (redirects) is one post: it competes with the best
    // rank among its URLs, and one of them stands for it, the one a batch already stored, else
    // the best; the others are `SamePage`. So the outcome never depends on finishing order.
    let group = |key: &str, page: &Option<String>| page.clone().map(|p| (key.to_owned(), p));
    let mut group_rank: HashMap<(String, String), Rank> = HashMap::new();
    let mut stands_for: HashMap<(String, String), Rank> = HashMap::new();
    // Stored outcomes are noted first, and a group has at most one (one per entry).
    let mut stored_groups: HashSet<(String, String)> = HashSet::new();
    let mut note = |g: Option<(String, String)>, own: Rank, stored: bool| {
        let Some(g) = g else { return };
        let best = group_rank.entry(g.clone()).or_insert_with(|| own.clone());
        if own < *best {
            *best = own.clone();
        }
        if stored {
            stored_groups.insert(g.clone());
            stands_for.insert(g, own);
        } else if !stored_groups.contains(&g) && stands_for.get(&g).is_none_or(|r| own < *r) {
            stands_for.insert(g, own);
        }
    };
    for (key, from) in stored_from {
        note(
            group(key, &from.page),
            rank(from.order, &from.location, key),
            true,
        );
    }
    for (order, location, outcome) in &rest {
        if let Outcome::Entry(e, _, _, page, _) = outcome {
            note(
                group(&e.dedup_key, page),
                rank(*order, location, &e.dedup_key),
                false,
            );
        }
    }
    let effective = |key: &str, page: &Option<String>, own: Rank| {
        group(key, page).map_or(own.clone(), |g| group_rank[&g].clone())
    };
    let mut kept: HashMap<String, Rank> = HashMap::new();
    let mut keep = |key: &str, candidate: Rank| {
        kept.entry(key.to_owned())
            .and_modify(|k| {
                if candidate < *k {
                    *k = candidate.clone();
                }
            })
            .or_insert(candidate);
    };
    for (key, from) in stored_from {
        keep(
            key,
            effective(key, &from.page, rank(from.order, &from.location, key)),
        );
    }
    for (order, location, outcome) in &rest {
        if let Outcome::Entry(e, _, _, page, _) = outcome {
            keep(
                &e.dedup_key,
                effective(&e.dedup_key, page, rank(*order, location, &e.dedup_key)),
            );
        }
    }
    let kept_location = |key: &str| {
        let (_, _, stem, ext, _) = &kept[key];
        format!("{stem}{ext}")
    };
    let duplicate = |url: &str, location: &str, kept: &str| {
        if location == kept {
            format!("gives the entry {url} a second time; the first is kept")
        } else if url == kept {
            format!("is the same post as {kept}, which is kept")
        } else {
            format!("is the same post as {kept} (both give the entry {url}), which is kept")
        }
    };
    // Different pages that give one entry id (a WordPress post number shown by two pages: a
    // saved page copied as a template) would rewrite that entry in turn, every run. The best
    // ranked keeps the id, by the same rule; a stored one that loses gives way, and every other
    // is reported failed and remembered as the kept one's.
    let mut id_kept: HashMap<String, (Rank, String)> = HashMap::new();
    let mut offer = |id: &EntryId, own: Rank, key: &str| {
        if id_kept.get(&id.0).is_none_or(|(r, _)| own < *r) {
            id_kept.insert(id.0.clone(), (own, key.to_owned()));
        }
    };
    for (key, from) in stored_from {
        let own = effective(key, &from.page, rank(from.order, &from.location, key));
        if kept[key] == own {
            offer(&from.id, own, key);
        }
    }
    for (order, location, outcome) in &rest {
        if let Outcome::Entry(e, _, _, page, _) = outcome {
            let own = effective(&e.dedup_key, page, rank(*order, location, &e.dedup_key));
            if kept[&e.dedup_key] == own {
                offer(&e.id, own, &e.dedup_key);
            }
        }
    }
    // The key of the page that keeps `id`, when it is not `key`'s.
    let id_taken_by = |id: &EntryId, key: &str| {
        id_kept
            .get(&id.0)
            .filter(|(_, k)| k != key)
            .map(|(_, k)| k.clone())
    };
    let id_reason = |id: &EntryId, kept_key: &str| {
        let other = kept_location(kept_key);
        format!(
            "gives the entry id {} that {other} gives too (two different pages cannot be one \
             post; is it a copy?); {other} is kept",
            id.0
        )
    };
    let mut gave_way: Vec<(String, Outcome)> = Vec::new();
    for (key, from) in stored_from {
        if kept[key] == effective(key, &from.page, rank(from.order, &from.location, key)) {
            if let Some(kept_key) = id_taken_by(&from.id, key) {
                let reason = id_reason(&from.id, &kept_key);
                let created = rep.new_ids.contains(&from.id).then(|| from.id.clone());
                gave_way.push((from.location.clone(), Outcome::GaveWay { created, reason }));
            }
            continue;
        }
        let url = rest
            .iter()
            .find_map(|(_, _, o)| match o {
                Outcome::Entry(e, ..) if e.dedup_key == *key => Some(e.url.clone()),
                _ => None,
            })
            .unwrap_or_default();
        let reason = duplicate(&url, &from.location, &kept_location(key));
        // Created by this run (not an entry it updated): nothing has used it yet.
        let created = rep.new_ids.contains(&from.id).then(|| from.id.clone());
        gave_way.push((from.location.clone(), Outcome::GaveWay { created, reason }));
    }
    gave_way.sort_by(|a, b| a.0.cmp(&b.0));
    let rest = rest
        .into_iter()
        .map(|(order, location, outcome)| match outcome {
            Outcome::Entry(ref entry, _, _, ref page, _) => {
                let key = entry.dedup_key.clone();
                let own = rank(order, &location, &key);
                if kept[&key] != effective(&key, page, own.clone()) {
                    let reason = duplicate(&entry.url, &location, &kept_location(&key));
                    (
                        location,
                        Outcome::Duplicate {
                            dedup_key: key,
                            reason,
                        },
                    )
                } else if group(&key, page).is_some_and(|g| stands_for[&g] != own) {
                    (location, Outcome::SamePage { dedup_key: key })
                } else if let Some(kept_key) = id_taken_by(&entry.id, &key) {
                    let reason = id_reason(&entry.id, &kept_key);
                    (
                        location,
                        Outcome::Duplicate {
                            dedup_key: kept_key,
                            reason,
                        },
                    )
                } else {
                    (location, outcome)
                }
            }
            other => (location, other),
        });
    gave_way.into_iter().chain(rest).collect()
}

/// A post of the listing, once the request budget allows it (see [`refresh_source`]).
async fn admit(gate: std::sync::Arc<tokio::sync::Semaphore>, attempts: u32, url: Url) -> Work {
    // Closed once the walk is over: then every post goes. Twice its attempts: a post on an
    // origin not seen yet also costs that origin's robots.txt, which is retried like any
    // request.
    if let Ok(permit) = gate.acquire_many(attempts.saturating_mul(2)).await {
        permit.forget();
    }
    Work::Fetch {
        url,
        recheck: false,
        retry: false,
    }
}

/// Whether `work` is to be done: once the run is interrupted, no work that needs a request is
/// started (it is left for the next run; `dropped` says some was), while posts in hand (feed
/// items, API posts, files) are still stored.
fn unless_interrupted(
    work: &Work,
    fetcher: &Fetcher,
    dropped: &std::sync::atomic::AtomicBool,
) -> bool {
    let needs_request = matches!(work, Work::Fetch { .. } | Work::FullText { .. });
    if needs_request && fetcher.interrupted() {
        dropped.store(true, std::sync::atomic::Ordering::SeqCst);
        return false;
    }
    true
}

/// Remember whether the listing walk stopped at a failed page (the next one then reads it all).
fn record_walk(src: &SourceConfig, store: &mut Store, incomplete: bool) {
    if let Err(e) = store.set_walk_incomplete(
        &src.name,
        &identity::place(src),
        src.kind.as_str(),
        incomplete,
        Utc::now(),
    ) {
        tracing::warn!(source = %src.name, "cannot record the listing walk: {e}");
    }
}

/// Store the outcomes of one batch of posts in one transaction ([`Store::batch`]), updating the
/// report; returns the fields found on the posts extracted from pages.
///
/// When the batch cannot be committed nothing of it is stored: every post of the batch is then
/// reported failed and (best effort) kept pending, so the next run fetches it again.
/// How a source's outcomes were read, for [`apply`].
#[derive(Clone, Copy)]
struct Reading<'a> {
    /// Its posts are pages it fetches: a failed one is kept pending and retried (a feed item
    /// or a file is read again from its feed or folder instead).
    fetches_pages: bool,
    /// Its index is a feed: an entry not extracted from a page is a feed item's text (see
    /// [`Store::upsert_item`]).
    feed_items: bool,
    /// That feed's enclosures could not be told item by item: its items say nothing of them.
    enclosures_unknown: bool,
    /// The sources the configuration has ([`live_sources`]).
    live: &'a Live,
    /// Where each page stored this run was reached from ([`Reached`]).
    reached: &'a std::sync::Mutex<Reached>,
    /// A folder's files or a feed's items ([`Owners`]; empty for other sources).
    files: &'a Owners,
    /// Posts read through the REST API, by location (their `link`): the URL each is kept
    /// pending under when it fails (see [`api_key`]). Empty for other sources.
    api_keys: &'a HashMap<String, String>,
    /// A backfill's: what it stores, and the posts it keeps pending, are history it found
    /// (see [`Store::note_backfill_found`]).
    backfill: bool,
}

/// The files of a `dir` source (by their path inside its folder), or the items of a feed (by
/// their own id: guid, atom:id), and the entries they give ([`Store::source_items`]). The
/// folder is the editor's: a file keeps its entry when a copy with its `url` appears
/// ([`one_per_entry`]), keeps its entry's id when its `url` changes ([`keep_item_entry_id`];
/// so does a feed item whose link changes), and a file deleted or made a draft takes its entry
/// out of the source's feeds ([`settle_files`]).
#[derive(Default)]
struct Owners {
    /// By location (a file's path as read, a feed item's URL), the key it is remembered under:
    /// [`file_key`] of a file, [`item_key`] of the item's own id.
    keys: HashMap<String, String>,
    /// By key, the entry each file or item gave when last stored (read when the run starts).
    before: HashMap<String, EntryId>,
    /// By key, the entry each file or item gave in this run.
    now: std::sync::Mutex<HashMap<String, EntryId>>,
}

impl Owners {
    /// The key the outcome at `location` is remembered under, if any.
    fn key(&self, location: &str) -> Option<&str> {
        self.keys.get(location).map(String::as_str)
    }
}

/// The key a file of a `dir` source is remembered under in `source_items`: `file <its path
/// inside the folder>`, so that the folder moved (or named through another path, such as the
/// configuration read as `/srv/site/config.toml` rather than `config.toml`) keeps each file's
/// entry. `None` for a location outside `folder`.
fn file_key(folder: &str, location: &str) -> Option<String> {
    inside(folder, location)
        .filter(|p| !p.is_empty())
        .map(|p| format!("file {p}"))
}

/// `location`'s path inside `folder` (empty for the folder itself), `None` outside it.
fn inside(folder: &str, location: &str) -> Option<String> {
    let folder = folder.trim_end_matches('/');
    let location = location.trim_end_matches('/');
    if location == folder {
        return Some(String::new());
    }
    location
        .strip_prefix(folder)?
        .strip_prefix('/')
        .map(str::to_owned)
}

/// The key a feed item is remembered under in `source_items`: `item <its own id>`.
fn item_key(id: &str) -> String {
    format!("item {id}")
}

/// The keys ([`item_key`]) of the feed item ids that identify no item for `src`, recorded as
/// such ([`Store::distrust_source_item`]) the first time they are found:
/// - those the document gives to several items (`ids.shared`);
/// - those given to another item than the one they named: the post an id gave when last
///   stored is still an item of the document (its link is among `links`, the twin keys of the
///   document's items), while the id is now on an item at another link (a feed numbering its
///   items by their place: a new item pushes every number down one);
/// - those found so in an earlier run. Such an id stays unreliable: an item that carries it
///   alone in a later document (the others rolled off) is known by its link, not taken for
///   the post the id named once, moved (that post would be overwritten, and the new one, under
///   its id, never seen as new by readers or the digest).
fn untrusted_item_ids(
    src: &SourceConfig,
    store: &mut Store,
    ids: &source::feed::ItemIds,
    before: &HashMap<String, EntryId>,
    links: &HashSet<String>,
) -> HashSet<String> {
    let mut untrusted = store.untrusted_source_items(&src.name).unwrap_or_else(|e| {
        tracing::warn!(source = %src.name, "cannot read which item ids are unreliable: {e}");
        HashSet::new()
    });
    let mut found: Vec<(&str, String)> = Vec::new();
    found.extend(ids.shared.iter().map(|id| (id.as_str(), String::new())));
    let mut moved: Vec<(&String, &String)> = ids.by_link.iter().collect();
    moved.sort();
    for (url, id) in moved {
        let key = item_key(id);
        let Some(gave) = before.get(&key) else {
            continue;
        };
        if untrusted.contains(&key) {
            continue;
        }
        let Ok(Some(at)) = store.entry_dedup_key(gave) else {
            continue;
        };
        if at != crate::normalize::twin_key(url) && links.contains(&at) {
            found.push((id, at));
        }
    }
    for (id, still) in found {
        let key = item_key(id);
        if untrusted.contains(&key) {
            continue;
        }
        if !still.is_empty() {
            tracing::warn!(
                source = %src.name,
                "the feed gives the item id {id:?} to another item than the post it named, \
                 which is still in the feed ({still}): the id no longer tells that post apart, \
                 so its items are known by their links"
            );
        }
        if let Err(e) = store.distrust_source_item(&src.name, &key) {
            tracing::warn!(source = %src.name, "cannot record the item id {id:?} as unreliable: {e}");
        }
        untrusted.insert(key);
    }
    untrusted
}

/// The items whose own id identifies none (`untrusted`, see [`untrusted_item_ids`]) are known
/// by their links alone: no WordPress post number from that id either (a new item under it
/// would be that post, moved).
fn forget_untrusted_numbers(
    posts: &mut [(Url, RawPost)],
    ids: &source::feed::ItemIds,
    untrusted: &HashSet<String>,
) {
    for (url, raw) in posts {
        if ids
            .by_link
            .get(url.as_str())
            .is_some_and(|id| untrusted.contains(&item_key(id)))
        {
            raw.wp_post_id = None;
        }
    }
}

/// A file (or a feed item) that gave the entry `id` when last stored now gives `entry` under
/// another id: its `url` (or link) changed. The entry keeps its id (ids never change) and takes
/// the new URL, unless the new URL is another stored entry's (then the file gives that one).
fn keep_item_entry_id(store: &Store, id: &EntryId, entry: &mut Entry) {
    if *id == entry.id
        || crate::normalize::twin_key(&id.0) == crate::normalize::twin_key(&entry.id.0)
    {
        return;
    }
    // The new URL may be the entry's own already (it took it in an earlier run).
    let taken = store
        .get_stored(&entry.dedup_key)
        .map(|s| s.is_some_and(|s| s.entry.id != *id));
    if store.has_entry(id).unwrap_or(false) && matches!(taken, Ok(false)) {
        entry.id = id.clone();
    }
}

/// What a `dir` source's run read of its folder, for [`settle_files`].
struct FolderRead<'a> {
    /// The keys ([`file_key`]) of the files it read, those that failed included.
    present: &'a HashSet<String>,
    /// Paths inside the folder of the folders and files it could not read (empty: the folder
    /// itself): what is below them is not known to be gone.
    unread: &'a [String],
    /// It listed a file, or a draft: false for a folder that is not there (an unmounted disk).
    lists_files: bool,
    /// The folder it was last read from, when it is another one now.
    moved_from: Option<&'a str>,
}

/// After a `dir` source's run: each file that gave an entry when last stored and gives none now
/// (deleted, renamed away or made a draft; not one that failed, which keeps its entry as it
/// was, and nor does one below a folder or link that could not be read this run, `unread`)
/// takes its entry out of the source's feeds, unless another file gives that entry now.
/// The entry stays stored (a file giving it again brings it back with its id). A folder that
/// lists no file at all, not even a draft (`lists_files` false: an unmounted disk, say), takes
/// nothing out.
fn settle_files(
    src: &SourceConfig,
    store: &mut Store,
    rep: &mut SourceReport,
    files: Owners,
    read: &FolderRead<'_>,
) {
    let now = files.now.into_inner().unwrap_or_else(|p| p.into_inner());
    let given: HashSet<&EntryId> = now.values().collect();
    let below_unread = |key: &str| match key.strip_prefix("file ") {
        Some(path) => read
            .unread
            .iter()
            .any(|u| u.is_empty() || std::path::Path::new(path).starts_with(u)),
        // A key from before files were keyed inside their folder: a path as read then.
        None => read.unread.iter().any(|u| {
            u.is_empty()
                || std::path::Path::new(key).starts_with(std::path::Path::new(&src.url).join(u))
        }),
    };
    let mut gone: Vec<(&String, &EntryId)> = files
        .before
        .iter()
        .filter(|(key, _)| !now.contains_key(*key) && !read.present.contains(*key))
        .filter(|(key, _)| !below_unread(key))
        .collect();
    if gone.is_empty() {
        return;
    }
    if !read.lists_files {
        tracing::warn!(
            source = %src.name,
            "the folder {} has no post file: the {} entries its files gave stay published",
            src.url,
            gone.len()
        );
        return;
    }
    gone.sort();
    let folder = read.moved_from.unwrap_or(&src.url).trim_end_matches('/');
    for (key, id) in gone {
        let unlink = (!given.contains(id)).then_some(id);
        // The file as a path: in the folder it was read from.
        let shown = match key.strip_prefix("file ") {
            Some(path) => format!("{folder}/{path}"),
            None => key.clone(),
        };
        let why = match read.moved_from {
            Some(from) => format!(
                "not in the source's folder any more (it was {from}, it is {} now), or a draft: \
                 its entry {} is taken out of the source's feeds (a file giving it again brings \
                 it back)",
                src.url, id.0
            ),
            None => format!(
                "the file is gone or a draft: its entry {} is taken out of the feeds (a file \
                 giving it again brings it back)",
                id.0
            ),
        };
        match store.forget_source_item(&src.name, key, unlink) {
            Ok(()) if unlink.is_some() => rep.skipped.push((shown, why)),
            Ok(()) => {}
            Err(e) => rep.failures.push((shown, e.to_string())),
        }
    }
}

/// The URLs a source's pages were reached from in one run, for [`follow_moves`].
#[derive(Default)]
struct Reached {
    /// (twin key of the URL asked for, dedup key of the post it gave) for a post reached from
    /// another URL than its own (a redirect).
    redirected: Vec<(String, String)>,
    /// Dedup keys of the posts reached at their own URL.
    direct: HashSet<String>,
}

impl Reached {
    fn note(reached: &std::sync::Mutex<Reached>, location: &str, dedup_key: &str) {
        if !location.starts_with("http") {
            return;
        }
        let key = crate::normalize::twin_key(location);
        let mut r = reached.lock().unwrap_or_else(|p| p.into_inner());
        if key == dedup_key {
            r.direct.insert(key);
        } else {
            r.redirected.push((key, dedup_key.to_owned()));
        }
    }
}

/// A post whose slug changed answers its old URL with a redirect to the new one, which the
/// listing links: one run reaches its page both ways. When the post shows no WordPress post
/// number, its id is its URL, so the new URL made a new entry; the stored one (whose key is the
/// old URL) is that post, moved. The two become one: the stored entry keeps its id and takes the
/// new page (reported as one update). Only an entry this run created is merged, and only when
/// its page was reached at its own URL too: an old URL redirecting elsewhere (a deleted post
/// sent to the home page) merges nothing.
///
/// When the page a stored post's URL redirects to is not reached at its own URL (the listing
/// does not link it: a deleted post sent to the home page or a category), it is not taken for a
/// post: the entry its page made in this run goes (no reader has seen it), the stored one is
/// kept and counts as checked, and a `skipped` line says where the old URL leads.
fn follow_moves(src: &SourceConfig, store: &mut Store, rep: &mut SourceReport, reached: Reached) {
    for (old_key, new_key) in reached.redirected {
        if !reached.direct.contains(&new_key) {
            not_a_move(src, store, rep, &old_key, &new_key);
            continue;
        }
        match store.merge_moved(&old_key, &new_key, &rep.new_ids, Utc::now()) {
            Ok(Some(removed)) => {
                rep.new_ids.retain(|id| *id != removed);
                rep.new = rep.new.saturating_sub(1);
                rep.updated += 1;
            }
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(source = %src.name, "cannot merge the moved post {new_key}: {e}")
            }
        }
    }
}

/// The most stored posts [`look_for_moves`] asks again in one run.
const MOVE_CHECKS: usize = 10;

/// A post whose slug changed is found by the listing at its new URL, and its old URL (the
/// stored entry's) now redirects there. When the post shows no WordPress post number its id is
/// its URL, so the new URL made a new entry, and [`follow_moves`] can make the two one only if
/// this run reached the old URL too, which it does not when the post is too old to be
/// re-checked. So for each new entry of the run whose id is its URL, the stored posts of the
/// source published at the same second with the same title or text (see
/// [`Store::moved_candidates`]) that the run neither reached nor saw listed are asked again,
/// each once (at most [`MOVE_CHECKS`]); one that leads to the new page is noted as reached
/// through that redirect. The title-or-text condition keeps a deleted post that WordPress
/// sends to a similarly named new one (its guess at a mistyped URL) from being merged into it.
async fn look_for_moves(
    src: &SourceConfig,
    fetcher: &Fetcher,
    asks: Vec<(Url, String, String)>,
    reached: &mut Reached,
) {
    for (old, key, new_key) in asks.into_iter().take(MOVE_CHECKS) {
        match fetcher.get(&old).await {
            Ok(f) if crate::normalize::twin_key(f.url.as_str()) == new_key => {
                tracing::debug!(source = %src.name, "{old} now leads to {}", f.url);
                reached.redirected.push((key, new_key));
            }
            Ok(_) => {}
            Err(e) => tracing::debug!(source = %src.name, "{old}: {e} (not a move)"),
        }
    }
}

/// What [`look_for_moves`] asks: `(stored post's URL, its key, the new entry's key)`, read from
/// the store before any request (the store is not held across one).
fn moved_asks(
    src: &SourceConfig,
    store: &Store,
    state: &RunState,
    rep: &SourceReport,
    reached: &Reached,
) -> Vec<(Url, String, String)> {
    let mut asks: Vec<(Url, String, String)> = Vec::new();
    for id in &rep.new_ids {
        let candidates = match store.moved_candidates(&src.name, id, MOVE_CHECKS) {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(source = %src.name, "cannot look for the earlier URL of {}: {e}", id.0);
                continue;
            }
        };
        let new_key = crate::normalize::twin_key(&id.0);
        for (url, key) in candidates {
            // Each stored post is asked once, whichever new entries it might be.
            if reached.direct.contains(&key)
                || state.was_listed(&key)
                || asks.iter().any(|(_, k, _)| *k == key)
            {
                continue;
            }
            if let Ok(old) = Url::parse(&url) {
                asks.push((old, key, new_key.clone()));
            }
        }
    }
    asks
}

/// See [`follow_moves`]: the stored post under `old_key` redirects to the page under
/// `new_key`, which the listing does not link.
fn not_a_move(
    src: &SourceConfig,
    store: &mut Store,
    rep: &mut SourceReport,
    old_key: &str,
    new_key: &str,
) {
    let (Ok(Some(old)), Ok(Some(new))) = (store.get_by_key(old_key), store.get_by_key(new_key))
    else {
        return;
    };
    if old.id == new.id || !rep.new_ids.contains(&new.id) {
        return;
    }
    if let Err(e) = store.forget_new_entry(&new.id) {
        tracing::warn!(source = %src.name, "cannot remove {}: {e}", new.id.0);
        return;
    }
    rep.new_ids.retain(|id| *id != new.id);
    rep.new = rep.new.saturating_sub(1);
    rep.unchanged += 1;
    if let Err(e) = store.touch(old_key, Utc::now()) {
        tracing::warn!(source = %src.name, "cannot mark {} checked: {e}", old.url);
    }
    rep.skipped.push((
        old.url.clone(),
        format!(
            "redirects to {}, a page the listing does not link: not taken for a post (the entry \
             is kept as it was)",
            new.url
        ),
    ));
}

/// The configuration's sources, as a feed item's text needs them (see [`Store::upsert_item`]).
struct Live {
    /// Their names.
    names: HashSet<String>,
    /// Those that read posts from their pages (`html`, `wordpress`, `auto`, `feed` with
    /// `full_text`), with their sites.
    page_readers: Vec<(String, source::site::Site)>,
}

impl Live {
    /// Whether a source other than `src` reads the pages of the site `url` is on: that source
    /// keeps a post's text read from its page up to date, so `src`'s feed items must not
    /// replace it, even before that source links the post (it was renamed, say).
    fn watched(&self, src: &str, url: &str) -> bool {
        let Ok(url) = Url::parse(url) else {
            return false;
        };
        self.page_readers
            .iter()
            .any(|(name, site)| name != src && site.contains(&url))
    }
}

/// The configuration's sources (see [`Live`]).
fn live_sources(cfg: &Config) -> Live {
    let reads_pages = |s: &SourceConfig| match s.kind {
        SourceKind::Html | SourceKind::Wordpress | SourceKind::Auto => true,
        SourceKind::Feed => s.full_text,
        SourceKind::Dir => false,
    };
    Live {
        names: cfg.sources.iter().map(|s| s.name.clone()).collect(),
        page_readers: cfg
            .sources
            .iter()
            .filter(|s| reads_pages(s))
            .filter_map(|s| Some((s.name.clone(), source::site::Site::of(s)?)))
            .collect(),
    }
}

fn apply(
    src: &SourceConfig,
    store: &mut Store,
    state: &RunState,
    results: Vec<(String, Outcome)>,
    rep: &mut SourceReport,
    reading: Reading<'_>,
) -> Result<Tally, StoreBlocked> {
    let before = rep.clone();
    let locations: Vec<String> = results.iter().map(|(l, _)| l.clone()).collect();
    let mut blocking = None;
    match store.batch(|store| apply_each(src, store, state, results, rep, reading, &mut blocking)) {
        Ok(health) => Ok(health),
        Err(e) => {
            if let Some(why) = e.blocks_writes().then(|| e.to_string()).or(blocking) {
                // Nothing can be stored, nor kept pending: the caller stops reading.
                *rep = before;
                return Err(StoreBlocked(why));
            }
            // The first failure inside the batch is often the cause (a full disk, say, after
            // which SQLite rolled the whole batch back): keep it in the reason.
            let first = rep
                .failures
                .get(before.failures.len())
                .map(|(_, why)| why.clone());
            *rep = before;
            let reason = match first {
                Some(first) => {
                    format!("could not be stored: {e} (first error in its batch: {first})")
                }
                None => format!("could not be stored: {e}"),
            };
            for location in locations {
                let pending = reading.api_keys.get(&location).unwrap_or(&location);
                if pending.starts_with("http") {
                    keep_pending(
                        src,
                        store,
                        state,
                        pending,
                        &reason,
                        reading.backfill,
                        &location,
                    );
                }
                rep.failures.push((location, reason.clone()));
            }
            Ok(Tally::default())
        }
    }
}

/// The store cannot be written at all (a full device, a read-only or corrupt database), as a
/// batch found: why, in words. A run stops reading the source rather than fetch what it cannot
/// keep, and says so in one line, not one per post.
struct StoreBlocked(String);

/// The end of a source's read that [`StoreBlocked`] stopped: no validator learnt from its pages
/// is kept (they were not stored: they are read in full next time), and the source's line says
/// what was stored before, then why it stopped.
fn stopped_by_the_store(
    src: &SourceConfig,
    store: &mut Store,
    fetcher: &Fetcher,
    state: &RunState,
    mut rep: SourceReport,
    started: std::time::Instant,
    StoreBlocked(why): StoreBlocked,
) -> SourceReport {
    drop(state.take_updates());
    rep.store_blocked = Some(why.clone());
    let stopped = format!("stopped: the store cannot be written: {why}");
    rep.fatal = Some(stopped.clone());
    finish_source(src, store, fetcher, state, &mut rep, None, Some(started));
    rep.fatal = None;
    rep.fatal = Some(format!("{}; then {stopped}", rep.summary()));
    rep
}

/// [`apply`]'s work, one post after the other, inside the batch's transaction.
fn apply_each(
    src: &SourceConfig,
    store: &mut Store,
    state: &RunState,
    results: Vec<(String, Outcome)>,
    rep: &mut SourceReport,
    reading: Reading<'_>,
    blocking: &mut Option<String>,
) -> Tally {
    let mut tally = Tally::default();
    for (location, outcome) in results {
        match outcome {
            Outcome::Entry(entry, warnings, found, page_key, stand_in) => {
                // Said when what they are about is stored; a post that did not change says
                // them once, not on every run (at debug level then).
                let warn = |stored: bool| {
                    for w in &warnings {
                        if stored {
                            tracing::warn!(source = %src.name, url = %location, "{w}");
                        } else {
                            tracing::debug!(source = %src.name, url = %location, "{w}");
                        }
                    }
                };
                if let Some(f) = found {
                    tally.add(f);
                }
                if let Some(stand_in) = stand_in {
                    warn(true);
                    store_stand_in(src, store, state, rep, &entry, location, stand_in, reading);
                    continue;
                }
                if rep.degraded.is_some() && state.is_known_key(&entry.dedup_key) {
                    // A source that looks broken keeps its last good entries.
                    warn(false);
                    rep.unchanged += 1;
                    continue;
                }
                let mut entry = entry;
                if let Some(id) = reading
                    .files
                    .key(&location)
                    .and_then(|k| reading.files.before.get(k))
                {
                    keep_item_entry_id(store, id, &mut entry);
                }
                // A feed item, or the page read for one (`full_text`: no page key), gives the
                // item's enclosures, none included; anything else read says nothing of them.
                let item_text = (reading.feed_items && found.is_none())
                    .then(|| reading.live.watched(&src.name, &entry.url));
                let enclosures =
                    if reading.feed_items && page_key.is_none() && !reading.enclosures_unknown {
                        EnclosureSay::Given
                    } else {
                        EnclosureSay::Unsaid
                    };
                let read = Read {
                    live: &reading.live.names,
                    item_text,
                    enclosures,
                };
                let upsert = store.upsert_read(&entry, Utc::now(), read);
                warn(!matches!(upsert, Ok(Upsert::Unchanged)));
                match upsert {
                    Ok(Upsert::New) => {
                        rep.new += 1;
                        note_undated(rep, &entry, found.as_ref());
                        rep.new_ids.push(entry.id.clone());
                        note_found(src, store, reading, &entry.id, &location);
                    }
                    Ok(Upsert::Updated) => rep.updated += 1,
                    Ok(Upsert::Unchanged) => rep.unchanged += 1,
                    Err(e) => {
                        if e.blocks_writes() && blocking.is_none() {
                            *blocking = Some(e.to_string());
                        }
                        rep.failures.push((location.clone(), e.to_string()));
                        continue;
                    }
                }
                Reached::note(reading.reached, &location, &entry.dedup_key);
                if let Some(key) = reading.files.key(&location) {
                    match store.set_source_item(&src.name, key, &entry.dedup_key) {
                        Ok(Some(id)) => {
                            let mut now =
                                reading.files.now.lock().unwrap_or_else(|p| p.into_inner());
                            now.insert(key.to_owned(), id);
                        }
                        Ok(None) => {}
                        Err(e) => tracing::warn!(
                            source = %src.name,
                            "cannot record which entry {location} gave: {e}"
                        ),
                    }
                }
                if location.starts_with("http") {
                    let key = crate::normalize::twin_key(&location);
                    if let Err(e) = store.add_alias(&key, &entry.dedup_key) {
                        tracing::warn!(source = %src.name, "cannot record alias {location}: {e}");
                    }
                }
                listing_date_seen(src, store, state, &location);
                for pending in std::iter::once(&location).chain(reading.api_keys.get(&location)) {
                    if let Err(e) = store.remove_pending(&src.name, pending) {
                        tracing::warn!(source = %src.name, "cannot clear pending {pending}: {e}");
                    }
                }
            }
            Outcome::NotModified => {
                rep.unchanged += 1;
                listing_date_seen(src, store, state, &location);
                if let Err(e) = store.touch(&crate::normalize::twin_key(&location), Utc::now()) {
                    tracing::warn!(source = %src.name, "cannot mark {location} checked: {e}");
                }
                let _ = store.remove_pending(&src.name, &location);
            }
            Outcome::Skipped(reason) => {
                let _ = store.remove_pending(&src.name, &location);
                rep.skipped.push((location, reason));
            }
            Outcome::Gone(reason) => {
                listing_date_seen(src, store, state, &location);
                if let Err(e) = store.touch(&crate::normalize::twin_key(&location), Utc::now()) {
                    tracing::warn!(source = %src.name, "cannot mark {location} checked: {e}");
                }
                let _ = store.remove_pending(&src.name, &location);
                rep.skipped.push((location, reason));
            }
            Outcome::Deferred(reason) => {
                defer(src, store, state, rep, location, reason, reading.backfill);
            }
            Outcome::GaveWay { created, reason } => {
                if let Some(id) = created {
                    match store.forget_new_entry(&id) {
                        Ok(()) => {
                            rep.new -= 1;
                            rep.new_ids.retain(|n| *n != id);
                        }
                        Err(e) => tracing::warn!(source = %src.name, "cannot remove {}: {e}", id.0),
                    }
                }
                // What this run reported of that location before is void now.
                let _ = store.remove_pending(&src.name, &location);
                rep.failures.retain(|(l, _)| *l != location);
                rep.skipped.retain(|(l, _)| *l != location);
                rep.failures.push((location, reason));
            }
            Outcome::SamePage { dedup_key } => {
                Reached::note(reading.reached, &location, &dedup_key);
                remember_as(src, store, state, rep, &location, &dedup_key);
            }
            Outcome::Duplicate { dedup_key, reason } => {
                remember_as(src, store, state, rep, &location, &dedup_key);
                rep.failures.push((location, reason));
            }
            Outcome::Failed(reason) => {
                // Only pages feedwright fetched are retried as pages, and REST API posts by id
                // (under their shortlinks); a bad feed item or file is read again from its feed
                // or folder.
                let pending = match reading.api_keys.get(&location) {
                    Some(key) => Some(key),
                    None => {
                        (reading.fetches_pages && location.starts_with("http")).then_some(&location)
                    }
                };
                if let Some(pending) = pending {
                    keep_pending(
                        src,
                        store,
                        state,
                        pending,
                        &reason,
                        reading.backfill,
                        &location,
                    );
                }
                rep.failures.push((location, reason));
            }
        }
    }
    tally
}

/// The enclosures of a `full_text` feed's items whose posts are stored, whose pages are not
/// read again: each item's, checked as `normalize` checks them, go to its entry under the
/// store's rule ([`Store::item_enclosures`]), so an episode whose file the feed changes or
/// withdraws is updated though its page is not fetched. Counted as updates; in one
/// transaction.
fn take_item_enclosures(
    src: &SourceConfig,
    store: &mut Store,
    live: &Live,
    items: Vec<(Url, RawPost)>,
    rep: &mut SourceReport,
) {
    if items.is_empty() {
        return;
    }
    let now = Utc::now();
    let taken = store.batch(|store| {
        let mut updated = 0;
        for (url, item) in &items {
            let mut warnings = Vec::new();
            let enclosures = crate::normalize::enclosures(&item.enclosures, &mut warnings);
            let key = crate::normalize::twin_key(url.as_str());
            match store.item_enclosures(&key, &src.name, &enclosures, &live.names, now) {
                Ok(Some(Upsert::Updated)) => {
                    for w in &warnings {
                        tracing::warn!(source = %src.name, url = %url, "{w}");
                    }
                    updated += 1;
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(
                    source = %src.name,
                    "cannot take the enclosures of the item at {url}: {e}"
                ),
            }
        }
        updated
    });
    match taken {
        Ok(updated) => rep.updated += updated,
        Err(e) => tracing::warn!(source = %src.name, "cannot take its items' enclosures: {e}"),
    }
}

/// A feed item standing in for its page ([`StandIn`]): stored only as a new entry (an entry
/// already stored, under this URL or another, is left as it is), then reported and kept pending
/// as the stand-in says.
#[allow(clippy::too_many_arguments)]
fn store_stand_in(
    src: &SourceConfig,
    store: &mut Store,
    state: &RunState,
    rep: &mut SourceReport,
    entry: &Entry,
    location: String,
    stand_in: StandIn,
    reading: Reading<'_>,
) {
    let for_good = matches!(stand_in, StandIn::Final(_));
    let inserted = match store.insert_if_new(entry, Utc::now(), for_good) {
        Ok(true) => {
            rep.new += 1;
            note_undated(rep, entry, None);
            rep.new_ids.push(entry.id.clone());
            note_found(src, store, reading, &entry.id, &location);
            true
        }
        Ok(false) => {
            // The stored post keeps its text; its item's enclosures are still the item's.
            if !reading.enclosures_unknown {
                let taken = store.item_enclosures(
                    &entry.dedup_key,
                    &src.name,
                    &entry.enclosures,
                    &reading.live.names,
                    Utc::now(),
                );
                match taken {
                    Ok(Some(Upsert::Updated)) => rep.updated += 1,
                    Ok(_) => {}
                    Err(e) => tracing::warn!(
                        source = %src.name,
                        "cannot take the enclosures of the item at {location}: {e}"
                    ),
                }
            }
            false
        }
        Err(e) => {
            rep.failures.push((location, e.to_string()));
            return;
        }
    };
    match stand_in {
        StandIn::Final(why) => {
            if let Err(e) = store.remove_pending(&src.name, &location) {
                tracing::warn!(source = %src.name, "cannot clear pending {location}: {e}");
            }
            rep.skipped.push((location, why));
        }
        StandIn::Pending {
            reason,
            deferred: true,
        } => defer(src, store, state, rep, location, reason, reading.backfill),
        StandIn::Pending { reason, .. } => {
            let meanwhile = if inserted {
                "the feed item's own text stands in"
            } else {
                "the stored entry is kept as it is"
            };
            let reason = format!(
                "full text not fetched: {reason}; {meanwhile} until a later run reads the page"
            );
            keep_pending(
                src,
                store,
                state,
                &location,
                &reason,
                reading.backfill,
                &location,
            );
            rep.failures.push((location, reason));
        }
    }
}

/// `id` was stored as new from `location`: when it is history an unfinished backfill found
/// (stored by the backfill, or a post it left pending), it waits past the heads, recorded in
/// the transaction that stores it (see [`Store::note_backfill_found`]).
fn note_found(
    src: &SourceConfig,
    store: &mut Store,
    reading: Reading<'_>,
    id: &EntryId,
    location: &str,
) {
    let urls: Vec<&str> = std::iter::once(location)
        .chain(reading.api_keys.get(location).map(String::as_str))
        .collect();
    if let Err(e) = store.note_backfill_found(&src.name, id, &urls, reading.backfill) {
        tracing::warn!(source = %src.name, "cannot record what the backfill found: {e}");
    }
}

/// The pending posts of `src` that are REST API posts kept pending under their shortlinks
/// (see `wordpress::shortlink`): by post id, the URL each is pending under. A page of a site
/// with plain permalinks (`/?p=ID`) has that form too: read through the API, it is that post.
fn api_pending_ids(src: &SourceConfig, pending: &[String]) -> HashMap<u64, String> {
    let site = source::own_site(src);
    pending
        .iter()
        .filter_map(|url| Some((source::wordpress::shortlink_id(url, &site)?, url.clone())))
        .collect()
}

/// The URL the REST API post `id`, at `link`, is kept pending under when it fails: the one it
/// is pending under already, else its shortlink.
fn api_key(api_pending: &HashMap<u64, String>, link: &Url, id: u64) -> String {
    api_pending
        .get(&id)
        .cloned()
        .unwrap_or_else(|| source::wordpress::shortlink(link, id).to_string())
}

/// Keep pending the REST API posts that could not be read at all (their JSON), so that the
/// next read asks for them again by id; they are reported with the index's failures.
/// `backfill`: a backfill met them (see [`Store::keep_pending`]).
fn keep_api_failures(
    src: &SourceConfig,
    store: &mut Store,
    state: &RunState,
    api_pending: &HashMap<u64, String>,
    failed: &[source::wordpress::FailedPost],
    backfill: bool,
) {
    for f in failed {
        let key = api_key(api_pending, &f.link, f.id);
        keep_pending(
            src,
            store,
            state,
            &key,
            &f.reason,
            backfill,
            f.link.as_str(),
        );
    }
}

/// Keep `url` pending for `reason` (`backfill`: see [`Store::keep_pending`]). When that cannot
/// be recorded it is said, naming the post as `shown`, and the run is marked so that its pages
/// are read in full next time ([`RunState::note_unrecorded`]).
fn keep_pending(
    src: &SourceConfig,
    store: &mut Store,
    state: &RunState,
    url: &str,
    reason: &str,
    backfill: bool,
    shown: &str,
) {
    if let Err(e) = store.keep_pending(&src.name, url, reason, Utc::now(), backfill) {
        tracing::warn!(source = %src.name, "cannot record pending {shown}: {e}");
        state.note_unrecorded();
    }
}

/// A post left for the next run (budget, `Retry-After`, interrupt): kept pending, not a failure.
/// `backfill`: a backfill left it (see [`Store::keep_pending`]).
fn defer(
    src: &SourceConfig,
    store: &mut Store,
    state: &RunState,
    rep: &mut SourceReport,
    location: String,
    reason: String,
    backfill: bool,
) {
    rep.deferred += 1;
    keep_pending(src, store, state, &location, &reason, backfill, &location);
    // Several hosts may ask to wait: name the same one whatever finished first.
    if reason.contains("Retry-After")
        && rep
            .fatal
            .as_ref()
            .is_none_or(|f| f.contains("Retry-After") && reason < *f)
    {
        rep.fatal = Some(reason);
    }
}

/// The post at `location` was fetched again in this run: when a listing card's date was why,
/// that date is recorded as acted on, so it does not make the post fetched again next run when
/// the fetch found no edit.
fn listing_date_seen(src: &SourceConfig, store: &mut Store, state: &RunState, location: &str) {
    if let Some(at) = state.listed_modified_at(location)
        && let Err(e) = store.set_listed_modified(&crate::normalize::twin_key(location), at)
    {
        tracing::warn!(source = %src.name, "cannot record the listing date of {location}: {e}");
    }
}

/// Remember the page at `location` as the entry `dedup_key`'s, so it is not fetched again as a
/// new post, and no longer pending. A source that looks broken learns nothing about the entries
/// it had.
fn remember_as(
    src: &SourceConfig,
    store: &mut Store,
    state: &RunState,
    rep: &SourceReport,
    location: &str,
    dedup_key: &str,
) {
    let keep_as_is = rep.degraded.is_some() && state.is_known_key(dedup_key);
    if location.starts_with("http") && !keep_as_is {
        let key = crate::normalize::twin_key(location);
        if let Err(e) = store.add_alias(&key, dedup_key) {
            tracing::warn!(source = %src.name, "cannot record alias {location}: {e}");
        }
        // It was fetched: a listing date that asked for it is answered.
        listing_date_seen(src, store, state, location);
    }
    let _ = store.remove_pending(&src.name, location);
}

/// Has extraction drifted (a redesign)? A listing page without post links, or a field found on
/// less than half as many posts as in the last healthy run, says so. Runs that extracted
/// nothing say nothing.
fn drift(
    src: &SourceConfig,
    store: &Store,
    empty_pages: &[String],
    found: &Tally,
    state: &RunState,
) -> Option<String> {
    if let Some(page) = empty_pages.first() {
        let hint = if src.selectors.item_link.is_some() {
            "its [source.selectors] item_link matches no link there: check it against the page"
        } else {
            "if the site's markup is unusual or changed, set [source.selectors] item_link to a \
             CSS selector matching its post links"
        };
        // The site's own feed may read its posts where its markup cannot.
        let feed = state
            .advertised_feed(page)
            .map(|f| {
                format!(
                    "; the page advertises a feed, {f}: a source with kind = \"feed\" and that \
                     url reads the posts the feed lists"
                )
            })
            .unwrap_or_default();
        return Some(format!(
            "{}{page} answered but yielded no post links ({hint}{feed})",
            crate::store::LISTING_DEGRADED
        ));
    }
    if found.extracted == 0 {
        return None;
    }
    let last = store.last_healthy_run(&src.name).ok().flatten()?;
    let now = found.fill();
    let fields: [(&str, f64, f64); 4] = [
        ("title", last.fill.title, now.title),
        ("date", last.fill.date, now.date),
        ("author", last.fill.author, now.author),
        ("categories", last.fill.categories, now.categories),
    ];
    fields.iter().find(|(_, before, now)| *before > 0.0 && *now < before / 2.0).map(|(name, before, now)| {
        format!(
            "{name} found on {:.0}% of the posts extracted in this run, against {:.0}% in the last healthy run",
            now * 100.0,
            before * 100.0
        )
    })
}

/// Save what the run learnt (validators, health) and decide the source's state.
fn finish_source(
    src: &SourceConfig,
    store: &mut Store,
    fetcher: &Fetcher,
    state: &RunState,
    rep: &mut SourceReport,
    health: Option<RunHealth>,
    started: Option<std::time::Instant>,
) {
    let stats = fetcher.stats();
    rep.requests = stats.requests;
    rep.not_modified = stats.not_modified;
    rep.bytes = stats.bytes;
    rep.interrupted |= fetcher.cut_by_interrupt();
    if rep.interrupted {
        // Cut short by an interrupt: what it stored stays, but it is no run of the source (as a
        // daemon's job dropped when it stops): no health, no last success or error, no
        // validators, no stored posts linked. Its walk is marked incomplete (or its backfill
        // keeps its place), so the next run reads what this one left.
        return;
    }
    let now = Utc::now();
    // One transaction for all of them (a cold run learns one pair per page fetched).
    let own_url = index_url(src);
    // Not from a run that looks broken (a redesign, a category now redirecting elsewhere): the
    // links it found may not be the source's posts.
    let listed_known = if rep.degraded.is_none() && rep.fatal.is_none() {
        state.take_listed_known()
    } else {
        Vec::new()
    };
    if state.has_unrecorded() {
        // What the run fetched is read in full again next time, so the unrecorded posts are
        // found where the listing shows them.
        tracing::warn!(source = %src.name, "a failed post could not be recorded for retry: the pages read in this run are read in full next time");
        drop(state.take_updates());
    }
    let saved = store.batch(|store| {
        match store.link_listed(&src.name, &listed_known) {
            Ok(added) => rep.linked += added,
            Err(e) => {
                tracing::warn!(source = %src.name, "cannot link the stored posts it lists: {e}");
            }
        }
        if let Some(d) = state.first_listing_description()
            && let Err(e) = store.set_site_description(&src.name, d.as_deref(), now)
        {
            tracing::warn!(source = %src.name, "cannot save its site's description: {e}");
        }
        for (url, v) in state.take_updates() {
            let (etag, last_modified) = (v.etag.as_deref(), v.last_modified.as_deref());
            let saved = if own_url.as_deref() == Some(url.as_str()) {
                store.index_validators_put(&src.name, &url, etag, last_modified, now)
            } else {
                store.http_cache_put(&url, etag, last_modified, now)
            };
            if let Err(e) = saved {
                tracing::warn!(source = %src.name, "cannot save validators of {url}: {e}");
            }
        }
    });
    if let Err(e) = saved {
        // Nothing lost but a 304 next time: those pages are fetched in full again.
        tracing::warn!(source = %src.name, "cannot save the validators learnt in this run: {e}");
    }
    let state_name = if rep.fatal.is_some() {
        "failing"
    } else if rep.degraded.is_some() {
        "degraded"
    } else {
        "healthy"
    };
    let mut h = health.unwrap_or_default();
    h.requests = stats.requests;
    h.not_modified = stats.not_modified;
    h.bytes = stats.bytes;
    h.seen = (rep.new + rep.updated + rep.unchanged) as u32;
    h.new = rep.new as u32;
    h.updated = rep.updated as u32;
    // What stopped the source (its listing, feed or API page, or the site itself) is a failed
    // fetch too, though it is reported apart from the posts' failures.
    h.failures = rep.failures.len() as u32 + u32::from(rep.fatal.is_some());
    h.state = if state_name == "healthy" && h.extracted == 0 {
        "neutral".into()
    } else {
        state_name.into()
    };
    let result = (|| {
        store.record_run_health(&src.name, now, &h)?;
        store.add_fetch_statuses(&src.name, &stats.by_status)?;
        if let Some(t0) = started {
            store.set_last_run_duration(&src.name, t0.elapsed())?;
        }
        if let Err(e) = store.fold_old_runs(&src.name) {
            // Only the history's size is at stake: the next run folds it.
            tracing::warn!(source = %src.name, "cannot fold old runs into their totals: {e}");
        }
        // Failures can be listing pages as well as posts: say how many, and one of them, the
        // same whatever order they finished in (the first by location).
        let error = rep.fatal.clone().or_else(|| {
            rep.failures.iter().min().map(|(location, reason)| {
                format!("{} failed, first {location}: {reason}", rep.failures.len())
            })
        });
        // A run that looks degraded read the source but is no success (a maintenance page
        // answering 200 must not hide how long the source has been broken).
        if error.is_none() && rep.degraded.is_some() {
            store.record_degraded_run(&src.name, now)?;
        } else {
            store.record_source_run(&src.name, now, error.as_deref())?;
        }
        // A neutral run (only 304s or known posts) keeps a degraded state: only extracted posts
        // say whether extraction works again. But it reached the source: not failing any more.
        if h.state != "neutral" {
            let reason = rep.fatal.as_deref().or(rep.degraded.as_deref());
            store.set_source_health(&src.name, state_name, reason, now)?;
        } else {
            store.clear_failing(&src.name)?;
            // A listing that gave no post links does again: that reason is gone.
            if rep.listing_links && store.clear_listing_degraded(&src.name)? {
                tracing::info!(source = %src.name, "its listing gives post links again: healthy");
            }
        }
        if let Some(why) = &rep.degraded
            && store.should_warn(&src.name, now)?
        {
            tracing::warn!(
                source = %src.name,
                "source looks degraded ({why}); its feeds keep the last good entries"
            );
        }
        Ok::<_, crate::store::StoreError>(())
    })();
    if let Err(e) = result {
        tracing::warn!(source = %src.name, "cannot record the run: {e}");
        if e.blocks_writes() && rep.store_blocked.is_none() {
            rep.store_blocked = Some(e.to_string());
        }
    }
}

/// Fetch (if needed), extract and normalize one post. CPU work runs on the blocking pool so
/// that both cores parse while requests are in flight.
async fn process(
    work: Work,
    src: &SourceConfig,
    fetcher: &Fetcher,
    state: &RunState,
) -> (String, Outcome) {
    let failed = |url: &Url, e: FetchError| {
        let outcome = if e.is_skip() {
            Outcome::Skipped(e.to_string())
        } else if matches!(
            e,
            FetchError::Budget(_) | FetchError::WaitTooLong { .. } | FetchError::Interrupted
        ) {
            Outcome::Deferred(e.to_string())
        } else {
            Outcome::Failed(e.to_string())
        };
        (url.to_string(), outcome)
    };
    let (page, item, file) = match work {
        Work::Post(url, raw, at) => return in_hand(url.to_string(), url, raw, at, src).await,
        Work::InFile(file, url, raw, at) => return in_hand(file, url, raw, at, src).await,
        Work::Page(file, page) => (page, None, Some(file)),
        Work::Fetch {
            url,
            recheck,
            retry,
        } => {
            // A post URL from an earlier run (pending, or stored and due for a re-check) may be
            // on another site than the source's now: it is not read for this source.
            if source::site::Site::of(src).is_some_and(|site| !site.contains(&url)) {
                let why = "on another site than this source's: not read".to_owned();
                return (url.to_string(), Outcome::Skipped(why));
            }
            let fetched = if recheck {
                source::fetch_if_changed(fetcher, state, &url).await
            } else {
                source::fetch_page_remembering(fetcher, state, &url)
                    .await
                    .map(Some)
            };
            match fetched {
                Ok(Some(p)) => (p, None, None),
                Ok(None) => return (url.to_string(), Outcome::NotModified),
                Err(FetchError::Status(code @ (404 | 410))) if retry && !state.is_known(&url) => {
                    // A post that failed before and is now gone (deleted, or never a post):
                    // stop retrying it rather than failing every run from now on.
                    let why = format!(
                        "gone (HTTP status {code}) after failing earlier; no longer retried"
                    );
                    return (url.to_string(), Outcome::Skipped(why));
                }
                // A stored post (re-checked, or pending after a failed re-check) that is gone.
                Err(FetchError::Status(code @ (404 | 410))) if recheck || retry => {
                    let why = format!(
                        "gone (HTTP status {code}) on re-check; its entry is kept as last stored"
                    );
                    return (url.to_string(), Outcome::Gone(why));
                }
                Err(e) => return failed(&url, e),
            }
        }
        Work::FullText { url, item, retry } => match source::fetch_page(fetcher, &url).await {
            Ok(p) => (p, Some(item), None),
            Err(e) => return full_text_failed(url, item, retry, e, src).await,
        },
    };
    // Only a page fetched from the site can be reached through two URLs (a redirect); a file
    // or a feed item's page is its own post, left to the duplicate rule.
    let page_key =
        (file.is_none() && item.is_none()).then(|| crate::normalize::twin_key(page.url.as_str()));
    let location = file.unwrap_or_else(|| page.requested_url.to_string());
    // A feed item is stored from its own text if its page yields no post (as a new entry only).
    let fallback = item.clone().map(|item| (page.requested_url.clone(), item));
    if let Some((url, item)) = &fallback
        && let Err(e) = crate::extract::check_content_type(&page)
    {
        // A PDF or an image is never a post: the item is the entry.
        let why = format!("{e}: the feed item is the entry");
        return excerpt(url.clone(), item.clone(), StandIn::Final(why), src).await;
    }
    let selectors = src.selectors.clone();
    let name = src.name.clone();
    let day_zone = day_zone(src);
    let listing_descriptions = state.listing_descriptions();
    let result = crate::cpu::blocking(move || {
        let mut raw = crate::extract::extract_post(&page, &selectors).map_err(|e| e.to_string())?;
        // The site's description, repeated on every page, is no summary of this post.
        if raw
            .summary
            .as_ref()
            .is_some_and(|s| listing_descriptions.contains(s))
        {
            raw.summary = None;
        }
        let mut found = Found {
            title: raw.title.as_deref().is_some_and(|t| !t.trim().is_empty()),
            date: false,
            author: !raw.authors.is_empty(),
            categories: !raw.categories.is_empty(),
        };
        let raw = match item {
            Some(item) => source::feed::merge(raw, item),
            None => raw,
        };
        // A date the page gave counts as found even when it was ahead of our clock (clamped to
        // the fetch, with the provenance of a first sighting): a site whose clock runs a little
        // fast is no sign of a redesign.
        let gave_date = raw
            .published
            .iter()
            .chain(&raw.modified)
            .any(|d| crate::normalize::parse_date(&d.value).is_some());
        let (entry, warnings) =
            crate::normalize::normalize_in(&page.url, raw, &name, page.fetched_at, day_zone)
                .map_err(|e| e.to_string())?;
        found.date = gave_date || entry.published_source != crate::model::DateSource::FirstSeen;
        Ok((entry, warnings, found))
    })
    .await;
    let outcome = match result {
        Ok((entry, warnings, found)) => {
            Outcome::Entry(Box::new(entry), warnings, Some(found), page_key, None)
        }
        Err(reason) => match fallback {
            Some((url, item)) => {
                let stand_in = StandIn::Pending {
                    reason,
                    deferred: false,
                };
                return excerpt(url, item, stand_in, src).await;
            }
            None => Outcome::Failed(reason),
        },
    };
    (location, outcome)
}

/// The page of a feed item (`full_text = true`) could not be fetched: the item is stored from
/// its own text ([`StandIn`], as a new entry only: a stored entry is left as it is), its page
/// left pending unless it is out of reach for good (robots.txt, or gone on a retry).
async fn full_text_failed(
    url: Url,
    item: RawPost,
    retry: bool,
    e: FetchError,
    src: &SourceConfig,
) -> (String, Outcome) {
    let stand_in = match e {
        e if e.is_skip() => StandIn::Final(format!("{e}: the feed item is the entry")),
        FetchError::Status(code @ (404 | 410)) if retry => StandIn::Final(format!(
            "gone (HTTP status {code}) after failing earlier; no longer retried, the feed item \
             is the entry"
        )),
        e => StandIn::Pending {
            deferred: matches!(
                e,
                FetchError::Budget(_) | FetchError::WaitTooLong { .. } | FetchError::Interrupted
            ),
            reason: e.to_string(),
        },
    };
    excerpt(url, item, stand_in, src).await
}

/// A feed item stored from its own text instead of its page.
async fn excerpt(
    url: Url,
    item: RawPost,
    stand_in: StandIn,
    src: &SourceConfig,
) -> (String, Outcome) {
    let (location, mut outcome) = in_hand(url.to_string(), url, item, Utc::now(), src).await;
    if let Outcome::Entry(.., slot) = &mut outcome {
        *slot = Some(stand_in);
    }
    (location, outcome)
}

/// Normalize a post already in hand (a feed item, a Markdown file), reported under `location`.
async fn in_hand(
    location: String,
    url: Url,
    raw: RawPost,
    at: DateTime<Utc>,
    src: &SourceConfig,
) -> (String, Outcome) {
    let name = src.name.clone();
    let day_zone = day_zone(src);
    let result = crate::cpu::blocking(move || {
        crate::normalize::normalize_in(&url, raw, &name, at, day_zone).map_err(|e| e.to_string())
    })
    .await;
    (location, to_outcome(result, None))
}

/// Where a date a source gives without a time of day is that day (see
/// [`SourceConfig::day_zone`]).
fn day_zone(src: &SourceConfig) -> chrono_tz::Tz {
    src.day_zone
        .or(src.local_zone)
        .unwrap_or(chrono_tz::Tz::UTC)
}

fn to_outcome(result: Result<(Entry, Vec<String>), String>, found: Option<Found>) -> Outcome {
    match result {
        Ok((entry, warnings)) => Outcome::Entry(Box::new(entry), warnings, found, None, None),
        Err(reason) => Outcome::Failed(reason),
    }
}

/// Walk the whole archive of `src`, page by page, storing every post not stored yet. Resumable:
/// after each listing page the next one is saved, so an interrupted backfill (killed, or out of
/// request budget) continues there, and posts already stored are never fetched again.
pub async fn backfill_source(
    cfg: &Config,
    src: &SourceConfig,
    store: &mut Store,
    fetcher: &Fetcher,
    progress: &dyn Progress,
) -> SourceReport {
    let first_read = store.entry_count(&src.name).is_ok_and(|n| n == 0);
    let rep = backfill_read(cfg, src, store, fetcher, progress).await;
    warn_undated(src, store, &rep, first_read);
    rep
}

/// [`backfill_source`], without the warning about a first read without dates.
async fn backfill_read(
    cfg: &Config,
    src: &SourceConfig,
    store: &mut Store,
    fetcher: &Fetcher,
    progress: &dyn Progress,
) -> SourceReport {
    let mut rep = SourceReport {
        source: src.name.clone(),
        ..Default::default()
    };
    fetcher.reset_budget();
    fetcher.set_site(source::site::Site::of(src));
    fetcher.set_auth(source::http::BasicAuth::of(&src.url));
    if src.kind == SourceKind::Dir {
        // A folder is read whole on every run: nothing to backfill.
        return read_source(cfg, src, store, fetcher, progress).await;
    }
    rep.site_moved = identity::follow_site_move(src, store);
    let state = run_state_for(src, store);
    let live = live_sources(cfg);
    seed_robots(store, fetcher);
    let resumed = store.backfill_get(&src.name).ok().flatten();
    // The source's own page, when looking for a REST API fetched it: the walk's first page.
    let mut first_page = None;
    if let Some(done) = backfill_wordpress(
        src,
        store,
        fetcher,
        &state,
        &mut rep,
        progress,
        &live,
        resumed.as_ref(),
        &mut first_page,
    )
    .await
    {
        save_robots(store, fetcher);
        let health = RunHealth {
            extracted: done,
            ..Default::default()
        };
        finish_source(src, store, fetcher, &state, &mut rep, Some(health), None);
        return rep;
    }
    if fetcher.cut_by_interrupt() {
        // Interrupted before the API or the listing was read: the backfill keeps its place (a
        // walk would begin one).
        finish_source(src, store, fetcher, &state, &mut rep, None, None);
        return rep;
    }
    // The REST API's own progress, when it gave up, was cleared: read it again. What it stored
    // before giving up is known now: the walk links those posts without fetching them again.
    let state = run_state_for(src, store);
    let resumed = store.backfill_get(&src.name).ok().flatten();
    let (mut next, mut pages) = match &resumed {
        Some((url, pages)) => {
            tracing::info!(source = %src.name, "resuming the backfill at {url} (page {})", pages + 1);
            (Url::parse(url).ok(), *pages)
        }
        None => (Url::parse(&src.url).ok(), 0),
    };
    let mut health = RunHealth::default();
    let mut previous_body = String::new();
    // Pages read and feed items met by this backfill: a `next` link back to a page already
    // read, or a feed page with no item not met before (a feed that ignores `paged`), is the
    // end, not a loop until the request budget is gone (and resumed inside it next time).
    let mut visited: HashSet<String> = HashSet::new();
    let mut met: HashSet<String> = HashSet::new();
    // Did the last listing page read show no link to a next page (the walk's end)?
    let mut no_next_link = false;
    while let Some(url) = next.take() {
        no_next_link = false;
        if !visited.insert(crate::normalize::twin_key(url.as_str())) {
            break;
        }
        if let Err(e) = store.backfill_put(&src.name, url.as_str(), pages, Utc::now()) {
            tracing::warn!(source = %src.name, "cannot save backfill progress: {e}");
        }
        let prefetched = first_page
            .take()
            .filter(|_| Url::parse(&src.url).is_ok_and(|start| start == url));
        let fetched = match prefetched {
            Some(f) => Ok(f),
            None => fetcher.get(&url).await,
        };
        let mut page = match fetched {
            Ok(f) => {
                if pages == 0 {
                    // Page 1's validators let the next regular run start warm.
                    state.remember(&url, &f);
                }
                source::to_page(&url, f)
            }
            Err(FetchError::Status(404)) if pages > 0 => break,
            // Interrupted: the next backfill reads this page (its place is saved).
            Err(FetchError::Interrupted) => {
                save_robots(store, fetcher);
                finish_source(src, store, fetcher, &state, &mut rep, Some(health), None);
                return rep;
            }
            Err(e) => {
                if matches!(e, FetchError::Budget(_)) {
                    rep.backfill_left_at = Some(url.to_string());
                } else if pages == 0 && e.is_unreachable() {
                    rep.fatal = Some(format!("site could not be reached ({url}): {e}"));
                } else {
                    rep.fatal = Some(format!("{url}: {e}"));
                }
                save_robots(store, fetcher);
                finish_source(src, store, fetcher, &state, &mut rep, Some(health), None);
                return rep;
            }
        };
        if page.body == previous_body {
            // A site that ignores the page parameter answers the same page again: the end.
            break;
        }
        let mut enclosures_unknown = false;
        let (posts, following, is_feed) =
            if source::looks_like_feed(page.content_type.as_deref(), page.body.as_bytes())
                || src.kind == SourceKind::Feed
            {
                let fetched = source::Fetched {
                    url: page.url.clone(),
                    status: 200,
                    content_type: page.content_type.clone(),
                    body: page.body.clone().into_bytes(),
                    headers: Default::default(),
                    fetched_at: page.fetched_at,
                };
                let parsed =
                    source::feed::parse(&url, &fetched, &source::own_site(src)).map(|items| {
                        rep.skipped.extend(items.skipped);
                        enclosures_unknown = items.enclosures_unknown;
                        // An id found on several items, on this page or before, gives no
                        // post number (see `untrusted_item_ids`).
                        let untrusted = untrusted_item_ids(
                            src,
                            store,
                            &items.ids,
                            &HashMap::new(),
                            &HashSet::new(),
                        );
                        let mut posts = items.posts;
                        forget_untrusted_numbers(&mut posts, &items.ids, &untrusted);
                        posts
                    });
                match parsed {
                    Ok(items)
                        if items
                            .iter()
                            .filter(|(u, _)| met.insert(crate::normalize::twin_key(u.as_str())))
                            .count()
                            > 0 =>
                    {
                        let work = item_work(src, &state, items, page.fetched_at);
                        (work, source::feed::next_archive_page(&url), true)
                    }
                    Ok(_) => (Vec::new(), None, true),
                    Err(e) => {
                        rep.failures.push((url.to_string(), e));
                        (Vec::new(), None, true)
                    }
                }
            } else {
                let listing = match source::scrape::read_listing(page, src).await {
                    Ok((read, listing)) => {
                        page = read;
                        state.note_listing_description(&listing, false);
                        listing
                    }
                    Err((url, e)) => {
                        // Like a page that could not be fetched: the next backfill starts here.
                        rep.fatal = Some(format!("{url}: {e}"));
                        save_robots(store, fetcher);
                        finish_source(src, store, fetcher, &state, &mut rep, Some(health), None);
                        return rep;
                    }
                };
                if let Some(why) = listing.left_out_reason() {
                    rep.skipped.push((url.to_string(), why));
                }
                let listing = scrape::on_site(listing, &source::own_site(src));
                let work = listing
                    .posts
                    .into_iter()
                    .filter(|u| !state.is_listed_known(u))
                    .map(|url| Work::Fetch {
                        url,
                        recheck: false,
                        retry: false,
                    })
                    .collect();
                if listing.next.is_none() {
                    tracing::debug!(
                        source = %src.name,
                        url = %url,
                        "listing page shows no link to a next page; backfill ends"
                    );
                    no_next_link = true;
                }
                (work, listing.next, false)
            };
        let batch = BackfillBatch {
            page: &url,
            work: posts,
            fetches_pages: !is_feed || src.full_text,
            feed_items: is_feed,
            enclosures_unknown,
            live: &live,
            api_keys: HashMap::new(),
        };
        let (extracted, out_of_budget) =
            store_backfill_work(batch, src, store, fetcher, &state, &mut rep, progress).await;
        health.extracted += extracted;
        if out_of_budget {
            save_robots(store, fetcher);
            finish_source(src, store, fetcher, &state, &mut rep, Some(health), None);
            return rep;
        }
        pages += 1;
        next = following;
        previous_body = page.body;
    }
    if let Err(e) = store.backfill_clear(&src.name) {
        tracing::warn!(source = %src.name, "cannot clear backfill progress: {e}");
    }
    save_robots(store, fetcher);
    if pages == 1 && no_next_link {
        // One page can be the whole listing, or a next-page link feedwright does not know.
        tracing::info!(
            source = %src.name,
            "backfill complete after 1 page: page 1 shows no link to a next page that \
             feedwright recognises; if the site has more, set [source.selectors] next_page to \
             a CSS selector matching its next-page link"
        );
    } else {
        tracing::info!(source = %src.name, "backfill complete after {pages} page(s)");
    }
    finish_source(src, store, fetcher, &state, &mut rep, Some(health), None);
    rep
}

/// One page of a backfill: the work for its posts not stored yet, and how they are read (the
/// fields of [`Reading`] that differ between a listing, a feed and the REST API).
struct BackfillBatch<'a> {
    /// The listing, feed or API page the work came from: read again next time when the request
    /// budget runs out.
    page: &'a Url,
    work: Vec<Work>,
    fetches_pages: bool,
    feed_items: bool,
    /// As [`Reading::enclosures_unknown`].
    enclosures_unknown: bool,
    live: &'a Live,
    /// As [`Reading::api_keys`].
    api_keys: HashMap<String, String>,
}

/// Do a backfill page's work, a bounded number of posts in flight (twice the per-host
/// concurrency, at least 2), and store each result as it arrives, so a backfill killed
/// loses at most the posts in flight. Every result ticks `progress`. Returns the posts extracted
/// and whether the request budget ran out on the way, or the run was interrupted (no post
/// fetched after it, those in flight stored); when the budget ran out, logs that the backfill
/// continues at the batch's page next time (the caller then stops, and the posts stored now are
/// skipped when the page is read again).
async fn store_backfill_work(
    batch: BackfillBatch<'_>,
    src: &SourceConfig,
    store: &mut Store,
    fetcher: &Fetcher,
    state: &RunState,
    rep: &mut SourceReport,
    progress: &dyn Progress,
) -> (u32, bool) {
    progress.add_total(batch.work.len() as u64);
    let dropped = std::sync::atomic::AtomicBool::new(false);
    let mut results = futures_util::stream::iter(batch.work)
        .filter(|w| std::future::ready(unless_interrupted(w, fetcher, &dropped)))
        .map(|w| process(w, src, fetcher, state))
        .buffer_unordered((fetcher.per_host_concurrency() * 2).max(2));
    let mut extracted = 0;
    let mut out_of_budget = false;
    while let Some(result) = results.next().await {
        progress.tick();
        out_of_budget |= matches!(result.1, Outcome::Deferred(_));
        let reading = Reading {
            fetches_pages: batch.fetches_pages,
            feed_items: batch.feed_items,
            enclosures_unknown: batch.enclosures_unknown,
            live: batch.live,
            reached: &Default::default(),
            files: &Default::default(),
            api_keys: &batch.api_keys,
            backfill: true,
        };
        match apply(src, store, state, vec![result], rep, reading) {
            Ok(tally) => extracted += tally.extracted,
            Err(StoreBlocked(why)) => {
                // Stopped where it is: the next backfill goes on from this page.
                rep.fatal = Some(format!("stopped: the store cannot be written: {why}"));
                return (extracted, true);
            }
        }
    }
    rep.interrupted |=
        dropped.load(std::sync::atomic::Ordering::SeqCst) || fetcher.cut_by_interrupt();
    if out_of_budget && !rep.interrupted {
        let url = batch.page;
        tracing::info!(source = %src.name, "request budget used up; the backfill continues at {url} next time");
    }
    (extracted, out_of_budget || rep.interrupted)
}

/// A backfill's work for the items of a feed or API page not stored yet: each item as it is,
/// or its page to read when `full_text`.
fn item_work(
    src: &SourceConfig,
    state: &RunState,
    items: Vec<(Url, RawPost)>,
    at: DateTime<Utc>,
) -> Vec<Work> {
    items
        .into_iter()
        .filter(|(u, _)| !state.is_listed_known(u))
        .map(|(u, raw)| {
            if src.full_text {
                Work::FullText {
                    url: u,
                    item: raw,
                    retry: false,
                }
            } else {
                Work::Post(u, raw, at)
            }
        })
        .collect()
}

/// Backfill through the WordPress REST API when the source offers it: the category's posts,
/// 100 a request, newest published first, each page stored before the next is read. Progress is
/// saved per page (the page to read next), so a backfill stopped by the request budget, a
/// failure or a crash resumes there. Returns `None` to walk the listing instead (no API, or the
/// API refuses its first page); `Some(posts extracted)` when the API was read. `resumed` is the
/// saved progress, if any: a listing walk's is left to the walk.
#[allow(clippy::too_many_arguments)]
async fn backfill_wordpress(
    src: &SourceConfig,
    store: &mut Store,
    fetcher: &Fetcher,
    state: &RunState,
    rep: &mut SourceReport,
    progress: &dyn Progress,
    live: &Live,
    resumed: Option<&(String, u32)>,
    first_page: &mut Option<source::Fetched>,
) -> Option<u32> {
    if !matches!(src.kind, SourceKind::Wordpress | SourceKind::Auto)
        || resumed.is_some_and(|(url, _)| !source::wordpress::may_be_backfill_url(url))
    {
        return None;
    }
    let start = Url::parse(&src.url).ok()?;
    let first = fetcher.get(&start).await.ok()?;
    if source::looks_like_feed(first.content_type.as_deref(), &first.body) {
        *first_page = Some(first);
        return None;
    }
    let Some(root) = source::wordpress_root(src, &start, &first).await else {
        // No REST API: the walk reads this page first, not again.
        *first_page = Some(first);
        return None;
    };
    let place = resumed.map(|(url, _)| source::wordpress::backfill_place(&root, url));
    let (category, mut page) = match place {
        Some(Some(place)) => {
            tracing::info!(source = %src.name, "resuming the backfill through the REST API at page {}", place.1);
            place
        }
        // A listing walk's progress: the walk goes on.
        Some(None) => {
            *first_page = Some(first);
            return None;
        }
        None => match source::wordpress::listing_category(fetcher, &root, &start).await {
            Ok(id) => (id, 1),
            Err(e) => {
                *first_page = Some(first);
                return wordpress_refused(src, rep, e);
            }
        },
    };
    state.remember(&start, &first);
    let site = source::own_site(src);
    let mut extracted = 0;
    // Pages of 100 too large for `http.max_body_bytes` are asked for as smaller ones from then on.
    let mut page_cap = source::wordpress::PER_PAGE;
    loop {
        let url = source::wordpress::backfill_url(&root, category, page);
        if let Err(e) = store.backfill_put(&src.name, url.as_str(), page - 1, Utc::now()) {
            tracing::warn!(source = %src.name, "cannot save backfill progress: {e}");
        }
        let read =
            match source::wordpress::backfill_page(fetcher, &root, &site, category, page, page_cap)
                .await
            {
                Ok(r) => r,
                Err(source::wordpress::WpError::Fetch {
                    error: FetchError::Budget(_),
                    ..
                }) => {
                    rep.backfill_left_at = Some(url.to_string());
                    return Some(extracted);
                }
                // Interrupted: the next backfill reads this page (its place is saved).
                Err(source::wordpress::WpError::Fetch {
                    error: FetchError::Interrupted,
                    ..
                }) => return Some(extracted),
                Err(e) if e.falls_back() => {
                    // The API went away (or never answered): the listing walk starts afresh,
                    // and what the API gave still waits until it is complete.
                    if let Err(e) = store.backfill_restart(&src.name) {
                        tracing::warn!(source = %src.name, "cannot clear backfill progress: {e}");
                    }
                    return wordpress_refused(src, rep, e);
                }
                Err(e) => {
                    // Kept: the next backfill starts again at this page.
                    rep.fatal = Some(format!(
                        "{e} (the backfill continues at this page next time)"
                    ));
                    return Some(extracted);
                }
            };
        page_cap = read.page_cap;
        rep.failures.extend(read.failures);
        rep.skipped.extend(read.skipped);
        // A post that fails is kept pending under its shortlink, as a refresh keeps it: the
        // next refresh asks the API for it again by id.
        let no_pending = HashMap::new();
        keep_api_failures(src, store, state, &no_pending, &read.failed_posts, true);
        let api_keys = read
            .posts
            .iter()
            .filter_map(|(u, raw)| Some((u.to_string(), api_key(&no_pending, u, raw.wp_post_id?))))
            .collect();
        let batch = BackfillBatch {
            page: &url,
            work: item_work(src, state, read.posts, Utc::now()),
            fetches_pages: true,
            feed_items: false,
            enclosures_unknown: false,
            live,
            api_keys,
        };
        let (stored, out_of_budget) =
            store_backfill_work(batch, src, store, fetcher, state, rep, progress).await;
        extracted += stored;
        if out_of_budget {
            return Some(extracted);
        }
        if read.last {
            break;
        }
        page += 1;
    }
    if let Err(e) = store.backfill_clear(&src.name) {
        tracing::warn!(source = %src.name, "cannot clear backfill progress: {e}");
    }
    tracing::info!(source = %src.name, "backfill through the REST API complete after {page} page(s)");
    Some(extracted)
}

/// The API could not be read from its start: walk the listing when the API is missing or
/// refuses (`None`), else the source fails for this backfill.
fn wordpress_refused(
    src: &SourceConfig,
    rep: &mut SourceReport,
    e: source::wordpress::WpError,
) -> Option<u32> {
    if let source::wordpress::WpError::Fetch {
        error: FetchError::Interrupted,
        ..
    } = e
    {
        // Not the API's failure: the next backfill asks again.
        Some(0)
    } else if e.falls_back() {
        tracing::info!(source = %src.name, "REST API not usable ({e}); walking the archive instead");
        None
    } else {
        rep.fatal = Some(e.to_string());
        Some(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::DateSource;

    fn entry(url: &str) -> Entry {
        let at = DateTime::from_timestamp(1_700_000_000, 0).expect("time");
        Entry {
            id: EntryId(url.to_owned()),
            dedup_key: crate::normalize::twin_key(url),
            source: "s".into(),
            url: url.to_owned(),
            title: "Panel".into(),
            published: at,
            published_source: DateSource::Jsonld,
            updated: at,
            updated_source: DateSource::Jsonld,
            authors: vec![],
            categories: vec![],
            content_html: "<p>Panel</p>".into(),
            summary: String::new(),
            related: vec![],
            enclosures: Vec::new(),
        }
    }

    /// `(location, what became of it)`, by location.
    fn summary(out: Vec<(String, Outcome)>) -> Vec<(String, &'static str)> {
        let mut s: Vec<_> = out
            .into_iter()
            .map(|(location, o)| {
                let kind = match o {
                    Outcome::Entry(..) => "kept",
                    Outcome::SamePage { .. } => "same page",
                    Outcome::Duplicate { .. } => "duplicate",
                    Outcome::GaveWay { .. } => "gave way",
                    _ => "other",
                };
                (location, kind)
            })
            .collect();
        s.sort();
        s
    }

    /// Page P is reached through its new URL and, by redirect, its old one; page Q declares the
    /// same canonical URL. Q's URL sorts between P's two, so if P competed with whichever of its
    /// URLs arrived first, the post kept would depend on finishing order. P competes with its
    /// best URL, in every arrival order and whichever outcome a batch stored first.
    #[test]
    fn a_page_reached_twice_competes_with_its_best_url_whatever_the_order() {
        let canonical = "https://example.org/a-new/";
        let p = Some(crate::normalize::twin_key(canonical));
        let q = Some("example.org/b-other/".to_owned());
        let urls = [
            ("https://example.org/a-new/", p.clone()),
            ("https://example.org/b-other/", q),
            ("https://example.org/c-old/", p),
        ];
        let outcome = |i: usize| {
            let (location, page) = &urls[i];
            let e = Box::new(entry(canonical));
            (
                i,
                location.to_string(),
                Outcome::Entry(e, vec![], None, page.clone(), None),
            )
        };
        let at = |i: usize| urls[i].0.to_string();
        let orders = [
            [0, 1, 2],
            [0, 2, 1],
            [1, 0, 2],
            [1, 2, 0],
            [2, 0, 1],
            [2, 1, 0],
        ];
        for arrival in orders {
            let rest = arrival.iter().map(|&i| outcome(i)).collect();
            let out = one_per_entry(
                rest,
                &HashMap::new(),
                &SourceReport::default(),
                &Owners::default(),
            );
            assert_eq!(
                summary(out),
                [(at(0), "kept"), (at(1), "duplicate"), (at(2), "same page")],
                "arrival {arrival:?}"
            );
        }
        // One of them stored by an earlier batch of the run.
        let stored = |i: usize| {
            let from = StoredFrom {
                order: i,
                location: at(i),
                id: EntryId(canonical.to_owned()),
                page: urls[i].1.clone(),
            };
            HashMap::from([(crate::normalize::twin_key(canonical), from)])
        };
        let others = |i: usize| (0..3).filter(|&j| j != i).map(outcome).collect::<Vec<_>>();
        // P's old URL stored first: it stands for P, which is kept.
        let out = one_per_entry(
            others(2),
            &stored(2),
            &SourceReport::default(),
            &Owners::default(),
        );
        assert_eq!(summary(out), [(at(0), "same page"), (at(1), "duplicate")]);
        // Q stored first: it gives way to P.
        let out = one_per_entry(
            others(1),
            &stored(1),
            &SourceReport::default(),
            &Owners::default(),
        );
        assert_eq!(
            summary(out),
            [(at(0), "kept"), (at(1), "gave way"), (at(2), "same page")]
        );
    }

    /// Two different pages showing one WordPress post number (a saved page copied as a
    /// template): one keeps the entry id, whatever the arrival order; with one of them stored by
    /// an earlier batch, that one.
    #[test]
    fn different_pages_with_one_post_id_are_not_one_entry_in_turn() {
        let urls = [
            "https://example.org/b-copy/",
            "https://example.org/a-panel/",
        ];
        let outcome = |i: usize| {
            let mut e = entry(urls[i]);
            e.id = EntryId("https://example.org/?p=42".into());
            let page = Some(e.dedup_key.clone());
            (
                i,
                urls[i].to_string(),
                Outcome::Entry(Box::new(e), vec![], None, page, None),
            )
        };
        for arrival in [[0, 1], [1, 0]] {
            let rest = arrival.iter().map(|&i| outcome(i)).collect();
            let out = one_per_entry(
                rest,
                &HashMap::new(),
                &SourceReport::default(),
                &Owners::default(),
            );
            let reason = out.iter().find_map(|(_, o)| match o {
                Outcome::Duplicate { reason, .. } => Some(reason.clone()),
                _ => None,
            });
            assert_eq!(
                summary(out),
                [(urls[1].into(), "kept"), (urls[0].into(), "duplicate")],
                "arrival {arrival:?}"
            );
            let reason = reason.expect("a reason");
            assert!(
                reason.contains("?p=42") && reason.contains(urls[1]),
                "{reason}"
            );
        }
        // Whichever an earlier batch stored, the same one keeps the id: a stored copy gives way.
        let from = |i: usize| StoredFrom {
            order: i,
            location: urls[i].into(),
            id: EntryId("https://example.org/?p=42".into()),
            page: Some(crate::normalize::twin_key(urls[i])),
        };
        let stored = |i: usize| HashMap::from([(crate::normalize::twin_key(urls[i]), from(i))]);
        let out = one_per_entry(
            vec![outcome(1)],
            &stored(0),
            &SourceReport::default(),
            &Owners::default(),
        );
        assert_eq!(
            summary(out),
            [(urls[1].into(), "kept"), (urls[0].into(), "gave way")]
        );
        let out = one_per_entry(
            vec![outcome(0)],
            &stored(1),
            &SourceReport::default(),
            &Owners::default(),
        );
        let kept_key = out.iter().find_map(|(_, o)| match o {
            Outcome::Duplicate { dedup_key, .. } => Some(dedup_key.clone()),
            _ => None,
        });
        assert_eq!(summary(out), [(urls[0].into(), "duplicate")]);
        // The copy is remembered as the kept page's, so a listing does not fetch it again.
        assert_eq!(kept_key, Some(crate::normalize::twin_key(urls[1])));
    }
}
