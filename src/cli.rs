//! Command line: one function per subcommand.
//!
//! Owns: argument parsing, logging setup, the terminal progress bar, printing reports to stderr
//! (each line through `say!`: the human text, through `terminal::Printable` when it may carry a
//! site's text, or a log event with the same text in the JSON format), and exit codes (0 all
//! good, 1 some post, source or feed failed, 2 usage or configuration error; `run` and
//! `backfill` stopped by SIGINT or SIGTERM end by that signal). Must not: run SQL,
//! HTTP or templates directly; it calls `pipeline`; write to stderr but through `say!` or the log.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use chrono::Utc;
use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::pipeline::{self, NoProgress, Progress};
use crate::source::Fetcher;
use crate::store::{Store, StoreError};

/// Turn a website's category of posts into Atom, RSS and JSON feeds.
#[derive(Debug, Parser)]
#[command(name = "feedwright", version, about)]
pub struct Cli {
    /// Configuration file.
    #[arg(
        long,
        global = true,
        default_value = "config.toml",
        value_name = "PATH"
    )]
    pub config: PathBuf,
    /// More log output (repeat for more); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Log format on stderr: human-readable, or one JSON object per line.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Human)]
    pub log_format: LogFormat,
    /// When another feedwright process holds the store (a run still going when cron starts
    /// the next command), wait up to this many seconds for it instead of exiting 2 at once.
    /// For `run`, `backfill`, `digest`, `daemon` and `forget`.
    #[arg(long, global = true, value_name = "SECONDS", default_value_t = 0)]
    pub wait: u64,
    #[command(subcommand)]
    pub command: Command,
}

/// `--log-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Human,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Refresh every source once, publish every feed, exit.
    Run,
    /// Validate the configuration and exit (0 valid, 2 invalid).
    Check,
    /// Walk the whole archive of one source (or all), resumably, then publish.
    Backfill {
        /// The `[[source]] name`; all sources when omitted.
        source: Option<String>,
    },
    /// Print a table of sources: state, last success, last run's figures, last error.
    Status,
    /// Run the schedules (each source's `schedule`, the digest's) until SIGTERM or SIGINT;
    /// SIGHUP reloads the configuration and templates. Serves `output_dir` with `[server]`.
    Daemon,
    /// Serve `output_dir`, `/healthz` and `/metrics` on `[server] listen` until SIGTERM/SIGINT.
    Serve,
    /// Build the weekly digest for the last complete ISO week before --now; write and send it.
    Digest {
        /// The moment to compute "last week" from (RFC 3339); default: now.
        #[arg(long, value_name = "RFC3339")]
        now: Option<String>,
        /// Write the files; send nothing and change no state.
        #[arg(long)]
        dry_run: bool,
        /// Send a test copy to this address only; marks nothing as sent.
        #[arg(long, value_name = "ADDR")]
        to: Option<String>,
    },
    /// Delete what the store holds of a source removed from the configuration.
    ///
    /// Its posts no other source holds are deleted (a post another source holds stays, that
    /// source's only), with its pending posts, unfinished backfill, health and run history, in
    /// one transaction; the feeds change at the next run. Complete archive pages keep the
    /// copies they froze, and the digest's history what it mailed. Refused for a source the
    /// configuration has, one the store holds nothing of, and one a configured source takes
    /// over as renamed. Takes the store's lock as `run` does (see --wait): stop a daemon first.
    Forget {
        /// The name of the source, no longer in the configuration.
        source: String,
        /// Say what would be deleted; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

/// The target of the log events that stand for the lines a command writes to stderr itself in
/// the JSON format (see [`say`]): never filtered out, as those lines are not in the human one.
const REPORT: &str = "feedwright::report";

/// A line a command writes to stderr itself (a report line, a warning, an error). In the human
/// format: `$prefix` then the text, shown with `$show` (`plain`, or `Printable` for a line that
/// may carry a site's text). In the JSON format: a log event at `$level` whose message is the
/// text (without the prefix: the level says `warning`/`error`, and indentation means nothing
/// there) and with the `[...]` fields, written by the log, which removes credentials and
/// escapes control characters. Both formats say the same thing; only the form differs.
macro_rules! say {
    ($level:ident, $prefix:literal, $show:path, [], $($text:tt)+) => {
        if crate::terminal::json_log() {
            tracing::$level!(target: REPORT, $($text)+)
        } else {
            eprintln!("{}{}", $prefix, $show(format_args!($($text)+)))
        }
    };
    ($level:ident, $prefix:literal, $show:path, [$($field:tt)+], $($text:tt)+) => {
        if crate::terminal::json_log() {
            tracing::$level!(target: REPORT, $($field)+, $($text)+)
        } else {
            eprintln!("{}{}", $prefix, $show(format_args!($($text)+)))
        }
    };
}

/// `error: …` ([`say`], plain): an error that ends the command.
macro_rules! error_line {
    ($($arg:tt)+) => { say!(error, "error: ", plain, $($arg)+) };
}

/// `warning: …` ([`say`], plain).
macro_rules! warning_line {
    ($($arg:tt)+) => { say!(warn, "warning: ", plain, $($arg)+) };
}

/// A line of a report ([`say`] through [`crate::terminal::Printable`]), which may carry a
/// site's text (a URL, the error it caused) and must stay one harmless line.
macro_rules! report {
    ($level:ident, $($arg:tt)+) => { say!($level, "", crate::terminal::Printable, $($arg)+) };
}

/// A report line about the one above it, indented under it in the human format.
macro_rules! detail {
    ($level:ident, $($arg:tt)+) => { say!($level, "  ", crate::terminal::Printable, $($arg)+) };
}

/// What [`say`] shows a line with when it carries no remote text.
fn plain<T>(text: T) -> T {
    text
}

/// Exit codes of the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Ok = 0,
    Failures = 1,
    Usage = 2,
    /// `run` or `backfill` stopped by SIGINT: the process ends by that signal (see
    /// `service::end_by`), which a shell reports as 130; the code itself only if it does not.
    Interrupted = 130,
    /// The same, by SIGTERM (143).
    Terminated = 143,
}

impl Exit {
    fn stopped_by(signal: crate::service::StopSignal) -> Exit {
        match signal {
            crate::service::StopSignal::Int => Exit::Interrupted,
            crate::service::StopSignal::Term => Exit::Terminated,
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e as u8)
    }
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) if !e.use_stderr() => {
            // --help, --version: on stdout.
            let _ = e.print();
            return Exit::Ok.into();
        }
        Err(e) => {
            // A command line that asks for JSON is answered in JSON, even when wrong elsewhere.
            if asks_for_json(std::env::args_os().skip(1)) {
                init_logging(0, LogFormat::Json);
                let text = e.render().to_string();
                let text = text.strip_prefix("error: ").unwrap_or(&text);
                error_line!([], "{}", text.trim_end());
            } else {
                let _ = e.print();
            }
            return Exit::Usage.into();
        }
    };
    init_logging(cli.verbose, cli.log_format);
    let wait = Duration::from_secs(cli.wait);
    let exit = match cli.command {
        Command::Check => check(&cli.config),
        Command::Run => run(&cli.config, None, wait),
        Command::Backfill { source } => run(&cli.config, Some(source), wait),
        Command::Status => status(&cli.config),
        Command::Daemon => daemon(&cli.config, wait),
        Command::Serve => serve(&cli.config),
        Command::Digest { now, dry_run, to } => {
            digest(&cli.config, now.as_deref(), dry_run, to, wait)
        }
        Command::Forget { source, dry_run } => forget(&cli.config, &source, dry_run, wait),
    };
    // Stopped by a signal, and done: ended by it, as the signal's default action would have.
    match exit {
        Exit::Interrupted => crate::service::end_by(crate::service::StopSignal::Int),
        Exit::Terminated => crate::service::end_by(crate::service::StopSignal::Term),
        _ => {}
    }
    exit.into()
}

/// Whether `args` hold `--log-format json` (or `--log-format=json`) before any `--`.
fn asks_for_json(args: impl IntoIterator<Item = std::ffi::OsString>) -> bool {
    let mut after_flag = false;
    for arg in args {
        if arg == "--" {
            return false;
        }
        if (after_flag && arg == "json") || arg == "--log-format=json" {
            return true;
        }
        after_flag = arg == "--log-format";
    }
    false
}

fn init_logging(verbose: u8, format: LogFormat) {
    // The HTML parser and its neighbours warn about every oddity of a page's markup (one line
    // per misnested tag, without the page's URL): only their errors get through by default.
    // The migration runner's own lines (one per migration, with its source paths) too: the
    // store says in one line when it upgraded its schema.
    const QUIET_PARSER: &str = "html5ever=error,markup5ever=error,selectors=error,scraper=error,refinery_core=warn,\
         rustls_platform_verifier=off";
    let default = match verbose {
        0 => format!("warn,feedwright=info,{QUIET_PARSER}"),
        1 => format!("info,feedwright=debug,{QUIET_PARSER}"),
        // The HTML parser logs every token at debug level: keep it out.
        _ => "debug,html5ever=info,selectors=info,scraper=info,markup5ever=info".to_string(),
    };
    // The lines a command writes itself are written whatever the filter says, in both formats.
    let always: tracing_subscriber::filter::Directive =
        format!("{REPORT}=info").parse().expect("a valid directive");
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default))
        .add_directive(always);
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    // JSON escapes every C0 control character itself, and its lines lose URL credentials on
    // their way out; a line of the human format shows each field through `terminal::Printable`.
    let _ = match format {
        LogFormat::Json => {
            crate::terminal::set_json_log();
            std::panic::set_hook(Box::new(log_panic));
            builder
                .json()
                .with_writer(|| crate::terminal::LogWriter)
                .try_init()
        }
        LogFormat::Human => builder
            .with_writer(|| crate::terminal::HumanWriter)
            .with_ansi(std::io::stderr().is_terminal())
            .fmt_fields(crate::terminal::log_fields())
            .try_init(),
    };
}

/// A panic, in the JSON format: an error event like every other line (the standard message is
/// plain text), with the backtrace when `RUST_BACKTRACE` asks for one.
fn log_panic(info: &std::panic::PanicHookInfo<'_>) {
    let thread = std::thread::current();
    let backtrace = std::backtrace::Backtrace::capture();
    let backtrace = (backtrace.status() == std::backtrace::BacktraceStatus::Captured)
        .then(|| backtrace.to_string());
    tracing::error!(
        target: REPORT,
        thread = thread.name().unwrap_or("<unnamed>"),
        location = info.location().map(ToString::to_string),
        backtrace,
        "panicked: {}",
        info.payload_as_str().unwrap_or("Box<dyn Any>")
    );
}

fn load(path: &Path) -> Result<Config, Exit> {
    Config::load(path).map_err(|e| {
        error_line!([config = %path.display()], "{e}");
        Exit::Usage
    })
}

fn config_dir(path: &Path) -> PathBuf {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// `feedwright check`: the configuration, its local paths (`output_dir`, `dir` sources' folders),
/// the feed stylesheet override and, with a `[digest]`, its templates. Creates nothing and makes
/// no request.
pub fn check(path: &Path) -> Exit {
    match load(path) {
        Ok(cfg) => {
            if let Err(e) = cfg.check_paths(path) {
                error_line!([config = %path.display()], "{e}");
                return Exit::Usage;
            }
            if cfg.digest.is_some()
                && let Err(e) = crate::digest::check_templates(&cfg, &config_dir(path))
            {
                error_line!([config = %path.display()], "{}", e.in_config_file(path));
                return Exit::Usage;
            }
            if let Err(e) = pipeline::stylesheet(&config_dir(path)) {
                error_line!([config = %path.display()], "{e}");
                return Exit::Usage;
            }
            let notes = cfg.advice().into_iter().chain(crate::digest::advice(&cfg));
            for note in notes.chain(crate::digest::history_advice(&cfg)) {
                warning_line!([config = %path.display()], "{}: {note}", path.display());
            }
            println!(
                "{}: OK ({} source(s), {} feed(s))",
                path.display(),
                cfg.sources.len(),
                cfg.feeds.len()
            );
            Exit::Ok
        }
        Err(e) => e,
    }
}

/// Open the store, waiting up to `wait` while another process holds it, printing the error
/// (which names the database) on failure.
fn open_store(cfg: &Config, wait: Duration) -> Result<Store, Exit> {
    let path = &cfg.store.path;
    let started = std::time::Instant::now();
    let mut said = false;
    loop {
        match Store::open(path) {
            Err(StoreError::Locked { .. }) if started.elapsed() < wait => {
                if !said {
                    say!(
                        info,
                        "",
                        plain,
                        [store = %path.display()],
                        "waiting up to {} s for the other feedwright process using {} to finish",
                        wait.as_secs(),
                        path.display()
                    );
                    said = true;
                }
                std::thread::sleep(LOCK_POLL.min(wait.saturating_sub(started.elapsed())));
            }
            Err(e @ StoreError::Locked { .. }) if said => {
                error_line!(
                    [store = %path.display()],
                    "{e} (still, after waiting {} s: a longer --wait waits longer)",
                    wait.as_secs()
                );
                return Err(Exit::Usage);
            }
            Err(e) => {
                let hint = if matches!(e, StoreError::Locked { .. }) {
                    " (a `run` or `backfill` ends by itself: --wait SECONDS waits for it; a \
                     `daemon` holds the store until it is stopped: stop it first, or preview a \
                     digest with --dry-run or --to, which read the store without it)"
                } else {
                    ""
                };
                error_line!([store = %path.display()], "{e}{hint}");
                return Err(Exit::Usage);
            }
            Ok(store) => return Ok(store),
        }
    }
}

/// How often a waiting command tries the store's lock again.
const LOCK_POLL: Duration = Duration::from_millis(200);

/// The async runtime for commands that fetch or serve.
fn runtime() -> Result<tokio::runtime::Runtime, Exit> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            error_line!([], "cannot start the async runtime: {e}");
            Exit::Usage
        })
}

/// The runtime of a long-running command, and its SIGHUP listener, installed at once (see
/// `service`).
fn runtime_hearing_reloads() -> Result<(tokio::runtime::Runtime, tokio::signal::unix::Signal), Exit>
{
    let runtime = runtime()?;
    match crate::service::hangup(&runtime) {
        Ok(hup) => Ok((runtime, hup)),
        Err(e) => {
            error_line!([], "{e}");
            Err(Exit::Failures)
        }
    }
}

struct Bar(indicatif::ProgressBar);
impl Progress for Bar {
    fn add_total(&self, n: u64) {
        self.0.inc_length(n);
    }
    fn tick(&self) {
        self.0.inc(1);
    }
}

/// `feedwright run`, or `feedwright backfill [SOURCE]` when `backfill` is set.
pub fn run(path: &Path, backfill: Option<Option<String>>, wait: Duration) -> Exit {
    let cfg = match load(path) {
        Ok(c) => c,
        Err(e) => return e,
    };
    if let Some(Some(name)) = &backfill
        && cfg.source(name).is_none()
    {
        error_line!(
            [config = %path.display()],
            "{}: no [[source]] is named {name:?}",
            path.display()
        );
        return Exit::Usage;
    }
    for note in cfg.advice() {
        warning_line!([config = %path.display()], "{}: {note}", path.display());
    }
    if let Err(e) = cfg.check_output_dir(path) {
        error_line!([config = %path.display()], "{e}");
        return Exit::Usage;
    }
    if let Err(e) = pipeline::prepare_output_dir(&cfg.output_dir) {
        error_line!(
            [output_dir = %cfg.output_dir.display()],
            "{}: {e}",
            path.display()
        );
        return Exit::Usage;
    }
    let mut store = match open_store(&cfg, wait) {
        Ok(s) => s,
        Err(e) => return e,
    };
    // A source renamed takes its history along before anything is read or published.
    carry_renames_over(&cfg, &mut store);
    let fetcher = match Fetcher::new(&cfg.http) {
        Ok(f) => f,
        Err(e) => {
            error_line!([config = %path.display()], "{e}");
            return Exit::Usage;
        }
    };
    let runtime = match runtime() {
        Ok(r) => r,
        Err(e) => return e,
    };
    // SIGINT or SIGTERM: no request is sent any more, those in progress get a few seconds, what
    // was read is stored and the feeds are published, then the process ends by the signal.
    let interrupter = fetcher.interrupter();
    let heard = match crate::service::on_stop(&runtime, move |signal| {
        interrupter.interrupt();
        tracing::info!(
            "{}: stopping: no new request is sent, those in progress get up to {} s, then what \
             was read is stored and the feeds are published ({} again stops at once)",
            signal.name(),
            crate::source::INTERRUPT_GRACE.as_secs(),
            signal.name()
        );
    }) {
        Ok(h) => h,
        Err(e) => {
            error_line!([], "{e}");
            return Exit::Usage;
        }
    };
    // A bar is for a person at a terminal: none among JSON lines.
    let bar = (std::io::stderr().is_terminal() && !crate::terminal::json_log()).then(|| {
        let pb = indicatif::ProgressBar::new(0);
        pb.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} {pos}/{len} posts {wide_bar} {elapsed}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        crate::terminal::show_bar(&pb);
        Bar(pb)
    });
    let progress: &dyn Progress = match &bar {
        Some(b) => b,
        None => &NoProgress,
    };
    // Where each unfinished backfill stands before this one (see the summary below).
    let places_before: std::collections::HashMap<String, Option<(String, u32)>> =
        if backfill.is_some() {
            cfg.sources
                .iter()
                .map(|src| {
                    (
                        src.name.clone(),
                        store.backfill_get(&src.name).ok().flatten(),
                    )
                })
                .collect()
        } else {
            std::collections::HashMap::new()
        };
    let report = match &backfill {
        None => runtime.block_on(pipeline::refresh(&cfg, &mut store, &fetcher, progress)),
        Some(only) => runtime.block_on(async {
            let mut report = crate::model::RunReport::default();
            for src in cfg
                .sources
                .iter()
                .filter(|s| only.as_ref().is_none_or(|n| *n == s.name))
            {
                // Interrupted: the sources not begun are left as they are.
                if fetcher.interrupted() {
                    break;
                }
                // Unfinished, what it stored waits past the heads: recorded as it is stored
                // (see `Store::note_backfill_found`), so an interruption loses none of it.
                let rep =
                    pipeline::backfill_source(&cfg, src, &mut store, &fetcher, progress).await;
                report.sources.push(rep);
            }
            report
        }),
    };
    if backfill.is_some() {
        pipeline::fix_related(&cfg, &mut store, &report);
    }
    crate::terminal::hide_bar();
    for s in &report.sources {
        // The counts as fields of the event in the JSON format; at warning level when the
        // source could not be read or a post failed, as the daemon logs it.
        macro_rules! summary {
            ($level:ident) => {
                report!(
                    $level,
                    [
                        source = %s.source,
                        new = s.new,
                        updated = s.updated,
                        unchanged = s.unchanged,
                        linked = s.linked,
                        failed = s.failures.len(),
                        requests = s.requests,
                        not_modified = s.not_modified,
                        bytes = s.bytes,
                        error = s.fatal.as_deref()
                    ],
                    "{}: {}",
                    s.source,
                    s.summary()
                )
            };
        }
        if s.fatal.is_some() || !s.failures.is_empty() {
            summary!(warn);
        } else {
            summary!(info);
        }
        if let Some((from, to, posts)) = &s.site_moved {
            detail!(
                info,
                [source = %s.source, from = %from, to = %to, posts],
                "its site moved from {from} to {to}: {posts} stored {} now there, the same \
                 entries with the same ids",
                if *posts == 1 { "post is" } else { "posts are" }
            );
        }
        if let Some(why) = &s.degraded {
            detail!(
                warn,
                [source = %s.source, reason = %why],
                "degraded: {why}; feeds keep the last good entries"
            );
        }
        if s.deferred > 0 {
            detail!(
                info,
                [source = %s.source, deferred = s.deferred],
                "{} post(s) left for the next run",
                s.deferred
            );
        }
        if let Some(url) = &s.backfill_left_at {
            detail!(
                info,
                [source = %s.source, url = %url],
                "the rest of the archive is left for the next run (request budget used up); \
                 the next backfill continues at {url}"
            );
        } else if backfill.is_some()
            && let Ok(Some((url, _))) = store.backfill_get(&s.source)
        {
            // Stopped inside a page (its posts left for the next run) or by a failure.
            detail!(
                info,
                [source = %s.source, url = %url],
                "the backfill is not complete: `feedwright backfill {}` continues at {url}",
                s.source
            );
        }
        if backfill.is_some()
            && s.new == 0
            && s.updated == 0
            && (s.deferred > 0 || s.backfill_left_at.is_some())
            && let Some(Some(place)) = places_before.get(&s.source)
            && store.backfill_get(&s.source).ok().flatten().as_ref() == Some(place)
        {
            // It started and stopped at the same place, storing nothing: the next backfill
            // would do the same.
            detail!(
                warn,
                [source = %s.source, max_requests = cfg.http.max_requests],
                "the request budget ran out before a single post was stored (http.max_requests \
                 = {}): raise it, or the backfill cannot move on",
                cfg.http.max_requests
            );
        }
        for (url, reason) in &s.failures {
            detail!(
                warn,
                [source = %s.source, url = %url, reason = %reason],
                "failed {url}: {reason}"
            );
        }
        for (url, reason) in &s.skipped {
            detail!(
                info,
                [source = %s.source, url = %url, reason = %reason],
                "skipped {url}: {reason}"
            );
        }
    }
    let mut failed = report.failed();
    let published = pipeline::publish_all(&cfg, &mut store, &config_dir(path), Utc::now());
    if let Some(e) = &published.stylesheet_error {
        failed = true;
        report!(error, [], "stylesheet: {e}");
    }
    for result in &published.feeds {
        match result {
            Ok(p) if p.files.is_empty() => {
                report!(
                    info,
                    [feed = %p.feed],
                    "feed {}: no entries yet, nothing published",
                    p.feed
                )
            }
            Ok(p) => {
                let changed = p.files.iter().filter(|(_, c)| *c).count();
                let archive = match p.archive_pages {
                    0 => String::new(),
                    1 => " (+ 1 archive page)".to_string(),
                    n => format!(" (+ {n} archive pages)"),
                };
                let dir = cfg.output_dir.join(&p.feed);
                report!(
                    info,
                    [
                        feed = %p.feed,
                        entries = p.entries,
                        archive_pages = p.archive_pages,
                        changed,
                        files = p.files.len(),
                        dir = %dir.display()
                    ],
                    "feed {}: {} {}{archive}, {} of {} files changed in {}",
                    p.feed,
                    p.entries,
                    if p.entries == 1 { "entry" } else { "entries" },
                    changed,
                    p.files.len(),
                    dir.display()
                );
                // The categories named come from the sites, the folder from the config: shown
                // as a report line is.
                let warnings = [p.unmatched_categories.clone(), p.unknown_archive_note(&dir)];
                for note in warnings.iter().flatten() {
                    say!(
                        warn,
                        "warning: ",
                        crate::terminal::Printable,
                        [feed = %p.feed],
                        "feed {}: {note}",
                        p.feed
                    );
                }
                if let Some(note) = p.archive_held_note() {
                    detail!(
                        warn,
                        [feed = %p.feed],
                        "{note}: run `feedwright backfill` again"
                    );
                }
            }
            Err((feed, e)) => {
                failed = true;
                report!(
                    error,
                    [feed = %feed, reason = %e],
                    "feed {feed}: not published: {e}"
                );
            }
        }
    }
    for dir in &published.retired {
        say!(
            warn,
            "warning: ",
            crate::terminal::Printable,
            [dir = %dir.display()],
            "{} holds a feed the configuration no longer has (renamed or removed): left \
             as it is, and still served; delete the folder to retire it",
            dir.display()
        );
    }
    warn_unclaimed(&cfg, &store);
    // Interrupted, the hub is not asked (no request after the signal): the pings stay owed, and
    // are sent after the next publish.
    if heard.signal().is_none() {
        let announced = runtime.block_on(pipeline::announce(&cfg, &mut store));
        report_announced(&announced);
    }
    if let Some(signal) = heard.signal() {
        let stored: usize = report.sources.iter().map(|s| s.new + s.updated).sum();
        let next = if backfill.is_some() {
            "the next `feedwright backfill`"
        } else {
            "the next run"
        };
        report!(
            warn,
            [signal = signal.name(), stored],
            "interrupted by {}: {stored} {} stored; {next} goes on from there",
            signal.name(),
            if stored == 1 { "post" } else { "posts" }
        );
        return Exit::stopped_by(signal);
    }
    if failed { Exit::Failures } else { Exit::Ok }
}

/// Carry the history of every renamed source over to its new name (see
/// [`pipeline::adopt_renamed`]), saying so in one line each.
fn carry_renames_over(cfg: &Config, store: &mut Store) {
    match pipeline::adopt_renamed(cfg, store) {
        Ok(renamed) => {
            for r in &renamed {
                report!(
                    info,
                    [source = %r.new, old = %r.old, posts = r.posts],
                    "source {} is now {}: {} {} carried over",
                    r.old,
                    r.new,
                    r.posts,
                    if r.posts == 1 { "post" } else { "posts" }
                );
            }
        }
        Err(e) => {
            say!(
                warn,
                "warning: ",
                crate::terminal::Printable,
                [],
                "cannot tell which stored sources were renamed: {e}"
            );
        }
    }
}

/// Warn of each source the configuration no longer has whose posts no feed shows (see
/// [`pipeline::unclaimed_sources`]), naming it, with what to do.
fn warn_unclaimed(cfg: &Config, store: &Store) {
    match pipeline::unclaimed_sources(cfg, store) {
        Ok(unclaimed) => {
            for u in &unclaimed {
                say!(
                    warn,
                    "warning: ",
                    crate::terminal::Printable,
                    [source = %u.source, posts = u.posts, in_no_feed = u.in_no_feed],
                    "{}",
                    pipeline::unclaimed_note(u)
                );
            }
        }
        Err(e) => {
            say!(
                warn,
                "warning: ",
                crate::terminal::Printable,
                [],
                "cannot tell which stored sources the configuration no longer has: {e}"
            );
        }
    }
}

/// One stderr line for the WebSub pings of a run (nothing without `[websub]` or pings). A hub
/// that is down does not fail the run: the feeds are published and the pings are owed.
fn report_announced(a: &pipeline::Announced) {
    if !a.pinged.is_empty() {
        report!(
            info,
            [files = a.pinged.len()],
            "websub: hub notified of {} changed feed file(s)",
            a.pinged.len()
        );
    }
    for e in &a.failed {
        match e {
            crate::websub::PingError::Transient { .. } => {
                report!(
                    warn,
                    [],
                    "websub: {e}; the ping is kept and sent after the next publish"
                )
            }
            crate::websub::PingError::Refused { .. } => report!(warn, [], "websub: {e}"),
        }
    }
    if a.deferred > 0 {
        report!(
            warn,
            [deferred = a.deferred],
            "websub: {} more ping(s) not tried after that failure; kept for after the next publish",
            a.deferred
        );
    }
    if let Some(e) = &a.error {
        report!(error, [], "websub: {e}");
    }
}

/// `feedwright status`: one row per configured source, on stdout.
///
/// Only reads: the store is opened read-only (no lock, no migration), so this works while the
/// daemon or a `run` holds it, and creates nothing when no run has created the database yet.
pub fn status(path: &Path) -> Exit {
    let cfg = match load(path) {
        Ok(c) => c,
        Err(e) => return e,
    };
    let db = &cfg.store.path;
    let store = match std::fs::metadata(db) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            say!(
                info,
                "",
                plain,
                [store = %db.display()],
                "{}: the database does not exist yet (no run has created it): every source shows \"never run\"",
                db.display()
            );
            None
        }
        _ => match Store::open_read_only(db) {
            Ok(s) => Some(s),
            Err(e) => {
                error_line!([store = %db.display()], "{e}");
                return Exit::Usage;
            }
        },
    };
    let when = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map_or_else(
            || "never".to_string(),
            |t| t.format("%Y-%m-%d %H:%M UTC").to_string(),
        )
    };
    let mut rows = vec![[
        "SOURCE".to_string(),
        "STATE".into(),
        "LAST SUCCESS".into(),
        "LAST RUN".into(),
        "ENTRIES".into(),
        "LAST RUN: NEW/UPD/FAILED, REQUESTS (304)".into(),
        "LAST ERROR".into(),
    ]];
    let mut failed = false;
    for src in &cfg.sources {
        let (state, entries, last) = match &store {
            Some(store) => match store.source_state(&src.name) {
                Ok(s) => (
                    s,
                    store.entry_count(&src.name).unwrap_or(0),
                    store.last_run(&src.name).ok().flatten(),
                ),
                Err(e) => {
                    error_line!([store = %db.display()], "{e}");
                    failed = true;
                    continue;
                }
            },
            None => (None, 0, None),
        };
        let ran = last.is_some();
        let figures = last.map_or_else(
            || "-".to_string(),
            |h| {
                format!(
                    "{}/{}/{}, {} ({})",
                    h.new, h.updated, h.failures, h.requests, h.not_modified
                )
            },
        );
        let (state_name, success, run, error) = match &state {
            // Its first run has not finished yet.
            Some(s) if !ran && s.last_success.is_none() && s.reason.is_none() => (
                "never run".into(),
                "never".into(),
                "never".into(),
                s.last_error.clone().unwrap_or_else(|| "-".into()),
            ),
            Some(s) => (
                s.state.clone(),
                when(s.last_success),
                when(Some(s.last_run)),
                s.reason
                    .clone()
                    .or(s.last_error.clone())
                    .unwrap_or_else(|| "-".into()),
            ),
            None => (
                "never run".into(),
                "never".into(),
                "never".into(),
                "-".into(),
            ),
        };
        // Every cell is shown through `printable`: the last error is a site's or a feed's text,
        // and may quote the source's URL with its credentials, which it removes.
        rows.push(
            [
                src.name.clone(),
                state_name,
                success,
                run,
                entries.to_string(),
                figures,
                error,
            ]
            .map(|cell| crate::terminal::printable(&cell).into_owned()),
        );
    }
    let widths: Vec<usize> = (0..7)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    for r in &rows {
        let line: Vec<String> = r
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (cell, w))| {
                if i == 6 {
                    cell.clone()
                } else {
                    format!("{cell:<w$}")
                }
            })
            .collect();
        println!("{}", line.join("  ").trim_end());
    }
    // A feed whose files cannot be written (a read-only or full output_dir) fails silently for
    // its subscribers: said after the sources.
    if let Some(store) = &store {
        match store.feed_states() {
            Ok(states) => {
                for st in states
                    .iter()
                    .filter(|st| cfg.feeds.iter().any(|f| f.name == st.feed))
                {
                    if let Some(error) = &st.last_error {
                        let line = format!(
                            "feed {}: NOT PUBLISHED since {} (last published {}): {error}",
                            st.feed,
                            when(st.failing_since),
                            when(st.last_published)
                        );
                        println!("{}", crate::terminal::printable(&line));
                    }
                }
            }
            Err(e) => {
                error_line!([store = %db.display()], "{e}");
                failed = true;
            }
        }
        // An unfinished backfill holds its feeds' archive back (see `publish_one`).
        for src in &cfg.sources {
            match store.backfill_get(&src.name) {
                Ok(Some((url, pages))) => {
                    let line = format!(
                        "source {}: backfill NOT COMPLETE ({pages} listing page(s) read; the \
                         older posts it found are archived once it is): `feedwright backfill` \
                         continues at {url}",
                        src.name
                    );
                    println!("{}", crate::terminal::printable(&line));
                }
                Ok(None) => {}
                Err(e) => {
                    error_line!([store = %db.display()], "{e}");
                    failed = true;
                }
            }
        }
        // A renamed source (its history is carried over by the next run), and posts of sources
        // the configuration no longer has that no feed shows.
        match pipeline::renames_due(&cfg, store) {
            Ok(due) => {
                for r in &due.renamed {
                    println!(
                        "source {} is now {} (same kind and url): the next run carries its {} \
                         stored {} and its history over",
                        r.old,
                        r.new,
                        r.posts,
                        if r.posts == 1 { "post" } else { "posts" }
                    );
                }
                for u in &due.unclaimed {
                    println!("{}", pipeline::unclaimed_note(u));
                }
            }
            Err(e) => {
                error_line!([store = %db.display()], "{e}");
                failed = true;
            }
        }
        if let Some(d) = &cfg.digest {
            match store.digest_failure(&d.feed) {
                Ok(Some(f)) => {
                    let line = format!(
                        "digest {}: NOT SENT: week {} (failing since {}): {}",
                        f.feed,
                        f.week,
                        when(Some(f.since)),
                        f.error
                    );
                    println!("{}", crate::terminal::printable(&line));
                }
                Ok(None) => {}
                Err(e) => {
                    error_line!([store = %db.display()], "{e}");
                    failed = true;
                }
            }
        }
    }
    if failed { Exit::Failures } else { Exit::Ok }
}

/// `feedwright digest [--now RFC3339] [--dry-run] [--to ADDR]`.
pub fn digest(
    path: &Path,
    now: Option<&str>,
    dry_run: bool,
    to: Option<String>,
    wait: Duration,
) -> Exit {
    let now = match now.map(chrono::DateTime::parse_from_rfc3339).transpose() {
        Ok(t) => t.map_or_else(chrono::Utc::now, |t| t.with_timezone(&chrono::Utc)),
        Err(e) => {
            error_line!(
                [],
                "--now: not an RFC 3339 date ({e}), e.g. 2024-06-10T09:00:00Z"
            );
            return Exit::Usage;
        }
    };
    // The label and dates are written with four-digit years.
    if !(1001..=9999).contains(&chrono::Datelike::year(&now)) {
        error_line!([], "--now: the year must be between 1001 and 9999");
        return Exit::Usage;
    }
    let cfg = match load(path) {
        Ok(c) => c,
        Err(e) => return e,
    };
    let Some(digest_cfg) = &cfg.digest else {
        error_line!(
            [config = %path.display()],
            "{}: no [digest] table: nothing to send",
            path.display()
        );
        return Exit::Usage;
    };
    // Exit 2 writes nothing: what `digest::run` would refuse with it (the options, the
    // templates) is checked before the store and `output_dir` are created.
    let flag_error = |message: String| {
        let e = crate::digest::DigestError::Flag {
            flag: "--to".into(),
            message,
        };
        error_line!([], "{e}");
        Exit::Usage
    };
    if let Some(to) = &to {
        if let Err(e) = to.parse::<lettre::message::Mailbox>() {
            return flag_error(format!("invalid email address {to:?}: {e}"));
        }
        if !dry_run && digest_cfg.smtp_url.is_none() {
            return flag_error(
                "no SMTP server to send the test copy through: digest.smtp_url is not set".into(),
            );
        }
    }
    let preview = dry_run || to.is_some();
    // A week not over yet may only be previewed.
    if !preview
        && let Err(e) =
            crate::digest::zone(&cfg).and_then(|tz| crate::digest::refuse_unfinished_week(now, tz))
    {
        error_line!([], "{}", e.in_config_file(path));
        return Exit::Usage;
    }
    // The templates checked are the ones used (an edit meanwhile is not).
    let templates = match crate::digest::check_templates(&cfg, &config_dir(path)) {
        Ok(t) => t,
        Err(e) => {
            error_line!([config = %path.display()], "{}", e.in_config_file(path));
            return Exit::Usage;
        }
    };
    // A preview (`--dry-run`, `--to`) records nothing and changes nothing in the store: it
    // reads it as `status` does, taking no lock (a daemon may hold it, and never gives it
    // back), creating nothing and running no migration (an upgrade is one-way).
    let previewed = if preview {
        match open_for_preview(&cfg) {
            Ok(store) => Some(store),
            Err(e) => return e,
        }
    } else {
        None
    };
    if let Err(e) = cfg.check_output_dir(path) {
        error_line!([config = %path.display()], "{e}");
        return Exit::Usage;
    }
    // A test copy writes no file.
    if to.is_none()
        && let Err(e) = pipeline::prepare_output_dir(&cfg.output_dir)
    {
        error_line!(
            [output_dir = %cfg.output_dir.display()],
            "{}: {e}",
            path.display()
        );
        return Exit::Usage;
    }
    let mut store = match previewed.map_or_else(|| open_store(&cfg, wait), Ok) {
        Ok(s) => s,
        Err(e) => return e,
    };
    // A digest's feed shows a renamed source's posts too, though no run has carried them over
    // yet (a preview records nothing).
    if !preview {
        carry_renames_over(&cfg, &mut store);
    }
    let opts = crate::digest::DigestOptions {
        dry_run,
        to,
        config_dir: config_dir(path),
    };
    match crate::digest::run_with_templates(&cfg, &mut store, &opts, &templates, now) {
        Ok(outcome) => {
            println!("{}", crate::terminal::Printable(&outcome));
            if outcome.exit_code() == 0 {
                Exit::Ok
            } else {
                Exit::Failures
            }
        }
        Err(e) => {
            // An SMTP server's answer may be in it.
            let e = e.in_config_file(path);
            say!(error, "error: ", crate::terminal::Printable, [], "{e}");
            if e.exit_code() == 2 {
                Exit::Usage
            } else {
                Exit::Failures
            }
        }
    }
}

/// The store for a digest preview: read-only, as it is. A database that does not exist yet,
/// or whose schema is older than this build's (a preview cannot upgrade it, and the digest
/// reads what the upgrade adds), is an error saying what to do.
fn open_for_preview(cfg: &Config) -> Result<Store, Exit> {
    let db = &cfg.store.path;
    let fail = |e: &dyn std::fmt::Display| {
        error_line!([store = %db.display()], "{e}");
        Exit::Usage
    };
    let store = Store::open_read_only(db).map_err(|e| fail(&e))?;
    let found = store.schema_version().map_err(|e| fail(&e))?;
    let known = crate::store::known_schema_version();
    if found < known {
        return Err(fail(&format!(
            "{}: the store's schema is v{found}, older than this feedwright's v{known}: a \
             preview never upgrades it (an upgrade is one-way); upgrade it with a command that \
             writes, such as `feedwright run`, then preview",
            db.display()
        )));
    }
    Ok(store)
}

/// `feedwright forget [--dry-run] SOURCE`: what the store holds of a source the configuration
/// no longer has goes (see [`pipeline::forget`]); one line on stdout says what. Takes the
/// store's lock as `run` does (`--wait`); a dry run reads the store read-only, as a digest
/// preview does. Refused (exit 2, changing nothing) for a configured source, one the store
/// holds nothing of, and one a configured source takes over as renamed.
pub fn forget(path: &Path, name: &str, dry_run: bool, wait: Duration) -> Exit {
    let cfg = match load(path) {
        Ok(c) => c,
        Err(e) => return e,
    };
    let refused = |e: &pipeline::ForgetError| {
        say!(
            error,
            "error: ",
            crate::terminal::Printable,
            [source = %name],
            "cannot forget: {e}"
        );
    };
    if let Err(e) = pipeline::refuse_forgetting_configured(&cfg, name) {
        refused(&e);
        return Exit::Usage;
    }
    // Nothing to forget, and nothing to create: no store is opened (which would create one).
    let db = &cfg.store.path;
    if !db.exists() {
        refused(&pipeline::ForgetError::Refused(format!(
            "the store holds nothing of source {name}: {} does not exist yet",
            db.display()
        )));
        return Exit::Usage;
    }
    let store = if dry_run {
        open_for_preview(&cfg)
    } else {
        open_store(&cfg, wait)
    };
    let mut store = match store {
        Ok(s) => s,
        Err(e) => return e,
    };
    match pipeline::forget(&cfg, &mut store, name, dry_run) {
        Ok(forgotten) => {
            println!(
                "{}",
                crate::terminal::Printable(pipeline::forgotten_note(name, &forgotten, dry_run))
            );
            Exit::Ok
        }
        Err(e @ pipeline::ForgetError::Refused(_)) => {
            refused(&e);
            Exit::Usage
        }
        Err(pipeline::ForgetError::Store(e)) => {
            error_line!(
                [store = %db.display()],
                "cannot forget source {}: {e} (nothing was changed)",
                crate::terminal::Printable(name)
            );
            Exit::Failures
        }
    }
}

/// `feedwright daemon`.
pub fn daemon(path: &Path, wait: Duration) -> Exit {
    // First: a reload asked for while the daemon starts is a reload once it runs.
    let (runtime, hup) = match runtime_hearing_reloads() {
        Ok(r) => r,
        Err(e) => return e,
    };
    let cfg = match load(path) {
        Ok(c) => c,
        Err(e) => return e,
    };
    for note in cfg.advice().into_iter().chain(crate::digest::advice(&cfg)) {
        warning_line!([config = %path.display()], "{}: {note}", path.display());
    }
    // The address first: one that is taken stops the daemon before it creates anything (the
    // store, `output_dir`).
    let listener = match bind_server(&runtime, &cfg, path) {
        Ok(l) => l,
        Err(e) => return e,
    };
    // The digest uses these templates until a reload accepts new ones.
    let templates = match crate::daemon::check(path, &cfg) {
        Ok(t) => t,
        Err(e) => {
            error_line!([config = %path.display()], "{e}");
            return Exit::Usage;
        }
    };
    let store = match open_store(&cfg, wait) {
        Ok(s) => s,
        Err(e) => return e,
    };
    let result = runtime.block_on(crate::daemon::run(
        path, cfg, templates, store, listener, hup,
    ));
    // A digest still waiting for an unresponsive SMTP server runs on a blocking thread: the
    // process does not wait for it (nothing was recorded; the next start catches the week up).
    runtime.shutdown_timeout(Duration::from_secs(1));
    match result {
        Ok(()) => Exit::Ok,
        Err(e) => {
            error_line!([], "{e}");
            Exit::Failures
        }
    }
}

/// How long `serve` lets requests in progress finish after SIGTERM/SIGINT before it closes
/// their connections.
const SERVE_GRACE: Duration = Duration::from_secs(5);

/// Bind `[server] listen` if configured; a bad or busy address is a configuration error,
/// reported with the configuration file `path`.
fn bind_server(
    runtime: &tokio::runtime::Runtime,
    cfg: &Config,
    path: &Path,
) -> Result<Option<tokio::net::TcpListener>, Exit> {
    if cfg.server.is_none() {
        return Ok(None);
    }
    runtime
        .block_on(crate::server::bind(cfg))
        .map(Some)
        .map_err(|e| {
            error_line!([config = %path.display()], "{}: {e}", path.display());
            Exit::Usage
        })
}

/// `feedwright serve`.
pub fn serve(path: &Path) -> Exit {
    // First: a reload asked for while `serve` starts is a reload once it serves.
    let (runtime, hup) = match runtime_hearing_reloads() {
        Ok(r) => r,
        Err(e) => return e,
    };
    let cfg = match load(path) {
        Ok(c) => c,
        Err(e) => return e,
    };
    if cfg.server.is_none() {
        error_line!(
            [config = %path.display()],
            "{}: no [server] table: nothing to serve (add one, e.g. [server] with \
             listen = \"127.0.0.1:8080\"; the shipped config.toml has it commented out)",
            path.display()
        );
        return Exit::Usage;
    }
    let listener = match bind_server(&runtime, &cfg, path) {
        Ok(Some(l)) => l,
        Ok(None) => return Exit::Usage,
        Err(e) => return e,
    };
    // Requests in progress get a moment; a client that never finishes its request, or a long
    // download, does not hold the stop: `serve` closes what is left after the grace. SIGHUP
    // reloads the configuration.
    let served = runtime.block_on(crate::server::standalone::run(
        path,
        cfg,
        listener,
        SERVE_GRACE,
        hup,
    ));
    runtime.shutdown_timeout(Duration::from_secs(1));
    match served {
        Ok(()) => Exit::Ok,
        Err(e) => {
            error_line!([], "{e}");
            Exit::Failures
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_asked_for_by_the_option_in_either_spelling() {
        let asks = |args: &[&str]| asks_for_json(args.iter().map(std::ffi::OsString::from));
        assert!(asks(&["--log-format", "json", "bogus"]));
        assert!(asks(&["bogus", "--log-format=json"]));
        assert!(!asks(&["--log-format", "human", "json"]));
        assert!(!asks(&["--config", "json", "run"]));
        assert!(!asks(&["--", "--log-format", "json"]));
        assert!(!asks(&["--log-format"]));
    }
}
