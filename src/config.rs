//! Configuration: the `config.toml` tree, its defaults and its validation.
//!
//! Owns: parsing (`deny_unknown_fields` everywhere), defaults, and [`Config::validate`], whose
//! errors name the file and the key; [`Config::check_paths`], the look at local paths `check`
//! adds (metadata only). Must not: touch the network, the database, the clock or any global
//! state, or create files. Relative paths are resolved against the config file's directory
//! here, once.

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use url::Url;

/// A configuration error: the file, the key (e.g. `source[0].url`) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: PathBuf,
    pub key: String,
    pub message: String,
}

impl fmt::Display for ConfigError {
    /// The message without the credentials of any URL it quotes (a source URL's password, a
    /// TOML syntax error's line): `check` and every command print it, and an operator may paste
    /// it anywhere.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let message = crate::redact::userinfo(&self.message);
        if self.key.is_empty() {
            write!(f, "{}: {message}", self.file.display())
        } else {
            write!(f, "{}: {}: {message}", self.file.display(), self.key)
        }
    }
}

impl std::error::Error for ConfigError {}

/// The whole configuration.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where published files go (relative to the config file).
    #[serde(default = "default_output_dir")]
    pub output_dir: PathBuf,
    /// URL at which `output_dir` is served; self links are built from it.
    #[serde(default = "default_public_url")]
    pub public_url: String,
    /// IANA time zone for schedules.
    #[serde(default = "default_timezone")]
    pub timezone: String,
    #[serde(default)]
    pub store: StoreConfig,
    #[serde(default)]
    pub http: HttpConfig,
    #[serde(default, rename = "source")]
    pub sources: Vec<SourceConfig>,
    #[serde(default, rename = "feed")]
    pub feeds: Vec<FeedConfig>,
    pub digest: Option<DigestConfig>,
    #[serde(default)]
    pub daemon: DaemonConfig,
    pub server: Option<ServerConfig>,
    /// No `[websub]` table: feeds name no hub and nobody is pinged.
    pub websub: Option<WebSubConfig>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    #[serde(default = "default_store_path")]
    pub path: PathBuf,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            path: default_store_path(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    #[serde(default = "default_user_agent")]
    pub user_agent: String,
    /// Minimum delay between two requests to one host, in milliseconds.
    #[serde(default = "default_min_interval_ms")]
    pub min_interval_ms: u64,
    #[serde(default = "default_per_host_concurrency")]
    pub per_host_concurrency: u32,
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
    #[serde(default = "default_true")]
    pub respect_robots: bool,
    /// Request budget per source per run.
    #[serde(default = "default_max_requests")]
    pub max_requests: u32,
    /// Retries after a timeout, connection error or 5xx.
    #[serde(default = "default_max_retries")]
    pub max_retries: u32,
    /// Longest `Retry-After` honoured before the source is skipped for the run.
    #[serde(default = "default_max_retry_after_secs")]
    pub max_retry_after_secs: u64,
    /// Largest response body accepted (after decompression), in bytes.
    #[serde(default = "default_max_body_bytes")]
    pub max_body_bytes: u64,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            user_agent: default_user_agent(),
            min_interval_ms: default_min_interval_ms(),
            per_host_concurrency: default_per_host_concurrency(),
            timeout_secs: default_timeout_secs(),
            respect_robots: true,
            max_requests: default_max_requests(),
            max_retries: default_max_retries(),
            max_retry_after_secs: default_max_retry_after_secs(),
            max_body_bytes: default_max_body_bytes(),
        }
    }
}

/// How a source is read.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    /// A feed URL is ingested as `feed`, an HTML page as `html`.
    #[default]
    Auto,
    Html,
    Feed,
    Wordpress,
    Dir,
}

impl SourceKind {
    /// The kind as `config.toml` spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Auto => "auto",
            SourceKind::Html => "html",
            SourceKind::Feed => "feed",
            SourceKind::Wordpress => "wordpress",
            SourceKind::Dir => "dir",
        }
    }
}

/// CSS selector overrides for sites the built-in cascade does not fit.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq, Default)]
#[serde(deny_unknown_fields)]
pub struct Selectors {
    /// Links to posts on a listing page.
    pub item_link: Option<String>,
    /// The next listing page link.
    pub next_page: Option<String>,
    pub title: Option<String>,
    /// An element whose `datetime` / `content` attribute, else a machine-readable date inside
    /// it, else its text, is the published date.
    pub date: Option<String>,
    pub author: Option<String>,
    pub categories: Option<String>,
    pub body: Option<String>,
    /// Links to related posts.
    pub related: Option<String>,
}

impl Selectors {
    fn entries(&self) -> [(&'static str, &Option<String>); 8] {
        [
            ("item_link", &self.item_link),
            ("next_page", &self.next_page),
            ("title", &self.title),
            ("date", &self.date),
            ("author", &self.author),
            ("categories", &self.categories),
            ("body", &self.body),
            ("related", &self.related),
        ]
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    pub name: String,
    /// An http(s) URL, or for `dir` sources a folder (relative to the config file).
    pub url: String,
    #[serde(default)]
    pub kind: SourceKind,
    /// Listing pages walked per run.
    #[serde(default = "default_max_pages")]
    pub max_pages: u32,
    /// Cron expression (5 fields, or 6 with seconds first; no year) for the daemon.
    #[serde(default = "default_source_schedule")]
    pub schedule: String,
    /// For feed sources: fetch each item's page and extract the full post.
    #[serde(default)]
    pub full_text: bool,
    /// Known posts younger than this many days are re-checked for edits (older ones only when
    /// a listing card or the API shows them edited).
    #[serde(default = "default_recheck_days")]
    pub recheck_days: u32,
    /// … at most once per this many hours.
    #[serde(default = "default_recheck_hours")]
    pub recheck_hours: u32,
    #[serde(default)]
    pub selectors: Selectors,
    /// Other hosts (`host` or `host:port`) this source's posts live on besides the host of its
    /// `url`: their links, items and redirects are read as the source's own (see
    /// `source::site`).
    #[serde(default)]
    pub also_hosts: Vec<String>,
    /// Not a key: for a `dir` source, what feedwright itself writes, which the folder may hold
    /// but which is never read as posts: `output_dir` and the store's database (whose companion
    /// files start with its name). Set by [`Config::load`] with the resolved paths.
    #[serde(skip)]
    pub not_posts: NotPosts,
    /// Not a key: for a `dir` source, the zone of a front-matter date written without an
    /// offset, the top-level `timezone` (`None`: UTC). Set by [`Config::parse`].
    #[serde(skip)]
    pub local_zone: Option<chrono_tz::Tz>,
    /// Not a key: the zone of a date written without a time of day (a `dir` source's front
    /// matter, a page's `<time datetime="2024-11-18">` or byline, a feed's date): the digest's
    /// `timezone` when the digest's feed takes this source (the day is shown and counted
    /// there), else [`SourceConfig::local_zone`]. Set by [`Config::parse`].
    #[serde(skip)]
    pub day_zone: Option<chrono_tz::Tz>,
}

/// Paths a `dir` source must not read as posts (see [`SourceConfig::not_posts`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NotPosts {
    pub output_dir: Option<PathBuf>,
    pub store: Option<PathBuf>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FeedConfig {
    pub name: String,
    pub title: Option<String>,
    /// Shown as the feed's subtitle / description.
    pub description: Option<String>,
    pub sources: Vec<String>,
    /// Only entries carrying one of these categories (case-insensitive); empty: all.
    #[serde(default)]
    pub categories: Vec<String>,
    /// Entries in the head documents (`atom.xml`, `rss.xml`, `feed.json`).
    #[serde(default = "default_limit")]
    pub limit: u32,
    /// Keep older entries in RFC 5005 archive documents (`<feed>/archive/<n>.xml`).
    #[serde(default = "default_true")]
    pub archive: bool,
    /// Entries per archive document.
    #[serde(default = "default_archive_page_size")]
    pub archive_page_size: u32,
    /// The language of the feed's posts, a BCP 47 tag (`fr`, `pt-BR`, `zh-Hant`): Atom
    /// `xml:lang`, RSS `language`, JSON Feed `language`, the stylesheet page's `lang`, and the
    /// digest's list of issues when this feed is the digest's. Without it no language is
    /// written (readers then guess, as they do for most feeds).
    pub language: Option<String>,
}

impl FeedConfig {
    /// The title, defaulting to the name.
    pub fn title(&self) -> &str {
        self.title.as_deref().unwrap_or(&self.name)
    }

    /// `language` in its canonical spelling (`fr-CA` for `FR-ca`); `None` without one, or
    /// with one [`Config::validate`] refuses.
    pub fn language(&self) -> Option<String> {
        self.language.as_deref().and_then(|l| language_tag(l).ok())
    }
}

/// The longest `digest.unsubscribe_url`, in ASCII: `List-Unsubscribe: <URL>` on one header
/// line of at most 998 characters.
pub const MAX_UNSUBSCRIBE_URL: usize = 998 - "List-Unsubscribe: <>".len();

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DigestConfig {
    pub feed: String,
    #[serde(default = "default_digest_schedule")]
    pub schedule: String,
    /// Defaults to the top-level `timezone`.
    pub timezone: Option<String>,
    /// The language of the dates an issue shows (`date_range`, `date_human`): a POSIX locale
    /// name such as `fr_FR`. Without it they are in English.
    pub locale: Option<String>,
    #[serde(default = "default_from")]
    pub from: String,
    /// A list, or one address as a string.
    #[serde(default, deserialize_with = "one_or_many")]
    pub to: Vec<String>,
    pub smtp_url: Option<String>,
    pub unsubscribe_url: Option<String>,
    #[serde(default = "default_related_limit")]
    pub related_limit: u32,
    /// Title of the issues (default: the feed's title).
    pub title: Option<String>,
    /// The `List-Id` id (default: `<feed>.<domain of from>`), without angle brackets; the header
    /// puts the issues' title before it as its phrase.
    pub list_id: Option<String>,
    /// Name of the environment variable holding the SMTP username.
    pub smtp_username_env: Option<String>,
    /// Name of the environment variable holding the SMTP password.
    pub smtp_password_env: Option<String>,
    /// For `smtp://` to a host that is not loopback: refuse to send without STARTTLS.
    #[serde(default = "default_true")]
    pub require_tls: bool,
    /// Certificates (PEM) trusted besides the system's for a TLS connection that is verified
    /// (`smtps://`, or `smtp://` with `require_tls` to a host that is not loopback): a relay
    /// with a certificate from a private CA. Relative to the config file.
    pub smtp_tls_ca: Option<PathBuf>,
    /// Private key file (PEM: RSA or Ed25519) that DKIM-signs every sent message; relative to
    /// the config file. Without it nothing is signed.
    pub dkim_key: Option<PathBuf>,
    /// DKIM selector: the public key is published at `<selector>._domainkey.<dkim_domain>`.
    /// Required with `dkim_key`.
    pub dkim_selector: Option<String>,
    /// Signing domain (`d=`), default: the domain of `from`.
    pub dkim_domain: Option<String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DaemonConfig {
    #[serde(default = "default_jitter_secs")]
    pub jitter_secs: u64,
    /// Seconds to wait before each new attempt of a digest that failed with an error worth
    /// retrying (the last value repeats), until it is sent or the next digest firing comes;
    /// empty: never retried.
    #[serde(default = "default_digest_retry_secs")]
    pub digest_retry_secs: Vec<u64>,
}

impl Default for DaemonConfig {
    fn default() -> Self {
        DaemonConfig {
            jitter_secs: default_jitter_secs(),
            digest_retry_secs: default_digest_retry_secs(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    #[serde(default = "default_listen")]
    pub listen: String,
    /// Connections served at once; more wait in the listening socket's backlog.
    #[serde(default = "default_max_connections")]
    pub max_connections: u32,
    /// Seconds a connection may keep the server waiting: for a request's headers (counted from
    /// its opening or the end of its previous answer, so also the longest a kept-alive
    /// connection stays idle), or for the client to take more of an answer.
    #[serde(default = "default_server_timeout_secs")]
    pub timeout_secs: u64,
    /// Reverse proxies on other hosts (addresses, or networks such as `10.0.0.0/24`): spared
    /// the per-address limit of requests in progress, as loopback is.
    #[serde(default)]
    pub proxies: Vec<String>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: default_listen(),
            max_connections: default_max_connections(),
            timeout_secs: default_server_timeout_secs(),
            proxies: Vec::new(),
        }
    }
}

impl ServerConfig {
    /// `proxies` as networks (an address alone is a network of one); those that are neither are
    /// left out (validation refuses them).
    pub fn proxy_networks(&self) -> Vec<ipnet::IpNet> {
        self.proxies
            .iter()
            .filter_map(|p| proxy_network(p).ok())
            .collect()
    }
}

/// One `[server] proxies` entry as a network: `10.0.0.5`, `10.0.0.0/24`, `2001:db8::/48`.
fn proxy_network(text: &str) -> Result<ipnet::IpNet, String> {
    let text = text.trim();
    if let Ok(net) = text.parse::<ipnet::IpNet>() {
        return Ok(net.trunc());
    }
    text.parse::<std::net::IpAddr>()
        .map(|ip| ipnet::IpNet::from(ip.to_canonical()))
        .map_err(|_| {
            format!(
                "{text:?} is not an IP address or network (such as \"10.0.0.5\", \"10.0.0.0/24\" \
                 or \"2001:db8::/48\")"
            )
        })
}

/// `[websub]`: the hub feeds advertise (`rel="hub"`) and notify after each change.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WebSubConfig {
    /// The hub's URL (http or https).
    pub hub: String,
    /// Attempts per publish ping before it is kept for the next run.
    #[serde(default = "default_websub_attempts")]
    pub attempts: u32,
    /// Timeout of one ping, in seconds.
    #[serde(default = "default_websub_timeout_secs")]
    pub timeout_secs: u64,
}

/// A list of strings, or one string standing for a list of one (`to = "list@example.org"`).
fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged, expecting = "an address, or a list of addresses")]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(one) => vec![one],
        OneOrMany::Many(many) => many,
    })
}

fn default_websub_attempts() -> u32 {
    3
}
fn default_websub_timeout_secs() -> u64 {
    10
}
fn default_archive_page_size() -> u32 {
    100
}

fn default_output_dir() -> PathBuf {
    PathBuf::from("feeds")
}
fn default_public_url() -> String {
    "https://example.org/feeds/".into()
}
fn default_timezone() -> String {
    "UTC".into()
}
fn default_store_path() -> PathBuf {
    PathBuf::from("feedwright.db")
}
fn default_user_agent() -> String {
    "feedwright/0.1 (+https://example.org/contact)".into()
}
fn default_min_interval_ms() -> u64 {
    1000
}
fn default_per_host_concurrency() -> u32 {
    2
}
fn default_timeout_secs() -> u64 {
    30
}
fn default_true() -> bool {
    true
}
fn default_max_requests() -> u32 {
    500
}
fn default_max_retries() -> u32 {
    3
}
fn default_max_retry_after_secs() -> u64 {
    300
}
fn default_max_body_bytes() -> u64 {
    10 * 1024 * 1024
}
fn default_max_pages() -> u32 {
    5
}
fn default_source_schedule() -> String {
    "*/30 * * * *".into()
}
fn default_recheck_days() -> u32 {
    7
}
fn default_recheck_hours() -> u32 {
    24
}
fn default_limit() -> u32 {
    50
}
fn default_digest_schedule() -> String {
    "0 8 * * MON".into()
}
fn default_from() -> String {
    "Negotiation Digest <digest@example.org>".into()
}
fn default_related_limit() -> u32 {
    3
}
/// Longest `[daemon] jitter_secs`: a random delay of more than a day is a mistake (and its
/// arithmetic would overflow far beyond that).
const MAX_JITTER_SECS: u64 = 86_400;

/// The largest `http.min_interval_ms`: an hour. Longer would stall a run for good (and past
/// ~584 years overflow the rate limiter).
const MAX_MIN_INTERVAL_MS: u64 = 3_600_000;

fn default_jitter_secs() -> u64 {
    30
}
fn default_digest_retry_secs() -> Vec<u64> {
    vec![300, 900, 3600]
}
fn default_listen() -> String {
    "127.0.0.1:8080".into()
}
fn default_max_connections() -> u32 {
    256
}
fn default_server_timeout_secs() -> u64 {
    30
}
/// Largest `[server] max_connections`: each connection holds a file descriptor and up to a
/// 64 KiB request buffer.
const MAX_SERVER_CONNECTIONS: u32 = 10_000;

/// Is `name` non-empty and made only of `[a-z0-9_-]`?
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// Parse a cron expression the way the daemon does: 5 fields, or 6 with seconds first (or a
/// croner nickname such as `@daily`). A year field is refused: without one, every expression
/// repeats with the 400-year Gregorian cycle, so one that fires at all fires again after any
/// moment, and "never fires again after now" is the same as "never fires". An expression that
/// never fires (`0 0 30 2 *`) is an error.
pub fn parse_schedule(expr: &str) -> Result<croner::Cron, String> {
    let fields = expr.split_whitespace().count();
    let nickname = expr.trim_start().starts_with('@');
    let allowed = if nickname {
        fields == 1
    } else {
        (5..=6).contains(&fields)
    };
    if !allowed {
        return Err(format!(
            "{fields} field(s); use 5 (minute hour day-of-month month day-of-week), or 6 with \
             seconds first (there is no year field)"
        ));
    }
    let parser = croner::parser::CronParser::builder()
        .seconds(croner::parser::Seconds::Optional)
        .year(croner::parser::Year::Disallowed)
        .build();
    let cron = parser
        .parse(expr)
        .map_err(|e| match faulty_field(&parser, expr) {
            Some(field) => format!("{field}: {e}"),
            None => e.to_string(),
        })?;
    // A fixed reference keeps validation pure (see above: it stands for "now"); any expression
    // that can fire does so within a few years of it (29 February included).
    let reference =
        chrono::DateTime::<chrono::Utc>::from_timestamp(946_684_800, 0).unwrap_or_default();
    cron.find_next_occurrence(&reference, false)
        .map_err(|_| "it never fires".to_string())?;
    Ok(cron)
}

/// Which field of a cron expression croner refuses, in words (`the minute field "60" (0-59)`),
/// found by parsing it with every other field `*`; `None` for a nickname, or when no single
/// field is at fault.
fn faulty_field(parser: &croner::parser::CronParser, expr: &str) -> Option<String> {
    const FIVE: [(&str, &str); 5] = [
        ("minute", "0-59"),
        ("hour", "0-23"),
        ("day-of-month", "1-31"),
        ("month", "1-12 or JAN-DEC"),
        ("day-of-week", "0-7 or SUN-SAT"),
    ];
    let fields: Vec<&str> = expr.split_whitespace().collect();
    let names: Vec<(&str, &str)> = match fields.len() {
        5 => FIVE.to_vec(),
        6 => std::iter::once(("seconds", "0-59")).chain(FIVE).collect(),
        _ => return None,
    };
    (0..fields.len()).find_map(|i| {
        let alone: Vec<&str> = (0..fields.len())
            .map(|j| if j == i { fields[i] } else { "*" })
            .collect();
        parser.parse(&alone.join(" ")).is_err().then(|| {
            let (name, range) = names[i];
            // "0 0 1 1 * 2030": six fields are read seconds first, so the year lands in the
            // day of the week.
            let year =
                i == 5 && fields[i].len() == 4 && fields[i].bytes().all(|b| b.is_ascii_digit());
            format!(
                "the {name} field {:?} ({range}{})",
                fields[i],
                if year {
                    "; six fields mean seconds first, and there is no year field"
                } else {
                    ""
                }
            )
        })
    })
}

impl Config {
    /// What a valid configuration should still change, as sentences naming the key: a
    /// `public_url` on a domain reserved for examples (RFC 2606, such as the default
    /// `https://example.org/feeds/`) would become every feed's permanent Atom id and self link;
    /// a `http.user_agent` whose contact is such a placeholder (the default's) tells the sites
    /// read nothing of who reads them; a `[[source]]` no `[[feed]]` names is fetched for
    /// nothing. `check` prints these as warnings, and `run`, `backfill` and `daemon` too.
    pub fn advice(&self) -> Vec<String> {
        let mut notes = Vec::new();
        let placeholder_url = |u: &str| {
            url::Url::parse(u)
                .ok()
                .and_then(|u| u.host_str().map(is_example_host))
                .unwrap_or(false)
        };
        if placeholder_url(&self.public_url) {
            notes.push(format!(
                "public_url is {:?}, a placeholder: every feed's permanent id and self link \
                 point there, and changing it later makes every feed a new one to its readers; \
                 set it to the address output_dir is served at before anyone subscribes",
                self.public_url
            ));
        }
        // Only sent to sites: a configuration reading local folders alone sends it nowhere.
        let sends = self.sources.iter().any(|s| s.kind != SourceKind::Dir) || self.websub.is_some();
        let ua = &self.http.user_agent;
        let placeholder_contact = ua
            .split(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | ';' | ',' | '<' | '>'))
            .map(|t| t.trim_start_matches('+'))
            .any(|t| {
                placeholder_url(t)
                    || t.rsplit_once('@')
                        .is_some_and(|(_, domain)| is_example_host(domain))
            });
        if sends && placeholder_contact {
            notes.push(format!(
                "http.user_agent is {ua:?}, whose contact is a placeholder: it is sent with \
                 every request to the sites read; put a URL or address where their owners can \
                 reach you in it"
            ));
        }
        for s in &self.sources {
            if !self.feeds.iter().any(|f| f.sources.contains(&s.name)) {
                notes.push(format!(
                    "source {:?} is in no [[feed]]'s sources: it is read on every run and \
                     published nowhere; add it to a feed or remove it",
                    s.name
                ));
            }
        }
        notes
    }

    /// Read, parse and validate `path`; relative paths are resolved against its directory.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: path.to_path_buf(),
            key: String::new(),
            message: format!("cannot read: {e}"),
        })?;
        let mut cfg = Config::parse(&text, path)?;
        let dir = path.parent().unwrap_or(Path::new(""));
        cfg.resolve_paths(dir);
        if let Some(key) = cfg.digest.as_ref().and_then(|d| d.dkim_key.as_deref()) {
            crate::digest::dkim::read_key(key).map_err(|message| ConfigError {
                file: path.to_path_buf(),
                key: "digest.dkim_key".into(),
                message,
            })?;
        }
        if let Some(ca) = cfg.digest.as_ref().and_then(|d| d.smtp_tls_ca.as_deref()) {
            crate::digest::mail::read_tls_ca(ca).map_err(|message| ConfigError {
                file: path.to_path_buf(),
                key: "digest.smtp_tls_ca".into(),
                message,
            })?;
        }
        Ok(cfg)
    }

    /// Parse and validate TOML text; `file` is only used in messages.
    pub fn parse(text: &str, file: &Path) -> Result<Config, ConfigError> {
        // A syntax error has no key; a value of the wrong type or shape is named by its path.
        let parsed = toml::Deserializer::parse(text)
            .map_err(|e| (String::new(), e))
            .and_then(|de| {
                serde_path_to_error::deserialize(de).map_err(|e| {
                    let path = e.path();
                    let key = if path.iter().next().is_some() {
                        path.to_string()
                    } else {
                        String::new()
                    };
                    (key, e.into_inner())
                })
            });
        let mut cfg: Config = parsed.map_err(|(key, e)| ConfigError {
            file: file.to_path_buf(),
            key,
            message: {
                let message = in_words(e.to_string().trim_end());
                match toml_hint(text, &e) {
                    Some(hint) => format!("{message}\nhint: {hint}"),
                    None => message,
                }
            },
        })?;
        cfg.validate().map_err(|(key, message)| ConfigError {
            file: file.to_path_buf(),
            key,
            message,
        })?;
        let zone = cfg.timezone.parse::<chrono_tz::Tz>().ok();
        let digest = cfg.digest.as_ref().map(|d| {
            let zone = d
                .timezone
                .as_deref()
                .map_or(zone, |tz| tz.parse::<chrono_tz::Tz>().ok());
            let sources = cfg
                .feeds
                .iter()
                .find(|f| f.name == d.feed)
                .map(|f| f.sources.clone())
                .unwrap_or_default();
            (zone, sources)
        });
        for s in &mut cfg.sources {
            // A `file://` URL names the folder as a path would (checked by `validate`).
            if s.kind == SourceKind::Dir
                && let Ok(Some(path)) = file_url_path(&s.url)
            {
                s.url = path.to_string_lossy().into_owned();
            }
            s.local_zone = zone;
            s.day_zone = match &digest {
                Some((digest_zone, sources)) if sources.contains(&s.name) => *digest_zone,
                _ => zone,
            };
        }
        Ok(cfg)
    }

    fn resolve_paths(&mut self, dir: &Path) {
        let join = |p: &Path| {
            if p.is_absolute() || dir.as_os_str().is_empty() {
                p.to_path_buf()
            } else {
                dir.join(p)
            }
        };
        self.output_dir = join(&self.output_dir);
        self.store.path = join(&self.store.path);
        for s in &mut self.sources {
            if s.kind == SourceKind::Dir {
                s.url = join(Path::new(&s.url)).to_string_lossy().into_owned();
                s.not_posts = NotPosts {
                    output_dir: Some(self.output_dir.clone()),
                    store: Some(self.store.path.clone()),
                };
            }
        }
        if let Some(key) = self.digest.as_mut().and_then(|d| d.dkim_key.as_mut()) {
            *key = join(key);
        }
        if let Some(ca) = self.digest.as_mut().and_then(|d| d.smtp_tls_ca.as_mut()) {
            *ca = join(ca);
        }
    }

    /// Check every invariant the types cannot express. The error is `(key, message)`.
    pub fn validate(&self) -> Result<(), (String, String)> {
        let err = |k: &str, m: String| Err((k.to_string(), m));
        if self.output_dir.as_os_str().is_empty() {
            return err("output_dir", "must not be empty".into());
        }
        let public = check_http_url(&self.public_url).map_err(|m| ("public_url".to_string(), m))?;
        if !public.username().is_empty() || public.password().is_some() {
            return err(
                "public_url",
                "must not carry a user name or password: it is published in every feed (ids, \
                 self links) and digest; protect the server in front of output_dir instead"
                    .into(),
            );
        }
        if public.query().is_some() || public.fragment().is_some() {
            return err(
                "public_url",
                format!(
                    "{:?} must not have a query (?…) or fragment (#…): feed URLs are built by \
                     appending <feed>/atom.xml to it",
                    self.public_url
                ),
            );
        }
        if !self.public_url.ends_with('/') {
            return err(
                "public_url",
                format!("must end with '/' (got {:?})", self.public_url),
            );
        }
        check_tz(&self.timezone).map_err(|m| ("timezone".to_string(), m))?;
        if self.store.path.as_os_str().is_empty() {
            return err("store.path", "must not be empty".into());
        }
        self.http.validate()?;
        if self.daemon.jitter_secs > MAX_JITTER_SECS {
            return err(
                "daemon.jitter_secs",
                format!(
                    "at most {MAX_JITTER_SECS} (a day; got {})",
                    self.daemon.jitter_secs
                ),
            );
        }
        for (i, &secs) in self.daemon.digest_retry_secs.iter().enumerate() {
            if !(1..=MAX_JITTER_SECS).contains(&secs) {
                return err(
                    &format!("daemon.digest_retry_secs[{i}]"),
                    format!("from 1 to {MAX_JITTER_SECS} seconds (a day; got {secs})"),
                );
            }
        }
        if self.sources.is_empty() {
            return err("source", "at least one [[source]] is required".into());
        }
        let mut names = HashSet::new();
        for (i, s) in self.sources.iter().enumerate() {
            let key = |k: &str| format!("source[{i}].{k}");
            if !valid_name(&s.name) {
                return Err((
                    key("name"),
                    format!(
                        "{:?} must be non-empty and use only a-z, 0-9, '_' and '-'",
                        s.name
                    ),
                ));
            }
            if !names.insert(s.name.as_str()) {
                return Err((key("name"), format!("duplicate source name {:?}", s.name)));
            }
            match s.kind {
                SourceKind::Dir => {
                    if s.url.trim().is_empty() {
                        return Err((key("url"), "a dir source needs a folder path".into()));
                    }
                    file_url_path(&s.url).map_err(|m| (key("url"), m))?;
                }
                _ => {
                    check_http_url(&s.url).map_err(|m| {
                        (
                            key("url"),
                            format!("{m} (for a local folder set kind = \"dir\")"),
                        )
                    })?;
                }
            }
            for host in &s.also_hosts {
                if s.kind == SourceKind::Dir {
                    return Err((
                        key("also_hosts"),
                        "a dir source reads no site: remove the key".into(),
                    ));
                }
                if crate::source::site::also_host_url(host).is_none() {
                    return Err((
                        key("also_hosts"),
                        format!(
                            "{host:?} is not a host name (give `blog.example.org` or \
                             `blog.example.org:8080`, without scheme or path)"
                        ),
                    ));
                }
            }
            if s.max_pages == 0 {
                return Err((key("max_pages"), "must be at least 1".into()));
            }
            parse_schedule(&s.schedule).map_err(|m| {
                (
                    key("schedule"),
                    format!("invalid cron expression {:?}: {m}", s.schedule),
                )
            })?;
            for (field, value) in s.selectors.entries() {
                if let Some(css) = value {
                    scraper::Selector::parse(css).map_err(|e| {
                        (
                            key(&format!("selectors.{field}")),
                            format!("invalid CSS selector {css:?}: {}", selector_error(css, &e)),
                        )
                    })?;
                }
            }
        }
        if self.feeds.is_empty() {
            return err("feed", "at least one [[feed]] is required".into());
        }
        let mut feed_names = HashSet::new();
        for (i, f) in self.feeds.iter().enumerate() {
            let key = |k: &str| format!("feed[{i}].{k}");
            if !valid_name(&f.name) {
                return Err((
                    key("name"),
                    format!(
                        "{:?} must be non-empty and use only a-z, 0-9, '_' and '-'",
                        f.name
                    ),
                ));
            }
            if !feed_names.insert(f.name.as_str()) {
                return Err((key("name"), format!("duplicate feed name {:?}", f.name)));
            }
            if f.sources.is_empty() {
                return Err((key("sources"), "must name at least one source".into()));
            }
            for s in &f.sources {
                if !names.contains(s.as_str()) {
                    return Err((key("sources"), format!("no [[source]] is named {s:?}")));
                }
            }
            if f.limit == 0 {
                return Err((key("limit"), "must be at least 1".into()));
            }
            if f.archive_page_size == 0 {
                return Err((key("archive_page_size"), "must be at least 1".into()));
            }
            if let Some(language) = &f.language {
                language_tag(language).map_err(|m| (key("language"), m))?;
            }
        }
        if let Some(w) = &self.websub {
            check_http_url(&w.hub).map_err(|m| ("websub.hub".to_string(), m))?;
            if !(1..=10).contains(&w.attempts) {
                return err("websub.attempts", "must be between 1 and 10".into());
            }
            if !(1..=300).contains(&w.timeout_secs) {
                return err("websub.timeout_secs", "must be between 1 and 300".into());
            }
        }
        if let Some(d) = &self.digest {
            if !feed_names.contains(d.feed.as_str()) {
                return err("digest.feed", format!("no [[feed]] is named {:?}", d.feed));
            }
            parse_schedule(&d.schedule).map_err(|m| {
                (
                    "digest.schedule".to_string(),
                    format!("invalid cron expression {:?}: {m}", d.schedule),
                )
            })?;
            if let Some(tz) = &d.timezone {
                check_tz(tz).map_err(|m| ("digest.timezone".to_string(), m))?;
            }
            if let Some(locale) = &d.locale {
                date_locale(locale).map_err(|m| ("digest.locale".to_string(), m))?;
            }
            check_mailbox(&d.from).map_err(|m| ("digest.from".to_string(), m))?;
            for (i, to) in d.to.iter().enumerate() {
                check_mailbox(to).map_err(|m| (format!("digest.to[{i}]"), m))?;
            }
            if let Some(u) = &d.smtp_url {
                let parsed = Url::parse(u).map_err(|e| {
                    (
                        "digest.smtp_url".to_string(),
                        format!("invalid URL {u:?}: {e}"),
                    )
                })?;
                if !matches!(parsed.scheme(), "smtp" | "smtps") || parsed.host_str().is_none() {
                    return err(
                        "digest.smtp_url",
                        format!("{u:?} must be smtp://host[:port] or smtps://host[:port]"),
                    );
                }
                if !parsed.username().is_empty() || parsed.password().is_some() {
                    return err(
                        "digest.smtp_url",
                        "must not carry a user name or password (they would be ignored, and a \
                         config file is often readable by others): name the environment \
                         variables holding them with smtp_username_env and smtp_password_env"
                            .into(),
                    );
                }
                if !matches!(parsed.path(), "" | "/")
                    || parsed.query().is_some()
                    || parsed.fragment().is_some()
                {
                    return err(
                        "digest.smtp_url",
                        format!(
                            "{u:?} must be smtp://host[:port] or smtps://host[:port], without a \
                             path or query (they would be ignored)"
                        ),
                    );
                }
                if d.to.is_empty() {
                    return err(
                        "digest.to",
                        "no recipient: with smtp_url set, list at least one address to send to"
                            .into(),
                    );
                }
            }
            if let Some(u) = &d.unsubscribe_url {
                let parsed = Url::parse(u).map_err(|e| {
                    (
                        "digest.unsubscribe_url".to_string(),
                        format!("invalid URL {u:?}: {e}"),
                    )
                })?;
                if !matches!(parsed.scheme(), "http" | "https" | "mailto") {
                    return err(
                        "digest.unsubscribe_url",
                        format!("{u:?} must be an http(s) or mailto URL"),
                    );
                }
                // It goes whole into `List-Unsubscribe: <…>` (as ASCII, spaces encoded), and a
                // mail header line holds at most 998 characters (RFC 5322 2.1.1).
                let sent = parsed.as_str().replace(' ', "%20").len();
                if sent > MAX_UNSUBSCRIBE_URL {
                    return err(
                        "digest.unsubscribe_url",
                        format!(
                            "{sent} characters as sent (in ASCII); the List-Unsubscribe header \
                             holds a URL of at most {MAX_UNSUBSCRIBE_URL}: shorten it"
                        ),
                    );
                }
            }
            if d.related_limit > 20 {
                return err("digest.related_limit", "must be at most 20".into());
            }
            if let Some(t) = &d.title
                && t.trim().is_empty()
            {
                return err("digest.title", "must not be empty".into());
            }
            if let Some(l) = &d.list_id
                && (l.is_empty()
                    || !l
                        .chars()
                        .all(|c| c.is_ascii_graphic() && c != '<' && c != '>'))
            {
                return err(
                    "digest.list_id",
                    format!("{l:?} must be printable ASCII without spaces or angle brackets"),
                );
            }
            for (key, value) in [
                ("digest.smtp_username_env", &d.smtp_username_env),
                ("digest.smtp_password_env", &d.smtp_password_env),
            ] {
                if let Some(v) = value
                    && (v.is_empty()
                        || v.starts_with(|c: char| c.is_ascii_digit())
                        || !v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
                {
                    return err(
                        key,
                        format!("{v:?} is not an environment variable name (A-Z, 0-9, '_')"),
                    );
                }
            }
            if d.smtp_username_env.is_some() != d.smtp_password_env.is_some() {
                return err(
                    "digest.smtp_password_env",
                    "smtp_username_env and smtp_password_env go together".into(),
                );
            }
            match (&d.dkim_key, &d.dkim_selector) {
                (Some(k), _) if k.as_os_str().is_empty() => {
                    return err("digest.dkim_key", "must not be empty".into());
                }
                (Some(_), None) => {
                    return err(
                        "digest.dkim_selector",
                        "required with dkim_key (the key is published at \
                         <selector>._domainkey.<domain>)"
                            .into(),
                    );
                }
                (None, Some(_)) => {
                    return err(
                        "digest.dkim_key",
                        "dkim_selector is set but dkim_key is not: nothing would be signed".into(),
                    );
                }
                _ => {}
            }
            if d.dkim_key.is_none() && d.dkim_domain.is_some() {
                return err(
                    "digest.dkim_key",
                    "dkim_domain is set but dkim_key is not: nothing would be signed".into(),
                );
            }
            for (key, value) in [
                ("digest.dkim_selector", &d.dkim_selector),
                ("digest.dkim_domain", &d.dkim_domain),
            ] {
                if let Some(v) = value
                    && !is_dns_name(v)
                {
                    return err(
                        key,
                        format!("{v:?} is not a DNS name (letters, digits, '-', dot-separated)"),
                    );
                }
            }
        }
        if let Some(s) = &self.server {
            s.listen.parse::<std::net::SocketAddr>().map_err(|e| {
                (
                    "server.listen".to_string(),
                    format!("{:?} is not an address:port: {e}", s.listen),
                )
            })?;
            if !(1..=MAX_SERVER_CONNECTIONS).contains(&s.max_connections) {
                return err(
                    "server.max_connections",
                    format!("must be between 1 and {MAX_SERVER_CONNECTIONS}"),
                );
            }
            if !(1..=300).contains(&s.timeout_secs) {
                return err("server.timeout_secs", "must be between 1 and 300".into());
            }
            for proxy in &s.proxies {
                proxy_network(proxy).map_err(|e| ("server.proxies".to_string(), e))?;
            }
        }
        Ok(())
    }

    /// Check the local paths later commands need, without creating anything: `output_dir` (or
    /// the part of it that exists) must be a directory this process may write, and the folder of every `dir` source must
    /// exist. Meant for `check`: `run` creates `output_dir` itself, and `file` is only used in
    /// messages. Paths are as resolved by [`Config::load`].
    pub fn check_paths(&self, file: &Path) -> Result<(), ConfigError> {
        self.check_output_dir(file)?;
        let fail = |key: String, message: String| ConfigError {
            file: file.to_path_buf(),
            key,
            message,
        };
        for (i, s) in self.sources.iter().enumerate() {
            if s.kind != SourceKind::Dir {
                continue;
            }
            let key = format!("source[{i}].url");
            match std::fs::metadata(&s.url) {
                Ok(m) if m.is_dir() => {}
                Ok(_) => return Err(fail(key, format!("{} is not a folder", s.url))),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Err(fail(key, format!("folder {} does not exist", s.url)));
                }
                Err(e) => return Err(fail(key, format!("cannot read folder {}: {e}", s.url))),
            }
        }
        Ok(())
    }

    /// `output_dir` (or the part of it that exists) must be a directory: nothing on its path
    /// may be a file. What `run`, `digest` and `daemon` check too before creating it, so that
    /// they say what is wrong as `check` does. `file` is only used in messages.
    pub fn check_output_dir(&self, file: &Path) -> Result<(), ConfigError> {
        let fail = |key: String, message: String| ConfigError {
            file: file.to_path_buf(),
            key,
            message,
        };
        // The nearest existing ancestor decides whether `output_dir` can be (or is) a directory,
        // and whether it can be created or written (by its permissions and whether its file
        // system is read-only; nothing is written to find out).
        for p in self.output_dir.ancestors() {
            if p.as_os_str().is_empty() {
                break;
            }
            match std::fs::metadata(p) {
                Ok(m) if m.is_dir() => {
                    use rustix::fs::{Access, access};
                    if let Err(e) = access(p, Access::WRITE_OK | Access::EXEC_OK) {
                        let e = std::io::Error::from(e);
                        return Err(fail(
                            "output_dir".into(),
                            if p == self.output_dir {
                                format!("{} is not writable: {e}", p.display())
                            } else {
                                format!(
                                    "cannot create {}: {} is not writable: {e}",
                                    self.output_dir.display(),
                                    p.display()
                                )
                            },
                        ));
                    }
                    break;
                }
                Ok(_) if p == self.output_dir => {
                    return Err(fail(
                        "output_dir".into(),
                        format!("{} exists and is not a directory", p.display()),
                    ));
                }
                Ok(_) => {
                    return Err(fail(
                        "output_dir".into(),
                        format!(
                            "cannot create {}: {} is not a directory",
                            self.output_dir.display(),
                            p.display()
                        ),
                    ));
                }
                Err(_) => {}
            }
        }
        Ok(())
    }

    /// The source called `name`.
    pub fn source(&self, name: &str) -> Option<&SourceConfig> {
        self.sources.iter().find(|s| s.name == name)
    }
}

impl HttpConfig {
    fn validate(&self) -> Result<(), (String, String)> {
        let err = |k: &str, m: &str| Err((format!("http.{k}"), m.to_string()));
        if self.user_agent.trim().is_empty() {
            return err("user_agent", "must not be empty");
        }
        if self.user_agent.chars().any(|c| c.is_control()) {
            return err("user_agent", "must not contain control characters");
        }
        if self.per_host_concurrency == 0 {
            return err("per_host_concurrency", "must be at least 1");
        }
        if self.timeout_secs == 0 {
            return err("timeout_secs", "must be at least 1");
        }
        if self.min_interval_ms > MAX_MIN_INTERVAL_MS {
            return err(
                "min_interval_ms",
                &format!(
                    "at most {MAX_MIN_INTERVAL_MS} (an hour between two requests to one host; got {})",
                    self.min_interval_ms
                ),
            );
        }
        if self.max_requests == 0 {
            return err("max_requests", "must be at least 1");
        }
        if self.max_body_bytes < 1024 {
            return err("max_body_bytes", "must be at least 1024");
        }
        Ok(())
    }
}

/// Why a CSS selector was rejected, in words: the parsers' own texts name internal error kinds
/// (and for most of them ask to report a bug).
fn selector_error(css: &str, e: &scraper::error::SelectorErrorKind) -> &'static str {
    use scraper::error::SelectorErrorKind as K;
    const GENERIC: &str = "not a valid CSS selector";
    match e {
        K::UnexpectedToken => "unexpected character or token",
        K::EndOfLine => "the selector ends too early",
        K::InvalidAtRule | K::InvalidAtRuleBody => "an @-rule is not a selector",
        K::TooManyNestedBlocks => "too many nested brackets",
        K::ExpectedColonOnPseudoElement => "a pseudo-element needs '::' before its name",
        K::ExpectedIdentityOnPseudoElement => {
            "a pseudo-class or pseudo-element needs a name after ':' or '::'"
        }
        K::QualRuleInvalid => GENERIC,
        // The `selectors` crate's kinds, which are not re-exported: matched by their names.
        K::UnexpectedSelectorParseError(kind) => match format!("{kind:?}").as_str() {
            "EmptySelector" if css.trim().is_empty() => "the selector is empty",
            "EmptySelector" => "expected a selector (a tag, .class, #id, [attribute] or *)",
            "DanglingCombinator" => {
                "a combinator (' ', '>', '+' or '~') is not followed by a selector"
            }
            "NoQualifiedNameInAttributeSelector" | "InvalidQualNameInAttr" => {
                "an attribute selector needs a name"
            }
            "UnexpectedTokenInAttributeSelector" | "ExpectedBarInAttr" => {
                "malformed attribute selector (write [name], [name=value] or [name~=value])"
            }
            "BadValueInAttr" => "an attribute value must be a name or a quoted string",
            "ClassNeedsIdent" => "a class selector needs a name after '.'",
            "NoIdentForPseudo" => "a pseudo-class needs a name after ':'",
            "UnsupportedPseudoClassOrElement" => "unsupported pseudo-class or pseudo-element",
            "UnexpectedIdent" => "unexpected name",
            "ExpectedNamespace" | "ExplicitNamespaceUnexpectedToken" => {
                "namespace prefixes are not supported"
            }
            _ => GENERIC,
        },
    }
}

fn check_http_url(s: &str) -> Result<Url, String> {
    let u = Url::parse(s).map_err(|e| format!("invalid URL {s:?}: {e}"))?;
    if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
        return Err(format!("{s:?} must be an http:// or https:// URL"));
    }
    Ok(u)
}

/// What to write instead, for the TOML mistakes a first configuration makes: a table
/// `[source]` or `[feed]` where a list of them (`[[source]]`) is meant, a plural `[[sources]]`
/// or `[[feeds]]`, a string where a list is meant.
/// A deserialization error's Rust type names in words: `expected u32` is `expected a whole
/// number`, `expected struct StoreConfig` is `expected a table`.
fn in_words(message: &str) -> String {
    static TYPES: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"expected (?:struct \w+|[ui](?:8|16|32|64|size)|f(?:32|64))\b")
            .expect("a valid pattern")
    });
    TYPES
        .replace_all(message, |c: &regex::Captures<'_>| {
            let t = &c[0]["expected ".len()..];
            if t.starts_with("struct") {
                "expected a table"
            } else if t.starts_with('u') {
                "expected a whole number (0 or more)"
            } else if t.starts_with('i') {
                "expected a whole number"
            } else {
                "expected a number"
            }
        })
        .into_owned()
}

fn toml_hint(text: &str, e: &toml::de::Error) -> Option<String> {
    let message = e.message();
    let at = e
        .span()
        .and_then(|span| text.get(span))
        .unwrap_or_default()
        .trim();
    // The text of the error's line before it: a table header's, or a key's before its value.
    let before = text.get(..e.span()?.start)?;
    let line = before[before.rfind('\n').map_or(0, |i| i + 1)..].trim_start();
    if message.contains("expected a sequence") {
        if message.starts_with("invalid type: map") {
            // The span is the table's header (`[source]`) or its body.
            let header = text
                .get(..e.span()?.end)?
                .lines()
                .rev()
                .map(str::trim)
                .find(|l| l.starts_with('['))
                .or(Some(at).filter(|a| a.starts_with('[')))?;
            let name = header
                .trim_start_matches(['[', ' '])
                .split(['.', ']', ' '])
                .next()
                .unwrap_or_default();
            return Some(format!(
                "write [[{name}]], with two brackets: each [[{name}]] table adds one to the list"
            ));
        }
        if message.starts_with("invalid type: string") {
            // The span is the value: the key is what its line gives before `=`.
            let key = line.split('=').next().unwrap_or_default().trim();
            let key = if key.is_empty() { "key" } else { key };
            return Some(format!("this key takes a list: {key} = [\"…\"]"));
        }
    }
    // A table header's line, not a key inside a table.
    for (plural, table) in [("sources", "source"), ("feeds", "feed")] {
        if message.starts_with(&format!("unknown field `{plural}`"))
            && line.starts_with('[')
            && at.starts_with(plural)
        {
            return Some(format!("the table is [[{table}]], in the singular"));
        }
    }
    None
}

/// The folder a `dir` source's `file://` URL names (`file:///srv/posts` is `/srv/posts`);
/// `None` when `url` is not a `file:` URL (a path). A `file:` URL that names no local path (a
/// host, a relative form) is an error saying to give a path.
fn file_url_path(url: &str) -> Result<Option<PathBuf>, String> {
    if !url
        .get(..5)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("file:"))
    {
        return Ok(None);
    }
    Url::parse(url)
        .ok()
        .and_then(|u| u.to_file_path().ok())
        .map(Some)
        .ok_or_else(|| {
            format!(
                "{url:?} is not a local folder: give its path (\"posts\", \"/srv/site/posts\"; \
                 relative paths are relative to the config file's folder) or a file:///… URL"
            )
        })
}

/// Is `host` on a domain reserved for examples (RFC 2606: `example.org`, `.com`, `.net`,
/// `.example`), or one of their subdomains?
fn is_example_host(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    ["example.org", "example.com", "example.net", "example"]
        .iter()
        .any(|d| host == *d || host.ends_with(&format!(".{d}")))
}

fn check_tz(s: &str) -> Result<(), String> {
    s.parse::<chrono_tz::Tz>()
        .map(|_| ())
        .map_err(|_| format!("unknown time zone {s:?} (use an IANA name such as \"Europe/Paris\")"))
}

/// `[[feed]] language`: a well-formed BCP 47 language tag (RFC 5646, as ICU4X parses it:
/// language, script, region, variants, extensions, private use), in its canonical case
/// (`fr-CA` for `FR-ca`). Whether the subtags are registered is not checked.
pub fn language_tag(s: &str) -> Result<String, String> {
    match icu_locale_core::Locale::try_from_str(s) {
        Ok(tag) => Ok(tag.to_string()),
        Err(_) if s.contains('_') && !s.contains('-') => Err(format!(
            "{s:?} is not a BCP 47 language tag: its parts are joined with '-' ({:?})",
            s.replace('_', "-")
        )),
        Err(e) => Err(format!(
            "{s:?} is not a BCP 47 language tag ({e:?}): use a language code with an optional \
             script and region, such as \"fr\", \"pt-BR\" or \"zh-Hant\""
        )),
    }
}

/// The locale `[digest] locale` names: a POSIX name (`fr_FR`, `de_CH`, `sr_RS@latin`), the same
/// with a hyphen (`fr-FR`, as a language tag writes it) or a codeset (`fr_FR.UTF-8`, as `$LANG`
/// writes it: the codeset is dropped, dates are always UTF-8), in any case (`FR_fr`); or a
/// bare language (`fr`), which names the locale `<language>_<LANGUAGE>` when chrono has one
/// (`fr_FR`, `de_DE`, `es_ES`), else the language's only locale (`ja_JP`, `he_IL`, `fa_IR`).
/// A language of several locales, none of them `<language>_<LANGUAGE>` (`en`, `ar`, `zh`), is
/// an error listing them: their names may differ (Arabic's months do, between Egypt and
/// Syria), so the country is the user's to say.
pub fn date_locale(s: &str) -> Result<chrono::Locale, String> {
    let unknown = || {
        format!(
            "unknown locale {s:?} (use a POSIX locale name, language and country, such as \
             \"fr_FR\", \"de_DE\" or \"pt_BR\", or a language alone, such as \"fr\")"
        )
    };
    let text = s.trim().replace('-', "_");
    // `fr_FR.UTF-8`, `sr_RS.UTF-8@latin`: the codeset goes, a modifier stays.
    let (name, modifier) = match text.split_once('@') {
        Some((name, modifier)) => (name, Some(modifier)),
        None => (text.as_str(), None),
    };
    let name = name.split_once('.').map_or(name, |(name, _codeset)| name);
    if name == "POSIX" || name == "C" {
        return Ok(chrono::Locale::POSIX);
    }
    let (language, country) = match name.split_once('_') {
        Some((l, c)) => (l.to_ascii_lowercase(), Some(c.to_ascii_uppercase())),
        None => (name.to_ascii_lowercase(), None),
    };
    let valid = |language: &str| {
        (2..=3).contains(&language.len()) && language.chars().all(|c| c.is_ascii_lowercase())
    };
    if !valid(&language) {
        return Err(unknown());
    }
    let locale = |country: &str| {
        let name = match modifier {
            Some(m) => format!("{language}_{country}@{m}"),
            None => format!("{language}_{country}"),
        };
        chrono::Locale::try_from(name.as_str()).ok()
    };
    if let Some(country) = country {
        return locale(&country).ok_or_else(unknown);
    }
    if let Some(found) = locale(&language.to_ascii_uppercase()) {
        return Ok(found);
    }
    // Every two-letter country chrono may have for the language.
    let mut found = Vec::new();
    for a in b'A'..=b'Z' {
        for b in b'A'..=b'Z' {
            let country = String::from_utf8(vec![a, b]).unwrap_or_default();
            if let Some(l) = locale(&country) {
                found.push((l, country));
            }
        }
    }
    match found.as_slice() {
        [] => Err(unknown()),
        [(only, _)] => Ok(*only),
        several => Err(format!(
            "{s:?} is the language of several locales ({}): name one, language and country",
            several
                .iter()
                .map(|(_, c)| format!("{language}_{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// Dot-separated labels of ASCII letters, digits and inner hyphens (a selector or a domain).
fn is_dns_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

fn check_mailbox(s: &str) -> Result<(), String> {
    s.parse::<lettre::message::Mailbox>()
        .map(|_| ())
        .map_err(|e| format!("invalid email address {s:?}: {e}"))
}
