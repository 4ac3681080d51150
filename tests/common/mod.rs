//! Test harness: the real router (`oms::app`) over a fresh database per test, on either backend.
//!
//! PostgreSQL tests use `TEST_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`)
//! to create a throw-away database; when that server is unreachable they FAIL, never skip.
#![allow(dead_code)]

pub mod fixtures;
pub mod sendpro_fixtures;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use oms::auth::AuthKeys;
use oms::state::HttpSettings;
use oms::store::{self, OrderStore, StoreOptions};
use oms::{AppState, app};
use serde_json::Value;
use sqlx::Connection;
use tower::ServiceExt;

pub const SECRET: &[u8] = b"test-secret-for-oms-tests";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub router: Router,
    pub store: Arc<dyn OrderStore>,
    pub keys: Arc<AuthKeys>,
    pub backend: Backend,
    /// The database this app stores into.
    pub url: String,
    cleanup: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

pub fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

impl TestApp {
    pub async fn new(backend: Backend) -> TestApp {
        TestApp::with_settings(backend, HttpSettings::default()).await
    }

    pub async fn with_settings(backend: Backend, settings: HttpSettings) -> TestApp {
        let options = StoreOptions::default();
        let (url, dir, cleanup) = match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("oms.db").display());
                (url, Some(dir), None)
            }
            Backend::Postgres => {
                let admin = admin_url();
                let name = format!("oms_test_{}", uuid::Uuid::new_v4().simple());
                let mut conn = sqlx::PgConnection::connect(&admin)
                    .await
                    .unwrap_or_else(|e| {
                        panic!("PostgreSQL is required for the test suite ({admin}): {e}")
                    });
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .await
                    .expect("create test database");
                conn.close().await.ok();
                let (base, _) = admin.rsplit_once('/').expect("database url has a path");
                (format!("{base}/{name}"), None, Some((admin, name)))
            }
        };
        let store = store::connect(&url, &options).await.expect("open store");
        let state = AppState::with_settings(
            store.clone(),
            AuthKeys::hs256(SECRET, "oms", None),
            settings,
        );
        let keys = state.auth.clone();
        TestApp {
            router: app(state),
            store,
            keys,
            backend,
            url,
            cleanup,
            _dir: dir,
        }
    }

    /// Closes the pool and drops a PostgreSQL test database.
    pub async fn finish(self) {
        self.store.close().await;
        if let Some((admin, name)) = &self.cleanup {
            if let Ok(mut conn) = sqlx::PgConnection::connect(admin).await {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn)
                    .await;
            }
        }
    }

    pub fn token(&self, client_id: &str) -> String {
        self.keys.issue(client_id, None, 3600).unwrap()
    }

    pub fn token_with_scope(&self, client_id: &str, scope: &str) -> String {
        self.keys.issue(client_id, Some(scope), 3600).unwrap()
    }

    /// Sends a request through the real router. `body` is sent as JSON when given.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        txid: Option<&str>,
        body: Option<&Value>,
    ) -> Resp {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        if let Some(tx) = txid {
            req = req.header("x-pb-transactionid", tx);
        }
        let req = match body {
            Some(b) => req
                .header("content-type", "application/json")
                .body(Body::from(serde_json::to_vec(b).unwrap())),
            None => req.body(Body::empty()),
        }
        .unwrap();
        self.raw(req).await
    }

    /// Creates `count` orders for `client_id` through the Fulfillment API (client order ids
    /// `{prefix}-0`, `{prefix}-1`, ...) and returns their order ids.
    pub async fn create_numbered(
        &self,
        token: &str,
        client_id: &str,
        prefix: &str,
        count: usize,
    ) -> Vec<String> {
        let mut ids = Vec::with_capacity(count);
        for n in 0..count {
            let created = self
                .send(
                    Method::POST,
                    "/shippingservices/fulfillment/v1/orders",
                    Some(token),
                    Some(&format!("{prefix}{n}")),
                    Some(&fixtures::order_numbered(
                        client_id,
                        &format!("{prefix}-{n}"),
                    )),
                )
                .await
                .expect(StatusCode::CREATED);
            ids.push(created.body["orderId"].as_str().unwrap().to_string());
        }
        ids
    }

    pub async fn raw(&self, req: Request<Body>) -> Resp {
        let response = self.router.clone().oneshot(req).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|_| {
                panic!(
                    "non-JSON body ({status}): {}",
                    String::from_utf8_lossy(&bytes)
                )
            })
        };
        Resp {
            status,
            headers,
            body,
        }
    }
}

#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Resp {
    #[track_caller]
    pub fn expect(self, status: StatusCode) -> Resp {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.body
        );
        self
    }

    /// The `parameters` of every Fulfillment error entry.
    pub fn error_fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .unwrap_or_else(|| panic!("not a Fulfillment error body: {}", self.body))
            .iter()
            .flat_map(|e| e["parameters"].as_array().cloned().unwrap_or_default())
            .map(|p| p.as_str().unwrap().to_string())
            .collect()
    }

    pub fn error_code(&self) -> String {
        self.body["errors"][0]["errorCode"]
            .as_str()
            .or_else(|| self.body["errorCode"].as_str())
            .unwrap_or_else(|| panic!("no error code in {}", self.body))
            .to_string()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Runs one async test body on a fresh app of the given backend, dropping the database after.
pub async fn run<F, Fut>(backend: Backend, body: F)
where
    F: FnOnce(Arc<TestApp>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let app = Arc::new(TestApp::new(backend).await);
    let outcome = tokio::spawn(body(app.clone())).await;
    if let Ok(app) = Arc::try_unwrap(app) {
        app.finish().await;
    }
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// Writes a test once and runs it on both backends: `both!(name, |app| async move { ... });`
#[macro_export]
macro_rules! both {
    ($name:ident, |$app:ident| $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $crate::common::run($crate::common::Backend::Sqlite, |$app| $body).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                $crate::common::run($crate::common::Backend::Postgres, |$app| $body).await;
            }
        }
    };
}
