//! The conversation service every channel shares: a customer who writes in joins their
//! open conversation, or starts one that routing queues.

use switchboard_domain::channel::Channel;
use switchboard_domain::conversation::Conversation;
use switchboard_domain::{CustomerId, TenantId};
use switchboard_routing::Event;

use crate::{ApiError, AppState};

/// The customer's open conversation, or a new one handed to routing.
pub(crate) async fn open_or_resume(
    state: &AppState,
    tenant: TenantId,
    channel: &Channel,
    customer: CustomerId,
) -> Result<Conversation, ApiError> {
    let scope = state.store.tenant(tenant);
    if let Some(open) = scope.open_conversation_of(customer).await? {
        return Ok(open);
    }
    let opening = scope.opening(customer);
    let queue = state.routing.queue_of(tenant, channel).await?;
    let last_agent = if channel.config.last_agent_mode.enabled {
        scope.last_agent_of(customer, opening.conversation).await?
    } else {
        None
    };
    let arrived = Event::ConversationArrived {
        conversation: opening.conversation,
        channel: channel.channel_config_id,
        queue,
        last_agent,
    };
    state.routing.open(tenant, opening, arrived).await?;
    Ok(scope.conversation(opening.conversation).await?)
}
