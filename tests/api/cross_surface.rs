//! One order, two surfaces (api-notes "One order, two surfaces, two dialects"): orders created
//! through either API are read, changed, tagged and searched through the other with the shared
//! fields equal; tenant isolation and auth on every SendPro360 route. On SQLite and PostgreSQL.

use crate::common::fixtures::*;
use crate::common::sendpro_fixtures::*;
use crate::common::{Resp, TestApp};
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

const FULFILLMENT: &str = "/shippingservices/fulfillment/v1/orders";
const CLIENT: &str = "c1";

async fn f_create(app: &TestApp, token: &str, tx: &str, body: &Value) -> Resp {
    app.post(FULFILLMENT)
        .bearer(token)
        .txid(tx)
        .json(body)
        .send()
        .await
}

async fn f_get(app: &TestApp, token: &str, client: &str, id: &str) -> Resp {
    app.get(&format!("{FULFILLMENT}/{id}?clientId={client}"))
        .bearer(token)
        .txid("tx-read")
        .send()
        .await
}

async fn f_search(app: &TestApp, token: &str, fields: Value) -> Resp {
    app.post(&format!("{FULFILLMENT}/search"))
        .bearer(token)
        .txid("tx-search")
        .json(&json!({"clientId": CLIENT, "searchFields": fields}))
        .send()
        .await
        .expect(StatusCode::OK)
}

fn f_found(r: &Resp) -> Vec<String> {
    r.body["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["orderId"].as_str().unwrap().to_string())
        .collect()
}

async fn put_tags(app: &TestApp, token: &str, id: &str, tags: Value) -> Resp {
    app.put(&format!("{OM}/orders/{id}/tags"))
        .bearer(token)
        .json(&json!({"tagIds": tags}))
        .send()
        .await
}

/// SendPro360-only keys, which the Fulfillment view never shows.
const SENDPRO_ONLY: [&str; 11] = [
    "orderNumber",
    "items",
    "charges",
    "fromAddress",
    "orderMessage",
    "customerInfo",
    "metadata",
    "shippingReference",
    "shippingPreferences",
    "additionalAddresses",
    "tagIds",
];

both!(fulfillment_order_through_sendpro, |app| async move {
    let t = app.token(CLIENT);
    let created = f_create(&app, &t, "tx-f1", &seed_create(CLIENT))
        .await
        .expect(StatusCode::CREATED);
    let id = created.body["orderId"].as_str().unwrap().to_string();

    // Read: the shared fields in this dialect's names.
    let got = om_get(&app, &t, &id).await;
    assert_eq!(got.header("etag"), Some("\"1\""));
    let info = &got.body["orderInfo"];
    assert_eq!(info["orderId"], id.as_str());
    assert_eq!(info["orderNumber"], "OR12345645678");
    assert_eq!(info["status"], "UNFULFILLED");
    assert_eq!(info["orderCreateDate"], created.body["pbCreateDate"]);
    assert_eq!(info["orderUpdateDate"], created.body["pbUpdateDate"]);
    assert_eq!(info["tagIds"], json!([]));
    let items = info["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["itemId"], "0001-0001");
    assert_eq!(items[0]["quantity"], 5);
    assert_eq!(dec(&items[0]["unitPrice"]), 10.into());
    assert_eq!(items[0]["originCountryCode"], "US");
    assert_eq!(items[0]["originStateProvince"], "CT");
    let charges = &info["charges"];
    assert_eq!(charges["currency"], "USD");
    assert_eq!(dec(&charges["subTotal"]), 150.into());
    assert_eq!(dec(&charges["gmv"]), 160.into());
    let to = &got.body["orderShippingInfo"]["toAddress"];
    assert_eq!(
        *to,
        json!({
            "name": "John Smith", "company": "ABC", "addressLine1": "2352 Bent Creek Rd",
            "cityTown": "Auburn", "stateProvince": "AL", "postalCode": "36830",
            "countryCode": "US", "phone": "111-111-1111", "email": "john@example.com"
        })
    );
    assert!(got.body["orderShippingInfo"].get("fromAddress").is_none());
    assert!(info.get("orderMessage").is_none());

    // Patch through SendPro360: shared and SendPro-only fields.
    om_patch(
        &app,
        &t,
        &id,
        &json!({
            "orderMessage": {"type": "GIFT", "message": "Enjoy"},
            "customerInfo": {"customerId": "CUST-F"},
            "toAddress": {"addressLine2": "Apt 7"},
            "charges": {"gmv": 165}
        }),
    )
    .await
    .expect(StatusCode::OK);
    let f = f_get(&app, &t, CLIENT, &id).await.expect(StatusCode::OK);
    assert_eq!(f.header("etag"), Some("\"2\""));
    let b = &f.body;
    assert_eq!(
        b["toAddress"]["addressLines"],
        json!(["2352 Bent Creek Rd", "Apt 7"])
    );
    assert_eq!(dec(&b["orderCharges"]["totalOrderAmount"]), 165.into());
    assert_eq!(dec(&b["orderCharges"]["totalItemAmount"]), 150.into());
    // The Fulfillment-only fields survive a SendPro360 PATCH.
    let seed = seed_create(CLIENT);
    for field in [
        "customerOrderId",
        "inputShippingDetails",
        "createDate",
        "fromNode",
        "orderType",
    ] {
        assert_eq!(b[field], seed[field], "{field}");
    }
    assert_eq!(
        b["billingAddress"]["addressLines"],
        seed["billingAddress"]["addressLines"]
    );
    assert_eq!(dec(&b["orderCharges"]["shippingAmount"]), 10.into());
    assert_eq!(b["orderCharges"]["taxDetails"][0]["name"], "SALES TAX");
    assert_eq!(b["orderLines"][0]["inventoryType"], "NEW");
    assert_eq!(dec(&b["orderLines"][0]["lineTotal"]), 50.into());
    assert_eq!(b["orderLines"][0]["lineId"], 1);
    for key in SENDPRO_ONLY {
        assert!(
            b.get(key).is_none(),
            "{key} leaked into the Fulfillment view: {b}"
        );
    }
    // Whole seconds: an update within the second of the create shows the same time.
    assert!(b["pbUpdateDate"].as_str().unwrap() >= b["pbCreateDate"].as_str().unwrap());

    // Items replaced through SendPro360 are the Fulfillment order lines.
    om_patch(
        &app,
        &t,
        &id,
        &json!({"items": [{"itemId": "NEW-SKU", "quantity": 2, "unitPrice": 7.5}]}),
    )
    .await
    .expect(StatusCode::OK);
    let f = f_get(&app, &t, CLIENT, &id).await.expect(StatusCode::OK);
    let lines = f.body["orderLines"].as_array().unwrap();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["sku"], "NEW-SKU");
    assert_eq!(lines[0]["orderedQuantity"], 2);
    assert_eq!(dec(&lines[0]["unitPrice"]), "7.5".parse().unwrap());
    assert_eq!(dec(&lines[0]["lineTotal"]), 15.into());

    // Tagged and searched through SendPro360.
    put_tags(&app, &t, &id, json!(["vip"]))
        .await
        .expect(StatusCode::OK);
    for filters in [
        json!([{"name": "tagIds", "value": ["VIP"]}]),
        json!([{"name": "orderNumber", "value": ["or12345645678"]}]),
        json!([{"name": "itemId", "value": ["new-sku"]}]),
        json!([{"name": "orderId", "value": [id]}]),
    ] {
        let r = om_search(&app, &t, &json!({"filters": filters}))
            .await
            .expect(StatusCode::OK);
        assert_eq!(found_ids(&r), [id.as_str()], "{filters}");
    }

    // Status words map onto the stored lifecycle.
    om_set_status(&app, &t, &id, "ONHOLD").await;
    let f = f_get(&app, &t, CLIENT, &id).await.expect(StatusCode::OK);
    assert_eq!(f.body["status"], "ONHOLD");
    assert_eq!(f.body["isOnHold"], true);
    let r = f_search(&app, &t, json!([{"name": "status", "values": ["ONHOLD"]}])).await;
    assert_eq!(f_found(&r), [id.as_str()]);

    om_set_status(&app, &t, &id, "FULFILLED").await;
    let f = f_get(&app, &t, CLIENT, &id).await.expect(StatusCode::OK);
    assert_eq!(f.body["status"], "SHIPPED");
    assert_eq!(f.body["isOnHold"], false);
    assert_eq!(
        om_get(&app, &t, &id).await.body["orderInfo"]["status"],
        "FULFILLED"
    );
    let r = om_search(
        &app,
        &t,
        &json!({"filters": [{"name": "status", "value": ["FULFILLED"]}]}),
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(found_ids(&r), [id.as_str()]);
    let r = f_search(&app, &t, json!([{"name": "status", "values": ["shipped"]}])).await;
    assert_eq!(f_found(&r), [id.as_str()]);
    let r = f_search(
        &app,
        &t,
        json!([{"name": "status", "values": ["RECEIVED", "ONHOLD"]}]),
    )
    .await;
    assert_eq!(r.body["totalElements"], 0);
});

both!(sendpro_order_through_fulfillment, |app| async move {
    let t = app.token(CLIENT);
    let sent = sendpro_create("SP-1");
    let id = om_create_body(&app, &t, &sent).await;
    let om = om_get(&app, &t, &id).await;

    // Read through Fulfillment: the shared fields, and nothing SendPro-only.
    let f = f_get(&app, &t, CLIENT, &id).await.expect(StatusCode::OK);
    assert_eq!(f.header("etag"), Some("\"1\""));
    let b = &f.body;
    assert_eq!(b["orderId"], id.as_str());
    assert_eq!(b["clientId"], CLIENT);
    assert_eq!(b["clientOrderId"], "SP-1");
    assert_eq!(b["status"], "RECEIVED");
    assert_eq!(b["isOnHold"], false);
    assert_eq!(b["pbCreateDate"], om.body["orderInfo"]["orderCreateDate"]);
    let lines = b["orderLines"].as_array().unwrap();
    assert_eq!(lines.len(), 2);
    for (line, item) in lines.iter().zip(sent["items"].as_array().unwrap()) {
        assert_eq!(line["sku"], item["itemId"]);
        assert_eq!(line["orderedQuantity"], item["quantity"]);
        assert_eq!(dec(&line["unitPrice"]), dec(&item["unitPrice"]));
        for shared in [
            "description",
            "hSTariffCode",
            "hSTariffCodeCountry",
            "originCountryCode",
            "originStateProvince",
        ] {
            assert_eq!(line[shared], item[shared], "{shared}");
        }
        assert_eq!(
            dec(&line["lineTotal"]),
            dec(&item["unitPrice"]) * dec(&item["quantity"])
        );
        assert!(line.get("customProductId").is_none() && line.get("unitWeight").is_none());
    }
    let to = &b["toAddress"];
    let sent_to = &sent["toAddress"];
    assert_eq!(
        to["addressLines"],
        json!([
            sent_to["addressLine1"],
            sent_to["addressLine2"],
            sent_to["addressLine3"]
        ])
    );
    for shared in [
        "name",
        "company",
        "phone",
        "email",
        "cityTown",
        "stateProvince",
        "postalCode",
        "countryCode",
    ] {
        assert_eq!(to[shared], sent_to[shared], "toAddress.{shared}");
    }
    let oc = &b["orderCharges"];
    assert_eq!(oc["orderCurrency"], "USD");
    assert_eq!(dec(&oc["totalItemAmount"]), 90.into());
    assert_eq!(dec(&oc["totalOrderAmount"]), 100.into());
    for key in SENDPRO_ONLY {
        assert!(
            b.get(key).is_none(),
            "{key} leaked into the Fulfillment view: {b}"
        );
    }

    // Replace through Fulfillment with a full Fulfillment body.
    let replaced = app
        .put(&format!("{FULFILLMENT}/{id}"))
        .bearer(&t)
        .txid("tx-put")
        .json(&seed_replace(CLIENT))
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(replaced.body["orderId"], id.as_str());
    assert_eq!(replaced.header("etag"), Some("\"2\""));
    let got = om_get(&app, &t, &id).await;
    assert_eq!(got.header("etag"), Some("\"2\""));
    let info = &got.body["orderInfo"];
    let ship = &got.body["orderShippingInfo"];
    assert_eq!(info["orderNumber"], "1643749029194");
    assert_eq!(info["status"], "UNFULFILLED");
    let items = info["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["itemId"], "1642787722");
    assert_eq!(items[0]["quantity"], 5);
    assert_eq!(dec(&items[0]["unitPrice"]), 10.into());
    assert_eq!(info["charges"]["currency"], "USD");
    assert_eq!(dec(&info["charges"]["subTotal"]), 150.into());
    assert_eq!(dec(&info["charges"]["gmv"]), 160.into());
    assert_eq!(ship["toAddress"]["addressLine1"], "2352 Bent Creek Rd");
    assert!(ship["toAddress"].get("addressLine2").is_none());
    assert_eq!(ship["toAddress"]["postalCode"], "36830");
    // The SendPro360-only fields are kept by a Fulfillment replace.
    for field in ["customerInfo", "orderMessage", "metadata"] {
        assert_eq!(info[field], sent[field], "orderInfo.{field}");
    }
    for field in [
        "fromAddress",
        "shippingReference",
        "shippingPreferences",
        "additionalAddresses",
    ] {
        assert_eq!(ship[field], sent[field], "orderShippingInfo.{field}");
    }
    assert_eq!(info["charges"]["billingStatus"], "Paid");
    assert_eq!(info["charges"]["paymentType"], "Credit Card");

    // Searched through Fulfillment by id and by the (new) client order id.
    for fields in [
        json!([{"name": "orders", "values": [id]}]),
        json!([{"name": "clientOrderId", "values": ["1643749029194"]}]),
        json!([{"name": "orders", "values": ["1643749029194"]}]),
    ] {
        let r = f_search(&app, &t, fields.clone()).await;
        assert_eq!(f_found(&r), [id.as_str()], "{fields}");
        assert_eq!(r.body["orders"][0]["clientOrderId"], "1643749029194");
    }
    let r = f_search(&app, &t, json!([{"name": "orders", "values": ["SP-1"]}])).await;
    assert_eq!(r.body["totalElements"], 0, "the old number is gone");
    // And through SendPro360 by the replaced fields.
    for (filters, hits) in [
        (
            json!([{"name": "orderNumber", "value": ["1643749029194"]}]),
            1,
        ),
        (json!([{"name": "itemId", "value": ["1642787722"]}]), 1),
        (json!([{"name": "itemId", "value": ["SKU12345"]}]), 0),
        (json!([{"name": "customerId", "value": ["CUST12345"]}]), 1),
    ] {
        let r = om_search(&app, &t, &json!({"filters": filters}))
            .await
            .expect(StatusCode::OK);
        assert_eq!(r.body["totalElements"], hits, "{filters}");
    }

    // A SendPro360 status is the Fulfillment status, in its status/search too.
    om_set_status(&app, &t, &id, "ONHOLD").await;
    let r = app
        .post(&format!("{FULFILLMENT}/status/search")).bearer(&t).txid("tx-ss").json(&json!({"clientId": CLIENT, "searchFields": [{"name": "status", "values": ["ONHOLD"]}]})).send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(f_found(&r), [id.as_str()]);
    assert_eq!(r.body["orders"][0]["isOnHold"], true);
    assert_eq!(r.body["orders"][0]["clientOrderId"], "1643749029194");
});

both!(
    another_client_never_sees_or_changes_an_order,
    |app| async move {
        let t = app.token(CLIENT);
        let other = app.token("c2");
        let id = om_create(&app, &t, "TEN-1").await;
        put_tags(&app, &t, &id, json!(["mine"]))
            .await
            .expect(StatusCode::OK);
        let before = om_get(&app, &t, &id).await;
        // The other client may use the same order number: numbers are unique per client.
        let theirs = om_create(&app, &other, "TEN-1").await;

        let not_found = |r: Resp, what: &str| {
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{what}: {}", r.body);
            assert_eq!(r.error_code(), "not_found", "{what}");
            assert!(r.body.get("errors").is_none(), "{what}: flat error");
        };
        let path = format!("{OM}/orders/{id}");
        not_found(app.get(&path).bearer(&other).send().await, "get");
        not_found(
            om_patch(
                &app,
                &other,
                &id,
                &json!({"orderMessage": {"message": "x"}}),
            )
            .await,
            "patch",
        );
        not_found(app.delete(&path).bearer(&other).send().await, "delete");
        not_found(
            app.delete(&format!("{path}/items?itemId=SKU12345"))
                .bearer(&other)
                .send()
                .await,
            "delete item",
        );
        not_found(put_tags(&app, &other, &id, json!(["theirs"])).await, "tags");
        not_found(put_tags(&app, &other, &id, json!([])).await, "clear tags");
        not_found(
            om_bulk_status(&app, &other, &[&id], "CANCELED").await,
            "bulk status",
        );
        not_found(
            app.get(&format!("{path}/history"))
                .bearer(&other)
                .send()
                .await,
            "history",
        );
        not_found(
            app.patch(&path)
                .bearer(&other)
                .header("if-match", "\"2\"")
                .json(&json!({"orderMessage": {"message": "x"}}))
                .send()
                .await,
            "patch with the current If-Match",
        );
        let r = f_get(&app, &other, "c2", &id).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);

        // Bulk requests: the foreign id fails, the caller's own succeeds.
        let r = om_bulk_status(&app, &other, &[&id, &theirs], "ONHOLD")
            .await
            .expect(StatusCode::OK);
        assert_eq!(r.body["results"][0]["success"], false);
        assert_eq!(r.body["results"][0]["error"]["errorCode"], "not_found");
        assert_eq!(r.body["results"][1]["success"], true);
        let r = app
        .put(&format!("{OM}/orders/bulkTags")).bearer(&other).json(&json!({"tags": [{"orderId": id, "tagIds": []}, {"orderId": theirs, "tagIds": ["t"]}]})).send()
        .await
        .expect(StatusCode::OK);
        assert_eq!(r.body["results"][0]["success"], false);
        assert_eq!(r.body["results"][0]["error"]["errorCode"], "not_found");
        assert_eq!(r.body["results"][1]["success"], true);

        // Search never shows it.
        for filters in [
            json!([]),
            json!([{"name": "orderId", "value": [id]}]),
            json!([{"name": "orderNumber", "value": ["TEN-1"]}]),
            json!([{"name": "tagIds", "value": ["mine"]}]),
            json!([{"name": "itemId", "value": ["SKU12345"]}]),
        ] {
            let r = om_search(&app, &other, &json!({"filters": filters}))
                .await
                .expect(StatusCode::OK);
            assert!(!found_ids(&r).contains(&id), "{filters}");
        }
        let r = om_search(&app, &other, &json!({}))
            .await
            .expect(StatusCode::OK);
        assert_eq!(found_ids(&r), [theirs.as_str()]);

        // The owner's order is exactly as it was.
        let after = om_get(&app, &t, &id).await;
        assert_eq!(after.body, before.body);
        assert_eq!(after.header("etag"), before.header("etag"));
    }
);

/// Every SendPro360 route, as (method, path, body).
fn routes(id: &str) -> Vec<(Method, String, Option<Value>)> {
    vec![
        (
            Method::POST,
            format!("{OM}/orders"),
            Some(sendpro_create("AUTH-2")),
        ),
        (Method::GET, format!("{OM}/orders/{id}"), None),
        (Method::GET, format!("{OM}/orders/{id}/history"), None),
        (
            Method::PATCH,
            format!("{OM}/orders/{id}"),
            Some(json!({"orderMessage": {"message": "x"}})),
        ),
        (Method::DELETE, format!("{OM}/orders/{id}"), None),
        (
            Method::PATCH,
            format!("{OM}/orders/bulk/status"),
            Some(json!({"orders": [{"orderId": id}], "status": "CANCELED"})),
        ),
        (
            Method::DELETE,
            format!("{OM}/orders/{id}/items?itemId=SKU67890"),
            None,
        ),
        (
            Method::POST,
            format!("{OM}/orders/search"),
            Some(json!({"filters": []})),
        ),
        (
            Method::PUT,
            format!("{OM}/orders/{id}/tags"),
            Some(json!({"tagIds": ["a"]})),
        ),
        (
            Method::PUT,
            format!("{OM}/orders/bulkTags"),
            Some(json!({"tags": [{"orderId": id, "tagIds": ["a"]}]})),
        ),
    ]
}

both!(every_route_needs_a_bearer_token, |app| async move {
    let t = app.token(CLIENT);
    let id = om_create(&app, &t, "AUTH-1").await;
    for (method, path, body) in routes(&id) {
        for token in [None, Some("not-a-jwt")] {
            let r = app
                .request(method.clone(), &path)
                .maybe_bearer(token)
                .maybe_json(body.as_ref())
                .send()
                .await;
            assert_eq!(
                r.status,
                StatusCode::UNAUTHORIZED,
                "{method} {path}: {}",
                r.body
            );
            assert_eq!(r.body["errorCode"], "unauthorized_error", "{method} {path}");
            assert!(r.body["message"].is_string(), "{}", r.body);
            assert!(r.body["additionalInfo"].is_string(), "{}", r.body);
            assert!(r.body.get("errors").is_none(), "flat error: {}", r.body);
            assert_eq!(r.header("www-authenticate"), Some("Bearer"));
        }
    }
    let got = om_get(&app, &t, &id).await;
    assert_eq!(got.header("etag"), Some("\"1\""), "nothing changed");
    let all = om_search(&app, &t, &json!({})).await.expect(StatusCode::OK);
    assert_eq!(all.body["totalElements"], 1, "nothing was created");
});

both!(a_read_only_token_cannot_write, |app| async move {
    let t = app.token(CLIENT);
    let ro = app.token_with_scope(CLIENT, "orders:read");
    let id = om_create(&app, &t, "RO-1").await;
    for (method, path, body) in routes(&id) {
        let r = app
            .request(method.clone(), &path)
            .bearer(&ro)
            .maybe_json(body.as_ref())
            .send()
            .await;
        let reads = method == Method::GET || path.ends_with("/search");
        if reads {
            assert_eq!(r.status, StatusCode::OK, "{method} {path}: {}", r.body);
        } else {
            assert_eq!(
                r.status,
                StatusCode::FORBIDDEN,
                "{method} {path}: {}",
                r.body
            );
            assert_eq!(r.body["errorCode"], "forbidden_error", "{method} {path}");
            assert!(r.body.get("errors").is_none(), "flat error: {}", r.body);
        }
    }
    let got = om_get(&app, &t, &id).await;
    assert_eq!(got.header("etag"), Some("\"1\""), "nothing changed");
    assert_eq!(got.body["orderInfo"]["status"], "UNFULFILLED");
    let all = om_search(&app, &t, &json!({})).await.expect(StatusCode::OK);
    assert_eq!(all.body["totalElements"], 1, "nothing was created");
});

both!(
    removing_an_item_through_sendpro_updates_fulfillment_totals,
    |app| async move {
        let t = app.token(CLIENT);
        let mut body = seed_create(CLIENT);
        body["orderLines"] = json!([
            {"lineId": 1, "sku": "A-1", "unitPrice": 10, "orderedQuantity": 5, "lineTotal": 50},
            {"lineId": 2, "sku": "B-2", "unitPrice": 20, "orderedQuantity": 1, "lineTotal": 20}
        ]);
        body["orderCharges"]["totalItemAmount"] = json!(70);
        body["orderCharges"]["totalOrderAmount"] = json!(80);
        let created = f_create(&app, &t, "tx-items", &body)
            .await
            .expect(StatusCode::CREATED);
        let id = created.body["orderId"].as_str().unwrap().to_string();

        app.delete(&format!("{OM}/orders/{id}/items?itemId=B-2"))
            .bearer(&t)
            .send()
            .await
            .expect(StatusCode::OK);
        let f = f_get(&app, &t, CLIENT, &id).await.expect(StatusCode::OK);
        assert_eq!(f.header("etag"), Some("\"2\""));
        let lines = f.body["orderLines"].as_array().unwrap();
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0]["sku"], "A-1");
        assert_eq!(lines[0]["lineId"], 1);
        let oc = &f.body["orderCharges"];
        assert_eq!(dec(&oc["totalItemAmount"]), 50.into(), "70 - 20");
        assert_eq!(dec(&oc["totalOrderAmount"]), 60.into(), "80 - 20");
        assert_eq!(dec(&oc["shippingAmount"]), 10.into());
        let om = om_get(&app, &t, &id).await;
        assert_eq!(dec(&om.body["orderInfo"]["charges"]["subTotal"]), 50.into());
        assert_eq!(dec(&om.body["orderInfo"]["charges"]["gmv"]), 60.into());
        let r = f_search(&app, &t, json!([{"name": "orders", "values": [id]}])).await;
        assert_eq!(r.body["orders"][0]["orderLines"], f.body["orderLines"]);
    }
);

both!(
    a_patch_that_leaves_an_address_without_a_line_is_a_conflict,
    |app| async move {
        // Orders created through Fulfillment have no fromAddress: a part of one is a valid
        // patch on its own, but applied to this order it leaves an address without a line.
        let t = app.token(CLIENT);
        let created = f_create(&app, &t, "tx-noline", &seed_create(CLIENT))
            .await
            .expect(StatusCode::CREATED);
        let id = created.body["orderId"].as_str().unwrap().to_string();
        let r = om_patch(
            &app,
            &t,
            &id,
            &json!({"fromAddress": {"cityTown": "Auburn"}}),
        )
        .await
        .expect(StatusCode::CONFLICT);
        assert_eq!(r.body["errorCode"], "invalid_state", "{}", r.body);
        let message = r.body["message"].as_str().unwrap();
        assert!(message.contains("fromAddress"), "{message}");
        let got = om_get(&app, &t, &id).await;
        assert_eq!(got.header("etag"), Some("\"1\""), "nothing was saved");
        assert!(got.body["orderShippingInfo"].get("fromAddress").is_none());

        // With a line it applies; a field-level problem in the patch itself stays a 400.
        om_patch(
            &app,
            &t,
            &id,
            &json!({"fromAddress": {"cityTown": "Auburn", "addressLine1": "1 Main St"}}),
        )
        .await
        .expect(StatusCode::OK);
        om_patch(
            &app,
            &t,
            &id,
            &json!({"toAddress": {"cityTown": "x".repeat(51)}}),
        )
        .await
        .expect(StatusCode::BAD_REQUEST);
    }
);
