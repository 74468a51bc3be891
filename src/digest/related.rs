//! Related posts: fixed once per entry, when it is first stored, then kept.
//!
//! Owns: the ranking (the site's own related links that resolve to stored entries first, then
//! TF-IDF cosine similarity over title and body, boosted by shared categories) and
//! [`fix_related`], which stores the result through the store. Must not: fetch anything, read
//! the clock, or change which posts an entry's fixed links point at (feeds and digest must
//! agree, and published documents stay stable). A link's title and URL follow the linked entry
//! when it is edited; the store does that in the edit's transaction.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::Datelike;

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
const STOPWORDS: &[&str] = &[
    "about", "after", "again", "also", "and", "any", "are", "because", "been", "before", "being",
    "but", "can", "could", "did", "does", "for", "from", "had", "has", "have", "her", "here",
    "his", "how", "into", "its", "just", "more", "most", "not", "now", "one", "only", "other",
    "our", "out", "over", "own", "said", "same", "she", "should", "some", "such", "than", "that",
    "the", "their", "them", "then", "there", "these", "they", "this", "those", "through", "too",
    "two", "under", "very", "was", "were", "what", "when", "where", "which", "while", "who", "why",
    "will", "with", "would", "you", "your",
];

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
///    same batch or published in the same ISO week (likely the same digest issue) are used only
///    when the others do not fill `limit`.
///
/// A link's title is the related entry's stored title and its URL the entry's URL. Once fixed
/// the links never point elsewhere (an entry whose links were fixed is skipped), so the feeds'
/// `related` links and the digest agree; when a related entry's title or URL is edited, the
/// store gives the links to it the new ones (`Store::upsert_entry`).
pub fn fix_related(
    store: &mut Store,
    new_ids: &[EntryId],
    limit: usize,
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
    let sources = store.entry_sources()?;
    // Most themes list enough related posts of their own: then the metadata is all it takes,
    // and no body is read.
    let light = store.entries_without_text(&sources)?;
    let computed = match links(&light, &todo, limit, false) {
        Some(computed) => computed,
        None => {
            drop(light);
            let corpus = store.entries(&sources, &[], usize::MAX)?;
            compute_related(&corpus, &todo, limit)
        }
    };
    store.fix_entries_related(&computed)
}

/// The related links [`fix_related`] would store for each of `targets` (those present in
/// `corpus`), without storing anything. Pure and deterministic: the order of `corpus` does not
/// matter.
pub fn compute_related(
    corpus: &[Entry],
    targets: &[EntryId],
    limit: usize,
) -> Vec<(EntryId, Vec<Link>)> {
    links(corpus, targets, limit, true).unwrap_or_default()
}

/// [`compute_related`]; with `similar = false`, `None` as soon as some target's own links do
/// not fill its list (the similarity ranking needs the bodies the corpus then lacks).
fn links(
    corpus: &[Entry],
    targets: &[EntryId],
    limit: usize,
    similar: bool,
) -> Option<Vec<(EntryId, Vec<Link>)>> {
    let mut corpus: Vec<&Entry> = corpus.iter().collect();
    corpus.sort_by(|a, b| a.id.cmp(&b.id));
    // Built on first need: when the site's own links fill every target's list (the common case
    // on themes that render related posts server-side), no similarity is computed at all.
    let mut similarity: Option<(TfIdf, Vec<HashSet<String>>)> = None;
    let by_twin: HashMap<String, usize> = corpus
        .iter()
        .enumerate()
        .flat_map(|(i, e)| [(twin_key(&e.url), i), (twin_key(&e.id.0), i)])
        .collect();
    // The first position of each id, as a linear search would find it.
    let mut by_id: HashMap<&EntryId, usize> = HashMap::with_capacity(corpus.len());
    for (i, e) in corpus.iter().enumerate() {
        by_id.entry(&e.id).or_insert(i);
    }
    let batch: HashSet<&EntryId> = targets.iter().collect();

    let mut out = Vec::new();
    for target in targets {
        let Some(&t) = by_id.get(target) else {
            continue;
        };
        let entry = corpus[t];
        let mut chosen: Vec<usize> = Vec::new();
        for link in &entry.related {
            if chosen.len() >= limit {
                break;
            }
            if let Some(&i) = by_twin.get(&twin_key(&link.url))
                && i != t
                && !chosen.contains(&i)
            {
                chosen.push(i);
            }
        }
        if chosen.len() < limit {
            if !similar {
                return None;
            }
            let (index, categories) =
                similarity.get_or_insert_with(|| (TfIdf::build(&corpus), category_sets(&corpus)));
            let mut scored: Vec<(usize, f64)> = (0..corpus.len())
                .filter(|&i| i != t && !chosen.contains(&i))
                .filter(|&i| corpus[i].source == entry.source)
                .map(|i| {
                    (
                        i,
                        index.cosine(t, i) + category_boost(&categories[t], &categories[i]),
                    )
                })
                .filter(|&(_, s)| s > 0.0)
                .collect();
            scored.sort_by(|&(a, sa), &(b, sb)| {
                sb.total_cmp(&sa)
                    .then_with(|| corpus[b].published.cmp(&corpus[a].published))
                    .then_with(|| corpus[a].id.cmp(&corpus[b].id))
            });
            let same_issue = |i: usize| {
                batch.contains(&corpus[i].id)
                    || corpus[i].published.iso_week() == entry.published.iso_week()
            };
            let preferred = scored.iter().filter(|(i, _)| !same_issue(*i));
            let fallback = scored.iter().filter(|(i, _)| same_issue(*i));
            for &(i, _) in preferred.chain(fallback) {
                if chosen.len() >= limit {
                    break;
                }
                chosen.push(i);
            }
        }
        let links = chosen
            .into_iter()
            .map(|i| Link {
                url: corpus[i].url.clone(),
                title: corpus[i].title.clone(),
            })
            .collect();
        out.push((target.clone(), links));
    }
    Some(out)
}

fn category_boost(a: &HashSet<String>, b: &HashSet<String>) -> f64 {
    CATEGORY_BOOST * a.intersection(b).count().min(MAX_SHARED_CATEGORIES) as f64
}

/// Each entry's categories, lower-cased, once.
fn category_sets(corpus: &[&Entry]) -> Vec<HashSet<String>> {
    corpus
        .iter()
        .map(|e| e.categories.iter().map(|c| c.to_lowercase()).collect())
        .collect()
}

/// Unit-length TF-IDF vectors of a corpus. Terms are numbered in sorted order and each vector
/// is sorted by term number, so a dot product is a merge of two sorted lists and sums always run
/// in the same (term) order: deterministic and cheap for the all-pairs pass.
struct TfIdf {
    vectors: Vec<Vec<(u32, f64)>>,
}

impl TfIdf {
    fn build(corpus: &[&Entry]) -> TfIdf {
        let counts: Vec<BTreeMap<String, f64>> = corpus.iter().map(|e| term_counts(e)).collect();
        let mut df: BTreeMap<&str, usize> = BTreeMap::new();
        for c in &counts {
            for term in c.keys() {
                *df.entry(term.as_str()).or_default() += 1;
            }
        }
        let ids: HashMap<&str, u32> = df.keys().enumerate().map(|(i, t)| (*t, i as u32)).collect();
        let n = corpus.len() as f64;
        let vectors = counts
            .iter()
            .map(|c| {
                // BTreeMap order is term order, which is id order.
                let mut v: Vec<(u32, f64)> = c
                    .iter()
                    .map(|(term, &tf)| {
                        let d = df.get(term.as_str()).copied().unwrap_or(1) as f64;
                        let idf = ((n + 1.0) / (d + 1.0)).ln() + 1.0;
                        (ids[term.as_str()], (1.0 + tf.ln()) * idf)
                    })
                    .collect();
                let norm = v.iter().map(|(_, x)| x * x).sum::<f64>().sqrt();
                if norm > 0.0 {
                    v.iter_mut().for_each(|(_, x)| *x /= norm);
                }
                v
            })
            .collect();
        TfIdf { vectors }
    }

    fn cosine(&self, a: usize, b: usize) -> f64 {
        let (va, vb) = (&self.vectors[a], &self.vectors[b]);
        let (mut i, mut j, mut sum) = (0, 0, 0.0);
        while i < va.len() && j < vb.len() {
            match va[i].0.cmp(&vb[j].0) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    sum += va[i].1 * vb[j].1;
                    i += 1;
                    j += 1;
                }
            }
        }
        sum
    }
}

/// Weighted term counts of an entry: title words count [`TITLE_WEIGHT`] times.
fn term_counts(e: &Entry) -> BTreeMap<String, f64> {
    let mut counts = BTreeMap::new();
    for w in words(&e.title) {
        *counts.entry(w).or_insert(0.0) += TITLE_WEIGHT;
    }
    let body = if e.content_html.is_empty() {
        e.summary.clone()
    } else {
        strip_tags(&e.content_html)
    };
    for w in words(&body) {
        *counts.entry(w).or_insert(0.0) += 1.0;
    }
    counts
}

/// Lower-cased words of at least three letters or digits, without stop words.
fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 3)
        .map(str::to_lowercase)
        .filter(|w| !STOPWORDS.contains(&w.as_str()))
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
        let got = compute_related(&c, &[c[0].id.clone()], 3);
        assert_eq!(got.len(), 1);
        let t = titles(&got[0].1);
        assert_eq!(t[0], "River basin negotiations");
        assert_eq!(t[1], "Dams and diplomacy");
        assert!(!t.contains(&"Water treaties on shared rivers"));
        // Posts sharing no word and no category are not related at all.
        assert!(!t.contains(&"Mediating a ceasefire"));
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
        let got = compute_related(&c, &[c[0].id.clone()], 3);
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
        let got = compute_related(&c, &[c[0].id.clone()], 2);
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
            links(&light, &target, 2, false),
            Some(compute_related(&full, &target, 2))
        );
        // A third place needs the similarity ranking, hence the bodies.
        assert_eq!(links(&light, &target, 3, false), None);
        let three = compute_related(&full, &target, 3);
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
            compute_related(&c, &ids, 2),
            compute_related(&reversed, &ids, 2)
        );
        assert!(
            compute_related(&c, &ids, 2)
                .iter()
                .all(|(_, l)| l.len() <= 2)
        );
        assert!(
            compute_related(&c, &ids, 0)
                .iter()
                .all(|(_, l)| l.is_empty())
        );
    }

    #[test]
    fn same_batch_entries_are_used_only_to_fill_up() {
        let c = corpus();
        // "water" and "river" are stored in the same batch (the same issue): "river" is the
        // most similar, yet "dams" comes first and "river" only fills the remaining slot.
        let got = compute_related(&c, &[c[0].id.clone(), c[1].id.clone()], 2);
        assert_eq!(
            titles(&got[0].1),
            vec!["Dams and diplomacy", "River basin negotiations"]
        );
    }
}
