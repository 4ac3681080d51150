//! Persistence: one trait, one module per backend, chosen from the database URL at start-up.
//!
//! The canonical order is stored as a JSON document next to the columns that search needs
//! (derived from the document on every write, so they cannot drift). Tags and SKUs live in their
//! own tables so that "has tag X" / "contains SKU Y" are indexed lookups.
//!
//! Every statement is written once, in [`sql`], for both backends; `postgres` and `sqlite` hold
//! what differs (connections, conflict names, the search plan hint). A new searchable column
//! touches a migration per backend (`migrations/{postgres,sqlite}/`) and three places in code:
//! 1. `Columns` in `sql/mod.rs`: the field and how it derives from the order;
//! 2. `ORDER_COLUMNS` and `order_row` beside it: its name and value in the row;
//! 3. `sql/search.rs`: the filter (or sort) that reads it, for the domain's new `Filter`.

pub mod clients;
mod pg_pool;
mod pool_wait;
mod postgres;
mod search_share;
mod sql;
mod sqlite;
mod sqlite_deadline;
pub mod webhooks;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::domain::Order;
use crate::domain::history::HistoryEvent;
use crate::domain::search::{Page, SearchQuery};

pub use clients::{ApiClient, ApiClientStore};
pub use postgres::PgStore;
pub use sqlite::SqliteStore;
pub use webhooks::WebhookStore;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictKind {
    /// Another order with this id exists (id collision: generate another).
    OrderId,
    /// A live order of this client already has this client order id / order number.
    ClientOrderId,
    /// Another request with this idempotency key committed first.
    IdempotencyKey,
    /// The order changed since it was read.
    Version,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("conflict: {0:?}")]
    Conflict(ConflictKind),
    /// The database cannot be reached (pool timeout, connection refused): worth a retry later.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A search page's orders passed `MAX_SEARCH_PAGE_BYTES`.
    #[error(transparent)]
    PageTooLarge(#[from] crate::domain::size::PageTooLarge),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// What an idempotent create remembers: which request it saw and which order it made (not the
/// order itself: a replay reads the order, so no record holds a second copy of it).
#[derive(Debug, Clone)]
pub struct IdempotencyRecord {
    pub key: String,
    pub request_hash: String,
    pub order_id: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct PoolStats {
    pub size: u32,
    pub idle: usize,
}

/// Which side tables an update must rewrite.
#[derive(Debug, Clone, Copy, Default)]
pub struct Reindex {
    pub tags: bool,
    pub skus: bool,
}

#[async_trait]
pub trait OrderStore: ApiClientStore + WebhookStore {
    /// Inserts a new order, its first history event and its idempotency record, atomically.
    async fn insert(
        &self,
        order: &Order,
        idempotency: Option<&IdempotencyRecord>,
        event: &HistoryEvent,
    ) -> StoreResult<()>;

    /// Inserts many new orders with their first history events in one transaction (bulk loads
    /// such as `oms seed`): all of them or none. No idempotency records are written.
    async fn insert_batch(&self, orders: &[(Order, HistoryEvent)]) -> StoreResult<()>;

    async fn idempotency(
        &self,
        client_id: &str,
        key: &str,
    ) -> StoreResult<Option<IdempotencyRecord>>;

    /// Forgets an expired idempotency record so that its key can be used again.
    async fn forget_idempotency(&self, client_id: &str, key: &str) -> StoreResult<()>;

    /// Deletes up to `batch` idempotency records created before `before` (of any client) and
    /// says how many went. Batches keep each delete short beside live traffic.
    async fn purge_idempotency(&self, before: DateTime<Utc>, batch: u32) -> StoreResult<u64>;

    /// A live (not deleted) order of this client.
    async fn get(&self, client_id: &str, order_id: &str) -> StoreResult<Option<Order>>;

    /// Writes `order` if the stored version is still `expected_version`, else `Conflict(Version)`.
    async fn update(
        &self,
        order: &Order,
        expected_version: i64,
        reindex: Reindex,
        event: &HistoryEvent,
    ) -> StoreResult<()>;

    /// The history of a live order, oldest first.
    async fn history(&self, client_id: &str, order_id: &str) -> StoreResult<Vec<HistoryEvent>>;

    async fn search(&self, client_id: &str, query: &SearchQuery) -> StoreResult<Page<Order>>;

    /// Connections open and idle, for metrics.
    fn pool_stats(&self) -> PoolStats;

    /// Reachable and migrated.
    async fn ping(&self) -> StoreResult<()>;

    async fn close(&self);
}

#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// `None`: each backend's default ([`POSTGRES_CONNECTIONS`]; SQLite: two readers per core).
    pub max_connections: Option<u32>,
    pub acquire_timeout: Duration,
    /// How long start-up waits for a PostgreSQL that does not answer yet (compose and
    /// orchestrators start services in any order).
    pub connect_wait: Duration,
    /// The longest any one statement may run (PostgreSQL's `statement_timeout`; on SQLite a
    /// progress handler, see `sqlite_deadline`); no longer than the request timeout, so that no
    /// statement works on for a client that was answered.
    pub statement_timeout: Duration,
}

/// PostgreSQL connections when none is configured.
pub const POSTGRES_CONNECTIONS: u32 = 10;

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            max_connections: None,
            acquire_timeout: Duration::from_secs(3),
            connect_wait: Duration::from_secs(60),
            statement_timeout: Duration::from_secs(30),
        }
    }
}

/// Opens the backend the URL names and applies its migrations.
pub async fn connect(url: &str, options: &StoreOptions) -> anyhow::Result<Arc<dyn OrderStore>> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(connect_postgres(url, options).await?))
    } else if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::connect(url, options).await?))
    } else {
        anyhow::bail!("the database URL must start with sqlite: or postgres://")
    }
}

/// Connects, retrying with a growing pause while PostgreSQL does not answer yet (refused,
/// starting up), for at most `options.connect_wait`; any other failure ends it at once.
async fn connect_postgres(url: &str, options: &StoreOptions) -> anyhow::Result<PgStore> {
    let started = std::time::Instant::now();
    let mut pause = Duration::from_millis(250);
    loop {
        match PgStore::connect(url, options).await {
            Ok(store) => return Ok(store),
            Err(error)
                if is_not_up_yet(&error) && started.elapsed() + pause < options.connect_wait =>
            {
                tracing::warn!(
                    error = format!("{error:#}"),
                    retry_in_ms = pause.as_millis() as u64,
                    "PostgreSQL does not answer yet; waiting for it"
                );
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(5));
            }
            Err(error) => return Err(error),
        }
    }
}

/// Refused or reset connections, a server still starting (57P03) or not accepting yet.
fn is_not_up_yet(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause.downcast_ref::<std::io::Error>().is_some()
            || match cause.downcast_ref::<sqlx::Error>() {
                Some(sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut) => true,
                Some(sqlx::Error::Database(db)) => db
                    .code()
                    .is_some_and(|c| c == "57P03" || c.starts_with("08")),
                _ => false,
            }
    })
}

/// Maps the errors every backend shares; unique violations are named by each backend.
fn classify(err: sqlx::Error) -> StoreError {
    match err {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::Decode(e) if e.is::<crate::domain::size::PageTooLarge>() => {
            StoreError::PageTooLarge(crate::domain::size::PageTooLarge)
        }
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
            StoreError::Unavailable(err.to_string())
        }
        sqlx::Error::Database(db) if is_unavailable_code(db.code().as_deref()) => {
            StoreError::Unavailable(db.to_string())
        }
        // The statement's deadline passed, or its request went away: PostgreSQL's
        // query_canceled, SQLite's SQLITE_INTERRUPT (from the progress handler).
        sqlx::Error::Database(db) if matches!(db.code().as_deref(), Some("57014" | "9")) => {
            StoreError::Unavailable(db.to_string())
        }
        other => StoreError::Other(other.into()),
    }
}

/// SQLSTATE classes that mean "the server is going away or cannot take us", not a bad query:
/// 08 connection exceptions, 57P admin/crash shutdown, 53300 too many connections.
fn is_unavailable_code(code: Option<&str>) -> bool {
    code.is_some_and(|c| c.starts_with("08") || c.starts_with("57P") || c == "53300")
}

/// The PostgreSQL of the test suite, as the integration tests find it (`tests/api/common`).
#[cfg(test)]
fn test_database_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn start_up_waits_for_a_postgresql_that_does_not_answer_then_gives_up() {
        let options = StoreOptions {
            connect_wait: Duration::from_millis(1200),
            ..StoreOptions::default()
        };
        let started = std::time::Instant::now();
        let err = connect("postgres://postgres@127.0.0.1:1/postgres", &options)
            .await
            .err()
            .expect("nothing listens on port 1");
        let waited = started.elapsed();
        assert!(
            waited >= Duration::from_millis(700),
            "gave up at once: {waited:?}"
        );
        assert!(waited < Duration::from_secs(5), "{waited:?}");
        assert!(is_not_up_yet(&err), "{err:#}");
    }

    #[tokio::test]
    async fn a_wrong_password_or_database_is_not_waited_for() {
        let url = format!("{}_does_not_exist", test_database_url());
        let started = std::time::Instant::now();
        assert!(connect(&url, &StoreOptions::default()).await.is_err());
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
