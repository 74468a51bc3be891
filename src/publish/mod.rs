//! Publishing: pure rendering of feed documents and the one atomic writer of `output_dir`.
//!
//! Owns: Atom 1.0, RSS 2.0 and JSON Feed 1.1 rendering (`atom`, `rss`, `jsonfeed`) of head
//! documents and of RFC 5005 archive documents (Atom), the `xml-stylesheet` instruction and the
//! built-in stylesheet, the newest-first order of a feed ([`order_entries`]) and
//! [`write_atomic`] (its batch form [`write_atomic_all`], and [`FeedSet`], which replaces a
//! feed's documents as one set), the only writers under `output_dir`. Must not: read the
//! database, the network or the clock; decide which entries are archived (the store keeps that).
//!
//! Rendering is deterministic: the same [`FeedInfo`] and entries always give the same bytes.
//! Feed-level dates are taken from the entries (the Unix epoch when there are none), so an
//! unchanged feed is never rewritten.

pub mod atom;
pub mod jsonfeed;
pub mod rss;

use std::borrow::Cow;
use std::cmp::Ordering;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Datelike, SecondsFormat, SubsecRound, TimeZone, Utc};
use url::Url;

use crate::model::Entry;

/// Value of the `generator` element / field in every document.
pub const GENERATOR: &str = "feedwright";

/// The media type an enclosure of unknown type is published with where one is required (RSS
/// `type`, JSON Feed `mime_type`).
pub const UNKNOWN_MEDIA_TYPE: &str = "application/octet-stream";

/// File name of the Atom document inside a feed's directory.
pub const ATOM_FILE: &str = "atom.xml";
/// File name of the RSS document inside a feed's directory.
pub const RSS_FILE: &str = "rss.xml";
/// File name of the JSON Feed document inside a feed's directory.
pub const JSON_FILE: &str = "feed.json";

/// Folder of a feed's RFC 5005 archive documents, inside the feed's directory.
pub const ARCHIVE_DIR: &str = "archive";
/// File name of the XSLT stylesheet, at the top of `output_dir`, that XML feeds name in an
/// `xml-stylesheet` instruction so a browser shows a readable page instead of raw XML.
pub const STYLESHEET_FILE: &str = "feed.xsl";
/// The built-in stylesheet (overridable by `templates/feed.xsl` next to the config file).
pub const BUILTIN_STYLESHEET: &str = include_str!("feed.xsl");

/// The declaration every XML document we write starts with.
const XML_DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n";

/// Feed-level metadata, resolved from the config by the caller.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedInfo {
    /// `[[feed]] name`: the directory the documents are written to.
    pub name: String,
    /// Human title of the feed (Atom `title`, RSS `title`, JSON Feed `title`).
    pub title: String,
    /// Short description (Atom `subtitle`, RSS `description`, JSON Feed `description`); may be
    /// empty.
    pub description: String,
    /// The web page the entries come from (Atom `link rel="alternate"`, RSS `link`, JSON Feed
    /// `home_page_url`): resolved by the caller; empty leaves it out where the format allows.
    pub home_page_url: String,
    /// `public_url` joined with `<name>/`: self links are `<this>atom.xml` etc.
    pub public_base: Url,
    /// `[websub] hub`: linked as `rel="hub"` (JSON Feed `hubs`) when set.
    pub hub: Option<String>,
    /// URL of the newest archive document, linked from the head documents as
    /// `rel="prev-archive"`; `None` while the feed has no archive.
    pub prev_archive: Option<String>,
    /// `[[feed]] language`, a BCP 47 tag in canonical case (Atom `xml:lang` on `<feed>`, RSS
    /// `language`, JSON Feed `language`); `None` writes none.
    pub language: Option<String>,
}

impl FeedInfo {
    /// The public URL of `file` (one of [`ATOM_FILE`], [`RSS_FILE`], [`JSON_FILE`]) in this
    /// feed's directory. A `public_base` without a trailing `/` is treated as a directory.
    pub fn file_url(&self, file: &str) -> String {
        let mut base = self.public_base.clone();
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        match base.join(file) {
            Ok(u) => u.into(),
            Err(_) => format!("{base}{file}"),
        }
    }
}

impl FeedInfo {
    /// The public URL of archive document `page`.
    pub fn archive_url(&self, page: u32) -> String {
        self.file_url(&archive_path(page))
    }
}

/// Path of archive document `page`, relative to the feed's directory.
pub fn archive_path(page: u32) -> String {
    format!("{ARCHIVE_DIR}/{page}.xml")
}

/// Sort `entries` the way every feed lists them: newest `published` first, then newest
/// `updated`, then `id` ascending, so the order never depends on the input order.
pub fn order_entries(entries: &mut [Entry]) {
    entries.sort_by(compare_entries);
}

fn compare_entries(a: &Entry, b: &Entry) -> Ordering {
    b.published
        .cmp(&a.published)
        .then_with(|| b.updated.cmp(&a.updated))
        .then_with(|| a.id.cmp(&b.id))
}

/// The feed-level "last updated" date: the latest entry `updated`, or the Unix epoch when there
/// are no entries (never the clock, so identical input gives identical output).
pub fn feed_updated(entries: &[Entry]) -> DateTime<Utc> {
    entries
        .iter()
        .map(|e| e.updated)
        .max()
        .unwrap_or(DateTime::UNIX_EPOCH)
        .trunc_subsecs(0)
}

/// The latest entry `published`, if there are entries.
pub(crate) fn latest_published(entries: &[Entry]) -> Option<DateTime<Utc>> {
    entries.iter().map(|e| e.published).max()
}

/// RFC 3339 in UTC with whole seconds and a `+00:00` offset, as every Atom and JSON Feed date.
pub(crate) fn rfc3339(d: DateTime<Utc>) -> String {
    writable(d)
        .trunc_subsecs(0)
        .to_rfc3339_opts(SecondsFormat::Secs, false)
}

/// RFC 822 (as RFC 2822: four-digit year, weekday, `+0000`) for RSS.
pub(crate) fn rfc822(d: DateTime<Utc>) -> String {
    writable(d).trunc_subsecs(0).to_rfc2822()
}

/// `d` moved into the four-digit years both date formats can write (chrono's RFC 2822 writer
/// panics outside 0-9999). Dates are parsed within 1000-9999; an older store may hold one a
/// page's zero date gave (year -1), which must not stop publishing.
fn writable(d: DateTime<Utc>) -> DateTime<Utc> {
    match d.year() {
        1000..=9999 => d,
        y if y < 1000 => Utc
            .with_ymd_and_hms(1000, 1, 1, 0, 0, 0)
            .single()
            .unwrap_or(d),
        _ => Utc
            .with_ymd_and_hms(9999, 12, 31, 23, 59, 59)
            .single()
            .unwrap_or(d),
    }
}

/// `s` without the characters XML 1.0 forbids. Entries arrive XML-safe; this guards the strings
/// that come straight from the configuration and costs nothing when there is nothing to drop.
pub(crate) fn xml_text(s: &str) -> Cow<'_, str> {
    fn allowed(c: char) -> bool {
        matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}')
            || c >= '\u{10000}'
    }
    if s.chars().all(allowed) {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(s.chars().filter(|&c| allowed(c)).collect())
    }
}

/// Prefix an XML body (without declaration) with [`XML_DECLARATION`] and, when given, an
/// `xml-stylesheet` instruction naming `stylesheet` (a relative URL); end it with a newline.
pub(crate) fn xml_document(body: &[u8], stylesheet: Option<&str>) -> String {
    let body = String::from_utf8_lossy(body);
    let mut out = String::with_capacity(XML_DECLARATION.len() + body.len() + 64);
    out.push_str(XML_DECLARATION);
    if let Some(href) = stylesheet {
        out.push_str("<?xml-stylesheet type=\"text/xsl\" href=\"");
        out.push_str(&html_escape::encode_double_quoted_attribute(href));
        out.push_str("\"?>\n");
    }
    out.push_str(body.trim_start());
    out.push('\n');
    out
}

/// A rendered document of one feed: its path inside the feed's directory and its text.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub file: String,
    pub text: String,
}

/// Render the three head documents of `info` (Atom, RSS, JSON Feed) and, with
/// `open_archive = Some((page, entries))`, the newest, still filling archive page
/// (`archive/<page>.xml`, entries newest first). `head` must already be ordered (see
/// [`order_entries`]) and limited.
pub fn render_feed(
    info: &FeedInfo,
    head: &[Entry],
    open_archive: Option<(u32, &[Entry])>,
) -> Vec<Document> {
    // Each document on its own thread: rendering is pure and the documents are independent.
    std::thread::scope(|s| {
        let atom = s.spawn(|| atom::render(info, head));
        let rss = s.spawn(|| rss::render(info, head));
        let archive = open_archive.map(|(page, entries)| {
            (
                page,
                s.spawn(move || atom::render_archive(info, page, entries, false)),
            )
        });
        let json = jsonfeed::render(info, head);
        let joined = |t: std::thread::ScopedJoinHandle<'_, String>| {
            t.join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        };
        let mut documents = vec![
            Document {
                file: ATOM_FILE.into(),
                text: joined(atom),
            },
            Document {
                file: RSS_FILE.into(),
                text: joined(rss),
            },
            Document {
                file: JSON_FILE.into(),
                text: json,
            },
        ];
        if let Some((page, render)) = archive {
            documents.push(Document {
                file: archive_path(page),
                text: joined(render),
            });
        }
        documents
    })
}

/// Would writing `doc` change the file in `<out_dir>/<info.name>/`? (A missing file would.)
pub fn would_change(out_dir: &Path, info: &FeedInfo, doc: &Document) -> io::Result<bool> {
    let path = feed_dir(out_dir, info)?.join(&doc.file);
    holds(&path, doc.text.as_bytes()).map(|same| !same)
}

/// The files of one feed, replaced as one set: every document is first written to a temporary
/// file beside its own and synced ([`FeedSet::stage`], as many times as needed, so the caller
/// holds only the documents in hand in memory), then all are renamed into place at once
/// ([`FeedSet::commit`]). Until the commit no file of the feed changes, and dropping the set
/// uncommitted (after an error) removes its temporary files: a failure while writing (a full
/// disk, a folder that cannot be written) leaves every old document of the feed in place.
#[derive(Debug)]
pub struct FeedSet {
    dir: PathBuf,
    /// Every staged document, in the order staged.
    staged: Vec<Staged>,
}

/// A document of a [`FeedSet`], staged.
#[derive(Debug)]
struct Staged {
    path: PathBuf,
    /// Where it goes in [`FeedSet::commit`]'s order (see [`rename_rank`]).
    rank: RenameRank,
    /// Its temporary file, when it changes.
    tmp: Option<tempfile::TempPath>,
}

/// See [`rename_rank`].
type RenameRank = (u8, std::cmp::Reverse<u32>);

impl FeedSet {
    /// Begin replacing the files of `info`'s feed in `<out_dir>/<info.name>/`, after removing
    /// the temporary files a killed writer may have left there. Only call this while holding
    /// the store's single-writer lock (see [`remove_stale_temp_files`]).
    pub fn begin(out_dir: &Path, info: &FeedInfo) -> io::Result<FeedSet> {
        let dir = feed_dir(out_dir, info)?;
        remove_stale_temp_files(&dir, std::time::Duration::ZERO);
        remove_stale_temp_files(&dir.join(ARCHIVE_DIR), std::time::Duration::ZERO);
        remove_stale_temp_files(&dir.join("digest"), STALE_DIGEST_TEMP_AFTER);
        Ok(FeedSet {
            dir,
            staged: Vec::new(),
        })
    }

    /// Write each of `documents` whose file does not already hold exactly its bytes to a
    /// temporary sibling of that file, synced (in parallel when there are several). Nothing is
    /// replaced yet. Returns, in the order given, whether each will change. On an error the
    /// temporary files written for `documents` are removed; drop the set to remove the others.
    pub fn stage(&mut self, documents: &[Document]) -> io::Result<Vec<bool>> {
        let paths: Vec<PathBuf> = documents.iter().map(|d| self.dir.join(&d.file)).collect();
        let files: Vec<(&Path, &[u8])> = paths
            .iter()
            .zip(documents)
            .map(|(p, d)| (p.as_path(), d.text.as_bytes()))
            .collect();
        let temps = write_temporaries(&files)?;
        let changed = temps.iter().map(Option::is_some).collect();
        for ((path, doc), tmp) in paths.into_iter().zip(documents).zip(temps) {
            self.staged.push(Staged {
                path,
                rank: rename_rank(&doc.file),
                tmp,
            });
        }
        Ok(changed)
    }

    /// Rename every staged temporary file over its file, then sync each directory once. The
    /// order keeps every link a reader can reach valid at each step: archive pages first,
    /// the newest first (a page links the next one, so a new page goes in before the page
    /// that comes to link it; the old head reaches none of the new ones until its newest page
    /// is replaced), then the other documents (the head, which links the newest page) in the
    /// order staged. Returns each staged path with whether it changed, in the order staged.
    ///
    /// A rename that fails leaves its file and those after it as they were (their temporary
    /// files are removed); the ones already renamed are synced.
    pub fn commit(self) -> io::Result<Vec<(PathBuf, bool)>> {
        let mut order: Vec<usize> = (0..self.staged.len()).collect();
        // Stable: documents of one rank keep the order they were staged in.
        order.sort_by_key(|&i| self.staged[i].rank);
        let mut slots: Vec<Option<tempfile::TempPath>> = Vec::with_capacity(self.staged.len());
        let mut result = Vec::with_capacity(self.staged.len());
        for Staged { path, tmp, .. } in self.staged {
            result.push((path, tmp.is_some()));
            slots.push(tmp);
        }
        let renames = order
            .into_iter()
            .filter_map(|i| slots[i].take().map(|tmp| (result[i].0.as_path(), tmp)));
        rename_all(renames)?;
        Ok(result)
    }
}

/// Where a feed's document `file` (a path inside the feed's folder) goes in [`FeedSet::commit`]'s
/// order: archive pages first, the newest (highest number) first, then everything else.
fn rename_rank(file: &str) -> RenameRank {
    let page = Path::new(file)
        .strip_prefix(ARCHIVE_DIR)
        .ok()
        .and_then(|rest| rest.to_str())
        .and_then(|rest| rest.strip_suffix(".xml"))
        .and_then(|n| n.parse::<u32>().ok());
    match page {
        Some(page) => (0, std::cmp::Reverse(page)),
        None => (1, std::cmp::Reverse(0)),
    }
}

/// Write `documents` into `<out_dir>/<info.name>/` as one [`FeedSet`]. Returns each path with
/// whether it changed, in the order given.
pub fn write_feed(
    out_dir: &Path,
    info: &FeedInfo,
    documents: &[Document],
) -> io::Result<Vec<(PathBuf, bool)>> {
    let mut set = FeedSet::begin(out_dir, info)?;
    set.stage(documents)?;
    set.commit()
}

/// [`render_feed`] then [`write_feed`].
pub fn publish_feed(
    out_dir: &Path,
    info: &FeedInfo,
    head: &[Entry],
    open_archive: Option<(u32, &[Entry])>,
) -> io::Result<Vec<(PathBuf, bool)>> {
    write_feed(out_dir, info, &render_feed(info, head, open_archive))
}

/// Render complete archive pages from their frozen entries (each `(page, entries)`, entries
/// newest first; a complete page links the next one), in parallel. Returns the documents in
/// the order given.
pub fn render_complete_archives(info: &FeedInfo, pages: &[(u32, Vec<Entry>)]) -> Vec<Document> {
    std::thread::scope(|s| {
        let renders: Vec<_> = pages
            .iter()
            .map(|(page, entries)| {
                let page = *page;
                s.spawn(move || Document {
                    file: archive_path(page),
                    text: atom::render_archive(info, page, entries, true),
                })
            })
            .collect();
        renders
            .into_iter()
            .map(|r| {
                r.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

/// What a complete archive page's document depends on besides its frozen entries: the feed's
/// metadata and this program's version. Same value and same file length: the file need not be
/// rendered again.
pub fn archive_fingerprint(info: &FeedInfo) -> String {
    [
        env!("CARGO_PKG_VERSION"),
        &info.title,
        &info.description,
        &info.home_page_url,
        info.public_base.as_str(),
    ]
    .join("\u{1f}")
}

/// Write the feeds' stylesheet to `<out_dir>/feed.xsl`. Returns the path and whether it changed.
pub fn publish_stylesheet(out_dir: &Path, stylesheet: &str) -> io::Result<(PathBuf, bool)> {
    remove_stale_temp_files(out_dir, std::time::Duration::ZERO);
    let path = out_dir.join(STYLESHEET_FILE);
    let changed = write_atomic(&path, stylesheet.as_bytes())?;
    Ok((path, changed))
}

/// How old a temporary file in a feed's `digest/` folder must be to be taken for one a killed
/// writer left: a digest preview (`--dry-run`, `--to`) writes its copy there without the
/// store's lock, beside a daemon that holds it, and a file being written is never that old.
pub const STALE_DIGEST_TEMP_AFTER: std::time::Duration = std::time::Duration::from_secs(600);

/// Remove the temporary files a killed writer left in `dir` (hidden `.<name>.XXXXXX.tmp`, see
/// [`write_atomic`]) last modified more than `min_age` ago. Only call this while holding the
/// store's single-writer lock: then no other writer of the feeds can be using them (a digest
/// preview can: see [`STALE_DIGEST_TEMP_AFTER`]). Best effort: a missing `dir` is fine and a
/// file that cannot be removed is logged and left (it is hidden, so never served).
pub fn remove_stale_temp_files(dir: &Path, min_age: std::time::Duration) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let stale = |path: &Path| {
        std::fs::metadata(path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|at| at.elapsed().ok())
            .is_some_and(|age| age >= min_age)
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let path = entry.path();
        if name.starts_with('.')
            && name.ends_with(".tmp")
            && path.is_file()
            && (min_age.is_zero() || stale(&path))
            && let Err(e) = std::fs::remove_file(&path)
        {
            tracing::warn!("cannot remove stale temporary file {}: {e}", path.display());
        }
    }
}

/// Remove the file at `path`, if there is one, and make that durable (its directory synced).
/// Returns whether there was a file to remove. Readers see the file or no file, never part of
/// one. Every error message names the path.
pub fn remove_file(path: &Path) -> io::Result<bool> {
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(with_path(e, "cannot remove", path)),
    }
    sync_dir(parent_dir(path))?;
    Ok(true)
}

/// `<out_dir>/<info.name>`, after checking that the name is a safe directory name.
fn feed_dir(out_dir: &Path, info: &FeedInfo) -> io::Result<PathBuf> {
    if !crate::config::valid_name(&info.name) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "feed name {:?} must be non-empty and use only a-z, 0-9, '_' and '-'",
                info.name
            ),
        ));
    }
    Ok(out_dir.join(&info.name))
}

/// Wrap `err` so that its message says what failed on which path; the kind is kept.
fn with_path(err: io::Error, what: &str, path: &Path) -> io::Error {
    io::Error::new(err.kind(), format!("{what} {}: {err}", path.display()))
}

/// Does `path` already hold exactly `bytes`? A missing file does not.
fn holds(path: &Path, bytes: &[u8]) -> io::Result<bool> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() && meta.len() == bytes.len() as u64 => {}
        Ok(_) => return Ok(false),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(with_path(e, "cannot inspect", path)),
    }
    match std::fs::read(path) {
        Ok(old) => Ok(old == bytes),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(with_path(e, "cannot read", path)),
    }
}

/// Write `bytes` to `path` atomically (temp file in the same directory, fsync, rename).
/// Returns `false` without touching the file when it already holds exactly `bytes`.
///
/// The parent directory is created when missing. The temp file is a hidden sibling
/// (`.<name>.XXXXXX.tmp`) so readers never see a partial document; on any error the old file is
/// left as it was and the temp file is removed. Every error message names the path.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<bool> {
    let changed = write_atomic_all(&[(path, bytes)])?;
    Ok(changed.first().copied().unwrap_or(false))
}

/// [`write_atomic`] for several files at once: returns, in the order given, whether each
/// changed. The files that change are first written to their temporary siblings and synced
/// (in parallel when there are several); only when all of them are is each renamed over its
/// file (in the order given), then every directory involved is synced once. An error before the
/// renames leaves every old file as it was; a failed rename leaves that file and the ones after
/// it as they were. No temporary file is left behind either way.
pub fn write_atomic_all(files: &[(&Path, &[u8])]) -> io::Result<Vec<bool>> {
    let temps = write_temporaries(files)?;
    let changed = temps.iter().map(Option::is_some).collect();
    rename_all(
        files
            .iter()
            .zip(temps)
            .filter_map(|(&(path, _), tmp)| tmp.map(|tmp| (path, tmp))),
    )?;
    Ok(changed)
}

/// For each of `files` that does not already hold exactly its bytes, a temporary sibling
/// holding them, synced; `None` for the others. On an error every temporary file written is removed.
fn write_temporaries(files: &[(&Path, &[u8])]) -> io::Result<Vec<Option<tempfile::TempPath>>> {
    let mut changed = Vec::with_capacity(files.len());
    for (path, bytes) in files {
        changed.push(!holds(path, bytes)?);
    }
    let prepare = |(&(path, bytes), &change): (&(&Path, &[u8]), &bool)| {
        change.then(|| temp_sibling(path, bytes)).transpose()
    };
    let prepared: Vec<io::Result<Option<tempfile::TempPath>>> =
        if changed.iter().filter(|c| **c).count() <= 1 {
            files.iter().zip(&changed).map(prepare).collect()
        } else {
            // Several files: written and synced on a thread each, so their syncs overlap.
            std::thread::scope(|s| {
                let writers: Vec<_> = files
                    .iter()
                    .zip(&changed)
                    .map(|file| s.spawn(move || prepare(file)))
                    .collect();
                writers
                    .into_iter()
                    .map(|w| {
                        w.join()
                            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                    })
                    .collect()
            })
        };
    // On error every prepared temporary file is dropped here, which removes it.
    prepared.into_iter().collect()
}

/// Rename each temporary file over its path, in the order given, then sync every directory
/// involved once. A failed rename stops there: that file and the ones after it are left as
/// they were (their temporary files removed), and the files already renamed are synced.
fn rename_all<'a>(
    renames: impl IntoIterator<Item = (&'a Path, tempfile::TempPath)>,
) -> io::Result<()> {
    let mut dirs: Vec<&Path> = Vec::new();
    let mut renamed = Ok(());
    for (path, tmp) in renames {
        if let Err(e) = tmp.persist(path) {
            // `e.path` is dropped here, removing the temporary file; the files after this one
            // are left as they were (their temporary files go when the iterator is dropped).
            renamed = Err(with_path(e.error, "cannot replace", path));
            break;
        }
        let dir = parent_dir(path);
        if !dirs.contains(&dir) {
            dirs.push(dir);
        }
    }
    // The files already renamed are made durable even when a later rename failed.
    for dir in dirs {
        sync_dir(dir)?;
    }
    renamed
}

/// The directory `path` is in (`.` for a bare file name).
fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// A hidden temporary sibling of `path` (`.<name>.XXXXXX.tmp`) holding `bytes`, synced to disk,
/// its directory created when missing, and closed (a feed's set can hold many). Dropping it
/// removes the file.
fn temp_sibling(path: &Path, bytes: &[u8]) -> io::Result<tempfile::TempPath> {
    let file_name = path.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("cannot write {}: not a file path", path.display()),
        )
    })?;
    // A rename cannot replace a directory: say so now, before any file of the set is replaced.
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.is_dir()) {
        return Err(io::Error::new(
            io::ErrorKind::IsADirectory,
            format!("cannot replace {}: it is a directory", path.display()),
        ));
    }
    let dir = parent_dir(path);
    std::fs::create_dir_all(dir).map_err(|e| with_path(e, "cannot create directory", dir))?;

    let prefix = format!(".{}.", file_name.to_string_lossy());
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    #[cfg(unix)]
    {
        // Published files are meant to be served: readable by all (subject to the umask), not
        // the owner-only mode temp files get by default.
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o644));
    }
    let mut tmp = builder
        .tempfile_in(dir)
        .map_err(|e| with_path(e, "cannot create a temporary file to write", path))?;
    // On error `tmp` is dropped, which removes the temporary file.
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(|e| with_path(e, "cannot write", path))?;
    Ok(tmp.into_temp_path())
}

/// Make the rename durable: fsync the directory that holds the new file.
#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    let handle =
        std::fs::File::open(dir).map_err(|e| with_path(e, "cannot open directory", dir))?;
    match handle.sync_all() {
        Ok(()) => Ok(()),
        // Some filesystems cannot fsync a directory; the rename itself already happened.
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::InvalidInput | io::ErrorKind::Unsupported
            ) =>
        {
            Ok(())
        }
        Err(e) => Err(with_path(e, "cannot sync directory", dir)),
    }
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_outside_four_digit_years_are_written_without_panicking() {
        // What PHP prints for WordPress's zero date: -0001-11-30T00:00:00+00:00.
        let zero = Utc.with_ymd_and_hms(-1, 11, 30, 0, 0, 0).unwrap();
        assert_eq!(rfc822(zero), "Wed, 1 Jan 1000 00:00:00 +0000");
        assert_eq!(rfc3339(zero), "1000-01-01T00:00:00+00:00");
        let far = Utc.with_ymd_and_hms(12345, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(rfc3339(far), "9999-12-31T23:59:59+00:00");
        assert!(rfc822(far).contains("9999"), "{}", rfc822(far));
        let normal = Utc.with_ymd_and_hms(2024, 11, 4, 10, 0, 0).unwrap();
        assert_eq!(rfc822(normal), "Mon, 4 Nov 2024 10:00:00 +0000");
    }
}
