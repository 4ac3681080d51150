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

pub const SCOPE_READ: &str = "orders:read";
pub const SCOPE_WRITE: &str = "orders:write";

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
}

/// Verifies tokens; also mints them when the key is a shared secret (`oms token`).
pub struct AuthKeys {
    decoding: DecodingKey,
    encoding: Option<EncodingKey>,
    algorithm: Algorithm,
    validation: Validation,
    issuer: String,
    audience: Option<String>,
}

impl AuthKeys {
    pub fn hs256(secret: &[u8], issuer: &str, audience: Option<&str>) -> AuthKeys {
        AuthKeys::build(
            DecodingKey::from_secret(secret),
            Some(EncodingKey::from_secret(secret)),
            Algorithm::HS256,
            issuer,
            audience,
        )
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
        AuthKeys {
            decoding,
            encoding,
            algorithm,
            validation,
            issuer: issuer.to_string(),
            audience: audience.map(str::to_string),
        }
    }

    pub fn verify(&self, token: &str) -> Result<Claims, ApiError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| ApiError::Unauthorized(format!("invalid bearer token: {e}")))?;
        if data.claims.client_id.trim().is_empty() {
            return Err(ApiError::Unauthorized(
                "the token has an empty client_id".into(),
            ));
        }
        Ok(data.claims)
    }

    pub fn issue(
        &self,
        client_id: &str,
        scope: Option<&str>,
        ttl_secs: u64,
    ) -> anyhow::Result<String> {
        let key = self.encoding.as_ref().ok_or_else(|| {
            anyhow::anyhow!("tokens can only be minted with a shared secret (HS256)")
        })?;
        let now = jsonwebtoken::get_current_timestamp();
        let claims = Claims {
            client_id: client_id.to_string(),
            scope: scope.map(str::to_string),
            exp: now + ttl_secs,
            iat: now,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
        };
        Ok(jsonwebtoken::encode(
            &Header::new(self.algorithm),
            &claims,
            key,
        )?)
    }
}

/// The authenticated tenant and what it may do.
#[derive(Debug, Clone)]
pub struct Caller {
    pub client_id: String,
    pub can_read: bool,
    pub can_write: bool,
    /// The request's correlation id (`X-PB-TransactionId`, else `X-Request-Id`), for history.
    pub transaction_id: Option<String>,
}

impl Caller {
    fn from_claims(claims: Claims) -> Caller {
        // An absent scope means both, as documented in the API notes.
        let (can_read, can_write) = match &claims.scope {
            None => (true, true),
            Some(scope) => {
                let has = |s: &str| scope.split_whitespace().any(|x| x == s);
                (has(SCOPE_READ) || has(SCOPE_WRITE), has(SCOPE_WRITE))
            }
        };
        Caller {
            client_id: claims.client_id,
            can_read,
            can_write,
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

impl<S> FromRequestParts<S> for Reader
where
    Arc<AuthKeys>: FromRef<S>,
    RateGate: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        granted(authenticate(parts, state)?, SCOPE_READ, |c| c.can_read).map(Reader)
    }
}

impl<S> FromRequestParts<S> for Writer
where
    Arc<AuthKeys>: FromRef<S>,
    RateGate: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        granted(authenticate(parts, state)?, SCOPE_WRITE, |c| c.can_write).map(Writer)
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
fn authenticate<S>(parts: &Parts, state: &S) -> Result<Caller, ApiError>
where
    Arc<AuthKeys>: FromRef<S>,
    RateGate: FromRef<S>,
{
    let header = parts
        .headers
        .get(AUTHORIZATION)
        .ok_or_else(|| ApiError::Unauthorized("missing Authorization: Bearer token".into()))?;
    let token =
        header.to_str().ok().and_then(bearer_token).ok_or_else(|| {
            ApiError::Unauthorized("Authorization must be 'Bearer <token>'".into())
        })?;
    let mut caller = Caller::from_claims(Arc::<AuthKeys>::from_ref(state).verify(token)?);
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
}
