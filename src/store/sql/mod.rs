//! Every statement oms runs, written once for both backends. sqlx's SQLite driver takes `$N`
//! placeholders as PostgreSQL's does, and both drivers encode what is bound here: dates natively
//! (TIMESTAMPTZ, UTC text), the order document and an event's changed fields as [`Json`] (JSONB,
//! text). The backend modules keep what really differs: connections, how a unique violation is
//! named, and the search plan hint.
//!
//! [`Statements`] is implemented for every sqlx database that can run them, so its bounds are
//! written once, here; the backends call `Postgres::get(…)`, `Sqlite::get(…)`.

mod builder;
mod clients;
mod counts;
mod search;
mod webhooks;

pub(super) use clients::ClientStatements;
pub(super) use search::{KeyOrder, sort_matches};
pub(super) use webhooks::WebhookStatements;

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use sqlx::error::BoxDynError;
use sqlx::postgres::PgQueryResult;
use sqlx::sqlite::SqliteQueryResult;
use sqlx::types::Json;
use sqlx::{Arguments, Connection, Database, Encode, Executor, FromRow, IntoArguments, Type};

use builder::{Param, Sql};

use super::{IdempotencyRecord, Reindex};
use crate::domain::Order;
use crate::domain::history::{EventKind, HistoryEvent};
use crate::domain::search::Page;
use crate::domain::search::SearchQuery;
use crate::domain::size::{
    LARGE_PAGE_BYTES, MAX_SEARCH_PAGE_BYTES, PageMemory, PageTooLarge, json_len,
};

/// Parameters one statement may bind: SQLite's default limit (PostgreSQL allows 65,535).
const MAX_PARAMS: usize = 32_766;

/// The statements, as transactions where a change writes more than one row. Each returns sqlx's
/// own error; the backend names conflicts and outages.
pub(super) trait Statements: Database {
    /// New orders with their tag and SKU rows and first events, and an idempotency record for
    /// the first order when given: all of them or none.
    async fn insert(
        conn: &mut Self::Connection,
        orders: &[(&Order, &HistoryEvent)],
        idempotency: Option<&IdempotencyRecord>,
    ) -> Result<(), sqlx::Error>;

    /// Writes `order` over the stored version `expected_version`, with its event; `false` when
    /// the stored order is no longer at that version (nothing was written).
    async fn update(
        conn: &mut Self::Connection,
        order: &Order,
        expected_version: i64,
        reindex: Reindex,
        event: &HistoryEvent,
    ) -> Result<bool, sqlx::Error>;

    async fn get(
        conn: &mut Self::Connection,
        client_id: &str,
        order_id: &str,
    ) -> Result<Option<Order>, sqlx::Error>;

    async fn history(
        conn: &mut Self::Connection,
        client_id: &str,
        order_id: &str,
    ) -> Result<Vec<HistoryEvent>, sqlx::Error>;

    async fn idempotency(
        conn: &mut Self::Connection,
        client_id: &str,
        key: &str,
    ) -> Result<Option<IdempotencyRecord>, sqlx::Error>;

    async fn forget_idempotency(
        conn: &mut Self::Connection,
        client_id: &str,
        key: &str,
    ) -> Result<(), sqlx::Error>;

    async fn purge_idempotency(
        conn: &mut Self::Connection,
        before: DateTime<Utc>,
        batch: u32,
    ) -> Result<u64, sqlx::Error>;

    /// The matches' count, then one page of them; `plan` picks how the page's keys are ordered
    /// from the count.
    async fn search(
        conn: &mut Self::Connection,
        client_id: &str,
        query: &SearchQuery,
        plan: fn(&SearchQuery, u64) -> KeyOrder,
    ) -> Result<Page<Order>, sqlx::Error>;

    /// Reachable and migrated.
    async fn ping(conn: &mut Self::Connection) -> Result<(), sqlx::Error>;

    /// Runs a statement assembled at run time; the rows it changed.
    async fn execute(conn: &mut Self::Connection, sql: &Sql<'_>) -> Result<u64, sqlx::Error>;

    /// The values of `params`, encoded for this database.
    fn arguments<'q>(params: &'q [Param<'_>]) -> Result<Self::Arguments<'q>, BoxDynError>;
}

/// The rows a statement changed: sqlx has the method on each backend's result, not a trait.
pub(super) trait RowsAffected {
    fn rows(&self) -> u64;
}

impl RowsAffected for PgQueryResult {
    fn rows(&self) -> u64 {
        self.rows_affected()
    }
}

impl RowsAffected for SqliteQueryResult {
    fn rows(&self) -> u64 {
        self.rows_affected()
    }
}

impl<DB> Statements for DB
where
    DB: Database,
    DB::QueryResult: RowsAffected,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> Option<&'q str>: Encode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> DateTime<Utc>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<DateTime<Utc>>: Encode<'q, DB> + Type<DB>,
    for<'q> Json<&'q Order>: Encode<'q, DB> + Type<DB>,
    for<'q> Json<&'q [String]>: Encode<'q, DB> + Type<DB>,
    for<'r> (i64,): FromRow<'r, DB::Row>,
    for<'r> (Json<Order>,): FromRow<'r, DB::Row>,
    for<'r> EventRow: FromRow<'r, DB::Row>,
    for<'r> IdempotencyRow: FromRow<'r, DB::Row>,
{
    async fn insert(
        conn: &mut DB::Connection,
        orders: &[(&Order, &HistoryEvent)],
        idempotency: Option<&IdempotencyRecord>,
    ) -> Result<(), sqlx::Error> {
        let rows: Vec<(&Order, Columns)> =
            orders.iter().map(|(o, _)| (*o, Columns::of(o))).collect();
        let mut tx = conn.begin().await?;
        if let (Some(rec), Some((order, _))) = (idempotency, orders.first()) {
            sqlx::query(
                "INSERT INTO idempotency_keys \
                 (client_id, idem_key, request_hash, order_id, created_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(order.client_id.as_str())
            .bind(rec.key.as_str())
            .bind(rec.request_hash.as_str())
            .bind(rec.order_id.as_str())
            .bind(rec.created_at)
            .execute(&mut *tx)
            .await?;
        }
        insert_rows::<DB, _, 15>(&mut tx, &INSERT_ORDERS, &rows, |(order, cols)| {
            order_row(order, cols)
        })
        .await?;
        let all = Reindex {
            tags: true,
            skus: true,
        };
        insert_side_rows::<DB>(&mut tx, &rows, all).await?;
        insert_rows::<DB, _, 9>(&mut tx, INSERT_EVENTS, orders, |(order, event)| {
            event_row(order, event)
        })
        .await?;
        webhooks::enqueue::<DB>(&mut tx, orders).await?;
        tx.commit().await
    }

    async fn update(
        conn: &mut DB::Connection,
        order: &Order,
        expected_version: i64,
        reindex: Reindex,
        event: &HistoryEvent,
    ) -> Result<bool, sqlx::Error> {
        let cols = Columns::of(order);
        let mut tx = conn.begin().await?;
        let row = order_row(order, &cols);
        let [client_id, order_id, ..] = &row;
        let key = [client_id.clone(), order_id.clone(), expected_version.into()];
        let mut update = Sql::new(&UPDATE_ORDER);
        update
            .params
            .extend(row.into_iter().skip(FIXED_COLUMNS).chain(key));
        let done = DB::execute(&mut tx, &update).await?;
        if done == 0 {
            // At once, not when the connection is next used: a statement that waited for a
            // concurrent writer keeps the row locked until its transaction ends.
            tx.rollback().await?;
            return Ok(false);
        }
        for (wanted, table) in [(reindex.tags, "order_tags"), (reindex.skus, "order_skus")] {
            if wanted {
                sqlx::query(&format!(
                    "DELETE FROM {table} WHERE client_id = $1 AND order_id = $2"
                ))
                .bind(order.client_id.as_str())
                .bind(order.order_id.as_str())
                .execute(&mut *tx)
                .await?;
            }
        }
        insert_side_rows::<DB>(&mut tx, &[(order, cols)], reindex).await?;
        insert_rows::<DB, _, 9>(
            &mut tx,
            INSERT_EVENTS,
            &[(order, event)],
            |(order, event)| event_row(order, event),
        )
        .await?;
        webhooks::enqueue::<DB>(&mut tx, &[(order, event)]).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn get(
        conn: &mut DB::Connection,
        client_id: &str,
        order_id: &str,
    ) -> Result<Option<Order>, sqlx::Error> {
        let doc: Option<Json<Order>> = sqlx::query_scalar(
            "SELECT doc FROM orders WHERE client_id = $1 AND order_id = $2 AND deleted_at IS NULL",
        )
        .bind(client_id)
        .bind(order_id)
        .fetch_optional(conn)
        .await?;
        Ok(doc.map(|Json(order)| order))
    }

    async fn history(
        conn: &mut DB::Connection,
        client_id: &str,
        order_id: &str,
    ) -> Result<Vec<HistoryEvent>, sqlx::Error> {
        let rows: Vec<EventRow> = sqlx::query_as(
            "SELECT e.event_type, e.version, e.occurred_at, e.actor, e.actor_key, e.transaction_id, \
             e.changed_fields FROM order_events e \
             JOIN orders o ON o.client_id = e.client_id AND o.order_id = e.order_id \
             AND o.deleted_at IS NULL \
             WHERE e.client_id = $1 AND e.order_id = $2 ORDER BY e.version",
        )
        .bind(client_id)
        .bind(order_id)
        .fetch_all(conn)
        .await?;
        rows.into_iter().map(EventRow::into_event).collect()
    }

    async fn idempotency(
        conn: &mut DB::Connection,
        client_id: &str,
        key: &str,
    ) -> Result<Option<IdempotencyRecord>, sqlx::Error> {
        let row: Option<IdempotencyRow> = sqlx::query_as(
            "SELECT request_hash, order_id, created_at FROM idempotency_keys \
             WHERE client_id = $1 AND idem_key = $2",
        )
        .bind(client_id)
        .bind(key)
        .fetch_optional(conn)
        .await?;
        Ok(row.map(|r| IdempotencyRecord {
            key: key.to_string(),
            request_hash: r.request_hash,
            order_id: r.order_id,
            created_at: r.created_at,
        }))
    }

    async fn forget_idempotency(
        conn: &mut DB::Connection,
        client_id: &str,
        key: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM idempotency_keys WHERE client_id = $1 AND idem_key = $2")
            .bind(client_id)
            .bind(key)
            .execute(conn)
            .await?;
        Ok(())
    }

    async fn purge_idempotency(
        conn: &mut DB::Connection,
        before: DateTime<Utc>,
        batch: u32,
    ) -> Result<u64, sqlx::Error> {
        let done = sqlx::query(
            "DELETE FROM idempotency_keys WHERE (client_id, idem_key) IN \
             (SELECT client_id, idem_key FROM idempotency_keys WHERE created_at < $1 LIMIT $2)",
        )
        .bind(before)
        .bind(i64::from(batch))
        .execute(conn)
        .await?;
        Ok(done.rows())
    }

    async fn search(
        conn: &mut DB::Connection,
        client_id: &str,
        query: &SearchQuery,
        plan: fn(&SearchQuery, u64) -> KeyOrder,
    ) -> Result<Page<Order>, sqlx::Error> {
        let mut count = Sql::default();
        if counts::push_counted_total(&mut count, client_id, query)
            .or_else(|| counts::push_side_total(&mut count, client_id, query))
            .is_none()
        {
            count = Sql::new("SELECT COUNT(*)");
            search::push_from_where(&mut count, client_id, query);
        }
        let args = DB::arguments(&count.params).map_err(sqlx::Error::Encode)?;
        let (total,): (i64,) = sqlx::query_as_with(&count.text, args)
            .fetch_one(&mut *conn)
            .await?;
        let total = total as u64;
        let mut page = Sql::default();
        search::push_page(&mut page, client_id, query, plan(query, total));
        let args = DB::arguments(&page.params).map_err(sqlx::Error::Encode)?;
        // Row by row, so that a page too large is given up at the order that passes the bound
        // rather than read whole first.
        let mut rows =
            sqlx::query_as_with::<_, (Json<Order>,), _>(&page.text, args).fetch(&mut *conn);
        let (mut items, mut bytes) = (Vec::new(), 0);
        let mut memory = PageMemory::default();
        let rows_at_most = total
            .saturating_sub(query.offset())
            .min(u64::from(query.size)) as usize;
        while let Some((Json(order),)) = rows.try_next().await? {
            bytes += json_len(&order);
            if bytes > MAX_SEARCH_PAGE_BYTES {
                return Err(sqlx::Error::Decode(Box::new(PageTooLarge)));
            }
            items.push(order);
            if bytes > LARGE_PAGE_BYTES && !memory.is_reserved() {
                let more = rows_at_most.saturating_sub(items.len());
                memory = PageMemory::reserve(bytes, more).await;
            }
        }
        Ok(Page {
            items,
            total,
            memory,
        })
    }

    async fn ping(conn: &mut DB::Connection) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT 1 FROM _sqlx_migrations LIMIT 1")
            .execute(conn)
            .await?;
        Ok(())
    }

    async fn execute(conn: &mut DB::Connection, sql: &Sql<'_>) -> Result<u64, sqlx::Error> {
        let args = DB::arguments(&sql.params).map_err(sqlx::Error::Encode)?;
        let done = sqlx::query_with(&sql.text, args).execute(conn).await?;
        Ok(done.rows())
    }

    fn arguments<'q>(params: &'q [Param<'_>]) -> Result<DB::Arguments<'q>, BoxDynError> {
        let mut args = DB::Arguments::default();
        for param in params {
            match param {
                Param::Str(s) => args.add(*s)?,
                Param::Text(s) => args.add(s.as_str())?,
                Param::Int(n) => args.add(*n)?,
                Param::Time(t) => args.add(*t)?,
                Param::Doc(order) => args.add(Json(*order))?,
                Param::Names(names) => args.add(Json(*names))?,
            }
        }
        Ok(args)
    }
}

/// An order row's columns, in the order [`order_row`] binds them. The first [`FIXED_COLUMNS`]
/// are written once, by the insert; an update writes the others.
const ORDER_COLUMNS: [&str; 15] = [
    "client_id",
    "order_id",
    "pb_create_date",
    "client_order_id",
    "client_order_id_lc",
    "brand_lc",
    "order_type_lc",
    "customer_id_lc",
    "status",
    "create_date",
    "update_date",
    "pb_update_date",
    "deleted_at",
    "version",
    "doc",
];
const FIXED_COLUMNS: usize = 3;

fn order_row<'a>(order: &'a Order, cols: &'a Columns) -> [Param<'a>; 15] {
    [
        order.client_id.as_str().into(),
        order.order_id.as_str().into(),
        order.pb_create_date.into(),
        order.content.client_order_id.as_str().into(),
        cols.client_order_id_lc.as_str().into(),
        cols.brand_lc.as_deref().into(),
        cols.order_type_lc.as_deref().into(),
        cols.customer_id_lc.as_deref().into(),
        order.status.as_str().into(),
        cols.create_date.into(),
        cols.update_date.into(),
        order.pb_update_date.into(),
        order.deleted_at.into(),
        order.version.into(),
        Param::Doc(order),
    ]
}

static INSERT_ORDERS: LazyLock<String> =
    LazyLock::new(|| format!("INSERT INTO orders ({}) VALUES ", ORDER_COLUMNS.join(", ")));

/// Every column but the fixed ones, of the live order at the expected version.
static UPDATE_ORDER: LazyLock<String> = LazyLock::new(|| {
    let set: Vec<String> = ORDER_COLUMNS[FIXED_COLUMNS..]
        .iter()
        .enumerate()
        .map(|(i, column)| format!("{column} = ${}", i + 1))
        .collect();
    let n = set.len();
    format!(
        "UPDATE orders SET {} WHERE client_id = ${} AND order_id = ${} AND version = ${} \
         AND deleted_at IS NULL",
        set.join(", "),
        n + 1,
        n + 2,
        n + 3
    )
});

/// The columns of an order row derived from its document, so that they cannot drift from it.
struct Columns {
    client_order_id_lc: String,
    brand_lc: Option<String>,
    order_type_lc: Option<String>,
    customer_id_lc: Option<String>,
    create_date: Option<DateTime<Utc>>,
    update_date: Option<DateTime<Utc>>,
    tags_lc: Vec<String>,
    skus_lc: Vec<String>,
}

impl Columns {
    fn of(order: &Order) -> Columns {
        let c = &order.content;
        let mut tags_lc: Vec<String> = order.tags.iter().map(|t| t.to_lowercase()).collect();
        tags_lc.sort();
        tags_lc.dedup();
        let mut skus_lc: Vec<String> = c
            .order_lines
            .iter()
            .filter_map(|l| l.sku.as_deref())
            .map(str::to_lowercase)
            .collect();
        skus_lc.sort();
        skus_lc.dedup();
        Columns {
            client_order_id_lc: c.client_order_id.to_lowercase(),
            brand_lc: c.brand.as_deref().map(str::to_lowercase),
            order_type_lc: c.order_type.map(|t| t.as_str().to_lowercase()),
            customer_id_lc: c.sendpro.customer_id().map(str::to_lowercase),
            create_date: c.create_date.as_ref().map(|d| d.instant()),
            update_date: c.update_date.as_ref().map(|d| d.instant()),
            tags_lc,
            skus_lc,
        }
    }
}

const INSERT_EVENTS: &str = "INSERT INTO order_events (client_id, order_id, version, \
     event_type, occurred_at, actor, actor_key, transaction_id, changed_fields) VALUES ";

fn event_row<'a>(order: &'a Order, event: &'a HistoryEvent) -> [Param<'a>; 9] {
    [
        order.client_id.as_str().into(),
        order.order_id.as_str().into(),
        event.version.into(),
        event.kind.as_str().into(),
        event.time.into(),
        event.actor.as_str().into(),
        event.actor_key.as_deref().into(),
        event.transaction_id.as_deref().into(),
        Param::Names(&event.changed_fields),
    ]
}

/// The tag and SKU rows `reindex` names, for every order in `rows`.
async fn insert_side_rows<DB: Statements>(
    conn: &mut DB::Connection,
    rows: &[(&Order, Columns)],
    reindex: Reindex,
) -> Result<(), sqlx::Error> {
    type Values = fn(&Columns) -> &[String];
    let sides: [(bool, &str, Values); 2] = [
        (
            reindex.tags,
            "INSERT INTO order_tags (client_id, order_id, tag_lc, pb_create_date) VALUES ",
            |c| &c.tags_lc,
        ),
        (
            reindex.skus,
            "INSERT INTO order_skus (client_id, order_id, sku_lc, pb_create_date) VALUES ",
            |c| &c.skus_lc,
        ),
    ];
    for (wanted, head, values) in sides {
        if !wanted {
            continue;
        }
        let side: Vec<(&Order, &str)> = rows
            .iter()
            .flat_map(|(order, cols)| values(cols).iter().map(move |v| (*order, v.as_str())))
            .collect();
        insert_rows::<DB, _, 4>(conn, head, &side, |(order, value)| {
            [
                order.client_id.as_str().into(),
                order.order_id.as_str().into(),
                (*value).into(),
                order.pb_create_date.into(),
            ]
        })
        .await?;
    }
    Ok(())
}

/// `head` followed by one group of values per row, in as few statements as the parameter limit
/// allows.
async fn insert_rows<'a, DB: Statements, T, const N: usize>(
    conn: &mut DB::Connection,
    head: &str,
    rows: &'a [T],
    row: impl Fn(&'a T) -> [Param<'a>; N],
) -> Result<(), sqlx::Error> {
    for chunk in rows.chunks(MAX_PARAMS / N) {
        let mut sql = Sql::new(head);
        sql.push_rows(chunk, &row);
        DB::execute(conn, &sql).await?;
    }
    Ok(())
}

/// An `order_events` row as both backends return it.
#[derive(FromRow)]
pub(super) struct EventRow {
    event_type: String,
    version: i64,
    occurred_at: DateTime<Utc>,
    actor: String,
    actor_key: Option<String>,
    transaction_id: Option<String>,
    changed_fields: Json<Vec<String>>,
}

impl EventRow {
    fn into_event(self) -> Result<HistoryEvent, sqlx::Error> {
        let kind = EventKind::parse(&self.event_type).ok_or_else(|| {
            sqlx::Error::Decode(format!("unknown event type {}", self.event_type).into())
        })?;
        Ok(HistoryEvent {
            kind,
            version: self.version,
            time: self.occurred_at,
            actor: self.actor,
            actor_key: self.actor_key,
            transaction_id: self.transaction_id,
            changed_fields: self.changed_fields.0,
        })
    }
}

/// An `idempotency_keys` row as both backends return it.
#[derive(FromRow)]
pub(super) struct IdempotencyRow {
    request_hash: String,
    order_id: String,
    created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_update_writes_every_column_but_the_fixed_ones_of_the_expected_version() {
        assert_eq!(
            *UPDATE_ORDER,
            "UPDATE orders SET client_order_id = $1, client_order_id_lc = $2, brand_lc = $3, \
             order_type_lc = $4, customer_id_lc = $5, status = $6, create_date = $7, \
             update_date = $8, pb_update_date = $9, deleted_at = $10, version = $11, \
             doc = $12 WHERE client_id = $13 AND order_id = $14 AND version = $15 \
             AND deleted_at IS NULL"
        );
        assert!(INSERT_ORDERS.starts_with("INSERT INTO orders (client_id, order_id, "));
    }
}
