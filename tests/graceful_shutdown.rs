//! Graceful shutdown of the real binary under load: SIGTERM while clients are creating orders
//! loses no acknowledged order, answers no request with a 5xx, stops accepting connections, exits
//! successfully and leaves a consistent database behind.

#[path = "common/fixtures.rs"]
mod fixtures;

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

/// The real binary as a child process, its JSON logs collected.
mod proc {
    use std::net::SocketAddr;
    use std::process::{ExitStatus, Stdio};
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
    use tokio::process::{Child, Command};
    use tokio::sync::mpsc;
    use tokio::task::JoinHandle;

    pub struct Server {
        child: Child,
        pub addr: SocketAddr,
        lines: Arc<Mutex<Vec<String>>>,
        readers: Vec<JoinHandle<()>>,
    }

    impl Server {
        /// Starts `oms serve` on a free port and waits (bounded) for its "oms listening" line.
        pub async fn start(env: &[(&str, String)]) -> Server {
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_oms"));
            cmd.arg("serve");
            // Only what this test sets: nothing from the surrounding environment may leak in.
            for (key, _) in std::env::vars() {
                if key.starts_with("OMS_") || key == "DATABASE_URL" || key == "RUST_LOG" {
                    cmd.env_remove(key);
                }
            }
            cmd.env("OMS_BIND", "127.0.0.1:0")
                .env("OMS_LOG_FORMAT", "json")
                .env("RUST_LOG", "info,sqlx=warn");
            for (k, v) in env {
                cmd.env(k, v);
            }
            cmd.stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .kill_on_drop(true);
            let mut child = cmd.spawn().expect("spawn the oms binary");
            let lines = Arc::new(Mutex::new(Vec::new()));
            let (tx, mut rx) = mpsc::unbounded_channel();
            let readers = vec![
                forward(child.stdout.take().unwrap(), lines.clone(), tx.clone()),
                forward(child.stderr.take().unwrap(), lines.clone(), tx),
            ];
            let found = tokio::time::timeout(Duration::from_secs(30), async {
                while let Some(line) = rx.recv().await {
                    if let Some(addr) = listening_addr(&line) {
                        return Some(addr);
                    }
                }
                None // both streams closed: the process is gone
            })
            .await;
            let dump = || lines.lock().unwrap().join("\n");
            let addr = match found {
                Ok(Some(addr)) => addr,
                Ok(None) => panic!("oms exited before listening; output:\n{}", dump()),
                Err(_) => panic!("oms did not listen within 30 s; output:\n{}", dump()),
            };
            Server {
                child,
                addr,
                lines,
                readers,
            }
        }

        /// Whether the process has not exited (it must survive what the test does to it).
        #[allow(dead_code)]
        pub fn running(&mut self) -> bool {
            matches!(self.child.try_wait(), Ok(None))
        }

        #[allow(dead_code)]
        pub fn pid(&self) -> u32 {
            self.child.id().expect("oms is running")
        }

        /// Everything the process printed so far.
        pub fn logs(&self) -> String {
            self.lines.lock().unwrap().join("\n")
        }

        /// Whether some log line's message contains `text`.
        #[allow(dead_code)]
        pub fn saw_message(&self, text: &str) -> bool {
            self.lines.lock().unwrap().iter().any(|l| {
                serde_json::from_str::<serde_json::Value>(l)
                    .ok()
                    .and_then(|v| v["fields"]["message"].as_str().map(|m| m.contains(text)))
                    .unwrap_or(false)
            })
        }

        /// Waits (bounded) for the process to exit, then for its output to be read to the end.
        #[allow(dead_code)]
        pub async fn wait(&mut self, limit: Duration) -> Option<ExitStatus> {
            let status = tokio::time::timeout(limit, self.child.wait()).await.ok()?;
            let status = status.expect("wait for oms");
            for r in self.readers.drain(..) {
                let _ = tokio::time::timeout(Duration::from_secs(5), r).await;
            }
            Some(status)
        }
    }

    impl Drop for Server {
        fn drop(&mut self) {
            // Never leave the process behind, whatever happened to the test.
            let _ = self.child.start_kill();
        }
    }

    fn forward(
        stream: impl AsyncRead + Unpin + Send + 'static,
        lines: Arc<Mutex<Vec<String>>>,
        tx: mpsc::UnboundedSender<String>,
    ) -> JoinHandle<()> {
        tokio::spawn(async move {
            let mut reader = BufReader::new(stream).lines();
            while let Ok(Some(line)) = reader.next_line().await {
                lines.lock().unwrap().push(line.clone());
                let _ = tx.send(line);
            }
        })
    }

    /// `bind` of the JSON "oms listening" line.
    fn listening_addr(line: &str) -> Option<SocketAddr> {
        let v: serde_json::Value = serde_json::from_str(line).ok()?;
        let fields = &v["fields"];
        if !fields["message"].as_str()?.contains("oms listening") {
            return None;
        }
        fields["bind"].as_str()?.parse().ok()
    }
}

/// A minimal HTTP/1.1 client: one request per connection (`Connection: close`).
mod http {
    use std::net::SocketAddr;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    #[derive(Debug)]
    pub struct Response {
        pub status: u16,
        pub headers: Vec<(String, String)>,
        pub body: Vec<u8>,
    }

    impl Response {
        #[allow(dead_code)]
        pub fn header(&self, name: &str) -> Option<&str> {
            self.headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        }
    }

    #[derive(Debug)]
    pub enum Error {
        /// The connection was not accepted: the server cannot have seen the request.
        Refused(std::io::Error),
        /// The connection failed after it was made.
        Io(std::io::Error),
        /// The connection closed before a complete response (or the response is not HTTP).
        Incomplete(String),
    }

    impl std::fmt::Display for Error {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            match self {
                Error::Refused(e) => write!(f, "connect: {e}"),
                Error::Io(e) => write!(f, "after connecting: {e}"),
                Error::Incomplete(why) => write!(f, "incomplete response: {why}"),
            }
        }
    }

    pub async fn send(
        addr: SocketAddr,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Result<Response, Error> {
        let mut stream = TcpStream::connect(addr).await.map_err(Error::Refused)?;
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        let body = body.unwrap_or_default();
        if !body.is_empty() || method == "POST" || method == "PUT" {
            head.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        head.push_str("\r\n");
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(body);
        stream.write_all(&bytes).await.map_err(Error::Io)?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.map_err(Error::Io)?;
        parse(&raw)
    }

    fn parse(raw: &[u8]) -> Result<Response, Error> {
        let incomplete = |why: &str| {
            Error::Incomplete(format!(
                "{why} ({} bytes: {:?})",
                raw.len(),
                String::from_utf8_lossy(&raw[..raw.len().min(200)])
            ))
        };
        let end = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .ok_or_else(|| incomplete("no complete response head"))?;
        let head = std::str::from_utf8(&raw[..end]).map_err(|_| incomplete("head not UTF-8"))?;
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap_or("");
        let status = status_line
            .strip_prefix("HTTP/1.1 ")
            .or_else(|| status_line.strip_prefix("HTTP/1.0 "))
            .and_then(|s| s.get(..3))
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| incomplete("bad status line"))?;
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect();
        let find = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        let rest = &raw[end + 4..];
        let body = if find("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
            dechunk(rest).ok_or_else(|| incomplete("truncated chunked body"))?
        } else if let Some(len) = find("content-length") {
            let len: usize = len.parse().map_err(|_| incomplete("bad content-length"))?;
            if rest.len() < len {
                return Err(incomplete("truncated body"));
            }
            rest[..len].to_vec()
        } else {
            rest.to_vec()
        };
        Ok(Response {
            status,
            headers,
            body,
        })
    }

    fn dechunk(mut data: &[u8]) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        loop {
            let line_end = data.windows(2).position(|w| w == b"\r\n")?;
            let size_text = std::str::from_utf8(&data[..line_end]).ok()?;
            let size_text = size_text.split(';').next()?.trim();
            let size = usize::from_str_radix(size_text, 16).ok()?;
            data = &data[line_end + 2..];
            if size == 0 {
                return Some(out);
            }
            if data.len() < size + 2 {
                return None;
            }
            out.extend_from_slice(&data[..size]);
            data = &data[size + 2..];
        }
    }
}
