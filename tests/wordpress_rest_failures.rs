//! REST API reads that fail in part: a post that cannot be read is retried by id on later runs
//! until it succeeds, a page larger than `http.max_body_bytes` is read as smaller pages, and a
//! `Retry-After` date is waited for in full. Against a fixture site served over loopback HTTP.

mod common;

use std::time::{Duration, Instant, SystemTime};

use chrono::Utc;
use common::{Resp, Site};
use feedwright::config::HttpConfig;
use feedwright::source::http::{Fetcher, retry_after};
use url::Url;

/// An HTTP-date `Retry-After` less than a second away (the date has whole seconds, the clock
/// more) is a wait of one second, not none.
#[test]
fn a_retry_after_date_is_rounded_up_to_the_second() {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::RETRY_AFTER,
        "Mon, 01 Jan 2024 00:01:30 GMT".parse().unwrap(),
    );
    let at = |s: &str| {
        chrono::DateTime::parse_from_rfc3339(s)
            .unwrap()
            .with_timezone(&Utc)
    };
    assert_eq!(
        retry_after(&headers, at("2024-01-01T00:01:29.400Z")),
        Some(1)
    );
    assert_eq!(
        retry_after(&headers, at("2024-01-01T00:01:28.001Z")),
        Some(2)
    );
    assert_eq!(retry_after(&headers, at("2024-01-01T00:01:29Z")), Some(1));
    assert_eq!(retry_after(&headers, at("2024-01-01T00:01:30Z")), Some(0));
    assert_eq!(
        retry_after(&headers, at("2024-01-01T00:01:30.500Z")),
        Some(0)
    );
}

/// The same through a real request: the retry comes no sooner than the date the server gave.
#[test]
fn a_request_is_retried_no_sooner_than_a_retry_after_date() {
    let site = Site::start();
    // A date 1.7 s to 2 s away, so that truncating would retry after one second, too early.
    while SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .subsec_millis()
        > 300
    {
        std::thread::sleep(Duration::from_millis(10));
    }
    let (wall, mono) = (Utc::now(), Instant::now());
    let due = chrono::DateTime::from_timestamp(wall.timestamp() + 2, 0).unwrap();
    let due_at = mono + (due - wall).to_std().unwrap();
    site.set(
        "/busy/",
        Resp::Limited {
            times: 1,
            status: 503,
            retry_after: due.format("%a, %d %b %Y %H:%M:%S GMT").to_string(),
            then: Box::new(Resp::Html("<html><body>ok</body></html>".into())),
        },
    );
    let fetcher = Fetcher::new(&HttpConfig {
        min_interval_ms: 0,
        timeout_secs: 5,
        max_retries: 1,
        respect_robots: false,
        ..HttpConfig::default()
    })
    .expect("client")
    .with_retry_min_delay(Duration::from_millis(1));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let url = Url::parse(&site.url("/busy/")).unwrap();
    rt.block_on(fetcher.get(&url))
        .expect("answered after the wait");
    let hits = site.hits();
    assert_eq!(hits.len(), 2, "{hits:?}");
    assert!(
        hits[1].at >= due_at,
        "retried {:?} before the Retry-After date",
        due_at.duration_since(hits[1].at)
    );
}
