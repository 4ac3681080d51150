//! Every documented limit, enum and required field of the Fulfillment Orders object (seeds 001,
//! 003; pb-api-research.md §2.1), and what create and replace do with the fields they must ignore,
//! derive or refuse. On SQLite and PostgreSQL.

use crate::common::fixtures::*;
use crate::common::{Resp, TestApp};
use axum::http::StatusCode;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::str::FromStr;

const ORDERS: &str = "/shippingservices/fulfillment/v1/orders";
const CLIENT: &str = "1234";

fn s(n: usize) -> Value {
    Value::String("x".repeat(n))
}

/// Parses a JSON number literal exactly (no detour through f64).
fn num(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

/// A JSON number as an exact decimal.
fn dec(v: &Value) -> Decimal {
    assert!(v.is_number(), "not a number: {v}");
    Decimal::from_str(&v.to_string()).unwrap()
}

/// Sets the value at a `/`-separated path, creating missing objects on the way.
fn set(doc: &mut Value, path: &str, value: Value) {
    fn walk(doc: &mut Value, parts: &[&str], value: Value) {
        let (head, rest) = parts.split_first().expect("non-empty path");
        let slot = match doc {
            Value::Array(a) => &mut a[head.parse::<usize>().expect("array index")],
            Value::Object(o) => o.entry(head.to_string()).or_insert(Value::Null),
            other => panic!("cannot descend into {other}"),
        };
        if rest.is_empty() {
            *slot = value;
        } else {
            if slot.is_null() {
                *slot = json!({});
            }
            walk(slot, rest, value);
        }
    }
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    walk(doc, &parts, value);
}

fn seed_with(path: &str, value: Value) -> Value {
    let mut body = seed_create(CLIENT);
    set(&mut body, path, value);
    body
}

fn seed_without(field: &str) -> Value {
    let mut body = seed_create(CLIENT);
    body.as_object_mut().unwrap().remove(field).expect(field);
    body
}

async fn post(app: &TestApp, tx: &str, body: &Value) -> Resp {
    let t = app.token(CLIENT);
    app.post(ORDERS).bearer(&t).txid(tx).json(body).send().await
}

async fn put(app: &TestApp, id: &str, tx: &str, body: &Value) -> Resp {
    let t = app.token(CLIENT);
    app.put(&format!("{ORDERS}/{id}"))
        .bearer(&t)
        .txid(tx)
        .json(body)
        .send()
        .await
}

async fn get(app: &TestApp, id: &str) -> Resp {
    let t = app.token(CLIENT);
    app.get(&format!("{ORDERS}/{id}?clientId={CLIENT}"))
        .bearer(&t)
        .txid("get")
        .send()
        .await
}

async fn search_count(app: &TestApp, client: &str, fields: Value) -> u64 {
    let t = app.token(client);
    let body = json!({"clientId": client, "searchFields": fields});
    let r = app
        .post(&format!("{ORDERS}/search"))
        .bearer(&t)
        .txid("search")
        .json(&body)
        .send()
        .await
        .expect(StatusCode::OK);
    r.body["totalElements"].as_u64().unwrap()
}

/// Each case is sent as a create; each must be a 400 naming exactly its field.
async fn expect_each_rejected(app: &TestApp, cases: Vec<(&str, Value, &str)>) {
    for (i, (case, body, field)) in cases.into_iter().enumerate() {
        let r = post(app, &format!("bad-{i}"), &body).await;
        assert_eq!(
            r.status,
            StatusCode::BAD_REQUEST,
            "case {case}: expected 400, got {} {}",
            r.status,
            r.body
        );
        assert_eq!(
            r.error_fields(),
            vec![field.to_string()],
            "case {case}: wrong parameters in {}",
            r.body
        );
        assert_eq!(r.error_code(), "validation_error", "case {case}");
    }
    assert_eq!(
        search_count(app, CLIENT, json!([])).await,
        0,
        "a rejected create stored an order"
    );
}

both!(top_level_text_limits_are_enforced, |app| async move {
    expect_each_rejected(
        &app,
        vec![
            (
                "clientOrderId 51",
                seed_with("clientOrderId", s(51)),
                "clientOrderId",
            ),
            (
                "customerOrderId 51",
                seed_with("customerOrderId", s(51)),
                "customerOrderId",
            ),
            ("brand 51", seed_with("brand", s(51)), "brand"),
            (
                "references.name 51",
                seed_with("references", json!([{"name": s(51), "values": "v"}])),
                "references[0].name",
            ),
            (
                "references.values 256",
                seed_with("references", json!([{"name": "PO", "values": s(256)}])),
                "references[0].values",
            ),
            (
                "giftMessageText 1025",
                seed_with("giftMessageText", s(1025)),
                "giftMessageText",
            ),
            (
                "internalNotes 256",
                seed_with("internalNotes", s(256)),
                "internalNotes",
            ),
            (
                "importerCustomsReference 101",
                seed_with("customsInfo/importerCustomsReference", s(101)),
                "customsInfo.importerCustomsReference",
            ),
            (
                "importerCustomsReferenceType 51",
                seed_with("customsInfo/importerCustomsReferenceType", s(51)),
                "customsInfo.importerCustomsReferenceType",
            ),
        ],
    )
    .await;
});

both!(drop_ship_info_limits_are_enforced, |app| async move {
    expect_each_rejected(
        &app,
        vec![
            (
                "companyName 51",
                seed_with("dropShipInfo/companyName", s(51)),
                "dropShipInfo.companyName",
            ),
            (
                "address 101",
                seed_with("dropShipInfo/address", s(101)),
                "dropShipInfo.address",
            ),
            (
                "city 51",
                seed_with("dropShipInfo/city", s(51)),
                "dropShipInfo.city",
            ),
            (
                "state 51",
                seed_with("dropShipInfo/state", s(51)),
                "dropShipInfo.state",
            ),
            (
                "postalCode 21",
                seed_with("dropShipInfo/postalCode", s(21)),
                "dropShipInfo.postalCode",
            ),
        ],
    )
    .await;
});

both!(
    shipping_details_and_line_limits_are_enforced,
    |app| async move {
        expect_each_rejected(
            &app,
            vec![
                (
                    "carrier 51",
                    seed_with("inputShippingDetails/carrier", s(51)),
                    "inputShippingDetails.carrier",
                ),
                (
                    "serviceId 51",
                    seed_with("inputShippingDetails/serviceId", s(51)),
                    "inputShippingDetails.serviceId",
                ),
                (
                    "serviceName 65",
                    seed_with("inputShippingDetails/serviceName", s(65)),
                    "inputShippingDetails.serviceName",
                ),
                (
                    "trackingNumber 51",
                    seed_with("inputShippingDetails/trackingNumber", s(51)),
                    "inputShippingDetails.trackingNumber",
                ),
                (
                    "sku 61",
                    seed_with("orderLines/0/sku", s(61)),
                    "orderLines[0].sku",
                ),
                (
                    "hSTariffCode 15",
                    seed_with("orderLines/0/hSTariffCode", s(15)),
                    "orderLines[0].hSTariffCode",
                ),
            ],
        )
        .await;
    }
);

both!(address_limits_are_enforced, |app| async move {
    let four_lines = json!(["1 Main St", "Suite 2", "Floor 3", "Door 4"]);
    expect_each_rejected(
        &app,
        vec![
            (
                "name 101",
                seed_with("toAddress/name", s(101)),
                "toAddress.name",
            ),
            (
                "company 51",
                seed_with("toAddress/company", s(51)),
                "toAddress.company",
            ),
            (
                "phone 26",
                seed_with("toAddress/phone", s(26)),
                "toAddress.phone",
            ),
            (
                "email 71",
                seed_with("toAddress/email", s(71)),
                "toAddress.email",
            ),
            (
                "cityTown 51",
                seed_with("toAddress/cityTown", s(51)),
                "toAddress.cityTown",
            ),
            (
                "stateProvince 51",
                seed_with("toAddress/stateProvince", s(51)),
                "toAddress.stateProvince",
            ),
            (
                "postalCode 21",
                seed_with("toAddress/postalCode", s(21)),
                "toAddress.postalCode",
            ),
            (
                "countryCode USA",
                seed_with("toAddress/countryCode", json!("USA")),
                "toAddress.countryCode",
            ),
            (
                "countryCode U1",
                seed_with("toAddress/countryCode", json!("U1")),
                "toAddress.countryCode",
            ),
            (
                "countryCode U",
                seed_with("toAddress/countryCode", json!("U")),
                "toAddress.countryCode",
            ),
            (
                "4 address lines",
                seed_with("toAddress/addressLines", four_lines.clone()),
                "toAddress.addressLines",
            ),
            (
                "address line 101",
                seed_with("toAddress/addressLines", json!([s(101)])),
                "toAddress.addressLines[0]",
            ),
            (
                "billing name 101",
                seed_with("billingAddress/name", s(101)),
                "billingAddress.name",
            ),
            (
                "billing countryCode",
                seed_with("billingAddress/countryCode", json!("USA")),
                "billingAddress.countryCode",
            ),
            (
                "billing 4 address lines",
                seed_with("billingAddress/addressLines", four_lines),
                "billingAddress.addressLines",
            ),
        ],
    )
    .await;
});

both!(enums_outside_their_values_are_rejected, |app| async move {
    expect_each_rejected(
        &app,
        vec![
            (
                "orderType Wholesale",
                seed_with("orderType", json!("Wholesale")),
                "orderType",
            ),
            (
                "orderType number",
                seed_with("orderType", json!(1)),
                "orderType",
            ),
            (
                "orderHandling Z",
                seed_with("orderHandling", json!("Z")),
                "orderHandling",
            ),
            (
                "orderHandling word",
                seed_with("orderHandling", json!("Normal")),
                "orderHandling",
            ),
        ],
    )
    .await;
});

both!(invalid_dates_are_rejected, |app| async move {
    expect_each_rejected(
        &app,
        vec![
            (
                "createDate words",
                seed_with("createDate", json!("yesterday")),
                "createDate",
            ),
            (
                "createDate month 13",
                seed_with("createDate", json!("2022-13-01T00:00:00Z")),
                "createDate",
            ),
            (
                "createDate offset and Z",
                seed_with("createDate", json!("2022-02-07T14:33:27-07:00Z")),
                "createDate",
            ),
            (
                "updateDate garbage",
                seed_with("updateDate", json!("not-a-date")),
                "updateDate",
            ),
            (
                "shipOnDate Feb 30",
                seed_with("shipOnDate", json!("2022-02-30T01:20:00Z")),
                "shipOnDate",
            ),
            (
                "fulfillmentReleaseDate number",
                seed_with("fulfillmentReleaseDate", json!(20220209)),
                "fulfillmentReleaseDate",
            ),
            (
                "promisedDeliveryDate no T",
                seed_with("promisedDeliveryDate", json!("2022-02-10 01:20")),
                "promisedDeliveryDate",
            ),
        ],
    )
    .await;
});

both!(
    negative_and_over_precise_amounts_are_rejected,
    |app| async move {
        expect_each_rejected(
            &app,
            vec![
                (
                    "negative unitPrice",
                    seed_with("orderLines/0/unitPrice", num("-10")),
                    "orderLines[0].unitPrice",
                ),
                (
                    "negative quantity",
                    seed_with("orderLines/0/orderedQuantity", num("-5")),
                    "orderLines[0].orderedQuantity",
                ),
                (
                    "fractional quantity",
                    seed_with("orderLines/0/orderedQuantity", num("1.5")),
                    "orderLines[0].orderedQuantity",
                ),
                (
                    "negative lineTotal",
                    seed_with("orderLines/0/lineTotal", num("-50")),
                    "orderLines[0].lineTotal",
                ),
                (
                    "5 decimals unitPrice",
                    seed_with("orderLines/0/unitPrice", num("10.12345")),
                    "orderLines[0].unitPrice",
                ),
                (
                    "negative shippingAmount",
                    seed_with("orderCharges/shippingAmount", num("-0.01")),
                    "orderCharges.shippingAmount",
                ),
                (
                    "5 decimals totalOrderAmount",
                    seed_with("orderCharges/totalOrderAmount", num("160.00001")),
                    "orderCharges.totalOrderAmount",
                ),
                (
                    "negative customsDeclaredValue",
                    seed_with("customsInfo/customsDeclaredValue", num("-1")),
                    "customsInfo.customsDeclaredValue",
                ),
            ],
        )
        .await;
    }
);

both!(an_order_has_one_to_a_thousand_lines, |app| async move {
    let line = seed_create(CLIENT)["orderLines"][0].clone();
    let lines = |n: usize| -> Value {
        (0..n)
            .map(|i| {
                let mut l = line.clone();
                l["lineId"] = json!(i + 1);
                l["sku"] = json!(format!("SKU-{i}"));
                l
            })
            .collect()
    };
    expect_each_rejected(
        &app,
        vec![
            ("no lines", seed_with("orderLines", json!([])), "orderLines"),
            (
                "1001 lines",
                seed_with("orderLines", lines(1001)),
                "orderLines",
            ),
        ],
    )
    .await;
    let r = post(&app, "thousand", &seed_with("orderLines", lines(1000)))
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(r.body["orderLines"].as_array().unwrap().len(), 1000);
    assert_eq!(r.body["orderLines"][999]["sku"], "SKU-999");
});

both!(missing_required_fields_are_named, |app| async move {
    let mut no_sku = seed_create(CLIENT);
    no_sku["orderLines"][0]
        .as_object_mut()
        .unwrap()
        .remove("sku");
    let mut no_qty = seed_create(CLIENT);
    no_qty["orderLines"][0]
        .as_object_mut()
        .unwrap()
        .remove("orderedQuantity");
    let mut no_carrier = seed_create(CLIENT);
    no_carrier["inputShippingDetails"]
        .as_object_mut()
        .unwrap()
        .remove("carrier");
    expect_each_rejected(
        &app,
        vec![
            ("clientId", seed_without("clientId"), "clientId"),
            (
                "clientOrderId",
                seed_without("clientOrderId"),
                "clientOrderId",
            ),
            (
                "inputShippingDetails",
                seed_without("inputShippingDetails"),
                "inputShippingDetails",
            ),
            ("createDate", seed_without("createDate"), "createDate"),
            ("orderLines", seed_without("orderLines"), "orderLines"),
            ("toAddress", seed_without("toAddress"), "toAddress"),
            ("line sku", no_sku, "orderLines[0].sku"),
            ("line quantity", no_qty, "orderLines[0].orderedQuantity"),
            ("carrier", no_carrier, "inputShippingDetails.carrier"),
        ],
    )
    .await;
});

both!(every_problem_is_reported_at_once, |app| async move {
    let mut body = seed_with("brand", s(51));
    set(&mut body, "orderLines/0/sku", s(61));
    set(&mut body, "toAddress/countryCode", json!("USA"));
    let r = post(&app, "many", &body)
        .await
        .expect(StatusCode::BAD_REQUEST);
    let mut fields = r.error_fields();
    fields.sort();
    assert_eq!(
        fields,
        ["brand", "orderLines[0].sku", "toAddress.countryCode"]
    );
    assert_eq!(r.body["errors"].as_array().unwrap().len(), 3);
});

both!(unknown_top_level_fields_are_named, |app| async move {
    expect_each_rejected(
        &app,
        vec![
            ("foo", seed_with("foo", json!(1)), "foo"),
            (
                "SendPro360 orderNumber",
                seed_with("orderNumber", json!("N-1")),
                "orderNumber",
            ),
            (
                "SendPro360 items",
                seed_with("items", json!([{"itemId": "A", "quantity": 1}])),
                "items",
            ),
            (
                "SendPro360 addressLine1 in an address",
                seed_with("toAddress/addressLine1", json!("1 Main St")),
                "toAddress.addressLine1",
            ),
        ],
    )
    .await;

    let id = post(&app, "ok", &seed_create(CLIENT))
        .await
        .expect(StatusCode::CREATED)
        .body["orderId"]
        .as_str()
        .unwrap()
        .to_string();
    let mut replace = seed_replace(CLIENT);
    replace["isAdmin"] = json!(true);
    let r = put(&app, &id, "put", &replace)
        .await
        .expect(StatusCode::BAD_REQUEST);
    assert_eq!(r.error_fields(), ["isAdmin"]);
});

both!(
    values_at_exactly_the_maximum_are_accepted,
    |app| async move {
        let mut body = seed_create(CLIENT);
        let at_max = [
            ("clientOrderId", 50),
            ("customerOrderId", 50),
            ("giftMessageText", 1024),
            ("internalNotes", 255),
            ("customsInfo/importerCustomsReference", 100),
            ("customsInfo/importerCustomsReferenceType", 50),
            ("dropShipInfo/companyName", 50),
            ("dropShipInfo/address", 100),
            ("dropShipInfo/city", 50),
            ("dropShipInfo/state", 50),
            ("dropShipInfo/postalCode", 20),
            ("inputShippingDetails/carrier", 50),
            ("inputShippingDetails/serviceId", 50),
            ("inputShippingDetails/serviceName", 64),
            ("inputShippingDetails/trackingNumber", 50),
            ("orderLines/0/sku", 60),
            ("orderLines/0/hSTariffCode", 14),
            ("toAddress/name", 100),
            ("toAddress/company", 50),
            ("toAddress/phone", 25),
            ("toAddress/email", 70),
            ("toAddress/cityTown", 50),
            ("toAddress/stateProvince", 50),
            ("toAddress/postalCode", 20),
        ];
        for (path, n) in at_max {
            set(&mut body, path, s(n));
        }
        // Limits count characters, not bytes.
        set(&mut body, "brand", json!("é".repeat(50)));
        set(
            &mut body,
            "references",
            json!([{"name": s(50), "values": s(255)}]),
        );
        set(
            &mut body,
            "toAddress/addressLines",
            json!([s(100), s(100), s(100)]),
        );
        set(&mut body, "orderLines/0/unitPrice", num("10.1234"));
        set(&mut body, "orderLines/0/lineTotal", num("50.6170"));

        let r = post(&app, "max", &body).await.expect(StatusCode::CREATED);
        let id = r.body["orderId"].as_str().unwrap().to_string();
        let got = get(&app, &id).await.expect(StatusCode::OK);
        for (path, n) in at_max {
            let pointer = format!("/{path}");
            assert_eq!(
                got.body.pointer(&pointer),
                Some(&s(n)),
                "{path} was not stored as sent"
            );
        }
        assert_eq!(got.body["brand"], json!("é".repeat(50)));
        assert_eq!(got.body["references"][0]["values"], s(255));
        assert_eq!(
            got.body["toAddress"]["addressLines"]
                .as_array()
                .unwrap()
                .len(),
            3
        );
        assert_eq!(
            dec(&got.body["orderLines"][0]["unitPrice"]),
            dec(&num("10.1234"))
        );
    }
);

both!(a_rejected_request_changes_nothing, |app| async move {
    let mut bad = order_numbered(CLIENT, "REJECTED-1");
    bad["brand"] = s(51);
    post(&app, "tx-reused", &bad)
        .await
        .expect(StatusCode::BAD_REQUEST);
    let by_number = json!([{"name": "orders", "values": ["REJECTED-1"]}]);
    assert_eq!(search_count(&app, CLIENT, by_number.clone()).await, 0);
    assert_eq!(search_count(&app, CLIENT, json!([])).await, 0);

    // The refused request left no idempotency record behind: the same transaction id with a
    // corrected body creates the order.
    bad["brand"] = json!("Brand-A");
    let created = post(&app, "tx-reused", &bad)
        .await
        .expect(StatusCode::CREATED);
    assert!(created.header("idempotent-replayed").is_none());
    assert_eq!(search_count(&app, CLIENT, by_number).await, 1);

    // A refused replace leaves the order as it was.
    let id = created.body["orderId"].as_str().unwrap().to_string();
    let before = get(&app, &id).await.expect(StatusCode::OK);
    let mut replace = seed_replace(CLIENT);
    replace["orderLines"][0]["unitPrice"] = num("-1");
    put(&app, &id, "put-bad", &replace)
        .await
        .expect(StatusCode::BAD_REQUEST);
    let after = get(&app, &id).await.expect(StatusCode::OK);
    assert_eq!(before.body, after.body);
    let stored = app.store.get(CLIENT, &id).await.unwrap().unwrap();
    assert_eq!(stored.version, 1);
});

both!(
    shipping_details_is_an_alias_returned_under_both_names,
    |app| async move {
        let mut body = seed_create(CLIENT);
        let details = body
            .as_object_mut()
            .unwrap()
            .remove("inputShippingDetails")
            .unwrap();
        body["shippingDetails"] = details.clone();
        let r = post(&app, "alias", &body).await.expect(StatusCode::CREATED);
        assert_eq!(r.body["inputShippingDetails"], details);
        assert_eq!(r.body["shippingDetails"], details);
        let id = r.body["orderId"].as_str().unwrap().to_string();
        let got = get(&app, &id).await.expect(StatusCode::OK);
        assert_eq!(got.body["inputShippingDetails"], details);
        assert_eq!(got.body["shippingDetails"], details);

        // Replace with the primary name (seed 001 uses the alias): both names again.
        let mut replace = seed_replace(CLIENT);
        let new_details = replace
            .as_object_mut()
            .unwrap()
            .remove("shippingDetails")
            .unwrap();
        replace["inputShippingDetails"] = new_details.clone();
        let r = put(&app, &id, "alias-put", &replace)
            .await
            .expect(StatusCode::OK);
        assert_eq!(r.body["inputShippingDetails"], new_details);
        assert_eq!(r.body["shippingDetails"], new_details);

        // Both names with the same content are accepted too.
        let mut both_names = order_numbered(CLIENT, "BOTH-1");
        both_names["shippingDetails"] = both_names["inputShippingDetails"].clone();
        post(&app, "alias-both", &both_names)
            .await
            .expect(StatusCode::CREATED);

        // Both names with different content: the primary name wins, the alias is not stored.
        let mut differ = order_numbered(CLIENT, "BOTH-2");
        differ["shippingDetails"] = json!({"carrier": "FEDEX", "serviceId": "GROUND"});
        let primary = differ["inputShippingDetails"].clone();
        assert_ne!(primary, differ["shippingDetails"]);
        let r = post(&app, "alias-differ", &differ)
            .await
            .expect(StatusCode::CREATED);
        let id = r.body["orderId"].as_str().unwrap().to_string();
        let got = get(&app, &id).await.expect(StatusCode::OK);
        assert_eq!(got.body["inputShippingDetails"], primary);
        assert_eq!(got.body["shippingDetails"], primary);
    }
);

both!(response_only_fields_are_ignored, |app| async move {
    let fake_id = "ORA0000000000000000042US";
    let response_only = [
        ("orderId", json!(fake_id)),
        ("status", json!("SHIPPED")),
        ("pbCreateDate", json!("2000-01-01T00:00:00Z")),
        ("pbUpdateDate", json!("2000-01-02T00:00:00Z")),
        ("isOnHold", json!(true)),
        ("holdReason", json!(["FRAUD"])),
        (
            "actualShippingDetails",
            json!({"carrier": "UPS", "serviceId": "GND"}),
        ),
    ];
    let mut body = seed_create(CLIENT);
    for (k, v) in &response_only {
        body[*k] = v.clone();
    }
    let r = post(&app, "ro", &body).await.expect(StatusCode::CREATED);
    let check = |b: &Value, id: &str| {
        assert_eq!(b["orderId"], id);
        assert_eq!(b["status"], "RECEIVED");
        assert_eq!(b["isOnHold"], false);
        assert!(b.get("holdReason").is_none_or(|h| h == &json!([])), "{b}");
        assert!(b.get("actualShippingDetails").is_none(), "{b}");
        for k in ["pbCreateDate", "pbUpdateDate"] {
            let d = b[k].as_str().unwrap();
            assert!(
                !d.starts_with("2000-"),
                "{k} was taken from the client: {d}"
            );
        }
    };
    let id = r.body["orderId"].as_str().unwrap().to_string();
    assert_ne!(id, fake_id);
    check(&r.body, &id);
    assert!(app.store.get(CLIENT, fake_id).await.unwrap().is_none());

    // The same on replace: the path names the order, and the server state stays.
    let mut replace = seed_replace(CLIENT);
    for (k, v) in &response_only {
        replace[*k] = v.clone();
    }
    let r = put(&app, &id, "ro-put", &replace)
        .await
        .expect(StatusCode::OK);
    check(&r.body, &id);
    assert_eq!(r.body["clientOrderId"], "1643749029194");
    let stored = app.store.get(CLIENT, &id).await.unwrap().unwrap();
    assert_eq!(stored.status.as_str(), "RECEIVED");
    assert!(stored.content.actual_shipping_details.is_none());
});

both!(
    missing_line_total_is_unit_price_times_quantity,
    |app| async move {
        let mut body = seed_create(CLIENT);
        let mut second = body["orderLines"][0].clone();
        second["lineId"] = json!(2);
        second["sku"] = json!("0001-0002");
        second["unitPrice"] = num("0.1");
        second["orderedQuantity"] = json!(3);
        second.as_object_mut().unwrap().remove("lineTotal");
        let mut third = second.clone();
        third["lineId"] = json!(3);
        third["sku"] = json!("0001-0003");
        third["unitPrice"] = num("2.5");
        third["orderedQuantity"] = json!(7);
        body["orderLines"] = json!([body["orderLines"][0].clone(), second, third]);
        // The first line's lineTotal is kept as sent, even where it disagrees.
        body["orderLines"][0]["lineTotal"] = num("49");

        let r = post(&app, "totals", &body)
            .await
            .expect(StatusCode::CREATED);
        let lines = &r.body["orderLines"];
        assert_eq!(dec(&lines[0]["lineTotal"]), dec(&num("49")));
        assert_eq!(dec(&lines[1]["lineTotal"]), dec(&num("0.3")));
        assert_eq!(dec(&lines[2]["lineTotal"]), dec(&num("17.5")));
        let id = r.body["orderId"].as_str().unwrap().to_string();
        let got = get(&app, &id).await.expect(StatusCode::OK);
        assert_eq!(got.body["orderLines"], r.body["orderLines"]);
    }
);

both!(
    client_order_id_is_unique_per_client_only,
    |app| async move {
        post(&app, "dup-1", &order_numbered(CLIENT, "DUP-1"))
            .await
            .expect(StatusCode::CREATED);
        let r = post(&app, "dup-2", &order_numbered(CLIENT, "DUP-1"))
            .await
            .expect(StatusCode::CONFLICT);
        assert_eq!(r.error_code(), "duplicate_order");
        let only_one = json!([{"name": "clientOrderId", "values": ["DUP-1"]}]);
        assert_eq!(search_count(&app, CLIENT, only_one.clone()).await, 1);

        let other = app.token("OTHER");
        app.post(ORDERS)
            .bearer(&other)
            .txid("dup-3")
            .json(&order_numbered("OTHER", "DUP-1"))
            .send()
            .await
            .expect(StatusCode::CREATED);
        assert_eq!(search_count(&app, "OTHER", only_one.clone()).await, 1);
        assert_eq!(search_count(&app, CLIENT, only_one).await, 1);

        // A replace cannot take another live order's client order id either.
        let second = post(&app, "dup-4", &order_numbered(CLIENT, "DUP-2"))
            .await
            .expect(StatusCode::CREATED);
        let id = second.body["orderId"].as_str().unwrap().to_string();
        let mut replace = seed_replace(CLIENT);
        replace["clientOrderId"] = json!("DUP-1");
        let r = put(&app, &id, "dup-5", &replace)
            .await
            .expect(StatusCode::CONFLICT);
        assert_eq!(r.error_code(), "duplicate_order");
        assert_eq!(
            get(&app, &id).await.expect(StatusCode::OK).body["clientOrderId"],
            "DUP-2"
        );
    }
);
