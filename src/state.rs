use std::sync::Arc;

use axum::extract::FromRef;

use crate::auth::AuthKeys;
use crate::service::OrderService;
use crate::store::OrderStore;

/// Everything a request may need, built once at start-up.
#[derive(Clone)]
pub struct AppState {
    pub orders: OrderService,
    pub auth: Arc<AuthKeys>,
}

impl AppState {
    pub fn new(store: Arc<dyn OrderStore>, auth: AuthKeys) -> AppState {
        AppState {
            orders: OrderService::new(store),
            auth: Arc::new(auth),
        }
    }
}

impl FromRef<AppState> for Arc<AuthKeys> {
    fn from_ref(state: &AppState) -> Self {
        state.auth.clone()
    }
}
