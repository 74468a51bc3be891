//! Which source is which when the configuration changes. A source is stored under its name,
//! but its name is not all it is: a `[[source]]` renamed in the configuration is the same
//! source when it has the same kind and the same `url` (or folder) as one the store holds that
//! the configuration no longer has, and its whole history is carried over to its new name
//! ([`adopt_renamed`]), so a rename changes nothing published. A source the store holds posts
//! of that nothing took over is said ([`Unclaimed`]). And a source whose `url` moved to another
//! host, or scheme, with the same path, is the same site moved: its stored posts take their new
//! address ([`follow_site_move`]). A source removed on purpose is forgotten on request
//! ([`forget`]): what the store holds of it goes, but the posts another source holds.

use std::collections::{HashMap, HashSet};

use url::Url;

use crate::config::{Config, SourceConfig, SourceKind};
use crate::store::{Forgotten, KnownSource, Store, StoreError};

/// A source the configuration renamed: the store carried (or, for `status`, will carry) its
/// history from `old` over to `new`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Renamed {
    pub old: String,
    pub new: String,
    /// The posts it holds.
    pub posts: usize,
}

/// A source the configuration no longer has, whose stored posts nothing took over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unclaimed {
    pub source: String,
    /// The posts it holds.
    pub posts: usize,
    /// Of those, the ones no source a feed names holds: posts no feed shows any more.
    pub in_no_feed: usize,
}

/// What the store holds of sources under other names than the configuration's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identities {
    pub renamed: Vec<Renamed>,
    /// Only those with posts no feed shows.
    pub unclaimed: Vec<Unclaimed>,
}

/// What to say of a source the configuration no longer has whose posts no feed shows: a
/// warning naming it, how many posts, and what to do.
pub fn unclaimed_note(u: &Unclaimed) -> String {
    let posts = if u.in_no_feed == u.posts {
        format!(
            "its {} stored {} in no feed now",
            u.posts,
            if u.posts == 1 { "post is" } else { "posts are" }
        )
    } else {
        format!(
            "{} of its {} stored posts are in no feed now",
            u.in_no_feed, u.posts
        )
    };
    format!(
        "source {} is no longer in the configuration: {posts} (renamed? a [[source]] of the same \
         kind and url takes its posts and history over at its first run, and one that has run \
         already gets back those its site still lists with `feedwright backfill <its name>`; \
         removed on purpose? `feedwright forget {}` deletes them and its history)",
        u.source, u.source
    )
}

/// Why a source cannot be forgotten, or what went wrong forgetting it.
#[derive(Debug)]
pub enum ForgetError {
    /// Refused: the source is configured, the store holds nothing of it, or a configured source
    /// takes its history over. Nothing was changed.
    Refused(String),
    /// The store could not be read or changed (nothing was).
    Store(StoreError),
}

impl std::fmt::Display for ForgetError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ForgetError::Refused(why) => f.write_str(why),
            ForgetError::Store(e) => write!(f, "{e}"),
        }
    }
}

impl From<StoreError> for ForgetError {
    fn from(e: StoreError) -> ForgetError {
        ForgetError::Store(e)
    }
}

/// Refuse to forget a source the configuration has: only what a source removed from it left
/// behind is deleted, never a live source's posts. (Checked before the store is opened too.)
pub fn refuse_forgetting_configured(cfg: &Config, name: &str) -> Result<(), ForgetError> {
    if cfg.source(name).is_some() {
        return Err(ForgetError::Refused(format!(
            "source {name} is in the configuration: remove its [[source]] (and its name from \
             the feeds' `sources`) first; only a source the configuration no longer has is \
             forgotten"
        )));
    }
    Ok(())
}

/// Forget the source `name` the configuration no longer has: everything the store holds
/// under its name goes, in one transaction, but the posts another source holds too
/// ([`Store::forget_source`]); with `dry_run`, only say what would go (the store may be
/// read-only). Refused, changing nothing, when the configuration has it, when the store holds
/// nothing of it (naming those it holds that the configuration no longer has), and when a
/// configured source would take its history over (see [`adopt_renamed`]).
pub fn forget(
    cfg: &Config,
    store: &mut Store,
    name: &str,
    dry_run: bool,
) -> Result<Forgotten, ForgetError> {
    refuse_forgetting_configured(cfg, name)?;
    let known = store.known_sources()?;
    if !known.iter().any(|k| k.name == name) && !store.names_source(name)? {
        let gone: Vec<&str> = known
            .iter()
            .filter(|k| cfg.source(&k.name).is_none())
            .map(|k| k.name.as_str())
            .collect();
        let held = if gone.is_empty() {
            "it holds nothing of any source the configuration no longer has".to_owned()
        } else {
            format!(
                "of the sources the configuration no longer has, it holds {}",
                gone.join(", ")
            )
        };
        return Err(ForgetError::Refused(format!(
            "the store holds nothing of source {name}: {held}"
        )));
    }
    if let Some((_, new)) = renames(cfg, &known)
        .into_iter()
        .find(|(old, _)| old == name)
    {
        let posts = known.iter().find(|k| k.name == name).map_or(0, |k| k.posts);
        return Err(ForgetError::Refused(format!(
            "source {name} is not forgotten: it is [[source]] {new} renamed (same kind and \
             url), which takes its {posts} stored {} and its history over at the next run; to \
             forget it instead, remove {new} (or change its url) first",
            if posts == 1 { "post" } else { "posts" }
        )));
    }
    if dry_run {
        return Ok(store.forget_preview(name)?);
    }
    let live: HashSet<String> = cfg.sources.iter().map(|s| s.name.clone()).collect();
    Ok(store.forget_source(name, &live)?)
}

/// What [`forget`] did (or, with `dry_run`, would do) to `name`, in one line.
pub fn forgotten_note(name: &str, f: &Forgotten, dry_run: bool) -> String {
    let posts = |n: usize| format!("{n} {}", if n == 1 { "post" } else { "posts" });
    let mut also = Vec::new();
    if f.pending > 0 {
        also.push(format!(
            "{} pending (failed, to be retried)",
            posts(f.pending)
        ));
    }
    if f.backfill {
        also.push("its unfinished backfill".to_owned());
    }
    also.push(match f.runs {
        0 => "its history (health, validators)".to_owned(),
        1 => "its history (1 run, health, validators)".to_owned(),
        n => format!("its history ({n} runs, health, validators)"),
    });
    let also = match also.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    };
    let archive: Vec<String> = f
        .off_open_pages
        .iter()
        .map(|(feed, n)| format!("{n} (feed {feed})"))
        .collect();
    let archive = if archive.is_empty() {
        String::new()
    } else {
        format!(
            "; of the posts deleted, {} leave the archive page still filling at the next run \
             (complete archive pages keep theirs)",
            archive.join(", ")
        )
    };
    if dry_run {
        format!(
            "dry run: forgetting source {name} would delete {} and keep {} (held by other \
             sources), and remove {also}{archive}; nothing was changed",
            posts(f.deleted),
            f.kept
        )
    } else {
        format!(
            "forgot source {name}: {} deleted, {} kept (held by other sources); removed: \
             {also}{archive}",
            posts(f.deleted),
            f.kept
        )
    }
}

/// Carry the history of every renamed source over to its new name, each in one transaction:
/// a configured source the store holds nothing of takes over the one source the store holds
/// that has its kind and its `url` (a `dir` source: its folder) and that the configuration no
/// longer has (or has with another `url` now: the old name given to a new source). A source
/// more than one could be, or that more than one could take, is left as it is. Called before
/// any source is read or feed published (`run`, `backfill`, the daemon's start and reloads, a
/// digest).
pub fn adopt_renamed(cfg: &Config, store: &mut Store) -> Result<Vec<Renamed>, StoreError> {
    let known = store.known_sources()?;
    let mut out = Vec::new();
    for (old, new) in renames(cfg, &known) {
        if let Some(posts) = store.adopt_source(&old, &new)? {
            out.push(Renamed { old, new, posts });
        }
    }
    Ok(out)
}

/// The sources the configuration no longer has that hold posts no feed shows now (once the
/// renamed ones are carried over, see [`adopt_renamed`]).
pub fn unclaimed_sources(cfg: &Config, store: &Store) -> Result<Vec<Unclaimed>, StoreError> {
    unclaimed(cfg, store, &[])
}

/// What [`adopt_renamed`] would do now, changing nothing (for `status`, which only reads).
pub fn renames_due(cfg: &Config, store: &Store) -> Result<Identities, StoreError> {
    let known = store.known_sources()?;
    let renamed: Vec<Renamed> = renames(cfg, &known)
        .into_iter()
        .map(|(old, new)| Renamed {
            posts: known.iter().find(|k| k.name == old).map_or(0, |k| k.posts),
            old,
            new,
        })
        .collect();
    let unclaimed = unclaimed(cfg, store, &renamed)?;
    Ok(Identities { renamed, unclaimed })
}

/// `(old name, new name)` of each source [`adopt_renamed`] carries over.
fn renames(cfg: &Config, known: &[KnownSource]) -> Vec<(String, String)> {
    let held: HashSet<&str> = known.iter().map(|k| k.name.as_str()).collect();
    // The sources whose history may go to another name: those the configuration no longer
    // has, and those it has with another place now (their old name reused for a new source).
    let candidates: Vec<&KnownSource> = known
        .iter()
        .filter(|k| match (cfg.source(&k.name), &k.url) {
            (_, None) => false,
            (None, Some(_)) => true,
            (Some(src), Some(url)) => !same_place(src, url),
        })
        .collect();
    let mut pairs: Vec<(String, String)> = Vec::new();
    for src in cfg
        .sources
        .iter()
        .filter(|s| !held.contains(s.name.as_str()))
    {
        let matching: Vec<&&KnownSource> = candidates
            .iter()
            .filter(|k| same_kind(src, k) && k.url.as_deref().is_some_and(|u| same_place(src, u)))
            .collect();
        if let [one] = matching.as_slice() {
            pairs.push((one.name.clone(), src.name.clone()));
        }
    }
    // A source two new names could take goes to neither.
    let mut takers: HashMap<&str, usize> = HashMap::new();
    for (old, _) in &pairs {
        *takers.entry(old.as_str()).or_default() += 1;
    }
    let taken_once: HashSet<String> = takers
        .into_iter()
        .filter(|(_, n)| *n == 1)
        .map(|(old, _)| old.to_owned())
        .collect();
    pairs.retain(|(old, _)| taken_once.contains(old));
    pairs
}

/// The sources the configuration no longer has, not `renamed`, that hold posts no feed shows.
fn unclaimed(
    cfg: &Config,
    store: &Store,
    renamed: &[Renamed],
) -> Result<Vec<Unclaimed>, StoreError> {
    let shown: Vec<String> = cfg
        .feeds
        .iter()
        .flat_map(|f| f.sources.iter().cloned())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    // `status` sees the store before the renames it predicts: their posts are the new name's.
    let shown: Vec<String> = shown
        .into_iter()
        .chain(
            renamed
                .iter()
                .filter(|r| cfg.feeds.iter().any(|f| f.sources.contains(&r.new)))
                .map(|r| r.old.clone()),
        )
        .collect();
    let mut out = Vec::new();
    for k in store.known_sources()? {
        if k.posts == 0
            || cfg.source(&k.name).is_some()
            || renamed.iter().any(|r| r.old == k.name || r.new == k.name)
        {
            continue;
        }
        let in_no_feed = store.posts_in_no_feed(&k.name, &shown)?;
        if in_no_feed > 0 {
            out.push(Unclaimed {
                source: k.name,
                posts: k.posts,
                in_no_feed,
            });
        }
    }
    Ok(out)
}

/// Was the source last read as the kind `src` has? A store that did not record it tells a
/// folder from a site by its URL.
fn same_kind(src: &SourceConfig, known: &KnownSource) -> bool {
    match (&known.kind, &known.url) {
        (Some(kind), _) => kind == src.kind.as_str(),
        (None, Some(url)) => is_folder(url) == (src.kind == SourceKind::Dir),
        (None, None) => false,
    }
}

/// A place recorded for a `dir` source (a path), not an http(s) URL.
fn is_folder(place: &str) -> bool {
    !(place.starts_with("http://") || place.starts_with("https://"))
}

/// What the store records a source as read from: its `url`, or for a `dir` source its folder
/// by its real path (the same folder named through another path is the same place).
pub(crate) fn place(src: &SourceConfig) -> String {
    if src.kind == SourceKind::Dir {
        std::fs::canonicalize(&src.url)
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| src.url.clone())
    } else {
        src.url.clone()
    }
}

/// Is `recorded` (what the store says a source was last read from) where `src` reads now? A
/// folder is compared by its real path too (older stores recorded it as configured).
pub(crate) fn same_place(src: &SourceConfig, recorded: &str) -> bool {
    if recorded == src.url {
        return true;
    }
    if src.kind == SourceKind::Dir {
        let here = place(src);
        return recorded == here
            || std::fs::canonicalize(recorded).is_ok_and(|p| p.display().to_string() == here);
    }
    matches!((Url::parse(recorded), Url::parse(&src.url)), (Ok(a), Ok(b)) if a == b)
}

/// A site that moved: `src` was last read at `from`, and reads `to` now, the same path and
/// query on another scheme, host or port. `None` for anything else (the same URL, or another
/// page: a source moved to another category is no site move).
pub(crate) fn site_move(src: &SourceConfig, recorded: Option<&str>) -> Option<(Url, Url)> {
    if src.kind == SourceKind::Dir {
        return None;
    }
    let from = Url::parse(recorded?).ok()?;
    let to = Url::parse(&src.url).ok()?;
    let web = |u: &Url| matches!(u.scheme(), "http" | "https") && u.host_str().is_some();
    let origin = |u: &Url| {
        (
            u.scheme().to_owned(),
            u.host_str().map(str::to_ascii_lowercase),
            u.port(),
        )
    };
    (web(&from)
        && web(&to)
        && from.path() == to.path()
        && from.query() == to.query()
        && origin(&from) != origin(&to))
    .then_some((from, to))
}

/// The address a post at `url` has once its site moved from `from` to `to`: the same path,
/// query and fragment on `to`'s scheme, host and port. `None` for a URL on another site, or
/// one that does not change.
pub(crate) fn moved_url(url: &str, from: &Url, to: &Url) -> Option<String> {
    let old = Url::parse(url).ok()?;
    if !crate::source::site::same_site(&old, from) {
        return None;
    }
    let mut new = old.clone();
    new.set_scheme(to.scheme()).ok()?;
    new.set_host(to.host_str()).ok()?;
    new.set_port(to.port()).ok()?;
    (new != old).then(|| new.to_string())
}

/// The stored posts `src` holds whose site moved (see [`site_move`]) take their new address,
/// before the source is read: the listing then shows them as stored, and nothing is fetched
/// again or stored twice. A post another source lists too is the same post: it moves as well
/// (its old address stays known, so that source finds it stored). Posts `src` does not hold
/// are not touched. Returns `(old site, new site, posts moved)` when some did.
pub(crate) fn follow_site_move(
    src: &SourceConfig,
    store: &mut Store,
) -> Option<(String, String, usize)> {
    let recorded = store.source_url(&src.name).ok().flatten();
    let (from, to) = site_move(src, recorded.as_deref())?;
    let moved = |url: &str| moved_url(url, &from, &to);
    match store.move_site(&src.name, &moved) {
        Ok(0) => None,
        Ok(n) => Some((origin_text(&from), origin_text(&to), n)),
        Err(e) => {
            tracing::warn!(source = %src.name, "cannot move its stored posts to {to}: {e}");
            None
        }
    }
}

/// `scheme://host[:port]` of `url`, as a line names a site.
fn origin_text(url: &Url) -> String {
    url.origin().ascii_serialization()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(name: &str, kind: &str, url: &str) -> String {
        format!("[[source]]\nname = \"{name}\"\nkind = \"{kind}\"\nurl = \"{url}\"\n")
    }

    fn config(sources: &[String]) -> Config {
        let names: Vec<String> = sources
            .iter()
            .filter_map(|s| s.split('"').nth(1).map(|n| format!("\"{n}\"")))
            .collect();
        let text = format!(
            "{}[[feed]]\nname = \"f\"\nsources = [{}]\n",
            sources.concat(),
            names.join(", ")
        );
        Config::parse(&text, std::path::Path::new("config.toml")).expect("config")
    }

    fn known(name: &str, kind: Option<&str>, url: Option<&str>) -> KnownSource {
        KnownSource {
            name: name.into(),
            kind: kind.map(Into::into),
            url: url.map(Into::into),
            posts: 3,
        }
    }

    const CAT: &str = "http://example.org/cat/";

    #[test]
    fn a_new_name_takes_over_the_one_source_of_its_kind_and_url_no_longer_configured() {
        let cfg = config(&[source("new", "html", CAT)]);
        let held = [known("old", Some("html"), Some(CAT))];
        assert_eq!(renames(&cfg, &held), [("old".into(), "new".into())]);
        // Another kind, another URL, or a name the store already holds: no rename.
        let held = [known("old", Some("feed"), Some(CAT))];
        assert!(renames(&cfg, &held).is_empty());
        let held = [known(
            "old",
            Some("html"),
            Some("http://example.org/other/"),
        )];
        assert!(renames(&cfg, &held).is_empty());
        let held = [
            known("old", Some("html"), Some(CAT)),
            known("new", Some("html"), Some(CAT)),
        ];
        assert!(renames(&cfg, &held).is_empty());
        // Two that could be it: neither.
        let held = [
            known("a", Some("html"), Some(CAT)),
            known("b", Some("html"), Some(CAT)),
        ];
        assert!(renames(&cfg, &held).is_empty());
        // One that two new names could take: neither takes it.
        let cfg2 = config(&[source("x", "html", CAT), source("y", "html", CAT)]);
        assert!(renames(&cfg2, &[known("old", Some("html"), Some(CAT))]).is_empty());
        // A store that did not record the kind: a site is not a folder.
        let held = [known("old", None, Some(CAT))];
        assert_eq!(renames(&cfg, &held), [("old".into(), "new".into())]);
    }

    #[test]
    fn an_old_name_given_to_a_new_place_leaves_its_history_to_the_source_at_its_old_place() {
        let cfg = config(&[
            source("events", "html", "http://example.org/new/"),
            source("events-a", "html", CAT),
        ]);
        let held = [known("events", Some("html"), Some(CAT))];
        assert_eq!(renames(&cfg, &held), [("events".into(), "events-a".into())]);
        // The source still at its place keeps its history.
        let cfg = config(&[
            source("events", "html", CAT),
            source("events-a", "html", CAT),
        ]);
        assert!(renames(&cfg, &held).is_empty());
    }

    #[test]
    fn a_site_move_is_the_same_path_on_another_origin() {
        let cfg = config(&[source("s", "html", "http://localhost:8000/cat/?x=1")]);
        let src = &cfg.sources[0];
        let (from, to) =
            site_move(src, Some("http://127.0.0.1:8000/cat/?x=1")).expect("a site move");
        assert_eq!(
            moved_url("http://127.0.0.1:8000/2024/01/a/?p=4#c", &from, &to).as_deref(),
            Some("http://localhost:8000/2024/01/a/?p=4#c")
        );
        assert_eq!(moved_url("http://other.test/a/", &from, &to), None);
        assert_eq!(moved_url("http://127.0.0.1:9000/a/", &from, &to), None);
        assert!(site_move(src, Some("http://127.0.0.1:8000/other/?x=1")).is_none());
        assert!(site_move(src, Some("http://localhost:8000/cat/?x=1")).is_none());
        assert!(site_move(src, None).is_none());
        let cfg = config(&[source("s", "html", "https://example.org/cat/")]);
        let (from, to) =
            site_move(&cfg.sources[0], Some("http://www.example.org/cat/")).expect("scheme");
        assert_eq!(
            moved_url("http://example.org/a/", &from, &to).as_deref(),
            Some("https://example.org/a/")
        );
    }
}
