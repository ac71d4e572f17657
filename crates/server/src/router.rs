//! Every route of the server, registered once: the OpenAPI document is generated from
//! these registrations, so it cannot drift from what is served.

use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::routing::{any, get};
use axum::{Json, Router};
use tower_http::trace::TraceLayer;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::{
    agent, auth, called_routes, channels, employees, exports, health, queues, supervision, tenants,
};
use crate::json::BODY_LIMIT;
use crate::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "Switchboard API", description = "Configuration center, identity and operations of Switchboard. \
        Authenticate with `POST /api/v1/auth/login`, then send the token as `Authorization: Bearer …` \
        (or let the browser send the session cookie). Errors answer `{code, message, field?, rule?}`."),
    modifiers(&SecuritySchemes),
    security(("bearer" = []), ("cookie" = []))
)]
struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                crate::auth::SESSION_COOKIE,
            ))),
        );
    }
}

fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .routes(routes!(auth::login))
        .routes(routes!(auth::logout))
        .routes(routes!(auth::who_am_i))
        .routes(routes!(auth::change_password))
        .routes(routes!(tenants::create, tenants::list))
        .routes(routes!(tenants::get))
        .routes(routes!(tenants::disable))
        .routes(routes!(tenants::enable))
        .routes(routes!(tenants::set_limits))
        .routes(routes!(tenants::own, tenants::update_own))
        .routes(routes!(queues::create, queues::list))
        .routes(routes!(queues::get, queues::update, queues::delete))
        .routes(routes!(called_routes::create, called_routes::list))
        .routes(routes!(
            called_routes::get,
            called_routes::update,
            called_routes::delete
        ))
        .routes(routes!(employees::create, employees::list))
        .routes(routes!(
            employees::get,
            employees::update,
            employees::delete
        ))
        .routes(routes!(employees::batch_configure))
        .routes(routes!(channels::create, channels::list))
        .routes(routes!(channels::get, channels::update, channels::delete))
        .routes(routes!(channels::telegram_webhook))
        .routes(routes!(exports::create))
        .routes(routes!(exports::get))
        .routes(routes!(exports::download))
        .routes(routes!(agent::sign_in))
        .routes(routes!(agent::sign_out))
        .routes(routes!(agent::set_status))
        .routes(routes!(agent::conversations))
        .routes(routes!(agent::messages, agent::reply))
        .routes(routes!(agent::deliveries))
        .routes(routes!(agent::end))
        .routes(routes!(agent::transfer))
        .routes(routes!(agent::transfer_queues))
        .routes(routes!(supervision::waiting))
        .routes(routes!(supervision::contact_record))
        .routes(routes!(supervision::messages))
        .routes(routes!(supervision::offline_messages))
        .routes(routes!(agent::events))
        .routes(routes!(agent::queues))
        .routes(routes!(agent::customer))
        .routes(routes!(agent::download))
        .routes(routes!(agent::history))
        .routes(routes!(agent::quick_replies))
        .routes(with_file_limit(routes!(agent::upload)))
}

/// The OpenAPI document of the API.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api().split_for_parts().1
}

pub fn router(state: AppState) -> Router {
    let (routes, document) = api().split_for_parts();
    routes
        .route(
            "/api/v1/openapi.json",
            get(move || async move { Json(document) }),
        )
        .merge(crate::webchat::routes(&state.config.context_path))
        .merge(crate::web::routes())
        .route("/webhooks/{kind}/{channel}", any(crate::platforms::receive))
        .route(
            "/social/on/{kind}/{channel}",
            any(crate::platforms::receive),
        )
        .route(
            "/files/{tenant}/{conversation}/{file}",
            get(crate::files::public_download),
        )
        .fallback(|| async { crate::error::ApiError::NotFound })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .with_state(state)
}

/// Request spans name the matched route (`/api/v1/channels/{id}`), not the raw path, so
/// ids and query strings stay out of the logs.
fn request_span(request: &Request) -> tracing::Span {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str);
    tracing::info_span!("request", http.method = %request.method(), http.route = route)
}

/// File uploads may be larger than the API's usual body limit.
fn with_file_limit(
    (schemas, paths, method_router): utoipa_axum::router::UtoipaMethodRouter<AppState>,
) -> utoipa_axum::router::UtoipaMethodRouter<AppState> {
    let limit = DefaultBodyLimit::max(switchboard_domain::files::MAX_FILE_BYTES + 1);
    (schemas, paths, method_router.layer(limit))
}
