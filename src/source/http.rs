//! HTTP fetching: the only code that speaks HTTP to sites.
//!
//! Owns: the `reqwest` client (honest `User-Agent`, gzip/brotli, at most 5 redirects and only
//! within the site of the URL asked for (see [`redirect_policy`]), hard timeouts, a source
//! URL's basic-auth credentials sent to its origin only, see [`BasicAuth`]), robots.txt (fetched once per host and run, retried like any request, or seeded from
//! the store's day-old copy; obeyed, including `Crawl-delay`), per-host politeness (`governor` rate limit of one request per
//! `min_interval_ms` or `Crawl-delay`, and at most `per_host_concurrency` in flight), retries with
//! exponential backoff and jitter (`backon`) honouring `Retry-After`, conditional GET with the
//! validators it is handed, the body limit enforced while streaming, an HTML body that a closed
//! connection may have cut short asked for again and refused unless it comes back whole or the
//! same ([`cut_short`]), the per-source request budget, stopping on an interrupt (no request
//! started after [`Interrupter::interrupt`], those in flight cut after [`INTERRUPT_GRACE`])
//! and request statistics (requests, 304s, bytes, and every request's outcome by HTTP status, see
//! [`FetchStats::by_status`]). Must not: parse documents, decide what to fetch, or touch the store
//! (validators and robots.txt copies come in and go out as plain data).

use std::collections::{BTreeMap, HashMap};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use chrono::{DateTime, Utc};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use reqwest::header::{self, HeaderMap};
use tokio::sync::{OnceCell, Semaphore};
use url::Url;

use super::site::Site;
use crate::config::HttpConfig;

/// Why a request produced no usable response. Display strings are shown to users next to the URL.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum FetchError {
    #[error("HTTP status {0}")]
    Status(u16),
    #[error("HTTP status {status}, asked to retry after {after_secs} s")]
    RetryLater { status: u16, after_secs: u64 },
    #[error(
        "{host} asked to wait {after_secs} s (Retry-After), more than http.max_retry_after_secs = {cap}: skipped for this run"
    )]
    WaitTooLong {
        host: String,
        after_secs: u64,
        cap: u64,
    },
    #[error("timed out")]
    Timeout,
    #[error("could not connect: {0}")]
    Connect(String),
    #[error("more than 5 redirects (redirect loop?)")]
    TooManyRedirects,
    /// A redirect to another site (see `source::site`), not followed.
    #[error("redirects to another site: {0}")]
    OffSite(String),
    /// A redirect to something other than an http(s) URL (`file:`, `data:`…), not followed.
    #[error("redirects to {0}, which is not an http(s) address")]
    NotHttp(String),
    /// An HTML body whose end only the server closing the connection marked, and which stops
    /// before `</body>` or `</html>` (see [`cut_short`]), twice, at different places: most
    /// likely a connection dropped midway.
    #[error("cut short: the connection closed before </html>")]
    CutShort,
    #[error("response body larger than the {0}-byte limit")]
    TooLarge(u64),
    #[error("request budget of {0} requests for this run is used up (http.max_requests)")]
    Budget(u32),
    /// The run was interrupted (see [`Interrupter`]): the request was not sent, or was cut
    /// after [`INTERRUPT_GRACE`].
    #[error("not read: the run was interrupted")]
    Interrupted,
    #[error("disallowed by {0}")]
    Disallowed(String),
    #[error("{0}")]
    Other(String),
}

impl FetchError {
    /// True when the site itself could not be reached (as opposed to answering with an error).
    pub fn is_unreachable(&self) -> bool {
        matches!(self, FetchError::Connect(_) | FetchError::Timeout)
    }

    /// Worth another attempt: timeouts, connection errors, 5xx, 429/503 with a short wait.
    fn is_transient(&self) -> bool {
        match self {
            FetchError::Timeout
            | FetchError::Connect(_)
            | FetchError::RetryLater { .. }
            | FetchError::CutShort => true,
            FetchError::Status(s) => (500..600).contains(s),
            FetchError::Other(_) => true,
            _ => false,
        }
    }

    /// A skip on purpose (robots.txt, a redirect away from the site), not a failure.
    pub fn is_skip(&self) -> bool {
        matches!(
            self,
            FetchError::Disallowed(_) | FetchError::OffSite(_) | FetchError::NotHttp(_)
        )
    }

    /// Where a redirect that was not followed leads ([`FetchError::OffSite`],
    /// [`FetchError::NotHttp`]).
    pub fn redirect_target(&self) -> Option<&str> {
        match self {
            FetchError::OffSite(t) | FetchError::NotHttp(t) => Some(t),
            _ => None,
        }
    }
}

/// `ETag` and `Last-Modified` of an earlier response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

impl Validators {
    pub fn is_empty(&self) -> bool {
        self.etag.is_none() && self.last_modified.is_none()
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
    pub headers: HeaderMap,
    pub fetched_at: DateTime<Utc>,
}

impl Fetched {
    /// A response header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The validators to send next time.
    pub fn validators(&self) -> Validators {
        Validators {
            etag: self.header("etag").map(str::to_string),
            last_modified: self.header("last-modified").map(str::to_string),
        }
    }
}

/// The answer to a conditional GET.
#[derive(Debug, Clone)]
pub enum Conditional {
    Modified(Box<Fetched>),
    /// 304: what we have is current.
    NotModified,
}

/// A robots.txt copy as kept in the store: `body` is `None` when the file did not exist (4xx).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RobotsCopy {
    /// `scheme://host[:port]`.
    pub origin: String,
    pub body: Option<Vec<u8>>,
    pub fetched_at: DateTime<Utc>,
}

enum Robots {
    /// robots.txt could not be fetched for network reasons (the site is unreachable), or the
    /// host asked to wait longer than `max_retry_after_secs`: every request fails with this.
    Unreachable(FetchError),
    AllowAll,
    DisallowAll(String),
    Rules(Box<texting_robots::Robot>),
}

struct Host {
    in_flight: Semaphore,
    robots: OnceCell<Robots>,
    limiter: OnceCell<Option<DefaultDirectRateLimiter>>,
    /// Set when the host asked for a wait longer than the cap: nothing more is sent this run.
    blocked: Mutex<Option<FetchError>>,
}

/// Requests, 304s, bytes and outcomes since the last [`Fetcher::reset_budget`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FetchStats {
    pub requests: u32,
    pub not_modified: u32,
    pub bytes: u64,
    /// How many requests ended with each outcome, ordered by label: the final HTTP status code
    /// after redirects (`"200"`, `"304"`, `"404"`, `"503"`…), or for a request that got no
    /// complete answer `"timeout"`, `"connect"` (no connection) or `"error"` (any other transport
    /// failure, such as a redirect loop or a body cut short). Every attempt counts, retries
    /// included, robots.txt too; a request the budget or robots.txt stopped before it was sent
    /// does not. A 2xx whose body was over the size limit counts under its status.
    pub by_status: Vec<(String, u32)>,
}

/// The `by_status` label of a request that got no complete answer.
fn transport_label(e: &FetchError) -> &'static str {
    match e {
        FetchError::Timeout => "timeout",
        FetchError::Connect(_) => "connect",
        _ => "error",
    }
}

/// A polite HTTP client shared by every source of a run.
pub struct Fetcher {
    client: reqwest::Client,
    agent_token: String,
    min_interval: Duration,
    per_host: usize,
    max_body: u64,
    max_requests: u32,
    max_retries: usize,
    max_retry_after: u64,
    respect_robots: bool,
    retry_min_delay: Duration,
    hosts: Mutex<HashMap<String, Arc<Host>>>,
    seeded_robots: Mutex<HashMap<String, RobotsCopy>>,
    fetched_robots: Mutex<Vec<RobotsCopy>>,
    used: AtomicU32,
    not_modified: AtomicU32,
    bytes: AtomicU64,
    by_status: Mutex<BTreeMap<String, u32>>,
    /// The site of the source being read (see [`Fetcher::set_site`]), for the redirect policy.
    site: Arc<Mutex<Option<Site>>>,
    /// The credentials of the source being read (see [`Fetcher::set_auth`]).
    auth: Mutex<Option<BasicAuth>>,
    /// Set once by [`Interrupter::interrupt`].
    interrupt: Arc<tokio::sync::watch::Sender<bool>>,
    /// A request was refused or cut because of the interrupt since the last
    /// [`Fetcher::reset_budget`] (see [`Fetcher::cut_by_interrupt`]).
    cut: std::sync::atomic::AtomicBool,
}

/// How long requests in flight when a run is interrupted may go on; they are cut then (their
/// posts left for the next run).
pub const INTERRUPT_GRACE: Duration = Duration::from_secs(5);

/// Stops a [`Fetcher`] (see [`Fetcher::interrupter`]): once [`Interrupter::interrupt`] is
/// called, no request is started (nor retried) any more, each failing at once with
/// [`FetchError::Interrupted`]; the requests already sent get [`INTERRUPT_GRACE`] to finish,
/// then fail with it too. A `run` cut short by SIGINT or SIGTERM stops this way.
#[derive(Clone)]
pub struct Interrupter(Arc<tokio::sync::watch::Sender<bool>>);

impl Interrupter {
    /// Stop the fetcher from now on (for good).
    pub fn interrupt(&self) {
        self.0.send_replace(true);
    }
}

/// Resolves once `rx` says the run is interrupted (never when its fetcher is gone).
async fn interrupted(mut rx: tokio::sync::watch::Receiver<bool>) {
    if rx.wait_for(|&stop| stop).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// HTTP basic-auth credentials that a source URL carries (`http://user:password@host/…`). They
/// are sent with every request to that URL's origin (scheme, host and port): its other listing
/// pages, its posts and its robots.txt, which the URL's own request alone would not reach.
/// Never to another origin, and never shown (`Debug` hides them).
#[derive(Clone, PartialEq, Eq)]
pub struct BasicAuth {
    origin: url::Origin,
    user: String,
    password: Option<String>,
}

impl BasicAuth {
    /// The credentials in `url`, percent-decoded; `None` when it has none.
    pub fn of(url: &str) -> Option<BasicAuth> {
        let url = Url::parse(url).ok()?;
        if url.username().is_empty() && url.password().is_none() {
            return None;
        }
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        };
        Some(BasicAuth {
            origin: url.origin(),
            user: decode(url.username()),
            password: url.password().map(decode),
        })
    }
}

impl std::fmt::Debug for BasicAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BasicAuth")
            .field("origin", &self.origin.ascii_serialization())
            .finish_non_exhaustive()
    }
}

/// Largest robots.txt read; RFC 9309 asks parsers to read at least 500 KiB and ignore the rest.
const ROBOTS_LIMIT: usize = 512 * 1024;
/// Longest `Crawl-delay` honoured.
const MAX_CRAWL_DELAY: Duration = Duration::from_secs(60);

impl Fetcher {
    /// Build the client from `[http]`.
    pub fn new(cfg: &HttpConfig) -> Result<Fetcher, FetchError> {
        let site: Arc<Mutex<Option<Site>>> = Arc::default();
        let client = reqwest::Client::builder()
            .user_agent(cfg.user_agent.clone())
            .redirect(redirect_policy(Arc::clone(&site)))
            .timeout(Duration::from_secs(cfg.timeout_secs))
            .connect_timeout(Duration::from_secs(cfg.timeout_secs.min(10)))
            .gzip(true)
            .brotli(true)
            .build()
            .map_err(|e| FetchError::Other(format!("cannot build HTTP client: {e}")))?;
        let agent_token = cfg
            .user_agent
            .split(['/', ' '])
            .next()
            .filter(|t| !t.is_empty())
            .unwrap_or("feedwright")
            .to_string();
        Ok(Fetcher {
            client,
            agent_token,
            min_interval: Duration::from_millis(cfg.min_interval_ms),
            per_host: cfg.per_host_concurrency as usize,
            max_body: cfg.max_body_bytes,
            max_requests: cfg.max_requests,
            max_retries: cfg.max_retries as usize,
            max_retry_after: cfg.max_retry_after_secs,
            respect_robots: cfg.respect_robots,
            retry_min_delay: Duration::from_millis(500),
            hosts: Mutex::new(HashMap::new()),
            seeded_robots: Mutex::new(HashMap::new()),
            fetched_robots: Mutex::new(Vec::new()),
            used: AtomicU32::new(0),
            not_modified: AtomicU32::new(0),
            bytes: AtomicU64::new(0),
            by_status: Mutex::new(BTreeMap::new()),
            site,
            auth: Mutex::new(None),
            interrupt: Arc::new(tokio::sync::watch::Sender::new(false)),
            cut: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// What stops this fetcher (see [`Interrupter`]).
    pub fn interrupter(&self) -> Interrupter {
        Interrupter(Arc::clone(&self.interrupt))
    }

    /// The fetcher was interrupted: it sends nothing any more.
    pub fn interrupted(&self) -> bool {
        *self.interrupt.borrow()
    }

    /// Since the last [`Fetcher::reset_budget`] (that is, in this source's run), a request was
    /// refused or cut because the fetcher was interrupted: what the source read is not whole.
    pub fn cut_by_interrupt(&self) -> bool {
        self.cut.load(Ordering::SeqCst)
    }

    /// `fut`, unless the fetcher is interrupted first (or already): then
    /// [`FetchError::Interrupted`], and the source's run is cut short.
    async fn unless_interrupted<T>(
        &self,
        fut: impl std::future::Future<Output = T>,
    ) -> Result<T, FetchError> {
        tokio::select! {
            biased;
            () = interrupted(self.interrupt.subscribe()) => Err(self.refuse()),
            value = fut => Ok(value),
        }
    }

    /// A request not sent, or cut, because of the interrupt.
    fn refuse(&self) -> FetchError {
        self.cut.store(true, Ordering::SeqCst);
        FetchError::Interrupted
    }

    /// The site of the source about to be read (its `also_hosts` included), or `None`: a
    /// redirect between two of its hosts is followed too. Sources are read one at a time, like
    /// the request budget ([`Fetcher::reset_budget`]).
    pub fn set_site(&self, site: Option<Site>) {
        *self.site.lock().unwrap_or_else(|p| p.into_inner()) = site;
    }

    /// The basic-auth credentials of the source about to be read (see [`BasicAuth`]), or `None`.
    pub fn set_auth(&self, auth: Option<BasicAuth>) {
        *self.auth.lock().unwrap_or_else(|p| p.into_inner()) = auth;
    }

    /// Shorten the first retry delay (tests of the retry policy).
    pub fn with_retry_min_delay(mut self, d: Duration) -> Fetcher {
        self.retry_min_delay = d;
        self
    }

    /// `[http] per_host_concurrency`.
    pub fn per_host_concurrency(&self) -> usize {
        self.per_host
    }

    /// Requests still allowed by the budget of this source's run (`http.max_requests`).
    pub fn requests_left(&self) -> u32 {
        self.max_requests
            .saturating_sub(self.used.load(Ordering::SeqCst))
    }

    /// Most requests one fetch can send: the first attempt and `http.max_retries` retries.
    pub fn max_attempts(&self) -> u32 {
        u32::try_from(self.max_retries)
            .unwrap_or(u32::MAX)
            .saturating_add(1)
    }

    /// Start a new budget and new statistics (one per source per run).
    pub fn reset_budget(&self) {
        self.used.store(0, Ordering::SeqCst);
        self.cut.store(false, Ordering::SeqCst);
        self.not_modified.store(0, Ordering::SeqCst);
        self.bytes.store(0, Ordering::SeqCst);
        self.by_status
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    /// Requests, 304s, bytes and outcomes since the last [`Fetcher::reset_budget`].
    pub fn stats(&self) -> FetchStats {
        FetchStats {
            requests: self.used.load(Ordering::SeqCst).min(self.max_requests),
            not_modified: self.not_modified.load(Ordering::SeqCst),
            bytes: self.bytes.load(Ordering::SeqCst),
            by_status: self
                .by_status
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .iter()
                .map(|(k, v)| (k.clone(), *v))
                .collect(),
        }
    }

    /// Count one request that ended with `label` (see [`FetchStats::by_status`]).
    fn count_status(&self, label: &str) {
        let mut m = self.by_status.lock().unwrap_or_else(|p| p.into_inner());
        match m.get_mut(label) {
            Some(n) => *n += 1,
            None => {
                m.insert(label.to_owned(), 1);
            }
        }
    }

    /// Robots.txt copies fetched less than a day ago, so they need not be fetched again.
    pub fn seed_robots(&self, copies: Vec<RobotsCopy>) {
        let mut seeded = self.seeded_robots.lock().unwrap_or_else(|p| p.into_inner());
        for c in copies {
            seeded.insert(c.origin.clone(), c);
        }
    }

    /// Robots.txt copies fetched during this run (worth keeping for a day).
    pub fn take_fetched_robots(&self) -> Vec<RobotsCopy> {
        std::mem::take(
            &mut *self
                .fetched_robots
                .lock()
                .unwrap_or_else(|p| p.into_inner()),
        )
    }

    /// The error that blocks `url`'s host for the rest of the run, if any.
    pub fn blocked(&self, url: &Url) -> Option<FetchError> {
        let host = self.host(url);
        host.blocked
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn host(&self, url: &Url) -> Arc<Host> {
        let key = origin(url);
        let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
        hosts
            .entry(key)
            .or_insert_with(|| {
                Arc::new(Host {
                    in_flight: Semaphore::new(self.per_host.max(1)),
                    robots: OnceCell::new(),
                    limiter: OnceCell::new(),
                    blocked: Mutex::new(None),
                })
            })
            .clone()
    }

    /// GET `url`, politely; a non-2xx status is an error.
    pub async fn get(&self, url: &Url) -> Result<Fetched, FetchError> {
        match self.get_conditional(url, None).await? {
            Conditional::Modified(f) => Ok(*f),
            Conditional::NotModified => Err(FetchError::Status(304)),
        }
    }

    /// GET `url` with `If-None-Match` / `If-Modified-Since` from `validators`.
    pub async fn get_conditional(
        &self,
        url: &Url,
        validators: Option<&Validators>,
    ) -> Result<Conditional, FetchError> {
        if self.interrupted() {
            return Err(self.refuse());
        }
        let host = self.host(url);
        if let Some(e) = host
            .blocked
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
        {
            return Err(e);
        }
        if self.respect_robots {
            let robots = host
                .robots
                .get_or_init(|| self.load_robots(url, &host))
                .await;
            match robots {
                Robots::Unreachable(e) => return Err(e.clone()),
                Robots::AllowAll => {}
                Robots::DisallowAll(why) => return Err(FetchError::Disallowed(why.clone())),
                Robots::Rules(r) => {
                    if !r.allowed(url.as_str()) {
                        return Err(FetchError::Disallowed(format!(
                            "{}/robots.txt",
                            origin(url)
                        )));
                    }
                }
            }
        }
        let limiter = host
            .limiter
            .get_or_init(|| async {
                let limiter = self.limiter_for(&host);
                // The robots.txt request just made counts: the first page waits one interval
                // (`once` waits again, and stops there when interrupted).
                if let Some(l) = &limiter
                    && self.respect_robots
                {
                    let _ = self.unless_interrupted(l.until_ready()).await;
                }
                limiter
            })
            .await;
        let result = self
            .with_retries(url, || async {
                self.once(
                    url,
                    validators,
                    &host,
                    limiter.as_ref(),
                    self.max_body as usize,
                    false,
                )
                .await
            })
            .await;
        let cap = self.max_retry_after;
        if let Err(FetchError::RetryLater { after_secs, .. }) = &result
            && *after_secs > cap
        {
            let e = FetchError::WaitTooLong {
                host: origin(url),
                after_secs: *after_secs,
                cap,
            };
            *host.blocked.lock().unwrap_or_else(|p| p.into_inner()) = Some(e.clone());
            return Err(e);
        }
        result
    }

    /// Run `attempt` under the retry policy of `http.max_retries`: timeouts, connection errors,
    /// 5xx and 429/503 with a `Retry-After` of at most `http.max_retry_after_secs` are tried
    /// again with exponential backoff and jitter, never sooner than `Retry-After` asks.
    async fn with_retries<F, Fut>(&self, url: &Url, attempt: F) -> Result<Conditional, FetchError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<Conditional, FetchError>>,
    {
        let cap = self.max_retry_after;
        // The wait before a retry ends with an interrupt (the retry is then refused).
        let stop = self.interrupt.subscribe();
        let sleep = move |wait: Duration| {
            let stop = stop.clone();
            async move {
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    () = interrupted(stop) => {}
                }
            }
        };
        attempt
            .retry(
                ExponentialBuilder::default()
                    .with_min_delay(self.retry_min_delay)
                    .with_max_delay(Duration::from_secs(30))
                    .with_max_times(self.max_retries)
                    .with_jitter(),
            )
            .sleep(sleep)
            .when(|e: &FetchError| match e {
                // A wait longer than the cap is not waited for: the host is skipped this run.
                FetchError::RetryLater { after_secs, .. } => *after_secs <= cap,
                e => e.is_transient(),
            })
            .adjust(|e: &FetchError, backoff| match e {
                // Never come back before the server said we may; and once the retries are
                // used up (`None`), stop like any other retry.
                FetchError::RetryLater { after_secs, .. } => {
                    backoff.map(|b| b.max(Duration::from_secs(*after_secs)))
                }
                _ => backoff,
            })
            // A detail (`-v`): what the retries came to is the URL's outcome, in the report.
            .notify(|e: &FetchError, wait| {
                tracing::debug!(url = %url, "retrying in {:.1} s after: {e}", wait.as_secs_f64());
            })
            .await
    }

    fn limiter_for(&self, host: &Host) -> Option<DefaultDirectRateLimiter> {
        let crawl_delay = match host.robots.get() {
            Some(Robots::Rules(r)) => crawl_delay(r.delay),
            _ => None,
        };
        let interval = crawl_delay.map_or(self.min_interval, |d| d.max(self.min_interval));
        Quota::with_period(interval).map(|q| RateLimiter::direct(q.allow_burst(NonZeroU32::MIN)))
    }

    async fn load_robots(&self, url: &Url, host: &Host) -> Robots {
        let origin = origin(url);
        let seeded = self
            .seeded_robots
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&origin);
        if let Some(copy) = seeded {
            return self.parse_robots(&origin, copy.body.as_deref());
        }
        let Ok(robots_url) = Url::parse(&format!("{origin}/robots.txt")) else {
            return Robots::AllowAll;
        };
        let limiter = self.limiter_for(host);
        // Retried like any request: one failed attempt must not stop the whole site's run.
        let fetched = self
            .with_retries(&robots_url, || {
                self.once(
                    &robots_url,
                    None,
                    host,
                    limiter.as_ref(),
                    ROBOTS_LIMIT,
                    true,
                )
            })
            .await;
        match fetched {
            Ok(Conditional::Modified(f)) => {
                self.keep_robots(&origin, Some(f.body.clone()), f.fetched_at);
                self.parse_robots(&origin, Some(&f.body))
            }
            Ok(Conditional::NotModified) => Robots::AllowAll,
            // Not read: nothing more is sent on this run.
            Err(FetchError::Interrupted) => Robots::Unreachable(FetchError::Interrupted),
            // Asked to wait longer than we may: the host is skipped this run, as for a page
            // (its posts stay pending), rather than read as disallowing everything.
            Err(FetchError::RetryLater { after_secs, .. }) if after_secs > self.max_retry_after => {
                Robots::Unreachable(FetchError::WaitTooLong {
                    host: origin.clone(),
                    after_secs,
                    cap: self.max_retry_after,
                })
            }
            // 429 is "too many requests", not "no robots.txt": like 5xx, it disallows.
            Err(FetchError::Status(s)) if (400..500).contains(&s) && s != 429 => {
                self.keep_robots(&origin, None, Utc::now());
                Robots::AllowAll
            }
            Err(e) if e.is_unreachable() => Robots::Unreachable(e),
            Err(e) => {
                // RFC 9309: an unreachable robots.txt (5xx) means "assume disallow"; so does
                // 429, as major crawlers read it.
                tracing::warn!(
                    "{origin}/robots.txt could not be read ({e}): nothing on {origin} is fetched this run"
                );
                Robots::DisallowAll(format!("{origin}/robots.txt being unreadable ({e})"))
            }
        }
    }

    fn keep_robots(&self, origin: &str, body: Option<Vec<u8>>, fetched_at: DateTime<Utc>) {
        self.fetched_robots
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(RobotsCopy {
                origin: origin.to_string(),
                body,
                fetched_at,
            });
    }

    fn parse_robots(&self, origin: &str, body: Option<&[u8]>) -> Robots {
        let Some(body) = body else {
            return Robots::AllowAll;
        };
        let body = &body[..body.len().min(ROBOTS_LIMIT)];
        match texting_robots::Robot::new(&self.agent_token, body) {
            Ok(r) => Robots::Rules(Box::new(r)),
            Err(e) => {
                tracing::warn!(
                    "{origin}/robots.txt is malformed ({e}); treating it as allowing everything"
                );
                Robots::AllowAll
            }
        }
    }

    /// One request, no retries. `truncate` keeps the first `limit` bytes instead of failing.
    async fn once(
        &self,
        url: &Url,
        validators: Option<&Validators>,
        host: &Host,
        limiter: Option<&DefaultDirectRateLimiter>,
        limit: usize,
        truncate: bool,
    ) -> Result<Conditional, FetchError> {
        // Interrupted, nothing is sent, and a request waiting for its turn is not sent either.
        if self.interrupted() {
            return Err(self.refuse());
        }
        if self.used.fetch_add(1, Ordering::SeqCst) >= self.max_requests {
            return Err(FetchError::Budget(self.max_requests));
        }
        let _permit = self
            .unless_interrupted(host.in_flight.acquire())
            .await?
            .map_err(|e| FetchError::Other(e.to_string()))?;
        if let Some(l) = limiter {
            self.unless_interrupted(l.until_ready()).await?;
        }
        let (status, result, suspect) = self.send_in_time(url, validators, limit, truncate).await;
        if !suspect {
            self.count(status, &result);
            return result;
        }
        // It may be cut short (see [`cut_short`]): asked for again, like any request (the
        // budget, the courtesy delay). A complete answer settles it; the same bytes again are
        // the page as the server sends it (one that leaves out the optional end tags: a
        // connection dropped midway would not stop at the same byte twice); anything else is
        // an answer cut short, never kept, nor its validators. An answer not taken counts as
        // one that did not come whole.
        if self.interrupted() {
            self.count_status("error");
            return Err(self.refuse());
        }
        if self.used.fetch_add(1, Ordering::SeqCst) >= self.max_requests {
            self.count_status("error");
            return Err(FetchError::Budget(self.max_requests));
        }
        if let Some(l) = limiter
            && let Err(e) = self.unless_interrupted(l.until_ready()).await
        {
            self.count_status("error");
            return Err(e);
        }
        let (again_status, again, still) = self.send_in_time(url, None, limit, truncate).await;
        let same = matches!(
            (&result, &again),
            (Ok(Conditional::Modified(a)), Ok(Conditional::Modified(b))) if a.body == b.body
        );
        if !still {
            self.count_status("error");
            self.count(again_status, &again);
            again
        } else if same {
            self.count(status, &result);
            self.count(again_status, &again);
            result
        } else {
            self.count_status("error");
            self.count_status("error");
            Err(FetchError::CutShort)
        }
    }

    /// Count one answer in the request metrics: its status, or why none came.
    fn count(&self, status: Option<u16>, result: &Result<Conditional, FetchError>) {
        match status {
            Some(code) => self.count_status(&code.to_string()),
            None => self.count_status(result.as_ref().err().map_or("error", transport_label)),
        }
    }

    /// [`Fetcher::send`], cut [`INTERRUPT_GRACE`] after an interrupt (at an await point: no
    /// state is half-updated) as a transport failure.
    async fn send_in_time(
        &self,
        url: &Url,
        validators: Option<&Validators>,
        limit: usize,
        truncate: bool,
    ) -> (Option<u16>, Result<Conditional, FetchError>, bool) {
        let stop = self.interrupt.subscribe();
        let cut_off = async {
            interrupted(stop).await;
            tokio::time::sleep(INTERRUPT_GRACE).await;
        };
        tokio::select! {
            answer = self.send(url, validators, limit, truncate) => answer,
            () = cut_off => (None, Err(self.refuse()), false),
        }
    }

    /// Send one request and read its answer; returns the HTTP status when a complete answer
    /// (or one refused for its size) arrived, `None` when the transport failed, and whether the
    /// answer may be cut short ([`cut_short`]): [`Fetcher::once`] decides.
    async fn send(
        &self,
        url: &Url,
        validators: Option<&Validators>,
        limit: usize,
        truncate: bool,
    ) -> (Option<u16>, Result<Conditional, FetchError>, bool) {
        let mut req = self.client.get(url.clone()).header(header::ACCEPT, ACCEPT);
        // A URL with credentials of its own is sent with those (by reqwest).
        if url.username().is_empty() && url.password().is_none() {
            let auth = self.auth.lock().unwrap_or_else(|p| p.into_inner()).clone();
            if let Some(auth) = auth.filter(|a| a.origin == url.origin()) {
                req = req.basic_auth(auth.user, auth.password);
            }
        }
        if let Some(v) = validators {
            if let Some(etag) = &v.etag {
                req = req.header(header::IF_NONE_MATCH, etag);
            }
            if let Some(lm) = &v.last_modified {
                req = req.header(header::IF_MODIFIED_SINCE, lm);
            }
        }
        let mut resp = match req.send().await {
            Ok(r) => r,
            Err(e) => return (None, Err(classify(e)), false),
        };
        let status = resp.status().as_u16();
        if status == 304 {
            self.not_modified.fetch_add(1, Ordering::SeqCst);
            return (Some(status), Ok(Conditional::NotModified), false);
        }
        if status == 429 || status == 503 {
            if let Some(after) = retry_after(resp.headers(), Utc::now()) {
                return (
                    Some(status),
                    Err(FetchError::RetryLater {
                        status,
                        after_secs: after,
                    }),
                    false,
                );
            }
            return (Some(status), Err(FetchError::Status(status)), false);
        }
        if resp.status().is_redirection()
            && let Some(target) = redirect_location(&resp)
        {
            // The redirect policy stopped here: the redirect leaves the site or http(s).
            let error = if !matches!(target.scheme(), "http" | "https") {
                FetchError::NotHttp(shown(&target))
            } else if !super::site::same_site(resp.url(), &target) {
                FetchError::OffSite(shown(&target))
            } else {
                FetchError::Status(status)
            };
            return (Some(status), Err(error), false);
        }
        if !resp.status().is_success() {
            return (Some(status), Err(FetchError::Status(status)), false);
        }
        if !truncate
            && let Some(len) = resp.content_length()
            && len > limit as u64
        {
            return (Some(status), Err(FetchError::TooLarge(limit as u64)), false);
        }
        let final_url = resp.url().clone();
        let version = resp.version();
        let headers = resp.headers().clone();
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let mut body = Vec::new();
        loop {
            let chunk = match resp.chunk().await {
                Ok(Some(c)) => c,
                Ok(None) => break,
                // The answer was cut short: no complete response, counted as a transport failure.
                Err(e) => return (None, Err(classify(e)), false),
            };
            self.bytes.fetch_add(chunk.len() as u64, Ordering::SeqCst);
            if body.len() + chunk.len() > limit {
                if truncate {
                    body.extend_from_slice(&chunk[..limit - body.len()]);
                    break;
                }
                return (Some(status), Err(FetchError::TooLarge(limit as u64)), false);
            }
            body.extend_from_slice(&chunk);
        }
        let suspect = !truncate && cut_short(version, &headers, content_type.as_deref(), &body);
        let fetched = Fetched {
            url: final_url,
            status,
            content_type,
            body,
            headers,
            fetched_at: Utc::now(),
        };
        (
            Some(status),
            Ok(Conditional::Modified(Box::new(fetched))),
            suspect,
        )
    }
}

/// Was this answer, though it ended cleanly, possibly cut short? Only an answer that declares
/// no length can be: one whose end is the server closing the connection (HTTP/1.0 or 1.1
/// without `Content-Length` or `Transfer-Encoding`: RFC 9112, 6.3), where a connection dropped
/// midway looks just like the end of the page. (A compressed answer's headers are seen after
/// decompression, which drops its `Content-Length`: it may be judged here too, though its
/// decoder already fails a body missing its end.) Other answers are checked below us: a
/// `Content-Length` or chunked body that stops short is a transport error. Of those, only HTML
/// is judged (a feed or JSON document cut short does not parse; an HTML one does, and would be
/// stored as a post cut short): a page, by its type (or none) and a `<html` or
/// `<!DOCTYPE html` in its first 1024 bytes, is complete when it reaches `</body>` or
/// `</html>`. Both tags are optional in HTML, so a page that leaves both out cannot be told
/// from one cut short by its bytes alone: [`Fetcher::once`] asks for it again, and takes it
/// when it comes back complete, or the same.
fn cut_short(
    version: reqwest::Version,
    headers: &HeaderMap,
    content_type: Option<&str>,
    body: &[u8],
) -> bool {
    let http1 = matches!(
        version,
        reqwest::Version::HTTP_10 | reqwest::Version::HTTP_11
    );
    if !http1
        || headers.contains_key(header::CONTENT_LENGTH)
        || headers.contains_key(header::TRANSFER_ENCODING)
    {
        return false;
    }
    // An HTML document, as its type says (or no type) and its start shows: not a feed or a
    // JSON document a server labels `text/html`.
    let typed = content_type.is_none_or(|ct| ct.to_ascii_lowercase().contains("html"));
    let head = &body[..body.len().min(1024)];
    let has = |hay: &[u8], tag: &[u8]| hay.windows(tag.len()).any(|w| w.eq_ignore_ascii_case(tag));
    let html = typed && (has(head, b"<html") || has(head, b"<!doctype html"));
    html && !body.windows(6).rev().any(|w| {
        w.starts_with(b"</")
            && (w[2..].eq_ignore_ascii_case(b"body") || w[2..].eq_ignore_ascii_case(b"html"))
    })
}

/// Most redirects followed for one request.
const MAX_REDIRECTS: usize = 5;

/// Follow at most [`MAX_REDIRECTS`] redirects, and only to an http(s) URL on the same site as
/// the URL first asked for, or between two hosts of the source being read (`site`). Any other
/// redirect is not followed: its 3xx is the answer, which [`Fetcher`] turns into
/// [`FetchError::OffSite`] or [`FetchError::NotHttp`]. So a page can never send a request to a
/// host robots.txt, the rate limit and the source's site were not checked for.
fn redirect_policy(site: Arc<Mutex<Option<Site>>>) -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(move |attempt| {
        if attempt.previous().len() > MAX_REDIRECTS {
            return attempt.error("too many redirects");
        }
        let target = attempt.url();
        let Some(first) = attempt.previous().first() else {
            return attempt.stop();
        };
        let within = super::site::same_site(first, target)
            || site
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .as_ref()
                .is_some_and(|s| s.contains(first) && s.contains(target));
        if within {
            attempt.follow()
        } else {
            attempt.stop()
        }
    })
}

/// Where a 3xx answer leads: its `Location` resolved against the URL that answered.
fn redirect_location(resp: &reqwest::Response) -> Option<Url> {
    let location = resp.headers().get(header::LOCATION)?.to_str().ok()?;
    resp.url().join(location.trim()).ok()
}

/// A URL as shown in a report: at most 200 characters.
fn shown(url: &Url) -> String {
    let s = url.as_str();
    match s.char_indices().nth(200) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

/// `scheme://host[:port]` of a URL.
pub fn origin(url: &Url) -> String {
    url.origin().ascii_serialization()
}

/// Seconds to wait from a `Retry-After` header: delta-seconds or an HTTP date. A date is
/// rounded up to the whole second: the wait never ends before the instant the server gave
/// (`now` has a fraction of a second, the date none, so 0.6 s away is 1 s, not 0).
pub fn retry_after(headers: &HeaderMap, now: DateTime<Utc>) -> Option<u64> {
    let v = headers.get(header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(secs);
    }
    let date = DateTime::parse_from_rfc2822(v).ok()?;
    let wait = date.with_timezone(&Utc) - now;
    let whole = wait.num_seconds();
    let secs = if wait > chrono::TimeDelta::seconds(whole) {
        whole + 1
    } else {
        whole
    };
    Some(secs.max(0) as u64)
}

const ACCEPT: &str = "text/html,application/xhtml+xml,application/atom+xml,application/rss+xml,application/feed+json,application/json;q=0.9,application/xml;q=0.9,*/*;q=0.8";

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

/// The wait a robots.txt `Crawl-delay` asks for: none unless a positive number, at most
/// [`MAX_CRAWL_DELAY`] (capped before the conversion, which panics past ~1.8e19 seconds).
fn crawl_delay(delay: Option<f32>) -> Option<Duration> {
    delay
        .filter(|d| d.is_finite() && *d > 0.0)
        .map(|d| Duration::from_secs_f32(d.min(MAX_CRAWL_DELAY.as_secs_f32())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_takes_seconds_and_http_dates() {
        let now = DateTime::parse_from_rfc3339("2024-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let mut h = HeaderMap::new();
        h.insert(header::RETRY_AFTER, "120".parse().unwrap());
        assert_eq!(retry_after(&h, now), Some(120));
        h.insert(
            header::RETRY_AFTER,
            "Mon, 01 Jan 2024 00:01:30 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&h, now), Some(90));
        h.insert(
            header::RETRY_AFTER,
            "Sun, 31 Dec 2023 00:00:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&h, now), Some(0), "a past date means now");
        h.insert(header::RETRY_AFTER, "soon".parse().unwrap());
        assert_eq!(retry_after(&h, now), None);
    }

    #[test]
    fn crawl_delay_is_capped_and_never_panics() {
        // What texting_robots reads from `Crawl-delay: 1e30` and the like.
        let robot = texting_robots::Robot::new("feedwright", b"Crawl-delay: 1e30\n").unwrap();
        assert_eq!(crawl_delay(robot.delay), Some(MAX_CRAWL_DELAY));
        for (delay, want) in [
            (Some(f32::MAX), Some(MAX_CRAWL_DELAY)),
            (Some(2.5), Some(Duration::from_millis(2500))),
            (Some(0.0), None),
            (Some(-1.0), None),
            (Some(f32::NAN), None),
            (Some(f32::INFINITY), None),
            (None, None),
        ] {
            assert_eq!(crawl_delay(delay), want, "{delay:?}");
        }
    }
}
