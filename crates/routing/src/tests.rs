//! One test per routing rule of `docs/routing.md`, each driving the router through a
//! small harness that runs its timers on a virtual clock.

use switchboard_domain::worktime::{Calendar, Segment, TimeOfDay, WorkTime};
use switchboard_domain::{ChannelId, ConversationId, EmployeeId, QueueId};

use super::*;

const SALES: QueueId = QueueId(1);
const SUPPORT: QueueId = QueueId(2);
const VIP: QueueId = QueueId(3);
const WEB: ChannelId = ChannelId(10);
/// 2026-10-01T02:00:00Z, a Thursday: 10:00 in Shanghai.
const START: Millis = 1_790_820_000_000;

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

struct Harness {
    router: Router,
    now: Millis,
    timers: Deadlines<Timer>,
}

impl Harness {
    fn new() -> Self {
        Self::with(QueueSettings::default(), ChannelSettings::default())
    }

    fn with(queue: QueueSettings, channel: ChannelSettings) -> Self {
        let mut harness = Self {
            router: Router::default(),
            now: START,
            timers: Deadlines::default(),
        };
        for q in [SALES, SUPPORT, VIP] {
            harness.send(Event::QueueConfigured {
                queue: q,
                settings: queue,
            });
        }
        harness.send(Event::ChannelConfigured {
            channel: WEB,
            settings: channel,
        });
        harness
    }

    fn send(&mut self, event: Event) -> Vec<Action> {
        let actions = self.router.handle(event, self.now);
        for action in &actions {
            match action {
                Action::StartTimer { timer, at } => self.timers.set(*timer, *at),
                Action::CancelTimer { timer } => {
                    self.timers.cancel(*timer);
                }
                _ => {}
            }
        }
        actions
    }

    /// Moves the clock on, firing the timers that fall due on the way.
    fn advance(&mut self, ms: Millis) -> Vec<Action> {
        let until = self.now + ms;
        let mut actions = Vec::new();
        while let Some((timer, at)) = self.timers.pop_due(until) {
            self.now = at;
            actions.extend(self.send(Event::TimerFired { timer }));
        }
        self.now = until;
        actions
    }

    fn sign_in(&mut self, agent: EmployeeId, skills: Vec<Skill>, capacity: u32) -> Vec<Action> {
        self.send(Event::AgentSignedIn {
            agent,
            skills,
            capacity,
        })
    }

    fn arrive(&mut self, conversation: ConversationId, queue: QueueId) -> Vec<Action> {
        self.arrive_back(conversation, queue, None)
    }

    fn arrive_back(
        &mut self,
        conversation: ConversationId,
        queue: QueueId,
        last_agent: Option<EmployeeId>,
    ) -> Vec<Action> {
        self.send(Event::ConversationArrived {
            conversation,
            channel: WEB,
            queue,
            last_agent,
        })
    }

    fn order(&self, queue: QueueId) -> Vec<ConversationId> {
        self.router
            .waiting_list(queue)
            .iter()
            .map(|w| w.conversation)
            .collect()
    }
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

fn released(actions: &[Action]) -> Vec<(ConversationId, ReleaseReason)> {
    actions
        .iter()
        .filter_map(|action| match action {
            Action::Released {
                conversation,
                reason,
                ..
            } => Some((*conversation, *reason)),
            _ => None,
        })
        .collect()
}

fn notices(actions: &[Action]) -> Vec<Notice> {
    actions
        .iter()
        .filter_map(|action| match action {
            Action::Notify { notice, .. } => Some(notice.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn choice_is_skill_weight_then_agent_weight_then_longest_free_then_lowest_id() {
    let mut h = Harness::new();
    h.sign_in(a(1), vec![skill(SALES, 1, 9)], 1);
    h.sign_in(a(2), vec![skill(SALES, 5, 1)], 1);
    h.sign_in(a(3), vec![skill(SALES, 5, 3)], 1);
    h.now += 10;
    h.sign_in(a(4), vec![skill(SALES, 5, 3)], 1);
    h.sign_in(a(5), vec![skill(SALES, 5, 3)], 1);
    // Skill weight 5 beats 1; agent weight 3 beats 1; a(3) has been free longest.
    assert_eq!(assigned(&h.arrive(c(1), SALES)), [(c(1), a(3))]);
    // a(4) and a(5) are free since the same instant: the lowest id.
    assert_eq!(assigned(&h.arrive(c(2), SALES)), [(c(2), a(4))]);
    assert_eq!(assigned(&h.arrive(c(3), SALES)), [(c(3), a(5))]);
    assert_eq!(assigned(&h.arrive(c(4), SALES)), [(c(4), a(2))]);
    assert_eq!(assigned(&h.arrive(c(5), SALES)), [(c(5), a(1))]);
}

#[test]
fn an_agent_never_holds_more_than_its_capacity() {
    let mut h = Harness::new();
    h.sign_in(a(1), vec![skill(SALES, 1, 1)], 2);
    h.arrive(c(1), SALES);
    h.arrive(c(2), SALES);
    let third = h.arrive(c(3), SALES);
    assert!(assigned(&third).is_empty());
    assert_eq!(h.router.load(a(1)), 2);
    // Lowering the capacity keeps the conversations but gives nothing new.
    h.send(Event::AgentCapacityChanged {
        agent: a(1),
        capacity: 1,
    });
    h.send(Event::ConversationEnded { conversation: c(1) });
    h.advance(5_000);
    assert_eq!(h.order(SALES), [c(3)]);
    // Raising it takes the next in line at once.
    let raised = h.send(Event::AgentCapacityChanged {
        agent: a(1),
        capacity: 3,
    });
    assert_eq!(assigned(&raised), [(c(3), a(1))]);
}

#[test]
fn a_waiting_customer_learns_its_position_and_the_queue_is_first_come_first_served() {
    let mut h = Harness::new();
    h.sign_in(a(9), vec![skill(SUPPORT, 1, 1)], 1);
    h.sign_in(a(1), vec![skill(SALES, 1, 1)], 1);
    h.send(Event::AgentStatusChanged {
        agent: a(1),
        status: AgentStatus::Busy,
    });
    for n in 1..=3 {
        let actions = h.arrive(c(n), SALES);
        let position = usize::try_from(n).unwrap();
        assert_eq!(notices(&actions), [Notice::Position { position }]);
    }
    let idle = h.send(Event::AgentStatusChanged {
        agent: a(1),
        status: AgentStatus::Idle,
    });
    assert_eq!(assigned(&idle), [(c(1), a(1))]);
    assert_eq!(h.order(SALES), [c(2), c(3)]);
}

#[test]
fn a_full_queue_applies_its_busy_policy() {
    let settings = QueueSettings {
        max_queued: 2,
        on_busy: Overflow::Transfer(SUPPORT),
        ..QueueSettings::default()
    };
    let mut h = Harness::with(settings, ChannelSettings::default());
    h.sign_in(a(1), vec![skill(SALES, 1, 1)], 1);
    h.sign_in(a(2), vec![skill(SUPPORT, 1, 1)], 1);
    h.arrive(c(1), SALES);
    h.arrive(c(2), SALES);
    h.arrive(c(3), SALES);
    // SALES: c(1) with a(1), c(2) and c(3) waiting: full.
    let fourth = h.arrive(c(4), SALES);
    assert!(fourth.contains(&Action::Overflowed {
        conversation: c(4),
        from: SALES,
        to: SUPPORT,
        reason: OverflowReason::Busy,
    }));
    assert_eq!(assigned(&fourth), [(c(4), a(2))]);
    // SUPPORT overflows to SUPPORT's own target, SUPPORT: a loop, so the next is
    // released once SUPPORT is full too.
    h.arrive(c(5), SUPPORT);
    h.arrive(c(6), SUPPORT);
    let looped = h.arrive(c(7), SUPPORT);
    assert_eq!(
        released(&looped),
        [(
            c(7),
            ReleaseReason::OverflowChainEnded(OverflowReason::Busy)
        )]
    );
}

#[test]
fn a_full_queue_releases_by_default_with_offline_messages_when_enabled() {
    let settings = QueueSettings {
        max_queued: 1,
        ..QueueSettings::default()
    };
    let channel = ChannelSettings {
        offline_messages: true,
        ..ChannelSettings::default()
    };
    let mut h = Harness::with(settings, channel);
    h.sign_in(a(1), vec![skill(SALES, 1, 1)], 1);
    h.arrive(c(1), SALES);
    h.arrive(c(2), SALES);
    let third = h.arrive(c(3), SALES);
    assert!(third.contains(&Action::Released {
        conversation: c(3),
        reason: ReleaseReason::Overflow(OverflowReason::Busy),
        offline_messages: true,
    }));
    assert!(!h.router.knows(c(3)));
}

#[test]
fn waiting_past_the_maximum_applies_the_timeout_policy() {
    let settings = QueueSettings {
        max_wait_ms: 30_000,
        on_timeout: Overflow::Transfer(SUPPORT),
        ..QueueSettings::default()
    };
    let mut h = Harness::with(settings, ChannelSettings::default());
    h.sign_in(a(1), vec![skill(SALES, 1, 1), skill(SUPPORT, 1, 1)], 1);
    h.arrive(c(1), SALES);
    h.arrive(c(2), SALES);
    assert!(h
        .advance(29_999)
        .iter()
        .all(|a| !matches!(a, Action::Overflowed { .. })));
    let moved = h.advance(1);
    assert!(moved.contains(&Action::Overflowed {
        conversation: c(2),
        from: SALES,
        to: SUPPORT,
        reason: OverflowReason::Timeout,
    }));
    assert_eq!(h.order(SUPPORT), [c(2)]);
    // SUPPORT's own timeout sends it back to SUPPORT's target, SUPPORT: already on the
    // chain, so it is released.
    let ended = h.advance(30_000);
    assert_eq!(
        released(&ended),
        [(
            c(2),
            ReleaseReason::OverflowChainEnded(OverflowReason::Timeout)
        )]
    );
}

#[test]
fn nobody_on_duty_applies_the_no_agents_policy() {
    let settings = QueueSettings {
        on_no_agents: Overflow::Transfer(VIP),
        ..QueueSettings::default()
    };
    let mut h = Harness::with(settings, ChannelSettings::default());
    h.sign_in(a(1), vec![skill(VIP, 1, 1)], 1);
    let actions = h.arrive(c(1), SALES);
    assert!(actions.contains(&Action::Overflowed {
        conversation: c(1),
        from: SALES,
        to: VIP,
        reason: OverflowReason::NoAgents,
    }));
    assert_eq!(assigned(&actions), [(c(1), a(1))]);
    // A busy agent is still on duty: the next one waits in SALES' overflow target.
    let mut h = Harness::new();
    h.sign_in(a(1), vec![skill(SALES, 1, 1)], 1);
    h.send(Event::AgentStatusChanged {
        agent: a(1),
        status: AgentStatus::Rest,
    });
    assert_eq!(released(&h.arrive(c(2), SALES)), []);
    assert_eq!(
        released(&h.arrive(c(3), SUPPORT)),
        [(c(3), ReleaseReason::Overflow(OverflowReason::NoAgents))]
    );
}

#[test]
fn overflow_chains_are_bounded() {
    // Every queue overflows to the next one on a ring of MAX + 2 queues: a conversation
    // nobody serves goes through MAX transfers, then is released.
    let ring = MAX_OVERFLOW_TRANSFERS as i64 + 2;
    let mut router = Router::default();
    for n in 0..ring {
        let settings = QueueSettings {
            on_no_agents: Overflow::Transfer(QueueId(100 + (n + 1) % ring)),
            ..QueueSettings::default()
        };
        router.handle(
            Event::QueueConfigured {
                queue: QueueId(100 + n),
                settings,
            },
            START,
        );
    }
    let actions = router.handle(
        Event::ConversationArrived {
            conversation: c(1),
            channel: WEB,
            queue: QueueId(100),
            last_agent: None,
        },
        START,
    );
    let transfers = actions
        .iter()
        .filter(|a| matches!(a, Action::Overflowed { .. }))
        .count();
    assert_eq!(transfers, MAX_OVERFLOW_TRANSFERS);
    assert_eq!(
        released(&actions),
        [(
            c(1),
            ReleaseReason::OverflowChainEnded(OverflowReason::NoAgents)
        )]
    );
}

fn office_hours() -> WorkTime {
    let at = |text| TimeOfDay::parse(text).unwrap();
    WorkTime {
        workday: vec![Segment {
            start: at("09:00"),
            end: at("18:00"),
        }],
        non_workday: vec![],
    }
}

#[test]
fn outside_work_time_the_customer_gets_the_notice_and_may_leave_a_message() {
    let channel = ChannelSettings {
        work_time: office_hours(),
        out_of_hours_notice: "We open at 9.".into(),
        offline_messages: true,
        ..ChannelSettings::default()
    };
    let mut h = Harness::with(QueueSettings::default(), channel);
    h.send(Event::CalendarConfigured {
        calendar: Calendar {
            time_zone: "Asia/Shanghai".parse().unwrap(),
            non_working_days: [chrono::NaiveDate::from_ymd_opt(2026, 10, 2).unwrap()].into(),
        },
    });
    h.sign_in(a(1), vec![skill(SALES, 1, 1)], 5);
    // 10:00 in Shanghai on a workday: served.
    assert_eq!(assigned(&h.arrive(c(1), SALES)), [(c(1), a(1))]);
    // 18:00 there: closed.
    h.now = START + 8 * 3_600_000;
    let late = h.arrive(c(2), SALES);
    assert_eq!(
        notices(&late),
        [Notice::OutOfHours {
            text: "We open at 9.".into()
        }]
    );
    assert!(late.contains(&Action::Released {
        conversation: c(2),
        reason: ReleaseReason::OutOfHours,
        offline_messages: true,
    }));
    // The next day at 10:00 is a non-working day with no segments: closed.
    h.now = START + 24 * 3_600_000;
    assert_eq!(
        released(&h.arrive(c(3), SALES)),
        [(c(3), ReleaseReason::OutOfHours)]
    );
}

#[test]
fn waiting_customers_are_reminded_at_the_channel_interval_with_its_content() {
    let channel = ChannelSettings {
        reminder_interval_ms: 15_000,
        reminder_text: "Thanks for waiting.".into(),
        ..ChannelSettings::default()
    };
    let mut h = Harness::with(QueueSettings::default(), channel);
    h.sign_in(a(1), vec![skill(SALES, 1, 1)], 1);
    h.arrive(c(1), SALES);
    h.arrive(c(2), SALES);
    h.arrive(c(3), SALES);
    assert!(notices(&h.advance(14_999)).is_empty());
    let reminders = notices(&h.advance(1));
    let text = "Thanks for waiting.".to_owned();
    assert_eq!(
        reminders,
        [
            Notice::Reminder {
                position: 1,
                text: text.clone()
            },
            Notice::Reminder {
                position: 2,
                text: text.clone()
            }
        ]
    );
    // c(2) leaves: c(3) moves up, and c(2) is reminded no more.
    h.send(Event::CustomerLeft { conversation: c(2) });
    assert_eq!(
        notices(&h.advance(15_000)),
        [Notice::Reminder { position: 1, text }]
    );
}

fn last_agent_channel() -> ChannelSettings {
    ChannelSettings {
        last_agent_wait_ms: Some(20_000),
        ..ChannelSettings::default()
    }
}

#[test]
fn last_agent_mode_prefers_the_previous_agent_when_it_is_free() {
    let mut h = Harness::with(QueueSettings::default(), last_agent_channel());
    h.sign_in(a(1), vec![skill(SALES, 9, 9)], 1);
    h.sign_in(a(2), vec![skill(SALES, 1, 1)], 1);
    assert_eq!(
        assigned(&h.arrive_back(c(1), SALES, Some(a(2)))),
        [(c(1), a(2))]
    );
}

#[test]
fn last_agent_mode_waits_a_bounded_time_for_a_busy_previous_agent() {
    let mut h = Harness::with(QueueSettings::default(), last_agent_channel());
    h.sign_in(a(1), vec![skill(SALES, 1, 1)], 1);
    h.sign_in(a(2), vec![skill(SALES, 1, 1)], 1);
    h.arrive(c(1), SALES); // to a(1)
                           // c(2)'s previous agent is a(1), who is full: it waits for a(1) although a(2) is free.
    assert!(assigned(&h.arrive_back(c(2), SALES, Some(a(1)))).is_empty());
    let waiting = h.router.waiting_list(SALES);
    assert_eq!(waiting[0].reserved_for, Some(a(1)));
    // a(1) frees up within the wait: it gets c(2).
    h.send(Event::ConversationEnded { conversation: c(1) });
    assert_eq!(assigned(&h.advance(5_000)), [(c(2), a(1))]);
    // Next time a(1) stays full: after the wait, c(3) goes to a(2).
    h.arrive_back(c(3), SALES, Some(a(1)));
    assert!(assigned(&h.advance(19_999)).is_empty());
    assert_eq!(assigned(&h.advance(1)), [(c(3), a(2))]);
}

#[test]
fn last_agent_mode_routes_normally_when_the_previous_agent_is_away() {
    let mut h = Harness::with(QueueSettings::default(), last_agent_channel());
    h.sign_in(a(2), vec![skill(SALES, 1, 1)], 1);
    assert_eq!(
        assigned(&h.arrive_back(c(1), SALES, Some(a(7)))),
        [(c(1), a(2))]
    );
}

fn silence_channel() -> ChannelSettings {
    ChannelSettings {
        silence_prompt_ms: Some(60_000),
        silence_prompt_text: "Are you still there?".into(),
        silence_end_ms: 120_000,
        conclusion_text: "Goodbye.".into(),
        ..ChannelSettings::default()
    }
}

#[test]
fn a_silent_customer_is_prompted_then_the_session_ends_with_the_conclusion() {
    let mut h = Harness::with(QueueSettings::default(), silence_channel());
    h.sign_in(a(1), vec![skill(SALES, 1, 1)], 1);
    h.arrive(c(1), SALES);
    h.advance(50_000);
    // A message restarts the silence.
    h.send(Event::CustomerMessage { conversation: c(1) });
    assert!(notices(&h.advance(59_999)).is_empty());
    assert_eq!(
        notices(&h.advance(1)),
        [Notice::SilencePrompt {
            text: "Are you still there?".into()
        }]
    );
    let ended = h.advance(60_000);
    assert_eq!(
        notices(&ended),
        [Notice::Conclusion {
            text: "Goodbye.".into()
        }]
    );
    assert!(ended.contains(&Action::WrapUpStarted {
        agent: a(1),
        conversation: c(1)
    }));
}

#[test]
fn without_customisation_the_session_ends_after_twenty_silent_minutes() {
    let mut h = Harness::new();
    h.sign_in(a(1), vec![skill(SALES, 1, 1)], 1);
    h.arrive(c(1), SALES);
    assert!(notices(&h.advance(20 * 60_000 - 1)).is_empty());
    let ended = h.advance(1);
    assert_eq!(
        notices(&ended),
        [Notice::Conclusion {
            text: String::new()
        }]
    );
}

fn agent_silence(transfer: SilentAgentTransfer) -> ChannelSettings {
    ChannelSettings {
        agent_silence: Some(AgentSilence {
            after_ms: 30_000,
            transfer,
        }),
        ..ChannelSettings::default()
    }
}

#[test]
fn a_silent_agent_loses_the_conversation_to_another_agent() {
    let mut h = Harness::with(
        QueueSettings::default(),
        agent_silence(SilentAgentTransfer::OtherAgent),
    );
    h.sign_in(a(1), vec![skill(SALES, 5, 1)], 1);
    h.sign_in(a(2), vec![skill(SALES, 1, 1)], 1);
    h.arrive(c(1), SALES);
    h.advance(10_000);
    // The agent answers in time; the customer writes again and waits.
    h.send(Event::AgentReplied { conversation: c(1) });
    h.send(Event::CustomerMessage { conversation: c(1) });
    assert!(assigned(&h.advance(29_999)).is_empty());
    let moved = h.advance(1);
    assert!(moved.contains(&Action::Transferred {
        conversation: c(1),
        from: a(1),
        reason: TransferReason::AgentSilent,
    }));
    assert_eq!(assigned(&moved), [(c(1), a(2))]);
    assert_eq!(h.router.load(a(1)), 0);
}

#[test]
fn a_silent_agent_keeps_the_conversation_when_nobody_else_is_free() {
    let mut h = Harness::with(
        QueueSettings::default(),
        agent_silence(SilentAgentTransfer::OtherAgent),
    );
    h.sign_in(a(1), vec![skill(SALES, 1, 1)], 1);
    h.arrive(c(1), SALES);
    let kept = h.advance(30_000);
    assert!(!kept.iter().any(|a| matches!(a, Action::Transferred { .. })));
    assert_eq!(h.router.agent_of(c(1)), Some(a(1)));
}

#[test]
fn a_silent_agent_loses_the_conversation_to_the_configured_queue() {
    let mut h = Harness::with(
        QueueSettings::default(),
        agent_silence(SilentAgentTransfer::Queue(SUPPORT)),
    );
    h.sign_in(a(1), vec![skill(SALES, 1, 1), skill(SUPPORT, 1, 1)], 2);
    h.sign_in(a(2), vec![skill(SUPPORT, 1, 1)], 1);
    h.arrive(c(1), SALES);
    h.send(Event::AgentStatusChanged {
        agent: a(2),
        status: AgentStatus::Busy,
    });
    h.advance(30_000);
    // Not back to the silent agent, though it has a free slot and the skill.
    assert_eq!(h.order(SUPPORT), [c(1)]);
    assert_eq!(h.router.waiting_list(SUPPORT)[0].not_for, Some(a(1)));
    let idle = h.send(Event::AgentStatusChanged {
        agent: a(2),
        status: AgentStatus::Idle,
    });
    assert_eq!(assigned(&idle), [(c(1), a(2))]);
}

fn message_event(conversation: ConversationId, writer: Writer) -> Event {
    match writer {
        Writer::Customer => Event::CustomerMessage { conversation },
        Writer::Agent => Event::AgentReplied { conversation },
    }
}

/// Every sequence of up to six messages, written with the agent's silence running or
/// stopped, has the effect of the events [`MessagesHeard`] folds it to.
#[test]
fn messages_folded_for_the_router_have_the_effect_of_each_message() {
    let channel = ChannelSettings {
        agent_silence: agent_silence(SilentAgentTransfer::OtherAgent).agent_silence,
        ..silence_channel()
    };
    let outcome = |replied_before: bool, sequence: &[Writer], folded: bool| {
        let mut h = Harness::with(QueueSettings::default(), channel.clone());
        h.sign_in(a(1), vec![skill(SALES, 5, 1)], 1);
        h.sign_in(a(2), vec![skill(SALES, 1, 1)], 1);
        h.arrive(c(1), SALES);
        h.advance(10_000);
        if replied_before {
            h.send(Event::AgentReplied { conversation: c(1) });
        }
        h.advance(10_000);
        let events = if folded {
            let mut heard = MessagesHeard::default();
            for writer in sequence {
                heard.hear(c(1), *writer);
            }
            heard.take_events()
        } else {
            sequence.iter().map(|w| message_event(c(1), *w)).collect()
        };
        for event in events {
            h.send(event);
        }
        h.advance(300_000)
    };
    for replied_before in [false, true] {
        for length in 1..=6 {
            for pick in 0..1u32 << length {
                let sequence: Vec<Writer> = (0..length)
                    .map(|i| match pick >> i & 1 {
                        0 => Writer::Customer,
                        _ => Writer::Agent,
                    })
                    .collect();
                assert_eq!(
                    outcome(replied_before, &sequence, true),
                    outcome(replied_before, &sequence, false),
                    "replied before: {replied_before}, then {sequence:?}"
                );
            }
        }
    }
    let mut heard = MessagesHeard::default();
    heard.hear(c(1), Writer::Customer);
    heard.hear(c(2), Writer::Agent);
    assert_eq!(heard.take_events().len(), 2);
    assert!(heard.is_empty());
}

#[test]
fn an_agent_transfers_to_a_queue_head_or_to_a_free_agent() {
    let mut h = Harness::new();
    h.sign_in(a(1), vec![skill(SALES, 1, 1)], 2);
    h.sign_in(a(2), vec![skill(SUPPORT, 1, 1)], 1);
    h.sign_in(a(3), vec![skill(SUPPORT, 1, 1)], 1);
    h.arrive(c(1), SALES);
    h.arrive(c(2), SALES);
    h.arrive(c(3), SUPPORT); // a(2)
    h.arrive(c(4), SUPPORT); // a(3)
    h.arrive(c(5), SUPPORT); // waits
    let to_queue = h.send(Event::TransferRequested {
        conversation: c(1),
        to: TransferTarget::Queue(SUPPORT),
    });
    assert!(to_queue.contains(&Action::Transferred {
        conversation: c(1),
        from: a(1),
        reason: TransferReason::RequestedByAgent,
    }));
    assert_eq!(h.order(SUPPORT), [c(1), c(5)]);
    // To a busy agent: refused, nothing changes.
    let refused = h.send(Event::TransferRequested {
        conversation: c(2),
        to: TransferTarget::Agent(a(2)),
    });
    assert_eq!(
        refused,
        [Action::TransferRefused {
            conversation: c(2),
            refusal: TransferRefusal::AgentUnavailable
        }]
    );
    assert_eq!(h.router.agent_of(c(2)), Some(a(1)));
    // To a free agent: done.
    h.send(Event::ConversationEnded { conversation: c(3) });
    h.advance(5_000); // a(2)'s wrap-up ends; it takes c(1) from the head
    h.sign_in(a(4), vec![], 1);
    let direct = h.send(Event::TransferRequested {
        conversation: c(2),
        to: TransferTarget::Agent(a(4)),
    });
    assert_eq!(assigned(&direct), [(c(2), a(4))]);
    let unknown = h.send(Event::TransferRequested {
        conversation: c(2),
        to: TransferTarget::Queue(QueueId(99)),
    });
    assert_eq!(
        unknown,
        [Action::TransferRefused {
            conversation: c(2),
            refusal: TransferRefusal::UnknownQueue
        }]
    );
}

#[test]
fn sign_out_puts_the_conversations_back_at_the_head_in_order() {
    let mut h = Harness::new();
    h.sign_in(a(1), vec![skill(SALES, 1, 1)], 2);
    h.arrive(c(1), SALES);
    h.arrive(c(2), SALES);
    h.arrive(c(3), SALES);
    let actions = h.send(Event::AgentSignedOut { agent: a(1) });
    assert!(actions.contains(&Action::Requeued {
        conversation: c(1),
        queue: SALES,
        place: -2
    }));
    assert_eq!(h.order(SALES), [c(1), c(2), c(3)]);
    let back = h.sign_in(a(2), vec![skill(SALES, 1, 1)], 2);
    assert_eq!(assigned(&back), [(c(1), a(2)), (c(2), a(2))]);
}

#[test]
fn a_lost_connection_keeps_conversations_for_the_grace_period() {
    let mut h = Harness::new();
    h.sign_in(a(1), vec![skill(SALES, 1, 1)], 2);
    h.arrive(c(1), SALES);
    h.send(Event::AgentDisconnected { agent: a(1) });
    // Disconnected: nothing new.
    assert!(assigned(&h.arrive(c(2), SALES)).is_empty());
    h.advance(DEFAULT_RECONNECT_GRACE_MS - 1);
    let back = h.send(Event::AgentReconnected { agent: a(1) });
    assert_eq!(assigned(&back), [(c(2), a(1))]);
    assert_eq!(h.router.agent_of(c(1)), Some(a(1)));
    // This time it does not come back: signed out, conversations requeued.
    h.send(Event::AgentDisconnected { agent: a(1) });
    let gone = h.advance(DEFAULT_RECONNECT_GRACE_MS);
    assert!(gone
        .iter()
        .any(|a| matches!(a, Action::Requeued { conversation, .. } if *conversation == c(1))));
    assert_eq!(h.order(SALES), [c(1), c(2)]);
}

#[test]
fn wrap_up_holds_the_agent_for_the_queue_duration() {
    let settings = QueueSettings {
        wrap_up_ms: 30_000,
        ..QueueSettings::default()
    };
    let mut h = Harness::with(settings, ChannelSettings::default());
    h.sign_in(a(1), vec![skill(SALES, 1, 1)], 3);
    h.arrive(c(1), SALES);
    let ended = h.send(Event::ConversationEnded { conversation: c(1) });
    assert!(ended.contains(&Action::WrapUpStarted {
        agent: a(1),
        conversation: c(1)
    }));
    // Free slots, but wrapping up: c(2) waits.
    assert!(assigned(&h.arrive(c(2), SALES)).is_empty());
    // The customer leaving does not cut the wrap-up short.
    h.send(Event::CustomerLeft { conversation: c(1) });
    assert!(assigned(&h.advance(29_999)).is_empty());
    let done = h.advance(1);
    assert!(done.contains(&Action::WrapUpEnded {
        agent: a(1),
        conversation: c(1)
    }));
    assert_eq!(assigned(&done), [(c(2), a(1))]);
}

#[test]
fn zero_wrap_up_frees_the_agent_at_once() {
    let settings = QueueSettings {
        wrap_up_ms: 0,
        ..QueueSettings::default()
    };
    let mut h = Harness::with(settings, ChannelSettings::default());
    h.sign_in(a(1), vec![skill(SALES, 1, 1)], 1);
    h.arrive(c(1), SALES);
    h.arrive(c(2), SALES);
    let ended = h.send(Event::ConversationEnded { conversation: c(1) });
    assert!(ended.contains(&Action::WrapUpEnded {
        agent: a(1),
        conversation: c(1)
    }));
    assert_eq!(assigned(&ended), [(c(2), a(1))]);
}

#[test]
fn a_restart_restores_queue_order_and_assignments() {
    let mut h = Harness::new();
    h.sign_in(a(1), vec![skill(SALES, 1, 1)], 1);
    h.arrive(c(1), SALES);
    let mut places = Vec::new();
    for n in 2..=5 {
        for action in h.arrive(c(n), SALES) {
            if let Action::Enqueued { place, .. } = action {
                places.push((c(n), place));
            }
        }
    }
    for action in h.send(Event::AgentSignedOut { agent: a(1) }) {
        if let Action::Requeued {
            conversation,
            place,
            ..
        } = action
        {
            places.push((conversation, place));
        }
    }
    // A new process, fed what the store kept, in any order.
    let mut fresh = Harness::new();
    for (conversation, place) in places.iter().rev() {
        fresh.send(Event::ConversationRestored {
            conversation: *conversation,
            channel: WEB,
            queue: SALES,
            restored: Restored::Waiting {
                place: *place,
                since: START,
            },
        });
    }
    fresh.send(Event::ConversationRestored {
        conversation: c(9),
        channel: WEB,
        queue: SALES,
        restored: Restored::WithAgent { agent: a(2) },
    });
    assert_eq!(fresh.order(SALES), [c(1), c(2), c(3), c(4), c(5)]);
    // The agent who held c(9) signs in again and keeps it, at full capacity.
    let back = fresh.sign_in(a(2), vec![skill(SALES, 1, 1)], 1);
    assert!(assigned(&back).is_empty());
    assert_eq!(fresh.router.agent_of(c(9)), Some(a(2)));
    // A newcomer takes the queue in its old order.
    let newcomer = fresh.sign_in(a(3), vec![skill(SALES, 1, 1)], 2);
    assert_eq!(assigned(&newcomer), [(c(1), a(3)), (c(2), a(3))]);
}

#[test]
fn a_restored_agent_who_does_not_return_loses_its_conversations_after_the_grace() {
    let mut h = Harness::new();
    h.sign_in(a(3), vec![skill(SALES, 1, 1)], 1);
    h.send(Event::AgentStatusChanged {
        agent: a(3),
        status: AgentStatus::Busy,
    });
    h.send(Event::ConversationRestored {
        conversation: c(1),
        channel: WEB,
        queue: SALES,
        restored: Restored::WithAgent { agent: a(2) },
    });
    assert!(h.advance(DEFAULT_RECONNECT_GRACE_MS - 1).is_empty());
    h.advance(1);
    assert_eq!(h.order(SALES), [c(1)]);
}

#[test]
fn a_timer_for_a_conversation_that_left_does_nothing() {
    let mut h = Harness::new();
    h.sign_in(a(1), vec![skill(SALES, 1, 1)], 1);
    h.arrive(c(1), SALES);
    h.arrive(c(2), SALES);
    let left = h.send(Event::CustomerLeft { conversation: c(2) });
    assert!(left.contains(&Action::CancelTimer {
        timer: Timer::WaitEnds(c(2))
    }));
    let late = h.send(Event::TimerFired {
        timer: Timer::WaitEnds(c(2)),
    });
    assert!(late.is_empty());
}
