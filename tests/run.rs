//! End-to-end: the real binary against a fixture site served over HTTP on loopback.

mod common;

use std::io::Write;
use std::time::Duration;

use common::{
    Post, Resp, Site, block_post, classic_post, feedwright, html_config, jsonld_post, listing,
    spawn_feedwright, write_config,
};

fn read(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn parse_feed(path: &std::path::Path) -> feed_rs::model::Feed {
    feed_rs::parser::parse(std::fs::read(path).unwrap().as_slice())
        .unwrap_or_else(|e| panic!("{} does not parse: {e}", path.display()))
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// The site of the main scenario: good posts in three themes, awkward posts, and broken URLs.
struct Scenario {
    site: Site,
    good: Vec<Post>,
}

fn scenario() -> Scenario {
    let site = Site::start();
    let base = site.base();
    let mut good = Vec::new();
    let a = Post::new(
        101,
        "classic-post",
        "Classic post & friends",
        "2024-05-01T09:00:00+00:00",
    );
    site.set(&a.path(), Resp::Html(classic_post(&base, &a)));
    let mut b = Post::new(
        102,
        "block-post",
        "Block theme post",
        "2024-05-02T10:00:00+02:00",
    );
    b.categories = vec!["International Negotiation".into(), "Mediation".into()];
    site.set(&b.path(), Resp::Html(block_post(&base, &b)));
    let mut c = Post::new(
        103,
        "jsonld-post",
        "JSON-LD only post",
        "2024-05-03T08:30:00Z",
    );
    c.author = "Hiro Nakamura".into();
    site.set(&c.path(), Resp::Html(jsonld_post(&base, &c)));
    // windows-1252 bytes, declared in the HTTP header.
    let d = Post::new(104, "latin", "Café “quoted” menu", "2024-05-04T08:00:00Z");
    let latin_html = classic_post(&base, &d).replace("UTF-8", "windows-1252");
    let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(&latin_html);
    site.set(
        &d.path(),
        Resp::Bytes {
            content_type: "text/html; charset=windows-1252".into(),
            body: bytes.into_owned(),
            headers: vec![],
        },
    );
    // Hostile body.
    let mut e = Post::new(105, "hostile", "Hostile ]]> post", "2024-05-05T08:00:00Z");
    e.body = r#"<p>Safe text]]>&lt;x&gt; with a control char.</p><script>alert(1)</script>
<img src="/img/a.png" onerror="alert(2)"><a href="javascript:alert(3)">click</a>
<iframe src="https://evil.test/"></iframe><a href="/relative/link/">relative</a>"#
        .replace("control char", "control \u{1} char");
    site.set(&e.path(), Resp::Html(classic_post(&base, &e)));
    // No date anywhere.
    let f = Post::new(106, "undated", "Undated post", "2024-05-06T08:00:00Z");
    let undated = classic_post(&base, &f)
        .replace(
            r#"<meta property="article:published_time" content="2024-05-06T08:00:00Z" />"#,
            "",
        )
        .replace(
            r#"<meta property="article:modified_time" content="2024-05-06T08:00:00Z" />"#,
            "",
        )
        .replace(
            r#"<time class="entry-date published" datetime="2024-05-06T08:00:00Z">Some day</time>"#,
            "",
        );
    assert!(
        !undated.contains("2024-05-06T08"),
        "fixture still carries a date"
    );
    site.set(&f.path(), Resp::Html(undated));
    // A date in the future.
    let g = Post::new(
        107,
        "future",
        "Post from the future",
        "2099-01-01T00:00:00Z",
    );
    site.set(&g.path(), Resp::Html(classic_post(&base, &g)));
    // A 2,000-character title.
    let long_title = "Negotiation ".repeat(170);
    let h = Post::new(108, "long-title", long_title.trim(), "2024-05-08T08:00:00Z");
    site.set(&h.path(), Resp::Html(classic_post(&base, &h)));
    good.extend([a, b, c, d, e, f, g, h]);

    site.set("/bad/500/", Resp::Status(500));
    site.set("/bad/404/", Resp::Status(404));
    site.set("/bad/slow/", Resp::Slow(Duration::from_secs(6)));
    site.set("/bad/loop/", Resp::Redirect("/bad/loop/".into()));
    site.set(
        "/bad/pdf/",
        Resp::Bytes {
            content_type: "application/pdf".into(),
            body: b"%PDF-1.4 not html".to_vec(),
            headers: vec![],
        },
    );
    site.set(
        "/bad/huge/",
        Resp::Html(format!("<html><body>{}</body></html>", "x".repeat(300_000))),
    );
    site.set(
        "/bad/bomb/",
        Resp::Bytes {
            content_type: "text/html".into(),
            body: gzip(&vec![b' '; 20_000_000]),
            headers: vec![("content-encoding".into(), "gzip".into())],
        },
    );
    site.set(
        "/bad/login/",
        Resp::Html(
            r#"<html><head><title>Log In ‹ Negotiation Notebook</title></head><body class="login">
<form name="loginform" id="loginform" action="/wp-login.php" method="post">
<input type="text" name="log"><input type="password" name="pwd"><input type="submit"></form></body></html>"#
                .into(),
        ),
    );
    let link = |p: &Post| (format!("{base}{}", p.path()), p.title.clone());
    let bad = |path: &str| (format!("{base}{path}"), format!("Broken {path}"));
    let page1: Vec<(String, String)> = good[..5]
        .iter()
        .map(link)
        .chain(["/bad/500/", "/bad/404/", "/bad/slow/", "/bad/loop/"].map(bad))
        .collect();
    let mut page2: Vec<(String, String)> = good[5..]
        .iter()
        .map(link)
        .chain(["/bad/pdf/", "/bad/huge/", "/bad/bomb/", "/bad/login/"].map(bad))
        .collect();
    // The same post again, under a tracking-parameter and fragment variant.
    page2.push((
        format!("{base}{}?utm_source=x#comments", good[0].path()),
        good[0].title.clone(),
    ));
    site.set(
        "/category/intl/",
        Resp::Html(listing(
            &base,
            &page1,
            Some(&format!("{base}/category/intl/page/2/")),
        )),
    );
    // Page 2's next link points back to page 1: the walk must end there.
    site.set(
        "/category/intl/page/2/",
        Resp::Html(listing(
            &base,
            &page2,
            Some(&format!("{base}/category/intl/")),
        )),
    );
    Scenario { site, good }
}

#[test]
fn run_publishes_good_posts_reports_bad_ones_and_stays_stable() {
    let sc = scenario();
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        &html_config(&sc.site.url("/category/intl/"), "max_body_bytes = 200000"),
    );
    let (code, stdout, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 1, "some posts fail, so exit 1\n{stderr}");
    assert!(stdout.is_empty(), "run prints nothing on stdout: {stdout}");
    assert!(
        stderr.contains("site: 8 new, 0 updated, 0 unchanged, 8 failed"),
        "{stderr}"
    );
    for (path, reason) in [
        ("/bad/500/", "500"),
        ("/bad/404/", "404"),
        ("/bad/slow/", "timed out"),
        ("/bad/loop/", "redirect"),
        ("/bad/pdf/", "not an html page"),
        ("/bad/huge/", "limit"),
        ("/bad/bomb/", "limit"),
        ("/bad/login/", "login"),
    ] {
        let line = stderr
            .lines()
            .find(|l| l.contains(&sc.site.url(path)))
            .unwrap_or_else(|| panic!("no line for {path}\n{stderr}"));
        assert!(line.to_lowercase().contains(reason), "{path}: {line}");
    }
    let requests = sc.site.requests();
    assert!(
        !requests
            .iter()
            .any(|r| r.contains("sidebar") || r.contains("about")),
        "{requests:?}"
    );
    assert_eq!(
        requests
            .iter()
            .filter(|r| r.starts_with("/category/intl/"))
            .count(),
        2,
        "each listing page once: {requests:?}"
    );

    let out = dir.path().join("out/main");
    let atom = parse_feed(&out.join("atom.xml"));
    let rss = parse_feed(&out.join("rss.xml"));
    let json = parse_feed(&out.join("feed.json"));
    for f in [&atom, &rss, &json] {
        assert_eq!(
            f.entries.len(),
            8,
            "one entry per good post, the duplicate URL merged"
        );
    }
    let title_of = |e: &feed_rs::model::Entry| {
        e.title
            .as_ref()
            .map(|t| t.content.clone())
            .unwrap_or_default()
    };
    let by_title = |t: &str| {
        atom.entries
            .iter()
            .find(|e| title_of(e).starts_with(t))
            .unwrap_or_else(|| {
                panic!(
                    "no entry titled {t}: {:?}",
                    atom.entries.iter().map(title_of).collect::<Vec<_>>()
                )
            })
    };
    let classic = by_title("Classic post & friends");
    assert_eq!(classic.authors[0].name.as_deref(), Some("Miriam Brenner"));
    assert_eq!(classic.id, sc.site.url("/?p=101"), "WordPress shortlink id");
    assert_eq!(classic.links[0].href, sc.site.url(&sc.good[0].path()));
    assert_eq!(
        classic.published.unwrap().to_rfc3339(),
        "2024-05-01T09:00:00+00:00"
    );
    let block = by_title("Block theme post");
    assert_eq!(
        block.published.unwrap().to_rfc3339(),
        "2024-05-02T08:00:00+00:00",
        "converted to UTC"
    );
    let cats: Vec<_> = block.categories.iter().map(|c| c.term.as_str()).collect();
    assert_eq!(cats, ["International Negotiation", "Mediation"]);
    assert!(!cats.contains(&"Mediation ") && block.categories.len() == 2);
    let ld = by_title("JSON-LD only post");
    assert_eq!(ld.authors[0].name.as_deref(), Some("Hiro Nakamura"));
    assert_eq!(
        ld.published.unwrap().to_rfc3339(),
        "2024-05-03T08:30:00+00:00"
    );
    by_title("Café “quoted” menu");
    let long = by_title("Negotiation Negotiation");
    let long_title = title_of(long);
    assert!(
        long_title.chars().count() <= 1001 && long_title.ends_with('…'),
        "{}",
        long_title.len()
    );
    let future = by_title("Post from the future");
    assert!(
        future.published.unwrap() <= chrono::Utc::now(),
        "future date clamped"
    );
    let undated = by_title("Undated post");
    assert!(
        undated.published.unwrap() > chrono::Utc::now() - chrono::Duration::hours(1),
        "first-seen date"
    );

    // CI re-checks these files with Python feedparser.
    if let Some(keep) = std::env::var_os("FEEDWRIGHT_TEST_OUTPUT") {
        let keep = std::path::Path::new(&keep).join("hostile-site");
        std::fs::create_dir_all(&keep).unwrap();
        for f in ["atom.xml", "rss.xml", "feed.json"] {
            std::fs::copy(out.join(f), keep.join(f)).unwrap();
        }
    }
    let atom_text = read(&out.join("atom.xml"));
    let rss_text = read(&out.join("rss.xml"));
    let json_text = read(&out.join("feed.json"));
    for text in [&atom_text, &rss_text, &json_text] {
        let lower = text.to_lowercase();
        assert!(
            !lower.contains("&lt;script") && !lower.contains("<script"),
            "script survived"
        );
        assert!(!lower.contains("onerror"), "event handler survived");
        assert!(!lower.contains("javascript:"), "javascript: URL survived");
        assert!(!lower.contains("iframe"), "iframe survived");
        assert!(!text.contains('\u{1}'), "control character survived");
    }
    assert!(
        atom_text.contains(&sc.site.url("/relative/link/")),
        "relative link made absolute"
    );
    assert!(
        atom_text.contains(&sc.site.url("/img/a.png")),
        "relative image made absolute"
    );

    // A second run with nothing changed rewrites nothing and retries the failed posts.
    let before: Vec<_> = ["atom.xml", "rss.xml", "feed.json"]
        .iter()
        .map(|f| {
            (
                std::fs::read(out.join(f)).unwrap(),
                std::fs::metadata(out.join(f)).unwrap().modified().unwrap(),
            )
        })
        .collect();
    let n_before = sc.site.requests().len();
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("site: 0 new, 0 updated, 8 unchanged, 7 failed"),
        "{stderr}"
    );
    // A failed post that is now gone for good (404) is dropped instead of failing every run.
    let gone = stderr
        .lines()
        .find(|l| l.contains("/bad/404/"))
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(
        gone.contains("skipped") && gone.contains("no longer retried"),
        "{gone}"
    );
    let after: Vec<_> = ["atom.xml", "rss.xml", "feed.json"]
        .iter()
        .map(|f| {
            (
                std::fs::read(out.join(f)).unwrap(),
                std::fs::metadata(out.join(f)).unwrap().modified().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        before, after,
        "identical input: byte-identical files, not rewritten"
    );
    assert!(
        sc.site.requests()[n_before..].contains(&"/bad/500/".to_string()),
        "failed post retried"
    );

    // An edit updates the entry in place.
    let mut edited = sc.good[0].clone();
    edited.body = "<p>Edited body with new negotiation news.</p>".into();
    edited.modified = Some("2024-06-01T12:00:00+00:00".into());
    sc.site.set(
        &edited.path(),
        Resp::Html(classic_post(&sc.site.base(), &edited)),
    );
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("site: 0 new, 1 updated, 7 unchanged"),
        "{stderr}"
    );
    let atom = parse_feed(&out.join("atom.xml"));
    assert_eq!(atom.entries.len(), 8, "an edit never duplicates");
    let e = atom
        .entries
        .iter()
        .find(|e| e.id == sc.site.url("/?p=101"))
        .unwrap();
    assert_eq!(e.updated.unwrap().to_rfc3339(), "2024-06-01T12:00:00+00:00");
    assert!(
        e.content
            .as_ref()
            .unwrap()
            .body
            .as_ref()
            .unwrap()
            .contains("Edited body")
    );

    // The site goes down: the run fails, the published feeds stay as they were.
    let before = std::fs::read(out.join("atom.xml")).unwrap();
    sc.site.set("/category/intl/", Resp::Status(503));
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("site: ") && stderr.contains("503"),
        "{stderr}"
    );
    assert_eq!(
        before,
        std::fs::read(out.join("atom.xml")).unwrap(),
        "published feed intact"
    );
}

#[test]
fn unreachable_site_is_one_clear_line_and_exit_1() {
    // Bind and drop a listener so the port is (almost certainly) closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        &html_config(&format!("http://127.0.0.1:{port}/category/x/"), ""),
    );
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 1, "{stderr}");
    let lines: Vec<_> = stderr.lines().filter(|l| l.starts_with("site:")).collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(lines[0].contains("site could not be reached"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// Serve `body` at `path` with `content_type` (no validators).
fn serve_text(site: &Site, path: &str, content_type: &str, body: String) {
    site.set(
        path,
        Resp::Bytes {
            content_type: content_type.into(),
            body: body.into_bytes(),
            headers: vec![],
        },
    );
}

/// A feed of `(post, excerpt)` items, RSS 2.0, each with a `?p=N` guid and the category
/// "From the feed", served at `/feed/`.
fn serve_item_feed(site: &Site, items: &[(&Post, &str)]) {
    site.set(
        "/feed/",
        Resp::Bytes {
            content_type: "application/rss+xml; charset=UTF-8".into(),
            body: item_feed(site, items).into_bytes(),
            headers: vec![],
        },
    );
}

/// The text of the feed [`serve_item_feed`] serves.
fn item_feed(site: &Site, items: &[(&Post, &str)]) -> String {
    let base = site.base();
    let items: String = items
        .iter()
        .map(|(p, excerpt)| {
            let date = chrono::DateTime::parse_from_rfc3339(&p.date)
                .unwrap()
                .to_rfc2822();
            format!(
                "<item><title>{title}</title><link>{base}{path}</link>\
                 <guid isPermaLink=\"false\">{base}/?p={id}</guid><pubDate>{date}</pubDate>\
                 <category>From the feed</category><description>{excerpt}</description></item>",
                title = p.title,
                path = p.path(),
                id = p.id,
            )
        })
        .collect();
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Site</title><link>{base}/</link><description>d</description>
{items}</channel></rss>"#
    )
}

/// The config of a `feed` source with `full_text = true` on the site's `/feed/` (`extra_http`
/// lines in `[http]`).
fn full_text_config(site: &Site, extra_http: &str) -> String {
    common::site_config(
        &site.url("/feed/"),
        extra_http,
        "kind = \"feed\"\nfull_text = true",
    )
}

/// The Atom content of the entry `id` in `out/main/atom.xml` below `dir`.
fn content_of(dir: &std::path::Path, id: &str) -> String {
    let atom = parse_feed(&dir.join("out/main/atom.xml"));
    let entry = atom
        .entries
        .iter()
        .find(|e| e.id == id)
        .unwrap_or_else(|| panic!("no entry {id}"));
    entry
        .content
        .as_ref()
        .and_then(|c| c.body.clone())
        .unwrap_or_default()
}

/// `full_text = true`: each new item's page is fetched and extracted, the feed adding what the
/// page lacks. An item whose page fails is stored from the feed's own text meanwhile, reported
/// failed (exit 1) and its page fetched again on every run until it yields the post; items
/// already complete are not fetched again.
#[test]
fn full_text_stores_the_item_until_its_page_can_be_read() {
    let site = Site::start();
    let base = site.base();
    let a = Post::new(11, "panel-a", "Panel A", "2024-01-02T10:00:00+00:00");
    let mut b = Post::new(12, "panel-b", "Panel B", "2024-01-01T10:00:00+00:00");
    b.body = "<p>The whole of panel B, far longer than its excerpt.</p>".into();
    serve_item_feed(&site, &[(&a, "Excerpt of A"), (&b, "Excerpt of B")]);
    site.set(&a.path(), Resp::Html(classic_post(&base, &a)));
    site.set(&b.path(), Resp::Status(500));
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &full_text_config(&site, ""));
    let (a_id, b_id) = (site.url("/?p=11"), site.url("/?p=12"));

    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("site: 2 new"), "{stderr}");
    let b_url = site.url(&b.path());
    assert!(
        stderr.lines().any(|l| l.contains(&b_url)
            && l.contains("full text not fetched")
            && l.contains("500")
            && l.contains("the feed item's own text stands in")),
        "{stderr}"
    );
    assert!(content_of(dir.path(), &a_id).contains("Body of Panel A"));
    assert!(content_of(dir.path(), &b_id).contains("Excerpt of B"));
    let atom = parse_feed(&dir.path().join("out/main/atom.xml"));
    let terms: Vec<&str> = atom.entries[0]
        .categories
        .iter()
        .map(|c| c.term.as_str())
        .collect();
    assert_eq!(
        terms,
        ["International Negotiation", "From the feed"],
        "page and feed merged"
    );

    // Still failing: reported again, the item's text kept; the complete post is not fetched.
    let seen = site.requests().len();
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.lines().any(|l| l.contains(&b_url)
            && l.contains("500")
            && l.contains("the stored entry is kept as it is")),
        "{stderr}"
    );
    assert_eq!(site.requests()[seen..], ["/feed/".to_string(), b.path()]);
    assert!(content_of(dir.path(), &b_id).contains("Excerpt of B"));

    // The page is back: the entry gets the full post, and nothing is pending any more.
    site.set(&b.path(), Resp::Html(classic_post(&base, &b)));
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("site: 0 new, 1 updated"), "{stderr}");
    let body = content_of(dir.path(), &b_id);
    assert!(
        body.contains("The whole of panel B") && !body.contains("Excerpt of B"),
        "{body}"
    );
    assert_eq!(
        parse_feed(&dir.path().join("out/main/atom.xml"))
            .entries
            .len(),
        2
    );
    let seen = site.requests().len();
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(site.requests()[seen..], ["/feed/".to_string()]);
}

/// `full_text = true`, pages that never yield the post: one that is not HTML (a PDF) makes the
/// item the entry at once (a skip, not a failure, never fetched again); one that is gone (404)
/// stands in and is reported, then, gone again on the retry, is no longer fetched.
#[test]
fn full_text_pages_that_are_no_post_or_gone() {
    let site = Site::start();
    let base = site.base();
    let pdf = Post::new(21, "slides", "Slides", "2024-01-02T10:00:00+00:00");
    let gone = Post::new(22, "gone", "Gone", "2024-01-01T10:00:00+00:00");
    serve_item_feed(&site, &[(&pdf, "The slides"), (&gone, "A gone post")]);
    site.set(
        &pdf.path(),
        Resp::Bytes {
            content_type: "application/pdf".into(),
            body: b"%PDF-1.4".to_vec(),
            headers: vec![],
        },
    );
    site.set(&gone.path(), Resp::Status(404));
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &full_text_config(&site, ""));
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("site: 2 new"), "{stderr}");
    let line = |stderr: &str, what: &str, p: &Post, why: &str| {
        stderr.lines().any(|l| {
            l.trim_start().starts_with(what)
                && l.contains(&format!("{base}{}", p.path()))
                && l.contains(why)
        })
    };
    assert!(
        line(&stderr, "skipped", &pdf, "not an HTML page"),
        "{stderr}"
    );
    assert!(line(&stderr, "failed", &gone, "404"), "{stderr}");
    assert!(content_of(dir.path(), &site.url("/?p=21")).contains("The slides"));
    assert!(content_of(dir.path(), &site.url("/?p=22")).contains("A gone post"));

    let seen = site.requests().len();
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        line(&stderr, "skipped", &gone, "no longer retried"),
        "{stderr}"
    );
    assert_eq!(site.requests()[seen..], ["/feed/".to_string(), gone.path()]);

    let seen = site.requests().len();
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains(&gone.path()), "{stderr}");
    assert_eq!(site.requests()[seen..], ["/feed/".to_string()]);
    assert_eq!(
        parse_feed(&dir.path().join("out/main/atom.xml"))
            .entries
            .len(),
        2
    );
}

/// A post moved to a new URL (a new slug, the same `?p=` guid) whose new page fails: the feed
/// item must not replace the full post stored under the old URL.
#[test]
fn full_text_stand_in_never_replaces_a_stored_post() {
    let site = Site::start();
    let base = site.base();
    let old = Post::new(31, "old-slug", "Moved", "2024-01-02T10:00:00+00:00");
    let mut moved = old.clone();
    moved.slug = "new-slug".into();
    serve_item_feed(&site, &[(&old, "Excerpt of moved")]);
    site.set(&old.path(), Resp::Html(classic_post(&base, &old)));
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &full_text_config(&site, ""));
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    let id = site.url("/?p=31");
    assert!(content_of(dir.path(), &id).contains("Body of Moved"));

    serve_item_feed(&site, &[(&moved, "Excerpt of moved")]);
    site.set(&moved.path(), Resp::Status(500));
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains(&site.url(&moved.path())), "{stderr}");
    let body = content_of(dir.path(), &id);
    assert!(
        body.contains("Body of Moved") && !body.contains("Excerpt"),
        "{body}"
    );
}

/// A pending page is completed with its feed item even when the feed has not changed: the feed
/// is then read in full, not answered 304, so the entry keeps what only the feed gives.
#[test]
fn full_text_retry_merges_the_item_when_the_feed_is_unchanged() {
    let site = Site::start();
    let base = site.base();
    let p = Post::new(41, "panel", "Panel", "2024-01-02T10:00:00+00:00");
    // Served with an ETag, so that a conditional request gets 304.
    site.set(
        "/feed/",
        Resp::Html(item_feed(&site, &[(&p, "Excerpt of panel")])),
    );
    site.set(&p.path(), Resp::Status(503));
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &full_text_config(&site, ""));
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 1, "{stderr}");
    site.set(&p.path(), Resp::Html(classic_post(&base, &p)));
    let seen = site.hits().len();
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    let feed_hit = site.hits()[seen..]
        .iter()
        .find(|h| h.path == "/feed/")
        .cloned()
        .expect("the feed was read");
    assert!(
        !feed_hit.conditional,
        "read in full while a page is pending"
    );
    let atom = parse_feed(&dir.path().join("out/main/atom.xml"));
    let terms: Vec<&str> = atom.entries[0]
        .categories
        .iter()
        .map(|c| c.term.as_str())
        .collect();
    assert_eq!(terms, ["International Negotiation", "From the feed"]);
    assert!(content_of(dir.path(), &site.url("/?p=41")).contains("Body of Panel"));
    // Nothing pending any more: the next run may be answered 304.
    let seen = site.hits().len();
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        site.hits()[seen..].iter().all(|h| h.conditional),
        "{:?}",
        site.hits()
    );
}

/// A page robots.txt keeps us from: the feed item is the entry, reported as skipped (exit 0),
/// and the page is never asked for.
#[test]
fn full_text_page_disallowed_by_robots_leaves_the_item() {
    let site = Site::start();
    let p = Post::new(51, "private", "Members only", "2024-01-02T10:00:00+00:00");
    serve_item_feed(&site, &[(&p, "Excerpt for all")]);
    site.set(
        "/robots.txt",
        Resp::Bytes {
            content_type: "text/plain".into(),
            body: b"User-agent: *\nDisallow: /2024/\n".to_vec(),
            headers: vec![],
        },
    );
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &full_text_config(&site, ""));
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("site: 1 new"), "{stderr}");
    assert!(
        stderr
            .lines()
            .any(|l| l.contains("skipped") && l.contains(&site.url(&p.path()))),
        "{stderr}"
    );
    assert!(!site.requests().contains(&p.path()));
    assert!(content_of(dir.path(), &site.url("/?p=51")).contains("Excerpt for all"));
}

/// The request budget runs out before an item's page: the item stands in, the page is left for
/// the next run (not a failure: exit 0), which completes the entry.
#[test]
fn full_text_page_left_for_the_next_run_when_the_budget_is_spent() {
    let site = Site::start();
    let base = site.base();
    let p = Post::new(61, "later", "Later", "2024-01-02T10:00:00+00:00");
    serve_item_feed(&site, &[(&p, "Excerpt of later")]);
    site.set(&p.path(), Resp::Html(classic_post(&base, &p)));
    let dir = tempfile::tempdir().unwrap();
    // robots.txt and the feed: nothing left for the page.
    let cfg = write_config(dir.path(), &full_text_config(&site, "max_requests = 2"));
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("1 post(s) left for the next run"),
        "{stderr}"
    );
    assert!(!site.requests().contains(&p.path()));
    let id = site.url("/?p=61");
    assert!(content_of(dir.path(), &id).contains("Excerpt of later"));

    let text = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(&cfg, text.replace("max_requests = 2", "max_requests = 10")).unwrap();
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("1 updated"), "{stderr}");
    assert!(content_of(dir.path(), &id).contains("Body of Later"));
}

/// A feed item without a link has no page for readers to open: it is left out, and the run
/// says so (a skip, not a failure), naming the feed, the item and its title.
#[test]
fn a_feed_item_without_a_link_is_reported_as_left_out() {
    let site = Site::start();
    let base = site.base();
    let atom = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Site</title><id>{base}/</id>
<updated>2024-01-03T10:00:00Z</updated><author><name>A</name></author>
<entry><title>Linked</title><link href="{base}/2024/01/03/linked/"/><id>{base}/?p=5</id>
<updated>2024-01-03T10:00:00Z</updated><content type="html">x</content></entry>
<entry><title>A note with no page</title><id>urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a</id>
<updated>2024-01-02T10:00:00Z</updated><content type="html">y</content></entry>
</feed>"#
    );
    serve_text(&site, "/atom/", "application/atom+xml", atom);
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &html_config(&site.url("/atom/"), ""));
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("site: 1 new"), "{stderr}");
    let feed_url = site.url("/atom/");
    assert!(
        stderr.lines().any(|l| l.contains("skipped")
            && l.contains(&feed_url)
            && l.contains("urn:uuid:1225c695")
            && l.contains("A note with no page")
            && l.contains("no usable link")),
        "{stderr}"
    );
    assert_eq!(common::atom_ids(dir.path()), [site.url("/?p=5")]);
}

/// A feed date feed-rs cannot read goes through feedwright's own date parser, which knows
/// human forms; one nobody can read is a warning naming it, and the item is dated when first
/// seen.
#[test]
fn feed_dates_feed_rs_cannot_read() {
    let site = Site::start();
    let base = site.base();
    let rss = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Site</title><link>{base}/</link><description>d</description>
<item><title>Human date</title><link>{base}/human/</link><pubDate>28 April 2019</pubDate></item>
<item><title>No date</title><link>{base}/vague/</link><pubDate>next Tuesday</pubDate></item>
</channel></rss>"#
    );
    serve_text(&site, "/feed/", "application/rss+xml", rss);
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &html_config(&site.url("/feed/"), ""));
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("unparseable published date \"next Tuesday\""),
        "{stderr}"
    );
    let atom = parse_feed(&dir.path().join("out/main/atom.xml"));
    let human = atom
        .entries
        .iter()
        .find(|e| e.title.as_ref().unwrap().content == "Human date");
    assert_eq!(
        human.unwrap().published.unwrap().to_rfc3339(),
        "2019-04-28T00:00:00+00:00"
    );
}

/// Feed text constructs read by their type: an Atom title typed `html` or `xhtml` is markup
/// whose text is the title; plain-text content (Atom `type="text"`, JSON Feed `content_text`) is
/// text, escaped, its blank lines kept as paragraphs, never read as markup.
#[test]
fn feed_texts_are_read_as_their_type_says() {
    let site = Site::start();
    let base = site.base();
    let atom = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Site</title><id>{base}/</id>
<updated>2024-01-03T10:00:00Z</updated><author><name>A</name></author>
<entry><title type="html">Q&amp;amp;A: &lt;em&gt;Emphasis&lt;/em&gt; in a title</title>
<link href="{base}/2024/01/03/qa/"/><id>{base}/2024/01/03/qa/</id>
<updated>2024-01-03T10:00:00Z</updated>
<content type="text">Plain text with &lt;tags&gt; &amp; ampersands
and a line break

Second paragraph</content></entry>
<entry><title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">An <b>xhtml</b> title</div></title>
<link href="{base}/2024/01/02/x/"/><id>{base}/2024/01/02/x/</id>
<updated>2024-01-02T10:00:00Z</updated><content type="html">&lt;p&gt;Markup &lt;b&gt;kept&lt;/b&gt;&lt;/p&gt;</content></entry>
</feed>"#
    );
    serve_text(&site, "/atom/", "application/atom+xml", atom);
    let json = serde_json::json!({
        "version": "https://jsonfeed.org/version/1.1",
        "title": "Site",
        "items": [{
            "id": "1",
            "url": format!("{base}/2024/01/01/note/"),
            "title": "A note",
            "date_published": "2024-01-01T10:00:00Z",
            "content_text": "Plain text with <brackets> & amps\n\nSecond paragraph"
        }]
    });
    site.set(
        "/feed.json",
        Resp::Bytes {
            content_type: "application/feed+json".into(),
            body: json.to_string().into_bytes(),
            headers: vec![],
        },
    );
    // RSS 1.0: feed-rs calls a description plain text, but it holds escaped HTML, as usual.
    let rdf = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="{base}/rdf/"><title>Site</title><link>{base}/</link><description>d</description></channel>
<item rdf:about="{base}/2024/01/04/rdf/"><title>An RDF item</title><link>{base}/2024/01/04/rdf/</link>
<dc:date>2024-01-04T10:00:00Z</dc:date><description>&lt;p&gt;Some &lt;b&gt;markup&lt;/b&gt;&lt;/p&gt;</description></item>
</rdf:RDF>"#
    );
    serve_text(&site, "/rdf/", "application/rdf+xml", rdf);
    for (path, n) in [("/atom/", 2), ("/feed.json", 1), ("/rdf/", 1)] {
        let dir = tempfile::tempdir().unwrap();
        let cfg = write_config(dir.path(), &html_config(&site.url(path), ""));
        let (code, _, stderr) = feedwright(&cfg, &["run"]);
        assert_eq!(code, 0, "{path}: {stderr}");
        let out: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.path().join("out/main/feed.json")).unwrap())
                .unwrap();
        let items = out["items"].as_array().unwrap();
        assert_eq!(items.len(), n, "{path}");
        let item = |title: &str| {
            items
                .iter()
                .find(|i| i["title"] == title)
                .unwrap_or_else(|| panic!("{path}: no item {title:?} in {items:#?}"))
        };
        if path == "/atom/" {
            let qa = item("Q&A: Emphasis in a title");
            assert_eq!(
                qa["content_html"],
                "<p>Plain text with &lt;tags&gt; &amp; ampersands<br>and a line break</p>\
                 <p>Second paragraph</p>"
            );
            let x = item("An xhtml title");
            assert_eq!(x["content_html"], "<p>Markup <b>kept</b></p>");
        } else if path == "/rdf/" {
            let rdf = item("An RDF item");
            assert_eq!(rdf["content_html"], "<p>Some <b>markup</b></p>");
        } else {
            let note = item("A note");
            assert_eq!(
                note["content_html"],
                "<p>Plain text with &lt;brackets&gt; &amp; amps</p><p>Second paragraph</p>"
            );
        }
    }
}

/// The home link of the three documents of `out/main` below `dir`: Atom `link
/// rel="alternate"`, RSS `<channel><link>`, JSON Feed `home_page_url`.
fn home_links(dir: &std::path::Path) -> [Option<String>; 3] {
    let out = dir.join("out/main");
    let atom = parse_feed(&out.join("atom.xml"))
        .links
        .into_iter()
        .find(|l| l.rel.as_deref() == Some("alternate"))
        .map(|l| l.href);
    let rss = parse_feed(&out.join("rss.xml"))
        .links
        .into_iter()
        .find(|l| l.rel.is_none())
        .map(|l| l.href);
    let json: serde_json::Value = serde_json::from_str(&read(&out.join("feed.json"))).unwrap();
    let json = json["home_page_url"].as_str().map(str::to_owned);
    [atom, rss, json]
}

/// A feed source's feeds link the website the upstream feed names as its own (RSS channel
/// link, Atom alternate link, JSON Feed `home_page_url`), also after a run that got a 304 and
/// read no feed; never the upstream XML: a feed naming no website leaves the home link to
/// `public_url`.
#[test]
fn a_feed_sources_home_link_is_the_site_the_feed_names() {
    let site = Site::start();
    let base = site.base();
    let a = Post::new(11, "panel-a", "Panel A", "2024-01-02T10:00:00+00:00");
    // With an ETag (the fixture answers 304 to it), read as a feed whatever its type says.
    let rss = item_feed(&site, &[(&a, "Excerpt")]).replace(
        &format!("<link>{base}/</link>"),
        &format!("<link>{base}/blog/</link>"),
    );
    site.set("/feed/", Resp::Html(rss));
    let home = Some(format!("{base}/blog/"));
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        &common::site_config(&site.url("/feed/"), "", "kind = \"feed\""),
    );
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        home_links(dir.path()),
        [home.clone(), home.clone(), home.clone()]
    );
    // A 304 reads no feed: the site it named is remembered.
    std::fs::remove_dir_all(dir.path().join("out")).unwrap();
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        site.hits()
            .iter()
            .any(|h| h.path == "/feed/" && h.status == 304),
        "{:?}",
        site.hits()
    );
    assert_eq!(
        home_links(dir.path()),
        [home.clone(), home.clone(), home.clone()]
    );

    let atom = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Site</title><id>{base}/</id>
<link rel="self" href="{base}/atom/"/><link rel="alternate" type="text/html" href="{base}/blog/"/>
<updated>2024-01-03T10:00:00Z</updated><author><name>A</name></author>
<entry><title>Linked</title><link href="{base}/2024/01/03/linked/"/><id>{base}/?p=5</id>
<updated>2024-01-03T10:00:00Z</updated><content type="html">x</content></entry>
</feed>"#
    );
    serve_text(&site, "/atom/", "application/atom+xml", atom);
    let json = |home: Option<&str>| {
        let mut feed = serde_json::json!({
            "version": "https://jsonfeed.org/version/1.1",
            "title": "Site",
            "feed_url": site.url("/feed.json"),
            "items": [{"id": "1", "url": format!("{base}/2024/01/01/note/"), "title": "A note",
                       "date_published": "2024-01-01T10:00:00Z", "content_html": "<p>x</p>"}]
        });
        if let Some(home) = home {
            feed["home_page_url"] = home.into();
        }
        feed.to_string()
    };
    let with_home = json(Some(&format!("{base}/blog/")));
    serve_text(&site, "/feed.json", "application/feed+json", with_home);
    let without = json(None);
    serve_text(&site, "/bare.json", "application/feed+json", without);
    for (path, expected) in [
        ("/atom/", home.clone()),
        ("/feed.json", home.clone()),
        ("/bare.json", Some("http://feeds.test/".to_owned())),
    ] {
        let dir = tempfile::tempdir().unwrap();
        // `auto`: read as a feed by its type.
        let cfg = write_config(dir.path(), &html_config(&site.url(path), ""));
        let (code, _, stderr) = feedwright(&cfg, &["run"]);
        assert_eq!(code, 0, "{path}: {stderr}");
        assert_eq!(
            home_links(dir.path()),
            [expected.clone(), expected.clone(), expected],
            "{path}"
        );
    }
}

/// An RSS `<author>` is an email address with the name in parentheses: the feeds and the
/// digest get the name alone ("Jane Doe"), never the address or the parentheses.
#[test]
fn an_rss_authors_name_is_published_without_the_address() {
    let site = Site::start();
    let base = site.base();
    let rss = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Site</title><link>{base}/</link><description>d</description>
<item><title>Mailed</title><link>{base}/2024/03/04/mailed/</link>
<pubDate>Mon, 04 Mar 2024 10:00:00 +0000</pubDate><author>jane@example.org (Jane Doe)</author>
<description>x</description></item></channel></rss>"#
    );
    serve_text(&site, "/feed/", "application/rss+xml", rss);
    let dir = tempfile::tempdir().unwrap();
    let mut config = html_config(&site.url("/feed/"), "");
    config.push_str("[digest]\nfeed = \"main\"\n");
    let cfg = write_config(dir.path(), &config);
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    let out = dir.path().join("out/main");
    let atom = parse_feed(&out.join("atom.xml"));
    let names: Vec<&str> = atom.entries[0]
        .authors
        .iter()
        .filter_map(|a| a.name.as_deref())
        .collect();
    assert_eq!(names, ["Jane Doe"]);
    assert!(read(&out.join("rss.xml")).contains("<dc:creator>Jane Doe</dc:creator>"));
    let json: serde_json::Value = serde_json::from_str(&read(&out.join("feed.json"))).unwrap();
    assert_eq!(
        json["items"][0]["authors"],
        serde_json::json!([{"name": "Jane Doe"}])
    );
    let issue = common::week_10_without(&cfg, &out, &["jane@", "(Jane Doe)"]);
    assert!(issue.contains(" · Jane Doe"), "{issue}");
}

/// A page's description is text, whether in `<meta name="description">`, OpenGraph or JSON-LD:
/// `When 3 &lt;b and c&gt; 2` is published as "When 3 <b and c> 2", not read as a tag and lost
/// (also when encoded twice).
#[test]
fn a_pages_description_is_text_not_markup() {
    let site = Site::start();
    let base = site.base();
    let text = "When 3 <b and c> 2, who wins?";
    let escaped = "When 3 &lt;b and c&gt; 2, who wins?";
    let ld = serde_json::json!({"@context": "https://schema.org", "@type": "BlogPosting",
        "headline": "From JSON-LD", "description": "When 3 <b and c> 2, who wins?"});
    let heads = [
        (
            "meta",
            format!(r#"<meta name="description" content="{escaped}">"#),
        ),
        (
            "og",
            format!(r#"<meta property="og:description" content="{escaped}">"#),
        ),
        (
            "ld",
            format!(r#"<script type="application/ld+json">{ld}</script>"#),
        ),
        // Encoded twice, as WordPress does: decoded once more, as titles are.
        (
            "twice",
            r#"<meta name="description" content="When 3 &amp;lt;b and c&amp;gt; 2, who wins?">"#
                .to_owned(),
        ),
    ];
    let mut links = Vec::new();
    for (slug, head) in &heads {
        let url = format!("{base}/{slug}/");
        let page = format!(
            r#"<!DOCTYPE html><html><head><meta charset="utf-8"><title>Post {slug}</title>
<link rel="canonical" href="{url}">{head}</head><body><article class="post">
<h1 class="entry-title">Post {slug}</h1><div class="entry-content"><p>The body says something else.</p></div>
</article></body></html>"#
        );
        site.set(&format!("/{slug}/"), Resp::Html(page));
        links.push((url, format!("Post {slug}")));
    }
    site.set("/cat/", Resp::Html(listing(&base, &links, None)));
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &html_config(&site.url("/cat/"), ""));
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    let json: serde_json::Value =
        serde_json::from_str(&read(&dir.path().join("out/main/feed.json"))).unwrap();
    let atom = parse_feed(&dir.path().join("out/main/atom.xml"));
    for (url, _) in &links {
        let item = json["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["url"] == url.as_str())
            .unwrap_or_else(|| panic!("no item {url}"));
        assert_eq!(item["summary"], text, "{url}");
        let entry = atom
            .entries
            .iter()
            .find(|e| e.links[0].href == *url)
            .unwrap();
        assert_eq!(entry.summary.as_ref().unwrap().content, text, "{url}");
    }
}

#[test]
fn dir_source_reads_markdown_and_html_and_reports_bad_files() {
    let dir = tempfile::tempdir().unwrap();
    let posts = dir.path().join("posts");
    std::fs::create_dir_all(&posts).unwrap();
    std::fs::write(
        posts.join("panel.md"),
        "+++\ntitle = \"Panel on water treaties\"\ndate = 2024-03-04T18:00:00Z\nauthor = \"Tunde Okafor\"\ncategories = [\"Events\"]\nurl = \"https://example.org/events/panel/\"\n+++\nA **panel** with <script>bad()</script> speakers.\n",
    )
    .unwrap();
    std::fs::write(
        posts.join("talk.md"),
        "---\ntitle: Talk on trade\ndate: 2024-03-05\nauthors: [A One, B Two]\nurl: https://example.org/events/talk/\n---\nSome *talk*.\n",
    )
    .unwrap();
    std::fs::write(
        posts.join("broken.md"),
        "+++\ntitle = \"No url\"\ncolour = 1\n+++\nx\n",
    )
    .unwrap();
    let cfg = write_config(
        dir.path(),
        r#"output_dir = "out"
[store]
path = "db/feedwright.db"
[[source]]
name = "events"
url = "posts"
kind = "dir"
[[feed]]
name = "events"
sources = ["events"]
"#,
    );
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 1, "one bad file: exit 1\n{stderr}");
    assert!(stderr.contains("events: 2 new"), "{stderr}");
    let bad = stderr
        .lines()
        .find(|l| l.contains("broken.md"))
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(bad.contains("colour"), "names the unknown key: {bad}");
    let atom = parse_feed(&dir.path().join("out/events/atom.xml"));
    let titles: Vec<_> = atom
        .entries
        .iter()
        .map(|e| e.title.clone().unwrap().content)
        .collect();
    assert_eq!(
        titles,
        ["Talk on trade", "Panel on water treaties"],
        "newest first"
    );
    let talk = &atom.entries[0];
    assert_eq!(talk.authors.len(), 2);
    let panel = read(&dir.path().join("out/events/atom.xml"));
    assert!(
        panel.contains("&lt;strong&gt;panel&lt;/strong&gt;")
            || panel.contains("<strong>panel</strong>")
    );
    assert!(!panel.contains("bad()"), "script removed");
}

#[test]
fn config_errors_exit_2_and_name_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let base = r#"[[source]]
name = "s"
url = "https://example.org/"
[[feed]]
name = "f"
sources = ["s"]
"#;
    let cases = [
        (format!("{base}colour = 1\n"), "colour"),
        (
            base.replace("https://example.org/", "not a url"),
            "source[0].url",
        ),
        (
            base.replace(r#"sources = ["s"]"#, r#"sources = ["missing"]"#),
            "feed[0].sources",
        ),
        (
            format!("{base}[[source]]\nname = \"s\"\nurl = \"https://example.org/b/\"\n"),
            "source[1].name",
        ),
        (
            base.replace(r#"name = "s""#, r#"name = "Bad Name""#),
            "source[0].name",
        ),
        (
            format!("{base}[http]\nmin_interval_ms = \"fast\"\n"),
            "min_interval_ms",
        ),
        (
            format!("{base}[digest]\nfeed = \"f\"\ntimezone = \"Mars/Olympus\"\n"),
            "digest.timezone",
        ),
        (
            format!("{base}[digest]\nfeed = \"f\"\nto = [\"not an address\"]\n"),
            "digest.to[0]",
        ),
        (
            base.replace("[[source]]", "[[source]]\nschedule = \"61 * * * *\""),
            "source[0].schedule",
        ),
        ("this is = = not toml".to_string(), "config.toml"),
    ];
    for (text, key) in cases {
        let cfg = write_config(dir.path(), &text);
        for cmd in ["check", "run"] {
            let (code, _, stderr) = feedwright(&cfg, &[cmd]);
            assert_eq!(code, 2, "{cmd} with {key}: {stderr}");
            assert!(
                stderr.contains(key),
                "{cmd}: message should name {key}: {stderr}"
            );
            assert!(
                stderr.contains("config.toml"),
                "message names the file: {stderr}"
            );
        }
    }
    let cfg = write_config(dir.path(), base);
    let (code, stdout, stderr) = feedwright(&cfg, &["check"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("OK"), "{stdout}");
}

#[test]
fn unwritable_output_dir_exits_2_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("afile"), "not a directory").unwrap();
    let cfg = write_config(
        dir.path(),
        "output_dir = \"afile/feeds\"\n[[source]]\nname = \"s\"\nurl = \"http://127.0.0.1:9/\"\n[[feed]]\nname = \"f\"\nsources = [\"s\"]\n",
    );
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("output_dir") && stderr.contains("afile"),
        "{stderr}"
    );
}

#[test]
fn a_second_run_on_the_same_store_exits_with_a_clear_message() {
    let site = Site::start();
    // A slow listing keeps the first run busy while the second one starts.
    site.set("/slow/", Resp::Slow(Duration::from_secs(3)));
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        &html_config(&site.url("/slow/"), "").replace("timeout_secs = 2", "timeout_secs = 10"),
    );
    let first = spawn_feedwright(&cfg, &["run"]);
    let mut first = scopeguard(first);
    // Wait until the first run has asked for the listing, so it surely holds the store.
    let t0 = std::time::Instant::now();
    while !site.requests().contains(&"/slow/".to_string()) {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "first run never fetched"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("another feedwright process"), "{stderr}");
    assert!(
        stderr.contains("feedwright.db"),
        "names the database: {stderr}"
    );
    let status = first.0.wait().unwrap();
    // The slow page holds no post links, so the first run ends "degraded" (1), not locked out (2).
    assert_eq!(status.code(), Some(1), "the first run is unaffected");
}

/// Kills the child if the test fails before waiting for it.
struct Guard(std::process::Child);
impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
fn scopeguard(c: std::process::Child) -> Guard {
    Guard(c)
}

/// Which posts are related is fixed when an entry is first stored, but a related link shows the
/// related post's current title: after B's title is edited, A's link to B says so in every head
/// document and in the digest, while A itself is not edited.
#[test]
fn a_related_link_shows_the_related_posts_current_title() {
    let site = Site::start();
    let base = site.base();
    let a = Post::new(
        201,
        "water-treaty",
        "A treaty on shared water",
        "2024-05-01T09:00:00+00:00",
    );
    let mut b = Post::new(
        202,
        "water-rights",
        "Water rights upstream",
        "2024-05-02T09:00:00+00:00",
    );
    let c = Post::new(
        203,
        "river-talks",
        "Talks on the river",
        "2024-04-10T09:00:00+00:00",
    );
    for p in [&a, &b, &c] {
        site.set(&p.path(), Resp::Html(classic_post(&base, p)));
    }
    let link = |p: &Post| (format!("{base}{}", p.path()), p.title.clone());
    site.set(
        "/category/intl/",
        Resp::Html(listing(&base, &[link(&a), link(&b), link(&c)], None)),
    );
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        "{}\n[digest]\nfeed = \"main\"\nfrom = \"Digest <digest@example.org>\"\n\
         to = [\"list@example.org\"]\n",
        html_config(&site.url("/category/intl/"), "")
    );
    let cfg = write_config(dir.path(), &config);
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    let out = dir.path().join("out/main");
    let a_url = format!("{base}{}", a.path());
    let b_url = format!("{base}{}", b.path());
    let related_of_a = || -> Vec<(String, String)> {
        let feed: serde_json::Value = serde_json::from_str(&read(&out.join("feed.json"))).unwrap();
        let item = feed["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["url"] == a_url.as_str())
            .unwrap_or_else(|| panic!("no item {a_url} in {feed:#}"))
            .clone();
        item["_feedwright"]["related"]
            .as_array()
            .unwrap_or_else(|| panic!("A has no related links: {item:#}"))
            .iter()
            .map(|r| {
                (
                    r["url"].as_str().unwrap().to_owned(),
                    r["title"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    assert!(
        related_of_a().contains(&(b_url.clone(), "Water rights upstream".into())),
        "A links B: {:?}",
        related_of_a()
    );
    let a_updated = |atom: &feed_rs::model::Feed| {
        atom.entries
            .iter()
            .find(|e| {
                e.links
                    .iter()
                    .any(|l| l.href == a_url && l.rel.as_deref() != Some("related"))
            })
            .and_then(|e| e.updated)
            .unwrap()
    };
    let a_updated_before = a_updated(&parse_feed(&out.join("atom.xml")));

    b.title = "Water rights downstream, revised".into();
    site.set(&b.path(), Resp::Html(classic_post(&base, &b)));
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("site: 0 new, 1 updated, 2 unchanged"),
        "only B is edited: {stderr}"
    );

    let related = related_of_a();
    assert!(
        related.contains(&(b_url.clone(), "Water rights downstream, revised".into())),
        "feed.json: {related:?}"
    );
    assert!(
        !related.iter().any(|(_, t)| t == "Water rights upstream"),
        "{related:?}"
    );
    for file in ["atom.xml", "rss.xml"] {
        let text = read(&out.join(file));
        assert!(
            text.contains("title=\"Water rights downstream, revised\""),
            "{file}: {text}"
        );
        assert!(
            !text.contains("title=\"Water rights upstream\""),
            "{file}: {text}"
        );
    }
    let atom = parse_feed(&out.join("atom.xml"));
    let link = atom
        .entries
        .iter()
        .find(|e| {
            e.links
                .iter()
                .any(|l| l.href == a_url && l.rel.as_deref() != Some("related"))
        })
        .unwrap()
        .links
        .iter()
        .find(|l| l.rel.as_deref() == Some("related") && l.href == b_url)
        .cloned()
        .expect("A's related link to B");
    assert_eq!(
        link.title.as_deref(),
        Some("Water rights downstream, revised")
    );
    assert_eq!(
        a_updated(&atom),
        a_updated_before,
        "A's `updated` does not move: A was not edited"
    );

    // The digest of A's week lists B under A with B's current title.
    let (code, stdout, stderr) = feedwright(
        &cfg,
        &["digest", "--now", "2024-05-08T12:00:00Z", "--dry-run"],
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    let text = read(&out.join("digest/2024-W18.txt"));
    assert!(
        text.contains("  - Water rights downstream, revised\n"),
        "{text}"
    );
    assert!(!text.contains("  - Water rights upstream"), "{text}");
}

/// Two sources that give the same posts, one reading their pages (`html`) and one a feed of
/// teasers: in whichever order they are configured and run, the entries keep the whole posts
/// from the pages (the feed's teasers never overwrite them, and a teaser stored first is
/// replaced by the page), every post of the listing is stored, both feeds list the posts their
/// source gives, and a run after that changes nothing.
#[test]
fn a_feed_of_teasers_never_overwrites_posts_read_from_their_pages() {
    let site = Site::start();
    let base = site.base();
    let posts: Vec<Post> = (1..=4)
        .map(|i| {
            Post::new(
                100 + i,
                &format!("panel-{i}"),
                &format!("Panel {i}"),
                &format!("2024-03-0{i}T10:00:00+00:00"),
            )
        })
        .rev()
        .collect();
    let page = |base: &str, chunk: &[Post], next: Option<&str>| {
        let links: Vec<(String, String)> = chunk
            .iter()
            .map(|p| (format!("{base}{}", p.path()), p.title.clone()))
            .collect();
        common::listing(base, &links, next)
    };
    common::publish_paged(&site, &posts, 2, page);
    // The feed: the two newest posts, as teasers.
    serve_item_feed(
        &site,
        &[(&posts[0], "Teaser one"), (&posts[1], "Teaser two")],
    );
    let html_source =
        format!("[[source]]\nname = \"site\"\nurl = \"{base}/cat/\"\nkind = \"html\"\n");
    let feed_source =
        format!("[[source]]\nname = \"items\"\nurl = \"{base}/feed/\"\nkind = \"feed\"\n");
    let feeds = "[[feed]]\nname = \"main\"\nsources = [\"site\"]\n\
                 [[feed]]\nname = \"teasers\"\nsources = [\"items\"]\n";
    for feed_first in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        let sources = if feed_first {
            format!("{feed_source}{html_source}")
        } else {
            format!("{html_source}{feed_source}")
        };
        let config = common::write_config(
            dir.path(),
            &format!(
                "output_dir = \"out\"\n[store]\npath = \"feedwright.db\"\n[http]\n\
                 min_interval_ms = 0\nmax_retries = 0\n{sources}{feeds}"
            ),
        );
        let (code, _, stderr) = common::feedwright(&config, &["run"]);
        assert_eq!(code, 0, "feed first: {feed_first}\n{stderr}");
        let main = parse_feed(&dir.path().join("out/main/atom.xml"));
        assert_eq!(main.entries.len(), 4, "feed first: {feed_first}\n{stderr}");
        for p in &posts {
            let id = format!("{base}/?p={}", p.id);
            let content = content_of(dir.path(), &id);
            assert!(
                content.contains(&format!("Body of {}.", p.title)),
                "feed first: {feed_first}: {id} has {content:?}\n{stderr}"
            );
        }
        let teasers = parse_feed(&dir.path().join("out/teasers/atom.xml"));
        let mut ids: Vec<String> = teasers.entries.iter().map(|e| e.id.clone()).collect();
        ids.sort();
        assert_eq!(
            ids,
            [format!("{base}/?p=103"), format!("{base}/?p=104")],
            "feed first: {feed_first}"
        );
        for e in &teasers.entries {
            let body = e
                .content
                .as_ref()
                .and_then(|c| c.body.clone())
                .unwrap_or_default();
            assert!(
                body.contains("Body of Panel"),
                "feed first: {feed_first}: {body:?}"
            );
        }
        // The next run (nothing changed on the site) changes nothing.
        let before = read(&dir.path().join("out/main/atom.xml"));
        let (code, _, stderr) = common::feedwright(&config, &["run"]);
        assert_eq!(code, 0, "{stderr}");
        assert!(
            !stderr.contains("updated") || stderr.contains("0 updated"),
            "{stderr}"
        );
        assert!(
            !stderr.contains(" 1 updated") && !stderr.contains(" 2 updated"),
            "{stderr}"
        );
        assert_eq!(read(&dir.path().join("out/main/atom.xml")), before);
        // The page-reading source renamed: in either order, before or after it links the
        // posts under its new name, the feed's teasers still never replace them.
        let renamed = read(&config)
            .replace("name = \"site\"", "name = \"pages\"")
            .replace("sources = [\"site\"]", "sources = [\"pages\"]");
        std::fs::write(&config, renamed).expect("rename");
        let (code, _, stderr) = common::feedwright(&config, &["run"]);
        assert_eq!(code, 0, "{stderr}");
        for p in &posts {
            let id = format!("{base}/?p={}", p.id);
            let content = content_of(dir.path(), &id);
            assert!(
                content.contains(&format!("Body of {}.", p.title)),
                "renamed, feed first: {feed_first}: {id} has {content:?}\n{stderr}"
            );
        }
        assert!(
            !stderr.contains(" 1 updated") && !stderr.contains(" 2 updated"),
            "renamed, feed first: {feed_first}\n{stderr}"
        );
    }
}

/// A source renamed in the configuration reads its listing in full on its first run, so every
/// stored post it lists stays in its feeds, not only those of the first page (the walk of a
/// source with stored posts otherwise stops at the first page of known ones).
#[test]
fn a_renamed_source_keeps_every_post_in_its_feed() {
    let site = Site::start();
    let posts: Vec<Post> = (1..=6)
        .map(|i| {
            Post::new(
                200 + i,
                &format!("talk-{i}"),
                &format!("Talk {i}"),
                &format!("2024-04-0{i}T10:00:00+00:00"),
            )
        })
        .rev()
        .collect();
    common::publish_paged(&site, &posts, 2, |base, chunk, next| {
        let links: Vec<(String, String)> = chunk
            .iter()
            .map(|p| (format!("{base}{}", p.path()), p.title.clone()))
            .collect();
        common::listing(base, &links, next)
    });
    let dir = tempfile::tempdir().unwrap();
    let before = common::site_config(&site.url("/cat/"), "", "kind = \"html\"");
    let config = common::write_config(dir.path(), &before);
    let (code, _, stderr) = common::feedwright(&config, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(common::atom_ids(dir.path()).len(), 6, "{stderr}");

    let renamed = before
        .replace("name = \"site\"", "name = \"talks\"")
        .replace("sources = [\"site\"]", "sources = [\"talks\"]");
    assert_ne!(renamed, before);
    common::write_config(dir.path(), &renamed);
    let (code, _, stderr) = common::feedwright(&config, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("talks: 0 new"), "{stderr}");
    assert_eq!(common::atom_ids(dir.path()).len(), 6, "{stderr}");
}

/// A source moved to another category reads that listing in full on its first run there, like
/// a new source: posts another source stored already are linked to it on every page, not only
/// on the first (the walk of a source otherwise stops at the first page of known posts). The
/// posts it gave before stay in its feed, as posts that leave a listing do.
#[test]
fn a_source_moved_to_another_category_walks_it_in_full() {
    let site = Site::start();
    let base = site.base();
    let posts: Vec<Post> = (1..=6)
        .map(|i| {
            Post::new(
                300 + i,
                &format!("move-{i}"),
                &format!("Move {i}"),
                &format!("2024-05-0{i}T10:00:00+00:00"),
            )
        })
        .rev()
        .collect();
    for p in &posts {
        site.set(&p.path(), Resp::Html(common::classic_post(&base, p)));
    }
    // `/all/` lists every post, `/cat/` the two newest, `/other/` the four others.
    let category = |path: &str, chunk: &[Post]| {
        let pages: Vec<&[Post]> = chunk.chunks(2).collect();
        for (i, page) in pages.iter().enumerate() {
            let at = if i == 0 {
                path.to_string()
            } else {
                format!("{path}page/{}/", i + 1)
            };
            let next = (i + 1 < pages.len()).then(|| format!("{base}{path}page/{}/", i + 2));
            let links: Vec<(String, String)> = page
                .iter()
                .map(|p| (format!("{base}{}", p.path()), p.title.clone()))
                .collect();
            site.set(
                &at,
                Resp::Html(common::listing(&base, &links, next.as_deref())),
            );
        }
    };
    category("/all/", &posts);
    category("/cat/", &posts[..2]);
    category("/other/", &posts[2..]);
    let dir = tempfile::tempdir().unwrap();
    let config_at = |url: &str| {
        format!(
            "{}[[source]]\nname = \"all\"\nurl = \"{base}/all/\"\nkind = \"html\"\n",
            common::site_config(&format!("{base}{url}"), "", "kind = \"html\"")
        )
    };
    let config = common::write_config(dir.path(), &config_at("/cat/"));
    let (code, _, stderr) = common::feedwright(&config, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(common::atom_ids(dir.path()).len(), 2, "{stderr}");
    common::write_config(dir.path(), &config_at("/other/"));
    let (code, _, stderr) = common::feedwright(&config, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    // The run says what its feeds gained although nothing was fetched or stored anew.
    assert!(
        stderr.contains("site: 0 new, 0 updated, 0 unchanged, 4 stored already added, 0 failed"),
        "{stderr}"
    );
    let mut ids = common::atom_ids(dir.path());
    ids.sort();
    let mut want: Vec<String> = posts
        .iter()
        .map(|p| format!("{base}/?p={}", p.id))
        .collect();
    want.sort();
    assert_eq!(ids, want, "{stderr}");
}

/// A feed removed from (or renamed in) the configuration leaves its published folder as it is,
/// still served to its subscribers, and every run says so, naming the folder.
#[test]
fn a_feed_no_longer_configured_is_left_in_place_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let posts = dir.path().join("posts");
    std::fs::create_dir_all(&posts).unwrap();
    std::fs::write(
        posts.join("a.md"),
        "+++\ntitle = \"A\"\ndate = 2024-11-18\nurl = \"https://example.org/a/\"\n+++\nA.\n",
    )
    .unwrap();
    let two = format!(
        "{}[[feed]]\nname = \"extra\"\nsources = [\"events\"]\n",
        common::dir_config("")
    );
    let config = common::write_config(dir.path(), &two);
    let (code, _, stderr) = common::feedwright(&config, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("warning"), "{stderr}");
    let extra = dir.path().join("out/extra");
    let before = read(&extra.join("atom.xml"));

    common::write_config(dir.path(), &common::dir_config(""));
    let (code, _, stderr) = common::feedwright(&config, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    let line = stderr
        .lines()
        .find(|l| l.starts_with("warning: "))
        .unwrap_or_else(|| panic!("no warning:\n{stderr}"));
    assert!(line.contains(&extra.display().to_string()), "{line}");
    assert!(line.contains("no longer has"), "{line}");
    assert_eq!(read(&extra.join("atom.xml")), before);
}

/// A feed item whose link changes but whose own id (its guid) does not is the same post: the
/// entry keeps its id and takes the new link, instead of a second entry appearing.
#[test]
fn a_feed_item_whose_link_changes_keeps_its_entry() {
    let site = Site::start();
    let base = site.base();
    let feed = |path: &str| {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Site</title><link>{base}/</link><description>d</description>
<item><title>One</title><link>{base}{path}</link>
<guid isPermaLink="false">tag:example.org,2024:one</guid>
<pubDate>Tue, 05 Mar 2024 10:00:00 +0000</pubDate><description>Text of one.</description></item>
</channel></rss>"#
        )
    };
    serve_text(&site, "/feed/", "application/rss+xml", feed("/posts/one/"));
    let dir = tempfile::tempdir().unwrap();
    let config = common::write_config(
        dir.path(),
        &common::site_config(&site.url("/feed/"), "", "kind = \"feed\""),
    );
    let (code, _, stderr) = common::feedwright(&config, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    let old_id = format!("{base}/posts/one/");
    assert_eq!(common::atom_ids(dir.path()), std::slice::from_ref(&old_id));

    serve_text(
        &site,
        "/feed/",
        "application/rss+xml",
        feed("/posts/one-renamed/"),
    );
    let (code, _, stderr) = common::feedwright(&config, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("site: 0 new, 1 updated"), "{stderr}");
    let atom = parse_feed(&dir.path().join("out/main/atom.xml"));
    assert_eq!(atom.entries.len(), 1, "{stderr}");
    assert_eq!(atom.entries[0].id, old_id);
    assert_eq!(
        atom.entries[0].links[0].href,
        format!("{base}/posts/one-renamed/")
    );
}

/// A source URL may carry credentials (`http://user:password@host/…`): they are sent as HTTP
/// basic auth with every request to that origin, the listing's and the posts' (robots.txt
/// too), and never reach what is published: the feed's home link (the listing's URL) is shown
/// without them, and so are a post's link (the page names no canonical URL; the listing links
/// it relatively) and the links and images of its body made absolute against the page.
#[test]
fn credentials_in_a_source_url_reach_its_origin_and_never_the_feeds() {
    let site = Site::start();
    let listing = "<html><body><main><article><h2 class=\"entry-title\">\
        <a href=\"/2024/05/panel/\">Panel</a></h2></article></main></body></html>";
    site.set("/category/intl/", Resp::Html(listing.into()));
    let post = "<html><head><title>Panel</title>\
        <meta property=\"article:published_time\" content=\"2024-05-01T10:00:00Z\"></head>\
        <body><article><h1 class=\"entry-title\">Panel</h1>\
        <div class=\"entry-content\"><p>See <a href=\"/about/\">the program</a> and \
        <img src=\"img/panel.png\" alt=\"the panel\"> for more about the panel and its guests, \
        who spoke at length about negotiation across borders.</p></div></article></body></html>";
    site.set("/2024/05/panel/", Resp::Html(post.into()));
    let url = site
        .url("/category/intl/")
        .replace("http://", "http://editor:s3cretpw@");
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &common::site_config(&url, "", ""));
    let (code, stdout, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let base = site.base();
    for file in ["atom.xml", "rss.xml", "feed.json"] {
        let text = read(&dir.path().join("out/main").join(file));
        assert!(
            !text.contains("s3cretpw") && !text.contains("editor:"),
            "{file}: {text}"
        );
        assert!(
            text.contains(&format!("{base}/2024/05/panel/")),
            "{file}: {text}"
        );
        assert!(text.contains(&format!("{base}/about/")), "{file}: {text}");
        assert!(
            text.contains(&format!("{base}/2024/05/panel/img/panel.png")),
            "{file}: {text}"
        );
        assert!(
            text.contains(&format!("{base}/category/intl/")),
            "{file}: {text}"
        );
    }
    use base64::Engine as _;
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("editor:s3cretpw")
    );
    let hits = site.hits();
    for path in ["/robots.txt", "/category/intl/", "/2024/05/panel/"] {
        assert!(hits.iter().any(|h| h.path == path), "{path}: {hits:?}");
    }
    for hit in &hits {
        assert_eq!(
            hit.authorization.as_deref(),
            Some(expected.as_str()),
            "{hit:?}"
        );
    }
}

/// A site's post that leaves the listing (even its page gone) stays in the source's feeds, so
/// the posts related to it keep their links to it: only a post its source no longer holds (a
/// `dir` source's deleted or draft file) is left out of related links.
#[test]
fn a_related_post_that_leaves_the_listing_stays_linked() {
    let site = Site::start();
    let base = site.base();
    let c = Post::new(302, "water-panel", "Water panel", "2024-05-02T10:00:00Z");
    let mut a = Post::new(301, "trade-talks", "Trade talks", "2024-05-03T10:00:00Z");
    a.body = format!(
        "<p>Trade talks resumed.</p><div class=\"yarpp-related\"><h3>Related posts:</h3><ol>\
         <li><a href=\"{base}{}\">Water panel</a></li></ol></div>",
        c.path()
    );
    for p in [&a, &c] {
        site.set(&p.path(), Resp::Html(classic_post(&base, p)));
    }
    let card = |p: &Post| (format!("{base}{}", p.path()), p.title.clone());
    site.set(
        "/cat/",
        Resp::Html(listing(&base, &[card(&a), card(&c)], None)),
    );
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &html_config(&site.url("/cat/"), ""));
    let related_of_a = || {
        let feed = parse_feed(&dir.path().join("out/main/atom.xml"));
        let entry = feed
            .entries
            .iter()
            .find(|e| e.id == format!("{base}/?p=301"))
            .expect("a is in the feed")
            .clone();
        entry
            .links
            .into_iter()
            .filter(|l| l.rel.as_deref() == Some("related"))
            .map(|l| (l.href, l.title.unwrap_or_default()))
            .collect::<Vec<_>>()
    };
    let to_c = vec![(format!("{base}{}", c.path()), "Water panel".to_owned())];
    let (code, _, stderr) = feedwright(&config, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(related_of_a(), to_c);

    site.set("/cat/", Resp::Html(listing(&base, &[card(&a)], None)));
    site.set(&c.path(), Resp::Status(404));
    let (code, _, stderr) = feedwright(&config, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(common::atom_ids(dir.path()).len(), 2, "{stderr}");
    assert_eq!(related_of_a(), to_c);
}
