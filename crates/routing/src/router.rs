//! The router: one tenant's conversations, queues and agents, changed only by
//! [`Router::handle`]. The rules are written out in `docs/routing.md`.

use std::cmp::Reverse;
use std::collections::HashMap;

use switchboard_domain::worktime::Calendar;
use switchboard_domain::{ChannelId, ConversationId, EmployeeId, QueueId};

use crate::agents::{Agents, Eligibility};
use crate::config::{AgentStatus, ChannelSettings, Overflow, QueueSettings, SilentAgentTransfer};
use crate::event::{
    Action, Event, Notice, OverflowReason, ReleaseReason, Restored, Timer, TransferReason,
    TransferRefusal, TransferTarget,
};
use crate::queues::{End, Queues};
use crate::Millis;

/// Overflow transfers one conversation may go through before it is released.
pub const MAX_OVERFLOW_TRANSFERS: usize = 4;
/// How long an agent whose connection dropped keeps its conversations.
pub const DEFAULT_RECONNECT_GRACE_MS: Millis = 60_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Waiting,
    WithAgent(EmployeeId),
    WrappingUp(EmployeeId),
}

#[derive(Debug)]
struct Tracked {
    channel: ChannelId,
    queue: QueueId,
    stage: Stage,
    /// The queues an overflow took it through, its first queue included.
    chain: Vec<QueueId>,
}

/// How a conversation comes into a queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Entry {
    /// A new arrival or an overflow: at the tail, within the queue's limits.
    Arrival,
    /// Handed on by an agent: at the head, within the queue's limits.
    Transfer,
    /// Its agent left: back at the head, whatever the limits.
    Return,
}

#[derive(Debug)]
pub struct Router {
    calendar: Calendar,
    queue_settings: HashMap<QueueId, QueueSettings>,
    channels: HashMap<ChannelId, ChannelSettings>,
    default_channel: ChannelSettings,
    queues: Queues,
    agents: Agents,
    conversations: HashMap<ConversationId, Tracked>,
    timers: HashMap<Timer, Millis>,
    reconnect_grace_ms: Millis,
}

impl Default for Router {
    fn default() -> Self {
        Self::new(DEFAULT_RECONNECT_GRACE_MS)
    }
}

/// A waiting conversation as supervisors see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Waiting {
    pub conversation: ConversationId,
    /// Set while it is reserved for its previous agent.
    pub reserved_for: Option<EmployeeId>,
    /// Set when the agent who handed it on may not take it back.
    pub not_for: Option<EmployeeId>,
}

impl Router {
    pub fn new(reconnect_grace_ms: Millis) -> Self {
        Self {
            calendar: Calendar::default(),
            queue_settings: HashMap::new(),
            channels: HashMap::new(),
            default_channel: ChannelSettings::default(),
            queues: Queues::default(),
            agents: Agents::default(),
            conversations: HashMap::new(),
            timers: HashMap::new(),
            reconnect_grace_ms,
        }
    }

    pub fn handle(&mut self, event: Event, now: Millis) -> Vec<Action> {
        let mut out = Vec::new();
        match event {
            Event::CalendarConfigured { calendar } => self.calendar = calendar,
            Event::QueueConfigured { queue, settings } => {
                self.queue_settings.insert(queue, settings);
            }
            Event::ChannelConfigured { channel, settings } => {
                self.channels.insert(channel, settings);
            }
            Event::ConversationArrived {
                conversation,
                channel,
                queue,
                last_agent,
            } => self.arrive(conversation, channel, queue, last_agent, now, &mut out),
            Event::ConversationRestored {
                conversation,
                channel,
                queue,
                restored,
            } => self.restore(conversation, channel, queue, restored, now, &mut out),
            Event::CustomerMessage { conversation } => {
                self.customer_message(conversation, now, &mut out);
            }
            Event::AgentReplied { conversation } => {
                if matches!(self.stage(conversation), Some(Stage::WithAgent(_))) {
                    self.cancel_timer(Timer::AgentSilence(conversation), &mut out);
                }
            }
            Event::CustomerLeft { conversation } => self.leave(conversation, now, &mut out),
            Event::ConversationEnded { conversation } => {
                if let Some(Stage::WithAgent(agent)) = self.stage(conversation) {
                    self.start_wrap_up(conversation, agent, now, &mut out);
                }
            }
            Event::TransferRequested { conversation, to } => {
                self.transfer(conversation, to, now, &mut out);
            }
            Event::AgentSignedIn {
                agent,
                skills,
                capacity,
            } => {
                self.agents.sign_in(agent, skills, capacity, now);
                self.cancel_timer(Timer::ReconnectGraceEnds(agent), &mut out);
                self.offer(agent, now, &mut out);
            }
            Event::AgentSignedOut { agent } => self.sign_out(agent, now, &mut out),
            Event::AgentDisconnected { agent } => {
                if self.agents.set_connected(agent, false, now) {
                    let at = now + self.reconnect_grace_ms;
                    self.start_timer(Timer::ReconnectGraceEnds(agent), at, &mut out);
                }
            }
            Event::AgentReconnected { agent } => {
                if self.agents.set_connected(agent, true, now) {
                    self.cancel_timer(Timer::ReconnectGraceEnds(agent), &mut out);
                    self.offer(agent, now, &mut out);
                }
            }
            Event::AgentStatusChanged { agent, status } => {
                if self.agents.set_status(agent, status, now) && status == AgentStatus::Idle {
                    self.offer(agent, now, &mut out);
                }
            }
            Event::AgentCapacityChanged { agent, capacity } => {
                if self.agents.set_capacity(agent, capacity, now) {
                    self.offer(agent, now, &mut out);
                }
            }
            Event::TimerFired { timer } => {
                if self.timers.remove(&timer).is_some() {
                    self.fire(timer, now, &mut out);
                }
            }
        }
        out
    }

    /// How many conversations wait in `queue`.
    pub fn waiting(&self, queue: QueueId) -> usize {
        self.queues.len(queue)
    }

    /// The conversations waiting in `queue`, first in line first.
    pub fn waiting_list(&self, queue: QueueId) -> Vec<Waiting> {
        self.queues
            .waiting(queue)
            .map(|(conversation, eligible)| Waiting {
                conversation,
                reserved_for: match eligible {
                    Eligibility::Only(agent) => Some(agent),
                    _ => None,
                },
                not_for: match eligible {
                    Eligibility::Except(agent) => Some(agent),
                    _ => None,
                },
            })
            .collect()
    }

    /// The conversations an agent holds (talking or wrapping up).
    pub fn load(&self, agent: EmployeeId) -> usize {
        self.agents.load(agent)
    }

    /// Whether the agent would take a conversation now.
    pub fn is_free(&self, agent: EmployeeId) -> bool {
        self.agents.is_free(agent)
    }

    /// The agent holding the conversation, talking or wrapping up.
    pub fn agent_of(&self, conversation: ConversationId) -> Option<EmployeeId> {
        match self.stage(conversation)? {
            Stage::WithAgent(agent) | Stage::WrappingUp(agent) => Some(agent),
            Stage::Waiting => None,
        }
    }

    /// Whether the router is following the conversation at all.
    pub fn knows(&self, conversation: ConversationId) -> bool {
        self.conversations.contains_key(&conversation)
    }

    fn stage(&self, conversation: ConversationId) -> Option<Stage> {
        self.conversations.get(&conversation).map(|t| t.stage)
    }

    fn channel_of(&self, conversation: ConversationId) -> &ChannelSettings {
        self.conversations
            .get(&conversation)
            .and_then(|t| self.channels.get(&t.channel))
            .unwrap_or(&self.default_channel)
    }

    fn settings(&self, queue: QueueId) -> QueueSettings {
        self.queue_settings.get(&queue).copied().unwrap_or_default()
    }

    fn start_timer(&mut self, timer: Timer, at: Millis, out: &mut Vec<Action>) {
        self.timers.insert(timer, at);
        out.push(Action::StartTimer { timer, at });
    }

    fn cancel_timer(&mut self, timer: Timer, out: &mut Vec<Action>) {
        if self.timers.remove(&timer).is_some() {
            out.push(Action::CancelTimer { timer });
        }
    }

    fn cancel_waiting_timers(&mut self, conversation: ConversationId, out: &mut Vec<Action>) {
        for timer in [
            Timer::WaitEnds(conversation),
            Timer::Reminder(conversation),
            Timer::LastAgentWaitEnds(conversation),
        ] {
            self.cancel_timer(timer, out);
        }
    }

    fn cancel_talking_timers(&mut self, conversation: ConversationId, out: &mut Vec<Action>) {
        for timer in [
            Timer::SilencePrompt(conversation),
            Timer::SilenceEnds(conversation),
            Timer::AgentSilence(conversation),
        ] {
            self.cancel_timer(timer, out);
        }
    }

    fn arrive(
        &mut self,
        conversation: ConversationId,
        channel: ChannelId,
        queue: QueueId,
        last_agent: Option<EmployeeId>,
        now: Millis,
        out: &mut Vec<Action>,
    ) {
        if self.conversations.contains_key(&conversation) {
            return;
        }
        self.conversations.insert(
            conversation,
            Tracked {
                channel,
                queue,
                stage: Stage::Waiting,
                chain: vec![queue],
            },
        );
        let settings = self.channel_of(conversation);
        if !settings.work_time.is_open_at(&self.calendar, now) {
            let text = settings.out_of_hours_notice.clone();
            out.push(Action::Notify {
                conversation,
                notice: Notice::OutOfHours { text },
            });
            return self.release(conversation, ReleaseReason::OutOfHours, out);
        }
        if let (Some(wait), Some(agent)) = (settings.last_agent_wait_ms, last_agent) {
            if self.agents.has_skill(agent, queue) {
                if self.agents.is_free(agent) {
                    return self.assign(conversation, agent, now, out);
                }
                if self.agents.is_connected(agent) {
                    let only = Eligibility::Only(agent);
                    if self.enqueue(conversation, queue, only, Entry::Arrival, now, out) {
                        let timer = Timer::LastAgentWaitEnds(conversation);
                        self.start_timer(timer, now + wait, out);
                    }
                    return;
                }
            }
        }
        self.route(
            conversation,
            queue,
            Eligibility::Anyone,
            Entry::Arrival,
            now,
            out,
        );
    }

    /// Sends a conversation into `queue`: to the best free agent, or to wait, or on by
    /// the queue's policies when nobody is on duty or the queue is full.
    fn route(
        &mut self,
        conversation: ConversationId,
        queue: QueueId,
        eligible: Eligibility,
        entry: Entry,
        now: Millis,
        out: &mut Vec<Action>,
    ) {
        if let Some(tracked) = self.conversations.get_mut(&conversation) {
            tracked.queue = queue;
            tracked.stage = Stage::Waiting;
        }
        if !self.agents.on_duty(queue) && entry != Entry::Return {
            return self.overflow(conversation, OverflowReason::NoAgents, now, out);
        }
        match self.agents.best_for(queue, eligible) {
            Some(agent) => self.assign(conversation, agent, now, out),
            None => {
                self.enqueue(conversation, queue, eligible, entry, now, out);
            }
        }
    }

    /// Puts a conversation in line; answers false when the queue was full and its busy
    /// policy took the conversation instead.
    fn enqueue(
        &mut self,
        conversation: ConversationId,
        queue: QueueId,
        eligible: Eligibility,
        entry: Entry,
        now: Millis,
        out: &mut Vec<Action>,
    ) -> bool {
        let settings = self.settings(queue);
        if entry != Entry::Return && self.queues.len(queue) >= settings.max_queued {
            self.overflow(conversation, OverflowReason::Busy, now, out);
            return false;
        }
        if let Some(tracked) = self.conversations.get_mut(&conversation) {
            tracked.queue = queue;
            tracked.stage = Stage::Waiting;
        }
        let end = match entry {
            Entry::Arrival => End::Tail,
            Entry::Transfer | Entry::Return => End::Head,
        };
        let (place, position) = self.queues.push(queue, conversation, eligible, end);
        out.push(match entry {
            Entry::Return => Action::Requeued {
                conversation,
                queue,
                place,
            },
            Entry::Arrival | Entry::Transfer => Action::Enqueued {
                conversation,
                queue,
                position,
                place,
            },
        });
        out.push(Action::Notify {
            conversation,
            notice: Notice::Position { position },
        });
        self.start_waiting_timers(conversation, queue, now, now, out);
        true
    }

    fn start_waiting_timers(
        &mut self,
        conversation: ConversationId,
        queue: QueueId,
        since: Millis,
        now: Millis,
        out: &mut Vec<Action>,
    ) {
        let wait_ends = since + self.settings(queue).max_wait_ms;
        self.start_timer(Timer::WaitEnds(conversation), wait_ends, out);
        let interval = self.channel_of(conversation).reminder_interval_ms;
        self.start_timer(Timer::Reminder(conversation), now + interval, out);
    }

    fn overflow(
        &mut self,
        conversation: ConversationId,
        reason: OverflowReason,
        now: Millis,
        out: &mut Vec<Action>,
    ) {
        let Some(tracked) = self.conversations.get_mut(&conversation) else {
            return;
        };
        let from = tracked.queue;
        let settings = self.queue_settings.get(&from).copied().unwrap_or_default();
        let policy = match reason {
            OverflowReason::Timeout => settings.on_timeout,
            OverflowReason::Busy => settings.on_busy,
            OverflowReason::NoAgents => settings.on_no_agents,
        };
        match policy {
            Overflow::Release => self.release(conversation, ReleaseReason::Overflow(reason), out),
            Overflow::Transfer(to) => {
                if tracked.chain.contains(&to) || tracked.chain.len() > MAX_OVERFLOW_TRANSFERS {
                    let reason = ReleaseReason::OverflowChainEnded(reason);
                    return self.release(conversation, reason, out);
                }
                tracked.chain.push(to);
                out.push(Action::Overflowed {
                    conversation,
                    from,
                    to,
                    reason,
                });
                self.route(
                    conversation,
                    to,
                    Eligibility::Anyone,
                    Entry::Arrival,
                    now,
                    out,
                );
            }
        }
    }

    fn release(
        &mut self,
        conversation: ConversationId,
        reason: ReleaseReason,
        out: &mut Vec<Action>,
    ) {
        let offline_messages = self.channel_of(conversation).offline_messages;
        self.queues.remove(conversation);
        self.cancel_waiting_timers(conversation, out);
        self.conversations.remove(&conversation);
        out.push(Action::Released {
            conversation,
            reason,
            offline_messages,
        });
    }

    fn assign(
        &mut self,
        conversation: ConversationId,
        agent: EmployeeId,
        now: Millis,
        out: &mut Vec<Action>,
    ) {
        if self.queues.remove(conversation).is_some() {
            self.cancel_waiting_timers(conversation, out);
        }
        let Some(tracked) = self.conversations.get_mut(&conversation) else {
            return;
        };
        tracked.stage = Stage::WithAgent(agent);
        let queue = tracked.queue;
        self.agents.take(agent, conversation, now);
        out.push(Action::Assigned {
            conversation,
            agent,
            queue,
        });
        self.start_silence_timers(conversation, now, out);
        if let Some(silence) = self.channel_of(conversation).agent_silence {
            let at = now + silence.after_ms;
            self.start_timer(Timer::AgentSilence(conversation), at, out);
        }
    }

    /// Customer silence counts from the assignment and from each customer message.
    fn start_silence_timers(
        &mut self,
        conversation: ConversationId,
        now: Millis,
        out: &mut Vec<Action>,
    ) {
        let settings = self.channel_of(conversation);
        let (prompt, end) = (settings.silence_prompt_ms, settings.silence_end_ms);
        match prompt {
            Some(prompt) if prompt < end => {
                self.start_timer(Timer::SilencePrompt(conversation), now + prompt, out);
            }
            _ => self.cancel_timer(Timer::SilencePrompt(conversation), out),
        }
        self.start_timer(Timer::SilenceEnds(conversation), now + end, out);
    }

    fn customer_message(
        &mut self,
        conversation: ConversationId,
        now: Millis,
        out: &mut Vec<Action>,
    ) {
        if !matches!(self.stage(conversation), Some(Stage::WithAgent(_))) {
            return;
        }
        self.start_silence_timers(conversation, now, out);
        let waiting_for_agent = self.timers.contains_key(&Timer::AgentSilence(conversation));
        if let Some(silence) = self.channel_of(conversation).agent_silence {
            if !waiting_for_agent {
                let at = now + silence.after_ms;
                self.start_timer(Timer::AgentSilence(conversation), at, out);
            }
        }
    }

    fn leave(&mut self, conversation: ConversationId, now: Millis, out: &mut Vec<Action>) {
        match self.stage(conversation) {
            Some(Stage::Waiting) => {
                self.queues.remove(conversation);
                self.cancel_waiting_timers(conversation, out);
                self.conversations.remove(&conversation);
            }
            // The customer ended it: the agent wraps up as if it had ended it.
            Some(Stage::WithAgent(agent)) => self.start_wrap_up(conversation, agent, now, out),
            // The agent's wrap-up runs its course.
            Some(Stage::WrappingUp(_)) | None => {}
        }
    }

    fn start_wrap_up(
        &mut self,
        conversation: ConversationId,
        agent: EmployeeId,
        now: Millis,
        out: &mut Vec<Action>,
    ) {
        self.cancel_talking_timers(conversation, out);
        let Some(tracked) = self.conversations.get_mut(&conversation) else {
            return;
        };
        tracked.stage = Stage::WrappingUp(agent);
        let queue = tracked.queue;
        let wrap_up = self.settings(queue).wrap_up_ms;
        out.push(Action::WrapUpStarted {
            agent,
            conversation,
        });
        if wrap_up <= 0 {
            return self.finish_wrap_up(conversation, agent, now, out);
        }
        self.agents.start_wrap_up(agent, conversation, now);
        self.start_timer(Timer::WrapUpEnds(conversation), now + wrap_up, out);
    }

    fn finish_wrap_up(
        &mut self,
        conversation: ConversationId,
        agent: EmployeeId,
        now: Millis,
        out: &mut Vec<Action>,
    ) {
        self.cancel_timer(Timer::WrapUpEnds(conversation), out);
        self.conversations.remove(&conversation);
        self.agents.release(agent, conversation, now);
        out.push(Action::WrapUpEnded {
            agent,
            conversation,
        });
        self.offer(agent, now, out);
    }

    /// Takes the conversation from its agent, who is offered new work once the
    /// conversation has gone where it goes.
    fn detach(
        &mut self,
        conversation: ConversationId,
        agent: EmployeeId,
        reason: TransferReason,
        now: Millis,
        out: &mut Vec<Action>,
    ) {
        self.cancel_talking_timers(conversation, out);
        self.agents.release(agent, conversation, now);
        out.push(Action::Transferred {
            conversation,
            from: agent,
            reason,
        });
    }

    fn transfer(
        &mut self,
        conversation: ConversationId,
        to: TransferTarget,
        now: Millis,
        out: &mut Vec<Action>,
    ) {
        let refuse = |refusal, out: &mut Vec<Action>| {
            out.push(Action::TransferRefused {
                conversation,
                refusal,
            });
        };
        let Some(Stage::WithAgent(from)) = self.stage(conversation) else {
            return refuse(TransferRefusal::NotWithAgent, out);
        };
        let reason = TransferReason::RequestedByAgent;
        match to {
            TransferTarget::Queue(queue) => {
                if !self.queue_settings.contains_key(&queue) {
                    return refuse(TransferRefusal::UnknownQueue, out);
                }
                self.detach(conversation, from, reason, now, out);
                self.requeue_elsewhere(conversation, queue, from, now, out);
            }
            TransferTarget::Agent(agent) => {
                if agent == from || !self.agents.is_free(agent) {
                    return refuse(TransferRefusal::AgentUnavailable, out);
                }
                self.detach(conversation, from, reason, now, out);
                self.assign(conversation, agent, now, out);
            }
        }
        self.offer(from, now, out);
    }

    /// A handed-on conversation goes to the head of `queue`, not back to `from`.
    fn requeue_elsewhere(
        &mut self,
        conversation: ConversationId,
        queue: QueueId,
        from: EmployeeId,
        now: Millis,
        out: &mut Vec<Action>,
    ) {
        if let Some(tracked) = self.conversations.get_mut(&conversation) {
            tracked.chain = vec![queue];
        }
        let eligible = Eligibility::Except(from);
        self.route(conversation, queue, eligible, Entry::Transfer, now, out);
    }

    fn sign_out(&mut self, agent: EmployeeId, now: Millis, out: &mut Vec<Action>) {
        self.cancel_timer(Timer::ReconnectGraceEnds(agent), out);
        let mut touched = Vec::new();
        // Back to the head of their queues, keeping their order among themselves.
        for conversation in self.agents.sign_out(agent).into_iter().rev() {
            match self.stage(conversation) {
                Some(Stage::WithAgent(_)) => {
                    self.cancel_talking_timers(conversation, out);
                    let queue = self.conversations.get(&conversation).map(|t| t.queue);
                    if let Some(queue) = queue {
                        let anyone = Eligibility::Anyone;
                        self.enqueue(conversation, queue, anyone, Entry::Return, now, out);
                        touched.push(queue);
                    }
                }
                Some(Stage::WrappingUp(_)) => {
                    self.cancel_timer(Timer::WrapUpEnds(conversation), out);
                    self.conversations.remove(&conversation);
                    out.push(Action::WrapUpEnded {
                        agent,
                        conversation,
                    });
                }
                Some(Stage::Waiting) | None => {}
            }
        }
        // What was reserved for the agent is open to everyone now.
        let reserved: Vec<_> = std::iter::from_fn(|| {
            let (queue, conversation) = self.queues.reserved_for(agent, |_| true)?;
            self.queues.open_to_anyone(conversation);
            Some((queue, conversation))
        })
        .collect();
        for (queue, conversation) in reserved {
            self.cancel_timer(Timer::LastAgentWaitEnds(conversation), out);
            touched.push(queue);
        }
        touched.sort();
        touched.dedup();
        for queue in touched {
            self.drain(queue, now, out);
        }
    }

    fn restore(
        &mut self,
        conversation: ConversationId,
        channel: ChannelId,
        queue: QueueId,
        restored: Restored,
        now: Millis,
        out: &mut Vec<Action>,
    ) {
        if self.conversations.contains_key(&conversation) {
            return;
        }
        let stage = match restored {
            Restored::Waiting { .. } => Stage::Waiting,
            Restored::WithAgent { agent } => Stage::WithAgent(agent),
        };
        self.conversations.insert(
            conversation,
            Tracked {
                channel,
                queue,
                stage,
                chain: vec![queue],
            },
        );
        match restored {
            Restored::Waiting { place, since } => {
                self.queues.restore(queue, conversation, place);
                self.start_waiting_timers(conversation, queue, since, now, out);
                self.drain(queue, now, out);
            }
            Restored::WithAgent { agent } => {
                self.agents.restore(agent, conversation, now);
                self.start_silence_timers(conversation, now, out);
                if !self.agents.is_connected(agent)
                    && !self.timers.contains_key(&Timer::ReconnectGraceEnds(agent))
                {
                    let at = now + self.reconnect_grace_ms;
                    self.start_timer(Timer::ReconnectGraceEnds(agent), at, out);
                }
            }
        }
    }

    fn fire(&mut self, timer: Timer, now: Millis, out: &mut Vec<Action>) {
        if let Timer::ReconnectGraceEnds(agent) = timer {
            if self.agents.is_signed_in(agent) && !self.agents.is_connected(agent) {
                self.sign_out(agent, now, out);
            }
            return;
        }
        let Some(conversation) = timer.conversation() else {
            return;
        };
        let Some(stage) = self.stage(conversation) else {
            return;
        };
        match (timer, stage) {
            (Timer::WaitEnds(_), Stage::Waiting) => {
                self.queues.remove(conversation);
                self.cancel_waiting_timers(conversation, out);
                self.overflow(conversation, OverflowReason::Timeout, now, out);
            }
            (Timer::Reminder(_), Stage::Waiting) => {
                let position = self.queues.position(conversation).unwrap_or(1);
                let settings = self.channel_of(conversation);
                let (text, interval) = (
                    settings.reminder_text.clone(),
                    settings.reminder_interval_ms,
                );
                out.push(Action::Notify {
                    conversation,
                    notice: Notice::Reminder { position, text },
                });
                self.start_timer(Timer::Reminder(conversation), now + interval, out);
            }
            (Timer::LastAgentWaitEnds(_), Stage::Waiting) => {
                self.queues.open_to_anyone(conversation);
                if let Some(queue) = self.conversations.get(&conversation).map(|t| t.queue) {
                    self.drain(queue, now, out);
                }
            }
            (Timer::SilencePrompt(_), Stage::WithAgent(_)) => {
                let text = self.channel_of(conversation).silence_prompt_text.clone();
                out.push(Action::Notify {
                    conversation,
                    notice: Notice::SilencePrompt { text },
                });
            }
            (Timer::SilenceEnds(_), Stage::WithAgent(agent)) => {
                let text = self.channel_of(conversation).conclusion_text.clone();
                out.push(Action::Notify {
                    conversation,
                    notice: Notice::Conclusion { text },
                });
                self.start_wrap_up(conversation, agent, now, out);
            }
            (Timer::AgentSilence(_), Stage::WithAgent(agent)) => {
                self.agent_silent(conversation, agent, now, out);
            }
            (Timer::WrapUpEnds(_), Stage::WrappingUp(agent)) => {
                self.finish_wrap_up(conversation, agent, now, out);
            }
            _ => {}
        }
    }

    fn agent_silent(
        &mut self,
        conversation: ConversationId,
        agent: EmployeeId,
        now: Millis,
        out: &mut Vec<Action>,
    ) {
        let Some(silence) = self.channel_of(conversation).agent_silence else {
            return;
        };
        let Some(queue) = self.conversations.get(&conversation).map(|t| t.queue) else {
            return;
        };
        let reason = TransferReason::AgentSilent;
        match silence.transfer {
            SilentAgentTransfer::OtherAgent => {
                match self.agents.best_for(queue, Eligibility::Except(agent)) {
                    Some(other) => {
                        self.detach(conversation, agent, reason, now, out);
                        self.assign(conversation, other, now, out);
                    }
                    // Nobody else is free: the customer keeps the agent it has, and the
                    // agent gets another reminder's worth of time.
                    None => {
                        let at = now + silence.after_ms;
                        self.start_timer(Timer::AgentSilence(conversation), at, out);
                        return;
                    }
                }
            }
            SilentAgentTransfer::Queue(target) => {
                self.detach(conversation, agent, reason, now, out);
                self.requeue_elsewhere(conversation, target, agent, now, out);
            }
        }
        self.offer(agent, now, out);
    }

    /// Gives waiting conversations of `queue`, first in line first, to the best free
    /// agents that may take them, while there are any.
    fn drain(&mut self, queue: QueueId, now: Millis, out: &mut Vec<Action>) {
        while self.agents.any_free(queue) && self.queues.len(queue) > 0 {
            let next = self
                .queues
                .waiting(queue)
                .find_map(|(conversation, eligible)| {
                    Some((conversation, self.agents.best_for(queue, eligible)?))
                });
            let Some((conversation, agent)) = next else {
                return;
            };
            self.assign(conversation, agent, now, out);
        }
    }

    /// Gives a free agent the conversations it should take: those reserved for it first,
    /// then from its queues of the highest skill weight, the one first in line.
    fn offer(&mut self, agent: EmployeeId, now: Millis, out: &mut Vec<Action>) {
        while self.agents.is_free(agent) {
            let agents = &self.agents;
            let reserved = self
                .queues
                .reserved_for(agent, |queue| agents.has_skill(agent, queue))
                .map(|(_, conversation)| conversation);
            let next = reserved.or_else(|| {
                agents
                    .skills(agent)
                    .iter()
                    .filter_map(|skill| {
                        let (place, conversation) = self.queues.first_for(skill.queue, agent)?;
                        Some(((skill.skill_weight, Reverse(place)), conversation))
                    })
                    .max_by_key(|(rank, _)| *rank)
                    .map(|(_, conversation)| conversation)
            });
            let Some(conversation) = next else {
                return;
            };
            self.assign(conversation, agent, now, out);
        }
    }
}
