//! A PATCH may send back the grouped body a GET returned (`{orderInfo, orderShippingInfo}`):
//! clients read an order, change a field and send the whole thing, as they would with any REST
//! resource. The groups are unwrapped into the flat request fields; the fields only a response
//! has (`orderId`, `status`, dates, `createdBy`, `sourceFlowType`, `tagIds`, and
//! `orderShippingInfo.shipments`) are ignored, as the
//! Fulfillment surface ignores its RESPONSE ONLY fields.

use serde_json::{Map, Value};

use crate::domain::validate::Problems;

/// Response-only fields of `orderInfo`: accepted and ignored.
const RESPONSE_ONLY: [&str; 7] = [
    "orderId",
    "status",
    "orderCreateDate",
    "orderUpdateDate",
    "sourceFlowType",
    "createdBy",
    "tagIds",
];

/// The request fields each group of the GET body holds.
const GROUPS: [(&str, &[&str]); 2] = [
    (
        "orderInfo",
        &[
            "orderNumber",
            "customerInfo",
            "orderMessage",
            "items",
            "charges",
            "metadata",
        ],
    ),
    (
        "orderShippingInfo",
        &[
            "fromAddress",
            "toAddress",
            "additionalAddresses",
            "shippingReference",
            "shippingPreferences",
        ],
    ),
];

/// Moves the fields of `orderInfo` and `orderShippingInfo` to the top level. A field sent both
/// flat and grouped, an unknown field inside a group, or a group that is not an object is a
/// problem, named with its path.
pub fn unwrap_groups(body: &mut Map<String, Value>, p: &mut Problems) {
    for (group, fields) in GROUPS {
        let Some(value) = body.remove(group) else {
            continue;
        };
        let Value::Object(inner) = value else {
            p.add(group, "must be an object");
            continue;
        };
        for (key, value) in inner {
            let at = format!("{group}.{key}");
            let response_only = match group {
                "orderInfo" => RESPONSE_ONLY.contains(&key.as_str()),
                _ => key == "shipments",
            };
            if response_only {
                continue;
            }
            if !fields.contains(&key.as_str()) {
                p.add(at, format!("is not a known field ('{key}')"));
            } else if body.contains_key(&key) {
                p.add(at, format!("is also sent as top-level '{key}'"));
            } else {
                body.insert(key, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn unwrapped(body: Value) -> (Value, Vec<String>) {
        let Value::Object(mut map) = body else {
            unreachable!()
        };
        let mut p = Problems::default();
        unwrap_groups(&mut map, &mut p);
        let fields = p.into_errors().into_iter().map(|e| e.field).collect();
        (Value::Object(map), fields)
    }

    #[test]
    fn groups_become_request_fields_and_response_fields_go() {
        let (body, problems) = unwrapped(json!({
            "orderInfo": {"orderId": "PBx", "status": "UNFULFILLED", "tagIds": [],
                          "orderNumber": "N1", "items": []},
            "orderShippingInfo": {"toAddress": {"cityTown": "X"}},
        }));
        assert!(problems.is_empty());
        assert_eq!(
            body,
            json!({"orderNumber": "N1", "items": [], "toAddress": {"cityTown": "X"}})
        );
    }

    #[test]
    fn unknown_twice_sent_and_misshapen_groups_are_named() {
        let (_, problems) = unwrapped(json!({
            "orderNumber": "A",
            "orderInfo": {"orderNumber": "B", "toAddress": {}},
            "orderShippingInfo": [],
        }));
        assert_eq!(
            problems,
            [
                "orderInfo.orderNumber",
                "orderInfo.toAddress",
                "orderShippingInfo"
            ]
        );
    }
}
