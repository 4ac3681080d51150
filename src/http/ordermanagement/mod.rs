//! SendPro360 Order Management, under `/ordermanagement/api/v1`.

pub mod dto;
mod merge;
mod orders;
mod read_back;
mod search;
mod tags;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(orders::create))
        .routes(routes!(search::search))
        .routes(routes!(orders::bulk_status))
        .routes(routes!(tags::bulk_tags))
        .routes(routes!(orders::get, orders::patch, orders::delete))
        .routes(routes!(orders::delete_item))
        .routes(routes!(tags::set_tags))
        .routes(routes!(orders::history))
}

/// An operation's timestamp, in the server's time format (`2025-07-02T18:27:48Z`).
pub fn transaction_time() -> String {
    crate::domain::date::format_utc(&crate::domain::date::now_whole_seconds())
}
