//! What a first-time user meets: the shipped offline example, the mistakes of a first
//! configuration (each refused or warned about in words that say what to write instead), and
//! the warnings a valid configuration still gets, through the real binary.

mod common;

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Resp, Site, dir_config, feedwright, site_config, write_config};

/// A Markdown post in `posts/` below `dir`, with these categories.
fn post(dir: &Path, file: &str, categories: &str) {
    post_in(&dir.join("posts"), file, categories);
}

/// A Markdown post in the folder `posts`, with these categories.
fn post_in(posts: &Path, file: &str, categories: &str) {
    std::fs::create_dir_all(posts).unwrap();
    std::fs::write(
        posts.join(file),
        format!(
            "+++\ntitle = \"{file}\"\ndate = 2024-11-18\nurl = \"https://example.org/{file}/\"\n\
             categories = {categories}\n+++\nText.\n"
        ),
    )
    .unwrap();
}

/// The `warning:` lines of `stderr` that contain `words`.
fn warnings<'a>(stderr: &'a str, words: &str) -> Vec<&'a str> {
    stderr
        .lines()
        .filter(|l| l.starts_with("warning: ") && l.contains(words))
        .collect()
}

/// `GET path` on `port` of loopback: the status code and the whole answer.
fn get(port: u16, path: &str) -> (u16, String) {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: localhost:{port}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let code = answer
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (code, answer)
}

/// A process killed when dropped (a test that fails does not leave it running).
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_for(what: &str, limit: Duration, mut ready: impl FnMut() -> bool) {
    let t0 = Instant::now();
    while !ready() {
        assert!(t0.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Copy the folder `from` into `to`, recursively.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A `public_url` with credentials would be published in every feed's ids and self links, and
/// one with a query or fragment would lose them in every URL built from it: both are refused,
/// naming the key, and the password is not printed.
#[test]
fn a_public_url_with_credentials_a_query_or_a_fragment_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    post(dir.path(), "a.md", "[\"Events\"]");
    for (public_url, words) in [
        (
            "https://user:secret@feeds.mysite.test/f/",
            "must not carry a user name or password",
        ),
        ("https://x.org/f/?a=1#x/", "must not have a query"),
        ("https://x.org/f/#x/", "or fragment"),
        ("https://x.org/f/?a=1/", "must not have a query"),
    ] {
        let text = dir_config("").replace("http://feeds.test/", public_url);
        let cfg = write_config(dir.path(), &text);
        for command in ["check", "run"] {
            let (code, _, stderr) = feedwright(&cfg, &[command]);
            assert_eq!(code, 2, "{public_url} {command}: {stderr}");
            assert!(
                stderr.contains(&format!("{}: public_url: ", cfg.display()))
                    && stderr.contains(words),
                "{public_url} {command}: {stderr}"
            );
            assert!(!stderr.contains("secret"), "{stderr}");
        }
        assert!(!dir.path().join("out").exists(), "nothing published");
    }
}

/// The offline example serves what it publishes: `serve` works with it (its `[server]` listens
/// where its `public_url` points), and the feeds its `run` writes are served there.
#[test]
fn the_offline_example_serves_its_feeds_at_its_public_url() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/offline");
    let text = std::fs::read_to_string(example.join("config.toml")).unwrap();
    let cfg: toml::Value = toml::from_str(&text).unwrap();
    let listen = cfg["server"]["listen"].as_str().expect("[server] listen");
    assert_eq!(listen, "127.0.0.1:8080");
    let public = url::Url::parse(cfg["public_url"].as_str().unwrap()).unwrap();
    assert_eq!(
        public.port(),
        Some(8080),
        "public_url names the served port"
    );
    assert!(
        matches!(public.host_str(), Some("localhost" | "127.0.0.1")),
        "{public}"
    );

    // A copy, on a free port (another program may hold 8080).
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&example, dir.path());
    let _ = std::fs::remove_dir_all(dir.path().join("feeds"));
    let _ = std::fs::remove_file(dir.path().join("feedwright.db"));
    let port = common::free_port();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        text.replace("127.0.0.1:8080", &format!("127.0.0.1:{port}")),
    )
    .unwrap();
    let (code, stdout, stderr) = feedwright(&config, &["check"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("OK"), "{stdout}");
    assert!(!stderr.contains("warning"), "nothing to change: {stderr}");
    let (code, _, stderr) = feedwright(&config, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("warning"), "{stderr}");

    let _serve = Killed(common::spawn_feedwright(&config, &["serve"]));
    wait_for("serve to listen", Duration::from_secs(10), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    let (code, answer) = get(port, "/sample-events/atom.xml");
    assert_eq!(code, 200, "{answer}");
    assert!(
        answer.contains("http://localhost:8080/sample-events/atom.xml"),
        "its self link is the public_url: {answer}"
    );
}

/// A feed whose `categories` filter matches none of its sources' entries (a typo: "Event" for
/// "Events") is still published, empty, but `run` says so in a warning naming the feed, the
/// filter and the categories there are; a filter matching one entry draws none.
#[test]
fn a_category_filter_matching_nothing_is_named_with_the_categories_there_are() {
    let dir = tempfile::tempdir().unwrap();
    post(dir.path(), "a.md", "[\"Events\", \"Trade\"]");
    post(dir.path(), "b.md", "[\"Events\"]");
    post(dir.path(), "c.md", "[]");
    let filtered = |categories: &str| {
        dir_config("").replace(
            "sources = [\"events\"]",
            &format!("sources = [\"events\"]\ncategories = {categories}"),
        )
    };
    let cfg = write_config(dir.path(), &filtered("[\"Event\"]"));
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("feed events: 0 entries"), "{stderr}");
    let lines = warnings(&stderr, "categories");
    assert_eq!(lines.len(), 1, "{stderr}");
    let line = lines[0];
    assert!(
        line.starts_with("warning: feed events: categories = [\"Event\"] matches no entry")
            && line.contains("3 stored")
            && line.contains("\"Events\" (2), \"Trade\" (1)"),
        "{line}"
    );
    assert!(dir.path().join("out/events/atom.xml").exists());

    // Case does not matter, and one entry matching is enough: no warning.
    let cfg = write_config(dir.path(), &filtered("[\"trade\"]"));
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("feed events: 1 entry,"), "{stderr}");
    assert!(!stderr.contains("warning"), "{stderr}");
}

/// The daemon warns about such a filter too, once (not on every refresh).
#[test]
fn the_daemon_warns_once_about_a_category_filter_matching_nothing() {
    let dir = tempfile::tempdir().unwrap();
    post(dir.path(), "a.md", "[\"Events\"]");
    let text = dir_config("schedule = \"* * * * * *\"")
        .replace(
            "sources = [\"events\"]",
            "sources = [\"events\"]\ncategories = [\"Event\"]",
        )
        .replace("[store]", "[daemon]\njitter_secs = 0\n[store]");
    let cfg = write_config(dir.path(), &text);
    let log_path = dir.path().join("daemon.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let _daemon = Killed(
        Command::new(env!("CARGO_BIN_EXE_feedwright"))
            .arg("--config")
            .arg(&cfg)
            .arg("daemon")
            .env("RUST_LOG", "feedwright=info")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap(),
    );
    let read = || std::fs::read_to_string(&log_path).unwrap_or_default();
    wait_for("three refreshes", Duration::from_secs(20), || {
        read().matches(" new, ").count() >= 3
    });
    let text = read();
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("WARN") && l.contains("matches no entry"))
        .collect();
    assert_eq!(lines.len(), 1, "{text}");
    assert!(
        lines[0].contains("events") && lines[0].contains("\"Events\" (1)"),
        "{text}"
    );
}

/// The TOML mistakes of a first configuration get a hint saying what to write.
#[test]
fn first_toml_mistakes_get_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let good = "[[source]]\nname = \"s\"\nurl = \"posts\"\nkind = \"dir\"\n\
                [[feed]]\nname = \"f\"\nsources = [\"s\"]\n";
    std::fs::create_dir_all(dir.path().join("posts")).unwrap();
    for (text, hint) in [
        (
            good.replace("[[source]]", "[source]"),
            "hint: write [[source]], with two brackets",
        ),
        (
            good.replace("[[feed]]", "[feed]"),
            "hint: write [[feed]], with two brackets",
        ),
        (
            good.replace("[[source]]", "[[sources]]"),
            "hint: the table is [[source]], in the singular",
        ),
        (
            good.replace("[[feed]]", "[[feeds]]"),
            "hint: the table is [[feed]], in the singular",
        ),
        (
            good.replace("sources = [\"s\"]", "sources = \"s\""),
            "hint: this key takes a list: sources = [\"…\"]",
        ),
    ] {
        let cfg = write_config(dir.path(), &text);
        let (code, _, stderr) = feedwright(&cfg, &["check"]);
        assert_eq!(code, 2, "{text}: {stderr}");
        assert!(stderr.contains(hint), "{text}: {stderr}");
    }
    // A single recipient as a string is taken as a list of one.
    let cfg = write_config(
        dir.path(),
        &format!(
            "{good}[digest]\nfeed = \"f\"\nto = \"list@example.org\"\n\
             unsubscribe_url = \"https://example.org/unsubscribe\"\n"
        ),
    );
    let (code, stdout, stderr) = feedwright(&cfg, &["check"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("OK"), "{stdout}");
    let parsed = feedwright::config::Config::load(&cfg).expect("valid");
    assert_eq!(parsed.digest.unwrap().to, ["list@example.org"]);
}

/// A `dir` source's folder may be given as a `file://` URL; one naming no local path is
/// refused, saying to give a path.
#[test]
fn a_dir_source_takes_a_file_url() {
    let dir = tempfile::tempdir().unwrap();
    post(dir.path(), "a.md", "[\"Events\"]");
    let folder = url::Url::from_file_path(dir.path().join("posts")).unwrap();
    let cfg = write_config(
        dir.path(),
        &dir_config("").replace("url = \"posts\"", &format!("url = \"{folder}\"")),
    );
    let (code, _, stderr) = feedwright(&cfg, &["check"]);
    assert_eq!(code, 0, "{stderr}");
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("events: 1 new"), "{stderr}");

    let cfg = write_config(
        dir.path(),
        &dir_config("").replace("url = \"posts\"", "url = \"file://server/share/posts\""),
    );
    let (code, _, stderr) = feedwright(&cfg, &["check"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("source[0].url") && stderr.contains("give its path"),
        "{stderr}"
    );
}

/// A Markdown file without front matter is failed saying so, not that a key of it is missing.
#[test]
fn a_markdown_file_without_front_matter_is_failed_saying_so() {
    let dir = tempfile::tempdir().unwrap();
    post(dir.path(), "a.md", "[\"Events\"]");
    std::fs::write(
        dir.path().join("posts/plain.md"),
        "# A talk\n\nJust text.\n",
    )
    .unwrap();
    let cfg = write_config(dir.path(), &dir_config(""));
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 1, "{stderr}");
    let line = stderr
        .lines()
        .find(|l| l.contains("failed") && l.contains("plain.md"))
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(
        line.contains("no front matter") && line.contains("---") && !line.contains("missing"),
        "{line}"
    );
}

/// `kind = "feed"` pointed at an HTML page says the answer is a page, and what to set.
#[test]
fn a_feed_source_answering_an_html_page_says_so() {
    let site = Site::start();
    site.set(
        "/cat/",
        Resp::Html("<!DOCTYPE html><html><body><p>Posts</p></body></html>".into()),
    );
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        &site_config(&site.url("/cat/"), "", "kind = \"feed\""),
    );
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("the answer is an HTML page") && stderr.contains("kind = \"html\""),
        "{stderr}"
    );
    assert!(!stderr.contains("no root element"), "{stderr}");
}

/// A listing page without post links names the selector that picks them.
#[test]
fn a_listing_without_post_links_names_the_item_link_selector() {
    let site = Site::start();
    site.set(
        "/cat/",
        Resp::Html("<html><body><main><p>Nothing here</p></main></body></html>".into()),
    );
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        &site_config(&site.url("/cat/"), "", "kind = \"html\""),
    );
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 1, "{stderr}");
    let line = stderr
        .lines()
        .find(|l| l.contains("degraded:"))
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(
        line.contains("yielded no post links") && line.contains("[source.selectors] item_link"),
        "{line}"
    );
}

/// A `[[source]]` no `[[feed]]` names is read for nothing: `check` and `run` say so, once.
#[test]
fn a_source_in_no_feed_is_named_in_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    post(dir.path(), "a.md", "[\"Events\"]");
    post_in(&dir.path().join("other"), "b.md", "[\"Events\"]");
    let text = dir_config("").replace(
        "[[feed]]",
        "[[source]]\nname = \"forgotten\"\nurl = \"other\"\nkind = \"dir\"\n[[feed]]",
    );
    let cfg = write_config(dir.path(), &text);
    for command in ["check", "run"] {
        let (code, _, stderr) = feedwright(&cfg, &[command]);
        assert_eq!(code, 0, "{command}: {stderr}");
        let lines = warnings(&stderr, "forgotten");
        assert_eq!(lines.len(), 1, "{command}: {stderr}");
        assert!(lines[0].contains("in no [[feed]]"), "{}", lines[0]);
        assert_eq!(
            warnings(&stderr, "").len(),
            1,
            "nothing else to say: {stderr}"
        );
    }
}

/// The placeholder `http.user_agent` (the default's example.org contact) is warned about as a
/// placeholder `public_url` is, by `check`, `run`, `backfill` and `daemon`, when a source reads
/// a site; a real contact, or `dir` sources alone (nothing is sent), draw no warning.
#[test]
fn a_placeholder_user_agent_is_warned_about_when_sites_are_read() {
    let site = Site::start();
    site.set("/cat/", Resp::Html("<html><body></body></html>".into()));
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &site_config(&site.url("/cat/"), "", ""));
    for command in ["check", "run", "backfill"] {
        let (_, _, stderr) = feedwright(&cfg, &[command]);
        let lines = warnings(&stderr, "http.user_agent");
        assert_eq!(lines.len(), 1, "{command}: {stderr}");
        assert!(
            lines[0].starts_with(&format!("warning: {}: http.user_agent is ", cfg.display()))
                && lines[0].contains("placeholder"),
            "{command}: {}",
            lines[0]
        );
    }
    // The daemon, at start-up.
    let mut daemon = Killed(
        Command::new(env!("CARGO_BIN_EXE_feedwright"))
            .arg("--config")
            .arg(&cfg)
            .arg("daemon")
            .env_remove("RUST_LOG")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut stderr = daemon.0.stderr.take().unwrap();
    let mut first = Vec::new();
    let mut byte = [0u8; 1];
    while stderr.read(&mut byte).unwrap_or(0) == 1 && byte[0] != b'\n' {
        first.push(byte[0]);
    }
    let first = String::from_utf8_lossy(&first);
    assert!(first.contains("http.user_agent"), "{first}");
    drop(daemon);

    let real = site_config(
        &site.url("/cat/"),
        "user_agent = \"feedwright/0.1 (+https://feeds.mysite.test/contact)\"",
        "",
    );
    let cfg = write_config(dir.path(), &real);
    let (_, _, stderr) = feedwright(&cfg, &["check"]);
    assert!(!stderr.contains("user_agent"), "{stderr}");

    let cfg = write_config(dir.path(), &dir_config(""));
    std::fs::create_dir_all(dir.path().join("posts")).unwrap();
    let (code, _, stderr) = feedwright(&cfg, &["check"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("user_agent"), "{stderr}");
}

/// `run` says what is wrong with `output_dir` as `check` does, naming the config file.
#[test]
fn run_names_an_output_dir_that_is_a_file_as_check_does() {
    let dir = tempfile::tempdir().unwrap();
    post(dir.path(), "a.md", "[\"Events\"]");
    std::fs::write(dir.path().join("out"), "a file").unwrap();
    let cfg = write_config(dir.path(), &dir_config(""));
    let expected = format!(
        "error: {}: output_dir: {} exists and is not a directory",
        cfg.display(),
        dir.path().join("out").display()
    );
    for command in ["check", "run"] {
        let (code, _, stderr) = feedwright(&cfg, &[command]);
        assert_eq!(code, 2, "{command}: {stderr}");
        assert!(stderr.contains(&expected), "{command}: {stderr}");
    }
}
