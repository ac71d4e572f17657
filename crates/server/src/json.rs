//! `ApiJson<T>`: the JSON body extractor. Unlike axum's own it answers in the API's error
//! format and names the field a value was refused for (`workTime.workday[0].start`).

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

pub struct ApiJson<T>(pub T);

/// Bodies larger than this are refused with 413 before they are parsed.
pub const BODY_LIMIT: usize = 1024 * 1024;

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.split(';')
                    .next()
                    .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
            });
        if !is_json {
            return Err(ApiError::UnsupportedMediaType);
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge { limit: BODY_LIMIT }
            } else {
                ApiError::MalformedJson(rejection.body_text())
            }
        })?;
        parse(&bytes).map(ApiJson)
    }
}

pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        if inner.is_syntax() || inner.is_eof() || inner.is_io() {
            return ApiError::MalformedJson(inner.to_string());
        }
        bad_field(&path, &inner.to_string())
    })?;
    deserializer
        .end()
        .map_err(|e| ApiError::MalformedJson(e.to_string()))?;
    Ok(value)
}

/// The refused field's path. For an unknown or missing field serde names it in the
/// message; the path holds it already for an unknown one, only its parent for a missing one.
fn bad_field(path: &str, message: &str) -> ApiError {
    let message = strip_position(message);
    let path = if path == "." { "" } else { path };
    let named = ["unknown field `", "missing field `"]
        .iter()
        .find_map(|prefix| {
            message
                .strip_prefix(prefix)
                .and_then(|rest| rest.split('`').next())
        });
    let field = match named {
        Some(name) if path == name || path.ends_with(&format!(".{name}")) => path.to_owned(),
        Some(name) if path.is_empty() => name.to_owned(),
        Some(name) => format!("{path}.{name}"),
        None => path.to_owned(),
    };
    ApiError::BadField { field, message }
}

fn strip_position(message: &str) -> String {
    match message.find(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        inner: Inner,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    #[allow(dead_code)]
    struct Inner {
        max_queued: u32,
    }

    fn field_of(body: &str) -> String {
        match parse::<Outer>(body.as_bytes()).unwrap_err() {
            ApiError::BadField { field, .. } => field,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn names_the_field_of_a_wrong_type_an_unknown_or_a_missing_field() {
        assert_eq!(
            field_of(r#"{"inner": {"maxQueued": "many"}}"#),
            "inner.maxQueued"
        );
        assert_eq!(
            field_of(r#"{"inner": {"maxQueued": 1, "colour": 2}}"#),
            "inner.colour"
        );
        assert_eq!(field_of(r#"{"inner": {}}"#), "inner.maxQueued");
        assert_eq!(field_of(r#"{"other": 1}"#), "other");
    }

    #[test]
    fn syntax_errors_are_malformed_json() {
        assert!(matches!(
            parse::<Outer>(b"{\"inner\": "),
            Err(ApiError::MalformedJson(_))
        ));
        assert!(matches!(
            parse::<Outer>(b"{\"inner\": {\"maxQueued\": 1}} trailing"),
            Err(ApiError::MalformedJson(_))
        ));
    }
}
