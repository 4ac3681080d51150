//! One move of one order: thin handlers that read the body, call the service and answer with
//! the order's fulfilment state and its ETag.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::dto::{BackorderIn, CancelIn, FulfilmentOut, HoldIn, ReturnIn, ShipmentIn};
use crate::auth::{Fulfiller, Reader};
use crate::domain::shipments::Move;
use crate::error::ApiResult;
use crate::http::extract::{JsonBody, OptionalJsonBody};
use crate::http::openapi::FulfillmentErrors;
use crate::http::{if_match, json, with_etag};
use crate::state::AppState;

/// The answers every move shares beside its own 2xx, 400 and 409.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // Only described in the spec: the errors themselves are `ApiError`s.
enum MoveErrors {
    #[response(status = 401, description = "Missing or invalid bearer token")]
    Unauthorized(FulfillmentErrors),
    #[response(
        status = 403,
        description = "The token lacks orders:fulfil (or orders:write)"
    )]
    Forbidden(FulfillmentErrors),
    #[response(status = 404, description = "No such order for this client")]
    NotFound(FulfillmentErrors),
    #[response(status = 412, description = "If-Match names an older version")]
    Stale(FulfillmentErrors),
    #[response(status = 429, description = "Rate limited")]
    RateLimited(FulfillmentErrors),
    #[response(status = 503, description = "Database unavailable or server saturated")]
    Unavailable(FulfillmentErrors),
}

async fn run(
    state: &AppState,
    caller: &crate::auth::Caller,
    order_id: &str,
    headers: &HeaderMap,
    mv: Move,
    status: StatusCode,
) -> ApiResult<Response> {
    let order = state
        .orders
        .fulfil(caller, order_id, if_match(headers), &mv)
        .await?;
    Ok(with_etag(json(status, &FulfilmentOut::of(&order))?, &order))
}

/// The order's fulfilment state: status, hold, and per line what was ordered, shipped, returned
/// and is short, with every shipment and return.
#[utoipa::path(
    get,
    path = "/{orderId}/fulfilment",
    tag = "Warehouse (oms extension)",
    operation_id = "omsGetFulfilment",
    summary = "Fulfilment state of an order",
    params(("orderId" = String, Path, description = "The order id")),
    responses(
        (status = 200, description = "The fulfilment state", body = FulfilmentOut, headers(("ETag" = String))),
        (status = 401, description = "Missing or invalid bearer token", body = FulfillmentErrors),
        (status = 403, description = "The token lacks orders:read", body = FulfillmentErrors),
        (status = 404, description = "No such order for this client", body = FulfillmentErrors),
        (status = 429, description = "Rate limited", body = FulfillmentErrors),
        (status = 503, description = "Database unavailable or server saturated", body = FulfillmentErrors)
    )
)]
pub async fn fulfilment(
    State(state): State<AppState>,
    Reader(caller): Reader,
    Path(order_id): Path<String>,
) -> ApiResult<Response> {
    let order = state.orders.get(&caller, &order_id).await?;
    Ok(with_etag(
        json(StatusCode::OK, &FulfilmentOut::of(&order))?,
        &order,
    ))
}

#[utoipa::path(
    post,
    path = "/{orderId}/start",
    tag = "Warehouse (oms extension)",
    operation_id = "omsStartOrder",
    summary = "Start picking (INPROGRESS)",
    description = "From RECEIVED or BACKORDER. Starting an order already in progress changes nothing.",
    params(("orderId" = String, Path, description = "The order id"),
        ("If-Match" = Option<String>, Header, nullable = false, description = "The ETag last read; 412 when the order changed since")),
    responses(
        (status = 200, description = "The order's fulfilment state after the move", body = FulfilmentOut, headers(("ETag" = String))),
        (status = 409, description = "The lifecycle does not allow the move from the order's status (the reason says why)", body = FulfillmentErrors),
        MoveErrors
    )
)]
pub async fn start(
    State(state): State<AppState>,
    Fulfiller(caller): Fulfiller,
    headers: HeaderMap,
    Path(order_id): Path<String>,
) -> ApiResult<Response> {
    run(
        &state,
        &caller,
        &order_id,
        &headers,
        Move::Start,
        StatusCode::OK,
    )
    .await
}

#[utoipa::path(
    post,
    path = "/{orderId}/backorder",
    tag = "Warehouse (oms extension)",
    operation_id = "omsBackorderOrder",
    summary = "Backorder lines (BACKORDER)",
    description = "From RECEIVED or INPROGRESS, with the lines short and how many units of each (at most what is left to ship). Starting or shipping again clears them.",
    params(("orderId" = String, Path, description = "The order id"),
        ("If-Match" = Option<String>, Header, nullable = false, description = "The ETag last read; 412 when the order changed since")),
    request_body(content = BackorderIn, example = crate::http::openapi_examples::backorder),
    responses(
        (status = 200, description = "The order's fulfilment state after the move", body = FulfilmentOut, headers(("ETag" = String))),
        (status = 400, description = "Invalid request", body = FulfillmentErrors),
        (status = 409, description = "The lifecycle does not allow the move, lines the order does not have, or more units short than are left", body = FulfillmentErrors),
        MoveErrors
    )
)]
pub async fn backorder(
    State(state): State<AppState>,
    Fulfiller(caller): Fulfiller,
    headers: HeaderMap,
    Path(order_id): Path<String>,
    body: JsonBody<BackorderIn>,
) -> ApiResult<Response> {
    let mv = body.value.into_move();
    run(&state, &caller, &order_id, &headers, mv, StatusCode::OK).await
}

#[utoipa::path(
    post,
    path = "/{orderId}/hold",
    tag = "Warehouse (oms extension)",
    operation_id = "omsHoldOrder",
    summary = "Put on hold (ONHOLD) with a reason",
    description = "From RECEIVED, INPROGRESS or BACKORDER; release returns the order to the status it was held from. Holding a held order changes nothing.",
    params(("orderId" = String, Path, description = "The order id"),
        ("If-Match" = Option<String>, Header, nullable = false, description = "The ETag last read; 412 when the order changed since")),
    request_body(content = HoldIn, example = crate::http::openapi_examples::hold),
    responses(
        (status = 200, description = "The order's fulfilment state after the move", body = FulfilmentOut, headers(("ETag" = String))),
        (status = 400, description = "Invalid request", body = FulfillmentErrors),
        (status = 409, description = "The lifecycle does not allow the move from the order's status", body = FulfillmentErrors),
        MoveErrors
    )
)]
pub async fn hold(
    State(state): State<AppState>,
    Fulfiller(caller): Fulfiller,
    headers: HeaderMap,
    Path(order_id): Path<String>,
    body: JsonBody<HoldIn>,
) -> ApiResult<Response> {
    let mv = body.value.into_move();
    run(&state, &caller, &order_id, &headers, mv, StatusCode::OK).await
}

#[utoipa::path(
    post,
    path = "/{orderId}/release",
    tag = "Warehouse (oms extension)",
    operation_id = "omsReleaseOrder",
    summary = "Release a hold",
    description = "Back to the status the order had before the hold.",
    params(("orderId" = String, Path, description = "The order id"),
        ("If-Match" = Option<String>, Header, nullable = false, description = "The ETag last read; 412 when the order changed since")),
    responses(
        (status = 200, description = "The order's fulfilment state after the move", body = FulfilmentOut, headers(("ETag" = String))),
        (status = 409, description = "The order is not on hold", body = FulfillmentErrors),
        MoveErrors
    )
)]
pub async fn release(
    State(state): State<AppState>,
    Fulfiller(caller): Fulfiller,
    headers: HeaderMap,
    Path(order_id): Path<String>,
) -> ApiResult<Response> {
    run(
        &state,
        &caller,
        &order_id,
        &headers,
        Move::Release,
        StatusCode::OK,
    )
    .await
}

#[utoipa::path(
    post,
    path = "/{orderId}/shipments",
    tag = "Warehouse (oms extension)",
    operation_id = "omsShipOrder",
    summary = "Record a shipment",
    description = "From RECEIVED, INPROGRESS or BACKORDER (a held order is released first). The order becomes SHIPPED (SendPro360: FULFILLED) when every line is wholly shipped, else INPROGRESS; shipped quantities never exceed ordered ones. Without lines, everything not shipped yet is shipped. The tracking number is the shipment's idempotency key: sent again with the same lines it changes nothing, with other lines it is 409.",
    params(("orderId" = String, Path, description = "The order id"),
        ("If-Match" = Option<String>, Header, nullable = false, description = "The ETag last read; 412 when the order changed since")),
    request_body(content = ShipmentIn, example = crate::http::openapi_examples::shipment),
    responses(
        (status = 201, description = "The order's fulfilment state with the shipment", body = FulfilmentOut, headers(("ETag" = String))),
        (status = 400, description = "Invalid request", body = FulfillmentErrors),
        (status = 409, description = "The lifecycle does not allow shipping, lines the order does not have, or more units than are left to ship", body = FulfillmentErrors),
        MoveErrors
    )
)]
pub async fn ship(
    State(state): State<AppState>,
    Fulfiller(caller): Fulfiller,
    headers: HeaderMap,
    Path(order_id): Path<String>,
    body: JsonBody<ShipmentIn>,
) -> ApiResult<Response> {
    let mv = body.value.into_move();
    run(
        &state,
        &caller,
        &order_id,
        &headers,
        mv,
        StatusCode::CREATED,
    )
    .await
}

#[utoipa::path(
    post,
    path = "/{orderId}/returns",
    tag = "Warehouse (oms extension)",
    operation_id = "omsReturnOrder",
    summary = "Record a return (RETURNED)",
    description = "From SHIPPED, or RETURNED while shipped units are left to come back. Without lines, everything shipped and not returned yet comes back.",
    params(("orderId" = String, Path, description = "The order id"),
        ("If-Match" = Option<String>, Header, nullable = false, description = "The ETag last read; 412 when the order changed since")),
    request_body(content = ReturnIn, example = crate::http::openapi_examples::give_back),
    responses(
        (status = 201, description = "The order's fulfilment state with the return", body = FulfilmentOut, headers(("ETag" = String))),
        (status = 400, description = "Invalid request", body = FulfillmentErrors),
        (status = 409, description = "The order is not shipped, lines it does not have, or more units than were shipped", body = FulfillmentErrors),
        MoveErrors
    )
)]
pub async fn give_back(
    State(state): State<AppState>,
    Fulfiller(caller): Fulfiller,
    headers: HeaderMap,
    Path(order_id): Path<String>,
    body: JsonBody<ReturnIn>,
) -> ApiResult<Response> {
    let mv = body.value.into_move();
    run(
        &state,
        &caller,
        &order_id,
        &headers,
        mv,
        StatusCode::CREATED,
    )
    .await
}

#[utoipa::path(
    post,
    path = "/{orderId}/cancel",
    tag = "Warehouse (oms extension)",
    operation_id = "omsCancelOrder",
    summary = "Cancel (CANCELED)",
    description = "From any open status while nothing has shipped (shipped goods are returned, not cancelled). The body, with an optional reason, may be left out. Cancelling a cancelled order changes nothing.",
    params(("orderId" = String, Path, description = "The order id"),
        ("If-Match" = Option<String>, Header, nullable = false, description = "The ETag last read; 412 when the order changed since")),
    request_body(content = Option<CancelIn>, example = crate::http::openapi_examples::cancel),
    responses(
        (status = 200, description = "The order's fulfilment state after the move", body = FulfilmentOut, headers(("ETag" = String))),
        (status = 400, description = "Invalid request", body = FulfillmentErrors),
        (status = 409, description = "Shipped, returned, or partly shipped", body = FulfillmentErrors),
        MoveErrors
    )
)]
pub async fn cancel(
    State(state): State<AppState>,
    Fulfiller(caller): Fulfiller,
    headers: HeaderMap,
    Path(order_id): Path<String>,
    OptionalJsonBody(body): OptionalJsonBody<CancelIn>,
) -> ApiResult<Response> {
    run(
        &state,
        &caller,
        &order_id,
        &headers,
        body.into_move(),
        StatusCode::OK,
    )
    .await
}
