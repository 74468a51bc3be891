//! Related posts: fixed once per entry, when it is first stored, then kept.
//!
//! Owns: the ranking (the site's own related links that resolve to stored entries first, then
//! TF-IDF cosine similarity over title and body, boosted by shared categories) and
//! [`fix_related`], which stores the result through the store. Must not: fetch anything, read
//! the clock, or change which posts an entry's fixed links point at (feeds and digest must
//! agree, and published documents stay stable). A link's title and URL follow the linked entry
//! when it is edited; the store does that in the edit's transaction.

use std::collections::{HashMap, HashSet};

use chrono::{Datelike, IsoWeek};
use chrono_tz::Tz;

use crate::model::{Entry, EntryId, Link};
use crate::normalize::twin_key;
use crate::store::{Store, StoreError};

/// Weight of the title's words relative to the body's.
const TITLE_WEIGHT: f64 = 3.0;
/// Score added per shared category (case-insensitive), up to [`MAX_SHARED_CATEGORIES`].
const CATEGORY_BOOST: f64 = 0.1;
/// Shared categories beyond this many add nothing.
const MAX_SHARED_CATEGORIES: usize = 3;
/// Words too common to say anything about a post.
fn is_stop_word(w: &str) -> bool {
    matches!(
        w,
        "about"
            | "after"
            | "again"
            | "also"
            | "and"
            | "any"
            | "are"
            | "because"
            | "been"
            | "before"
            | "being"
            | "but"
            | "can"
            | "could"
            | "did"
            | "does"
            | "for"
            | "from"
            | "had"
            | "has"
            | "have"
            | "her"
            | "here"
            | "his"
            | "how"
            | "into"
            | "its"
            | "just"
            | "more"
            | "most"
            | "not"
            | "now"
            | "one"
            | "only"
            | "other"
            | "our"
            | "out"
            | "over"
            | "own"
            | "said"
            | "same"
            | "she"
            | "should"
            | "some"
            | "such"
            | "than"
            | "that"
            | "the"
            | "their"
            | "them"
            | "then"
            | "there"
            | "these"
            | "they"
            | "this"
            | "those"
            | "through"
            | "too"
            | "two"
            | "under"
            | "very"
            | "was"
            | "were"
            | "what"
            | "when"
            | "where"
            | "which"
            | "while"
            | "who"
            | "why"
            | "will"
            | "with"
            | "would"
            | "you"
            | "your"
    )
}

/// Compute and store the related links of each of `new_ids` that has none fixed yet, from the
/// entries stored now. Call it after a run has stored its entries, with the ids of the entries
/// that run inserted. Returns how many entries got their links fixed.
///
/// For each entry, at most `limit` links, in order:
/// 1. the site's own related links (`Entry::related` as extracted) that resolve to a stored
///    entry (twin-insensitive), in page order;
/// 2. computed ones from the same source: TF-IDF cosine similarity over title (weighted
///    ×3) and body text, plus 0.1 per shared category (at most 3), highest first, ties broken by
///    newer `published` then smaller id. The entry itself is never listed; entries stored in the
///    same batch or published in the same ISO week in `tz`, the digest's time zone (likely the
///    same digest issue), are used only when the others do not fill `limit`.
///
/// A link's title is the related entry's stored title and its URL the entry's URL. Once fixed
/// the links never point elsewhere (an entry whose links were fixed is skipped), so the feeds'
/// `related` links and the digest agree; when a related entry's title or URL is edited, the
/// store gives the links to it the new ones (`Store::upsert_entry`).
pub fn fix_related(
    store: &mut Store,
    new_ids: &[EntryId],
    limit: usize,
    tz: Tz,
) -> Result<usize, StoreError> {
    let mut todo = Vec::new();
    for id in new_ids {
        if !store.related_is_fixed(id)? && !todo.contains(id) {
            todo.push(id.clone());
        }
    }
    if todo.is_empty() {
        return Ok(0);
    }
    let computed = related_from_store(store, &todo, limit, tz)?;
    store.fix_entries_related(&computed)
}

/// The related links [`fix_related`] would store for each of `targets` (those stored), from
/// the entries stored now, without storing anything.
///
/// Most themes list enough related posts of their own: then the metadata is all it takes, and
/// no body is read. Otherwise every body is read once, one row at a time, into the similarity
/// index (the bodies themselves are not kept).
pub fn related_from_store(
    store: &Store,
    targets: &[EntryId],
    limit: usize,
    tz: Tz,
) -> Result<Vec<(EntryId, Vec<Link>)>, StoreError> {
    let sources = store.entry_sources()?;
    let light = store.entries_without_text(&sources)?;
    let corpus = Corpus::new(&light);
    if let Some(done) = corpus.links(targets, limit, tz, None) {
        return Ok(done);
    }
    let mut terms = Terms::new(corpus.entries.len());
    store.for_each_text(&sources, |id, title, html, summary| {
        if let Some(&i) = corpus.by_id.get(id) {
            terms.add(i, title, html, summary);
        }
    })?;
    let similarity = Similarity::new(&corpus, terms.finish());
    Ok(corpus
        .links(targets, limit, tz, Some(&similarity))
        .unwrap_or_default())
}

/// The related links [`fix_related`] would store for each of `targets` (those present in
/// `corpus`), without storing anything. Pure and deterministic: the order of `corpus` does not
/// matter.
pub fn compute_related(
    corpus: &[Entry],
    targets: &[EntryId],
    limit: usize,
    tz: Tz,
) -> Vec<(EntryId, Vec<Link>)> {
    let corpus = Corpus::new(corpus);
    corpus.links(targets, limit, tz, None).unwrap_or_else(|| {
        let mut terms = Terms::new(corpus.entries.len());
        for (i, e) in corpus.entries.iter().enumerate() {
            terms.add(i, &e.title, &e.content_html, &e.summary);
        }
        let similarity = Similarity::new(&corpus, terms.finish());
        corpus
            .links(targets, limit, tz, Some(&similarity))
            .unwrap_or_default()
    })
}

/// The entries related posts are chosen from, in id order (positions in it are what the
/// similarity index numbers), with the lookups the site's own links need.
struct Corpus<'a> {
    entries: Vec<&'a Entry>,
    /// Twin keys of each entry's URL and id.
    by_twin: HashMap<String, usize>,
    /// The first position of each id, as a linear search would find it.
    by_id: HashMap<&'a str, usize>,
}

impl<'a> Corpus<'a> {
    fn new(entries: &'a [Entry]) -> Corpus<'a> {
        let mut entries: Vec<&Entry> = entries.iter().collect();
        entries.sort_by(|a, b| a.id.cmp(&b.id));
        let by_twin = entries
            .iter()
            .enumerate()
            .flat_map(|(i, e)| [(twin_key(&e.url), i), (twin_key(&e.id.0), i)])
            .collect();
        let mut by_id = HashMap::with_capacity(entries.len());
        for (i, e) in entries.iter().enumerate() {
            by_id.entry(e.id.0.as_str()).or_insert(i);
        }
        Corpus {
            entries,
            by_twin,
            by_id,
        }
    }

    /// The links of each target (see [`fix_related`]). Without `similarity`, `None` as soon as
    /// some target's own links do not fill its list (the ranking needs the bodies).
    fn links(
        &self,
        targets: &[EntryId],
        limit: usize,
        tz: Tz,
        similarity: Option<&Similarity>,
    ) -> Option<Vec<(EntryId, Vec<Link>)>> {
        let corpus = &self.entries;
        // Built on first need: when the site's own links fill every target's list (the common
        // case on themes that render related posts server-side), nothing here is needed.
        let mut scratch: Option<(Scores, Vec<bool>, Vec<IsoWeek>)> = None;
        let mut out = Vec::new();
        for target in targets {
            let Some(&t) = self.by_id.get(target.0.as_str()) else {
                continue;
            };
            let entry = corpus[t];
            let mut chosen: Vec<usize> = Vec::new();
            for link in &entry.related {
                if chosen.len() >= limit {
                    break;
                }
                if let Some(&i) = self.by_twin.get(&twin_key(&link.url))
                    && i != t
                    && !chosen.contains(&i)
                {
                    chosen.push(i);
                }
            }
            if chosen.len() < limit {
                let similarity = similarity?;
                let (scores, in_batch, weeks) = scratch.get_or_insert_with(|| {
                    let batch: HashSet<&EntryId> = targets.iter().collect();
                    let in_batch = corpus.iter().map(|e| batch.contains(&e.id)).collect();
                    // Weeks as the digest counts them: in its time zone.
                    let weeks = corpus
                        .iter()
                        .map(|e| e.published.with_timezone(&tz).iso_week())
                        .collect();
                    (Scores::new(corpus.len()), in_batch, weeks)
                });
                // Every entry sharing a term or a category with the target; the others score
                // 0 and are never listed.
                scores.compute(similarity, t);
                let same_issue = |i: usize| in_batch[i] || weeks[i] == weeks[t];
                let (mut preferred, mut fallback) = (Vec::new(), Vec::new());
                for &i in &scores.touched {
                    let i = i as usize;
                    if i == t || chosen.contains(&i) || corpus[i].source != entry.source {
                        continue;
                    }
                    let s = scores.score(i);
                    if s > 0.0 {
                        if same_issue(i) {
                            fallback.push((i, s));
                        } else {
                            preferred.push((i, s));
                        }
                    }
                }
                scores.clear();
                // Highest score first, then newer, then smaller id (then corpus position, so
                // the order is total).
                let order = |&(a, sa): &(usize, f64), &(b, sb): &(usize, f64)| {
                    sb.total_cmp(&sa)
                        .then_with(|| corpus[b].published.cmp(&corpus[a].published))
                        .then_with(|| corpus[a].id.cmp(&corpus[b].id))
                        .then(a.cmp(&b))
                };
                for list in [&mut preferred, &mut fallback] {
                    let need = limit - chosen.len();
                    if need == 0 {
                        break;
                    }
                    if list.len() > need {
                        list.select_nth_unstable_by(need - 1, order);
                        list.truncate(need);
                    }
                    list.sort_by(order);
                    chosen.extend(list.iter().map(|&(i, _)| i));
                }
            }
            let links = chosen.into_iter().map(|i| link_to(corpus[i])).collect();
            out.push((target.clone(), links));
        }
        Some(out)
    }
}

/// A link to `e`: its stored URL and title.
fn link_to(e: &Entry) -> Link {
    Link {
        url: e.url.clone(),
        title: e.title.clone(),
    }
}

/// What similarity is computed from: the corpus's TF-IDF vectors and its categories, each also
/// listed the other way round (which entries have a term, which have a category), so scoring a
/// target touches only the entries it shares something with.
struct Similarity {
    tfidf: TfIdf,
    /// Each entry's categories (lower-cased, numbered, without repeats).
    categories: Vec<Vec<u32>>,
    /// For each category number, the entries that have it, in corpus order.
    by_category: Vec<Vec<u32>>,
}

impl Similarity {
    fn new(corpus: &Corpus, tfidf: TfIdf) -> Similarity {
        let mut numbers: HashMap<String, u32> = HashMap::new();
        let mut by_category: Vec<Vec<u32>> = Vec::new();
        let categories = corpus
            .entries
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let mut mine: Vec<u32> = e
                    .categories
                    .iter()
                    .map(|c| {
                        let next = numbers.len() as u32;
                        *numbers.entry(c.to_lowercase()).or_insert(next)
                    })
                    .collect();
                mine.sort_unstable();
                mine.dedup();
                for &c in &mine {
                    if by_category.len() <= c as usize {
                        by_category.resize_with(c as usize + 1, Vec::new);
                    }
                    by_category[c as usize].push(i as u32);
                }
                mine
            })
            .collect();
        Similarity {
            tfidf,
            categories,
            by_category,
        }
    }
}

/// One target's scores against the corpus, in buffers reused from target to target.
struct Scores {
    /// Cosine similarity with the target, summed in term order.
    cosine: Vec<f64>,
    /// Categories shared with the target.
    shared: Vec<u32>,
    /// Entries with a term or a category in common with the target, each once.
    touched: Vec<u32>,
    seen: Vec<bool>,
}

impl Scores {
    fn new(n: usize) -> Scores {
        Scores {
            cosine: vec![0.0; n],
            shared: vec![0; n],
            touched: Vec::new(),
            seen: vec![false; n],
        }
    }

    fn compute(&mut self, similarity: &Similarity, t: usize) {
        let tfidf = &similarity.tfidf;
        // The target's terms in term order: each entry's sum gets its products in the order
        // a merge of the two sorted vectors would add them.
        for (&term, &w) in tfidf.vector(t) {
            let (docs, weights) = tfidf.posting(term);
            for (&d, &w2) in docs.iter().zip(weights) {
                let d = d as usize;
                if !self.seen[d] {
                    self.seen[d] = true;
                    self.touched.push(d as u32);
                }
                self.cosine[d] += w * w2;
            }
        }
        for &c in &similarity.categories[t] {
            for &d in &similarity.by_category[c as usize] {
                let d = d as usize;
                if !self.seen[d] {
                    self.seen[d] = true;
                    self.touched.push(d as u32);
                }
                self.shared[d] += 1;
            }
        }
    }

    /// Cosine similarity plus the category boost.
    fn score(&self, i: usize) -> f64 {
        let shared = (self.shared[i] as usize).min(MAX_SHARED_CATEGORIES);
        self.cosine[i] + CATEGORY_BOOST * shared as f64
    }

    fn clear(&mut self) {
        for &d in &self.touched {
            let d = d as usize;
            self.cosine[d] = 0.0;
            self.shared[d] = 0;
            self.seen[d] = false;
        }
        self.touched.clear();
    }
}

/// Weighted term counts of the corpus's entries while they are read (title words count
/// [`TITLE_WEIGHT`] times), with terms numbered as first met.
struct Terms {
    numbers: HashMap<String, u32>,
    /// Per corpus position: (term number, weighted count), in no order. Counts are small whole
    /// numbers, exact in an `f32`.
    docs: Vec<Vec<(u32, f32)>>,
    /// Scratch: the entry being counted, and a word being lower-cased.
    counts: HashMap<u32, f32>,
    word: String,
}

impl Terms {
    fn new(n: usize) -> Terms {
        Terms {
            numbers: HashMap::new(),
            docs: vec![Vec::new(); n],
            counts: HashMap::new(),
            word: String::new(),
        }
    }

    /// Count the words of entry `pos`: its title and its body text (the summary when it has no
    /// body).
    fn add(&mut self, pos: usize, title: &str, html: &str, summary: &str) {
        let Terms {
            numbers,
            docs,
            counts,
            word,
        } = self;
        let mut count = |w: &str, weight: f32| {
            let n = match numbers.get(w) {
                Some(&n) => n,
                None => {
                    let next = numbers.len() as u32;
                    numbers.insert(w.to_owned(), next);
                    next
                }
            };
            *counts.entry(n).or_insert(0.0) += weight;
        };
        for_each_word(title, word, |w| count(w, TITLE_WEIGHT as f32));
        if html.is_empty() {
            for_each_word(summary, word, |w| count(w, 1.0));
        } else {
            for_each_word(&strip_tags(html), word, |w| count(w, 1.0));
        }
        docs[pos] = counts.drain().collect();
    }

    /// Unit-length TF-IDF vectors, terms renumbered in sorted order.
    fn finish(self) -> TfIdf {
        let Terms {
            numbers, mut docs, ..
        } = self;
        let mut sorted: Vec<(String, u32)> = numbers.into_iter().collect();
        sorted.sort_unstable();
        let mut rank = vec![0u32; sorted.len()];
        for (r, (_, first_met)) in sorted.iter().enumerate() {
            rank[*first_met as usize] = r as u32;
        }
        drop(sorted);
        let mut df = vec![0u32; rank.len()];
        for doc in &mut docs {
            for (term, _) in doc.iter_mut() {
                *term = rank[*term as usize];
                df[*term as usize] += 1;
            }
            doc.sort_unstable_by_key(|&(term, _)| term);
        }
        let n = docs.len() as f64;
        let mut starts = Vec::with_capacity(docs.len() + 1);
        let (mut terms, mut weights) = (Vec::new(), Vec::new());
        for doc in docs {
            starts.push(terms.len());
            let first = weights.len();
            for (term, tf) in doc {
                let d = f64::from(df[term as usize]);
                let idf = ((n + 1.0) / (d + 1.0)).ln() + 1.0;
                terms.push(term);
                weights.push((1.0 + f64::from(tf).ln()) * idf);
            }
            let v = &mut weights[first..];
            let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
            if norm > 0.0 {
                v.iter_mut().for_each(|x| *x /= norm);
            }
        }
        starts.push(terms.len());
        // The same weights listed per term, entries in corpus order.
        let mut posting_starts = Vec::with_capacity(df.len() + 1);
        let mut at = 0usize;
        for &d in &df {
            posting_starts.push(at);
            at += d as usize;
        }
        posting_starts.push(at);
        let mut fill = posting_starts.clone();
        let (mut posting_docs, mut posting_weights) = (vec![0u32; at], vec![0.0f64; at]);
        for doc in 0..starts.len() - 1 {
            for k in starts[doc]..starts[doc + 1] {
                let slot = &mut fill[terms[k] as usize];
                posting_docs[*slot] = doc as u32;
                posting_weights[*slot] = weights[k];
                *slot += 1;
            }
        }
        TfIdf {
            starts,
            terms,
            weights,
            posting_starts,
            posting_docs,
            posting_weights,
        }
    }
}

/// Unit-length TF-IDF vectors of a corpus, each sorted by term number (terms are numbered in
/// sorted order), so every entry's similarity sum runs in the same (term) order: deterministic.
/// Stored flat: entry `i`'s terms and weights are `starts[i]..starts[i + 1]`, and the entries
/// having term `t` (with their weights) are `posting_starts[t]..posting_starts[t + 1]`.
struct TfIdf {
    starts: Vec<usize>,
    terms: Vec<u32>,
    weights: Vec<f64>,
    posting_starts: Vec<usize>,
    posting_docs: Vec<u32>,
    posting_weights: Vec<f64>,
}

impl TfIdf {
    /// Entry `i`'s (term, weight) pairs in term order.
    fn vector(&self, i: usize) -> impl Iterator<Item = (&u32, &f64)> {
        let r = self.starts[i]..self.starts[i + 1];
        self.terms[r.clone()].iter().zip(&self.weights[r])
    }

    /// The entries having `term`, in corpus order, and their weights for it.
    fn posting(&self, term: u32) -> (&[u32], &[f64]) {
        let r = self.posting_starts[term as usize]..self.posting_starts[term as usize + 1];
        (&self.posting_docs[r.clone()], &self.posting_weights[r])
    }
}

/// Call `each` with the lower-cased words of `text` of at least three letters or digits, stop
/// words left out (`buf` is scratch space, so that an ASCII word costs no allocation).
fn for_each_word(text: &str, buf: &mut String, mut each: impl FnMut(&str)) {
    for w in text.split(|c: char| !c.is_alphanumeric()) {
        // A word of fewer than three bytes has fewer than three characters.
        if w.len() < 3 || (!w.is_ascii() && w.chars().count() < 3) {
            continue;
        }
        let lower: &str = if w.is_ascii() {
            buf.clear();
            buf.push_str(w);
            buf.make_ascii_lowercase();
            buf
        } else {
            // Not byte by byte: a final capital sigma lower-cases differently.
            *buf = w.to_lowercase();
            buf
        };
        if !is_stop_word(lower) {
            each(lower);
        }
    }
}

/// The text of sanitized HTML: tags dropped, the common entities decoded.
pub(crate) fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => {
                in_tag = true;
                out.push(' ');
            }
            '>' if in_tag => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    html_escape::decode_html_entities(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::DateSource;
    use chrono::{DateTime, Utc};
    use std::collections::BTreeMap;

    fn entry(slug: &str, date: &str, title: &str, body: &str, cats: &[&str]) -> Entry {
        let url = format!("https://example.org/{slug}/");
        let published: DateTime<Utc> = DateTime::parse_from_rfc3339(date)
            .expect("date")
            .with_timezone(&Utc);
        Entry {
            id: EntryId(url.clone()),
            dedup_key: format!("example.org/{slug}/"),
            source: "s".into(),
            url,
            title: title.into(),
            published,
            published_source: DateSource::Jsonld,
            updated: published,
            updated_source: DateSource::Jsonld,
            authors: vec![],
            categories: cats.iter().map(|c| c.to_string()).collect(),
            content_html: format!("<p>{body}</p>"),
            summary: String::new(),
            related: vec![],
            enclosures: Vec::new(),
        }
    }

    fn corpus() -> Vec<Entry> {
        vec![
            entry(
                "water",
                "2024-10-01T10:00:00Z",
                "Water treaties on shared rivers",
                "Upstream and downstream states negotiate water rights on the river basin.",
                &["Water"],
            ),
            entry(
                "river",
                "2024-09-01T10:00:00Z",
                "River basin negotiations",
                "A treaty over river water allocation between upstream states.",
                &["Water"],
            ),
            entry(
                "dams",
                "2024-08-01T10:00:00Z",
                "Dams and diplomacy",
                "Building dams upstream changes the water negotiation.",
                &["Infrastructure"],
            ),
            entry(
                "trade",
                "2024-07-01T10:00:00Z",
                "Tariffs in trade talks",
                "Trade negotiators bargain over tariffs and quotas.",
                &["Trade"],
            ),
            entry(
                "ceasefire",
                "2024-06-01T10:00:00Z",
                "Mediating a ceasefire",
                "Mediators shuttle between the parties to secure a ceasefire.",
                &["Mediation"],
            ),
        ]
    }

    fn titles(links: &[Link]) -> Vec<&str> {
        links.iter().map(|l| l.title.as_str()).collect()
    }

    #[test]
    fn ranks_by_text_similarity_and_never_lists_the_entry_itself() {
        let c = corpus();
        let got = compute_related(&c, &[c[0].id.clone()], 3, chrono_tz::UTC);
        assert_eq!(got.len(), 1);
        let t = titles(&got[0].1);
        assert_eq!(t[0], "River basin negotiations");
        assert_eq!(t[1], "Dams and diplomacy");
        assert!(!t.contains(&"Water treaties on shared rivers"));
        // Posts sharing no word and no category are not related at all.
        assert!(!t.contains(&"Mediating a ceasefire"));
    }

    /// "The same issue" is the same ISO week in the digest's time zone: a post from Sunday
    /// 23:00 in New York is in that week's issue there, though it is Monday in UTC.
    #[test]
    fn the_same_issue_is_the_same_week_in_the_digest_time_zone() {
        let c = vec![
            // Wednesday 2024-10-02 (week 40 everywhere).
            entry(
                "target",
                "2024-10-02T15:00:00Z",
                "Water treaties on shared rivers",
                "Upstream states negotiate water rights on the river basin.",
                &["Water"],
            ),
            // Sunday 2024-10-06 23:00 in New York: Monday 03:00 UTC, week 41 in UTC.
            entry(
                "sunday",
                "2024-10-07T03:00:00Z",
                "Water treaties on shared rivers, again",
                "Upstream states negotiate water rights on the river basin.",
                &["Water"],
            ),
            entry(
                "older",
                "2024-09-01T10:00:00Z",
                "River basin negotiations",
                "A treaty over the river basin.",
                &["Water"],
            ),
        ];
        let target = [c[0].id.clone()];
        let utc = compute_related(&c, &target, 1, chrono_tz::UTC);
        assert_eq!(
            titles(&utc[0].1),
            ["Water treaties on shared rivers, again"]
        );
        let ny = compute_related(&c, &target, 1, chrono_tz::America::New_York);
        assert_eq!(titles(&ny[0].1), ["River basin negotiations"]);
    }

    #[test]
    fn shared_categories_break_near_ties() {
        let mut c = corpus();
        // Same words as "dams", different category from the target.
        c.push(entry(
            "dams2",
            "2024-08-01T10:00:00Z",
            "Dams and diplomacy",
            "Building dams upstream changes the water negotiation.",
            &["Water"],
        ));
        let got = compute_related(&c, &[c[0].id.clone()], 3, chrono_tz::UTC);
        let urls: Vec<&str> = got[0].1.iter().map(|l| l.url.as_str()).collect();
        let pos = |u: &str| urls.iter().position(|x| *x == u);
        assert!(pos("https://example.org/dams2/") < pos("https://example.org/dams/"));
    }

    #[test]
    fn site_links_that_resolve_come_first() {
        let mut c = corpus();
        c[0].related = vec![
            // A twin of a stored entry (http, www., fragment): resolves to "trade".
            Link {
                url: "http://www.example.org/trade/#top".into(),
                title: "Trade".into(),
            },
            // Not stored: dropped.
            Link {
                url: "https://example.org/unknown/".into(),
                title: "Unknown".into(),
            },
        ];
        let got = compute_related(&c, &[c[0].id.clone()], 2, chrono_tz::UTC);
        assert_eq!(
            titles(&got[0].1),
            vec!["Tariffs in trade talks", "River basin negotiations"]
        );
        assert_eq!(got[0].1[0].url, "https://example.org/trade/");
    }

    #[test]
    fn own_links_are_resolved_from_metadata_alone_and_the_rest_asks_for_bodies() {
        let mut full = corpus();
        full[0].related = vec![
            Link {
                url: "http://www.example.org/trade/".into(),
                title: "Trade".into(),
            },
            Link {
                url: "https://example.org/ceasefire/".into(),
                title: "Ceasefire".into(),
            },
        ];
        let light: Vec<Entry> = full.iter().cloned().map(Entry::without_text).collect();
        let target = [full[0].id.clone()];
        // The site's two links fill a list of two: same answer without any body.
        assert_eq!(
            Corpus::new(&light).links(&target, 2, chrono_tz::UTC, None),
            Some(compute_related(&full, &target, 2, chrono_tz::UTC))
        );
        // A third place needs the similarity ranking, hence the bodies.
        assert_eq!(
            Corpus::new(&light).links(&target, 3, chrono_tz::UTC, None),
            None
        );
        let three = compute_related(&full, &target, 3, chrono_tz::UTC);
        assert_eq!(
            titles(&three[0].1),
            vec![
                "Tariffs in trade talks",
                "Mediating a ceasefire",
                "River basin negotiations"
            ]
        );
    }

    #[test]
    fn deterministic_whatever_the_corpus_order_and_respects_limit() {
        let c = corpus();
        let mut reversed = c.clone();
        reversed.reverse();
        let ids: Vec<EntryId> = c.iter().map(|e| e.id.clone()).collect();
        assert_eq!(
            compute_related(&c, &ids, 2, chrono_tz::UTC),
            compute_related(&reversed, &ids, 2, chrono_tz::UTC)
        );
        assert!(
            compute_related(&c, &ids, 2, chrono_tz::UTC)
                .iter()
                .all(|(_, l)| l.len() <= 2)
        );
        assert!(
            compute_related(&c, &ids, 0, chrono_tz::UTC)
                .iter()
                .all(|(_, l)| l.is_empty())
        );
    }

    #[test]
    fn same_batch_entries_are_used_only_to_fill_up() {
        let c = corpus();
        // "water" and "river" are stored in the same batch (the same issue): "river" is the
        // most similar, yet "dams" comes first and "river" only fills the remaining slot.
        let got = compute_related(&c, &[c[0].id.clone(), c[1].id.clone()], 2, chrono_tz::UTC);
        assert_eq!(
            titles(&got[0].1),
            vec!["Dams and diplomacy", "River basin negotiations"]
        );
    }

    /// Words as the ranking counts them, written the plain way.
    fn words(text: &str) -> impl Iterator<Item = String> + '_ {
        text.split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.chars().count() >= 3)
            .map(str::to_lowercase)
            .filter(|w| !is_stop_word(w))
    }

    proptest::proptest! {
        /// Mixed-case ASCII and non-ASCII text (a final sigma, Turkish dotted I, digits, two-
        /// letter words, stop words): the same words as the plain definition.
        #[test]
        fn words_are_counted_as_the_plain_definition_says(
            text in "(The|the|ΟΔΟΣ|İstanbul|ab|Ab1|x|Water|wäter|ñandú|ñú|42|and| |\\.|-){0,30}"
        ) {
            let mut got = Vec::new();
            for_each_word(&text, &mut String::new(), |w| got.push(w.to_owned()));
            proptest::prop_assert_eq!(got, words(&text).collect::<Vec<_>>());
        }
    }

    /// The ranking [`fix_related`] documents, written the plain way: every pair's cosine by
    /// merging two term maps, every candidate sorted. The index must give exactly its answer.
    fn reference(
        corpus: &[Entry],
        targets: &[EntryId],
        limit: usize,
        tz: Tz,
    ) -> Vec<(EntryId, Vec<Link>)> {
        let mut corpus: Vec<&Entry> = corpus.iter().collect();
        corpus.sort_by(|a, b| a.id.cmp(&b.id));
        let counts: Vec<BTreeMap<String, f64>> = corpus
            .iter()
            .map(|e| {
                let mut c = BTreeMap::new();
                for w in words(&e.title) {
                    *c.entry(w).or_insert(0.0) += TITLE_WEIGHT;
                }
                let body = if e.content_html.is_empty() {
                    e.summary.clone()
                } else {
                    strip_tags(&e.content_html)
                };
                for w in words(&body) {
                    *c.entry(w).or_insert(0.0) += 1.0;
                }
                c
            })
            .collect();
        let mut df: BTreeMap<&str, f64> = BTreeMap::new();
        for c in &counts {
            for t in c.keys() {
                *df.entry(t.as_str()).or_default() += 1.0;
            }
        }
        let n = corpus.len() as f64;
        let vectors: Vec<BTreeMap<&str, f64>> = counts
            .iter()
            .map(|c| {
                let mut v: BTreeMap<&str, f64> = c
                    .iter()
                    .map(|(t, &tf)| {
                        let idf = ((n + 1.0) / (df[t.as_str()] + 1.0)).ln() + 1.0;
                        (t.as_str(), (1.0 + tf.ln()) * idf)
                    })
                    .collect();
                let norm = v.values().map(|x| x * x).sum::<f64>().sqrt();
                if norm > 0.0 {
                    v.values_mut().for_each(|x| *x /= norm);
                }
                v
            })
            .collect();
        let cats: Vec<HashSet<String>> = corpus
            .iter()
            .map(|e| e.categories.iter().map(|c| c.to_lowercase()).collect())
            .collect();
        let mut out = Vec::new();
        for target in targets {
            let Some(t) = corpus.iter().position(|e| &e.id == target) else {
                continue;
            };
            let entry = corpus[t];
            let mut chosen: Vec<usize> = Vec::new();
            for link in &entry.related {
                let key = twin_key(&link.url);
                let found = corpus
                    .iter()
                    .position(|e| twin_key(&e.url) == key || twin_key(&e.id.0) == key);
                if chosen.len() < limit
                    && let Some(i) = found
                    && i != t
                    && !chosen.contains(&i)
                {
                    chosen.push(i);
                }
            }
            let mut scored: Vec<(usize, f64)> = (0..corpus.len())
                .filter(|&i| i != t && !chosen.contains(&i) && corpus[i].source == entry.source)
                .map(|i| {
                    let cosine: f64 = vectors[t]
                        .iter()
                        .filter_map(|(term, w)| vectors[i].get(term).map(|w2| w * w2))
                        .sum();
                    let shared = cats[t]
                        .intersection(&cats[i])
                        .count()
                        .min(MAX_SHARED_CATEGORIES);
                    (i, cosine + CATEGORY_BOOST * shared as f64)
                })
                .filter(|&(_, s)| s > 0.0)
                .collect();
            scored.sort_by(|&(a, sa), &(b, sb)| {
                sb.total_cmp(&sa)
                    .then_with(|| corpus[b].published.cmp(&corpus[a].published))
                    .then_with(|| corpus[a].id.cmp(&corpus[b].id))
            });
            let same_issue = |i: usize| {
                targets.contains(&corpus[i].id)
                    || corpus[i].published.with_timezone(&tz).iso_week()
                        == entry.published.with_timezone(&tz).iso_week()
            };
            let preferred = scored.iter().filter(|(i, _)| !same_issue(*i));
            let fallback = scored.iter().filter(|(i, _)| same_issue(*i));
            for &(i, _) in preferred.chain(fallback) {
                if chosen.len() < limit {
                    chosen.push(i);
                }
            }
            let links = chosen.into_iter().map(|i| link_to(corpus[i])).collect();
            out.push((target.clone(), links));
        }
        out
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 200, ..Default::default() })]

        /// Random small corpora (few words and categories, so that ties, shared weeks, two
        /// sources and own links all happen): the index gives the plain ranking's answer.
        #[test]
        fn the_index_ranks_exactly_as_the_plain_pairwise_ranking(
            posts in proptest::collection::vec(
                (
                    proptest::collection::vec(0usize..12, 0..6),
                    proptest::collection::vec(0usize..12, 0..25),
                    proptest::collection::vec(0usize..4, 0..3),
                    0i64..40,
                    0usize..2,
                    proptest::collection::vec(0usize..30, 0..3),
                ),
                1..30,
            ),
            targets in proptest::collection::vec(0usize..30, 1..8),
            limit in 0usize..5,
        ) {
            const WORDS: [&str; 12] = [
                "water", "river", "treaty", "trade", "tariff", "ceasefire", "mediator", "basin",
                "quota", "summit", "border", "Water",
            ];
            const CATS: [&str; 4] = ["Water", "water", "Trade", "Peace"];
            let n = posts.len();
            let corpus: Vec<Entry> = posts
                .iter()
                .enumerate()
                .map(|(i, (title, body, cats, day, source, related))| {
                    let words = |w: &[usize]| w.iter().map(|&k| WORDS[k]).collect::<Vec<_>>().join(" ");
                    let mut e = entry(
                        &format!("p{i}"),
                        "2024-01-01T10:00:00Z",
                        &words(title),
                        &words(body),
                        &cats.iter().map(|&c| CATS[c]).collect::<Vec<_>>(),
                    );
                    e.published += chrono::Duration::days(*day);
                    e.source = format!("s{source}");
                    if body.is_empty() {
                        e.content_html.clear();
                        e.summary = words(title);
                    }
                    e.related = related
                        .iter()
                        .map(|&k| Link {
                            url: format!("https://example.org/p{}/", k % (n + 2)),
                            title: String::new(),
                        })
                        .collect();
                    e
                })
                .collect();
            let targets: Vec<EntryId> = targets
                .iter()
                .map(|&k| corpus[k % n].id.clone())
                .fold(Vec::new(), |mut v, id| {
                    if !v.contains(&id) {
                        v.push(id);
                    }
                    v
                });
            proptest::prop_assert_eq!(
                compute_related(&corpus, &targets, limit, chrono_tz::UTC),
                reference(&corpus, &targets, limit, chrono_tz::UTC)
            );
        }
    }
}
