//! feedwright turns a website's category of posts into Atom, RSS and JSON feeds and a weekly
//! digest email.
//!
//! # Codemap
//!
//! The pipeline is plain functions over plain data (`model`):
//!
//! ```text
//! source (HTTP / files) ─► extract (pure) ─► normalize (pure) ─► store (SQLite)
//!                                                                   │
//!          <output_dir>/<feed>/{atom.xml,rss.xml,feed.json} ◄─ publish (pure render + atomic write)
//!          <output_dir>/<feed>/archive/<n>.xml (RFC 5005)          └─► websub (ping the hub)
//!          <output_dir>/<feed>/digest/<week>.{html,txt,eml} ◄─ digest (select, related, render) ─► SMTP
//! ```
//!
//! - [`config`]: the `config.toml` tree and its validation.
//! - [`model`]: the types passed between stages.
//! - [`source`]: every request to a site and every read of a local folder.
//! - [`extract`]: fields out of untrusted HTML (pure).
//! - [`normalize`]: canonical URLs, ids, dates, sanitized HTML (pure).
//! - [`html_limits`]: the linear look that refuses HTML too costly to parse (pure).
//! - `html_out` (private): the one serializer of a parsed HTML tree back to text.
//! - `cpu` (private): the gate that runs page work on the blocking pool, one job per core.
//! - [`store`]: all SQL.
//! - [`publish`]: feed rendering (pure) and the one atomic writer of `output_dir`.
//! - [`digest`]: the weekly issue: week, selection, related posts, templates, MIME, SMTP.
//! - [`websub`]: the publish ping to the configured WebSub hub.
//! - [`pipeline`]: the one place the stages are wired together, which source is which when
//!   the configuration renames one or its site moves, and forgetting one removed on purpose.
//! - [`daemon`]: when jobs run (cron schedules, signals, reload).
//! - [`server`]: serving `output_dir`, the feed index, `/healthz` and `/metrics` (reads the store
//!   read-only), and `feedwright serve`'s signals (stop, reload).
//! - [`cli`]: one function per subcommand.
//! - [`terminal`]: remote text escaped for the terminal and the log.
//! - [`redact`]: credentials (URL userinfo) removed from text `/healthz` and `status` show.
//!
//! See `ARCHITECTURE.md` for the invariants.

pub mod cli;
pub mod config;
mod cpu;
pub mod daemon;
pub mod digest;
pub mod extract;
pub mod html_limits;
mod html_out;
pub mod model;
pub mod normalize;
pub mod pipeline;
pub mod publish;
pub mod redact;
pub mod server;
pub mod service;
pub mod source;
pub mod store;
pub mod terminal;
pub mod websub;
