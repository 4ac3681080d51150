//! Thin handlers: parse the dialect, call the service, render the dialect.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;

use super::dto::{OrderIn, OrderOut, OrderStatusOut, PageQuery, SearchIn, SearchOut, ViewQuery};
use crate::auth::Caller;
use crate::domain::order::Surface;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{JsonBody, QueryParams, TransactionId};
use crate::http::{IDEMPOTENT_REPLAY, if_match, json, with_etag};
use crate::state::AppState;

const SURFACE: &str = "fulfillment";

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    txid: TransactionId,
    body: JsonBody<OrderIn>,
) -> ApiResult<Response> {
    let key = txid.idempotency(SURFACE, &body.document)?;
    let content = body.value.into_content(&caller)?;
    let created = state
        .orders
        .create(&caller, Surface::Fulfillment, content, Some(key))
        .await?;
    // A replay answers exactly as the first response did, flagged for the curious.
    let mut response = with_etag(
        json(StatusCode::CREATED, &OrderOut::of(&created.order))?,
        &created.order,
    );
    if created.replayed {
        response
            .headers_mut()
            .insert(IDEMPOTENT_REPLAY, HeaderValue::from_static("true"));
    }
    Ok(response)
}

pub async fn view(
    State(state): State<AppState>,
    caller: Caller,
    _txid: TransactionId,
    Path(order_id): Path<String>,
    QueryParams(query): QueryParams<ViewQuery>,
) -> ApiResult<Response> {
    match query.client_id.as_deref() {
        None => return Err(ApiError::field("clientId", "query parameter is required")),
        Some(id) => caller.require_same_client(id)?,
    }
    let order = state.orders.get(&caller, &order_id).await?;
    if let Some(brand) = &query.brand {
        let matches = order
            .content
            .brand
            .as_deref()
            .is_some_and(|b| b.eq_ignore_ascii_case(brand));
        if !matches {
            return Err(ApiError::order_not_found(&order_id));
        }
    }
    Ok(with_etag(
        json(StatusCode::OK, &OrderOut::of(&order))?,
        &order,
    ))
}

pub async fn replace(
    State(state): State<AppState>,
    caller: Caller,
    _txid: TransactionId,
    headers: HeaderMap,
    Path(order_id): Path<String>,
    body: JsonBody<OrderIn>,
) -> ApiResult<Response> {
    caller.require_write()?;
    let content = body.value.into_content(&caller)?;
    let order = state
        .orders
        .replace(&caller, &order_id, if_match(&headers), content)
        .await?;
    Ok(with_etag(
        json(StatusCode::OK, &OrderOut::of(&order))?,
        &order,
    ))
}

pub async fn search(
    State(state): State<AppState>,
    caller: Caller,
    _txid: TransactionId,
    QueryParams(paging): QueryParams<PageQuery>,
    body: JsonBody<SearchIn>,
) -> ApiResult<Response> {
    let query = body.value.into_query(&caller, paging)?;
    let page = state.orders.search(&caller, query.clone()).await?;
    let orders = page.items.iter().map(OrderOut::of).collect();
    json(StatusCode::OK, &SearchOut::new(&query, &page, orders))
}

pub async fn status_search(
    State(state): State<AppState>,
    caller: Caller,
    _txid: TransactionId,
    QueryParams(paging): QueryParams<PageQuery>,
    body: JsonBody<SearchIn>,
) -> ApiResult<Response> {
    let query = body.value.into_query(&caller, paging)?;
    let page = state.orders.search(&caller, query.clone()).await?;
    let orders = page.items.iter().map(OrderStatusOut::of).collect();
    json(StatusCode::OK, &SearchOut::new(&query, &page, orders))
}
