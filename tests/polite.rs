//! Polite, incremental fetching against a loopback site that logs every request and answers
//! conditional GETs with 304.

mod common;

use std::time::{Duration, Instant};

use common::{
    Post, Resp, Site, atom_ids, classic_post, feedwright, html_config, listing, numbered_posts,
    spawn_feedwright, write_config,
};

const PER_PAGE: usize = 10;

/// A fixture site serving `n` posts made by [`numbered_posts`], published by [`publish`].
fn site_with_posts(n: usize, first_id: u64) -> (Site, Vec<Post>) {
    let site = Site::start();
    let posts = numbered_posts(n, first_id);
    publish(&site, &posts);
    (site, posts)
}

/// Serve `posts` (newest first) under /cat/ with PER_PAGE posts per listing page.
fn publish(site: &Site, posts: &[Post]) {
    common::publish_paged(site, posts, PER_PAGE, |base, chunk, next| {
        common::listing_of(base, chunk, next)
    });
}

fn config(site: &Site, extra_http: &str, extra_source: &str) -> String {
    common::site_config(
        &site.url("/cat/"),
        extra_http,
        &format!("max_pages = 50\n{extra_source}"),
    )
}

#[test]
fn warm_run_costs_two_requests_and_one_new_post_at_most_four() {
    let (site, posts) = site_with_posts(25, 1000);
    site.set(
        "/robots.txt",
        Resp::Html("User-agent: *\nDisallow: /private/\n".into()),
    );
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &config(&site, "", ""));
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("site: 25 new"), "{stderr}");
    let atom = dir.path().join("out/main/atom.xml");
    let (bytes, mtime) = (
        std::fs::read(&atom).unwrap(),
        std::fs::metadata(&atom).unwrap().modified().unwrap(),
    );

    // Warm run, nothing new: robots.txt comes from the store, the listing answers 304.
    let before = site.hits().len();
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    let warm: Vec<_> = site.hits()[before..].to_vec();
    assert!(
        warm.len() <= 2,
        "warm run made {} requests: {warm:?}",
        warm.len()
    );
    assert!(
        warm.iter()
            .all(|h| h.status == 304 || h.path == "/robots.txt"),
        "{warm:?}"
    );
    assert!(
        warm.iter().any(|h| h.path == "/cat/" && h.conditional),
        "{warm:?}"
    );
    assert_eq!(std::fs::read(&atom).unwrap(), bytes);
    assert_eq!(
        std::fs::metadata(&atom).unwrap().modified().unwrap(),
        mtime,
        "not rewritten"
    );

    // One new post at the top of the listing.
    let mut more = numbered_posts(1, 5000);
    more[0].date = "2024-07-01T09:00:00+00:00".into();
    more.extend(posts);
    publish(&site, &more);
    let before = site.hits().len();
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("site: 1 new"), "{stderr}");
    let one: Vec<_> = site.hits()[before..]
        .iter()
        .map(|h| h.path.clone())
        .collect();
    assert!(
        one.len() <= 4,
        "one new post cost {} requests: {one:?}",
        one.len()
    );
    assert_eq!(atom_ids(dir.path()).len(), 26);
}

#[test]
fn robots_txt_is_obeyed_and_its_failures_handled() {
    let (site, posts) = site_with_posts(2, 2000);
    let base = site.base();
    let hidden = Post::new(3000, "hidden", "Hidden post", "2024-05-01T00:00:00Z");
    site.set("/private/hidden/", Resp::Html(classic_post(&base, &hidden)));
    let mut links: Vec<(String, String)> = posts
        .iter()
        .map(|p| (format!("{base}{}", p.path()), p.title.clone()))
        .collect();
    links.push((format!("{base}/private/hidden/"), "Hidden".into()));
    site.set("/cat/", Resp::Html(listing(&base, &links, None)));
    site.set(
        "/robots.txt",
        Resp::Html("User-agent: *\nDisallow: /private/\nCrawl-delay: 0\n".into()),
    );
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &config(&site, "", ""));
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "a disallowed URL is not a failure: {stderr}");
    assert!(
        !site.requests().iter().any(|p| p.starts_with("/private/")),
        "{:?}",
        site.requests()
    );
    let line = stderr
        .lines()
        .find(|l| l.contains("/private/hidden/"))
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(
        line.contains("skipped") && line.contains("robots.txt"),
        "{line}"
    );

    // robots.txt answering 500, or 429 (too many requests, not "no robots.txt"): nothing on
    // the host is fetched this run.
    for status in [500, 429] {
        let site2 = Site::start();
        publish(&site2, &numbered_posts(2, 2100));
        site2.set("/robots.txt", Resp::Status(status));
        let dir2 = tempfile::tempdir().unwrap();
        let cfg2 = write_config(dir2.path(), &config(&site2, "", ""));
        let (code, _, stderr) = feedwright(&cfg2, &["run"]);
        assert_eq!(code, 1, "{stderr}");
        assert_eq!(
            site2.requests(),
            ["/robots.txt"],
            "disallow-all for the run"
        );
        assert!(stderr.contains("robots.txt"), "{stderr}");
    }

    // One failed attempt at robots.txt is retried like any request (`max_retries`): the run
    // goes on once it answers.
    let site4 = Site::start();
    publish(&site4, &numbered_posts(2, 2300));
    site4.set(
        "/robots.txt",
        Resp::Limited {
            times: 1,
            status: 500,
            // Ignored for a 500: a plain server error.
            retry_after: "0".into(),
            then: Box::new(Resp::Html("User-agent: *\nDisallow: /private/\n".into())),
        },
    );
    let dir4 = tempfile::tempdir().unwrap();
    let cfg4 = write_config(dir4.path(), &config(&site4, "max_retries = 1", ""));
    let (code, _, stderr) = feedwright(&cfg4, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("site: 2 new"), "{stderr}");
    assert_eq!(
        site4
            .requests()
            .iter()
            .filter(|p| *p == "/robots.txt")
            .count(),
        2,
        "{:?}",
        site4.requests()
    );

    // robots.txt missing (404) or huge and malformed: everything allowed.
    for robots in [
        Resp::Status(404),
        Resp::Html(format!(
            "Disallow /nothing\n{}",
            "garbage \u{0}\u{1} line\n".repeat(100_000)
        )),
    ] {
        let site3 = Site::start();
        publish(&site3, &numbered_posts(2, 2200));
        site3.set("/robots.txt", robots);
        let dir3 = tempfile::tempdir().unwrap();
        let cfg3 = write_config(dir3.path(), &config(&site3, "", ""));
        let (code, _, stderr) = feedwright(&cfg3, &["run"]);
        assert_eq!(code, 0, "{stderr}");
        assert!(stderr.contains("site: 2 new"), "{stderr}");
    }
}

#[test]
fn retry_after_is_honoured_and_a_long_one_skips_the_source() {
    let (site, posts) = site_with_posts(2, 4000);
    let base = site.base();
    let slow_path = posts[0].path();
    site.set(
        &slow_path,
        Resp::Limited {
            times: 1,
            status: 429,
            retry_after: "2".into(),
            then: Box::new(Resp::Html(classic_post(&base, &posts[0]))),
        },
    );
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &config(&site, "max_retries = 2", ""));
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "success after waiting is not a failure: {stderr}");
    assert!(stderr.contains("site: 2 new"), "{stderr}");
    let hits: Vec<_> = site
        .hits()
        .into_iter()
        .filter(|h| h.path == slow_path)
        .collect();
    assert_eq!(hits.len(), 2, "{hits:?}");
    let waited = hits[1].at.duration_since(hits[0].at);
    assert!(
        waited >= Duration::from_secs(2),
        "retried after {waited:?}, before Retry-After expired"
    );

    // A host that keeps answering "retry after 0 s": retried `max_retries` times like any
    // other transient failure, not until the request budget is gone.
    let (site3, posts3) = site_with_posts(2, 4300);
    let busy_path = posts3[0].path();
    site3.set(
        &busy_path,
        Resp::Limited {
            times: 100,
            status: 503,
            retry_after: "0".into(),
            then: Box::new(Resp::Html(classic_post(&site3.base(), &posts3[0]))),
        },
    );
    let dir3 = tempfile::tempdir().unwrap();
    let cfg3 = write_config(
        dir3.path(),
        &config(&site3, "max_retries = 1\nmax_requests = 10", ""),
    );
    let (code, _, stderr) = feedwright(&cfg3, &["run"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        site3.requests().iter().filter(|p| **p == busy_path).count(),
        2,
        "one try and one retry: {:?}",
        site3.requests()
    );
    assert!(stderr.contains("site: 1 new"), "{stderr}");

    // A week-long Retry-After: the source is skipped for this run, at once. The same answer on
    // robots.txt skips the host the same way, instead of reading as a robots.txt that
    // disallows everything.
    for (path, status, first_id) in [("/cat/", 503, 4100), ("/robots.txt", 429, 4200)] {
        let site2 = Site::start();
        publish(&site2, &numbered_posts(2, first_id));
        site2.set(
            path,
            Resp::Limited {
                times: 100,
                status,
                retry_after: "604800".into(),
                then: Box::new(Resp::Status(500)),
            },
        );
        let dir2 = tempfile::tempdir().unwrap();
        let cfg2 = write_config(dir2.path(), &config(&site2, "max_retries = 3", ""));
        let t0 = Instant::now();
        let (code, _, stderr) = feedwright(&cfg2, &["run"]);
        assert_eq!(code, 1, "{path}: {stderr}");
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "{path}: did not wait a week"
        );
        assert!(stderr.contains("max_retry_after_secs"), "{path}: {stderr}");
        assert!(!stderr.contains("disallowed"), "{path}: {stderr}");
        assert_eq!(
            site2.requests().iter().filter(|p| *p == path).count(),
            1,
            "{path}: no retry: {:?}",
            site2.requests()
        );
        if path == "/robots.txt" {
            assert_eq!(site2.requests(), ["/robots.txt"], "nothing else");
        }
    }
}

#[test]
fn slow_drip_and_listing_level_failures_are_reported() {
    let (site, posts) = site_with_posts(12, 6000);
    // Page 2 drips its body slower than the timeout allows.
    site.set(
        "/cat/page/2/",
        Resp::Drip {
            chunks: 20,
            delay: Duration::from_millis(400),
        },
    );
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &config(&site, "", ""));
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 1, "{stderr}");
    let line = stderr
        .lines()
        .find(|l| l.contains("/cat/page/2/"))
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(line.contains("timed out"), "{line}");
    assert!(
        stderr.contains("site: 10 new"),
        "page 1's posts are still stored: {stderr}"
    );
    // Page 2 recovers: the next run reads page 1 again (its validators were not kept) and goes on.
    publish(&site, &posts);
    let before = site.hits().len();
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("site: 2 new"),
        "{stderr}\n{:?}",
        &site.hits()[before..]
    );
}

#[test]
fn a_redesign_that_hides_every_post_marks_the_source_degraded_and_keeps_the_feed() {
    let (site, _) = site_with_posts(5, 7000);
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &config(&site, "", ""));
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    let atom = std::fs::read(dir.path().join("out/main/atom.xml")).unwrap();
    // New theme: the listing no longer has post links the extractor recognises.
    site.set(
        "/cat/",
        Resp::Html(
            "<html><body><main><div class=\"tile\">Post number 7005</div></main></body></html>"
                .into(),
        ),
    );
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("degraded"), "{stderr}");
    assert_eq!(
        std::fs::read(dir.path().join("out/main/atom.xml")).unwrap(),
        atom,
        "feed kept"
    );
    let (code, stdout, _) = feedwright(&cfg, &["status"]);
    assert_eq!(code, 0);
    let row = stdout
        .lines()
        .find(|l| l.starts_with("site"))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(
        row.contains("degraded") && row.contains("no post links"),
        "{row}"
    );
    // Warned once per day, not once per run.
    let (_, _, stderr) = feedwright(&cfg, &["run"]);
    assert!(!stderr.contains("source looks degraded"), "{stderr}");
}

/// The same post page after a redesign that dropped the byline: no author anywhere.
fn without_byline(base: &str, p: &Post) -> String {
    let page = classic_post(base, p);
    let byline = format!(
        r#"<span class="byline"><span class="author vcard"><a class="url fn n" href="{base}/author/x/">{}</a></span></span>"#,
        p.author
    );
    assert!(page.contains(&byline), "classic_post changed its byline");
    page.replace(&byline, "")
}

/// Outcomes are stored 32 per transaction while the run goes on, but an update of a post stored
/// before must wait for the drift verdict, which needs every outcome of the run. Here a redesign
/// drops the author from every page while 40 new posts appear and the 5 known posts are edited:
/// a batch of new posts is committed while the re-checked known posts are held, and the verdict
/// (degraded) must still keep their last good version. Were the updates stored with the batch
/// they arrived in, the known posts would lose their author and take the edit.
#[test]
fn a_degraded_run_keeps_known_posts_even_when_a_batch_commits_before_the_verdict() {
    let (site, known) = site_with_posts(5, 7000);
    let base = site.base();
    let dir = tempfile::tempdir().unwrap();
    // Every known post is re-checked on every run. The per-host limit leaves room for the posts
    // held back below, with the re-checks and the listing pages beside them; the timeout is
    // longer than the hold.
    let body = config(
        &site,
        "per_host_concurrency = 32",
        "recheck_days = 36500\nrecheck_hours = 0",
    )
    .replace("timeout_secs = 3", "timeout_secs = 20");
    assert!(body.contains("timeout_secs = 20"), "{body}");
    let cfg = write_config(dir.path(), &body);
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("site: 5 new"), "{stderr}");
    let db = dir.path().join("feedwright.db");
    let stored = || {
        feedwright::store::Store::open_read_only(&db)
            .and_then(|s| s.entries(&["site".to_string()], &[], usize::MAX))
            .unwrap()
    };
    let good = stored();
    assert_eq!(good.len(), 5);
    assert!(
        good.iter().all(|e| e.authors == ["Miriam Brenner"]),
        "{good:?}"
    );

    // The redesign: no byline on any page. The known posts were edited, so a healthy run would
    // update them; 40 new posts (newer, first in the listing) appear on four listing pages.
    let mut edited = known.clone();
    for p in &mut edited {
        p.body = format!("<p>Corrected after the redesign: {}.</p>", p.title);
    }
    let mut fresh = numbered_posts(40, 8000);
    for p in &mut fresh {
        p.date = p.date.replacen("2024-", "2025-", 1);
    }
    let all: Vec<Post> = fresh.iter().chain(&edited).cloned().collect();
    publish(&site, &all);
    let since = site.hits().len();
    let rechecked: Vec<String> = edited.iter().map(Post::path).collect();
    for p in &edited {
        site.set(&p.path(), Resp::Html(without_byline(&base, p)));
    }
    // Re-checks are queued after the listing's posts, so left alone they would arrive last, in
    // the batch stored after the verdict anyway, and this test could not tell held updates from
    // updates stored as they come. Half of the new posts are therefore answered only once every
    // known post was: the known posts' outcomes arrive when 20 new ones have, and the 32nd new
    // outcome (a committed batch) comes after them, before the verdict. (Were the known posts
    // never re-checked, the held posts would be answered 503 and counted as failed.)
    let (early, late) = fresh.split_at(20);
    for p in early {
        site.set(&p.path(), Resp::Html(without_byline(&base, p)));
    }
    for p in late {
        site.set(
            &p.path(),
            Resp::After {
                paths: rechecked.clone(),
                since,
                then: Box::new(Resp::Html(without_byline(&base, p))),
            },
        );
    }

    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 1, "a degraded source fails the run: {stderr}");
    assert!(
        stderr.contains("site: 40 new, 0 updated, 5 unchanged, 0 failed"),
        "{stderr}"
    );
    assert!(
        stderr.contains("degraded: author found on 0% of the posts extracted in this run"),
        "{stderr}"
    );
    // The known posts were fetched in full (the edit was seen), not answered 304.
    let hits = site.hits()[since..].to_vec();
    for path in &rechecked {
        assert!(
            hits.iter().any(|h| h.path == *path && h.status == 200),
            "{path} not re-checked: {hits:?}"
        );
    }

    // The store keeps the last good version of each known post; the new ones are stored.
    let now = stored();
    assert_eq!(now.len(), 45, "{stderr}");
    for before in &good {
        let after = now.iter().find(|e| e.id == before.id).unwrap();
        assert_eq!(after, before, "a known post changed in a degraded run");
    }
    for p in &fresh {
        let url = format!("{base}{}", p.path());
        let e = now
            .iter()
            .find(|e| e.url == url)
            .unwrap_or_else(|| panic!("{url} not stored"));
        assert!(e.content_html.contains(&p.title), "{e:?}");
    }

    // So do the feeds.
    let feed = feed_rs::parser::parse(
        std::fs::read(dir.path().join("out/main/atom.xml"))
            .unwrap()
            .as_slice(),
    )
    .unwrap();
    assert_eq!(feed.entries.len(), 45);
    for before in &good {
        let e = feed
            .entries
            .iter()
            .find(|e| e.id == before.id.0)
            .unwrap_or_else(|| panic!("{} not in the feed", before.url));
        let authors: Vec<_> = e.authors.iter().map(|a| a.name.as_deref()).collect();
        assert_eq!(authors, [Some("Miriam Brenner")], "{}", before.url);
        let content = e.content.as_ref().and_then(|c| c.body.clone()).unwrap();
        assert!(
            content.contains("Delegations met") && !content.contains("Corrected"),
            "{}: {content}",
            before.url
        );
    }
}

#[test]
fn an_interrupted_backfill_resumes_and_stores_every_post_once() {
    let (site, _) = site_with_posts(45, 8000);
    let dir = tempfile::tempdir().unwrap();
    // A small request budget interrupts the backfill the way a kill would, at a page boundary
    // or in the middle of one; the process is also killed outright once below.
    let cfg = write_config(dir.path(), &config(&site, "max_requests = 14", ""));
    let mut child = spawn_feedwright(&cfg, &["backfill"]);
    let t0 = Instant::now();
    while site
        .requests()
        .iter()
        .filter(|p| p.starts_with("/2024/"))
        .count()
        < 4
    {
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "backfill never started"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let mut rounds = 0;
    loop {
        rounds += 1;
        assert!(rounds < 20, "backfill never finished");
        let (code, _, stderr) = feedwright(&cfg, &["backfill", "site"]);
        assert!(code == 0 || code == 1, "{stderr}");
        if !stderr.contains("left for the next run") && code == 0 {
            break;
        }
    }
    let ids = atom_ids(dir.path());
    assert_eq!(ids.len(), 45, "every post exactly once");
    let unique: std::collections::HashSet<_> = ids.iter().collect();
    assert_eq!(unique.len(), 45);
    // Each post page was fetched once at most, apart from pages cut off by the kill.
    let fetched: Vec<_> = site
        .requests()
        .into_iter()
        .filter(|p| p.starts_with("/2024/"))
        .collect();
    let distinct: std::collections::HashSet<_> = fetched.iter().collect();
    assert!(
        fetched.len() <= distinct.len() + 4,
        "posts fetched again after resuming: {} of {}",
        fetched.len(),
        distinct.len()
    );
}

/// A backfill the request budget splits over several runs stores the archive newest first. Its
/// RFC 5005 pages are built once it is complete, oldest first: page 1 holds the oldest posts and
/// every page's posts are older than the next page's (archived run by run, each run's older
/// posts would follow newer ones, on pages that never change again). Until then each run says
/// what waits, and `status` says the backfill is not complete.
#[test]
fn a_backfill_split_by_the_budget_archives_oldest_first_once_complete() {
    let (site, _) = site_with_posts(45, 9000);
    let dir = tempfile::tempdir().unwrap();
    let text = config(&site, "max_requests = 14", "")
        .replace("limit = 1000", "limit = 5\narchive_page_size = 5");
    assert!(text.contains("archive_page_size = 5"), "{text}");
    let cfg = write_config(dir.path(), &text);
    let mut rounds = 0;
    let (mut held_said, mut status_said) = (false, false);
    loop {
        rounds += 1;
        assert!(rounds < 20, "backfill never finished");
        let (code, _, stderr) = feedwright(&cfg, &["backfill", "site"]);
        assert!(code == 0 || code == 1, "{stderr}");
        if code == 0 && !stderr.contains("left for the next run") {
            assert!(!stderr.contains("wait to be archived"), "{stderr}");
            break;
        }
        assert!(
            !dir.path().join("out/main/archive").exists(),
            "an archive page was built before the backfill was complete"
        );
        // Cut at a page boundary or inside a page, the run says where the next one goes on.
        assert!(
            stderr.contains("the next backfill continues at")
                || stderr.contains(
                    "the backfill is not complete: `feedwright backfill site` continues at"
                ),
            "{stderr}"
        );
        held_said |= stderr
            .contains("older entries wait to be archived until the backfill of site is complete");
        let (_, status, _) = feedwright(&cfg, &["status"]);
        status_said |= status.contains("source site: backfill NOT COMPLETE");
    }
    assert!(
        rounds > 2,
        "the budget split the backfill into {rounds} run(s)"
    );
    assert!(held_said, "no run said the archive waits");
    assert!(
        status_said,
        "status never said the backfill was not complete"
    );
    let (_, status, _) = feedwright(&cfg, &["status"]);
    assert!(!status.contains("NOT COMPLETE"), "{status}");

    let dates = |path: &std::path::Path| -> Vec<chrono::DateTime<chrono::Utc>> {
        let xml = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        feed_rs::parser::parse(xml.as_slice())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .entries
            .iter()
            .map(|e| e.published.expect("published"))
            .collect()
    };
    let mut pages = Vec::new();
    for n in 1.. {
        let path = dir.path().join(format!("out/main/archive/{n}.xml"));
        if !path.exists() {
            break;
        }
        pages.push(dates(&path));
    }
    pages.push(dates(&dir.path().join("out/main/atom.xml")));
    assert_eq!(pages.len(), 9, "8 archive pages of 5 and the head");
    assert_eq!(pages.iter().map(Vec::len).sum::<usize>(), 45);
    for (n, pair) in pages.windows(2).enumerate() {
        let newest = pair[0].iter().max().unwrap();
        let oldest_next = pair[1].iter().min().unwrap();
        assert!(
            newest < oldest_next,
            "archive page {} ends at {newest}, after page {} starts at {oldest_next}",
            n + 1,
            n + 2
        );
    }
}

/// The published dates of `out/main/archive/1.xml`, `2.xml`, … and last `atom.xml` below `dir`,
/// one list per document; asserts each document's posts are older than the next one's (page 1
/// the oldest).
fn archive_pages_in_date_order(dir: &std::path::Path) -> Vec<Vec<chrono::DateTime<chrono::Utc>>> {
    let dates = |path: &std::path::Path| -> Vec<chrono::DateTime<chrono::Utc>> {
        let xml = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        feed_rs::parser::parse(xml.as_slice())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .entries
            .iter()
            .map(|e| e.published.expect("published"))
            .collect()
    };
    let mut pages = Vec::new();
    for n in 1.. {
        let path = dir.join(format!("out/main/archive/{n}.xml"));
        if !path.exists() {
            break;
        }
        pages.push(dates(&path));
    }
    pages.push(dates(&dir.join("out/main/atom.xml")));
    for (n, pair) in pages.windows(2).enumerate() {
        let newest = pair[0].iter().max().unwrap();
        let oldest_next = pair[1].iter().min().unwrap();
        assert!(
            newest < oldest_next,
            "archive page {} ends at {newest}, after page {} starts at {oldest_next}",
            n + 1,
            n + 2
        );
    }
    pages
}

/// Run `backfill site` until it says it is complete; returns how many runs it took.
fn backfill_until_complete(cfg: &std::path::Path) -> usize {
    let mut rounds = 0;
    loop {
        rounds += 1;
        assert!(rounds < 20, "backfill never finished");
        let (code, _, stderr) = feedwright(cfg, &["backfill", "site"]);
        assert!(code == 0 || code == 1, "{stderr}");
        if code == 0 && !stderr.contains("left for the next run") {
            assert!(!stderr.contains("wait to be archived"), "{stderr}");
            return rounds;
        }
    }
}

/// A config for [`site_with_posts`] whose run reads one listing page, with a head of 10 and
/// archive pages of 5; `http` replaces the `[http]` lines after `min_interval_ms`.
fn small_archive_config(site: &Site, min_interval_ms: u32, http: &str) -> String {
    common::site_config(&site.url("/cat/"), http, "max_pages = 1")
        .replace("limit = 1000", "limit = 10\narchive_page_size = 5")
        .replace(
            "min_interval_ms = 0",
            &format!("min_interval_ms = {min_interval_ms}"),
        )
}

/// A backfill killed outright (SIGKILL) part-way, after a run stored the newest posts: what it
/// stored is recorded as history it found in the transaction that stores it, so the next run
/// leaves it unarchived, and once the backfill is complete the archive pages are in date order
/// (page 1 holds the oldest posts). Recorded only when the backfill returned, it was archived
/// by that run as it stood, newest first, and the rest of the history after it, for good.
#[test]
fn a_killed_backfill_keeps_what_it_stored_unarchived_until_complete() {
    let (site, _) = site_with_posts(60, 9700);
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &small_archive_config(&site, 0, ""));
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(archive_walk(dir.path()).len(), 10, "{stderr}");

    // Slowed down by a courtesy delay between requests, killed once it fetched 25 posts.
    write_config(dir.path(), &small_archive_config(&site, 100, ""));
    let fetched_before = site.requests().len();
    let posts_fetched = || {
        site.requests()[fetched_before..]
            .iter()
            .filter(|p| p.starts_with("/2024/"))
            .count()
    };
    let mut child = spawn_feedwright(&cfg, &["backfill", "site"]);
    let t0 = Instant::now();
    while posts_fetched() < 25 {
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "the backfill fetched {} posts",
            posts_fetched()
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the backfill ended before it was killed"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();

    write_config(dir.path(), &small_archive_config(&site, 0, ""));
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("older entries wait to be archived until the backfill of site is complete"),
        "{stderr}"
    );
    assert!(
        !dir.path().join("out/main/archive").exists(),
        "what the killed backfill stored was archived: {stderr}"
    );
    let (_, status, _) = feedwright(&cfg, &["status"]);
    assert!(
        status.contains("source site: backfill NOT COMPLETE"),
        "{status}"
    );

    backfill_until_complete(&cfg);
    let pages = archive_pages_in_date_order(dir.path());
    assert_eq!(pages.len(), 11, "10 archive pages of 5 and the head");
    assert_eq!(pages.iter().map(Vec::len).sum::<usize>(), 60);
}

/// A backfill the request budget stops inside a listing page leaves that page's other posts
/// pending "for the next run": history it found, so when a run stores them before the backfill
/// is complete they wait past the head too, instead of being archived at once as a page of
/// newer posts ahead of the older ones the backfill stores later.
#[test]
fn posts_a_backfill_left_for_the_next_run_wait_too() {
    let (site, _) = site_with_posts(60, 9800);
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &small_archive_config(&site, 0, ""));
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");

    write_config(
        dir.path(),
        &small_archive_config(&site, 0, "max_requests = 9"),
    );
    let (_, _, stderr) = feedwright(&cfg, &["backfill", "site"]);
    assert!(stderr.contains("post(s) left for the next run"), "{stderr}");

    // The run stores the posts left for it; they wait with the rest of the history.
    write_config(dir.path(), &small_archive_config(&site, 0, ""));
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("left for the next run"), "{stderr}");
    assert!(
        !dir.path().join("out/main/archive").exists(),
        "the posts the backfill left were archived by the run: {stderr}"
    );
    assert_eq!(archive_walk(dir.path()).len(), 10, "{stderr}");

    backfill_until_complete(&cfg);
    let pages = archive_pages_in_date_order(dir.path());
    assert_eq!(pages.len(), 11, "10 archive pages of 5 and the head");
    assert_eq!(pages.iter().map(Vec::len).sum::<usize>(), 60);
}

/// Every id met following `prev-archive` from `out/main/atom.xml` below `dir`, head first.
fn archive_walk(dir: &std::path::Path) -> Vec<String> {
    let mut ids = Vec::new();
    let mut next = Some(dir.join("out/main/atom.xml"));
    while let Some(path) = next.take() {
        let xml = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let feed = feed_rs::parser::parse(xml.as_slice()).unwrap();
        ids.extend(feed.entries.iter().map(|e| e.id.clone()));
        next = feed
            .links
            .iter()
            .find(|l| l.rel.as_deref() == Some("prev-archive"))
            .map(|l| {
                dir.join("out")
                    .join(l.href.trim_start_matches("http://feeds.test/"))
            });
    }
    ids
}

/// While a backfill is unfinished, only the history it found waits to be archived: the entries
/// published before it began that leave the head (new posts pushing them out) are archived as
/// usual, never missing from every document meanwhile.
#[test]
fn entries_published_before_a_backfill_stay_published_while_it_is_unfinished() {
    let (site, posts) = site_with_posts(45, 9500);
    let dir = tempfile::tempdir().unwrap();
    let url = site.url("/cat/");
    let text = |http: &str| {
        common::site_config(&url, http, "max_pages = 1")
            .replace("limit = 1000", "limit = 5\narchive_page_size = 5")
    };
    let cfg = write_config(dir.path(), &text(""));
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    let published = archive_walk(dir.path());
    assert_eq!(published.len(), 10, "{published:?}");

    // A backfill cut short by its budget, then three new posts and a run.
    let stored_new = |stderr: &str| -> usize {
        let at = stderr.find("site: ").expect("a summary line") + "site: ".len();
        stderr[at..].split(' ').next().unwrap().parse().unwrap()
    };
    write_config(dir.path(), &text("max_requests = 8"));
    let (_, _, stderr) = feedwright(&cfg, &["backfill", "site"]);
    assert!(
        stderr.contains("not complete") || stderr.contains("left for the next run"),
        "{stderr}"
    );
    assert!(stored_new(&stderr) > 0, "{stderr}");
    let mut more = numbered_posts(3, 9900);
    more.extend(posts.iter().cloned());
    publish(&site, &more);
    write_config(dir.path(), &text(""));
    // (The run also fetches the posts the backfill left for the next run: history the
    // backfill found, they wait with what it stored.)
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    let now = archive_walk(dir.path());
    for id in &published {
        assert!(
            now.contains(id),
            "{id} left every document: {now:?}\n{stderr}"
        );
    }
    assert!(stored_new(&stderr) >= 3, "{stderr}");
    assert_eq!(
        now.len(),
        published.len() + 3,
        "only what the backfill found waits, not the new posts: {now:?}\n{stderr}"
    );

    // Once the backfill is complete, every post is there exactly once.
    let (code, _, stderr) = feedwright(&cfg, &["backfill", "site"]);
    assert_eq!(code, 0, "{stderr}");
    let all = archive_walk(dir.path());
    let unique: std::collections::HashSet<_> = all.iter().collect();
    assert_eq!((all.len(), unique.len()), (48, 48), "{all:?}");
}

/// On a new store too: what a backfill cut short showed in the head, and the new posts that
/// push it out before the backfill is complete, stay published.
#[test]
fn what_an_unfinished_cold_backfill_showed_stays_published() {
    let (site, posts) = site_with_posts(45, 9600);
    let dir = tempfile::tempdir().unwrap();
    let url = site.url("/cat/");
    let text = |http: &str| {
        common::site_config(&url, http, "max_pages = 1")
            .replace("limit = 1000", "limit = 5\narchive_page_size = 5")
    };
    let cfg = write_config(dir.path(), &text("max_requests = 8"));
    let (_, _, stderr) = feedwright(&cfg, &["backfill", "site"]);
    assert!(stderr.contains("wait to be archived"), "{stderr}");
    let shown = archive_walk(dir.path());
    assert_eq!(shown.len(), 5, "{shown:?}");
    let mut more = numbered_posts(6, 9950);
    for (i, p) in more.iter_mut().enumerate() {
        p.date = format!("2024-07-20T12:{:02}:00+00:00", 59 - i);
    }
    let new_ids: Vec<String> = more
        .iter()
        .map(|p| format!("{}/?p={}", site.base(), p.id))
        .collect();
    more.extend(posts.iter().cloned());
    publish(&site, &more);
    write_config(dir.path(), &text(""));
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    let now = archive_walk(dir.path());
    for id in shown.iter().chain(&new_ids) {
        assert!(
            now.contains(id),
            "{id} is in no document: {now:?}\n{stderr}"
        );
    }
}

/// A backfill reads each listing page once: the first one, fetched to look for a REST API, is
/// the walk's first page too.
#[test]
fn a_cold_backfill_reads_each_listing_page_once() {
    let (site, _) = site_with_posts(25, 6700);
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &config(&site, "", ""));
    let (code, _, stderr) = feedwright(&cfg, &["backfill"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("site: 25 new"), "{stderr}");
    let listing: Vec<String> = site
        .requests()
        .into_iter()
        .filter(|p| p.starts_with("/cat/"))
        .collect();
    assert_eq!(
        listing,
        ["/cat/", "/cat/page/2/", "/cat/page/3/"],
        "{listing:?}"
    );
}

/// Posts not stored are not all new: a first read with `max_pages = 1` left the older pages
/// unread, and `max_pages` raised later makes the walk meet them. Those are not a gap to read
/// on through (the newest stored posts are on page 1): the walk stops at `max_pages`. A gap
/// wider than `max_pages` pages again is read that far, and said, naming `backfill`.
#[test]
fn only_a_gap_since_the_last_run_is_read_past_max_pages() {
    let (site, posts) = site_with_posts(60, 6800);
    let dir = tempfile::tempdir().unwrap();
    let url = site.url("/cat/");
    let cfg = write_config(dir.path(), &common::site_config(&url, "", "max_pages = 1"));
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("site: 10 new"), "{stderr}");
    let mut more = numbered_posts(1, 6900);
    more.extend(posts.iter().cloned());
    publish(&site, &more);
    write_config(dir.path(), &common::site_config(&url, "", "max_pages = 3"));
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        !site.requests().iter().any(|p| p.starts_with("/cat/page/4")),
        "read past max_pages without a gap: {stderr}"
    );

    // 80 new posts: eight pages of them, more than max_pages (3) and as many again.
    let mut most = numbered_posts(80, 7100);
    most.extend(more);
    publish(&site, &most);
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("site: 60 new"), "{stderr}");
    assert!(
        stderr.contains("listing page 6 still shows only posts not stored")
            && stderr.contains("`feedwright backfill site` reads them"),
        "{stderr}"
    );
}

/// A sticky post (the newest stored one, pinned at the top of page 1 above the new posts) is
/// not where the last read began: the gap behind it is still read.
#[test]
fn a_sticky_post_does_not_hide_a_gap() {
    let (site, posts) = site_with_posts(15, 6400);
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        &common::site_config(&site.url("/cat/"), "", "max_pages = 2"),
    );
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    let mut new_posts = numbered_posts(35, 6600);
    for (i, p) in new_posts.iter_mut().enumerate() {
        p.date = format!("2024-07-20T12:{:02}:00+00:00", 59 - i);
    }
    let mut listed = vec![posts[0].clone()];
    listed.extend(new_posts);
    listed.extend(posts.iter().cloned());
    publish(&site, &listed);
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("site: 35 new"), "{stderr}");
}

/// A request budget too small for a backfill to store anything: it would start and stop at the
/// same place on every run, so the run says to raise it.
#[test]
fn a_backfill_that_cannot_move_on_says_to_raise_the_budget() {
    let (site, _) = site_with_posts(15, 6500);
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &config(&site, "max_requests = 1", ""));
    let said = "the request budget ran out before a single post was stored (http.max_requests = 1)";
    let (_, _, first) = feedwright(&cfg, &["backfill", "site"]);
    assert!(
        !first.contains(said),
        "the first run moved from nowhere: {first}"
    );
    let (_, _, second) = feedwright(&cfg, &["backfill", "site"]);
    assert!(second.contains(said), "{second}");
    // With a budget that lets it move, it does, and says nothing of the kind.
    write_config(dir.path(), &config(&site, "max_requests = 6", ""));
    let (_, _, third) = feedwright(&cfg, &["backfill", "site"]);
    assert!(!third.contains("ran out before a single post"), "{third}");
    assert!(
        third.contains("site: 4 new") || third.contains("site: 5 new"),
        "{third}"
    );
}

/// More posts came out between two runs than `max_pages` listing pages show: the run reads on
/// past `max_pages` until a page shows a stored post, so none is lost (the next run's first
/// pages would hold only stored posts, and those past them would never be read). When the
/// request budget cuts that short, the run says so and names `backfill`, which fetches them.
#[test]
fn more_new_posts_than_max_pages_show_are_all_read() {
    let (site, posts) = site_with_posts(15, 6000);
    let dir = tempfile::tempdir().unwrap();
    let url = site.url("/cat/");
    let cfg = write_config(dir.path(), &common::site_config(&url, "", "max_pages = 2"));
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("site: 15 new"), "{stderr}");

    // 35 new posts: listing pages 1 to 3 hold only new ones, page 4 the first stored ones.
    let mut more = numbered_posts(35, 7000);
    more.extend(posts.iter().cloned());
    publish(&site, &more);
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("site: 35 new"), "{stderr}");
    assert_eq!(atom_ids(dir.path()).len(), 50);
    assert!(
        !site.requests().iter().any(|p| p.starts_with("/cat/page/5")),
        "the walk stops at the first page showing a stored post"
    );

    // 35 more, with a budget too small for them: said, with what to do.
    let mut most = numbered_posts(35, 8000);
    most.extend(more);
    publish(&site, &most);
    write_config(
        dir.path(),
        &common::site_config(&url, "max_requests = 4", "max_pages = 2"),
    );
    let (_, _, stderr) = feedwright(&cfg, &["run"]);
    assert!(
        stderr.contains("more posts came out since the last run than this run's request budget")
            && stderr.contains("`feedwright backfill site` fetches them"),
        "{stderr}"
    );
    // The backfill it names fetches the rest.
    let (code, _, stderr) = feedwright(&cfg, &["backfill", "site"]);
    assert!(code == 0 || code == 1, "{stderr}");
    write_config(dir.path(), &common::site_config(&url, "", "max_pages = 2"));
    let (code, _, stderr) = feedwright(&cfg, &["backfill", "site"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(atom_ids(dir.path()).len(), 85);
}

/// A config re-checking every stored post on every run (`html_config`), after a first run that
/// stored the site's `n` posts.
fn stored_with_rechecks(site: &Site, n: usize) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        &common::html_config(&site.url("/cat/"), "respect_robots = false"),
    );
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains(&format!("site: {n} new")), "{stderr}");
    (dir, cfg)
}

/// Regression: a post fetched for the first time saved no validators, so its first re-check was
/// a full download instead of a 304.
#[test]
fn the_first_recheck_of_a_new_post_is_conditional() {
    let (site, posts) = site_with_posts(3, 7000);
    let (_dir, cfg) = stored_with_rechecks(&site, 3);

    // html_config re-checks every known post on every run.
    let before = site.hits().len();
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    let rechecks: Vec<_> = site.hits()[before..]
        .iter()
        .filter(|h| posts.iter().any(|p| p.path() == h.path))
        .cloned()
        .collect();
    assert_eq!(rechecks.len(), 3, "every post re-checked: {rechecks:?}");
    assert!(
        rechecks.iter().all(|h| h.conditional && h.status == 304),
        "{rechecks:?}"
    );
}

/// A stored post deleted from the site (its re-check answers 404) is reported as skipped on
/// every run, never as a failure, and keeps its entry. It used to fail one run and be dropped
/// from the retries the next, so the exit code alternated.
#[test]
fn a_deleted_post_is_skipped_on_every_recheck_not_failed() {
    let (site, posts) = site_with_posts(3, 7100);
    let (dir, cfg) = stored_with_rechecks(&site, 3);

    // Deleted, while the listing still links it.
    let gone = &posts[1];
    site.set(&gone.path(), Resp::Status(404));
    let url = site.url(&gone.path());
    for run in 2..=4 {
        let before = site.hits().len();
        let (code, _, stderr) = feedwright(&cfg, &["run"]);
        assert_eq!(code, 0, "run {run}: {stderr}");
        assert!(
            site.hits()[before..].iter().any(|h| h.path == gone.path()),
            "run {run}: re-checked"
        );
        let line = stderr
            .lines()
            .find(|l| l.contains(&url))
            .unwrap_or_else(|| panic!("run {run}: {stderr}"));
        assert!(
            line.contains("skipped") && line.contains("gone (HTTP status 404)"),
            "run {run}: {line}"
        );
        assert!(stderr.contains(", 0 failed;"), "run {run}: {stderr}");
    }
    let feed = std::fs::read_to_string(dir.path().join("out/main/feed.json")).unwrap();
    assert!(feed.contains(&gone.title), "the entry is kept: {feed}");

    // A stored post whose re-check failed (so it is pending) and which is then deleted is
    // gone on re-check too, not a post that never made it into the store.
    let flaky = &posts[2];
    site.set(&flaky.path(), Resp::Status(500));
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 1, "{stderr}");
    site.set(&flaky.path(), Resp::Status(410));
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    let url = site.url(&flaky.path());
    let line = stderr
        .lines()
        .find(|l| l.contains(&url))
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(
        line.contains("gone (HTTP status 410) on re-check"),
        "{line}"
    );
}

/// `status` names what failed last: a listing page is not called a post, and the first failure
/// is shown with its reason.
#[test]
fn status_names_the_first_failure_of_the_last_run() {
    let (site, _) = site_with_posts(PER_PAGE + 2, 7200);
    site.set("/cat/page/2/", Resp::Status(500));
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &config(&site, "respect_robots = false", ""));
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 1, "{stderr}");
    let (code, stdout, _) = feedwright(&cfg, &["status"]);
    assert_eq!(code, 0);
    let row = stdout
        .lines()
        .find(|l| l.starts_with("site"))
        .unwrap_or_else(|| panic!("{stdout}"));
    let page = site.url("/cat/page/2/");
    assert!(
        row.contains(&format!("1 failed, first {page}: HTTP status 500")),
        "{row}"
    );
}

/// Posts are fetched while the listing walk goes on, but the walk keeps first claim on the
/// request budget: a budget too small for every post still reads every listing page, the posts
/// it cannot afford are left for the next run, and the runs that follow store each post once.
#[test]
fn the_listing_walk_keeps_first_claim_on_a_small_budget() {
    let (site, _) = site_with_posts(45, 9000);
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &config(&site, "max_requests = 14", ""));

    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert!(code == 0 || code == 1, "{stderr}");
    assert!(stderr.contains("left for the next run"), "{stderr}");
    let first = site.requests();
    for page in [
        "/cat/",
        "/cat/page/2/",
        "/cat/page/3/",
        "/cat/page/4/",
        "/cat/page/5/",
    ] {
        assert!(
            first.iter().any(|p| p == page),
            "listing page {page} not read: {first:?}"
        );
    }
    let sent = first.iter().filter(|p| *p != "/robots.txt").count();
    assert!(sent <= 14, "budget of 14 exceeded: {first:?}");
    assert!(
        first.iter().any(|p| p.starts_with("/2024/")),
        "no post fetched within the budget: {first:?}"
    );

    let mut rounds = 1;
    while stderr_of(&cfg).contains("left for the next run") {
        rounds += 1;
        assert!(rounds < 20, "the posts were never all fetched");
    }
    let ids = atom_ids(dir.path());
    let unique: std::collections::HashSet<_> = ids.iter().collect();
    assert_eq!(
        (ids.len(), unique.len()),
        (45, 45),
        "every post exactly once"
    );
    let fetched: Vec<_> = site
        .requests()
        .into_iter()
        .filter(|p| p.starts_with("/2024/"))
        .collect();
    let distinct: std::collections::HashSet<_> = fetched.iter().collect();
    assert_eq!(fetched.len(), distinct.len(), "a post was fetched twice");
}

/// One `run`; its stderr.
fn stderr_of(cfg: &std::path::Path) -> String {
    let (code, _, stderr) = feedwright(cfg, &["run"]);
    assert!(code == 0 || code == 1, "{stderr}");
    stderr
}

/// Outcomes are committed in batches while the walk goes on. A run killed after a batch was
/// committed must not leave the posts it had seen on later listing pages behind: the next run
/// walks the whole listing again instead of stopping at the (now stored) first page.
#[test]
fn a_run_killed_after_storing_some_posts_is_followed_by_a_full_walk() {
    let (site, posts) = site_with_posts(45, 11000);
    // The posts of the last listing pages hang until the client gives up (after 3 s).
    let slow = &posts[37..];
    for p in slow {
        site.set(&p.path(), Resp::Slow(Duration::from_secs(30)));
    }
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &config(&site, "", ""));
    let db = dir.path().join("feedwright.db");
    let mut child = spawn_feedwright(&cfg, &["run"]);
    let t0 = Instant::now();
    let stored = || {
        feedwright::store::Store::open_read_only(&db)
            .and_then(|s| s.entry_count("site"))
            .unwrap_or(0)
    };
    while stored() < 32 {
        assert!(t0.elapsed() < Duration::from_secs(20), "no batch committed");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    // What makes the case: the slow posts were neither stored nor recorded as pending.
    let pending = feedwright::store::Store::open_read_only(&db)
        .and_then(|s| s.pending("site"))
        .unwrap();
    assert!(pending.is_empty(), "killed too late: {pending:?}");
    let before = stored();
    assert!(
        (32..45).contains(&before),
        "{before} posts stored before the kill"
    );

    for p in slow {
        site.set(&p.path(), Resp::Html(classic_post(&site.base(), p)));
    }
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    let ids = atom_ids(dir.path());
    let unique: std::collections::HashSet<_> = ids.iter().collect();
    assert_eq!((ids.len(), unique.len()), (45, 45), "{stderr}");
}

/// A listing whose last page links back to its first (`rel=next` in a cycle): the backfill ends
/// when it meets a page it already read, instead of walking the cycle until the request budget
/// is gone and saving its resume point inside it.
#[test]
fn a_backfill_ends_at_a_next_link_back_to_a_page_it_read() {
    let site = Site::start();
    let base = site.base();
    let posts = numbered_posts(6, 8500);
    for p in &posts {
        site.set(&p.path(), Resp::Html(classic_post(&base, p)));
    }
    let paths = ["/cat/", "/cat/page/2/", "/cat/page/3/"];
    for (i, chunk) in posts.chunks(2).enumerate() {
        let links: Vec<(String, String)> = chunk
            .iter()
            .map(|p| (format!("{base}{}", p.path()), p.title.clone()))
            .collect();
        // The last page's next link goes back to the first.
        let next = format!("{base}{}", paths[(i + 1) % paths.len()]);
        site.set(paths[i], Resp::Html(listing(&base, &links, Some(&next))));
    }
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &config(&site, "max_requests = 100", ""));
    let (code, _, stderr) = feedwright(&cfg, &["backfill"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("backfill complete after 3 page(s)"),
        "{stderr}"
    );
    // Each page once (the first, read looking for a REST API, is the walk's first page).
    for (path, times) in [(paths[0], 1), (paths[1], 1), (paths[2], 1)] {
        assert_eq!(
            site.requests().iter().filter(|p| *p == path).count(),
            times,
            "{path}: {:?}",
            site.requests()
        );
    }
    assert_eq!(atom_ids(dir.path()).len(), 6);
}

/// A feed that ignores `?paged=N` and stamps every answer with a new build date: its pages
/// differ byte for byte but hold the same items. The backfill ends at the first page without
/// an item it has not met, instead of asking for `paged=3`, `4`, … until the budget is gone.
#[test]
fn a_feed_backfill_ends_at_a_page_with_nothing_new() {
    let site = Site::start();
    let base = site.base();
    let rss = |built: &str| {
        let items: String = (1..=2)
            .map(|i| {
                format!(
                    "<item><title>Item {i}</title><link>{base}/2024/01/0{i}/item-{i}/</link>\
                     <pubDate>Tue, 0{i} Jan 2024 10:00:00 +0000</pubDate>\
                     <description>Item {i}.</description></item>"
                )
            })
            .collect();
        Resp::Bytes {
            content_type: "application/rss+xml; charset=UTF-8".into(),
            body: format!(
                r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Site</title><link>{base}/</link><description>d</description>
<lastBuildDate>{built}</lastBuildDate>{items}</channel></rss>"#
            )
            .into_bytes(),
            headers: vec![],
        }
    };
    // Any other `paged` falls back to the /feed/ route: the first page again, a third build.
    site.set("/feed/", rss("Wed, 03 Jan 2024 10:00:00 +0000"));
    site.set("/feed/?paged=2", rss("Wed, 03 Jan 2024 10:00:01 +0000"));
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        &common::html_config(&site.url("/feed/"), "respect_robots = false"),
    );
    let (code, _, stderr) = feedwright(&cfg, &["backfill"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        !site.requests().iter().any(|p| p.contains("paged=3")),
        "{:?}",
        site.requests()
    );
    assert!(
        stderr.contains("backfill complete after 2 page(s)"),
        "{stderr}"
    );
}

/// A source's own URL is conditional on what that source last read there: a second source on
/// the same listing is not answered "not modified" with what another source read, and publishes
/// the posts; a renamed source keeps what it read under its old name (its validators with the
/// rest of its history), so its first read under the new name is conditional.
#[test]
fn a_second_source_on_one_url_reads_it_in_full_and_a_renamed_one_keeps_its_validators() {
    let (site, _) = site_with_posts(3, 9000);
    let dir = tempfile::tempdir().unwrap();
    let two = |first: &str, second: Option<&str>| {
        let mut c =
            config(&site, "", "").replace("name = \"site\"", &format!("name = \"{first}\""));
        c = c.replace("sources = [\"site\"]", &format!("sources = [\"{first}\"]"));
        if let Some(second) = second {
            c.push_str(&format!(
                "[[source]]\nname = \"{second}\"\nurl = \"{}\"\nkind = \"html\"\n\
                 [[feed]]\nname = \"{second}\"\nsources = [\"{second}\"]\n",
                site.url("/cat/")
            ));
        }
        c
    };
    let cfg = write_config(dir.path(), &two("old", None));
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("old: 3 new"), "{stderr}");
    // Renamed, and a second source (of another kind) on the same listing.
    let cfg = write_config(dir.path(), &two("renamed", Some("second")));
    // A run, and the requests for the listing it made.
    let run = || {
        let before = site.hits().len();
        let (code, _, stderr) = feedwright(&cfg, &["run"]);
        assert_eq!(code, 0, "{stderr}");
        let listing: Vec<_> = site.hits()[before..]
            .iter()
            .filter(|h| h.path == "/cat/")
            .cloned()
            .collect();
        (stderr, listing)
    };
    let (stderr, listing) = run();
    assert!(
        stderr.contains("source old is now renamed: 3 posts carried over"),
        "{stderr}"
    );
    let answers: Vec<(bool, u16)> = listing.iter().map(|h| (h.conditional, h.status)).collect();
    assert_eq!(
        answers,
        [(true, 304), (false, 200)],
        "the renamed source asks with its validators, the second reads in full"
    );
    // (The renamed source's feed keeps its name, "main".)
    for feed in ["main", "second"] {
        assert!(
            !stderr.contains(&format!("feed {feed}: no entries yet")),
            "{stderr}"
        );
        let atom = std::fs::read_to_string(dir.path().join(format!("out/{feed}/atom.xml")))
            .unwrap_or_else(|e| panic!("{feed}: {e}\n{stderr}"));
        assert_eq!(atom.matches("<entry>").count(), 3, "{feed}: {atom}");
    }
    // Now each source's own validators make the next run one 304 each.
    let (_, listing) = run();
    assert!(
        listing.len() == 2 && listing.iter().all(|h| h.status == 304),
        "{listing:?}"
    );
}

/// A post that fails when the store cannot keep it for a retry either (a trigger refuses it
/// here, as a locked or full store would) keeps the run's validators from being saved: the next
/// run reads the listing in full and finds the post, instead of a 304 that hides it until the
/// listing changes.
#[test]
fn a_failed_post_the_store_cannot_keep_pending_is_found_again_next_run() {
    let site = Site::start();
    let base = site.base();
    let (a, b) = (
        Post::new(1, "a", "Post A", "2024-05-02T09:30:00+00:00"),
        Post::new(2, "b", "Post B", "2024-05-03T09:30:00+00:00"),
    );
    let link = |p: &Post| (format!("{base}{}", p.path()), p.title.clone());
    site.set("/cat/", Resp::Html(listing(&base, &[link(&a)], None)));
    site.set(&a.path(), Resp::Html(classic_post(&base, &a)));
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &html_config(&site.url("/cat/"), ""));
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");

    let db = rusqlite::Connection::open(dir.path().join("state/feedwright.db")).unwrap();
    db.execute_batch(
        "CREATE TRIGGER refuse BEFORE INSERT ON pending BEGIN SELECT RAISE(FAIL, 'disk full'); END;",
    )
    .unwrap();
    site.set(
        "/cat/",
        Resp::Html(listing(&base, &[link(&b), link(&a)], None)),
    );
    site.set(&b.path(), Resp::Status(500));
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("cannot record pending"), "{stderr}");

    db.execute_batch("DROP TRIGGER refuse;").unwrap();
    site.set(&b.path(), Resp::Html(classic_post(&base, &b)));
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    let ids = atom_ids(dir.path());
    assert!(ids.iter().any(|id| id.contains("p=2")), "{ids:?}\n{stderr}");
}

/// The `status` row of source `site`.
fn status_row(cfg: &std::path::Path) -> String {
    let (code, stdout, _) = feedwright(cfg, &["status"]);
    assert_eq!(code, 0);
    stdout
        .lines()
        .find(|l| l.starts_with("site"))
        .unwrap_or_else(|| panic!("{stdout}"))
        .to_owned()
}

/// A redesign leaves the listing without post links the defaults recognise: degraded. The
/// operator adds `[source.selectors] item_link` for the new markup: the next run reads the
/// listing again in full (not a 304 on the page read while degraded), finds its posts (all
/// stored already, so nothing is extracted), and the source is healthy again.
#[test]
fn fixing_the_selectors_of_a_degraded_source_takes_effect_on_the_next_run() {
    let (site, posts) = site_with_posts(5, 7100);
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &config(&site, "", ""));
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    let tiles: String = posts
        .iter()
        .map(|p| {
            format!(
                "<div class=\"tile\"><a class=\"hd\" href=\"{}\">{}</a></div>",
                site.url(&p.path()),
                p.title
            )
        })
        .collect();
    site.set(
        "/cat/",
        Resp::Html(format!("<html><body><main>{tiles}</main></body></html>")),
    );
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(status_row(&cfg).contains("degraded"));

    let fixed = config(
        &site,
        "",
        "[source.selectors]\nitem_link = \"div.tile a.hd\"",
    );
    std::fs::write(&cfg, fixed).unwrap();
    let before = site.hits().len();
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    let listing = site.hits()[before..]
        .iter()
        .find(|h| h.path == "/cat/")
        .cloned()
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(!listing.conditional, "read in full while degraded");
    assert!(
        stderr.contains("listing gives post links again"),
        "{stderr}"
    );
    let row = status_row(&cfg);
    assert!(row.contains("healthy"), "{row}");
}

/// A new post dated a little ahead of our clock (a site whose clock runs fast) has its date
/// clamped to the fetch, but a date was found: no "date found on 0% of the posts" alarm.
#[test]
fn a_post_dated_a_little_ahead_is_no_sign_of_a_redesign() {
    let (site, mut posts) = site_with_posts(3, 7200);
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &config(&site, "", ""));
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    let ahead = (chrono::Utc::now() + chrono::Duration::seconds(40)).to_rfc3339();
    posts.insert(0, Post::new(7300, "post-7300", "Post number 7300", &ahead));
    publish(&site, &posts);
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("site: 1 new"), "{stderr}");
    assert!(!stderr.contains("degraded"), "{stderr}");
    assert!(status_row(&cfg).contains("healthy"));
}
