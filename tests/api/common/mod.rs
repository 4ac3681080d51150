//! Test harness: the real router (`oms::app`) over a fresh database per test, on either backend.
//!
//! PostgreSQL tests use `TEST_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`)
//! to create a throw-away database; when that server is unreachable they FAIL, never skip.
#![allow(dead_code)]

pub mod fixtures;
pub mod process;
pub mod sendpro_fixtures;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, Request, StatusCode};
use http_body_util::BodyExt;
use oms::auth::AuthKeys;
use oms::state::HttpSettings;
use oms::store::{self, OrderStore, StoreOptions};
use oms::{AppState, app};
use serde::Serialize;
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

    /// Starts a request to this app: `app.request(method, path).bearer(&t).json(&b).send()`.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder<'_> {
        RequestBuilder {
            app: self,
            request: Request::builder().method(method).uri(path),
            body: Body::empty(),
        }
    }

    pub fn get(&self, path: &str) -> RequestBuilder<'_> {
        self.request(Method::GET, path)
    }

    pub fn post(&self, path: &str) -> RequestBuilder<'_> {
        self.request(Method::POST, path)
    }

    pub fn put(&self, path: &str) -> RequestBuilder<'_> {
        self.request(Method::PUT, path)
    }

    pub fn patch(&self, path: &str) -> RequestBuilder<'_> {
        self.request(Method::PATCH, path)
    }

    pub fn delete(&self, path: &str) -> RequestBuilder<'_> {
        self.request(Method::DELETE, path)
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
                .post("/shippingservices/fulfillment/v1/orders")
                .bearer(token)
                .txid(&format!("{prefix}{n}"))
                .json(&fixtures::order_numbered(
                    client_id,
                    &format!("{prefix}-{n}"),
                ))
                .send()
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

/// One request to a [`TestApp`], sent through the real router by [`RequestBuilder::send`].
#[must_use = "a request does nothing until `.send().await`"]
pub struct RequestBuilder<'a> {
    app: &'a TestApp,
    request: axum::http::request::Builder,
    body: Body,
}

impl RequestBuilder<'_> {
    /// `Authorization: Bearer {token}`.
    pub fn bearer(self, token: &str) -> Self {
        self.header("authorization", format!("Bearer {token}"))
    }

    /// `X-PB-TransactionId: {txid}`.
    pub fn txid(self, txid: &str) -> Self {
        self.header("x-pb-transactionid", txid)
    }

    /// Any header; the value may be a `HeaderValue` built from bytes that are not text.
    pub fn header<V>(mut self, name: &str, value: V) -> Self
    where
        HeaderValue: TryFrom<V>,
        <HeaderValue as TryFrom<V>>::Error: Into<axum::http::Error>,
    {
        self.request = self.request.header(name, value);
        self
    }

    /// The body as JSON, with `Content-Type: application/json`.
    pub fn json<T: Serialize + ?Sized>(self, body: &T) -> Self {
        self.header("content-type", "application/json")
            .body(serde_json::to_vec(body).unwrap())
    }

    /// The body exactly as given; no `Content-Type` is added.
    pub fn body(mut self, body: impl Into<Body>) -> Self {
        self.body = body.into();
        self
    }

    /// [`bearer`](Self::bearer) when a token is given, for tests that also try none.
    pub fn maybe_bearer(self, token: Option<&str>) -> Self {
        match token {
            Some(t) => self.bearer(t),
            None => self,
        }
    }

    /// [`txid`](Self::txid) when one is given, for tests that also try none.
    pub fn maybe_txid(self, txid: Option<&str>) -> Self {
        match txid {
            Some(t) => self.txid(t),
            None => self,
        }
    }

    /// [`json`](Self::json) when a body is given (route tables whose GETs have none).
    pub fn maybe_json(self, body: Option<&Value>) -> Self {
        match body {
            Some(b) => self.json(b),
            None => self,
        }
    }

    pub async fn send(self) -> Resp {
        let request = self.request.body(self.body).expect("a valid test request");
        self.app.raw(request).await
    }

    /// Sends the request and returns the body as text, for what is not JSON (`/metrics`).
    pub async fn send_text(self) -> String {
        let request = self.request.body(self.body).expect("a valid test request");
        let response = self.app.router.clone().oneshot(request).await.unwrap();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        String::from_utf8(bytes.to_vec()).expect("a UTF-8 body")
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
/// makes a module `name` with the tests `sqlite` and `postgres`. In scope in every test module
/// through `#[macro_use] mod common` in `main.rs`.
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
