//! Listing pages of blog engines other than WordPress, from trimmed copies of their default
//! themes' markup (`tests/fixtures/engines/`, links written as `{{BASE}}` or site-relative):
//! the post links a `run` stores and the next listing pages it walks to, and what a `backfill`
//! says when page 1 shows no next-page link it recognises.

mod common;

use common::{Resp, Site, atom_ids, feedwright, site_config, write_config};

/// A fixture page with `{{BASE}}` set to the site's address.
fn fixture(name: &str, site: &Site) -> String {
    let path = format!(
        "{}/tests/fixtures/engines/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .replace("{{BASE}}", &site.base())
}

/// The five posts of every fixture blog, newest first: (slug, title).
const POSTS: [(&str, &str); 5] = [
    ("anchoring-offers", "Anchoring Your First Offer"),
    ("batna-basics", "BATNA Basics for Busy People"),
    ("coalition-building", "Coalition Building in Trade Talks"),
    ("deadline-pressure", "Deadline Pressure &amp; Concessions"),
    ("empathy-at-table", "Empathy at the Table"),
];

/// Serve one post page per post at `path(slug)`, made from the fixture `template` (the page of
/// the first post) with the slug, `path` and title of each.
fn serve_posts(site: &Site, template: &str, path: impl Fn(usize, &str) -> String) {
    let page = fixture(template, site);
    let first = path(0, POSTS[0].0);
    for (i, (slug, title)) in POSTS.iter().enumerate() {
        let own = path(i, slug);
        let body = page
            .replace(&first, &own)
            .replace(POSTS[0].0, slug)
            .replace(POSTS[0].1, title);
        site.set(&own, Resp::Html(body));
    }
}

/// What one run did: exit code, stderr, the entry ids of the feed, its `atom.xml` and the paths
/// the site was asked for.
struct Ran {
    code: i32,
    stderr: String,
    ids: Vec<String>,
    atom: String,
    asked: Vec<String>,
}

/// Run once on `start` with `extra` source lines.
fn run(site: &Site, start: &str, extra: &str) -> Ran {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = write_config(
        dir.path(),
        &site_config(&site.url(start), "", &format!("kind = \"html\"\n{extra}")),
    );
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    let atom = std::fs::read_to_string(dir.path().join("out/main/atom.xml")).unwrap_or_default();
    let ids = if atom.is_empty() {
        Vec::new()
    } else {
        atom_ids(dir.path())
    };
    Ran {
        code,
        stderr,
        ids,
        atom,
        asked: site.requests(),
    }
}

/// Run once on `start` with no extra configuration: the run succeeds and asks for a page
/// starting with `next`, the second listing page.
fn walk(site: &Site, start: &str, next: &str) -> Ran {
    let ran = run(site, start, "");
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert!(
        ran.asked.iter().any(|p| p.starts_with(next)),
        "{:?}",
        ran.asked
    );
    ran
}

/// Do `ids` name exactly the posts at `paths` (in any order)?
fn assert_posts(ids: &[String], site: &Site, paths: impl IntoIterator<Item = String>) {
    let mut want: Vec<String> = paths.into_iter().map(|p| site.url(&p)).collect();
    let mut got = ids.to_vec();
    want.sort();
    got.sort();
    assert_eq!(got, want);
}

/// Serve each `(path, fixture)` page.
fn serve_fixtures(site: &Site, pages: &[(&str, &str)]) {
    for (path, name) in pages {
        site.set(path, Resp::Html(fixture(name, site)));
    }
}

fn hugo_site() -> Site {
    let site = Site::start();
    serve_fixtures(
        &site,
        &[
            ("/hugo/posts/", "hugo-posts-1.html"),
            ("/hugo/posts/page/2/", "hugo-posts-2.html"),
            ("/hugohome/", "hugo-home.html"),
        ],
    );
    for feed in ["/hugo/index.xml", "/hugo/posts/index.xml"] {
        site.set(
            feed,
            Resp::Bytes {
                content_type: "application/rss+xml; charset=UTF-8".into(),
                body: b"<rss version=\"2.0\"><channel><title>Hugo Blog</title></channel></rss>"
                    .to_vec(),
                headers: Vec::new(),
            },
        );
    }
    serve_posts(&site, "hugo-post.html", |_, s| format!("/hugo/posts/{s}/"));
    site
}

/// Hugo PaperMod: the cards' `a.entry-link` are the posts, and `nav.pagination a.next`
/// ("Next »", no `rel=next`) leads to page 2.
#[test]
fn hugo_papermod_listing_walks_to_page_two() {
    let site = hugo_site();
    let ran = walk(&site, "/hugo/posts/", "/hugo/posts/page/2/");
    assert_posts(
        &ran.ids,
        &site,
        POSTS.map(|(s, _)| format!("/hugo/posts/{s}/")),
    );
}

/// PaperMod's home page opens with the author's intro `<article>`, whose first links are social
/// icons, the first the site's RSS feed: never taken as a post (its fetch failed every run).
#[test]
fn hugo_home_intro_feed_icon_is_no_post() {
    let site = hugo_site();
    let ran = walk(&site, "/hugohome/", "/hugo/posts/page/2/");
    assert!(!ran.stderr.contains("index.xml"), "{}", ran.stderr);
    assert!(
        !ran.asked.iter().any(|p| p.ends_with(".xml")),
        "{:?}",
        ran.asked
    );
    assert_posts(
        &ran.ids,
        &site,
        POSTS.map(|(s, _)| format!("/hugo/posts/{s}/")),
    );
}

/// Blogger: the posts sit in the main `widget Blog` (no chrome), the sidebar's popular posts
/// are not taken, and "Older Posts" (`?updated-max=`) leads to page 2. The post page's body is
/// read inside that widget too.
#[test]
fn blogger_listing_gives_its_posts_and_walks_to_older_posts() {
    let site = Site::start();
    serve_fixtures(
        &site,
        &[
            ("/blogger/", "blogger-1.html"),
            (
                "/blogger/search?updated-max=2024-11-12T10:30:00-08:00&max-results=3",
                "blogger-2.html",
            ),
        ],
    );
    serve_posts(&site, "blogger-post.html", |_, s| {
        format!("/blogger/2024/11/{s}.html")
    });
    let Ran { ids, atom, .. } = walk(&site, "/blogger/", "/blogger/search?updated-max=");
    assert_posts(
        &ids,
        &site,
        POSTS.map(|(s, _)| format!("/blogger/2024/11/{s}.html")),
    );
    assert!(atom.contains("Second paragraph with more words"), "{atom}");
    for chrome in ["Popular Posts", "Blog Archive", "Subscribe to"] {
        assert!(!atom.contains(chrome), "{chrome}: {atom}");
    }
}

/// Jekyll minima with jekyll-paginate: its `a.post-link` titles, and `.pagination a.next` to
/// `/page2`.
#[test]
fn jekyll_paginate_next_link_is_walked() {
    let site = Site::start();
    serve_fixtures(
        &site,
        &[
            ("/jekyll/", "jekyll-1.html"),
            ("/jekyll/page2", "jekyll-2.html"),
        ],
    );
    let days = ["18", "15", "12", "08", "04"];
    serve_posts(&site, "jekyll-post.html", |i, s| {
        format!("/jekyll/2024/11/{}/{s}.html", days[i])
    });
    let ran = walk(&site, "/jekyll/", "/jekyll/page2");
    assert_eq!(ran.ids.len(), 5, "{:?}", ran.ids);
}

/// Drupal 7: its teasers' title links, and `li.pager-next a` to `?page=1`.
#[test]
fn drupal7_pager_next_is_walked() {
    let site = Site::start();
    // The pager links `/drupal/blog?page=1`.
    serve_fixtures(
        &site,
        &[
            ("/drupal/blog/", "drupal7-1.html"),
            ("/drupal/blog?page=1", "drupal7-2.html"),
        ],
    );
    serve_posts(&site, "drupal7-post.html", |i, _| {
        format!("/drupal/node/{}", 120 + i)
    });
    let ran = walk(&site, "/drupal/blog/", "/drupal/blog?page=1");
    assert_posts(
        &ran.ids,
        &site,
        (120..125).map(|n| format!("/drupal/node/{n}")),
    );
}

/// A backfill that ends after page 1 because it shows no next-page link feedwright knows says
/// so, naming `next_page`; at `-vv` each listing page read says what it gave and by which rule.
#[test]
fn backfill_of_one_page_says_no_next_link_was_found() {
    let site = hugo_site();
    // Page 1 with its next link in a markup no tier knows.
    let page = fixture("hugo-posts-1.html", &site)
        .replace(r#"<nav class="pagination">"#, r#"<nav class="pgn">"#)
        .replace(r#"class="next""#, r#"class="forward""#);
    site.set("/hugo/posts/", Resp::Html(page));
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = write_config(
        dir.path(),
        &site_config(&site.url("/hugo/posts/"), "", "kind = \"html\""),
    );
    let (code, _, stderr) = feedwright(&cfg, &["-vv", "backfill", "site"]);
    assert_eq!(code, 0, "{stderr}");
    let done = stderr
        .lines()
        .find(|l| l.contains("backfill complete"))
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(
        done.contains("page 1 shows no link to a next page")
            && done.contains("[source.selectors] next_page"),
        "{done}"
    );
    let read = stderr
        .lines()
        .find(|l| l.contains("listing page read"))
        .unwrap_or_else(|| panic!("{stderr}"));
    for part in ["posts=3", "the first link of each article", "next=none"] {
        assert!(read.contains(part), "{part}: {read}");
    }
    assert!(
        stderr
            .lines()
            .any(|l| l.contains("shows no link to a next page") && l.contains("/hugo/posts/")),
        "{stderr}"
    );

    // With a next-page link it knows, the backfill reads both pages and says nothing of the
    // kind (the walk's debug lines stay out of the default output).
    let site = hugo_site();
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = write_config(
        dir.path(),
        &site_config(&site.url("/hugo/posts/"), "", "kind = \"html\""),
    );
    let (code, _, stderr) = feedwright(&cfg, &["backfill", "site"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("backfill complete after 2 page(s)"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("listing page read"),
        "debug only: {stderr}"
    );
}

/// A site that gives every page its own description (the Eleventy base blog's
/// `<meta name="description">`): a post page repeating the listing's is summarized by the start
/// of its text; a post with a description of its own keeps it. A later run whose listing
/// answers 304 (not read) treats a post it reads again (an edit found by a re-check) the same.
#[test]
fn the_sites_description_is_no_posts_summary() {
    let site = Site::start();
    let head = |title: &str, description: &str| {
        format!(
            r#"<!DOCTYPE html><html><head><title>{title}</title>
            <meta name="description" content="{description}"></head>"#
        )
    };
    let site_says = "I am writing about my experiences as a naval navel-gazer.";
    site.set(
        "/blog/",
        Resp::Html(format!(
            r#"{}<body><main><ol class="postlist">
            <li class="postlist-item"><a href="/blog/first/" class="postlist-link">First</a></li>
            <li class="postlist-item"><a href="/blog/second/" class="postlist-link">Second</a>
            </li></ol></main></body></html>"#,
            head("Archive", site_says)
        )),
    );
    let post = |title: &str, description: &str, text: &str| {
        format!(
            r#"{}<body><main><h1>{title}</h1><ul class="post-metadata"><li>
            <time datetime="2024-11-18">18 November 2024</time></li></ul>
            <div class="e-content"><p>{text}</p></div></main></body></html>"#,
            head(title, description)
        )
    };
    let first = |text: &str| Resp::Html(post("First", site_says, text));
    site.set("/blog/first/", first("Anchoring sets the range of a talk."));
    site.set(
        "/blog/second/",
        Resp::Html(post(
            "Second",
            "How deadlines move concessions.",
            "Deadlines move concessions late in a talk.",
        )),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = write_config(
        dir.path(),
        &site_config(
            &site.url("/blog/"),
            "",
            "kind = \"html\"\nrecheck_days = 100000\nrecheck_hours = 0",
        ),
    );
    let summary = |title: &str| {
        let atom = std::fs::read_to_string(dir.path().join("out/main/atom.xml")).expect("atom");
        let at = atom.find(&format!("<title>{title}</title>")).expect(title);
        let entry = &atom[at..];
        let start = entry.find("<summary").expect("summary");
        let end = entry.find("</summary>").expect("summary end");
        entry[start..end].to_string()
    };
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        summary("First").contains("Anchoring sets the range"),
        "{stderr}"
    );
    assert!(summary("Second").contains("How deadlines move concessions."));

    // The listing unchanged (a 304), the first post edited: read again by a re-check.
    site.set(
        "/blog/first/",
        first("Anchoring sets the range of every talk."),
    );
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("1 updated"), "{stderr}");
    let first_summary = summary("First");
    assert!(
        first_summary.contains("range of every talk"),
        "{first_summary}"
    );
    let atom = std::fs::read_to_string(dir.path().join("out/main/atom.xml")).expect("atom");
    assert!(!atom.contains("naval navel-gazer"), "{atom}");
}

/// An `item_link` that matches nothing (a typo) is said, even though the built-in rules find
/// the posts without it; a matching one is not.
#[test]
fn an_item_link_that_matches_nothing_is_said() {
    let site = hugo_site();
    let ran = run(
        &site,
        "/hugo/posts/",
        "[source.selectors]\nitem_link = \"a.entry-lnk\"",
    );
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert_eq!(ran.ids.len(), 5, "{:?}", ran.ids);
    let said: Vec<&str> = ran
        .stderr
        .lines()
        .filter(|l| l.contains("item_link matches no post link"))
        .collect();
    assert_eq!(said.len(), 1, "{}", ran.stderr);
    assert!(said[0].contains("WARN"), "{}", said[0]);
    assert!(said[0].contains("built-in rules"), "{}", said[0]);

    let site = hugo_site();
    let ran = run(
        &site,
        "/hugo/posts/",
        "[source.selectors]\nitem_link = \".post-entry a.entry-link\"",
    );
    assert_eq!(ran.ids.len(), 5, "{:?}", ran.ids);
    assert!(!ran.stderr.contains("item_link matches"), "{}", ran.stderr);
}

/// A listing page without post links that advertises the site's feed (not its comments feed)
/// names it in the report of the source's state, as the way to read the site's posts.
#[test]
fn a_listing_without_post_links_names_the_feed_it_advertises() {
    let site = Site::start();
    site.set(
        "/writing/",
        Resp::Html(
            r#"<!DOCTYPE html><html><head><title>Writing</title>
            <link rel="alternate" type="application/rss+xml" href="/comments/feed/">
            <link rel="alternate" type="application/atom+xml" href="/writing/feed.xml">
            </head><body><div class="list"><p><a href="/writing/one/">One</a></p>
            <p><a href="/writing/two/">Two</a></p></div></body></html>"#
                .into(),
        ),
    );
    let ran = run(&site, "/writing/", "");
    let line = ran
        .stderr
        .lines()
        .find(|l| l.contains("yielded no post links"))
        .unwrap_or_else(|| panic!("{}", ran.stderr));
    assert!(
        line.contains(&format!(
            "the page advertises a feed, {}",
            site.url("/writing/feed.xml")
        )),
        "{line}"
    );
    assert!(line.contains("kind = \"feed\""), "{line}");
    assert!(!line.contains("comments"), "{line}");
}
