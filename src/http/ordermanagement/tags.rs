//! Per-order and bulk tags: the given list replaces the order's tags (`[]` removes them all).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::dto::{BulkOutcome, BulkResult, OperationResult};
use super::orders::MAX_BULK;
use crate::auth::Writer;
use crate::domain::validate::Problems;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::JsonBody;
use crate::http::openapi::SendproError;
use crate::http::{json, with_etag};
use crate::service::changes::normalize_tags;
use crate::state::AppState;

/// A tag: up to 50 characters as sent, not blank; stored trimmed, and duplicates collapse.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, pattern = "\\S")]
pub struct TagId(#[allow(dead_code)] String);

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TagsIn {
    #[schema(value_type = Vec<TagId>, required = true, max_items = 50, example = json!(["vip", "gift"]))]
    tag_ids: Option<Vec<String>>,
}

impl crate::http::extract::RequestBody for TagsIn {}

#[utoipa::path(
    put,
    path = "/orders/{orderId}/tags",
    tag = "Tags",
    operation_id = "updateTags",
    summary = "Update Tags for an Order",
    description = "Replaces the order's tags; [] removes them all. Tags are trimmed, 1-50 characters, at most 50, duplicates collapsed.",
    params(("orderId" = String, Path, description = "The order id")),
    request_body(content = TagsIn, example = crate::http::openapi_examples::tags),
    responses(
        (status = 200, description = "The specified tag has been updated with the order.", body = OperationResult, headers(("ETag" = String))),
        (status = 400, description = "Invalid request (field paths in additionalInfo)", body = SendproError),
        (status = 401, description = "The request could not be authorized", body = SendproError),
        (status = 403, description = "The token lacks orders:write", body = SendproError),
        (status = 404, description = "The requested resource was not found.", body = SendproError),
        (status = 429, description = "Rate limited", body = SendproError),
        (status = 500, description = "The request could not be completed due to an internal error", body = SendproError),
        (status = 503, description = "Database unavailable or server saturated", body = SendproError)
    )
)]
pub async fn set_tags(
    State(state): State<AppState>,
    Writer(caller): Writer,
    Path(order_id): Path<String>,
    body: JsonBody<TagsIn>,
) -> ApiResult<Response> {
    let raw = body
        .value
        .tag_ids
        .ok_or_else(|| ApiError::field("tagIds", "is required (use [] to remove all tags)"))?;
    let tags = normalize_tags(&raw, "tagIds").map_err(|p| ApiError::Validation(p.into_errors()))?;
    let order = state.orders.set_tags(&caller, &order_id, tags).await?;
    let result = OperationResult::tagged(&order);
    let response = json(StatusCode::OK, &result)?;
    Ok(with_etag(response, &order))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BulkTagsIn {
    #[schema(value_type = Vec<OrderTags>, required = true, min_items = 1, max_items = 500)]
    tags: Option<Vec<OrderTags>>,
}

impl crate::http::extract::RequestBody for BulkTagsIn {}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OrderTags {
    order_id: String,
    #[schema(value_type = Vec<TagId>, max_items = 50)]
    tag_ids: Vec<String>,
}

/// Each entry is applied independently; the request is refused whole only when it is malformed
/// or when none of its orders exists.
#[utoipa::path(
    put,
    path = "/orders/bulkTags",
    tag = "Tags",
    operation_id = "bulkUpdateTags",
    summary = "Update Tags for Bulk Orders",
    request_body = BulkTagsIn,
    responses(
        (status = 200, description = "The specified tags have been updated with the order.", body = BulkOutcome),
        (status = 400, description = "Invalid request (field paths in additionalInfo)", body = SendproError),
        (status = 401, description = "The request could not be authorized", body = SendproError),
        (status = 403, description = "The token lacks orders:write", body = SendproError),
        (status = 404, description = "None of the listed orders exists", body = SendproError),
        (status = 429, description = "Rate limited", body = SendproError),
        (status = 500, description = "The request could not be completed due to an internal error", body = SendproError),
        (status = 503, description = "Database unavailable or server saturated", body = SendproError)
    )
)]
pub async fn bulk_tags(
    State(state): State<AppState>,
    Writer(caller): Writer,
    body: JsonBody<BulkTagsIn>,
) -> ApiResult<Response> {
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
        let outcome = state.orders.set_tags(&caller, &entry.order_id, tags).await;
        results.push(BulkResult::record(&entry.order_id, outcome)?);
    }
    let outcome = BulkOutcome::finish(
        results,
        "Updated",
        "PartiallyUpdated",
        "The specified tags have been updated with the orders.",
    )?;
    json(StatusCode::OK, &outcome)
}
