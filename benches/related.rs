//! The CPU of computing related posts for a whole store at once, as a first run over a large
//! archive does when the site lists no related posts of its own (the motivating site's related
//! block is filled in the browser, so a plain fetch gets none).
//!
//! Builds `N` synthetic entries (deterministic: word frequencies follow Zipf's law over a
//! vocabulary of made-up words, as real text does; 600 words of body, a 7-word title and two of
//! eight categories each) and times `digest::related::compute_related` for every one of them,
//! one thread, best of `ROUNDS`.
//!
//! Usage (`benches/README.md`):
//!
//! ```text
//! cargo bench --bench related -- [N] [ROUNDS]      # defaults: 5000 entries, 3 rounds
//! ```

use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use feedwright::digest::related::compute_related;
use feedwright::model::{DateSource, Entry, EntryId};

/// Words in the made-up vocabulary.
const VOCABULARY: usize = 30_000;
const BODY_WORDS: usize = 600;
const TITLE_WORDS: usize = 7;
const CATEGORIES: [&str; 8] = [
    "Negotiation",
    "Mediation",
    "Trade",
    "Climate",
    "Security",
    "Water",
    "Business",
    "Leadership",
];

/// A small deterministic generator (xorshift64*): the same corpus on every run and machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The `i`-th made-up word: `qz` and then `i` in base 26 as letters, so at least three
/// letters, and distinct.
fn word(i: usize) -> String {
    let mut s = String::from("qz");
    let mut n = i;
    loop {
        s.push((b'a' + (n % 26) as u8) as char);
        n /= 26;
        if n == 0 {
            break s;
        }
    }
}

fn corpus(n: usize) -> Vec<Entry> {
    let words: Vec<String> = (0..VOCABULARY).map(word).collect();
    // Zipf's law (exponent 1): the cumulative weights, for drawing a word by binary search.
    let mut cumulative = Vec::with_capacity(VOCABULARY);
    let mut total = 0.0;
    for rank in 1..=VOCABULARY {
        total += 1.0 / rank as f64;
        cumulative.push(total);
    }
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let draw = |rng: &mut Rng| {
        let x = rng.unit() * total;
        &words[cumulative.partition_point(|&c| c < x).min(VOCABULARY - 1)]
    };
    let start: DateTime<Utc> = Utc.with_ymd_and_hms(2015, 1, 1, 9, 0, 0).unwrap();
    (0..n)
        .map(|i| {
            let title: Vec<&str> = (0..TITLE_WORDS).map(|_| draw(&mut rng).as_str()).collect();
            let body: Vec<&str> = (0..BODY_WORDS).map(|_| draw(&mut rng).as_str()).collect();
            let first = rng.next() as usize % CATEGORIES.len();
            let second =
                (first + 1 + rng.next() as usize % (CATEGORIES.len() - 1)) % CATEGORIES.len();
            let url = format!("https://example.org/{i}/");
            let published = start + chrono::Duration::hours(13 * i as i64);
            Entry {
                id: EntryId(url.clone()),
                dedup_key: format!("example.org/{i}/"),
                source: "site".into(),
                url,
                title: title.join(" "),
                published,
                published_source: DateSource::Jsonld,
                updated: published,
                updated_source: DateSource::Jsonld,
                authors: vec![],
                categories: vec![CATEGORIES[first].into(), CATEGORIES[second].into()],
                content_html: format!("<p>{}</p>", body.join(" ")),
                summary: String::new(),
                related: vec![],
                enclosures: Vec::new(),
            }
        })
        .collect()
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing of ours.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let n: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(5000);
    let rounds: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(3);
    if std::env::args().all(|a| a != "--bench") {
        // Under `cargo test --benches`: show that it starts, on a corpus too small to time.
        let c = corpus(50);
        let ids: Vec<EntryId> = c.iter().map(|e| e.id.clone()).collect();
        assert_eq!(compute_related(&c, &ids, 3, chrono_tz::UTC).len(), 50);
        return;
    }
    let c = corpus(n);
    let ids: Vec<EntryId> = c.iter().map(|e| e.id.clone()).collect();
    let mut best = Duration::MAX;
    let mut filled = 0;
    for _ in 0..rounds.max(1) {
        let t = Instant::now();
        let got = compute_related(&c, &ids, 3, chrono_tz::UTC);
        best = best.min(t.elapsed());
        filled = got.iter().filter(|(_, links)| links.len() == 3).count();
    }
    println!(
        "related posts for {n} entries (all new at once): best of {rounds}: {:.2} s, {:.2} ms per entry; {filled} of {n} got 3 links",
        best.as_secs_f64(),
        best.as_secs_f64() * 1000.0 / n as f64
    );
}
