//! The web pages the binary serves itself, embedded at build time: the agent workbench
//! under `/workbench/`, and a landing page at `/` pointing to it and to the API.

use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS,
};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;

use crate::AppState;

const WORKBENCH_HTML: &str = include_str!("../../../web/workbench/index.html");
const WORKBENCH_JS: &str = include_str!("../../../web/workbench/app.js");
const WORKBENCH_CSS: &str = include_str!("../../../web/workbench/app.css");

const LANDING: &str = r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Switchboard</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:640px;margin:10vh auto;padding:0 16px;color:#1f2328}</style></head>
<body><h1>Switchboard</h1>
<ul>
<li><a href="/workbench/">Agent workbench</a></li>
<li><a href="/api/v1/openapi.json">API (OpenAPI document)</a></li>
<li><a href="/readyz">Readiness</a></li>
</ul></body></html>
"#;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/",
            get(|| async { page(LANDING, "text/html; charset=utf-8") }),
        )
        .route(
            "/workbench",
            get(|| async { Redirect::permanent("/workbench/") }),
        )
        .route(
            "/workbench/",
            get(|| async { page(WORKBENCH_HTML, "text/html; charset=utf-8") }),
        )
        .route(
            "/workbench/app.js",
            get(|| async { page(WORKBENCH_JS, "application/javascript; charset=utf-8") }),
        )
        .route(
            "/workbench/app.css",
            get(|| async { page(WORKBENCH_CSS, "text/css; charset=utf-8") }),
        )
}

/// Same-origin only: the workbench loads nothing from elsewhere and runs no inline script.
fn page(body: &'static str, content_type: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
        ),
    );
    response
}
