//! Waiting conversations per skill queue, ordered by place: arrivals take places after
//! every other, conversations put back at the head take places before every other.
//! Places survive a restart (the server stores them), so a restored queue keeps its order.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use switchboard_domain::{ConversationId, EmployeeId, QueueId};

use crate::agents::Eligibility;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    Head,
    Tail,
}

#[derive(Debug, Default)]
pub struct Queues {
    by_queue: HashMap<QueueId, BTreeMap<i64, (ConversationId, Eligibility)>>,
    place_of: HashMap<ConversationId, (QueueId, i64)>,
    /// Conversations reserved for an agent (last-agent mode), by place.
    reserved: HashMap<EmployeeId, BTreeSet<(i64, ConversationId)>>,
    last_tail: i64,
    last_head: i64,
}

impl Queues {
    /// Adds a conversation; answers its place and its position (from 1).
    pub fn push(
        &mut self,
        queue: QueueId,
        conversation: ConversationId,
        eligible: Eligibility,
        end: End,
    ) -> (i64, usize) {
        let place = match end {
            End::Tail => {
                self.last_tail += 1;
                self.last_tail
            }
            End::Head => {
                self.last_head -= 1;
                self.last_head
            }
        };
        self.insert(queue, conversation, eligible, place);
        let position = match end {
            End::Tail => self.len(queue),
            End::Head => 1,
        };
        (place, position)
    }

    /// Puts a conversation back at the place it had before a restart.
    pub fn restore(&mut self, queue: QueueId, conversation: ConversationId, place: i64) {
        self.last_tail = self.last_tail.max(place);
        self.last_head = self.last_head.min(place);
        self.insert(queue, conversation, Eligibility::Anyone, place);
    }

    fn insert(
        &mut self,
        queue: QueueId,
        conversation: ConversationId,
        eligible: Eligibility,
        place: i64,
    ) {
        self.by_queue
            .entry(queue)
            .or_default()
            .insert(place, (conversation, eligible));
        self.place_of.insert(conversation, (queue, place));
        if let Eligibility::Only(agent) = eligible {
            self.reserved
                .entry(agent)
                .or_default()
                .insert((place, conversation));
        }
    }

    /// Takes a conversation out of its queue; answers the queue it was in.
    pub fn remove(&mut self, conversation: ConversationId) -> Option<QueueId> {
        let (queue, place) = self.place_of.remove(&conversation)?;
        let waiting = self.by_queue.get_mut(&queue)?;
        let removed = waiting.remove(&place);
        if waiting.is_empty() {
            self.by_queue.remove(&queue);
        }
        if let Some((_, Eligibility::Only(agent))) = removed {
            self.unreserve(agent, place, conversation);
        }
        Some(queue)
    }

    fn unreserve(&mut self, agent: EmployeeId, place: i64, conversation: ConversationId) {
        if let Some(reserved) = self.reserved.get_mut(&agent) {
            reserved.remove(&(place, conversation));
            if reserved.is_empty() {
                self.reserved.remove(&agent);
            }
        }
    }

    /// Opens a reserved conversation to every agent, keeping its place.
    pub fn open_to_anyone(&mut self, conversation: ConversationId) {
        let Some(&(queue, place)) = self.place_of.get(&conversation) else {
            return;
        };
        let Some(entry) = self
            .by_queue
            .get_mut(&queue)
            .and_then(|w| w.get_mut(&place))
        else {
            return;
        };
        if let Eligibility::Only(agent) = std::mem::replace(&mut entry.1, Eligibility::Anyone) {
            self.unreserve(agent, place, conversation);
        }
    }

    pub fn len(&self, queue: QueueId) -> usize {
        self.by_queue.get(&queue).map_or(0, BTreeMap::len)
    }

    /// The conversation's position in its queue, from 1. Counting is linear in the
    /// position: reminders are rare next to arrivals and assignments.
    pub fn position(&self, conversation: ConversationId) -> Option<usize> {
        let (queue, place) = self.place_of.get(&conversation)?;
        let ahead = self.by_queue.get(queue)?.range(..*place).count();
        Some(ahead + 1)
    }

    /// The oldest conversation reserved for the agent in one of `queues`.
    pub fn reserved_for(
        &self,
        agent: EmployeeId,
        mut has_skill: impl FnMut(QueueId) -> bool,
    ) -> Option<(QueueId, ConversationId)> {
        self.reserved
            .get(&agent)?
            .iter()
            .filter_map(|(_, c)| Some((self.place_of.get(c)?.0, *c)))
            .find(|(queue, _)| has_skill(*queue))
    }

    /// The first conversation of `queue` the agent may take, with its place.
    pub fn first_for(&self, queue: QueueId, agent: EmployeeId) -> Option<(i64, ConversationId)> {
        self.by_queue
            .get(&queue)?
            .iter()
            .find(|(_, (_, eligible))| eligible.admits(agent))
            .map(|(place, (conversation, _))| (*place, *conversation))
    }

    /// The queue's conversations in order, with who may take them.
    pub fn waiting(
        &self,
        queue: QueueId,
    ) -> impl Iterator<Item = (ConversationId, Eligibility)> + '_ {
        self.by_queue
            .get(&queue)
            .into_iter()
            .flat_map(|w| w.values().copied())
    }
}
