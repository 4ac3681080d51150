use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::state::AppState;

/// Liveness: the process answers. Needs no auth and touches no database.
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// Readiness: the database answers and is migrated, within two seconds.
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
pub async fn metrics(State(state): State<AppState>) -> Response {
    let pool = state.orders.store().pool_stats();
    metrics::gauge!("oms_db_pool_size").set(f64::from(pool.size));
    metrics::gauge!("oms_db_pool_idle").set(pool.idle as f64);
    let body = crate::telemetry::metrics_handle().render();
    ([(CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}
