//! Runs each tenant's [`Router`] in a task of its own: events come in through a channel,
//! are decided in order, and the decisions are written to the store (the conversation's
//! place and the contact record, in one transaction) before the caller hears back; then
//! customers and agents are told. Timers run on the task's [`Clock`].
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
use switchboard_domain::{QueueId, TenantId};
use switchboard_routing::{Action, Event, Waiting};
use switchboard_store::{Opening, Store, StoreError};
use tokio::sync::{mpsc, oneshot};

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
    tenants: Mutex<HashMap<TenantId, mpsc::UnboundedSender<Command>>>,
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

    /// An event nobody waits on the outcome of (configuration, messages, connections),
    /// in order with the others, for a tenant whose router is running: one that is not
    /// reads the configuration when it starts, and holds no conversation or agent yet.
    pub fn tell(&self, tenant: TenantId, event: Event) {
        if let Some(sender) = self.lock().get(&tenant) {
            let (done, _) = oneshot::channel();
            let _ = sender.send(Command::Event {
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
        if let Some(sender) = self.lock().get(&tenant) {
            let _ = sender.send(Command::Locale(settings.locale));
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
        let sender = self.task(tenant).await?;
        sender.send(command).map_err(|_| stopped())
    }

    /// The tenant's routing task, started (and restored from the store) if need be.
    async fn task(&self, tenant: TenantId) -> Result<mpsc::UnboundedSender<Command>, ApiError> {
        if let Some(sender) = self.lock().get(&tenant).filter(|s| !s.is_closed()) {
            return Ok(sender.clone());
        }
        let (routing, restored) = TenantRouting::load(self.shared.clone(), tenant).await?;
        let mut tenants = self.lock();
        if let Some(sender) = tenants.get(&tenant).filter(|s| !s.is_closed()) {
            // Another request started it meanwhile; this restoration is not needed.
            return Ok(sender.clone());
        }
        let (sender, commands) = mpsc::unbounded_channel();
        tokio::spawn(routing.run(restored, commands));
        tenants.insert(tenant, sender.clone());
        Ok(sender)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<TenantId, mpsc::UnboundedSender<Command>>> {
        self.tenants
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn stopped() -> ApiError {
    ApiError::Internal("the tenant's routing task stopped".into())
}
