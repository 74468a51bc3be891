//! The `dir` source end to end: front matter as an editor writes it, and the messages a mistake
//! gets. The binary runs in the folder of its config (`--config config.toml`), so failures name
//! files relative to it, as they do for a relative `url`.

mod common;

use std::path::Path;

use common::{dir_config, write_config};

/// A folder with `posts/<name>` for every `(name, text)` and a config from `dir_config`.
fn site(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let posts = dir.path().join("posts");
    std::fs::create_dir_all(&posts).unwrap();
    for (name, text) in files {
        std::fs::write(posts.join(name), text).unwrap();
    }
    write_config(dir.path(), &dir_config(""));
    dir
}

/// `feedwright --config config.toml run` in `dir`: (exit code, stderr).
fn run(dir: &Path) -> (i32, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_feedwright"))
        .current_dir(dir)
        .args(["--config", "config.toml", "run"])
        .env_remove("RUST_LOG")
        .output()
        .expect("run feedwright");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The `failed posts/<name>: …` line of the run report.
fn failure<'a>(stderr: &'a str, name: &str) -> &'a str {
    let prefix = format!("failed posts/{name}: ");
    stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no line starting {prefix:?}:\n{stderr}"))
}

fn feed_json(dir: &Path) -> serde_json::Value {
    let path = dir.join("out/events/feed.json");
    serde_json::from_slice(&std::fs::read(&path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// JSON Feed items by `url`.
fn item<'a>(feed: &'a serde_json::Value, url: &str) -> &'a serde_json::Value {
    feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["url"] == url)
        .unwrap_or_else(|| panic!("no item {url} in {feed:#}"))
}

/// Every date form an editor may write, read in UTC, and again with the project's `timezone`
/// set to New York: a date or date-time without an offset is then that wall-clock time there
/// (a date alone, its midnight: the day the editor meant), and one with an offset the same.
#[test]
fn every_accepted_date_form_dates_the_post() {
    let cases = [
        (
            "toml-offset.md",
            "+++",
            "date = 2024-03-04T18:00:00+01:00",
            "2024-03-04T17:00:00+00:00",
            "2024-03-04T17:00:00+00:00",
        ),
        (
            "toml-date.md",
            "+++",
            "date = 2024-03-04",
            "2024-03-04T00:00:00+00:00",
            "2024-03-04T05:00:00+00:00",
        ),
        (
            "toml-local.md",
            "+++",
            "date = 2024-03-04T18:30:00",
            "2024-03-04T18:30:00+00:00",
            "2024-03-04T23:30:00+00:00",
        ),
        (
            "toml-space.md",
            "+++",
            "date = 2024-03-04 18:30:00Z",
            "2024-03-04T18:30:00+00:00",
            "2024-03-04T18:30:00+00:00",
        ),
        (
            "rfc3339.md",
            "+++",
            r#"date = "2024-03-04T18:00:00.5-05:00""#,
            "2024-03-04T23:00:00+00:00",
            "2024-03-04T23:00:00+00:00",
        ),
        (
            "iso-date.md",
            "+++",
            r#"date = "2024-03-04""#,
            "2024-03-04T00:00:00+00:00",
            "2024-03-04T05:00:00+00:00",
        ),
        (
            "zone-name.md",
            "+++",
            r#"date = "2024-03-04 18:00 CET""#,
            "2024-03-04T17:00:00+00:00",
            "2024-03-04T17:00:00+00:00",
        ),
        (
            "offset-min.md",
            "+++",
            r#"date = "2024-03-04 18:00 +0100""#,
            "2024-03-04T17:00:00+00:00",
            "2024-03-04T17:00:00+00:00",
        ),
        (
            "offset-sec.md",
            "+++",
            r#"date = "2024-03-04 18:00:10 +0100""#,
            "2024-03-04T17:00:10+00:00",
            "2024-03-04T17:00:10+00:00",
        ),
        (
            "local.md",
            "+++",
            r#"date = "2024-03-04 18:30""#,
            "2024-03-04T18:30:00+00:00",
            "2024-03-04T23:30:00+00:00",
        ),
        (
            "yaml-rfc3339.md",
            "---",
            "date: 2024-03-04T18:00:00Z",
            "2024-03-04T18:00:00+00:00",
            "2024-03-04T18:00:00+00:00",
        ),
        (
            "yaml-date.md",
            "---",
            "date: 2024-03-04",
            "2024-03-04T00:00:00+00:00",
            "2024-03-04T05:00:00+00:00",
        ),
        (
            "yaml-offset.md",
            "---",
            "date: 2024-03-04 18:00 +0100",
            "2024-03-04T17:00:00+00:00",
            "2024-03-04T17:00:00+00:00",
        ),
    ];
    let files: Vec<(&str, String)> = cases
        .iter()
        .map(|(name, fence, date, _, _)| {
            let url = if *fence == "+++" {
                format!("url = \"https://example.org/{name}\"")
            } else {
                format!("url: https://example.org/{name}")
            };
            (*name, format!("{fence}\n{date}\n{url}\n{fence}\nBody.\n"))
        })
        .collect();
    let files: Vec<(&str, &str)> = files.iter().map(|(n, t)| (*n, t.as_str())).collect();
    let dir = site(&files);
    let (code, stderr) = run(dir.path());
    assert_eq!(code, 0, "{stderr}");
    let feed = feed_json(dir.path());
    for (name, _, date, want, _) in cases {
        let item = item(&feed, &format!("https://example.org/{name}"));
        assert_eq!(item["date_published"], want, "{date}");
    }
    let dir = site(&files);
    write_config(
        dir.path(),
        &format!("timezone = \"America/New_York\"\n{}", dir_config("")),
    );
    let (code, stderr) = run(dir.path());
    assert_eq!(code, 0, "{stderr}");
    let feed = feed_json(dir.path());
    for (name, _, date, _, in_new_york) in cases {
        let item = item(&feed, &format!("https://example.org/{name}"));
        assert_eq!(item["date_published"], in_new_york, "{date} in New York");
    }
}

/// A date alone names a day where the digest shows it and counts its weeks: with the project's
/// zone UTC and the digest's New York, `2026-11-16` (a Monday) is that Monday in New York (its
/// midnight there), listed in that week's issue under that day, not on the Sunday before. A
/// date-time without an offset stays a wall-clock time in the project's zone.
#[test]
fn a_date_alone_is_its_day_in_the_digests_zone() {
    let dir = site(&[
        (
            "monday.md",
            "+++\ntitle = \"Monday market\"\ndate = 2026-11-16\nurl = \"https://example.org/monday/\"\n+++\nStalls.\n",
        ),
        (
            "evening.md",
            "+++\ntitle = \"Evening talk\"\ndate = \"2026-11-18 18:00\"\nurl = \"https://example.org/evening/\"\n+++\nTalk.\n",
        ),
    ]);
    write_config(
        dir.path(),
        &format!(
            "{}[digest]\nfeed = \"events\"\ntimezone = \"America/New_York\"\n",
            dir_config("")
        ),
    );
    let (code, stderr) = run(dir.path());
    assert_eq!(code, 0, "{stderr}");
    let feed = feed_json(dir.path());
    let monday = item(&feed, "https://example.org/monday/");
    assert_eq!(monday["date_published"], "2026-11-16T05:00:00+00:00");
    let evening = item(&feed, "https://example.org/evening/");
    assert_eq!(evening["date_published"], "2026-11-18T18:00:00+00:00");

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_feedwright"))
        .current_dir(dir.path())
        .args([
            "--config",
            "config.toml",
            "digest",
            "--now",
            "2026-11-23T12:00:00Z",
            "--dry-run",
        ])
        .env_remove("RUST_LOG")
        .output()
        .expect("run feedwright digest");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(dir.path().join("out/events/digest/2026-W47.txt"))
        .expect("the week of Monday 16 November has an issue");
    assert!(text.contains("Monday market"), "{text}");
    assert!(text.contains("Mon 16 Nov 2026"), "{text}");
    assert!(!text.contains("15 Nov"), "{text}");
}

/// A warning about a post (no title, a date in the future) is said when the post is stored,
/// not again on every run that finds it unchanged (a daemon runs every half hour).
#[test]
fn a_post_warns_when_stored_not_on_every_run() {
    let dir = site(&[(
        "untitled.md",
        "+++\ndate = 2999-01-01\nurl = \"https://example.org/untitled/\"\n+++\nBody.\n",
    )]);
    let (code, first) = run(dir.path());
    assert_eq!(code, 0, "{first}");
    assert!(first.contains("no title: using"), "{first}");
    assert!(first.contains("in the future"), "{first}");
    let (code, again) = run(dir.path());
    assert_eq!(code, 0, "{again}");
    assert!(!again.contains("no title"), "{again}");
    assert!(!again.contains("in the future"), "{again}");
    // Edited, it is stored again, and says so again.
    std::fs::write(
        dir.path().join("posts/untitled.md"),
        "+++\ndate = 2999-01-01\nurl = \"https://example.org/untitled/\"\n+++\nBody, edited.\n",
    )
    .unwrap();
    let (code, edited) = run(dir.path());
    assert_eq!(code, 0, "{edited}");
    assert!(edited.contains("no title: using"), "{edited}");
}

/// An edit of a post without `updated` is dated by when it was seen, even when it moves the
/// post's `date` forward: that date says when the event is, not when the post was edited.
#[test]
fn an_edit_without_an_updated_key_is_dated_when_it_is_seen() {
    let post = |date: &str, body: &str| {
        format!(
            "+++\ntitle = \"Panel\"\ndate = {date}\nurl = \"https://example.org/panel/\"\n+++\n{body}\n"
        )
    };
    let dir = site(&[("panel.md", &post("2024-11-05T09:00:00+01:00", "Body."))]);
    let (code, stderr) = run(dir.path());
    assert_eq!(code, 0, "{stderr}");
    let first = item(&feed_json(dir.path()), "https://example.org/panel/").clone();
    assert_eq!(first["date_modified"], "2024-11-05T08:00:00+00:00");
    let before_edit = chrono::Utc::now() - chrono::Duration::seconds(1);
    std::fs::write(
        dir.path().join("posts/panel.md"),
        post("2024-11-05T10:00:00+01:00", "Body, with the new time."),
    )
    .unwrap();
    let (code, stderr) = run(dir.path());
    assert_eq!(code, 0, "{stderr}");
    let feed = feed_json(dir.path());
    let edited = item(&feed, "https://example.org/panel/");
    assert_eq!(edited["date_published"], "2024-11-05T09:00:00+00:00");
    let modified = chrono::DateTime::parse_from_rfc3339(edited["date_modified"].as_str().unwrap())
        .expect("date_modified");
    assert!(
        modified >= before_edit,
        "{modified} is not the time of the edit"
    );
}

/// `summary` and `description` are one field under two names: a file giving both fails,
/// saying so (not as a key given twice).
#[test]
fn summary_and_description_together_fail_saying_they_are_one_field() {
    let dir = site(&[
        (
            "both.md",
            "---\ntitle: Both\nsummary: One\ndescription: Two\nurl: https://example.org/both/\n---\nBody.\n",
        ),
        (
            "one.md",
            "---\ntitle: One\ndescription: Only this\nurl: https://example.org/one/\n---\nBody.\n",
        ),
    ]);
    let (code, stderr) = run(dir.path());
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        failure(&stderr, "both.md"),
        "front matter keys summary and description are one field (description is what Hugo \
         and Jekyll call it): give one"
    );
    let feed = feed_json(dir.path());
    assert_eq!(
        item(&feed, "https://example.org/one/")["summary"],
        "Only this"
    );
}

#[test]
fn an_unparseable_date_fails_the_post_naming_file_key_and_value() {
    let dir = site(&[
        (
            "nov31.md",
            "+++\ndate = \"2024-11-31\"\nurl = \"https://example.org/a/\"\n+++\nA\n",
        ),
        (
            "tuesday.md",
            "+++\ndate = \"next tuesday\"\nurl = \"https://example.org/b/\"\n+++\nB\n",
        ),
        (
            "month13.md",
            "---\ndate: 2024-13-45\nurl: https://example.org/c/\n---\nC\n",
        ),
        (
            "yesterday.md",
            "---\ndate: 2024-03-01\nupdated: yesterday\nurl: https://example.org/d/\n---\nD\n",
        ),
        (
            "year.md",
            "+++\ndate = 2024\nurl = \"https://example.org/e/\"\n+++\nE\n",
        ),
        (
            "good.md",
            "+++\ndate = 2024-03-04\nurl = \"https://example.org/good/\"\n+++\nGood\n",
        ),
        (
            "ist.md",
            "+++\ndate = \"2024-03-04 18:00 IST\"\nurl = \"https://example.org/f/\"\n+++\nF\n",
        ),
    ]);
    let (code, stderr) = run(dir.path());
    assert_eq!(code, 1, "bad dates: exit 1\n{stderr}");
    for (name, key, value) in [
        ("nov31.md", "date", "2024-11-31"),
        ("tuesday.md", "date", "next tuesday"),
        ("month13.md", "date", "2024-13-45"),
        ("yesterday.md", "updated", "yesterday"),
        ("year.md", "date", "2024"),
    ] {
        let line = failure(&stderr, name);
        assert!(
            line.starts_with(&format!("front matter key {key}: {value:?} is not a date")),
            "{line}"
        );
    }
    let line = failure(&stderr, "ist.md");
    assert!(
        line.starts_with(
            "front matter key date: \"2024-03-04 18:00 IST\" names the zone IST, which several \
             zones use"
        ),
        "{line}"
    );
    let feed = feed_json(dir.path());
    let urls: Vec<_> = feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["url"].as_str().unwrap())
        .collect();
    assert_eq!(urls, ["https://example.org/good/"], "only the good post");
}

#[test]
fn a_front_matter_summary_is_plain_text_in_every_feed() {
    let summary = "If a<b and c>d then x & y; &amp; stays as typed";
    let dir = site(&[(
        "summary.md",
        &format!(
            "+++\ntitle = \"Inequalities\"\ndate = 2024-03-04\nurl = \"https://example.org/s/\"\nsummary = {summary:?}\n+++\nBody.\n"
        ),
    )]);
    let (code, stderr) = run(dir.path());
    assert_eq!(code, 0, "{stderr}");
    let out = dir.path().join("out/events");
    let atom = feed_rs::parser::parse(std::fs::read(out.join("atom.xml")).unwrap().as_slice())
        .expect("atom parses");
    assert_eq!(atom.entries[0].summary.as_ref().unwrap().content, summary);
    let rss = rss::Channel::read_from(std::fs::read(out.join("rss.xml")).unwrap().as_slice())
        .expect("rss parses");
    // `description` is HTML: the text, escaped once.
    let description = rss.items()[0].description().unwrap();
    assert_eq!(html_escape::decode_html_entities(description), summary);
    assert_eq!(
        description,
        "If a&lt;b and c&gt;d then x &amp; y; &amp;amp; stays as typed"
    );
    assert_eq!(
        item(&feed_json(dir.path()), "https://example.org/s/")["summary"],
        summary
    );
}

/// A front-matter author written with an email address is published by name alone: Atom
/// `<name>`, RSS `dc:creator`, JSON Feed and the digest name "Jane Roe", and no output carries
/// the address.
#[test]
fn an_authors_email_address_is_never_published() {
    let dir = site(&[(
        "mail.md",
        "+++\ntitle = \"Mail\"\ndate = 2024-03-04\nurl = \"https://example.org/m/\"\n\
         author = \"Jane Roe <jane@example.org>\"\n+++\nBody.\n",
    )]);
    let config = dir.path().join("config.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str("[digest]\nfeed = \"events\"\n");
    std::fs::write(&config, text).unwrap();
    let (code, stderr) = run(dir.path());
    assert_eq!(code, 0, "{stderr}");
    let out = dir.path().join("out/events");
    let atom = feed_rs::parser::parse(std::fs::read(out.join("atom.xml")).unwrap().as_slice())
        .expect("atom parses");
    let names: Vec<&str> = atom.entries[0]
        .authors
        .iter()
        .filter_map(|a| a.name.as_deref())
        .collect();
    assert_eq!(names, ["Jane Roe"]);
    let rss = rss::Channel::read_from(std::fs::read(out.join("rss.xml")).unwrap().as_slice())
        .expect("rss parses");
    let creators = rss.items()[0].dublin_core_ext().unwrap().creators();
    assert_eq!(creators, ["Jane Roe"]);
    assert_eq!(
        item(&feed_json(dir.path()), "https://example.org/m/")["authors"],
        serde_json::json!([{"name": "Jane Roe"}])
    );
    let issue = common::week_10_without(&config, &out, &["jane@"]);
    assert!(issue.contains("Jane Roe"), "{issue}");
}

#[test]
fn front_matter_errors_give_file_line_numbers() {
    let dir = site(&[
        (
            "toml.md",
            "+++\ntitle = = \"x\"\nurl = \"https://example.org/t/\"\n+++\nT\n",
        ),
        (
            "yaml.md",
            "---\ntitle: Y\nurl: https://example.org/y/\ndate: 2024-03-04\nsummary: a: b\n---\nY\n",
        ),
        (
            "unknown.md",
            "---\ntitle: Y\nurl: https://example.org/u/\ncolour: red\n---\nU\n",
        ),
        (
            "unknown-toml.md",
            "+++\ntitle = \"T\"\nurl = \"https://example.org/v/\"\ncolour = \"red\"\n+++\nV\n",
        ),
        (
            "twice.md",
            "---\ntitle: First\nurl: https://example.org/w/\ndate: 2024-03-04\ntitle: Second\n---\nW\n",
        ),
    ]);
    let (code, stderr) = run(dir.path());
    assert_eq!(code, 1, "{stderr}");
    let toml = failure(&stderr, "toml.md");
    assert!(toml.ends_with(" at line 2 column 9"), "{toml}");
    let yaml = failure(&stderr, "yaml.md");
    assert!(yaml.contains("line 5 column"), "{yaml}");
    let unknown = failure(&stderr, "unknown.md");
    assert!(
        unknown.contains("colour") && unknown.contains("line 4 column"),
        "{unknown}"
    );
    let unknown = failure(&stderr, "unknown-toml.md");
    assert!(
        unknown.starts_with("front matter (TOML): unknown field `colour`")
            && unknown.ends_with(" at line 4 column 1"),
        "{unknown}"
    );
    let twice = failure(&stderr, "twice.md");
    assert_eq!(
        twice,
        "front matter (YAML): key `title` given twice, at line 2 and at line 5"
    );
    assert_eq!(
        stderr.lines().count(),
        7,
        "one line a failure, one for the source, one for the feed:\n{stderr}"
    );
}

/// A list key given something else says what it takes (not serde's "did not match any variant
/// of untagged enum"), on the key's own line; numbers in a list are texts like any other.
#[test]
fn a_list_key_of_the_wrong_shape_says_what_it_takes() {
    let dir = site(&[
        (
            "map.md",
            "---\ntitle: M\nurl: https://example.org/m/\nauthor:\n  name: Ann\n---\nM\n",
        ),
        (
            "map-toml.md",
            "+++\ntitle = \"T\"\nurl = \"https://example.org/n/\"\nauthor = { name = \"Ann\" }\n+++\nN\n",
        ),
        (
            "numbers.md",
            "---\ntitle: Numbers\nurl: https://example.org/o/\ndate: 2024-03-04\ntags: [2024, news]\n---\nO\n",
        ),
    ]);
    let (code, stderr) = run(dir.path());
    assert_eq!(code, 1, "{stderr}");
    // YAML names the key and the line of its value; TOML the key's line.
    for (file, place) in [("map.md", "author: "), ("map-toml.md", "line 4")] {
        let line = failure(&stderr, file);
        assert!(
            line.contains("expected a text or a list of texts") && !line.contains("untagged"),
            "{line}"
        );
        assert!(line.contains(place), "{line}");
    }
    assert!(stderr.contains("1 new"), "{stderr}");
}

/// What Hugo and Jekyll folders hold: a draft is left out (not a failure), `description` is the
/// summary, and a folder linked into the source's folder is read like a real one (a link back
/// up the tree is read once, not forever).
#[test]
fn drafts_descriptions_and_linked_folders() {
    let dir = site(&[
        (
            "draft.md",
            "---\ntitle: Not yet\nurl: https://example.org/draft/\ndate: 2024-03-04\ndraft: true\n---\nD\n",
        ),
        (
            "described.md",
            "+++\ntitle = \"Described\"\nurl = \"https://example.org/described/\"\ndate = 2024-03-05\n\
             description = \"What the panel is about\"\ndraft = false\n+++\nBody\n",
        ),
    ]);
    let other = dir.path().join("other");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(
        other.join("linked.md"),
        "---\ntitle: Linked\nurl: https://example.org/linked/\ndate: 2024-03-06\n---\nL\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(&other, dir.path().join("posts/linked")).unwrap();
    std::os::unix::fs::symlink(dir.path().join("posts"), other.join("back-up")).unwrap();
    let (code, stderr) = run(dir.path());
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("events: 2 new"), "{stderr}");
    let feed = feed_json(dir.path());
    let items = feed["items"].as_array().unwrap();
    let titles: Vec<&str> = items.iter().filter_map(|i| i["title"].as_str()).collect();
    assert_eq!(titles, ["Linked", "Described"]);
    assert_eq!(items[1]["summary"], "What the panel is about");
}

#[test]
fn fences_may_end_in_spaces_tabs_and_crlf() {
    let dir = site(&[
        (
            "toml-space.md",
            "+++ \ntitle = \"Toml space\"\nurl = \"https://example.org/1/\"\n+++\t\nOne\n",
        ),
        (
            "yaml-crlf.md",
            "--- \r\ntitle: Yaml crlf\r\nurl: https://example.org/2/\r\n---  \r\nTwo\r\n",
        ),
        (
            "toml-crlf.md",
            "+++\t \r\ntitle = \"Toml crlf\"\r\nurl = \"https://example.org/3/\"\r\n+++\r\nThree\r\n",
        ),
    ]);
    let (code, stderr) = run(dir.path());
    assert_eq!(code, 0, "{stderr}");
    let feed = feed_json(dir.path());
    for (n, title, body) in [
        (1, "Toml space", "One"),
        (2, "Yaml crlf", "Two"),
        (3, "Toml crlf", "Three"),
    ] {
        let item = item(&feed, &format!("https://example.org/{n}/"));
        assert_eq!(item["title"], title);
        assert_eq!(
            item["content_html"].as_str().unwrap().trim(),
            format!("<p>{body}</p>")
        );
    }
}

#[test]
fn related_may_be_one_url_or_a_list() {
    let dir = site(&[
        (
            "one.md",
            "---\ndate: 2024-03-04\nurl: https://example.org/one/\nrelated: /two/\n---\nOne\n",
        ),
        (
            "two.md",
            "+++\ndate = 2024-03-05\nurl = \"https://example.org/two/\"\nrelated = \"https://example.org/one/\"\n+++\nTwo\n",
        ),
        (
            "three.md",
            "---\ndate: 2024-03-06\nurl: https://example.org/three/\nrelated: [/one/, /two/]\n---\nThree\n",
        ),
    ]);
    let (code, stderr) = run(dir.path());
    assert_eq!(code, 0, "{stderr}");
    let atom = feed_rs::parser::parse(
        std::fs::read(dir.path().join("out/events/atom.xml"))
            .unwrap()
            .as_slice(),
    )
    .expect("atom parses");
    let related = |url: &str| -> Vec<String> {
        let entry = atom
            .entries
            .iter()
            .find(|e| e.id == url)
            .unwrap_or_else(|| panic!("no entry {url}"));
        entry
            .links
            .iter()
            .filter(|l| l.rel.as_deref() == Some("related"))
            .map(|l| l.href.clone())
            .collect()
    };
    assert_eq!(
        related("https://example.org/one/"),
        ["https://example.org/two/"]
    );
    assert_eq!(
        related("https://example.org/two/"),
        ["https://example.org/one/"]
    );
    assert_eq!(
        related("https://example.org/three/"),
        ["https://example.org/one/", "https://example.org/two/"]
    );
}

#[test]
fn a_saved_page_without_a_url_says_what_to_add() {
    let page = |head: &str| {
        format!(
            "<!DOCTYPE html><html><head><title>Saved</title>{head}</head><body><article><h1>Saved</h1><div class=\"entry-content\"><p>Text.</p></div></article></body></html>"
        )
    };
    let none = page("");
    let relative = page(r#"<link rel="canonical" href="/events/saved/">"#);
    let absolute = page(r#"<link rel="canonical" href="https://example.org/events/saved/">"#);
    let based =
        page(r#"<base href="https://example.org/events/"><link rel="canonical" href="based/">"#);
    let front = format!("+++\nurl = \"https://example.org/events/front/\"\n+++\n{none}");
    let dir = site(&[
        ("none.html", &none),
        ("relative.html", &relative),
        ("absolute.html", &absolute),
        ("based.html", &based),
        ("front.html", &front),
    ]);
    let (code, stderr) = run(dir.path());
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("events: 3 new"), "{stderr}");
    let none = failure(&stderr, "none.html");
    assert_eq!(
        none,
        "no URL to publish it under: add <link rel=\"canonical\" href=\"https://…\"> to the page, \
         or front matter with url = \"https://…\""
    );
    let relative = failure(&stderr, "relative.html");
    assert!(
        relative.contains("\"/events/saved/\" is not an absolute http(s) URL")
            && relative.contains("<link rel=\"canonical\""),
        "{relative}"
    );
    let feed = feed_json(dir.path());
    for url in [
        "https://example.org/events/saved/",
        "https://example.org/events/based/",
        "https://example.org/events/front/",
    ] {
        item(&feed, url);
    }
}

/// A saved page as a site renders it: title, date, author, tag, description and canonical link.
fn rich_page(canonical: &str) -> String {
    format!(
        "<!DOCTYPE html><html><head><title>Page title</title>\
         <link rel=\"canonical\" href=\"{canonical}\">\
         <meta property=\"article:published_time\" content=\"2024-02-01T10:00:00Z\">\
         <meta name=\"author\" content=\"Page Author\">\
         <meta property=\"article:tag\" content=\"page-tag\">\
         <meta name=\"description\" content=\"Page description\">\
         </head><body><article><h1>Page title</h1><div class=\"entry-content\"><p>Text.</p></div>\
         </article></body></html>"
    )
}

/// Front matter at the top of a saved page wins over what extraction finds, field by field;
/// what it does not give comes from the page; a bad date fails the file as in Markdown.
#[test]
fn front_matter_of_a_saved_page_wins_over_the_page() {
    let full = format!(
        "---\ntitle: Front title\ndate: 2024-03-04\nupdated: 2024-03-06T12:00:00Z\n\
         author: [Ann, Bob]\ntags: front-tag\nsummary: Front a<b summary\nrelated: /events/url-only/\n\
         url: https://example.org/events/front/\n---\n{}",
        rich_page("https://example.org/events/page-full/")
    );
    let partial = format!(
        "+++\ntitle = \"Only the title\"\n+++\n{}",
        rich_page("https://example.org/events/partial/")
    );
    let url_only = format!(
        "+++\nurl = \"https://example.org/events/url-only/\"\n+++\n{}",
        rich_page("https://example.org/events/page-url-only/")
    );
    let bad = format!(
        "---\ndate: not a date\n---\n{}",
        rich_page("https://example.org/events/bad/")
    );
    let dir = site(&[
        ("full.html", &full),
        ("partial.html", &partial),
        ("url-only.html", &url_only),
        ("bad.html", &bad),
    ]);
    let (code, stderr) = run(dir.path());
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("events: 3 new"), "{stderr}");
    let bad = failure(&stderr, "bad.html");
    assert!(
        bad.starts_with("front matter key date: \"not a date\" is not a date"),
        "{bad}"
    );
    let feed = feed_json(dir.path());
    let full = item(&feed, "https://example.org/events/front/");
    assert_eq!(full["title"], "Front title");
    assert_eq!(full["date_published"], "2024-03-04T00:00:00+00:00");
    assert_eq!(full["date_modified"], "2024-03-06T12:00:00+00:00");
    assert_eq!(
        full["authors"],
        serde_json::json!([{"name": "Ann"}, {"name": "Bob"}])
    );
    assert_eq!(full["tags"], serde_json::json!(["front-tag"]));
    assert_eq!(full["summary"], "Front a<b summary");
    // The post's own related links come first (similar posts may follow).
    assert_eq!(
        full["_feedwright"]["related"][0]["url"],
        "https://example.org/events/url-only/"
    );
    assert_eq!(full["content_html"], "<p>Text.</p>");
    let partial = item(&feed, "https://example.org/events/partial/");
    assert_eq!(partial["title"], "Only the title");
    assert_eq!(partial["date_published"], "2024-02-01T10:00:00+00:00");
    assert_eq!(
        partial["authors"],
        serde_json::json!([{"name": "Page Author"}])
    );
    assert_eq!(partial["tags"], serde_json::json!(["page-tag"]));
    assert_eq!(partial["summary"], "Page description");
    let url_only = item(&feed, "https://example.org/events/url-only/");
    assert_eq!(url_only["title"], "Page title");
    assert_eq!(url_only["date_published"], "2024-02-01T10:00:00+00:00");
}

/// A UTF-8 file with a stray byte of another charset is read as UTF-8 (the stray byte shown as
/// U+FFFD, with a warning naming the file), not as a legacy charset that garbles every other
/// accented letter; a file in a legacy charset throughout is still detected as such.
#[test]
fn a_stray_byte_does_not_make_a_utf8_file_legacy() {
    let dir = site(&[]);
    let posts = dir.path().join("posts");
    std::fs::write(
        posts.join("mixed.md"),
        b"+++\ntitle = \"Mixed Caf\xc3\xa9\"\nurl = \"https://example.org/mixed/\"\n+++\n\
          A stray \xe9 byte.\n",
    )
    .unwrap();
    std::fs::write(
        posts.join("legacy.md"),
        b"+++\ntitle = \"Caf\xe9 cr\xe8me\"\nurl = \"https://example.org/legacy/\"\n+++\n\
          Le caf\xe9 d\xe9j\xe0 tr\xe8s fr\xe9quent\xe9 par les \xe9tudiants.\n",
    )
    .unwrap();
    let (code, stderr) = run(dir.path());
    assert_eq!(code, 0, "{stderr}");
    let feed = feed_json(dir.path());
    let mixed = item(&feed, "https://example.org/mixed/");
    assert_eq!(mixed["title"], "Mixed Café");
    assert_eq!(mixed["content_html"], "<p>A stray \u{FFFD} byte.</p>");
    let warning = stderr
        .lines()
        .find(|l| l.contains("WARN"))
        .unwrap_or_else(|| panic!("no warning:\n{stderr}"));
    assert!(
        warning.contains("posts/mixed.md") && warning.contains("not valid UTF-8"),
        "{warning}"
    );
    assert_eq!(stderr.matches("WARN").count(), 1, "{stderr}");
    let legacy = item(&feed, "https://example.org/legacy/");
    assert_eq!(legacy["title"], "Café crème");
    assert_eq!(
        legacy["content_html"],
        "<p>Le café déjà très fréquenté par les étudiants.</p>"
    );
}

/// Front matter must open on the first line: after blank lines it is not taken for front matter,
/// and the message says so rather than that the `url` it gives is missing.
#[test]
fn front_matter_after_blank_lines_says_it_must_come_first() {
    let dir = site(&[
        (
            "blank.md",
            "\n\n+++\ntitle = \"T\"\nurl = \"https://example.org/t/\"\n+++\nT\n",
        ),
        (
            "spaces.html",
            " \r\n---\nurl: https://example.org/s/\n---\n<p>S</p>\n",
        ),
        (
            "good.md",
            "+++\nurl = \"https://example.org/good/\"\n+++\nGood\n",
        ),
    ]);
    let (code, stderr) = run(dir.path());
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        failure(&stderr, "blank.md"),
        "front matter must start on the first line of the file: remove the 2 blank lines \
         before its opening +++"
    );
    assert_eq!(
        failure(&stderr, "spaces.html"),
        "front matter must start on the first line of the file: remove the 1 blank line \
         before its opening ---"
    );
    assert!(stderr.contains("events: 1 new"), "{stderr}");
}

/// A file reached twice (through symbolic links, or a folder linked into the tree) is read
/// once, under the first of its paths in name order, as a folder reached twice is.
#[test]
fn a_file_reached_twice_is_read_once() {
    let dir = site(&[(
        "real.md",
        "+++\nurl = \"https://example.org/real/\"\n+++\nReal\n",
    )]);
    let posts = dir.path().join("posts");
    let elsewhere = dir.path().join("elsewhere");
    std::fs::create_dir_all(elsewhere.join("sub")).unwrap();
    std::fs::write(
        elsewhere.join("lf.md"),
        "+++\nurl = \"https://example.org/lf/\"\n+++\nLF\n",
    )
    .unwrap();
    std::fs::write(
        elsewhere.join("sub/bad.md"),
        "+++\nurl = \"https://example.org/bad/\"\ndate = \"soon\"\n+++\nBad\n",
    )
    .unwrap();
    let link = |target: &str, name: &str| {
        std::os::unix::fs::symlink(target, posts.join(name)).unwrap();
    };
    link("../elsewhere/lf.md", "lf.md");
    link("../elsewhere/lf.md", "lf-again.md");
    link("real.md", "a-real-link.md");
    // One folder under two names: its files are named by the first.
    link("../elsewhere/sub", "z-sub");
    link("z-sub", "b-sub");
    let (code, stderr) = run(dir.path());
    assert_eq!(code, 1, "{stderr}");
    assert!(!stderr.contains("same post"), "{stderr}");
    assert!(stderr.contains("events: 2 new"), "{stderr}");
    assert!(
        failure(&stderr, "b-sub/bad.md").starts_with("front matter key date"),
        "{stderr}"
    );
    assert_eq!(stderr.matches("failed ").count(), 1, "{stderr}");
}

/// A source folder that holds `output_dir` (and the store) does not read what feedwright wrote
/// there as posts: the digest's web pages are `.html` files without a canonical link.
#[test]
fn the_output_folder_and_the_store_are_not_posts() {
    let dir = tempfile::tempdir().unwrap();
    write_config(
        dir.path(),
        "output_dir = \"out\"\n[store]\npath = \"state.html\"\n\
         [[source]]\nname = \"events\"\nurl = \".\"\nkind = \"dir\"\n\
         [[feed]]\nname = \"events\"\nsources = [\"events\"]\n",
    );
    std::fs::write(
        dir.path().join("post.md"),
        "+++\nurl = \"https://example.org/post/\"\n+++\nPost\n",
    )
    .unwrap();
    let digest = dir.path().join("out/events/digest");
    std::fs::create_dir_all(&digest).unwrap();
    std::fs::write(
        digest.join("2024-W10.html"),
        "<!DOCTYPE html><html><head><title>Digest</title></head><body><p>Issue</p></body></html>",
    )
    .unwrap();
    // The same folder through a link is the same folder.
    std::os::unix::fs::symlink("out", dir.path().join("published")).unwrap();
    for round in ["first", "second"] {
        let (code, stderr) = run(dir.path());
        assert_eq!(code, 0, "{round} run:\n{stderr}");
        assert!(
            !stderr.lines().any(|l| l.trim().starts_with("failed ")),
            "{round} run:\n{stderr}"
        );
    }
    item(&feed_json(dir.path()), "https://example.org/post/");
}

/// A saved page or a Markdown file whose markup would cost html5ever minutes (nested thousands
/// deep) fails alone, named, before it is parsed; the other files are published.
#[test]
fn a_file_too_deeply_nested_fails_alone_naming_the_file() {
    let deep = "<div>".repeat(5_000);
    let page = |head: &str, body: &str| {
        format!(
            "<!DOCTYPE html><html><head><title>Saved</title>{head}</head><body><article>\
             <h1>Saved</h1><div class=\"entry-content\"><p>Text.</p>{body}</div></article>\
             </body></html>"
        )
    };
    let canonical = |u: &str| format!("<link rel=\"canonical\" href=\"https://example.org/{u}/\">");
    let no_canonical = page("", &deep);
    let with_canonical = page(&canonical("deep"), &deep);
    let good = page(&canonical("good"), "");
    let markdown =
        format!("---\ntitle: Deep\ndate: 2024-03-04\nurl: https://example.org/md/\n---\n{deep}\n");
    let dir = site(&[
        ("no-canonical.html", &no_canonical),
        ("deep.html", &with_canonical),
        ("deep.md", &markdown),
        ("good.html", &good),
    ]);
    let (code, stderr) = run(dir.path());
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("events: 1 new"), "{stderr}");
    for name in ["no-canonical.html", "deep.html", "deep.md"] {
        let why = failure(&stderr, name);
        assert!(
            why.contains("refused unparsed: HTML nested more than"),
            "{name}: {why}"
        );
    }
    item(&feed_json(dir.path()), "https://example.org/good/");
}

/// A post for the related-link tests: words shared with no other post, dated in 2024-W10.
fn plain_post(slug: &str, title: &str, day: u32, extra: &str, body: &str) -> String {
    format!(
        "+++\ntitle = \"{title}\"\ndate = 2024-03-{day:02}\nurl = \"https://example.org/{slug}/\"\n\
         {extra}+++\n{body}\n"
    )
}

/// A folder of the three posts `a`, `b` and `c` (as `plain_post` writes them, `a` with
/// `a_extra` in its front matter), with a `[digest]` for the feed.
fn three_posts(a_extra: &str) -> tempfile::TempDir {
    let dir = site(&[
        ("a.md", &plain_post("a", "Alpha", 6, a_extra, "Apples.")),
        ("b.md", &plain_post("b", "Bravo", 5, "", "Bananas.")),
        ("c.md", &plain_post("c", "Charlie", 4, "", "Cherries.")),
    ]);
    let config = dir.path().join("config.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str("[digest]\nfeed = \"events\"\n");
    std::fs::write(&config, text).unwrap();
    dir
}

/// The related links of the entry `url` in each of the three feed documents, as (URL, title),
/// after checking the three documents agree.
fn related_links(dir: &Path, url: &str) -> Vec<(String, String)> {
    let out = dir.join("out/events");
    let atom = feed_rs::parser::parse(std::fs::read(out.join("atom.xml")).unwrap().as_slice())
        .expect("atom parses");
    let entry = atom
        .entries
        .iter()
        .find(|e| e.id == url)
        .unwrap_or_else(|| panic!("no entry {url}"));
    let from_atom: Vec<(String, String)> = entry
        .links
        .iter()
        .filter(|l| l.rel.as_deref() == Some("related"))
        .map(|l| (l.href.clone(), l.title.clone().unwrap_or_default()))
        .collect();
    let rss = rss::Channel::read_from(std::fs::read(out.join("rss.xml")).unwrap().as_slice())
        .expect("rss parses");
    let item_rss = rss
        .items()
        .iter()
        .find(|i| i.link() == Some(url))
        .unwrap_or_else(|| panic!("no RSS item {url}"));
    let from_rss: Vec<(String, String)> = item_rss
        .atom_ext()
        .map(|a| a.links())
        .unwrap_or_default()
        .iter()
        .filter(|l| l.rel() == "related")
        .map(|l| {
            (
                l.href().to_owned(),
                l.title().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let feed = feed_json(dir);
    let from_json: Vec<(String, String)> = item(&feed, url)["_feedwright"]["related"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|l| {
            (
                l["url"].as_str().unwrap().to_owned(),
                l["title"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(from_atom, from_rss, "atom and RSS disagree on {url}");
    assert_eq!(from_atom, from_json, "atom and JSON Feed disagree on {url}");
    from_atom
}

/// Every related link of every entry in the feeds, as `related_links` gives them.
fn all_related_links(dir: &Path) -> Vec<(String, String)> {
    let feed = feed_json(dir);
    let urls: Vec<String> = feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["url"].as_str().unwrap().to_owned())
        .collect();
    urls.iter().flat_map(|u| related_links(dir, u)).collect()
}

/// Related posts are fixed when a post is first stored, an empty list too: `related` added to
/// a published post (whose fixed list is empty) used to be stored as the file gave it, links
/// with no title at all (`<link rel="related"/>` without a title, `"title": ""`, a bare
/// `  -` in the digest), until the linked posts were edited.
#[test]
fn related_added_to_a_published_post_never_publishes_a_link_without_its_title() {
    let dir = three_posts("");
    let (code, stderr) = run(dir.path());
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("events: 3 new"), "{stderr}");
    // Nothing in common: no related posts.
    assert_eq!(all_related_links(dir.path()), []);

    std::fs::write(
        dir.path().join("posts/a.md"),
        plain_post(
            "a",
            "Alpha",
            6,
            "related = [\"/b/\", \"/c/\"]\n",
            "Apples, edited.",
        ),
    )
    .unwrap();
    let (code, stderr) = run(dir.path());
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("1 updated"), "{stderr}");
    for (url, title) in all_related_links(dir.path()) {
        assert!(!title.is_empty(), "a related link to {url} has no title");
    }
    // The edit is kept (the body), the related posts as they were fixed.
    assert_eq!(related_links(dir.path(), "https://example.org/a/"), []);
    let config = dir.path().join("config.toml");
    let out = dir.path().join("out/events");
    let issue = common::week_10_without(&config, &out, &["\"title\": \"\"", "\"></a>"]);
    assert!(issue.contains("Apples, edited."), "{issue}");
    assert!(
        !issue.lines().any(|l| l.trim() == "-"),
        "a related link without a title:\n{issue}"
    );
}
/// A post taken out of the source (its file deleted, or made a draft) is no longer linked as
/// related by the posts that were fixed with it, in the feeds or the digest; when its file
/// gives it again, the links show again, with its current title.
#[test]
fn a_related_post_taken_out_is_not_linked_until_it_comes_back() {
    let dir = three_posts("related = \"/c/\"\n");
    let config = dir.path().join("config.toml");
    let out = dir.path().join("out/events");
    let a = "https://example.org/a/";
    let to_c = || vec![("https://example.org/c/".to_owned(), "Charlie".to_owned())];
    let (code, stderr) = run(dir.path());
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(related_links(dir.path(), a), to_c());
    let issue = common::week_10_without(&config, &out, &[]);
    assert!(issue.contains("https://example.org/c/"), "{issue}");

    let c_text = std::fs::read_to_string(dir.path().join("posts/c.md")).unwrap();
    std::fs::remove_file(dir.path().join("posts/c.md")).unwrap();
    let (code, stderr) = run(dir.path());
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("skipped posts/c.md"), "{stderr}");
    assert_eq!(related_links(dir.path(), a), []);
    common::week_10_without(&config, &out, &["example.org/c/", "Charlie"]);

    std::fs::write(dir.path().join("posts/c.md"), &c_text).unwrap();
    let (code, stderr) = run(dir.path());
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(related_links(dir.path(), a), to_c());
    let issue = common::week_10_without(&config, &out, &[]);
    assert!(issue.contains("https://example.org/c/"), "{issue}");

    std::fs::write(
        dir.path().join("posts/c.md"),
        plain_post("c", "Charlie", 4, "draft = true\n", "Cherries."),
    )
    .unwrap();
    let (code, stderr) = run(dir.path());
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(related_links(dir.path(), a), []);
    common::week_10_without(&config, &out, &["example.org/c/", "Charlie"]);
}
