//! Local folders: saved `.html` pages and Markdown posts with front matter.
//!
//! Owns: listing a folder (recursively, in name order), splitting TOML (`+++`) or YAML (`---`)
//! front matter, rendering Markdown with `pulldown-cmark`, and refusing a file whose front matter
//! an editor got wrong (unknown key, a date `normalize::parse_date` cannot read, no URL) with a
//! message naming the file. A saved page is handed on for the pipeline to extract like a fetched
//! one, unless its front matter gives fields of its own (or a `url` the page's canonical link may
//! contradict): then it is extracted here (`crate::extract`, pure) and those fields put over what
//! extraction found. Must not: sanitize (Markdown may carry raw HTML: it is as untrusted as a
//! scraped page), normalize (dates are only checked, and handed on as written), or touch the
//! store.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use chrono::Utc;
use chrono_tz::Tz;
use regex::Regex;
use scraper::{Html, Selector};
use serde::Deserialize;
use url::Url;

use super::{Discovery, SourceError, SourceIndex};
use crate::config::SourceConfig;
use crate::model::{DateSource, RawDate, RawPage, RawPost};

/// Front matter keys an editor may use. Unknown keys are an error naming the file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FrontMatter {
    title: Option<Text>,
    date: Option<Text>,
    updated: Option<Text>,
    author: Option<OneOrMany>,
    authors: Option<OneOrMany>,
    categories: Option<OneOrMany>,
    tags: Option<OneOrMany>,
    url: Option<Text>,
    summary: Option<Text>,
    /// `summary` as Hugo and Jekyll call it.
    description: Option<Text>,
    related: Option<OneOrMany>,
    /// A draft (`draft: true`, as Hugo and Jekyll mark one) is not published.
    draft: Option<bool>,
}

/// A front-matter value read as text: in YAML any scalar as written; in TOML a string, number or
/// boolean, or a date or date-time in its TOML spelling (`date = 2024-03-05` is the usual way to
/// write a date in TOML). Whether a `date` is a date, or a `url` a URL, is checked later, with a
/// message naming the key.
#[derive(Debug)]
struct Text(String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Text;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("text")
            }
            fn visit_str<E>(self, v: &str) -> Result<Text, E> {
                Ok(Text(v.to_owned()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_bool<E>(self, v: bool) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            /// A TOML date or date-time comes as a one-entry map.
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Text, A::Error> {
                let d = toml::value::Datetime::deserialize(
                    serde::de::value::MapAccessDeserializer::new(map),
                )?;
                Ok(Text(d.to_string()))
            }
        }
        // Asked for a string, YAML hands over any scalar as written (`1.50`, not `1.5`); TOML
        // hands over what it parsed, which `V` spells.
        d.deserialize_string(V)
    }
}

/// A front-matter value that is one text or a list of texts (`tags = "a"`, `tags = ["a", "b"]`),
/// each read as [`Text`] is (so `tags: [2024, news]` is two tags). Anything else is an error
/// that says what was expected, not serde's "did not match any variant".
#[derive(Debug)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = OneOrMany;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a text or a list of texts")
            }
            fn visit_str<E>(self, v: &str) -> Result<OneOrMany, E> {
                Ok(OneOrMany::One(v.to_owned()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<OneOrMany, E> {
                Ok(OneOrMany::One(v.to_string()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<OneOrMany, E> {
                Ok(OneOrMany::One(v.to_string()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<OneOrMany, E> {
                Ok(OneOrMany::One(v.to_string()))
            }
            fn visit_bool<E>(self, v: bool) -> Result<OneOrMany, E> {
                Ok(OneOrMany::One(v.to_string()))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<OneOrMany, A::Error> {
                let mut out = Vec::new();
                while let Some(Text(t)) = seq.next_element::<Text>()? {
                    out.push(t);
                }
                Ok(OneOrMany::Many(out))
            }
        }
        d.deserialize_any(V)
    }
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        }
    }
}

/// Read every post file below the source's folder.
pub fn read(src: &SourceConfig) -> Result<SourceIndex, SourceError> {
    let root = PathBuf::from(&src.url);
    let mut files = Vec::new();
    let mut failures = Vec::new();
    // What feedwright writes is never a post: `output_dir` counts as a folder read already (it
    // does not exist before the first run), and the store's files are left out below.
    let not_posts = &src.not_posts;
    let mut seen: HashSet<PathBuf> = not_posts
        .output_dir
        .iter()
        .filter_map(|d| d.canonicalize().ok())
        .collect();
    let store = not_posts.store.as_deref().and_then(|db| {
        let folder = db
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        Some((
            folder.canonicalize().ok()?,
            db.file_name()?.to_string_lossy().into_owned(),
        ))
    });
    collect(&root, &mut files, &mut failures, &mut seen).map_err(|e| SourceError::Invalid {
        location: root.display().to_string(),
        message: format!("cannot read folder: {e}"),
    })?;
    if let Some((folder, db)) = &store {
        // The database and its companions: SQLite's, and the single-writer lock.
        let names: Vec<String> = ["", "-wal", "-shm", "-journal", ".lock"]
            .iter()
            .map(|suffix| format!("{db}{suffix}"))
            .collect();
        files.retain(|(_, real)| {
            real.parent() != Some(folder.as_path())
                || !real
                    .file_name()
                    .is_some_and(|n| names.iter().any(|db| n.to_string_lossy() == db.as_str()))
        });
    }
    files.sort();
    // A file reached twice (a link to a file listed already) is read once, under its first path.
    let mut first_path: HashMap<PathBuf, PathBuf> = HashMap::new();
    let mut posts = Vec::new();
    let mut documents = Vec::new();
    let mut drafts = Vec::new();
    for (path, real) in files {
        if let Some(first) = first_path.get(&real) {
            tracing::info!(
                file = %path.display(),
                "the same file as {}: read once, as that",
                first.display()
            );
            continue;
        }
        first_path.insert(real, path.clone());
        match read_file(&path, src) {
            Ok(Item::Post(url, raw)) => posts.push((path.display().to_string(), url, *raw)),
            Ok(Item::Page(page)) => documents.push((path.display().to_string(), page)),
            Ok(Item::Draft) => {
                tracing::info!(file = %path.display(), "a draft (draft = true): not published");
                drafts.push(path.display().to_string());
            }
            Err(e) => failures.push((path.display().to_string(), e)),
        }
    }
    let mut index = SourceIndex::new(Discovery::Mixed { posts, documents }, "dir");
    index.failures = failures;
    index.drafts = drafts;
    Ok(index)
}

/// List post files below `dir`, each with its real path (no link in it); an unreadable
/// subfolder or entry is a failure of its own and the rest is still read. Symbolic links are
/// followed (a linked folder is read like a real one); a folder reached twice (a link back up
/// the tree, or two links to one folder) is read once, under its first path in name order.
fn collect(
    dir: &Path,
    out: &mut Vec<(PathBuf, PathBuf)>,
    failures: &mut Vec<(String, String)>,
    seen: &mut HashSet<PathBuf>,
) -> std::io::Result<()> {
    let real_dir = dir.canonicalize()?;
    if !seen.insert(real_dir.clone()) {
        return Ok(());
    }
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        match entry {
            Ok(e) => entries.push(e),
            Err(e) => failures.push((dir.display().to_string(), format!("cannot list: {e}"))),
        }
    }
    // In name order, so that of two paths to one folder the first in name order reads it.
    entries.sort_by_cached_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let (is_dir, is_link) = match entry.file_type() {
            Ok(t) if t.is_symlink() => match std::fs::metadata(&path) {
                Ok(m) => (m.is_dir(), true),
                Err(e) => {
                    failures.push((path.display().to_string(), format!("broken link: {e}")));
                    continue;
                }
            },
            Ok(t) => (t.is_dir(), false),
            Err(e) => {
                failures.push((path.display().to_string(), format!("cannot read: {e}")));
                continue;
            }
        };
        if is_dir {
            if let Err(e) = collect(&path, out, failures, seen) {
                failures.push((
                    path.display().to_string(),
                    format!("cannot read folder: {e}"),
                ));
            }
        } else if matches!(
            path.extension()
                .and_then(|e| e.to_str())
                .map(str::to_ascii_lowercase)
                .as_deref(),
            Some("md" | "markdown" | "html" | "htm")
        ) {
            let real = if is_link {
                match path.canonicalize() {
                    Ok(real) => real,
                    Err(e) => {
                        failures.push((path.display().to_string(), format!("broken link: {e}")));
                        continue;
                    }
                }
            } else {
                real_dir.join(entry.file_name())
            };
            out.push((path, real));
        }
    }
    Ok(())
}

enum Item {
    Post(Url, Box<RawPost>),
    Page(RawPage),
    Draft,
}

/// What front matter says about a post beyond its `url` and `draft`, dates checked. `None` (or
/// an empty date list) is a key not given.
struct Fields {
    title: Option<String>,
    published: Vec<RawDate>,
    modified: Vec<RawDate>,
    authors: Option<Vec<String>>,
    categories: Option<Vec<String>>,
    /// As `RawPost::summary` takes it: HTML (the typed text, escaped).
    summary: Option<String>,
    /// As written: relative ones are resolved against the post's URL.
    related: Option<Vec<String>>,
}

impl Fields {
    /// `zone`: where a date written without an offset is a wall-clock time; `day_zone`: where
    /// a date alone names its day (see [`front_date`]).
    fn read(front: FrontMatter, zone: Tz, day_zone: Tz) -> Result<Fields, String> {
        if front.summary.is_some() && front.description.is_some() {
            return Err("front matter keys summary and description are one field \
                        (description is what Hugo and Jekyll call it): give one"
                .into());
        }
        let list = |one: Option<OneOrMany>, other: Option<OneOrMany>| {
            (one.is_some() || other.is_some()).then(|| {
                let mut all = one.map(OneOrMany::into_vec).unwrap_or_default();
                all.extend(other.map(OneOrMany::into_vec).unwrap_or_default());
                all
            })
        };
        Ok(Fields {
            title: front.title.map(|Text(t)| t),
            published: front_date("date", front.date, zone, day_zone)?,
            modified: front_date("updated", front.updated, zone, day_zone)?,
            authors: list(front.author, front.authors),
            categories: list(front.categories, front.tags),
            // Plain text as the editor typed it, but `RawPost::summary` may be HTML and is read
            // as HTML: escaped, so `a<b` is not taken for a tag and `&amp;` stays as written.
            summary: front
                .summary
                .or(front.description)
                .map(|Text(s)| html_escape::encode_text(&s).into_owned()),
            related: front.related.map(OneOrMany::into_vec),
        })
    }

    fn is_empty(&self) -> bool {
        self.title.is_none()
            && self.published.is_empty()
            && self.modified.is_empty()
            && self.authors.is_none()
            && self.categories.is_none()
            && self.summary.is_none()
            && self.related.is_none()
    }

    /// Put the fields given over `raw`'s; `url` is the post's, for relative `related` URLs.
    fn apply(self, raw: &mut RawPost, url: &Url) {
        if let Some(title) = self.title {
            raw.title = Some(title);
        }
        if !self.published.is_empty() {
            raw.published = self.published;
        }
        if !self.modified.is_empty() {
            raw.modified = self.modified;
        }
        if let Some(authors) = self.authors {
            raw.authors = authors;
        }
        if let Some(categories) = self.categories {
            raw.categories = categories;
        }
        if let Some(summary) = self.summary {
            raw.summary = Some(summary);
        }
        if let Some(related) = self.related {
            raw.related = related
                .into_iter()
                .filter_map(|r| url.join(&r).ok())
                .map(|u| crate::model::Link {
                    url: u.to_string(),
                    title: String::new(),
                })
                .collect();
        }
    }
}

fn read_file(path: &Path, src: &SourceConfig) -> Result<Item, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read: {e}"))?;
    let text = crate::normalize::decode_text(&bytes, None);
    // A file that is mostly UTF-8 is read as UTF-8 whatever stray bytes it holds: those become
    // U+FFFD, which the editor should hear of. (A legacy charset throughout decodes without.)
    if text.contains('\u{FFFD}') && std::str::from_utf8(&bytes).is_err() {
        tracing::warn!(
            file = %path.display(),
            "not valid UTF-8 throughout: decoded with {} replacement character(s) (U+FFFD)",
            text.matches('\u{FFFD}').count()
        );
    }
    let (mut front, rest) = split_front_matter(&text)?;
    // Front matter takes at least its two fences: all the text left means there was none.
    let no_front_matter = rest.len() == text.trim_start_matches('\u{feff}').len();
    if front.draft == Some(true) {
        return Ok(Item::Draft);
    }
    let is_md = matches!(
        path.extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref(),
        Some("md" | "markdown")
    );
    let url = match front.url.take() {
        Some(Text(u)) => Some(
            Url::parse(&u)
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https"))
                .ok_or_else(|| {
                    format!("front matter key url: {u:?} is not an absolute http(s) URL")
                })?,
        ),
        None => None,
    };
    let zone = src.local_zone.unwrap_or(Tz::UTC);
    let fields = Fields::read(front, zone, src.day_zone.unwrap_or(zone))?;
    if !is_md {
        let file_url = Url::from_file_path(path.canonicalize().map_err(|e| e.to_string())?)
            .map_err(|_| "cannot turn the path into a URL".to_string())?;
        if url.is_none() {
            check_canonical(rest, &file_url)?;
        }
        let page = RawPage {
            requested_url: file_url.clone(),
            url: url.clone().unwrap_or(file_url),
            content_type: Some("text/html".into()),
            body: rest.to_string(),
            fetched_at: Utc::now(),
        };
        // The usual saved page (no front matter, or a `url` where the page declares no other
        // canonical URL): extraction runs on it in the pipeline, like on a fetched one.
        let url_wins = url
            .as_ref()
            .is_some_and(|u| may_declare_another_canonical(rest, u));
        if fields.is_empty() && !url_wins {
            return Ok(Item::Page(page));
        }
        // Front matter (rare) wins field by field over what extraction finds, so the page is
        // extracted here.
        let mut raw =
            crate::extract::extract_post(&page, &src.selectors).map_err(|e| e.to_string())?;
        if url.is_some() {
            raw.canonical = url;
        }
        let post_url = raw.canonical.clone().unwrap_or_else(|| page.url.clone());
        fields.apply(&mut raw, &post_url);
        return Ok(Item::Post(page.url, Box::new(raw)));
    }
    let url = url.ok_or_else(|| {
        if no_front_matter {
            "no front matter: a Markdown post starts with front matter giving at least the \
             absolute URL readers should open, between two lines of --- (YAML: url: https://…) \
             or of +++ (TOML: url = \"https://…\"), the first on the file's first line"
                .to_string()
        } else {
            "front matter key url is missing: a Markdown post needs the absolute URL readers should open".to_string()
        }
    })?;
    let mut html = String::new();
    let opts = pulldown_cmark::Options::ENABLE_TABLES
        | pulldown_cmark::Options::ENABLE_FOOTNOTES
        | pulldown_cmark::Options::ENABLE_STRIKETHROUGH;
    pulldown_cmark::html::push_html(&mut html, pulldown_cmark::Parser::new_ext(rest, opts));
    let mut raw = RawPost {
        canonical: Some(url.clone()),
        wp_post_id: None,
        base_href: None,
        title: None,
        published: Vec::new(),
        modified: Vec::new(),
        authors: Vec::new(),
        categories: Vec::new(),
        body_html: Some(html),
        summary: None,
        related: Vec::new(),
        enclosures: Vec::new(),
    };
    fields.apply(&mut raw, &url);
    Ok(Item::Post(url, Box::new(raw)))
}

/// Might the page declare a canonical URL other than `url`? Then extraction would take that
/// one over the front matter's. Read from the markup as text (see [`check_canonical`]), so it
/// errs towards yes: a canonical link without `href`, with a relative one, or inside a comment.
fn may_declare_another_canonical(body: &str, url: &Url) -> bool {
    // Most pages given a `url` have no canonical link at all: a search for the word (its
    // letters are rare in markup) settles them without a look at every tag.
    static WORD: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?i)canonical").expect("static regex"));
    WORD.is_match(body)
        && canonical_hrefs(body)
            .any(|href| href.is_none_or(|h| Url::parse(h.trim()).ok().as_ref() != Some(url)))
}

/// A saved page without a front-matter `url` is published under its canonical link, which
/// extraction takes from the first `link[rel~=canonical][href]`, resolved against `<base href>`
/// (itself resolved against the page), http(s) only. Without one, `normalize` would fail the
/// page with "no usable URL: file:///…", which names neither the file as the other failures do
/// nor the fix: this says both.
///
/// Parsing every page here too made reading a folder of saved pages about half again as slow, so
/// the common case is settled by a look at the markup: a first canonical `<link>` tag with an
/// absolute http(s) `href`. That look does not tell comments or scripts apart, so it may only
/// err towards letting a page through (which `normalize` then fails, as before); a page it does
/// not let through is parsed.
fn check_canonical(body: &str, file_url: &Url) -> Result<(), String> {
    if first_canonical_href(body)
        .is_some_and(|h| Url::parse(h.trim()).is_ok_and(|u| matches!(u.scheme(), "http" | "https")))
    {
        return Ok(());
    }
    static LINK: LazyLock<Selector> =
        LazyLock::new(|| Selector::parse("link[rel~=canonical][href]").expect("static selector"));
    static BASE: LazyLock<Selector> =
        LazyLock::new(|| Selector::parse("base[href]").expect("static selector"));
    let resolve = |base: &Url, href: &str| {
        let href = href.trim();
        (!href.is_empty())
            .then(|| base.join(href).ok())
            .flatten()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
    };
    crate::html_limits::check(body).map_err(|e| format!("page refused unparsed: {e}"))?;
    let doc = Html::parse_document(body);
    let base = doc
        .select(&BASE)
        .next()
        .and_then(|b| b.value().attr("href"))
        .and_then(|h| resolve(file_url, h))
        .unwrap_or_else(|| file_url.clone());
    let fix = "front matter with url = \"https://…\"";
    match doc
        .select(&LINK)
        .next()
        .and_then(|l| l.value().attr("href"))
    {
        Some(href) if resolve(&base, href).is_some() => Ok(()),
        Some(href) => Err(format!(
            "no URL to publish it under: its <link rel=\"canonical\"> href {href:?} is not an \
             absolute http(s) URL; make it one, or add {fix}"
        )),
        None => Err(format!(
            "no URL to publish it under: add <link rel=\"canonical\" href=\"https://…\"> to the \
             page, or {fix}"
        )),
    }
}

/// The `href` of the first `<link>` tag whose `rel` has the token `canonical`, found in the
/// markup as text (see [`check_canonical`]).
fn first_canonical_href(body: &str) -> Option<&str> {
    canonical_hrefs(body).next()?
}

/// The `href` (if any) of every `<link>` tag whose `rel` has the token `canonical`, in markup
/// order, found in the markup as text.
fn canonical_hrefs(body: &str) -> impl Iterator<Item = Option<&str>> {
    static TAG: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?i)<link\s[^>]*>").expect("static regex"));
    static ATTR: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"(?i)\s(rel|href)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))"#)
            .expect("static regex")
    });
    TAG.find_iter(body).filter_map(|tag| {
        let (mut rel, mut href) = (None, None);
        for a in ATTR.captures_iter(tag.as_str()) {
            let value = a
                .get(2)
                .or(a.get(3))
                .or(a.get(4))
                .map_or("", |v| v.as_str());
            let slot = if a[1].eq_ignore_ascii_case("rel") {
                &mut rel
            } else {
                &mut href
            };
            // The first of a repeated attribute counts, as in a parser.
            slot.get_or_insert(value);
        }
        rel?.split_ascii_whitespace()
            .any(|t| t.eq_ignore_ascii_case("canonical"))
            .then_some(href)
    })
}

/// A TOML error on one line, like a YAML one (`… at line 4 column 1`): its `Display` spreads
/// over several, and the run report gives each failure one line, starting with the file.
fn toml_error(text: &str, e: &toml::de::Error) -> String {
    let message = e
        .message()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ");
    let Some(start) = e
        .span()
        .map(|s| s.start)
        .filter(|s| text.is_char_boundary(*s))
    else {
        return format!("front matter (TOML): {message}");
    };
    let before = &text[..start];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    format!("front matter (TOML): {message} at line {line} column {column}")
}

/// What follows the line `text` starts with, when that line is `fence` and nothing else but
/// spaces or tabs; `Some("")` when it is the file's last line.
fn fence_line<'a>(text: &'a str, fence: &str) -> Option<&'a str> {
    let after = text.strip_prefix(fence)?.trim_start_matches([' ', '\t']);
    if after.is_empty() {
        return Some(after);
    }
    after
        .strip_prefix('\n')
        .or_else(|| after.strip_prefix("\r\n"))
}

/// A front-matter date as a candidate for `normalize`, read with the parser `normalize` uses
/// ([`crate::normalize::read_date_in_zones`]): a date the editor wrote but that does not parse,
/// or whose zone name several zones use (`IST`), is an error, not a post silently dated by when
/// it was first seen or in a zone the editor did not mean. A date-time written without an
/// offset is a wall-clock time in `zone` (the project's `timezone`); a date alone is that day's
/// midnight in `day_zone` (the digest's zone, where the day is shown and the week counted).
/// Handed on with its offset.
fn front_date(
    key: &str,
    value: Option<Text>,
    zone: Tz,
    day_zone: Tz,
) -> Result<Vec<RawDate>, String> {
    let Some(Text(value)) = value else {
        return Ok(Vec::new());
    };
    let Some(read) = crate::normalize::read_date_in_zones(&value, zone, day_zone) else {
        return Err(format!(
            "front matter key {key}: {value:?} is not a date \
             (write e.g. 2024-03-05, 2024-03-05T18:00:00+01:00 or 2024-03-05 18:00 +0100)"
        ));
    };
    // A zone name several zones use: the editor says which with an offset.
    if let Some(name) = read.unsure_zone {
        return Err(format!(
            "front matter key {key}: {value:?} names the zone {name}, which several zones \
             use, none of them {zone}: write its offset instead (e.g. 2024-03-05 18:00 +0530)"
        ));
    }
    let date = read.at;
    Ok(vec![RawDate {
        value: date.to_rfc3339(),
        source: DateSource::Feed,
    }])
}

/// A YAML front matter error, on the line to fix: for a key given twice the YAML parser names
/// the line where the mapping starts, so the lines of both are found here (keys at the start
/// of a line, bare or quoted; `head` starts with the opening fence's line, as the file does).
fn yaml_error(head: &str, e: &serde_yaml_ng::Error) -> String {
    let message = e.to_string();
    if let Some((key, _)) = message
        .strip_prefix("duplicate field `")
        .and_then(|rest| rest.split_once('`'))
    {
        let at: Vec<usize> = head
            .lines()
            .enumerate()
            .filter(|(_, line)| {
                [key.to_string(), format!("\"{key}\""), format!("'{key}'")]
                    .iter()
                    .any(|k| {
                        line.strip_prefix(k.as_str())
                            .is_some_and(|rest| rest.trim_start().starts_with(':'))
                    })
            })
            .map(|(i, _)| i + 1)
            .collect();
        if let [first, second, ..] = at[..] {
            return format!(
                "front matter (YAML): key `{key}` given twice, at line {first} and at line {second}"
            );
        }
    }
    format!("front matter (YAML): {message}")
}

/// Split `+++ toml +++` or `--- yaml ---` front matter from the rest of a file. Each fence is a
/// line of its own, which may end in spaces or tabs (and `\r\n`); the closing one may end the
/// file.
fn split_front_matter(text: &str) -> Result<(FrontMatter, &str), String> {
    let text = text.trim_start_matches('\u{feff}');
    for (fence, is_toml) in [("+++", true), ("---", false)] {
        let Some(after) = fence_line(text, fence) else {
            continue;
        };
        if after.is_empty() && !text.ends_with('\n') {
            // One line and no line break: not an opening fence.
            continue;
        }
        let mut end = 0;
        let rest = loop {
            if let Some(rest) = fence_line(&after[end..], fence) {
                break rest;
            }
            match after[end..].find('\n') {
                Some(i) => end += i + 1,
                None => return Err(format!("front matter opened with {fence} is never closed")),
            }
        };
        // The opening fence is the file's first line: with it as an empty line, the parsers'
        // errors give the line numbers of the file, not of the front matter.
        let head = format!("\n{}", &after[..end]);
        let front = if is_toml {
            toml::from_str(&head).map_err(|e| toml_error(&head, &e))?
        } else {
            serde_yaml_ng::from_str(&head).map_err(|e| yaml_error(&head, &e))?
        };
        return Ok((front, rest));
    }
    // After blank lines a fence does not open front matter (as in Hugo and Jekyll), but it is
    // surely meant to: say so, rather than that the keys it gives are missing.
    let mut after_blank = text;
    let mut blank = 0;
    while let Some((line, next)) = after_blank.split_once('\n')
        && line.trim_matches([' ', '\t', '\r']).is_empty()
    {
        blank += 1;
        after_blank = next;
    }
    if blank > 0
        && let Some(fence) = ["+++", "---"].into_iter().find(|f| {
            fence_line(after_blank, f).is_some_and(|a| !a.is_empty() || text.ends_with('\n'))
        })
    {
        let lines = if blank == 1 { "line" } else { "lines" };
        return Err(format!(
            "front matter must start on the first line of the file: remove the {blank} blank \
             {lines} before its opening {fence}"
        ));
    }
    Ok((FrontMatter::default(), text))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(text: &str) -> Result<(Option<String>, &str), String> {
        split_front_matter(text).map(|(front, rest)| (front.title.map(|Text(t)| t), rest))
    }

    #[test]
    fn the_first_canonical_link_is_found_in_the_markup() {
        for (html, href) in [
            (
                r#"<LINK REL="Canonical" HREF="https://a/">"#,
                Some("https://a/"),
            ),
            (
                "<link href='https://b/' rel='alternate canonical'/>",
                Some("https://b/"),
            ),
            ("<link\nrel=canonical\nhref=https://c/>", Some("https://c/")),
            (
                r#"<link rel="stylesheet" href="x.css"><link rel="canonical" href="/d/" href="https://e/">"#,
                Some("/d/"),
            ),
            (
                r#"<link rel="canonical"><link rel="canonical" href="https://f/">"#,
                None,
            ),
            (
                r#"<link data-rel="canonical" data-href="https://g/">"#,
                None,
            ),
            (r#"<a rel="canonical" href="https://h/">"#, None),
        ] {
            assert_eq!(first_canonical_href(html), href, "{html}");
        }
    }

    #[test]
    fn a_saved_page_needs_an_http_canonical_link() {
        let file = Url::parse("file:///posts/p.html").unwrap();
        let ok = |html: &str| check_canonical(html, &file).is_ok();
        assert!(ok(r#"<link rel="canonical" href="https://a/">"#));
        assert!(ok(
            r#"<base href="https://a/b/"><link rel="canonical" href="c/">"#
        ));
        assert!(ok(
            r#"<link rel="canonical"><link rel="canonical" href=" https://a/ ">"#
        ));
        assert!(!ok(r#"<link rel="canonical" href="/c/">"#));
        assert!(!ok(r#"<link rel="canonical" href="mailto:a@b">"#));
        assert!(!ok(r#"<base href="/b/"><link rel="canonical" href="c/">"#));
        assert!(!ok(
            r#"<link rel="alternate" href="https://a/"><p>canonical</p>"#
        ));
    }

    #[test]
    fn single_values_are_read_as_written() {
        let (front, _) = split_front_matter(
            "+++\ntitle = 2024-01-01\ndate = 1979-05-27T07:32:00.5-08:00\nupdated = 2024\n+++\n",
        )
        .unwrap();
        let text = |t: Option<Text>| t.map(|Text(t)| t);
        assert_eq!(text(front.title).as_deref(), Some("2024-01-01"));
        assert_eq!(
            text(front.date).as_deref(),
            Some("1979-05-27T07:32:00.5-08:00")
        );
        assert_eq!(text(front.updated).as_deref(), Some("2024"));
        let (front, _) =
            split_front_matter("---\ntitle: 1.50\ndate: 0x1F\nurl: true\n---\n").unwrap();
        assert_eq!(text(front.title).as_deref(), Some("1.50"));
        assert_eq!(text(front.date).as_deref(), Some("0x1F"));
        assert_eq!(text(front.url).as_deref(), Some("true"));
    }

    #[test]
    fn fences_are_whole_lines() {
        assert_eq!(
            split("+++ \t\ntitle = \"T\"\n+++  \r\nbody"),
            Ok((Some("T".into()), "body"))
        );
        assert_eq!(
            split("\u{feff}---\r\ntitle: T\r\n---"),
            Ok((Some("T".into()), ""))
        );
        // A line that only starts like a fence does not close the front matter.
        assert_eq!(
            split("---\ntitle: T\n---x\n----\n"),
            Err("front matter opened with --- is never closed".into())
        );
        assert_eq!(
            split("+++\n"),
            Err("front matter opened with +++ is never closed".into())
        );
        // Not an opening fence: no front matter.
        for text in [
            "+++",
            "--- ",
            "+++ x\n+++\n",
            "----\ntitle: T\n----\n",
            "\n+++ x\n+++\n",
            "\n\n<p>x</p>\n---\n",
        ] {
            assert_eq!(split(text), Ok((None, text)), "{text:?}");
        }
        // A fence after blank lines is front matter in the wrong place.
        assert_eq!(
            split("\n+++\n+++\n"),
            Err(
                "front matter must start on the first line of the file: remove the 1 blank \
                 line before its opening +++"
                    .into()
            )
        );
        assert_eq!(
            split("\u{feff} \t\r\n\r\n---\r\nurl: x\r\n"),
            Err(
                "front matter must start on the first line of the file: remove the 2 blank \
                 lines before its opening ---"
                    .into()
            )
        );
    }
}
