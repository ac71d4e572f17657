//! The customer side of web chat: the compatibility loader under the context path, and
//! the widget's own protocol (`{ctx}/webchat/v1/…`, described in `docs/api/widget.md`).

mod cors;
mod loader;
mod protocol;
mod socket;
mod try_it;
pub mod validation;

use axum::extract::{DefaultBodyLimit, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use switchboard_domain::files::MAX_FILE_BYTES;

use crate::AppState;

/// The customer's web chat session cookie, named as the product names it.
pub const WIDGET_COOKIE: &str = "ccmessaging-token";

/// Routes under the context path (`/service-cloud` unless configured otherwise).
pub fn routes(context_path: &str) -> Router<AppState> {
    let at = |path: &str| format!("{context_path}{path}");
    Router::new()
        .route(
            &at(loader::LOADER_PATH),
            post(loader::third_party_client).options(preflight),
        )
        .route(
            &at(loader::NEW_LOADER_PATH),
            post(loader::new_third_party_client).options(preflight),
        )
        .route(
            &at("/webchat/v1/conversation"),
            post(protocol::open).options(preflight),
        )
        .route(
            &at("/webchat/v1/messages"),
            get(protocol::messages)
                .post(protocol::send)
                .options(preflight),
        )
        .route(&at("/webchat/v1/socket"), get(socket::open))
        .route(
            &at("/webchat/v1/close"),
            post(protocol::close).options(preflight),
        )
        .route(
            &at("/webchat/v1/evaluation"),
            post(protocol::evaluate).options(preflight),
        )
        .route(
            &at("/webchat/v1/files"),
            post(protocol::upload)
                .layer(DefaultBodyLimit::max(MAX_FILE_BYTES + 1))
                .options(preflight),
        )
        .route(
            &at("/webchat/v1/files/{file}"),
            get(protocol::download).options(preflight),
        )
        .route("/try/{channel}", get(try_it::page))
}

async fn preflight(request: Request) -> Response {
    cors::preflight(request.headers().clone())
}

/// A refusal on the web chat routes: `{code, message}` with a status, readable by the page.
#[derive(Debug)]
pub struct Refused {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl Refused {
    fn new(status: StatusCode, code: &'static str, message: &str) -> Self {
        Self {
            status,
            code,
            message: message.to_owned(),
        }
    }

    fn field(name: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_field",
            &format!("{name} is missing or malformed"),
        )
    }

    fn malformed(error: &serde_json::Error) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            &error.to_string(),
        )
    }

    fn internal(error: impl std::fmt::Display) -> Self {
        tracing::error!(error = %error, "web chat request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the server could not complete the request",
        )
    }
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(json!({"code": self.code, "message": self.message})),
        )
            .into_response()
    }
}
