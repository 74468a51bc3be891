//! Dates of sites not in English, through the real binary against a site on loopback: a
//! theme's byline in French, German, Spanish or English read as the post's date, a date
//! without a time of day read in the configured zone, a feed's French `pubDate`, and the
//! warning of a first read that found no date at all.

mod common;

use std::collections::HashMap;
use std::path::Path;

use common::{Resp, Site, feedwright, json_items, listing, site_config, write_config};

/// A post page of a classic theme whose only date is `date_markup` (inside its
/// `.entry-meta`) and `head` (in its `<head>`).
fn page(base: &str, slug: &str, head: &str, date_markup: &str) -> String {
    format!(
        r#"<!DOCTYPE html><html lang="fr-FR"><head><meta charset="UTF-8">
<title>Post {slug} – Le Blog</title>
<link rel="canonical" href="{base}/{slug}/" />{head}
</head><body class="single single-post">
<main id="main" class="site-main">
<article class="post type-post status-publish hentry">
<header class="entry-header"><h1 class="entry-title">Post {slug}</h1>
<div class="entry-meta">{date_markup}</div></header>
<div class="entry-content"><p>Les délégations ont présenté leurs positions respectives.</p></div>
<footer class="entry-footer"><span class="byline"><span class="author vcard"><a class="url fn n" href="{base}/author/z/">Zoé Dupont</a></span></span></footer>
</article></main></body></html>"#
    )
}

/// Serve a listing of `posts` (`(slug, head, date markup)`) at `/category/news/`.
fn serve(site: &Site, posts: &[(&str, &str, &str)]) {
    let base = site.base();
    let mut links = Vec::new();
    for (slug, head, markup) in posts {
        site.set(
            &format!("/{slug}/"),
            Resp::Html(page(&base, slug, head, markup)),
        );
        links.push((format!("{base}/{slug}/"), format!("Post {slug}")));
    }
    site.set("/category/news/", Resp::Html(listing(&base, &links, None)));
}

/// `date_published` of every item of `out/main/feed.json` below `dir`, by the item's last
/// path segment.
fn published(dir: &Path) -> HashMap<String, String> {
    json_items(dir, "main")
        .iter()
        .map(|item| {
            let url = item["url"].as_str().expect("url");
            let slug = url.trim_end_matches('/').rsplit('/').next().expect("slug");
            (
                slug.to_string(),
                item["date_published"].as_str().expect("date").to_string(),
            )
        })
        .collect()
}

/// A `run` of an `html` source reading `site`'s `/category/news/` in a new folder: the folder,
/// the configuration file and stderr (the run must succeed).
fn first_run(site: &Site) -> (tempfile::TempDir, std::path::PathBuf, String) {
    run_with(site, "", "")
}

/// Run once an html source of the category served by [`serve`], with `top` at the top of the
/// configuration and `tail` at its end; the run succeeds. Its folder, configuration file and
/// stderr.
fn run_with(site: &Site, top: &str, tail: &str) -> (tempfile::TempDir, std::path::PathBuf, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let body = format!(
        "{top}\n{}\n{tail}",
        site_config(&site.url("/category/news/"), "", "kind = \"html\"")
    );
    let cfg = write_config(dir.path(), &body);
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    (dir, cfg, stderr)
}

/// Serve at `/feed/` an RSS feed of two items, `accord` and `sommet`, each with its `pubDate`
/// line (`None`: none), run a feed source of it with `extra` configuration, and give the
/// published dates by slug.
fn run_feed(
    site: &Site,
    accord: Option<&str>,
    sommet: Option<&str>,
    extra: &str,
) -> HashMap<String, String> {
    run_feed_in(site, "", accord, sommet, extra).0
}

/// [`run_feed`] with `top` at the top of the configuration (`timezone = …`); stderr too.
fn run_feed_in(
    site: &Site,
    top: &str,
    accord: Option<&str>,
    sommet: Option<&str>,
    extra: &str,
) -> (HashMap<String, String>, String) {
    let base = site.base();
    let date = |d: Option<&str>| {
        d.map(|d| format!("<pubDate>{d}</pubDate>"))
            .unwrap_or_default()
    };
    let (accord, sommet) = (date(accord), date(sommet));
    let rss = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Le Blog</title><link>{base}/</link><description>d</description>
<item><title>Accord</title><link>{base}/accord/</link><guid>{base}/accord/</guid>
{accord}<description>Texte.</description></item>
<item><title>Sommet</title><link>{base}/sommet/</link><guid>{base}/sommet/</guid>
{sommet}<description>Texte.</description></item>
</channel></rss>"#
    );
    site.set(
        "/feed/",
        Resp::Bytes {
            content_type: "application/rss+xml; charset=utf-8".into(),
            body: rss.into_bytes(),
            headers: Vec::new(),
        },
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = write_config(
        dir.path(),
        &format!(
            "{top}\n{}",
            site_config(
                &site.url("/feed/"),
                "",
                &format!("kind = \"feed\"\n{extra}"),
            )
        ),
    );
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("not read"), "{stderr}");
    (published(dir.path()), stderr)
}

/// The theme's byline, in any of the common European languages, dates a post whose page gives
/// no machine-readable date: `Publié le 12 novembre 2024`, `Veröffentlicht am 3. März 2024`,
/// `<time class="entry-date published">22 mars 2024</time>` (no `datetime`). Before, each was
/// dated when first seen (today), silently.
#[test]
fn a_theme_byline_in_a_european_language_dates_the_post() {
    let site = Site::start();
    serve(
        &site,
        &[
            (
                "fr",
                "",
                r##"<span class="posted-on">Publié le <a href="#">12 novembre 2024</a></span>"##,
            ),
            (
                "de",
                "",
                r#"<span class="posted-on">Veröffentlicht am 3. März 2024</span>"#,
            ),
            (
                "es",
                "",
                r#"<span class="posted-on">Publicado el 12 de noviembre de 2024</span>"#,
            ),
            (
                "en",
                "",
                r#"<span class="posted-on">Posted on November 12, 2024</span>"#,
            ),
            (
                "time-text",
                "",
                r#"<span class="posted-on"><time class="entry-date published">22 mars 2024</time></span>"#,
            ),
            (
                "pt",
                "",
                r#"<span class="entry-date">1º de maio de 2024</span>"#,
            ),
        ],
    );
    let (dir, _, stderr) = first_run(&site);
    let dates = published(dir.path());
    for (slug, want) in [
        ("fr", "2024-11-12T00:00:00+00:00"),
        ("de", "2024-03-03T00:00:00+00:00"),
        ("es", "2024-11-12T00:00:00+00:00"),
        ("en", "2024-11-12T00:00:00+00:00"),
        ("time-text", "2024-03-22T00:00:00+00:00"),
        ("pt", "2024-05-01T00:00:00+00:00"),
    ] {
        assert_eq!(dates.get(slug).map(String::as_str), Some(want), "{slug}");
    }
    assert!(!stderr.contains("unparseable"), "{stderr}");
    assert!(!stderr.contains("shows a date"), "{stderr}");
}

/// Only a line is a byline: an element of a byline's class holding a whole text (a theme's
/// `<div class="published">` around the entry) is not searched for a date, which its words
/// could seem to hold ("Le 3 mars, 1500 personnes ont manifesté").
#[test]
fn a_long_text_of_a_byline_class_gives_no_date() {
    let site = Site::start();
    let words = "Le 3 mars, 1500 personnes ont manifesté devant le palais des Nations pour \
                 demander la reprise des négociations, interrompues depuis l'automne, entre \
                 les délégations des deux pays voisins.";
    serve(
        &site,
        &[(
            "long",
            "",
            &format!(r#"<div class="published"><p>{words}</p></div>"#),
        )],
    );
    let (dir, _, _) = first_run(&site);
    let dates = published(dir.path());
    let date = dates.get("long").expect("the post is published");
    assert!(!date.starts_with("1500"), "{date}");
}

/// `[source.selectors] date` matching a byline finds the date inside its text ("Publié le …"),
/// instead of warning that the whole text is not a date.
#[test]
fn a_date_selector_reads_the_date_inside_the_byline() {
    let site = Site::start();
    serve(
        &site,
        &[(
            "fr",
            "",
            r#"<span class="posted-on">Publié le 12 novembre 2024 par Zoé Dupont</span>"#,
        )],
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = write_config(
        dir.path(),
        &site_config(
            &site.url("/category/news/"),
            "",
            "kind = \"html\"\n[source.selectors]\ndate = \".posted-on\"",
        ),
    );
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        published(dir.path()).get("fr").map(String::as_str),
        Some("2024-11-12T00:00:00+00:00")
    );
    assert!(!stderr.contains("unparseable"), "{stderr}");
}

/// A date without a time of day (`<time datetime="2024-11-18">`, `article:published_time`
/// "2024-11-18", a byline) is that day in the configured zone, where the digest counts its
/// weeks: with `America/Montreal`, Monday 18 November is in week 47 there. Before, midnight UTC
/// put these posts on Sunday the 17th in Montreal, in the week before.
#[test]
fn a_date_without_a_time_of_day_is_that_day_in_the_configured_zone() {
    let site = Site::start();
    serve(
        &site,
        &[
            (
                "time",
                "",
                r#"<span class="posted-on"><time class="entry-date published" datetime="2024-11-18">18 novembre 2024</time></span>"#,
            ),
            (
                "meta",
                r#"<meta property="article:published_time" content="2024-11-18" />"#,
                "",
            ),
            (
                "byline",
                "",
                r#"<span class="posted-on">Publié le 18 novembre 2024</span>"#,
            ),
            (
                "with-time",
                r#"<meta property="article:published_time" content="2024-11-18T10:00:00+01:00" />"#,
                "",
            ),
        ],
    );
    let (dir, cfg, _) = run_with(
        &site,
        "timezone = \"America/Montreal\"",
        "[digest]\nfeed = \"main\"\nfrom = \"Revue <revue@example.org>\"\n\
         to = [\"liste@example.org\"]\n",
    );
    let dates = published(dir.path());
    for (slug, want) in [
        ("time", "2024-11-18T05:00:00+00:00"),
        ("meta", "2024-11-18T05:00:00+00:00"),
        ("byline", "2024-11-18T05:00:00+00:00"),
        ("with-time", "2024-11-18T09:00:00+00:00"),
    ] {
        assert_eq!(dates.get(slug).map(String::as_str), Some(want), "{slug}");
    }
    let (code, stdout, stderr) = feedwright(
        &cfg,
        &["digest", "--now", "2024-11-26T12:00:00+00:00", "--dry-run"],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("2024-W47"), "{stdout}");
    let text =
        std::fs::read_to_string(dir.path().join("out/main/digest/2024-W47.txt")).expect("issue");
    for slug in ["time", "meta", "byline", "with-time"] {
        assert!(text.contains(&format!("Post {slug}")), "{slug}: {text}");
    }
}

/// A feed whose `pubDate` is written in French (`mar., 12 nov. 2024 11:00:00 +0100`, which
/// RFC 822 does not allow but sites publish) is read with its time and offset.
#[test]
fn a_feed_date_in_french_is_read() {
    let site = Site::start();
    let dates = run_feed(
        &site,
        Some("mar., 12 nov. 2024 11:00:00 +0100"),
        Some("14 novembre 2024"),
        "",
    );
    assert_eq!(
        dates.get("accord").map(String::as_str),
        Some("2024-11-12T10:00:00+00:00")
    );
    assert_eq!(
        dates.get("sommet").map(String::as_str),
        Some("2024-11-14T00:00:00+00:00")
    );
}

/// A `full_text` feed source whose pages show their date only as a byline's text keeps the
/// item's own `pubDate` (to the minute), the byline being the page's last resort; a page with
/// neither is dated by its byline.
#[test]
fn a_full_text_item_date_comes_before_the_page_byline() {
    let site = Site::start();
    serve(
        &site,
        &[
            (
                "accord",
                "",
                r#"<span class="posted-on">Publié le 12 novembre 2024</span>"#,
            ),
            (
                "sommet",
                "",
                r#"<span class="posted-on">Publié le 14 novembre 2024</span>"#,
            ),
        ],
    );
    let dates = run_feed(
        &site,
        Some("Tue, 12 Nov 2024 15:30:00 +0000"),
        None,
        "full_text = true",
    );
    assert_eq!(
        dates.get("accord").map(String::as_str),
        Some("2024-11-12T15:30:00+00:00"),
        "the item's date, not the byline's day"
    );
    assert_eq!(
        dates.get("sommet").map(String::as_str),
        Some("2024-11-14T00:00:00+00:00"),
        "no item date: the byline's"
    );
}

/// A first read in which no post shows a date feedwright can read warns once, naming the
/// source and `[source.selectors] date`: every post is dated when first seen, so the next
/// digest would hold the whole archive. Later runs, and a source whose posts have dates, do
/// not warn.
#[test]
fn a_first_read_without_any_date_warns_once() {
    let site = Site::start();
    let undated: Vec<(String, &str, &str)> = (1..=3)
        .map(|i| {
            (
                format!("p{i}"),
                "",
                r#"<span class="posted-on">Publié il y a 3 jours</span>"#,
            )
        })
        .collect();
    let posts: Vec<(&str, &str, &str)> = undated
        .iter()
        .map(|(s, h, m)| (s.as_str(), *h, *m))
        .collect();
    serve(&site, &posts);
    let (_dir, cfg, stderr) = first_run(&site);
    let warned: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("shows a date feedwright can read"))
        .collect();
    assert_eq!(warned.len(), 1, "{stderr}");
    assert!(warned[0].contains("WARN"), "{}", warned[0]);
    assert!(warned[0].contains("site"), "{}", warned[0]);
    assert!(warned[0].contains("3 post(s)"), "{}", warned[0]);
    assert!(
        warned[0].contains("[source.selectors] date"),
        "{}",
        warned[0]
    );

    // A later run with a new undated post: not a first read, no warning.
    let mut more = posts.clone();
    more.push(("p4", "", ""));
    serve(&site, &more);
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("shows a date"), "{stderr}");

    // A site whose posts have dates: no warning on its first read.
    let dated = Site::start();
    serve(
        &dated,
        &[(
            "d1",
            "",
            r#"<span class="posted-on">Publié le 12 novembre 2024</span>"#,
        )],
    );
    let (_dir, _, stderr) = first_run(&dated);
    assert!(!stderr.contains("shows a date"), "{stderr}");
}

/// A post whose date cannot be read among posts whose dates can is named in one warning (it
/// is dated when first seen, so it counts as this week's): on a first read where the others
/// have dates, and on a later run of a source whose stored posts have dates.
#[test]
fn an_undated_post_among_dated_ones_is_named() {
    let site = Site::start();
    let dated = r#"<span class="posted-on">Publié le 12 novembre 2024</span>"#;
    let vague = r#"<span class="posted-on">Publié il y a 3 jours</span>"#;
    // A date ahead of the clock is read (and clamped, with its own warning): no missing date.
    let ahead = r#"<time class="entry-date published" datetime="2099-01-01T00:00:00Z">1</time>"#;
    let mut posts = vec![
        ("d1", "", dated),
        ("d2", "", dated),
        ("f1", "", ahead),
        ("u1", "", vague),
    ];
    serve(&site, &posts);
    let (_dir, cfg, stderr) = first_run(&site);
    let warned: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("show no date feedwright can read"))
        .collect();
    assert_eq!(warned.len(), 1, "{stderr}");
    assert!(warned[0].contains("WARN"), "{}", warned[0]);
    assert!(
        warned[0].contains("1 of the 4 new post(s)"),
        "{}",
        warned[0]
    );
    assert!(warned[0].contains(&site.url("/u1/")), "{}", warned[0]);
    for other in ["/d1/", "/f1/"] {
        assert!(!warned[0].contains(other), "{}", warned[0]);
    }
    assert!(!stderr.contains("read for the first time"), "{stderr}");

    // A later run: a new undated post alone among the stored dated ones (with no date text at
    // all; the source is also reported degraded, its only post of the run being undated).
    posts.push(("u2", "", ""));
    serve(&site, &posts);
    let (_, _, stderr) = feedwright(&cfg, &["run"]);
    let warned: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("show no date feedwright can read"))
        .collect();
    assert_eq!(warned.len(), 1, "{stderr}");
    assert!(
        warned[0].contains("1 of the 1 new post(s)"),
        "{}",
        warned[0]
    );
    assert!(warned[0].contains(&site.url("/u2/")), "{}", warned[0]);

    // And a run with nothing new says nothing of it.
    let (_, _, stderr) = feedwright(&cfg, &["run"]);
    assert!(!stderr.contains("show no date"), "{stderr}");
}

/// A time followed by a zone written as a name is read in that zone, on a page and in a feed:
/// a name of the configured zone (`CET` in Europe/Paris), one of RFC 2822 (`EST`), one the
/// time zone database gives a single offset (`BST`). A name of several zones (`IST`) is read
/// in the configured zone, with a warning naming the post and the text. Before, all of these
/// were read as UTC, silently.
#[test]
fn a_zone_written_as_a_name_is_read() {
    let site = Site::start();
    let byline = |text: &str| format!(r#"<span class="posted-on">{text}</span>"#);
    let (cet, est, bst, ist, par) = (
        byline("Publié le 18 novembre 2024, 11:00 CET"),
        byline("Posted Nov 18, 2024 3:00 PM EST"),
        byline("Posted 18 July 2024 11:00 BST"),
        byline("Publié le 18 novembre 2024, 11:00 IST"),
        byline("Publié le 18 novembre 2024 à 11:00 PAR Zoé"),
    );
    serve(
        &site,
        &[
            ("cet", "", &cet),
            ("est", "", &est),
            ("bst", "", &bst),
            ("ist", "", &ist),
            ("par", "", &par),
        ],
    );
    let (dir, cfg, stderr) = run_with(&site, "timezone = \"Europe/Paris\"", "");
    let dates = published(dir.path());
    for (slug, want) in [
        ("cet", "2024-11-18T10:00:00+00:00"),
        ("est", "2024-11-18T20:00:00+00:00"),
        ("bst", "2024-07-18T10:00:00+00:00"),
        ("ist", "2024-11-18T10:00:00+00:00"),
        // A word after the time is no zone: a time without a zone, UTC as before.
        ("par", "2024-11-18T11:00:00+00:00"),
    ] {
        assert_eq!(dates.get(slug).map(String::as_str), Some(want), "{slug}");
    }
    let warned: Vec<&str> = stderr.lines().filter(|l| l.contains("zone")).collect();
    assert_eq!(warned.len(), 1, "{stderr}");
    for part in ["WARN", "/ist/", "11:00 IST", "Europe/Paris"] {
        assert!(warned[0].contains(part), "{part}: {}", warned[0]);
    }
    // Said once: a run that finds the post unchanged does not say it again.
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("IST"), "{stderr}");

    // A feed's `pubDate` with a zone name feed-rs does not know.
    let (dates, stderr) = run_feed_in(
        &site,
        "timezone = \"Europe/Paris\"",
        Some("Mon, 18 Nov 2024 11:00:00 CET"),
        Some("Thu, 18 Jul 2024 11:00:00 BST"),
        "",
    );
    assert_eq!(
        dates.get("accord").map(String::as_str),
        Some("2024-11-18T10:00:00+00:00")
    );
    assert_eq!(
        dates.get("sommet").map(String::as_str),
        Some("2024-07-18T10:00:00+00:00")
    );
    assert!(!stderr.contains("zone"), "{stderr}");
}

/// A feed date that is a day alone (`<pubDate>2024-11-18</pubDate>`) is that day in the
/// configured zone, as on a page: with `America/Montreal`, Monday 18 November there, not
/// midnight UTC (Sunday evening in Montreal, the week before in the digest). A date with a
/// time and an offset is read as written.
#[test]
fn a_feed_date_that_is_a_day_alone_is_that_day_in_the_configured_zone() {
    let site = Site::start();
    let (dates, _) = run_feed_in(
        &site,
        "timezone = \"America/Montreal\"",
        Some("2024-11-18"),
        Some("2024-11-18T00:00:00Z"),
        "",
    );
    assert_eq!(
        dates.get("accord").map(String::as_str),
        Some("2024-11-18T05:00:00+00:00")
    );
    assert_eq!(
        dates.get("sommet").map(String::as_str),
        Some("2024-11-18T00:00:00+00:00")
    );
}
