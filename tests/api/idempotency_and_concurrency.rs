//! `X-PB-TransactionId` as the idempotency key of create, and concurrent writers
//! (api-notes "Headers and errors"). On SQLite and PostgreSQL.

use std::collections::BTreeSet;

use crate::common::fixtures::*;
use crate::common::{Resp, TestApp};
use axum::http::StatusCode;
use chrono::{Duration, Utc};
use oms::domain::history::{EventKind, HistoryEvent};
use oms::store::IdempotencyRecord;
use serde_json::{Value, json};

const ORDERS: &str = "/shippingservices/fulfillment/v1/orders";
const REPLAYED: &str = "idempotent-replayed";

async fn post(app: &TestApp, client: &str, tx: &str, body: &Value) -> Resp {
    let t = app.token(client);
    app.post(ORDERS).bearer(&t).txid(tx).json(body).send().await
}

/// A stored order of `client` (from `base`) whose idempotency record under `key` was written
/// `age_hours` ago, as if another request had used the key then.
async fn insert_aged_record(
    app: &TestApp,
    base: &oms::domain::Order,
    client: &str,
    n: usize,
    key: &str,
    age_hours: i64,
) {
    let mut o = base.clone();
    o.client_id = client.to_string();
    o.order_id = format!("ORA{n:019}US");
    o.content.client_order_id = format!("AGED-{n}");
    let at = Utc::now() - Duration::hours(age_hours);
    o.pb_create_date = at;
    o.pb_update_date = at;
    let record = IdempotencyRecord {
        key: key.to_string(),
        request_hash: "some-other-request".to_string(),
        order_id: o.order_id.clone(),
        created_at: at,
    };
    let event = HistoryEvent::new(EventKind::Created, &o, client, Some(key), Vec::new());
    app.store.insert(&o, Some(&record), &event).await.unwrap();
}

/// The stored order a first create of `client` made (a template for aged records).
async fn seeded_order(app: &TestApp, client: &str) -> oms::domain::Order {
    let body = order_numbered(client, &format!("{client}-SEED"));
    let seed = post(app, client, "seed", &body)
        .await
        .expect(StatusCode::CREATED);
    app.store
        .get(client, seed.body["orderId"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap()
}

async fn search(app: &TestApp, client: &str, fields: Value) -> Resp {
    let t = app.token(client);
    let body = json!({"clientId": client, "searchFields": fields});
    app.post(&format!("{ORDERS}/search?size=500"))
        .bearer(&t)
        .txid("search")
        .json(&body)
        .send()
        .await
        .expect(StatusCode::OK)
}

fn order_ids(r: &Resp) -> BTreeSet<String> {
    r.body["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["orderId"].as_str().unwrap().to_string())
        .collect()
}

both!(
    same_key_and_body_replays_the_first_response,
    |app| async move {
        let body = order_numbered("C1", "IDEM-1");
        let first = post(&app, "C1", "key-1", &body)
            .await
            .expect(StatusCode::CREATED);
        assert!(
            first.header(REPLAYED).is_none(),
            "the first create is no replay"
        );
        let second = post(&app, "C1", "key-1", &body)
            .await
            .expect(StatusCode::CREATED);
        assert_eq!(second.header(REPLAYED), Some("true"));
        assert_eq!(second.header("x-pb-transactionid"), Some("key-1"));
        assert_eq!(second.body["orderId"], first.body["orderId"]);
        assert_eq!(
            second.body, first.body,
            "a replay answers as the first response did"
        );

        let all = search(&app, "C1", json!([])).await;
        assert_eq!(all.body["totalElements"], 1);
        assert_eq!(all.body["orders"][0]["orderId"], first.body["orderId"]);

        // A new key with the same body is a new request: the client order id is taken.
        let r = post(&app, "C1", "key-2", &body)
            .await
            .expect(StatusCode::CONFLICT);
        assert_eq!(r.error_code(), "duplicate_order");
    }
);

both!(
    replay_answers_with_the_order_as_it_is_now,
    |app| async move {
        let body = order_numbered("C1", "IDEM-2");
        let first = post(&app, "C1", "key-1", &body)
            .await
            .expect(StatusCode::CREATED);
        let id = first.body["orderId"].as_str().unwrap().to_string();
        let t = app.token("C1");
        let mut replace = order_numbered("C1", "IDEM-2");
        replace["brand"] = json!("Changed");
        app.put(&format!("{ORDERS}/{id}"))
            .bearer(&t)
            .txid("put-1")
            .json(&replace)
            .send()
            .await
            .expect(StatusCode::OK);
        let again = post(&app, "C1", "key-1", &body)
            .await
            .expect(StatusCode::CREATED);
        assert_eq!(again.header(REPLAYED), Some("true"));
        // The record names the order and keeps no copy of it: the replay shows it as it is.
        assert_eq!(again.body["orderId"], first.body["orderId"]);
        assert_eq!(again.body["brand"], "Changed");
        assert_eq!(again.header("etag"), Some("\"2\""));
        let stored = app.store.get("C1", &id).await.unwrap().unwrap();
        assert_eq!(stored.version, 2, "a replay must not write");
        assert_eq!(stored.content.brand.as_deref(), Some("Changed"));
    }
);

both!(
    same_key_with_another_body_is_409_and_changes_nothing,
    |app| async move {
        let first = post(&app, "C1", "key-1", &order_numbered("C1", "IDEM-A"))
            .await
            .expect(StatusCode::CREATED);
        let mut other = order_numbered("C1", "IDEM-B");
        other["brand"] = json!("B");
        let r = post(&app, "C1", "key-1", &other)
            .await
            .expect(StatusCode::CONFLICT);
        assert_eq!(r.error_code(), "idempotency_conflict");
        assert!(r.header(REPLAYED).is_none());
        // Even a one-field difference is another request.
        let mut subtle = order_numbered("C1", "IDEM-A");
        subtle["orderLines"][0]["orderedQuantity"] = json!(6);
        let r = post(&app, "C1", "key-1", &subtle)
            .await
            .expect(StatusCode::CONFLICT);
        assert_eq!(r.error_code(), "idempotency_conflict");

        let all = search(&app, "C1", json!([])).await;
        assert_eq!(all.body["totalElements"], 1);
        assert_eq!(all.body["orders"][0]["orderId"], first.body["orderId"]);
        assert_eq!(all.body["orders"][0]["clientOrderId"], "IDEM-A");
        assert_eq!(all.body["orders"][0]["orderLines"][0]["orderedQuantity"], 5);
        let b = search(
            &app,
            "C1",
            json!([{"name": "orders", "values": ["IDEM-B"]}]),
        )
        .await;
        assert_eq!(b.body["totalElements"], 0);

        // The original request still replays after the conflicts.
        let again = post(&app, "C1", "key-1", &order_numbered("C1", "IDEM-A"))
            .await
            .expect(StatusCode::CREATED);
        assert_eq!(again.header(REPLAYED), Some("true"));
        assert_eq!(again.body["orderId"], first.body["orderId"]);
    }
);

both!(keys_are_remembered_for_24_hours, |app| async move {
    let base = seeded_order(&app, "C1").await;
    // Two keys used by some other request: one an hour ago, one 25 hours ago.
    for (n, key, age_hours) in [(1, "recent-key", 1), (2, "stale-key", 25)] {
        insert_aged_record(&app, &base, "C1", n, key, age_hours).await;
    }
    let r = post(&app, "C1", "recent-key", &order_numbered("C1", "WINDOW-A"))
        .await
        .expect(StatusCode::CONFLICT);
    assert_eq!(r.error_code(), "idempotency_conflict");

    let body = order_numbered("C1", "WINDOW-B");
    let fresh = post(&app, "C1", "stale-key", &body)
        .await
        .expect(StatusCode::CREATED);
    assert!(fresh.header(REPLAYED).is_none(), "an expired key replayed");
    assert_ne!(fresh.body["orderId"], "ORA0000000000000000002US");
    assert_eq!(fresh.body["clientOrderId"], "WINDOW-B");
    let again = post(&app, "C1", "stale-key", &body)
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(again.header(REPLAYED), Some("true"));
    assert_eq!(again.body["orderId"], fresh.body["orderId"]);
    let all = search(&app, "C1", json!([])).await;
    assert_eq!(all.body["totalElements"], 4);
});

both!(keys_belong_to_one_client, |app| async move {
    let a = post(&app, "C1", "shared-key", &order_numbered("C1", "SAME"))
        .await
        .expect(StatusCode::CREATED);
    let b = post(&app, "C2", "shared-key", &order_numbered("C2", "SAME"))
        .await
        .expect(StatusCode::CREATED);
    assert!(b.header(REPLAYED).is_none(), "C2's request replayed C1's");
    assert_ne!(a.body["orderId"], b.body["orderId"]);
    assert_eq!(b.body["clientId"], "C2");
    // A different body under C2 is not a conflict with C1's use of the key either.
    let c = post(&app, "C3", "shared-key", &order_numbered("C3", "OTHER"))
        .await
        .expect(StatusCode::CREATED);
    assert!(c.header(REPLAYED).is_none());
    for (client, order) in [("C1", &a), ("C2", &b), ("C3", &c)] {
        let r = search(&app, client, json!([])).await;
        assert_eq!(r.body["totalElements"], 1, "{client}");
        assert_eq!(
            r.body["orders"][0]["orderId"], order.body["orderId"],
            "{client}"
        );
    }
});

both!(concurrent_distinct_creates_all_succeed, |app| async move {
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let app = app.clone();
            tokio::spawn(async move {
                let body = order_numbered("C1", &format!("PAR-{i:02}"));
                post(&app, "C1", &format!("par-{i}"), &body).await
            })
        })
        .collect();
    let mut ids = BTreeSet::new();
    for (i, task) in tasks.into_iter().enumerate() {
        let r = task.await.unwrap();
        assert_eq!(r.status, StatusCode::CREATED, "create {i}: {}", r.body);
        assert_eq!(r.body["clientOrderId"], format!("PAR-{i:02}"));
        ids.insert(r.body["orderId"].as_str().unwrap().to_string());
    }
    assert_eq!(ids.len(), 20, "order ids were reused");
    let all = search(&app, "C1", json!([])).await;
    assert_eq!(all.body["totalElements"], 20);
    assert_eq!(order_ids(&all), ids);
});

both!(
    concurrent_identical_creates_make_one_order,
    |app| async move {
        let body = order_numbered("C1", "RACE-1");
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let app = app.clone();
                let body = body.clone();
                tokio::spawn(async move { post(&app, "C1", "race-key", &body).await })
            })
            .collect();
        let mut ids = BTreeSet::new();
        let mut fresh = 0;
        for task in tasks {
            let r = task.await.unwrap();
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
            ids.insert(r.body["orderId"].as_str().unwrap().to_string());
            if r.header(REPLAYED).is_none() {
                fresh += 1;
            }
        }
        assert_eq!(ids.len(), 1, "different orders for one request: {ids:?}");
        assert_eq!(fresh, 1, "exactly one response is the original");
        let all = search(&app, "C1", json!([])).await;
        assert_eq!(all.body["totalElements"], 1);
        assert_eq!(order_ids(&all), ids);
    }
);

both!(concurrent_replaces_all_apply_in_turn, |app| async move {
    let created = post(&app, "C1", "base", &order_numbered("C1", "HOT-1"))
        .await
        .expect(StatusCode::CREATED);
    let id = created.body["orderId"].as_str().unwrap().to_string();
    let sent: Vec<String> = (0..20).map(|i| format!("CUST-{i:02}")).collect();
    let tasks: Vec<_> = sent
        .iter()
        .cloned()
        .enumerate()
        .map(|(i, customer)| {
            let app = app.clone();
            let id = id.clone();
            tokio::spawn(async move {
                let mut body = order_numbered("C1", "HOT-1");
                body["customerOrderId"] = json!(customer);
                let t = app.token("C1");
                app.put(&format!("{ORDERS}/{id}"))
                    .bearer(&t)
                    .txid(&format!("put-{i}"))
                    .json(&body)
                    .send()
                    .await
            })
        })
        .collect();
    for (i, task) in tasks.into_iter().enumerate() {
        let r = task.await.unwrap();
        assert_eq!(r.status, StatusCode::OK, "replace {i}: {}", r.body);
        assert_eq!(r.body["customerOrderId"], sent[i], "replace {i}");
        assert_eq!(r.body["orderId"], id.as_str());
    }
    let stored = app.store.get("C1", &id).await.unwrap().unwrap();
    assert_eq!(stored.version, 21, "every replace is one version");
    let last = stored.content.customer_order_id.clone().unwrap();
    assert!(
        sent.contains(&last),
        "final customerOrderId {last} was never sent"
    );
    assert!(stored.pb_update_date >= stored.pb_create_date);
    let t = app.token("C1");
    let got = app
        .get(&format!("{ORDERS}/{id}?clientId=C1"))
        .bearer(&t)
        .txid("get")
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(got.body["customerOrderId"], last.as_str());
    assert_eq!(got.body["pbCreateDate"], created.body["pbCreateDate"]);
});

both!(
    expired_keys_are_purged_and_live_ones_kept,
    |app| async move {
        let base = seeded_order(&app, "P1").await;
        let aged = [
            ("P1", "hour-old", 1),
            ("P1", "day-less-an-hour", 23),
            ("P1", "day-and-an-hour", 25),
            ("P2", "two-days", 48),
            ("P2", "three-days", 72),
        ];
        for (n, (client, key, age_hours)) in aged.into_iter().enumerate() {
            insert_aged_record(&app, &base, client, n + 10, key, age_hours).await;
        }
        let before = Utc::now() - Duration::hours(24);
        assert_eq!(
            app.store.purge_idempotency(before, 2).await.unwrap(),
            2,
            "a batch is a limit"
        );
        let service = oms::service::OrderService::new(app.store.clone());
        assert_eq!(service.purge_expired_idempotency().await.unwrap(), 1);
        assert_eq!(service.purge_expired_idempotency().await.unwrap(), 0);

        for (client, key, age_hours) in aged {
            let kept = app.store.idempotency(client, key).await.unwrap().is_some();
            assert_eq!(kept, age_hours < 24, "{key}");
        }
        assert!(app.store.idempotency("P1", "seed").await.unwrap().is_some());
        // A live key still answers as before.
        let again = post(&app, "P1", "seed", &order_numbered("P1", "P1-SEED"))
            .await
            .expect(StatusCode::CREATED);
        assert_eq!(again.header(REPLAYED), Some("true"));
    }
);

both!(replay_of_a_deleted_order_is_409, |app| async move {
    let t = app.token("C1");
    let body = crate::common::sendpro_fixtures::sendpro_create("IDEM-DEL");
    let om = crate::common::sendpro_fixtures::OM;
    let create = || {
        app.post(&format!("{om}/orders"))
            .bearer(&t)
            .header("Idempotency-Key", "del-1")
            .json(&body)
            .send()
    };
    let id = create().await.expect(StatusCode::OK).body["orderId"]
        .as_str()
        .unwrap()
        .to_string();
    app.delete(&format!("{om}/orders/{id}"))
        .bearer(&t)
        .send()
        .await
        .expect(StatusCode::OK);
    let again = create().await.expect(StatusCode::CONFLICT);
    assert!(again.body.to_string().contains("deleted"), "{}", again.body);
});
