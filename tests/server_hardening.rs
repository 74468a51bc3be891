//! Hardening of the server after an audit, on loopback with real sockets (the library's server
//! or the real binary): what each test names.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use feedwright::config::Config;
use feedwright::server;
use tokio::sync::oneshot;

/// A configuration in a temporary folder, a feed file in its `output_dir`, and the library's
/// server on it (`[server] listen` on loopback, `server_keys` added to the table).
struct Served {
    _dir: tempfile::TempDir,
    cfg: Config,
    addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), server::ServerError>>,
}

const CONFIG: &str = "output_dir = \"feeds\"\n\
     public_url = \"http://127.0.0.1/\"\n\
     [store]\npath = \"feedwright.db\"\n\
     [[source]]\nname = \"site\"\nurl = \"https://site.example.org/\"\n\
     [[feed]]\nname = \"daily\"\nsources = [\"site\"]\n";

impl Served {
    async fn start(server_keys: &str) -> Served {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = common::write_config(
            dir.path(),
            &format!("{CONFIG}[server]\nlisten = \"127.0.0.1:0\"\n{server_keys}\n"),
        );
        let cfg = Config::load(&path).expect("valid config");
        let feed = cfg.output_dir.join("daily/atom.xml");
        std::fs::create_dir_all(feed.parent().expect("folder")).expect("mkdir");
        std::fs::write(
            &feed,
            "<feed xmlns=\"http://www.w3.org/2005/Atom\"></feed>\n",
        )
        .expect("write");
        let listener = server::bind(&cfg).await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop, stopped) = oneshot::channel::<()>();
        let c = cfg.clone();
        let task = tokio::spawn(async move {
            let shutdown = async move {
                let _ = stopped.await;
            };
            server::serve(&c, listener, shutdown, Duration::from_secs(1)).await
        });
        Served {
            _dir: dir,
            cfg,
            addr,
            stop,
            task,
        }
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .expect("stops within 10 s")
            .expect("join")
            .expect("ended cleanly");
    }
}

use std::io::{Read, Write};
use std::net::TcpStream;

/// Send `head` on a new connection and read until the server closes it (at most `limit`):
/// the status code (0 if none came) and the whole answer.
fn exchange(addr: SocketAddr, head: &str, limit: Duration) -> (u16, String) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(limit)).expect("timeout");
    s.write_all(head.as_bytes()).expect("send");
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let out = String::from_utf8_lossy(&out).into_owned();
    (status_of(&out), out)
}

fn status_of(answer: &str) -> u16 {
    answer
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

/// A store being created reads as "no runs yet".
mod store_being_created {
    use super::*;
    use std::path::{Path, PathBuf};
    use std::sync::{Arc, Mutex};

    use feedwright::store::Store;

    /// Remove the database at `db` and the files beside it.
    fn remove_db(db: &Path) {
        for suffix in ["", "-wal", "-shm", ".lock"] {
            let mut p = db.as_os_str().to_owned();
            p.push(suffix);
            let _ = std::fs::remove_file(PathBuf::from(p));
        }
    }

    /// A database file that exists but holds no schema yet (the first run has just created it,
    /// or is inside the transaction that creates the schema) is no outage: no runs yet.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_store_being_created_reads_as_no_runs_yet() {
        let s = Served::start("").await;
        let db = s.cfg.store.path.clone();
        let health = format!("http://{}/healthz", s.addr);
        let metrics = format!("http://{}/metrics", s.addr);
        let c = reqwest::Client::new();
        type Setup<'a> = &'a dyn Fn(&Path);
        let setups: [(&str, Setup); 3] = [
            ("an empty file", &|p| std::fs::write(p, b"").expect("write")),
            ("a WAL database without tables", &|p| {
                let conn = rusqlite::Connection::open(p).expect("open");
                let _: String = conn
                    .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
                    .expect("wal");
            }),
            ("an empty migration history", &|p| {
                let conn = rusqlite::Connection::open(p).expect("open");
                conn.execute_batch(
                    "CREATE TABLE refinery_schema_history (version INTEGER PRIMARY KEY, \
                     name VARCHAR(255), applied_on VARCHAR(255), checksum VARCHAR(255));",
                )
                .expect("create");
            }),
        ];
        for (what, setup) in setups {
            remove_db(&db);
            setup(&db);
            let res = c.get(&health).send().await.expect("get");
            assert_eq!(res.status(), 200, "{what}");
            let body: serde_json::Value =
                serde_json::from_str(&res.text().await.expect("body")).expect("json");
            assert_eq!(body["status"], "no runs yet", "{what}: {body}");
            assert!(body["error"].is_null(), "{what}: {body}");
            let text = c
                .get(&metrics)
                .send()
                .await
                .expect("get")
                .text()
                .await
                .expect("text");
            assert!(text.contains("feedwright_store_readable 0"), "{what}");
        }
        // Once a run created it, it is read.
        remove_db(&db);
        drop(Store::open(&db).expect("create the store"));
        let text = c
            .get(&health)
            .send()
            .await
            .expect("get")
            .text()
            .await
            .expect("body");
        let body: serde_json::Value = serde_json::from_str(&text).expect("json");
        assert_eq!(body["status"], "ok", "{body}");
        s.stop().await;
    }

    /// A reader polling while stores are created from nothing never finds one half-made (some
    /// tables there, others not yet): the schema is created in one transaction.
    #[test]
    fn health_read_while_the_store_is_created_never_sees_an_outage() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = common::write_config(dir.path(), CONFIG);
        let cfg = Config::load(&path).expect("config");
        let statuses = Arc::new(Mutex::new(Vec::<String>::new()));
        // Without the single transaction, about one creation in ten shows a half-made schema.
        for _ in 0..24 {
            remove_db(&cfg.store.path);
            let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
            let reader = {
                let (cfg, done, statuses) = (cfg.clone(), done.clone(), statuses.clone());
                std::thread::spawn(move || {
                    while !done.load(std::sync::atomic::Ordering::SeqCst) {
                        let h = server::read_health(&cfg);
                        let line = format!("{}: {}", h.status, h.error.unwrap_or_default());
                        statuses.lock().expect("lock").push(line);
                        std::thread::sleep(Duration::from_micros(500));
                    }
                })
            };
            std::thread::sleep(Duration::from_millis(5));
            drop(Store::open(&cfg.store.path).expect("create the store"));
            std::thread::sleep(Duration::from_millis(5));
            done.store(true, std::sync::atomic::Ordering::SeqCst);
            reader.join().expect("reader");
        }
        let statuses = statuses.lock().expect("lock");
        let outages: Vec<&String> = statuses
            .iter()
            .filter(|s| s.starts_with("store unavailable"))
            .collect();
        assert!(
            outages.is_empty(),
            "{} of {} readings: {:?}",
            outages.len(),
            statuses.len(),
            outages.first()
        );
        assert!(
            statuses.iter().any(|s| s.starts_with("ok")),
            "read once made"
        );
    }
}

/// `Last-Modified` within its own second.
mod validators {
    use super::*;
    use chrono::{DateTime, Timelike, Utc};

    /// An HTTP-date as servers send it (IMF-fixdate).
    fn http_date(t: DateTime<Utc>) -> String {
        t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
    }

    /// Two versions of a file written within one second (two runs in a row): a reader revalidating
    /// with the date it got must not be told the second version is the first. Within its second
    /// the file has no `Last-Modified`, and a date alone gets no 304.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_change_within_the_same_second_is_not_hidden_by_if_modified_since() {
        let s = Served::start("").await;
        let file = s.cfg.output_dir.join("daily/atom.xml");
        let url = format!("http://{}/daily/atom.xml", s.addr);
        let c = reqwest::Client::new();
        let mut checked = false;
        for _ in 0..5 {
            // Start early in a second, so that both versions and the requests fit in it.
            let into = Utc::now().nanosecond() % 1_000_000_000;
            tokio::time::sleep(Duration::from_nanos(
                u64::from(1_000_000_000 - into) + 20_000_000,
            ))
            .await;
            let second = Utc::now().with_nanosecond(0).expect("second");
            std::fs::write(&file, "<feed>first</feed>\n").expect("write");
            let first = c.get(&url).send().await.expect("get");
            let no_date = first.headers().get("last-modified").is_none();
            let etag = first.headers()["etag"].to_str().expect("etag").to_owned();
            std::fs::write(&file, "<feed>second, longer</feed>\n").expect("write");
            let by_date = c
                .get(&url)
                .header("if-modified-since", http_date(second))
                .send()
                .await
                .expect("get");
            let by_date_status = by_date.status();
            let body = by_date.text().await.expect("body");
            let by_etag = c
                .get(&url)
                .header("if-none-match", &etag)
                .send()
                .await
                .expect("get");
            if Utc::now().with_nanosecond(0).expect("second") != second {
                continue; // the second ended meanwhile: try again
            }
            assert!(no_date, "Last-Modified sent within its own second");
            assert_eq!(by_date_status, 200, "If-Modified-Since within the second");
            assert_eq!(body, "<feed>second, longer</feed>\n");
            assert_eq!(by_etag.status(), 200, "the old ETag");
            checked = true;
            break;
        }
        assert!(checked, "never managed both writes within one second");
        // Once the second is over the date is a validator again.
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let res = c.get(&url).send().await.expect("get");
        let date = res.headers()["last-modified"]
            .to_str()
            .expect("date")
            .to_owned();
        let res = c
            .get(&url)
            .header("if-modified-since", &date)
            .send()
            .await
            .expect("get");
        assert_eq!(res.status(), 304);
        s.stop().await;
    }
}

/// 405 and 304 before 406, uniform 404 and 405 answers, the header-count limit.
mod status_codes {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn refusing_every_coding_comes_after_the_method_and_the_conditions() {
        let s = Served::start("").await;
        let c = reqwest::Client::builder()
            .no_gzip()
            .build()
            .expect("client");
        let url = format!("http://{}/daily/atom.xml", s.addr);
        let etag = c.get(&url).send().await.expect("get").headers()["etag"]
            .to_str()
            .expect("etag")
            .to_owned();
        let refuse = |req: reqwest::RequestBuilder| req.header("accept-encoding", "identity;q=0");
        let res = refuse(c.post(&url)).send().await.expect("post");
        assert_eq!(res.status(), 405);
        assert_eq!(res.headers()["allow"], "GET, HEAD");
        for tag in ["*", etag.as_str()] {
            let res = refuse(c.get(&url).header("if-none-match", tag))
                .send()
                .await
                .expect("get");
            assert_eq!(res.status(), 304, "If-None-Match: {tag}");
            assert_eq!(res.headers()["etag"], etag.as_str());
        }
        let res = refuse(c.get(&url).header("if-match", "\"other\""))
            .send()
            .await
            .expect("get");
        assert_eq!(res.status(), 412);
        // Nothing the conditions settle: none of the representations is acceptable.
        for req in [
            c.get(&url),
            c.head(&url),
            c.get(&url).header("range", "bytes=0-3"),
        ] {
            assert_eq!(refuse(req).send().await.expect("get").status(), 406);
        }
        let res = refuse(c.get(&url).header("if-none-match", "\"other\""))
            .send()
            .await
            .expect("get");
        assert_eq!(res.status(), 406);
        s.stop().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn not_found_and_method_not_allowed_read_the_same_everywhere() {
        let s = Served::start("").await;
        let c = reqwest::Client::new();
        let base = format!("http://{}", s.addr);
        for path in ["/daily/atom.xml/", "/daily/missing.xml", "/nothing/"] {
            let res = c.get(format!("{base}{path}")).send().await.expect("get");
            assert_eq!(res.status(), 404, "{path}");
            assert_eq!(res.text().await.expect("body"), "not found\n", "{path}");
        }
        for path in ["/", "/healthz", "/metrics", "/daily/atom.xml"] {
            for method in [reqwest::Method::POST, reqwest::Method::DELETE] {
                let res = c
                    .request(method.clone(), format!("{base}{path}"))
                    .send()
                    .await
                    .expect("send");
                assert_eq!(res.status(), 405, "{method} {path}");
                assert_eq!(res.headers()["allow"], "GET, HEAD", "{method} {path}");
                assert_eq!(
                    res.text().await.expect("body"),
                    "method not allowed\n",
                    "{method} {path}"
                );
            }
        }
        s.stop().await;
    }

    /// The documented limit on header fields: 100 (with `Host`) are served, 101 refused with 431.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_request_with_more_than_100_header_fields_is_refused_with_431() {
        let s = Served::start("").await;
        let addr = s.addr;
        assert_eq!(server::MAX_REQUEST_HEADERS, 100);
        for (fields, want) in [(100usize, 200u16), (101, 431)] {
            // `Host` and `Connection` count.
            let extra: String = (0..fields - 2).map(|i| format!("X-F{i}: v\r\n")).collect();
            let head = format!(
                "GET /daily/atom.xml HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{extra}\r\n"
            );
            let (code, _) =
                tokio::task::spawn_blocking(move || exchange(addr, &head, Duration::from_secs(5)))
                    .await
                    .expect("join");
            assert_eq!(code, want, "{fields} fields");
        }
        s.stop().await;
    }
}

/// Connections held by clients at the connection limit.
mod connections {
    use super::*;
    use std::sync::Arc;
    use std::time::Instant;

    /// `GET path` with `Connection: close`, answered within `limit`: the status code and how long
    /// the answer took.
    async fn timed_get(addr: SocketAddr, path: &str, limit: Duration) -> (u16, Duration) {
        let head = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        tokio::task::spawn_blocking(move || {
            let start = Instant::now();
            let (code, _) = exchange(addr, &head, limit);
            (code, start.elapsed())
        })
        .await
        .expect("join")
    }

    /// Whether the server closed `s` within `limit`.
    fn closed(s: &mut TcpStream, limit: Duration) -> bool {
        s.set_read_timeout(Some(limit)).expect("timeout");
        let mut buf = [0u8; 1024];
        loop {
            match s.read(&mut buf) {
                Ok(0) => return true,
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
                Err(_) => return false,
            }
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn silent_connections_at_the_limit_give_way_to_a_new_client_one_at_a_time() {
        let s = Served::start("max_connections = 8\ntimeout_secs = 30").await;
        let addr = s.addr;
        let mut silent: Vec<TcpStream> = (0..8)
            .map(|_| TcpStream::connect(addr).expect("connect"))
            .collect();
        tokio::time::sleep(Duration::from_millis(300)).await;
        // Before, the client waited for a silent connection's header timeout (30 s).
        let (code, took) = timed_get(addr, "/daily/atom.xml", Duration::from_secs(10)).await;
        assert_eq!(code, 200);
        assert!(took < Duration::from_secs(3), "answered after {took:?}");
        // The oldest made room, and only it.
        assert!(closed(&mut silent[0], Duration::from_secs(2)), "the oldest");
        let others = silent[1..]
            .iter_mut()
            .filter_map(|c| closed(c, Duration::from_millis(100)).then_some(()))
            .count();
        assert_eq!(others, 0, "more connections closed than a slot needed");
        s.stop().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn connections_trickling_their_request_heads_do_not_starve_new_clients() {
        let s = Served::start("max_connections = 8\ntimeout_secs = 30").await;
        let addr = s.addr;
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        // A slow-header client on every slot: one byte of a never-ending head every 200 ms.
        let tricklers: Vec<_> = (0..8)
            .map(|_| {
                let stop = stop.clone();
                std::thread::spawn(move || {
                    let mut c = TcpStream::connect(addr).expect("connect");
                    let _ = c.write_all(b"GET /daily/atom.xml HTTP/1.1\r\nHost: x\r\nX-Pad: ");
                    while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                        if c.write_all(b"a").is_err() {
                            return;
                        }
                        std::thread::sleep(Duration::from_millis(200));
                    }
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(500)).await;
        for round in 0..3 {
            let (code, took) = timed_get(addr, "/healthz", Duration::from_secs(10)).await;
            assert_eq!(code, 200, "round {round}");
            assert!(took < Duration::from_secs(3), "round {round}: {took:?}");
        }
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        for t in tricklers {
            t.join().expect("trickler");
        }
        s.stop().await;
    }

    /// More keep-alive clients than connections, each polling every 200 ms: every poll is
    /// answered soon (a client whose idle connection gave way opens another), where the clients
    /// left out waited for as long as the others kept polling.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn more_polling_keep_alive_clients_than_connections_are_all_answered() {
        let s = Served::start("max_connections = 8\ntimeout_secs = 30").await;
        let url = format!("http://{}/healthz", s.addr);
        let clients = (0..12).map(|_| {
            let url = url.clone();
            tokio::spawn(async move {
                let client = reqwest::Client::builder()
                    .pool_max_idle_per_host(1)
                    .timeout(Duration::from_secs(4))
                    .build()
                    .expect("client");
                let (mut answered, mut slowest) = (0u32, Duration::ZERO);
                let end = Instant::now() + Duration::from_secs(4);
                while Instant::now() < end {
                    let start = Instant::now();
                    // A request on a connection the server closed meanwhile fails: once more on a
                    // new one.
                    let mut ok = false;
                    for _ in 0..3 {
                        if let Ok(res) = client.get(&url).send().await
                            && res.status().is_success()
                            && res.bytes().await.is_ok()
                        {
                            ok = true;
                            break;
                        }
                    }
                    slowest = slowest.max(start.elapsed());
                    if ok {
                        answered += 1;
                    }
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                (answered, slowest)
            })
        });
        let results = futures_util::future::join_all(clients).await;
        for (i, r) in results.into_iter().enumerate() {
            let (answered, slowest) = r.expect("client");
            assert!(answered >= 5, "client {i}: {answered} answers");
            assert!(
                slowest < Duration::from_secs(2),
                "client {i} waited {slowest:?}"
            );
        }
        s.stop().await;
    }

    /// Requests in progress are limited per address, but not from loopback (a reverse proxy on
    /// the same host carries everyone's): more downloads than the limit from 127.0.0.1 are served.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn loopback_is_not_held_to_the_per_address_limit() {
        // 16 connections: 4 requests in progress per address.
        let s = Served::start("max_connections = 16").await;
        common::sparse_file(&s.cfg.output_dir.join("daily/big.xml"));
        let mut held = Vec::new();
        for _ in 0..6 {
            // Asked for and not read: in progress for as long as the test holds it.
            let mut c = TcpStream::connect(s.addr).expect("connect");
            c.write_all(b"GET /daily/big.xml HTTP/1.1\r\nHost: x\r\n\r\n")
                .expect("send");
            let mut first = [0u8; 12];
            c.set_read_timeout(Some(Duration::from_secs(5)))
                .expect("timeout");
            c.read_exact(&mut first).expect("an answer begins");
            assert_eq!(&first, b"HTTP/1.1 200");
            held.push(c);
        }
        let (code, _) = timed_get(s.addr, "/healthz", Duration::from_secs(5)).await;
        assert_eq!(code, 200);
        drop(held);
        s.stop().await;
    }
}

/// HTTP/1.0 framing.
mod framing {
    use super::*;
    use std::io::BufRead;

    /// A header of an answer as text (the first one of that name), lower-cased name.
    fn header_of<'a>(answer: &'a str, name: &str) -> Option<&'a str> {
        let head = answer.split("\r\n\r\n").next().unwrap_or("");
        head.lines().skip(1).find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    /// `/`, `/healthz` and `/metrics` are compressed as they are sent, without a length: an
    /// HTTP/1.0 client (no chunks) learns where such an answer ends from the connection closing,
    /// and is told so, instead of `keep-alive`.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn http_1_0_keep_alive_answers_without_a_length_say_the_connection_closes() {
        let s = Served::start("").await;
        let addr = s.addr;
        for path in ["/", "/healthz", "/metrics"] {
            let head = format!(
                "GET {path} HTTP/1.0\r\nAccept-Encoding: gzip\r\nConnection: keep-alive\r\n\r\n"
            );
            let (code, answer) =
                tokio::task::spawn_blocking(move || exchange(addr, &head, Duration::from_secs(5)))
                    .await
                    .expect("join");
            assert_eq!(code, 200, "{path}");
            assert_eq!(
                header_of(&answer, "content-encoding"),
                Some("gzip"),
                "{path}"
            );
            assert_eq!(header_of(&answer, "content-length"), None, "{path}");
            assert_eq!(
                header_of(&answer, "connection"),
                Some("close"),
                "{path}: {answer:.300}"
            );
        }
        // With a length, the connection is kept: a second request on it is answered.
        tokio::task::spawn_blocking(move || {
            let mut c = TcpStream::connect(addr).expect("connect");
            c.set_read_timeout(Some(Duration::from_secs(5)))
                .expect("timeout");
            let mut reader = std::io::BufReader::new(c.try_clone().expect("clone"));
            for round in 0..2 {
                c.write_all(b"GET /daily/atom.xml HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
                    .expect("send");
                let mut len = None;
                let mut line = String::new();
                loop {
                    line.clear();
                    reader.read_line(&mut line).expect("head");
                    if line == "\r\n" {
                        break;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        len = v.trim().parse::<usize>().ok();
                    }
                    if round == 0 && line.to_ascii_lowercase().starts_with("connection:") {
                        assert!(line.contains("keep-alive"), "{line}");
                    }
                }
                let mut body = vec![0u8; len.expect("a length")];
                reader.read_exact(&mut body).expect("body");
            }
        })
        .await
        .expect("join");
        s.stop().await;
    }
}

/// `feedwright serve` and SIGHUP.
mod sighup {
    use super::*;
    use std::io::BufRead;
    use std::path::Path;
    use std::sync::{Arc, Mutex};
    use std::time::Instant;

    use feedwright::store::Store;

    /// `feedwright serve` as a process, its log collected as it comes.
    struct ServeProcess {
        child: std::process::Child,
        log: Arc<Mutex<String>>,
        addr: String,
    }

    impl ServeProcess {
        fn start(config: &Path) -> ServeProcess {
            let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_feedwright"))
                .arg("--config")
                .arg(config)
                .arg("serve")
                .env_remove("RUST_LOG")
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("start serve");
            let log = Arc::new(Mutex::new(String::new()));
            let stderr = child.stderr.take().expect("stderr");
            {
                let log = log.clone();
                std::thread::spawn(move || {
                    for line in std::io::BufReader::new(stderr).lines() {
                        let Ok(line) = line else { break };
                        let mut log = log.lock().expect("log");
                        log.push_str(&line);
                        log.push('\n');
                    }
                });
            }
            let mut p = ServeProcess {
                child,
                log,
                addr: String::new(),
            };
            let first = p.wait_for("serving ", 1);
            p.addr = first
                .split("http://")
                .nth(1)
                .and_then(|rest| rest.split('/').next())
                .unwrap_or_else(|| panic!("no address in {first:?}"))
                .to_owned();
            p
        }

        /// Wait until the log holds `text` `times` times; the log then.
        fn wait_for(&self, text: &str, times: usize) -> String {
            let end = Instant::now() + Duration::from_secs(10);
            loop {
                let log = self.log.lock().expect("log").clone();
                if log.matches(text).count() >= times {
                    return log;
                }
                assert!(Instant::now() < end, "no {text:?} ({times}) in:\n{log}");
                std::thread::sleep(Duration::from_millis(20));
            }
        }

        fn signal(&self, sig: &str) {
            let ok = std::process::Command::new("kill")
                .arg(format!("-{sig}"))
                .arg(self.child.id().to_string())
                .status()
                .expect("kill");
            assert!(ok.success());
        }

        fn get(&self, path: &str) -> (u16, String) {
            let addr: SocketAddr = self.addr.parse().expect("address");
            let (code, answer) = exchange(
                addr,
                &format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
                Duration::from_secs(5),
            );
            let body = answer
                .split_once("\r\n\r\n")
                .map(|(_, b)| b.to_owned())
                .unwrap_or_default();
            (code, body)
        }
    }

    impl Drop for ServeProcess {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    #[test]
    fn sighup_reloads_the_configuration_of_serve_and_a_bad_one_is_rejected() {
        let dir = tempfile::tempdir().expect("tempdir");
        let base = format!("{CONFIG}[server]\nlisten = \"127.0.0.1:0\"\n");
        let config = common::write_config(dir.path(), &base);
        // A store a run created, so that `/metrics` has figures per feed.
        drop(Store::open(&dir.path().join("feedwright.db")).expect("store"));
        let serve = ServeProcess::start(&config);
        let (code, index) = serve.get("/");
        assert_eq!(code, 200);
        assert!(!index.contains("Later"), "{index}");

        // A feed added: served on `/`, `/healthz` and `/metrics` after the reload.
        let added = base.replace(
            "[server]",
            "[[feed]]\nname = \"later\"\ntitle = \"Later\"\nsources = [\"site\"]\n[server]",
        );
        std::fs::write(&config, &added).expect("write");
        serve.signal("HUP");
        serve.wait_for("configuration reloaded", 1);
        let (_, index) = serve.get("/");
        assert!(index.contains("Later"), "{index}");
        let (_, health) = serve.get("/healthz");
        assert!(health.contains("\"later\""), "{health}");
        let (_, metrics) = serve.get("/metrics");
        assert!(
            metrics.contains("feedwright_feed_publish_failing{feed=\"later\"}"),
            "{metrics}"
        );

        // A configuration `check` refuses: logged, and the running one goes on.
        std::fs::write(
            &config,
            added.replace(
                "[[feed]]\nname = \"later\"",
                "[[feed]]\nname = \"Bad Name\"",
            ),
        )
        .expect("write");
        serve.signal("HUP");
        let log = serve.wait_for("reload rejected", 1);
        assert!(log.contains("feed[1].name"), "{log}");
        let (code, index) = serve.get("/");
        assert_eq!(code, 200);
        assert!(index.contains("Later"), "{index}");

        // A TOML syntax error: one log line, without the quoted source line and its caret.
        std::fs::write(
            &config,
            format!(
                "{added}
bogus_key = = 1
"
            ),
        )
        .expect("write");
        serve.signal("HUP");
        let log = serve.wait_for("reload rejected", 2);
        let line = log
            .lines()
            .filter(|l| l.contains("reload rejected"))
            .nth(1)
            .unwrap_or_default();
        assert!(line.contains("TOML parse error"), "{log}");
        assert!(!line.contains("^") && !line.contains("= = 1"), "{line}");

        // Another address needs a restart: said, and serving goes on where it was.
        std::fs::write(&config, added.replace("127.0.0.1:0", "127.0.0.1:1")).expect("write");
        serve.signal("HUP");
        let log = serve.wait_for("configuration reloaded", 2);
        assert!(
            log.contains("server.listen changed to 127.0.0.1:1"),
            "{log}"
        );
        assert_eq!(serve.get("/healthz").0, 200);

        serve.signal("TERM");
        let mut serve = serve;
        let status = serve.child.wait().expect("wait");
        assert_eq!(status.code(), Some(0), "{}", serve.log.lock().expect("log"));
    }
}
