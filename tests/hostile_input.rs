//! End-to-end: what a hostile or careless site sends is bounded and never reaches the terminal
//! raw.

mod common;

use common::{Post, Resp, Site, classic_post, feedwright, listing, write_config};

/// A post body far over the limit is replaced by a notice with the summary and a link to the
/// post, in every feed; the run says so once, naming the post, and still exits 0. The other
/// post of the run is untouched.
#[test]
fn an_oversized_body_becomes_a_notice_and_a_warning() {
    let site = Site::start();
    let base = site.base();
    let mut big = Post::new(7, "huge", "Huge post", "2024-05-01T09:00:00+00:00");
    let paragraph = format!("<p>{}</p>\n", "lorem ipsum dolor sit amet ".repeat(40));
    big.body = format!(
        "<p>Opening words of the huge post.</p>{}",
        paragraph.repeat(feedwright::model::MAX_CONTENT_HTML_BYTES / paragraph.len() + 50)
    );
    assert!(big.body.len() > feedwright::model::MAX_CONTENT_HTML_BYTES);
    let small = Post::new(8, "small", "Small post", "2024-05-02T09:00:00+00:00");
    for p in [&big, &small] {
        site.set(&p.path(), Resp::Html(classic_post(&base, p)));
    }
    let links: Vec<(String, String)> = [&small, &big]
        .iter()
        .map(|p| (format!("{base}{}", p.path()), p.title.clone()))
        .collect();
    site.set("/cat/", Resp::Html(listing(&base, &links, None)));

    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &common::site_config(&site.url("/cat/"), "", ""));
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("site: 2 new"), "{stderr}");
    let big_url = format!("{base}{}", big.path());
    let warnings: Vec<&str> = stderr.lines().filter(|l| l.contains("WARN")).collect();
    assert_eq!(warnings.len(), 1, "{stderr}");
    assert!(
        warnings[0].contains(&big_url)
            && warnings[0].contains("565 KiB")
            && !stderr.contains("  failed"),
        "{stderr}"
    );

    let out = dir.path().join("out/main");
    for file in ["atom.xml", "rss.xml", "feed.json"] {
        let text = std::fs::read_to_string(out.join(file)).unwrap();
        assert!(text.len() < 64 * 1024, "{file}: {} bytes", text.len());
        // The summary (the body's start) is there; the body (some 20,000 times) is not.
        assert!(
            text.matches("lorem ipsum").count() < 100,
            "{file} carries the body"
        );
        assert!(text.contains("too long to be included"), "{file}");
        assert!(text.contains("Opening words of the huge post"), "{file}");
        assert!(text.contains("Body of Small post"), "{file}");
        let feed = feed_rs::parser::parse(text.as_bytes())
            .unwrap_or_else(|e| panic!("{file} does not parse: {e}"));
        assert_eq!(feed.entries.len(), 2, "{file}");
    }
    let atom = std::fs::read_to_string(out.join("atom.xml")).unwrap();
    assert!(
        atom.contains(&format!("href=&quot;{big_url}&quot;")),
        "{atom}"
    );

    // Nothing changed: nothing is said again.
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("WARN"), "{stderr}");
}

/// A feed whose XML error quotes terminal controls (colour, a window title, clear screen) and a
/// line break: the run's report and `status` (which shows the stored last error) print them
/// escaped, each on its one line.
#[test]
fn terminal_controls_in_a_remote_error_are_printed_escaped() {
    let site = Site::start();
    site.set(
        "/feed/",
        Resp::Bytes {
            content_type: "application/rss+xml".into(),
            body: b"<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>B</title>\
                    </\x1b[31mRED\x1b]0;pwned\x07\x1b[2J\r\nsite: 9 new\xe2\x80\xae></channel></rss>"
                .to_vec(),
            headers: vec![],
        },
    );
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        &common::site_config(&site.url("/feed/"), "", "kind = \"feed\""),
    );
    let unprintable = |s: &str| {
        s.chars()
            .any(|c| (c.is_control() && c != '\n') || ('\u{202a}'..='\u{202e}').contains(&c))
    };
    let (code, stdout, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(!unprintable(&stdout) && !unprintable(&stderr), "{stderr:?}");
    let line = stderr
        .lines()
        .find(|l| l.starts_with("site: "))
        .unwrap_or_else(|| panic!("no report line: {stderr}"));
    assert!(line.contains("\\u{1b}[31mRED"), "{line}");
    // The line break the feed sent does not start a report line of its own.
    assert_eq!(
        stderr.lines().filter(|l| l.starts_with("site")).count(),
        1,
        "{stderr}"
    );

    let (code, stdout, stderr) = feedwright(&cfg, &["status"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!unprintable(&stdout) && !unprintable(&stderr), "{stdout:?}");
    assert_eq!(stdout.lines().count(), 2, "{stdout}");
    assert!(stdout.contains("\\u{1b}]0;pwned\\u{7}"), "{stdout}");
}

/// A listing page holding far more post links than any real one: the first
/// `MAX_LISTING_POSTS` are taken, the rest counted, so the run reports them once instead of
/// keeping each as a pending post.
#[test]
fn a_listing_page_gives_at_most_the_cap_of_post_links() {
    use feedwright::model::MAX_LISTING_POSTS;
    let base = "https://example.org";
    let posts: Vec<(String, String)> = (0..MAX_LISTING_POSTS + 250)
        .map(|i| (format!("{base}/p{i}/"), format!("Post {i}")))
        .collect();
    let url = url::Url::parse(&format!("{base}/cat/")).unwrap();
    let page = feedwright::model::RawPage {
        requested_url: url.clone(),
        url,
        content_type: Some("text/html".into()),
        body: listing(base, &posts, None),
        fetched_at: chrono::Utc::now(),
    };
    let found = feedwright::extract::extract_listing(&page, &Default::default()).expect("listing");
    assert_eq!(found.posts.len(), MAX_LISTING_POSTS);
    assert_eq!(found.posts[0].as_str(), "https://example.org/p0/");
    assert_eq!(found.left_out, 250);
    let why = found.left_out_reason().unwrap();
    assert!(why.starts_with("250 more post links left out"), "{why}");
}
