//! The daemon: schedules, catch-up of a missed digest, signals and reload, with the real binary.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{Datelike, Utc};
use common::{Post, Resp, Site, classic_post, listing, write_config};

struct Daemon(Child);
impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(cfg: &Path, log: &Path) -> Daemon {
    let log = std::fs::File::create(log).unwrap();
    Daemon(
        Command::new(env!("CARGO_BIN_EXE_feedwright"))
            .arg("--config")
            .arg(cfg)
            .arg("daemon")
            .env("RUST_LOG", "feedwright=info")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap(),
    )
}

fn signal(d: &Daemon, sig: &str) {
    let ok = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(d.0.id().to_string())
        .status()
        .unwrap();
    assert!(ok.success(), "kill -{sig}");
}

fn wait_for(what: &str, limit: Duration, mut f: impl FnMut() -> bool) {
    let t0 = Instant::now();
    while !f() {
        assert!(t0.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn entries(out: &Path) -> usize {
    std::fs::read(out.join("atom.xml"))
        .ok()
        .and_then(|b| feed_rs::parser::parse(b.as_slice()).ok())
        .map_or(0, |f| f.entries.len())
}

fn publish(site: &Site, posts: &[Post]) {
    let base = site.base();
    for p in posts {
        site.set(&p.path(), Resp::Html(classic_post(&base, p)));
    }
    let links: Vec<_> = posts
        .iter()
        .map(|p| (format!("{base}{}", p.path()), p.title.clone()))
        .collect();
    site.set("/cat/", Resp::Html(listing(&base, &links, None)));
}

fn config(site: &Site) -> String {
    common::site_config(&site.url("/cat/"), "", "schedule = \"* * * * * *\"")
        + "[daemon]\njitter_secs = 0\n"
}

#[test]
fn the_daemon_picks_up_new_posts_within_three_ticks_and_stops_cleanly() {
    let site = Site::start();
    let mut posts = vec![
        Post::new(2, "second", "Second post", "2024-05-02T09:00:00Z"),
        Post::new(1, "first", "First post", "2024-05-01T09:00:00Z"),
    ];
    publish(&site, &posts);
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &config(&site));
    let log = dir.path().join("daemon.log");
    let mut d = start(&cfg, &log);
    let out = dir.path().join("out/main");
    wait_for("the first refresh", Duration::from_secs(10), || {
        entries(&out) == 2
    });

    posts.insert(
        0,
        Post::new(3, "third", "Third post", "2024-05-03T09:00:00Z"),
    );
    publish(&site, &posts);
    let added = Instant::now();
    wait_for("the new post", Duration::from_secs(6), || {
        entries(&out) == 3
    });
    assert!(
        added.elapsed() <= Duration::from_secs(4),
        "picked up within three one-second ticks"
    );

    // One refresh per tick, never two at once: listing requests are a tick apart.
    let hits: Vec<_> = site
        .hits()
        .into_iter()
        .filter(|h| h.path == "/cat/")
        .collect();
    assert!(hits.len() >= 2, "{hits:?}");
    for pair in hits.windows(2) {
        assert!(
            pair[1].at.duration_since(pair[0].at) >= Duration::from_millis(500),
            "{hits:?}"
        );
    }

    signal(&d, "TERM");
    let t0 = Instant::now();
    let status = loop {
        if let Some(s) = d.0.try_wait().unwrap() {
            break s;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "still running 10 s after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(
        status.code(),
        Some(0),
        "{}",
        std::fs::read_to_string(&log).unwrap()
    );
    let leftovers: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp") || n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

#[test]
fn sighup_reloads_and_an_invalid_new_config_keeps_the_old_one() {
    let site = Site::start();
    let mut posts = vec![Post::new(1, "first", "First post", "2024-05-01T09:00:00Z")];
    publish(&site, &posts);
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &config(&site));
    let log = dir.path().join("daemon.log");
    let d = start(&cfg, &log);
    let out = dir.path().join("out/main");
    wait_for("the first refresh", Duration::from_secs(10), || {
        entries(&out) == 1
    });

    // An invalid configuration is rejected; the daemon goes on with the old one.
    std::fs::write(&cfg, "this is = = not toml").unwrap();
    signal(&d, "HUP");
    wait_for("the rejection", Duration::from_secs(5), || {
        std::fs::read_to_string(&log)
            .unwrap()
            .contains("reload rejected")
    });
    posts.insert(
        0,
        Post::new(2, "second", "Second post", "2024-05-02T09:00:00Z"),
    );
    publish(&site, &posts);
    wait_for(
        "a refresh with the old config",
        Duration::from_secs(6),
        || entries(&out) == 2,
    );

    // A valid one is taken: a new feed appears.
    std::fs::write(
        &cfg,
        config(&site).replace(
            "[daemon]",
            "[[feed]]\nname = \"copy\"\nsources = [\"site\"]\n[daemon]",
        ),
    )
    .unwrap();
    signal(&d, "HUP");
    wait_for("the reloaded config", Duration::from_secs(8), || {
        entries(&dir.path().join("out/copy")) == 2
    });
    signal(&d, "TERM");
}

#[test]
fn a_digest_missed_while_the_daemon_was_down_is_sent_at_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let posts = dir.path().join("posts");
    std::fs::create_dir_all(&posts).unwrap();
    // A post in the last complete ISO week (UTC): last week's Tuesday.
    let today = Utc::now().date_naive();
    let last_tuesday =
        today - chrono::Duration::days(i64::from(today.weekday().num_days_from_monday()) + 6);
    std::fs::write(
        posts.join("event.md"),
        format!(
            "+++\ntitle = \"Panel last week\"\ndate = {last_tuesday}T12:00:00Z\nurl = \"https://example.org/events/panel/\"\n+++\nA panel.\n"
        ),
    )
    .unwrap();
    let cfg = write_config(
        dir.path(),
        r#"output_dir = "out"
[store]
path = "feedwright.db"
[[source]]
name = "events"
url = "posts"
kind = "dir"
schedule = "0 0 1 1 *"
[[feed]]
name = "events"
sources = ["events"]
[digest]
feed = "events"
timezone = "UTC"
schedule = "* * * * *"
[daemon]
jitter_secs = 0
"#,
    );
    // Store the post first, as an earlier `run` would have.
    let status = Command::new(env!("CARGO_BIN_EXE_feedwright"))
        .arg("--config")
        .arg(&cfg)
        .arg("run")
        .output()
        .unwrap();
    assert_eq!(
        status.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let log = dir.path().join("daemon.log");
    let d = start(&cfg, &log);
    let week = last_tuesday.iso_week();
    let label = format!("{:04}-W{:02}", week.year(), week.week());
    let issue = dir.path().join(format!("out/events/digest/{label}.html"));
    wait_for("the caught-up digest", Duration::from_secs(10), || {
        issue.exists()
    });
    let html = std::fs::read_to_string(&issue).unwrap();
    assert!(html.contains("Panel last week"), "the issue lists the post");
    signal(&d, "TERM");
}

#[test]
fn a_cron_with_a_year_field_is_a_config_error_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let base = "[[source]]\nname = \"s\"\nurl = \"https://example.org/\"\n[[feed]]\nname = \"f\"\nsources = [\"s\"]\n";
    let cases = [
        // Its only firing is long past; with another year it would stop after that year.
        (
            base.replace("[[feed]]", "schedule = \"0 0 0 1 1 * 2020\"\n[[feed]]"),
            "source[0].schedule",
        ),
        (
            format!("{base}[digest]\nfeed = \"f\"\nschedule = \"0 0 8 * * MON 2099\"\n"),
            "digest.schedule",
        ),
    ];
    for (text, key) in cases {
        let cfg = write_config(dir.path(), &text);
        for cmd in ["check", "daemon"] {
            let out = Command::new(env!("CARGO_BIN_EXE_feedwright"))
                .arg("--config")
                .arg(&cfg)
                .arg(cmd)
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{cmd} {key}: {stderr}");
            assert!(
                stderr.contains(key) && stderr.contains("7 field(s)"),
                "{stderr}"
            );
        }
    }
}

#[test]
fn a_cron_that_never_fires_is_a_config_error_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        "[[source]]\nname = \"s\"\nurl = \"https://example.org/\"\nschedule = \"0 0 30 2 *\"\n[[feed]]\nname = \"f\"\nsources = [\"s\"]\n",
    );
    for cmd in ["check", "daemon"] {
        let out = Command::new(env!("CARGO_BIN_EXE_feedwright"))
            .arg("--config")
            .arg(&cfg)
            .arg(cmd)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{cmd}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("source[0].schedule") && stderr.contains("never fires"),
            "{stderr}"
        );
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn the_daemon_serves_its_feeds_health_and_metrics() {
    let site = Site::start();
    publish(
        &site,
        &[Post::new(1, "first", "First post", "2024-05-01T09:00:00Z")],
    );
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let cfg = write_config(
        dir.path(),
        &format!("{}[server]\nlisten = \"127.0.0.1:{port}\"\n", config(&site)),
    );
    let log = dir.path().join("daemon.log");
    let d = start(&cfg, &log);
    let out = dir.path().join("out/main");
    wait_for("the first refresh", Duration::from_secs(10), || {
        entries(&out) == 1
    });
    let rt = tokio::runtime::Runtime::new().unwrap();
    let client = reqwest::Client::new();
    let get = |path: &str| {
        let url = format!("http://127.0.0.1:{port}{path}");
        rt.block_on(async { client.get(&url).send().await.unwrap() })
    };
    let atom = get("/main/atom.xml");
    assert_eq!(atom.status(), 200);
    assert!(
        atom.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/atom+xml")
    );
    let health = get("/healthz");
    assert_eq!(health.status(), 200);
    let body = rt.block_on(health.text()).unwrap();
    assert!(
        body.contains("\"site\"") && body.contains("healthy"),
        "{body}"
    );
    let metrics = rt.block_on(get("/metrics").text()).unwrap();
    assert!(metrics.contains("source=\"site\""), "{metrics}");

    // A second server on the same port: a configuration error naming the key.
    let out2 = Command::new(env!("CARGO_BIN_EXE_feedwright"))
        .arg("--config")
        .arg(&cfg)
        .arg("serve")
        .output()
        .unwrap();
    assert_eq!(out2.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out2.stderr).contains("server.listen"));
    signal(&d, "TERM");
}
