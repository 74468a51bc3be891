//! Pages whose markup would cost html5ever minutes are refused before they are parsed: each is
//! a failure of that page, named in the run report, and the run goes on.

mod common;

use common::{Post, Resp, Site, classic_post, feedwright, html_config, listing, write_config};

fn atom(dir: &std::path::Path) -> String {
    std::fs::read_to_string(dir.join("out/main/atom.xml")).expect("atom.xml")
}

/// The run report's line naming `url`.
fn line_for<'a>(stderr: &'a str, url: &str) -> &'a str {
    stderr
        .lines()
        .find(|l| l.contains(url))
        .unwrap_or_else(|| panic!("no line for {url}\n{stderr}"))
}

#[test]
fn a_hostile_page_fails_alone_and_a_stored_post_stays_as_it_was() {
    let site = Site::start();
    let base = site.base();
    let post = |id: u64, slug: &str, title: &str, body: &str| {
        let mut p = Post::new(id, slug, title, "2024-11-12T10:00:00+00:00");
        p.body = body.to_string();
        p
    };
    let good = post(1, "good", "Good post", "<p>A normal post.</p>");
    let edited = post(2, "edited", "Edited post", "<p>First version.</p>");
    let deep = post(3, "deep", "Deep post", &"<div>".repeat(100_000));
    let attrs: String = (0..1_000).map(|i| format!(" a{i}=x")).collect();
    let wide = post(4, "wide", "Wide post", &format!("<p{attrs}>x</p>"));
    let refs = post(
        5,
        "refs",
        "Refs post",
        &format!("<p>{}</p>", "&amp;".repeat(300_000)),
    );
    // Posts on a listing page that is itself hostile are never reached.
    let hidden = post(6, "hidden", "Hidden post", "<p>Behind a deep listing.</p>");
    let all = [&good, &edited, &deep, &wide, &refs];
    for p in all {
        site.set(&p.path(), Resp::Html(classic_post(&base, p)));
    }
    site.set(&hidden.path(), Resp::Html(classic_post(&base, &hidden)));
    let links: Vec<(String, String)> = all
        .iter()
        .map(|p| (format!("{base}{}", p.path()), p.title.clone()))
        .collect();
    let page2 = format!("{base}/category/intl/page/2/");
    site.set(
        "/category/intl/",
        Resp::Html(listing(&base, &links[..2], Some(&page2))),
    );
    let deep_listing = listing(
        &base,
        &[(format!("{base}{}", hidden.path()), hidden.title.clone())],
        None,
    )
    .replace(
        "<main id=\"main\" class=\"site-main\">",
        &format!("<main>{}", "<div>".repeat(100_000)),
    );
    site.set("/category/intl/page/2/", Resp::Html(deep_listing));

    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &html_config(&site.url("/category/intl/"), ""));
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 1, "the listing's second page fails\n{stderr}");
    let why = line_for(&stderr, &page2).to_lowercase();
    assert!(why.contains("nested more than"), "{why}");
    let feed = atom(dir.path());
    assert!(
        feed.contains("Good post") && feed.contains("Edited post"),
        "{feed}"
    );
    assert!(!feed.contains("Hidden post"), "{feed}");

    // Now page 1 lists every post, and a stored post's page turns hostile.
    site.set("/category/intl/", Resp::Html(listing(&base, &links, None)));
    let hostile_edit = post(
        2,
        "edited",
        "Edited post, second version",
        &"<b><i><span>".repeat(50_000),
    );
    site.set(
        &edited.path(),
        Resp::Html(classic_post(&base, &hostile_edit)),
    );
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 1, "{stderr}");
    for (p, what) in [
        (&deep, "nested more than"),
        (&hostile_edit, "nested more than"),
        (&wide, "attributes"),
        (&refs, "character references"),
    ] {
        let line = line_for(&stderr, &format!("{base}{}", p.path())).to_lowercase();
        assert!(
            line.contains("refused unparsed") && line.contains(what),
            "{line}"
        );
    }
    let feed = atom(dir.path());
    assert!(
        feed.contains("First version") && !feed.contains("second version"),
        "{feed}"
    );
    assert!(feed.contains("Good post"), "{feed}");
}

/// html5ever logs a warning per misplaced tag; a page with thousands of them (a `<table>`
/// holding inline elements) must not flood stderr at the default verbosity.
#[test]
fn parser_warnings_stay_out_of_the_default_log() {
    let site = Site::start();
    let base = site.base();
    let mut p = Post::new(1, "foster", "Foster post", "2024-11-12T10:00:00+00:00");
    p.body = format!("<p>Intro.</p><table>{}</table>", "<b>x</b>".repeat(2_000));
    site.set(&p.path(), Resp::Html(classic_post(&base, &p)));
    site.set(
        "/category/intl/",
        Resp::Html(listing(
            &base,
            &[(format!("{base}{}", p.path()), p.title.clone())],
            None,
        )),
    );
    // A fresh store for each run, so that each one fetches and parses the page.
    let run = |args: &[&str], rust_log: Option<&str>| {
        let dir = tempfile::tempdir().unwrap();
        let cfg = write_config(dir.path(), &html_config(&site.url("/category/intl/"), ""));
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_feedwright"));
        cmd.arg("--config")
            .arg(&cfg)
            .args(args)
            .env_remove("RUST_LOG");
        if let Some(filter) = rust_log {
            cmd.env("RUST_LOG", filter);
        }
        let out = cmd.output().expect("run feedwright");
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        assert!(atom(dir.path()).contains("Foster post"));
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    for args in [&["run"][..], &["-v", "run"][..]] {
        let stderr = run(args, None);
        assert!(
            !stderr.to_lowercase().contains("foster"),
            "{args:?}: {stderr}"
        );
        assert!(stderr.lines().count() < 100, "{args:?}: {stderr}");
    }
    // RUST_LOG still overrides the default.
    let stderr = run(&["run"], Some("warn,html5ever=warn"));
    assert!(stderr.contains("foster parenting"), "{stderr}");
}
