//! Thin handlers: parse the dialect, call the service, render the dialect.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;

use super::dto::{OrderIn, OrderOut, OrderStatusOut, PageQuery, SearchIn, SearchOut, ViewQuery};
use crate::auth::{Reader, Writer};
use crate::domain::order::Surface;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{JsonBody, QueryParams, TransactionId};
use crate::http::openapi::FulfillmentErrors;
use crate::http::{IDEMPOTENT_REPLAY, if_match, json, with_etag};
use crate::state::AppState;

const SURFACE: &str = "fulfillment";

#[utoipa::path(
    post,
    path = "/orders",
    tag = "Fulfillment Orders",
    operation_id = "fulfillmentCreateOrder",
    summary = "Create an Order",
    params(("X-PB-TransactionId" = String, Header, pattern = "^[A-Za-z0-9_-]{1,25}$", description = "Required. 1-25 letters, digits, hyphens or underscores; echoed back. On create it is the idempotency key (24 h).")),
    request_body(content = OrderIn, example = crate::http::openapi_examples::fulfillment_order),
    responses(
        (status = 201, description = "The created order (also the answer to an identical retry)", body = OrderOut,
            headers(("ETag" = String, description = "The order version"), ("X-PB-TransactionId" = String))),
        (status = 400, description = "Invalid request (fields named in parameters)", body = FulfillmentErrors), (status = 401, description = "Missing or invalid bearer token", body = FulfillmentErrors), (status = 409, description = "Duplicate clientOrderId, or the transaction id was used for another request", body = FulfillmentErrors), (status = 403, description = "clientId differs from the token, or scope lacks orders:write", body = FulfillmentErrors), (status = 413, description = "Body over 10 MiB", body = FulfillmentErrors), (status = 415, description = "Content-Type is not JSON", body = FulfillmentErrors), (status = 429, description = "Rate limited", body = FulfillmentErrors), (status = 500, description = "Internal error", body = FulfillmentErrors), (status = 503, description = "Database unavailable or server saturated", body = FulfillmentErrors)
    )
)]
pub async fn create(
    State(state): State<AppState>,
    Writer(caller): Writer,
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

#[utoipa::path(
    get,
    path = "/orders/{orderId}",
    tag = "Fulfillment Orders",
    operation_id = "fulfillmentViewOrder",
    summary = "View an Order",
    params(("orderId" = String, Path, description = "The order id"), ("X-PB-TransactionId" = String, Header, pattern = "^[A-Za-z0-9_-]{1,25}$", description = "Required. 1-25 letters, digits, hyphens or underscores; echoed back. On create it is the idempotency key (24 h)."), ViewQuery),
    responses(
        (status = 200, description = "The order", body = OrderOut, headers(("ETag" = String))),
        (status = 400, description = "Invalid request (fields named in parameters)", body = FulfillmentErrors), (status = 401, description = "Missing or invalid bearer token", body = FulfillmentErrors), (status = 404, description = "No such order for this client", body = FulfillmentErrors), (status = 403, description = "clientId differs from the token, or scope lacks orders:write", body = FulfillmentErrors), (status = 413, description = "Body over 10 MiB", body = FulfillmentErrors), (status = 415, description = "Content-Type is not JSON", body = FulfillmentErrors), (status = 429, description = "Rate limited", body = FulfillmentErrors), (status = 500, description = "Internal error", body = FulfillmentErrors), (status = 503, description = "Database unavailable or server saturated", body = FulfillmentErrors)
    )
)]
pub async fn view(
    State(state): State<AppState>,
    Reader(caller): Reader,
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

#[utoipa::path(
    put,
    path = "/orders/{orderId}",
    tag = "Fulfillment Orders",
    operation_id = "fulfillmentUpdateOrder",
    summary = "Update an Order (whole object)",
    description = "Replaces the client-supplied order. Sending back the body a GET returned changes nothing (200, same ETag). createDate and inputShippingDetails (or shippingDetails) may be left out only when the stored order has none, as an order created through SendPro360 may; the item fields only SendPro360 shows (customProductId, unitWeight) are kept for a line with the same lineId and sku.",
    params(("orderId" = String, Path, description = "The order id"), ("X-PB-TransactionId" = String, Header, pattern = "^[A-Za-z0-9_-]{1,25}$", description = "Required. 1-25 letters, digits, hyphens or underscores; echoed back. On create it is the idempotency key (24 h)."),
        ("If-Match" = Option<String>, Header, nullable = false, description = "The ETag last read; 412 when the order changed since")),
    request_body(content = OrderIn, example = crate::http::openapi_examples::fulfillment_replacement),
    responses(
        (status = 200, description = "The updated order", body = OrderOut, headers(("ETag" = String))),
        (status = 400, description = "Invalid request (fields named in parameters)", body = FulfillmentErrors), (status = 401, description = "Missing or invalid bearer token", body = FulfillmentErrors), (status = 404, description = "No such order for this client", body = FulfillmentErrors), (status = 409, description = "Duplicate clientOrderId, or the order is shipped, returned or canceled", body = FulfillmentErrors), (status = 412, description = "If-Match names an older version", body = FulfillmentErrors), (status = 403, description = "clientId differs from the token, or scope lacks orders:write", body = FulfillmentErrors), (status = 413, description = "Body over 10 MiB", body = FulfillmentErrors), (status = 415, description = "Content-Type is not JSON", body = FulfillmentErrors), (status = 429, description = "Rate limited", body = FulfillmentErrors), (status = 500, description = "Internal error", body = FulfillmentErrors), (status = 503, description = "Database unavailable or server saturated", body = FulfillmentErrors)
    )
)]
pub async fn replace(
    State(state): State<AppState>,
    Writer(caller): Writer,
    _txid: TransactionId,
    headers: HeaderMap,
    Path(order_id): Path<String>,
    body: JsonBody<OrderIn>,
) -> ApiResult<Response> {
    let content = body.value.into_replacement(&caller)?;
    let order = state
        .orders
        .replace(&caller, &order_id, if_match(&headers), content)
        .await?;
    Ok(with_etag(
        json(StatusCode::OK, &OrderOut::of(&order))?,
        &order,
    ))
}

#[utoipa::path(
    post,
    path = "/orders/search",
    tag = "Fulfillment Orders",
    operation_id = "fulfillmentFindOrders",
    summary = "Find Orders (all order data)",
    description = "Without a date criterion only orders created in the last six months are searched. A page whose orders come to more than 12 MiB as stored JSON is refused with 400 naming size: ask for a smaller size (a page of the default size always fits).",
    params(("X-PB-TransactionId" = String, Header, pattern = "^[A-Za-z0-9_-]{1,25}$", description = "Required. 1-25 letters, digits, hyphens or underscores; echoed back. On create it is the idempotency key (24 h)."), PageQuery),
    request_body(content = SearchIn, example = crate::http::openapi_examples::fulfillment_search),
    responses(
        (status = 200, description = "One page of matching orders", body = SearchOut<OrderOut>),
        (status = 400, description = "Invalid request (fields named in parameters)", body = FulfillmentErrors), (status = 401, description = "Missing or invalid bearer token", body = FulfillmentErrors), (status = 403, description = "clientId differs from the token, or scope lacks orders:write", body = FulfillmentErrors), (status = 413, description = "Body over 10 MiB", body = FulfillmentErrors), (status = 415, description = "Content-Type is not JSON", body = FulfillmentErrors), (status = 429, description = "Rate limited", body = FulfillmentErrors), (status = 500, description = "Internal error", body = FulfillmentErrors), (status = 503, description = "Database unavailable or server saturated", body = FulfillmentErrors)
    )
)]
pub async fn search(
    State(state): State<AppState>,
    Reader(caller): Reader,
    _txid: TransactionId,
    QueryParams(paging): QueryParams<PageQuery>,
    body: JsonBody<SearchIn>,
) -> ApiResult<Response> {
    let query = body.value.into_query(&caller, paging)?;
    let page = state.orders.search(&caller, query.clone()).await?;
    let orders = page.items.iter().map(OrderOut::of).collect();
    json(StatusCode::OK, &SearchOut::new(&query, &page, orders))
}

#[utoipa::path(
    post,
    path = "/orders/status/search",
    tag = "Fulfillment Orders",
    operation_id = "fulfillmentFindOrderStatuses",
    summary = "Find Orders (status subset)",
    description = "Without a date criterion only orders created in the last six months are searched. The bound on a page is that of the whole-order search: the orders are read whole. A page whose orders come to more than 12 MiB as stored JSON is refused with 400 naming size: ask for a smaller size (a page of the default size always fits).",
    params(("X-PB-TransactionId" = String, Header, pattern = "^[A-Za-z0-9_-]{1,25}$", description = "Required. 1-25 letters, digits, hyphens or underscores; echoed back. On create it is the idempotency key (24 h)."), PageQuery),
    request_body(content = SearchIn, example = crate::http::openapi_examples::fulfillment_search),
    responses(
        (status = 200, description = "One page of matching orders, status fields only", body = SearchOut<OrderStatusOut>),
        (status = 400, description = "Invalid request (fields named in parameters)", body = FulfillmentErrors), (status = 401, description = "Missing or invalid bearer token", body = FulfillmentErrors), (status = 403, description = "clientId differs from the token, or scope lacks orders:write", body = FulfillmentErrors), (status = 413, description = "Body over 10 MiB", body = FulfillmentErrors), (status = 415, description = "Content-Type is not JSON", body = FulfillmentErrors), (status = 429, description = "Rate limited", body = FulfillmentErrors), (status = 500, description = "Internal error", body = FulfillmentErrors), (status = 503, description = "Database unavailable or server saturated", body = FulfillmentErrors)
    )
)]
pub async fn status_search(
    State(state): State<AppState>,
    Reader(caller): Reader,
    _txid: TransactionId,
    QueryParams(paging): QueryParams<PageQuery>,
    body: JsonBody<SearchIn>,
) -> ApiResult<Response> {
    let query = body.value.into_query(&caller, paging)?;
    let page = state.orders.search(&caller, query.clone()).await?;
    let orders = page.items.iter().map(OrderStatusOut::of).collect();
    json(StatusCode::OK, &SearchOut::new(&query, &page, orders))
}
