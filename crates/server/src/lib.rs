//! Switchboard's HTTP server: the REST API under `/api/v1` with its OpenAPI document,
//! authentication, health checks and background work (channel exports).

mod agent_hub;
pub mod api;
pub mod auth;
pub mod bootstrap;
mod conversations;
mod error;
mod exports;
mod files;
mod hub;
mod json;
pub mod platforms;
mod router;
mod routing;
mod web;
pub mod webchat;

use std::net::SocketAddr;
use std::sync::{Arc, Weak};
use std::time::Duration;

use switchboard_domain::conversation::Sender;
use switchboard_routing::Writer;
use switchboard_store::Store;
use tokio::net::TcpListener;

pub use error::{ApiError, ApiResult};
pub use exports::Exporter;
pub use router::{openapi, router};
pub use routing::{Clock, ManualClock, SystemClock};

pub const DEFAULT_CONTEXT_PATH: &str = "/service-cloud";

/// Settings of the HTTP side; see `docs/configuration.md`.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Mark the session cookie `Secure` (set when Switchboard is served over HTTPS).
    pub cookie_secure: bool,
    /// How long a sign-in lasts.
    pub session_ttl: Duration,
    /// Where the web chat's compatibility routes live, as the enterprise's pages address
    /// them (`$ContextPath`): `/service-cloud` by default.
    pub context_path: String,
    /// How long an agent whose connection dropped keeps its conversations.
    pub reconnect_grace: Duration,
    /// Where platforms reach this server (`https://cc.example.com`), for the webhook URLs
    /// it registers.
    pub public_url: Option<String>,
    /// The messaging platforms' API base URLs.
    pub platform_endpoints: switchboard_channels::Endpoints,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            cookie_secure: false,
            session_ttl: Duration::from_secs(12 * 3600),
            context_path: DEFAULT_CONTEXT_PATH.into(),
            reconnect_grace: Duration::from_secs(60),
            public_url: None,
            platform_endpoints: switchboard_channels::Endpoints::default(),
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<Store>,
    pub config: Arc<ServerConfig>,
    pub throttle: Arc<auth::throttle::LoginThrottle>,
    pub exporter: Exporter,
    pub hub: Arc<hub::ConversationHub>,
    pub agent_hub: Arc<agent_hub::AgentHub>,
    pub routing: Arc<routing::RoutingService>,
    pub token_validator: Arc<webchat::validation::TokenValidator>,
    pub platforms: Arc<platforms::PlatformLink>,
}

impl AppState {
    pub fn new(store: Arc<Store>, config: ServerConfig) -> Self {
        Self::with_clock(store, config, Arc::new(SystemClock))
    }

    /// A server whose routing timers run on `clock` (tests use a [`ManualClock`]).
    pub fn with_clock(store: Arc<Store>, config: ServerConfig, clock: Arc<dyn Clock>) -> Self {
        let hub = Arc::new(hub::ConversationHub::default());
        let agent_hub = Arc::new(agent_hub::AgentHub::default());
        let shared = routing::Shared {
            store: store.clone(),
            conversations: hub.clone(),
            agents: agent_hub.clone(),
            clock,
            reconnect_grace_ms: i64::try_from(config.reconnect_grace.as_millis())
                .unwrap_or(i64::MAX),
        };
        let routing = Arc::new(routing::RoutingService::new(shared));
        let platforms = platforms::default_link(&config);
        store.listen_to_messages(announcer(
            hub.clone(),
            agent_hub.clone(),
            Arc::downgrade(&routing),
            Arc::downgrade(&platforms),
        ));
        Self {
            exporter: Exporter::new(store.clone()),
            routing,
            store,
            config: Arc::new(config),
            throttle: Arc::default(),
            hub,
            agent_hub,
            token_validator: Arc::default(),
            platforms,
        }
    }
}

/// Sizes a chat socket's buffers for chat frames. The defaults (128 KiB to read into,
/// zeroed for every read) cost more time than the frames themselves and, held by tens of
/// thousands of mostly idle sockets, most of the server's memory.
///
/// Frames are written out when the socket is flushed (or this much waits): the frames
/// ready at one moment (a message and the ack of the send that stored it, the messages
/// of one batch) go out in one write instead of a system call and a TCP segment each.
pub(crate) fn chat_socket(
    upgrade: axum::extract::WebSocketUpgrade,
) -> axum::extract::WebSocketUpgrade {
    const READ_BUFFER: usize = 4 * 1024;
    const WRITE_BUFFER: usize = 8 * 1024;
    // A text message is at most 5,000 characters: with its JSON, well under this.
    const LARGEST_FRAME: usize = 64 * 1024;
    upgrade
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .max_message_size(LARGEST_FRAME)
        .max_frame_size(LARGEST_FRAME)
}

/// The answer to a frame a chat socket received: ready once what it sent is committed.
pub(crate) type PendingAnswer = std::pin::Pin<Box<dyn std::future::Future<Output = String> + Send>>;

/// Writes a text frame to go out with the socket's next flush.
pub(crate) async fn feed_text(
    socket: &mut axum::extract::ws::WebSocket,
    text: String,
) -> Result<(), axum::Error> {
    use futures_util::SinkExt;
    socket
        .feed(axum::extract::ws::Message::Text(text.into()))
        .await
}

/// Writes, in order, the answers that are ready already, up to the first still waiting.
pub(crate) async fn feed_ready_answers(
    socket: &mut axum::extract::ws::WebSocket,
    answers: &mut futures_util::stream::FuturesOrdered<PendingAnswer>,
) -> Result<(), axum::Error> {
    use futures_util::{FutureExt, StreamExt};
    while !answers.is_empty() {
        let Some(Some(answer)) = answers.next().now_or_never() else {
            break;
        };
        feed_text(socket, answer).await?;
    }
    Ok(())
}

/// A message as a socket's frame: what an agent's desktop hears of a customer's message,
/// and a widget of every message of its conversation.
#[derive(serde::Serialize)]
#[serde(tag = "type", rename = "message")]
pub(crate) struct MessageEvent<'a> {
    message: &'a switchboard_domain::conversation::Message,
}

/// Announces each committed message: to the conversation's watchers, to its agent when
/// the customer wrote, to routing (which times silences from them), and to the outbox
/// when a platform customer is to read it. Done by the store's writer, so a request cut
/// off after the commit cannot skip it. Routing and the platforms are held weakly: they
/// hold the store, which holds this.
fn announcer(
    hub: Arc<hub::ConversationHub>,
    agent_hub: Arc<agent_hub::AgentHub>,
    routing: Weak<routing::RoutingService>,
    platforms: Weak<platforms::PlatformLink>,
) -> switchboard_store::MessageListener {
    Arc::new(move |stored: switchboard_store::StoredMessage<'_>| {
        let message = stored.message;
        let conversation = message.conversation_id;
        hub.publish(message);
        if stored.queued_for_platform {
            if let Some(platforms) = platforms.upgrade() {
                platforms.outbox.notify_one();
            }
        }
        let writer = match message.sender {
            Sender::Customer => {
                if let Some(agent) = stored.agent {
                    agent_hub.send(agent, &MessageEvent { message });
                }
                Writer::Customer
            }
            Sender::Agent { .. } => Writer::Agent,
            Sender::Bot | Sender::System => return,
        };
        if let Some(routing) = routing.upgrade() {
            routing.heard(stored.tenant, conversation, writer);
        }
    })
}

/// Serves until `shutdown` completes, then lets requests in flight finish. Resumes the
/// export tasks a previous run left unfinished, runs the platforms' inbox and outbox
/// workers, and purges expired sessions and old platform message ids hourly.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    state.exporter.resume_unfinished().await;
    if let Err(e) = state.routing.recover().await {
        tracing::error!(error = %e, "restoring routing failed; tenants restore on first use");
    }
    let purger = tokio::spawn(purge_expired(state.store.clone()));
    let workers = platforms::Workers::start(&state);
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    // Chat frames are small and answered at once: Nagle's algorithm would hold them back
    // for the peer's delayed acknowledgement (tens of milliseconds).
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::warn!(error = %e, "could not turn off Nagle's algorithm on a connection");
        }
    });
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    purger.abort();
    workers.stop().await;
    served
}

/// How long a platform message's id is remembered once it is in its conversation.
const INBOX_MEMORY: Duration = Duration::from_secs(14 * 24 * 3600);

async fn purge_expired(store: Arc<Store>) {
    let mut every_hour = tokio::time::interval(Duration::from_secs(3600));
    loop {
        every_hour.tick().await;
        let now = switchboard_store::ids::now_millis();
        if let Err(e) = store.platform().purge_expired_sessions(now).await {
            tracing::warn!(error = %e, "purging expired sessions failed");
        }
        // Platforms stop retrying a delivery within days (WhatsApp: 7).
        let forget_before = now - INBOX_MEMORY.as_millis() as i64;
        if let Err(e) = store
            .platform()
            .purge_processed_inbound(forget_before)
            .await
        {
            tracing::warn!(error = %e, "purging the platform inbox failed");
        }
    }
}
