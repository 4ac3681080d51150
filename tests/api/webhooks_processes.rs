//! Issue 21 with real `oms serve` processes: an event committed just before a `kill -9` is
//! delivered after the restart (both backends), and three servers on one PostgreSQL deliver
//! every event once, each order's in order.

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::time::Duration;

use oms::auth::AuthKeys;
use serde_json::{Value, json};

use crate::common::fixtures::order_numbered;
use crate::common::process::{http, proc};
use crate::common::{Backend, TestApp, run};
use crate::webhooks_receiver::{Receiver, verify};

const SECRET: &str = "webhook-processes-test-secret";
const CLIENT: &str = "HOOKS";

fn env(url: &str) -> Vec<(&'static str, String)> {
    vec![
        ("DATABASE_URL", url.to_string()),
        ("OMS_JWT_SECRET", SECRET.to_string()),
        ("OMS_WEBHOOKS_ALLOW_PRIVATE", "true".to_string()),
        ("OMS_WEBHOOKS_RETRY_BASE_MS", "50".to_string()),
        ("OMS_WEBHOOKS_RETRY_MAX_MS", "200".to_string()),
        ("OMS_WEBHOOKS_POLL_MS", "20".to_string()),
        ("OMS_WEBHOOKS_TIMEOUT", "2".to_string()),
    ]
}

fn token() -> String {
    AuthKeys::hs256(SECRET.as_bytes(), "oms", None)
        .issue(CLIENT, None, 3600)
        .unwrap()
}

async fn call(addr: SocketAddr, method: &str, path: &str, body: &Value, txid: &str) -> Value {
    let auth = format!("Bearer {}", token());
    let headers = [
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/json"),
        ("X-PB-TransactionId", txid),
    ];
    let bytes = serde_json::to_vec(body).unwrap();
    let r = http::send(addr, method, path, &headers, Some(&bytes))
        .await
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    let value: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
    assert!(
        (200..300).contains(&r.status),
        "{method} {path}: {} {value}",
        r.status
    );
    value
}

async fn create_order(addr: SocketAddr, n: usize) -> String {
    let body = order_numbered(CLIENT, &format!("HP-{n}"));
    let created = call(
        addr,
        "POST",
        "/shippingservices/fulfillment/v1/orders",
        &body,
        &format!("hp-{n}"),
    )
    .await;
    created["orderId"].as_str().unwrap().to_string()
}

async fn kill_9_after_commit_then_restart(app: std::sync::Arc<TestApp>) {
    // Nothing listens here until the process is dead: the event cannot have gone out.
    let addr = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let mut server = proc::Server::start(&env(&app.url)).await;
    let endpoint = call(
        server.addr,
        "POST",
        "/oms/v1/webhooks/endpoints",
        &json!({"url": format!("http://{addr}/hook")}),
        "hp-endpoint",
    )
    .await;
    let secret = endpoint["secret"].as_str().unwrap().to_string();
    let order = create_order(server.addr, 1).await;
    let kill = std::process::Command::new("kill")
        .args(["-9", &server.pid().to_string()])
        .status()
        .expect("run kill");
    assert!(kill.success());
    assert!(
        server.wait(Duration::from_secs(10)).await.is_some(),
        "killed"
    );

    let receiver = Receiver::start_on(addr).await;
    let _restarted = proc::Server::start(&env(&app.url)).await;
    let hits = receiver.wait_delivered(1, Duration::from_secs(30)).await;
    assert_eq!(hits[0].json["type"], "order.created");
    assert_eq!(hits[0].json["data"]["orderId"], order.as_str());
    assert!(verify(&secret, &hits[0]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_between_commit_and_delivery_sqlite() {
    run(Backend::Sqlite, kill_9_after_commit_then_restart).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_between_commit_and_delivery_postgres() {
    run(Backend::Postgres, kill_9_after_commit_then_restart).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_servers_deliver_each_event_once_in_order() {
    run(Backend::Postgres, |app| async move {
        let receiver = Receiver::start().await;
        // A few failures: retries move between processes too.
        receiver.answer(&[500, 200, 200, 200, 503, 200, 200, 500]);
        let mut servers = Vec::new();
        for _ in 0..3 {
            servers.push(proc::Server::start(&env(&app.url)).await);
        }
        let addrs: Vec<SocketAddr> = servers.iter().map(|s| s.addr).collect();
        call(
            addrs[0],
            "POST",
            "/oms/v1/webhooks/endpoints",
            &json!({"url": receiver.url()}),
            "hp-endpoint",
        )
        .await;
        const ORDERS: usize = 12;
        const UPDATES: usize = 4;
        let mut orders = Vec::new();
        for n in 0..ORDERS {
            orders.push(create_order(addrs[n % 3], n).await);
        }
        // Every order's updates, each on another server, all orders at once.
        let mut tasks = Vec::new();
        for (i, order) in orders.iter().cloned().enumerate() {
            let addrs = addrs.clone();
            tasks.push(tokio::spawn(async move {
                for k in 0..UPDATES {
                    let path = format!("/ordermanagement/api/v1/orders/{order}/tags");
                    let body = json!({"tagIds": [format!("t{i}-{k}")]});
                    call(
                        addrs[(i + k) % 3],
                        "PUT",
                        &path,
                        &body,
                        &format!("hp{i}-{k}"),
                    )
                    .await;
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let events = ORDERS * (1 + UPDATES);
        receiver
            .wait_delivered(events, Duration::from_secs(60))
            .await;
        // Time for a duplicate to show up, if any process were to send one.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let delivered = receiver.delivered();
        let ids: HashSet<&str> = delivered.iter().map(|h| h.header("webhook-id")).collect();
        assert_eq!(delivered.len(), events, "none delivered twice");
        assert_eq!(ids.len(), events);
        let mut seen: BTreeMap<String, Vec<i64>> = BTreeMap::new();
        for hit in &delivered {
            let (order, version) = hit.order_version();
            seen.entry(order).or_default().push(version);
        }
        let expected: Vec<i64> = (1..=(1 + UPDATES as i64)).collect();
        for order in &orders {
            assert_eq!(seen[order], expected, "{order}");
        }
        drop(servers);
    })
    .await;
}
