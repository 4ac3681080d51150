//! Graceful shutdown of the real binary under load: SIGTERM while clients are creating orders
//! loses no acknowledged order, answers no request with a 5xx, stops accepting connections, exits
//! successfully and leaves a consistent database behind.

use crate::common::fixtures;
use crate::common::process::{http, proc};

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use oms::auth::AuthKeys;
use oms::domain::history::EventKind;
use oms::store::StoreOptions;
use sqlx::{Connection, Row};

const SECRET: &str = "graceful-shutdown-test-secret";
const ORDERS: &str = "/shippingservices/fulfillment/v1/orders";
const CLIENT: &str = "GRACE";
/// Concurrent client tasks.
const TASKS: usize = 8;
/// Creates each task sends at most (the load is bounded even if SIGTERM were ignored).
const PER_TASK: usize = 100;
/// SIGTERM goes out once this many creates have been answered 201.
const SIGNAL_AFTER: usize = 100;
/// No single request may take longer than this (a hang is a failure, not a wait).
const REQUEST_LIMIT: Duration = Duration::from_secs(15);

/// What one create request came to.
#[derive(Debug)]
enum Outcome {
    /// A complete HTTP response.
    Answered {
        status: u16,
        order_id: Option<String>,
        client_order_id: Option<String>,
        body: String,
    },
    /// The connection was not accepted: the server never saw the request.
    Refused(String),
    /// Connected, then the connection failed before a complete response: the server may or may
    /// not have acted on it.
    Broken(String),
    /// No answer within `REQUEST_LIMIT`.
    TimedOut,
}

#[derive(Debug)]
struct Record {
    task: usize,
    client_order_id: String,
    after_signal: bool,
    outcome: Outcome,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_load_loses_no_acknowledged_order() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("oms.db").display());
    let mut server = proc::Server::start(&[
        ("DATABASE_URL", url.clone()),
        ("OMS_JWT_SECRET", SECRET.to_string()),
        ("OMS_SHUTDOWN_GRACE", "10".to_string()),
    ])
    .await;
    let addr = server.addr;
    let pid = server.pid();
    let token = AuthKeys::hs256(SECRET.as_bytes(), "oms", None)
        .issue(CLIENT, None, 3600)
        .expect("token");

    // --- bounded load ---
    let acknowledged = Arc::new(AtomicUsize::new(0));
    let signalled = Arc::new(AtomicBool::new(false));
    let (reached_tx, mut reached_rx) = tokio::sync::mpsc::channel::<()>(1);
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let token = token.clone();
        let acknowledged = acknowledged.clone();
        let signalled = signalled.clone();
        let reached_tx = reached_tx.clone();
        tasks.push(tokio::spawn(async move {
            let mut records = Vec::new();
            for i in 0..PER_TASK {
                let client_order_id = format!("GS-{task}-{i}");
                let txid = format!("gs-{task}-{i}");
                let body = serde_json::to_vec(&fixtures::order_numbered(CLIENT, &client_order_id))
                    .unwrap();
                let auth = format!("Bearer {token}");
                let sent = tokio::time::timeout(
                    REQUEST_LIMIT,
                    http::send(
                        addr,
                        "POST",
                        ORDERS,
                        &[
                            ("Authorization", &auth),
                            ("X-PB-TransactionId", &txid),
                            ("Content-Type", "application/json"),
                        ],
                        Some(&body),
                    ),
                )
                .await;
                // Read before judging the outcome: an error is only excusable if SIGTERM went
                // out before the request ended.
                let after_signal = signalled.load(Ordering::SeqCst);
                let (outcome, stop) = match sent {
                    Err(_) => (Outcome::TimedOut, true),
                    Ok(Err(http::Error::Refused(e))) => (Outcome::Refused(e.to_string()), true),
                    Ok(Err(e)) => (Outcome::Broken(e.to_string()), true),
                    Ok(Ok(resp)) => {
                        let json: serde_json::Value =
                            serde_json::from_slice(&resp.body).unwrap_or_default();
                        let text = |k: &str| json[k].as_str().map(str::to_string);
                        if resp.status == 201 {
                            let n = acknowledged.fetch_add(1, Ordering::SeqCst) + 1;
                            if n == SIGNAL_AFTER {
                                let _ = reached_tx.try_send(());
                            }
                        }
                        (
                            Outcome::Answered {
                                status: resp.status,
                                order_id: text("orderId"),
                                client_order_id: text("clientOrderId"),
                                body: String::from_utf8_lossy(&resp.body).into_owned(),
                            },
                            false,
                        )
                    }
                };
                records.push(Record {
                    task,
                    client_order_id,
                    after_signal,
                    outcome,
                });
                if stop {
                    break;
                }
            }
            drop(reached_tx);
            records
        }));
    }
    drop(reached_tx);

    // --- SIGTERM once enough creates were acknowledged ---
    let reached = tokio::time::timeout(Duration::from_secs(30), reached_rx.recv()).await;
    assert!(
        matches!(reached, Ok(Some(()))),
        "the load never reached {SIGNAL_AFTER} acknowledged creates ({} did); server logs:\n{}",
        acknowledged.load(Ordering::SeqCst),
        server.logs()
    );
    signalled.store(true, Ordering::SeqCst);
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(kill.success(), "kill -TERM {pid} failed: {kill}");

    // --- every client stops (bounded) ---
    let mut records = Vec::new();
    let joined = tokio::time::timeout(Duration::from_secs(40), async {
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.expect("client task panicked"));
        }
        all
    })
    .await;
    match joined {
        Ok(all) => records.extend(all),
        Err(_) => panic!(
            "client tasks did not stop within 40 s after SIGTERM; server logs:\n{}",
            server.logs()
        ),
    }

    // --- the process exits on its own, successfully ---
    let status = server.wait(Duration::from_secs(30)).await;
    let logs = server.logs();
    let status = status.unwrap_or_else(|| {
        panic!("oms did not exit within 30 s of SIGTERM; logs:\n{logs}");
    });
    assert!(
        status.success(),
        "oms exited with {status} after SIGTERM; logs:\n{logs}"
    );
    assert!(
        server.saw_message("stopped"),
        "no \"stopped\" log line; logs:\n{logs}"
    );
    assert!(
        !server.saw_message("grace period over"),
        "in-flight requests outlived the grace period; logs:\n{logs}"
    );

    // --- new connections are refused ---
    match tokio::time::timeout(Duration::from_secs(5), tokio::net::TcpStream::connect(addr)).await {
        Ok(Err(e)) => assert_eq!(
            e.kind(),
            std::io::ErrorKind::ConnectionRefused,
            "connecting after shutdown: {e}"
        ),
        Ok(Ok(_)) => panic!("{addr} still accepts connections after oms exited"),
        Err(_) => panic!("connecting to {addr} after shutdown hung"),
    }

    // --- what the clients saw ---
    let mut acked: HashMap<String, String> = HashMap::new(); // clientOrderId -> orderId
    // Connected but got no response: the client cannot know whether the server acted.
    let mut unknown: HashSet<String> = HashSet::new();
    let mut problems = Vec::new();
    let mut stopped_by_shutdown = 0;
    for r in &records {
        match &r.outcome {
            Outcome::Answered {
                status: 201,
                order_id,
                client_order_id,
                body,
            } => {
                let (Some(order_id), Some(coid)) = (order_id, client_order_id) else {
                    problems.push(format!(
                        "{}: 201 without orderId/clientOrderId: {body}",
                        r.client_order_id
                    ));
                    continue;
                };
                if coid != &r.client_order_id {
                    problems.push(format!(
                        "{}: 201 echoed clientOrderId {coid}",
                        r.client_order_id
                    ));
                }
                acked.insert(r.client_order_id.clone(), order_id.clone());
            }
            Outcome::Answered { status, body, .. } => problems.push(format!(
                "task {} {}: answered {status} (after SIGTERM: {}): {body}",
                r.task, r.client_order_id, r.after_signal
            )),
            Outcome::Refused(_) if r.after_signal => stopped_by_shutdown += 1,
            Outcome::Broken(_) if r.after_signal => {
                stopped_by_shutdown += 1;
                unknown.insert(r.client_order_id.clone());
            }
            Outcome::Refused(e) | Outcome::Broken(e) => problems.push(format!(
                "task {} {}: connection failed before SIGTERM: {e}",
                r.task, r.client_order_id
            )),
            Outcome::TimedOut => problems.push(format!(
                "task {} {}: no answer within {REQUEST_LIMIT:?} (after SIGTERM: {})",
                r.task, r.client_order_id, r.after_signal
            )),
        }
    }
    assert!(
        problems.is_empty(),
        "{} request(s) went wrong:\n{}\nserver logs:\n{logs}",
        problems.len(),
        problems.join("\n")
    );
    assert!(
        acked.len() >= SIGNAL_AFTER,
        "only {} creates acknowledged",
        acked.len()
    );
    assert!(
        stopped_by_shutdown > 0,
        "no client was still sending when the server stopped: the shutdown was not under load"
    );
    let answered_after_signal = records
        .iter()
        .filter(|r| r.after_signal && matches!(r.outcome, Outcome::Answered { .. }))
        .count();
    eprintln!(
        "{} creates acknowledged ({answered_after_signal} answered after SIGTERM), {} clients \
         stopped by the shutdown ({} cut off without a response)",
        acked.len(),
        stopped_by_shutdown,
        unknown.len()
    );

    // --- the database: every acknowledged order is there, intact, with one `created` event ---
    let store = oms::store::connect(&url, &StoreOptions::default())
        .await
        .expect("reopen the database");
    let mut lost = Vec::new();
    for (coid, order_id) in &acked {
        match store.get(CLIENT, order_id).await {
            Ok(Some(order)) => {
                assert_eq!(order.order_id, *order_id);
                assert_eq!(order.client_id, CLIENT);
                assert_eq!(
                    order.content.client_order_id, *coid,
                    "order {order_id} lost its clientOrderId"
                );
            }
            Ok(None) => lost.push(format!("{coid} ({order_id})")),
            Err(e) => panic!("order {order_id} does not read back: {e}"),
        }
    }
    assert!(
        lost.is_empty(),
        "{} acknowledged order(s) are missing after shutdown: {}",
        lost.len(),
        lost.join(", ")
    );

    // Every stored order is one a client sent, decodes, and has exactly one `created` event;
    // no event or idempotency record points at a missing order.
    let mut conn = sqlx::SqliteConnection::connect(&url)
        .await
        .expect("open the database");
    let check: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(check, "ok", "SQLite integrity check");
    let rows = sqlx::query("SELECT client_id, order_id, client_order_id FROM orders")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    let mut stored = HashSet::new();
    for row in &rows {
        let client: String = row.get(0);
        let order_id: String = row.get(1);
        let coid: String = row.get(2);
        assert_eq!(client, CLIENT, "order {order_id} of an unknown client");
        // A request cut off without an answer must not have been acted on: a server that
        // drains in-flight requests either answers one or never started it.
        assert!(
            !unknown.contains(&coid),
            "order {order_id} ({coid}) was stored, but its client got no response: an \
             in-flight request was cut off during shutdown"
        );
        assert_eq!(
            acked.get(&coid),
            Some(&order_id),
            "stored order {order_id} ({coid}) was never acknowledged"
        );
        let order = store
            .get(&client, &order_id)
            .await
            .unwrap_or_else(|e| panic!("stored order {order_id} does not decode: {e}"))
            .unwrap_or_else(|| panic!("stored order {order_id} is not readable"));
        assert_eq!(order.content.client_order_id, coid);
        let history = store.history(&client, &order_id).await.unwrap();
        let created = history
            .iter()
            .filter(|e| e.kind == EventKind::Created)
            .count();
        assert_eq!(
            (created, history.len()),
            (1, 1),
            "order {order_id} history: {history:?}"
        );
        stored.insert(order_id);
    }
    assert_eq!(stored.len(), rows.len());
    let orphans: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM order_events e WHERE NOT EXISTS \
         (SELECT 1 FROM orders o WHERE o.client_id = e.client_id AND o.order_id = e.order_id)",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(orphans, 0, "history events without an order");
    let idem: Vec<String> = sqlx::query_scalar("SELECT order_id FROM idempotency_keys")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    let idem: HashSet<String> = idem.into_iter().collect();
    assert_eq!(
        idem, stored,
        "idempotency records and orders differ (each create writes both atomically)"
    );
    conn.close().await.ok();
    store.close().await;
}
