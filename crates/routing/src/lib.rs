//! The automatic call distribution of one tenant as a state machine:
//! [`Router::handle`] takes an event and the current time and answers the actions to
//! carry out. It does no IO, reads no clock and never awaits, so it is tested by driving
//! it with events, and the server applies its actions (store, notify, start timers).
//!
//! The rules of this version (the basic routing of the web chat; `docs/routing.md`):
//! - a conversation waits in its skill queue in arrival order;
//! - it goes to a signed-in, idle agent of that queue with a free chat slot: the highest
//!   skill weight first, then the highest agent weight, then the agent idle the longest,
//!   then the lowest id — never over capacity, never to two agents;
//! - when an agent frees up (signs in, turns idle, ends a conversation's wrap-up), it takes
//!   the waiting conversations of its queues, highest skill weight first, oldest first;
//! - ending a conversation puts its agent in wrap-up for the queue's wrap-up time, during
//!   which the agent gets nothing new.

mod agents;
mod queues;

use std::collections::HashMap;

use switchboard_domain::{ConversationId, EmployeeId, QueueId};

use agents::Agents;
use queues::Queues;

/// Milliseconds since the Unix epoch, given by the caller.
pub type Millis = i64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentStatus {
    /// Takes conversations while it has free slots.
    Idle,
    /// Keeps its conversations, takes no new ones.
    Busy,
    /// On a break: takes no new ones.
    Rest,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Skill {
    pub queue: QueueId,
    pub skill_weight: u32,
    pub agent_weight: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueSettings {
    pub wrap_up_ms: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A skill queue's settings, before the first event that names it and on change.
    QueueConfigured {
        queue: QueueId,
        settings: QueueSettings,
    },
    ConversationArrived {
        conversation: ConversationId,
        queue: QueueId,
    },
    /// The customer left or the conversation was closed, wherever it was.
    ConversationLeft {
        conversation: ConversationId,
    },
    /// The agent finished the conversation: its wrap-up starts.
    ConversationEnded {
        conversation: ConversationId,
    },
    AgentSignedIn {
        agent: EmployeeId,
        skills: Vec<Skill>,
        capacity: u32,
    },
    AgentSignedOut {
        agent: EmployeeId,
    },
    AgentStatusChanged {
        agent: EmployeeId,
        status: AgentStatus,
    },
    TimerFired {
        timer: Timer,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Timer {
    WrapUpEnds {
        agent: EmployeeId,
        conversation: ConversationId,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// The conversation waits; `position` counts from 1.
    Enqueued {
        conversation: ConversationId,
        queue: QueueId,
        position: usize,
    },
    Assigned {
        conversation: ConversationId,
        agent: EmployeeId,
        queue: QueueId,
    },
    /// A signed-out agent's conversation waits again, at the head of its queue.
    Requeued {
        conversation: ConversationId,
        queue: QueueId,
    },
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

/// Where a conversation the router knows is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Placement {
    Waiting { queue: QueueId },
    WithAgent { queue: QueueId, agent: EmployeeId },
    WrappingUp { agent: EmployeeId },
}

#[derive(Debug, Default)]
pub struct Router {
    settings: HashMap<QueueId, QueueSettings>,
    queues: Queues,
    agents: Agents,
    placements: HashMap<ConversationId, Placement>,
}

impl Router {
    pub fn handle(&mut self, event: Event, now: Millis) -> Vec<Action> {
        let mut actions = Vec::new();
        match event {
            Event::QueueConfigured { queue, settings } => {
                self.settings.insert(queue, settings);
            }
            Event::ConversationArrived {
                conversation,
                queue,
            } => self.arrive(conversation, queue, &mut actions),
            Event::ConversationLeft { conversation } => self.leave(conversation, now, &mut actions),
            Event::ConversationEnded { conversation } => self.end(conversation, now, &mut actions),
            Event::AgentSignedIn {
                agent,
                skills,
                capacity,
            } => {
                self.agents.sign_in(agent, skills, capacity, now);
                self.offer(agent, &mut actions);
            }
            Event::AgentSignedOut { agent } => self.sign_out(agent, &mut actions),
            Event::AgentStatusChanged { agent, status } => {
                if self.agents.set_status(agent, status, now) && status == AgentStatus::Idle {
                    self.offer(agent, &mut actions);
                }
            }
            Event::TimerFired {
                timer:
                    Timer::WrapUpEnds {
                        agent,
                        conversation,
                    },
            } => {
                if self.placements.get(&conversation) == Some(&Placement::WrappingUp { agent }) {
                    self.placements.remove(&conversation);
                    self.agents.release(agent, conversation, now);
                    actions.push(Action::WrapUpEnded {
                        agent,
                        conversation,
                    });
                    self.offer(agent, &mut actions);
                }
            }
        }
        actions
    }

    /// How many conversations wait in `queue`.
    pub fn waiting(&self, queue: QueueId) -> usize {
        self.queues.len(queue)
    }

    /// The conversations an agent holds (talking or wrapping up).
    pub fn load(&self, agent: EmployeeId) -> usize {
        self.agents.load(agent)
    }

    fn arrive(&mut self, conversation: ConversationId, queue: QueueId, actions: &mut Vec<Action>) {
        if self.placements.contains_key(&conversation) {
            return;
        }
        match self.agents.best_for(queue) {
            Some(agent) => self.assign(conversation, queue, agent, actions),
            None => {
                let position = self.queues.push_back(queue, conversation);
                self.placements
                    .insert(conversation, Placement::Waiting { queue });
                actions.push(Action::Enqueued {
                    conversation,
                    queue,
                    position,
                });
            }
        }
    }

    fn assign(
        &mut self,
        conversation: ConversationId,
        queue: QueueId,
        agent: EmployeeId,
        actions: &mut Vec<Action>,
    ) {
        self.agents.take(agent, conversation);
        self.placements
            .insert(conversation, Placement::WithAgent { queue, agent });
        actions.push(Action::Assigned {
            conversation,
            agent,
            queue,
        });
    }

    fn leave(&mut self, conversation: ConversationId, now: Millis, actions: &mut Vec<Action>) {
        match self.placements.remove(&conversation) {
            Some(Placement::Waiting { queue }) => self.queues.remove(queue, conversation),
            Some(Placement::WithAgent { agent, .. }) => {
                self.agents.release(agent, conversation, now);
                self.offer(agent, actions);
            }
            Some(Placement::WrappingUp { agent }) => {
                actions.push(Action::CancelTimer {
                    timer: Timer::WrapUpEnds {
                        agent,
                        conversation,
                    },
                });
                self.agents.release(agent, conversation, now);
                actions.push(Action::WrapUpEnded {
                    agent,
                    conversation,
                });
                self.offer(agent, actions);
            }
            None => {}
        }
    }

    fn end(&mut self, conversation: ConversationId, now: Millis, actions: &mut Vec<Action>) {
        let Some(Placement::WithAgent { queue, agent }) =
            self.placements.get(&conversation).copied()
        else {
            return self.leave(conversation, now, actions);
        };
        let wrap_up = self.settings.get(&queue).map_or(0, |s| s.wrap_up_ms);
        if wrap_up <= 0 {
            self.placements.remove(&conversation);
            self.agents.release(agent, conversation, now);
            self.offer(agent, actions);
            return;
        }
        self.placements
            .insert(conversation, Placement::WrappingUp { agent });
        self.agents.start_wrap_up(agent, conversation);
        actions.push(Action::WrapUpStarted {
            agent,
            conversation,
        });
        actions.push(Action::StartTimer {
            timer: Timer::WrapUpEnds {
                agent,
                conversation,
            },
            at: now + wrap_up,
        });
    }

    fn sign_out(&mut self, agent: EmployeeId, actions: &mut Vec<Action>) {
        let mut touched = Vec::new();
        // Back to the head of their queues, keeping their order among themselves.
        for conversation in self.agents.sign_out(agent).into_iter().rev() {
            match self.placements.get(&conversation).copied() {
                Some(Placement::WithAgent { queue, .. }) => {
                    self.queues.push_front(queue, conversation);
                    self.placements
                        .insert(conversation, Placement::Waiting { queue });
                    actions.push(Action::Requeued {
                        conversation,
                        queue,
                    });
                    touched.push(queue);
                }
                Some(Placement::WrappingUp { .. }) => {
                    self.placements.remove(&conversation);
                    actions.push(Action::CancelTimer {
                        timer: Timer::WrapUpEnds {
                            agent,
                            conversation,
                        },
                    });
                }
                _ => {}
            }
        }
        for queue in touched {
            self.drain(queue, actions);
        }
    }

    /// Gives the head of `queue` to the best free agent, as long as there is one.
    fn drain(&mut self, queue: QueueId, actions: &mut Vec<Action>) {
        while self.queues.len(queue) > 0 {
            let Some(agent) = self.agents.best_for(queue) else {
                return;
            };
            let Some(conversation) = self.queues.pop_front(queue) else {
                return;
            };
            self.assign(conversation, queue, agent, actions);
        }
    }

    /// Gives a free agent the waiting conversations it may take.
    fn offer(&mut self, agent: EmployeeId, actions: &mut Vec<Action>) {
        while self.agents.has_free_slot(agent) {
            let Some((queue, conversation)) = self.queues.next_for(self.agents.skills(agent))
            else {
                return;
            };
            self.assign(conversation, queue, agent, actions);
        }
    }
}

#[cfg(test)]
mod tests;
