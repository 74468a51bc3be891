//! Commands that only read or check, with the real binary: `status` beside a running daemon and
//! without a database, `check` on paths later commands would reject, and `serve`'s log.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{feedwright, write_config};

/// Kills the child if the test fails before it is stopped.
struct Running(Child);
impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let t0 = Instant::now();
    while !done() {
        assert!(t0.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A config folder with a `dir` source of one Markdown post, refreshed every second by the
/// daemon, its store in `state/`.
fn notes() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("posts")).expect("posts");
    std::fs::write(
        dir.path().join("posts/one.md"),
        "+++\ntitle = \"One\"\ndate = 2024-10-01T12:00:00Z\nurl = \"https://notes.example.org/one/\"\n+++\nTalks resumed.\n",
    )
    .expect("post");
    let cfg = write_config(
        dir.path(),
        r#"output_dir = "out"
public_url = "http://feeds.test/"
[store]
path = "state/feedwright.db"
[[source]]
name = "notes"
url = "posts"
kind = "dir"
schedule = "* * * * * *"
[[feed]]
name = "main"
sources = ["notes"]
[daemon]
jitter_secs = 0
"#,
    );
    (dir, cfg)
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn status_reads_the_store_while_the_daemon_holds_it() {
    let (dir, cfg) = notes();
    let text = std::fs::read_to_string(&cfg).expect("config")
        + "[digest]\nfeed = \"main\"\nfrom = \"d@example.org\"\nto = [\"a@example.org\"]\n";
    std::fs::write(&cfg, text).expect("config");
    let daemon = Running(
        Command::new(env!("CARGO_BIN_EXE_feedwright"))
            .arg("--config")
            .arg(&cfg)
            .arg("daemon")
            .env_remove("RUST_LOG")
            .stderr(Stdio::null())
            .spawn()
            .expect("start the daemon"),
    );
    let feed = dir.path().join("out/main/atom.xml");
    wait_for(
        "the daemon's first refresh",
        Duration::from_secs(20),
        || feed.exists(),
    );
    // The daemon holds the writer lock: a run is refused, saying a daemon does not let go ...
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("another feedwright process"), "{stderr}");
    assert!(
        stderr.contains("a `daemon` holds the store until it is stopped"),
        "{stderr}"
    );
    // ... a digest preview reads the store without the lock ...
    let (code, stdout, stderr) = feedwright(
        &cfg,
        &["digest", "--now", "2024-10-08T12:00:00Z", "--dry-run"],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("2024-W40"), "{stdout}");
    assert!(dir.path().join("out/main/digest/2024-W40.html").exists());
    // ... but status only reads.
    let (code, stdout, stderr) = feedwright(&cfg, &["status"]);
    assert_eq!(code, 0, "{stderr}");
    let row = stdout
        .lines()
        .find(|l| l.starts_with("notes"))
        .unwrap_or_else(|| panic!("{stdout}"));
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cells[1], "healthy", "{row}");
    assert!(cells.contains(&"1"), "one entry: {row}");
    drop(daemon);
}

#[test]
fn status_without_a_database_says_so_and_creates_nothing() {
    let (dir, cfg) = notes();
    let before = files_in(dir.path());
    let (code, stdout, stderr) = feedwright(&cfg, &["status"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("feedwright.db") && stderr.contains("does not exist yet"),
        "{stderr}"
    );
    let row = stdout
        .lines()
        .find(|l| l.starts_with("notes"))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(row.contains("never run"), "{row}");
    assert_eq!(files_in(dir.path()), before, "nothing created");
    assert!(!dir.path().join("state").exists());
}

#[test]
fn status_on_a_corrupt_or_newer_store_is_a_clear_error() {
    let (dir, cfg) = notes();
    let db = dir.path().join("state/feedwright.db");
    std::fs::create_dir(dir.path().join("state")).expect("state");
    std::fs::write(&db, vec![b'x'; 4096]).expect("garbage");
    let (code, stdout, stderr) = feedwright(&cfg, &["status"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        stderr.contains("feedwright.db"),
        "names the database: {stderr}"
    );
    std::fs::remove_file(&db).expect("remove");

    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    let conn = rusqlite::Connection::open(&db).expect("sqlite");
    conn.execute(
        "INSERT INTO refinery_schema_history (version, name, applied_on, checksum)
         VALUES (999, 'future', '2030-01-01T00:00:00Z', '0')",
        [],
    )
    .expect("fake a newer schema");
    drop(conn);
    let (code, _, stderr) = feedwright(&cfg, &["status"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("feedwright.db") && stderr.contains("newer"),
        "{stderr}"
    );
}

/// A digest preview changes nothing: with no store it creates none (nor `output_dir`), an
/// older store is not upgraded, and a real run for a week not over yet is refused before
/// anything is created. Once a run has made the store current, the preview works.
#[test]
fn a_digest_preview_never_creates_or_upgrades_the_store() {
    let (dir, cfg) = notes();
    let text = std::fs::read_to_string(&cfg).expect("config")
        + "[digest]\nfeed = \"main\"\nfrom = \"d@example.org\"\nto = [\"a@example.org\"]\n";
    std::fs::write(&cfg, text).expect("config");
    let state = dir.path().join("state");
    let out = dir.path().join("out");
    let created = || state.exists() || out.exists();

    let ahead = (chrono::Utc::now() + chrono::Duration::days(8)).to_rfc3339();
    let (code, _, stderr) = feedwright(&cfg, &["digest", "--now", &ahead]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("is not over yet"), "{stderr}");
    assert!(!created(), "a refused --now creates nothing");
    for preview in [&["--dry-run"][..], &["--to", "me@example.org", "--dry-run"]] {
        let mut args = vec!["digest", "--now", "2024-10-08T12:00:00Z"];
        args.extend_from_slice(preview);
        let (code, _, stderr) = feedwright(&cfg, &args);
        assert_eq!(code, 2, "{stderr}");
        assert!(stderr.contains("does not exist yet"), "{stderr}");
        assert!(!created(), "{preview:?} created something");
    }

    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    // The store as the build before the newest migration left it.
    let db = state.join("feedwright.db");
    let version = || -> i64 {
        rusqlite::Connection::open(&db)
            .expect("sqlite")
            .query_row(
                "SELECT MAX(version) FROM refinery_schema_history",
                [],
                |r| r.get(0),
            )
            .expect("version")
    };
    let newest = version();
    // Its history says so; its tables are as they are (the row goes back below).
    let conn = rusqlite::Connection::open(&db).expect("sqlite");
    conn.execute_batch(
        "CREATE TABLE newest AS SELECT * FROM refinery_schema_history
             WHERE version = (SELECT MAX(version) FROM refinery_schema_history);
         DELETE FROM refinery_schema_history WHERE version IN (SELECT version FROM newest);",
    )
    .expect("downgrade");
    drop(conn);
    let dry = ["digest", "--now", "2024-10-08T12:00:00Z", "--dry-run"];
    let (code, _, stderr) = feedwright(&cfg, &dry);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "the store's schema is v{}, older than this feedwright's v{newest}: a preview never \
             upgrades it",
            newest - 1
        )),
        "{stderr}"
    );
    assert_eq!(version(), newest - 1, "the preview upgraded the store");

    rusqlite::Connection::open(&db)
        .expect("sqlite")
        .execute_batch(
            "INSERT INTO refinery_schema_history SELECT * FROM newest; DROP TABLE newest;",
        )
        .expect("upgrade back");
    assert_eq!(version(), newest);
    let (code, stdout, stderr) = feedwright(&cfg, &dry);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("dry run"), "{stdout}");
}

/// A store an older feedwright wrote is upgraded, and the run says so in one line at the
/// default verbosity (a one-way step: older versions can no longer open it), without the
/// migration runner's own lines. A store already current, or a new one, gets no such line.
#[test]
fn an_upgraded_store_is_announced_once() {
    let (dir, cfg) = notes();
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("upgraded"), "a new store: {stderr}");
    // Undo the newest migration, as a store of the build before it would be.
    let db = dir.path().join("state/feedwright.db");
    let conn = rusqlite::Connection::open(&db).expect("sqlite");
    let newest: i64 = conn
        .query_row(
            "SELECT MAX(version) FROM refinery_schema_history",
            [],
            |r| r.get(0),
        )
        .expect("version");
    // V25 adds a column, dropped here; V24 changes no table, only the keys it writes the way
    // this build does already.
    assert_eq!(
        newest, 25,
        "this test undoes V25 (site description) and V24 (escapes)"
    );
    conn.execute_batch(
        "ALTER TABLE source_state DROP COLUMN site_description;
         DELETE FROM refinery_schema_history WHERE version >= 24;",
    )
    .expect("downgrade");
    let previous: i64 = conn
        .query_row(
            "SELECT MAX(version) FROM refinery_schema_history",
            [],
            |r| r.get(0),
        )
        .expect("version");
    drop(conn);
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| l.contains("upgraded")).collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].contains(&format!(
            "feedwright.db: the store was upgraded from schema v{previous} to v25"
        )) && lines[0].contains("older than this one can no longer open it"),
        "{stderr}"
    );
    assert!(!stderr.contains("Applying migration"), "{stderr}");
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("upgraded"), "{stderr}");
}

/// Start `serve` on a free loopback port with `cfg` plus a `[server]` table; returns the
/// process, its stderr past the first line, the first line (which says where it serves), and
/// the address.
fn start_serve(
    cfg: &Path,
) -> (
    Running,
    BufReader<std::process::ChildStderr>,
    String,
    String,
) {
    let text =
        std::fs::read_to_string(cfg).expect("config") + "[server]\nlisten = \"127.0.0.1:0\"\n";
    std::fs::write(cfg, text).expect("config");
    let mut serve = Running(
        Command::new(env!("CARGO_BIN_EXE_feedwright"))
            .arg("--config")
            .arg(cfg)
            .arg("serve")
            .env_remove("RUST_LOG")
            .stderr(Stdio::piped())
            .spawn()
            .expect("start serve"),
    );
    let mut stderr = BufReader::new(serve.0.stderr.take().expect("stderr"));
    let mut first = String::new();
    stderr.read_line(&mut first).expect("first log line");
    let addr = first
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_else(|| panic!("no address in {first:?}"))
        .to_owned();
    (serve, stderr, first, addr)
}

#[test]
fn serve_says_once_where_it_serves() {
    let (dir, cfg) = notes();
    let (mut serve, mut stderr, first, addr) = start_serve(&cfg);
    // An answered request means serving has started: every start-up line is written by then.
    let mut conn = std::net::TcpStream::connect(&addr).expect("connect");
    conn.write_all(b"GET /healthz HTTP/1.0\r\n\r\n")
        .expect("request");
    let mut answer = String::new();
    conn.read_to_string(&mut answer).expect("answer");
    assert!(answer.starts_with("HTTP/1."), "{answer}");
    let _ = serve.0.kill();
    let _ = serve.0.wait();
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).expect("rest of the log");
    let log = first + &rest;
    assert_eq!(log.matches("serving ").count(), 1, "{log}");
    assert!(
        log.contains(&dir.path().join("out").display().to_string()),
        "{log}"
    );
}

#[test]
fn check_rejects_what_later_commands_would_and_creates_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("afile"), "not a directory").expect("file");
    std::fs::create_dir(dir.path().join("posts")).expect("posts");
    let config = |output_dir: &str, folder: &str, extra: &str| {
        format!(
            "output_dir = {output_dir:?}\n[[source]]\nname = \"notes\"\nurl = {folder:?}\nkind = \"dir\"\n\
             [[feed]]\nname = \"main\"\nsources = [\"notes\"]\n{extra}"
        )
    };
    let smtp_without_recipients =
        "[digest]\nfeed = \"main\"\nto = []\nsmtp_url = \"smtp://127.0.0.1:9\"\n";
    let cases = [
        (
            config("afile", "posts", ""),
            "output_dir",
            "afile exists and is not a directory",
        ),
        (
            config("afile/feeds", "posts", ""),
            "output_dir",
            "afile is not a directory",
        ),
        (
            config("out", "missing", ""),
            "source[0].url",
            "missing does not exist",
        ),
        (
            config("out", "afile", ""),
            "source[0].url",
            "afile is not a folder",
        ),
        (
            config("out", "posts", smtp_without_recipients),
            "digest.to",
            "no recipient",
        ),
        (
            config("out", "posts", "[daemon]\njitter_secs = 10000000000000\n"),
            "daemon.jitter_secs",
            "at most 86400",
        ),
        (
            config(
                "out",
                "posts",
                "[http]\nmin_interval_ms = 18446744073709551\n",
            ),
            "http.min_interval_ms",
            "at most 3600000",
        ),
        (
            config(
                "out",
                "posts",
                "[digest]\nfeed = \"main\"\nto = [\"a@example.org\"]\n\
                 smtp_url = \"smtp://u:p@127.0.0.1:25\"\n",
            ),
            "digest.smtp_url",
            "smtp_username_env",
        ),
        (
            config(
                "out",
                "posts",
                "[digest]\nfeed = \"main\"\nto = [\"a@example.org\"]\n\
                 smtp_url = \"smtp://127.0.0.1:25/path?x=1\"\n",
            ),
            "digest.smtp_url",
            "without a path or query",
        ),
    ];
    write_config(dir.path(), "");
    let before = files_in(dir.path());
    let mut wrong = Vec::new();
    for (text, key, words) in cases {
        let cfg = write_config(dir.path(), &text);
        let (code, stdout, stderr) = feedwright(&cfg, &["check"]);
        if code != 2
            || !stdout.is_empty()
            || !stderr.contains(&format!("config.toml: {key}: "))
            || !stderr.contains(words)
        {
            wrong.push(format!("{key} ({words}): exit {code}, {stdout}{stderr}"));
        }
        assert_eq!(files_in(dir.path()), before, "nothing created");
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    // What run says of the same output_dir.
    let cfg = write_config(dir.path(), &config("afile/feeds", "posts", ""));
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("output_dir"), "{stderr}");
    // The digest itself refuses the same configuration before sending anything.
    let cfg = write_config(dir.path(), &config("out", "posts", smtp_without_recipients));
    let (code, _, stderr) = feedwright(&cfg, &["digest"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("digest.to"), "{stderr}");

    // A valid configuration whose output_dir does not exist yet: OK, and still nothing created.
    let cfg = write_config(dir.path(), &config("out/feeds", "posts", ""));
    let (code, stdout, stderr) = feedwright(&cfg, &["check"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("OK"), "{stdout}");
    assert!(!dir.path().join("out").exists());

    // No public_url: the placeholder default is valid, and check and run say it must change;
    // a real one draws no such warning.
    let placeholder = "public_url is \"https://example.org/feeds/\", a placeholder";
    let cfg = write_config(dir.path(), &config("out/feeds", "posts", ""));
    let (code, _, stderr) = feedwright(&cfg, &["check"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains(&format!("warning: {}: {placeholder}", cfg.display())),
        "{stderr}"
    );
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains(placeholder), "{stderr}");
    let real = write_config(
        dir.path(),
        &format!(
            "public_url = \"https://feeds.example.test/\"\n{}",
            config("out/feeds", "posts", "")
        ),
    );
    for args in [&["check"][..], &["run"]] {
        let (code, _, stderr) = feedwright(&real, args);
        assert_eq!(code, 0, "{stderr}");
        assert!(!stderr.contains("placeholder"), "{args:?}: {stderr}");
    }
    std::fs::remove_dir_all(dir.path().join("out")).expect("clean");
    for leftover in ["feedwright.db", "feedwright.db.lock"] {
        let _ = std::fs::remove_file(dir.path().join(leftover));
    }

    // A digest sent without unsubscribe_url is valid, and check says what it lacks.
    let digest = "[digest]\nfeed = \"main\"\nfrom = \"d@example.org\"\nto = [\"a@example.org\"]\n\
                  smtp_url = \"smtp://127.0.0.1:9\"\n";
    let cfg = write_config(dir.path(), &config("out/feeds", "posts", digest));
    let (code, stdout, stderr) = feedwright(&cfg, &["check"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("OK"), "{stdout}");
    assert!(
        stderr.contains("config.toml: digest.unsubscribe_url is not set: issues offer unsubscribing by mail to the sender (mailto:d@example.org?subject=unsubscribe)"),
        "{stderr}"
    );
    let with = format!("{digest}unsubscribe_url = \"https://example.org/unsubscribe\"\n");
    let cfg = write_config(dir.path(), &config("out/feeds", "posts", &with));
    let (code, _, stderr) = feedwright(&cfg, &["check"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("unsubscribe_url"), "{stderr}");
}

/// The state `status` shows for source `site`.
fn state_of(cfg: &Path) -> String {
    let (code, stdout, stderr) = feedwright(cfg, &["status"]);
    assert_eq!(code, 0, "{stderr}");
    let row = stdout
        .lines()
        .find(|l| l.starts_with("site "))
        .unwrap_or_else(|| panic!("{stdout}"));
    row.split_whitespace().nth(1).unwrap_or_default().to_owned()
}

/// A source that could not be reached is failing until a run reaches it again, even a run
/// that finds nothing new (a 304, or only known posts): then it is healthy.
#[test]
fn a_failing_source_is_healthy_again_once_reached() {
    use common::{Post, Resp, Site, classic_post, listing};
    let site = Site::start();
    let base = site.base();
    let post = Post::new(7, "panel", "Panel", "2024-01-02T10:00:00+00:00");
    site.set(&post.path(), Resp::Html(classic_post(&base, &post)));
    let page = listing(&base, &[(post.path(), post.title.clone())], None);
    site.set("/category/intl/", Resp::Html(page.clone()));
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = write_config(
        dir.path(),
        &common::site_config(&site.url("/category/intl/"), "", ""),
    );
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(state_of(&cfg), "healthy");

    site.set("/category/intl/", Resp::Status(503));
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(state_of(&cfg), "failing");
    // The listing page that failed counts as a failure of the run (and in
    // `feedwright_source_failures_total`), though no post was reached.
    let (_, stdout, _) = feedwright(&cfg, &["status"]);
    let row = stdout
        .lines()
        .find(|l| l.starts_with("site "))
        .expect(&stdout);
    assert!(row.contains(" 0/0/1, "), "{row}");

    site.set("/category/intl/", Resp::Html(page));
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("0 new, 0 updated"), "nothing new: {stderr}");
    assert_eq!(state_of(&cfg), "healthy");
    let (_, stdout, _) = feedwright(&cfg, &["status"]);
    assert!(!stdout.contains("503"), "the old error is gone: {stdout}");
}

/// While a source's first run goes on (its state row exists, no run has finished), `status`
/// says it never ran, not that it is healthy.
#[test]
fn a_source_whose_first_run_has_not_finished_never_ran() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = write_config(
        dir.path(),
        &common::site_config("http://127.0.0.1:9/category/x/", "", ""),
    );
    let mut store =
        feedwright::store::Store::open(&dir.path().join("feedwright.db")).expect("open");
    // What a run records as soon as its listing walk starts.
    store
        .set_walk_incomplete(
            "site",
            "http://127.0.0.1:9/category/x/",
            "auto",
            true,
            chrono::Utc::now(),
        )
        .expect("walk");
    drop(store);
    let (code, stdout, stderr) = feedwright(&cfg, &["status"]);
    assert_eq!(code, 0, "{stderr}");
    let row = stdout
        .lines()
        .find(|l| l.starts_with("site "))
        .expect(&stdout);
    assert!(row.contains("never run"), "{row}");
}

/// `--wait`: a command started while another process holds the store (cron's `digest` at the
/// minute a `run` starts) waits for it, up to the limit, instead of exiting 2 at once; past the
/// limit it exits 2 as before.
#[test]
fn wait_lets_a_command_queue_behind_the_process_holding_the_store() {
    let (dir, cfg) = notes();
    let held = feedwright::store::Store::open(&dir.path().join("state/feedwright.db"))
        .expect("hold the store");
    let (code, _, stderr) = feedwright(&cfg, &["--wait", "1", "run"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("waiting up to 1 s"), "{stderr}");
    assert!(stderr.contains("another feedwright process"), "{stderr}");
    assert!(
        stderr.contains("(still, after waiting 1 s: a longer --wait waits longer)"),
        "{stderr}"
    );
    // Without --wait, the error says it exists.
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--wait SECONDS waits for it"), "{stderr}");

    let waiting = Command::new(env!("CARGO_BIN_EXE_feedwright"))
        .arg("--config")
        .arg(&cfg)
        .args(["run", "--wait", "30"])
        .stderr(Stdio::piped())
        .spawn()
        .expect("start run");
    std::thread::sleep(Duration::from_millis(800));
    assert!(!dir.path().join("out/main/atom.xml").exists(), "it waits");
    drop(held);
    let out = waiting.wait_with_output().expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("waiting up to 30 s"), "{stderr}");
    assert!(dir.path().join("out/main/atom.xml").exists());
}

/// `serve` stops on SIGTERM within its grace even when a client holds a request it never
/// finishes sending.
#[test]
fn serve_stops_on_sigterm_despite_a_half_sent_request() {
    let (_dir, cfg) = notes();
    let (mut serve, _stderr, _, addr) = start_serve(&cfg);
    let mut conn = std::net::TcpStream::connect(&addr).expect("connect");
    // Headers without the blank line that ends them.
    conn.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .expect("request");
    std::thread::sleep(Duration::from_millis(300));
    let killed = Command::new("kill")
        .arg("-TERM")
        .arg(serve.0.id().to_string())
        .status()
        .expect("kill");
    assert!(killed.success());
    let t0 = Instant::now();
    wait_for("serve to exit", Duration::from_secs(15), || {
        serve.0.try_wait().expect("wait").is_some()
    });
    assert!(t0.elapsed() < Duration::from_secs(7), "{:?}", t0.elapsed());
    assert_eq!(serve.0.wait().expect("status").code(), Some(0));
    drop(conn);
}

/// `digest --now` with a year that issues cannot be labelled with is an option error.
#[test]
fn digest_now_needs_a_four_digit_year() {
    let (_dir, cfg) = notes();
    for now in ["0000-01-01T00:00:00Z", "1000-06-01T00:00:00Z"] {
        let (code, _, stderr) = feedwright(&cfg, &["digest", "--now", now]);
        assert_eq!(code, 2, "{stderr}");
        assert!(
            stderr.contains("--now: the year must be between 1001 and 9999"),
            "{stderr}"
        );
    }
}

/// `digest` refuses what it cannot use (a bad `--to`, `--to` with no SMTP server, a template
/// that does not render) before it creates the store or `output_dir`: exit 2 writes nothing.
#[test]
fn digest_option_errors_create_nothing() {
    let (dir, cfg) = notes();
    let text = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(&cfg, format!("{text}[digest]\nfeed = \"main\"\n")).unwrap();
    let now = "2024-11-18T13:00:00Z";
    let created = || files_in(dir.path());
    let before = created();
    for (args, says) in [
        (
            vec!["digest", "--now", now, "--to", "x"],
            "error: --to: invalid email address \"x\": ",
        ),
        (
            vec!["digest", "--now", now, "--to", "editor@example.org"],
            "error: --to: no SMTP server to send the test copy through: digest.smtp_url is not \
             set",
        ),
    ] {
        let (code, _, stderr) = feedwright(&cfg, &args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stderr.starts_with(says), "{args:?}: {stderr}");
        assert_eq!(created(), before, "{args:?} wrote nothing");
    }
    std::fs::create_dir(dir.path().join("templates")).unwrap();
    std::fs::write(
        dir.path().join("templates/digest.html"),
        "{% if %}broken{% endif %}",
    )
    .unwrap();
    let before = created();
    let (code, _, stderr) = feedwright(&cfg, &["digest", "--now", now, "--dry-run"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("digest.html"), "{stderr}");
    assert_eq!(created(), before, "a template error wrote nothing");
}

/// A feed whose files cannot be written (here its folder turned into a file; a read-only or
/// full output_dir does the same) is not only a log line: `status` names it, `/healthz` is
/// failing and `/metrics` says so, until a publish succeeds again.
#[test]
fn a_feed_that_cannot_be_published_shows_in_status_health_and_metrics() {
    let (dir, cfg) = notes();
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    let config = feedwright::config::Config::load(&cfg).expect("config");
    let health = feedwright::server::read_health(&config);
    assert_eq!(health.status, "ok");
    assert_eq!(health.feeds[0].state, "published");
    let metrics = feedwright::server::read_metrics(&config);
    assert!(
        metrics.contains("feedwright_feed_publish_failing{feed=\"main\"} 0"),
        "{metrics}"
    );
    assert!(metrics.contains("feedwright_feed_last_published_timestamp_seconds{feed=\"main\"}"));

    let feed_dir = dir.path().join("out/main");
    std::fs::remove_dir_all(&feed_dir).expect("remove");
    std::fs::write(&feed_dir, "in the way").expect("file");
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 1, "{stderr}");
    let (code, stdout, _) = feedwright(&cfg, &["status"]);
    assert_eq!(code, 0);
    assert!(
        stdout.contains("feed main: NOT PUBLISHED since"),
        "{stdout}"
    );
    let health = feedwright::server::read_health(&config);
    assert_eq!(health.status, "failing");
    assert_eq!(health.http_status(), 503);
    assert_eq!(health.feeds[0].state, "failing");
    assert!(health.feeds[0].error.is_some() && health.feeds[0].failing_since.is_some());
    let metrics = feedwright::server::read_metrics(&config);
    assert!(
        metrics.contains("feedwright_feed_publish_failing{feed=\"main\"} 1"),
        "{metrics}"
    );

    std::fs::remove_file(&feed_dir).expect("clear");
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    let (_, stdout, _) = feedwright(&cfg, &["status"]);
    assert!(!stdout.contains("NOT PUBLISHED"), "{stdout}");
    assert_eq!(feedwright::server::read_health(&config).status, "ok");
}

/// A feed with nothing to write yet (its source has no post stored) was not published: it
/// shows as `unknown`, never as published.
#[test]
fn a_feed_with_nothing_yet_is_not_called_published() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("posts")).expect("posts");
    let cfg = write_config(
        dir.path(),
        "output_dir = \"out\"\npublic_url = \"http://feeds.test/\"\n[store]\npath = \"state/feedwright.db\"\n\
         [[source]]\nname = \"notes\"\nurl = \"posts\"\nkind = \"dir\"\n\
         [[feed]]\nname = \"main\"\nsources = [\"notes\"]\n",
    );
    let (code, _, stderr) = feedwright(&cfg, &["run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("no entries yet"), "{stderr}");
    let config = feedwright::config::Config::load(&cfg).expect("config");
    let health = feedwright::server::read_health(&config);
    assert_eq!(health.feeds[0].state, "unknown", "{health:?}");
    assert_eq!(health.feeds[0].last_published, None);
    let metrics = feedwright::server::read_metrics(&config);
    assert!(
        !metrics.contains("feedwright_feed_last_published_timestamp_seconds{"),
        "{metrics}"
    );
}

/// On a terminal, a warning logged while the progress bar is shown gets a line of its own: the
/// bar is cleared before it and drawn again below it, never left with the warning written onto
/// the end of its line. (`script` gives the run a terminal.)
#[test]
fn a_warning_during_a_run_is_not_written_onto_the_progress_bar() {
    use common::{Post, Resp, Site, classic_post, listing};
    let site = Site::start();
    let base = site.base();
    let first = Post::new(1, "first", "First talk", "2024-06-01T09:00:00+00:00");
    let mut second = Post::new(2, "second", "Second talk", "2024-06-02T09:00:00+00:00");
    second.categories = (0..120).map(|i| format!("Topic {i}")).collect();
    site.set(&first.path(), Resp::Html(classic_post(&base, &first)));
    // The second post comes only once the first is done, so the bar is on the terminal by then.
    site.set(
        &second.path(),
        Resp::After {
            paths: vec![first.path()],
            since: 0,
            then: Box::new(Resp::Html(classic_post(&base, &second))),
        },
    );
    let links: Vec<(String, String)> = [&second, &first]
        .iter()
        .map(|p| (format!("{base}{}", p.path()), p.title.clone()))
        .collect();
    site.set("/cat/", Resp::Html(listing(&base, &links, None)));
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = write_config(dir.path(), &common::site_config(&site.url("/cat/"), "", ""));

    let command = format!(
        "'{}' --config '{}' run",
        env!("CARGO_BIN_EXE_feedwright"),
        cfg.display()
    );
    let out = Command::new("script")
        .args(["--quiet", "--return", "--command", &command, "/dev/null"])
        .env("TERM", "xterm")
        .env_remove("RUST_LOG")
        .env_remove("NO_COLOR")
        .stdin(Stdio::null())
        .output()
        .expect("run feedwright under script(1)");
    let screen = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{screen:?}");
    assert!(
        screen.contains(" posts "),
        "the bar was never drawn: {screen:?}"
    );
    let warning = screen
        .find("120 categories")
        .unwrap_or_else(|| panic!("no warning: {screen:?}"));
    // The start of the warning's line: its time stamp, after the line's colour codes.
    let line_start = screen[..warning].rfind(['\n', '\r']).map_or(0, |i| i + 1);
    let line = &screen[line_start..warning];
    assert!(
        !line.contains("posts"),
        "the warning was written onto the bar's line: {line:?}"
    );
    assert!(line.contains("WARN"), "{line:?}");
    assert!(screen.contains("site: 2 new"), "{screen:?}");
}
