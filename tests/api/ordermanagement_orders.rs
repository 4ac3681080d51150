//! SendPro360 Order Management orders end to end (pb-api-research.md §1, api-notes.md): create,
//! get, partial update (JSON merge patch, If-Match), delete, item removal, and concurrent
//! updates. On SQLite and PostgreSQL.

use std::collections::BTreeSet;

use crate::common;
use crate::common::sendpro_fixtures::*;
use axum::http::StatusCode;
use serde_json::{Value, json};

const FULFILLMENT: &str = "/shippingservices/fulfillment/v1/orders";
const CLIENT: &str = "c1";

fn orders() -> String {
    format!("{OM}/orders")
}

fn order(id: &str) -> String {
    format!("{OM}/orders/{id}")
}

fn without(mut body: Value, field: &str) -> Value {
    body.as_object_mut().unwrap().remove(field);
    body
}

fn is_iso_utc(text: &Value) -> bool {
    text.as_str()
        .is_some_and(|t| chrono::DateTime::parse_from_rfc3339(t).is_ok() && t.ends_with('Z'))
}

both!(create_sample_and_get_return_every_field, |app| async move {
    let t = app.token(CLIENT);
    let sent = sendpro_create("ORD123456");
    let r = app
        .post(&orders())
        .bearer(&t)
        .json(&sent)
        .send()
        .await
        .expect(StatusCode::OK);
    let id = r.body["orderId"].as_str().unwrap().to_string();
    assert!(
        id.len() == 12 && id.starts_with("PB") && id.chars().all(|c| c.is_ascii_alphanumeric()),
        "{id}"
    );
    assert_eq!(r.body["orderNumber"], "ORD123456");
    assert_eq!(r.body["status"], "Created");
    assert!(is_iso_utc(&r.body["transactionCreateDate"]), "{}", r.body);
    assert_eq!(r.header("etag"), Some("\"1\""));

    let got = om_get(&app, &t, &id).await;
    assert_eq!(got.header("etag"), Some("\"1\""));
    let info = &got.body["orderInfo"];
    let ship = &got.body["orderShippingInfo"];
    let keys = |v: &Value| -> BTreeSet<String> { v.as_object().unwrap().keys().cloned().collect() };
    assert_eq!(
        keys(&got.body),
        ["orderInfo", "orderShippingInfo"].map(String::from).into()
    );
    assert_eq!(
        keys(info),
        [
            "orderId",
            "orderNumber",
            "status",
            "orderCreateDate",
            "orderUpdateDate",
            "sourceFlowType",
            "createdBy",
            "customerInfo",
            "orderMessage",
            "items",
            "charges",
            "metadata",
            "tagIds"
        ]
        .map(String::from)
        .into()
    );
    assert_eq!(
        keys(ship),
        [
            "fromAddress",
            "toAddress",
            "additionalAddresses",
            "shippingReference",
            "shippingPreferences"
        ]
        .map(String::from)
        .into()
    );
    assert_eq!(info["orderId"], id.as_str());
    assert_eq!(info["orderNumber"], "ORD123456");
    assert_eq!(info["status"], "UNFULFILLED");
    assert_eq!(info["orderCreateDate"], r.body["transactionCreateDate"]);
    assert_eq!(info["orderUpdateDate"], info["orderCreateDate"]);
    assert!(is_iso_utc(&info["orderCreateDate"]));
    assert_eq!(info["sourceFlowType"], "API");
    assert_eq!(info["createdBy"], CLIENT);
    assert_eq!(info["tagIds"], json!([]));
    // Every SendPro360 field comes back exactly as sent.
    for field in [
        "customerInfo",
        "orderMessage",
        "items",
        "charges",
        "metadata",
    ] {
        assert_eq!(info[field], sent[field], "orderInfo.{field}");
    }
    for field in [
        "fromAddress",
        "toAddress",
        "additionalAddresses",
        "shippingReference",
        "shippingPreferences",
    ] {
        assert_eq!(ship[field], sent[field], "orderShippingInfo.{field}");
    }
});

both!(create_is_idempotent_with_either_header, |app| async move {
    let t = app.token(CLIENT);
    let body = sendpro_create("IDEM-1");
    let key = "key-0001";
    let first = app
        .post(&orders())
        .bearer(&t)
        .header("idempotency-key", key)
        .json(&body)
        .send()
        .await
        .expect(StatusCode::OK);
    let again = app
        .post(&orders())
        .bearer(&t)
        .header("idempotency-key", key)
        .json(&body)
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(again.body["orderId"], first.body["orderId"]);
    assert_eq!(again.body, first.body);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(first.header("idempotent-replayed"), None);

    // The same key with a different body is refused and stores nothing.
    let other = sendpro_create("IDEM-2");
    let r = app
        .post(&orders())
        .bearer(&t)
        .header("idempotency-key", key)
        .json(&other)
        .send()
        .await
        .expect(StatusCode::CONFLICT);
    assert_eq!(r.error_code(), "idempotency_conflict");

    // X-PB-TransactionId works the same way on this surface.
    let tx1 = app
        .post(&orders())
        .bearer(&t)
        .txid("tx-om-1")
        .json(&other)
        .send()
        .await
        .expect(StatusCode::OK);
    let tx2 = app
        .post(&orders())
        .bearer(&t)
        .txid("tx-om-1")
        .json(&other)
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(tx1.body["orderId"], tx2.body["orderId"]);
    assert_ne!(tx1.body["orderId"], first.body["orderId"]);

    let all = om_search(&app, &t, &json!({"filters": []}))
        .await
        .expect(StatusCode::OK);
    assert_eq!(all.body["totalElements"], 2, "{}", all.body);

    // Without a key, the same body twice is a duplicate order number.
    let dup = app
        .post(&orders())
        .bearer(&t)
        .json(&body)
        .send()
        .await
        .expect(StatusCode::CONFLICT);
    assert_eq!(dup.error_code(), "duplicate_order");
    assert!(dup.body["message"].is_string() && dup.body.get("errors").is_none());
});

both!(
    create_refuses_each_missing_required_field,
    |app| async move {
        let t = app.token(CLIENT);
        for field in ["orderNumber", "fromAddress", "toAddress", "items"] {
            let r = app
                .post(&orders())
                .bearer(&t)
                .json(&without(sendpro_create("REQ-1"), field))
                .send()
                .await;
            assert_names_field(&r, field);
        }
        let mut empty_items = sendpro_create("REQ-1");
        empty_items["items"] = json!([]);
        let r = app
            .post(&orders())
            .bearer(&t)
            .json(&empty_items)
            .send()
            .await;
        assert_names_field(&r, "items");
        let all = om_search(&app, &t, &json!({})).await.expect(StatusCode::OK);
        assert_eq!(all.body["totalElements"], 0, "nothing was stored");
    }
);

both!(create_refuses_unknown_fields_and_limits, |app| async move {
    let t = app.token(CLIENT);
    type Edit = fn(&mut Value);
    let cases: Vec<(&str, Edit)> = vec![
        ("orderNumber", |b| b["orderNumber"] = json!("x".repeat(51))),
        ("orderNumber", |b| b["orderNumber"] = json!("")),
        ("items[0].itemId", |b| {
            b["items"][0].as_object_mut().unwrap().remove("itemId");
        }),
        ("items[1].quantity", |b| {
            b["items"][1]["quantity"] = json!(0)
        }),
        ("items[0].quantity", |b| {
            b["items"][0].as_object_mut().unwrap().remove("quantity");
        }),
        ("items[0].unitPrice", |b| {
            b["items"][0]["unitPrice"] = json!(-1)
        }),
        ("items[0].itemId", |b| {
            b["items"][0]["itemId"] = json!("x".repeat(61))
        }),
        ("toAddress.addressLine1", |b| {
            let a = b["toAddress"].as_object_mut().unwrap();
            for line in ["addressLine1", "addressLine2", "addressLine3"] {
                a.remove(line);
            }
        }),
        ("fromAddress.addressLine1", |b| {
            let a = b["fromAddress"].as_object_mut().unwrap();
            for line in ["addressLine1", "addressLine2", "addressLine3"] {
                a.remove(line);
            }
        }),
        ("toAddress.addressLine2", |b| {
            b["toAddress"]["addressLine2"] = json!("x".repeat(101))
        }),
        ("toAddress.countryCode", |b| {
            b["toAddress"]["countryCode"] = json!("CAN")
        }),
        ("charges.currency", |b| {
            b["charges"]["currency"] = json!("usd")
        }),
        ("charges.subTotal", |b| b["charges"]["subTotal"] = json!(-5)),
        ("customerInfo.customerId", |b| {
            b["customerInfo"]["customerId"] = json!("x".repeat(51))
        }),
        ("orderMessage.message", |b| {
            b["orderMessage"]["message"] = json!("x".repeat(1025))
        }),
    ];
    for (field, edit) in cases {
        let mut body = sendpro_create("LIM-1");
        edit(&mut body);
        let r = app.post(&orders()).bearer(&t).json(&body).send().await;
        assert_names_field(&r, field);
    }
    let all = om_search(&app, &t, &json!({})).await.expect(StatusCode::OK);
    assert_eq!(all.body["totalElements"], 0, "nothing was stored");

    // The limits themselves are accepted.
    let mut body = sendpro_create(&"N".repeat(50));
    body["items"][0]["itemId"] = json!("S".repeat(60));
    let id = om_create_body(&app, &t, &body).await;
    let got = om_get(&app, &t, &id).await;
    assert_eq!(got.body["orderInfo"]["orderNumber"], "N".repeat(50));
    assert_eq!(got.body["orderInfo"]["items"][0]["itemId"], "S".repeat(60));
});

/// `value` with `key` inserted first (where key order is kept) and last.
fn with_key_first_and_last(value: &Value, key: &str, extra: Value) -> [Value; 2] {
    let mut first = serde_json::Map::new();
    first.insert(key.to_string(), extra.clone());
    for (k, v) in value.as_object().unwrap() {
        first.insert(k.clone(), v.clone());
    }
    let mut last = value.clone();
    last[key] = extra;
    [Value::Object(first), last]
}

both!(unknown_fields_are_refused_and_named, |app| async move {
    let t = app.token(CLIENT);
    let sample = sendpro_create("UNK-1");
    let mut cases: Vec<(String, Value)> = Vec::new();
    for (field, extra) in [("bogus", json!(1)), ("clientOrderId", json!("X"))] {
        for body in with_key_first_and_last(&sample, field, extra) {
            cases.push((field.to_string(), body));
        }
    }
    for (field, key, extra) in [
        ("toAddress.addressLines", "toAddress", json!(["1 Main St"])),
        ("charges.orderCurrency", "charges", json!("USD")),
    ] {
        let inner = field.split('.').nth(1).unwrap();
        for nested in with_key_first_and_last(&sample[key], inner, extra) {
            let mut body = sample.clone();
            body[key] = nested;
            cases.push((field.to_string(), body));
        }
    }
    let mut body = sample.clone();
    body["items"][0]["sku"] = json!("A");
    cases.push(("items[0].sku".to_string(), body));
    for (field, body) in &cases {
        let r = app.post(&orders()).bearer(&t).json(body).send().await;
        assert_names_field(&r, field);
        assert_eq!(
            om_error_fields(&r),
            [field.as_str()],
            "exactly the unknown field"
        );
    }
    let all = om_search(&app, &t, &json!({})).await.expect(StatusCode::OK);
    assert_eq!(all.body["totalElements"], 0, "nothing was stored");

    let id = om_create(&app, &t, "UNK-2").await;
    let before = om_get(&app, &t, &id).await;
    let mut patches = vec![("bogus", json!({"bogus": 1}))];
    for nested in with_key_first_and_last(&sample["toAddress"], "bogus", json!("x")) {
        patches.push(("toAddress.bogus", json!({"toAddress": nested})));
    }
    patches.push((
        "items[0].sku",
        // With its itemId: a 400 names every problem, and an item without one has two.
        json!({"items": [{"itemId": "SKU1", "sku": "A", "quantity": 1}]}),
    ));
    patches.push((
        "toAddress.addressLines",
        json!({"toAddress": {"addressLines": ["1 Main St"]}}),
    ));
    for (field, patch) in patches {
        let r = om_patch(&app, &t, &id, &patch).await;
        assert_names_field(&r, field);
        assert_eq!(om_error_fields(&r), [field], "exactly the unknown field");
    }
    assert_eq!(om_get(&app, &t, &id).await.body, before.body);
});

both!(
    patch_absent_keeps_null_clears_value_sets,
    |app| async move {
        let t = app.token(CLIENT);
        let id = om_create(&app, &t, "PATCH-1").await;
        let before = om_get(&app, &t, &id).await.body;

        let r = om_patch(
            &app,
            &t,
            &id,
            &json!({"orderMessage": {"message": "Thanks!"}}),
        )
        .await
        .expect(StatusCode::OK);
        assert_eq!(r.body["orderId"], id.as_str());
        assert_eq!(r.body["orderNumber"], "PATCH-1");
        assert_eq!(r.body["status"], "Updated");
        assert!(is_iso_utc(&r.body["transactionCreateDate"]), "{}", r.body);
        assert_eq!(r.header("etag"), Some("\"2\""));

        let after = om_get(&app, &t, &id).await;
        assert_eq!(after.header("etag"), Some("\"2\""));
        let (b, a) = (&before["orderInfo"], &after.body["orderInfo"]);
        assert_eq!(
            a["orderMessage"],
            json!({"type": "GIFT", "message": "Thanks!"}),
            "nested objects merge"
        );
        for field in [
            "orderNumber",
            "customerInfo",
            "items",
            "charges",
            "metadata",
            "orderCreateDate",
            "status",
            "tagIds",
        ] {
            assert_eq!(a[field], b[field], "absent {field} is unchanged");
        }
        assert_eq!(
            after.body["orderShippingInfo"], before["orderShippingInfo"],
            "absent shipping info is unchanged"
        );
        assert!(
            a["orderUpdateDate"].as_str().unwrap() >= b["orderUpdateDate"].as_str().unwrap(),
            "orderUpdateDate does not go back (whole seconds): {} -> {}",
            b["orderUpdateDate"],
            a["orderUpdateDate"]
        );

        // null clears optional fields, at the top level and inside objects.
        om_patch(
            &app,
            &t,
            &id,
            &json!({
                "shippingReference": null,
                "metadata": null,
                "additionalAddresses": null,
                "customerInfo": {"email": null},
                "shippingPreferences": {"parcel": null, "service": "GND"}
            }),
        )
        .await
        .expect(StatusCode::OK);
        let got = om_get(&app, &t, &id).await;
        assert_eq!(got.header("etag"), Some("\"3\""));
        let info = &got.body["orderInfo"];
        let ship = &got.body["orderShippingInfo"];
        assert!(ship.get("shippingReference").is_none(), "{ship}");
        assert!(ship.get("additionalAddresses").is_none(), "{ship}");
        assert!(info.get("metadata").is_none(), "{info}");
        assert_eq!(
            info["customerInfo"],
            json!({"firstName": "John", "lastName": "Doe", "customerId": "CUST12345"})
        );
        let mut prefs = sendpro_create("x")["shippingPreferences"].clone();
        prefs.as_object_mut().unwrap().remove("parcel");
        prefs["service"] = json!("GND");
        assert_eq!(ship["shippingPreferences"], prefs);
        assert_eq!(ship["toAddress"], before["orderShippingInfo"]["toAddress"]);

        // Values set, including the order number and the financials (merged).
        let r = om_patch(
            &app,
            &t,
            &id,
            &json!({"orderNumber": "PATCH-1b", "charges": {"gmv": 120.5, "paymentType": "Cash"}}),
        )
        .await
        .expect(StatusCode::OK);
        assert_eq!(r.body["orderNumber"], "PATCH-1b");
        let got = om_get(&app, &t, &id).await;
        let info = &got.body["orderInfo"];
        assert_eq!(info["orderNumber"], "PATCH-1b");
        let c = &info["charges"];
        assert_eq!(c["currency"], "USD");
        assert_eq!(c["billingStatus"], "Paid");
        assert_eq!(c["paymentType"], "Cash");
        assert_eq!(dec(&c["gmv"]), "120.5".parse().unwrap());
        assert_eq!(dec(&c["subTotal"]), 90.into());
        assert_eq!(dec(&c["totalPaid"]), 100.into());

        // A null charges clears them all.
        om_patch(&app, &t, &id, &json!({"charges": null}))
            .await
            .expect(StatusCode::OK);
        let got = om_get(&app, &t, &id).await;
        assert!(
            got.body["orderInfo"].get("charges").is_none(),
            "{}",
            got.body
        );
        assert_eq!(got.header("etag"), Some("\"5\""));
    }
);

both!(
    patch_merges_addresses_and_replaces_items,
    |app| async move {
        let t = app.token(CLIENT);
        let id = om_create(&app, &t, "PATCH-2").await;
        let sent = sendpro_create("PATCH-2");

        om_patch(
            &app,
            &t,
            &id,
            &json!({
                "toAddress": {"addressLine2": "Suite 900", "cityTown": "Burnaby"},
                "fromAddress": {"company": "New Co"}
            }),
        )
        .await
        .expect(StatusCode::OK);
        let got = om_get(&app, &t, &id).await;
        let mut to = sent["toAddress"].clone();
        to["addressLine2"] = json!("Suite 900");
        to["cityTown"] = json!("Burnaby");
        assert_eq!(got.body["orderShippingInfo"]["toAddress"], to);
        let mut from = sent["fromAddress"].clone();
        from["company"] = json!("New Co");
        assert_eq!(got.body["orderShippingInfo"]["fromAddress"], from);

        // items replaces the whole list.
        let items =
            json!([{"itemId": "NEW-1", "quantity": 3, "unitPrice": 5, "description": "Pen"}]);
        om_patch(&app, &t, &id, &json!({"items": items}))
            .await
            .expect(StatusCode::OK);
        let got = om_get(&app, &t, &id).await;
        assert_eq!(got.body["orderInfo"]["items"], items);
        assert_eq!(got.header("etag"), Some("\"3\""));
        let search = om_search(
            &app,
            &t,
            &json!({"filters": [{"name": "itemId", "value": ["SKU12345"]}]}),
        )
        .await
        .expect(StatusCode::OK);
        assert_eq!(
            search.body["totalElements"], 0,
            "old SKUs are gone from search"
        );
        let search = om_search(
            &app,
            &t,
            &json!({"filters": [{"name": "itemId", "value": ["NEW-1"]}]}),
        )
        .await
        .expect(StatusCode::OK);
        assert_eq!(found_ids(&search), [id.as_str()]);
    }
);

both!(
    patch_null_on_a_middle_address_line_clears_only_that_line,
    |app| async move {
        let t = app.token(CLIENT);
        let id = om_create(&app, &t, "PATCH-3").await;
        om_patch(&app, &t, &id, &json!({"toAddress": {"addressLine2": null}}))
            .await
            .expect(StatusCode::OK);
        let got = om_get(&app, &t, &id).await;
        let to = &got.body["orderShippingInfo"]["toAddress"];
        assert_eq!(to["addressLine1"], "1822 Franklin Street");
        assert!(
            to.get("addressLine2").is_none(),
            "addressLine2 was cleared: {to}"
        );
        assert_eq!(
            to["addressLine3"], "Near City Park",
            "addressLine3 is untouched: {to}"
        );
    }
);

both!(patch_refusals_change_nothing, |app| async move {
    let t = app.token(CLIENT);
    let id = om_create(&app, &t, "PATCH-4").await;
    om_create(&app, &t, "TAKEN").await;
    let before = om_get(&app, &t, &id).await;
    let cases = [
        ("orderNumber", json!({"orderNumber": null})),
        ("fromAddress", json!({"fromAddress": null})),
        ("toAddress", json!({"toAddress": null})),
        ("items", json!({"items": null})),
        ("items", json!({"items": []})),
        (
            "bogus",
            json!({"bogus": 1, "orderMessage": {"message": "x"}}),
        ),
        ("orderNumber", json!({"orderNumber": "x".repeat(51)})),
        ("items[0].itemId", json!({"items": [{"quantity": 1}]})),
        (
            "items[0].quantity",
            json!({"items": [{"itemId": "A", "quantity": -2}]}),
        ),
        ("charges.subTotal", json!({"charges": {"subTotal": -1}})),
        ("charges.currency", json!({"charges": {"currency": "usd"}})),
        (
            "items[0].unitPrice",
            json!({"items": [{"itemId": "A", "quantity": 1, "unitPrice": -3}]}),
        ),
        (
            "toAddress.addressLine1",
            json!({"toAddress": {"addressLine1": null, "addressLine2": null, "addressLine3": null}}),
        ),
        (
            "toAddress.countryCode",
            json!({"toAddress": {"countryCode": "Canada"}}),
        ),
    ];
    for (field, patch) in cases {
        let r = om_patch(&app, &t, &id, &patch).await;
        assert_names_field(&r, field);
    }
    // A taken order number is a conflict, not a change.
    let r = om_patch(&app, &t, &id, &json!({"orderNumber": "TAKEN"}))
        .await
        .expect(StatusCode::CONFLICT);
    assert_eq!(r.error_code(), "duplicate_order");
    let after = om_get(&app, &t, &id).await;
    assert_eq!(after.body, before.body, "no refused PATCH changed anything");
    assert_eq!(after.header("etag"), Some("\"1\""));

    for missing in ["PBnotAnOrder", "bad%20id"] {
        let r = om_patch(
            &app,
            &t,
            missing,
            &json!({"orderMessage": {"message": "x"}}),
        )
        .await
        .expect(StatusCode::NOT_FOUND);
        assert_eq!(r.error_code(), "not_found");
    }
});

both!(
    if_match_lets_exactly_one_of_two_writers_win,
    |app| async move {
        let t = app.token(CLIENT);
        let id = om_create(&app, &t, "ETAG-1").await;
        assert_eq!(om_etag(&app, &t, &id).await, "\"1\"");

        let mut tasks = Vec::new();
        for who in ["first", "second"] {
            let (app, t, id) = (app.clone(), t.clone(), id.clone());
            tasks.push(tokio::spawn(async move {
                let body = json!({"orderMessage": {"message": who}});
                let r = app
                    .patch(&order(&id))
                    .bearer(&t)
                    .header("if-match", "\"1\"")
                    .json(&body)
                    .send()
                    .await;
                (who, r)
            }));
        }
        let mut winners = Vec::new();
        let mut statuses = Vec::new();
        for task in tasks {
            let (who, r) = task.await.unwrap();
            statuses.push(r.status.as_u16());
            if r.status == StatusCode::OK {
                assert_eq!(r.header("etag"), Some("\"2\""));
                winners.push(who);
            } else {
                assert_eq!(r.status, StatusCode::PRECONDITION_FAILED, "{}", r.body);
                assert_eq!(r.error_code(), "precondition_failed");
            }
        }
        statuses.sort();
        assert_eq!(statuses, [200, 412]);
        let got = om_get(&app, &t, &id).await;
        assert_eq!(got.header("etag"), Some("\"2\""));
        assert_eq!(got.body["orderInfo"]["orderMessage"]["message"], winners[0]);

        // A stale tag changes nothing; the current one (strong or weak) applies.
        let r = app
            .patch(&order(&id))
            .bearer(&t)
            .header("if-match", "\"1\"")
            .json(&json!({"orderMessage": {"message": "stale"}}))
            .send()
            .await
            .expect(StatusCode::PRECONDITION_FAILED);
        assert_eq!(r.error_code(), "precondition_failed");
        assert_eq!(om_get(&app, &t, &id).await.body, got.body);
        let r = app
            .patch(&order(&id))
            .bearer(&t)
            .header("if-match", "W/\"2\"")
            .json(&json!({"orderMessage": {"message": "fresh"}}))
            .send()
            .await
            .expect(StatusCode::OK);
        assert_eq!(r.header("etag"), Some("\"3\""));
        assert_eq!(
            om_get(&app, &t, &id).await.body["orderInfo"]["orderMessage"]["message"],
            "fresh"
        );
    }
);

both!(fifty_concurrent_patches_all_apply, |app| async move {
    let t = app.token(CLIENT);
    let id = om_create(&app, &t, "CONC-1").await;
    let mut tasks = Vec::new();
    for i in 0..50 {
        let (app, t, id) = (app.clone(), t.clone(), id.clone());
        tasks.push(tokio::spawn(async move {
            let body = json!({"orderMessage": {"message": format!("m{i}")}});
            app.patch(&order(&id)).bearer(&t).json(&body).send().await
        }));
    }
    let mut etags = BTreeSet::new();
    for task in tasks {
        let r = task.await.unwrap().expect(StatusCode::OK);
        assert_eq!(r.body["status"], "Updated");
        etags.insert(r.header("etag").unwrap().to_string());
    }
    let expected: BTreeSet<String> = (2..=51).map(|v| format!("\"{v}\"")).collect();
    assert_eq!(
        etags, expected,
        "each PATCH applied once, at its own version"
    );
    let got = om_get(&app, &t, &id).await;
    assert_eq!(got.header("etag"), Some("\"51\""));
    let message = got.body["orderInfo"]["orderMessage"]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!((0..50).any(|i| message == format!("m{i}")), "{message}");
    assert_eq!(got.body["orderInfo"]["orderMessage"]["type"], "GIFT");
});

both!(delete_is_soft_and_final, |app| async move {
    let t = app.token(CLIENT);
    let id = om_create(&app, &t, "DEL-1").await;
    let other = om_create(&app, &t, "DEL-2").await;
    let r = app
        .delete(&order(&id))
        .bearer(&t)
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.body["status"], "Deleted");
    assert_eq!(r.body["orderId"], id.as_str());

    let not_found = |r: common::Resp| {
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
        assert_eq!(r.error_code(), "not_found");
    };
    not_found(app.get(&order(&id)).bearer(&t).send().await);
    not_found(om_patch(&app, &t, &id, &json!({"orderMessage": {"message": "x"}})).await);
    not_found(
        app.delete(&format!("{}/items?itemId=SKU12345", order(&id)))
            .bearer(&t)
            .send()
            .await,
    );
    not_found(
        app.put(&format!("{}/tags", order(&id)))
            .bearer(&t)
            .json(&json!({"tagIds": ["a"]}))
            .send()
            .await,
    );
    not_found(app.delete(&order(&id)).bearer(&t).send().await);
    not_found(om_bulk_status(&app, &t, &[&id], "CANCELED").await);
    not_found(
        app.put(&format!("{OM}/orders/bulkTags"))
            .bearer(&t)
            .json(&json!({"tags": [{"orderId": id, "tagIds": ["a"]}]}))
            .send()
            .await,
    );
    let f = app
        .get(&format!("{FULFILLMENT}/{id}?clientId={CLIENT}"))
        .bearer(&t)
        .txid("tx-del-1")
        .send()
        .await
        .expect(StatusCode::NOT_FOUND);
    assert_eq!(f.error_code(), "not_found");

    // Gone from search on both surfaces.
    let s = om_search(
        &app,
        &t,
        &json!({"filters": [{"name": "orderId", "value": [id]}]}),
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(s.body["totalElements"], 0);
    let s = om_search(&app, &t, &json!({})).await.expect(StatusCode::OK);
    assert_eq!(found_ids(&s), [other.as_str()]);
    let s = app
        .post(&format!("{FULFILLMENT}/search")).bearer(&t).txid("tx-del-2").json(&json!({"clientId": CLIENT, "searchFields": [{"name": "orders", "values": [id, "DEL-1"]}]})).send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(s.body["totalElements"], 0, "{}", s.body);

    // The order number is free again; the id is not reused.
    let again = om_create(&app, &t, "DEL-1").await;
    assert_ne!(again, id);
    assert_eq!(
        om_get(&app, &t, &again).await.body["orderInfo"]["orderNumber"],
        "DEL-1"
    );
    // The other order is untouched.
    assert_eq!(om_etag(&app, &t, &other).await, "\"1\"");
});

both!(
    removing_an_item_recomputes_consistent_totals,
    |app| async move {
        let t = app.token(CLIENT);
        let id = om_create(&app, &t, "ITEM-1").await;
        let before = om_get(&app, &t, &id).await;
        let r = app
            .delete(&format!("{}/items?itemId=SKU67890", order(&id)))
            .bearer(&t)
            .send()
            .await
            .expect(StatusCode::OK);
        assert_eq!(r.body["orderId"], id.as_str());
        assert_eq!(r.body["status"], "Updated");
        assert!(is_iso_utc(&r.body["transactionDateTime"]), "{}", r.body);
        assert_eq!(r.header("etag"), Some("\"2\""));

        let got = om_get(&app, &t, &id).await;
        let info = &got.body["orderInfo"];
        assert_eq!(info["items"], json!([sample_item()]));
        let c = &info["charges"];
        assert_eq!(dec(&c["subTotal"]), 50.into(), "90 - 40");
        assert_eq!(dec(&c["gmv"]), 60.into(), "100 - 40");
        assert_eq!(c["currency"], "USD");
        assert_eq!(c["paymentType"], "Credit Card");
        assert!(
            info["orderUpdateDate"].as_str().unwrap()
                >= before.body["orderInfo"]["orderUpdateDate"]
                    .as_str()
                    .unwrap()
        );

        // Unknown SKU: 404, and nothing changes.
        let r = app
            .delete(&format!("{}/items?itemId=NOPE", order(&id)))
            .bearer(&t)
            .send()
            .await
            .expect(StatusCode::NOT_FOUND);
        assert_eq!(r.error_code(), "not_found");
        // The last item cannot go: 409, nothing changes.
        let r = app
            .delete(&format!("{}/items?itemId=SKU12345", order(&id)))
            .bearer(&t)
            .send()
            .await
            .expect(StatusCode::CONFLICT);
        assert_eq!(r.error_code(), "invalid_state");
        // The SKU is required.
        let r = app
            .delete(&format!("{}/items", order(&id)))
            .bearer(&t)
            .send()
            .await;
        assert_names_field(&r, "itemId");
        let after = om_get(&app, &t, &id).await;
        assert_eq!(after.body, got.body);
        assert_eq!(after.header("etag"), Some("\"2\""));
    }
);

both!(removing_a_sku_removes_all_its_lines, |app| async move {
    let t = app.token(CLIENT);
    let mut body = sendpro_create("ITEM-2");
    body["items"] = json!([
        {"itemId": "A-1", "quantity": 1, "unitPrice": 10},
        {"itemId": "B-1", "quantity": 1, "unitPrice": 5},
        {"itemId": "A-1", "quantity": 2, "unitPrice": 10}
    ]);
    body["charges"]["subTotal"] = json!(35);
    body["charges"]["gmv"] = json!(40);
    let id = om_create_body(&app, &t, &body).await;
    app.delete(&format!("{}/items?itemId=A-1", order(&id)))
        .bearer(&t)
        .send()
        .await
        .expect(StatusCode::OK);
    let got = om_get(&app, &t, &id).await;
    assert_eq!(
        got.body["orderInfo"]["items"],
        json!([{"itemId": "B-1", "quantity": 1, "unitPrice": 5}])
    );
    assert_eq!(dec(&got.body["orderInfo"]["charges"]["subTotal"]), 5.into());
    assert_eq!(dec(&got.body["orderInfo"]["charges"]["gmv"]), 10.into());
    let s = om_search(
        &app,
        &t,
        &json!({"filters": [{"name": "itemId", "value": ["A-1"]}]}),
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(s.body["totalElements"], 0);

    // Totals that did not match the lines are left alone.
    let mut body = sendpro_create("ITEM-3");
    body["charges"]["subTotal"] = json!(80);
    let id = om_create_body(&app, &t, &body).await;
    app.delete(&format!("{}/items?itemId=SKU67890", order(&id)))
        .bearer(&t)
        .send()
        .await
        .expect(StatusCode::OK);
    let got = om_get(&app, &t, &id).await;
    assert_eq!(got.body["orderInfo"]["items"], json!([sample_item()]));
    assert_eq!(
        dec(&got.body["orderInfo"]["charges"]["subTotal"]),
        80.into()
    );
    assert_eq!(dec(&got.body["orderInfo"]["charges"]["gmv"]), 100.into());
});

both!(closed_orders_keep_their_items, |app| async move {
    let t = app.token(CLIENT);
    for (n, status) in ["FULFILLED", "CANCELED"].into_iter().enumerate() {
        let id = om_create(&app, &t, &format!("CLOSED-{n}")).await;
        om_set_status(&app, &t, &id, status).await;
        let before = om_get(&app, &t, &id).await;
        let r = app
            .delete(&format!("{}/items?itemId=SKU67890", order(&id)))
            .bearer(&t)
            .send()
            .await
            .expect(StatusCode::CONFLICT);
        assert_eq!(r.error_code(), "invalid_state");
        let r = om_patch(&app, &t, &id, &json!({"orderMessage": {"message": "late"}}))
            .await
            .expect(StatusCode::CONFLICT);
        assert_eq!(r.error_code(), "invalid_state");
        let after = om_get(&app, &t, &id).await;
        assert_eq!(after.body, before.body, "{status} order unchanged");
        assert_eq!(after.header("etag"), before.header("etag"));
        assert_eq!(after.body["orderInfo"]["status"], status);
    }
});

// Each missing part is reported once, in this dialect's words.
both!(create_reports_each_missing_part_once, |app| async move {
    let t = app.token("once");
    let r = app
        .post(&format!("{OM}/orders"))
        .bearer(&t)
        .json(&json!({"orderNumber": "X"}))
        .send()
        .await
        .expect(StatusCode::BAD_REQUEST);
    assert_eq!(r.body["additionalInfo"], "fromAddress, toAddress, items");
    assert!(!r.body["message"].as_str().unwrap().contains("order line"));
});

both!(
    derived_amounts_follow_a_patch_and_never_refuse_it,
    |app| async move {
        let t = app.token(CLIENT);
        let charge =
            |r: &common::Resp, name: &str| dec(&r.body["orderInfo"]["charges"][name]).to_string();
        // No subTotal or gmv: the server derives them, and a line total at twice the cap.
        let mut body = sendpro_create("DERIVED-1");
        body["charges"] = json!({"currency": "USD"});
        body["items"] = json!([{"itemId": "BIG", "quantity": 2, "unitPrice": 999999999999999u64}]);
        let id = om_create_body(&app, &t, &body).await;
        let got = om_get(&app, &t, &id).await.expect(StatusCode::OK);
        assert_eq!(charge(&got, "subTotal"), "1999999999999998");

        // A patch of something else is not refused for the amount the server derived.
        om_patch(&app, &t, &id, &json!({"orderMessage": {"message": "hi"}}))
            .await
            .expect(StatusCode::OK);
        let got = om_get(&app, &t, &id).await.expect(StatusCode::OK);
        assert_eq!(got.body["orderInfo"]["orderMessage"]["message"], "hi");
        assert_eq!(charge(&got, "subTotal"), "1999999999999998");

        // New lines: the derived totals follow them instead of staying stale.
        let items = json!([{"itemId": "B", "quantity": 3, "unitPrice": 10}]);
        om_patch(&app, &t, &id, &json!({"items": items}))
            .await
            .expect(StatusCode::OK);
        let got = om_get(&app, &t, &id).await.expect(StatusCode::OK);
        assert_eq!(charge(&got, "subTotal"), "30");
        assert_eq!(charge(&got, "gmv"), "30");

        // Totals the client set to something else stay as set; sent ones are taken as sent.
        let patch = json!({"charges": {"subTotal": 77}, "items": [{"itemId": "C", "quantity": 1, "unitPrice": 5}]});
        om_patch(&app, &t, &id, &patch).await.expect(StatusCode::OK);
        let items = json!([{"itemId": "D", "quantity": 2, "unitPrice": 5}]);
        om_patch(&app, &t, &id, &json!({"items": items}))
            .await
            .expect(StatusCode::OK);
        let got = om_get(&app, &t, &id).await.expect(StatusCode::OK);
        assert_eq!(charge(&got, "subTotal"), "77");
    }
);

both!(
    a_malformed_transaction_id_is_refused_beside_an_idempotency_key,
    |app| async move {
        let t = app.token(CLIENT);
        let r = app
            .post(&orders())
            .bearer(&t)
            .header("idempotency-key", "key-0002")
            .header("x-pb-transactionid", "`803*G.%")
            .json(&sendpro_create("IDEM-3"))
            .send()
            .await
            .expect(StatusCode::BAD_REQUEST);
        assert!(
            r.body.to_string().contains("X-PB-TransactionId"),
            "{}",
            r.body
        );
        let all = om_search(&app, &t, &json!({"filters": []}))
            .await
            .expect(StatusCode::OK);
        assert_eq!(all.body["totalElements"], 0, "nothing stored");
    }
);
