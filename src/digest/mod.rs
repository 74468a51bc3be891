//! The weekly digest: one email (and web page) per ISO week with the feed's new posts and their
//! related posts.
//!
//! Owns: [`run`] — the whole `digest` command: pick the week ([`week`]), select the entries
//! ([`select`]), render the templates ([`render`]), write the issue's files through
//! [`crate::publish::write_atomic`], DKIM-sign what is sent when configured ([`dkim`]), send it
//! ([`mail`]) and record it in the store; the related links fixed at store time ([`related`]);
//! template checks for `check` ([`check_templates`]).
//! Must not: scrape or fetch anything, run SQL itself (the store does), or parse the command
//! line. `now` (a parameter) chooses the week; the clock is read only for what must be the real
//! time: whether that week is over, and when the issue is sent (its `Date` header and the
//! recorded `sent_at`).
//!
//! # Wiring it into the CLI
//!
//! `feedwright digest [--now RFC3339] [--dry-run] [--to ADDR]` loads the config, opens the
//! store, builds [`DigestOptions`] (`config_dir` = the directory of the config file) and calls
//! [`run`] with `--now` or `Utc::now()`. Then:
//!
//! - `Ok(outcome)`: print `outcome` (its `Display` is one line, e.g.
//!   `digest 2024-W46: sent 4 posts to 1 recipient (<digest.…@example.org>)` or
//!   `digest 2024-W46: skipped: nothing new`) to **stdout** and exit with
//!   [`DigestOutcome::exit_code`] (always 0).
//! - `Err(e)`: print `error: {}` with `e.in_config_file(<config file>)` to **stderr** (an
//!   option error reads `--to: invalid email address "x": …`, a configuration error
//!   `<config file>: digest.dkim_key: …`, like the configuration's own errors) and exit
//!   with [`DigestError::exit_code`]: 2 for option, configuration and template errors (nothing
//!   was sent or recorded), 1 for store, file and SMTP failures (nothing was recorded as sent,
//!   so the next run retries), except two whose message says the issue went out:
//!   [`DigestError::NotRecorded`] (sent, but the store could not record it: the next run sends
//!   it again) and [`DigestError::AfterRecord`] (sent and recorded; a later step failed).
//!
//! `check` calls [`check_templates`] when the config has a `[digest]` table and exits 2 with the
//! error's message (it names the template file and line) when it fails. `digest` and the
//! daemon call [`run_with_templates`] with the templates [`check_templates`] returned (the
//! daemon's: those of its start or last accepted reload, so a template edited or broken since
//! is not used before a reload accepts it); the daemon logs the errors as `digest` prints them.

pub mod dkim;
pub mod mail;
pub mod related;
pub mod render;
pub mod select;
pub mod week;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use lettre::Address;

use crate::config::{Config, DigestConfig, FeedConfig};
use crate::model::EntryId;
use crate::store::digest::{DigestIssue, DigestWindow, SendAndRecord};
use crate::store::{Store, StoreError, StoredEntry};
use render::{IssueMeta, Templates};
use week::{WeekRange, Window};

/// Directory inside `<output_dir>/<feed>/` that holds the issues.
pub const DIGEST_DIR: &str = "digest";

/// What the caller asks of [`run`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DigestOptions {
    /// Write the issue's files, send nothing, record nothing. With `to`, not even the files:
    /// the test copy is built and not sent.
    pub dry_run: bool,
    /// Send a test copy to this one address instead of the list; records nothing and writes no
    /// files. Every copy gets its own `Message-ID` (`digest.<feed>.<week>.test.<random>@…`).
    pub to: Option<String>,
    /// The directory of the config file: template overrides are read from its `templates/`.
    pub config_dir: PathBuf,
}

/// What [`run`] did. `Display` gives the one line the CLI prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DigestOutcome {
    /// The SMTP server accepted the issue; it is recorded.
    Sent {
        /// ISO week label.
        week: String,
        /// Posts in the issue.
        entries: usize,
        /// How many recipients the server took it for, `earlier` included.
        recipients: usize,
        /// Of those, how many it took on an earlier attempt that stopped before it reached
        /// every recipient (see [`mail::send`]).
        earlier: usize,
        /// The `Message-ID`.
        message_id: String,
        /// The recipients the server refused (the others got the issue): exit 1.
        refused: Vec<mail::Refusal>,
    },
    /// No `smtp_url`: the issue's files were written and the issue recorded as written, not
    /// sent. A later run with `smtp_url` sends it (see [`run`]).
    Written {
        /// ISO week label.
        week: String,
        /// Posts in the issue.
        entries: usize,
    },
    /// No new post in the week: nothing written, sent or recorded.
    SkippedNothingNew {
        /// ISO week label.
        week: String,
    },
    /// This week's issue was already sent: nothing happened.
    AlreadySent {
        /// ISO week label.
        week: String,
    },
    /// This week's issue was already written but never sent, and there is still no `smtp_url`:
    /// nothing happened.
    AlreadyWritten {
        /// ISO week label.
        week: String,
    },
    /// `dry_run` without `to`: files written, nothing sent or recorded.
    DryRun {
        /// ISO week label.
        week: String,
        /// Posts in the issue.
        entries: usize,
        /// The `.html` file written, or left as it was (`written` false: the week's issue was
        /// already recorded, and its files stay what was written or sent).
        html: PathBuf,
        written: bool,
    },
    /// `dry_run` with `to`: the test copy was built and not sent; nothing written or recorded.
    DryRunTestCopy {
        /// ISO week label.
        week: String,
        /// Posts in the issue.
        entries: usize,
        /// The one recipient it would go to.
        to: String,
    },
    /// `to`: a test copy was accepted by the server; nothing recorded.
    TestCopy {
        /// ISO week label.
        week: String,
        /// Posts in the issue.
        entries: usize,
        /// The one recipient.
        to: String,
    },
}

impl DigestOutcome {
    /// The exit status of the `digest` command for this outcome: 1 when the server refused
    /// some recipients, else 0.
    pub fn exit_code(&self) -> u8 {
        match self {
            DigestOutcome::Sent { refused, .. } if !refused.is_empty() => 1,
            _ => 0,
        }
    }

    /// The ISO week label the outcome is about.
    pub fn week(&self) -> &str {
        match self {
            DigestOutcome::Sent { week, .. }
            | DigestOutcome::Written { week, .. }
            | DigestOutcome::SkippedNothingNew { week }
            | DigestOutcome::AlreadySent { week }
            | DigestOutcome::AlreadyWritten { week }
            | DigestOutcome::DryRun { week, .. }
            | DigestOutcome::DryRunTestCopy { week, .. }
            | DigestOutcome::TestCopy { week, .. } => week,
        }
    }
}

fn posts(n: usize) -> String {
    if n == 1 {
        "1 post".into()
    } else {
        format!("{n} posts")
    }
}

impl std::fmt::Display for DigestOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "digest {}: ", self.week())?;
        match self {
            DigestOutcome::Sent {
                entries,
                recipients,
                earlier,
                message_id,
                refused,
                ..
            } => {
                let total = recipients + refused.len();
                let reached = if refused.is_empty() {
                    recipients.to_string()
                } else {
                    format!("{recipients} of {total}")
                };
                let before = match earlier {
                    0 => String::new(),
                    n => format!("; {n} of them on an earlier attempt"),
                };
                write!(
                    f,
                    "sent {} to {reached} recipient{} (<{message_id}>{before})",
                    posts(*entries),
                    if total == 1 { "" } else { "s" }
                )?;
                if !refused.is_empty() {
                    let list: Vec<String> = refused.iter().map(ToString::to_string).collect();
                    write!(
                        f,
                        "; the server refused {}: {} (resend to them with --to)",
                        if refused.len() == 1 { "one" } else { "these" },
                        list.join(", ")
                    )?;
                }
                Ok(())
            }
            DigestOutcome::Written { entries, .. } => {
                write!(
                    f,
                    "written ({}; no smtp_url, nothing sent)",
                    posts(*entries)
                )
            }
            DigestOutcome::SkippedNothingNew { .. } => f.write_str("skipped: nothing new"),
            DigestOutcome::AlreadySent { .. } => f.write_str("already sent, nothing to do"),
            DigestOutcome::AlreadyWritten { .. } => {
                f.write_str("already written (not sent: no smtp_url), nothing to do")
            }
            DigestOutcome::DryRun {
                entries,
                html,
                written: true,
                ..
            } => write!(
                f,
                "dry run: wrote {} ({}), sent nothing",
                html.display(),
                posts(*entries)
            ),
            DigestOutcome::DryRun {
                entries,
                html,
                written: false,
                ..
            } => write!(
                f,
                "dry run: this week's issue ({}) was already written to {}, left as it is; sent nothing",
                posts(*entries),
                html.display()
            ),
            DigestOutcome::DryRunTestCopy { entries, to, .. } => write!(
                f,
                "dry run: test copy to {to} ({}) not sent; nothing written or recorded",
                posts(*entries)
            ),
            DigestOutcome::TestCopy { entries, to, .. } => {
                write!(
                    f,
                    "test copy sent to {to} ({}), nothing recorded",
                    posts(*entries)
                )
            }
        }
    }
}

/// Why [`run`] failed.
#[derive(Debug, thiserror::Error)]
pub enum DigestError {
    /// A command-line option cannot be used (exit 2), shown as `--to: <problem>`.
    #[error("{flag}: {message}")]
    Flag {
        /// The option, e.g. `--to`.
        flag: String,
        /// What is wrong.
        message: String,
    },
    /// The configuration cannot be used (exit 2). `key` names it, e.g. `digest.timezone`. Shown
    /// like the configuration's own errors, `<file>: <key>: <problem>`, once the caller named
    /// the file ([`DigestError::in_config_file`]); until then as `config: <key>: <problem>`.
    #[error(
        "{}: {key}: {message}",
        file.as_ref().map_or_else(|| "config".into(), |f| f.display().to_string())
    )]
    Config {
        /// The config file, when the caller named it.
        file: Option<PathBuf>,
        /// The config key.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// A template does not parse or does not render (exit 2).
    #[error("template {file}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    Template {
        /// The override's path, or `built-in digest.html`.
        file: String,
        /// 1-based line, when known.
        line: Option<usize>,
        /// What is wrong.
        message: String,
    },
    /// The store failed (exit 1).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An output file could not be written (exit 1).
    #[error("cannot write {path}: {message}")]
    Io {
        /// The file.
        path: String,
        /// The OS error.
        message: String,
    },
    /// The store could not be written, so the issue was not sent (exit 1): it is checked
    /// before anything goes out (the store is locked by another program, the disk is full, or
    /// another run recorded the week meanwhile).
    #[error("the digest was not sent, as the store cannot record it: {0} (the next run retries)")]
    NotSent(StoreError),
    /// The SMTP server accepted the issue, but the store could not record it (exit 1). The
    /// next run for that week sends it again: the error says so and names the `Message-ID`.
    #[error(
        "digest {week} WAS SENT (Message-ID <{message_id}>) but could not be recorded as sent: \
         {error}; the next run for {week} will send it again"
    )]
    NotRecorded {
        /// ISO week label.
        week: String,
        /// The `Message-ID` the server accepted.
        message_id: String,
        /// Why the record failed.
        error: StoreError,
    },
    /// The issue went out (or was written) and is recorded, but a later step failed (exit 1),
    /// e.g. `digest/index.html` could not be written. The next run redoes that step and sends
    /// nothing.
    #[error("digest {week} {done}, but {error} (the next run tries again; nothing is sent twice)")]
    AfterRecord {
        /// ISO week label.
        week: String,
        /// What was done, e.g. `was sent (Message-ID <…>) and recorded`.
        done: String,
        /// What failed then.
        error: Box<DigestError>,
    },
    /// Sending stopped after the SMTP server took the message for some recipients, in as many
    /// messages as it takes recipients per message, and then put one off, refused the message
    /// or dropped the connection (exit 1). Those it reached are recorded: the next run sends
    /// the issue to the others alone.
    #[error(
        "sending the digest via {server} stopped after {reached} of {total} recipients got it: \
         {message} (they are recorded and do not get it again; the next run sends it to the \
         others)"
    )]
    Unfinished {
        /// The SMTP URL, without credentials.
        server: String,
        /// What happened.
        message: String,
        /// How many recipients have it (this attempt's and earlier ones').
        reached: usize,
        /// How many recipients the issue has.
        total: usize,
        /// The server refused for good: the daemon does not retry.
        permanent: bool,
    },
    /// A test copy (`--to`) was not sent: the SMTP server could not be reached, refused it or
    /// dropped the connection (exit 1). A test copy is never recorded or retried.
    #[error("sending the test copy via {server} failed: {message}")]
    TestCopyNotSent {
        /// The SMTP URL, without credentials.
        server: String,
        /// What happened.
        message: String,
    },
    /// The SMTP server could not be reached, refused the message or dropped the connection
    /// (exit 1). Nothing was recorded as sent.
    #[error(
        "sending the digest via {server} failed: {message} (nothing was marked as sent; the next run retries)"
    )]
    Send {
        /// The SMTP URL, without credentials.
        server: String,
        /// What happened.
        message: String,
        /// The server refused for good (a `5xx` answer): sending the same message again is
        /// refused again, so the daemon does not retry it.
        permanent: bool,
    },
}

impl DigestError {
    /// The exit status of the `digest` command: 2 for option, configuration and template
    /// errors, 1 for everything else.
    pub fn exit_code(&self) -> u8 {
        match self {
            DigestError::Flag { .. }
            | DigestError::Config { .. }
            | DigestError::Template { .. } => 2,
            _ => 1,
        }
    }

    /// Whether running the digest for the same week again later may succeed without sending
    /// anything twice: not after a configuration, option or template error or a permanent SMTP
    /// refusal (they fail the same way until someone changes something), and never after
    /// [`DigestError::NotRecorded`] (the issue went out; another attempt would send it again).
    pub fn is_retryable(&self) -> bool {
        match self {
            DigestError::Flag { .. }
            | DigestError::Config { .. }
            | DigestError::Template { .. }
            | DigestError::NotRecorded { .. }
            | DigestError::TestCopyNotSent { .. } => false,
            DigestError::Send { permanent, .. } | DigestError::Unfinished { permanent, .. } => {
                !permanent
            }
            DigestError::Store(_)
            | DigestError::Io { .. }
            | DigestError::NotSent(_)
            | DigestError::AfterRecord { .. } => true,
        }
    }

    /// Name the config file in a [`DigestError::Config`], so it reads
    /// `<file>: digest.to: <problem>` like every other configuration error. [`run`] and
    /// [`check_templates`] only know the file's directory; their callers know the file. Other
    /// errors are returned as they are.
    pub fn in_config_file(self, file: &Path) -> DigestError {
        match self {
            DigestError::Config { key, message, .. } => DigestError::Config {
                file: Some(file.to_path_buf()),
                key,
                message,
            },
            other => other,
        }
    }

    /// This error, which happened after the issue of `week` `done` (`was sent … and recorded`).
    fn after(self, week: &str, done: &str) -> DigestError {
        DigestError::AfterRecord {
            week: week.to_owned(),
            done: done.to_owned(),
            error: Box::new(self),
        }
    }

    /// A [`DigestError::Config`] about `key`, without the file (see
    /// [`DigestError::in_config_file`]).
    pub(crate) fn config(key: impl Into<String>, message: impl Into<String>) -> DigestError {
        DigestError::Config {
            file: None,
            key: key.into(),
            message: message.into(),
        }
    }
}

/// Build the digest for the last complete ISO week before `now` and write, send and record it
/// as described in the module docs and the README's "Weekly digest" section.
///
/// Order of effects: the issue's `.html`, `.txt` and `.eml` are written first (not for a test
/// copy); then the issue and its entry ids are written to the store in one open transaction
/// that holds SQLite's write lock (a store that cannot be written fails here, with nothing
/// sent: [`DigestError::NotSent`]); then the message is sent; only once the server accepted it
/// is that transaction committed, and then `digest/index.html` and `digest/atom.xml`
/// rewritten. A crash or send failure before the commit means the next run retries the same
/// week with the same `Message-ID`; a commit that fails after the send is
/// [`DigestError::NotRecorded`], which says the issue went out and names its `Message-ID`. A
/// failure after the record is [`DigestError::AfterRecord`]; the next run (already sent)
/// rewrites the list of issues.
///
/// A send that stopped after the server took the message for some recipients (it takes only
/// so many per message, then put one off: see [`mail::send`]) records whom it reached in
/// the store and fails with [`DigestError::Unfinished`]; the retry offers the issue to the
/// others alone, and records it as sent once they have it.
///
/// A week recorded as sent (`delivered`) sends nothing again. A week recorded as only written
/// (there was no `smtp_url`) does not block sending: with `smtp_url` set, the next run sends the
/// entries that issue recorded (same `Message-ID`, same order of effects) and then marks it
/// delivered; without `smtp_url` it does nothing. `dry_run` and `to` never record anything.
///
/// A real run's result is recorded for `status`, `/healthz` and `/metrics`
/// ([`Store::record_digest_attempt`]): a failure (but a `--now` refused) until a run sends,
/// writes or has nothing to send.
///
/// The templates are read from `opts.config_dir` (see [`Templates::load`]); a caller that
/// already holds the ones in force (the daemon: those of its start or last accepted reload)
/// calls [`run_with_templates`].
pub fn run(
    cfg: &Config,
    store: &mut Store,
    opts: &DigestOptions,
    now: DateTime<Utc>,
) -> Result<DigestOutcome, DigestError> {
    run_and_record(cfg, store, opts, None, now)
}

/// [`run`] with `templates` (loaded and checked before, e.g. by [`check_templates`]) instead of
/// those on disk now: a template edited since is not used until it is loaded again.
pub fn run_with_templates(
    cfg: &Config,
    store: &mut Store,
    opts: &DigestOptions,
    templates: &Templates,
    now: DateTime<Utc>,
) -> Result<DigestOutcome, DigestError> {
    run_and_record(cfg, store, opts, Some(templates), now)
}

fn run_and_record(
    cfg: &Config,
    store: &mut Store,
    opts: &DigestOptions,
    templates: Option<&Templates>,
    now: DateTime<Utc>,
) -> Result<DigestOutcome, DigestError> {
    let result = run_once(cfg, store, opts, templates, now);
    let for_real = !opts.dry_run && opts.to.is_none();
    if let (true, Some(d)) = (for_real, &cfg.digest) {
        let failure = match &result {
            Ok(_) | Err(DigestError::Flag { .. }) => None,
            Err(e) => {
                let tz = Plan::new(cfg, opts).map_or(chrono_tz::UTC, |p| p.tz);
                Some((
                    week::last_complete_week(now, tz).week.label(),
                    e.to_string(),
                ))
            }
        };
        if !matches!(result, Err(DigestError::Flag { .. }))
            && let Err(e) = store.record_digest_attempt(
                &d.feed,
                Utc::now(),
                failure.as_ref().map(|(w, e)| (w.as_str(), e.as_str())),
            )
        {
            tracing::warn!("digest: cannot record how it went: {e}");
        }
    }
    result
}

fn run_once(
    cfg: &Config,
    store: &mut Store,
    opts: &DigestOptions,
    templates: Option<&Templates>,
    now: DateTime<Utc>,
) -> Result<DigestOutcome, DigestError> {
    let plan = Plan::new(cfg, opts)?;
    let loaded;
    let templates = match templates {
        Some(t) => t,
        None => {
            loaded = Templates::load(&opts.config_dir)?;
            &loaded
        }
    };
    let week = week::last_complete_week(now, plan.tz);
    let label = week.week.label();
    let for_real = !opts.dry_run && opts.to.is_none();
    if for_real {
        refuse_unfinished_week(now, plan.tz)?;
    }
    if for_real {
        carry_history(cfg, store, &plan)?;
    }
    // The week's issue, whichever feed it was built from: there is one digest, and a week on
    // record is never sent again. (After a real run's carry it is the feed's; a preview before
    // any real run since `[digest] feed` changed finds it under the feed it was recorded for.)
    let recorded = match store.digest_issue(&plan.feed.name, &label)? {
        Some(issue) => Some((plan.feed.name.clone(), issue)),
        None => store.digest_week_issue(&label)?,
    };

    // The instants a new issue covers (its week, from earlier after a time zone change),
    // recorded with it, or alone when there is nothing to send.
    let mut window = None;
    let entries = match &recorded {
        // The list of issues is brought up to date (a failure after the send may have left it
        // behind); files that hold it already are not rewritten.
        Some((_, issue)) if for_real && issue.delivered => {
            write_archive(store, &plan).map_err(|e| e.after(&label, "was already sent"))?;
            return Ok(DigestOutcome::AlreadySent { week: label });
        }
        Some(_) if for_real && plan.smtp.is_none() => {
            write_archive(store, &plan).map_err(|e| e.after(&label, "was already written"))?;
            return Ok(DigestOutcome::AlreadyWritten { week: label });
        }
        // A dry run or test copy of a recorded week shows what that issue carried, and an issue
        // only written before is sent as it was written.
        Some((recorded_for, _)) => recorded_entries(store, &plan, recorded_for, &label)?,
        None => {
            let (covers, stretched) = covered(store, &week)?;
            let mut e = select_entries(store, &plan, &week, &covers)?;
            if let Some(stretched) = &stretched {
                say_stretched(&plan, &week, &covers, stretched, &e);
            }
            window = Some(covers);
            ensure_related(
                store,
                &mut e,
                plan.digest.related_limit as usize,
                plan.tz,
                // A preview stores nothing (it may read a store another process holds).
                opts.dry_run || opts.to.is_some(),
            )?;
            e
        }
    };
    if entries.is_empty() {
        // Files of this week that no record backs (a preview, or an attempt that was never
        // sent) would keep in the public folder posts withdrawn since: they go. A recorded
        // issue's files are never touched (its mail links them).
        if recorded.is_none() && opts.to.is_none() {
            remove_unrecorded_files(&plan, &label)?;
        }
        // The time this run covered, for the next week's issue to start from.
        if let (true, Some(covers)) = (for_real, &window)
            && let Err(e) = store.record_digest_window(&plan.window(&label, covers))
        {
            tracing::warn!(
                "digest {label}: the time it covered could not be recorded ({e}): should \
                 digest.timezone change before the next issue, posts between the two weeks may \
                 go in no issue"
            );
        }
        return Ok(DigestOutcome::SkippedNothingNew { week: label });
    }

    let meta = plan.meta(&week);
    let versions = render::render_versions(templates, &meta, &entries, render::MAX_HTML_BYTES)?;
    let rendered = &versions.mail;
    let test_to;
    let recipients: &[String] = match &opts.to {
        Some(addr) => {
            test_to = [addr.clone()];
            &test_to
        }
        None => &plan.digest.to,
    };
    let message_id = match &opts.to {
        Some(_) => format!(
            "digest.{}.{}.test.{:016x}@{}",
            plan.feed.name,
            label,
            unique_token(),
            plan.domain
        ),
        None => format!("digest.{}.{}@{}", plan.feed.name, label, plan.domain),
    };
    // `now` only chooses the week: the message is dated, and the issue recorded, at the time
    // it is sent (a retry of the same week gets a new `Date`, with the same `Message-ID`).
    let sending_at = Utc::now();
    // In ASCII, as `List-Unsubscribe` is: a mail client reads the header's URL as it is.
    let archive_url = ascii_url(&meta.archive_url);
    let message = |to: &[String]| {
        mail::build_message(&mail::MessageParts {
            from: &plan.digest.from,
            to,
            subject: &rendered.subject,
            text: &rendered.text,
            html: &rendered.html,
            message_id: &message_id,
            date: sending_at,
            list_name: &plan.title,
            list_id: &plan.list_id,
            unsubscribe_url: Some(&plan.unsubscribe),
            archive_url: Some(&archive_url),
        })
    };
    // The copy on disk sits in the output folder, which may be public: it is addressed to the
    // sender, never to the recipients.
    let public = message(std::slice::from_ref(&plan.digest.from))?;

    let dir = plan.dir();
    let html_path = dir.join(format!("{label}.html"));
    // A dry run of a recorded week shows what that issue carried, without rewriting the files
    // of what was written or sent (they are its public copy).
    let write_files = opts.to.is_none() && !(opts.dry_run && recorded.is_some());
    if write_files {
        // The web copy holds every post: the mail's "and N more" links it.
        write(&html_path, versions.web.html.as_bytes())?;
        write(
            &dir.join(format!("{label}.txt")),
            versions.web.text.as_bytes(),
        )?;
        write(&dir.join(format!("{label}.eml")), &public.formatted())?;
    }
    if let (true, Some(to)) = (opts.dry_run, &opts.to) {
        return Ok(DigestOutcome::DryRunTestCopy {
            week: label,
            entries: entries.len(),
            to: to.clone(),
        });
    }
    if opts.dry_run {
        // The issue page links the list of issues: with none written yet, the list (of the
        // issues on record only, none of them this preview) is, so the link opens.
        if write_files && !plan.dir().join("index.html").exists() {
            write_archive(store, &plan)?;
        }
        return Ok(DigestOutcome::DryRun {
            week: label,
            entries: entries.len(),
            html: html_path,
            written: write_files,
        });
    }

    let Some(smtp) = &plan.smtp else {
        if opts.to.is_some() {
            return Err(DigestError::Flag {
                flag: "--to".into(),
                message: "no SMTP server to send the test copy through: digest.smtp_url is not \
                          set"
                .into(),
            });
        }
        // No server: the issue is recorded as written, not sent.
        let issue = plan.issue(
            &label,
            &rendered.subject,
            &message_id,
            sending_at,
            false,
            &entries,
        );
        let ids: Vec<EntryId> = entries.iter().map(|e| e.entry.id.clone()).collect();
        match &window {
            Some(covers) => store.record_digest_issue_covering(
                &plan.feed.name,
                &issue,
                &ids,
                &plan.window(&label, covers),
            )?,
            None => store.record_digest_issue(&plan.feed.name, &issue, &ids)?,
        }
        write_archive(store, &plan).map_err(|e| e.after(&label, "was written and recorded"))?;
        return Ok(DigestOutcome::Written {
            week: label,
            entries: entries.len(),
        });
    };
    if recipients.is_empty() {
        return Err(DigestError::config(
            "digest.to",
            "no recipient: list at least one address to send to",
        ));
    }
    let mut msg = message(recipients)?;
    // Only the message sent is signed: the copy on disk stays unsigned, so a published file
    // cannot be replayed as a signed message.
    if let Some(dkim) = &plan.dkim {
        dkim::sign(&mut msg, dkim);
    }
    if let Some(to) = &opts.to {
        mail::send(smtp, &msg, msg.envelope().to(), false).map_err(|f| match *f.error {
            DigestError::Send {
                server, message, ..
            } => DigestError::TestCopyNotSent { server, message },
            other => other,
        })?;
        return Ok(DigestOutcome::TestCopy {
            week: label,
            entries: entries.len(),
            to: to.clone(),
        });
    }

    // The record is written (not committed) and the store's write lock held before the message
    // goes out, so a store that cannot be written fails here, with nothing sent; it is
    // committed once the server accepted the message.
    let issue = plan.issue(
        &label,
        &rendered.subject,
        &message_id,
        sending_at,
        true,
        &entries,
    );
    let ids: Vec<EntryId> = entries.iter().map(|e| e.entry.id.clone()).collect();
    // An issue recorded as only written before is marked delivered, keeping its entries.
    let new_ids = recorded.is_none().then_some(ids.as_slice());
    let covers = window.as_ref().map(|w| plan.window(&label, w));
    // Recipients an earlier attempt reached, before it stopped, are left out.
    let earlier = store.digest_reached(&plan.feed.name, &label)?;
    let (before, offer): (Vec<&Address>, Vec<&Address>) = msg
        .envelope()
        .to()
        .iter()
        .partition(|a| earlier.contains(&a.to_string()));
    let offer: Vec<Address> = offer.into_iter().cloned().collect();
    let sent =
        store.record_digest_issue_around(&plan.feed.name, &issue, new_ids, covers.as_ref(), || {
            if offer.is_empty() {
                return Ok(mail::Delivery::default());
            }
            mail::send(smtp, &msg, &offer, !before.is_empty())
        });
    let delivery = match sent {
        Ok(delivery) => delivery,
        Err(SendAndRecord::NotSent(e)) => return Err(DigestError::NotSent(e)),
        Err(SendAndRecord::NotRecorded(e)) => {
            return Err(DigestError::NotRecorded {
                week: label.clone(),
                message_id: message_id.clone(),
                error: e,
            });
        }
        Err(SendAndRecord::SendFailed(failure))
            if failure.reached.is_empty() && before.is_empty() =>
        {
            return Err(*failure.error);
        }
        Err(SendAndRecord::SendFailed(failure)) => {
            return Err(unfinished(
                store,
                &plan,
                &label,
                &message_id,
                failure,
                recipients.len(),
            ));
        }
    };
    let refused = delivery.refused;
    write_archive(store, &plan).map_err(|e| {
        e.after(
            &label,
            &format!("was sent (Message-ID <{message_id}>) and recorded"),
        )
    })?;

    Ok(DigestOutcome::Sent {
        week: label,
        entries: entries.len(),
        recipients: before.len() + delivery.reached.len(),
        earlier: before.len(),
        message_id,
        refused,
    })
}

/// The error of a send that reached some recipients and stopped (see [`mail::send`]): those it
/// reached are recorded first, so that the retry leaves them out.
fn unfinished(
    store: &mut Store,
    plan: &Plan<'_>,
    week: &str,
    message_id: &str,
    failure: mail::SendFailure,
    total: usize,
) -> DigestError {
    if !failure.reached.is_empty()
        && let Err(e) = store.record_digest_reached(&plan.feed.name, week, &failure.reached)
    {
        return DigestError::NotRecorded {
            week: week.to_owned(),
            message_id: message_id.to_owned(),
            error: e,
        };
    }
    let reached = store
        .digest_reached(&plan.feed.name, week)
        .map_or(failure.reached.len(), |r| r.len());
    match *failure.error {
        DigestError::Send {
            server,
            message,
            permanent,
        } => DigestError::Unfinished {
            server,
            message,
            reached,
            total,
            permanent,
        },
        other => other,
    }
}

/// Check that the three templates (built-in or overridden in `<config_dir>/templates/`) parse
/// and render sample issues with strict undefined variables, that none renders to nothing and
/// that both parts show the unsubscribe link. The error names the template file (and line,
/// when it has one). Does nothing useful without a `[digest]` table but still checks the
/// templates. Returns the templates checked.
pub fn check_templates(cfg: &Config, config_dir: &Path) -> Result<Templates, DigestError> {
    let templates = Templates::load(config_dir)?;
    let tz = match cfg.digest.as_ref().and_then(|d| d.timezone.as_deref()) {
        Some(t) => parse_tz(t, "digest.timezone")?,
        None => parse_tz(&cfg.timezone, "timezone")?,
    };
    let epoch = DateTime::<Utc>::from_timestamp(1_700_000_000, 0).unwrap_or_default();
    let week = week::last_complete_week(epoch, tz);
    let sample = sample_entry(week.start);
    let locale = cfg.digest.as_ref().and_then(|d| d.locale.as_deref());
    let locale = locale
        .map(crate::config::date_locale)
        .transpose()
        .map_err(|m| DigestError::config("digest.locale", m))?;
    let meta = IssueMeta {
        title: "Sample".into(),
        week,
        tz,
        locale,
        web_url: "https://example.org/digest/2023-W45.html".into(),
        archive_url: "https://example.org/digest/index.html".into(),
        issues_feed_url: "https://example.org/digest/atom.xml".into(),
        unsubscribe_url: Some("https://example.org/unsubscribe".into()),
        // Every branch of the templates is rendered, whatever the limit.
        related_limit: usize::MAX,
    };
    // Real posts may lack what the sample has: an author, categories, related posts, a
    // summary, a known date. A template that needs one of them fails here, not on the day an
    // issue holds such a post.
    let bare = bare_entry(&sample);
    let mut issues = Vec::new();
    for entries in [
        vec![sample.clone(), bare.clone()],
        vec![bare],
        vec![sample.clone()],
    ] {
        issues.push(render::render_issue(
            &templates,
            &meta,
            &entries,
            usize::MAX,
        )?);
    }
    // And as a mail too big to hold every post: the "and N more" branch.
    let shrunk = render::context(&meta, &[sample], 1, 0);
    issues.push(render::render_context(&templates, shrunk)?);
    // Once every branch rendered (an error in one is the first thing to fix).
    let unsubscribe = meta.unsubscribe_url.clone().unwrap_or_default();
    for issue in &issues {
        offers_unsubscribing(&templates, issue, &unsubscribe)?;
    }
    Ok(templates)
}

/// Both parts of every issue show the unsubscribe link (bulk mail must offer a way out in its
/// body, not only in `List-Unsubscribe`): a template that leaves out `unsubscribe_url` is
/// refused, naming the file.
fn offers_unsubscribing(
    templates: &Templates,
    issue: &render::RenderedIssue,
    url: &str,
) -> Result<(), DigestError> {
    for (name, part) in [
        (render::TEXT_TEMPLATE, &issue.text),
        (render::HTML_TEMPLATE, &issue.html),
    ] {
        if !part.contains(url) {
            return Err(templates.error(
                name,
                "the issue it renders has no unsubscribe link: show {{ unsubscribe_url }} \
                 (as the built-in template does)",
            ));
        }
    }
    Ok(())
}

/// `sample` with nothing a post may lack: no author, category, related post or summary, and
/// no date of its own (it counts from when it was first seen).
fn bare_entry(sample: &StoredEntry) -> StoredEntry {
    let mut bare = sample.clone();
    bare.entry.id = EntryId("https://example.org/bare/".into());
    bare.entry.dedup_key = "example.org/bare/".into();
    bare.entry.url = "https://example.org/bare/".into();
    bare.entry.title = "Bare post".into();
    bare.entry.published_source = crate::model::DateSource::FirstSeen;
    bare.entry.updated_source = crate::model::DateSource::FirstSeen;
    bare.entry.authors.clear();
    bare.entry.categories.clear();
    bare.entry.related.clear();
    bare.entry.summary.clear();
    bare.entry.content_html.clear();
    bare
}

fn sample_entry(at: DateTime<Utc>) -> StoredEntry {
    use crate::model::{DateSource, Entry, Link};
    StoredEntry {
        entry: Entry {
            id: EntryId("https://example.org/sample/".into()),
            dedup_key: "example.org/sample/".into(),
            source: "sample".into(),
            url: "https://example.org/sample/".into(),
            title: "Sample post".into(),
            published: at,
            published_source: DateSource::Jsonld,
            updated: at,
            updated_source: DateSource::Jsonld,
            authors: vec!["A. Author".into()],
            categories: vec!["Sample".into()],
            content_html: "<p>Sample body.</p>".into(),
            summary: "Sample summary.".into(),
            related: vec![Link {
                url: "https://example.org/other/".into(),
                title: "Other post".into(),
            }],
            enclosures: Vec::new(),
        },
        first_seen: at,
        last_seen: at,
        content_hash: String::new(),
    }
}

/// The pieces of the config a digest needs, resolved and checked.
struct Plan<'a> {
    digest: &'a DigestConfig,
    feed: &'a FeedConfig,
    tz: Tz,
    /// Domain of `from`, for Message-IDs and the default List-Id.
    domain: String,
    /// The `List-Id` id (without the title or angle brackets).
    list_id: String,
    title: String,
    output_dir: PathBuf,
    /// `<public_url><feed>/digest/`.
    public_dir: String,
    smtp: Option<mail::SmtpSettings>,
    /// How to DKIM-sign sent messages, when `dkim_key` is set.
    dkim: Option<lettre::message::dkim::DkimConfig>,
    /// `unsubscribe_url`, or else [`unsubscribe_by_mail`] to the sender.
    unsubscribe: String,
}

/// `url` as ASCII: the host in punycode, the rest percent-encoded (a space in a `mailto:`
/// address too). A `List-Unsubscribe` header is read by machines that expect exactly that;
/// with `münchen.example` or a space in it, the header would be MIME-encoded, which mailbox
/// providers do not read, and offer no unsubscribe button.
fn ascii_url(url: &str) -> String {
    url::Url::parse(url.trim()).map_or_else(|_| url.to_owned(), |u| u.as_str().replace(' ', "%20"))
}

/// The unsubscribe link of a digest without `unsubscribe_url`: a message to the sender asking
/// to unsubscribe (RFC 2369 `mailto:`), so that every issue offers a way out, if not a
/// one-click one.
fn unsubscribe_by_mail(from: &Address) -> String {
    let link = format!("mailto:{from}?subject=unsubscribe");
    url::Url::parse(&link).map_or(link, String::from)
}

/// What `feedwright check` should point out about a `[digest]` that is valid as it is: an
/// issue sent without `unsubscribe_url` offers unsubscribing by mail to the sender only.
pub fn advice(cfg: &Config) -> Vec<String> {
    let Some(d) = &cfg.digest else {
        return Vec::new();
    };
    let mut notes = Vec::new();
    if d.smtp_url.is_some() && d.unsubscribe_url.is_none() {
        let from = d
            .from
            .parse::<lettre::message::Mailbox>()
            .map(|m| unsubscribe_by_mail(&m.email))
            .unwrap_or_else(|_| "mailto:<from>".into());
        notes.push(format!(
            "digest.unsubscribe_url is not set: issues offer unsubscribing by mail to the \
             sender ({from}) and no one-click unsubscribe, which large mailbox providers expect \
             of bulk mail; set it to a page or mailto: address that handles unsubscribing"
        ));
    }
    // Said when sending too; `check` says it before the first issue goes out.
    if d.dkim_key.is_some()
        && let Some(signing) = d.dkim_domain.as_deref()
        && let Ok(from) = d.from.parse::<lettre::message::Mailbox>()
    {
        let domain = mail::ascii_domain(from.email.domain());
        notes.extend(misaligned(&mail::ascii_domain(signing), &domain));
    }
    notes
}

/// What `feedwright check` should point out about the digest's history on record (read from
/// the store, read-only, when there is one; nothing when it cannot be read): issues recorded
/// for a feed other than `[digest] feed`, which the next real digest run makes that feed's
/// (see [`Store::carry_digest_history`]). A configuration has one digest, so they count as its
/// own: whether `[digest] feed` was renamed or pointed at another feed, a week they hold is not
/// sent again, and what the other feed has in those weeks that they did not carry is in no
/// issue, which `check` cannot know the user wants.
pub fn history_advice(cfg: &Config) -> Vec<String> {
    let Some(d) = &cfg.digest else {
        return Vec::new();
    };
    let elsewhere = match Store::open_read_only_if_ready(&cfg.store.path)
        .and_then(|s| s.map(|s| s.digest_history_elsewhere(&d.feed)).transpose())
    {
        Ok(Some(e)) if !e.is_empty() => e,
        Ok(_) => return Vec::new(),
        Err(e) => {
            tracing::debug!("digest history not checked: {e}");
            return Vec::new();
        }
    };
    let list = elsewhere
        .iter()
        .map(|(feed, n, last)| format!("{n} of feed {feed:?} (the last {last})"))
        .collect::<Vec<_>>()
        .join(", ");
    vec![format!(
        "digest.feed is {:?}, and the store holds the digest's issues {list}: there is one \
         digest, so the next digest run makes them {:?}'s (their web copies copied to its \
         digest/ folder); a week already on record is not sent again, posts already mailed go in \
         no other issue, and posts of {:?} in those weeks that those issues did not carry go in \
         none",
        d.feed, d.feed, d.feed
    )]
}

impl<'a> Plan<'a> {
    fn new(cfg: &'a Config, opts: &DigestOptions) -> Result<Plan<'a>, DigestError> {
        let digest = cfg.digest.as_ref().ok_or_else(|| {
            DigestError::config("digest", "no [digest] table in the configuration")
        })?;
        let feed = cfg
            .feeds
            .iter()
            .find(|f| f.name == digest.feed)
            .ok_or_else(|| {
                DigestError::config(
                    "digest.feed",
                    format!("no [[feed]] is named {:?}", digest.feed),
                )
            })?;
        let tz = zone(cfg)?;
        let from: lettre::message::Mailbox = digest.from.parse().map_err(|e| {
            DigestError::config("digest.from", format!("invalid email address: {e}"))
        })?;
        // In ASCII: it goes into the Message-ID and the List-Id, which allow nothing else.
        let domain = mail::ascii_domain(from.email.domain());
        if let Some(to) = &opts.to {
            to.parse::<lettre::message::Mailbox>()
                .map_err(|e| DigestError::Flag {
                    flag: "--to".into(),
                    message: format!("invalid email address {to:?}: {e}"),
                })?;
        }
        let title = digest
            .title
            .clone()
            .unwrap_or_else(|| feed.title().to_owned());
        let list_id = match &digest.list_id {
            Some(l) => l.clone(),
            None => format!("{}.{domain}", feed.name),
        };
        let smtp = match &digest.smtp_url {
            None => None,
            Some(url) => {
                let credentials = match (&digest.smtp_username_env, &digest.smtp_password_env) {
                    (Some(u), Some(p)) => Some((
                        env_var(u, "digest.smtp_username_env")?,
                        env_var(p, "digest.smtp_password_env")?,
                    )),
                    _ => None,
                };
                Some(mail::SmtpSettings {
                    url: url.clone(),
                    credentials,
                    credential_vars: digest
                        .smtp_username_env
                        .clone()
                        .zip(digest.smtp_password_env.clone()),
                    require_tls: digest.require_tls,
                    tls_ca: digest.smtp_tls_ca.clone(),
                })
            }
        };
        let dkim = match (&digest.dkim_key, &digest.dkim_selector) {
            (Some(path), Some(selector)) => {
                let key =
                    dkim::read_key(path).map_err(|m| DigestError::config("digest.dkim_key", m))?;
                let signing_domain = digest
                    .dkim_domain
                    .as_deref()
                    .map_or_else(|| domain.clone(), mail::ascii_domain);
                let signing_domain = signing_domain.as_str();
                if let Some(note) = misaligned(signing_domain, &domain) {
                    tracing::warn!("{note}");
                }
                Some(dkim::config(key, selector, signing_domain))
            }
            (Some(_), None) => {
                return Err(DigestError::config(
                    "digest.dkim_selector",
                    "required with dkim_key",
                ));
            }
            _ => None,
        };
        let unsubscribe = digest
            .unsubscribe_url
            .as_deref()
            .map(ascii_url)
            .unwrap_or_else(|| unsubscribe_by_mail(&mail::ascii_mailbox(from.clone()).email));
        let public = if cfg.public_url.ends_with('/') {
            cfg.public_url.clone()
        } else {
            format!("{}/", cfg.public_url)
        };
        Ok(Plan {
            unsubscribe,
            digest,
            feed,
            tz,
            domain,
            list_id,
            title,
            output_dir: cfg.output_dir.clone(),
            public_dir: format!("{public}{}/{DIGEST_DIR}/", feed.name),
            smtp,
            dkim,
        })
    }

    /// The record of this issue.
    fn issue(
        &self,
        week: &str,
        subject: &str,
        message_id: &str,
        sent_at: DateTime<Utc>,
        delivered: bool,
        entries: &[StoredEntry],
    ) -> DigestIssue {
        DigestIssue {
            week: week.to_owned(),
            subject: subject.to_owned(),
            message_id: message_id.to_owned(),
            sent_at,
            delivered,
            titles: entries.iter().map(|e| e.entry.title.clone()).collect(),
        }
    }

    fn dir(&self) -> PathBuf {
        self.output_dir.join(&self.feed.name).join(DIGEST_DIR)
    }

    /// The record of the instants the issue of `week` covers.
    fn window(&self, week: &str, covers: &Window) -> DigestWindow {
        DigestWindow {
            week: week.to_owned(),
            timezone: self.tz.name().to_owned(),
            start: covers.start,
            end: covers.end,
        }
    }

    fn meta(&self, week: &WeekRange) -> IssueMeta {
        IssueMeta {
            title: self.title.clone(),
            week: *week,
            tz: self.tz,
            // Checked when the configuration was loaded.
            locale: self
                .digest
                .locale
                .as_deref()
                .and_then(|l| crate::config::date_locale(l).ok()),
            web_url: format!("{}{}.html", self.public_dir, week.week.label()),
            archive_url: format!("{}index.html", self.public_dir),
            issues_feed_url: format!("{}atom.xml", self.public_dir),
            unsubscribe_url: Some(self.unsubscribe.clone()),
            related_limit: self.digest.related_limit as usize,
        }
    }
}

/// 64 random bits for a test copy's `Message-ID`, so no two copies share one (not even two sent
/// with the same `--now`): std's per-process random hash keys, which differ on every call, hash
/// nothing. Neither the clock nor a new dependency is needed.
fn unique_token() -> u64 {
    use std::hash::BuildHasher;
    std::collections::hash_map::RandomState::new().hash_one(())
}

/// Whether a signature by `signing` may align with `from_domain` under DMARC's relaxed rule:
/// the same domain, or one a subdomain of the other (a rough stand-in for "same organizational
/// domain" that needs no public suffix list).
/// A DKIM signing domain DMARC would not count for mail from `from_domain`, in words; `None`
/// when aligned.
fn misaligned(signing: &str, from_domain: &str) -> Option<String> {
    (!aligned(signing, from_domain)).then(|| {
        format!(
            "digest.dkim_domain {signing:?} is unrelated to the From domain {from_domain:?}: \
             DMARC will not count the signature"
        )
    })
}

fn aligned(signing: &str, from_domain: &str) -> bool {
    let (s, f) = (
        signing.to_ascii_lowercase(),
        from_domain.to_ascii_lowercase(),
    );
    f == s || f.ends_with(&format!(".{s}")) || s.ends_with(&format!(".{f}"))
}

/// A real run's `--now` whose week (the last complete one before it, in `tz`) is still going
/// on by the clock: an error. Sent short of its last posts and recorded, they would never be
/// mailed; such a week may only be previewed. `feedwright digest` asks this before it creates
/// the store or `output_dir`.
pub fn refuse_unfinished_week(now: DateTime<Utc>, tz: Tz) -> Result<(), DigestError> {
    let week = week::last_complete_week(now, tz);
    if week.end > Utc::now() {
        return Err(DigestError::Flag {
            flag: "--now".into(),
            message: format!(
                "week {} is not over yet (it ends {}): an issue is sent or recorded only once \
                 its week has ended; preview it with --dry-run or --to",
                week.week.label(),
                week.end.with_timezone(&tz).to_rfc3339()
            ),
        });
    }
    Ok(())
}

/// The digest's time zone: `[digest] timezone`, else the top-level `timezone`.
pub fn zone(cfg: &Config) -> Result<Tz, DigestError> {
    match cfg.digest.as_ref().and_then(|d| d.timezone.as_deref()) {
        Some(t) => parse_tz(t, "digest.timezone"),
        None => parse_tz(&cfg.timezone, "timezone"),
    }
}

fn parse_tz(s: &str, key: &str) -> Result<Tz, DigestError> {
    s.parse()
        .map_err(|_| DigestError::config(key, format!("unknown time zone {s:?}")))
}

/// The value of the environment variable `name` (which the config's `key` names): set, UTF-8
/// and not empty (an empty password would be offered to the server as one).
fn env_var(name: &str, key: &str) -> Result<String, DigestError> {
    match std::env::var(name) {
        Ok(v) if v.is_empty() => Err(DigestError::config(
            key,
            format!("environment variable {name} is set but empty"),
        )),
        Ok(v) => Ok(v),
        Err(_) => Err(DigestError::config(
            key,
            format!("environment variable {name} is not set (or not UTF-8)"),
        )),
    }
}

/// The instants the issue of `week` covers: its week, from where the digest of the week before
/// ended when that is earlier (it was counted in another time zone, `[digest] timezone` having
/// changed since), so that a post dated between the two weeks goes in this issue rather than in
/// none. A week before that ended later (the zone moved the other way) leaves the week as it
/// is: a post its issue mailed is not mailed again, and one it did not is this week's.
///
/// An issue of the week before recorded by a version that did not record the time it covered
/// is taken to have ended as early as any zone's Monday 00:00 (UTC+14): should its zone have
/// been another, the posts in between are not lost, and a post dated in those hours that its
/// issue did not mail could not have been in its week anyway (it would have mailed it: a post
/// first seen after the issue was sent is first seen in this week, a late discovery).
fn covered(store: &Store, week: &WeekRange) -> Result<(Window, Option<Stretched>), DigestError> {
    let mut window = Window::from(week);
    let before = week.previous().label();
    let ended = match store.digest_window(&before)? {
        Some(last) => Some((last.end, Some(last.timezone))),
        None if store.digest_week_issue(&before)?.is_some() => {
            let earliest = week.first_day.and_time(chrono::NaiveTime::MIN).and_utc()
                - chrono::Duration::hours(EARLIEST_UTC_OFFSET_HOURS);
            Some((earliest, None))
        }
        None => None,
    };
    let Some((end, zone)) = ended.filter(|(end, _)| *end < week.start) else {
        return Ok((window, None));
    };
    window.start = end;
    Ok((window, Some(Stretched { before, zone })))
}

/// The largest offset ahead of UTC a zone has (Kiribati's Line Islands): no week begins earlier
/// than Monday 00:00 there.
const EARLIEST_UTC_OFFSET_HOURS: i64 = 14;

/// How an issue's window reaches back before its week (see [`covered`]).
struct Stretched {
    /// The week before.
    before: String,
    /// The zone the week before was counted in; `None` when its issue was recorded by a version
    /// that did not record it.
    zone: Option<String>,
}

/// Say that the issue of `week` also covers the time before it (`covers` begins earlier), and
/// how many of its posts are dated in that time. For an issue before recorded without its
/// time, only when some are.
fn say_stretched(
    plan: &Plan<'_>,
    week: &WeekRange,
    covers: &Window,
    stretched: &Stretched,
    entries: &[StoredEntry],
) {
    let brought = entries
        .iter()
        .filter(|e| !week.contains(select::effective_date(e)) && !week.contains(e.first_seen))
        .count();
    let hours = (week.start - covers.start).num_minutes() as f64 / 60.0;
    let label = week.week.label();
    match &stretched.zone {
        Some(zone) => tracing::info!(
            "digest {label}: the digest of {}, counted in {zone}, ended at {}, {hours} hour(s) \
             before this week began in {}: this issue also covers that time, so that no post \
             falls between the two ({brought} post(s) dated in it)",
            stretched.before,
            covers.start.to_rfc3339(),
            plan.tz.name()
        ),
        None if brought > 0 => tracing::info!(
            "digest {label}: the issue of {} was recorded by an earlier version, without the \
             time it covered: in case its week was counted in another time zone, this issue \
             also covers the {hours} hour(s) before this week began in {} (from {}), and {brought} \
             post(s) dated in them that no issue mailed",
            stretched.before,
            plan.tz.name(),
            covers.start.to_rfc3339()
        ),
        None => {}
    }
}

fn select_entries(
    store: &Store,
    plan: &Plan<'_>,
    week: &WeekRange,
    covers: &Window,
) -> Result<Vec<StoredEntry>, DigestError> {
    let from = covers.start - chrono::Duration::days(select::LATE_DISCOVERY_DAYS);
    let candidates = store.digest_candidates(&plan.feed.sources, from, covers.end)?;
    // Whichever feed the issue that mailed them was built from.
    let mailed = store.digest_mailed_ids()?;
    let too_late = select::too_late(&candidates, covers, &mailed, &plan.feed.categories);
    if let Some(newest) = too_late.first() {
        // An editor who dated a post back by more than a week would otherwise wait for it.
        tracing::info!(
            "digest {}: {} post(s) first seen in week {} are dated more than {} days before \
             it and go in no issue (a backfill's history, or a post dated back), the newest: \
             {:?}",
            plan.feed.name,
            too_late.len(),
            week.week.label(),
            select::LATE_DISCOVERY_DAYS,
            newest.entry.title
        );
    }
    Ok(select::select(
        &candidates,
        covers,
        &mailed,
        &plan.feed.categories,
    ))
}

/// The entries the issue of `label`, recorded for feed `recorded_for`, mailed (or was written
/// with) that the digest's feed still shows.
fn recorded_entries(
    store: &Store,
    plan: &Plan<'_>,
    recorded_for: &str,
    label: &str,
) -> Result<Vec<StoredEntry>, DigestError> {
    let ids: HashSet<EntryId> = store
        .digest_issue_entries(recorded_for, label)?
        .into_iter()
        .collect();
    let all = store.entries(&plan.feed.sources, &[], usize::MAX)?;
    let mut out = Vec::new();
    for e in all.into_iter().filter(|e| ids.contains(&e.id)) {
        if let Some(s) = store.get_stored(&e.dedup_key)? {
            out.push(s);
        }
    }
    out.sort_by(|a, b| {
        select::effective_date(b)
            .cmp(&select::effective_date(a))
            .then_with(|| a.entry.id.cmp(&b.entry.id))
    });
    Ok(out)
}

/// Entries stored before related links were fixed at store time get them now (stored, so the
/// feeds agree), except in a preview (`dry_run`: a dry run or a test copy), where they are
/// computed and not stored.
fn ensure_related(
    store: &mut Store,
    entries: &mut [StoredEntry],
    limit: usize,
    tz: Tz,
    dry_run: bool,
) -> Result<(), DigestError> {
    let mut missing = Vec::new();
    for e in entries.iter() {
        if !store.related_is_fixed(&e.entry.id)? {
            missing.push(e.entry.id.clone());
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    if dry_run {
        for (id, links) in related::related_from_store(store, &missing, limit, tz)? {
            if let Some(e) = entries.iter_mut().find(|e| e.entry.id == id) {
                e.entry.related = links;
            }
        }
    } else {
        related::fix_related(store, &missing, limit, tz)?;
        for e in entries.iter_mut() {
            if missing.contains(&e.entry.id)
                && let Some(s) = store.get_stored(&e.entry.dedup_key)?
            {
                e.entry.related = s.entry.related;
            }
        }
    }
    Ok(())
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), DigestError> {
    crate::publish::write_atomic(path, bytes)
        .map(|_| ())
        .map_err(|e| DigestError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        })
}

/// Remove `<label>.html`, `.txt` and `.eml` of a week with no issue on record and nothing to
/// send: written by a dry run or by a real run whose send failed, they may list posts taken out
/// of the feed since (a file deleted or made a draft), and `output_dir` may be public.
fn remove_unrecorded_files(plan: &Plan<'_>, label: &str) -> Result<(), DigestError> {
    let dir = plan.dir();
    let mut removed = Vec::new();
    for ext in ["html", "txt", "eml"] {
        let path = dir.join(format!("{label}.{ext}"));
        let gone = crate::publish::remove_file(&path).map_err(|e| DigestError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        if gone {
            removed.push(path.display().to_string());
        }
    }
    if !removed.is_empty() {
        tracing::info!(
            "digest {label}: nothing to send, so the files written for this week earlier (a \
             preview, or an issue never sent) are removed: {}",
            removed.join(", ")
        );
    }
    Ok(())
}

/// Make the digest's history its feed's (see [`Store::carry_digest_history`]): issues recorded
/// for another feed (`[digest] feed` renamed, or pointed at another feed) become its feed's,
/// so no week already on record is sent again, and their web copies are copied into its
/// `digest/` folder (where its `index.html` and `atom.xml` list them), those in the old folder
/// left in place. Logged: as news for a rename (the old feeds are no longer configured), as a
/// warning when the digest was pointed at another feed, and for every week an earlier version
/// sent twice (once per feed), which record was kept.
fn carry_history(cfg: &Config, store: &mut Store, plan: &Plan<'_>) -> Result<(), DigestError> {
    let to = plan.dir();
    // The issue's own copy replaces a file of that week in the folder: a preview's, or that of
    // an issue the folder's feed sent before the history was carried elsewhere (and back).
    let copy = |old: &str, week: &str| -> Result<(), DigestError> {
        let from = plan.output_dir.join(old).join(DIGEST_DIR);
        for ext in ["html", "txt", "eml"] {
            let name = format!("{week}.{ext}");
            // A copy missing from the old folder is not an error: the record is what counts.
            if let Ok(bytes) = std::fs::read(from.join(&name)) {
                write(&to.join(&name), &bytes)?;
            }
        }
        Ok(())
    };
    // Copied before the history moves: should a copy fail, the next run carries it again.
    let carried = store.carry_digest_history(&plan.feed.name, |carried| {
        for (old, week) in &carried.moved {
            copy(old, week)?;
        }
        for d in carried.doubled.iter().filter(|d| d.took_other) {
            copy(&d.other_feed, &d.week)?;
        }
        Ok::<_, DigestError>(())
    })?;
    if carried.moved.is_empty() && carried.doubled.is_empty() {
        return Ok(());
    }
    let mut feeds: Vec<&str> = Vec::new();
    for (old, _) in &carried.moved {
        if !feeds.contains(&old.as_str()) {
            feeds.push(old);
        }
    }
    if !feeds.is_empty() {
        let last = carried
            .moved
            .iter()
            .map(|(_, w)| w.as_str())
            .max()
            .unwrap_or_default();
        let names = feeds
            .iter()
            .map(|f| format!("{f:?}"))
            .collect::<Vec<_>>()
            .join(", ");
        let what = format!(
            "the digest's {} issue(s) on record for feed {names} (the last {last}) are now feed \
             {:?}'s, as digest.feed names it: there is one digest, so a week already on record \
             is not sent again and a post already mailed goes in no other issue; their web \
             copies are copied to {}",
            carried.moved.len(),
            plan.feed.name,
            to.display()
        );
        if feeds.iter().any(|f| cfg.feeds.iter().any(|c| c.name == *f)) {
            // Pointed at another feed: a week already sent holds only what that issue had.
            tracing::warn!(
                "{what} (posts of feed {:?} in those weeks that their issues did not carry go \
                 in no issue)",
                plan.feed.name
            );
        } else {
            tracing::info!("{what} (the feed was renamed)");
        }
    }
    for d in &carried.doubled {
        let how = if d.took_other {
            format!(
                "{:?}'s, which was sent (Message-ID <{}>), whose web copy replaces the one \
                 written for {:?} and never sent",
                d.other_feed, d.kept_message_id, plan.feed.name
            )
        } else {
            format!(
                "{:?}'s (Message-ID <{}>); {:?}'s (Message-ID <{}>) stays in {} only",
                plan.feed.name,
                d.kept_message_id,
                d.other_feed,
                d.dropped_message_id,
                plan.output_dir
                    .join(&d.other_feed)
                    .join(DIGEST_DIR)
                    .display()
            )
        };
        tracing::warn!(
            "digest {}: on record for feed {:?} and feed {:?} both (an earlier version could \
             send a week once per feed): kept as one issue, {how}",
            d.week,
            plan.feed.name,
            d.other_feed,
        );
    }
    write_archive(store, plan)
}

/// Rewrite `digest/index.html` and `digest/atom.xml` from the recorded issues, in the digest
/// feed's language (`[[feed]] language`; none named without it).
fn write_archive(store: &Store, plan: &Plan<'_>) -> Result<(), DigestError> {
    let issues = store.digest_issues(&plan.feed.name)?;
    let dir = plan.dir();
    let language = plan.feed.language();
    let language = language.as_deref();
    write(
        &dir.join("index.html"),
        archive::index_html(&plan.title, &plan.public_dir, language, &issues).as_bytes(),
    )?;
    write(
        &dir.join("atom.xml"),
        archive::atom(&plan.title, &plan.public_dir, language, &issues).as_bytes(),
    )?;
    Ok(())
}

mod archive {
    //! The list of past issues as a web page and an Atom feed (pure).
    //!
    //! Neither holds words of its own: they are titled with the digest's title, list each
    //! issue by its subject (and the day it went out), and name the language of the digest's
    //! feed (`[[feed]] language`) when it has one, so a list in any language reads as its
    //! issues do. Each subject and the title has `dir="auto"`.

    use crate::store::digest::DigestIssue;
    use html_escape::{encode_double_quoted_attribute as attr, encode_text as text};

    pub(super) fn index_html(
        title: &str,
        base: &str,
        language: Option<&str>,
        issues: &[DigestIssue],
    ) -> String {
        let mut s = String::new();
        match language {
            Some(l) => s.push_str(&format!("<!DOCTYPE html>\n<html lang=\"{}\">\n", attr(l))),
            None => s.push_str("<!DOCTYPE html>\n<html>\n"),
        }
        s.push_str("<head>\n<meta charset=\"utf-8\">\n");
        s.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        s.push_str(&format!("<title>{}</title>\n", text(title)));
        s.push_str(&format!(
            "<link rel=\"alternate\" type=\"application/atom+xml\" href=\"{}atom.xml\">\n",
            attr(base)
        ));
        s.push_str("</head>\n<body>\n");
        s.push_str(&format!("<h1 dir=\"auto\">{}</h1>\n<ul>\n", text(title)));
        for i in issues {
            s.push_str(&format!(
                "<li><a href=\"{}.html\" dir=\"auto\">{}</a> — {}</li>\n",
                attr(&i.week),
                text(&i.subject),
                text(&i.sent_at.format("%Y-%m-%d").to_string())
            ));
        }
        s.push_str("</ul>\n</body>\n</html>\n");
        s
    }

    pub(super) fn atom(
        title: &str,
        base: &str,
        language: Option<&str>,
        issues: &[DigestIssue],
    ) -> String {
        use atom_syndication::{
            ContentBuilder, EntryBuilder, FeedBuilder, LinkBuilder, PersonBuilder,
        };
        let updated = issues
            .iter()
            .map(|i| i.sent_at)
            .max()
            .unwrap_or_default()
            .fixed_offset();
        let entries = issues
            .iter()
            .map(|i| {
                let url = format!("{base}{}.html", i.week);
                let list = i
                    .titles
                    .iter()
                    .map(|t| format!("<li>{}</li>", text(t)))
                    .collect::<String>();
                EntryBuilder::default()
                    .id(url.clone())
                    .title(i.subject.clone())
                    .updated(i.sent_at.fixed_offset())
                    .published(Some(i.sent_at.fixed_offset()))
                    .links(vec![
                        LinkBuilder::default()
                            .href(url)
                            .rel("alternate")
                            .mime_type(Some("text/html".into()))
                            .build(),
                    ])
                    .content(Some(
                        ContentBuilder::default()
                            .content_type(Some("html".into()))
                            .value(Some(format!("<ul>{list}</ul>")))
                            .build(),
                    ))
                    .build()
            })
            .collect::<Vec<_>>();
        let feed = FeedBuilder::default()
            .id(format!("{base}atom.xml"))
            .title(title.to_owned())
            .lang(language.map(str::to_owned))
            .updated(updated)
            .authors(vec![
                PersonBuilder::default().name(title.to_owned()).build(),
            ])
            .links(vec![
                LinkBuilder::default()
                    .href(format!("{base}atom.xml"))
                    .rel("self")
                    .build(),
                LinkBuilder::default()
                    .href(format!("{base}index.html"))
                    .rel("alternate")
                    .build(),
            ])
            .entries(entries)
            .build();
        // The feeds' stylesheet (`<output_dir>/feed.xsl`) from `<output_dir>/<feed>/digest/`.
        format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
             <?xml-stylesheet type=\"text/xsl\" href=\"../../feed.xsl\"?>\n{}\n",
            feed.to_string()
                .trim_start_matches("<?xml version=\"1.0\"?>")
        )
    }
}
