//! The router: both API surfaces, the operational routes, and the layers every request passes.

pub mod extract;
pub mod fulfillment;
mod health;
pub mod observe;
pub mod openapi;
mod openapi_examples;
mod openapi_links;
pub mod ordermanagement;
mod strict_json;
pub mod token;
pub mod warehouse;
pub mod webhooks;

use axum::BoxError;
use axum::Router;
use axum::body::Body;
use axum::error_handling::HandleErrorLayer;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tower::limit::GlobalConcurrencyLimitLayer;
use tower::{Layer, ServiceBuilder};
use tower_http::CompressionLevel;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{DefaultPredicate, Predicate, SizeAbove};
use tower_http::cors::{AllowOrigin, Any, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use utoipa_swagger_ui::SwaggerUi;

use crate::domain::Order;
use crate::error::ErrorReport;
use crate::state::AppState;
use extract::{MAX_BODY_BYTES, TRANSACTION_ID};

pub const FULFILLMENT_BASE: &str = "/shippingservices/fulfillment/v1";
pub const SENDPRO_BASE: &str = "/ordermanagement/api/v1";
/// Set on a create answered from an earlier request with the same idempotency key.
pub const IDEMPOTENT_REPLAY: &str = "idempotent-replayed";

/// Every route with its OpenAPI description; `app` serves it, `openapi::document` prints it.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .routes(routes!(health::metrics))
        .nest(FULFILLMENT_BASE, fulfillment::routes())
        .nest(SENDPRO_BASE, ordermanagement::routes())
        .nest(warehouse::BASE, warehouse::routes())
        .merge(token::routes())
        .nest("/oms/v1/webhooks", webhooks::routes())
}

/// The whole application; `main` and every test use this same router.
///
/// Layers, outermost first: request id → log/metrics → CORS → compression → error rendering →
/// URI and header limits → load shedding at the concurrency limit → timeout → body limit →
/// routes.
///
/// The layers wrap the routed router once, as one service, rather than each route (what
/// `Router::layer` does): a middleware clones the service inside it for every request, and
/// inside a route that service is the boxed rest of the stack, copied allocation by allocation;
/// around the router it is a reference count.
pub fn app(state: AppState) -> Router {
    let settings = state.settings.clone();
    // Installed before the first request so that no early measurement is lost.
    crate::telemetry::metrics_handle();
    let cors = (!settings.cors_origins.is_empty()).then(|| {
        let origins: Vec<HeaderValue> = settings
            .cors_origins
            .iter()
            .filter_map(|o| HeaderValue::from_str(o).ok())
            .collect();
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods(Any)
            .allow_headers(Any)
            .expose_headers(Any)
    });
    let (routes, spec) = routes().split_for_parts();
    let routed = routes
        .merge(
            SwaggerUi::new("/docs").external_url_unchecked("/openapi.json", openapi::refine(spec)),
        )
        .route_layer(middleware::from_fn(observe::capture_route))
        .fallback(|| async { StatusCode::NOT_FOUND })
        .method_not_allowed_fallback(|| async { StatusCode::METHOD_NOT_ALLOWED })
        .with_state(state);
    let inner = ServiceBuilder::new()
        .layer(compression())
        .layer(middleware::from_fn(render_errors))
        .layer(middleware::from_fn(request_head_limits))
        // A bug must cost one request a 500 in the documented shape, never the connection.
        .layer(CatchPanicLayer::custom(
            |panic: Box<dyn std::any::Any + Send>| {
                let detail = panic
                    .downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| panic.downcast_ref::<&str>().copied())
                    .unwrap_or("unknown panic");
                tracing::error!(panic = detail, "handler panicked");
                StatusCode::INTERNAL_SERVER_ERROR.into_response()
            },
        ))
        .layer(HandleErrorLayer::new(|_: BoxError| async {
            StatusCode::SERVICE_UNAVAILABLE
        }))
        .load_shed()
        // One semaphore for the whole server: the limit is on requests in flight, all routes
        // together.
        .layer(GlobalConcurrencyLimitLayer::new(
            settings.max_concurrency.max(1),
        ))
        .layer(TimeoutLayer::with_status_code(
            settings.timeout_status,
            settings.request_timeout,
        ))
        // The body limit's own response body type has no `Default`, which the timeout needs.
        .map_response(IntoResponse::into_response)
        // axum's own 2 MiB default would otherwise apply underneath.
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .service(routed);
    // Two calls rather than `option_layer`: its `Either` turns the error type into `BoxError`,
    // which a middleware above cannot take.
    match cors {
        Some(cors) => outermost(cors.layer(inner)),
        None => outermost(inner),
    }
}

/// Request id → log/metrics, around the rest, as the router's one service.
fn outermost<S>(inner: S) -> Router
where
    S: tower::Service<Request, Error = std::convert::Infallible> + Clone + Send + Sync + 'static,
    S::Response: IntoResponse,
    S::Future: Send + 'static,
{
    let service = ServiceBuilder::new()
        .layer(SetRequestIdLayer::new(REQUEST_ID.clone(), MakeRequestUuid))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID.clone()))
        .layer(middleware::from_fn(observe::observe))
        .service(inner);
    Router::new().fallback_service(service)
}

static REQUEST_ID: header::HeaderName = header::HeaderName::from_static("x-request-id");

#[derive(Clone, Copy, PartialEq, Eq)]
enum Dialect {
    Fulfillment,
    Sendpro,
}

/// Longest request URI (path and query) and most header bytes a request may carry.
pub const MAX_URI_BYTES: usize = 8 * 1024;
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// Refuses an over-long URI (414) or over-large headers (431) here, inside `render_errors`, so
/// that the answer is in the surface's error shape. hyper refuses beyond its own, larger limits
/// (about 64 KiB of URI, 100 headers) with an empty body, and gives no hook to shape it.
async fn request_head_limits(req: Request, next: Next) -> Response {
    let uri = req.uri().path_and_query().map_or(0, |p| p.as_str().len());
    if uri > MAX_URI_BYTES {
        return StatusCode::URI_TOO_LONG.into_response();
    }
    let headers: usize = req
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if headers > MAX_HEADER_BYTES {
        return StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE.into_response();
    }
    next.run(req).await
}

/// Renders every failure in the dialect of the surface the request addressed, and echoes a valid
/// `X-PB-TransactionId`.
async fn render_errors(req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let dialect = if path.starts_with("/ordermanagement") || path.starts_with("/auth/") {
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
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .entry(header::RETRY_AFTER)
                .or_insert(HeaderValue::from_static("1"));
        }
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

/// gzip when the client asks for it, at the fastest level, and only for bodies over
/// [`COMPRESS_ABOVE`]. At the default level, compressing a 40 KB search page was a quarter of the
/// server's CPU under search load (perf); the fastest level keeps most of the saving on the wire.
fn compression() -> CompressionLayer<impl Predicate> {
    CompressionLayer::new()
        .quality(CompressionLevel::Fastest)
        .compress_when(DefaultPredicate::new().and(SizeAbove::new(COMPRESS_ABOVE)))
}

/// A response this small arrives in TCP's first flight (10 segments, about 14 KB) compressed or
/// not, so gzip would save no round trip, only bytes; and setting up a deflate stream costs the
/// same for 2 KB as for 40 KB: for a get by id it was a tenth of the server's CPU (perf). Single
/// orders go as they are, search pages are compressed.
pub const COMPRESS_ABOVE: u16 = 8 * 1024;

/// Serializes straight into the response body (no intermediate `Value`).
pub fn json<T: serde::Serialize>(
    status: StatusCode,
    value: &T,
) -> crate::error::ApiResult<Response> {
    // Room for an order from the start: growing from empty copied a 3 KB body ten times.
    let mut body = Vec::with_capacity(BODY_CAPACITY);
    serde_json::to_writer(&mut body, value).map_err(anyhow::Error::from)?;
    Ok((
        status,
        [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        body,
    )
        .into_response())
}

const BODY_CAPACITY: usize = 4096;

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
