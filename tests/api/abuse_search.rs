//! Issue 17 item 1: what one search may ask is bounded (10 criteria, 100 values each, 200 in
//! all, 4 sort keys), too much is a 400 in the surface's error shape, and the largest allowed
//! search runs (so the bounds sit inside what both engines accept). On SQLite and PostgreSQL.

use crate::common::TestApp;
use crate::common::fixtures::*;
use crate::common::sendpro_fixtures::*;
use axum::http::StatusCode;
use serde_json::{Value, json};

const F_SEARCH: &str = "/shippingservices/fulfillment/v1/orders/search";
const CLIENT: &str = "c1";

async fn om_search(app: &TestApp, body: &Value) -> crate::common::Resp {
    let t = app.token(CLIENT);
    app.post(&format!("{OM}/orders/search"))
        .bearer(&t)
        .json(body)
        .send()
        .await
}

async fn f_search(app: &TestApp, body: Value) -> crate::common::Resp {
    let t = app.token(CLIENT);
    let mut body = body;
    body["clientId"] = json!(CLIENT);
    app.post(F_SEARCH)
        .bearer(&t)
        .txid("tx-s")
        .json(&body)
        .send()
        .await
}

fn values(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i}")).collect()
}

fn with_first(first: &str, mut rest: Vec<String>) -> Vec<String> {
    rest.insert(0, first.to_string());
    rest
}

fn om_fields(r: &crate::common::Resp) -> String {
    r.body["additionalInfo"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

both!(sendpro_searches_past_the_bounds_are_400, |app| async move {
    // The attack from the issue: 150 tag criteria.
    let many: Vec<Value> = (0..150)
        .map(|i| json!({"name": "tagIds", "value": [format!("t{i}")]}))
        .collect();
    let r = om_search(&app, &json!({"filters": many}))
        .await
        .expect(StatusCode::BAD_REQUEST);
    assert_eq!(r.body["errorCode"], "validation_error");
    assert_eq!(om_fields(&r), "filters");

    let r = om_search(
        &app,
        &json!({"filters": [{"name": "itemId", "value": values("s", 101)}]}),
    )
    .await
    .expect(StatusCode::BAD_REQUEST);
    assert_eq!(om_fields(&r), "filters[0].value");

    // 3 × 100 values: each criterion within bounds, the total not.
    let three: Vec<Value> = ["itemId", "tagIds", "orderNumber"]
        .iter()
        .map(|n| json!({"name": n, "value": values("v", 100)}))
        .collect();
    let r = om_search(&app, &json!({"filters": three}))
        .await
        .expect(StatusCode::BAD_REQUEST);
    assert_eq!(om_fields(&r), "filters");
});

both!(
    fulfillment_searches_past_the_bounds_are_400,
    |app| async move {
        let many: Vec<Value> = (0..11)
            .map(|i| json!({"name": "brand", "values": [format!("b{i}")]}))
            .collect();
        let r = f_search(&app, json!({"searchFields": many}))
            .await
            .expect(StatusCode::BAD_REQUEST);
        assert_eq!(r.error_fields(), ["searchFields"]);

        let r = f_search(
            &app,
            json!({"searchFields": [{"name": "orders", "values": values("o", 101)}]}),
        )
        .await
        .expect(StatusCode::BAD_REQUEST);
        assert_eq!(r.error_fields(), ["searchFields[0].values"]);

        let sort: Vec<String> = (0..5).map(|_| "createDate-asc".to_string()).collect();
        let r = f_search(&app, json!({"sort": sort}))
            .await
            .expect(StatusCode::BAD_REQUEST);
        assert_eq!(r.error_fields(), ["sort"]);

        // Thousands of sort keys were a 500 ("too many terms in ORDER BY clause").
        let sort: Vec<String> = (0..70_000)
            .map(|_| "pbCreateDate-desc".to_string())
            .collect();
        let r = f_search(&app, json!({"sort": sort}))
            .await
            .expect(StatusCode::BAD_REQUEST);
        assert_eq!(r.error_fields(), ["sort"]);
    }
);

// The heaviest search allowed runs on both engines and finds what it should.
both!(the_largest_allowed_searches_run, |app| async move {
    let t = app.token(CLIENT);
    let id = om_create(&app, &t, "BIG-1").await;
    app.put(&format!("{OM}/orders/{id}/tags"))
        .bearer(&t)
        .json(&json!({"tagIds": ["t0"]}))
        .send()
        .await
        .expect(StatusCode::OK);

    // 10 criteria, 20 values each: 200 values, every kind that costs a subquery included.
    let mut filters: Vec<Value> = Vec::new();
    for _ in 0..4 {
        filters.push(json!({"name": "tagIds", "value": values("t", 20)}));
        filters.push(json!({"name": "itemId", "value": with_first("SKU12345", values("s", 19))}));
    }
    filters.push(json!({"name": "orderNumber", "value": with_first("BIG-1", values("n", 19))}));
    filters.push(json!({"name": "status", "value": ["UNFULFILLED"]}));
    let r = om_search(&app, &json!({"filters": filters}))
        .await
        .expect(StatusCode::OK);
    assert_eq!(found_ids(&r), [id]);

    let fid = app
        .post("/shippingservices/fulfillment/v1/orders")
        .bearer(&t)
        .txid("tx-big")
        .json(&seed_create(CLIENT))
        .send()
        .await
        .expect(StatusCode::CREATED)
        .body["orderId"]
        .as_str()
        .unwrap()
        .to_string();
    let mut fields: Vec<Value> = (0..9)
        .map(|_| json!({"name": "orders", "values": with_first(&fid, values("o", 21))}))
        .collect();
    fields.push(json!({"name": "status", "values": ["RECEIVED"]}));
    let sort = [
        "createDate-asc",
        "updateDate-desc",
        "pbCreateDate-asc",
        "pbUpdateDate-desc",
    ];
    let r = f_search(&app, json!({"searchFields": fields, "sort": sort}))
        .await
        .expect(StatusCode::OK);
    let found: Vec<&str> = r.body["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["orderId"].as_str().unwrap())
        .collect();
    assert_eq!(found, [fid.as_str()]);
});
