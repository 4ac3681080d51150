//! The search statements: a count and a page, built from the query's filters and sort.

use super::builder::Sql;

use crate::domain::search::{DateField, Filter, SearchQuery};

/// Appends `FROM orders o WHERE …` for a client's live orders matching `query`.
pub(super) fn push_from_where(qb: &mut Sql<'_>, client_id: &str, query: &SearchQuery) {
    qb.push(" FROM orders o WHERE o.client_id = ");
    qb.push_bind(client_id.to_string());
    qb.push(" AND o.deleted_at IS NULL");
    for filter in &query.filters {
        qb.push(" AND ");
        match filter {
            // Two index lookups joined, not `order_id IN … OR client_order_id_lc IN …`: with
            // a date window beside the OR, SQLite walks the window instead.
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

/// One page of documents.
///
/// The page's keys are found first, in a subquery that reads only the index (`client_id`,
/// `order_id` and the sort columns), and only the `size` rows of the page are then read for their
/// documents: a deep page skips its `OFFSET` rows in the index instead of reading (and, on
/// PostgreSQL, converting) every skipped document.
pub(super) fn push_page(qb: &mut Sql<'_>, client_id: &str, query: &SearchQuery, keys: KeyOrder) {
    qb.push("SELECT d.doc FROM orders d JOIN (SELECT o.client_id, o.order_id");
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
    push_order(qb, "o", query, keys);
    qb.push(" LIMIT ");
    qb.push_bind(i64::from(query.size));
    qb.push(" OFFSET ");
    qb.push_bind(query.offset() as i64);
    qb.push(") p ON d.client_id = p.client_id AND d.order_id = p.order_id");
    push_order(qb, "p", query, KeyOrder::Index);
}

/// How the subquery of [`push_page`] orders the matching keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(in crate::store) enum KeyOrder {
    /// By the sort columns themselves, so that the database may walk an index in that order.
    Index,
    /// By expressions no index has (PostgreSQL only), so that PostgreSQL sorts the matches
    /// instead of walking a date index; see [`sort_matches`].
    Sorted,
}

/// A page sorted by a client date (createDate, updateDate) with a status filter sorts its
/// matches on PostgreSQL when the count found at most this many.
pub(in crate::store) const SORT_MATCHES_UP_TO: u64 = 50_000;

/// Whether a PostgreSQL page should sort its `total` matches rather than walk the sort date's
/// index.
///
/// Sorted by createDate or updateDate, PostgreSQL walks that date's index and filters, assuming
/// the matches are spread evenly along it. They are not: client dates follow the order's own
/// pbCreateDate, so with the six-month window oldest-first the walk passes most of the window
/// before its first match. Sorting the matches costs what reading them costs, and with a status
/// filter they are read from an index of status and window that carries both client dates
/// (migration 0009). A large result would cost more to sort than a walk, so the count bounds it; other filters'
/// indexes do not carry the dates, so the sort would read every match's row.
pub(in crate::store) fn sort_matches(query: &SearchQuery, total: u64) -> bool {
    total <= SORT_MATCHES_UP_TO
        && query.sort.first().is_some_and(|k| k.field.is_client_date())
        && query.filters.iter().any(|f| matches!(f, Filter::Status(_)))
}

/// `AND o.pb_update_date >= from` for a page sorted by pbUpdateDate in a window that starts at
/// `pbCreateDate >= from`. It drops no order: none is updated before it was created, which both
/// schemas enforce (postgres 0008, sqlite 0007). Without it the page walks the pbUpdateDate index
/// from the oldest update and filters out every order created before the window; with it the
/// walk starts where the window does. Only pages get it: the count reads the window's own index
/// either way.
fn push_implied_bounds(qb: &mut Sql<'_>, query: &SearchQuery) {
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
///
/// [`KeyOrder::Sorted`] writes a client date as `COALESCE(date, 'infinity')` ascending and
/// `COALESCE(date, '-infinity')` descending: the same order, absent dates last, as an expression.
fn push_order(qb: &mut Sql<'_>, alias: &str, query: &SearchQuery, keys: KeyOrder) {
    qb.push(" ORDER BY ");
    let mut last_desc = true;
    for key in &query.sort {
        let dir = if key.descending { "DESC" } else { "ASC" };
        let column = format!("{alias}.{}", key.field.column());
        match (key.field.is_client_date(), keys) {
            (false, _) => qb.push(format!("{column} {dir}, ")),
            (true, KeyOrder::Index) => qb.push(format!("{column} {dir} NULLS LAST, ")),
            (true, KeyOrder::Sorted) => {
                let last = if key.descending {
                    "-infinity"
                } else {
                    "infinity"
                };
                qb.push(format!("COALESCE({column}, '{last}'::timestamptz) {dir}, "))
            }
        };
        last_desc = key.descending;
    }
    qb.push(format!(
        "{alias}.order_id {}",
        if last_desc { "DESC" } else { "ASC" }
    ));
}

pub(super) fn push_in(qb: &mut Sql<'_>, column: &str, values: &[String]) {
    if values.is_empty() {
        qb.push("1 = 0");
        return;
    }
    qb.push(format!("{column} IN ("));
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            qb.push(", ");
        }
        qb.push_bind(v.clone());
    }
    qb.push(")");
}

/// A correlated EXISTS per order, not `o.order_id IN (orders with the tag)`: for a common tag
/// SQLite would drive from the tag index and read every tagged order at random instead of
/// walking the window's index; PostgreSQL plans both as the same semi-join.
fn push_exists(qb: &mut Sql<'_>, table: &str, column: &str, values: &[String]) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Status;
    use crate::domain::search::SortKey;

    fn query(sort: &str, filters: Vec<Filter>) -> SearchQuery {
        SearchQuery {
            filters,
            sort: vec![SortKey::parse(sort).unwrap()],
            page: 0,
            size: 20,
        }
    }

    fn status() -> Filter {
        Filter::Status(vec![Status::Received])
    }

    #[test]
    fn only_few_status_matches_by_a_client_date_are_sorted() {
        for sort in ["createDate-asc", "createDate-desc", "updateDate-asc"] {
            assert!(sort_matches(&query(sort, vec![status()]), 24_000), "{sort}");
            assert!(sort_matches(
                &query(sort, vec![status()]),
                SORT_MATCHES_UP_TO
            ));
            assert!(!sort_matches(
                &query(sort, vec![status()]),
                SORT_MATCHES_UP_TO + 1
            ));
        }
        // The server's dates have indexes that lead with the filter's own order.
        for sort in ["pbCreateDate-desc", "pbUpdateDate-asc"] {
            assert!(!sort_matches(&query(sort, vec![status()]), 10), "{sort}");
        }
        // Without a status filter the sort would read each match's row.
        let brand = Filter::Brand(vec!["acme".into()]);
        assert!(!sort_matches(&query("createDate-asc", vec![brand]), 10));
    }

    #[test]
    fn sorted_keys_order_absent_dates_last_both_ways() {
        let mut qb = Sql::default();
        let mut q = query("createDate-asc", vec![status()]);
        q.sort.push(SortKey::parse("updateDate-desc").unwrap());
        q.sort.push(SortKey::parse("pbCreateDate-desc").unwrap());
        push_order(&mut qb, "o", &q, KeyOrder::Sorted);
        assert_eq!(
            qb.text,
            " ORDER BY COALESCE(o.create_date, 'infinity'::timestamptz) ASC, \
             COALESCE(o.update_date, '-infinity'::timestamptz) DESC, \
             o.pb_create_date DESC, o.order_id DESC"
        );
    }
}
