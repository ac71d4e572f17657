//! Each channel type's own, non-secret settings. Credentials are in [`super::secrets`].

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::{ChannelConfig, ChannelType};
use crate::validation::{
    digits, fail, in_range, max_chars, max_entries, required_text, Checked, Rule,
};

pub const MAX_ORIGINS: usize = 50;
pub const MAX_PAGES: usize = 50;

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WebSettings {
    /// Origins (`https://shop.example.com`) whose pages may call the chat with credentials.
    #[serde(default)]
    pub allowed_origins: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TelegramSettings {
    /// The bot's user name, for display.
    #[serde(default)]
    pub bot_username: String,
}

/// How Meta signs webhook deliveries: `X-Hub-Signature-256` or the legacy `X-Hub-Signature`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum SignatureAlgorithm {
    #[serde(rename = "SHA-1", alias = "SHA1")]
    Sha1,
    #[default]
    #[serde(rename = "SHA-256", alias = "SHA256")]
    Sha256,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FacebookPage {
    pub page_id: String,
    #[serde(default)]
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FacebookSettings {
    /// The Meta app; one app belongs to one channel of the installation.
    pub app_id: String,
    #[serde(default)]
    pub signature_algorithm: SignatureAlgorithm,
    /// The pages served by this channel; each page's token is a secret (`pageTokens`).
    #[serde(default)]
    pub pages: Vec<FacebookPage>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WhatsappSettings {
    pub app_id: String,
    pub phone_number_id: String,
    #[serde(default)]
    pub business_account_id: String,
    #[serde(default)]
    pub signature_algorithm: SignatureAlgorithm,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LineSettings {
    /// The LINE channel ID of the Messaging API channel.
    pub line_channel_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WechatSettings {
    /// The Official Account's AppID.
    pub app_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EmailSettings {
    pub address: String,
    pub imap_host: String,
    #[serde(default = "imap_port")]
    pub imap_port: u16,
    pub smtp_host: String,
    #[serde(default = "smtp_port")]
    pub smtp_port: u16,
    pub username: String,
    #[serde(default = "yes")]
    pub tls: bool,
}

fn imap_port() -> u16 {
    993
}

fn smtp_port() -> u16 {
    465
}

fn yes() -> bool {
    true
}

/// A value that identifies a channel to its platform, so only one channel of the whole
/// installation may hold it: inbound webhooks are matched to channels by it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GlobalKey {
    pub kind: &'static str,
    pub value: String,
    pub field: String,
}

impl ChannelConfig {
    pub(super) fn check_type_settings(&self) -> Checked {
        let own = self.channel_type.settings_key();
        for (key, present) in self.present_settings() {
            if present && key != own {
                let reason = format!(
                    "a {} channel takes its settings under '{own}'",
                    self.channel_type.as_str()
                );
                return fail(key, Rule::NotAllowed { reason });
            }
        }
        let within = |e: crate::ValidationError| e.within(own);
        match self.channel_type {
            ChannelType::Web => check_web(self.web.as_ref()).map_err(within),
            ChannelType::Telegram => {
                let bot = self
                    .telegram
                    .as_ref()
                    .map(|t| t.bot_username.as_str())
                    .unwrap_or("");
                max_chars("botUsername", bot, 64).map_err(within)
            }
            ChannelType::Facebook => required(own, self.facebook.as_ref())?
                .check()
                .map_err(within),
            ChannelType::Whatsapp => required(own, self.whatsapp.as_ref())?
                .check()
                .map_err(within),
            ChannelType::Line => digits(
                "lineChannelId",
                &required(own, self.line.as_ref())?.line_channel_id,
                32,
            )
            .map_err(within),
            ChannelType::Wechat => {
                check_wechat(required(own, self.wechat.as_ref())?).map_err(within)
            }
            ChannelType::Email => required(own, self.email.as_ref())?.check().map_err(within),
        }
    }

    fn present_settings(&self) -> [(&'static str, bool); 7] {
        [
            ("web", self.web.is_some()),
            ("telegram", self.telegram.is_some()),
            ("facebook", self.facebook.is_some()),
            ("whatsapp", self.whatsapp.is_some()),
            ("line", self.line.is_some()),
            ("wechat", self.wechat.is_some()),
            ("email", self.email.is_some()),
        ]
    }

    /// Values that only one channel of the installation may hold.
    pub fn global_keys(&self) -> Vec<GlobalKey> {
        let key = |kind, value: &str, field: &str| GlobalKey {
            kind,
            value: value.to_owned(),
            field: field.to_owned(),
        };
        let mut keys = Vec::new();
        if let Some(fb) = self
            .facebook
            .as_ref()
            .filter(|_| self.channel_type == ChannelType::Facebook)
        {
            keys.push(key("facebook_app", &fb.app_id, "facebook.appId"));
            for (i, page) in fb.pages.iter().enumerate() {
                keys.push(key(
                    "facebook_page",
                    &page.page_id,
                    &format!("facebook.pages[{i}].pageId"),
                ));
            }
        }
        if let Some(wa) = self
            .whatsapp
            .as_ref()
            .filter(|_| self.channel_type == ChannelType::Whatsapp)
        {
            keys.push(key(
                "whatsapp_number",
                &wa.phone_number_id,
                "whatsapp.phoneNumberId",
            ));
        }
        if let Some(line) = self
            .line
            .as_ref()
            .filter(|_| self.channel_type == ChannelType::Line)
        {
            keys.push(key(
                "line_channel",
                &line.line_channel_id,
                "line.lineChannelId",
            ));
        }
        if let Some(wechat) = self
            .wechat
            .as_ref()
            .filter(|_| self.channel_type == ChannelType::Wechat)
        {
            keys.push(key("wechat_app", &wechat.app_id, "wechat.appId"));
        }
        keys
    }

    /// Facebook page ids of the channel, for matching their tokens.
    pub fn facebook_page_ids(&self) -> Vec<&str> {
        self.facebook
            .iter()
            .flat_map(|fb| fb.pages.iter().map(|p| p.page_id.as_str()))
            .collect()
    }
}

fn required<'a, T>(field: &str, settings: Option<&'a T>) -> Result<&'a T, crate::ValidationError> {
    settings.ok_or_else(|| crate::ValidationError::new(field, Rule::Required))
}

fn check_web(web: Option<&WebSettings>) -> Checked {
    let Some(web) = web else { return Ok(()) };
    max_entries("allowedOrigins", &web.allowed_origins, MAX_ORIGINS)?;
    for (i, origin) in web.allowed_origins.iter().enumerate() {
        if !is_origin(origin) {
            let expected = "an origin: http(s)://host[:port] with no path";
            return fail(&format!("allowedOrigins[{i}]"), Rule::Pattern { expected });
        }
    }
    Ok(())
}

fn is_origin(text: &str) -> bool {
    let Some(rest) = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"))
    else {
        return false;
    };
    let (host, port) = rest
        .rsplit_once(':')
        .map_or((rest, None), |(h, p)| (h, Some(p)));
    let host_ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-[]:".contains(c));
    let port_ok = port.is_none_or(|p| p.parse::<u16>().is_ok_and(|n| n > 0));
    host_ok && port_ok && text.len() <= 253
}

impl FacebookSettings {
    fn check(&self) -> Checked {
        digits("appId", &self.app_id, 32)?;
        max_entries("pages", &self.pages, MAX_PAGES)?;
        let mut seen = HashSet::new();
        for (i, page) in self.pages.iter().enumerate() {
            digits(&format!("pages[{i}].pageId"), &page.page_id, 32)?;
            max_chars(&format!("pages[{i}].name"), &page.name, 100)?;
            if !seen.insert(&page.page_id) {
                return fail(&format!("pages[{i}].pageId"), Rule::Duplicate);
            }
        }
        Ok(())
    }
}

impl WhatsappSettings {
    fn check(&self) -> Checked {
        digits("appId", &self.app_id, 32)?;
        digits("phoneNumberId", &self.phone_number_id, 32)?;
        if !self.business_account_id.is_empty() {
            digits("businessAccountId", &self.business_account_id, 32)?;
        }
        Ok(())
    }
}

fn check_wechat(wechat: &WechatSettings) -> Checked {
    required_text("appId", &wechat.app_id, 32)?;
    if !wechat.app_id.chars().all(|c| c.is_ascii_alphanumeric()) {
        return fail(
            "appId",
            Rule::Pattern {
                expected: "letters and digits",
            },
        );
    }
    Ok(())
}

impl EmailSettings {
    fn check(&self) -> Checked {
        required_text("address", &self.address, 254)?;
        let well_formed = self.address.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !self.address.contains(char::is_whitespace)
        });
        if !well_formed {
            return fail(
                "address",
                Rule::Pattern {
                    expected: "an e-mail address",
                },
            );
        }
        required_text("imapHost", &self.imap_host, 253)?;
        required_text("smtpHost", &self.smtp_host, 253)?;
        in_range("imapPort", self.imap_port.into(), 1, 65535)?;
        in_range("smtpPort", self.smtp_port.into(), 1, 65535)?;
        required_text("username", &self.username, 254)
    }
}
