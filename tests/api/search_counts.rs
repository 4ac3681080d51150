//! Search totals from the day counts (`order_counts`): exact after creates, status changes and
//! soft deletes, over windows that start and end mid-day, per tenant, and under concurrent status
//! changes. Every total is compared with a count of the orders the test knows to be live.

use std::collections::HashMap;
use std::sync::Arc;

use crate::common::TestApp;
use axum::http::StatusCode;
use chrono::{DateTime, Duration, DurationRound, Months, SecondsFormat, Utc};
use oms::domain::history::{EventKind, HistoryEvent};
use oms::domain::{Order, Status};
use oms::seed::{Generator, client_id};
use oms::store::{OrderStore, Reindex};
use serde_json::{Value, json};

const FULFILLMENT: &str = "/shippingservices/fulfillment/v1/orders";
const SENDPRO: &str = "/ordermanagement/api/v1/orders";

fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Live orders by id, as the test has written them.
type Live = HashMap<String, Order>;

/// Two tenants: dense over the last ten days (several orders a day, so mid-day edges cut
/// through orders), sparse over two years.
async fn seeded(app: &TestApp) -> Live {
    let now = Utc::now();
    let mut live = Live::new();
    for (generator, n) in [
        (Generator::new(11, 2, 400, now).over_days(10), 400),
        (Generator::new(12, 2, 200, now), 200),
    ] {
        let batch = generator.batch(0, n);
        app.store.insert_batch(&batch).await.expect("seeded");
        live.extend(batch.into_iter().map(|(o, _)| (o.order_id.clone(), o)));
    }
    live
}

/// Writes `status` over the stored order, as a status change does.
async fn set_status(store: &dyn OrderStore, order: &mut Order, status: Status) {
    let expected = order.version;
    order.status = status;
    order.version += 1;
    order.pb_update_date = Utc::now().max(order.pb_create_date);
    let event = HistoryEvent::new(
        EventKind::StatusChanged,
        order,
        "test",
        None,
        vec!["status".into()],
    );
    store
        .update(order, expected, Reindex::default(), &event)
        .await
        .expect("status written");
}

fn brute_force(
    live: &Live,
    client: &str,
    statuses: Option<&[Status]>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> u64 {
    live.values()
        .filter(|o| o.client_id == client)
        .filter(|o| statuses.is_none_or(|s| s.contains(&o.status)))
        .filter(|o| from.is_none_or(|f| o.pb_create_date >= f))
        .filter(|o| to.is_none_or(|t| o.pb_create_date <= t))
        .count() as u64
}

async fn total(
    app: &TestApp,
    client: &str,
    statuses: Option<&[Status]>,
    window: Option<(DateTime<Utc>, DateTime<Utc>)>,
) -> u64 {
    let mut fields: Vec<Value> = Vec::new();
    if let Some(statuses) = statuses {
        let words: Vec<&str> = statuses.iter().map(|s| s.as_str()).collect();
        fields.push(json!({"name": "status", "values": words}));
    }
    if let Some((from, to)) = window {
        fields.push(json!({"name": "pbCreateDate", "values": [iso(from), iso(to)]}));
    }
    let r = app
        .post(&format!("{FULFILLMENT}/search?size=1"))
        .bearer(&app.token(client))
        .txid("counts")
        .json(&json!({"clientId": client, "searchFields": fields}))
        .send()
        .await
        .expect(StatusCode::OK);
    r.body["totalElements"].as_u64().expect("totalElements")
}

/// Every tenant, status set and window below: the served total is the brute-force count.
async fn assert_totals(app: &TestApp, live: &Live) {
    let now = Utc::now();
    let midnight = now.duration_trunc(Duration::days(1)).unwrap();
    let some_order = live.values().map(|o| o.pb_create_date).min().unwrap();
    let windows: Vec<(DateTime<Utc>, DateTime<Utc>)> = vec![
        // Mid-day to mid-day, several days.
        (
            midnight - Duration::days(6) + Duration::minutes(437),
            midnight - Duration::days(2) + Duration::minutes(1111),
        ),
        // Whole days at both ends.
        (midnight - Duration::days(5), midnight - Duration::days(1)),
        // Whole day start, mid-day end, up to now.
        (midnight - Duration::days(8), now + Duration::minutes(1)),
        // Inside one day.
        (
            midnight - Duration::days(3) + Duration::hours(2),
            midnight - Duration::days(3) + Duration::hours(20),
        ),
        // Starting and ending exactly at an order's instant (both ends inclusive).
        (some_order, some_order + Duration::days(400)),
        // Two years up to now.
        (now - Duration::days(730), now),
    ];
    let status_sets: [Option<&[Status]>; 3] = [
        None,
        Some(&[Status::Received]),
        Some(&[Status::Shipped, Status::Canceled, Status::InProgress]),
    ];
    for k in 0..2 {
        let client = client_id(k);
        for statuses in status_sets {
            for (from, to) in &windows {
                assert_eq!(
                    total(app, &client, statuses, Some((*from, *to))).await,
                    brute_force(live, &client, statuses, Some(*from), Some(*to)),
                    "{client} {statuses:?} {from}..{to}"
                );
            }
            // No date criterion: the default six months up to now.
            let since = Utc::now().checked_sub_months(Months::new(6)).unwrap();
            assert_eq!(
                total(app, &client, statuses, None).await,
                brute_force(live, &client, statuses, Some(since), None),
                "{client} {statuses:?} default window"
            );
        }
    }
}

both!(
    totals_stay_exact_across_creates_status_changes_and_deletes,
    |app| async move {
        let mut live = seeded(&app).await;
        assert_totals(&app, &live).await;

        // Creates through the API land on today's count.
        let client = client_id(0);
        let token = app.token(&client);
        for id in app.create_numbered(&token, &client, "COUNT", 3).await {
            let order = app.store.get(&client, &id).await.unwrap().expect("created");
            live.insert(id, order);
        }

        // Status changes, moving orders between statuses on their own days.
        let mut ids: Vec<String> = live.keys().cloned().collect();
        ids.sort();
        for (i, id) in ids.iter().take(60).enumerate() {
            let order = live.get_mut(id).unwrap();
            let to = [Status::Shipped, Status::Received, Status::Canceled][i % 3];
            set_status(&*app.store, order, to).await;
        }

        // Soft deletes through the SendPro360 API leave the counts.
        for id in ids.iter().skip(60).take(15) {
            let client = live[id].client_id.clone();
            let r = app
                .delete(&format!("{SENDPRO}/{id}"))
                .bearer(&app.token(&client))
                .send()
                .await;
            assert!(r.status.is_success(), "{:?} {}", r.status, r.body);
            live.remove(id);
        }
        assert_totals(&app, &live).await;
    }
);

both!(
    concurrent_status_changes_of_one_day_lose_no_count,
    |app| async move {
        let client = client_id(0);
        let now = Utc::now();
        let batch = Generator::new(21, 1, 64, now)
            .over_days(1)
            .for_client(Some(client.clone()))
            .batch(0, 64);
        app.store.insert_batch(&batch).await.expect("seeded");
        let orders: Vec<Order> = batch.into_iter().map(|(o, _)| o).collect();
        let store: Arc<dyn OrderStore> = app.store.clone();

        // Eight writers, each moving its own orders back and forth between two statuses in
        // opposite directions to its neighbour: on one key pair, in both lock orders.
        let mut writers = Vec::new();
        for (w, mine) in orders.chunks(8).enumerate() {
            let store = store.clone();
            let mut mine = mine.to_vec();
            writers.push(tokio::spawn(async move {
                let (a, b) = if w % 2 == 0 {
                    (Status::Received, Status::InProgress)
                } else {
                    (Status::InProgress, Status::Received)
                };
                for round in 0..6 {
                    for order in mine.iter_mut() {
                        let to = if round % 2 == 0 { a } else { b };
                        set_status(&*store, order, to).await;
                    }
                }
                mine
            }));
        }
        let mut live = Live::new();
        for writer in writers {
            for order in writer.await.expect("no writer failed") {
                live.insert(order.order_id.clone(), order);
            }
        }
        let window = (now - Duration::days(2), now);
        for statuses in [
            None,
            Some(&[Status::Received][..]),
            Some(&[Status::InProgress][..]),
        ] {
            assert_eq!(
                total(&app, &client, statuses, Some(window)).await,
                brute_force(&live, &client, statuses, Some(window.0), Some(window.1)),
                "{statuses:?}"
            );
        }
    }
);

/// Live orders of `client` in the default window that carry one of `tags` (or, with `skus`, one
/// of those SKUs), counted one by one.
fn brute_force_side(live: &Live, client: &str, tags: &[&str], skus: &[&str]) -> u64 {
    let since = Utc::now().checked_sub_months(Months::new(6)).unwrap();
    live.values()
        .filter(|o| o.client_id == client && o.pb_create_date >= since)
        .filter(|o| {
            o.tags
                .iter()
                .any(|t| tags.contains(&t.to_lowercase().as_str()))
                || o.content.order_lines.iter().any(|l| {
                    l.sku
                        .as_deref()
                        .is_some_and(|s| skus.contains(&s.to_lowercase().as_str()))
                })
        })
        .count() as u64
}

async fn sendpro_total(app: &TestApp, client: &str, name: &str, values: &[&str]) -> u64 {
    let r = app
        .post(&format!("{SENDPRO}/search"))
        .bearer(&app.token(client))
        .json(&json!({"filters": [{"name": name, "value": values}], "size": 1}))
        .send()
        .await
        .expect(StatusCode::OK);
    r.body["totalElements"].as_u64().expect("totalElements")
}

both!(tag_and_item_totals_stay_exact, |app| async move {
    let mut live = seeded(&app).await;
    let mut ids: Vec<String> = live.keys().cloned().collect();
    ids.sort();
    // Tags replaced through the API, and soft deletes, on orders that have tags and items.
    for id in ids.iter().take(10) {
        let client = live[id].client_id.clone();
        let r = app
            .put(&format!("{SENDPRO}/{id}/tags"))
            .bearer(&app.token(&client))
            .json(&json!({"tagIds": ["vip", "Counted"]}))
            .send()
            .await;
        if r.status == StatusCode::OK {
            live.insert(
                id.clone(),
                app.store.get(&client, id).await.unwrap().unwrap(),
            );
        }
    }
    for id in ids.iter().skip(10).take(20) {
        let client = live[id].client_id.clone();
        let r = app
            .delete(&format!("{SENDPRO}/{id}"))
            .bearer(&app.token(&client))
            .send()
            .await;
        assert!(r.status.is_success(), "{:?} {}", r.status, r.body);
        live.remove(id);
    }
    let sku = live
        .values()
        .find_map(|o| o.content.order_lines.iter().find_map(|l| l.sku.clone()))
        .expect("a seeded SKU")
        .to_lowercase();
    for k in 0..2 {
        let client = client_id(k);
        for tags in [
            &["vip"][..],
            &["counted"],
            &["vip", "counted", "gift"],
            &["none"],
        ] {
            assert_eq!(
                sendpro_total(&app, &client, "tagIds", tags).await,
                brute_force_side(&live, &client, tags, &[]),
                "{client} {tags:?}"
            );
        }
        for skus in [vec![sku.as_str()], vec![sku.as_str(), "0001-0001"]] {
            assert_eq!(
                sendpro_total(&app, &client, "itemId", &skus).await,
                brute_force_side(&live, &client, &[], &skus),
                "{client} {skus:?}"
            );
        }
    }
});
