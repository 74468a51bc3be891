//! SIGINT (Ctrl-C) and SIGTERM in the middle of `run` and `backfill`, with the real binary
//! against a slow fixture site on loopback: no request is sent after the signal, the requests
//! in progress get a few seconds, what was fetched is stored and published, one line says so,
//! and the process ends by the signal (a shell reports 130 or 143). The next run goes on from
//! there, reading the listing in full; a second signal ends the process at once.

mod common;

use std::collections::{HashMap, HashSet};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use common::{Post, Resp, Site};

/// Posts on the site, newest first, on listing pages of `PER_PAGE`.
const POSTS: usize = 40;
const PER_PAGE: usize = 10;

fn posts() -> Vec<Post> {
    (0..POSTS)
        .map(|i| {
            Post::new(
                100 + i as u64,
                &format!("post-{i}"),
                &format!("Post number {i}"),
                &format!("2024-10-01T10:{:02}:00Z", 59 - i),
            )
        })
        .collect()
}

/// The site: listing pages under /cat/ (each answered after `listing_delay`), every post
/// answered after `post_delay`.
fn slow_site(listing_delay: Duration, post_delay: Duration) -> (Site, Vec<Post>) {
    let site = Site::start();
    let posts = posts();
    slow_listing(&site, &posts, listing_delay);
    set_post_delay(&site, &posts, post_delay);
    (site, posts)
}

/// Answer the listing pages after `delay` (at once when it is zero).
fn slow_listing(site: &Site, posts: &[Post], delay: Duration) {
    let base = site.base();
    let pages: Vec<&[Post]> = posts.chunks(PER_PAGE).collect();
    for (i, chunk) in pages.iter().enumerate() {
        let path = if i == 0 {
            "/cat/".to_string()
        } else {
            format!("/cat/page/{}/", i + 1)
        };
        let next = (i + 1 < pages.len()).then(|| format!("{base}/cat/page/{}/", i + 2));
        let links: Vec<(String, String)> = chunk
            .iter()
            .map(|p| (format!("{base}{}", p.path()), p.title.clone()))
            .collect();
        let page = Resp::Html(common::listing(&base, &links, next.as_deref()));
        site.set(&path, delayed(delay, page));
    }
}

/// Answer every post after `delay` (at once when it is zero).
fn set_post_delay(site: &Site, posts: &[Post], delay: Duration) {
    let base = site.base();
    for p in posts {
        let page = Resp::Html(common::classic_post(&base, p));
        site.set(&p.path(), delayed(delay, page));
    }
}

fn delayed(delay: Duration, resp: Resp) -> Resp {
    if delay.is_zero() {
        resp
    } else {
        Resp::Delay {
            delay,
            then: Box::new(resp),
        }
    }
}

/// One `html` source on `url` feeding the feed `main`; a long timeout (a slow request is cut by
/// the interrupt, not by the timeout), no courtesy delay, no retries.
fn config(dir: &Path, url: &str) -> PathBuf {
    common::write_config(
        dir,
        &format!(
            r#"output_dir = "out"
public_url = "http://feeds.test/"
[store]
path = "feedwright.db"
[http]
min_interval_ms = 0
timeout_secs = 60
max_retries = 0
[[source]]
name = "site"
url = "{url}"
kind = "html"
max_pages = 10
[[feed]]
name = "main"
sources = ["site"]
limit = 1000
"#
        ),
    )
}

/// The binary running in the background, its stderr kept in a file; killed if the test ends
/// before it does.
struct Running {
    child: Child,
    stderr: PathBuf,
}

impl Running {
    fn start(config: &Path, args: &[&str]) -> Running {
        let stderr = config.with_file_name(format!("stderr-{}.txt", args.join("-")));
        let child = Command::new(env!("CARGO_BIN_EXE_feedwright"))
            .arg("--config")
            .arg(config)
            .args(args)
            .env_remove("RUST_LOG")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr).expect("stderr file"))
            .spawn()
            .expect("start feedwright");
        Running { child, stderr }
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("kill");
        assert!(ok.success(), "kill -{sig}");
    }

    /// How it ended, within `limit`.
    fn wait(&mut self, limit: Duration) -> ExitStatus {
        let t0 = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(
                t0.elapsed() < limit,
                "still running after {limit:?}; stderr:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn is_post(path: &str) -> bool {
    path.starts_with("/2024/")
}

/// Wait (at most 30 s) until `enough` holds of the site's requests.
fn wait_for(site: &Site, what: &str, enough: impl Fn(&[common::Hit]) -> bool) {
    let t0 = Instant::now();
    while !enough(&site.hits()) {
        assert!(t0.elapsed() < Duration::from_secs(30), "never saw {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn answered_posts(hits: &[common::Hit]) -> usize {
    hits.iter()
        .filter(|h| is_post(&h.path) && h.status != 0)
        .count()
}

/// The post URLs requested among `hits`.
fn requested(site: &Site, hits: &[common::Hit]) -> HashSet<String> {
    hits.iter()
        .filter(|h| is_post(&h.path))
        .map(|h| site.url(&h.path))
        .collect()
}

/// The links of the entries of `out/main/atom.xml` (none when it does not exist).
fn feed_links(dir: &Path) -> HashSet<String> {
    let Ok(xml) = std::fs::read(dir.join("out/main/atom.xml")) else {
        return HashSet::new();
    };
    feed_rs::parser::parse(xml.as_slice())
        .expect("atom.xml parses")
        .entries
        .into_iter()
        .filter_map(|e| e.links.first().map(|l| l.href.clone()))
        .collect()
}

/// Temporary files left anywhere below `dir`.
fn temp_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = e.path();
            if path.is_dir() {
                todo.push(path);
            } else if path.to_string_lossy().ends_with(".tmp") {
                found.push(path);
            }
        }
    }
    found
}

/// The number of posts the closing line says were stored, checking its wording.
fn stored_in(last_line: &str, signal: &str, next: &str) -> usize {
    let rest = last_line
        .strip_prefix(&format!("interrupted by {signal}: "))
        .unwrap_or_else(|| panic!("not the closing line: {last_line}"));
    let (n, rest) = rest.split_once(' ').expect("a count");
    let plural = if n == "1" { "post" } else { "posts" };
    assert_eq!(
        rest,
        format!("{plural} stored; {next} goes on from there"),
        "{last_line}"
    );
    n.parse().expect("a number")
}

/// Each post requested once in all, none twice: the next run went on from where the
/// interrupted one stopped.
fn each_post_requested_once(site: &Site) {
    let mut times: HashMap<String, usize> = HashMap::new();
    for h in site.hits().iter().filter(|h| is_post(&h.path)) {
        *times.entry(h.path.clone()).or_default() += 1;
    }
    assert_eq!(times.len(), POSTS, "every post was read");
    let twice: Vec<_> = times.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "posts read again: {twice:?}");
}

#[test]
fn sigint_mid_run_stores_what_was_fetched_and_the_next_run_goes_on_from_there() {
    let (site, _) = slow_site(Duration::ZERO, Duration::from_millis(250));
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), &site.url("/cat/"));
    let mut run = Running::start(&config, &["run"]);
    // The whole listing is read at once, its posts slowly (two at a time): interrupted once
    // the first listing page's posts are stored, with those of the others still to fetch.
    wait_for(&site, "12 posts answered", |h| answered_posts(h) >= 12);
    let sent = Instant::now();
    run.signal("INT");
    let status = run.wait(Duration::from_secs(15));
    let stderr = run.stderr();
    assert_eq!(
        status.signal(),
        Some(libc::SIGINT),
        "ends by SIGINT ({status:?}); stderr:\n{stderr}"
    );

    // No request after the signal; those in progress were answered, and all of them stored.
    let hits = site.hits();
    let late: Vec<_> = hits
        .iter()
        .filter(|h| h.at > sent + Duration::from_secs(1))
        .collect();
    assert!(late.is_empty(), "requests after the signal: {late:?}");
    assert!(
        hits.iter()
            .filter(|h| is_post(&h.path))
            .all(|h| h.status == 200),
        "every post request was answered: {hits:?}"
    );
    let fetched = requested(&site, &hits);
    assert!(fetched.len() < POSTS, "stopped early: {}", fetched.len());
    let last = stderr.lines().last().unwrap_or_default();
    let stored = stored_in(last, "SIGINT", "the next run");
    assert_eq!(stored, fetched.len(), "{stderr}");
    assert_eq!(
        feed_links(dir.path()),
        fetched,
        "published: what was fetched"
    );
    assert!(
        stderr.contains("SIGINT: stopping: no new request is sent"),
        "the signal is acknowledged: {stderr}"
    );
    assert!(
        stderr.contains(&format!("site: {stored} new, 0 updated")),
        "{stderr}"
    );
    assert_eq!(temp_files(dir.path()), Vec::<PathBuf>::new());

    // The run is not recorded: no last success (nor failure).
    let (code, table, _) = common::feedwright(&config, &["status"]);
    assert_eq!(code, 0);
    let row = table
        .lines()
        .find(|l| l.starts_with("site "))
        .unwrap_or_else(|| panic!("{table}"));
    assert!(row.contains("never run"), "{table}");

    // The next run reads the listing in full (its first page's posts are all stored: a walk
    // stopping at known posts would end there) and fetches only what is left.
    set_post_delay(&site, &posts(), Duration::ZERO);
    let (code, _, stderr) = common::feedwright(&config, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(feed_links(dir.path()).len(), POSTS, "{stderr}");
    assert!(
        stderr.contains(&format!("site: {} new, 0 updated", POSTS - stored)),
        "{stderr}"
    );
    each_post_requested_once(&site);
}

/// With `--log-format json`, every line is a JSON object, the closing one included; SIGTERM
/// while the listing is still being walked.
#[test]
fn sigterm_mid_walk_in_json_stores_what_was_fetched() {
    let (site, _) = slow_site(Duration::from_millis(600), Duration::from_millis(100));
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), &site.url("/cat/"));
    let mut run = Running::start(&config, &["--log-format", "json", "run"]);
    // Interrupted while the second listing page is being answered.
    wait_for(&site, "listing page 2 asked for", |h| {
        h.iter().any(|h| h.path == "/cat/page/2/")
    });
    run.signal("TERM");
    let status = run.wait(Duration::from_secs(15));
    let stderr = run.stderr();
    assert_eq!(
        status.signal(),
        Some(libc::SIGTERM),
        "ends by SIGTERM ({status:?}); stderr:\n{stderr}"
    );
    let hits = site.hits();
    assert!(
        !hits.iter().any(|h| h.path == "/cat/page/3/"),
        "the walk stopped: {hits:?}"
    );
    let lines: Vec<serde_json::Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let last = lines.last().expect("lines");
    assert_eq!(last["level"], "WARN", "{last}");
    let fields = &last["fields"];
    assert_eq!(fields["signal"], "SIGTERM", "{last}");
    let message = fields["message"].as_str().expect("message");
    let stored = stored_in(message, "SIGTERM", "the next run");
    assert_eq!(fields["stored"], stored, "{last}");
    let fetched = requested(&site, &hits);
    assert_eq!(stored, fetched.len(), "{stderr}");
    assert_eq!(feed_links(dir.path()), fetched);
    assert_eq!(temp_files(dir.path()), Vec::<PathBuf>::new());

    slow_listing(&site, &posts(), Duration::ZERO);
    set_post_delay(&site, &posts(), Duration::ZERO);
    let (code, _, stderr) = common::feedwright(&config, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(feed_links(dir.path()).len(), POSTS, "{stderr}");
    each_post_requested_once(&site);
}

/// A request that does not end within the grace is cut: the run ends a few seconds after the
/// signal, its post left for the next run.
#[test]
fn a_request_still_unanswered_after_the_grace_is_cut_and_left_for_the_next_run() {
    let (site, _) = slow_site(Duration::ZERO, Duration::from_secs(50));
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), &site.url("/cat/"));
    let mut run = Running::start(&config, &["run"]);
    wait_for(&site, "two posts asked for", |h| {
        h.iter().filter(|h| is_post(&h.path)).count() >= 2
    });
    let sent = Instant::now();
    run.signal("INT");
    let status = run.wait(Duration::from_secs(20));
    let took = sent.elapsed();
    let stderr = run.stderr();
    assert_eq!(status.signal(), Some(libc::SIGINT), "{stderr}");
    assert!(
        took >= Duration::from_millis(4500),
        "the requests in progress had their grace: {took:?}"
    );
    // Those in progress (sent, or waiting for their turn on the site) are kept pending.
    let left: usize = stderr
        .lines()
        .find_map(|l| l.strip_suffix(" post(s) left for the next run"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no posts left for the next run: {stderr}"));
    assert!(left >= 2, "{stderr}");
    let last = stderr.lines().last().unwrap_or_default();
    assert_eq!(stored_in(last, "SIGINT", "the next run"), 0);
    assert_eq!(temp_files(dir.path()), Vec::<PathBuf>::new());

    set_post_delay(&site, &posts(), Duration::ZERO);
    let (code, _, stderr) = common::feedwright(&config, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(feed_links(dir.path()).len(), POSTS, "{stderr}");
}

/// A second SIGINT does not wait for anything: the process ends at once, and the store is
/// still whole for the next run.
#[test]
fn a_second_sigint_ends_the_run_at_once() {
    let (site, _) = slow_site(Duration::ZERO, Duration::from_secs(50));
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), &site.url("/cat/"));
    let mut run = Running::start(&config, &["run"]);
    wait_for(&site, "a post asked for", |h| {
        h.iter().any(|h| is_post(&h.path))
    });
    run.signal("INT");
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        run.child.try_wait().expect("wait").is_none(),
        "the first SIGINT lets the requests in progress finish"
    );
    run.signal("INT");
    let status = run.wait(Duration::from_secs(2));
    let stderr = run.stderr();
    assert_eq!(status.signal(), Some(libc::SIGINT), "{stderr}");
    assert!(!stderr.contains("interrupted by"), "{stderr}");

    set_post_delay(&site, &posts(), Duration::ZERO);
    let (code, _, stderr) = common::feedwright(&config, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(feed_links(dir.path()).len(), POSTS, "{stderr}");
}

/// `backfill` interrupted inside a page of the archive keeps its place: the next backfill
/// starts at that page and fetches only the posts not stored.
#[test]
fn sigint_mid_backfill_keeps_its_place() {
    let (site, _) = slow_site(Duration::ZERO, Duration::from_millis(250));
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), &site.url("/cat/"));
    let mut run = Running::start(&config, &["backfill"]);
    // Inside the second page of the archive.
    wait_for(&site, "15 posts answered", |h| answered_posts(h) >= 15);
    run.signal("INT");
    let status = run.wait(Duration::from_secs(15));
    let stderr = run.stderr();
    assert_eq!(status.signal(), Some(libc::SIGINT), "{stderr}");
    let hits = site.hits();
    let fetched = requested(&site, &hits);
    assert!(
        fetched.len() < 2 * PER_PAGE,
        "stopped inside page 2: {hits:?}"
    );
    assert!(
        !hits.iter().any(|h| h.path == "/cat/page/3/"),
        "stopped inside page 2: {hits:?}"
    );
    let last = stderr.lines().last().unwrap_or_default();
    let stored = stored_in(last, "SIGINT", "the next `feedwright backfill`");
    assert_eq!(stored, fetched.len(), "{stderr}");
    assert_eq!(feed_links(dir.path()), fetched);
    assert_eq!(temp_files(dir.path()), Vec::<PathBuf>::new());

    set_post_delay(&site, &posts(), Duration::ZERO);
    let before = hits.len();
    let (code, _, stderr) = common::feedwright(&config, &["backfill"]);
    assert_eq!(code, 0, "{stderr}");
    let listing: Vec<String> = site.hits()[before..]
        .iter()
        .filter(|h| h.path.starts_with("/cat/"))
        .map(|h| h.path.clone())
        .collect();
    assert_eq!(
        listing.first().map(String::as_str),
        Some("/cat/page/2/"),
        "resumed at its page: {listing:?}"
    );
    assert_eq!(feed_links(dir.path()).len(), POSTS, "{stderr}");
    each_post_requested_once(&site);
}

/// A run started with SIGINT ignored (a background job of a script) keeps ignoring it.
#[test]
fn sigint_stays_ignored_when_the_run_was_started_ignoring_it() {
    let (site, _) = slow_site(Duration::ZERO, Duration::from_millis(50));
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), &site.url("/cat/"));
    let stderr = dir.path().join("stderr.txt");
    let mut child = Command::new("sh")
        .arg("-c")
        .arg("trap '' INT; exec \"$0\" --config \"$1\" run")
        .arg(env!("CARGO_BIN_EXE_feedwright"))
        .arg(&config)
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&stderr).expect("stderr file"))
        .spawn()
        .expect("start feedwright");
    wait_for(&site, "a post answered", |h| answered_posts(h) >= 1);
    let ok = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(ok.success());
    let status = child.wait().expect("wait");
    let stderr = std::fs::read_to_string(&stderr).unwrap_or_default();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("interrupted"), "{stderr}");
    assert_eq!(feed_links(dir.path()).len(), POSTS, "{stderr}");
}
