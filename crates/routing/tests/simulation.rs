//! Simulated days: a scenario generator drives the router on a virtual clock with random
//! arrivals, messages, departures, agents signing in and out, losing their connection,
//! changing status and capacity, transfers and configuration edits, and checks the
//! invariants of `docs/routing.md` after every step against a model of its own.
//!
//! `SWITCHBOARD_SIM_DAYS=n` simulates n days (seeds 1..=n; 300 by default);
//! `SWITCHBOARD_SIM_SEED=s` replays one seed, as printed by a failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet, HashMap};

use switchboard_domain::worktime::{Segment, TimeOfDay, WorkTime};
use switchboard_domain::{ChannelId, ConversationId, EmployeeId, QueueId};
use switchboard_routing::{
    Action, AgentSilence, AgentStatus, ChannelSettings, Deadlines, Event, Millis, Overflow,
    QueueSettings, Router, SilentAgentTransfer, Skill, Timer, TransferTarget,
};

const QUEUES: [QueueId; 3] = [QueueId(1), QueueId(2), QueueId(3)];
const CHANNELS: [ChannelId; 2] = [ChannelId(1), ChannelId(2)];
const AGENTS: i64 = 8;
/// A simulated day: 4 hours of traffic, then everyone leaves.
const DAY_MS: Millis = 4 * 3_600_000;
/// Monday 2026-11-23T00:00:00Z plus a few hours, so work time matters.
const DAWN: Millis = 1_795_392_000_000;

/// xorshift64*: small, and the same on every platform, so seeds replay.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn range(&mut self, low: i64, high: i64) -> i64 {
        low + i64::try_from(self.below(u64::try_from(high - low + 1).unwrap())).unwrap()
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> Option<T> {
        if items.is_empty() {
            return None;
        }
        Some(items[usize::try_from(self.below(items.len() as u64)).unwrap()])
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Waiting {
        queue: QueueId,
        since: Millis,
        max_wait: Millis,
    },
    WithAgent(EmployeeId),
    WrappingUp(EmployeeId),
    /// Taken from its agent, about to be placed by the same step.
    InTransfer,
}

#[derive(Debug)]
struct ModelAgent {
    skills: Vec<Skill>,
    capacity: u32,
    status: AgentStatus,
    connected: bool,
    holding: BTreeSet<ConversationId>,
    wrapping: BTreeSet<ConversationId>,
}

impl ModelAgent {
    fn free(&self) -> bool {
        self.connected
            && self.status == AgentStatus::Idle
            && self.wrapping.is_empty()
            && self.holding.len() < self.capacity as usize
    }
    fn has_skill(&self, queue: QueueId) -> bool {
        self.skills.iter().any(|s| s.queue == queue)
    }
}

struct Day {
    seed: u64,
    rng: Rng,
    router: Router,
    now: Millis,
    timers: Deadlines<Timer>,
    agents: BTreeMap<EmployeeId, ModelAgent>,
    conversations: BTreeMap<ConversationId, Place>,
    closed: BTreeSet<ConversationId>,
    queue_settings: HashMap<QueueId, QueueSettings>,
    next_conversation: i64,
    steps: usize,
    /// The step being checked, for the failure report.
    last_step: String,
    /// How often each kind of action happened, to show the days reach every rule.
    seen: BTreeMap<String, usize>,
}

impl Day {
    fn new(seed: u64) -> Self {
        let mut rng = Rng::new(seed);
        let now = DAWN + rng.range(0, 20) * 3_600_000;
        let mut day = Self {
            seed,
            rng,
            router: Router::new(30_000),
            now,
            timers: Deadlines::default(),
            agents: BTreeMap::new(),
            conversations: BTreeMap::new(),
            closed: BTreeSet::new(),
            queue_settings: HashMap::new(),
            next_conversation: 1,
            steps: 0,
            last_step: String::new(),
            seen: BTreeMap::new(),
        };
        for queue in QUEUES {
            day.configure_queue(queue);
        }
        for channel in CHANNELS {
            day.configure_channel(channel);
        }
        day
    }

    fn fail(&self, what: &str) -> ! {
        panic!(
            "seed {} step {} at +{} ms: {what}\n{}\nreplay: SWITCHBOARD_SIM_SEED={} cargo test -p switchboard-routing --test simulation",
            self.seed, self.steps, self.now - DAWN, self.last_step, self.seed
        );
    }

    /// Release, or a transfer to any queue — even the queue itself: the chain bound
    /// must stop it.
    fn random_overflow(&mut self) -> Overflow {
        if self.rng.chance(50) {
            Overflow::Release
        } else {
            Overflow::Transfer(self.rng.pick(&QUEUES).unwrap())
        }
    }

    fn configure_queue(&mut self, queue: QueueId) {
        let settings = QueueSettings {
            max_queued: self.rng.range(1, 8) as usize,
            max_wait_ms: self.rng.range(5, 120) * 1000,
            wrap_up_ms: self.rng.range(0, 10) * 1000,
            on_timeout: self.random_overflow(),
            on_busy: self.random_overflow(),
            on_no_agents: self.random_overflow(),
        };
        self.queue_settings.insert(queue, settings);
        self.step(Event::QueueConfigured { queue, settings });
    }

    fn configure_channel(&mut self, channel: ChannelId) {
        let work_time = if self.rng.chance(30) {
            let start = u16::try_from(self.rng.range(0, 12) * 60).unwrap();
            WorkTime {
                workday: vec![Segment {
                    start: TimeOfDay::parse(&format!("{:02}:00", start / 60)).unwrap(),
                    end: TimeOfDay::END_OF_DAY,
                }],
                non_workday: vec![],
            }
        } else {
            WorkTime::default()
        };
        let agent_silence = self.rng.chance(50).then(|| AgentSilence {
            after_ms: self.rng.range(10, 90) * 1000,
            transfer: if self.rng.chance(50) {
                SilentAgentTransfer::OtherAgent
            } else {
                SilentAgentTransfer::Queue(self.rng.pick(&QUEUES).unwrap())
            },
        });
        let settings = ChannelSettings {
            work_time,
            offline_messages: self.rng.chance(50),
            reminder_interval_ms: self.rng.range(5, 60) * 1000,
            last_agent_wait_ms: self.rng.chance(50).then(|| self.rng.range(1, 60) * 1000),
            silence_prompt_ms: self.rng.chance(50).then(|| self.rng.range(30, 300) * 1000),
            silence_end_ms: self.rng.range(60, 1200) * 1000,
            agent_silence,
            ..ChannelSettings::default()
        };
        self.step(Event::ChannelConfigured { channel, settings });
    }

    fn close(&mut self, conversation: ConversationId) {
        self.conversations.remove(&conversation);
        self.closed.insert(conversation);
    }

    fn live(&self, pred: impl Fn(&Place) -> bool) -> Vec<ConversationId> {
        self.conversations
            .iter()
            .filter(|(_, p)| pred(p))
            .map(|(c, _)| *c)
            .collect()
    }

    fn random_event(&mut self) {
        let agent = EmployeeId(self.rng.range(1, AGENTS));
        match self.rng.below(100) {
            0..=24 => {
                let conversation = ConversationId(self.next_conversation);
                self.next_conversation += 1;
                let last_agent = self.rng.chance(40).then_some(agent);
                let channel = self.rng.pick(&CHANNELS).unwrap();
                let queue = self.rng.pick(&QUEUES).unwrap();
                self.step(Event::ConversationArrived {
                    conversation,
                    channel,
                    queue,
                    last_agent,
                });
            }
            25..=39 => {
                let talking = self.live(|p| matches!(p, Place::WithAgent(_)));
                if let Some(conversation) = self.rng.pick(&talking) {
                    if self.rng.chance(50) {
                        self.step(Event::CustomerMessage { conversation });
                    } else {
                        self.step(Event::AgentReplied { conversation });
                    }
                }
            }
            40..=47 => {
                let open = self.live(|_| true);
                if let Some(conversation) = self.rng.pick(&open) {
                    self.step(Event::CustomerLeft { conversation });
                }
            }
            48..=57 => {
                let talking = self.live(|p| matches!(p, Place::WithAgent(_)));
                if let Some(conversation) = self.rng.pick(&talking) {
                    self.step(Event::ConversationEnded { conversation });
                }
            }
            58..=61 => {
                let talking = self.live(|p| matches!(p, Place::WithAgent(_)));
                if let Some(conversation) = self.rng.pick(&talking) {
                    let to = if self.rng.chance(50) {
                        TransferTarget::Queue(self.rng.pick(&QUEUES).unwrap())
                    } else {
                        TransferTarget::Agent(agent)
                    };
                    self.step(Event::TransferRequested { conversation, to });
                }
            }
            62..=71 => {
                let mut skills = Vec::new();
                for queue in QUEUES {
                    if self.rng.chance(60) {
                        skills.push(Skill {
                            queue,
                            skill_weight: self.rng.range(1, 3) as u32,
                            agent_weight: self.rng.range(1, 3) as u32,
                        });
                    }
                }
                let capacity = self.rng.range(1, 4) as u32;
                self.step(Event::AgentSignedIn {
                    agent,
                    skills,
                    capacity,
                });
            }
            72..=75 => self.step(Event::AgentSignedOut { agent }),
            76..=79 => self.step(Event::AgentDisconnected { agent }),
            80..=83 => self.step(Event::AgentReconnected { agent }),
            84..=93 => {
                let status = match self.rng.below(4) {
                    0 => AgentStatus::Busy,
                    1 => AgentStatus::Rest,
                    _ => AgentStatus::Idle,
                };
                self.step(Event::AgentStatusChanged { agent, status });
            }
            94..=96 => {
                let capacity = self.rng.range(1, 4) as u32;
                self.step(Event::AgentCapacityChanged { agent, capacity });
            }
            97..=98 => {
                let queue = self.rng.pick(&QUEUES).unwrap();
                self.configure_queue(queue);
            }
            _ => {
                let channel = self.rng.pick(&CHANNELS).unwrap();
                self.configure_channel(channel);
            }
        }
    }

    /// Fires the timers due by `until`, in order, each as a step of its own.
    fn advance_to(&mut self, until: Millis) {
        while let Some((timer, at)) = self.timers.pop_due(until) {
            self.now = at;
            if let Some(conversation) = timer.conversation() {
                if self.closed.contains(&conversation) {
                    self.fail(&format!("{timer:?} fired for a closed conversation"));
                }
            }
            self.step(Event::TimerFired { timer });
        }
        self.now = until;
    }

    fn waiting_snapshot(&self) -> HashMap<QueueId, Vec<switchboard_routing::Waiting>> {
        QUEUES
            .iter()
            .map(|q| (*q, self.router.waiting_list(*q)))
            .collect()
    }

    fn step(&mut self, event: Event) {
        self.steps += 1;
        let before = self.waiting_snapshot();
        // The model forgets an agent as it leaves, before the requeues it causes.
        match &event {
            Event::AgentSignedOut { agent } => {
                self.agents.remove(agent);
            }
            Event::TimerFired {
                timer: Timer::ReconnectGraceEnds(agent),
            } if self.agents.get(agent).is_some_and(|a| !a.connected) => {
                self.agents.remove(agent);
            }
            _ => {}
        }
        self.model_event(&event);
        let described = format!("{event:?}");
        let actions = self.router.handle(event, self.now);
        self.last_step = format!("event {described}\nactions {actions:#?}");
        let mut assigned_from: Vec<(ConversationId, EmployeeId, QueueId)> = Vec::new();
        for action in &actions {
            let first_word = |text: String| {
                text.split([' ', '(', '{'])
                    .next()
                    .unwrap_or_default()
                    .to_owned()
            };
            let kind = match action {
                Action::Notify { notice, .. } => first_word(format!("{notice:?}")),
                Action::Released { reason, .. } => {
                    format!("Released {}", first_word(format!("{reason:?}")))
                }
                other => first_word(format!("{other:?}")),
            };
            *self.seen.entry(kind).or_default() += 1;
            self.model_action(action, &mut assigned_from);
        }
        self.check(&before, &assigned_from);
    }

    fn model_event(&mut self, event: &Event) {
        match event {
            Event::AgentSignedIn {
                agent,
                skills,
                capacity,
            } => {
                let model = self.agents.entry(*agent).or_insert(ModelAgent {
                    skills: Vec::new(),
                    capacity: 0,
                    status: AgentStatus::Idle,
                    connected: true,
                    holding: BTreeSet::new(),
                    wrapping: BTreeSet::new(),
                });
                model.skills.clone_from(skills);
                model.capacity = *capacity;
                model.connected = true;
            }
            Event::AgentDisconnected { agent } | Event::AgentReconnected { agent } => {
                let connected = matches!(event, Event::AgentReconnected { .. });
                if let Some(model) = self.agents.get_mut(agent) {
                    model.connected = connected;
                }
            }
            Event::AgentStatusChanged { agent, status } => {
                if let Some(model) = self.agents.get_mut(agent) {
                    model.status = *status;
                }
            }
            Event::AgentCapacityChanged { agent, capacity } => {
                if let Some(model) = self.agents.get_mut(agent) {
                    model.capacity = *capacity;
                }
            }
            Event::CustomerLeft { conversation } => {
                if let Some(Place::Waiting { .. }) = self.conversations.get(conversation) {
                    self.close(*conversation);
                }
            }
            _ => {}
        }
    }

    fn model_action(
        &mut self,
        action: &Action,
        assigned_from: &mut Vec<(ConversationId, EmployeeId, QueueId)>,
    ) {
        match action {
            Action::Enqueued {
                conversation,
                queue,
                ..
            }
            | Action::Requeued {
                conversation,
                queue,
                ..
            } => {
                let max_wait = self.queue_settings[queue].max_wait_ms;
                let place = Place::Waiting {
                    queue: *queue,
                    since: self.now,
                    max_wait,
                };
                self.conversations.insert(*conversation, place);
            }
            Action::Assigned {
                conversation,
                agent,
                queue,
            } => {
                if self.closed.contains(conversation) {
                    self.fail(&format!("{conversation:?} assigned after it ended"));
                }
                match self.conversations.get(conversation) {
                    Some(Place::WithAgent(other)) | Some(Place::WrappingUp(other)) => self.fail(
                        &format!("{conversation:?} assigned to {agent:?} while with {other:?}"),
                    ),
                    Some(Place::Waiting { queue: q, .. }) => {
                        assigned_from.push((*conversation, *agent, *q));
                    }
                    _ => {}
                }
                let Some(model) = self.agents.get_mut(agent) else {
                    self.fail(&format!(
                        "{conversation:?} assigned to {agent:?}, not signed in"
                    ));
                };
                if !model.free() {
                    let held = model.holding.len();
                    let capacity = model.capacity;
                    self.fail(&format!(
                        "{conversation:?} ({queue:?}) assigned to {agent:?}, not free: holds {held} of {capacity}"
                    ));
                }
                model.holding.insert(*conversation);
                self.conversations
                    .insert(*conversation, Place::WithAgent(*agent));
            }
            Action::Transferred {
                conversation, from, ..
            } => {
                if self.conversations.get(conversation) != Some(&Place::WithAgent(*from)) {
                    self.fail(&format!(
                        "{conversation:?} transferred from {from:?}, who did not hold it"
                    ));
                }
                if let Some(model) = self.agents.get_mut(from) {
                    model.holding.remove(conversation);
                }
                self.conversations.insert(*conversation, Place::InTransfer);
            }
            Action::Released { conversation, .. } => {
                if let Some(Place::WithAgent(_) | Place::WrappingUp(_)) =
                    self.conversations.get(conversation)
                {
                    self.fail(&format!("{conversation:?} released while with an agent"));
                }
                self.close(*conversation);
            }
            Action::WrapUpStarted {
                agent,
                conversation,
            } => {
                if self.conversations.get(conversation) != Some(&Place::WithAgent(*agent)) {
                    self.fail(&format!(
                        "wrap-up of {conversation:?} by {agent:?}, who did not hold it"
                    ));
                }
                if let Some(model) = self.agents.get_mut(agent) {
                    model.wrapping.insert(*conversation);
                }
                self.conversations
                    .insert(*conversation, Place::WrappingUp(*agent));
            }
            Action::WrapUpEnded {
                agent,
                conversation,
            } => {
                if let Some(model) = self.agents.get_mut(agent) {
                    model.wrapping.remove(conversation);
                    model.holding.remove(conversation);
                }
                self.close(*conversation);
            }
            Action::StartTimer { timer, at } => {
                if *at < self.now {
                    self.fail(&format!("{timer:?} set in the past"));
                }
                self.timers.set(*timer, *at);
            }
            Action::CancelTimer { timer } => {
                self.timers.cancel(*timer);
            }
            Action::Overflowed { conversation, .. } => {
                self.conversations.insert(*conversation, Place::InTransfer);
            }
            Action::TransferRefused { .. } | Action::Notify { .. } => {}
        }
    }

    fn check(
        &self,
        before: &HashMap<QueueId, Vec<switchboard_routing::Waiting>>,
        assigned_from: &[(ConversationId, EmployeeId, QueueId)],
    ) {
        let after = self.waiting_snapshot();
        // Nothing half-done at the end of a step.
        if let Some((c, _)) = self
            .conversations
            .iter()
            .find(|(_, p)| **p == Place::InTransfer)
        {
            self.fail(&format!("{c:?} transferred to nowhere"));
        }
        // First come, first served: whatever was ahead of a conversation taken from a
        // queue and still waits could not go to that agent — unless the conversation was
        // reserved for the agent (last-agent mode comes first).
        for (conversation, agent, queue) in assigned_from {
            let order = &before[queue];
            let Some(index) = order.iter().position(|w| w.conversation == *conversation) else {
                continue;
            };
            if order[index].reserved_for == Some(*agent) {
                continue;
            }
            for ahead in &order[..index] {
                let still_waiting = after[queue]
                    .iter()
                    .any(|w| w.conversation == ahead.conversation);
                let barred = ahead.reserved_for.is_some_and(|only| only != *agent)
                    || ahead.not_for == Some(*agent);
                if still_waiting && !barred {
                    self.fail(&format!(
                        "{conversation:?} went to {agent:?} before {:?}, ahead of it in {queue:?}",
                        ahead.conversation
                    ));
                }
            }
        }
        for (queue, waiting) in &after {
            for entry in waiting {
                // Nobody waits while an agent who may take it is free.
                let taker = self.agents.iter().find(|(id, model)| {
                    model.free()
                        && model.has_skill(*queue)
                        && entry.reserved_for.is_none_or(|only| only == **id)
                        && entry.not_for != Some(**id)
                });
                if let Some((id, _)) = taker {
                    self.fail(&format!(
                        "{:?} waits in {queue:?} while {id:?} is free",
                        entry.conversation
                    ));
                }
                // The model agrees it waits there, and not past the queue's maximum.
                match self.conversations.get(&entry.conversation) {
                    Some(Place::Waiting {
                        queue: q,
                        since,
                        max_wait,
                    }) if q == queue => {
                        if self.now - since > *max_wait {
                            self.fail(&format!("{:?} waited past the maximum", entry.conversation));
                        }
                    }
                    other => self.fail(&format!(
                        "{:?} waits in {queue:?} but the model has {other:?}",
                        entry.conversation
                    )),
                }
            }
        }
        for (id, model) in &self.agents {
            if self.router.load(*id) != model.holding.len() {
                self.fail(&format!(
                    "{id:?} holds {} by the router, {} by the model",
                    self.router.load(*id),
                    model.holding.len()
                ));
            }
        }
    }

    fn run(mut self) -> (usize, BTreeMap<String, usize>) {
        let dusk = self.now + DAY_MS;
        while self.now < dusk {
            let pause = self.rng.range(0, 8_000);
            self.advance_to(self.now + pause);
            self.random_event();
        }
        // Closing time: customers leave, agents finish and sign out.
        for conversation in self.live(|_| true) {
            self.step(Event::CustomerLeft { conversation });
        }
        for agent in 1..=AGENTS {
            self.step(Event::AgentSignedOut {
                agent: EmployeeId(agent),
            });
        }
        self.advance_to(self.now + 2 * 3_600_000);
        let stuck = self.live(|_| true);
        if !stuck.is_empty() {
            self.fail(&format!("left over at closing: {stuck:?}"));
        }
        for queue in QUEUES {
            if self.router.waiting(queue) != 0 {
                self.fail(&format!("{queue:?} still has someone waiting"));
            }
        }
        if !self.timers.is_empty() {
            self.fail(&format!(
                "{} timers still set at closing",
                self.timers.len()
            ));
        }
        (self.steps, self.seen)
    }
}

#[test]
fn simulated_days_keep_every_routing_invariant() {
    let seeds: Vec<u64> = match std::env::var("SWITCHBOARD_SIM_SEED") {
        Ok(seed) => vec![seed.parse().expect("SWITCHBOARD_SIM_SEED is a number")],
        Err(_) => {
            let days: u64 = std::env::var("SWITCHBOARD_SIM_DAYS")
                .ok()
                .map(|d| d.parse().expect("SWITCHBOARD_SIM_DAYS is a number"))
                .unwrap_or(1000);
            (1..=days).collect()
        }
    };
    let mut steps = 0;
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for seed in &seeds {
        let (day_steps, day_seen) = Day::new(*seed).run();
        steps += day_steps;
        for (kind, count) in day_seen {
            *seen.entry(kind).or_default() += count;
        }
    }
    println!("{} simulated days, {steps} steps", seeds.len());
    for (kind, count) in &seen {
        println!("{count:>10}  {kind}");
    }
    if seeds.len() >= 100 {
        for kind in [
            "Assigned",
            "Enqueued",
            "Requeued",
            "Overflowed",
            "Transferred",
            "TransferRefused",
            "Released Overflow",
            "Released OutOfHours",
            "Released OverflowChainEnded",
            "WrapUpStarted",
            "WrapUpEnded",
            "Position",
            "Reminder",
            "SilencePrompt",
            "Conclusion",
            "OutOfHours",
        ] {
            assert!(
                seen.contains_key(kind),
                "the simulated days never reached {kind}"
            );
        }
    }
}
