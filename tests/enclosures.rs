//! Enclosures (a podcast episode's audio, a video attached to a post): read from a `feed`
//! source's RSS `<enclosure>`s, Atom `<link rel="enclosure">`s and JSON Feed `attachments`,
//! served over loopback, and published in `rss.xml` (the first), `atom.xml` and `feed.json`
//! (all of them); kept across runs and taken up by a store upgraded from before they were.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{Resp, Site, feedwright, site_config, write_config};
use rss::validation::Validate;

/// One enclosure as a document publishes it: `(url, media type, length)`; a length or type a
/// document leaves out is `None`.
type Published = (String, Option<String>, Option<u64>);

/// What the three documents of `out/main/` publish, by item URL: the RSS `<enclosure>`, the
/// Atom `rel="enclosure"` links, the JSON Feed `attachments` (the whole objects). The RSS
/// document is checked to be valid RSS 2.0 on the way.
struct Outputs {
    rss: BTreeMap<String, Option<Published>>,
    atom: BTreeMap<String, Vec<(Published, Option<String>)>>,
    json: BTreeMap<String, Vec<serde_json::Value>>,
}

fn outputs(dir: &Path) -> Outputs {
    let out = dir.join("out/main");
    let rss = rss::Channel::read_from(&std::fs::read(out.join("rss.xml")).unwrap()[..])
        .expect("rss.xml reads");
    // The crate's check wants a length over 0, where the RSS Board's profile asks for 0 when the
    // size is unknown (as published): everything else must pass it.
    let mut checked = rss.clone();
    for item in checked.items_mut() {
        if let Some(e) = item.enclosure.as_mut().filter(|e| e.length == "0") {
            e.length = "1".into();
        }
    }
    checked.validate().expect("valid RSS 2.0");
    let rss = rss
        .items()
        .iter()
        .map(|i| {
            let e = i.enclosure().map(|e| {
                (
                    e.url().to_owned(),
                    Some(e.mime_type().to_owned()),
                    Some(e.length().parse().expect("a length is a number")),
                )
            });
            (i.link().unwrap().to_owned(), e)
        })
        .collect();
    let atom = atom_syndication::Feed::read_from(&std::fs::read(out.join("atom.xml")).unwrap()[..])
        .expect("atom.xml reads");
    let atom = atom
        .entries()
        .iter()
        .map(|e| {
            let url = e
                .links()
                .iter()
                .find(|l| l.rel() == "alternate")
                .unwrap()
                .href()
                .to_owned();
            let enclosures = e
                .links()
                .iter()
                .filter(|l| l.rel() == "enclosure")
                .map(|l| {
                    let length = l.length().map(|n| n.parse().expect("a length is a number"));
                    (
                        (
                            l.href().to_owned(),
                            l.mime_type().map(str::to_owned),
                            length,
                        ),
                        l.title().map(str::to_owned),
                    )
                })
                .collect();
            (url, enclosures)
        })
        .collect();
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("feed.json")).unwrap()).unwrap();
    let json = json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let attachments = i
                .get("attachments")
                .map(|a| a.as_array().expect("attachments is a list").clone())
                .unwrap_or_default();
            (i["url"].as_str().unwrap().to_owned(), attachments)
        })
        .collect();
    Outputs { rss, atom, json }
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

/// Run once; the exit code must be 0. Returns stderr.
fn run(cfg: &Path) -> String {
    let (code, stdout, stderr) = feedwright(cfg, &["run"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    stderr
}

fn some(s: &str) -> Option<String> {
    Some(s.to_owned())
}

/// An RSS podcast: an episode with its audio (a relative URL, resolved against the feed) and,
/// as some feeds do, a second enclosure; one whose enclosure gives no length or type; one with
/// none. Every enclosure reaches Atom and JSON Feed; RSS, which allows one, has the first,
/// with `0` and `application/octet-stream` for what is unknown. Enclosures that are not
/// http(s), and a repeat, are left out.
#[test]
fn rss_enclosures_reach_all_three_documents() {
    let site = Site::start();
    let base = site.base();
    let (dir, cfg) = setup(&site);
    serve(
        &site,
        "application/rss+xml",
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Show</title><link>{base}/</link><description>d</description>
<item><title>Episode 3</title><link>{base}/ep3/</link><guid>{base}/ep3/</guid>
<pubDate>Tue, 05 Mar 2024 10:00:00 +0000</pubDate><description>Three.</description>
<enclosure url="/media/ep3.mp3" length="24986239" type="audio/mpeg"/>
<enclosure url="{base}/media/ep3.mp3" length="24986239" type="audio/mpeg"/>
<enclosure url="ftp://files.example/ep3.mp3" length="1" type="audio/mpeg"/>
<enclosure url="https://cdn.example.net/ep3-video.mp4" length="99" type="video/mp4"/></item>
<item><title>Episode 2</title><link>{base}/ep2/</link>
<pubDate>Mon, 04 Mar 2024 10:00:00 +0000</pubDate><description>Two.</description>
<enclosure url="https://cdn.example.net/ep2.ogg"/></item>
<item><title>Notes</title><link>{base}/notes/</link>
<pubDate>Sun, 03 Mar 2024 10:00:00 +0000</pubDate><description>No audio.</description></item>
</channel></rss>"#
        ),
    );
    let stderr = run(&cfg);
    assert!(stderr.contains("site: 3 new"), "{stderr}");
    let out = outputs(dir.path());
    let (ep3, ep2, notes) = (
        format!("{base}/ep3/"),
        format!("{base}/ep2/"),
        format!("{base}/notes/"),
    );
    let mp3: Published = (
        format!("{base}/media/ep3.mp3"),
        some("audio/mpeg"),
        Some(24986239),
    );
    let mp4: Published = (
        "https://cdn.example.net/ep3-video.mp4".into(),
        some("video/mp4"),
        Some(99),
    );
    let ogg = "https://cdn.example.net/ep2.ogg".to_owned();

    assert_eq!(out.rss[&ep3], Some(mp3.clone()));
    assert_eq!(
        out.rss[&ep2],
        Some((ogg.clone(), some("application/octet-stream"), Some(0)))
    );
    assert_eq!(out.rss[&notes], None);

    assert_eq!(
        out.atom[&ep3],
        vec![(mp3.clone(), None), (mp4.clone(), None)]
    );
    assert_eq!(out.atom[&ep2], vec![((ogg.clone(), None, None), None)]);
    assert!(out.atom[&notes].is_empty());

    assert_eq!(
        out.json[&ep3],
        vec![
            serde_json::json!({"url": mp3.0, "mime_type": "audio/mpeg", "size_in_bytes": 24986239}),
            serde_json::json!({"url": mp4.0, "mime_type": "video/mp4", "size_in_bytes": 99}),
        ]
    );
    assert_eq!(
        out.json[&ep2],
        vec![serde_json::json!({"url": ogg, "mime_type": "application/octet-stream"})]
    );
    assert!(out.json[&notes].is_empty());
    let text = std::fs::read_to_string(dir.path().join("out/main/feed.json")).unwrap();
    assert_eq!(
        text.matches("\"attachments\"").count(),
        2,
        "an item without enclosures has no attachments key: {text}"
    );
}

/// An Atom entry's `<link rel="enclosure">`s, with their type, length and title (the
/// relative `href` resolved against the document), in all three documents.
#[test]
fn atom_enclosure_links_reach_all_three_documents() {
    let site = Site::start();
    let base = site.base();
    let (dir, cfg) = setup(&site);
    serve(
        &site,
        "application/atom+xml",
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Show</title><id>urn:show</id>
<updated>2024-03-05T10:00:00Z</updated>
<entry><title>One</title><id>urn:one</id><link href="{base}/one/"/>
<updated>2024-03-05T10:00:00Z</updated><content type="html">&lt;p&gt;One.&lt;/p&gt;</content>
<link rel="enclosure" href="one.mp3" type="audio/mpeg" length="1234" title="Part one"/>
<link rel="enclosure" href="https://cdn.example.net/one.pdf" type="application/pdf"/></entry>
</feed>"#
        ),
    );
    run(&cfg);
    let out = outputs(dir.path());
    let one = format!("{base}/one/");
    let mp3: Published = (
        format!("{base}/feed/one.mp3"),
        some("audio/mpeg"),
        Some(1234),
    );
    assert_eq!(out.rss[&one], Some(mp3.clone()));
    assert_eq!(
        out.atom[&one],
        vec![
            (mp3.clone(), some("Part one")),
            (
                (
                    "https://cdn.example.net/one.pdf".into(),
                    some("application/pdf"),
                    None
                ),
                None
            ),
        ]
    );
    assert_eq!(
        out.json[&one],
        vec![
            serde_json::json!({"url": mp3.0, "mime_type": "audio/mpeg", "title": "Part one",
                "size_in_bytes": 1234}),
            serde_json::json!({"url": "https://cdn.example.net/one.pdf",
                "mime_type": "application/pdf"}),
        ]
    );
}

/// JSON Feed `attachments`, their title and duration included, in all three documents (RSS
/// and Atom have no place for a duration).
#[test]
fn json_feed_attachments_reach_all_three_documents() {
    let site = Site::start();
    let base = site.base();
    let (dir, cfg) = setup(&site);
    let feed = serde_json::json!({
        "version": "https://jsonfeed.org/version/1.1",
        "title": "Show",
        "home_page_url": format!("{base}/"),
        "items": [{
            "id": "ep1",
            "url": format!("{base}/ep1/"),
            "title": "Episode 1",
            "content_html": "<p>One.</p>",
            "date_published": "2024-03-05T10:00:00Z",
            "attachments": [
                {"url": "https://cdn.example.net/ep1.m4a", "mime_type": "audio/x-m4a",
                 "title": "Episode 1 (AAC)", "size_in_bytes": 5000, "duration_in_seconds": 1800},
                {"url": "https://cdn.example.net/ep1.mp3", "mime_type": "audio/mpeg"}
            ]
        }]
    });
    serve(&site, "application/feed+json", feed.to_string());
    run(&cfg);
    let out = outputs(dir.path());
    let ep1 = format!("{base}/ep1/");
    let m4a: Published = (
        "https://cdn.example.net/ep1.m4a".into(),
        some("audio/x-m4a"),
        Some(5000),
    );
    let mp3 = "https://cdn.example.net/ep1.mp3".to_owned();
    assert_eq!(out.rss[&ep1], Some(m4a.clone()));
    assert_eq!(
        out.atom[&ep1],
        vec![
            (m4a.clone(), some("Episode 1 (AAC)")),
            ((mp3.clone(), some("audio/mpeg"), None), None),
        ]
    );
    assert_eq!(
        out.json[&ep1],
        vec![
            serde_json::json!({"url": m4a.0, "mime_type": "audio/x-m4a",
                "title": "Episode 1 (AAC)", "size_in_bytes": 5000, "duration_in_seconds": 1800}),
            serde_json::json!({"url": mp3, "mime_type": "audio/mpeg"}),
        ]
    );
}

/// An RSS feed of one episode whose `<enclosure>` is `enclosure` (none when empty).
fn episode(base: &str, title: &str, enclosure: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Show</title><link>{base}/</link><description>d</description>
<item><title>{title}</title><link>{base}/ep1/</link><guid>{base}/ep1/</guid>
<pubDate>Tue, 05 Mar 2024 10:00:00 +0000</pubDate><description>About it.</description>
{enclosure}</item></channel></rss>"#
    )
}

/// Enclosures stay with their entry from run to run, through an edit of its text; the feed
/// replacing the file replaces it, and the feed withdrawing it withdraws it.
#[test]
fn enclosures_are_kept_across_runs_and_follow_the_feed() {
    let site = Site::start();
    let base = site.base();
    let (dir, cfg) = setup(&site);
    let ep1 = format!("{base}/ep1/");
    let first =
        r#"<enclosure url="https://cdn.example.net/ep1.mp3" length="10" type="audio/mpeg"/>"#;
    let urls = |dir: &Path| {
        let out = outputs(dir);
        out.atom[&ep1]
            .iter()
            .map(|((url, ..), _)| url.clone())
            .collect::<Vec<_>>()
    };
    serve(
        &site,
        "application/rss+xml",
        episode(&base, "Episode 1", first),
    );
    run(&cfg);
    assert_eq!(urls(dir.path()), ["https://cdn.example.net/ep1.mp3"]);
    // The same feed again: nothing changed.
    let stderr = run(&cfg);
    assert!(
        stderr.contains("site: 0 new, 0 updated, 1 unchanged"),
        "{stderr}"
    );
    // The title edited: an update, the enclosure kept.
    serve(
        &site,
        "application/rss+xml",
        episode(&base, "Episode 1: the pilot", first),
    );
    let stderr = run(&cfg);
    assert!(stderr.contains("site: 0 new, 1 updated"), "{stderr}");
    assert_eq!(urls(dir.path()), ["https://cdn.example.net/ep1.mp3"]);
    // A new file in its place: an update.
    let fixed =
        r#"<enclosure url="https://cdn.example.net/ep1-fixed.mp3" length="11" type="audio/mpeg"/>"#;
    serve(
        &site,
        "application/rss+xml",
        episode(&base, "Episode 1: the pilot", fixed),
    );
    let stderr = run(&cfg);
    assert!(stderr.contains("site: 0 new, 1 updated"), "{stderr}");
    assert_eq!(urls(dir.path()), ["https://cdn.example.net/ep1-fixed.mp3"]);
    // Withdrawn.
    serve(
        &site,
        "application/rss+xml",
        episode(&base, "Episode 1: the pilot", ""),
    );
    let stderr = run(&cfg);
    assert!(stderr.contains("site: 0 new, 1 updated"), "{stderr}");
    assert!(urls(dir.path()).is_empty());
    assert_eq!(outputs(dir.path()).rss[&ep1], None);
}

/// A store from before enclosures were kept (schema v19), holding an episode an older version
/// read without its enclosure: the upgrade reads the feed in full once (not conditionally,
/// which would answer 304), so the episode takes its enclosure on the first run.
#[test]
fn an_upgraded_store_takes_up_the_enclosures_of_stored_items() {
    let site = Site::start();
    let base = site.base();
    let (dir, cfg) = setup(&site);
    let ep1 = format!("{base}/ep1/");
    let serve_with_etag = |body: String| {
        site.set(
            "/feed/",
            Resp::Bytes {
                content_type: "application/rss+xml".into(),
                body: body.into_bytes(),
                headers: vec![("ETag".into(), "\"v1\"".into())],
            },
        );
    };
    // What an older version stored of the feed: the episode, without its enclosure (it read
    // none), and the feed's validators.
    serve_with_etag(episode(&base, "Episode 1", ""));
    run(&cfg);
    run(&cfg);
    let feed_requests = |site: &Site| {
        site.hits()
            .into_iter()
            .filter(|h| h.path == "/feed/")
            .map(|h| h.conditional)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        feed_requests(&site),
        [false, true],
        "the second read is conditional"
    );
    let db = dir.path().join("feedwright.db");
    let conn = rusqlite::Connection::open(&db).expect("sqlite");
    // Back to schema v19: the migrations after it undone too.
    conn.execute_batch(
        "ALTER TABLE entries DROP COLUMN enclosures;
         ALTER TABLE source_state DROP COLUMN kind;
         DELETE FROM refinery_schema_history WHERE version >= 20;",
    )
    .expect("downgrade");
    drop(conn);
    // The feed as it was all along, enclosure included, under the same validator.
    serve_with_etag(episode(
        &base,
        "Episode 1",
        r#"<enclosure url="https://cdn.example.net/ep1.mp3" length="10" type="audio/mpeg"/>"#,
    ));
    let stderr = run(&cfg);
    assert!(
        stderr.contains("the store was upgraded from schema v19 to v22"),
        "{stderr}"
    );
    assert_eq!(
        feed_requests(&site),
        [false, true, false],
        "the first read after the upgrade is not conditional"
    );
    assert!(stderr.contains("site: 0 new, 1 updated"), "{stderr}");
    let out = outputs(dir.path());
    assert_eq!(
        out.rss[&ep1],
        Some((
            "https://cdn.example.net/ep1.mp3".into(),
            some("audio/mpeg"),
            Some(10)
        ))
    );
    assert_eq!(out.json[&ep1].len(), 1);
    // From then on the feed is read conditionally again.
    run(&cfg);
    assert_eq!(feed_requests(&site), [false, true, false, true]);
}

/// Episodes that leave the head keep their enclosures in the archive documents, and in the
/// entries a complete archive page freezes.
#[test]
fn archived_entries_keep_their_enclosures() {
    let site = Site::start();
    let base = site.base();
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        &site_config(&site.url("/feed/"), "", "kind = \"feed\"")
            .replace("limit = 1000", "limit = 1\narchive_page_size = 1"),
    );
    let items: String = (1..=3)
        .map(|n| {
            format!(
                r#"<item><title>Episode {n}</title><link>{base}/ep{n}/</link>
<pubDate>0{n} Mar 2024 10:00:00 +0000</pubDate><description>About {n}.</description>
<enclosure url="https://cdn.example.net/ep{n}.mp3" length="{n}00" type="audio/mpeg"/></item>
"#
            )
        })
        .collect();
    serve(
        &site,
        "application/rss+xml",
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Show</title><link>{base}/</link><description>d</description>
{items}</channel></rss>"#
        ),
    );
    run(&cfg);
    // Episode 1 is on the complete page 1, episode 2 on page 2, episode 3 in the head.
    for (page, n) in [(1, 1), (2, 2)] {
        let path = dir.path().join(format!("out/main/archive/{page}.xml"));
        let feed = atom_syndication::Feed::read_from(&std::fs::read(&path).unwrap()[..])
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let links: Vec<(String, Option<String>)> = feed.entries()[0]
            .links()
            .iter()
            .filter(|l| l.rel() == "enclosure")
            .map(|l| (l.href().to_owned(), l.length().map(str::to_owned)))
            .collect();
        assert_eq!(
            links,
            [(
                format!("https://cdn.example.net/ep{n}.mp3"),
                Some(format!("{n}00"))
            )],
            "archive page {page}"
        );
    }
    let conn = rusqlite::Connection::open(dir.path().join("feedwright.db")).expect("sqlite");
    let frozen: String = conn
        .query_row(
            "SELECT frozen_entries FROM archive_pages WHERE feed = 'main' AND page = 1",
            [],
            |r| r.get(0),
        )
        .expect("page 1 is frozen");
    let frozen: serde_json::Value = serde_json::from_str(&frozen).unwrap();
    assert_eq!(
        frozen[0]["enclosures"],
        serde_json::json!([{"url": "https://cdn.example.net/ep1.mp3",
            "media_type": "audio/mpeg", "length": 100}])
    );
}
