//! Shipping API Fulfillment Orders, under `/shippingservices/fulfillment/v1`.

pub mod dto;
mod orders;

use axum::Router;
use axum::routing::{get, post};

use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/orders", post(orders::create))
        .route("/orders/{order_id}", get(orders::view).put(orders::replace))
        .route("/orders/search", post(orders::search))
        .route("/orders/status/search", post(orders::status_search))
}
