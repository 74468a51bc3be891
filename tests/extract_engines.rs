//! Post pages of blog engines other than WordPress (tests/fixtures/engine-posts): the body is
//! their own content container without bylines, buttons or comments, dates and tags come from
//! their markup, and a section that is only a folder of the URL is no category.

use chrono::{TimeZone, Utc};
use feedwright::config::Selectors;
use feedwright::extract::extract_post;
use feedwright::model::{DateSource, RawDate, RawPage, RawPost};
use url::Url;

const SITE: &str = "https://blog.example.org";

fn page_at(url: &str, body: String) -> RawPage {
    let url = Url::parse(url).expect("test URL");
    RawPage {
        requested_url: url.clone(),
        url,
        content_type: Some("text/html; charset=utf-8".into()),
        body,
        fetched_at: Utc.with_ymd_and_hms(2024, 12, 1, 12, 0, 0).unwrap(),
    }
}

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/engine-posts/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

fn post_with(path: &str, name: &str, sel: &Selectors) -> RawPost {
    extract_post(&page_at(&format!("{SITE}{path}"), fixture(name)), sel)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn post(path: &str, name: &str) -> RawPost {
    post_with(path, name, &Selectors::default())
}

fn body(p: &RawPost) -> &str {
    p.body_html.as_deref().expect("a body")
}

fn markup(value: &str) -> Vec<RawDate> {
    vec![RawDate {
        value: value.into(),
        source: DateSource::Markup,
    }]
}

/// The post's text is all there, and none of `chrome` is.
fn clean(p: &RawPost, chrome: &[&str]) {
    let b = body(p);
    assert!(b.contains("First paragraph"), "{b}");
    assert!(b.contains("Second paragraph"), "{b}");
    for c in chrome {
        assert!(!b.contains(c), "{c:?} in the body: {b}");
    }
}

#[test]
fn ghost_body_is_its_content_section_without_byline_or_comments() {
    let p = post("/batna-basics/", "ghost.html");
    clean(
        &p,
        &[
            "Jane Doe",
            "3 min read",
            "Comments are loading",
            "Excerpt of",
        ],
    );
    assert_eq!(p.authors, ["Jane Doe"]);
}

#[test]
fn drupal_7_body_date_author_and_tags() {
    let p = post("/node/120", "drupal7.html");
    clean(&p, &["Submitted by", "Tags:"]);
    assert_eq!(p.published, markup("2024-11-18T10:00:00-05:00"));
    assert_eq!(p.authors, ["admin"]);
    assert!(
        p.categories.iter().any(|c| c == "Negotiation"),
        "{:?}",
        p.categories
    );
}

#[test]
fn drupal_10_body_date_author_and_tags() {
    let p = post("/node/120", "drupal10.html");
    let b = body(&p);
    assert!(b.contains("Body of Anchoring Your First Offer"), "{b}");
    for c in ["Add new comment", "Mon, 11/18/2024", "admin", "Tags"] {
        assert!(!b.contains(c), "{c:?} in the body: {b}");
    }
    assert_eq!(p.published, markup("2024-11-18T15:00:00+00:00"));
    assert_eq!(p.authors, ["admin"]);
    assert_eq!(p.categories, ["Negotiation"]);
}

#[test]
fn substack_body_leaves_out_the_subscribe_box_likes_and_discussion() {
    let p = post("/p/batna-basics", "substack.html");
    clean(
        &p,
        &[
            "Thanks for reading",
            "Discussion about this post",
            "Great post",
            "12 Likes",
        ],
    );
}

#[test]
fn eleventy_date_is_the_posts_own_time_element() {
    let p = post("/blog/fifthpost/", "eleventy.html");
    assert_eq!(p.published, markup("2024-11-18"));
    assert!(
        p.categories.iter().any(|c| c == "negotiation"),
        "{:?}",
        p.categories
    );
}

#[test]
fn a_time_element_in_the_posts_text_is_not_its_date() {
    let html = r#"<!DOCTYPE html><html><head><title>Panel on trade</title></head><body>
        <main><h1>Panel on trade</h1><div class="e-content"><p>The panel meets on
        <time datetime="2025-03-01">1 March 2025</time> in Geneva, with four speakers.</p>
        <p>Registration opens soon.</p></div></main></body></html>"#;
    let p = extract_post(
        &page_at(&format!("{SITE}/panel/"), html.into()),
        &Selectors::default(),
    )
    .expect("post");
    assert!(p.published.is_empty(), "{:?}", p.published);
}

#[test]
fn a_time_element_in_a_guessed_text_is_not_its_date() {
    // No body container: only a `<time>` in the post's header or metadata line is its date.
    let text = "The conference gathered negotiators from twelve countries for two days of \
                panels on trade, climate and security, with long debates after each one.";
    let page = |meta: &str| {
        format!(
            r#"<!DOCTYPE html><html><head><title>Conference recap</title></head><body><main>
            <article><h1>Conference recap</h1>{meta}<p>{text} It opened on
            <time datetime="2023-06-01">1 June 2023</time>.</p><p>{text}</p><p>{text}</p>
            </article></main></body></html>"#
        )
    };
    let read = |html: String| {
        extract_post(
            &page_at(&format!("{SITE}/recap/"), html),
            &Selectors::default(),
        )
        .expect("post")
        .published
    };
    assert!(read(page("")).is_empty());
    assert_eq!(
        read(page(
            r#"<p class="post-meta"><time datetime="2024-11-18">18 Nov</time></p>"#
        )),
        markup("2024-11-18")
    );
}

#[test]
fn a_date_selector_reads_the_machine_date_inside_the_element() {
    let sel = Selectors {
        date: Some(".post-meta".into()),
        ..Selectors::default()
    };
    let p = post_with("/2024/11/15/batna-basics.html", "jekyll.html", &sel);
    assert_eq!(
        p.published.first(),
        markup("2024-11-15T00:00:00-05:00").first()
    );

    // A modified date first in the byline (GeneratePress) is not the published one.
    let sel = Selectors {
        date: Some(".posted-on".into()),
        ..Selectors::default()
    };
    let html = r#"<!DOCTYPE html><html><head><title>T</title></head><body><article>
        <h1 class="entry-title">T</h1><span class="posted-on"><time class="updated"
        datetime="2024-12-01T09:00:00+00:00">1 Dec</time><time class="entry-date published"
        datetime="2024-11-12T09:00:00+00:00">12 Nov</time></span><div class="entry-content">
        <p>Text.</p></div></article></body></html>"#;
    let p = extract_post(&page_at(&format!("{SITE}/t/"), html.into()), &sel).expect("post");
    assert_eq!(
        p.published.first(),
        markup("2024-11-12T09:00:00+00:00").first()
    );
}

#[test]
fn a_section_that_is_the_urls_first_folder_is_no_category() {
    let p = post("/posts/batna-basics/", "hugo.html");
    assert!(
        !p.categories.iter().any(|c| c == "posts"),
        "{:?}",
        p.categories
    );
    for t in ["Negotiation", "Trade"] {
        assert!(
            p.categories.iter().any(|c| c.eq_ignore_ascii_case(t)),
            "{t} missing: {:?}",
            p.categories
        );
    }
    // The same section elsewhere in the path is the site's category.
    let p = post("/2024/batna-basics/", "hugo.html");
    assert!(
        p.categories.iter().any(|c| c == "posts"),
        "{:?}",
        p.categories
    );
}

#[test]
fn a_guessed_body_leaves_out_comments() {
    // Substack's page with its body container renamed: the body is guessed from the page's
    // text, and the guess takes in the discussion below the post.
    let html = fixture("substack.html").replace("body markup", "story-text");
    let p = extract_post(
        &page_at(&format!("{SITE}/p/batna-basics"), html),
        &Selectors::default(),
    )
    .expect("post");
    let b = body(&p);
    assert!(b.contains("First paragraph"), "{b}");
    assert!(!b.contains("Great post"), "{b}");
    assert!(!b.contains("Discussion about"), "{b}");
}

#[test]
fn blogger_post_date_author_labels_and_body() {
    let p = post("/2024/11/batna-basics.html", "blogger.html");
    clean(&p, &["Posted by", "No comments", "Email This", "Labels"]);
    assert_eq!(p.published, markup("2024-11-15T10:30:00-08:00"));
    assert_eq!(p.authors, ["Jane Doe"]);
    for t in ["Negotiation", "Trade"] {
        assert!(p.categories.iter().any(|c| c == t), "{:?}", p.categories);
    }
}
