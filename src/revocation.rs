//! Revoked API keys, as every server sharing the database sees them. A token names the API key
//! it was issued to; the bearer check refuses it when that key is in this list, which a
//! background task reloads every [`REFRESH_EVERY`], so a revocation reaches every server within
//! seconds without a query per request.

use std::collections::HashSet;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use crate::store::OrderStore;

/// How often the list is reloaded; a revocation takes effect within this plus one query.
pub const REFRESH_EVERY: Duration = Duration::from_secs(3);

#[derive(Default)]
pub struct RevokedKeys {
    keys: RwLock<HashSet<String>>,
}

impl RevokedKeys {
    pub fn contains(&self, api_key: &str) -> bool {
        self.keys
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .contains(api_key)
    }

    /// Reloads the keys revoked within `lookback` (older revocations have no live tokens).
    pub async fn refresh(&self, store: &dyn OrderStore, lookback: Duration) -> anyhow::Result<()> {
        let since = chrono::Utc::now() - chrono::Duration::from_std(lookback)?;
        let keys: HashSet<String> = store.revoked_api_keys(since).await?.into_iter().collect();
        *self.keys.write().unwrap_or_else(|e| e.into_inner()) = keys;
        Ok(())
    }
}

/// Reloads `list` every [`REFRESH_EVERY`] for as long as the server runs. A failed reload keeps
/// the previous list (and says so): refusing every token during a database hiccup would turn
/// it into an outage.
pub async fn keep_fresh(store: Arc<dyn OrderStore>, list: Arc<RevokedKeys>, lookback: Duration) {
    let mut tick = tokio::time::interval(REFRESH_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(error) = list.refresh(store.as_ref(), lookback).await {
            tracing::warn!(
                error = format!("{error:#}"),
                "reloading revoked API keys failed"
            );
        }
    }
}
