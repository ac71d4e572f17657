//! What supervisors watch: who waits in a queue, in order, a conversation's contact
//! record (every routing decision about it) and transcript, and the offline messages
//! customers left.

use axum::extract::{Query, State};
use axum::Json;
use serde::Serialize;
use switchboard_domain::conversation::{Conversation, Message};
use switchboard_domain::paging::Page;
use switchboard_domain::{ConversationId, EmployeeId, QueueId};
use switchboard_store::ContactEvent;
use utoipa::ToSchema;

use super::agent::After;
use super::IdPath;
use crate::auth::Supervisor;
use crate::error::ApiResult;
use crate::AppState;

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WaitingConversation {
    pub conversation_id: ConversationId,
    /// Set while it is reserved for the customer's previous agent (last-agent mode).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reserved_for: Option<EmployeeId>,
    /// Set when the agent who handed it on may not take it back.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_for: Option<EmployeeId>,
}

/// The conversations waiting in a skill queue, first in line first.
#[utoipa::path(get, path = "/api/v1/skill-queues/{id}/waiting", tag = "supervision", params(("id" = String, Path)),
    responses((status = 200, body = Vec<WaitingConversation>), (status = 404, body = super::ErrorBody)))]
pub async fn waiting(
    supervisor: Supervisor,
    State(state): State<AppState>,
    IdPath(id): IdPath<QueueId>,
) -> ApiResult<Json<Vec<WaitingConversation>>> {
    state.store.tenant(supervisor.tenant).queue(id).await?;
    let lists = state.routing.waiting(supervisor.tenant, vec![id]).await?;
    Ok(Json(
        lists
            .into_iter()
            .flatten()
            .map(|w| WaitingConversation {
                conversation_id: w.conversation,
                reserved_for: w.reserved_for,
                not_for: w.not_for,
            })
            .collect(),
    ))
}

/// Every routing decision about a conversation, oldest first: enqueued (with the
/// position), assigned, requeued, overflowed, transferred, released, wrap-up.
#[utoipa::path(get, path = "/api/v1/conversations/{id}/contact-record", tag = "supervision", params(("id" = String, Path)),
    responses((status = 200, body = Vec<ContactEvent>), (status = 404, body = super::ErrorBody)))]
pub async fn contact_record(
    supervisor: Supervisor,
    State(state): State<AppState>,
    IdPath(id): IdPath<ConversationId>,
) -> ApiResult<Json<Vec<ContactEvent>>> {
    Ok(Json(
        state
            .store
            .tenant(supervisor.tenant)
            .contact_record(id)
            .await?,
    ))
}

/// Conversations in which a customer left a message because nobody could serve them
/// (out of hours, queue full or timed out, nobody on duty), newest first.
#[utoipa::path(get, path = "/api/v1/offline-messages", tag = "supervision", params(super::ListQuery),
    responses((status = 200, body = Page<Conversation>)))]
pub async fn offline_messages(
    supervisor: Supervisor,
    State(state): State<AppState>,
    query: Result<Query<super::ListQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Page<Conversation>>> {
    let paging = super::ListQuery::from_request(query)?.paging()?;
    Ok(Json(
        state
            .store
            .tenant(supervisor.tenant)
            .offline_messages(paging)
            .await?,
    ))
}

/// A conversation's transcript, up to 200 messages after a sequence number.
#[utoipa::path(get, path = "/api/v1/conversations/{id}/messages", tag = "supervision", params(("id" = String, Path), After),
    responses((status = 200, body = Vec<Message>), (status = 404, body = super::ErrorBody)))]
pub async fn messages(
    supervisor: Supervisor,
    State(state): State<AppState>,
    IdPath(id): IdPath<ConversationId>,
    Query(after): Query<After>,
) -> ApiResult<Json<Vec<Message>>> {
    let scope = state.store.tenant(supervisor.tenant);
    scope.conversation(id).await?;
    Ok(Json(scope.messages_after(id, after.after, 200).await?))
}
