//! Serving: the published files of `output_dir`, an HTML index of the feeds at `/`, `/healthz`
//! and `/metrics`.
//!
//! Owns: the HTTP side of `[server]` — binding `server.listen`, the accept loop and its limits
//! (connections at once, idle ones giving way to new clients at the limit, requests in progress
//! per client address (`conns`), header-read and stalled-write timeouts, request head size and
//! header count, `Host`), HTTP/1.0 framing, stopping (no connection it accepted outlives
//! `serve`: those still busy after the caller's grace period are closed), `feedwright serve`'s
//! signals and reloads (`standalone`), content types, validators (a `Last-Modified` only once
//! its second is over) and conditional answers, gzip with `Vary: Accept-Encoding`,
//! `Cache-Control`, refusing paths that leave `output_dir` or hold control characters, and
//! turning what the store recorded into health (credentials removed) and Prometheus figures. Files are read by tower-http `ServeDir` (the file's strong `ETag` from size
//! and mtime in nanoseconds, `Last-Modified`, 304 for `If-None-Match` including `*` and for
//! `If-Modified-Since` (one later than the server's clock is ignored), 412 for `If-Match` and
//! `If-Unmodified-Since`, one byte range; `Cache-Control: no-cache` added) behind the
//! rules of `representation`: each representation (gzip or not; the browser's `application/xml`
//! or the feed type) has its own strong ETag, conditional lists are rewritten into the file's,
//! `If-Range` is honoured, several ranges or another unit are ignored, and HEAD gets the headers
//! GET would. Every request's `Accept-Encoding` is first replaced by the coding chosen here; a
//! file's gzip representation is the copy `gzip` keeps for its version, and the compression
//! layer compresses only what else asks for it: the ETag sent always names the encoding sent. Must not: write to the database (it opens it with
//! [`Store::open_read_only`], so it runs beside a `run` or the daemon holding the writer lock),
//! write into `output_dir`, or decide when any job runs.

mod conns;
mod gzip;
mod metrics;
mod representation;
mod stall;
pub mod standalone;

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{DefaultPredicate, Predicate};
use tower_http::services::ServeDir;

use crate::config::Config;
use crate::publish::{ATOM_FILE, JSON_FILE, RSS_FILE};
use crate::redact;
use crate::store::readonly::ChangeStamp;
use crate::store::{Store, StoreError};

use conns::Conns;
use metrics::{Family, Kind};
use representation::{Coding, IfRange, Variant};

/// Longest request path accepted, in bytes (raw, before percent-decoding).
pub const MAX_PATH_LEN: usize = 1024;

/// Upper bounds (seconds) of the run-duration histogram buckets.
const DURATION_BUCKETS_SECS: [f64; 10] =
    [0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0];

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The configuration has no `[server]` table: nothing is to be served.
    #[error(
        "no [server] table in the configuration: nothing to serve (add [server] listen = \"127.0.0.1:8080\")"
    )]
    NotConfigured,
    /// `server.listen` is not an `address:port`.
    #[error("server.listen: {addr:?} is not an address:port: {message}")]
    BadAddress {
        /// The configured value.
        addr: String,
        /// What is wrong with it.
        message: String,
    },
    /// The address could not be bound (already in use, not permitted …).
    #[error("server.listen: cannot listen on {addr}: {source}")]
    Bind {
        /// The configured address.
        addr: String,
        /// The system's reason.
        source: io::Error,
    },
    /// The socket bound could not be served again (after a reload).
    #[error("server.listen: cannot use the socket listening on {addr}: {source}")]
    Socket {
        /// The configured address.
        addr: String,
        /// The system's reason.
        source: io::Error,
    },
    /// The signals that stop or reload `serve` cannot be caught.
    #[error("cannot install a signal handler: {0}")]
    Signals(io::Error),
    /// The task serving the connections ended without a result (it panicked).
    #[error("internal error: the server stopped unexpectedly: {0}")]
    Crashed(String),
}

impl ServerError {
    /// The configuration key the error is about, if any.
    pub fn key(&self) -> Option<&'static str> {
        match self {
            ServerError::NotConfigured => Some("server"),
            ServerError::BadAddress { .. }
            | ServerError::Bind { .. }
            | ServerError::Socket { .. } => Some("server.listen"),
            ServerError::Signals(_) | ServerError::Crashed(_) => None,
        }
    }
}

/// Bind `[server] listen`. Fails with [`ServerError::NotConfigured`] without a `[server]` table,
/// and with [`ServerError::Bind`] (naming `server.listen` and the address) when the port is in
/// use.
pub async fn bind(cfg: &Config) -> Result<TcpListener, ServerError> {
    let server = cfg.server.as_ref().ok_or(ServerError::NotConfigured)?;
    let addr: SocketAddr = server
        .listen
        .parse()
        .map_err(|e: std::net::AddrParseError| ServerError::BadAddress {
            addr: server.listen.clone(),
            message: e.to_string(),
        })?;
    TcpListener::bind(addr)
        .await
        .map_err(|source| ServerError::Bind {
            addr: server.listen.clone(),
            source,
        })
}

/// Largest request head (request line and headers) read into memory, per connection; a longer
/// one is answered 431 and the connection closed. Real requests stay far below it.
pub const MAX_REQUEST_HEAD_BYTES: usize = 64 * 1024;

/// Most header fields a request may have (hyper's default, said here so that it is documented);
/// one with more is answered 431 and the connection closed. Browsers send about twenty.
pub const MAX_REQUEST_HEADERS: usize = 100;

/// Pause after a failed `accept` that is not about one connection (such as too many open files),
/// so the loop does not spin while the cause lasts.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(250);

/// How often a client waiting for a slot looks again for a connection to make room.
const MAKE_ROOM_AGAIN: Duration = Duration::from_millis(100);

/// Failures to accept separated by less than this are one run of failures, logged once: while
/// descriptors are short, accepts fail and succeed by turns as connections close.
const ACCEPT_ERRORS_QUIET: Duration = Duration::from_secs(2);

/// The connection registry `cfg`'s `[server]` asks for: its per-address limit, sparing
/// loopback and `proxies`.
pub fn conns_for(cfg: &Config) -> Arc<Conns> {
    let server = cfg.server.clone().unwrap_or_default();
    let max = server.max_connections as usize;
    Conns::new(
        conns::per_address_limit(max),
        conns::Exempt::loopback_and(server.proxy_networks()),
    )
}

/// Serve `cfg`'s `output_dir`, `/`, `/healthz` and `/metrics` on `listener` until `shutdown`
/// completes. Then no connection is accepted any more; those open are asked to close after the
/// request in flight, and whatever is still open after `grace` (a long answer to a slow client,
/// say) is closed: when `serve` returns, within about `grace` of `shutdown`, no connection it
/// accepted is served any more.
///
/// At most `[server] max_connections` connections are open at once. An idle one (just opened,
/// between two requests, or still sending a request head) never keeps a new client out: when
/// every slot is taken and a client waits, the one idle the longest is closed; only busy
/// connections (answering a request) make the next wait in the socket's backlog. A client
/// address other than loopback may have [`conns::per_address_limit`] requests in progress at
/// once (32 of 256); more are answered 503. A connection must send each request's head within
/// `[server] timeout_secs` of its opening or of the previous answer (so an idle
/// kept-alive connection is closed then too), is closed when its client takes nothing of an
/// answer for as long, and a head over [`MAX_REQUEST_HEAD_BYTES`] or
/// [`MAX_REQUEST_HEADERS`] fields is refused. A failing `accept` is logged once per run of
/// failures (ended by an accept at least [`ACCEPT_ERRORS_QUIET`] after the last failure), and
/// retried after [`ACCEPT_ERROR_PAUSE`].
pub async fn serve(
    cfg: &Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> Result<(), ServerError> {
    let conns = conns_for(cfg);
    serve_until(
        cfg,
        listener,
        async move {
            shutdown.await;
            grace
        },
        conns,
    )
    .await
}

/// [`serve`], with the grace period given by `shutdown` as it completes and the connections
/// kept in `conns` (its per-address limit and the addresses it spares).
pub(crate) async fn serve_until(
    cfg: &Config,
    listener: TcpListener,
    shutdown: impl Future<Output = Duration> + Send + 'static,
    conns: Arc<Conns>,
) -> Result<(), ServerError> {
    let addr = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_else(|_| "?".to_owned());
    tracing::info!("serving {} on http://{addr}/", cfg.output_dir.display());
    let limits = cfg.server.clone().unwrap_or_default();
    let app = router(cfg);
    let timeout = Duration::from_secs(limits.timeout_secs);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(timeout)
        // The head limit is exact (431 past it); the buffer limit keeps what a connection that
        // never finishes its head may hold near it (hyper reads into spare capacity, so up to
        // about twice the limit).
        .max_header_size(MAX_REQUEST_HEAD_BYTES)
        .max_buf_size(MAX_REQUEST_HEAD_BYTES)
        .max_headers(MAX_REQUEST_HEADERS);
    let slots = Arc::new(Semaphore::new(limits.max_connections as usize));
    // Every connection's task, so that none outlives `serve`; finished ones are reaped at each
    // accept, which keeps the set near `max_connections`.
    let mut connections = tokio::task::JoinSet::new();
    // Failures to accept in the current run of them, and when the last one happened.
    let mut failed_accepts = 0u64;
    let mut last_failure = Instant::now();
    tokio::pin!(shutdown);
    let grace = 'accept: loop {
        let accepted = tokio::select! {
            grace = &mut shutdown => break 'accept grace,
            accepted = listener.accept() => accepted,
        };
        let (tcp, peer) = match accepted {
            Ok(accepted) => accepted,
            // The client gave up before we took it: nothing to say.
            Err(e) if is_connection_error(&e) => continue,
            Err(e) => {
                if failed_accepts == 0 {
                    tracing::warn!(
                        "server on {addr}: cannot accept connections: {e} (retrying every {} ms)",
                        ACCEPT_ERROR_PAUSE.as_millis()
                    );
                }
                failed_accepts += 1;
                last_failure = Instant::now();
                tokio::select! {
                    grace = &mut shutdown => break 'accept grace,
                    () = tokio::time::sleep(ACCEPT_ERROR_PAUSE) => continue,
                }
            }
        };
        if failed_accepts > 0 && last_failure.elapsed() >= ACCEPT_ERRORS_QUIET {
            tracing::info!(
                "server on {addr}: accepting connections again after {failed_accepts} failed attempts"
            );
            failed_accepts = 0;
        }
        // A slot for it. At the limit, an idle connection makes room; while every one is busy,
        // this client waits (and the next ones in the socket's backlog, holding no descriptor).
        let slot = match slots.clone().try_acquire_owned() {
            Ok(slot) => slot,
            Err(_) => loop {
                let became_idle = conns.some_became_idle();
                conns.make_room();
                tokio::select! {
                    grace = &mut shutdown => break 'accept grace,
                    slot = slots.clone().acquire_owned() => match slot {
                        Ok(slot) => break slot,
                        Err(_) => continue 'accept,
                    },
                    () = became_idle => {}
                    // A new connection may have come of age (see `conns::FRESH_GRACE_MS`).
                    () = tokio::time::sleep(MAKE_ROOM_AGAIN) => {}
                }
            },
        };
        // Headers and body go out in separate writes: without TCP_NODELAY, keep-alive clients
        // wait for the delayed ACK (~40 ms) on every response.
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!("cannot set TCP_NODELAY: {e}");
        }
        let registered = conns.open(peer.ip());
        let conn_state = registered.conn().clone();
        let service = Tracked {
            app: hyper_util::service::TowerToHyperService::new(app.clone()),
            conns: conns.clone(),
            conn: conn_state.clone(),
        };
        let io = hyper_util::rt::TokioIo::new(stall::Stall::new(tcp, timeout));
        let conn = http.serve_connection(io, service);
        while connections.try_join_next().is_some() {}
        connections.spawn(async move {
            let _open = (slot, registered);
            tokio::pin!(conn);
            let ended = tokio::select! {
                ended = conn.as_mut() => ended,
                () = conn_state.told_to_close() => {
                    if !conn_state.had_requests() {
                        // Nothing was written to it: closed at once, whatever part of a
                        // request head it sent (hyper would wait for the rest).
                        return;
                    }
                    // Closed as soon as the answer in progress, if any, is sent.
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
            // Errors here are one client's (reset, timed out, malformed): not worth a log line.
            if let Err(e) = ended {
                tracing::debug!("connection ended: {e}");
            }
        });
    };
    drop(listener);
    conns.close_all();
    let drained = tokio::time::timeout(grace, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::info!(
            "server on {addr}: closing {} connection(s) still busy after {} ms",
            connections.len(),
            grace.as_millis()
        );
    }
    connections.shutdown().await;
    Ok(())
}

/// The service of one connection: the application, with the connection marked busy from a
/// request's head to the end of its answer, a request from an address over its limit refused
/// (503), and an HTTP/1.0 answer of unknown length framed by closing the connection.
struct Tracked {
    app: hyper_util::service::TowerToHyperService<Router>,
    conns: Arc<Conns>,
    conn: Arc<conns::Conn>,
}

impl hyper::service::Service<Request<hyper::body::Incoming>> for Tracked {
    type Response = Response<Answer>;
    type Error = std::convert::Infallible;
    type Future = std::pin::Pin<
        Box<dyn Future<Output = Result<Response<Answer>, std::convert::Infallible>> + Send>,
    >;

    fn call(&self, req: Request<hyper::body::Incoming>) -> Self::Future {
        let Some(busy) = self.conns.begin(&self.conn) else {
            let mut res = text(
                StatusCode::SERVICE_UNAVAILABLE,
                "too many requests in progress from your address; try again shortly\n",
            );
            let headers = res.headers_mut();
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
            return Box::pin(std::future::ready(Ok(
                res.map(|body| Answer { body, _busy: None })
            )));
        };
        let version = req.version();
        let head = req.method() == Method::HEAD;
        let answer = hyper::service::Service::call(&self.app, req);
        Box::pin(async move {
            let Ok(mut res) = answer.await;
            // An HTTP/1.0 client knows no chunks: an answer of unknown length (compressed on
            // the fly) ends when the connection closes, and must say so instead of keep-alive.
            if version == axum::http::Version::HTTP_10
                && !head
                && !res.headers().contains_key(header::CONTENT_LENGTH)
                && res.body().size_hint().exact().is_none()
            {
                *res.version_mut() = axum::http::Version::HTTP_10;
                res.headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            Ok(res.map(|body| Answer {
                body,
                _busy: Some(busy),
            }))
        })
    }
}

/// An answer's body, keeping its connection busy until it is dropped (sent or abandoned).
struct Answer {
    body: Body,
    _busy: Option<conns::Busy>,
}

impl HttpBody for Answer {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, axum::Error>>> {
        std::pin::Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.body.size_hint()
    }
}

/// An `accept` error about one connection only (it was reset or aborted before we took it).
fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// The whole application, for callers that bring their own listener or tests.
pub fn router(cfg: &Config) -> Router {
    let root = cfg.output_dir.clone();
    let state = Arc::new(AppState {
        cfg: cfg.clone(),
        serve_dir: ServeDir::new(&root).append_index_html_on_directories(false),
        gzip: gzip::GzipCopies::new(gzip::BUDGET_BYTES),
        root,
        metrics: Reuse::new(METRICS_REUSE),
    });
    Router::new()
        .route("/", get(index))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics_handler))
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(static_file)
        .layer(CompressionLayer::new().compress_when(CompressWhen::default()))
        .layer(axum::middleware::map_request(choose_coding))
        .layer(axum::middleware::from_fn(check_host))
        .with_state(state)
}

/// 405, for a method other than GET or HEAD, on every path alike.
async fn method_not_allowed() -> Response {
    let mut res = text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
    res.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
    res
}

/// Refuse with 400 an HTTP/1.1 request without a `Host` field, and any request with several
/// or with one that is not a host and optional port (RFC 9112 §3.2). An empty `Host` is valid
/// (a target without authority).
async fn check_host(req: Request, next: axum::middleware::Next) -> Response {
    let hosts: Vec<&HeaderValue> = req.headers().get_all(header::HOST).iter().collect();
    let valid = match hosts.as_slice() {
        [] => req.version() < axum::http::Version::HTTP_11,
        [one] => valid_host(one.as_bytes()),
        _ => false,
    };
    if valid {
        next.run(req).await
    } else {
        let mut res = text(
            StatusCode::BAD_REQUEST,
            "missing, repeated or invalid Host\n",
        );
        // The rest of the request cannot be trusted to frame the next one.
        res.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        res
    }
}

/// Whether `value` is a `Host` field value: `uri-host [ ":" port ]`, possibly empty.
fn valid_host(value: &[u8]) -> bool {
    value.is_empty()
        || (!value.contains(&b'@')
            && std::str::from_utf8(value)
                .ok()
                .and_then(|v| v.parse::<axum::http::uri::Authority>().ok())
                .is_some())
}

/// Replace `Accept-Encoding` by the coding chosen by [`representation::coding`], before the
/// compression layer reads it: the layer then encodes exactly when `static_file` expects it to.
/// The choice itself goes along in the request's extensions. When no coding is acceptable
/// (`identity;q=0` without gzip), the layer is told `identity`: it would otherwise turn every
/// answer it does not compress into a 406 carrying the original body. Files answer that case
/// with their own 406; everything else (`/`, `/healthz`, `/metrics`, a 404) keeps its status
/// and is sent unencoded, as a server may when no coding is acceptable.
async fn choose_coding(mut req: Request) -> Request {
    let chosen = representation::coding(req.headers());
    let told = match chosen {
        Coding::NoneAcceptable => Coding::Identity,
        c => c,
    };
    req.headers_mut().insert(
        header::ACCEPT_ENCODING,
        HeaderValue::from_static(told.as_accept_encoding()),
    );
    req.extensions_mut().insert(chosen);
    req
}

/// Set on every answer carrying a file: whether it is the gzip representation.
#[derive(Debug, Clone, Copy)]
struct FileAnswer {
    gzip: bool,
}

/// Compress a file's answer when it says so (its ETag names the gzip representation), whatever
/// its size, and also when it is the empty body of a HEAD answer, so that HEAD sends the headers
/// GET would; anything else by tower-http's default rules.
#[derive(Clone, Default)]
struct CompressWhen(DefaultPredicate);

impl Predicate for CompressWhen {
    fn should_compress<B>(&self, response: &axum::http::Response<B>) -> bool
    where
        B: HttpBody,
    {
        match response.extensions().get::<FileAnswer>() {
            Some(file) => file.gzip,
            None => self.0.should_compress(response),
        }
    }
}

struct AppState {
    cfg: Config,
    root: PathBuf,
    serve_dir: ServeDir,
    /// The gzip representations of files, compressed once per version.
    gzip: gzip::GzipCopies,
    /// The last `/metrics` text (see [`metrics_text`]).
    metrics: Reuse<ChangeStamp>,
}

type Shared = State<Arc<AppState>>;

fn text(status: StatusCode, body: &'static str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body,
    )
        .into_response()
}

// ---------------------------------------------------------------------------------------------
// Files

/// What to do with a request path before it reaches the file system.
#[derive(Debug, PartialEq, Eq)]
pub enum PathCheck {
    /// A relative path inside `output_dir` (no `.`/`..`, no hidden component).
    Serve(PathBuf),
    /// Malformed or trying to leave the directory: 400.
    BadRequest,
    /// Too long: 400.
    TooLong,
    /// A hidden file (such as a temporary file being written): 404.
    Hidden,
}

/// Judge a raw request path (as sent, percent-encoded). Pure.
pub fn check_path(raw: &str) -> PathCheck {
    if raw.len() > MAX_PATH_LEN {
        return PathCheck::TooLong;
    }
    let Ok(decoded) = percent_encoding::percent_decode_str(raw).decode_utf8() else {
        return PathCheck::BadRequest;
    };
    // NUL, C0 and C1 controls (a newline in a file name, a path ending in `%0a`) and backslash.
    if decoded.chars().any(|c| c.is_control() || c == '\\') {
        return PathCheck::BadRequest;
    }
    let mut rel = PathBuf::new();
    for seg in decoded.split('/') {
        match seg {
            "" => {}
            "." | ".." => return PathCheck::BadRequest,
            s if s.starts_with('.') => return PathCheck::Hidden,
            s => {
                // A segment must be one plain component (no drive prefix or root).
                if !matches!(Path::new(s).components().next(), Some(Component::Normal(_)))
                    || Path::new(s).components().count() != 1
                {
                    return PathCheck::BadRequest;
                }
                rel.push(s);
            }
        }
    }
    PathCheck::Serve(rel)
}

/// The `Content-Type` of a published file, by name; `None`: let the file server guess.
pub fn content_type_for(name: &str) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    let ext = lower.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    Some(match (lower.as_str(), ext) {
        (RSS_FILE, _) => "application/rss+xml; charset=utf-8",
        (JSON_FILE, _) => "application/feed+json; charset=utf-8",
        // atom.xml, the digest's issue feed and archive documents are all Atom.
        (_, "xml") => "application/atom+xml; charset=utf-8",
        (_, "json") => "application/json",
        (_, "html" | "htm") => "text/html; charset=utf-8",
        (_, "txt") => "text/plain; charset=utf-8",
        (_, "eml") => "message/rfc822",
        (_, "css") => "text/css; charset=utf-8",
        (_, "xsl" | "xslt") => "application/xslt+xml; charset=utf-8",
        _ => return None,
    })
}

async fn static_file(State(st): Shared, req: Request) -> Response {
    let rel = match check_path(req.uri().path()) {
        PathCheck::Serve(rel) => rel,
        PathCheck::BadRequest => return text(StatusCode::BAD_REQUEST, "bad path\n"),
        PathCheck::TooLong => return text(StatusCode::BAD_REQUEST, "path too long\n"),
        PathCheck::Hidden => return text(StatusCode::NOT_FOUND, "not found\n"),
    };
    // A symlink inside output_dir must not lead out of it. output_dir itself is resolved on
    // every request: it may be a symlink the operator swaps to publish a new set of files.
    let (root, target) = (st.root.clone(), st.root.join(&rel));
    let Ok((real, real_root)) = tokio::task::spawn_blocking(move || {
        (std::fs::canonicalize(target), std::fs::canonicalize(root))
    })
    .await
    else {
        return text(StatusCode::INTERNAL_SERVER_ERROR, "internal error\n");
    };
    let real = match real {
        Ok(real) => {
            if !real_root.is_ok_and(|root| real.starts_with(root)) {
                return text(StatusCode::NOT_FOUND, "not found\n");
            }
            real
        }
        // A folder we may not search: the file server reports it (500 and a log line).
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => st.root.join(&rel),
        // Missing, a symlink loop, a name too long …: nothing there to serve, and nothing
        // worth a log line (anyone can ask for such a path).
        Err(_) => return text(StatusCode::NOT_FOUND, "not found\n"),
    };
    let name = rel
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // Only the kinds of file feedwright publishes: an `output_dir` that also holds the store,
    // the config or a `dir` source's Markdown posts (`output_dir = "."`) does not serve them.
    if content_type_for(&name).is_none() {
        return text(StatusCode::NOT_FOUND, "not found\n");
    }
    // A browser navigating to a feed asks for HTML first; it gets the XML feed as
    // `application/xml`, which it renders through the feed's `xml-stylesheet`, where
    // `application/atom+xml` or `application/rss+xml` would be downloaded. Readers asking for
    // feeds (or anything, or HTML only as a last resort) get the feed media types.
    let feed_type = content_type_for(&name).and_then(|t| t.split(';').next());
    let for_browser = name.to_ascii_lowercase().ends_with(".xml")
        && feed_type.is_some_and(|t| representation::wants_browser_view(req.headers(), t));
    let coding = req
        .extensions()
        .get::<Coding>()
        .copied()
        .unwrap_or_else(|| representation::coding(req.headers()));
    let (parts, _) = req.into_parts();
    if parts.method != Method::GET && parts.method != Method::HEAD {
        return method_not_allowed().await;
    }
    // When no coding is acceptable, the conditions are still judged (on the unencoded
    // representation's validators): a 304 or 412 is the answer then, anything else a 406.
    let none_acceptable = coding == Coding::NoneAcceptable;
    // Ranges are defined for GET only (RFC 9110 §14.2), and served from the unencoded file.
    let mut range = (parts.method == Method::GET && !none_acceptable)
        .then(|| parts.headers.get(header::RANGE)?.to_str().ok())
        .flatten()
        .and_then(representation::single_byte_range);
    let if_range = range.as_ref().and_then(|_| {
        let v = parts.headers.get(header::IF_RANGE)?;
        Some(IfRange::parse(v.to_str().unwrap_or("")))
    });
    if if_range == Some(IfRange::Never) {
        range = None;
    }
    // Whether `If-Modified-Since` is left out: the file's modification time is in the second
    // being lived, where a date cannot tell two versions apart.
    let mut date_unusable = false;
    let (mut res, variant) = loop {
        let variant = Variant {
            browser: for_browser,
            gzip: coding == Coding::Gzip && range.is_none(),
        };
        let mut sd = st.serve_dir.clone();
        let res = match sd
            .try_call(file_request(
                &parts,
                variant,
                range.as_deref(),
                date_unusable,
                Utc::now(),
            ))
            .await
        {
            Ok(res) => res.map(Body::new),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::NotFound
                        | io::ErrorKind::NotADirectory
                        | io::ErrorKind::InvalidFilename
                        | io::ErrorKind::InvalidInput
                ) =>
            {
                return text(StatusCode::NOT_FOUND, "not found\n");
            }
            Err(e) => {
                tracing::warn!("cannot serve {}: {e}", rel.display());
                return text(StatusCode::INTERNAL_SERVER_ERROR, "cannot read the file\n");
            }
        };
        // A date is a weak validator within its own second (RFC 9110 §8.8.2.2): the file may
        // change again within it and keep its `Last-Modified`. So a `304` for a date alone is
        // not given while the second of the file actually opened is not over (the request is
        // answered again without the date), and that file gets no `Last-Modified` (below).
        if res.status() == StatusCode::NOT_MODIFIED
            && !date_unusable
            && parts.headers.contains_key(header::IF_MODIFIED_SINCE)
            && !parts.headers.contains_key(header::IF_NONE_MATCH)
            && !date_is_strong(header_str(&res, header::LAST_MODIFIED), Utc::now())
        {
            date_unusable = true;
            continue;
        }
        // If-Range is judged on the file actually opened (it may have been replaced since the
        // client's copy, or while this request ran): when it does not hold, the range is
        // dropped and the whole representation sent (RFC 9110 §13.1.5).
        if let Some(cond) = &if_range
            && range.is_some()
            && matches!(
                res.status(),
                StatusCode::PARTIAL_CONTENT | StatusCode::RANGE_NOT_SATISFIABLE
            )
        {
            let etag = header_str(&res, header::ETAG).and_then(|e| variant.etag(e));
            if !cond.holds(
                etag.as_deref(),
                header_str(&res, header::LAST_MODIFIED),
                Utc::now(),
            ) {
                range = None;
                continue;
            }
        }
        break (res, variant);
    };
    if none_acceptable
        && !matches!(
            res.status(),
            StatusCode::NOT_MODIFIED | StatusCode::PRECONDITION_FAILED
        )
    {
        return text(StatusCode::NOT_ACCEPTABLE, "no acceptable content coding\n");
    }
    // The file server's own 404 (a file asked for as a folder, `atom.xml/`) says so like ours.
    if res.status() == StatusCode::NOT_FOUND {
        return text(StatusCode::NOT_FOUND, "not found\n");
    }
    // A date that a later change within the same second would keep is not offered as a
    // validator: readers revalidate with the ETag.
    if !date_is_strong(header_str(&res, header::LAST_MODIFIED), Utc::now()) {
        res.headers_mut().remove(header::LAST_MODIFIED);
    }
    // The file's own ETag, before it names the representation: it keys the gzip copy.
    let file_etag = header_str(&res, header::ETAG).map(str::to_owned);
    if let Some(etag) = file_etag.as_deref().and_then(|e| variant.etag(e))
        && let Ok(value) = HeaderValue::from_str(&etag)
    {
        res.headers_mut().insert(header::ETAG, value);
    }
    let mut gzip = variant.gzip && res.status() == StatusCode::OK;
    // Compressed once per version of the file and kept (see `gzip`): the same bytes for every
    // request under one strong ETag, without a copy of the file per request, and a HEAD
    // answer with the headers of the GET one, `Content-Length` included.
    if gzip && let Some(etag) = file_etag {
        let (mut head, body) = res.into_parts();
        let is_get = parts.method == Method::GET;
        let whole = async {
            if is_get {
                axum::body::to_bytes(body, usize::MAX)
                    .await
                    .map_err(io::Error::other)
            } else {
                unencoded(&st.serve_dir, &parts.uri, &etag).await
            }
        };
        match st.gzip.get(real, etag.clone(), whole).await {
            Ok(bytes) => {
                head.headers.remove(header::ACCEPT_RANGES);
                head.headers
                    .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
                head.headers
                    .insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
                let body = if is_get {
                    Body::from(bytes)
                } else {
                    Body::empty()
                };
                res = Response::from_parts(head, body);
                // Encoded already: the compression layer leaves it alone.
                gzip = false;
            }
            // The file changed since this HEAD request opened it: the compression layer gives
            // the answer its headers, without a length.
            Err(_) if !is_get => res = Response::from_parts(head, Body::empty()),
            Err(e) => {
                tracing::warn!("cannot read {}: {e}", rel.display());
                return text(StatusCode::INTERNAL_SERVER_ERROR, "cannot read the file\n");
            }
        }
    }
    res.extensions_mut().insert(FileAnswer { gzip });
    let status = res.status();
    let headers = res.headers_mut();
    if matches!(status, StatusCode::OK | StatusCode::PARTIAL_CONTENT) {
        let ct = if for_browser {
            Some("application/xml; charset=utf-8")
        } else {
            content_type_for(&name)
        };
        if let Some(ct) = ct {
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
        }
    }
    if let Some(link) = websub_link(&st.cfg, &rel, &name)
        && let Ok(value) = HeaderValue::from_str(&link)
    {
        headers.insert(header::LINK, value);
    }
    // Set on every answer (200 and 304 alike) so caches key on it even for small files that
    // are not compressed; the compression layer sees it and does not add a second one.
    let vary = if name.to_ascii_lowercase().ends_with(".xml") {
        "accept-encoding, accept"
    } else {
        "accept-encoding"
    };
    headers.insert(header::VARY, HeaderValue::from_static(vary));
    // Revalidate every time (a 304 is cheap): without it, caches apply heuristic freshness
    // (a tenth of the time since Last-Modified) and a reader misses updates for hours.
    if matches!(
        status,
        StatusCode::OK | StatusCode::PARTIAL_CONTENT | StatusCode::NOT_MODIFIED
    ) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    res
}

/// The whole unencoded content of the file at `uri`'s path, if it is still the version
/// `etag` names (for the gzip copy a HEAD request needs).
async fn unencoded(serve_dir: &ServeDir, uri: &axum::http::Uri, etag: &str) -> io::Result<Bytes> {
    let mut req = Request::new(Body::empty());
    *req.uri_mut() = uri.clone();
    let res = serve_dir.clone().try_call(req).await?.map(Body::new);
    if res.status() != StatusCode::OK || header_str(&res, header::ETAG) != Some(etag) {
        return Err(io::Error::other("the file changed meanwhile"));
    }
    axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .map_err(io::Error::other)
}

/// A header of `res` as text, if present and visible ASCII.
fn header_str(res: &Response, name: header::HeaderName) -> Option<&str> {
    res.headers().get(name)?.to_str().ok()
}

/// Whether a `Last-Modified` value (as `ServeDir` sends it) is a strong validator at `now`:
/// its second is over, so any later change of the file has a later date. A missing or
/// unreadable value is not.
fn date_is_strong(last_modified: Option<&str>, now: DateTime<Utc>) -> bool {
    last_modified
        .and_then(representation::parse_http_date)
        .is_some_and(|date| now >= date + chrono::Duration::seconds(1))
}

/// The request `ServeDir` answers for `variant`: the method and path, the date conditions as
/// sent (but an `If-Modified-Since` after `now`, or any when `no_modified_since`, left out),
/// `If-None-Match` / `If-Match` rewritten into the file's ETags, and `range` if one is served.
/// `Accept-Encoding` and `If-Range` are handled here, not there.
fn file_request(
    parts: &Parts,
    variant: Variant,
    range: Option<&str>,
    no_modified_since: bool,
    now: DateTime<Utc>,
) -> Request {
    let mut req = Request::new(Body::empty());
    *req.method_mut() = parts.method.clone();
    *req.uri_mut() = parts.uri.clone();
    let headers = req.headers_mut();
    for name in [header::IF_MODIFIED_SINCE, header::IF_UNMODIFIED_SINCE] {
        if let Some(v) = parts.headers.get(&name) {
            if name == header::IF_MODIFIED_SINCE
                && (no_modified_since
                    || representation::is_future_date(v.to_str().unwrap_or(""), now))
            {
                continue;
            }
            headers.insert(name, v.clone());
        }
    }
    for name in [header::IF_NONE_MATCH, header::IF_MATCH] {
        let values: Option<Vec<&str>> = parts
            .headers
            .get_all(&name)
            .iter()
            .map(|v| v.to_str().ok())
            .collect();
        let tags = match values {
            Some(v) if v.is_empty() => continue,
            Some(v) => variant.file_tags(&v.join(", ")),
            // Not text: names none of our (ASCII) tags.
            None => representation::NO_TAG.to_owned(),
        };
        if let Ok(value) = HeaderValue::from_str(&tags) {
            headers.insert(name, value);
        }
    }
    if let Some(r) = range.and_then(|r| HeaderValue::from_str(r).ok()) {
        headers.insert(header::RANGE, r);
    }
    req
}

/// The `Link` header of a head feed document (`<feed>/atom.xml`, `rss.xml`, `feed.json`) when
/// `[websub]` is configured: the hub and the document's public URL, the topic subscribers use
/// (WebSub section 4). `None` for every other file.
pub fn websub_link(cfg: &Config, rel: &Path, name: &str) -> Option<String> {
    let hub = &cfg.websub.as_ref()?.hub;
    let mut parts = rel.components();
    let feed = parts.next()?.as_os_str().to_str()?;
    if parts.next().is_none()
        || parts.next().is_some()
        || ![ATOM_FILE, RSS_FILE, JSON_FILE].contains(&name)
        || !cfg.feeds.iter().any(|f| f.name == feed)
    {
        return None;
    }
    let topic = url::Url::parse(&cfg.public_url)
        .ok()?
        .join(&format!("{feed}/{name}"))
        .ok()?;
    Some(format!("<{hub}>; rel=\"hub\", <{topic}>; rel=\"self\""))
}

// ---------------------------------------------------------------------------------------------
// Index

/// A feed document format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedFormat {
    /// `atom.xml`
    Atom,
    /// `rss.xml`
    Rss,
    /// `feed.json`
    Json,
}

impl FeedFormat {
    /// All formats, in the order they are listed.
    pub const ALL: [FeedFormat; 3] = [FeedFormat::Atom, FeedFormat::Rss, FeedFormat::Json];

    /// The file name inside the feed's directory.
    pub fn file(self) -> &'static str {
        match self {
            FeedFormat::Atom => ATOM_FILE,
            FeedFormat::Rss => RSS_FILE,
            FeedFormat::Json => JSON_FILE,
        }
    }

    /// The media type, without parameters (for `<link type>`).
    pub fn media_type(self) -> &'static str {
        match self {
            FeedFormat::Atom => "application/atom+xml",
            FeedFormat::Rss => "application/rss+xml",
            FeedFormat::Json => "application/feed+json",
        }
    }

    /// What a reader sees.
    pub fn label(self) -> &'static str {
        match self {
            FeedFormat::Atom => "Atom",
            FeedFormat::Rss => "RSS",
            FeedFormat::Json => "JSON Feed",
        }
    }
}

/// One feed on the index page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexFeed {
    /// `[[feed]] name`: its directory.
    pub name: String,
    /// Its title.
    pub title: String,
    /// Its description, if any.
    pub description: Option<String>,
    /// The formats whose file exists.
    pub formats: Vec<FeedFormat>,
}

/// The feeds of `cfg`, each with the formats already published in `output_dir`.
pub fn index_feeds(cfg: &Config) -> Vec<IndexFeed> {
    let mut feeds: Vec<IndexFeed> = cfg
        .feeds
        .iter()
        .map(|f| IndexFeed {
            name: f.name.clone(),
            title: f.title().to_owned(),
            description: f.description.clone().filter(|d| !d.trim().is_empty()),
            formats: FeedFormat::ALL
                .into_iter()
                .filter(|fmt| cfg.output_dir.join(&f.name).join(fmt.file()).is_file())
                .collect(),
        })
        .collect();
    // The digest's issues, an Atom feed of their own once one is written.
    if let Some(d) = &cfg.digest
        && let Some(feed) = cfg.feeds.iter().find(|f| f.name == d.feed)
    {
        let name = format!("{}/digest", feed.name);
        if cfg
            .output_dir
            .join(&name)
            .join(FeedFormat::Atom.file())
            .is_file()
        {
            feeds.push(IndexFeed {
                title: format!("{}: weekly digest", feed.title()),
                description: Some("Each week's digest issue, as mailed to subscribers.".into()),
                name,
                formats: vec![FeedFormat::Atom],
            });
        }
    }
    feeds
}

/// The HTML index: one section per feed with subscribe links, and a
/// `<link rel="alternate">` per published document so feed readers discover them. Links are
/// relative to `/`. Everything from the configuration is HTML-escaped. Pure.
pub fn render_index(feeds: &[IndexFeed]) -> String {
    use html_escape::{encode_double_quoted_attribute as attr, encode_text as esc};
    let mut head = String::new();
    let mut body = String::new();
    for f in feeds {
        body.push_str(&format!("<section>\n<h2>{}</h2>\n", esc(&f.title)));
        if let Some(d) = &f.description {
            body.push_str(&format!("<p>{}</p>\n", esc(d)));
        }
        if f.formats.is_empty() {
            body.push_str("<p>Not published yet.</p>\n");
        } else {
            body.push_str("<ul>\n");
            for fmt in &f.formats {
                let href = format!("{}/{}", f.name, fmt.file());
                let title = format!("{} ({})", f.title, fmt.label());
                head.push_str(&format!(
                    "<link rel=\"alternate\" type=\"{}\" title=\"{}\" href=\"{}\">\n",
                    fmt.media_type(),
                    attr(&title),
                    attr(&href)
                ));
                body.push_str(&format!(
                    "<li><a href=\"{}\" type=\"{}\">{}</a></li>\n",
                    attr(&href),
                    fmt.media_type(),
                    esc(fmt.label())
                ));
            }
            body.push_str("</ul>\n");
        }
        body.push_str("</section>\n");
    }
    if feeds.is_empty() {
        body.push_str("<p>No feeds are configured.</p>\n");
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Feeds</title>\n{head}</head>\n<body>\n<h1>Feeds</h1>\n\
         <p>Copy a link into your feed reader to subscribe.</p>\n{body}</body>\n</html>\n"
    )
}

async fn index(State(st): Shared) -> Response {
    let st2 = st.clone();
    match tokio::task::spawn_blocking(move || render_index(&index_feeds(&st2.cfg))).await {
        Ok(html) => ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response(),
        Err(_) => text(StatusCode::INTERNAL_SERVER_ERROR, "internal error\n"),
    }
}

// ---------------------------------------------------------------------------------------------
// Health

/// The `/healthz` document.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Health {
    /// `ok`, `failing` (some source is failing, or some feed could not be published), `no runs
    /// yet` (no database yet, or the first run is creating it), `store unavailable` or `store
    /// unwritable` (the daemon's last refresh could not write it: a full disk).
    pub status: String,
    /// One per configured source, in configuration order.
    pub sources: Vec<SourceHealth>,
    /// One per configured feed, in configuration order.
    pub feeds: Vec<FeedHealth>,
    /// The last recorded digest issue, for information only (never makes the check fail).
    pub last_digest: Option<DigestHealth>,
    /// The digest that could not be sent, while it cannot (information only, as `last_digest`).
    pub digest_failing: Option<DigestFailing>,
    /// Why the store could not be read, if it could not.
    pub error: Option<String>,
}

/// Health of one source.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceHealth {
    /// The source name.
    pub name: String,
    /// `healthy`, `degraded`, `failing`, or `unknown` when it never ran.
    pub state: String,
    /// Why it is degraded or failing.
    pub reason: Option<String>,
    /// Last run that ended without error (RFC 3339).
    pub last_success: Option<String>,
    /// Last run (RFC 3339).
    pub last_run: Option<String>,
    /// Error of the last run, if it failed.
    pub last_error: Option<String>,
}

/// How publishing one feed last went.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeedHealth {
    /// The feed name.
    pub name: String,
    /// `published`, `failing` (its files could not be written) or `unknown` (never published).
    pub state: String,
    /// The last time all its files were written or found unchanged (RFC 3339).
    pub last_published: Option<String>,
    /// Why publishing it fails, and since when (RFC 3339), while it does.
    pub error: Option<String>,
    pub failing_since: Option<String>,
}

/// A digest that could not be sent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DigestFailing {
    /// The feed it digests.
    pub feed: String,
    /// The ISO week it was for.
    pub week: String,
    pub error: String,
    /// Since when it has been failing (RFC 3339).
    pub since: String,
}

/// The last digest issue.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DigestHealth {
    /// The feed it digests.
    pub feed: String,
    /// ISO week, `2024-W46`.
    pub week: String,
    /// Its subject.
    pub subject: String,
    /// When it was sent or written (RFC 3339).
    pub sent_at: String,
    /// Whether an SMTP server accepted it.
    pub delivered: bool,
}

impl Health {
    /// 503 when a source is failing, a feed cannot be published or the store cannot be read,
    /// else 200.
    pub fn http_status(&self) -> StatusCode {
        if matches!(
            self.status.as_str(),
            "failing" | "store unavailable" | "store unwritable"
        ) {
            StatusCode::SERVICE_UNAVAILABLE
        } else {
            StatusCode::OK
        }
    }
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Why this process's jobs could not write the store at all (a full disk), while they cannot:
/// set and cleared by the daemon after each refresh. The store cannot record that itself, and
/// its record of the runs is stale meanwhile, so `/healthz` says it (`store unwritable`, 503).
static STORE_UNWRITABLE: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

/// Set (or clear, with `None`) what `/healthz` reports as [`STORE_UNWRITABLE`].
pub fn set_store_unwritable(why: Option<String>) {
    *STORE_UNWRITABLE.lock().unwrap_or_else(|p| p.into_inner()) = why;
}

/// Read the health of every configured source (and the last digest) from the store, opened
/// read-only, and what this process knows of the store beyond it ([`STORE_UNWRITABLE`]).
pub fn read_health(cfg: &Config) -> Health {
    let mut health = read_stored_health(cfg);
    if let Some(why) = STORE_UNWRITABLE
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone()
    {
        health.status = "store unwritable".to_owned();
        health.error = Some(redact::userinfo(&why).into_owned());
    }
    health
}

/// [`read_health`] from the store alone.
fn read_stored_health(cfg: &Config) -> Health {
    let unknown = |name: &str| SourceHealth {
        name: name.to_owned(),
        state: "unknown".to_owned(),
        reason: None,
        last_success: None,
        last_run: None,
        last_error: None,
    };
    let all_unknown = || cfg.sources.iter().map(|s| unknown(&s.name)).collect();
    let feeds_unknown = || {
        cfg.feeds
            .iter()
            .map(|f| FeedHealth {
                name: f.name.clone(),
                state: "unknown".to_owned(),
                last_published: None,
                error: None,
                failing_since: None,
            })
            .collect::<Vec<_>>()
    };
    type Read = (
        Vec<SourceHealth>,
        Vec<FeedHealth>,
        Option<DigestHealth>,
        Option<DigestFailing>,
    );
    // `None`: nothing to read yet (no database, or the first run is creating it).
    let read = || -> Result<Option<Read>, StoreError> {
        let Some(store) = Store::open_read_only_if_ready(&cfg.store.path)? else {
            return Ok(None);
        };
        let states = store.feed_states()?;
        let feeds = feeds_unknown()
            .into_iter()
            .map(|mut f| {
                if let Some(st) = states.iter().find(|st| st.feed == f.name) {
                    f.state = if st.last_error.is_some() {
                        "failing"
                    } else {
                        "published"
                    }
                    .to_owned();
                    f.last_published = st.last_published.map(rfc3339);
                    f.error = st
                        .last_error
                        .as_ref()
                        .map(|e| redact::userinfo(e).into_owned());
                    f.failing_since = st.failing_since.map(rfc3339);
                }
                f
            })
            .collect();
        let mut sources = Vec::new();
        for s in &cfg.sources {
            sources.push(match store.source_state(&s.name)? {
                None => unknown(&s.name),
                // Error texts may quote a source's URL, credentials included.
                Some(st) => SourceHealth {
                    name: s.name.clone(),
                    state: st.state,
                    reason: st.reason.map(|r| redact::userinfo(&r).into_owned()),
                    last_success: st.last_success.map(rfc3339),
                    last_run: Some(rfc3339(st.last_run)),
                    last_error: st.last_error.map(|e| redact::userinfo(&e).into_owned()),
                },
            });
        }
        let digest = match &cfg.digest {
            Some(d) => store
                .digest_issues(&d.feed)?
                .into_iter()
                .next()
                .map(|i| DigestHealth {
                    feed: d.feed.clone(),
                    week: i.week,
                    subject: i.subject,
                    sent_at: rfc3339(i.sent_at),
                    delivered: i.delivered,
                }),
            None => None,
        };
        let failing = match &cfg.digest {
            Some(d) => store.digest_failure(&d.feed)?.map(|f| DigestFailing {
                feed: f.feed,
                week: f.week,
                error: redact::userinfo(&f.error).into_owned(),
                since: rfc3339(f.since),
            }),
            None => None,
        };
        Ok(Some((sources, feeds, digest, failing)))
    };
    match read() {
        Ok(None) => Health {
            status: "no runs yet".to_owned(),
            sources: all_unknown(),
            feeds: feeds_unknown(),
            last_digest: None,
            digest_failing: None,
            error: None,
        },
        Ok(Some((sources, feeds, last_digest, digest_failing))) => Health {
            status: if sources.iter().any(|s| s.state == "failing")
                || feeds.iter().any(|f| f.state == "failing")
            {
                "failing"
            } else {
                "ok"
            }
            .to_owned(),
            sources,
            feeds,
            last_digest,
            digest_failing,
            error: None,
        },
        Err(e) => Health {
            status: "store unavailable".to_owned(),
            sources: all_unknown(),
            feeds: feeds_unknown(),
            last_digest: None,
            digest_failing: None,
            error: Some(redact::userinfo(&e.to_string()).into_owned()),
        },
    }
}

async fn healthz(State(st): Shared) -> Response {
    let health = match tokio::task::spawn_blocking(move || read_health(&st.cfg)).await {
        Ok(h) => h,
        Err(_) => return text(StatusCode::INTERNAL_SERVER_ERROR, "internal error\n"),
    };
    let body = serde_json::to_string_pretty(&health).unwrap_or_else(|_| "{}".to_owned());
    (
        health.http_status(),
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body + "\n",
    )
        .into_response()
}

// ---------------------------------------------------------------------------------------------
// Metrics

/// `/metrics` in the Prometheus text format, computed from the store (so the figures are right
/// whichever process did the runs). Only configured sources and the digest's feed are reported.
pub fn read_metrics(cfg: &Config) -> String {
    let mut readable = Family::new(
        "feedwright_store_readable",
        "1 when the database could be read for this scrape, 0 when it does not exist yet (or the first run is creating it) or failed.",
        Kind::Gauge,
    );
    // Nothing to read yet (no database, or the first run creating it) is no failure to log.
    let store = Store::open_read_only_if_ready(&cfg.store.path)
        .map_err(|e| tracing::warn!("metrics: {e}"))
        .ok()
        .flatten();
    let families = store.and_then(|s| {
        metric_families(cfg, &s)
            .map_err(|e| tracing::warn!("metrics: {e}"))
            .ok()
    });
    readable.push(vec![], if families.is_some() { 1.0 } else { 0.0 });
    let mut all = vec![readable];
    all.extend(families.unwrap_or_default());
    metrics::render(&all)
}

/// A per-source counter: name, help, and which total it reports.
type Counter = (
    &'static str,
    &'static str,
    fn(&crate::store::readonly::RunTotals) -> u64,
);

fn metric_families(cfg: &Config, store: &Store) -> Result<Vec<Family>, StoreError> {
    let totals = store.run_totals()?;
    let bounds_ms: Vec<u64> = DURATION_BUCKETS_SECS
        .iter()
        .map(|s| (s * 1000.0) as u64)
        .collect();
    let hists = store.run_duration_histograms(&bounds_ms)?;
    let counters: [Counter; 7] = [
        (
            "feedwright_source_runs_total",
            "Recorded runs of each source.",
            |t| t.runs,
        ),
        (
            "feedwright_source_requests_total",
            "HTTP requests made for each source.",
            |t| t.requests,
        ),
        (
            "feedwright_source_not_modified_total",
            "Requests answered 304 Not Modified.",
            |t| t.not_modified,
        ),
        (
            "feedwright_source_received_bytes_total",
            "Response body bytes received.",
            |t| t.bytes,
        ),
        (
            "feedwright_source_entries_new_total",
            "Entries stored for the first time.",
            |t| t.new,
        ),
        (
            "feedwright_source_entries_updated_total",
            "Stored entries rewritten because their content changed.",
            |t| t.updated,
        ),
        (
            "feedwright_source_failures_total",
            "Posts or pages whose fetch or extraction failed.",
            |t| t.failures,
        ),
    ];
    let mut out = Vec::new();
    for (name, help, get) in counters {
        let mut f = Family::new(name, help, Kind::Counter);
        for s in &cfg.sources {
            let v = totals.iter().find(|t| t.source == s.name).map_or(0, get);
            f.push(vec![("source", s.name.clone())], v as f64);
        }
        out.push(f);
    }

    // Requests by how they ended; a source shows only the statuses it has seen.
    let statuses = store.fetch_status_totals()?;
    let mut fetches = Family::new(
        "feedwright_source_fetches_total",
        "HTTP requests made for each source by how they ended: the final status code (after redirects), or timeout, connect or error.",
        Kind::Counter,
    );
    for s in &cfg.sources {
        for t in statuses.iter().filter(|t| t.source == s.name) {
            fetches.push(
                vec![("source", s.name.clone()), ("status", t.status.clone())],
                t.count as f64,
            );
        }
    }
    out.push(fetches);

    let mut degraded = 0u64;
    let mut failing = 0u64;
    let mut last_success = Family::new(
        "feedwright_source_last_success_timestamp_seconds",
        "Unix time of the last run of each source that ended without error.",
        Kind::Gauge,
    );
    for s in &cfg.sources {
        if let Some(st) = store.source_state(&s.name)? {
            match st.state.as_str() {
                "degraded" => degraded += 1,
                "failing" => failing += 1,
                _ => {}
            }
            if let Some(t) = st.last_success {
                last_success.push(vec![("source", s.name.clone())], t.timestamp() as f64);
            }
        }
    }
    let mut g = Family::new(
        "feedwright_sources_degraded",
        "Sources whose last informative run looked degraded (extraction drift).",
        Kind::Gauge,
    );
    g.push(vec![], degraded as f64);
    out.push(g);
    let mut g = Family::new(
        "feedwright_sources_failing",
        "Sources whose last run failed as a whole.",
        Kind::Gauge,
    );
    g.push(vec![], failing as f64);
    out.push(g);
    out.push(last_success);

    let mut h = Family::new(
        "feedwright_source_run_duration_seconds",
        "Duration of measured source runs.",
        Kind::Histogram,
    );
    for s in &cfg.sources {
        let hist = hists.iter().find(|x| x.source == s.name);
        let buckets: Vec<(f64, u64)> = DURATION_BUCKETS_SECS
            .iter()
            .enumerate()
            .map(|(i, le)| {
                (
                    *le,
                    hist.and_then(|x| x.cumulative.get(i).copied()).unwrap_or(0),
                )
            })
            .collect();
        h.push_histogram(
            vec![("source", s.name.clone())],
            &buckets,
            hist.map_or(0.0, |x| x.sum_ms as f64 / 1000.0),
            hist.map_or(0, |x| x.count),
        );
    }
    out.push(h);

    if cfg.websub.is_some() {
        let mut owed = Family::new(
            "feedwright_websub_pings_owed",
            "WebSub publish pings the hub has not accepted yet (sent again after the next publish).",
            Kind::Gauge,
        );
        owed.push(vec![], store.websub_owed_count()? as f64);
        out.push(owed);
    }

    let states = store.feed_states()?;
    let mut failing = Family::new(
        "feedwright_feed_publish_failing",
        "1 while the feed's files cannot be written (its last publish failed), else 0.",
        Kind::Gauge,
    );
    let mut published = Family::new(
        "feedwright_feed_last_published_timestamp_seconds",
        "When all the feed's files were last written or found unchanged (Unix time).",
        Kind::Gauge,
    );
    for f in &cfg.feeds {
        let st = states.iter().find(|st| st.feed == f.name);
        let labels = vec![("feed", f.name.clone())];
        failing.push(
            labels.clone(),
            f64::from(u8::from(st.is_some_and(|st| st.last_error.is_some()))),
        );
        if let Some(t) = st.and_then(|st| st.last_published) {
            published.push(labels, t.timestamp() as f64);
        }
    }
    out.push(failing);
    out.push(published);

    let counts = store.digest_counts()?;
    let mut sent = Family::new(
        "feedwright_digests_sent_total",
        "Digest issues accepted by the SMTP server.",
        Kind::Counter,
    );
    let mut written = Family::new(
        "feedwright_digests_written_total",
        "Digest issues written to files, sent or not.",
        Kind::Counter,
    );
    let mut feeds: Vec<String> = counts.iter().map(|c| c.feed.clone()).collect();
    if let Some(d) = &cfg.digest
        && !feeds.contains(&d.feed)
    {
        feeds.push(d.feed.clone());
    }
    feeds.sort();
    for feed in feeds {
        let c = counts.iter().find(|c| c.feed == feed);
        sent.push(
            vec![("feed", feed.clone())],
            c.map_or(0, |c| c.delivered) as f64,
        );
        written.push(vec![("feed", feed)], c.map_or(0, |c| c.written) as f64);
    }
    out.push(sent);
    out.push(written);
    if let Some(d) = &cfg.digest {
        let mut failing = Family::new(
            "feedwright_digest_failing",
            "1 while the digest could not be sent (SMTP refused or unreachable, a template error), else 0.",
            Kind::Gauge,
        );
        failing.push(
            vec![("feed", d.feed.clone())],
            f64::from(u8::from(store.digest_failure(&d.feed)?.is_some())),
        );
        out.push(failing);
    }
    Ok(out)
}

/// How long a rendered `/metrics` is served again while the store has not changed. Short, so
/// that a change the stamp could miss (two commits of the same size within the file system's
/// time granularity) shows soon anyway.
pub const METRICS_REUSE: Duration = Duration::from_secs(5);

/// A text rendered at most once at a time and reused while it is current.
///
/// Single flight: a request arriving while the text is rendered waits for that rendering and
/// takes its text. Later requests take the last text while its stamp (what it was rendered
/// from, such as the store's [`ChangeStamp`]) is unchanged and it is younger than `max_age`;
/// otherwise they render it again. Texts are kept in the order they were rendered, and a
/// request never gets one finished before it arrived unless its stamp still holds, so figures
/// a client sees never go back.
struct Reuse<K> {
    max_age: Duration,
    last: tokio::sync::Mutex<Option<Rendered<K>>>,
}

struct Rendered<K> {
    /// The stamp read just before rendering.
    stamp: K,
    /// When the rendering began and ended.
    started: Instant,
    finished: Instant,
    text: axum::body::Bytes,
}

impl<K: PartialEq> Reuse<K> {
    fn new(max_age: Duration) -> Reuse<K> {
        Reuse {
            max_age,
            last: tokio::sync::Mutex::new(None),
        }
    }

    /// The current text: `stamp` reads what the text depends on now, `render` makes it; `None`
    /// when either failed (nothing is kept then).
    async fn get<S, R>(&self, stamp: S, render: R) -> Option<axum::body::Bytes>
    where
        S: Future<Output = Option<K>>,
        R: Future<Output = Option<axum::body::Bytes>>,
    {
        let arrived = Instant::now();
        let mut last = self.last.lock().await;
        if let Some(r) = last.as_ref()
            && r.finished >= arrived
        {
            return Some(r.text.clone());
        }
        let stamp = stamp.await?;
        if let Some(r) = last.as_ref()
            && r.stamp == stamp
            && r.started.elapsed() < self.max_age
        {
            return Some(r.text.clone());
        }
        let started = Instant::now();
        let text = render.await?;
        *last = Some(Rendered {
            stamp,
            started,
            finished: Instant::now(),
            text: text.clone(),
        });
        Some(text)
    }
}

/// `/metrics`, rendered again only when the store changed or the last text is
/// [`METRICS_REUSE`] old, and once at a time (see [`Reuse`]).
async fn metrics_text(st: &Arc<AppState>) -> Option<axum::body::Bytes> {
    let path = st.cfg.store.path.clone();
    let stamp = async move {
        tokio::task::spawn_blocking(move || ChangeStamp::of(&path))
            .await
            .ok()
    };
    let st2 = st.clone();
    let render = async move {
        tokio::task::spawn_blocking(move || read_metrics(&st2.cfg))
            .await
            .ok()
            .map(axum::body::Bytes::from)
    };
    st.metrics.get(stamp, render).await
}

async fn metrics_handler(State(st): Shared) -> Response {
    match metrics_text(&st).await {
        Some(body) => (
            [
                (
                    header::CONTENT_TYPE,
                    "text/plain; version=0.0.4; charset=utf-8",
                ),
                (header::CACHE_CONTROL, "no-store"),
            ],
            body,
        )
            .into_response(),
        None => text(StatusCode::INTERNAL_SERVER_ERROR, "internal error\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The store counts runs folded out of its history with their duration rounded up to
    /// 100 ms: exact only for bucket bounds that are multiples of it.
    #[test]
    fn duration_buckets_are_whole_tenths_of_a_second() {
        for secs in DURATION_BUCKETS_SECS {
            let ms = secs * 1000.0;
            assert!(
                ms.fract() == 0.0 && (ms as u64).is_multiple_of(100),
                "{secs} s"
            );
        }
    }

    /// The server's connection registry spares the `[server] proxies` of its configuration
    /// from the per-address limit (32 requests of 256 connections), and only them.
    #[test]
    fn the_configured_proxies_reach_the_connection_registry() {
        let cfg = Config::parse(
            "output_dir = \"out\"\n[[source]]\nname = \"s\"\nurl = \"https://s.example.org/\"\n\
             [[feed]]\nname = \"f\"\nsources = [\"s\"]\n\
             [server]\nproxies = [\"192.0.2.0/24\"]\n",
            std::path::Path::new("config.toml"),
        )
        .expect("valid");
        let conns = conns_for(&cfg);
        let busy = |peer: &str| {
            let open: Vec<_> = (0..40)
                .map(|_| conns.open(peer.parse().expect("ip")))
                .collect();
            let busy: Vec<_> = open.iter().filter_map(|c| conns.begin(c.conn())).collect();
            busy.len()
        };
        assert_eq!(busy("192.0.2.200"), 40);
        assert_eq!(busy("198.51.100.1"), 32);
    }

    /// Renders counted, each taking `ms`, under a stamp the test sets.
    struct Counted {
        renders: std::sync::atomic::AtomicU32,
        stamp: std::sync::atomic::AtomicU32,
    }

    impl Counted {
        async fn get(&self, reuse: &Reuse<u32>, ms: u64) -> String {
            use std::sync::atomic::Ordering::SeqCst;
            let text = reuse
                .get(async { Some(self.stamp.load(SeqCst)) }, async {
                    let n = self.renders.fetch_add(1, SeqCst) + 1;
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                    Some(axum::body::Bytes::from(format!("render {n}")))
                })
                .await
                .expect("text");
            String::from_utf8(text.to_vec()).expect("utf-8")
        }
    }

    #[tokio::test]
    async fn concurrent_requests_share_one_rendering_and_a_change_renders_again() {
        use std::sync::atomic::Ordering::SeqCst;
        let reuse = Reuse::<u32>::new(Duration::from_secs(60));
        let c = Counted {
            renders: 0.into(),
            stamp: 0.into(),
        };
        // Sixteen at once, the stamp changing under them: one rendering serves them all.
        let texts = futures_util::future::join_all((0..16).map(|i| {
            let c = &c;
            let reuse = &reuse;
            async move {
                if i > 0 {
                    c.stamp.store(i, SeqCst);
                }
                c.get(reuse, 50).await
            }
        }))
        .await;
        assert!(texts.iter().all(|t| t == "render 1"), "{texts:?}");
        assert_eq!(c.renders.load(SeqCst), 1);
        // Later, with the stamp as it was at the last rendering: reused.
        c.stamp.store(0, SeqCst);
        assert_eq!(c.get(&reuse, 0).await, "render 1");
        c.stamp.store(7, SeqCst);
        assert_eq!(c.get(&reuse, 0).await, "render 2", "the stamp changed");
        assert_eq!(c.get(&reuse, 0).await, "render 2", "unchanged since");
        assert_eq!(c.renders.load(SeqCst), 2);
        // Too old: rendered again, the stamp unchanged.
        let short = Reuse::<u32>::new(Duration::from_millis(20));
        assert_eq!(c.get(&short, 0).await, "render 3");
        assert_eq!(c.get(&short, 0).await, "render 3");
        tokio::time::sleep(Duration::from_millis(30)).await;
        assert_eq!(c.get(&short, 0).await, "render 4");
    }

    /// On real sockets: an address with as many requests in progress as it may have gets 503
    /// for the next (loopback is spared in service: here nothing is), until one ends.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn requests_over_the_per_address_limit_are_refused_until_one_ends() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config.toml");
        std::fs::write(
            &path,
            "output_dir = \"out\"\n[[source]]\nname = \"s\"\nurl = \"https://s.example.org/\"\n\
             [[feed]]\nname = \"f\"\nsources = [\"s\"]\n\
             [server]\nlisten = \"127.0.0.1:0\"\nmax_connections = 16\n",
        )
        .expect("config");
        let cfg = Config::load(&path).expect("valid");
        std::fs::create_dir_all(cfg.output_dir.join("f")).expect("mkdir");
        // Far larger than socket buffers: an answer not read stays in progress.
        std::fs::File::create(cfg.output_dir.join("f/big.xml"))
            .and_then(|f| f.set_len(1 << 30))
            .expect("file");
        let listener = bind(&cfg).await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let limit = conns::per_address_limit(16);
        assert_eq!(limit, 4);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let served = cfg.clone();
        let task = tokio::spawn(async move {
            let conns = Conns::new(limit, conns::Exempt::only(Vec::new()));
            let shutdown = async move {
                let _ = stopped.await;
                Duration::from_secs(1)
            };
            serve_until(&served, listener, shutdown, conns).await
        });
        let request = |path: &str| format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").into_bytes();
        let mut held = Vec::new();
        for _ in 0..limit {
            let mut c = tokio::net::TcpStream::connect(addr).await.expect("connect");
            c.write_all(&request("/f/big.xml")).await.expect("send");
            let mut first = [0u8; 12];
            c.read_exact(&mut first).await.expect("answer");
            assert_eq!(&first, b"HTTP/1.1 200");
            held.push(c);
        }
        let answer = |path: &'static str| async move {
            let mut c = tokio::net::TcpStream::connect(addr).await.expect("connect");
            c.write_all(&request(path)).await.expect("send");
            let mut out = Vec::new();
            // Refused answers close the connection; others are read up to their body.
            let _ = tokio::time::timeout(Duration::from_secs(5), async {
                let mut buf = [0u8; 4096];
                while let Ok(n) = c.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                    out.extend_from_slice(&buf[..n]);
                    if out.windows(4).any(|w| w == b"\r\n\r\n") && !out.starts_with(b"HTTP/1.1 503")
                    {
                        break;
                    }
                }
            })
            .await;
            String::from_utf8_lossy(&out).into_owned()
        };
        let refused = answer("/healthz").await;
        assert!(refused.starts_with("HTTP/1.1 503"), "{refused}");
        assert!(refused.contains("retry-after: 1\r\n"), "{refused}");
        assert!(refused.contains("connection: close\r\n"), "{refused}");
        // One download ends: room for one more request.
        drop(held.pop());
        let mut served_again = false;
        for _ in 0..50 {
            if answer("/healthz").await.starts_with("HTTP/1.1 200") {
                served_again = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(served_again);
        drop(held);
        let _ = stop.send(());
        task.await.expect("join").expect("served");
    }

    #[test]
    fn traversal_and_hidden_paths_are_refused() {
        assert_eq!(check_path("/../config.toml"), PathCheck::BadRequest);
        assert_eq!(check_path("/a/%2e%2e/%2E%2E/x"), PathCheck::BadRequest);
        assert_eq!(check_path("/a/..%2fb"), PathCheck::BadRequest);
        assert_eq!(check_path("/a%5c..%5cb"), PathCheck::BadRequest);
        assert_eq!(check_path("/a%00b"), PathCheck::BadRequest);
        for control in [
            "/a%0ab.xml",
            "/atom.xml%0a",
            "/a%09b",
            "/a%1b",
            "/a%7f",
            "/a%c2%85",
        ] {
            assert_eq!(check_path(control), PathCheck::BadRequest, "{control}");
        }
        assert_eq!(check_path("/%ff"), PathCheck::BadRequest);
        assert_eq!(check_path("/f/.atom.xml.x1.tmp"), PathCheck::Hidden);
        assert_eq!(
            check_path(&format!("/{}", "a".repeat(MAX_PATH_LEN))),
            PathCheck::TooLong
        );
        assert_eq!(
            check_path("/f/atom.xml"),
            PathCheck::Serve(PathBuf::from("f/atom.xml"))
        );
        assert_eq!(
            check_path("//f//digest/2024-W01.html"),
            PathCheck::Serve(PathBuf::from("f/digest/2024-W01.html"))
        );
    }

    #[test]
    fn feed_files_get_their_media_types_with_charset() {
        assert_eq!(
            content_type_for("atom.xml"),
            Some("application/atom+xml; charset=utf-8")
        );
        assert_eq!(
            content_type_for("rss.xml"),
            Some("application/rss+xml; charset=utf-8")
        );
        assert_eq!(
            content_type_for("feed.json"),
            Some("application/feed+json; charset=utf-8")
        );
        assert_eq!(
            content_type_for("2024-W01.html"),
            Some("text/html; charset=utf-8")
        );
        assert_eq!(
            content_type_for("2024-W01.txt"),
            Some("text/plain; charset=utf-8")
        );
        assert_eq!(content_type_for("2024-W01.eml"), Some("message/rfc822"));
        assert_eq!(content_type_for("picture.png"), None);
    }

    fn feed(name: &str, title: &str, formats: Vec<FeedFormat>) -> IndexFeed {
        IndexFeed {
            name: name.into(),
            title: title.into(),
            description: Some("<b>desc</b> & more".into()),
            formats,
        }
    }

    #[test]
    fn index_links_every_published_format_in_head_and_body() {
        let html = render_index(&[
            feed("one", "One", FeedFormat::ALL.to_vec()),
            feed("two", "Two", vec![FeedFormat::Rss]),
        ]);
        for (fmt, href) in [
            ("application/atom+xml", "one/atom.xml"),
            ("application/rss+xml", "one/rss.xml"),
            ("application/feed+json", "one/feed.json"),
            ("application/rss+xml", "two/rss.xml"),
        ] {
            assert!(
                html.contains(&format!("rel=\"alternate\" type=\"{fmt}\""))
                    && html.contains(&format!("href=\"{href}\">")),
                "{fmt} {href} in {html}"
            );
        }
        assert!(!html.contains("two/atom.xml"));
        let head_end = html.find("</head>").expect("head");
        assert_eq!(html[..head_end].matches("rel=\"alternate\"").count(), 4);
    }

    #[test]
    fn index_escapes_configured_text() {
        let html = render_index(&[feed(
            "x",
            "<script>alert(\"t\")</script>",
            vec![FeedFormat::Atom],
        )]);
        assert!(!html.contains("<script>"));
        assert!(!html.contains("<b>desc"));
        assert!(html.contains("&lt;script&gt;"));
        assert!(html.contains("&amp; more"));
        // Inside the title attribute the quote is escaped too, so the attribute is not cut.
        assert!(
            html.contains("title=\"&lt;script&gt;alert(&quot;t&quot;)"),
            "{html}"
        );
    }

    #[test]
    fn unpublished_feed_says_so_and_has_no_alternate_link() {
        let html = render_index(&[feed("x", "X", vec![])]);
        assert!(html.contains("Not published yet."));
        assert!(!html.contains("rel=\"alternate\""));
    }
}
