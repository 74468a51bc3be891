//! What a fetch hands on is what the site meant to send, or the run says why not: a page the
//! closing of its connection cut short is a failure (never a post, never its validators), a page
//! whose charsets disagree or whose bytes are not valid in its charset is named in a warning,
//! and a run that looks degraded is not recorded as the source's last success.

mod common;

use std::collections::{HashMap, VecDeque};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Post, Resp, Site, classic_post, feedwright, listing, site_config, write_config};
use feedwright::config::HttpConfig;
use feedwright::source::http::{FetchError, Fetcher};

/// A site answering each request with bytes written as they are (status line, headers, body),
/// then closing the connection: the only way to send a body whose end is the connection's
/// (the fixture `Site`'s server always declares a length or chunks).
struct RawSite {
    addr: SocketAddr,
    /// Answers by path, in order; the last one repeats.
    routes: Arc<Mutex<HashMap<String, VecDeque<Vec<u8>>>>>,
    /// `(path, conditional)` of every request.
    log: Arc<Mutex<Vec<(String, bool)>>>,
}

impl RawSite {
    fn start() -> RawSite {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let addr = listener.local_addr().expect("addr");
        let routes: Arc<Mutex<HashMap<String, VecDeque<Vec<u8>>>>> = Arc::default();
        let log: Arc<Mutex<Vec<(String, bool)>>> = Arc::default();
        let (r, l) = (routes.clone(), log.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (r, l) = (r.clone(), l.clone());
                std::thread::spawn(move || answer_raw(stream, &r, &l));
            }
        });
        RawSite { addr, routes, log }
    }

    fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Answer `path` with `answers`, one per request, the last one repeating.
    fn set(&self, path: &str, answers: Vec<Vec<u8>>) {
        assert!(!answers.is_empty());
        self.routes
            .lock()
            .unwrap()
            .insert(path.to_owned(), answers.into());
    }

    /// Whether each request for `path` was conditional, in order.
    fn hits(&self, path: &str) -> Vec<bool> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|(p, _)| p == path)
            .map(|(_, c)| *c)
            .collect()
    }
}

fn answer_raw(
    mut stream: TcpStream,
    routes: &Mutex<HashMap<String, VecDeque<Vec<u8>>>>,
    log: &Mutex<Vec<(String, bool)>>,
) {
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    // The whole request head (a GET has no body), so closing sends no reset.
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
    let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
    let conditional =
        head.contains("\r\nif-none-match:") || head.contains("\r\nif-modified-since:");
    log.lock().unwrap().push((path.clone(), conditional));
    let answer = {
        let mut routes = routes.lock().unwrap();
        match routes.get_mut(&path) {
            Some(answers) if answers.len() > 1 => answers.pop_front().unwrap(),
            Some(answers) => answers[0].clone(),
            None => framed("404 Not Found", "text/plain", &[], b"", true),
        }
    };
    let _ = stream.write_all(&answer);
    let _ = stream.flush();
    // A clean end: FIN, not a reset.
    let _ = stream.shutdown(std::net::Shutdown::Both);
}

/// An HTTP/1.1 answer with a `Content-Length` (and `Connection: close` when `close`).
fn framed(status: &str, ctype: &str, headers: &[&str], body: &[u8], close: bool) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\n",
        body.len()
    );
    if close {
        out.push_str("Connection: close\r\n");
    }
    for h in headers {
        out.push_str(&format!("{h}\r\n"));
    }
    out.push_str("\r\n");
    let mut out = out.into_bytes();
    out.extend_from_slice(body);
    out
}

/// An answer declaring no length: its body ends where the server closes the connection.
fn close_delimited(version: &str, ctype: Option<&str>, headers: &[&str], body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/{version} 200 OK\r\n");
    if let Some(ct) = ctype {
        out.push_str(&format!("Content-Type: {ct}\r\n"));
    }
    if version == "1.1" {
        out.push_str("Connection: close\r\n");
    }
    for h in headers {
        out.push_str(&format!("{h}\r\n"));
    }
    out.push_str("\r\n");
    let mut out = out.into_bytes();
    out.extend_from_slice(body);
    out
}

/// A chunked HTTP/1.1 answer, in one chunk.
fn chunked(ctype: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {ctype}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out.extend_from_slice(b"\r\n0\r\n\r\n");
    out
}

fn gzip(body: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(body).unwrap();
    enc.finish().unwrap()
}

/// A post page with a long body, ending `</body></html>`.
fn long_post(base: &str, p: &Post) -> String {
    let mut p = p.clone();
    p.body = (1..=30)
        .map(|i| {
            format!(
                "<p>Paragraph {i}: how do negotiators' talks leverage alternatives? They weigh \
                 them, name them and keep them in reserve.</p>\n<figure><img src=\"/img/{i}.png\" \
                 alt=\"\"></figure>\n"
            )
        })
        .collect::<String>()
        + "<p>The last words of the post.</p>";
    classic_post(base, &p)
}

fn db(dir: &std::path::Path) -> rusqlite::Connection {
    rusqlite::Connection::open(dir.join("feedwright.db")).expect("open the store")
}

fn atom(dir: &std::path::Path) -> String {
    std::fs::read_to_string(dir.join("out/main/atom.xml")).expect("atom.xml")
}

/// The audit's case: a post answers `200`, with an `ETag` and `Connection: close`, no
/// `Content-Length`, and only 45% of the page before the server closes cleanly. It was stored as
/// a complete post with its ETag, so never fetched again. Now it fails, keeps no validators, is
/// retried on the next run (as any failed post), and is stored whole once it comes whole.
#[test]
fn a_page_a_closed_connection_cut_short_fails_and_is_fetched_again_in_full() {
    let site = RawSite::start();
    let base = site.base();
    let posts: Vec<Post> = (1..=3)
        .map(|i| {
            Post::new(
                i,
                &format!("post-{i}"),
                &format!("Post number {i}"),
                &format!("2024-03-0{i}T10:00:00+00:00"),
            )
        })
        .collect();
    let links: Vec<(String, String)> = posts
        .iter()
        .rev()
        .map(|p| (format!("{base}{}", p.path()), p.title.clone()))
        .collect();
    let html = "text/html; charset=UTF-8";
    site.set(
        "/cat/",
        vec![framed(
            "200 OK",
            html,
            &[],
            listing(&base, &links, None).as_bytes(),
            true,
        )],
    );
    for p in &posts[..2] {
        let page = long_post(&base, p);
        site.set(
            &p.path(),
            vec![framed("200 OK", html, &[], page.as_bytes(), true)],
        );
    }
    let cut = &posts[2];
    let whole = long_post(&base, cut);
    // Cut short twice, at different places: the page is asked for again to tell a page that
    // leaves out its end tags from one cut short.
    let part = &whole.as_bytes()[..whole.len() * 45 / 100];
    let other_part = &whole.as_bytes()[..whole.len() * 55 / 100];
    assert!(!String::from_utf8_lossy(other_part).contains("</body>"));
    site.set(
        &cut.path(),
        vec![
            close_delimited("1.1", Some(html), &[r#"ETag: "trunc1""#], part),
            close_delimited("1.1", Some(html), &[r#"ETag: "trunc1""#], other_part),
        ],
    );
    let cut_url = format!("{base}{}", cut.path());

    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &site_config(&format!("{base}/cat/"), "", ""));
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("site: 2 new"), "{stderr}");
    assert!(stderr.contains("1 failed"), "{stderr}");
    let line = stderr
        .lines()
        .find(|l| l.contains("failed") && l.contains(&cut_url))
        .unwrap_or_else(|| panic!("no failure line for {cut_url}\n{stderr}"));
    assert!(
        line.contains("cut short: the connection closed before </html>"),
        "{line}"
    );
    let feed = atom(dir.path());
    assert!(feed.contains("Post number 1") && feed.contains("Post number 2"));
    assert!(!feed.contains("Post number 3"), "{feed}");
    let conn = db(dir.path());
    let kept: i64 = conn
        .query_row(
            "SELECT count(*) FROM http_cache WHERE etag = '\"trunc1\"'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(kept, 0, "the validators of a body cut short are never kept");
    let reason: String = conn
        .query_row(
            "SELECT reason FROM pending WHERE url = ?1",
            [&cut_url],
            |r| r.get(0),
        )
        .expect("the post is pending");
    assert!(reason.contains("cut short"), "{reason}");
    drop(conn);

    // The server sends the whole page now, still ending it by closing the connection: that is
    // a complete page (it reaches </html>), stored in full, with its validators.
    site.set(
        &cut.path(),
        vec![close_delimited(
            "1.1",
            Some(html),
            &[r#"ETag: "full1""#],
            whole.as_bytes(),
        )],
    );
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("site: 1 new"), "{stderr}");
    assert_eq!(
        site.hits(&cut.path()),
        [false, false, false],
        "asked for again at once, then fetched again next run, unconditionally"
    );
    let feed = atom(dir.path());
    assert!(
        feed.contains("Post number 3") && feed.contains("The last words of the post."),
        "{feed}"
    );
    let etag: String = db(dir.path())
        .query_row(
            "SELECT etag FROM http_cache WHERE url = ?1",
            [&cut_url],
            |r| r.get(0),
        )
        .expect("validators of the whole page");
    assert_eq!(etag, "\"full1\"");
}

/// A page cut short once is asked for again at once, and taken when it comes whole: a
/// connection that dropped once seldom drops again at once.
#[test]
fn a_page_cut_short_once_is_retried_in_the_same_run() {
    let site = RawSite::start();
    let base = site.base();
    let p = Post::new(1, "flaky", "Flaky post", "2024-03-01T10:00:00+00:00");
    let html = "text/html; charset=UTF-8";
    let link = [(format!("{base}{}", p.path()), p.title.clone())];
    site.set(
        "/cat/",
        vec![framed(
            "200 OK",
            html,
            &[],
            listing(&base, &link, None).as_bytes(),
            true,
        )],
    );
    let whole = long_post(&base, &p);
    site.set(
        &p.path(),
        vec![
            close_delimited("1.1", Some(html), &[], &whole.as_bytes()[..2000]),
            close_delimited("1.1", Some(html), &[], whole.as_bytes()),
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        &site_config(&format!("{base}/cat/"), "max_retries = 1", ""),
    );
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("site: 1 new"), "{stderr}");
    assert_eq!(site.hits(&p.path()).len(), 2);
    assert!(atom(dir.path()).contains("The last words of the post."));
}

/// Which answers can be cut short without the HTTP layer noticing: only those whose end is the
/// connection's (HTTP/1.0 or 1.1 without a length or chunking, `Connection: close` or not). An
/// answer that declares its length (`Content-Length`, chunked) is complete when it arrives
/// whole, with or without `</html>`; so is one whose compression ends properly. A page that may
/// be cut short is asked for again: the same bytes twice are the page as sent (one that leaves
/// out its optional end tags), a complete answer is taken, and two that differ are cut short.
#[test]
fn only_an_html_body_ended_by_a_closed_connection_is_judged_by_its_end_tags() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let site = RawSite::start();
    let base = site.base();
    let html = "text/html; charset=utf-8";
    let page =
        b"<!DOCTYPE html><html><head><title>T</title></head><body><p>Some text</p></body></html>\n";
    let no_end = b"<!DOCTYPE html><html><head><title>T</title></head><body><p>Some text";
    let shorter = b"<!DOCTYPE html><html><head><title>T</title></head><body><p>Some";
    let feed =
        b"<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>T</title></channel></rss>";
    let body_only =
        b"<!DOCTYPE html><html><head><title>T</title></head><body><p>Some text</p></BODY>";
    let closed = |ctype: Option<&str>, body: &[u8]| close_delimited("1.1", ctype, &[], body);
    let twice = |answer: Vec<u8>| vec![answer.clone(), answer];
    // (path, answers in order, taken: the body it gives, or None when it is cut short)
    type Case<'a> = (&'a str, Vec<Vec<u8>>, Option<&'a [u8]>);
    let cases: Vec<Case> = vec![
        ("/closed-whole", twice(closed(Some(html), page)), Some(page)),
        (
            "/closed-body-tag",
            twice(closed(Some(html), body_only)),
            Some(body_only),
        ),
        (
            "/closed-cut",
            vec![closed(Some(html), no_end), closed(Some(html), shorter)],
            None,
        ),
        (
            "/http10-cut",
            vec![
                close_delimited("1.0", Some(html), &[], no_end),
                close_delimited("1.0", Some(html), &[], shorter),
            ],
            None,
        ),
        (
            "/closed-untyped-cut",
            vec![closed(None, no_end), closed(None, shorter)],
            None,
        ),
        (
            "/xhtml-cut",
            vec![
                closed(Some("application/xhtml+xml"), no_end),
                closed(Some("application/xhtml+xml"), shorter),
            ],
            None,
        ),
        // HTTP/1.1 with no length, no chunking and no `Connection: close` ends at the close
        // all the same (RFC 9112, 6.3).
        (
            "/unframed-keepalive-cut",
            vec![
                b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n"
                    .iter()
                    .chain(no_end.iter())
                    .copied()
                    .collect(),
                b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n"
                    .iter()
                    .chain(shorter.iter())
                    .copied()
                    .collect(),
            ],
            None,
        ),
        // Cut short, then whole: the whole page is taken.
        (
            "/closed-cut-then-whole",
            vec![closed(Some(html), no_end), closed(Some(html), page)],
            Some(page),
        ),
        // The same bytes twice: a page without its optional end tags.
        (
            "/closed-no-end-tags",
            twice(closed(Some(html), no_end)),
            Some(no_end),
        ),
        (
            "/closed-text",
            vec![
                closed(Some("text/plain"), no_end),
                closed(Some("text/plain"), shorter),
            ],
            Some(no_end),
        ),
        // A feed a server labels text/html is no page.
        (
            "/closed-feed",
            vec![closed(Some(html), feed), closed(Some(html), b"<")],
            Some(feed),
        ),
        (
            "/length",
            vec![
                framed("200 OK", html, &[], no_end, true),
                framed("200 OK", html, &[], shorter, true),
            ],
            Some(no_end),
        ),
        (
            "/length-keepalive",
            vec![framed("200 OK", html, &[], no_end, false)],
            Some(no_end),
        ),
        ("/chunked", vec![chunked(html, no_end)], Some(no_end)),
        (
            "/gzip-length-keepalive",
            twice(framed(
                "200 OK",
                html,
                &["Content-Encoding: gzip"],
                &gzip(no_end),
                false,
            )),
            Some(no_end),
        ),
        // Decompression drops the length it declares: asked for again, and the same.
        (
            "/gzip-length-close",
            twice(framed(
                "200 OK",
                html,
                &["Content-Encoding: gzip"],
                &gzip(no_end),
                true,
            )),
            Some(no_end),
        ),
    ];
    for (path, answers, _) in &cases {
        site.set(path, answers.clone());
    }
    for (path, _, taken) in &cases {
        // A client per request: none of them reuses a connection the server closed.
        let fetcher = Fetcher::new(&HttpConfig {
            min_interval_ms: 0,
            timeout_secs: 5,
            max_retries: 0,
            respect_robots: false,
            ..HttpConfig::default()
        })
        .unwrap();
        let url = url::Url::parse(&format!("{base}{path}")).unwrap();
        let got = rt.block_on(fetcher.get(&url));
        match taken {
            None => {
                assert_eq!(got.err(), Some(FetchError::CutShort), "{path}");
                assert_eq!(
                    fetcher.stats().by_status,
                    [("error".to_owned(), 2)],
                    "{path}: counted as answers that did not come whole"
                );
            }
            Some(body) => {
                let got = got.unwrap_or_else(|e| panic!("{path}: {e}"));
                assert_eq!(got.body, *body, "{path}");
            }
        }
    }
    // A compressed body that ends before its compression does is an error of its own.
    let whole = gzip(page);
    site.set(
        "/gzip-closed-cut",
        vec![close_delimited(
            "1.1",
            Some(html),
            &["Content-Encoding: gzip"],
            &whole[..whole.len() / 2],
        )],
    );
    let fetcher = Fetcher::new(&HttpConfig {
        min_interval_ms: 0,
        max_retries: 0,
        respect_robots: false,
        ..HttpConfig::default()
    })
    .unwrap();
    let url = url::Url::parse(&format!("{base}/gzip-closed-cut")).unwrap();
    assert!(rt.block_on(fetcher.get(&url)).is_err());
}

/// A page sent as ISO-8859-1 whose `<meta>` and bytes are UTF-8 is decoded as its header says
/// (as browsers do), and so garbled: the run names it in one warning with both charsets. A
/// page in windows-1252 sent as UTF-8 gets U+FFFD for its accented letters: the warning says how
/// many. A page whose charsets agree and whose bytes are valid gets none.
#[test]
fn charsets_that_disagree_or_bytes_replaced_are_named_in_one_warning_per_page() {
    let site = Site::start();
    let base = site.base();
    let mut latin = Post::new(
        1,
        "latin",
        "Lucía García on mediation",
        "2024-03-01T10:00:00+00:00",
    );
    latin.author = "Lucía García".into();
    latin.body = "<p>Mediation — the quiet art.</p>".into();
    let mut legacy = Post::new(2, "legacy", "Legacy bytes", "2024-03-02T10:00:00+00:00");
    legacy.body = "<p>Caf@ au lait, tr@s bon @ dit-on.</p>".into();
    let clean = Post::new(3, "clean", "Clean post", "2024-03-03T10:00:00+00:00");
    site.set(
        &latin.path(),
        Resp::Bytes {
            content_type: "text/html; charset=ISO-8859-1".into(),
            body: classic_post(&base, &latin).into_bytes(),
            headers: vec![],
        },
    );
    // Three bytes of windows-1252 (é, è, –) in a page sent and declared as UTF-8.
    let mut bytes = Vec::new();
    for (i, part) in classic_post(&base, &legacy).split('@').enumerate() {
        if i > 0 {
            bytes.push([0xE9, 0xE8, 0x96][i - 1]);
        }
        bytes.extend_from_slice(part.as_bytes());
    }
    site.set(
        &legacy.path(),
        Resp::Bytes {
            content_type: "text/html; charset=utf-8".into(),
            body: bytes,
            headers: vec![],
        },
    );
    site.set(&clean.path(), Resp::Html(classic_post(&base, &clean)));
    let links: Vec<(String, String)> = [&clean, &legacy, &latin]
        .iter()
        .map(|p| (format!("{base}{}", p.path()), p.title.clone()))
        .collect();
    site.set("/cat/", Resp::Html(listing(&base, &links, None)));

    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &site_config(&site.url("/cat/"), "", ""));
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "a warning is no failure: {stderr}");
    assert!(stderr.contains("site: 3 new"), "{stderr}");
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("WARN") && l.contains("charset"))
        .collect();
    assert_eq!(warnings.len(), 2, "{stderr}");
    let latin_url = format!("{base}{}", latin.path());
    let legacy_url = format!("{base}{}", legacy.path());
    let of = |url: &str| {
        *warnings
            .iter()
            .find(|l| l.contains(url))
            .unwrap_or_else(|| panic!("no warning for {url}\n{stderr}"))
    };
    let w = of(&latin_url);
    assert!(
        w.contains("different charsets")
            && w.contains("HTTP header charset ISO-8859-1")
            && w.contains("<meta> charset UTF-8")
            && w.contains("decoded as windows-1252")
            && w.contains("0 replacement characters"),
        "{w}"
    );
    let w = of(&legacy_url);
    assert!(
        w.contains("not valid")
            && w.contains("HTTP header charset utf-8")
            && w.contains("<meta> charset UTF-8")
            && w.contains("decoded as UTF-8")
            && w.contains("3 replacement characters"),
        "{w}"
    );
    // The header still wins, as in browsers: the warning is what tells the operator.
    let feed = atom(dir.path());
    assert!(feed.contains("LucÃ"), "{feed}");
    assert!(feed.contains("Caf\u{FFFD} au lait"), "{feed}");
}

/// A maintenance page answering 200 where the listing was makes the run degraded (exit 1): that
/// run is no success, so the source's last success stays the last real one, for `status`,
/// `/healthz` and `/metrics`. A run that reads the listing well again is one.
#[test]
fn a_degraded_run_is_not_the_last_success() {
    let site = Site::start();
    let base = site.base();
    let posts: Vec<Post> = (1..=2)
        .map(|i| {
            Post::new(
                i,
                &format!("p{i}"),
                &format!("Post {i}"),
                &format!("2024-03-0{i}T10:00:00+00:00"),
            )
        })
        .collect();
    for p in &posts {
        site.set(&p.path(), Resp::Html(classic_post(&base, p)));
    }
    let links: Vec<(String, String)> = posts
        .iter()
        .map(|p| (format!("{base}{}", p.path()), p.title.clone()))
        .collect();
    let good_listing = listing(&base, &links, None);
    site.set("/cat/", Resp::Html(good_listing.clone()));
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &site_config(&site.url("/cat/"), "", ""));
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    // That success was an hour ago.
    let state = |dir: &std::path::Path| -> (Option<i64>, i64, String) {
        db(dir)
            .query_row(
                "SELECT last_success, last_run, state FROM source_state WHERE source = 'site'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap()
    };
    let (success, run, _) = state(dir.path());
    assert_eq!(success, Some(run));
    let earlier = run - 3600;
    db(dir.path())
        .execute(
            "UPDATE source_state SET last_success = ?1, last_run = ?1",
            [earlier],
        )
        .unwrap();

    site.set(
        "/cat/",
        Resp::Html(
            "<!DOCTYPE html><html><head><title>Maintenance</title></head><body><h1>Down for \
             maintenance</h1><p>We will be back soon.</p></body></html>"
                .into(),
        ),
    );
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("degraded"), "{stderr}");
    let (success, run, state_name) = state(dir.path());
    assert_eq!(state_name, "degraded");
    assert!(run > earlier, "the run is recorded");
    assert_eq!(success, Some(earlier), "a degraded run is no success");

    site.set("/cat/", Resp::Html(good_listing));
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    let (success, run, state_name) = state(dir.path());
    assert_eq!(state_name, "healthy");
    assert_eq!(
        success,
        Some(run),
        "the listing read well again is a success"
    );
}

/// Regression: a feed whose charset only its HTTP header names (no XML declaration, or one
/// without `encoding`) was refused: "cannot decode input using UTF-8". The header's charset
/// decodes it (RFC 7303), `text/xml` as `application/rss+xml`; when the XML declaration names
/// another encoding, the header still wins for an XML media type and a warning names both.
#[test]
fn a_feed_in_the_charset_of_its_http_header_is_read() {
    let site = Site::start();
    let base = site.base();
    let item = |n: u32, title: &str| {
        format!(
            "<item><title>{title}</title><link>{base}/{n}/</link>\
             <pubDate>Mon, 0{n} Apr 2024 10:00:00 +0000</pubDate>\
             <description>Переговоры {n}</description></item>"
        )
    };
    let rss = |declaration: &str, n: u32, title: &str| {
        format!(
            "{declaration}<rss version=\"2.0\"><channel><title>Новости</title>\
             <link>{base}/</link><description>d</description>{}</channel></rss>",
            item(n, title)
        )
    };
    let cp1251 = |text: &str| encoding_rs::WINDOWS_1251.encode(text).0.into_owned();
    let cases = [
        ("", "application/rss+xml; charset=windows-1251", "Женева"),
        (
            r#"<?xml version="1.0"?>"#,
            "text/xml; charset=windows-1251",
            "Москва",
        ),
        (
            r#"<?xml version="1.0" encoding="ISO-8859-5"?>"#,
            "application/xml; charset=windows-1251",
            "Киев",
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    let mut sources = String::new();
    for (n, (declaration, content_type, title)) in cases.iter().enumerate() {
        let path = format!("/feed{n}/");
        site.set(
            &path,
            Resp::Bytes {
                content_type: (*content_type).into(),
                body: cp1251(&rss(declaration, n as u32 + 1, title)),
                headers: vec![],
            },
        );
        sources.push_str(&format!(
            "[[source]]\nname = \"f{n}\"\nurl = \"{}\"\nkind = \"feed\"\n",
            site.url(&path)
        ));
    }
    let config = format!(
        "output_dir = \"out\"\npublic_url = \"http://feeds.test/\"\n[store]\npath = \"f.db\"\n\
         [http]\nmin_interval_ms = 0\nmax_retries = 0\n{sources}\
         [[feed]]\nname = \"main\"\nsources = [\"f0\", \"f1\", \"f2\"]\n"
    );
    let cfg = write_config(dir.path(), &config);
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    let feed = atom(dir.path());
    for (_, _, title) in cases {
        assert!(feed.contains(title), "{title}: {feed}");
    }
    assert!(feed.contains("Переговоры 1"), "{feed}");
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("WARN") && l.contains("charset"))
        .collect();
    assert_eq!(warnings.len(), 1, "{stderr}");
    assert!(
        warnings[0].contains("/feed2/")
            && warnings[0].contains("charset windows-1251")
            && warnings[0].contains("\"ISO-8859-5\"")
            && warnings[0].contains("RFC 7303"),
        "{stderr}"
    );
}

/// A UTF-8 page whose only charset is a `<meta charset=ISO-8859-1>` is read as it declares, as
/// browsers do (`NÃ©gociations`), but no longer silently: one warning says its bytes are
/// UTF-8 read in the single-byte charset it declares.
#[test]
fn a_utf8_page_declaring_a_single_byte_charset_is_named_in_a_warning() {
    let site = Site::start();
    let base = site.base();
    let post = Post::new(
        1,
        "negociations",
        "Négociations à Genève",
        "2024-03-01T10:00:00+00:00",
    );
    let html = classic_post(&base, &post).replace("UTF-8", "ISO-8859-1");
    assert!(html.contains("charset=\"ISO-8859-1\""), "{html}");
    site.set(
        &post.path(),
        Resp::Bytes {
            content_type: "text/html".into(),
            body: html.into_bytes(),
            headers: vec![],
        },
    );
    let link = (format!("{base}{}", post.path()), post.title.clone());
    site.set("/cat/", Resp::Html(listing(&base, &[link], None)));
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &site_config(&site.url("/cat/"), "", ""));
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "a warning is no failure: {stderr}");
    let warnings: Vec<&str> = stderr.lines().filter(|l| l.contains("WARN")).collect();
    assert_eq!(warnings.len(), 1, "{stderr}");
    assert!(
        warnings[0].contains(&post.path())
            && warnings[0].contains("the bytes are UTF-8")
            && warnings[0].contains("<meta> charset ISO-8859-1"),
        "{stderr}"
    );
    assert!(atom(dir.path()).contains("NÃ©gociations"));
}
