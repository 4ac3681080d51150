//! The search statement, written once for both backends: `QueryBuilder` emits each backend's own
//! placeholders, and both bind `DateTime<Utc>` natively (TIMESTAMPTZ / ISO text in UTC).

use chrono::{DateTime, Utc};
use sqlx::{Database, Encode, QueryBuilder, Type};

use crate::domain::search::{DateField, Filter, SearchQuery};

/// Appends `FROM orders o WHERE …` for a client's live orders matching `query`.
pub(super) fn push_from_where<'a, DB>(
    qb: &mut QueryBuilder<'a, DB>,
    client_id: &str,
    query: &SearchQuery,
) where
    DB: Database,
    String: Encode<'a, DB> + Type<DB>,
    DateTime<Utc>: Encode<'a, DB> + Type<DB>,
{
    qb.push(" FROM orders o WHERE o.client_id = ");
    qb.push_bind(client_id.to_string());
    qb.push(" AND o.deleted_at IS NULL");
    for filter in &query.filters {
        qb.push(" AND ");
        match filter {
            // Two index lookups joined, not `order_id IN … OR client_order_id_lc IN …`: with
            // a date window beside the OR, SQLite walked the window instead (6 s at 1M orders).
            Filter::OrderIdOrClientOrderId(values) => {
                qb.push("o.order_id IN (SELECT i.order_id FROM orders i WHERE ");
                push_in(qb, "i.order_id", values);
                qb.push(" UNION ALL SELECT i.order_id FROM orders i WHERE i.client_id = ");
                qb.push_bind(client_id.to_string());
                qb.push(" AND i.deleted_at IS NULL AND ");
                push_in(qb, "i.client_order_id_lc", &lower(values));
                qb.push(")");
            }
            Filter::OrderId(values) => push_in(qb, "o.order_id", values),
            Filter::ClientOrderId(values) => push_in(qb, "o.client_order_id_lc", values),
            Filter::Brand(values) => push_in(qb, "o.brand_lc", values),
            Filter::OrderType(values) => push_in(qb, "o.order_type_lc", values),
            Filter::CustomerId(values) => push_in(qb, "o.customer_id_lc", values),
            Filter::Status(values) => {
                let words: Vec<String> = values.iter().map(|s| s.as_str().to_string()).collect();
                push_in(qb, "o.status", &words)
            }
            Filter::Tag(values) => push_exists(qb, "order_tags", "tag_lc", values),
            Filter::Sku(values) => push_exists(qb, "order_skus", "sku_lc", values),
            Filter::Date { field, from, to } => {
                qb.push("(1 = 1");
                if let Some(from) = from {
                    qb.push(format!(" AND o.{} >= ", field.column()));
                    qb.push_bind(*from);
                }
                if let Some(to) = to {
                    qb.push(format!(" AND o.{} <= ", field.column()));
                    qb.push_bind(*to);
                }
                qb.push(")");
            }
        }
    }
}

/// One page of documents, `doc` being the column expression that yields the document as text.
///
/// The page's keys are found first, in a subquery that reads only the index (`client_id`,
/// `order_id` and the sort columns), and only the `size` rows of the page are then read for their
/// documents: a deep page skips its `OFFSET` rows in the index instead of reading (and, on
/// PostgreSQL, converting) every skipped document.
pub(super) fn push_page<'a, DB>(
    qb: &mut QueryBuilder<'a, DB>,
    doc: &str,
    client_id: &str,
    query: &SearchQuery,
) where
    DB: Database,
    String: Encode<'a, DB> + Type<DB>,
    DateTime<Utc>: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
{
    qb.push(format!(
        "SELECT {doc} FROM orders d JOIN (SELECT o.client_id, o.order_id"
    ));
    let mut columns: Vec<&str> = Vec::new();
    for key in &query.sort {
        let column = key.field.column();
        if !columns.contains(&column) {
            columns.push(column);
            qb.push(format!(", o.{column}"));
        }
    }
    push_from_where(qb, client_id, query);
    push_implied_bounds(qb, query);
    push_order(qb, "o", query);
    qb.push(" LIMIT ");
    qb.push_bind(i64::from(query.size));
    qb.push(" OFFSET ");
    qb.push_bind(query.offset() as i64);
    qb.push(") p ON d.client_id = p.client_id AND d.order_id = p.order_id");
    push_order(qb, "p", query);
}

/// `AND o.pb_update_date >= from` for a page sorted by pbUpdateDate in a window that starts at
/// `pbCreateDate >= from`. It drops no order: none is updated before it was created, which both
/// schemas enforce (postgres 0008, sqlite 0007). Without it the page walks the pbUpdateDate index
/// from the oldest update and filters out every order created before the window (three quarters
/// of a million at 1M orders with the default six months: 64 ms for page 1 on PostgreSQL, 67 ms
/// on SQLite); with it the walk starts where the window does (0.2 ms). Only pages get it: the
/// count reads the window's own index either way.
fn push_implied_bounds<'a, DB>(qb: &mut QueryBuilder<'a, DB>, query: &SearchQuery)
where
    DB: Database,
    DateTime<Utc>: Encode<'a, DB> + Type<DB>,
{
    if !query
        .sort
        .iter()
        .any(|k| k.field == DateField::PbUpdateDate)
    {
        return;
    }
    for filter in &query.filters {
        if let Filter::Date {
            field: DateField::PbCreateDate,
            from: Some(from),
            ..
        } = filter
        {
            qb.push(" AND o.pb_update_date >= ");
            qb.push_bind(*from);
        }
    }
}

/// `ORDER BY …, order_id` so that pages are stable. Absent dates sort last in both directions;
/// the server's own dates are never absent, and leaving `NULLS LAST` off for them lets both
/// backends walk an index (`…, date, order_id`) in either direction instead of sorting.
fn push_order<DB: Database>(qb: &mut QueryBuilder<'_, DB>, alias: &str, query: &SearchQuery) {
    qb.push(" ORDER BY ");
    let mut last_desc = true;
    for key in &query.sort {
        let dir = if key.descending { "DESC" } else { "ASC" };
        let nulls = match key.field {
            DateField::PbCreateDate | DateField::PbUpdateDate => "",
            DateField::CreateDate | DateField::UpdateDate => " NULLS LAST",
        };
        qb.push(format!("{alias}.{} {dir}{nulls}, ", key.field.column()));
        last_desc = key.descending;
    }
    qb.push(format!(
        "{alias}.order_id {}",
        if last_desc { "DESC" } else { "ASC" }
    ));
}

fn push_in<'a, DB>(qb: &mut QueryBuilder<'a, DB>, column: &str, values: &[String])
where
    DB: Database,
    String: Encode<'a, DB> + Type<DB>,
{
    if values.is_empty() {
        qb.push("1 = 0");
        return;
    }
    qb.push(format!("{column} IN ("));
    let mut sep = qb.separated(", ");
    for v in values {
        sep.push_bind(v.clone());
    }
    qb.push(")");
}

/// A correlated EXISTS per order, not `o.order_id IN (orders with the tag)`: a tag on a tenth
/// of a million orders made SQLite drive from the tag index and read 100,000 orders at random
/// (2-8 s where EXISTS over the window's index takes 0.1-0.3 s); PostgreSQL plans both as the
/// same semi-join.
fn push_exists<'a, DB>(qb: &mut QueryBuilder<'a, DB>, table: &str, column: &str, values: &[String])
where
    DB: Database,
    String: Encode<'a, DB> + Type<DB>,
{
    qb.push(format!(
        "EXISTS (SELECT 1 FROM {table} x WHERE x.client_id = o.client_id \
         AND x.order_id = o.order_id AND "
    ));
    push_in(qb, &format!("x.{column}"), values);
    qb.push(")");
}

fn lower(values: &[String]) -> Vec<String> {
    values.iter().map(|v| v.to_lowercase()).collect()
}
