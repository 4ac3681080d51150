//! Extractors whose rejections are `ApiError`, so every bad input gets the documented body.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use serde_json::Value;

use super::strict_json;

use crate::domain::validate::{FieldError, combine};

use crate::error::{ApiError, code};
use crate::service::IdempotencyKey;

pub const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;
pub const TRANSACTION_ID: &str = "x-pb-transactionid";

/// A JSON body: `Content-Type` must be JSON (or absent), the text must parse, and it must fit
/// `T`; the parsed document is kept for idempotency fingerprints.
pub struct JsonBody<T> {
    pub value: T,
    pub document: Value,
}

impl<S, T> FromRequest<S> for JsonBody<T>
where
    T: RequestBody,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = read_json_bytes(req, state).await?;
        let document = parse_document(&bytes)?;
        let value = from_document(&document)?;
        Ok(JsonBody { value, document })
    }
}

/// A JSON body that may be left out: no body, only whitespace, or `null` (how the spec states
/// an optional body, and what generated clients send for "none") is `T::default()`; anything
/// else is read as [`JsonBody`] reads it.
pub struct OptionalJsonBody<T>(pub T);

impl<S, T> FromRequest<S> for OptionalJsonBody<T>
where
    T: RequestBody + Default,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = read_json_bytes(req, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) || bytes.trim_ascii() == b"null" {
            return Ok(OptionalJsonBody(T::default()));
        }
        let document = parse_document(&bytes)?;
        Ok(OptionalJsonBody(from_document(&document)?))
    }
}

/// The body's bytes, when its `Content-Type` is JSON (or absent) and it fits the limit.
async fn read_json_bytes<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    if let Some(ct) = req.headers().get(CONTENT_TYPE) {
        let ct = ct.to_str().unwrap_or("").to_ascii_lowercase();
        let mime = ct.split(';').next().unwrap_or("").trim();
        // The documents' own samples are `curl -d '{...}'` without a Content-Type, which
        // curl sends as form-urlencoded; the body must still be JSON, so accept that too.
        let json_like = mime == "application/json"
            || (mime.starts_with("application/") && mime.ends_with("+json"))
            || mime == "application/x-www-form-urlencoded";
        if !json_like {
            return Err(ApiError::UnsupportedMediaType(format!(
                "Content-Type must be application/json, got '{mime}'"
            )));
        }
    }
    Bytes::from_request(req, state).await.map_err(|e| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge(MAX_BODY_BYTES)
        } else {
            ApiError::BadRequest {
                code: code::INVALID_JSON,
                message: format!("the request body could not be read: {e}"),
            }
        }
    })
}

fn parse_document(bytes: &[u8]) -> Result<Value, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::BadRequest {
            code: code::INVALID_JSON,
            message: "a JSON request body is required".into(),
        });
    }
    let document = strict_json::parse(bytes).map_err(|e| ApiError::BadRequest {
        code: code::INVALID_JSON,
        message: format!(
            "malformed JSON: {}",
            strict_json::clean_message(&e.to_string())
        ),
    })?;
    // Every body of both APIs is an object. serde would take `[]` for a struct whose fields all
    // have defaults (as a sequence of its fields), so a search sent `[]` ran as "everything".
    if !document.is_object() {
        return Err(ApiError::field("body", "must be a JSON object"));
    }
    if contains_nul(&document) {
        // Neither backend can store U+0000 in text; refuse it rather than fail on write.
        return Err(ApiError::BadRequest {
            code: code::INVALID_JSON,
            message: "strings must not contain the NUL character (\\u0000)".into(),
        });
    }
    Ok(document)
}

fn contains_nul(v: &Value) -> bool {
    match v {
        Value::String(s) => s.contains('\0'),
        Value::Array(a) => a.iter().any(contains_nul),
        Value::Object(o) => o.iter().any(|(k, v)| k.contains('\0') || contains_nul(v)),
        _ => false,
    }
}

/// Deserializes with the path of the offending field in the error. A `400` names every problem
/// at once: a field that does not parse (unknown, a bad date, a wrong type) is reported and left
/// out, the rest is parsed again, and an order body that then parses adds its own problems.
pub fn from_document<T: RequestBody>(document: &Value) -> Result<T, ApiError> {
    const MAX_PROBLEMS: usize = 100;
    let first = match parse_one(document) {
        Ok(value) => return Ok(value),
        Err(problem) => problem,
    };
    let mut problems = vec![first];
    let mut pruned = document.clone();
    while problems.len() < MAX_PROBLEMS {
        let last = &problems[problems.len() - 1].field;
        if !remove_path(&mut pruned, last) {
            break;
        }
        match parse_one::<T>(&pruned) {
            Ok(_) => {
                let more = serde_json::from_value::<T>(pruned)
                    .map(T::content_problems)
                    .unwrap_or_default();
                return Err(ApiError::Validation(combine(problems, more)));
            }
            Err(problem) if problems.iter().any(|p| p.field == problem.field) => break,
            Err(problem) => problems.push(problem),
        }
    }
    Err(ApiError::Validation(problems))
}

/// A JSON request body. When some fields do not parse, the rest is parsed again, and an order
/// body then adds the problems of its content (required fields, limits), so that one `400`
/// names every problem; other bodies add none.
pub trait RequestBody: DeserializeOwned + Send + 'static {
    fn content_problems(self) -> Vec<FieldError> {
        Vec::new()
    }
}

impl RequestBody for serde_json::Map<String, Value> {}

/// Removes the member at `path` (`a.b[2].c`, as serde_path_to_error writes it); false when
/// there is nothing to remove.
fn remove_path(document: &mut Value, path: &str) -> bool {
    let mut steps: Vec<Result<usize, &str>> = Vec::new();
    for part in path.split('.') {
        let mut rest = part;
        let name_end = rest.find('[').unwrap_or(rest.len());
        if name_end > 0 {
            steps.push(Err(&rest[..name_end]));
        }
        rest = &rest[name_end..];
        while let Some(inner) = rest.strip_prefix('[') {
            let Some(end) = inner.find(']') else {
                return false;
            };
            let Ok(i) = inner[..end].parse() else {
                return false;
            };
            steps.push(Ok(i));
            rest = &inner[end + 1..];
        }
    }
    let Some((last, parents)) = steps.split_last() else {
        return false;
    };
    let mut at = document;
    for step in parents {
        let next = match step {
            Ok(i) => at.get_mut(*i),
            Err(name) => at.get_mut(*name),
        };
        match next {
            Some(v) => at = v,
            None => return false,
        }
    }
    match (last, at) {
        (Err(name), Value::Object(map)) => map.remove(*name).is_some(),
        (Ok(i), Value::Array(items)) if *i < items.len() => {
            items[*i] = Value::Object(Default::default());
            true
        }
        _ => false,
    }
}

fn parse_one<T: DeserializeOwned>(document: &Value) -> Result<T, FieldError> {
    serde_path_to_error::deserialize(strict_json::Strict(document)).map_err(|e| {
        let path = e.path().to_string();
        let inner = super::strict_json::clean_message(&e.inner().to_string());
        // For an unknown field the path already ends with the offending key.
        let field = if path == "." {
            "body".to_string()
        } else {
            path
        };
        let message = match unknown_field(&inner) {
            Some(name) => format!("is not a known field ('{name}')"),
            // serde's wording names Rust types ("u128", "a Decimal"); say it in JSON terms.
            None if inner.contains("Decimal") || inner.contains("u128") => {
                "must be a decimal number of at most 28 digits".to_string()
            }
            None => inner
                .split(", expected one of")
                .next()
                .unwrap_or(&inner)
                .to_string(),
        };
        FieldError { field, message }
    })
}

fn unknown_field(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("unknown field `")?;
    rest.split('`').next()
}

/// Query string parsed into `T`, with `ApiError` rejections naming the parameter. Parameters `T`
/// does not know are ignored, never refused: proxies, SDKs and cache busters add their own.
pub struct QueryParams<T>(pub T);

impl<S, T> FromRequestParts<S> for QueryParams<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(QueryParams)
            .map_err(|e| {
                let inner = e.inner().to_string();
                let field = unknown_field(&inner).unwrap_or("query").to_string();
                ApiError::field(field, format!("invalid query parameter: {inner}"))
            })
    }
}

/// The required `X-PB-TransactionId` header of the Fulfillment API.
pub struct TransactionId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for TransactionId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let value = parts
            .headers
            .get(TRANSACTION_ID)
            .ok_or_else(|| ApiError::field("X-PB-TransactionId", "header is required"))?
            .to_str()
            .unwrap_or("");
        crate::service::validate_key(value, 25)?;
        Ok(TransactionId(value.to_string()))
    }
}

impl TransactionId {
    pub fn idempotency(&self, surface: &str, body: &Value) -> Result<IdempotencyKey, ApiError> {
        IdempotencyKey::new(&self.0, 25, surface, body)
    }
}
