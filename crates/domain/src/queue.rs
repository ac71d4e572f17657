//! Skill queues [002 Table 1-2]: where conversations wait for an agent with the skill.

use serde::{Deserialize, Serialize};

use crate::time::Timestamp;
use crate::validation::{fail, in_range, max_chars, Checked, Rule};
use crate::{QueueId, ValidationError};

pub const MAX_NAME_CHARS: usize = 20;
pub const MAX_DESCRIPTION_CHARS: usize = 50;
pub const MAX_WAIT_NOTICE_CHARS: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub enum QueueType {
    Voice,
    Multimedia,
    Video,
    VoiceClickToDial,
    VideoClickToDial,
}

impl QueueType {
    pub const ALL: [QueueType; 5] = [
        QueueType::Voice,
        QueueType::Multimedia,
        QueueType::Video,
        QueueType::VoiceClickToDial,
        QueueType::VideoClickToDial,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            QueueType::Voice => "voice",
            QueueType::Multimedia => "multimedia",
            QueueType::Video => "video",
            QueueType::VoiceClickToDial => "voiceClickToDial",
            QueueType::VideoClickToDial => "videoClickToDial",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == text)
    }

    pub fn is_click_to_dial(self) -> bool {
        matches!(
            self,
            QueueType::VoiceClickToDial | QueueType::VideoClickToDial
        )
    }
}

/// What happens to a waiting conversation the queue cannot serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "action", rename_all = "camelCase", deny_unknown_fields)]
pub enum OverflowAction {
    /// End the wait and tell the customer (the default).
    #[default]
    Release,
    /// Move the conversation to another skill queue of the same type.
    #[serde(rename_all = "camelCase")]
    Transfer { queue_id: QueueId },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OverflowPolicies {
    /// Waited longer than the maximum waiting time.
    #[serde(default)]
    pub skill_timeout: OverflowAction,
    /// Queue full, or no idle agent.
    #[serde(default)]
    pub skill_busy: OverflowAction,
    /// No agent of the queue is signed in.
    #[serde(default)]
    pub no_agents: OverflowAction,
}

impl OverflowPolicies {
    pub fn named(&self) -> [(&'static str, OverflowAction); 3] {
        [
            ("skillTimeout", self.skill_timeout),
            ("skillBusy", self.skill_busy),
            ("noAgents", self.no_agents),
        ]
    }

    pub fn transfer_targets(&self) -> impl Iterator<Item = (&'static str, QueueId)> {
        self.named()
            .into_iter()
            .filter_map(|(name, action)| match action {
                OverflowAction::Transfer { queue_id } => Some((name, queue_id)),
                OverflowAction::Release => None,
            })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SkillQueueConfig {
    /// Unique in the tenant, at most 20 characters, no spaces.
    pub name: String,
    #[serde(rename = "type")]
    pub queue_type: QueueType,
    /// Seconds, 1–60000.
    #[serde(default = "default_max_waiting")]
    pub max_waiting_seconds: u32,
    /// Conversations waiting at once, 1–10000.
    #[serde(default = "default_max_queued")]
    pub max_queued: u32,
    /// At most 50 characters.
    #[serde(default)]
    pub description: String,
    /// Seconds an agent stays in wrap-up after a conversation, 0–3600.
    #[serde(default = "default_wrap_up")]
    pub wrap_up_seconds: u32,
    #[serde(default)]
    pub policies: OverflowPolicies,
    /// Shown to a customer who has to wait in this queue.
    #[serde(default)]
    pub wait_notice: String,
}

fn default_max_waiting() -> u32 {
    60
}

fn default_max_queued() -> u32 {
    100
}

fn default_wrap_up() -> u32 {
    5
}

impl SkillQueueConfig {
    /// The rules that need no other record. Transfer targets are checked with
    /// [`SkillQueueConfig::check_transfer_targets`] once the caller has looked them up.
    pub fn validate(&self) -> Checked {
        if self.name.is_empty() {
            return fail("name", Rule::Required);
        }
        max_chars("name", &self.name, MAX_NAME_CHARS)?;
        if self.name.chars().any(char::is_whitespace) {
            return fail(
                "name",
                Rule::Pattern {
                    expected: "without spaces",
                },
            );
        }
        in_range(
            "maxWaitingSeconds",
            self.max_waiting_seconds.into(),
            1,
            60_000,
        )?;
        in_range("maxQueued", self.max_queued.into(), 1, 10_000)?;
        max_chars("description", &self.description, MAX_DESCRIPTION_CHARS)?;
        in_range("wrapUpSeconds", self.wrap_up_seconds.into(), 0, 3600)?;
        max_chars("waitNotice", &self.wait_notice, MAX_WAIT_NOTICE_CHARS)
    }

    /// Overflow transfers go to another existing queue of the same type. `lookup` gives the
    /// type of a queue of the same tenant, or `None` when there is no such queue.
    pub fn check_transfer_targets(
        &self,
        own_id: Option<QueueId>,
        lookup: impl Fn(QueueId) -> Option<QueueType>,
    ) -> Checked {
        for (name, target) in self.policies.transfer_targets() {
            let field = format!("policies.{name}.queueId");
            if Some(target) == own_id {
                return fail(
                    &field,
                    Rule::NotAllowed {
                        reason: "a queue cannot overflow to itself".into(),
                    },
                );
            }
            match lookup(target) {
                None => {
                    return Err(ValidationError::new(
                        field,
                        Rule::Invalid {
                            reason: "no such skill queue".into(),
                        },
                    ))
                }
                Some(kind) if kind != self.queue_type => {
                    return fail(
                        &field,
                        Rule::NotAllowed {
                            reason: format!(
                                "the target queue is {}, not {}",
                                kind.as_str(),
                                self.queue_type.as_str()
                            ),
                        },
                    )
                }
                Some(_) => {}
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SkillQueue {
    pub id: QueueId,
    #[serde(flatten)]
    pub config: SkillQueueConfig,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> SkillQueueConfig {
        serde_json::from_value(
            serde_json::json!({"name": "defaultMediaSkill", "type": "multimedia"}),
        )
        .unwrap()
    }

    #[test]
    fn defaults_follow_the_product_documents() {
        let c = config();
        assert_eq!(
            (c.max_waiting_seconds, c.max_queued, c.wrap_up_seconds),
            (60, 100, 5)
        );
        assert_eq!(c.policies.skill_busy, OverflowAction::Release);
        assert!(c.validate().is_ok());
    }

    #[test]
    fn name_of_twenty_characters_is_accepted_and_twenty_one_refused() {
        assert!(SkillQueueConfig {
            name: "q".repeat(20),
            ..config()
        }
        .validate()
        .is_ok());
        let err = SkillQueueConfig {
            name: "q".repeat(21),
            ..config()
        }
        .validate()
        .unwrap_err();
        assert_eq!(
            (err.field.as_str(), err.rule),
            ("name", Rule::TooLong { max: 20 })
        );
    }

    #[test]
    fn name_with_a_space_is_refused() {
        let err = SkillQueueConfig {
            name: "my queue".into(),
            ..config()
        }
        .validate()
        .unwrap_err();
        assert_eq!(err.field, "name");
    }

    #[test]
    fn max_waiting_time_bounds() {
        for (value, ok) in [(0, false), (1, true), (60_000, true), (60_001, false)] {
            let result = SkillQueueConfig {
                max_waiting_seconds: value,
                ..config()
            }
            .validate();
            assert_eq!(result.is_ok(), ok, "{value}");
            if let Err(e) = result {
                assert_eq!(e.field, "maxWaitingSeconds");
            }
        }
    }

    #[test]
    fn max_queued_bounds() {
        for (value, ok) in [(0, false), (1, true), (10_000, true), (10_001, false)] {
            assert_eq!(
                SkillQueueConfig {
                    max_queued: value,
                    ..config()
                }
                .validate()
                .is_ok(),
                ok,
                "{value}"
            );
        }
    }

    #[test]
    fn wrap_up_and_description_bounds() {
        assert!(SkillQueueConfig {
            wrap_up_seconds: 0,
            ..config()
        }
        .validate()
        .is_ok());
        assert!(SkillQueueConfig {
            wrap_up_seconds: 3601,
            ..config()
        }
        .validate()
        .is_err());
        assert!(SkillQueueConfig {
            description: "d".repeat(50),
            ..config()
        }
        .validate()
        .is_ok());
        assert_eq!(
            SkillQueueConfig {
                description: "d".repeat(51),
                ..config()
            }
            .validate()
            .unwrap_err()
            .field,
            "description"
        );
    }

    #[test]
    fn overflow_must_go_to_another_queue_of_the_same_type() {
        let mut c = config();
        c.policies.skill_busy = OverflowAction::Transfer {
            queue_id: QueueId(7),
        };
        assert!(c
            .check_transfer_targets(Some(QueueId(1)), |_| Some(QueueType::Multimedia))
            .is_ok());
        let wrong_type = c
            .check_transfer_targets(None, |_| Some(QueueType::Voice))
            .unwrap_err();
        assert_eq!(wrong_type.field, "policies.skillBusy.queueId");
        assert!(c.check_transfer_targets(None, |_| None).is_err());
        assert!(c
            .check_transfer_targets(Some(QueueId(7)), |_| Some(QueueType::Multimedia))
            .is_err());
    }

    #[test]
    fn unknown_type_is_a_parse_error() {
        let parsed: Result<SkillQueueConfig, _> =
            serde_json::from_value(serde_json::json!({"name": "q", "type": "fax"}));
        assert!(parsed.is_err());
    }
}
