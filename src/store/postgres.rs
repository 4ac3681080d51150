//! PostgreSQL, for production. Rows are keyed by (client_id, order_id) so the table can later be
//! sharded by tenant; the document is JSONB so operators can query it directly.

use std::str::FromStr;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, Postgres, QueryBuilder, Row, Transaction};

use super::pg_get_batch::GetBatcher;
use super::pg_pool::{Checkout, PgConnections};
use super::sql::{KeyOrder, push_from_where, push_page, sort_matches};
use super::{
    Columns, ConflictKind, IdempotencyRecord, OrderStore, PoolStats, Reindex, StoreError,
    StoreOptions, StoreResult, classify, decode_doc, decode_event, encode_event,
};
use crate::domain::Order;
use crate::domain::history::HistoryEvent;
use crate::domain::search::{Page, SearchQuery};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

pub struct PgStore {
    pool: PgConnections,
    gets: GetBatcher,
}

impl PgStore {
    pub async fn connect(url: &str, options: &StoreOptions) -> anyhow::Result<PgStore> {
        // JIT compiles a plan in tens of milliseconds; no statement here runs long enough to win
        // that back, and counts over wide windows would pay it on every search.
        let connect = PgConnectOptions::from_str(url)?.options([("jit", "off")]);
        let pool = PgConnections::new(
            connect,
            options
                .max_connections
                .unwrap_or(super::POSTGRES_CONNECTIONS),
            options.acquire_timeout,
        );
        let mut conn = pool.acquire().await?;
        let migrated = MIGRATOR.run(&mut *conn).await.map_err(sqlx::Error::from);
        conn.settled(migrated)?;
        let setting = sqlx::query_scalar::<_, String>("SELECT current_setting('autovacuum')")
            .fetch_one(&mut *conn)
            .await;
        // Only a warning: a server that cannot say still serves.
        if let Ok(setting) = conn.settled(setting)
            && autovacuum_is_off(&setting)
        {
            tracing::warn!(
                autovacuum = %setting,
                "PostgreSQL's autovacuum is off: every write leaves the pages it touched for \
                 searches to read again until something runs VACUUM (README, PostgreSQL)"
            );
        }
        let gets = GetBatcher::start(pool.clone());
        Ok(PgStore { pool, gets })
    }

    async fn conn(&self) -> StoreResult<Checkout> {
        self.pool.acquire().await.map_err(classify)
    }
}

/// Searches count with index-only scans, which stay index-only only on pages VACUUM has marked
/// all-visible: after 34,000 creates without one, the benchmark's search count read the heap
/// 9,275 times and took four times as long. Migration 0005 asks autovacuum to come early; with
/// autovacuum off nothing comes, which is easy to miss on a server someone else set up.
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

/// Writes the tag and SKU rows `reindex` names; `replace` first removes the old ones (a new
/// order has none, so its insert skips those statements).
async fn write_index(
    tx: &mut Transaction<'_, Postgres>,
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
                "DELETE FROM {table} WHERE client_id = $1 AND order_id = $2"
            ))
            .bind(&order.client_id)
            .bind(&order.order_id)
            .execute(&mut **tx)
            .await
            .map_err(classify)?;
        }
        if !values.is_empty() {
            sqlx::query(&format!(
                "INSERT INTO {table} (client_id, order_id, {column}) \
                 SELECT $1, $2, UNNEST($3::text[])"
            ))
            .bind(&order.client_id)
            .bind(&order.order_id)
            .bind(values)
            .execute(&mut **tx)
            .await
            .map_err(classify)?;
        }
    }
    Ok(())
}

async fn write_event(
    tx: &mut Transaction<'_, Postgres>,
    order: &Order,
    event: &HistoryEvent,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO order_events (client_id, order_id, version, event_type, occurred_at, \
         actor, transaction_id, changed_fields) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)",
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

/// One array per column: each statement of a batch insert binds a handful of arrays and
/// `UNNEST`s them, so a batch costs five statements whatever its size.
#[derive(Default)]
struct BatchArrays {
    client_id: Vec<String>,
    order_id: Vec<String>,
    client_order_id: Vec<String>,
    client_order_id_lc: Vec<String>,
    brand_lc: Vec<Option<String>>,
    order_type_lc: Vec<Option<String>>,
    customer_id_lc: Vec<Option<String>>,
    status: Vec<&'static str>,
    create_date: Vec<Option<DateTime<Utc>>>,
    update_date: Vec<Option<DateTime<Utc>>>,
    pb_create_date: Vec<DateTime<Utc>>,
    pb_update_date: Vec<DateTime<Utc>>,
    deleted_at: Vec<Option<DateTime<Utc>>>,
    version: Vec<i64>,
    doc: Vec<String>,
    tags: SideArrays,
    skus: SideArrays,
    event_version: Vec<i64>,
    event_type: Vec<&'static str>,
    event_time: Vec<DateTime<Utc>>,
    event_actor: Vec<String>,
    event_transaction_id: Vec<Option<String>>,
    event_changed: Vec<String>,
}

#[derive(Default)]
struct SideArrays {
    client_id: Vec<String>,
    order_id: Vec<String>,
    value: Vec<String>,
}

impl BatchArrays {
    fn of(orders: &[(Order, HistoryEvent)]) -> StoreResult<BatchArrays> {
        let mut a = BatchArrays::default();
        for (order, event) in orders {
            let cols = Columns::of(order)?;
            for (side, values) in [(&mut a.tags, &cols.tags_lc), (&mut a.skus, &cols.skus_lc)] {
                for v in values {
                    side.client_id.push(order.client_id.clone());
                    side.order_id.push(order.order_id.clone());
                    side.value.push(v.clone());
                }
            }
            a.client_id.push(order.client_id.clone());
            a.order_id.push(order.order_id.clone());
            a.client_order_id
                .push(order.content.client_order_id.clone());
            a.client_order_id_lc.push(cols.client_order_id_lc);
            a.brand_lc.push(cols.brand_lc);
            a.order_type_lc.push(cols.order_type_lc);
            a.customer_id_lc.push(cols.customer_id_lc);
            a.status.push(order.status.as_str());
            a.create_date.push(cols.create_date);
            a.update_date.push(cols.update_date);
            a.pb_create_date.push(order.pb_create_date);
            a.pb_update_date.push(order.pb_update_date);
            a.deleted_at.push(order.deleted_at);
            a.version.push(order.version);
            a.doc.push(cols.doc);
            a.event_version.push(event.version);
            a.event_type.push(event.kind.as_str());
            a.event_time.push(event.time);
            a.event_actor.push(event.actor.clone());
            a.event_transaction_id.push(event.transaction_id.clone());
            a.event_changed.push(encode_event(event)?);
        }
        Ok(a)
    }
}

async fn insert_side(
    tx: &mut Transaction<'_, Postgres>,
    table: &str,
    column: &str,
    rows: &SideArrays,
) -> StoreResult<()> {
    if rows.value.is_empty() {
        return Ok(());
    }
    sqlx::query(&format!(
        "INSERT INTO {table} (client_id, order_id, {column}) \
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[])"
    ))
    .bind(&rows.client_id)
    .bind(&rows.order_id)
    .bind(&rows.value)
    .execute(&mut **tx)
    .await
    .map_err(conflict)?;
    Ok(())
}

#[async_trait]
impl OrderStore for PgStore {
    async fn insert(
        &self,
        order: &Order,
        idempotency: Option<&IdempotencyRecord>,
        event: &HistoryEvent,
    ) -> StoreResult<()> {
        let cols = Columns::of(order)?;
        let mut conn = self.conn().await?;
        let mut tx = conn.begin().await.map_err(classify)?;
        if let Some(rec) = idempotency {
            sqlx::query(
                "INSERT INTO idempotency_keys \
                 (client_id, idem_key, request_hash, order_id, snapshot, created_at) \
                 VALUES ($1, $2, $3, $4, $5::jsonb, $6)",
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
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15::jsonb)",
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
        let committed = tx.commit().await;
        conn.settled(committed).map_err(classify)
    }

    async fn insert_batch(&self, orders: &[(Order, HistoryEvent)]) -> StoreResult<()> {
        if orders.is_empty() {
            return Ok(());
        }
        let a = BatchArrays::of(orders)?;
        let mut conn = self.conn().await?;
        let mut tx = conn.begin().await.map_err(classify)?;
        sqlx::query(
            "INSERT INTO orders (client_id, order_id, client_order_id, client_order_id_lc, \
             brand_lc, order_type_lc, customer_id_lc, status, create_date, update_date, \
             pb_create_date, pb_update_date, deleted_at, version, doc) \
             SELECT c, o, coi, coi_lc, b, t, cu, s, cd, ud, pcd, pud, del, v, d::jsonb \
             FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], \
             $6::text[], $7::text[], $8::text[], $9::timestamptz[], $10::timestamptz[], \
             $11::timestamptz[], $12::timestamptz[], $13::timestamptz[], $14::int8[], \
             $15::text[]) AS r(c, o, coi, coi_lc, b, t, cu, s, cd, ud, pcd, pud, del, v, d)",
        )
        .bind(&a.client_id)
        .bind(&a.order_id)
        .bind(&a.client_order_id)
        .bind(&a.client_order_id_lc)
        .bind(&a.brand_lc)
        .bind(&a.order_type_lc)
        .bind(&a.customer_id_lc)
        .bind(&a.status)
        .bind(&a.create_date)
        .bind(&a.update_date)
        .bind(&a.pb_create_date)
        .bind(&a.pb_update_date)
        .bind(&a.deleted_at)
        .bind(&a.version)
        .bind(&a.doc)
        .execute(&mut *tx)
        .await
        .map_err(conflict)?;
        insert_side(&mut tx, "order_tags", "tag_lc", &a.tags).await?;
        insert_side(&mut tx, "order_skus", "sku_lc", &a.skus).await?;
        sqlx::query(
            "INSERT INTO order_events (client_id, order_id, version, event_type, occurred_at, \
             actor, transaction_id, changed_fields) \
             SELECT c, o, v, k, t, a, x, f::jsonb \
             FROM UNNEST($1::text[], $2::text[], $3::int8[], $4::text[], $5::timestamptz[], \
             $6::text[], $7::text[], $8::text[]) AS r(c, o, v, k, t, a, x, f)",
        )
        .bind(&a.client_id)
        .bind(&a.order_id)
        .bind(&a.event_version)
        .bind(&a.event_type)
        .bind(&a.event_time)
        .bind(&a.event_actor)
        .bind(&a.event_transaction_id)
        .bind(&a.event_changed)
        .execute(&mut *tx)
        .await
        .map_err(conflict)?;
        let committed = tx.commit().await;
        conn.settled(committed).map_err(classify)
    }

    async fn idempotency(
        &self,
        client_id: &str,
        key: &str,
    ) -> StoreResult<Option<IdempotencyRecord>> {
        let mut conn = self.conn().await?;
        let row = sqlx::query(
            "SELECT request_hash, order_id, snapshot::text AS snapshot, created_at \
             FROM idempotency_keys WHERE client_id = $1 AND idem_key = $2",
        )
        .bind(client_id)
        .bind(key)
        .fetch_optional(&mut *conn)
        .await;
        let row = conn.settled(row).map_err(classify)?;
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
        let mut conn = self.conn().await?;
        let done =
            sqlx::query("DELETE FROM idempotency_keys WHERE client_id = $1 AND idem_key = $2")
                .bind(client_id)
                .bind(key)
                .execute(&mut *conn)
                .await;
        conn.settled(done).map_err(classify)?;
        Ok(())
    }

    async fn purge_idempotency(&self, before: DateTime<Utc>, batch: u32) -> StoreResult<u64> {
        let mut conn = self.conn().await?;
        let done = sqlx::query(
            "DELETE FROM idempotency_keys WHERE (client_id, idem_key) IN \
             (SELECT client_id, idem_key FROM idempotency_keys WHERE created_at < $1 LIMIT $2)",
        )
        .bind(before)
        .bind(i64::from(batch))
        .execute(&mut *conn)
        .await;
        Ok(conn.settled(done).map_err(classify)?.rows_affected())
    }

    async fn get(&self, client_id: &str, order_id: &str) -> StoreResult<Option<Order>> {
        let doc = self.gets.get(client_id, order_id).await?;
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
        let mut conn = self.conn().await?;
        let mut tx = conn.begin().await.map_err(classify)?;
        let done = sqlx::query(
            "UPDATE orders SET client_order_id = $1, client_order_id_lc = $2, brand_lc = $3, \
             order_type_lc = $4, customer_id_lc = $5, status = $6, create_date = $7, \
             update_date = $8, pb_update_date = $9, deleted_at = $10, version = $11, \
             doc = $12::jsonb \
             WHERE client_id = $13 AND order_id = $14 AND version = $15 AND deleted_at IS NULL",
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
        let committed = tx.commit().await;
        conn.settled(committed).map_err(classify)
    }

    async fn search(&self, client_id: &str, query: &SearchQuery) -> StoreResult<Page<Order>> {
        let mut count = QueryBuilder::<Postgres>::new("SELECT COUNT(*)");
        push_from_where(&mut count, client_id, query);
        let mut conn = self.conn().await?;
        let total: i64 = count
            .build_query_scalar()
            .fetch_one(&mut *conn)
            .await
            .map_err(classify)?;
        let mut select = QueryBuilder::<Postgres>::new("");
        let keys = if sort_matches(query, total as u64) {
            KeyOrder::Sorted
        } else {
            KeyOrder::Index
        };
        push_page(&mut select, "d.doc::text", client_id, query, keys);
        let docs: Result<Vec<String>, _> = select.build_query_scalar().fetch_all(&mut *conn).await;
        let docs = conn.settled(docs).map_err(classify)?;
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
        let mut conn = self.conn().await?;
        let rows = sqlx::query(
            "SELECT e.event_type, e.version, e.occurred_at, e.actor, e.transaction_id, \
             e.changed_fields::text AS changed_fields FROM order_events e \
             JOIN orders o ON o.client_id = e.client_id AND o.order_id = e.order_id AND o.deleted_at IS NULL \
             WHERE e.client_id = $1 AND e.order_id = $2 ORDER BY e.version",
        )
        .bind(client_id)
        .bind(order_id)
        .fetch_all(&mut *conn)
        .await;
        let rows = conn.settled(rows).map_err(classify)?;
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
            size: self.pool.size(),
            idle: self.pool.idle(),
        }
    }

    async fn ping(&self) -> StoreResult<()> {
        let mut conn = self.conn().await?;
        let done = sqlx::query("SELECT 1 FROM _sqlx_migrations LIMIT 1")
            .execute(&mut *conn)
            .await;
        conn.settled(done).map_err(classify)?;
        Ok(())
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_autovacuum_that_is_off_is_reported() {
        assert!(autovacuum_is_off("off"));
        assert!(autovacuum_is_off("OFF"));
        assert!(!autovacuum_is_off("on"));
        assert!(!autovacuum_is_off(""));
    }
}
