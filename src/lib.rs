//! oms: an order management server speaking the Pitney Bowes SendPro360 Order Management and
//! Shipping API Fulfillment Orders dialects over one store.
//!
//! Layers: `http` (routes, extractors, dialect adapters) → `service` (rules) → `store` (SQL).

pub mod auth;
pub mod clients_cli;
pub mod config;
pub mod connections;
pub mod domain;
pub mod error;
pub mod http;
pub mod jwks;
pub mod rate_limit;
pub mod revocation;
pub mod seed;
pub mod service;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod webhooks;

pub use http::app;
pub use state::AppState;
