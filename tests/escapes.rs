//! Links that differ only in how their percent-escapes are written (`caf%c3%a9`, `caf%C3%A9`,
//! `café`) are one post: one entry, one feed item, whichever a listing gives; and a store an
//! older feedwright wrote, whose keys kept escapes as written, is upgraded so that its posts are
//! matched, not stored again. Through the real binary against a loopback fixture site.

mod common;

use std::path::Path;

use common::{
    Post, Resp, Site, feedwright, json_items, jsonld_post, listing, sources_config, write_config,
};

/// The post's page as the site serves it at its own address, written with lowercase escapes
/// as WordPress writes its slugs, and at the address a raw `é` is requested by, a theme there
/// declaring the address it was asked for as canonical. No post number anywhere: only the
/// link tells the two apart.
fn serve_post(site: &Site) -> (String, String) {
    let base = site.base();
    let lower = Post::new(7, "caf%c3%a9", "Café talks", "2024-05-01T09:00:00+00:00");
    let upper = Post {
        slug: "caf%C3%A9".into(),
        ..lower.clone()
    };
    site.set(&lower.path(), Resp::Html(jsonld_post(&base, &lower)));
    site.set(&upper.path(), Resp::Html(jsonld_post(&base, &upper)));
    (lower.path(), upper.path())
}

/// The listing `/cat/` linking the post at `path` (as written into the page).
fn list(site: &Site, path: &str) {
    let base = site.base();
    site.set(
        "/cat/",
        Resp::Html(listing(
            &base,
            &[(format!("{base}{path}"), "Café talks".into())],
            None,
        )),
    );
}

fn config(site: &Site, dir: &Path) -> std::path::PathBuf {
    write_config(
        dir,
        &sources_config(
            "",
            &[("blog", &site.url("/cat/"), "")],
            &[("main", &["blog"])],
            "",
        ),
    )
}

/// Run `feedwright run`; it must exit 0. Returns stderr.
fn run(cfg: &Path) -> String {
    let (code, stdout, stderr) = feedwright(cfg, &["run"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    stderr
}

/// The links of the items of the feed `main`.
fn published(dir: &Path) -> Vec<String> {
    json_items(dir, "main")
        .iter()
        .map(|i| i["url"].as_str().expect("url").to_owned())
        .collect()
}

fn db(dir: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(dir.join("feedwright.db")).expect("open the store")
}

/// `(url, dedup_key)` of every stored entry, oldest row first.
fn entries(dir: &Path) -> Vec<(String, String)> {
    db(dir)
        .prepare("SELECT url, dedup_key FROM entries ORDER BY rowid")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// The keys of the store written as feedwright wrote them before schema v24: this post's
/// escapes as the site wrote them (lowercase), not as the keys write them now.
fn write_keys_as_before(dir: &Path) {
    let changed = db(dir)
        .execute(
            "UPDATE entries SET id_key = replace(id_key, '%C3%A9', '%c3%a9'),
                 dedup_key = replace(dedup_key, '%C3%A9', '%c3%a9')
             WHERE url LIKE '%caf\\%c3\\%a9%' ESCAPE '\\'",
            [],
        )
        .unwrap();
    assert_eq!(changed, 1);
}

/// A store holding the post, read from a listing that links it with lowercase escapes, and
/// keyed as feedwright keyed it before schema v24. The configuration and the post's two paths
/// (lowercase, uppercase escapes).
fn older_store(site: &Site, dir: &Path) -> (std::path::PathBuf, String, String) {
    let (lower, upper) = serve_post(site);
    list(site, &lower);
    let cfg = config(site, dir);
    run(&cfg);
    write_keys_as_before(dir);
    (cfg, lower, upper)
}

/// Back to schema v23: V25's column dropped, V24's record undone (it changes no table).
fn downgrade(dir: &Path) {
    db(dir)
        .execute_batch(
            "ALTER TABLE source_state DROP COLUMN site_description;
             DELETE FROM refinery_schema_history WHERE version >= 24;",
        )
        .unwrap();
}

#[test]
fn a_post_linked_with_other_escapes_later_is_the_same_post() {
    let site = Site::start();
    let dir = tempfile::tempdir().unwrap();
    let (lower, upper) = serve_post(&site);
    list(&site, &lower);
    let cfg = config(&site, dir.path());
    run(&cfg);
    let link = site.url(&lower);
    assert_eq!(published(dir.path()), [link.as_str()]);

    // The listing now links it with a raw `é`, which is requested as `%C3%A9`.
    list(&site, "/2024/05/01/café/");
    let stderr = run(&cfg);
    assert!(
        !site.requests().contains(&upper),
        "a stored post fetched again as new: {stderr}"
    );
    // Both spellings with uppercase escapes, too.
    list(&site, &upper);
    run(&cfg);
    assert!(!site.requests().contains(&upper));
    assert_eq!(entries(dir.path()).len(), 1);
    // The link stays as the site wrote it.
    assert_eq!(published(dir.path()), [link.as_str()]);
}

#[test]
fn an_older_store_is_upgraded_and_its_posts_are_matched_not_stored_again() {
    let site = Site::start();
    let dir = tempfile::tempdir().unwrap();
    let (cfg, lower, upper) = older_store(&site, dir.path());
    downgrade(dir.path());

    list(&site, "/2024/05/01/café/");
    let stderr = run(&cfg);
    assert!(
        stderr.contains("the store was upgraded from schema v23 to v25"),
        "{stderr}"
    );
    assert!(
        !site.requests().contains(&upper),
        "a stored post fetched again as new: {stderr}"
    );
    let link = site.url(&lower);
    let host = link
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap();
    assert_eq!(
        entries(dir.path()),
        [(link.clone(), format!("{host}/2024/05/01/caf%C3%A9/"))]
    );
    assert_eq!(published(dir.path()), [link.as_str()]);
}

/// A store where an older feedwright already stored the post twice (once per spelling): the
/// upgrade keeps both rows and both feed items, the older row takes the key, and later runs
/// add no third copy.
#[test]
fn an_older_store_holding_a_post_twice_is_upgraded_without_losing_either() {
    let site = Site::start();
    let dir = tempfile::tempdir().unwrap();
    let (cfg, lower, upper) = older_store(&site, dir.path());
    // What an older version did next: the other spelling was a new post.
    list(&site, "/2024/05/01/café/");
    run(&cfg);
    assert!(site.requests().contains(&upper));
    let (first, second) = (site.url(&lower), site.url(&upper));
    let host = first
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap();
    assert_eq!(
        entries(dir.path()),
        [
            (first.clone(), format!("{host}/2024/05/01/caf%c3%a9/")),
            (second.clone(), format!("{host}/2024/05/01/caf%C3%A9/")),
        ]
    );
    let before = published(dir.path());
    assert_eq!(before.len(), 2);
    downgrade(dir.path());

    let stderr = run(&cfg);
    assert!(
        stderr.contains("the store was upgraded from schema v23 to v25"),
        "{stderr}"
    );
    // The older row takes the key; the other keeps the one nothing gives any more.
    assert_eq!(
        entries(dir.path()),
        [
            (first.clone(), format!("{host}/2024/05/01/caf%C3%A9/")),
            (second.clone(), format!("{host}/2024/05/01/caf%c3%a9/")),
        ]
    );
    assert_eq!(published(dir.path()), before);
    // Every spelling now finds the older row.
    for path in [lower.as_str(), upper.as_str(), "/2024/05/01/café/"] {
        list(&site, path);
        run(&cfg);
        assert_eq!(entries(dir.path()).len(), 2, "{path}");
    }
    assert_eq!(published(dir.path()), before);
}
