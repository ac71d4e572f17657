//! Facebook Messenger (developers.facebook.com/docs/messenger-platform). One channel
//! serves several pages of one Meta app; a customer is a page-scoped id (PSID) of one of
//! them, kept as `<page id>:<PSID>` so that replies leave from the page written to, with
//! that page's token.

use reqwest::multipart::Form;
use serde::Deserialize;
use serde_json::json;

use crate::meta::{self, Checked};
use crate::{
    file_part, json_answer, read_media, Accepted, Answer, Channel, ChannelError, Inbound,
    InboundContent, Media, MediaKind, Outbound, PlatformUser, Platforms, SendError, Sent,
    WebhookRequest,
};

/// Messenger's limit on one text message.
pub(crate) const MAX_TEXT_CHARS: usize = 2000;

pub(crate) fn accept(
    channel: Channel<'_>,
    request: &WebhookRequest<'_>,
) -> Result<Accepted, ChannelError> {
    let settings = channel
        .config
        .facebook
        .as_ref()
        .ok_or(ChannelError::MissingCredential("facebook settings"))?;
    let body = match meta::check(channel, settings.signature_algorithm, request)? {
        Checked::Handshake(accepted) => return Ok(accepted),
        Checked::Delivery(body) => body,
    };
    let delivery: Delivery = serde_json::from_slice(body)
        .map_err(|e| ChannelError::Malformed(format!("not a Messenger delivery: {e}")))?;
    if delivery.object != "page" {
        return Ok(Accepted::answer_only(Answer::text("EVENT_RECEIVED")));
    }
    let pages = channel.config.facebook_page_ids();
    let mut inbound = Vec::new();
    for entry in &delivery.entry {
        if !pages.contains(&entry.id.as_str()) {
            tracing::warn!(page = %entry.id, "a Messenger delivery for a page the channel does not serve");
            continue;
        }
        for event in &entry.messaging {
            inbound.extend(messages_of(&entry.id, event));
        }
    }
    Ok(Accepted::inbound(inbound, Answer::text("EVENT_RECEIVED")))
}

#[derive(Debug, Deserialize)]
struct Delivery {
    object: String,
    #[serde(default)]
    entry: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
struct Entry {
    id: String,
    #[serde(default)]
    messaging: Vec<Event>,
}

#[derive(Debug, Deserialize)]
struct Event {
    sender: Party,
    message: Option<Message>,
    postback: Option<Postback>,
}

/// A button the customer pressed: its title is what they said.
#[derive(Debug, Deserialize)]
struct Postback {
    mid: Option<String>,
    title: String,
}

#[derive(Debug, Deserialize)]
struct Party {
    id: String,
}

#[derive(Debug, Deserialize)]
struct Message {
    mid: String,
    text: Option<String>,
    #[serde(default)]
    is_echo: bool,
    #[serde(default)]
    attachments: Vec<Attachment>,
}

#[derive(Debug, Deserialize)]
struct Attachment {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    payload: Payload,
}

#[derive(Debug, Default, Deserialize)]
struct Payload {
    url: Option<String>,
    sticker_id: Option<serde_json::Value>,
    title: Option<String>,
    coordinates: Option<Coordinates>,
}

#[derive(Debug, Deserialize)]
struct Coordinates {
    lat: f64,
    long: f64,
}

/// The messages a customer sent in one event, a pressed button's title included; the
/// page's own messages echoed back, deliveries and reads carry none.
fn messages_of(page: &str, event: &Event) -> Vec<Inbound> {
    let customer = PlatformUser {
        external_id: format!("{page}:{}", event.sender.id),
        name: String::new(),
    };
    if let Some(Postback {
        mid: Some(mid),
        title,
    }) = &event.postback
    {
        return vec![Inbound {
            platform_id: mid.clone(),
            customer,
            content: InboundContent::Text {
                text: title.clone(),
            },
        }];
    }
    let Some(message) = event.message.as_ref().filter(|m| !m.is_echo) else {
        return Vec::new();
    };
    let mut contents = Vec::new();
    if let Some(text) = message.text.as_ref().filter(|t| !t.trim().is_empty()) {
        contents.push(InboundContent::Text { text: text.clone() });
    }
    contents.extend(message.attachments.iter().filter_map(attachment_content));
    contents
        .into_iter()
        .enumerate()
        .map(|(i, content)| Inbound {
            platform_id: if i == 0 {
                message.mid.clone()
            } else {
                format!("{}.{i}", message.mid)
            },
            customer: customer.clone(),
            content,
        })
        .collect()
}

fn attachment_content(attachment: &Attachment) -> Option<InboundContent> {
    let payload = &attachment.payload;
    if payload.sticker_id.is_some() {
        return Some(InboundContent::Text {
            text: "[sticker]".into(),
        });
    }
    let kind = match attachment.kind.as_str() {
        "image" => MediaKind::Image,
        "audio" => MediaKind::Audio,
        "video" => MediaKind::Video,
        "file" => MediaKind::File,
        "location" => {
            let at = payload.coordinates.as_ref()?;
            return Some(InboundContent::Location {
                latitude: at.lat,
                longitude: at.long,
                name: payload.title.clone().unwrap_or_default(),
                address: String::new(),
            });
        }
        _ => {
            let described = [payload.title.as_deref(), payload.url.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            return Some(InboundContent::Text {
                text: format!("[{}] {described}", attachment.kind)
                    .trim()
                    .to_owned(),
            });
        }
    };
    Some(InboundContent::Media {
        kind,
        source: payload.url.clone()?,
        name: String::new(),
    })
}

#[derive(Debug, Deserialize)]
struct SendAnswer {
    message_id: Option<String>,
}

pub(crate) async fn send(
    platforms: &Platforms,
    channel: Channel<'_>,
    to: &str,
    message: &Outbound,
) -> Result<Sent, SendError> {
    let (page, psid) = to
        .split_once(':')
        .ok_or_else(|| SendError::permanent(format!("'{to}' is not a page and a PSID")))?;
    let token = channel
        .credentials
        .named(&format!("pageToken:{page}"))
        .ok_or_else(|| SendError::permanent(format!("the channel has no token for page {page}")))?;
    let mut url = platforms
        .url(&platforms.endpoints.graph, &format!("{page}/messages"))
        .map_err(|e| SendError::permanent(e.to_string()))?;
    url.query_pairs_mut().append_pair("access_token", token);
    let recipient = json!({"id": psid});
    let answered = match message {
        Outbound::Text(text) => {
            let body = json!({
                "recipient": recipient,
                "messaging_type": "RESPONSE",
                "message": {"text": text},
            });
            let response = platforms.http.post(url).json(&body).send().await?;
            meta::sent::<SendAnswer>(response, "Messenger").await?
        }
        Outbound::File {
            kind,
            name,
            mime_type,
            content,
            ..
        } => {
            let kind = match kind {
                MediaKind::Image => "image",
                MediaKind::Audio => "audio",
                MediaKind::Video => "video",
                MediaKind::File => "file",
            };
            let attachment =
                json!({"attachment": {"type": kind, "payload": {"is_reusable": false}}});
            let part = file_part(name, mime_type, content)?;
            let form = Form::new()
                .text("recipient", recipient.to_string())
                .text("messaging_type", "RESPONSE")
                .text("message", attachment.to_string())
                .part("filedata", part);
            let response = platforms.http.post(url).multipart(form).send().await?;
            meta::sent::<SendAnswer>(response, "Messenger").await?
        }
    };
    Ok(Sent {
        platform_message_id: answered.message_id,
    })
}

#[derive(Debug, Deserialize)]
struct Profile {
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
}

/// The person's name from the User Profile API, asked with the page's token.
pub(crate) async fn customer_name(
    platforms: &Platforms,
    channel: Channel<'_>,
    to: &str,
) -> Result<String, ChannelError> {
    let (page, psid) = to
        .split_once(':')
        .ok_or_else(|| ChannelError::Malformed(format!("'{to}' is not a page and a PSID")))?;
    let token = channel
        .credentials
        .named(&format!("pageToken:{page}"))
        .ok_or(ChannelError::MissingCredential("page token"))?;
    let mut url = platforms.url(&platforms.endpoints.graph, psid)?;
    url.query_pairs_mut()
        .append_pair("fields", "first_name,last_name")
        .append_pair("access_token", token);
    let response = platforms.http.get(url).send().await?;
    let profile: Profile = json_answer(response, "Messenger", "a profile").await?;
    Ok(format!("{} {}", profile.first_name, profile.last_name)
        .trim()
        .to_owned())
}

/// Messenger hands attachments out as URLs on its content servers.
pub(crate) async fn fetch_media(platforms: &Platforms, url: &str) -> Result<Media, ChannelError> {
    let content = read_media(platforms.http.get(url).send().await?).await?;
    Ok(Media {
        content,
        name: None,
    })
}

#[cfg(test)]
mod tests {
    use http::Method;
    use serde_json::json;
    use switchboard_domain::channel::{settings::SignatureAlgorithm, ChannelConfig};

    use super::*;
    use crate::meta::tests::{credentials, signed};

    fn config(algorithm: &str) -> ChannelConfig {
        serde_json::from_value(json!({
            "accessCode": "fb", "name": "fb", "type": "FACEBOOK", "calledRouteId": "1",
            "facebook": {"appId": "777", "signatureAlgorithm": algorithm,
                         "pages": [{"pageId": "111", "name": "Shop"}]}
        }))
        .unwrap()
    }

    fn request<'a>(
        method: &'a Method,
        query: &'a str,
        headers: &'a http::HeaderMap,
        body: &'a [u8],
    ) -> WebhookRequest<'a> {
        WebhookRequest {
            method,
            query,
            headers,
            body,
        }
    }

    fn run(config: &ChannelConfig, request: &WebhookRequest<'_>) -> Result<Accepted, ChannelError> {
        let credentials = credentials();
        accept(
            Channel {
                config,
                credentials: &credentials,
            },
            request,
        )
    }

    #[test]
    fn the_handshake_echoes_the_challenge_for_the_right_token_only() {
        let config = config("SHA-256");
        let none = http::HeaderMap::new();
        let good = "hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=1158201444";
        let accepted = run(&config, &request(&Method::GET, good, &none, b"")).unwrap();
        assert_eq!(accepted.answer.body, "1158201444");
        let bad = "hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1";
        let refused = run(&config, &request(&Method::GET, bad, &none, b"")).unwrap_err();
        assert_eq!(refused.to_string(), meta::WRONG_VERIFY_TOKEN);
    }

    fn delivery() -> Vec<u8> {
        json!({"object": "page", "entry": [{"id": "111", "time": 1, "messaging": [
            {"sender": {"id": "PSID1"}, "recipient": {"id": "111"}, "timestamp": 1,
             "message": {"mid": "m_1", "text": "hello",
                         "attachments": [{"type": "image", "payload": {"url": "https://cdn.example/a.jpg"}}]}},
            {"sender": {"id": "111"}, "recipient": {"id": "PSID1"}, "timestamp": 2,
             "message": {"mid": "m_2", "text": "echo", "is_echo": true}},
            {"sender": {"id": "PSID1"}, "recipient": {"id": "111"}, "timestamp": 3,
             "postback": {"mid": "m_3", "title": "Talk to a person", "payload": "HUMAN"}}
        ]}]})
        .to_string()
        .into_bytes()
    }

    #[test]
    fn deliveries_are_signed_with_the_channel_algorithm() {
        let body = delivery();
        for (setting, algorithm) in [
            ("SHA-256", SignatureAlgorithm::Sha256),
            ("SHA-1", SignatureAlgorithm::Sha1),
        ] {
            let config = config(setting);
            let headers = signed(&body, algorithm);
            let accepted = run(&config, &request(&Method::POST, "", &headers, &body)).unwrap();
            assert_eq!(accepted.inbound.len(), 3, "{setting}");
            let mut forged = body.clone();
            forged[10] ^= 1;
            assert!(matches!(
                run(&config, &request(&Method::POST, "", &headers, &forged)),
                Err(ChannelError::Forbidden(_))
            ));
        }
        let config = config("SHA-256");
        let other = signed(&body, SignatureAlgorithm::Sha1);
        assert!(run(&config, &request(&Method::POST, "", &other, &body)).is_err());
    }

    #[test]
    fn a_message_with_attachments_becomes_one_inbound_each_echoes_none() {
        let body = delivery();
        let headers = signed(&body, SignatureAlgorithm::Sha256);
        let inbound = run(
            &config("SHA-256"),
            &request(&Method::POST, "", &headers, &body),
        )
        .unwrap()
        .inbound;
        assert_eq!(inbound[0].platform_id, "m_1");
        assert_eq!(inbound[0].customer.external_id, "111:PSID1");
        assert_eq!(
            inbound[0].content,
            InboundContent::Text {
                text: "hello".into()
            }
        );
        assert_eq!(
            (inbound[2].platform_id.as_str(), &inbound[2].content),
            (
                "m_3",
                &InboundContent::Text {
                    text: "Talk to a person".into()
                }
            ),
            "a pressed button"
        );
        assert_eq!(inbound[1].platform_id, "m_1.1");
        assert_eq!(
            inbound[1].content,
            InboundContent::Media {
                kind: MediaKind::Image,
                source: "https://cdn.example/a.jpg".into(),
                name: String::new()
            }
        );
    }
}
