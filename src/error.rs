//! The one error type of the API, and its two documented renderings.
//!
//! Handlers, extractors and the service return [`ApiError`]. Its response carries an
//! [`ErrorReport`] extension; the `render_errors` middleware turns that into the body of the
//! dialect the request was addressed to (Fulfillment `{"errors": [...]}` or SendPro360's flat
//! `{errorCode, message, additionalInfo}`), and also gives framework-made failures (405, 413, an
//! unknown route) the same shape.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::domain::validate::FieldError;

/// Stable error codes, the same on both surfaces (documented in the OpenAPI spec).
pub mod code {
    pub const VALIDATION: &str = "validation_error";
    pub const INVALID_JSON: &str = "invalid_json";
    pub const UNSUPPORTED_MEDIA_TYPE: &str = "unsupported_media_type";
    pub const UNAUTHORIZED: &str = "unauthorized_error";
    pub const FORBIDDEN: &str = "forbidden_error";
    pub const NOT_FOUND: &str = "not_found";
    pub const METHOD_NOT_ALLOWED: &str = "method_not_allowed";
    pub const CONFLICT: &str = "conflict";
    pub const DUPLICATE_ORDER: &str = "duplicate_order";
    pub const IDEMPOTENCY_CONFLICT: &str = "idempotency_conflict";
    pub const INVALID_STATE: &str = "invalid_state";
    pub const PRECONDITION_FAILED: &str = "precondition_failed";
    pub const PAYLOAD_TOO_LARGE: &str = "payload_too_large";
    pub const URI_TOO_LONG: &str = "uri_too_long";
    pub const HEADERS_TOO_LARGE: &str = "headers_too_large";
    pub const UNAVAILABLE: &str = "service_unavailable";
    pub const RATE_LIMITED: &str = "rate_limited";
    pub const TIMEOUT: &str = "request_timeout";
    pub const INTERNAL: &str = "internal_error";
}

/// The documented message of every 401 (PB's sample); our reason goes in `additionalInfo`.
pub const UNAUTHORIZED_MESSAGE: &str =
    "Unauthorized access. Valid authentication credentials are required.";

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// One or more fields are invalid; each is named.
    #[error("invalid request")]
    Validation(Vec<FieldError>),
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    #[error("{0}")]
    PreconditionFailed(String),
    #[error("request body exceeds the limit of {0} bytes")]
    PayloadTooLarge(usize),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    Unavailable(String),
    #[error("too many requests; retry in {retry_after} s")]
    RateLimited { retry_after: u64 },
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError::Validation(vec![FieldError {
            field: field.into(),
            message: message.into(),
        }])
    }

    pub fn order_not_found(order_id: &str) -> ApiError {
        ApiError::NotFound(format!("order {order_id} was not found"))
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::Conflict {
            code,
            message: message.into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Validation(_) | ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Every problem's message in one line, as the error body words them.
    pub fn description(&self) -> String {
        self.report()
            .entries
            .iter()
            .map(|e| e.message.as_str())
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// The stable code of the (first) problem.
    pub fn code(&self) -> &'static str {
        self.report()
            .entries
            .first()
            .map_or(code::INTERNAL, |e| e.code)
    }

    fn report(&self) -> ErrorReport {
        let one = |code: &'static str, message: String| ErrorReport {
            entries: vec![ErrorEntry {
                code,
                message,
                field: None,
                detail: None,
            }],
        };
        match self {
            ApiError::Validation(problems) => ErrorReport {
                entries: problems
                    .iter()
                    .map(|p| ErrorEntry {
                        code: code::VALIDATION,
                        message: p.to_string(),
                        field: Some(p.field.clone()),
                        detail: None,
                    })
                    .collect(),
            },
            ApiError::BadRequest { code, message } | ApiError::Conflict { code, message } => {
                one(code, message.clone())
            }
            ApiError::Unauthorized(reason) => ErrorReport {
                entries: vec![ErrorEntry {
                    code: code::UNAUTHORIZED,
                    message: UNAUTHORIZED_MESSAGE.into(),
                    field: None,
                    detail: Some(reason.clone()),
                }],
            },
            ApiError::Forbidden(m) => one(code::FORBIDDEN, m.clone()),
            ApiError::NotFound(m) => one(code::NOT_FOUND, m.clone()),
            ApiError::PreconditionFailed(m) => one(code::PRECONDITION_FAILED, m.clone()),
            ApiError::PayloadTooLarge(_) => one(code::PAYLOAD_TOO_LARGE, self.to_string()),
            ApiError::UnsupportedMediaType(m) => one(code::UNSUPPORTED_MEDIA_TYPE, m.clone()),
            ApiError::Unavailable(m) => one(code::UNAVAILABLE, m.clone()),
            ApiError::RateLimited { .. } => one(code::RATE_LIMITED, self.to_string()),
            ApiError::Internal(_) => one(
                code::INTERNAL,
                "The request could not be completed due to an internal error".into(),
            ),
        }
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(err: crate::store::StoreError) -> ApiError {
        use crate::store::StoreError;
        match err {
            StoreError::NotFound => ApiError::NotFound("not found".into()),
            StoreError::Conflict(kind) => {
                ApiError::conflict(code::CONFLICT, format!("conflicting write ({kind:?})"))
            }
            StoreError::Unavailable(detail) => {
                tracing::warn!(%detail, "database unavailable");
                metrics::counter!("oms_db_unavailable_total").increment(1);
                ApiError::Unavailable("the database is unavailable, retry shortly".into())
            }
            StoreError::PageTooLarge(e) => ApiError::field("size", e.to_string()),
            StoreError::Other(e) => ApiError::Internal(e),
        }
    }
}

/// What went wrong, independent of the dialect that will show it.
#[derive(Clone, Debug)]
pub struct ErrorReport {
    pub entries: Vec<ErrorEntry>,
}

#[derive(Clone, Debug)]
pub struct ErrorEntry {
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
    /// Our short reason beside a fixed documented message; shown as `additionalInfo`.
    pub detail: Option<String>,
}

impl ErrorReport {
    /// For failures produced outside our handlers (router 404/405, body-limit 413, ...).
    pub fn from_status(status: StatusCode) -> ErrorReport {
        let (code, message) = match status {
            StatusCode::NOT_FOUND => (code::NOT_FOUND, "The requested resource was not found."),
            StatusCode::METHOD_NOT_ALLOWED => (
                code::METHOD_NOT_ALLOWED,
                "The method is not allowed for the requested resource.",
            ),
            StatusCode::PAYLOAD_TOO_LARGE => {
                (code::PAYLOAD_TOO_LARGE, "The request body is too large.")
            }
            StatusCode::URI_TOO_LONG => (
                code::URI_TOO_LONG,
                "The request URI is too long (at most 8 KiB).",
            ),
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => (
                code::HEADERS_TOO_LARGE,
                "The request headers are too large (at most 16 KiB in all).",
            ),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => (
                code::UNSUPPORTED_MEDIA_TYPE,
                "Content-Type must be application/json.",
            ),
            StatusCode::REQUEST_TIMEOUT => (code::TIMEOUT, "The request took too long."),
            StatusCode::SERVICE_UNAVAILABLE => (
                code::UNAVAILABLE,
                "The server is busy or its database is unavailable; retry shortly.",
            ),
            StatusCode::TOO_MANY_REQUESTS => (code::RATE_LIMITED, "Too many requests."),
            s if s.is_server_error() => (
                code::INTERNAL,
                "The request could not be completed due to an internal error",
            ),
            _ => (code::VALIDATION, "Invalid request"),
        };
        ErrorReport {
            entries: vec![ErrorEntry {
                code,
                message: message.into(),
                field: None,
                detail: None,
            }],
        }
    }

    /// PB Shipping API standard error object, one entry per problem.
    pub fn fulfillment_body(&self, transaction_id: &str, internal: bool) -> serde_json::Value {
        let errors: Vec<_> = self
            .entries
            .iter()
            .map(|e| {
                json!({
                    "errorCode": e.code,
                    "errorDescription": e.message,
                    "additionalInfo": if internal {
                        Some(format!("transaction id {transaction_id}"))
                    } else if let Some(detail) = &e.detail {
                        Some(detail.clone())
                    } else {
                        e.field.as_ref().map(|f| format!("field: {f}"))
                    },
                    "parameters": e.field.iter().collect::<Vec<_>>(),
                })
            })
            .collect();
        json!({ "errors": errors })
    }

    /// SendPro360 flat error: the first problem's code; all messages; the field paths.
    pub fn sendpro_body(&self, transaction_id: &str, internal: bool) -> serde_json::Value {
        let code = self.entries.first().map_or(code::INTERNAL, |e| e.code);
        let message = self
            .entries
            .iter()
            .map(|e| e.message.as_str())
            .collect::<Vec<_>>()
            .join("; ");
        let fields: Vec<&str> = self
            .entries
            .iter()
            .filter_map(|e| e.field.as_deref())
            .collect();
        let detail = self.entries.first().and_then(|e| e.detail.clone());
        let info = if internal {
            format!("transaction id {transaction_id}")
        } else if let Some(detail) = detail {
            detail
        } else if !fields.is_empty() {
            fields.join(", ")
        } else {
            message.clone()
        };
        json!({ "errorCode": code, "message": message, "additionalInfo": info })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(e) = &self {
            // The span carries the transaction id; the client sees only that it was internal.
            tracing::error!(error = ?e, "internal error");
        }
        let status = self.status();
        let mut response = status.into_response();
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        match self {
            ApiError::Unavailable(_) => {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            ApiError::RateLimited { retry_after } => {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
            }
            _ => {}
        }
        response.extensions_mut().insert(self.report());
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
