//! The SQLite store: twin matching, edit detection, ordering, pending posts, and the errors an
//! operator sees for locked, foreign, newer and read-only databases.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, TimeZone, Utc};
use feedwright::model::{DateSource, Entry, EntryId, Link};
use feedwright::store::{Store, StoreError, Upsert};

fn t(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_700_000_000 + secs, 0)
        .single()
        .expect("valid time")
}

/// An entry for `url` whose dedup key is the URL without scheme and `www.`.
fn entry(url: &str, title: &str, published: DateTime<Utc>) -> Entry {
    let key = url
        .split_once("://")
        .map_or(url, |(_, rest)| rest)
        .trim_start_matches("www.")
        .to_owned();
    Entry {
        id: EntryId(url.to_owned()),
        dedup_key: key,
        source: "blog".to_owned(),
        url: url.to_owned(),
        title: title.to_owned(),
        published,
        published_source: DateSource::Jsonld,
        updated: published,
        updated_source: DateSource::Jsonld,
        authors: vec!["Ann Author".to_owned()],
        categories: vec!["Negotiation".to_owned()],
        content_html: format!("<p>{title}</p>"),
        summary: title.to_owned(),
        related: Vec::new(),
        enclosures: Vec::new(),
    }
}

fn db_in(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("feedwright.db")
}

fn open(path: &Path) -> Store {
    Store::open(path).expect("store opens")
}

fn ids(entries: &[Entry]) -> Vec<&str> {
    entries.iter().map(|e| e.id.0.as_str()).collect()
}

/// A post read another way (its page, then the REST API) whose body only writes its markup
/// differently, attributes in another order, is not an edit; a changed attribute value is.
#[test]
fn a_body_that_only_orders_attributes_differently_is_not_an_edit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = open(&db_in(&dir));
    let mut e = entry("https://example.org/a/", "First", t(0));
    e.content_html =
        r#"<p>Talks <img src="https://example.org/a.jpg" alt="Delegates" width="300"></p>"#.into();
    assert_eq!(store.upsert_entry(&e, t(10)).expect("upsert"), Upsert::New);
    e.content_html =
        r#"<p>Talks <img width="300" alt="Delegates" src="https://example.org/a.jpg"></p>"#.into();
    assert_eq!(
        store.upsert_entry(&e, t(20)).expect("upsert"),
        Upsert::Unchanged
    );
    let stored = store
        .get_by_key(&e.dedup_key)
        .expect("get")
        .expect("stored");
    assert_eq!(stored.updated, t(0), "not bumped");
    e.content_html =
        r#"<p>Talks <img width="600" alt="Delegates" src="https://example.org/a.jpg"></p>"#.into();
    assert_eq!(
        store.upsert_entry(&e, t(30)).expect("upsert"),
        Upsert::Updated
    );
}

#[test]
fn upsert_reports_new_unchanged_and_updated() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = open(&db_in(&dir));
    let mut e = entry("https://example.org/a/", "First", t(0));

    assert_eq!(store.upsert_entry(&e, t(10)).expect("upsert"), Upsert::New);
    assert_eq!(
        store.upsert_entry(&e, t(20)).expect("upsert"),
        Upsert::Unchanged
    );

    e.title = "First, revised".to_owned();
    assert_eq!(
        store.upsert_entry(&e, t(30)).expect("upsert"),
        Upsert::Updated
    );
    let stored = store
        .get_by_key(&e.dedup_key)
        .expect("get")
        .expect("stored");
    assert_eq!(stored.title, "First, revised");
    assert_eq!(store.entry_count("blog").expect("count"), 1);

    // Each hashed field on its own is an edit.
    let edits: Vec<fn(&mut Entry)> = vec![
        |e| e.authors.push("Bo".to_owned()),
        |e| e.categories.push("Mediation".to_owned()),
        |e| e.content_html.push_str("<p>more</p>"),
        |e| e.summary.push_str(" more"),
        |e| e.url.push_str("?page=2"),
        |e| e.published += Duration::hours(1),
    ];
    for (i, edit) in edits.into_iter().enumerate() {
        edit(&mut e);
        let now = t(100 + i64::try_from(i).expect("small"));
        assert_eq!(
            store.upsert_entry(&e, now).expect("upsert"),
            Upsert::Updated,
            "edit {i}"
        );
    }
    assert_eq!(store.entry_count("blog").expect("count"), 1);
}

#[test]
fn refetch_with_other_related_links_or_fetch_times_is_unchanged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = open(&db_in(&dir));
    let e = entry("https://example.org/a/", "A", t(0));
    store.upsert_entry(&e, t(10)).expect("upsert");

    let mut again = e.clone();
    again.related = vec![Link {
        url: "https://example.org/b/".to_owned(),
        title: "B".to_owned(),
    }];
    again.updated = t(500);
    again.updated_source = DateSource::FirstSeen;
    assert_eq!(
        store.upsert_entry(&again, t(600)).expect("upsert"),
        Upsert::Unchanged
    );

    let stored = store
        .get_stored(&e.dedup_key)
        .expect("get")
        .expect("stored");
    assert_eq!(
        stored.entry, e,
        "an unchanged re-fetch rewrites nothing but last_seen"
    );
    assert_eq!(stored.first_seen, t(10));
    assert_eq!(stored.last_seen, t(600));
}

#[test]
fn an_edit_bumps_updated_and_keeps_id_and_first_seen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = open(&db_in(&dir));
    let original = entry("https://example.org/a/", "A", t(0));
    store.upsert_entry(&original, t(10)).expect("upsert");

    // Edited, reached over the http twin, with no modified date of its own.
    let mut edited = entry("http://example.org/a/", "A, edited", t(0));
    edited.updated = t(2000);
    edited.updated_source = DateSource::FirstSeen;
    assert_eq!(
        store.upsert_entry(&edited, t(1000)).expect("upsert"),
        Upsert::Updated
    );
    let stored = store
        .get_stored(&original.dedup_key)
        .expect("get")
        .expect("stored");
    assert_eq!(stored.entry.id, original.id, "the public id never changes");
    assert_eq!(stored.entry.url, "http://example.org/a/");
    assert_eq!(stored.first_seen, t(10));
    assert_eq!(stored.last_seen, t(1000));
    assert_eq!(
        stored.entry.updated,
        t(1000),
        "no own modified date: the time of the edit"
    );
    assert_eq!(stored.entry.updated_source, DateSource::FirstSeen);

    // A real modified date later than the stored one is taken as is.
    let mut edited = entry("https://example.org/a/", "A, edited twice", t(0));
    edited.updated = t(1500);
    edited.updated_source = DateSource::Meta;
    store.upsert_entry(&edited, t(1200)).expect("upsert");
    let stored = store
        .get_by_key(&original.dedup_key)
        .expect("get")
        .expect("stored");
    assert_eq!(stored.updated, t(1500));
    assert_eq!(stored.updated_source, DateSource::Meta);

    // A real modified date that is not later still bumps `updated` to now.
    let mut edited = entry("https://example.org/a/", "A, edited thrice", t(0));
    edited.updated = t(100);
    edited.updated_source = DateSource::Meta;
    store.upsert_entry(&edited, t(3000)).expect("upsert");
    let stored = store
        .get_stored(&original.dedup_key)
        .expect("get")
        .expect("stored");
    assert_eq!(stored.entry.updated, t(3000));
    assert_eq!(stored.entry.id, original.id);
    assert_eq!(stored.first_seen, t(10));
}

#[test]
fn updated_is_never_below_published() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = open(&db_in(&dir));
    let mut e = entry("https://example.org/a/", "A", t(1000));
    e.updated = t(5);
    store.upsert_entry(&e, t(2000)).expect("upsert");
    let stored = store
        .get_by_key(&e.dedup_key)
        .expect("get")
        .expect("stored");
    assert_eq!(stored.updated, t(1000));

    // An edit whose published date lies after the time it was seen still lands on published.
    e.title = "A2".to_owned();
    e.published = t(9000);
    store.upsert_entry(&e, t(3000)).expect("upsert");
    let stored = store
        .get_by_key(&e.dedup_key)
        .expect("get")
        .expect("stored");
    assert_eq!(stored.published, t(9000));
    assert_eq!(stored.updated, t(9000));
}

#[test]
fn scheme_and_www_twins_and_one_dedup_key_are_one_entry() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = open(&db_in(&dir));
    let first = entry("https://www.example.org/post/", "Post", t(0));
    assert_eq!(
        store.upsert_entry(&first, t(1)).expect("upsert"),
        Upsert::New
    );

    // Same post by id twin only: the dedup key differs; the id differs in scheme, `www.`, host
    // case and fragment.
    let mut twin = entry("http://Example.org/post/#comments", "Post", t(0));
    twin.dedup_key = "something-else".to_owned();
    assert_ne!(
        store.upsert_entry(&twin, t(2)).expect("upsert"),
        Upsert::New
    );
    assert_eq!(store.entry_count("blog").expect("count"), 1);

    // Same post reached by another URL that normalization gave the same dedup key.
    let mut other_url = entry("https://example.org/?p=42", "Post", t(0));
    other_url.dedup_key = "something-else".to_owned();
    assert_ne!(
        store.upsert_entry(&other_url, t(3)).expect("upsert"),
        Upsert::New
    );
    assert_eq!(store.entry_count("blog").expect("count"), 1);

    let all = store
        .entries(&["blog".to_owned()], &[], 10)
        .expect("entries");
    assert_eq!(ids(&all), vec![first.id.0.as_str()]);

    // A genuinely different post is a second entry.
    let different = entry("https://example.org/other/", "Other", t(0));
    assert_eq!(
        store.upsert_entry(&different, t(4)).expect("upsert"),
        Upsert::New
    );
    assert_eq!(store.entry_count("blog").expect("count"), 2);
}

#[test]
fn first_seen_published_date_is_kept_across_runs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = open(&db_in(&dir));
    let undated = |now: DateTime<Utc>, title: &str| {
        let mut e = entry("https://example.org/undated/", title, now);
        e.published_source = DateSource::FirstSeen;
        e.updated_source = DateSource::FirstSeen;
        e
    };

    store
        .upsert_entry(&undated(t(100), "U"), t(100))
        .expect("upsert");
    assert_eq!(
        store
            .upsert_entry(&undated(t(200), "U"), t(200))
            .expect("upsert"),
        Upsert::Unchanged,
        "a later first-seen date alone is not an edit"
    );
    assert_eq!(
        store
            .upsert_entry(&undated(t(300), "U, edited"), t(300))
            .expect("upsert"),
        Upsert::Updated
    );
    let key = undated(t(0), "U").dedup_key;
    let stored = store.get_by_key(&key).expect("get").expect("stored");
    assert_eq!(stored.published, t(100));
    assert_eq!(stored.published_source, DateSource::FirstSeen);
    assert_eq!(stored.updated, t(300));

    drop(store);
    let mut store = open(&db_in(&dir));
    assert_eq!(
        store
            .upsert_entry(&undated(t(400), "U, edited"), t(400))
            .expect("upsert"),
        Upsert::Unchanged
    );
    let stored = store.get_by_key(&key).expect("get").expect("stored");
    assert_eq!(stored.published, t(100), "kept after reopening too");

    // Once the page shows a real date, it wins.
    let mut dated = undated(t(0), "U, edited");
    dated.published = t(50);
    dated.published_source = DateSource::Jsonld;
    assert_eq!(
        store.upsert_entry(&dated, t(500)).expect("upsert"),
        Upsert::Updated
    );
    let stored = store.get_by_key(&key).expect("get").expect("stored");
    assert_eq!(stored.published, t(50));
    assert_eq!(stored.published_source, DateSource::Jsonld);
}

#[test]
fn related_links_are_fixed_at_first_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = open(&db_in(&dir));
    let link = |n: &str| Link {
        url: format!("https://example.org/{n}/"),
        title: n.to_owned(),
    };
    // Readers are shown related links to stored entries only.
    for n in ["b", "c", "d"] {
        let target = entry(&format!("https://example.org/{n}/"), n, t(0));
        store.upsert_entry(&target, t(1)).expect("upsert");
    }
    let mut e = entry("https://example.org/a/", "A", t(0));
    store.upsert_entry(&e, t(1)).expect("upsert");

    e.title = "A2".to_owned();
    e.related = vec![link("b"), link("c")];
    store.upsert_entry(&e, t(2)).expect("upsert");
    let stored = store
        .get_by_key(&e.dedup_key)
        .expect("get")
        .expect("stored");
    assert_eq!(
        stored.related,
        vec![link("b"), link("c")],
        "filled while empty"
    );

    e.title = "A3".to_owned();
    e.related = vec![link("d")];
    store.upsert_entry(&e, t(3)).expect("upsert");
    let stored = store
        .get_by_key(&e.dedup_key)
        .expect("get")
        .expect("stored");
    assert_eq!(stored.title, "A3");
    assert_eq!(stored.related, vec![link("b"), link("c")], "then kept");
}

/// An entry's related links as stored (the `related` column), not as readers get them.
fn stored_related(path: &Path, id: &str) -> Vec<Link> {
    let text: String = rusqlite::Connection::open(path)
        .expect("sqlite")
        .query_row("SELECT related FROM entries WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .expect("row");
    serde_json::from_str(&text).expect("json")
}

/// Links fixed empty (nothing related) stay empty: an edit that brings the post's own links
/// (a file's `related`, titles not given) used to store them as given, without titles.
#[test]
fn an_empty_fixed_list_is_kept_and_own_links_are_stored_with_their_titles() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = db_in(&dir);
    let mut store = open(&path);
    let untitled = |n: &str| Link {
        url: format!("http://www.example.org/{n}/"),
        title: String::new(),
    };
    let b = entry("https://example.org/b/", "Bravo", t(0));
    store.upsert_entry(&b, t(1)).expect("upsert");

    // Before its links are fixed, an entry keeps its own: a stored one's with its URL and
    // title, one to no stored entry as given.
    let mut a = entry("https://example.org/a/", "Alpha", t(0));
    a.related = vec![untitled("b"), untitled("x")];
    store.upsert_entry(&a, t(2)).expect("upsert");
    assert_eq!(
        stored_related(&path, &a.id.0),
        vec![
            Link {
                url: b.url.clone(),
                title: "Bravo".into()
            },
            untitled("x")
        ]
    );

    let mut c = entry("https://example.org/c/", "Charlie", t(0));
    store.upsert_entry(&c, t(3)).expect("upsert");
    assert!(store.fix_entry_related(&c.id, &[]).expect("fix"));
    c.title = "Charlie, edited".into();
    c.related = vec![untitled("b")];
    assert_eq!(
        store.upsert_entry(&c, t(4)).expect("upsert"),
        Upsert::Updated
    );
    assert_eq!(stored_related(&path, &c.id.0), Vec::<Link>::new());
}

/// Every reader (feeds, archive pages, digests) is shown a related link with the current title
/// and URL of the entry it points at, and only while some source holds that entry: one taken
/// out (a deleted or draft file) is hidden, not forgotten, and shows again when it comes back.
#[test]
fn readers_see_related_links_to_held_entries_with_their_current_titles() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = db_in(&dir);
    let mut store = open(&path);
    let (b, c) = (
        entry("https://example.org/b/", "Bravo", t(0)),
        entry("https://example.org/c/", "Charlie", t(0)),
    );
    let a = entry("https://example.org/a/", "Alpha", t(0));
    for e in [&b, &c, &a] {
        store.upsert_entry(e, t(1)).expect("upsert");
    }
    let link = |url: &str, title: &str| Link {
        url: url.into(),
        title: title.into(),
    };
    // As stored: a twin of b's URL without a title, c's under an old title, a post not stored.
    let fixed = vec![
        link("http://www.example.org/b/#top", ""),
        link(&c.url, "Charlie (old)"),
        link("https://example.org/unknown/", "Unknown"),
    ];
    assert!(store.fix_entry_related(&a.id, &fixed).expect("fix"));
    let blog = ["blog".to_owned()];
    let shown = |store: &Store| {
        let by_key = store
            .get_stored(&a.dedup_key)
            .expect("get")
            .expect("stored")
            .entry
            .related;
        let listed = store.entries(&blog, &[], 10).expect("entries");
        let by_ids = store
            .entries_by_ids(std::slice::from_ref(&a.id.0))
            .expect("by ids");
        let candidates = store
            .digest_candidates(&blog, t(-10), t(10))
            .expect("candidates");
        let of = |entries: &[Entry]| -> Vec<Link> {
            entries
                .iter()
                .find(|e| e.id == a.id)
                .expect("a is listed")
                .related
                .clone()
        };
        assert_eq!(of(&listed), by_key);
        assert_eq!(of(&by_ids), by_key);
        let candidates: Vec<Entry> = candidates.into_iter().map(|s| s.entry).collect();
        assert_eq!(of(&candidates), by_key);
        by_key
    };
    assert_eq!(
        shown(&store),
        vec![link(&b.url, "Bravo"), link(&c.url, "Charlie")]
    );

    // c's file is deleted: its entry leaves the source, and the link to it is hidden.
    store
        .set_source_item("blog", "posts/c.md", &c.dedup_key)
        .expect("item");
    store
        .forget_source_item("blog", "posts/c.md", Some(&c.id))
        .expect("forget");
    assert_eq!(shown(&store), vec![link(&b.url, "Bravo")]);
    assert_eq!(
        stored_related(&path, &a.id.0),
        fixed,
        "stored links unchanged"
    );

    // It comes back: the link shows again.
    store.upsert_entry(&c, t(2)).expect("upsert");
    assert_eq!(
        shown(&store),
        vec![link(&b.url, "Bravo"), link(&c.url, "Charlie")]
    );
}

#[test]
fn entries_are_newest_first_with_deterministic_ties() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = open(&db_in(&dir));
    // (id, published, updated), inserted in an order that matches none of the sort keys.
    let rows = [
        ("https://example.org/c/", 100, 100),
        ("https://example.org/a/", 100, 100),
        ("https://example.org/old/", 50, 900),
        ("https://example.org/b/", 100, 300),
        ("https://example.org/new/", 200, 200),
    ];
    for (url, published, updated) in rows {
        let mut e = entry(url, url, t(published));
        e.updated = t(updated);
        store.upsert_entry(&e, t(1000)).expect("upsert");
    }
    let mut elsewhere = entry("https://example.net/x/", "x", t(5000));
    elsewhere.source = "other".to_owned();
    store.upsert_entry(&elsewhere, t(1000)).expect("upsert");

    let blog = ["blog".to_owned()];
    let got = store.entries(&blog, &[], 100).expect("entries");
    assert_eq!(
        ids(&got),
        vec![
            "https://example.org/new/", // newest published
            "https://example.org/b/",   // published tie: newest updated first
            "https://example.org/a/",   // published and updated tie: id ascending
            "https://example.org/c/",
            "https://example.org/old/",
        ]
    );
    // Insertion order does not matter: a second store filled in reverse agrees.
    let dir2 = tempfile::tempdir().expect("tempdir");
    let mut store2 = open(&db_in(&dir2));
    for e in got.iter().rev() {
        store2.upsert_entry(e, t(1000)).expect("upsert");
    }
    assert_eq!(store2.entries(&blog, &[], 100).expect("entries"), got);

    let both = store
        .entries(&["blog".to_owned(), "other".to_owned()], &[], 100)
        .expect("entries");
    assert_eq!(both.len(), 6);
    assert_eq!(both[0].id, elsewhere.id);
    assert!(store.entries(&[], &[], 100).expect("entries").is_empty());

    // The metadata-only listing: the same entries in the same order, without their text.
    let light = store.entries_without_text(&blog).expect("entries");
    let expected: Vec<Entry> = got.iter().cloned().map(Entry::without_text).collect();
    assert!(got.iter().all(|e| !e.content_html.is_empty()));
    assert_eq!(light, expected);
}

#[test]
fn category_filter_is_case_insensitive_and_limit_applies_after_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = open(&db_in(&dir));
    let cats: [(&str, &[&str]); 4] = [
        ("https://example.org/1/", &["Negotiation", "Mediation"]),
        ("https://example.org/2/", &["Business"]),
        ("https://example.org/3/", &["mediation"]),
        ("https://example.org/4/", &[]),
    ];
    for (i, (url, categories)) in cats.iter().enumerate() {
        let mut e = entry(url, url, t(i64::try_from(i).expect("small") * 10));
        e.categories = categories.iter().map(|c| (*c).to_owned()).collect();
        store.upsert_entry(&e, t(1000)).expect("upsert");
    }
    let blog = ["blog".to_owned()];

    let mediation = store
        .entries(&blog, &["MEDIATION".to_owned()], 10)
        .expect("entries");
    assert_eq!(
        ids(&mediation),
        vec!["https://example.org/3/", "https://example.org/1/"]
    );

    let any_of = store
        .entries(
            &blog,
            &["business".to_owned(), "negotiation".to_owned()],
            10,
        )
        .expect("entries");
    assert_eq!(
        ids(&any_of),
        vec!["https://example.org/2/", "https://example.org/1/"]
    );

    assert_eq!(store.entries(&blog, &[], 10).expect("entries").len(), 4);
    assert!(
        store
            .entries(&blog, &["none".to_owned()], 10)
            .expect("entries")
            .is_empty()
    );

    let newest_two = store.entries(&blog, &[], 2).expect("entries");
    assert_eq!(
        ids(&newest_two),
        vec!["https://example.org/4/", "https://example.org/3/"]
    );
    let one_mediation = store
        .entries(&blog, &["mediation".to_owned()], 1)
        .expect("entries");
    assert_eq!(ids(&one_mediation), vec!["https://example.org/3/"]);
    assert!(store.entries(&blog, &[], 0).expect("entries").is_empty());
}

/// What an unfinished backfill found: an entry it stored, or one a run stored from a post it
/// left pending (the mark surviving a run's own failure of it), until the backfill completes;
/// never a post only a run had pending, and nothing while no backfill is unfinished.
#[test]
fn posts_a_backfill_left_pending_are_history_it_found_until_it_completes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = open(&db_in(&dir));
    let (a, b, c) = (
        entry("https://example.org/a/", "A", t(1)),
        entry("https://example.org/b/", "B", t(2)),
        entry("https://example.org/c/", "C", t(3)),
    );
    let blog = vec!["blog".to_owned()];
    let all: Vec<String> = [&a, &b, &c].iter().map(|e| e.id.0.clone()).collect();
    let history = |store: &Store| {
        let mut found: Vec<String> = store
            .backfill_history(&blog, &all)
            .expect("history")
            .into_iter()
            .collect();
        found.sort();
        found
    };
    // Nothing is found while no backfill is unfinished, whoever stored it.
    assert!(
        !store
            .note_backfill_found("blog", &c.id, &[&c.url], true)
            .expect("note")
    );

    store
        .backfill_put("blog", "https://example.org/page/3/", 2, t(0))
        .expect("place");
    store
        .keep_pending("blog", &a.url, "request budget used up", t(5), true)
        .expect("pending");
    store
        .add_pending("blog", &a.url, "HTTP 503", t(6))
        .expect("pending");
    store
        .add_pending("blog", &b.url, "HTTP 503", t(6))
        .expect("pending");
    for e in [&a, &b, &c] {
        assert_eq!(store.upsert_entry(e, t(7)).expect("upsert"), Upsert::New);
    }
    assert!(
        store
            .note_backfill_found("blog", &a.id, &[&a.url], false)
            .expect("note")
    );
    assert!(
        !store
            .note_backfill_found("blog", &b.id, &[&b.url], false)
            .expect("note")
    );
    assert!(
        store
            .note_backfill_found("blog", &c.id, &[&c.url], true)
            .expect("note")
    );
    assert_eq!(history(&store), vec![a.id.0.clone(), c.id.0.clone()]);

    // Starting again from the beginning forgets the place, not what was found.
    store.backfill_restart("blog").expect("restart");
    assert_eq!(store.backfill_get("blog").expect("place"), None);
    assert_eq!(history(&store), vec![a.id.0.clone(), c.id.0.clone()]);

    // Complete: nothing waits, and what it left pending is an ordinary pending post.
    store
        .backfill_put("blog", "https://example.org/", 0, t(8))
        .expect("place");
    store.backfill_clear("blog").expect("clear");
    assert!(history(&store).is_empty());
    store
        .backfill_put("blog", "https://example.org/", 0, t(9))
        .expect("place");
    assert!(
        !store
            .note_backfill_found("blog", &a.id, &[&a.url], false)
            .expect("note")
    );
}

#[test]
fn pending_posts_are_added_retried_and_removed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = open(&db_in(&dir));
    store
        .add_pending("blog", "https://example.org/b/", "HTTP 503", t(20))
        .expect("add");
    store
        .add_pending("blog", "https://example.org/a/", "timeout", t(10))
        .expect("add");
    store
        .add_pending("other", "https://example.net/x/", "HTTP 500", t(5))
        .expect("add");
    assert_eq!(
        store.pending("blog").expect("pending"),
        vec!["https://example.org/a/", "https://example.org/b/"],
        "oldest failure first"
    );

    // Retried and failed again: one row, attempts counted, latest reason kept.
    store
        .add_pending("blog", "https://example.org/a/", "HTTP 502", t(30))
        .expect("add");
    let details = store.pending_details("blog").expect("pending");
    assert_eq!(details.len(), 2);
    assert_eq!(details[0].url, "https://example.org/a/");
    assert_eq!(details[0].attempts, 2);
    assert_eq!(details[0].reason, "HTTP 502");
    assert_eq!(details[0].first_failed, t(10));
    assert_eq!(details[0].last_failed, t(30));
    assert_eq!(details[1].attempts, 1);

    assert!(
        store
            .remove_pending("blog", "https://example.org/a/")
            .expect("remove")
    );
    assert!(
        !store
            .remove_pending("blog", "https://example.org/a/")
            .expect("remove")
    );
    assert_eq!(
        store.pending("blog").expect("pending"),
        vec!["https://example.org/b/"]
    );
    assert_eq!(
        store.pending("other").expect("pending"),
        vec!["https://example.net/x/"]
    );
    assert!(store.pending("nobody").expect("pending").is_empty());
}

#[test]
fn http_cache_and_source_state_round_trip() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = open(&db_in(&dir));
    let url = "https://example.org/category/daily/";
    assert_eq!(store.http_cache_get(url).expect("get"), None);
    store
        .http_cache_put(url, Some("\"abc\""), None, t(1))
        .expect("put");
    assert_eq!(
        store.http_cache_get(url).expect("get"),
        Some((Some("\"abc\"".to_owned()), None))
    );
    store
        .http_cache_put(url, None, Some("Wed, 21 Oct 2015 07:28:00 GMT"), t(2))
        .expect("put");
    assert_eq!(
        store.http_cache_get(url).expect("get"),
        Some((None, Some("Wed, 21 Oct 2015 07:28:00 GMT".to_owned())))
    );

    assert_eq!(store.source_state("blog").expect("state"), None);
    store
        .record_source_run("blog", t(10), None)
        .expect("record");
    store
        .record_source_run("blog", t(20), Some("site unreachable"))
        .expect("record");
    let state = store
        .source_state("blog")
        .expect("state")
        .expect("recorded");
    assert_eq!(
        state.last_success,
        Some(t(10)),
        "a failure keeps the last success"
    );
    assert_eq!(state.last_error.as_deref(), Some("site unreachable"));
    assert_eq!(state.last_run, t(20));
    store
        .record_source_run("blog", t(30), None)
        .expect("record");
    let state = store
        .source_state("blog")
        .expect("state")
        .expect("recorded");
    assert_eq!(state.last_success, Some(t(30)));
    assert_eq!(state.last_error, None, "a success clears the error");

    store
        .record_source_run("new", t(5), Some("boom"))
        .expect("record");
    let state = store.source_state("new").expect("state").expect("recorded");
    assert_eq!(state.last_success, None);
}

#[test]
fn reopening_keeps_everything() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("nested").join("deeper").join("feeds.db");
    let mut e = entry("https://example.org/a/", "A", t(0));
    e.related = vec![Link {
        url: "https://example.org/b/".to_owned(),
        title: "B — ünïcode".to_owned(),
    }];
    e.authors = vec!["Ann".to_owned(), "Bo".to_owned()];
    {
        let mut store = open(&path);
        // Readers are shown related links to stored entries only.
        let b = entry("https://example.org/b/", "B — ünïcode", t(0));
        store.upsert_entry(&b, t(9)).expect("upsert");
        store.upsert_entry(&e, t(10)).expect("upsert");
        store
            .add_pending("blog", "https://example.org/p/", "timeout", t(11))
            .expect("add");
        store
            .http_cache_put("https://example.org/", Some("W/\"1\""), None, t(12))
            .expect("put");
        store
            .record_source_run("blog", t(13), None)
            .expect("record");
    }
    let journal: String = rusqlite::Connection::open(&path)
        .expect("raw open")
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .expect("journal mode");
    assert_eq!(journal, "wal");

    let store = open(&path);
    assert_eq!(
        store.schema_version().expect("version"),
        latest_schema_version()
    );
    let stored = store
        .get_stored(&e.dedup_key)
        .expect("get")
        .expect("stored");
    assert_eq!(stored.entry, e);
    assert_eq!(stored.first_seen, t(10));
    assert_eq!(
        store.pending("blog").expect("pending"),
        vec!["https://example.org/p/"]
    );
    assert_eq!(
        store.http_cache_get("https://example.org/").expect("get"),
        Some((Some("W/\"1\"".to_owned()), None))
    );
    assert_eq!(
        store
            .source_state("blog")
            .expect("state")
            .expect("recorded")
            .last_success,
        Some(t(13))
    );
}

#[test]
fn a_second_open_while_the_first_is_open_is_locked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = db_in(&dir);
    let first = open(&path);
    let err = Store::open(&path).expect_err("second open must fail");
    assert!(matches!(err, StoreError::Locked { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(message.contains("another feedwright process"), "{message}");

    drop(first);
    open(&path);
}

#[test]
fn a_garbage_file_is_not_a_database() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = db_in(&dir);
    let garbage: Vec<u8> = (0..8192u32)
        .map(|i| u8::try_from(i * 7 % 251).expect("below 256"))
        .collect();
    fs::write(&path, &garbage).expect("write garbage");

    let err = Store::open(&path).expect_err("garbage must be refused");
    assert!(matches!(err, StoreError::NotADatabase { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(message.contains("file is not a database"), "{message}");
    assert_eq!(
        fs::read(&path).expect("read"),
        garbage,
        "the file is left alone"
    );
}

#[test]
fn a_database_from_a_newer_build_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = db_in(&dir);
    {
        let mut store = open(&path);
        store
            .upsert_entry(&entry("https://example.org/a/", "A", t(0)), t(1))
            .expect("upsert");
    }
    {
        let raw = rusqlite::Connection::open(&path).expect("raw open");
        raw.execute(
            "INSERT INTO refinery_schema_history (version, name, applied_on, checksum)
             VALUES (99, 'from_the_future', '2030-01-01T00:00:00Z', '1')",
            [],
        )
        .expect("insert history row");
    }
    let before = fs::read(&path).expect("read");

    let err = Store::open(&path).expect_err("newer schema must be refused");
    match &err {
        StoreError::NewerSchema { found, known, .. } => {
            assert_eq!(*found, 99);
            assert_eq!(*known, latest_schema_version());
        }
        other => panic!("expected NewerSchema, got {other:?}"),
    }
    let message = err.to_string();
    assert!(message.contains(&path.display().to_string()), "{message}");
    let expected = format!(
        "newer feedwright (schema v99, this build knows up to v{})",
        latest_schema_version()
    );
    assert!(message.contains(&expected), "{message}");
    assert_eq!(
        fs::read(&path).expect("read"),
        before,
        "the database is not modified"
    );
}

#[test]
fn a_read_only_database_file_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = db_in(&dir);
    drop(open(&path));
    fs::set_permissions(&path, fs::Permissions::from_mode(0o444)).expect("chmod");

    if fs::OpenOptions::new().append(true).open(&path).is_ok() {
        // Running as root: file modes do not stop writes, so there is no error to observe.
        eprintln!("skipped: file permissions are not enforced for this user");
        return;
    }
    let err = Store::open(&path).expect_err("read-only file must be refused");
    assert!(matches!(err, StoreError::ReadOnly { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(message.contains("read-only"), "{message}");
}

#[test]
fn a_read_only_directory_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let locked_dir = dir.path().join("ro");
    fs::create_dir(&locked_dir).expect("mkdir");
    fs::set_permissions(&locked_dir, fs::Permissions::from_mode(0o555)).expect("chmod");
    let path = locked_dir.join("feedwright.db");

    let result = if fs::write(locked_dir.join("probe"), b"x").is_ok() {
        // Running as root: directory modes do not stop writes, so there is no error to observe.
        eprintln!("skipped: directory permissions are not enforced for this user");
        None
    } else {
        Some(Store::open(&path))
    };
    // Give the directory back its write bit so the temp dir can be removed.
    fs::set_permissions(&locked_dir, fs::Permissions::from_mode(0o755)).expect("chmod back");
    if let Some(result) = result {
        let err = result.expect_err("read-only directory must be refused");
        assert!(matches!(err, StoreError::ReadOnly { .. }), "{err:?}");
        let message = err.to_string();
        assert!(message.contains(&path.display().to_string()), "{message}");
    }
}

#[test]
fn an_entry_matching_two_stored_rows_merges_them_into_the_one_matched_by_id() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = open(&db_in(&dir));
    let mut by_id = entry("https://example.org/a/", "A", t(0));
    let mut by_key = entry("https://example.org/?p=7", "A copy", t(0));
    by_key.dedup_key = "example.org/?p=7".to_owned();
    // Each other's closest match: once merged, neither link may remain on the survivor.
    let other = Link {
        url: "https://example.org/other/".into(),
        title: "Other".into(),
    };
    by_id.related = vec![
        Link {
            url: by_key.url.clone(),
            title: "A copy".into(),
        },
        other.clone(),
    ];
    // Readers are shown related links to stored entries only.
    let mut stored_other = entry(&other.url, "Other", t(0));
    stored_other.source = "elsewhere".to_owned();
    store.upsert_entry(&stored_other, t(1)).expect("upsert");
    store.upsert_entry(&by_key, t(5)).expect("upsert");
    store.upsert_entry(&by_id, t(10)).expect("upsert");
    assert_eq!(store.entry_count("blog").expect("count"), 2);

    // Its id is a twin of the first row's, its dedup key is the second row's.
    let mut both = entry("http://www.example.org/a/", "A", t(0));
    both.dedup_key = by_key.dedup_key.clone();
    assert_eq!(
        store.upsert_entry(&both, t(20)).expect("upsert"),
        Upsert::Updated
    );
    assert_eq!(store.entry_count("blog").expect("count"), 1);
    let stored = store
        .get_stored(&by_key.dedup_key)
        .expect("get")
        .expect("stored");
    assert_eq!(stored.entry.id, by_id.id);
    assert_eq!(
        stored.first_seen,
        t(5),
        "the earlier first sighting is kept"
    );
    assert_eq!(store.get_by_key(&by_id.dedup_key).expect("get"), None);
    assert_eq!(
        stored.entry.related,
        vec![other],
        "no related link to itself or to the duplicate merged into it"
    );
}

/// The schema version a brand-new database gets: the number of migrations this build has.
fn latest_schema_version() -> i64 {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("fresh.db")).expect("open fresh");
    let v = store.schema_version().expect("version");
    assert!(
        v >= 2,
        "at least the initial and polite-fetching migrations"
    );
    v
}

#[test]
fn a_post_in_two_sources_is_listed_by_both() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = open(&db_in(&dir));
    let mut e = entry("https://example.org/shared/", "Shared", t(0));
    e.source = "intl".into();
    assert_eq!(store.upsert_entry(&e, t(1)).expect("upsert"), Upsert::New);
    e.source = "business".into();
    assert_eq!(
        store.upsert_entry(&e, t(2)).expect("upsert"),
        Upsert::Unchanged
    );
    e.title = "Shared, edited".into();
    assert_eq!(
        store.upsert_entry(&e, t(3)).expect("upsert"),
        Upsert::Updated
    );
    for source in ["intl", "business"] {
        let got = store
            .entries(&[source.to_string()], &[], 10)
            .expect("entries");
        assert_eq!(got.len(), 1, "{source}");
        assert_eq!(got[0].title, "Shared, edited");
        assert_eq!(store.entry_count(source).expect("count"), 1);
    }
    let both = store
        .entries(&["intl".to_string(), "business".to_string()], &[], 10)
        .expect("entries");
    assert_eq!(both.len(), 1, "listed once in a feed of both sources");
}

#[test]
fn a_batch_is_stored_whole_at_its_commit_and_readers_never_see_half_of_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = db_in(&dir);
    let mut store = open(&path);
    let reader = Store::open_read_only(&path).expect("reader opens beside the writer");
    let outcomes = store
        .batch(|s| {
            let a = s
                .upsert_entry(&entry("https://example.org/a/", "A", t(0)), t(10))
                .expect("upsert a");
            // A twin of `a` inside the same batch matches it (and updates its URL).
            let twin = s
                .upsert_entry(&entry("http://www.example.org/a/", "A", t(0)), t(10))
                .expect("upsert twin");
            let b = s
                .upsert_entry(&entry("https://example.org/b/", "B", t(1)), t(10))
                .expect("upsert b");
            // Not committed yet: another connection sees nothing of the batch.
            assert_eq!(reader.entry_count("blog").expect("count"), 0);
            (a, twin, b)
        })
        .expect("batch commits");
    assert_eq!(outcomes, (Upsert::New, Upsert::Updated, Upsert::New));
    assert_eq!(reader.entry_count("blog").expect("count"), 2);
}

#[test]
fn a_batch_cut_short_by_a_crash_leaves_the_store_as_it_was() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = db_in(&dir);
    let mut store = open(&path);
    store
        .upsert_entry(&entry("https://example.org/kept/", "Kept", t(0)), t(10))
        .expect("stored before the batch");
    // The process dies in the middle of a batch: the connection goes without a commit.
    let crashed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        store.batch(|s| {
            s.upsert_entry(&entry("https://example.org/lost/", "Lost", t(1)), t(10))
                .expect("upsert");
            s.upsert_entry(&entry("https://example.org/kept/", "Edited", t(0)), t(10))
                .expect("upsert");
            panic!("killed mid-batch");
        })
    }));
    assert!(crashed.is_err());
    drop(store);
    let store = open(&path);
    let stored = store
        .entries(&["blog".to_owned()], &[], 10)
        .expect("entries");
    assert_eq!(ids(&stored), vec!["https://example.org/kept/"]);
    assert_eq!(stored[0].title, "Kept");
}

/// An entry whose related links cannot be read (valid JSON, wrong shape) does not stop another
/// entry's title edit from being stored; the readable links to it still follow the edit.
#[test]
fn an_unreadable_related_column_does_not_block_edits() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = db_in(&dir);
    let target = entry("https://example.org/target/", "Target", t(0));
    let link = Link {
        url: target.url.clone(),
        title: target.title.clone(),
    };
    let mut good = entry("https://example.org/good/", "Good", t(1));
    good.related = vec![link.clone()];
    let mut bad = entry("https://example.org/bad/", "Bad", t(2));
    bad.related = vec![link];
    {
        let mut store = open(&path);
        for e in [&target, &good, &bad] {
            store.upsert_entry(e, t(10)).expect("upsert");
        }
    }
    rusqlite::Connection::open(&path)
        .expect("raw open")
        .execute(
            "UPDATE entries SET related = '{\"not\": \"a list\"}' WHERE url = ?1",
            [&bad.url],
        )
        .expect("corrupt");
    let mut store = open(&path);
    let mut edited = target.clone();
    edited.title = "Target, renamed".into();
    assert_eq!(
        store
            .upsert_entry(&edited, t(20))
            .expect("the edit is stored"),
        Upsert::Updated
    );
    let good = store
        .get_by_key(&good.dedup_key)
        .expect("get")
        .expect("stored");
    assert_eq!(good.related[0].title, "Target, renamed");
}

/// `recheck_days` / `recheck_hours` as large as the config accepts (u32::MAX, meant as "always")
/// reach back past chrono's first date: the window is the whole past, not a panic.
#[test]
fn a_recheck_window_past_the_first_date_is_the_whole_past() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = open(&db_in(&dir));
    store
        .upsert_entry(&entry("https://example.org/a/", "A", t(0)), t(10))
        .expect("upsert");
    let due = store
        .recheck_candidates("blog", t(100_000), u32::MAX, u32::MAX)
        .expect("candidates");
    assert!(
        due.is_empty(),
        "not re-checked within u32::MAX hours: {due:?}"
    );
    let due = store
        .recheck_candidates("blog", t(100_000), u32::MAX, 0)
        .expect("candidates");
    assert_eq!(due, ["https://example.org/a/"]);
}

/// A post seen while the clock ran ahead (then set right) has a `last_seen` in the future: it
/// is due for its re-check now, not once real time reaches that date.
#[test]
fn a_post_seen_by_a_clock_running_ahead_is_due_now() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = open(&db_in(&dir));
    store
        .upsert_entry(&entry("https://example.org/a/", "A", t(0)), t(1_000_000))
        .expect("upsert");
    let due = store
        .recheck_candidates("blog", t(100_000), 365, 24)
        .expect("candidates");
    assert_eq!(due, ["https://example.org/a/"]);
}

/// A source's run history stays bounded however long feedwright runs: old runs are folded into
/// totals, and what `/metrics` reads (totals, duration histograms) is what it would be with
/// every run kept. `status` and the health rules still find the last run and the last healthy
/// one, however old that is.
#[test]
fn old_runs_are_folded_into_totals_that_never_go_down() {
    use feedwright::store::RunHealth;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("fw.db");
    let mut store = Store::open(&path).expect("open");
    let t0 = Utc.timestamp_opt(1_700_000_000, 0).unwrap();
    let bounds = [100u64, 500, 1_000, 5_000, 600_000];
    let (mut runs, mut requests, mut bytes, mut new, mut failures) = (0u64, 0u64, 0u64, 0u64, 0u64);
    let (mut measured, mut sum_ms) = (0u64, 0u64);
    let mut cumulative = vec![0u64; bounds.len()];
    for i in 0..1_250u64 {
        // Run 3 is the only healthy one that extracted posts: the health rules' reference.
        let h = RunHealth {
            requests: (i % 7) as u32,
            bytes: i * 1_000,
            new: (i % 3) as u32,
            failures: u32::from(i % 11 == 0),
            extracted: u32::from(i == 3),
            state: if i == 3 { "healthy" } else { "failing" }.into(),
            ..RunHealth::default()
        };
        store
            .record_run_health("a", t0 + Duration::seconds(i as i64 * 300), &h)
            .expect("record");
        // Every other run is measured, from 1 ms to several seconds.
        if i % 2 == 0 {
            let ms = 1 + (i * 37) % 7_000;
            store
                .set_last_run_duration("a", std::time::Duration::from_millis(ms))
                .expect("duration");
            measured += 1;
            sum_ms += ms;
            for (c, b) in cumulative.iter_mut().zip(bounds) {
                *c += u64::from(ms <= b);
            }
        }
        // As the pipeline does once a run is recorded.
        store.fold_old_runs("a").expect("fold");
        runs += 1;
        requests += i % 7;
        bytes += i * 1_000;
        new += i % 3;
        failures += u64::from(i % 11 == 0);
    }
    // Another source, never folded, is reported beside it.
    let b = RunHealth {
        requests: 4,
        state: "healthy".into(),
        ..RunHealth::default()
    };
    store.record_run_health("b", t0, &b).expect("record b");
    drop(store);

    let conn = rusqlite::Connection::open(&path).expect("sqlite");
    let kept: i64 = conn
        .query_row(
            "SELECT count(*) FROM source_runs WHERE source = 'a'",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert!((500..600).contains(&kept), "{kept} rows kept");
    drop(conn);

    let store = Store::open_read_only(&path).expect("read only");
    let totals = store.run_totals().expect("totals");
    assert_eq!(totals.len(), 2, "{totals:?}");
    let a = &totals[0];
    assert_eq!(
        (
            a.source.as_str(),
            a.runs,
            a.requests,
            a.bytes,
            a.new,
            a.failures
        ),
        ("a", runs, requests, bytes, new, failures)
    );
    assert_eq!(
        (
            totals[1].source.as_str(),
            totals[1].runs,
            totals[1].requests
        ),
        ("b", 1, 4)
    );
    let hist = store.run_duration_histograms(&bounds).expect("histograms");
    assert_eq!(hist.len(), 1, "{hist:?}");
    assert_eq!(
        (hist[0].count, hist[0].sum_ms, &hist[0].cumulative),
        (measured, sum_ms, &cumulative)
    );
    drop(store);

    let store = Store::open(&path).expect("open");
    let healthy = store.last_healthy_run("a").expect("q").expect("kept");
    assert_eq!(healthy.extracted, 1);
    let last = store.last_run("a").expect("q").expect("last");
    assert_eq!(last.bytes, 1_249 * 1_000);
}

/// Enclosures are stored and read back; an edit read from a page (which gives none) keeps
/// them without counting as an edit; a feed item changing or withdrawing them is an edit that
/// replaces them; an entry without any hashes as it did before they were stored.
#[test]
fn enclosures_are_kept_across_page_reads_and_follow_the_feed() {
    use feedwright::model::Enclosure;
    use std::collections::HashSet;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = open(&db_in(&dir));
    let live: HashSet<String> = ["blog".to_owned()].into();
    let audio = |name: &str| Enclosure {
        url: format!("https://cdn.example.org/{name}.mp3"),
        media_type: Some("audio/mpeg".into()),
        length: Some(1000),
        title: Some("Episode".into()),
        duration_secs: Some(60),
    };
    let read = |store: &Store| {
        store
            .get_by_key("example.org/ep/")
            .expect("get")
            .expect("stored")
            .enclosures
    };
    let mut item = entry("https://example.org/ep/", "Episode", t(0));
    item.enclosures = vec![audio("ep")];
    assert_eq!(
        store
            .upsert_item(&item, t(10), &live, false)
            .expect("upsert"),
        Upsert::New
    );
    assert_eq!(read(&store), [audio("ep")]);
    assert_eq!(
        store
            .upsert_item(&item, t(20), &live, false)
            .expect("upsert"),
        Upsert::Unchanged
    );

    // The post's page, the same text without enclosures: nothing changed, and they stay.
    let page = Entry {
        enclosures: Vec::new(),
        ..item.clone()
    };
    assert_eq!(
        store.upsert_entry(&page, t(30)).expect("upsert"),
        Upsert::Unchanged
    );
    assert_eq!(read(&store), [audio("ep")]);
    // An edit of the page keeps them too.
    let edited = Entry {
        title: "Episode, revised".into(),
        ..page.clone()
    };
    assert_eq!(
        store.upsert_entry(&edited, t(40)).expect("upsert"),
        Upsert::Updated
    );
    assert_eq!(read(&store), [audio("ep")]);
    // What the feeds are given has them.
    let listed = store
        .entries(&["blog".to_owned()], &[], 10)
        .expect("entries");
    assert_eq!(listed[0].enclosures, [audio("ep")]);

    // The feed item replaces its file: an edit.
    let mut item = Entry {
        title: "Episode, revised".into(),
        ..item
    };
    item.enclosures = vec![audio("ep-fixed")];
    assert_eq!(
        store
            .upsert_item(&item, t(50), &live, false)
            .expect("upsert"),
        Upsert::Updated
    );
    assert_eq!(read(&store), [audio("ep-fixed")]);
    // … and withdraws it.
    item.enclosures.clear();
    assert_eq!(
        store
            .upsert_item(&item, t(60), &live, false)
            .expect("upsert"),
        Upsert::Updated
    );
    assert!(read(&store).is_empty());
    // Without enclosures the entry hashes as before: the same item again is no edit.
    assert_eq!(
        store
            .upsert_item(&item, t(70), &live, false)
            .expect("upsert"),
        Upsert::Unchanged
    );
}

/// A source's site moved: its posts on the old site take the new address with their ids, their
/// old address stays known, links to them from other posts follow, its pending posts are asked
/// for at the new address; posts it does not hold, and posts on another site, stay as they are.
#[test]
fn a_moved_site_moves_the_sources_posts_and_keeps_their_ids() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = open(&db_in(&dir));
    // A post whose id is its WordPress number, not its URL: a link to its old URL finds it only
    // if the link follows it.
    let mut a = entry("http://old.test/a/", "A", t(0));
    a.id = EntryId("http://old.test/?p=1".into());
    let mut b = entry("http://old.test/b/", "B", t(10));
    b.related = vec![Link {
        url: "http://old.test/a/".into(),
        title: "A".into(),
    }];
    let elsewhere = entry("http://else.test/c/", "C", t(20));
    let mut theirs = entry("http://old.test/d/", "D", t(30));
    theirs.source = "other".into();
    for e in [&a, &b, &elsewhere, &theirs] {
        store.upsert_entry(e, t(100)).expect("upsert");
    }
    store
        .add_pending("blog", "http://old.test/e/", "HTTP status 500", t(100))
        .expect("pending");
    let moved = |url: &str| {
        url.strip_prefix("http://old.test/")
            .map(|path| format!("https://new.test/{path}"))
    };
    assert_eq!(store.move_site("blog", &moved).expect("move"), 2);
    let a_now = store
        .get_by_key("new.test/a/")
        .expect("read")
        .expect("moved");
    assert_eq!(a_now.id, a.id);
    assert_eq!(a_now.url, "https://new.test/a/");
    assert_eq!(a_now.updated, a.updated, "a new address is no edit");
    assert!(store.known_keys().expect("keys").contains("old.test/a/"));
    let b_now = store
        .get_by_key("new.test/b/")
        .expect("read")
        .expect("moved");
    assert_eq!(
        b_now.related,
        vec![Link {
            url: "https://new.test/a/".into(),
            title: "A".into(),
        }]
    );
    assert_eq!(
        store
            .get_by_key("else.test/c/")
            .expect("read")
            .map(|e| e.url),
        Some(elsewhere.url)
    );
    assert_eq!(
        store
            .get_by_key("old.test/d/")
            .expect("read")
            .map(|e| e.url),
        Some(theirs.url)
    );
    assert_eq!(
        store.pending("blog").expect("pending"),
        ["https://new.test/e/"]
    );
    // Re-read at the new address, unchanged: not an edit.
    let again = Entry {
        url: "https://new.test/a/".into(),
        dedup_key: "new.test/a/".into(),
        id: EntryId("https://new.test/?p=1".into()),
        ..a.clone()
    };
    assert_eq!(
        store.upsert_entry(&again, t(200)).expect("upsert"),
        Upsert::Unchanged
    );
}
