//! The daemon: *when* jobs run.
//!
//! Owns: the schedule loop (each source on its own `schedule`, the digest on `[digest]
//! schedule`, cron evaluated with `croner` in the configured time zone, DST-safe), jitter,
//! never running two jobs at once (one store, one job at a time, a job never overlaps itself),
//! the missed-digest catch-up at start-up, signals (SIGTERM/SIGINT: stop within 10 s with no
//! partial file; SIGHUP: reload config and templates, keeping the old config when the new one is
//! invalid). Must not: contain business logic (it calls `pipeline` and `digest`).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use tokio::sync::Mutex;

use crate::config::Config;
use crate::pipeline::{self, NoProgress};
use crate::source::Fetcher;
use crate::store::Store;

/// Longest single sleep: the wall clock is re-read at least this often, so a clock step (NTP,
/// suspend) or a DST change never makes a job late by more than this.
const MAX_NAP: Duration = Duration::from_secs(30);
/// How long a running job may take to finish after SIGTERM before it is dropped at its next
/// await point (never in the middle of a file write or a transaction, which do not await).
const STOP_GRACE: Duration = Duration::from_secs(8);

/// What the daemon schedules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Job {
    Refresh(String),
    Digest,
}

impl std::fmt::Display for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Job::Refresh(s) => write!(f, "refresh of {s}"),
            Job::Digest => f.write_str("digest"),
        }
    }
}

/// One schedule: a job and its cron, in a time zone.
struct Schedule {
    job: Job,
    cron: croner::Cron,
    tz: Tz,
}

impl Schedule {
    /// The first firing strictly after `after`.
    fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.cron
            .find_next_occurrence(&after.with_timezone(&self.tz), false)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    }

    /// The last firing at or before `at`.
    fn previous(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.cron
            .find_previous_occurrence(&at.with_timezone(&self.tz), true)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    }
}

fn schedules(cfg: &Config) -> Vec<Schedule> {
    let tz: Tz = cfg.timezone.parse().unwrap_or(chrono_tz::UTC);
    let mut out = Vec::new();
    for s in &cfg.sources {
        if let Ok(cron) = crate::config::parse_schedule(&s.schedule) {
            out.push(Schedule {
                job: Job::Refresh(s.name.clone()),
                cron,
                tz,
            });
        }
    }
    if let Some(d) = &cfg.digest
        && let Ok(cron) = crate::config::parse_schedule(&d.schedule)
    {
        let tz = d
            .timezone
            .as_deref()
            .and_then(|t| t.parse().ok())
            .unwrap_or(tz);
        out.push(Schedule {
            job: Job::Digest,
            cron,
            tz,
        });
    }
    out
}

/// State shared by the jobs: the configuration in force and the one store.
struct Shared {
    config_path: PathBuf,
    cfg: std::sync::RwLock<Arc<Config>>,
    store: Mutex<Store>,
}

impl Shared {
    fn config(&self) -> Arc<Config> {
        self.cfg.read().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// Resolves on SIGTERM or SIGINT (for `serve`, which has nothing to finish but its requests).
pub async fn stop_signal() {
    let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate());
    match term {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// Run until SIGTERM or SIGINT. `cfg` is already loaded and valid; `store` already open;
/// `listener`, when `[server]` is configured, is served for the daemon's whole life (a reload
/// does not move it).
pub async fn run(
    config_path: &Path,
    cfg: Config,
    store: Store,
    listener: Option<tokio::net::TcpListener>,
) -> Result<(), String> {
    let (stop_server, server_stopped) = tokio::sync::oneshot::channel::<()>();
    let server = listener.map(|l| {
        let cfg = cfg.clone();
        tokio::spawn(async move {
            let shutdown = async move {
                let _ = server_stopped.await;
            };
            if let Err(e) = crate::server::serve(&cfg, l, shutdown).await {
                tracing::error!("server: {e}");
            }
        })
    });
    let shared = Arc::new(Shared {
        config_path: config_path.to_path_buf(),
        cfg: std::sync::RwLock::new(Arc::new(cfg)),
        store: Mutex::new(store),
    });
    let mut term = signal(tokio::signal::unix::SignalKind::terminate())?;
    let mut int = signal(tokio::signal::unix::SignalKind::interrupt())?;
    let mut hup = signal(tokio::signal::unix::SignalKind::hangup())?;
    catch_up_digest(&shared).await;
    loop {
        let cfg = shared.config();
        let mut tasks = tokio::task::JoinSet::new();
        for sched in schedules(&cfg) {
            let shared = shared.clone();
            let jitter = cfg.daemon.jitter_secs;
            tasks.spawn(async move { schedule_loop(shared, sched, jitter).await });
        }
        tracing::info!("daemon running: {} schedule(s)", tasks.len());
        let stop = tokio::select! {
            _ = term.recv() => true,
            _ = int.recv() => true,
            _ = hup.recv() => false,
        };
        if stop {
            tracing::info!("stopping: waiting for the job in progress");
            // Holding the store means no job is between its fetches and its writes.
            let finished = tokio::time::timeout(STOP_GRACE, shared.store.lock()).await;
            if finished.is_err() {
                tracing::warn!(
                    "the job in progress did not finish in time; it is dropped at a safe point"
                );
            }
            tasks.abort_all();
            drop(finished);
            while tasks.join_next().await.is_some() {}
            let _ = stop_server.send(());
            if let Some(server) = server {
                let _ = tokio::time::timeout(Duration::from_secs(1), server).await;
            }
            tracing::info!("stopped");
            return Ok(());
        }
        match Config::load(&shared.config_path) {
            Ok(new) => {
                if let Err(e) =
                    crate::digest::check_templates(&new, &config_dir(&shared.config_path))
                    && new.digest.is_some()
                {
                    tracing::error!("reload rejected, keeping the running configuration: {e}");
                    continue_with(&mut tasks).await;
                    continue;
                }
                if new.store.path != cfg.store.path {
                    tracing::warn!(
                        "store.path changed: restart the daemon to use the new database"
                    );
                }
                // Wait for a running job before swapping, so no job sees two configurations.
                let guard = shared.store.lock().await;
                tasks.abort_all();
                while tasks.join_next().await.is_some() {}
                *shared.cfg.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(new);
                drop(guard);
                tracing::info!(
                    "configuration reloaded from {}",
                    shared.config_path.display()
                );
            }
            Err(e) => {
                tracing::error!("reload rejected, keeping the running configuration: {e}");
                continue_with(&mut tasks).await;
            }
        }
    }
}

/// After a rejected reload the old schedules keep running: nothing to do but wait again.
async fn continue_with(_tasks: &mut tokio::task::JoinSet<()>) {}

fn config_dir(path: &Path) -> PathBuf {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

fn signal(kind: tokio::signal::unix::SignalKind) -> Result<tokio::signal::unix::Signal, String> {
    tokio::signal::unix::signal(kind).map_err(|e| format!("cannot install a signal handler: {e}"))
}

async fn schedule_loop(shared: Arc<Shared>, sched: Schedule, jitter_secs: u64) {
    let mut after = Utc::now();
    loop {
        let Some(at) = sched.next_after(after) else {
            tracing::warn!("the {} schedule never fires again", sched.job);
            return;
        };
        let delay = if jitter_secs > 0 && matches!(sched.job, Job::Refresh(_)) {
            Duration::from_millis(fastrand_ms(jitter_secs * 1000))
        } else {
            Duration::ZERO
        };
        let due = at + chrono::Duration::from_std(delay).unwrap_or_default();
        // Sleep in naps, re-reading the wall clock, so clock steps and DST are followed.
        loop {
            let now = Utc::now();
            if now >= due {
                break;
            }
            let left = (due - now).to_std().unwrap_or_default();
            tokio::time::sleep(left.min(MAX_NAP)).await;
        }
        run_job(&shared, &sched.job).await;
        // The next firing after the scheduled time (not after "now"): a job that ran long skips
        // the firings it overlapped instead of running twice back to back.
        after = at.max(Utc::now() - chrono::Duration::seconds(1));
    }
}

fn fastrand_ms(max_ms: u64) -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(Utc::now().timestamp_nanos_opt().unwrap_or_default() as u128);
    h.finish() % max_ms.max(1)
}

async fn run_job(shared: &Shared, job: &Job) {
    let cfg = shared.config();
    let mut store = shared.store.lock().await;
    match job {
        Job::Refresh(name) => {
            let Some(src) = cfg.source(name) else { return };
            let fetcher = match Fetcher::new(&cfg.http) {
                Ok(f) => f,
                Err(e) => {
                    tracing::error!("{name}: {e}");
                    return;
                }
            };
            let t0 = std::time::Instant::now();
            let rep = pipeline::refresh_one(&cfg, src, &mut store, &fetcher, &NoProgress).await;
            tracing::info!(
                source = %name,
                took_ms = t0.elapsed().as_millis() as u64,
                "{} new, {} updated, {} unchanged, {} failed",
                rep.new,
                rep.updated,
                rep.unchanged,
                rep.failures.len()
            );
            if let Some(f) = &rep.fatal {
                tracing::warn!(source = %name, "{f}");
            }
            for (url, why) in &rep.failures {
                tracing::warn!(source = %name, url = %url, "failed: {why}");
            }
            let published =
                pipeline::publish_all(&cfg, &mut store, &config_dir(&shared.config_path));
            if let Some(e) = &published.stylesheet_error {
                tracing::error!("stylesheet: {e}");
            }
            for result in &published.feeds {
                if let Err((feed, e)) = result {
                    tracing::error!(feed = %feed, "not published: {e}");
                }
            }
            let announced = pipeline::announce(&cfg, &mut store, &published, Utc::now()).await;
            if !announced.pinged.is_empty() {
                tracing::info!(
                    "websub: hub notified of {} changed feed file(s)",
                    announced.pinged.len()
                );
            }
            for e in &announced.failed {
                tracing::warn!("websub: {e}");
            }
            if let Some(e) = &announced.error {
                tracing::error!("websub: {e}");
            }
        }
        Job::Digest => digest_now(shared, &cfg, &mut store, Utc::now()),
    }
}

fn digest_now(shared: &Shared, cfg: &Config, store: &mut Store, now: DateTime<Utc>) {
    let opts = crate::digest::DigestOptions {
        dry_run: false,
        to: None,
        config_dir: config_dir(&shared.config_path),
    };
    match crate::digest::run(cfg, store, &opts, now) {
        Ok(outcome) => tracing::info!("digest: {outcome}"),
        Err(e) => tracing::error!("digest: {e}"),
    }
}

/// A digest whose scheduled time passed while the daemon was down is sent at start-up, unless
/// that week's issue was already sent (the digest itself says so and sends nothing).
async fn catch_up_digest(shared: &Shared) {
    let cfg = shared.config();
    let Some(sched) = schedules(&cfg).into_iter().find(|s| s.job == Job::Digest) else {
        return;
    };
    let now = Utc::now();
    let Some(last_firing) = sched.previous(now) else {
        return;
    };
    // The firing that covers the current issue is the first one after the last week ended.
    let week_start = crate::digest::week::last_complete_week(now, sched.tz).end;
    if last_firing >= week_start {
        let mut store = shared.store.lock().await;
        tracing::info!("the digest scheduled for {last_firing} may have been missed: checking");
        digest_now(shared, &cfg, &mut store, now);
    }
}
