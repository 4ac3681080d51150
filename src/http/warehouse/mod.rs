//! oms's own extension API for the warehouse, under `/oms/v1/orders`: the lifecycle moves the
//! documented surfaces have no operation for (start, backorder, hold, release, ship, return,
//! cancel), one at a time or in bulk. Errors use the Fulfillment error shape, as every path
//! outside `/ordermanagement` does.

mod bulk;
pub mod dto;
mod moves;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

pub const BASE: &str = "/oms/v1/orders";

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(moves::fulfilment))
        .routes(routes!(moves::start))
        .routes(routes!(moves::backorder))
        .routes(routes!(moves::hold))
        .routes(routes!(moves::release))
        .routes(routes!(moves::ship))
        .routes(routes!(moves::give_back))
        .routes(routes!(moves::cancel))
        .routes(routes!(bulk::start))
        .routes(routes!(bulk::ship))
}
