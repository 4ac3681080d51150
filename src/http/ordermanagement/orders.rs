//! Create, get, partial update, delete, item removal and bulk status: thin handlers over the
//! service, speaking the SendPro360 dialect.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::dto::{
    BulkOutcome, BulkResult, FIELDS, HistoryPage, OperationResult, OrderDoc, OrderView, REQUIRED,
    translate,
};
use super::merge::merge;
use super::read_back::unwrap_groups;
use crate::auth::{Reader, Writer};
use crate::domain::order::{NO_ADDRESS_LINE, OrderContent, SentAmounts, Surface};
use crate::domain::status::SendproStatus;
use crate::domain::text::is_blank;
use crate::domain::validate::{FieldError, Problems, combine};
use crate::error::{ApiError, ApiResult, code};
use crate::http::extract::{JsonBody, QueryParams, TRANSACTION_ID, from_document};
use crate::http::openapi::SendproError;
use crate::http::{IDEMPOTENT_REPLAY, if_match, json, with_etag};
use crate::service::IdempotencyKey;
use crate::state::AppState;

const SURFACE: &str = "sendpro";
pub const MAX_BULK: usize = 500;

/// `Idempotency-Key` (up to 255) or `X-PB-TransactionId` (up to 25), both optional here.
fn idempotency(headers: &HeaderMap, body: &Value) -> ApiResult<Option<IdempotencyKey>> {
    let header = |name: &str| headers.get(name).map(|v| v.to_str().unwrap_or(""));
    // Checked even when Idempotency-Key is the one that counts: a malformed header is a 400.
    if let Some(txid) = header(TRANSACTION_ID) {
        crate::service::validate_key(txid, 25)?;
    }
    if let Some(key) = header("idempotency-key") {
        return IdempotencyKey::new(key, 255, SURFACE, body)
            .map_err(|_| {
                ApiError::field(
                    "Idempotency-Key",
                    "must be 1 to 255 letters, digits, '-' or '_'",
                )
            })
            .map(Some);
    }
    header(TRANSACTION_ID)
        .map(|key| IdempotencyKey::new(key, 25, SURFACE, body))
        .transpose()
}

#[utoipa::path(
    post,
    path = "/orders",
    tag = "Order",
    operation_id = "createOrder",
    summary = "Create Order",
    description = "Creates an order in the UNFULFILLED state. orderNumber, fromAddress, toAddress and at least one item are required; orderNumber is unique per client among live orders.",
    params(("Idempotency-Key" = Option<String>, Header, nullable = false, pattern = "^[A-Za-z0-9_-]{1,255}$", description = "Makes the create idempotent for 24 h (1-255 of A-Za-z0-9_-)"), ("X-PB-TransactionId" = Option<String>, Header, nullable = false, pattern = "^[A-Za-z0-9_-]{1,25}$", description = "Used as the idempotency key when Idempotency-Key is absent (1-25 of A-Za-z0-9_-)")),
    request_body(content = OrderDoc, example = crate::http::openapi_examples::sendpro_order),
    responses(
        (status = 200, description = "The Order has been created Successfully.", body = OperationResult, headers(("ETag" = String))),
        (status = 400, description = "Invalid request (field paths in additionalInfo)", body = SendproError),
        (status = 401, description = "The request could not be authorized", body = SendproError),
        (status = 403, description = "The token lacks orders:write", body = SendproError),
        (status = 409, description = "orderNumber already used, or idempotency key reused for another request", body = SendproError),
        (status = 429, description = "Rate limited", body = SendproError),
        (status = 500, description = "The request could not be completed due to an internal error", body = SendproError),
        (status = 503, description = "Database unavailable or server saturated", body = SendproError)
    )
)]
pub async fn create(
    State(state): State<AppState>,
    Writer(caller): Writer,
    headers: HeaderMap,
    body: JsonBody<OrderDoc>,
) -> ApiResult<Response> {
    let key = idempotency(&headers, &body.document)?;
    let doc = body.value;
    let required = doc.check_required();
    let mut content = OrderContent::default();
    doc.apply_to(&mut content, true).map_err(translate)?;
    // Named in this dialect before combining, so `items` is not reported twice.
    let canonical = match content
        .validate()
        .map_err(|e| translate(ApiError::Validation(e)))
    {
        Err(ApiError::Validation(list)) => list,
        _ => Vec::new(),
    };
    let problems = combine(required, canonical);
    if !problems.is_empty() {
        return Err(ApiError::Validation(problems));
    }
    let created = state
        .orders
        .create(&caller, Surface::Sendpro, content, key)
        .await
        .map_err(translate)?;
    let order = &created.order;
    let result = OperationResult::created(order);
    let mut response = with_etag(json(StatusCode::OK, &result)?, order);
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
    tag = "Order",
    operation_id = "getOrderById",
    summary = "Get Order by ID",
    params(("orderId" = String, Path, description = "The order id")),
    responses(
        (status = 200, description = "Order details retrieved.", body = OrderView, headers(("ETag" = String))),
        (status = 401, description = "The request could not be authorized", body = SendproError),
        (status = 404, description = "The requested resource was not found.", body = SendproError),
        (status = 429, description = "Rate limited", body = SendproError),
        (status = 500, description = "The request could not be completed due to an internal error", body = SendproError),
        (status = 503, description = "Database unavailable or server saturated", body = SendproError)
    )
)]
pub async fn get(
    State(state): State<AppState>,
    Reader(caller): Reader,
    Path(order_id): Path<String>,
) -> ApiResult<Response> {
    let order = state.orders.get(&caller, &order_id).await?;
    Ok(with_etag(
        json(StatusCode::OK, &OrderView::of(&order))?,
        &order,
    ))
}

/// Partial update: absent fields stay, `null` clears an optional one, objects merge, `items`
/// replaces the item list; the merged order is validated as a create would be.
#[utoipa::path(
    patch,
    path = "/orders/{orderId}",
    tag = "Order",
    operation_id = "partialUpdateOrderById",
    summary = "Partial Order Update by OrderId",
    description = "JSON merge patch over the order as this API shows it, flat as a create or grouped as a GET returns it (orderInfo, orderShippingInfo; the fields only a response has are ignored), so that sending back what a GET read changes nothing: absent fields stay, null clears an optional field, objects merge, items replaces the item list. The result is validated as a create. Amounts the server derived (subTotal and gmv that agreed with the items) are derived again from the patched order unless the patch sends them. Shipped, returned or canceled orders cannot change (409).",
    params(("orderId" = String, Path, description = "The order id"), ("If-Match" = Option<String>, Header, nullable = false, description = "The ETag last read; 412 when the order changed since")),
    request_body(content = OrderDoc, description = "Any subset of the create fields; null clears an optional one", example = crate::http::openapi_examples::sendpro_patch),
    responses(
        (status = 200, description = "Order updated successfully (partial)", body = OperationResult, headers(("ETag" = String))),
        (status = 400, description = "Invalid request (field paths in additionalInfo)", body = SendproError),
        (status = 401, description = "The request could not be authorized", body = SendproError),
        (status = 403, description = "The token lacks orders:write", body = SendproError),
        (status = 404, description = "The requested resource was not found.", body = SendproError),
        (status = 409, description = "Duplicate orderNumber, the order is closed, or the patch would leave an address of this order without a line", body = SendproError),
        (status = 412, description = "If-Match names an older version", body = SendproError),
        (status = 429, description = "Rate limited", body = SendproError),
        (status = 500, description = "The request could not be completed due to an internal error", body = SendproError),
        (status = 503, description = "Database unavailable or server saturated", body = SendproError)
    )
)]
pub async fn patch(
    State(state): State<AppState>,
    Writer(caller): Writer,
    headers: HeaderMap,
    Path(order_id): Path<String>,
    body: JsonBody<Map<String, Value>>,
) -> ApiResult<Response> {
    let mut body = body.value;
    let mut p = Problems::default();
    unwrap_groups(&mut body, &mut p);
    for (key, value) in &body {
        if !FIELDS.contains(&key.as_str()) {
            p.add(key.as_str(), format!("is not a known field ('{key}')"));
        } else if value.is_null() && REQUIRED.contains(&key.as_str()) {
            p.add(key.as_str(), "is required and cannot be cleared");
        }
    }
    p.into_result().map_err(ApiError::Validation)?;
    let patch = Value::Object(body);
    let replace_items = patch.get("items").is_some();
    let order = state
        .orders
        .edit_content(&caller, &order_id, if_match(&headers), |current| {
            let mut merged =
                serde_json::to_value(OrderDoc::of(current)).map_err(anyhow::Error::from)?;
            merge(&mut merged, &patch);
            let doc: OrderDoc = from_document(&merged)?;
            let mut next = current.clone();
            doc.apply_to(&mut next, replace_items)?;
            next.rederive(current, sent_amounts(&patch));
            // Validated here too so that problems are named in this dialect; the service
            // validates again (cheaply) whatever the caller did.
            next.validate()
                .map_err(|problems| unappliable_patch(&patch, problems))?;
            Ok(next)
        })
        .await?;
    let result = OperationResult::updated(&order);
    let response = json(StatusCode::OK, &result)?;
    Ok(with_etag(response, &order))
}

/// The derived amounts this patch sets itself; the others are derived again (see
/// `OrderContent::rederive`), since the merged document carries the stored ones.
fn sent_amounts(patch: &Value) -> SentAmounts {
    let charge = |key: &str| patch.get("charges").and_then(|c| c.get(key)).is_some();
    SentAmounts {
        line_totals: patch.get("items").is_some(),
        total_item_amount: charge("subTotal"),
        total_order_amount: charge("gmv"),
    }
}

/// Problems of the patched order, in this dialect. Any part of an address is a valid patch on
/// its own; when merging it leaves an address of *this* order without a line (say `cityTown`
/// sent for an order that has no `fromAddress`), the patch cannot be applied given the state of
/// the order, which RFC 5789 answers with 409 rather than 400. A patch that clears the lines
/// itself is its own fault: 400.
fn unappliable_patch(patch: &Value, problems: Vec<FieldError>) -> ApiError {
    let only_lines = problems.iter().all(|p| p.message == NO_ADDRESS_LINE);
    match translate(ApiError::Validation(problems)) {
        ApiError::Validation(problems) if only_lines => {
            let addresses: Vec<&str> = problems
                .iter()
                .map(|p| p.field.split('.').next().unwrap_or(""))
                .collect();
            let lines_untouched = addresses.iter().all(|a| {
                ["addressLine1", "addressLine2", "addressLine3"]
                    .iter()
                    .all(|line| patch[a].get(line).is_none())
            });
            if !lines_untouched {
                return ApiError::Validation(problems);
            }
            ApiError::conflict(
                code::INVALID_STATE,
                format!(
                    "the patch would leave {} of this order without an address line; \
                     send addressLine1 with it",
                    addresses.join(", ")
                ),
            )
        }
        other => other,
    }
}

#[utoipa::path(
    delete,
    path = "/orders/{orderId}",
    tag = "Order",
    operation_id = "deleteOrderById",
    summary = "Delete Order by ID (soft delete)",
    params(("orderId" = String, Path, description = "The order id")),
    responses(
        (status = 200, description = "The order is deleted: 404 everywhere from now on, and its orderNumber is free again.", body = OperationResult),
        (status = 401, description = "The request could not be authorized", body = SendproError),
        (status = 403, description = "The token lacks orders:write", body = SendproError),
        (status = 404, description = "The requested resource was not found.", body = SendproError),
        (status = 429, description = "Rate limited", body = SendproError),
        (status = 500, description = "The request could not be completed due to an internal error", body = SendproError),
        (status = 503, description = "Database unavailable or server saturated", body = SendproError)
    )
)]
pub async fn delete(
    State(state): State<AppState>,
    Writer(caller): Writer,
    Path(order_id): Path<String>,
) -> ApiResult<Response> {
    let order = state.orders.delete(&caller, &order_id).await?;
    let result = OperationResult::deleted(&order);
    json(StatusCode::OK, &result)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct ItemQuery {
    /// SKU of the item to be deleted.
    #[param(value_type = String, required = true, min_length = 1, pattern = "\\S")]
    item_id: Option<String>,
}

#[utoipa::path(
    delete,
    path = "/orders/{orderId}/items",
    tag = "Order",
    operation_id = "deleteOrderItem",
    summary = "Delete Order Item",
    description = "Removes the lines with this SKU and recomputes subTotal and gmv when they matched the lines.",
    params(("orderId" = String, Path, description = "The order id"), ItemQuery),
    responses(
        (status = 200, description = "Item deleted successfully", body = OperationResult, headers(("ETag" = String))),
        (status = 400, description = "Invalid request (field paths in additionalInfo)", body = SendproError),
        (status = 401, description = "The request could not be authorized", body = SendproError),
        (status = 403, description = "The token lacks orders:write", body = SendproError),
        (status = 404, description = "No such order, or no item with that SKU", body = SendproError),
        (status = 409, description = "It is the last item, or the order is fulfilled or canceled", body = SendproError),
        (status = 429, description = "Rate limited", body = SendproError),
        (status = 500, description = "The request could not be completed due to an internal error", body = SendproError),
        (status = 503, description = "Database unavailable or server saturated", body = SendproError)
    )
)]
pub async fn delete_item(
    State(state): State<AppState>,
    Writer(caller): Writer,
    Path(order_id): Path<String>,
    QueryParams(query): QueryParams<ItemQuery>,
) -> ApiResult<Response> {
    let sku = query
        .item_id
        .filter(|s| !is_blank(s))
        .ok_or_else(|| ApiError::field("itemId", "query parameter is required"))?;
    let order = state.orders.remove_item(&caller, &order_id, &sku).await?;
    let result = OperationResult::item_removed(&order);
    let response = json(StatusCode::OK, &result)?;
    Ok(with_etag(response, &order))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BulkStatusIn {
    /// 1 to 500 orders.
    #[schema(value_type = Vec<OrderRef>, required = true, min_items = 1, max_items = 500)]
    orders: Option<Vec<OrderRef>>,
    #[schema(value_type = String, required = true, example = "ONHOLD", pattern = "^\\s*([Uu][Nn][Ff][Uu][Ll][Ff][Ii][Ll][Ll][Ee][Dd]|[Ff][Uu][Ll][Ff][Ii][Ll][Ll][Ee][Dd]|[Oo][Nn][Hh][Oo][Ll][Dd]|[Hh][Oo][Ll][Dd]|[Cc][Aa][Nn][Cc][Ee][Ll][Ee][Dd]|[Cc][Aa][Nn][Cc][Ee][Ll][Ll][Ee][Dd])\\s*$")]
    status: Option<String>,
    #[schema(max_length = 255)]
    reason: Option<String>,
}

impl crate::http::extract::RequestBody for BulkStatusIn {}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OrderRef {
    order_id: String,
}

/// Applies the status to each order independently; 404 only when none of them exists.
#[utoipa::path(
    patch,
    path = "/orders/bulk/status",
    tag = "Order",
    operation_id = "updateOrderById",
    summary = "Update Bulk Orders Status",
    description = "Each listed order moves independently under the lifecycle rules; results reports each outcome.",
    request_body = BulkStatusIn,
    responses(
        (status = 200, description = "Order status updated successfully.", body = BulkOutcome),
        (status = 400, description = "Invalid request (field paths in additionalInfo)", body = SendproError),
        (status = 401, description = "The request could not be authorized", body = SendproError),
        (status = 403, description = "The token lacks orders:write", body = SendproError),
        (status = 404, description = "None of the listed orders exists", body = SendproError),
        (status = 429, description = "Rate limited", body = SendproError),
        (status = 500, description = "The request could not be completed due to an internal error", body = SendproError),
        (status = 503, description = "Database unavailable or server saturated", body = SendproError)
    )
)]
pub async fn bulk_status(
    State(state): State<AppState>,
    Writer(caller): Writer,
    body: JsonBody<BulkStatusIn>,
) -> ApiResult<Response> {
    let BulkStatusIn {
        orders,
        status,
        reason,
    } = body.value;
    let mut p = Problems::default();
    let target = match status.as_deref() {
        None => {
            p.add("status", "is required");
            None
        }
        Some(s) => SendproStatus::parse(s).or_else(|| {
            p.add(
                "status",
                format!("'{s}' is not one of UNFULFILLED, FULFILLED, ONHOLD, CANCELED"),
            );
            None
        }),
    };
    let orders = orders.unwrap_or_default();
    if orders.is_empty() || orders.len() > MAX_BULK {
        p.add("orders", format!("must list 1 to {MAX_BULK} orders"));
    }
    p.max_len("reason", reason.as_deref(), 255);
    p.into_result().map_err(ApiError::Validation)?;
    let target = target.expect("validated above");
    let mut results = Vec::with_capacity(orders.len());
    for r in &orders {
        let outcome = state
            .orders
            .set_status(&caller, &r.order_id, target, reason.as_deref())
            .await;
        results.push(BulkResult::record(&r.order_id, outcome)?);
    }
    let word = target.as_str();
    let outcome = BulkOutcome::finish(results, word, word, "Order status updated successfully.")?;
    json(StatusCode::OK, &outcome)
}

/// Every change of the order, oldest first.
#[utoipa::path(
    get,
    path = "/orders/{orderId}/history",
    tag = "Order",
    operation_id = "getOrderHistory",
    summary = "Order history",
    description = "Every change of the order, oldest first.",
    params(("orderId" = String, Path, description = "The order id")),
    responses(
        (status = 200, description = "The events", body = HistoryPage),
        (status = 401, description = "The request could not be authorized", body = SendproError),
        (status = 404, description = "The requested resource was not found.", body = SendproError),
        (status = 429, description = "Rate limited", body = SendproError),
        (status = 500, description = "The request could not be completed due to an internal error", body = SendproError),
        (status = 503, description = "Database unavailable or server saturated", body = SendproError)
    )
)]
pub async fn history(
    State(state): State<AppState>,
    Reader(caller): Reader,
    Path(order_id): Path<String>,
) -> ApiResult<Response> {
    let events = state.orders.history(&caller, &order_id).await?;
    json(StatusCode::OK, &HistoryPage { order_id, events })
}
