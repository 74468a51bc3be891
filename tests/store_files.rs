//! The store's files, with the real binary: a `-shm` file the writer cannot write is named
//! before anything is fetched, a reader that cannot create the write-ahead log's files is told
//! why, and a store that stops taking writes mid-run stops the run's reading in one line; an
//! `output_dir` that cannot be created or written is named by `check` as by `run`. File
//! modes do not stop root: run as root, the commands of the permission tests run as the
//! unprivileged user 65534 (`setpriv`).

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// `feedwright --config DIR/config.toml ARGS…` in `dir`, as an unprivileged user: this one, or
/// 65534 when this one is root. Exit code and stderr.
fn feedwright_unprivileged(dir: &Path, args: &[&str]) -> (i32, String) {
    let bin = env!("CARGO_BIN_EXE_feedwright");
    let mut cmd = if running_as_root() {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", bin]);
        c
    } else {
        Command::new(bin)
    };
    let out = cmd
        .arg("--config")
        .arg(dir.join("config.toml"))
        .args(args)
        .current_dir(dir)
        .env_remove("RUST_LOG")
        .output()
        .expect("run feedwright");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn write_post(dir: &Path, slug: &str) {
    std::fs::write(
        dir.join(format!("posts/{slug}.md")),
        format!(
            "+++\ntitle = \"Post {slug}\"\ndate = 2024-10-01T12:00:00Z\n\
             url = \"https://notes.example.org/{slug}/\"\n+++\nText of {slug}.\n"
        ),
    )
    .expect("post");
}

/// A `dir` source of one post, in a folder the unprivileged user owns (when root runs the test).
fn blog() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("posts")).expect("posts");
    write_post(dir.path(), "first");
    std::fs::write(
        dir.path().join("config.toml"),
        "output_dir = \"out\"\npublic_url = \"http://feeds.test/\"\n[store]\n\
         path = \"feedwright.db\"\n[[source]]\nname = \"notes\"\nurl = \"posts\"\nkind = \"dir\"\n\
         [[feed]]\nname = \"main\"\nsources = [\"notes\"]\n",
    )
    .expect("config");
    if running_as_root() {
        let ok = Command::new("chown")
            .args(["-R", "65534:65534"])
            .arg(dir.path())
            .status()
            .expect("chown");
        assert!(ok.success());
    }
    dir
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// A reader (`status`) while the database file was read-only leaves `-shm` and `-wal` files
/// with its mode; made writable again, the database lets the writer in, but SQLite falls back
/// to reading: every write of the run used to fail, post by post, after fetching them all.
/// Now the run stops at once, exit 2, naming the file.
#[test]
fn an_unwritable_shm_file_is_named_before_anything_is_read() {
    let dir = blog();
    let (code, err) = feedwright_unprivileged(dir.path(), &["run"]);
    assert_eq!(code, 0, "{err}");
    let db = dir.path().join("feedwright.db");
    chmod(&db, 0o444);
    let (code, err) = feedwright_unprivileged(dir.path(), &["status"]);
    assert_eq!(code, 0, "{err}");
    assert!(dir.path().join("feedwright.db-shm").exists());
    chmod(&db, 0o644);
    write_post(dir.path(), "second");

    let (code, err) = feedwright_unprivileged(dir.path(), &["run"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("feedwright.db-shm cannot be opened for writing"),
        "{err}"
    );
    assert!(
        !err.contains("could not be stored"),
        "nothing was read: {err}"
    );
}

/// Between runs no `-shm`/`-wal` files exist, and a reader that may not create them (another
/// user than the writer's, a directory it cannot write) is told what it needs instead of
/// SQLite's "attempt to write a readonly database".
#[test]
fn a_reader_that_cannot_create_the_logs_files_is_told_why() {
    let dir = blog();
    let (code, err) = feedwright_unprivileged(dir.path(), &["run"]);
    assert_eq!(code, 0, "{err}");
    assert!(!dir.path().join("feedwright.db-shm").exists());
    chmod(dir.path(), 0o555);
    let (code, err) = feedwright_unprivileged(dir.path(), &["status"]);
    chmod(dir.path(), 0o755);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("feedwright.db-shm and ")
            && err.contains("feedwright.db-wal, which SQLite needs to read it")
            && err.contains("write access to the database's directory"),
        "{err}"
    );
}

/// `check` tells of an `output_dir` the user running it could not create or write, naming the
/// key and the folder at fault, as `run` would find out only after its checks passed.
#[test]
fn check_refuses_an_output_dir_that_cannot_be_created_or_written() {
    let dir = blog();
    let (code, err) = feedwright_unprivileged(dir.path(), &["check"]);
    assert_eq!(code, 0, "{err}");
    let locked = dir.path().join("locked");
    std::fs::create_dir(&locked).expect("mkdir");
    chmod(&locked, 0o555);
    let config = dir.path().join("config.toml");
    let text = std::fs::read_to_string(&config).expect("config");
    for (output_dir, says) in [
        (
            "locked/feeds",
            format!(
                "config.toml: output_dir: cannot create {}: {} is not writable: ",
                locked.join("feeds").display(),
                locked.display()
            ),
        ),
        (
            "locked",
            format!(
                "config.toml: output_dir: {} is not writable: ",
                locked.display()
            ),
        ),
    ] {
        std::fs::write(
            &config,
            text.replace(
                "output_dir = \"out\"",
                &format!("output_dir = {output_dir:?}"),
            ),
        )
        .expect("config");
        for command in ["check", "run"] {
            let (code, err) = feedwright_unprivileged(dir.path(), &[command]);
            assert_eq!(code, 2, "{command} {output_dir}: {err}");
            assert!(err.contains(&says), "{command} {output_dir}: {err}");
        }
    }
    chmod(&locked, 0o755);
}

/// A `dir` source of 300 posts of about 8 KB (some 2.5 MB of store, far over the file size
/// limit of the tests below), `extra` appended to its config.
fn large_blog(extra: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("posts")).expect("posts");
    let text = "Delegations met about water rights and trade. ".repeat(170);
    for n in 1..=300 {
        std::fs::write(
            dir.path().join(format!("posts/p{n}.md")),
            format!(
                "+++\ntitle = \"Post {n}\"\ndate = 2024-10-01T12:00:00Z\n\
                 url = \"https://notes.example.org/{n}/\"\n+++\n{n}: {text}\n"
            ),
        )
        .expect("post");
    }
    std::fs::write(
        dir.path().join("config.toml"),
        format!(
            "output_dir = \"out\"\npublic_url = \"http://feeds.test/\"\n[store]\n\
             path = \"feedwright.db\"\n[[source]]\nname = \"notes\"\nurl = \"posts\"\n\
             kind = \"dir\"\nschedule = \"0 0 1 1 *\"\n[[feed]]\nname = \"main\"\n\
             sources = [\"notes\"]\n{extra}"
        ),
    )
    .expect("config");
    dir
}

/// The store stops taking writes in the middle of a run (here a file size limit, `ulimit -f`,
/// with SIGXFSZ ignored as a daemon's supervisor may: writes past it fail as on a full disk):
/// the source stops being read at once, with one line saying what was stored before and why it
/// stopped, not a failure per post; exit 1. Given room again, the next run stores the rest.
#[test]
fn a_store_that_stops_taking_writes_stops_the_run_in_one_line() {
    let dir = large_blog("");
    let limited = Command::new("bash")
        .arg("-c")
        .arg("ulimit -f 800 && trap '' XFSZ && exec \"$0\" --config config.toml run")
        .arg(env!("CARGO_BIN_EXE_feedwright"))
        .current_dir(dir.path())
        .env_remove("RUST_LOG")
        .output()
        .expect("run under a file size limit");
    let err = String::from_utf8_lossy(&limited.stderr);
    assert_eq!(limited.status.code(), Some(1), "{err}");
    let line = err
        .lines()
        .find(|l| l.starts_with("notes: "))
        .unwrap_or_else(|| panic!("no line for the source: {err}"));
    assert!(
        line.contains(" new, ") && line.contains("; then stopped: the store cannot be written: "),
        "{line}"
    );
    assert!(
        !err.contains("could not be stored"),
        "one line, not one per post: {err}"
    );
    assert!(!err.contains("cannot record pending"), "{err}");

    let (code, err) = {
        let out = Command::new(env!("CARGO_BIN_EXE_feedwright"))
            .args(["--config", "config.toml", "run"])
            .current_dir(dir.path())
            .env_remove("RUST_LOG")
            .output()
            .expect("run");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    assert_eq!(code, Some(0), "{err}");
    let store =
        feedwright::store::Store::open_read_only(&dir.path().join("feedwright.db")).expect("store");
    assert_eq!(store.entry_count("notes").expect("count"), 300);
}

/// The daemon's refresh meets a store that takes no writes: the store cannot record it, so the
/// daemon's `/healthz` says it, 503 `store unwritable` with why, instead of the stale record of
/// the last good runs.
#[test]
fn the_daemons_health_check_reports_a_store_that_takes_no_writes() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    // A refresh right at start-up: a schedule every second.
    let dir = large_blog(&format!(
        "[server]\nlisten = \"127.0.0.1:{port}\"\n[daemon]\njitter_secs = 0\n"
    ));
    let config = dir.path().join("config.toml");
    let text = std::fs::read_to_string(&config).expect("config");
    std::fs::write(&config, text.replace("0 0 1 1 *", "* * * * * *")).expect("config");
    let log = std::fs::File::create(dir.path().join("daemon.log")).expect("log");
    let mut daemon = Command::new("bash")
        .arg("-c")
        .arg("ulimit -f 800 && trap '' XFSZ && exec \"$0\" --config config.toml daemon")
        .arg(env!("CARGO_BIN_EXE_feedwright"))
        .current_dir(dir.path())
        .env_remove("RUST_LOG")
        .stderr(log)
        .spawn()
        .expect("daemon");
    let read_log = || std::fs::read_to_string(dir.path().join("daemon.log")).unwrap_or_default();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !read_log().contains("then stopped: the store cannot be written") {
        assert!(std::time::Instant::now() < deadline, "{}", read_log());
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let health = {
        use std::io::{Read, Write};
        let mut c = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
        c.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .expect("send");
        let mut out = String::new();
        c.read_to_string(&mut out).expect("answer");
        out
    };
    let _ = daemon.kill();
    let _ = daemon.wait();
    assert!(health.starts_with("HTTP/1.1 503"), "{health}");
    assert!(
        health.contains("\"status\": \"store unwritable\""),
        "{health}"
    );
    assert!(
        health.contains("cannot read or write its files"),
        "{health}"
    );
}
