//! Messaging platforms on the server side: their webhooks, the inbox worker that turns
//! what they delivered into conversation messages, and the outbox worker that sends the
//! replies. Both workers wake when there is work and otherwise sleep until the next
//! retry is due; both pick up after a restart what the previous run left.

mod inbox;
mod outbox;
mod webhooks;

use std::sync::Arc;

use serde_json::json;
use switchboard_channels::{Channel as PlatformChannel, Credentials, Platforms};
use switchboard_domain::channel::Channel;
use switchboard_domain::delivery::DeliveryState;
use switchboard_domain::{ChannelId, TenantId};
use switchboard_store::DeliveryChange;
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;

pub(crate) use webhooks::{receive, register_telegram_webhook, TelegramWebhookRequest};

use crate::{ApiError, AppState};

/// The platforms and the bells that wake their workers.
pub struct PlatformLink {
    pub(crate) platforms: Platforms,
    pub(crate) inbox: Notify,
    pub(crate) outbox: Notify,
}

impl PlatformLink {
    pub fn new(platforms: Platforms) -> Self {
        Self {
            platforms,
            inbox: Notify::new(),
            outbox: Notify::new(),
        }
    }
}

/// A channel with its credentials, as the platform code takes it.
pub(crate) struct LoadedChannel {
    pub(crate) channel: Channel,
    pub(crate) credentials: Credentials,
}

impl LoadedChannel {
    pub(crate) async fn load(
        state: &AppState,
        tenant: TenantId,
        id: ChannelId,
    ) -> Result<Self, ApiError> {
        let scope = state.store.tenant(tenant);
        let channel = scope.channel(id).await?;
        let credentials = Credentials::new(scope.channel_secrets(id).await?);
        Ok(Self {
            channel,
            credentials,
        })
    }

    pub(crate) fn credentials_named(&self, name: &str) -> Option<String> {
        self.credentials.named(name).map(str::to_owned)
    }

    pub(crate) fn platform(&self) -> PlatformChannel<'_> {
        PlatformChannel {
            config: &self.channel.config,
            credentials: &self.credentials,
        }
    }
}

/// Tells the conversation's agent where a reply stands (sent, delivered, read, to be
/// tried again, failed and why).
pub(crate) fn announce_delivery(state: &AppState, change: &DeliveryChange) {
    if change.status.state == DeliveryState::Failed {
        tracing::warn!(
            conversation = %change.status.conversation_id,
            seq = change.status.seq,
            reason = change.status.last_error.as_deref().unwrap_or_default(),
            "a reply could not be delivered"
        );
    }
    if let Some(agent) = change.agent {
        state.agent_hub.send(
            agent,
            &json!({"type": "delivery", "delivery": change.status}),
        );
    }
}

/// The inbox and outbox workers of a running server.
pub(crate) struct Workers {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Workers {
    pub(crate) fn start(state: &AppState) -> Self {
        let (stop, stopping) = watch::channel(false);
        let tasks = vec![
            tokio::spawn(inbox::run(state.clone(), stopping.clone())),
            tokio::spawn(outbox::run(state.clone(), stopping)),
        ];
        Self { stop, tasks }
    }

    /// Lets replies being sent finish (each call is bounded), then stops.
    pub(crate) async fn stop(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            if let Err(e) = task.await {
                tracing::error!(error = %e, "a platform worker ended abnormally");
            }
        }
    }
}

/// The link every state holds by default: the real platforms.
pub(crate) fn default_link(config: &crate::ServerConfig) -> Arc<PlatformLink> {
    let platforms = Platforms::new(config.platform_endpoints.clone())
        .unwrap_or_else(|e| panic!("the platforms' HTTP client could not start: {e}"));
    Arc::new(PlatformLink::new(platforms))
}
