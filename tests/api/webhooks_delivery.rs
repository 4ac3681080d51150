//! Issue 21, delivery: a dispatcher beside the app sends each event to a receiver on loopback,
//! signed per Standard Webhooks; retries after failures and 500s; pause, disabling after the
//! retry period, redelivery, no redirects; and one order's events in order under concurrent
//! updates.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::common::TestApp;
use crate::common::fixtures::order_numbered;
use crate::webhooks_receiver::{Receiver, quick, verify};

const ENDPOINTS: &str = "/oms/v1/webhooks/endpoints";
const FULFILLMENT: &str = "/shippingservices/fulfillment/v1/orders";
const WAIT: Duration = Duration::from_secs(20);

/// Creates an endpoint for `url`; its id and secret.
async fn subscribe(app: &TestApp, token: &str, body: Value) -> (String, String) {
    let created = app
        .post(ENDPOINTS)
        .bearer(token)
        .json(&body)
        .send()
        .await
        .expect(StatusCode::CREATED);
    (
        created.body["id"].as_str().unwrap().to_string(),
        created.body["secret"].as_str().unwrap().to_string(),
    )
}

async fn create_order(app: &TestApp, token: &str, client: &str, n: usize) -> String {
    let created = app
        .post(FULFILLMENT)
        .bearer(token)
        .txid(&format!("whd-{n}"))
        .json(&order_numbered(client, &format!("WHD-{n}")))
        .send()
        .await
        .expect(StatusCode::CREATED);
    created.body["orderId"].as_str().unwrap().to_string()
}

async fn log(app: &TestApp, token: &str, endpoint: &str) -> Vec<Value> {
    let r = app
        .get(&format!("{ENDPOINTS}/{endpoint}/deliveries"))
        .bearer(token)
        .send()
        .await
        .expect(StatusCode::OK);
    r.body["attempts"].as_array().unwrap().clone()
}

/// Waits (bounded) until the endpoint's log satisfies `done`.
async fn wait_log(app: &TestApp, token: &str, endpoint: &str, done: impl Fn(&[Value]) -> bool) {
    let waited = tokio::time::timeout(WAIT, async {
        loop {
            if done(&log(app, token, endpoint).await) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    if waited.is_err() {
        panic!("log never got there: {:?}", log(app, token, endpoint).await);
    }
}

delivering!(an_event_is_delivered_signed, quick(), |app| async move {
    let receiver = Receiver::start().await;
    let token = app.token("T1");
    let (endpoint, secret) = subscribe(&app, &token, json!({"url": receiver.url()})).await;
    let order = create_order(&app, &token, "T1", 1).await;

    let hits = receiver.wait_delivered(1, WAIT).await;
    let hit = &hits[0];
    assert_eq!(hit.path, "/hook");
    assert!(
        verify(&secret, hit),
        "signature: {}",
        hit.header("webhook-signature")
    );
    assert!(hit.header("webhook-id").starts_with("msg_"));
    let sent: i64 = hit.header("webhook-timestamp").parse().unwrap();
    assert!((chrono::Utc::now().timestamp() - sent).abs() < 60);
    assert_eq!(hit.header("content-type"), "application/json");
    assert_eq!(hit.json["type"], "order.created");
    assert_eq!(hit.json["data"]["orderId"], order.as_str());
    assert_eq!(hit.json["data"]["clientId"], "T1");
    assert_eq!(hit.json["data"]["version"], 1);
    assert!(hit.json["timestamp"].as_str().unwrap().ends_with('Z'));

    // A tampered body does not verify with the secret; another secret does not either.
    let mut tampered = hit.clone();
    tampered.body = axum::body::Bytes::from(hit.body.to_vec().repeat(2));
    assert!(!verify(&secret, &tampered));
    assert!(!verify(&oms::webhooks::signing::generate_secret(), hit));

    wait_log(&app, &token, &endpoint, |l| l.len() == 1).await;
    let attempts = log(&app, &token, &endpoint).await;
    assert_eq!(attempts[0]["statusCode"], 200);
    assert_eq!(attempts[0]["deliveryState"], "delivered");
    assert!(attempts[0]["latencyMs"].as_i64().unwrap() >= 0);

    // After a rotation, deliveries carry a signature with each secret.
    let rotated = app
        .post(&format!("{ENDPOINTS}/{endpoint}/rotate-secret"))
        .bearer(&token)
        .send()
        .await
        .expect(StatusCode::OK);
    let new_secret = rotated.body["secret"].as_str().unwrap().to_string();
    app.put(&format!("/ordermanagement/api/v1/orders/{order}/tags"))
        .bearer(&token)
        .json(&json!({"tagIds": ["vip"]}))
        .send()
        .await
        .expect(StatusCode::OK);
    let hits = receiver.wait_delivered(2, WAIT).await;
    assert_eq!(hits[1].json["type"], "order.tags_changed");
    assert_eq!(hits[1].json["data"]["changedFields"], json!(["tags"]));
    assert!(verify(&new_secret, &hits[1]) && verify(&secret, &hits[1]));
    assert_eq!(receiver.hits().len(), 2, "each event once");
});

delivering!(a_500_is_retried_until_a_200, quick(), |app| async move {
    let receiver = Receiver::start().await;
    receiver.answer(&[500, 503]);
    let token = app.token("T1");
    let (endpoint, _) = subscribe(&app, &token, json!({"url": receiver.url()})).await;
    create_order(&app, &token, "T1", 1).await;

    let delivered = receiver.wait_delivered(1, WAIT).await;
    let hits = receiver.hits();
    assert_eq!(hits.len(), 3, "two failures, then the delivery");
    let ids: HashSet<&str> = hits.iter().map(|h| h.header("webhook-id")).collect();
    assert_eq!(ids.len(), 1, "every attempt carries the same webhook-id");
    assert_eq!(delivered[0].json["type"], "order.created");
    wait_log(&app, &token, &endpoint, |l| l.len() == 3).await;
    let codes: Vec<Value> = log(&app, &token, &endpoint)
        .await
        .iter()
        .map(|a| a["statusCode"].clone())
        .collect();
    assert_eq!(codes, [json!(200), json!(503), json!(500)], "newest first");
});

delivering!(
    a_receiver_that_is_down_gets_it_when_it_is_up,
    quick(),
    |app| async move {
        // A port nobody listens on, until the receiver starts there.
        let addr = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap()
            .local_addr()
            .unwrap();
        let token = app.token("T1");
        let url = format!("http://{addr}/hook");
        let (endpoint, _) = subscribe(&app, &token, json!({"url": url})).await;
        let order = create_order(&app, &token, "T1", 1).await;
        wait_log(&app, &token, &endpoint, |l| l.len() >= 2).await;
        let attempts = log(&app, &token, &endpoint).await;
        assert_eq!(attempts[0]["statusCode"], Value::Null);
        assert!(
            attempts[0]["error"].as_str().unwrap().contains("connect"),
            "{attempts:?}"
        );
        assert_eq!(attempts[0]["deliveryState"], "pending");

        let receiver = Receiver::start_on(addr).await;
        let hits = receiver.wait_delivered(1, WAIT).await;
        assert_eq!(hits[0].json["data"]["orderId"], order.as_str());
    }
);

delivering!(
    one_orders_events_arrive_in_order_under_concurrent_updates,
    quick(),
    |app| async move {
        let receiver = Receiver::start().await;
        // Some failures along the way: a retried event must still hold back the next ones.
        receiver.answer(&[500, 200, 200, 500, 500, 200, 200, 200, 500]);
        let token = app.token("T1");
        subscribe(&app, &token, json!({"url": receiver.url()})).await;
        let mut orders = Vec::new();
        for n in 0..4 {
            orders.push(create_order(&app, &token, "T1", n).await);
        }
        let mut tasks = Vec::new();
        for (i, order) in orders.iter().enumerate() {
            for w in 0..2 {
                let (app, token, order) = (app.clone(), token.clone(), order.clone());
                tasks.push(tokio::spawn(async move {
                    for k in 0..4 {
                        app.put(&format!("/ordermanagement/api/v1/orders/{order}/tags"))
                            .bearer(&token)
                            .json(&json!({"tagIds": [format!("t{i}-{w}-{k}")]}))
                            .send()
                            .await
                            .expect(StatusCode::OK);
                    }
                }));
            }
        }
        for t in tasks {
            t.await.unwrap();
        }
        // 4 creates and 4 × 8 tag changes.
        let hits = receiver.wait_delivered(36, WAIT).await;
        let mut seen: BTreeMap<String, Vec<i64>> = BTreeMap::new();
        for hit in &hits {
            let (order, version) = hit.order_version();
            seen.entry(order).or_default().push(version);
        }
        for order in &orders {
            assert_eq!(seen[order], (1..=9).collect::<Vec<i64>>(), "{order}");
        }
    }
);

delivering!(
    an_endpoint_that_keeps_failing_is_disabled,
    oms::webhooks::WebhookSettings {
        retry_for: Duration::from_millis(600),
        ..quick()
    },
    |app| async move {
        let receiver = Receiver::start().await;
        receiver.always(500);
        let token = app.token("T1");
        let (endpoint, _) = subscribe(&app, &token, json!({"url": receiver.url()})).await;
        create_order(&app, &token, "T1", 1).await;
        let path = format!("{ENDPOINTS}/{endpoint}");
        let waited = tokio::time::timeout(WAIT, async {
            loop {
                let r = app.get(&path).bearer(&token).send().await;
                if r.body["status"] == "disabled" {
                    return r.body;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await
        .expect("disabled in time");
        let reason = waited["disabledReason"].as_str().unwrap();
        assert!(reason.contains("answered 500"), "{reason}");
        let attempts = log(&app, &token, &endpoint).await;
        assert!(attempts.len() >= 2, "retried first: {attempts:?}");
        assert!(attempts.iter().all(|a| a["deliveryState"] == "failed"));

        // Disabled: new events are not sent. Resumed and asked, the failed one is.
        let tries = receiver.hits().len();
        create_order(&app, &token, "T1", 2).await;
        receiver.always(200);
        app.post(&format!("{path}/resume"))
            .bearer(&token)
            .send()
            .await
            .expect(StatusCode::OK);
        let order_one = attempts[0]["orderId"].as_str().unwrap().to_string();
        let queued = app
            .post(&format!("{path}/redeliver"))
            .bearer(&token)
            .json(&json!({"orderId": order_one, "version": 1}))
            .send()
            .await
            .expect(StatusCode::ACCEPTED);
        assert_eq!(queued.body["queued"], 1);
        let hits = receiver.wait_delivered(1, WAIT).await;
        assert_eq!(hits[0].json["data"]["orderId"], order_one.as_str());
        assert_eq!(
            receiver.hits().len(),
            tries + 1,
            "order 2 was not queued while disabled"
        );
    }
);

delivering!(
    pause_holds_deliveries_and_since_redelivers,
    quick(),
    |app| async move {
        let receiver = Receiver::start().await;
        let token = app.token("T1");
        let (endpoint, _) = subscribe(&app, &token, json!({"url": receiver.url()})).await;
        let path = format!("{ENDPOINTS}/{endpoint}");
        app.post(&format!("{path}/pause"))
            .bearer(&token)
            .send()
            .await
            .expect(StatusCode::OK);
        let start = chrono::Utc::now() - chrono::Duration::seconds(2);
        create_order(&app, &token, "T1", 1).await;
        create_order(&app, &token, "T1", 2).await;
        // Nothing goes out while paused (the dispatcher looks every 20 ms).
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(receiver.hits().is_empty());
        app.post(&format!("{path}/resume"))
            .bearer(&token)
            .send()
            .await
            .expect(StatusCode::OK);
        receiver.wait_delivered(2, WAIT).await;

        let queued = app
            .post(&format!("{path}/redeliver"))
            .bearer(&token)
            .json(&json!({"since": start.to_rfc3339()}))
            .send()
            .await
            .expect(StatusCode::ACCEPTED);
        assert_eq!(queued.body["queued"], 2);
        let hits = receiver.wait_delivered(4, WAIT).await;
        // Two orders' events go out side by side, in either order.
        let ids: Vec<&str> = hits.iter().map(|h| h.header("webhook-id")).collect();
        let (mut first, mut again) = (ids[0..2].to_vec(), ids[2..4].to_vec());
        first.sort();
        again.sort();
        assert_eq!(first, again, "a redelivery is the same message again");

        for bad in [
            json!({}),
            json!({"orderId": "X"}),
            json!({"since": "yesterday"}),
        ] {
            app.post(&format!("{path}/redeliver"))
                .bearer(&token)
                .json(&bad)
                .send()
                .await
                .expect(StatusCode::BAD_REQUEST);
        }
        app.post(&format!("{path}/redeliver"))
            .bearer(&token)
            .json(&json!({"orderId": "NOPE", "version": 1}))
            .send()
            .await
            .expect(StatusCode::NOT_FOUND);
    }
);

delivering!(redirects_are_not_followed, quick(), |app| async move {
    let receiver = Receiver::start().await;
    receiver.answer(&[302]);
    let token = app.token("T1");
    let (endpoint, _) = subscribe(&app, &token, json!({"url": receiver.url()})).await;
    create_order(&app, &token, "T1", 1).await;
    receiver.wait_delivered(1, WAIT).await;
    let paths: Vec<String> = receiver.hits().iter().map(|h| h.path.clone()).collect();
    assert_eq!(
        paths,
        ["/hook", "/hook"],
        "retried at its URL, never at the Location"
    );
    wait_log(&app, &token, &endpoint, |l| l.len() == 2).await;
    assert_eq!(log(&app, &token, &endpoint).await[1]["statusCode"], 302);
});

// The warehouse's moves are events too: an endpoint that wants only shipments hears of the
// shipment and of nothing before it.
delivering!(
    a_shipment_is_an_order_shipped_event,
    quick(),
    |app| async move {
        let receiver = Receiver::start().await;
        let token = app.token("T1");
        let (_, secret) = subscribe(
            &app,
            &token,
            json!({"url": receiver.url(), "eventTypes": ["order.shipped"]}),
        )
        .await;
        let order = create_order(&app, &token, "T1", 1).await;
        app.post(&format!("/oms/v1/orders/{order}/start"))
            .bearer(&token)
            .send()
            .await
            .expect(StatusCode::OK);
        app.post(&format!("/oms/v1/orders/{order}/shipments"))
            .bearer(&token)
            .json(&json!({"carrier": "USPS", "trackingNumber": "WH-1"}))
            .send()
            .await
            .expect(StatusCode::CREATED);
        let hits = receiver.wait_delivered(1, WAIT).await;
        assert_eq!(hits.len(), 1, "only the shipment was subscribed to");
        assert!(verify(&secret, &hits[0]));
        assert_eq!(hits[0].json["type"], "order.shipped");
        assert_eq!(hits[0].json["data"]["orderId"], order.as_str());
        assert_eq!(hits[0].json["data"]["version"], 3);
        assert!(
            hits[0].json["data"]["changedFields"]
                .as_array()
                .unwrap()
                .contains(&json!("fulfilment"))
        );
    }
);
