//! Shipping API Fulfillment Orders, under `/shippingservices/fulfillment/v1`.

pub mod dto;
mod orders;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(orders::create))
        .routes(routes!(orders::view, orders::replace))
        .routes(routes!(orders::search))
        .routes(routes!(orders::status_search))
}
