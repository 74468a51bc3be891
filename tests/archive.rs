//! RFC 5005 archives, end to end with the real binary over a `dir` source: the head keeps the
//! newest `limit` entries, older ones go to `archive/<n>.xml`; complete archive documents stay
//! byte-identical as posts keep arriving (and when an archived post is edited); following
//! `prev-archive` from the head visits every entry exactly once.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use common::{feedwright, write_config};

const PUBLIC: &str = "http://feeds.test/";

struct Blog {
    dir: tempfile::TempDir,
    config: PathBuf,
}

impl Blog {
    fn new(limit: u32, page_size: u32) -> Blog {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("posts")).expect("posts dir");
        let config = write_config(
            dir.path(),
            &format!(
                r#"output_dir = "out"
public_url = "{PUBLIC}"
[store]
path = "state/feedwright.db"
[[source]]
name = "notes"
url = "posts"
kind = "dir"
[[feed]]
name = "main"
title = "Main feed"
sources = ["notes"]
limit = {limit}
archive_page_size = {page_size}
"#
            ),
        );
        Blog { dir, config }
    }

    /// Add (or rewrite) post `n`, dated `n` days into November 2024 unless `day` says otherwise.
    fn post(&self, n: u32, title: &str, day: u32) {
        let text = format!(
            "+++\ntitle = \"{title}\"\ndate = 2024-11-{day:02}T12:00:00Z\n\
             url = \"https://notes.example.org/post-{n}/\"\ncategories = [\"Talks\"]\n+++\n\
             Body of post {n}: delegations met to talk about water.\n"
        );
        std::fs::write(self.dir.path().join(format!("posts/post-{n}.md")), text)
            .expect("write post");
    }

    fn run(&self) -> String {
        let (code, _out, err) = feedwright(&self.config, &["run"]);
        assert_eq!(code, 0, "run failed: {err}");
        err
    }

    fn out(&self, rel: &str) -> PathBuf {
        self.dir.path().join("out/main").join(rel)
    }

    fn archive_files(&self) -> BTreeMap<String, Vec<u8>> {
        let dir = self.out("archive");
        let Ok(read) = std::fs::read_dir(&dir) else {
            return BTreeMap::new();
        };
        read.map(|e| e.expect("entry").path())
            .map(|p| {
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                (name, std::fs::read(&p).expect("read archive"))
            })
            .collect()
    }

    /// The file a public URL of this feed is published as.
    fn file_of(&self, url: &str) -> PathBuf {
        let rel = url
            .strip_prefix(PUBLIC)
            .unwrap_or_else(|| panic!("{url} is not under {PUBLIC}"));
        self.dir.path().join("out").join(rel)
    }
}

/// A parsed document: entry ids, links by rel, and whether it is marked `fh:archive`.
struct Doc {
    ids: Vec<String>,
    links: BTreeMap<String, String>,
    archive_marker: bool,
}

fn parse(path: &Path) -> Doc {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    parse_bytes(&bytes)
}

fn parse_bytes(bytes: &[u8]) -> Doc {
    let text = String::from_utf8(bytes.to_vec()).expect("utf-8");
    let feed = feed_rs::parser::parse(bytes).unwrap_or_else(|e| panic!("does not parse: {e}"));
    let links = feed
        .links
        .iter()
        .map(|l| (l.rel.clone().unwrap_or_default(), l.href.clone()))
        .collect();
    Doc {
        ids: feed.entries.iter().map(|e| e.id.clone()).collect(),
        links,
        archive_marker: text.contains("<fh:archive/>")
            && text.contains("xmlns:fh=\"http://purl.org/syndication/history/1.0\""),
    }
}

/// Follow `prev-archive` from the head; returns every entry id met, in order, and checks each
/// archive document's markers and links on the way.
fn walk(blog: &Blog) -> Vec<String> {
    let head = parse(&blog.out("atom.xml"));
    assert!(!head.archive_marker, "the head is not an archive document");
    let head_url = format!("{PUBLIC}main/atom.xml");
    let mut ids = head.ids.clone();
    let mut next = head.links.get("prev-archive").cloned();
    let mut newer: Option<String> = None;
    let mut seen_pages = HashSet::new();
    while let Some(url) = next {
        assert!(seen_pages.insert(url.clone()), "archive loop at {url}");
        let doc = parse(&blog.file_of(&url));
        assert!(doc.archive_marker, "{url} is marked fh:archive");
        assert_eq!(
            doc.links.get("current"),
            Some(&head_url),
            "{url} links current"
        );
        assert_eq!(doc.links.get("self"), Some(&url), "{url} links itself");
        if let Some(newer_url) = &newer {
            assert_eq!(
                doc.links.get("next-archive"),
                Some(newer_url),
                "{url} links the newer archive page"
            );
        } else {
            assert_eq!(
                doc.links.get("next-archive"),
                None,
                "newest page has no next"
            );
        }
        ids.extend(doc.ids);
        newer = Some(url);
        next = doc.links.get("prev-archive").cloned();
    }
    ids
}

fn id_of(n: u32) -> String {
    format!("https://notes.example.org/post-{n}/")
}

fn assert_every_post_once(blog: &Blog, posts: impl IntoIterator<Item = u32>) {
    let met = walk(blog);
    let unique: HashSet<&String> = met.iter().collect();
    assert_eq!(unique.len(), met.len(), "an entry appears twice: {met:?}");
    let want: HashSet<String> = posts.into_iter().map(id_of).collect();
    let got: HashSet<String> = met.iter().cloned().collect();
    assert_eq!(
        got, want,
        "every post is reachable from the head exactly once"
    );
}

/// The head is written last: the archive pages it links (the newest page, and the page that
/// has just become complete, which the newest one links) go in first, so that a reader, or a
/// run stopped half-way, never meets a link to a page not written yet. Shown by a page that
/// cannot be written (a directory is in its place): the head keeps its old links.
#[test]
fn the_head_is_written_after_the_archive_pages_it_links() {
    for blocked in ["archive/1.xml", "archive/2.xml"] {
        let blog = Blog::new(2, 2);
        for n in 1..=4 {
            blog.post(n, &format!("Post {n}"), n);
        }
        blog.run();
        let before = std::fs::read(blog.out("atom.xml")).expect("head");
        assert_eq!(
            parse_bytes(&before)
                .links
                .get("prev-archive")
                .map(String::as_str),
            Some("http://feeds.test/main/archive/1.xml")
        );
        // Posts 5 and 6 push 3 and 4 out of the head: page 1 becomes complete (rewritten to
        // link page 2) and page 2 starts with them.
        for n in 5..=6 {
            blog.post(n, &format!("Post {n}"), n);
        }
        let page = blog.out(blocked);
        std::fs::remove_file(&page).ok();
        std::fs::create_dir(&page).expect("a directory where the page goes");
        let (code, _out, err) = feedwright(&blog.config, &["run"]);
        assert_eq!(code, 1, "{blocked}: {err}");
        assert!(err.contains("feed main: not published"), "{blocked}: {err}");
        assert!(
            std::fs::read(blog.out("atom.xml")).expect("head") == before,
            "{blocked} could not be written: the head must not change to link it"
        );
        // Once the page can be written, the next run publishes everything.
        std::fs::remove_dir(&page).expect("remove the directory");
        blog.run();
        assert_every_post_once(&blog, 1..=6);
    }
}

/// Every file under `dir` (hidden temporary files too), by path relative to it, with its bytes.
fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk_into(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk_into(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).expect("under root").to_path_buf();
                out.insert(rel, std::fs::read(&path).expect("read"));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk_into(dir, dir, &mut out);
    out
}

/// The size of the largest file in `dir` (the store, its journal).
fn bytes_in(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").metadata().expect("metadata").len())
        .max()
        .unwrap_or(0)
}

/// A feed's documents are replaced as one set: when one of them cannot be written (here the
/// head's Atom document, the largest, is past the file size limit the run is given, as on a
/// disk about to fill up), no document of the feed changes. Before, the complete archive pages
/// went in first: page 2 was replaced by its complete version linking page 3, which was never
/// written, while the old head still linked page 2, so entries appeared twice.
#[cfg(unix)]
#[test]
fn a_document_that_cannot_be_written_leaves_every_document_of_the_feed_as_it_was() {
    use std::os::unix::process::CommandExt;

    let blog = Blog::new(50, 20);
    // Posts 1-90 are small; posts 91-120, newer, are large (markup that Atom escapes, so the
    // Atom head is by far the largest file the run writes, the store included). The large
    // ones are left out by a category filter at first.
    let config = std::fs::read_to_string(&blog.config).expect("config");
    let filtered = config.replace("limit = 50", "limit = 50\ncategories = [\"Talks\"]");
    std::fs::write(&blog.config, &filtered).expect("config");
    let large_body = "x\n\n".repeat(3000);
    for n in 1..=120u32 {
        let (category, body) = if n <= 90 {
            ("Talks", format!("Body of post {n}."))
        } else {
            ("Large", large_body.clone())
        };
        let text = format!(
            "+++\ntitle = \"Post {n}\"\ndate = 2024-01-{:02}T{:02}:00:00Z\n\
             url = \"https://notes.example.org/post-{n}/\"\ncategories = [\"{category}\"]\n\
             +++\n{body}\n",
            1 + n / 24,
            n % 24
        );
        std::fs::write(blog.dir.path().join(format!("posts/post-{n}.md")), text)
            .expect("write post");
    }
    let err = blog.run();
    assert!(err.contains("50 entries (+ 2 archive pages)"), "{err}");
    assert_every_post_once(&blog, 1..=90);

    // Without the filter the 30 large posts enter the head and push 30 small ones out: page 2
    // becomes complete (it comes to link page 3), page 3 is complete too and page 4 starts.
    std::fs::write(&blog.config, &config).expect("config");
    // How large the run's files get, from a rehearsal on a copy: the limit goes halfway between
    // the store and the Atom head.
    let rehearsal = tempfile::tempdir().expect("tempdir");
    copy_tree(blog.dir.path(), rehearsal.path());
    let (code, _out, err) = feedwright(&rehearsal.path().join("config.toml"), &["run"]);
    assert_eq!(code, 0, "rehearsal: {err}");
    assert!(err.contains("50 entries (+ 4 archive pages)"), "{err}");
    let out = rehearsal.path().join("out/main");
    let atom = std::fs::metadata(out.join("atom.xml")).expect("atom").len();
    let others = tree(&out)
        .iter()
        .filter(|(p, _)| p.as_path() != Path::new("atom.xml"))
        .map(|(_, b)| b.len() as u64)
        .max()
        .expect("files");
    let store = bytes_in(&rehearsal.path().join("state"));
    let below = store.max(others);
    assert!(
        atom > below + 200_000,
        "the Atom head ({atom} bytes) is not much larger than the store ({store}) and the \
         other documents ({others})"
    );
    let limit = below + (atom - below) / 2;

    let before = tree(&blog.dir.path().join("out"));
    let mut run = std::process::Command::new(env!("CARGO_BIN_EXE_feedwright"));
    run.arg("--config")
        .arg(&blog.config)
        .arg("run")
        .env_remove("RUST_LOG");
    // SAFETY: between fork and exec the closure makes only async-signal-safe calls (signal,
    // setrlimit) and allocates nothing.
    unsafe {
        run.pre_exec(move || {
            // Past the limit a write fails with EFBIG instead of the signal ending the process.
            if libc::signal(libc::SIGXFSZ, libc::SIG_IGN) == libc::SIG_ERR {
                return Err(std::io::Error::last_os_error());
            }
            let lim = libc::rlimit {
                rlim_cur: limit as libc::rlim_t,
                rlim_max: libc::RLIM_INFINITY,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let out = run.output().expect("run feedwright");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("feed main: not published: cannot write") && err.contains("atom.xml"),
        "the Atom head could not be written: {err}"
    );
    assert!(
        !err.contains("disk I/O error"),
        "the store stays writable: {err}"
    );
    let after = tree(&blog.dir.path().join("out"));
    assert_eq!(
        after.keys().collect::<Vec<_>>(),
        before.keys().collect::<Vec<_>>(),
        "no file was added (no new archive page, no temporary file left) or removed"
    );
    for (path, bytes) in &before {
        assert!(
            after[path] == *bytes,
            "{} changed although the feed could not be written whole",
            path.display()
        );
    }
    assert_every_post_once(&blog, 1..=90);

    // With room again the next run publishes the whole set, and what the store recorded of
    // the complete pages matches their files: the run after it changes nothing.
    let err = blog.run();
    assert!(err.contains("50 entries (+ 4 archive pages)"), "{err}");
    assert_every_post_once(&blog, 1..=120);
    let published = tree(&blog.dir.path().join("out"));
    let err = blog.run();
    assert!(err.contains(", 0 of "), "nothing changed: {err}");
    assert_eq!(tree(&blog.dir.path().join("out")), published);
}

#[test]
fn complete_archive_pages_never_change_and_history_is_complete() {
    let blog = Blog::new(3, 2);
    for n in 1..=5 {
        blog.post(n, &format!("Post {n}"), n);
    }
    let err = blog.run();
    assert!(err.contains("(+ 1 archive page)"), "{err}");
    let head = parse(&blog.out("atom.xml"));
    assert_eq!(
        head.ids,
        vec![id_of(5), id_of(4), id_of(3)],
        "newest `limit` in the head"
    );
    assert_eq!(
        head.links.get("prev-archive").map(String::as_str),
        Some("http://feeds.test/main/archive/1.xml")
    );
    let rss = std::fs::read_to_string(blog.out("rss.xml")).expect("rss");
    assert!(
        rss.contains(
            r#"<atom:link href="http://feeds.test/main/archive/1.xml" rel="prev-archive" type="application/atom+xml"/>"#
        ),
        "the RSS head links the archive too: {rss}"
    );
    assert_every_post_once(&blog, 1..=5);

    // Page 1 is full but not complete until page 2 starts; then it is frozen.
    blog.post(6, "Post 6", 6);
    blog.run();
    let frozen = blog.archive_files();
    assert_eq!(frozen.keys().collect::<Vec<_>>(), ["1.xml", "2.xml"]);
    assert_every_post_once(&blog, 1..=6);

    // More posts: pages 2 and 3 fill; page 1 stays byte-identical.
    for n in 7..=9 {
        blog.post(n, &format!("Post {n}"), n);
    }
    blog.run();
    let later = blog.archive_files();
    assert_eq!(
        later["1.xml"], frozen["1.xml"],
        "a complete page never changes"
    );
    assert_every_post_once(&blog, 1..=9);

    // An archived post is edited, an old post turns up late, and another new post arrives:
    // complete pages still do not change, and every post is still reachable exactly once.
    blog.post(1, "Post 1, edited after it was archived", 1);
    blog.post(20, "A late discovery from long ago", 1);
    blog.post(10, "Post 10", 10);
    blog.run();
    let last = blog.archive_files();
    assert_eq!(last["1.xml"], frozen["1.xml"], "page 1 is unchanged");
    assert_eq!(
        last["2.xml"], later["2.xml"],
        "page 2 is unchanged once complete"
    );
    let head = parse(&blog.out("atom.xml"));
    assert_eq!(head.ids, vec![id_of(10), id_of(9), id_of(8)]);
    assert_every_post_once(&blog, (1..=10).chain([20]));

    // An unchanged run rewrites nothing, and a deleted archive file is restored byte for byte.
    std::fs::remove_file(blog.out("archive/1.xml")).expect("remove");
    let err = blog.run();
    assert!(
        err.contains(", 1 of "),
        "only the restored file changed: {err}"
    );
    assert_eq!(blog.archive_files(), last);

    // A truncated complete page (same name, other length) is restored byte for byte.
    let page2 = blog.out("archive/2.xml");
    std::fs::write(&page2, &last["2.xml"][..100]).expect("truncate");
    blog.run();
    assert_eq!(blog.archive_files(), last, "restored");

    // New feed metadata (title, public_url): complete pages are written again with it, their
    // entries unchanged, and the chain of links follows the new address.
    let config = std::fs::read_to_string(&blog.config).expect("config");
    std::fs::write(
        &blog.config,
        config
            .replace("title = \"Main feed\"", "title = \"Renamed feed\"")
            .replace(PUBLIC, "http://feeds.test/v2/"),
    )
    .expect("config");
    blog.run();
    let renamed = blog.archive_files();
    for (name, bytes) in &renamed {
        let text = String::from_utf8_lossy(bytes);
        assert!(text.contains("<title>Renamed feed</title>"), "{name}");
        assert!(
            !text.contains("http://feeds.test/main/"),
            "{name}: old links"
        );
        let old = parse_bytes(&last[name]);
        let new = parse_bytes(bytes);
        assert_eq!(old.ids, new.ids, "{name}: same entries");
    }
    let frozen_page_1 = &renamed["1.xml"];
    assert!(
        String::from_utf8_lossy(frozen_page_1).contains("<title>Post 1</title>"),
        "a complete page keeps the entry as it was frozen, not the later edit"
    );
    blog.run();
    assert_eq!(blog.archive_files(), renamed, "stable again");

    // CI re-checks head and archive documents with Python feedparser, and the stylesheet with
    // an XSLT processor.
    if let Some(keep) = std::env::var_os("FEEDWRIGHT_TEST_OUTPUT") {
        copy_tree(
            &blog.dir.path().join("out"),
            &Path::new(&keep).join("archived-feed"),
        );
    }
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let path = entry.expect("entry").path();
        let target = to.join(path.file_name().expect("name"));
        if path.is_dir() {
            copy_tree(&path, &target);
        } else {
            std::fs::copy(&path, &target).expect("copy");
        }
    }
}

#[test]
fn without_archive_the_head_is_all_there_is() {
    let blog = Blog::new(2, 2);
    let config = std::fs::read_to_string(&blog.config).expect("config");
    std::fs::write(&blog.config, format!("{config}archive = false\n")).expect("config");
    for n in 1..=4 {
        blog.post(n, &format!("Post {n}"), n);
    }
    blog.run();
    let head = parse(&blog.out("atom.xml"));
    assert_eq!(head.ids, vec![id_of(4), id_of(3)]);
    assert!(!head.links.contains_key("prev-archive"));
    assert!(!blog.out("archive").exists());
}

#[test]
fn a_zero_archive_page_size_is_an_error_naming_the_key() {
    let blog = Blog::new(2, 0);
    let (code, _out, err) = feedwright(&blog.config, &["check"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("feed[0].archive_page_size"), "{err}");
}

#[test]
fn xml_feeds_name_the_stylesheet_which_is_published_and_overridable() {
    let blog = Blog::new(1, 5);
    blog.post(1, "Post 1", 1);
    blog.post(2, "Post 2", 2);
    blog.run();
    let xsl = blog.dir.path().join("out/feed.xsl");
    let builtin = std::fs::read_to_string(&xsl).expect("stylesheet published");
    assert!(builtin.contains("<xsl:stylesheet"), "{builtin}");
    for (file, href) in [
        ("atom.xml", "../feed.xsl"),
        ("rss.xml", "../feed.xsl"),
        ("archive/1.xml", "../../feed.xsl"),
    ] {
        let text = std::fs::read_to_string(blog.out(file)).expect("feed");
        let second_line = text.lines().nth(1).unwrap_or_default();
        assert_eq!(
            second_line,
            format!(r#"<?xml-stylesheet type="text/xsl" href="{href}"?>"#),
            "{file}"
        );
        // The relative href resolves to the published stylesheet.
        let resolved = blog.out(file).parent().unwrap().join(href);
        assert!(resolved.exists(), "{file}: {href} resolves to a file");
    }
    let json = std::fs::read_to_string(blog.out("feed.json")).expect("json");
    assert!(!json.contains("xml-stylesheet"));

    // templates/feed.xsl next to the config replaces the built-in one.
    let templates = blog.dir.path().join("templates");
    std::fs::create_dir(&templates).expect("templates");
    let custom = "<?xml version=\"1.0\"?>\n<xsl:stylesheet version=\"1.0\" \
                  xmlns:xsl=\"http://www.w3.org/1999/XSL/Transform\"/>\n";
    std::fs::write(templates.join("feed.xsl"), custom).expect("custom");
    blog.run();
    assert_eq!(std::fs::read_to_string(&xsl).expect("xsl"), custom);

    // A malformed override is refused by `check` and by `run`, naming the file; the published
    // stylesheet stays, the feeds are still published, and the run reports the failure.
    std::fs::write(
        templates.join("feed.xsl"),
        "<xsl:stylesheet xmlns:xsl=\"http://www.w3.org/1999/XSL/Transform\"><oops></xsl:stylesheet>",
    )
    .expect("broken");
    let (code, _out, err) = feedwright(&blog.config, &["check"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("templates/feed.xsl") && err.contains("not well-formed"),
        "{err}"
    );
    blog.post(3, "Post 3", 3);
    let (code, _out, err) = feedwright(&blog.config, &["run"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("templates/feed.xsl"), "{err}");
    assert_eq!(
        std::fs::read_to_string(&xsl).expect("xsl"),
        custom,
        "old one kept"
    );
    let head = parse(&blog.out("atom.xml"));
    assert_eq!(head.ids, vec![id_of(3)], "feeds still published");
    std::fs::write(templates.join("feed.xsl"), "<html><body/></html>").expect("not xslt");
    let (code, _out, err) = feedwright(&blog.config, &["check"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not an XSLT"), "{err}");
}

#[test]
fn the_shipped_stylesheet_copy_matches_the_built_in_one() {
    let copy = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/templates/feed.xsl"))
        .expect("templates/feed.xsl");
    assert_eq!(copy, feedwright::publish::BUILTIN_STYLESHEET);
}

#[test]
fn archive_pages_a_new_store_does_not_know_are_named_until_it_has_written_over_them() {
    let blog = Blog::new(2, 2);
    for n in 1..=8 {
        blog.post(n, &format!("Post {n}"), n);
    }
    let err = blog.run();
    assert!(!err.contains("no record of"), "{err}");
    assert_eq!(blog.archive_files().len(), 3, "posts 1-6 on three pages");
    // The same run again, with its own store: nothing to say.
    assert!(!blog.run().contains("no record of"));

    // A mistyped `store.path` (or a lost store): the new store knows none of the pages. Only
    // posts 7 and 8 and two older ones are left in the folder, so it fills one page of its own.
    let config = std::fs::read_to_string(&blog.config).expect("config");
    std::fs::write(
        &blog.config,
        config.replace("state/feedwright.db", "state/other.db"),
    )
    .expect("config");
    for n in 1..=4 {
        std::fs::remove_file(blog.dir.path().join(format!("posts/post-{n}.md"))).expect("rm");
    }
    let err = blog.run();
    let folder = blog.out("archive");
    let expected = format!(
        "feed main: {} holds 3 archive pages (1.xml to 3.xml) this store has no record of",
        folder.display()
    );
    assert!(err.contains(&expected), "{err}");
    assert!(err.contains("`store.path`"), "{err}");
    // Page 1 is the new store's now; pages 2 and 3 are still the old ones, and still named.
    let err = blog.run();
    assert!(
        err.contains("holds 2 archive pages (2.xml to 3.xml) this store has no record of"),
        "{err}"
    );
    // Back to the store that wrote them: nothing to say.
    std::fs::write(&blog.config, &config).expect("config");
    assert!(!blog.run().contains("no record of"));
}
