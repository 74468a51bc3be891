//! A source reads its own site only: redirects to another site are not followed, and links,
//! feed items and REST API posts on another site are not read (so one source can never change
//! another's entries). Two fixture servers play two sites: one is named `127.0.0.1`, the other
//! `localhost` (different hosts, whatever their ports).

mod common;

use common::{Post, Resp, Site, classic_post, feedwright, listing, write_config};

/// `http://localhost:<port>` for a fixture site: the same server under another host name.
fn other_host(site: &Site, path: &str) -> String {
    format!("http://localhost:{}{path}", site.addr.port())
}

/// The first stderr line naming `url` that holds `word`.
fn line<'a>(stderr: &'a str, word: &str, url: &str) -> Option<&'a str> {
    stderr.lines().find(|l| l.contains(word) && l.contains(url))
}

/// `(id, title, text)` of every entry of `out/<feed>/atom.xml` below `dir`.
fn entries(dir: &std::path::Path, feed: &str) -> Vec<(String, String, String)> {
    let xml = std::fs::read(dir.join(format!("out/{feed}/atom.xml"))).expect("atom.xml");
    feed_rs::parser::parse(xml.as_slice())
        .expect("atom")
        .entries
        .into_iter()
        .map(|e| {
            let title = e.title.map(|t| t.content).unwrap_or_default();
            let text = e
                .content
                .and_then(|c| c.body)
                .or(e.summary.map(|s| s.content))
                .unwrap_or_default();
            (e.id, title, text)
        })
        .collect()
}

fn two_sources(first: (&str, &str, &str), second: (&str, &str, &str), extra: &str) -> String {
    let table = |(name, url, kind): (&str, &str, &str)| {
        format!("[[source]]\nname = \"{name}\"\nurl = \"{url}\"\nkind = \"{kind}\"\n{extra}\n")
    };
    format!(
        r#"output_dir = "out"
public_url = "http://feeds.test/"
[store]
path = "feedwright.db"
[http]
min_interval_ms = 0
timeout_secs = 3
max_retries = 0
{}{}
[[feed]]
name = "{}"
sources = ["{}"]
[[feed]]
name = "{}"
sources = ["{}"]
"#,
        table(first),
        table(second),
        first.0,
        first.0,
        second.0,
        second.0
    )
}

/// A post redirecting to another site is skipped with a line saying where it leads, and the
/// other site sees no request (robots.txt included); so is a redirect to `file:`. A listing
/// link to another site is not a post. A redirect within the site is followed.
#[test]
fn redirects_and_links_to_another_site_are_not_followed() {
    let site = Site::start();
    let other = Site::start();
    let base = site.base();
    other.set("/admin/secret/", Resp::Html("<h1>INTERNAL</h1>".into()));
    let good = Post::new(1, "good", "A good post", "2024-01-02T10:00:00+00:00");
    let moved = Post::new(2, "moved", "Moved within", "2024-01-03T10:00:00+00:00");
    let secret = other_host(&other, "/admin/secret/");
    let direct = other_host(&other, "/admin/direct/");
    site.set(&good.path(), Resp::Html(classic_post(&base, &good)));
    site.set("/old-moved/", Resp::Redirect(site.url(&moved.path())));
    site.set(&moved.path(), Resp::Html(classic_post(&base, &moved)));
    site.set("/away/", Resp::Redirect(secret.clone()));
    site.set("/file/", Resp::Redirect("file:///etc/passwd".into()));
    let links = [
        (site.url(&good.path()), "good".to_owned()),
        (site.url("/old-moved/"), "moved".to_owned()),
        (site.url("/away/"), "away".to_owned()),
        (site.url("/file/"), "file".to_owned()),
        (direct.clone(), "direct".to_owned()),
    ];
    site.set("/cat/", Resp::Html(listing(&base, &links, None)));
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = write_config(
        dir.path(),
        &common::site_config(&site.url("/cat/"), "", "kind = \"html\""),
    );
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        other.requests().is_empty(),
        "the other site was asked: {:?}",
        other.requests()
    );
    assert!(
        line(
            &stderr,
            "skipped",
            &format!("redirects to another site: {secret}")
        )
        .is_some_and(|l| l.contains(&site.url("/away/"))),
        "{stderr}"
    );
    assert!(
        line(&stderr, "skipped", "file:///etc/passwd")
            .is_some_and(|l| l.contains("not an http(s) address")),
        "{stderr}"
    );
    let titles: Vec<String> = entries(dir.path(), "main")
        .into_iter()
        .map(|(_, t, _)| t)
        .collect();
    assert!(titles.contains(&"A good post".to_owned()), "{titles:?}");
    assert!(
        titles.contains(&"Moved within".to_owned()),
        "a redirect within the site is followed: {titles:?}"
    );
    assert_eq!(titles.len(), 2, "{titles:?}");
    assert!(
        !stderr.lines().any(|l| l.trim_start().starts_with("failed")),
        "{stderr}"
    );

    // A second run: the skipped posts are not pending, so nothing fails and exit stays 0.
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(other.requests().is_empty());
}

/// The source's own URL redirecting to another site is a source error naming both URLs and
/// telling the operator what to change; the other site is not asked.
#[test]
fn a_listing_redirecting_to_another_site_says_to_update_url() {
    let site = Site::start();
    let other = Site::start();
    let target = other_host(&other, "/cat/");
    site.set("/cat/", Resp::Redirect(target.clone()));
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = write_config(
        dir.path(),
        &common::site_config(&site.url("/cat/"), "", "kind = \"html\""),
    );
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_ne!(code, 0, "{stderr}");
    let line = stderr
        .lines()
        .find(|l| l.contains(&site.url("/cat/")) && l.contains(&target))
        .unwrap_or_else(|| panic!("no line naming both URLs:\n{stderr}"));
    assert!(line.contains("`url`"), "{line}");
    assert!(other.requests().is_empty(), "{:?}", other.requests());
}

/// A WordPress REST API whose posts link another configured source's post does not change that
/// entry: the post is skipped with a line naming its link.
#[test]
fn a_rest_post_linking_another_sites_post_does_not_change_it() {
    let trusted = Site::start();
    let hostile = Site::start();
    let tbase = trusted.base();
    let genuine = Post::new(42, "a1", "Genuine A post", "2024-01-02T10:00:00+00:00");
    let victim = trusted.url(&genuine.path());
    trusted.set(&genuine.path(), Resp::Html(classic_post(&tbase, &genuine)));
    trusted.set(
        "/cat/",
        Resp::Html(listing(&tbase, &[(victim.clone(), "a1".into())], None)),
    );
    let hbase = other_host(&hostile, "");
    let post = |id: u64, link: &str, title: &str| {
        serde_json::json!({
            "id": id, "link": link, "date_gmt": "2024-01-05T10:00:00",
            "modified_gmt": "2024-01-05T10:00:00", "title": {"rendered": title},
            "content": {"rendered": format!("<p>{title} text, long enough to be a body.</p>")},
            "excerpt": {"rendered": ""}, "author": 1, "categories": [5], "tags": [],
            "_embedded": {"author": [{"name": "Mallory"}],
                          "wp:term": [[{"taxonomy": "category", "name": "Cat"}]]}
        })
    };
    let json = |v: serde_json::Value, pages: bool| Resp::Bytes {
        content_type: "application/json".into(),
        body: v.to_string().into_bytes(),
        headers: if pages {
            vec![("X-WP-TotalPages".into(), "1".into())]
        } else {
            Vec::new()
        },
    };
    hostile.set("/cat/", Resp::Html(listing(&hbase, &[], None)));
    hostile.set(
        "/wp-json/wp/v2/categories",
        json(serde_json::json!([{"id": 5, "slug": "cat"}]), false),
    );
    hostile.set(
        "/wp-json/wp/v2/posts",
        json(
            serde_json::json!([
                post(999, &victim, "DEFACED by B"),
                post(7, &format!("{hbase}/b7/"), "B own post"),
            ]),
            true,
        ),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = write_config(
        dir.path(),
        &two_sources(
            ("trusted", &trusted.url("/cat/"), "html"),
            ("hostile", &format!("{hbase}/cat/"), "wordpress"),
            "",
        ),
    );
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        line(&stderr, "skipped", &victim).is_some_and(|l| l.contains("another site")),
        "{stderr}"
    );
    let a = entries(dir.path(), "trusted");
    assert_eq!(a.len(), 1, "{a:?}");
    assert_eq!(a[0].1, "Genuine A post");
    assert!(!a[0].2.contains("DEFACED"), "{a:?}");
    let b: Vec<String> = entries(dir.path(), "hostile")
        .into_iter()
        .map(|(_, t, _)| t)
        .collect();
    assert_eq!(b, ["B own post"]);
}

/// An RSS document with these `(title, link)` items, naming `home` as its website.
fn rss(home: &str, items: &[(&str, &str)]) -> Resp {
    let items: String = items
        .iter()
        .map(|(t, l)| {
            format!(
                "<item><title>{t}</title><link>{l}</link><guid>{l}#g</guid>\
                 <pubDate>Tue, 12 Nov 2024 10:00:00 GMT</pubDate><description>{t} text</description></item>"
            )
        })
        .collect();
    Resp::Bytes {
        content_type: "application/rss+xml".into(),
        body: format!(
            r#"<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><link>{home}</link><description>d</description>{items}</channel></rss>"#
        )
        .into_bytes(),
        headers: Vec::new(),
    }
}

/// A feed item linking another feed source's post does not change that entry; an item whose
/// link is `javascript:` is skipped like one without a link, and the run exits 0.
#[test]
fn a_feed_item_linking_another_sites_post_does_not_change_it() {
    let trusted = Site::start();
    let hostile = Site::start();
    let victim = trusted.url("/a1/");
    trusted.set(
        "/feed/",
        rss(&trusted.url("/"), &[("Genuine A item", &victim)]),
    );
    let hbase = other_host(&hostile, "");
    hostile.set(
        "/feed/",
        rss(
            &format!("{hbase}/"),
            &[
                ("DEFACED via feed", &victim),
                ("Script link", "javascript:alert(1)"),
                ("B item", &format!("{hbase}/b1/")),
            ],
        ),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = write_config(
        dir.path(),
        &two_sources(
            ("trusted", &trusted.url("/feed/"), "feed"),
            ("hostile", &format!("{hbase}/feed/"), "feed"),
            "",
        ),
    );
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.lines().any(|l| l.contains("skipped")
            && l.contains("links to another site")
            && l.contains(&victim)),
        "{stderr}"
    );
    assert!(
        stderr
            .lines()
            .any(|l| l.contains("skipped") && l.contains("no usable link")),
        "{stderr}"
    );
    let a = entries(dir.path(), "trusted");
    assert_eq!(a.len(), 1, "{a:?}");
    assert_eq!(a[0].1, "Genuine A item");
    let b: Vec<String> = entries(dir.path(), "hostile")
        .into_iter()
        .map(|(_, t, _)| t)
        .collect();
    assert_eq!(b, ["B item"]);
    // Every run the same: no failure carried over.
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        !stderr.lines().any(|l| l.trim_start().starts_with("failed")),
        "{stderr}"
    );
}

/// `also_hosts` makes a second host the source's own: its posts are read and a redirect to it
/// is followed.
#[test]
fn also_hosts_lets_a_source_read_a_second_host() {
    let site = Site::start();
    let other = Site::start();
    let base = site.base();
    let obase = other_host(&other, "");
    let there = Post::new(
        3,
        "there",
        "Lives on the other host",
        "2024-01-02T10:00:00+00:00",
    );
    let sent = Post::new(4, "sent", "Redirected there", "2024-01-03T10:00:00+00:00");
    other.set(&there.path(), Resp::Html(classic_post(&obase, &there)));
    other.set(&sent.path(), Resp::Html(classic_post(&obase, &sent)));
    site.set("/go/", Resp::Redirect(other_host(&other, &sent.path())));
    let links = [
        (other_host(&other, &there.path()), "there".to_owned()),
        (site.url("/go/"), "go".to_owned()),
    ];
    site.set("/cat/", Resp::Html(listing(&base, &links, None)));
    let dir = tempfile::tempdir().expect("tempdir");
    let also = format!(
        "kind = \"html\"\nalso_hosts = [\"localhost:{}\"]",
        other.addr.port()
    );
    let cfg = write_config(
        dir.path(),
        &common::site_config(&site.url("/cat/"), "", &also),
    );
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    let mut titles: Vec<String> = entries(dir.path(), "main")
        .into_iter()
        .map(|(_, t, _)| t)
        .collect();
    titles.sort();
    assert_eq!(
        titles,
        ["Lives on the other host", "Redirected there"],
        "{stderr}"
    );
}

/// A malformed `also_hosts` value is a configuration error naming the key.
#[test]
fn also_hosts_must_be_host_names() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = write_config(
        dir.path(),
        &common::site_config(
            "http://example.org/cat/",
            "",
            "also_hosts = [\"https://blog.example.org/\"]",
        ),
    );
    let (code, _, stderr) = feedwright(&cfg, &["check"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("source[0].also_hosts"), "{stderr}");
}
