//! API clients: the keys that exchange a secret for tokens. A key belongs to one tenant
//! (`client_id`); a tenant may hold several. Rules (hashing, rotation, checks) live in
//! `service::api_clients`; this is only what is stored.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreResult;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ApiClient {
    pub api_key: String,
    pub client_id: String,
    pub name: Option<String>,
    /// Space-separated scopes its tokens carry; `None` grants both.
    pub scope: Option<String>,
    /// Hex SHA-256 of the current secret.
    pub secret_hash: String,
    /// The secret before the last rotation, accepted until `previous_valid_until`.
    pub previous_secret_hash: Option<String>,
    pub previous_valid_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[async_trait]
pub trait ApiClientStore: Send + Sync + 'static {
    async fn insert_api_client(&self, client: &ApiClient) -> StoreResult<()>;

    async fn api_client(&self, api_key: &str) -> StoreResult<Option<ApiClient>>;

    /// Every client, oldest first.
    async fn api_clients(&self) -> StoreResult<Vec<ApiClient>>;

    /// Marks a live key revoked; `false` when there is no such live key.
    async fn revoke_api_client(&self, api_key: &str, at: DateTime<Utc>) -> StoreResult<bool>;

    /// Makes `secret_hash` current, keeping the current one until `previous_valid_until`;
    /// `false` when there is no such live key.
    async fn rotate_api_client(
        &self,
        api_key: &str,
        secret_hash: &str,
        previous_valid_until: DateTime<Utc>,
    ) -> StoreResult<bool>;

    /// Keys revoked at or after `since`: the ones whose tokens may still be unexpired.
    async fn revoked_api_keys(&self, since: DateTime<Utc>) -> StoreResult<Vec<String>>;
}
