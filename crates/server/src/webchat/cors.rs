//! Cross-origin rules of the web chat routes. Pages of other origins call them with
//! credentials (the `ccmessaging-token` cookie), so an allowed origin is echoed, never `*`.
//! A channel's `web.allowedOrigins` limits which origins may read the answers; a channel
//! with no list accepts every origin (the seed's integration works out of the box, and an
//! administrator narrows it down). Preflights are answered for any origin: they allow only
//! the sending, and the actual answer decides what the page may read.

use axum::http::header::{
    ACCESS_CONTROL_ALLOW_CREDENTIALS, ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS,
    ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_MAX_AGE, ORIGIN, VARY,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use switchboard_domain::channel::Channel;

/// The `Origin` of the request, if it has one.
pub fn origin(headers: &HeaderMap) -> Option<&str> {
    headers.get(ORIGIN).and_then(|v| v.to_str().ok())
}

/// Whether `origin` may read answers about `channel`.
pub fn allowed(channel: &Channel, origin: &str) -> bool {
    match channel
        .config
        .web
        .as_ref()
        .map(|web| web.allowed_origins.as_slice())
    {
        None | Some([]) => true,
        Some(list) => list
            .iter()
            .any(|allowed| allowed.eq_ignore_ascii_case(origin)),
    }
}

/// Adds the headers that let `origin` read this answer with credentials.
pub fn allow(response: &mut Response, origin: Option<&str>) {
    let Some(value) = origin.and_then(|o| HeaderValue::from_str(o).ok()) else {
        return;
    };
    let headers = response.headers_mut();
    headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, value);
    headers.insert(
        ACCESS_CONTROL_ALLOW_CREDENTIALS,
        HeaderValue::from_static("true"),
    );
    headers.append(VARY, HeaderValue::from_static("Origin"));
}

/// The answer to an `OPTIONS` preflight.
pub fn preflight(headers: HeaderMap) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    allow(&mut response, origin(&headers));
    let out = response.headers_mut();
    out.insert(
        ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST, OPTIONS"),
    );
    out.insert(
        ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("content-type"),
    );
    out.insert(ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
    response
}
