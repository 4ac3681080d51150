//! Standard Webhooks signatures (<https://www.standardwebhooks.com/>): `webhook-signature` is
//! `v1,` and the base64 HMAC-SHA256 of `{webhook-id}.{webhook-timestamp}.{body}`, keyed with
//! the base64-decoded part of a `whsec_` secret. Several signatures, space separated, let a
//! receiver verify with the old secret or the new one while a rotation settles.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

const PREFIX: &str = "whsec_";

/// A new secret: 32 random bytes, base64, after `whsec_`.
pub fn generate_secret() -> String {
    let mut key = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut key);
    format!("{PREFIX}{}", STANDARD.encode(key))
}

/// `v1,<base64 signature>` of one message with one secret.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> String {
    let encoded = secret.strip_prefix(PREFIX).unwrap_or(secret);
    // The secrets are ours (generate_secret); one that does not decode signs with its bytes.
    let key = STANDARD
        .decode(encoded)
        .unwrap_or_else(|_| encoded.as_bytes().to_vec());
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("HMAC takes keys of any length");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_the_specification_test_vector() {
        // The reference libraries' vector (standard-webhooks, svix).
        let signature = sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn generated_secrets_are_distinct_whsec_keys_of_32_bytes() {
        let (a, b) = (generate_secret(), generate_secret());
        assert_ne!(a, b);
        let key = STANDARD.decode(a.strip_prefix(PREFIX).unwrap()).unwrap();
        assert_eq!(key.len(), 32);
    }
}
