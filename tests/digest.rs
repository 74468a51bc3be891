//! The weekly digest through its public API, against a real SMTP server on loopback
//! (`tests/smtp_sink.py`, Python `aiosmtpd`: `pip install aiosmtpd`).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{DateTime, Utc};
use feedwright::config::Config;
use feedwright::digest::{self, DigestError, DigestOptions, DigestOutcome};
use feedwright::model::{DateSource, Entry, EntryId, Link};
use feedwright::store::Store;

use common::{Sink, free_port};

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("test date")
        .with_timezone(&Utc)
}

fn entry(slug: &str, title: &str, published: &str, body: &str, cats: &[&str]) -> Entry {
    let url = format!("https://example.org/{slug}/");
    Entry {
        id: EntryId(url.clone()),
        dedup_key: format!("example.org/{slug}/"),
        source: "posts".into(),
        url,
        title: title.into(),
        published: utc(published),
        published_source: DateSource::Jsonld,
        updated: utc(published),
        updated_source: DateSource::Jsonld,
        authors: vec!["Ana Ruiz".into()],
        categories: cats.iter().map(|c| c.to_string()).collect(),
        content_html: format!("<p>{body}</p>"),
        summary: body.chars().take(200).collect(),
        related: vec![],
        enclosures: Vec::new(),
    }
}

/// A config folder with a store holding a fixed corpus: three posts in 2024-W46 (New York
/// time), one undated post first seen in that week, and older posts.
struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new(smtp_port: Option<u16>) -> Fixture {
        Fixture::with_digest(smtp_port, "")
    }

    /// Like [`Fixture::new`], with `extra` lines appended to the `[digest]` table.
    fn with_digest(smtp_port: Option<u16>, extra: &str) -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        let smtp = smtp_port
            .map(|p| format!("smtp_url = \"smtp://127.0.0.1:{p}\"\n"))
            .unwrap_or_default();
        let config = format!(
            r#"output_dir = "out"
public_url = "https://example.org/feeds/"
[store]
path = "fw.db"
[[source]]
name = "posts"
url = "posts"
kind = "dir"
[[feed]]
name = "negotiation"
title = "Negotiation Weekly"
sources = ["posts"]
[digest]
feed = "negotiation"
timezone = "America/New_York"
from = "Negotiation Digest <digest@example.org>"
to = ["list@example.org"]
unsubscribe_url = "https://example.org/unsubscribe"
{smtp}{extra}"#
        );
        std::fs::write(dir.path().join("config.toml"), config).expect("write config");
        let f = Fixture { dir };
        let mut store = f.store();
        let seen = utc("2024-11-15T12:00:00Z");
        let mut corpus = vec![
            entry(
                "water-treaties",
                "Water treaties on shared rivers",
                "2024-11-12T15:00:00Z",
                "Upstream and downstream states negotiate water rights on the river basin.",
                &["Water"],
            ),
            entry(
                "trade-talks",
                "Tariffs in trade talks",
                "2024-11-14T15:00:00Z",
                "Trade negotiators bargain over tariffs and quotas & more.",
                &["Trade"],
            ),
            entry(
                "breakout",
                "</td></tr></table><script>alert(1)</script> Escaped?",
                "2024-11-13T15:00:00Z",
                "<b>Bold</b> claims <img src=x onerror=alert(1)>",
                &["Mediation"],
            ),
            entry(
                "river-basin",
                "River basin negotiations",
                "2024-10-01T15:00:00Z",
                "A treaty over river water allocation between upstream states.",
                &["Water"],
            ),
            entry(
                "ceasefire",
                "Mediating a ceasefire",
                "2024-09-01T15:00:00Z",
                "Mediators shuttle between parties to secure a ceasefire.",
                &["Mediation"],
            ),
        ];
        let mut undated = entry(
            "undated",
            "A post without a date",
            "2024-11-15T12:00:00Z",
            "Nobody dated this post about water.",
            &["Water"],
        );
        undated.published_source = DateSource::FirstSeen;
        undated.updated_source = DateSource::FirstSeen;
        corpus.push(undated);
        let mut huge = entry(
            "huge",
            "A very long report",
            "2024-11-11T15:00:00Z",
            "",
            &["Trade"],
        );
        huge.content_html = format!("<p>{}</p>", "negotiation report ".repeat(120_000));
        huge.summary = String::new();
        corpus.push(huge);
        for e in &corpus {
            let first_seen = if e.published < seen {
                e.published
            } else {
                seen
            };
            store.upsert_entry(e, first_seen).expect("upsert");
        }
        f
    }

    fn config_path(&self) -> PathBuf {
        self.dir.path().join("config.toml")
    }

    fn config(&self) -> Config {
        Config::load(&self.config_path()).expect("config")
    }

    /// The fixture's store, reopened. A store just dropped by this test can still look locked
    /// for a moment: a process another test is starting holds a copy of every open descriptor,
    /// the lock's included, until it execs. So a `Locked` answer is retried for a while.
    fn store(&self) -> Store {
        let path = self.dir.path().join("fw.db");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            match Store::open(&path) {
                Err(feedwright::store::StoreError::Locked { .. })
                    if std::time::Instant::now() < deadline =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                other => return other.expect("store"),
            }
        }
    }

    fn opts(&self) -> DigestOptions {
        DigestOptions {
            config_dir: self.dir.path().to_path_buf(),
            ..DigestOptions::default()
        }
    }

    /// A dry run of the week before the fixture's `--now`.
    fn dry_run(&self) -> DigestOutcome {
        self.run(&DigestOptions {
            dry_run: true,
            ..self.opts()
        })
        .expect("dry run")
    }

    fn run(&self, opts: &DigestOptions) -> Result<DigestOutcome, DigestError> {
        let mut store = self.store();
        digest::run(
            &self.config(),
            &mut store,
            opts,
            utc("2024-11-18T13:00:00Z"),
        )
    }

    fn out(&self, file: &str) -> PathBuf {
        self.dir.path().join("out/negotiation/digest").join(file)
    }
}

fn parse_message(path: &Path) -> serde_json::Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/smtp_sink.py");
    let out = Command::new("python3")
        .arg(script)
        .arg("parse")
        .arg(path)
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

/// The bytes of the `text/html` part of a raw message as it travelled: its headers and its
/// body as encoded (quoted-printable, CRLF line ends), up to the boundary that ends it.
fn html_part_as_sent(raw: &[u8]) -> usize {
    let find = |from: usize, what: &[u8]| {
        raw[from..]
            .windows(what.len())
            .position(|w| w == what)
            .map(|i| from + i)
    };
    let start = find(0, b"Content-Type: text/html").expect("an HTML part");
    let end = find(start, b"\r\n--").expect("a boundary after the HTML part");
    end + 2 - start
}

#[test]
fn running_twice_for_one_week_sends_exactly_one_well_formed_message() {
    let sink = Sink::start("accept");
    let fx = Fixture::new(Some(sink.port));
    let first = fx.run(&fx.opts()).expect("first run");
    let DigestOutcome::Sent {
        week,
        entries,
        message_id,
        ..
    } = &first
    else {
        panic!("expected Sent, got {first:?}");
    };
    assert_eq!(week, "2024-W46");
    assert_eq!(*entries, 5, "{first}");
    assert_eq!(message_id, "digest.negotiation.2024-W46@example.org");
    let second = fx.run(&fx.opts()).expect("second run");
    assert_eq!(
        second,
        DigestOutcome::AlreadySent {
            week: "2024-W46".into()
        }
    );
    assert_eq!(
        second.to_string(),
        "digest 2024-W46: already sent, nothing to do"
    );
    let msgs = sink.messages();
    assert_eq!(msgs.len(), 1);

    let m = parse_message(&msgs[0]);
    assert_eq!(m["type"], "multipart/alternative");
    let parts = m["parts"].as_array().expect("parts");
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[0]["type"], "text/plain");
    assert_eq!(parts[1]["type"], "text/html");
    assert!(parts.iter().all(|p| p["charset"] == "utf-8"));
    let h = &m["headers"];
    for name in [
        "Date",
        "From",
        "To",
        "Subject",
        "Message-ID",
        "List-Id",
        "List-Unsubscribe",
    ] {
        assert!(h.get(name).is_some(), "missing header {name}: {h}");
    }
    assert_eq!(h["Message-ID"], "<digest.negotiation.2024-W46@example.org>");
    assert_eq!(h["To"], "list@example.org");
    assert!(
        h["Subject"]
            .as_str()
            .expect("subject")
            .contains("week 46, 2024"),
        "{h}"
    );
    assert!(
        h["List-Id"]
            .as_str()
            .expect("id")
            .contains("<negotiation.example.org>")
    );
    assert_eq!(h["List-Unsubscribe"], "<https://example.org/unsubscribe>");
    assert_eq!(h["List-Unsubscribe-Post"], "List-Unsubscribe=One-Click");

    let text = parts[0]["body"].as_str().expect("text");
    let html = parts[1]["body"].as_str().expect("html");
    for slug in [
        "water-treaties",
        "trade-talks",
        "breakout",
        "undated",
        "huge",
    ] {
        let url = format!("https://example.org/{slug}/");
        assert!(text.contains(&url), "text part lacks {url}");
        assert!(
            html.contains(&format!("href=\"{url}\"")),
            "html part lacks {url}"
        );
    }
    // Older posts are not in the issue (only as related links, if at all).
    assert!(!text.contains("* Mediating a ceasefire"));
    // Related posts as linked titles: the water post links the older river-basin post.
    assert!(
        html.contains(
        "href=\"https://example.org/river-basin/\" style=\"color: #1d3557;\">River basin negotiations</a>"
    )
    );
    assert!(text.contains("https://example.org/river-basin/"));
    // Size cap, inlined CSS, preheader, view in browser, escaping.
    let raw = std::fs::read(fx.out("2024-W46.html")).expect("html file");
    assert!(raw.len() < 100 * 1024, "html is {} bytes", raw.len());
    assert!(html.contains("<h2 style="), "CSS is not inlined");
    assert!(html.contains("class=\"preheader\""));
    assert!(html.contains("https://example.org/feeds/negotiation/digest/2024-W46.html"));
    assert!(
        !html.contains("<script>alert"),
        "title broke out of the template"
    );
    assert!(html.contains("&lt;/td&gt;&lt;/tr&gt;&lt;/table&gt;&lt;script&gt;"));
    assert!(
        !html.contains("<img src=x"),
        "excerpt markup must be escaped text"
    );
    // Files: the issue, its .eml (same Message-ID), the archive page and feed.
    let eml = std::fs::read_to_string(fx.out("2024-W46.eml")).expect("eml");
    assert!(eml.contains("Message-ID: <digest.negotiation.2024-W46@example.org>"));
    assert!(fx.out("2024-W46.txt").is_file());
    let index = std::fs::read_to_string(fx.out("index.html")).expect("index");
    assert!(index.contains("href=\"2024-W46.html\""));
    let atom = std::fs::read_to_string(fx.out("atom.xml")).expect("atom");
    assert!(atom.contains("<id>https://example.org/feeds/negotiation/digest/2024-W46.html</id>"));
    assert_eq!(
        atom.lines().nth(1),
        Some(r#"<?xml-stylesheet type="text/xsl" href="../../feed.xsl"?>"#),
        "the issues feed names the feeds' stylesheet"
    );
    feed_rs::parser::parse(atom.as_bytes()).expect("the issues feed parses");
}

#[test]
fn failed_sends_record_nothing_and_the_next_run_retries_with_the_same_message_id() {
    let down = free_port();
    let fx = Fixture::new(Some(down));
    let err = fx.run(&fx.opts()).expect_err("server down");
    assert_eq!(err.exit_code(), 1, "{err}");
    assert!(
        err.to_string().contains("nothing was marked as sent"),
        "{err}"
    );
    // Not only an error on stderr: status, /healthz and /metrics tell of it.
    let failure = fx
        .store()
        .digest_failure("negotiation")
        .expect("q")
        .expect("recorded");
    assert_eq!(failure.week, "2024-W46");
    assert!(
        failure.error.contains("nothing was marked as sent"),
        "{failure:?}"
    );
    let (code, stdout, _) = common::feedwright(&fx.config_path(), &["status"]);
    assert_eq!(code, 0);
    assert!(
        stdout.contains("digest negotiation: NOT SENT: week 2024-W46 (failing since "),
        "{stdout}"
    );
    let config = feedwright::config::Config::load(&fx.config_path()).expect("config");
    let health = feedwright::server::read_health(&config);
    assert_eq!(
        health.digest_failing.as_ref().map(|f| f.week.as_str()),
        Some("2024-W46")
    );
    let metrics = feedwright::server::read_metrics(&config);
    assert!(
        metrics.contains("feedwright_digest_failing{feed=\"negotiation\"} 1"),
        "{metrics}"
    );

    for mode in ["reject-sender", "drop"] {
        let sink = Sink::start(mode);
        let fx2 = Fixture::new(Some(sink.port));
        let err = fx2.run(&fx2.opts()).expect_err(mode);
        assert_eq!(err.exit_code(), 1, "{mode}: {err}");
        assert!(sink.messages().is_empty(), "{mode}");
        assert!(
            fx2.store()
                .digest_issue("negotiation", "2024-W46")
                .expect("q")
                .is_none()
        );
    }

    // The same fixture, now with a working server: the week is retried and sent.
    let sink = Sink::start("accept");
    let cfg = std::fs::read_to_string(fx.config_path()).expect("cfg");
    std::fs::write(
        fx.config_path(),
        cfg.replace(&format!(":{down}\""), &format!(":{}\"", sink.port)),
    )
    .expect("rewrite cfg");
    let out = fx.run(&fx.opts()).expect("retry");
    assert!(matches!(out, DigestOutcome::Sent { .. }), "{out:?}");
    assert_eq!(sink.messages().len(), 1);
    assert!(
        fx.store()
            .digest_failure("negotiation")
            .expect("q")
            .is_none()
    );
    let metrics = feedwright::server::read_metrics(&config);
    assert!(
        metrics.contains("feedwright_digest_failing{feed=\"negotiation\"} 0"),
        "{metrics}"
    );
    let m = parse_message(&sink.messages()[0]);
    assert_eq!(
        m["headers"]["Message-ID"],
        "<digest.negotiation.2024-W46@example.org>"
    );
}

/// Fix the related links of every stored entry, as the pipeline does when it stores them: the
/// digest then has nothing to write before its own record.
fn fix_all_related(fx: &Fixture) {
    let mut store = fx.store();
    let ids: Vec<EntryId> = store
        .entries(&["posts".to_owned()], &[], usize::MAX)
        .expect("entries")
        .into_iter()
        .map(|e| e.id)
        .collect();
    digest::related::fix_related(&mut store, &ids, 3, chrono_tz::America::New_York)
        .expect("fix related");
}

#[test]
fn a_store_that_cannot_be_written_fails_before_anything_is_sent() {
    let sink = Sink::start("accept");
    let fx = Fixture::new(Some(sink.port));
    fix_all_related(&fx);
    // Another program writing the database, once the digest has opened it: it holds SQLite's
    // write lock.
    let mut store = fx.store();
    let other = rusqlite::Connection::open(fx.dir.path().join("fw.db")).expect("open");
    other.execute_batch("BEGIN IMMEDIATE").expect("lock");
    let err = digest::run(
        &fx.config(),
        &mut store,
        &fx.opts(),
        utc("2024-11-18T13:00:00Z"),
    )
    .expect_err("the store is locked");
    drop(store);
    assert!(matches!(err, DigestError::NotSent(_)), "{err:?}");
    assert_eq!(err.exit_code(), 1);
    assert!(err.is_retryable());
    let shown = err.to_string();
    assert!(
        shown.starts_with("the digest was not sent, as the store cannot record it: ")
            && shown.contains("locked"),
        "{shown}"
    );
    assert!(sink.messages().is_empty(), "nothing went out");
    other.execute_batch("ROLLBACK").expect("unlock");
    drop(other);
    assert!(
        fx.store()
            .digest_issue("negotiation", "2024-W46")
            .expect("q")
            .is_none()
    );

    let out = fx.run(&fx.opts()).expect("the store is free again");
    assert!(matches!(out, DigestOutcome::Sent { .. }), "{out:?}");
    assert_eq!(
        fx.run(&fx.opts()).expect("again"),
        DigestOutcome::AlreadySent {
            week: "2024-W46".into()
        }
    );
    assert_eq!(sink.messages().len(), 1, "sent exactly once");
}

#[test]
fn a_failure_after_the_send_says_so_and_the_next_run_repairs_the_issue_list() {
    let sink = Sink::start("accept");
    let fx = Fixture::new(Some(sink.port));
    // The list of issues cannot be written: a folder stands where index.html goes.
    std::fs::create_dir_all(fx.out("index.html")).expect("mkdir");
    let err = fx.run(&fx.opts()).expect_err("index.html is a folder");
    assert_eq!(err.exit_code(), 1);
    let shown = err.to_string();
    assert!(
        shown.starts_with(
            "digest 2024-W46 was sent (Message-ID <digest.negotiation.2024-W46@example.org>) and \
             recorded, but cannot write "
        ) && shown.contains("index.html")
            && shown.contains("nothing is sent twice"),
        "{shown}"
    );
    assert_eq!(sink.messages().len(), 1);

    std::fs::remove_dir(fx.out("index.html")).expect("rmdir");
    assert_eq!(
        fx.run(&fx.opts()).expect("next run"),
        DigestOutcome::AlreadySent {
            week: "2024-W46".into()
        }
    );
    let index = std::fs::read_to_string(fx.out("index.html")).expect("index");
    assert!(index.contains("href=\"2024-W46.html\""), "{index}");
    let atom = std::fs::read_to_string(fx.out("atom.xml")).expect("atom");
    assert!(atom.contains("2024-W46.html"), "{atom}");
    assert_eq!(sink.messages().len(), 1, "nothing sent twice");
}

/// Point the fixture's `[digest]` at an SMTP server on `port` (the table is the last one).
fn set_smtp_port(fx: &Fixture, port: u16) {
    let text = std::fs::read_to_string(fx.config_path()).expect("cfg");
    let kept: String = text
        .lines()
        .filter(|l| !l.starts_with("smtp_url"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(
        fx.config_path(),
        format!("{kept}smtp_url = \"smtp://127.0.0.1:{port}\"\n"),
    )
    .expect("rewrite cfg");
}

#[test]
fn an_issue_only_written_is_sent_once_smtp_url_is_set_and_never_twice() {
    let fx = Fixture::new(None);
    let written = fx.run(&fx.opts()).expect("written");
    assert_eq!(
        written.to_string(),
        "digest 2024-W46: written (5 posts; no smtp_url, nothing sent)"
    );
    let issue = |fx: &Fixture| {
        fx.store()
            .digest_issue("negotiation", "2024-W46")
            .expect("q")
            .expect("recorded")
    };
    assert!(!issue(&fx).delivered);
    // Without smtp_url a second run says what happened: written, never sent.
    let again = fx.run(&fx.opts()).expect("again");
    assert_eq!(
        again,
        DigestOutcome::AlreadyWritten {
            week: "2024-W46".into()
        }
    );
    assert_eq!(
        again.to_string(),
        "digest 2024-W46: already written (not sent: no smtp_url), nothing to do"
    );
    // A post of the week stored after the issue was written is not slipped into it.
    let mut store = fx.store();
    store
        .upsert_entry(
            &entry(
                "late-panel",
                "A late panel",
                "2024-11-16T15:00:00Z",
                "Found after the issue was written.",
                &["Water"],
            ),
            utc("2024-11-18T14:00:00Z"),
        )
        .expect("upsert");
    drop(store);

    // smtp_url is set: a refused send leaves the issue as written, so the next run retries.
    let refusing = Sink::start("reject-sender");
    set_smtp_port(&fx, refusing.port);
    let err = fx.run(&fx.opts()).expect_err("refused");
    assert_eq!(err.exit_code(), 1, "{err}");
    assert!(!issue(&fx).delivered);
    drop(refusing);

    // A test copy and a dry run of the written week record nothing either.
    let sink = Sink::start("accept");
    set_smtp_port(&fx, sink.port);
    let copy = fx
        .run(&DigestOptions {
            to: Some("editor@example.org".into()),
            ..fx.opts()
        })
        .expect("test copy");
    assert!(
        matches!(copy, DigestOutcome::TestCopy { entries: 5, .. }),
        "{copy:?}"
    );
    // The dry run leaves the written issue's files alone (they are its public copy).
    let html_file = fx.out("2024-W46.html");
    let written_html = std::fs::read(&html_file).expect("issue html");
    std::fs::write(&html_file, b"as written").unwrap();
    let dry = fx.dry_run();
    assert!(
        matches!(
            dry,
            DigestOutcome::DryRun {
                entries: 5,
                written: false,
                ..
            }
        ),
        "{dry:?}"
    );
    assert_eq!(std::fs::read(&html_file).unwrap(), b"as written");
    std::fs::write(&html_file, written_html).unwrap();
    assert!(!issue(&fx).delivered);

    // The real run sends the issue as it was written, with the issue's Message-ID.
    let sent = fx.run(&fx.opts()).expect("sent");
    assert_eq!(
        sent,
        DigestOutcome::Sent {
            week: "2024-W46".into(),
            entries: 5,
            recipients: 1,
            earlier: 0,
            message_id: "digest.negotiation.2024-W46@example.org".into(),
            refused: vec![],
        }
    );
    assert!(issue(&fx).delivered);
    let msgs = sink.messages();
    assert_eq!(msgs.len(), 2, "the test copy and the issue");
    let m = parse_message(&msgs[1]);
    assert_eq!(
        m["headers"]["Message-ID"],
        "<digest.negotiation.2024-W46@example.org>"
    );
    assert_eq!(m["headers"]["To"], "list@example.org");
    let text = m["parts"][0]["body"].as_str().expect("text");
    assert!(
        text.contains("https://example.org/water-treaties/"),
        "{text}"
    );
    assert!(!text.contains("https://example.org/late-panel/"), "{text}");
    let eml = std::fs::read_to_string(fx.out("2024-W46.eml")).expect("eml");
    assert!(eml.contains("Message-ID: <digest.negotiation.2024-W46@example.org>"));
    let index = std::fs::read_to_string(fx.out("index.html")).expect("index");
    assert_eq!(index.matches("href=\"2024-W46.html\"").count(), 1);

    // Sent once, never again: with smtp_url, and without it.
    let again = fx.run(&fx.opts()).expect("after sending");
    assert_eq!(
        again.to_string(),
        "digest 2024-W46: already sent, nothing to do"
    );
    let text = std::fs::read_to_string(fx.config_path()).expect("cfg");
    let without: String = text
        .lines()
        .filter(|l| !l.starts_with("smtp_url"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(fx.config_path(), without).expect("rewrite cfg");
    let again = fx.run(&fx.opts()).expect("without smtp_url");
    assert_eq!(
        again.to_string(),
        "digest 2024-W46: already sent, nothing to do"
    );
    assert_eq!(sink.messages().len(), 2);
}

/// The `List-Id` as a mail client reads it: phrase and id.
fn list_id(m: &serde_json::Value) -> (String, String) {
    let l = &m["list_id"];
    (
        l["phrase"].as_str().expect("phrase").to_owned(),
        l["id"].as_str().expect("id").to_owned(),
    )
}

#[test]
fn the_list_id_phrase_is_quoted_or_encoded_and_round_trips() {
    for title in [
        r#"Main & <Feed> "quoted" \ back, (x); y: [z] @ a.b"#,
        "Café <Négociation> \"hebdo\"",
        "Negotiation Weekly",
    ] {
        let sink = Sink::start("accept");
        let extra = format!("title = {}\n", toml::Value::String(title.into()));
        let fx = Fixture::with_digest(Some(sink.port), &extra);
        let dry = fx.dry_run();
        assert!(matches!(dry, DigestOutcome::DryRun { .. }), "{dry:?}");
        let eml = fx.out("2024-W46.eml");
        let written = parse_message(&eml);
        assert_eq!(
            list_id(&written),
            (title.to_owned(), "negotiation.example.org".to_owned()),
            "{}",
            written["list_id"]["raw"]
        );
        let raw = std::fs::read(&eml).expect("eml");
        assert!(raw.is_ascii(), "the .eml's headers and bodies are encoded");

        let sent = fx.run(&fx.opts()).expect("real run");
        assert!(matches!(sent, DigestOutcome::Sent { .. }), "{sent:?}");
        let m = parse_message(&sink.messages()[0]);
        assert_eq!(
            list_id(&m),
            (title.to_owned(), "negotiation.example.org".to_owned()),
            "{}",
            m["list_id"]["raw"]
        );
    }
}

#[test]
fn dry_run_and_test_copy_change_no_state() {
    let sink = Sink::start("accept");
    let fx = Fixture::new(Some(sink.port));
    let dry = fx.dry_run();
    assert!(matches!(dry, DigestOutcome::DryRun { .. }), "{dry:?}");
    assert!(fx.out("2024-W46.html").is_file());
    assert!(sink.messages().is_empty());
    // The issue page's "all issues" link opens: the list is written, of the issues on record
    // (none: a preview is not one).
    let issue = std::fs::read_to_string(fx.out("2024-W46.html")).expect("issue");
    assert!(issue.contains("index.html"), "the issue links the list");
    let index = std::fs::read_to_string(fx.out("index.html")).expect("the list of issues");
    assert!(!index.contains("2024-W46"), "{index}");

    let test = fx
        .run(&DigestOptions {
            to: Some("editor@example.org".into()),
            ..fx.opts()
        })
        .expect("test copy");
    assert!(matches!(test, DigestOutcome::TestCopy { .. }), "{test:?}");
    assert_eq!(sink.messages().len(), 1);
    let m = parse_message(&sink.messages()[0]);
    assert_eq!(m["headers"]["To"], "editor@example.org");
    assert_ne!(
        m["headers"]["Message-ID"],
        "<digest.negotiation.2024-W46@example.org>"
    );

    let real = fx.run(&fx.opts()).expect("real run");
    assert!(
        matches!(real, DigestOutcome::Sent { entries: 5, .. }),
        "{real:?}"
    );
    assert_eq!(sink.messages().len(), 2);
}

#[test]
fn a_dry_run_of_a_test_copy_writes_and_sends_nothing_and_says_so() {
    let sink = Sink::start("accept");
    let fx = Fixture::new(Some(sink.port));
    let dry_copy = DigestOptions {
        dry_run: true,
        to: Some("editor@example.org".into()),
        ..fx.opts()
    };
    let says = "digest 2024-W46: dry run: test copy to editor@example.org (5 posts) not sent; \
                nothing written or recorded";
    // A week with no issue yet: no file claimed, none written.
    let out = fx.run(&dry_copy).expect("dry run of a test copy");
    assert_eq!(out.to_string(), says);
    assert!(!fx.out("2024-W46.html").exists());
    assert!(sink.messages().is_empty());
    assert!(
        fx.store()
            .digest_issue("negotiation", "2024-W46")
            .expect("q")
            .is_none()
    );
    // A recorded week: the same, and its files stay as they are.
    fx.run(&fx.opts()).expect("real run");
    let html = std::fs::read(fx.out("2024-W46.html")).expect("issue html");
    let out = fx.run(&dry_copy).expect("dry run of a test copy");
    assert_eq!(out.to_string(), says);
    assert_eq!(std::fs::read(fx.out("2024-W46.html")).expect("html"), html);
    assert_eq!(sink.messages().len(), 1, "only the real issue was sent");
}

#[test]
fn every_test_copy_has_its_own_message_id_even_with_the_same_now() {
    let sink = Sink::start("accept");
    let fx = Fixture::new(Some(sink.port));
    let test = DigestOptions {
        to: Some("editor@example.org".into()),
        ..fx.opts()
    };
    // `Fixture::run` always passes the same `now`.
    for _ in 0..2 {
        let out = fx.run(&test).expect("test copy");
        assert!(matches!(out, DigestOutcome::TestCopy { .. }), "{out:?}");
    }
    let real = fx.run(&fx.opts()).expect("real run");
    assert!(matches!(real, DigestOutcome::Sent { .. }), "{real:?}");
    let ids: Vec<String> = sink
        .messages()
        .iter()
        .map(|p| {
            parse_message(p)["headers"]["Message-ID"]
                .as_str()
                .expect("Message-ID")
                .to_owned()
        })
        .collect();
    assert_eq!(ids.len(), 3);
    assert_ne!(ids[0], ids[1], "two test copies share a Message-ID");
    for id in &ids[..2] {
        assert!(
            id.starts_with("<digest.negotiation.2024-W46.test.") && id.ends_with("@example.org>"),
            "{id}"
        );
    }
    // The issue's own Message-ID stays the stable one.
    assert_eq!(ids[2], "<digest.negotiation.2024-W46@example.org>");
}

#[test]
fn an_empty_week_sends_nothing_and_says_so() {
    let fx = Fixture::new(None);
    let mut store = fx.store();
    let out = digest::run(
        &fx.config(),
        &mut store,
        &fx.opts(),
        utc("2024-08-19T13:00:00Z"),
    )
    .expect("run");
    assert_eq!(out.to_string(), "digest 2024-W33: skipped: nothing new");
    assert!(!fx.out("2024-W33.html").exists());
}

#[test]
fn already_mailed_entries_stay_out_of_later_issues() {
    let fx = Fixture::new(None);
    let first = fx.run(&fx.opts()).expect("first");
    assert!(
        matches!(first, DigestOutcome::Written { entries: 5, .. }),
        "{first:?}"
    );
    // A post of W46 edited and re-dated into W47 is not mailed again.
    let mut store = fx.store();
    let moved = entry(
        "trade-talks",
        "Tariffs in trade talks (updated)",
        "2024-11-19T15:00:00Z",
        "Edited.",
        &["Trade"],
    );
    store
        .upsert_entry(&moved, utc("2024-11-20T00:00:00Z"))
        .expect("upsert");
    let out = digest::run(
        &fx.config(),
        &mut store,
        &fx.opts(),
        utc("2024-11-25T13:00:00Z"),
    )
    .expect("second");
    assert_eq!(
        out,
        DigestOutcome::SkippedNothingNew {
            week: "2024-W47".into()
        }
    );
}

#[test]
fn template_errors_name_the_file_and_line() {
    let fx = Fixture::new(None);
    let tdir = fx.dir.path().join("templates");
    std::fs::create_dir_all(&tdir).expect("mkdir");
    std::fs::write(
        tdir.join("digest.html"),
        "<p>ok</p>\n{% for e in entries %}\n<p>{{ e.title }</p>\n",
    )
    .expect("write");
    let err = fx.run(&fx.opts()).expect_err("syntax error");
    assert_eq!(err.exit_code(), 2);
    let msg = err.to_string();
    assert!(
        msg.contains("templates/digest.html:3") || msg.contains("templates/digest.html:2"),
        "{msg}"
    );
    let check = digest::check_templates(&fx.config(), fx.dir.path()).expect_err("check");
    assert_eq!(check.exit_code(), 2);

    std::fs::remove_file(tdir.join("digest.html")).expect("rm");
    std::fs::write(
        tdir.join("digest.txt"),
        "{{ title }}\n{{ no_such_variable }}\n",
    )
    .expect("write");
    let err = fx.run(&fx.opts()).expect_err("unknown variable");
    let msg = err.to_string();
    assert!(msg.contains("templates/digest.txt:2"), "{msg}");
    assert!(msg.contains("undefined"), "{msg}");
    // The error names what was undefined, not only the line.
    assert!(msg.contains("`no_such_variable`"), "{msg}");
    assert!(digest::check_templates(&fx.config(), fx.dir.path()).is_err());
    // An unknown attribute of an entry: the expression is named, for `run` and `check` alike.
    std::fs::write(
        tdir.join("digest.txt"),
        "{{ title }}\n{% for e in entries %}\n{{ e.title }}\n{{ e.nosuch }}\n{% endfor %}\n",
    )
    .expect("write");
    for err in [
        fx.run(&fx.opts()).expect_err("unknown attribute"),
        digest::check_templates(&fx.config(), fx.dir.path()).expect_err("check"),
    ] {
        let msg = err.to_string();
        assert!(
            msg.contains("templates/digest.txt:4: undefined value"),
            "{msg}"
        );
        assert!(msg.contains("`e.nosuch`"), "{msg}");
    }
    // Nothing was recorded by the failed runs.
    assert!(
        fx.store()
            .digest_issue("negotiation", "2024-W46")
            .expect("q")
            .is_none()
    );
    // An error only in the "and N more" branch, which small issues never render: `check`
    // renders it too.
    std::fs::write(
        tdir.join("digest.txt"),
        "{{ title }}\n{% if more_count > 0 %}\n{{ more_link }}\n{% endif %}\n",
    )
    .expect("write");
    let err = digest::check_templates(&fx.config(), fx.dir.path()).expect_err("more branch");
    assert!(err.to_string().contains("`more_link`"), "{err}");
    // What only some posts have (an author, a related post): `check` renders a post without
    // them too, so the template fails there, not on the first week that has such a post.
    for (line, expression) in [
        ("{{ e.authors[0] }}", "`e.authors[0]`"),
        ("{{ e.related[0].title }}", "`e.related[0].title`"),
        ("{{ e.categories | first | upper }}", "first"),
    ] {
        std::fs::write(
            tdir.join("digest.txt"),
            format!("{{{{ title }}}}\n{{% for e in entries %}}\n{line}\n{{% endfor %}}\n"),
        )
        .expect("write");
        let err = digest::check_templates(&fx.config(), fx.dir.path()).expect_err(line);
        let msg = err.to_string();
        assert!(msg.contains("templates/digest.txt:3"), "{line}: {msg}");
        assert!(
            msg.contains(expression) || msg.contains("undefined"),
            "{line}: {msg}"
        );
    }
    std::fs::remove_file(tdir.join("digest.txt")).expect("rm");
    digest::check_templates(&fx.config(), fx.dir.path()).expect("built-ins are valid");
}

#[test]
fn invalid_time_zone_or_address_is_a_config_error_naming_the_key() {
    let fx = Fixture::new(None);
    let text = std::fs::read_to_string(fx.config_path()).expect("cfg");
    let bad = text.replace("America/New_York", "Mars/Olympus");
    let err = Config::parse(&bad, &fx.config_path()).expect_err("tz");
    assert_eq!(err.key, "digest.timezone");
    let bad = text.replace("list@example.org", "not an address");
    let err = Config::parse(&bad, &fx.config_path()).expect_err("to");
    assert_eq!(err.key, "digest.to[0]");
    let bad = text.replace("[digest]\n", "[digest]\nsmtp_password_env = \"1BAD\"\n");
    let err = Config::parse(&bad, &fx.config_path()).expect_err("env");
    assert_eq!(err.key, "digest.smtp_password_env");
}

/// `[digest] locale` writes the issue's day and month names in its language, in the HTML part,
/// the web copy and the text part alike; a locale feedwright does not know is a configuration
/// error naming the key.
#[test]
fn a_locale_names_days_and_months_in_its_language() {
    let sink = Sink::start("accept");
    let fx = Fixture::with_digest(Some(sink.port), "locale = \"fr-FR\"\n");
    let sent = fx.run(&fx.opts()).expect("sent");
    assert!(matches!(sent, DigestOutcome::Sent { .. }), "{sent:?}");
    let web = std::fs::read_to_string(fx.out("2024-W46.html")).expect("web copy");
    let m = parse_message(&sink.messages()[0]);
    let part = |kind: &str| {
        m["parts"]
            .as_array()
            .expect("parts")
            .iter()
            .find(|p| p["type"] == kind)
            .and_then(|p| p["body"].as_str())
            .unwrap_or_else(|| panic!("no {kind} part: {m}"))
            .to_owned()
    };
    let (html, text) = (part("text/html"), part("text/plain"));
    for (part, body) in [("web copy", &web), ("html", &html), ("text", &text)] {
        // The week, Monday 11 to Sunday 17 November, and a post of Tuesday 12 November.
        assert!(body.contains("11–17 novembre 2024"), "{part}: {body}");
        assert!(body.contains("mar. 12 nov. 2024"), "{part}: {body}");
        assert!(
            !body.contains("November") && !body.contains("Tue "),
            "{part}: {body}"
        );
    }

    let text = std::fs::read_to_string(fx.config_path()).expect("cfg");
    let bad = text.replace("locale = \"fr-FR\"", "locale = \"xx_YY\"");
    let err = Config::parse(&bad, &fx.config_path()).expect_err("unknown locale");
    assert_eq!(err.key, "digest.locale");
    assert!(err.to_string().contains("xx_YY"), "{err}");
    let posix = text.replace("locale = \"fr-FR\"", "locale = \"de_DE\"");
    Config::parse(&posix, &fx.config_path()).expect("a POSIX name");
}

#[test]
fn option_errors_name_the_option_and_config_errors_name_the_file_and_key() {
    let fx = Fixture::new(None);
    let err = fx
        .run(&DigestOptions {
            to: Some("x".into()),
            ..fx.opts()
        })
        .expect_err("bad --to");
    assert_eq!(err.exit_code(), 2);
    let shown = err.to_string();
    assert!(
        shown.starts_with("--to: invalid email address \"x\": "),
        "{shown}"
    );
    // About the option even once the caller names the config file.
    assert_eq!(err.in_config_file(&fx.config_path()).to_string(), shown);
    let err = fx
        .run(&DigestOptions {
            to: Some("editor@example.org".into()),
            ..fx.opts()
        })
        .expect_err("--to without smtp_url");
    assert_eq!(err.exit_code(), 2);
    assert_eq!(
        err.to_string(),
        "--to: no SMTP server to send the test copy through: digest.smtp_url is not set"
    );

    // Keys checked only when sending: the error names the file and the key.
    let file = fx.config_path().display().to_string();
    let text = std::fs::read_to_string(fx.config_path()).expect("cfg");
    let smtp = format!("smtp_url = \"smtp://127.0.0.1:{}\"\n", free_port());
    // (An empty `to` with smtp_url set is refused when the config is loaded.)
    let says = "digest.smtp_username_env: environment variable FEEDWRIGHT_TEST_UNSET_USER is \
                not set (or not UTF-8)";
    std::fs::write(
        fx.config_path(),
        format!(
            "{text}{smtp}smtp_username_env = \"FEEDWRIGHT_TEST_UNSET_USER\"\n\
             smtp_password_env = \"FEEDWRIGHT_TEST_UNSET_PASSWORD\"\n"
        ),
    )
    .expect("write cfg");
    let err = fx.run(&fx.opts()).expect_err(says);
    assert_eq!(err.exit_code(), 2, "{err}");
    assert_eq!(err.to_string(), format!("config: {says}"));
    assert_eq!(
        err.in_config_file(&fx.config_path()).to_string(),
        format!("{file}: {says}")
    );
    // The binary names the file.
    let out = Command::new(env!("CARGO_BIN_EXE_feedwright"))
        .arg("--config")
        .arg(fx.config_path())
        .args(["digest", "--now", "2024-11-18T13:00:00Z"])
        .env_remove("FEEDWRIGHT_TEST_UNSET_USER")
        .output()
        .expect("run feedwright");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim_end(),
        format!("error: {file}: {says}")
    );
    std::fs::write(fx.config_path(), &text).expect("write cfg");

    // The real binary says the same about the option.
    let out = Command::new(env!("CARGO_BIN_EXE_feedwright"))
        .arg("--config")
        .arg(fx.config_path())
        .args(["digest", "--now", "2024-11-18T13:00:00Z", "--to", "x"])
        .output()
        .expect("run feedwright");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("error: --to: invalid email address \"x\": "),
        "{stderr}"
    );
}

#[test]
fn fix_related_stores_links_once_and_keeps_them() {
    let fx = Fixture::new(None);
    let mut store = fx.store();
    let id = EntryId("https://example.org/water-treaties/".into());
    let mut site = entry(
        "new-post",
        "Downstream water rights",
        "2024-11-16T15:00:00Z",
        "Water rights downstream of the river basin.",
        &["Water"],
    );
    site.related = vec![Link {
        url: "http://www.example.org/ceasefire/".into(),
        title: "x".into(),
    }];
    store
        .upsert_entry(&site, utc("2024-11-16T16:00:00Z"))
        .expect("upsert");
    let fixed = digest::related::fix_related(
        &mut store,
        &[site.id.clone(), id.clone()],
        3,
        chrono_tz::UTC,
    )
    .expect("fix");
    assert_eq!(fixed, 2);
    let got = store
        .get_by_key("example.org/new-post/")
        .expect("get")
        .expect("entry");
    assert_eq!(
        got.related[0].url, "https://example.org/ceasefire/",
        "site link first"
    );
    assert_eq!(got.related[0].title, "Mediating a ceasefire");
    assert!(got.related.iter().all(|l| l.url != site.url));
    assert!(got.related.len() <= 3);
    // Fixed links are kept: a new, more similar post does not change them.
    let twin = entry(
        "twin",
        "Downstream water rights",
        "2024-11-17T15:00:00Z",
        "Water rights downstream of the river basin.",
        &["Water"],
    );
    store
        .upsert_entry(&twin, utc("2024-11-17T16:00:00Z"))
        .expect("upsert");
    assert_eq!(
        digest::related::fix_related(&mut store, &[site.id.clone()], 3, chrono_tz::UTC)
            .expect("fix"),
        0
    );
    let again = store
        .get_by_key("example.org/new-post/")
        .expect("get")
        .expect("entry");
    assert_eq!(again.related, got.related);
}

#[test]
fn related_limit_caps_the_links_listed_under_each_entry() {
    let ids: Vec<EntryId> = [
        "water-treaties",
        "trade-talks",
        "breakout",
        "undated",
        "huge",
    ]
    .iter()
    .map(|slug| EntryId(format!("https://example.org/{slug}/")))
    .collect();
    // Related links stored for the corpus's entries, all together.
    let links_stored = |store: &Store| -> usize {
        ids.iter()
            .map(|id| {
                let key = id.0.trim_start_matches("https://");
                let stored = store.get_by_key(key).expect("get").expect("entry");
                stored.related.len()
            })
            .sum()
    };
    for (limit, listed) in [(0, 0), (1, 1)] {
        let fx = Fixture::with_digest(None, &format!("related_limit = {limit}\n"));
        // Links fixed earlier under the default limit (as a run before the change fixed them).
        let mut store = fx.store();
        digest::related::fix_related(&mut store, &ids, 3, chrono_tz::UTC).expect("fix");
        let stored = links_stored(&store);
        assert!(stored > ids.len(), "some entry has several links: {stored}");
        drop(store);

        let out = fx.dry_run();
        assert!(
            matches!(out, DigestOutcome::DryRun { entries: 5, .. }),
            "{out:?}"
        );
        let text = std::fs::read_to_string(fx.out("2024-W46.txt")).expect("txt");
        let html = std::fs::read_to_string(fx.out("2024-W46.html")).expect("html");
        let sections = if listed == 0 { 0 } else { ids.len() };
        assert_eq!(text.matches("\nRelated:\n").count(), sections, "{text}");
        assert_eq!(text.matches("\n  - ").count(), sections * listed, "{text}");
        assert_eq!(html.matches("class=\"related-title\"").count(), sections);
        // The stored links (the feeds' related links) stay as they were fixed.
        let store = fx.store();
        let still = links_stored(&store);
        assert_eq!(still, stored);
    }
}

/// An `unsubscribe_url` with a non-ASCII host, accented path and spaces reaches the
/// `List-Unsubscribe` header as ASCII (punycode, percent-encoding), which mailbox providers
/// read, not as MIME encoded-words, which they do not; the issue's own link is the same URL.
#[test]
fn a_non_ascii_unsubscribe_url_is_sent_as_ascii() {
    let sink = Sink::start("accept");
    let fx = Fixture::new(Some(sink.port));
    set_unsubscribe_url(
        &fx,
        Some("https://münchen.example/abmelden/für alle?list=Kiez Events"),
    );
    fx.run(&fx.opts()).expect("sent");
    let msgs = sink.messages();
    assert_eq!(msgs.len(), 1);
    let ascii = "https://xn--mnchen-3ya.example/abmelden/f%C3%BCr%20alle?list=Kiez%20Events";
    let raw = String::from_utf8_lossy(&std::fs::read(&msgs[0]).expect("read message")).into_owned();
    assert!(
        raw.contains(&format!("List-Unsubscribe: <{ascii}>")),
        "{}",
        raw.lines()
            .filter(|l| l.starts_with("List-Unsub"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    let m = parse_message(&msgs[0]);
    assert_eq!(
        m["headers"]["List-Unsubscribe-Post"],
        "List-Unsubscribe=One-Click"
    );
    let mail_text = m["parts"][0]["body"].as_str().expect("text part");
    assert!(mail_text.contains(ascii), "{mail_text}");
}

/// Every link of the built-in HTML, in the mail and its web copy, is absolute (in-page
/// anchors do nothing in many mail apps), and the issue offers a way to unsubscribe even
/// without `unsubscribe_url`: a message to the sender, in the `List-Unsubscribe` header too.
#[test]
fn every_link_is_absolute_and_unsubscribing_is_always_offered() {
    let sink = Sink::start("accept");
    let fx = Fixture::new(Some(sink.port));
    set_unsubscribe_url(&fx, None);
    fx.run(&fx.opts()).expect("sent");
    let msgs = sink.messages();
    assert_eq!(msgs.len(), 1);
    let m = parse_message(&msgs[0]);
    let by_mail = "mailto:digest@example.org?subject=unsubscribe";
    assert_eq!(m["headers"]["List-Unsubscribe"], format!("<{by_mail}>"));
    assert!(m["headers"].get("List-Unsubscribe-Post").is_none(), "{m}");
    let mail_html = m["parts"][1]["body"]
        .as_str()
        .expect("html part")
        .to_owned();
    let web_html = std::fs::read_to_string(fx.out("2024-W46.html")).expect("web copy");
    for html in [mail_html, web_html] {
        let doc = scraper::Html::parse_document(&html);
        let a = scraper::Selector::parse("a").expect("selector");
        let hrefs: Vec<&str> = doc.select(&a).filter_map(|e| e.attr("href")).collect();
        assert!(hrefs.len() > 10, "{hrefs:?}");
        for href in &hrefs {
            assert!(
                href.starts_with("https://")
                    || href.starts_with("http://")
                    || href.starts_with("mailto:"),
                "not absolute: {href:?}"
            );
        }
        assert!(hrefs.contains(&by_mail), "{hrefs:?}");
    }
}

/// A `--now` ahead of the clock names a week that may not be over: it can be previewed (a dry
/// run, a test copy) but not sent or recorded, which would leave its last posts unmailed.
#[test]
fn a_week_not_over_yet_is_only_previewed() {
    let sink = Sink::start("accept");
    let fx = Fixture::new(Some(sink.port));
    let ahead = Utc::now() + chrono::Duration::days(8);
    let mut store = fx.store();
    let err = digest::run(&fx.config(), &mut store, &fx.opts(), ahead).expect_err("not over");
    assert_eq!(err.exit_code(), 2);
    let shown = err.to_string();
    assert!(
        shown.starts_with("--now: week ") && shown.contains("is not over yet (it ends "),
        "{shown}"
    );
    let dry = DigestOptions {
        dry_run: true,
        ..fx.opts()
    };
    digest::run(&fx.config(), &mut store, &dry, ahead).expect("a dry run is a preview");
    let copy = DigestOptions {
        to: Some("me@example.org".into()),
        ..fx.opts()
    };
    digest::run(&fx.config(), &mut store, &copy, ahead).expect("a test copy is a preview");
    assert!(
        store
            .digest_issue(
                "negotiation",
                &digest::week::last_complete_week(ahead, chrono_tz::America::New_York)
                    .week
                    .label()
            )
            .expect("q")
            .is_none(),
        "nothing recorded"
    );
}

/// The copies in `templates/` are the built-in templates: they are where a user starts an
/// override from, and, next to the shipped `config.toml`, they are what its digest renders.
#[test]
fn the_template_copies_are_the_built_in_templates() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (copy, built_in) in [
        ("digest.html", "src/digest/templates/digest.html"),
        ("digest.txt", "src/digest/templates/digest.txt"),
        (
            "digest_subject.txt",
            "src/digest/templates/digest_subject.txt",
        ),
        ("feed.xsl", "src/publish/feed.xsl"),
    ] {
        let read = |p: &Path| {
            std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        };
        assert!(
            read(&root.join("templates").join(copy)) == read(&root.join(built_in)),
            "templates/{copy} differs from {built_in}: copy it over"
        );
    }
}

/// The default templates' output for the fixed corpus. Regenerate with
/// `UPDATE_SNAPSHOTS=1 cargo test --test digest`.
#[test]
fn default_templates_snapshot() {
    let fx = Fixture::new(None);
    fx.run(&fx.opts()).expect("run");
    let snap = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    for file in ["2024-W46.txt", "2024-W46.html"] {
        let got = std::fs::read_to_string(fx.out(file)).expect("output");
        let expected_path = snap.join(format!("digest-{file}"));
        if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
            std::fs::write(&expected_path, &got).expect("write snapshot");
        }
        let expected = std::fs::read_to_string(&expected_path)
            .expect("snapshot missing: run with UPDATE_SNAPSHOTS=1");
        assert_eq!(
            got, expected,
            "{file} differs from tests/snapshots/digest-{file}"
        );
    }
}

#[test]
fn an_oversized_issue_is_shrunk_and_links_its_web_copy() {
    use feedwright::digest::render::{IssueMeta, Templates, render_issue};
    use feedwright::digest::week::last_complete_week;
    let week = last_complete_week(utc("2024-11-18T13:00:00Z"), chrono_tz::UTC);
    let entries: Vec<feedwright::store::StoredEntry> = (0..60)
        .map(|i| feedwright::store::StoredEntry {
            entry: entry(
                &format!("p{i}"),
                &format!("Post {i}"),
                "2024-11-12T15:00:00Z",
                &"words and more words ".repeat(40),
                &["Trade"],
            ),
            first_seen: utc("2024-11-12T16:00:00Z"),
            last_seen: utc("2024-11-12T16:00:00Z"),
            content_hash: String::new(),
        })
        .collect();
    let meta = IssueMeta {
        title: "T".into(),
        week,
        tz: chrono_tz::UTC,
        locale: None,
        web_url: "https://example.org/w.html".into(),
        archive_url: "https://example.org/index.html".into(),
        issues_feed_url: "https://example.org/atom.xml".into(),
        unsubscribe_url: None,
        related_limit: 3,
    };
    let templates = Templates::load(Path::new("/nonexistent-config-dir")).expect("built-ins");
    let full = render_issue(&templates, &meta, &entries, usize::MAX).expect("full");
    let limit = full.html.len() / 4;
    let small = render_issue(&templates, &meta, &entries, limit).expect("small");
    // The limit holds for the part as sent (encoded), longer than the HTML itself.
    let sent = feedwright::digest::mail::html_part_bytes(&small.html);
    assert!(sent > small.html.len() && sent <= limit, "{sent} > {limit}");
    let shown = small.context.entries.len();
    assert!(shown > 0 && shown < 60, "{shown}");
    let more = 60 - shown;
    assert_eq!(small.context.more_count, more);
    // The subject counts every post of the issue, not only those shown.
    assert_eq!(small.subject, full.subject);
    assert!(
        small.subject.ends_with(": 60 new posts"),
        "{}",
        small.subject
    );
    // "and N more" leads to the web copy (which holds them all), in both parts.
    assert!(
        small.html.contains(&format!(
            "<a href=\"https://example.org/w.html\" style=\"color: #1d3557;\">{more} more</a>"
        )),
        "{}",
        small.html
    );
    assert!(
        small.text.contains(&format!(
            "… and {more} more in the full issue online: https://example.org/w.html\n"
        )),
        "{}",
        small.text
    );
}

/// A week with more posts than fit in one message: the mail is shrunk, and every post of the
/// issue stays reachable from it (the subject counts them, "and N more" links the web copy,
/// which holds them all), so recording them all as mailed loses none.
#[test]
fn an_issue_too_big_for_one_mail_keeps_every_post_reachable() {
    let sink = Sink::start("accept");
    let fx = Fixture::new(Some(sink.port));
    let mut store = fx.store();
    let mut urls = Vec::new();
    for i in 0..150 {
        let e = entry(
            &format!("w47-{i:03}"),
            &format!("Round {i} of the water talks"),
            &format!("2024-11-{:02}T{:02}:00:00Z", 19 + i % 5, 10 + i % 8),
            &format!("Round {i}: delegates on the river basin bargain over quotas. ").repeat(8),
            &["Water"],
        );
        urls.push(e.url.clone());
        store
            .upsert_entry(&e, utc("2024-11-24T12:00:00Z"))
            .expect("upsert");
    }
    drop(store);
    let out = digest::run(
        &fx.config(),
        &mut fx.store(),
        &fx.opts(),
        utc("2024-11-25T13:00:00Z"),
    )
    .expect("run");
    assert!(
        matches!(out, DigestOutcome::Sent { entries: 150, .. }),
        "{out:?}"
    );
    let web = "https://example.org/feeds/negotiation/digest/2024-W47.html";

    // The mail: shrunk, and saying so.
    let m = parse_message(&sink.messages()[0]);
    let subject = m["headers"]["Subject"].as_str().expect("subject");
    assert!(subject.ends_with(": 150 new posts"), "{subject}");
    let text = m["parts"][0]["body"].as_str().expect("text");
    let html = m["parts"][1]["body"].as_str().expect("html");
    // Under 100 KB as it travels, encoded (Gmail clips a message past ~102 KB), not only
    // before quoted-printable and CRLF line ends.
    let raw = std::fs::read(&sink.messages()[0]).expect("raw message");
    let sent = html_part_as_sent(&raw);
    assert!(sent <= 100 * 1024, "the HTML part is {sent} bytes as sent");
    let in_mail = urls
        .iter()
        .filter(|u| html.contains(&format!("href=\"{u}\"")))
        .count();
    assert!(in_mail > 0 && in_mail < 150, "{in_mail}");
    let more = 150 - in_mail;
    assert!(
        html.contains(&format!(
            "<a href=\"{web}\" style=\"color: #1d3557;\">{more} more</a>"
        )),
        "{html}"
    );
    assert!(
        text.contains(&format!(
            "… and {more} more in the full issue online: {web}\n"
        )),
        "{text}"
    );
    // The public .eml is that message.
    let eml = std::fs::read_to_string(fx.out("2024-W47.eml")).expect("eml");
    assert!(eml.contains(&format!("{more} more")));

    // The web copy (the "view in browser" page and its text) holds the whole issue.
    let page = std::fs::read_to_string(fx.out("2024-W47.html")).expect("web copy");
    let page_text = std::fs::read_to_string(fx.out("2024-W47.txt")).expect("web text");
    for u in &urls {
        assert!(
            page.contains(&format!("href=\"{u}\"")),
            "web copy lacks {u}"
        );
        assert!(page_text.contains(u.as_str()), "text copy lacks {u}");
    }
    assert!(
        !page.contains("in the full issue online") && !page_text.contains("in the full issue"),
        "the web copy leaves nothing out"
    );
    assert!(page.contains(&format!("<title>{}</title>", subject.replace('&', "&amp;"))));

    // All 150 are recorded as mailed: each is in the issue and reachable from the mail.
    let recorded = fx
        .store()
        .digest_issue_entries("negotiation", "2024-W47")
        .expect("q");
    assert_eq!(recorded.len(), 150);
}

// ---------------------------------------------------------------------------------------------
// DKIM signing. Keys: tests/fixtures/dkim/ (throwaway, test only). Signatures are checked by
// Python dkimpy (`pip install dkimpy`; Ed25519 also needs `pip install pynacl`) through
// tests/dkim_verify.py, with the DNS lookup stubbed to return the fixture's public key.

fn dkim_fixture(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/dkim")
        .join(file)
}

/// dkimpy's verdict on the message in `path`, with `<selector>._domainkey.<domain>` answering
/// `v=DKIM1; k=<kind>; p=<public>`.
fn dkim_verify(path: &Path, selector: &str, domain: &str, kind: &str) -> serde_json::Value {
    let public_file = if kind == "rsa" {
        "rsa.pub.b64"
    } else {
        "ed25519.pub.b64"
    };
    let public = std::fs::read_to_string(dkim_fixture(public_file)).expect("public key");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/dkim_verify.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(path)
        .args([selector, domain, kind, public.trim()])
        .output()
        .expect("python3 is required to run the DKIM tests");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "DKIM verifier failed: {stdout}{} (the DKIM tests need: pip install dkimpy pynacl)",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(stdout.trim()).expect("verifier json")
}

/// Flip one byte in the value of header `name` (the first character after "Name: ").
fn tamper_header(message: &[u8], name: &str) -> Vec<u8> {
    let needle = format!("\r\n{name}: ");
    let at = message
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
        .unwrap_or_else(|| panic!("no {name} header"))
        + needle.len();
    let mut out = message.to_vec();
    out[at] ^= 0x01;
    out
}

#[test]
fn dkim_signed_messages_verify_and_any_change_breaks_the_signature() {
    // (key file, DNS key type, dkim_domain line, expected d=, expected a=)
    let cases = [
        ("rsa-pkcs8.pem", "rsa", "", "example.org", "rsa-sha256"),
        (
            "rsa-pkcs1.pem",
            "rsa",
            "dkim_domain = \"mail.example.org\"\n",
            "mail.example.org",
            "rsa-sha256",
        ),
        (
            "ed25519.pem",
            "ed25519",
            "",
            "example.org",
            "ed25519-sha256",
        ),
    ];
    for (file, kind, domain_line, domain, alg) in cases {
        let sink = Sink::start("accept");
        let extra =
            format!("dkim_key = \"keys/{file}\"\ndkim_selector = \"fw2024\"\n{domain_line}");
        let fx = Fixture::with_digest(Some(sink.port), &extra);
        // A relative dkim_key is resolved against the config file's folder.
        std::fs::create_dir_all(fx.dir.path().join("keys")).expect("mkdir");
        std::fs::copy(dkim_fixture(file), fx.dir.path().join("keys").join(file)).expect("copy");
        let outcome = fx.run(&fx.opts()).expect("run");
        assert!(matches!(outcome, DigestOutcome::Sent { .. }), "{outcome:?}");
        let msgs = sink.messages();
        assert_eq!(msgs.len(), 1, "{file}");

        let v = dkim_verify(&msgs[0], "fw2024", domain, kind);
        assert_eq!(v["valid"], true, "{file}: {v}");
        assert_eq!(v["signatures"], 1, "{file}: {v}");
        let tags = &v["tags"];
        assert_eq!(tags["d"], domain, "{file}");
        assert_eq!(tags["s"], "fw2024", "{file}");
        assert_eq!(tags["a"], alg, "{file}");
        assert_eq!(tags["c"], "relaxed/relaxed", "{file}");
        let signed: Vec<String> = tags["h"]
            .as_str()
            .expect("h=")
            .split(':')
            .map(|h| h.trim().to_ascii_lowercase())
            .collect();
        for h in [
            "from",
            "to",
            "subject",
            "date",
            "message-id",
            "list-unsubscribe",
            "list-unsubscribe-post",
        ] {
            assert!(
                signed.iter().any(|s| s == h),
                "{file}: {h} not in h={signed:?}"
            );
        }

        // One byte changed after signing, in a header or in the body, fails verification.
        let original = std::fs::read(&msgs[0]).expect("read message");
        for (what, altered) in [
            ("Subject", tamper_header(&original, "Subject")),
            (
                "List-Unsubscribe",
                tamper_header(&original, "List-Unsubscribe"),
            ),
            ("body", {
                let mut b = original.clone();
                let at = b
                    .windows(5)
                    .rposition(|w| w == b"Trade")
                    .expect("a post title in the body");
                b[at] = b'G';
                b
            }),
        ] {
            let path = sink.dir.path().join("tampered.msg");
            std::fs::write(&path, &altered).expect("write tampered");
            let v = dkim_verify(&path, "fw2024", domain, kind);
            assert_eq!(
                v["valid"], false,
                "{file}: altered {what} still verifies: {v}"
            );
        }

        // The copy kept on disk is the unsigned message (it may be published).
        let eml = std::fs::read_to_string(fx.out("2024-W46.eml")).expect("eml");
        assert!(
            !eml.to_ascii_lowercase().contains("dkim-signature"),
            "{file}"
        );
        assert!(eml.contains("Message-ID: <digest.negotiation.2024-W46@example.org>"));
    }
}

#[test]
fn dkim_key_problems_are_config_errors_naming_the_key_and_the_file() {
    let fx = Fixture::new(None);
    let text = std::fs::read_to_string(fx.config_path()).expect("cfg");
    let with = |lines: &str| text.replace("[digest]\n", &format!("[digest]\n{lines}"));
    let load = |lines: &str| {
        std::fs::write(fx.config_path(), with(lines)).expect("write cfg");
        Config::load(&fx.config_path()).expect_err("must fail")
    };
    let keys = fx.dir.path().join("keys");
    std::fs::create_dir_all(&keys).expect("mkdir");
    std::fs::write(keys.join("notes.txt"), "just some text\n").expect("write");
    std::fs::copy(dkim_fixture("rsa.pub.b64"), keys.join("public.pem")).expect("copy");
    let public_pem = format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        std::fs::read_to_string(dkim_fixture("rsa.pub.b64"))
            .expect("pub")
            .trim()
    );
    std::fs::write(keys.join("public.pem"), public_pem).expect("write");
    let mut truncated = std::fs::read_to_string(dkim_fixture("rsa-pkcs1.pem")).expect("key");
    truncated.replace_range(200..260, "");
    std::fs::write(keys.join("truncated.pem"), truncated).expect("write");

    for (file, says) in [
        ("missing.pem", "cannot read"),
        ("", "cannot read"), // the folder itself
        ("notes.txt", "not a private key"),
        ("public.pem", "public key"),
        ("truncated.pem", "not a valid"),
    ] {
        let err = load(&format!(
            "dkim_key = \"keys/{file}\"\ndkim_selector = \"fw\"\n"
        ));
        assert_eq!(err.key, "digest.dkim_key", "{file}: {err}");
        let shown = err.to_string();
        assert!(shown.contains("digest.dkim_key"), "{shown}");
        assert!(
            shown.contains(&keys.join(file).display().to_string()),
            "{file}: the error names the key file: {shown}"
        );
        assert!(shown.contains(says), "{file}: {shown}");
    }

    let good = "dkim_key = \"keys/k.pem\"\n";
    std::fs::copy(dkim_fixture("ed25519.pem"), keys.join("k.pem")).expect("copy");
    let err = load(good);
    assert_eq!(err.key, "digest.dkim_selector", "{err}");
    let err = load(&format!("{good}dkim_selector = \"bad selector\"\n"));
    assert_eq!(err.key, "digest.dkim_selector", "{err}");
    let err = load(&format!(
        "{good}dkim_selector = \"s\"\ndkim_domain = \"-x.org\"\n"
    ));
    assert_eq!(err.key, "digest.dkim_domain", "{err}");
    let err = load("dkim_selector = \"s\"\n");
    assert_eq!(err.key, "digest.dkim_key", "{err}");
    std::fs::write(
        fx.config_path(),
        with(&format!("{good}dkim_selector = \"s\"\n")),
    )
    .expect("write cfg");
    let cfg = Config::load(&fx.config_path()).expect("a good key loads");
    assert!(digest::advice(&cfg).iter().all(|n| !n.contains("dkim")));
    let d = cfg.digest.expect("digest");
    assert_eq!(d.dkim_key.as_deref(), Some(keys.join("k.pem").as_path()));

    // A signing domain DMARC would not count: `check` says so before any issue is sent; a
    // parent or child domain of the sender's is aligned.
    std::fs::create_dir_all(fx.dir.path().join("posts")).expect("the source's folder");
    for (domain, warned) in [
        ("unrelated.net", true),
        ("example.org", false),
        ("mail.example.org", false),
    ] {
        std::fs::write(
            fx.config_path(),
            with(&format!(
                "{good}dkim_selector = \"s\"\ndkim_domain = \"{domain}\"\n"
            )),
        )
        .expect("write cfg");
        let out = Command::new(env!("CARGO_BIN_EXE_feedwright"))
            .arg("--config")
            .arg(fx.config_path())
            .arg("check")
            .output()
            .expect("run feedwright");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{stderr}");
        let says = format!(
            "digest.dkim_domain \"{domain}\" is unrelated to the From domain \"example.org\": \
             DMARC will not count the signature"
        );
        assert_eq!(stderr.contains(&says), warned, "{domain}: {stderr}");
    }
}

/// With several recipients, each gets the issue but none learns the others' addresses: they
/// are in the envelope only, the `To` header names the sender. The copy on disk (the output
/// folder may be public) never names a recipient, not even the only one.
#[test]
fn recipients_never_see_each_other_and_the_public_copy_names_none() {
    let sink = Sink::start("accept");
    let fx = Fixture::new(Some(sink.port));
    set_recipients(&fx, r#""ana@example.org", "Ben Okafor <ben@example.org>""#);
    let outcome = fx.run(&fx.opts()).expect("run");
    assert!(matches!(outcome, DigestOutcome::Sent { .. }), "{outcome:?}");
    let msgs = sink.messages();
    assert_eq!(msgs.len(), 1, "one message for all recipients");
    assert_eq!(
        sink.recipients(&msgs[0]),
        ["ana@example.org", "ben@example.org"]
    );
    let sent = std::fs::read_to_string(&msgs[0]).expect("read sent");
    let m = parse_message(&msgs[0]);
    assert_eq!(
        m["headers"]["To"],
        "Negotiation Digest <digest@example.org>"
    );
    let public = std::fs::read_to_string(fx.out("2024-W46.eml")).expect("read eml");
    for text in [&sent, &public] {
        assert!(
            !text.contains("ana@") && !text.contains("ben@") && !text.contains("Okafor"),
            "{text}"
        );
    }

    // One recipient (a list address, usually) is named in the message sent, not on disk.
    let sink = Sink::start("accept");
    let fx = Fixture::new(Some(sink.port));
    fx.run(&fx.opts()).expect("run");
    let msgs = sink.messages();
    assert_eq!(sink.recipients(&msgs[0]), ["list@example.org"]);
    assert_eq!(parse_message(&msgs[0])["headers"]["To"], "list@example.org");
    let public = std::fs::read_to_string(fx.out("2024-W46.eml")).expect("read eml");
    assert!(!public.contains("list@example.org"), "{public}");
}

/// Renaming the digest's feed does not mail a week already mailed again: the issues on record
/// go with the feed to its new name, and their web copies to its folder.
#[test]
fn a_renamed_feed_does_not_mail_the_same_week_again() {
    let sink = Sink::start("accept");
    let fx = Fixture::new(Some(sink.port));
    let first = fx.run(&fx.opts()).expect("first run");
    assert!(matches!(first, DigestOutcome::Sent { .. }), "{first:?}");
    let config = std::fs::read_to_string(fx.config_path()).unwrap();
    let renamed = config
        .replace("name = \"negotiation\"", "name = \"talks\"")
        .replace("feed = \"negotiation\"", "feed = \"talks\"");
    assert_ne!(config, renamed);
    std::fs::write(fx.config_path(), renamed).unwrap();
    let again = fx.run(&fx.opts()).expect("run after the rename");
    assert_eq!(
        again,
        DigestOutcome::AlreadySent {
            week: "2024-W46".into()
        }
    );
    assert_eq!(sink.messages().len(), 1);
    let moved = fx.dir.path().join("out/talks/digest");
    for file in [
        "2024-W46.html",
        "2024-W46.txt",
        "2024-W46.eml",
        "index.html",
    ] {
        assert!(moved.join(file).exists(), "{file}");
    }
    let index = std::fs::read_to_string(moved.join("index.html")).unwrap();
    assert!(index.contains("2024-W46"), "{index}");
}

/// `feedwright check` (the real binary) on the fixture: exit code and stderr.
fn check_binary(fx: &Fixture) -> (i32, String) {
    // `check` wants the `dir` source's folder (the fixture stores its posts directly).
    std::fs::create_dir_all(fx.dir.path().join("posts")).expect("posts folder");
    let out = Command::new(env!("CARGO_BIN_EXE_feedwright"))
        .arg("--config")
        .arg(fx.config_path())
        .arg("check")
        .env_remove("RUST_LOG")
        .output()
        .expect("run feedwright");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// There is one digest: pointing `[digest] feed` at another feed over the same posts (the old
/// one still configured) mails neither a week already sent nor a post already mailed, in a
/// preview before any real run too; the issues become the new feed's, web copies included;
/// `check` says so beforehand; and pointing it back sends nothing either.
#[test]
fn pointing_the_digest_at_another_feed_mails_no_week_or_post_again() {
    let sink = Sink::start("accept");
    let fx = Fixture::new(Some(sink.port));
    append_to_config(
        &fx,
        "[[feed]]\nname = \"everything\"\ntitle = \"Everything\"\nsources = [\"posts\"]\n",
    );
    let first = fx.run(&fx.opts()).expect("first run");
    assert!(
        matches!(first, DigestOutcome::Sent { entries: 5, .. }),
        "{first:?}"
    );
    // A post of that issue re-dated into the next week.
    fx.store()
        .upsert_entry(
            &entry(
                "trade-talks",
                "Tariffs in trade talks (updated)",
                "2024-11-19T15:00:00Z",
                "Edited.",
                &["Trade"],
            ),
            utc("2024-11-20T00:00:00Z"),
        )
        .expect("upsert");
    replace_in_config(&fx, "feed = \"negotiation\"", "feed = \"everything\"");
    let (code, stderr) = check_binary(&fx);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains(
            "digest.feed is \"everything\", and the store holds the digest's issues 1 of feed \
             \"negotiation\" (the last 2024-W46)"
        ) && stderr.contains("a week already on record is not sent again"),
        "{stderr}"
    );
    let preview = fx.dry_run();
    assert!(
        matches!(
            preview,
            DigestOutcome::DryRun {
                written: false,
                entries: 5,
                ..
            }
        ),
        "the week on record is shown as it went out: {preview:?}"
    );
    let w47 = |dry_run: bool| {
        digest::run(
            &fx.config(),
            &mut fx.store(),
            &DigestOptions {
                dry_run,
                ..fx.opts()
            },
            utc("2024-11-25T13:00:00Z"),
        )
        .expect("W47")
    };
    assert_eq!(
        w47(true),
        DigestOutcome::SkippedNothingNew {
            week: "2024-W47".into()
        },
        "the re-dated post was mailed, under the other feed"
    );
    let again = fx.run(&fx.opts()).expect("run for the other feed");
    assert_eq!(
        again,
        DigestOutcome::AlreadySent {
            week: "2024-W46".into()
        }
    );
    assert_eq!(sink.messages().len(), 1, "no week is mailed twice");
    let store = fx.store();
    let issue = store
        .digest_issue("everything", "2024-W46")
        .expect("q")
        .expect("the issue is the digest's feed's now");
    assert_eq!(issue.message_id, "digest.negotiation.2024-W46@example.org");
    assert_eq!(
        store.digest_issue("negotiation", "2024-W46").expect("q"),
        None
    );
    assert_eq!(
        store
            .digest_issue_entries("everything", "2024-W46")
            .expect("q")
            .len(),
        5
    );
    drop(store);
    let moved = fx.dir.path().join("out/everything/digest");
    for file in ["2024-W46.html", "2024-W46.txt", "2024-W46.eml"] {
        assert_eq!(
            std::fs::read(moved.join(file)).expect(file),
            std::fs::read(fx.out(file)).expect(file),
            "{file} copied, and left in the old folder"
        );
    }
    let index = std::fs::read_to_string(moved.join("index.html")).unwrap();
    assert!(index.contains("2024-W46.html"), "{index}");
    let atom = std::fs::read_to_string(moved.join("atom.xml")).unwrap();
    assert!(atom.contains("everything/digest/2024-W46.html"), "{atom}");
    let (_, stderr) = check_binary(&fx);
    assert!(
        !stderr.contains("digest.feed is"),
        "said once carried: {stderr}"
    );
    assert_eq!(
        w47(false),
        DigestOutcome::SkippedNothingNew {
            week: "2024-W47".into()
        }
    );
    // And back: the history follows the digest.
    replace_in_config(&fx, "feed = \"everything\"", "feed = \"negotiation\"");
    let back = fx.run(&fx.opts()).expect("run after pointing it back");
    assert_eq!(
        back,
        DigestOutcome::AlreadySent {
            week: "2024-W46".into()
        }
    );
    assert_eq!(sink.messages().len(), 1);
}

/// The issues on record under two feeds the configuration no longer has (one removed, one
/// renamed, as an earlier version left them) are the digest's history all the same: no week
/// of theirs is mailed again, and the digest's feed lists them all.
#[test]
fn issues_of_several_feeds_gone_from_the_config_are_never_mailed_again() {
    let sink = Sink::start("accept");
    let fx = Fixture::new(Some(sink.port));
    let mut store = fx.store();
    for (feed, week) in [("events", "2024-W45"), ("all", "2024-W46")] {
        let issue = feedwright::store::digest::DigestIssue {
            week: week.into(),
            subject: format!("{feed} {week}"),
            message_id: format!("digest.{feed}.{week}@example.org"),
            sent_at: utc("2024-11-18T13:00:00Z"),
            delivered: true,
            titles: vec!["Water treaties on shared rivers".into()],
        };
        store
            .record_digest_issue(
                feed,
                &issue,
                &[EntryId("https://example.org/water-treaties/".into())],
            )
            .expect("record");
    }
    drop(store);
    let out = fx.run(&fx.opts()).expect("run");
    assert_eq!(
        out,
        DigestOutcome::AlreadySent {
            week: "2024-W46".into()
        }
    );
    assert!(sink.messages().is_empty(), "W46 went out for feed all");
    let store = fx.store();
    assert_eq!(
        store
            .digest_issues("negotiation")
            .expect("q")
            .iter()
            .map(|i| i.week.as_str())
            .collect::<Vec<_>>(),
        ["2024-W46", "2024-W45"]
    );
    assert_eq!(
        store
            .digest_issue_entries("negotiation", "2024-W45")
            .expect("q")
            .len(),
        1,
        "the entries it mailed are the digest's feed's too"
    );
    drop(store);
    let index = std::fs::read_to_string(fx.out("index.html")).unwrap();
    assert!(
        index.contains("all 2024-W46") && index.contains("events 2024-W45"),
        "{index}"
    );
}

/// A week an earlier version recorded for two feeds (sent for one, then written for the
/// other) is one issue once the digest runs: the one sent is kept, with its web copy, and is
/// not sent again.
#[test]
fn a_week_recorded_for_two_feeds_is_kept_once_and_not_sent_again() {
    let sink = Sink::start("accept");
    let fx = Fixture::new(Some(sink.port));
    let mut store = fx.store();
    let issue = |feed: &str, delivered: bool| feedwright::store::digest::DigestIssue {
        week: "2024-W46".into(),
        subject: format!("{feed} W46"),
        message_id: format!("digest.{feed}.2024-W46@example.org"),
        sent_at: utc("2024-11-18T13:00:00Z"),
        delivered,
        titles: vec!["Water treaties on shared rivers".into()],
    };
    let water = [EntryId("https://example.org/water-treaties/".into())];
    store
        .record_digest_issue("all", &issue("all", true), &water)
        .expect("record");
    drop(store);
    // The written one: recorded by an earlier version, which recorded a week once per feed
    // (this one refuses a second record of a week).
    {
        let conn = rusqlite::Connection::open(fx.dir.path().join("fw.db")).expect("sqlite");
        conn.execute(
            "INSERT INTO digest_issue (feed, week, subject, message_id, sent_at, delivered, titles)
             VALUES ('negotiation', '2024-W46', 'negotiation W46',
                     'digest.negotiation.2024-W46@example.org', 1731934800, 0, '[]')",
            [],
        )
        .expect("insert");
    }
    let sent_copy = fx.dir.path().join("out/all/digest");
    std::fs::create_dir_all(&sent_copy).unwrap();
    std::fs::write(sent_copy.join("2024-W46.html"), "the issue sent").unwrap();
    std::fs::create_dir_all(fx.out("")).unwrap();
    std::fs::write(fx.out("2024-W46.html"), "the issue written, never sent").unwrap();

    let out = fx.run(&fx.opts()).expect("run");
    assert_eq!(
        out,
        DigestOutcome::AlreadySent {
            week: "2024-W46".into()
        }
    );
    assert!(sink.messages().is_empty(), "the week went out for feed all");
    let store = fx.store();
    let kept = store
        .digest_issue("negotiation", "2024-W46")
        .expect("q")
        .expect("one record");
    assert!(kept.delivered);
    assert_eq!(kept.message_id, "digest.all.2024-W46@example.org");
    assert_eq!(store.digest_issue("all", "2024-W46").expect("q"), None);
    drop(store);
    assert_eq!(
        std::fs::read_to_string(fx.out("2024-W46.html")).unwrap(),
        "the issue sent"
    );
}

/// Run the fixture's digest for real as of `now`.
fn run_at(fx: &Fixture, now: &str) -> DigestOutcome {
    digest::run(&fx.config(), &mut fx.store(), &fx.opts(), utc(now)).expect("digest")
}

/// Store a post of `slug` dated `published`, first seen at `first_seen`.
fn store_post(fx: &Fixture, slug: &str, published: &str, first_seen: &str) {
    fx.store()
        .upsert_entry(
            &entry(
                slug,
                &format!("Post {slug}"),
                published,
                "A post.",
                &["Water"],
            ),
            utc(first_seen),
        )
        .expect("upsert");
}

/// Whether the message `eml` links the post `slug`.
fn mails(eml: &Path, slug: &str) -> bool {
    std::fs::read_to_string(eml)
        .expect("message")
        .contains(&format!("https://example.org/{slug}/"))
}

/// `[digest] timezone` moved west between two issues (UTC to UTC-11): the week of the next
/// issue starts 11 hours after the last one ended. A post dated in those hours goes in the next
/// issue, whether the week before was sent or had nothing to send, not in none.
#[test]
fn a_post_between_two_weeks_counted_in_different_zones_goes_in_the_next_issue() {
    for last_week_sent in [true, false] {
        let sink = Sink::start("accept");
        let fx = Fixture::new(Some(sink.port));
        replace_in_config(&fx, "timezone = \"America/New_York\"", "timezone = \"UTC\"");
        if last_week_sent {
            store_post(&fx, "q", "2024-11-20T10:00:00Z", "2024-11-20T10:30:00Z");
        }
        // Monday 2024-11-25 05:00 UTC: in week 48 in UTC, Sunday evening in Pago Pago.
        store_post(&fx, "p", "2024-11-25T05:00:00Z", "2024-11-25T05:30:00Z");
        let w47 = run_at(&fx, "2024-11-25T12:00:00Z");
        assert_eq!(w47.week(), "2024-W47");
        assert_eq!(
            matches!(w47, DigestOutcome::Sent { entries: 1, .. }),
            last_week_sent,
            "{w47:?}"
        );
        replace_in_config(
            &fx,
            "timezone = \"UTC\"",
            "timezone = \"Pacific/Pago_Pago\"",
        );
        // Week 48 in Pago Pago: 2024-11-25 11:00 UTC to 2024-12-02 11:00 UTC.
        let preview = digest::run(
            &fx.config(),
            &mut fx.store(),
            &DigestOptions {
                dry_run: true,
                ..fx.opts()
            },
            utc("2024-12-02T20:00:00Z"),
        )
        .expect("dry run");
        assert!(
            matches!(preview, DigestOutcome::DryRun { entries: 1, .. }),
            "{preview:?}"
        );
        let w48 = run_at(&fx, "2024-12-02T20:00:00Z");
        assert!(
            matches!(&w48, DigestOutcome::Sent { week, entries: 1, .. } if week == "2024-W48"),
            "last week sent: {last_week_sent}: {w48:?}"
        );
        let messages = sink.messages();
        let last = messages.last().expect("a message");
        assert!(
            mails(last, "p"),
            "{}",
            std::fs::read_to_string(last).unwrap()
        );
        let w49 = run_at(&fx, "2024-12-09T20:00:00Z");
        assert_eq!(
            w49,
            DigestOutcome::SkippedNothingNew {
                week: "2024-W49".into()
            }
        );
        assert_eq!(sink.messages().len(), 1 + usize::from(last_week_sent));
        let window = fx
            .store()
            .digest_window("2024-W48")
            .expect("q")
            .expect("recorded");
        assert_eq!(window.timezone, "Pacific/Pago_Pago");
        assert_eq!(window.start, utc("2024-11-25T00:00:00Z"));
        assert_eq!(window.end, utc("2024-12-02T11:00:00Z"));
    }
}

/// The same change after an upgrade: the issue of the week before was recorded by a version
/// that did not record the time it covered, so its week may have ended as early as any zone's
/// Monday. The post between the two weeks goes in the next issue all the same.
#[test]
fn a_post_after_an_issue_recorded_without_its_time_is_not_lost() {
    let sink = Sink::start("accept");
    let fx = Fixture::new(Some(sink.port));
    replace_in_config(
        &fx,
        "timezone = \"America/New_York\"",
        "timezone = \"Pacific/Pago_Pago\"",
    );
    store_post(&fx, "q", "2024-11-20T10:00:00Z", "2024-11-20T10:30:00Z");
    store_post(&fx, "p", "2024-11-25T05:00:00Z", "2024-11-25T05:30:00Z");
    // Week 47 as an earlier version sent it, counted in UTC: Q, not P.
    let issue = feedwright::store::digest::DigestIssue {
        week: "2024-W47".into(),
        subject: "W47".into(),
        message_id: "digest.negotiation.2024-W47@example.org".into(),
        sent_at: utc("2024-11-25T08:00:00Z"),
        delivered: true,
        titles: vec!["Post q".into()],
    };
    fx.store()
        .record_digest_issue(
            "negotiation",
            &issue,
            &[EntryId("https://example.org/q/".into())],
        )
        .expect("record");
    let w48 = run_at(&fx, "2024-12-02T20:00:00Z");
    assert!(
        matches!(&w48, DigestOutcome::Sent { week, entries: 1, .. } if week == "2024-W48"),
        "{w48:?}"
    );
    let messages = sink.messages();
    assert!(mails(&messages[0], "p"));
}

/// `[digest] timezone` moved east between two issues (UTC-11 to UTC): the two weeks overlap by
/// 11 hours. A post of those hours the first issue mailed is not mailed again; one first seen
/// after it was sent goes in the second.
#[test]
fn weeks_overlapping_after_a_zone_change_mail_no_post_twice() {
    let sink = Sink::start("accept");
    let fx = Fixture::new(Some(sink.port));
    replace_in_config(
        &fx,
        "timezone = \"America/New_York\"",
        "timezone = \"Pacific/Pago_Pago\"",
    );
    // Week 47 in Pago Pago: 2024-11-18 11:00 UTC to 2024-11-25 11:00 UTC.
    store_post(&fx, "r", "2024-11-25T05:00:00Z", "2024-11-25T05:30:00Z");
    let w47 = run_at(&fx, "2024-11-25T20:00:00Z");
    assert!(
        matches!(&w47, DigestOutcome::Sent { week, entries: 1, .. } if week == "2024-W47"),
        "{w47:?}"
    );
    // Dated in the overlap, first seen once week 47's issue was sent.
    store_post(&fx, "s", "2024-11-25T06:00:00Z", "2024-11-25T22:00:00Z");
    replace_in_config(
        &fx,
        "timezone = \"Pacific/Pago_Pago\"",
        "timezone = \"UTC\"",
    );
    // Week 48 in UTC: 2024-11-25 00:00 to 2024-12-02 00:00.
    let w48 = run_at(&fx, "2024-12-02T12:00:00Z");
    assert!(
        matches!(&w48, DigestOutcome::Sent { week, entries: 1, .. } if week == "2024-W48"),
        "{w48:?}"
    );
    let messages = sink.messages();
    assert_eq!(messages.len(), 2);
    assert!(mails(&messages[0], "r") && !mails(&messages[0], "s"));
    assert!(mails(&messages[1], "s") && !mails(&messages[1], "r"));
    assert_eq!(
        fx.store()
            .digest_window("2024-W48")
            .expect("q")
            .expect("recorded")
            .start,
        utc("2024-11-25T00:00:00Z"),
        "an overlap leaves the week as it is"
    );
}

/// Replace the fixture's one recipient with `list` (TOML strings, comma-separated).
/// Replace the fixture's `unsubscribe_url` line with one giving `url`, or remove it (`None`).
fn set_unsubscribe_url(fx: &Fixture, url: Option<&str>) {
    let text = std::fs::read_to_string(fx.config_path()).expect("read config");
    let changed: String = text
        .lines()
        .filter_map(|l| match (l.starts_with("unsubscribe_url"), url) {
            (false, _) => Some(format!("{l}\n")),
            (true, Some(u)) => Some(format!("unsubscribe_url = {u:?}\n")),
            (true, None) => None,
        })
        .collect();
    assert_ne!(changed, text, "the fixture sets unsubscribe_url");
    std::fs::write(fx.config_path(), changed).expect("write config");
}

fn set_recipients(fx: &Fixture, list: &str) {
    let text = std::fs::read_to_string(fx.config_path()).expect("read config");
    let to = format!("to = [{list}]");
    std::fs::write(
        fx.config_path(),
        text.replace(r#"to = ["list@example.org"]"#, &to),
    )
    .expect("write config");
}

/// A recipient put off for now (`451`, greylisting) gets the issue like the others: nothing is
/// sent to anyone on that attempt (a temporary error naming the address, worth retrying), and
/// the retry sends it to every recipient once.
#[test]
fn a_recipient_put_off_for_now_makes_the_whole_send_wait_for_a_retry() {
    let sink = Sink::start("putoff=ben@example.org");
    let fx = Fixture::new(Some(sink.port));
    set_recipients(&fx, r#""ana@example.org", "ben@example.org""#);
    let err = fx.run(&fx.opts()).expect_err("put off");
    let shown = err.to_string();
    assert!(
        shown.contains("the server put off a recipient: ben@example.org (")
            && shown.contains("451")
            && shown.contains("nothing was sent"),
        "{shown}"
    );
    assert!(err.is_retryable(), "{err}");
    assert!(sink.messages().is_empty());
    assert!(
        fx.store()
            .digest_issue("negotiation", "2024-W46")
            .expect("q")
            .is_none()
    );
    let sent = fx.run(&fx.opts()).expect("retry");
    assert!(
        matches!(&sent, DigestOutcome::Sent { recipients: 2, refused, .. } if refused.is_empty()),
        "{sent:?}"
    );
    let msgs = sink.messages();
    assert_eq!(msgs.len(), 1);
    assert_eq!(
        sink.recipients(&msgs[0]),
        ["ana@example.org", "ben@example.org"]
    );
}

/// Five recipients, as `digest.to` lists them.
const FIVE: &str =
    r#""a@example.org", "b@example.org", "c@example.org", "d@example.org", "e@example.org""#;

/// [`FIVE`] through a server taking two recipients per message.
const TWO_BY_TWO: [&[&str]; 3] = [
    &["a@example.org", "b@example.org"],
    &["c@example.org", "d@example.org"],
    &["e@example.org"],
];

/// The envelope recipients of each message the sink accepted, in order.
fn batches(sink: &Sink) -> Vec<Vec<String>> {
    sink.messages().iter().map(|m| sink.recipients(m)).collect()
}

/// Running the digest again finds the week sent and sends nothing: the sink still holds
/// `messages`.
fn sends_nothing_again(fx: &Fixture, sink: &Sink, messages: usize) {
    let again = fx.run(&fx.opts()).expect("again");
    assert!(
        matches!(again, DigestOutcome::AlreadySent { .. }),
        "{again:?}"
    );
    assert_eq!(sink.messages().len(), messages);
}

/// `outcome` is an issue sent to `recipients` (those reached on an earlier attempt included)
/// and refused for `address` alone, which makes it exit 1: that refusal.
fn refused_one(outcome: &DigestOutcome, recipients: usize, address: &str) -> digest::mail::Refusal {
    let DigestOutcome::Sent {
        recipients: reached,
        refused,
        ..
    } = outcome
    else {
        panic!("{outcome:?}");
    };
    assert_eq!(*reached, recipients, "{outcome}");
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0].address, address);
    assert_eq!(outcome.exit_code(), 1, "a refusal is a failure to report");
    refused[0].clone()
}

/// A server that takes only so many recipients per message (`452 4.5.3` past them) gets the
/// issue in as many messages as it takes, the same message each time: every recipient gets it
/// once, and a recipient refused for good in a later batch is named like any other.
#[test]
fn a_server_taking_few_recipients_per_message_gets_the_issue_in_batches() {
    let sink = Sink::start("limit=2");
    let fx = Fixture::new(Some(sink.port));
    set_recipients(&fx, FIVE);
    let sent = fx.run(&fx.opts()).expect("sent");
    assert!(
        matches!(&sent, DigestOutcome::Sent { recipients: 5, earlier: 0, refused, .. } if refused.is_empty()),
        "{sent:?}"
    );
    assert_eq!(sent.exit_code(), 0);
    assert!(
        sent.to_string().contains("sent 5 posts to 5 recipients (<"),
        "{sent}"
    );
    assert_eq!(batches(&sink), TWO_BY_TWO);
    let bodies: Vec<Vec<u8>> = sink
        .messages()
        .iter()
        .map(|m| std::fs::read(m).expect("read"))
        .collect();
    assert!(
        bodies.windows(2).all(|w| w[0] == w[1]),
        "one message, sent three times"
    );
    assert!(
        fx.store()
            .digest_issue("negotiation", "2024-W46")
            .expect("q")
            .is_some_and(|i| i.delivered)
    );

    // A refusal in the second batch: the others still get it, once.
    let sink = Sink::start("limit=2+refuse=c@example.org");
    let fx = Fixture::new(Some(sink.port));
    set_recipients(&fx, FIVE);
    let sent = fx.run(&fx.opts()).expect("sent");
    refused_one(&sent, 4, "c@example.org");
    assert_eq!(
        batches(&sink),
        [
            vec!["a@example.org", "b@example.org"],
            vec!["d@example.org", "e@example.org"]
        ]
    );
}

/// When the server puts a recipient off (`451`) after earlier batches went out, nothing more
/// is sent on that attempt; the recipients reached are recorded, and the retry sends the issue
/// to the others alone: each recipient gets it once, and the issue is recorded as sent.
#[test]
fn a_send_stopped_after_some_batches_reaches_only_the_others_on_the_retry() {
    let sink = Sink::start("limit=2+putoff=d@example.org");
    let fx = Fixture::new(Some(sink.port));
    set_recipients(&fx, FIVE);
    let err = fx.run(&fx.opts()).expect_err("stopped");
    let shown = err.to_string();
    assert!(
        shown.contains("stopped after 2 of 5 recipients got it: the server put off a recipient: d@example.org (")
            && shown.contains("451")
            && shown.contains("the next run sends it to the others"),
        "{shown}"
    );
    assert!(!shown.contains("nothing was sent"), "{shown}");
    assert!(err.is_retryable(), "{err}");
    assert_eq!(err.exit_code(), 1);
    assert_eq!(batches(&sink), [vec!["a@example.org", "b@example.org"]]);
    let store = fx.store();
    assert!(
        store
            .digest_issue("negotiation", "2024-W46")
            .expect("q")
            .is_none()
    );
    assert_eq!(
        store.digest_reached("negotiation", "2024-W46").expect("q"),
        ["a@example.org", "b@example.org"]
    );
    drop(store);

    let sent = fx.run(&fx.opts()).expect("retry");
    assert!(
        matches!(&sent, DigestOutcome::Sent { recipients: 5, earlier: 2, refused, .. } if refused.is_empty()),
        "{sent:?}"
    );
    assert!(
        sent.to_string()
            .contains("to 5 recipients (<digest.negotiation.2024-W46@example.org>; 2 of them on an earlier attempt)"),
        "{sent}"
    );
    assert_eq!(batches(&sink), TWO_BY_TWO);
    let store = fx.store();
    assert!(
        store
            .digest_issue("negotiation", "2024-W46")
            .expect("q")
            .is_some_and(|i| i.delivered)
    );
    assert!(
        store
            .digest_reached("negotiation", "2024-W46")
            .expect("q")
            .is_empty(),
        "recorded as sent, the issue needs no list of whom it reached"
    );
    drop(store);
    sends_nothing_again(&fx, &sink, 3);

    // A retry that finds every other recipient refused for good: those reached before have
    // it, so the issue is sent, as when some are refused in one attempt, and recorded.
    let sink = Sink::start("limit=1+putoff=b@example.org");
    let fx = Fixture::new(Some(sink.port));
    set_recipients(&fx, r#""a@example.org", "b@example.org""#);
    let err = fx.run(&fx.opts()).expect_err("stopped");
    assert!(
        err.to_string()
            .contains("stopped after 1 of 2 recipients got it"),
        "{err}"
    );
    let refusing = Sink::start("refuse=b@example.org");
    set_smtp_port(&fx, refusing.port);
    let sent = fx.run(&fx.opts()).expect("sent");
    refused_one(&sent, 1, "b@example.org");
    assert!(
        matches!(sent, DigestOutcome::Sent { earlier: 1, .. }),
        "{sent:?}"
    );
    assert!(refusing.messages().is_empty());
    assert!(
        fx.store()
            .digest_issue("negotiation", "2024-W46")
            .expect("q")
            .is_some_and(|i| i.delivered)
    );
}

/// A recipient the server refuses is named with the server's answer, and the issue still goes
/// to the others, once: it is recorded as sent, so a later run sends nothing again. When the
/// server refuses every recipient, nothing is sent or recorded, and each address is named.
#[test]
fn a_refused_recipient_is_named_and_the_others_still_get_the_issue() {
    let sink = Sink::start("refuse=gone@example.org");
    let fx = Fixture::new(Some(sink.port));
    set_recipients(
        &fx,
        r#""ana@example.org", "gone@example.org", "ben@example.org""#,
    );
    let outcome = fx.run(&fx.opts()).expect("sent to the others");
    let refusal = refused_one(&outcome, 2, "gone@example.org");
    assert!(
        refusal.answer.contains("550") && refusal.answer.contains("no such user"),
        "{refusal:?}"
    );
    let shown = outcome.to_string();
    assert!(
        shown.starts_with("digest 2024-W46: sent 5 posts to 2 of 3 recipients (<"),
        "{shown}"
    );
    assert!(
        shown.contains("the server refused one: gone@example.org (") && shown.contains("550"),
        "{shown}"
    );
    let msgs = sink.messages();
    assert_eq!(msgs.len(), 1);
    assert_eq!(
        sink.recipients(&msgs[0]),
        ["ana@example.org", "ben@example.org"]
    );
    let recorded = fx
        .store()
        .digest_issue("negotiation", "2024-W46")
        .expect("q")
        .expect("recorded");
    assert!(recorded.delivered);
    // Recorded as sent: the others never get it twice.
    sends_nothing_again(&fx, &sink, 1);
    // Once the address is fixed, `--to` sends it the week's issue as sent, nothing recorded.
    let fixed = Sink::start("accept");
    set_smtp_port(&fx, fixed.port);
    let copy = fx
        .run(&DigestOptions {
            to: Some("gone@example.org".into()),
            ..fx.opts()
        })
        .expect("copy");
    assert!(
        matches!(copy, DigestOutcome::TestCopy { entries: 5, .. }),
        "{copy:?}"
    );
    assert_eq!(fixed.recipients(&fixed.messages()[0]), ["gone@example.org"]);

    // Refused with every recipient: nothing sent or recorded, every address named, and, as
    // the refusals are permanent, not worth retrying unchanged.
    let sink = Sink::start("refuse=ana@example.org,gone@example.org");
    let fx = Fixture::new(Some(sink.port));
    set_recipients(&fx, r#""ana@example.org", "gone@example.org""#);
    let err = fx.run(&fx.opts()).expect_err("every recipient refused");
    let shown = err.to_string();
    assert!(
        shown.contains("the server refused every recipient: ana@example.org (")
            && shown.contains("gone@example.org (")
            && shown.contains("nothing was sent"),
        "{shown}"
    );
    assert_eq!(err.exit_code(), 1);
    assert!(!err.is_retryable(), "{err}");
    assert!(sink.messages().is_empty());
    assert!(
        fx.store()
            .digest_issue("negotiation", "2024-W46")
            .expect("q")
            .is_none()
    );

    // A test copy to a refused address fails, naming it.
    let err = fx
        .run(&DigestOptions {
            to: Some("gone@example.org".into()),
            ..fx.opts()
        })
        .expect_err("refused test copy");
    let shown = err.to_string();
    assert!(
        shown.starts_with("sending the test copy via smtp://")
            && shown.contains("the server refused the recipient: gone@example.org (")
            && !shown.contains("next run"),
        "a test copy is never retried: {shown}"
    );
    assert!(sink.messages().is_empty());
}

/// `--now` chooses the week, not the time of sending: an issue sent (and a test copy) later
/// than `--now` is dated when it is sent, and recorded so (the list of issues shows that day).
#[test]
fn the_date_header_and_the_recorded_time_are_when_the_issue_is_sent() {
    let sink = Sink::start("accept");
    let fx = Fixture::new(Some(sink.port));
    // `Fixture::run` passes --now 2024-11-18T13:00:00Z, long before the test runs.
    let before = Utc::now() - chrono::Duration::seconds(1);
    let copy = fx
        .run(&DigestOptions {
            to: Some("editor@example.org".into()),
            ..fx.opts()
        })
        .expect("test copy");
    assert!(matches!(copy, DigestOutcome::TestCopy { .. }), "{copy:?}");
    let sent = fx.run(&fx.opts()).expect("real run");
    assert!(matches!(sent, DigestOutcome::Sent { .. }), "{sent:?}");
    let after = Utc::now() + chrono::Duration::seconds(1);
    let within = |what: &str, at: DateTime<Utc>| {
        assert!(
            before <= at && at <= after,
            "{what} is {at}, not the time of sending ({before} to {after})"
        );
    };
    let messages = sink.messages();
    assert_eq!(messages.len(), 2);
    for (what, path) in [
        ("the test copy's Date", &messages[0]),
        ("the issue's Date", &messages[1]),
    ] {
        let m = parse_message(path);
        let date = m["headers"]["Date"].as_str().expect("Date").to_owned();
        let date = DateTime::parse_from_rfc2822(&date)
            .unwrap_or_else(|e| panic!("{what}: {date:?}: {e}"))
            .with_timezone(&Utc);
        within(what, date);
    }
    // The public copy carries the same date as the message sent.
    let eml = std::fs::read_to_string(fx.out("2024-W46.eml")).expect("eml");
    let date = eml
        .lines()
        .find_map(|l| l.strip_prefix("Date: "))
        .expect("a Date header in the .eml");
    within(
        "the .eml's Date",
        DateTime::parse_from_rfc2822(date)
            .expect("date")
            .with_timezone(&Utc),
    );
    let issue = fx
        .store()
        .digest_issue("negotiation", "2024-W46")
        .expect("q")
        .expect("recorded");
    within("the recorded sent_at", issue.sent_at);
    let index = std::fs::read_to_string(fx.out("index.html")).expect("index");
    assert!(
        index.contains(&format!("— {}</li>", issue.sent_at.format("%Y-%m-%d"))),
        "{index}"
    );
    assert!(!index.contains("2024-11-18"), "{index}");
}

/// A template that renders nothing but whitespace would send a blank subject or an empty part
/// (with no unsubscribe link): `check` and the digest refuse it, naming the file, and nothing
/// is sent or recorded. `check` also refuses a body template without the unsubscribe link.
#[test]
fn templates_that_render_nothing_or_no_unsubscribe_link_are_refused() {
    let sink = Sink::start("accept");
    let fx = Fixture::new(Some(sink.port));
    let tdir = fx.dir.path().join("templates");
    std::fs::create_dir_all(&tdir).expect("mkdir");
    for (file, text) in [
        ("digest.html", ""),
        ("digest.html", "  \n{% if false %}<p>never</p>{% endif %}\n"),
        ("digest.txt", "\n\n   \n"),
        ("digest_subject.txt", "{% if false %}Weekly{% endif %}\n"),
    ] {
        std::fs::write(tdir.join(file), text).expect("write");
        let path = format!("templates/{file}");
        let err = digest::check_templates(&fx.config(), fx.dir.path()).expect_err(file);
        assert_eq!(err.exit_code(), 2, "{file}: {err}");
        let msg = err.to_string();
        assert!(
            msg.contains(&path) && msg.contains("renders to nothing"),
            "{file}: {msg}"
        );
        let err = fx.run(&fx.opts()).expect_err(file);
        assert_eq!(err.exit_code(), 2, "{file}: {err}");
        assert!(err.to_string().contains(&path), "{file}: {err}");
        std::fs::remove_file(tdir.join(file)).expect("rm");
    }
    // The binary's check says so and exits 2.
    std::fs::create_dir_all(fx.dir.path().join("posts")).expect("the source's folder");
    std::fs::write(tdir.join("digest.html"), "").expect("write");
    let (code, stdout, stderr) = common::feedwright(&fx.config_path(), &["check"]);
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(
        stderr.contains("templates/digest.html") && stderr.contains("renders to nothing"),
        "{stderr}"
    );
    std::fs::remove_file(tdir.join("digest.html")).expect("rm");
    // Parts that render but leave the unsubscribe link out.
    for (file, text) in [
        (
            "digest.html",
            "<p>{{ title }}</p>{% for e in entries %}<a href=\"{{ e.url }}\">{{ e.title }}</a>{% endfor %}",
        ),
        (
            "digest.txt",
            "{{ title }}\n{% for e in entries %}* {{ e.title }} {{ e.url }}\n{% endfor %}",
        ),
    ] {
        std::fs::write(tdir.join(file), text).expect("write");
        let err = digest::check_templates(&fx.config(), fx.dir.path()).expect_err(file);
        let msg = err.to_string();
        assert!(
            msg.contains(&format!("templates/{file}")) && msg.contains("no unsubscribe link"),
            "{file}: {msg}"
        );
        std::fs::remove_file(tdir.join(file)).expect("rm");
    }
    assert!(sink.messages().is_empty());
    assert!(
        fx.store()
            .digest_issue("negotiation", "2024-W46")
            .expect("q")
            .is_none()
    );
    digest::check_templates(&fx.config(), fx.dir.path()).expect("built-ins are valid");
}

/// A post withdrawn after a preview (made a draft, so out of the feeds) does not stay public
/// through the preview's files: the next digest of that week, a dry run or a real one, finds
/// nothing to send and removes them. An issue on record keeps its files.
#[test]
fn a_preview_of_a_post_withdrawn_since_does_not_stay_published() {
    let fx = Fixture::new(None);
    let posts = fx.dir.path().join("posts");
    std::fs::create_dir_all(&posts).expect("posts");
    let post = |draft: bool| {
        format!(
            "+++\ntitle = \"Embargoed announcement\"\ndate = 2024-11-20T12:00:00Z\n\
             url = \"https://example.org/embargo/\"\ndraft = {draft}\n+++\nNot yet public.\n"
        )
    };
    let cfg = fx.config_path();
    let run = |draft: bool| {
        std::fs::write(posts.join("embargo.md"), post(draft)).expect("write post");
        let (code, _, stderr) = common::feedwright(&cfg, &["run"]);
        assert_eq!(code, 0, "{stderr}");
    };
    let now = "2024-11-25T13:00:00Z";
    let files = ["2024-W47.html", "2024-W47.txt", "2024-W47.eml"];
    for real in [false, true] {
        run(false);
        let (code, stdout, stderr) =
            common::feedwright(&cfg, &["digest", "--now", now, "--dry-run"]);
        assert_eq!(code, 0, "{stderr}");
        assert!(stdout.contains("dry run: wrote"), "{stdout}");
        for f in files {
            let text = std::fs::read_to_string(fx.out(f)).expect(f);
            assert!(text.contains("Embargoed announcement"), "{f}");
        }
        // Withdrawn, then the week's digest: nothing to send, and the preview is gone.
        run(true);
        let args: &[&str] = if real {
            &["digest", "--now", now]
        } else {
            &["digest", "--now", now, "--dry-run"]
        };
        let (code, stdout, stderr) = common::feedwright(&cfg, args);
        assert_eq!(code, 0, "{stderr}");
        assert_eq!(stdout.trim_end(), "digest 2024-W47: skipped: nothing new");
        assert!(stderr.contains("are removed"), "{stderr}");
        for f in files {
            assert!(
                !fx.out(f).exists(),
                "{f} still published (real run: {real})"
            );
        }
    }
    // A recorded issue's files stay what was written, even once its week has nothing new.
    run(false);
    let (code, stdout, stderr) = common::feedwright(&cfg, &["digest", "--now", now]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("written (1 post;"), "{stdout}");
    run(true);
    let (code, stdout, _) = common::feedwright(&cfg, &["digest", "--now", now]);
    assert_eq!(code, 0);
    assert!(stdout.contains("already written"), "{stdout}");
    for f in files {
        assert!(fx.out(f).is_file(), "{f} of a recorded issue removed");
    }
}

/// `feedwright digest` (the real binary) for the fixture's week, with `env` set: exit code and
/// stderr.
fn digest_binary(fx: &Fixture, env: &[(&str, &str)]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_feedwright"))
        .arg("--config")
        .arg(fx.config_path())
        .args(["digest", "--now", "2024-11-18T13:00:00Z"])
        .envs(env.iter().copied())
        .env_remove("RUST_LOG")
        .output()
        .expect("run feedwright");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn append_to_config(fx: &Fixture, lines: &str) {
    let text = std::fs::read_to_string(fx.config_path()).expect("read config");
    std::fs::write(fx.config_path(), format!("{text}{lines}")).expect("write config");
}

fn replace_in_config(fx: &Fixture, from: &str, to: &str) {
    let text = std::fs::read_to_string(fx.config_path()).expect("read config");
    assert!(text.contains(from), "{from:?} not in {text}");
    std::fs::write(fx.config_path(), text.replace(from, to)).expect("write config");
}

/// A relay on loopback that insists on STARTTLS with a self-signed certificate (a stock local
/// Postfix's) is used: opportunistic TLS there checks no certificate.
#[test]
fn a_local_relay_with_a_self_signed_certificate_is_used_over_starttls() {
    let sink = Sink::start("starttls");
    let fx = Fixture::new(Some(sink.port));
    let outcome = fx.run(&fx.opts()).expect("sent over STARTTLS");
    assert!(matches!(outcome, DigestOutcome::Sent { .. }), "{outcome:?}");
    assert_eq!(sink.messages().len(), 1);
}

/// `smtps://` checks the certificate: one from a private CA is refused with a message naming
/// `digest.smtp_tls_ca`, and trusted once that names the CA's certificate. A file that holds
/// no certificate is a config error naming the key.
#[test]
fn smtps_checks_the_certificate_and_smtp_tls_ca_trusts_a_private_ca() {
    let sink = Sink::start("smtps");
    let fx = Fixture::new(Some(sink.port));
    replace_in_config(&fx, "smtp://127.0.0.1", "smtps://127.0.0.1");
    let err = fx.run(&fx.opts()).expect_err("an untrusted certificate");
    let shown = err.to_string();
    assert!(
        shown.contains(
            "(the server's TLS certificate is not trusted: for a certificate from a private CA, \
             set digest.smtp_tls_ca to that CA's certificate (PEM); opportunistic STARTTLS \
             (smtp:// to a relay on loopback, or with require_tls = false) checks no \
             certificate)"
        ),
        "{shown}"
    );
    assert!(sink.messages().is_empty());

    std::fs::write(fx.dir.path().join("not-a-cert.pem"), "hello").expect("write");
    append_to_config(&fx, "smtp_tls_ca = \"not-a-cert.pem\"\n");
    let err = Config::load(&fx.config_path()).expect_err("no certificate in it");
    assert!(
        err.to_string().contains("digest.smtp_tls_ca")
            && err.to_string().contains("no PEM certificate"),
        "{err}"
    );

    let ca = sink.dir.path().join("ca.pem");
    replace_in_config(
        &fx,
        "\"not-a-cert.pem\"",
        &format!("{:?}", ca.display().to_string()),
    );
    let outcome = fx.run(&fx.opts()).expect("sent once the CA is trusted");
    assert!(matches!(outcome, DigestOutcome::Sent { .. }), "{outcome:?}");
    assert_eq!(sink.messages().len(), 1);
}

/// Logging in: a server that asks for it, wrong credentials and an empty password each get a
/// message naming the settings to change; nothing is sent or recorded.
#[test]
fn smtp_login_problems_name_the_settings_to_change() {
    let sink = Sink::start("auth=fwuser:right");
    let fx = Fixture::new(Some(sink.port));
    let (code, stderr) = digest_binary(&fx, &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains(
            "(the server asks to log in first: set digest.smtp_username_env and smtp_password_env)"
        ),
        "{stderr}"
    );

    append_to_config(
        &fx,
        "smtp_username_env = \"FW_T_USER\"\nsmtp_password_env = \"FW_T_PASS\"\n",
    );
    let (code, stderr) = digest_binary(&fx, &[("FW_T_USER", "fwuser"), ("FW_T_PASS", "wrong")]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains(
            "the server refused to log in as \"fwuser\": check FW_T_USER and FW_T_PASS, named \
             by digest.smtp_username_env and smtp_password_env"
        ),
        "{stderr}"
    );
    assert!(
        !stderr.contains("wrong"),
        "the password is never shown: {stderr}"
    );

    let (code, stderr) = digest_binary(&fx, &[("FW_T_USER", "fwuser"), ("FW_T_PASS", "")]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("digest.smtp_password_env")
            && stderr.contains("FW_T_PASS is set but empty"),
        "{stderr}"
    );
    assert!(sink.messages().is_empty());

    let (code, stderr) = digest_binary(&fx, &[("FW_T_USER", "fwuser"), ("FW_T_PASS", "right")]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(sink.messages().len(), 1);
}

/// A sender at an internationalized domain: the addresses, the `Message-ID` and the `List-Id`
/// carry its ASCII (punycode) form, so the message needs no SMTPUTF8 and every header is
/// valid.
#[test]
fn a_sender_at_an_internationalized_domain_is_sent_in_ascii() {
    let sink = Sink::start("accept");
    let fx = Fixture::new(Some(sink.port));
    replace_in_config(
        &fx,
        "from = \"Negotiation Digest <digest@example.org>\"",
        "from = \"Dïgest <digest@münchen.example>\"",
    );
    replace_in_config(
        &fx,
        "public_url = \"https://example.org/feeds/\"",
        "public_url = \"https://bücher.example/my feeds/\"",
    );
    fx.run(&fx.opts()).expect("sent");
    let msgs = sink.messages();
    assert_eq!(msgs.len(), 1);
    let raw = std::fs::read(&msgs[0]).expect("read message");
    assert!(raw.is_ascii(), "{}", String::from_utf8_lossy(&raw));
    let m = parse_message(&msgs[0]);
    let h = &m["headers"];
    assert_eq!(
        h["Message-ID"], "<digest.negotiation.2024-W46@xn--mnchen-3ya.example>",
        "{h}"
    );
    assert!(
        h["From"]
            .as_str()
            .is_some_and(|f| f.ends_with("<digest@xn--mnchen-3ya.example>")),
        "{h}"
    );
    assert_eq!(m["list_id"]["id"], "negotiation.xn--mnchen-3ya.example");
    assert_eq!(
        h["List-Archive"],
        "<https://xn--bcher-kva.example/my%20feeds/negotiation/digest/index.html>",
        "{h}"
    );
}

/// Headers for automatic mail: no out-of-office reply goes back to the sender (RFC 3834),
/// `List-Archive` links the issues' page, and no header line is longer than 998 characters
/// even with a title of one very long word; an unsubscribe URL too long for its header line
/// is a config error naming the key.
#[test]
fn list_headers_mark_automatic_mail_and_no_header_line_is_too_long() {
    let sink = Sink::start("accept");
    let fx = Fixture::with_digest(
        Some(sink.port),
        &format!("title = \"{}\"\n", "W".repeat(1200)),
    );
    fx.run(&fx.opts()).expect("sent");
    let msgs = sink.messages();
    assert_eq!(msgs.len(), 1);
    let raw = String::from_utf8_lossy(&std::fs::read(&msgs[0]).expect("read")).into_owned();
    let longest = raw.split("\r\n").map(str::len).max().unwrap_or(0);
    assert!(longest <= 998, "a line of {longest} characters");
    let m = parse_message(&msgs[0]);
    let h = &m["headers"];
    assert_eq!(h["Auto-Submitted"], "auto-generated", "{h}");
    assert_eq!(h["Precedence"], "list", "{h}");
    assert_eq!(
        h["List-Archive"], "<https://example.org/feeds/negotiation/digest/index.html>",
        "{h}"
    );
    assert!(
        h["Subject"]
            .as_str()
            .is_some_and(|s| s.chars().count() <= 250),
        "{h}"
    );

    let prefix = "https://example.org/u?t=";
    let longest_url = format!(
        "{prefix}{}",
        "a".repeat(feedwright::config::MAX_UNSUBSCRIBE_URL - prefix.len())
    );
    assert_eq!(longest_url.len(), feedwright::config::MAX_UNSUBSCRIBE_URL);
    set_unsubscribe_url(&fx, Some(&longest_url));
    Config::load(&fx.config_path()).expect("the longest URL that fits");
    set_unsubscribe_url(&fx, Some(&format!("{longest_url}a")));
    let err = Config::load(&fx.config_path()).expect_err("one character too many");
    assert!(
        err.to_string().contains("digest.unsubscribe_url")
            && err.to_string().contains("at most 978"),
        "{err}"
    );
}

/// The `dateformat` filter lets a template put a date in its language's own word order, with
/// `[digest] locale`'s names: a day (`e.date`, `start_date`, `end_date`) as it is, an instant
/// (`e.date_iso`) in the digest's time zone. A bad format, or a value that is no date, is an
/// error naming the file and line, for `run` and `check` alike.
#[test]
fn the_dateformat_filter_writes_dates_in_the_templates_order_and_the_locales_names() {
    let txt = |body: &str| format!("{{{{ title }}}}\n{body}\n{{{{ unsubscribe_url }}}}\n");
    let cases = [
        (
            "es_ES",
            "{{ start_date | dateformat(\"%-d\") }}–{{ end_date | dateformat(\"%-d de %B de %Y\") }}\n\
             {% for e in entries %}{{ e.date | dateformat(\"%A %-d de %B de %Y\") }}\n{% endfor %}",
            vec![
                "11–17 de noviembre de 2024",
                "martes 12 de noviembre de 2024",
            ],
        ),
        (
            // A bare language and `$LANG`'s spelling name the same locales.
            "ja",
            "{{ end_date | dateformat(\"%Y年%-m月%-d日(%a)\") }}",
            vec!["2024年11月17日(日)"],
        ),
        (
            "de_DE.UTF-8",
            "{% for e in entries %}{{ e.date | dateformat(\"%a, %-d. %B %Y\") }}\n{% endfor %}",
            vec!["Di, 12. November 2024"],
        ),
        (
            // Without a locale: English names; an instant is seen in New York time (15:00 UTC
            // is 10:00 there).
            "",
            "{% for e in entries %}{{ e.date_iso | dateformat(\"%A %-d %B %Y, %H:%M\") }}\n{% endfor %}",
            vec!["Tuesday 12 November 2024, 10:00"],
        ),
    ];
    for (locale, body, expected) in cases {
        let extra = if locale.is_empty() {
            String::new()
        } else {
            format!("locale = \"{locale}\"\n")
        };
        let fx = Fixture::with_digest(None, &extra);
        let tdir = fx.dir.path().join("templates");
        std::fs::create_dir_all(&tdir).expect("mkdir");
        std::fs::write(tdir.join("digest.txt"), txt(body)).expect("write");
        digest::check_templates(&fx.config(), fx.dir.path())
            .unwrap_or_else(|e| panic!("{locale}: {e}"));
        fx.dry_run();
        let text = std::fs::read_to_string(fx.out("2024-W46.txt")).expect("text");
        for want in expected {
            assert!(text.contains(want), "{locale}: {want:?} in {text}");
        }
    }

    let fx = Fixture::with_digest(None, "locale = \"fr_FR\"\n");
    let tdir = fx.dir.path().join("templates");
    std::fs::create_dir_all(&tdir).expect("mkdir");
    for (body, says) in [
        (
            "{% for e in entries %}\n{{ e.date | dateformat(\"%-d %Q\") }}\n{% endfor %}",
            "not a valid date format",
        ),
        ("\n{{ title | dateformat(\"%Y\") }}", "is not a date"),
        (
            "\n{{ start_date | dateformat(\"%H:%M\") }}",
            "a time of day",
        ),
    ] {
        std::fs::write(tdir.join("digest.txt"), txt(body)).expect("write");
        let err = digest::check_templates(&fx.config(), fx.dir.path()).expect_err(body);
        let msg = err.to_string();
        assert_eq!(err.exit_code(), 2, "{msg}");
        assert!(msg.contains("templates/digest.txt:3"), "{body}: {msg}");
        assert!(
            msg.contains("dateformat") && msg.contains(says),
            "{body}: {msg}"
        );
        let err = fx.run(&fx.opts()).expect_err("run");
        assert!(err.to_string().contains("templates/digest.txt:3"), "{err}");
    }
}

/// With a right-to-left locale the built-in templates isolate the dates, so they do not
/// reorder the line they are on: `dir="auto"` elements in the HTML, U+2068 … U+2069 in the text
/// part. In a left-to-right locale the text part carries no isolate.
#[test]
fn dates_in_a_right_to_left_locale_are_isolated_in_the_built_in_templates() {
    use chrono::{Locale, NaiveDate};
    let fx = Fixture::with_digest(None, "locale = \"he_IL\"\n");
    fx.dry_run();
    let day = |d: u32, fmt: &str| {
        NaiveDate::from_ymd_opt(2024, 11, d)
            .expect("day")
            .format_localized(fmt, Locale::he_IL)
            .to_string()
    };
    let range = format!("11–{}", day(17, "%-d %B %Y"));
    let human = day(12, "%a %-d %b %Y");
    let html = std::fs::read_to_string(fx.out("2024-W46.html")).expect("html");
    assert!(
        html.contains(&format!("<span dir=\"auto\">{range}</span>")),
        "{range}: {html}"
    );
    assert!(
        html.contains(&format!("<span dir=\"auto\">{human}</span>")),
        "{human}: {html}"
    );
    let text = std::fs::read_to_string(fx.out("2024-W46.txt")).expect("text");
    assert!(
        text.contains(&format!("(\u{2068}{range}\u{2069})")),
        "{range}: {text}"
    );
    assert!(
        text.contains(&format!("\u{2068}{human}\u{2069}")),
        "{human}: {text}"
    );

    let fx = Fixture::with_digest(None, "locale = \"fr_FR\"\n");
    fx.dry_run();
    let text = std::fs::read_to_string(fx.out("2024-W46.txt")).expect("text");
    assert!(!text.contains('\u{2068}'), "{text}");
}

/// The list of issues (`index.html`, `atom.xml`) holds no English words of its own: it is
/// titled with the digest's title, and names the digest feed's language (`[[feed]]
/// language`) when it has one, none otherwise; each subject and the title has `dir="auto"`.
#[test]
fn the_list_of_issues_speaks_the_feeds_language_and_no_other() {
    for language in [Some("ar"), None] {
        let fx = Fixture::new(None);
        if let Some(l) = language {
            let path = fx.config_path();
            let text = std::fs::read_to_string(&path).expect("cfg");
            let text = text.replace(
                "title = \"Negotiation Weekly\"\n",
                &format!("title = \"Negotiation Weekly\"\nlanguage = \"{l}\"\n"),
            );
            std::fs::write(&path, text).expect("write cfg");
        }
        let written = fx.run(&fx.opts()).expect("written");
        assert!(
            matches!(written, DigestOutcome::Written { .. }),
            "{written:?}"
        );
        let index = std::fs::read_to_string(fx.out("index.html")).expect("index");
        let atom = std::fs::read_to_string(fx.out("atom.xml")).expect("atom");
        match language {
            Some(l) => {
                assert!(index.contains(&format!("<html lang=\"{l}\">")), "{index}");
                assert!(atom.contains(&format!("xml:lang=\"{l}\"")), "{atom}");
            }
            None => {
                assert!(index.contains("<html>\n"), "{index}");
                assert!(!atom.contains("xml:lang"), "{atom}");
            }
        }
        assert!(!index.contains("issues"), "no English words: {index}");
        assert!(
            index.contains("<title>Negotiation Weekly</title>"),
            "{index}"
        );
        assert!(
            index.contains("<h1 dir=\"auto\">Negotiation Weekly</h1>"),
            "{index}"
        );
        assert!(
            index.contains("href=\"2024-W46.html\" dir=\"auto\""),
            "{index}"
        );
        let feed = atom_syndication::Feed::read_from(atom.as_bytes()).expect("atom");
        assert_eq!(feed.title().as_str(), "Negotiation Weekly");
        assert_eq!(feed.lang(), language);
    }
}
