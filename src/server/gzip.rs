//! gzip copies of published files, kept in memory.
//!
//! Owns: compressing a file's content for its gzip representation once per version of the file
//! (its path and its unencoded `ETag`, which changes with its size or modification time), off
//! the async workers, and keeping those copies within a memory budget (quick_cache's
//! eviction: copies seldom asked for go first). Requests for a version being compressed wait for that one compression.
//! Must not: open files, choose a request's representation or build answers (that is
//! `server`).

use std::future::Future;
use std::io::{self, Write};
use std::path::PathBuf;

use axum::body::Bytes;
use flate2::Compression;
use flate2::write::GzEncoder;
use quick_cache::Weighter;
use quick_cache::sync::Cache;

/// The memory the compressed copies may take, together.
pub const BUDGET_BYTES: u64 = 32 * 1024 * 1024;

/// One version of one file: its path, and its `ETag` as the file server gives it.
type Key = (PathBuf, String);

/// An entry weighs what it holds.
#[derive(Clone)]
struct Size;

impl Weighter<Key, Bytes> for Size {
    fn weight(&self, key: &Key, value: &Bytes) -> u64 {
        (key.0.as_os_str().len() + key.1.len() + value.len()) as u64
    }
}

/// The compressed copies (see the module docs).
pub struct GzipCopies {
    cache: Cache<Key, Bytes, Size>,
}

impl GzipCopies {
    /// Copies taking at most `budget` bytes in all. One shard: a copy may take the whole
    /// budget, and a feed server's lookups are too few to contend.
    pub fn new(budget: u64) -> GzipCopies {
        let options = quick_cache::OptionsBuilder::new()
            .shards(1)
            .estimated_items_capacity(256)
            .weight_capacity(budget)
            .build()
            .unwrap_or_else(|_| unreachable!("the options are constant and valid"));
        GzipCopies {
            cache: Cache::with_options(
                options,
                Size,
                quick_cache::DefaultHashBuilder::default(),
                quick_cache::sync::DefaultLifecycle::default(),
            ),
        }
    }

    /// The gzip encoding of the version `etag` of the file at `path`, compressed from what
    /// `read` gives unless a copy is kept. The same version always gets the same bytes.
    pub async fn get(
        &self,
        path: PathBuf,
        etag: String,
        read: impl Future<Output = io::Result<Bytes>>,
    ) -> io::Result<Bytes> {
        self.cache
            .get_or_insert_async(&(path, etag), async {
                let plain = read.await?;
                tokio::task::spawn_blocking(move || gzip(&plain))
                    .await
                    .map_err(io::Error::other)?
            })
            .await
    }
}

/// `plain` gzip-encoded, at the default level, with no file name or time in its header.
fn gzip(plain: &[u8]) -> io::Result<Bytes> {
    let mut encoder = GzEncoder::new(Vec::with_capacity(plain.len() / 3), Compression::default());
    encoder.write_all(plain)?;
    encoder.finish().map(Bytes::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(
        text: &'static str,
        reads: &std::sync::atomic::AtomicUsize,
    ) -> impl Future<Output = io::Result<Bytes>> {
        reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        std::future::ready(Ok(Bytes::from_static(text.as_bytes())))
    }

    fn gunzip(bytes: &[u8]) -> String {
        let mut out = String::new();
        io::Read::read_to_string(&mut flate2::read::GzDecoder::new(bytes), &mut out).expect("gzip");
        out
    }

    /// A version is compressed once; another version of the file, or another file, again; and
    /// copies beyond the budget are dropped.
    #[tokio::test]
    async fn a_version_is_compressed_once_and_the_budget_holds() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let reads = AtomicUsize::new(0);
        let copies = GzipCopies::new(BUDGET_BYTES);
        let a = PathBuf::from("/out/a/atom.xml");
        let first = copies
            .get(a.clone(), "\"1\"".into(), read("<feed>one</feed>", &reads))
            .await
            .expect("gzip");
        assert_eq!(gunzip(&first), "<feed>one</feed>");
        let again = copies
            .get(a.clone(), "\"1\"".into(), async {
                Err(io::Error::other("not read again"))
            })
            .await
            .expect("kept");
        assert_eq!(again, first);
        let newer = copies
            .get(a.clone(), "\"2\"".into(), read("<feed>two</feed>", &reads))
            .await
            .expect("gzip");
        assert_eq!(gunzip(&newer), "<feed>two</feed>");
        assert_eq!(reads.load(Ordering::SeqCst), 2);

        // A budget of two and a half copies keeps two at most, and every answer is right.
        let one = Size.weight(
            &(a.clone(), "\"a\"".into()),
            &gzip(b"<feed>0</feed>").expect("gzip"),
        );
        let small = GzipCopies::new(2 * one + one / 2);
        for (n, etag) in ["\"a\"", "\"b\"", "\"a\"", "\"c\""].into_iter().enumerate() {
            let got = small
                .get(a.clone(), etag.into(), async move {
                    Ok(Bytes::from(format!("<feed>{etag}</feed>")))
                })
                .await
                .expect("gzip");
            assert_eq!(gunzip(&got), format!("<feed>{etag}</feed>"), "{n}");
        }
        assert!(small.cache.weight() <= small.cache.capacity());
        assert!(small.cache.len() <= 2, "{}", small.cache.len());
    }
}
