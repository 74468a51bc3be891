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
