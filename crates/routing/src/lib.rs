//! The automatic call distribution (ACD) of one tenant as a state machine:
//! [`Router::handle`] takes an event and the current time and answers the actions to
//! carry out. It does no IO, reads no clock and never awaits, so it is tested by driving
//! it with events (and by simulating whole days with a virtual clock), and the server
//! applies its actions: store them, tell the agent and the customer, run the timers.
//!
//! The rules are written out in `docs/routing.md`.

mod agents;
mod config;
mod deadlines;
mod event;
mod heard;
mod queues;
mod router;

pub use config::{
    AgentSilence, AgentStatus, ChannelSettings, Overflow, QueueSettings, SilentAgentTransfer, Skill,
};
pub use deadlines::Deadlines;
pub use event::{
    Action, Event, Notice, OverflowReason, ReleaseReason, Restored, Timer, TransferReason,
    TransferRefusal, TransferTarget,
};
pub use heard::{MessagesHeard, Writer};
pub use router::{Router, Waiting, DEFAULT_RECONNECT_GRACE_MS, MAX_OVERFLOW_TRANSFERS};

/// Milliseconds since the Unix epoch, given by the caller.
pub type Millis = i64;

#[cfg(test)]
mod tests;
