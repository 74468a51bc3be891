//! The identity of a `feed` source's items across runs: an item repeating another's link is
//! left out, not a failure.

mod common;

use std::path::Path;

use common::{Resp, Site, feedwright, site_config, write_config};

/// An RSS 2.0 item: `guid` (none when `None`), link path, title, and day of March 2024.
struct Item<'a> {
    guid: Option<&'a str>,
    path: &'a str,
    title: &'a str,
    day: u32,
}

fn item<'a>(guid: Option<&'a str>, path: &'a str, title: &'a str, day: u32) -> Item<'a> {
    Item {
        guid,
        path,
        title,
        day,
    }
}

/// Serve an RSS 2.0 feed of `items` at `/feed/`.
fn serve_rss(site: &Site, items: &[Item]) {
    let base = site.base();
    let items: String = items
        .iter()
        .map(|i| {
            let guid = i.guid.map_or(String::new(), |g| {
                format!("<guid isPermaLink=\"false\">{g}</guid>")
            });
            format!(
                "<item><title>{}</title><link>{base}{}</link>{guid}\
                 <pubDate>{:02} Mar 2024 10:00:00 +0000</pubDate>\
                 <description>Text of {}.</description></item>\n",
                i.title, i.path, i.day, i.title
            )
        })
        .collect();
    let body = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Site</title><link>{base}/</link><description>d</description>
{items}</channel></rss>"#
    );
    serve(site, "application/rss+xml", body);
}

fn serve(site: &Site, content_type: &str, body: String) {
    site.set(
        "/feed/",
        Resp::Bytes {
            content_type: content_type.into(),
            body: body.into_bytes(),
            headers: vec![],
        },
    );
}

/// A store and config for one `feed` source `site` on the fixture's `/feed/`.
fn setup(site: &Site) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        &site_config(&site.url("/feed/"), "", "kind = \"feed\""),
    );
    (dir, cfg)
}

/// Run once; the exit code must be `code`. Returns stderr.
fn run(cfg: &Path, code: i32) -> String {
    let (got, stdout, stderr) = feedwright(cfg, &["run"]);
    assert_eq!(got, code, "{stdout}{stderr}");
    stderr
}

/// `(id, url, title)` of every item of `out/main/feed.json`, sorted by title.
fn published(dir: &Path) -> Vec<(String, String, String)> {
    let text = std::fs::read_to_string(dir.join("out/main/feed.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut items: Vec<(String, String, String)> = json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let s = |k: &str| i[k].as_str().unwrap_or_default().to_owned();
            (s("id"), s("url"), s("title"))
        })
        .collect();
    items.sort_by(|a, b| a.2.cmp(&b.2));
    items
}

/// Each published item's id is its own URL, for these `(path, title)`s (and no other item).
fn assert_own_ids(dir: &Path, base: &str, expected: &[(&str, &str)], stderr: &str) {
    let mut want: Vec<(String, String, String)> = expected
        .iter()
        .map(|(path, title)| {
            let url = format!("{base}{path}");
            (url.clone(), url, (*title).to_owned())
        })
        .collect();
    want.sort_by(|a, b| a.2.cmp(&b.2));
    assert_eq!(published(dir), want, "{stderr}");
}

/// An item that repeats another item's link (someone else's feed, which the user cannot fix)
/// is left out with a `skipped` line naming it by its guid and title; the first is kept, and
/// the run succeeds, run after run.
#[test]
fn an_item_repeating_a_link_is_skipped_not_a_failure() {
    let site = Site::start();
    let base = site.base();
    let (dir, cfg) = setup(&site);
    serve_rss(
        &site,
        &[
            item(Some("g-one"), "/blog/posts/one/", "One", 3),
            item(Some("g-two"), "/blog/posts/two/", "Two", 2),
            item(Some("g-again"), "/blog/posts/one/", "One again", 1),
            item(None, "/blog/posts/two/", "Two without guid", 1),
        ],
    );
    for n in 1..=2 {
        let stderr = run(&cfg, 0);
        assert!(
            !stderr.lines().any(|l| l.trim_start().starts_with("failed")),
            "run {n}: {stderr}"
        );
        assert!(stderr.contains("2 new") || n > 1, "run {n}: {stderr}");
        let skipped: Vec<&str> = stderr
            .lines()
            .filter(|l| l.trim_start().starts_with("skipped"))
            .collect();
        assert_eq!(skipped.len(), 2, "run {n}: {stderr}");
        let again = skipped
            .iter()
            .find(|l| l.contains("g-again"))
            .unwrap_or_else(|| panic!("run {n}: names the item by its guid: {stderr}"));
        assert!(
            again.contains("\"One again\"")
                && again.contains(&format!("{base}/blog/posts/one/"))
                && again.contains("g-one"),
            "run {n}: names its title, the link and the item kept: {again}"
        );
        let without = skipped
            .iter()
            .find(|l| l.contains("\"Two without guid\""))
            .unwrap_or_else(|| panic!("run {n}: names the item by its title: {stderr}"));
        assert!(without.contains("g-two"), "run {n}: {without}");
        let two = [("/blog/posts/one/", "One"), ("/blog/posts/two/", "Two")];
        assert_own_ids(dir.path(), &base, &two, &stderr);
    }
    let (code, stdout, stderr) = feedwright(&cfg, &["status"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let row = stdout
        .lines()
        .find(|l| l.starts_with("site "))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(!row.contains("never"), "a last success: {row}");
}
