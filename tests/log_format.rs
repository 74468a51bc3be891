//! `--log-format json`: every line feedwright writes to stderr is one JSON object, whatever
//! wrote it (the log, a command's report, a warning, an error), with the same text as the human
//! format in its `message`; the human format is unchanged. Runs the real binary.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The placeholder `public_url` a config without one gets (and is warned about).
const PLACEHOLDER: &str = "public_url is \"https://example.org/feeds/\", a placeholder";

/// A `dir` source `events` with one good post and one whose front matter is malformed, and no
/// `public_url` (so the placeholder), in `dir`; the config is `config.toml` there.
fn blog(dir: &Path) {
    std::fs::create_dir_all(dir.join("posts")).unwrap();
    std::fs::write(
        dir.join("posts/good.md"),
        "---\ntitle: Good\nurl: https://example.org/good/\ndate: 2024-03-04\n---\nGood.\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("posts/bad.md"),
        "---\ntitle: Bad\nurl: https://example.org/bad/\nsummary: a: b\n---\nBad.\n",
    )
    .unwrap();
    let config = common::dir_config("").replace("public_url = \"http://feeds.test/\"\n", "");
    std::fs::write(dir.join("config.toml"), config).unwrap();
}

/// The binary in `dir` with `--config config.toml` (so that both formats name the file alike)
/// and `RUST_LOG` as given: (exit code, stdout, stderr).
fn feedwright_in(dir: &Path, rust_log: Option<&str>, args: &[&str]) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_feedwright"));
    cmd.current_dir(dir)
        .args(["--config", "config.toml"])
        .args(args)
        .env_remove("RUST_LOG");
    if let Some(filter) = rust_log {
        cmd.env("RUST_LOG", filter);
    }
    let out = cmd.output().expect("run feedwright");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Every line of `stderr` as a JSON event (`timestamp`, `level`, `fields.message`); panics on
/// a line that is not one.
fn json_events(stderr: &str) -> Vec<Value> {
    assert!(
        stderr.is_empty() || stderr.ends_with('\n'),
        "unended line: {stderr}"
    );
    stderr
        .lines()
        .map(|line| {
            let v: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line:?}\n{stderr}"));
            assert!(v["timestamp"].is_string(), "{line}");
            assert!(
                matches!(
                    v["level"].as_str(),
                    Some("TRACE" | "DEBUG" | "INFO" | "WARN" | "ERROR")
                ),
                "{line}"
            );
            assert!(v["fields"]["message"].is_string(), "{line}");
            v
        })
        .collect()
}

fn message(v: &Value) -> &str {
    v["fields"]["message"].as_str().unwrap()
}

/// The one event whose message starts with `start`.
fn event<'a>(events: &'a [Value], start: &str) -> &'a Value {
    let found: Vec<&Value> = events
        .iter()
        .filter(|v| message(v).starts_with(start))
        .collect();
    assert_eq!(found.len(), 1, "one event starting {start:?}: {events:#?}");
    found[0]
}

/// `run` writes its warning, summary, failure and feed lines as JSON events with their fields;
/// the same run in the human format writes them as before, the same text line for line (the
/// JSON message is the human line without its `warning: ` prefix or indentation). The lines a
/// command writes itself are there whatever RUST_LOG says, in both formats.
#[test]
fn run_writes_json_events_carrying_the_human_lines() {
    let human_dir = tempfile::tempdir().unwrap();
    let json_dir = tempfile::tempdir().unwrap();
    blog(human_dir.path());
    blog(json_dir.path());

    let (code, stdout, human) = feedwright_in(human_dir.path(), Some("off"), &["run"]);
    assert_eq!(code, 1, "{human}");
    assert_eq!(stdout, "");
    let (code, stdout, json) = feedwright_in(
        json_dir.path(),
        Some("off"),
        &["--log-format", "json", "run"],
    );
    assert_eq!(code, 1, "{json}");
    assert_eq!(stdout, "");

    // The human format, as it always read.
    let reason = "front matter (YAML): mapping values are not allowed in this context at line 4 \
                  column 11";
    let lines: Vec<&str> = human.lines().collect();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(&format!("warning: config.toml: {PLACEHOLDER}"))),
        "{human}"
    );
    for want in [
        "events: 1 new, 0 updated, 0 unchanged, 1 failed; 0 requests (0 not modified), 0 KiB",
        &format!("  failed posts/bad.md: {reason}"),
        "feed events: 1 entry, 3 of 3 files changed in out/events",
    ] {
        assert!(lines.contains(&want), "{want:?} in\n{human}");
    }
    assert!(!human.contains('{'), "{human}");

    // The JSON format: the same lines, one event each.
    let events = json_events(&json);
    assert_eq!(events.len(), lines.len(), "{human}\n{json}");
    for (line, event) in lines.iter().zip(&events) {
        let text = line.strip_prefix("warning: ").unwrap_or(line).trim_start();
        assert_eq!(message(event), text, "{json}");
    }

    let warning = event(&events, &format!("config.toml: {PLACEHOLDER}"));
    assert_eq!(warning["level"], "WARN");
    assert_eq!(warning["fields"]["config"], "config.toml");

    let summary = event(&events, "events: ");
    assert_eq!(summary["level"], "WARN", "a post failed: {summary}");
    let fields = &summary["fields"];
    assert_eq!(fields["source"], "events");
    for (name, want) in [
        ("new", 1),
        ("updated", 0),
        ("unchanged", 0),
        ("linked", 0),
        ("failed", 1),
        ("requests", 0),
        ("not_modified", 0),
        ("bytes", 0),
    ] {
        assert_eq!(fields[name], want, "{name}: {summary}");
    }
    assert!(fields.get("error").is_none(), "{summary}");

    let failed = event(&events, "failed ");
    assert_eq!(failed["level"], "WARN");
    assert_eq!(failed["fields"]["source"], "events");
    assert_eq!(failed["fields"]["url"], "posts/bad.md");
    assert_eq!(failed["fields"]["reason"], reason);

    let feed = event(&events, "feed events: ");
    assert_eq!(feed["level"], "INFO");
    let fields = &feed["fields"];
    assert_eq!(fields["feed"], "events");
    assert_eq!(fields["entries"], 1);
    assert_eq!(fields["archive_pages"], 0);
    assert_eq!(fields["changed"], 3);
    assert_eq!(fields["files"], 3);
    assert_eq!(fields["dir"], "out/events");

    // Without a filter of its own the run logs as usual, still one JSON object per line.
    let (code, _, json) = feedwright_in(json_dir.path(), None, &["--log-format", "json", "run"]);
    assert_eq!(code, 1, "{json}");
    let events = json_events(&json);
    assert_eq!(
        event(&events, "events: ")["fields"]["unchanged"],
        1,
        "{json}"
    );
}

/// A source that cannot be read is one warning event carrying why, without the credentials of
/// its URL; text from a site or a file name is escaped the JSON way: no control character,
/// C1 or bidirectional override reaches stderr raw, and a JSON reader gets the text back.
#[test]
fn json_report_lines_keep_credentials_out_and_escape_control_characters() {
    let closed = common::free_port();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("http://editor:s3cretpw@127.0.0.1:{closed}/cat/");
    let cfg = common::write_config(dir.path(), &common::site_config(&url, "", ""));
    let (code, _, json) = common::feedwright(&cfg, &["--log-format", "json", "run"]);
    assert_eq!(code, 1, "{json}");
    assert!(
        !json.contains("s3cretpw") && !json.contains("editor"),
        "{json}"
    );
    let events = json_events(&json);
    let summary = event(&events, "site: ");
    assert_eq!(summary["level"], "WARN");
    let error = summary["fields"]["error"].as_str().unwrap();
    assert!(error.contains("could not be reached"), "{summary}");
    assert!(
        error.contains(&format!("127.0.0.1:{closed}/cat/")),
        "{summary}"
    );

    let dir = tempfile::tempdir().unwrap();
    blog(dir.path());
    let name = "evil\u{1b}[31m\u{202e}txt\u{9b}\u{7f}.md";
    std::fs::write(
        dir.path().join("posts").join(name),
        "---\ntitle: E\nurl: https://example.org/e/\nsummary: a: b\n---\nE\n",
    )
    .unwrap();
    let (code, _, json) = feedwright_in(dir.path(), None, &["--log-format", "json", "run"]);
    assert_eq!(code, 1, "{json}");
    for raw in ['\u{1b}', '\u{202e}', '\u{9b}', '\u{7f}'] {
        assert!(!json.contains(raw), "{raw:?} raw in {json:?}");
    }
    let events = json_events(&json);
    let failed = event(&events, "failed posts/evil");
    assert_eq!(failed["fields"]["url"], format!("posts/{name}"));

    // The human format shows the same name escaped its own way, as it always did.
    let (_, _, human) = feedwright_in(dir.path(), None, &["run"]);
    assert!(
        human.contains("failed posts/evil\\u{1b}[31m\\u{202e}txt\\u{9b}\\u{7f}.md: "),
        "{human}"
    );
}

/// Errors before any work (a configuration that does not parse, a command line clap refuses
/// while asking for JSON) are JSON error events; exit codes are unchanged. Without
/// `--log-format json` they read as before.
#[test]
fn start_up_errors_are_json_error_events() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("config.toml"),
        "output_dir = \"out\"\n[[source]]\nname = x\n",
    )
    .unwrap();
    for command in ["daemon", "run", "check"] {
        let (code, stdout, json) =
            feedwright_in(dir.path(), None, &["--log-format", "json", command]);
        assert_eq!(code, 2, "{command}: {json}");
        assert_eq!(stdout, "", "{command}");
        let events = json_events(&json);
        assert_eq!(events.len(), 1, "{command}: {json}");
        let e = &events[0];
        assert_eq!(e["level"], "ERROR", "{json}");
        assert_eq!(e["fields"]["config"], "config.toml", "{json}");
        let text = message(e);
        assert!(
            text.starts_with("config.toml: TOML parse error at line 3"),
            "{json}"
        );
        // The parser's multi-line excerpt stays in the one event.
        assert!(text.contains("\n3 | name = x\n"), "{json}");

        let (code, _, human) = feedwright_in(dir.path(), None, &[command]);
        assert_eq!(code, 2, "{human}");
        assert_eq!(human, format!("error: {text}\n"), "{command}");
    }
    assert!(!dir.path().join("out").exists());

    let (code, _, json) = feedwright_in(dir.path(), None, &["--log-format", "json", "bogus"]);
    assert_eq!(code, 2, "{json}");
    let events = json_events(&json);
    assert_eq!(events.len(), 1, "{json}");
    assert_eq!(events[0]["level"], "ERROR");
    assert!(
        message(&events[0]).starts_with("unrecognized subcommand 'bogus'"),
        "{json}"
    );
    let (code, _, plain) = feedwright_in(dir.path(), None, &["bogus"]);
    assert_eq!(code, 2, "{plain}");
    assert!(
        plain.starts_with("error: unrecognized subcommand 'bogus'"),
        "{plain}"
    );
}

/// `status` and `check` keep stdout as it is; what they say on stderr is JSON.
#[test]
fn stdout_is_unchanged_and_stderr_is_json_for_status_and_check() {
    let human_dir = tempfile::tempdir().unwrap();
    let json_dir = tempfile::tempdir().unwrap();
    blog(human_dir.path());
    blog(json_dir.path());
    for command in ["status", "check"] {
        let (code, human_out, human) = feedwright_in(human_dir.path(), None, &[command]);
        let (json_code, json_out, json) =
            feedwright_in(json_dir.path(), None, &["--log-format", "json", command]);
        assert_eq!((code, json_code), (0, 0), "{human}\n{json}");
        assert_eq!(human_out, json_out, "{command}");
        assert!(!json_out.is_empty(), "{command}");
        let events = json_events(&json);
        assert_eq!(events.len(), human.lines().count(), "{human}\n{json}");
        if command == "status" {
            let e = event(&events, "feedwright.db: the database does not exist yet");
            assert_eq!(e["level"], "INFO");
            assert_eq!(e["fields"]["store"], "feedwright.db");
        } else {
            let e = event(&events, &format!("config.toml: {PLACEHOLDER}"));
            assert_eq!(e["level"], "WARN");
        }
    }
    assert!(!json_dir.path().join("feedwright.db").exists());
}

struct Daemon(Child);
impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn signal(d: &Daemon, sig: &str) {
    let ok = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(d.0.id().to_string())
        .status()
        .unwrap();
    assert!(ok.success(), "kill -{sig}");
}

fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let t0 = Instant::now();
    while !done() {
        assert!(t0.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `--log-format json daemon` (as the systemd unit runs it): the start-up warning is a JSON
/// event like the rest, and a reload warns with the same event; stopped, every line written
/// was JSON.
#[test]
fn the_daemon_writes_only_json_from_start_to_stop() {
    let dir = tempfile::tempdir().unwrap();
    blog(dir.path());
    let log = dir.path().join("daemon.log");
    let mut d = Daemon(
        Command::new(env!("CARGO_BIN_EXE_feedwright"))
            .current_dir(dir.path())
            .args(["--config", "config.toml", "--log-format", "json", "daemon"])
            .env_remove("RUST_LOG")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap(),
    );
    let read = || std::fs::read_to_string(&log).unwrap();
    wait_for("the daemon to run", Duration::from_secs(20), || {
        read().contains("daemon running")
    });
    signal(&d, "HUP");
    wait_for("the reload", Duration::from_secs(20), || {
        read().contains("configuration reloaded")
    });
    signal(&d, "TERM");
    let t0 = Instant::now();
    let status = loop {
        if let Some(status) = d.0.try_wait().unwrap() {
            break status;
        }
        assert!(t0.elapsed() < Duration::from_secs(15), "still running");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(0));
    let text = read();
    let events = json_events(&text);
    assert!(message(events.last().unwrap()) == "stopped", "{text}");

    // The start-up warnings come first; the reload's is the same event.
    assert_eq!(events[0]["level"], "WARN", "{text}");
    let warnings: Vec<&Value> = events
        .iter()
        .filter(|e| message(e).starts_with(&format!("config.toml: {PLACEHOLDER}")))
        .collect();
    assert_eq!(warnings.len(), 2, "at start-up and on the reload: {text}");
    for warning in &warnings {
        assert_eq!(warning["level"], "WARN", "{text}");
        assert_eq!(warning["fields"]["config"], "config.toml", "{text}");
    }
    assert_eq!(warnings[0]["fields"], warnings[1]["fields"], "{text}");
}

/// In the human format the daemon's start-up warning reads as it always did.
#[test]
fn the_daemons_human_start_up_warning_is_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    blog(dir.path());
    let log = dir.path().join("daemon.log");
    let d = Daemon(
        Command::new(env!("CARGO_BIN_EXE_feedwright"))
            .current_dir(dir.path())
            .args(["--config", "config.toml", "daemon"])
            .env_remove("RUST_LOG")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap(),
    );
    let read = || std::fs::read_to_string(&log).unwrap();
    wait_for("the daemon to run", Duration::from_secs(20), || {
        read().contains("daemon running")
    });
    signal(&d, "TERM");
    let text = read();
    assert!(text.starts_with("warning: "), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with(&format!("warning: config.toml: {PLACEHOLDER}"))),
        "{text}"
    );
    assert!(!text.contains('{'), "{text}");
}
