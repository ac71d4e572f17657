//! The widget's protocol, authenticated by the `ccmessaging-token` cookie:
//!
//! - `POST conversation` opens the customer's conversation, or resumes the open one;
//! - `POST messages {conversationId, clientMessageId, content}` stores a message and
//!   answers its sequence number once it is committed; a retry with the same
//!   `clientMessageId` answers the same number and stores nothing;
//! - `GET messages?conversationId=…&after=N&waitSeconds=W` answers the messages after
//!   sequence number N, waiting up to W seconds (≤ 30) for one if there is none yet;
//! - `POST close {conversationId}` ends the conversation;
//! - `POST evaluation {conversationId, rating, comment}` rates the service.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use switchboard_domain::channel::Channel;
use switchboard_domain::conversation::{
    Content, Conversation, ConversationState, Evaluation, NewMessage, Sender,
};
use switchboard_domain::{ConversationId, TenantId};
use switchboard_routing::Event;
use switchboard_store::ids::now_millis;
use switchboard_store::{Appended, ChatOpening, StoreError, WidgetSession};

use super::{cors, Refused, WIDGET_COOKIE};
use crate::auth::{cookie, token_hash};
use crate::AppState;

pub const MAX_WAIT_SECONDS: u64 = 30;
pub(super) const PAGE: i64 = 200;

/// The customer behind the cookie, and the channel whose origins may read the answer.
pub(super) struct Customer {
    pub(super) session: WidgetSession,
    channel: Channel,
}

pub(super) async fn customer(state: &AppState, headers: &HeaderMap) -> Result<Customer, Refused> {
    let (session, channel) = state
        .store
        .platform()
        .widget_session(&session_token_hash(headers)?, now_millis())
        .await
        .map_err(Refused::internal)?
        .ok_or_else(no_session)?;
    admitted(headers, session, channel)
}

/// [`customer`] for opening their chat, with what opening it needs.
async fn customer_opening(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<(Customer, ChatOpening), Refused> {
    let (session, channel, opening) = state
        .store
        .platform()
        .widget_session_opening(&session_token_hash(headers)?, now_millis())
        .await
        .map_err(Refused::internal)?
        .ok_or_else(no_session)?;
    Ok((admitted(headers, session, channel)?, opening))
}

fn no_session() -> Refused {
    Refused::new(
        StatusCode::UNAUTHORIZED,
        "no_session",
        "load the chat through the loader first",
    )
}

fn session_token_hash(headers: &HeaderMap) -> Result<String, Refused> {
    cookie(headers, WIDGET_COOKIE)
        .map(token_hash)
        .ok_or_else(no_session)
}

/// The session's customer, if the page asking is one their channel lets read answers.
fn admitted(
    headers: &HeaderMap,
    session: WidgetSession,
    channel: Channel,
) -> Result<Customer, Refused> {
    if let Some(origin) = cors::origin(headers) {
        if !cors::allowed(&channel, origin) {
            return Err(Refused::new(
                StatusCode::FORBIDDEN,
                "origin_not_allowed",
                "this page's origin is not in the channel's allowed origins",
            ));
        }
    }
    Ok(Customer { session, channel })
}

/// The conversation, if it is this customer's.
async fn own_conversation(
    state: &AppState,
    customer: &Customer,
    id: ConversationId,
) -> Result<Conversation, Refused> {
    let conversation = state
        .store
        .tenant(customer.session.tenant)
        .conversation(id)
        .await;
    match conversation {
        Ok(c) if c.customer_id == customer.session.customer => Ok(c),
        _ => Err(Refused::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "no such conversation",
        )),
    }
}

pub(super) fn query_of<T>(
    query: Result<Query<T>, axum::extract::rejection::QueryRejection>,
) -> Result<T, Refused> {
    query
        .map(|Query(q)| q)
        .map_err(|e| Refused::new(StatusCode::BAD_REQUEST, "invalid_field", &e.body_text()))
}

/// The customer's conversation whose id a query parameter gives.
pub(super) async fn conversation_named(
    state: &AppState,
    customer: &Customer,
    id: &str,
) -> Result<Conversation, Refused> {
    let id: ConversationId = id.parse().map_err(|_| Refused::field("conversationId"))?;
    own_conversation(state, customer, id).await
}

pub(super) fn respond(result: Result<Response, Refused>, headers: &HeaderMap) -> Response {
    let mut response = result.unwrap_or_else(IntoResponse::into_response);
    cors::allow(&mut response, cors::origin(headers));
    response
}

fn parse<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, Refused> {
    serde_json::from_slice(body).map_err(|e| Refused::malformed(&e))
}

pub async fn open(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let result = async {
        let (customer, known) = customer_opening(&state, &headers).await?;
        let conversation = crate::conversations::open_or_resume_chat(
            &state,
            customer.session.tenant,
            &customer.channel,
            customer.session.customer,
            known,
        )
        .await
        .map_err(Refused::internal)?;
        let body = json!({
            "conversationId": conversation.id,
            "state": conversation.state,
            "lastSeq": conversation.last_seq,
            "channelConfigId": customer.channel.channel_config_id,
        });
        Ok(Json(body).into_response())
    }
    .await;
    respond(result, &headers)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SendRequest {
    conversation_id: ConversationId,
    client_message_id: String,
    content: Content,
}

pub async fn send(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let result = async {
        let customer = customer(&state, &headers).await?;
        let request: SendRequest = parse(&body)?;
        let conversation = own_conversation(&state, &customer, request.conversation_id).await?;
        let appended = store_customer_message(
            &state,
            customer.session.tenant,
            conversation.id,
            request.client_message_id,
            request.content,
        )
        .await?;
        let answer = json!({"seq": appended.message.seq, "duplicate": appended.duplicate, "message": appended.message});
        Ok(Json(answer).into_response())
    }
    .await;
    respond(result, &headers)
}

/// Stores a message of the customer in its conversation and answers once it is
/// committed; the store's listener tells the agent and routing.
pub(super) async fn store_customer_message(
    state: &AppState,
    tenant: TenantId,
    conversation: ConversationId,
    client_message_id: String,
    content: Content,
) -> Result<Appended, Refused> {
    submit_customer_message(state, tenant, conversation, client_message_id, content)
        .await?
        .await
}

/// Checks a message of the customer and hands it to the store; the future it answers
/// resolves once the message is committed. Messages handed over one after the other are
/// stored in that order, so a socket can read on while earlier ones commit.
pub(super) async fn submit_customer_message(
    state: &AppState,
    tenant: TenantId,
    conversation: ConversationId,
    client_message_id: String,
    content: Content,
) -> Result<impl std::future::Future<Output = Result<Appended, Refused>> + Send + 'static, Refused>
{
    let message = NewMessage {
        sender: Sender::Customer,
        client_message_id,
        content,
    };
    message.validate().map_err(|e| {
        Refused::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            &e.to_string(),
        )
    })?;
    let scope = state.store.tenant(tenant);
    let content = crate::files::resolve(&scope, conversation, message.content)
        .await
        .map_err(file_refusal)?;
    let message = NewMessage { content, ..message };
    let committed = scope.enqueue_message(conversation, message);
    Ok(async move {
        committed.await.map_err(|e| match e {
            StoreError::Rejected(rule) => Refused::new(
                StatusCode::CONFLICT,
                "conversation_ended",
                &rule.to_string(),
            ),
            StoreError::NotFound => {
                Refused::new(StatusCode::NOT_FOUND, "not_found", "no such conversation")
            }
            other => Refused::internal(other),
        })
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MessagesQuery {
    conversation_id: String,
    #[serde(default)]
    after: i64,
    #[serde(default)]
    wait_seconds: u64,
}

pub async fn messages(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<MessagesQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let result = async {
        let customer = customer(&state, &headers).await?;
        let query = query_of(query)?;
        if query.wait_seconds > MAX_WAIT_SECONDS {
            return Err(Refused::new(StatusCode::BAD_REQUEST, "invalid_field", "waitSeconds must be at most 30"));
        }
        let id = conversation_named(&state, &customer, &query.conversation_id).await?.id;
        let scope = state.store.tenant(customer.session.tenant);
        let watch = state.hub.watch(id);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(query.wait_seconds);
        let changes = watch.changes();
        let found = loop {
            let woken = watch.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            let found = scope.messages_after(id, query.after, PAGE).await.map_err(Refused::internal)?;
            // Answer what is new, a change of state, or nothing once the wait runs out;
            // a message the client has already seen wakes it for nothing.
            if !found.is_empty() || watch.changes() != changes {
                break found;
            }
            if tokio::time::timeout_at(deadline, woken).await.is_err() {
                break found;
            }
        };
        let conversation = own_conversation(&state, &customer, id).await?;
        Ok(Json(json!({"messages": found, "state": conversation.state, "lastSeq": conversation.last_seq})).into_response())
    }
    .await;
    respond(result, &headers)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CloseRequest {
    conversation_id: ConversationId,
}

pub async fn close(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let result = async {
        let customer = customer(&state, &headers).await?;
        let tenant = customer.session.tenant;
        let request: CloseRequest = parse(&body)?;
        let conversation = own_conversation(&state, &customer, request.conversation_id).await?;
        let closed = state
            .store
            .tenant(tenant)
            .set_conversation_state(
                conversation.id,
                // Leaving before an agent took the chat is abandoning it.
                if conversation.state == ConversationState::Queued {
                    ConversationState::Abandoned
                } else {
                    ConversationState::Closed
                },
                conversation.agent_id,
            )
            .await
            .map_err(Refused::internal)?;
        state.hub.changed(conversation.id);
        if let Some(agent) = conversation.agent_id {
            state.agent_hub.send(
                agent,
                &json!({"type": "customerLeft", "conversationId": conversation.id}),
            );
        }
        let left = Event::CustomerLeft {
            conversation: conversation.id,
        };
        state
            .routing
            .handle(tenant, left)
            .await
            .map_err(Refused::internal)?;
        Ok(Json(json!({"conversationId": closed.id, "state": closed.state})).into_response())
    }
    .await;
    respond(result, &headers)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct EvaluationRequest {
    conversation_id: ConversationId,
    rating: u8,
    #[serde(default)]
    comment: String,
}

/// `POST evaluation {conversationId, rating, comment}`: the customer rates the service,
/// during or after the chat, once an agent has answered; the last evaluation counts.
pub async fn evaluate(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let result = async {
        let customer = customer(&state, &headers).await?;
        let request: EvaluationRequest = parse(&body)?;
        let evaluation = Evaluation { rating: request.rating, comment: request.comment };
        evaluation.validate().map_err(|e| Refused::new(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", &e.to_string()))?;
        let conversation = own_conversation(&state, &customer, request.conversation_id).await?;
        state
            .store
            .tenant(customer.session.tenant)
            .evaluate(conversation.id, &evaluation)
            .await
            .map_err(|e| match e {
                StoreError::Rejected(rule) => Refused::new(StatusCode::CONFLICT, "evaluation_not_allowed", &rule.to_string()),
                other => Refused::internal(other),
            })?;
        Ok(Json(json!({"conversationId": conversation.id, "rating": evaluation.rating, "comment": evaluation.comment})).into_response())
    }
    .await;
    respond(result, &headers)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UploadQuery {
    conversation_id: String,
    #[serde(default)]
    name: String,
}

fn file_refusal(error: crate::files::FileError) -> Refused {
    match error {
        crate::files::FileError::Invalid(rule) => Refused::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            &rule.to_string(),
        ),
        crate::files::FileError::Store(other) => Refused::internal(other),
    }
}

/// `POST files?conversationId=…&name=…` with the file as the body: stores an image or a
/// document of the conversation and answers its id, to send as an `image` or `file`.
pub async fn upload(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<UploadQuery>, axum::extract::rejection::QueryRejection>,
    body: Bytes,
) -> Response {
    let result = async {
        let customer = customer(&state, &headers).await?;
        let query = query_of(query)?;
        let conversation = conversation_named(&state, &customer, &query.conversation_id).await?;
        let scope = state.store.tenant(customer.session.tenant);
        let stored = crate::files::upload(&scope, conversation.id, &query.name, &body)
            .await
            .map_err(file_refusal)?;
        Ok(Json(stored).into_response())
    }
    .await;
    respond(result, &headers)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DownloadQuery {
    conversation_id: String,
}

/// `GET files/{fileId}?conversationId=…`: a file of the customer's conversation.
pub async fn download(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::extract::Path(file_id): axum::extract::Path<String>,
    query: Result<Query<DownloadQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let result = async {
        let customer = customer(&state, &headers).await?;
        let query = query_of(query)?;
        let conversation = conversation_named(&state, &customer, &query.conversation_id).await?;
        let not_found = || Refused::new(StatusCode::NOT_FOUND, "not_found", "no such file");
        let (file, content) = state
            .store
            .tenant(customer.session.tenant)
            .file(conversation.id, &file_id)
            .await
            .map_err(|_| not_found())?;
        Ok(crate::files::download(&file, content))
    }
    .await;
    respond(result, &headers)
}
