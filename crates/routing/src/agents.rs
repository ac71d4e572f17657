//! The agents the router knows: signed in (or restored, awaiting their sign-in), with
//! their skills, capacity, status and the conversations they hold. Free agents are
//! indexed per queue in choice order, so that picking one does not scan every agent.

use std::cmp::Reverse;
use std::collections::{BTreeSet, HashMap};

use switchboard_domain::{ConversationId, EmployeeId, QueueId};

use crate::config::{AgentStatus, Skill};
use crate::Millis;

/// Which agents may take a waiting conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Eligibility {
    Anyone,
    /// Reserved for the customer's previous agent (last-agent mode).
    Only(EmployeeId),
    /// Anyone but the agent who handed it on.
    Except(EmployeeId),
}

impl Eligibility {
    pub fn admits(self, agent: EmployeeId) -> bool {
        match self {
            Eligibility::Anyone => true,
            Eligibility::Only(only) => only == agent,
            Eligibility::Except(except) => except != agent,
        }
    }
}

/// Highest skill weight, then highest agent weight, then free the longest, then the
/// lowest id: the smallest rank is chosen first.
type Rank = (Reverse<u32>, Reverse<u32>, Millis, EmployeeId);

#[derive(Debug)]
struct Agent {
    skills: Vec<Skill>,
    capacity: u32,
    status: AgentStatus,
    /// False while the connection is lost, and for an agent restored after a restart
    /// until it signs in again.
    connected: bool,
    /// Talking or wrapping up, in the order they were taken.
    holding: Vec<ConversationId>,
    wrapping_up: BTreeSet<ConversationId>,
    /// When the agent last became free, for "free the longest".
    free_since: Millis,
    /// The `free_since` under which the agent is in the free index, if it is.
    indexed: Option<Millis>,
}

impl Agent {
    fn free(&self) -> bool {
        self.connected
            && self.status == AgentStatus::Idle
            && self.wrapping_up.is_empty()
            && self.holding.len() < usize::try_from(self.capacity).unwrap_or(usize::MAX)
    }

    fn rank(skill: &Skill, free_since: Millis, id: EmployeeId) -> Rank {
        (
            Reverse(skill.skill_weight),
            Reverse(skill.agent_weight),
            free_since,
            id,
        )
    }
}

#[derive(Debug, Default)]
pub struct Agents {
    by_id: HashMap<EmployeeId, Agent>,
    free: HashMap<QueueId, BTreeSet<Rank>>,
    /// Signed-in agents (connected or within their grace) with a skill for the queue.
    on_duty: HashMap<QueueId, usize>,
}

impl Agents {
    /// Signs an agent in, idle and connected; signing in again (or after a restart)
    /// keeps its status and conversations and takes the new skills and capacity.
    pub fn sign_in(&mut self, id: EmployeeId, skills: Vec<Skill>, capacity: u32, now: Millis) {
        self.unindex(id);
        let agent = self.by_id.entry(id).or_insert_with(|| Agent {
            skills: Vec::new(),
            capacity: 0,
            status: AgentStatus::Idle,
            connected: true,
            holding: Vec::new(),
            wrapping_up: BTreeSet::new(),
            free_since: now,
            indexed: None,
        });
        for skill in &agent.skills {
            Self::count_off(&mut self.on_duty, skill.queue);
        }
        for skill in &skills {
            *self.on_duty.entry(skill.queue).or_default() += 1;
        }
        agent.skills = skills;
        agent.capacity = capacity;
        agent.connected = true;
        self.index(id);
    }

    /// An agent holding a conversation when the server stopped: known, disconnected,
    /// with no skills until it signs in again.
    pub fn restore(&mut self, id: EmployeeId, conversation: ConversationId, now: Millis) {
        let agent = self.by_id.entry(id).or_insert_with(|| Agent {
            skills: Vec::new(),
            capacity: 0,
            status: AgentStatus::Idle,
            connected: false,
            holding: Vec::new(),
            wrapping_up: BTreeSet::new(),
            free_since: now,
            indexed: None,
        });
        agent.holding.push(conversation);
    }

    /// Removes the agent; answers the conversations it held, in the order it took them.
    pub fn sign_out(&mut self, id: EmployeeId) -> Vec<ConversationId> {
        self.unindex(id);
        let Some(agent) = self.by_id.remove(&id) else {
            return Vec::new();
        };
        for skill in &agent.skills {
            Self::count_off(&mut self.on_duty, skill.queue);
        }
        agent.holding
    }

    fn count_off(on_duty: &mut HashMap<QueueId, usize>, queue: QueueId) {
        if let Some(count) = on_duty.get_mut(&queue) {
            *count -= 1;
            if *count == 0 {
                on_duty.remove(&queue);
            }
        }
    }

    pub fn is_signed_in(&self, id: EmployeeId) -> bool {
        self.by_id.contains_key(&id)
    }

    pub fn is_connected(&self, id: EmployeeId) -> bool {
        self.by_id.get(&id).is_some_and(|a| a.connected)
    }

    /// Answers whether the connection state changed.
    pub fn set_connected(&mut self, id: EmployeeId, connected: bool, now: Millis) -> bool {
        self.change(id, now, |agent| {
            let changed = agent.connected != connected;
            agent.connected = connected;
            changed
        })
    }

    /// Answers whether the status changed.
    pub fn set_status(&mut self, id: EmployeeId, status: AgentStatus, now: Millis) -> bool {
        self.change(id, now, |agent| {
            let changed = agent.status != status;
            agent.status = status;
            changed
        })
    }

    pub fn set_capacity(&mut self, id: EmployeeId, capacity: u32, now: Millis) -> bool {
        self.change(id, now, |agent| {
            let changed = agent.capacity != capacity;
            agent.capacity = capacity;
            changed
        })
    }

    pub fn take(&mut self, id: EmployeeId, conversation: ConversationId, now: Millis) {
        self.change(id, now, |agent| {
            agent.holding.push(conversation);
            true
        });
    }

    pub fn start_wrap_up(&mut self, id: EmployeeId, conversation: ConversationId, now: Millis) {
        self.change(id, now, |agent| agent.wrapping_up.insert(conversation));
    }

    /// The agent no longer holds the conversation (ended, wrapped up, handed on, gone).
    pub fn release(&mut self, id: EmployeeId, conversation: ConversationId, now: Millis) {
        self.change(id, now, |agent| {
            agent.holding.retain(|c| *c != conversation);
            agent.wrapping_up.remove(&conversation);
            agent.free_since = now;
            true
        });
    }

    /// Applies a change to an agent and keeps the free index right; a change that made
    /// the agent free dates its "free since" from now.
    fn change(
        &mut self,
        id: EmployeeId,
        now: Millis,
        apply: impl FnOnce(&mut Agent) -> bool,
    ) -> bool {
        let Some(agent) = self.by_id.get_mut(&id) else {
            return false;
        };
        let was_free = agent.free();
        let changed = apply(agent);
        if agent.free() && !was_free {
            agent.free_since = agent.free_since.max(now);
        }
        self.unindex(id);
        self.index(id);
        changed
    }

    fn unindex(&mut self, id: EmployeeId) {
        let Some(agent) = self.by_id.get_mut(&id) else {
            return;
        };
        if let Some(since) = agent.indexed.take() {
            for skill in &agent.skills {
                if let Some(free) = self.free.get_mut(&skill.queue) {
                    free.remove(&Agent::rank(skill, since, id));
                }
            }
        }
    }

    fn index(&mut self, id: EmployeeId) {
        let Some(agent) = self.by_id.get_mut(&id) else {
            return;
        };
        if !agent.free() {
            return;
        }
        agent.indexed = Some(agent.free_since);
        for skill in &agent.skills {
            self.free
                .entry(skill.queue)
                .or_default()
                .insert(Agent::rank(skill, agent.free_since, id));
        }
    }

    pub fn is_free(&self, id: EmployeeId) -> bool {
        self.by_id.get(&id).is_some_and(Agent::free)
    }

    pub fn skills(&self, id: EmployeeId) -> &[Skill] {
        self.by_id.get(&id).map_or(&[], |a| a.skills.as_slice())
    }

    pub fn has_skill(&self, id: EmployeeId, queue: QueueId) -> bool {
        self.skills(id).iter().any(|s| s.queue == queue)
    }

    pub fn load(&self, id: EmployeeId) -> usize {
        self.by_id.get(&id).map_or(0, |a| a.holding.len())
    }

    /// Whether any agent with a skill for the queue is signed in, free or not.
    pub fn on_duty(&self, queue: QueueId) -> bool {
        self.on_duty.contains_key(&queue)
    }

    /// Whether any agent with a skill for the queue is free now.
    pub fn any_free(&self, queue: QueueId) -> bool {
        self.free.get(&queue).is_some_and(|f| !f.is_empty())
    }

    /// The free agent with a skill for `queue` that should take a conversation open to
    /// `eligible` agents.
    pub fn best_for(&self, queue: QueueId, eligible: Eligibility) -> Option<EmployeeId> {
        match eligible {
            Eligibility::Only(only) => {
                (self.is_free(only) && self.has_skill(only, queue)).then_some(only)
            }
            _ => self
                .free
                .get(&queue)?
                .iter()
                .map(|rank| rank.3)
                .find(|id| eligible.admits(*id)),
        }
    }
}
