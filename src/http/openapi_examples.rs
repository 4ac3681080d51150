//! Request bodies Swagger UI fills in for "Try it out". Each works as filled in for the README's
//! tenant (`1234`) right after the README walk-through: creates use order numbers of their own
//! (a retry with the same transaction id is answered from the first), and searches match the
//! orders the walk-through made. Ids of existing orders cannot be known here; where a body needs
//! one (bulk status and tags), its description says to put in your own.

use serde_json::{Value, json};

pub fn fulfillment_order() -> Value {
    json!({
        "clientId": "1234",
        "clientOrderId": "OR-TRY-IT-1",
        "customerOrderId": "000-111-222-4444",
        "inputShippingDetails": {
            "carrier": "PITNEY BOWES",
            "serviceId": "PARCEL",
            "serviceName": "PARCEL SELECT"
        },
        "orderType": "eCom",
        "createDate": "2022-02-07T01:20:00Z",
        "fromNode": "160",
        "orderHandling": "E",
        "orderLines": [{
            "lineId": 1,
            "sku": "0001-0001",
            "unitPrice": 10,
            "orderedQuantity": 5,
            "lineTotal": 50,
            "inventoryType": "NEW"
        }],
        "orderCharges": {
            "orderCurrency": "USD",
            "shippingAmount": 10,
            "totalItemAmount": 50,
            "totalOrderAmount": 60
        },
        "toAddress": {
            "name": "John Smith",
            "addressLines": ["2352 Bent Creek Rd"],
            "cityTown": "Auburn",
            "stateProvince": "AL",
            "postalCode": "36830",
            "countryCode": "US"
        }
    })
}

pub fn fulfillment_search() -> Value {
    json!({
        "clientId": "1234",
        "sort": ["pbCreateDate-desc"],
        "searchFields": [{"name": "status", "values": ["RECEIVED"]}]
    })
}

pub fn sendpro_order() -> Value {
    json!({
        "orderNumber": "ORD-TRY-IT-1",
        "orderMessage": {"type": "GIFT", "message": "Happy Birthday! Enjoy your gift."},
        "charges": {"currency": "USD", "subTotal": 50, "gmv": 55},
        "customerInfo": {"firstName": "John", "lastName": "Doe", "customerId": "CUST12345"},
        "fromAddress": {
            "name": "Warehouse A",
            "addressLine1": "638 Manitoba Ave",
            "cityTown": "Winnipeg",
            "stateProvince": "MB",
            "postalCode": "R2W 2H2",
            "countryCode": "CA"
        },
        "toAddress": {
            "name": "Jane Smith",
            "addressLine1": "1822 Franklin Street",
            "cityTown": "Vancouver",
            "stateProvince": "BC",
            "postalCode": "V5L 1P8",
            "countryCode": "CA"
        },
        "items": [{"itemId": "SKU12345", "description": "Wireless mouse", "quantity": 2, "unitPrice": 25}]
    })
}

pub fn sendpro_patch() -> Value {
    json!({"orderMessage": {"type": "GIFT", "message": "Many happy returns!"}})
}

pub fn sendpro_search() -> Value {
    json!({"filters": [{"name": "status", "value": ["UNFULFILLED"]}], "page": 0, "size": 20})
}

pub fn tags() -> Value {
    json!({"tagIds": ["vip", "gift"]})
}

/// The walk-through's order (its own `clientOrderId`), with a second address line.
pub fn fulfillment_replacement() -> Value {
    let mut order = fulfillment_order();
    order["clientOrderId"] = json!("OR12345645678");
    order["toAddress"]["addressLines"] = json!(["2352 Bent Creek Rd", "Suite 4"]);
    order
}

/// The warehouse operations, on the walk-through's order (one line, 5 × `0001-0001`).
pub fn backorder() -> Value {
    json!({"lines": [{"sku": "0001-0001", "quantity": 2}]})
}

pub fn hold() -> Value {
    json!({"reason": "address check"})
}

pub fn shipment() -> Value {
    json!({
        "carrier": "USPS",
        "serviceId": "PM",
        "serviceName": "Priority Mail",
        "trackingNumber": "9400111899223197428490",
        "lines": [{"sku": "0001-0001", "quantity": 2}]
    })
}

pub fn give_back() -> Value {
    json!({"reason": "damaged in transit", "lines": [{"sku": "0001-0001", "quantity": 1}]})
}

pub fn cancel() -> Value {
    json!({"reason": "customer asked"})
}
