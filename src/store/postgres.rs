//! PostgreSQL, for production. Rows are keyed by (client_id, order_id) so the table can later be
//! sharded by tenant; the document is JSONB so operators can query it directly.

use std::str::FromStr;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{Connection, Postgres};

use super::clients::{ApiClient, ApiClientStore};
use super::pg_pool::{self, Checkout, PgPool};
use super::search_share::SearchShare;
use super::sql::{ClientStatements, KeyOrder, Statements, WebhookStatements, sort_matches};
use super::webhooks::{AttemptRecord, AttemptRow, Claimed, Endpoint, Redeliver, WebhookStore};
use super::{
    ConflictKind, IdempotencyRecord, OrderStore, PoolStats, Reindex, StoreError, StoreOptions,
    StoreResult, classify,
};
use crate::domain::Order;
use crate::domain::history::HistoryEvent;
use crate::domain::search::{Page, SearchQuery};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

pub struct PgStore {
    pool: PgPool,
    searches: SearchShare,
}

impl PgStore {
    pub async fn connect(url: &str, options: &StoreOptions) -> anyhow::Result<PgStore> {
        // JIT compiles a plan in tens of milliseconds; no statement here runs long enough to win
        // that back, and counts over wide windows would pay it on every search.
        let connect = PgConnectOptions::from_str(url)?.options([("jit", "off")]);
        // Migrations on a connection of their own, without the statements' deadline: building
        // an index on a large table may take longer than any request.
        let mut conn = PgConnection::connect_with(&connect).await?;
        MIGRATOR.run(&mut conn).await?;
        let setting = sqlx::query_scalar::<_, String>("SELECT current_setting('autovacuum')")
            .fetch_one(&mut conn)
            .await;
        conn.close().await?;
        // No statement outlives the request it serves: PostgreSQL stops it at this deadline.
        let deadline = format!("{}ms", options.statement_timeout.as_millis().max(1));
        let connections = options
            .max_connections
            .unwrap_or(super::POSTGRES_CONNECTIONS);
        let pool = pg_pool::pool(
            connect.options([("statement_timeout", deadline)]),
            connections,
            options.acquire_timeout,
        )?;
        let searches = SearchShare::new(connections, options.acquire_timeout);
        // Only a warning: a server that cannot say still serves.
        if let Ok(setting) = setting
            && autovacuum_is_off(&setting)
        {
            tracing::warn!(
                autovacuum = %setting,
                "PostgreSQL's autovacuum is off: every write leaves the pages it touched for \
                 searches to read again until something runs VACUUM (README, PostgreSQL)"
            );
        }
        Ok(PgStore { pool, searches })
    }

    /// Runs `statements` on a pooled connection, marked settled when they succeeded so that it
    /// is reused without a ping.
    async fn run<T>(
        &self,
        statements: impl AsyncFnOnce(&mut PgConnection) -> Result<T, sqlx::Error>,
    ) -> StoreResult<T> {
        let mut conn: Checkout = pg_pool::acquire(&self.pool).await.map_err(classify)?;
        let result = statements(&mut **conn).await;
        conn.settled(result).map_err(conflict)
    }
}

/// Searches count with index-only scans, which stay index-only only on pages VACUUM has marked
/// all-visible; after many writes without a VACUUM the counts read the heap again. Migration
/// 0005 asks autovacuum to come early; with autovacuum off nothing comes, which is easy to miss
/// on a server someone else set up.
fn autovacuum_is_off(setting: &str) -> bool {
    setting.trim().eq_ignore_ascii_case("off")
}

/// PostgreSQL names the violated constraint; the names come from the migrations.
fn conflict(err: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &err {
        match db.constraint() {
            Some("idempotency_keys_pkey") => {
                return StoreError::Conflict(ConflictKind::IdempotencyKey);
            }
            Some("orders_client_order_id_live_key") => {
                return StoreError::Conflict(ConflictKind::ClientOrderId);
            }
            Some("orders_order_id_key") | Some("orders_pkey") => {
                return StoreError::Conflict(ConflictKind::OrderId);
            }
            _ => {}
        }
    }
    classify(err)
}

#[async_trait]
impl ApiClientStore for PgStore {
    async fn revoked_api_keys(&self, since: DateTime<Utc>) -> StoreResult<Vec<String>> {
        self.run(async |c| Postgres::revoked_api_keys(c, since).await)
            .await
    }

    async fn insert_api_client(&self, client: &ApiClient) -> StoreResult<()> {
        self.run(async |c| Postgres::insert_api_client(c, client).await)
            .await
    }

    async fn api_client(&self, api_key: &str) -> StoreResult<Option<ApiClient>> {
        self.run(async |c| Postgres::api_client(c, api_key).await)
            .await
    }

    async fn api_clients(&self) -> StoreResult<Vec<ApiClient>> {
        self.run(async |c| Postgres::api_clients(c).await).await
    }

    async fn revoke_api_client(&self, api_key: &str, at: DateTime<Utc>) -> StoreResult<bool> {
        self.run(async |c| Postgres::revoke_api_client(c, api_key, at).await)
            .await
    }

    async fn rotate_api_client(
        &self,
        api_key: &str,
        secret_hash: &str,
        previous_valid_until: DateTime<Utc>,
    ) -> StoreResult<bool> {
        self.run(async |c| {
            Postgres::rotate_api_client(c, api_key, secret_hash, previous_valid_until).await
        })
        .await
    }
}

#[async_trait]
impl WebhookStore for PgStore {
    async fn insert_endpoint(&self, endpoint: &Endpoint) -> StoreResult<()> {
        self.run(async |c| Postgres::insert_endpoint(c, endpoint).await)
            .await
    }

    async fn endpoint(&self, client_id: &str, id: &str) -> StoreResult<Option<Endpoint>> {
        self.run(async |c| Postgres::endpoint(c, client_id, id).await)
            .await
    }

    async fn endpoints(&self, client_id: &str) -> StoreResult<Vec<Endpoint>> {
        self.run(async |c| Postgres::endpoints(c, client_id).await)
            .await
    }

    async fn update_endpoint(&self, endpoint: &Endpoint) -> StoreResult<bool> {
        self.run(async |c| Postgres::update_endpoint(c, endpoint).await)
            .await
    }

    async fn delete_endpoint(&self, client_id: &str, id: &str) -> StoreResult<bool> {
        self.run(async |c| Postgres::delete_endpoint(c, client_id, id).await)
            .await
    }

    async fn claim_deliveries(
        &self,
        now: i64,
        lease_until: i64,
        limit: u32,
    ) -> StoreResult<Vec<Claimed>> {
        // Dispatchers of other processes skip the rows this one is taking instead of waiting.
        let lock = " FOR UPDATE OF d SKIP LOCKED";
        self.run(async |c| Postgres::claim_deliveries(c, now, lease_until, limit, lock).await)
            .await
    }

    async fn record_attempts(&self, attempts: &[AttemptRecord]) -> StoreResult<()> {
        self.run(async |c| Postgres::record_attempts(c, attempts).await)
            .await
    }

    async fn attempts(
        &self,
        client_id: &str,
        endpoint_id: &str,
        before: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<AttemptRow>> {
        self.run(async |c| Postgres::attempts(c, client_id, endpoint_id, before, limit).await)
            .await
    }

    async fn purge_deliveries(&self, before: i64, batch: u32) -> StoreResult<u64> {
        self.run(async |c| Postgres::purge_deliveries(c, before, batch).await)
            .await
    }

    async fn redeliver(
        &self,
        client_id: &str,
        endpoint_id: &str,
        which: &Redeliver,
        now: i64,
    ) -> StoreResult<u64> {
        self.run(async |c| Postgres::redeliver(c, client_id, endpoint_id, which, now).await)
            .await
    }
}

#[async_trait]
impl OrderStore for PgStore {
    async fn insert(
        &self,
        order: &Order,
        idempotency: Option<&IdempotencyRecord>,
        event: &HistoryEvent,
    ) -> StoreResult<()> {
        self.run(async |c| Postgres::insert(c, &[(order, event)], idempotency).await)
            .await
    }

    async fn insert_batch(&self, orders: &[(Order, HistoryEvent)]) -> StoreResult<()> {
        let orders: Vec<(&Order, &HistoryEvent)> = orders.iter().map(|(o, e)| (o, e)).collect();
        self.run(async |c| Postgres::insert(c, &orders, None).await)
            .await
    }

    async fn idempotency(
        &self,
        client_id: &str,
        key: &str,
    ) -> StoreResult<Option<IdempotencyRecord>> {
        self.run(async |c| Postgres::idempotency(c, client_id, key).await)
            .await
    }

    async fn forget_idempotency(&self, client_id: &str, key: &str) -> StoreResult<()> {
        self.run(async |c| Postgres::forget_idempotency(c, client_id, key).await)
            .await
    }

    async fn purge_idempotency(&self, before: DateTime<Utc>, batch: u32) -> StoreResult<u64> {
        self.run(async |c| Postgres::purge_idempotency(c, before, batch).await)
            .await
    }

    async fn get(&self, client_id: &str, order_id: &str) -> StoreResult<Option<Order>> {
        self.run(async |c| Postgres::get(c, client_id, order_id).await)
            .await
    }

    async fn update(
        &self,
        order: &Order,
        expected_version: i64,
        reindex: Reindex,
        event: &HistoryEvent,
    ) -> StoreResult<()> {
        let written = self
            .run(async |c| Postgres::update(c, order, expected_version, reindex, event).await)
            .await?;
        written
            .then_some(())
            .ok_or(StoreError::Conflict(ConflictKind::Version))
    }

    async fn search(&self, client_id: &str, query: &SearchQuery) -> StoreResult<Page<Order>> {
        let _place = self.searches.enter().await?;
        self.run(async |c| Postgres::search(c, client_id, query, plan).await)
            .await
    }

    async fn history(&self, client_id: &str, order_id: &str) -> StoreResult<Vec<HistoryEvent>> {
        self.run(async |c| Postgres::history(c, client_id, order_id).await)
            .await
    }

    fn pool_stats(&self) -> PoolStats {
        let status = self.pool.status();
        PoolStats {
            size: status.size as u32,
            idle: status.available,
        }
    }

    async fn ping(&self) -> StoreResult<()> {
        self.run(async |c| Postgres::ping(c).await).await
    }

    async fn close(&self) {
        self.pool.close();
    }
}

/// Sorted by a client date with few status matches, the page sorts its matches instead of
/// walking the date's index (see [`sort_matches`]).
fn plan(query: &SearchQuery, total: u64) -> KeyOrder {
    if sort_matches(query, total) {
        KeyOrder::Sorted
    } else {
        KeyOrder::Index
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_statement_carries_the_deadline_and_is_stopped_by_it() {
        let options = StoreOptions {
            statement_timeout: std::time::Duration::from_millis(300),
            ..StoreOptions::default()
        };
        let admin_url = super::super::test_database_url();
        let mut admin = PgConnection::connect(&admin_url)
            .await
            .expect("PostgreSQL is required");
        let name = format!("oms_unit_{}", uuid::Uuid::new_v4().simple());
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .unwrap();
        let (base, _) = admin_url.rsplit_once('/').unwrap();
        let store = PgStore::connect(&format!("{base}/{name}"), &options)
            .await
            .unwrap();
        let shown = store
            .run(async |c| {
                sqlx::query_scalar::<_, String>("SHOW statement_timeout")
                    .fetch_one(c)
                    .await
            })
            .await
            .unwrap();
        assert_eq!(shown, "300ms");
        let slow = store
            .run(async |c| sqlx::query("SELECT pg_sleep(5)").execute(c).await)
            .await;
        assert!(
            matches!(slow, Err(StoreError::Unavailable(_))),
            "a statement past its deadline is a 503, not a 500: {slow:?}"
        );
        store.close().await;
        sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)"))
            .execute(&mut admin)
            .await
            .unwrap();
    }

    #[test]
    fn only_an_autovacuum_that_is_off_is_reported() {
        assert!(autovacuum_is_off("off"));
        assert!(autovacuum_is_off("OFF"));
        assert!(!autovacuum_is_off("on"));
        assert!(!autovacuum_is_off(""));
    }
}
