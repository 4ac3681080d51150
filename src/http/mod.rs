//! The router: both API surfaces, the operational routes, and the layers every request passes.

pub mod extract;
pub mod fulfillment;
mod health;
pub mod ordermanagement;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;

use crate::domain::Order;
use crate::error::ErrorReport;
use crate::state::AppState;
use extract::{MAX_BODY_BYTES, TRANSACTION_ID};

pub const FULFILLMENT_BASE: &str = "/shippingservices/fulfillment/v1";
pub const SENDPRO_BASE: &str = "/ordermanagement/api/v1";
/// Set on a create answered from an earlier request with the same idempotency key.
pub const IDEMPOTENT_REPLAY: &str = "idempotent-replayed";

/// The whole application; `main` and every test use this same router.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(health::healthz))
        .nest(FULFILLMENT_BASE, fulfillment::routes())
        .nest(SENDPRO_BASE, ordermanagement::routes())
        .fallback(|| async { StatusCode::NOT_FOUND })
        .method_not_allowed_fallback(|| async { StatusCode::METHOD_NOT_ALLOWED })
        .layer(middleware::from_fn(render_errors))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let txid = req
                .headers()
                .get(TRANSACTION_ID)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            tracing::info_span!(
                "request",
                method = %req.method(),
                path = %req.uri().path(),
                transaction_id = %txid,
                client_id = tracing::field::Empty,
            )
        }))
        .with_state(state)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Dialect {
    Fulfillment,
    Sendpro,
}

/// Renders every failure in the dialect of the surface the request addressed, and echoes a valid
/// `X-PB-TransactionId`.
async fn render_errors(req: Request, next: Next) -> Response {
    let dialect = if req.uri().path().starts_with("/ordermanagement") {
        Dialect::Sendpro
    } else {
        Dialect::Fulfillment
    };
    let txid = req
        .headers()
        .get(TRANSACTION_ID)
        .filter(|v| crate::service::validate_key(v.to_str().unwrap_or(""), 25).is_ok())
        .cloned();
    let mut response = next.run(req).await;
    let status = response.status();
    if status.is_client_error() || status.is_server_error() {
        let report = response
            .extensions_mut()
            .remove::<ErrorReport>()
            .unwrap_or_else(|| ErrorReport::from_status(status));
        let tx = txid
            .as_ref()
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let internal = status.is_server_error() && status != StatusCode::SERVICE_UNAVAILABLE;
        let body = match dialect {
            Dialect::Fulfillment => report.fulfillment_body(&tx, internal),
            Dialect::Sendpro => report.sendpro_body(&tx, internal),
        };
        let (mut parts, _) = response.into_parts();
        parts.headers.remove(axum::http::header::CONTENT_LENGTH);
        parts
            .headers
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        response = Response::from_parts(parts, Body::from(body.to_string()));
    }
    if let Some(txid) = txid {
        response.headers_mut().insert(TRANSACTION_ID, txid);
    }
    response.into_response()
}

/// Serializes straight into the response body (no intermediate `Value`).
pub fn json<T: serde::Serialize>(
    status: StatusCode,
    value: &T,
) -> crate::error::ApiResult<Response> {
    let body = serde_json::to_vec(value).map_err(anyhow::Error::from)?;
    Ok((
        status,
        [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        body,
    )
        .into_response())
}

/// Every order response carries the order's version as a strong ETag.
pub fn with_etag(mut response: Response, order: &Order) -> Response {
    let value = HeaderValue::from_str(&format!("\"{}\"", order.version)).expect("digits are valid");
    response.headers_mut().insert(header::ETAG, value);
    response
}

/// `If-Match: "7"` (or `W/"7"`, or `*`). A value naming no version can match nothing.
pub fn if_match(headers: &HeaderMap) -> Option<i64> {
    let raw = headers.get(header::IF_MATCH)?.to_str().unwrap_or("").trim();
    if raw == "*" {
        return None;
    }
    let v = raw.trim_start_matches("W/").trim_matches('"');
    Some(v.parse().unwrap_or(-1))
}
