//! Routing decisions at scale: 10,000 conversations waiting, 5,000 agents signed in.
//!
//! - `arrival`: a conversation arrives and waits at the tail of a 10,000-deep queue
//!   (every agent is full), then leaves again so the queue keeps its depth;
//! - `agent_frees_up`: an agent ends a conversation (no wrap-up) and takes the head of
//!   its queues, and a newcomer arrives so the depth holds;
//! - `timer_storm`: 10,000 waiting conversations reach their maximum wait at the same
//!   instant; each timer releases one (the figure is for the whole storm).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use switchboard_domain::{ChannelId, ConversationId, EmployeeId, QueueId};
use switchboard_routing::{Action, AgentStatus, Event, QueueSettings, Router, Skill, Timer};

const QUEUES: i64 = 20;
const AGENTS: i64 = 5_000;
const WAITING: i64 = 10_000;
const CAPACITY: u32 = 2;
const CHANNEL: ChannelId = ChannelId(1);

/// Agents with three skills each, all full, and 10,000 conversations waiting; answers
/// the router and the conversations the agents hold.
fn busy_router(wrap_up_ms: i64) -> (Router, Vec<ConversationId>) {
    let mut router = Router::default();
    for q in 0..QUEUES {
        let settings = QueueSettings {
            max_queued: 20_000,
            max_wait_ms: 3_600_000,
            wrap_up_ms,
            ..QueueSettings::default()
        };
        router.handle(
            Event::QueueConfigured {
                queue: QueueId(q),
                settings,
            },
            0,
        );
    }
    for a in 0..AGENTS {
        let skills = (0..3)
            .map(|k| Skill {
                queue: QueueId((a + k * 7) % QUEUES),
                skill_weight: u32::try_from(1 + (a + k) % 3).unwrap(),
                agent_weight: u32::try_from(1 + a % 5).unwrap(),
            })
            .collect();
        router.handle(
            Event::AgentSignedIn {
                agent: EmployeeId(a),
                skills,
                capacity: CAPACITY,
            },
            0,
        );
    }
    let mut held = Vec::new();
    let total = AGENTS * i64::from(CAPACITY) + WAITING;
    for c in 0..total {
        let actions = router.handle(
            Event::ConversationArrived {
                conversation: ConversationId(c),
                channel: CHANNEL,
                queue: QueueId(c % QUEUES),
                last_agent: None,
            },
            1,
        );
        if actions.iter().any(|a| matches!(a, Action::Assigned { .. })) {
            held.push(ConversationId(c));
        }
    }
    let waiting: usize = (0..QUEUES).map(|q| router.waiting(QueueId(q))).sum();
    assert_eq!(waiting, usize::try_from(WAITING).unwrap());
    (router, held)
}

fn arrival(c: &mut Criterion) {
    let (mut router, _) = busy_router(0);
    let mut next = 1_000_000;
    c.bench_function("arrival into 10k waiting, 5k full agents", |b| {
        b.iter(|| {
            next += 1;
            let conversation = ConversationId(next);
            router.handle(
                Event::ConversationArrived {
                    conversation,
                    channel: CHANNEL,
                    queue: QueueId(next % QUEUES),
                    last_agent: None,
                },
                2,
            );
            router.handle(Event::CustomerLeft { conversation }, 2);
        });
    });
}

fn agent_frees_up(c: &mut Criterion) {
    let (mut router, held) = busy_router(0);
    let mut held = std::collections::VecDeque::from(held);
    let mut next = 2_000_000;
    c.bench_function("agent frees up and takes the head, 10k waiting", |b| {
        b.iter(|| {
            let ended = held.pop_front().unwrap();
            let actions = router.handle(
                Event::ConversationEnded {
                    conversation: ended,
                },
                3,
            );
            for action in actions {
                if let Action::Assigned { conversation, .. } = action {
                    held.push_back(conversation);
                }
            }
            next += 1;
            router.handle(
                Event::ConversationArrived {
                    conversation: ConversationId(next),
                    channel: CHANNEL,
                    queue: QueueId(next % QUEUES),
                    last_agent: None,
                },
                3,
            );
        });
    });
}

fn timer_storm(c: &mut Criterion) {
    let mut group = c.benchmark_group("timer storm");
    group.sample_size(10);
    group.bench_function("10k waiting reach their maximum wait at once", |b| {
        b.iter_batched(
            || {
                let (mut router, _) = busy_router(0);
                // Nobody free: status changes keep agents on duty but full anyway.
                router.handle(
                    Event::AgentStatusChanged {
                        agent: EmployeeId(0),
                        status: AgentStatus::Busy,
                    },
                    1,
                );
                router
            },
            |mut router| {
                for c in AGENTS * i64::from(CAPACITY)..AGENTS * i64::from(CAPACITY) + WAITING {
                    router.handle(
                        Event::TimerFired {
                            timer: Timer::WaitEnds(ConversationId(c)),
                        },
                        3_600_001,
                    );
                }
                router
            },
            BatchSize::PerIteration,
        );
    });
    group.finish();
}

criterion_group!(benches, arrival, agent_frees_up, timer_storm);
criterion_main!(benches);
