//! The canonical order and the rules that make it valid, independent of either API dialect.

pub mod date;
pub mod fulfilment;
pub mod history;
pub mod ids;
pub mod money;
pub mod order;
pub mod search;
pub mod shipments;
pub mod size;
pub mod status;
pub mod text;
pub mod validate;

pub use order::Order;
pub use status::Status;
