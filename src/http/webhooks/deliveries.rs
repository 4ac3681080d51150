//! An endpoint's delivery log, and redelivery.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::dto::{AttemptLog, AttemptOut, LogQuery, RedeliverIn, Redelivered};
use crate::auth::{Reader, Writer};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{JsonBody, QueryParams};
use crate::http::json;
use crate::http::openapi::FulfillmentErrors;
use crate::state::AppState;

#[utoipa::path(
    get,
    path = "/endpoints/{id}/deliveries",
    tag = "Webhooks",
    operation_id = "listWebhookAttempts",
    summary = "An endpoint's delivery log",
    description = "Every attempt, newest first: the event, the status code answered (null when none came), the latency, and the delivery's state.",
    params(("id" = String, Path, description = "The endpoint id"), LogQuery),
    responses(
        (status = 200, description = "One page of attempts", body = AttemptLog),
        (status = 401, description = "No valid token", body = FulfillmentErrors),
        (status = 400, description = "Invalid limit", body = FulfillmentErrors),
        (status = 404, description = "No such endpoint for this tenant", body = FulfillmentErrors)
    )
)]
pub async fn log(
    State(state): State<AppState>,
    Reader(caller): Reader,
    Path(id): Path<String>,
    QueryParams(query): QueryParams<LogQuery>,
) -> ApiResult<Response> {
    let rows = state
        .webhooks
        .log(&caller, &id, query.before, query.limit)
        .await?;
    let limit = query
        .limit
        .unwrap_or(crate::service::webhooks::MAX_LOG_PAGE) as usize;
    let next_before = (rows.len() == limit)
        .then(|| rows.last().map(|r| r.id))
        .flatten();
    let log = AttemptLog {
        attempts: rows.into_iter().map(AttemptOut::from).collect(),
        next_before,
    };
    json(StatusCode::OK, &log)
}

#[utoipa::path(
    post,
    path = "/endpoints/{id}/redeliver",
    tag = "Webhooks",
    operation_id = "redeliverWebhookEvents",
    summary = "Send events to an endpoint again",
    description = "One event (orderId and version, whatever the endpoint's event types), or every event the endpoint subscribes to since a time (oldest first, at most 10,000). They are queued behind what is queued and keep each order's order.",
    params(("id" = String, Path, description = "The endpoint id")),
    request_body = RedeliverIn,
    responses(
        (status = 202, description = "Queued", body = Redelivered),
        (status = 401, description = "No valid token", body = FulfillmentErrors),
        (status = 400, description = "Neither or both of since and orderId/version", body = FulfillmentErrors),
        (status = 403, description = "The token lacks orders:write", body = FulfillmentErrors),
        (status = 404, description = "No such endpoint, or no such event", body = FulfillmentErrors)
    )
)]
pub async fn redeliver(
    State(state): State<AppState>,
    Writer(caller): Writer,
    Path(id): Path<String>,
    body: JsonBody<RedeliverIn>,
) -> ApiResult<Response> {
    let body = body.value;
    let event = match (body.order_id, body.version) {
        (Some(order_id), Some(version)) => Some((order_id, version)),
        (None, None) => None,
        (Some(_), None) => return Err(ApiError::field("version", "is required with orderId")),
        (None, Some(_)) => return Err(ApiError::field("orderId", "is required with version")),
    };
    let queued = state
        .webhooks
        .redeliver(&caller, &id, event, body.since)
        .await?;
    json(StatusCode::ACCEPTED, &Redelivered { queued })
}
