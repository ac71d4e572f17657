//! The conversation service every channel shares: a customer who writes in joins their
//! open conversation, or starts one that routing queues.

use switchboard_domain::channel::Channel;
use switchboard_domain::conversation::Conversation;
use switchboard_domain::{CustomerId, EmployeeId, QueueId, TenantId};
use switchboard_routing::Event;
use switchboard_store::{ChatOpening, Opening, StoreError};

use crate::{ApiError, AppState};

/// The customer's open conversation, or a new one handed to routing.
pub(crate) async fn open_or_resume(
    state: &AppState,
    tenant: TenantId,
    channel: &Channel,
    customer: CustomerId,
) -> Result<Conversation, ApiError> {
    let scope = state.store.tenant(tenant);
    let opening = scope.opening(customer);
    // Side by side: on PostgreSQL each read is a round trip that a customer waiting for
    // an agent would otherwise wait for in turn. An open conversation is resumed whatever
    // became of the reads only a new one needs.
    let (open, queue, last_agent) = tokio::join!(
        scope.open_conversation_of(customer),
        state.routing.queue_of(tenant, channel),
        last_agent(state, tenant, channel, opening),
    );
    if let Some(open) = open? {
        return Ok(open);
    }
    open_new(state, tenant, channel, opening, queue?, last_agent?).await
}

/// [`open_or_resume`] for a web chat customer, whose session was read together with
/// their open conversation and their channel's queue.
pub(crate) async fn open_or_resume_chat(
    state: &AppState,
    tenant: TenantId,
    channel: &Channel,
    customer: CustomerId,
    known: ChatOpening,
) -> Result<Conversation, ApiError> {
    let scope = state.store.tenant(tenant);
    if let Some(open) = known.open_conversation {
        return Ok(scope.conversation(open).await?);
    }
    let opening = scope.opening(customer);
    let last_agent = last_agent(state, tenant, channel, opening).await?;
    open_new(state, tenant, channel, opening, known.queue, last_agent).await
}

/// The agent who last served the customer, if the channel routes to them first.
async fn last_agent(
    state: &AppState,
    tenant: TenantId,
    channel: &Channel,
    opening: Opening,
) -> Result<Option<EmployeeId>, StoreError> {
    if !channel.config.last_agent_mode.enabled {
        return Ok(None);
    }
    state
        .store
        .tenant(tenant)
        .last_agent_of(opening.customer, opening.conversation)
        .await
}

async fn open_new(
    state: &AppState,
    tenant: TenantId,
    channel: &Channel,
    opening: Opening,
    queue: QueueId,
    last_agent: Option<EmployeeId>,
) -> Result<Conversation, ApiError> {
    let arrived = Event::ConversationArrived {
        conversation: opening.conversation,
        channel: channel.channel_config_id,
        queue,
        last_agent,
    };
    state.routing.open(tenant, opening, arrived).await?;
    Ok(state
        .store
        .tenant(tenant)
        .conversation(opening.conversation)
        .await?)
}
