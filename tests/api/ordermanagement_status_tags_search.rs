//! SendPro360 bulk status (the lifecycle through its four words), per-order and bulk tags, and
//! search (pb-api-research.md §1.6, §1.8–1.10; api-notes "Status", "Search"). On SQLite and
//! PostgreSQL.

use std::collections::BTreeSet;

use crate::common;
use crate::common::sendpro_fixtures::*;
use axum::http::StatusCode;
use chrono::{Duration, SecondsFormat, Utc};
use serde_json::{Value, json};

const FULFILLMENT: &str = "/shippingservices/fulfillment/v1/orders";
const CLIENT: &str = "c1";
const WORDS: [&str; 4] = ["UNFULFILLED", "ONHOLD", "FULFILLED", "CANCELED"];

/// The SendPro360 lifecycle: open words (UNFULFILLED, ONHOLD) go anywhere; FULFILLED and
/// CANCELED only "stay" (setting the word they already have is a successful no-op).
fn allowed(from: &str, to: &str) -> bool {
    from == to || matches!(from, "UNFULFILLED" | "ONHOLD")
}

fn tags_path(id: &str) -> String {
    format!("{OM}/orders/{id}/tags")
}

async fn put_tags(app: &common::TestApp, token: &str, id: &str, tags: Value) -> common::Resp {
    app.put(&tags_path(id))
        .bearer(token)
        .json(&json!({"tagIds": tags}))
        .send()
        .await
}

async fn bulk_tags(app: &common::TestApp, token: &str, body: &Value) -> common::Resp {
    app.put(&format!("{OM}/orders/bulkTags"))
        .bearer(token)
        .json(body)
        .send()
        .await
}

async fn fulfillment_get(app: &common::TestApp, token: &str, id: &str) -> common::Resp {
    app.get(&format!("{FULFILLMENT}/{id}?clientId={CLIENT}"))
        .bearer(token)
        .txid("tx-status")
        .send()
        .await
        .expect(StatusCode::OK)
}

fn sorted(ids: &[&String]) -> Vec<String> {
    let mut v: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

fn sorted_found(r: &common::Resp) -> Vec<String> {
    let mut v = found_ids(r);
    v.sort();
    v
}

async fn search_filters(app: &common::TestApp, token: &str, filters: Value) -> common::Resp {
    om_search(app, token, &json!({"filters": filters}))
        .await
        .expect(StatusCode::OK)
}

// ---------------------------------------------------------------------------------------------
// Bulk status
// ---------------------------------------------------------------------------------------------

both!(every_word_pair_through_bulk_status, |app| async move {
    let t = app.token(CLIENT);
    for target in WORDS {
        // One order in each SendPro360 status, all moved to `target` in one request.
        let mut ids = Vec::new();
        for from in WORDS {
            let id = om_create(&app, &t, &format!("LC-{target}-{from}")).await;
            if from != "UNFULFILLED" {
                om_set_status(&app, &t, &id, from).await;
            }
            assert_eq!(
                om_get(&app, &t, &id).await.body["orderInfo"]["status"],
                from
            );
            ids.push(id);
        }
        let mut etags = Vec::new();
        for id in &ids {
            etags.push(om_etag(&app, &t, id).await);
        }
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let r = om_bulk_status(&app, &t, &refs, target)
            .await
            .expect(StatusCode::OK);
        assert_eq!(r.body["status"], target);
        assert!(r.body["transactionDateTime"].is_string(), "{}", r.body);
        let results = r.body["results"].as_array().unwrap();
        assert_eq!(results.len(), 4, "{}", r.body);
        let mut failures = 0;
        for (i, from) in WORDS.into_iter().enumerate() {
            let res = &results[i];
            assert_eq!(res["orderId"], ids[i].as_str());
            let ok = allowed(from, target);
            assert_eq!(res["success"], ok, "{from} -> {target}: {res}");
            let got = om_get(&app, &t, &ids[i]).await;
            if ok {
                assert!(res.get("error").is_none(), "{res}");
                assert_eq!(
                    got.body["orderInfo"]["status"], target,
                    "{from} -> {target}"
                );
            } else {
                failures += 1;
                assert_eq!(res["error"]["errorCode"], "invalid_state", "{res}");
                let message = res["error"]["message"].as_str().unwrap();
                assert!(!message.is_empty(), "{res}");
                assert_eq!(
                    got.body["orderInfo"]["status"], from,
                    "{from} -> {target} refused"
                );
                assert_eq!(
                    got.header("etag"),
                    Some(etags[i].as_str()),
                    "a refused move changes nothing"
                );
            }
        }
        let message = r.body["message"].as_str().unwrap();
        if failures == 0 {
            assert_eq!(message, "Order status updated successfully.");
        } else {
            assert!(
                message.contains(&format!("{} of 4", 4 - failures)),
                "{message}"
            );
        }
    }
});

both!(
    releasing_a_hold_returns_the_order_to_unfulfilled,
    |app| async move {
        let t = app.token(CLIENT);
        let id = om_create(&app, &t, "HOLD-1").await;
        let orders = json!([{"orderId": id}]);
        let r = app
            .patch(&format!("{OM}/orders/bulk/status"))
            .bearer(&t)
            .json(&json!({"orders": orders, "status": "onhold", "reason": "address check"}))
            .send()
            .await
            .expect(StatusCode::OK);
        assert_eq!(r.body["results"][0]["success"], true, "{}", r.body);
        assert_eq!(r.body["status"], "ONHOLD");
        let got = om_get(&app, &t, &id).await;
        assert_eq!(got.body["orderInfo"]["status"], "ONHOLD");
        assert_eq!(got.header("etag"), Some("\"2\""));
        let f = fulfillment_get(&app, &t, &id).await;
        assert_eq!(f.body["status"], "ONHOLD");
        assert_eq!(f.body["isOnHold"], true);
        assert_eq!(f.body["holdReason"], json!(["address check"]));

        om_set_status(&app, &t, &id, "UNFULFILLED").await;
        let got = om_get(&app, &t, &id).await;
        assert_eq!(got.body["orderInfo"]["status"], "UNFULFILLED");
        assert_eq!(got.header("etag"), Some("\"3\""));
        let f = fulfillment_get(&app, &t, &id).await;
        assert_eq!(f.body["status"], "RECEIVED");
        assert_eq!(f.body["isOnHold"], false);
        assert!(f.body.get("holdReason").is_none(), "{}", f.body);

        // Held again and released again: the cycle repeats.
        om_set_status(&app, &t, &id, "ONHOLD").await;
        om_set_status(&app, &t, &id, "UNFULFILLED").await;
        assert_eq!(
            om_get(&app, &t, &id).await.body["orderInfo"]["status"],
            "UNFULFILLED"
        );
    }
);

both!(bulk_status_reports_each_order, |app| async move {
    let t = app.token(CLIENT);
    let other = app.token("c2");
    let valid = om_create(&app, &t, "MIX-1").await;
    let closed = om_create(&app, &t, "MIX-2").await;
    om_set_status(&app, &t, &closed, "FULFILLED").await;
    let foreign = om_create(&app, &other, "MIX-F").await;
    let unknown = "PBzzzzzzzzzz";
    let r = om_bulk_status(&app, &t, &[&valid, &foreign, unknown, &closed], "ONHOLD")
        .await
        .expect(StatusCode::OK);
    let results = r.body["results"].as_array().unwrap();
    assert_eq!(results.len(), 4, "{}", r.body);
    let expect = [
        (valid.as_str(), None),
        (foreign.as_str(), Some("not_found")),
        (unknown, Some("not_found")),
        (closed.as_str(), Some("invalid_state")),
    ];
    for (res, (id, error)) in results.iter().zip(expect) {
        assert_eq!(res["orderId"], id);
        assert_eq!(res["success"], error.is_none(), "{res}");
        match error {
            None => assert!(res.get("error").is_none(), "{res}"),
            Some(code) => assert_eq!(res["error"]["errorCode"], code, "{res}"),
        }
    }
    assert!(
        r.body["message"].as_str().unwrap().contains("1 of 4"),
        "{}",
        r.body
    );
    assert_eq!(
        om_get(&app, &t, &valid).await.body["orderInfo"]["status"],
        "ONHOLD"
    );
    assert_eq!(
        om_get(&app, &t, &closed).await.body["orderInfo"]["status"],
        "FULFILLED"
    );
    let f = om_get(&app, &other, &foreign).await;
    assert_eq!(f.body["orderInfo"]["status"], "UNFULFILLED");
    assert_eq!(
        f.header("etag"),
        Some("\"1\""),
        "the foreign order is untouched"
    );

    // None of the listed orders exists for the caller: 404.
    for ids in [
        vec![unknown],
        vec![foreign.as_str()],
        vec![unknown, foreign.as_str()],
    ] {
        let r = om_bulk_status(&app, &t, &ids, "CANCELED")
            .await
            .expect(StatusCode::NOT_FOUND);
        assert_eq!(r.error_code(), "not_found");
        assert!(r.body.get("errors").is_none(), "flat error: {}", r.body);
    }
    assert_eq!(om_etag(&app, &other, &foreign).await, "\"1\"");
});

both!(bulk_status_refuses_malformed_requests, |app| async move {
    let t = app.token(CLIENT);
    let id = om_create(&app, &t, "BULK-1").await;
    let path = format!("{OM}/orders/bulk/status");
    let many = |n: usize| -> Value {
        let mut list: Vec<Value> = (0..n - 1)
            .map(|i| json!({"orderId": format!("PB{i:010}")}))
            .collect();
        list.push(json!({"orderId": id}));
        Value::Array(list)
    };
    let cases = [
        ("orders", json!({"orders": [], "status": "CANCELED"})),
        ("orders", json!({"orders": many(501), "status": "CANCELED"})),
        ("orders", json!({"status": "CANCELED"})),
        (
            "status",
            json!({"orders": [{"orderId": id}], "status": "SHIPPED"}),
        ),
        (
            "status",
            json!({"orders": [{"orderId": id}], "status": "DONE"}),
        ),
        ("status", json!({"orders": [{"orderId": id}]})),
        (
            "reason",
            json!({"orders": [{"orderId": id}], "status": "CANCELED", "reason": "r".repeat(256)}),
        ),
    ];
    for (field, body) in cases {
        let r = app.patch(&path).bearer(&t).json(&body).send().await;
        assert_names_field(&r, field);
    }
    let got = om_get(&app, &t, &id).await;
    assert_eq!(got.body["orderInfo"]["status"], "UNFULFILLED");
    assert_eq!(got.header("etag"), Some("\"1\""), "nothing changed");

    // 500 is within the limit.
    let r = app
        .patch(&path)
        .bearer(&t)
        .json(&json!({"orders": many(500), "status": "ONHOLD"}))
        .send()
        .await
        .expect(StatusCode::OK);
    let results = r.body["results"].as_array().unwrap();
    assert_eq!(results.len(), 500);
    assert_eq!(results.iter().filter(|r| r["success"] == true).count(), 1);
    assert_eq!(results[499]["orderId"], id.as_str());
    assert_eq!(results[499]["success"], true);

    // An unknown field is refused, named, and changes nothing.
    let r = app
        .patch(&path)
        .bearer(&t)
        .json(&json!({"orders": [{"orderId": id}], "status": "CANCELED", "bogus": true}))
        .send()
        .await;
    assert_eq!(
        om_get(&app, &t, &id).await.body["orderInfo"]["status"],
        "ONHOLD"
    );
    assert_names_field(&r, "bogus");
});

// ---------------------------------------------------------------------------------------------
// Tags
// ---------------------------------------------------------------------------------------------

both!(tags_replace_and_clear, |app| async move {
    let t = app.token(CLIENT);
    let id = om_create(&app, &t, "TAG-1").await;
    let created = om_get(&app, &t, &id).await;
    let r = put_tags(&app, &t, &id, json!(["vip", "rush"]))
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.body["orderId"], id.as_str());
    assert_eq!(r.body["tagIds"], json!(["vip", "rush"]));
    assert_eq!(r.body["status"], "Updated");
    assert_eq!(r.header("etag"), Some("\"2\""));
    let got = om_get(&app, &t, &id).await;
    assert_eq!(got.body["orderInfo"]["tagIds"], json!(["vip", "rush"]));
    assert!(
        got.body["orderInfo"]["orderUpdateDate"].as_str().unwrap()
            >= created.body["orderInfo"]["orderUpdateDate"]
                .as_str()
                .unwrap(),
        "orderUpdateDate never goes back (whole seconds; the ETag shows the change)"
    );

    put_tags(&app, &t, &id, json!(["gift"]))
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        om_get(&app, &t, &id).await.body["orderInfo"]["tagIds"],
        json!(["gift"]),
        "the list replaces the tags"
    );
    let r = put_tags(&app, &t, &id, json!([]))
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.body["tagIds"], json!([]));
    let got = om_get(&app, &t, &id).await;
    assert_eq!(got.body["orderInfo"]["tagIds"], json!([]));
    assert_eq!(got.header("etag"), Some("\"4\""));
    let s = search_filters(&app, &t, json!([{"name": "tagIds", "value": ["gift"]}])).await;
    assert_eq!(
        s.body["totalElements"], 0,
        "cleared tags are not searchable"
    );

    // Stored and searched under one notion of trimming: U+0085 is part of a tag, not space.
    put_tags(&app, &t, &id, json!(["\u{85}vip "]))
        .await
        .expect(StatusCode::OK);
    let s = search_filters(
        &app,
        &t,
        json!([{"name": "tagIds", "value": [" \u{85}vip"]}]),
    )
    .await;
    assert_eq!(s.body["totalElements"], 1, "{}", s.body);
});

both!(
    tags_are_trimmed_deduplicated_and_bounded,
    |app| async move {
        let t = app.token(CLIENT);
        let id = om_create(&app, &t, "TAG-2").await;
        let r = put_tags(
            &app,
            &t,
            &id,
            json!([" vip ", "vip", "rush", "rush  ", "\tgift"]),
        )
        .await
        .expect(StatusCode::OK);
        assert_eq!(r.body["tagIds"], json!(["vip", "rush", "gift"]));

        // At the limits: 50 tags, a 50-character tag. The limit is on entries as sent (what the
        // schema's maxItems can state), so 50 entries with duplicates collapse below it.
        let fifty: Vec<String> = (0..50).map(|i| format!("t{i}")).collect();
        put_tags(&app, &t, &id, json!(fifty))
            .await
            .expect(StatusCode::OK);
        let dupes: Vec<String> = (0..50).map(|i| format!("t{}", i % 25)).collect();
        let r = put_tags(&app, &t, &id, json!(dupes))
            .await
            .expect(StatusCode::OK);
        assert_eq!(r.body["tagIds"], json!(fifty[..25]));
        let long = "x".repeat(50);
        put_tags(&app, &t, &id, json!([long, "ok"]))
            .await
            .expect(StatusCode::OK);
        let before = om_get(&app, &t, &id).await;
        assert_eq!(before.body["orderInfo"]["tagIds"], json!([long, "ok"]));

        let fifty_one: Vec<String> = (0..51).map(|i| format!("t{i}")).collect();
        let fifty_one_with_dupes: Vec<String> = (0..51).map(|i| format!("t{}", i % 50)).collect();
        let path = tags_path(&id);
        let cases = [
            ("tagIds", json!({"tagIds": fifty_one})),
            ("tagIds", json!({"tagIds": fifty_one_with_dupes})),
            ("tagIds[0]", json!({"tagIds": ["y".repeat(51)]})),
            ("tagIds[1]", json!({"tagIds": ["ok", "   "]})),
            ("tagIds", json!({})),
            ("tagIds", json!({"tagIds": "vip"})),
        ];
        for (field, body) in cases {
            let r = app.put(&path).bearer(&t).json(&body).send().await;
            assert_names_field(&r, field);
        }
        let after = om_get(&app, &t, &id).await;
        assert_eq!(
            after.body, before.body,
            "refused tag updates change nothing"
        );
        assert_eq!(after.header("etag"), before.header("etag"));

        // An unknown field is refused, named, and changes nothing.
        let r = app
            .put(&path)
            .bearer(&t)
            .json(&json!({"tagIds": ["a"], "bogus": 1}))
            .send()
            .await;
        assert_eq!(om_get(&app, &t, &id).await.body, before.body);
        assert_names_field(&r, "bogus");
    }
);

both!(bulk_tags_report_each_order, |app| async move {
    let t = app.token(CLIENT);
    let other = app.token("c2");
    let a = om_create(&app, &t, "BT-A").await;
    let b = om_create(&app, &t, "BT-B").await;
    put_tags(&app, &t, &b, json!(["old"]))
        .await
        .expect(StatusCode::OK);
    let foreign = om_create(&app, &other, "BT-F").await;
    let unknown = "PBunknown123";
    let r = bulk_tags(
        &app,
        &t,
        &json!({"tags": [
            {"orderId": a, "tagIds": ["x", " y "]},
            {"orderId": b, "tagIds": []},
            {"orderId": unknown, "tagIds": ["z"]},
            {"orderId": foreign, "tagIds": ["z"]}
        ]}),
    )
    .await
    .expect(StatusCode::OK);
    assert!(r.body["transactionDateTime"].is_string(), "{}", r.body);
    let results = r.body["results"].as_array().unwrap();
    let expect = [
        (&a, true),
        (&b, true),
        (&unknown.to_string(), false),
        (&foreign, false),
    ];
    assert_eq!(results.len(), 4);
    for (res, (id, ok)) in results.iter().zip(expect) {
        assert_eq!(res["orderId"], id.as_str());
        assert_eq!(res["success"], ok, "{res}");
        if !ok {
            assert_eq!(res["error"]["errorCode"], "not_found", "{res}");
        }
    }
    assert_eq!(
        om_get(&app, &t, &a).await.body["orderInfo"]["tagIds"],
        json!(["x", "y"])
    );
    assert_eq!(
        om_get(&app, &t, &b).await.body["orderInfo"]["tagIds"],
        json!([])
    );
    let f = om_get(&app, &other, &foreign).await;
    assert_eq!(f.body["orderInfo"]["tagIds"], json!([]));
    assert_eq!(f.header("etag"), Some("\"1\""));

    // All fine: every result succeeds.
    let r = bulk_tags(
        &app,
        &t,
        &json!({"tags": [{"orderId": a, "tagIds": ["p"]}, {"orderId": b, "tagIds": ["q"]}]}),
    )
    .await
    .expect(StatusCode::OK);
    assert!(
        r.body["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["success"] == true),
        "{}",
        r.body
    );
    let before_a = om_get(&app, &t, &a).await;

    // None found: 404.
    let r = bulk_tags(
        &app,
        &t,
        &json!({"tags": [{"orderId": unknown, "tagIds": ["z"]}, {"orderId": foreign, "tagIds": []}]}),
    )
    .await
    .expect(StatusCode::NOT_FOUND);
    assert_eq!(r.error_code(), "not_found");

    // Malformed requests are refused whole.
    let many: Vec<Value> = (0..501)
        .map(|_| json!({"orderId": a, "tagIds": ["m"]}))
        .collect();
    let cases = [
        ("tags", json!({"tags": []})),
        ("tags", json!({})),
        ("tags", json!({"tags": many})),
        (
            "tags[1].tagIds[0]",
            json!({"tags": [{"orderId": a, "tagIds": ["fine"]}, {"orderId": b, "tagIds": ["w".repeat(51)]}]}),
        ),
        (
            "tags[0].tagIds",
            json!({"tags": [{"orderId": a, "tagIds": (0..51).map(|i| format!("t{i}")).collect::<Vec<_>>()}]}),
        ),
    ];
    for (field, body) in cases {
        let r = bulk_tags(&app, &t, &body).await;
        assert_names_field(&r, field);
    }
    let after_a = om_get(&app, &t, &a).await;
    assert_eq!(after_a.body, before_a.body, "nothing changed");
    assert_eq!(after_a.header("etag"), before_a.header("etag"));
});

// ---------------------------------------------------------------------------------------------
// Search
// ---------------------------------------------------------------------------------------------

/// Three orders of CLIENT with distinct customers, SKUs, tags and statuses, plus one of another
/// client that matches everything and must never be found.
async fn search_fixture(app: &common::TestApp) -> [String; 3] {
    let t = app.token(CLIENT);
    let order = |number: &str, customer: &str, skus: &[&str]| {
        let mut body = sendpro_create(number);
        body["customerInfo"]["customerId"] = json!(customer);
        body["items"] = Value::Array(
            skus.iter()
                .map(|s| json!({"itemId": s, "quantity": 1, "unitPrice": 1}))
                .collect(),
        );
        body
    };
    let a = om_create_body(app, &t, &order("SRCH-A", "CUST-1", &["SKU-RED"])).await;
    let b = om_create_body(app, &t, &order("SRCH-B", "CUST-2", &["SKU-BLUE"])).await;
    let c = om_create_body(
        app,
        &t,
        &order("SRCH-C", "CUST-1", &["SKU-RED", "SKU-BLUE"]),
    )
    .await;
    put_tags(app, &t, &a, json!(["vip"]))
        .await
        .expect(StatusCode::OK);
    put_tags(app, &t, &b, json!(["VIP", "rush"]))
        .await
        .expect(StatusCode::OK);
    om_set_status(app, &t, &b, "ONHOLD").await;
    om_set_status(app, &t, &c, "FULFILLED").await;

    let other = app.token("c2");
    let f = om_create_body(app, &other, &order("SRCH-A", "CUST-1", &["SKU-RED"])).await;
    put_tags(app, &other, &f, json!(["vip"]))
        .await
        .expect(StatusCode::OK);
    [a, b, c]
}

both!(search_by_each_filter_name, |app| async move {
    let t = app.token(CLIENT);
    let [a, b, c] = search_fixture(&app).await;
    let day =
        |d: i64| (Utc::now() + Duration::days(d)).to_rfc3339_opts(SecondsFormat::Millis, true);
    let cases: Vec<(Value, Vec<&String>)> = vec![
        (json!([{"name": "orderId", "value": [a]}]), vec![&a]),
        (
            json!([{"name": "orderId", "value": [a, c, "PBnothere000"]}]),
            vec![&a, &c],
        ),
        (
            json!([{"name": "orderNumber", "value": ["SRCH-B"]}]),
            vec![&b],
        ),
        (
            json!([{"name": "orderNumber", "value": ["srch-b"]}]),
            vec![&b],
        ),
        (json!([{"name": "status", "value": ["ONHOLD"]}]), vec![&b]),
        (json!([{"name": "status", "value": ["onhold"]}]), vec![&b]),
        (
            json!([{"name": "status", "value": ["Unfulfilled", "FULFILLED"]}]),
            vec![&a, &c],
        ),
        (json!([{"name": "status", "value": ["CANCELED"]}]), vec![]),
        (json!([{"name": "tagIds", "value": ["vip"]}]), vec![&a, &b]),
        (json!([{"name": "tagIds", "value": ["RUSH"]}]), vec![&b]),
        (
            json!([{"name": "itemId", "value": ["SKU-RED"]}]),
            vec![&a, &c],
        ),
        (
            json!([{"name": "itemId", "value": ["sku-blue"]}]),
            vec![&b, &c],
        ),
        (
            json!([{"name": "customerId", "value": ["cust-1"]}]),
            vec![&a, &c],
        ),
        (
            json!([{"name": "customerId", "value": ["CUST-2"]}]),
            vec![&b],
        ),
        (
            json!([{"name": "createDate", "value": [day(-1), day(1)]}]),
            vec![&a, &b, &c],
        ),
        (
            json!([{"name": "createDate", "value": [day(-1)]}]),
            vec![&a, &b, &c],
        ),
        (
            json!([{"name": "createDate", "value": ["2020-01-01", "2020-12-31"]}]),
            vec![],
        ),
        (json!([{"name": "createDate", "value": [day(1)]}]), vec![]),
        // Filter names match case-insensitively too.
        (
            json!([{"name": "ORDERNUMBER", "value": ["srch-a"]}]),
            vec![&a],
        ),
        (
            json!([{"name": "ItemId", "value": ["sku-red"]}]),
            vec![&a, &c],
        ),
    ];
    for (filters, expected) in cases {
        let r = search_filters(&app, &t, filters.clone()).await;
        assert_eq!(sorted_found(&r), sorted(&expected), "filters {filters}");
        assert_eq!(r.body["totalElements"], expected.len(), "filters {filters}");
    }

    // A result is the same document as GET.
    let r = search_filters(&app, &t, json!([{"name": "orderId", "value": [b]}])).await;
    assert_eq!(r.body["orders"][0], om_get(&app, &t, &b).await.body);
});

both!(search_ands_filters_and_ors_values, |app| async move {
    let t = app.token(CLIENT);
    let [a, b, c] = search_fixture(&app).await;
    let cases: Vec<(Value, Vec<&String>)> = vec![
        (
            json!([{"name": "customerId", "value": ["CUST-1"]}, {"name": "itemId", "value": ["SKU-BLUE"]}]),
            vec![&c],
        ),
        (
            json!([{"name": "tagIds", "value": ["vip"]}, {"name": "status", "value": ["UNFULFILLED"]}]),
            vec![&a],
        ),
        (
            json!([{"name": "orderNumber", "value": ["SRCH-A", "srch-b"]}, {"name": "tagIds", "value": ["rush"]}]),
            vec![&b],
        ),
        (
            json!([{"name": "orderNumber", "value": ["SRCH-A", "SRCH-B", "SRCH-C"]}]),
            vec![&a, &b, &c],
        ),
        (
            json!([{"name": "status", "value": ["FULFILLED", "ONHOLD"]}, {"name": "itemId", "value": ["sku-red", "sku-blue"]}, {"name": "customerId", "value": ["cust-1"]}]),
            vec![&c],
        ),
        (
            json!([{"name": "tagIds", "value": ["vip"]}, {"name": "tagIds", "value": ["rush"]}]),
            vec![&b],
        ),
        (
            json!([{"name": "orderId", "value": [a]}, {"name": "orderNumber", "value": ["SRCH-B"]}]),
            vec![],
        ),
        (json!([]), vec![&a, &b, &c]),
    ];
    for (filters, expected) in cases {
        let r = search_filters(&app, &t, filters.clone()).await;
        assert_eq!(sorted_found(&r), sorted(&expected), "filters {filters}");
    }
});

both!(search_pages_from_zero, |app| async move {
    let t = app.token(CLIENT);
    let mut ids = BTreeSet::new();
    for n in 0..5 {
        ids.insert(om_create(&app, &t, &format!("PAGE-{n}")).await);
    }
    let r = om_search(&app, &t, &json!({"filters": []}))
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.body["page"], 0);
    assert_eq!(r.body["size"], 20);
    assert_eq!(r.body["totalElements"], 5);
    assert_eq!(r.body["totalPages"], 1);
    assert_eq!(found_ids(&r).len(), 5);
    // The documented sample: size 0 means the default.
    let r = om_search(&app, &t, &json!({"filters": [], "page": 0, "size": 0}))
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.body["size"], 20);
    assert_eq!(found_ids(&r).len(), 5);

    let mut seen = BTreeSet::new();
    for (page, count) in [(0, 2), (1, 2), (2, 1), (3, 0)] {
        let r = om_search(&app, &t, &json!({"page": page, "size": 2}))
            .await
            .expect(StatusCode::OK);
        assert_eq!(r.body["page"], page);
        assert_eq!(r.body["size"], 2);
        assert_eq!(r.body["totalElements"], 5);
        assert_eq!(r.body["totalPages"], 3);
        let found = found_ids(&r);
        assert_eq!(found.len(), count, "page {page}");
        for id in found {
            assert!(seen.insert(id), "an order appears on one page only");
        }
    }
    assert_eq!(seen, ids);
    let r = om_search(&app, &t, &json!({"size": 500}))
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.body["totalPages"], 1);

    for (field, body) in [
        ("size", json!({"size": 501})),
        ("size", json!({"size": -1})),
        ("page", json!({"page": -1})),
    ] {
        let r = om_search(&app, &t, &body).await;
        assert_names_field(&r, field);
    }
});

both!(search_never_shows_deleted_orders, |app| async move {
    let t = app.token(CLIENT);
    let [a, b, c] = search_fixture(&app).await;
    app.delete(&format!("{OM}/orders/{a}"))
        .bearer(&t)
        .send()
        .await
        .expect(StatusCode::OK);
    for filters in [
        json!([]),
        json!([{"name": "orderId", "value": [a]}]),
        json!([{"name": "orderNumber", "value": ["SRCH-A"]}]),
        json!([{"name": "tagIds", "value": ["vip"]}]),
        json!([{"name": "itemId", "value": ["SKU-RED"]}]),
        json!([{"name": "customerId", "value": ["CUST-1"]}]),
        json!([{"name": "status", "value": ["UNFULFILLED"]}]),
    ] {
        let r = search_filters(&app, &t, filters.clone()).await;
        let found = found_ids(&r);
        assert!(!found.contains(&a), "deleted order found by {filters}");
        assert_eq!(
            r.body["totalElements"],
            found.len(),
            "the count excludes it too ({filters})"
        );
    }
    let r = search_filters(&app, &t, json!([])).await;
    assert_eq!(sorted_found(&r), sorted(&[&b, &c]));
});

both!(
    search_refuses_unknown_filters_and_values,
    |app| async move {
        let t = app.token(CLIENT);
        search_fixture(&app).await;
        let cases = [
            (
                "filters[0].name",
                json!({"filters": [{"name": "color", "value": ["red"]}]}),
            ),
            (
                "filters[1].name",
                json!({"filters": [{"name": "orderId", "value": ["PBx"]}, {"name": "brand", "value": ["x"]}]}),
            ),
            (
                "filters[0].value[0]",
                json!({"filters": [{"name": "status", "value": ["SHIPPING"]}]}),
            ),
            (
                "filters[0].value",
                json!({"filters": [{"name": "orderNumber", "value": []}]}),
            ),
            ("bogus", json!({"filters": [], "bogus": 1})),
            (
                "filters[0].value[0]",
                json!({"filters": [{"name": "createDate", "value": ["yesterday"]}]}),
            ),
            (
                "filters[0].value",
                json!({"filters": [{"name": "createDate", "value": ["2024-01-01", "2024-02-01", "2024-03-01"]}]}),
            ),
        ];
        for (field, body) in cases {
            let r = om_search(&app, &t, &body).await;
            assert_names_field(&r, field);
        }
    }
);
