//! Issue 17 item 11: three `oms serve` processes on one PostgreSQL database, requests spread
//! over them. Idempotent creates with one key make one order, every acknowledged write is kept,
//! versions and history stay consistent, If-Match lets exactly one writer through, and a delete
//! racing patches leaves a consistent end.

use std::net::SocketAddr;
use std::sync::Arc;

use crate::common::fixtures::seed_create;
use crate::common::process::{http, proc};
use crate::common::sendpro_fixtures::sendpro_create;
use crate::common::{Backend, TestApp, run};
use oms::auth::AuthKeys;
use serde_json::{Value, json};

const SECRET: &str = "several-servers-test-secret";
const CLIENT: &str = "MULTI";
const OM: &str = "/ordermanagement/api/v1/orders";

struct Cluster {
    servers: Vec<proc::Server>,
    token: String,
}

impl Cluster {
    async fn start(app: &TestApp) -> Cluster {
        let mut servers = Vec::new();
        for _ in 0..3 {
            servers.push(
                proc::Server::start(&[
                    ("DATABASE_URL", app.url.clone()),
                    ("OMS_JWT_SECRET", SECRET.to_string()),
                ])
                .await,
            );
        }
        let token = AuthKeys::hs256(SECRET.as_bytes(), "oms", None)
            .issue(CLIENT, None, 3600)
            .unwrap();
        Cluster { servers, token }
    }

    fn addr(&self, i: usize) -> SocketAddr {
        self.servers[i % self.servers.len()].addr
    }
}

async fn call(
    addr: SocketAddr,
    token: &str,
    method: &str,
    path: &str,
    extra: &[(&str, &str)],
    body: Option<&Value>,
) -> (u16, Value, Option<String>) {
    let auth = format!("Bearer {token}");
    let mut headers = vec![
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/json"),
    ];
    headers.extend_from_slice(extra);
    let bytes = body.map(|b| serde_json::to_vec(b).unwrap());
    let r = http::send(addr, method, path, &headers, bytes.as_deref())
        .await
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    let etag = r.header("etag").map(str::to_string);
    let body = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
    (r.status, body, etag)
}

/// Runs `n` requests at once, the i-th on server i mod 3.
async fn spread<F, Fut>(cluster: &Arc<Cluster>, n: usize, request: F) -> Vec<(u16, Value)>
where
    F: Fn(Arc<Cluster>, usize) -> Fut,
    Fut: std::future::Future<Output = (u16, Value)> + Send + 'static,
{
    let tasks: Vec<_> = (0..n)
        .map(|i| tokio::spawn(request(cluster.clone(), i)))
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_servers_on_one_database_keep_every_acknowledged_write() {
    run(Backend::Postgres, |app| async move {
        let cluster = Arc::new(Cluster::start(&app).await);

        // One idempotency key, 30 creates over three servers: one order.
        let created = spread(&cluster, 30, |c, i| async move {
            let body = seed_create(CLIENT);
            let (s, b, _) = call(
                c.addr(i),
                &c.token,
                "POST",
                "/shippingservices/fulfillment/v1/orders",
                &[("X-PB-TransactionId", "multi-create-1")],
                Some(&body),
            )
            .await;
            (s, b)
        })
        .await;
        let ids: std::collections::HashSet<&str> = created
            .iter()
            .map(|(s, b)| {
                assert_eq!(*s, 201, "{b}");
                b["orderId"].as_str().unwrap()
            })
            .collect();
        assert_eq!(ids.len(), 1, "one order per key: {ids:?}");
        let db = sqlx::PgPool::connect(&app.url).await.unwrap();
        let total: i64 = sqlx::query_scalar("SELECT count(*) FROM orders WHERE client_id = $1")
            .bind(CLIENT)
            .fetch_one(&db)
            .await
            .unwrap();
        assert_eq!(total, 1);

        // 50 blind patches of one order over three servers: all acknowledged, all kept.
        let (_, b, _) = call(
            cluster.addr(0),
            &cluster.token,
            "POST",
            OM,
            &[],
            Some(&sendpro_create("MULTI-1")),
        )
        .await;
        let id = b["orderId"].as_str().unwrap().to_string();
        let path = format!("{OM}/{id}");
        let patched = spread(&cluster, 50, |c, i| {
            let path = path.clone();
            async move {
                let patch = json!({"orderMessage": {"type": "GIFT", "message": format!("m{i}")}});
                let (s, b, _) = call(c.addr(i), &c.token, "PATCH", &path, &[], Some(&patch)).await;
                (s, b)
            }
        })
        .await;
        assert!(patched.iter().all(|(s, _)| *s == 200), "{patched:?}");
        let (_, _, etag) = call(cluster.addr(1), &cluster.token, "GET", &path, &[], None).await;
        assert_eq!(etag.as_deref(), Some("\"51\""));
        let history = app.store.history(CLIENT, &id).await.unwrap();
        let versions: Vec<i64> = history.iter().map(|e| e.version).collect();
        assert_eq!(versions, (1..=51).collect::<Vec<i64>>());

        // If-Match races: of 30 writers holding the current ETag, exactly one wins.
        let raced = spread(&cluster, 30, |c, i| {
            let path = path.clone();
            async move {
                let patch = json!({"orderMessage": {"type": "GIFT", "message": format!("r{i}")}});
                let (s, b, _) = call(
                    c.addr(i),
                    &c.token,
                    "PATCH",
                    &path,
                    &[("If-Match", "\"51\"")],
                    Some(&patch),
                )
                .await;
                (s, b)
            }
        })
        .await;
        let wins = raced.iter().filter(|(s, _)| *s == 200).count();
        assert_eq!(wins, 1, "{raced:?}");
        assert!(
            raced.iter().all(|(s, _)| *s == 200 || *s == 412),
            "{raced:?}"
        );

        // A delete racing 20 patches: the delete lands; each patch is before it (200) or after
        // it (404), and the history ends with the delete.
        let mixed = spread(&cluster, 21, |c, i| {
            let path = path.clone();
            async move {
                let (s, b, _) = if i == 10 {
                    call(c.addr(i), &c.token, "DELETE", &path, &[], None).await
                } else {
                    let patch =
                        json!({"orderMessage": {"type": "GIFT", "message": format!("d{i}")}});
                    call(c.addr(i), &c.token, "PATCH", &path, &[], Some(&patch)).await
                };
                (s, b)
            }
        })
        .await;
        assert_eq!(mixed[10].0, 200, "{:?}", mixed[10]);
        let landed = mixed.iter().filter(|(s, _)| *s == 200).count() - 1;
        assert!(
            mixed.iter().all(|(s, _)| *s == 200 || *s == 404),
            "{mixed:?}"
        );
        let (s, _, _) = call(cluster.addr(2), &cluster.token, "GET", &path, &[], None).await;
        assert_eq!(s, 404);
        // The store hides a deleted order's history; the table keeps it.
        let events: Vec<(i64, String)> = sqlx::query_as(
            "SELECT version, event_type FROM order_events \
             WHERE client_id = $1 AND order_id = $2 ORDER BY version",
        )
        .bind(CLIENT)
        .bind(&id)
        .fetch_all(&db)
        .await
        .unwrap();
        let versions: Vec<i64> = events.iter().map(|e| e.0).collect();
        assert_eq!(
            versions,
            (1..=(52 + landed as i64 + 1)).collect::<Vec<i64>>()
        );
        assert_eq!(events.last().unwrap().1, "deleted", "{events:?}");
    })
    .await;
}
