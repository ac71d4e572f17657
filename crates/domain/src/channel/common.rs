use serde::{Deserialize, Serialize};

use super::secrets::{SecretPlan, SecretsInput};
use super::settings::{
    EmailSettings, FacebookSettings, LineSettings, TelegramSettings, WebSettings, WechatSettings,
    WhatsappSettings,
};
use crate::queue::QueueType;
use crate::time::Timestamp;
use crate::validation::{
    fail, http_url, identifier, in_range, max_chars, required_text, Checked, Rule,
};
use crate::worktime::WorkTime;
use crate::{ChannelId, RouteId, ValidationError};

pub const MAX_CODE_CHARS: usize = 64;
pub const MAX_TEXT_CHARS: usize = 500;
pub const MAX_KEYWORDS: usize = 50;
pub const MAX_KEYWORD_CHARS: usize = 32;
pub const DEFAULT_CUSTOMER_TIMEOUT_MINUTES: u32 = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "UPPERCASE")]
pub enum ChannelType {
    Web,
    Telegram,
    Facebook,
    Whatsapp,
    Line,
    Wechat,
    Email,
}

impl ChannelType {
    pub const ALL: [ChannelType; 7] = [
        ChannelType::Web,
        ChannelType::Telegram,
        ChannelType::Facebook,
        ChannelType::Whatsapp,
        ChannelType::Line,
        ChannelType::Wechat,
        ChannelType::Email,
    ];

    /// Replies to its customers go out through a messaging platform's API.
    pub fn replies_through_platform(self) -> bool {
        matches!(
            self,
            ChannelType::Telegram
                | ChannelType::Facebook
                | ChannelType::Whatsapp
                | ChannelType::Line
                | ChannelType::Wechat
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ChannelType::Web => "WEB",
            ChannelType::Telegram => "TELEGRAM",
            ChannelType::Facebook => "FACEBOOK",
            ChannelType::Whatsapp => "WHATSAPP",
            ChannelType::Line => "LINE",
            ChannelType::Wechat => "WECHAT",
            ChannelType::Email => "EMAIL",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == text)
    }

    /// The JSON key under which this type's own settings are written.
    pub fn settings_key(self) -> &'static str {
        match self {
            ChannelType::Web => "web",
            ChannelType::Telegram => "telegram",
            ChannelType::Facebook => "facebook",
            ChannelType::Whatsapp => "whatsapp",
            ChannelType::Line => "line",
            ChannelType::Wechat => "wechat",
            ChannelType::Email => "email",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub enum CalledParty {
    #[default]
    Agent,
    Ivr,
}

/// Click-to-dial from a web chat to a voice or video agent (web channels only).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClickToCall {
    pub enabled: bool,
    #[serde(default)]
    pub called_party: CalledParty,
    /// A click-to-dial called route, when the called party is an agent.
    #[serde(default)]
    pub called_route_id: Option<RouteId>,
    /// The IVR access code, when the called party is an IVR.
    #[serde(default)]
    pub ivr_access_code: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct QueueReminder {
    /// Seconds between reminders to a waiting customer, 1–3600.
    #[serde(default = "default_reminder_interval")]
    pub interval_seconds: u32,
    #[serde(default)]
    pub content: String,
}

fn default_reminder_interval() -> u32 {
    10
}

impl Default for QueueReminder {
    fn default() -> Self {
        Self {
            interval_seconds: default_reminder_interval(),
            content: String::new(),
        }
    }
}

/// Route a returning customer to their previous agent first, if that agent is free.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LastAgentMode {
    pub enabled: bool,
    /// How long to wait for the previous agent before normal routing, 1–600 s.
    #[serde(default = "default_last_agent_wait")]
    pub wait_seconds: u32,
}

fn default_last_agent_wait() -> u32 {
    30
}

impl Default for LastAgentMode {
    fn default() -> Self {
        Self {
            enabled: false,
            wait_seconds: default_last_agent_wait(),
        }
    }
}

/// Session end on no customer reply ("dialog end method"). When not customised the
/// session ends after 20 minutes of customer silence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CustomerTimeout {
    pub enabled: bool,
    /// Minutes of silence before the prompt is sent; none for no prompt.
    #[serde(default)]
    pub prompt_after_minutes: Option<u32>,
    #[serde(default)]
    pub prompt: String,
    /// Minutes of silence before the session ends, 1–1440.
    #[serde(default = "default_customer_timeout")]
    pub end_after_minutes: u32,
    /// Sent to the customer when the session ends for silence.
    #[serde(default)]
    pub conclusion: String,
}

fn default_customer_timeout() -> u32 {
    DEFAULT_CUSTOMER_TIMEOUT_MINUTES
}

impl Default for CustomerTimeout {
    fn default() -> Self {
        Self {
            enabled: false,
            prompt_after_minutes: None,
            prompt: String::new(),
            end_after_minutes: DEFAULT_CUSTOMER_TIMEOUT_MINUTES,
            conclusion: String::new(),
        }
    }
}

impl CustomerTimeout {
    pub fn effective_end_after_minutes(&self) -> u32 {
        if self.enabled {
            self.end_after_minutes
        } else {
            DEFAULT_CUSTOMER_TIMEOUT_MINUTES
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub enum AgentTimeoutTarget {
    /// Another agent of the same queue.
    #[default]
    Agent,
    /// The queue of a called route.
    Queue,
}

/// Session transfer when the agent does not reply in time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AgentTimeout {
    pub enabled: bool,
    /// Seconds without an agent reply before the transfer, 10–3600.
    #[serde(default = "default_agent_timeout")]
    pub after_seconds: u32,
    #[serde(default)]
    pub transfer_to: AgentTimeoutTarget,
    /// A multimedia called route, when transferring to a queue.
    #[serde(default)]
    pub called_route_id: Option<RouteId>,
}

fn default_agent_timeout() -> u32 {
    180
}

impl Default for AgentTimeout {
    fn default() -> Self {
        Self {
            enabled: false,
            after_seconds: default_agent_timeout(),
            transfer_to: AgentTimeoutTarget::Agent,
            called_route_id: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SessionTransfer {
    /// When an agent transfers a session, offer only skill queues of the channel's type.
    pub only_channel_type_queues: bool,
}

impl Default for SessionTransfer {
    fn default() -> Self {
        Self {
            only_channel_type_queues: true,
        }
    }
}

/// Signed pushes of messages to the enterprise (`{baseUrl}/webhooks/v1/messages`);
/// web and WhatsApp channels only. The push key is a secret.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MessagePush {
    pub enabled: bool,
    #[serde(default)]
    pub base_url: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub enum Gender {
    Female,
    Male,
    #[default]
    Unspecified,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Chatbot {
    pub enabled: bool,
    #[serde(default)]
    pub avatar_url: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub gender: Gender,
    #[serde(default)]
    pub access_code: String,
    /// When the bot does not understand the customer.
    #[serde(default)]
    pub default_reply: String,
    /// When the session with the bot times out.
    #[serde(default)]
    pub timeout_reply: String,
    /// When the customer is handed to an agent.
    #[serde(default)]
    pub transfer_prompt: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RobotAssistant {
    pub enabled: bool,
    #[serde(default)]
    pub access_code: String,
    /// The multimedia called route of the silent agent's skill queue.
    #[serde(default)]
    pub silent_agent_route_id: Option<RouteId>,
}

/// The field of [`ChannelConfig::route_references`] naming the route its conversations
/// are queued by.
pub const CALLED_ROUTE_FIELD: &str = "calledRouteId";

/// A channel's configuration as stored and returned; credentials are never part of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChannelConfig {
    /// Unique in the tenant; letters, digits and `_`, starting with a letter or `_`, ≤64.
    pub access_code: String,
    /// Unique in the tenant; same rule as the access code.
    pub name: String,
    #[serde(rename = "type")]
    pub channel_type: ChannelType,
    #[serde(default)]
    pub ou: String,
    /// The multimedia called route whose skill queue serves this channel.
    pub called_route_id: RouteId,
    /// Keywords that hand a chatbot conversation to an agent, separated by `;` or `；`.
    #[serde(default)]
    pub transfer_keywords: String,
    #[serde(default)]
    pub click_to_call: ClickToCall,
    #[serde(default)]
    pub work_time: WorkTime,
    #[serde(default)]
    pub non_working_time_notice: String,
    #[serde(default)]
    pub queue_reminder: QueueReminder,
    #[serde(default)]
    pub last_agent_mode: LastAgentMode,
    #[serde(default)]
    pub customer_timeout: CustomerTimeout,
    #[serde(default)]
    pub agent_timeout: AgentTimeout,
    #[serde(default)]
    pub session_transfer: SessionTransfer,
    #[serde(default)]
    pub offline_messages: bool,
    #[serde(default)]
    pub message_push: MessagePush,
    #[serde(default)]
    pub chatbot: Chatbot,
    #[serde(default)]
    pub robot_assistant: RobotAssistant,
    /// The settings of the channel's own type: only the key matching `type` may be set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web: Option<WebSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub telegram: Option<TelegramSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facebook: Option<FacebookSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub whatsapp: Option<WhatsappSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<LineSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wechat: Option<WechatSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<EmailSettings>,
    /// Write-only credentials: accepted in requests, never stored with the configuration
    /// nor returned. Omitted ones stay as they are; `""` removes one.
    #[serde(default, skip_serializing_if = "SecretsInput::never_written")]
    #[cfg_attr(feature = "openapi", schema(write_only))]
    pub secrets: SecretsInput,
}

impl ChannelConfig {
    /// Rules that need no other record.
    pub fn validate(&self) -> Checked {
        identifier("accessCode", &self.access_code, MAX_CODE_CHARS)?;
        identifier("name", &self.name, MAX_CODE_CHARS)?;
        max_chars("ou", &self.ou, MAX_CODE_CHARS)?;
        let keywords = check_keywords(&self.transfer_keywords)?;
        self.check_click_to_call()?;
        self.work_time
            .validate()
            .map_err(|e| e.within("workTime"))?;
        max_chars(
            "nonWorkingTimeNotice",
            &self.non_working_time_notice,
            MAX_TEXT_CHARS,
        )?;
        in_range(
            "queueReminder.intervalSeconds",
            self.queue_reminder.interval_seconds.into(),
            1,
            3600,
        )?;
        max_chars(
            "queueReminder.content",
            &self.queue_reminder.content,
            MAX_TEXT_CHARS,
        )?;
        in_range(
            "lastAgentMode.waitSeconds",
            self.last_agent_mode.wait_seconds.into(),
            1,
            600,
        )?;
        check_customer_timeout(&self.customer_timeout).map_err(|e| e.within("customerTimeout"))?;
        self.check_agent_timeout()?;
        self.check_message_push()?;
        check_chatbot(&self.chatbot).map_err(|e| e.within("chatbot"))?;
        if self.chatbot.enabled && keywords.is_empty() {
            return fail("transferKeywords", Rule::Required);
        }
        self.check_robot_assistant()?;
        self.check_type_settings()
    }

    /// Checks the configuration, then works out which credentials to store and remove,
    /// given the names of those the channel already has (none on create).
    pub fn validate_with_secrets(
        &self,
        existing_secrets: &[String],
    ) -> Result<SecretPlan, ValidationError> {
        self.validate()?;
        self.secrets
            .plan(self, existing_secrets)
            .map_err(|e| e.within("secrets"))
    }

    /// The transfer keywords as a list: split on `;` or `；`, trimmed, blanks dropped.
    pub fn keywords(&self) -> Vec<&str> {
        split_keywords(&self.transfer_keywords)
    }

    /// Every called route the channel refers to, with the field it is in and the queue
    /// types that route may lead to.
    pub fn route_references(&self) -> Vec<(&'static str, RouteId, &'static [QueueType])> {
        const MULTIMEDIA: &[QueueType] = &[QueueType::Multimedia];
        const CLICK_TO_DIAL: &[QueueType] =
            &[QueueType::VoiceClickToDial, QueueType::VideoClickToDial];
        let mut refs = vec![(CALLED_ROUTE_FIELD, self.called_route_id, MULTIMEDIA)];
        if let Some(route) = self
            .click_to_call
            .called_route_id
            .filter(|_| self.click_to_call.enabled)
        {
            refs.push(("clickToCall.calledRouteId", route, CLICK_TO_DIAL));
        }
        if let Some(route) = self
            .agent_timeout
            .called_route_id
            .filter(|_| self.agent_timeout.enabled)
        {
            refs.push(("agentTimeout.calledRouteId", route, MULTIMEDIA));
        }
        if let Some(route) = self
            .robot_assistant
            .silent_agent_route_id
            .filter(|_| self.robot_assistant.enabled)
        {
            refs.push(("robotAssistant.silentAgentRouteId", route, MULTIMEDIA));
        }
        refs
    }

    /// `lookup` gives the media type of a called route of the same tenant.
    pub fn check_routes(&self, lookup: impl Fn(RouteId) -> Option<QueueType>) -> Checked {
        for (field, route, allowed) in self.route_references() {
            match lookup(route) {
                None => {
                    return fail(
                        field,
                        Rule::Invalid {
                            reason: "no such called route".into(),
                        },
                    )
                }
                Some(media) if !allowed.contains(&media) => {
                    let wanted: Vec<_> = allowed.iter().map(|t| t.as_str()).collect();
                    let reason = format!(
                        "the route is {}, expected {}",
                        media.as_str(),
                        wanted.join(" or ")
                    );
                    return fail(field, Rule::NotAllowed { reason });
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    fn check_click_to_call(&self) -> Checked {
        let ctc = &self.click_to_call;
        if !ctc.enabled {
            return Ok(());
        }
        if self.channel_type != ChannelType::Web {
            return fail(
                "clickToCall.enabled",
                Rule::NotAllowed {
                    reason: "click-to-dial works only in web channels".into(),
                },
            );
        }
        match ctc.called_party {
            CalledParty::Agent if ctc.called_route_id.is_none() => {
                fail("clickToCall.calledRouteId", Rule::Required)
            }
            CalledParty::Ivr => {
                crate::validation::digits("clickToCall.ivrAccessCode", &ctc.ivr_access_code, 24)
            }
            CalledParty::Agent => Ok(()),
        }
    }

    fn check_agent_timeout(&self) -> Checked {
        let at = &self.agent_timeout;
        in_range(
            "agentTimeout.afterSeconds",
            at.after_seconds.into(),
            10,
            3600,
        )?;
        if at.enabled && at.transfer_to == AgentTimeoutTarget::Queue && at.called_route_id.is_none()
        {
            return fail("agentTimeout.calledRouteId", Rule::Required);
        }
        Ok(())
    }

    fn check_message_push(&self) -> Checked {
        if !self.message_push.enabled {
            return Ok(());
        }
        if !matches!(self.channel_type, ChannelType::Web | ChannelType::Whatsapp) {
            return fail(
                "messagePush.enabled",
                Rule::NotAllowed {
                    reason: "message push is for web and WhatsApp channels".into(),
                },
            );
        }
        http_url("messagePush.baseUrl", &self.message_push.base_url)
    }

    fn check_robot_assistant(&self) -> Checked {
        let ra = &self.robot_assistant;
        max_chars("robotAssistant.accessCode", &ra.access_code, MAX_CODE_CHARS)?;
        if ra.enabled {
            required_text("robotAssistant.accessCode", &ra.access_code, MAX_CODE_CHARS)?;
        }
        Ok(())
    }
}

fn split_keywords(text: &str) -> Vec<&str> {
    text.split([';', '；'])
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .collect()
}

fn check_keywords(text: &str) -> Result<Vec<&str>, ValidationError> {
    let keywords = split_keywords(text);
    if keywords.len() > MAX_KEYWORDS {
        return Err(ValidationError::new(
            "transferKeywords",
            Rule::TooMany { max: MAX_KEYWORDS },
        ));
    }
    for keyword in &keywords {
        if keyword.chars().count() > MAX_KEYWORD_CHARS {
            let reason =
                format!("the keyword '{keyword}' is longer than {MAX_KEYWORD_CHARS} characters");
            return Err(ValidationError::new(
                "transferKeywords",
                Rule::Invalid { reason },
            ));
        }
    }
    Ok(keywords)
}

fn check_customer_timeout(ct: &CustomerTimeout) -> Checked {
    in_range("endAfterMinutes", ct.end_after_minutes.into(), 1, 1440)?;
    if let Some(prompt_after) = ct.prompt_after_minutes {
        in_range(
            "promptAfterMinutes",
            prompt_after.into(),
            1,
            i64::from(ct.end_after_minutes) - 1,
        )?;
    }
    max_chars("prompt", &ct.prompt, MAX_TEXT_CHARS)?;
    max_chars("conclusion", &ct.conclusion, MAX_TEXT_CHARS)
}

fn check_chatbot(bot: &Chatbot) -> Checked {
    max_chars("name", &bot.name, 32)?;
    max_chars("accessCode", &bot.access_code, MAX_CODE_CHARS)?;
    for (field, text) in [
        ("defaultReply", &bot.default_reply),
        ("timeoutReply", &bot.timeout_reply),
        ("transferPrompt", &bot.transfer_prompt),
    ] {
        max_chars(field, text, MAX_TEXT_CHARS)?;
    }
    if !bot.avatar_url.is_empty() {
        http_url("avatarUrl", &bot.avatar_url)?;
    }
    if bot.enabled {
        required_text("name", &bot.name, 32)?;
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Channel {
    /// The channel id (`channelConfigId`).
    pub channel_config_id: ChannelId,
    #[serde(flatten)]
    pub config: ChannelConfig,
    /// Names of the credentials that are set; their values are never returned.
    pub secrets_set: Vec<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}
