//! Runs each tenant's [`Router`] in a task of its own: events come in through a channel,
//! are decided in order, and the decisions are written to the store (the conversation's
//! place and the contact record, in one transaction) before the caller hears back; then
//! customers and agents are told. Timers run on the task's [`Clock`]. The messages
//! stored, which only move timers, are folded per conversation beside the channel and
//! decided before the next command.
//!
//! A tenant's task starts on first use, or at start-up for tenants with conversations in
//! routing: it learns the configuration and restores waiting conversations in their
//! stored order and assigned ones with their agents, who have the reconnect grace period
//! to sign in again.

mod actor;
pub mod clock;
mod notices;
pub mod settings;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use switchboard_domain::channel::Channel;
use switchboard_domain::tenant::TenantSettings;
use switchboard_domain::ConversationId;
use switchboard_domain::{QueueId, TenantId};
use switchboard_routing::{Action, Event, MessagesHeard, Waiting, Writer};
use switchboard_store::{Opening, Store, StoreError};
use tokio::sync::{mpsc, oneshot, Notify};

use crate::agent_hub::AgentHub;
use crate::error::ApiError;
use crate::hub::ConversationHub;
pub use actor::refusal_reason;
use actor::{Command, TenantRouting};
pub use clock::{Clock, ManualClock, SystemClock};

/// What the tenants' routing tasks share.
pub struct Shared {
    pub store: Arc<Store>,
    pub conversations: Arc<ConversationHub>,
    pub agents: Arc<AgentHub>,
    pub clock: Arc<dyn Clock>,
    pub reconnect_grace_ms: i64,
}

pub struct RoutingService {
    shared: Arc<Shared>,
    tenants: Mutex<HashMap<TenantId, TenantTask>>,
}

/// The ways into a tenant's routing task.
#[derive(Clone)]
struct TenantTask {
    commands: mpsc::UnboundedSender<Command>,
    heard: Arc<Heard>,
}

/// The tenant's messages stored since its routing task last looked, folded. They do not
/// go through the command queue: under load one command per message would put every
/// arrival behind thousands of them, each burst of which ends with a commit.
#[derive(Default)]
struct Heard {
    messages: Mutex<MessagesHeard>,
    ready: Notify,
}

impl Heard {
    fn hear(&self, conversation: ConversationId, writer: Writer) {
        let was_empty = {
            let mut messages = lock(&self.messages);
            let was_empty = messages.is_empty();
            messages.hear(conversation, writer);
            was_empty
        };
        // Emptied only by the task, under the lock: it is woken once per taking.
        if was_empty {
            self.ready.notify_one();
        }
    }

    fn take_events(&self) -> Vec<Event> {
        lock(&self.messages).take_events()
    }
}

impl RoutingService {
    pub fn new(shared: Shared) -> Self {
        Self {
            shared: Arc::new(shared),
            tenants: Mutex::default(),
        }
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.shared.clock
    }

    /// Starts the routing of every tenant that has conversations in routing.
    pub async fn recover(&self) -> Result<(), ApiError> {
        for tenant in self
            .shared
            .store
            .platform()
            .tenants_with_routed_conversations()
            .await?
        {
            self.task(tenant).await?;
        }
        Ok(())
    }

    /// Hands an event to the tenant's router; answers its decisions once they are stored.
    pub async fn handle(&self, tenant: TenantId, event: Event) -> Result<Vec<Action>, ApiError> {
        self.decide(tenant, event, None).await
    }

    /// Starts the conversation of `opening` and hands routing its arrival; answers
    /// routing's decisions once the conversation and they are stored, together.
    pub async fn open(
        &self,
        tenant: TenantId,
        opening: Opening,
        arrived: Event,
    ) -> Result<Vec<Action>, ApiError> {
        self.decide(tenant, arrived, Some(opening)).await
    }

    async fn decide(
        &self,
        tenant: TenantId,
        event: Event,
        opening: Option<Opening>,
    ) -> Result<Vec<Action>, ApiError> {
        let (done, answer) = oneshot::channel();
        self.send(
            tenant,
            Command::Event {
                event: Box::new(event),
                opening,
                done,
            },
        )
        .await?;
        answer
            .await
            .map_err(|_| stopped())?
            .map_err(|e| ApiError::Internal(e.to_string()))
    }

    /// An event nobody waits on the outcome of (configuration, connections), in order
    /// with the others, for a tenant whose router is running: one that is not reads the
    /// configuration when it starts, and holds no conversation or agent yet.
    pub fn tell(&self, tenant: TenantId, event: Event) {
        if let Some(task) = self.lock().get(&tenant) {
            let (done, _) = oneshot::channel();
            let _ = task.commands.send(Command::Event {
                event: Box::new(event),
                opening: None,
                done,
            });
        }
    }

    pub fn tenant_configured(&self, tenant: TenantId, settings: &TenantSettings) {
        self.tell(
            tenant,
            Event::CalendarConfigured {
                calendar: settings.calendar(),
            },
        );
        if let Some(task) = self.lock().get(&tenant) {
            let _ = task.commands.send(Command::Locale(settings.locale));
        }
    }

    /// A message of `conversation` was stored (routing times silences from them), for a
    /// tenant whose router is running: one that is not holds no conversation yet.
    pub fn heard(&self, tenant: TenantId, conversation: ConversationId, writer: Writer) {
        if let Some(task) = self.lock().get(&tenant) {
            task.heard.hear(conversation, writer);
        }
    }

    /// The conversations waiting in each of `queues`, first in line first.
    pub async fn waiting(
        &self,
        tenant: TenantId,
        queues: Vec<QueueId>,
    ) -> Result<Vec<Vec<Waiting>>, ApiError> {
        let (reply, answer) = oneshot::channel();
        self.send(tenant, Command::Waiting { queues, reply })
            .await?;
        answer.await.map_err(|_| stopped())
    }

    /// The skill queue `channel` routes to.
    pub async fn queue_of(
        &self,
        tenant: TenantId,
        channel: &Channel,
    ) -> Result<QueueId, StoreError> {
        actor::queue_of_channel(&self.shared.store, tenant, channel).await
    }

    async fn send(&self, tenant: TenantId, command: Command) -> Result<(), ApiError> {
        let task = self.task(tenant).await?;
        task.commands.send(command).map_err(|_| stopped())
    }

    /// The tenant's routing task, started (and restored from the store) if need be.
    async fn task(&self, tenant: TenantId) -> Result<TenantTask, ApiError> {
        let running = |task: &&TenantTask| !task.commands.is_closed();
        if let Some(task) = self.lock().get(&tenant).filter(running) {
            return Ok(task.clone());
        }
        let heard = Arc::<Heard>::default();
        let (routing, restored) =
            TenantRouting::load(self.shared.clone(), tenant, heard.clone()).await?;
        let mut tenants = self.lock();
        if let Some(task) = tenants.get(&tenant).filter(running) {
            // Another request started it meanwhile; this restoration is not needed.
            return Ok(task.clone());
        }
        let (commands, received) = mpsc::unbounded_channel();
        tokio::spawn(routing.run(restored, received));
        let task = TenantTask { commands, heard };
        tenants.insert(tenant, task.clone());
        Ok(task)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<TenantId, TenantTask>> {
        lock(&self.tenants)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn stopped() -> ApiError {
    ApiError::Internal("the tenant's routing task stopped".into())
}
