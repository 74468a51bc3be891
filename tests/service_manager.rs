//! `daemon` and `serve` under a service manager, with the real binary: the readiness protocol
//! of systemd's `Type=notify` (datagrams on the Unix socket named by `NOTIFY_SOCKET`, received
//! here on a real socket), and a SIGHUP that comes while the command starts: a reload, never
//! the end of the process.

use std::io::{BufRead, BufReader};
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

struct Proc(Child);
impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The socket a service manager listens on, in `dir`.
fn manager(dir: &Path, name: &str) -> (UnixDatagram, PathBuf) {
    let path = dir.join(name);
    let socket = UnixDatagram::bind(&path).expect("bind the notify socket");
    socket
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    (socket, path)
}

/// The next notification, as its `KEY=value` lines.
fn next_message(socket: &UnixDatagram) -> Vec<String> {
    let mut buf = [0u8; 4096];
    let n = socket.recv(&mut buf).expect("a notification within 30 s");
    String::from_utf8_lossy(&buf[..n])
        .lines()
        .map(str::to_owned)
        .collect()
}

fn has(message: &[String], line: &str) -> bool {
    message.iter().any(|l| l == line)
}

fn signal(p: &Proc, sig: &str) {
    let ok = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(p.0.id().to_string())
        .status()
        .expect("kill");
    assert!(ok.success(), "kill -{sig}");
}

/// A `dir` source of one post on a schedule that does not come during a test, `extra` appended.
fn blog(extra: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("posts")).expect("posts");
    std::fs::write(
        dir.path().join("posts/first.md"),
        "+++\ntitle = \"First\"\ndate = 2024-10-01T12:00:00Z\n+++\nText of the first post.\n",
    )
    .expect("post");
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
schedule = "0 0 1 1 *"
[[feed]]
name = "main"
sources = ["notes"]
{extra}"#
        ),
    )
    .expect("config");
    (dir, config)
}

/// `feedwright --config CONFIG ARGS…` told to notify `socket`, its stderr lines sent to the
/// receiver returned.
fn start(config: &Path, args: &[&str], socket: &Path) -> (Proc, mpsc::Receiver<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_feedwright"))
        .arg("--config")
        .arg(config)
        .args(args)
        .env("NOTIFY_SOCKET", socket)
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn feedwright");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (Proc(child), rx)
}

/// Wait for a stderr line containing `what`; the lines read meanwhile are returned.
fn wait_line(lines: &mpsc::Receiver<String>, what: &str) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen = Vec::new();
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match lines.recv_timeout(left) {
            Ok(line) => {
                let found = line.contains(what);
                seen.push(line);
                if found {
                    return seen;
                }
            }
            Err(_) => break,
        }
    }
    panic!("no line with {what:?} within 30 s; lines: {seen:#?}");
}

fn exits_0(mut p: Proc) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(status) = p.0.try_wait().expect("wait") {
            assert!(status.success(), "exit status {status}");
            return;
        }
        assert!(
            Instant::now() < deadline,
            "still running 15 s after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// READY=1 once running; SIGHUP the moment it is ready is a reload, told as RELOADING=1 (with
/// the time systemd needs) then READY=1; SIGTERM is STOPPING=1 and exit 0.
fn follows_the_readiness_protocol(args: &[&str], extra: &str) {
    let (dir, config) = blog(extra);
    let (socket, path) = manager(dir.path(), "notify.sock");
    let (p, lines) = start(&config, args, &path);
    let ready = next_message(&socket);
    assert!(has(&ready, "READY=1"), "{ready:?}");
    assert!(
        ready.iter().any(|l| l.starts_with("STATUS=")),
        "a status line for `systemctl status`: {ready:?}"
    );
    signal(&p, "HUP");
    let reloading = next_message(&socket);
    assert!(has(&reloading, "RELOADING=1"), "{reloading:?}");
    assert!(
        reloading.iter().any(|l| l.starts_with("MONOTONIC_USEC=")),
        "systemd needs the time of a reload: {reloading:?}"
    );
    let again = next_message(&socket);
    assert!(has(&again, "READY=1"), "{again:?}");
    wait_line(&lines, "configuration reloaded");
    signal(&p, "TERM");
    let stopping = next_message(&socket);
    assert!(has(&stopping, "STOPPING=1"), "{stopping:?}");
    exits_0(p);
}

#[test]
fn the_daemon_tells_the_service_manager_it_is_ready_reloading_and_stopping() {
    follows_the_readiness_protocol(&["daemon"], "");
}

#[test]
fn serve_tells_the_service_manager_it_is_ready_reloading_and_stopping() {
    follows_the_readiness_protocol(&["serve"], "[server]\nlisten = \"127.0.0.1:0\"\n");
}

/// A reload the manager asks for while the daemon waits for the store (another process holds
/// it) neither ends the daemon nor is lost: once it holds the store and runs, it reloads.
#[test]
fn a_sighup_while_the_daemon_waits_for_the_store_is_a_reload_once_it_runs() {
    let (dir, config) = blog("");
    let (first_socket, first_path) = manager(dir.path(), "first.sock");
    let (first, _first_lines) = start(&config, &["daemon"], &first_path);
    assert!(has(&next_message(&first_socket), "READY=1"));

    let (socket, path) = manager(dir.path(), "second.sock");
    let (second, lines) = start(&config, &["--wait", "60", "daemon"], &path);
    wait_line(&lines, "waiting up to 60 s");
    signal(&second, "HUP");
    std::thread::sleep(Duration::from_millis(300));
    let mut second = second;
    assert!(
        second.0.try_wait().expect("wait").is_none(),
        "SIGHUP ended a daemon that was starting"
    );

    signal(&first, "TERM");
    exits_0(first);
    assert!(has(&next_message(&socket), "READY=1"));
    assert!(has(&next_message(&socket), "RELOADING=1"));
    assert!(has(&next_message(&socket), "READY=1"));
    let said = wait_line(&lines, "configuration reloaded");
    assert!(
        said.iter().any(|l| l.contains("SIGHUP: reloading")),
        "{said:#?}"
    );
    signal(&second, "TERM");
    exits_0(second);
}
