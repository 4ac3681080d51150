//! Issue 18, "Against the documents": the server does what the two Pitney Bowes documents and
//! their samples say (pb-api-research.md, the seeds). On SQLite and PostgreSQL.

use crate::common::fixtures::order_numbered;
use crate::common::sendpro_fixtures::*;
use axum::http::StatusCode;

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
