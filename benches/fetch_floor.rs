//! The floor for any scraper built on the crates feedwright is built on: download a list of
//! URLs with reqwest (over tokio, as many requests at once as the benchmark's curl floor) and
//! parse every page with scraper, doing nothing else: no extraction, sanitizing, storing or
//! publishing. `benches/run_bench.sh` times it beside `feedwright run` and `curl`, so the
//! report shows how much of a cold run is the download and parse that these crates must do,
//! and how much is feedwright's own work.
//!
//! It is given the URL list up front (as curl is), so unlike a scraper it does not have to
//! discover the post pages from the listing pages first.
//!
//! ```text
//! cargo bench --bench fetch_floor -- URL_LIST [CONCURRENCY]
//! ```
//!
//! `URL_LIST` holds one URL per line; `CONCURRENCY` defaults to 8, as in `run_bench.sh`. Prints
//! the pages and bytes it got, the elements it parsed and the time; exits 1 if any request
//! failed. `run_bench.sh` runs the built executable itself, so cargo's own start-up is not
//! timed.

use std::time::Instant;

use futures_util::{FutureExt, StreamExt};

/// The allocator the `feedwright` binary uses, with the same setting (src/main.rs), so the two
/// are compared on equal terms.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let all: Vec<String> = std::env::args().skip(1).collect();
    // `cargo bench` passes `--bench`; `cargo test --benches` starts the target without it.
    let benching = all.iter().any(|a| a == "--bench");
    let args: Vec<String> = all.into_iter().filter(|a| a != "--bench").collect();
    let Some(list) = args.first() else {
        eprintln!("usage: cargo bench --bench fetch_floor -- URL_LIST [CONCURRENCY]");
        std::process::exit(if benching { 2 } else { 0 });
    };
    let concurrency: usize = match args.get(1).map(|c| c.parse()) {
        None => 8,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            eprintln!("CONCURRENCY must be a positive integer");
            std::process::exit(2);
        }
    };
    let text = std::fs::read_to_string(list).unwrap_or_else(|e| {
        eprintln!("cannot read {list}: {e}");
        std::process::exit(2);
    });
    let urls: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    // SAFETY: a plain store into mimalloc's option table, before this process starts any other
    // thread. 15 is the purge delay (src/main.rs says why it is set, and tests the index).
    unsafe { libmimalloc_sys::mi_option_set_default(15, 0) };

    let start = Instant::now();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let results = runtime.block_on(download_and_parse(&urls, concurrency));
    let mut pages = 0usize;
    let mut bytes = 0usize;
    let mut elements = 0usize;
    let mut failed = 0usize;
    for (url, result) in urls.iter().zip(results) {
        match result {
            Ok((b, n)) => {
                pages += 1;
                bytes += b;
                elements += n;
            }
            Err(e) => {
                failed += 1;
                eprintln!("{url}: {e}");
            }
        }
    }
    println!(
        "{pages} pages, {:.1} MB, {elements} elements parsed, {failed} failed, in {:.3} s",
        bytes as f64 / 1e6,
        start.elapsed().as_secs_f64()
    );
    if failed > 0 {
        std::process::exit(1);
    }
}

/// What one URL gave: its body's length and the number of elements parsed, or why it failed.
type Got = Result<(usize, usize), String>;

/// Every URL fetched (at most `concurrency` at once, a new one started as soon as any ends) and
/// its body parsed on the blocking pool, as feedwright does; per URL, the body's length and the
/// number of elements, in list order.
async fn download_and_parse(urls: &[String], concurrency: usize) -> Vec<Got> {
    let client = reqwest::Client::builder()
        .user_agent("feedwright-fetch-floor/0.1")
        .gzip(true)
        .brotli(true)
        .build()
        .expect("HTTP client");
    let mut results: Vec<(usize, Got)> =
        futures_util::stream::iter(urls.iter().enumerate().map(|(i, url)| {
            let client = client.clone();
            async move {
                let resp = client.get(url).send().await.map_err(|e| e.to_string())?;
                let resp = resp.error_for_status().map_err(|e| e.to_string())?;
                let body = resp.text().await.map_err(|e| e.to_string())?;
                let len = body.len();
                let elements = tokio::task::spawn_blocking(move || {
                    scraper::Html::parse_document(&body)
                        .tree
                        .values()
                        .filter(|n| n.is_element())
                        .count()
                })
                .await
                .map_err(|e| e.to_string())?;
                Ok((len, elements))
            }
            .map(move |r| (i, r))
        }))
        .buffer_unordered(concurrency)
        .collect()
        .await;
    results.sort_unstable_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}
