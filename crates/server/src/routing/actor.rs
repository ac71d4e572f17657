//! One tenant's routing task: owns the [`Router`] and its timers, stores each decision
//! before answering, then tells customers and agents.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde_json::json;
use switchboard_domain::channel::Channel;
use switchboard_domain::conversation::{
    Content, Conversation, ConversationState, NewMessage, Sender,
};
use switchboard_domain::tenant::Locale;
use switchboard_domain::{ConversationId, EmployeeId, QueueId, TenantId};
use switchboard_routing::{
    Action, Deadlines, Event, Millis, OverflowReason, ReleaseReason, Restored, Router, Timer,
    TransferReason, TransferRefusal, Waiting,
};
use switchboard_store::{Opening, Placement, RoutingRecord, Store, StoreError};
use tokio::sync::{mpsc, oneshot};

use super::{notices, settings, Heard, Shared};

pub enum Command {
    Event {
        event: Box<Event>,
        /// The conversation the event is the arrival of, started with its decisions.
        opening: Option<Opening>,
        done: oneshot::Sender<Result<Vec<Action>, Arc<StoreError>>>,
    },
    Waiting {
        queues: Vec<QueueId>,
        reply: oneshot::Sender<Vec<Vec<Waiting>>>,
    },
    Locale(Locale),
}

/// Commands decided before their decisions are stored together.
const MAX_COMMANDS_AT_ONCE: usize = 256;

/// Decisions made but not stored yet, in order.
#[derive(Default)]
struct Decided {
    opened: Vec<Opening>,
    records: Vec<RoutingRecord>,
    actions: Vec<Action>,
}

pub struct TenantRouting {
    shared: Arc<Shared>,
    tenant: TenantId,
    router: Router,
    timers: Deadlines<Timer>,
    locale: Locale,
    names: HashMap<EmployeeId, String>,
    /// Notices handed to the store by the decisions being told.
    notices: Vec<PendingNotice>,
    /// Messages stored since the router last looked.
    heard: Arc<Heard>,
}

/// The skill queue a conversation's channel routes to.
pub async fn queue_of(
    store: &Store,
    tenant: TenantId,
    conversation: ConversationId,
) -> Result<QueueId, StoreError> {
    let scope = store.tenant(tenant);
    let channel = scope.conversation(conversation).await?.channel_id;
    queue_of_channel(store, tenant, &scope.channel(channel).await?).await
}

/// The skill queue `channel` routes to.
pub async fn queue_of_channel(
    store: &Store,
    tenant: TenantId,
    channel: &Channel,
) -> Result<QueueId, StoreError> {
    let route = channel.config.called_route_id;
    Ok(store
        .tenant(tenant)
        .route(route)
        .await?
        .config
        .skill_queue_id)
}

impl TenantRouting {
    /// A router that knows the tenant's configuration and the conversations the store
    /// has in routing, with the actions restoring them asked for (their timers).
    pub async fn load(
        shared: Arc<Shared>,
        tenant: TenantId,
        heard: Arc<Heard>,
    ) -> Result<(Self, Vec<Action>), StoreError> {
        let scope = shared.store.tenant(tenant);
        let tenant_settings = scope.tenant().await?.settings;
        let mut router = Router::new(shared.reconnect_grace_ms);
        let now = shared.clock.now();
        let mut actions = Vec::new();
        for event in settings::configuration(&scope, &tenant_settings).await? {
            actions.extend(router.handle(event, now));
        }
        // A wrap-up the restart interrupted is over.
        let mut wrapped_up = Vec::new();
        for routed in scope.routed_conversations().await? {
            let queue = match routed.queue {
                Some(queue) => queue,
                None => queue_of(&shared.store, tenant, routed.id).await?,
            };
            let restored = match (routed.state, routed.agent) {
                (ConversationState::Assigned, Some(agent)) => Restored::WithAgent { agent },
                (ConversationState::WrapUp, agent) => {
                    wrapped_up.push(RoutingRecord {
                        conversation: routed.id,
                        kind: "wrapUpEnded",
                        queue: Some(queue),
                        agent,
                        detail: json!({"recovered": true}),
                        placement: Some(Placement::WrapUpDone),
                    });
                    continue;
                }
                (_, _) => match (routed.place, routed.queued_at) {
                    (Some(place), Some(since)) => Restored::Waiting { place, since },
                    // Opened, but routing had not placed it yet: it arrives now.
                    _ => {
                        let event = Event::ConversationArrived {
                            conversation: routed.id,
                            channel: routed.channel,
                            queue,
                            last_agent: None,
                        };
                        actions.extend(router.handle(event, now));
                        continue;
                    }
                },
            };
            let event = Event::ConversationRestored {
                conversation: routed.id,
                channel: routed.channel,
                queue,
                restored,
            };
            actions.extend(router.handle(event, now));
        }
        scope.record_routing(&wrapped_up).await?;
        let routing = Self {
            shared,
            tenant,
            router,
            timers: Deadlines::default(),
            locale: tenant_settings.locale,
            names: HashMap::new(),
            notices: Vec::new(),
            heard,
        };
        Ok((routing, actions))
    }

    pub async fn run(
        mut self,
        restored: Vec<Action>,
        mut commands: mpsc::UnboundedReceiver<Command>,
    ) {
        let heard = self.heard.clone();
        let mut decided = Decided::default();
        self.schedule(&restored, &mut decided);
        if let Err(e) = self.commit(decided).await {
            tracing::error!(tenant.id = %self.tenant, error = %e, "restoring routing failed");
        }
        tokio::spawn(self.notices_stored());
        loop {
            let sleep = match self.timers.next_due() {
                Some(at) => self.shared.clock.sleep_until(at),
                None => Box::pin(std::future::pending()),
            };
            tokio::select! {
                command = commands.recv() => match command {
                    Some(first) => {
                        let mut batch = vec![first];
                        while batch.len() < MAX_COMMANDS_AT_ONCE {
                            match commands.try_recv() {
                                Ok(command) => batch.push(command),
                                Err(_) => break,
                            }
                        }
                        self.commands(batch).await;
                    }
                    None => return,
                },
                () = heard.ready.notified() => self.catch_up_alone().await,
                () = sleep => self.catch_up_alone().await,
            }
        }
    }

    /// Decides a burst of commands in order, then stores all their decisions in one
    /// transaction: under load (many agents turning idle at once) the decisions of a
    /// burst share one sync to disk. Callers hear back once it is committed.
    async fn commands(&mut self, batch: Vec<Command>) {
        let now = self.shared.clock.now();
        let mut decided = Decided::default();
        self.catch_up(now, &mut decided);
        let mut callers = Vec::new();
        for command in batch {
            match command {
                Command::Event {
                    event,
                    opening,
                    done,
                } => {
                    decided.opened.extend(opening);
                    let actions = self.router.handle(*event, now);
                    self.schedule(&actions, &mut decided);
                    callers.push((done, actions));
                }
                Command::Waiting { queues, reply } => {
                    let lists = queues
                        .iter()
                        .map(|q| self.router.waiting_list(*q))
                        .collect();
                    let _ = reply.send(lists);
                }
                Command::Locale(locale) => self.locale = locale,
            }
        }
        let committed = self.commit(decided).await.map_err(Arc::new);
        if let Err(e) = &committed {
            tracing::error!(tenant.id = %self.tenant, error = %e, "storing routing decisions failed");
        }
        let notices = self.notices_stored();
        tokio::spawn(async move {
            notices.await;
            for (done, actions) in callers {
                let _ = done.send(committed.clone().map(|()| actions));
            }
        });
    }

    /// Decides what happened since the router last looked, in the order it happened as
    /// far as it is known: the timers due, then the messages stored (whose events nobody
    /// waits on). Done before each burst of commands too, so that a command decides after
    /// the timers due at its moment and the messages stored before it was sent.
    fn catch_up(&mut self, now: Millis, decided: &mut Decided) {
        while let Some((timer, _)) = self.timers.pop_due(now) {
            let actions = self.router.handle(Event::TimerFired { timer }, now);
            self.schedule(&actions, decided);
        }
        for event in self.heard.take_events() {
            let actions = self.router.handle(event, now);
            self.schedule(&actions, decided);
        }
    }

    /// Catches up when no command came to do it: a timer fell due or messages were heard.
    async fn catch_up_alone(&mut self) {
        let mut decided = Decided::default();
        self.catch_up(self.shared.clock.now(), &mut decided);
        if let Err(e) = self.commit(decided).await {
            tracing::error!(tenant.id = %self.tenant, error = %e, "storing the decisions of routing timers and messages failed");
        }
        tokio::spawn(self.notices_stored());
    }

    /// Runs the timers of `actions` at once (a timer a decision cancels must not fire
    /// later in the same burst) and keeps the rest to be stored and told.
    fn schedule(&mut self, actions: &[Action], decided: &mut Decided) {
        for action in actions {
            match action {
                Action::StartTimer { timer, at } => self.timers.set(*timer, *at),
                Action::CancelTimer { timer } => {
                    self.timers.cancel(*timer);
                }
                other => {
                    decided.records.extend(record_of(other));
                    decided.actions.push(other.clone());
                }
            }
        }
    }

    /// Starts the conversations opened and stores the decisions in one transaction,
    /// then tells people.
    async fn commit(&mut self, decided: Decided) -> Result<(), StoreError> {
        if decided.actions.is_empty() && decided.opened.is_empty() {
            return Ok(());
        }
        let mut assigned: HashMap<_, _> = self
            .shared
            .store
            .tenant(self.tenant)
            .open_and_record_routing(&decided.opened, &decided.records)
            .await?
            .into_iter()
            .map(|conversation| (conversation.id, conversation))
            .collect();
        let mut to_write = Vec::new();
        for action in &decided.actions {
            self.tell(action, &mut assigned, &mut to_write);
        }
        // Only once every agent of the burst is told: the first conversation of an agent
        // has its name read, and no agent waits for another's.
        for notice in to_write {
            let (conversation, text) = match notice {
                Notice::Text(conversation, text) => (conversation, text),
                Notice::Connected(conversation, agent) => {
                    let name = self.name_of(agent).await;
                    (conversation, notices::connected(self.locale, &name))
                }
            };
            self.system_message(conversation, text);
        }
        Ok(())
    }

    /// Tells agents and watchers of `action`, and adds the notices it writes in the
    /// conversation to `to_write`.
    fn tell(
        &self,
        action: &Action,
        assigned: &mut HashMap<ConversationId, Conversation>,
        to_write: &mut Vec<Notice>,
    ) {
        let agents = self.shared.agents.clone();
        match action {
            Action::Notify {
                conversation,
                notice,
            } => {
                let text = notices::notice(self.locale, notice);
                to_write.push(Notice::Text(*conversation, text));
            }
            Action::Assigned {
                conversation,
                agent,
                ..
            } => {
                to_write.push(Notice::Connected(*conversation, *agent));
                if let Some(assigned) = assigned.remove(conversation) {
                    agents.send(
                        *agent,
                        &json!({"type": "assigned", "conversation": assigned}),
                    );
                }
            }
            Action::Transferred {
                conversation,
                from,
                reason,
            } => {
                agents.send(
                    *from,
                    &json!({"type": "transferredAway", "conversationId": conversation, "reason": transfer_reason(*reason)}),
                );
                let text = notices::transferred(self.locale);
                to_write.push(Notice::Text(*conversation, text));
            }
            Action::Released {
                conversation,
                reason,
                offline_messages,
            } => match notices::released(self.locale, *reason, *offline_messages) {
                Some(text) => to_write.push(Notice::Text(*conversation, text)),
                None => self.shared.conversations.changed(*conversation),
            },
            Action::WrapUpStarted {
                agent,
                conversation,
            } => {
                self.shared.conversations.changed(*conversation);
                agents.send(
                    *agent,
                    &json!({"type": "wrapUpStarted", "conversationId": conversation}),
                );
            }
            Action::WrapUpEnded {
                agent,
                conversation,
            } => {
                self.shared.conversations.changed(*conversation);
                agents.send(
                    *agent,
                    &json!({"type": "wrapUpEnded", "conversationId": conversation}),
                );
            }
            Action::Enqueued { conversation, .. } | Action::Requeued { conversation, .. } => {
                self.shared.conversations.changed(*conversation);
            }
            Action::Overflowed { .. }
            | Action::TransferRefused { .. }
            | Action::StartTimer { .. }
            | Action::CancelTimer { .. } => {}
        }
    }

    async fn name_of(&mut self, agent: EmployeeId) -> String {
        if let Some(name) = self.names.get(&agent) {
            return name.clone();
        }
        let name = self
            .shared
            .store
            .tenant(self.tenant)
            .employee(agent)
            .await
            .map(|e| e.config.name)
            .unwrap_or_default();
        self.names.insert(agent, name.clone());
        name
    }

    /// Hands a notice to the store without waiting for it: it is stored after what came
    /// before it, in the same transaction as other messages of the moment.
    fn system_message(&mut self, conversation: ConversationId, text: String) {
        let message = NewMessage {
            sender: Sender::System,
            client_message_id: format!("system-{:016x}", rand::random::<u64>()),
            content: Content::Text { text },
        };
        let stored = self
            .shared
            .store
            .tenant(self.tenant)
            .enqueue_message(conversation, message);
        self.notices.push((conversation, Box::pin(stored)));
    }

    /// Resolves once the notices handed over so far are stored (failures are logged), so
    /// that whoever waits on a decision can read its notices; the router goes on meanwhile.
    fn notices_stored(&mut self) -> impl Future<Output = ()> + Send + 'static {
        let notices = std::mem::take(&mut self.notices);
        let tenant = self.tenant;
        async move {
            for (conversation, stored) in notices {
                if let Err(e) = stored.await {
                    tracing::error!(tenant.id = %tenant, conversation.id = %conversation, error = %e, "storing a routing notice failed");
                }
            }
        }
    }
}

/// A routing notice handed to the store, and its conversation.
type PendingNotice = (
    ConversationId,
    Pin<Box<dyn Future<Output = Result<switchboard_store::Appended, StoreError>> + Send>>,
);

/// A notice a decision writes in its conversation, in the order decided.
enum Notice {
    Text(ConversationId, String),
    /// That the customer is connected to the agent, by name.
    Connected(ConversationId, EmployeeId),
}

fn overflow_reason(reason: OverflowReason) -> &'static str {
    match reason {
        OverflowReason::Timeout => "skillTimeout",
        OverflowReason::Busy => "skillBusy",
        OverflowReason::NoAgents => "noAgents",
    }
}

fn transfer_reason(reason: TransferReason) -> &'static str {
    match reason {
        TransferReason::RequestedByAgent => "requestedByAgent",
        TransferReason::AgentSilent => "agentSilent",
    }
}

pub fn refusal_reason(refusal: TransferRefusal) -> &'static str {
    match refusal {
        TransferRefusal::NotWithAgent => "the conversation is not with an agent",
        TransferRefusal::UnknownQueue => "no such skill queue",
        TransferRefusal::AgentUnavailable => {
            "the agent is not signed in, not idle, or has no free chat slot"
        }
    }
}

/// The contact-record entry of a decision, and how it moves the conversation.
fn record_of(action: &Action) -> Option<RoutingRecord> {
    let record = |conversation, kind, queue, agent, detail, placement| RoutingRecord {
        conversation,
        kind,
        queue,
        agent,
        detail,
        placement,
    };
    Some(match *action {
        Action::Enqueued {
            conversation,
            queue,
            position,
            place,
        } => record(
            conversation,
            "enqueued",
            Some(queue),
            None,
            json!({"position": position}),
            Some(Placement::Queued { queue, place }),
        ),
        Action::Requeued {
            conversation,
            queue,
            place,
        } => record(
            conversation,
            "requeued",
            Some(queue),
            None,
            json!({}),
            Some(Placement::Queued { queue, place }),
        ),
        Action::Assigned {
            conversation,
            agent,
            queue,
        } => record(
            conversation,
            "assigned",
            Some(queue),
            Some(agent),
            json!({}),
            Some(Placement::Assigned { queue, agent }),
        ),
        Action::Overflowed {
            conversation,
            from,
            to,
            reason,
        } => record(
            conversation,
            "overflowed",
            Some(to),
            None,
            json!({"from": from, "reason": overflow_reason(reason)}),
            None,
        ),
        Action::Transferred {
            conversation,
            from,
            reason,
        } => record(
            conversation,
            "transferred",
            None,
            Some(from),
            json!({"reason": transfer_reason(reason)}),
            None,
        ),
        Action::TransferRefused {
            conversation,
            refusal,
        } => record(
            conversation,
            "transferRefused",
            None,
            None,
            json!({"reason": refusal_reason(refusal)}),
            None,
        ),
        Action::Released {
            conversation,
            reason,
            offline_messages,
        } => {
            let why = match reason {
                ReleaseReason::Overflow(r) => overflow_reason(r),
                ReleaseReason::OutOfHours => "outOfHours",
                ReleaseReason::OverflowChainEnded(_) => "overflowChainEnded",
            };
            record(
                conversation,
                "released",
                None,
                None,
                json!({"reason": why, "offlineMessages": offline_messages}),
                Some(Placement::Released {
                    offline_message: offline_messages,
                }),
            )
        }
        Action::WrapUpStarted {
            agent,
            conversation,
        } => record(
            conversation,
            "wrapUpStarted",
            None,
            Some(agent),
            json!({}),
            Some(Placement::WrapUp),
        ),
        Action::WrapUpEnded {
            agent,
            conversation,
        } => record(
            conversation,
            "wrapUpEnded",
            None,
            Some(agent),
            json!({}),
            Some(Placement::WrapUpDone),
        ),
        Action::Notify { .. } | Action::StartTimer { .. } | Action::CancelTimer { .. } => {
            return None
        }
    })
}
