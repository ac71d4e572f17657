//! `/webhooks/{type}/{channelId}` (and the product's `/social/on/{type}/{channelId}`):
//! where platforms deliver. A delivery is answered only once what it carried is stored,
//! so a platform that hears nothing back delivers again, and a repeated delivery is
//! recognised by the platform's id and stored once.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use rand::distributions::{Alphanumeric, DistString};
use serde::Deserialize;
use switchboard_channels::{ReportedStatus, WebhookRegistration, WebhookRequest};
use switchboard_domain::channel::secrets::SecretPlan;
use switchboard_domain::channel::ChannelType;
use switchboard_domain::delivery::DeliveryState;
use switchboard_domain::{ChannelId, Rule, TenantId, ValidationError};

use super::{announce_delivery, LoadedChannel};
use crate::{ApiError, AppState};

fn plain(status: StatusCode, body: String) -> Response {
    (status, [(CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response()
}

fn no_such_webhook() -> Response {
    plain(StatusCode::NOT_FOUND, "no such webhook".into())
}

pub(crate) async fn receive(
    State(state): State<AppState>,
    Path((kind, id)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (Some(kind), Ok(id)) = (
        ChannelType::parse(&kind.to_ascii_uppercase()),
        id.parse::<ChannelId>(),
    ) else {
        return no_such_webhook();
    };
    let tenant = match state.store.platform().channel_tenant(id).await {
        Ok(Some(tenant)) => tenant,
        Ok(None) => return no_such_webhook(),
        Err(e) => return failed(e.into()),
    };
    let loaded = match LoadedChannel::load(&state, tenant, id).await {
        Ok(loaded) if loaded.channel.config.channel_type == kind => loaded,
        Ok(_) => return no_such_webhook(),
        Err(e) => return failed(e),
    };
    let request = WebhookRequest {
        method: &method,
        query: uri.query().unwrap_or_default(),
        headers: &headers,
        body: &body,
    };
    let accepted = match state
        .platforms
        .platforms
        .accept(loaded.platform(), &request)
    {
        Ok(accepted) => accepted,
        Err(e) => {
            tracing::warn!(channel = %id, error = %e, "a webhook request was refused");
            return plain(e.status(), e.to_string());
        }
    };
    if let Err(e) = keep(&state, tenant, id, &accepted).await {
        return failed(e);
    }
    let answer = accepted.answer;
    (
        answer.status,
        [(CONTENT_TYPE, answer.content_type)],
        answer.body,
    )
        .into_response()
}

/// Stores what a delivery carried and applies its reports, before it is answered.
async fn keep(
    state: &AppState,
    tenant: TenantId,
    channel: ChannelId,
    accepted: &switchboard_channels::Accepted,
) -> Result<(), ApiError> {
    if !accepted.inbound.is_empty() {
        let messages = accepted
            .inbound
            .iter()
            .map(|inbound| {
                let payload = serde_json::to_string(inbound).map_err(|e| {
                    ApiError::Internal(format!("serialising an inbound message: {e}"))
                })?;
                Ok((inbound.platform_id.clone(), payload))
            })
            .collect::<Result<Vec<_>, ApiError>>()?;
        let fresh = state
            .store
            .tenant(tenant)
            .record_inbound(channel, &messages)
            .await?;
        if fresh.contains(&true) {
            state.platforms.inbox.notify_one();
        }
    }
    for report in &accepted.reports {
        let (status, error) = match &report.status {
            ReportedStatus::Delivered => (DeliveryState::Delivered, None),
            ReportedStatus::Read => (DeliveryState::Read, None),
            ReportedStatus::Failed { reason } => (DeliveryState::Failed, Some(reason.as_str())),
        };
        let change = state
            .store
            .platform()
            .report_delivery(channel, &report.platform_message_id, status, error)
            .await?;
        if let Some(change) = change {
            announce_delivery(state, &change);
        }
    }
    Ok(())
}

/// Nothing was stored: the platform is told to deliver again.
fn failed(error: ApiError) -> Response {
    tracing::error!(error = %error, "a webhook delivery could not be stored");
    plain(
        StatusCode::SERVICE_UNAVAILABLE,
        "the delivery could not be stored; deliver it again".into(),
    )
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TelegramWebhookRequest {
    /// The URL Telegram is to deliver to; by default the server's public URL followed by
    /// `/webhooks/telegram/{channelId}`.
    pub url: Option<String>,
}

/// Registers a Telegram channel's webhook with Telegram (`setWebhook`), creating the
/// channel's webhook secret first if it has none. Answers the URL registered.
pub(crate) async fn register_telegram_webhook(
    state: &AppState,
    tenant: TenantId,
    id: ChannelId,
    request: TelegramWebhookRequest,
) -> Result<Json<serde_json::Value>, ApiError> {
    let loaded = LoadedChannel::load(state, tenant, id).await?;
    if loaded.channel.config.channel_type != ChannelType::Telegram {
        let reason = "only a TELEGRAM channel registers a Telegram webhook".into();
        return Err(ValidationError::new("type", Rule::NotAllowed { reason }).into());
    }
    let url = match (request.url, &state.config.public_url) {
        (Some(url), _) => url,
        (None, Some(public)) => format!("{}/webhooks/telegram/{id}", public.trim_end_matches('/')),
        (None, None) => {
            let reason = "give the URL, or set the server's public_url".into();
            return Err(ValidationError::new("url", Rule::Invalid { reason }).into());
        }
    };
    if !url.starts_with("https://") && !url.starts_with("http://") {
        return Err(ValidationError::new(
            "url",
            Rule::Pattern {
                expected: "an http(s) URL",
            },
        )
        .into());
    }
    let secret = match loaded.credentials_named("webhookSecret") {
        Some(secret) => secret,
        None => {
            let secret = Alphanumeric.sample_string(&mut rand::thread_rng(), 48);
            let plan = SecretPlan {
                set: vec![("webhookSecret".into(), secret.clone())],
                remove: Vec::new(),
            };
            state
                .store
                .tenant(tenant)
                .update_channel(id, &loaded.channel.config, &plan)
                .await?;
            secret
        }
    };
    let registration = WebhookRegistration {
        url: url.clone(),
        secret_token: secret,
    };
    state
        .platforms
        .platforms
        .register_telegram_webhook(loaded.platform(), &registration)
        .await
        .map_err(|e| ApiError::Upstream(e.to_string()))?;
    Ok(Json(serde_json::json!({"url": url})))
}
