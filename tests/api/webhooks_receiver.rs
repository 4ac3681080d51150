//! A webhook receiver on loopback for the webhook tests: it records every request and answers
//! with the statuses it is told, then 200. Also the harness that runs an in-process app with a
//! dispatcher whose retries take milliseconds, and a Standard Webhooks verifier written from
//! the specification (not with oms's own signing code).

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use oms::state::HttpSettings;
use oms::webhooks::WebhookSettings;
use serde_json::Value;
use sha2::Sha256;

use crate::common::{Backend, TestApp};

#[derive(Debug, Clone)]
pub struct Hit {
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub json: Value,
    /// What the receiver answered.
    pub status: u16,
}

impl Hit {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("no {name} header"))
    }

    pub fn order_version(&self) -> (String, i64) {
        let data = &self.json["data"];
        (
            data["orderId"].as_str().unwrap().to_string(),
            data["version"].as_i64().unwrap(),
        )
    }
}

#[derive(Default)]
struct Shared {
    hits: Vec<Hit>,
    plan: VecDeque<u16>,
    /// Answer this when the plan is empty (200 unless set).
    fallback: Option<u16>,
}

pub struct Receiver {
    pub addr: SocketAddr,
    shared: Arc<Mutex<Shared>>,
    task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    pub async fn start() -> Receiver {
        Receiver::start_on("127.0.0.1:0".parse().unwrap()).await
    }

    pub async fn start_on(addr: SocketAddr) -> Receiver {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .expect("bind receiver");
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Mutex::new(Shared::default()));
        let state = shared.clone();
        let app = axum::Router::new().fallback(
            move |uri: axum::http::Uri, headers: HeaderMap, body: Bytes| {
                let state = state.clone();
                async move {
                    let mut s = state.lock().unwrap();
                    let status = s.plan.pop_front().or(s.fallback).unwrap_or(200);
                    s.hits.push(Hit {
                        path: uri.path().to_string(),
                        json: serde_json::from_slice(&body).unwrap_or(Value::Null),
                        headers,
                        body,
                        status,
                    });
                    let code = StatusCode::from_u16(status).unwrap();
                    (code, [("location", "/redirected")], "ok").into_response()
                }
            },
        );
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.ok();
        });
        Receiver { addr, shared, task }
    }

    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    /// The next answers, in order; 200 (or [`Receiver::always`]) after them.
    pub fn answer(&self, statuses: &[u16]) {
        self.shared.lock().unwrap().plan.extend(statuses);
    }

    pub fn always(&self, status: u16) {
        self.shared.lock().unwrap().fallback = Some(status);
    }

    pub fn hits(&self) -> Vec<Hit> {
        self.shared.lock().unwrap().hits.clone()
    }

    /// The requests answered 2xx.
    pub fn delivered(&self) -> Vec<Hit> {
        self.hits()
            .into_iter()
            .filter(|h| (200..300).contains(&h.status))
            .collect()
    }

    /// Waits (bounded) until `n` requests were answered 2xx.
    pub async fn wait_delivered(&self, n: usize, limit: Duration) -> Vec<Hit> {
        let waited = tokio::time::timeout(limit, async {
            loop {
                let done = self.delivered();
                if done.len() >= n {
                    return done;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await;
        waited.unwrap_or_else(|_| {
            panic!(
                "{} of {n} deliveries within {limit:?}; hits: {:?}",
                self.delivered().len(),
                self.hits()
                    .iter()
                    .map(|h| (h.status, h.json.clone()))
                    .collect::<Vec<_>>()
            )
        })
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Standard Webhooks verification: some `v1,` signature in `webhook-signature` is the base64
/// HMAC-SHA256 of `id.timestamp.body` under the secret's base64 key.
pub fn verify(secret: &str, hit: &Hit) -> bool {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(
        format!(
            "{}.{}.",
            hit.header("webhook-id"),
            hit.header("webhook-timestamp")
        )
        .as_bytes(),
    );
    mac.update(&hit.body);
    let expected = STANDARD.encode(mac.finalize().into_bytes());
    hit.header("webhook-signature")
        .split(' ')
        .any(|s| s.strip_prefix("v1,") == Some(expected.as_str()))
}

/// Retries in milliseconds, a dispatcher that looks every 20 ms, loopback allowed.
pub fn quick() -> WebhookSettings {
    WebhookSettings {
        allow_private: true,
        timeout: Duration::from_secs(2),
        retry_base: Duration::from_millis(50),
        retry_max: Duration::from_millis(200),
        retry_for: Duration::from_secs(600),
        poll: Duration::from_millis(20),
        ..WebhookSettings::default()
    }
}

/// Like `common::run`, with these webhook settings and a dispatcher running beside the app.
pub async fn run_delivering<F, Fut>(backend: Backend, settings: WebhookSettings, body: F)
where
    F: FnOnce(Arc<TestApp>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let http = HttpSettings {
        webhooks: settings.clone(),
        ..HttpSettings::default()
    };
    let app = Arc::new(TestApp::with_settings(backend, http).await);
    let dispatcher = tokio::spawn(oms::webhooks::dispatcher::run(app.store.clone(), settings));
    let outcome = tokio::spawn(body(app.clone())).await;
    dispatcher.abort();
    let _ = dispatcher.await;
    if let Ok(app) = Arc::try_unwrap(app) {
        app.finish().await;
    }
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// `both!` with a dispatcher: `delivering!(name, settings, |app| async move { ... })`.
macro_rules! delivering {
    ($name:ident, $settings:expr, |$app:ident| $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $crate::webhooks_receiver::run_delivering(
                    $crate::common::Backend::Sqlite,
                    $settings,
                    |$app| $body,
                )
                .await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                $crate::webhooks_receiver::run_delivering(
                    $crate::common::Backend::Postgres,
                    $settings,
                    |$app| $body,
                )
                .await;
            }
        }
    };
}
