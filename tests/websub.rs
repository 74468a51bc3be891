//! WebSub publishing, end to end: the real binary, a `dir` source, and a hub on loopback that
//! records every publish ping and reads the pinged feed file at that moment. Checks: hub and self
//! links in every format; exactly one ping per changed feed file, sent only once the file is on
//! disk; no ping for an unchanged run; a down, refusing or slow hub never stops publishing, and
//! pings it missed are sent after the next publish; the server's `Link` header.

mod common;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::StatusCode;
use common::{feedwright, write_config};

const PUBLIC: &str = "http://feeds.test/";

/// One publish ping as the hub saw it.
#[derive(Debug, Clone)]
struct Ping {
    mode: String,
    topic: String,
    content_type: String,
    /// The feed file's content when the ping arrived (`None`: no such file yet).
    file_then: Option<String>,
}

/// How the hub answers.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Mood {
    Accept,
    Unavailable,
    Refuse,
    Slow,
}

struct HubState {
    pings: Mutex<Vec<Ping>>,
    mood: Mutex<Mood>,
    out_dir: PathBuf,
}

struct TestHub {
    url: String,
    state: Arc<HubState>,
    _runtime: tokio::runtime::Runtime,
}

impl TestHub {
    fn start(out_dir: PathBuf) -> TestHub {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let state = Arc::new(HubState {
            pings: Mutex::default(),
            mood: Mutex::new(Mood::Accept),
            out_dir,
        });
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let st = state.clone();
        let app = axum::Router::new().route(
            "/hub",
            axum::routing::post(
                move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                    let st = st.clone();
                    async move { hub(&st, &headers, &body).await }
                },
            ),
        );
        runtime.spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        TestHub {
            url: format!("http://{addr}/hub"),
            state,
            _runtime: runtime,
        }
    }

    fn pings(&self) -> Vec<Ping> {
        self.state.pings.lock().unwrap().clone()
    }

    fn set(&self, mood: Mood) {
        *self.state.mood.lock().unwrap() = mood;
    }
}

async fn hub(st: &HubState, headers: &axum::http::HeaderMap, body: &[u8]) -> StatusCode {
    let fields: Vec<(String, String)> = url::form_urlencoded::parse(body).into_owned().collect();
    let field = |k: &str| {
        fields
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let topic = field("hub.url");
    let file_then = topic
        .strip_prefix(PUBLIC)
        .and_then(|rel| std::fs::read_to_string(st.out_dir.join(rel)).ok());
    st.pings.lock().unwrap().push(Ping {
        mode: field("hub.mode"),
        topic,
        content_type: headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string(),
        file_then,
    });
    let mood = *st.mood.lock().unwrap();
    match mood {
        Mood::Accept => StatusCode::NO_CONTENT,
        Mood::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        Mood::Refuse => StatusCode::BAD_REQUEST,
        Mood::Slow => {
            tokio::time::sleep(Duration::from_secs(3)).await;
            StatusCode::NO_CONTENT
        }
    }
}

struct Blog {
    dir: tempfile::TempDir,
    config: PathBuf,
}

impl Blog {
    /// A blog whose pings go to `hub_url`, each attempt timing out after `timeout_secs`.
    fn new(hub_url: &str, timeout_secs: u32) -> Blog {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("posts")).expect("posts");
        let config = write_config(
            dir.path(),
            &format!(
                r#"output_dir = "out"
public_url = "{PUBLIC}"
[store]
path = "state/feedwright.db"
[[source]]
name = "notes"
url = "posts"
kind = "dir"
[[feed]]
name = "main"
title = "Main feed"
sources = ["notes"]
[websub]
hub = "{hub_url}"
attempts = 2
timeout_secs = {timeout_secs}
"#
            ),
        );
        Blog { dir, config }
    }

    fn out(&self) -> PathBuf {
        self.dir.path().join("out")
    }

    fn post(&self, n: u32) {
        let text = format!(
            "+++\ntitle = \"Post number {n}\"\ndate = 2024-11-{n:02}T12:00:00Z\n\
             url = \"https://notes.example.org/post-{n}/\"\n+++\nBody {n}.\n"
        );
        std::fs::write(self.dir.path().join(format!("posts/post-{n}.md")), text).expect("post");
    }

    fn run(&self) -> String {
        let (code, _out, err) = feedwright(&self.config, &["run"]);
        assert_eq!(code, 0, "a hub problem never fails the run: {err}");
        err
    }
}

const TOPICS: [&str; 3] = [
    "http://feeds.test/main/atom.xml",
    "http://feeds.test/main/rss.xml",
    "http://feeds.test/main/feed.json",
];

fn topics(pings: &[Ping]) -> Vec<&str> {
    let mut t: Vec<&str> = pings.iter().map(|p| p.topic.as_str()).collect();
    t.sort_unstable();
    t
}

fn sorted_topics() -> Vec<&'static str> {
    let mut t = TOPICS.to_vec();
    t.sort_unstable();
    t
}

#[test]
fn one_ping_per_changed_feed_after_the_file_is_written() {
    let (blog, hub) = blog_with_hub(10);

    blog.post(1);
    let err = blog.run();
    assert!(
        err.contains("websub: hub notified of 3 changed feed file(s)"),
        "{err}"
    );
    let first = hub.pings();
    assert_eq!(topics(&first), sorted_topics(), "one ping per feed file");
    for p in &first {
        assert_eq!(p.mode, "publish");
        assert_eq!(p.content_type, "application/x-www-form-urlencoded");
        let file = p
            .file_then
            .as_deref()
            .expect("the file exists when the hub is pinged");
        assert!(file.contains("Post number 1"), "{}: {file}", p.topic);
    }

    // Every format names the hub and itself.
    let atom = std::fs::read_to_string(blog.out().join("main/atom.xml")).expect("atom");
    assert!(
        atom.contains(&format!(r#"<link href="{}" rel="hub"/>"#, hub.url)),
        "{atom}"
    );
    assert!(atom.contains(r#"<link href="http://feeds.test/main/atom.xml" rel="self""#));
    let rss = std::fs::read_to_string(blog.out().join("main/rss.xml")).expect("rss");
    assert!(
        rss.contains(&format!(r#"<atom:link href="{}" rel="hub"/>"#, hub.url)),
        "{rss}"
    );
    assert!(rss.contains(r#"<atom:link href="http://feeds.test/main/rss.xml" rel="self""#));
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(blog.out().join("main/feed.json")).expect("json"),
    )
    .expect("json parses");
    assert_eq!(
        json["hubs"],
        serde_json::json!([{ "type": "WebSub", "url": hub.url }])
    );
    assert_eq!(json["feed_url"], "http://feeds.test/main/feed.json");

    // Nothing changed: no ping.
    let err = blog.run();
    assert_eq!(hub.pings().len(), 3, "an unchanged run pings nobody: {err}");

    // A new post: exactly one more ping per feed file, each after the new file is in place.
    blog.post(2);
    blog.run();
    let all = hub.pings();
    let second = &all[3..];
    assert_eq!(topics(second), sorted_topics());
    for p in second {
        let file = p.file_then.as_deref().expect("file");
        assert!(
            file.contains("Post number 2"),
            "{}: pinged before the write",
            p.topic
        );
    }
}

/// A blog pinging a fresh loopback hub. The hub reads files in the blog's output folder, known
/// only once the blog exists: the blog starts with a placeholder hub URL, then points at the hub.
fn blog_with_hub(timeout_secs: u32) -> (Blog, TestHub) {
    let blog = Blog::new("http://127.0.0.1:9/hub", timeout_secs);
    let hub = TestHub::start(blog.out());
    let cfg = std::fs::read_to_string(&blog.config).expect("config");
    std::fs::write(
        &blog.config,
        cfg.replace("http://127.0.0.1:9/hub", &hub.url),
    )
    .expect("cfg");
    (blog, hub)
}

#[test]
fn a_down_hub_never_stops_publishing_and_missed_pings_follow() {
    let (blog, hub) = blog_with_hub(10);

    // 503 on every attempt: the feeds are still written; the first ping is tried `attempts`
    // times, then the others wait for the next run instead of each costing its retries.
    hub.set(Mood::Unavailable);
    blog.post(1);
    let err = blog.run();
    let atom = std::fs::read_to_string(blog.out().join("main/atom.xml")).expect("published");
    assert!(atom.contains("Post number 1"));
    assert_eq!(hub.pings().len(), 2, "2 attempts, then stop: {err}");
    assert!(
        err.contains(&format!("hub {} did not accept the ping", hub.url))
            && err.contains("503")
            && err.contains("kept and sent after the next publish")
            && err.contains("2 more ping(s) not tried"),
        "{err}"
    );
    assert_eq!(owed_gauge(&blog), 3.0, "/metrics shows the pings owed");

    // The hub is back: the owed pings go out even though nothing changed, once each.
    hub.set(Mood::Accept);
    let err = blog.run();
    assert_eq!(owed_gauge(&blog), 0.0);
    let pings = hub.pings();
    assert_eq!(topics(&pings[2..]), sorted_topics(), "{err}");
    for p in &pings[2..] {
        let file = p.file_then.as_deref().expect("file");
        assert!(file.contains("Post number 1"), "{}", p.topic);
    }
    blog.run();
    assert_eq!(hub.pings().len(), 5, "owed pings are sent once");

    // A refusal (4xx) is reported and not retried, neither now nor next time.
    hub.set(Mood::Refuse);
    blog.post(2);
    let err = blog.run();
    assert!(err.contains("refused the ping"), "{err}");
    assert_eq!(hub.pings().len(), 8, "one attempt per file when refused");
    hub.set(Mood::Accept);
    blog.run();
    assert_eq!(hub.pings().len(), 8, "a refused ping is not owed");
    assert_eq!(owed_gauge(&blog), 0.0);
}

#[test]
fn a_slow_hub_times_out_and_publishing_goes_on() {
    let (blog, hub) = blog_with_hub(1);
    hub.set(Mood::Slow);
    blog.post(1);
    let err = blog.run();
    let atom = std::fs::read_to_string(blog.out().join("main/atom.xml")).expect("published");
    assert!(atom.contains("Post number 1"), "{err}");
    assert!(
        err.contains("did not accept the ping")
            && err.contains("kept and sent after the next publish"),
        "{err}"
    );
    assert_eq!(owed_gauge(&blog), 3.0);
}

/// `feedwright_websub_pings_owed` from `/metrics`, read with the Prometheus reference parser.
fn owed_gauge(blog: &Blog) -> f64 {
    let cfg = feedwright::config::Config::load(&blog.config).expect("config");
    let samples = common::parse_prometheus(&feedwright::server::read_metrics(&cfg));
    samples
        .iter()
        .find(|(name, _, _)| name == "feedwright_websub_pings_owed")
        .map(|(_, _, v)| *v)
        .expect("the gauge is there with [websub]")
}

#[test]
fn an_unreachable_hub_is_named_in_one_line() {
    // A loopback port that was just free: nothing listens there.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let closed = format!("http://{}/hub", listener.local_addr().expect("addr"));
    drop(listener);
    let blog = Blog::new(&closed, 10);
    blog.post(1);
    let err = blog.run();
    assert!(blog.out().join("main/atom.xml").exists());
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("websub: ")).collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert!(
        lines[0].contains(&closed) && lines[0].contains("kept and sent after the next publish"),
        "{err}"
    );
    assert!(lines[1].contains("2 more ping(s) not tried"), "{err}");
}

#[test]
fn a_bad_hub_url_is_a_config_error_naming_the_key() {
    let blog = Blog::new("ftp://hub.example.org/", 10);
    let (code, _out, err) = feedwright(&blog.config, &["check"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("websub.hub"), "{err}");
}

#[test]
fn served_feeds_carry_hub_and_self_link_headers() {
    let (blog, hub) = blog_with_hub(10);
    let cfg_text = std::fs::read_to_string(&blog.config).expect("config");
    std::fs::write(
        &blog.config,
        format!("{cfg_text}[server]\nlisten = \"127.0.0.1:0\"\n"),
    )
    .expect("config");
    blog.post(1);
    let (code, _, err) = feedwright(&blog.config, &["run"]);
    assert_eq!(code, 0, "{err}");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let cfg = feedwright::config::Config::load(&blog.config).expect("config");
        let listener = feedwright::server::bind(&cfg).await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let c = cfg.clone();
        let task = tokio::spawn(async move {
            feedwright::server::serve(
                &c,
                listener,
                async {
                    let _ = rx.await;
                },
                Duration::from_secs(1),
            )
            .await
        });
        let client = reqwest::Client::new();
        for file in ["atom.xml", "rss.xml", "feed.json"] {
            let res = client
                .get(format!("http://{addr}/main/{file}"))
                .send()
                .await
                .expect("get");
            assert_eq!(res.status(), 200);
            let link = res
                .headers()
                .get("link")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            assert_eq!(
                link,
                format!(
                    "<{}>; rel=\"hub\", <http://feeds.test/main/{file}>; rel=\"self\"",
                    hub.url
                )
            );
        }
        let res = client
            .get(format!("http://{addr}/feed.xsl"))
            .send()
            .await
            .expect("get xsl");
        assert_eq!(res.status(), 200);
        assert!(
            res.headers().get("link").is_none(),
            "only feeds name the hub"
        );
        assert_eq!(
            res.headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("application/xslt+xml; charset=utf-8")
        );
        let _ = tx.send(());
        task.await.expect("join").expect("server ends cleanly");
    });
}
