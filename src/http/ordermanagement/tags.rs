//! Per-order and bulk tags: the given list replaces the order's tags (`[]` removes them all).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;

use super::orders::{BulkResult, MAX_BULK};
use super::transaction_time;
use crate::auth::Caller;
use crate::domain::validate::Problems;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::JsonBody;
use crate::http::{json, with_etag};
use crate::service::changes::normalize_tags;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TagsIn {
    tag_ids: Option<Vec<String>>,
}

pub async fn set_tags(
    State(state): State<AppState>,
    caller: Caller,
    Path(order_id): Path<String>,
    body: JsonBody<TagsIn>,
) -> ApiResult<Response> {
    caller.require_write()?;
    let raw = body
        .value
        .tag_ids
        .ok_or_else(|| ApiError::field("tagIds", "is required (use [] to remove all tags)"))?;
    let tags = normalize_tags(&raw, "tagIds").map_err(|p| ApiError::Validation(p.into_errors()))?;
    let order = state.orders.set_tags(&caller, &order_id, tags).await?;
    let response = json(
        StatusCode::OK,
        &json!({
            "orderId": order.order_id,
            "tagIds": order.tags,
            "status": "Updated",
            "transactionDateTime": transaction_time(),
        }),
    )?;
    Ok(with_etag(response, &order))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BulkTagsIn {
    tags: Option<Vec<OrderTags>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OrderTags {
    order_id: String,
    tag_ids: Vec<String>,
}

/// Each entry is applied independently; the request is refused whole only when it is malformed
/// or when none of its orders exists.
pub async fn bulk_tags(
    State(state): State<AppState>,
    caller: Caller,
    body: JsonBody<BulkTagsIn>,
) -> ApiResult<Response> {
    caller.require_write()?;
    let entries = body.value.tags.unwrap_or_default();
    let mut p = Problems::default();
    if entries.is_empty() || entries.len() > MAX_BULK {
        p.add("tags", format!("must list 1 to {MAX_BULK} orders"));
    }
    let mut normalized = Vec::with_capacity(entries.len());
    for (i, e) in entries.iter().enumerate() {
        match normalize_tags(&e.tag_ids, &format!("tags[{i}].tagIds")) {
            Ok(t) => normalized.push(t),
            Err(problems) => {
                for f in problems.into_errors() {
                    p.add(f.field, f.message);
                }
            }
        }
    }
    p.into_result().map_err(ApiError::Validation)?;
    let mut results = Vec::with_capacity(entries.len());
    for (entry, tags) in entries.iter().zip(normalized) {
        let outcome = match state.orders.set_tags(&caller, &entry.order_id, tags).await {
            Err(e @ (ApiError::Unavailable(_) | ApiError::Internal(_))) => return Err(e),
            other => other,
        };
        results.push(BulkResult::of(&entry.order_id, &outcome));
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
            "status": if failed == 0 { "Updated" } else { "PartiallyUpdated" },
            "message": format!("{} of {} orders updated.", results.len() - failed, results.len()),
            "transactionDateTime": transaction_time(),
            "results": results,
        }),
    )
}
