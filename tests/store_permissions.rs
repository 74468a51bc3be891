//! The store's files and the permissions of the users that open them, with the real binary:
//! a `-shm` file the writer cannot write is named before anything is fetched, and a reader that
//! cannot create the write-ahead log's files is told why. File modes do not stop root: run as
//! root, the commands under test run as the unprivileged user 65534 (`setpriv`).

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
