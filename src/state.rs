use std::sync::Arc;
use std::time::Duration;

use axum::extract::FromRef;
use axum::http::StatusCode;

use crate::auth::AuthKeys;
use crate::rate_limit::{ClientRateLimit, RateGate};
use crate::revocation::RevokedKeys;
use crate::service::OrderService;
use crate::service::tokens::{TokenLifetimes, TokenService};
use crate::service::webhooks::WebhookService;
use crate::store::OrderStore;
use crate::webhooks::WebhookSettings;

/// Everything a request may need, built once at start-up.
#[derive(Clone)]
pub struct AppState {
    pub orders: OrderService,
    pub webhooks: WebhookService,
    pub tokens: TokenService,
    pub auth: Arc<AuthKeys>,
    /// Kept fresh by `revocation::keep_fresh`, which `serve` runs.
    pub revoked: Arc<RevokedKeys>,
    pub settings: Arc<HttpSettings>,
}

/// How the HTTP layer protects itself; see `config.rs` for the variables.
pub struct HttpSettings {
    pub request_timeout: Duration,
    /// 408 (default) or 503 when a request exceeds `request_timeout`.
    pub timeout_status: StatusCode,
    /// Requests in flight at once; more are refused with 503 instead of queueing.
    pub max_concurrency: usize,
    pub rate_limiter: Option<Arc<ClientRateLimit>>,
    /// Allowed CORS origins; empty means CORS is off.
    pub cors_origins: Vec<String>,
    /// Lifetimes of the tokens the token endpoints issue.
    pub token_lifetimes: TokenLifetimes,
    /// Webhook endpoints and deliveries (the service checks URLs with it; `serve` runs the
    /// dispatcher with it).
    pub webhooks: WebhookSettings,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            request_timeout: Duration::from_secs(30),
            timeout_status: StatusCode::REQUEST_TIMEOUT,
            max_concurrency: 1024,
            rate_limiter: None,
            cors_origins: Vec::new(),
            token_lifetimes: TokenLifetimes::default(),
            webhooks: WebhookSettings::default(),
        }
    }
}

impl AppState {
    pub fn new(store: Arc<dyn OrderStore>, auth: AuthKeys) -> AppState {
        AppState::with_settings(store, auth, HttpSettings::default())
    }

    pub fn with_settings(
        store: Arc<dyn OrderStore>,
        auth: AuthKeys,
        settings: HttpSettings,
    ) -> AppState {
        let auth = Arc::new(auth);
        AppState {
            tokens: TokenService::new(store.clone(), auth.clone(), settings.token_lifetimes),
            webhooks: WebhookService::new(store.clone(), Arc::new(settings.webhooks.clone())),
            orders: OrderService::new(store),
            auth,
            revoked: Arc::new(RevokedKeys::default()),
            settings: Arc::new(settings),
        }
    }
}

impl FromRef<AppState> for Arc<AuthKeys> {
    fn from_ref(state: &AppState) -> Self {
        state.auth.clone()
    }
}

impl FromRef<AppState> for Arc<RevokedKeys> {
    fn from_ref(state: &AppState) -> Self {
        state.revoked.clone()
    }
}

impl FromRef<AppState> for RateGate {
    fn from_ref(state: &AppState) -> Self {
        RateGate(state.settings.rate_limiter.clone())
    }
}
