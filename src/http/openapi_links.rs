//! OpenAPI links: how the id a create returns feeds every operation on that order.
//!
//! Generated SDKs ignore them; tools that walk an API (schemathesis's stateful phase, API
//! explorers) use them to reach an order that exists instead of guessing ids and getting 404s.
//! Both surfaces serve one store, so an order created through either is linked to both.

use serde_json::{Value, json};

const SENDPRO: &str = "/ordermanagement/api/v1/orders";
const FULFILLMENT: &str = "/shippingservices/fulfillment/v1/orders";

/// Adds the links to the create responses of `doc` (the generated document as JSON).
pub(super) fn add_links(doc: &mut Value) {
    let id = "$response.body#/orderId";
    let by_id = |operation: &str| json!({"operationId": operation, "parameters": {"orderId": id}});
    let on_both_surfaces = [
        ("GetOrder", by_id("getOrderById")),
        ("PatchOrder", by_id("partialUpdateOrderById")),
        ("DeleteOrder", by_id("deleteOrderById")),
        ("OrderHistory", by_id("getOrderHistory")),
        ("UpdateTags", by_id("updateTags")),
        (
            "BulkStatus",
            json!({"operationId": "updateOrderById", "requestBody": {
                "orders": [{"orderId": id}], "status": "ONHOLD"
            }}),
        ),
        (
            "BulkTags",
            json!({"operationId": "bulkUpdateTags", "requestBody": {
                "tags": [{"orderId": id, "tagIds": ["linked"]}]
            }}),
        ),
        ("UpdateFulfillmentOrder", by_id("fulfillmentUpdateOrder")),
    ];

    let mut sendpro = serde_json::Map::new();
    let mut fulfillment = serde_json::Map::new();
    for (name, link) in on_both_surfaces {
        sendpro.insert(name.to_string(), link.clone());
        fulfillment.insert(name.to_string(), link);
    }
    sendpro.insert(
        "DeleteItem".into(),
        json!({"operationId": "deleteOrderItem", "parameters": {
            "orderId": id, "itemId": "$request.body#/items/0/itemId"
        }}),
    );
    fulfillment.insert(
        "ViewOrder".into(),
        json!({"operationId": "fulfillmentViewOrder", "parameters": {
            "orderId": id, "clientId": "$request.body#/clientId"
        }}),
    );

    for (path, status, links) in [(SENDPRO, "200", sendpro), (FULFILLMENT, "201", fulfillment)] {
        let response = doc
            .pointer_mut(&format!(
                "/paths/{}/post/responses/{status}",
                path.replace('/', "~1")
            ))
            .and_then(Value::as_object_mut)
            .unwrap_or_else(|| panic!("POST {path} answers {status}"));
        response.insert("links".into(), Value::Object(links));
    }
}
