//! The WordPress REST API source against a fake API served over loopback HTTP.

mod common;

use chrono::{TimeZone, Utc};
use common::{Post, Resp, Site, atom_ids, json_resp, json_with_pages};
use feedwright::config::{HttpConfig, Selectors};
use feedwright::extract::extract_post;
use feedwright::model::{DateSource, RawDate};
use feedwright::normalize::normalize;
use feedwright::source::http::{FetchError, Fetcher};
use feedwright::source::site::Site as OwnSite;
use feedwright::source::wordpress::{self, Incremental, WpError, WpResult};
use serde_json::{Value, json};
use url::Url;

const LISTING: &str = "/category/daily/international-negotiation-daily/";
const CAT_LOOKUP: &str = "/wp-json/wp/v2/categories?slug=international-negotiation-daily";

/// A fast client without retries; robots.txt is obeyed only when `robots`.
fn fetcher_with(robots: bool) -> Fetcher {
    Fetcher::new(&HttpConfig {
        min_interval_ms: 0,
        timeout_secs: 5,
        max_retries: 0,
        respect_robots: robots,
        ..HttpConfig::default()
    })
    .expect("client")
}

fn fetcher() -> Fetcher {
    fetcher_with(false)
}

fn url(s: &str) -> Url {
    Url::parse(s).expect("test URL")
}

/// The posts endpoint query the modification pass must send for `page` of category 4: a cold
/// read newest modification first, an incremental one (`after`) oldest first.
fn posts_path(page: u32, after: Option<&str>) -> String {
    let order = if after.is_some() { "asc" } else { "desc" };
    let mut p = format!(
        "/wp-json/wp/v2/posts?categories=4&per_page=100&page={page}&_embed=1&orderby=modified&order={order}"
    );
    if let Some(a) = after {
        p.push_str("&modified_after=");
        p.push_str(a);
    }
    p
}

/// The posts endpoint query the publication-date pass must send for `page` of category 4.
fn dated_path(page: u32) -> String {
    format!(
        "/wp-json/wp/v2/posts?categories=4&per_page=10&page={page}&_embed=1&orderby=date&order=desc"
    )
}

/// A `wp/v2/posts` item for `p` as WordPress renders it; with `_embedded` when `embed`.
fn api_post(base: &str, p: &Post, embed: bool) -> Value {
    let gmt = |d: &str| d[..19].to_string();
    let esc = |s: &str| s.replace('&', "&amp;");
    let mut v = json!({
        "id": p.id,
        "date": gmt(&p.date),
        "date_gmt": gmt(&p.date),
        "modified_gmt": gmt(p.modified.as_deref().unwrap_or(&p.date)),
        "slug": p.slug,
        "status": "publish",
        "link": format!("{base}{}", p.path()),
        "title": {"rendered": esc(&p.title)},
        "content": {"rendered": p.body, "protected": false},
        "excerpt": {"rendered": format!("<p>Excerpt of {}&#8230;</p>\n", esc(&p.title))},
        "author": 7,
        "categories": [4],
        "tags": [9],
    });
    if embed {
        v["_embedded"] = json!({
            "author": [{"id": 7, "name": p.author, "slug": "mb"}],
            "wp:term": [
                p.categories.iter().map(|c| json!({"id": 4, "name": esc(c), "taxonomy": "category"})).collect::<Vec<_>>(),
                [{"id": 9, "name": "Water &amp; Trade", "taxonomy": "post_tag"}],
            ],
        });
    }
    v
}

fn posts(ids: std::ops::Range<u64>) -> Vec<Post> {
    ids.map(|id| {
        let mut p = Post::new(
            id,
            &format!("post-{id}"),
            &format!("Talks & terms {id}"),
            "2024-05-02T09:30:00+00:00",
        );
        p.modified = Some("2024-05-03T11:00:00+00:00".into());
        p
    })
    .collect()
}

/// A folder with a config reading the site's category as a `wordpress` source.
fn wordpress_source(site: &Site) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = common::write_config(
        dir.path(),
        &common::site_config(&site.url(LISTING), "", "kind = \"wordpress\""),
    );
    (dir, config)
}

/// The API items (with `_embedded`) of the posts with these ids.
fn api_posts(base: &str, ids: std::ops::Range<u64>) -> Vec<Value> {
    posts(ids).iter().map(|p| api_post(base, p, true)).collect()
}

fn category_lookup(site: &Site) {
    site.set(
        CAT_LOOKUP,
        json_resp(&json!([
            {"id": 4, "slug": "international-negotiation-daily", "name": "International Negotiation"}
        ])),
    );
}

fn read_blocking(
    root: &str,
    listing: &str,
    after: Option<Incremental<'_>>,
    max_pages: Option<u32>,
) -> Result<WpResult, WpError> {
    read_with(&fetcher(), root, listing, after, max_pages)
}

fn read_with(
    fetcher: &Fetcher,
    root: &str,
    listing: &str,
    after: Option<Incremental<'_>>,
    max_pages: Option<u32>,
) -> Result<WpResult, WpError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (root, listing) = (url(root), url(listing));
    let site = OwnSite::at(&listing).expect("site");
    let fut = wordpress::read(fetcher, &root, &listing, &site, after, max_pages);
    assert_send(&fut);
    rt.block_on(fut)
}

fn assert_send<T: Send>(_: &T) {}

#[test]
fn two_pages_with_and_without_embed_map_every_field() {
    let site = Site::start();
    let base = site.base();
    category_lookup(&site);
    let first = posts(1000..1100);
    let page1: Vec<Value> = first.iter().map(|p| api_post(&base, p, true)).collect();
    site.set(&posts_path(1, None), json_resp(&json!(page1)));
    let mut second = posts(2000..2002);
    second[1].categories = vec!["International Negotiation".into(), "Mediation".into()];
    let mut page2: Vec<Value> = second.iter().map(|p| api_post(&base, p, false)).collect();
    page2[1]["categories"] = json!([4, 5]);
    page2[1]["tags"] = json!([]);
    site.set(&posts_path(2, None), json_resp(&json!(page2)));
    site.set(
        "/wp-json/wp/v2/users/7",
        json_resp(&json!({"id": 7, "name": "Miriam Brenner"})),
    );
    site.set(
        "/wp-json/wp/v2/categories?include=4%2C5&per_page=100",
        json_resp(&json!([
            {"id": 4, "name": "International Negotiation"},
            {"id": 5, "name": "Mediation"}
        ])),
    );
    site.set(
        "/wp-json/wp/v2/tags?include=9&per_page=100",
        json_resp(&json!([{"id": 9, "name": "Water &amp; Trade"}])),
    );

    let got =
        read_blocking(&site.url("/wp-json/"), &site.url(LISTING), None, None).expect("API read");

    // One lookup, two pages, then one request per missing author and taxonomy (cached).
    assert_eq!(
        site.requests(),
        vec![
            CAT_LOOKUP.to_string(),
            posts_path(1, None),
            posts_path(2, None),
            "/wp-json/wp/v2/users/7".into(),
            "/wp-json/wp/v2/categories?include=4%2C5&per_page=100".into(),
            "/wp-json/wp/v2/tags?include=9&per_page=100".into(),
        ]
    );
    assert_eq!(got.requests, 6);
    assert_eq!(got.total_pages, 2);
    assert!(got.complete);
    assert!(got.failures.is_empty(), "{:?}", got.failures);
    assert_eq!(got.posts.len(), 102);

    // Embedded post, field by field.
    let (u, raw) = &got.posts[0];
    let link = format!("{base}/2024/05/02/post-1000/");
    assert_eq!(u.as_str(), link);
    assert_eq!(raw.canonical.as_ref().map(Url::as_str), Some(link.as_str()));
    assert_eq!(raw.wp_post_id, Some(1000));
    assert_eq!(raw.title.as_deref(), Some("Talks & terms 1000"));
    let date = |v: &str| RawDate {
        value: v.into(),
        source: DateSource::Feed,
    };
    assert_eq!(raw.published, vec![date("2024-05-02T09:30:00Z")]);
    assert_eq!(raw.modified, vec![date("2024-05-03T11:00:00Z")]);
    assert_eq!(raw.authors, vec!["Miriam Brenner"]);
    assert_eq!(
        raw.categories,
        vec!["International Negotiation", "Water & Trade"]
    );
    assert_eq!(raw.body_html.as_deref(), Some(first[0].body.as_str()));
    assert_eq!(
        raw.summary.as_deref(),
        Some("<p>Excerpt of Talks &amp; terms 1000&#8230;</p>\n")
    );
    assert_eq!(raw.base_href, None);
    assert!(raw.related.is_empty());

    // Posts without `_embedded` get the same names from the look-ups.
    let (u, raw) = &got.posts[100];
    assert_eq!(u.as_str(), format!("{base}/2024/05/02/post-2000/"));
    assert_eq!(raw.wp_post_id, Some(2000));
    assert_eq!(raw.authors, vec!["Miriam Brenner"]);
    assert_eq!(
        raw.categories,
        vec!["International Negotiation", "Water & Trade"]
    );
    let (_, raw) = &got.posts[101];
    assert_eq!(raw.authors, vec!["Miriam Brenner"]);
    assert_eq!(
        raw.categories,
        vec!["International Negotiation", "Mediation"]
    );
}

#[test]
fn a_400_past_the_last_page_ends_the_walk_and_modified_after_is_sent() {
    let site = Site::start();
    let base = site.base();
    category_lookup(&site);
    let after = Some("2024-05-01T00%3A00%3A00Z");
    let page1: Vec<Value> = api_posts(&base, 1..101);
    site.set(&posts_path(1, after), json_resp(&json!(page1)));
    site.set(&posts_path(2, after), Resp::Status(400));
    // The newest posts by publication date are the ones the first pass returned, then a stored
    // one: one page.
    let (old, stored) = stored_posts(&base, 101..102);
    let mut dated = page1.clone();
    dated.extend(old);
    site.set(&dated_path(1), json_resp(&json!(dated)));
    let known = move |u: &Url| stored.contains(&u.to_string());
    let since = incremental(2024, 5, 1, &known);

    let got =
        read_blocking(&site.url("/wp-json/"), &site.url(LISTING), since, None).expect("API read");
    assert_eq!(got.posts.len(), 100);
    assert_eq!((got.total_pages, got.requests, got.complete), (2, 4, true));
    assert_eq!(
        site.requests()[1..],
        [posts_path(1, after), posts_path(2, after), dated_path(1)]
    );

    // `max_pages` stops before the second page is asked for.
    let got = read_blocking(&site.url("/wp-json/"), &site.url(LISTING), since, Some(1))
        .expect("API read");
    assert_eq!(got.posts.len(), 100);
    assert_eq!((got.total_pages, got.requests, got.complete), (1, 3, false));
    assert_eq!(site.requests().len(), 7);
}

/// An incremental read from midnight UTC of the given day, with `known` saying what is stored.
fn incremental(
    y: i32,
    m: u32,
    d: u32,
    known: &(dyn Fn(&Url) -> bool + Sync),
) -> Option<Incremental<'_>> {
    Some(Incremental {
        modified_after: Utc.with_ymd_and_hms(y, m, d, 0, 0, 0).single()?,
        known,
        stop_at_known: true,
    })
}

/// Posts `ids`, published on 2 May and last modified on 3 May 2024: already stored.
fn stored_posts(base: &str, ids: std::ops::Range<u64>) -> (Vec<Value>, Vec<String>) {
    let posts = posts(ids);
    let items = posts.iter().map(|p| api_post(base, p, true)).collect();
    let links = posts
        .iter()
        .map(|p| format!("{base}{}", p.path()))
        .collect();
    (items, links)
}

/// A post published on schedule on 10 May 2024, last modified (written) on 6 May.
fn scheduled_post(id: u64) -> Post {
    let mut p = Post::new(
        id,
        &format!("scheduled-{id}"),
        &format!("Scheduled {id}"),
        "2024-05-10T06:00:00+00:00",
    );
    p.modified = Some("2024-05-06T15:00:00+00:00".into());
    p
}

fn ids(got: &WpResult) -> Vec<Option<u64>> {
    got.posts.iter().map(|(_, r)| r.wp_post_id).collect()
}

#[test]
fn a_post_published_on_schedule_is_read_though_modified_before_the_window() {
    let site = Site::start();
    let base = site.base();
    category_lookup(&site);
    // The last run was on 9 May. Since then ten posts were published (and so modified), and
    // one post written on 6 May was published on schedule on 10 May, before them.
    let after = Some("2024-05-09T00%3A00%3A00Z");
    let newer: Vec<Value> = (601..611)
        .map(|id| {
            let mut p = scheduled_post(id);
            p.slug = format!("newer-{id}");
            p.date = "2024-05-11T06:00:00+00:00".into();
            p.modified = Some("2024-05-11T06:00:00+00:00".into());
            api_post(&base, &p, true)
        })
        .collect();
    site.set(&posts_path(1, after), json_resp(&json!(newer)));
    // By publication date: the ten newer posts fill page 1; page 2 holds the scheduled post,
    // then stored ones; page 3 more stored ones.
    site.set(&dated_path(1), json_with_pages(&json!(newer), Some(3)));
    let (mut page2, mut stored) = stored_posts(&base, 1..10);
    page2.insert(0, api_post(&base, &scheduled_post(500), true));
    site.set(&dated_path(2), json_with_pages(&json!(page2), Some(3)));
    let (page3, links) = stored_posts(&base, 10..20);
    stored.extend(links);
    site.set(&dated_path(3), json_with_pages(&json!(page3), Some(3)));
    let known = move |u: &Url| stored.contains(&u.to_string());

    let since = incremental(2024, 5, 9, &known);
    let got =
        read_blocking(&site.url("/wp-json/"), &site.url(LISTING), since, None).expect("API read");
    let mut want: Vec<Option<u64>> = (601..611).map(Some).collect();
    want.push(Some(500));
    assert_eq!(ids(&got), want);
    let (u, raw) = &got.posts[10];
    assert_eq!(u.as_str(), format!("{base}/2024/05/10/scheduled-500/"));
    assert_eq!(raw.title.as_deref(), Some("Scheduled 500"));
    assert_eq!(raw.published[0].value, "2024-05-10T06:00:00Z");
    assert!(got.failures.is_empty(), "{:?}", got.failures);
    // The modification pass's own paging is reported as before.
    assert_eq!((got.total_pages, got.complete), (1, true));
    // Page 1 held no stored post, so page 2 was read; it did, so page 3 was not.
    assert_eq!(got.requests, 4);
    assert_eq!(
        site.requests(),
        vec![
            CAT_LOOKUP.to_string(),
            posts_path(1, after),
            dated_path(1),
            dated_path(2)
        ]
    );

    // `max_pages` bounds the publication-date pass too.
    let got = read_blocking(&site.url("/wp-json/"), &site.url(LISTING), since, Some(1))
        .expect("API read");
    assert_eq!(ids(&got), (601..611).map(Some).collect::<Vec<_>>());
    assert_eq!(got.requests, 3);
    assert_eq!(
        site.requests()[4..],
        [CAT_LOOKUP, &posts_path(1, after), &dated_path(1)]
    );

    // A cold read makes the modification pass only.
    site.set(
        &posts_path(1, None),
        json_with_pages(&json!(page3), Some(1)),
    );
    let got =
        read_blocking(&site.url("/wp-json/"), &site.url(LISTING), None, None).expect("API read");
    assert_eq!(got.posts.len(), 10);
    assert_eq!(got.requests, 2);
    assert_eq!(site.requests()[7..], [CAT_LOOKUP, &posts_path(1, None)]);
}

#[test]
fn an_unchanged_incremental_read_asks_for_one_page_in_each_order() {
    let site = Site::start();
    let base = site.base();
    category_lookup(&site);
    let after = Some("2024-05-09T00%3A00%3A00Z");
    site.set(&posts_path(1, after), json_resp(&json!([])));
    let (page1, stored) = stored_posts(&base, 1..101);
    site.set(&dated_path(1), json_with_pages(&json!(page1), Some(5)));
    let known = move |u: &Url| stored.contains(&u.to_string());
    let since = incremental(2024, 5, 9, &known);

    let got =
        read_blocking(&site.url("/wp-json/"), &site.url(LISTING), since, None).expect("API read");
    assert!(got.posts.is_empty());
    assert!(got.failures.is_empty(), "{:?}", got.failures);
    assert_eq!((got.total_pages, got.requests, got.complete), (1, 3, true));
    assert_eq!(
        site.requests(),
        vec![CAT_LOOKUP.to_string(), posts_path(1, after), dated_path(1)]
    );

    // With the category id known, two requests.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let got = rt
        .block_on(wordpress::read_category(
            &fetcher(),
            &url(&site.url("/wp-json/")),
            4,
            &OwnSite::at(&url(&site.url("/"))).expect("site"),
            since,
            Some(5),
        ))
        .expect("API read");
    assert!(got.posts.is_empty());
    assert_eq!(got.requests, 2);
    assert_eq!(site.requests()[3..], [posts_path(1, after), dated_path(1)]);
}

#[test]
fn a_post_both_passes_return_is_read_once() {
    let site = Site::start();
    let base = site.base();
    category_lookup(&site);
    let after = Some("2024-05-09T00%3A00%3A00Z");
    // Published and modified since the last run: new, and first in both orders.
    let new_post = |id: u64, slug: &str| {
        let mut p = scheduled_post(id);
        p.slug = slug.into();
        p.modified = Some("2024-05-10T07:00:00+00:00".into());
        api_post(&base, &p, true)
    };
    let fresh = new_post(501, "fresh-501");
    // Renamed between the two requests: the same post under another link.
    let (renamed, renamed_again) = (new_post(502, "draft-title"), new_post(502, "final-title"));
    // A stored post edited since the last run: only the first pass has it.
    let (mut edited, _) = stored_posts(&base, 7..8);
    edited[0]["modified_gmt"] = json!("2024-05-10T08:00:00");
    site.set(
        &posts_path(1, after),
        json_resp(&json!([edited[0].clone(), fresh.clone(), renamed])),
    );
    let (mut page1, mut stored) = stored_posts(&base, 1..98);
    page1.insert(0, api_post(&base, &scheduled_post(500), true));
    page1.insert(0, renamed_again);
    page1.insert(0, fresh);
    site.set(&dated_path(1), json_resp(&json!(page1)));
    let (page2, links) = stored_posts(&base, 98..101);
    stored.extend(links);
    site.set(&dated_path(2), json_resp(&json!(page2)));
    let known = move |u: &Url| stored.contains(&u.to_string());

    let since = incremental(2024, 5, 9, &known);
    let got =
        read_blocking(&site.url("/wp-json/"), &site.url(LISTING), since, None).expect("API read");
    assert_eq!(ids(&got), vec![Some(7), Some(501), Some(502), Some(500)]);
    assert!(got.posts[2].0.as_str().ends_with("/draft-title/"));
    assert!(got.failures.is_empty(), "{:?}", got.failures);
    // The first dated page holds stored posts: everything published since is on it.
    assert_eq!(got.requests, 3);
    assert_eq!(site.requests().last(), Some(&dated_path(1)));
}

#[test]
fn a_failed_publication_date_pass_keeps_what_the_first_pass_read() {
    let site = Site::start();
    let base = site.base();
    category_lookup(&site);
    let after = Some("2024-05-09T00%3A00%3A00Z");
    let (page, _) = stored_posts(&base, 7..8);
    site.set(&posts_path(1, after), json_resp(&json!(page)));
    site.set(&dated_path(1), Resp::Status(500));
    let since = incremental(2024, 5, 9, &|_| true);

    let got =
        read_blocking(&site.url("/wp-json/"), &site.url(LISTING), since, None).expect("API read");
    assert_eq!(ids(&got), vec![Some(7)]);
    assert_eq!(got.requests, 3);
    assert_eq!(
        got.failures,
        vec![(site.url(&dated_path(1)), "HTTP status 500".to_string())]
    );
}

#[test]
fn x_wp_totalpages_bounds_the_walk_even_when_the_server_caps_per_page() {
    let site = Site::start();
    let base = site.base();
    category_lookup(&site);
    // A server that ignores per_page=100 and answers two posts a page, announcing 3 pages.
    let all = posts(1..6);
    for (i, chunk) in all.chunks(2).enumerate() {
        let items: Vec<Value> = chunk.iter().map(|p| api_post(&base, p, true)).collect();
        site.set(
            &posts_path(i as u32 + 1, None),
            json_with_pages(&json!(items), Some(3)),
        );
    }
    let got =
        read_blocking(&site.url("/wp-json/"), &site.url(LISTING), None, None).expect("API read");
    let ids: Vec<Option<u64>> = got.posts.iter().map(|(_, r)| r.wp_post_id).collect();
    assert_eq!(ids, vec![Some(1), Some(2), Some(3), Some(4), Some(5)]);
    assert_eq!((got.total_pages, got.requests, got.complete), (3, 4, true));
    assert!(!site.requests().contains(&posts_path(4, None)));

    // A full page that is announced as the only one: no probe for a second page.
    let site = Site::start();
    let base = site.base();
    category_lookup(&site);
    let items: Vec<Value> = api_posts(&base, 1..101);
    site.set(
        &posts_path(1, None),
        json_with_pages(&json!(items), Some(1)),
    );
    let got =
        read_blocking(&site.url("/wp-json/"), &site.url(LISTING), None, Some(5)).expect("API read");
    assert_eq!(got.posts.len(), 100);
    assert_eq!((got.total_pages, got.requests, got.complete), (1, 2, true));
}

#[test]
fn an_empty_page_and_a_plain_rest_route_root() {
    let site = Site::start();
    site.set(
        "/?rest_route=%2Fwp%2Fv2%2Fcategories&slug=news",
        json_resp(&json!([{"id": 31, "slug": "news"}])),
    );
    let q = "/?rest_route=%2Fwp%2Fv2%2Fposts&categories=31&per_page=100&page=1&_embed=1&orderby=modified&order=desc";
    site.set(q, json_resp(&json!([])));
    let got = read_blocking(
        &site.url("/?rest_route=/"),
        &site.url("/category/news/page/2/"),
        None,
        None,
    )
    .expect("API read");
    assert!(got.posts.is_empty());
    assert_eq!((got.total_pages, got.requests, got.complete), (1, 2, true));
    assert_eq!(
        site.requests(),
        vec!["/?rest_route=%2Fwp%2Fv2%2Fcategories&slug=news", q]
    );
}

#[test]
fn the_same_post_gets_the_same_entry_from_the_api_and_from_its_page() {
    let site = Site::start();
    let base = site.base();
    category_lookup(&site);
    let mut post = posts(4242..4243).remove(0);
    post.title = "Water & trade talks".into();
    let html = common::classic_post(&base, &post).replace(
        "</head>",
        &format!(r#"<link rel="https://api.w.org/" href="{base}/wp-json/" /></head>"#),
    );
    site.set(&post.path(), Resp::Html(html));
    site.set(
        &posts_path(1, None),
        json_resp(&json!([api_post(&base, &post, true)])),
    );

    let fetcher = fetcher();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let page = rt
        .block_on(feedwright::source::fetch_page(
            &fetcher,
            &url(&site.url(&post.path())),
        ))
        .expect("post page");
    let root = wordpress::api_root_from_html(&page).expect("advertised API root");
    assert_eq!(root.as_str(), site.url("/wp-json/"));
    let got = rt
        .block_on(wordpress::read(
            &fetcher,
            &root,
            &url(&site.url(LISTING)),
            &OwnSite::at(&root).expect("site"),
            None,
            None,
        ))
        .expect("API read");

    let now = Utc
        .with_ymd_and_hms(2024, 6, 1, 0, 0, 0)
        .single()
        .expect("date");
    let html_raw = extract_post(&page, &Selectors::default()).expect("extract");
    assert_eq!(html_raw.wp_post_id, Some(4242), "shortlink read");
    let (from_html, _) = normalize(&page.url, html_raw, "s", now).expect("normalize page");
    let (api_url, api_raw) = got.posts.into_iter().next().expect("one post");
    let (from_api, _) = normalize(&api_url, api_raw, "s", now).expect("normalize API post");

    assert_eq!(from_api.id, from_html.id);
    assert_eq!(from_api.id.0, format!("{base}/?p=4242"));
    assert_eq!(from_api.dedup_key, from_html.dedup_key);
    assert_eq!(from_api.url, from_html.url);
    assert_eq!(from_api.title, from_html.title);
    assert_eq!(from_api.published, from_html.published);
    assert_eq!(from_api.updated, from_html.updated);
    assert_eq!(from_api.authors, from_html.authors);
    assert_eq!(from_api.content_html, from_html.content_html);
    assert!(
        from_html
            .categories
            .iter()
            .all(|c| from_api.categories.contains(c)),
        "{:?} vs {:?}",
        from_api.categories,
        from_html.categories
    );
}

/// The category listing page, advertising the API, linking `titles`.
fn listing_page(base: &str, titles: &[&str]) -> Resp {
    let links: Vec<(String, String)> = titles
        .iter()
        .map(|t| (format!("{base}/{t}/"), t.to_string()))
        .collect();
    Resp::Html(common::listing(base, &links, None).replace(
        "</head>",
        &format!(r#"<link rel="https://api.w.org/" href="{base}/wp-json/" /></head>"#),
    ))
}

/// A REST API site whose category holds posts 1 and 2, and a `wordpress` source that has read
/// it once (a cold run, exit 0): the site, its base URL, the API items of the two posts, the
/// folder and the config.
fn wordpress_site_after_a_cold_run() -> (
    Site,
    String,
    Vec<Value>,
    tempfile::TempDir,
    std::path::PathBuf,
) {
    let site = Site::start();
    let base = site.base();
    category_lookup(&site);
    let items: Vec<Value> = api_posts(&base, 1..3);
    site.set(LISTING, listing_page(&base, &["post-1", "post-2"]));
    site.set(&posts_path(1, None), json_resp(&json!(items)));
    let (dir, config) = wordpress_source(&site);
    let (code, _, err) = common::feedwright(&config, &["run"]);
    assert_eq!(code, 0, "{err}");
    (site, base, items, dir, config)
}

#[test]
fn a_post_published_on_schedule_reaches_the_feed_on_the_next_run() {
    let (site, base, items, dir, config) = wordpress_site_after_a_cold_run();
    let mut want = vec![format!("{base}/?p=1"), format!("{base}/?p=2")];
    let mut got = atom_ids(dir.path());
    got.sort();
    assert_eq!(got, want);

    // The scheduled post is published: the listing shows it, but its modification date is the
    // day it was written, before the last run. By modification date (whatever the window
    // asked for), nothing is new; by publication date, it comes first.
    let before = site.requests().len();
    site.set(
        LISTING,
        listing_page(&base, &["scheduled-9", "post-1", "post-2"]),
    );
    site.set("/wp-json/wp/v2/posts", json_resp(&json!([])));
    let mut dated = vec![api_post(&base, &scheduled_post(9), true)];
    dated.extend(items);
    site.set(&dated_path(1), json_resp(&json!(dated)));
    let (code, _, err) = common::feedwright(&config, &["run"]);
    assert_eq!(code, 0, "{err}");
    let asked = &site.requests()[before..];
    assert!(
        asked
            .iter()
            .any(|r| r.contains("orderby=modified") && r.contains("modified_after=")),
        "{asked:?}"
    );
    assert!(asked.contains(&dated_path(1)), "{asked:?}");
    want.push(format!("{base}/?p=9"));
    let mut got = atom_ids(dir.path());
    got.sort();
    assert_eq!(got, want);

    // Another one, but the publication-date page fails: reported, and read again next run
    // although the listing page has not changed since.
    site.set(
        LISTING,
        listing_page(&base, &["scheduled-10", "scheduled-9", "post-1", "post-2"]),
    );
    dated.insert(0, api_post(&base, &scheduled_post(10), true));
    site.set(&dated_path(1), Resp::Status(500));
    let (code, _, err) = common::feedwright(&config, &["run"]);
    assert_ne!(code, 0, "{err}");
    assert!(err.contains(&site.url(&dated_path(1))), "{err}");
    let mut got = atom_ids(dir.path());
    got.sort();
    assert_eq!(got, want);
    site.set(&dated_path(1), json_resp(&json!(dated)));
    let (code, _, err) = common::feedwright(&config, &["run"]);
    assert_eq!(code, 0, "{err}");
    want.push(format!("{base}/?p=10"));
    want.sort();
    let mut got = atom_ids(dir.path());
    got.sort();
    assert_eq!(got, want);
}

/// A run whose publication-date pass failed stored ten new posts, all newer than a post
/// published on schedule meanwhile that it never reached. The next run's pass does not stop at
/// the first page of stored posts (they were stored by the failed run): it reads on and finds
/// the scheduled post.
#[test]
fn after_a_failed_publication_date_pass_the_next_one_reads_past_stored_posts() {
    let (site, base, old_items, dir, config) = wordpress_site_after_a_cold_run();

    // Ten posts written and published on 20 May; one written on 6 May and published on
    // schedule on 10 May. By modification date only the ten are new.
    let new: Vec<Post> = (20..30)
        .map(|id| {
            let mut p = Post::new(
                id,
                &format!("new-{id}"),
                &format!("New {id}"),
                &format!("2024-05-20T{:02}:00:00+00:00", id - 10),
            );
            p.modified = Some(p.date.clone());
            p
        })
        .collect();
    let new_items: Vec<Value> = new.iter().rev().map(|p| api_post(&base, p, true)).collect();
    site.set(
        LISTING,
        listing_page(&base, &["new-29", "new-28", "post-1"]),
    );
    site.set("/wp-json/wp/v2/posts", json_resp(&json!(new_items)));
    site.set(&dated_path(1), Resp::Status(500));
    let (code, _, err) = common::feedwright(&config, &["run"]);
    assert_ne!(code, 0, "{err}");
    assert_eq!(atom_ids(dir.path()).len(), 12, "{err}");

    // Page 1 by date is the ten (stored now), page 2 the scheduled post and the old ones.
    let mut page2 = vec![api_post(&base, &scheduled_post(11), true)];
    page2.extend(old_items);
    site.set(&dated_path(1), json_with_pages(&json!(new_items), Some(2)));
    site.set(&dated_path(2), json_with_pages(&json!(page2), Some(2)));
    let (code, _, err) = common::feedwright(&config, &["run"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        atom_ids(dir.path()).contains(&format!("{base}/?p=11")),
        "{:?}",
        atom_ids(dir.path())
    );

    // Once a pass succeeded, the next stops at its first page of stored posts again.
    let before = site.requests().len();
    site.set(
        LISTING,
        listing_page(&base, &["new-29", "new-28", "post-2"]),
    );
    let (code, _, err) = common::feedwright(&config, &["run"]);
    assert_eq!(code, 0, "{err}");
    let asked = &site.requests()[before..];
    assert!(asked.contains(&dated_path(1)), "{asked:?}");
    assert!(!asked.contains(&dated_path(2)), "{asked:?}");
}

/// A post the API gives in a shape that cannot be read fails on every run, but it is no failed
/// page: the publication-date pass still stops at its first page of stored posts, and the
/// listing page is still asked for conditionally.
#[test]
fn an_unreadable_post_does_not_make_every_read_a_full_one() {
    let (site, base, mut items, _dir, config) = wordpress_site_after_a_cold_run();

    // A post the API now gives in a shape that cannot be read, run after run.
    let bad = json!({"id": "not a number"});
    items.insert(0, bad.clone());
    site.set("/wp-json/wp/v2/posts", json_resp(&json!([bad])));
    site.set(&dated_path(1), json_with_pages(&json!(items), Some(2)));
    site.set(&dated_path(2), json_with_pages(&json!([]), Some(2)));
    site.set(
        LISTING,
        listing_page(&base, &["post-0", "post-1", "post-2"]),
    );
    let (code, _, err) = common::feedwright(&config, &["run"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("unexpected post JSON"), "{err}");
    site.set(
        LISTING,
        listing_page(&base, &["post-00", "post-1", "post-2"]),
    );
    let before = site.hits().len();
    let (code, _, err) = common::feedwright(&config, &["run"]);
    assert_eq!(code, 1, "{err}");
    let hits = &site.hits()[before..];
    assert!(hits.iter().any(|h| h.path == dated_path(1)), "{hits:?}");
    assert!(!hits.iter().any(|h| h.path == dated_path(2)), "{hits:?}");
    assert!(
        hits.iter().any(|h| h.path == LISTING && h.conditional),
        "{hits:?}"
    );
}

fn expect_err(site: &Site, root: &str) -> WpError {
    match read_blocking(&site.url(root), &site.url(LISTING), None, None) {
        Ok(r) => panic!("expected an error, got {} posts", r.posts.len()),
        Err(e) => e,
    }
}

#[test]
fn refusals_and_a_missing_api_fall_back_transport_errors_do_not() {
    let site = Site::start();
    let lookup_url = site.url(CAT_LOOKUP);

    // Nothing at /wp-json/: 404.
    let e = expect_err(&site, "/wp-json/");
    assert!(matches!(&e, WpError::Unavailable { reason, .. } if reason.contains("404")));
    assert!(e.falls_back());
    assert!(e.to_string().contains(&lookup_url), "{e}");

    site.set(CAT_LOOKUP, Resp::Status(401));
    let e = expect_err(&site, "/wp-json/");
    assert!(matches!(&e, WpError::Unavailable { reason, .. } if reason.contains("401")));
    assert!(e.falls_back());

    // A theme answering every URL with an HTML page.
    site.set(
        CAT_LOOKUP,
        Resp::Html("<!DOCTYPE html><html><body>Not here</body></html>".into()),
    );
    let e = expect_err(&site, "/wp-json/");
    assert!(matches!(&e, WpError::Unavailable { .. }), "{e:?}");
    assert!(e.falls_back());
    assert!(e.to_string().contains("HTML"), "{e}");
    assert!(e.to_string().contains(&lookup_url), "{e}");

    site.set(
        CAT_LOOKUP,
        Resp::Bytes {
            content_type: "application/json".into(),
            body: br#"[{"id": 4, "slug": "#.to_vec(),
            headers: Vec::new(),
        },
    );
    let e = expect_err(&site, "/wp-json/");
    assert!(matches!(&e, WpError::Malformed { .. }), "{e:?}");
    assert!(e.to_string().contains(&lookup_url), "{e}");
    assert!(e.to_string().contains("malformed JSON"), "{e}");

    site.set(CAT_LOOKUP, json_resp(&json!([])));
    let e = expect_err(&site, "/wp-json/");
    assert!(
        matches!(&e, WpError::NoCategory { slug, .. } if slug == "international-negotiation-daily")
    );
    assert!(e.falls_back());

    // The category resolves but the posts endpoint is closed.
    category_lookup(&site);
    site.set(&posts_path(1, None), Resp::Status(403));
    let e = expect_err(&site, "/wp-json/");
    assert!(matches!(&e, WpError::Unavailable { reason, .. } if reason.contains("403")));
    assert!(
        e.to_string().contains(&site.url(&posts_path(1, None))),
        "{e}"
    );

    // A server error is not a refusal.
    site.set(&posts_path(1, None), Resp::Status(500));
    let e = expect_err(&site, "/wp-json/");
    assert!(matches!(
        &e,
        WpError::Fetch {
            error: FetchError::Status(500),
            ..
        }
    ));
    assert!(!e.falls_back());

    // Nobody listening.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let dead = format!("http://{}", closed.local_addr().expect("addr"));
    drop(closed);
    let e = read_blocking(
        &format!("{dead}/wp-json/"),
        &format!("{dead}{LISTING}"),
        None,
        None,
    )
    .expect_err("unreachable");
    assert!(
        matches!(&e, WpError::Fetch { error, .. } if error.is_unreachable()),
        "{e:?}"
    );
    assert!(!e.falls_back());

    // robots.txt forbids the API: never requested, and the feed may still be allowed.
    site.set(
        "/robots.txt",
        Resp::Bytes {
            content_type: "text/plain".into(),
            body: b"User-agent: *\nDisallow: /wp-json/\n".to_vec(),
            headers: Vec::new(),
        },
    );
    let before = site.requests().len();
    let e = read_with(
        &fetcher_with(true),
        &site.url("/wp-json/"),
        &site.url(LISTING),
        None,
        None,
    )
    .expect_err("disallowed");
    assert!(
        matches!(&e, WpError::Fetch { error, .. } if error.is_skip()),
        "{e:?}"
    );
    assert!(e.falls_back());
    assert_eq!(site.requests()[before..], ["/robots.txt".to_string()]);
}

#[test]
fn link_header_and_html_give_the_same_root() {
    let page_url = url("http://example.test/2024/05/02/post/");
    let page = feedwright::model::RawPage {
        requested_url: page_url.clone(),
        url: page_url.clone(),
        content_type: Some("text/html".into()),
        body: r#"<html><head><link rel="alternate" href="/x"><link rel='https://api.w.org/' href='/wp-json/'></head></html>"#.into(),
        fetched_at: Utc.with_ymd_and_hms(2024, 5, 2, 0, 0, 0).single().expect("date"),
    };
    let from_html = wordpress::api_root_from_html(&page);
    assert_eq!(
        from_html.as_ref().map(Url::as_str),
        Some("http://example.test/wp-json/")
    );
    let from_header = wordpress::api_root_from_link_header(
        r#"<http://example.test/wp-json/>; rel="https://api.w.org/""#,
        &page_url,
    );
    assert_eq!(from_header, from_html);
    let no_api = feedwright::model::RawPage {
        body: "<html><head><link rel=canonical href=/a></head></html>".into(),
        ..page
    };
    assert_eq!(wordpress::api_root_from_html(&no_api), None);
}

/// The Atom content of each entry of `out/main/atom.xml` below `dir`, by id.
fn contents(dir: &std::path::Path) -> std::collections::BTreeMap<String, String> {
    let xml = std::fs::read(dir.join("out/main/atom.xml")).expect("atom.xml");
    feed_rs::parser::parse(xml.as_slice())
        .expect("atom.xml parses")
        .entries
        .into_iter()
        .map(|e| {
            let body = e.content.and_then(|c| c.body).unwrap_or_default();
            (e.id, body)
        })
        .collect()
}

/// While the REST API cannot be read, a `wordpress` source reads the category feed instead,
/// each new post from its own page: the posts read in full before keep their text, a new post
/// gets its page's. A new post whose page cannot be fetched meanwhile stands in with the feed's
/// teaser (never replacing a full text), and once the API answers again it is read in full.
#[test]
fn a_feed_read_while_the_api_is_down_never_cuts_posts_to_their_teasers() {
    let (site, base, mut items, dir, config) = wordpress_site_after_a_cold_run();
    let full = |id: u64| format!("Body of Talks &amp; terms {id}.");
    let got = contents(dir.path());
    for id in [1, 2] {
        assert!(
            got[&format!("{base}/?p={id}")].contains(&full(id)),
            "{got:?}"
        );
    }

    // The API refuses; the listing shows new posts, and the category feed has them too.
    let all = posts(1..5);
    let feed_of = |upto: usize| {
        let rss_items: String = all[..upto]
            .iter()
            .map(|p| {
                format!(
                    "<item><title>{t}</title><link>{base}{path}</link>\
                     <guid isPermaLink=\"false\">{base}/?p={id}</guid>\
                     <pubDate>Thu, 02 May 2024 09:30:00 +0000</pubDate>\
                     <description>Teaser {id}</description></item>",
                    t = p.title.replace('&', "&amp;"),
                    path = p.path(),
                    id = p.id,
                )
            })
            .collect();
        Resp::Bytes {
            content_type: "application/rss+xml; charset=UTF-8".into(),
            body: format!(
                "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>c</title>\
                 <link>{base}/</link><description>d</description>{rss_items}</channel></rss>"
            )
            .into_bytes(),
            headers: vec![],
        }
    };
    site.set(CAT_LOOKUP, Resp::Status(404));
    site.set(&format!("{LISTING}feed/"), feed_of(3));
    site.set(
        &all[2].path(),
        Resp::Html(common::classic_post(&base, &all[2])),
    );
    site.set(
        LISTING,
        listing_page(&base, &["post-3", "post-1", "post-2"]),
    );
    let (code, _, err) = common::feedwright(&config, &["run"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("1 new"), "{err}");
    assert!(
        err.contains("reading the category feed instead, each new post from its own page"),
        "{err}"
    );
    let got = contents(dir.path());
    for id in [1, 2, 3] {
        assert!(
            got[&format!("{base}/?p={id}")].contains(&full(id)),
            "{id}: {got:?}"
        );
    }

    // Another new post, whose page fails: its teaser stands in, reported.
    site.set(&format!("{LISTING}feed/"), feed_of(4));
    site.set(
        LISTING,
        listing_page(&base, &["post-4", "post-3", "post-1", "post-2"]),
    );
    let (code, _, err) = common::feedwright(&config, &["run"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains(&site.url(&all[3].path())), "{err}");
    let got = contents(dir.path());
    assert!(got[&format!("{base}/?p=4")].contains("Teaser 4"), "{got:?}");

    // The API is back: the post stored from its teaser is read in full.
    category_lookup(&site);
    items.extend([
        api_post(&base, &all[2], true),
        api_post(&base, &all[3], true),
    ]);
    site.set("/wp-json/wp/v2/posts", json_resp(&json!(items)));
    site.set(
        LISTING,
        listing_page(&base, &["post-4", "post-3", "post-1", "post-2", "post-0"]),
    );
    let (code, _, err) = common::feedwright(&config, &["run"]);
    assert_eq!(code, 0, "{err}");
    let got = contents(dir.path());
    for id in [1, 2, 3, 4] {
        assert!(
            got[&format!("{base}/?p={id}")].contains(&full(id)),
            "{id}: {got:?}\n{err}"
        );
    }
}

/// A new `wordpress` source whose site refuses the REST API walks the HTML listing: the feed
/// holds only the newest posts, a first read must see the whole category.
#[test]
fn a_first_read_without_the_api_walks_the_listing() {
    let site = Site::start();
    let base = site.base();
    let all = posts(1..4);
    site.set(CAT_LOOKUP, Resp::Status(403));
    site.set(
        LISTING,
        listing_page(&base, &["post-1", "post-2", "post-3"]),
    );
    for p in &all {
        site.set(
            &format!("/{}/", p.slug),
            Resp::Html(common::classic_post(&base, p)),
        );
    }
    let (dir, config) = wordpress_source(&site);
    let (code, _, err) = common::feedwright(&config, &["run"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("walking the HTML listing instead"), "{err}");
    assert!(err.contains("3 new"), "{err}");
    assert!(
        !site.requests().iter().any(|r| r.ends_with("/feed/")),
        "{:?}",
        site.requests()
    );
    let got = contents(dir.path());
    for id in 1..4 {
        assert!(
            got[&format!("{base}/?p={id}")].contains(&format!("Body of Talks &amp; terms {id}.")),
            "{id}: {got:?}"
        );
    }
}

/// The posts endpoint query a backfill sends for `page` of category 4.
fn backfill_path(page: u32) -> String {
    format!(
        "/wp-json/wp/v2/posts?categories=4&per_page=100&page={page}&_embed=1&orderby=date&order=desc"
    )
}

/// A backfill through the API stores each page of posts as it reads it and saves its place: one
/// stopped by the request budget keeps what it read and the next backfill goes on from the page
/// it stopped at (page 1 is not read again), until every post is stored once.
#[test]
fn a_rest_backfill_stopped_by_the_budget_resumes_at_its_page() {
    let site = Site::start();
    let base = site.base();
    category_lookup(&site);
    site.set(LISTING, listing_page(&base, &["post-1"]));
    let all = posts(1..251);
    for (i, chunk) in all.rchunks(100).enumerate() {
        let items: Vec<Value> = chunk
            .iter()
            .rev()
            .map(|p| api_post(&base, p, true))
            .collect();
        site.set(
            &backfill_path(i as u32 + 1),
            json_with_pages(&json!(items), Some(3)),
        );
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let config = common::write_config(
        dir.path(),
        &common::site_config(
            &site.url(LISTING),
            "max_requests = 4\nrespect_robots = false",
            "kind = \"wordpress\"",
        ),
    );
    let mut rounds = 0;
    loop {
        rounds += 1;
        assert!(rounds < 6, "the backfill never ended");
        let (code, _, err) = common::feedwright(&config, &["backfill"]);
        assert_eq!(code, 0, "{err}");
        // A page of posts left is said as the page where the next backfill continues.
        assert!(!err.contains("post(s) left"), "{err}");
        if err.contains("left for the next run") {
            assert!(
                err.contains(&format!(
                    "the next backfill continues at {}",
                    site.url("/wp-json/wp/v2/posts?categories=4")
                )),
                "{err}"
            );
        }
        if !err.contains("left for the next run") {
            assert!(
                err.contains("backfill through the REST API complete"),
                "{err}"
            );
            break;
        }
    }
    assert!(rounds > 1, "the budget never stopped the backfill");
    let pages: Vec<String> = site
        .requests()
        .into_iter()
        .filter(|p| p.starts_with("/wp-json/wp/v2/posts"))
        .collect();
    assert_eq!(pages, [1, 2, 3].map(backfill_path), "each page read once");
    let ids = atom_ids(dir.path());
    assert_eq!(ids.len(), 250);
    let unique: std::collections::HashSet<_> = ids.iter().collect();
    assert_eq!(unique.len(), 250);
}

/// The `modified_after` an incremental read sent (the last posts query of `asked` that has one).
fn window_sent(asked: &[String]) -> chrono::DateTime<Utc> {
    let query = asked
        .iter()
        .rev()
        .find(|r| r.contains("orderby=modified") && r.contains("modified_after="))
        .unwrap_or_else(|| panic!("no incremental read in {asked:?}"));
    let value = Url::parse(&format!("http://x{query}"))
        .expect("query")
        .query_pairs()
        .find(|(k, _)| k == "modified_after")
        .map(|(_, v)| v.into_owned())
        .expect("modified_after");
    chrono::DateTime::parse_from_rfc3339(&value)
        .expect("RFC 3339")
        .with_timezone(&Utc)
}

/// An older post is edited while the listing's first page stays the same: runs answered 304
/// ask the API nothing, and they must not move its window past the edit. When the listing
/// changes, the API is asked for what was modified since the last read of it (less the
/// overlap), not since the last run, and the edit reaches the feed.
#[test]
fn runs_that_did_not_ask_the_api_leave_its_window_where_it_was() {
    let (site, base, mut items, dir, config) = wordpress_site_after_a_cold_run();
    let cold_done = Utc::now();
    // Far enough that a window taken from the next run's time would be later than this one.
    std::thread::sleep(std::time::Duration::from_millis(2100));

    let before = site.requests().len();
    let (code, _, err) = common::feedwright(&config, &["run"]);
    assert_eq!(code, 0, "{err}");
    let asked = &site.requests()[before..];
    assert!(
        !asked.iter().any(|r| r.contains("wp/v2/posts")),
        "{asked:?}"
    );

    items[0]["title"] = json!({"rendered": "Edited while the listing slept"});
    items[0]["modified_gmt"] = json!(Utc::now().format("%Y-%m-%dT%H:%M:%S").to_string());
    site.set("/wp-json/wp/v2/posts", json_resp(&json!(items)));
    site.set(LISTING, listing_page(&base, &["post-2", "post-1"]));
    let before = site.requests().len();
    let (code, _, err) = common::feedwright(&config, &["run"]);
    assert_eq!(code, 0, "{err}");
    let sent = window_sent(&site.requests()[before..]);
    assert!(
        sent <= cold_done - chrono::Duration::hours(1),
        "window {sent} is not the cold read's ({cold_done} less the overlap)"
    );
    assert!(err.contains("1 updated"), "{err}");
    let atom = std::fs::read_to_string(dir.path().join("out/main/atom.xml")).expect("atom");
    assert!(atom.contains("Edited while the listing slept"), "{atom}");
}

/// A cold read whose second page of posts fails keeps the first page's posts (stored and
/// published, the failure reported with its URL), and the next run reads cold again, so
/// nothing the failed page held is left behind.
#[test]
fn a_failed_later_page_keeps_the_posts_read_before_it() {
    let site = Site::start();
    let base = site.base();
    category_lookup(&site);
    let first: Vec<Value> = api_posts(&base, 1..101);
    let second: Vec<Value> = api_posts(&base, 101..106);
    site.set(LISTING, listing_page(&base, &["post-1"]));
    site.set(
        &posts_path(1, None),
        json_with_pages(&json!(first), Some(2)),
    );
    site.set(&posts_path(2, None), Resp::Status(500));

    // The read itself: the first page is kept, the cut reported.
    let got = read_blocking(&site.url("/wp-json/"), &site.url(LISTING), None, None).expect("read");
    assert_eq!(got.posts.len(), 100);
    assert!(!got.complete);
    let page2 = site.url(&posts_path(2, None));
    assert_eq!(
        got.cut_by,
        Some((page2.clone(), "HTTP status 500".to_string()))
    );
    assert_eq!(
        got.failures,
        vec![(page2.clone(), "HTTP status 500".into())]
    );

    // A run: the 100 posts are stored, the page is named, the exit says something failed.
    let (dir, config) = wordpress_source(&site);
    let (code, _, err) = common::feedwright(&config, &["run"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("100 new") && err.contains(&page2), "{err}");
    assert_eq!(atom_ids(dir.path()).len(), 100);

    // The page answers again: the next run is a cold read again and gets its posts, though
    // the listing has not changed (no 304 for a read that was cut short).
    site.set(
        &posts_path(2, None),
        json_with_pages(&json!(second), Some(2)),
    );
    let before = site.requests().len();
    let (code, _, err) = common::feedwright(&config, &["run"]);
    assert_eq!(code, 0, "{err}");
    let asked = &site.requests()[before..];
    assert!(asked.contains(&posts_path(2, None)), "{asked:?}");
    assert!(err.contains("5 new"), "{err}");
}

fn result_with(
    complete: bool,
    last_modified: Option<chrono::DateTime<Utc>>,
    cut: bool,
) -> WpResult {
    WpResult {
        posts: Vec::new(),
        total_pages: 1,
        requests: 1,
        complete,
        last_modified,
        cut_by: cut.then(|| ("u".to_string(), "HTTP status 500".to_string())),
        unsettled: false,
        failures: Vec::new(),
        skipped: Vec::new(),
        pass_failed: false,
        failed_posts: Vec::new(),
        gone: Vec::new(),
    }
}

#[test]
fn the_next_window_goes_on_from_what_was_read() {
    use feedwright::source::{API_WINDOW_OVERLAP, next_api_window};
    let at = |h: u32, m: u32, s: u32| Utc.with_ymd_and_hms(2024, 5, 9, h, m, s).single().unwrap();
    let started = at(12, 0, 0);
    let after = Some(at(8, 0, 0));
    let back = started - API_WINDOW_OVERLAP;
    // Read to the end, cold or incremental: from when the read started, less the overlap.
    assert_eq!(
        next_api_window(None, started, &result_with(true, None, false)),
        Some(back)
    );
    assert_eq!(
        next_api_window(after, started, &result_with(true, Some(at(9, 0, 0)), false)),
        Some(back)
    );
    // A cold read stopped by `max_pages`: the older posts are the backfill's.
    assert_eq!(
        next_api_window(None, started, &result_with(false, Some(at(3, 0, 0)), false)),
        Some(back)
    );
    // A cold read cut by a failed page stays cold.
    assert_eq!(
        next_api_window(None, started, &result_with(false, Some(at(3, 0, 0)), true)),
        None
    );
    // An incremental read cut short (max_pages or a failure) goes on from its last post, a
    // second earlier so that posts saved in that second are read again.
    for cut in [false, true] {
        assert_eq!(
            next_api_window(after, started, &result_with(false, Some(at(9, 30, 0)), cut)),
            Some(at(9, 29, 59))
        );
    }
    // ... unless that would not move on: then from the last post itself.
    assert_eq!(
        next_api_window(
            after,
            started,
            &result_with(false, Some(at(8, 0, 1)), false)
        ),
        Some(at(8, 0, 1))
    );
    // Never past our own clock: a post dated in the future does not move the window there.
    assert_eq!(
        next_api_window(
            after,
            started,
            &result_with(false, Some(at(13, 0, 0)), false)
        ),
        Some(back - chrono::Duration::seconds(1))
    );
    // A post met twice (edited while the read went on) may have pushed another one onto a
    // page already read: an incremental read keeps its window; a cold one does not care.
    let unsettled = WpResult {
        unsettled: true,
        ..result_with(true, Some(at(9, 30, 0)), false)
    };
    assert_eq!(next_api_window(after, started, &unsettled), None);
    assert_eq!(next_api_window(None, started, &unsettled), Some(back));
    // Nothing read: the same window again.
    assert_eq!(
        next_api_window(after, started, &result_with(false, None, true)),
        None
    );
}

/// A REST API request that fails fails the source with that request's URL and reason, said
/// once (not after the API root), and a site hiding its users' names is no warning: their
/// posts just have no author.
#[test]
fn a_failed_api_request_is_named_once() {
    let site = Site::start();
    let base = site.base();
    category_lookup(&site);
    site.set(LISTING, listing_page(&base, &["post-1"]));
    site.set(&posts_path(1, None), Resp::Status(500));
    let (_dir, config) = wordpress_source(&site);
    let (code, _, err) = common::feedwright(&config, &["run"]);
    assert_eq!(code, 1, "{err}");
    let line = format!("site: {}: HTTP status 500", site.url(&posts_path(1, None)));
    assert!(err.contains(&line), "{err}");
    assert!(!err.contains("/wp-json/: http"), "{err}");

    // Posts without `_embed` whose author the API refuses to name.
    let items: Vec<Value> = posts(1..3)
        .iter()
        .map(|p| api_post(&base, p, false))
        .collect();
    site.set(&posts_path(1, None), json_resp(&json!(items)));
    site.set("/wp-json/wp/v2/users/7", Resp::Status(401));
    site.set(
        "/wp-json/wp/v2/categories",
        json_resp(&json!([{"id": 4, "name": "International Negotiation"}])),
    );
    site.set(
        "/wp-json/wp/v2/tags",
        json_resp(&json!([{"id": 9, "name": "Trade"}])),
    );
    let (code, _, err) = common::feedwright(&config, &["run"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("2 new"), "{err}");
    assert!(!err.contains("WARN"), "{err}");
}

/// A backfill whose REST API refuses a later page goes on by walking the listing, and the posts
/// the API pages already stored are not fetched again: only the others' pages are.
#[test]
fn a_backfill_walking_on_after_the_api_fetches_only_posts_it_did_not_store() {
    let site = Site::start();
    let base = site.base();
    category_lookup(&site);
    let all = posts(1..106);
    let newest: Vec<Value> = all[5..]
        .iter()
        .rev()
        .map(|p| api_post(&base, p, true))
        .collect();
    site.set(&backfill_path(1), json_with_pages(&json!(newest), Some(2)));
    site.set(&backfill_path(2), Resp::Status(403));
    let links: Vec<(String, String)> = all
        .iter()
        .rev()
        .map(|p| (format!("{base}{}", p.path()), p.title.clone()))
        .collect();
    site.set(LISTING, Resp::Html(common::listing(&base, &links, None)));
    for p in &all {
        site.set(&p.path(), Resp::Html(common::classic_post(&base, p)));
    }
    let (dir, config) = wordpress_source(&site);
    let (code, _, err) = common::feedwright(&config, &["backfill"]);
    assert_eq!(code, 0, "{err}");
    let fetched: Vec<String> = site
        .requests()
        .into_iter()
        .filter(|r| r.starts_with("/2024/"))
        .collect();
    let want: Vec<String> = all[..5].iter().rev().map(|p| p.path()).collect();
    let mut got = fetched.clone();
    got.sort();
    let mut want_sorted = want.clone();
    want_sorted.sort();
    assert_eq!(got, want_sorted, "{err}");
    let ids = atom_ids(dir.path());
    assert_eq!(ids.len(), 105, "{err}");
    assert!(err.contains("105 new, 0 updated"), "{err}");
}

/// Posts read through the REST API are not re-checked through their pages while the listing
/// answers 304 (the API tells of their edits once it changes): a page's markup differing from
/// the API's text would count as an edit of a post nobody touched.
#[test]
fn api_posts_are_not_rechecked_through_their_pages() {
    let site = Site::start();
    let base = site.base();
    category_lookup(&site);
    let all = posts(1..3);
    let items: Vec<Value> = all.iter().map(|p| api_post(&base, p, true)).collect();
    site.set(LISTING, listing_page(&base, &["post-1", "post-2"]));
    site.set(&posts_path(1, None), json_resp(&json!(items)));
    for p in &all {
        site.set(&p.path(), Resp::Html(common::classic_post(&base, p)));
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let config = common::write_config(
        dir.path(),
        &common::site_config(
            &site.url(LISTING),
            "",
            "kind = \"wordpress\"\nrecheck_days = 36500\nrecheck_hours = 0",
        ),
    );
    let (code, _, err) = common::feedwright(&config, &["run"]);
    assert_eq!(code, 0, "{err}");
    let before = site.requests().len();
    let (code, _, err) = common::feedwright(&config, &["run"]);
    assert_eq!(code, 0, "{err}");
    let asked = &site.requests()[before..];
    assert_eq!(asked, [LISTING.to_string()], "{err}");
    assert!(
        !err.contains("updated") || err.contains("0 updated"),
        "{err}"
    );

    // Read as `html` from now on: its posts are pages, re-checked as such.
    let as_html = |kind: &str| {
        common::site_config(
            &site.url(LISTING),
            "",
            &format!("kind = \"{kind}\"\nrecheck_days = 36500\nrecheck_hours = 0"),
        )
    };
    std::fs::write(&config, as_html("html")).unwrap();
    let before = site.requests().len();
    let (code, _, err) = common::feedwright(&config, &["run"]);
    assert_eq!(code, 0, "{err}");
    let asked = &site.requests()[before..];
    assert!(asked.contains(&all[0].path()), "{asked:?}\n{err}");

    // An `auto` source whose listing stops advertising the API forgets its window.
    let db = dir.path().join("feedwright.db");
    let window = || {
        feedwright::store::Store::open(&db)
            .expect("store")
            .api_window("site")
            .expect("window")
    };
    assert!(window().is_some());
    std::fs::write(&config, as_html("auto")).unwrap();
    let links: Vec<(String, String)> = all
        .iter()
        .map(|p| (format!("{base}{}", p.path()), p.title.clone()))
        .collect();
    site.set(LISTING, Resp::Html(common::listing(&base, &links, None)));
    let (code, _, err) = common::feedwright(&config, &["run"]);
    assert_eq!(code, 0, "{err}");
    assert!(window().is_none(), "{err}");
}

/// A post edited while an incremental read goes on moves to the end of the oldest-first order
/// and is met again on a later page: it is read once, and the read is unsettled (the post that
/// slid onto a page already read may have been skipped), so the window stays for the next run.
#[test]
fn a_post_met_twice_is_read_once_and_unsettles_the_read() {
    let site = Site::start();
    let base = site.base();
    category_lookup(&site);
    let after = Some("2024-05-09T00%3A00%3A00Z");
    let first = api_posts(&base, 1..101);
    let mut second = api_posts(&base, 101..103);
    second.push(first[49].clone());
    site.set(
        &posts_path(1, after),
        json_with_pages(&json!(first), Some(2)),
    );
    site.set(
        &posts_path(2, after),
        json_with_pages(&json!(second), Some(2)),
    );
    site.set(&dated_path(1), json_resp(&json!([])));
    let since = incremental(2024, 5, 9, &|_| true);
    let got =
        read_blocking(&site.url("/wp-json/"), &site.url(LISTING), since, None).expect("API read");
    assert_eq!(got.posts.len(), 102);
    assert!(got.unsettled);
    assert!(got.complete);
}
