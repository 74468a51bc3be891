//! REST API reads that fail in part: a post that cannot be read is retried by id on later runs
//! until it succeeds, a page larger than `http.max_body_bytes` is read as smaller pages, and a
//! `Retry-After` date is waited for in full. Against a fixture site served over loopback HTTP.

mod common;

use std::time::{Duration, Instant, SystemTime};

use chrono::Utc;
use common::{Post, Resp, Site, atom_ids, json_resp, json_with_pages};
use feedwright::config::HttpConfig;
use feedwright::source::http::{Fetcher, retry_after};
use feedwright::source::site::Site as OwnSite;
use feedwright::source::wordpress;
use serde_json::{Value, json};
use url::Url;

const LISTING: &str = "/category/daily/international-negotiation-daily/";
const CAT_LOOKUP: &str = "/wp-json/wp/v2/categories?slug=international-negotiation-daily";

/// The query a cold read sends for `page` of category 4, `per_page` posts a page.
fn cold_path(page: u32, per_page: usize) -> String {
    format!(
        "/wp-json/wp/v2/posts?categories=4&per_page={per_page}&page={page}&_embed=1&orderby=modified&order=desc"
    )
}

/// The query a backfill sends for `page` of category 4, `per_page` posts a page.
fn backfill_path(page: u32, per_page: usize) -> String {
    format!(
        "/wp-json/wp/v2/posts?categories=4&per_page={per_page}&page={page}&_embed=1&orderby=date&order=desc"
    )
}

/// The query asking for posts of category 4 again by id.
fn include_path(ids: &[u64]) -> String {
    let ids: Vec<String> = ids.iter().map(u64::to_string).collect();
    format!(
        "/wp-json/wp/v2/posts?categories=4&include={}&per_page=100&_embed=1",
        ids.join("%2C")
    )
}

fn post(id: u64) -> Post {
    let mut p = Post::new(
        id,
        &format!("post-{id}"),
        &format!("Talks {id}"),
        "2024-04-26T09:30:00+00:00",
    );
    p.modified = Some("2024-04-27T11:00:00+00:00".into());
    p
}

/// A `wp/v2/posts` item for `p` as WordPress renders it, with `_embedded`.
fn api_post(base: &str, p: &Post) -> Value {
    let gmt = |d: &str| d[..19].to_string();
    json!({
        "id": p.id,
        "date_gmt": gmt(&p.date),
        "modified_gmt": gmt(p.modified.as_deref().unwrap_or(&p.date)),
        "slug": p.slug,
        "status": "publish",
        "link": format!("{base}{}", p.path()),
        "title": {"rendered": p.title},
        "content": {"rendered": p.body, "protected": false},
        "excerpt": {"rendered": format!("<p>Excerpt of {}</p>", p.title)},
        "author": 7,
        "categories": [4],
        "tags": [],
        "_embedded": {
            "author": [{"id": 7, "name": p.author}],
            "wp:term": [[{"id": 4, "name": "International Negotiation", "taxonomy": "category"}], []],
        },
    })
}

/// The category listing page, advertising the API, linking `slugs`.
fn listing_page(base: &str, slugs: &[&str]) -> Resp {
    let links: Vec<(String, String)> = slugs
        .iter()
        .map(|t| (format!("{base}/{t}/"), t.to_string()))
        .collect();
    Resp::Html(common::listing(base, &links, None).replace(
        "</head>",
        &format!(r#"<link rel="https://api.w.org/" href="{base}/wp-json/" /></head>"#),
    ))
}

/// A REST API site with its listing page and category look-up, and a folder with a config
/// reading it as a `wordpress` source (`extra_http` lines in `[http]`, `extra_source` in the
/// source's table).
fn wordpress_site(
    extra_http: &str,
    extra_source: &str,
) -> (Site, String, tempfile::TempDir, std::path::PathBuf) {
    let site = Site::start();
    let base = site.base();
    site.set(
        CAT_LOOKUP,
        json_resp(&json!([{"id": 4, "slug": "international-negotiation-daily"}])),
    );
    site.set(LISTING, listing_page(&base, &["post-1", "post-2"]));
    // Incremental reads: nothing modified, nothing newer by date, unless a test says more.
    site.set("/wp-json/wp/v2/posts", json_resp(&json!([])));
    let dir = tempfile::tempdir().expect("tempdir");
    let config = common::write_config(
        dir.path(),
        &common::site_config(
            &site.url(LISTING),
            extra_http,
            &format!("kind = \"wordpress\"\n{extra_source}"),
        ),
    );
    (site, base, dir, config)
}

fn pending(dir: &std::path::Path) -> Vec<(String, u32)> {
    feedwright::store::Store::open_read_only(&dir.join("feedwright.db"))
        .and_then(|s| s.pending_details("site"))
        .expect("pending posts")
        .into_iter()
        .map(|p| (p.url, p.attempts))
        .collect()
}

fn sorted_ids(dir: &std::path::Path) -> Vec<String> {
    let mut ids = atom_ids(dir);
    ids.sort();
    ids
}

/// The audit's case: a post whose body is refused (nested too deep) fails; it stays pending
/// under its shortlink, and every later run asks the API for it by id, even when the listing
/// has not changed, until it is read; then nothing is pending and the listing may answer 304.
#[test]
fn a_rest_post_that_fails_is_asked_for_again_by_id_until_it_is_read() {
    let (site, base, dir, config) = wordpress_site("", "");
    let mut bad = post(10010);
    let good_body = bad.body.clone();
    bad.body = format!("{}deep{}", "<div>".repeat(600), "</div>".repeat(600));
    let items = vec![
        api_post(&base, &bad),
        api_post(&base, &post(1)),
        api_post(&base, &post(2)),
    ];
    site.set(&cold_path(1, 100), json_resp(&json!(items)));
    let (code, _, err) = common::feedwright(&config, &["run"]);
    assert_eq!(code, 1, "{err}");
    let link = format!("{base}{}", bad.path());
    assert!(
        err.contains(&format!("failed {link}: ")) && err.contains("nested"),
        "the failure names the post's link: {err}"
    );
    assert!(err.contains("2 new"), "{err}");
    let shortlink = format!("{base}/?p=10010");
    assert_eq!(pending(dir.path()), [(shortlink.clone(), 1)]);

    // The listing has not changed (it would answer 304): the post is asked for by id all the
    // same, and fails again.
    site.set(&include_path(&[10010]), json_resp(&json!([items[0]])));
    let before = site.hits().len();
    let (code, _, err) = common::feedwright(&config, &["run"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains(&format!("failed {link}: ")), "{err}");
    let hits = site.hits()[before..].to_vec();
    assert!(
        hits.iter()
            .any(|h| h.path == include_path(&[10010]) && h.status == 200),
        "{hits:?}"
    );
    assert!(
        !hits.iter().any(|h| h.path == bad.path()),
        "not read as a page: {hits:?}"
    );
    assert_eq!(pending(dir.path()), [(shortlink.clone(), 2)]);

    // The post can be read now (its modification date unchanged): stored, nothing pending.
    bad.body = good_body;
    site.set(
        &include_path(&[10010]),
        json_resp(&json!([api_post(&base, &bad)])),
    );
    let (code, _, err) = common::feedwright(&config, &["run"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("1 new"), "{err}");
    assert!(pending(dir.path()).is_empty());
    assert_eq!(
        sorted_ids(dir.path()),
        [
            format!("{base}/?p=1"),
            shortlink.clone(),
            format!("{base}/?p=2")
        ]
    );

    // Nothing pending: the listing is asked for conditionally (304), the post not again.
    let before = site.hits().len();
    let (code, _, err) = common::feedwright(&config, &["run"]);
    assert_eq!(code, 0, "{err}");
    let hits = site.hits()[before..].to_vec();
    assert!(
        hits.iter()
            .any(|h| h.path == LISTING && h.conditional && h.status == 304),
        "{hits:?}"
    );
    assert!(
        !hits.iter().any(|h| h.path.contains("include=")),
        "{hits:?}"
    );
}

/// `"title": null` (or any other field given as null) is a missing field, not a post that
/// cannot be read; a post that cannot be read is named by its link, and is kept to be asked for
/// again by id.
#[test]
fn a_null_field_is_a_missing_one_and_an_unreadable_post_is_named_by_its_link() {
    let site = Site::start();
    let base = site.base();
    site.set(
        CAT_LOOKUP,
        json_resp(&json!([{"id": 4, "slug": "international-negotiation-daily"}])),
    );
    let mut nulls = api_post(&base, &post(1));
    nulls["title"] = Value::Null;
    nulls["excerpt"] = Value::Null;
    nulls["tags"] = Value::Null;
    nulls["_embedded"] = json!({"author": "not a list"});
    let mut odd = api_post(&base, &post(2));
    odd["categories"] = json!("four");
    let items = vec![nulls, odd, api_post(&base, &post(3))];
    site.set(&cold_path(1, 100), json_resp(&json!(items)));
    site.set(
        "/wp-json/wp/v2/users/7",
        json_resp(&json!({"id": 7, "name": "Miriam Brenner"})),
    );
    let listing = Url::parse(&site.url(LISTING)).unwrap();
    let fetcher = Fetcher::new(&HttpConfig {
        min_interval_ms: 0,
        timeout_secs: 5,
        max_retries: 0,
        respect_robots: false,
        ..HttpConfig::default()
    })
    .expect("client");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let root = Url::parse(&site.url("/wp-json/")).unwrap();
    let own = OwnSite::at(&listing).expect("site");
    let got = rt
        .block_on(wordpress::read(&fetcher, &root, &listing, &own, None, None))
        .expect("read");
    let read: Vec<Option<u64>> = got.posts.iter().map(|(_, p)| p.wp_post_id).collect();
    assert_eq!(read, [Some(1), Some(3)], "{:?}", got.failures);
    let first = &got.posts[0].1;
    assert_eq!(first.title, None);
    assert_eq!(first.summary, None);
    assert_eq!(first.authors, ["Miriam Brenner"], "looked up instead");
    let link2 = format!("{base}{}", post(2).path());
    assert_eq!(got.failures.len(), 1, "{:?}", got.failures);
    assert_eq!(got.failures[0].0, link2);
    assert!(
        got.failures[0].1.contains("unexpected post JSON"),
        "{:?}",
        got.failures
    );
    assert_eq!(got.failed_posts.len(), 1);
    assert_eq!(got.failed_posts[0].id, 2);
    assert_eq!(got.failed_posts[0].link.as_str(), link2);

    // A run keeps it pending and reads it by id once it has the expected shape.
    site.set(
        LISTING,
        listing_page(&base, &["post-1", "post-2", "post-3"]),
    );
    site.set("/wp-json/wp/v2/posts", json_resp(&json!([])));
    let dir = tempfile::tempdir().expect("tempdir");
    let config = common::write_config(
        dir.path(),
        &common::site_config(&site.url(LISTING), "", "kind = \"wordpress\""),
    );
    let (code, _, err) = common::feedwright(&config, &["run"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("2 new"), "{err}");
    assert!(
        err.contains(&format!("failed {link2}: unexpected post JSON")),
        "{err}"
    );
    assert_eq!(pending(dir.path()), [(format!("{base}/?p=2"), 1)]);
    site.set(
        &include_path(&[2]),
        json_resp(&json!([api_post(&base, &post(2))])),
    );
    let (code, _, err) = common::feedwright(&config, &["run"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("1 new"), "{err}");
    assert!(pending(dir.path()).is_empty());
    assert_eq!(atom_ids(dir.path()).len(), 3);
}

/// A pending post the API no longer gives in the category (deleted, unpublished, moved) is no
/// longer asked for: reported as skipped once, not a failure.
#[test]
fn a_pending_rest_post_the_api_no_longer_gives_is_dropped() {
    let (site, base, dir, config) = wordpress_site("", "");
    let mut odd = api_post(&base, &post(10010));
    odd["tags"] = json!({"not": "a list"});
    let items = vec![odd, api_post(&base, &post(1)), api_post(&base, &post(2))];
    site.set(&cold_path(1, 100), json_resp(&json!(items)));
    let (code, _, err) = common::feedwright(&config, &["run"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(pending(dir.path()).len(), 1);

    // An answer holding an item that cannot be read at all (no id to tell which it is) drops
    // nothing: the post may be that item.
    site.set(
        &include_path(&[10010]),
        json_resp(&json!([{"id": "not a number", "link": 7}])),
    );
    let (code, _, err) = common::feedwright(&config, &["run"]);
    assert_eq!(code, 1, "{err}");
    assert!(!err.contains("skipped"), "{err}");
    assert_eq!(pending(dir.path()).len(), 1, "{err}");

    site.set(&include_path(&[10010]), json_resp(&json!([])));
    let (code, _, err) = common::feedwright(&config, &["run"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains(&format!("skipped {base}/?p=10010: post 10010")),
        "{err}"
    );
    assert!(pending(dir.path()).is_empty());
    let before = site.hits().len();
    let (code, _, err) = common::feedwright(&config, &["run"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        !site.hits()[before..]
            .iter()
            .any(|h| h.path.contains("include=")),
        "{:?}",
        site.hits()
    );
}

/// Posts pending after failures whose answer, asked for again together, is larger than
/// `http.max_body_bytes`: asked for again in smaller parts, down to one post a request, so
/// those that fit are read; one too large alone stays pending, named as such.
#[test]
fn pending_rest_posts_too_large_together_are_asked_for_in_smaller_parts() {
    let (site, base, dir, config) = wordpress_site("max_body_bytes = 40000", "");
    let nested = format!("{}deep{}", "<div>".repeat(600), "</div>".repeat(600));
    let mut failing: Vec<Post> = [10010, 10011, 10012].into_iter().map(post).collect();
    for p in &mut failing {
        p.body = nested.clone();
    }
    let mut items: Vec<Value> = failing.iter().map(|p| api_post(&base, p)).collect();
    items.push(api_post(&base, &post(1)));
    site.set(&cold_path(1, 100), json_resp(&json!(items)));
    let (code, _, err) = common::feedwright(&config, &["run"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(pending(dir.path()).len(), 3, "{err}");

    // Readable now, but 15 KB each, and the third 50 KB: together over the 40,000-byte limit.
    let [a, b, c] = &mut failing[..] else {
        unreachable!()
    };
    for (p, bytes) in [(&mut *a, 15_000), (&mut *b, 15_000), (&mut *c, 50_000)] {
        p.body = format!(
            "<p>{}</p>",
            "Water and trade talks went on. ".repeat(bytes / 31)
        );
    }
    let readable: Vec<Value> = failing.iter().map(|p| api_post(&base, p)).collect();
    site.set(
        &include_path(&[10010, 10011, 10012]),
        json_resp(&json!(readable)),
    );
    for (i, id) in [10010, 10011, 10012].into_iter().enumerate() {
        site.set(&include_path(&[id]), json_resp(&json!([readable[i]])));
    }
    let (code, _, err) = common::feedwright(&config, &["run"]);
    assert_eq!(code, 1, "the third still fails: {err}");
    assert!(err.contains("2 new"), "{err}");
    assert!(
        err.contains("this post alone is larger than the 40000-byte limit (http.max_body_bytes)"),
        "{err}"
    );
    let asked = site.requests();
    for id in [10010, 10011, 10012] {
        assert!(asked.contains(&include_path(&[id])), "{asked:?}");
    }
    assert_eq!(pending(dir.path()), [(format!("{base}/?p=10012"), 2)]);
    let ids = sorted_ids(dir.path());
    for id in [10010, 10011] {
        assert!(ids.contains(&format!("{base}/?p={id}")), "{ids:?}");
    }
}

/// `n` posts with bodies of about `body_bytes` each, newest first (ids 1..=n).
fn long_posts(n: u64, body_bytes: usize) -> Vec<Post> {
    (1..=n)
        .map(|id| {
            let mut p = post(id);
            p.body = format!(
                "<p>{}</p>",
                "Delegations met to talk about trade and water. ".repeat(body_bytes / 48)
            );
            p
        })
        .collect()
}

/// Serve `items` as pages of `per_page` under `path(page, per_page)`, with `X-WP-TotalPages`.
fn serve_pages(site: &Site, items: &[Value], per_page: usize, path: impl Fn(u32, usize) -> String) {
    let total = items.len().div_ceil(per_page) as u32;
    for (i, chunk) in items.chunks(per_page).enumerate() {
        site.set(
            &path(i as u32 + 1, per_page),
            json_with_pages(&json!(chunk), Some(total)),
        );
    }
}

/// A page of 100 long posts is larger than `http.max_body_bytes`: the same posts are read as
/// pages of 20, within `max_pages` pages of 100; the backfill counts its pages of 100 the same
/// way and stores the rest.
#[test]
fn a_page_over_max_body_bytes_is_read_as_smaller_pages() {
    let (site, base, dir, config) = wordpress_site("max_body_bytes = 300000", "max_pages = 1");
    let posts = long_posts(130, 4_000);
    let items: Vec<Value> = posts.iter().map(|p| api_post(&base, p)).collect();
    let page_of_100 = serde_json::to_vec(&json!(items[..100])).unwrap().len();
    let page_of_20 = serde_json::to_vec(&json!(items[..20])).unwrap().len();
    assert!(
        page_of_100 > 300_000 && page_of_20 < 300_000,
        "{page_of_100} {page_of_20}"
    );
    for size in [100, 20] {
        serve_pages(&site, &items, size, cold_path);
        serve_pages(&site, &items, size, backfill_path);
    }
    let (code, _, err) = common::feedwright(&config, &["run"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("100 new"), "{err}");
    assert!(err.contains("http.max_body_bytes"), "{err}");
    let asked = site.requests();
    for page in 1..=5 {
        assert!(asked.contains(&cold_path(page, 20)), "{asked:?}");
    }
    assert!(
        !asked.contains(&cold_path(6, 20)),
        "max_pages = 1 page of 100: {asked:?}"
    );

    let (code, _, err) = common::feedwright(&config, &["backfill"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("30 new"), "{err}");
    assert_eq!(atom_ids(dir.path()).len(), 130);
    let asked = site.requests();
    assert!(asked.contains(&backfill_path(7, 20)), "{asked:?}");
}

/// Even a page of 5 posts is larger than `http.max_body_bytes`: the REST API cannot be read,
/// so a first read walks the HTML listing (the posts' own pages are small enough), saying why.
#[test]
fn pages_too_large_even_at_five_posts_fall_back_to_the_html_listing() {
    let (site, base, dir, config) = wordpress_site("max_body_bytes = 200000", "");
    let posts = long_posts(12, 50_000);
    let items: Vec<Value> = posts.iter().map(|p| api_post(&base, p)).collect();
    for size in [100, 20, 5] {
        serve_pages(&site, &items, size, cold_path);
    }
    let links: Vec<(String, String)> = posts
        .iter()
        .map(|p| (format!("{base}{}", p.path()), p.title.clone()))
        .collect();
    site.set(
        LISTING,
        Resp::Html(common::listing(&base, &links, None).replace(
            "</head>",
            &format!(r#"<link rel="https://api.w.org/" href="{base}/wp-json/" /></head>"#),
        )),
    );
    for p in &posts {
        site.set(&p.path(), Resp::Html(common::classic_post(&base, p)));
    }
    let (code, _, err) = common::feedwright(&config, &["run"]);
    assert!(err.contains("12 new"), "{err}");
    assert!(
        err.contains(
            "even a page of 5 posts is larger than the 200000-byte limit (http.max_body_bytes)"
        ),
        "{err}"
    );
    assert!(err.contains("walking the HTML listing"), "{err}");
    assert_eq!(code, 0, "{err}");
    assert_eq!(atom_ids(dir.path()).len(), 12);
}

/// An HTTP-date `Retry-After` less than a second away (the date has whole seconds, the clock
/// more) is a wait of one second, not none.
#[test]
fn a_retry_after_date_is_rounded_up_to_the_second() {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::RETRY_AFTER,
        "Mon, 01 Jan 2024 00:01:30 GMT".parse().unwrap(),
    );
    let at = |s: &str| {
        chrono::DateTime::parse_from_rfc3339(s)
            .unwrap()
            .with_timezone(&Utc)
    };
    assert_eq!(
        retry_after(&headers, at("2024-01-01T00:01:29.400Z")),
        Some(1)
    );
    assert_eq!(
        retry_after(&headers, at("2024-01-01T00:01:28.001Z")),
        Some(2)
    );
    assert_eq!(retry_after(&headers, at("2024-01-01T00:01:29Z")), Some(1));
    assert_eq!(retry_after(&headers, at("2024-01-01T00:01:30Z")), Some(0));
    assert_eq!(
        retry_after(&headers, at("2024-01-01T00:01:30.500Z")),
        Some(0)
    );
}

/// The same through a real request: the retry comes no sooner than the date the server gave.
#[test]
fn a_request_is_retried_no_sooner_than_a_retry_after_date() {
    let site = Site::start();
    // A date 1.7 s to 2 s away, so that truncating would retry after one second, too early.
    while SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .subsec_millis()
        > 300
    {
        std::thread::sleep(Duration::from_millis(10));
    }
    let (wall, mono) = (Utc::now(), Instant::now());
    let due = chrono::DateTime::from_timestamp(wall.timestamp() + 2, 0).unwrap();
    let due_at = mono + (due - wall).to_std().unwrap();
    site.set(
        "/busy/",
        Resp::Limited {
            times: 1,
            status: 503,
            retry_after: due.format("%a, %d %b %Y %H:%M:%S GMT").to_string(),
            then: Box::new(Resp::Html("<html><body>ok</body></html>".into())),
        },
    );
    let fetcher = Fetcher::new(&HttpConfig {
        min_interval_ms: 0,
        timeout_secs: 5,
        max_retries: 1,
        respect_robots: false,
        ..HttpConfig::default()
    })
    .expect("client")
    .with_retry_min_delay(Duration::from_millis(1));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let url = Url::parse(&site.url("/busy/")).unwrap();
    rt.block_on(fetcher.get(&url))
        .expect("answered after the wait");
    let hits = site.hits();
    assert_eq!(hits.len(), 2, "{hits:?}");
    assert!(
        hits[1].at >= due_at,
        "retried {:?} before the Retry-After date",
        due_at.duration_since(hits[1].at)
    );
}
