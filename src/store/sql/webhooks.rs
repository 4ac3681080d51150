//! The webhook statements, for both backends (see the parent module and `store::webhooks`).

use chrono::{DateTime, Utc};
use sqlx::{Connection, Database, Encode, Executor, FromRow, IntoArguments, Type};

use super::builder::{Param, Sql};
use super::{MAX_PARAMS, RowsAffected, Statements};
use crate::domain::Order;
use crate::domain::history::HistoryEvent;
use crate::store::webhooks::{AttemptRecord, AttemptRow, Claimed, Endpoint, Next, Redeliver};

/// The wire name of a history event: `order.` and the kind (`order.status_changed`).
fn event_type(event: &HistoryEvent) -> String {
    format!("order.{}", event.kind.as_str())
}

/// Queues a delivery of each event for every endpoint of its tenant that wants it (not the
/// disabled ones), inside the caller's transaction: one statement, whatever the number of events
/// and endpoints, that writes nothing when the tenant has no endpoint.
pub(in crate::store) async fn enqueue<DB: Statements>(
    conn: &mut DB::Connection,
    events: &[(&Order, &HistoryEvent)],
) -> Result<(), sqlx::Error> {
    const HEAD: &str = "INSERT INTO webhook_deliveries (endpoint_id, client_id, order_id, \
        version, event_type, created_at, state, attempts, next_attempt_at) \
        SELECT e.id, v.column1, v.column2, v.column3, v.column4, v.column5, 'pending', 0, \
        v.column5 FROM (VALUES ";
    const TAIL: &str = ") AS v JOIN webhook_endpoints e ON e.client_id = v.column1 \
        AND e.status <> 'disabled' \
        AND (e.event_types = '*' OR e.event_types LIKE ('% ' || v.column4 || ' %'))";
    let now = Utc::now().timestamp_millis();
    for chunk in events.chunks(MAX_PARAMS / 5) {
        let mut sql = Sql::new(HEAD);
        sql.push_rows(chunk, |(order, event)| {
            [
                Param::from(order.client_id.as_str()),
                order.order_id.as_str().into(),
                event.version.into(),
                event_type(event).into(),
                now.into(),
            ]
        });
        sql.push(TAIL);
        DB::execute(conn, &sql).await?;
    }
    Ok(())
}

const ENDPOINT_COLUMNS: &str = "id, client_id, url, description, event_types, secret, \
    previous_secret, previous_secret_until, status, disabled_reason, created_at, updated_at";

pub(in crate::store) trait WebhookStatements: Database {
    async fn insert_endpoint(conn: &mut Self::Connection, e: &Endpoint) -> Result<(), sqlx::Error>;
    async fn endpoint(
        conn: &mut Self::Connection,
        client_id: &str,
        id: &str,
    ) -> Result<Option<Endpoint>, sqlx::Error>;
    async fn endpoints(
        conn: &mut Self::Connection,
        client_id: &str,
    ) -> Result<Vec<Endpoint>, sqlx::Error>;
    async fn update_endpoint(
        conn: &mut Self::Connection,
        e: &Endpoint,
    ) -> Result<bool, sqlx::Error>;
    async fn delete_endpoint(
        conn: &mut Self::Connection,
        client_id: &str,
        id: &str,
    ) -> Result<bool, sqlx::Error>;
    /// `lock` ends the selection of due rows: PostgreSQL's `FOR UPDATE OF d SKIP LOCKED`, so
    /// that dispatchers in several processes pass over each other's rows; nothing on SQLite,
    /// whose one writer does the whole statement alone.
    async fn claim_deliveries(
        conn: &mut Self::Connection,
        now: i64,
        lease_until: i64,
        limit: u32,
        lock: &str,
    ) -> Result<Vec<Claimed>, sqlx::Error>;
    async fn record_attempts(
        conn: &mut Self::Connection,
        attempts: &[AttemptRecord],
    ) -> Result<(), sqlx::Error>;
    async fn attempts(
        conn: &mut Self::Connection,
        client_id: &str,
        endpoint_id: &str,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AttemptRow>, sqlx::Error>;
    async fn purge_deliveries(
        conn: &mut Self::Connection,
        before: i64,
        batch: u32,
    ) -> Result<u64, sqlx::Error>;
    async fn redeliver(
        conn: &mut Self::Connection,
        client_id: &str,
        endpoint_id: &str,
        which: &Redeliver,
        now: i64,
    ) -> Result<u64, sqlx::Error>;
}

impl<DB> WebhookStatements for DB
where
    DB: Database,
    DB::QueryResult: RowsAffected,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> Option<&'q str>: Encode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<i32>: Encode<'q, DB> + Type<DB>,
    for<'q> DateTime<Utc>: Encode<'q, DB> + Type<DB>,
    for<'r> Endpoint: FromRow<'r, DB::Row>,
    for<'r> Claimed: FromRow<'r, DB::Row>,
    for<'r> AttemptRow: FromRow<'r, DB::Row>,
    for<'r> (i64,): FromRow<'r, DB::Row>,
{
    async fn insert_endpoint(conn: &mut DB::Connection, e: &Endpoint) -> Result<(), sqlx::Error> {
        sqlx::query(&format!(
            "INSERT INTO webhook_endpoints ({ENDPOINT_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        ))
        .bind(e.id.as_str())
        .bind(e.client_id.as_str())
        .bind(e.url.as_str())
        .bind(e.description.as_deref())
        .bind(e.event_types.as_str())
        .bind(e.secret.as_str())
        .bind(e.previous_secret.as_deref())
        .bind(e.previous_secret_until)
        .bind(e.status.as_str())
        .bind(e.disabled_reason.as_deref())
        .bind(e.created_at)
        .bind(e.updated_at)
        .execute(conn)
        .await?;
        Ok(())
    }

    async fn endpoint(
        conn: &mut DB::Connection,
        client_id: &str,
        id: &str,
    ) -> Result<Option<Endpoint>, sqlx::Error> {
        sqlx::query_as(&format!(
            "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE client_id = $1 AND id = $2"
        ))
        .bind(client_id)
        .bind(id)
        .fetch_optional(conn)
        .await
    }

    async fn endpoints(
        conn: &mut DB::Connection,
        client_id: &str,
    ) -> Result<Vec<Endpoint>, sqlx::Error> {
        sqlx::query_as(&format!(
            "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE client_id = $1 \
             ORDER BY created_at, id"
        ))
        .bind(client_id)
        .fetch_all(conn)
        .await
    }

    async fn update_endpoint(conn: &mut DB::Connection, e: &Endpoint) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(
            "UPDATE webhook_endpoints SET url = $3, description = $4, event_types = $5, \
             secret = $6, previous_secret = $7, previous_secret_until = $8, status = $9, \
             disabled_reason = $10, updated_at = $11 WHERE client_id = $1 AND id = $2",
        )
        .bind(e.client_id.as_str())
        .bind(e.id.as_str())
        .bind(e.url.as_str())
        .bind(e.description.as_deref())
        .bind(e.event_types.as_str())
        .bind(e.secret.as_str())
        .bind(e.previous_secret.as_deref())
        .bind(e.previous_secret_until)
        .bind(e.status.as_str())
        .bind(e.disabled_reason.as_deref())
        .bind(e.updated_at)
        .execute(conn)
        .await?;
        Ok(done.rows() == 1)
    }

    async fn delete_endpoint(
        conn: &mut DB::Connection,
        client_id: &str,
        id: &str,
    ) -> Result<bool, sqlx::Error> {
        let mut tx = conn.begin().await?;
        let done = sqlx::query("DELETE FROM webhook_endpoints WHERE client_id = $1 AND id = $2")
            .bind(client_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if done.rows() == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        for table in ["webhook_attempts", "webhook_deliveries"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE endpoint_id = $1"))
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn claim_deliveries(
        conn: &mut DB::Connection,
        now: i64,
        lease_until: i64,
        limit: u32,
        lock: &str,
    ) -> Result<Vec<Claimed>, sqlx::Error> {
        let ids: Vec<(i64,)> = sqlx::query_as(&format!(
            "UPDATE webhook_deliveries SET lease_until = $2 WHERE id IN (\
             SELECT d.id FROM webhook_deliveries d \
             JOIN webhook_endpoints e ON e.id = d.endpoint_id AND e.status = 'active' \
             WHERE d.state = 'pending' AND d.next_attempt_at <= $1 \
             AND (d.lease_until IS NULL OR d.lease_until <= $1) \
             AND NOT EXISTS (SELECT 1 FROM webhook_deliveries p WHERE p.state = 'pending' \
             AND p.endpoint_id = d.endpoint_id AND p.client_id = d.client_id \
             AND p.order_id = d.order_id AND p.id < d.id) \
             ORDER BY d.next_attempt_at, d.id LIMIT $3{lock}) RETURNING id"
        ))
        .bind(now)
        .bind(lease_until)
        .bind(i64::from(limit))
        .fetch_all(&mut *conn)
        .await?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
        let text = format!(
            "SELECT d.id, d.endpoint_id, d.client_id, d.order_id, d.version, d.event_type, \
             d.attempts, d.first_failed_at, e.url, e.secret, e.previous_secret, \
             e.previous_secret_until, ev.occurred_at, ev.changed_fields \
             FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id \
             JOIN order_events ev ON ev.client_id = d.client_id AND ev.order_id = d.order_id \
             AND ev.version = d.version WHERE d.id IN ({}) ORDER BY d.id",
            placeholders.join(", ")
        );
        let mut query = sqlx::query_as(&text);
        for (id,) in &ids {
            query = query.bind(*id);
        }
        query.fetch_all(conn).await
    }

    async fn record_attempts(
        conn: &mut DB::Connection,
        attempts: &[AttemptRecord],
    ) -> Result<(), sqlx::Error> {
        let mut tx = conn.begin().await?;
        for a in attempts {
            sqlx::query(
                "INSERT INTO webhook_attempts (delivery_id, endpoint_id, attempted_at, status_code, \
                 latency_ms, error) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(a.delivery_id)
            .bind(a.endpoint_id.as_str())
            .bind(a.attempted_at)
            .bind(a.status_code)
            .bind(a.latency_ms)
            .bind(a.error.as_deref())
            .execute(&mut *tx)
            .await?;
            let moved = match &a.next {
                Next::Delivered => sqlx::query(
                    "UPDATE webhook_deliveries SET state = 'delivered', attempts = attempts + 1, \
                     lease_until = NULL, completed_at = $2 WHERE id = $1",
                )
                .bind(a.delivery_id)
                .bind(a.attempted_at),
                Next::Retry {
                    at,
                    first_failed_at,
                } => sqlx::query(
                    "UPDATE webhook_deliveries SET attempts = attempts + 1, next_attempt_at = $2, \
                     first_failed_at = $3, lease_until = NULL WHERE id = $1",
                )
                .bind(a.delivery_id)
                .bind(*at)
                .bind(*first_failed_at),
                Next::GiveUp { .. } => sqlx::query(
                    "UPDATE webhook_deliveries SET state = 'failed', attempts = attempts + 1, \
                     lease_until = NULL, completed_at = $2 WHERE id = $1",
                )
                .bind(a.delivery_id)
                .bind(a.attempted_at),
            };
            moved.execute(&mut *tx).await?;
            if let Next::GiveUp { reason } = &a.next {
                sqlx::query(
                    "UPDATE webhook_endpoints SET status = 'disabled', disabled_reason = $2, \
                     updated_at = $3 WHERE id = $1",
                )
                .bind(a.endpoint_id.as_str())
                .bind(reason.as_str())
                .bind(a.attempted_at)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await
    }

    async fn attempts(
        conn: &mut DB::Connection,
        client_id: &str,
        endpoint_id: &str,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AttemptRow>, sqlx::Error> {
        sqlx::query_as(
            "SELECT a.id, a.delivery_id, d.order_id, d.version, d.event_type, d.state, \
             a.attempted_at, a.status_code, a.latency_ms, a.error \
             FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id \
             WHERE d.client_id = $1 AND a.endpoint_id = $2 AND a.id < $3 \
             ORDER BY a.id DESC LIMIT $4",
        )
        .bind(client_id)
        .bind(endpoint_id)
        .bind(before.unwrap_or(i64::MAX))
        .bind(i64::from(limit))
        .fetch_all(conn)
        .await
    }

    async fn purge_deliveries(
        conn: &mut DB::Connection,
        before: i64,
        batch: u32,
    ) -> Result<u64, sqlx::Error> {
        const FINISHED: &str = "SELECT id FROM webhook_deliveries WHERE state <> 'pending' \
            AND completed_at < $1 ORDER BY completed_at LIMIT $2";
        let mut tx = conn.begin().await?;
        sqlx::query(&format!(
            "DELETE FROM webhook_attempts WHERE delivery_id IN ({FINISHED})"
        ))
        .bind(before)
        .bind(i64::from(batch))
        .execute(&mut *tx)
        .await?;
        let done = sqlx::query(&format!(
            "DELETE FROM webhook_deliveries WHERE id IN ({FINISHED})"
        ))
        .bind(before)
        .bind(i64::from(batch))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows())
    }

    async fn redeliver(
        conn: &mut DB::Connection,
        client_id: &str,
        endpoint_id: &str,
        which: &Redeliver,
        now: i64,
    ) -> Result<u64, sqlx::Error> {
        const HEAD: &str = "INSERT INTO webhook_deliveries (endpoint_id, client_id, order_id, \
            version, event_type, created_at, state, attempts, next_attempt_at) \
            SELECT e.id, ev.client_id, ev.order_id, ev.version, ('order.' || ev.event_type), $3, \
            'pending', 0, $3 FROM webhook_endpoints e \
            JOIN order_events ev ON ev.client_id = e.client_id \
            WHERE e.client_id = $1 AND e.id = $2 AND ";
        let done = match which {
            Redeliver::Event { order_id, version } => {
                sqlx::query(&format!("{HEAD}ev.order_id = $4 AND ev.version = $5"))
                    .bind(client_id)
                    .bind(endpoint_id)
                    .bind(now)
                    .bind(order_id.as_str())
                    .bind(*version)
                    .execute(conn)
                    .await?
            }
            Redeliver::Since { time, limit } => {
                sqlx::query(&format!(
                    "{HEAD}ev.occurred_at >= $4 AND (e.event_types = '*' \
                     OR e.event_types LIKE ('% order.' || ev.event_type || ' %')) \
                     ORDER BY ev.occurred_at, ev.order_id, ev.version LIMIT $5"
                ))
                .bind(client_id)
                .bind(endpoint_id)
                .bind(now)
                .bind(*time)
                .bind(i64::from(*limit))
                .execute(conn)
                .await?
            }
        };
        Ok(done.rows())
    }
}
