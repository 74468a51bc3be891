//! The daemon: *when* jobs run.
//!
//! Owns: the schedule loop (each source on its own `schedule`, the digest on `[digest]
//! schedule`, cron evaluated with `croner` in the configured time zone, DST-safe), jitter,
//! never running two jobs at once (one store, one job at a time, a job never overlaps itself),
//! the missed-digest catch-up at start-up and after a reload, retries of a digest that failed
//! with a temporary error (same week, `[daemon] digest_retry_secs`, until the next firing),
//! refreshing the digest feed's sources before an issue is built when they were not refreshed
//! since its week ended (`refresh_before_digest`),
//! signals (SIGTERM/SIGINT: stop within 10 s with no partial file, whatever is running or
//! waiting, the refresh in progress interrupted (its fetcher sends nothing more; what it
//! fetched is stored), and no job started once stopping; SIGHUP, heard from before start-up through
//! `service`, which also tells the service manager the daemon's state: reload config and templates,
//! checked as at start-up ([`check`]), publishing the feeds at once, restarting the schedules
//! and the built-in server, keeping the old config and the job in
//! progress when the new one is invalid; the old server is waited for, its connections closed
//! after 1 s). Must not: contain business logic (it calls `pipeline` and `digest`).
//!
//! Clock steps and DST. Each schedule keeps a `Plan`; the loop naps at most `MAX_NAP` (30 s) and
//! asks the pure `Plan::decide`, with the wall clock and the real (monotonic) time since the
//! plan was made, whether a firing is due and when to look again:
//! - a forward step over one or many firings runs the job once, for the last firing passed, at
//!   the first reading after the step (within `MAX_NAP`), never once per firing passed;
//! - after a backward step the corrected clock is followed, but a firing it reaches again only
//!   runs when it comes at least one schedule interval of real time after the previous run: the
//!   firing that just ran never runs twice, and the job is never held back more than one interval
//!   (by at most the step, when the step is shorter than the interval);
//! - DST is no step (the clock is UTC): firings are computed by croner in the zone, so a fixed
//!   time that does not exist runs once just after the gap, one that happens twice runs once, at
//!   the first pass, and interval schedules run in both passes of a repeated hour.

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
/// How long the built-in server's requests in progress may go on when it is stopped or
/// restarted by a reload; their connections are closed then, so that nothing is served with an
/// old configuration or beside the new server's connection cap.
const SERVER_GRACE: Duration = Duration::from_secs(1);

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
    /// The cron expression as configured, for messages.
    expr: String,
    cron: croner::Cron,
    tz: Tz,
}

impl Schedule {
    /// The warning when this schedule has no firing left: it names the source or the digest.
    fn never_fires_again(&self) -> String {
        match &self.job {
            Job::Refresh(name) => format!(
                "source {name}: its schedule {:?} never fires again: no more refreshes until the \
                 configuration changes",
                self.expr
            ),
            Job::Digest => format!(
                "digest: its schedule {:?} never fires again: no more issues until the \
                 configuration changes",
                self.expr
            ),
        }
    }

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
                expr: s.schedule.clone(),
                cron,
                tz,
            });
        }
    }
    if let Some(d) = &cfg.digest
        && let Ok(cron) = crate::config::parse_schedule(&d.schedule)
    {
        out.push(Schedule {
            job: Job::Digest,
            expr: d.schedule.clone(),
            cron,
            tz: digest_tz(cfg),
        });
    }
    out
}

/// The time zone of the digest's schedule and weeks: `[digest] timezone`, else `timezone`.
fn digest_tz(cfg: &Config) -> Tz {
    let tz: Tz = cfg.timezone.parse().unwrap_or(chrono_tz::UTC);
    cfg.digest
        .as_ref()
        .and_then(|d| d.timezone.as_deref())
        .and_then(|t| t.parse().ok())
        .unwrap_or(tz)
}

/// What the daemon checks of a loaded configuration before it runs it, at start-up and on
/// every reload alike: with a `[digest]`, its templates; the feed stylesheet override (as
/// `check` does: a malformed one would fail every publish); `output_dir` (created when
/// missing, and writable); the environment variables a `[digest]` that sends takes its SMTP
/// credentials from (the daemon's environment is fixed at its start: a reload cannot bring
/// them, and without them no digest would ever be sent). The error names the file or the key;
/// on success, the digest's templates as checked (the ones the digest then uses).
pub fn check(
    config_path: &Path,
    cfg: &Config,
) -> Result<Option<crate::digest::render::Templates>, String> {
    let templates = match &cfg.digest {
        None => None,
        Some(_) => Some(
            crate::digest::check_templates(cfg, &config_dir(config_path))
                .map_err(|e| e.in_config_file(config_path).to_string())?,
        ),
    };
    if let Some(d) = cfg.digest.as_ref().filter(|d| d.smtp_url.is_some()) {
        for (key, name) in [
            ("digest.smtp_username_env", &d.smtp_username_env),
            ("digest.smtp_password_env", &d.smtp_password_env),
        ] {
            let Some(name) = name else { continue };
            let problem = match std::env::var(name) {
                Ok(v) if v.is_empty() => "is set but empty",
                Ok(_) => continue,
                Err(_) => "is not set (or not UTF-8)",
            };
            return Err(format!(
                "{}: {key}: environment variable {name} {problem} in the daemon's environment, \
                 which only changes when the daemon is restarted",
                config_path.display()
            ));
        }
    }
    pipeline::stylesheet(&config_dir(config_path))?;
    cfg.check_output_dir(config_path)
        .map_err(|e| e.to_string())?;
    pipeline::prepare_output_dir(&cfg.output_dir)
        .map_err(|e| format!("{}: {e}", config_path.display()))?;
    Ok(templates)
}

/// State shared by the jobs: the configuration in force and the one store.
struct Shared {
    config_path: PathBuf,
    cfg: std::sync::RwLock<Arc<Config>>,
    /// Shared so that a job on a blocking thread (the digest, whose SMTP session blocks) can
    /// own its guard.
    store: Arc<Mutex<Store>>,
    /// Set by a stop before it aborts the jobs: a digest that gets the store afterwards (the
    /// job ahead of it dropped its guard as it was aborted) sends nothing.
    stopping: Arc<std::sync::atomic::AtomicBool>,
    /// Folders of retired feeds already warned about: once per folder while the daemon runs,
    /// not on every refresh of every source.
    retired_warned: std::sync::Mutex<std::collections::HashSet<PathBuf>>,
    /// Feeds already warned about holding back an unfinished backfill's history from their
    /// archive: once per feed while the daemon runs.
    held_warned: std::sync::Mutex<std::collections::HashSet<String>>,
    /// Feeds whose folder holds archive pages the store has no record of, warned about.
    unknown_archive_warned: std::sync::Mutex<std::collections::HashSet<String>>,
    /// Sources the configuration no longer has, already warned about holding posts no feed
    /// shows: once per source while the daemon runs.
    unclaimed_warned: std::sync::Mutex<std::collections::HashSet<String>>,
    /// Feeds already warned about a `categories` filter that matches none of their sources'
    /// entries, with that filter: once per feed and filter while the daemon runs.
    filter_warned: std::sync::Mutex<std::collections::HashSet<(String, Vec<String>)>>,
    /// The digest's templates in force: loaded with the configuration at start-up or at the
    /// last accepted reload (none without `[digest]`), never read from disk in between.
    templates: std::sync::RwLock<Option<Arc<crate::digest::render::Templates>>>,
    /// Per source, its schedule (expression and zone) and the firings of it already done
    /// ([`Plan::consumed`]): a reload starts the new loop of an unchanged schedule from there,
    /// so a firing already due (waiting out its jitter, or for the store) still runs.
    consumed: std::sync::Mutex<std::collections::HashMap<String, Done>>,
    /// What stops the fetcher of the refresh in progress, if one is fetching: a stop interrupts
    /// it, so the job sends nothing more, stores what it fetched and ends within the grace.
    fetching: std::sync::Mutex<Option<crate::source::http::Interrupter>>,
}

/// How far one source's schedule got: its firings up to `consumed` are done.
struct Done {
    expr: String,
    tz: Tz,
    consumed: DateTime<Utc>,
}

impl Shared {
    fn config(&self) -> Arc<Config> {
        self.cfg.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Where a source's schedule left off under the previous configuration, if it is the same
    /// schedule.
    fn consumed(&self, sched: &Schedule) -> Option<DateTime<Utc>> {
        let Job::Refresh(name) = &sched.job else {
            return None;
        };
        let consumed = self.consumed.lock().unwrap_or_else(|p| p.into_inner());
        consumed
            .get(name)
            .filter(|d| d.expr == sched.expr && d.tz == sched.tz)
            .map(|d| d.consumed)
    }

    /// Remember that `sched`'s firings up to `at` are done.
    fn set_consumed(&self, sched: &Schedule, at: DateTime<Utc>) {
        if let Job::Refresh(name) = &sched.job {
            self.consumed
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(
                    name.clone(),
                    Done {
                        expr: sched.expr.clone(),
                        tz: sched.tz,
                        consumed: at,
                    },
                );
        }
    }
}

/// The built-in server while the daemon runs.
struct Server {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    /// Serve `output_dir` as `cfg` says on a duplicate of `socket`, so that a reload can
    /// restart the server with its new configuration while the socket keeps listening
    /// (connections arriving meanwhile wait in its backlog).
    fn start(cfg: &Config, socket: &std::net::TcpListener) -> Result<Server, String> {
        let listener = socket
            .try_clone()
            .and_then(tokio::net::TcpListener::from_std)
            .map_err(|e| format!("server: cannot use the listening socket: {e}"))?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let cfg = cfg.clone();
        let task = tokio::spawn(async move {
            let shutdown = async move {
                let _ = stopped.await;
            };
            if let Err(e) = crate::server::serve(&cfg, listener, shutdown, SERVER_GRACE).await {
                tracing::error!("server: {e}");
            }
        });
        Ok(Server { stop, task })
    }

    /// Stop accepting and wait until the server ended: requests in progress get
    /// [`SERVER_GRACE`] to finish, then `serve` closes their connections and returns.
    async fn stop(self) {
        let _ = self.stop.send(());
        let mut task = self.task;
        // Only a safety net: dropping `serve` closes its connections too.
        if tokio::time::timeout(SERVER_GRACE + Duration::from_secs(1), &mut task)
            .await
            .is_err()
        {
            tracing::warn!("server: not stopped in time; dropping it");
            task.abort();
            let _ = task.await;
        }
    }
}

/// Run until SIGTERM or SIGINT. `cfg` is already loaded and valid, `templates` the digest's
/// checked with it (none without `[digest]`); `store` already open; `listener`, when
/// `[server]` is configured, is served until a reload removes `[server]` (a reload restarts the
/// server with the new configuration on the same socket, but does not move it).
pub async fn run(
    config_path: &Path,
    cfg: Config,
    templates: Option<crate::digest::render::Templates>,
    store: Store,
    listener: Option<tokio::net::TcpListener>,
    mut hup: tokio::signal::unix::Signal,
) -> Result<(), String> {
    let mut socket = listener
        .map(|l| {
            l.into_std()
                .map_err(|e| format!("server: cannot use the listening socket: {e}"))
        })
        .transpose()?;
    // The address the socket was bound for: `listen` as configured at start-up.
    let bound = cfg
        .server
        .as_ref()
        .and_then(|s| s.listen.parse::<std::net::SocketAddr>().ok());
    let mut server = match &socket {
        Some(socket) => Some(Server::start(&cfg, socket)?),
        None => None,
    };
    let unclaimed_warned = std::sync::Mutex::default();
    let mut store = store;
    // A source renamed takes its history along before it is read or its feeds published.
    carry_renames_over(&cfg, &mut store, &unclaimed_warned);
    let shared = Arc::new(Shared {
        config_path: config_path.to_path_buf(),
        cfg: std::sync::RwLock::new(Arc::new(cfg)),
        store: Arc::new(Mutex::new(store)),
        stopping: Arc::new(std::sync::atomic::AtomicBool::new(false)),
        retired_warned: std::sync::Mutex::default(),
        fetching: std::sync::Mutex::default(),
        filter_warned: std::sync::Mutex::default(),
        held_warned: std::sync::Mutex::default(),
        unknown_archive_warned: std::sync::Mutex::default(),
        unclaimed_warned,
        templates: std::sync::RwLock::new(templates.map(Arc::new)),
        consumed: std::sync::Mutex::default(),
    });
    let mut term = crate::service::listen(tokio::signal::unix::SignalKind::terminate())?;
    let mut int = crate::service::listen(tokio::signal::unix::SignalKind::interrupt())?;
    let mut tasks = tokio::task::JoinSet::new();
    {
        // A job like any other: signals are heard while it runs.
        let shared = shared.clone();
        tasks.spawn(async move { catch_up_digest(&shared).await });
    }
    let n = spawn_schedules(&shared, &mut tasks);
    crate::service::ready(&running(n, server.is_some()));
    loop {
        let reload = tokio::select! {
            _ = term.recv() => false,
            _ = int.recv() => false,
            _ = hup.recv() => true,
        };
        if !reload {
            stop(&shared, tasks, server).await;
            return Ok(());
        }
        crate::service::reloading();
        tracing::info!(
            "SIGHUP: reloading the configuration from {}",
            shared.config_path.display()
        );
        let old = shared.config();
        let new = match Config::load(&shared.config_path) {
            Ok(new) => check(&shared.config_path, &new).map(|t| (new, t.map(Arc::new))),
            Err(e) => Err(e.to_string()),
        };
        let (mut new, templates) = match new {
            Ok(new) => new,
            Err(e) => {
                // The old schedules, and the job in progress, go on untouched.
                tracing::error!(
                    "reload rejected, keeping the running configuration: {}",
                    crate::terminal::one_line(&e)
                );
                crate::service::ready("reload rejected: running the previous configuration");
                continue;
            }
        };
        // What start-up warns about, said again for the configuration that will be in force.
        for note in new.advice().into_iter().chain(crate::digest::advice(&new)) {
            tracing::warn!(
                config = %shared.config_path.display(),
                "{}: {note}",
                shared.config_path.display()
            );
        }
        if new.store.path != old.store.path {
            tracing::warn!(
                "store.path changed to {}: restart the daemon to use the new database; {} is \
                 still used (and read by /healthz and /metrics) meanwhile",
                new.store.path.display(),
                old.store.path.display()
            );
            // The configuration in force names the store the daemon holds, so that the server
            // reads that one, and the next reload compares with it.
            new.store.path.clone_from(&old.store.path);
            for s in &mut new.sources {
                if s.not_posts.store.is_some() {
                    s.not_posts.store = Some(old.store.path.clone());
                }
            }
        }
        // Wait for a running job before swapping, so no job sees two configurations; a stop
        // signal meanwhile stops the daemon as usual.
        if shared.store.try_lock().is_err() {
            tracing::info!("reload: waiting for the job in progress to finish");
        }
        let guard = tokio::select! {
            guard = shared.store.lock() => Some(guard),
            _ = term.recv() => None,
            _ = int.recv() => None,
        };
        let Some(guard) = guard else {
            stop(&shared, tasks, server).await;
            return Ok(());
        };
        tasks.abort_all();
        while tasks.join_next().await.is_some() {}
        *shared.cfg.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(new.clone());
        *shared.templates.write().unwrap_or_else(|p| p.into_inner()) = templates;
        // The feeds as the new configuration says, without waiting for the next refresh, and
        // before the server serves that configuration (a new `output_dir` would answer 404
        // until they are written).
        let mut guard = guard;
        let in_force = shared.config();
        carry_renames_over(&in_force, &mut guard, &shared.unclaimed_warned);
        publish_files(&shared, &in_force, &mut guard);
        drop(guard);
        server = reload_server(server, &mut socket, bound, &new).await;
        {
            // Telling the hub goes over the network: a job like any other (it takes the store).
            let shared = shared.clone();
            tasks.spawn(async move {
                let cfg = shared.config();
                let mut store = shared.store.lock().await;
                ping_hub(&cfg, &mut store).await;
            });
        }
        let n = spawn_schedules(&shared, &mut tasks);
        {
            // The reload dropped a digest that was waiting or retrying: the catch-up sends the
            // week's issue if it is still due (and says "already sent" otherwise).
            let shared = shared.clone();
            tasks.spawn(async move { catch_up_digest(&shared).await });
        }
        tracing::info!(
            "configuration reloaded from {}",
            shared.config_path.display()
        );
        crate::service::ready(&running(n, server.is_some()));
    }
}

/// The daemon's state in one line, for the service manager.
fn running(schedules: usize, serving: bool) -> String {
    let serving = if serving { ", serving feeds" } else { "" };
    format!("running {schedules} schedule(s){serving}")
}

/// One task per schedule of the configuration in force; how many.
fn spawn_schedules(shared: &Arc<Shared>, tasks: &mut tokio::task::JoinSet<()>) -> usize {
    let cfg = shared.config();
    // A source removed, then added back by a later reload, starts afresh.
    shared
        .consumed
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .retain(|name, _| cfg.source(name).is_some());
    let mut n = 0;
    for sched in schedules(&cfg) {
        let shared = shared.clone();
        let jitter = cfg.daemon.jitter_secs;
        tasks.spawn(async move { schedule_loop(shared, sched, jitter).await });
        n += 1;
    }
    tracing::info!("daemon running: {n} schedule(s)");
    n
}

/// The server after a reload to `new`: restarted with the new configuration on the same
/// socket (feeds added or removed, `/healthz` and `/metrics` follow). A `listen` address other
/// than the one `socket` was bound for (`bound`), said on every reload while they differ, or a
/// `[server]` table added, needs a restart of the daemon; a table removed stops
/// serving and closes `socket`, so that clients are refused at once instead of waiting in its
/// backlog.
async fn reload_server(
    server: Option<Server>,
    socket: &mut Option<std::net::TcpListener>,
    bound: Option<std::net::SocketAddr>,
    new: &Config,
) -> Option<Server> {
    if let Some(server) = server {
        server.stop().await;
    }
    let Some(listening) = socket.as_ref() else {
        if new.server.is_some() {
            tracing::warn!("[server] added: restart the daemon to start serving");
        }
        return None;
    };
    let Some(listen) = new.server.as_ref().map(|s| &s.listen) else {
        // The stopped server dropped its duplicate: this closes the socket.
        *socket = None;
        tracing::info!("[server] removed: no longer serving");
        return None;
    };
    if listen.parse::<std::net::SocketAddr>().ok() != bound {
        let serving = listening
            .local_addr()
            .map_or_else(|_| "the old address".to_owned(), |a| a.to_string());
        tracing::warn!(
            "server.listen changed to {listen}: restart the daemon to listen there; still serving \
             on {serving} meanwhile"
        );
    }
    match Server::start(new, listening) {
        Ok(server) => Some(server),
        Err(e) => {
            tracing::error!("{e}");
            None
        }
    }
}

/// SIGTERM or SIGINT: let the job in progress finish (for at most [`STOP_GRACE`]), drop it
/// at a safe point otherwise, stop the server.
async fn stop(shared: &Shared, mut tasks: tokio::task::JoinSet<()>, server: Option<Server>) {
    crate::service::stopping();
    // A job holds the store while it runs.
    if shared.store.try_lock().is_err() {
        tracing::info!("stopping: waiting for the job in progress");
    } else {
        tracing::info!("stopping");
    }
    shared
        .stopping
        .store(true, std::sync::atomic::Ordering::SeqCst);
    // A refresh fetching: it sends nothing more, and its requests in flight get
    // `INTERRUPT_GRACE` (less than `STOP_GRACE`); what it fetched is stored and published.
    if let Some(fetching) = shared
        .fetching
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take()
    {
        fetching.interrupt();
    }
    // Holding the store means no job is running. A job dropped mid-way has committed whole
    // batches at most, and its source's walk is marked incomplete until it ends, so the next
    // run walks the listing in full. A digest still talking to its SMTP server is left to the
    // process's exit: it records nothing unless the server accepted the message.
    let finished = tokio::time::timeout(STOP_GRACE, shared.store.lock()).await;
    if finished.is_err() {
        tracing::warn!("the job in progress did not finish in time; it is dropped at a safe point");
    }
    tasks.abort_all();
    drop(finished);
    while tasks.join_next().await.is_some() {}
    if let Some(server) = server {
        server.stop().await;
    }
    tracing::info!("stopped");
}

fn config_dir(path: &Path) -> PathBuf {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

async fn schedule_loop(shared: Arc<Shared>, sched: Schedule, jitter_secs: u64) {
    let draw_jitter = || {
        if jitter_secs > 0 && matches!(sched.job, Job::Refresh(_)) {
            Duration::from_millis(fastrand_ms(jitter_secs * 1000))
        } else {
            Duration::ZERO
        }
    };
    let start = Utc::now();
    let mut reference = std::time::Instant::now();
    // After a reload, a firing the previous loop had not run yet is still due.
    let consumed = shared.consumed(&sched).unwrap_or(start);
    let Some(mut plan) = Plan::new(&sched, consumed, start, draw_jitter()) else {
        tracing::warn!("{}", sched.never_fires_again());
        return;
    };
    shared.set_consumed(&sched, plan.consumed);
    loop {
        // Sleep in naps of at most MAX_NAP, re-reading the wall clock, so that clock steps and
        // DST are followed; `decide` says what that reading means.
        let fired = match plan.decide(&sched, Utc::now(), reference.elapsed()) {
            Decision::Wait(d) => {
                tokio::time::sleep(d).await;
                continue;
            }
            Decision::Run(fired) => fired,
        };
        let decided_at = Utc::now();
        let decided = std::time::Instant::now();
        if fired > plan.next {
            tracing::info!(
                "the wall clock passed the {} firings from {} to {fired}: running once",
                sched.job,
                plan.next
            );
        } else if fired < plan.consumed {
            tracing::info!(
                "the wall clock went back: running the {} firing of {fired} (corrected clock)",
                sched.job
            );
        }
        match sched.job {
            Job::Digest => {
                digest_with_retries(&shared, &sched, sched.next_after(fired), false).await
            }
            Job::Refresh(_) => run_job(&shared, &sched.job).await,
        }
        // Firings up to the end of the job (less a second) are done: a job that ran long skips
        // the firings it overlapped instead of running twice back to back.
        let consumed = fired.max(Utc::now() - chrono::Duration::seconds(1));
        match Plan::new(&sched, consumed, decided_at, draw_jitter()) {
            Some(p) => {
                plan = p;
                reference = decided;
                shared.set_consumed(&sched, plan.consumed);
            }
            None => {
                tracing::warn!("{}", sched.never_fires_again());
                return;
            }
        }
    }
}

/// Where one schedule stands. Made at a reference moment (start-up, or when a job was started);
/// [`Plan::decide`] is then given the wall clock and the real (monotonic) time elapsed since.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Plan {
    /// Firings at or before this wall-clock time are done (run, overlapped by a run, or before
    /// start-up).
    consumed: DateTime<Utc>,
    /// The first firing after `consumed`.
    next: DateTime<Utc>,
    /// Real time from the reference moment until `next` was due, as the wall clock read then: one
    /// schedule interval after the previous run when it ran on time.
    real_due: chrono::Duration,
    /// Random delay added to every firing of this plan.
    jitter: Duration,
}

/// What a schedule does at a given reading of the clocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decision {
    /// Run the job now, for the firing at this wall-clock time.
    Run(DateTime<Utc>),
    /// Nothing is due: read the clocks again after this long (at most [`MAX_NAP`]).
    Wait(Duration),
}

impl Plan {
    /// The plan after `consumed`, made when the wall clock read `made_at`; `None` when the
    /// schedule never fires again.
    fn new(
        sched: &Schedule,
        consumed: DateTime<Utc>,
        made_at: DateTime<Utc>,
        jitter: Duration,
    ) -> Option<Plan> {
        let next = sched.next_after(consumed)?;
        Some(Plan {
            consumed,
            next,
            real_due: next - made_at,
            jitter,
        })
    }

    /// What to do when the wall clock reads `now` and `elapsed` real time has passed since the
    /// plan was made. Pure: no clock is read here.
    ///
    /// - A firing after `consumed` was reached (plus jitter): run once, for the latest firing
    ///   reached. Normally that is `next`, on time; after a forward clock step over one or many
    ///   firings it is the last of them, and the job runs once, at the first reading after the
    ///   step.
    /// - The wall clock is behind `consumed` (it went back after firings already ran): the
    ///   corrected clock is followed, so a firing it reaches again runs, but only if it comes at
    ///   least `real_due` of real time after the reference (one schedule interval after the
    ///   previous run). The firing that just ran is never run again because the clock moved
    ///   back a little, and a long step never stalls the job beyond one interval.
    fn decide(&self, sched: &Schedule, now: DateTime<Utc>, elapsed: Duration) -> Decision {
        let jitter = chrono::Duration::from_std(self.jitter).unwrap_or_default();
        let elapsed = chrono::Duration::from_std(elapsed).unwrap_or(chrono::Duration::MAX);
        // The firing whose jittered time was reached last.
        let reached = now - jitter;
        if reached >= self.next {
            let fired = sched
                .previous(reached)
                .filter(|p| *p >= self.next)
                .unwrap_or(self.next);
            return Decision::Run(fired);
        }
        let nap = chrono::Duration::from_std(MAX_NAP).unwrap_or_default();
        let mut wake = (self.next - reached).min(nap);
        if reached < self.consumed {
            // When (in real time since the reference) the wall clock showed firing `t`.
            let arrival = |t: DateTime<Utc>| elapsed - (now - t);
            if let Some(p) = sched.previous(reached)
                && arrival(p) >= self.real_due
            {
                return Decision::Run(p);
            }
            // A firing the corrected clock reaches before the next nap ends, late enough.
            let mut t = reached;
            for _ in 0..64 {
                match sched.next_after(t) {
                    Some(n) if n - reached <= wake => {
                        if arrival(n) >= self.real_due {
                            wake = n - reached;
                            break;
                        }
                        t = n;
                    }
                    _ => break,
                }
            }
        }
        Decision::Wait(
            wake.to_std()
                .unwrap_or_default()
                .max(Duration::from_millis(1)),
        )
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
    match job {
        Job::Refresh(name) => {
            let Some(src) = cfg.source(name) else { return };
            let mut store = shared.store.lock().await;
            // Waiting for the store when the stop came: not started (the stop waits for the
            // job in progress only).
            if shared.stopping.load(std::sync::atomic::Ordering::SeqCst) {
                tracing::debug!(source = %name, "refresh not started: the daemon is stopping");
                return;
            }
            // Its log says what went wrong; the next firing tries again.
            let _ = refresh(shared, &cfg, src, &mut store).await;
        }
        Job::Digest => {
            digest_now(shared, cfg, Utc::now(), false).await;
        }
    }
}

/// Refresh one source, publish, ping the hub, logging what `run` prints. An error when the
/// source could not be read at all (its site down, its listing gone): why.
async fn refresh(
    shared: &Shared,
    cfg: &Config,
    src: &crate::config::SourceConfig,
    store: &mut Store,
) -> Result<(), String> {
    let name = &src.name;
    let fetcher = match Fetcher::new(&cfg.http) {
        Ok(f) => f,
        Err(e) => {
            tracing::error!("{name}: {e}");
            return Err(e.to_string());
        }
    };
    let t0 = std::time::Instant::now();
    *shared.fetching.lock().unwrap_or_else(|p| p.into_inner()) = Some(fetcher.interrupter());
    // A stop that came before the fetcher was in place: nothing is sent.
    if shared.stopping.load(std::sync::atomic::Ordering::SeqCst) {
        fetcher.interrupter().interrupt();
    }
    let rep = pipeline::refresh_one(cfg, src, store, &fetcher, &NoProgress).await;
    *shared.fetching.lock().unwrap_or_else(|p| p.into_inner()) = None;
    // What the store cannot record of itself, for `/healthz`, until a refresh writes it again.
    crate::server::set_store_unwritable(rep.store_blocked.clone());
    let took_ms = t0.elapsed().as_millis() as u64;
    // A degraded source is said once a day by the refresh itself ("source looks degraded"),
    // not on every run.
    if rep.fatal.is_some() || !rep.failures.is_empty() {
        tracing::warn!(source = %name, took_ms, "{}", rep.summary());
    } else {
        tracing::info!(source = %name, took_ms, "{}", rep.summary());
    }
    if let Some(why) = &rep.degraded {
        tracing::debug!(source = %name, "degraded: {why}; feeds keep the last good entries");
    }
    if let Some((from, to, posts)) = &rep.site_moved {
        tracing::info!(
            source = %name,
            from = %from,
            to = %to,
            posts,
            "its site moved from {from} to {to}: {posts} stored post(s) now there, the same \
             entries with the same ids"
        );
    }
    if rep.deferred > 0 {
        tracing::info!(source = %name, "{} post(s) left for the next run", rep.deferred);
    }
    for (url, why) in &rep.failures {
        tracing::warn!(source = %name, url = %url, "failed: {why}");
    }
    for (url, why) in &rep.skipped {
        tracing::info!(source = %name, url = %url, "skipped: {why}");
    }
    publish(shared, cfg, store).await;
    match rep.fatal {
        Some(why) => Err(why),
        None => Ok(()),
    }
}

/// Publish every feed from the store, then ping the hub, logging what went wrong: after each
/// refresh, and after a reload (so that what is served, and what `/healthz` says of it, follow
/// the new configuration at once: a new `output_dir`, feeds added or retitled).
async fn publish(shared: &Shared, cfg: &Config, store: &mut Store) {
    publish_files(shared, cfg, store);
    // Stopping: the pings stay owed, sent after the next start's first publish.
    if !shared.stopping.load(std::sync::atomic::Ordering::SeqCst) {
        ping_hub(cfg, store).await;
    }
}

/// [`publish`]'s files: every feed written from the store, what went wrong logged.
fn publish_files(shared: &Shared, cfg: &Config, store: &mut Store) {
    let published = pipeline::publish_all(cfg, store, &config_dir(&shared.config_path), Utc::now());
    if let Some(e) = &published.stylesheet_error {
        tracing::error!("stylesheet: {e}");
    }
    for result in &published.feeds {
        match result {
            Err((feed, e)) => tracing::error!(feed = %feed, "not published: {e}"),
            Ok(p) => {
                if let Some(note) = &p.unmatched_categories
                    && let Some(feed) = cfg.feeds.iter().find(|f| f.name == p.feed)
                    && shared
                        .filter_warned
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .insert((feed.name.clone(), feed.categories.clone()))
                {
                    tracing::warn!(feed = %p.feed, "{note}");
                }
                // Said once per feed while the daemon runs, like the notes below.
                if let Some(note) = p.unknown_archive_note(&cfg.output_dir.join(&p.feed))
                    && shared
                        .unknown_archive_warned
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .insert(p.feed.clone())
                {
                    tracing::warn!(feed = %p.feed, "{note}");
                }
                let Some(note) = p.archive_held_note() else {
                    continue;
                };
                let first = shared
                    .held_warned
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(p.feed.clone());
                if first {
                    tracing::warn!(
                        feed = %p.feed,
                        "{note}: `feedwright backfill` completes it, with the daemon stopped"
                    );
                }
            }
        }
    }
    let new_retired: Vec<&PathBuf> = {
        let mut warned = shared
            .retired_warned
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        published
            .retired
            .iter()
            .filter(|d| warned.insert(d.to_path_buf()))
            .collect()
    };
    for dir in new_retired {
        tracing::warn!(
            "{} holds a feed the configuration no longer has (renamed or removed): left as it is, \
             and still served; delete the folder to retire it",
            dir.display()
        );
    }
}

/// Carry the history of every source the configuration renamed over to its new name (see
/// [`pipeline::adopt_renamed`]), at start-up and on each reload, logging each; warn of a source
/// the configuration no longer has whose posts no feed shows, once per source (`warned`) while
/// the daemon runs.
fn carry_renames_over(
    cfg: &Config,
    store: &mut Store,
    warned: &std::sync::Mutex<std::collections::HashSet<String>>,
) {
    match pipeline::adopt_renamed(cfg, store) {
        Ok(renamed) => {
            for r in &renamed {
                tracing::info!(
                    source = %r.new,
                    old = %r.old,
                    posts = r.posts,
                    "source {} is now {}: {} {} carried over",
                    r.old,
                    r.new,
                    r.posts,
                    if r.posts == 1 { "post" } else { "posts" }
                );
            }
        }
        Err(e) => tracing::warn!("cannot tell which stored sources were renamed: {e}"),
    }
    match pipeline::unclaimed_sources(cfg, store) {
        Ok(unclaimed) => {
            let mut warned = warned.lock().unwrap_or_else(|p| p.into_inner());
            for u in unclaimed {
                if warned.insert(u.source.clone()) {
                    tracing::warn!(
                        source = %u.source,
                        posts = u.posts,
                        in_no_feed = u.in_no_feed,
                        "{}",
                        pipeline::unclaimed_note(&u)
                    );
                }
            }
        }
        Err(e) => {
            tracing::warn!("cannot tell which stored sources the configuration no longer has: {e}")
        }
    }
}

/// [`publish`]'s pings: the hub told of the head documents that changed, what went wrong logged.
async fn ping_hub(cfg: &Config, store: &mut Store) {
    let announced = pipeline::announce(cfg, store).await;
    if !announced.pinged.is_empty() {
        tracing::info!(
            "websub: hub notified of {} changed feed file(s)",
            announced.pinged.len()
        );
    }
    for e in &announced.failed {
        tracing::warn!("websub: {e}");
    }
    if announced.deferred > 0 {
        tracing::warn!(
            "websub: {} more ping(s) kept for after the next publish",
            announced.deferred
        );
    }
    if let Some(e) = &announced.error {
        tracing::error!("websub: {e}");
    }
}

/// Before an issue that is not on record yet is built (scheduled, retried or caught up): the
/// digest feed's sources whose last successful refresh came before the end of the issue's week
/// are refreshed, in order, so that the issue is built from a store that saw the sites after
/// the week ended, whatever the order of the schedules (a source due at the same moment as the
/// digest, or rarer than it) and however long the daemon was down (an empty store on a first
/// start). Sources refreshed since the week ended are left alone: in the steady state the
/// digest makes no request. A source that cannot be refreshed does not hold the issue back: it
/// is built from what the store holds, and the log says so. Returns false when the daemon
/// began stopping (the issue is then not built).
async fn refresh_before_digest(
    shared: &Shared,
    cfg: &Config,
    now: DateTime<Utc>,
    store: &mut Store,
) -> bool {
    let Some(digest) = &cfg.digest else {
        return true;
    };
    let week = crate::digest::week::last_complete_week(now, digest_tz(cfg));
    let label = week.week.label();
    // An issue already written or sent keeps what it holds, whichever feed it was built from
    // (the digest never sends a week on record again): no refresh is needed for it (and a
    // store that cannot say is the digest's to report).
    if !matches!(store.digest_week_issue(&label), Ok(None)) {
        return true;
    }
    let Some(feed) = cfg.feeds.iter().find(|f| f.name == digest.feed) else {
        return true;
    };
    for name in &feed.sources {
        let Some(src) = cfg.source(name) else {
            continue;
        };
        let last = store
            .source_state(name)
            .ok()
            .flatten()
            .and_then(|s| s.last_success);
        if last.is_some_and(|t| t >= week.end) {
            continue;
        }
        if shared.stopping.load(std::sync::atomic::Ordering::SeqCst) {
            return false;
        }
        let since = match last {
            Some(t) => format!("last refreshed {t}, before the week ended"),
            None => "not refreshed yet".to_owned(),
        };
        tracing::info!(source = %name, "refreshing before the digest {label} is built ({since})");
        if let Err(why) = refresh(shared, cfg, src, store).await {
            tracing::warn!(
                source = %name,
                "could not be refreshed ({why}): the digest {label} is built anyway, from the \
                 posts stored before"
            );
        }
    }
    true
}

/// Build and send the digest as of `now`, after [`refresh_before_digest`]. It runs on a
/// blocking thread that owns the store's guard: its SMTP session blocks, and a stop must not
/// wait for an unresponsive server (the thread is left to the process's exit then). Nothing
/// starts once the daemon is stopping.
/// Returns whether it failed with an error worth retrying ([`DigestError::is_retryable`]).
///
/// [`DigestError::is_retryable`]: crate::digest::DigestError::is_retryable
async fn digest_now(
    shared: &Shared,
    cfg: Arc<Config>,
    now: DateTime<Utc>,
    catching_up: bool,
) -> bool {
    let mut store = Arc::clone(&shared.store).lock_owned().await;
    let stopping = Arc::clone(&shared.stopping);
    let stopped = move || stopping.load(std::sync::atomic::Ordering::SeqCst);
    if stopped() || !refresh_before_digest(shared, &cfg, now, &mut store).await {
        tracing::info!("digest: not started, the daemon is stopping");
        return false;
    }
    let config_path = shared.config_path.clone();
    let templates = shared
        .templates
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    let job = tokio::task::spawn_blocking(move || {
        if stopped() {
            tracing::info!("digest: not started, the daemon is stopping");
            return false;
        }
        let opts = crate::digest::DigestOptions {
            dry_run: false,
            to: None,
            config_dir: config_dir(&config_path),
        };
        let ran = match &templates {
            Some(t) => crate::digest::run_with_templates(&cfg, &mut store, &opts, t, now),
            None => {
                // Not expected: the templates are loaded with every `[digest]` in force.
                tracing::error!(
                    "digest: no templates were loaded with the configuration; reading them \
                     from disk"
                );
                crate::digest::run(&cfg, &mut store, &opts, now)
            }
        };
        match ran {
            // Recipients the server refused got nothing; the others did, and the issue is
            // recorded as sent, so nothing is retried.
            Ok(outcome) if outcome.exit_code() != 0 => {
                tracing::warn!("{outcome}");
                false
            }
            // A catch-up at start-up or after a reload mostly finds the issue on record: said
            // at debug level then, not twice a day with a daily SIGHUP.
            Ok(
                outcome @ (crate::digest::DigestOutcome::AlreadySent { .. }
                | crate::digest::DigestOutcome::AlreadyWritten { .. }),
            ) if catching_up => {
                tracing::debug!("{outcome}");
                false
            }
            Ok(outcome) => {
                tracing::info!("{outcome}");
                false
            }
            Err(e) => {
                let retry = e.is_retryable();
                tracing::error!("digest: {}", e.in_config_file(&config_path));
                retry
            }
        }
    });
    match job.await {
        Ok(retry) => retry,
        Err(e) => {
            tracing::error!("digest: the job stopped unexpectedly: {e}");
            false
        }
    }
}

/// The digest as of now and, while it fails with an error worth retrying, again after each
/// of `[daemon] digest_retry_secs` (the last repeating): until it is sent (or has nothing to
/// do), fails for good, or the next attempt would come at or after `until` (the schedule's
/// next firing) or in another week (its issue would be another week's).
async fn digest_with_retries(
    shared: &Shared,
    sched: &Schedule,
    until: Option<DateTime<Utc>>,
    catching_up: bool,
) {
    let label = |at: DateTime<Utc>| {
        crate::digest::week::last_complete_week(at, sched.tz)
            .week
            .label()
    };
    let week = label(Utc::now());
    for attempt in 0usize.. {
        if !digest_now(shared, shared.config(), Utc::now(), catching_up).await {
            return;
        }
        let delays = shared.config().daemon.digest_retry_secs.clone();
        let Some(&secs) = delays.get(attempt).or(delays.last()) else {
            tracing::warn!("digest {week}: not retried (daemon.digest_retry_secs is empty)");
            return;
        };
        let at = Utc::now() + chrono::Duration::seconds(i64::try_from(secs).unwrap_or(i64::MAX));
        if let Some(next) = until.filter(|next| at >= *next) {
            tracing::warn!(
                "digest {week}: not retried: the next scheduled digest ({next}) comes first"
            );
            return;
        }
        if label(at) != week {
            tracing::warn!(
                "digest {week}: not retried: that week's issue is no longer the due one"
            );
            return;
        }
        tracing::info!(
            "digest {week}: attempt {} failed; trying again in {secs} s",
            attempt + 1
        );
        tokio::time::sleep(Duration::from_secs(secs)).await;
    }
}

/// A digest whose scheduled time passed while the daemon was down (or was dropped by a reload)
/// is sent at start-up (and after a reload), unless that week's issue was already sent (the
/// digest itself says so and sends nothing). It is retried like a scheduled one, and like any
/// issue it is built after [`refresh_before_digest`]: at start-up the store is as old as the
/// daemon's downtime (empty, on a first start), and the sources not refreshed since the week
/// ended are refreshed first; after a reload they normally were, and the issue is built at once.
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
    let week = crate::digest::week::last_complete_week(now, sched.tz);
    if last_firing < week.end {
        return;
    }
    tracing::debug!("the digest scheduled for {last_firing} may have been missed: checking");
    digest_with_retries(shared, &sched, sched.next_after(now), true).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sched(expr: &str, tz: &str) -> Schedule {
        Schedule {
            job: Job::Digest,
            expr: expr.to_owned(),
            cron: crate::config::parse_schedule(expr).expect("cron"),
            tz: tz.parse().expect("zone"),
        }
    }

    #[test]
    fn the_warning_for_a_schedule_without_firings_names_its_job() {
        let mut s = sched("0 0 1 1 *", "UTC");
        s.job = Job::Refresh("a".into());
        let msg = s.never_fires_again();
        assert!(
            msg.starts_with("source a: ") && msg.contains("\"0 0 1 1 *\" never fires again"),
            "{msg}"
        );
        s.job = Job::Digest;
        let msg = s.never_fires_again();
        assert!(msg.starts_with("digest: "), "{msg}");
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("time")
            .with_timezone(&Utc)
    }

    fn secs(n: i64) -> chrono::Duration {
        chrono::Duration::seconds(n)
    }

    fn mins(n: i64) -> chrono::Duration {
        chrono::Duration::minutes(n)
    }

    /// One run seen by [`simulate`].
    #[derive(Debug, Clone, Copy, PartialEq)]
    struct Ran {
        /// The firing it ran for.
        fired: DateTime<Utc>,
        /// The wall clock when it started.
        wall: DateTime<Utc>,
        /// Real time since the simulation started.
        real: chrono::Duration,
    }

    /// Drive the decisions of `schedule_loop` with simulated clocks: real time starts at 0 and
    /// the wall clock at `start`; each `(at, delta)` of `steps` moves the wall clock by `delta`
    /// once real time reaches `at`; every job takes `job` of real time. Returns the runs that
    /// started before `until` (real time).
    fn simulate(
        sched: &Schedule,
        start: DateTime<Utc>,
        steps: &[(chrono::Duration, chrono::Duration)],
        job: chrono::Duration,
        jitter: Duration,
        until: chrono::Duration,
    ) -> Vec<Ran> {
        let wall = |real: chrono::Duration| {
            steps
                .iter()
                .filter(|(at, _)| *at <= real)
                .fold(start + real, |w, (_, d)| w + *d)
        };
        let mut real = chrono::Duration::zero();
        let mut reference = real;
        let mut plan = Plan::new(sched, start, start, jitter).expect("fires");
        let mut runs = Vec::new();
        for _ in 0..1_000_000 {
            if real >= until {
                return runs;
            }
            let elapsed = (real - reference).to_std().expect("monotonic");
            match plan.decide(sched, wall(real), elapsed) {
                Decision::Wait(d) => {
                    assert!(d > Duration::ZERO && d <= MAX_NAP, "{d:?}");
                    real += chrono::Duration::from_std(d).expect("nap");
                }
                Decision::Run(fired) => {
                    let decided_at = wall(real);
                    runs.push(Ran {
                        fired,
                        wall: decided_at,
                        real,
                    });
                    reference = real;
                    real += job;
                    let consumed = fired.max(wall(real) - secs(1));
                    plan = Plan::new(sched, consumed, decided_at, jitter).expect("fires");
                }
            }
        }
        panic!("the simulation did not reach {until}");
    }

    fn fired(runs: &[Ran]) -> Vec<DateTime<Utc>> {
        runs.iter().map(|r| r.fired).collect()
    }

    /// The firings croner gives after `start`, up to `end`.
    fn croner_firings(
        sched: &Schedule,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Vec<DateTime<Utc>> {
        let mut out = Vec::new();
        let mut t = start;
        while let Some(n) = sched.next_after(t).filter(|n| *n < end) {
            out.push(n);
            t = n;
        }
        out
    }

    const HALF_HOURLY: &str = "*/30 * * * *";

    #[test]
    fn decide_waits_in_naps_and_runs_at_the_firing() {
        let s = sched(HALF_HOURLY, "UTC");
        let start = utc("2024-05-01T12:00:10Z");
        let plan = Plan::new(&s, start, start, Duration::ZERO).expect("fires");
        assert_eq!(plan.next, utc("2024-05-01T12:30:00Z"));
        assert_eq!(
            plan.decide(&s, start, Duration::ZERO),
            Decision::Wait(MAX_NAP)
        );
        assert_eq!(
            plan.decide(&s, utc("2024-05-01T12:29:50Z"), Duration::from_secs(1780)),
            Decision::Wait(Duration::from_secs(10))
        );
        assert_eq!(
            plan.decide(&s, utc("2024-05-01T12:30:00Z"), Duration::from_secs(1790)),
            Decision::Run(utc("2024-05-01T12:30:00Z"))
        );
        // Three hours later by the wall clock after 5 minutes of real time: one run, for the
        // last firing passed.
        assert_eq!(
            plan.decide(&s, utc("2024-05-01T15:05:10Z"), Duration::from_secs(300)),
            Decision::Run(utc("2024-05-01T15:00:00Z"))
        );
    }

    #[test]
    fn decide_after_a_backward_step_waits_for_one_interval_of_real_time() {
        let s = sched(HALF_HOURLY, "UTC");
        // 12:30 ran; the plan was made when the wall clock read 12:30:00.
        let made = utc("2024-05-01T12:30:00Z");
        let plan = Plan::new(&s, made, made, Duration::ZERO).expect("fires");
        assert_eq!(plan.next, utc("2024-05-01T13:00:00Z"));
        // The clock went back 5 s right after: 12:30 is not run again.
        let d = plan.decide(&s, utc("2024-05-01T12:29:57Z"), Duration::from_secs(2));
        assert_eq!(d, Decision::Wait(MAX_NAP));
        assert_eq!(
            plan.decide(&s, utc("2024-05-01T12:30:00Z"), Duration::from_secs(5)),
            Decision::Wait(MAX_NAP)
        );
        // The clock went back an hour: 12:00 of the corrected clock comes half an hour of real
        // time after the last run, when 13:00 was due. It runs then, not an hour later.
        assert_eq!(
            plan.decide(&s, utc("2024-05-01T11:59:40Z"), Duration::from_secs(1780)),
            Decision::Wait(Duration::from_secs(20))
        );
        assert_eq!(
            plan.decide(&s, utc("2024-05-01T12:00:00Z"), Duration::from_secs(1800)),
            Decision::Run(utc("2024-05-01T12:00:00Z"))
        );
    }

    #[test]
    fn without_clock_steps_every_firing_runs_once_on_time() {
        let s = sched(HALF_HOURLY, "UTC");
        let start = utc("2024-05-01T12:00:10Z");
        let runs = simulate(&s, start, &[], secs(3), Duration::ZERO, mins(185));
        assert_eq!(
            fired(&runs),
            croner_firings(&s, start, utc("2024-05-01T15:05:10Z"))
        );
        assert_eq!(runs.len(), 6);
        assert!(runs.iter().all(|r| r.wall == r.fired), "{runs:?}");

        let jittered = simulate(&s, start, &[], secs(3), Duration::from_secs(20), mins(185));
        assert_eq!(fired(&jittered), fired(&runs));
        assert!(
            jittered.iter().all(|r| r.wall == r.fired + secs(20)),
            "{jittered:?}"
        );
    }

    #[test]
    fn a_forward_step_over_many_firings_runs_once_and_promptly() {
        let s = sched(HALF_HOURLY, "UTC");
        let start = utc("2024-05-01T12:00:10Z");
        let step_at = mins(5);
        let runs = simulate(
            &s,
            start,
            &[(step_at, chrono::Duration::hours(3))],
            secs(3),
            Duration::ZERO,
            mins(65),
        );
        assert_eq!(
            fired(&runs),
            [
                utc("2024-05-01T15:00:00Z"),
                utc("2024-05-01T15:30:00Z"),
                utc("2024-05-01T16:00:00Z"),
            ],
            "six firings passed over, one run"
        );
        let late = runs[0].real - step_at;
        assert!(
            late <= chrono::Duration::from_std(MAX_NAP).expect("nap"),
            "{late}"
        );
        assert_eq!(runs[1].wall, runs[1].fired, "then on time again");
    }

    #[test]
    fn a_forward_step_over_one_firing_runs_it_once() {
        let s = sched(HALF_HOURLY, "UTC");
        let start = utc("2024-05-01T12:00:10Z");
        let runs = simulate(
            &s,
            start,
            &[(mins(25), mins(10))],
            secs(3),
            Duration::ZERO,
            mins(50),
        );
        assert_eq!(
            fired(&runs),
            [utc("2024-05-01T12:30:00Z"), utc("2024-05-01T13:00:00Z")]
        );
        assert!(runs[0].real - mins(25) <= secs(30), "{runs:?}");
    }

    /// Runs after a backward step: never the firing that ran just before it, never two runs
    /// closer than one interval of real time.
    fn assert_spaced(runs: &[Ran], interval: chrono::Duration) {
        for w in runs.windows(2) {
            assert!(w[1].real - w[0].real >= interval, "{runs:#?}");
        }
    }

    #[test]
    fn a_small_backward_step_never_runs_the_same_firing_twice() {
        let s = sched(HALF_HOURLY, "UTC");
        let start = utc("2024-05-01T12:00:10Z");
        // 12:30 runs at 29:50 of real time and takes 3 s; 5 s later the clock goes back 10 s,
        // to before 12:30.
        for step_at in [secs(1790) + secs(1), secs(1790) + secs(8)] {
            let runs = simulate(
                &s,
                start,
                &[(step_at, secs(-10))],
                secs(3),
                Duration::ZERO,
                mins(95),
            );
            assert_eq!(
                fired(&runs),
                [
                    utc("2024-05-01T12:30:00Z"),
                    utc("2024-05-01T13:00:00Z"),
                    utc("2024-05-01T13:30:00Z"),
                ],
                "step at {step_at}"
            );
            assert!(runs[1..].iter().all(|r| r.wall == r.fired), "{runs:?}");
            assert_spaced(&runs, mins(30));
        }
    }

    #[test]
    fn a_backward_step_longer_than_the_interval_does_not_stall() {
        let s = sched(HALF_HOURLY, "UTC");
        let start = utc("2024-05-01T12:00:10Z");
        // 12:30 ran at 29:50; at 40:00 the clock goes back an hour (12:40:10 -> 11:40:10).
        let runs = simulate(
            &s,
            start,
            &[(mins(40), chrono::Duration::hours(-1))],
            secs(3),
            Duration::ZERO,
            mins(125),
        );
        assert_eq!(
            fired(&runs),
            [
                utc("2024-05-01T12:30:00Z"),
                utc("2024-05-01T12:00:00Z"),
                utc("2024-05-01T12:30:00Z"),
                utc("2024-05-01T13:00:00Z"),
            ],
            "the corrected clock's firings, each once"
        );
        // 13:00 of the old clock was due at 59:50 of real time: the corrected clock's 12:00
        // runs right then.
        assert_eq!(runs[1].real, secs(1790) + mins(30));
        assert!(runs[1..].iter().all(|r| r.wall == r.fired), "{runs:?}");
        assert_spaced(&runs, mins(30));
    }

    #[test]
    fn a_backward_step_shorter_than_the_interval_delays_by_at_most_the_step() {
        let s = sched(HALF_HOURLY, "UTC");
        let start = utc("2024-05-01T12:00:10Z");
        // 12:30 ran at 29:50; at 35:00 the clock goes back 20 min (12:35:10 -> 12:15:10).
        let runs = simulate(
            &s,
            start,
            &[(mins(35), mins(-20))],
            secs(3),
            Duration::ZERO,
            mins(115),
        );
        assert_eq!(
            fired(&runs),
            [
                utc("2024-05-01T12:30:00Z"),
                utc("2024-05-01T13:00:00Z"),
                utc("2024-05-01T13:30:00Z"),
            ],
            "12:30, reached again 20 min of real time after it ran, is not run twice"
        );
        let stall = runs[1].real - (secs(1790) + mins(30));
        assert_eq!(stall, mins(20), "{runs:?}");
        assert_spaced(&runs, mins(30));
    }

    #[test]
    fn a_backward_step_during_a_job_does_not_repeat_it() {
        let s = sched(HALF_HOURLY, "UTC");
        let start = utc("2024-05-01T12:00:10Z");
        let runs = simulate(
            &s,
            start,
            &[(secs(1790) + secs(1), mins(-1))],
            secs(3),
            Duration::ZERO,
            mins(95),
        );
        assert_eq!(
            fired(&runs),
            [
                utc("2024-05-01T12:30:00Z"),
                utc("2024-05-01T13:00:00Z"),
                utc("2024-05-01T13:30:00Z"),
            ]
        );
        assert_spaced(&runs, mins(30));
    }

    #[test]
    fn a_weekly_digest_is_not_sent_twice_when_the_clock_goes_back_a_day() {
        let s = sched("0 8 * * MON", "America/New_York");
        let start = utc("2024-05-05T12:00:00-04:00");
        let monday = utc("2024-05-06T08:00:00-04:00");
        let ran_at = monday - start;
        let runs = simulate(
            &s,
            start,
            &[(ran_at + mins(10), chrono::Duration::days(-1))],
            secs(3),
            Duration::ZERO,
            chrono::Duration::days(10),
        );
        assert_eq!(
            fired(&runs),
            [monday, utc("2024-05-13T08:00:00-04:00")],
            "{runs:?}"
        );
    }

    #[test]
    fn a_job_that_runs_past_the_next_firing_skips_it() {
        let s = sched(HALF_HOURLY, "UTC");
        let start = utc("2024-05-01T12:00:10Z");
        let runs = simulate(&s, start, &[], mins(40), Duration::ZERO, mins(155));
        assert_eq!(
            fired(&runs),
            [
                utc("2024-05-01T12:30:00Z"),
                utc("2024-05-01T13:30:00Z"),
                utc("2024-05-01T14:30:00Z"),
            ]
        );
    }

    /// Runs over a DST change follow croner's firings exactly: each once, on time.
    fn assert_follows_croner(expr: &str, from: &str, to: &str) -> Vec<DateTime<Utc>> {
        let s = sched(expr, "America/New_York");
        let (start, end) = (utc(from), utc(to));
        let runs = simulate(&s, start, &[], secs(3), Duration::ZERO, end - start);
        assert_eq!(fired(&runs), croner_firings(&s, start, end));
        assert!(runs.iter().all(|r| r.wall == r.fired), "{runs:?}");
        fired(&runs)
    }

    #[test]
    fn spring_forward_runs_a_time_in_the_gap_once() {
        // 2024-03-10 02:00 EST became 03:00 EDT in New York: 02:30 did not exist that day.
        let runs = assert_follows_croner(
            "30 2 * * *",
            "2024-03-08T12:00:00-05:00",
            "2024-03-11T12:00:00-04:00",
        );
        assert_eq!(
            runs,
            [
                utc("2024-03-09T02:30:00-05:00"),
                utc("2024-03-10T03:00:00-04:00"),
                utc("2024-03-11T02:30:00-04:00"),
            ]
        );
        let runs = assert_follows_croner(
            HALF_HOURLY,
            "2024-03-10T00:50:00-05:00",
            "2024-03-10T04:10:00-04:00",
        );
        assert_eq!(
            runs,
            [
                utc("2024-03-10T01:00:00-05:00"),
                utc("2024-03-10T01:30:00-05:00"),
                utc("2024-03-10T03:00:00-04:00"),
                utc("2024-03-10T03:30:00-04:00"),
                utc("2024-03-10T04:00:00-04:00"),
            ]
        );
    }

    #[test]
    fn fall_back_runs_a_repeated_time_once_and_intervals_in_both_passes() {
        // 2024-11-03 02:00 EDT became 01:00 EST in New York: 01:30 happened twice.
        let runs = assert_follows_croner(
            "30 1 * * *",
            "2024-11-02T12:00:00-04:00",
            "2024-11-04T12:00:00-05:00",
        );
        assert_eq!(
            runs,
            [
                utc("2024-11-03T01:30:00-04:00"),
                utc("2024-11-04T01:30:00-05:00"),
            ]
        );
        let runs = assert_follows_croner(
            HALF_HOURLY,
            "2024-11-03T00:50:00-04:00",
            "2024-11-03T02:10:00-05:00",
        );
        assert_eq!(
            runs,
            [
                utc("2024-11-03T01:00:00-04:00"),
                utc("2024-11-03T01:30:00-04:00"),
                utc("2024-11-03T01:00:00-05:00"),
                utc("2024-11-03T01:30:00-05:00"),
                utc("2024-11-03T02:00:00-05:00"),
            ]
        );
    }
}
