//! CPU-bound page work (parsing, extraction, normalization) off the async workers.
//!
//! Owns: the one gate every such job passes ([`blocking`]): the blocking pool, one job per core
//! at a time, so that a slow page never holds an async worker (a daemon's shutdown, the server
//! and the other fetches go on meanwhile). Must not: know what the work is.

/// Run page work on the blocking pool, at most one job per core at a time: more would only hold
/// more parsed pages in memory and switch between them, not finish sooner. A job that panicked
/// is an `Err` naming it, like any other failure of that page.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    static CORES: std::sync::LazyLock<tokio::sync::Semaphore> = std::sync::LazyLock::new(|| {
        let n = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        tokio::sync::Semaphore::new(n)
    });
    let _permit = CORES.acquire().await;
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| Err(format!("internal error while extracting: {e}")))
}
