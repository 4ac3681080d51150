//! Endpoints: create, list, read, change, delete, pause, resume, rotate the secret.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::dto::{EndpointCreateIn, EndpointIn, EndpointList, EndpointOut, EndpointWithSecret};
use crate::auth::{Reader, Writer};
use crate::error::ApiResult;
use crate::http::extract::JsonBody;
use crate::http::json;
use crate::http::openapi::FulfillmentErrors;
use crate::state::AppState;

#[utoipa::path(
    post,
    path = "/endpoints",
    tag = "Webhooks",
    operation_id = "createWebhookEndpoint",
    summary = "Create a webhook endpoint",
    description = "Subscribes a URL to the tenant's order events. The answer carries the signing secret, shown this once. At most 20 endpoints per tenant.",
    request_body = EndpointCreateIn,
    responses(
        (status = 201, description = "Created, with its secret", body = EndpointWithSecret),
        (status = 400, description = "Invalid URL (not http(s), or a private address), event type or description", body = FulfillmentErrors),
        (status = 401, description = "No valid token", body = FulfillmentErrors),
        (status = 403, description = "The token lacks orders:write", body = FulfillmentErrors),
        (status = 409, description = "The tenant has 20 endpoints already", body = FulfillmentErrors)
    )
)]
pub async fn create(
    State(state): State<AppState>,
    Writer(caller): Writer,
    body: JsonBody<EndpointCreateIn>,
) -> ApiResult<Response> {
    let endpoint = state.webhooks.create(&caller, body.value.into()).await?;
    json(StatusCode::CREATED, &EndpointWithSecret::from(endpoint))
}

#[utoipa::path(
    get,
    path = "/endpoints",
    tag = "Webhooks",
    operation_id = "listWebhookEndpoints",
    summary = "List the tenant's webhook endpoints",
    responses(
        (status = 200, description = "Oldest first; secrets are not shown", body = EndpointList),
        (status = 401, description = "No valid token", body = FulfillmentErrors),
        (status = 403, description = "The token lacks orders:read", body = FulfillmentErrors)
    )
)]
pub async fn list(State(state): State<AppState>, Reader(caller): Reader) -> ApiResult<Response> {
    let endpoints = state.webhooks.list(&caller).await?;
    let list = EndpointList {
        endpoints: endpoints.into_iter().map(EndpointOut::from).collect(),
    };
    json(StatusCode::OK, &list)
}

#[utoipa::path(
    get,
    path = "/endpoints/{id}",
    tag = "Webhooks",
    operation_id = "getWebhookEndpoint",
    summary = "Read a webhook endpoint",
    params(("id" = String, Path, description = "The endpoint id")),
    responses(
        (status = 200, description = "The endpoint, with its status", body = EndpointOut),
        (status = 401, description = "No valid token", body = FulfillmentErrors),
        (status = 404, description = "No such endpoint for this tenant", body = FulfillmentErrors)
    )
)]
pub async fn get(
    State(state): State<AppState>,
    Reader(caller): Reader,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let endpoint = state.webhooks.get(&caller, &id).await?;
    json(StatusCode::OK, &EndpointOut::from(endpoint))
}

#[utoipa::path(
    patch,
    path = "/endpoints/{id}",
    tag = "Webhooks",
    operation_id = "updateWebhookEndpoint",
    summary = "Change a webhook endpoint's URL, event types or description",
    description = "Fields left out stay as they are; eventTypes null subscribes to every event type.",
    params(("id" = String, Path, description = "The endpoint id")),
    request_body = EndpointIn,
    responses(
        (status = 200, description = "The endpoint as changed", body = EndpointOut),
        (status = 401, description = "No valid token", body = FulfillmentErrors),
        (status = 400, description = "Invalid field", body = FulfillmentErrors),
        (status = 403, description = "The token lacks orders:write", body = FulfillmentErrors),
        (status = 404, description = "No such endpoint for this tenant", body = FulfillmentErrors)
    )
)]
pub async fn update(
    State(state): State<AppState>,
    Writer(caller): Writer,
    Path(id): Path<String>,
    body: JsonBody<EndpointIn>,
) -> ApiResult<Response> {
    let endpoint = state
        .webhooks
        .update(&caller, &id, body.value.try_into()?)
        .await?;
    json(StatusCode::OK, &EndpointOut::from(endpoint))
}

#[utoipa::path(
    delete,
    path = "/endpoints/{id}",
    tag = "Webhooks",
    operation_id = "deleteWebhookEndpoint",
    summary = "Delete a webhook endpoint, its queued deliveries and its log",
    params(("id" = String, Path, description = "The endpoint id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No valid token", body = FulfillmentErrors),
        (status = 403, description = "The token lacks orders:write", body = FulfillmentErrors),
        (status = 404, description = "No such endpoint for this tenant", body = FulfillmentErrors)
    )
)]
pub async fn delete(
    State(state): State<AppState>,
    Writer(caller): Writer,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    state.webhooks.delete(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[utoipa::path(
    post,
    path = "/endpoints/{id}/pause",
    tag = "Webhooks",
    operation_id = "pauseWebhookEndpoint",
    summary = "Pause deliveries to an endpoint",
    description = "Events keep being queued for it and are delivered, in order, on resume.",
    params(("id" = String, Path, description = "The endpoint id")),
    responses(
        (status = 200, description = "Paused", body = EndpointOut),
        (status = 401, description = "No valid token", body = FulfillmentErrors),
        (status = 403, description = "The token lacks orders:write", body = FulfillmentErrors),
        (status = 404, description = "No such endpoint for this tenant", body = FulfillmentErrors)
    )
)]
pub async fn pause(
    State(state): State<AppState>,
    Writer(caller): Writer,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let endpoint = state.webhooks.pause(&caller, &id).await?;
    json(StatusCode::OK, &EndpointOut::from(endpoint))
}

#[utoipa::path(
    post,
    path = "/endpoints/{id}/resume",
    tag = "Webhooks",
    operation_id = "resumeWebhookEndpoint",
    summary = "Resume a paused or disabled endpoint",
    params(("id" = String, Path, description = "The endpoint id")),
    responses(
        (status = 200, description = "Active again", body = EndpointOut),
        (status = 401, description = "No valid token", body = FulfillmentErrors),
        (status = 403, description = "The token lacks orders:write", body = FulfillmentErrors),
        (status = 404, description = "No such endpoint for this tenant", body = FulfillmentErrors)
    )
)]
pub async fn resume(
    State(state): State<AppState>,
    Writer(caller): Writer,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let endpoint = state.webhooks.resume(&caller, &id).await?;
    json(StatusCode::OK, &EndpointOut::from(endpoint))
}

#[utoipa::path(
    post,
    path = "/endpoints/{id}/rotate-secret",
    tag = "Webhooks",
    operation_id = "rotateWebhookSecret",
    summary = "Give an endpoint a new signing secret",
    description = "The answer carries the new secret, shown this once. For 24 hours deliveries carry two signatures, with the new and the previous secret.",
    params(("id" = String, Path, description = "The endpoint id")),
    responses(
        (status = 200, description = "The endpoint with its new secret", body = EndpointWithSecret),
        (status = 401, description = "No valid token", body = FulfillmentErrors),
        (status = 403, description = "The token lacks orders:write", body = FulfillmentErrors),
        (status = 404, description = "No such endpoint for this tenant", body = FulfillmentErrors)
    )
)]
pub async fn rotate_secret(
    State(state): State<AppState>,
    Writer(caller): Writer,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let endpoint = state.webhooks.rotate_secret(&caller, &id).await?;
    json(StatusCode::OK, &EndpointWithSecret::from(endpoint))
}
