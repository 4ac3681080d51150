//! One log line and the request metrics per request, with the matched route as the label.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

use super::extract::TRANSACTION_ID;

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

/// Metric labels come from closed sets, so that no client can add series: invented methods
/// count as `OTHER` (and paths no route matches as `unmatched`, above).
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

/// Outer layer: the request's span, its log line, request count and latency histogram.
///
/// What the client sent (path, transaction id, request id) and the token's client id, which
/// the auth extractors record on the span, are recorded as strings: both formatters write them
/// quoted and escaped inside their own field, so a header cannot forge a field or a line.
pub async fn observe(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let span = {
        let header = |name: &str| {
            req.headers()
                .get(name)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                .unwrap_or_default()
        };
        tracing::info_span!(
            "request",
            method = method.as_str(),
            path = req.uri().path(),
            transaction_id = header(TRANSACTION_ID).as_str(),
            request_id = header("x-request-id").as_str(),
            client_id = tracing::field::Empty,
        )
    };
    let response = next.run(req).instrument(span.clone()).await;
    let route = response
        .extensions()
        .get::<Route>()
        .map_or("unmatched", |r| r.0.as_str())
        .to_string();
    let status = response.status().as_u16();
    let elapsed = started.elapsed();
    let labels = [
        ("method", method_label(&method).to_string()),
        ("route", route.clone()),
        ("status", status.to_string()),
    ];
    metrics::counter!("oms_http_requests_total", &labels).increment(1);
    metrics::histogram!("oms_http_request_duration_seconds", &labels).record(elapsed.as_secs_f64());
    let latency_ms = (elapsed.as_secs_f64() * 100_000.0).round() / 100.0;
    span.in_scope(|| tracing::info!(route = route.as_str(), status, latency_ms, "request"));
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

    fn app() -> Router {
        Router::new()
            .route("/things/{id}", get(|| async { "ok" }))
            .route_layer(middleware::from_fn(capture_route))
            .layer(middleware::from_fn(observe))
    }

    /// The lines one request writes through `subscriber`'s formatter.
    async fn logged(json: bool, request_id: &str) -> String {
        let out = CapturedLog::default();
        let writer = out.clone();
        let builder = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(move || writer.clone());
        let _guard = if json {
            tracing::subscriber::set_default(builder.json().finish())
        } else {
            tracing::subscriber::set_default(builder.finish())
        };
        let request = axum::http::Request::get("/things/7")
            .header(TRANSACTION_ID, "tx-1")
            .header("x-request-id", request_id)
            .body(Body::empty())
            .unwrap();
        let response = app().oneshot(request).await.unwrap();
        assert_eq!(response.status(), 200);
        out.text()
    }

    /// One JSON line per request: its own fields, and the request's in its span.
    #[tokio::test(flavor = "current_thread")]
    async fn every_request_is_one_line_with_route_path_and_status() {
        let text = logged(true, "rid-1").await;
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 1, "{text}");
        let (fields, span) = (&lines[0]["fields"], &lines[0]["span"]);
        assert_eq!(fields["message"], "request");
        assert_eq!(fields["route"], "/things/{id}");
        assert_eq!(fields["status"], 200);
        let latency = fields["latency_ms"].as_f64().unwrap();
        assert_eq!(latency, (latency * 100.0).round() / 100.0, "two decimals");
        assert_eq!(span["method"], "GET");
        assert_eq!(span["path"], "/things/7");
        assert_eq!(span["transaction_id"], "tx-1");
        assert_eq!(span["request_id"], "rid-1");
    }

    /// A header value cannot pass for a field of its own, or for a second line.
    #[tokio::test(flavor = "current_thread")]
    async fn client_controlled_values_stay_inside_their_own_field() {
        let forged = "abc status=200 client_id=\"VICTIM\"";
        let text = logged(false, forged).await;
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(
            text.contains(r#"request_id="abc status=200 client_id=\"VICTIM\"""#),
            "quoted and escaped in its field: {text}"
        );
        // Outside the quoted value, the only status is the response's own.
        let unquoted = text.replace(r#""abc status=200 client_id=\"VICTIM\"""#, "\"…\"");
        assert!(!unquoted.contains("VICTIM"), "{unquoted}");
        assert_eq!(unquoted.matches("status=").count(), 1, "{unquoted}");

        let text = logged(true, forged).await;
        let line: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
        assert_eq!(line["span"]["request_id"], forged);
        assert_eq!(line["fields"]["status"], 200);
        assert!(line["span"].get("client_id").is_none(), "{text}");
    }

    #[derive(Clone)]
    struct Keys(std::sync::Arc<crate::auth::AuthKeys>);

    impl axum::extract::FromRef<Keys> for std::sync::Arc<crate::auth::AuthKeys> {
        fn from_ref(state: &Keys) -> Self {
            state.0.clone()
        }
    }

    impl axum::extract::FromRef<Keys> for std::sync::Arc<crate::revocation::RevokedKeys> {
        fn from_ref(_: &Keys) -> Self {
            Default::default()
        }
    }

    impl axum::extract::FromRef<Keys> for crate::rate_limit::RateGate {
        fn from_ref(_: &Keys) -> Self {
            crate::rate_limit::RateGate(None)
        }
    }

    /// The auth extractor records the token's client on the request's span, so its line names it.
    #[tokio::test(flavor = "current_thread")]
    async fn the_line_names_the_client_of_the_token() {
        let keys = std::sync::Arc::new(crate::auth::AuthKeys::hs256(b"secret", "oms", None));
        let token = keys.issue("C-42", None, 60).unwrap();
        let app = Router::new()
            .route("/mine", get(|_: crate::auth::Reader| async { "ok" }))
            .with_state(Keys(keys))
            .layer(middleware::from_fn(observe));
        let out = CapturedLog::default();
        let writer = out.clone();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_writer(move || writer.clone())
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        let request = axum::http::Request::get("/mine")
            .header("authorization", format!("bearer {token}"))
            .body(Body::empty())
            .unwrap();
        assert_eq!(app.oneshot(request).await.unwrap().status(), 200);
        let line: serde_json::Value = serde_json::from_str(out.text().trim()).unwrap();
        assert_eq!(line["span"]["client_id"], "C-42", "{line}");
    }
}
