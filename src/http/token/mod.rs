//! The documented token endpoints: `POST /oauth/token` (PB Shipping API, for the Fulfillment
//! surface) and `POST /auth/api/v1/token` (SendPro360). HTTP Basic with an API key and secret,
//! a form body; no bearer token. Each answers in its family's shapes.

pub mod dto;

use axum::Extension;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use std::net::{IpAddr, SocketAddr};

use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiError;
use crate::http::openapi::{FulfillmentErrors, SendproError};
use crate::state::AppState;
use dto::{FulfillmentToken, SendproToken, TokenRequest};

pub const FULFILLMENT_TOKEN_PATH: &str = "/oauth/token";
pub const SENDPRO_TOKEN_PATH: &str = "/auth/api/v1/token";

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(fulfillment_token))
        .routes(routes!(sendpro_token))
}

/// Generate an OAuth token (PB Shipping API). Tokens last 10 hours unless configured otherwise.
#[utoipa::path(post, path = "/oauth/token", tag = "Authentication", operation_id = "generateOAuthToken",
    security(("basicAuth" = [])),
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "A bearer token", body = FulfillmentToken),
        (status = 400, description = "grant_type missing or not client_credentials, or a scope the key lacks", body = FulfillmentErrors),
        (status = 401, description = "Missing or malformed Basic credentials, or an unknown, wrong or revoked key or secret", body = FulfillmentErrors),
        (status = 429, description = "Too many failed attempts for this key or from this address (Retry-After)", body = FulfillmentErrors),
    ))]
async fn fulfillment_token(
    State(state): State<AppState>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    form: Bytes,
) -> Response {
    let lifetime = state.tokens.lifetimes().fulfillment;
    match state
        .tokens
        .issue(authorization(&headers), &form, lifetime, source(peer))
        .await
    {
        Ok(token) => Json(FulfillmentToken::new(token, state.tokens.issuer())).into_response(),
        Err(e) => refused(e),
    }
}

/// Get an access token (SendPro360). Tokens last 4 hours unless configured otherwise.
#[utoipa::path(post, path = "/auth/api/v1/token", tag = "Authentication", operation_id = "getAccessToken",
    security(("basicAuth" = [])),
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "A bearer token", body = SendproToken),
        (status = 400, description = "grant_type missing or not client_credentials, or a scope the key lacks", body = SendproError),
        (status = 401, description = "Missing or malformed Basic credentials, or an unknown, wrong or revoked key or secret", body = SendproError),
        (status = 429, description = "Too many failed attempts for this key or from this address (Retry-After)", body = SendproError),
    ))]
async fn sendpro_token(
    State(state): State<AppState>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    form: Bytes,
) -> Response {
    let lifetime = state.tokens.lifetimes().sendpro;
    match state
        .tokens
        .issue(authorization(&headers), &form, lifetime, source(peer))
        .await
    {
        Ok(token) => Json(SendproToken::from(token)).into_response(),
        Err(e) => refused(e),
    }
}

/// The TCP peer (absent when the router runs without a listener, as in tests). Forwarded-for
/// headers are not trusted: anyone can write them.
fn source(peer: Option<Extension<ConnectInfo<SocketAddr>>>) -> Option<IpAddr> {
    peer.map(|Extension(ConnectInfo(addr))| addr.ip())
}

fn authorization(headers: &HeaderMap) -> Option<&str> {
    headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok())
}

/// The error in the family's shape (see `render_errors`); a 401 here asks for Basic, not Bearer.
fn refused(error: ApiError) -> Response {
    let mut response = error.into_response();
    if response.status() == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"oms\""),
        );
    }
    response
}
