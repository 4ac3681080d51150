//! A search's exact total from the day counts (`order_counts`, kept by triggers: postgres
//! migration 0014, sqlite 0012) when its filters are ones the counts can answer: statuses and a
//! pbCreateDate window, nothing else. The window's whole UTC days are summed from the counts
//! (at most a row per day, status and stripe); the partial days at either edge are counted from
//! the orders themselves, through the index of tenant, status and pbCreateDate, so that a window
//! starting or ending mid-day is still exact. A search by one tag or SKU criterion in a window
//! counts the side table's rows in its index instead ([`push_side_total`]). Any other filter
//! counts the matching orders one by one.

use chrono::{DateTime, Utc};

use super::builder::Sql;
use super::search::push_in;
use crate::domain::Status;
use crate::domain::search::{DateField, Filter, SearchQuery};

const DAY_SECONDS: i64 = 86_400;

/// What the counts can answer: statuses (all of them when `None`) in `[from, to]`.
#[derive(Debug, PartialEq)]
struct Window {
    statuses: Option<Vec<Status>>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
}

impl Window {
    /// The filters as one window, or `None` when any filter is one the counts cannot answer.
    /// Filters are AND-ed: several status criteria keep the statuses all of them name, several
    /// windows their overlap.
    fn of(query: &SearchQuery) -> Option<Window> {
        let mut window = Window {
            statuses: None,
            from: None,
            to: None,
        };
        for filter in &query.filters {
            match filter {
                Filter::Status(values) => {
                    window.statuses = Some(match window.statuses.take() {
                        None => values.clone(),
                        Some(kept) => kept.into_iter().filter(|s| values.contains(s)).collect(),
                    });
                }
                Filter::Date {
                    field: DateField::PbCreateDate,
                    from,
                    to,
                } => {
                    window.from = window.from.max(*from);
                    window.to = match (window.to, *to) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    };
                }
                _ => return None,
            }
        }
        Some(window)
    }
}

/// The day `at` falls on, in days since 1970-01-01 UTC, as the migrations' `order_day` has it.
fn day_of(at: DateTime<Utc>) -> i64 {
    at.timestamp().div_euclid(DAY_SECONDS)
}

fn start_of(day: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(day * DAY_SECONDS, 0).expect("a day of a representable date")
}

/// `SELECT` of the exact total of `query` from the day counts, or `None` when its filters need
/// the plain count.
///
/// The whole days are `first..last`: `first` is the first day that starts at or after `from`,
/// `last` the day `to` falls on. The head edge is `[from, start of first)` (empty when `from`
/// starts a day), the tail edge `[start of last, to]`. A window inside one day that does not start
/// at midnight has no whole day and two overlapping edges; it is left to the plain count, which
/// reads at most a day of orders.
pub(super) fn push_counted_total(
    qb: &mut Sql<'_>,
    client_id: &str,
    query: &SearchQuery,
) -> Option<()> {
    let window = Window::of(query)?;
    let first = window.from.map(|from| {
        let day = day_of(from);
        if start_of(day) == from { day } else { day + 1 }
    });
    let last = window.to.map(day_of);
    if let (Some(first), Some(last)) = (first, last)
        && first > last
    {
        return None;
    }
    qb.push("SELECT CAST((SELECT COALESCE(SUM(c.n), 0) FROM order_counts c WHERE c.client_id = ");
    qb.push_bind(client_id.to_string());
    if let Some(first) = first {
        qb.push(" AND c.day >= ");
        qb.push_bind(first);
    }
    if let Some(last) = last {
        qb.push(" AND c.day < ");
        qb.push_bind(last);
    }
    push_statuses(qb, "c", &window.statuses);
    qb.push(")");
    if let (Some(from), Some(first)) = (window.from, first)
        && start_of(first) != from
    {
        push_edge(qb, client_id, &window.statuses, from, |qb| {
            qb.push(" AND o.pb_create_date < ");
            qb.push_bind(start_of(first));
        });
    }
    if let (Some(to), Some(last)) = (window.to, last) {
        push_edge(qb, client_id, &window.statuses, start_of(last), |qb| {
            qb.push(" AND o.pb_create_date <= ");
            qb.push_bind(to);
        });
    }
    qb.push(" AS BIGINT)");
    Some(())
}

/// `SELECT` of the exact total of a search by one tag or one SKU criterion in a pbCreateDate
/// window, from the side table's `(client_id, value, pb_create_date, order_id)` index: its rows
/// carry the order's pbCreateDate and exist only for live orders (postgres migration 0014,
/// sqlite 0012). An order has one row per distinct value, so one value counts rows and several
/// count distinct orders. `None` for any other filters.
pub(super) fn push_side_total(
    qb: &mut Sql<'_>,
    client_id: &str,
    query: &SearchQuery,
) -> Option<()> {
    let mut side: Option<(&str, &str, &[String])> = None;
    let mut from: Option<DateTime<Utc>> = None;
    let mut to: Option<DateTime<Utc>> = None;
    for filter in &query.filters {
        match filter {
            Filter::Tag(values) if side.is_none() => side = Some(("order_tags", "tag_lc", values)),
            Filter::Sku(values) if side.is_none() => side = Some(("order_skus", "sku_lc", values)),
            Filter::Date {
                field: DateField::PbCreateDate,
                from: f,
                to: t,
            } => {
                from = from.max(*f);
                to = match (to, *t) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
            }
            _ => return None,
        }
    }
    let (table, column, values) = side?;
    let counted = if values.len() == 1 {
        "COUNT(*)"
    } else {
        "COUNT(DISTINCT x.order_id)"
    };
    qb.push(format!(
        "SELECT CAST({counted} AS BIGINT) FROM {table} x WHERE x.client_id = "
    ));
    qb.push_bind(client_id.to_string());
    qb.push(" AND ");
    push_in(qb, &format!("x.{column}"), values);
    if let Some(from) = from {
        qb.push(" AND x.pb_create_date >= ");
        qb.push_bind(from);
    }
    if let Some(to) = to {
        qb.push(" AND x.pb_create_date <= ");
        qb.push_bind(to);
    }
    Some(())
}

/// ` + (SELECT COUNT(*) …)` of the live orders from `from` on, up to what `until` appends.
fn push_edge<'a>(
    qb: &mut Sql<'a>,
    client_id: &str,
    statuses: &Option<Vec<Status>>,
    from: DateTime<Utc>,
    until: impl FnOnce(&mut Sql<'a>),
) {
    qb.push(" + (SELECT COUNT(*) FROM orders o WHERE o.client_id = ");
    qb.push_bind(client_id.to_string());
    qb.push(" AND o.deleted_at IS NULL");
    push_statuses(qb, "o", statuses);
    qb.push(" AND o.pb_create_date >= ");
    qb.push_bind(from);
    until(qb);
    qb.push(")");
}

fn push_statuses(qb: &mut Sql<'_>, alias: &str, statuses: &Option<Vec<Status>>) {
    if let Some(statuses) = statuses {
        let words: Vec<String> = statuses.iter().map(|s| s.as_str().to_string()).collect();
        qb.push(" AND ");
        push_in(qb, &format!("{alias}.status"), &words);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::search::SortKey;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn query(filters: Vec<Filter>) -> SearchQuery {
        SearchQuery {
            filters,
            sort: vec![SortKey::parse("pbCreateDate-desc").unwrap()],
            page: 0,
            size: 20,
        }
    }

    fn window(from: Option<&str>, to: Option<&str>) -> Filter {
        Filter::Date {
            field: DateField::PbCreateDate,
            from: from.map(at),
            to: to.map(at),
        }
    }

    fn text(filters: Vec<Filter>) -> Option<String> {
        let mut qb = Sql::default();
        push_counted_total(&mut qb, "c1", &query(filters)).map(|()| qb.text)
    }

    #[test]
    fn days_are_counted_from_the_unix_epoch_in_utc() {
        assert_eq!(day_of(at("1970-01-01T23:59:59Z")), 0);
        assert_eq!(day_of(at("1970-01-02T00:00:00Z")), 1);
        assert_eq!(
            day_of(at("2026-12-05T00:00:00+01:00")),
            day_of(at("2026-12-04T12:00:00Z"))
        );
        assert_eq!(
            start_of(day_of(at("2026-12-05T17:43:53Z"))),
            at("2026-12-05T00:00:00Z")
        );
    }

    #[test]
    fn other_filters_and_other_dates_are_left_to_the_plain_count() {
        assert!(text(vec![Filter::Brand(vec!["acme".into()])]).is_none());
        let created = Filter::Date {
            field: DateField::CreateDate,
            from: Some(at("2026-01-01T00:00:00Z")),
            to: None,
        };
        assert!(text(vec![created]).is_none());
        assert!(text(vec![Filter::Status(vec![Status::Shipped])]).is_some());
    }

    #[test]
    fn a_window_from_mid_day_counts_its_first_day_from_the_orders() {
        let sql = text(vec![window(Some("2026-06-05T17:43:53Z"), None)]).unwrap();
        assert!(sql.contains("c.day >= $2)"), "{sql}");
        assert!(
            sql.contains("o.pb_create_date >= $4 AND o.pb_create_date < $5"),
            "{sql}"
        );
        assert_eq!(sql.matches("COUNT(*)").count(), 1, "{sql}");
    }

    #[test]
    fn a_window_of_whole_days_ending_mid_day_counts_only_its_last_day() {
        let sql = text(vec![window(
            Some("2026-06-05T00:00:00Z"),
            Some("2026-12-05T10:00:00Z"),
        )])
        .unwrap();
        assert!(sql.contains("c.day >= $2 AND c.day < $3)"), "{sql}");
        assert_eq!(sql.matches("COUNT(*)").count(), 1, "{sql}");
        assert!(sql.contains("o.pb_create_date <= $6"), "{sql}");
    }

    #[test]
    fn a_window_inside_one_day_is_left_to_the_plain_count() {
        let inside = window(Some("2026-12-05T01:00:00Z"), Some("2026-12-05T02:00:00Z"));
        assert!(text(vec![inside]).is_none());
        let from_midnight = window(Some("2026-12-05T00:00:00Z"), Some("2026-12-05T02:00:00Z"));
        assert!(text(vec![from_midnight]).is_some());
    }

    #[test]
    fn one_tag_or_sku_criterion_in_a_window_is_counted_from_its_side_table() {
        let side = |filters: Vec<Filter>| {
            let mut qb = Sql::default();
            push_side_total(&mut qb, "c1", &query(filters)).map(|()| qb.text)
        };
        let since = window(Some("2026-06-05T17:43:53Z"), None);
        let one = side(vec![Filter::Tag(vec!["vip".into()]), since.clone()]).unwrap();
        assert!(
            one.starts_with("SELECT CAST(COUNT(*) AS BIGINT) FROM order_tags x"),
            "{one}"
        );
        assert!(one.ends_with("x.pb_create_date >= $3"), "{one}");
        // An order with two of the values has two rows.
        let two = side(vec![
            Filter::Sku(vec!["a".into(), "b".into()]),
            since.clone(),
        ])
        .unwrap();
        assert!(two.contains("COUNT(DISTINCT x.order_id)"), "{two}");
        assert!(two.contains("FROM order_skus x"), "{two}");
        // Anything else needs the orders.
        let tag = Filter::Tag(vec!["vip".into()]);
        assert!(side(vec![tag.clone(), Filter::Status(vec![Status::Shipped])]).is_none());
        assert!(side(vec![tag.clone(), tag, since]).is_none());
    }

    #[test]
    fn several_criteria_narrow_one_window() {
        let q = query(vec![
            Filter::Status(vec![Status::Shipped, Status::Received]),
            window(Some("2026-01-01T00:00:00Z"), Some("2026-12-01T00:00:00Z")),
            Filter::Status(vec![Status::Received, Status::Canceled]),
            window(Some("2026-03-01T00:00:00Z"), None),
        ]);
        assert_eq!(
            Window::of(&q),
            Some(Window {
                statuses: Some(vec![Status::Received]),
                from: Some(at("2026-03-01T00:00:00Z")),
                to: Some(at("2026-12-01T00:00:00Z")),
            })
        );
    }
}
