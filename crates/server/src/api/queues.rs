//! Skill queues of the caller's tenant.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::Json;
use switchboard_domain::paging::Page;
use switchboard_domain::queue::{QueueType, SkillQueue, SkillQueueConfig};
use switchboard_domain::QueueId;
use switchboard_routing::Event;
use switchboard_store::QueueFilter;

use super::{IdPath, ListQuery};
use crate::auth::TenantAdmin;
use crate::error::ApiResult;
use crate::json::ApiJson;
use crate::routing::settings;
use crate::AppState;

type QueryResult = Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>;

#[utoipa::path(post, path = "/api/v1/skill-queues", tag = "skill queues", request_body = SkillQueueConfig,
    responses((status = 201, body = SkillQueue), (status = 409, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn create(
    admin: TenantAdmin,
    State(state): State<AppState>,
    ApiJson(config): ApiJson<SkillQueueConfig>,
) -> ApiResult<(StatusCode, Json<SkillQueue>)> {
    config.validate()?;
    let queue = state
        .store
        .tenant(admin.tenant)
        .create_queue(&config)
        .await?;
    state.routing.tell(
        admin.tenant,
        Event::QueueConfigured {
            queue: queue.id,
            settings: settings::queue_settings(&queue.config),
        },
    );
    Ok((StatusCode::CREATED, Json(queue)))
}

/// Lists skill queues; `q` filters by name, `type` by queue type.
#[utoipa::path(get, path = "/api/v1/skill-queues", tag = "skill queues", params(ListQuery), responses((status = 200, body = Page<SkillQueue>)))]
pub async fn list(
    admin: TenantAdmin,
    State(state): State<AppState>,
    query: QueryResult,
) -> ApiResult<Json<Page<SkillQueue>>> {
    let query = ListQuery::from_request(query)?;
    let filter = QueueFilter {
        name: query.q.clone(),
        queue_type: ListQuery::filter(query.kind.as_deref(), "type", QueueType::parse)?,
    };
    Ok(Json(
        state
            .store
            .tenant(admin.tenant)
            .list_queues(query.paging()?, &filter)
            .await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/skill-queues/{id}", tag = "skill queues", params(("id" = String, Path)), responses((status = 200, body = SkillQueue), (status = 404, body = super::ErrorBody)))]
pub async fn get(
    admin: TenantAdmin,
    State(state): State<AppState>,
    IdPath(id): IdPath<QueueId>,
) -> ApiResult<Json<SkillQueue>> {
    Ok(Json(state.store.tenant(admin.tenant).queue(id).await?))
}

/// Replaces a skill queue's configuration; its type cannot change.
#[utoipa::path(put, path = "/api/v1/skill-queues/{id}", tag = "skill queues", params(("id" = String, Path)), request_body = SkillQueueConfig,
    responses((status = 200, body = SkillQueue), (status = 404, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn update(
    admin: TenantAdmin,
    State(state): State<AppState>,
    IdPath(id): IdPath<QueueId>,
    ApiJson(config): ApiJson<SkillQueueConfig>,
) -> ApiResult<Json<SkillQueue>> {
    config.validate()?;
    let queue = state
        .store
        .tenant(admin.tenant)
        .update_queue(id, &config)
        .await?;
    state.routing.tell(
        admin.tenant,
        Event::QueueConfigured {
            queue: queue.id,
            settings: settings::queue_settings(&queue.config),
        },
    );
    Ok(Json(queue))
}

/// Deletes a skill queue no called route, agent or overflow policy refers to.
#[utoipa::path(delete, path = "/api/v1/skill-queues/{id}", tag = "skill queues", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = super::ErrorBody), (status = 409, body = super::ErrorBody)))]
pub async fn delete(
    admin: TenantAdmin,
    State(state): State<AppState>,
    IdPath(id): IdPath<QueueId>,
) -> ApiResult<StatusCode> {
    state.store.tenant(admin.tenant).delete_queue(id).await?;
    Ok(StatusCode::NO_CONTENT)
}
