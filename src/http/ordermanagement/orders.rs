//! Create, get, partial update, delete, item removal and bulk status: thin handlers over the
//! service, speaking the SendPro360 dialect.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::dto::{FIELDS, OrderDoc, OrderView, REQUIRED, translate};
use super::merge::merge;
use super::transaction_time;
use crate::auth::Caller;
use crate::domain::date::format_utc;
use crate::domain::order::{OrderContent, Surface};
use crate::domain::status::SendproStatus;
use crate::domain::validate::{Problems, combine};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{JsonBody, QueryParams, TRANSACTION_ID, from_document};
use crate::http::{IDEMPOTENT_REPLAY, if_match, json, with_etag};
use crate::service::IdempotencyKey;
use crate::state::AppState;

const SURFACE: &str = "sendpro";
pub const MAX_BULK: usize = 500;

/// `Idempotency-Key` (up to 255) or `X-PB-TransactionId` (up to 25), both optional here.
fn idempotency(headers: &HeaderMap, body: &Value) -> ApiResult<Option<IdempotencyKey>> {
    let header = |name: &str| headers.get(name).map(|v| v.to_str().unwrap_or(""));
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

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: JsonBody<OrderDoc>,
) -> ApiResult<Response> {
    caller.require_write()?;
    let key = idempotency(&headers, &body.document)?;
    let doc = body.value;
    let required = doc.check_required();
    let mut content = OrderContent::default();
    doc.apply_to(&mut content, true).map_err(translate)?;
    let canonical = content.validate().err().unwrap_or_default();
    let problems = combine(required, canonical);
    if !problems.is_empty() {
        return Err(translate(ApiError::Validation(problems)));
    }
    let created = state
        .orders
        .create(&caller, Surface::Sendpro, content, key)
        .await
        .map_err(translate)?;
    let order = &created.order;
    let mut response = with_etag(
        json(
            StatusCode::OK,
            &json!({
                "orderId": order.order_id,
                "orderNumber": order.content.client_order_id,
                "status": "Created",
                "transactionCreateDate": format_utc(&order.pb_create_date),
            }),
        )?,
        order,
    );
    if created.replayed {
        response
            .headers_mut()
            .insert(IDEMPOTENT_REPLAY, HeaderValue::from_static("true"));
    }
    Ok(response)
}

pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
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
pub async fn patch(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(order_id): Path<String>,
    body: JsonBody<Map<String, Value>>,
) -> ApiResult<Response> {
    let mut p = Problems::default();
    for (key, value) in &body.value {
        if !FIELDS.contains(&key.as_str()) {
            p.add(key.as_str(), format!("is not a known field ('{key}')"));
        } else if value.is_null() && REQUIRED.contains(&key.as_str()) {
            p.add(key.as_str(), "is required and cannot be cleared");
        }
    }
    p.into_result().map_err(ApiError::Validation)?;
    let patch = Value::Object(body.value);
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
            Ok(next)
        })
        .await
        .map_err(translate)?;
    let response = json(
        StatusCode::OK,
        &json!({
            "orderId": order.order_id,
            "orderNumber": order.content.client_order_id,
            "status": "Updated",
            "transactionCreateDate": transaction_time(),
        }),
    )?;
    Ok(with_etag(response, &order))
}

pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(order_id): Path<String>,
) -> ApiResult<Response> {
    let order = state.orders.delete(&caller, &order_id).await?;
    json(
        StatusCode::OK,
        &json!({
            "orderId": order.order_id,
            "orderNumber": order.content.client_order_id,
            "status": "Deleted",
            "transactionDateTime": transaction_time(),
        }),
    )
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ItemQuery {
    item_id: Option<String>,
}

pub async fn delete_item(
    State(state): State<AppState>,
    caller: Caller,
    Path(order_id): Path<String>,
    QueryParams(query): QueryParams<ItemQuery>,
) -> ApiResult<Response> {
    let sku = query
        .item_id
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| ApiError::field("itemId", "query parameter is required"))?;
    let order = state.orders.remove_item(&caller, &order_id, &sku).await?;
    let response = json(
        StatusCode::OK,
        &json!({
            "orderId": order.order_id,
            "status": "Updated",
            "transactionDateTime": transaction_time(),
        }),
    )?;
    Ok(with_etag(response, &order))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BulkStatusIn {
    orders: Option<Vec<OrderRef>>,
    status: Option<String>,
    reason: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OrderRef {
    order_id: String,
}

/// One order's outcome in a bulk request.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkResult {
    pub order_id: String,
    pub success: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<Value>,
}

impl BulkResult {
    pub fn of<T>(order_id: &str, outcome: &ApiResult<T>) -> BulkResult {
        BulkResult {
            order_id: order_id.to_string(),
            success: outcome.is_ok(),
            error: outcome
                .as_ref()
                .err()
                .map(|e| json!({"errorCode": e.code(), "message": e.to_string()})),
        }
    }

    pub fn is_not_found(&self) -> bool {
        self.error
            .as_ref()
            .is_some_and(|e| e["errorCode"] == crate::error::code::NOT_FOUND)
    }
}

/// Applies the status to each order independently; 404 only when none of them exists.
pub async fn bulk_status(
    State(state): State<AppState>,
    caller: Caller,
    body: JsonBody<BulkStatusIn>,
) -> ApiResult<Response> {
    caller.require_write()?;
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
        // An outage is not one order's failure: the whole request fails and can be retried.
        let outcome = match outcome {
            Err(e @ (ApiError::Unavailable(_) | ApiError::Internal(_))) => return Err(e),
            other => other,
        };
        results.push(BulkResult::of(&r.order_id, &outcome));
    }
    if results.iter().all(BulkResult::is_not_found) {
        return Err(ApiError::NotFound(
            "none of the listed orders was found".into(),
        ));
    }
    let failed = results.iter().filter(|r| !r.success).count();
    json(
        StatusCode::OK,
        &json!({
            "status": target.as_str(),
            "message": if failed == 0 {
                "Order status updated successfully.".to_string()
            } else {
                format!("{} of {} orders updated; see results.", results.len() - failed, results.len())
            },
            "transactionDateTime": transaction_time(),
            "results": results,
        }),
    )
}

/// Every change of the order, oldest first.
pub async fn history(
    State(state): State<AppState>,
    caller: Caller,
    Path(order_id): Path<String>,
) -> ApiResult<Response> {
    let events = state.orders.history(&caller, &order_id).await?;
    json(
        StatusCode::OK,
        &json!({ "orderId": order_id, "events": events }),
    )
}
