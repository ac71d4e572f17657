//! Channel credentials. They are write-only: a request may set or clear them, a read only
//! learns which ones are set. The store keeps them encrypted, apart from the configuration.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize, Serializer};

use super::{ChannelConfig, ChannelType};
use crate::validation::{fail, Checked, Rule};
use crate::ValidationError;

pub const MIN_AUTH_KEY_CHARS: usize = 16;
pub const MAX_AUTH_KEY_CHARS: usize = 43;
const PAGE_TOKEN_PREFIX: &str = "pageToken:";

/// Credentials in a create or update request. `Debug` never shows the values.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecretsInput {
    /// Third-party authentication key for authorization mode: 16–43 letters or digits.
    pub secret_key: Option<String>,
    /// Key that signs message pushes to the enterprise: 16–43 letters or digits.
    pub push_key: Option<String>,
    /// Telegram bot token from @BotFather.
    pub bot_token: Option<String>,
    /// Telegram `secret_token`: 1–256 of `A-Z a-z 0-9 _ -`.
    pub webhook_secret: Option<String>,
    /// Facebook / WhatsApp app secret, WeChat AppSecret.
    pub app_secret: Option<String>,
    /// Facebook / WhatsApp webhook verify token.
    pub verify_token: Option<String>,
    /// WhatsApp Cloud API access token.
    pub access_token: Option<String>,
    /// LINE channel secret.
    pub channel_secret: Option<String>,
    /// LINE channel access token.
    pub channel_access_token: Option<String>,
    /// WeChat server token: 3–32 letters or digits.
    pub token: Option<String>,
    /// WeChat EncodingAESKey: 43 letters or digits.
    pub encoding_aes_key: Option<String>,
    /// E-mail account password.
    pub password: Option<String>,
    /// Facebook page tokens by page id.
    #[serde(default)]
    pub page_tokens: BTreeMap<String, String>,
}

impl SecretsInput {
    /// Credentials are write-only: a configuration never writes them out.
    pub fn never_written(&self) -> bool {
        true
    }
}

/// Only the names of the credentials a request carried, should this ever be written
/// (the configuration skips it always, see [`SecretsInput::never_written`]).
impl Serialize for SecretsInput {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.entries().into_iter().map(|(name, _)| name))
    }
}

impl fmt::Debug for SecretsInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<String> = self.entries().into_iter().map(|(name, _)| name).collect();
        f.debug_struct("SecretsInput")
            .field("names", &names)
            .finish_non_exhaustive()
    }
}

/// What to change in a channel's stored credentials.
#[derive(Default, PartialEq, Eq)]
pub struct SecretPlan {
    pub set: Vec<(String, String)>,
    pub remove: Vec<String>,
}

impl fmt::Debug for SecretPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set: Vec<&str> = self.set.iter().map(|(name, _)| name.as_str()).collect();
        f.debug_struct("SecretPlan")
            .field("set", &set)
            .field("remove", &self.remove)
            .finish()
    }
}

impl SecretsInput {
    /// Every credential named in the request, by its stored name.
    fn entries(&self) -> Vec<(String, &str)> {
        let named = [
            ("secretKey", &self.secret_key),
            ("pushKey", &self.push_key),
            ("botToken", &self.bot_token),
            ("webhookSecret", &self.webhook_secret),
            ("appSecret", &self.app_secret),
            ("verifyToken", &self.verify_token),
            ("accessToken", &self.access_token),
            ("channelSecret", &self.channel_secret),
            ("channelAccessToken", &self.channel_access_token),
            ("token", &self.token),
            ("encodingAesKey", &self.encoding_aes_key),
            ("password", &self.password),
        ];
        let mut entries: Vec<(String, &str)> = named
            .into_iter()
            .filter_map(|(name, value)| value.as_deref().map(|v| (name.to_owned(), v)))
            .collect();
        for (page, token) in &self.page_tokens {
            entries.push((format!("{PAGE_TOKEN_PREFIX}{page}"), token.as_str()));
        }
        entries
    }

    /// Works out the change to the stored credentials, given the names already stored,
    /// and checks that the channel ends up with every credential its type needs.
    pub fn plan(
        &self,
        config: &ChannelConfig,
        existing: &[String],
    ) -> Result<SecretPlan, ValidationError> {
        let pages: BTreeSet<&str> = config.facebook_page_ids().into_iter().collect();
        let mut names: BTreeSet<String> = existing.iter().cloned().collect();
        let mut plan = SecretPlan::default();
        for (name, value) in self.entries() {
            let field = field_of(&name);
            if !allowed(config.channel_type, &name, &pages) {
                let reason = format!(
                    "not a credential of a {} channel",
                    config.channel_type.as_str()
                );
                return Err(ValidationError::new(field, Rule::NotAllowed { reason }));
            }
            if value.is_empty() {
                names.remove(&name);
                plan.remove.push(name);
            } else {
                check_format(&field, &name, value)?;
                names.insert(name.clone());
                plan.set.push((name, value.to_owned()));
            }
        }
        let stale: Vec<String> = names
            .iter()
            .filter(|n| !allowed(config.channel_type, n, &pages))
            .cloned()
            .collect();
        for name in stale {
            names.remove(&name);
            plan.remove.push(name);
        }
        for name in required(config) {
            if !names.contains(&name) {
                return Err(ValidationError::new(field_of(&name), Rule::Required));
            }
        }
        Ok(plan)
    }
}

fn field_of(name: &str) -> String {
    match name.strip_prefix(PAGE_TOKEN_PREFIX) {
        Some(page) => format!("pageTokens.{page}"),
        None => name.to_owned(),
    }
}

fn allowed(channel_type: ChannelType, name: &str, pages: &BTreeSet<&str>) -> bool {
    if let Some(page) = name.strip_prefix(PAGE_TOKEN_PREFIX) {
        return channel_type == ChannelType::Facebook && pages.contains(page);
    }
    let own: &[&str] = match channel_type {
        ChannelType::Web => &["pushKey"],
        ChannelType::Telegram => &["botToken", "webhookSecret"],
        ChannelType::Facebook => &["appSecret", "verifyToken"],
        ChannelType::Whatsapp => &["appSecret", "verifyToken", "accessToken", "pushKey"],
        ChannelType::Line => &["channelSecret", "channelAccessToken"],
        ChannelType::Wechat => &["appSecret", "token", "encodingAesKey"],
        ChannelType::Email => &["password"],
    };
    name == "secretKey" || own.contains(&name)
}

fn required(config: &ChannelConfig) -> Vec<String> {
    let own: &[&str] = match config.channel_type {
        ChannelType::Web => &[],
        ChannelType::Telegram => &["botToken"],
        ChannelType::Facebook => &["appSecret", "verifyToken"],
        ChannelType::Whatsapp => &["appSecret", "verifyToken", "accessToken"],
        ChannelType::Line => &["channelSecret", "channelAccessToken"],
        ChannelType::Wechat => &["appSecret", "token"],
        ChannelType::Email => &["password"],
    };
    let mut names: Vec<String> = own.iter().map(|n| (*n).to_owned()).collect();
    names.extend(
        config
            .facebook_page_ids()
            .into_iter()
            .map(|page| format!("{PAGE_TOKEN_PREFIX}{page}")),
    );
    if config.message_push.enabled {
        names.push("pushKey".into());
    }
    names
}

fn check_format(field: &str, name: &str, value: &str) -> Checked {
    let alnum = |c: char| c.is_ascii_alphanumeric();
    let url_safe = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    let ok = match name {
        "secretKey" | "pushKey" => {
            (MIN_AUTH_KEY_CHARS..=MAX_AUTH_KEY_CHARS).contains(&value.len())
                && value.chars().all(alnum)
        }
        "botToken" => {
            value.len() <= 128
                && value.split_once(':').is_some_and(|(bot, key)| {
                    !bot.is_empty()
                        && bot.chars().all(|c| c.is_ascii_digit())
                        && key.len() >= 20
                        && key.chars().all(url_safe)
                })
        }
        "webhookSecret" => value.len() <= 256 && value.chars().all(url_safe),
        "token" => (3..=32).contains(&value.len()) && value.chars().all(alnum),
        "encodingAesKey" => value.len() == 43 && value.chars().all(alnum),
        _ => value.chars().count() <= 1024 && !value.chars().any(char::is_control),
    };
    if ok {
        return Ok(());
    }
    let expected = match name {
        "secretKey" | "pushKey" => "16 to 43 letters or digits",
        "botToken" => "a Telegram bot token: <bot id>:<key>",
        "webhookSecret" => "1 to 256 letters, digits, '_' or '-'",
        "token" => "3 to 32 letters or digits",
        "encodingAesKey" => "exactly 43 letters or digits",
        _ => "at most 1024 characters with no control characters",
    };
    fail(field, Rule::Pattern { expected })
}
