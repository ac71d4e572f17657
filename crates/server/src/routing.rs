//! Runs each tenant's [`Router`]: feeds it events, then carries out its actions — the
//! conversation's new state in the store, a system message to the customer, an event to
//! the agent, timers. The router itself is a synchronous state machine held under a lock
//! that is never kept across an await.
//!
//! A tenant's router is built on first use from the store: its skill queues and the
//! conversations waiting in them, in arrival order. Agents sign in again after a restart.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::json;
use switchboard_domain::conversation::{Content, ConversationState, NewMessage, Sender};
use switchboard_domain::paging::PageRequest;
use switchboard_domain::tenant::Locale;
use switchboard_domain::{ConversationId, QueueId, TenantId};
use switchboard_routing::{Action, Event, QueueSettings, Router, Timer};
use switchboard_store::{QueueFilter, Store, StoreError};
use tokio::task::AbortHandle;

use crate::agent_hub::AgentHub;
use crate::hub::ConversationHub;

pub struct RoutingService {
    store: Arc<Store>,
    conversations: Arc<ConversationHub>,
    agents: Arc<AgentHub>,
    routers: Mutex<HashMap<TenantId, Router>>,
    timers: Mutex<HashMap<(TenantId, Timer), AbortHandle>>,
}

impl RoutingService {
    pub fn new(
        store: Arc<Store>,
        conversations: Arc<ConversationHub>,
        agents: Arc<AgentHub>,
    ) -> Self {
        Self {
            store,
            conversations,
            agents,
            routers: Mutex::default(),
            timers: Mutex::default(),
        }
    }

    /// Hands an event to the tenant's router and carries out what it decides.
    pub async fn handle(
        self: &Arc<Self>,
        tenant: TenantId,
        event: Event,
    ) -> Result<(), StoreError> {
        self.ensure_router(tenant).await?;
        let now = switchboard_store::ids::now_millis();
        let actions = {
            let mut routers = self.lock_routers();
            match routers.get_mut(&tenant) {
                Some(router) => router.handle(event, now),
                None => Vec::new(),
            }
        };
        self.apply(tenant, actions).await
    }

    async fn ensure_router(&self, tenant: TenantId) -> Result<(), StoreError> {
        if self.lock_routers().contains_key(&tenant) {
            return Ok(());
        }
        let scope = self.store.tenant(tenant);
        let mut router = Router::default();
        let mut page = PageRequest {
            page: 1,
            page_size: 500,
        };
        loop {
            let queues = scope.list_queues(page, &QueueFilter::default()).await?;
            for queue in &queues.items {
                let settings = QueueSettings {
                    wrap_up_ms: i64::from(queue.config.wrap_up_seconds) * 1000,
                };
                router.handle(
                    Event::QueueConfigured {
                        queue: queue.id,
                        settings,
                    },
                    0,
                );
            }
            if i64::from(page.page * page.page_size) >= queues.total {
                break;
            }
            page.page += 1;
        }
        for waiting in scope.queued_conversations().await? {
            let queue = self.queue_of(tenant, waiting.id).await?;
            router.handle(
                Event::ConversationArrived {
                    conversation: waiting.id,
                    queue,
                },
                0,
            );
        }
        self.lock_routers().entry(tenant).or_insert(router);
        Ok(())
    }

    /// The skill queue a conversation's channel routes to.
    pub async fn queue_of(
        &self,
        tenant: TenantId,
        conversation: ConversationId,
    ) -> Result<QueueId, StoreError> {
        let scope = self.store.tenant(tenant);
        let channel = scope.conversation(conversation).await?.channel_id;
        let route = scope.channel(channel).await?.config.called_route_id;
        Ok(scope.route(route).await?.config.skill_queue_id)
    }

    /// How many conversations wait in each of `queues`.
    pub async fn waiting(
        &self,
        tenant: TenantId,
        queues: &[QueueId],
    ) -> Result<Vec<usize>, StoreError> {
        self.ensure_router(tenant).await?;
        let routers = self.lock_routers();
        let router = routers.get(&tenant);
        Ok(queues
            .iter()
            .map(|q| router.map_or(0, |r| r.waiting(*q)))
            .collect())
    }

    /// A queue's settings changed (or it was created): the router learns them.
    pub async fn queue_configured(
        self: &Arc<Self>,
        tenant: TenantId,
        queue: QueueId,
        wrap_up_seconds: u32,
    ) -> Result<(), StoreError> {
        let settings = QueueSettings {
            wrap_up_ms: i64::from(wrap_up_seconds) * 1000,
        };
        self.handle(tenant, Event::QueueConfigured { queue, settings })
            .await
    }

    async fn apply(
        self: &Arc<Self>,
        tenant: TenantId,
        actions: Vec<Action>,
    ) -> Result<(), StoreError> {
        let scope = self.store.tenant(tenant);
        // Only the notices to customers need the tenant's language: most events have none.
        let speaks = actions
            .iter()
            .any(|a| matches!(a, Action::Enqueued { .. } | Action::Assigned { .. }));
        let locale = if speaks {
            scope.tenant().await?.settings.locale
        } else {
            Locale::En
        };
        for action in actions {
            match action {
                Action::Enqueued {
                    conversation,
                    position,
                    ..
                } => {
                    scope
                        .set_conversation_state(conversation, ConversationState::Queued, None)
                        .await?;
                    let text = match locale {
                        Locale::Zh => format!("您当前排在第 {position} 位，请稍候。"),
                        Locale::En => format!("You are number {position} in the queue. An agent will be with you shortly."),
                    };
                    self.system_message(tenant, conversation, text).await?;
                }
                Action::Assigned {
                    conversation,
                    agent,
                    ..
                } => {
                    let assigned = scope
                        .set_conversation_state(
                            conversation,
                            ConversationState::Assigned,
                            Some(agent),
                        )
                        .await?;
                    let name = scope
                        .employee(agent)
                        .await
                        .map(|e| e.config.name)
                        .unwrap_or_default();
                    let text = match locale {
                        Locale::Zh => format!("客服 {name} 已接入，为您服务。"),
                        Locale::En => format!("You are connected to {name}."),
                    };
                    self.system_message(tenant, conversation, text).await?;
                    self.agents
                        .send(agent, json!({"type": "assigned", "conversation": assigned}));
                }
                Action::Requeued { conversation, .. } => {
                    scope
                        .set_conversation_state(conversation, ConversationState::Queued, None)
                        .await?;
                }
                Action::WrapUpStarted {
                    agent,
                    conversation,
                } => {
                    self.agents.send(
                        agent,
                        json!({"type": "wrapUpStarted", "conversationId": conversation}),
                    );
                }
                Action::WrapUpEnded {
                    agent,
                    conversation,
                } => {
                    let current = scope.conversation(conversation).await?;
                    if current.state == ConversationState::WrapUp {
                        scope
                            .set_conversation_state(
                                conversation,
                                ConversationState::Closed,
                                Some(agent),
                            )
                            .await?;
                        self.conversations.notify(conversation);
                    }
                    self.agents.send(
                        agent,
                        json!({"type": "wrapUpEnded", "conversationId": conversation}),
                    );
                }
                Action::StartTimer { timer, at } => self.start_timer(tenant, timer, at),
                Action::CancelTimer { timer } => {
                    if let Some(handle) = self.lock_timers().remove(&(tenant, timer)) {
                        handle.abort();
                    }
                }
            }
        }
        Ok(())
    }

    fn start_timer(self: &Arc<Self>, tenant: TenantId, timer: Timer, at: i64) {
        let service = Arc::clone(self);
        let delay = u64::try_from(at - switchboard_store::ids::now_millis()).unwrap_or(0);
        let task = tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
            service.lock_timers().remove(&(tenant, timer));
            if let Err(e) = service.handle(tenant, Event::TimerFired { timer }).await {
                tracing::error!(tenant.id = %tenant, error = %e, "a routing timer failed");
            }
        });
        self.lock_timers()
            .insert((tenant, timer), task.abort_handle());
    }

    async fn system_message(
        &self,
        tenant: TenantId,
        conversation: ConversationId,
        text: String,
    ) -> Result<(), StoreError> {
        let message = NewMessage {
            sender: Sender::System,
            client_message_id: format!("system-{:016x}", rand::random::<u64>()),
            content: Content::Text { text },
        };
        self.store
            .tenant(tenant)
            .append_message(conversation, &message)
            .await?;
        self.conversations.notify(conversation);
        Ok(())
    }

    fn lock_routers(&self) -> std::sync::MutexGuard<'_, HashMap<TenantId, Router>> {
        self.routers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn lock_timers(&self) -> std::sync::MutexGuard<'_, HashMap<(TenantId, Timer), AbortHandle>> {
        self.timers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
