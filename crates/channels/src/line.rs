//! LINE Messaging API (developers.line.biz/en/reference/messaging-api). Every webhook is
//! signed: `x-line-signature` is the Base64 HMAC-SHA256 of the raw body with the channel
//! secret; a request with no events is the console's URL check. A customer is a LINE user
//! id. A reply uses the free reply token of the customer's latest message while it is
//! fresh and unused, and the push API otherwise, with a retry key so that a push retried
//! after a lost answer is not delivered twice.

use std::time::{Duration, Instant};

use base64::Engine;
use http::{Method, StatusCode};
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::signature::{hmac_sha256, same};
use crate::{
    json_answer, read_media, Accepted, Answer, Channel, ChannelError, Inbound, InboundContent,
    Media, MediaKind, Outbound, PlatformUser, Platforms, SendError, Sent, WebhookRequest,
};

const SIGNATURE_HEADER: &str = "x-line-signature";
/// LINE takes a reply token for about a minute after the event; leave a margin.
const REPLY_TOKEN_LIFETIME: Duration = Duration::from_secs(50);

fn line_channel(channel: Channel<'_>) -> Result<&str, ChannelError> {
    channel
        .config
        .line
        .as_ref()
        .map(|s| s.line_channel_id.as_str())
        .ok_or(ChannelError::MissingCredential("line settings"))
}

pub(crate) fn accept(
    platforms: &Platforms,
    channel: Channel<'_>,
    request: &WebhookRequest<'_>,
) -> Result<Accepted, ChannelError> {
    if request.method != Method::POST {
        return Err(ChannelError::MethodNotAllowed(request.method.clone()));
    }
    let secret = channel.credentials.get("channelSecret")?;
    let given = request
        .header(SIGNATURE_HEADER)
        .and_then(|s| base64::engine::general_purpose::STANDARD.decode(s).ok())
        .ok_or_else(|| {
            ChannelError::Forbidden(format!("the request has no Base64 {SIGNATURE_HEADER}"))
        })?;
    if !same(&given, &hmac_sha256(secret.as_bytes(), request.body)) {
        return Err(ChannelError::Forbidden(format!(
            "{SIGNATURE_HEADER} does not match the body signed with the channel secret"
        )));
    }
    let webhook: Webhook = serde_json::from_slice(request.body)
        .map_err(|e| ChannelError::Malformed(format!("not a LINE webhook: {e}")))?;
    let line_channel = line_channel(channel)?;
    let mut inbound = Vec::new();
    for event in &webhook.events {
        let Some(found) = inbound_of(event) else {
            continue;
        };
        if let Some(token) = &event.reply_token {
            platforms.remember_line_reply_token(line_channel, &found.customer.external_id, token);
        }
        inbound.push(found);
    }
    Ok(Accepted::inbound(inbound, Answer::ok()))
}

#[derive(Debug, Deserialize)]
struct Webhook {
    #[serde(default)]
    events: Vec<Event>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Event {
    #[serde(rename = "type")]
    kind: String,
    mode: Option<String>,
    webhook_event_id: Option<String>,
    source: Option<Source>,
    reply_token: Option<String>,
    message: Option<Message>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Source {
    #[serde(rename = "type")]
    kind: String,
    user_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Message {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    text: Option<String>,
    file_name: Option<String>,
    title: Option<String>,
    address: Option<String>,
    latitude: Option<f64>,
    longitude: Option<f64>,
}

/// A message a user sent the account one to one; other events (follows, postbacks, group
/// chats, events for another module in standby) carry none.
fn inbound_of(event: &Event) -> Option<Inbound> {
    if event.kind != "message" || event.mode.as_deref().is_some_and(|m| m != "active") {
        return None;
    }
    let source = event.source.as_ref().filter(|s| s.kind == "user")?;
    let message = event.message.as_ref()?;
    let media = |kind| InboundContent::Media {
        kind,
        source: message.id.clone(),
        name: message.file_name.clone().unwrap_or_default(),
    };
    let content = match message.kind.as_str() {
        "text" => InboundContent::Text {
            text: message.text.clone().unwrap_or_default(),
        },
        "image" => media(MediaKind::Image),
        "audio" => media(MediaKind::Audio),
        "video" => media(MediaKind::Video),
        "file" => media(MediaKind::File),
        "location" => InboundContent::Location {
            latitude: message.latitude?,
            longitude: message.longitude?,
            name: message.title.clone().unwrap_or_default(),
            address: message.address.clone().unwrap_or_default(),
        },
        other => InboundContent::Text {
            text: format!("[{other}]"),
        },
    };
    Some(Inbound {
        platform_id: event
            .webhook_event_id
            .clone()
            .unwrap_or_else(|| message.id.clone()),
        customer: PlatformUser {
            external_id: source.user_id.clone()?,
            name: String::new(),
        },
        content,
    })
}

impl Platforms {
    fn remember_line_reply_token(&self, line_channel: &str, user: &str, token: &str) {
        let mut tokens = self
            .line_reply_tokens
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        tokens.retain(|_, (_, at)| at.elapsed() < REPLY_TOKEN_LIFETIME);
        tokens.insert(
            (line_channel.to_owned(), user.to_owned()),
            (token.to_owned(), Instant::now()),
        );
    }

    /// The user's fresh reply token, which can be used only once.
    fn take_line_reply_token(&self, line_channel: &str, user: &str) -> Option<String> {
        let mut tokens = self
            .line_reply_tokens
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        tokens
            .remove(&(line_channel.to_owned(), user.to_owned()))
            .filter(|(_, at)| at.elapsed() < REPLY_TOKEN_LIFETIME)
            .map(|(token, _)| token)
    }
}

/// A UUID-shaped key derived from the delivery, the same on every retry of it.
fn retry_key(delivery: &str) -> String {
    let hash = hex::encode(Sha256::digest(delivery.as_bytes()));
    format!(
        "{}-{}-4{}-a{}-{}",
        &hash[0..8],
        &hash[8..12],
        &hash[13..16],
        &hash[17..20],
        &hash[20..32]
    )
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SentMessages {
    #[serde(default)]
    sent_messages: Vec<SentId>,
}

#[derive(Debug, Deserialize)]
struct SentId {
    id: String,
}

pub(crate) async fn send(
    platforms: &Platforms,
    channel: Channel<'_>,
    to: &str,
    message: &Outbound,
    delivery: &str,
) -> Result<Sent, SendError> {
    let refused = |e: ChannelError| SendError::permanent(e.to_string());
    let messages = match message {
        Outbound::Text(text) => json!([{"type": "text", "text": text}]),
        Outbound::File {
            kind: MediaKind::Image,
            link: Some(link),
            ..
        } => json!([{"type": "image", "originalContentUrl": link, "previewImageUrl": link}]),
        Outbound::File {
            kind: MediaKind::Image,
            link: None,
            ..
        } => {
            return Err(SendError::permanent(
                "LINE fetches images from a public https URL: set the server's public_url",
            ))
        }
        Outbound::File { .. } => {
            return Err(SendError::permanent(
                "a LINE account can send images, not other files, to its users",
            ))
        }
    };
    let token = channel
        .credentials
        .get("channelAccessToken")
        .map_err(refused)?;
    let line_channel = line_channel(channel).map_err(refused)?;
    let post = |path: &str| {
        let url = platforms
            .url(&platforms.endpoints.line, path)
            .map_err(refused)?;
        Ok::<_, SendError>(platforms.http.post(url).bearer_auth(token))
    };
    if let Some(reply_token) = platforms.take_line_reply_token(line_channel, to) {
        let response = post("v2/bot/message/reply")?
            .json(&json!({"replyToken": reply_token, "messages": messages}))
            .send()
            .await?;
        if response.status().is_success() {
            return sent(response).await;
        }
        // An expired or used token: the push below still reaches the customer.
        tracing::debug!(status = %response.status(), "LINE refused a reply token; pushing instead");
    }
    let response = post("v2/bot/message/push")?
        .header("X-Line-Retry-Key", retry_key(delivery))
        .json(&json!({"to": to, "messages": messages}))
        .send()
        .await?;
    let status = response.status();
    if status == StatusCode::CONFLICT
        && response
            .headers()
            .contains_key("x-line-accepted-request-id")
    {
        // A push with this retry key was accepted before: the customer has it already.
        return Ok(Sent {
            platform_message_id: None,
        });
    }
    if !status.is_success() {
        let after = crate::retry_after(response.headers());
        let body = response.text().await.unwrap_or_default();
        let reason = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["message"].as_str().map(str::to_owned))
            .unwrap_or_else(|| status.to_string());
        return Err(SendError::from_status(
            status,
            after,
            format!("LINE: {reason}"),
        ));
    }
    sent(response).await
}

async fn sent(response: reqwest::Response) -> Result<Sent, SendError> {
    let answer: SentMessages = response.json().await.unwrap_or(SentMessages {
        sent_messages: Vec::new(),
    });
    Ok(Sent {
        platform_message_id: answer.sent_messages.into_iter().next().map(|m| m.id),
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Profile {
    display_name: String,
}

/// The user's display name from the profile API.
pub(crate) async fn customer_name(
    platforms: &Platforms,
    channel: Channel<'_>,
    user: &str,
) -> Result<String, ChannelError> {
    let token = channel.credentials.get("channelAccessToken")?;
    let url = platforms.url(&platforms.endpoints.line, &format!("v2/bot/profile/{user}"))?;
    let response = platforms.http.get(url).bearer_auth(token).send().await?;
    let profile: Profile = json_answer(response, "LINE", "a profile").await?;
    Ok(profile.display_name)
}

pub(crate) async fn fetch_media(
    platforms: &Platforms,
    channel: Channel<'_>,
    message_id: &str,
) -> Result<Media, ChannelError> {
    let token = channel.credentials.get("channelAccessToken")?;
    let url = platforms.url(
        &platforms.endpoints.line_data,
        &format!("v2/bot/message/{message_id}/content"),
    )?;
    let response = platforms.http.get(url).bearer_auth(token).send().await?;
    Ok(Media {
        content: read_media(response).await?,
        name: None,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use http::HeaderMap;
    use serde_json::json;
    use switchboard_domain::channel::ChannelConfig;

    use super::*;
    use crate::{Credentials, Endpoints};

    fn sign(body: &[u8]) -> HeaderMap {
        let signature =
            base64::engine::general_purpose::STANDARD.encode(hmac_sha256(b"line-secret", body));
        let mut headers = HeaderMap::new();
        headers.insert(SIGNATURE_HEADER, signature.parse().unwrap());
        headers
    }

    fn run(body: &[u8], headers: &HeaderMap) -> (Platforms, Result<Accepted, ChannelError>) {
        let config: ChannelConfig = serde_json::from_value(json!({
            "accessCode": "line", "name": "line", "type": "LINE", "calledRouteId": "1",
            "line": {"lineChannelId": "2000000001"}
        }))
        .unwrap();
        let credentials = Credentials::new(BTreeMap::from([
            ("channelSecret".into(), "line-secret".into()),
            ("channelAccessToken".into(), "line-token".into()),
        ]));
        let platforms = Platforms::new(Endpoints::default()).unwrap();
        let request = WebhookRequest {
            method: &Method::POST,
            query: "",
            headers,
            body,
        };
        let accepted = accept(
            &platforms,
            Channel {
                config: &config,
                credentials: &credentials,
            },
            &request,
        );
        (platforms, accepted)
    }

    #[test]
    fn the_url_check_is_signed_and_delivers_nothing() {
        let body = br#"{"destination":"U0","events":[]}"#;
        let (_, accepted) = run(body, &sign(body));
        assert!(accepted.unwrap().inbound.is_empty());
        let (_, refused) = run(body, &HeaderMap::new());
        assert!(matches!(refused, Err(ChannelError::Forbidden(_))));
    }

    #[test]
    fn a_user_message_is_read_and_its_reply_token_kept_once() {
        let body = json!({"destination": "U0", "events": [
            {"type": "message", "mode": "active", "timestamp": 1, "webhookEventId": "01H0",
             "deliveryContext": {"isRedelivery": false}, "replyToken": "rt-1",
             "source": {"type": "user", "userId": "U123"},
             "message": {"id": "444", "type": "text", "quoteToken": "q", "text": "こんにちは"}},
            {"type": "follow", "mode": "active", "timestamp": 1, "webhookEventId": "01H1",
             "source": {"type": "user", "userId": "U123"}, "replyToken": "rt-2"}
        ]})
        .to_string();
        let (platforms, accepted) = run(body.as_bytes(), &sign(body.as_bytes()));
        let inbound = accepted.unwrap().inbound;
        assert_eq!(inbound.len(), 1);
        assert_eq!(inbound[0].platform_id, "01H0");
        assert_eq!(inbound[0].customer.external_id, "U123");
        assert_eq!(
            platforms.take_line_reply_token("2000000001", "U123"),
            Some("rt-1".into())
        );
        assert_eq!(platforms.take_line_reply_token("2000000001", "U123"), None);
    }

    #[test]
    fn retry_keys_are_uuids_stable_per_delivery() {
        let key = retry_key("delivery-7");
        assert_eq!(key, retry_key("delivery-7"));
        assert_ne!(key, retry_key("delivery-8"));
        let groups: Vec<usize> = key.split('-').map(str::len).collect();
        assert_eq!(groups, [8, 4, 4, 4, 12]);
    }
}
