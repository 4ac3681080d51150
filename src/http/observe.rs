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
    let path = req.uri().path().to_string();
    let span = tracing::info_span!(
        "request",
        %method,
        path = %path,
        %transaction_id,
        %request_id,
        client_id = tracing::field::Empty,
    );
    let response = next.run(req).instrument(span).await;
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
    // Outside the span: the line carries every field itself, and inside it they were written
    // twice (the span's, then the event's), which was most of what logging cost per request.
    tracing::info!(
        %method,
        %route,
        path = %path,
        status,
        latency_ms = elapsed.as_secs_f64() * 1000.0,
        client_id,
        %transaction_id,
        %request_id,
        "request"
    );
    response
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::Body;
    use axum::middleware;
    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;
    use crate::telemetry::CapturedLog;

    /// One JSON line per request, carrying its own fields once, not nested in the request span.
    #[tokio::test(flavor = "current_thread")]
    async fn every_request_is_one_line_with_route_path_and_status() {
        let out = CapturedLog::default();
        let writer = out.clone();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_writer(move || writer.clone())
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        let app = Router::new()
            .route("/things/{id}", get(|| async { "ok" }))
            .route_layer(middleware::from_fn(capture_route))
            .layer(middleware::from_fn(observe));
        let request = axum::http::Request::get("/things/7")
            .header(TRANSACTION_ID, "tx-1")
            .header("x-request-id", "rid-1")
            .body(Body::empty())
            .unwrap();
        let response = app.oneshot(request).await.unwrap();
        assert_eq!(response.status(), 200);

        let text = out.text();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 1, "{text}");
        let fields = &lines[0]["fields"];
        assert_eq!(fields["message"], "request");
        assert_eq!(fields["method"], "GET");
        assert_eq!(fields["route"], "/things/{id}");
        assert_eq!(fields["path"], "/things/7");
        assert_eq!(fields["status"], 200);
        assert_eq!(fields["transaction_id"], "tx-1");
        assert_eq!(fields["request_id"], "rid-1");
        assert!(fields["latency_ms"].as_f64().is_some());
        assert!(lines[0].get("span").is_none(), "{text}");
    }
}
