//! HTTP fetching: the only code that speaks HTTP to sites.
//!
//! Owns: the `reqwest` client (honest `User-Agent`, gzip/brotli, at most 5 redirects, hard
//! timeouts), per-host politeness (minimum interval and in-flight limit), the response body limit
//! enforced while streaming, and the per-run request budget. Must not: parse documents, decide what
//! to fetch, or touch the store.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::Semaphore;
use tokio::time::Instant;
use url::Url;

use crate::config::HttpConfig;

/// Why a request produced no usable response. Display strings are shown to users next to the URL.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum FetchError {
    #[error("HTTP status {0}")]
    Status(u16),
    #[error("timed out")]
    Timeout,
    #[error("could not connect: {0}")]
    Connect(String),
    #[error("more than 5 redirects (redirect loop?)")]
    TooManyRedirects,
    #[error("response body larger than the {0}-byte limit")]
    TooLarge(u64),
    #[error("request budget of {0} requests for this run is used up")]
    Budget(u32),
    #[error("{0}")]
    Other(String),
}

impl FetchError {
    /// True when the site itself could not be reached (as opposed to answering with an error).
    pub fn is_unreachable(&self) -> bool {
        matches!(self, FetchError::Connect(_) | FetchError::Timeout)
    }
}

/// A successful (2xx) response with its body read.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// Final URL after redirects.
    pub url: Url,
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub fetched_at: DateTime<Utc>,
}

struct HostSlot {
    in_flight: Semaphore,
    next_start: tokio::sync::Mutex<Instant>,
}

/// A polite HTTP client shared by every source of a run.
pub struct Fetcher {
    client: reqwest::Client,
    min_interval: Duration,
    per_host: usize,
    max_body: u64,
    max_requests: u32,
    hosts: Mutex<HashMap<String, Arc<HostSlot>>>,
    used: AtomicU32,
}

impl Fetcher {
    /// Build the client from `[http]`.
    pub fn new(cfg: &HttpConfig) -> Result<Fetcher, FetchError> {
        let client = reqwest::Client::builder()
            .user_agent(cfg.user_agent.clone())
            .redirect(reqwest::redirect::Policy::limited(5))
            .timeout(Duration::from_secs(cfg.timeout_secs))
            .connect_timeout(Duration::from_secs(cfg.timeout_secs.min(10)))
            .gzip(true)
            .brotli(true)
            .build()
            .map_err(|e| FetchError::Other(format!("cannot build HTTP client: {e}")))?;
        Ok(Fetcher {
            client,
            min_interval: Duration::from_millis(cfg.min_interval_ms),
            per_host: cfg.per_host_concurrency as usize,
            max_body: cfg.max_body_bytes,
            max_requests: cfg.max_requests,
            hosts: Mutex::new(HashMap::new()),
            used: AtomicU32::new(0),
        })
    }

    /// `[http] per_host_concurrency`.
    pub fn per_host_concurrency(&self) -> usize {
        self.per_host
    }

    /// Start a new budget (one per source per run).
    pub fn reset_budget(&self) {
        self.used.store(0, Ordering::SeqCst);
    }

    /// Requests made since the last [`Fetcher::reset_budget`].
    pub fn requests_used(&self) -> u32 {
        self.used.load(Ordering::SeqCst)
    }

    fn slot(&self, url: &Url) -> Arc<HostSlot> {
        let host = format!(
            "{}:{}",
            url.host_str().unwrap_or(""),
            url.port_or_known_default().unwrap_or(0)
        );
        let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
        hosts
            .entry(host)
            .or_insert_with(|| {
                Arc::new(HostSlot {
                    in_flight: Semaphore::new(self.per_host.max(1)),
                    next_start: tokio::sync::Mutex::new(Instant::now()),
                })
            })
            .clone()
    }

    /// GET `url`, politely; a non-2xx status is an error.
    pub async fn get(&self, url: &Url) -> Result<Fetched, FetchError> {
        if self.used.fetch_add(1, Ordering::SeqCst) >= self.max_requests {
            return Err(FetchError::Budget(self.max_requests));
        }
        let slot = self.slot(url);
        let _permit = slot
            .in_flight
            .acquire()
            .await
            .map_err(|e| FetchError::Other(e.to_string()))?;
        {
            let mut next = slot.next_start.lock().await;
            let now = Instant::now();
            if *next > now {
                tokio::time::sleep_until(*next).await;
            }
            *next = Instant::now() + self.min_interval;
        }
        let mut resp = self
            .client
            .get(url.clone())
            .header(reqwest::header::ACCEPT, ACCEPT)
            .send()
            .await
            .map_err(classify)?;
        let status = resp.status().as_u16();
        if !resp.status().is_success() {
            return Err(FetchError::Status(status));
        }
        let header = |name: reqwest::header::HeaderName| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let content_type = header(reqwest::header::CONTENT_TYPE);
        let etag = header(reqwest::header::ETAG);
        let last_modified = header(reqwest::header::LAST_MODIFIED);
        if let Some(len) = resp.content_length()
            && len > self.max_body
        {
            return Err(FetchError::TooLarge(self.max_body));
        }
        let final_url = resp.url().clone();
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(classify)? {
            if (body.len() + chunk.len()) as u64 > self.max_body {
                return Err(FetchError::TooLarge(self.max_body));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Fetched {
            url: final_url,
            status,
            content_type,
            body,
            etag,
            last_modified,
            fetched_at: Utc::now(),
        })
    }
}

const ACCEPT: &str = "text/html,application/xhtml+xml,application/atom+xml,application/rss+xml,application/feed+json,application/xml;q=0.9,*/*;q=0.8";

fn classify(e: reqwest::Error) -> FetchError {
    if e.is_redirect() {
        FetchError::TooManyRedirects
    } else if e.is_timeout() {
        FetchError::Timeout
    } else if e.is_connect() {
        FetchError::Connect(root_cause(&e))
    } else {
        FetchError::Other(root_cause(&e))
    }
}

/// The innermost error message (reqwest wraps hyper wraps io).
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}
