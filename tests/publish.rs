//! Feed publishing: every document parses back (feed-rs, the format crates, serde_json), carries
//! the elements the checklists require, is byte-identical for identical input, and is written
//! atomically and only when it changed.

use std::collections::HashSet;
use std::fs;
use std::path::Path;
use std::time::{Duration, SystemTime};

use ::rss::validation::Validate;
use chrono::{DateTime, TimeZone, Utc};
use feedwright::model::{DateSource, Entry, EntryId, Link};
use feedwright::publish::{
    self, FeedInfo, atom, feed_updated, jsonfeed, order_entries, publish_feed, rss, write_atomic,
    write_atomic_all,
};
use url::Url;

const DECL: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?>";

fn info() -> FeedInfo {
    FeedInfo {
        name: "negotiation".into(),
        title: "Négociation & <Conflict> Daily".into(),
        description: "Posts about negotiation — \"daily\"".into(),
        home_page_url: "https://www.example.com/category/daily/".into(),
        public_base: Url::parse("https://feeds.example.org/feeds/negotiation/").expect("url"),
        hub: None,
        prev_archive: None,
        language: None,
    }
}

fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s)
        .single()
        .expect("valid date")
}

fn entry(slug: &str, published: DateTime<Utc>, updated: DateTime<Utc>) -> Entry {
    let url = format!("https://www.example.com/daily/{slug}/");
    Entry {
        id: EntryId(format!(
            "https://www.example.com/?p={}",
            slug.len() * 1000 + 7
        )),
        dedup_key: format!("example.com/daily/{slug}"),
        source: "example".into(),
        url,
        title: format!("Post {slug}"),
        published,
        published_source: DateSource::Jsonld,
        updated,
        updated_source: DateSource::Jsonld,
        authors: vec!["Katie Shonk".into()],
        categories: vec!["Daily".into()],
        content_html: format!("<p>Body of {slug}.</p>"),
        summary: format!("Summary of {slug}."),
        related: Vec::new(),
        enclosures: Vec::new(),
    }
}

/// Four entries with the awkward cases: markup characters and `]]>` in text, non-ASCII, no
/// author, several categories and related links, two entries published at the same second.
fn sample() -> Vec<Entry> {
    let mut a = entry(
        "bargaining-tables",
        at(2024, 2, 29, 14, 30, 5),
        at(2024, 3, 2, 9, 0, 0),
    );
    a.title = "Tips & Tricks: <BATNA> ]]> explained".into();
    a.content_html =
        "<p>Use <b>x &lt; y</b> &amp; then ]]&gt; end; raw ]]> too.</p><p>Über café — 交渉</p>"
            .into();
    a.summary = "x < y & z ]]> done".into();
    a.authors = vec!["Jürgen Müller".into(), "Ana O'Neil".into()];
    a.categories = vec![
        "Negotiation Skills".into(),
        "Business & Trade".into(),
        "Dispute Resolution".into(),
    ];
    a.related = vec![
        Link {
            url: "https://www.example.com/daily/anchoring/".into(),
            title: "Anchoring & \"first offers\"".into(),
        },
        Link {
            url: "https://www.example.com/daily/zopa/".into(),
            title: "The ZOPA".into(),
        },
    ];

    let mut b = entry(
        "no-author",
        at(2024, 2, 29, 14, 30, 5),
        at(2024, 2, 29, 14, 30, 5),
    );
    b.authors = Vec::new();
    b.categories = Vec::new();
    // The id is the URL itself: an RSS permalink.
    b.id = EntryId(b.url.clone());

    let c = entry(
        "older-post",
        at(2023, 12, 31, 23, 59, 59),
        at(2024, 1, 1, 0, 0, 0),
    );
    let mut d = entry("oldest", at(2023, 6, 5, 8, 0, 0), at(2023, 6, 5, 8, 0, 0));
    d.title = "日本語のタイトル".into();
    let mut v = vec![d, b, c, a];
    order_entries(&mut v);
    v
}

fn parse_feed(text: &str) -> feed_rs::model::Feed {
    feed_rs::parser::parse(text.as_bytes()).expect("feed-rs parses our output")
}

fn text_of(t: &Option<feed_rs::model::Text>) -> &str {
    t.as_ref().map(|t| t.content.as_str()).unwrap_or("")
}

/// Walk the whole document with quick-xml: it must be well-formed from start to end.
fn assert_well_formed(xml: &str) {
    let mut reader = quick_xml::Reader::from_str(xml);
    reader.config_mut().check_end_names = true;
    let mut depth = 0i32;
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Start(_)) => depth += 1,
            Ok(quick_xml::events::Event::End(_)) => depth -= 1,
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("ill-formed XML at {}: {e}", reader.buffer_position()),
        }
    }
    assert_eq!(depth, 0, "unbalanced elements");
}

#[test]
fn order_is_newest_first_with_deterministic_tie_break() {
    let v = sample();
    // a and b share `published`: a was updated later, so it comes first.
    let slugs: Vec<&str> = v.iter().map(|e| e.title.as_str()).collect();
    assert_eq!(
        slugs,
        [
            "Tips & Tricks: <BATNA> ]]> explained",
            "Post no-author",
            "Post older-post",
            "日本語のタイトル"
        ]
    );
    for w in v.windows(2) {
        assert!(w[0].published >= w[1].published);
    }
    // Same published and updated: the id decides, whatever the input order.
    let mut x = entry("x", at(2024, 1, 1, 0, 0, 0), at(2024, 1, 1, 0, 0, 0));
    x.id = EntryId("https://www.example.com/?p=2".into());
    let mut y = x.clone();
    y.id = EntryId("https://www.example.com/?p=1".into());
    let mut one = vec![x.clone(), y.clone()];
    let mut two = vec![y, x];
    order_entries(&mut one);
    order_entries(&mut two);
    assert_eq!(one, two);
    assert_eq!(one[0].id.0, "https://www.example.com/?p=1");
}

#[test]
fn rendering_is_byte_identical_and_independent_of_input_order() {
    let info = info();
    let ordered = sample();
    let mut reversed: Vec<Entry> = ordered.iter().rev().cloned().collect();
    order_entries(&mut reversed);
    for render in [atom::render, rss::render, jsonfeed::render] {
        let first = render(&info, &ordered);
        assert_eq!(first, render(&info, &ordered));
        assert_eq!(first, render(&info, &reversed));
    }
}

#[test]
fn atom_parses_back_with_feed_rs() {
    let info = info();
    let entries = sample();
    let xml = atom::render(&info, &entries);
    assert!(xml.starts_with(DECL), "{}", &xml[..80]);
    assert_well_formed(&xml);
    let feed = parse_feed(&xml);
    assert_eq!(feed.feed_type, feed_rs::model::FeedType::Atom);
    assert_eq!(
        feed.id,
        "https://feeds.example.org/feeds/negotiation/atom.xml"
    );
    assert_eq!(text_of(&feed.title), info.title);
    assert_eq!(feed.updated, Some(at(2024, 3, 2, 9, 0, 0)));
    assert_eq!(feed.entries.len(), entries.len());
    for (got, want) in feed.entries.iter().zip(&entries) {
        assert_eq!(got.id, want.id.0);
        assert_eq!(text_of(&got.title), want.title);
        assert_eq!(got.published, Some(want.published));
        assert_eq!(got.updated, Some(want.updated));
        let alternate = got
            .links
            .iter()
            .find(|l| l.rel.as_deref() == Some("alternate"))
            .expect("alternate link");
        assert_eq!(alternate.href, want.url);
        let names: Vec<&str> = got
            .authors
            .iter()
            .filter_map(|p| p.name.as_deref())
            .collect();
        assert_eq!(names, want.authors);
        let terms: Vec<&str> = got.categories.iter().map(|c| c.term.as_str()).collect();
        assert_eq!(terms, want.categories);
        let body = got.content.as_ref().and_then(|c| c.body.as_deref());
        assert_eq!(body, Some(want.content_html.as_str()));
        assert_eq!(text_of(&got.summary), want.summary);
        let related: Vec<(&str, Option<&str>)> = got
            .links
            .iter()
            .filter(|l| l.rel.as_deref() == Some("related"))
            .map(|l| (l.href.as_str(), l.title.as_deref()))
            .collect();
        let want_related: Vec<(&str, Option<&str>)> = want
            .related
            .iter()
            .map(|l| (l.url.as_str(), Some(l.title.as_str())))
            .collect();
        assert_eq!(related, want_related);
    }
}

#[test]
fn atom_has_the_required_elements() {
    let info = info();
    let entries = sample();
    let xml = atom::render(&info, &entries);
    let feed = atom_syndication::Feed::read_from(xml.as_bytes()).expect("valid Atom");
    let self_url = "https://feeds.example.org/feeds/negotiation/atom.xml";
    assert_eq!(feed.id(), self_url);
    assert_eq!(feed.title().as_str(), info.title);
    assert_eq!(
        feed.subtitle().map(|t| t.as_str()),
        Some(info.description.as_str())
    );
    assert_eq!(feed.updated().to_rfc3339(), "2024-03-02T09:00:00+00:00");
    let authors: Vec<&str> = feed.authors().iter().map(|p| p.name()).collect();
    assert_eq!(authors, [info.title.as_str()]);
    let self_link = feed
        .links()
        .iter()
        .find(|l| l.rel() == "self")
        .expect("rel=self");
    assert_eq!(self_link.href(), self_url);
    assert_eq!(self_link.mime_type(), Some("application/atom+xml"));
    let alternate = feed
        .links()
        .iter()
        .find(|l| l.rel() == "alternate")
        .expect("rel=alternate");
    assert_eq!(alternate.href(), info.home_page_url);
    assert_eq!(
        feed.generator().map(|g| g.value()),
        Some(publish::GENERATOR)
    );
    for (got, want) in feed.entries().iter().zip(&entries) {
        assert!(!got.id().is_empty());
        assert!(got.published().is_some(), "published on {}", got.id());
        let content = got.content().expect("content");
        assert_eq!(content.content_type(), Some("html"));
        assert!(got.summary().is_some());
        assert_eq!(got.categories().len(), want.categories.len());
        for c in got.categories() {
            assert!(!c.term().is_empty());
        }
    }
    // The entry without an author relies on the feed-level author.
    let no_author = &feed.entries()[1];
    assert!(no_author.authors().is_empty());
    // Dates: RFC 3339, whole seconds, `+00:00` everywhere.
    for line in xml
        .lines()
        .filter(|l| l.contains("<updated>") || l.contains("<published>"))
    {
        assert!(line.contains("+00:00<"), "{line}");
        assert!(!line.contains('.'), "fractional seconds in {line}");
    }
    // The awkward characters are escaped, not emitted raw.
    assert!(xml.contains("Tips &amp; Tricks: &lt;BATNA&gt; ]]&gt; explained"));
    assert!(xml.contains("<content type=\"html\">"));
}

#[test]
fn atom_dates_are_whole_seconds_in_utc() {
    let mut e = entry("frac", at(2024, 5, 1, 10, 0, 0), at(2024, 5, 1, 10, 0, 0));
    e.published += chrono::Duration::milliseconds(750);
    e.updated += chrono::Duration::milliseconds(250);
    let xml = atom::render(&info(), &[e]);
    assert!(
        xml.contains("<published>2024-05-01T10:00:00+00:00</published>"),
        "{xml}"
    );
    assert!(
        xml.contains("<updated>2024-05-01T10:00:00+00:00</updated>"),
        "{xml}"
    );
    let json = jsonfeed::render(
        &info(),
        &[entry(
            "x",
            at(2024, 5, 1, 10, 0, 0),
            at(2024, 5, 1, 10, 0, 0),
        )],
    );
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(v["items"][0]["date_published"], "2024-05-01T10:00:00+00:00");
}

#[test]
fn rss_parses_back_and_validates() {
    let info = info();
    let entries = sample();
    let xml = rss::render(&info, &entries);
    assert!(xml.starts_with(DECL), "{}", &xml[..80]);
    assert_eq!(xml.matches("<?xml ").count(), 1, "one declaration");
    assert!(xml.contains("<?xml-stylesheet type=\"text/xsl\" href=\"../feed.xsl\"?>"));
    assert_well_formed(&xml);

    let channel = ::rss::Channel::read_from(xml.as_bytes()).expect("rss reads our output");
    channel.validate().expect("valid RSS 2.0");
    assert_eq!(channel.title(), info.title);
    assert_eq!(channel.link(), info.home_page_url);
    assert_eq!(channel.description(), info.description);
    assert_eq!(channel.generator(), Some(publish::GENERATOR));
    // 2024-02-29 was a Thursday; 2024-03-02 a Saturday.
    assert_eq!(channel.pub_date(), Some("Thu, 29 Feb 2024 14:30:05 +0000"));
    assert_eq!(
        channel.last_build_date(),
        Some("Sat, 2 Mar 2024 09:00:00 +0000")
    );
    let self_link = channel
        .atom_ext()
        .and_then(|a| a.links().iter().find(|l| l.rel() == "self"))
        .expect("atom:link rel=self");
    assert_eq!(
        self_link.href(),
        "https://feeds.example.org/feeds/negotiation/rss.xml"
    );
    for (prefix, uri) in [
        ("atom", "http://www.w3.org/2005/Atom"),
        ("content", "http://purl.org/rss/1.0/modules/content/"),
        ("dc", "http://purl.org/dc/elements/1.1/"),
    ] {
        assert!(
            xml.contains(&format!("xmlns:{prefix}=\"{uri}\"")),
            "namespace {prefix} declared"
        );
    }

    let items = channel.items();
    assert_eq!(items.len(), entries.len());
    for (item, want) in items.iter().zip(&entries) {
        assert_eq!(item.title(), Some(want.title.as_str()));
        assert_eq!(item.link(), Some(want.url.as_str()));
        let guid = item.guid().expect("guid");
        assert_eq!(guid.value(), want.id.0);
        assert_eq!(guid.is_permalink(), want.id.0 == want.url);
        // RSS readers render description as HTML: the plain-text summary goes in escaped.
        let escaped = html_escape::encode_text(&want.summary);
        assert_eq!(item.description(), Some(escaped.as_ref()));
        assert_eq!(item.content(), Some(want.content_html.as_str()));
        assert_eq!(item.author(), None, "names never go into <author>");
        let creators = item
            .dublin_core_ext()
            .map(|dc| dc.creators().to_vec())
            .unwrap_or_default();
        assert_eq!(creators, want.authors);
        let cats: Vec<&str> = item.categories().iter().map(|c| c.name()).collect();
        assert_eq!(cats, want.categories);
        let pub_date = item.pub_date().expect("pubDate");
        let parsed = DateTime::parse_from_rfc2822(pub_date).expect("RFC 822 date");
        assert_eq!(parsed, want.published);
        assert!(pub_date.ends_with(" +0000"), "{pub_date}");
        assert!(
            pub_date.starts_with(&want.published.format("%a, ").to_string()),
            "weekday of {pub_date}"
        );
    }
    assert!(
        items[0]
            .pub_date()
            .is_some_and(|d| d.starts_with("Thu, 29 Feb 2024"))
    );
    assert!(xml.contains("isPermaLink=\"false\""));
    assert!(xml.contains("<dc:creator>Jürgen Müller</dc:creator>"));
    assert!(!xml.contains("<author>"));
    assert!(xml.contains("<content:encoded>"));

    // feed-rs sees the same thing.
    let feed = parse_feed(&xml);
    for (got, want) in feed.entries.iter().zip(&entries) {
        assert_eq!(got.id, want.id.0);
        assert_eq!(text_of(&got.title), want.title);
        assert_eq!(got.published, Some(want.published));
        assert_eq!(
            got.content.as_ref().and_then(|c| c.body.as_deref()),
            Some(want.content_html.as_str())
        );
        let names: Vec<&str> = got
            .authors
            .iter()
            .filter_map(|p| p.name.as_deref())
            .collect();
        assert_eq!(names, want.authors);
        let terms: Vec<&str> = got.categories.iter().map(|c| c.term.as_str()).collect();
        assert_eq!(terms, want.categories);
        assert!(got.links.iter().any(|l| l.href == want.url));
    }
}

#[test]
fn rss_description_falls_back_to_the_title() {
    let mut info = info();
    info.description = String::new();
    let xml = rss::render(&info, &sample());
    let channel = ::rss::Channel::read_from(xml.as_bytes()).expect("rss");
    assert_eq!(channel.description(), info.title);
}

#[test]
fn json_feed_has_the_required_keys() {
    let info = info();
    let entries = sample();
    let text = jsonfeed::render(&info, &entries);
    let v: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    assert_eq!(v["version"], "https://jsonfeed.org/version/1.1");
    assert_eq!(v["title"], info.title.as_str());
    assert_eq!(v["home_page_url"], info.home_page_url.as_str());
    assert_eq!(
        v["feed_url"],
        "https://feeds.example.org/feeds/negotiation/feed.json"
    );
    assert_eq!(v["description"], info.description.as_str());
    assert!(v.get("language").is_none());
    assert_eq!(v["authors"][0]["name"], info.title.as_str());
    let items = v["items"].as_array().expect("items");
    assert_eq!(items.len(), entries.len());
    for (item, want) in items.iter().zip(&entries) {
        assert_eq!(item["id"], want.id.0.as_str());
        assert_eq!(item["url"], want.url.as_str());
        assert_eq!(item["title"], want.title.as_str());
        assert_eq!(item["content_html"], want.content_html.as_str());
        assert_eq!(item["summary"], want.summary.as_str());
        let published = item["date_published"].as_str().expect("date_published");
        let modified = item["date_modified"].as_str().expect("date_modified");
        assert_eq!(
            DateTime::parse_from_rfc3339(published).expect("rfc3339"),
            want.published
        );
        assert_eq!(
            DateTime::parse_from_rfc3339(modified).expect("rfc3339"),
            want.updated
        );
        let authors: Vec<&str> = item["authors"]
            .as_array()
            .expect("authors")
            .iter()
            .filter_map(|a| a["name"].as_str())
            .collect();
        if want.authors.is_empty() {
            assert_eq!(authors, [info.title.as_str()]);
        } else {
            assert_eq!(authors, want.authors);
        }
        let tags: Vec<&str> = item["tags"]
            .as_array()
            .expect("tags")
            .iter()
            .filter_map(|t| t.as_str())
            .collect();
        assert_eq!(tags, want.categories);
        match item.get("_feedwright") {
            None => assert!(want.related.is_empty()),
            Some(ext) => {
                let related: Vec<(&str, &str)> = ext["related"]
                    .as_array()
                    .expect("related")
                    .iter()
                    .map(|r| {
                        (
                            r["url"].as_str().unwrap_or(""),
                            r["title"].as_str().unwrap_or(""),
                        )
                    })
                    .collect();
                let want_related: Vec<(&str, &str)> = want
                    .related
                    .iter()
                    .map(|l| (l.url.as_str(), l.title.as_str()))
                    .collect();
                assert_eq!(related, want_related);
            }
        }
    }
    // Key order is the documented one, so output is stable.
    let keys: Vec<&str> = v
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert!(keys.contains(&"items"));
    let version_at = text.find("\"version\"").expect("version key");
    let items_at = text.find("\"items\"").expect("items key");
    assert!(version_at < items_at);

    let feed = parse_feed(&text);
    assert_eq!(feed.feed_type, feed_rs::model::FeedType::JSON);
    assert_eq!(feed.entries.len(), entries.len());
    assert_eq!(feed.entries[0].id, entries[0].id.0);
    assert_eq!(text_of(&feed.entries[0].title), entries[0].title);
}

#[test]
fn feed_level_dates_come_from_the_entries_never_the_clock() {
    let info = info();
    let now = Utc::now();
    let entries = sample();
    let newest_update = entries.iter().map(|e| e.updated).max().expect("entries");
    assert_eq!(feed_updated(&entries), newest_update);
    // The sample entries are all from 2023-2024: no rendering may mention today.
    let today_3339 = now.format("%Y-%m-%d").to_string();
    let today_822 = now.format("%-d %b %Y").to_string();
    for doc in [
        atom::render(&info, &entries),
        rss::render(&info, &entries),
        jsonfeed::render(&info, &entries),
    ] {
        assert!(!doc.contains(&today_3339), "today's date in {doc}");
        assert!(!doc.contains(&today_822), "today's date in {doc}");
    }

    // Without entries: the Unix epoch in Atom, no channel dates in RSS.
    let empty: Vec<Entry> = Vec::new();
    assert_eq!(feed_updated(&empty), DateTime::<Utc>::UNIX_EPOCH);
    let atom_xml = atom::render(&info, &empty);
    let feed = atom_syndication::Feed::read_from(atom_xml.as_bytes()).expect("atom");
    assert_eq!(feed.updated().timestamp(), 0);
    assert!(feed.entries().is_empty());
    let rss_xml = rss::render(&info, &empty);
    let channel = ::rss::Channel::read_from(rss_xml.as_bytes()).expect("rss");
    channel.validate().expect("valid RSS 2.0");
    assert_eq!(channel.pub_date(), None);
    assert_eq!(channel.last_build_date(), None);
    // The namespaces are declared even with nothing to use them.
    assert!(rss_xml.contains("xmlns:dc="));
    assert!(rss_xml.contains("xmlns:content="));
    let json = jsonfeed::render(&info, &empty);
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(v["items"].as_array().map(Vec::len), Some(0));
    for doc in [&atom_xml, &rss_xml, &json] {
        assert!(!doc.contains(&today_3339), "today's date in {doc}");
        assert!(!doc.contains(&today_822), "today's date in {doc}");
    }
    assert_eq!(atom_xml, atom::render(&info, &empty));
    assert_eq!(rss_xml, rss::render(&info, &empty));
}

/// Hidden temp files (`.<name>.*.tmp`) left in `dir`.
fn temp_files(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .expect("read dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect()
}

#[test]
fn write_atomic_skips_unchanged_content() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = tmp.path().join("nested").join("atom.xml");
    assert!(write_atomic(&path, b"first").expect("create"));
    assert_eq!(fs::read(&path).expect("read"), b"first");

    // Backdate the file so an unwanted rewrite would show in its mtime.
    let old = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
    fs::File::options()
        .write(true)
        .open(&path)
        .and_then(|f| f.set_modified(old))
        .expect("set mtime");
    assert!(!write_atomic(&path, b"first").expect("unchanged"));
    assert_eq!(
        fs::metadata(&path)
            .and_then(|m| m.modified())
            .expect("mtime"),
        old
    );

    // Same length, different bytes: rewritten.
    assert!(write_atomic(&path, b"fir5t").expect("changed"));
    assert_eq!(fs::read(&path).expect("read"), b"fir5t");
    assert_ne!(
        fs::metadata(&path)
            .and_then(|m| m.modified())
            .expect("mtime"),
        old
    );
    assert!(write_atomic(&path, b"").expect("emptied"));
    assert_eq!(fs::read(&path).expect("read"), b"");
    assert!(temp_files(path.parent().expect("parent")).is_empty());
}

#[cfg(unix)]
#[test]
fn write_atomic_into_a_read_only_directory_fails_and_keeps_the_old_file() {
    use std::os::unix::fs::PermissionsExt;

    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("feed");
    let path = dir.join("rss.xml");
    assert!(write_atomic(&path, b"old contents").expect("create"));
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o555)).expect("chmod");

    // Root (and CAP_DAC_OVERRIDE) ignores permission bits, so the failure cannot be provoked
    // there: find out by trying to create a file.
    let probe = dir.join("probe");
    let privileged = fs::write(&probe, b"x").is_ok();
    let _ = fs::remove_file(&probe);

    let result = write_atomic(&path, b"new contents");
    if privileged {
        assert!(result.expect("privileged write"));
    } else {
        let err = result.expect_err("read-only directory");
        assert!(
            err.to_string().contains(&path.display().to_string()),
            "error names the path: {err}"
        );
        assert_eq!(fs::read(&path).expect("read"), b"old contents");
    }
    assert!(temp_files(&dir).is_empty(), "{:?}", temp_files(&dir));
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).expect("chmod back");
}

#[test]
fn write_atomic_failing_rename_names_the_path_and_cleans_up() {
    // A directory cannot be replaced by a file, whatever the privileges: the temp file is
    // written, the rename fails, and the temp file must not be left behind.
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = tmp.path().join("atom.xml");
    fs::create_dir(&path).expect("mkdir");
    fs::write(path.join("keep"), b"inside").expect("write");
    let err = write_atomic(&path, b"<feed/>").expect_err("target is a directory");
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "error names the path: {err}"
    );
    assert_eq!(fs::read(path.join("keep")).expect("read"), b"inside");
    assert!(
        temp_files(tmp.path()).is_empty(),
        "{:?}",
        temp_files(tmp.path())
    );
}

#[test]
fn write_atomic_all_replaces_nothing_when_one_file_cannot_be_written() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let atom = tmp.path().join("feed").join("atom.xml");
    let rss = tmp.path().join("feed").join("rss.xml");
    assert!(write_atomic(&atom, b"old atom").expect("create"));
    assert!(write_atomic(&rss, b"old rss").expect("create"));
    let blocker = tmp.path().join("blocker");
    fs::write(&blocker, b"x").expect("write");
    let bad = blocker.join("1.xml");

    let files: [(&std::path::Path, &[u8]); 3] =
        [(&atom, b"new atom"), (&rss, b"old rss"), (&bad, b"page")];
    let err = write_atomic_all(&files).expect_err("parent of the last file is a file");
    assert!(err.to_string().contains("blocker"), "{err}");
    // The first file was ready but is not replaced: the set is written whole or not at all.
    assert_eq!(fs::read(&atom).expect("read"), b"old atom");
    assert_eq!(fs::read(&rss).expect("read"), b"old rss");
    assert!(temp_files(atom.parent().expect("parent")).is_empty());

    // Without the bad file: only the changed one is written, in the order given.
    let changed = write_atomic_all(&files[..2]).expect("write");
    assert_eq!(changed, vec![true, false]);
    assert_eq!(fs::read(&atom).expect("read"), b"new atom");
    assert!(temp_files(atom.parent().expect("parent")).is_empty());
}

/// A feed's set is staged (nothing replaced, however many `stage` calls), then renamed in an
/// order that keeps every link valid: archive pages newest first, the head last. Shown by a
/// rename that fails: the new page 3, which the complete page 2 and the head come to link,
/// cannot be put in place, so neither page 2 nor the head is replaced.
#[test]
fn a_feed_set_replaces_nothing_before_its_commit_and_the_newest_page_first() {
    use publish::{Document, FeedSet};
    let tmp = tempfile::tempdir().expect("tempdir");
    let info = info();
    let dir = tmp.path().join("negotiation");
    let doc = |file: &str, text: &str| Document {
        file: file.into(),
        text: text.into(),
    };
    let old = [
        doc("archive/1.xml", "page 1, complete"),
        doc("archive/2.xml", "page 2, open"),
        doc("atom.xml", "head linking page 2"),
    ];
    publish::write_feed(tmp.path(), &info, &old).expect("first set");
    let new = [
        doc("atom.xml", "head linking page 3"),
        doc("archive/3.xml", "page 3, open"),
    ];

    // Staged, then dropped (as after an error): nothing changes, nothing is left.
    let mut set = FeedSet::begin(tmp.path(), &info).expect("begin");
    assert_eq!(
        set.stage(&[doc("archive/2.xml", "page 2, complete, linking page 3")])
            .expect("stage"),
        vec![true]
    );
    assert_eq!(set.stage(&new).expect("stage"), vec![true, true]);
    assert_eq!(
        set.stage(&[doc("archive/1.xml", "page 1, complete")])
            .expect("stage"),
        vec![false],
        "an unchanged file is not written"
    );
    drop(set);
    for d in &old {
        assert_eq!(fs::read_to_string(dir.join(&d.file)).expect("read"), d.text);
    }
    assert!(!dir.join("archive/3.xml").exists());
    assert!(temp_files(&dir).is_empty() && temp_files(&dir.join("archive")).is_empty());

    // Page 3's rename fails (a directory took its place after it was staged).
    let mut set = FeedSet::begin(tmp.path(), &info).expect("begin");
    set.stage(&[doc("archive/2.xml", "page 2, complete, linking page 3")])
        .expect("stage");
    set.stage(&new).expect("stage");
    fs::create_dir_all(dir.join("archive/3.xml/in-the-way")).expect("directory");
    let err = set.commit().expect_err("page 3 cannot be replaced");
    assert!(err.to_string().contains("3.xml"), "{err}");
    for d in &old {
        assert_eq!(
            fs::read_to_string(dir.join(&d.file)).expect("read"),
            d.text,
            "nothing links the page that is not there"
        );
    }
    assert!(temp_files(&dir).is_empty() && temp_files(&dir.join("archive")).is_empty());

    // Once it can be: every file replaced, each path said changed in the order staged.
    fs::remove_dir_all(dir.join("archive/3.xml")).expect("remove");
    let mut set = FeedSet::begin(tmp.path(), &info).expect("begin");
    set.stage(&[doc("archive/2.xml", "page 2, complete, linking page 3")])
        .expect("stage");
    set.stage(&new).expect("stage");
    let files = set.commit().expect("commit");
    assert_eq!(
        files,
        vec![
            (dir.join("archive/2.xml"), true),
            (dir.join("atom.xml"), true),
            (dir.join("archive/3.xml"), true),
        ]
    );
    assert_eq!(
        fs::read_to_string(dir.join("atom.xml")).expect("read"),
        "head linking page 3"
    );
}

#[test]
fn write_atomic_error_names_the_path() {
    let tmp = tempfile::tempdir().expect("tempdir");
    // The parent "directory" is a file: nothing can be created under it.
    let blocker = tmp.path().join("blocker");
    fs::write(&blocker, b"x").expect("write");
    let path = blocker.join("feed.json");
    let err = write_atomic(&path, b"{}").expect_err("parent is a file");
    assert!(err.to_string().contains("blocker"), "{err}");
}

#[test]
fn publish_feed_writes_the_three_documents() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let info = info();
    let entries = sample();
    let written = publish_feed(tmp.path(), &info, &entries, None).expect("publish");
    let names: HashSet<String> = written
        .iter()
        .map(|(p, changed)| {
            assert!(changed, "{} is new", p.display());
            assert_eq!(p.parent(), Some(tmp.path().join("negotiation").as_path()));
            p.file_name().expect("name").to_string_lossy().into_owned()
        })
        .collect();
    assert_eq!(
        names,
        HashSet::from(["atom.xml".into(), "rss.xml".into(), "feed.json".into()])
    );
    let dir = tmp.path().join("negotiation");
    assert_eq!(
        fs::read_to_string(dir.join("atom.xml")).expect("atom"),
        atom::render(&info, &entries)
    );
    assert_eq!(
        fs::read_to_string(dir.join("rss.xml")).expect("rss"),
        rss::render(&info, &entries)
    );
    assert_eq!(
        fs::read_to_string(dir.join("feed.json")).expect("json"),
        jsonfeed::render(&info, &entries)
    );

    // Publishing the same input again changes nothing.
    let again = publish_feed(tmp.path(), &info, &entries, None).expect("publish again");
    assert!(again.iter().all(|(_, changed)| !changed), "{again:?}");

    // An edit to one entry rewrites every document.
    let mut edited = entries.clone();
    edited[0].title.push_str(" (updated)");
    let third = publish_feed(tmp.path(), &info, &edited, None).expect("publish edit");
    assert!(third.iter().all(|(_, changed)| *changed), "{third:?}");
    assert!(temp_files(&dir).is_empty());
}

#[test]
fn publish_feed_rejects_a_name_that_is_not_a_plain_directory() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut info = info();
    info.name = "../escape".into();
    let err = publish_feed(tmp.path(), &info, &sample(), None).expect_err("bad name");
    assert!(err.to_string().contains("../escape"), "{err}");
    assert!(!tmp.path().parent().expect("parent").join("escape").exists());
}

#[test]
fn self_links_follow_the_public_base() {
    let mut info = info();
    info.public_base = Url::parse("http://example.net/f/x").expect("url");
    assert_eq!(info.file_url("atom.xml"), "http://example.net/f/x/atom.xml");
    info.public_base = Url::parse("http://example.net/f/x/").expect("url");
    assert_eq!(info.file_url("rss.xml"), "http://example.net/f/x/rss.xml");
}

/// `[[feed]] language` is written to all three documents (Atom `xml:lang` on `<feed>`, RSS
/// `<language>`, JSON Feed `language`) and read back by feed-rs and the format crates; without
/// it none of them names a language.
#[test]
fn the_feed_language_is_in_all_three_documents_and_only_when_set() {
    let mut info = info();
    info.language = Some("fr-CA".into());
    let entries = sample();

    let atom_xml = atom::render(&info, &entries);
    assert_well_formed(&atom_xml);
    let feed = atom_syndication::Feed::read_from(atom_xml.as_bytes()).expect("atom");
    assert_eq!(feed.lang(), Some("fr-CA"));
    // feed-rs lower-cases some formats' language.
    let feed_rs_language = |text: &str| parse_feed(text).language.map(|l| l.to_lowercase());
    assert_eq!(feed_rs_language(&atom_xml).as_deref(), Some("fr-ca"));
    let archive = atom::render_archive(&info, 1, &entries, false);
    let feed = atom_syndication::Feed::read_from(archive.as_bytes()).expect("archive");
    assert_eq!(feed.lang(), Some("fr-CA"), "archive documents too");

    let rss_xml = rss::render(&info, &entries);
    let channel = ::rss::Channel::read_from(rss_xml.as_bytes()).expect("rss");
    assert_eq!(channel.language(), Some("fr-CA"));
    channel.validate().expect("valid RSS with a language");
    assert_eq!(feed_rs_language(&rss_xml).as_deref(), Some("fr-ca"));

    let json = jsonfeed::render(&info, &entries);
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(v["language"], "fr-CA");
    assert_eq!(feed_rs_language(&json).as_deref(), Some("fr-ca"));

    info.language = None;
    let atom_xml = atom::render(&info, &entries);
    assert!(!atom_xml.contains("xml:lang"), "{atom_xml}");
    let rss_xml = rss::render(&info, &entries);
    assert!(!rss_xml.contains("<language>"), "{rss_xml}");
    let v: serde_json::Value =
        serde_json::from_str(&jsonfeed::render(&info, &entries)).expect("json");
    assert!(v.get("language").is_none(), "{v}");
}

/// The stylesheet gives every piece of feed text its own direction (`dir="auto"` on the element
/// holding it, so an Arabic title's `!` stays at its end), takes the page's `lang` from the
/// feed's language (none when the feed names none) and marks its own English words `lang="en"`.
#[test]
fn the_stylesheet_gives_feed_text_its_own_direction_and_the_page_the_feed_language() {
    use quick_xml::events::{BytesStart, Event};
    let xsl = publish::BUILTIN_STYLESHEET;
    let attr = |e: &BytesStart, name: &[u8]| {
        e.attributes()
            .flatten()
            .find(|a| a.key.as_ref() == name)
            .map(|a| String::from_utf8_lossy(&a.value).into_owned())
    };
    let feed_text = [
        "atom:title",
        "atom:subtitle",
        "atom:summary",
        "title",
        "description",
        ".",
    ];
    let mut reader = quick_xml::Reader::from_str(xsl);
    // Literal (non-XSLT) elements open around the current point: name, dir, lang.
    let mut open: Vec<(String, Option<String>, Option<String>)> = Vec::new();
    let mut checked = 0;
    loop {
        match reader.read_event().expect("well-formed stylesheet") {
            Event::Start(e) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                if name == "html" {
                    assert_eq!(attr(&e, b"lang"), None, "no fixed lang on <html>");
                }
                if name == "xsl:attribute" && attr(&e, b"name").as_deref() == Some("lang") {
                    let element = open.iter().rev().find(|o| !o.0.starts_with("xsl:"));
                    assert_eq!(element.map(|o| o.0.as_str()), Some("html"));
                }
                if name == "p" && attr(&e, b"class").as_deref() == Some("note") || name == "nav" {
                    assert_eq!(attr(&e, b"lang").as_deref(), Some("en"), "<{name}>");
                }
                open.push((name, attr(&e, b"dir"), attr(&e, b"lang")));
            }
            Event::End(_) => {
                open.pop();
            }
            Event::Empty(e) if e.name().as_ref() == b"xsl:value-of" => {
                let select = attr(&e, b"select").unwrap_or_default();
                let literal: Vec<_> = open
                    .iter()
                    .rev()
                    .filter(|o| !o.0.starts_with("xsl:") && o.0 != "a")
                    .collect();
                let holder = literal.first().expect("inside an element");
                if !feed_text.contains(&select.as_str()) || holder.0 == "title" {
                    continue;
                }
                assert_eq!(
                    holder.1.as_deref(),
                    Some("auto"),
                    "<{}> holding {select} has dir=\"auto\"",
                    holder.0
                );
                checked += 1;
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert!(
        checked >= 9,
        "every title, summary and name checked ({checked})"
    );
}
