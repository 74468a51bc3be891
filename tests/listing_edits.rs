//! Edits of posts too old to be re-checked by age, caught because a listing page shows the post
//! modified after the store last checked it.

mod common;

use common::{Post, Site, feedwright, write_config};

const PER_PAGE: usize = 10;

/// Posts newest first, all of 2024: far older than `recheck_days`, so none is re-checked by age.
fn make_posts(n: usize) -> Vec<Post> {
    (0..n)
        .map(|i| {
            let id = 100 + (n - i) as u64;
            Post::new(
                id,
                &format!("post-{id}"),
                &format!("Post number {id}"),
                &format!("2024-05-{:02}T09:00:00+00:00", 28 - i),
            )
        })
        .collect()
}

/// A classic-theme (twentysixteen-like) listing page: each card shows the post's published
/// date, and its modified date when it has one, as such themes print them.
fn listing_with_dates(base: &str, posts: &[Post], next: Option<&str>) -> String {
    let cards: String = posts
        .iter()
        .map(|p| {
            let u = format!("{base}{}", p.path());
            let times = match &p.modified {
                Some(m) => format!(
                    r#"<time class="entry-date published" datetime="{}">Some day</time><time class="updated" datetime="{m}">Later</time>"#,
                    p.date
                ),
                None => format!(
                    r#"<time class="entry-date published updated" datetime="{}">Some day</time>"#,
                    p.date
                ),
            };
            format!(
                r#"<article class="post type-post hentry"><header class="entry-header"><h2 class="entry-title"><a href="{u}" rel="bookmark">{t}</a></h2></header>
<div class="entry-summary"><p>Excerpt … <a href="{u}" class="more-link">Continue reading</a></p></div>
<footer class="entry-footer"><span class="posted-on"><a href="{u}" rel="bookmark">{times}</a></span></footer></article>"#,
                t = p.title
            )
        })
        .collect();
    let next = next
        .map(|n| format!(r#"<a class="next page-numbers" href="{n}">Next page</a>"#))
        .unwrap_or_default();
    format!(
        r#"<!DOCTYPE html><html><head><meta charset="utf-8"><title>Category – Notebook</title></head>
<body class="archive category"><div id="primary"><main id="main" class="site-main">
{cards}
<nav class="navigation pagination">{next}</nav>
</main></div></body></html>"#
    )
}

/// Serve `posts` (newest first) under /cat/, PER_PAGE per listing page.
fn publish(site: &Site, posts: &[Post]) {
    common::publish_paged(site, posts, PER_PAGE, listing_with_dates);
}

/// One html source on the listing, re-checks by age as configured by default (7 days) but as
/// often as asked (`recheck_hours = 0`): only the listing can make these posts fetched again.
fn config(site: &Site) -> String {
    common::site_config(
        &site.url("/cat/"),
        "respect_robots = false",
        "kind = \"html\"\nrecheck_hours = 0",
    )
}

/// Post paths requested since the `since`-th request, with whether each was conditional.
fn post_hits(site: &Site, since: usize) -> Vec<(String, bool)> {
    site.hits()[since..]
        .iter()
        .filter(|h| !h.path.starts_with("/cat/"))
        .map(|h| (h.path.clone(), h.conditional))
        .collect()
}

#[test]
fn a_listing_showing_an_old_post_modified_gets_it_fetched_again() {
    let site = Site::start();
    let mut posts = make_posts(15);
    // Edited long ago, before the first run: its listing date says nothing new.
    posts[3].modified = Some("2024-06-01T12:00:00+00:00".into());
    publish(&site, &posts);
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &config(&site));
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("site: 15 new"), "{stderr}");

    // The second newest post is edited: new text, and a later `updated` date on its page and on
    // its listing card. The date is the site's own word, compared with the stored copy's, never
    // with this machine's clock: one in the past (a site clock behind, or a date set by hand)
    // counts as well.
    posts[1].body = "<p>Rewritten: the delegations signed the water accord.</p>".into();
    posts[1].modified = Some("2025-01-10T08:00:00+00:00".into());
    publish(&site, &posts);

    let before = site.hits().len();
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("site: 0 new, 1 updated, 0 unchanged, 0 failed"),
        "{stderr}"
    );
    // Only the edited post was fetched, conditionally, like a re-check.
    assert_eq!(
        post_hits(&site, before),
        vec![(posts[1].path(), true)],
        "{:?}",
        site.hits()[before..].to_vec()
    );
    // Every post of page 1 is stored: the walk still stops there.
    let listing: Vec<String> = site.hits()[before..]
        .iter()
        .filter(|h| h.path.starts_with("/cat/"))
        .map(|h| h.path.clone())
        .collect();
    assert_eq!(listing, vec!["/cat/".to_string()]);
    let atom = std::fs::read_to_string(dir.path().join("out/main/atom.xml")).unwrap();
    assert!(
        atom.contains("the delegations signed the water accord"),
        "{atom}"
    );
    assert!(!atom.contains("Body of Post number 114"), "{atom}");

    // A later change of the listing (a new post) does not fetch the edited post again: its
    // listing date is no longer later than the stored copy's.
    let mut more = vec![Post::new(
        200,
        "post-200",
        "Post number 200",
        "2024-07-01T09:00:00+00:00",
    )];
    more.extend(posts.iter().cloned());
    publish(&site, &more);
    let before = site.hits().len();
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("site: 1 new, 0 updated"), "{stderr}");
    assert_eq!(post_hits(&site, before), vec![(more[0].path(), false)]);

    // A save that moves only the modified date (nothing feedwright extracts changed): the post
    // is fetched once for it, found unchanged, and not fetched again on the next listing change
    // although its stored copy keeps its older `updated`.
    more[5].modified = Some("2025-03-01T08:00:00+00:00".into());
    publish(&site, &more);
    let before = site.hits().len();
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("site: 0 new, 0 updated, 1 unchanged"),
        "{stderr}"
    );
    assert_eq!(post_hits(&site, before), vec![(more[5].path(), true)]);
    let mut newest = vec![Post::new(
        201,
        "post-201",
        "Post number 201",
        "2024-07-02T09:00:00+00:00",
    )];
    newest.extend(more.iter().cloned());
    publish(&site, &newest);
    let before = site.hits().len();
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("site: 1 new, 0 updated"), "{stderr}");
    assert_eq!(post_hits(&site, before), vec![(newest[0].path(), false)]);
}
