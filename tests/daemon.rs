//! The daemon: schedules, catch-up of a missed digest, signals and reload, with the real binary.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{Datelike, Utc};
use common::{Post, Resp, Sink, Site, classic_post, free_port, listing, write_config};

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

/// A daemon with `[server]` on a free loopback port, over a site with one post, once its first
/// refresh published the feed `main`.
struct Serving {
    site: Site,
    dir: tempfile::TempDir,
    cfg: std::path::PathBuf,
    log: std::path::PathBuf,
    port: u16,
    d: Daemon,
}

impl Serving {
    fn start() -> Serving {
        let site = Site::start();
        publish(
            &site,
            &[Post::new(1, "first", "First post", "2024-05-01T09:00:00Z")],
        );
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let cfg = write_config(dir.path(), &Serving::config(&site, port, ""));
        let log = dir.path().join("daemon.log");
        let d = start(&cfg, &log);
        wait_for("the first refresh", Duration::from_secs(10), || {
            entries(&dir.path().join("out/main")) == 1
        });
        Serving {
            site,
            dir,
            cfg,
            log,
            port,
            d,
        }
    }

    fn config(site: &Site, port: u16, feeds: &str) -> String {
        let with_feeds = config(site).replace("[daemon]", &format!("{feeds}[daemon]"));
        format!("{with_feeds}[server]\nlisten = \"127.0.0.1:{port}\"\n")
    }

    /// Add a feed `copy` of the source to the configuration, and reload.
    fn reload_with_a_copy_feed(&self) {
        let copy = "[[feed]]\nname = \"copy\"\nsources = [\"site\"]\n";
        std::fs::write(&self.cfg, Serving::config(&self.site, self.port, copy)).unwrap();
        signal(&self.d, "HUP");
    }

    /// The server's index page.
    fn index(&self, rt: &tokio::runtime::Runtime) -> String {
        let url = format!("http://127.0.0.1:{}/", self.port);
        rt.block_on(async { reqwest::get(&url).await.unwrap().text().await.unwrap() })
    }
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
    // On one readable line: the TOML error's position and reason, not its quoted source.
    let text = std::fs::read_to_string(&log).unwrap();
    let line = text
        .lines()
        .find(|l| l.contains("reload rejected"))
        .unwrap();
    assert!(
        !line.contains("\\u{a}") && line.contains("line 1") && !line.contains("^"),
        "{line}"
    );
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
    // Each signal is acknowledged when it arrives, before any wait for a running job.
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(
        text.matches("SIGHUP: reloading the configuration from")
            .count(),
        2,
        "{text}"
    );
    signal(&d, "TERM");
}

/// A `dir` source `events` in `dir` with one post in the last complete ISO week (UTC), on a
/// schedule that never comes (only the digest runs), a `[digest]` every minute with
/// `digest_extra` lines, and the post already stored by a `run`. Returns the config and the
/// post's day.
fn events_with_digest(dir: &Path, digest_extra: &str) -> (std::path::PathBuf, chrono::NaiveDate) {
    let posts = dir.join("posts");
    std::fs::create_dir_all(&posts).unwrap();
    // Last week's Tuesday.
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
        dir,
        &format!(
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
{digest_extra}
[daemon]
jitter_secs = 0
"#
        ),
    );
    // Store the post first, as an earlier `run` would have.
    let ran = Command::new(env!("CARGO_BIN_EXE_feedwright"))
        .arg("--config")
        .arg(&cfg)
        .arg("run")
        .output()
        .unwrap();
    assert_eq!(
        ran.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ran.stderr)
    );
    (cfg, last_tuesday)
}

#[test]
fn a_digest_missed_while_the_daemon_was_down_is_sent_at_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let (cfg, last_tuesday) = events_with_digest(dir.path(), "");
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
    // The check behind the catch-up is no news at the default level; nor is the issue being on
    // record already when a reload checks again.
    let read = || std::fs::read_to_string(&log).unwrap();
    let done_lines = |text: &str| text.matches("nothing to do").count();
    let minute = Utc::now().format("%H:%M").to_string();
    let before = done_lines(&read());
    signal(&d, "HUP");
    wait_for("the reload", Duration::from_secs(10), || {
        read().contains("configuration reloaded")
    });
    std::thread::sleep(Duration::from_millis(1500));
    let after = read();
    assert!(!after.contains("may have been missed"), "{after}");
    // (Unless the minute's scheduled digest fired meanwhile, which says it at info level.)
    if Utc::now().format("%H:%M").to_string() == minute {
        assert_eq!(done_lines(&after), before, "{after}");
    }
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
    assert!(
        String::from_utf8_lossy(&out2.stderr).contains("config.toml: server.listen"),
        "the error names the file and the key"
    );
    signal(&d, "TERM");
}

/// How many requests the site saw for `path`.
fn hits_of(site: &Site, path: &str) -> usize {
    site.requests().iter().filter(|p| *p == path).count()
}

/// A site whose listing holds one quick post and `slow` posts that each take the whole request
/// timeout (3 s) and fail: a refresh that lasts about 3 s per slow post (one request at a time).
fn slow_site(slow: u64) -> (Site, Vec<String>) {
    let site = Site::start();
    let base = site.base();
    let quick = Post::new(1, "quick", "Quick post", "2024-05-01T09:00:00Z");
    site.set(&quick.path(), Resp::Html(classic_post(&base, &quick)));
    let mut links = vec![(format!("{base}{}", quick.path()), quick.title.clone())];
    let mut slow_paths = Vec::new();
    for i in 0..slow {
        let path = format!("/2024/05/02/slow-{i}/");
        site.set(&path, Resp::Slow(Duration::from_secs(10)));
        links.push((format!("{base}{path}"), format!("Slow {i}")));
        slow_paths.push(path);
    }
    site.set("/cat/", Resp::Html(listing(&base, &links, None)));
    (site, slow_paths)
}

/// A reload that is rejected leaves the job in progress alone: it finishes and reports, and
/// the schedules go on as they were.
#[test]
fn a_rejected_reload_does_not_stop_the_job_in_progress() {
    let (site, slow) = slow_site(1);
    let dir = tempfile::tempdir().unwrap();
    let good = common::site_config(&site.url("/cat/"), "", "schedule = \"*/5 * * * * *\"")
        + "[daemon]\njitter_secs = 0\n";
    let cfg = write_config(dir.path(), &good);
    let log = dir.path().join("daemon.log");
    let d = start(&cfg, &log);
    wait_for("the slow post's request", Duration::from_secs(10), || {
        hits_of(&site, &slow[0]) == 1
    });
    std::fs::write(&cfg, "this is = = not toml").unwrap();
    signal(&d, "HUP");
    let read = || std::fs::read_to_string(&log).unwrap();
    wait_for("the rejection", Duration::from_secs(5), || {
        read().contains("reload rejected")
    });
    std::fs::write(&cfg, &good).unwrap();
    wait_for("the job's summary", Duration::from_secs(10), || {
        read().contains("1 new, 0 updated")
    });
    assert_eq!(
        hits_of(&site, &slow[0]),
        1,
        "the job that reported is the one the reload found running: {}",
        read()
    );
    // The summary is logged before the feeds are published.
    wait_for("the feed", Duration::from_secs(5), || {
        entries(&dir.path().join("out/main")) == 1
    });
    signal(&d, "TERM");
}

/// SIGTERM while a reload waits for a long job: the daemon stops within its 10 s, as it does
/// without a reload.
#[test]
fn a_stop_during_a_reload_is_as_prompt_as_any_stop() {
    // Five slow posts, one at a time: a job of about 15 s.
    let (site, slow) = slow_site(5);
    let dir = tempfile::tempdir().unwrap();
    let good = common::site_config(
        &site.url("/cat/"),
        "per_host_concurrency = 1",
        "schedule = \"* * * * * *\"",
    ) + "[daemon]\njitter_secs = 0\n";
    let cfg = write_config(dir.path(), &good);
    let log = dir.path().join("daemon.log");
    let mut d = start(&cfg, &log);
    wait_for(
        "the first slow post's request",
        Duration::from_secs(10),
        || hits_of(&site, &slow[0]) == 1,
    );
    signal(&d, "HUP");
    std::thread::sleep(Duration::from_millis(300));
    signal(&d, "TERM");
    let t0 = Instant::now();
    wait_for("the daemon to exit", Duration::from_secs(11), || {
        d.0.try_wait().unwrap().is_some()
    });
    let status = d.0.wait().unwrap();
    assert_eq!(
        status.code(),
        Some(0),
        "{}",
        std::fs::read_to_string(&log).unwrap()
    );
    assert!(t0.elapsed() < Duration::from_secs(10), "{:?}", t0.elapsed());
}

/// Two sources on one schedule fire together and run one after the other: a stop while the
/// first runs lets it finish, and does not start the second, which was waiting for the store.
#[test]
fn a_stop_does_not_start_the_refreshes_waiting_for_the_store() {
    let (site, slow) = slow_site(1);
    let base = site.base();
    let other_slow = "/2024/05/03/slow-b/";
    site.set(other_slow, Resp::Slow(Duration::from_secs(10)));
    site.set(
        "/cat2/",
        Resp::Html(listing(
            &base,
            &[(format!("{base}{other_slow}"), "Slow B".to_owned())],
            None,
        )),
    );
    let dir = tempfile::tempdir().unwrap();
    let text = common::site_config(&site.url("/cat/"), "", "schedule = \"*/5 * * * * *\"")
        + &format!(
            "[[source]]\nname = \"second\"\nurl = \"{}\"\nschedule = \"*/5 * * * * *\"\n\
             [daemon]\njitter_secs = 0\n",
            site.url("/cat2/")
        );
    let cfg = write_config(dir.path(), &text);
    let log = dir.path().join("daemon.log");
    let mut d = start(&cfg, &log);
    wait_for("a slow post's request", Duration::from_secs(15), || {
        hits_of(&site, &slow[0]) + hits_of(&site, other_slow) == 1
    });
    signal(&d, "TERM");
    let t0 = Instant::now();
    wait_for("the daemon to exit", Duration::from_secs(11), || {
        d.0.try_wait().unwrap().is_some()
    });
    let read = std::fs::read_to_string(&log).unwrap();
    assert_eq!(d.0.wait().unwrap().code(), Some(0), "{read}");
    assert_eq!(
        hits_of(&site, "/cat/") + hits_of(&site, "/cat2/"),
        1,
        "only the refresh in progress ran: {read}"
    );
    assert!(
        t0.elapsed() < Duration::from_secs(6),
        "{:?}: {read}",
        t0.elapsed()
    );
}

/// A stop during a refresh interrupts its fetching: no request is sent after it, the one in
/// flight ends (here by its own timeout, within the grace), and what was fetched is stored and
/// published; the stop neither waits for the rest of the refresh nor drops what it had.
#[test]
fn a_stop_interrupts_the_refresh_in_progress_keeping_what_it_fetched() {
    // Five slow posts, one at a time after the quick one: a refresh of about 15 s.
    let (site, slow) = slow_site(5);
    let dir = tempfile::tempdir().unwrap();
    let text = common::site_config(
        &site.url("/cat/"),
        "per_host_concurrency = 1",
        "schedule = \"*/5 * * * * *\"",
    ) + "[daemon]\njitter_secs = 0\n";
    let cfg = write_config(dir.path(), &text);
    let log = dir.path().join("daemon.log");
    let mut d = start(&cfg, &log);
    wait_for("a slow post's request", Duration::from_secs(15), || {
        slow.iter().any(|p| hits_of(&site, p) == 1)
    });
    let asked_before: usize = slow.iter().map(|p| hits_of(&site, p)).sum();
    signal(&d, "TERM");
    let t0 = Instant::now();
    wait_for("the daemon to exit", Duration::from_secs(11), || {
        d.0.try_wait().unwrap().is_some()
    });
    let read = std::fs::read_to_string(&log).unwrap();
    assert_eq!(d.0.wait().unwrap().code(), Some(0), "{read}");
    assert!(
        t0.elapsed() < Duration::from_secs(6),
        "{:?}: {read}",
        t0.elapsed()
    );
    assert!(!read.contains("did not finish in time"), "{read}");
    let asked_after: usize = slow.iter().map(|p| hits_of(&site, p)).sum();
    assert_eq!(
        asked_after, asked_before,
        "nothing sent after the stop: {read}"
    );
    assert_eq!(
        entries(&dir.path().join("out/main")),
        1,
        "the quick post is stored and published: {read}"
    );
}

/// A `listen` address that is taken stops the daemon (exit 2, naming the key) before it creates
/// anything: no store, no output folder.
#[test]
fn a_taken_address_stops_the_daemon_before_it_creates_anything() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let text = common::site_config("http://127.0.0.1:9/cat/", "", "")
        + &format!("[server]\nlisten = \"{addr}\"\n");
    let cfg = write_config(dir.path(), &text);
    let out = Command::new(env!("CARGO_BIN_EXE_feedwright"))
        .arg("--config")
        .arg(&cfg)
        .arg("daemon")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("server.listen"), "{err}");
    assert!(!dir.path().join("feedwright.db").exists(), "{err}");
    assert!(!dir.path().join("out").exists(), "{err}");
}

/// A reload reaches the built-in server too: a feed added to the configuration is listed on
/// its index page, on the same address.
#[test]
fn a_reload_reaches_the_server() {
    let s = Serving::start();
    let rt = tokio::runtime::Runtime::new().unwrap();
    assert!(!s.index(&rt).contains("copy/atom.xml"));
    s.reload_with_a_copy_feed();
    wait_for("the new feed on the index", Duration::from_secs(10), || {
        entries(&s.dir.path().join("out/copy")) == 1 && s.index(&rt).contains("copy/atom.xml")
    });
    signal(&s.d, "TERM");
}

/// A digest stuck on an SMTP server that never answers does not hold the daemon past its 10 s
/// when it is told to stop.
#[test]
fn a_digest_stuck_on_smtp_does_not_delay_a_stop() {
    let dir = tempfile::tempdir().unwrap();
    // Accepts connections and never says a word.
    let mute = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = mute.local_addr().unwrap().port();
    let smtp = format!("to = [\"list@example.org\"]\nsmtp_url = \"smtp://127.0.0.1:{port}\"");
    let (cfg, _) = events_with_digest(dir.path(), &smtp);
    let log = dir.path().join("daemon.log");
    let mut d = start(&cfg, &log);
    // The catch-up digest connects and waits for the greeting.
    let (_conn, _) = mute.accept().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    signal(&d, "TERM");
    let t0 = Instant::now();
    wait_for("the daemon to exit", Duration::from_secs(11), || {
        d.0.try_wait().unwrap().is_some()
    });
    assert!(t0.elapsed() < Duration::from_secs(10), "{:?}", t0.elapsed());
    assert_eq!(d.0.wait().unwrap().code(), Some(0));
}

/// [`events_with_digest`] sending through `sink`, on a weekly schedule whose last firing
/// (Monday 00:00 UTC) covers last week (so the start-up catch-up sends it and no other firing
/// comes during the test), retried after `retry`.
fn events_mailed_weekly(dir: &Path, sink: &Sink, retry: &str) -> std::path::PathBuf {
    let smtp = format!(
        "to = [\"list@example.org\"]\nsmtp_url = \"smtp://127.0.0.1:{}\"",
        sink.port
    );
    let (cfg, _) = events_with_digest(dir, &smtp);
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("schedule = \"* * * * *\"", "schedule = \"0 0 * * MON\"");
    let text = text.replace(
        "jitter_secs = 0",
        &format!("jitter_secs = 0\ndigest_retry_secs = {retry}"),
    );
    std::fs::write(&cfg, text).unwrap();
    cfg
}

/// A temporary SMTP failure (451) is retried for the same week until the server takes it.
#[test]
fn a_digest_the_server_put_off_is_retried_until_sent() {
    let dir = tempfile::tempdir().unwrap();
    let sink = Sink::start("tempfail-once");
    let cfg = events_mailed_weekly(dir.path(), &sink, "[1]");
    let log = dir.path().join("daemon.log");
    let d = start(&cfg, &log);
    let read = || std::fs::read_to_string(&log).unwrap();
    wait_for("the digest to be sent", Duration::from_secs(20), || {
        read().contains("sent 1 post to 1 recipient")
    });
    let text = read();
    assert!(
        text.contains("451") && text.contains("attempt 1 failed; trying again in 1 s"),
        "{text}"
    );
    assert_eq!(sink.messages().len(), 1, "{text}");
    signal(&d, "TERM");
}

/// Pointing `[digest] feed` at another feed over the same source and restarting: the start-up
/// catch-up does not send the week already sent for the first feed again (there is one
/// digest), and the log says whose the issues are now.
#[test]
fn a_digest_pointed_at_another_feed_does_not_send_a_week_again_at_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let sink = Sink::start("accept");
    let cfg = events_mailed_weekly(dir.path(), &sink, "[1]");
    let log = dir.path().join("daemon.log");
    let mut d = start(&cfg, &log);
    let read = || std::fs::read_to_string(&log).unwrap();
    wait_for("the digest to be sent", Duration::from_secs(20), || {
        read().contains("sent 1 post to 1 recipient")
    });
    signal(&d, "TERM");
    assert_eq!(d.0.wait().unwrap().code(), Some(0));
    let text = std::fs::read_to_string(&cfg).unwrap().replace(
        "[digest]\nfeed = \"events\"",
        "[[feed]]\nname = \"events-all\"\ntitle = \"Everything\"\nsources = [\"events\"]\n[digest]\nfeed = \"events-all\"",
    );
    std::fs::write(&cfg, text).unwrap();
    let log = dir.path().join("daemon2.log");
    let d = start(&cfg, &log);
    let read = || std::fs::read_to_string(&log).unwrap();
    wait_for("the catch-up", Duration::from_secs(20), || {
        read().contains("are now feed \"events-all\"'s")
    });
    std::thread::sleep(Duration::from_millis(500));
    signal(&d, "TERM");
    let text = read();
    assert!(!text.contains("recipient (<"), "{text}");
    assert_eq!(sink.messages().len(), 1, "{text}");
    assert!(dir.path().join("out/events-all/digest/index.html").exists());
}

/// The issue caught up at start-up is built after the digest's sources were refreshed: a post
/// of the week published while the daemon was down (since before the week ended) is in it,
/// though the sources' own schedules have not fired yet.
#[test]
fn a_missed_digest_is_built_from_sources_refreshed_at_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let sink = Sink::start("accept");
    let cfg = events_mailed_weekly(dir.path(), &sink, "[1]");
    refreshed_long_ago(dir.path());
    // Published after the last run stored the first post: last week's Wednesday.
    let today = Utc::now().date_naive();
    let last_wednesday =
        today - chrono::Duration::days(i64::from(today.weekday().num_days_from_monday()) + 5);
    std::fs::write(
        dir.path().join("posts/late.md"),
        format!(
            "+++\ntitle = \"A talk published while the daemon was down\"\ndate = {last_wednesday}T12:00:00Z\nurl = \"https://example.org/events/talk/\"\n+++\nA talk.\n"
        ),
    )
    .unwrap();
    let log = dir.path().join("daemon.log");
    let d = start(&cfg, &log);
    let read = || std::fs::read_to_string(&log).unwrap();
    wait_for("the digest to be sent", Duration::from_secs(20), || {
        read().contains("recipient (<")
    });
    let text = read();
    assert!(text.contains("sent 2 posts to 1 recipient"), "{text}");
    let messages = sink.messages();
    assert_eq!(messages.len(), 1, "{text}");
    let mail = std::fs::read_to_string(&messages[0]).unwrap();
    assert!(mail.contains("https://example.org/events/talk/"), "{mail}");
    signal(&d, "TERM");
}

/// A reload while the digest waits to be retried does not lose the week: the catch-up after
/// the reload sends it.
#[test]
fn a_reload_does_not_drop_a_digest_that_is_due() {
    let dir = tempfile::tempdir().unwrap();
    let sink = Sink::start("tempfail-once");
    let cfg = events_mailed_weekly(dir.path(), &sink, "[3600]");
    let log = dir.path().join("daemon.log");
    let d = start(&cfg, &log);
    let read = || std::fs::read_to_string(&log).unwrap();
    wait_for("the failed attempt", Duration::from_secs(20), || {
        read().contains("trying again in 3600 s")
    });
    assert_eq!(sink.messages().len(), 0);
    signal(&d, "HUP");
    wait_for("the digest to be sent", Duration::from_secs(20), || {
        read().contains("sent 1 post to 1 recipient")
    });
    assert_eq!(sink.messages().len(), 1, "{}", read());
    signal(&d, "TERM");
}

/// The daemon's JSON log names a failing source's URL without the credentials it carries.
#[test]
fn the_json_log_shows_source_urls_without_credentials() {
    let closed = free_port();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("http://editor:s3cretpw@127.0.0.1:{closed}/cat/");
    let cfg = write_config(
        dir.path(),
        &(common::site_config(&url, "", "schedule = \"* * * * * *\"")
            + "[daemon]\njitter_secs = 0\n"),
    );
    let log = dir.path().join("daemon.log");
    let file = std::fs::File::create(&log).unwrap();
    let d = Daemon(
        Command::new(env!("CARGO_BIN_EXE_feedwright"))
            .arg("--config")
            .arg(&cfg)
            .args(["--log-format", "json", "daemon"])
            .env("RUST_LOG", "feedwright=info")
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .unwrap(),
    );
    let read = || std::fs::read_to_string(&log).unwrap();
    wait_for("the failed refresh", Duration::from_secs(10), || {
        read().contains("could not be reached")
    });
    signal(&d, "TERM");
    let text = read();
    let line = text
        .lines()
        .find(|l| l.contains("could not be reached"))
        .unwrap();
    assert!(line.starts_with('{'), "{line}");
    assert!(line.contains(&format!("127.0.0.1:{closed}/cat/")), "{line}");
    assert!(
        !text.contains("s3cretpw") && !text.contains("editor:"),
        "{text}"
    );
}

/// A reload ends the old server's connections within its short grace period, even one kept
/// busy by a long download, so nothing is served with the old configuration or beside the new
/// server's connection cap; a new connection sees the new configuration.
#[test]
fn a_reload_ends_the_old_servers_connections() {
    let s = Serving::start();
    common::sparse_file(&s.dir.path().join("out/main/big.xml"));
    let rt = tokio::runtime::Runtime::new().unwrap();
    let addr = ([127, 0, 0, 1], s.port).into();
    let download = rt.block_on(common::SlowDownload::start(addr, "/main/big.xml"));

    s.reload_with_a_copy_feed();
    let closed = rt.block_on(download.closed_within(Duration::from_secs(8)));
    let read = || std::fs::read_to_string(&s.log).unwrap();
    let (_, got) = closed.unwrap_or_else(|| {
        panic!(
            "the old server still serves the download 8 s after SIGHUP: {}",
            read()
        )
    });
    assert!(got < common::LARGE_FILE, "the whole answer came");
    assert!(read().contains("configuration reloaded"), "{}", read());
    wait_for("the new feed on the index", Duration::from_secs(10), || {
        s.index(&rt).contains("copy/atom.xml")
    });
    signal(&s.d, "TERM");
}

/// A site with two posts of the last complete ISO week (UTC) and a config whose digest of the
/// feed `main` fires once, about three seconds from now: weekly, so that its previous firing
/// came before that week ended (no start-up catch-up), while the source's own schedule does not
/// fire during the test. Returns the site, the config, the week's label and the issue's file.
fn site_with_a_digest_due_soon(
    dir: &Path,
) -> (Site, std::path::PathBuf, String, std::path::PathBuf) {
    use chrono::Timelike;
    // Not across a week's end: the firing's last complete week is the one the posts are in.
    if (Utc::now() + chrono::Duration::seconds(10)).iso_week() != Utc::now().iso_week() {
        std::thread::sleep(Duration::from_secs(11));
    }
    let fires = Utc::now() + chrono::Duration::seconds(3);
    let today = fires.date_naive();
    let last_monday =
        today - chrono::Duration::days(i64::from(today.weekday().num_days_from_monday()) + 7);
    let day = |n: i64| last_monday + chrono::Duration::days(n);
    let site = Site::start();
    publish(
        &site,
        &[
            Post::new(
                2,
                "talk",
                "A talk last week",
                &format!("{}T12:00:00Z", day(2)),
            ),
            Post::new(
                1,
                "panel",
                "A panel last week",
                &format!("{}T12:00:00Z", day(1)),
            ),
        ],
    );
    let cron = format!(
        "{} {} {} * * {}",
        fires.second(),
        fires.minute(),
        fires.hour(),
        fires.weekday().to_string().to_uppercase()
    );
    let cfg = write_config(
        dir,
        &format!(
            "{}[digest]\nfeed = \"main\"\ntimezone = \"UTC\"\nschedule = \"{cron}\"\n\
             [daemon]\njitter_secs = 0\n",
            common::site_config(&site.url("/cat/"), "", "schedule = \"0 0 1 1 *\"")
        ),
    );
    let week = last_monday.iso_week();
    let label = format!("{:04}-W{:02}", week.year(), week.week());
    let issue = dir.join(format!("out/main/digest/{label}.html"));
    (site, cfg, label, issue)
}

/// Make the sources of the store `feedwright.db` in `dir` look last refreshed 8 days ago,
/// before the last complete week ended (as if the daemon had been down since).
fn refreshed_long_ago(dir: &Path) {
    let long_ago = (Utc::now() - chrono::Duration::days(8)).timestamp();
    rusqlite::Connection::open(dir.join("feedwright.db"))
        .unwrap()
        .execute(
            "UPDATE source_state SET last_success = ?1, last_run = ?1",
            [long_ago],
        )
        .unwrap();
}

/// Start the daemon in `dir` on `cfg` and wait for its digest of week `label`, which must be
/// written with the week's two posts: the daemon and what the log says of the digest.
fn daemon_wrote_the_issue(dir: &Path, cfg: &Path, label: &str) -> (Daemon, String) {
    let log = dir.join("daemon.log");
    let d = start(cfg, &log);
    let text = digest_outcome(&log, label);
    assert!(text.contains("written (2 posts"), "{text}");
    (d, text)
}

/// Wait for the daemon's digest of `label` (logged with its outcome) and return the log.
fn digest_outcome(log: &Path, label: &str) -> String {
    let read = || std::fs::read_to_string(log).unwrap();
    wait_for("the scheduled digest", Duration::from_secs(20), || {
        read().contains(&format!("digest {label}: "))
    });
    read()
}

/// A digest that fires before its source was ever refreshed by the daemon (a first start
/// shortly before the digest's time) refreshes the source first: the week's posts are in the
/// issue, not "skipped: nothing new".
#[test]
fn a_digest_due_before_the_first_refresh_is_built_from_a_refreshed_store() {
    let dir = tempfile::tempdir().unwrap();
    let (site, cfg, label, issue) = site_with_a_digest_due_soon(dir.path());
    let (d, _) = daemon_wrote_the_issue(dir.path(), &cfg, &label);
    let html = std::fs::read_to_string(&issue).unwrap();
    assert!(
        html.contains("A talk last week") && html.contains("A panel last week"),
        "{html}"
    );
    assert_eq!(hits_of(&site, "/cat/"), 1, "refreshed once, for the digest");
    signal(&d, "TERM");
}

/// In the steady state (the source was refreshed after the week ended) the digest makes no
/// request of its own.
#[test]
fn a_digest_makes_no_refresh_of_a_source_refreshed_since_the_week_ended() {
    let dir = tempfile::tempdir().unwrap();
    let (site, cfg, label, issue) = site_with_a_digest_due_soon(dir.path());
    let (code, _, err) = common::feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{err}");
    let before = site.requests().len();
    let (d, text) = daemon_wrote_the_issue(dir.path(), &cfg, &label);
    assert!(issue.exists());
    assert_eq!(site.requests().len(), before, "{:?}", site.requests());
    assert!(!text.contains("refreshing"), "{text}");
    signal(&d, "TERM");
}

/// A source that cannot be refreshed before the digest (its site is down) does not hold the
/// issue back: it is built from what the store holds, and the log says so.
#[test]
fn a_digest_is_built_when_its_source_cannot_be_refreshed() {
    let dir = tempfile::tempdir().unwrap();
    let (site, cfg, label, issue) = site_with_a_digest_due_soon(dir.path());
    let (code, _, err) = common::feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{err}");
    refreshed_long_ago(dir.path());
    site.set("/cat/", Resp::Status(503));
    let (d, text) = daemon_wrote_the_issue(dir.path(), &cfg, &label);
    assert!(issue.exists());
    assert!(
        text.contains("could not be refreshed") && text.contains("built anyway"),
        "{text}"
    );
    signal(&d, "TERM");
}

/// What the daemon repeats on every refresh must be news: a folder of a retired feed is warned
/// about once while the daemon runs (not once a refresh), and a degraded source gets its
/// once-a-day warning, not a warning line on every refresh besides.
#[test]
fn the_daemon_does_not_repeat_standing_warnings_on_every_refresh() {
    let site = Site::start();
    let posts = vec![Post::new(1, "first", "First post", "2024-05-01T09:00:00Z")];
    publish(&site, &posts);
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &config(&site));
    // A feed this configuration no longer has.
    let old = dir.path().join("out/old-feed");
    std::fs::create_dir_all(&old).unwrap();
    std::fs::write(old.join("atom.xml"), "<feed/>").unwrap();
    // A listing without post links: degraded on every refresh.
    site.set(
        "/cat/",
        Resp::Html("<html><body><p>Nothing</p></body></html>".into()),
    );
    let log = dir.path().join("daemon.log");
    let _d = start(&cfg, &log);
    let read = || std::fs::read_to_string(&log).unwrap_or_default();
    wait_for("four refreshes", Duration::from_secs(15), || {
        read().matches("0 new, 0 updated").count() >= 4
    });
    let text = read();
    assert_eq!(text.matches("no longer has").count(), 1, "{text}");
    assert_eq!(text.matches("source looks degraded").count(), 1, "{text}");
    assert!(!text.contains("WARN degraded"), "{text}");
    let warns = text.lines().filter(|l| l.contains("WARN")).count();
    assert_eq!(warns, 2, "{text}");
}

/// The templates in force are those of the start or of the last accepted reload: a template
/// broken on disk, whose reload was rejected, is not used by the digest's next attempt, which
/// sends the issue with the templates loaded at start-up.
#[test]
fn a_template_whose_reload_was_rejected_is_not_used_by_the_digest() {
    let dir = tempfile::tempdir().unwrap();
    let sink = Sink::start("tempfail-once");
    let cfg = events_mailed_weekly(dir.path(), &sink, "[5]");
    let templates = dir.path().join("templates");
    std::fs::create_dir_all(&templates).unwrap();
    std::fs::write(
        templates.join("digest_subject.txt"),
        "Loaded at start-up: {{ week }}\n",
    )
    .unwrap();
    let log = dir.path().join("daemon.log");
    let d = start(&cfg, &log);
    let read = || std::fs::read_to_string(&log).unwrap();
    wait_for("the failed attempt", Duration::from_secs(20), || {
        read().contains("trying again in 5 s")
    });
    // Broken before the retry, and rejected by a reload.
    std::fs::write(templates.join("digest.txt"), "{{ title }\n").unwrap();
    std::fs::write(templates.join("digest_subject.txt"), "Edited on disk\n").unwrap();
    signal(&d, "HUP");
    wait_for("the rejection", Duration::from_secs(5), || {
        read().contains("reload rejected")
    });
    wait_for("the digest to be sent", Duration::from_secs(20), || {
        read().contains("sent 1 post to 1 recipient")
    });
    let text = read();
    let at = |what: &str| text.find(what).unwrap();
    assert!(
        at("reload rejected") < at("sent 1 post to 1 recipient"),
        "the retry came before the rejected reload: {text}"
    );
    assert!(
        !text.lines().any(|l| l.contains("digest: template")),
        "the digest used the rejected template: {text}"
    );
    let messages = sink.messages();
    assert_eq!(messages.len(), 1, "{text}");
    let mail = std::fs::read_to_string(&messages[0]).unwrap();
    assert!(mail.contains("Subject: Loaded at start-up: "), "{mail}");
    signal(&d, "TERM");
}

impl Serving {
    /// Write the configuration with `edit` applied to its text, send SIGHUP and wait for the
    /// daemon's verdict: the log since the signal (`reloaded` or `reload rejected`).
    fn reload_with(&self, edit: impl FnOnce(String) -> String) -> String {
        let text = edit(Serving::config(&self.site, self.port, ""));
        std::fs::write(&self.cfg, text).unwrap();
        let read = || std::fs::read_to_string(&self.log).unwrap();
        let before = read().len();
        signal(&self.d, "HUP");
        wait_for("the reload's verdict", Duration::from_secs(10), || {
            let since = &read()[before..];
            since.contains("configuration reloaded") || since.contains("reload rejected")
        });
        read()[before..].to_string()
    }
}

/// A reload refuses an `output_dir` that start-up refuses (a file on its path), naming it, and
/// keeps the running configuration.
#[test]
fn a_reload_refuses_an_output_dir_start_up_refuses() {
    let s = Serving::start();
    let since =
        s.reload_with(|c| c.replace("output_dir = \"out\"", "output_dir = \"config.toml/out\""));
    assert!(
        since.contains("reload rejected") && since.contains("output_dir"),
        "{since}"
    );
    signal(&s.d, "TERM");
}

/// What is served follows an accepted reload at once, not at the next refresh: a new
/// `output_dir` is published (feeds and stylesheet), with a feed's new title.
#[test]
fn a_reload_publishes_the_feeds_at_once() {
    let s = Serving::start();
    let since = s.reload_with(|c| {
        c.replace("output_dir = \"out\"", "output_dir = \"feeds2\"")
            .replace("limit = 1000", "limit = 1000\ntitle = \"Retitled\"")
            // No refresh comes during the test.
            .replace("schedule = \"* * * * * *\"", "schedule = \"0 0 1 1 *\"")
    });
    assert!(since.contains("configuration reloaded"), "{since}");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let get = |path: &str| {
        let url = format!("http://127.0.0.1:{}{path}", s.port);
        rt.block_on(async {
            let r = reqwest::get(&url).await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        })
    };
    // Published before the server serves the new configuration: its first answer is the feed.
    let (status, atom) = get("/main/atom.xml");
    assert_eq!(status, 200, "{atom}");
    assert!(atom.contains("Retitled"));
    assert_eq!(get("/feed.xsl").0, 200);
    assert!(s.index(&rt).contains("main/atom.xml"));
    let (status, health) = get("/healthz");
    assert_eq!(status, 200, "{health}");
    signal(&s.d, "TERM");
}

/// A malformed `templates/feed.xsl` is refused by a reload (naming the file), as `check` and
/// start-up refuse it, instead of failing every publish from then on.
#[test]
fn a_reload_refuses_a_malformed_stylesheet() {
    let mut s = Serving::start();
    let templates = s.dir.path().join("templates");
    std::fs::create_dir_all(&templates).unwrap();
    std::fs::write(templates.join("feed.xsl"), "<xsl:stylesheet").unwrap();
    let since = s.reload_with(|c| c);
    assert!(
        since.contains("reload rejected") && since.contains("templates/feed.xsl"),
        "{since}"
    );
    signal(&s.d, "TERM");
    s.d.0.wait().unwrap();
    let (code, _, err) = common::feedwright(&s.cfg, &["daemon"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("templates/feed.xsl"), "{err}");
}

/// A reload says what start-up says of a configuration (a placeholder `public_url`), and
/// refuses SMTP credentials from an environment variable the daemon does not have: its
/// environment only changes with a restart, and no digest could be sent.
#[test]
fn a_reload_warns_as_start_up_and_refuses_credentials_it_cannot_read() {
    let s = Serving::start();
    let digest = "[digest]\nfeed = \"main\"\nto = [\"a@example.org\"]\n\
                  smtp_url = \"smtp://127.0.0.1:2525\"\n\
                  smtp_username_env = \"FEEDWRIGHT_TEST_UNSET_USER\"\n\
                  smtp_password_env = \"FEEDWRIGHT_TEST_UNSET_PASSWORD\"\n";
    let since = s.reload_with(|c| format!("{c}{digest}"));
    assert!(
        since.contains("reload rejected")
            && since.contains("digest.smtp_username_env")
            && since.contains("FEEDWRIGHT_TEST_UNSET_USER")
            && since.contains("restarted"),
        "{since}"
    );
    let since = s.reload_with(|c| c.replace("http://feeds.test/", "https://example.org/feeds/"));
    assert!(since.contains("configuration reloaded"), "{since}");
    assert!(
        since.contains("WARN") && since.contains("public_url") && since.contains("placeholder"),
        "{since}"
    );
    // A digest that sends without `unsubscribe_url` gets `check`'s advice too.
    let digest = "[digest]\nfeed = \"main\"\nto = [\"a@example.org\"]\n\
                  smtp_url = \"smtp://127.0.0.1:2525\"\n";
    let since = s.reload_with(|c| format!("{c}{digest}"));
    assert!(since.contains("configuration reloaded"), "{since}");
    assert!(
        since.contains("digest.unsubscribe_url is not set"),
        "{since}"
    );
    signal(&s.d, "TERM");
}

/// A changed `store.path` waits for a restart: until then the server goes on reading the
/// store the daemon writes, not the new (empty or missing) one.
#[test]
fn after_a_reload_changing_store_path_the_server_reads_the_store_in_use() {
    let s = Serving::start();
    let since = s.reload_with(|c| c.replace("path = \"feedwright.db\"", "path = \"other.db\""));
    assert!(
        since.contains("configuration reloaded") && since.contains("restart the daemon"),
        "{since}"
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    let get = |path: &str| {
        let url = format!("http://127.0.0.1:{}{path}", s.port);
        rt.block_on(async { reqwest::get(&url).await.unwrap().text().await.unwrap() })
    };
    let health = get("/healthz");
    assert!(
        health.contains("\"site\"") && health.contains("healthy"),
        "{health}"
    );
    let metrics = get("/metrics");
    assert!(metrics.contains("feedwright_store_readable 1"), "{metrics}");
    signal(&s.d, "TERM");
}

/// A reload removing `[server]` closes the listening socket: clients are refused at once
/// instead of waiting in its backlog for an answer that never comes.
#[test]
fn a_reload_removing_the_server_closes_its_socket() {
    let s = Serving::start();
    let since = s.reload_with(|c| c.split("[server]").next().unwrap().to_string());
    assert!(since.contains("no longer serving"), "{since}");
    let refused = std::net::TcpStream::connect(("127.0.0.1", s.port));
    assert!(
        refused
            .as_ref()
            .is_err_and(|e| e.kind() == std::io::ErrorKind::ConnectionRefused),
        "{refused:?}"
    );
    signal(&s.d, "TERM");
}

/// A changed `server.listen` is compared with the address the daemon listens on, not with the
/// previous configuration: said on every reload while they differ, never once they agree again.
#[test]
fn a_listen_change_is_said_against_the_bound_address() {
    let s = Serving::start();
    let other = free_port();
    let moved = |c: String| {
        c.replace(
            &format!("127.0.0.1:{}", s.port),
            &format!("127.0.0.1:{other}"),
        )
    };
    let needs_restart = format!("server.listen changed to 127.0.0.1:{other}");
    for _ in 0..2 {
        let since = s.reload_with(moved);
        assert!(
            since.contains(&needs_restart)
                && since.contains(&format!("still serving on 127.0.0.1:{}", s.port)),
            "{since}"
        );
    }
    let since = s.reload_with(|c| c);
    assert!(
        since.contains("configuration reloaded") && !since.contains("server.listen"),
        "{since}"
    );
    signal(&s.d, "TERM");
}

/// A reload while a firing waits out its jitter does not drop that firing: the refresh still
/// comes (within the jitter) after the reload, not at the schedule's next firing a day later.
#[test]
fn a_reload_during_the_jitter_keeps_the_firing() {
    use chrono::Timelike;
    let site = Site::start();
    publish(
        &site,
        &[Post::new(1, "first", "First post", "2024-05-01T09:00:00Z")],
    );
    let dir = tempfile::tempdir().unwrap();
    // Once a day, eight seconds from now (whole seconds), with up to 5 s of jitter.
    let fires = (Utc::now() + chrono::Duration::seconds(8))
        .with_nanosecond(0)
        .unwrap();
    let cron = format!(
        "{} {} {} * * *",
        fires.second(),
        fires.minute(),
        fires.hour()
    );
    let cfg = write_config(
        dir.path(),
        &(common::site_config(&site.url("/cat/"), "", &format!("schedule = \"{cron}\""))
            + "[daemon]\njitter_secs = 5\n"),
    );
    let log = dir.path().join("daemon.log");
    let d = start(&cfg, &log);
    let read = || std::fs::read_to_string(&log).unwrap();
    wait_for("the daemon's schedules", Duration::from_secs(5), || {
        read().contains("daemon running")
    });
    assert!(Utc::now() < fires, "the daemon started after the firing");
    // Just after the firing: its refresh waits out a jitter of up to 5 s.
    let after = (fires + chrono::Duration::milliseconds(100) - Utc::now())
        .to_std()
        .unwrap_or_default();
    std::thread::sleep(after);
    if hits_of(&site, "/cat/") > 0 {
        // A jitter under 0.1 s (about one run in fifty): the refresh came before the reload,
        // and this run shows nothing either way.
        eprintln!("the jitter came out too short to test the reload; nothing shown");
        signal(&d, "TERM");
        return;
    }
    signal(&d, "HUP");
    // The firing's refresh, after the reload (its summary line follows the reload's).
    wait_for("the firing's refresh", Duration::from_secs(8), || {
        let text = read();
        text.find("configuration reloaded")
            .is_some_and(|at| text[at..].contains(" new, "))
    });
    assert!(hits_of(&site, "/cat/") >= 1);
    signal(&d, "TERM");
}

/// A feed holding an unfinished backfill's history back from its archive says so once while
/// the daemon runs, not on every refresh (the daemon never runs a backfill itself).
#[test]
fn the_daemon_says_once_that_an_unfinished_backfill_holds_the_archive() {
    let site = Site::start();
    let posts: Vec<Post> = (1..=12)
        .map(|i| {
            Post::new(
                i,
                &format!("post-{i}"),
                &format!("Post {i}"),
                &format!("2024-05-{i:02}T09:00:00Z"),
            )
        })
        .rev()
        .collect();
    publish(&site, &posts);
    let dir = tempfile::tempdir().unwrap();
    let small = |text: String| text.replace("limit = 1000", "limit = 2\narchive_page_size = 2");
    let cfg = write_config(
        dir.path(),
        &small(common::site_config(
            &site.url("/cat/"),
            "max_requests = 6",
            "",
        )),
    );
    let (_, _, stderr) = common::feedwright(&cfg, &["backfill"]);
    assert!(stderr.contains("wait to be archived"), "{stderr}");
    write_config(dir.path(), &small(config(&site)));
    let log = dir.path().join("daemon.log");
    let _d = start(&cfg, &log);
    let read = || std::fs::read_to_string(&log).unwrap_or_default();
    wait_for("three refreshes", Duration::from_secs(15), || {
        read().matches(" new, ").count() >= 3
    });
    let text = read();
    assert_eq!(
        text.matches("older entries wait to be archived until the backfill of site is complete")
            .count(),
        1,
        "{text}"
    );
}

/// A reload that changes a source's schedule starts the new one from the reload, not from the
/// old schedule's last firing: a firing of the new expression between the two is not run as
/// if it had been missed.
#[test]
fn a_changed_schedule_starts_from_the_reload() {
    use chrono::Timelike;
    let site = Site::start();
    publish(
        &site,
        &[Post::new(1, "first", "First post", "2024-05-01T09:00:00Z")],
    );
    let dir = tempfile::tempdir().unwrap();
    let daily =
        |at: chrono::DateTime<Utc>| format!("{} {} {} * * *", at.second(), at.minute(), at.hour());
    let write = |cron: &str| {
        write_config(
            dir.path(),
            &(common::site_config(&site.url("/cat/"), "", &format!("schedule = \"{cron}\""))
                + "[daemon]\njitter_secs = 0\n"),
        )
    };
    // Fires once, four seconds from now.
    let first = (Utc::now() + chrono::Duration::seconds(4))
        .with_nanosecond(0)
        .unwrap();
    let cfg = write(&daily(first));
    let log = dir.path().join("daemon.log");
    let d = start(&cfg, &log);
    let read = || std::fs::read_to_string(&log).unwrap();
    wait_for(
        "the first firing's refresh",
        Duration::from_secs(10),
        || read().contains(" new, "),
    );
    let hits = hits_of(&site, "/cat/");
    // A new schedule whose firing fell between the old one's and now (one second after it).
    std::thread::sleep(Duration::from_millis(1500));
    write(&daily(first + chrono::Duration::seconds(1)));
    signal(&d, "HUP");
    wait_for("the reload", Duration::from_secs(5), || {
        read().contains("configuration reloaded")
    });
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        hits_of(&site, "/cat/"),
        hits,
        "a firing before the reload was run: {}",
        read()
    );
    signal(&d, "TERM");
}
