//! Issue 17 item 4: free-form fields and whole orders are bounded (4 KiB per free-form value,
//! 512 KiB per stored order), in both dialects, and a refused order leaves nothing behind; a
//! search page is bounded too (16 MiB of orders), while a default page of the largest orders
//! still works. On SQLite and PostgreSQL.

use crate::common::fixtures::*;
use crate::common::sendpro_fixtures::*;
use crate::common::{Resp, TestApp};
use axum::http::StatusCode;
use serde_json::{Value, json};

const ORDERS: &str = "/shippingservices/fulfillment/v1/orders";
const CLIENT: &str = "c1";

async fn f_create(app: &TestApp, tx: &str, body: &Value) -> Resp {
    let t = app.token(CLIENT);
    app.post(ORDERS).bearer(&t).txid(tx).json(body).send().await
}

fn lines(n: usize, extra: Value) -> Value {
    (0..n)
        .map(|i| {
            let mut l = json!({"lineId": i + 1, "sku": format!("SKU-{i:04}"), "orderedQuantity": 1, "unitPrice": 1, "inventoryType": "NEW"});
            if let (Some(l), Some(extra)) = (l.as_object_mut(), extra.as_object()) {
                l.extend(extra.clone());
            }
            l
        })
        .collect()
}

async fn stored_orders(app: &TestApp) -> u64 {
    let t = app.token(CLIENT);
    let r = app
        .post(&format!("{ORDERS}/search"))
        .bearer(&t)
        .txid("tx-count")
        .json(&json!({"clientId": CLIENT}))
        .send()
        .await
        .expect(StatusCode::OK);
    r.body["totalElements"].as_u64().unwrap()
}

both!(free_form_fields_are_bounded, |app| async move {
    let mut body = seed_create(CLIENT);
    body["salesChannel"] = json!({"name": "x".repeat(1 << 20)});
    let r = f_create(&app, "tx-big-1", &body)
        .await
        .expect(StatusCode::BAD_REQUEST);
    assert_eq!(r.error_fields(), ["salesChannel"]);
    assert!(
        r.body.to_string().len() < 4096,
        "the value is not echoed back"
    );

    let mut body = seed_create(CLIENT);
    body["orderLines"][0]["additionalDetails"] = json!({"note": "y".repeat(5000)});
    let r = f_create(&app, "tx-big-2", &body)
        .await
        .expect(StatusCode::BAD_REQUEST);
    assert_eq!(r.error_fields(), ["orderLines[0].additionalDetails"]);

    let t = app.token(CLIENT);
    let mut body = sendpro_create("BIG-SP");
    body["customerInfo"]["notes"] = json!("z".repeat(5000));
    let r = app
        .post(&format!("{OM}/orders"))
        .bearer(&t)
        .json(&body)
        .send()
        .await
        .expect(StatusCode::BAD_REQUEST);
    assert_eq!(r.body["additionalInfo"], "customerInfo");
    assert_eq!(stored_orders(&app).await, 0);
});

both!(
    whole_orders_are_bounded_but_not_below_the_line_limit,
    |app| async move {
        // 1,000 plain lines: the line limit, not the size, is what bites.
        let mut body = seed_create(CLIENT);
        body["orderLines"] = lines(1000, json!({}));
        body.as_object_mut().unwrap().remove("orderCharges");
        f_create(&app, "tx-lines", &body)
            .await
            .expect(StatusCode::CREATED);

        // 1,000 lines each with a modest free-form value: every part allowed, the whole too large.
        let mut body = order_numbered(CLIENT, "BIG-2");
        body["orderLines"] = lines(
            1000,
            json!({"additionalDetails": {"note": "n".repeat(500)}}),
        );
        body.as_object_mut().unwrap().remove("orderCharges");
        let r = f_create(&app, "tx-fat", &body)
            .await
            .expect(StatusCode::BAD_REQUEST);
        assert_eq!(r.error_fields(), ["order"]);
        assert_eq!(stored_orders(&app).await, 1);

        // A patch that would grow an order past the bound changes nothing.
        let t = app.token(CLIENT);
        let id = om_create(&app, &t, "GROW-1").await;
        // 1,000 items, each field within bounds: about 3.5 MB in all.
        let items: Vec<Value> = (0..1000)
            .map(|i| {
                json!({"itemId": format!("S{i}"), "quantity": 1, "unitPrice": 1,
                       "unitWeight": {"weight": 1, "unitOfMeasurement": "OZ", "note": "w".repeat(3000)}})
            })
            .collect();
        let r = om_patch(&app, &t, &id, &json!({"items": items}))
            .await
            .expect(StatusCode::BAD_REQUEST);
        assert_eq!(r.body["additionalInfo"], "order");
        assert_eq!(om_etag(&app, &t, &id).await, "\"1\"");
    }
);

both!(
    a_search_page_is_bounded_in_bytes_but_a_default_page_always_fits,
    |app| async move {
        // 36 orders of about 495 KB each (120 lines with a 4,000-character note): 17.8 MB in
        // all, more than the 16 MiB a page may hold; 20 of them are 9.9 MB.
        for i in 0..36 {
            let mut body = order_numbered(CLIENT, &format!("LARGE-{i}"));
            body["orderLines"] = lines(
                120,
                json!({"additionalDetails": {"note": "n".repeat(4000)}}),
            );
            body.as_object_mut().unwrap().remove("orderCharges");
            f_create(&app, &format!("tx-large-{i}"), &body)
                .await
                .expect(StatusCode::CREATED);
        }
        let t = app.token(CLIENT);
        let search = |path: &'static str, size: Option<u32>| {
            let query = size.map_or(String::new(), |s| format!("?page=1&size={s}"));
            app.post(&format!("{ORDERS}/{path}{query}"))
                .bearer(&t)
                .txid("tx-page")
                .json(&json!({"clientId": CLIENT}))
                .send()
        };

        let page = search("search", None).await.expect(StatusCode::OK);
        assert_eq!(page.body["orders"].as_array().unwrap().len(), 20);
        assert_eq!(page.body["totalElements"], 36);
        // 30 of them, 14.9 MB, are within the bound.
        let r = search("search", Some(30)).await.expect(StatusCode::OK);
        assert_eq!(r.body["orders"].as_array().unwrap().len(), 30);

        for path in ["search", "status/search"] {
            let r = search(path, Some(36)).await.expect(StatusCode::BAD_REQUEST);
            assert_eq!(r.error_fields(), ["size"], "{path}");
            let text = r.body.to_string();
            assert!(
                text.contains("16 MiB") && text.contains("smaller size"),
                "{text}"
            );
        }

        let r = om_search(&app, &t, &json!({"page": 0, "size": 36}))
            .await
            .expect(StatusCode::BAD_REQUEST);
        assert_eq!(r.body["additionalInfo"], "size");
        let r = om_search(&app, &t, &json!({"page": 1, "size": 20}))
            .await
            .expect(StatusCode::OK);
        assert_eq!(r.body["orders"].as_array().unwrap().len(), 16);
    }
);
