//! The feed server on loopback: content types, validators and 304s, one strong ETag per
//! representation (gzip, the browser's media type), HEAD as GET, byte ranges and `If-Range`, gzip
//! with `Vary`, refused paths (traversal, control characters), the index, `/healthz` from a store
//! a writer holds open, and `/metrics` checked by the Prometheus reference parser (Python
//! `prometheus_client`), including requests by HTTP status after real runs against the loopback
//! fixture site. Also the connection rules on real sockets: the connection cap, the timeouts
//! (silent, trickling, idle and non-reading clients), a stop closing a busy connection after the
//! grace period, gzip copies made once per file version, the request head cap, failing accepts
//! under a low descriptor limit, `Host` checks, `Cache-Control`, credentials kept out of
//! `/healthz` and `status`, and `/metrics` read once per change.

mod common;

use common::parse_prometheus;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use feedwright::config::Config;
use feedwright::model::{DateSource, Entry, EntryId};
use feedwright::publish::{FeedInfo, publish_feed};
use feedwright::server;
use feedwright::store::digest::DigestIssue;
use feedwright::store::{RunHealth, Store, StoreError};
use reqwest::StatusCode;
use reqwest::header::{
    ACCEPT, ACCEPT_ENCODING, ACCEPT_RANGES, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_RANGE,
    CONTENT_TYPE, ETAG, IF_MATCH, IF_MODIFIED_SINCE, IF_NONE_MATCH, IF_RANGE, LAST_MODIFIED, RANGE,
    VARY,
};
use tokio::sync::oneshot;
use url::Url;

const SECRET: &str = "secret-marker-in-config";

/// How long the servers of these tests let requests in progress finish once told to stop.
const GRACE: Duration = Duration::from_secs(1);

struct Fixture {
    dir: tempfile::TempDir,
    cfg: Config,
    addr: SocketAddr,
    served: Served,
}

/// `server::serve` of a config on its `[server] listen` address, until [`Served::stop`].
struct Served {
    addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), server::ServerError>>,
}

impl Served {
    async fn start(cfg: &Config) -> Served {
        let listener = server::bind(cfg).await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop, rx) = oneshot::channel();
        let c = cfg.clone();
        let task = tokio::spawn(async move {
            server::serve(
                &c,
                listener,
                async {
                    let _ = rx.await;
                },
                GRACE,
            )
            .await
        });
        Served { addr, stop, task }
    }

    /// Stop it and wait until it ended, cleanly, within 10 s.
    async fn stop(self) {
        let _ = self.stop.send(());
        tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .expect("server stops within 10 s")
            .expect("join")
            .expect("server ended cleanly");
    }
}

impl Fixture {
    /// A config next to an output directory holding one published feed, and the server on it.
    async fn start() -> Fixture {
        Fixture::start_with("").await
    }

    /// As [`Fixture::start`], with `server_keys` (lines) added to the `[server]` table.
    async fn start_with(server_keys: &str) -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = format!(
            "# {SECRET}\n\
             output_dir = \"feeds\"\n\
             public_url = \"http://127.0.0.1/\"\n\
             [store]\npath = \"state/feedwright.db\"\n\
             [[source]]\nname = \"site-a\"\nurl = \"https://a.example.org/\"\n\
             [[source]]\nname = \"site-b\"\nurl = \"https://b.example.org/\"\n\
             [[feed]]\nname = \"daily\"\ntitle = \"Daily <News> & Views\"\nsources = [\"site-a\"]\n\
             [[feed]]\nname = \"later\"\nsources = [\"site-a\"]\n\
             [digest]\nfeed = \"daily\"\n\
             [server]\nlisten = \"127.0.0.1:0\"\n{server_keys}\n"
        );
        let path = dir.path().join("config.toml");
        std::fs::write(&path, config).expect("write config");
        let cfg = Config::load(&path).expect("valid config");
        publish(&cfg, &[entry("one", "Body one")]);
        // Published a while ago: their `Last-Modified` second is over, so the files have one
        // (a file changed within the current second has none).
        age_files(&cfg.output_dir);
        let served = Served::start(&cfg).await;
        Fixture {
            dir,
            cfg,
            addr: served.addr,
            served,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    async fn stop(self) {
        self.served.stop().await;
    }
}

fn client() -> reqwest::Client {
    // No automatic decompression: the tests look at the encoding the server chose.
    reqwest::Client::builder()
        .no_gzip()
        .no_brotli()
        .build()
        .expect("client")
}

fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(secs, 0).single().expect("time")
}

fn entry(slug: &str, body: &str) -> Entry {
    Entry {
        id: EntryId(format!("https://a.example.org/?p={slug}")),
        dedup_key: format!("a.example.org/{slug}"),
        source: "site-a".into(),
        url: format!("https://a.example.org/{slug}/"),
        title: format!("Post {slug}"),
        published: at(1_700_000_000),
        published_source: DateSource::Jsonld,
        updated: at(1_700_000_000),
        updated_source: DateSource::Jsonld,
        authors: vec!["A. Writer".into()],
        categories: vec!["Daily".into()],
        content_html: format!("<p>{body}</p>"),
        summary: body.into(),
        related: Vec::new(),
        enclosures: Vec::new(),
    }
}

/// Publish the `daily` feed; returns whether its Atom file changed.
fn publish(cfg: &Config, entries: &[Entry]) -> bool {
    let info = FeedInfo {
        name: "daily".into(),
        title: "Daily".into(),
        description: String::new(),
        home_page_url: "https://a.example.org/".into(),
        public_base: Url::parse("http://127.0.0.1/daily/").expect("url"),
        hub: None,
        prev_archive: None,
        language: None,
    };
    let written = publish_feed(&cfg.output_dir, &info, entries, None).expect("publish");
    written[0].1
}

fn header(res: &reqwest::Response, name: reqwest::header::HeaderName) -> String {
    res.headers()
        .get(&name)
        .map(|v| v.to_str().expect("ascii header").to_owned())
        .unwrap_or_default()
}

/// Send `path` exactly as given (no client-side normalisation of `..` or `%2e`), return the
/// status code and the whole answer.
fn raw_get(addr: SocketAddr, path: &str) -> (u16, String) {
    raw_request(
        addr,
        &format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_gets_xml_feeds_as_application_xml_to_apply_their_stylesheet() {
    let fx = Fixture::start().await;
    let c = client();
    const READER: &str = "application/atom+xml, application/rss+xml, application/xml;q=0.9";
    for (path, feed_type) in [
        ("/daily/atom.xml", "application/atom+xml; charset=utf-8"),
        ("/daily/rss.xml", "application/rss+xml; charset=utf-8"),
    ] {
        let res = c
            .get(fx.url(path))
            .header(reqwest::header::ACCEPT, BROWSER)
            .send()
            .await
            .expect("get");
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert_eq!(header(&res, CONTENT_TYPE), "application/xml; charset=utf-8");
        let vary = header(&res, VARY).to_ascii_lowercase();
        let tokens: Vec<&str> = vary.split(',').map(str::trim).collect();
        assert!(
            tokens.contains(&"accept") && tokens.contains(&"accept-encoding"),
            "caches must key on Accept and Accept-Encoding: {vary}"
        );
        let browser_etag = header(&res, ETAG);
        let body = res.bytes().await.expect("body");
        assert!(
            String::from_utf8_lossy(&body).contains("<?xml-stylesheet type=\"text/xsl\""),
            "{path}"
        );

        // Readers that accept HTML too, but not over the feed's own type, or not at all.
        for accept in [
            Some(READER),
            None,
            Some("text/html;q=0"),
            Some("application/atom+xml, application/rss+xml, text/html;q=0.1"),
            Some("*/*;q=0.9, text/html;q=0.5"),
        ] {
            let mut req = c.get(fx.url(path));
            if let Some(a) = accept {
                req = req.header(reqwest::header::ACCEPT, a);
            }
            let res = req.send().await.expect("get");
            assert_eq!(header(&res, CONTENT_TYPE), feed_type, "{path} {accept:?}");
            // The same bytes under another media type are another representation: a cache
            // holding one must not answer a conditional request for the other with it.
            assert_ne!(
                header(&res, ETAG),
                browser_etag,
                "another representation, another ETag"
            );
        }
    }
    // JSON Feed has no stylesheet: always its own type.
    let res = c
        .get(fx.url("/daily/feed.json"))
        .header(reqwest::header::ACCEPT, BROWSER)
        .send()
        .await
        .expect("get");
    assert_eq!(
        header(&res, CONTENT_TYPE),
        "application/feed+json; charset=utf-8"
    );
    fx.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feeds_are_served_with_their_media_types_and_charset() {
    let fx = Fixture::start().await;
    let c = client();
    for (path, ct) in [
        ("/daily/atom.xml", "application/atom+xml; charset=utf-8"),
        ("/daily/rss.xml", "application/rss+xml; charset=utf-8"),
        ("/daily/feed.json", "application/feed+json; charset=utf-8"),
    ] {
        let res = c.get(fx.url(path)).send().await.expect("get");
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert_eq!(header(&res, CONTENT_TYPE), ct, "{path}");
        assert!(!header(&res, LAST_MODIFIED).is_empty(), "{path}");
        let etag = header(&res, ETAG);
        assert!(
            etag.starts_with('"') && etag.ends_with('"'),
            "strong ETag: {etag}"
        );
        let on_disk = std::fs::read(fx.cfg.output_dir.join(&path[1..])).expect("file");
        assert_eq!(
            res.bytes().await.expect("body").as_ref(),
            on_disk.as_slice()
        );
    }
    let digest = fx.cfg.output_dir.join("daily/digest");
    std::fs::create_dir_all(&digest).expect("mkdir");
    for (file, ct) in [
        ("2024-W01.html", "text/html; charset=utf-8"),
        ("2024-W01.txt", "text/plain; charset=utf-8"),
        ("2024-W01.eml", "message/rfc822"),
    ] {
        std::fs::write(digest.join(file), "x").expect("write");
        let res = c
            .get(fx.url(&format!("/daily/digest/{file}")))
            .send()
            .await
            .expect("get");
        assert_eq!(header(&res, CONTENT_TYPE), ct, "{file}");
    }
    let res = c
        .get(fx.url("/daily/missing.xml"))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    fx.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_conditional_requests_get_304_and_the_etag_follows_the_content() {
    let fx = Fixture::start().await;
    let c = client();
    let url = fx.url("/daily/atom.xml");
    let first = c.get(&url).send().await.expect("get");
    let etag = header(&first, ETAG);
    let modified = header(&first, LAST_MODIFIED);

    for _ in 0..2 {
        let res = c
            .get(&url)
            .header(IF_NONE_MATCH, &etag)
            .send()
            .await
            .expect("get");
        assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(header(&res, ETAG), etag);
        assert!(
            header(&res, VARY)
                .to_ascii_lowercase()
                .contains("accept-encoding")
        );
        assert!(res.bytes().await.expect("body").is_empty());
    }
    let res = c
        .get(&url)
        .header(IF_NONE_MATCH, "*")
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED, "If-None-Match: *");
    let res = c
        .get(&url)
        .header(IF_MODIFIED_SINCE, &modified)
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED, "If-Modified-Since");
    let res = c
        .get(&url)
        .header(IF_NONE_MATCH, "\"something-else\"")
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), StatusCode::OK, "another ETag");

    // Same entries again: the file is not rewritten, the ETag stays.
    assert!(!publish(&fx.cfg, &[entry("one", "Body one")]));
    let same = c.get(&url).send().await.expect("get");
    assert_eq!(header(&same, ETAG), etag);

    // Same length, different content: a new ETag, and the old one no longer matches.
    assert!(publish(&fx.cfg, &[entry("one", "Body two")]));
    let changed = c.get(&url).send().await.expect("get");
    let new_etag = header(&changed, ETAG);
    assert_ne!(new_etag, etag);
    assert!(changed.text().await.expect("body").contains("Body two"));
    let res = c
        .get(&url)
        .header(IF_NONE_MATCH, &etag)
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), StatusCode::OK);
    let res = c
        .get(&url)
        .header(IF_NONE_MATCH, &new_etag)
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    fx.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_is_offered_with_vary() {
    let fx = Fixture::start().await;
    let c = client();
    let url = fx.url("/daily/atom.xml");
    let on_disk = std::fs::read(fx.cfg.output_dir.join("daily/atom.xml")).expect("file");

    let res = c
        .get(&url)
        .header(ACCEPT_ENCODING, "gzip")
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, CONTENT_ENCODING), "gzip");
    assert_eq!(
        res.headers().get_all(VARY).iter().count(),
        1,
        "one Vary header"
    );
    assert!(
        header(&res, VARY)
            .to_ascii_lowercase()
            .contains("accept-encoding")
    );
    let zipped = res.bytes().await.expect("body");
    let mut plain = Vec::new();
    flate2::read::GzDecoder::new(zipped.as_ref())
        .read_to_end(&mut plain)
        .expect("valid gzip");
    assert_eq!(plain, on_disk);

    let res = c.get(&url).send().await.expect("get");
    assert_eq!(header(&res, CONTENT_ENCODING), "");
    assert!(
        header(&res, VARY)
            .to_ascii_lowercase()
            .contains("accept-encoding")
    );
    assert_eq!(
        res.bytes().await.expect("body").as_ref(),
        on_disk.as_slice()
    );
    fx.stop().await;
}

/// What a browser sends as `Accept` when it navigates to a page.
const BROWSER: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

/// An HTTP-date as servers send it (IMF-fixdate).
fn http_date(t: DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// Give `path` the modification time `t` plus `nanos`.
fn set_mtime(path: &Path, t: DateTime<Utc>, nanos: u32) {
    let time = std::time::UNIX_EPOCH + Duration::new(t.timestamp() as u64, nanos);
    std::fs::File::options()
        .write(true)
        .open(path)
        .expect("open")
        .set_modified(time)
        .expect("set mtime");
}

/// Set the modification time of every file under `dir` to a minute ago.
fn age_files(dir: &Path) {
    let then = Utc::now() - chrono::Duration::minutes(1);
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            age_files(&path);
        } else {
            set_mtime(&path, then, 0);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_range_is_served_only_while_if_range_matches_the_current_file() {
    let fx = Fixture::start().await;
    let c = client();
    let file = fx.cfg.output_dir.join("daily/atom.xml");
    // Written long ago, so its Last-Modified second is over and a date can validate it.
    set_mtime(&file, at(1_700_000_000), 0);
    let on_disk = std::fs::read(&file).expect("file");
    let url = fx.url("/daily/atom.xml");
    let first = c.get(&url).send().await.expect("get");
    let etag = header(&first, ETAG);
    let modified = header(&first, LAST_MODIFIED);
    assert_eq!(modified, http_date(at(1_700_000_000)));

    let ranged = |if_range: Option<String>| {
        let mut req = c.get(&url).header(RANGE, "bytes=0-9");
        if let Some(v) = if_range {
            req = req.header(IF_RANGE, v);
        }
        req.send()
    };
    for if_range in [None, Some(etag.clone()), Some(modified.clone())] {
        let res = ranged(if_range.clone()).await.expect("get");
        assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT, "{if_range:?}");
        assert_eq!(
            header(&res, CONTENT_RANGE),
            format!("bytes 0-9/{}", on_disk.len()),
            "{if_range:?}"
        );
        assert_eq!(header(&res, ETAG), etag, "{if_range:?}");
        assert_eq!(
            res.bytes().await.expect("body").as_ref(),
            &on_disk[..10],
            "{if_range:?}"
        );
    }
    // A validator of another version (or a weak one, or a date one second off, or nothing
    // usable) means the client's partial copy is not of this file: the whole file, 200.
    for stale in [
        "\"stale\"".to_owned(),
        format!("W/{etag}"),
        http_date(at(1_699_999_999)),
        http_date(at(1_700_000_001)),
        "Mon, 13 Nov 2023 22:13:20 GMT".to_owned(),
        "not a validator".to_owned(),
    ] {
        let res = ranged(Some(stale.clone())).await.expect("get");
        assert_eq!(res.status(), StatusCode::OK, "If-Range: {stale}");
        assert_eq!(header(&res, CONTENT_RANGE), "", "If-Range: {stale}");
        assert_eq!(header(&res, ETAG), etag, "If-Range: {stale}");
        assert_eq!(
            res.bytes().await.expect("body").as_ref(),
            on_disk.as_slice(),
            "If-Range: {stale}"
        );
    }
    // Same length, new content, within the same second: the old ETag no longer validates
    // the range.
    assert!(publish(&fx.cfg, &[entry("one", "Body two")]));
    set_mtime(&file, at(1_700_000_000), 500_000_000);
    let changed = std::fs::read(&file).expect("file");
    assert_eq!(changed.len(), on_disk.len());
    let res = ranged(Some(etag.clone())).await.expect("get");
    assert_eq!(res.status(), StatusCode::OK, "old ETag after a rewrite");
    assert_ne!(header(&res, ETAG), etag);
    assert_eq!(
        res.bytes().await.expect("body").as_ref(),
        changed.as_slice()
    );

    // A Last-Modified whose second is not over yet is not a strong validator: the file could
    // still change within it, unseen by a date.
    let soon = Utc::now() + chrono::Duration::hours(1);
    set_mtime(&file, soon, 0);
    let res = ranged(Some(http_date(soon))).await.expect("get");
    assert_eq!(res.status(), StatusCode::OK, "date of the current second");
    fx.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_ranges_or_another_unit_are_ignored_not_refused() {
    let fx = Fixture::start().await;
    let c = client();
    let on_disk = std::fs::read(fx.cfg.output_dir.join("daily/atom.xml")).expect("file");
    let url = fx.url("/daily/atom.xml");
    for range in [
        "bytes=0-1,5-6",
        "bytes=0-1, 5-6, 8-9",
        "bytes=0-1,100000000-200000000",
        "items=0-1",
    ] {
        let res = c.get(&url).header(RANGE, range).send().await.expect("get");
        assert_eq!(res.status(), StatusCode::OK, "Range: {range}");
        assert_eq!(header(&res, CONTENT_RANGE), "", "Range: {range}");
        assert_eq!(
            res.bytes().await.expect("body").as_ref(),
            on_disk.as_slice(),
            "Range: {range}"
        );
    }
    // One range is still served, and one past the end still refused.
    let res = c
        .get(&url)
        .header(RANGE, "bytes=5-6")
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(res.bytes().await.expect("body").as_ref(), &on_disk[5..7]);
    let res = c
        .get(&url)
        .header(RANGE, "bytes=100000000-")
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    fx.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_characters_in_the_path_are_refused() {
    let fx = Fixture::start().await;
    let dir = fx.cfg.output_dir.join("daily");
    for name in ["a\nb.xml", "a\tb.xml", "a\x7fb.xml", "a\u{85}b.xml"] {
        std::fs::write(dir.join(name), SECRET).expect("write");
    }
    for path in [
        "/daily/a%0ab.xml",
        "/daily/a%0Ab.xml",
        "/daily/a%09b.xml",
        "/daily/a%7fb.xml",
        "/daily/a%C2%85b.xml",
        "/daily/atom.xml%0a",
        "/daily/atom.xml%0d%0a",
        "/daily%1b/atom.xml",
    ] {
        let res = client().get(fx.url(path)).send().await.expect("get");
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{path}");
        assert!(!res.text().await.expect("body").contains(SECRET), "{path}");
    }
    let res = client()
        .get(fx.url("/daily/atom.xml"))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), StatusCode::OK);
    fx.stop().await;
}

/// The headers that describe a representation, as sent.
fn representation_headers(res: &reqwest::Response) -> Vec<(&'static str, String)> {
    [
        ("content-type", CONTENT_TYPE),
        ("content-encoding", CONTENT_ENCODING),
        ("content-length", CONTENT_LENGTH),
        ("etag", ETAG),
        ("last-modified", LAST_MODIFIED),
        ("vary", VARY),
        ("accept-ranges", ACCEPT_RANGES),
        ("content-range", CONTENT_RANGE),
    ]
    .into_iter()
    .map(|(n, h)| (n, header(res, h)))
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn head_answers_with_the_headers_get_would() {
    let fx = Fixture::start().await;
    let c = client();
    let url = fx.url("/daily/atom.xml");
    let size = std::fs::metadata(fx.cfg.output_dir.join("daily/atom.xml"))
        .expect("file")
        .len();
    for encoding in [None, Some("gzip")] {
        for accept in [None, Some(BROWSER)] {
            let send = |req: reqwest::RequestBuilder| {
                let mut req = req;
                if let Some(e) = encoding {
                    req = req.header(ACCEPT_ENCODING, e);
                }
                if let Some(a) = accept {
                    req = req.header(ACCEPT, a);
                }
                req.send()
            };
            let get = send(c.get(&url)).await.expect("get");
            let head = send(c.head(&url)).await.expect("head");
            let what = format!("Accept-Encoding {encoding:?}, Accept {accept:?}");
            assert_eq!(get.status(), StatusCode::OK, "{what}");
            assert_eq!(head.status(), StatusCode::OK, "{what}");
            assert_eq!(
                representation_headers(&head),
                representation_headers(&get),
                "{what}"
            );
            let expected = if encoding.is_some() { "gzip" } else { "" };
            assert_eq!(header(&head, CONTENT_ENCODING), expected, "{what}");
            if encoding.is_none() {
                assert_eq!(header(&head, CONTENT_LENGTH), size.to_string(), "{what}");
            }
            assert!(head.bytes().await.expect("body").is_empty(), "{what}");
        }
    }
    // Range applies to GET only: HEAD describes the whole representation.
    let res = c
        .head(&url)
        .header(RANGE, "bytes=0-9")
        .send()
        .await
        .expect("head");
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, CONTENT_RANGE), "");
    assert_eq!(header(&res, CONTENT_LENGTH), size.to_string());
    fx.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_representation_has_its_own_strong_etag_and_304() {
    let fx = Fixture::start().await;
    let c = client();
    let url = fx.url("/daily/atom.xml");
    let variants = [
        (None, None),
        (Some("gzip"), None),
        (None, Some(BROWSER)),
        (Some("gzip"), Some(BROWSER)),
    ];
    let request = |encoding: Option<&str>, accept: Option<&str>| {
        let mut req = c.get(&url);
        if let Some(e) = encoding {
            req = req.header(ACCEPT_ENCODING, e);
        }
        if let Some(a) = accept {
            req = req.header(ACCEPT, a);
        }
        req
    };
    let mut etags = Vec::new();
    for (encoding, accept) in variants {
        let res = request(encoding, accept).send().await.expect("get");
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(
            header(&res, CONTENT_ENCODING),
            encoding.unwrap_or(""),
            "{encoding:?} {accept:?}"
        );
        let etag = header(&res, ETAG);
        assert!(
            etag.starts_with('"') && etag.ends_with('"') && etag.len() > 2,
            "strong ETag: {etag}"
        );
        etags.push(etag);
    }
    for (i, a) in etags.iter().enumerate() {
        for b in &etags[i + 1..] {
            assert_ne!(a, b, "two representations share an ETag: {etags:?}");
        }
    }
    for (i, (encoding, accept)) in variants.into_iter().enumerate() {
        let what = format!("Accept-Encoding {encoding:?}, Accept {accept:?}");
        // The ETag the client got for this representation: 304, with that ETag.
        let res = request(encoding, accept)
            .header(IF_NONE_MATCH, &etags[i])
            .send()
            .await
            .expect("get");
        assert_eq!(res.status(), StatusCode::NOT_MODIFIED, "{what}");
        assert_eq!(header(&res, ETAG), etags[i], "{what}");
        assert!(res.bytes().await.expect("body").is_empty(), "{what}");
        // Also in a list, and weakly compared.
        let res = request(encoding, accept)
            .header(IF_NONE_MATCH, format!("\"x\", W/{}", etags[i]))
            .send()
            .await
            .expect("get");
        assert_eq!(res.status(), StatusCode::NOT_MODIFIED, "{what} list");
        // Another representation's ETag does not match this one.
        for (j, other) in etags.iter().enumerate().filter(|(j, _)| *j != i) {
            let res = request(encoding, accept)
                .header(IF_NONE_MATCH, other)
                .send()
                .await
                .expect("get");
            assert_eq!(res.status(), StatusCode::OK, "{what} with ETag {j}");
            assert_eq!(header(&res, ETAG), etags[i], "{what} with ETag {j}");
            // Nor does it for If-Match (strong comparison): 412.
            let res = request(encoding, accept)
                .header(IF_MATCH, other)
                .send()
                .await
                .expect("get");
            assert_eq!(
                res.status(),
                StatusCode::PRECONDITION_FAILED,
                "{what} If-Match {j}"
            );
        }
        let res = request(encoding, accept)
            .header(IF_MATCH, &etags[i])
            .send()
            .await
            .expect("get");
        assert_eq!(res.status(), StatusCode::OK, "{what} If-Match");
    }
    // A range is a part of the uncompressed file, with its ETag, also for a client that
    // accepts gzip; an If-Range naming the gzip ETag does not validate it (whole file, gzip).
    let res = request(Some("gzip"), None)
        .header(RANGE, "bytes=0-9")
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(header(&res, CONTENT_ENCODING), "");
    assert_eq!(header(&res, ETAG), etags[0]);
    let res = request(Some("gzip"), None)
        .header(RANGE, "bytes=0-9")
        .header(IF_RANGE, &etags[1])
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, CONTENT_ENCODING), "gzip");
    assert_eq!(header(&res, ETAG), etags[1]);

    // Whatever the client's Accept-Encoding, the ETag names the encoding actually sent.
    for accept_encoding in [
        "gzip;q=0.5, identity",
        "gzip;q=0.5, *;q=0.8",
        "*",
        "x-gzip",
        "GZIP;Q=1.0",
        "br;q=1, gzip;q=0.1",
        "gzip; level=9",
        "gzip; foo=bar; q=0.5",
        "gzip;q=1.0000",
        "gzip;q=2",
        "deflate",
    ] {
        let res = request(Some(accept_encoding), None)
            .send()
            .await
            .expect("get");
        assert_eq!(res.status(), StatusCode::OK, "{accept_encoding}");
        let gzip = header(&res, CONTENT_ENCODING) == "gzip";
        assert_eq!(
            header(&res, ETAG),
            etags[usize::from(gzip)],
            "Accept-Encoding: {accept_encoding}"
        );
    }
    fx.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_path_reaches_a_file_outside_output_dir() {
    let fx = Fixture::start().await;
    // A symlink inside output_dir pointing at the config.
    #[cfg(unix)]
    std::os::unix::fs::symlink(
        fx.dir.path().join("config.toml"),
        fx.cfg.output_dir.join("daily/link.xml"),
    )
    .expect("symlink");
    let long = format!("/{}", "a".repeat(10 * 1024));
    let addr = fx.addr;
    let answers = tokio::task::spawn_blocking(move || {
        [
            "/../config.toml",
            "/daily/../../config.toml",
            "/%2e%2e/config.toml",
            "/daily/%2E%2E/%2e%2e/config.toml",
            "/..%2fconfig.toml",
            "/%2e%2e%5cconfig.toml",
            "/config.toml",
            "/daily/link.xml",
            "/daily/.atom.xml.tmp",
            long.as_str(),
        ]
        .map(|p| (p.chars().take(40).collect::<String>(), raw_get(addr, p)))
    })
    .await
    .expect("join");
    for (path, (code, text)) in answers {
        assert!(
            code == 400 || code == 404,
            "{path}: expected 400 or 404, got {code}"
        );
        assert!(!text.contains(SECRET), "{path} leaked the config");
    }
    fx.stop().await;
}

/// Files in `output_dir` that feedwright does not publish (the store, a config, a `dir`
/// source's posts, as with `output_dir = "."`) are not served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_published_kinds_of_file_are_served() {
    let fx = Fixture::start().await;
    let names = [
        "feedwright.db",
        "feedwright.db-wal",
        "config.toml",
        "post.md",
        "notes",
    ];
    for name in names {
        std::fs::write(fx.cfg.output_dir.join(name), SECRET).expect("write");
    }
    for name in names {
        let res = client()
            .get(fx.url(&format!("/{name}")))
            .send()
            .await
            .expect("get");
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{name}");
        assert!(!res.text().await.expect("body").contains(SECRET), "{name}");
    }
    let res = client()
        .get(fx.url("/daily/atom.xml"))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), StatusCode::OK, "published files still are");
    fx.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn index_lists_feeds_with_alternate_links() {
    let fx = Fixture::start().await;
    let res = client().get(fx.url("/")).send().await.expect("get");
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, CONTENT_TYPE), "text/html; charset=utf-8");
    let html = res.text().await.expect("body");
    let doc = scraper::Html::parse_document(&html);
    let sel = scraper::Selector::parse("head link[rel=alternate]").expect("selector");
    let links: Vec<(String, String)> = doc
        .select(&sel)
        .map(|l| {
            (
                l.value().attr("type").unwrap_or("").to_owned(),
                l.value().attr("href").unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        links,
        [
            (
                "application/atom+xml".to_owned(),
                "daily/atom.xml".to_owned()
            ),
            ("application/rss+xml".to_owned(), "daily/rss.xml".to_owned()),
            (
                "application/feed+json".to_owned(),
                "daily/feed.json".to_owned()
            ),
        ],
        "only the published feed is discoverable"
    );
    assert!(html.contains("Daily &lt;News&gt; &amp; Views"), "{html}");
    assert!(
        html.contains("Not published yet."),
        "the second feed: {html}"
    );
    // Every advertised link resolves.
    for (_, href) in links {
        let res = client()
            .get(fx.url(&format!("/{href}")))
            .send()
            .await
            .expect("get");
        assert_eq!(res.status(), StatusCode::OK, "{href}");
    }
    // Once the digest's issues feed is written, it is listed too.
    let digest = fx.cfg.output_dir.join("daily/digest");
    std::fs::create_dir_all(&digest).expect("digest folder");
    std::fs::write(
        digest.join("atom.xml"),
        "<?xml version=\"1.0\"?><feed xmlns=\"http://www.w3.org/2005/Atom\"/>",
    )
    .expect("issues feed");
    let html = client()
        .get(fx.url("/"))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("body");
    assert!(
        html.contains(r#"<link rel="alternate" type="application/atom+xml" title="Daily &lt;News&gt; &amp; Views: weekly digest (Atom)" href="daily/digest/atom.xml">"#),
        "{html}"
    );
    let res = client()
        .get(fx.url("/daily/digest/atom.xml"))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), StatusCode::OK);
    fx.stop().await;
}

async fn health(fx: &Fixture) -> (StatusCode, serde_json::Value) {
    let res = client().get(fx.url("/healthz")).send().await.expect("get");
    let status = res.status();
    assert_eq!(header(&res, CONTENT_TYPE), "application/json");
    let text = res.text().await.expect("body");
    (status, serde_json::from_str(&text).expect("json"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_is_200_until_a_source_fails_then_503() {
    let fx = Fixture::start().await;
    let (status, body) = health(&fx).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "no runs yet");

    // The writer keeps the store open (and locked) while the server reads it.
    let mut store = Store::open(&fx.cfg.store.path).expect("open");
    store
        .record_source_run("site-a", at(1_700_000_000), None)
        .expect("run");
    store
        .set_source_health("site-a", "healthy", None, at(1_700_000_000))
        .expect("health");
    let issue = DigestIssue {
        week: "2023-W46".into(),
        subject: "Week 46".into(),
        message_id: "m1@example.org".into(),
        sent_at: at(1_700_000_100),
        delivered: true,
        titles: vec!["Post one".into()],
    };
    store
        .record_digest_issue("daily", &issue, &[])
        .expect("issue");
    let (status, body) = health(&fx).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "ok");
    assert_eq!(body["sources"][0]["name"], "site-a");
    assert_eq!(body["sources"][0]["state"], "healthy");
    assert_eq!(body["sources"][0]["last_success"], "2023-11-14T22:13:20Z");
    assert_eq!(body["sources"][1]["state"], "unknown");
    assert_eq!(body["last_digest"]["week"], "2023-W46");

    store
        .record_source_run("site-a", at(1_700_003_600), Some("site unreachable"))
        .expect("run");
    store
        .set_source_health(
            "site-a",
            "failing",
            Some("site unreachable"),
            at(1_700_003_600),
        )
        .expect("health");
    let (status, body) = health(&fx).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["status"], "failing");
    assert_eq!(body["sources"][0]["state"], "failing");
    assert_eq!(body["sources"][0]["last_error"], "site unreachable");
    assert_eq!(
        body["sources"][0]["last_success"], "2023-11-14T22:13:20Z",
        "the last success is kept"
    );
    drop(store);
    fx.stop().await;
}

fn sample(
    samples: &[(String, serde_json::Value, f64)],
    name: &str,
    labels: &[(&str, &str)],
) -> f64 {
    let found: Vec<f64> = samples
        .iter()
        .filter(|(n, l, _)| n == name && labels.iter().all(|(k, v)| l[*k] == *v))
        .map(|s| s.2)
        .collect();
    assert_eq!(found.len(), 1, "{name} {labels:?} in {samples:?}");
    found[0]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_parse_as_prometheus_text_and_sum_the_recorded_runs() {
    let fx = Fixture::start().await;
    let get = || async {
        let res = client().get(fx.url("/metrics")).send().await.expect("get");
        assert!(header(&res, CONTENT_TYPE).starts_with("text/plain; version=0.0.4"));
        res.text().await.expect("body")
    };
    let before = parse_prometheus(&get().await);
    assert_eq!(sample(&before, "feedwright_store_readable", &[]), 0.0);

    let mut store = Store::open(&fx.cfg.store.path).expect("open");
    for (i, (requests, nm, ms)) in [(10u32, 4u32, 250u64), (5, 5, 4_000)]
        .into_iter()
        .enumerate()
    {
        let h = RunHealth {
            requests,
            not_modified: nm,
            bytes: 1000,
            new: 2,
            updated: 1,
            failures: i as u32,
            state: "healthy".into(),
            ..RunHealth::default()
        };
        let now = at(1_700_000_000 + i as i64 * 60);
        store.record_run_health("site-a", now, &h).expect("health");
        store.record_source_run("site-a", now, None).expect("run");
        assert!(
            store
                .set_last_run_duration("site-a", Duration::from_millis(ms))
                .expect("duration")
        );
    }
    store
        .set_source_health("site-b", "degraded", Some("no dates"), at(1_700_000_000))
        .expect("health");
    let issue = DigestIssue {
        week: "2023-W46".into(),
        subject: "Week 46".into(),
        message_id: "m1@example.org".into(),
        sent_at: at(1_700_000_100),
        delivered: true,
        titles: vec![],
    };
    store
        .record_digest_issue("daily", &issue, &[])
        .expect("issue");

    let m = parse_prometheus(&get().await);
    let a = [("source", "site-a")];
    assert_eq!(sample(&m, "feedwright_store_readable", &[]), 1.0);
    assert_eq!(sample(&m, "feedwright_source_runs_total", &a), 2.0);
    assert_eq!(sample(&m, "feedwright_source_requests_total", &a), 15.0);
    assert_eq!(sample(&m, "feedwright_source_not_modified_total", &a), 9.0);
    assert_eq!(
        sample(&m, "feedwright_source_received_bytes_total", &a),
        2000.0
    );
    assert_eq!(sample(&m, "feedwright_source_entries_new_total", &a), 4.0);
    assert_eq!(
        sample(&m, "feedwright_source_entries_updated_total", &a),
        2.0
    );
    assert_eq!(sample(&m, "feedwright_source_failures_total", &a), 1.0);
    assert_eq!(
        sample(
            &m,
            "feedwright_source_requests_total",
            &[("source", "site-b")]
        ),
        0.0
    );
    assert_eq!(sample(&m, "feedwright_sources_degraded", &[]), 1.0);
    assert_eq!(
        sample(&m, "feedwright_source_last_success_timestamp_seconds", &a),
        1_700_000_060.0
    );
    let d = "feedwright_source_run_duration_seconds";
    assert_eq!(
        sample(
            &m,
            &format!("{d}_bucket"),
            &[("source", "site-a"), ("le", "0.1")]
        ),
        0.0
    );
    assert_eq!(
        sample(
            &m,
            &format!("{d}_bucket"),
            &[("source", "site-a"), ("le", "0.5")]
        ),
        1.0
    );
    assert_eq!(
        sample(
            &m,
            &format!("{d}_bucket"),
            &[("source", "site-a"), ("le", "5")]
        ),
        2.0
    );
    assert_eq!(
        sample(
            &m,
            &format!("{d}_bucket"),
            &[("source", "site-a"), ("le", "+Inf")]
        ),
        2.0
    );
    assert_eq!(sample(&m, &format!("{d}_count"), &a), 2.0);
    assert!((sample(&m, &format!("{d}_sum"), &a) - 4.25).abs() < 1e-9);
    assert_eq!(
        sample(&m, "feedwright_digests_sent_total", &[("feed", "daily")]),
        1.0
    );
    // Every issue is written; a sent one stays counted there, so the counter never goes down
    // when an issue written without smtp_url is sent later.
    assert_eq!(
        sample(&m, "feedwright_digests_written_total", &[("feed", "daily")]),
        1.0
    );
    drop(store);
    fx.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_port_in_use_is_an_error_naming_the_key_and_address() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    let cfg = Config::parse(
        &format!(
            "[[source]]\nname = \"s\"\nurl = \"https://s.example.org/\"\n[[feed]]\nname = \"f\"\nsources = [\"s\"]\n[server]\nlisten = \"{addr}\"\n"
        ),
        Path::new("config.toml"),
    )
    .expect("config");
    let err = server::bind(&cfg).await.expect_err("port in use");
    let msg = err.to_string();
    assert!(
        msg.contains("server.listen") && msg.contains(&addr),
        "{msg}"
    );
    assert_eq!(err.key(), Some("server.listen"));
    let none = Config::parse(
        "[[source]]\nname = \"s\"\nurl = \"https://s.example.org/\"\n[[feed]]\nname = \"f\"\nsources = [\"s\"]\n",
        Path::new("config.toml"),
    )
    .expect("config");
    assert!(matches!(
        server::bind(&none).await,
        Err(server::ServerError::NotConfigured)
    ));
}

#[test]
fn read_only_open_needs_an_existing_database_and_refuses_a_newer_schema() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db: PathBuf = dir.path().join("feedwright.db");
    let err = Store::open_read_only(&db).expect_err("missing");
    assert!(err.to_string().contains("does not exist yet"), "{err}");
    assert!(!db.exists() && !dir.path().join("feedwright.db.lock").exists());

    let mut writer = Store::open(&db).expect("open");
    writer
        .record_source_run("s", at(1_700_000_000), None)
        .expect("run");
    let reader = Store::open_read_only(&db).expect("read-only beside the writer");
    assert!(reader.source_state("s").expect("state").is_some());
    drop(writer);
    drop(reader);

    let conn = rusqlite::Connection::open(&db).expect("sqlite");
    conn.execute(
        "INSERT INTO refinery_schema_history (version, name, applied_on, checksum)
         VALUES (999, 'future', '2030-01-01T00:00:00Z', '0')",
        [],
    )
    .expect("fake a newer schema");
    drop(conn);
    let before = std::fs::read(&db).expect("read");
    match Store::open_read_only(&db) {
        Err(StoreError::NewerSchema { found: 999, .. }) => {}
        other => panic!("expected NewerSchema, got {other:?}"),
    }
    assert_eq!(std::fs::read(&db).expect("read"), before, "left untouched");
}

/// Serve `cfg` on a fresh runtime just long enough to read `/metrics` once.
fn scrape_metrics(cfg: &Config) -> String {
    fetch_once(cfg, "/metrics").1
}

/// Serve `cfg` on a fresh runtime just long enough to GET `path` once: its status and body.
fn fetch_once(cfg: &Config, path: &str) -> (StatusCode, String) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let served = Served::start(cfg).await;
        let res = client()
            .get(format!("http://{}{path}", served.addr))
            .send()
            .await
            .unwrap_or_else(|e| panic!("get {path}: {e}"));
        let status = res.status();
        let text = res.text().await.expect("body");
        served.stop().await;
        (status, text)
    })
}

#[test]
fn metrics_count_requests_by_final_http_status_across_runs() {
    use common::{Post, Resp, Site, classic_post, listing, write_config};
    let site = Site::start();
    let base = site.base();
    site.set(
        "/robots.txt",
        Resp::Html("User-agent: *\nAllow: /\n".into()),
    );
    let posts = [
        Post::new(1, "kept-one", "Kept one", "2024-03-01T09:00:00+00:00"),
        Post::new(2, "kept-two", "Kept two", "2024-03-02T09:00:00+00:00"),
        Post::new(3, "gone", "Gone", "2024-03-03T09:00:00+00:00"),
        Post::new(4, "busy", "Busy", "2024-03-04T09:00:00+00:00"),
    ];
    for p in &posts[..2] {
        site.set(&p.path(), Resp::Html(classic_post(&base, p)));
    }
    site.set(&posts[2].path(), Resp::Status(404));
    site.set(&posts[3].path(), Resp::Status(503));
    let links: Vec<(String, String)> = posts
        .iter()
        .map(|p| (format!("{base}{}", p.path()), p.title.clone()))
        .collect();
    site.set("/cat/", Resp::Html(listing(&base, &links, None)));
    // Nothing listens on this port: every request for `down` fails to connect.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();

    let dir = tempfile::tempdir().expect("tempdir");
    let cfg_path = write_config(
        dir.path(),
        &format!(
            r#"output_dir = "out"
public_url = "http://feeds.test/"
[store]
path = "state/feedwright.db"
[http]
min_interval_ms = 0
timeout_secs = 5
max_retries = 0
[[source]]
name = "site"
url = "{}"
# Known posts are re-checked (conditionally) on every run.
recheck_days = 36500
recheck_hours = 0
[[source]]
name = "down"
url = "http://127.0.0.1:{closed}/cat/"
[[feed]]
name = "main"
sources = ["site", "down"]
[server]
listen = "127.0.0.1:0"
"#,
            site.url("/cat/")
        ),
    );
    // Run 1: robots.txt, the listing and two posts answer 200, one post 404, one 503. Run 2:
    // the listing and the two stored posts answer 304 to conditional requests, the 503 post
    // (pending) is retried.
    for run in 1..=2 {
        let (code, _, stderr) = common::feedwright(&cfg_path, &["run"]);
        assert_eq!(code, 1, "run {run}: some posts and a source fail\n{stderr}");
    }
    let mut served: std::collections::BTreeMap<String, f64> = Default::default();
    for hit in site.hits() {
        *served.entry(hit.status.to_string()).or_default() += 1.0;
    }
    for code in ["200", "304", "404", "503"] {
        assert!(
            served.contains_key(code),
            "the site answered {code}: {served:?}"
        );
    }
    assert_eq!(served["503"], 2.0, "the failed post is retried on run 2");

    let cfg = Config::load(&cfg_path).expect("config");
    let m = parse_prometheus(&scrape_metrics(&cfg));
    let name = "feedwright_source_fetches_total";
    let counted: std::collections::BTreeMap<String, f64> = m
        .iter()
        .filter(|(n, l, _)| n == name && l["source"] == "site")
        .map(|(_, l, v)| (l["status"].as_str().expect("status").to_owned(), *v))
        .collect();
    assert_eq!(counted, served, "every answer the site gave, by status");
    assert_eq!(
        counted.values().sum::<f64>(),
        sample(
            &m,
            "feedwright_source_requests_total",
            &[("source", "site")]
        ),
        "the statuses add up to the requests"
    );
    assert_eq!(
        sample(&m, name, &[("source", "down"), ("status", "connect")]),
        2.0,
        "one refused connection (robots.txt) per run"
    );
    assert_eq!(
        m.iter()
            .filter(|(n, l, _)| n == name && l["source"] == "down")
            .count(),
        1,
        "{m:?}"
    );
}

/// How long until the server closes `s` (EOF or reset), reading and discarding whatever it
/// sends; `None` if it is still open after `limit`.
fn closed_within(s: &mut std::net::TcpStream, limit: Duration) -> Option<Duration> {
    let start = std::time::Instant::now();
    let mut buf = [0u8; 4096];
    loop {
        let left = limit.checked_sub(start.elapsed())?;
        s.set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .expect("timeout");
        match s.read(&mut buf) {
            Ok(0) => return Some(start.elapsed()),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                return Some(start.elapsed());
            }
            Err(_) => return None,
        }
    }
}

/// Read one answer to a request for a missing file (its body is `not found\n`) from a
/// kept-alive connection.
fn read_not_found(s: &mut std::net::TcpStream) -> String {
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    while !got.ends_with(b"not found\n") {
        let n = s.read(&mut buf).expect("answer");
        assert!(n > 0, "closed early: {}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&got).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_slow_and_idle_kept_alive_connections_are_closed_after_the_header_timeout() {
    let fx = Fixture::start_with("timeout_secs = 1").await;
    let addr = fx.addr;
    const LIMIT: Duration = Duration::from_secs(5);
    // A connection that never sends anything.
    let silent = std::thread::spawn(move || {
        let mut s = std::net::TcpStream::connect(addr).expect("connect");
        closed_within(&mut s, LIMIT)
    });
    // A request sent one byte every 200 ms: the timeout covers the whole head, not each read.
    let slow = std::thread::spawn(move || {
        let mut s = std::net::TcpStream::connect(addr).expect("connect");
        let mut w = s.try_clone().expect("clone");
        let writer = std::thread::spawn(move || {
            for b in
                b"GET /daily/atom.xml HTTP/1.1\r\nHost: localhost\r\nX-Slow: aaaaaaaaaaaaaaaaaaaa"
            {
                if w.write_all(&[*b]).is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(200));
            }
        });
        let closed = closed_within(&mut s, LIMIT);
        let _ = writer.join();
        closed
    });
    // A kept-alive connection left idle after its answer.
    let idle = std::thread::spawn(move || {
        let mut s = std::net::TcpStream::connect(addr).expect("connect");
        s.write_all(b"GET /daily/missing.xml HTTP/1.1\r\nHost: localhost\r\n\r\n")
            .expect("send");
        let answer = read_not_found(&mut s);
        assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
        closed_within(&mut s, LIMIT)
    });
    for (what, t) in [("silent", silent), ("slow", slow), ("idle", idle)] {
        let closed = t.join().expect("thread");
        let after =
            closed.unwrap_or_else(|| panic!("{what} connection still open after {LIMIT:?}"));
        assert!(
            after >= Duration::from_millis(800),
            "{what} closed too early: {after:?}"
        );
    }
    // The server itself goes on answering.
    let res = client()
        .get(fx.url("/daily/atom.xml"))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), StatusCode::OK);
    fx.stop().await;
}

/// While every connection is busy (idle ones give way: see `tests/server_hardening.rs`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_max_connections_wait_for_a_free_slot() {
    let fx = Fixture::start_with("max_connections = 2").await;
    common::sparse_file(&fx.cfg.output_dir.join("daily/big.xml"));
    let addr = fx.addr;
    // Two connections busy with answers their clients do not read.
    let held: Vec<std::net::TcpStream> = (0..2)
        .map(|_| {
            let mut s = std::net::TcpStream::connect(addr).expect("connect");
            s.write_all(b"GET /daily/big.xml HTTP/1.1\r\nHost: localhost\r\n\r\n")
                .expect("send");
            s
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let waiting = std::thread::spawn(move || {
        // Connecting succeeds (the socket's backlog), but nothing is read until a slot frees.
        let mut s = std::net::TcpStream::connect(addr).expect("connect");
        s.write_all(b"GET /daily/missing.xml HTTP/1.1\r\nHost: localhost\r\n\r\n")
            .expect("send");
        let start = std::time::Instant::now();
        let answer = read_not_found(&mut s);
        (start.elapsed(), answer)
    });
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        !waiting.is_finished(),
        "a third connection was served beside two"
    );
    drop(held);
    let (waited, answer) = waiting.join().expect("thread");
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
    assert!(waited >= Duration::from_millis(1400), "{waited:?}");
    fx.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_head_over_64_kib_is_refused_while_large_normal_ones_are_served() {
    let fx = Fixture::start().await;
    let c = client();
    let res = c
        .get(fx.url("/daily/atom.xml"))
        .header("x-pad", "a".repeat(30_000))
        .header(reqwest::header::COOKIE, "b".repeat(8_000))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), StatusCode::OK, "a 38 KB head is served");
    let mut s = std::net::TcpStream::connect(fx.addr).expect("connect");
    s.set_write_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let head = format!(
        "GET /daily/atom.xml HTTP/1.1\r\nHost: localhost\r\nX-Pad: {}\r\n\r\n",
        "a".repeat(100_000)
    );
    // The server may close before it has read everything.
    let _ = s.write_all(head.as_bytes());
    let mut answer = Vec::new();
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let _ = s.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 431"),
        "{answer}"
    );
    fx.stop().await;
}

/// `feedwright serve` running as its own process; killed when dropped (a failed test leaves
/// nothing behind).
struct ServeProcess {
    child: std::process::Child,
    stderr: std::io::BufReader<std::process::ChildStderr>,
    addr: String,
}

impl ServeProcess {
    /// Start `serve` with `cfg` (whose `[server] listen` has port 0) through `sh`, running
    /// `setup` first in that shell (such as `ulimit -n 48`); returns once it said where it
    /// serves.
    fn start(cfg: &Path, setup: &str) -> ServeProcess {
        use std::io::BufRead;
        let mut child = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("{setup} && exec \"$0\" --config \"$1\" serve"))
            .arg(env!("CARGO_BIN_EXE_feedwright"))
            .arg(cfg)
            .env_remove("RUST_LOG")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start serve");
        let mut stderr = std::io::BufReader::new(child.stderr.take().expect("stderr"));
        let mut first = String::new();
        stderr.read_line(&mut first).expect("first log line");
        let addr = first
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .unwrap_or_else(|| panic!("no address in {first:?}"))
            .to_owned();
        ServeProcess {
            child,
            stderr,
            addr,
        }
    }

    /// Stop it with SIGTERM; the rest of its log.
    fn stop(mut self) -> String {
        let _ = std::process::Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let mut rest = String::new();
        self.stderr.read_to_string(&mut rest).expect("log");
        let _ = self.child.wait();
        rest
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The number of descriptors `serve` may open in
/// [`failing_accepts_are_logged_once_and_serving_resumes`]: fewer than the connections it opens.
const SERVE_FD_LIMIT: usize = 48;

#[test]
fn failing_accepts_are_logged_once_and_serving_resumes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = common::write_config(
        dir.path(),
        "output_dir = \"out\"\n[[source]]\nname = \"s\"\nurl = \"https://s.example.org/\"\n\
         [[feed]]\nname = \"f\"\nsources = [\"s\"]\n\
         [server]\nlisten = \"127.0.0.1:0\"\nmax_connections = 1000\n",
    );
    let serve = ServeProcess::start(&cfg, &format!("ulimit -n {SERVE_FD_LIMIT}"));
    let addr = serve.addr.clone();
    // More connections than the process may hold descriptors: accepting fails for a while.
    let flood: Vec<std::net::TcpStream> = (0..SERVE_FD_LIMIT * 2)
        .map(|_| std::net::TcpStream::connect(&addr).expect("connect"))
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    drop(flood);
    let healthz = || {
        let Ok(mut s) = std::net::TcpStream::connect(&addr) else {
            return false;
        };
        s.set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        let _ = s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        let mut answer = String::new();
        let _ = s.read_to_string(&mut answer);
        answer.starts_with("HTTP/1.1 200")
    };
    let answered = (0..50).any(|_| {
        healthz() || {
            std::thread::sleep(Duration::from_millis(200));
            false
        }
    });
    // Accepting has worked for a while: the next accept ends the run of failures.
    std::thread::sleep(Duration::from_millis(2500));
    assert!(healthz(), "served after the failures");
    let rest = serve.stop();
    assert!(
        answered,
        "serving resumed once descriptors were free\n{rest}"
    );
    assert_eq!(
        rest.matches("cannot accept connections").count(),
        1,
        "one line for the whole run of failures\n{rest}"
    );
    assert!(rest.contains("accepting connections again"), "{rest}");
}

#[test]
fn credentials_in_a_source_url_are_not_shown_by_run_healthz_or_status() {
    // Nothing listens on this port: the run fails, and its error quotes the URL.
    let closed = common::free_port();
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg_path = common::write_config(
        dir.path(),
        &format!(
            "output_dir = \"out\"\n[store]\npath = \"state/feedwright.db\"\n\
             [http]\nmin_interval_ms = 0\ntimeout_secs = 5\nmax_retries = 0\n\
             [[source]]\nname = \"blog\"\nurl = \"http://user:s3cretpw@127.0.0.1:{closed}/blog/?token=t\"\n\
             [[feed]]\nname = \"main\"\nsources = [\"blog\"]\n\
             [server]\nlisten = \"127.0.0.1:0\"\n"
        ),
    );
    let (code, stdout, stderr) = common::feedwright(&cfg_path, &["run"]);
    assert_eq!(code, 1, "the source fails\n{stderr}");
    // Nor by the run's own report and log lines.
    assert!(
        !stdout.contains("s3cretpw") && !stderr.contains("s3cretpw"),
        "{stdout}{stderr}"
    );
    assert!(stderr.contains(&format!("127.0.0.1:{closed}")), "{stderr}");
    let cfg = Config::load(&cfg_path).expect("config");
    let stored = Store::open_read_only(&cfg.store.path)
        .expect("store")
        .source_state("blog")
        .expect("state")
        .expect("recorded");
    let recorded = format!("{:?} {:?}", stored.reason, stored.last_error);
    assert!(
        recorded.contains("s3cretpw"),
        "the store keeps the text as it was: {recorded}"
    );

    let (status, body) = fetch_once(&cfg, "/healthz");
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    let health: serde_json::Value = serde_json::from_str(&body).expect("json");
    let source = &health["sources"][0];
    let shown = format!("{} {}", source["reason"], source["last_error"]);
    assert!(
        !shown.contains("s3cretpw") && !shown.contains("user:"),
        "{shown}"
    );
    assert!(
        shown.contains(&format!("http://127.0.0.1:{closed}/blog/")),
        "the URL itself is still named: {shown}"
    );
    let (_, metrics) = fetch_once(&cfg, "/metrics");
    assert!(!metrics.contains("s3cretpw"), "{metrics}");

    let (_, stdout, stderr) = common::feedwright(&cfg_path, &["status"]);
    assert!(
        !stdout.contains("s3cretpw") && !stderr.contains("s3cretpw"),
        "{stdout}{stderr}"
    );
    assert!(stdout.contains(&format!("127.0.0.1:{closed}")), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_must_be_revalidated_and_a_future_if_modified_since_is_ignored() {
    let fx = Fixture::start().await;
    let c = client();
    let url = fx.url("/daily/atom.xml");
    let on_disk = std::fs::read(fx.cfg.output_dir.join("daily/atom.xml")).expect("file");
    let first = c.get(&url).send().await.expect("get");
    let modified = header(&first, LAST_MODIFIED);
    let etag = header(&first, ETAG);
    let cache_control = reqwest::header::CACHE_CONTROL;
    assert_eq!(header(&first, cache_control.clone()), "no-cache");
    for (what, req) in [
        ("gzip", c.get(&url).header(ACCEPT_ENCODING, "gzip")),
        ("HEAD", c.head(&url)),
        ("range", c.get(&url).header(RANGE, "bytes=0-9")),
        ("If-None-Match", c.get(&url).header(IF_NONE_MATCH, &etag)),
        (
            "If-Modified-Since",
            c.get(&url).header(IF_MODIFIED_SINCE, &modified),
        ),
    ] {
        let res = req.send().await.expect("send");
        assert!(res.status().is_success() || res.status() == StatusCode::NOT_MODIFIED);
        assert_eq!(header(&res, cache_control.clone()), "no-cache", "{what}");
    }
    // A reader whose clock runs a day ahead sends a date the file has not reached yet: the
    // condition is ignored, whatever the date's format, so it never misses an update.
    let tomorrow = Utc::now() + chrono::Duration::days(1);
    for future in [
        http_date(tomorrow),
        tomorrow.format("%A, %d-%b-%y %H:%M:%S GMT").to_string(),
        tomorrow.format("%a %b %e %H:%M:%S %Y").to_string(),
    ] {
        let res = c
            .get(&url)
            .header(IF_MODIFIED_SINCE, &future)
            .send()
            .await
            .expect("get");
        assert_eq!(res.status(), StatusCode::OK, "If-Modified-Since: {future}");
        assert_eq!(
            res.bytes().await.expect("body").as_ref(),
            on_disk.as_slice()
        );
    }
    // A date in the past still gives its 304.
    set_mtime(
        &fx.cfg.output_dir.join("daily/atom.xml"),
        at(1_700_000_000),
        0,
    );
    let res = c
        .get(&url)
        .header(
            IF_MODIFIED_SINCE,
            http_date(Utc::now() - chrono::Duration::seconds(5)),
        )
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(header(&res, cache_control), "no-cache");
    fx.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusing_every_coding_keeps_the_status_of_answers_that_are_not_files() {
    let fx = Fixture::start().await;
    let c = client();
    for refusal in ["identity;q=0", "*;q=0", "gzip;q=0, identity;q=0"] {
        for (path, status) in [
            ("/", StatusCode::OK),
            ("/healthz", StatusCode::OK),
            ("/metrics", StatusCode::OK),
            ("/picture.png", StatusCode::NOT_FOUND),
            ("/daily/.hidden.xml", StatusCode::NOT_FOUND),
        ] {
            let res = c
                .get(fx.url(path))
                .header(ACCEPT_ENCODING, refusal)
                .send()
                .await
                .expect("get");
            assert_eq!(res.status(), status, "{path} with {refusal}");
            assert_eq!(header(&res, CONTENT_ENCODING), "", "{path}");
        }
        // A file, which has representations to choose from, says none is acceptable.
        let res = c
            .get(fx.url("/daily/atom.xml"))
            .header(ACCEPT_ENCODING, refusal)
            .send()
            .await
            .expect("get");
        assert_eq!(res.status(), StatusCode::NOT_ACCEPTABLE, "{refusal}");
        assert_eq!(
            res.text().await.expect("body"),
            "no acceptable content coding\n"
        );
    }
    fx.stop().await;
}

/// Send `head` (a whole request head, ending in an empty line) on a new connection; the status
/// code of the first answer and the whole answer (the server closes after it).
fn raw_request(addr: SocketAddr, head: &str) -> (u16, String) {
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    s.write_all(head.as_bytes()).expect("send");
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let out = String::from_utf8_lossy(&out).into_owned();
    let code = out
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (code, out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_repeated_or_invalid_host_is_a_bad_request() {
    let fx = Fixture::start().await;
    for path in ["/daily/atom.xml", "/healthz", "/"] {
        for (headers, want) in [
            ("HTTP/1.1\r\nHost: localhost", 200),
            ("HTTP/1.1\r\nHost: 127.0.0.1:8080", 200),
            ("HTTP/1.1\r\nHost: [::1]:80", 200),
            ("HTTP/1.1\r\nHost:", 200),
            ("HTTP/1.0", 200),
            ("HTTP/1.0\r\nHost: localhost", 200),
            ("HTTP/1.1", 400),
            ("HTTP/1.1\r\nHost: localhost\r\nHost: localhost", 400),
            ("HTTP/1.1\r\nHost: a.example\r\nHost: b.example", 400),
            ("HTTP/1.0\r\nHost: a.example\r\nHost: b.example", 400),
            ("HTTP/1.1\r\nHost: a b", 400),
            ("HTTP/1.1\r\nHost: user@localhost", 400),
            ("HTTP/1.1\r\nHost: localhost/path", 400),
        ] {
            let (code, answer) = raw_request(
                fx.addr,
                &format!("GET {path} {headers}\r\nConnection: close\r\n\r\n"),
            );
            assert_eq!(code, want, "{path} {headers:?}: {answer}");
        }
    }
    fx.stop().await;
}

#[test]
fn a_symlink_loop_in_output_dir_is_not_found_and_not_logged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = common::write_config(
        dir.path(),
        "output_dir = \"out\"\n[[source]]\nname = \"s\"\nurl = \"https://s.example.org/\"\n\
         [[feed]]\nname = \"f\"\nsources = [\"s\"]\n\
         [server]\nlisten = \"127.0.0.1:0\"\n",
    );
    let out = dir.path().join("out/f");
    std::fs::create_dir_all(&out).expect("mkdir");
    std::fs::write(out.join("atom.xml"), "<feed/>").expect("write");
    std::os::unix::fs::symlink("self.xml", out.join("self.xml")).expect("symlink");
    std::os::unix::fs::symlink("b.xml", out.join("a.xml")).expect("symlink");
    std::os::unix::fs::symlink("a.xml", out.join("b.xml")).expect("symlink");
    std::os::unix::fs::symlink(".", out.join("d")).expect("symlink");
    std::os::unix::fs::symlink("e", out.join("e")).expect("symlink");
    let serve = ServeProcess::start(&cfg, "true");
    let addr: SocketAddr = serve.addr.parse().expect("addr");
    for path in ["/f/self.xml", "/f/a.xml", "/f/b.xml", "/f/e/atom.xml"] {
        let (code, answer) = raw_get(addr, path);
        assert_eq!(code, 404, "{path}: {answer}");
    }
    // A link to its own folder is no loop: it stays inside output_dir.
    assert_eq!(raw_get(addr, "/f/d/d/atom.xml").0, 200);
    let log = serve.stop();
    assert!(
        !log.contains("WARN") && !log.contains("cannot serve"),
        "{log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gzip_representation_is_the_same_bytes_on_every_request() {
    let fx = Fixture::start().await;
    // Large enough to be read in several chunks, varied enough not to compress to nothing.
    let mut text = String::from("<?xml version=\"1.0\"?>\n<feed>\n");
    let mut x: u64 = 12345;
    while text.len() < 600_000 {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        text.push_str(&format!(
            "<entry><id>{x:x}</id><title>Post {}</title></entry>\n",
            x % 977
        ));
    }
    text.push_str("</feed>\n");
    let path = fx.cfg.output_dir.join("daily/archive-big.xml");
    std::fs::write(&path, &text).expect("write");
    let c = client();
    let url = fx.url("/daily/archive-big.xml");
    let mut seen: Option<(String, Vec<u8>)> = None;
    for i in 0..8 {
        let res = c
            .get(&url)
            .header(ACCEPT_ENCODING, "gzip")
            .send()
            .await
            .expect("get");
        assert_eq!(header(&res, CONTENT_ENCODING), "gzip");
        let etag = header(&res, ETAG);
        assert!(etag.starts_with('"') && etag.ends_with("-gzip\""), "{etag}");
        let body = res.bytes().await.expect("body").to_vec();
        let mut plain = Vec::new();
        flate2::read::GzDecoder::new(body.as_slice())
            .read_to_end(&mut plain)
            .expect("valid gzip");
        assert!(plain == text.as_bytes(), "request {i} decodes to the file");
        match &seen {
            None => seen = Some((etag, body)),
            Some((first_etag, first)) => {
                assert_eq!(&etag, first_etag);
                assert!(
                    *first == body,
                    "request {i}: {} bytes, the first {} bytes, under one strong ETag",
                    body.len(),
                    first.len()
                );
            }
        }
    }
    fx.stop().await;
}

/// A file's gzip copy is made once per version of the file (its ETag: size and modification
/// time) and kept: a GET and a HEAD both say its length, the HEAD even before any GET, and a
/// file changed in place under the same size and time still gets the copy of that version,
/// while a new version gets a new copy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_copies_are_made_once_per_version_and_have_a_length() {
    let fx = Fixture::start().await;
    let c = client();
    let url = fx.url("/daily/atom.xml");
    let path = fx.cfg.output_dir.join("daily/atom.xml");
    let on_disk = std::fs::read(&path).expect("file");
    let gzip = |req: reqwest::RequestBuilder| req.header(ACCEPT_ENCODING, "gzip").send();
    let head = gzip(c.head(&url)).await.expect("head");
    assert_eq!(header(&head, CONTENT_ENCODING), "gzip");
    let get = gzip(c.get(&url)).await.expect("get");
    assert_eq!(representation_headers(&head), representation_headers(&get));
    let length = header(&get, CONTENT_LENGTH);
    let etag = header(&get, ETAG);
    let first = get.bytes().await.expect("body").to_vec();
    assert_eq!(length, first.len().to_string());
    let decode = |body: &[u8]| {
        let mut plain = Vec::new();
        flate2::read::GzDecoder::new(body)
            .read_to_end(&mut plain)
            .expect("valid gzip");
        plain
    };
    assert_eq!(decode(&first), on_disk);

    // The same size and modification time: the same version, so its kept copy.
    let changed: Vec<u8> = on_disk
        .iter()
        .map(|b| if *b == b'a' { b'b' } else { *b })
        .collect();
    assert_ne!(changed, on_disk);
    let mtime = std::fs::metadata(&path)
        .expect("meta")
        .modified()
        .expect("mtime");
    std::fs::write(&path, &changed).expect("write");
    std::fs::File::options()
        .write(true)
        .open(&path)
        .expect("open")
        .set_modified(mtime)
        .expect("mtime");
    let res = gzip(c.get(&url)).await.expect("get");
    assert_eq!(header(&res, ETAG), etag);
    assert_eq!(
        res.bytes().await.expect("body").to_vec(),
        first,
        "the kept copy"
    );

    // A new version: a new copy.
    std::fs::File::options()
        .write(true)
        .open(&path)
        .expect("open")
        .set_modified(mtime + Duration::from_secs(1))
        .expect("mtime");
    let res = gzip(c.get(&url)).await.expect("get");
    assert_ne!(header(&res, ETAG), etag);
    assert_eq!(decode(&res.bytes().await.expect("body")), changed);
    fx.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_read_again_only_once_the_store_changed_or_after_a_few_seconds() {
    let fx = Fixture::start().await;
    let get = || async {
        let res = client().get(fx.url("/metrics")).send().await.expect("get");
        assert_eq!(res.status(), StatusCode::OK);
        parse_prometheus(&res.text().await.expect("body"))
    };
    let record_run = |i: i64| {
        let mut store = Store::open(&fx.cfg.store.path).expect("open");
        store
            .record_run_health("site-a", at(1_700_000_000 + i), &RunHealth::default())
            .expect("health");
        store
            .record_source_run("site-a", at(1_700_000_000 + i), None)
            .expect("run");
    };
    let runs = |m: &[(String, serde_json::Value, f64)]| {
        sample(m, "feedwright_source_runs_total", &[("source", "site-a")])
    };
    record_run(0);
    let m = get().await;
    assert_eq!(runs(&m), 1.0);
    // A commit shows at once.
    record_run(1);
    let m = get().await;
    assert_eq!(runs(&m), 2.0, "a change in the store is read at once");

    // Spoil the database in place, keeping its size and modification time (no commit could
    // do that): within a few seconds the last figures are served again, not read anew.
    let db = &fx.cfg.store.path;
    let meta = std::fs::metadata(db).expect("db");
    std::fs::write(db, vec![0u8; meta.len() as usize]).expect("spoil");
    std::fs::File::options()
        .write(true)
        .open(db)
        .expect("open")
        .set_modified(meta.modified().expect("mtime"))
        .expect("mtime");
    let m = get().await;
    assert_eq!(
        sample(&m, "feedwright_store_readable", &[]),
        1.0,
        "reused, not read again"
    );
    assert_eq!(runs(&m), 2.0);
    // Once the text is a few seconds old, the store is read again.
    tokio::time::sleep(server::METRICS_REUSE + Duration::from_millis(200)).await;
    let m = get().await;
    assert_eq!(sample(&m, "feedwright_store_readable", &[]), 0.0);
    fx.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn output_dir_as_a_symlink_can_be_swapped_while_serving() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (version, only) in [("feeds.v1", "old.xml"), ("feeds.v2", "new.xml")] {
        let feed = dir.path().join(version).join("f");
        std::fs::create_dir_all(&feed).expect("mkdir");
        std::fs::write(feed.join("atom.xml"), format!("<feed>{version}</feed>")).expect("write");
        std::fs::write(feed.join(only), "<feed/>").expect("write");
    }
    std::os::unix::fs::symlink("feeds.v1", dir.path().join("feeds")).expect("symlink");
    let cfg_path = common::write_config(
        dir.path(),
        "output_dir = \"feeds\"\n[[source]]\nname = \"s\"\nurl = \"https://s.example.org/\"\n\
         [[feed]]\nname = \"f\"\nsources = [\"s\"]\n[server]\nlisten = \"127.0.0.1:0\"\n",
    );
    let cfg = Config::load(&cfg_path).expect("config");
    let served = Served::start(&cfg).await;
    let addr = served.addr;
    let get = |path: &'static str| async move {
        let res = client()
            .get(format!("http://{addr}{path}"))
            .send()
            .await
            .expect("get");
        (res.status(), res.text().await.expect("body"))
    };
    assert_eq!(
        get("/f/atom.xml").await,
        (StatusCode::OK, "<feed>feeds.v1</feed>".to_owned())
    );
    assert_eq!(get("/f/old.xml").await.0, StatusCode::OK);
    // `ln -sfn feeds.v2 feeds.tmp && mv -T feeds.tmp feeds`
    std::os::unix::fs::symlink("feeds.v2", dir.path().join("feeds.tmp")).expect("symlink");
    std::fs::rename(dir.path().join("feeds.tmp"), dir.path().join("feeds")).expect("swap");
    assert_eq!(
        get("/f/atom.xml").await,
        (StatusCode::OK, "<feed>feeds.v2</feed>".to_owned())
    );
    assert_eq!(get("/f/new.xml").await.0, StatusCode::OK);
    assert_eq!(get("/f/old.xml").await.0, StatusCode::NOT_FOUND);
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_an_answer_is_dropped_after_the_timeout() {
    let fx = Fixture::start_with("timeout_secs = 1").await;
    // Far larger than what the socket buffers on both sides can hold.
    const SIZE: usize = 64 << 20;
    let file = fx.cfg.output_dir.join("daily/big.xml");
    std::fs::write(&file, vec![b'x'; SIZE]).expect("write");
    let addr = fx.addr;
    let got = tokio::task::spawn_blocking(move || {
        let mut s = std::net::TcpStream::connect(addr).expect("connect");
        s.write_all(b"GET /daily/big.xml HTTP/1.1\r\nHost: localhost\r\n\r\n")
            .expect("send");
        // Take nothing for three times the timeout, then everything there is.
        std::thread::sleep(Duration::from_secs(3));
        s.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        let mut got = 0usize;
        let mut buf = vec![0u8; 1 << 20];
        loop {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => got += n,
            }
            if got > SIZE {
                break;
            }
        }
        got
    })
    .await
    .expect("join");
    assert!(got < SIZE, "the whole answer still came: {got} bytes");
    // A client that reads gets all of it.
    let res = client()
        .get(fx.url("/daily/big.xml"))
        .send()
        .await
        .expect("get");
    assert_eq!(res.bytes().await.expect("body").len(), SIZE);
    fx.stop().await;
}

/// Told to stop, the server ends every connection it accepted within its grace period, even
/// one kept busy by a long answer (a client downloading slowly): none outlives `serve`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_ends_a_slow_download_within_the_grace_period() {
    let fx = Fixture::start().await;
    common::sparse_file(&fx.cfg.output_dir.join("daily/big.xml"));
    let download = common::SlowDownload::start(fx.addr, "/daily/big.xml").await;
    let stopping = tokio::spawn(fx.stop());
    let (after, got) = download
        .closed_within(GRACE + Duration::from_secs(4))
        .await
        .expect("the download still goes on 4 s after the grace period");
    assert!(
        got < common::LARGE_FILE,
        "the whole answer came in {after:?}"
    );
    stopping.await.expect("the server stopped");
}
