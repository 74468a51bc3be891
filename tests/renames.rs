//! A source's identity across edits of `config.toml`: a source renamed keeps what it stored (its
//! posts in its feeds, its backfill, its files' and items' entries), a `dir` source's folder
//! moved keeps its files' entries, a source the configuration no longer has is named while its
//! posts are in no feed, and a site moved to another host keeps its posts' entries. Through the
//! real binary against a loopback fixture site.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{
    Post, Resp, Site, feedwright, json_items, numbered_posts, publish_category,
    serve_one_item_feed, sources_config, write_config,
};

const PER_PAGE: usize = 10;

/// Serve `posts` under the listing `/{cat}/`, `PER_PAGE` a page, written with the links of
/// `base` (see `publish_category`).
fn publish(site: &Site, base: &str, cat: &str, posts: &[Post]) {
    let posts: Vec<&Post> = posts.iter().collect();
    publish_category(site, base, cat, &posts, PER_PAGE);
}

/// [`sources_config`] with feeds of up to 1000 entries.
fn config(extra_http: &str, sources: &[(&str, &str, &str)], feeds: &[(&str, &[&str])]) -> String {
    sources_config(extra_http, sources, feeds, "limit = 1000")
}

/// Run `args`; the exit code must be `code`. Returns stderr.
fn run(cfg: &Path, args: &[&str], code: i32) -> String {
    let (got, stdout, stderr) = feedwright(cfg, args);
    assert_eq!(got, code, "{args:?}: {stdout}{stderr}");
    stderr
}

/// Every item of `out/<feed>/feed.json` below `dir`: id to URL.
fn published(dir: &Path, feed: &str) -> BTreeMap<String, String> {
    json_items(dir, feed)
        .iter()
        .map(|i| {
            (
                i["id"].as_str().unwrap().to_owned(),
                i["url"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The row of `source` in `feedwright status`'s table, and the lines after the table.
fn status(cfg: &Path, source: &str) -> (String, String) {
    let (code, stdout, stderr) = feedwright(cfg, &["status"]);
    assert!(code == 0 || code == 1, "{stdout}{stderr}");
    let row = stdout
        .lines()
        .find(|l| l.starts_with(&format!("{source} ")))
        .unwrap_or_else(|| panic!("no row for {source}: {stdout}"))
        .to_owned();
    let after: Vec<&str> = stdout.lines().skip_while(|l| !l.is_empty()).collect();
    let notes = stdout
        .lines()
        .filter(|l| l.starts_with("source ") || l.starts_with("feed "))
        .chain(after)
        .collect::<Vec<_>>()
        .join("\n");
    (row, notes)
}

/// The ENTRIES column of a status row.
fn entries(row: &str) -> usize {
    let cells: Vec<&str> = row.split("  ").filter(|c| !c.trim().is_empty()).collect();
    cells[4].trim().parse().unwrap_or_else(|_| panic!("{row}"))
}

/// The post pages requested from `site` since request number `since`.
fn post_requests(site: &Site, since: usize) -> Vec<String> {
    site.requests()[since..]
        .iter()
        .filter(|p| p.starts_with("/2024/"))
        .cloned()
        .collect()
}

/// The reported case: 30 posts stored over earlier runs, then the source renamed (in its
/// `[[source]]` and in the feed) with a listing walk of one page. Every post stays in the feed,
/// with its id; nothing is fetched again; the run says the history was carried over; `status`
/// says so before the run and shows the posts under the new name after it.
#[test]
fn a_renamed_source_keeps_every_post_it_stored_in_its_feeds() {
    let site = Site::start();
    let base = site.base();
    publish(&site, &base, "cat", &numbered_posts(30, 100));
    let url = site.url("/cat/");
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        &config("", &[("neg", &url, "max_pages = 5")], &[("main", &["neg"])]),
    );
    let stderr = run(&cfg, &["run"], 0);
    assert!(stderr.contains("neg: 30 new"), "{stderr}");
    let before = published(dir.path(), "main");
    assert_eq!(before.len(), 30);

    write_config(
        dir.path(),
        &config(
            "",
            &[("negotiation", &url, "max_pages = 1")],
            &[("main", &["negotiation"])],
        ),
    );
    let (row, notes) = status(&cfg, "negotiation");
    assert!(row.contains("never run"), "{row}");
    assert!(
        notes.contains(
            "source neg is now negotiation (same kind and url): the next run carries its 30 \
             stored posts and its history over"
        ),
        "{notes}"
    );
    let since = site.requests().len();
    let stderr = run(&cfg, &["run"], 0);
    assert!(
        stderr
            .lines()
            .any(|l| l == "source neg is now negotiation: 30 posts carried over"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("no longer in the configuration"),
        "{stderr}"
    );
    assert!(stderr.contains("feed main: 30 entries"), "{stderr}");
    assert_eq!(published(dir.path(), "main"), before);
    assert_eq!(post_requests(&site, since), Vec::<String>::new());
    let (row, notes) = status(&cfg, "negotiation");
    assert_eq!(entries(&row), 30, "{row}");
    assert!(!row.contains("never run"), "{row}");
    assert!(!notes.contains("neg "), "{notes}");
    // Nothing to carry over any more.
    let stderr = run(&cfg, &["run"], 0);
    assert!(!stderr.contains("carried over"), "{stderr}");
    assert_eq!(published(dir.path(), "main"), before);
}

/// A `feed` source renamed while one of its items changes its link: the item is known by its
/// own id under the new name too, so its entry keeps its id and takes the new link; the items
/// the feed no longer shows stay in the feed.
#[test]
fn a_renamed_feed_source_knows_its_items_by_their_ids() {
    let site = Site::start();
    let base = site.base();
    let rss = |items: &[(&str, &str, &str)]| {
        let items: String = items
            .iter()
            .map(|(guid, path, title)| {
                format!(
                    "<item><title>{title}</title><link>{base}{path}</link>\
                     <guid isPermaLink=\"false\">{guid}</guid>\
                     <pubDate>02 Mar 2024 10:00:00 +0000</pubDate>\
                     <description>Text of {title}.</description></item>\n"
                )
            })
            .collect();
        site.set(
            "/feed/",
            Resp::Bytes {
                content_type: "application/rss+xml".into(),
                body: format!(
                    "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>S</title>\
                     <link>{base}/</link><description>d</description>{items}</channel></rss>"
                )
                .into_bytes(),
                headers: vec![],
            },
        );
    };
    rss(&[
        ("g1", "/one/", "One"),
        ("g2", "/two/", "Two"),
        ("g3", "/three/", "Three"),
    ]);
    let url = site.url("/feed/");
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        &config(
            "",
            &[("pods", &url, "kind = \"feed\"")],
            &[("main", &["pods"])],
        ),
    );
    run(&cfg, &["run"], 0);
    let before = published(dir.path(), "main");
    assert_eq!(before.len(), 3);
    // Renamed; the feed now shows one item, its link changed.
    write_config(
        dir.path(),
        &config(
            "",
            &[("podcast", &url, "kind = \"feed\"")],
            &[("main", &["podcast"])],
        ),
    );
    rss(&[("g1", "/one-moved/", "One")]);
    let stderr = run(&cfg, &["run"], 0);
    assert!(
        stderr.contains("source pods is now podcast: 3 posts carried over"),
        "{stderr}"
    );
    let after = published(dir.path(), "main");
    assert_eq!(after.len(), 3, "{stderr}");
    let one = before
        .iter()
        .find(|(_, u)| u.ends_with("/one/"))
        .map(|(id, _)| id.clone())
        .unwrap();
    assert_eq!(after[&one], format!("{base}/one-moved/"), "{stderr}");
}

/// A renamed podcast feed still has the say on the enclosures it gave: when its items drop
/// them, they go (a source no longer configured would have left them to the next feed giving
/// some, and kept them until then).
#[test]
fn a_renamed_feed_source_can_still_withdraw_its_enclosures() {
    let site = Site::start();
    let rss = |enclosure: &str| serve_one_item_feed(&site, "/feed/", enclosure);
    rss(r#"<enclosure url="https://cdn.example.net/one.mp3" length="10" type="audio/mpeg"/>"#);
    let url = site.url("/feed/");
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        &config(
            "",
            &[("pods", &url, "kind = \"feed\"")],
            &[("main", &["pods"])],
        ),
    );
    run(&cfg, &["run"], 0);
    let rss_out = || std::fs::read_to_string(dir.path().join("out/main/rss.xml")).unwrap();
    assert!(rss_out().contains("one.mp3"));
    write_config(
        dir.path(),
        &config(
            "",
            &[("podcast", &url, "kind = \"feed\"")],
            &[("main", &["podcast"])],
        ),
    );
    rss("");
    let stderr = run(&cfg, &["run"], 0);
    assert!(stderr.contains("source pods is now podcast"), "{stderr}");
    assert!(!rss_out().contains("one.mp3"), "{stderr}");
}

/// A backfill the request budget left unfinished, then the source renamed: the new name's
/// backfill goes on where it stopped, the history it found still waits to be archived (each
/// run and `status` say so under the new name), and once complete the archive holds every post
/// once, oldest first.
#[test]
fn a_renamed_source_keeps_its_unfinished_backfill() {
    let site = Site::start();
    let base = site.base();
    publish(&site, &base, "cat", &numbered_posts(45, 300));
    let url = site.url("/cat/");
    let dir = tempfile::tempdir().unwrap();
    let named = |name: &str| {
        config(
            "max_requests = 14",
            &[(name, &url, "max_pages = 50")],
            &[("main", &[name])],
        )
        .replace("limit = 1000", "limit = 5\narchive_page_size = 5")
    };
    let cfg = write_config(dir.path(), &named("neg"));
    let (code, _, stderr) = feedwright(&cfg, &["backfill", "neg"]);
    assert!(code == 0 || code == 1, "{stderr}");
    assert!(
        stderr.contains("older entries wait to be archived"),
        "{stderr}"
    );
    let (_, notes) = status(&cfg, "neg");
    assert!(
        notes.contains("source neg: backfill NOT COMPLETE"),
        "{notes}"
    );

    write_config(dir.path(), &named("negotiation"));
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert!(code == 0 || code == 1, "{stderr}");
    assert!(
        stderr.contains("source neg is now negotiation: "),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "older entries wait to be archived until the backfill of negotiation is complete"
        ),
        "{stderr}"
    );
    assert!(
        !dir.path().join("out/main/archive").exists(),
        "an archive page was built before the backfill was complete"
    );
    let (_, notes) = status(&cfg, "negotiation");
    assert!(
        notes.contains("source negotiation: backfill NOT COMPLETE"),
        "{notes}"
    );
    let mut rounds = 0;
    loop {
        rounds += 1;
        assert!(rounds < 20, "backfill never finished");
        let (code, _, stderr) = feedwright(&cfg, &["backfill", "negotiation"]);
        assert!(code == 0 || code == 1, "{stderr}");
        assert!(!stderr.contains("backfill NOT COMPLETE"), "{stderr}");
        if code == 0 && !stderr.contains("left for the next run") {
            break;
        }
    }
    let mut ids: Vec<String> = common::atom_ids(dir.path());
    for n in 1.. {
        let page = dir.path().join(format!("out/main/archive/{n}.xml"));
        if !page.exists() {
            break;
        }
        let xml = std::fs::read(&page).unwrap();
        let feed = feed_rs::parser::parse(xml.as_slice()).unwrap();
        ids.extend(feed.entries.into_iter().map(|e| e.id));
    }
    let unique: std::collections::HashSet<&String> = ids.iter().collect();
    assert_eq!(
        (ids.len(), unique.len()),
        (45, 45),
        "every post exactly once"
    );
}

/// A source the configuration no longer has, whose posts nothing took over, is named on every
/// run and in `status`, with how many of its posts no feed shows now and what to do; and a
/// source that two new ones could be takes neither's name.
#[test]
fn a_source_no_longer_configured_is_named_with_its_posts_in_no_feed() {
    let site = Site::start();
    let base = site.base();
    publish(&site, &base, "cat", &numbered_posts(30, 500));
    publish(&site, &base, "other", &numbered_posts(3, 900));
    let (cat, other) = (site.url("/cat/"), site.url("/other/"));
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        &config("", &[("neg", &cat, "max_pages = 5")], &[("main", &["neg"])]),
    );
    run(&cfg, &["run"], 0);
    // Removed: another source in its place.
    write_config(
        dir.path(),
        &config("", &[("med", &other, "")], &[("main", &["med"])]),
    );
    for _ in 0..2 {
        let stderr = run(&cfg, &["run"], 0);
        let warnings: Vec<&str> = stderr
            .lines()
            .filter(|l| l.starts_with("warning: source neg is no longer in the configuration"))
            .collect();
        assert_eq!(warnings.len(), 1, "{stderr}");
        assert!(
            warnings[0].contains("its 30 stored posts are in no feed now")
                && warnings[0].contains("`feedwright backfill <its name>`"),
            "{stderr}"
        );
    }
    let (_, notes) = status(&cfg, "med");
    assert!(
        notes.contains("source neg is no longer in the configuration: its 30 stored posts"),
        "{notes}"
    );

    // Two new sources with its kind and url: neither takes it over; each lists its first page.
    write_config(
        dir.path(),
        &config(
            "",
            &[
                ("a", &cat, "max_pages = 1"),
                ("b", &cat, "max_pages = 1"),
                ("med", &other, ""),
            ],
            &[("main", &["a", "b", "med"])],
        ),
    );
    let stderr = run(&cfg, &["run"], 0);
    assert!(!stderr.contains("carried over"), "{stderr}");
    assert!(
        stderr.contains(
            "warning: source neg is no longer in the configuration: 20 of its 30 stored posts \
             are in no feed now"
        ),
        "{stderr}"
    );
}

/// A Markdown post file in `folder`.
fn md(folder: &Path, file: &str, url: &str) {
    std::fs::create_dir_all(folder).unwrap();
    std::fs::write(
        folder.join(file),
        format!("+++\ntitle = \"{file}\"\ndate = 2024-11-18\nurl = \"{url}\"\n+++\nText.\n"),
    )
    .unwrap();
}

/// A `dir` source renamed in the run where one of its files changes its `url`: the file keeps
/// its entry, with its id, under the new name.
#[test]
fn a_renamed_dir_source_keeps_the_entry_of_a_file_whose_url_changes() {
    let dir = tempfile::tempdir().unwrap();
    let posts = dir.path().join("posts");
    md(&posts, "a.md", "https://example.org/a/");
    md(&posts, "b.md", "https://example.org/b/");
    let dir_source = "kind = \"dir\"";
    let cfg = write_config(
        dir.path(),
        &config(
            "",
            &[("events", "posts", dir_source)],
            &[("main", &["events"])],
        ),
    );
    run(&cfg, &["run"], 0);
    let before = published(dir.path(), "main");
    write_config(
        dir.path(),
        &config(
            "",
            &[("happenings", "posts", dir_source)],
            &[("main", &["happenings"])],
        ),
    );
    md(&posts, "a.md", "https://example.org/a-moved/");
    let stderr = run(&cfg, &["run"], 0);
    assert!(
        stderr.contains("source events is now happenings: 2 posts carried over"),
        "{stderr}"
    );
    assert!(!stderr.contains("skipped"), "{stderr}");
    let after = published(dir.path(), "main");
    assert_eq!(
        after.keys().collect::<Vec<_>>(),
        before.keys().collect::<Vec<_>>(),
        "{stderr}"
    );
    assert!(
        after.values().any(|u| u == "https://example.org/a-moved/"),
        "{after:?}"
    );
}

/// A `dir` source's folder moved (and its `url` updated) in the run where one of its files
/// changes its `url`: files are known by their path inside the folder, so that one keeps its
/// entry's id, and nothing is taken out.
#[test]
fn a_moved_folder_keeps_its_files_entries() {
    let dir = tempfile::tempdir().unwrap();
    md(&dir.path().join("posts"), "a.md", "https://example.org/a/");
    md(
        &dir.path().join("posts/sub"),
        "b.md",
        "https://example.org/b/",
    );
    let cfg = write_config(
        dir.path(),
        &config(
            "",
            &[("events", "posts", "kind = \"dir\"")],
            &[("main", &["events"])],
        ),
    );
    run(&cfg, &["run"], 0);
    let before = published(dir.path(), "main");
    std::fs::create_dir_all(dir.path().join("content")).unwrap();
    std::fs::rename(dir.path().join("posts"), dir.path().join("content/posts")).unwrap();
    write_config(
        dir.path(),
        &config(
            "",
            &[("events", "content/posts", "kind = \"dir\"")],
            &[("main", &["events"])],
        ),
    );
    md(
        &dir.path().join("content/posts"),
        "a.md",
        "https://example.org/a-moved/",
    );
    let stderr = run(&cfg, &["run"], 0);
    assert!(!stderr.contains("skipped"), "{stderr}");
    assert!(stderr.contains("events: 0 new, 1 updated"), "{stderr}");
    let after = published(dir.path(), "main");
    assert_eq!(
        after.keys().collect::<Vec<_>>(),
        before.keys().collect::<Vec<_>>(),
        "{stderr}"
    );
}

/// A store from before files were keyed by their path inside their folder (schema v21 and
/// older kept the path as read, the folder as configured included): the upgrade rewrites those
/// keys, so a file whose `url` changes in the first run after it keeps its entry's id.
#[test]
fn an_upgraded_store_keeps_its_files_entries() {
    let dir = tempfile::tempdir().unwrap();
    let posts = dir.path().join("posts");
    md(&posts, "a.md", "https://example.org/a/");
    md(&posts, "b.md", "https://example.org/b/");
    let cfg = write_config(
        dir.path(),
        &config(
            "",
            &[("events", "posts", "kind = \"dir\"")],
            &[("main", &["events"])],
        ),
    );
    run(&cfg, &["run"], 0);
    let before = published(dir.path(), "main");
    // What an older version kept: each file by its path as read, the folder as configured.
    let folder = posts.display().to_string();
    let conn = rusqlite::Connection::open(dir.path().join("feedwright.db")).unwrap();
    let keys = conn
        .execute(
            "UPDATE source_items SET item = ?1 || '/' || substr(item, 6)",
            [&folder],
        )
        .unwrap();
    assert_eq!(keys, 2);
    conn.execute("UPDATE source_state SET url = ?1", [&folder])
        .unwrap();
    conn.execute_batch(
        "ALTER TABLE source_state DROP COLUMN kind;
         ALTER TABLE source_state DROP COLUMN site_description;
         DELETE FROM refinery_schema_history WHERE version >= 23;",
    )
    .unwrap();
    drop(conn);
    md(&posts, "a.md", "https://example.org/a-moved/");
    let stderr = run(&cfg, &["run"], 0);
    assert!(stderr.contains("the store was upgraded"), "{stderr}");
    assert!(!stderr.contains("skipped"), "{stderr}");
    assert!(stderr.contains("events: 0 new, 1 updated"), "{stderr}");
    let after = published(dir.path(), "main");
    assert_eq!(
        after.keys().collect::<Vec<_>>(),
        before.keys().collect::<Vec<_>>(),
        "{stderr}"
    );
}

/// A `dir` source renamed and its old name given to a new source of another folder: the
/// renamed one keeps its history (a file whose `url` changes keeps its entry), and the new one
/// takes nothing out of the other's folder (no "the file is gone" for files that are there).
#[test]
fn an_old_name_given_to_another_folder_takes_nothing_from_the_renamed_source() {
    let dir = tempfile::tempdir().unwrap();
    md(&dir.path().join("posts"), "a.md", "https://example.org/a/");
    md(&dir.path().join("posts"), "b.md", "https://example.org/b/");
    md(&dir.path().join("other"), "c.md", "https://example.org/c/");
    let cfg = write_config(
        dir.path(),
        &config(
            "",
            &[("events", "posts", "kind = \"dir\"")],
            &[("main", &["events"])],
        ),
    );
    run(&cfg, &["run"], 0);
    let before = published(dir.path(), "main");
    write_config(
        dir.path(),
        &config(
            "",
            &[
                ("events", "other", "kind = \"dir\""),
                ("events-a", "posts", "kind = \"dir\""),
            ],
            &[("main", &["events", "events-a"])],
        ),
    );
    md(
        &dir.path().join("posts"),
        "a.md",
        "https://example.org/a-moved/",
    );
    let stderr = run(&cfg, &["run"], 0);
    assert!(
        stderr.contains("source events is now events-a: 2 posts carried over"),
        "{stderr}"
    );
    assert!(!stderr.contains("skipped"), "{stderr}");
    assert!(stderr.contains("events: 1 new"), "{stderr}");
    let after = published(dir.path(), "main");
    assert_eq!(after.len(), 3, "{after:?}");
    for id in before.keys() {
        assert!(after.contains_key(id), "{id} lost: {after:?}");
    }
    assert!(
        after.values().any(|u| u == "https://example.org/a-moved/"),
        "{after:?}"
    );
}

/// The site moved to another host (`url` updated from `http://127.0.0.1:PORT/…` to
/// `http://localhost:PORT/…`, the same paths): every stored post of the source is the same
/// post at its new address, with its id, published once, not fetched again; the run says so.
/// The posts of another source, still reading the old host, keep their address (but the one
/// both list is one post, now at its new address).
#[test]
fn a_site_moved_to_another_host_keeps_its_posts_entries() {
    let site = Site::start();
    let old = site.base();
    let new = old.replace("127.0.0.1", "localhost");
    let posts = numbered_posts(15, 700);
    let other = numbered_posts(3, 800);
    // The post both sources list.
    let shared = posts[0].clone();
    publish(&site, &old, "cat", &posts);
    let mut med = other.clone();
    med.push(shared.clone());
    publish(&site, &old, "med", &med);
    let cfg_with = |cat: &str| {
        config(
            "",
            &[
                ("neg", cat, "max_pages = 5"),
                ("med", &format!("{old}/med/"), ""),
            ],
            &[("main", &["neg"]), ("mediation", &["med"])],
        )
    };
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &cfg_with(&format!("{old}/cat/")));
    run(&cfg, &["run"], 0);
    let before = published(dir.path(), "main");
    let med_before = published(dir.path(), "mediation");
    assert_eq!(before.len(), 15);
    assert!(before.values().all(|u| u.starts_with(&old)), "{before:?}");

    // The site now answers, and names itself, at the new host.
    publish(&site, &new, "cat", &posts);
    write_config(dir.path(), &cfg_with(&format!("{new}/cat/")));
    let since = site.requests().len();
    let stderr = run(&cfg, &["run"], 0);
    assert!(stderr.contains("neg: 0 new, 0 updated"), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "  its site moved from {old} to {new}: 15 stored posts are now there, the same \
             entries with the same ids"
        )),
        "{stderr}"
    );
    assert!(stderr.contains("med: 0 new, 0 updated"), "{stderr}");
    assert_eq!(post_requests(&site, since), Vec::<String>::new());
    let after = published(dir.path(), "main");
    assert_eq!(
        after.keys().collect::<Vec<_>>(),
        before.keys().collect::<Vec<_>>()
    );
    for (id, url) in &after {
        assert_eq!(url, &before[id].replace(&old, &new));
    }
    let shared_url = format!("{old}{}", shared.path());
    let med_after = published(dir.path(), "mediation");
    assert_eq!(
        med_after.keys().collect::<Vec<_>>(),
        med_before.keys().collect::<Vec<_>>()
    );
    for (id, url) in &med_after {
        if med_before[id] == shared_url {
            assert_eq!(url, &shared_url.replace(&old, &new), "the post both list");
        } else {
            assert_eq!(url, &med_before[id], "med's own posts stay on the old host");
        }
    }
    // Nothing moves again.
    let stderr = run(&cfg, &["run"], 0);
    assert!(!stderr.contains("site moved"), "{stderr}");
    assert_eq!(published(dir.path(), "main"), after);
}

/// A daemon killed when dropped (a failing test leaves none running).
struct Daemon(std::process::Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Wait (up to 20 s) until the daemon's log holds `count` lines containing each of `words`;
/// returns the log.
fn wait_for_log(log: &Path, words: &[&str], count: usize) -> String {
    let t0 = std::time::Instant::now();
    loop {
        let read = std::fs::read_to_string(log).unwrap_or_default();
        let found = read
            .lines()
            .filter(|l| words.iter().all(|w| l.contains(w)))
            .count();
        if found >= count {
            return read;
        }
        assert!(
            t0.elapsed() < std::time::Duration::from_secs(20),
            "no {count} × {words:?} in: {read}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// A reload that renames a source carries its history over before the renamed source's first
/// refresh or the feeds' publish, and a reload that removes one warns of its posts once while
/// the daemon runs, not at every refresh.
#[test]
fn a_daemon_reload_carries_a_rename_over() {
    let site = Site::start();
    let base = site.base();
    publish(&site, &base, "cat", &numbered_posts(30, 100));
    publish(&site, &base, "other", &numbered_posts(2, 900));
    let (cat, other) = (site.url("/cat/"), site.url("/other/"));
    let dir = tempfile::tempdir().unwrap();
    let every_second = "schedule = \"* * * * * *\"";
    let daemon = |name: &str, url: &str, pages: &str| {
        config(
            "",
            &[(name, url, &format!("{pages}\n{every_second}"))],
            &[("main", &[name])],
        ) + "[daemon]\njitter_secs = 0\n"
    };
    let cfg = write_config(dir.path(), &daemon("neg", &cat, "max_pages = 5"));
    run(&cfg, &["run"], 0);
    let before = published(dir.path(), "main");
    assert_eq!(before.len(), 30);
    let log = dir.path().join("daemon.log");
    let d = Daemon(
        std::process::Command::new(env!("CARGO_BIN_EXE_feedwright"))
            .arg("--config")
            .arg(&cfg)
            .arg("daemon")
            .env("RUST_LOG", "feedwright=info")
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap(),
    );
    let hup = || {
        let ok = std::process::Command::new("kill")
            .arg("-HUP")
            .arg(d.0.id().to_string())
            .status()
            .unwrap();
        assert!(ok.success());
    };
    wait_for_log(&log, &["0 new", "source=neg "], 1);
    write_config(dir.path(), &daemon("negotiation", &cat, "max_pages = 1"));
    hup();
    wait_for_log(
        &log,
        &["source neg is now negotiation: 30 posts carried over"],
        1,
    );
    wait_for_log(&log, &["0 new", "source=negotiation "], 2);
    assert_eq!(published(dir.path(), "main"), before);

    // Removed: said once, however many refreshes follow.
    write_config(dir.path(), &daemon("med", &other, ""));
    hup();
    wait_for_log(&log, &["0 new", "source=med "], 3);
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(
        text.matches(
            "source negotiation is no longer in the configuration: its 30 stored posts are in \
             no feed now"
        )
        .count(),
        1,
        "{text}"
    );
}
