//! The embedded default. WAL mode, one writer connection and a pool of readers: SQLite allows one
//! writer at a time, and queueing writers on our own pool (instead of letting them race for the
//! file lock) is what keeps "database is locked" from ever reaching a client.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::pool::PoolConnection;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Connection, QueryBuilder, Row, Sqlite, Transaction};

use super::pool_wait::acquire;
use super::sql::{KeyOrder, push_from_where, push_page};
use super::{
    Columns, ConflictKind, IdempotencyRecord, OrderStore, PoolStats, Reindex, StoreError,
    StoreOptions, StoreResult, classify, decode_doc, decode_event, encode_event,
};
use crate::domain::Order;
use crate::domain::history::HistoryEvent;
use crate::domain::search::{Page, SearchQuery};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// Readers when none is configured: two per core, at most ten. A read runs on this process's
/// CPU, so readers beyond the cores only share it: on 2 cores with 8 concurrent searches, 10
/// readers gave the same throughput as 4 with p99 46-52 ms instead of 33-39 ms, each reader
/// holding about 6.5 MB at peak (page and statement caches): 75 MB in all instead of 50 MB.
pub fn default_readers() -> u32 {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    (2 * cores).clamp(2, 10) as u32
}

pub struct SqliteStore {
    writer: SqlitePool,
    readers: SqlitePool,
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
        let readers = SqlitePoolOptions::new()
            .max_connections(
                options
                    .max_connections
                    .unwrap_or_else(default_readers)
                    .max(1),
            )
            .acquire_timeout(options.acquire_timeout)
            .test_before_acquire(false)
            .connect_with(connect.read_only(true))
            .await?;
        Ok(SqliteStore { writer, readers })
    }

    #[cfg(test)]
    fn readers(&self) -> u32 {
        self.readers.options().get_max_connections()
    }

    /// The one writer: writers queue here, on our pool, rather than on SQLite's lock.
    async fn writer(&self) -> StoreResult<PoolConnection<Sqlite>> {
        acquire(&self.writer, "sqlite_writer")
            .await
            .map_err(classify)
    }

    async fn reader(&self) -> StoreResult<PoolConnection<Sqlite>> {
        acquire(&self.readers, "sqlite_readers")
            .await
            .map_err(classify)
    }
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

/// Writes the tag and SKU rows `reindex` names; `replace` first removes the old ones (a new
/// order has none, so its insert skips those statements).
async fn write_index(
    tx: &mut Transaction<'_, Sqlite>,
    order: &Order,
    cols: &Columns,
    reindex: Reindex,
    replace: bool,
) -> StoreResult<()> {
    let sides = [
        (reindex.tags, "order_tags", "tag_lc", &cols.tags_lc),
        (reindex.skus, "order_skus", "sku_lc", &cols.skus_lc),
    ];
    for (wanted, table, column, values) in sides {
        if !wanted {
            continue;
        }
        if replace {
            sqlx::query(&format!(
                "DELETE FROM {table} WHERE client_id = ? AND order_id = ?"
            ))
            .bind(&order.client_id)
            .bind(&order.order_id)
            .execute(&mut **tx)
            .await
            .map_err(classify)?;
        }
        for v in values.iter() {
            sqlx::query(&format!(
                "INSERT INTO {table} (client_id, order_id, {column}) VALUES (?, ?, ?)"
            ))
            .bind(&order.client_id)
            .bind(&order.order_id)
            .bind(v)
            .execute(&mut **tx)
            .await
            .map_err(classify)?;
        }
    }
    Ok(())
}

async fn write_event(
    tx: &mut Transaction<'_, Sqlite>,
    order: &Order,
    event: &HistoryEvent,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO order_events (client_id, order_id, version, event_type, occurred_at, \
         actor, transaction_id, changed_fields) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&order.client_id)
    .bind(&order.order_id)
    .bind(event.version)
    .bind(event.kind.as_str())
    .bind(event.time)
    .bind(&event.actor)
    .bind(&event.transaction_id)
    .bind(encode_event(event)?)
    .execute(&mut **tx)
    .await
    .map_err(classify)?;
    Ok(())
}

/// SQLite's default limit on bound parameters per statement (SQLITE_MAX_VARIABLE_NUMBER).
const MAX_PARAMS: usize = 32_766;

/// Multi-row `INSERT … VALUES (…), (…)` in chunks that stay under the parameter limit.
async fn insert_rows<T, F>(
    tx: &mut Transaction<'_, Sqlite>,
    head: &str,
    columns: usize,
    rows: &[T],
    mut bind: F,
) -> StoreResult<()>
where
    F: FnMut(sqlx::query_builder::Separated<'_, '_, Sqlite, &'static str>, &T),
{
    for chunk in rows.chunks(MAX_PARAMS / columns) {
        let mut qb = QueryBuilder::<Sqlite>::new(head);
        qb.push_values(chunk, &mut bind);
        qb.build().execute(&mut **tx).await.map_err(conflict)?;
    }
    Ok(())
}

#[async_trait]
impl OrderStore for SqliteStore {
    async fn insert(
        &self,
        order: &Order,
        idempotency: Option<&IdempotencyRecord>,
        event: &HistoryEvent,
    ) -> StoreResult<()> {
        let cols = Columns::of(order)?;
        let mut conn = self.writer().await?;
        let mut tx = conn.begin().await.map_err(classify)?;
        if let Some(rec) = idempotency {
            sqlx::query(
                "INSERT INTO idempotency_keys \
                 (client_id, idem_key, request_hash, order_id, snapshot, created_at) \
                 VALUES (?, ?, ?, ?, ?, ?)",
            )
            .bind(&order.client_id)
            .bind(&rec.key)
            .bind(&rec.request_hash)
            .bind(&rec.order_id)
            .bind(&cols.doc)
            .bind(rec.created_at)
            .execute(&mut *tx)
            .await
            .map_err(conflict)?;
        }
        sqlx::query(
            "INSERT INTO orders (client_id, order_id, client_order_id, client_order_id_lc, \
             brand_lc, order_type_lc, customer_id_lc, status, create_date, update_date, \
             pb_create_date, pb_update_date, deleted_at, version, doc) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&order.client_id)
        .bind(&order.order_id)
        .bind(&order.content.client_order_id)
        .bind(&cols.client_order_id_lc)
        .bind(&cols.brand_lc)
        .bind(&cols.order_type_lc)
        .bind(&cols.customer_id_lc)
        .bind(order.status.as_str())
        .bind(cols.create_date)
        .bind(cols.update_date)
        .bind(order.pb_create_date)
        .bind(order.pb_update_date)
        .bind(order.deleted_at)
        .bind(order.version)
        .bind(&cols.doc)
        .execute(&mut *tx)
        .await
        .map_err(conflict)?;
        write_index(
            &mut tx,
            order,
            &cols,
            Reindex {
                tags: true,
                skus: true,
            },
            false,
        )
        .await?;
        write_event(&mut tx, order, event).await?;
        tx.commit().await.map_err(classify)
    }

    async fn insert_batch(&self, orders: &[(Order, HistoryEvent)]) -> StoreResult<()> {
        if orders.is_empty() {
            return Ok(());
        }
        let rows = orders
            .iter()
            .map(|(order, event)| Ok((order, Columns::of(order)?, event, encode_event(event)?)))
            .collect::<StoreResult<Vec<_>>>()?;
        let side = |pick: fn(&Columns) -> &Vec<String>| {
            rows.iter()
                .flat_map(|(order, cols, _, _)| {
                    pick(cols)
                        .iter()
                        .map(move |v| (order.client_id.clone(), order.order_id.clone(), v.clone()))
                })
                .collect::<Vec<_>>()
        };
        let tags = side(|c| &c.tags_lc);
        let skus = side(|c| &c.skus_lc);
        let mut conn = self.writer().await?;
        let mut tx = conn.begin().await.map_err(classify)?;
        insert_rows(
            &mut tx,
            "INSERT INTO orders (client_id, order_id, client_order_id, client_order_id_lc, \
             brand_lc, order_type_lc, customer_id_lc, status, create_date, update_date, \
             pb_create_date, pb_update_date, deleted_at, version, doc) ",
            15,
            &rows,
            |mut b, (order, cols, _, _)| {
                b.push_bind(order.client_id.clone())
                    .push_bind(order.order_id.clone())
                    .push_bind(order.content.client_order_id.clone())
                    .push_bind(cols.client_order_id_lc.clone())
                    .push_bind(cols.brand_lc.clone())
                    .push_bind(cols.order_type_lc.clone())
                    .push_bind(cols.customer_id_lc.clone())
                    .push_bind(order.status.as_str())
                    .push_bind(cols.create_date)
                    .push_bind(cols.update_date)
                    .push_bind(order.pb_create_date)
                    .push_bind(order.pb_update_date)
                    .push_bind(order.deleted_at)
                    .push_bind(order.version)
                    .push_bind(cols.doc.clone());
            },
        )
        .await?;
        for (table, rows) in [
            (
                "INSERT INTO order_tags (client_id, order_id, tag_lc) ",
                &tags,
            ),
            (
                "INSERT INTO order_skus (client_id, order_id, sku_lc) ",
                &skus,
            ),
        ] {
            insert_rows(&mut tx, table, 3, rows, |mut b, (client, order, value)| {
                b.push_bind(client.clone())
                    .push_bind(order.clone())
                    .push_bind(value.clone());
            })
            .await?;
        }
        insert_rows(
            &mut tx,
            "INSERT INTO order_events (client_id, order_id, version, event_type, occurred_at, \
             actor, transaction_id, changed_fields) ",
            8,
            &rows,
            |mut b, (order, _, event, changed)| {
                b.push_bind(order.client_id.clone())
                    .push_bind(order.order_id.clone())
                    .push_bind(event.version)
                    .push_bind(event.kind.as_str())
                    .push_bind(event.time)
                    .push_bind(event.actor.clone())
                    .push_bind(event.transaction_id.clone())
                    .push_bind(changed.clone());
            },
        )
        .await?;
        tx.commit().await.map_err(classify)
    }

    async fn idempotency(
        &self,
        client_id: &str,
        key: &str,
    ) -> StoreResult<Option<IdempotencyRecord>> {
        let row = sqlx::query(
            "SELECT request_hash, order_id, snapshot, created_at FROM idempotency_keys \
             WHERE client_id = ? AND idem_key = ?",
        )
        .bind(client_id)
        .bind(key)
        .fetch_optional(&mut *self.reader().await?)
        .await
        .map_err(classify)?;
        row.map(|r| {
            Ok(IdempotencyRecord {
                key: key.to_string(),
                request_hash: r.get("request_hash"),
                order_id: r.get("order_id"),
                snapshot: decode_doc(r.get::<&str, _>("snapshot"))?,
                created_at: r.get::<DateTime<Utc>, _>("created_at"),
            })
        })
        .transpose()
    }

    async fn forget_idempotency(&self, client_id: &str, key: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM idempotency_keys WHERE client_id = ? AND idem_key = ?")
            .bind(client_id)
            .bind(key)
            .execute(&mut *self.writer().await?)
            .await
            .map_err(classify)?;
        Ok(())
    }

    async fn purge_idempotency(&self, before: DateTime<Utc>, batch: u32) -> StoreResult<u64> {
        let done = sqlx::query(
            "DELETE FROM idempotency_keys WHERE (client_id, idem_key) IN \
             (SELECT client_id, idem_key FROM idempotency_keys WHERE created_at < ? LIMIT ?)",
        )
        .bind(before)
        .bind(i64::from(batch))
        .execute(&mut *self.writer().await?)
        .await
        .map_err(classify)?;
        Ok(done.rows_affected())
    }

    async fn get(&self, client_id: &str, order_id: &str) -> StoreResult<Option<Order>> {
        let doc: Option<String> = sqlx::query_scalar(
            "SELECT doc FROM orders WHERE client_id = ? AND order_id = ? AND deleted_at IS NULL",
        )
        .bind(client_id)
        .bind(order_id)
        .fetch_optional(&mut *self.reader().await?)
        .await
        .map_err(classify)?;
        doc.as_deref().map(decode_doc).transpose()
    }

    async fn update(
        &self,
        order: &Order,
        expected_version: i64,
        reindex: Reindex,
        event: &HistoryEvent,
    ) -> StoreResult<()> {
        let cols = Columns::of(order)?;
        let mut conn = self.writer().await?;
        let mut tx = conn.begin().await.map_err(classify)?;
        let done = sqlx::query(
            "UPDATE orders SET client_order_id = ?, client_order_id_lc = ?, brand_lc = ?, \
             order_type_lc = ?, customer_id_lc = ?, status = ?, create_date = ?, update_date = ?, \
             pb_update_date = ?, deleted_at = ?, version = ?, doc = ? \
             WHERE client_id = ? AND order_id = ? AND version = ? AND deleted_at IS NULL",
        )
        .bind(&order.content.client_order_id)
        .bind(&cols.client_order_id_lc)
        .bind(&cols.brand_lc)
        .bind(&cols.order_type_lc)
        .bind(&cols.customer_id_lc)
        .bind(order.status.as_str())
        .bind(cols.create_date)
        .bind(cols.update_date)
        .bind(order.pb_update_date)
        .bind(order.deleted_at)
        .bind(order.version)
        .bind(&cols.doc)
        .bind(&order.client_id)
        .bind(&order.order_id)
        .bind(expected_version)
        .execute(&mut *tx)
        .await
        .map_err(conflict)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(ConflictKind::Version));
        }
        write_index(&mut tx, order, &cols, reindex, true).await?;
        write_event(&mut tx, order, event).await?;
        tx.commit().await.map_err(classify)
    }

    async fn search(&self, client_id: &str, query: &SearchQuery) -> StoreResult<Page<Order>> {
        let mut count = QueryBuilder::<Sqlite>::new("SELECT COUNT(*)");
        push_from_where(&mut count, client_id, query);
        let mut conn = self.reader().await?;
        let total: i64 = count
            .build_query_scalar()
            .fetch_one(&mut *conn)
            .await
            .map_err(classify)?;
        let mut select = QueryBuilder::<Sqlite>::new("");
        // SQLite already sorts a status filter's matches from its status index, which carries
        // the dates (sqlite migration 0005).
        push_page(&mut select, "d.doc", client_id, query, KeyOrder::Index);
        let docs: Vec<String> = select
            .build_query_scalar()
            .fetch_all(&mut *conn)
            .await
            .map_err(classify)?;
        let items = docs
            .iter()
            .map(|d| decode_doc(d))
            .collect::<StoreResult<_>>()?;
        Ok(Page {
            items,
            total: total as u64,
        })
    }

    async fn history(&self, client_id: &str, order_id: &str) -> StoreResult<Vec<HistoryEvent>> {
        let rows = sqlx::query(
            "SELECT e.event_type, e.version, e.occurred_at, e.actor, e.transaction_id, \
             e.changed_fields AS changed_fields FROM order_events e \
             JOIN orders o ON o.client_id = e.client_id AND o.order_id = e.order_id AND o.deleted_at IS NULL \
             WHERE e.client_id = ? AND e.order_id = ? ORDER BY e.version",
        )
        .bind(client_id)
        .bind(order_id)
        .fetch_all(&mut *self.reader().await?)
        .await
        .map_err(classify)?;
        rows.iter()
            .map(|r| {
                decode_event(
                    r.get::<&str, _>("event_type"),
                    r.get("version"),
                    r.get("occurred_at"),
                    r.get("actor"),
                    r.get("transaction_id"),
                    r.get::<&str, _>("changed_fields"),
                )
            })
            .collect()
    }

    fn pool_stats(&self) -> PoolStats {
        PoolStats {
            size: self.readers.size(),
            idle: self.readers.num_idle(),
        }
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1 FROM _sqlx_migrations LIMIT 1")
            .execute(&mut *self.reader().await?)
            .await
            .map_err(classify)?;
        Ok(())
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
