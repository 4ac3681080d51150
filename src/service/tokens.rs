//! The token endpoints' rules: HTTP Basic API key and secret, `grant_type=client_credentials`,
//! an optional narrowing `scope`, and a JWT the bearer middleware accepts.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::auth::{ALL_SCOPES, AuthKeys};
use crate::domain::validate::FieldError;
use crate::error::ApiError;
use crate::rate_limit::FailureLimit;
use crate::service::api_clients::ApiClients;
use crate::store::OrderStore;

/// How long issued tokens live, per endpoint family (the documents: 10 h and 4 h).
#[derive(Debug, Clone, Copy)]
pub struct TokenLifetimes {
    pub fulfillment: Duration,
    pub sendpro: Duration,
}

impl Default for TokenLifetimes {
    fn default() -> Self {
        TokenLifetimes {
            fulfillment: Duration::from_secs(10 * 3600),
            sendpro: Duration::from_secs(4 * 3600),
        }
    }
}

/// The scope SendPro360's SDK asks for; it means "whatever the key may do".
pub const SENDPRO_DEFAULT_SCOPE: &str = "psapi";

/// A token as both endpoints describe it.
#[derive(Debug, Clone)]
pub struct Token {
    pub access_token: String,
    pub client_id: String,
    /// Space separated, as granted.
    pub scope: String,
    pub issued_at_ms: u64,
    pub expires_in: u64,
}

#[derive(Clone)]
pub struct TokenService {
    clients: Arc<ApiClients>,
    keys: Arc<AuthKeys>,
    lifetimes: TokenLifetimes,
    failures: Arc<FailureLimit>,
}

/// Every refusal of a key or secret reads the same: which part was wrong is for the log only.
const BAD_CREDENTIALS: &str = "the API key or secret is not valid";

impl TokenService {
    pub fn new(
        store: Arc<dyn OrderStore>,
        keys: Arc<AuthKeys>,
        lifetimes: TokenLifetimes,
    ) -> TokenService {
        TokenService {
            clients: Arc::new(ApiClients::new(store)),
            keys,
            lifetimes,
            failures: Arc::new(FailureLimit::default()),
        }
    }

    /// Checks the request and mints a token living `lifetime`. `source` is the peer's address,
    /// when the server knows it, for the per-address limit on failures.
    #[tracing::instrument(skip_all)]
    pub async fn issue(
        &self,
        authorization: Option<&str>,
        form: &[u8],
        lifetime: Duration,
        source: Option<IpAddr>,
    ) -> Result<Token, ApiError> {
        let (key, secret) = basic_credentials(authorization)?;
        if let Err(wait) = self.failures.check(&key, source) {
            return Err(ApiError::RateLimited {
                retry_after: wait.as_secs_f64().ceil().max(1.0) as u64,
            });
        }
        let params = TokenForm::parse(form)?;
        let client = match self.clients.check(&key, &secret).await? {
            Ok(client) => client,
            Err(refusal) => {
                tracing::info!(?refusal, "token request refused");
                self.failures.failed(&key, source);
                return Err(ApiError::Unauthorized(BAD_CREDENTIALS.into()));
            }
        };
        let scope = granted_scope(client.scope.as_deref(), params.scope.as_deref())?;
        let ttl = lifetime.as_secs().max(1);
        let access_token = self
            .keys
            .issue_for_key(&client.client_id, Some(&scope), ttl, Some(&client.api_key))
            .map_err(|e| ApiError::Internal(e.context("minting a token")))?;
        Ok(Token {
            access_token,
            client_id: client.client_id,
            scope,
            issued_at_ms: jsonwebtoken::get_current_timestamp() * 1000,
            expires_in: ttl,
        })
    }

    pub fn lifetimes(&self) -> TokenLifetimes {
        self.lifetimes
    }

    pub fn issuer(&self) -> &str {
        self.keys.issuer()
    }
}

/// `Basic base64(key:secret)` (RFC 7617); the scheme's name is case-insensitive.
fn basic_credentials(header: Option<&str>) -> Result<(String, String), ApiError> {
    let refuse = |why: &str| ApiError::Unauthorized(why.into());
    let header = header.ok_or_else(|| refuse("the Authorization header is missing"))?;
    let (_, encoded) = header
        .trim()
        .split_once(' ')
        .filter(|(s, _)| s.eq_ignore_ascii_case("basic"))
        .ok_or_else(|| refuse("Authorization must be 'Basic base64(key:secret)'"))?;
    let decoded = STANDARD
        .decode(encoded.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| refuse("the Basic credentials are not base64 of key:secret"))?;
    match decoded.split_once(':') {
        Some((key, secret)) if !key.is_empty() && !secret.is_empty() => {
            Ok((key.to_string(), secret.to_string()))
        }
        _ => Err(refuse("the Basic credentials are not base64 of key:secret")),
    }
}

struct TokenForm {
    scope: Option<String>,
}

impl TokenForm {
    fn parse(body: &[u8]) -> Result<TokenForm, ApiError> {
        let mut grant_type = None;
        let mut scope = None;
        for (name, value) in form_urlencoded::parse(body) {
            match name.as_ref() {
                "grant_type" => grant_type = Some(value.into_owned()),
                "scope" => scope = Some(value.into_owned()),
                _ => {}
            }
        }
        match grant_type.as_deref() {
            Some("client_credentials") => Ok(TokenForm { scope }),
            None => Err(invalid("grant_type", "is required (client_credentials)")),
            Some(_) => Err(invalid(
                "grant_type",
                "is not supported; the only grant is client_credentials",
            )),
        }
    }
}

fn invalid(field: &str, message: &str) -> ApiError {
    ApiError::Validation(vec![FieldError {
        field: field.into(),
        message: message.into(),
    }])
}

/// The key's scopes, narrowed to those the request names. No scope, or SendPro360's `psapi`,
/// asks for everything the key may do; asking for more than that is 400.
fn granted_scope(key_scope: Option<&str>, requested: Option<&str>) -> Result<String, ApiError> {
    let allowed: Vec<&str> = match key_scope {
        Some(s) => s.split_whitespace().collect(),
        None => ALL_SCOPES.to_vec(),
    };
    let asked: Vec<&str> = requested
        .map(|s| {
            s.split_whitespace()
                .filter(|s| *s != SENDPRO_DEFAULT_SCOPE)
                .collect()
        })
        .unwrap_or_default();
    if asked.is_empty() {
        return Ok(allowed.join(" "));
    }
    if let Some(extra) = asked.iter().find(|s| !allowed.contains(s)) {
        return Err(invalid(
            "scope",
            &format!(
                "{:?} is not granted to this API key",
                extra.chars().take(40).collect::<String>()
            ),
        ));
    }
    Ok(asked.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{SCOPE_READ, SCOPE_WRITE};

    fn basic(s: &str) -> String {
        format!("Basic {}", STANDARD.encode(s))
    }

    #[test]
    fn basic_credentials_are_key_colon_secret() {
        assert_eq!(
            basic_credentials(Some(&basic("k:s:x"))).unwrap(),
            ("k".to_string(), "s:x".to_string())
        );
        let lower = basic("k:s").replace("Basic", "basic");
        assert!(basic_credentials(Some(&lower)).is_ok());
        for bad in [
            None,
            Some("Bearer abc".to_string()),
            Some("Basic !!!".to_string()),
            Some(basic("no-colon")),
            Some(basic(":secret")),
            Some(basic("key:")),
        ] {
            assert!(
                matches!(
                    basic_credentials(bad.as_deref()),
                    Err(ApiError::Unauthorized(_))
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn only_client_credentials_is_granted() {
        assert!(TokenForm::parse(b"grant_type=client_credentials").is_ok());
        assert!(TokenForm::parse(b"grant_type=client_credentials&scope=psapi").is_ok());
        for bad in [&b""[..], b"grant_type=password", b"scope=psapi"] {
            assert!(matches!(
                TokenForm::parse(bad),
                Err(ApiError::Validation(_))
            ));
        }
    }

    #[test]
    fn a_request_may_narrow_the_keys_scope_never_widen_it() {
        let all = ALL_SCOPES.join(" ");
        assert_eq!(granted_scope(None, None).unwrap(), all);
        assert_eq!(granted_scope(None, Some("psapi")).unwrap(), all);
        assert_eq!(granted_scope(None, Some(SCOPE_READ)).unwrap(), SCOPE_READ);
        assert_eq!(granted_scope(Some(SCOPE_READ), None).unwrap(), SCOPE_READ);
        assert!(granted_scope(Some(SCOPE_READ), Some(SCOPE_WRITE)).is_err());
        assert!(granted_scope(None, Some("admin")).is_err());
    }
}
