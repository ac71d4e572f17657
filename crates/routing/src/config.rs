//! What the router is told about the tenant's configuration: its skill queues, its
//! channels' routing settings and its service-time calendar. The server translates the
//! stored configuration into these; the router never reads a store.

use switchboard_domain::worktime::WorkTime;
use switchboard_domain::QueueId;

use crate::Millis;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentStatus {
    /// Takes conversations while it has free slots.
    Idle,
    /// Keeps its conversations, takes no new ones.
    Busy,
    /// On a break: takes no new ones.
    Rest,
}

/// An agent's skill for one queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Skill {
    pub queue: QueueId,
    pub skill_weight: u32,
    pub agent_weight: u32,
}

/// What becomes of a conversation its queue cannot serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Overflow {
    /// The wait ends; the customer is told (and may leave a message where enabled).
    #[default]
    Release,
    /// The conversation moves to another skill queue.
    Transfer(QueueId),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueSettings {
    /// Conversations waiting at once; a queue this full sends new arrivals to `on_busy`.
    pub max_queued: usize,
    /// A conversation waiting this long goes to `on_timeout`.
    pub max_wait_ms: Millis,
    /// How long an agent wraps up after a conversation of this queue.
    pub wrap_up_ms: Millis,
    pub on_timeout: Overflow,
    pub on_busy: Overflow,
    pub on_no_agents: Overflow,
}

impl Default for QueueSettings {
    /// The defaults of a new skill queue (SPEC §2).
    fn default() -> Self {
        Self {
            max_queued: 100,
            max_wait_ms: 60_000,
            wrap_up_ms: 5_000,
            on_timeout: Overflow::Release,
            on_busy: Overflow::Release,
            on_no_agents: Overflow::Release,
        }
    }
}

/// Where a conversation goes when its agent stays silent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SilentAgentTransfer {
    /// Another free agent of the same queue.
    OtherAgent,
    /// The head of another queue.
    Queue(QueueId),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AgentSilence {
    /// How long a customer may wait for an agent's answer.
    pub after_ms: Millis,
    pub transfer: SilentAgentTransfer,
}

/// A channel's routing settings. Texts left empty are rendered by the server in the
/// customer's language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelSettings {
    pub work_time: WorkTime,
    pub out_of_hours_notice: String,
    /// Customers who cannot be served may leave a message.
    pub offline_messages: bool,
    pub reminder_interval_ms: Millis,
    pub reminder_text: String,
    /// Last-agent mode: how long a returning customer waits for their previous agent.
    pub last_agent_wait_ms: Option<Millis>,
    /// Customer silence: the prompt (if any) and the end, counted from the later of the
    /// assignment and the customer's last message.
    pub silence_prompt_ms: Option<Millis>,
    pub silence_prompt_text: String,
    pub silence_end_ms: Millis,
    pub conclusion_text: String,
    pub agent_silence: Option<AgentSilence>,
}

impl Default for ChannelSettings {
    /// A channel with nothing customised: always open, reminders every 10 s, the session
    /// ends after 20 minutes of customer silence.
    fn default() -> Self {
        Self {
            work_time: WorkTime::default(),
            out_of_hours_notice: String::new(),
            offline_messages: false,
            reminder_interval_ms: 10_000,
            reminder_text: String::new(),
            last_agent_wait_ms: None,
            silence_prompt_ms: None,
            silence_prompt_text: String::new(),
            silence_end_ms: 20 * 60_000,
            conclusion_text: String::new(),
            agent_silence: None,
        }
    }
}
