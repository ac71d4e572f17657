//! Sends the replies queued for platform customers: each conversation's in order, many
//! conversations at once. A platform that says "slow down" is given the pause it asks
//! for, on the whole channel, since its limits are per bot or per app; other passing
//! failures back off per reply; a reply the platform will never take is marked failed
//! and its agent told. On stop, the sends under way finish and nothing new starts.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use switchboard_channels::{split_text, MediaKind, Outbound, SendError};
use switchboard_domain::channel::ChannelType;
use switchboard_domain::conversation::Content;
use switchboard_domain::delivery::{retry_delay, MAX_ATTEMPTS};
use switchboard_domain::{ChannelId, ConversationId};
use switchboard_store::ids::now_millis;
use switchboard_store::{DeliveryOutcome, DueDelivery};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::{announce_delivery, LoadedChannel};
use crate::{ApiError, AppState};

/// Replies being sent at once.
const IN_FLIGHT: usize = 16;
const IDLE: Duration = Duration::from_secs(60);
/// Platforms whose send can be repeated safely after a crash: LINE recognises a push
/// by its retry key.
const IDEMPOTENT: &[ChannelType] = &[ChannelType::Line];

/// What one send attempt came to, for the dispatcher.
struct Attempt {
    conversation: ConversationId,
    channel: ChannelId,
    /// The platform asked for a pause on the whole channel.
    pause: Option<Duration>,
}

pub(super) async fn run(state: AppState, mut stopping: watch::Receiver<bool>) {
    recover(&state).await;
    let mut sending: JoinSet<Attempt> = JoinSet::new();
    let mut busy: HashSet<ConversationId> = HashSet::new();
    let mut paused: HashMap<ChannelId, Instant> = HashMap::new();
    loop {
        let stop = *stopping.borrow();
        if stop && sending.is_empty() {
            return;
        }
        let mut wake_at = Instant::now() + IDLE;
        if !stop && sending.len() < IN_FLIGHT {
            paused.retain(|_, until| *until > Instant::now());
            match start_due(&state, &mut sending, &mut busy, &paused).await {
                Ok(Some(due)) => wake_at = wake_at.min(due),
                Ok(None) => {}
                Err(e) => {
                    tracing::error!(error = %e, "reading the outbox failed");
                    wake_at = Instant::now() + Duration::from_secs(1);
                }
            }
            if let Some(first) = paused.values().min() {
                wake_at = wake_at.min(*first);
            }
        }
        tokio::select! {
            Some(done) = sending.join_next() => {
                match done {
                    Ok(attempt) => {
                        busy.remove(&attempt.conversation);
                        if let Some(pause) = attempt.pause {
                            paused.insert(attempt.channel, Instant::now() + pause);
                        }
                    }
                    // Its reply stays marked as being sent: the next start reports it.
                    Err(e) => tracing::error!(error = %e, "a send task ended abnormally"),
                }
            }
            () = state.platforms.outbox.notified(), if !stop => {}
            () = tokio::time::sleep_until(wake_at), if !stop => {}
            _ = stopping.changed(), if !stop => {}
        }
    }
}

/// Replies interrupted by the last stop: sent again where that is safe, else reported.
async fn recover(state: &AppState) {
    match state.store.platform().recover_deliveries(IDEMPOTENT).await {
        Ok(changes) => {
            for change in &changes {
                announce_delivery(state, change);
            }
        }
        Err(e) => tracing::error!(error = %e, "recovering interrupted replies failed"),
    }
}

/// Starts sending the replies that are due; answers when the next one will be.
async fn start_due(
    state: &AppState,
    sending: &mut JoinSet<Attempt>,
    busy: &mut HashSet<ConversationId>,
    paused: &HashMap<ChannelId, Instant>,
) -> Result<Option<Instant>, ApiError> {
    let platform = state.store.platform();
    let room = IN_FLIGHT - sending.len();
    let paused: Vec<ChannelId> = paused.keys().copied().collect();
    let due = platform
        .due_deliveries(now_millis(), i64::try_from(room).unwrap_or(16), &paused)
        .await?;
    // Each channel is read once a round, for all of its replies.
    let mut channels: HashMap<ChannelId, Channel> = HashMap::new();
    for delivery in due {
        if busy.contains(&delivery.conversation) {
            continue;
        }
        if !platform
            .begin_delivery(delivery.conversation, delivery.seq)
            .await?
        {
            continue;
        }
        busy.insert(delivery.conversation);
        let channel = match channels.get(&delivery.channel) {
            Some(channel) => channel.clone(),
            None => {
                let loaded = load(state, &delivery).await;
                channels.entry(delivery.channel).or_insert(loaded).clone()
            }
        };
        sending.spawn(attempt(state.clone(), delivery, channel));
    }
    let next = platform.next_delivery_at(&paused).await?;
    Ok(next.map(|at| {
        let wait = u64::try_from(at - now_millis()).unwrap_or(0);
        Instant::now() + Duration::from_millis(wait)
    }))
}

/// A channel read for sending, or why it could not be.
type Channel = Result<Arc<LoadedChannel>, SendError>;

async fn load(state: &AppState, delivery: &DueDelivery) -> Channel {
    match LoadedChannel::load(state, delivery.tenant, delivery.channel).await {
        Ok(loaded) => Ok(Arc::new(loaded)),
        Err(ApiError::NotFound) => Err(SendError::Permanent {
            reason: "the channel no longer exists".into(),
        }),
        Err(e) => Err(SendError::Retry {
            after: None,
            reason: e.to_string(),
        }),
    }
}

async fn attempt(state: AppState, delivery: DueDelivery, channel: Channel) -> Attempt {
    let attempts = delivery.attempts + 1;
    let sent = match channel {
        Ok(loaded) => send(&state, &loaded, &delivery).await,
        Err(unusable) => Err(unusable),
    };
    let (outcome, pause) = match sent {
        Ok(sent) => (
            DeliveryOutcome::Sent {
                platform_message_id: sent,
            },
            None,
        ),
        Err(SendError::Permanent { reason }) => (DeliveryOutcome::Failed { error: reason }, None),
        Err(SendError::Retry { reason, .. }) if attempts >= MAX_ATTEMPTS => (
            DeliveryOutcome::Failed {
                error: format!("gave up after {attempts} attempts: {reason}"),
            },
            None,
        ),
        Err(SendError::Retry { after, reason }) => {
            let wait = after.unwrap_or_else(|| retry_delay(attempts));
            let at = now_millis() + i64::try_from(wait.as_millis()).unwrap_or(i64::MAX);
            tracing::info!(conversation = %delivery.conversation, seq = delivery.seq, attempts, error = %reason, "a reply will be sent again");
            (DeliveryOutcome::RetryAt { at, error: reason }, after)
        }
    };
    match state
        .store
        .platform()
        .finish_delivery(delivery.conversation, delivery.seq, &outcome)
        .await
    {
        Ok(Some(change)) => announce_delivery(&state, &change),
        Ok(None) => {}
        Err(e) => {
            tracing::error!(error = %e, conversation = %delivery.conversation, seq = delivery.seq, "recording a send failed")
        }
    }
    Attempt {
        conversation: delivery.conversation,
        channel: delivery.channel,
        pause,
    }
}

/// Sends one reply; answers the platform's id for it. A text too long for one platform
/// message goes in parts, each recorded once sent, so that a retry resumes after them.
async fn send(
    state: &AppState,
    loaded: &LoadedChannel,
    delivery: &DueDelivery,
) -> Result<Option<String>, SendError> {
    let permanent = |e: ApiError| SendError::Permanent {
        reason: e.to_string(),
    };
    let platforms = &state.platforms.platforms;
    let parts = match outbound(state, delivery).await.map_err(permanent)? {
        Outbound::Text(text) => {
            let limit = platforms.text_limit(loaded.channel.config.channel_type);
            split_text(&text, limit)
                .into_iter()
                .map(Outbound::Text)
                .collect()
        }
        file => vec![file],
    };
    let mut sent = None;
    let first = usize::try_from(delivery.parts_sent).unwrap_or(usize::MAX);
    for (index, part) in parts.iter().enumerate().skip(first) {
        let key = format!("{}-{}-{index}", delivery.conversation, delivery.seq);
        sent = platforms
            .send(loaded.platform(), &delivery.recipient, part, &key)
            .await?
            .platform_message_id;
        if index + 1 < parts.len() {
            let done = u32::try_from(index + 1).unwrap_or(u32::MAX);
            state
                .store
                .platform()
                .delivery_progress(delivery.conversation, delivery.seq, done)
                .await
                .map_err(|e| SendError::Retry {
                    after: None,
                    reason: e.to_string(),
                })?;
        }
    }
    Ok(sent)
}

/// The reply as the platform takes it: text, a file with its bytes, a place as a link.
async fn outbound(state: &AppState, delivery: &DueDelivery) -> Result<Outbound, ApiError> {
    let scope = state.store.tenant(delivery.tenant);
    let (file_id, kind) = match &delivery.content {
        Content::Text { text } => return Ok(Outbound::Text(text.clone())),
        Content::Location {
            latitude,
            longitude,
            name,
            address,
        } => {
            let mut text: Vec<&str> = vec!["📍"];
            text.extend(
                [name.as_str(), address.as_str()]
                    .iter()
                    .filter(|s| !s.is_empty()),
            );
            let map = format!(
                "https://www.openstreetmap.org/?mlat={}&mlon={}",
                latitude.0, longitude.0
            );
            text.push(&map);
            return Ok(Outbound::Text(text.join(" ")));
        }
        Content::Image { file_id, .. } => (file_id, MediaKind::Image),
        Content::File { file_id, .. } => (file_id, MediaKind::File),
    };
    let (file, content) = scope.file(delivery.conversation, file_id).await?;
    let kind = match kind {
        MediaKind::File if file.mime_type.starts_with("audio/") => MediaKind::Audio,
        MediaKind::File if file.mime_type.starts_with("video/") => MediaKind::Video,
        other => other,
    };
    Ok(Outbound::File {
        kind,
        link: crate::files::public_link(state, delivery.tenant, delivery.conversation, file_id),
        name: file.name,
        mime_type: file.mime_type,
        content,
    })
}
