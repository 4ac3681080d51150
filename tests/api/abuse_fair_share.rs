//! Issue 17 item 2: one tenant's heavy searches cannot starve another tenant's gets. Tenant A
//! runs 16 concurrent searches of the largest allowed shape against a store of two connections
//! that gives up a checkout after 100 ms; tenant B's gets meanwhile are never 503, because
//! searches may hold only half of the connections. On SQLite and PostgreSQL.

use std::sync::Arc;
use std::time::Duration;

use crate::common::sendpro_fixtures::*;
use crate::common::{SECRET, TestApp};
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::Utc;
use oms::auth::AuthKeys;
use oms::seed::Generator;
use oms::store::{self, StoreOptions};
use oms::{AppState, app as router};
use serde_json::{Value, json};
use tower::ServiceExt;

const A: &str = "tenant-a";
const B: &str = "tenant-b";
/// Tenant A's orders: enough that each heavy search holds its connection for a while.
const ORDERS: u64 = 10_000;

/// The app over a store of its own on the test's database: two connections, and a checkout
/// that waits at most 100 ms, so that a starved get shows as a 503 at once.
async fn small_app(app: &TestApp) -> Router {
    let options = StoreOptions {
        max_connections: Some(2),
        acquire_timeout: Duration::from_millis(100),
        ..StoreOptions::default()
    };
    // Blocking on it: rustc cannot prove `connect`'s future Send for every lifetime of its
    // borrows, which `both!`'s spawned test body requires.
    let store = tokio::task::block_in_place(|| {
        tokio::runtime::Handle::current().block_on(store::connect(&app.url, &options))
    })
    .expect("store");
    router(AppState::new(store, AuthKeys::hs256(SECRET, "oms", None)))
}

async fn send(router: &Router, request: Request<Body>) -> StatusCode {
    router.clone().oneshot(request).await.unwrap().status()
}

/// 10 criteria of 20 values each that no index narrows: every order in the window is probed
/// for its tags and items.
fn heaviest() -> Value {
    let values =
        |prefix: &str| -> Vec<String> { (0..20).map(|i| format!("{prefix}{i}")).collect() };
    let mut filters = Vec::new();
    for _ in 0..5 {
        filters.push(json!({"name": "tagIds", "value": values("t")}));
        filters.push(json!({"name": "itemId", "value": values("s")}));
    }
    json!({"filters": filters})
}

fn search(token: &str) -> Request<Body> {
    Request::post(format!("{OM}/orders/search"))
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(Body::from(heaviest().to_string()))
        .unwrap()
}

async fn starve(app: &TestApp) {
    let generator = Generator::new(5, 1, ORDERS, Utc::now())
        .over_days(150)
        .for_client(Some(A.to_string()));
    for start in (0..ORDERS).step_by(2_000) {
        let batch = generator.batch(start, 2_000);
        app.store.insert_batch(&batch).await.expect("seeded");
    }
    let b_token = app.token(B);
    let b_order = om_create(app, &b_token, "B-1").await;
    let small = Arc::new(small_app(app).await);

    let a_token = app.token(A);
    let searches: Vec<_> = (0..16)
        .map(|_| {
            let small = small.clone();
            let token = a_token.clone();
            tokio::spawn(async move {
                let mut statuses = Vec::new();
                for _ in 0..3 {
                    statuses.push(send(&small, search(&token)).await);
                }
                statuses
            })
        })
        .collect();

    let mut b_statuses = Vec::new();
    loop {
        let running = searches.iter().any(|s| !s.is_finished());
        if !running {
            break;
        }
        let get = Request::get(format!("{OM}/orders/{b_order}"))
            .header("authorization", format!("Bearer {b_token}"))
            .body(Body::empty())
            .unwrap();
        b_statuses.push(send(&small, get).await);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut a_statuses = Vec::new();
    for s in searches {
        a_statuses.extend(s.await.unwrap());
    }
    let a_ok = a_statuses.iter().filter(|s| **s == StatusCode::OK).count();
    assert!(a_ok > 0, "A's searches ran: {a_statuses:?}");
    assert!(
        a_statuses
            .iter()
            .all(|s| *s == StatusCode::OK || *s == StatusCode::SERVICE_UNAVAILABLE),
        "{a_statuses:?}"
    );
    assert!(b_statuses.len() >= 5, "B's gets ran beside A's searches");
    let b_refused = b_statuses.iter().filter(|s| **s != StatusCode::OK).count();
    assert_eq!(
        b_refused,
        0,
        "B's gets: {b_refused} of {} not 200 ({:?}); A's searches: {a_ok} of {} 200",
        b_statuses.len(),
        b_statuses.iter().find(|s| **s != StatusCode::OK),
        a_statuses.len()
    );
}

both!(
    a_tenants_heavy_searches_leave_another_tenants_gets_alone,
    |app| async move {
        starve(&app).await;
    }
);
