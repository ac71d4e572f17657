//! WhatsApp Cloud API (developers.facebook.com/documentation/business-messaging/whatsapp).
//! A channel is one business phone number; a customer is a WhatsApp id (`wa_id`).
//! Deliveries carry customers' `messages` and the `statuses` of replies sent before.

use reqwest::multipart::Form;
use serde::Deserialize;
use serde_json::json;

use crate::meta::{self, Checked};
use crate::{
    file_part, json_answer, read_media, Accepted, Answer, Channel, ChannelError, DeliveryReport,
    Inbound, InboundContent, Media, MediaKind, Outbound, PlatformUser, Platforms, ReportedStatus,
    SendError, Sent, WebhookRequest,
};

/// WhatsApp's limit on one text message.
pub(crate) const MAX_TEXT_CHARS: usize = 4096;

fn settings<'a>(
    channel: Channel<'a>,
) -> Result<&'a switchboard_domain::channel::settings::WhatsappSettings, ChannelError> {
    channel
        .config
        .whatsapp
        .as_ref()
        .ok_or(ChannelError::MissingCredential("whatsapp settings"))
}

pub(crate) fn accept(
    channel: Channel<'_>,
    request: &WebhookRequest<'_>,
) -> Result<Accepted, ChannelError> {
    let settings = settings(channel)?;
    let body = match meta::check(channel, settings.signature_algorithm, request)? {
        Checked::Handshake(accepted) => return Ok(accepted),
        Checked::Delivery(body) => body,
    };
    let delivery: Delivery = serde_json::from_slice(body)
        .map_err(|e| ChannelError::Malformed(format!("not a WhatsApp delivery: {e}")))?;
    let mut accepted = Accepted::inbound(Vec::new(), Answer::ok());
    if delivery.object != "whatsapp_business_account" {
        return Ok(accepted);
    }
    let changes = delivery
        .entry
        .iter()
        .flat_map(|e| &e.changes)
        .filter(|c| c.field == "messages");
    for change in changes {
        let value = &change.value;
        if value.metadata.phone_number_id != settings.phone_number_id {
            tracing::warn!(phone_number_id = %value.metadata.phone_number_id, "a WhatsApp delivery for a number the channel does not serve");
            continue;
        }
        for message in &value.messages {
            let name = value
                .contacts
                .iter()
                .find(|c| c.wa_id == message.from)
                .map(|c| c.profile.name.clone())
                .unwrap_or_default();
            accepted.inbound.extend(inbound(message, name));
        }
        accepted
            .reports
            .extend(value.statuses.iter().filter_map(report));
    }
    Ok(accepted)
}

#[derive(Debug, Deserialize)]
struct Delivery {
    object: String,
    #[serde(default)]
    entry: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
struct Entry {
    #[serde(default)]
    changes: Vec<Change>,
}

#[derive(Debug, Deserialize)]
struct Change {
    field: String,
    value: Value,
}

#[derive(Debug, Deserialize)]
struct Value {
    metadata: Metadata,
    #[serde(default)]
    contacts: Vec<Contact>,
    #[serde(default)]
    messages: Vec<Message>,
    #[serde(default)]
    statuses: Vec<Status>,
}

#[derive(Debug, Deserialize)]
struct Metadata {
    phone_number_id: String,
}

#[derive(Debug, Deserialize)]
struct Contact {
    wa_id: String,
    profile: Profile,
}

#[derive(Debug, Deserialize)]
struct Profile {
    #[serde(default)]
    name: String,
}

#[derive(Debug, Deserialize)]
struct Message {
    from: String,
    id: String,
    #[serde(rename = "type")]
    kind: String,
    text: Option<Text>,
    image: Option<MediaRef>,
    audio: Option<MediaRef>,
    video: Option<MediaRef>,
    document: Option<MediaRef>,
    sticker: Option<MediaRef>,
    location: Option<Location>,
    button: Option<Button>,
    interactive: Option<Interactive>,
    reaction: Option<Reaction>,
}

/// A reply button or list row the customer picked.
#[derive(Debug, Deserialize)]
struct Interactive {
    button_reply: Option<Choice>,
    list_reply: Option<Choice>,
}

#[derive(Debug, Deserialize)]
struct Choice {
    title: String,
}

#[derive(Debug, Deserialize)]
struct Reaction {
    emoji: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Text {
    body: String,
}

#[derive(Debug, Deserialize)]
struct MediaRef {
    id: String,
    filename: Option<String>,
    caption: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Location {
    latitude: f64,
    longitude: f64,
    name: Option<String>,
    address: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Button {
    text: String,
}

#[derive(Debug, Deserialize)]
struct Status {
    id: String,
    status: String,
    #[serde(default)]
    errors: Vec<StatusError>,
}

#[derive(Debug, Deserialize)]
struct StatusError {
    code: i64,
    title: String,
}

fn inbound(message: &Message, name: String) -> Vec<Inbound> {
    let customer = PlatformUser {
        external_id: message.from.clone(),
        name,
    };
    let media = |kind, media: &MediaRef| InboundContent::Media {
        kind,
        source: media.id.clone(),
        name: media.filename.clone().unwrap_or_default(),
    };
    let mut caption = None;
    let content = match message.kind.as_str() {
        "text" => message.text.as_ref().map(|t| InboundContent::Text {
            text: t.body.clone(),
        }),
        "image" | "audio" | "video" | "document" => {
            let (kind, file) = match message.kind.as_str() {
                "image" => (MediaKind::Image, message.image.as_ref()),
                "audio" => (MediaKind::Audio, message.audio.as_ref()),
                "video" => (MediaKind::Video, message.video.as_ref()),
                _ => (MediaKind::File, message.document.as_ref()),
            };
            file.map(|file| {
                caption = file.caption.clone();
                media(kind, file)
            })
        }
        "sticker" => message.sticker.as_ref().map(|_| InboundContent::Text {
            text: "[sticker]".into(),
        }),
        "location" => message
            .location
            .as_ref()
            .map(|at| InboundContent::Location {
                latitude: at.latitude,
                longitude: at.longitude,
                name: at.name.clone().unwrap_or_default(),
                address: at.address.clone().unwrap_or_default(),
            }),
        "button" => message.button.as_ref().map(|b| InboundContent::Text {
            text: b.text.clone(),
        }),
        "interactive" => message.interactive.as_ref().map(|choice| {
            let picked = choice.button_reply.as_ref().or(choice.list_reply.as_ref());
            InboundContent::Text {
                text: picked.map_or_else(|| "[interactive]".into(), |p| p.title.clone()),
            }
        }),
        "reaction" => message.reaction.as_ref().map(|r| InboundContent::Text {
            text: format!("[reaction {}]", r.emoji.as_deref().unwrap_or_default()),
        }),
        other => Some(InboundContent::Text {
            text: format!("[{other}]"),
        }),
    };
    let mut found: Vec<Inbound> = content
        .into_iter()
        .map(|content| Inbound {
            platform_id: message.id.clone(),
            customer: customer.clone(),
            content,
        })
        .collect();
    if let Some(text) = caption.filter(|c| !c.trim().is_empty()) {
        found.push(Inbound {
            platform_id: format!("{}.caption", message.id),
            customer,
            content: InboundContent::Text { text },
        });
    }
    found
}

fn report(status: &Status) -> Option<DeliveryReport> {
    let status_of = match status.status.as_str() {
        "delivered" => ReportedStatus::Delivered,
        "read" => ReportedStatus::Read,
        "failed" => ReportedStatus::Failed {
            reason: status
                .errors
                .first()
                .map(|e| format!("WhatsApp: {} (code {})", e.title, e.code))
                .unwrap_or_else(|| "WhatsApp could not deliver the message".into()),
        },
        _ => return None,
    };
    Some(DeliveryReport {
        platform_message_id: status.id.clone(),
        status: status_of,
    })
}

#[derive(Debug, Deserialize)]
struct SendAnswer {
    #[serde(default)]
    messages: Vec<SentId>,
}

#[derive(Debug, Deserialize)]
struct SentId {
    id: String,
}

#[derive(Debug, Deserialize)]
struct Uploaded {
    id: String,
}

pub(crate) async fn send(
    platforms: &Platforms,
    channel: Channel<'_>,
    to: &str,
    message: &Outbound,
) -> Result<Sent, SendError> {
    let refused = |e: ChannelError| SendError::permanent(e.to_string());
    let phone = &settings(channel).map_err(refused)?.phone_number_id;
    let token = channel.credentials.get("accessToken").map_err(refused)?;
    let url = platforms
        .url(&platforms.endpoints.graph, &format!("{phone}/messages"))
        .map_err(refused)?;
    let mut body = match message {
        Outbound::Text(text) => {
            json!({"type": "text", "text": {"body": text, "preview_url": false}})
        }
        Outbound::File {
            kind,
            name,
            mime_type,
            content,
            ..
        } => {
            let media = upload(platforms, phone, token, name, mime_type, content).await?;
            match kind {
                MediaKind::Image => json!({"type": "image", "image": {"id": media}}),
                MediaKind::Audio => json!({"type": "audio", "audio": {"id": media}}),
                MediaKind::Video => json!({"type": "video", "video": {"id": media}}),
                MediaKind::File => {
                    json!({"type": "document", "document": {"id": media, "filename": name}})
                }
            }
        }
    };
    body["messaging_product"] = json!("whatsapp");
    body["recipient_type"] = json!("individual");
    body["to"] = json!(to);
    let response = platforms
        .http
        .post(url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await?;
    let answer: SendAnswer = meta::sent(response, "WhatsApp").await?;
    Ok(Sent {
        platform_message_id: answer.messages.into_iter().next().map(|m| m.id),
    })
}

async fn upload(
    platforms: &Platforms,
    phone: &str,
    token: &str,
    name: &str,
    mime_type: &str,
    content: &[u8],
) -> Result<String, SendError> {
    let url = platforms
        .url(&platforms.endpoints.graph, &format!("{phone}/media"))
        .map_err(|e| SendError::permanent(e.to_string()))?;
    let part = file_part(name, mime_type, content)?;
    let form = Form::new()
        .text("messaging_product", "whatsapp")
        .text("type", mime_type.to_owned())
        .part("file", part);
    let response = platforms
        .http
        .post(url)
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await?;
    let uploaded: Uploaded = meta::sent(response, "WhatsApp").await?;
    Ok(uploaded.id)
}

#[derive(Debug, Deserialize)]
struct MediaUrl {
    url: String,
}

/// A media id resolves to a short-lived URL, read with the same token.
pub(crate) async fn fetch_media(
    platforms: &Platforms,
    channel: Channel<'_>,
    media_id: &str,
) -> Result<Media, ChannelError> {
    let token = channel.credentials.get("accessToken")?;
    let url = platforms.url(&platforms.endpoints.graph, media_id)?;
    let response = platforms.http.get(url).bearer_auth(token).send().await?;
    let located: MediaUrl = json_answer(response, "WhatsApp", &format!("media {media_id}")).await?;
    let response = platforms
        .http
        .get(&located.url)
        .bearer_auth(token)
        .send()
        .await?;
    Ok(Media {
        content: read_media(response).await?,
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

    fn config() -> ChannelConfig {
        serde_json::from_value(json!({
            "accessCode": "wa", "name": "wa", "type": "WHATSAPP", "calledRouteId": "1",
            "whatsapp": {"appId": "777", "phoneNumberId": "5550001"}
        }))
        .unwrap()
    }

    #[test]
    fn messages_and_statuses_are_read_from_a_signed_delivery() {
        let body = json!({"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [
            {"field": "messages", "value": {"messaging_product": "whatsapp",
                "metadata": {"display_phone_number": "15550001", "phone_number_id": "5550001"},
                "contacts": [{"profile": {"name": "Bo"}, "wa_id": "4915112345"}],
                "messages": [
                    {"from": "4915112345", "id": "wamid.A", "timestamp": "1", "type": "text", "text": {"body": "hallo"}},
                    {"from": "4915112345", "id": "wamid.B", "timestamp": "2", "type": "image",
                     "image": {"id": "MEDIA1", "mime_type": "image/jpeg", "sha256": "x", "caption": "broken"}},
                    {"from": "4915112345", "id": "wamid.C", "timestamp": "3", "type": "interactive",
                     "interactive": {"type": "button_reply", "button_reply": {"id": "yes", "title": "Yes, refund"}}}
                ],
                "statuses": [{"id": "wamid.OUT", "status": "failed", "timestamp": "3", "recipient_id": "4915112345",
                              "errors": [{"code": 131047, "title": "Re-engagement message"}]}]}}
        ]}]})
        .to_string();
        let headers = signed(body.as_bytes(), SignatureAlgorithm::Sha256);
        let config = config();
        let credentials = credentials();
        let channel = Channel {
            config: &config,
            credentials: &credentials,
        };
        let request = WebhookRequest {
            method: &Method::POST,
            query: "",
            headers: &headers,
            body: body.as_bytes(),
        };
        let accepted = accept(channel, &request).unwrap();
        let ids: Vec<_> = accepted
            .inbound
            .iter()
            .map(|i| i.platform_id.as_str())
            .collect();
        assert_eq!(ids, ["wamid.A", "wamid.B", "wamid.B.caption", "wamid.C"]);
        assert_eq!(
            accepted.inbound[3].content,
            InboundContent::Text {
                text: "Yes, refund".into()
            }
        );
        assert_eq!(accepted.inbound[0].customer.name, "Bo");
        assert_eq!(
            accepted.reports,
            vec![DeliveryReport {
                platform_message_id: "wamid.OUT".into(),
                status: ReportedStatus::Failed {
                    reason: "WhatsApp: Re-engagement message (code 131047)".into()
                }
            }]
        );
        let forged = body.replace("hallo", "hallO");
        let request = WebhookRequest {
            body: forged.as_bytes(),
            ..request
        };
        assert!(matches!(
            accept(channel, &request),
            Err(ChannelError::Forbidden(_))
        ));
    }
}
