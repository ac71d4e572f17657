//! The messages of conversations, folded for the router. Of a message routing needs only
//! who wrote it: a customer's restarts the customer's silence and starts the agent's
//! unless it is running; an agent's stops the agent's. So whatever was written in a
//! conversation since routing last looked has the effect, at the moment it looks, of at
//! most two events — which lets a server storing thousands of messages a second hand its
//! router a few events instead of one per message.

use std::collections::HashMap;

use switchboard_domain::ConversationId;

use crate::Event;

/// Who wrote a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Writer {
    Customer,
    Agent,
}

/// Who wrote in one conversation since routing last looked, as the shortest sequence of
/// the same effect: writing twice in a row is writing once (a silence restarted at the
/// same moment, or stopped twice); customer–agent–customer is agent–customer (the agent's
/// silence starts afresh from the last customer message), agent–customer–agent is
/// customer–agent (it ends stopped).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Written {
    Customer,
    Agent,
    AgentThenCustomer,
    CustomerThenAgent,
}

impl Written {
    fn first(writer: Writer) -> Self {
        match writer {
            Writer::Customer => Self::Customer,
            Writer::Agent => Self::Agent,
        }
    }

    fn then(self, writer: Writer) -> Self {
        match (self, writer) {
            (Self::Customer | Self::AgentThenCustomer, Writer::Customer)
            | (Self::Agent | Self::CustomerThenAgent, Writer::Agent) => self,
            (Self::Agent | Self::CustomerThenAgent, Writer::Customer) => Self::AgentThenCustomer,
            (Self::Customer | Self::AgentThenCustomer, Writer::Agent) => Self::CustomerThenAgent,
        }
    }

    fn events(self, conversation: ConversationId) -> impl Iterator<Item = Event> {
        let customer = Event::CustomerMessage { conversation };
        let agent = Event::AgentReplied { conversation };
        let (first, second) = match self {
            Self::Customer => (customer, None),
            Self::Agent => (agent, None),
            Self::AgentThenCustomer => (agent, Some(customer)),
            Self::CustomerThenAgent => (customer, Some(agent)),
        };
        std::iter::once(first).chain(second)
    }
}

/// Messages written since the router last heard of them, folded per conversation: as
/// large as the number of conversations written in, however many messages that was.
#[derive(Debug, Default)]
pub struct MessagesHeard {
    conversations: HashMap<ConversationId, Written>,
}

impl MessagesHeard {
    pub fn hear(&mut self, conversation: ConversationId, writer: Writer) {
        self.conversations
            .entry(conversation)
            .and_modify(|written| *written = written.then(writer))
            .or_insert_with(|| Written::first(writer));
    }

    pub fn is_empty(&self) -> bool {
        self.conversations.is_empty()
    }

    /// The events with the effect of every message heard, which are forgotten.
    pub fn take_events(&mut self) -> Vec<Event> {
        self.conversations
            .drain()
            .flat_map(|(conversation, written)| written.events(conversation))
            .collect()
    }
}
