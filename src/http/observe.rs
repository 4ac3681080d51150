//! One log line and the request metrics per request, with the matched route as the label.

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

use super::extract::TRANSACTION_ID;

/// Set by the `Caller` extractor so the request log can name the tenant.
#[derive(Clone, Default)]
pub struct ClientSlot(pub Arc<OnceLock<String>>);

/// The route template the router matched, carried out on the response.
#[derive(Clone)]
struct Route(String);

/// Inner layer (`route_layer`): remembers which route matched.
pub async fn capture_route(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string());
    let mut response = next.run(req).await;
    if let Some(route) = route {
        response.extensions_mut().insert(Route(route));
    }
    response
}

/// Outer layer: span, log line, request count and latency histogram.
pub async fn observe(mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let header = |req: &Request, name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let transaction_id = header(&req, TRANSACTION_ID);
    let request_id = header(&req, "x-request-id");
    let slot = ClientSlot::default();
    req.extensions_mut().insert(slot.clone());
    let span = tracing::info_span!(
        "request",
        %method,
        path = %req.uri().path(),
        %transaction_id,
        %request_id,
        client_id = tracing::field::Empty,
    );
    let response = next.run(req).instrument(span.clone()).await;
    let route = response
        .extensions()
        .get::<Route>()
        .map_or("unmatched", |r| r.0.as_str())
        .to_string();
    let status = response.status().as_u16();
    let elapsed = started.elapsed();
    let labels = [
        ("method", method.to_string()),
        ("route", route.clone()),
        ("status", status.to_string()),
    ];
    metrics::counter!("oms_http_requests_total", &labels).increment(1);
    metrics::histogram!("oms_http_request_duration_seconds", &labels).record(elapsed.as_secs_f64());
    let client_id = slot.0.get().map_or("", String::as_str);
    span.in_scope(|| {
        tracing::info!(
            %method,
            %route,
            status,
            latency_ms = elapsed.as_secs_f64() * 1000.0,
            client_id,
            %transaction_id,
            %request_id,
            "request"
        )
    });
    response
}
