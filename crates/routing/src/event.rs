//! What the router is told ([`Event`]) and what it answers ([`Action`]).

use switchboard_domain::worktime::Calendar;
use switchboard_domain::{ChannelId, ConversationId, EmployeeId, QueueId};

use crate::config::{AgentStatus, ChannelSettings, QueueSettings, Skill};
use crate::Millis;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The tenant's time zone and non-working days.
    CalendarConfigured {
        calendar: Calendar,
    },
    /// A skill queue's settings, on start-up and on every change; they apply to
    /// conversations that arrive afterwards.
    QueueConfigured {
        queue: QueueId,
        settings: QueueSettings,
    },
    ChannelConfigured {
        channel: ChannelId,
        settings: ChannelSettings,
    },
    /// A customer asks for an agent on `channel`, whose called route leads to `queue`.
    /// `last_agent` is the agent who last served this customer on the channel.
    ConversationArrived {
        conversation: ConversationId,
        channel: ChannelId,
        queue: QueueId,
        last_agent: Option<EmployeeId>,
    },
    /// After a restart: a conversation as the contact record left it.
    ConversationRestored {
        conversation: ConversationId,
        channel: ChannelId,
        queue: QueueId,
        restored: Restored,
    },
    CustomerMessage {
        conversation: ConversationId,
    },
    AgentReplied {
        conversation: ConversationId,
    },
    /// The customer left or the conversation was closed, wherever it was.
    CustomerLeft {
        conversation: ConversationId,
    },
    /// The agent finished the conversation: its wrap-up starts.
    ConversationEnded {
        conversation: ConversationId,
    },
    /// The agent holding the conversation hands it on.
    TransferRequested {
        conversation: ConversationId,
        to: TransferTarget,
    },
    AgentSignedIn {
        agent: EmployeeId,
        skills: Vec<Skill>,
        capacity: u32,
    },
    AgentSignedOut {
        agent: EmployeeId,
    },
    /// The agent's last connection dropped: it keeps its conversations for the grace
    /// period, gets nothing new, and is signed out if it does not come back.
    AgentDisconnected {
        agent: EmployeeId,
    },
    AgentReconnected {
        agent: EmployeeId,
    },
    AgentStatusChanged {
        agent: EmployeeId,
        status: AgentStatus,
    },
    AgentCapacityChanged {
        agent: EmployeeId,
        capacity: u32,
    },
    TimerFired {
        timer: Timer,
    },
}

/// Where a restored conversation was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Restored {
    /// Waiting at `place` (the order key the router gave it) since `since`.
    Waiting { place: i64, since: Millis },
    /// Held by an agent, who gets the grace period to sign in again.
    WithAgent { agent: EmployeeId },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferTarget {
    Queue(QueueId),
    Agent(EmployeeId),
}

/// A timer the router asked for. There is at most one of each kind per conversation (or
/// agent); starting one again moves it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Timer {
    /// The queue's maximum waiting time.
    WaitEnds(ConversationId),
    Reminder(ConversationId),
    /// Last-agent mode: the previous agent's turn is over.
    LastAgentWaitEnds(ConversationId),
    SilencePrompt(ConversationId),
    SilenceEnds(ConversationId),
    AgentSilence(ConversationId),
    WrapUpEnds(ConversationId),
    ReconnectGraceEnds(EmployeeId),
}

impl Timer {
    pub fn conversation(self) -> Option<ConversationId> {
        match self {
            Timer::WaitEnds(c)
            | Timer::Reminder(c)
            | Timer::LastAgentWaitEnds(c)
            | Timer::SilencePrompt(c)
            | Timer::SilenceEnds(c)
            | Timer::AgentSilence(c)
            | Timer::WrapUpEnds(c) => Some(c),
            Timer::ReconnectGraceEnds(_) => None,
        }
    }
}

/// Why a conversation left its queue without an agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OverflowReason {
    /// It waited the queue's maximum waiting time.
    Timeout,
    /// The queue was full.
    Busy,
    /// No agent of the queue was signed in.
    NoAgents,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReleaseReason {
    Overflow(OverflowReason),
    OutOfHours,
    /// A transfer target was already on the conversation's overflow chain, or the chain
    /// reached its bound.
    OverflowChainEnded(OverflowReason),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferReason {
    RequestedByAgent,
    AgentSilent,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferRefusal {
    /// The conversation is not with an agent.
    NotWithAgent,
    UnknownQueue,
    /// The target agent is not signed in, not idle or has no free slot.
    AgentUnavailable,
}

/// A system message for the customer. Texts are the channel's; empty ones are rendered
/// by the server in the customer's language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    Position { position: usize },
    Reminder { position: usize, text: String },
    OutOfHours { text: String },
    SilencePrompt { text: String },
    Conclusion { text: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// The conversation waits at `position` (from 1); `place` orders the queue and is
    /// what a restart restores it with.
    Enqueued {
        conversation: ConversationId,
        queue: QueueId,
        position: usize,
        place: i64,
    },
    Assigned {
        conversation: ConversationId,
        agent: EmployeeId,
        queue: QueueId,
    },
    /// Its agent left: the conversation waits again at the head of its queue.
    Requeued {
        conversation: ConversationId,
        queue: QueueId,
        place: i64,
    },
    /// It moves to another queue by its queue's overflow policy.
    Overflowed {
        conversation: ConversationId,
        from: QueueId,
        to: QueueId,
        reason: OverflowReason,
    },
    /// It leaves its agent for another agent or queue (the following action says where).
    Transferred {
        conversation: ConversationId,
        from: EmployeeId,
        reason: TransferReason,
    },
    TransferRefused {
        conversation: ConversationId,
        refusal: TransferRefusal,
    },
    /// Routing gives up on it; the customer may leave a message if `offline_messages`.
    Released {
        conversation: ConversationId,
        reason: ReleaseReason,
        offline_messages: bool,
    },
    Notify {
        conversation: ConversationId,
        notice: Notice,
    },
    /// The conversation is over for the customer; its agent wraps up.
    WrapUpStarted {
        agent: EmployeeId,
        conversation: ConversationId,
    },
    WrapUpEnded {
        agent: EmployeeId,
        conversation: ConversationId,
    },
    StartTimer {
        timer: Timer,
        at: Millis,
    },
    CancelTimer {
        timer: Timer,
    },
}
