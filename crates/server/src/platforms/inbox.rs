//! Turns what platforms delivered into messages of their customers' conversations, in
//! the order they arrived. A message whose media cannot be fetched is tried again with
//! growing pauses and, after a few attempts, stored as a text that says what was lost;
//! any other failure (the database, say) is simply tried again.

use std::time::Duration;

use switchboard_channels::{split_text, Inbound, InboundContent, MediaKind, PlatformUser};
use switchboard_domain::channel::ChannelType;
use switchboard_domain::conversation::{
    Content, Customer, Degrees, NewMessage, Sender, MAX_TEXT_CHARS,
};
use switchboard_domain::delivery::retry_delay;
use switchboard_store::ids::now_millis;
use switchboard_store::InboundEvent;
use tokio::sync::watch;

use super::LoadedChannel;
use crate::{ApiError, AppState};

/// Messages read from the inbox at a time.
const BATCH: i64 = 64;
/// Attempts to fetch a message's media before the message is stored without it.
const MEDIA_ATTEMPTS: u32 = 5;
/// How long the worker sleeps when nothing wakes it.
const IDLE: Duration = Duration::from_secs(60);
/// How long a message being handled is left to its handler: longer than the few
/// platform calls handling makes (each bounded to 20 s).
const LEASE_MILLIS: i64 = 120_000;

pub(super) async fn run(state: AppState, mut stopping: watch::Receiver<bool>) {
    loop {
        if *stopping.borrow() {
            return;
        }
        let handled = match handle_due(&state).await {
            Ok(handled) => handled,
            Err(e) => {
                tracing::error!(error = %e, "reading the platform inbox failed");
                0
            }
        };
        if handled == BATCH as usize {
            continue;
        }
        let pause = match state.store.platform().next_inbound_at().await {
            Ok(Some(due)) => Duration::from_millis(u64::try_from(due - now_millis()).unwrap_or(0)),
            Ok(None) => IDLE,
            Err(_) => Duration::from_secs(1),
        }
        .min(IDLE);
        if pause.is_zero() && handled == 0 {
            // Due but failing right now: do not spin.
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        }
        tokio::select! {
            () = state.platforms.inbox.notified() => {}
            () = tokio::time::sleep(pause) => {}
            _ = stopping.changed() => {}
        }
    }
}

/// Handles the inbox messages that are due; answers how many it read. Each channel's
/// are handled in order, channels side by side, so that a platform slow to hand out
/// media holds up only its own customers.
async fn handle_due(state: &AppState) -> Result<usize, ApiError> {
    let due = state
        .store
        .platform()
        .pending_inbound(now_millis(), BATCH)
        .await?;
    let mut by_channel: Vec<Vec<&InboundEvent>> = Vec::new();
    for event in &due {
        match by_channel
            .iter_mut()
            .find(|group| group[0].channel == event.channel)
        {
            Some(group) => group.push(event),
            None => by_channel.push(vec![event]),
        }
    }
    let handled = by_channel.into_iter().map(|events| async move {
        // Read once for the channel's messages of this round.
        let first = events[0];
        let loaded = LoadedChannel::load(state, first.tenant, first.channel)
            .await
            .map_err(|e| e.to_string());
        for event in events {
            handle(state, event, loaded.as_ref()).await?;
        }
        Ok::<(), ApiError>(())
    });
    for outcome in futures_util::future::join_all(handled).await {
        outcome?;
    }
    Ok(due.len())
}

async fn handle(
    state: &AppState,
    event: &InboundEvent,
    loaded: Result<&LoadedChannel, &String>,
) -> Result<(), ApiError> {
    let platform = state.store.platform();
    let now = now_millis();
    if !platform
        .claim_inbound(event.id, now, now + LEASE_MILLIS)
        .await?
    {
        return Ok(());
    }
    let delivered = match loaded {
        Ok(loaded) => deliver(state, loaded, event)
            .await
            .map_err(|e| e.to_string()),
        Err(unreadable) => Err(unreadable.clone()),
    };
    match delivered {
        Ok(()) => platform.inbound_processed(event.id).await?,
        Err(e) => {
            let attempts = event.attempts + 1;
            let next =
                now_millis() + i64::try_from(retry_delay(attempts).as_millis()).unwrap_or(i64::MAX);
            tracing::warn!(inbound = event.id, attempts, error = %e, "a platform message could not join its conversation yet");
            platform.inbound_failed(event.id, &e, next).await?;
        }
    }
    Ok(())
}

/// Stores one platform message in its customer's conversation.
async fn deliver(
    state: &AppState,
    loaded: &LoadedChannel,
    event: &InboundEvent,
) -> Result<(), ApiError> {
    let inbound: Inbound = serde_json::from_str(&event.payload)
        .map_err(|e| ApiError::Internal(format!("an unreadable inbox message: {e}")))?;
    let scope = state.store.tenant(event.tenant);
    let customer = customer_of(state, loaded, event, &inbound.customer).await?;
    let conversation =
        crate::conversations::open_or_resume(state, event.tenant, &loaded.channel, customer.id)
            .await?;
    let contents = match inbound.content {
        InboundContent::Text { text } => split(&text),
        InboundContent::Location {
            latitude,
            longitude,
            name,
            address,
        } => vec![Content::Location {
            latitude: Degrees(latitude),
            longitude: Degrees(longitude),
            name,
            address,
        }],
        InboundContent::Media { kind, source, name } => {
            vec![media(state, loaded, event, conversation.id, kind, &source, &name).await?]
        }
    };
    let single = contents.len() == 1;
    for (part, content) in contents.into_iter().enumerate() {
        // The inbox row's id is stable across attempts, so a retry after a crash finds
        // the message already stored instead of storing it twice.
        let client_message_id = if single {
            format!("in-{}", event.id)
        } else {
            format!("in-{}.{part}", event.id)
        };
        let mut message = NewMessage {
            sender: Sender::Customer,
            client_message_id,
            content,
        };
        // What the platform sent is kept even when it breaks a rule of ours (a place off
        // the globe, say): as a text saying so, rather than refused again and again.
        if let Err(refused) = message.content.validate() {
            message.content = Content::Text {
                text: format!("[a message that could not be kept as sent: {refused}]"),
            };
        }
        message.validate()?;
        scope.append_message(conversation.id, message).await?;
    }
    Ok(())
}

/// The customer who wrote. A name the message carries follows the latest contact; one
/// whose messages carry none keeps the name known from before, or on first contact gets
/// the platform's profile name, else a stand-in.
async fn customer_of(
    state: &AppState,
    loaded: &LoadedChannel,
    event: &InboundEvent,
    user: &PlatformUser,
) -> Result<Customer, ApiError> {
    let scope = state.store.tenant(event.tenant);
    let external_id = user.external_id.as_str();
    let name = match user.name.trim() {
        "" => {
            if let Some(known) = scope.known_customer(event.channel, external_id).await? {
                return Ok(known);
            }
            let platform = &state.platforms.platforms;
            platform
                .customer_name(loaded.platform(), external_id)
                .await
                .unwrap_or_else(|| default_name(loaded.channel.config.channel_type, external_id))
        }
        given => given.to_owned(),
    };
    Ok(scope.customer(event.channel, external_id, &name).await?)
}

fn default_name(channel_type: ChannelType, external_id: &str) -> String {
    let platform = match channel_type {
        ChannelType::Telegram => "Telegram",
        ChannelType::Facebook => "Messenger",
        ChannelType::Whatsapp => "WhatsApp",
        ChannelType::Line => "LINE",
        ChannelType::Wechat => "WeChat",
        ChannelType::Web | ChannelType::Email => "",
    };
    let skip = external_id.chars().count().saturating_sub(6);
    let tail: String = external_id.chars().skip(skip).collect();
    format!("{platform} user …{tail}")
}

/// A text longer than a message may be becomes several messages.
fn split(text: &str) -> Vec<Content> {
    if text.is_empty() {
        return vec![Content::Text {
            text: "[empty message]".into(),
        }];
    }
    split_text(text, MAX_TEXT_CHARS)
        .into_iter()
        .map(|text| Content::Text { text })
        .collect()
}

/// The media fetched and stored as a file of the conversation; after the last attempt,
/// or for a file of a type that is not accepted, a text saying what it was.
async fn media(
    state: &AppState,
    loaded: &LoadedChannel,
    event: &InboundEvent,
    conversation: switchboard_domain::ConversationId,
    kind: MediaKind,
    source: &str,
    name: &str,
) -> Result<Content, ApiError> {
    let what = match kind {
        MediaKind::Image => "image",
        MediaKind::Audio => "voice message",
        MediaKind::Video => "video",
        MediaKind::File => "file",
    };
    let fetched = state
        .platforms
        .platforms
        .fetch_media(loaded.platform(), source)
        .await;
    let media = match fetched {
        Ok(media) => media,
        Err(e) if event.attempts + 1 < MEDIA_ATTEMPTS => {
            return Err(ApiError::Upstream(format!("fetching a {what}: {e}")))
        }
        Err(e) => {
            return Ok(Content::Text {
                text: format!("[a {what} that could not be fetched from the platform: {e}]"),
            })
        }
    };
    let file_name = [name, media.name.as_deref().unwrap_or_default(), what]
        .into_iter()
        .find(|n| !n.trim().is_empty())
        .unwrap_or(what);
    let scope = state.store.tenant(event.tenant);
    match crate::files::upload(&scope, conversation, file_name, &media.content).await {
        Ok(file) => Ok(crate::files::content_of(file)),
        Err(crate::files::FileError::Invalid(refused)) => Ok(Content::Text {
            text: format!("[a {what} '{file_name}' that was not kept: {refused}]"),
        }),
        Err(crate::files::FileError::Store(e)) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_platform_texts_become_several_messages() {
        let long = "x".repeat(MAX_TEXT_CHARS + 1);
        assert_eq!(split(&long).len(), 2);
        assert_eq!(split("hi").len(), 1);
        assert_eq!(
            default_name(ChannelType::Telegram, "123456789"),
            "Telegram user …456789"
        );
    }
}
