//! Called routes of the caller's tenant.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::Json;
use switchboard_domain::paging::Page;
use switchboard_domain::route::{CalledRoute, CalledRouteConfig};
use switchboard_domain::{QueueId, RouteId};

use super::{IdPath, ListQuery};
use crate::auth::TenantAdmin;
use crate::error::ApiResult;
use crate::json::ApiJson;
use crate::AppState;

type QueryResult = Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>;

/// Creates a called route; the skill queue's type must match the access code's media type.
#[utoipa::path(post, path = "/api/v1/called-routes", tag = "called routes", request_body = CalledRouteConfig,
    responses((status = 201, body = CalledRoute), (status = 409, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn create(
    admin: TenantAdmin,
    State(state): State<AppState>,
    ApiJson(config): ApiJson<CalledRouteConfig>,
) -> ApiResult<(StatusCode, Json<CalledRoute>)> {
    config.validate()?;
    Ok((
        StatusCode::CREATED,
        Json(
            state
                .store
                .tenant(admin.tenant)
                .create_route(&config)
                .await?,
        ),
    ))
}

/// Lists called routes; `q` filters by access code, `queueId` by skill queue.
#[utoipa::path(get, path = "/api/v1/called-routes", tag = "called routes", params(ListQuery), responses((status = 200, body = Page<CalledRoute>)))]
pub async fn list(
    admin: TenantAdmin,
    State(state): State<AppState>,
    query: QueryResult,
) -> ApiResult<Json<Page<CalledRoute>>> {
    let query = ListQuery::from_request(query)?;
    let queue = ListQuery::filter(query.queue_id.as_deref(), "queueId", |v| {
        v.parse::<QueueId>().ok()
    })?;
    Ok(Json(
        state
            .store
            .tenant(admin.tenant)
            .list_routes(query.paging()?, query.q.as_deref(), queue)
            .await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/called-routes/{id}", tag = "called routes", params(("id" = String, Path)), responses((status = 200, body = CalledRoute), (status = 404, body = super::ErrorBody)))]
pub async fn get(
    admin: TenantAdmin,
    State(state): State<AppState>,
    IdPath(id): IdPath<RouteId>,
) -> ApiResult<Json<CalledRoute>> {
    Ok(Json(state.store.tenant(admin.tenant).route(id).await?))
}

/// Replaces a called route; its media type cannot change.
#[utoipa::path(put, path = "/api/v1/called-routes/{id}", tag = "called routes", params(("id" = String, Path)), request_body = CalledRouteConfig,
    responses((status = 200, body = CalledRoute), (status = 404, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn update(
    admin: TenantAdmin,
    State(state): State<AppState>,
    IdPath(id): IdPath<RouteId>,
    ApiJson(config): ApiJson<CalledRouteConfig>,
) -> ApiResult<Json<CalledRoute>> {
    config.validate()?;
    Ok(Json(
        state
            .store
            .tenant(admin.tenant)
            .update_route(id, &config)
            .await?,
    ))
}

/// Deletes a called route no channel refers to.
#[utoipa::path(delete, path = "/api/v1/called-routes/{id}", tag = "called routes", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = super::ErrorBody), (status = 409, body = super::ErrorBody)))]
pub async fn delete(
    admin: TenantAdmin,
    State(state): State<AppState>,
    IdPath(id): IdPath<RouteId>,
) -> ApiResult<StatusCode> {
    state.store.tenant(admin.tenant).delete_route(id).await?;
    Ok(StatusCode::NO_CONTENT)
}
