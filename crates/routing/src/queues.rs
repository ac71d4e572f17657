//! Waiting conversations per skill queue, first come first served. Each carries an
//! arrival number so that an agent of several queues can take the oldest head; a
//! conversation put back at the head gets a number older than every other.

use std::collections::{HashMap, VecDeque};

use switchboard_domain::{ConversationId, QueueId};

use crate::Skill;

#[derive(Debug, Default)]
pub struct Queues {
    by_queue: HashMap<QueueId, VecDeque<(i64, ConversationId)>>,
    next_back: i64,
    next_front: i64,
}

impl Queues {
    /// Adds at the tail; answers the position, from 1.
    pub fn push_back(&mut self, queue: QueueId, conversation: ConversationId) -> usize {
        self.next_back += 1;
        let waiting = self.by_queue.entry(queue).or_default();
        waiting.push_back((self.next_back, conversation));
        waiting.len()
    }

    pub fn push_front(&mut self, queue: QueueId, conversation: ConversationId) {
        self.next_front -= 1;
        self.by_queue
            .entry(queue)
            .or_default()
            .push_front((self.next_front, conversation));
    }

    pub fn pop_front(&mut self, queue: QueueId) -> Option<ConversationId> {
        self.by_queue.get_mut(&queue)?.pop_front().map(|(_, c)| c)
    }

    pub fn remove(&mut self, queue: QueueId, conversation: ConversationId) {
        if let Some(waiting) = self.by_queue.get_mut(&queue) {
            waiting.retain(|(_, c)| *c != conversation);
        }
    }

    pub fn len(&self, queue: QueueId) -> usize {
        self.by_queue.get(&queue).map_or(0, VecDeque::len)
    }

    /// Takes the conversation an agent with `skills` should serve next: from its queues
    /// of the highest skill weight that have someone waiting, the one waiting longest.
    pub fn next_for(&mut self, skills: &[Skill]) -> Option<(QueueId, ConversationId)> {
        let (queue, _) = skills
            .iter()
            .filter_map(|skill| {
                let (arrival, _) = self.by_queue.get(&skill.queue)?.front()?;
                Some((
                    skill.queue,
                    (skill.skill_weight, std::cmp::Reverse(*arrival)),
                ))
            })
            .max_by_key(|(_, rank)| *rank)?;
        self.pop_front(queue)
            .map(|conversation| (queue, conversation))
    }
}
