//! Issue 18, "Against the documents": the server does what the two Pitney Bowes documents and
//! their samples say (pb-api-research.md, the seeds). On SQLite and PostgreSQL.

use crate::common::fixtures::order_numbered;
use crate::common::sendpro_fixtures::*;
use axum::http::StatusCode;
use serde_json::json;

const FULFILLMENT: &str = "/shippingservices/fulfillment/v1/orders";

both!(
    sendpro_key_conflict_names_the_idempotency_key_header,
    |app| async move {
        let t = app.token("c1");
        let post = |body: serde_json::Value| {
            app.post(&format!("{OM}/orders"))
                .bearer(&t)
                .header("idempotency-key", "key-0001")
                .json(&body)
                .send()
        };
        post(sendpro_create("IDEM-1")).await.expect(StatusCode::OK);
        let r = post(sendpro_create("IDEM-2"))
            .await
            .expect(StatusCode::CONFLICT);
        let message = r.body["message"].as_str().unwrap();
        assert!(message.contains("Idempotency-Key"), "{}", r.body);
        assert!(!message.contains("transaction id"), "{}", r.body);

        // The Fulfillment surface names its own header.
        let t = app.token("C1");
        let fpost = |id: &str| {
            app.post(FULFILLMENT)
                .bearer(&t)
                .txid("key-0001")
                .json(&order_numbered("C1", id))
                .send()
        };
        fpost("IDEM-A").await.expect(StatusCode::CREATED);
        let r = fpost("IDEM-B").await.expect(StatusCode::CONFLICT);
        assert!(
            r.body.to_string().contains("X-PB-TransactionId"),
            "{}",
            r.body
        );
    }
);

both!(unknown_query_parameters_are_ignored, |app| async move {
    let t = app.token("C1");
    let created = app
        .post(FULFILLMENT)
        .bearer(&t)
        .txid("q-1")
        .json(&order_numbered("C1", "QUERY-1"))
        .send()
        .await
        .expect(StatusCode::CREATED);
    let id = created.body["orderId"].as_str().unwrap().to_string();
    app.get(&format!(
        "{FULFILLMENT}/{id}?clientId=C1&_=1712345678&utm_source=sdk"
    ))
    .bearer(&t)
    .txid("q-2")
    .send()
    .await
    .expect(StatusCode::OK);
    let found = app
        .post(&format!("{FULFILLMENT}/search?page=1&size=5&trace=abc"))
        .bearer(&t)
        .txid("q-3")
        .json(&json!({"clientId": "C1"}))
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(found.body["totalElements"], 1, "{}", found.body);
    // A defined parameter is still checked.
    app.post(&format!("{FULFILLMENT}/search?size=0&trace=abc"))
        .bearer(&t)
        .txid("q-4")
        .json(&json!({"clientId": "C1"}))
        .send()
        .await
        .expect(StatusCode::BAD_REQUEST);

    let t = app.token("c1");
    let om = app
        .post(&format!("{OM}/orders"))
        .bearer(&t)
        .json(&sendpro_create("QUERY-2"))
        .send()
        .await
        .expect(StatusCode::OK);
    let om_id = om.body["orderId"].as_str().unwrap().to_string();
    let sku = sample_item()["itemId"].as_str().unwrap().to_string();
    let r = app
        .delete(&format!("{OM}/orders/{om_id}/items?itemId={sku}&_=1"))
        .bearer(&t)
        .send()
        .await;
    assert!(r.status.is_success(), "{} {}", r.status, r.body);
});
