//! `switchboard-relay`: the load generator's baseline. It answers the same requests and
//! frames as Switchboard on the paths the generator uses — loader, conversation, widget
//! socket, agent events, sign-in, replies — but only forwards: no storage, no routing
//! (conversations go to agents in turn), no authentication. What it sustains on a
//! machine is the most that machine gives this protocol over loopback with the same
//! HTTP and WebSocket stack, so Switchboard's figures can be read as a share of it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::ws::{Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::http::header::SET_COOKIE;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::sync::mpsc;

/// The allocator Switchboard's binary uses: a baseline on the same stack.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

type Outbox = mpsc::UnboundedSender<String>;

#[derive(Default)]
struct Relay {
    next_id: AtomicU64,
    next_agent: AtomicUsize,
    agents: Mutex<Vec<Outbox>>,
    /// Each conversation's customer socket and agent.
    conversations: Mutex<HashMap<String, Conversation>>,
}

#[derive(Default)]
struct Conversation {
    customer: Option<Outbox>,
    agent: Option<Outbox>,
    last_seq: i64,
}

impl Relay {
    fn with<T>(&self, id: &str, f: impl FnOnce(&mut Conversation) -> T) -> T {
        let mut conversations = self
            .conversations
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        f(conversations.entry(id.to_owned()).or_default())
    }

    /// Numbers a message as the conversation's next and builds its frame.
    fn message(
        &self,
        id: &str,
        sender: Value,
        client_message_id: &Value,
        content: &Value,
    ) -> (i64, String, Option<Outbox>, Option<Outbox>) {
        let (seq, customer, agent) = self.with(id, |c| {
            c.last_seq += 1;
            (c.last_seq, c.customer.clone(), c.agent.clone())
        });
        let message = json!({"conversationId": id, "seq": seq, "sender": sender,
            "clientMessageId": client_message_id, "content": content});
        let frame = json!({"type": "message", "message": message}).to_string();
        (seq, frame, customer, agent)
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let listen = std::env::args()
        .skip_while(|a| a != "--listen")
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".into());
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    let relay = Arc::new(Relay::default());
    let app = Router::new()
        .route(
            "/service-cloud/webclient/chat_client/js/newThirdPartyClient.js",
            post(loader),
        )
        .route("/service-cloud/webchat/v1/conversation", post(open))
        .route("/service-cloud/webchat/v1/socket", get(customer_socket))
        .route("/api/v1/agent/events", get(agent_socket))
        .route("/api/v1/agent/sign-in", post(sign_in))
        .route("/api/v1/agent/conversations/{id}/messages", post(reply))
        .with_state(relay);
    println!("relay listening on http://{}", listener.local_addr()?);
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, app).await
}

async fn loader(State(relay): State<Arc<Relay>>) -> Response {
    let token = relay.next_id.fetch_add(1, Ordering::Relaxed);
    (
        [(
            SET_COOKIE,
            format!("ccmessaging-token={token}; Path=/; HttpOnly"),
        )],
        "loaded",
    )
        .into_response()
}

async fn open(State(relay): State<Arc<Relay>>) -> Json<Value> {
    let id = relay.next_id.fetch_add(1, Ordering::Relaxed).to_string();
    let agent = {
        let agents = relay
            .agents
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        (!agents.is_empty()).then(|| {
            agents[relay.next_agent.fetch_add(1, Ordering::Relaxed) % agents.len()].clone()
        })
    };
    if let Some(agent) = &agent {
        let _ = agent.send(
            json!({"type": "assigned", "conversation": {"id": id, "state": "assigned"}})
                .to_string(),
        );
    }
    relay.with(&id, |c| c.agent = agent);
    Json(json!({"conversationId": id, "state": "assigned", "lastSeq": 0}))
}

async fn sign_in() -> Json<Value> {
    Json(json!({"status": "idle"}))
}

async fn customer_socket(
    State(relay): State<Arc<Relay>>,
    Query(query): Query<HashMap<String, String>>,
    upgrade: WebSocketUpgrade,
) -> Response {
    let id = query.get("conversationId").cloned().unwrap_or_default();
    upgrade.on_upgrade(move |socket| async move {
        let (outbox, inbox) = mpsc::unbounded_channel();
        relay.with(&id, |c| c.customer = Some(outbox.clone()));
        pump(socket, inbox, |text| {
            let Ok(frame) = serde_json::from_str::<Value>(&text) else { return };
            let client_id = &frame["clientMessageId"];
            let (seq, message, _, agent) = relay.message(&id, json!({"kind": "customer"}), client_id, &frame["content"]);
            let _ = outbox.send(json!({"type": "ack", "clientMessageId": client_id, "seq": seq, "duplicate": false}).to_string());
            let _ = outbox.send(message.clone());
            if let Some(agent) = agent {
                let _ = agent.send(message);
            }
        })
        .await;
    })
}

async fn agent_socket(State(relay): State<Arc<Relay>>, upgrade: WebSocketUpgrade) -> Response {
    upgrade.on_upgrade(move |socket| async move {
        let (outbox, inbox) = mpsc::unbounded_channel();
        relay
            .agents
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(outbox.clone());
        pump(socket, inbox, |text| {
            let Ok(frame) = serde_json::from_str::<Value>(&text) else { return };
            let (Some(id), client_id) = (frame["conversationId"].as_str(), &frame["clientMessageId"]) else { return };
            let (seq, message, customer, _) = relay.message(id, json!({"kind": "agent"}), client_id, &frame["content"]);
            let _ = outbox.send(json!({"type": "ack", "conversationId": id, "clientMessageId": client_id, "seq": seq, "duplicate": false}).to_string());
            if let Some(customer) = customer {
                let _ = customer.send(message);
            }
        })
        .await;
    })
}

async fn reply(
    State(relay): State<Arc<Relay>>,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> Json<Value> {
    let (seq, frame, customer, _) = relay.message(
        &id,
        json!({"kind": "agent"}),
        &body["clientMessageId"],
        &body["content"],
    );
    if let Some(customer) = customer {
        let _ = customer.send(frame.clone());
    }
    let message: Value = serde_json::from_str(&frame).unwrap_or_default();
    Json(json!({"seq": seq, "duplicate": false, "message": message["message"]}))
}

/// Writes what the outbox gets to the socket and hands each text frame read to `received`.
async fn pump(
    socket: WebSocket,
    mut outbox: mpsc::UnboundedReceiver<String>,
    mut received: impl FnMut(String),
) {
    let (mut sink, mut stream) = socket.split();
    loop {
        tokio::select! {
            outgoing = outbox.recv() => match outgoing {
                Some(text) => if sink.send(WsMessage::Text(text.into())).await.is_err() { return },
                None => return,
            },
            incoming = stream.next() => match incoming {
                Some(Ok(WsMessage::Text(text))) => received(text.to_string()),
                Some(Ok(WsMessage::Close(_)) | Err(_)) | None => return,
                Some(Ok(_)) => {}
            },
        }
    }
}
