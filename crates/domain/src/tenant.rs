//! Tenant spaces: the unit of isolation. The operator creates them with resource limits;
//! the tenant administrator sets the time zone, locale and service calendar.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::employee::AgentType;
use crate::time::Timestamp;
use crate::validation::{fail, http_url, in_range, max_entries, required_text, Checked, Rule};
use crate::TenantId;

pub const MAX_NAME_CHARS: usize = 64;
pub const MAX_NON_WORKING_DAYS: usize = 1000;
pub const MAX_AGENT_LIMIT: i64 = 100_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Locale {
    #[default]
    En,
    Zh,
}

/// How many agents of each type the tenant may configure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResourceLimits {
    pub voice_agents: u32,
    pub video_agents: u32,
    pub multimedia_agents: u32,
    pub versatile_agents: u32,
}

impl Default for ResourceLimits {
    fn default() -> Self {
        Self {
            voice_agents: 0,
            video_agents: 0,
            multimedia_agents: 10,
            versatile_agents: 0,
        }
    }
}

impl ResourceLimits {
    pub fn validate(&self) -> Checked {
        let max = MAX_AGENT_LIMIT;
        in_range("voiceAgents", self.voice_agents.into(), 0, max)?;
        in_range("videoAgents", self.video_agents.into(), 0, max)?;
        in_range("multimediaAgents", self.multimedia_agents.into(), 0, max)?;
        in_range("versatileAgents", self.versatile_agents.into(), 0, max)
    }

    pub fn for_agent_type(&self, agent_type: AgentType) -> u32 {
        match agent_type {
            AgentType::Audio => self.voice_agents,
            AgentType::Video => self.video_agents,
            AgentType::Multimedia => self.multimedia_agents,
            AgentType::Versatile => self.versatile_agents,
        }
    }

    pub fn field_for(agent_type: AgentType) -> &'static str {
        match agent_type {
            AgentType::Audio => "voiceAgents",
            AgentType::Video => "videoAgents",
            AgentType::Multimedia => "multimediaAgents",
            AgentType::Versatile => "versatileAgents",
        }
    }
}

/// The settings of a tenant space that its administrator may change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TenantSettings {
    pub name: String,
    /// IANA time zone name, e.g. `Asia/Shanghai`; work time is read in it.
    #[serde(default = "utc")]
    pub time_zone: String,
    #[serde(default)]
    pub locale: Locale,
    /// Days on which the non-workday work time applies (the service calendar).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>, example = json!(["2026-10-01"])))]
    pub non_working_days: BTreeSet<NaiveDate>,
    /// The enterprise's token validation endpoint for the web chat's token mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_validation: Option<TokenValidation>,
    /// Prepared answers agents insert with one click.
    #[serde(default)]
    pub quick_replies: Vec<QuickReply>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct QuickReply {
    /// 1–32 characters, shown to the agent.
    pub title: String,
    /// 1–1000 characters, inserted into the reply.
    pub text: String,
}

pub const MAX_QUICK_REPLIES: usize = 100;

/// Where Switchboard asks the enterprise whether a web chat token is valid [002 §1.5.1]:
/// it POSTs `{Token, userName, userId, tenantSpaceId}` and admits on `retCode` 0.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TokenValidation {
    /// `https://…` (recommended) or `http://…`.
    pub url: String,
    /// PEM certificate(s) of the authority that issued the endpoint's HTTPS certificate,
    /// when it is not publicly trusted.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub ca_certificate: String,
}

pub const MAX_CA_CERTIFICATE_BYTES: usize = 64 * 1024;

impl TokenValidation {
    pub fn validate(&self) -> Checked {
        http_url("url", &self.url)?;
        if self.ca_certificate.is_empty() {
            return Ok(());
        }
        if !self.url.starts_with("https://") {
            return fail(
                "caCertificate",
                Rule::NotAllowed {
                    reason: "a CA certificate applies to https:// URLs only".into(),
                },
            );
        }
        if self.ca_certificate.len() > MAX_CA_CERTIFICATE_BYTES {
            return fail(
                "caCertificate",
                Rule::TooLong {
                    max: MAX_CA_CERTIFICATE_BYTES,
                },
            );
        }
        if !self.ca_certificate.contains("-----BEGIN CERTIFICATE-----") {
            return fail(
                "caCertificate",
                Rule::Pattern {
                    expected: "PEM: -----BEGIN CERTIFICATE-----…",
                },
            );
        }
        Ok(())
    }
}

fn utc() -> String {
    "UTC".into()
}

impl TenantSettings {
    pub fn validate(&self) -> Checked {
        required_text("name", &self.name, MAX_NAME_CHARS)?;
        if self.time_zone.parse::<chrono_tz::Tz>().is_err() {
            return fail(
                "timeZone",
                Rule::Pattern {
                    expected: "an IANA time zone name such as Asia/Shanghai",
                },
            );
        }
        let days: Vec<_> = self.non_working_days.iter().collect();
        max_entries("nonWorkingDays", &days, MAX_NON_WORKING_DAYS)?;
        if let Some(tv) = &self.token_validation {
            tv.validate().map_err(|e| e.within("tokenValidation"))?;
        }
        max_entries("quickReplies", &self.quick_replies, MAX_QUICK_REPLIES)?;
        for (i, reply) in self.quick_replies.iter().enumerate() {
            required_text(&format!("quickReplies[{i}].title"), &reply.title, 32)?;
            required_text(&format!("quickReplies[{i}].text"), &reply.text, 1000)?;
        }
        Ok(())
    }

    pub fn is_non_working_day(&self, day: NaiveDate) -> bool {
        self.non_working_days.contains(&day)
    }

    /// The service-time calendar work time is read in (UTC if the zone were unknown,
    /// which validation prevents).
    pub fn calendar(&self) -> crate::worktime::Calendar {
        crate::worktime::Calendar {
            time_zone: self.time_zone.parse().unwrap_or(chrono_tz::Tz::UTC),
            non_working_days: self.non_working_days.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Tenant {
    pub tenant_space_id: TenantId,
    #[serde(flatten)]
    pub settings: TenantSettings,
    pub limits: ResourceLimits,
    pub disabled: bool,
    pub created_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> TenantSettings {
        TenantSettings {
            name: "Acme".into(),
            time_zone: "Asia/Shanghai".into(),
            locale: Locale::Zh,
            non_working_days: BTreeSet::new(),
            token_validation: None,
            quick_replies: Vec::new(),
        }
    }

    #[test]
    fn accepts_an_iana_time_zone() {
        assert!(settings().validate().is_ok());
    }

    #[test]
    fn refuses_an_unknown_time_zone() {
        let s = TenantSettings {
            time_zone: "Mars/Olympus".into(),
            ..settings()
        };
        assert_eq!(s.validate().unwrap_err().field, "timeZone");
    }

    #[test]
    fn refuses_a_blank_or_long_name() {
        assert_eq!(
            TenantSettings {
                name: " ".into(),
                ..settings()
            }
            .validate()
            .unwrap_err()
            .rule,
            Rule::Required
        );
        let long = TenantSettings {
            name: "n".repeat(65),
            ..settings()
        };
        assert_eq!(long.validate().unwrap_err().rule, Rule::TooLong { max: 64 });
    }

    #[test]
    fn token_validation_needs_an_http_url_and_a_pem_authority_only_for_https() {
        let with = |url: &str, ca: &str| TenantSettings {
            token_validation: Some(TokenValidation {
                url: url.into(),
                ca_certificate: ca.into(),
            }),
            ..settings()
        };
        assert!(with("https://crm.example.com/validate", "")
            .validate()
            .is_ok());
        assert!(with("http://10.0.0.5:8080/validate", "").validate().is_ok());
        assert_eq!(
            with("ftp://x", "").validate().unwrap_err().field,
            "tokenValidation.url"
        );
        let pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
        assert!(with("https://crm.example.com/v", pem).validate().is_ok());
        assert_eq!(
            with("http://crm.example.com/v", pem)
                .validate()
                .unwrap_err()
                .field,
            "tokenValidation.caCertificate"
        );
        assert_eq!(
            with("https://crm.example.com/v", "garbage")
                .validate()
                .unwrap_err()
                .field,
            "tokenValidation.caCertificate"
        );
    }

    #[test]
    fn quick_replies_need_a_title_and_a_text() {
        let with = |title: &str, text: &str| TenantSettings {
            quick_replies: vec![QuickReply {
                title: title.into(),
                text: text.into(),
            }],
            ..settings()
        };
        assert!(with("Greeting", "Hello! How can I help?")
            .validate()
            .is_ok());
        assert_eq!(
            with("", "x").validate().unwrap_err().field,
            "quickReplies[0].title"
        );
        assert_eq!(
            with(&"t".repeat(33), "x").validate().unwrap_err().field,
            "quickReplies[0].title"
        );
        assert_eq!(
            with("t", "").validate().unwrap_err().field,
            "quickReplies[0].text"
        );
    }

    #[test]
    fn limits_are_bounded() {
        let limits = ResourceLimits {
            versatile_agents: 100_001,
            ..ResourceLimits::default()
        };
        assert_eq!(limits.validate().unwrap_err().field, "versatileAgents");
    }
}
