//! The agents the router knows: signed in, with their skills, capacity, status and the
//! conversations they hold.

use std::cmp::Reverse;
use std::collections::{BTreeMap, HashSet};

use switchboard_domain::{ConversationId, EmployeeId, QueueId};

use crate::{AgentStatus, Millis, Skill};

#[derive(Debug)]
struct Agent {
    skills: Vec<Skill>,
    capacity: u32,
    status: AgentStatus,
    /// Talking or wrapping up, in the order they were taken.
    conversations: Vec<ConversationId>,
    wrapping_up: HashSet<ConversationId>,
    /// When the agent last became free, for "idle the longest".
    free_since: Millis,
}

#[derive(Debug, Default)]
pub struct Agents {
    by_id: BTreeMap<EmployeeId, Agent>,
}

impl Agents {
    /// Signs an agent in, idle; signing in again updates skills and capacity only.
    pub fn sign_in(&mut self, id: EmployeeId, skills: Vec<Skill>, capacity: u32, now: Millis) {
        let agent = self.by_id.entry(id).or_insert_with(|| Agent {
            skills: Vec::new(),
            capacity: 0,
            status: AgentStatus::Idle,
            conversations: Vec::new(),
            wrapping_up: HashSet::new(),
            free_since: now,
        });
        agent.skills = skills;
        agent.capacity = capacity;
    }

    /// The agent's conversations, which it no longer holds.
    pub fn sign_out(&mut self, id: EmployeeId) -> Vec<ConversationId> {
        self.by_id
            .remove(&id)
            .map(|agent| agent.conversations)
            .unwrap_or_default()
    }

    /// `false` when the agent is not signed in or already had this status.
    pub fn set_status(&mut self, id: EmployeeId, status: AgentStatus, now: Millis) -> bool {
        let Some(agent) = self.by_id.get_mut(&id) else {
            return false;
        };
        if agent.status == status {
            return false;
        }
        agent.status = status;
        if status == AgentStatus::Idle {
            agent.free_since = now;
        }
        true
    }

    pub fn take(&mut self, id: EmployeeId, conversation: ConversationId) {
        if let Some(agent) = self.by_id.get_mut(&id) {
            agent.conversations.push(conversation);
        }
    }

    pub fn start_wrap_up(&mut self, id: EmployeeId, conversation: ConversationId) {
        if let Some(agent) = self.by_id.get_mut(&id) {
            agent.wrapping_up.insert(conversation);
        }
    }

    /// The agent no longer holds the conversation (ended, wrapped up, or gone).
    pub fn release(&mut self, id: EmployeeId, conversation: ConversationId, now: Millis) {
        if let Some(agent) = self.by_id.get_mut(&id) {
            agent.conversations.retain(|c| *c != conversation);
            agent.wrapping_up.remove(&conversation);
            agent.free_since = now;
        }
    }

    pub fn has_free_slot(&self, id: EmployeeId) -> bool {
        self.by_id.get(&id).is_some_and(Agent::free)
    }

    pub fn skills(&self, id: EmployeeId) -> &[Skill] {
        self.by_id
            .get(&id)
            .map_or(&[], |agent| agent.skills.as_slice())
    }

    pub fn load(&self, id: EmployeeId) -> usize {
        self.by_id
            .get(&id)
            .map_or(0, |agent| agent.conversations.len())
    }

    /// The free agent of `queue` that should take its next conversation: highest skill
    /// weight, then agent weight, then free the longest, then lowest id.
    pub fn best_for(&self, queue: QueueId) -> Option<EmployeeId> {
        self.by_id
            .iter()
            .filter(|(_, agent)| agent.free())
            .filter_map(|(id, agent)| {
                let skill = agent.skills.iter().find(|s| s.queue == queue)?;
                Some((
                    (
                        skill.skill_weight,
                        skill.agent_weight,
                        Reverse(agent.free_since),
                        Reverse(*id),
                    ),
                    *id,
                ))
            })
            .max_by_key(|(rank, _)| *rank)
            .map(|(_, id)| id)
    }
}

impl Agent {
    fn free(&self) -> bool {
        self.status == AgentStatus::Idle
            && self.wrapping_up.is_empty()
            && self.conversations.len() < usize::try_from(self.capacity).unwrap_or(usize::MAX)
    }
}
