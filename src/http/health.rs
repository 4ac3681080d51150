use axum::Json;
use serde_json::{Value, json};

/// Liveness: the process answers. Needs no auth and touches no database.
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}
