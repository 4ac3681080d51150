//! `POST /orders/search`: `{filters: [{name, value: [...]}], page, size}`, page from 0.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::Value;

use super::dto::{OrderView, SearchPage};
use crate::auth::Reader;
use crate::domain::Status;
use crate::domain::search::{
    DEFAULT_PAGE_SIZE, DateField, Filter, MAX_PAGE_SIZE, SearchQuery, SortKey, check_shape,
};
use crate::domain::status::SendproStatus;
use crate::domain::text;
use crate::domain::validate::Problems;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::JsonBody;
use crate::http::fulfillment::dto::{SearchValue, date_filter};
use crate::http::json;
use crate::http::openapi::SendproError;
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = SendproSearchRequest)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SearchIn {
    /// At most 10 criteria, 100 values each, 200 values in all.
    #[serde(default)]
    #[schema(max_items = 10)]
    filters: Vec<FilterIn>,
    /// From 0.
    #[schema(minimum = 0, maximum = 2147483647)]
    #[serde(default, deserialize_with = "crate::domain::money::whole_number")]
    page: Option<i64>,
    /// 0 or absent means 20.
    #[schema(minimum = 0, maximum = 500)]
    #[serde(default, deserialize_with = "crate::domain::money::whole_number")]
    size: Option<i64>,
}

impl crate::http::extract::RequestBody for SearchIn {}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FilterIn {
    /// Case-insensitive.
    #[schema(
        example = "status",
        pattern = "^([Oo][Rr][Dd][Ee][Rr][Ii][Dd]|[Oo][Rr][Dd][Ee][Rr][Nn][Uu][Mm][Bb][Ee][Rr]|[Ss][Tt][Aa][Tt][Uu][Ss]|[Tt][Aa][Gg][Ii][Dd][Ss]|[Tt][Aa][Gg][Ii][Dd]|[Tt][Aa][Gg][Ss]|[Ii][Tt][Ee][Mm][Ii][Dd]|[Cc][Rr][Ee][Aa][Tt][Ee][Dd][Aa][Tt][Ee]|[Cc][Uu][Ss][Tt][Oo][Mm][Ee][Rr][Ii][Dd])$"
    )]
    name: String,
    #[schema(value_type = Vec<SearchValue>, min_items = 1, max_items = 100, example = json!(["UNFULFILLED"]))]
    value: Vec<Value>,
}

impl SearchIn {
    fn into_query(self) -> ApiResult<SearchQuery> {
        let mut p = Problems::default();
        let counts: Vec<usize> = self.filters.iter().map(|f| f.value.len()).collect();
        check_shape(&mut p, "filters", "value", &counts, None);
        if !p.is_empty() {
            return Err(ApiError::Validation(p.into_errors()));
        }
        let page = match self.page {
            None => 0,
            Some(n) if (0..=i64::from(i32::MAX)).contains(&n) => n as u32,
            Some(_) => {
                p.add("page", "must be from 0 to 2147483647");
                0
            }
        };
        // The documented sample sends `size: 0`; it means "the default".
        let size = match self.size {
            None | Some(0) => DEFAULT_PAGE_SIZE,
            Some(n) if (1..=i64::from(MAX_PAGE_SIZE)).contains(&n) => n as u32,
            Some(_) => {
                p.add("size", format!("must be from 1 to {MAX_PAGE_SIZE}"));
                DEFAULT_PAGE_SIZE
            }
        };
        let mut filters = Vec::new();
        for (i, f) in self.filters.iter().enumerate() {
            if let Some(filter) = parse_filter(&mut p, &format!("filters[{i}]"), f) {
                filters.push(filter);
            }
        }
        p.into_result().map_err(ApiError::Validation)?;
        Ok(SearchQuery {
            filters,
            sort: vec![SortKey {
                field: DateField::PbCreateDate,
                descending: true,
            }],
            page,
            size,
        })
    }
}

fn parse_filter(p: &mut Problems, at: &str, f: &FilterIn) -> Option<Filter> {
    let mut texts = Vec::with_capacity(f.value.len());
    for (j, v) in f.value.iter().enumerate() {
        match v {
            Value::String(s) => texts.push(text::trim(s).to_string()),
            Value::Number(n) => texts.push(n.to_string()),
            _ => p.add(format!("{at}.value[{j}]"), "must be a string"),
        }
    }
    if f.value.is_empty() {
        p.add(format!("{at}.value"), "must list at least one value");
        return None;
    }
    let lower = || texts.iter().map(|t| t.to_lowercase()).collect::<Vec<_>>();
    match f.name.to_ascii_lowercase().as_str() {
        "orderid" => Some(Filter::OrderId(texts)),
        "ordernumber" => Some(Filter::ClientOrderId(lower())),
        "tagids" | "tagid" | "tags" => Some(Filter::Tag(lower())),
        "itemid" => Some(Filter::Sku(lower())),
        "customerid" => Some(Filter::CustomerId(lower())),
        "createdate" => date_filter(p, at, "value", DateField::PbCreateDate, &texts),
        "status" => {
            let mut statuses: Vec<Status> = Vec::new();
            for (j, t) in texts.iter().enumerate() {
                match (SendproStatus::parse(t), Status::parse(t)) {
                    (Some(word), _) => statuses.extend(word.members()),
                    (None, Some(s)) => statuses.push(s),
                    (None, None) => p.add(
                        format!("{at}.value[{j}]"),
                        format!("'{t}' is not one of UNFULFILLED, FULFILLED, ONHOLD, CANCELED"),
                    ),
                }
            }
            Some(Filter::Status(statuses))
        }
        _ => {
            p.add(
                format!("{at}.name"),
                format!(
                    "'{}' is not searchable; use orderId, orderNumber, status, tagIds, itemId, \
                     createDate or customerId",
                    f.name
                ),
            );
            None
        }
    }
}

#[utoipa::path(
    post,
    path = "/orders/search",
    tag = "Order",
    operation_id = "searchOrders",
    summary = "Search Orders",
    description = "Filters: orderId, orderNumber, status, tagIds, itemId, createDate ([from] or [from, to]), customerId; values are case-insensitive, OR-ed within a filter, filters AND-ed. Without createDate only the last six months are searched. page is from 0; size 0 or absent means 20 (at most 500). A page whose orders come to more than 12 MiB as stored JSON is refused with 400 naming size: ask for a smaller size (a page of the default size always fits).",
    request_body(content = SearchIn, example = crate::http::openapi_examples::sendpro_search),
    responses(
        (status = 200, description = "Requested order has been retrived sucessfully.", body = SearchPage),
        (status = 400, description = "Invalid request (field paths in additionalInfo)", body = SendproError),
        (status = 401, description = "The request could not be authorized", body = SendproError),
        (status = 429, description = "Rate limited", body = SendproError),
        (status = 500, description = "The request could not be completed due to an internal error", body = SendproError),
        (status = 503, description = "Database unavailable or server saturated", body = SendproError)
    )
)]
pub async fn search(
    State(state): State<AppState>,
    Reader(caller): Reader,
    body: JsonBody<SearchIn>,
) -> ApiResult<Response> {
    let query = body.value.into_query()?;
    let page = state.orders.search(&caller, query.clone()).await?;
    json(
        StatusCode::OK,
        &SearchPage {
            orders: page.items.iter().map(OrderView::of).collect(),
            page: query.page,
            size: query.size,
            total_elements: page.total,
            total_pages: page.total_pages(query.size),
        },
    )
}
