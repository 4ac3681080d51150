//! The warehouse operations of oms's extension API (`/oms/v1/orders`), and what the two
//! documented surfaces show of them, on SQLite and PostgreSQL.

use crate::common::fixtures::*;
use crate::common::sendpro_fixtures::*;
use crate::common::{Resp, TestApp};
use axum::http::StatusCode;
use serde_json::{Value, json};

const OPS: &str = "/oms/v1/orders";
const ORDERS: &str = "/shippingservices/fulfillment/v1/orders";
const OM: &str = "/ordermanagement/api/v1/orders";

/// The create sample with a second line: 5 × 0001-0001 and 2 × 0002-0002.
fn two_line_order(client_order_id: &str) -> Value {
    let mut o = order_numbered("1234", client_order_id);
    let mut second = o["orderLines"][0].clone();
    second["lineId"] = json!(2);
    second["sku"] = json!("0002-0002");
    second["orderedQuantity"] = json!(2);
    second["lineTotal"] = json!(20);
    o["orderLines"].as_array_mut().unwrap().push(second);
    o["orderCharges"]["totalItemAmount"] = json!(70);
    o
}

async fn create(app: &TestApp, t: &str, number: &str) -> String {
    let r = app
        .post(ORDERS)
        .bearer(t)
        .txid(number)
        .json(&two_line_order(number))
        .send()
        .await
        .expect(StatusCode::CREATED);
    r.body["orderId"].as_str().unwrap().to_string()
}

async fn op(app: &TestApp, t: &str, id: &str, action: &str, body: Option<Value>) -> Resp {
    app.post(&format!("{OPS}/{id}/{action}"))
        .bearer(t)
        .maybe_json(body.as_ref())
        .send()
        .await
}

fn shipment(tracking: &str, lines: Option<Value>) -> Value {
    let mut s = json!({"carrier": "USPS", "serviceId": "PM", "trackingNumber": tracking});
    if let Some(lines) = lines {
        s["lines"] = lines;
    }
    s
}

async fn fulfilment(app: &TestApp, t: &str, id: &str) -> Value {
    app.get(&format!("{OPS}/{id}/fulfilment"))
        .bearer(t)
        .send()
        .await
        .expect(StatusCode::OK)
        .body
}

async fn view(app: &TestApp, t: &str, id: &str) -> Value {
    app.get(&format!("{ORDERS}/{id}?clientId=1234"))
        .bearer(t)
        .txid("view")
        .send()
        .await
        .expect(StatusCode::OK)
        .body
}

/// Brings a new order to `status` through the operations.
async fn order_in(app: &TestApp, t: &str, status: &str, n: usize) -> String {
    let id = create(app, t, &format!("st{n}")).await;
    let to = |action: &'static str, body: Option<Value>| {
        let id = id.clone();
        async move {
            let r = op(app, t, &id, action, body).await;
            assert!(r.status.is_success(), "{action}: {} {}", r.status, r.body);
        }
    };
    match status {
        "RECEIVED" => {}
        "INPROGRESS" => to("start", None).await,
        "BACKORDER" => {
            to(
                "backorder",
                Some(json!({"lines": [{"sku": "0001-0001", "quantity": 1}]})),
            )
            .await
        }
        "ONHOLD" => to("hold", Some(json!({"reason": "address check"}))).await,
        "SHIPPED" => to("shipments", Some(shipment("T-all", None))).await,
        "RETURNED" => {
            to("shipments", Some(shipment("T-all", None))).await;
            to(
                "returns",
                Some(json!({"reason": "damaged", "lines": [{"sku": "0002-0002", "quantity": 1}]})),
            )
            .await;
        }
        "CANCELED" => to("cancel", None).await,
        other => unreachable!("{other}"),
    }
    assert_eq!(fulfilment(app, t, &id).await["status"], status);
    id
}

/// An operation, its body, the statuses it is allowed from and the status it leads to.
type Expected = (
    &'static str,
    Option<Value>,
    &'static [&'static str],
    Option<&'static str>,
);

const STATUSES: [&str; 7] = [
    "RECEIVED",
    "INPROGRESS",
    "BACKORDER",
    "ONHOLD",
    "SHIPPED",
    "RETURNED",
    "CANCELED",
];

both!(every_move_from_every_status, |app| async move {
    let t = app.token("1234");
    // (operation, body, statuses it is allowed from, status it leads to (None: stays));
    // a move to where the order already is counts as allowed and changes nothing.
    let moves: [Expected; 7] = [
        (
            "start",
            None,
            &["RECEIVED", "BACKORDER", "INPROGRESS"],
            Some("INPROGRESS"),
        ),
        (
            "backorder",
            Some(json!({"lines": [{"lineId": 2, "quantity": 1}]})),
            &["RECEIVED", "INPROGRESS"],
            Some("BACKORDER"),
        ),
        (
            "hold",
            Some(json!({"reason": "fraud check"})),
            &["RECEIVED", "INPROGRESS", "BACKORDER", "ONHOLD"],
            Some("ONHOLD"),
        ),
        ("release", None, &["ONHOLD"], Some("RECEIVED")),
        (
            "shipments",
            Some(shipment(
                "T-1",
                Some(json!([{"sku": "0002-0002", "quantity": 1}])),
            )),
            &["RECEIVED", "INPROGRESS", "BACKORDER"],
            Some("INPROGRESS"),
        ),
        (
            "returns",
            Some(json!({"reason": "changed mind", "lines": [{"sku": "0001-0001", "quantity": 1}]})),
            &["SHIPPED", "RETURNED"],
            Some("RETURNED"),
        ),
        (
            "cancel",
            Some(json!({"reason": "customer asked"})),
            &["RECEIVED", "INPROGRESS", "BACKORDER", "ONHOLD", "CANCELED"],
            Some("CANCELED"),
        ),
    ];
    let mut n = 0;
    for (action, body, allowed_from, to) in &moves {
        for from in STATUSES {
            n += 1;
            let id = order_in(&app, &t, from, n).await;
            let before = fulfilment(&app, &t, &id).await;
            let r = op(&app, &t, &id, action, body.clone()).await;
            let after = fulfilment(&app, &t, &id).await;
            if allowed_from.contains(&from) {
                assert!(
                    r.status.is_success(),
                    "{action} from {from}: {} {}",
                    r.status,
                    r.body
                );
                assert_eq!(after["status"], to.unwrap(), "{action} from {from}");
            } else {
                assert_eq!(
                    r.status,
                    StatusCode::CONFLICT,
                    "{action} from {from}: {}",
                    r.body
                );
                let reason = r.body["errors"][0]["errorDescription"].as_str().unwrap();
                assert!(!reason.is_empty(), "{action} from {from}");
                assert_eq!(
                    after, before,
                    "a refused {action} from {from} changed the order"
                );
            }
        }
    }
});

both!(release_returns_to_the_status_held_from, |app| async move {
    let t = app.token("1234");
    let id = order_in(&app, &t, "BACKORDER", 1).await;
    op(&app, &t, &id, "hold", Some(json!({"reason": "x"})))
        .await
        .expect(StatusCode::OK);
    let held = view(&app, &t, &id).await;
    assert_eq!(held["status"], "ONHOLD");
    assert_eq!(held["isOnHold"], true);
    assert_eq!(held["holdReason"], json!(["x"]));
    let r = op(&app, &t, &id, "release", None)
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.body["status"], "BACKORDER");
    assert_eq!(r.body["lines"][0]["backorderedQuantity"], 1);
    let v = view(&app, &t, &id).await;
    assert_eq!(v["isOnHold"], false);
    assert!(v.get("holdReason").is_none());
});

both!(
    partial_shipments_add_up_and_never_exceed_the_order,
    |app| async move {
        let t = app.token("1234");
        let id = create(&app, &t, "partial").await;
        let first = op(
            &app,
            &t,
            &id,
            "shipments",
            Some(shipment(
                "T-1",
                Some(json!([{"sku": "0001-0001", "quantity": 2}])),
            )),
        )
        .await
        .expect(StatusCode::CREATED);
        assert_eq!(first.body["status"], "INPROGRESS");
        assert_eq!(first.body["lines"][0]["shippedQuantity"], 2);
        assert_eq!(first.body["lines"][1]["shippedQuantity"], 0);

        // Over what is left: refused, nothing changes.
        let version = first.body["version"].clone();
        let over = op(
            &app,
            &t,
            &id,
            "shipments",
            Some(shipment("T-2", Some(json!([{"lineId": 1, "quantity": 4}])))),
        )
        .await
        .expect(StatusCode::CONFLICT);
        assert!(
            over.body["errors"][0]["errorDescription"]
                .as_str()
                .unwrap()
                .contains("were ordered"),
            "{}",
            over.body
        );
        assert_eq!(fulfilment(&app, &t, &id).await["version"], version);

        // A line the order does not have: the request does not fit this order.
        let r = op(
            &app,
            &t,
            &id,
            "shipments",
            Some(shipment(
                "T-3",
                Some(json!([{"sku": "NOPE", "quantity": 1}])),
            )),
        )
        .await
        .expect(StatusCode::CONFLICT);
        let reason = r.body["errors"][0]["errorDescription"].as_str().unwrap();
        assert!(
            reason.contains("lines[0]") && reason.contains("NOPE"),
            "{reason}"
        );

        // The shipment's tracking number makes a retry harmless.
        let again = op(
            &app,
            &t,
            &id,
            "shipments",
            Some(shipment(
                "T-1",
                Some(json!([{"sku": "0001-0001", "quantity": 2}])),
            )),
        )
        .await
        .expect(StatusCode::CREATED);
        assert_eq!(again.body["version"], version);
        assert_eq!(again.body["shipments"].as_array().unwrap().len(), 1);

        // Without lines: everything left.
        let rest = op(&app, &t, &id, "shipments", Some(shipment("T-4", None)))
            .await
            .expect(StatusCode::CREATED);
        assert_eq!(rest.body["status"], "SHIPPED");
        assert_eq!(rest.body["lines"][0]["shippedQuantity"], 5);
        assert_eq!(rest.body["lines"][1]["shippedQuantity"], 2);
        let lines = &rest.body["shipments"][1]["lines"];
        assert_eq!(
            lines,
            &json!([{"lineId": 1, "sku": "0001-0001", "quantity": 3}, {"lineId": 2, "sku": "0002-0002", "quantity": 2}])
        );
        op(&app, &t, &id, "shipments", Some(shipment("T-5", None)))
            .await
            .expect(StatusCode::CONFLICT);
    }
);

both!(
    concurrent_shipments_of_the_same_lines_never_over_ship,
    |app| async move {
        let t = app.token("1234");
        let id = create(&app, &t, "race").await;
        // Ten parcels of one unit each for a line of five.
        let tries = (0..10).map(|i| {
            let body = shipment(
                &format!("R-{i}"),
                Some(json!([{"sku": "0001-0001", "quantity": 1}])),
            );
            let path = format!("{OPS}/{id}/shipments");
            let t = t.clone();
            let app = &app;
            async move { app.post(&path).bearer(&t).json(&body).send().await.status }
        });
        let statuses = futures_util::future::join_all(tries).await;
        let created = statuses
            .iter()
            .filter(|s| **s == StatusCode::CREATED)
            .count();
        let refused = statuses
            .iter()
            .filter(|s| **s == StatusCode::CONFLICT)
            .count();
        assert_eq!((created, refused), (5, 5), "{statuses:?}");
        let f = fulfilment(&app, &t, &id).await;
        assert_eq!(f["lines"][0]["shippedQuantity"], 5);
        assert_eq!(f["shipments"].as_array().unwrap().len(), 5);

        // Everything at once, five times: exactly one ships it.
        let id = create(&app, &t, "race2").await;
        let tries = (0..5).map(|i| {
            let body = shipment(&format!("A-{i}"), None);
            let path = format!("{OPS}/{id}/shipments");
            let t = t.clone();
            let app = &app;
            async move { app.post(&path).bearer(&t).json(&body).send().await.status }
        });
        let statuses = futures_util::future::join_all(tries).await;
        let created = statuses
            .iter()
            .filter(|s| **s == StatusCode::CREATED)
            .count();
        assert_eq!(created, 1, "{statuses:?}");
        assert_eq!(fulfilment(&app, &t, &id).await["status"], "SHIPPED");
    }
);

both!(
    each_surface_shows_the_shipments_in_its_own_words,
    |app| async move {
        let t = app.token("1234");
        let id = create(&app, &t, "views").await;
        op(&app, &t, &id, "start", None)
            .await
            .expect(StatusCode::OK);

        // Seed 002's status-search sample finds the started order; so does SendPro360's search.
        let found = app
            .post(&format!("{ORDERS}/status/search"))
            .bearer(&t)
            .txid("s1")
            .json(&seed_status_search("1234"))
            .send()
            .await
            .expect(StatusCode::OK);
        assert_eq!(found.body["totalElements"], 1);
        assert_eq!(found.body["orders"][0]["orderId"], id.as_str());
        assert_eq!(found.body["orders"][0]["status"], "INPROGRESS");
        let om = om_search(
            &app,
            &t,
            &json!({"filters": [{"name": "status", "value": ["INPROGRESS"]}]}),
        )
        .await;
        assert_eq!(found_ids(&om), [id.as_str()]);

        op(
            &app,
            &t,
            &id,
            "shipments",
            Some(
                json!({"carrier": "UPS", "serviceId": "2DA", "serviceName": "2nd Day Air",
            "trackingNumber": "1Z999", "shipDate": "2026-12-05T10:00:00Z",
            "lines": [{"sku": "0002-0002", "quantity": 2}]}),
            ),
        )
        .await
        .expect(StatusCode::CREATED);
        let v = view(&app, &t, &id).await;
        assert_eq!(v["status"], "INPROGRESS");
        assert_eq!(
            v["actualShippingDetails"],
            json!({"carrier": "UPS", "serviceId": "2DA", "serviceName": "2nd Day Air",
            "trackingNumber": "1Z999", "shipDate": "2026-12-05T10:00:00Z"})
        );
        let om = om_get(&app, &t, &id).await;
        assert_eq!(om.body["orderInfo"]["status"], "UNFULFILLED");
        assert_eq!(
            om.body["orderShippingInfo"]["shipments"],
            json!([{"shipmentId": "S1", "carrier": "UPS", "service": "2DA",
            "trackingNumber": "1Z999", "shipDate": "2026-12-05T10:00:00Z",
            "items": [{"itemId": "0002-0002", "quantity": 2}]}])
        );

        // Sending either surface's view back still changes nothing.
        let etag = om.header("etag").unwrap().to_string();
        let r = om_patch(&app, &t, &id, &om.body)
            .await
            .expect(StatusCode::OK);
        assert_eq!(r.header("etag"), Some(etag.as_str()));
        let r = app
            .put(&format!("{ORDERS}/{id}"))
            .bearer(&t)
            .txid("put")
            .json(&v)
            .send()
            .await
            .expect(StatusCode::OK);
        assert_eq!(r.header("etag"), Some(etag.as_str()));

        op(&app, &t, &id, "shipments", Some(shipment("T-9", None)))
            .await
            .expect(StatusCode::CREATED);
        assert_eq!(
            om_get(&app, &t, &id).await.body["orderInfo"]["status"],
            "FULFILLED"
        );
        let shipped = om_search(
            &app,
            &t,
            &json!({"filters": [{"name": "status", "value": ["FULFILLED"]}]}),
        )
        .await;
        assert_eq!(found_ids(&shipped), [id.as_str()]);
        op(&app, &t, &id, "returns", Some(json!({"reason": "damaged"})))
            .await
            .expect(StatusCode::CREATED);
        let returned = app
        .post(&format!("{ORDERS}/search"))
        .bearer(&t)
        .txid("s2")
        .json(&json!({"clientId": "1234", "searchFields": [{"name": "status", "values": ["RETURNED"]}]}))
        .send()
        .await
        .expect(StatusCode::OK);
        assert_eq!(returned.body["orders"][0]["orderId"], id.as_str());
    }
);

both!(
    shipped_lines_can_no_longer_change_nor_be_cancelled,
    |app| async move {
        let t = app.token("1234");
        let id = create(&app, &t, "frozen").await;
        op(
            &app,
            &t,
            &id,
            "shipments",
            Some(shipment(
                "T-1",
                Some(json!([{"sku": "0001-0001", "quantity": 1}])),
            )),
        )
        .await
        .expect(StatusCode::CREATED);
        // The rest of the order can still be edited, not its lines.
        om_patch(
            &app,
            &t,
            &id,
            &json!({"toAddress": {"cityTown": "Opelika"}}),
        )
        .await
        .expect(StatusCode::OK);
        om_patch(
            &app,
            &t,
            &id,
            &json!({"items": [{"itemId": "0001-0001", "quantity": 9}]}),
        )
        .await
        .expect(StatusCode::CONFLICT);
        app.delete(&format!("{OM}/{id}/items?itemId=0002-0002"))
            .bearer(&t)
            .send()
            .await
            .expect(StatusCode::CONFLICT);
        // Cancelling a partly shipped order is refused on both paths.
        op(&app, &t, &id, "cancel", None)
            .await
            .expect(StatusCode::CONFLICT);
        let bulk = om_bulk_status(&app, &t, &[&id], "CANCELED").await;
        assert_eq!(bulk.body["results"][0]["success"], false, "{}", bulk.body);
        assert_eq!(fulfilment(&app, &t, &id).await["status"], "INPROGRESS");
    }
);

both!(bulk_moves_report_each_order, |app| async move {
    let t = app.token("1234");
    let ok = create(&app, &t, "b1").await;
    let cancelled = order_in(&app, &t, "CANCELED", 2).await;
    let r = app
        .post(&format!("{OPS}/bulk/start"))
        .bearer(&t)
        .json(&json!({"orders": [{"orderId": ok}, {"orderId": cancelled}, {"orderId": "ORA404"}]}))
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.body["succeeded"], 1);
    assert_eq!(r.body["failed"], 2);
    let results = r.body["results"].as_array().unwrap();
    assert_eq!(results[0], json!({"orderId": ok, "status": "INPROGRESS"}));
    assert_eq!(results[1]["error"]["errorCode"], "invalid_state");
    assert_eq!(results[2]["error"]["errorCode"], "not_found");

    let other = create(&app, &t, "b2").await;
    let r = app
        .post(&format!("{OPS}/bulk/shipments"))
        .bearer(&t)
        .json(&json!({"orders": [
            {"orderId": ok, "carrier": "USPS", "trackingNumber": "B-1"},
            {"orderId": other, "carrier": "USPS", "trackingNumber": "B-2",
             "lines": [{"sku": "0001-0001", "quantity": 9}]},
            {"orderId": cancelled, "carrier": "USPS", "trackingNumber": "B-3"}
        ]}))
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.body["succeeded"], 1, "{}", r.body);
    assert_eq!(r.body["results"][0]["status"], "SHIPPED");
    assert_eq!(r.body["results"][1]["error"]["errorCode"], "invalid_state");
    assert_eq!(fulfilment(&app, &t, &other).await["version"], 1);

    let many: Vec<Value> = (0..501).map(|_| json!({"orderId": ok})).collect();
    let r = app
        .post(&format!("{OPS}/bulk/start"))
        .bearer(&t)
        .json(&json!({"orders": many}))
        .send()
        .await
        .expect(StatusCode::BAD_REQUEST);
    assert_eq!(r.error_fields(), ["orders"]);
});

both!(
    the_fulfil_scope_moves_orders_but_cannot_edit_them,
    |app| async move {
        let admin = app.token("1234");
        let id = create(&app, &admin, "scope").await;
        let warehouse = app.token_with_scope("1234", "orders:fulfil");
        op(&app, &warehouse, &id, "start", None)
            .await
            .expect(StatusCode::OK);
        view(&app, &warehouse, &id).await;
        app.put(&format!("{ORDERS}/{id}"))
            .bearer(&warehouse)
            .txid("put")
            .json(&seed_replace("1234"))
            .send()
            .await
            .expect(StatusCode::FORBIDDEN);
        app.delete(&format!("{OM}/{id}"))
            .bearer(&warehouse)
            .send()
            .await
            .expect(StatusCode::FORBIDDEN);
        let reader = app.token_with_scope("1234", "orders:read");
        op(&app, &reader, &id, "hold", Some(json!({"reason": "x"})))
            .await
            .expect(StatusCode::FORBIDDEN);
        let writer = app.token_with_scope("1234", "orders:write");
        op(&app, &writer, &id, "hold", Some(json!({"reason": "x"})))
            .await
            .expect(StatusCode::OK);
        // Another tenant's order is not there.
        let stranger = app.token("9999");
        op(&app, &stranger, &id, "release", None)
            .await
            .expect(StatusCode::NOT_FOUND);
    }
);

both!(
    every_move_is_in_the_history_with_its_actor,
    |app| async move {
        let t = app.token("1234");
        let id = create(&app, &t, "hist").await;
        let keyed = app
            .keys
            .issue_for_key("1234", Some("orders:fulfil"), 3600, Some("key-1"))
            .unwrap();
        op(&app, &keyed, &id, "start", None)
            .await
            .expect(StatusCode::OK);
        op(&app, &keyed, &id, "shipments", Some(shipment("H-1", None)))
            .await
            .expect(StatusCode::CREATED);
        let h = app
            .get(&format!("{OM}/{id}/history"))
            .bearer(&t)
            .send()
            .await
            .expect(StatusCode::OK);
        let events = h.body["events"].as_array().unwrap();
        let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["created", "status_changed", "shipped"]);
        assert_eq!(events[2]["actor"], "1234");
        assert_eq!(events[2]["actorKey"], "key-1");
        assert!(events[0].get("actorKey").is_none());
        assert!(
            events[2]["changedFields"]
                .as_array()
                .unwrap()
                .contains(&json!("fulfilment"))
        );
    }
);

both!(
    bad_requests_are_refused_and_change_nothing,
    |app| async move {
        let t = app.token("1234");
        let id = create(&app, &t, "bad").await;
        let cases = [
            ("hold", json!({})),
            ("hold", json!({"reason": "x".repeat(256)})),
            ("shipments", json!({"carrier": "USPS"})),
            (
                "shipments",
                json!({"carrier": "USPS", "trackingNumber": "T", "lines": []}),
            ),
            (
                "shipments",
                json!({"carrier": "USPS", "trackingNumber": "T", "lines": [{"sku": "0001-0001", "quantity": 0}]}),
            ),
            (
                "shipments",
                json!({"carrier": "USPS", "trackingNumber": "T", "extra": 1}),
            ),
            ("backorder", json!({"lines": [{"quantity": 1}]})),
            ("cancel", json!({"reason": 5})),
            (
                "backorder",
                json!({"lines": [{"sku": "x".repeat(61), "quantity": 1}]}),
            ),
            (
                "backorder",
                json!({"lines": [{"sku": "0001-0001", "quantity": 1.5}]}),
            ),
        ];
        for (action, body) in cases {
            let r = op(&app, &t, &id, action, Some(body.clone())).await;
            assert_eq!(
                r.status,
                StatusCode::BAD_REQUEST,
                "{action} {body}: {}",
                r.body
            );
            assert!(r.body["errors"][0]["errorCode"].is_string(), "{}", r.body);
        }
        assert_eq!(fulfilment(&app, &t, &id).await["version"], 1);
        // Whole numbers may be written as 2.0.
        op(
            &app,
            &t,
            &id,
            "backorder",
            Some(json!({"lines": [{"lineId": 1.0, "quantity": 2.0}]})),
        )
        .await
        .expect(StatusCode::OK);
        // A malformed entry refuses the whole bulk request, before any order moves.
        let other = create(&app, &t, "bad2").await;
        let r = app
            .post(&format!("{OPS}/bulk/shipments"))
            .bearer(&t)
            .json(&json!({"orders": [
                {"orderId": other, "carrier": "USPS", "trackingNumber": "OK-1"},
                {"orderId": other, "carrier": "USPS"}
            ]}))
            .send()
            .await
            .expect(StatusCode::BAD_REQUEST);
        assert_eq!(r.error_fields(), ["orders[1].trackingNumber"]);
        assert_eq!(fulfilment(&app, &t, &other).await["version"], 1);
        // A body that may be left out may also be `null`.
        let r = app
            .post(&format!("{OPS}/{other}/cancel"))
            .bearer(&t)
            .header("content-type", "application/json")
            .body("null")
            .send()
            .await
            .expect(StatusCode::OK);
        assert_eq!(r.body["status"], "CANCELED");
    }
);
