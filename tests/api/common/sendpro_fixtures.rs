//! SendPro360 sample bodies (pb-api-research.md §1), and small request helpers for the
//! `/ordermanagement/api/v1` surface.
#![allow(dead_code)]

use std::str::FromStr;

use axum::http::StatusCode;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::{Resp, TestApp};

/// The SendPro360 Order Management base path (api-notes "Paths").
pub const OM: &str = "/ordermanagement/api/v1";

/// The "Item" sample of the getOrderById / searchOrders responses (§1.3).
pub fn sample_item() -> Value {
    json!({
        "customProductId": "string",
        "itemId": "SKU12345",
        "description": "Wireless mouse with USB receiver",
        "hSTariffCode": "847160",
        "hSTariffCodeCountry": "US",
        "originCountryCode": "US",
        "originStateProvince": "",
        "quantity": 2,
        "unitPrice": 25,
        "unitWeight": {"unitOfMeasurement": "OZ", "weight": 12.5}
    })
}

/// A second item in the same shape, priced so that the lines sum to the sample's
/// `charges.subTotal` (2 × 25 + 1 × 40 = 90).
pub fn second_item() -> Value {
    json!({
        "itemId": "SKU67890",
        "description": "USB-C charging cable",
        "hSTariffCode": "854442",
        "hSTariffCodeCountry": "CN",
        "originCountryCode": "CN",
        "originStateProvince": "GD",
        "quantity": 1,
        "unitPrice": 40,
        "unitWeight": {"unitOfMeasurement": "OZ", "weight": 3}
    })
}

/// The createOrder request sample (§1.3) with the given order number. The parts the excerpt
/// cuts off (`toAddress` after `phon…`, `customs.customsInfo` after `custo…`) are completed in
/// the same style; `additionalAddresses` (shape undocumented) holds one address-like object.
pub fn sendpro_create(order_number: &str) -> Value {
    json!({
        "orderNumber": order_number,
        "orderMessage": {"type": "GIFT", "message": "Happy Birthday! Enjoy your gift."},
        "metadata": [
            {"name": "costAccountName", "value": "costAccountName12"},
            {"name": "costAccountId", "value": "costAccountId12"},
            {"name": "costAccountCode", "value": "Code12"}
        ],
        "charges": {
            "currency": "USD",
            "billingStatus": "Paid",
            "gmv": 100,
            "subTotal": 90,
            "totalPaid": 100,
            "paymentType": "Credit Card"
        },
        "shippingReference": {
            "reference1": "reference1",
            "reference2": "reference2",
            "reference3": "reference3",
            "reference4": "reference4",
            "shipperReference": "Shipper123",
            "transportationReference": "TransRef2025",
            "shippingNotes": "Handle with care"
        },
        "customerInfo": {
            "firstName": "John",
            "lastName": "Doe",
            "email": "john.doe@example.com",
            "customerId": "CUST12345"
        },
        "fromAddress": {
            "name": "Warehouse A",
            "company": "Company Name",
            "addressLine1": "638 Manitoba Ave",
            "addressLine2": "Apt 4B",
            "addressLine3": "Near City Park",
            "cityTown": "Winnipeg",
            "stateProvince": "MB",
            "postalCode": "R2W 2H2",
            "countryCode": "CA",
            "phone": "1234567890",
            "email": "warehouse@email.com",
            "residential": false
        },
        "toAddress": {
            "name": "Jane Smith",
            "company": "Company ABC",
            "addressLine1": "1822 Franklin Street",
            "addressLine2": "3010 Summer Street",
            "addressLine3": "Near City Park",
            "cityTown": "Vancouver",
            "stateProvince": "BC",
            "postalCode": "V5L 1P8",
            "countryCode": "CA",
            "phone": "9876543210",
            "email": "jane.smith@example.com",
            "residential": true
        },
        "items": [sample_item(), second_item()],
        "additionalAddresses": [{
            "addressType": "RETURN",
            "name": "Returns Desk",
            "addressLine1": "638 Manitoba Ave",
            "cityTown": "Winnipeg",
            "stateProvince": "MB",
            "postalCode": "R2W 2H2",
            "countryCode": "CA"
        }],
        "shippingPreferences": {
            "customCarrierCode": "string",
            "carrier": "UPS",
            "parcelId": "PKG-001",
            "parcelType": "PKG",
            "service": "2DA",
            "parcel": {
                "length": 2, "width": 1, "height": 1,
                "dimUnit": "IN", "weightUnit": "OZ", "weight": 2
            },
            "specialServices": [{
                "inputParameters": [{"name": "INPUT_VALUE", "value": "100"}],
                "specialserviceId": "Ins"
            }],
            "customs": {
                "customsInfo": {
                    "certificateNumber": "98788877",
                    "comments": "string",
                    "currencyCode": "USD"
                }
            }
        }
    })
}

/// A JSON number as an exact decimal (`100`, `100.0` and `1E2` compare equal).
pub fn dec(v: &Value) -> Decimal {
    assert!(v.is_number(), "not a number: {v}");
    Decimal::from_str(&v.to_string())
        .or_else(|_| Decimal::from_scientific(&v.to_string()))
        .unwrap()
}

/// Creates `body` through SendPro360 and returns the new order id.
pub async fn om_create_body(app: &TestApp, token: &str, body: &Value) -> String {
    let r = app
        .post(&format!("{OM}/orders"))
        .bearer(token)
        .json(body)
        .send()
        .await
        .expect(StatusCode::OK);
    r.body["orderId"].as_str().unwrap().to_string()
}

/// Creates the sample order with this order number; returns the order id.
pub async fn om_create(app: &TestApp, token: &str, order_number: &str) -> String {
    om_create_body(app, token, &sendpro_create(order_number)).await
}

/// GET through SendPro360, expecting 200.
pub async fn om_get(app: &TestApp, token: &str, order_id: &str) -> Resp {
    app.get(&format!("{OM}/orders/{order_id}"))
        .bearer(token)
        .send()
        .await
        .expect(StatusCode::OK)
}

/// The current ETag of an order (via GET).
pub async fn om_etag(app: &TestApp, token: &str, order_id: &str) -> String {
    om_get(app, token, order_id)
        .await
        .header("etag")
        .expect("GET carries an ETag")
        .to_string()
}

/// PATCH through SendPro360 (no If-Match); the response is returned as is.
pub async fn om_patch(app: &TestApp, token: &str, order_id: &str, patch: &Value) -> Resp {
    app.patch(&format!("{OM}/orders/{order_id}"))
        .bearer(token)
        .json(patch)
        .send()
        .await
}

/// Bulk status for these ids; the response is returned as is.
pub async fn om_bulk_status(app: &TestApp, token: &str, ids: &[&str], status: &str) -> Resp {
    let orders: Vec<Value> = ids.iter().map(|id| json!({"orderId": id})).collect();
    app.patch(&format!("{OM}/orders/bulk/status"))
        .bearer(token)
        .json(&json!({"orders": orders, "status": status, "reason": "bulk status update"}))
        .send()
        .await
}

/// Sets one order's SendPro360 status, expecting that to succeed.
pub async fn om_set_status(app: &TestApp, token: &str, order_id: &str, status: &str) {
    let r = om_bulk_status(app, token, &[order_id], status)
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        r.body["results"][0]["success"], true,
        "setting {status}: {}",
        r.body
    );
}

/// POST /orders/search with this body; the response is returned as is.
pub async fn om_search(app: &TestApp, token: &str, body: &Value) -> Resp {
    app.post(&format!("{OM}/orders/search"))
        .bearer(token)
        .json(body)
        .send()
        .await
}

/// The order ids of a 200 search response, in order.
pub fn found_ids(r: &Resp) -> Vec<String> {
    r.body["orders"]
        .as_array()
        .unwrap_or_else(|| panic!("no orders in {}", r.body))
        .iter()
        .map(|o| o["orderInfo"]["orderId"].as_str().unwrap().to_string())
        .collect()
}

/// The field paths of a flat SendPro360 validation error (its `additionalInfo`).
pub fn om_error_fields(r: &Resp) -> Vec<String> {
    assert!(
        r.body.get("errors").is_none(),
        "not the flat SendPro360 error shape: {}",
        r.body
    );
    r.body["additionalInfo"]
        .as_str()
        .unwrap_or_else(|| panic!("no additionalInfo in {}", r.body))
        .split(", ")
        .map(str::to_string)
        .collect()
}

/// Asserts a flat 400 `validation_error` that names `field`.
#[track_caller]
pub fn assert_names_field(r: &Resp, field: &str) {
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "body: {}", r.body);
    assert_eq!(r.body["errorCode"], "validation_error", "body: {}", r.body);
    assert!(r.body["message"].is_string(), "body: {}", r.body);
    let fields = om_error_fields(r);
    assert!(
        fields.iter().any(|f| f == field),
        "expected field {field} in {fields:?} ({})",
        r.body
    );
}
