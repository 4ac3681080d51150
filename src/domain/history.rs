//! Order history: one event per change, written in the same transaction as the change itself,
//! so an order can never change without its event (or gain an event without the change).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Order;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Created,
    Replaced,
    Updated,
    StatusChanged,
    /// A shipment was recorded (the status may stay INPROGRESS while lines are left).
    Shipped,
    /// A return was recorded.
    Returned,
    ItemRemoved,
    TagsChanged,
    Deleted,
}

impl EventKind {
    /// Every kind, for the places that list them (the webhook event types in the spec).
    pub const ALL: [EventKind; 9] = [
        EventKind::Created,
        EventKind::Replaced,
        EventKind::Updated,
        EventKind::StatusChanged,
        EventKind::Shipped,
        EventKind::Returned,
        EventKind::ItemRemoved,
        EventKind::TagsChanged,
        EventKind::Deleted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Created => "created",
            EventKind::Replaced => "replaced",
            EventKind::Updated => "updated",
            EventKind::StatusChanged => "status_changed",
            EventKind::Shipped => "shipped",
            EventKind::Returned => "returned",
            EventKind::ItemRemoved => "item_removed",
            EventKind::TagsChanged => "tags_changed",
            EventKind::Deleted => "deleted",
        }
    }

    pub fn parse(text: &str) -> Option<EventKind> {
        serde_json::from_value(Value::String(text.to_string())).ok()
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEvent {
    #[serde(rename = "type")]
    pub kind: EventKind,
    pub version: i64,
    #[serde(with = "super::date::utc_seconds")]
    #[schema(value_type = String, format = DateTime)]
    pub time: DateTime<Utc>,
    pub actor: String,
    /// The API key of the actor's token, when it came from the token endpoints.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor_key: Option<String>,
    pub transaction_id: Option<String>,
    pub changed_fields: Vec<String>,
}

impl HistoryEvent {
    pub fn new(
        kind: EventKind,
        order: &Order,
        actor: &str,
        transaction_id: Option<&str>,
        changed_fields: Vec<String>,
    ) -> HistoryEvent {
        HistoryEvent {
            kind,
            version: order.version,
            time: order.pb_update_date,
            actor: actor.to_string(),
            actor_key: None,
            transaction_id: transaction_id.map(str::to_string),
            changed_fields,
        }
    }

    /// Names the API key the actor's token was issued for.
    pub fn by_key(mut self, key: Option<&str>) -> HistoryEvent {
        self.actor_key = key.map(str::to_string);
        self
    }
}

/// Names (canonical spelling) of the top-level fields that differ between two versions.
pub fn changed_fields(before: &Order, after: &Order) -> Vec<String> {
    let mut fields = Vec::new();
    if before.status != after.status {
        fields.push("status".to_string());
    }
    if before.hold_reason != after.hold_reason {
        fields.push("holdReason".to_string());
    }
    if before.tags != after.tags {
        fields.push("tags".to_string());
    }
    if before.deleted_at != after.deleted_at {
        fields.push("deletedAt".to_string());
    }
    if before.fulfilment != after.fulfilment {
        fields.push("fulfilment".to_string());
    }
    let (Ok(Value::Object(a)), Ok(Value::Object(b))) = (
        serde_json::to_value(&before.content),
        serde_json::to_value(&after.content),
    ) else {
        return fields;
    };
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    for key in keys {
        if key == "sendpro" {
            let (sa, sb) = (a.get(key), b.get(key));
            let names =
                |v: Option<&Value>| v.and_then(Value::as_object).cloned().unwrap_or_default();
            let (sa, sb) = (names(sa), names(sb));
            let mut inner: Vec<&String> = sa.keys().chain(sb.keys()).collect();
            inner.sort();
            inner.dedup();
            fields.extend(
                inner
                    .into_iter()
                    .filter(|k| sa.get(*k) != sb.get(*k))
                    .cloned(),
            );
        } else if a.get(key) != b.get(key) {
            fields.push(key.clone());
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::EventKind;

    #[test]
    fn every_kind_is_listed_once_and_reads_back() {
        for (i, kind) in EventKind::ALL.iter().enumerate() {
            assert_eq!(EventKind::parse(kind.as_str()), Some(*kind));
            assert!(!EventKind::ALL[..i].contains(kind), "{kind:?} twice");
        }
    }
}
