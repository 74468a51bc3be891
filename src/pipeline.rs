//! The pipeline: the one place the stages are wired together.
//!
//! Owns: [`refresh`] (source → extract → normalize → store, per source, per post) and
//! [`publish_all`] (store → publish). A failure of one post or one source is recorded in the
//! [`RunReport`] and never stops the others. Must not: parse the command line, print, or decide
//! when jobs run.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use url::Url;

use crate::config::{Config, FeedConfig, SourceConfig};
use crate::model::{Entry, RawPage, RawPost, RunReport, SourceReport};
use crate::publish::FeedInfo;
use crate::source::{self, Discovery, Fetcher};
use crate::store::{Store, Upsert};

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
    Fetch(Url),
    Page(RawPage),
    Post(Url, RawPost, DateTime<Utc>),
    /// A feed item whose full page is to be fetched (`full_text = true`).
    FullText(Url, RawPost),
}

/// Refresh every source once, storing what changed.
pub async fn refresh(
    cfg: &Config,
    store: &mut Store,
    fetcher: &Fetcher,
    progress: &dyn Progress,
) -> RunReport {
    let mut report = RunReport::default();
    for src in &cfg.sources {
        let r = refresh_source(src, store, fetcher, progress).await;
        report.sources.push(r);
    }
    report
}

/// Refresh one source.
pub async fn refresh_source(
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
    let index = match source::read_index(fetcher, src).await {
        Ok(i) => i,
        Err(e) => {
            rep.fatal = Some(e.to_string());
            if let Err(e) = store.record_source_run(&src.name, Utc::now(), rep.fatal.as_deref()) {
                tracing::warn!(source = %src.name, "cannot record the run: {e}");
            }
            return rep;
        }
    };
    tracing::debug!(source = %src.name, kind = index.kind, "index read");
    rep.failures.extend(index.failures);
    let now = Utc::now();
    let mut work: Vec<Work> = match index.discovery {
        Discovery::Pages(urls) => urls.into_iter().map(Work::Fetch).collect(),
        Discovery::Posts(posts) => posts
            .into_iter()
            .map(|(u, raw)| {
                if src.full_text {
                    Work::FullText(u, raw)
                } else {
                    Work::Post(u, raw, now)
                }
            })
            .collect(),
        Discovery::Mixed { posts, documents } => posts
            .into_iter()
            .map(|(u, raw)| Work::Post(u, raw, now))
            .chain(documents.into_iter().map(Work::Page))
            .collect(),
    };
    // Posts that failed on earlier runs are retried even when the listing did not change.
    match store.pending(&src.name) {
        Ok(pending) => {
            let known: std::collections::HashSet<String> = work
                .iter()
                .filter_map(|w| match w {
                    Work::Fetch(u) | Work::FullText(u, _) => Some(u.to_string()),
                    _ => None,
                })
                .collect();
            for p in pending {
                if !known.contains(&p)
                    && let Ok(u) = Url::parse(&p)
                {
                    work.push(Work::Fetch(u));
                }
            }
        }
        Err(e) => tracing::warn!(source = %src.name, "cannot read pending posts: {e}"),
    }
    progress.add_total(work.len() as u64);
    let parallel = (fetcher.per_host_concurrency() * 2).max(2);
    let mut results =
        futures_util::stream::iter(work.into_iter().map(|w| process(w, src, fetcher)))
            .buffer_unordered(parallel);
    while let Some((location, result)) = results.next().await {
        progress.tick();
        match result {
            Ok((entry, warnings)) => {
                for w in warnings {
                    tracing::warn!(source = %src.name, url = %location, "{w}");
                }
                match store.upsert_entry(&entry, Utc::now()) {
                    Ok(Upsert::New) => rep.new += 1,
                    Ok(Upsert::Updated) => rep.updated += 1,
                    Ok(Upsert::Unchanged) => rep.unchanged += 1,
                    Err(e) => {
                        rep.failures.push((location.clone(), e.to_string()));
                        continue;
                    }
                }
                if let Err(e) = store.remove_pending(&src.name, &location) {
                    tracing::warn!(source = %src.name, "cannot clear pending {location}: {e}");
                }
            }
            Err(reason) => {
                if location.starts_with("http")
                    && let Err(e) = store.add_pending(&src.name, &location, &reason, Utc::now())
                {
                    tracing::warn!(source = %src.name, "cannot record pending {location}: {e}");
                }
                rep.failures.push((location, reason));
            }
        }
    }
    let error = rep
        .failed()
        .then(|| format!("{} post(s) failed", rep.failures.len()));
    if let Err(e) = store.record_source_run(&src.name, Utc::now(), error.as_deref()) {
        tracing::warn!(source = %src.name, "cannot record the run: {e}");
    }
    rep
}

type Processed = (String, Result<(Entry, Vec<String>), String>);

/// Fetch (if needed), extract and normalize one post. CPU work runs on the blocking pool so
/// that both cores parse while requests are in flight.
async fn process(work: Work, src: &SourceConfig, fetcher: &Fetcher) -> Processed {
    let (page, item) = match work {
        Work::Post(url, raw, at) => {
            let location = url.to_string();
            let name = src.name.clone();
            let result = blocking(move || {
                crate::normalize::normalize(&url, raw, &name, at).map_err(|e| e.to_string())
            })
            .await;
            return (location, result);
        }
        Work::Page(page) => (page, None),
        Work::Fetch(url) => match source::fetch_page(fetcher, &url).await {
            Ok(p) => (p, None),
            Err(e) => return (url.to_string(), Err(e.to_string())),
        },
        Work::FullText(url, item) => match source::fetch_page(fetcher, &url).await {
            Ok(p) => (p, Some(item)),
            Err(e) => return (url.to_string(), Err(e.to_string())),
        },
    };
    let location = if page.requested_url.scheme() == "file" {
        page.requested_url
            .to_file_path()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| page.requested_url.to_string())
    } else {
        page.requested_url.to_string()
    };
    let selectors = src.selectors.clone();
    let name = src.name.clone();
    let result = blocking(move || {
        let raw = crate::extract::extract_post(&page, &selectors).map_err(|e| e.to_string())?;
        let raw = match item {
            Some(item) => source::feed::merge(raw, item),
            None => raw,
        };
        crate::normalize::normalize(&page.url, raw, &name, page.fetched_at)
            .map_err(|e| e.to_string())
    })
    .await;
    (location, result)
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| Err(format!("internal error while extracting: {e}")))
}

/// What publishing one feed did.
#[derive(Debug)]
pub struct Published {
    pub feed: String,
    pub entries: usize,
    /// Files written, with whether their content changed.
    pub files: Vec<(PathBuf, bool)>,
}

/// Publish every `[[feed]]` from the store. Errors are per feed.
pub fn publish_all(cfg: &Config, store: &Store) -> Vec<Result<Published, (String, String)>> {
    cfg.feeds
        .iter()
        .map(|f| publish_one(cfg, store, f).map_err(|e| (f.name.clone(), e)))
        .collect()
}

fn publish_one(cfg: &Config, store: &Store, feed: &FeedConfig) -> Result<Published, String> {
    let entries = store
        .entries(&feed.sources, &feed.categories, feed.limit as usize)
        .map_err(|e| e.to_string())?;
    if entries.is_empty() {
        return Ok(Published {
            feed: feed.name.clone(),
            entries: 0,
            files: Vec::new(),
        });
    }
    let info = feed_info(cfg, feed)?;
    let files = crate::publish::publish_feed(&cfg.output_dir, &info, &entries)
        .map_err(|e| e.to_string())?;
    Ok(Published {
        feed: feed.name.clone(),
        entries: entries.len(),
        files,
    })
}

/// Feed-level metadata from the config.
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
    })
}
