//! WebSub publishing (<https://www.w3.org/TR/websub/#publishing>): telling the configured hub
//! that a feed changed, so it pushes the new version to subscribers at once.
//!
//! Owns: the publish ping (`POST hub.mode=publish&hub.url=<topic>`, form-encoded), its retries
//! with exponential backoff, and the verdict on the hub's answer. Must not: decide which topics
//! changed, touch the store or the files (the pipeline pings only after a file is on disk and
//! keeps the pings still owed), or speak to any other host than the hub.

use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};

use crate::config::WebSubConfig;

/// Delay before the second attempt; it doubles for each further one.
const FIRST_RETRY_DELAY: Duration = Duration::from_millis(500);

/// Why a ping did not go through.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PingError {
    /// The hub could not be reached, timed out, or answered 408, 429 or 5xx: worth retrying
    /// later.
    #[error("hub {hub} did not accept the ping for {topic}: {reason}")]
    Transient {
        hub: String,
        topic: String,
        reason: String,
    },
    /// The hub refused the ping (another 4xx, or a redirect): retrying will not help.
    #[error("hub {hub} refused the ping for {topic}: {reason}")]
    Refused {
        hub: String,
        topic: String,
        reason: String,
    },
}

/// A client for the hub of `[websub]`.
#[derive(Debug, Clone)]
pub struct Hub {
    client: reqwest::Client,
    url: String,
    attempts: u32,
}

impl Hub {
    /// A client with `user_agent`, the configured per-ping timeout and no redirects (a hub that
    /// redirects a POST is misconfigured; the ping is reported instead of silently re-sent).
    pub fn new(cfg: &WebSubConfig, user_agent: &str) -> Result<Hub, String> {
        let client = reqwest::Client::builder()
            .user_agent(user_agent)
            .timeout(Duration::from_secs(cfg.timeout_secs))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("websub.hub: cannot build an HTTP client: {e}"))?;
        Ok(Hub {
            client,
            url: cfg.hub.clone(),
            attempts: cfg.attempts.max(1),
        })
    }

    /// The hub's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Ping the hub for `topic`, retrying transient failures up to the configured number of
    /// attempts; each failed attempt is logged.
    pub async fn publish(&self, topic: &str) -> Result<(), PingError> {
        let once = || self.publish_once(topic);
        once.retry(
            ExponentialBuilder::default()
                .with_min_delay(FIRST_RETRY_DELAY)
                .with_max_delay(Duration::from_secs(30))
                .with_max_times(self.attempts as usize - 1)
                .with_jitter(),
        )
        .sleep(tokio::time::sleep)
        .when(|e: &PingError| matches!(e, PingError::Transient { .. }))
        .notify(|e: &PingError, wait| {
            tracing::warn!("{e}; retrying in {} ms", wait.as_millis());
        })
        .await
    }

    async fn publish_once(&self, topic: &str) -> Result<(), PingError> {
        let transient = |reason: String| PingError::Transient {
            hub: self.url.clone(),
            topic: topic.to_string(),
            reason,
        };
        let body = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("hub.mode", "publish")
            .append_pair("hub.url", topic)
            .finish();
        let response = self
            .client
            .post(&self.url)
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(body)
            .send()
            .await
            .map_err(|e| transient(error_chain(&e)))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let reason = format!("HTTP {status}");
        if status.is_server_error()
            || status == reqwest::StatusCode::TOO_MANY_REQUESTS
            || status == reqwest::StatusCode::REQUEST_TIMEOUT
        {
            Err(transient(reason))
        } else {
            Err(PingError::Refused {
                hub: self.url.clone(),
                topic: topic.to_string(),
                reason,
            })
        }
    }
}

/// `err` with its sources, so "error sending request" also says "connection refused".
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}
