//! oms's extension API for webhooks (issue 21), under `/oms/v1/webhooks`: a tenant's endpoints,
//! their delivery log and redelivery. Errors are in the Fulfillment shape; reading needs
//! `orders:read`, changing `orders:write`.

mod deliveries;
mod dto;
mod endpoints;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(endpoints::list, endpoints::create))
        .routes(routes!(
            endpoints::get,
            endpoints::update,
            endpoints::delete
        ))
        .routes(routes!(endpoints::pause))
        .routes(routes!(endpoints::resume))
        .routes(routes!(endpoints::rotate_secret))
        .routes(routes!(deliveries::log))
        .routes(routes!(deliveries::redeliver))
}
