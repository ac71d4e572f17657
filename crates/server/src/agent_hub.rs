//! Events for agents' desktops: one broadcast channel per signed-in agent, which each of
//! its WebSocket connections subscribes to. A connection that falls behind is told to
//! resynchronise through the REST API rather than silently missing events. An event is
//! serialised once, whatever the number of connections.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::Serialize;
use switchboard_domain::EmployeeId;
use tokio::sync::broadcast;

const BACKLOG: usize = 256;

/// An event as the JSON text sent on the socket.
pub type Event = Arc<str>;

#[derive(Default)]
pub struct AgentHub {
    channels: Mutex<HashMap<EmployeeId, broadcast::Sender<Event>>>,
}

impl AgentHub {
    pub fn subscribe(&self, agent: EmployeeId) -> broadcast::Receiver<Event> {
        self.lock()
            .entry(agent)
            .or_insert_with(|| broadcast::channel(BACKLOG).0)
            .subscribe()
    }

    /// How many connections the agent has open.
    pub fn connections(&self, agent: EmployeeId) -> usize {
        self.lock()
            .get(&agent)
            .map_or(0, broadcast::Sender::receiver_count)
    }

    /// Sends to the agent's connections, if it has any.
    pub fn send(&self, agent: EmployeeId, event: &impl Serialize) {
        let mut channels = self.lock();
        if let Some(sender) = channels.get(&agent) {
            let text = match serde_json::to_string(event) {
                Ok(text) => text,
                Err(error) => {
                    tracing::error!(%error, "an agent event could not be written as JSON");
                    return;
                }
            };
            if sender.send(Arc::from(text)).is_err() {
                channels.remove(&agent);
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<EmployeeId, broadcast::Sender<Event>>> {
        self.channels
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
