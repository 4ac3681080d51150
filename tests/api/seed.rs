//! The seeder's bulk path: orders written with `insert_batch` are stored like any created order,
//! readable through both surfaces, counted right by search, and found by their tags and SKUs.
//! On SQLite and PostgreSQL.

use std::collections::BTreeMap;

use crate::common::{Resp, TestApp};
use axum::http::StatusCode;
use chrono::{DateTime, Duration, Months, SecondsFormat, Utc};
use oms::domain::{Order, status};
use oms::seed::{Generator, SPAN_DAYS, client_id};
use oms::store::{ConflictKind, StoreError};
use serde_json::{Value, json};

const FULFILLMENT: &str = "/shippingservices/fulfillment/v1/orders";
const SENDPRO: &str = "/ordermanagement/api/v1/orders";
const ORDERS: u64 = 500;

fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A window that holds every seeded order.
fn everything(g_anchor: DateTime<Utc>) -> (String, String) {
    (
        iso(g_anchor - Duration::days(SPAN_DAYS + 1)),
        iso(g_anchor + Duration::days(1)),
    )
}

async fn seeded(app: &TestApp) -> (Vec<Order>, DateTime<Utc>) {
    let generator = Generator::today(7, 2, ORDERS);
    let batch = generator.batch(0, ORDERS as usize);
    let (first, rest) = batch.split_at(300);
    app.store.insert_batch(first).await.expect("first batch");
    app.store.insert_batch(rest).await.expect("second batch");
    let anchor = batch
        .iter()
        .map(|(o, _)| o.pb_create_date)
        .max()
        .expect("orders");
    (batch.into_iter().map(|(o, _)| o).collect(), anchor)
}

async fn fulfillment_search(app: &TestApp, client: &str, fields: Value) -> Resp {
    let body = json!({"clientId": client, "searchFields": fields});
    app.post(&format!("{FULFILLMENT}/search?size=500"))
        .bearer(&app.token(client))
        .txid("seed-search")
        .json(&body)
        .send()
        .await
        .expect(StatusCode::OK)
}

async fn sendpro_search(app: &TestApp, client: &str, filters: Value) -> Resp {
    app.post(&format!("{SENDPRO}/search"))
        .bearer(&app.token(client))
        .json(&json!({"filters": filters, "size": 500}))
        .send()
        .await
        .expect(StatusCode::OK)
}

fn total(r: &Resp) -> u64 {
    r.body["totalElements"].as_u64().expect("totalElements")
}

both!(
    seeded_orders_are_searchable_and_readable,
    |app| async move {
        let (orders, newest) = seeded(&app).await;
        let (from, to) = everything(newest);
        let six_months_ago = Utc::now().checked_sub_months(Months::new(6)).unwrap();

        for k in 0..2 {
            let client = client_id(k);
            let mine: Vec<&Order> = orders.iter().filter(|o| o.client_id == client).collect();
            assert_eq!(mine.len() as u64, ORDERS / 2);

            let all = fulfillment_search(
                &app,
                &client,
                json!([{"name": "pbCreateDate", "values": [from, to]}]),
            )
            .await;
            assert_eq!(total(&all), mine.len() as u64);

            let recent = mine
                .iter()
                .filter(|o| o.pb_create_date >= six_months_ago)
                .count() as u64;
            assert_eq!(
                total(&fulfillment_search(&app, &client, json!([])).await),
                recent
            );

            let mut by_status: BTreeMap<&str, u64> = BTreeMap::new();
            for o in &mine {
                *by_status.entry(o.status.as_str()).or_default() += 1;
            }
            for s in status::ALL {
                let found = fulfillment_search(
                    &app,
                    &client,
                    json!([
                        {"name": "status", "values": [s.as_str()]},
                        {"name": "pbCreateDate", "values": [from, to]}
                    ]),
                )
                .await;
                let expected = by_status.get(s.as_str()).copied().unwrap_or(0);
                assert_eq!(total(&found), expected, "{s:?}");
                assert!(
                    found.body["orders"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .all(|o| o["status"] == s.as_str())
                );
            }

            for tag in ["vip", "gift", "wholesale"] {
                let expected = mine
                    .iter()
                    .filter(|o| o.tags.iter().any(|t| t == tag))
                    .count() as u64;
                let found = sendpro_search(
                    &app,
                    &client,
                    json!([
                        {"name": "tagIds", "value": [tag.to_uppercase()]},
                        {"name": "createDate", "value": [from, to]}
                    ]),
                )
                .await;
                assert_eq!(total(&found), expected, "tag {tag}");
            }

            let sku = mine[0].content.order_lines[0].sku.clone().unwrap();
            let expected = mine
                .iter()
                .filter(|o| {
                    o.content
                        .order_lines
                        .iter()
                        .any(|l| l.sku.as_deref() == Some(&sku))
                })
                .count() as u64;
            let found = sendpro_search(
                &app,
                &client,
                json!([
                    {"name": "itemId", "value": [sku]},
                    {"name": "createDate", "value": [from, to]}
                ]),
            )
            .await;
            assert!(expected >= 1);
            assert_eq!(total(&found), expected, "sku {sku}");
        }

        for order in orders.iter().step_by(25) {
            let token = app.token(&order.client_id);
            let id = &order.order_id;
            let f = app
                .get(&format!("{FULFILLMENT}/{id}?clientId={}", order.client_id))
                .bearer(&token)
                .txid("seed-get")
                .send()
                .await
                .expect(StatusCode::OK);
            assert_eq!(f.body["orderId"], id.as_str());
            assert_eq!(f.body["status"], order.status.as_str());
            assert_eq!(
                f.body["clientOrderId"],
                order.content.client_order_id.as_str()
            );
            let s = app
                .get(&format!("{SENDPRO}/{id}"))
                .bearer(&token)
                .send()
                .await
                .expect(StatusCode::OK);
            assert_eq!(
                s.body["orderInfo"]["orderNumber"],
                order.content.client_order_id.as_str()
            );
            let history = app
                .get(&format!("{SENDPRO}/{id}/history"))
                .bearer(&token)
                .send()
                .await
                .expect(StatusCode::OK);
            assert_eq!(history.body.to_string().matches("\"created\"").count(), 1);
            let other = if order.client_id == client_id(0) {
                client_id(1)
            } else {
                client_id(0)
            };
            app.get(&format!("{SENDPRO}/{id}"))
                .bearer(&app.token(&other))
                .send()
                .await
                .expect(StatusCode::NOT_FOUND);
        }
    }
);

both!(a_batch_is_all_or_nothing, |app| async move {
    let generator = Generator::today(11, 1, 50);
    let batch = generator.batch(0, 50);
    app.store.insert_batch(&batch[..1]).await.unwrap();
    let err = app.store.insert_batch(&batch).await.unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Conflict(ConflictKind::OrderId | ConflictKind::ClientOrderId)
        ),
        "{err:?}"
    );
    let (from, to) = everything(Utc::now());
    let found = fulfillment_search(
        &app,
        &client_id(0),
        json!([{"name": "pbCreateDate", "values": [from, to]}]),
    )
    .await;
    assert_eq!(total(&found), 1);
    app.store.insert_batch(&batch[1..]).await.unwrap();
});
