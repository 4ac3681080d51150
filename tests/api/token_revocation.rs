//! Revoking an API key reaches the tokens it already got, on every server sharing the database,
//! within 10 s (issue 19, step 3): two real `oms serve` processes, `oms clients revoke` as an
//! operator runs it. On SQLite (one file, two processes) and PostgreSQL.

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use oms::service::api_clients::ApiClients;

use crate::common::process::http::send;
use crate::common::process::proc::Server;
use crate::common::{Backend, SECRET, TestApp};

const WITHIN: Duration = Duration::from_secs(10);

async fn token_from(server: &Server, key: &str, secret: &str) -> String {
    let basic = format!("Basic {}", STANDARD.encode(format!("{key}:{secret}")));
    let r = send(
        server.addr,
        "POST",
        "/oauth/token",
        &[
            ("Authorization", basic.as_str()),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        Some(b"grant_type=client_credentials"),
    )
    .await
    .unwrap();
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    body["access_token"].as_str().unwrap().to_string()
}

/// 404 while the token is good (no such order), 401 once it is refused.
async fn status_with(server: &Server, token: &str) -> u16 {
    let bearer = format!("Bearer {token}");
    send(
        server.addr,
        "GET",
        "/shippingservices/fulfillment/v1/orders/NOPE?clientId=1234",
        &[
            ("Authorization", bearer.as_str()),
            ("X-PB-TransactionId", "rev"),
        ],
        None,
    )
    .await
    .unwrap()
    .status
}

async fn revocation_reaches_every_server(backend: Backend) {
    let app = TestApp::new(backend).await;
    let secret = std::str::from_utf8(SECRET).unwrap().to_string();
    let env = [
        ("DATABASE_URL", app.url.clone()),
        ("OMS_JWT_SECRET", secret),
    ];
    let one = Server::start(&env).await;
    let two = Server::start(&env).await;
    let clients = ApiClients::new(app.store.clone());
    let doomed = clients.create("1234", None, None).await.unwrap();
    let kept = clients.create("1234", None, None).await.unwrap();
    let doomed_token = token_from(&one, &doomed.client.api_key, &doomed.secret).await;
    let kept_token = token_from(&two, &kept.client.api_key, &kept.secret).await;
    for server in [&one, &two] {
        assert_eq!(status_with(server, &doomed_token).await, 404);
        assert_eq!(status_with(server, &kept_token).await, 404);
    }

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_oms"))
        .args(["--database-url", app.url.as_str(), "clients", "revoke"])
        .arg(&doomed.client.api_key)
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let revoked = Instant::now();

    let mut refused = [None, None];
    while refused.iter().any(Option::is_none) && revoked.elapsed() < WITHIN + WITHIN {
        for (i, server) in [&one, &two].into_iter().enumerate() {
            if refused[i].is_none() && status_with(server, &doomed_token).await == 401 {
                refused[i] = Some(revoked.elapsed());
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for (i, at) in refused.iter().enumerate() {
        let at = at.unwrap_or_else(|| panic!("server {i} still accepts the revoked key's token"));
        assert!(at <= WITHIN, "server {i} took {at:?}");
    }
    // The revoked key gets no new token; the tenant's other key and its token are untouched.
    let basic = format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", doomed.client.api_key, doomed.secret))
    );
    let again = send(
        two.addr,
        "POST",
        "/oauth/token",
        &[
            ("Authorization", basic.as_str()),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        Some(b"grant_type=client_credentials"),
    )
    .await
    .unwrap();
    assert_eq!(again.status, 401);
    for server in [&one, &two] {
        assert_eq!(status_with(server, &kept_token).await, 404);
    }
    drop((one, two));
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocation_reaches_every_server_on_sqlite() {
    revocation_reaches_every_server(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocation_reaches_every_server_on_postgres() {
    revocation_reaches_every_server(Backend::Postgres).await;
}
