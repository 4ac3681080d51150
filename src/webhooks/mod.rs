//! Events out (issue 21): each order change queues a delivery per subscribed endpoint in its own
//! transaction (the outbox, `store::webhooks`); the [`dispatcher`] sends them, signed per the
//! Standard Webhooks specification ([`signing`]), to URLs the [`guard`] lets through.

pub mod dispatcher;
pub mod guard;
pub mod signing;

use std::time::Duration;

/// How deliveries are made and retried; see `config.rs` for the variables.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// Endpoints on loopback, private and link-local addresses are allowed (local development,
    /// tests); refused otherwise, at creation and at every delivery.
    pub allow_private: bool,
    /// The longest one attempt may take, connection to the end of the response.
    pub timeout: Duration,
    /// The first retry comes after about this long; each next one after twice as long.
    pub retry_base: Duration,
    /// The longest pause between two attempts.
    pub retry_max: Duration,
    /// How long a failing delivery is retried before it fails and its endpoint is disabled.
    pub retry_for: Duration,
    /// How often an idle dispatcher looks for due deliveries.
    pub poll: Duration,
    /// Deliveries one process has in flight at once.
    pub concurrency: usize,
    /// Whether this process runs a dispatcher at all (`oms serve`).
    pub dispatch: bool,
    /// How long finished deliveries (and their log) are kept.
    pub keep: Duration,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        WebhookSettings {
            allow_private: false,
            timeout: Duration::from_secs(10),
            retry_base: Duration::from_secs(5),
            retry_max: Duration::from_secs(3600),
            retry_for: Duration::from_secs(24 * 3600),
            poll: Duration::from_millis(250),
            concurrency: 32,
            dispatch: true,
            keep: Duration::from_secs(30 * 24 * 3600),
        }
    }
}

/// The most of a response body a delivery reads; the rest is not read.
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// Milliseconds since the epoch, the unit of the webhook tables' times.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
