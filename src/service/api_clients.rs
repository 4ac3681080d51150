//! API clients: creating keys, checking their secrets, rotating and revoking them.
//!
//! Secrets are 256 random bits, so a single SHA-256 is enough to store them: no dictionary or
//! brute force reaches a preimage, and a slow password hash would only cost every token
//! request. Hashes are compared in constant time.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use rand::rngs::OsRng;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::store::{ApiClient, OrderStore, StoreResult};

/// How long the secret before a rotation keeps working when the operator names no period.
pub const DEFAULT_ROTATION_GRACE: Duration = Duration::hours(24);

/// Why a key and secret were refused. The token endpoints show the same message for all of
/// them, so that a caller learns nothing about which keys exist; the reason is for the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    UnknownKey,
    WrongSecret,
    Revoked,
}

/// A new key with its secret, which is shown once and never stored.
#[derive(Debug, Clone)]
pub struct Issued {
    pub client: ApiClient,
    pub secret: String,
}

pub struct ApiClients {
    store: Arc<dyn OrderStore>,
}

impl ApiClients {
    pub fn new(store: Arc<dyn OrderStore>) -> ApiClients {
        ApiClients { store }
    }

    /// A new key for tenant `client_id`. The client id and scope are checked by the caller
    /// (the CLI's parsers), as for `oms token`.
    #[tracing::instrument(skip_all)]
    pub async fn create(
        &self,
        client_id: &str,
        name: Option<&str>,
        scope: Option<&str>,
    ) -> StoreResult<Issued> {
        let secret = random_hex::<32>();
        let client = ApiClient {
            api_key: format!("omsk_{}", random_hex::<16>()),
            client_id: client_id.to_string(),
            name: name.map(str::to_string),
            scope: scope.map(str::to_string),
            secret_hash: hash(&secret),
            previous_secret_hash: None,
            previous_valid_until: None,
            created_at: Utc::now(),
            revoked_at: None,
        };
        self.store.insert_api_client(&client).await?;
        Ok(Issued { client, secret })
    }

    pub async fn list(&self) -> StoreResult<Vec<ApiClient>> {
        self.store.api_clients().await
    }

    /// `false` when there is no such live key.
    #[tracing::instrument(skip_all)]
    pub async fn revoke(&self, api_key: &str) -> StoreResult<bool> {
        self.store.revoke_api_client(api_key, Utc::now()).await
    }

    /// A new secret for the key; the current one keeps working for `grace`. `None` when there
    /// is no such live key.
    #[tracing::instrument(skip_all)]
    pub async fn rotate(&self, api_key: &str, grace: Duration) -> StoreResult<Option<String>> {
        let secret = random_hex::<32>();
        let rotated = self
            .store
            .rotate_api_client(api_key, &hash(&secret), Utc::now() + grace)
            .await?;
        Ok(rotated.then_some(secret))
    }

    /// The live client whose key and secret these are.
    #[tracing::instrument(skip_all)]
    pub async fn check(
        &self,
        api_key: &str,
        secret: &str,
    ) -> StoreResult<Result<ApiClient, Refusal>> {
        let client = self.store.api_client(api_key).await?;
        Ok(check_secret(client, secret, Utc::now()))
    }
}

/// The rule, apart from the store: the current secret, or the previous one before its deadline;
/// never a revoked key. An unknown key costs the same hashing and comparing as a known one, so
/// that the response time does not tell which keys exist.
pub fn check_secret(
    client: Option<ApiClient>,
    secret: &str,
    now: DateTime<Utc>,
) -> Result<ApiClient, Refusal> {
    let presented = hash(secret);
    let Some(client) = client else {
        let _ = equal(&presented, &hash("no such key"));
        let _ = equal(&presented, &hash("no such key either"));
        return Err(Refusal::UnknownKey);
    };
    let current = equal(&presented, &client.secret_hash);
    let previous = match (&client.previous_secret_hash, client.previous_valid_until) {
        (Some(previous), Some(until)) => equal(&presented, previous) && now < until,
        _ => {
            let _ = equal(&presented, &hash("no previous secret"));
            false
        }
    };
    if !(current || previous) {
        Err(Refusal::WrongSecret)
    } else if client.revoked_at.is_some() {
        Err(Refusal::Revoked)
    } else {
        Ok(client)
    }
}

fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

fn equal(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

fn random_hex<const N: usize>() -> String {
    let mut bytes = [0u8; N];
    OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(secret: &str) -> ApiClient {
        ApiClient {
            api_key: "omsk_1".into(),
            client_id: "1234".into(),
            name: None,
            scope: None,
            secret_hash: hash(secret),
            previous_secret_hash: None,
            previous_valid_until: None,
            created_at: Utc::now(),
            revoked_at: None,
        }
    }

    #[test]
    fn only_the_right_secret_of_a_live_key_passes() {
        let now = Utc::now();
        assert!(check_secret(Some(client("s3cret")), "s3cret", now).is_ok());
        assert_eq!(
            check_secret(Some(client("s3cret")), "s3cre", now).unwrap_err(),
            Refusal::WrongSecret
        );
        assert_eq!(
            check_secret(None, "s3cret", now).unwrap_err(),
            Refusal::UnknownKey
        );
        let mut revoked = client("s3cret");
        revoked.revoked_at = Some(now);
        assert_eq!(
            check_secret(Some(revoked), "s3cret", now).unwrap_err(),
            Refusal::Revoked
        );
    }

    #[test]
    fn the_previous_secret_works_until_its_deadline() {
        let now = Utc::now();
        let mut rotated = client("new");
        rotated.previous_secret_hash = Some(hash("old"));
        rotated.previous_valid_until = Some(now + Duration::seconds(60));
        assert!(check_secret(Some(rotated.clone()), "old", now).is_ok());
        assert!(check_secret(Some(rotated.clone()), "new", now).is_ok());
        let later = now + Duration::seconds(61);
        assert_eq!(
            check_secret(Some(rotated.clone()), "old", later).unwrap_err(),
            Refusal::WrongSecret
        );
        assert!(check_secret(Some(rotated), "new", later).is_ok());
    }

    #[test]
    fn secrets_are_256_bits_and_stored_only_as_a_hash() {
        let a = random_hex::<32>();
        assert_eq!(a.len(), 64);
        assert_ne!(a, random_hex::<32>());
        assert_ne!(hash(&a), a);
        assert_eq!(hash(&a).len(), 64);
    }
}
