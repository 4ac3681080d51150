//! Many orders in one request, each moved on its own: a result per order, as SendPro360's bulk
//! status answers.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::dto::{BulkOut, BulkShipIn, BulkStartIn};
use crate::auth::Fulfiller;
use crate::error::ApiResult;
use crate::http::extract::JsonBody;
use crate::http::json;
use crate::http::openapi::FulfillmentErrors;
use crate::state::AppState;

#[utoipa::path(
    post,
    path = "/bulk/start",
    tag = "Warehouse (oms extension)",
    operation_id = "omsBulkStart",
    summary = "Start up to 500 orders",
    description = "Each order starts on its own; results say, per order, its status or why it was refused.",
    request_body = BulkStartIn,
    responses(
        (status = 200, description = "One result per order, in the order sent", body = BulkOut),
        (status = 400, description = "Invalid request (no orders, more than 500, a missing orderId)", body = FulfillmentErrors),
        (status = 401, description = "Missing or invalid bearer token", body = FulfillmentErrors),
        (status = 403, description = "The token lacks orders:fulfil (or orders:write)", body = FulfillmentErrors),
        (status = 429, description = "Rate limited", body = FulfillmentErrors),
        (status = 503, description = "Database unavailable or server saturated", body = FulfillmentErrors)
    )
)]
pub async fn start(
    State(state): State<AppState>,
    Fulfiller(caller): Fulfiller,
    body: JsonBody<BulkStartIn>,
) -> ApiResult<Response> {
    let moves = body.value.into_moves()?;
    let results = state.orders.fulfil_each(&caller, &moves).await;
    json(StatusCode::OK, &BulkOut::of(&moves, results)?)
}

#[utoipa::path(
    post,
    path = "/bulk/shipments",
    tag = "Warehouse (oms extension)",
    operation_id = "omsBulkShip",
    summary = "Ship up to 500 orders",
    description = "Each entry is an orderId with the fields of one shipment; each order ships on its own, and results say, per order, its status or why it was refused.",
    request_body = BulkShipIn,
    responses(
        (status = 200, description = "One result per order, in the order sent", body = BulkOut),
        (status = 400, description = "Invalid request (no orders, more than 500, a missing orderId)", body = FulfillmentErrors),
        (status = 401, description = "Missing or invalid bearer token", body = FulfillmentErrors),
        (status = 403, description = "The token lacks orders:fulfil (or orders:write)", body = FulfillmentErrors),
        (status = 429, description = "Rate limited", body = FulfillmentErrors),
        (status = 503, description = "Database unavailable or server saturated", body = FulfillmentErrors)
    )
)]
pub async fn ship(
    State(state): State<AppState>,
    Fulfiller(caller): Fulfiller,
    body: JsonBody<BulkShipIn>,
) -> ApiResult<Response> {
    let moves = body.value.into_moves()?;
    let results = state.orders.fulfil_each(&caller, &moves).await;
    json(StatusCode::OK, &BulkOut::of(&moves, results)?)
}
