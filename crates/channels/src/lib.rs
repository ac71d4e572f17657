//! The social platforms a channel can connect: each module checks that a webhook request
//! really comes from its platform, turns what it carries into [`Inbound`] messages, sends
//! replies and fetches the media customers send. All of it behind [`Platforms`], whose
//! base URLs ([`Endpoints`]) point at the real platforms by default and at local fakes in
//! tests.
//!
//! Nothing here stores anything: the server persists what [`Platforms::accept`] answers
//! before it acknowledges the request, and keeps the outbox that calls
//! [`Platforms::send`].

mod facebook;
mod line;
mod meta;
mod signature;
mod telegram;
mod wechat;
mod wechat_crypt;
mod whatsapp;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use http::{HeaderMap, Method, StatusCode};
use serde::{Deserialize, Serialize};
use switchboard_domain::channel::{ChannelConfig, ChannelType};
use url::Url;

pub use telegram::WebhookRegistration;

/// A media file a platform answered.
pub const MAX_MEDIA_BYTES: usize = switchboard_domain::files::MAX_FILE_BYTES;
/// How long a platform may take to answer one call.
const CALL_TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Debug, thiserror::Error)]
pub enum ChannelError {
    /// The request is not from the platform: a missing or wrong signature or token.
    #[error("{0}")]
    Forbidden(String),
    /// The request is the platform's but cannot be read.
    #[error("{0}")]
    Malformed(String),
    #[error("this webhook does not answer {0} requests")]
    MethodNotAllowed(Method),
    /// The channel lacks a credential the request needs.
    #[error("the channel has no {0}; set it in the channel's credentials")]
    MissingCredential(&'static str),
    /// The platform uses a mode this server does not implement.
    #[error("{0}")]
    Unsupported(String),
    /// The platform refused a call.
    #[error("{0}")]
    Platform(String),
    #[error("could not reach the platform: {0}")]
    Transport(#[from] reqwest::Error),
}

impl ChannelError {
    /// The status to answer a webhook request that failed with this error.
    pub fn status(&self) -> StatusCode {
        match self {
            ChannelError::Forbidden(_) => StatusCode::FORBIDDEN,
            ChannelError::Malformed(_) => StatusCode::BAD_REQUEST,
            ChannelError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ChannelError::MissingCredential(_) => StatusCode::SERVICE_UNAVAILABLE,
            ChannelError::Unsupported(_) => StatusCode::NOT_IMPLEMENTED,
            ChannelError::Platform(_) | ChannelError::Transport(_) => StatusCode::BAD_GATEWAY,
        }
    }
}

/// Why a reply was not sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth trying again, no sooner than `after` when the platform said so.
    #[error("{reason}")]
    Retry {
        after: Option<Duration>,
        reason: String,
    },
    /// Trying again cannot help, e.g. the customer is outside the platform's reply window.
    #[error("{reason}")]
    Permanent { reason: String },
}

impl SendError {
    fn permanent(reason: impl Into<String>) -> Self {
        SendError::Permanent {
            reason: reason.into(),
        }
    }

    fn retry(reason: impl Into<String>) -> Self {
        SendError::Retry {
            after: None,
            reason: reason.into(),
        }
    }

    /// What an HTTP answer that was not a success means for a retry.
    fn from_status(status: StatusCode, after: Option<Duration>, reason: String) -> Self {
        let passing = status == StatusCode::TOO_MANY_REQUESTS
            || status == StatusCode::REQUEST_TIMEOUT
            || status.is_server_error();
        if passing {
            SendError::Retry { after, reason }
        } else {
            SendError::Permanent { reason }
        }
    }
}

impl From<reqwest::Error> for SendError {
    /// The platform could not be reached or did not answer in time: worth another try.
    fn from(error: reqwest::Error) -> Self {
        SendError::retry(format!("could not reach the platform: {error}"))
    }
}

/// The platforms' base URLs.
#[derive(Debug, Clone)]
pub struct Endpoints {
    /// `https://api.telegram.org/`
    pub telegram: Url,
    /// The Graph API of Facebook and WhatsApp, with its version: `https://graph.facebook.com/v21.0/`
    pub graph: Url,
    /// `https://api.line.me/`
    pub line: Url,
    /// Where LINE serves message content: `https://api-data.line.me/`
    pub line_data: Url,
    /// `https://api.weixin.qq.com/`
    pub wechat: Url,
}

impl Default for Endpoints {
    fn default() -> Self {
        let url = |s: &str| Url::parse(s).unwrap_or_else(|_| unreachable!("a constant URL"));
        Self {
            telegram: url("https://api.telegram.org/"),
            graph: url("https://graph.facebook.com/v21.0/"),
            line: url("https://api.line.me/"),
            line_data: url("https://api-data.line.me/"),
            wechat: url("https://api.weixin.qq.com/"),
        }
    }
}

impl Endpoints {
    /// Every platform at one base URL (a local fake), each under its own path:
    /// `telegram/`, `graph/`, `line/`, `line-data/`, `wechat/`.
    pub fn all_at(base: &Url) -> Result<Self, url::ParseError> {
        Ok(Self {
            telegram: base.join("telegram/")?,
            graph: base.join("graph/")?,
            line: base.join("line/")?,
            line_data: base.join("line-data/")?,
            wechat: base.join("wechat/")?,
        })
    }
}

/// A channel's credentials by their stored names (`botToken`, `appSecret`,
/// `pageToken:<page id>`, …). `Debug` never shows the values.
#[derive(Clone, Default)]
pub struct Credentials(BTreeMap<String, String>);

impl Credentials {
    pub fn new(values: BTreeMap<String, String>) -> Self {
        Self(values)
    }

    fn get(&self, name: &'static str) -> Result<&str, ChannelError> {
        self.0
            .get(name)
            .map(String::as_str)
            .ok_or(ChannelError::MissingCredential(name))
    }

    pub fn named(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

/// One channel as the platforms see it: its settings and its credentials.
#[derive(Debug, Clone, Copy)]
pub struct Channel<'a> {
    pub config: &'a ChannelConfig,
    pub credentials: &'a Credentials,
}

/// A webhook request as it arrived; signatures are over the raw body.
#[derive(Debug, Clone, Copy)]
pub struct WebhookRequest<'a> {
    pub method: &'a Method,
    /// The query string, without `?`.
    pub query: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

impl WebhookRequest<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn query_pairs(&self) -> HashMap<String, String> {
        url::form_urlencoded::parse(self.query.as_bytes())
            .into_owned()
            .collect()
    }
}

/// What to answer the platform once what it delivered is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: StatusCode,
    pub content_type: &'static str,
    pub body: String,
}

impl Answer {
    fn ok() -> Self {
        Self::text("")
    }

    fn text(body: impl Into<String>) -> Self {
        Self {
            status: StatusCode::OK,
            content_type: "text/plain; charset=utf-8",
            body: body.into(),
        }
    }
}

/// A verified webhook request: what it delivered and what to answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Accepted {
    pub answer: Answer,
    pub inbound: Vec<Inbound>,
    /// What the platform reports of replies sent before.
    pub reports: Vec<DeliveryReport>,
}

impl Accepted {
    fn answer_only(answer: Answer) -> Self {
        Self {
            answer,
            inbound: Vec::new(),
            reports: Vec::new(),
        }
    }

    fn inbound(inbound: Vec<Inbound>, answer: Answer) -> Self {
        Self {
            answer,
            inbound,
            reports: Vec::new(),
        }
    }
}

/// A customer on a platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlatformUser {
    /// Where replies go, unique within the channel: a Telegram chat, a page and a
    /// page-scoped id, a WhatsApp number, a LINE user id, a WeChat OpenID.
    pub external_id: String,
    pub name: String,
}

/// One message a customer sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Inbound {
    /// The platform's id for it, unique within the channel: a platform that delivers it
    /// again repeats it.
    pub platform_id: String,
    pub customer: PlatformUser,
    pub content: InboundContent,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum MediaKind {
    Image,
    Audio,
    Video,
    File,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum InboundContent {
    Text {
        text: String,
    },
    /// A file still on the platform: `source` is what [`Platforms::fetch_media`] takes.
    #[serde(rename_all = "camelCase")]
    Media {
        kind: MediaKind,
        source: String,
        name: String,
    },
    Location {
        latitude: f64,
        longitude: f64,
        name: String,
        address: String,
    },
}

/// What a platform reports about a reply sent earlier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryReport {
    pub platform_message_id: String,
    pub status: ReportedStatus,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportedStatus {
    Delivered,
    Read,
    Failed { reason: String },
}

/// A reply to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outbound {
    Text(String),
    File {
        kind: MediaKind,
        name: String,
        mime_type: String,
        content: Vec<u8>,
        /// A URL the platform can fetch the file from, for platforms that take files only
        /// that way (LINE).
        link: Option<String>,
    },
}

/// A reply the platform took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// The platform's id for it, when it gives one.
    pub platform_message_id: Option<String>,
}

/// A file fetched from a platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Media {
    pub content: Vec<u8>,
    /// The file name the platform gave, if any.
    pub name: Option<String>,
}

/// The platforms, with the HTTP client and the short-lived tokens they hand out.
pub struct Platforms {
    http: reqwest::Client,
    endpoints: Endpoints,
    /// WeChat access tokens by AppID, with when they expire.
    wechat_tokens: Mutex<HashMap<String, (String, Instant)>>,
    /// LINE reply tokens by LINE channel and user, with when they arrived.
    line_reply_tokens: Mutex<HashMap<(String, String), (String, Instant)>>,
}

impl Platforms {
    pub fn new(endpoints: Endpoints) -> Result<Self, ChannelError> {
        let http = reqwest::Client::builder()
            .timeout(CALL_TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            .build()?;
        Ok(Self {
            http,
            endpoints,
            wechat_tokens: Mutex::default(),
            line_reply_tokens: Mutex::default(),
        })
    }

    /// Checks that a webhook request comes from the channel's platform and reads what it
    /// carries. A handshake or URL check answers with nothing delivered.
    pub fn accept(
        &self,
        channel: Channel<'_>,
        request: &WebhookRequest<'_>,
    ) -> Result<Accepted, ChannelError> {
        match channel.config.channel_type {
            ChannelType::Telegram => telegram::accept(channel, request),
            ChannelType::Facebook => facebook::accept(channel, request),
            ChannelType::Whatsapp => whatsapp::accept(channel, request),
            ChannelType::Line => line::accept(self, channel, request),
            ChannelType::Wechat => wechat::accept(channel, request),
            ChannelType::Web | ChannelType::Email => Err(ChannelError::Unsupported(format!(
                "a {} channel takes no webhooks",
                channel.config.channel_type.as_str()
            ))),
        }
    }

    /// The longest text one message on the channel's platform may carry; the caller
    /// sends a longer one in parts ([`split_text`]), so that a failure part-way can
    /// resume after the parts sent.
    pub fn text_limit(&self, channel_type: ChannelType) -> usize {
        match channel_type {
            ChannelType::Telegram => telegram::MAX_TEXT_CHARS,
            ChannelType::Facebook => facebook::MAX_TEXT_CHARS,
            ChannelType::Whatsapp => whatsapp::MAX_TEXT_CHARS,
            ChannelType::Wechat => wechat::MAX_TEXT_CHARS,
            ChannelType::Line | ChannelType::Web | ChannelType::Email => {
                switchboard_domain::conversation::MAX_TEXT_CHARS
            }
        }
    }

    /// Sends `message` to the customer known on the channel as `to`. `delivery` names
    /// this delivery uniquely and stays the same across retries, for platforms that
    /// accept an idempotency key.
    pub async fn send(
        &self,
        channel: Channel<'_>,
        to: &str,
        message: &Outbound,
        delivery: &str,
    ) -> Result<Sent, SendError> {
        match channel.config.channel_type {
            ChannelType::Telegram => telegram::send(self, channel, to, message).await,
            ChannelType::Facebook => facebook::send(self, channel, to, message).await,
            ChannelType::Whatsapp => whatsapp::send(self, channel, to, message).await,
            ChannelType::Line => line::send(self, channel, to, message, delivery).await,
            ChannelType::Wechat => wechat::send(self, channel, to, message).await,
            ChannelType::Web | ChannelType::Email => Err(SendError::permanent(format!(
                "a {} channel does not send through a platform",
                channel.config.channel_type.as_str()
            ))),
        }
    }

    /// Fetches a file a customer sent, by the `source` of its [`InboundContent::Media`].
    pub async fn fetch_media(
        &self,
        channel: Channel<'_>,
        source: &str,
    ) -> Result<Media, ChannelError> {
        match channel.config.channel_type {
            ChannelType::Telegram => telegram::fetch_media(self, channel, source).await,
            ChannelType::Facebook => facebook::fetch_media(self, source).await,
            ChannelType::Whatsapp => whatsapp::fetch_media(self, channel, source).await,
            ChannelType::Line => line::fetch_media(self, channel, source).await,
            ChannelType::Wechat => wechat::fetch_media(self, channel, source).await,
            ChannelType::Web | ChannelType::Email => Err(ChannelError::Unsupported(format!(
                "a {} channel has no platform media",
                channel.config.channel_type.as_str()
            ))),
        }
    }

    /// The name a platform shows for a customer whose messages carry none (Messenger,
    /// LINE), from the platform's profile API; `None` when it will not say.
    pub async fn customer_name(&self, channel: Channel<'_>, external_id: &str) -> Option<String> {
        let named = match channel.config.channel_type {
            ChannelType::Facebook => facebook::customer_name(self, channel, external_id).await,
            ChannelType::Line => line::customer_name(self, channel, external_id).await,
            _ => return None,
        };
        match named {
            Ok(name) => Some(name).filter(|n| !n.trim().is_empty()),
            Err(e) => {
                tracing::debug!(error = %e, "the platform gave no customer name");
                None
            }
        }
    }

    /// Registers the channel's webhook with Telegram (`setWebhook`).
    pub async fn register_telegram_webhook(
        &self,
        channel: Channel<'_>,
        registration: &WebhookRegistration,
    ) -> Result<(), ChannelError> {
        telegram::set_webhook(self, channel, registration).await
    }

    fn url(&self, base: &Url, path: &str) -> Result<Url, ChannelError> {
        // `./` keeps a first segment with a colon (`bot123:ABC`) from reading as a scheme.
        base.join(&format!("./{path}"))
            .map_err(|e| ChannelError::Platform(format!("bad platform URL: {e}")))
    }
}

/// The JSON of a platform's successful answer; any other status is `platform`'s refusal
/// of what was `asked` for.
async fn json_answer<T: serde::de::DeserializeOwned>(
    response: reqwest::Response,
    platform: &str,
    asked: &str,
) -> Result<T, ChannelError> {
    let status = response.status();
    if !status.is_success() {
        return Err(ChannelError::Platform(format!(
            "{platform} answered {status} for {asked}"
        )));
    }
    Ok(response.json().await?)
}

/// Reads a media body, refusing more than [`MAX_MEDIA_BYTES`].
async fn read_media(response: reqwest::Response) -> Result<Vec<u8>, ChannelError> {
    let status = response.status();
    if !status.is_success() {
        return Err(ChannelError::Platform(format!(
            "the platform answered {status} for a media file"
        )));
    }
    let too_large =
        || ChannelError::Platform(format!("the file is larger than {MAX_MEDIA_BYTES} bytes"));
    if response
        .content_length()
        .is_some_and(|n| n > MAX_MEDIA_BYTES as u64)
    {
        return Err(too_large());
    }
    let mut response = response;
    let mut content = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if content.len() + chunk.len() > MAX_MEDIA_BYTES {
            return Err(too_large());
        }
        content.extend_from_slice(&chunk);
    }
    Ok(content)
}

/// A file as a multipart part, with its name and type.
fn file_part(
    name: &str,
    mime_type: &str,
    content: &[u8],
) -> Result<reqwest::multipart::Part, SendError> {
    reqwest::multipart::Part::bytes(content.to_vec())
        .file_name(name.to_owned())
        .mime_str(mime_type)
        .map_err(|e| SendError::permanent(format!("bad file type: {e}")))
}

/// The `Retry-After` header in seconds, if present.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
        .map(Duration::from_secs)
}

/// Splits a text into pieces of at most `limit` characters, at line or word breaks when
/// there is one in the second half of a piece.
pub fn split_text(text: &str, limit: usize) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut rest = text;
    while rest.chars().count() > limit {
        let cut = rest
            .char_indices()
            .nth(limit)
            .map_or(rest.len(), |(i, _)| i);
        let head = &rest[..cut];
        let at = head
            .rfind('\n')
            .or_else(|| head.rfind(' '))
            .filter(|&i| i >= cut / 2 && i > 0)
            .unwrap_or(cut);
        pieces.push(rest[..at].to_owned());
        rest = rest[at..].trim_start_matches(['\n', ' ']);
    }
    if !rest.is_empty() || pieces.is_empty() {
        pieces.push(rest.to_owned());
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_texts_are_split_at_breaks_within_the_limit() {
        assert_eq!(split_text("short", 10), vec!["short"]);
        let pieces = split_text("one two three four five", 10);
        assert!(pieces.iter().all(|p| p.chars().count() <= 10));
        assert_eq!(pieces.join(" "), "one two three four five");
        let long = "字".repeat(25);
        let pieces = split_text(&long, 10);
        assert_eq!(pieces.len(), 3);
        assert_eq!(pieces.concat(), long);
    }

    #[test]
    fn rate_limits_and_outages_are_retried_other_refusals_are_not() {
        let after = Some(Duration::from_secs(3));
        assert_eq!(
            SendError::from_status(StatusCode::TOO_MANY_REQUESTS, after, "slow".into()),
            SendError::Retry {
                after,
                reason: "slow".into()
            }
        );
        assert!(matches!(
            SendError::from_status(StatusCode::BAD_GATEWAY, None, String::new()),
            SendError::Retry { .. }
        ));
        assert!(matches!(
            SendError::from_status(StatusCode::FORBIDDEN, None, String::new()),
            SendError::Permanent { .. }
        ));
    }
}
