//! The widget's WebSocket, `GET {ctx}/webchat/v1/socket?conversationId=…&after=N`: the
//! same conversation as the HTTP protocol, without a request per message. Authenticated
//! once, by the cookie and the page's origin, when it opens.
//!
//! Server frames: `message` (every message after `after`, then each new one, in order),
//! `state` (the conversation's state, at first and whenever it changes), `ack` (a sent
//! message is committed) and `error` (a frame was refused). Client frames: `send`, with
//! a client message id and content as in `POST messages`; acks come in the order of the
//! sends, and a client need not wait for one before sending the next. The server pings every 30 seconds and closes a socket it has not heard from in
//! 90.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use futures_util::stream::FuturesOrdered;
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::json;
use switchboard_domain::conversation::{Content, Message};
use switchboard_domain::{ConversationId, TenantId};
use tokio::time::Instant;

use super::protocol::{
    conversation_named, customer, query_of, respond, submit_customer_message, PAGE,
};
use super::Refused;
use crate::hub::Watch;
use crate::{feed_ready_answers, feed_text, AppState, MessageEvent, PendingAnswer};

const PING_EVERY: Duration = Duration::from_secs(30);
const SILENCE_LIMIT: Duration = Duration::from_secs(90);

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SocketQuery {
    conversation_id: String,
    #[serde(default)]
    after: i64,
}

pub async fn open(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<SocketQuery>, axum::extract::rejection::QueryRejection>,
    upgrade: WebSocketUpgrade,
) -> Response {
    let result = async {
        let customer = customer(&state, &headers).await?;
        let query = query_of(query)?;
        let conversation = conversation_named(&state, &customer, &query.conversation_id).await?;
        let tenant = customer.session.tenant;
        let watch = state.hub.watch(conversation.id);
        let stream = Stream {
            state,
            tenant,
            conversation: conversation.id,
            watch,
            sent: query.after,
            caught_up: false,
            changes_seen: None,
        };
        Ok(crate::chat_socket(upgrade).on_upgrade(move |socket| stream.run(socket)))
    }
    .await;
    respond(result, &headers)
}

/// What one socket has forwarded so far.
struct Stream {
    state: AppState,
    tenant: TenantId,
    conversation: ConversationId,
    watch: Arc<Watch>,
    /// The sequence number of the last message forwarded.
    sent: i64,
    /// Whether what was stored before the socket opened has been forwarded.
    caught_up: bool,
    changes_seen: Option<u64>,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "camelCase", deny_unknown_fields)]
enum ClientFrame {
    #[serde(rename_all = "camelCase")]
    Send {
        client_message_id: String,
        content: Content,
    },
}

/// The socket is gone or the store failed: the connection ends, the client reconnects.
struct Closed;

impl Stream {
    async fn run(mut self, mut socket: WebSocket) {
        let mut heartbeat = tokio::time::interval_at(Instant::now() + PING_EVERY, PING_EVERY);
        let mut last_heard = Instant::now();
        // Sends are read on while earlier ones commit; their answers go out in order.
        let mut acks = FuturesOrdered::<PendingAnswer>::new();
        loop {
            let watch = self.watch.clone();
            let woken = watch.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            if self.forward(&mut socket).await.is_err()
                || feed_ready_answers(&mut socket, &mut acks).await.is_err()
                || socket.flush().await.is_err()
            {
                return;
            }
            tokio::select! {
                () = &mut woken => {}
                _ = heartbeat.tick() => {
                    let silent = last_heard.elapsed() > SILENCE_LIMIT;
                    if silent || socket.send(WsMessage::Ping(Default::default())).await.is_err() {
                        return;
                    }
                }
                Some(answer) = acks.next(), if !acks.is_empty() => {
                    if feed(&mut socket, answer).await.is_err() {
                        return;
                    }
                }
                incoming = socket.recv() => {
                    last_heard = Instant::now();
                    match incoming {
                        Some(Ok(WsMessage::Text(text))) => acks.push_back(self.received(text.as_str()).await),
                        Some(Ok(WsMessage::Close(_)) | Err(_)) | None => return,
                        Some(Ok(_)) => {}
                    }
                }
            }
        }
    }

    /// Writes the messages and state the client has not seen yet; they go out with the
    /// next flush.
    async fn forward(&mut self, socket: &mut WebSocket) -> Result<(), Closed> {
        let published = if self.caught_up {
            self.watch.after(self.sent)
        } else {
            None
        };
        match published {
            Some(messages) => {
                for message in messages {
                    self.send_message(socket, &message).await?;
                }
            }
            None => loop {
                let page = self
                    .state
                    .store
                    .tenant(self.tenant)
                    .messages_after(self.conversation, self.sent, PAGE)
                    .await
                    .map_err(|e| stopped(&e))?;
                let complete = page.len() < usize::try_from(PAGE).unwrap_or(usize::MAX);
                for message in &page {
                    self.send_message(socket, message).await?;
                }
                if complete {
                    self.caught_up = true;
                    break;
                }
            },
        }
        let changes = self.watch.changes();
        if self.changes_seen != Some(changes) {
            self.changes_seen = Some(changes);
            let conversation = self
                .state
                .store
                .tenant(self.tenant)
                .conversation(self.conversation)
                .await
                .map_err(|e| stopped(&e))?;
            let frame = json!({"type": "state", "state": conversation.state, "lastSeq": conversation.last_seq});
            feed(socket, frame.to_string()).await?;
        }
        Ok(())
    }

    async fn send_message(
        &mut self,
        socket: &mut WebSocket,
        message: &Message,
    ) -> Result<(), Closed> {
        let frame = serde_json::to_string(&MessageEvent { message }).map_err(|error| {
            tracing::error!(%error, "a message could not be written as JSON");
            Closed
        })?;
        feed(socket, frame).await?;
        self.sent = message.seq;
        Ok(())
    }

    /// Hands a client frame on; the answer comes once the message is committed: an ack,
    /// or an error.
    async fn received(&self, text: &str) -> PendingAnswer {
        let frame = match serde_json::from_str::<ClientFrame>(text) {
            Ok(frame) => frame,
            Err(e) => return answered(error_frame(None, &Refused::malformed(&e))),
        };
        let ClientFrame::Send {
            client_message_id,
            content,
        } = frame;
        let submitted = submit_customer_message(
            &self.state,
            self.tenant,
            self.conversation,
            client_message_id.clone(),
            content,
        )
        .await;
        let committed = match submitted {
            Ok(committed) => committed,
            Err(refused) => return answered(error_frame(Some(&client_message_id), &refused)),
        };
        Box::pin(async move {
            match committed.await {
                Ok(appended) => json!({
                    "type": "ack",
                    "clientMessageId": client_message_id,
                    "seq": appended.message.seq,
                    "duplicate": appended.duplicate,
                })
                .to_string(),
                Err(refused) => error_frame(Some(&client_message_id), &refused),
            }
        })
    }
}

fn answered(text: String) -> PendingAnswer {
    Box::pin(std::future::ready(text))
}

fn error_frame(client_message_id: Option<&str>, refused: &Refused) -> String {
    json!({
        "type": "error",
        "clientMessageId": client_message_id,
        "code": refused.code,
        "message": refused.message,
    })
    .to_string()
}

/// Writes a frame to go out with the next flush.
async fn feed(socket: &mut WebSocket, text: String) -> Result<(), Closed> {
    feed_text(socket, text).await.map_err(|_| Closed)
}

fn stopped(error: &switchboard_store::StoreError) -> Closed {
    tracing::error!(%error, "a widget socket could not read the store");
    Closed
}
