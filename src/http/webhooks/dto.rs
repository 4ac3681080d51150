//! The bodies of the webhook API.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize};

use crate::error::ApiError;
use crate::service::webhooks::{EndpointChange, listed_event_types};
use crate::store::webhooks::{AttemptRow, Endpoint};

/// Create (`url` required) or change an endpoint. On a change, a field left out stays as it is;
/// A new endpoint. `eventTypes` left out or null subscribes to every event type.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EndpointCreateIn {
    /// `http` or `https`; its host must resolve to public addresses only (unless the server
    /// allows private ones, `OMS_WEBHOOKS_ALLOW_PRIVATE`).
    #[schema(value_type = String, required = true, example = "https://hooks.example.com/oms", max_length = 2048, pattern = "^[Hh][Tt][Tt][Pp][Ss]?://")]
    url: Option<String>,
    #[schema(max_length = 256)]
    description: Option<String>,
    #[schema(example = json!(["order.created", "order.status_changed"]))]
    event_types: Option<Vec<String>>,
}

impl crate::http::extract::RequestBody for EndpointCreateIn {}

impl From<EndpointCreateIn> for EndpointChange {
    fn from(body: EndpointCreateIn) -> EndpointChange {
        EndpointChange {
            url: body.url,
            description: Some(body.description),
            event_types: Some(body.event_types),
        }
    }
}

/// A change: fields left out stay; `eventTypes: null` subscribes to every event type,
/// `description: null` clears it.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EndpointIn {
    /// `http` or `https`; its host must resolve to public addresses only (unless the server
    /// allows private ones, `OMS_WEBHOOKS_ALLOW_PRIVATE`).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = String, required = false, example = "https://hooks.example.com/oms", max_length = 2048, pattern = "^[Hh][Tt][Tt][Pp][Ss]?://")]
    url: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, max_length = 256)]
    description: Option<Option<String>>,
    /// The event types to receive; left out or null for all of them.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Vec<String>>, example = json!(["order.created", "order.status_changed"]))]
    event_types: Option<Option<Vec<String>>>,
}

impl crate::http::extract::RequestBody for EndpointIn {}

/// `Some(value)` for a field that is there, `null` included; absent fields take the default.
fn present<'de, T: Deserialize<'de>, D: Deserializer<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

impl TryFrom<EndpointIn> for EndpointChange {
    type Error = ApiError;

    /// An endpoint always has a URL: `url: null` is refused rather than read as "unchanged".
    fn try_from(body: EndpointIn) -> Result<EndpointChange, ApiError> {
        let url = match body.url {
            Some(None) => return Err(ApiError::field("url", "must not be null")),
            Some(url) => url,
            None => None,
        };
        Ok(EndpointChange {
            url,
            description: body.description,
            event_types: body.event_types,
        })
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EndpointOut {
    #[schema(example = "ep_3f0c9d0f6b7e4c4c9d7f0b6e2a1c5d8e")]
    id: String,
    url: String,
    description: Option<String>,
    /// null: every event type.
    event_types: Option<Vec<String>>,
    /// `active`, `paused`, or `disabled` (deliveries kept failing; see `disabledReason`).
    #[schema(example = "active")]
    status: String,
    disabled_reason: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    created_at: String,
    #[schema(value_type = String, format = DateTime)]
    updated_at: String,
}

impl From<Endpoint> for EndpointOut {
    fn from(e: Endpoint) -> EndpointOut {
        EndpointOut {
            event_types: listed_event_types(&e.event_types),
            id: e.id,
            url: e.url,
            description: e.description,
            status: e.status,
            disabled_reason: e.disabled_reason,
            created_at: time(e.created_at),
            updated_at: time(e.updated_at),
        }
    }
}

/// An endpoint with its signing secret, shown when it is created or rotated and never again.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EndpointWithSecret {
    #[serde(flatten)]
    endpoint: EndpointOut,
    /// `whsec_` and the base64 key that signs deliveries (Standard Webhooks).
    #[schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")]
    secret: String,
}

impl From<Endpoint> for EndpointWithSecret {
    fn from(e: Endpoint) -> EndpointWithSecret {
        EndpointWithSecret {
            secret: e.secret.clone(),
            endpoint: e.into(),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EndpointList {
    pub endpoints: Vec<EndpointOut>,
}

/// One attempt to deliver an event.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttemptOut {
    id: i64,
    delivery_id: i64,
    #[schema(example = "order.status_changed")]
    event_type: String,
    order_id: String,
    version: i64,
    /// The delivery's state now: `pending` (will be retried), `delivered` or `failed`.
    delivery_state: String,
    #[schema(value_type = String, format = DateTime)]
    attempted_at: String,
    /// The receiver's HTTP status; null when there was no answer.
    status_code: Option<i32>,
    latency_ms: i64,
    error: Option<String>,
}

impl From<AttemptRow> for AttemptOut {
    fn from(a: AttemptRow) -> AttemptOut {
        AttemptOut {
            id: a.id,
            delivery_id: a.delivery_id,
            event_type: a.event_type,
            order_id: a.order_id,
            version: a.version,
            delivery_state: a.state,
            attempted_at: time(a.attempted_at),
            status_code: a.status_code,
            latency_ms: a.latency_ms,
            error: a.error,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttemptLog {
    pub attempts: Vec<AttemptOut>,
    /// Pass as `before` for the next (older) page; null on the last page.
    pub next_before: Option<i64>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogQuery {
    /// Attempts older than this attempt id.
    pub before: Option<i64>,
    /// At most this many (1-100, default 100).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

/// Either one event (`orderId` and `version`) or every subscribed event since a time.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RedeliverIn {
    pub order_id: Option<String>,
    // JSON Schema's integer includes 3.0.
    #[serde(default, deserialize_with = "crate::domain::money::whole_number")]
    pub version: Option<i64>,
    /// ISO 8601 with an offset; events at or after it, oldest first, at most 10,000.
    #[schema(value_type = Option<String>, format = DateTime, example = "2026-01-31T00:00:00Z")]
    pub since: Option<DateTime<Utc>>,
}

impl crate::http::extract::RequestBody for RedeliverIn {}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Redelivered {
    /// Deliveries queued.
    pub queued: u64,
}

fn time(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}
