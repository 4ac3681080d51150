//! The database goes away and comes back under a running server: while PostgreSQL is down every
//! request that needs it answers 503 with `Retry-After` promptly (no hang, no 500), readiness
//! fails while liveness holds, and once PostgreSQL is back the same process serves again.
//!
//! The test runs its own throw-away PostgreSQL cluster (initdb + pg_ctl from
//! /usr/lib/postgresql/*/bin, as the `postgres` user when run as root) on a free port, and fails
//! (never skips) when that cannot be done.

use crate::common::fixtures;
use crate::common::process::{http, proc};

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use oms::auth::AuthKeys;

const SECRET: &str = "db-outage-test-secret-0123";
const ORDERS: &str = "/shippingservices/fulfillment/v1/orders";
const CLIENT: &str = "OUTAGE";
/// OMS_DB_ACQUIRE_TIMEOUT for the server under test.
const ACQUIRE_TIMEOUT_SECS: u64 = 1;
/// Every answer during the outage must come within the acquire timeout plus a margin.
const ANSWER_LIMIT: Duration = Duration::from_secs(5);
/// Hard bound on any single request, so that a hang fails the test instead of stalling it.
const REQUEST_LIMIT: Duration = Duration::from_secs(15);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_outage_answers_503_and_recovers_without_restart() {
    // Declared first, dropped last: the server is killed before PostgreSQL is stopped and its
    // directory removed, whatever happens below.
    // The PostgreSQL tools are run synchronously, off the async workers.
    let mut pg = tokio::task::block_in_place(Postgres::init);
    tokio::task::block_in_place(|| pg.start());
    let mut server = proc::Server::start(&[
        ("DATABASE_URL", pg.url()),
        ("OMS_JWT_SECRET", SECRET.to_string()),
        ("OMS_DB_ACQUIRE_TIMEOUT", ACQUIRE_TIMEOUT_SECS.to_string()),
    ])
    .await;
    let client = Client {
        addr: server.addr,
        token: AuthKeys::hs256(SECRET.as_bytes(), "oms", None)
            .issue(CLIENT, None, 3600)
            .expect("token"),
    };

    // --- healthy ---
    let created = client.create("tx-before", "OUT-1").await;
    assert_eq!(created.status, 201, "create before the outage: {created}");
    let order_id = created.json()["orderId"]
        .as_str()
        .expect("orderId")
        .to_string();
    let got = client.get_order(&order_id, "tx-get-0").await;
    assert_eq!(got.status, 200, "GET before the outage: {got}");
    let ready = client.plain("/readyz").await;
    assert_eq!(ready.status, 200, "/readyz before the outage: {ready}");

    // --- outage ---
    tokio::task::block_in_place(|| pg.stop());

    let r = client.get_order(&order_id, "tx-get-1").await;
    expect_unavailable("GET of an existing order", &r);
    let during = client.create("tx-during", "OUT-2").await;
    expect_unavailable("create", &during);
    // Several at once: each waits for its own connection, none for the others'.
    let burst = futures_util::future::join_all((0..6).map(|n| {
        let client = &client;
        let order_id = &order_id;
        async move { client.get_order(order_id, &format!("tx-burst-{n}")).await }
    }))
    .await;
    for r in &burst {
        expect_unavailable("concurrent GET", r);
    }
    let r = client.get_order(&order_id, "tx-get-2").await;
    expect_unavailable("GET, again", &r);
    let ready = client.plain("/readyz").await;
    assert_eq!(ready.status, 503, "/readyz during the outage: {ready}");
    assert!(
        ready.header("retry-after").is_some(),
        "/readyz 503 without Retry-After: {ready}"
    );
    assert!(
        ready.elapsed < ANSWER_LIMIT,
        "/readyz took {:?}",
        ready.elapsed
    );
    let health = client.plain("/healthz").await;
    assert_eq!(health.status, 200, "/healthz during the outage: {health}");
    assert!(
        health.elapsed < ANSWER_LIMIT,
        "/healthz took {:?}",
        health.elapsed
    );
    assert!(
        server.running(),
        "oms exited during the outage; logs:\n{}",
        server.logs()
    );

    // --- recovery, same process ---
    tokio::task::block_in_place(|| pg.start());
    let mut recovered = None;
    let mut seen = Vec::new();
    for attempt in 0..20 {
        let r = client
            .get_order(&order_id, &format!("tx-retry-{attempt}"))
            .await;
        match r.status {
            200 => {
                recovered = Some(r);
                break;
            }
            503 => {
                seen.push(format!("{} after {:?}", r.status, r.elapsed));
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            _ => panic!("GET while PostgreSQL comes back: {r}"),
        }
    }
    let recovered = recovered.unwrap_or_else(|| {
        panic!(
            "GET never succeeded within 20 attempts after PostgreSQL restarted ({}); logs:\n{}",
            seen.join(", "),
            server.logs()
        )
    });
    assert_eq!(
        recovered.json(),
        got.json(),
        "the order read after recovery differs from the one read before the outage"
    );
    assert_eq!(recovered.json()["clientOrderId"], "OUT-1");

    // The create that was refused with 503 can simply be sent again: it had left nothing behind.
    let retried = client.create("tx-during", "OUT-2").await;
    assert_eq!(retried.status, 201, "retry of the 503'd create: {retried}");
    assert!(
        retried.header("idempotent-replayed").is_none(),
        "the 503'd create was stored after all: {retried}"
    );
    let fresh = client.create("tx-after", "OUT-3").await;
    assert_eq!(fresh.status, 201, "new create after recovery: {fresh}");
    let fresh_id = fresh.json()["orderId"]
        .as_str()
        .expect("orderId")
        .to_string();
    let r = client.get_order(&fresh_id, "tx-get-3").await;
    assert_eq!(
        r.status, 200,
        "GET of the order created after recovery: {r}"
    );
    assert_eq!(r.json()["clientOrderId"], "OUT-3");
    let ready = client.plain("/readyz").await;
    assert_eq!(ready.status, 200, "/readyz after recovery: {ready}");
    assert!(server.running(), "oms exited; logs:\n{}", server.logs());
}

#[track_caller]
fn expect_unavailable(what: &str, r: &Answer) {
    assert_eq!(r.status, 503, "{what} during the outage: {r}");
    let retry = r
        .header("retry-after")
        .unwrap_or_else(|| panic!("{what}: 503 without Retry-After: {r}"));
    assert!(
        retry.parse::<u64>().is_ok(),
        "{what}: Retry-After {retry:?} is not delay-seconds"
    );
    assert!(
        r.elapsed < ANSWER_LIMIT,
        "{what} took {:?} (acquire timeout {ACQUIRE_TIMEOUT_SECS} s)",
        r.elapsed
    );
    assert_eq!(
        r.json()["errors"][0]["errorCode"],
        "service_unavailable",
        "{what}: {r}"
    );
}

/// A response with the time it took.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    elapsed: Duration,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("non-JSON body ({e}): {self}"))
    }
}

impl std::fmt::Display for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} after {:?}, headers {:?}, body {}",
            self.status,
            self.elapsed,
            self.headers,
            String::from_utf8_lossy(&self.body)
        )
    }
}

struct Client {
    addr: std::net::SocketAddr,
    token: String,
}

impl Client {
    async fn call(
        &self,
        method: &str,
        path: &str,
        txid: Option<&str>,
        body: Option<&[u8]>,
    ) -> Answer {
        let auth = format!("Bearer {}", self.token);
        let mut headers = vec![("Authorization", auth.as_str())];
        if let Some(txid) = txid {
            headers.push(("X-PB-TransactionId", txid));
        }
        if body.is_some() {
            headers.push(("Content-Type", "application/json"));
        }
        let start = Instant::now();
        let sent = tokio::time::timeout(
            REQUEST_LIMIT,
            http::send(self.addr, method, path, &headers, body),
        )
        .await;
        let elapsed = start.elapsed();
        match sent {
            Ok(Ok(r)) => Answer {
                status: r.status,
                headers: r.headers,
                body: r.body,
                elapsed,
            },
            Ok(Err(e)) => panic!("{method} {path}: {e}"),
            Err(_) => panic!("{method} {path}: no answer within {REQUEST_LIMIT:?} (hang)"),
        }
    }

    async fn create(&self, txid: &str, client_order_id: &str) -> Answer {
        let body = serde_json::to_vec(&fixtures::order_numbered(CLIENT, client_order_id)).unwrap();
        self.call("POST", ORDERS, Some(txid), Some(&body)).await
    }

    async fn get_order(&self, order_id: &str, txid: &str) -> Answer {
        let path = format!("{ORDERS}/{order_id}?clientId={CLIENT}");
        self.call("GET", &path, Some(txid), None).await
    }

    async fn plain(&self, path: &str) -> Answer {
        self.call("GET", path, None, None).await
    }
}

/// A throw-away PostgreSQL cluster; stopped and deleted on drop.
struct Postgres {
    bin: PathBuf,
    /// Data directory, socket directory and log; removed after the server is stopped.
    dir: tempfile::TempDir,
    port: u16,
    /// Run the tools as the `postgres` user (initdb refuses to run as root).
    as_postgres: bool,
    running: bool,
}

impl Postgres {
    /// Creates the cluster (trust authentication, user `postgres`) on a free port.
    fn init() -> Postgres {
        let bin = postgres_bin();
        let uid = std::process::Command::new("id")
            .arg("-u")
            .output()
            .expect("run `id -u`");
        let as_postgres = String::from_utf8_lossy(&uid.stdout).trim() == "0";
        let dir = tempfile::Builder::new()
            .prefix("oms-pg-")
            .tempdir()
            .expect("temp dir");
        if as_postgres {
            let out = std::process::Command::new("chown")
                .args(["-R", "postgres:"])
                .arg(dir.path())
                .output()
                .expect("run chown");
            assert!(
                out.status.success(),
                "db_outage runs as root and needs a `postgres` user to run PostgreSQL as; \
                 chown to it failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let free = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
        let port = free.local_addr().unwrap().port();
        drop(free);
        let pg = Postgres {
            bin,
            dir,
            port,
            as_postgres,
            running: false,
        };
        let data = pg.data();
        let out = pg
            .tool("initdb")
            .arg("-D")
            .arg(&data)
            .args([
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
            ])
            .output()
            .unwrap_or_else(|e| panic!("initdb could not be started on this machine: {e}"));
        assert!(
            out.status.success(),
            "initdb could not run on this machine ({}; as the postgres user: {}): the db_outage \
             test needs a working local PostgreSQL server installation.\nstdout:\n{}\nstderr:\n{}",
            out.status,
            pg.as_postgres,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        pg
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn log_file(&self) -> PathBuf {
        self.dir.path().join("postgres.log")
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// One of the PostgreSQL tools, as the right user, with no PG* variables of ours.
    fn tool(&self, name: &str) -> std::process::Command {
        let exe = self.bin.join(name);
        let mut cmd = if self.as_postgres {
            let mut c = std::process::Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(exe);
            c
        } else {
            std::process::Command::new(exe)
        };
        for (key, _) in std::env::vars() {
            if key.starts_with("PG") {
                cmd.env_remove(key);
            }
        }
        cmd.stdin(Stdio::null());
        cmd
    }

    /// Starts the server and waits (pg_ctl -w, bounded) until it accepts connections.
    fn start(&mut self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        let out = self
            .tool("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .arg("-l")
            .arg(self.log_file())
            .args(["-w", "-t", "30", "-o", &options, "start"])
            .output()
            .expect("run pg_ctl start");
        assert!(
            out.status.success(),
            "pg_ctl start failed ({}):\n{}{}\nlog:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            self.log()
        );
        self.running = true;
    }

    /// `pg_ctl stop -m fast`: clients are disconnected, the server goes away.
    fn stop(&mut self) {
        let out = self.pg_ctl_stop("fast").expect("run pg_ctl stop");
        assert!(
            out.status.success(),
            "pg_ctl stop failed ({}):\n{}{}\nlog:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            self.log()
        );
        self.running = false;
    }

    fn pg_ctl_stop(&self, mode: &str) -> std::io::Result<std::process::Output> {
        self.tool("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .args(["-m", mode, "-w", "-t", "30", "stop"])
            .output()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.log_file()).unwrap_or_default()
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if self.running {
            let _ = self.pg_ctl_stop("immediate");
        }
        // `dir` is removed after this, with the cluster in it.
    }
}

/// The newest /usr/lib/postgresql/<version>/bin that has initdb and pg_ctl.
fn postgres_bin() -> PathBuf {
    let root = Path::new("/usr/lib/postgresql");
    let mut found: Vec<(Vec<u32>, PathBuf)> = std::fs::read_dir(root)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let bin = entry.path().join("bin");
            let version = entry
                .file_name()
                .to_string_lossy()
                .split('.')
                .map(|p| p.parse().ok())
                .collect::<Option<Vec<u32>>>()?;
            (bin.join("initdb").is_file() && bin.join("pg_ctl").is_file()).then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin).unwrap_or_else(|| {
        panic!(
            "the db_outage test needs a PostgreSQL server installation: no \
             /usr/lib/postgresql/*/bin with initdb and pg_ctl was found (install the postgresql \
             server package)"
        )
    })
}
