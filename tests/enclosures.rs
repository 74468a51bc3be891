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
        "ALTER TABLE entries DROP COLUMN enclosures_source;
         ALTER TABLE entries DROP COLUMN enclosures;
         DROP TABLE digest_window;
         ALTER TABLE source_state DROP COLUMN kind;
         ALTER TABLE source_state DROP COLUMN site_description;
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
        stderr.contains("the store was upgraded from schema v19 to v25"),
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

/// A JSON Feed attachment value that is not what JSON Feed says (a size written `12345.0`,
/// `-1`, `"12345"` or `1e30`, no `mime_type`, a `mime_type` of `5`, no `url`) costs that value,
/// or that attachment, with a warning naming the feed and the item: never the whole feed.
#[test]
fn a_bad_attachment_value_costs_that_value_not_the_feed() {
    let site = Site::start();
    let base = site.base();
    let (dir, cfg) = setup(&site);
    let attachment = |n: u32, extra: serde_json::Value| {
        let mut a = serde_json::json!({
            "url": format!("https://cdn.example.net/ep{n}.mp3"),
            "mime_type": "audio/mpeg",
        });
        for (k, v) in extra.as_object().unwrap() {
            if v.is_null() {
                a.as_object_mut().unwrap().remove(k);
            } else {
                a[k] = v.clone();
            }
        }
        a
    };
    let cases = [
        serde_json::json!({"size_in_bytes": 12345.0}),
        serde_json::json!({"size_in_bytes": -1}),
        serde_json::json!({"size_in_bytes": "12345"}),
        serde_json::json!({"duration_in_seconds": "long"}),
        serde_json::json!({"mime_type": null}),
        serde_json::json!({"mime_type": 5}),
        serde_json::json!({"url": null}),
    ];
    let items: Vec<serde_json::Value> = cases
        .iter()
        .enumerate()
        .map(|(i, extra)| {
            let n = i as u32 + 1;
            serde_json::json!({
                "id": format!("ep{n}"),
                "url": format!("{base}/ep{n}/"),
                "title": format!("Episode {n}"),
                "content_html": "<p>x</p>",
                "date_published": format!("2024-03-0{n}T10:00:00Z"),
                "attachments": [attachment(n, extra.clone())],
            })
        })
        .collect();
    let feed = serde_json::json!({
        "version": "https://jsonfeed.org/version/1.1",
        "title": "Show",
        "items": items,
    });
    serve(&site, "application/feed+json", feed.to_string());
    let stderr = run(&cfg);
    assert!(stderr.contains("site: 7 new"), "{stderr}");
    let out = outputs(dir.path());
    let json = |n: u32| out.json[&format!("{base}/ep{n}/")].clone();
    let mp3 = |n: u32| format!("https://cdn.example.net/ep{n}.mp3");
    assert_eq!(
        json(1),
        [serde_json::json!({"url": mp3(1), "mime_type": "audio/mpeg", "size_in_bytes": 12345})]
    );
    for n in [2, 3, 4] {
        assert_eq!(
            json(n),
            [serde_json::json!({"url": mp3(n), "mime_type": "audio/mpeg"})],
            "episode {n}"
        );
    }
    for n in [5, 6] {
        assert_eq!(
            json(n),
            [serde_json::json!({"url": mp3(n), "mime_type": "application/octet-stream"})],
            "episode {n}"
        );
    }
    assert!(json(7).is_empty());
    let feed_url = site.url("/feed/");
    for (item, what) in [
        ("ep2", "size_in_bytes -1"),
        ("ep3", "size_in_bytes \"12345\""),
        ("ep4", "duration_in_seconds \"long\""),
        ("ep6", "mime_type 5"),
        ("ep7", "has no url"),
    ] {
        assert!(
            stderr.lines().any(|l| l.contains(&feed_url)
                && l.contains(&format!("item \"{item}\""))
                && l.contains(what)),
            "a warning about {item}: {stderr}"
        );
    }
    assert!(
        !stderr.contains("\"ep1\""),
        "12345.0 is a whole number: {stderr}"
    );
}

/// An enclosure whose URL is empty, blank or only a fragment names no media file: resolved, it
/// would be the feed's own address (or the `xml:base` folder). It is left out, in RSS, Atom
/// and JSON Feed alike; the item's other enclosures are kept.
#[test]
fn blank_enclosure_urls_are_left_out() {
    let site = Site::start();
    let base = site.base();
    let mp3 = |n: u32| format!("https://cdn.example.net/ep{n}.mp3");
    let rss = format!(
        r##"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Show</title><link>{base}/</link><description>d</description>
<item><title>One</title><link>{base}/ep1/</link><description>x</description>
<enclosure url="" length="1" type="audio/mpeg"/><enclosure url="#" length="2" type="audio/mpeg"/>
<enclosure url="   " length="3" type="audio/mpeg"/><enclosure url="{mp3}" length="4" type="audio/mpeg"/></item>
<item xml:base="{base}/media/"><title>Two</title><link>{base}/ep2/</link><description>x</description>
<enclosure url="" length="1" type="audio/mpeg"/></item>
</channel></rss>"##,
        mp3 = mp3(1)
    );
    let atom = format!(
        r##"<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Show</title><id>urn:show</id>
<updated>2024-03-05T10:00:00Z</updated>
<entry><title>One</title><id>urn:one</id><link href="{base}/ep1/"/>
<updated>2024-03-05T10:00:00Z</updated><content type="html">x</content>
<link rel="enclosure" href="" type="audio/mpeg"/><link rel="enclosure" href="#t" type="audio/mpeg"/>
<link rel="enclosure" href="{mp3}" type="audio/mpeg"/></entry>
<entry xml:base="{base}/media/"><title>Two</title><id>urn:two</id><link href="{base}/ep2/"/>
<updated>2024-03-04T10:00:00Z</updated><content type="html">x</content>
<link rel="enclosure" href="" type="audio/mpeg"/></entry>
</feed>"##,
        mp3 = mp3(1)
    );
    let json = serde_json::json!({
        "version": "https://jsonfeed.org/version/1.1",
        "title": "Show",
        "items": [
            {"id": "1", "url": format!("{base}/ep1/"), "content_html": "x",
             "date_published": "2024-03-05T10:00:00Z",
             "attachments": [{"url": "", "mime_type": "audio/mpeg"},
                             {"url": "#", "mime_type": "audio/mpeg"},
                             {"url": mp3(1), "mime_type": "audio/mpeg"}]},
            {"id": "2", "url": format!("{base}/ep2/"), "content_html": "x",
             "date_published": "2024-03-04T10:00:00Z",
             "attachments": [{"url": " ", "mime_type": "audio/mpeg"}]}
        ]
    })
    .to_string();
    for (content_type, body) in [
        ("application/rss+xml", rss),
        ("application/atom+xml", atom),
        ("application/feed+json", json),
    ] {
        let (dir, cfg) = setup(&site);
        serve(&site, content_type, body);
        let stderr = run(&cfg);
        assert!(stderr.contains("site: 2 new"), "{content_type}: {stderr}");
        let out = outputs(dir.path());
        let urls: Vec<Vec<String>> = [1, 2]
            .iter()
            .map(|n| {
                out.json[&format!("{base}/ep{n}/")]
                    .iter()
                    .map(|a| a["url"].as_str().unwrap().to_owned())
                    .collect()
            })
            .collect();
        assert_eq!(urls, [vec![mp3(1)], vec![]], "{content_type}");
        assert_eq!(out.rss[&format!("{base}/ep2/")], None, "{content_type}");
    }
}

/// Two feeds of one site giving the same posts, one with their enclosures (a podcast feed)
/// and one without (the blog's plain feed): the feed without enclosures never wipes the other's,
/// and nothing takes turns from run to run (no update, no moving date). The podcast feed keeps
/// the say on them: it changes and withdraws them.
#[test]
fn a_feed_without_enclosures_leaves_another_feeds_alone() {
    let site = Site::start();
    let base = site.base();
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        &format!(
            r#"output_dir = "out"
public_url = "http://feeds.test/"
[store]
path = "feedwright.db"
[http]
min_interval_ms = 0
timeout_secs = 3
max_retries = 0
[[source]]
name = "podcast"
url = "{podcast}"
kind = "feed"
[[source]]
name = "plain"
url = "{plain}"
kind = "feed"
[[feed]]
name = "main"
sources = ["podcast", "plain"]
"#,
            podcast = site.url("/podcast.xml"),
            plain = site.url("/plain.xml"),
        ),
    );
    // Episodes 1..=n, each with its file `ep<n><suffix>.mp3` when `with` says so.
    let feed = |n: u32, with: bool, suffix: &str| {
        let items: String = (1..=n)
            .rev()
            .map(|i| {
                let enclosure = if with {
                    format!(
                        r#"<enclosure url="https://cdn.example.net/ep{i}{suffix}.mp3" length="{i}00" type="audio/mpeg"/>"#
                    )
                } else {
                    String::new()
                };
                format!(
                    r#"<item><title>Episode {i}</title><link>{base}/ep{i}/</link><guid>{base}/ep{i}/</guid>
<pubDate>0{i} Mar 2024 10:00:00 +0000</pubDate><description>About {i}.</description>{enclosure}</item>
"#
                )
            })
            .collect();
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Show</title><link>{base}/</link><description>d</description>
{items}</channel></rss>"#
        )
    };
    let put = |path: &str, body: String| {
        site.set(
            path,
            Resp::Bytes {
                content_type: "application/rss+xml".into(),
                body: body.into_bytes(),
                headers: vec![],
            },
        );
    };
    let files = |dir: &Path| -> BTreeMap<String, Vec<String>> {
        outputs(dir)
            .json
            .into_iter()
            .map(|(url, a)| {
                let urls = a.iter().map(|a| a["url"].as_str().unwrap().to_owned());
                (url, urls.collect())
            })
            .collect()
    };
    let expected = |n: u32, suffix: &str| -> BTreeMap<String, Vec<String>> {
        (1..=n)
            .map(|i| {
                (
                    format!("{base}/ep{i}/"),
                    vec![format!("https://cdn.example.net/ep{i}{suffix}.mp3")],
                )
            })
            .collect()
    };
    put("/podcast.xml", feed(3, true, ""));
    put("/plain.xml", feed(3, false, ""));
    let stderr = run(&cfg);
    assert_eq!(files(dir.path()), expected(3, ""), "{stderr}");
    let published = std::fs::read(dir.path().join("out/main/feed.json")).unwrap();
    for _ in 0..2 {
        let stderr = run(&cfg);
        assert!(
            stderr.contains("podcast: 0 new, 0 updated, 3 unchanged")
                && stderr.contains("plain: 0 new, 0 updated, 3 unchanged"),
            "{stderr}"
        );
        assert_eq!(
            std::fs::read(dir.path().join("out/main/feed.json")).unwrap(),
            published,
            "nothing changed"
        );
    }
    // A new episode in both feeds: the stored ones keep their files, the new one has its own.
    put("/podcast.xml", feed(4, true, ""));
    put("/plain.xml", feed(4, false, ""));
    let stderr = run(&cfg);
    assert_eq!(files(dir.path()), expected(4, ""), "{stderr}");
    // The podcast feed replaces its files, then withdraws them: its say.
    put("/podcast.xml", feed(4, true, "-v2"));
    let stderr = run(&cfg);
    assert!(stderr.contains("podcast: 0 new, 4 updated"), "{stderr}");
    assert_eq!(files(dir.path()), expected(4, "-v2"), "{stderr}");
    put("/podcast.xml", feed(4, false, ""));
    let stderr = run(&cfg);
    assert!(stderr.contains("podcast: 0 new, 4 updated"), "{stderr}");
    assert!(files(dir.path()).values().all(Vec::is_empty), "{stderr}");
}

/// An `<item>` after `</channel>` is no item feed-rs reads: it neither keeps the channel's
/// items from their enclosures nor takes any from the entries (stored ones included), and the
/// run says nothing of enclosures left out.
#[test]
fn a_stray_item_after_the_channel_costs_no_enclosures() {
    let site = Site::start();
    let base = site.base();
    let (dir, cfg) = setup(&site);
    let feed = |stray: &str| {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Show</title><link>{base}/</link><description>d</description>
<item><title>One</title><link>{base}/ep1/</link><pubDate>Tue, 05 Mar 2024 10:00:00 +0000</pubDate>
<enclosure url="https://cdn.example.net/ep1.mp3" length="100" type="audio/mpeg"/></item>
<item><title>Two</title><link>{base}/ep2/</link><pubDate>Mon, 04 Mar 2024 10:00:00 +0000</pubDate>
<enclosure url="https://cdn.example.net/ep2.mp3" length="200" type="audio/mpeg"/></item>
</channel>
{stray}
</rss>"#
        )
    };
    let files = |dir: &Path| -> Vec<Option<String>> {
        let out = outputs(dir);
        [1, 2]
            .iter()
            .map(|n| out.rss[&format!("{base}/ep{n}/")].clone().map(|e| e.0))
            .collect()
    };
    let expected = vec![
        Some("https://cdn.example.net/ep1.mp3".to_owned()),
        Some("https://cdn.example.net/ep2.mp3".to_owned()),
    ];
    serve(&site, "application/rss+xml", feed(""));
    run(&cfg);
    assert_eq!(files(dir.path()), expected);
    let stray = format!(
        r#"<item><title>Stray</title><link>{base}/ep3/</link>
<enclosure url="https://cdn.example.net/ep3.mp3" length="300" type="audio/mpeg"/></item>"#
    );
    serve(&site, "application/rss+xml", feed(&stray));
    let stderr = run(&cfg);
    assert!(
        stderr.contains("site: 0 new, 0 updated, 2 unchanged"),
        "{stderr}"
    );
    assert!(!stderr.contains("enclosures"), "{stderr}");
    assert_eq!(files(dir.path()), expected);
    // A new store reads them from the same document too.
    std::fs::remove_file(dir.path().join("feedwright.db")).unwrap();
    std::fs::remove_dir_all(dir.path().join("out")).unwrap();
    let stderr = run(&cfg);
    assert!(stderr.contains("site: 2 new"), "{stderr}");
    assert_eq!(files(dir.path()), expected);
}

/// A UTF-16 feed (with a byte order mark, little- or big-endian, or without one but with a
/// declaration written in UTF-16) keeps its enclosures, its non-ASCII URLs included; a
/// big-endian one is read at all (feed-rs's own reading of it panics).
#[test]
fn utf16_feeds_keep_their_enclosures() {
    let site = Site::start();
    let base = site.base();
    let doc = format!(
        r#"<?xml version="1.0" encoding="UTF-16"?>
<rss version="2.0"><channel><title>Émission</title><link>{base}/</link><description>d</description>
<item><title>Épisode 1</title><link>{base}/ep1/</link><pubDate>Tue, 05 Mar 2024 10:00:00 +0000</pubDate>
<description>é</description><enclosure url="https://cdn.example.net/épisode-1.mp3" length="100" type="audio/mpeg"/></item>
<item><title>Épisode 2</title><link>{base}/ep2/</link><pubDate>Mon, 04 Mar 2024 10:00:00 +0000</pubDate>
<description>x</description><enclosure url="https://cdn.example.net/ep2.mp3" length="200" type="audio/mpeg"/></item>
</channel></rss>"#
    );
    let le: Vec<u8> = doc.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let be: Vec<u8> = doc.encode_utf16().flat_map(u16::to_be_bytes).collect();
    for (name, body) in [
        ("UTF-16LE with BOM", [vec![0xFF, 0xFE], le.clone()].concat()),
        ("UTF-16BE with BOM", [vec![0xFE, 0xFF], be.clone()].concat()),
        ("UTF-16LE declared", le),
        ("UTF-16BE declared", be),
    ] {
        let (dir, cfg) = setup(&site);
        site.set(
            "/feed/",
            Resp::Bytes {
                content_type: "application/rss+xml".into(),
                body,
                headers: vec![],
            },
        );
        let stderr = run(&cfg);
        assert!(stderr.contains("site: 2 new"), "{name}: {stderr}");
        let out = outputs(dir.path());
        assert_eq!(
            out.rss[&format!("{base}/ep1/")],
            Some((
                "https://cdn.example.net/%C3%A9pisode-1.mp3".into(),
                some("audio/mpeg"),
                Some(100)
            )),
            "{name}"
        );
        assert_eq!(
            out.rss[&format!("{base}/ep2/")],
            Some((
                "https://cdn.example.net/ep2.mp3".into(),
                some("audio/mpeg"),
                Some(200)
            )),
            "{name}"
        );
        let atom = std::fs::read_to_string(dir.path().join("out/main/atom.xml")).unwrap();
        assert!(atom.contains("Épisode 1"), "{name}: {atom}");
    }
}

/// `full_text = true`: an episode's page is read once, when it is first stored, with its
/// item's enclosures; later runs take the item's enclosures still (a new file, a withdrawn
/// one), each change an update, without reading the page again.
#[test]
fn full_text_items_keep_giving_their_enclosures() {
    let site = Site::start();
    let base = site.base();
    let post = common::Post::new(21, "episode-1", "Episode 1", "2024-03-05T10:00:00+00:00");
    site.set(&post.path(), Resp::Html(common::classic_post(&base, &post)));
    let link = format!("{base}{}", post.path());
    let feed = |enclosure: &str| {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Show</title><link>{base}/</link><description>d</description>
<item><title>Episode 1</title><link>{link}</link><guid>{base}/?p=21</guid>
<pubDate>Tue, 05 Mar 2024 10:00:00 +0000</pubDate><description>Teaser.</description>
{enclosure}</item></channel></rss>"#
        )
    };
    let enclosure = |name: &str| {
        format!(
            r#"<enclosure url="https://cdn.example.net/{name}.mp3" length="10" type="audio/mpeg"/>"#
        )
    };
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        &site_config(&site.url("/feed/"), "", "kind = \"feed\"\nfull_text = true"),
    );
    let files = |dir: &Path| -> Vec<String> {
        outputs(dir).json[&link]
            .iter()
            .map(|a| a["url"].as_str().unwrap().to_owned())
            .collect()
    };
    serve(&site, "application/rss+xml", feed(&enclosure("ep1")));
    let stderr = run(&cfg);
    assert!(stderr.contains("site: 1 new"), "{stderr}");
    assert_eq!(files(dir.path()), ["https://cdn.example.net/ep1.mp3"]);
    assert!(
        std::fs::read_to_string(dir.path().join("out/main/atom.xml"))
            .unwrap()
            .contains("Body of Episode 1"),
        "the page's text"
    );
    let pages = |site: &Site| {
        site.requests()
            .iter()
            .filter(|p| **p == post.path())
            .count()
    };
    assert_eq!(pages(&site), 1);
    // Unchanged: nothing to do.
    let stderr = run(&cfg);
    assert!(stderr.contains("site: 0 new, 0 updated"), "{stderr}");
    // A new file.
    serve(&site, "application/rss+xml", feed(&enclosure("ep1-fixed")));
    let stderr = run(&cfg);
    assert!(stderr.contains("site: 0 new, 1 updated"), "{stderr}");
    assert_eq!(files(dir.path()), ["https://cdn.example.net/ep1-fixed.mp3"]);
    // Withdrawn.
    serve(&site, "application/rss+xml", feed(""));
    let stderr = run(&cfg);
    assert!(stderr.contains("site: 0 new, 1 updated"), "{stderr}");
    assert!(files(dir.path()).is_empty());
    let stderr = run(&cfg);
    assert!(stderr.contains("site: 0 new, 0 updated"), "{stderr}");
    assert_eq!(pages(&site), 1, "the page is read once");
    assert!(
        std::fs::read_to_string(dir.path().join("out/main/atom.xml"))
            .unwrap()
            .contains("Body of Episode 1"),
        "the page's text stays"
    );
}

/// `full_text = true`, an episode whose page fails: the item stands in for it, and while the
/// page keeps failing the item's enclosures still reach the entry.
#[test]
fn a_full_text_stand_in_follows_its_items_enclosures() {
    let site = Site::start();
    let base = site.base();
    let post = common::Post::new(22, "episode-2", "Episode 2", "2024-03-05T10:00:00+00:00");
    site.set(&post.path(), Resp::Status(500));
    let link = format!("{base}{}", post.path());
    let feed = |name: &str| {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Show</title><link>{base}/</link><description>d</description>
<item><title>Episode 2</title><link>{link}</link><guid>{base}/?p=22</guid>
<pubDate>Tue, 05 Mar 2024 10:00:00 +0000</pubDate><description>Teaser.</description>
<enclosure url="https://cdn.example.net/{name}.mp3" length="10" type="audio/mpeg"/></item>
</channel></rss>"#
        )
    };
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        &site_config(&site.url("/feed/"), "", "kind = \"feed\"\nfull_text = true"),
    );
    let files = |dir: &Path| -> Vec<String> {
        outputs(dir).json[&link]
            .iter()
            .map(|a| a["url"].as_str().unwrap().to_owned())
            .collect()
    };
    serve(&site, "application/rss+xml", feed("ep2"));
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("site: 1 new"), "{stderr}");
    assert_eq!(files(dir.path()), ["https://cdn.example.net/ep2.mp3"]);
    serve(&site, "application/rss+xml", feed("ep2-fixed"));
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 1, "the page still fails: {stderr}");
    assert!(stderr.contains("site: 0 new, 1 updated"), "{stderr}");
    assert_eq!(files(dir.path()), ["https://cdn.example.net/ep2-fixed.mp3"]);
}

/// What is no real size, playing time or media type is unknown: a length or duration past
/// 2^53 - 1 (such as 18446744073709551615, or 1e30), a wildcard type (`*/*`, `audio/*`). An
/// Atom link whose `rel` is the registry URI of `enclosure` is an enclosure.
#[test]
fn no_real_size_or_type_is_unknown() {
    let site = Site::start();
    let base = site.base();
    let atom = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Show</title><id>urn:show</id>
<updated>2024-03-05T10:00:00Z</updated>
<entry><title>One</title><id>urn:one</id><link href="{base}/ep1/"/>
<updated>2024-03-05T10:00:00Z</updated><content type="html">x</content>
<link rel="http://www.iana.org/assignments/relation/enclosure" href="https://cdn.example.net/ep1.mp3"
 type="*/*" length="18446744073709551615"/>
<link rel="enclosure" href="https://cdn.example.net/ep1.ogg" type="audio/*" length="9007199254740991"/>
</entry></feed>"#
    );
    let json = serde_json::json!({
        "version": "https://jsonfeed.org/version/1.1",
        "title": "Show",
        "items": [{"id": "1", "url": format!("{base}/ep1/"), "content_html": "x",
            "date_published": "2024-03-05T10:00:00Z",
            "attachments": [
                {"url": "https://cdn.example.net/ep1.mp3", "mime_type": "*/*",
                 "size_in_bytes": 1e30, "duration_in_seconds": 18446744073709551615_u64},
                {"url": "https://cdn.example.net/ep1.ogg", "mime_type": "audio/*",
                 "size_in_bytes": 9007199254740991_u64}]}]
    })
    .to_string();
    for (content_type, body) in [
        ("application/atom+xml", atom),
        ("application/feed+json", json),
    ] {
        let (dir, cfg) = setup(&site);
        serve(&site, content_type, body);
        run(&cfg);
        let out = outputs(dir.path());
        assert_eq!(
            out.json[&format!("{base}/ep1/")],
            [
                serde_json::json!({"url": "https://cdn.example.net/ep1.mp3",
                    "mime_type": "application/octet-stream"}),
                serde_json::json!({"url": "https://cdn.example.net/ep1.ogg",
                    "mime_type": "application/octet-stream", "size_in_bytes": 9007199254740991_u64}),
            ],
            "{content_type}"
        );
        assert_eq!(
            out.rss[&format!("{base}/ep1/")],
            Some((
                "https://cdn.example.net/ep1.mp3".into(),
                some("application/octet-stream"),
                Some(0)
            )),
            "{content_type}"
        );
    }
}

/// A store from before the source giving an entry's enclosures was recorded (schema v20):
/// upgrading records it for the entries whose text is a feed item's, so that feed still
/// withdraws them.
#[test]
fn an_upgraded_store_knows_which_feed_gave_the_enclosures() {
    let site = Site::start();
    let base = site.base();
    let (dir, cfg) = setup(&site);
    let ep1 = format!("{base}/ep1/");
    let file =
        r#"<enclosure url="https://cdn.example.net/ep1.mp3" length="10" type="audio/mpeg"/>"#;
    serve(
        &site,
        "application/rss+xml",
        episode(&base, "Episode 1", file),
    );
    run(&cfg);
    let conn = rusqlite::Connection::open(dir.path().join("feedwright.db")).expect("sqlite");
    conn.execute_batch(
        "ALTER TABLE entries DROP COLUMN enclosures_source;
         ALTER TABLE source_state DROP COLUMN kind;
         ALTER TABLE source_state DROP COLUMN site_description;
         DELETE FROM refinery_schema_history WHERE version >= 22;",
    )
    .expect("downgrade");
    drop(conn);
    serve(
        &site,
        "application/rss+xml",
        episode(&base, "Episode 1", ""),
    );
    let stderr = run(&cfg);
    assert!(
        stderr.contains("the store was upgraded from schema v21 to v25"),
        "{stderr}"
    );
    assert!(stderr.contains("site: 0 new, 1 updated"), "{stderr}");
    assert_eq!(outputs(dir.path()).rss[&ep1], None);
}
