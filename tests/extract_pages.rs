//! Extraction rules, one hand-written page (or inline snippet) per behaviour.

use chrono::{TimeZone, Utc};
use feedwright::config::Selectors;
use feedwright::extract::{ExtractError, extract_listing, extract_post};
use feedwright::model::{DateSource, Link, RawDate, RawPage, RawPost};
use url::Url;

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/pages/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

fn page_with(url: &str, body: String, content_type: Option<&str>) -> RawPage {
    let url = Url::parse(url).expect("test URL");
    RawPage {
        requested_url: url.clone(),
        url,
        content_type: content_type.map(str::to_string),
        body,
        fetched_at: Utc.with_ymd_and_hms(2024, 7, 1, 12, 0, 0).unwrap(),
    }
}

fn page(url: &str, name: &str) -> RawPage {
    page_with(url, fixture(name), Some("text/html; charset=UTF-8"))
}

fn post(url: &str, name: &str) -> RawPost {
    extract_post(&page(url, name), &Selectors::default()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn date(value: &str, source: DateSource) -> RawDate {
    RawDate {
        value: value.to_string(),
        source,
    }
}

fn urls(list: &[Url]) -> Vec<&str> {
    list.iter().map(Url::as_str).collect()
}

fn related_urls(links: &[Link]) -> Vec<&str> {
    links.iter().map(|l| l.url.as_str()).collect()
}

const CLASSIC: &str = "https://blog.example.org/2023/04/02/trade-talks-tariffs/";

// ---------------------------------------------------------------------------------------------
// Classic theme single post

#[test]
fn classic_title_strips_site_suffix_and_decodes_double_encoded_entities() {
    let p = post(CLASSIC, "classic-post.html");
    // og:title wins over the theme's h1 and <title>; "&amp;amp;" is decoded to "&".
    assert_eq!(p.title.as_deref(), Some("Trade Talks & Tariffs"));
}

#[test]
fn classic_dates_are_all_candidates_in_cascade_order() {
    let p = post(CLASSIC, "classic-post.html");
    assert_eq!(
        p.published,
        vec![
            date("2023-04-02T09:15:00+02:00", DateSource::Meta),
            date("2023-04-02T07:15:00+00:00", DateSource::Markup),
        ]
    );
    assert_eq!(
        p.modified,
        vec![
            date("2023-04-05T18:00:00+02:00", DateSource::Meta),
            date("2023-04-05T16:00:00+00:00", DateSource::Markup),
        ]
    );
    // Neither the visible "on April 2, 2023", the comment's date nor the sidebar's is a candidate.
    let all: Vec<&str> = p.published.iter().map(|d| d.value.as_str()).collect();
    assert!(!all.iter().any(|v| v.contains("April 2, 2023")));
    assert!(
        !all.iter()
            .any(|v| v.starts_with("2023-05-01") || v.starts_with("2023-04-10"))
    );
}

#[test]
fn classic_author_from_byline_markup_not_from_comments() {
    let p = post(CLASSIC, "classic-post.html");
    assert_eq!(p.authors, vec!["Miriam Brenner".to_string()]);
}

#[test]
fn classic_categories_from_post_terms_and_meta_never_from_chrome() {
    let p = post(CLASSIC, "classic-post.html");
    assert_eq!(
        p.categories,
        vec![
            "Trade Policy",
            "International Negotiation",
            "tariffs",
            "BATNA",
            "WTO"
        ]
    );
    for chrome in ["Mediation", "sidebar-tag", "Footer cat", "spam"] {
        assert!(!p.categories.iter().any(|c| c == chrome), "{chrome} leaked");
    }
}

#[test]
fn classic_body_drops_scripts_styles_forms_comments_and_sharing() {
    let p = post(CLASSIC, "classic-post.html");
    let body = p.body_html.expect("body");
    assert!(body.contains("Tariff threats are <strong>signals</strong>"));
    assert!(body.contains(r#"<a href="/2023/03/01/anchoring/">anchors</a>"#));
    for gone in [
        "<script",
        "alert(",
        "<style",
        "margin: 0",
        "<!--",
        "HTML comment",
        "<form",
        "Subscribe",
        "sharedaddy",
        "Share this",
        "Great post",
    ] {
        assert!(!body.contains(gone), "{gone:?} left in body: {body}");
    }
}

#[test]
fn classic_canonical_base_href_post_id_and_summary() {
    let p = post(CLASSIC, "classic-post.html");
    assert_eq!(
        p.base_href.as_ref().map(Url::as_str),
        Some("https://blog.example.org/")
    );
    // Relative canonical resolved against <base href>, query kept (normalize drops trackers).
    assert_eq!(
        p.canonical.as_ref().map(Url::as_str),
        Some("https://blog.example.org/2023/04/02/trade-talks-tariffs/?utm_source=x")
    );
    // No shortlink: the article's id="post-4242".
    assert_eq!(p.wp_post_id, Some(4242));
    assert_eq!(
        p.summary.as_deref(),
        Some("How tariff threats shape the bargaining table.")
    );
    assert!(p.related.is_empty());
}

#[test]
fn single_post_rel_next_is_not_a_next_listing_page() {
    let l = extract_listing(&page(CLASSIC, "classic-post.html"), &Selectors::default())
        .expect("listing");
    assert_eq!(l.next, None);
    // An og:type=article page with one article and no WordPress body classes is a post too.
    let html = r#"<html><head><meta property="og:type" content="article">
        <link rel="next" href="/adjacent-post/"></head>
        <body><article><h1>One</h1></article></body></html>"#;
    let l = extract_listing(
        &page_with("https://x.example/one/", html.into(), None),
        &Selectors::default(),
    )
    .expect("listing");
    assert_eq!(l.next, None);
}

// ---------------------------------------------------------------------------------------------
// Block theme single post

const BLOCK: &str = "https://harbour.example/mediation-in-practice/";

#[test]
fn block_theme_post_fields() {
    let p = post(BLOCK, "block-post.html");
    assert_eq!(p.title.as_deref(), Some("Mediation in Practice"));
    assert_eq!(
        p.published,
        vec![date("2024-02-11T08:30:00+00:00", DateSource::Markup)]
    );
    assert_eq!(
        p.modified,
        vec![date("2024-03-01T12:00:00+00:00", DateSource::Markup)]
    );
    assert_eq!(p.authors, vec!["Lucía García".to_string()]);
    assert_eq!(p.categories, vec!["Mediation", "Practice", "listening"]);
    assert_eq!(p.wp_post_id, Some(77), "from body class postid-77");
    let body = p.body_html.expect("body");
    assert!(body.starts_with("<p>A mediator's first job is to <em>listen</em>.</p>"));
    assert!(
        body.contains(r#"src="/wp-content/uploads/2024/02/table.jpg""#)
            && body.contains(r#"alt="A table""#),
        "{body}"
    );
    assert!(!body.contains("Other post"));
}

#[test]
fn title_from_title_tag_strips_suffix_when_nothing_better_exists() {
    let html = "<html><head><title>Hello   world &#8211; Some Blog</title></head>\
                <body><p>x</p></body></html>";
    let p = extract_post(
        &page_with("https://x.example/a/", html.into(), None),
        &Selectors::default(),
    )
    .expect("post");
    assert_eq!(p.title.as_deref(), Some("Hello world"));
    // A lower-case tail is part of the title, not a site name.
    let html = "<html><head><title>How we built it - an async task framework</title></head>\
                <body><p>x</p></body></html>";
    let p = extract_post(
        &page_with("https://x.example/b/", html.into(), None),
        &Selectors::default(),
    )
    .expect("post");
    assert_eq!(
        p.title.as_deref(),
        Some("How we built it - an async task framework")
    );
}

#[test]
fn known_site_name_is_stripped_with_every_separator_and_titles_are_never_truncated() {
    let long = "word ".repeat(80);
    for sep in [" – ", " - ", " | ", " · ", " — "] {
        let html = format!(
            r#"<html><head><meta property="og:site_name" content="The Site">
            <meta property="og:title" content="{long}{sep}The Site"></head><body></body></html>"#
        );
        let p = extract_post(
            &page_with("https://x.example/a/", html, None),
            &Selectors::default(),
        )
        .expect("post");
        assert_eq!(p.title.as_deref(), Some(long.trim()), "separator {sep:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// JSON-LD

const JSONLD: &str = "https://journal.example/ceasefires/";

#[test]
fn jsonld_graph_fields_and_person_reference() {
    let p = post(JSONLD, "jsonld-post.html");
    // JSON-LD headline wins over og:title; entity decoded; no site suffix to strip.
    assert_eq!(
        p.title.as_deref(),
        Some("Why Ceasefires Fail \u{2013} and What Works")
    );
    assert_eq!(p.authors, vec!["Hiro Nakamura".to_string()]);
    assert_eq!(
        p.published,
        vec![
            date("2022-11-03T09:00:00+01:00", DateSource::Jsonld),
            date("2022-11-03T10:00:00Z", DateSource::Meta),
        ]
    );
    assert_eq!(
        p.modified,
        vec![date("2022-11-04T12:30:00+01:00", DateSource::Jsonld)]
    );
    assert_eq!(
        p.summary.as_deref(),
        Some("A look at verification and third parties.")
    );
    assert_eq!(p.wp_post_id, Some(981), "from the shortlink");
}

#[test]
fn jsonld_page_without_body_container_uses_readability() {
    let p = post(JSONLD, "jsonld-post.html");
    let body = p.body_html.expect("readability body");
    assert!(body.contains("Verification is the first missing piece."));
    assert!(body.contains("sequencing matters"));
    assert!(!body.contains("topbar"));
}

#[test]
fn jsonld_arrays_type_arrays_bad_blocks_and_author_prefixes() {
    let p = post("https://x.example/sanctions/", "jsonld-array.html");
    assert_eq!(p.title.as_deref(), Some("Sanctions and Signals"));
    assert_eq!(p.authors, vec!["Amélie Dubois", "Jonathan Smith"]);
    assert_eq!(
        p.published,
        vec![date("2021-06-01T12:00:00Z", DateSource::Jsonld)]
    );
    assert_eq!(
        p.body_html.as_deref(),
        Some("<p>Sanctions send signals.</p>")
    );
}

#[test]
fn jsonld_title_from_graph_site_name_is_stripped() {
    let html = r#"<html><head><script type="application/ld+json">
        {"@graph":[{"@type":"WebSite","name":"Graph Site"},
                   {"@type":"Article","headline":"Real Title | Graph Site"}]}
        </script></head><body></body></html>"#;
    let p = extract_post(
        &page_with("https://x.example/a/", html.into(), None),
        &Selectors::default(),
    )
    .expect("post");
    assert_eq!(p.title.as_deref(), Some("Real Title"));
}

// ---------------------------------------------------------------------------------------------
// Related posts

#[test]
fn yarpp_links_resolved_against_base_deduplicated_without_self() {
    let p = post(
        "https://quiet.example/blog/back-channel-diplomacy/",
        "yarpp-post.html",
    );
    assert_eq!(
        p.related,
        vec![
            Link {
                url: "https://quiet.example/blog/oslo-channel/".into(),
                title: "The Oslo Channel".into()
            },
            Link {
                url: "https://quiet.example/blog/shuttle-diplomacy/".into(),
                title: "Shuttle Diplomacy".into()
            },
            Link {
                url: "https://quiet.example/blog/track-two/".into(),
                title: "Track Two Dialogues".into()
            },
        ]
    );
    let body = p.body_html.expect("body");
    assert!(body.contains("Most breakthroughs"));
    assert!(!body.contains("Oslo"), "YARPP block left in body: {body}");
}

#[test]
fn crp_links() {
    let p = post("https://rivers.example/water-treaties/", "crp-post.html");
    assert_eq!(
        related_urls(&p.related),
        vec![
            "https://rivers.example/indus-waters/",
            "https://rivers.example/nile-basin/"
        ]
    );
    assert_eq!(p.related[0].title, "The Indus Waters Treaty");
    assert_eq!(p.title.as_deref(), Some("Water Treaties"));
    assert!(!p.body_html.expect("body").contains("crp_"));
}

#[test]
fn related_heading_followed_by_links() {
    let p = post(
        "https://treaty.example/arms-control-basics/",
        "related-heading-post.html",
    );
    // Off-site links are not the site's related posts; fragments do not make a new link.
    assert_eq!(
        related_urls(&p.related),
        vec![
            "https://treaty.example/new-start/",
            "https://treaty.example/inf-treaty/",
            "https://treaty.example/ctbt/",
        ]
    );
    let body = p.body_html.expect("body");
    assert!(body.contains("Closing paragraph stays."));
    assert!(!body.contains("Related Posts"), "{body}");
    assert!(!body.contains("New START"), "{body}");
}

#[test]
fn jetpack_related_links_are_taken_when_the_server_rendered_them() {
    let p = post(
        "https://negotiation.example/2024/05/17/rounds-verification-timetable-text-majority-sovereignty/",
        "bench-post.html",
    );
    assert!(p.related.len() >= 2, "{:?}", p.related);
    assert!(
        p.related
            .iter()
            .all(|l| l.url.starts_with("https://negotiation.example/20") && !l.title.is_empty())
    );
    let empty_jetpack = r#"<html><body class="single"><article><h1 class="entry-title">T</h1>
        <div class="entry-content"><p>x</p><div id="jp-relatedposts" class="jp-relatedposts">
        <h3 class="jp-relatedposts-headline"><em>Related</em></h3></div></div></article></body></html>"#;
    let p = extract_post(
        &page_with("https://x.example/a/", empty_jetpack.into(), None),
        &Selectors::default(),
    )
    .expect("post");
    assert!(p.related.is_empty());
    assert_eq!(p.body_html.as_deref(), Some("<p>x</p>"));
}

// ---------------------------------------------------------------------------------------------
// Listings

#[test]
fn classic_listing_page1_takes_only_the_post_list() {
    let l = extract_listing(
        &page(
            "https://blog.example.org/category/mediation/",
            "classic-listing-page1.html",
        ),
        &Selectors::default(),
    )
    .expect("listing");
    assert_eq!(
        urls(&l.posts),
        vec![
            "https://blog.example.org/2024/03/01/third-post/",
            "https://blog.example.org/2024/02/01/second-post/",
            "https://blog.example.org/2024/01/01/first-post/",
        ]
    );
    // No <link rel=next>: the theme's "Next page" link.
    assert_eq!(
        l.next.as_ref().map(Url::as_str),
        Some("https://blog.example.org/category/mediation/page/2/")
    );
}

#[test]
fn classic_listing_page2_ignores_intro_sidebar_and_comments() {
    let l = extract_listing(
        &page(
            "https://blog.example.org/category/mediation/page/2/",
            "classic-listing-page2.html",
        ),
        &Selectors::default(),
    )
    .expect("listing");
    assert_eq!(
        urls(&l.posts),
        vec![
            "https://blog.example.org/2023/12/01/page-two-a/",
            "https://blog.example.org/2023/11/01/page-two-b/",
        ]
    );
    // <link rel=next> comes first in the cascade.
    assert_eq!(
        l.next.as_ref().map(Url::as_str),
        Some("https://blog.example.org/category/mediation/page/3/")
    );
}

#[test]
fn block_listing_pages() {
    let l = extract_listing(
        &page(
            "https://harbour.example/category/practice/",
            "block-listing-page1.html",
        ),
        &Selectors::default(),
    )
    .expect("listing");
    assert_eq!(
        urls(&l.posts),
        vec![
            "https://harbour.example/mediation-in-practice/",
            "https://harbour.example/listening-first/",
        ]
    );
    assert_eq!(
        l.next.as_ref().map(Url::as_str),
        Some("https://harbour.example/category/practice/page/2/")
    );
    let l = extract_listing(
        &page(
            "https://harbour.example/category/practice/page/2/",
            "block-listing-page2.html",
        ),
        &Selectors::default(),
    )
    .expect("listing");
    assert_eq!(
        urls(&l.posts),
        vec![
            "https://harbour.example/older-one/",
            "https://harbour.example/older-two/"
        ]
    );
    assert_eq!(
        l.next.as_ref().map(Url::as_str),
        Some("https://harbour.example/category/practice/page/3/")
    );
}

#[test]
fn last_listing_page_has_no_next() {
    let html = r#"<html><body class="archive"><main><article>
        <h2 class="entry-title"><a href="/p/" rel="bookmark">P</a></h2></article>
        <a class="prev page-numbers" href="/page/1/">Prev</a></main></body></html>"#;
    let l = extract_listing(
        &page_with("https://x.example/page/2/", html.into(), None),
        &Selectors::default(),
    )
    .expect("listing");
    assert_eq!(urls(&l.posts), vec!["https://x.example/p/"]);
    assert_eq!(l.next, None);
}

// ---------------------------------------------------------------------------------------------
// The benchmark site's markup

#[test]
fn bench_post_is_extracted_completely() {
    let url = "https://negotiation.example/2024/05/17/rounds-verification-timetable-text-majority-sovereignty/";
    let p = post(url, "bench-post.html");
    assert_eq!(
        p.title.as_deref(),
        Some("Rounds verification timetable text majority sovereignty")
    );
    assert_eq!(p.canonical.as_ref().map(Url::as_str), Some(url));
    assert_eq!(p.wp_post_id, Some(10011));
    assert_eq!(p.authors, vec!["Tunde Okafor".to_string()]);
    assert_eq!(
        p.published.first(),
        Some(&date("2024-05-17T11:52:00+00:00", DateSource::Meta))
    );
    assert_eq!(
        p.modified.first(),
        Some(&date("2024-05-27T12:52:00+00:00", DateSource::Meta))
    );
    assert!(
        p.published
            .iter()
            .all(|d| d.value == "2024-05-17T11:52:00+00:00")
    );
    assert_eq!(
        p.categories,
        vec![
            "International Negotiation",
            "Conflict Resolution",
            "coalitions"
        ]
    );
    let body = p.body_html.expect("body");
    assert!(body.starts_with("<p>"));
    assert!(!body.contains("jp-relatedposts"));
    assert!(!body.contains("Leave a Reply"));
}

#[test]
fn bench_listing_is_extracted_completely() {
    let l = extract_listing(
        &page(
            "https://negotiation.example/category/international-negotiation/page/2/",
            "bench-listing.html",
        ),
        &Selectors::default(),
    )
    .expect("listing");
    assert_eq!(l.posts.len(), 10, "{:?}", urls(&l.posts));
    assert!(
        l.posts
            .iter()
            .all(|u| u.as_str().starts_with("https://negotiation.example/2024/"))
    );
    assert_eq!(
        l.next.as_ref().map(Url::as_str),
        Some("https://negotiation.example/category/international-negotiation/page/3/")
    );
}

/// A classic theme prints `time.entry-date.published.updated` for a post never edited and a
/// separate `time.updated` for one that was: each card's modified date goes with its post.
#[test]
fn listing_cards_give_their_posts_modified_dates() {
    let l = extract_listing(
        &page(
            "https://negotiation.example/category/international-negotiation/page/2/",
            "bench-listing.html",
        ),
        &Selectors::default(),
    )
    .expect("listing");
    assert_eq!(l.modified.len(), 10, "{:?}", l.modified);
    let of = |slug: &str| {
        l.modified
            .iter()
            .find(|(u, _)| u.as_str().contains(slug))
            .map(|(_, d)| d.as_str())
    };
    // Edited: the `updated` time, not the published one.
    assert_eq!(
        of("observers-control-arms-rethinking-text"),
        Some("2024-05-28T10:10:00+00:00")
    );
    assert_eq!(
        of("rounds-verification-timetable-text-majority-sovereignty"),
        Some("2024-05-27T12:52:00+00:00")
    );
    // Never edited: published and updated are one element.
    assert_eq!(
        of("outcome-credibility-mediator"),
        Some("2024-05-30T10:11:00+00:00")
    );
}

#[test]
fn listing_dates_come_only_from_a_card_of_one_post() {
    let html = r#"<html><body class="archive"><main>
        <ul class="wp-block-post-template">
          <li class="wp-block-post"><h2 class="wp-block-post-title"><a href="/a/">A</a></h2>
            <div class="wp-block-post-date wp-block-post-date__modified-date">
            <time datetime="2024-06-02T10:00:00+00:00">June 2</time></div></li>
          <li class="wp-block-post"><h2 class="wp-block-post-title"><a href="/b/">B</a></h2>
            <div class="wp-block-post-date"><time datetime="2024-06-01T10:00:00+00:00">June 1</time>
            </div></li>
        </ul>
        <article><h2 class="entry-title"><a href="/c/" rel="bookmark">C</a></h2>
          <span itemprop="dateModified" datetime="2024-06-03T10:00:00+00:00">June 3</span></article>
        <article><h2 class="entry-title"><a href="/d/" rel="bookmark">D</a></h2>
          <h2 class="entry-title"><a href="/e/" rel="bookmark">E</a></h2>
          <time class="updated" datetime="2024-06-04T10:00:00+00:00">June 4</time></article>
        </main></body></html>"#;
    let l = extract_listing(
        &page_with("https://x.example/category/c/", html.into(), None),
        &Selectors::default(),
    )
    .expect("listing");
    assert_eq!(l.posts.len(), 5, "{:?}", urls(&l.posts));
    let found: Vec<(&str, &str)> = l
        .modified
        .iter()
        .map(|(u, d)| (u.as_str(), d.as_str()))
        .collect();
    // B shows only its published date; D and E share one card, so its date is neither's.
    assert_eq!(
        found,
        vec![
            ("https://x.example/a/", "2024-06-02T10:00:00+00:00"),
            ("https://x.example/c/", "2024-06-03T10:00:00+00:00"),
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// Selector overrides

#[test]
fn overrides_are_tried_first() {
    let sel = Selectors {
        title: Some("h1.entry-title".into()),
        date: Some(".entry-meta .posted-on".into()),
        author: Some(".comment-author .fn".into()),
        categories: Some(".tags-links a".into()),
        body: Some(".entry-content p:first-child".into()),
        related: Some(".nav-links a".into()),
        ..Selectors::default()
    };
    let p = extract_post(&page(CLASSIC, "classic-post.html"), &sel).expect("post");
    assert_eq!(p.title.as_deref(), Some("Trade Talks & Tariffs"));
    // The date override may point at visible text; it comes first, as markup.
    assert_eq!(p.published[0], date("April 2, 2023", DateSource::Markup));
    assert_eq!(p.published.len(), 3);
    assert_eq!(p.authors, vec!["A Commenter".to_string()]);
    assert_eq!(p.categories, vec!["tariffs", "BATNA"]);
    assert_eq!(
        p.body_html.as_deref(),
        Some("Tariff threats are <strong>signals</strong>, not policies.")
    );
    assert_eq!(
        related_urls(&p.related),
        vec![
            "https://blog.example.org/2023/03/20/older/",
            "https://blog.example.org/2023/04/10/newer/"
        ]
    );
}

#[test]
fn date_override_reads_datetime_then_content_then_text() {
    let html = r#"<html><body><article><h1>T</h1>
        <span class="d1" content="2020-02-02">ignored text</span>
        <span class="d2" datetime="2021-01-01" content="2020-01-01">x</span></article></body></html>"#;
    let run = |css: &str| {
        let sel = Selectors {
            date: Some(css.into()),
            ..Selectors::default()
        };
        extract_post(&page_with("https://x.example/a/", html.into(), None), &sel)
            .expect("post")
            .published
    };
    assert_eq!(run(".d2"), vec![date("2021-01-01", DateSource::Markup)]);
    assert_eq!(run(".d1"), vec![date("2020-02-02", DateSource::Markup)]);
}

#[test]
fn listing_overrides_are_tried_first() {
    let sel = Selectors {
        item_link: Some(".widget_recent_entries li".into()),
        next_page: Some("a.prev.page-numbers".into()),
        ..Selectors::default()
    };
    let l = extract_listing(
        &page(
            "https://blog.example.org/category/mediation/page/2/",
            "classic-listing-page2.html",
        ),
        &sel,
    )
    .expect("listing");
    assert_eq!(
        urls(&l.posts),
        vec![
            "https://blog.example.org/2024/04/01/sidebar-post/",
            "https://blog.example.org/2024/03/01/third-post/",
        ]
    );
    assert_eq!(
        l.next.as_ref().map(Url::as_str),
        Some("https://blog.example.org/category/mediation/")
    );
    // An override that matches nothing falls back to the cascade.
    let sel = Selectors {
        item_link: Some(".no-such-class a".into()),
        ..Selectors::default()
    };
    let l = extract_listing(
        &page(
            "https://blog.example.org/category/mediation/page/2/",
            "classic-listing-page2.html",
        ),
        &sel,
    )
    .expect("listing");
    assert_eq!(l.posts.len(), 2);
}

// ---------------------------------------------------------------------------------------------
// Not a post

#[test]
fn non_html_content_type_is_rejected() {
    let p = page_with(
        "https://x.example/feed/",
        "<rss></rss>".into(),
        Some("application/rss+xml; charset=UTF-8"),
    );
    assert_eq!(
        extract_post(&p, &Selectors::default()),
        Err(ExtractError::NotHtml(
            "application/rss+xml; charset=UTF-8".into()
        ))
    );
    assert_eq!(
        extract_listing(&p, &Selectors::default()).expect("listing"),
        Default::default()
    );
    let xhtml = page_with(
        "https://x.example/a/",
        "<html><body><h1>Hi</h1></body></html>".into(),
        Some("application/xhtml+xml"),
    );
    assert!(extract_post(&xhtml, &Selectors::default()).is_ok());
}

fn not_a_post(url: &str, body: String) -> String {
    match extract_post(&page_with(url, body, None), &Selectors::default()) {
        Err(ExtractError::NotAPost(reason)) => reason,
        other => panic!("expected NotAPost, got {other:?}"),
    }
}

#[test]
fn login_pages_are_not_posts() {
    let r = not_a_post(
        "https://blog.example.org/wp-login.php",
        fixture("login.html"),
    );
    assert!(r.contains("login"), "{r}");
    let r = not_a_post(
        "https://blog.example.org/members/",
        fixture("members-login.html"),
    );
    assert!(r.contains("password"), "{r}");
}

#[test]
fn a_post_with_a_login_widget_is_still_a_post() {
    let html = r#"<html><body class="single"><article><h1 class="entry-title">Post</h1>
        <div class="entry-content"><p>Body</p></div></article>
        <aside><form action="/wp-login.php"><input type="password" name="pwd"></form></aside>
        </body></html>"#;
    let p = extract_post(
        &page_with("https://x.example/post/", html.into(), None),
        &Selectors::default(),
    )
    .expect("post");
    assert_eq!(p.body_html.as_deref(), Some("<p>Body</p>"));
}

#[test]
fn challenge_and_access_denied_pages_are_not_posts() {
    let r = not_a_post("https://blog.example.org/post/", fixture("challenge.html"));
    assert!(r.contains("challenge"), "{r}");
    let attention = "<html><head><title>Attention Required! | Cloudflare</title></head>\
                     <body><div id=\"cf-wrapper\"><h1>Sorry, you have been blocked</h1></div></body></html>";
    assert!(not_a_post("https://x.example/a/", attention.into()).contains("Attention Required"));
    let denied = "<html><head><title>Access Denied</title></head><body><h1>Access Denied</h1>\
                  <p>You don't have permission to access this page.</p></body></html>";
    assert_eq!(
        not_a_post("https://x.example/a/", denied.into()),
        "access denied"
    );
}

#[test]
fn a_page_without_title_or_body_has_no_content() {
    let p = page_with(
        "https://x.example/a/",
        "<html><head></head><body></body></html>".into(),
        Some("text/html"),
    );
    assert_eq!(
        extract_post(&p, &Selectors::default()),
        Err(ExtractError::NoContent)
    );
}

/// Markup nested as deep as accepted is extracted (no recursion overflows); deeper is refused
/// before it is parsed.
#[test]
fn deeply_nested_markup_does_not_overflow() {
    let nested = |depth: usize| {
        format!(
            "<html><body><article><h1 class=\"entry-title\">Deep</h1><div class=\"entry-content\">{}x{}</div></article></body></html>",
            "<span>".repeat(depth),
            "</span>".repeat(depth)
        )
    };
    let limit = feedwright::html_limits::MAX_DEPTH;
    let p = extract_post(
        &page_with("https://x.example/a/", nested(limit - 10), None),
        &Selectors::default(),
    )
    .expect("post");
    assert!(p.body_html.expect("body").contains('x'));
    assert_eq!(
        extract_post(
            &page_with("https://x.example/a/", nested(3_000), None),
            &Selectors::default(),
        ),
        Err(ExtractError::TooCostly(
            feedwright::html_limits::Exceeded::Depth
        ))
    );
}

// ---------------------------------------------------------------------------------------------
// Regressions

/// `post_class()` puts taxonomy slugs on the `<article>` (`tag-power-sharing`,
/// `category-navigation-skills`, `tag-related-party-transactions`); they once made the whole
/// article count as sharing / navigation / related chrome.
#[test]
fn regression_post_class_taxonomy_tokens_are_not_chrome_on_listings() {
    let l = extract_listing(
        &page(
            "https://blog.example.org/category/international-negotiation/",
            "taxonomy-class-listing.html",
        ),
        &Selectors::default(),
    )
    .expect("listing");
    assert_eq!(
        urls(&l.posts),
        vec![
            "https://blog.example.org/2024/05/02/power-sharing-deals/",
            "https://blog.example.org/2024/04/20/side-agreements/",
            "https://blog.example.org/2024/04/11/public-comment/",
        ]
    );
}

#[test]
fn regression_post_class_taxonomy_tokens_are_not_chrome_on_single_posts() {
    let p = post(
        "https://blog.example.org/2024/05/02/power-sharing-deals/",
        "taxonomy-class-post.html",
    );
    assert_eq!(p.title.as_deref(), Some("Power-Sharing Deals"));
    assert_eq!(
        p.published,
        vec![date("2024-05-02T08:00:00+00:00", DateSource::Markup)]
    );
    assert_eq!(p.authors, vec!["Jane Roe".to_string()]);
    assert_eq!(
        p.categories,
        vec![
            "International Negotiation".to_string(),
            "power sharing".to_string()
        ]
    );
    assert_eq!(
        p.body_html.as_deref(),
        Some("<p>Coalition governments split ministries by a formula.</p>")
    );
    assert_eq!(p.wp_post_id, Some(4211));
}

/// Posts whose titles read like a challenge page were once rejected on the title alone.
#[test]
fn regression_challenge_like_titles_on_real_posts_are_posts() {
    let classic = |title: &str| {
        format!(
            "<html><head><title>{title} &#8211; Negotiation Notebook</title></head>\
             <body class=\"post-template-default single single-post\"><article class=\"post hentry\">\
             <h1 class=\"entry-title\">{title}</h1><div class=\"entry-content\"><p>Body of {title}</p></div>\
             </article></body></html>"
        )
    };
    // Evidence other than the theme markup: JSON-LD article, og:type, a bare body container.
    let jsonld = |title: &str| {
        format!(
            "<html><head><title>{title}</title><script type=\"application/ld+json\">\
             {{\"@type\":\"BlogPosting\",\"headline\":\"{title}\"}}</script></head>\
             <body><div><h1>{title}</h1><p>Body of {title}, long enough to read.</p></div></body></html>"
        )
    };
    let og = |title: &str| {
        format!(
            "<html><head><title>{title}</title><meta property=\"og:type\" content=\"article\"></head>\
             <body><h1>{title}</h1><div class=\"post-content\"><p>Body of {title}</p></div></body></html>"
        )
    };
    for title in [
        "Just a Moment: Timing Your Offer",
        "Access Denied? Negotiating Market Entry in China",
        "When Attention Required More Than Talk",
    ] {
        for html in [classic(title), jsonld(title), og(title)] {
            let p = extract_post(
                &page_with("https://blog.example.org/a-post/", html.clone(), None),
                &Selectors::default(),
            )
            .unwrap_or_else(|e| panic!("{title}: {e}\n{html}"));
            assert_eq!(p.title.as_deref(), Some(title));
            assert!(
                p.body_html
                    .as_deref()
                    .is_some_and(|b| b.contains(&format!("Body of {title}"))),
                "{:?}",
                p.body_html
            );
        }
    }
    // The same titles on a page with nothing of a post are still challenges.
    let bare = "<html><head><title>Just a moment...</title></head>\
                <body><p>Checking your browser before accessing the site.</p></body></html>";
    assert!(not_a_post("https://blog.example.org/a-post/", bare.into()).contains("challenge"));
    // A challenge widget wins over post-looking markup.
    let widget = "<html><head><title>Just a moment...</title></head><body class=\"single\">\
                  <div class=\"entry-content\"><div id=\"challenge-stage\"></div></div></body></html>";
    assert!(not_a_post("https://blog.example.org/a-post/", widget.into()).contains("challenge"));
}

/// Regression: the no-break spaces of French typography (`Genève&nbsp;:`, `vue&#8239;!`)
/// became plain spaces in the title: only ASCII white space collapses in HTML.
#[test]
fn no_break_spaces_stay_in_the_title() {
    let html = "<!DOCTYPE html><html><head><title>x</title></head><body><article>\
                <h1 class=\"entry-title\">Genève&nbsp;: &laquo;&nbsp;accord&nbsp;&raquo;\n   \
                vue&#8239;!</h1><div class=\"entry-content\"><p>Texte du billet, assez long \
                pour être lu comme le corps de la page.</p></div></article></body></html>";
    let p = extract_post(
        &page_with("https://x.example/geneve/", html.into(), None),
        &Selectors::default(),
    )
    .expect("post");
    assert_eq!(
        p.title.as_deref(),
        Some("Genève\u{A0}: «\u{A0}accord\u{A0}» vue\u{202F}!")
    );
}
