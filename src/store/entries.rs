//! Entries: matching a re-fetched post to its stored twin, detecting edits (and keeping other
//! entries' related links to an edited entry current), whether an entry's text is a feed
//! item's, which entry each file of a folder or item of a feed gave, and the feed query.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter};
use sha2::{Digest, Sha256};

use super::{Store, StoreError, Upsert, from_unix};
use crate::model::{DateSource, Enclosure, Entry, EntryId, Link};

/// Every `entries` column an [`Entry`] is read from, in the order [`RawRow::read`] expects.
pub(super) const COLUMNS: &str = "id, dedup_key, source, url, title, published, published_source, updated, \
                       updated_source, authors, categories, related, content_html, summary, \
                       content_hash, first_seen, last_seen, enclosures";

/// [`COLUMNS`] with empty text in place of `content_html` and `summary`, and placeholders for
/// the bookkeeping columns stored after them (reading those would walk every body's overflow
/// pages; an [`Entry`] does not carry them).
const COLUMNS_WITHOUT_TEXT: &str = "id, dedup_key, source, url, title, published, \
                       published_source, updated, updated_source, authors, categories, related, \
                       '', '', '', 0, 0, enclosures";

/// An entry with the bookkeeping the store keeps about it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEntry {
    /// The entry as the feeds publish it.
    pub entry: Entry,
    /// When the post was first stored.
    pub first_seen: DateTime<Utc>,
    /// When the post was last seen by a run (changed or not).
    pub last_seen: DateTime<Utc>,
    /// Hash of the content that decides whether a re-fetch is an edit.
    pub content_hash: String,
}

/// What a read of a post says about its entry's enclosures (see [`Store::upsert_read`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnclosureSay {
    /// The entry's list is what its source gives, none included: a feed item's (or a page read
    /// for a feed item, `full_text`, which carries the item's).
    Given,
    /// Nothing: a page, the REST API or a file gives none, and a feed whose enclosures could not
    /// be told item by item gives none that can be trusted. The stored ones stay.
    Unsaid,
}

/// How a post was read, for [`Store::upsert_read`].
#[derive(Debug, Clone, Copy)]
pub struct Read<'a> {
    /// The sources the configuration has, this one included.
    pub live: &'a HashSet<String>,
    /// `Some(watched)` when the entry's text is a feed item's (see [`Store::upsert_item`]).
    pub item_text: Option<bool>,
    /// What the read says about the entry's enclosures.
    pub enclosures: EnclosureSay,
}

/// The enclosures an entry keeps, and the source they are recorded as given by (`None`: no
/// list, or one no configured source is known to have given), when `source` says `say` with
/// `given` of an entry storing `stored` given by `owner`. One source's feed has the say on
/// them: the one that gave them changes or withdraws them; another source's list takes their
/// place only while the entry has none (or none a configured source gave: a store from before
/// the giver was recorded, a source since removed or renamed), and its empty list, or a read
/// that says nothing, leaves them alone. So two feeds of one site, one with enclosures and one
/// without, neither take turns nor wipe each other's.
fn enclosures_after(
    stored: &[Enclosure],
    owner: Option<&str>,
    say: EnclosureSay,
    given: &[Enclosure],
    source: &str,
    live: Option<&HashSet<String>>,
) -> (Vec<Enclosure>, Option<String>) {
    let keep = || (stored.to_vec(), owner.map(str::to_owned));
    if say == EnclosureSay::Unsaid {
        return keep();
    }
    let owner = owner.filter(|o| live.is_none_or(|live| live.contains(*o)));
    let take = || {
        let owner = (!given.is_empty()).then(|| source.to_owned());
        (given.to_vec(), owner)
    };
    if owner == Some(source) {
        take()
    } else if given.is_empty() {
        keep()
    } else if stored.is_empty() || owner.is_none() {
        take()
    } else {
        keep()
    }
}

impl Store {
    /// Store `entry`, a feed item standing in for its post, only when no stored entry matches
    /// it (by the twin key of its id, or its `dedup_key`, as in [`Store::upsert_entry`]): what
    /// stands in for a post never replaces what is stored. True when it was stored.
    ///
    /// `for_good`: the post's page will never be read (robots.txt, not HTML, gone), so the item
    /// is the entry: it is not stored as a feed item's text (see [`Store::upsert_item`]), and a
    /// stored entry it matches stops being one.
    pub fn insert_if_new(
        &mut self,
        entry: &Entry,
        now: DateTime<Utc>,
        for_good: bool,
    ) -> Result<bool, StoreError> {
        let Store { conn, path, .. } = self;
        let path: &str = path;
        let sql = |e| StoreError::sql(path, e);
        let tx = conn.savepoint().map_err(sql)?;
        let id_key = crate::normalize::twin_key(&entry.id.0);
        let stored = match select_stored(&tx, path, "id_key", &id_key)? {
            Some(s) => Some(s),
            None => select_stored(&tx, path, "dedup_key", &entry.dedup_key)?,
        };
        if let Some(stored) = stored {
            if for_good {
                tx.execute(
                    "UPDATE entries SET from_item = 0 WHERE id = ?1",
                    [&stored.entry.id.0],
                )
                .map_err(sql)?;
                tx.commit().map_err(sql)?;
            }
            return Ok(false);
        }
        insert_new(&tx, entry, &id_key, now, !for_good).map_err(sql)?;
        tx.commit().map_err(sql)?;
        Ok(true)
    }

    /// Insert `entry`, or merge it into the stored entry it is a twin of, in one transaction (a
    /// savepoint inside a [`Store::batch`]: a failed upsert rolls back alone).
    ///
    /// A stored entry matches when its id has the same twin key as `entry.id` (http/https,
    /// `www.`/bare host, fragment) or when it has the same `dedup_key`. On a match the public `id`
    /// and `first_seen` never change. The content (title, url, authors, categories, HTML,
    /// summary, published) decides between [`Upsert::Unchanged`] (only `last_seen` moves) and
    /// [`Upsert::Updated`]:
    /// - a `published` date that is only the fetch time (`FirstSeen`) never replaces the stored
    ///   one;
    /// - `updated` becomes the entry's own modified date when it has a real one later than the
    ///   stored `updated` (not its published date standing in for a missing one), else
    ///   `max(stored updated, now)`, and never falls below `published`;
    /// - related links are fixed once, after the run that first stored the entry
    ///   (`digest::related::fix_related`), and kept from then on, an empty list too: an edit
    ///   never changes them, except that an entry never keeps a link to itself (under its new
    ///   URL, the URL it had, or a merged duplicate's). Until then the entry's own links are
    ///   stored (taken from the entry only while none are), those to a stored entry with its
    ///   URL and title;
    /// - enclosures: a feed item's list replaces the stored one, an empty list too (the feed
    ///   withdrew them), also where the item's text is kept from replacing the page's (see
    ///   [`Store::upsert_item`]: then the enclosures alone change); an entry read from a page,
    ///   which gives none, keeps the stored ones;
    /// - when the title or URL changes (or a duplicate is merged in), the related links of
    ///   other entries that point at it take its new title and URL in the same transaction;
    ///   those entries keep their content hash and `updated` (they were not edited).
    ///
    /// Should `entry` match two different stored rows (one by id, one by `dedup_key`), they are
    /// the same post: the one matched by id survives, keeping the earlier `first_seen`.
    pub fn upsert_entry(
        &mut self,
        entry: &Entry,
        now: DateTime<Utc>,
    ) -> Result<Upsert, StoreError> {
        let say = if entry.enclosures.is_empty() {
            EnclosureSay::Unsaid
        } else {
            EnclosureSay::Given
        };
        self.upsert(entry, now, None, None, say)
    }

    /// [`Store::upsert_entry`] (or, with `read.item_text`, [`Store::upsert_item`]) saying what
    /// the read says about the entry's enclosures: [`EnclosureSay::Given`], the entry's list is
    /// its source's say, none included, under the rule that one source's feed has the say on
    /// them (the one that gave them; another's list only while the entry has none; see
    /// `enclosures_after`); [`EnclosureSay::Unsaid`], the stored ones stay. A giver no longer
    /// in `read.live` gives way to the next source that gives some.
    pub fn upsert_read(
        &mut self,
        entry: &Entry,
        now: DateTime<Utc>,
        read: Read<'_>,
    ) -> Result<Upsert, StoreError> {
        self.upsert(entry, now, Some(read.live), read.item_text, read.enclosures)
    }

    /// [`Store::upsert_entry`] for an entry whose text is a feed item's rather than its page's
    /// (often a teaser): a feed source without `full_text`, or a site's category feed read
    /// while its pages or REST API cannot be. It is stored as such, and it leaves alone (only
    /// linking its source to it, [`Upsert::Unchanged`]) a stored entry whose text was read
    /// from the post's page while a source still reads it: the one that read it, if it is one
    /// of `live_sources` (the sources the configuration has, this one included), or, when
    /// `watched`, another source that reads the pages of the post's site (the caller knows
    /// the configuration; a source renamed has not linked the entry yet). That text is the
    /// whole post, and page reads keep it up to date. Only the item's enclosures, which no page
    /// gives, replace that entry's ([`Upsert::Updated`] when they differ). An entry no
    /// page-reading source watches any more is updated as usual.
    pub fn upsert_item(
        &mut self,
        entry: &Entry,
        now: DateTime<Utc>,
        live_sources: &HashSet<String>,
        watched: bool,
    ) -> Result<Upsert, StoreError> {
        self.upsert(
            entry,
            now,
            Some(live_sources),
            Some(watched),
            EnclosureSay::Given,
        )
    }

    /// The enclosures `source`'s feed item gives the stored post its link leads to (`url_key`:
    /// the twin key of that link, the entry's own or one it was reached by), taken as
    /// [`Store::upsert_read`] takes a feed item's ([`EnclosureSay::Given`]: under the say of the
    /// source that gave them), nothing else of the entry changing: for a post whose page is
    /// not read again (`full_text`). [`Upsert::Updated`] when they changed (its `updated`
    /// moves to `now`), [`Upsert::Unchanged`] when not; `None` when no stored post matches.
    pub fn item_enclosures(
        &mut self,
        url_key: &str,
        source: &str,
        enclosures: &[Enclosure],
        live: &HashSet<String>,
        now: DateTime<Utc>,
    ) -> Result<Option<Upsert>, StoreError> {
        let Store { conn, path, .. } = self;
        let path: &str = path;
        let sql = |e| StoreError::sql(path, e);
        let tx = conn.savepoint().map_err(sql)?;
        let key = tx
            .prepare_cached(
                "SELECT dedup_key FROM entries WHERE dedup_key = ?1
                 UNION ALL
                 SELECT dedup_key FROM aliases WHERE url_key = ?1
                 LIMIT 1",
            )
            .and_then(|mut stmt| stmt.query_row([url_key], |r| r.get::<_, String>(0)))
            .optional()
            .map_err(sql)?;
        let Some(stored) = key
            .map(|key| select_stored(&tx, path, "dedup_key", &key))
            .transpose()?
            .flatten()
        else {
            return Ok(None);
        };
        let owner = enclosures_source(&tx, &stored.entry.id.0).map_err(sql)?;
        let (list, owner) = enclosures_after(
            &stored.entry.enclosures,
            owner.as_deref(),
            EnclosureSay::Given,
            enclosures,
            source,
            Some(live),
        );
        if list == stored.entry.enclosures {
            return Ok(Some(Upsert::Unchanged));
        }
        set_enclosures(&tx, &stored.entry, &list, now).map_err(sql)?;
        set_enclosures_source(&tx, &stored.entry.id.0, owner.as_deref()).map_err(sql)?;
        tx.commit().map_err(sql)?;
        Ok(Some(Upsert::Updated))
    }

    /// `live`: the configured sources, when known; `item_text`: `Some(watched)` of
    /// [`Store::upsert_item`] (`None`: read from its page); `say`: what the read says about
    /// the enclosures.
    fn upsert(
        &mut self,
        entry: &Entry,
        now: DateTime<Utc>,
        live: Option<&HashSet<String>>,
        item_text: Option<bool>,
        say: EnclosureSay,
    ) -> Result<Upsert, StoreError> {
        let no_sources = HashSet::new();
        let from_item = item_text.map(|watched| (live.unwrap_or(&no_sources), watched));
        let Store { conn, path, .. } = self;
        let path: &str = path;
        let sql = |e| StoreError::sql(path, e);

        let tx = conn.savepoint().map_err(sql)?;
        let id_key = crate::normalize::twin_key(&entry.id.0);
        let by_id = select_stored(&tx, path, "id_key", &id_key)?;
        let by_dedup = select_stored(&tx, path, "dedup_key", &entry.dedup_key)?;

        let (stored, duplicate) = match (by_id, by_dedup) {
            (None, None) => {
                let fresh;
                let entry = if say == EnclosureSay::Unsaid && !entry.enclosures.is_empty() {
                    fresh = Entry {
                        enclosures: Vec::new(),
                        ..entry.clone()
                    };
                    &fresh
                } else {
                    entry
                };
                insert_new(&tx, entry, &id_key, now, from_item.is_some()).map_err(sql)?;
                tx.commit().map_err(sql)?;
                return Ok(Upsert::New);
            }
            (Some(a), Some(b)) if a.entry.id != b.entry.id => (a, Some(b)),
            (Some(a), _) => (a, None),
            (None, Some(b)) => (b, None),
        };

        // A feed item's enclosures are its feed's say, none too (it withdrew them), when that
        // feed gave them; a page gives none (`extract` reads no media files), so an update read
        // from a page keeps the stored ones.
        let owner = enclosures_source(&tx, &stored.entry.id.0).map_err(sql)?;
        let (enclosures, owner) = enclosures_after(
            &stored.entry.enclosures,
            owner.as_deref(),
            say,
            &entry.enclosures,
            &entry.source,
            live,
        );
        if let Some((sources, watched)) = from_item
            && duplicate.is_none()
            && (watched || sources.contains(&stored.entry.source))
            && !stored_from_item(&tx, &stored.entry.id.0).map_err(sql)?
        {
            // Its text was read from its page: a feed item's must not replace it. Its
            // enclosures are the item's to give, though (a page gives none).
            let upsert = if enclosures == stored.entry.enclosures {
                tx.prepare_cached("UPDATE entries SET last_seen = ?2 WHERE id = ?1")
                    .and_then(|mut stmt| stmt.execute(params![stored.entry.id.0, now.timestamp()]))
                    .map_err(sql)?;
                Upsert::Unchanged
            } else {
                set_enclosures(&tx, &stored.entry, &enclosures, now).map_err(sql)?;
                Upsert::Updated
            };
            set_enclosures_source(&tx, &stored.entry.id.0, owner.as_deref()).map_err(sql)?;
            link_source(&tx, &stored.entry.id.0, &entry.source).map_err(sql)?;
            tx.commit().map_err(sql)?;
            return Ok(upsert);
        }
        let (published, published_source) = if entry.published_source == DateSource::FirstSeen {
            (stored.entry.published, stored.entry.published_source)
        } else {
            (entry.published, entry.published_source)
        };
        let candidate = Entry {
            id: stored.entry.id.clone(),
            published,
            published_source,
            enclosures,
            ..entry.clone()
        };
        let hash = content_hash(&candidate);
        // A body that differs only in how its markup is written (attribute order: a source
        // switched from the page to the REST API) is not an edit; the stored text stays.
        let unchanged = hash == stored.content_hash
            || (candidate.content_html != stored.entry.content_html
                && content_hash(&Entry {
                    content_html: stored.entry.content_html.clone(),
                    ..candidate.clone()
                }) == stored.content_hash
                && crate::normalize::html::same_markup(
                    &candidate.content_html,
                    &stored.entry.content_html,
                ));

        if duplicate.is_none() && unchanged {
            // Read from its page, an entry stored from a feed item is no longer an item's (and
            // the source that read the page keeps it up to date from now on).
            let touched = if from_item.is_some() {
                tx.prepare_cached("UPDATE entries SET last_seen = ?2 WHERE id = ?1")
                    .and_then(|mut stmt| stmt.execute(params![stored.entry.id.0, now.timestamp()]))
            } else {
                tx.prepare_cached(
                    "UPDATE entries SET last_seen = ?2,
                         source = CASE WHEN from_item = 1 THEN ?3 ELSE source END, from_item = 0
                     WHERE id = ?1",
                )
                .and_then(|mut stmt| {
                    stmt.execute(params![stored.entry.id.0, now.timestamp(), entry.source])
                })
            };
            touched.map_err(sql)?;
            set_enclosures_source(&tx, &stored.entry.id.0, owner.as_deref()).map_err(sql)?;
            link_source(&tx, &stored.entry.id.0, &entry.source).map_err(sql)?;
            tx.commit().map_err(sql)?;
            return Ok(Upsert::Unchanged);
        }

        let mut first_seen = stored.first_seen;
        if let Some(dup) = &duplicate {
            first_seen = first_seen.min(dup.first_seen);
            // The duplicate's sources move to the survivor before the row goes.
            tx.execute(
                "INSERT OR IGNORE INTO entry_sources (entry_id, source)
                 SELECT ?1, source FROM entry_sources WHERE entry_id = ?2",
                params![stored.entry.id.0, dup.entry.id.0],
            )
            .map_err(sql)?;
            // … and so does its place on an archive page still filling up, unless the survivor
            // has its own. A complete page keeps the duplicate as it was frozen; the survivor
            // stays where it is, so its newer version is still published.
            tx.execute(
                "INSERT OR IGNORE INTO archive_entries (feed, entry_id, page)
                 SELECT a.feed, ?1, a.page FROM archive_entries a
                 JOIN archive_pages p ON p.feed = a.feed AND p.page = a.page
                 WHERE a.entry_id = ?2 AND p.frozen_entries IS NULL",
                params![stored.entry.id.0, dup.entry.id.0],
            )
            .map_err(sql)?;
            tx.execute(
                "DELETE FROM archive_entries WHERE entry_id = ?1",
                [&dup.entry.id.0],
            )
            .map_err(sql)?;
            tx.execute("DELETE FROM entries WHERE id = ?1", [&dup.entry.id.0])
                .map_err(sql)?;
        }

        // A modified date of its own: not when the change was seen, nor its published date
        // standing in for one it does not have (a file without `updated`, a page without a
        // modified date), which would date an edit made today by the date the post now gives.
        let own_updated = entry.updated_source != DateSource::FirstSeen
            && !(entry.updated == entry.published
                && entry.updated_source == entry.published_source);
        let (mut updated, mut updated_source) =
            if own_updated && secs(entry.updated) > secs(stored.entry.updated) {
                (entry.updated, entry.updated_source)
            } else if secs(now) > secs(stored.entry.updated) {
                (now, DateSource::FirstSeen)
            } else {
                (stored.entry.updated, stored.entry.updated_source)
            };
        if secs(updated) < secs(published) {
            (updated, updated_source) = (published, published_source);
        }
        // Fixed links are kept, an empty list too: whether they are fixed is a row of
        // `related_fixed`, not a list with something in it (an edit giving a file `related`
        // used to replace its fixed empty list with the links as written, without titles).
        let mut related = if !stored.entry.related.is_empty()
            || super::digest::is_fixed(&tx, &stored.entry.id.0).map_err(sql)?
        {
            stored.entry.related.clone()
        } else {
            super::digest::own_links(&tx, &entry.related).map_err(sql)?
        };
        // Never a related link to itself: not under its new URL, nor under the URL it had or
        // the merged duplicate had.
        let own: Vec<String> = [Some(&candidate.url), Some(&stored.entry.url)]
            .into_iter()
            .chain([duplicate.as_ref().map(|d| &d.entry.url)])
            .flatten()
            .map(|u| crate::normalize::twin_key(u))
            .collect();
        related.retain(|l| !own.contains(&crate::normalize::twin_key(&l.url)));
        let merged = Entry {
            updated,
            updated_source,
            related,
            ..candidate
        };
        update(&tx, &merged, &hash, first_seen, now, from_item.is_some()).map_err(sql)?;
        set_enclosures_source(&tx, &merged.id.0, owner.as_deref()).map_err(sql)?;
        link_source(&tx, &merged.id.0, &entry.source).map_err(sql)?;
        // Other entries' related links show this entry's current title and URL.
        let mut old_urls = vec![stored.entry.url.as_str()];
        if let Some(dup) = &duplicate {
            old_urls.push(dup.entry.url.as_str());
        }
        if duplicate.is_some()
            || merged.title != stored.entry.title
            || merged.url != stored.entry.url
        {
            super::digest::retarget_related(&tx, path, &old_urls, &merged)?;
        }
        tx.commit().map_err(sql)?;
        Ok(Upsert::Updated)
    }

    /// The post stored under the dedup key `old_key` moved to the entry stored under `new_key`
    /// (its old URL redirects to the new one): when that entry is one of `created` (made by this
    /// run, so no reader has seen it), the two become one, as [`Store::upsert_entry`] merges
    /// twins: the old entry keeps its id, `first_seen` and related links and takes the new
    /// entry's page, and the new row goes. Returns the id of the row removed, `None` when there
    /// was nothing to merge.
    pub fn merge_moved(
        &mut self,
        old_key: &str,
        new_key: &str,
        created: &[EntryId],
        now: DateTime<Utc>,
    ) -> Result<Option<EntryId>, StoreError> {
        let path = self.path.clone();
        let old = select_stored(&self.conn, &path, "dedup_key", old_key)?;
        let new = select_stored(&self.conn, &path, "dedup_key", new_key)?;
        let (Some(old), Some(new)) = (old, new) else {
            return Ok(None);
        };
        if old.entry.id == new.entry.id || !created.contains(&new.entry.id) {
            return Ok(None);
        }
        let moved = Entry {
            id: old.entry.id.clone(),
            ..new.entry.clone()
        };
        self.upsert_entry(&moved, now)?;
        Ok(Some(new.entry.id))
    }

    /// Has this store ever stored a post from one of `sources`, whether or not it is still
    /// theirs (a `dir` source's deleted or draft files unlink their entries, which stay
    /// stored)? Tells a feed whose posts were all taken out from one this store knows nothing
    /// of yet (a new store, a source that was never reached).
    pub fn ever_stored_from(&self, sources: &[String]) -> Result<bool, StoreError> {
        if sources.is_empty() {
            return Ok(false);
        }
        let placeholders = (1..=sources.len())
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let query = format!(
            "SELECT EXISTS (SELECT 1 FROM entries WHERE source IN ({placeholders}))
                 OR EXISTS (SELECT 1 FROM entry_sources WHERE source IN ({placeholders}))"
        );
        self.conn
            .query_row(&query, params_from_iter(sources), |r| r.get(0))
            .map_err(|e| self.err(e))
    }

    /// Entries of `sources`, newest `published` first, then newest `updated`, then `id`
    /// ascending; when `categories` is non-empty only entries with at least one of them
    /// (case-insensitive). At most `limit`. Their related links are those readers are shown
    /// (see [`Store::get_stored`]).
    pub fn entries(
        &self,
        sources: &[String],
        categories: &[String],
        limit: usize,
    ) -> Result<Vec<Entry>, StoreError> {
        let mut entries = self.entries_of(COLUMNS, sources, categories, limit)?;
        for e in &mut entries {
            super::digest::show_related(&self.conn, &self.path, &mut e.related)?;
        }
        Ok(entries)
    }

    /// The URL and dedup key of `source`'s `n` newest entries (by published date): where its
    /// listing began when last read (see `source::RunState::with_anchors`).
    pub fn newest_keys(&self, source: &str, n: usize) -> Result<Vec<(String, String)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT url, dedup_key FROM entries
                 WHERE id IN (SELECT entry_id FROM entry_sources WHERE source = ?1)
                 ORDER BY published DESC, id ASC LIMIT ?2",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![source, n as i64], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Every entry of `sources` as [`Store::entries`] lists them, but without their text
    /// ([`Entry::without_text`]) and with their related links as stored: for work that needs
    /// only the metadata, without reading every body.
    pub fn entries_without_text(&self, sources: &[String]) -> Result<Vec<Entry>, StoreError> {
        self.entries_of(COLUMNS_WITHOUT_TEXT, sources, &[], usize::MAX)
    }

    /// Call `each(id, title, content_html, summary)` for every entry of `sources`, in no
    /// particular order, one row at a time: for work over every body (related posts) that must
    /// not hold them all in memory at once.
    pub fn for_each_text(
        &self,
        sources: &[String],
        mut each: impl FnMut(&str, &str, &str, &str),
    ) -> Result<(), StoreError> {
        if sources.is_empty() {
            return Ok(());
        }
        let placeholders = (1..=sources.len())
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let query = format!(
            "SELECT id, title, content_html, summary FROM entries
             WHERE id IN (SELECT entry_id FROM entry_sources WHERE source IN ({placeholders}))"
        );
        let mut stmt = self.conn.prepare(&query).map_err(|e| self.err(e))?;
        let mut rows = stmt
            .query(params_from_iter(sources))
            .map_err(|e| self.err(e))?;
        while let Some(row) = rows.next().map_err(|e| self.err(e))? {
            let text = |i| row.get_ref(i)?.as_str().map_err(rusqlite::Error::from);
            let (id, title, html, summary) = (|| Ok((text(0)?, text(1)?, text(2)?, text(3)?)))()
                .map_err(|e: rusqlite::Error| self.err(e))?;
            each(id, title, html, summary);
        }
        Ok(())
    }

    fn entries_of(
        &self,
        columns: &str,
        sources: &[String],
        categories: &[String],
        limit: usize,
    ) -> Result<Vec<Entry>, StoreError> {
        if sources.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let placeholders = (1..=sources.len())
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let query = format!(
            "SELECT {columns} FROM entries
             WHERE id IN (SELECT entry_id FROM entry_sources WHERE source IN ({placeholders}))
             ORDER BY published DESC, updated DESC, id ASC"
        );
        let wanted: Vec<String> = categories.iter().map(|c| c.to_lowercase()).collect();

        let mut stmt = self.conn.prepare(&query).map_err(|e| self.err(e))?;
        let mut rows = stmt
            .query(params_from_iter(sources))
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(|e| self.err(e))? {
            let stored = RawRow::read(row)
                .map_err(|e| self.err(e))?
                .into_stored(&self.path)?;
            let keep = wanted.is_empty()
                || stored
                    .entry
                    .categories
                    .iter()
                    .any(|c| wanted.contains(&c.to_lowercase()));
            if keep {
                out.push(stored.entry);
                if out.len() == limit {
                    break;
                }
            }
        }
        Ok(out)
    }

    /// How many entries `source` has.
    /// Does `source` hold a post dated by the site (not when feedwright first saw it)?
    pub fn holds_dated(&self, source: &str) -> Result<bool, StoreError> {
        self.conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM entry_sources s JOIN entries e ON e.id = s.entry_id
                                WHERE s.source = ?1 AND e.published_source != 'first_seen')",
                [source],
                |row| row.get(0),
            )
            .map_err(|e| self.err(e))
    }

    pub fn entry_count(&self, source: &str) -> Result<usize, StoreError> {
        let n: i64 = self
            .conn
            .query_row(
                "SELECT count(*) FROM entry_sources WHERE source = ?1",
                [source],
                |row| row.get(0),
            )
            .map_err(|e| self.err(e))?;
        usize::try_from(n).map_err(|_| StoreError::bad_value(&self.path, "entry count"))
    }

    /// Stored posts of `source` that may be the entry `id` under its URL before a move (a slug
    /// change): published at the same second as it (a date a page gave, not the time it was
    /// first seen), with the same title or the same text, both with ids that are URLs (no
    /// WordPress post number, which would have made them one entry already), under another
    /// key. `(url, dedup key)`, at most `limit`.
    pub fn moved_candidates(
        &self,
        source: &str,
        id: &EntryId,
        limit: usize,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT o.url, o.dedup_key FROM entries n JOIN entries o
                   ON o.published = n.published AND o.id != n.id AND o.dedup_key != n.dedup_key
                 WHERE n.id = ?1 AND n.published_source != 'first_seen'
                   AND (o.title = n.title OR o.content_hash = n.content_hash)
                   AND instr(n.id, '?p=') = 0 AND instr(o.id, '?p=') = 0
                   AND o.id IN (SELECT entry_id FROM entry_sources WHERE source = ?2)
                 ORDER BY o.id LIMIT ?3",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![id.0, source, limit as i64], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Remove an entry this run created and nothing has used yet (no feed, archive or digest
    /// has seen it): a post of the run turned out to give way to another one for the same entry
    /// (see `pipeline`). Its source links go with it; aliases stay, since they name the entry's
    /// URL key, which the post kept instead shares.
    pub fn forget_new_entry(&mut self, id: &EntryId) -> Result<(), StoreError> {
        self.conn
            .execute("DELETE FROM entries WHERE id = ?1", [&id.0])
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Which entry each item of `source` gave when it was last stored: each file of a `dir`
    /// source (by path), each item of a feed source (by `item <its own id>`). Not the items
    /// recorded as unreliable ([`Store::distrust_source_item`]).
    pub fn source_items(&self, source: &str) -> Result<HashMap<String, EntryId>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT item, entry_id FROM source_items WHERE source = ?1 AND entry_id <> ''",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([source], |r| {
                Ok((r.get::<_, String>(0)?, EntryId(r.get::<_, String>(1)?)))
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// The items of `source` recorded as unreliable ([`Store::distrust_source_item`]).
    pub fn untrusted_source_items(&self, source: &str) -> Result<HashSet<String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT item FROM source_items WHERE source = ?1 AND entry_id = ''")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([source], |r| r.get::<_, String>(0))
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Record that `item` of `source` identifies no entry, for good: a feed item id the feed
    /// gave to several items. The entry it gave before (if any) is no longer its, and
    /// [`Store::set_source_item`] never gives it one again. (Kept as a row with an empty
    /// `entry_id`, which no entry has.)
    pub fn distrust_source_item(&mut self, source: &str, item: &str) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO source_items (source, item, entry_id) VALUES (?1, ?2, '')
                 ON CONFLICT (source, item) DO UPDATE SET entry_id = ''",
            )
            .and_then(|mut stmt| stmt.execute(params![source, item]))
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Remember that the item `item` of `source` (see [`Store::source_items`]) gave the entry
    /// stored under `dedup_key` (nothing when no entry is stored under it). Returns that entry's
    /// id. An item recorded as unreliable ([`Store::distrust_source_item`]) stays so: it is
    /// not remembered as giving the entry.
    pub fn set_source_item(
        &mut self,
        source: &str,
        item: &str,
        dedup_key: &str,
    ) -> Result<Option<EntryId>, StoreError> {
        let Some(stored) = select_stored(&self.conn, &self.path, "dedup_key", dedup_key)? else {
            return Ok(None);
        };
        self.conn
            .prepare_cached(
                "INSERT INTO source_items (source, item, entry_id) VALUES (?1, ?2, ?3)
                 ON CONFLICT (source, item) DO UPDATE SET entry_id = excluded.entry_id
                 WHERE source_items.entry_id <> ''",
            )
            .and_then(|mut stmt| stmt.execute(params![source, item, stored.entry.id.0]))
            .map_err(|e| self.err(e))?;
        Ok(Some(stored.entry.id))
    }

    /// The item `item` of `source` gives no entry any more (a file gone, or a draft). When
    /// `unlink` is set, the entry it gave leaves that source (and so its feeds and digests); the
    /// entry itself stays stored, with its id, and an upsert from the source links it again.
    pub fn forget_source_item(
        &mut self,
        source: &str,
        item: &str,
        unlink: Option<&EntryId>,
    ) -> Result<(), StoreError> {
        let tx = self
            .conn
            .savepoint()
            .map_err(|e| StoreError::sql(&self.path, e))?;
        tx.execute(
            "DELETE FROM source_items WHERE source = ?1 AND item = ?2",
            params![source, item],
        )
        .map_err(|e| StoreError::sql(&self.path, e))?;
        if let Some(id) = unlink {
            tx.execute(
                "DELETE FROM entry_sources WHERE entry_id = ?1 AND source = ?2",
                params![id.0, source],
            )
            .map_err(|e| StoreError::sql(&self.path, e))?;
        }
        tx.commit().map_err(|e| StoreError::sql(&self.path, e))
    }

    /// The dedup key (the URL's twin key) of the entry stored with this id, if any.
    pub fn entry_dedup_key(&self, id: &EntryId) -> Result<Option<String>, StoreError> {
        self.conn
            .prepare_cached("SELECT dedup_key FROM entries WHERE id = ?1")
            .and_then(|mut stmt| stmt.query_row([&id.0], |r| r.get(0)).optional())
            .map_err(|e| self.err(e))
    }

    /// Is an entry with this id stored?
    pub fn has_entry(&self, id: &EntryId) -> Result<bool, StoreError> {
        self.conn
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM entries WHERE id = ?1)")
            .and_then(|mut stmt| stmt.query_row([&id.0], |r| r.get(0)))
            .map_err(|e| self.err(e))
    }

    /// The entry stored under `dedup_key`, if any.
    pub fn get_by_key(&self, dedup_key: &str) -> Result<Option<Entry>, StoreError> {
        Ok(self.get_stored(dedup_key)?.map(|s| s.entry))
    }

    /// The entry stored under `dedup_key` with its first/last-seen times, if any, as readers
    /// (feeds, digests) are shown it: its related links only those to entries some source still
    /// holds, with their current URL and title (the links as stored keep the others, which show
    /// again when their entry comes back).
    pub fn get_stored(&self, dedup_key: &str) -> Result<Option<StoredEntry>, StoreError> {
        let mut stored = select_stored(&self.conn, &self.path, "dedup_key", dedup_key)?;
        if let Some(s) = &mut stored {
            super::digest::show_related(&self.conn, &self.path, &mut s.entry.related)?;
        }
        Ok(stored)
    }
}

/// The stored entry whose `column` (a unique key column) equals `value`.
fn select_stored(
    conn: &Connection,
    path: &str,
    column: &str,
    value: &str,
) -> Result<Option<StoredEntry>, StoreError> {
    let query = format!("SELECT {COLUMNS} FROM entries WHERE {column} = ?1");
    conn.prepare_cached(&query)
        .and_then(|mut stmt| stmt.query_row([value], RawRow::read))
        .optional()
        .map_err(|e| StoreError::sql(path, e))?
        .map(|raw| raw.into_stored(path))
        .transpose()
}

/// Insert `entry`, matching no stored entry, as a new one: `updated` never below `published`.
fn insert_new(
    tx: &rusqlite::Savepoint<'_>,
    entry: &Entry,
    id_key: &str,
    now: DateTime<Utc>,
    from_item: bool,
) -> rusqlite::Result<()> {
    let (updated, updated_source) = if entry.updated < entry.published {
        (entry.published, entry.published_source)
    } else {
        (entry.updated, entry.updated_source)
    };
    let fresh = Entry {
        updated,
        updated_source,
        related: super::digest::own_links(tx, &entry.related)?,
        ..entry.clone()
    };
    insert(tx, &fresh, id_key, now, from_item)?;
    // The source that gave its enclosures, if it gave any.
    let owner = (!fresh.enclosures.is_empty()).then_some(fresh.source.as_str());
    set_enclosures_source(tx, &fresh.id.0, owner)?;
    link_source(tx, &fresh.id.0, &entry.source)
}

fn insert(
    conn: &Connection,
    e: &Entry,
    id_key: &str,
    now: DateTime<Utc>,
    from_item: bool,
) -> rusqlite::Result<usize> {
    let values = row_values(e, &content_hash(e), now, now);
    let extra = [
        Value::Text(id_key.to_string()),
        Value::Integer(i64::from(from_item)),
    ];
    conn.prepare_cached(
        "INSERT INTO entries (id, dedup_key, source, url, title, published, published_source,
             updated, updated_source, authors, categories, related, content_html, summary,
             content_hash, first_seen, last_seen, enclosures, id_key, from_item)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
             ?19, ?20)",
    )?
    .execute(params_from_iter(values.iter().chain(&extra)))
}

/// Give the stored entry `stored` these `enclosures`, and nothing else new: an edit seen `now`
/// (its hash follows, `updated` moves to `now` unless it is later already).
fn set_enclosures(
    conn: &Connection,
    stored: &Entry,
    enclosures: &[crate::model::Enclosure],
    now: DateTime<Utc>,
) -> rusqlite::Result<usize> {
    let changed = Entry {
        enclosures: enclosures.to_vec(),
        ..stored.clone()
    };
    let (updated, updated_source) = if secs(now) > secs(stored.updated) {
        (now, DateSource::FirstSeen)
    } else {
        (stored.updated, stored.updated_source)
    };
    conn.prepare_cached(
        "UPDATE entries SET enclosures = ?2, content_hash = ?3, updated = ?4,
             updated_source = ?5, last_seen = ?6
         WHERE id = ?1",
    )?
    .execute(params![
        stored.id.0,
        json(&changed.enclosures),
        content_hash(&changed),
        secs(updated),
        updated_source.as_str(),
        secs(now),
    ])
}

/// The source recorded as having given the stored entry `id`'s enclosures, if one is.
fn enclosures_source(conn: &Connection, id: &str) -> rusqlite::Result<Option<String>> {
    conn.prepare_cached("SELECT enclosures_source FROM entries WHERE id = ?1")?
        .query_row([id], |row| row.get(0))
}

/// Record `owner` as the source that gave the stored entry `id`'s enclosures (`None`: none).
fn set_enclosures_source(conn: &Connection, id: &str, owner: Option<&str>) -> rusqlite::Result<()> {
    conn.prepare_cached("UPDATE entries SET enclosures_source = ?2 WHERE id = ?1")?
        .execute(params![id, owner])
        .map(drop)
}

/// Was the stored entry `id` written from a feed item (see [`Store::upsert_item`])?
fn stored_from_item(conn: &Connection, id: &str) -> rusqlite::Result<bool> {
    conn.prepare_cached("SELECT from_item FROM entries WHERE id = ?1")?
        .query_row([id], |row| row.get(0))
}

/// Rewrite every column of the row with id `e.id` except `id`, `id_key`.
fn update(
    conn: &Connection,
    e: &Entry,
    hash: &str,
    first_seen: DateTime<Utc>,
    now: DateTime<Utc>,
    from_item: bool,
) -> rusqlite::Result<usize> {
    let from_item = Value::Integer(i64::from(from_item));
    conn.prepare_cached(
        "UPDATE entries SET dedup_key = ?2, source = ?3, url = ?4, title = ?5, published = ?6,
             published_source = ?7, updated = ?8, updated_source = ?9, authors = ?10,
             categories = ?11, related = ?12, content_html = ?13, summary = ?14,
             content_hash = ?15, first_seen = ?16, last_seen = ?17, enclosures = ?18,
             from_item = ?19
         WHERE id = ?1",
    )?
    .execute(params_from_iter(
        row_values(e, hash, first_seen, now)
            .iter()
            .chain([&from_item]),
    ))
}

/// The values [`insert`] and [`update`] write, as `?1`…`?18` in this order: `id`, `dedup_key`,
/// `source`, `url`, `title`, `published`, `published_source`, `updated`, `updated_source`,
/// `authors`, `categories`, `related`, `content_html`, `summary`, `content_hash`, `first_seen`,
/// `last_seen`, `enclosures`.
fn row_values(e: &Entry, hash: &str, first_seen: DateTime<Utc>, now: DateTime<Utc>) -> [Value; 18] {
    [
        e.id.0.clone().into(),
        e.dedup_key.clone().into(),
        e.source.clone().into(),
        e.url.clone().into(),
        e.title.clone().into(),
        secs(e.published).into(),
        e.published_source.as_str().to_string().into(),
        secs(e.updated).into(),
        e.updated_source.as_str().to_string().into(),
        json(&e.authors).into(),
        json(&e.categories).into(),
        json(&e.related).into(),
        e.content_html.clone().into(),
        e.summary.clone().into(),
        hash.to_string().into(),
        secs(first_seen).into(),
        secs(now).into(),
        json(&e.enclosures).into(),
    ]
}

/// One `entries` row as SQLite returns it, before any decoding that can fail on bad data.
pub(super) struct RawRow {
    id: String,
    dedup_key: String,
    source: String,
    url: String,
    title: String,
    published: i64,
    published_source: String,
    updated: i64,
    updated_source: String,
    authors: String,
    categories: String,
    related: String,
    content_html: String,
    summary: String,
    content_hash: String,
    first_seen: i64,
    last_seen: i64,
    enclosures: String,
}

impl RawRow {
    pub(super) fn read(row: &Row<'_>) -> rusqlite::Result<RawRow> {
        Ok(RawRow {
            id: row.get(0)?,
            dedup_key: row.get(1)?,
            source: row.get(2)?,
            url: row.get(3)?,
            title: row.get(4)?,
            published: row.get(5)?,
            published_source: row.get(6)?,
            updated: row.get(7)?,
            updated_source: row.get(8)?,
            authors: row.get(9)?,
            categories: row.get(10)?,
            related: row.get(11)?,
            content_html: row.get(12)?,
            summary: row.get(13)?,
            content_hash: row.get(14)?,
            first_seen: row.get(15)?,
            last_seen: row.get(16)?,
            enclosures: row.get(17)?,
        })
    }

    pub(super) fn into_stored(self, path: &str) -> Result<StoredEntry, StoreError> {
        let date_source = |s: &str| {
            DateSource::parse(s)
                .ok_or_else(|| StoreError::bad_value(path, format!("date source {s:?}")))
        };
        let strings = |column: &str, s: &str| {
            serde_json::from_str::<Vec<String>>(s)
                .map_err(|e| StoreError::bad_value(path, format!("{column}: {e}")))
        };
        let related = serde_json::from_str::<Vec<Link>>(&self.related)
            .map_err(|e| StoreError::bad_value(path, format!("related: {e}")))?;
        let enclosures = serde_json::from_str::<Vec<Enclosure>>(&self.enclosures)
            .map_err(|e| StoreError::bad_value(path, format!("enclosures: {e}")))?;
        Ok(StoredEntry {
            entry: Entry {
                id: EntryId(self.id),
                dedup_key: self.dedup_key,
                source: self.source,
                url: self.url,
                title: self.title,
                published: from_unix(path, self.published)?,
                published_source: date_source(&self.published_source)?,
                updated: from_unix(path, self.updated)?,
                updated_source: date_source(&self.updated_source)?,
                authors: strings("authors", &self.authors)?,
                categories: strings("categories", &self.categories)?,
                content_html: self.content_html,
                summary: self.summary,
                related,
                enclosures,
            },
            first_seen: from_unix(path, self.first_seen)?,
            last_seen: from_unix(path, self.last_seen)?,
            content_hash: self.content_hash,
        })
    }
}

/// Whole Unix seconds: the stored precision.
fn secs(t: DateTime<Utc>) -> i64 {
    t.timestamp()
}

/// A list column's JSON text. Serializing strings and links cannot fail.
pub(super) fn json<T: serde::Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "[]".to_owned())
}

/// SHA-256 (hex) over what makes a post's content: title, url, authors, categories, HTML,
/// summary, published (whole seconds) and enclosures. Not over related links, `updated` or fetch
/// times, so a re-fetch of an unedited post hashes the same.
pub(super) fn content_hash(e: &Entry) -> String {
    // A JSON array is an unambiguous encoding of the fields (no concatenation collisions).
    let mut fields = serde_json::json!([
        "v1",
        e.title,
        e.url,
        e.authors,
        e.categories,
        e.content_html,
        e.summary,
        secs(e.published),
    ]);
    // Only when there are some: an entry without enclosures hashes as it did before they were
    // stored, so upgrading does not make every stored post an edit.
    if !e.enclosures.is_empty()
        && let Some(list) = fields.as_array_mut()
    {
        list.push(serde_json::json!(e.enclosures));
    }
    let digest = Sha256::digest(fields.to_string().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Record that `source` lists the entry `id` (a post may belong to several sources).
fn link_source(conn: &Connection, id: &str, source: &str) -> rusqlite::Result<()> {
    conn.prepare_cached("INSERT OR IGNORE INTO entry_sources (entry_id, source) VALUES (?1, ?2)")?
        .execute(params![id, source])
        .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str) -> Enclosure {
        Enclosure {
            url: format!("https://cdn.example.org/{name}.mp3"),
            media_type: None,
            length: None,
            title: None,
            duration_secs: None,
        }
    }

    /// One source's feed has the say on an entry's enclosures; another's list only fills an
    /// empty one, or one whose giver is not known or no longer configured.
    #[test]
    fn which_source_has_the_say_on_enclosures() {
        use EnclosureSay::{Given, Unsaid};
        let (a, b) = (vec![file("a")], vec![file("b")]);
        let live: HashSet<String> = ["pod".to_owned(), "blog".to_owned()].into();
        let after = |stored: &[Enclosure], owner, say, given: &[Enclosure], source| {
            enclosures_after(stored, owner, say, given, source, Some(&live))
        };
        let owned = |list: &[Enclosure], by: &str| (list.to_vec(), Some(by.to_owned()));
        let none = (Vec::new(), None);
        // The giver changes and withdraws them.
        assert_eq!(after(&a, Some("pod"), Given, &b, "pod"), owned(&b, "pod"));
        assert_eq!(after(&a, Some("pod"), Given, &[], "pod"), none);
        // Another source: its empty list or a new one leaves them; it fills an empty list.
        assert_eq!(after(&a, Some("pod"), Given, &[], "blog"), owned(&a, "pod"));
        assert_eq!(after(&a, Some("pod"), Given, &b, "blog"), owned(&a, "pod"));
        assert_eq!(after(&[], None, Given, &b, "blog"), owned(&b, "blog"));
        assert_eq!(after(&[], None, Given, &[], "blog"), none);
        // A giver not known (a store from before it was recorded) or no longer configured
        // gives way to the next source that gives some, not to one that gives none.
        assert_eq!(after(&a, None, Given, &b, "blog"), owned(&b, "blog"));
        assert_eq!(after(&a, None, Given, &[], "blog"), (a.clone(), None));
        assert_eq!(
            after(&a, Some("gone"), Given, &b, "blog"),
            owned(&b, "blog")
        );
        // A read that says nothing changes nothing, the giver's own included.
        assert_eq!(after(&a, Some("pod"), Unsaid, &[], "pod"), owned(&a, "pod"));
        assert_eq!(after(&[], None, Unsaid, &b, "pod"), none);
    }
}
