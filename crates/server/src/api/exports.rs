//! Channel export tasks of the caller's tenant.

use std::time::Duration;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use switchboard_domain::export::{ExportTask, MAX_RECORDS_PER_EXPORT};
use switchboard_domain::{ChannelId, ExportId, Rule, ValidationError};
use utoipa::{IntoParams, ToSchema};

use super::IdPath;
use crate::auth::TenantAdmin;
use crate::error::{ApiError, ApiResult};
use crate::json::ApiJson;
use crate::AppState;

#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExportRequest {
    /// The channels to export; omit to export all channels of the tenant.
    pub channel_ids: Option<Vec<ChannelId>>,
}

/// Starts exporting channels (their basic and robot configuration, never credentials):
/// at most 100,000 an export, written 2,000 a file. Poll the task for its status.
#[utoipa::path(post, path = "/api/v1/channel-exports", tag = "channels", request_body = ExportRequest,
    responses((status = 202, body = ExportTask), (status = 404, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn create(
    admin: TenantAdmin,
    State(state): State<AppState>,
    ApiJson(request): ApiJson<ExportRequest>,
) -> ApiResult<(StatusCode, Json<ExportTask>)> {
    let scope = state.store.tenant(admin.tenant);
    let selection = request.channel_ids.map(|mut ids| {
        ids.sort_unstable();
        ids.dedup();
        ids
    });
    let total = match &selection {
        Some(ids) => {
            check_size("channelIds", ids.len())?;
            if ids.is_empty() {
                return Err(ValidationError::new("channelIds", Rule::Required).into());
            }
            if scope.count_channels_among(ids).await? != ids.len() {
                return Err(ApiError::NotFound);
            }
            ids.len()
        }
        None => {
            let all = scope.count_channels().await?;
            check_size("channelIds", all)?;
            all
        }
    };
    let task = scope.create_export(selection, total).await?;
    state.exporter.spawn(admin.tenant, task.id);
    Ok((StatusCode::ACCEPTED, Json(task)))
}

fn check_size(field: &str, count: usize) -> Result<(), ApiError> {
    if count > MAX_RECORDS_PER_EXPORT {
        let reason = format!("an export holds at most {MAX_RECORDS_PER_EXPORT} channels, this one would hold {count}; select fewer");
        return Err(ValidationError::new(field, Rule::NotAllowed { reason }).into());
    }
    Ok(())
}

#[derive(Deserialize, IntoParams, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct WaitQuery {
    /// Wait up to this many seconds (0–30) for the task to finish before answering.
    pub wait_seconds: Option<u64>,
}

const MAX_WAIT_SECONDS: u64 = 30;

/// The task's status and, once it succeeded, its files. With `waitSeconds` the answer
/// comes as soon as the task finishes, or when the wait runs out.
#[utoipa::path(get, path = "/api/v1/channel-exports/{id}", tag = "channels", params(("id" = String, Path), WaitQuery),
    responses((status = 200, body = ExportTask), (status = 404, body = super::ErrorBody)))]
pub async fn get(
    admin: TenantAdmin,
    State(state): State<AppState>,
    IdPath(id): IdPath<ExportId>,
    query: Result<Query<WaitQuery>, QueryRejection>,
) -> ApiResult<Json<ExportTask>> {
    let Query(query) = query.map_err(|e| ApiError::BadField {
        field: "query".into(),
        message: e.body_text(),
    })?;
    let wait = query.wait_seconds.unwrap_or(0);
    if wait > MAX_WAIT_SECONDS {
        let reason = format!("wait at most {MAX_WAIT_SECONDS} seconds");
        return Err(ValidationError::new("waitSeconds", Rule::NotAllowed { reason }).into());
    }
    Ok(Json(
        state
            .exporter
            .wait(admin.tenant, id, Duration::from_secs(wait))
            .await?,
    ))
}

/// Downloads one file of a finished export: a JSON array of channel records.
#[utoipa::path(get, path = "/api/v1/channel-exports/{id}/files/{index}", tag = "channels",
    params(("id" = String, Path), ("index" = u32, Path, description = "from 1")),
    responses((status = 200, description = "JSON array of channels", content_type = "application/json"), (status = 404, body = super::ErrorBody)))]
pub async fn download(
    admin: TenantAdmin,
    State(state): State<AppState>,
    Path((id, index)): Path<(String, String)>,
) -> ApiResult<impl IntoResponse> {
    let id: ExportId = id.parse().map_err(|_| ApiError::NotFound)?;
    let index: u32 = index.parse().map_err(|_| ApiError::NotFound)?;
    let content = state
        .store
        .tenant(admin.tenant)
        .export_file(id, index)
        .await?;
    let disposition = format!("attachment; filename=\"channels-{id}-{index}.json\"");
    Ok((
        [
            (CONTENT_TYPE, "application/json".to_owned()),
            (CONTENT_DISPOSITION, disposition),
        ],
        content,
    ))
}
