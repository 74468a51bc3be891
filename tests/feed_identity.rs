//! The identity of a `feed` source's items across runs: an item's own id (RSS `guid`, Atom
//! `id`, JSON Feed `id`) keeps its entry when its link changes, but only while that id names
//! one item; and an item repeating another's link is left out, not a failure.

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

/// The lines of `stderr` that are warnings mentioning `what`.
fn warnings_about<'a>(stderr: &'a str, what: &str) -> Vec<&'a str> {
    stderr
        .lines()
        .filter(|l| l.contains("WARN") && l.contains(what))
        .collect()
}

/// A feed that gives all its items one guid (a broken generator): the guid tells nothing
/// apart, so each item is its link. A new item under that guid is a new post, never an older
/// post moved to its link (which would overwrite that post, keep its id, and hide the new one
/// from readers and the digest).
#[test]
fn a_guid_on_every_item_is_no_identity() {
    let site = Site::start();
    let base = site.base();
    let (dir, cfg) = setup(&site);
    let g = Some("same-guid");
    serve_rss(
        &site,
        &[
            item(g, "/p/3/", "Post 3", 3),
            item(g, "/p/2/", "Post 2", 2),
            item(g, "/p/1/", "Post 1", 1),
        ],
    );
    let stderr = run(&cfg, 0);
    assert!(stderr.contains("site: 3 new, 0 updated"), "{stderr}");
    let warned = warnings_about(&stderr, "same-guid");
    assert_eq!(warned.len(), 1, "one warning a run: {stderr}");
    assert!(
        warned[0].contains(&site.url("/feed/")),
        "names the feed: {}",
        warned[0]
    );
    let first = [
        ("/p/3/", "Post 3"),
        ("/p/2/", "Post 2"),
        ("/p/1/", "Post 1"),
    ];
    assert_own_ids(dir.path(), &base, &first, &stderr);

    // Post 1 rolls off, Post 4 comes in under the same guid.
    serve_rss(
        &site,
        &[
            item(g, "/p/4/", "Post 4", 4),
            item(g, "/p/3/", "Post 3", 3),
            item(g, "/p/2/", "Post 2", 2),
        ],
    );
    let stderr = run(&cfg, 0);
    assert!(
        stderr.contains("site: 1 new, 0 updated, 2 unchanged"),
        "{stderr}"
    );
    assert_eq!(warnings_about(&stderr, "same-guid").len(), 1, "{stderr}");
    let second = [
        ("/p/4/", "Post 4"),
        ("/p/3/", "Post 3"),
        ("/p/2/", "Post 2"),
        ("/p/1/", "Post 1"),
    ];
    assert_own_ids(dir.path(), &base, &second, &stderr);
}

/// A guid seen on two items stays unreliable: when a later item alone carries it (the two
/// rolled off), that item is a new post, not one of them moved.
#[test]
fn a_guid_once_shared_stays_no_identity() {
    let site = Site::start();
    let base = site.base();
    let (dir, cfg) = setup(&site);
    serve_rss(
        &site,
        &[
            item(Some("g-dup"), "/a/", "A", 3),
            item(Some("g-own"), "/own/", "Own", 2),
            item(Some("g-dup"), "/b/", "B", 1),
        ],
    );
    let stderr = run(&cfg, 0);
    assert!(stderr.contains("site: 3 new"), "{stderr}");
    assert_eq!(warnings_about(&stderr, "g-dup").len(), 1, "{stderr}");

    serve_rss(
        &site,
        &[
            item(Some("g-dup"), "/c/", "C", 5),
            item(Some("g-own"), "/own/", "Own", 2),
        ],
    );
    let stderr = run(&cfg, 0);
    assert!(
        stderr.contains("site: 1 new, 0 updated, 1 unchanged"),
        "{stderr}"
    );
    let all = [("/a/", "A"), ("/b/", "B"), ("/c/", "C"), ("/own/", "Own")];
    assert_own_ids(dir.path(), &base, &all, &stderr);

    // C rolls off and D carries g-dup alone: still no identity (C is not D's old self).
    serve_rss(
        &site,
        &[
            item(Some("g-dup"), "/d/", "D", 6),
            item(Some("g-own"), "/own/", "Own", 2),
        ],
    );
    let stderr = run(&cfg, 0);
    assert!(
        stderr.contains("site: 1 new, 0 updated, 1 unchanged"),
        "{stderr}"
    );
    let all = [
        ("/a/", "A"),
        ("/b/", "B"),
        ("/c/", "C"),
        ("/d/", "D"),
        ("/own/", "Own"),
    ];
    assert_own_ids(dir.path(), &base, &all, &stderr);
}

/// A guid that named one item and then names two: the item it named keeps its entry, the
/// other is new, and from then on the guid is no identity (a later item under it alone is
/// new too). A guid that stayed unique still follows its item to a new link.
#[test]
fn a_guid_unique_then_shared_then_reused() {
    let site = Site::start();
    let base = site.base();
    let (dir, cfg) = setup(&site);
    serve_rss(
        &site,
        &[
            item(Some("g"), "/a/", "A", 3),
            item(Some("m"), "/m/", "M", 1),
        ],
    );
    let stderr = run(&cfg, 0);
    assert!(stderr.contains("site: 2 new"), "{stderr}");

    serve_rss(
        &site,
        &[
            item(Some("g"), "/b/", "B", 4),
            item(Some("g"), "/a/", "A", 3),
            item(Some("m"), "/m/", "M", 1),
        ],
    );
    let stderr = run(&cfg, 0);
    assert!(
        stderr.contains("site: 1 new, 0 updated, 2 unchanged"),
        "{stderr}"
    );
    assert_eq!(warnings_about(&stderr, "\"g\"").len(), 1, "{stderr}");
    let two = [("/a/", "A"), ("/b/", "B"), ("/m/", "M")];
    assert_own_ids(dir.path(), &base, &two, &stderr);

    // A and B roll off; C alone carries g; M moves to a new link under its own guid.
    serve_rss(
        &site,
        &[
            item(Some("g"), "/c/", "C", 5),
            item(Some("m"), "/m-renamed/", "M", 1),
        ],
    );
    let stderr = run(&cfg, 0);
    assert!(stderr.contains("site: 1 new, 1 updated"), "{stderr}");
    let mut want = vec![
        (format!("{base}/a/"), format!("{base}/a/"), "A".to_owned()),
        (format!("{base}/b/"), format!("{base}/b/"), "B".to_owned()),
        (format!("{base}/c/"), format!("{base}/c/"), "C".to_owned()),
        (
            format!("{base}/m/"),
            format!("{base}/m-renamed/"),
            "M".to_owned(),
        ),
    ];
    want.sort_by(|a, b| a.2.cmp(&b.2));
    assert_eq!(published(dir.path()), want, "{stderr}");

    // C rolls off, D carries g alone: a new post too, not C moved.
    serve_rss(
        &site,
        &[
            item(Some("g"), "/d/", "D", 6),
            item(Some("m"), "/m-renamed/", "M", 1),
        ],
    );
    let stderr = run(&cfg, 0);
    assert!(
        stderr.contains("site: 1 new, 0 updated, 1 unchanged"),
        "{stderr}"
    );
    let d = format!("{base}/d/");
    want.push((d.clone(), d, "D".to_owned()));
    want.sort_by(|a, b| a.2.cmp(&b.2));
    assert_eq!(published(dir.path()), want, "{stderr}");
}

/// A WordPress `?p=N` guid on two items would give both one entry id: it is no identity
/// either, and each item is its link (no failure).
#[test]
fn a_shared_wordpress_guid_gives_no_entry_id() {
    let site = Site::start();
    let base = site.base();
    let (dir, cfg) = setup(&site);
    let guid = format!("{base}/?p=5");
    serve_rss(
        &site,
        &[
            item(Some(&guid), "/a/", "A", 2),
            item(Some(&guid), "/b/", "B", 1),
        ],
    );
    let stderr = run(&cfg, 0);
    assert!(stderr.contains("site: 2 new, 0 updated"), "{stderr}");
    assert_own_ids(dir.path(), &base, &[("/a/", "A"), ("/b/", "B")], &stderr);
}

/// Atom `id` and JSON Feed `id` shared by two entries are no identity either.
#[test]
fn shared_atom_and_json_feed_ids_are_no_identity() {
    let site = Site::start();
    let base = site.base();
    let atom = |entries: &[(&str, &str)]| {
        let entries: String = entries
            .iter()
            .map(|(path, title)| {
                format!(
                    "<entry><id>urn:x:dup</id><title>{title}</title>\
                     <link rel=\"alternate\" href=\"{base}{path}\"/>\
                     <updated>2024-03-01T10:00:00Z</updated>\
                     <summary>Text of {title}.</summary></entry>"
                )
            })
            .collect();
        format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\
             <feed xmlns=\"http://www.w3.org/2005/Atom\"><id>urn:x:feed</id><title>S</title>\
             <updated>2024-03-01T10:00:00Z</updated><author><name>N</name></author>\
             {entries}</feed>"
        )
    };
    let (dir, cfg) = setup(&site);
    serve(
        &site,
        "application/atom+xml",
        atom(&[("/a/", "A"), ("/b/", "B")]),
    );
    let stderr = run(&cfg, 0);
    assert_eq!(warnings_about(&stderr, "urn:x:dup").len(), 1, "{stderr}");
    serve(
        &site,
        "application/atom+xml",
        atom(&[("/c/", "C"), ("/b/", "B")]),
    );
    let stderr = run(&cfg, 0);
    assert!(stderr.contains("site: 1 new, 0 updated"), "{stderr}");
    let three = [("/a/", "A"), ("/b/", "B"), ("/c/", "C")];
    assert_own_ids(dir.path(), &base, &three, &stderr);

    let json = |items: &[(&str, &str)]| {
        let items: Vec<serde_json::Value> = items
            .iter()
            .map(|(path, title)| {
                serde_json::json!({
                    "id": "dup", "url": format!("{base}{path}"), "title": title,
                    "content_text": format!("Text of {title}."),
                    "date_published": "2024-03-01T10:00:00Z",
                })
            })
            .collect();
        serde_json::json!({
            "version": "https://jsonfeed.org/version/1.1", "title": "S", "items": items,
        })
        .to_string()
    };
    let (dir, cfg) = setup(&site);
    serve(
        &site,
        "application/feed+json",
        json(&[("/a/", "A"), ("/b/", "B")]),
    );
    let stderr = run(&cfg, 0);
    assert_eq!(warnings_about(&stderr, "\"dup\"").len(), 1, "{stderr}");
    serve(
        &site,
        "application/feed+json",
        json(&[("/c/", "C"), ("/b/", "B")]),
    );
    let stderr = run(&cfg, 0);
    assert!(stderr.contains("site: 1 new, 0 updated"), "{stderr}");
    assert_own_ids(dir.path(), &base, &three, &stderr);
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

/// A feed that numbers its items by their place (`item-1` is always the newest): a new post
/// takes `item-1`, while the post that had it is still in the feed as `item-2`. That id no
/// longer tells its post apart: the new item is a new post, not the older one moved (which
/// would overwrite it, or fail the run with two items giving one entry id).
#[test]
fn an_id_given_to_another_item_while_its_post_is_still_in_the_feed_is_no_identity() {
    let site = Site::start();
    let base = site.base();
    let (dir, cfg) = setup(&site);
    serve_rss(
        &site,
        &[
            item(Some("item-1"), "/a/", "A", 2),
            item(Some("item-2"), "/b/", "B", 1),
        ],
    );
    let stderr = run(&cfg, 0);
    assert!(stderr.contains("site: 2 new"), "{stderr}");

    serve_rss(
        &site,
        &[
            item(Some("item-1"), "/n/", "N", 3),
            item(Some("item-2"), "/a/", "A", 2),
            item(Some("item-3"), "/b/", "B", 1),
        ],
    );
    let stderr = run(&cfg, 0);
    assert!(
        stderr.contains("site: 1 new, 0 updated, 2 unchanged"),
        "{stderr}"
    );
    assert_eq!(warnings_about(&stderr, "\"item-1\"").len(), 1, "{stderr}");
    let three = [("/a/", "A"), ("/b/", "B"), ("/n/", "N")];
    assert_own_ids(dir.path(), &base, &three, &stderr);

    // The same feed again: nothing changes, and nothing fails.
    let stderr = run(&cfg, 0);
    assert!(
        stderr.contains("site: 0 new, 0 updated, 3 unchanged"),
        "{stderr}"
    );
    assert_own_ids(dir.path(), &base, &three, &stderr);
}
