//! Two posts of one run that make one entry (two files with one `url`, two feed items with one
//! link, two pages declaring one canonical URL): one is kept, by a rule that does not depend on
//! which finished first, the other is reported, and later runs leave the entry alone.

mod common;

use std::path::Path;

use common::{
    Post, Resp, Site, classic_post, dir_config, feedwright, html_config, jsonld_post, listing,
    write_config,
};

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn titles(atom: &Path) -> Vec<String> {
    feed_rs::parser::parse(read(atom).as_bytes())
        .unwrap_or_else(|e| panic!("{}: {e}", atom.display()))
        .entries
        .into_iter()
        .map(|e| e.title.map(|t| t.content).unwrap_or_default())
        .collect()
}

/// The stderr line reporting `what`.
fn line_of<'a>(stderr: &'a str, what: &str) -> &'a str {
    stderr
        .lines()
        .find(|l| l.contains(what))
        .unwrap_or_else(|| panic!("no line about {what}:\n{stderr}"))
}

#[test]
fn two_files_with_one_url_keep_the_first_by_name_and_stop_rewriting_the_feed() {
    let dir = tempfile::tempdir().unwrap();
    let posts = dir.path().join("posts");
    std::fs::create_dir_all(posts.join("later")).unwrap();
    let post = |title: &str, url: &str| {
        format!("+++\ntitle = \"{title}\"\ndate = 2024-11-18\nurl = \"{url}\"\n+++\n{title}.\n")
    };
    let dup = "https://example.org/events/dup/";
    // Written in an order unlike their names, and one in a subfolder (paths sort "b-..." before
    // "later/...").
    std::fs::write(posts.join("later/a.md"), post("Third copy", dup)).unwrap();
    std::fs::write(posts.join("c-copy.md"), post("Second copy", dup)).unwrap();
    std::fs::write(posts.join("b-original.md"), post("Original", dup)).unwrap();
    // A copy whose name sorts first byte by byte (' ' < '.'): names are compared before their
    // extensions, so the original is still kept.
    std::fs::write(posts.join("b-original copy.md"), post("Copy", dup)).unwrap();
    // A saved page of the folder declaring the same canonical URL.
    std::fs::write(
        posts.join("z-saved.html"),
        format!(
            "<!DOCTYPE html><html><head><title>Saved copy</title>\
             <link rel=\"canonical\" href=\"{dup}\"></head><body><article>\
             <h1 class=\"entry-title\">Saved copy</h1><div class=\"entry-content\">\
             <p>Saved copy of the post.</p></div></article></body></html>"
        ),
    )
    .unwrap();
    // Two saved pages given the URL by front matter: each is its own file, not one page
    // reached twice, so both are reported.
    for name in ["y-front.html", "y-front-2.html"] {
        std::fs::write(
            posts.join(name),
            format!(
                "+++\nurl = \"{dup}\"\n+++\n<!DOCTYPE html><html><head><title>Front</title>\
                 </head><body><article><h1 class=\"entry-title\">Front {name}</h1>\
                 <div class=\"entry-content\"><p>A saved page.</p></div></article></body></html>"
            ),
        )
        .unwrap();
    }
    std::fs::write(
        posts.join("other.md"),
        post("Another post", "https://example.org/events/other/")
            .replace("2024-11-18", "2024-11-11"),
    )
    .unwrap();
    let cfg = write_config(dir.path(), &dir_config(""));
    let atom = dir.path().join("out/events/atom.xml");
    let json = dir.path().join("out/events/feed.json");
    let mut first = None;
    for run in 1..=4 {
        let (code, _, stderr) = feedwright(&cfg, &["run"]);
        assert_eq!(code, 1, "run {run}: the duplicates are failures\n{stderr}");
        let kept = posts.join("b-original.md").display().to_string();
        for copy in [
            "b-original copy.md",
            "c-copy.md",
            "later/a.md",
            "y-front.html",
            "y-front-2.html",
            "z-saved.html",
        ] {
            // Markdown files and saved pages are named alike.
            let file = posts.join(copy).display().to_string();
            let line = line_of(&stderr, &format!("failed {file}: "));
            assert!(
                line.contains(&format!("same post as {kept} (both give the entry {dup})")),
                "run {run}: names the file kept and the URL: {line}"
            );
        }
        assert!(
            !stderr.contains("b-original.md: "),
            "run {run}: the kept file is not reported\n{stderr}"
        );
        assert_eq!(titles(&atom), ["Original", "Another post"], "run {run}");
        let files = (read(&atom), read(&json));
        match &first {
            None => {
                assert!(stderr.contains("events: 2 new"), "{stderr}");
                first = Some(files);
            }
            Some(before) => {
                assert!(
                    stderr.contains("0 new, 0 updated, 2 unchanged, 6 failed"),
                    "run {run}: nothing rewritten\n{stderr}"
                );
                assert!(*before == files, "run {run}: the feeds did not change");
            }
        }
    }
}

#[test]
fn two_feed_items_with_one_link_keep_the_first() {
    let site = Site::start();
    let base = site.base();
    let item = |title: &str, link: &str| {
        format!(
            "<item><title>{title}</title><link>{base}{link}</link>\
             <pubDate>Tue, 02 Jan 2024 10:00:00 +0000</pubDate>\
             <description>{title}.</description></item>"
        )
    };
    let rss = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Site</title><link>{base}/</link><description>d</description>
{}{}{}</channel></rss>"#,
        item("First of the two", "/2024/01/02/same/"),
        item("Other", "/2024/01/01/other/").replace("Tue, 02 Jan", "Mon, 01 Jan"),
        item("Second of the two", "/2024/01/02/same/"),
    );
    site.set(
        "/feed/",
        Resp::Bytes {
            content_type: "application/rss+xml; charset=UTF-8".into(),
            body: rss.into_bytes(),
            headers: vec![],
        },
    );
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &html_config(&site.url("/feed/"), ""));
    let atom = dir.path().join("out/main/atom.xml");
    let mut first = None;
    for run in 1..=3 {
        // Someone else's feed, which the user cannot fix: the repeat is left out, not failed.
        let (code, _, stderr) = feedwright(&cfg, &["run"]);
        assert_eq!(code, 0, "run {run}\n{stderr}");
        let line = line_of(&stderr, "repeats the link");
        assert!(
            line.trim_start().starts_with("skipped")
                && line.contains(&format!("{base}/2024/01/02/same/"))
                && line.contains("\"Second of the two\"")
                && line.contains("\"First of the two\"")
                && line.contains("which is kept"),
            "run {run}: {line}"
        );
        assert_eq!(titles(&atom), ["First of the two", "Other"], "run {run}");
        let text = read(&atom);
        assert!(
            first.get_or_insert_with(|| text.clone()) == &text,
            "run {run}: the feed did not change"
        );
    }
}

#[test]
fn a_page_stored_before_its_twin_arrives_gives_way_to_the_one_sorting_first() {
    let site = Site::start();
    let base = site.base();
    // 40 ordinary posts, then two pages declaring one canonical URL: /dup/b/ is listed first
    // and /dup/a/ last, and /dup/a/ is answered only once /dup/b/ and the first 35 posts have
    // been, so /dup/b/ is stored by an earlier batch (32 posts) before /dup/a/ arrives.
    let posts: Vec<Post> = (0..40)
        .map(|i| {
            Post::new(
                100 + i,
                &format!("post-{i}"),
                &format!("Post {i}"),
                &format!("2024-05-{:02}T09:00:00+00:00", 28 - (i % 28)),
            )
        })
        .collect();
    let canonical = format!("{base}/dup/a/");
    let dup_page = |id: u64, title: &str| {
        let mut p = Post::new(id, "dup", title, "2024-06-01T09:00:00+00:00");
        p.body = format!("<p>{title}.</p>");
        classic_post(&base, &p).replace(&format!("{base}{}", p.path()), &canonical)
    };
    let mut waited_for = vec!["/dup/b/".to_string()];
    waited_for.extend(posts.iter().take(35).map(Post::path));
    site.set("/dup/b/", Resp::Html(dup_page(2, "Page B")));
    site.set(
        "/dup/a/",
        Resp::After {
            paths: waited_for,
            since: 0,
            then: Box::new(Resp::Html(dup_page(1, "Page A"))),
        },
    );
    let mut links = vec![(format!("{base}/dup/b/"), "Page B".to_string())];
    for p in &posts {
        site.set(&p.path(), Resp::Html(classic_post(&base, p)));
        links.push((format!("{base}{}", p.path()), p.title.clone()));
    }
    links.push((format!("{base}/dup/a/"), "Page A".to_string()));
    site.set("/cat/", Resp::Html(listing(&base, &links, None)));
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &html_config(&site.url("/cat/"), ""));
    let atom = dir.path().join("out/main/atom.xml");

    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 1, "{stderr}");
    let line = line_of(&stderr, &format!("{base}/dup/b/:"));
    assert!(
        line.contains(&format!("is the same post as {base}/dup/a/, which is kept")),
        "{line}"
    );
    let t = titles(&atom);
    assert_eq!(t.len(), 41, "{t:?}");
    assert_eq!(t[0], "Page A", "the page sorting first is the entry");
    assert!(!t.contains(&"Page B".to_string()), "{t:?}");
    // Stored as if page B had never been: page A's own id (its shortlink), one new entry.
    let feed = feed_rs::parser::parse(read(&atom).as_bytes()).unwrap();
    assert_eq!(feed.entries[0].id, format!("{base}/?p=1"));
    assert!(
        stderr.contains("site: 41 new, 0 updated"),
        "the entry counts once, as new\n{stderr}"
    );

    // Both pages are now known as that entry: page B is not fetched again (page A, the entry's
    // URL, may be re-checked like any young post), and the entry stays page A's.
    let before = site.hits().len();
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    let again: Vec<String> = site.hits()[before..]
        .iter()
        .map(|h| h.path.clone())
        .collect();
    assert!(!again.contains(&"/dup/b/".to_string()), "{again:?}");
    assert_eq!(titles(&atom)[0], "Page A");
}

/// A post whose slug changed, with its old URL redirecting to the new one the listing now
/// links: its re-check and the listing reach the same page through two URLs. That is one post
/// moving, not two posts giving one entry, so the run reports one update and no failure.
#[test]
fn a_post_moved_with_a_redirect_is_one_update_not_a_duplicate() {
    moved_with_a_redirect(classic_post);
}

/// [`a_post_moved_with_a_redirect_is_one_update_not_a_duplicate`] on pages that show no
/// WordPress post number (the entry id is the URL): the entry keeps its id and takes the new
/// URL all the same.
#[test]
fn a_post_without_a_post_number_moved_with_a_redirect_keeps_its_entry() {
    moved_with_a_redirect(common::jsonld_post);
}

/// Serve `posts` on `site` (each page rendered by `page`) with a listing of them at `/cat/`,
/// and run an html source on it once (every post new, exit 0): the folder and the config.
fn listed_and_read(
    site: &Site,
    page: fn(&str, &Post) -> String,
    posts: &[&Post],
) -> (tempfile::TempDir, std::path::PathBuf) {
    let base = site.base();
    for p in posts {
        site.set(&p.path(), Resp::Html(page(&base, p)));
    }
    let links: Vec<(String, String)> = posts
        .iter()
        .map(|p| (format!("{base}{}", p.path()), p.title.clone()))
        .collect();
    site.set("/cat/", Resp::Html(listing(&base, &links, None)));
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        &html_config(&site.url("/cat/"), "respect_robots = false"),
    );
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains(&format!("site: {} new", posts.len())),
        "{stderr}"
    );
    (dir, cfg)
}

/// The slug change of [`a_post_moved_with_a_redirect_is_one_update_not_a_duplicate`], on
/// pages rendered by `page`.
fn moved_with_a_redirect(page: fn(&str, &Post) -> String) {
    let site = Site::start();
    let base = site.base();
    let date = "2026-11-20T09:00:00+00:00";
    let old = Post::new(9100, "panel-on-water", "Panel on water", date);
    let other = Post::new(9101, "panel-on-trade", "Panel on trade", date);
    let link = |p: &Post| (format!("{base}{}", p.path()), p.title.clone());
    let (dir, cfg) = listed_and_read(&site, page, &[&old, &other]);

    // The slug changes: the old URL redirects, the listing links the new one.
    let moved = Post::new(9100, "panel-on-water-renamed", "Panel on water", date);
    site.set(&moved.path(), Resp::Html(page(&base, &moved)));
    site.set(&old.path(), Resp::Redirect(site.url(&moved.path())));
    site.set(
        "/cat/",
        Resp::Html(listing(&base, &[link(&moved), link(&other)], None)),
    );
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("site: 0 new, 1 updated, 1 unchanged, 0 failed;"),
        "{stderr}"
    );
    let feed: serde_json::Value =
        serde_json::from_str(&read(&dir.path().join("out/main/feed.json"))).unwrap();
    let items = feed["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{feed}");
    assert!(
        items
            .iter()
            .any(|i| i["url"] == site.url(&moved.path()).as_str()),
        "the entry has the new URL: {feed}"
    );

    let ids: Vec<&str> = items.iter().filter_map(|i| i["id"].as_str()).collect();
    assert!(
        ids.iter().all(|id| !id.contains("renamed")),
        "the entry keeps its id: {ids:?}"
    );

    // The next run has nothing to say about either URL.
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains(", 0 failed;"), "{stderr}");
}

/// A saved WordPress page copied as a template for a new post keeps the original's post number
/// (`article#post-42`, the shortlink): two different pages giving one entry id. One is kept
/// (the one sorting first), the copy is reported, and later runs leave the entry alone instead
/// of rewriting it with each page in turn.
#[test]
fn a_copied_page_keeping_the_post_number_is_reported_not_merged() {
    let dir = tempfile::tempdir().unwrap();
    let posts = dir.path().join("posts");
    std::fs::create_dir_all(&posts).unwrap();
    let page = |slug: &str, title: &str, date: &str| {
        format!(
            "<!DOCTYPE html><html><head><title>{title}</title>\
             <link rel=\"canonical\" href=\"https://example.org/events/{slug}/\">\
             <link rel=\"shortlink\" href=\"https://example.org/?p=42\">\
             <meta property=\"article:published_time\" content=\"{date}\"></head>\
             <body class=\"single postid-42\"><article id=\"post-42\" class=\"post hentry\">\
             <h1 class=\"entry-title\">{title}</h1><div class=\"entry-content\">\
             <p>{title}: what the panel discussed.</p></div></article></body></html>"
        )
    };
    std::fs::write(
        posts.join("saved-page.html"),
        page("roundtable", "Roundtable", "2024-11-21T15:30:00Z"),
    )
    .unwrap();
    std::fs::write(
        posts.join("saved-page-2.html"),
        page("briefing", "Briefing", "2024-11-22T15:30:00Z"),
    )
    .unwrap();
    let cfg = write_config(dir.path(), &dir_config(""));
    let atom = dir.path().join("out/events/atom.xml");
    let mut first = None;
    for run in 1..=3 {
        let (code, _, stderr) = feedwright(&cfg, &["run"]);
        assert_eq!(code, 1, "run {run}: the copy is a failure\n{stderr}");
        let copy = posts.join("saved-page-2.html").display().to_string();
        let line = line_of(&stderr, &format!("failed {copy}: "));
        let kept = posts.join("saved-page.html").display().to_string();
        assert!(
            line.contains("https://example.org/?p=42") && line.contains(&kept),
            "run {run}: names the id and the file kept: {line}"
        );
        assert_eq!(titles(&atom), ["Roundtable"], "run {run}");
        let now = read(&atom);
        match &first {
            None => {
                assert!(stderr.contains("events: 1 new"), "{stderr}");
                first = Some(now);
            }
            Some(before) => {
                assert!(
                    stderr.contains("0 new, 0 updated, 1 unchanged, 1 failed"),
                    "run {run}: nothing rewritten\n{stderr}"
                );
                assert!(*before == now, "run {run}: the feed did not change");
            }
        }
    }
}

/// A deleted post whose old URL now redirects to a page the listing does not link (the home
/// page) did not move: its entry stays as it was, and the page it leads to is not taken for a
/// new post (a `skipped` line says where the URL leads).
#[test]
fn a_post_redirected_to_a_page_not_listed_keeps_its_entry() {
    let site = Site::start();
    let base = site.base();
    let date = "2026-11-20T09:00:00+00:00";
    let gone = Post::new(9200, "panel-on-ports", "Panel on ports", date);
    let other = Post::new(9201, "panel-on-fish", "Panel on fish", date);
    let link = |p: &Post| (format!("{base}{}", p.path()), p.title.clone());
    let (dir, cfg) = listed_and_read(&site, common::jsonld_post, &[&gone, &other]);
    let gone_id = format!("{base}{}", gone.path());

    // The post is deleted; its URL redirects to the home page, a post of its own.
    let home = Post::new(9300, "home", "Welcome home", date);
    site.set(
        "/",
        Resp::Html(common::jsonld_post(&base, &home).replace(&home.path(), "/")),
    );
    site.set(&gone.path(), Resp::Redirect(site.url("/")));
    site.set("/cat/", Resp::Html(listing(&base, &[link(&other)], None)));
    let (_, _, stderr) = feedwright(&cfg, &["run"]);
    let feed: serde_json::Value =
        serde_json::from_str(&read(&dir.path().join("out/main/feed.json"))).unwrap();
    let kept = feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == gone_id.as_str())
        .unwrap_or_else(|| panic!("{gone_id} is still there: {feed}\n{stderr}"));
    assert_eq!(kept["title"], "Panel on ports", "{feed}");
    assert_eq!(kept["url"], gone_id.as_str(), "{feed}");
    assert_eq!(feed["items"].as_array().unwrap().len(), 2, "{feed}");
    let line = line_of(&stderr, &format!("skipped {gone_id}: "));
    assert!(
        line.contains(&format!("redirects to {}", site.url("/"))),
        "{line}"
    );
    assert!(stderr.contains("site: 0 new, 0 updated"), "{stderr}");
}

/// A Markdown post with front matter `title`, `date` and `url`.
fn md_post(title: &str, date: &str, url: &str) -> String {
    format!("+++\ntitle = \"{title}\"\ndate = {date}\nurl = \"{url}\"\n+++\n{title}.\n")
}

/// The (id, url, title) of every item of `out/events/feed.json` below `dir`.
fn dir_items(dir: &Path) -> Vec<(String, String, String)> {
    let feed: serde_json::Value =
        serde_json::from_str(&read(&dir.join("out/events/feed.json"))).unwrap();
    feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let text = |k: &str| i[k].as_str().unwrap_or_default().to_string();
            (text("id"), text("url"), text("title"))
        })
        .collect()
}

/// A copy of a published file, made later as a template for a new post and still carrying the
/// original's `url`, does not take the entry over, even when its name sorts first: the file
/// that gave the entry keeps it, and the copy is reported.
#[test]
fn a_later_copy_of_a_file_does_not_take_its_entry() {
    let dir = tempfile::tempdir().unwrap();
    let posts = dir.path().join("posts");
    std::fs::create_dir_all(&posts).unwrap();
    let url = "https://example.org/events/x/";
    std::fs::write(
        posts.join("m-original.md"),
        md_post("Original published", "2024-11-18", url),
    )
    .unwrap();
    let cfg = write_config(dir.path(), &dir_config(""));
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");

    std::fs::write(
        posts.join("a-copy.md"),
        md_post("Copy being drafted", "2024-11-19", url),
    )
    .unwrap();
    for run in 1..=2 {
        let (code, _, stderr) = feedwright(&cfg, &["run"]);
        assert_eq!(code, 1, "run {run}: {stderr}");
        let copy = posts.join("a-copy.md").display().to_string();
        let original = posts.join("m-original.md").display().to_string();
        let line = line_of(&stderr, &format!("failed {copy}: "));
        assert!(line.contains(&original), "run {run}: {line}");
        assert!(
            stderr.contains("0 new, 0 updated, 1 unchanged, 1 failed"),
            "{stderr}"
        );
        let items = dir_items(dir.path());
        assert_eq!(items.len(), 1, "{items:?}");
        assert_eq!(items[0].2, "Original published", "run {run}");
    }
}

/// A copy reported as such, and then the original's `url` changes (the editor gives the
/// original its new slug, the copy still carrying the old one): the original keeps its entry,
/// at its new URL, and the copy is still reported, on every run; the two never rewrite the
/// entry in turn.
#[test]
fn a_copy_does_not_take_the_entry_when_the_originals_url_changes() {
    let dir = tempfile::tempdir().unwrap();
    let posts = dir.path().join("posts");
    std::fs::create_dir_all(&posts).unwrap();
    let (old, new) = (
        "https://example.org/events/choir/",
        "https://example.org/events/choir-st-marien/",
    );
    std::fs::write(
        posts.join("choir.md"),
        md_post("Choir evening", "2024-11-18", old),
    )
    .unwrap();
    let cfg = write_config(dir.path(), &dir_config(""));
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    std::fs::write(
        posts.join("choir-copy.md"),
        md_post("New post drafted from template", "2024-11-18", old),
    )
    .unwrap();
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 1, "{stderr}");
    std::fs::write(
        posts.join("choir.md"),
        md_post("Choir evening", "2024-11-18", new),
    )
    .unwrap();
    for run in 1..=2 {
        let (code, _, stderr) = feedwright(&cfg, &["run"]);
        assert_eq!(code, 1, "run {run}: {stderr}");
        let copy = posts.join("choir-copy.md").display().to_string();
        let line = line_of(&stderr, &format!("failed {copy}: "));
        assert!(line.contains("choir.md"), "run {run}: {line}");
        assert!(
            stderr.contains(if run == 1 {
                "0 new, 1 updated"
            } else {
                "0 new, 0 updated"
            }),
            "run {run}: {stderr}"
        );
        assert_eq!(
            dir_items(dir.path()),
            [(
                old.to_string(),
                new.to_string(),
                "Choir evening".to_string()
            )],
            "run {run}"
        );
    }
}

/// An editor changes the `url` of a published file: the entry keeps its id (feed readers see
/// the same post) and takes the new URL; nothing is duplicated.
#[test]
fn a_file_whose_url_changes_keeps_its_entry() {
    let dir = tempfile::tempdir().unwrap();
    let posts = dir.path().join("posts");
    std::fs::create_dir_all(&posts).unwrap();
    let old = "https://example.org/events/a/";
    let new = "https://example.org/events/a-renamed/";
    std::fs::write(posts.join("a.md"), md_post("Event A", "2024-11-18", old)).unwrap();
    let cfg = write_config(dir.path(), &dir_config(""));
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    std::fs::write(posts.join("a.md"), md_post("Event A", "2024-11-18", new)).unwrap();
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("events: 0 new, 1 updated"), "{stderr}");
    assert_eq!(
        dir_items(dir.path()),
        [(old.to_string(), new.to_string(), "Event A".to_string())]
    );
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("events: 0 new, 0 updated, 1 unchanged"),
        "{stderr}"
    );
}

/// A file made a draft, or deleted, takes its post out of the feeds (reported as skipped, not a
/// failure); made public again, the post comes back with its id. A file that fails keeps its
/// post as it was, and a folder with no file left takes nothing out.
#[test]
fn a_file_made_a_draft_or_deleted_takes_its_post_out() {
    let dir = tempfile::tempdir().unwrap();
    let posts = dir.path().join("posts");
    std::fs::create_dir_all(&posts).unwrap();
    let (a, b) = (
        "https://example.org/events/a/",
        "https://example.org/events/b/",
    );
    std::fs::write(posts.join("a.md"), md_post("Event A", "2024-11-18", a)).unwrap();
    std::fs::write(posts.join("b.md"), md_post("Event B", "2024-11-19", b)).unwrap();
    let cfg = write_config(dir.path(), &dir_config(""));
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    let ids = |dir: &Path| -> Vec<String> { dir_items(dir).into_iter().map(|i| i.0).collect() };
    assert_eq!(ids(dir.path()), [b, a]);

    // B becomes a draft.
    let draft = md_post("Event B", "2024-11-19", b).replacen("+++\n", "+++\ndraft = true\n", 1);
    std::fs::write(posts.join("b.md"), &draft).unwrap();
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    let b_file = posts.join("b.md").display().to_string();
    let line = line_of(&stderr, &format!("skipped {b_file}: "));
    assert!(line.contains("taken out of the feeds"), "{line}");
    assert_eq!(ids(dir.path()), [a]);

    // Public again: back, same id.
    std::fs::write(posts.join("b.md"), md_post("Event B", "2024-11-19", b)).unwrap();
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(ids(dir.path()), [b, a]);

    // A file with a mistake keeps its post; a deleted one takes it out.
    std::fs::write(posts.join("b.md"), "+++\ntitle = \"unclosed\n+++\n").unwrap();
    std::fs::remove_file(posts.join("a.md")).unwrap();
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(ids(dir.path()), [b]);

    // A subfolder that cannot be read (here a link to nowhere) does not take its posts out.
    let (c, sub) = ("https://example.org/events/c/", posts.join("sub"));
    std::fs::create_dir(&sub).unwrap();
    std::fs::write(sub.join("c.md"), md_post("Event C", "2024-11-17", c)).unwrap();
    std::fs::write(posts.join("b.md"), md_post("Event B", "2024-11-19", b)).unwrap();
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(ids(dir.path()), [b, c]);
    std::fs::remove_dir_all(&sub).unwrap();
    std::os::unix::fs::symlink(dir.path().join("nowhere"), &sub).unwrap();
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("broken link"), "{stderr}");
    assert_eq!(ids(dir.path()), [b, c]);
    std::fs::remove_file(&sub).unwrap();

    // Nothing left in the folder (a disk not mounted, say): nothing is taken out.
    std::fs::remove_file(posts.join("b.md")).unwrap();
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("has no post file"), "{stderr}");
    assert_eq!(ids(dir.path()), [b, c]);
}

/// The last post of a feed made a draft takes it out too: the feed is written with no entries,
/// so its subscribers see it go (a folder holding only drafts is there, not unmounted). A new
/// store that has not read the folder yet never blanks the published feed.
#[test]
fn the_last_post_made_a_draft_empties_the_feed_but_a_new_store_blanks_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let posts = dir.path().join("posts");
    std::fs::create_dir_all(&posts).unwrap();
    let a = "https://example.org/events/a/";
    std::fs::write(posts.join("a.md"), md_post("Event A", "2024-11-18", a)).unwrap();
    let cfg = write_config(dir.path(), &dir_config(""));
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    let ids = |dir: &Path| -> Vec<String> { dir_items(dir).into_iter().map(|i| i.0).collect() };
    assert_eq!(ids(dir.path()), [a]);

    let draft = md_post("Event A", "2024-11-18", a).replacen("+++\n", "+++\ndraft = true\n", 1);
    std::fs::write(posts.join("a.md"), &draft).unwrap();
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("has no post file"), "{stderr}");
    let line = line_of(&stderr, "feed events: ");
    assert!(line.contains("0 entries"), "{line}");
    assert!(ids(dir.path()).is_empty());
    let out = dir.path().join("out/events");
    let atom = feed_rs::parser::parse(read(&out.join("atom.xml")).as_bytes()).unwrap();
    assert!(atom.entries.is_empty());
    let rss = feed_rs::parser::parse(read(&out.join("rss.xml")).as_bytes()).unwrap();
    assert!(rss.entries.is_empty());

    // Public again: back, same id.
    std::fs::write(posts.join("a.md"), md_post("Event A", "2024-11-18", a)).unwrap();
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(ids(dir.path()), [a]);

    // The store lost, and the folder not there: the published feed is left as it is.
    let published = read(&out.join("atom.xml"));
    std::fs::remove_file(dir.path().join("feedwright.db")).unwrap();
    std::fs::rename(&posts, dir.path().join("away")).unwrap();
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("feed events: no entries yet"), "{stderr}");
    assert_eq!(read(&out.join("atom.xml")), published);
    assert_eq!(ids(dir.path()), [a]);
}

/// A post too old to be re-checked (`recheck_days`) whose slug changes, on pages that show no
/// WordPress post number: the listing's new URL would make a second entry, since nothing
/// reaches the old URL in that run. The stored post published at the same second is asked
/// again, leads to the new page, and the two are one entry (one update). A new post that only
/// shares a stored one's date stays a post of its own.
#[test]
fn an_old_post_moved_with_a_redirect_is_found_by_its_date() {
    let site = Site::start();
    let base = site.base();
    let old = Post::new(9200, "old-a", "Post A", "2024-03-05T09:00:00+00:00");
    let other = Post::new(9201, "post-b", "Post B", "2024-03-04T09:00:00+00:00");
    let deleted = Post::new(9203, "talks-d", "Post D", "2024-03-03T09:00:00+00:00");
    let link = |p: &Post| (format!("{base}{}", p.path()), p.title.clone());
    for p in [&old, &other, &deleted] {
        site.set(&p.path(), Resp::Html(jsonld_post(&base, p)));
    }
    site.set(
        "/cat/",
        Resp::Html(listing(
            &base,
            &[link(&old), link(&other), link(&deleted)],
            None,
        )),
    );
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        &common::site_config(&site.url("/cat/"), "respect_robots = false", ""),
    );
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("site: 3 new"), "{stderr}");

    // The slug changes; another new post has Post B's date, and Post B leaves the first page.
    // Post D is deleted, and the site sends its URL to a new post of the same day with a
    // similar name (WordPress guesses so for a URL it no longer knows): another post, not a move.
    let moved = Post::new(9200, "new-a", "Post A", "2024-03-05T09:00:00+00:00");
    let twin_date = Post::new(9202, "post-c", "Post C", "2024-03-04T09:00:00+00:00");
    let guessed = Post::new(9204, "talks-d-2", "Post E", "2024-03-03T09:00:00+00:00");
    for p in [&moved, &twin_date, &guessed] {
        site.set(&p.path(), Resp::Html(jsonld_post(&base, p)));
    }
    site.set(&old.path(), Resp::Redirect(site.url(&moved.path())));
    site.set(&deleted.path(), Resp::Redirect(site.url(&guessed.path())));
    site.set(
        "/cat/",
        Resp::Html(listing(
            &base,
            &[link(&moved), link(&twin_date), link(&guessed)],
            None,
        )),
    );
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("site: 2 new, 1 updated, 0 unchanged, 0 failed;"),
        "{stderr}"
    );
    let feed: serde_json::Value =
        serde_json::from_str(&read(&dir.path().join("out/main/feed.json"))).unwrap();
    let items = feed["items"].as_array().unwrap();
    let urls: Vec<&str> = items.iter().filter_map(|i| i["url"].as_str()).collect();
    assert_eq!(urls.len(), 5, "{feed}");
    for p in [&moved, &other, &twin_date, &deleted, &guessed] {
        assert!(urls.contains(&site.url(&p.path()).as_str()), "{feed}");
    }
    let ids: Vec<&str> = items.iter().filter_map(|i| i["id"].as_str()).collect();
    assert!(
        ids.contains(&site.url(&old.path()).as_str()),
        "kept its id: {ids:?}"
    );
}

/// Two pages give one entry: the post's own page (read at the canonical URL they both declare)
/// and a copy of it elsewhere (an `/amp/` or print version, a copy) whose URL sorts first. The
/// post's own page is the entry, and the copy is the one reported.
#[test]
fn the_page_at_the_canonical_url_wins_over_a_copy_declaring_it() {
    let site = Site::start();
    let base = site.base();
    let canonical = format!("{base}/t/post/");
    let page = |id: u64, title: &str| {
        let mut p = Post::new(id, "t", title, "2024-06-01T09:00:00+00:00");
        p.body = format!("<p>{title}.</p>");
        classic_post(&base, &p).replace(&format!("{base}{}", p.path()), &canonical)
    };
    site.set("/t/copy/", Resp::Html(page(2, "The copy")));
    site.set("/t/post/", Resp::Html(page(1, "The post")));
    let links = vec![
        (format!("{base}/t/copy/"), "The copy".to_string()),
        (canonical.clone(), "The post".to_string()),
    ];
    site.set("/cat/", Resp::Html(listing(&base, &links, None)));
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &html_config(&site.url("/cat/"), ""));
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 1, "{stderr}");
    let line = line_of(&stderr, &format!("{base}/t/copy/:"));
    assert!(
        line.contains(&format!("is the same post as {canonical}, which is kept")),
        "{line}"
    );
    assert_eq!(titles(&dir.path().join("out/main/atom.xml")), ["The post"]);
}
