//! Webhook endpoints of a tenant (issue 21): validation, tenancy, secrets, pausing, the delivery
//! log and redelivery. A tenant sees and changes only its own endpoints; another tenant's id is
//! answered as if it did not exist.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::auth::Caller;
use crate::domain::history::EventKind;
use crate::error::{ApiError, ApiResult};
use crate::store::OrderStore;
use crate::store::webhooks::{ALL_EVENTS, AttemptRow, Endpoint, Redeliver};
use crate::webhooks::{WebhookSettings, guard, now_ms, signing};

/// Endpoints one tenant may have.
pub const MAX_ENDPOINTS: usize = 20;
/// Event types one endpoint may list.
pub const MAX_EVENT_TYPES: usize = 20;
/// The longest description, in characters.
pub const MAX_DESCRIPTION: usize = 256;
/// Log lines one page shows at most (and by default).
pub const MAX_LOG_PAGE: u32 = 100;
/// Events one "since" redelivery queues at most.
pub const MAX_REDELIVER: u32 = 10_000;
/// How long the secret before a rotation still signs, beside the new one.
pub const ROTATION_GRACE_MS: i64 = 24 * 3600 * 1000;

pub const ACTIVE: &str = "active";
pub const PAUSED: &str = "paused";
pub const DISABLED: &str = "disabled";

/// What a client sets on an endpoint; `None` leaves a field as it is (on update).
#[derive(Debug, Default, Clone)]
pub struct EndpointChange {
    pub url: Option<String>,
    /// `Some(None)` clears it.
    pub description: Option<Option<String>>,
    /// `Some(None)`: every event type.
    pub event_types: Option<Option<Vec<String>>>,
}

#[derive(Clone)]
pub struct WebhookService {
    store: Arc<dyn OrderStore>,
    settings: Arc<WebhookSettings>,
}

impl WebhookService {
    pub fn new(store: Arc<dyn OrderStore>, settings: Arc<WebhookSettings>) -> WebhookService {
        WebhookService { store, settings }
    }

    /// A new active endpoint, with its secret (which is shown this once).
    pub async fn create(&self, caller: &Caller, change: EndpointChange) -> ApiResult<Endpoint> {
        let Some(url) = change.url.as_deref() else {
            return Err(ApiError::field("url", "is required"));
        };
        let url = self.check_url(url).await?;
        let event_types = event_types(change.event_types.flatten())?;
        let description = description(change.description.flatten())?;
        if self.store.endpoints(&caller.client_id).await?.len() >= MAX_ENDPOINTS {
            return Err(ApiError::conflict(
                crate::error::code::CONFLICT,
                format!("a tenant may have at most {MAX_ENDPOINTS} webhook endpoints"),
            ));
        }
        let now = now_ms();
        let endpoint = Endpoint {
            id: format!("ep_{}", uuid::Uuid::new_v4().simple()),
            client_id: caller.client_id.clone(),
            url,
            description,
            event_types,
            secret: signing::generate_secret(),
            previous_secret: None,
            previous_secret_until: None,
            status: ACTIVE.to_string(),
            disabled_reason: None,
            created_at: now,
            updated_at: now,
        };
        self.store.insert_endpoint(&endpoint).await?;
        Ok(endpoint)
    }

    pub async fn list(&self, caller: &Caller) -> ApiResult<Vec<Endpoint>> {
        Ok(self.store.endpoints(&caller.client_id).await?)
    }

    pub async fn get(&self, caller: &Caller, id: &str) -> ApiResult<Endpoint> {
        self.store
            .endpoint(&caller.client_id, id)
            .await?
            .ok_or_else(|| not_found(id))
    }

    pub async fn update(
        &self,
        caller: &Caller,
        id: &str,
        change: EndpointChange,
    ) -> ApiResult<Endpoint> {
        let mut endpoint = self.get(caller, id).await?;
        if let Some(url) = change.url.as_deref() {
            endpoint.url = self.check_url(url).await?;
        }
        if let Some(types) = change.event_types {
            endpoint.event_types = event_types(types)?;
        }
        if let Some(text) = change.description {
            endpoint.description = description(text)?;
        }
        self.save(endpoint).await
    }

    pub async fn delete(&self, caller: &Caller, id: &str) -> ApiResult<()> {
        if self.store.delete_endpoint(&caller.client_id, id).await? {
            Ok(())
        } else {
            Err(not_found(id))
        }
    }

    /// Stops deliveries; events keep being queued and go out on resume.
    pub async fn pause(&self, caller: &Caller, id: &str) -> ApiResult<Endpoint> {
        let mut endpoint = self.get(caller, id).await?;
        endpoint.status = PAUSED.to_string();
        self.save(endpoint).await
    }

    /// Delivers again, also to an endpoint that was disabled for failing.
    pub async fn resume(&self, caller: &Caller, id: &str) -> ApiResult<Endpoint> {
        let mut endpoint = self.get(caller, id).await?;
        endpoint.status = ACTIVE.to_string();
        endpoint.disabled_reason = None;
        self.save(endpoint).await
    }

    /// A new secret (returned this once); the previous one keeps signing beside it for
    /// [`ROTATION_GRACE_MS`].
    pub async fn rotate_secret(&self, caller: &Caller, id: &str) -> ApiResult<Endpoint> {
        let mut endpoint = self.get(caller, id).await?;
        let previous = std::mem::replace(&mut endpoint.secret, signing::generate_secret());
        endpoint.previous_secret = Some(previous);
        endpoint.previous_secret_until = Some(now_ms() + ROTATION_GRACE_MS);
        self.save(endpoint).await
    }

    /// The endpoint's attempts, newest first.
    pub async fn log(
        &self,
        caller: &Caller,
        id: &str,
        before: Option<i64>,
        limit: Option<u32>,
    ) -> ApiResult<Vec<AttemptRow>> {
        let limit = limit.unwrap_or(MAX_LOG_PAGE);
        if !(1..=MAX_LOG_PAGE).contains(&limit) {
            return Err(ApiError::field(
                "limit",
                format!("must be between 1 and {MAX_LOG_PAGE}"),
            ));
        }
        self.get(caller, id).await?;
        Ok(self
            .store
            .attempts(&caller.client_id, id, before, limit)
            .await?)
    }

    /// Queues one event again (`order_id` and `version`), or every subscribed event since a
    /// time; how many were queued.
    pub async fn redeliver(
        &self,
        caller: &Caller,
        id: &str,
        event: Option<(String, i64)>,
        since: Option<DateTime<Utc>>,
    ) -> ApiResult<u64> {
        let which = match (event, since) {
            (Some((order_id, version)), None) => Redeliver::Event { order_id, version },
            (None, Some(time)) => Redeliver::Since {
                time,
                limit: MAX_REDELIVER,
            },
            _ => {
                return Err(ApiError::field(
                    "since",
                    "give either since, or orderId and version",
                ));
            }
        };
        self.get(caller, id).await?;
        let queued = self
            .store
            .redeliver(&caller.client_id, id, &which, now_ms())
            .await?;
        if queued == 0
            && let Redeliver::Event { order_id, version } = &which
        {
            return Err(ApiError::NotFound(format!(
                "order {order_id} has no event of version {version}"
            )));
        }
        Ok(queued)
    }

    async fn save(&self, mut endpoint: Endpoint) -> ApiResult<Endpoint> {
        endpoint.updated_at = now_ms();
        if !self.store.update_endpoint(&endpoint).await? {
            return Err(not_found(&endpoint.id));
        }
        Ok(endpoint)
    }

    async fn check_url(&self, url: &str) -> ApiResult<String> {
        guard::check_url(url.trim(), self.settings.allow_private)
            .await
            .map(|u| u.to_string())
            .map_err(|why| ApiError::field("url", why))
    }
}

fn not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!("webhook endpoint {id} was not found"))
}

/// The stored form of a list of event types: [`ALL_EVENTS`] for none, else each known type once,
/// between spaces, so that one `LIKE '% type %'` finds it.
fn event_types(types: Option<Vec<String>>) -> ApiResult<String> {
    let Some(types) = types else {
        return Ok(ALL_EVENTS.to_string());
    };
    if types.is_empty() || types.len() > MAX_EVENT_TYPES {
        return Err(ApiError::field(
            "eventTypes",
            format!("must list 1 to {MAX_EVENT_TYPES} event types, or be left out for all"),
        ));
    }
    let mut known = Vec::new();
    for (i, name) in types.iter().enumerate() {
        let kind = name.strip_prefix("order.").and_then(EventKind::parse);
        if kind.is_none() {
            return Err(ApiError::field(
                format!("eventTypes[{i}]"),
                format!("{name:?} is not an event type (order.created, order.updated, …)"),
            ));
        }
        if !known.contains(name) {
            known.push(name.clone());
        }
    }
    Ok(format!(" {} ", known.join(" ")))
}

/// The event types an endpoint lists; `None` for all.
pub fn listed_event_types(stored: &str) -> Option<Vec<String>> {
    (stored != ALL_EVENTS).then(|| stored.split_whitespace().map(str::to_string).collect())
}

fn description(text: Option<String>) -> ApiResult<Option<String>> {
    match text {
        Some(t) if t.chars().count() > MAX_DESCRIPTION => Err(ApiError::field(
            "description",
            format!("must be at most {MAX_DESCRIPTION} characters"),
        )),
        other => Ok(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_types_are_stored_between_spaces_and_read_back() {
        let stored = event_types(Some(vec![
            "order.created".into(),
            "order.status_changed".into(),
            "order.created".into(),
        ]))
        .unwrap();
        assert_eq!(stored, " order.created order.status_changed ");
        assert_eq!(
            listed_event_types(&stored).unwrap(),
            ["order.created", "order.status_changed"]
        );
        assert_eq!(event_types(None).unwrap(), ALL_EVENTS);
        assert_eq!(listed_event_types(ALL_EVENTS), None);
    }

    #[test]
    fn unknown_or_no_event_types_are_refused() {
        for bad in [
            vec![],
            vec!["created".to_string()],
            vec!["order.nope".into()],
        ] {
            assert!(event_types(Some(bad.clone())).is_err(), "{bad:?}");
        }
    }
}
