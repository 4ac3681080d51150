//! The search statement, written once for both backends: `QueryBuilder` emits each backend's own
//! placeholders, and both bind `DateTime<Utc>` natively (TIMESTAMPTZ / ISO text in UTC).

use chrono::{DateTime, Utc};
use sqlx::{Database, Encode, QueryBuilder, Type};

use crate::domain::search::{Filter, SearchQuery};

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
            Filter::OrderIdOrClientOrderId(values) => {
                qb.push("(");
                push_in(qb, "o.order_id", values);
                qb.push(" OR ");
                push_in(qb, "o.client_order_id_lc", &lower(values));
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

/// `ORDER BY …, order_id` so that pages are stable; `LIMIT/OFFSET` for the requested page.
pub(super) fn push_order_and_page<'a, DB>(qb: &mut QueryBuilder<'a, DB>, query: &SearchQuery)
where
    DB: Database,
    i64: Encode<'a, DB> + Type<DB>,
{
    qb.push(" ORDER BY ");
    let mut last_desc = true;
    for key in &query.sort {
        let dir = if key.descending { "DESC" } else { "ASC" };
        qb.push(format!("o.{} {dir} NULLS LAST, ", key.field.column()));
        last_desc = key.descending;
    }
    qb.push(if last_desc {
        "o.order_id DESC"
    } else {
        "o.order_id ASC"
    });
    qb.push(" LIMIT ");
    qb.push_bind(i64::from(query.size));
    qb.push(" OFFSET ");
    qb.push_bind(query.offset() as i64);
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
