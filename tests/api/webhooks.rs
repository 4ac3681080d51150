//! Issue 21, webhook endpoints and the outbox: the extension API under /oms/v1/webhooks (CRUD,
//! pause, resume, rotation, tenancy, the Fulfillment error shape, refusal of private URLs), and
//! delivery rows written in the transaction of each change, one order's events in order.

use axum::http::StatusCode;
use oms::store::webhooks::{AttemptRecord, Next};
use serde_json::{Value, json};

use crate::common::fixtures::order_numbered;

const ENDPOINTS: &str = "/oms/v1/webhooks/endpoints";
const FULFILLMENT: &str = "/shippingservices/fulfillment/v1/orders";
/// A public address written as an IP, so that creating an endpoint needs no DNS.
const PUBLIC_URL: &str = "https://93.184.216.34/hooks/oms";

async fn create_order(app: &crate::common::TestApp, token: &str, client: &str, n: &str) -> String {
    let created = app
        .post(FULFILLMENT)
        .bearer(token)
        .txid(&format!("wh-{n}"))
        .json(&order_numbered(client, &format!("WH-{n}")))
        .send()
        .await
        .expect(StatusCode::CREATED);
    created.body["orderId"].as_str().unwrap().to_string()
}

both!(endpoints_are_managed_per_tenant, |app| async move {
    let token = app.token("T1");
    let created = app
        .post(ENDPOINTS)
        .bearer(&token)
        .json(&json!({"url": PUBLIC_URL, "description": "warehouse"}))
        .send()
        .await
        .expect(StatusCode::CREATED);
    let id = created.body["id"].as_str().unwrap().to_string();
    let secret = created.body["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"), "{secret}");
    assert_eq!(created.body["status"], "active");
    assert_eq!(created.body["eventTypes"], Value::Null);
    assert_eq!(created.body["url"], PUBLIC_URL);

    let listed = app
        .get(ENDPOINTS)
        .bearer(&token)
        .send()
        .await
        .expect(StatusCode::OK);
    let endpoints = listed.body["endpoints"].as_array().unwrap();
    assert_eq!(endpoints.len(), 1);
    assert_eq!(endpoints[0]["id"], id.as_str());
    assert!(
        endpoints[0].get("secret").is_none(),
        "secrets are shown once"
    );

    // Another tenant sees nothing and reaches nothing.
    let other = app.token("T2");
    let theirs = app
        .get(ENDPOINTS)
        .bearer(&other)
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(theirs.body["endpoints"], json!([]));
    let path = format!("{ENDPOINTS}/{id}");
    for request in [
        app.get(&path),
        app.delete(&path),
        app.post(&format!("{path}/pause")),
        app.post(&format!("{path}/rotate-secret")),
    ] {
        let r = request
            .bearer(&other)
            .send()
            .await
            .expect(StatusCode::NOT_FOUND);
        assert_eq!(r.error_code(), "not_found");
    }

    let changed = app
        .patch(&path)
        .bearer(&token)
        .json(&json!({"eventTypes": ["order.created", "order.status_changed"]}))
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        changed.body["eventTypes"],
        json!(["order.created", "order.status_changed"])
    );
    assert_eq!(changed.body["description"], "warehouse", "left out, kept");
    let cleared = app
        .patch(&path)
        .bearer(&token)
        .json(&json!({"description": null, "eventTypes": null}))
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(cleared.body["description"], Value::Null);
    assert_eq!(cleared.body["eventTypes"], Value::Null);

    let paused = app
        .post(&format!("{path}/pause"))
        .bearer(&token)
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(paused.body["status"], "paused");
    let resumed = app
        .post(&format!("{path}/resume"))
        .bearer(&token)
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(resumed.body["status"], "active");

    let rotated = app
        .post(&format!("{path}/rotate-secret"))
        .bearer(&token)
        .send()
        .await
        .expect(StatusCode::OK);
    let new_secret = rotated.body["secret"].as_str().unwrap();
    assert!(new_secret.starts_with("whsec_") && new_secret != secret);

    // Reading takes orders:read, changing orders:write.
    let reader = app.token_with_scope("T1", "orders:read");
    app.get(&path)
        .bearer(&reader)
        .send()
        .await
        .expect(StatusCode::OK);
    app.post(ENDPOINTS)
        .bearer(&reader)
        .json(&json!({"url": PUBLIC_URL}))
        .send()
        .await
        .expect(StatusCode::FORBIDDEN);

    app.delete(&path)
        .bearer(&token)
        .send()
        .await
        .expect(StatusCode::NO_CONTENT);
    app.get(&path)
        .bearer(&token)
        .send()
        .await
        .expect(StatusCode::NOT_FOUND);
});

both!(
    bad_endpoints_are_refused_in_the_fulfillment_shape,
    |app| async move {
        let token = app.token("T1");
        let cases = [
            (json!({"url": "http://127.0.0.1:9/hook"}), "url"),
            (json!({"url": "http://localhost:8080/hook"}), "url"),
            (json!({"url": "http://169.254.169.254/latest"}), "url"),
            (json!({"url": "http://[::1]/hook"}), "url"),
            (json!({"url": "ftp://93.184.216.34/x"}), "url"),
            (json!({}), "url"),
            (
                json!({"url": PUBLIC_URL, "eventTypes": ["order.nope"]}),
                "eventTypes[0]",
            ),
            (json!({"url": PUBLIC_URL, "eventTypes": []}), "eventTypes"),
            (
                json!({"url": PUBLIC_URL, "description": "x".repeat(257)}),
                "description",
            ),
            (json!({"url": PUBLIC_URL, "secret": "mine"}), "secret"),
        ];
        for (body, field) in cases {
            let r = app
                .post(ENDPOINTS)
                .bearer(&token)
                .json(&body)
                .send()
                .await
                .expect(StatusCode::BAD_REQUEST);
            assert!(
                r.error_fields().contains(&field.to_string()),
                "{body}: {}",
                r.body
            );
            assert!(
                r.body["errors"][0]["errorDescription"].is_string(),
                "{}",
                r.body
            );
        }
        let listed = app
            .get(ENDPOINTS)
            .bearer(&token)
            .send()
            .await
            .expect(StatusCode::OK);
        assert_eq!(listed.body["endpoints"], json!([]), "nothing was saved");
        let missing = app
            .get(&format!("{ENDPOINTS}/ep_nope/deliveries"))
            .bearer(&token)
            .send()
            .await
            .expect(StatusCode::NOT_FOUND);
        assert_eq!(missing.error_code(), "not_found");
        // A name no resolver knows yet is saved: every delivery checks its addresses again.
        app.post(ENDPOINTS)
            .bearer(&token)
            .json(&json!({"url": "https://hooks.not-yet.invalid/oms"}))
            .send()
            .await
            .expect(StatusCode::CREATED);
    }
);

both!(
    changes_queue_deliveries_in_their_transaction_in_order,
    |app| async move {
        let token = app.token("T1");
        let all = app
            .post(ENDPOINTS)
            .bearer(&token)
            .json(&json!({"url": PUBLIC_URL}))
            .send()
            .await
            .expect(StatusCode::CREATED);
        let all = all.body["id"].as_str().unwrap().to_string();
        // Subscribed to deletions only: a create is not queued for it.
        app.post(ENDPOINTS)
            .bearer(&token)
            .json(&json!({"url": PUBLIC_URL, "eventTypes": ["order.deleted"]}))
            .send()
            .await
            .expect(StatusCode::CREATED);
        // Another tenant's endpoint hears nothing of T1's orders.
        app.post(ENDPOINTS)
            .bearer(&app.token("T2"))
            .json(&json!({"url": PUBLIC_URL}))
            .send()
            .await
            .expect(StatusCode::CREATED);

        let order = create_order(&app, &token, "T1", "1").await;
        let tags = format!("/ordermanagement/api/v1/orders/{order}/tags");
        app.put(&tags)
            .bearer(&token)
            .json(&json!({"tagIds": ["vip"]}))
            .send()
            .await
            .expect(StatusCode::OK);
        // A write that is refused queues nothing.
        app.put(&format!("{FULFILLMENT}/{order}"))
            .bearer(&token)
            .txid("wh-stale")
            .header("if-match", "\"1\"")
            .json(&order_numbered("T1", "WH-1"))
            .send()
            .await
            .expect(StatusCode::PRECONDITION_FAILED);

        let now = oms::webhooks::now_ms();
        let claimed = app
            .store
            .claim_deliveries(now, now + 60_000, 100)
            .await
            .unwrap();
        assert_eq!(
            claimed.len(),
            1,
            "only the oldest event of the order: {claimed:?}"
        );
        let first = &claimed[0];
        assert_eq!(first.endpoint_id, all);
        assert_eq!(
            (
                first.order_id.as_str(),
                first.version,
                first.event_type.as_str()
            ),
            (order.as_str(), 1, "order.created")
        );
        // While the first is out, the second waits, leased or not.
        let again = app
            .store
            .claim_deliveries(now, now + 60_000, 100)
            .await
            .unwrap();
        assert!(again.is_empty(), "{again:?}");
        app.store
            .record_attempts(&[AttemptRecord {
                delivery_id: first.id,
                endpoint_id: first.endpoint_id.clone(),
                attempted_at: now,
                status_code: Some(200),
                latency_ms: 3,
                error: None,
                next: Next::Delivered,
            }])
            .await
            .unwrap();
        let next = app
            .store
            .claim_deliveries(now, now + 60_000, 100)
            .await
            .unwrap();
        assert_eq!(next.len(), 1, "{next:?}");
        assert_eq!(
            (next[0].version, next[0].event_type.as_str()),
            (2, "order.tags_changed")
        );
        assert_eq!(next[0].changed_fields.0, ["tags"]);

        let log = app
            .get(&format!("{ENDPOINTS}/{all}/deliveries"))
            .bearer(&token)
            .send()
            .await
            .expect(StatusCode::OK);
        let attempts = log.body["attempts"].as_array().unwrap();
        assert_eq!(attempts.len(), 1);
        assert_eq!(attempts[0]["statusCode"], 200);
        assert_eq!(attempts[0]["deliveryState"], "delivered");
        assert_eq!(attempts[0]["eventType"], "order.created");
    }
);

both!(
    finished_deliveries_are_purged_after_their_time,
    |app| async move {
        let token = app.token("T1");
        app.post(ENDPOINTS)
            .bearer(&token)
            .json(&json!({"url": PUBLIC_URL}))
            .send()
            .await
            .expect(StatusCode::CREATED);
        let old = create_order(&app, &token, "T1", "old").await;
        create_order(&app, &token, "T1", "pending").await;
        let now = oms::webhooks::now_ms();
        let claimed = app
            .store
            .claim_deliveries(now, now + 60_000, 100)
            .await
            .unwrap();
        assert_eq!(claimed.len(), 2);
        let done = claimed.iter().find(|c| c.order_id == old).unwrap();
        let day = 24 * 3600 * 1000;
        app.store
            .record_attempts(&[AttemptRecord {
                delivery_id: done.id,
                endpoint_id: done.endpoint_id.clone(),
                attempted_at: now - 40 * day,
                status_code: Some(204),
                latency_ms: 1,
                error: None,
                next: Next::Delivered,
            }])
            .await
            .unwrap();
        // Finished 40 days ago: kept for a 50-day window, gone for a 30-day one; the pending one
        // stays whatever its age.
        assert_eq!(
            app.store
                .purge_deliveries(now - 50 * day, 10)
                .await
                .unwrap(),
            0
        );
        assert_eq!(
            app.store
                .purge_deliveries(now - 30 * day, 10)
                .await
                .unwrap(),
            1
        );
        assert_eq!(app.store.purge_deliveries(now + day, 10).await.unwrap(), 0);
        let log = app
            .get(&format!("{ENDPOINTS}/{}/deliveries", done.endpoint_id))
            .bearer(&token)
            .send()
            .await
            .expect(StatusCode::OK);
        assert_eq!(log.body["attempts"], json!([]), "its log went with it");
    }
);
