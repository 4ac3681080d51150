use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::state::AppState;

/// Liveness: the process answers. Needs no auth and touches no database.
#[utoipa::path(get, path = "/healthz", tag = "Operations", operation_id = "healthz", security(()),
    responses((status = 200, description = "The process is alive", body = Object, example = json!({"status": "ok"}))))]
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// Readiness: the database answers and is migrated, within two seconds.
#[utoipa::path(get, path = "/readyz", tag = "Operations", operation_id = "readyz", security(()),
    responses(
        (status = 200, description = "Ready", body = Object, example = json!({"status": "ready"})),
        (status = 503, description = "The database is unreachable or not migrated", body = Object, headers(("Retry-After" = String)), example = json!({"status": "unavailable"}))
    ))]
pub async fn readyz(State(state): State<AppState>) -> Response {
    let ping = tokio::time::timeout(Duration::from_secs(2), state.orders.store().ping()).await;
    match ping {
        Ok(Ok(())) => Json(json!({ "status": "ready" })).into_response(),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "not ready");
            not_ready()
        }
        Err(_) => not_ready(),
    }
}

fn not_ready() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(axum::http::header::RETRY_AFTER, "1")],
        Json(json!({ "status": "unavailable" })),
    )
        .into_response()
}

/// Prometheus text format, pool gauges sampled at scrape time.
#[utoipa::path(get, path = "/metrics", tag = "Operations", operation_id = "metrics", security(()),
    responses((status = 200, description = "Prometheus text exposition", content_type = "text/plain", body = String)))]
pub async fn metrics(State(state): State<AppState>) -> Response {
    let pool = state.orders.store().pool_stats();
    metrics::gauge!("oms_db_pool_size").set(f64::from(pool.size));
    metrics::gauge!("oms_db_pool_idle").set(pool.idle as f64);
    let body = crate::telemetry::metrics_handle().render();
    ([(CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}
