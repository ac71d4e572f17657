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
    let opening = scope.opening(customer);
    let last_agent = async {
        if channel.config.last_agent_mode.enabled {
            scope.last_agent_of(customer, opening.conversation).await
        } else {
            Ok(None)
        }
    };
    // Side by side: on PostgreSQL each read is a round trip that a customer waiting for
    // an agent would otherwise wait for in turn. An open conversation is resumed whatever
    // became of the reads only a new one needs.
    let (open, queue, last_agent) = tokio::join!(
        scope.open_conversation_of(customer),
        state.routing.queue_of(tenant, channel),
        last_agent,
    );
    if let Some(open) = open? {
        return Ok(open);
    }
    let (queue, last_agent) = (queue?, last_agent?);
    let arrived = Event::ConversationArrived {
        conversation: opening.conversation,
        channel: channel.channel_config_id,
        queue,
        last_agent,
    };
    state.routing.open(tenant, opening, arrived).await?;
    Ok(scope.conversation(opening.conversation).await?)
}
