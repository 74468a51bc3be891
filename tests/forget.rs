//! `feedwright forget SOURCE`: a source removed from the configuration on purpose is forgotten.
//! What the store held of it goes, but the posts another source holds too; the warning that
//! named it stops; feeds that never showed it do not change, and complete archive pages keep
//! what they froze. Refused for a configured source, one the store holds nothing of, and one a
//! rename would carry over. Through the real binary against a loopback fixture site.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::SystemTime;

use common::{
    Post, Resp, Site, classic_post, feedwright, json_items, listing, publish_category,
    serve_one_item_feed, sources_config, write_config,
};

const PER_PAGE: usize = 10;

/// `n` posts newest first, one a day from `month`-28 down (into the months before), ids from
/// `first_id + 1`.
fn make_posts(n: usize, first_id: u64, month: usize) -> Vec<Post> {
    (0..n)
        .map(|i| {
            let id = first_id + (n - i) as u64;
            Post::new(
                id,
                &format!("post-{id}"),
                &format!("Post number {id} about topic {}", id * 7919 % 1000),
                &format!(
                    "2024-{:02}-{:02}T09:00:00+00:00",
                    month - i / 28,
                    28 - i % 28
                ),
            )
        })
        .collect()
}

/// Serve `posts` and the listing `/{cat}/` of them, `PER_PAGE` a page.
fn publish(site: &Site, cat: &str, posts: &[&Post]) {
    publish_category(site, &site.base(), cat, posts, PER_PAGE);
}

/// Run `args`; the exit code must be `code`. Returns (stdout, stderr).
fn run(cfg: &Path, args: &[&str], code: i32) -> (String, String) {
    let (got, stdout, stderr) = feedwright(cfg, args);
    assert_eq!(got, code, "{args:?}: {stdout}{stderr}");
    (stdout, stderr)
}

/// The store, read-only.
fn db(dir: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open_with_flags(
        dir.join("feedwright.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("open the store")
}

/// Every row of every table of the store, as text, sorted: the store's whole content.
fn dump(dir: &Path) -> BTreeMap<String, Vec<String>> {
    let conn = db(dir);
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    tables
        .into_iter()
        .map(|t| {
            let mut stmt = conn.prepare(&format!("SELECT * FROM \"{t}\"")).unwrap();
            let n = stmt.column_count();
            let mut rows: Vec<String> = stmt
                .query_map([], |r| {
                    Ok((0..n)
                        .map(|i| format!("{:?}", r.get_ref(i).unwrap()))
                        .collect::<Vec<_>>()
                        .join("|"))
                })
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            rows.sort();
            (t, rows)
        })
        .collect()
}

/// The bytes of the store's files (the database and its write-ahead log).
fn store_files(dir: &Path) -> Vec<Vec<u8>> {
    ["feedwright.db", "feedwright.db-wal"]
        .iter()
        .map(|f| std::fs::read(dir.join(f)).unwrap_or_default())
        .collect()
}

/// The rows, in any table, that name `source` (in a `source` column or `enclosures_source`).
fn rows_naming(dir: &Path, source: &str) -> Vec<String> {
    let conn = db(dir);
    let tables: Vec<String> = conn
        .prepare(
            "SELECT DISTINCT m.name FROM sqlite_schema m, pragma_table_info(m.name) c
             WHERE m.type = 'table' AND c.name = 'source' ORDER BY m.name",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut out = Vec::new();
    for t in tables {
        let n: i64 = conn
            .query_row(
                &format!("SELECT count(*) FROM {t} WHERE source = ?1"),
                [source],
                |r| r.get(0),
            )
            .unwrap();
        if n > 0 {
            out.push(format!("{t}: {n}"));
        }
    }
    let n: i64 = conn
        .query_row(
            "SELECT count(*) FROM entries WHERE enclosures_source = ?1",
            [source],
            |r| r.get(0),
        )
        .unwrap();
    if n > 0 {
        out.push(format!("entries.enclosures_source: {n}"));
    }
    out
}

/// `SELECT count(*) …` on the store.
fn count(dir: &Path, query: &str) -> i64 {
    db(dir).query_row(query, [], |r| r.get(0)).unwrap()
}

/// The lines `feedwright status` prints after its table of sources.
fn status_notes(cfg: &Path) -> String {
    let (stdout, stderr) = run(cfg, &["status"], 0);
    assert!(!stderr.contains("error"), "{stderr}");
    stdout
        .lines()
        .skip(1)
        .filter(|l| !l.contains("healthy") && !l.contains("never run"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Each item of `out/<feed>/feed.json`, without its related links: id, url, title, body, dates.
fn items(dir: &Path, feed: &str) -> Vec<[String; 6]> {
    json_items(dir, feed)
        .iter()
        .map(|i| {
            [
                "id",
                "url",
                "title",
                "content_html",
                "date_published",
                "date_modified",
            ]
            .map(|k| i[k].as_str().unwrap_or_default().to_owned())
        })
        .collect()
}

/// The bytes and modification times of a feed's head documents.
fn head_files(dir: &Path, feed: &str) -> Vec<(Vec<u8>, SystemTime)> {
    ["atom.xml", "rss.xml", "feed.json"]
        .iter()
        .map(|f| {
            let path = dir.join(format!("out/{feed}/{f}"));
            let bytes = std::fs::read(&path).unwrap();
            let modified = std::fs::metadata(&path).unwrap().modified().unwrap();
            (bytes, modified)
        })
        .collect()
}

/// The reported case. Source `a` lists ten posts, `b` three of its own and three of `a`'s,
/// `c` two others; `a` is removed from the configuration (and its feed with it): every run
/// warns that its seven other posts are in no feed, naming `feedwright forget a`. A dry run
/// says what would go and changes nothing; the forget deletes those seven, keeps the three `b`
/// holds (`b`'s now), and removes every row naming `a`. Then no run and no `status` names it;
/// `b`'s feed shows the same posts, and `c`'s feed, which never showed `a`, is not rewritten.
#[test]
fn a_removed_source_is_forgotten_but_the_posts_another_source_holds() {
    let site = Site::start();
    let p = make_posts(10, 100, 6);
    let q = make_posts(3, 200, 5);
    let r = make_posts(2, 300, 4);
    publish(&site, "cat", &p.iter().collect::<Vec<_>>());
    publish(&site, "other", &q.iter().chain(&p[..3]).collect::<Vec<_>>());
    publish(&site, "third", &r.iter().collect::<Vec<_>>());
    // One of `a`'s posts is listed at another address than its own (its page names its own as
    // canonical): the store keeps that address as leading to it.
    let base = site.base();
    let alt = format!("{base}/alt/post-101/");
    site.set("/alt/post-101/", Resp::Html(classic_post(&base, &p[9])));
    let mut links: Vec<(String, String)> = p
        .iter()
        .map(|p| (format!("{base}{}", p.path()), p.title.clone()))
        .collect();
    links[9].0.clone_from(&alt);
    site.set("/cat/", Resp::Html(listing(&base, &links, None)));
    let (cat, other, third) = (site.url("/cat/"), site.url("/other/"), site.url("/third/"));
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        &sources_config(
            "",
            &[("a", &cat, ""), ("b", &other, ""), ("c", &third, "")],
            &[("fa", &["a"]), ("fb", &["b"]), ("fc", &["c"])],
            "limit = 100",
        ),
    );
    run(&cfg, &["run"], 0);
    assert_eq!(count(dir.path(), "SELECT count(*) FROM entries"), 15);
    assert_eq!(count(dir.path(), "SELECT count(*) FROM aliases"), 1);

    // Removed on purpose: every run says so, with the command that forgets it.
    let removed = sources_config(
        "",
        &[("b", &other, ""), ("c", &third, "")],
        &[("fb", &["b"]), ("fc", &["c"])],
        "limit = 100",
    );
    write_config(dir.path(), &removed);
    let (_, stderr) = run(&cfg, &["run"], 0);
    let warning = stderr
        .lines()
        .find(|l| l.starts_with("warning: source a is no longer in the configuration"))
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(
        warning.contains("7 of its 10 stored posts are in no feed now")
            && warning.contains("`feedwright forget a`"),
        "{warning}"
    );
    assert!(
        status_notes(&cfg).contains("source a is no longer in the configuration"),
        "status names it"
    );
    let fb = items(dir.path(), "fb");
    assert_eq!(fb.len(), 6);
    let fc = head_files(dir.path(), "fc");

    // A dry run says what would go, and changes nothing.
    let (before, files) = (dump(dir.path()), store_files(dir.path()));
    let (stdout, _) = run(&cfg, &["forget", "--dry-run", "a"], 0);
    assert!(
        stdout.starts_with(
            "dry run: forgetting source a would delete 7 posts and keep 3 (held by other sources)"
        ) && stdout.contains("nothing was changed"),
        "{stdout}"
    );
    assert_eq!(dump(dir.path()), before, "a dry run changed the store");
    assert_eq!(
        store_files(dir.path()),
        files,
        "a dry run wrote to the store"
    );

    let (stdout, _) = run(&cfg, &["forget", "a"], 0);
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(
        stdout.starts_with("forgot source a: 7 posts deleted, 3 kept (held by other sources)"),
        "{stdout}"
    );
    assert_eq!(rows_naming(dir.path(), "a"), Vec::<String>::new());
    assert_eq!(count(dir.path(), "SELECT count(*) FROM entries"), 8);
    // The posts `b` holds too are `b`'s now, and nothing leads to the posts that went.
    assert_eq!(
        count(
            dir.path(),
            "SELECT count(*) FROM entries WHERE source = 'b'"
        ),
        6
    );
    assert_eq!(
        count(
            dir.path(),
            "SELECT count(*) FROM aliases WHERE dedup_key NOT IN (SELECT dedup_key FROM entries)"
        ),
        0
    );
    assert_eq!(
        count(
            dir.path(),
            "SELECT count(*) FROM related_fixed WHERE entry_id NOT IN (SELECT id FROM entries)"
        ),
        0
    );

    // Nothing names it any more; `b`'s feed shows the same posts; `c`'s is not rewritten.
    let (_, stderr) = run(&cfg, &["run"], 0);
    assert!(
        !stderr.contains("no longer in the configuration"),
        "{stderr}"
    );
    assert!(!stderr.contains("source a"), "{stderr}");
    assert!(
        !status_notes(&cfg).contains("source a"),
        "status still names it"
    );
    assert_eq!(items(dir.path(), "fb"), fb);
    assert!(
        head_files(dir.path(), "fc") == fc,
        "a feed that never showed the source changed"
    );
    // What `b`'s feed links as related is still stored.
    let text = std::fs::read_to_string(dir.path().join("out/fb/feed.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let conn = db(dir.path());
    for item in json["items"].as_array().unwrap() {
        for link in item["_feedwright"]["related"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let url = link["url"].as_str().unwrap();
            let stored: bool = conn
                .query_row(
                    "SELECT EXISTS (SELECT 1 FROM entries WHERE url = ?1)",
                    [url],
                    |r| r.get(0),
                )
                .unwrap();
            assert!(stored, "a related link to a post that went: {url}");
        }
    }

    // A post that went is a new post to a source that lists it later, at any address that
    // led to it.
    let mut links: Vec<(String, String)> = q
        .iter()
        .chain(&p[..3])
        .map(|p| (format!("{base}{}", p.path()), p.title.clone()))
        .collect();
    links.push((alt, p[9].title.clone()));
    site.set("/other/", Resp::Html(listing(&base, &links, None)));
    let (_, stderr) = run(&cfg, &["run"], 0);
    assert!(stderr.contains("b: 1 new"), "{stderr}");

    // Once forgotten, there is nothing left to forget.
    let (_, stderr) = run(&cfg, &["forget", "a"], 2);
    assert!(
        stderr.contains(
            "the store holds nothing of source a: it holds nothing of any source the \
             configuration no longer has"
        ),
        "{stderr}"
    );
}

/// What is refused, each with one error line naming the source and exit 2, changing nothing:
/// a source the configuration has, one the store holds nothing of (naming those it holds that
/// the configuration no longer has), one a configured source takes over as renamed, and any
/// source while there is no store (none is created). A store another process holds is waited
/// for with `--wait`, as `run` does.
#[test]
fn forgetting_is_refused_for_a_live_source_an_unknown_one_and_one_being_renamed() {
    let site = Site::start();
    let p = make_posts(4, 100, 6);
    let q = make_posts(2, 200, 5);
    publish(&site, "cat", &p.iter().collect::<Vec<_>>());
    publish(&site, "other", &q.iter().collect::<Vec<_>>());
    let (cat, other) = (site.url("/cat/"), site.url("/other/"));
    let dir = tempfile::tempdir().unwrap();
    let both = sources_config(
        "",
        &[("a", &cat, ""), ("b", &other, "")],
        &[("main", &["a", "b"])],
        "",
    );
    let cfg = write_config(dir.path(), &both);
    let error_lines = |stderr: &str| stderr.lines().filter(|l| !l.is_empty()).count();

    // No store yet: nothing to forget, and none created.
    write_config(
        dir.path(),
        &sources_config("", &[("b", &other, "")], &[("main", &["b"])], ""),
    );
    let (_, stderr) = run(&cfg, &["forget", "a"], 2);
    assert!(
        stderr.starts_with("error: cannot forget: the store holds nothing of source a: ")
            && stderr.contains("does not exist yet"),
        "{stderr}"
    );
    assert!(!dir.path().join("feedwright.db").exists());

    write_config(dir.path(), &both);
    run(&cfg, &["run"], 0);
    let before = dump(dir.path());

    // A source the configuration has.
    for args in [&["forget", "a"][..], &["forget", "--dry-run", "a"]] {
        let (stdout, stderr) = run(&cfg, args, 2);
        assert_eq!(stdout, "");
        assert_eq!(error_lines(&stderr), 1, "{stderr}");
        assert!(
            stderr.starts_with(
                "error: cannot forget: source a is in the configuration: remove its [[source]]"
            ),
            "{stderr}"
        );
    }

    // One the store holds nothing of: the store names what it holds of sources gone.
    write_config(
        dir.path(),
        &sources_config("", &[("b", &other, "")], &[("main", &["b"])], ""),
    );
    let (_, stderr) = run(&cfg, &["forget", "nosuch"], 2);
    assert_eq!(error_lines(&stderr), 1, "{stderr}");
    assert!(
        stderr.contains(
            "the store holds nothing of source nosuch: of the sources the configuration no \
             longer has, it holds a"
        ),
        "{stderr}"
    );

    // One a configured source of its kind and url takes over at the next run.
    write_config(
        dir.path(),
        &sources_config(
            "",
            &[("a2", &cat, ""), ("b", &other, "")],
            &[("main", &["a2", "b"])],
            "",
        ),
    );
    for args in [&["forget", "a"][..], &["forget", "--dry-run", "a"]] {
        let (_, stderr) = run(&cfg, args, 2);
        assert_eq!(error_lines(&stderr), 1, "{stderr}");
        assert!(
            stderr.contains(
                "source a is not forgotten: it is [[source]] a2 renamed (same kind and url), \
                 which takes its 4 stored posts and its history over at the next run"
            ),
            "{stderr}"
        );
    }
    assert_eq!(
        dump(dir.path()),
        before,
        "a refused forget changed the store"
    );

    // The store's lock, held by another process (here, this one), is waited for.
    write_config(
        dir.path(),
        &sources_config("", &[("b", &other, "")], &[("main", &["b"])], ""),
    );
    let held = feedwright::store::Store::open(&dir.path().join("feedwright.db")).unwrap();
    let (_, stderr) = run(&cfg, &["forget", "a"], 2);
    assert!(stderr.contains("lock"), "{stderr}");
    let release = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(800));
        drop(held);
    });
    let (stdout, stderr) = run(&cfg, &["--wait", "30", "forget", "a"], 0);
    release.join().unwrap();
    assert!(stderr.contains("waiting up to 30 s"), "{stderr}");
    assert!(
        stdout.starts_with("forgot source a: 4 posts deleted, 0 kept"),
        "{stdout}"
    );
}

/// Archive pages of a feed that showed the source: complete pages keep the copies they froze
/// (their files are not rewritten, and the store still knows which entries they hold), the page
/// still filling loses the posts that went, even all of them, and stays a valid document the
/// head links; the next post archived goes onto it.
#[test]
fn complete_archive_pages_keep_what_they_froze() {
    let site = Site::start();
    // `b`'s oldest ten, then `a`'s eight, then `b`'s newest five: with five entries a head and
    // five a page, pages 1 and 2 hold `b`'s, page 3 (complete) five of `a`'s, page 4 (still
    // filling) the other three.
    let b_old = make_posts(10, 100, 3);
    let a = make_posts(8, 200, 5);
    let b_new = make_posts(5, 300, 7);
    publish(&site, "cat", &a.iter().collect::<Vec<_>>());
    publish(
        &site,
        "other",
        &b_new.iter().chain(&b_old).collect::<Vec<_>>(),
    );
    let (cat, other) = (site.url("/cat/"), site.url("/other/"));
    let dir = tempfile::tempdir().unwrap();
    let feed = "limit = 5\narchive_page_size = 5";
    let cfg = write_config(
        dir.path(),
        &sources_config(
            "",
            &[("a", &cat, "max_pages = 5"), ("b", &other, "max_pages = 5")],
            &[("main", &["a", "b"])],
            feed,
        ),
    );
    run(&cfg, &["run"], 0);
    let page = |n: u32| dir.path().join(format!("out/main/archive/{n}.xml"));
    for n in 1..=4 {
        assert!(page(n).exists(), "page {n}");
    }
    assert!(!page(5).exists());
    let ids = |n: u32| -> Vec<String> {
        let xml = std::fs::read(page(n)).unwrap();
        feed_rs::parser::parse(xml.as_slice())
            .unwrap_or_else(|e| panic!("page {n}: {e}"))
            .entries
            .into_iter()
            .map(|e| e.id)
            .collect()
    };
    assert_eq!(ids(4).len(), 3);

    write_config(
        dir.path(),
        &sources_config(
            "",
            &[("b", &other, "max_pages = 5")],
            &[("main", &["b"])],
            feed,
        ),
    );
    run(&cfg, &["run"], 0);
    let complete: Vec<(Vec<u8>, SystemTime)> = (1..=3)
        .map(|n| {
            (
                std::fs::read(page(n)).unwrap(),
                std::fs::metadata(page(n)).unwrap().modified().unwrap(),
            )
        })
        .collect();
    let head = common::atom_ids(dir.path());
    let frozen_rows = count(
        dir.path(),
        "SELECT count(*) FROM archive_entries a JOIN archive_pages p USING (feed, page)
         WHERE p.frozen_entries IS NOT NULL",
    );
    assert_eq!(frozen_rows, 15);

    let (stdout, _) = run(&cfg, &["forget", "a"], 0);
    assert!(
        stdout.starts_with("forgot source a: 8 posts deleted, 0 kept")
            && stdout.contains("3 (feed main) leave the archive page still filling"),
        "{stdout}"
    );
    let (_, stderr) = run(&cfg, &["run"], 0);
    assert!(!stderr.contains("no record of"), "{stderr}");
    for (n, (bytes, modified)) in (1..=3).zip(&complete) {
        assert!(
            &std::fs::read(page(n)).unwrap() == bytes,
            "complete page {n} changed"
        );
        assert_eq!(
            &std::fs::metadata(page(n)).unwrap().modified().unwrap(),
            modified,
            "complete page {n} rewritten"
        );
    }
    assert_eq!(ids(3).len(), 5, "a complete page keeps the posts that went");
    assert_eq!(
        count(
            dir.path(),
            "SELECT count(*) FROM archive_entries a JOIN archive_pages p USING (feed, page)
             WHERE p.frozen_entries IS NOT NULL"
        ),
        frozen_rows
    );
    assert_eq!(ids(4), Vec::<String>::new(), "the page still filling");
    assert_eq!(common::atom_ids(dir.path()), head);
    let atom = std::fs::read_to_string(dir.path().join("out/main/atom.xml")).unwrap();
    assert!(atom.contains("archive/4.xml"), "{atom}");

    // The next entries leaving the head fill the page still filling: the posts that went
    // hold no place on it.
    let newest = make_posts(3, 400, 8);
    publish(
        &site,
        "other",
        &newest
            .iter()
            .chain(&b_new)
            .chain(&b_old)
            .collect::<Vec<_>>(),
    );
    run(&cfg, &["run"], 0);
    assert_eq!(ids(4).len(), 3);
    assert!(!page(5).exists());
}

/// A source with an unfinished backfill and posts pending (a page that failed, posts the budget
/// left for the next run): forgetting it says so and removes them, with the history the
/// backfill found.
#[test]
fn forgetting_a_source_drops_its_backfill_and_pending_posts() {
    let site = Site::start();
    let a = make_posts(45, 100, 6);
    publish(&site, "cat", &a.iter().collect::<Vec<_>>());
    site.set(&a[2].path(), Resp::Status(500));
    let q = make_posts(2, 500, 7);
    publish(&site, "other", &q.iter().collect::<Vec<_>>());
    let (cat, other) = (site.url("/cat/"), site.url("/other/"));
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        &sources_config(
            "max_requests = 14",
            &[("a", &cat, "max_pages = 50"), ("b", &other, "")],
            &[("main", &["a", "b"])],
            "limit = 5\narchive_page_size = 5",
        ),
    );
    let (code, _, stderr) = feedwright(&cfg, &["backfill", "a"]);
    assert!(code == 0 || code == 1, "{stderr}");
    assert!(status_notes(&cfg).contains("source a: backfill NOT COMPLETE"));
    let pending = count(
        dir.path(),
        "SELECT count(*) FROM pending WHERE source = 'a'",
    );
    assert!(pending > 0);
    assert!(
        count(
            dir.path(),
            "SELECT count(*) FROM backfill_found WHERE source = 'a'"
        ) > 0
    );

    let pending_note = match pending {
        1 => "1 post pending".to_owned(),
        n => format!("{n} posts pending"),
    };
    write_config(
        dir.path(),
        &sources_config("", &[("b", &other, "")], &[("main", &["b"])], "limit = 5"),
    );
    let (stdout, _) = run(&cfg, &["forget", "--dry-run", "a"], 0);
    assert!(
        stdout.contains(&pending_note) && stdout.contains("its unfinished backfill"),
        "{stdout}"
    );
    let (stdout, _) = run(&cfg, &["forget", "a"], 0);
    assert!(
        stdout.starts_with("forgot source a: ")
            && stdout.contains(&pending_note)
            && stdout.contains("its unfinished backfill"),
        "{stdout}"
    );
    assert_eq!(rows_naming(dir.path(), "a"), Vec::<String>::new());
    for table in ["backfill", "backfill_found", "pending"] {
        assert_eq!(
            count(dir.path(), &format!("SELECT count(*) FROM {table}")),
            0,
            "{table}"
        );
    }
    let (_, stderr) = run(&cfg, &["run"], 0);
    assert!(!stderr.contains("source a"), "{stderr}");
    assert!(!stderr.contains("backfill"), "{stderr}");
    assert!(!status_notes(&cfg).contains("source a"));
}

/// A post two feeds give, the forgotten one having given its enclosures: the post stays (the
/// other feed holds it), with its enclosures, now given by no source known (the next feed that
/// gives some has the say on them), and names the other feed as the source that stored it.
#[test]
fn a_post_whose_enclosures_the_forgotten_feed_gave_keeps_them_until_another_feed_gives_some() {
    let site = Site::start();
    let rss = |path: &str, enclosure: &str| serve_one_item_feed(&site, path, enclosure);
    rss(
        "/podcast.xml",
        r#"<enclosure url="https://cdn.example.net/one.mp3" length="10" type="audio/mpeg"/>"#,
    );
    rss("/plain.xml", "");
    let (pods, plain) = (site.url("/podcast.xml"), site.url("/plain.xml"));
    let dir = tempfile::tempdir().unwrap();
    let feed = "kind = \"feed\"";
    let cfg = write_config(
        dir.path(),
        &sources_config(
            "",
            &[("pods", &pods, feed), ("plain", &plain, feed)],
            &[("main", &["pods", "plain"])],
            "",
        ),
    );
    run(&cfg, &["run"], 0);
    let rss_out = || std::fs::read_to_string(dir.path().join("out/main/rss.xml")).unwrap();
    assert!(rss_out().contains("one.mp3"));
    assert_eq!(
        count(
            dir.path(),
            "SELECT count(*) FROM entries WHERE source = 'pods' AND enclosures_source = 'pods'"
        ),
        1
    );

    write_config(
        dir.path(),
        &sources_config("", &[("plain", &plain, feed)], &[("main", &["plain"])], ""),
    );
    let (stdout, _) = run(&cfg, &["forget", "pods"], 0);
    assert!(
        stdout.starts_with("forgot source pods: 0 posts deleted, 1 kept"),
        "{stdout}"
    );
    assert_eq!(rows_naming(dir.path(), "pods"), Vec::<String>::new());
    assert_eq!(
        count(
            dir.path(),
            "SELECT count(*) FROM entries WHERE source = 'plain' AND enclosures_source IS NULL
             AND enclosures LIKE '%one.mp3%'"
        ),
        1
    );
    run(&cfg, &["run"], 0);
    assert!(
        rss_out().contains("one.mp3"),
        "a feed giving none wiped them"
    );
    rss(
        "/plain.xml",
        r#"<enclosure url="https://cdn.example.net/two.mp3" length="10" type="audio/mpeg"/>"#,
    );
    run(&cfg, &["run"], 0);
    let out = rss_out();
    assert!(out.contains("two.mp3") && !out.contains("one.mp3"), "{out}");
}
