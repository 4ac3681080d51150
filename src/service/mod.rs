//! Business rules: validation, lifecycle, totals, ids, tenancy and idempotency. Both API surfaces
//! call this layer with canonical types; neither touches the store directly.

pub mod api_clients;
pub mod changes;
mod fulfilment;
mod idempotency;
mod order_turns;
mod orders;
pub mod tokens;
pub mod webhooks;

pub use idempotency::{IdempotencyKey, validate_key};
pub use orders::{Created, OrderService};
