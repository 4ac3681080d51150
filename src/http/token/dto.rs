//! The token endpoints' bodies, as each family documents them.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::service::tokens::Token;

/// The form body of both endpoints.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct TokenRequest {
    /// Must be `client_credentials`.
    #[schema(pattern = "^client_credentials$", example = "client_credentials")]
    grant_type: String,
    /// SendPro360 only, optional: `psapi` (everything the key may do) or scopes to narrow to.
    scope: Option<String>,
}

/// PB Shipping API token. `issuedAt` (Unix milliseconds) and `expiresIn` (seconds) are strings,
/// as the documents list them.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FulfillmentToken {
    #[serde(rename = "access_token")]
    pub access_token: String,
    #[schema(example = "BearerToken")]
    pub token_type: String,
    #[schema(example = "1733400000000")]
    pub issued_at: String,
    #[schema(example = "36000")]
    pub expires_in: String,
    /// The tenant (`client_id`) the token acts for.
    #[serde(rename = "clientID")]
    pub client_id: String,
    /// The token's issuer.
    pub org: String,
}

impl FulfillmentToken {
    pub fn new(token: Token, issuer: &str) -> FulfillmentToken {
        FulfillmentToken {
            access_token: token.access_token,
            token_type: "BearerToken".into(),
            issued_at: token.issued_at_ms.to_string(),
            expires_in: token.expires_in.to_string(),
            client_id: token.client_id,
            org: issuer.to_string(),
        }
    }
}

/// SendPro360 token.
#[derive(Serialize, ToSchema)]
pub struct SendproToken {
    pub access_token: String,
    #[schema(example = 14400)]
    pub expires_in: u64,
    #[schema(example = "orders:read orders:write")]
    pub scope: String,
    #[schema(example = "Bearer")]
    pub token_type: String,
}

impl From<Token> for SendproToken {
    fn from(token: Token) -> SendproToken {
        SendproToken {
            access_token: token.access_token,
            expires_in: token.expires_in,
            scope: token.scope,
            token_type: "Bearer".into(),
        }
    }
}
