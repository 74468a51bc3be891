//! Test support: a WordPress-like fixture site served over real HTTP on loopback, and helpers to
//! run the real `feedwright` binary against it.
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderValue, Response, StatusCode, Uri, header};

/// How the fixture server answers one path.
#[derive(Clone, Debug)]
pub enum Resp {
    /// 200 text/html; charset=utf-8.
    Html(String),
    /// 200 with explicit content type and raw bytes (and optional extra headers).
    Bytes {
        content_type: String,
        body: Vec<u8>,
        headers: Vec<(String, String)>,
    },
    /// A bare status code.
    Status(u16),
    /// Wait this long before answering 200 (to trigger client timeouts).
    Slow(Duration),
    /// 302 to this location.
    Redirect(String),
    /// Answer `status` with `Retry-After: <retry_after>` the first `times` times, then `then`.
    Limited {
        times: usize,
        status: u16,
        retry_after: String,
        then: Box<Resp>,
    },
    /// 200 text/html sent in `chunks` pieces with `delay` between them.
    Drip { chunks: usize, delay: Duration },
    /// Wait `delay`, then answer `then` (a slow site). `then` is neither an `After` nor a
    /// `Delay`.
    Delay { delay: Duration, then: Box<Resp> },
    /// Hold the request until each of `paths` was answered to a request logged at index `since`
    /// or later (see [`Site::hits`]), then [`AFTER_GRACE`] more, then answer `then`: a way to
    /// order what the client receives. Answers 503 when that takes longer than [`AFTER_LIMIT`].
    /// `then` must not be another `After`.
    After {
        paths: Vec<String>,
        since: usize,
        then: Box<Resp>,
    },
}

/// How long [`Resp::After`] lets the client handle the answers it waited for.
pub const AFTER_GRACE: Duration = Duration::from_millis(300);
/// How long [`Resp::After`] waits at most.
pub const AFTER_LIMIT: Duration = Duration::from_secs(10);

type Routes = Arc<Mutex<HashMap<String, Resp>>>;

/// One request as the fixture server saw it.
#[derive(Clone, Debug)]
pub struct Hit {
    pub path: String,
    pub status: u16,
    /// Sent `If-None-Match` or `If-Modified-Since`.
    pub conditional: bool,
    pub at: std::time::Instant,
    /// The `Authorization` header sent, if any.
    pub authorization: Option<String>,
}

/// A running fixture site.
pub struct Site {
    pub addr: SocketAddr,
    routes: Routes,
    log: Arc<Mutex<Vec<Hit>>>,
    _runtime: Arc<tokio::runtime::Runtime>,
}

impl Site {
    /// Start an empty site on 127.0.0.1 with an ephemeral port.
    pub fn start() -> Site {
        let runtime = Arc::new(
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime"),
        );
        let routes: Routes = Arc::default();
        let log: Arc<Mutex<Vec<Hit>>> = Arc::default();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind loopback");
        let addr = listener.local_addr().expect("addr");
        let (r, l) = (routes.clone(), log.clone());
        let app = axum::Router::new().fallback(move |uri: Uri, headers: axum::http::HeaderMap| {
            let (r, l) = (r.clone(), l.clone());
            async move { answer(&r, &l, uri, headers).await }
        });
        runtime.spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Site {
            addr,
            routes,
            log,
            _runtime: runtime,
        }
    }

    /// Absolute URL of `path` on this site.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Base URL without a trailing slash.
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Set (or replace) the answer for `path` (path and query, e.g. `/a/?p=1`).
    pub fn set(&self, path: &str, resp: Resp) {
        self.routes.lock().unwrap().insert(path.to_string(), resp);
    }

    /// Every path requested so far, in order.
    pub fn requests(&self) -> Vec<String> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .map(|h| h.path.clone())
            .collect()
    }

    /// Every request so far, with status and timing.
    pub fn hits(&self) -> Vec<Hit> {
        self.log.lock().unwrap().clone()
    }
}

async fn answer(
    routes: &Routes,
    log: &Arc<Mutex<Vec<Hit>>>,
    uri: Uri,
    headers: axum::http::HeaderMap,
) -> Response<Body> {
    let at = std::time::Instant::now();
    let key = uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let if_none_match = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let conditional = if_none_match.is_some() || headers.contains_key(header::IF_MODIFIED_SINCE);
    // Logged on arrival (status filled in when the answer is ready), so a test can react to a
    // request that is still being answered.
    let slot = {
        let mut l = log.lock().unwrap();
        l.push(Hit {
            path: key.clone(),
            status: 0,
            conditional,
            at,
            authorization: headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
        });
        l.len() - 1
    };
    let resp = {
        let mut r = routes.lock().unwrap();
        let found = if r.contains_key(&key) {
            Some(key.clone())
        } else {
            r.contains_key(uri.path()).then(|| uri.path().to_string())
        };
        match found {
            None => None,
            Some(k) => {
                let entry = r.get_mut(&k).unwrap();
                if let Resp::Limited {
                    times,
                    status,
                    retry_after,
                    then,
                } = entry
                {
                    if *times > 0 {
                        *times -= 1;
                        Some(Resp::Limited {
                            times: 1,
                            status: *status,
                            retry_after: retry_after.clone(),
                            then: then.clone(),
                        })
                    } else {
                        Some((**then).clone())
                    }
                } else {
                    Some(entry.clone())
                }
            }
        }
    };
    let resp = match resp {
        Some(Resp::After { paths, since, then }) => {
            let answered = |p: &String| {
                log.lock()
                    .unwrap()
                    .iter()
                    .skip(since)
                    .any(|h| h.path == *p && h.status != 0)
            };
            let t0 = std::time::Instant::now();
            while !paths.iter().all(answered) && t0.elapsed() < AFTER_LIMIT {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            if paths.iter().all(answered) {
                tokio::time::sleep(AFTER_GRACE).await;
                Some(*then)
            } else {
                Some(Resp::Status(503))
            }
        }
        Some(Resp::Delay { delay, then }) => {
            tokio::time::sleep(delay).await;
            Some(*then)
        }
        other => other,
    };
    let mut out = Response::new(Body::empty());
    match resp {
        None => *out.status_mut() = StatusCode::NOT_FOUND,
        Some(Resp::Html(s)) => {
            // A strong ETag from the content, so conditional GETs get 304 when nothing changed.
            let mut h = std::collections::hash_map::DefaultHasher::new();
            std::hash::Hash::hash(&s, &mut h);
            let etag = format!("\"{:x}\"", std::hash::Hasher::finish(&h));
            out.headers_mut()
                .insert(header::ETAG, HeaderValue::from_str(&etag).unwrap());
            if if_none_match.as_deref() == Some(etag.as_str()) {
                *out.status_mut() = StatusCode::NOT_MODIFIED;
            } else {
                out.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/html; charset=utf-8"),
                );
                *out.body_mut() = Body::from(s);
            }
        }
        Some(Resp::Bytes {
            content_type,
            body,
            headers,
        }) => {
            out.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_str(&content_type).unwrap(),
            );
            for (k, v) in headers {
                out.headers_mut().insert(
                    header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                    HeaderValue::from_str(&v).unwrap(),
                );
            }
            *out.body_mut() = Body::from(body);
        }
        Some(Resp::Status(code)) => *out.status_mut() = StatusCode::from_u16(code).unwrap(),
        Some(Resp::Slow(d)) => {
            tokio::time::sleep(d).await;
            out.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
            *out.body_mut() = Body::from("<html><body>late</body></html>");
        }
        Some(Resp::Redirect(to)) => {
            *out.status_mut() = StatusCode::FOUND;
            out.headers_mut()
                .insert(header::LOCATION, HeaderValue::from_str(&to).unwrap());
        }
        Some(Resp::Limited {
            status,
            retry_after,
            ..
        }) => {
            *out.status_mut() = StatusCode::from_u16(status).unwrap();
            out.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from_str(&retry_after).unwrap(),
            );
        }
        Some(Resp::After { .. }) => unreachable!("`then` of Resp::After is not itself an After"),
        Some(Resp::Delay { .. }) => unreachable!("`then` of Resp::Delay is not itself a Delay"),
        Some(Resp::Drip { chunks, delay }) => {
            out.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
            let stream = futures_util::stream::unfold(0usize, move |i| async move {
                if i >= chunks {
                    return None;
                }
                tokio::time::sleep(delay).await;
                Some((
                    Ok::<_, std::io::Error>(axum::body::Bytes::from_static(b"<p>drip</p>")),
                    i + 1,
                ))
            });
            *out.body_mut() = Body::from_stream(stream);
        }
    }
    log.lock().unwrap()[slot].status = out.status().as_u16();
    out
}

/// One fixture post.
#[derive(Clone, Debug)]
pub struct Post {
    pub id: u64,
    pub slug: String,
    pub title: String,
    /// RFC 3339.
    pub date: String,
    pub modified: Option<String>,
    pub author: String,
    pub categories: Vec<String>,
    pub body: String,
}

impl Post {
    pub fn new(id: u64, slug: &str, title: &str, date: &str) -> Post {
        Post {
            id,
            slug: slug.into(),
            title: title.into(),
            date: date.into(),
            modified: None,
            author: "Miriam Brenner".into(),
            categories: vec!["International Negotiation".into()],
            body: format!("<p>Body of {title}. Delegations met to talk about trade and water.</p>"),
        }
    }

    pub fn path(&self) -> String {
        format!("/{}/{}/", &self.date[..10].replace('-', "/"), self.slug)
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn cat_links(base: &str, p: &Post) -> String {
    p.categories
        .iter()
        .map(|c| {
            format!(
                r#"<a href="{base}/category/{}/" rel="category tag">{}</a>"#,
                c.to_lowercase().replace(' ', "-"),
                esc(c)
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

const SIDEBAR_AND_NAV: &str = r#"<nav class="main-navigation"><ul><li><a href="/category/mediation/" rel="category">Mediation</a></li></ul></nav>"#;

/// A classic-theme (twentysixteen-like) single post page.
pub fn classic_post(base: &str, p: &Post) -> String {
    let url = format!("{base}{}", p.path());
    let modified = p.modified.clone().unwrap_or_else(|| p.date.clone());
    format!(
        r#"<!DOCTYPE html><html lang="en-US"><head><meta charset="UTF-8">
<title>{title} – Negotiation Notebook</title>
<link rel="canonical" href="{url}" />
<link rel="shortlink" href="{base}/?p={id}" />
<meta property="og:type" content="article" />
<meta property="og:site_name" content="Negotiation Notebook" />
<meta property="article:published_time" content="{date}" />
<meta property="article:modified_time" content="{modified}" />
<link rel="next" href="{base}/some/other/post/" />
</head><body class="post-template-default single single-post postid-{id}">
<header id="masthead">{nav}</header>
<div id="primary"><main id="main" class="site-main">
<article id="post-{id}" class="post-{id} post type-post hentry">
<header class="entry-header"><h1 class="entry-title">{title}</h1></header>
<div class="entry-content">{body}</div>
<footer class="entry-footer"><span class="byline"><span class="author vcard"><a class="url fn n" href="{base}/author/x/">{author}</a></span></span>
<span class="posted-on"><time class="entry-date published" datetime="{date}">Some day</time></span>
<span class="cat-links">{cats}</span></footer>
</article></main></div>
<aside id="secondary" class="widget-area"><section class="widget"><h2>Recent Posts</h2><ul><li><a href="{base}/elsewhere/">Elsewhere</a></li></ul></section></aside>
</body></html>"#,
        title = esc(&p.title),
        id = p.id,
        date = p.date,
        body = p.body,
        author = esc(&p.author),
        cats = cat_links(base, p),
        nav = SIDEBAR_AND_NAV,
    )
}

/// A block-theme (twentytwentyfour-like) single post page, without shortlink or meta dates.
pub fn block_post(base: &str, p: &Post) -> String {
    let url = format!("{base}{}", p.path());
    let terms = p
        .categories
        .iter()
        .map(|c| {
            format!(
                r#"<a href="{base}/category/{}/" rel="tag">{}</a>"#,
                c.to_lowercase().replace(' ', "-"),
                esc(c)
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        r#"<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title} – Negotiation Notebook</title>
<link rel="canonical" href="{url}"></head>
<body class="wp-singular post-template-default single single-post postid-{id} wp-embed-responsive">
<div class="wp-site-blocks"><header class="wp-block-template-part">{nav}</header>
<main class="wp-block-group">
<h1 class="wp-block-post-title">{title}</h1>
<div class="wp-block-post-date"><time datetime="{date}">Some day</time></div>
<div class="wp-block-post-author"><div class="wp-block-post-author__content"><p class="wp-block-post-author__name">{author}</p></div></div>
<div class="taxonomy-category wp-block-post-terms">{terms}</div>
<div class="entry-content wp-block-post-content">{body}</div>
</main></div></body></html>"#,
        title = esc(&p.title),
        id = p.id,
        date = p.date,
        body = p.body,
        author = esc(&p.author),
        nav = SIDEBAR_AND_NAV,
    )
}

/// A page that carries its metadata only as JSON-LD.
pub fn jsonld_post(base: &str, p: &Post) -> String {
    let url = format!("{base}{}", p.path());
    let ld = serde_json::json!({
        "@context": "https://schema.org",
        "@graph": [
            {"@type": "WebSite", "@id": format!("{base}/#website"), "name": "Negotiation Notebook"},
            {"@type": "Person", "@id": format!("{base}/#person"), "name": p.author},
            {"@type": "BlogPosting", "headline": p.title, "datePublished": p.date,
             "dateModified": p.modified.clone().unwrap_or_else(|| p.date.clone()),
             "author": {"@id": format!("{base}/#person")}, "articleSection": p.categories,
             "mainEntityOfPage": url}
        ]
    });
    format!(
        r#"<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title>
<link rel="canonical" href="{url}">
<script type="application/ld+json">{ld}</script></head>
<body><div class="content"><article><div class="post-body">{body}</div></article></div></body></html>"#,
        title = esc(&p.title),
        body = p.body,
    )
}

/// Serve `posts` (newest first) on `site`: each post at its path, and listing pages of
/// `per_page` posts under /cat/ (then /cat/page/N/), each rendered by `page(base, posts, next)`
/// with a link to the next page when there is one.
pub fn publish_paged(
    site: &Site,
    posts: &[Post],
    per_page: usize,
    page: impl Fn(&str, &[Post], Option<&str>) -> String,
) {
    let base = site.base();
    serve_pages(
        site,
        &base,
        "cat",
        posts,
        per_page,
        |p| p,
        |chunk, next| page(&base, chunk, next),
    );
}

/// Serve each of `posts` (`post_of` gives its [`Post`]) at its path, written with the links of
/// `base`, and listing pages of `per_page` of them under `/{cat}/` (then `/{cat}/page/N/`),
/// each rendered by `page(posts, next)`.
fn serve_pages<T>(
    site: &Site,
    base: &str,
    cat: &str,
    posts: &[T],
    per_page: usize,
    post_of: impl Fn(&T) -> &Post,
    page: impl Fn(&[T], Option<&str>) -> String,
) {
    for p in posts {
        let p = post_of(p);
        site.set(&p.path(), Resp::Html(classic_post(base, p)));
    }
    let pages: Vec<&[T]> = posts.chunks(per_page).collect();
    for (i, chunk) in pages.iter().enumerate() {
        let path = if i == 0 {
            format!("/{cat}/")
        } else {
            format!("/{cat}/page/{}/", i + 1)
        };
        let next = (i + 1 < pages.len()).then(|| format!("{base}/{cat}/page/{}/", i + 2));
        site.set(&path, Resp::Html(page(chunk, next.as_deref())));
    }
}

/// A classic listing page (see [`listing`]) linking `posts` on `base`.
pub fn listing_of<'a>(
    base: &str,
    posts: impl IntoIterator<Item = &'a Post>,
    next: Option<&str>,
) -> String {
    let links: Vec<(String, String)> = posts
        .into_iter()
        .map(|p| (format!("{base}{}", p.path()), p.title.clone()))
        .collect();
    listing(base, &links, next)
}

/// A classic category listing page linking `posts` (absolute URLs with titles).
pub fn listing(base: &str, posts: &[(String, String)], next: Option<&str>) -> String {
    let items: String = posts
        .iter()
        .map(|(u, t)| {
            format!(
                r#"<article class="post type-post hentry"><header class="entry-header"><h2 class="entry-title"><a href="{u}" rel="bookmark">{t}</a></h2></header>
<div class="entry-summary"><p>Excerpt … <a href="{u}" class="more-link">Continue reading</a></p></div></article>"#,
                t = esc(t)
            )
        })
        .collect();
    let next_link = next
        .map(|n| format!(r#"<link rel="next" href="{n}" />"#))
        .unwrap_or_default();
    let next_a = next
        .map(|n| format!(r#"<a class="next page-numbers" href="{n}">Next page</a>"#))
        .unwrap_or_default();
    format!(
        r#"<!DOCTYPE html><html><head><meta charset="utf-8"><title>International Negotiation – Negotiation Notebook</title>{next_link}</head>
<body class="archive category"><header id="masthead">{nav}</header>
<div id="primary"><main id="main" class="site-main">
<header class="page-header"><h1 class="page-title">International Negotiation</h1>
<div class="taxonomy-description"><p>Our intro text links <a href="{base}/about/">about us</a>.</p></div></header>
{items}
<nav class="navigation pagination">{next_a}</nav>
</main></div>
<aside id="secondary"><section class="widget widget_recent_entries"><h2>Recent Posts</h2><ul><li><a href="{base}/sidebar/post/">Sidebar post</a></li></ul></section></aside>
</body></html>"#,
        nav = SIDEBAR_AND_NAV,
    )
}

/// A config with one `dir` source `events` reading the folder `posts` next to it (plus
/// `extra_source` lines in its table) and one feed `events`; the store is `feedwright.db` and the
/// feeds go to `out/`.
pub fn dir_config(extra_source: &str) -> String {
    format!(
        r#"output_dir = "out"
public_url = "http://feeds.test/"
[store]
path = "feedwright.db"
[[source]]
name = "events"
url = "posts"
kind = "dir"
{extra_source}
[[feed]]
name = "events"
sources = ["events"]
"#
    )
}

/// A config with one source `site` on `url` and one feed `main` of it (`limit = 1000`); the
/// store is `feedwright.db` and the output `out/`, next to the config. No courtesy delay, a 3 s
/// timeout, and no retries unless `extra_http` sets `max_retries`; `extra_source` lines go into
/// the `[[source]]` table. Tables may be appended to the returned text.
pub fn site_config(url: &str, extra_http: &str, extra_source: &str) -> String {
    one_source(
        "feedwright.db",
        3,
        url,
        extra_http,
        extra_source,
        "limit = 1000",
    )
}

/// One source `site` on `url` and one feed `main` of it, output in `out/`: what
/// [`site_config`] and [`html_config`] share.
fn one_source(
    store: &str,
    timeout_secs: u32,
    url: &str,
    extra_http: &str,
    extra_source: &str,
    extra_feed: &str,
) -> String {
    // No retries unless a test asks for them: retry policy has tests of its own.
    let retries = if extra_http.contains("max_retries") {
        ""
    } else {
        "max_retries = 0"
    };
    format!(
        r#"output_dir = "out"
public_url = "http://feeds.test/"
[store]
path = "{store}"
[http]
min_interval_ms = 0
timeout_secs = {timeout_secs}
{retries}
{extra_http}
[[source]]
name = "site"
url = "{url}"
{extra_source}
[[feed]]
name = "main"
sources = ["site"]
{extra_feed}
"#
    )
}

/// The entry ids of `out/main/atom.xml` below `dir`, in feed order.
pub fn atom_ids(dir: &Path) -> Vec<String> {
    let path = dir.join("out/main/atom.xml");
    let xml = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    feed_rs::parser::parse(xml.as_slice())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .entries
        .into_iter()
        .map(|e| e.id)
        .collect()
}

/// Write a config file into `dir` and return its path.
pub fn write_config(dir: &Path, body: &str) -> PathBuf {
    let path = dir.join("config.toml");
    std::fs::write(&path, body).unwrap();
    path
}

/// A config for one html source at `url`, fast and strict (2 s timeout), its store in a
/// `state/` folder, every known post re-checked on every run so edits are seen at once.
pub fn html_config(url: &str, extra_http: &str) -> String {
    one_source(
        "state/feedwright.db",
        2,
        url,
        extra_http,
        "recheck_days = 36500\nrecheck_hours = 0",
        "title = \"Main feed\"",
    )
}

/// The items of `out/<feed>/feed.json` below `dir`, as JSON values, in feed order.
pub fn json_items(dir: &Path, feed: &str) -> Vec<serde_json::Value> {
    let path = dir.join(format!("out/{feed}/feed.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let json: serde_json::Value = serde_json::from_str(&text).expect("feed.json is JSON");
    json["items"].as_array().expect("items").clone()
}

/// Serve at `path` an RSS feed of one item, "One" (guid `g1`, linking `/one/`, with `enclosure`
/// markup inside the item: an `<enclosure>` or nothing).
pub fn serve_one_item_feed(site: &Site, path: &str, enclosure: &str) {
    let base = site.base();
    site.set(
        path,
        Resp::Bytes {
            content_type: "application/rss+xml".into(),
            body: format!(
                "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>S</title>\
                 <link>{base}/</link><description>d</description><item><title>One</title>\
                 <link>{base}/one/</link><guid isPermaLink=\"false\">g1</guid>\
                 <pubDate>02 Mar 2024 10:00:00 +0000</pubDate>{enclosure}\
                 <description>Text of one.</description></item></channel></rss>"
            )
            .into_bytes(),
            headers: vec![],
        },
    );
}

/// Run the real binary with `args`, returning (exit code, stdout, stderr).
pub fn feedwright(config: &Path, args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_feedwright"))
        .arg("--config")
        .arg(config)
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("run feedwright");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Start the real binary with `args` in the background (stderr discarded), to be killed or
/// waited for by the caller.
pub fn spawn_feedwright(config: &Path, args: &[&str]) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_feedwright"))
        .arg("--config")
        .arg(config)
        .args(args)
        .env_remove("RUST_LOG")
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start feedwright")
}

/// Parse Prometheus text with the reference parser (Python `prometheus_client`): every sample as
/// `(name, labels, value)`; fails when the parser rejects the text or a family has no HELP.
pub fn parse_prometheus(text: &str) -> Vec<(String, serde_json::Value, f64)> {
    use std::io::Write;
    const SCRIPT: &str = r#"
import json, sys
try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:
    print("MISSING", file=sys.stderr)
    sys.exit(3)
for fam in text_string_to_metric_families(sys.stdin.read()):
    if not fam.documentation:
        sys.exit("family %s has no HELP" % fam.name)
    for s in fam.samples:
        print(json.dumps([s.name, s.labels, s.value]))
"#;
    let mut child = std::process::Command::new("python3")
        .args(["-c", SCRIPT])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3 is needed to check /metrics with the Prometheus parser");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("python3");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("MISSING"),
        "the Prometheus parser is missing: pip install prometheus-client"
    );
    assert!(
        out.status.success(),
        "parser rejected /metrics: {stderr}\n{text}"
    );
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .lines()
        .map(|l| {
            let (name, labels, value): (String, serde_json::Value, f64) =
                serde_json::from_str(l).expect("json line");
            (name, labels, value)
        })
        .collect()
}

/// Write the dry-run digest of the week of 4 March 2024 (ISO 2024-W10) with the config at
/// `config`, then check that none of the feed's outputs in `out` (its three documents and the
/// issue's web copy) contains any of `never`. Returns the issue's text part.
pub fn week_10_without(config: &Path, out: &Path, never: &[&str]) -> String {
    let (code, _, stderr) = feedwright(
        config,
        &["digest", "--now", "2024-03-12T12:00:00Z", "--dry-run"],
    );
    assert_eq!(code, 0, "{stderr}");
    for file in [
        "atom.xml",
        "rss.xml",
        "feed.json",
        "digest/2024-W10.html",
        "digest/2024-W10.txt",
    ] {
        let text =
            std::fs::read_to_string(out.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        for n in never {
            assert!(!text.contains(n), "{file} has {n:?}: {text}");
        }
    }
    std::fs::read_to_string(out.join("digest/2024-W10.txt")).expect("the issue's text")
}

/// A free TCP port on loopback (bound, read, released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// Size of [`sparse_file`]'s files: at [`SlowDownload`]'s pace, an answer of minutes.
pub const LARGE_FILE: u64 = 2 << 30;

/// Create `path` as a [`LARGE_FILE`]-byte file of zeros that takes no disk space (a hole).
pub fn sparse_file(path: &Path) {
    std::fs::File::create(path)
        .and_then(|f| f.set_len(LARGE_FILE))
        .expect("sparse file");
}

/// A client downloading a large file slowly, as one on a poor link would: its connection is
/// never idle and never stalled (it takes at most 64 KiB every 5 ms, through a small receive
/// buffer so that little of the answer waits in its socket), and it lasts as long as the
/// answer does unless the server ends it.
pub struct SlowDownload {
    reading: tokio::task::JoinHandle<u64>,
}

impl SlowDownload {
    /// Ask `addr` for `path` and wait for the start of a `200` answer: the server has taken the
    /// connection and is sending.
    pub async fn start(addr: SocketAddr, path: &str) -> SlowDownload {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket.set_recv_buffer_size(64 * 1024).expect("SO_RCVBUF");
        let mut s = socket.connect(addr).await.expect("connect");
        s.write_all(format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n").as_bytes())
            .await
            .expect("send");
        let mut buf = vec![0u8; 64 * 1024];
        let first = tokio::time::timeout(Duration::from_secs(10), s.read(&mut buf))
            .await
            .expect("an answer within 10 s")
            .expect("read");
        let head = String::from_utf8_lossy(&buf[..first.min(64)]).into_owned();
        assert!(head.starts_with("HTTP/1.1 200"), "{head:?}");
        let reading = tokio::spawn(async move {
            let mut got = first as u64;
            loop {
                tokio::time::sleep(Duration::from_millis(5)).await;
                match s.read(&mut buf).await {
                    Ok(0) | Err(_) => return got,
                    Ok(n) => got += n as u64,
                }
            }
        });
        SlowDownload { reading }
    }

    /// How long from now until the server ends the connection (end of stream or reset), and
    /// the bytes received by then (head included); `None` while it is still open after `limit`.
    pub async fn closed_within(mut self, limit: Duration) -> Option<(Duration, u64)> {
        let start = std::time::Instant::now();
        match tokio::time::timeout(limit, &mut self.reading).await {
            Ok(got) => Some((start.elapsed(), got.expect("reader"))),
            Err(_) => {
                self.reading.abort();
                None
            }
        }
    }
}

/// A running `tests/smtp_sink.py` (Python `aiosmtpd`), a real SMTP server on loopback that
/// saves each message it accepts in `dir` as `<n>.eml`, with its envelope recipients in
/// `<n>.rcpt`. `mode` is the script's: `accept`, `reject-sender`, `drop`, `tempfail-once`,
/// `refuse=ADDR[,ADDR...]`, `putoff=ADDR[,ADDR...]`, `limit=N`, or several joined with `+`.
pub struct Sink {
    child: std::process::Child,
    pub port: u16,
    pub dir: tempfile::TempDir,
}

impl Sink {
    pub fn start(mode: &str) -> Sink {
        use std::process::{Command, Stdio};
        let port = free_port();
        let dir = tempfile::tempdir().expect("tempdir");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/smtp_sink.py");
        let mut child = Command::new("python3")
            .arg(&script)
            .args(["serve", &port.to_string()])
            .arg(dir.path())
            .arg(mode)
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 is required to run the digest tests");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("stdout");
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line)
            .expect("read sink");
        assert_eq!(
            line.trim(),
            "ready",
            "the SMTP sink did not start: {line:?} (pip install aiosmtpd)"
        );
        Sink { child, port, dir }
    }

    /// The messages accepted so far, in order.
    pub fn messages(&self) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .expect("read sink dir")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "eml"))
            .collect();
        v.sort();
        v
    }

    /// The envelope recipients of the message saved at `eml`.
    pub fn recipients(&self, eml: &Path) -> Vec<String> {
        let text = std::fs::read_to_string(eml.with_extension("rcpt")).expect("read rcpt");
        serde_json::from_str(&text).expect("rcpt json")
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A 200 JSON answer (a WordPress REST API's).
pub fn json_resp(v: &serde_json::Value) -> Resp {
    json_with_pages(v, None)
}

/// A JSON answer, with `X-WP-TotalPages` when `total_pages` is given.
pub fn json_with_pages(v: &serde_json::Value, total_pages: Option<u32>) -> Resp {
    Resp::Bytes {
        content_type: "application/json; charset=UTF-8".into(),
        body: serde_json::to_vec(v).expect("json"),
        headers: total_pages
            .map(|t| vec![("X-WP-TotalPages".to_string(), t.to_string())])
            .unwrap_or_default(),
    }
}

/// A configuration of `sources` (`(name, url, extra lines of its table)`) and `feeds` (`(name,
/// sources)`, each with `feed_extra` lines); store `feedwright.db` and output `out/` next to
/// it; no courtesy delay, no retries; `extra_http` lines in `[http]`.
pub fn sources_config(
    extra_http: &str,
    sources: &[(&str, &str, &str)],
    feeds: &[(&str, &[&str])],
    feed_extra: &str,
) -> String {
    let mut text = format!(
        "output_dir = \"out\"\npublic_url = \"http://feeds.test/\"\n[store]\n\
         path = \"feedwright.db\"\n[http]\nmin_interval_ms = 0\ntimeout_secs = 3\n\
         max_retries = 0\n{extra_http}\n"
    );
    for (name, url, extra) in sources {
        text += &format!("[[source]]\nname = \"{name}\"\nurl = \"{url}\"\n{extra}\n");
    }
    for (name, names) in feeds {
        let names: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
        text += &format!(
            "[[feed]]\nname = \"{name}\"\nsources = [{}]\n{feed_extra}\n",
            names.join(", ")
        );
    }
    text
}

/// Serve `posts` (their pages) under the listing `/{cat}/` (then `/{cat}/page/N/`), `per_page`
/// a page, each page and post written with the links and canonical URLs of `base` (the site's
/// address as its pages name it).
pub fn publish_category(site: &Site, base: &str, cat: &str, posts: &[&Post], per_page: usize) {
    serve_pages(
        site,
        base,
        cat,
        posts,
        per_page,
        |p| p,
        |chunk, next| listing_of(base, chunk.iter().copied(), next),
    );
}

/// `n` posts newest first, ids from `first_id + 1`, all dated in the first half of 2024 (too
/// old to be re-checked).
pub fn numbered_posts(n: usize, first_id: u64) -> Vec<Post> {
    (0..n)
        .map(|i| {
            let id = first_id + (n - i) as u64;
            let day = 28 - (i % 28);
            let month = 6 - (i / 28).min(5);
            Post::new(
                id,
                &format!("post-{id}"),
                &format!("Post number {id}"),
                &format!("2024-{month:02}-{day:02}T09:00:00+00:00"),
            )
        })
        .collect()
}
