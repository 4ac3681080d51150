//! Bearer-JWT authentication. The accepted algorithm and key come from configuration, never from
//! the token; `Reader` and `Writer` are the extractors handlers use to learn who is asking.

use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::rate_limit::RateGate;
use crate::revocation::RevokedKeys;

pub const SCOPE_READ: &str = "orders:read";
pub const SCOPE_WRITE: &str = "orders:write";
/// Fulfilment operations (start, ship, hold, ...) and reading, but no edits or deletes.
pub const SCOPE_FULFIL: &str = "orders:fulfil";
/// Every scope, as an absent `scope` claim grants them.
pub const ALL_SCOPES: [&str; 3] = [SCOPE_READ, SCOPE_WRITE, SCOPE_FULFIL];

/// The longest `client_id` a token may carry, in bytes (documented in the README's Auth section).
pub const MAX_CLIENT_ID_LEN: usize = 64;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub client_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    pub exp: u64,
    #[serde(default)]
    pub iat: u64,
    pub iss: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    /// The API key the token was issued to (token endpoints), so that revoking the key
    /// reaches the token; absent on `oms token`'s tokens and an external issuer's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<String>,
}

/// Verifies tokens; also mints them when the key is a shared secret (`oms token`).
pub struct AuthKeys {
    decoding: DecodingKey,
    /// The key id minted tokens carry and verification picks the key by (HS256).
    kid: Option<String>,
    /// The HS256 secret before a rotation, still accepted so that tokens signed with it work
    /// until they expire.
    previous: Option<(String, DecodingKey)>,
    encoding: Option<EncodingKey>,
    /// An external issuer's keys by kid, instead of `decoding`.
    jwks: Option<Arc<crate::jwks::Jwks>>,
    algorithm: Algorithm,
    validation: Validation,
    issuer: String,
    audience: Option<String>,
}

impl AuthKeys {
    pub fn hs256(secret: &[u8], issuer: &str, audience: Option<&str>) -> AuthKeys {
        AuthKeys::hs256_rotated(secret, None, issuer, audience)
    }

    /// HS256 signing with `secret`, also accepting tokens signed with `previous`.
    pub fn hs256_rotated(
        secret: &[u8],
        previous: Option<&[u8]>,
        issuer: &str,
        audience: Option<&str>,
    ) -> AuthKeys {
        let mut keys = AuthKeys::build(
            DecodingKey::from_secret(secret),
            Some(EncodingKey::from_secret(secret)),
            Algorithm::HS256,
            issuer,
            audience,
        );
        keys.kid = Some(secret_kid(secret));
        keys.previous = previous
            .filter(|p| *p != secret)
            .map(|p| (secret_kid(p), DecodingKey::from_secret(p)));
        keys
    }

    /// RS256 or ES256 with a PEM public key: tokens come from an external issuer.
    pub fn public_key(
        algorithm: Algorithm,
        pem: &[u8],
        issuer: &str,
        audience: Option<&str>,
    ) -> anyhow::Result<AuthKeys> {
        let decoding = match algorithm {
            Algorithm::RS256 => DecodingKey::from_rsa_pem(pem)?,
            Algorithm::ES256 => DecodingKey::from_ec_pem(pem)?,
            other => anyhow::bail!("unsupported JWT algorithm {other:?} for a public key"),
        };
        Ok(AuthKeys::build(decoding, None, algorithm, issuer, audience))
    }

    /// RS256 or ES256 with the keys of an issuer's JWKS, picked by the token's kid.
    pub fn jwks(
        algorithm: Algorithm,
        jwks: crate::jwks::Jwks,
        issuer: &str,
        audience: Option<&str>,
    ) -> anyhow::Result<AuthKeys> {
        anyhow::ensure!(
            matches!(algorithm, Algorithm::RS256 | Algorithm::ES256),
            "OMS_JWT_JWKS_URL needs RS256 or ES256"
        );
        // Never used: every token is checked with a key from the set.
        let unused = DecodingKey::from_secret(&[]);
        let mut keys = AuthKeys::build(unused, None, algorithm, issuer, audience);
        keys.jwks = Some(Arc::new(jwks));
        Ok(keys)
    }

    /// Verifies a token, fetching the issuer's JWKS when the token names a key not yet known.
    pub async fn verify_fetching(&self, token: &str) -> Result<Claims, ApiError> {
        let Some(jwks) = &self.jwks else {
            return self.verify(token);
        };
        let header = jsonwebtoken::decode_header(token)
            .map_err(|e| ApiError::Unauthorized(refusal_reason(e.kind()).into()))?;
        let kid = header
            .kid
            .ok_or_else(|| ApiError::Unauthorized("the token names no signing key (kid)".into()))?;
        let key = jwks.key(&kid).await.ok_or_else(|| {
            ApiError::Unauthorized("the token's signing key (kid) is not known".into())
        })?;
        let data = jsonwebtoken::decode::<Claims>(token, &key, &self.validation)
            .map_err(|e| ApiError::Unauthorized(refusal_reason(e.kind()).into()))?;
        check_client_id(&data.claims.client_id)?;
        Ok(data.claims)
    }

    fn build(
        decoding: DecodingKey,
        encoding: Option<EncodingKey>,
        algorithm: Algorithm,
        issuer: &str,
        audience: Option<&str>,
    ) -> AuthKeys {
        let mut validation = Validation::new(algorithm);
        validation.set_issuer(&[issuer]);
        let mut required = vec!["exp", "iss"];
        match audience {
            Some(aud) => {
                validation.set_audience(&[aud]);
                required.push("aud");
            }
            None => validation.validate_aud = false,
        }
        validation.set_required_spec_claims(&required);
        validation.leeway = 30;
        // A token not valid yet is refused like an expired one, with the same leeway.
        validation.validate_nbf = true;
        AuthKeys {
            decoding,
            kid: None,
            previous: None,
            encoding,
            jwks: None,
            algorithm,
            validation,
            issuer: issuer.to_string(),
            audience: audience.map(str::to_string),
        }
    }

    pub fn verify(&self, token: &str) -> Result<Claims, ApiError> {
        let refused = |e: jsonwebtoken::errors::Error| {
            ApiError::Unauthorized(refusal_reason(e.kind()).into())
        };
        let header = jsonwebtoken::decode_header(token).map_err(refused)?;
        let key = match (&header.kid, &self.kid, &self.previous) {
            (None, _, _) => &self.decoding,
            (Some(kid), Some(current), _) if kid == current => &self.decoding,
            (Some(kid), _, Some((previous, key))) if kid == previous => key,
            // An external issuer's kid is its own business; HS256 kids are ours.
            (Some(_), None, _) => &self.decoding,
            (Some(_), Some(_), _) => {
                return Err(ApiError::Unauthorized(
                    "the token's signing key (kid) is not known".into(),
                ));
            }
        };
        let decoded = jsonwebtoken::decode::<Claims>(token, key, &self.validation);
        // A token without a kid predates kids: it may be signed with either secret.
        let data = match (decoded, &header.kid, &self.previous) {
            (Err(e), None, Some((_, previous)))
                if matches!(e.kind(), jsonwebtoken::errors::ErrorKind::InvalidSignature) =>
            {
                jsonwebtoken::decode::<Claims>(token, previous, &self.validation)
                    .map_err(refused)?
            }
            (result, _, _) => result.map_err(refused)?,
        };
        check_client_id(&data.claims.client_id)?;
        Ok(data.claims)
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn issue(
        &self,
        client_id: &str,
        scope: Option<&str>,
        ttl_secs: u64,
    ) -> anyhow::Result<String> {
        self.issue_for_key(client_id, scope, ttl_secs, None)
    }

    /// A token that names the API key it was issued to.
    pub fn issue_for_key(
        &self,
        client_id: &str,
        scope: Option<&str>,
        ttl_secs: u64,
        api_key: Option<&str>,
    ) -> anyhow::Result<String> {
        let key = self.encoding.as_ref().ok_or_else(|| {
            anyhow::anyhow!("tokens can only be minted with a shared secret (HS256)")
        })?;
        if let Err(ApiError::Unauthorized(reason)) = check_client_id(client_id) {
            anyhow::bail!("{reason}");
        }
        let now = jsonwebtoken::get_current_timestamp();
        let claims = Claims {
            client_id: client_id.to_string(),
            scope: scope.map(str::to_string),
            exp: now + ttl_secs,
            iat: now,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            api_key: api_key.map(str::to_string),
        };
        let mut header = Header::new(self.algorithm);
        header.kid = self.kid.clone();
        Ok(jsonwebtoken::encode(&header, &claims, key)?)
    }
}

/// A key id that names an HS256 secret without revealing it: the start of its SHA-256.
fn secret_kid(secret: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(&Sha256::digest(secret)[..8])
}

/// Our short reason for a refused token. The library's own text (serde variants, base64
/// positions) would tell a prober how the token was parsed and means nothing to a client.
fn refusal_reason(kind: &jsonwebtoken::errors::ErrorKind) -> &'static str {
    use jsonwebtoken::errors::ErrorKind;
    match kind {
        ErrorKind::ExpiredSignature => "the token has expired",
        ErrorKind::ImmatureSignature => "the token is not valid yet (nbf)",
        ErrorKind::InvalidSignature => "the token's signature does not verify",
        ErrorKind::InvalidIssuer => "the token's issuer is not accepted",
        ErrorKind::InvalidAudience => "the token's audience is not accepted",
        ErrorKind::InvalidAlgorithm | ErrorKind::MissingAlgorithm => {
            "the token's algorithm is not accepted"
        }
        ErrorKind::MissingRequiredClaim(_) => "the token lacks a required claim",
        ErrorKind::InvalidClaimFormat(_) | ErrorKind::Json(_) => {
            "the token's claims are missing or malformed"
        }
        _ => "the token is malformed",
    }
}

/// A tenant id that is empty, too long or holds control characters (NUL among them, which
/// PostgreSQL cannot store in text) identifies no tenant; refuse it before it reaches a query.
fn check_client_id(client_id: &str) -> Result<(), ApiError> {
    let reason = if client_id.trim().is_empty() {
        "the token has an empty client_id".to_string()
    } else if client_id.len() > MAX_CLIENT_ID_LEN {
        format!("the token's client_id is longer than {MAX_CLIENT_ID_LEN} bytes")
    } else if client_id.chars().any(char::is_control) {
        "the token's client_id holds control characters".to_string()
    } else {
        return Ok(());
    };
    Err(ApiError::Unauthorized(reason))
}

/// The authenticated tenant and what it may do.
#[derive(Debug, Clone)]
pub struct Caller {
    pub client_id: String,
    pub can_read: bool,
    pub can_write: bool,
    /// Fulfilment operations: `orders:fulfil`, or `orders:write`, which includes them.
    pub can_fulfil: bool,
    /// The API key the token was issued for (token endpoints only), recorded in history.
    pub api_key: Option<String>,
    /// The request's correlation id (`X-PB-TransactionId`, else `X-Request-Id`), for history.
    pub transaction_id: Option<String>,
}

impl Caller {
    fn from_claims(claims: Claims) -> Caller {
        // An absent scope means both, as documented in the API notes.
        let (can_read, can_write, can_fulfil) = match &claims.scope {
            None => (true, true, true),
            Some(scope) => {
                let has = |s: &str| scope.split_whitespace().any(|x| x == s);
                let write = has(SCOPE_WRITE);
                let fulfil = write || has(SCOPE_FULFIL);
                (has(SCOPE_READ) || fulfil, write, fulfil)
            }
        };
        Caller {
            client_id: claims.client_id,
            can_read,
            can_write,
            can_fulfil,
            api_key: claims.api_key,
            transaction_id: None,
        }
    }

    /// A `clientId` in a body or query must name the caller's own tenant.
    pub fn require_same_client(&self, client_id: &str) -> Result<(), ApiError> {
        if client_id == self.client_id {
            Ok(())
        } else {
            Err(ApiError::Forbidden(
                "clientId does not match the client of the bearer token".into(),
            ))
        }
    }
}

/// A caller whose token grants reading (`orders:read` or `orders:write`). As an extractor it
/// verifies the bearer token, applies the client's rate limit, checks the scope and records the
/// client on the request's span: a handler's signature says what it needs.
pub struct Reader(pub Caller);

/// A caller whose token grants writing (`orders:write`); see [`Reader`].
pub struct Writer(pub Caller);

/// A caller whose token grants fulfilment operations (`orders:fulfil` or `orders:write`); see
/// [`Reader`].
pub struct Fulfiller(pub Caller);

impl<S> FromRequestParts<S> for Fulfiller
where
    Arc<AuthKeys>: FromRef<S>,
    Arc<RevokedKeys>: FromRef<S>,
    RateGate: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        granted(authenticate(parts, state).await?, SCOPE_FULFIL, |c| {
            c.can_fulfil
        })
        .map(Fulfiller)
    }
}

impl<S> FromRequestParts<S> for Reader
where
    Arc<AuthKeys>: FromRef<S>,
    Arc<RevokedKeys>: FromRef<S>,
    RateGate: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        granted(authenticate(parts, state).await?, SCOPE_READ, |c| {
            c.can_read
        })
        .map(Reader)
    }
}

impl<S> FromRequestParts<S> for Writer
where
    Arc<AuthKeys>: FromRef<S>,
    Arc<RevokedKeys>: FromRef<S>,
    RateGate: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        granted(authenticate(parts, state).await?, SCOPE_WRITE, |c| {
            c.can_write
        })
        .map(Writer)
    }
}

/// The caller when its token grants `scope`, else 403 naming it.
fn granted(caller: Caller, scope: &str, grants: fn(&Caller) -> bool) -> Result<Caller, ApiError> {
    if grants(&caller) {
        Ok(caller)
    } else {
        Err(ApiError::Forbidden(format!(
            "the token lacks the {scope} scope"
        )))
    }
}

/// The one place a request's `Authorization` is read: the token verified, the client's rate
/// limit applied, the client recorded on the request's span.
async fn authenticate<S>(parts: &Parts, state: &S) -> Result<Caller, ApiError>
where
    Arc<AuthKeys>: FromRef<S>,
    Arc<RevokedKeys>: FromRef<S>,
    RateGate: FromRef<S>,
{
    let header = parts
        .headers
        .get(AUTHORIZATION)
        .ok_or_else(|| ApiError::Unauthorized("the Authorization header is missing".into()))?;
    let token =
        header.to_str().ok().and_then(bearer_token).ok_or_else(|| {
            ApiError::Unauthorized("Authorization must be 'Bearer <token>'".into())
        })?;
    let claims = Arc::<AuthKeys>::from_ref(state)
        .verify_fetching(token)
        .await?;
    if let Some(key) = &claims.api_key
        && Arc::<RevokedKeys>::from_ref(state).contains(key)
    {
        return Err(ApiError::Unauthorized(
            "the API key of this token was revoked".into(),
        ));
    }
    let mut caller = Caller::from_claims(claims);
    tracing::Span::current().record("client_id", caller.client_id.as_str());
    if let RateGate(Some(limit)) = RateGate::from_ref(state)
        && let Err(wait) = limit.check(&caller.client_id)
    {
        return Err(ApiError::RateLimited {
            retry_after: wait.as_secs_f64().ceil().max(1.0) as u64,
        });
    }
    caller.transaction_id = ["x-pb-transactionid", "x-request-id"]
        .iter()
        .find_map(|h| parts.headers.get(*h))
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 255)
        .map(str::to_string);
    Ok(caller)
}

/// The token of `Bearer <token>`; the scheme's name is case-insensitive (RFC 9110 11.1).
fn bearer_token(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_tokens_verify_and_carry_scopes() {
        let keys = AuthKeys::hs256(b"secret", "oms", None);
        let t = keys.issue("c1", Some("orders:read"), 60).unwrap();
        let c = Caller::from_claims(keys.verify(&t).unwrap());
        assert_eq!(c.client_id, "c1");
        assert!(c.can_read && !c.can_write);
    }

    #[test]
    fn an_expired_or_altered_token_is_refused() {
        let keys = AuthKeys::hs256(b"secret", "oms", None);
        let mut claims = keys.verify(&keys.issue("c1", None, 60).unwrap()).unwrap();
        // Past jsonwebtoken's 30 s leeway.
        claims.exp = jsonwebtoken::get_current_timestamp() - 31;
        let expired = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(b"secret"),
        )
        .unwrap();
        assert!(matches!(
            keys.verify(&expired),
            Err(ApiError::Unauthorized(_))
        ));
        let token = keys.issue("c1", None, 60).unwrap();
        // A character well inside the signature, so every one of its bits is signature.
        let at = token.len() - 10;
        let swapped = if &token[at..=at] == "A" { "B" } else { "A" };
        let forged = format!("{}{swapped}{}", &token[..at], &token[at + 1..]);
        assert!(keys.verify(&forged).is_err());
    }

    #[test]
    fn the_bearer_scheme_is_case_insensitive() {
        assert_eq!(bearer_token("Bearer abc"), Some("abc"));
        assert_eq!(bearer_token("bearer abc"), Some("abc"));
        assert_eq!(bearer_token("BEARER  abc "), Some("abc"));
        assert_eq!(bearer_token("Basic abc"), None);
        assert_eq!(bearer_token("Bearer "), None);
    }

    #[test]
    fn other_issuers_and_secrets_are_refused() {
        let keys = AuthKeys::hs256(b"secret", "oms", None);
        let foreign = AuthKeys::hs256(b"secret", "someone-else", None);
        assert!(
            keys.verify(&foreign.issue("c1", None, 60).unwrap())
                .is_err()
        );
        let wrong = AuthKeys::hs256(b"other", "oms", None);
        assert!(keys.verify(&wrong.issue("c1", None, 60).unwrap()).is_err());
    }

    fn signed(claims: &serde_json::Value) -> String {
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            claims,
            &EncodingKey::from_secret(b"secret"),
        )
        .unwrap()
    }

    fn reason(result: Result<Claims, ApiError>) -> String {
        match result {
            Err(ApiError::Unauthorized(reason)) => reason,
            other => panic!("expected a 401, got {other:?}"),
        }
    }

    #[test]
    fn a_token_not_valid_yet_is_refused_past_the_leeway() {
        let keys = AuthKeys::hs256(b"secret", "oms", None);
        let now = jsonwebtoken::get_current_timestamp();
        let with_nbf = |nbf: u64| {
            signed(&serde_json::json!({
                "client_id": "c1", "exp": now + 600, "iss": "oms", "nbf": nbf,
            }))
        };
        assert!(reason(keys.verify(&with_nbf(now + 31))).contains("not valid yet"));
        // Inside the 30 s leeway, as for exp.
        assert!(keys.verify(&with_nbf(now + 20)).is_ok());
        assert!(keys.verify(&with_nbf(now - 5)).is_ok());
    }

    #[test]
    fn client_ids_that_name_no_tenant_are_refused() {
        let keys = AuthKeys::hs256(b"secret", "oms", None);
        let now = jsonwebtoken::get_current_timestamp();
        let with_client =
            |c: &str| signed(&serde_json::json!({"client_id": c, "exp": now + 600, "iss": "oms"}));
        let longest = "c".repeat(MAX_CLIENT_ID_LEN);
        assert!(keys.verify(&with_client(&longest)).is_ok());
        for bad in [
            String::new(),
            "  ".into(),
            format!("{longest}c"),
            "c\u{0}1".into(),
            "c\n1".into(),
            "c\u{7f}".into(),
        ] {
            assert!(
                reason(keys.verify(&with_client(&bad))).contains("client_id"),
                "{bad:?}"
            );
            assert!(keys.issue(&bad, None, 60).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn refusals_name_our_reason_not_the_library_internals() {
        let keys = AuthKeys::hs256(b"secret", "oms", None);
        let now = jsonwebtoken::get_current_timestamp();
        let cases = [
            ("a.b.c", "malformed"),
            ("not-a-jwt", "malformed"),
            (
                &signed(&serde_json::json!({"exp": now + 600, "iss": "oms"})),
                "claims",
            ),
            (
                &signed(&serde_json::json!({"client_id": "c1", "iss": "oms"})),
                "claims",
            ),
            (
                &signed(&serde_json::json!({"client_id": 7, "exp": now + 600, "iss": "oms"})),
                "claims",
            ),
        ];
        for (token, expected) in cases {
            let r = reason(keys.verify(token));
            assert!(r.contains(expected), "{token}: {r}");
            assert!(!r.contains("Base64") && !r.contains("variant"), "{r}");
        }
    }

    #[test]
    fn after_a_rotation_tokens_of_the_previous_secret_still_verify() {
        let old = AuthKeys::hs256(b"old-secret-0123456", "oms", None);
        let before = old.issue("c1", None, 60).unwrap();
        let header = jsonwebtoken::decode_header(&before).unwrap();
        assert_eq!(header.kid, Some(secret_kid(b"old-secret-0123456")));

        let rotated = AuthKeys::hs256_rotated(
            b"new-secret-0123456",
            Some(b"old-secret-0123456"),
            "oms",
            None,
        );
        assert!(rotated.verify(&before).is_ok());
        let after = rotated.issue("c1", None, 60).unwrap();
        assert!(rotated.verify(&after).is_ok());
        // The old server does not know the new key.
        assert!(reason(old.verify(&after)).contains("kid"));
        // Once the previous secret is dropped, its tokens are refused.
        let only_new = AuthKeys::hs256(b"new-secret-0123456", "oms", None);
        assert!(only_new.verify(&before).is_err());
        // Tokens from before kids existed verify with either secret.
        let claims = serde_json::json!({
            "client_id": "c1", "exp": jsonwebtoken::get_current_timestamp() + 60, "iss": "oms",
        });
        let kidless = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(b"old-secret-0123456"),
        )
        .unwrap();
        assert!(rotated.verify(&kidless).is_ok());
        assert!(only_new.verify(&kidless).is_err());
    }
}
