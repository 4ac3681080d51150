//! SendPro360 Order Management, under `/ordermanagement/api/v1`.

pub mod dto;
mod merge;
mod orders;
mod search;
mod tags;

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use axum::routing::{delete, patch, post, put};
use chrono::SecondsFormat;

use crate::domain::Order;
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

/// Operation timestamps in the documents' style (`2025-07-02T18:27:48.172Z`).
pub fn transaction_time() -> String {
    chrono::Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}
