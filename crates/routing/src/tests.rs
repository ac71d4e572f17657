use std::collections::{HashMap, HashSet};

use switchboard_domain::{ConversationId, EmployeeId, QueueId};

use super::*;

const SALES: QueueId = QueueId(1);
const SUPPORT: QueueId = QueueId(2);

fn c(n: i64) -> ConversationId {
    ConversationId(n)
}

fn a(n: i64) -> EmployeeId {
    EmployeeId(n)
}

fn skill(queue: QueueId, skill_weight: u32, agent_weight: u32) -> Skill {
    Skill {
        queue,
        skill_weight,
        agent_weight,
    }
}

fn router(wrap_up_ms: Millis) -> Router {
    let mut router = Router::default();
    for queue in [SALES, SUPPORT] {
        router.handle(
            Event::QueueConfigured {
                queue,
                settings: QueueSettings { wrap_up_ms },
            },
            0,
        );
    }
    router
}

fn sign_in(
    router: &mut Router,
    agent: EmployeeId,
    skills: Vec<Skill>,
    capacity: u32,
    now: Millis,
) -> Vec<Action> {
    router.handle(
        Event::AgentSignedIn {
            agent,
            skills,
            capacity,
        },
        now,
    )
}

fn arrive(
    router: &mut Router,
    conversation: ConversationId,
    queue: QueueId,
    now: Millis,
) -> Vec<Action> {
    router.handle(
        Event::ConversationArrived {
            conversation,
            queue,
        },
        now,
    )
}

fn assigned(actions: &[Action]) -> Vec<(ConversationId, EmployeeId)> {
    actions
        .iter()
        .filter_map(|action| match action {
            Action::Assigned {
                conversation,
                agent,
                ..
            } => Some((*conversation, *agent)),
            _ => None,
        })
        .collect()
}

#[test]
fn a_conversation_goes_to_a_free_agent_of_its_queue() {
    let mut r = router(0);
    sign_in(&mut r, a(1), vec![skill(SUPPORT, 1, 1)], 5, 0);
    sign_in(&mut r, a(2), vec![skill(SALES, 1, 1)], 5, 0);
    assert_eq!(
        assigned(&arrive(&mut r, c(10), SALES, 1)),
        vec![(c(10), a(2))]
    );
}

#[test]
fn without_a_free_agent_conversations_wait_in_arrival_order() {
    let mut r = router(0);
    let positions: Vec<_> = (1..=3)
        .map(|n| arrive(&mut r, c(n), SALES, n))
        .map(|actions| match actions.as_slice() {
            [Action::Enqueued { position, .. }] => *position,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(positions, vec![1, 2, 3]);
    let taken = sign_in(&mut r, a(1), vec![skill(SALES, 1, 1)], 2, 10);
    assert_eq!(
        assigned(&taken),
        vec![(c(1), a(1)), (c(2), a(1))],
        "first come, first served, up to capacity"
    );
    assert_eq!(r.waiting(SALES), 1);
}

#[test]
fn skill_weight_wins_then_agent_weight_then_the_agent_free_longest() {
    let mut r = router(0);
    sign_in(&mut r, a(1), vec![skill(SALES, 1, 9)], 1, 0);
    sign_in(&mut r, a(2), vec![skill(SALES, 5, 1)], 1, 0);
    assert_eq!(
        assigned(&arrive(&mut r, c(1), SALES, 1)),
        vec![(c(1), a(2))],
        "skill weight first"
    );
    sign_in(&mut r, a(3), vec![skill(SALES, 1, 1)], 1, 2);
    assert_eq!(
        assigned(&arrive(&mut r, c(2), SALES, 3)),
        vec![(c(2), a(1))],
        "then agent weight"
    );
    sign_in(&mut r, a(4), vec![skill(SALES, 1, 1)], 1, 1);
    assert_eq!(
        assigned(&arrive(&mut r, c(3), SALES, 4)),
        vec![(c(3), a(4))],
        "then the one free since earlier"
    );
}

#[test]
fn capacity_is_never_exceeded() {
    let mut r = router(0);
    sign_in(&mut r, a(1), vec![skill(SALES, 1, 1)], 2, 0);
    for n in 1..=5 {
        arrive(&mut r, c(n), SALES, n);
    }
    assert_eq!((r.load(a(1)), r.waiting(SALES)), (2, 3));
}

#[test]
fn busy_and_resting_agents_take_nothing_new_until_idle_again() {
    let mut r = router(0);
    sign_in(&mut r, a(1), vec![skill(SALES, 1, 1)], 3, 0);
    r.handle(
        Event::AgentStatusChanged {
            agent: a(1),
            status: AgentStatus::Rest,
        },
        1,
    );
    arrive(&mut r, c(1), SALES, 2);
    r.handle(
        Event::AgentStatusChanged {
            agent: a(1),
            status: AgentStatus::Busy,
        },
        3,
    );
    arrive(&mut r, c(2), SALES, 4);
    assert_eq!(r.waiting(SALES), 2);
    let idle = r.handle(
        Event::AgentStatusChanged {
            agent: a(1),
            status: AgentStatus::Idle,
        },
        5,
    );
    assert_eq!(assigned(&idle), vec![(c(1), a(1)), (c(2), a(1))]);
}

#[test]
fn ending_a_conversation_wraps_up_before_the_agent_takes_the_next() {
    let mut r = router(5_000);
    sign_in(&mut r, a(1), vec![skill(SALES, 1, 1)], 1, 0);
    arrive(&mut r, c(1), SALES, 1);
    arrive(&mut r, c(2), SALES, 2);
    let ended = r.handle(Event::ConversationEnded { conversation: c(1) }, 100);
    let timer = Timer::WrapUpEnds {
        agent: a(1),
        conversation: c(1),
    };
    assert_eq!(
        ended,
        vec![
            Action::WrapUpStarted {
                agent: a(1),
                conversation: c(1)
            },
            Action::StartTimer { timer, at: 5_100 }
        ]
    );
    assert_eq!(r.waiting(SALES), 1, "nothing new during wrap-up");
    let after = r.handle(Event::TimerFired { timer }, 5_100);
    assert_eq!(
        after[0],
        Action::WrapUpEnded {
            agent: a(1),
            conversation: c(1)
        }
    );
    assert_eq!(assigned(&after), vec![(c(2), a(1))]);
}

#[test]
fn without_wrap_up_time_the_agent_takes_the_next_at_once() {
    let mut r = router(0);
    sign_in(&mut r, a(1), vec![skill(SALES, 1, 1)], 1, 0);
    arrive(&mut r, c(1), SALES, 1);
    arrive(&mut r, c(2), SALES, 2);
    assert_eq!(
        assigned(&r.handle(Event::ConversationEnded { conversation: c(1) }, 3)),
        vec![(c(2), a(1))]
    );
}

#[test]
fn signing_out_puts_conversations_back_at_the_head_for_other_agents() {
    let mut r = router(0);
    sign_in(&mut r, a(1), vec![skill(SALES, 1, 1)], 2, 0);
    arrive(&mut r, c(1), SALES, 1);
    arrive(&mut r, c(2), SALES, 2);
    arrive(&mut r, c(3), SALES, 3);
    let out = r.handle(Event::AgentSignedOut { agent: a(1) }, 4);
    assert_eq!(
        out,
        vec![
            Action::Requeued {
                conversation: c(2),
                queue: SALES
            },
            Action::Requeued {
                conversation: c(1),
                queue: SALES
            }
        ]
    );
    let taken = sign_in(&mut r, a(2), vec![skill(SALES, 1, 1)], 3, 5);
    assert_eq!(
        assigned(&taken),
        vec![(c(1), a(2)), (c(2), a(2)), (c(3), a(2))],
        "requeued ones first, in their order"
    );
}

#[test]
fn a_customer_who_leaves_frees_the_queue_place_or_the_agent_slot() {
    let mut r = router(5_000);
    sign_in(&mut r, a(1), vec![skill(SALES, 1, 1)], 1, 0);
    arrive(&mut r, c(1), SALES, 1);
    arrive(&mut r, c(2), SALES, 2);
    arrive(&mut r, c(3), SALES, 3);
    r.handle(Event::ConversationLeft { conversation: c(2) }, 4);
    assert_eq!(r.waiting(SALES), 1);
    let left = r.handle(Event::ConversationLeft { conversation: c(1) }, 5);
    assert_eq!(
        assigned(&left),
        vec![(c(3), a(1))],
        "the freed slot goes to the next waiting"
    );
}

#[test]
fn leaving_during_wrap_up_cancels_its_timer_and_a_late_timer_does_nothing() {
    let mut r = router(5_000);
    sign_in(&mut r, a(1), vec![skill(SALES, 1, 1)], 1, 0);
    arrive(&mut r, c(1), SALES, 1);
    r.handle(Event::ConversationEnded { conversation: c(1) }, 2);
    let timer = Timer::WrapUpEnds {
        agent: a(1),
        conversation: c(1),
    };
    let left = r.handle(Event::ConversationLeft { conversation: c(1) }, 3);
    assert!(left.contains(&Action::CancelTimer { timer }));
    assert!(r.handle(Event::TimerFired { timer }, 5_002).is_empty());
}

#[test]
fn an_agent_of_several_queues_serves_the_higher_skill_weight_first_then_the_oldest() {
    let mut r = router(0);
    arrive(&mut r, c(1), SUPPORT, 1);
    arrive(&mut r, c(2), SALES, 2);
    arrive(&mut r, c(3), SUPPORT, 3);
    let taken = sign_in(
        &mut r,
        a(1),
        vec![skill(SALES, 1, 1), skill(SUPPORT, 5, 1)],
        3,
        4,
    );
    assert_eq!(
        assigned(&taken),
        vec![(c(1), a(1)), (c(3), a(1)), (c(2), a(1))]
    );
    let mut even = router(0);
    arrive(&mut even, c(1), SUPPORT, 1);
    arrive(&mut even, c(2), SALES, 2);
    let taken = sign_in(
        &mut even,
        a(1),
        vec![skill(SALES, 1, 1), skill(SUPPORT, 1, 1)],
        1,
        3,
    );
    assert_eq!(
        assigned(&taken),
        vec![(c(1), a(1))],
        "equal weights: the one waiting longest"
    );
}

#[test]
fn an_arrival_seen_twice_is_placed_once() {
    let mut r = router(0);
    arrive(&mut r, c(1), SALES, 1);
    assert!(arrive(&mut r, c(1), SALES, 2).is_empty());
    assert_eq!(r.waiting(SALES), 1);
}

/// A tiny deterministic generator, so failing seeds reproduce.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

/// Random days of arrivals, departures, endings, status changes and sign-outs. After every
/// event: no assignment put an agent over its capacity, no conversation is with two
/// agents, and each queue serves in arrival order apart from conversations put back at
/// its head. Timers fire when due.
#[test]
fn random_walks_keep_the_invariants() {
    for seed in 1..=200 {
        let mut walk = Walk::new(seed);
        for step in 0..400 {
            walk.step(step * 100);
        }
    }
}

struct Walk {
    seed: u64,
    rng: Lcg,
    router: Router,
    holder: HashMap<ConversationId, EmployeeId>,
    capacity: HashMap<EmployeeId, usize>,
    timers: Vec<(Millis, Timer)>,
    requeued: HashSet<ConversationId>,
    last_served: HashMap<QueueId, i64>,
    next: i64,
}

impl Walk {
    fn new(seed: u64) -> Self {
        Self {
            seed,
            rng: Lcg(seed),
            router: router(1_000),
            holder: HashMap::new(),
            capacity: HashMap::new(),
            timers: Vec::new(),
            requeued: HashSet::new(),
            last_served: HashMap::new(),
            next: 1,
        }
    }

    fn step(&mut self, now: Millis) {
        let mut due: Vec<(Millis, Timer)> = self
            .timers
            .iter()
            .filter(|(at, _)| *at <= now)
            .copied()
            .collect();
        self.timers.retain(|(at, _)| *at > now);
        due.sort_by_key(|(at, t)| (*at, format!("{t:?}")));
        for (_, timer) in due {
            self.send(Event::TimerFired { timer }, now);
        }
        let agent = a(1 + self.rng.below(4) as i64);
        let queue = if self.rng.below(2) == 0 {
            SALES
        } else {
            SUPPORT
        };
        let known = c(1 + self.rng.below(self.next as u64) as i64);
        let event = match self.rng.below(8) {
            0..=2 => {
                self.next += 1;
                Event::ConversationArrived {
                    conversation: c(self.next - 1),
                    queue,
                }
            }
            3 => {
                let capacity = 1 + self.rng.below(3) as u32;
                self.capacity.insert(agent, capacity as usize);
                let skills = vec![
                    skill(SALES, 1 + self.rng.below(3) as u32, 1),
                    skill(SUPPORT, 1, 1 + self.rng.below(3) as u32),
                ];
                Event::AgentSignedIn {
                    agent,
                    skills,
                    capacity,
                }
            }
            4 => Event::AgentSignedOut { agent },
            5 => Event::ConversationEnded {
                conversation: known,
            },
            6 => Event::ConversationLeft {
                conversation: known,
            },
            _ => {
                let status = [AgentStatus::Idle, AgentStatus::Busy, AgentStatus::Rest]
                    [self.rng.below(3) as usize];
                Event::AgentStatusChanged { agent, status }
            }
        };
        self.send(event, now);
    }

    fn send(&mut self, event: Event, now: Millis) {
        let seed = self.seed;
        let mut receivers = HashSet::new();
        for action in self.router.handle(event, now) {
            match action {
                Action::Assigned {
                    conversation,
                    agent,
                    queue,
                } => {
                    receivers.insert(agent);
                    assert!(
                        self.holder.insert(conversation, agent).is_none(),
                        "seed {seed}: {conversation:?} assigned twice"
                    );
                    if !self.requeued.remove(&conversation) {
                        let served = self.last_served.entry(queue).or_default();
                        assert!(
                            conversation.0 > *served,
                            "seed {seed}: {queue:?} served out of order"
                        );
                        *served = conversation.0;
                    }
                }
                Action::Requeued { conversation, .. } => {
                    self.holder.remove(&conversation);
                    self.requeued.insert(conversation);
                }
                Action::WrapUpEnded { conversation, .. } => {
                    self.holder.remove(&conversation);
                }
                Action::StartTimer { timer, at } => self.timers.push((at, timer)),
                Action::CancelTimer { timer } => self.timers.retain(|(_, t)| *t != timer),
                Action::Enqueued { .. } | Action::WrapUpStarted { .. } => {}
            }
        }
        for agent in receivers {
            assert!(
                self.router.load(agent) <= self.capacity[&agent],
                "seed {seed}: {agent:?} assigned over capacity"
            );
        }
    }
}
