//! The API's errors and their one mapping to HTTP.
//!
//! Handlers return [`ApiError`]; store and domain errors convert into it with `?`. Every
//! error answers `{ "code", "message", "field"?, "rule"? }` with a stable snake_case
//! `code`. Server faults answer `internal` and are logged here, never shown.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use switchboard_domain::ValidationError;
use switchboard_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    Invalid(#[from] ValidationError),
    #[error("{message}")]
    BadField { field: String, message: String },
    #[error("the body is not valid JSON: {0}")]
    MalformedJson(String),
    #[error("the body must be JSON (Content-Type: application/json)")]
    UnsupportedMediaType,
    #[error("the body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("sign in first")]
    Unauthenticated,
    #[error("account or password is wrong")]
    BadCredentials,
    #[error("your role may not do this")]
    Forbidden,
    #[error("change your one-time password first (POST /api/v1/auth/password)")]
    PasswordChangeRequired,
    #[error("this tenant space is disabled")]
    TenantDisabled,
    #[error("too many failed sign-ins; try again in {retry_after} seconds")]
    TooManyAttempts { retry_after: u64 },
    #[error("no such record")]
    NotFound,
    #[error("{field} is already in use")]
    Conflict { field: String },
    #[error("still in use: {0}")]
    InUse(String),
    /// A platform or service the request needed refused or could not be reached.
    #[error("{0}")]
    Upstream(String),
    #[error("{0}")]
    Internal(String),
}

#[derive(Serialize)]
struct Body<'a> {
    code: &'a str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rule: Option<&'a str>,
}

impl ApiError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
            ApiError::BadField { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_field"),
            ApiError::MalformedJson(_) => (StatusCode::BAD_REQUEST, "malformed_json"),
            ApiError::UnsupportedMediaType => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            ApiError::PayloadTooLarge { .. } => {
                (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")
            }
            ApiError::Unauthenticated => (StatusCode::UNAUTHORIZED, "unauthenticated"),
            ApiError::BadCredentials => (StatusCode::UNAUTHORIZED, "bad_credentials"),
            ApiError::Forbidden => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::PasswordChangeRequired => (StatusCode::FORBIDDEN, "password_change_required"),
            ApiError::TenantDisabled => (StatusCode::FORBIDDEN, "tenant_disabled"),
            ApiError::TooManyAttempts { .. } => {
                (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts")
            }
            ApiError::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::Conflict { .. } => (StatusCode::CONFLICT, "conflict"),
            ApiError::InUse(_) => (StatusCode::CONFLICT, "in_use"),
            ApiError::Upstream(_) => (StatusCode::BAD_GATEWAY, "upstream_failed"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => ApiError::NotFound,
            StoreError::Conflict { field } => ApiError::Conflict { field },
            StoreError::InUse { reason } => ApiError::InUse(reason),
            StoreError::Rejected(rule) => ApiError::Invalid(rule),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<crate::files::FileError> for ApiError {
    fn from(err: crate::files::FileError) -> Self {
        match err {
            crate::files::FileError::Invalid(rule) => ApiError::Invalid(rule),
            crate::files::FileError::Store(store) => store.into(),
        }
    }
}

impl ApiError {
    /// What the client is told: `{code, message, field?, rule?}`. Server faults are
    /// logged here and not shown.
    pub(crate) fn body(&self) -> serde_json::Value {
        let (_, code) = self.status_and_code();
        let (field, rule) = match self {
            ApiError::Invalid(e) => (Some(e.field.as_str()), Some(e.rule.code())),
            ApiError::BadField { field, .. } | ApiError::Conflict { field } => {
                (Some(field.as_str()), None)
            }
            _ => (None, None),
        };
        let message = match self {
            ApiError::Internal(detail) => {
                tracing::error!(error = %detail, "request failed");
                "the server could not complete the request; the cause is in its log".to_owned()
            }
            other => other.to_string(),
        };
        serde_json::to_value(Body {
            code,
            message,
            field,
            rule,
        })
        .unwrap_or_default()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, _) = self.status_and_code();
        let mut response = (status, Json(self.body())).into_response();
        if let ApiError::TooManyAttempts { retry_after } = self {
            if let Ok(value) = HeaderValue::from_str(&retry_after.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
