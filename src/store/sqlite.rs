//! The embedded default. WAL mode, one writer connection and a pool of readers: SQLite allows one
//! writer at a time, and queueing writers on our own pool (instead of letting them race for the
//! file lock) is what keeps "database is locked" from ever reaching a client.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Sqlite;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use super::clients::{ApiClient, ApiClientStore};
use super::pool_wait::acquire;
use super::search_share::SearchShare;
use super::sql::{ClientStatements, KeyOrder, Statements, WebhookStatements};
use super::sqlite_deadline::Deadlined;
use super::webhooks::{AttemptRecord, AttemptRow, Claimed, Endpoint, Redeliver, WebhookStore};
use super::{
    ConflictKind, IdempotencyRecord, OrderStore, PoolStats, Reindex, StoreError, StoreOptions,
    StoreResult, classify,
};
use crate::domain::Order;
use crate::domain::history::HistoryEvent;
use crate::domain::search::{Page, SearchQuery};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// Readers when none is configured: two per core, at most ten. A read runs on this process's
/// CPU, so readers beyond the cores only share it, while each holds its page and statement
/// caches (bench/README.md has the measurements).
pub fn default_readers() -> u32 {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    (2 * cores).clamp(2, 10) as u32
}

pub struct SqliteStore {
    writer: SqlitePool,
    readers: SqlitePool,
    searches: SearchShare,
    statement_timeout: Duration,
}

impl SqliteStore {
    pub async fn connect(url: &str, options: &StoreOptions) -> anyhow::Result<SqliteStore> {
        let connect = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a commit the client was told about survives a power cut, not just a crash.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(30))
            .foreign_keys(true);
        check_file(connect.get_filename())?;
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(options.acquire_timeout.max(Duration::from_secs(30)))
            // The database is in this process: a connection cannot be cut while idle, and the
            // ping before each use was a round trip to the connection's thread for nothing.
            .test_before_acquire(false)
            .connect_with(connect.clone())
            .await?;
        MIGRATOR.run(&writer).await?;
        // SQLite keeps no statistics by itself; without them it picks indexes by rule of thumb
        // (and once chose a scan of every order for a two-status search). This is SQLite's advice
        // for long-lived connections: analyze at open what needs it, bounded in time.
        sqlx::query("PRAGMA optimize=0x10002")
            .execute(&writer)
            .await?;
        let reader_count = options
            .max_connections
            .unwrap_or_else(default_readers)
            .max(1);
        let readers = SqlitePoolOptions::new()
            .max_connections(reader_count)
            .acquire_timeout(options.acquire_timeout)
            .test_before_acquire(false)
            // A reader's thread reads ahead of the rows taken: at sqlx's default 50 rows that was
            // up to 25 MB of a search page of large orders, beside the page's memory budget.
            .connect_with(connect.read_only(true).row_buffer_size(4))
            .await?;
        Ok(SqliteStore {
            writer,
            readers,
            searches: SearchShare::new(reader_count, options.acquire_timeout),
            statement_timeout: options.statement_timeout,
        })
    }

    #[cfg(test)]
    fn readers(&self) -> u32 {
        self.readers.options().get_max_connections()
    }

    /// The one writer: writers queue here, on our pool, rather than on SQLite's lock.
    async fn writer(&self) -> StoreResult<Deadlined> {
        let conn = acquire(&self.writer, "sqlite_writer")
            .await
            .map_err(classify)?;
        Deadlined::new(conn, self.statement_timeout)
            .await
            .map_err(classify)
    }

    async fn reader(&self) -> StoreResult<Deadlined> {
        let conn = acquire(&self.readers, "sqlite_readers")
            .await
            .map_err(classify)?;
        Deadlined::new(conn, self.statement_timeout)
            .await
            .map_err(classify)
    }
}

/// Opens (or creates) the database file the way SQLite will, so that a failure reads as the
/// operating system says it ("Permission denied", with the path) instead of SQLite's
/// "(code: 14) unable to open database file".
fn check_file(path: &Path) -> anyhow::Result<()> {
    if path.as_os_str().is_empty() || path.to_string_lossy().contains(":memory:") {
        return Ok(());
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && !dir.is_dir()
    {
        anyhow::bail!(
            "cannot open the SQLite database {}: the directory {} does not exist",
            path.display(),
            dir.display()
        );
    }
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map(drop)
        .with_context(|| format!("cannot open the SQLite database {}", path.display()))
}

/// SQLite names the columns of a violated unique index in its message.
fn conflict(err: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &err {
        let msg = db.message();
        if msg.contains("UNIQUE constraint failed") {
            if msg.contains("idempotency_keys") {
                return StoreError::Conflict(ConflictKind::IdempotencyKey);
            }
            if msg.contains("orders.client_order_id") {
                return StoreError::Conflict(ConflictKind::ClientOrderId);
            }
            if msg.contains("orders.order_id") {
                return StoreError::Conflict(ConflictKind::OrderId);
            }
        }
    }
    classify(err)
}

#[async_trait]
impl WebhookStore for SqliteStore {
    async fn insert_endpoint(&self, endpoint: &Endpoint) -> StoreResult<()> {
        let mut conn = self.writer().await?;
        Sqlite::insert_endpoint(&mut conn, endpoint)
            .await
            .map_err(classify)
    }

    async fn endpoint(&self, client_id: &str, id: &str) -> StoreResult<Option<Endpoint>> {
        let mut conn = self.reader().await?;
        Sqlite::endpoint(&mut conn, client_id, id)
            .await
            .map_err(classify)
    }

    async fn endpoints(&self, client_id: &str) -> StoreResult<Vec<Endpoint>> {
        let mut conn = self.reader().await?;
        Sqlite::endpoints(&mut conn, client_id)
            .await
            .map_err(classify)
    }

    async fn update_endpoint(&self, endpoint: &Endpoint) -> StoreResult<bool> {
        let mut conn = self.writer().await?;
        Sqlite::update_endpoint(&mut conn, endpoint)
            .await
            .map_err(classify)
    }

    async fn delete_endpoint(&self, client_id: &str, id: &str) -> StoreResult<bool> {
        let mut conn = self.writer().await?;
        Sqlite::delete_endpoint(&mut conn, client_id, id)
            .await
            .map_err(classify)
    }

    async fn claim_deliveries(
        &self,
        now: i64,
        lease_until: i64,
        limit: u32,
    ) -> StoreResult<Vec<Claimed>> {
        // One writer: nothing else can take the same rows meanwhile.
        let lock = "";
        let mut conn = self.writer().await?;
        Sqlite::claim_deliveries(&mut conn, now, lease_until, limit, lock)
            .await
            .map_err(classify)
    }

    async fn record_attempts(&self, attempts: &[AttemptRecord]) -> StoreResult<()> {
        let mut conn = self.writer().await?;
        Sqlite::record_attempts(&mut conn, attempts)
            .await
            .map_err(classify)
    }

    async fn attempts(
        &self,
        client_id: &str,
        endpoint_id: &str,
        before: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<AttemptRow>> {
        let mut conn = self.reader().await?;
        Sqlite::attempts(&mut conn, client_id, endpoint_id, before, limit)
            .await
            .map_err(classify)
    }

    async fn purge_deliveries(&self, before: i64, batch: u32) -> StoreResult<u64> {
        let mut conn = self.writer().await?;
        Sqlite::purge_deliveries(&mut conn, before, batch)
            .await
            .map_err(classify)
    }

    async fn redeliver(
        &self,
        client_id: &str,
        endpoint_id: &str,
        which: &Redeliver,
        now: i64,
    ) -> StoreResult<u64> {
        let mut conn = self.writer().await?;
        Sqlite::redeliver(&mut conn, client_id, endpoint_id, which, now)
            .await
            .map_err(classify)
    }
}

#[async_trait]
impl ApiClientStore for SqliteStore {
    async fn revoked_api_keys(&self, since: DateTime<Utc>) -> StoreResult<Vec<String>> {
        let mut conn = self.reader().await?;
        Sqlite::revoked_api_keys(&mut conn, since)
            .await
            .map_err(classify)
    }

    async fn insert_api_client(&self, client: &ApiClient) -> StoreResult<()> {
        let mut conn = self.writer().await?;
        Sqlite::insert_api_client(&mut conn, client)
            .await
            .map_err(conflict)
    }

    async fn api_client(&self, api_key: &str) -> StoreResult<Option<ApiClient>> {
        let mut conn = self.reader().await?;
        Sqlite::api_client(&mut conn, api_key)
            .await
            .map_err(classify)
    }

    async fn api_clients(&self) -> StoreResult<Vec<ApiClient>> {
        let mut conn = self.reader().await?;
        Sqlite::api_clients(&mut conn).await.map_err(classify)
    }

    async fn revoke_api_client(&self, api_key: &str, at: DateTime<Utc>) -> StoreResult<bool> {
        let mut conn = self.writer().await?;
        Sqlite::revoke_api_client(&mut conn, api_key, at)
            .await
            .map_err(classify)
    }

    async fn rotate_api_client(
        &self,
        api_key: &str,
        secret_hash: &str,
        previous_valid_until: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let mut conn = self.writer().await?;
        Sqlite::rotate_api_client(&mut conn, api_key, secret_hash, previous_valid_until)
            .await
            .map_err(classify)
    }
}

#[async_trait]
impl OrderStore for SqliteStore {
    async fn insert(
        &self,
        order: &Order,
        idempotency: Option<&IdempotencyRecord>,
        event: &HistoryEvent,
    ) -> StoreResult<()> {
        let mut conn = self.writer().await?;
        Sqlite::insert(&mut conn, &[(order, event)], idempotency)
            .await
            .map_err(conflict)
    }

    async fn insert_batch(&self, orders: &[(Order, HistoryEvent)]) -> StoreResult<()> {
        let orders: Vec<(&Order, &HistoryEvent)> = orders.iter().map(|(o, e)| (o, e)).collect();
        let mut conn = self.writer().await?;
        Sqlite::insert(&mut conn, &orders, None)
            .await
            .map_err(conflict)
    }

    async fn idempotency(
        &self,
        client_id: &str,
        key: &str,
    ) -> StoreResult<Option<IdempotencyRecord>> {
        let mut conn = self.reader().await?;
        Sqlite::idempotency(&mut conn, client_id, key)
            .await
            .map_err(classify)
    }

    async fn forget_idempotency(&self, client_id: &str, key: &str) -> StoreResult<()> {
        let mut conn = self.writer().await?;
        Sqlite::forget_idempotency(&mut conn, client_id, key)
            .await
            .map_err(classify)
    }

    async fn purge_idempotency(&self, before: DateTime<Utc>, batch: u32) -> StoreResult<u64> {
        let mut conn = self.writer().await?;
        Sqlite::purge_idempotency(&mut conn, before, batch)
            .await
            .map_err(classify)
    }

    async fn get(&self, client_id: &str, order_id: &str) -> StoreResult<Option<Order>> {
        let mut conn = self.reader().await?;
        Sqlite::get(&mut conn, client_id, order_id)
            .await
            .map_err(classify)
    }

    async fn update(
        &self,
        order: &Order,
        expected_version: i64,
        reindex: Reindex,
        event: &HistoryEvent,
    ) -> StoreResult<()> {
        let mut conn = self.writer().await?;
        let written = Sqlite::update(&mut conn, order, expected_version, reindex, event)
            .await
            .map_err(conflict)?;
        written
            .then_some(())
            .ok_or(StoreError::Conflict(ConflictKind::Version))
    }

    async fn search(&self, client_id: &str, query: &SearchQuery) -> StoreResult<Page<Order>> {
        let _place = self.searches.enter().await?;
        let mut conn = self.reader().await?;
        // SQLite sorts a status filter's matches from its status index, which carries the dates
        // (sqlite migration 0005): its pages always walk the sort's index.
        Sqlite::search(&mut conn, client_id, query, |_, _| KeyOrder::Index)
            .await
            .map_err(classify)
    }

    async fn history(&self, client_id: &str, order_id: &str) -> StoreResult<Vec<HistoryEvent>> {
        let mut conn = self.reader().await?;
        Sqlite::history(&mut conn, client_id, order_id)
            .await
            .map_err(classify)
    }

    fn pool_stats(&self) -> PoolStats {
        PoolStats {
            size: self.readers.size(),
            idle: self.readers.num_idle(),
        }
    }

    async fn ping(&self) -> StoreResult<()> {
        let mut conn = self.reader().await?;
        Sqlite::ping(&mut conn).await.map_err(classify)
    }

    async fn close(&self) {
        self.readers.close().await;
        self.writer.close().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn open(max_connections: Option<u32>) -> (SqliteStore, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("oms.db").display());
        let options = StoreOptions {
            max_connections,
            ..StoreOptions::default()
        };
        (SqliteStore::connect(&url, &options).await.unwrap(), dir)
    }

    #[tokio::test]
    async fn a_database_that_cannot_be_opened_is_named_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nowhere/oms.db");
        let url = format!("sqlite://{}", missing.display());
        let err = SqliteStore::connect(&url, &StoreOptions::default())
            .await
            .err()
            .expect("refused");
        let text = format!("{err:#}");
        assert!(text.contains(&missing.display().to_string()), "{text}");
        assert!(text.contains("does not exist"), "{text}");
        assert!(!text.contains("code: 14"), "{text}");
    }

    /// Counts forever: only a deadline or an interrupt ends it.
    const ENDLESS: &str = "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) \
                           SELECT count(*) FROM n";

    async fn open_with(timeout: Duration, readers: u32) -> (SqliteStore, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("oms.db").display());
        let options = StoreOptions {
            max_connections: Some(readers),
            statement_timeout: timeout,
            ..StoreOptions::default()
        };
        (SqliteStore::connect(&url, &options).await.unwrap(), dir)
    }

    async fn endless(store: &SqliteStore) -> StoreResult<i64> {
        let mut conn = store.reader().await?;
        sqlx::query_scalar::<_, i64>(ENDLESS)
            .fetch_one(&mut *conn)
            .await
            .map_err(classify)
    }

    #[tokio::test]
    async fn a_statement_past_its_deadline_is_stopped_and_unavailable() {
        let (store, _dir) = open_with(Duration::from_millis(300), 2).await;
        let started = std::time::Instant::now();
        let result = endless(&store).await;
        assert!(
            matches!(result, Err(StoreError::Unavailable(_))),
            "a statement past its deadline is a 503, not a 500: {result:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(5));
        // The connection is reusable afterwards.
        assert!(store.ping().await.is_ok());
        store.close().await;
    }

    #[tokio::test]
    async fn a_statement_whose_request_went_away_is_stopped() {
        let (store, _dir) = open_with(Duration::from_secs(600), 1).await;
        let store = std::sync::Arc::new(store);
        let running = tokio::spawn({
            let store = store.clone();
            async move { endless(&store).await }
        });
        tokio::time::sleep(Duration::from_millis(200)).await;
        running.abort();
        // The one reader is free again as soon as the statement stops; without the interrupt it
        // would count on for the whole ten minutes.
        tokio::time::timeout(Duration::from_secs(5), store.ping())
            .await
            .expect("the abandoned statement was stopped")
            .unwrap();
    }

    #[test]
    fn the_default_is_two_readers_per_core_within_two_and_ten() {
        let cores = std::thread::available_parallelism().unwrap().get() as u32;
        assert_eq!(default_readers(), (2 * cores).clamp(2, 10));
    }

    #[tokio::test]
    async fn readers_follow_the_setting_and_default_to_two_per_core() {
        let (store, _dir) = open(None).await;
        assert_eq!(store.readers(), default_readers());
        store.close().await;
        let (store, _dir) = open(Some(3)).await;
        assert_eq!(store.readers(), 3);
        store.close().await;
    }
}
