//! The agent API: what the workbench uses, and what enterprises use to build their own
//! desktop (`docs/api/agent.md`). Signing in puts the agent into routing with the skills
//! and capacity of its profile; conversations then arrive as `assigned` events on the
//! WebSocket at `/api/v1/agent/events`, and the REST calls answer, read and end them.

use axum::extract::ws::{Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use futures_util::stream::FuturesOrdered;
use futures_util::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::json;
use switchboard_domain::conversation::{
    Content, Conversation, ConversationState, Message, NewMessage, Sender,
};
use switchboard_domain::delivery::DeliveryStatus;
use switchboard_domain::{ConversationId, EmployeeId, Rule, ValidationError};
use switchboard_routing::{Action, AgentStatus, Event, Skill, TransferTarget};
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use utoipa::{IntoParams, ToSchema};

use super::IdPath;
use crate::auth::AgentCaller;
use crate::error::{ApiError, ApiResult};
use crate::json::ApiJson;
use crate::{feed_ready_answers, feed_text, AppState, PendingAnswer};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum Status {
    Idle,
    Busy,
    Rest,
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StatusChange {
    pub status: Status,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignedIn {
    pub status: Status,
    pub max_concurrent_chats: u32,
    pub conversations: Vec<Conversation>,
}

/// Signs in to routing as idle, with the skills and capacity of the agent profile.
#[utoipa::path(post, path = "/api/v1/agent/sign-in", tag = "agent", responses((status = 200, body = SignedIn), (status = 403, body = super::ErrorBody)))]
pub async fn sign_in(
    agent: AgentCaller,
    State(state): State<AppState>,
) -> ApiResult<Json<SignedIn>> {
    let skills = agent
        .profile
        .skills
        .iter()
        .map(|s| Skill {
            queue: s.queue_id,
            skill_weight: s.skill_weight,
            agent_weight: s.agent_weight,
        })
        .collect();
    let capacity = agent.profile.max_concurrent_chats;
    state
        .routing
        .handle(
            agent.tenant,
            Event::AgentSignedIn {
                agent: agent.employee.id,
                skills,
                capacity,
            },
        )
        .await?;
    let conversations = state
        .store
        .tenant(agent.tenant)
        .conversations_of_agent(agent.employee.id)
        .await?;
    Ok(Json(SignedIn {
        status: Status::Idle,
        max_concurrent_chats: capacity,
        conversations,
    }))
}

/// Leaves routing; conversations the agent still holds go back to the head of their queues.
#[utoipa::path(post, path = "/api/v1/agent/sign-out", tag = "agent", responses((status = 204)))]
pub async fn sign_out(agent: AgentCaller, State(state): State<AppState>) -> ApiResult<StatusCode> {
    state
        .routing
        .handle(
            agent.tenant,
            Event::AgentSignedOut {
                agent: agent.employee.id,
            },
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Idle takes new conversations; busy and rest keep the current ones only.
#[utoipa::path(put, path = "/api/v1/agent/status", tag = "agent", request_body = StatusChange, responses((status = 200, body = StatusChange)))]
pub async fn set_status(
    agent: AgentCaller,
    State(state): State<AppState>,
    ApiJson(change): ApiJson<StatusChange>,
) -> ApiResult<Json<StatusChange>> {
    let status = match change.status {
        Status::Idle => AgentStatus::Idle,
        Status::Busy => AgentStatus::Busy,
        Status::Rest => AgentStatus::Rest,
    };
    state
        .routing
        .handle(
            agent.tenant,
            Event::AgentStatusChanged {
                agent: agent.employee.id,
                status,
            },
        )
        .await?;
    Ok(Json(change))
}

/// The conversations the agent holds (assigned or wrapping up).
#[utoipa::path(get, path = "/api/v1/agent/conversations", tag = "agent", responses((status = 200, body = Vec<Conversation>)))]
pub async fn conversations(
    agent: AgentCaller,
    State(state): State<AppState>,
) -> ApiResult<Json<Vec<Conversation>>> {
    Ok(Json(
        state
            .store
            .tenant(agent.tenant)
            .conversations_of_agent(agent.employee.id)
            .await?,
    ))
}

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct After {
    /// Answer the messages after this sequence number (0 for all).
    #[serde(default)]
    pub after: i64,
}

/// A conversation's messages after a sequence number, up to 200.
#[utoipa::path(get, path = "/api/v1/agent/conversations/{id}/messages", tag = "agent", params(("id" = String, Path), After),
    responses((status = 200, body = Vec<Message>), (status = 404, body = super::ErrorBody)))]
pub async fn messages(
    agent: AgentCaller,
    State(state): State<AppState>,
    IdPath(id): IdPath<ConversationId>,
    Query(after): Query<After>,
) -> ApiResult<Json<Vec<Message>>> {
    held(&state, &agent, id).await?;
    Ok(Json(
        state
            .store
            .tenant(agent.tenant)
            .messages_after(id, after.after, 200)
            .await?,
    ))
}

/// Where the conversation's replies to a customer on a messaging platform stand: sent,
/// delivered, read, still being tried, or failed and why.
#[utoipa::path(get, path = "/api/v1/agent/conversations/{id}/deliveries", tag = "agent", params(("id" = String, Path)),
    responses((status = 200, body = Vec<DeliveryStatus>), (status = 404, body = super::ErrorBody)))]
pub async fn deliveries(
    agent: AgentCaller,
    State(state): State<AppState>,
    IdPath(id): IdPath<ConversationId>,
) -> ApiResult<Json<Vec<DeliveryStatus>>> {
    held(&state, &agent, id).await?;
    Ok(Json(
        state.store.tenant(agent.tenant).deliveries_of(id).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Reply {
    /// A new id for each message; the same id when retrying it.
    pub client_message_id: String,
    pub content: Content,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Stored {
    pub seq: i64,
    pub duplicate: bool,
    pub message: Message,
}

/// Replies in a conversation the agent holds; answers once the message is stored.
#[utoipa::path(post, path = "/api/v1/agent/conversations/{id}/messages", tag = "agent", params(("id" = String, Path)), request_body = Reply,
    responses((status = 200, body = Stored), (status = 404, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn reply(
    agent: AgentCaller,
    State(state): State<AppState>,
    IdPath(id): IdPath<ConversationId>,
    ApiJson(reply): ApiJson<Reply>,
) -> ApiResult<Json<Stored>> {
    let appended = store_reply(&state, &agent.on_duty(), id, reply).await?;
    Ok(Json(Stored {
        seq: appended.message.seq,
        duplicate: appended.duplicate,
        message: appended.message,
    }))
}

/// Who writes: an agent of a tenant.
#[derive(Clone, Copy)]
struct Writer {
    tenant: switchboard_domain::TenantId,
    agent: EmployeeId,
}

impl AgentCaller {
    fn on_duty(&self) -> Writer {
        Writer {
            tenant: self.tenant,
            agent: self.employee.id,
        }
    }
}

/// Stores an agent's message in a conversation it serves and answers once it is
/// committed: the store checks, in the same transaction, that the conversation is the
/// agent's and still being served.
async fn store_reply(
    state: &AppState,
    writer: &Writer,
    id: ConversationId,
    reply: Reply,
) -> ApiResult<switchboard_store::Appended> {
    submit_reply(state, writer, id, reply).await?.await
}

/// Checks an agent's message and hands it to the store; the future it answers resolves
/// once it is committed. Replies handed over one after the other are stored in order.
async fn submit_reply(
    state: &AppState,
    writer: &Writer,
    id: ConversationId,
    reply: Reply,
) -> ApiResult<
    impl std::future::Future<Output = ApiResult<switchboard_store::Appended>> + Send + 'static,
> {
    let message = NewMessage {
        sender: Sender::Agent {
            employee_id: writer.agent,
        },
        client_message_id: reply.client_message_id,
        content: reply.content,
    };
    message.validate()?;
    let scope = state.store.tenant(writer.tenant);
    if !matches!(message.content, Content::Text { .. }) {
        // Say nothing of another conversation's files.
        let conversation = scope.conversation(id).await?;
        if conversation.agent_id != Some(writer.agent) {
            return Err(ApiError::NotFound);
        }
    }
    let content = crate::files::resolve(&scope, id, message.content).await?;
    let committed = scope.enqueue_message(id, NewMessage { content, ..message });
    Ok(async move {
        committed.await.map_err(|e| match e {
            switchboard_store::StoreError::Rejected(_) => {
                let reason = "the conversation is no longer being served".into();
                ValidationError::new("id", Rule::NotAllowed { reason }).into()
            }
            other => other.into(),
        })
    })
}

/// Ends the conversation for the customer; the agent wraps up for the queue's wrap-up time.
#[utoipa::path(post, path = "/api/v1/agent/conversations/{id}/end", tag = "agent", params(("id" = String, Path)),
    responses((status = 200, body = Conversation), (status = 404, body = super::ErrorBody)))]
pub async fn end(
    agent: AgentCaller,
    State(state): State<AppState>,
    IdPath(id): IdPath<ConversationId>,
) -> ApiResult<Json<Conversation>> {
    let conversation = held(&state, &agent, id).await?;
    let scope = state.store.tenant(agent.tenant);
    if conversation.state == ConversationState::Assigned {
        let actions = state
            .routing
            .handle(agent.tenant, Event::ConversationEnded { conversation: id })
            .await?;
        let wrapping_up = actions.iter().any(
            |a| matches!(a, Action::WrapUpStarted { conversation, .. } if *conversation == id),
        );
        if !wrapping_up {
            // Routing did not have it (its data was lost): it just ends.
            scope
                .set_conversation_state(id, ConversationState::Closed, Some(agent.employee.id))
                .await?;
            state.hub.changed(id);
        }
    }
    Ok(Json(scope.conversation(id).await?))
}

/// The conversation, if this agent holds it.
async fn held(
    state: &AppState,
    agent: &AgentCaller,
    id: ConversationId,
) -> ApiResult<Conversation> {
    let conversation = state.store.tenant(agent.tenant).conversation(id).await?;
    if conversation.agent_id != Some(agent.employee.id) {
        return Err(ApiError::NotFound);
    }
    Ok(conversation)
}

/// The agent's events as JSON text frames: `assigned` (a conversation for the agent),
/// `message` (from a customer), `customerLeft`, `wrapUpStarted`, `wrapUpEnded`, and
/// `delivery` (where a reply to a customer on a messaging platform stands: sent,
/// delivered, read, pending another attempt, or failed with the reason), and `resync` when the connection fell behind (fetch conversations and
/// messages again).
#[utoipa::path(get, path = "/api/v1/agent/events", tag = "agent", responses((status = 101, description = "WebSocket of agent events")))]
pub async fn events(
    agent: AgentCaller,
    State(state): State<AppState>,
    upgrade: WebSocketUpgrade,
) -> Response {
    let receiver = state.agent_hub.subscribe(agent.employee.id);
    let writer = agent.on_duty();
    crate::chat_socket(upgrade).on_upgrade(move |socket| async move {
        let Writer { tenant, agent } = writer;
        // A connection back within the grace period keeps the agent's conversations.
        state
            .routing
            .tell(tenant, Event::AgentReconnected { agent });
        forward(&state, writer, socket, receiver).await;
        if state.agent_hub.connections(agent) == 0 {
            let lost = Event::AgentDisconnected { agent };
            state.routing.tell(tenant, lost);
        }
    })
}

/// What an agent may send on its socket.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "camelCase", deny_unknown_fields)]
enum AgentFrame {
    /// As `POST …/conversations/{id}/messages`, answered by an `ack` or an `error`.
    #[serde(rename_all = "camelCase")]
    Reply {
        conversation_id: ConversationId,
        client_message_id: String,
        content: Content,
    },
}

/// Relays events and answers the agent's frames until either side closes; the receiver
/// is dropped on return. Replies are read on while earlier ones commit; their answers
/// go out in order.
async fn forward(
    state: &AppState,
    writer: Writer,
    mut socket: WebSocket,
    mut events: tokio::sync::broadcast::Receiver<crate::agent_hub::Event>,
) {
    let mut answers = FuturesOrdered::<PendingAnswer>::new();
    loop {
        let text = tokio::select! {
            event = events.recv() => match event_frame(event) {
                Some(text) => text,
                None => return,
            },
            Some(answer) = answers.next(), if !answers.is_empty() => answer,
            incoming = socket.recv() => match incoming {
                Some(Ok(WsMessage::Text(text))) => {
                    answers.push_back(received(state, &writer, text.as_str()).await);
                    continue;
                }
                Some(Ok(WsMessage::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => continue,
            },
        };
        // What else is ready now (the events of one batch, answers committed with it)
        // goes out in the same write.
        if feed_text(&mut socket, text).await.is_err() {
            return;
        }
        loop {
            let event = match events.try_recv() {
                Ok(event) => Ok(event),
                Err(TryRecvError::Lagged(skipped)) => Err(RecvError::Lagged(skipped)),
                Err(TryRecvError::Closed) => Err(RecvError::Closed),
                Err(TryRecvError::Empty) => break,
            };
            let Some(text) = event_frame(event) else {
                return;
            };
            if feed_text(&mut socket, text).await.is_err() {
                return;
            }
        }
        if feed_ready_answers(&mut socket, &mut answers).await.is_err()
            || socket.flush().await.is_err()
        {
            return;
        }
    }
}

/// An event's frame; `None` once the agent's events have ended.
fn event_frame(event: Result<crate::agent_hub::Event, RecvError>) -> Option<String> {
    match event {
        Ok(event) => Some(String::from(&*event)),
        Err(RecvError::Lagged(_)) => Some(json!({"type": "resync"}).to_string()),
        Err(RecvError::Closed) => None,
    }
}

/// Hands an agent's frame on; the answer comes once the reply is committed.
async fn received(state: &AppState, writer: &Writer, text: &str) -> PendingAnswer {
    let frame = match serde_json::from_str::<AgentFrame>(text) {
        Ok(frame) => frame,
        Err(e) => {
            let error = error_frame(&ApiError::MalformedJson(e.to_string()), None, None);
            return Box::pin(std::future::ready(error));
        }
    };
    let AgentFrame::Reply {
        conversation_id,
        client_message_id,
        content,
    } = frame;
    let reply = Reply {
        client_message_id: client_message_id.clone(),
        content,
    };
    let submitted = submit_reply(state, writer, conversation_id, reply).await;
    Box::pin(async move {
        let stored = match submitted {
            Ok(committed) => committed.await,
            Err(refused) => Err(refused),
        };
        match stored {
            Ok(appended) => json!({"type": "ack", "conversationId": conversation_id,
                "clientMessageId": client_message_id, "seq": appended.message.seq,
                "duplicate": appended.duplicate})
            .to_string(),
            Err(error) => error_frame(&error, Some(conversation_id), Some(&client_message_id)),
        }
    })
}

fn error_frame(
    error: &ApiError,
    conversation: Option<ConversationId>,
    client_message_id: Option<&str>,
) -> String {
    let mut frame = error.body();
    frame["type"] = json!("error");
    frame["conversationId"] = json!(conversation);
    frame["clientMessageId"] = json!(client_message_id);
    frame.to_string()
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QueueLoad {
    pub queue_id: switchboard_domain::QueueId,
    pub name: String,
    /// Conversations waiting for an agent now.
    pub waiting: usize,
}

/// The agent's skill queues and how many conversations wait in each.
#[utoipa::path(get, path = "/api/v1/agent/queues", tag = "agent", responses((status = 200, body = Vec<QueueLoad>)))]
pub async fn queues(
    agent: AgentCaller,
    State(state): State<AppState>,
) -> ApiResult<Json<Vec<QueueLoad>>> {
    let ids: Vec<_> = agent.profile.skills.iter().map(|s| s.queue_id).collect();
    let waiting = state.routing.waiting(agent.tenant, ids.clone()).await?;
    let scope = state.store.tenant(agent.tenant);
    let mut loads = Vec::with_capacity(ids.len());
    for (queue_id, waiting) in ids.into_iter().zip(waiting.iter().map(Vec::len)) {
        let name = scope
            .queue(queue_id)
            .await
            .map(|q| q.config.name)
            .unwrap_or_default();
        loads.push(QueueLoad {
            queue_id,
            name,
            waiting,
        });
    }
    Ok(Json(loads))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomerPanel {
    pub customer: switchboard_domain::conversation::Customer,
    pub channel_name: String,
    pub channel_type: switchboard_domain::channel::ChannelType,
    /// When the customer started this conversation.
    pub started_at: switchboard_domain::time::Timestamp,
    /// The customer's earlier conversations, newest first (at most 20).
    pub earlier: Vec<Conversation>,
}

/// Who the customer of a held conversation is: name, id, channel, since when, earlier contacts.
#[utoipa::path(get, path = "/api/v1/agent/conversations/{id}/customer", tag = "agent", params(("id" = String, Path)),
    responses((status = 200, body = CustomerPanel), (status = 404, body = super::ErrorBody)))]
pub async fn customer(
    agent: AgentCaller,
    State(state): State<AppState>,
    IdPath(id): IdPath<ConversationId>,
) -> ApiResult<Json<CustomerPanel>> {
    let conversation = held(&state, &agent, id).await?;
    let scope = state.store.tenant(agent.tenant);
    let customer = scope.customer_by_id(conversation.customer_id).await?;
    let channel = scope.channel(conversation.channel_id).await?;
    let earlier = scope
        .conversations_of_customer(customer.id, 21)
        .await?
        .into_iter()
        .filter(|c| c.id != id)
        .take(20)
        .collect();
    Ok(Json(CustomerPanel {
        customer,
        channel_name: channel.config.name,
        channel_type: channel.config.channel_type,
        started_at: conversation.created_at,
        earlier,
    }))
}

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FileName {
    /// The file's name, e.g. `invoice.pdf`.
    #[serde(default)]
    pub name: String,
}

/// Stores an image or document (the raw body, ≤10 MiB) in a held conversation; send it
/// then as an `image` or `file` message with the answered `fileId`.
#[utoipa::path(post, path = "/api/v1/agent/conversations/{id}/files", tag = "agent", params(("id" = String, Path), FileName),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 200, body = switchboard_domain::files::StoredFile), (status = 422, body = super::ErrorBody)))]
pub async fn upload(
    agent: AgentCaller,
    State(state): State<AppState>,
    IdPath(id): IdPath<ConversationId>,
    Query(file): Query<FileName>,
    body: axum::body::Bytes,
) -> ApiResult<Json<switchboard_domain::files::StoredFile>> {
    held(&state, &agent, id).await?;
    let scope = state.store.tenant(agent.tenant);
    Ok(Json(
        crate::files::upload(&scope, id, &file.name, &body).await?,
    ))
}

/// Downloads a file of a held conversation.
#[utoipa::path(get, path = "/api/v1/agent/conversations/{id}/files/{file}", tag = "agent", params(("id" = String, Path), ("file" = String, Path)),
    responses((status = 200, description = "the file"), (status = 404, body = super::ErrorBody)))]
pub async fn download(
    agent: AgentCaller,
    State(state): State<AppState>,
    axum::extract::Path((id, file)): axum::extract::Path<(String, String)>,
) -> ApiResult<Response> {
    let id: ConversationId = id.parse().map_err(|_| ApiError::NotFound)?;
    held(&state, &agent, id).await?;
    let (stored, content) = state.store.tenant(agent.tenant).file(id, &file).await?;
    Ok(crate::files::download(&stored, content))
}

/// The ended conversations the agent served, newest first; read a transcript with
/// `GET …/conversations/{id}/messages`.
#[utoipa::path(get, path = "/api/v1/agent/history", tag = "agent", params(super::ListQuery),
    responses((status = 200, body = switchboard_domain::paging::Page<Conversation>)))]
pub async fn history(
    agent: AgentCaller,
    State(state): State<AppState>,
    query: Result<Query<super::ListQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<switchboard_domain::paging::Page<Conversation>>> {
    let paging = super::ListQuery::from_request(query)?.paging()?;
    Ok(Json(
        state
            .store
            .tenant(agent.tenant)
            .history_of_agent(agent.employee.id, paging)
            .await?,
    ))
}

/// The tenant's prepared answers (set by the administrator in `PUT /api/v1/tenant`).
#[utoipa::path(get, path = "/api/v1/agent/quick-replies", tag = "agent",
    responses((status = 200, body = Vec<switchboard_domain::tenant::QuickReply>)))]
pub async fn quick_replies(
    agent: AgentCaller,
    State(state): State<AppState>,
) -> ApiResult<Json<Vec<switchboard_domain::tenant::QuickReply>>> {
    Ok(Json(
        state
            .store
            .tenant(agent.tenant)
            .tenant()
            .await?
            .settings
            .quick_replies,
    ))
}

/// Exactly one of the two targets.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TransferRequest {
    /// A multimedia skill queue: the conversation goes to its head, not back to you.
    #[serde(default)]
    pub queue_id: Option<switchboard_domain::QueueId>,
    /// An idle agent with a free chat slot.
    #[serde(default)]
    pub agent_id: Option<switchboard_domain::EmployeeId>,
}

/// Hands a conversation the agent is serving to a skill queue or to another agent.
#[utoipa::path(post, path = "/api/v1/agent/conversations/{id}/transfer", tag = "agent", params(("id" = String, Path)), request_body = TransferRequest,
    responses((status = 200, body = Conversation), (status = 404, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn transfer(
    agent: AgentCaller,
    State(state): State<AppState>,
    IdPath(id): IdPath<ConversationId>,
    ApiJson(request): ApiJson<TransferRequest>,
) -> ApiResult<Json<Conversation>> {
    let conversation = held(&state, &agent, id).await?;
    let scope = state.store.tenant(agent.tenant);
    let not_allowed = |field: &str, reason: &str| {
        let reason = reason.to_owned();
        ApiError::from(ValidationError::new(field, Rule::NotAllowed { reason }))
    };
    if conversation.state != ConversationState::Assigned {
        return Err(not_allowed(
            "id",
            "the conversation is no longer being served",
        ));
    }
    let (field, to) = match (request.queue_id, request.agent_id) {
        (Some(queue), None) => {
            let found = scope
                .queue(queue)
                .await
                .map_err(|_| not_allowed("queueId", "no such skill queue"))?;
            if found.config.queue_type != switchboard_domain::queue::QueueType::Multimedia {
                return Err(not_allowed(
                    "queueId",
                    "chats go to multimedia skill queues only",
                ));
            }
            ("queueId", TransferTarget::Queue(queue))
        }
        (None, Some(to)) => {
            scope
                .employee(to)
                .await
                .map_err(|_| not_allowed("agentId", "no such agent"))?;
            ("agentId", TransferTarget::Agent(to))
        }
        _ => {
            return Err(not_allowed(
                "queueId",
                "give exactly one of queueId and agentId",
            ))
        }
    };
    let event = Event::TransferRequested {
        conversation: id,
        to,
    };
    let actions = state.routing.handle(agent.tenant, event).await?;
    if let Some(refusal) = actions.iter().find_map(|a| match a {
        Action::TransferRefused { refusal, .. } => Some(*refusal),
        _ => None,
    }) {
        return Err(not_allowed(field, crate::routing::refusal_reason(refusal)));
    }
    Ok(Json(scope.conversation(id).await?))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TransferQueue {
    pub queue_id: switchboard_domain::QueueId,
    pub name: String,
}

/// The skill queues a conversation may be transferred to: the tenant's multimedia queues.
#[utoipa::path(get, path = "/api/v1/agent/transfer-queues", tag = "agent", responses((status = 200, body = Vec<TransferQueue>)))]
pub async fn transfer_queues(
    agent: AgentCaller,
    State(state): State<AppState>,
) -> ApiResult<Json<Vec<TransferQueue>>> {
    let filter = switchboard_store::QueueFilter {
        name: None,
        queue_type: Some(switchboard_domain::queue::QueueType::Multimedia),
    };
    let scope = state.store.tenant(agent.tenant);
    let queues = switchboard_store::all_pages(|page| scope.list_queues(page, &filter)).await?;
    Ok(Json(
        queues
            .into_iter()
            .map(|q| TransferQueue {
                queue_id: q.id,
                name: q.config.name,
            })
            .collect(),
    ))
}
