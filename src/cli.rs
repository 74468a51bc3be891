//! Command line: one function per subcommand.
//!
//! Owns: argument parsing, logging setup, the terminal progress bar, printing reports to stderr,
//! and exit codes (0 all good, 1 some post, source or feed failed, 2 usage or configuration
//! error). Must not: run SQL, HTTP or templates directly; it calls `pipeline`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::pipeline::{self, NoProgress, Progress};
use crate::source::Fetcher;
use crate::store::Store;

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
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Refresh every source once, publish every feed, exit.
    Run,
    /// Validate the configuration and exit (0 valid, 2 invalid).
    Check,
}

/// Exit codes of the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Ok = 0,
    Failures = 1,
    Usage = 2,
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
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                Exit::Usage.into()
            } else {
                Exit::Ok.into()
            };
        }
    };
    init_logging(cli.verbose);
    match cli.command {
        Command::Check => check(&cli.config),
        Command::Run => run(&cli.config),
    }
    .into()
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn,feedwright=info",
        1 => "info,feedwright=debug",
        // The HTML parser logs every token at debug level: keep it out.
        _ => "debug,html5ever=info,selectors=info,scraper=info,markup5ever=info",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .try_init();
}

fn load(path: &Path) -> Result<Config, Exit> {
    Config::load(path).map_err(|e| {
        eprintln!("error: {e}");
        Exit::Usage
    })
}

/// `feedwright check`.
pub fn check(path: &Path) -> Exit {
    match load(path) {
        Ok(cfg) => {
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

/// Make sure `output_dir` exists and accepts files, before any fetching.
fn prepare_output_dir(dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir)
        .map_err(|e| format!("output_dir {}: cannot create: {e}", dir.display()))?;
    tempfile::Builder::new()
        .prefix(".feedwright-probe")
        .tempfile_in(dir)
        .map(drop)
        .map_err(|e| format!("output_dir {}: not writable: {e}", dir.display()))
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

/// `feedwright run`.
pub fn run(path: &Path) -> Exit {
    let cfg = match load(path) {
        Ok(c) => c,
        Err(e) => return e,
    };
    if let Err(e) = prepare_output_dir(&cfg.output_dir) {
        eprintln!("error: {e}");
        return Exit::Usage;
    }
    let mut store = match Store::open(&cfg.store.path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return Exit::Usage;
        }
    };
    let fetcher = match Fetcher::new(&cfg.http) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return Exit::Usage;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return Exit::Usage;
        }
    };
    let bar = std::io::stderr().is_terminal().then(|| {
        let pb = indicatif::ProgressBar::new(0);
        pb.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} {pos}/{len} posts {wide_bar} {elapsed}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        Bar(pb)
    });
    let progress: &dyn Progress = match &bar {
        Some(b) => b,
        None => &NoProgress,
    };
    let report = runtime.block_on(pipeline::refresh(&cfg, &mut store, &fetcher, progress));
    if let Some(b) = &bar {
        b.0.finish_and_clear();
    }
    for s in &report.sources {
        match &s.fatal {
            Some(reason) => eprintln!("{}: {reason}", s.source),
            None => eprintln!(
                "{}: {} new, {} updated, {} unchanged, {} failed; {} requests ({} not modified), {} KiB",
                s.source,
                s.new,
                s.updated,
                s.unchanged,
                s.failures.len(),
                s.requests,
                s.not_modified,
                s.bytes.div_ceil(1024)
            ),
        }
        if let Some(why) = &s.degraded {
            eprintln!("  degraded: {why}; feeds keep the last good entries");
        }
        if s.deferred > 0 {
            eprintln!("  {} post(s) left for the next run", s.deferred);
        }
        for (url, reason) in &s.failures {
            eprintln!("  failed {url}: {reason}");
        }
        for (url, reason) in &s.skipped {
            eprintln!("  skipped {url}: {reason}");
        }
    }
    let mut failed = report.failed();
    for result in pipeline::publish_all(&cfg, &store) {
        match result {
            Ok(p) if p.entries == 0 => {
                eprintln!("feed {}: no entries yet, nothing published", p.feed)
            }
            Ok(p) => {
                let changed = p.files.iter().filter(|(_, c)| *c).count();
                eprintln!(
                    "feed {}: {} entries, {} of {} files changed in {}",
                    p.feed,
                    p.entries,
                    changed,
                    p.files.len(),
                    cfg.output_dir.join(&p.feed).display()
                );
            }
            Err((feed, e)) => {
                failed = true;
                eprintln!("feed {feed}: not published: {e}");
            }
        }
    }
    if failed { Exit::Failures } else { Exit::Ok }
}
