//! The seed documents' sample requests, with the `...` elisions removed.
#![allow(dead_code)]

use serde_json::{Value, json};

/// Seed 003 "Create an Order" sample request (note `postalCode` as a number, as documented).
pub fn seed_create(client_id: &str) -> Value {
    json!({
        "clientId": client_id,
        "clientOrderId": "OR12345645678",
        "customerOrderId": "000-111-222-4444",
        "inputShippingDetails": {
            "carrier": "PITNEY BOWES",
            "serviceId": "PARCEL",
            "serviceName": "PARCEL SELECT",
            "trackingNumber": "9561234567"
        },
        "orderType": "eCom",
        "createDate": "2022-02-07T01:20:00Z",
        "fromNode": "160",
        "shipOnDate": "2022-02-08T01:20:00Z",
        "fulfillmentReleaseDate": "2022-02-09T01:20:00Z",
        "promisedDeliveryDate": "2022-02-10T01:20:00Z",
        "orderHandling": "E",
        "orderLines": [{
            "lineId": 1,
            "sku": "0001-0001",
            "originCountryCode": "US",
            "originStateProvince": "CT",
            "unitPrice": 10,
            "orderedQuantity": 5,
            "lineTotal": 50,
            "inventoryType": "NEW"
        }],
        "orderCharges": {
            "orderCurrency": "USD",
            "shippingAmount": 10,
            "totalItemAmount": 150,
            "dutyDetails": [{"name": "COUPON", "fee": 5, "currency": "USD", "percentage": 1}],
            "totalTaxAmount": 5,
            "taxDetails": [{"name": "SALES TAX", "fee": 5, "currency": "USD", "percentage": 1}],
            "totalDiscountAmount": 5,
            "discountDetails": [{"name": "COUPON", "fee": 5, "currency": "USD"}],
            "otherChargeDetails": [{"name": "SUPPLIER_FEE", "fee": 0}],
            "totalOrderAmount": 160
        },
        "toAddress": {
            "name": "John Smith",
            "company": "ABC",
            "phone": "111-111-1111",
            "email": "john@example.com",
            "addressLines": ["2352 Bent Creek Rd"],
            "cityTown": "Auburn",
            "stateProvince": "AL",
            "postalCode": 36830,
            "countryCode": "US"
        },
        "billingAddress": {
            "name": "John Smith",
            "company": "ABC",
            "phone": "111-111-1111",
            "email": "john@example.com",
            "addressLines": ["2352 Bent Creek Rd"],
            "cityTown": "Auburn",
            "stateProvince": "AL",
            "postalCode": 36830,
            "countryCode": "US"
        }
    })
}

/// Seed 001 "Update an Order" sample request body (changes the billing address).
pub fn seed_replace(client_id: &str) -> Value {
    json!({
        "clientId": client_id,
        "clientOrderId": "1643749029194",
        "customerOrderId": "111-212-1687792",
        "references": [],
        "shippingDetails": {
            "carrier": "PITNEY BOWES",
            "serviceId": "PARCEL",
            "serviceName": "PARCEL SELECT",
            "trackingNumber": "9560533222"
        },
        "orderType": "eCom",
        "createDate": "2022-01-26T01:20:00Z",
        "fromNode": "160",
        "shipOnDate": "2022-01-27T01:20:00Z",
        "fulfillmentReleaseDate": "2022-01-28T01:20:00Z",
        "promisedDeliveryDate": "2022-01-30T01:20:00Z",
        "orderHandling": "E",
        "orderLines": [{
            "lineId": 1,
            "sku": "1642787722",
            "originCountryCode": "US",
            "originStateProvince": "CT",
            "unitPrice": 10.0,
            "orderedQuantity": 5,
            "lineTotal": 50.0,
            "inventoryType": "NEW"
        }],
        "orderCharges": {
            "orderCurrency": "USD",
            "shippingAmount": 10.0,
            "totalItemAmount": 150.0,
            "dutyDetails": [{"name": "COUPON", "fee": 5.0, "currency": "USD", "percentage": 1.0}],
            "totalTaxAmount": 5.0,
            "taxDetails": [{"name": "SALES TAX", "fee": 5.0, "currency": "USD", "percentage": 1.0}],
            "totalDiscountAmount": 5.0,
            "discountDetails": [{"name": "COUPON", "fee": 5.0, "currency": "USD"}],
            "otherChargeDetails": [{"name": "SUPPLIER_FEE", "fee": 0.0, "currency": "USD"}],
            "totalOrderAmount": 160.0
        },
        "toAddress": {
            "name": "John Smith",
            "company": "ABC",
            "phone": "111-111-1111",
            "email": "john@example.com",
            "addressLines": ["2352 Bent Creek Rd"],
            "cityTown": "Auburn",
            "stateProvince": "AL",
            "postalCode": "36830",
            "countryCode": "US"
        },
        "billingAddress": {
            "name": "John Smith",
            "company": "ABC",
            "phone": "111-111-1111",
            "email": "john@example.com",
            "addressLines": ["643 Greenway Rd"],
            "cityTown": "Boone",
            "stateProvince": "NC",
            "postalCode": "28607",
            "countryCode": "US"
        },
        "isGift": false
    })
}

/// Seed 002 "Return all Order Data" sample request.
pub fn seed_search(client_id: &str) -> Value {
    json!({
        "clientId": client_id,
        "sort": ["createDate-asc"],
        "searchFields": [
            {"name": "status", "values": ["Received", "CANCELED"]},
            {"name": "ordertype", "values": ["eCom"]}
        ]
    })
}

/// Seed 002 "Return a Subset of Order Data" sample request.
pub fn seed_status_search(client_id: &str) -> Value {
    json!({
        "clientId": client_id,
        "sort": ["pbCreateDate-desc"],
        "searchFields": [{"name": "status", "values": ["INPROGRESS"]}]
    })
}

/// The create sample with its own client order id.
pub fn order_numbered(client_id: &str, client_order_id: &str) -> Value {
    let mut o = seed_create(client_id);
    o["clientOrderId"] = json!(client_order_id);
    o
}
