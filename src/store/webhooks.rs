//! Webhook endpoints, the outbox of deliveries and their log of attempts (issue 21). The outbox
//! rows are written by the order statements themselves (`sql::webhooks::enqueue`), in the
//! transaction of each change; what is here is read and written by `service::webhooks` and the
//! dispatcher (`webhooks::dispatcher`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::types::Json;

use super::StoreResult;

/// Every event type (`'*'` in `event_types`).
pub const ALL_EVENTS: &str = "*";

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Endpoint {
    pub id: String,
    pub client_id: String,
    pub url: String,
    pub description: Option<String>,
    /// [`ALL_EVENTS`], or the subscribed types each between spaces: `" order.created "`.
    pub event_types: String,
    pub secret: String,
    pub previous_secret: Option<String>,
    /// Milliseconds since the epoch until which `previous_secret` also signs.
    pub previous_secret_until: Option<i64>,
    /// `active`, `paused` or `disabled`.
    pub status: String,
    pub disabled_reason: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A delivery the dispatcher claimed, with what it needs to send it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Claimed {
    pub id: i64,
    pub endpoint_id: String,
    pub client_id: String,
    pub order_id: String,
    pub version: i64,
    pub event_type: String,
    pub attempts: i32,
    pub first_failed_at: Option<i64>,
    pub url: String,
    pub secret: String,
    pub previous_secret: Option<String>,
    pub previous_secret_until: Option<i64>,
    pub occurred_at: DateTime<Utc>,
    pub changed_fields: Json<Vec<String>>,
}

/// What became of a delivery after an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    Delivered,
    /// Try again at this time; the first failure of the run is kept to know when to stop.
    Retry {
        at: i64,
        first_failed_at: i64,
    },
    /// Retried long enough: the delivery failed and its endpoint is disabled with this reason.
    GiveUp {
        reason: String,
    },
}

/// One attempt, and what follows from it.
#[derive(Debug, Clone)]
pub struct AttemptRecord {
    pub delivery_id: i64,
    pub endpoint_id: String,
    pub attempted_at: i64,
    pub status_code: Option<i32>,
    pub latency_ms: i64,
    pub error: Option<String>,
    pub next: Next,
}

/// A line of an endpoint's delivery log: an attempt and the delivery it was for.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AttemptRow {
    pub id: i64,
    pub delivery_id: i64,
    pub order_id: String,
    pub version: i64,
    pub event_type: String,
    pub state: String,
    pub attempted_at: i64,
    pub status_code: Option<i32>,
    pub latency_ms: i64,
    pub error: Option<String>,
}

/// Which events to send an endpoint again.
#[derive(Debug, Clone)]
pub enum Redeliver {
    /// One event, whatever the endpoint's types.
    Event { order_id: String, version: i64 },
    /// Every event of the tenant that the endpoint subscribes to, from this time on (at most
    /// `limit`, oldest first).
    Since { time: DateTime<Utc>, limit: u32 },
}

#[async_trait]
pub trait WebhookStore: Send + Sync + 'static {
    async fn insert_endpoint(&self, endpoint: &Endpoint) -> StoreResult<()>;

    /// An endpoint of this tenant.
    async fn endpoint(&self, client_id: &str, id: &str) -> StoreResult<Option<Endpoint>>;

    /// The tenant's endpoints, oldest first.
    async fn endpoints(&self, client_id: &str) -> StoreResult<Vec<Endpoint>>;

    /// Writes every changeable column of the endpoint; `false` when the tenant has no such
    /// endpoint.
    async fn update_endpoint(&self, endpoint: &Endpoint) -> StoreResult<bool>;

    /// Deletes the endpoint with its deliveries and their log; `false` when there is none.
    async fn delete_endpoint(&self, client_id: &str, id: &str) -> StoreResult<bool>;

    /// Leases up to `limit` due deliveries of active endpoints until `lease_until`, each the
    /// oldest pending one of its order for its endpoint, so that one order's events go out in
    /// order; a delivery leased by another dispatcher is not taken until its lease ends.
    async fn claim_deliveries(
        &self,
        now: i64,
        lease_until: i64,
        limit: u32,
    ) -> StoreResult<Vec<Claimed>>;

    /// Logs attempts and moves their deliveries on (and disables an endpoint on `GiveUp`), in
    /// one transaction: one commit for many deliveries.
    async fn record_attempts(&self, attempts: &[AttemptRecord]) -> StoreResult<()>;

    /// An endpoint's attempts, newest first, those with an id below `before` when given.
    async fn attempts(
        &self,
        client_id: &str,
        endpoint_id: &str,
        before: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<AttemptRow>>;

    /// Deletes up to `batch` deliveries that finished (delivered or failed) before `before`,
    /// with their attempts; how many went.
    async fn purge_deliveries(&self, before: i64, batch: u32) -> StoreResult<u64>;

    /// Queues events for the endpoint again, behind what is queued; how many.
    async fn redeliver(
        &self,
        client_id: &str,
        endpoint_id: &str,
        which: &Redeliver,
        now: i64,
    ) -> StoreResult<u64>;
}
