//! SendPro360 Order Management, under `/ordermanagement/api/v1`.

pub mod dto;
mod merge;
mod orders;
mod search;
mod tags;

use axum::Router;
use axum::routing::{delete, patch, post, put};
use chrono::SecondsFormat;

use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/orders", post(orders::create))
        .route("/orders/search", post(search::search))
        .route("/orders/bulk/status", patch(orders::bulk_status))
        .route("/orders/bulkTags", put(tags::bulk_tags))
        .route(
            "/orders/{order_id}",
            axum::routing::get(orders::get)
                .patch(orders::patch)
                .delete(orders::delete),
        )
        .route("/orders/{order_id}/items", delete(orders::delete_item))
        .route("/orders/{order_id}/tags", put(tags::set_tags))
        .route(
            "/orders/{order_id}/history",
            axum::routing::get(orders::history),
        )
}

/// Operation timestamps in the documents' style (`2025-07-02T18:27:48.172Z`).
pub fn transaction_time() -> String {
    chrono::Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}
