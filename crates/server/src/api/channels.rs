//! Channels of the caller's tenant. Credentials go in under `secrets` and never come out:
//! responses list only the names of those that are set (`secretsSet`).

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::Json;
use switchboard_domain::channel::{Channel, ChannelConfig, ChannelType};
use switchboard_domain::paging::Page;
use switchboard_domain::{ChannelId, TenantId};
use switchboard_routing::Event;
use switchboard_store::ChannelFilter;

use super::{IdPath, ListQuery};
use crate::auth::TenantAdmin;
use crate::error::ApiResult;
use crate::json::ApiJson;
use crate::platforms::TelegramWebhookRequest;
use crate::routing::settings;
use crate::AppState;

type QueryResult = Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>;

/// Creates a channel; the server assigns its `channelConfigId`.
#[utoipa::path(post, path = "/api/v1/channels", tag = "channels", request_body = ChannelConfig,
    responses((status = 201, body = Channel), (status = 409, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn create(
    admin: TenantAdmin,
    State(state): State<AppState>,
    ApiJson(config): ApiJson<ChannelConfig>,
) -> ApiResult<(StatusCode, Json<Channel>)> {
    let plan = config.validate_with_secrets(&[])?;
    let channel = state
        .store
        .tenant(admin.tenant)
        .create_channel(&config, &plan)
        .await?;
    configured(&state, admin.tenant, &channel).await?;
    Ok((StatusCode::CREATED, Json(channel)))
}

/// Lists channels; `q` filters by access code or name, `type` by channel type.
#[utoipa::path(get, path = "/api/v1/channels", tag = "channels", params(ListQuery), responses((status = 200, body = Page<Channel>)))]
pub async fn list(
    admin: TenantAdmin,
    State(state): State<AppState>,
    query: QueryResult,
) -> ApiResult<Json<Page<Channel>>> {
    let query = ListQuery::from_request(query)?;
    let filter = ChannelFilter {
        text: query.q.clone(),
        channel_type: ListQuery::filter(query.kind.as_deref(), "type", ChannelType::parse)?,
    };
    Ok(Json(
        state
            .store
            .tenant(admin.tenant)
            .list_channels(query.paging()?, &filter)
            .await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/channels/{id}", tag = "channels", params(("id" = String, Path)), responses((status = 200, body = Channel), (status = 404, body = super::ErrorBody)))]
pub async fn get(
    admin: TenantAdmin,
    State(state): State<AppState>,
    IdPath(id): IdPath<ChannelId>,
) -> ApiResult<Json<Channel>> {
    Ok(Json(state.store.tenant(admin.tenant).channel(id).await?))
}

/// Replaces a channel's configuration; credentials left out of `secrets` stay as they
/// are, and `""` removes one. The type cannot change.
#[utoipa::path(put, path = "/api/v1/channels/{id}", tag = "channels", params(("id" = String, Path)), request_body = ChannelConfig,
    responses((status = 200, body = Channel), (status = 404, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn update(
    admin: TenantAdmin,
    State(state): State<AppState>,
    IdPath(id): IdPath<ChannelId>,
    ApiJson(config): ApiJson<ChannelConfig>,
) -> ApiResult<Json<Channel>> {
    let scope = state.store.tenant(admin.tenant);
    let plan = config.validate_with_secrets(&scope.secret_names(id).await?)?;
    let channel = scope.update_channel(id, &config, &plan).await?;
    configured(&state, admin.tenant, &channel).await?;
    Ok(Json(channel))
}

/// Routing learns the channel's settings.
async fn configured(state: &AppState, tenant: TenantId, channel: &Channel) -> ApiResult<()> {
    let scope = state.store.tenant(tenant);
    let settings = settings::channel_settings(&scope, &channel.config).await?;
    let event = Event::ChannelConfigured {
        channel: channel.channel_config_id,
        settings,
    };
    state.routing.tell(tenant, event);
    Ok(())
}

#[utoipa::path(delete, path = "/api/v1/channels/{id}", tag = "channels", params(("id" = String, Path)), responses((status = 204), (status = 404, body = super::ErrorBody)))]
pub async fn delete(
    admin: TenantAdmin,
    State(state): State<AppState>,
    IdPath(id): IdPath<ChannelId>,
) -> ApiResult<StatusCode> {
    state.store.tenant(admin.tenant).delete_channel(id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Registers a TELEGRAM channel's webhook with Telegram (`setWebhook`) so that updates
/// arrive at `url` (by default the server's public URL + `/webhooks/telegram/{id}`),
/// each carrying the channel's webhook secret; one is created if the channel has none.
#[utoipa::path(post, path = "/api/v1/channels/{id}/telegram-webhook", tag = "channels", params(("id" = String, Path)),
    request_body = TelegramWebhookRequest,
    responses((status = 200, description = "`{\"url\"}`: the URL registered"), (status = 404, body = super::ErrorBody),
        (status = 422, body = super::ErrorBody), (status = 502, description = "Telegram refused or could not be reached", body = super::ErrorBody)))]
pub async fn telegram_webhook(
    admin: TenantAdmin,
    State(state): State<AppState>,
    IdPath(id): IdPath<ChannelId>,
    body: axum::body::Bytes,
) -> ApiResult<Json<serde_json::Value>> {
    // The body is optional: none registers the default URL.
    let request: TelegramWebhookRequest = if body.iter().all(u8::is_ascii_whitespace) {
        TelegramWebhookRequest::default()
    } else {
        crate::json::parse(&body)?
    };
    crate::platforms::register_telegram_webhook(&state, admin.tenant, id, request).await
}
