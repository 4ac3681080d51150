//! The API test suite, as one test binary so that it links once (`cargo test --test api`).
//!
//! Layout: `common/` is the harness (`TestApp` and its request builder, fixtures, the real
//! binary as a child process); every other file here is one module of tests, named for what it
//! covers. To add one, create `tests/api/<topic>.rs` and declare it below with `mod <topic>;`,
//! after `mod common`. Import what it needs with `use crate::common::{...}`. Run one module
//! with `cargo test --test api <topic>::`.
//!
//! `both!(name, |app| async move { ... })` (in `common`) writes a test once and runs it on both
//! backends, as `<topic>::<name>::sqlite` and `<topic>::<name>::postgres`, each on a fresh
//! database. `#[macro_use]` below puts it in scope of every module declared after `common`;
//! its expansion reaches the harness as `$crate::common::...`, which is this crate's root.
//!
//! All modules share one process. Nothing here may change process-wide state (environment
//! variables, a global tracing subscriber); the metrics recorder is process-wide by design, so
//! tests assert only on what they add to it. Tests that need a process of their own run the
//! real binary (`common::process`).

#[macro_use]
mod common;

mod abuse_concurrency;
mod abuse_connections;
mod abuse_fair_share;
mod abuse_http;
mod abuse_search;
mod abuse_size;
mod abuse_tokens;
mod api_clients;
mod auth_and_tenancy;
mod cross_surface;
mod db_outage;
mod document_conformance;
mod fulfillment_orders;
mod fulfillment_search;
mod fulfillment_validation;
mod graceful_shutdown;
mod http_errors;
mod idempotency_and_concurrency;
mod jwks;
mod openapi_spec;
mod operations;
mod ordermanagement_orders;
mod ordermanagement_status_tags_search;
mod postgres_maintenance;
mod round_trips;
mod search_counts;
mod seed;
mod several_servers;
mod sqlite_statistics;
mod token_endpoints;
mod token_revocation;
mod warehouse;
mod webhooks;
#[macro_use]
mod webhooks_receiver;
mod webhooks_delivery;
mod webhooks_processes;
