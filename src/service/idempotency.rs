//! Idempotent create: the same key with the same request answers with the first response; the
//! same key with another request is a conflict. Records expire after 24 hours.

use sha2::{Digest, Sha256};

use crate::error::ApiError;

pub const WINDOW_HOURS: i64 = 24;

#[derive(Debug, Clone)]
pub struct IdempotencyKey {
    pub key: String,
    /// Fingerprint of the request (surface + canonical JSON body).
    pub request_hash: String,
}

impl IdempotencyKey {
    /// `X-PB-TransactionId` rules: 1–25 of `A-Za-z0-9_-`. `Idempotency-Key` may be longer (255).
    pub fn new(
        key: &str,
        max_len: usize,
        surface: &str,
        body: &serde_json::Value,
    ) -> Result<Self, ApiError> {
        validate_key(key, max_len)?;
        // serde_json's map is ordered by key, so the same document always hashes the same.
        let canonical = serde_json::to_string(body).map_err(anyhow::Error::from)?;
        let mut h = Sha256::new();
        h.update(surface.as_bytes());
        h.update([0]);
        h.update(canonical.as_bytes());
        Ok(IdempotencyKey {
            key: key.to_string(),
            request_hash: hex::encode(h.finalize()),
        })
    }
}

pub fn validate_key(key: &str, max_len: usize) -> Result<(), ApiError> {
    let ok = (1..=max_len).contains(&key.len())
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(ApiError::field(
            "X-PB-TransactionId",
            format!("must be 1 to {max_len} letters, digits, '-' or '_'"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn same_document_same_hash_regardless_of_key_order() {
        let a: serde_json::Value = serde_json::from_str(r#"{"a":1,"b":[2]}"#).unwrap();
        let b: serde_json::Value = serde_json::from_str(r#"{ "b":[2], "a":1 }"#).unwrap();
        let ka = IdempotencyKey::new("k", 25, "f", &a).unwrap();
        let kb = IdempotencyKey::new("k", 25, "f", &b).unwrap();
        assert_eq!(ka.request_hash, kb.request_hash);
        let other = IdempotencyKey::new("k", 25, "s", &a).unwrap();
        assert_ne!(ka.request_hash, other.request_hash);
        assert_ne!(
            ka.request_hash,
            IdempotencyKey::new("k", 25, "f", &json!({"a": 2}))
                .unwrap()
                .request_hash
        );
    }

    #[test]
    fn keys_follow_the_documented_alphabet() {
        assert!(validate_key("abc-DEF_123", 25).is_ok());
        assert!(validate_key("", 25).is_err());
        assert!(validate_key(&"a".repeat(26), 25).is_err());
        assert!(validate_key("a b", 25).is_err());
    }
}
