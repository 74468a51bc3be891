//! Extraction over real saved pages (see the README next to each corpus under
//! `tests/fixtures/corpus/` for origin and license).
//!
//! The expected values come from other tools, so every check reports how many pages match and
//! requires a high but not perfect share; the failure message lists every mismatch.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};
use feedwright::config::Selectors;
use feedwright::extract::extract_post;
use feedwright::model::{RawPage, RawPost};
use url::Url;

fn corpus_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/corpus")
        .join(name)
}

fn raw_page(url: &str, body: String) -> RawPage {
    let url = Url::parse(url).expect("corpus URL");
    RawPage {
        requested_url: url.clone(),
        url,
        content_type: Some("text/html".into()),
        body,
        fetched_at: Utc.with_ymd_and_hms(2024, 7, 1, 0, 0, 0).unwrap(),
    }
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Tally of one kind of check.
#[derive(Default)]
struct Score {
    checked: usize,
    matched: usize,
    mismatches: Vec<String>,
}

impl Score {
    fn record(&mut self, ok: bool, what: impl FnOnce() -> String) {
        self.checked += 1;
        if ok {
            self.matched += 1;
        } else {
            self.mismatches.push(what());
        }
    }

    /// Require at least `min_matched` of the checks to pass, and at least `min_checked` checks.
    fn require(&self, name: &str, min_checked: usize, min_matched: usize) {
        eprintln!("{name}: {}/{} match", self.matched, self.checked);
        assert!(
            self.checked >= min_checked && self.matched >= min_matched,
            "{name}: {}/{} matched (need {min_matched} of at least {min_checked}); mismatches:\n{}",
            self.matched,
            self.checked,
            self.mismatches.join("\n")
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Readability test pages: title, byline, published time

const SEPARATORS: [&str; 5] = [" – ", " - ", " | ", " · ", " — "];

/// `got` equals `expected`, or `expected` minus a trailing " <sep> Site" segment.
fn title_matches(got: &str, expected: &str) -> bool {
    let (got, expected) = (collapse(got), collapse(expected));
    if got == expected {
        return true;
    }
    SEPARATORS.iter().any(|sep| {
        expected
            .rfind(sep)
            .is_some_and(|i| expected[..i].trim() == got)
    })
}

/// The expected byline as a bare name, when it is one (no dates, URLs or decorations).
fn clean_expected_byline(raw: &str) -> Option<String> {
    let s = collapse(raw);
    let s = s
        .strip_prefix("By ")
        .or_else(|| s.strip_prefix("by "))
        .unwrap_or(&s)
        .trim()
        .to_string();
    let clean = !s.is_empty()
        && s.split_whitespace().count() <= 4
        && !s
            .chars()
            .any(|c| c.is_ascii_digit() || c == '(' || c == ':');
    clean.then_some(s)
}

/// A parsed timestamp: an instant when the text has an offset, else a local date-time or date.
#[derive(Debug, Clone, Copy, PartialEq)]
enum When {
    Instant(DateTime<FixedOffset>),
    Local(NaiveDateTime),
    Day(NaiveDate),
}

fn parse_when(s: &str) -> Option<When> {
    let s = s.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(When::Instant(d));
    }
    for f in [
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%dT%H:%M:%S%z",
        "%Y-%m-%dT%H:%M%z",
    ] {
        if let Ok(d) = DateTime::parse_from_str(s, f) {
            return Some(When::Instant(d));
        }
    }
    if let Ok(d) = DateTime::parse_from_rfc2822(s) {
        return Some(When::Instant(d));
    }
    for f in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(d) = NaiveDateTime::parse_from_str(s, f) {
            return Some(When::Local(d));
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok().map(When::Day)
}

/// Same moment: instants compare in UTC; a local or date-only expectation compares the
/// candidate's own wall-clock time or date.
fn same_time(got: When, expected: When) -> bool {
    let local = |w: When| match w {
        When::Instant(d) => d.naive_local(),
        When::Local(d) => d,
        When::Day(d) => d.and_hms_opt(0, 0, 0).unwrap_or_default(),
    };
    match (got, expected) {
        (When::Instant(a), When::Instant(b)) => a == b,
        (g, When::Day(d)) => local(g).date() == d,
        (g, e) => local(g) == local(e),
    }
}

struct Expected {
    title: Option<String>,
    byline: Option<String>,
    published: Option<String>,
}

fn expected_metadata(dir: &Path) -> Expected {
    let text = std::fs::read_to_string(dir.join("expected-metadata.json")).expect("metadata");
    let v: serde_json::Value = serde_json::from_str(&text).expect("metadata JSON");
    let field = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
    Expected {
        title: field("title"),
        byline: field("byline"),
        published: field("publishedTime"),
    }
}

fn readability_pages() -> Vec<(String, RawPost, Expected)> {
    let root = corpus_dir("readability");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("readability corpus")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("source.html").is_file())
        .collect();
    dirs.sort();
    dirs.into_iter()
        .map(|dir| {
            let name = dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let body = std::fs::read_to_string(dir.join("source.html")).expect("source.html");
            let page = raw_page("http://fakehost/test/page.html", body);
            let post = extract_post(&page, &Selectors::default())
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            (name, post, expected_metadata(&dir))
        })
        .collect()
}

#[test]
fn readability_pages_titles_bylines_and_dates() {
    let pages = readability_pages();
    assert_eq!(pages.len(), 18, "corpus pages present");
    let (mut titles, mut bylines, mut dates) =
        (Score::default(), Score::default(), Score::default());
    for (name, post, exp) in &pages {
        if let Some(t) = &exp.title {
            let got = post.title.clone().unwrap_or_default();
            titles.record(title_matches(&got, t), || {
                format!("  {name}: title {got:?}, expected {t:?}")
            });
        }
        if let Some(b) = exp.byline.as_deref().and_then(clean_expected_byline) {
            let ok = post.authors.iter().any(|a| a.eq_ignore_ascii_case(&b));
            bylines.record(ok, || {
                format!("  {name}: authors {:?}, expected {b:?}", post.authors)
            });
        }
        if let Some(expected) = exp.published.as_deref().and_then(parse_when) {
            // What normalize will use: the first candidate that parses.
            let first = post.published.iter().find_map(|d| parse_when(&d.value));
            let ok = first.is_some_and(|g| same_time(g, expected));
            dates.record(ok, || {
                format!(
                    "  {name}: published {:?}, expected {:?}",
                    post.published, exp.published
                )
            });
        }
    }
    titles.require("titles", 18, 17);
    bylines.require("bylines", 9, 8);
    dates.require("published dates", 10, 9);
}

#[test]
fn readability_pages_have_a_body() {
    let missing: Vec<String> = readability_pages()
        .into_iter()
        .filter(|(_, p, _)| p.body_html.as_deref().is_none_or(|b| b.len() < 500))
        .map(|(name, _, _)| name)
        .collect();
    assert!(missing.is_empty(), "no or tiny body: {missing:?}");
}

// ---------------------------------------------------------------------------------------------
// Article extraction benchmark: WordPress pages, body text

/// Visible text of an HTML fragment, roughly: tags dropped, entities decoded, whitespace
/// collapsed.
fn html_text(html: &str) -> String {
    let frag = scraper::Html::parse_fragment(html);
    let text: Vec<&str> = frag.root_element().text().collect();
    collapse(&text.join(" "))
}

/// The first sentence of the ground truth (at most 120 characters of it, cut at a word).
fn first_sentence(body: &str) -> String {
    let first_para = body
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    let end = first_para
        .char_indices()
        .find(|&(i, c)| matches!(c, '.' | '!' | '?') && i > 20)
        .map_or(first_para.len(), |(i, _)| i);
    let mut s = collapse(&first_para[..end]);
    if s.chars().count() > 120 {
        let cut: String = s.chars().take(120).collect();
        s = cut
            .rsplit_once(' ')
            .map_or(cut.clone(), |(a, _)| a.to_string());
    }
    s
}

/// Compare text loosely: quotes and dashes unified, whitespace collapsed.
fn loose(s: &str) -> String {
    let unified: String = s
        .chars()
        .map(|c| match c {
            '\u{2018}' | '\u{2019}' | '\u{201b}' | '\u{2032}' => '\'',
            '\u{201c}' | '\u{201d}' | '\u{201e}' | '\u{2033}' => '"',
            '\u{2013}' | '\u{2014}' => '-',
            '\u{a0}' => ' ',
            c => c,
        })
        .collect();
    collapse(&unified)
}

#[test]
fn benchmark_wordpress_bodies_contain_the_first_sentence() {
    let root = corpus_dir("article-extraction");
    let truth: BTreeMap<String, serde_json::Value> = serde_json::from_str(
        &std::fs::read_to_string(root.join("ground-truth.json")).expect("ground truth"),
    )
    .expect("ground truth JSON");
    let mut score = Score::default();
    for (id, entry) in &truth {
        let url = entry["url"].as_str().expect("url");
        let expected = first_sentence(entry["articleBody"].as_str().expect("articleBody"));
        let gz = std::fs::read(root.join(format!("{id}.html.gz"))).expect("page");
        let mut html = String::new();
        flate2::read::GzDecoder::new(gz.as_slice())
            .read_to_string(&mut html)
            .expect("gzip UTF-8 page");
        let result = extract_post(&raw_page(url, html), &Selectors::default());
        let text = result
            .as_ref()
            .ok()
            .and_then(|p| p.body_html.as_deref())
            .map(html_text)
            .unwrap_or_default();
        score.record(loose(&text).contains(&loose(&expected)), || {
            let start: String = text.chars().take(160).collect();
            format!("  {url}: body starts {start:?}; expected to contain {expected:?}")
        });
    }
    score.require("benchmark bodies", 15, 13);
}
