//! Signals in the middle of a write, with the real daemon: feeds are large and rewritten every
//! second while a reader keeps parsing them; SIGTERM is sent the moment a temporary file shows
//! that a feed is being written. Readers must only ever see a whole old or whole new document;
//! the daemon must exit 0 within 10 s and leave no temporary file behind. SIGKILL at the same
//! moment must leave the published file whole too.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

struct Daemon(Child);
impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

const POSTS: u32 = 80;

/// A `dir` source with `POSTS` posts of ~20 KB each (feeds of several MB, so each write takes
/// a while), a one-second schedule and no jitter.
fn blog() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("posts")).expect("posts");
    for n in 1..=POSTS {
        write_post(dir.path(), n, 0);
    }
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            r#"output_dir = "out"
public_url = "http://feeds.test/"
[store]
path = "feedwright.db"
[[source]]
name = "notes"
url = "posts"
kind = "dir"
schedule = "* * * * * *"
[[feed]]
name = "main"
sources = ["notes"]
limit = {POSTS}
[daemon]
jitter_secs = 0
"#
        ),
    )
    .expect("config");
    (dir, config)
}

/// (Re)write post `n`; `edition` changes its body so every run has something to publish.
fn write_post(dir: &Path, n: u32, edition: u32) {
    let para =
        format!("<p>Edition {edition} of post {n}: delegations met about water rights.</p>\n");
    let text = format!(
        "+++\ntitle = \"Post {n}\"\ndate = 2024-10-01T12:00:00Z\nupdated = 2024-10-02T{h:02}:{m:02}:{s:02}Z\n\
         url = \"https://notes.example.org/post-{n}/\"\n+++\n{}",
        para.repeat(300),
        h = (edition / 3600) % 24,
        m = (edition / 60) % 60,
        s = edition % 60,
    );
    let path = dir.join(format!("posts/post-{n}.md"));
    let tmp = dir.join(format!("posts/.post-{n}.tmp"));
    std::fs::write(&tmp, text).expect("write post");
    std::fs::rename(&tmp, &path).expect("rename post");
}

fn start(config: &Path) -> Daemon {
    Daemon(
        Command::new(env!("CARGO_BIN_EXE_feedwright"))
            .arg("--config")
            .arg(config)
            .arg("daemon")
            .env_remove("RUST_LOG")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn daemon"),
    )
}

fn kill(d: &Daemon, sig: &str) {
    let ok = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(d.0.id().to_string())
        .status()
        .expect("kill");
    assert!(ok.success(), "kill -{sig}");
}

fn temp_files(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with('.') && n.ends_with(".tmp"))
                .collect()
        })
        .unwrap_or_default()
}

/// A whole feed: parses, and holds every post.
fn whole(bytes: &[u8]) -> Result<(), String> {
    let feed = feed_rs::parser::parse(bytes).map_err(|e| format!("does not parse: {e}"))?;
    if feed.entries.len() != POSTS as usize {
        return Err(format!("{} entries", feed.entries.len()));
    }
    Ok(())
}

/// Start the daemon, keep editing posts and reading `atom.xml` until a temporary file shows a
/// write in progress, then send `sig`. Returns the daemon, the output folder and the number of
/// whole documents the reader saw.
fn interrupt_a_write(sig: &str) -> (Daemon, tempfile::TempDir, PathBuf, usize) {
    let (dir, config) = blog();
    let out = dir.path().join("out/main");
    let atom = out.join("atom.xml");
    let d = start(&config);

    let stop = Arc::new(AtomicBool::new(false));
    let reads = Arc::new(AtomicUsize::new(0));
    let reader = {
        let (stop, reads, atom) = (stop.clone(), reads.clone(), atom.clone());
        std::thread::spawn(move || -> Result<(), String> {
            while !stop.load(Ordering::Relaxed) {
                if let Ok(bytes) = std::fs::read(&atom) {
                    whole(&bytes).map_err(|e| format!("a reader saw a partial feed: {e}"))?;
                    reads.fetch_add(1, Ordering::Relaxed);
                }
            }
            Ok(())
        })
    };

    // Edit a post every 100 ms so every tick rewrites the feeds; watch for a write in progress
    // once the first feed exists.
    let t0 = Instant::now();
    let mut edition = 1;
    let mut last_edit = Instant::now();
    loop {
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "never caught a write in progress"
        );
        if last_edit.elapsed() >= Duration::from_millis(100) {
            write_post(dir.path(), 1 + edition % POSTS, edition);
            edition += 1;
            last_edit = Instant::now();
        }
        // After the first publish (all three files exist), a temporary file is a rewrite.
        let published = ["atom.xml", "rss.xml", "feed.json"]
            .iter()
            .all(|f| out.join(f).exists());
        if published && !temp_files(&out).is_empty() {
            kill(&d, sig);
            break;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    // Let the reader keep reading while the daemon reacts.
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Relaxed);
    reader
        .join()
        .expect("reader thread")
        .unwrap_or_else(|e| panic!("{e}"));
    let n = reads.load(Ordering::Relaxed);
    (d, dir, out, n)
}

#[test]
fn sigterm_during_a_feed_write_exits_0_leaving_a_whole_feed_and_no_temp_file() {
    let (mut d, _dir, out, reads) = interrupt_a_write("TERM");
    assert!(reads > 0, "the reader read the feed");
    let t0 = Instant::now();
    let status = loop {
        if let Some(s) = d.0.try_wait().expect("wait") {
            break s;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "still running 10 s after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0));
    assert_eq!(
        temp_files(&out),
        Vec::<String>::new(),
        "temporary files left"
    );
    for file in ["atom.xml", "rss.xml"] {
        let bytes = std::fs::read(out.join(file)).expect("feed");
        whole(&bytes).unwrap_or_else(|e| panic!("{file}: {e}"));
    }
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("feed.json")).expect("json"))
            .expect("feed.json is whole");
    assert_eq!(json["items"].as_array().map(Vec::len), Some(POSTS as usize));
}

#[test]
fn sigkill_during_a_feed_write_leaves_the_published_feed_whole() {
    let (mut d, dir, out, _reads) = interrupt_a_write("KILL");
    let _ = d.0.wait();
    for file in ["atom.xml", "rss.xml"] {
        let bytes = std::fs::read(out.join(file)).expect("feed");
        whole(&bytes).unwrap_or_else(|e| panic!("{file}: {e}"));
    }
    // SIGKILL may leave a temporary file: hidden, so it is never served, and removed by the
    // next publish. (The kill may also have come just after a rename: plant leftovers too, so
    // the clean-up is always exercised.)
    // In the digest's folder, where a preview writes without the store's lock, only an old
    // one is taken for a leftover: one written right now is left alone.
    std::fs::create_dir_all(out.join("archive")).expect("archive dir");
    std::fs::create_dir_all(out.join("digest")).expect("digest dir");
    let an_hour_ago = std::time::SystemTime::now() - Duration::from_secs(3600);
    for (file, text) in [
        (".atom.xml.AbC123.tmp", "<feed"),
        ("archive/.1.xml.XyZ789.tmp", "<feed"),
        ("../.feed.xsl.QrS456.tmp", "<xsl"),
        ("digest/.2024-W39.html.OlD123.tmp", "<html"),
    ] {
        std::fs::write(out.join(file), text).expect("plant");
        std::fs::File::options()
            .write(true)
            .open(out.join(file))
            .and_then(|f| f.set_modified(an_hour_ago))
            .expect("age");
    }
    let in_progress = out.join("digest/.2024-W40.html.NeW123.tmp");
    std::fs::write(&in_progress, "<html").expect("plant");
    let (code, _, err) = {
        let out = Command::new(env!("CARGO_BIN_EXE_feedwright"))
            .arg("--config")
            .arg(dir.path().join("config.toml"))
            .arg("run")
            .output()
            .expect("run");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    assert_eq!(code, Some(0), "{err}");
    for d in [out.clone(), out.join("archive"), out.join("..")] {
        assert_eq!(
            temp_files(&d),
            Vec::<String>::new(),
            "stale temporary files removed"
        );
    }
    assert_eq!(
        temp_files(&out.join("digest")),
        [".2024-W40.html.NeW123.tmp"],
        "a temporary file being written is left"
    );
    assert!(in_progress.exists());
}
