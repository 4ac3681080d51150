//! Issue 17 item 5: sockets that send nothing, half a request, or never read their responses
//! are closed once idle; meanwhile other clients are served, and afterwards the server's file
//! descriptors return to where they were. The real binary, over TCP.

use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::common::process::{http, proc};

fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}

async fn healthy(addr: std::net::SocketAddr) -> bool {
    matches!(
        tokio::time::timeout(Duration::from_secs(5), http::send(addr, "GET", "/healthz", &[], None)).await,
        Ok(Ok(r)) if r.status == 200
    )
}

/// The real binary on a fresh SQLite file, with a 1 s request timeout (so connections count as
/// idle after 6 s) and at most `max_connections` open.
async fn start(max_connections: usize) -> (proc::Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("oms.db").display());
    let server = proc::Server::start(&[
        ("DATABASE_URL", url),
        ("OMS_JWT_SECRET", "connections-test-secret".to_string()),
        ("OMS_REQUEST_TIMEOUT", "1".to_string()),
        ("OMS_MAX_CONNECTIONS", max_connections.to_string()),
    ])
    .await;
    (server, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_idle_and_unread_sockets_are_closed_and_others_served() {
    let (server, _dir) = start(400).await;
    let (addr, pid) = (server.addr, server.pid());
    assert!(healthy(addr).await);
    let baseline = open_fds(pid);

    let mut held = Vec::new();
    for i in 0..300 {
        let mut s = TcpStream::connect(addr).await.unwrap();
        if i % 2 == 0 {
            s.write_all(b"GET /healthz HTTP/1.1\r\nHo").await.unwrap();
        }
        held.push(s);
    }
    // Clients that ask for large answers and never read them.
    for _ in 0..10 {
        let mut s = TcpStream::connect(addr).await.unwrap();
        let ask = b"GET /openapi.json HTTP/1.1\r\nHost: x\r\n\r\n".repeat(200);
        let _ = s.write_all(&ask).await;
        held.push(s);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(open_fds(pid) >= baseline + 300, "the sockets were accepted");
    assert!(healthy(addr).await, "others are served meanwhile");

    let started = Instant::now();
    loop {
        let now = open_fds(pid);
        if now <= baseline + 5 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{now} descriptors open, {baseline} before"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(healthy(addr).await);
    drop(held);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn beyond_the_connection_cap_new_clients_wait_for_a_free_slot() {
    let (server, _dir) = start(5).await;
    let addr = server.addr;
    let mut held = Vec::new();
    for _ in 0..5 {
        held.push(TcpStream::connect(addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    let r = tokio::time::timeout(
        Duration::from_secs(15),
        http::send(addr, "GET", "/healthz", &[], None),
    )
    .await
    .expect("answered once the idle sockets are closed")
    .unwrap();
    assert_eq!(r.status, 200);
    assert!(
        started.elapsed() >= Duration::from_secs(3),
        "the sixth connection waited for a slot ({:?})",
        started.elapsed()
    );
    drop(held);
}
