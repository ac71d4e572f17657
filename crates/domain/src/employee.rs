//! Employees and their agent profiles [002 Table 1-4]. An employee is an account that
//! signs in; an agent profile (work number, type, skill queues) makes it an agent.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::queue::QueueType;
use crate::tenant::ResourceLimits;
use crate::time::Timestamp;
use crate::validation::{fail, in_range, max_chars, max_entries, required_text, Checked, Rule};
use crate::{EmployeeId, QueueId, ValidationError};

pub const MIN_WORK_NO: u32 = 101;
pub const MAX_WORK_NO: u32 = 999_999;
pub const MAX_SKILLS: usize = 32;
pub const MAX_BATCH: usize = 1000;
pub const MIN_PASSWORD_CHARS: usize = 8;
pub const MAX_PASSWORD_CHARS: usize = 128;

/// What an account may do in its tenant. The platform operator is not a tenant role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub enum Role {
    TenantAdmin,
    Supervisor,
    Agent,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::TenantAdmin => "tenantAdmin",
            Role::Supervisor => "supervisor",
            Role::Agent => "agent",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Role::TenantAdmin, Role::Supervisor, Role::Agent]
            .into_iter()
            .find(|r| r.as_str() == text)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub enum PlatformRole {
    #[default]
    CommonAgent,
    QualityChecker,
    CalloutAgent,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub enum AgentType {
    Audio,
    Video,
    Multimedia,
    Versatile,
}

impl AgentType {
    pub const ALL: [AgentType; 4] = [
        AgentType::Audio,
        AgentType::Video,
        AgentType::Multimedia,
        AgentType::Versatile,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AgentType::Audio => "audio",
            AgentType::Video => "video",
            AgentType::Multimedia => "multimedia",
            AgentType::Versatile => "versatile",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == text)
    }

    /// Which queue types an agent of this type may serve. Multimedia agents may also hold
    /// click-to-dial queues: those calls start from a multimedia chat [002 §1.4.2 step 5].
    pub fn serves(self, queue: QueueType) -> bool {
        match self {
            AgentType::Versatile => true,
            AgentType::Audio => queue == QueueType::Voice || queue == QueueType::VoiceClickToDial,
            AgentType::Video => queue == QueueType::Video || queue == QueueType::VideoClickToDial,
            AgentType::Multimedia => queue == QueueType::Multimedia || queue.is_click_to_dial(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SkillAssignment {
    pub queue_id: QueueId,
    /// How strongly this agent is preferred for this queue, 1–100 (higher first).
    pub skill_weight: u32,
    /// How strongly this agent is preferred among agents of equal skill, 1–100.
    pub agent_weight: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AgentProfile {
    /// The agent's work number (`workNo`), 101–999999, unique in the tenant.
    pub work_no: u32,
    #[serde(default)]
    pub platform_role: PlatformRole,
    pub agent_type: AgentType,
    /// Conversations the agent handles at once, 1–60.
    #[serde(default = "default_max_chats")]
    pub max_concurrent_chats: u32,
    #[serde(default)]
    pub skills: Vec<SkillAssignment>,
}

fn default_max_chats() -> u32 {
    5
}

impl AgentProfile {
    pub fn validate(&self) -> Checked {
        in_range(
            "workNo",
            self.work_no.into(),
            MIN_WORK_NO.into(),
            MAX_WORK_NO.into(),
        )?;
        in_range(
            "maxConcurrentChats",
            self.max_concurrent_chats.into(),
            1,
            60,
        )?;
        check_skill_list(&self.skills).map_err(|e| e.within("skills"))
    }

    /// Every queue must exist and suit the agent type; apart from versatile agents, all
    /// queues share one media type. `lookup` gives a queue's type in the same tenant.
    pub fn check_skills(&self, lookup: impl Fn(QueueId) -> Option<QueueType>) -> Checked {
        check_skills_against(self.agent_type, &self.skills, lookup).map_err(|e| e.within("skills"))
    }
}

fn check_skill_list(skills: &[SkillAssignment]) -> Checked {
    max_entries("", skills, MAX_SKILLS)?;
    let mut seen = HashSet::new();
    for (i, skill) in skills.iter().enumerate() {
        let at = |field: &str| format!("[{i}].{field}");
        in_range(&at("skillWeight"), skill.skill_weight.into(), 1, 100)?;
        in_range(&at("agentWeight"), skill.agent_weight.into(), 1, 100)?;
        if !seen.insert(skill.queue_id) {
            return fail(&at("queueId"), Rule::Duplicate);
        }
    }
    Ok(())
}

fn check_skills_against(
    agent_type: AgentType,
    skills: &[SkillAssignment],
    lookup: impl Fn(QueueId) -> Option<QueueType>,
) -> Checked {
    let mut media: Option<QueueType> = None;
    for (i, skill) in skills.iter().enumerate() {
        let field = format!("[{i}].queueId");
        let Some(queue_type) = lookup(skill.queue_id) else {
            return fail(
                &field,
                Rule::Invalid {
                    reason: "no such skill queue".into(),
                },
            );
        };
        if !agent_type.serves(queue_type) {
            let reason = format!(
                "a {} agent cannot serve a {} queue",
                agent_type.as_str(),
                queue_type.as_str()
            );
            return fail(&field, Rule::NotAllowed { reason });
        }
        if agent_type == AgentType::Versatile || queue_type.is_click_to_dial() {
            continue;
        }
        match media {
            Some(first) if first != queue_type => {
                let reason =
                    "all skill queues must have the same media type unless the agent is versatile"
                        .into();
                return fail(&field, Rule::NotAllowed { reason });
            }
            _ => media = Some(queue_type),
        }
    }
    Ok(())
}

/// The parts of an employee that are stored and returned; the password is kept apart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct EmployeeConfig {
    /// Sign-in name, unique in the installation (case-insensitive).
    pub account: String,
    pub name: String,
    pub role: Role,
    #[serde(default)]
    pub phone: String,
    pub agent: Option<AgentProfile>,
}

/// What a client sends to create or replace an employee.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EmployeeInput {
    pub account: String,
    pub name: String,
    pub role: Role,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub agent: Option<AgentProfile>,
    /// Write-only. Omitted on create: a one-time password is generated and returned once.
    /// Omitted on update: unchanged.
    #[serde(default)]
    pub password: Option<String>,
}

impl EmployeeInput {
    pub fn validate(&self) -> Checked {
        check_account(&self.account)?;
        required_text("name", &self.name, 64)?;
        check_phone(&self.phone)?;
        if let Some(password) = &self.password {
            check_password("password", password)?;
        }
        if let Some(agent) = &self.agent {
            agent.validate().map_err(|e| e.within("agent"))?;
        }
        Ok(())
    }

    pub fn into_parts(self) -> (EmployeeConfig, Option<String>) {
        let config = EmployeeConfig {
            account: self.account,
            name: self.name,
            role: self.role,
            phone: self.phone,
            agent: self.agent,
        };
        (config, self.password)
    }
}

pub fn check_account(account: &str) -> Checked {
    required_text("account", account, 64)?;
    let well_formed = account.chars().count() >= 3
        && account.starts_with(|c: char| c.is_ascii_alphanumeric())
        && account
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._@-".contains(c));
    if !well_formed {
        return fail(
            "account",
            Rule::Pattern {
                expected:
                    "3–64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit",
            },
        );
    }
    Ok(())
}

fn check_phone(phone: &str) -> Checked {
    max_chars("phone", phone, 32)?;
    if !phone
        .chars()
        .all(|c| c.is_ascii_digit() || "+- ".contains(c))
    {
        return fail(
            "phone",
            Rule::Pattern {
                expected: "digits, spaces, '+' or '-'",
            },
        );
    }
    Ok(())
}

/// 8–128 characters mixing at least two of: lower case, upper case, digits, other.
pub fn check_password(field: &str, password: &str) -> Checked {
    let length = password.chars().count();
    if length < MIN_PASSWORD_CHARS {
        return fail(
            field,
            Rule::TooShort {
                min: MIN_PASSWORD_CHARS,
            },
        );
    }
    if length > MAX_PASSWORD_CHARS {
        return fail(
            field,
            Rule::TooLong {
                max: MAX_PASSWORD_CHARS,
            },
        );
    }
    let classes = [
        password.chars().any(|c| c.is_lowercase()),
        password.chars().any(|c| c.is_uppercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_alphanumeric()),
    ];
    if classes.iter().filter(|present| **present).count() < 2 {
        return fail(
            field,
            Rule::Pattern {
                expected: "a mix of at least two of: lower case, upper case, digits, symbols",
            },
        );
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Employee {
    pub id: EmployeeId,
    #[serde(flatten)]
    pub config: EmployeeConfig,
    /// The account still has a one-time password that must be changed at first sign-in.
    pub password_change_required: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Which agents a batch configuration applies to [002 Figure 1-10].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub enum BatchSelection {
    /// These employees; each must have an agent profile.
    EmployeeIds(Vec<EmployeeId>),
    /// Every agent whose work number lies in this inclusive range.
    WorkNoRange { from: u32, to: u32 },
}

/// The agent settings a batch changes; what is omitted stays as each agent has it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BatchAgentConfig {
    pub selection: BatchSelection,
    pub platform_role: Option<PlatformRole>,
    pub agent_type: Option<AgentType>,
    pub max_concurrent_chats: Option<u32>,
    pub skills: Option<Vec<SkillAssignment>>,
    /// Write-only: sets this password on every selected account.
    pub password: Option<String>,
}

impl BatchAgentConfig {
    pub fn validate(&self) -> Checked {
        match &self.selection {
            BatchSelection::EmployeeIds(ids) => {
                if ids.is_empty() {
                    return fail("selection.employeeIds", Rule::Required);
                }
                max_entries("selection.employeeIds", ids, MAX_BATCH)?;
            }
            BatchSelection::WorkNoRange { from, to } => {
                let (min, max) = (MIN_WORK_NO.into(), MAX_WORK_NO.into());
                in_range("selection.workNoRange.from", (*from).into(), min, max)?;
                in_range(
                    "selection.workNoRange.to",
                    (*to).into(),
                    (*from).into(),
                    max,
                )?;
            }
        }
        if let Some(chats) = self.max_concurrent_chats {
            in_range("maxConcurrentChats", chats.into(), 1, 60)?;
        }
        if let Some(skills) = &self.skills {
            check_skill_list(skills).map_err(|e| e.within("skills"))?;
        }
        if let Some(password) = &self.password {
            check_password("password", password)?;
        }
        Ok(())
    }

    /// The profile an agent has after this batch.
    pub fn apply_to(&self, profile: &AgentProfile) -> AgentProfile {
        AgentProfile {
            work_no: profile.work_no,
            platform_role: self.platform_role.unwrap_or(profile.platform_role),
            agent_type: self.agent_type.unwrap_or(profile.agent_type),
            max_concurrent_chats: self
                .max_concurrent_chats
                .unwrap_or(profile.max_concurrent_chats),
            skills: self
                .skills
                .clone()
                .unwrap_or_else(|| profile.skills.clone()),
        }
    }
}

/// The tenant may not have more agents of a type than its limits allow. `counts` are the
/// numbers of agents per type as they would be after the change.
pub fn check_agent_limits(
    limits: &ResourceLimits,
    counts: &BTreeMap<AgentType, u32>,
    field: &str,
) -> Checked {
    for (agent_type, count) in counts {
        let limit = limits.for_agent_type(*agent_type);
        if *count > limit {
            let reason = format!(
                "the tenant may have {limit} {} agents ({} in its resource limits), this would make {count}",
                agent_type.as_str(),
                ResourceLimits::field_for(*agent_type)
            );
            return Err(ValidationError::new(field, Rule::NotAllowed { reason }));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(agent_type: AgentType, queues: &[i64]) -> AgentProfile {
        AgentProfile {
            work_no: 101,
            platform_role: PlatformRole::CommonAgent,
            agent_type,
            max_concurrent_chats: 5,
            skills: queues
                .iter()
                .map(|q| SkillAssignment {
                    queue_id: QueueId(*q),
                    skill_weight: 1,
                    agent_weight: 1,
                })
                .collect(),
        }
    }

    fn queue_types(id: QueueId) -> Option<QueueType> {
        match id.0 {
            1 | 2 => Some(QueueType::Multimedia),
            3 => Some(QueueType::Voice),
            4 => Some(QueueType::VoiceClickToDial),
            _ => None,
        }
    }

    #[test]
    fn work_number_and_capacity_bounds() {
        assert!(profile(AgentType::Multimedia, &[1]).validate().is_ok());
        let low = AgentProfile {
            work_no: 100,
            ..profile(AgentType::Multimedia, &[])
        };
        assert_eq!(low.validate().unwrap_err().field, "workNo");
        let many = AgentProfile {
            max_concurrent_chats: 61,
            ..profile(AgentType::Multimedia, &[])
        };
        assert_eq!(many.validate().unwrap_err().field, "maxConcurrentChats");
        assert!(AgentProfile {
            max_concurrent_chats: 60,
            ..profile(AgentType::Multimedia, &[])
        }
        .validate()
        .is_ok());
    }

    #[test]
    fn weights_are_bounded_and_queues_not_repeated() {
        let mut p = profile(AgentType::Multimedia, &[1, 1]);
        assert_eq!(p.validate().unwrap_err().field, "skills[1].queueId");
        p.skills.pop();
        p.skills[0].skill_weight = 0;
        assert_eq!(p.validate().unwrap_err().field, "skills[0].skillWeight");
        p.skills[0].skill_weight = 100;
        p.skills[0].agent_weight = 101;
        assert_eq!(p.validate().unwrap_err().field, "skills[0].agentWeight");
    }

    #[test]
    fn non_versatile_agents_keep_one_media_type() {
        assert!(profile(AgentType::Multimedia, &[1, 2, 4])
            .check_skills(queue_types)
            .is_ok());
        let err = profile(AgentType::Multimedia, &[1, 3])
            .check_skills(queue_types)
            .unwrap_err();
        assert_eq!(err.field, "skills[1].queueId");
        assert!(profile(AgentType::Audio, &[3, 4])
            .check_skills(queue_types)
            .is_ok());
        assert!(profile(AgentType::Audio, &[1])
            .check_skills(queue_types)
            .is_err());
    }

    #[test]
    fn versatile_agents_mix_media_types() {
        assert!(profile(AgentType::Versatile, &[1, 3, 4])
            .check_skills(queue_types)
            .is_ok());
    }

    #[test]
    fn unknown_queue_is_refused() {
        assert_eq!(
            profile(AgentType::Versatile, &[9])
                .check_skills(queue_types)
                .unwrap_err()
                .field,
            "skills[0].queueId"
        );
    }

    #[test]
    fn accounts_and_passwords() {
        assert!(check_account("agent_01").is_ok());
        assert!(check_account("ab").is_err());
        assert!(check_account("-ab").is_err());
        assert!(check_account("a b c").is_err());
        assert!(check_password("password", "Secret-123").is_ok());
        assert_eq!(
            check_password("password", "Short1").unwrap_err().rule,
            Rule::TooShort { min: 8 }
        );
        assert!(check_password("password", "alllowercase").is_err());
    }

    #[test]
    fn limits_count_agents_per_type() {
        let limits = ResourceLimits {
            multimedia_agents: 2,
            ..ResourceLimits::default()
        };
        let mut counts = BTreeMap::from([(AgentType::Multimedia, 2)]);
        assert!(check_agent_limits(&limits, &counts, "agent").is_ok());
        counts.insert(AgentType::Multimedia, 3);
        assert!(check_agent_limits(&limits, &counts, "agent").is_err());
        counts = BTreeMap::from([(AgentType::Video, 1)]);
        assert!(check_agent_limits(&limits, &counts, "agent").is_err());
    }

    #[test]
    fn batch_selection_by_ids_or_range() {
        let by_ids: BatchAgentConfig = serde_json::from_value(serde_json::json!({
            "selection": {"employeeIds": ["1519", "1520"]}, "maxConcurrentChats": 3
        }))
        .unwrap();
        assert!(by_ids.validate().is_ok());
        let by_range: BatchAgentConfig = serde_json::from_value(serde_json::json!({
            "selection": {"workNoRange": {"from": 200, "to": 150}}
        }))
        .unwrap();
        assert_eq!(
            by_range.validate().unwrap_err().field,
            "selection.workNoRange.to"
        );
        let applied = by_ids.apply_to(&profile(AgentType::Multimedia, &[1]));
        assert_eq!((applied.max_concurrent_chats, applied.skills.len()), (3, 1));
    }
}
