//! Telegram Bot API (core.telegram.org/bots/api). Updates arrive at the URL given to
//! `setWebhook`, each with the `secret_token` of that call in
//! `X-Telegram-Bot-Api-Secret-Token`; `update_id` identifies an update across Telegram's
//! retries. Only private chats are served: a chat's id is the customer.

use std::time::Duration;

use http::Method;
use reqwest::multipart::Form;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::signature::same;
use crate::{
    file_part, read_media, Accepted, Answer, Channel, ChannelError, Inbound, InboundContent, Media,
    MediaKind, Outbound, PlatformUser, Platforms, SendError, Sent, WebhookRequest,
};

const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";
/// Telegram's limit on one text message.
pub(crate) const MAX_TEXT_CHARS: usize = 4096;

/// What `setWebhook` is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookRegistration {
    /// The channel's public webhook URL (https; ports 443, 80, 88 or 8443).
    pub url: String,
    /// Sent back by Telegram with every update.
    pub secret_token: String,
}

pub(crate) fn accept(
    channel: Channel<'_>,
    request: &WebhookRequest<'_>,
) -> Result<Accepted, ChannelError> {
    if request.method != Method::POST {
        return Err(ChannelError::MethodNotAllowed(request.method.clone()));
    }
    let secret = channel.credentials.get("webhookSecret")?;
    let given = request.header(SECRET_HEADER).ok_or_else(|| {
        ChannelError::Forbidden(format!("the request has no {SECRET_HEADER} header"))
    })?;
    if !same(given.as_bytes(), secret.as_bytes()) {
        return Err(ChannelError::Forbidden(format!(
            "the {SECRET_HEADER} header does not match the channel's webhook secret"
        )));
    }
    let update: Update = serde_json::from_slice(request.body)
        .map_err(|e| ChannelError::Malformed(format!("not a Telegram update: {e}")))?;
    Ok(Accepted::inbound(inbound(&update), Answer::ok()))
}

#[derive(Debug, Deserialize)]
struct Update {
    update_id: i64,
    message: Option<Message>,
}

#[derive(Debug, Deserialize)]
struct Message {
    chat: Chat,
    from: Option<User>,
    text: Option<String>,
    caption: Option<String>,
    #[serde(default)]
    photo: Vec<FileRef>,
    document: Option<FileRef>,
    audio: Option<FileRef>,
    voice: Option<FileRef>,
    video: Option<FileRef>,
    video_note: Option<FileRef>,
    animation: Option<FileRef>,
    sticker: Option<Sticker>,
    location: Option<Location>,
    venue: Option<Venue>,
    contact: Option<Contact>,
}

#[derive(Debug, Deserialize)]
struct Chat {
    id: i64,
    #[serde(rename = "type")]
    kind: String,
    first_name: Option<String>,
    last_name: Option<String>,
    username: Option<String>,
}

#[derive(Debug, Deserialize)]
struct User {
    first_name: String,
    last_name: Option<String>,
    username: Option<String>,
}

#[derive(Debug, Deserialize)]
struct FileRef {
    file_id: String,
    file_name: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Sticker {
    emoji: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Location {
    latitude: f64,
    longitude: f64,
}

#[derive(Debug, Deserialize)]
struct Venue {
    location: Location,
    title: String,
    address: String,
}

#[derive(Debug, Deserialize)]
struct Contact {
    phone_number: String,
    first_name: String,
    last_name: Option<String>,
}

fn full_name(first: &str, last: Option<&str>, username: Option<&str>) -> String {
    let name = match last {
        Some(last) if !last.is_empty() => format!("{first} {last}"),
        _ => first.to_owned(),
    };
    if name.trim().is_empty() {
        username.unwrap_or_default().to_owned()
    } else {
        name
    }
}

/// The messages of a private chat's update; every other update carries none.
fn inbound(update: &Update) -> Vec<Inbound> {
    let Some(message) = update.message.as_ref().filter(|m| m.chat.kind == "private") else {
        return Vec::new();
    };
    let name = match &message.from {
        Some(user) => full_name(
            &user.first_name,
            user.last_name.as_deref(),
            user.username.as_deref(),
        ),
        None => full_name(
            message.chat.first_name.as_deref().unwrap_or_default(),
            message.chat.last_name.as_deref(),
            message.chat.username.as_deref(),
        ),
    };
    let customer = PlatformUser {
        external_id: message.chat.id.to_string(),
        name,
    };
    let id = update.update_id.to_string();
    let one = |platform_id: String, content| Inbound {
        platform_id,
        customer: customer.clone(),
        content,
    };
    let mut found = Vec::new();
    if let Some(content) = content(message) {
        found.push(one(id.clone(), content));
    }
    if let Some(caption) = message.caption.as_ref().filter(|c| !c.trim().is_empty()) {
        let text = InboundContent::Text {
            text: caption.clone(),
        };
        found.push(one(format!("{id}.caption"), text));
    }
    found
}

fn content(message: &Message) -> Option<InboundContent> {
    let media = |kind, file: &FileRef| InboundContent::Media {
        kind,
        source: file.file_id.clone(),
        name: file.file_name.clone().unwrap_or_default(),
    };
    let text = |text: String| Some(InboundContent::Text { text });
    if let Some(text) = message.text.as_ref() {
        return Some(InboundContent::Text { text: text.clone() });
    }
    // The largest size comes last.
    if let Some(photo) = message.photo.last() {
        return Some(media(MediaKind::Image, photo));
    }
    if let Some(file) = message.voice.as_ref().or(message.audio.as_ref()) {
        return Some(media(MediaKind::Audio, file));
    }
    let video = message
        .video
        .as_ref()
        .or(message.video_note.as_ref())
        .or(message.animation.as_ref());
    if let Some(file) = video {
        return Some(media(MediaKind::Video, file));
    }
    if let Some(file) = message.document.as_ref() {
        return Some(media(MediaKind::File, file));
    }
    if let Some(sticker) = &message.sticker {
        return text(format!(
            "[sticker {}]",
            sticker.emoji.as_deref().unwrap_or_default()
        ));
    }
    if let Some(venue) = &message.venue {
        return Some(InboundContent::Location {
            latitude: venue.location.latitude,
            longitude: venue.location.longitude,
            name: venue.title.clone(),
            address: venue.address.clone(),
        });
    }
    if let Some(location) = &message.location {
        return Some(InboundContent::Location {
            latitude: location.latitude,
            longitude: location.longitude,
            name: String::new(),
            address: String::new(),
        });
    }
    if let Some(contact) = &message.contact {
        let name = full_name(&contact.first_name, contact.last_name.as_deref(), None);
        return text(format!("[contact {name} {}]", contact.phone_number));
    }
    None
}

/// Every Bot API answer: `result` when `ok`, else why not.
#[derive(Debug, Deserialize)]
struct Reply<T> {
    ok: bool,
    result: Option<T>,
    error_code: Option<u16>,
    description: Option<String>,
    parameters: Option<ReplyParameters>,
}

#[derive(Debug, Deserialize)]
struct ReplyParameters {
    retry_after: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct SentMessage {
    message_id: i64,
}

#[derive(Debug, Deserialize)]
struct File {
    file_path: Option<String>,
}

fn method_url(
    platforms: &Platforms,
    channel: Channel<'_>,
    method: &str,
) -> Result<url::Url, ChannelError> {
    let token = channel.credentials.get("botToken")?;
    platforms.url(
        &platforms.endpoints.telegram,
        &format!("bot{token}/{method}"),
    )
}

/// Reads a Bot API answer, whatever its status, into its result or a send error.
async fn answer<T: for<'de> Deserialize<'de>>(response: reqwest::Response) -> Result<T, SendError> {
    let status = response.status();
    let reply: Reply<T> = response.json().await.map_err(|e| {
        SendError::from_status(
            status,
            None,
            format!("Telegram answered {status} with an unreadable body: {e}"),
        )
    })?;
    match reply {
        Reply {
            ok: true,
            result: Some(result),
            ..
        } => Ok(result),
        refused => {
            let code = refused
                .error_code
                .and_then(|c| http::StatusCode::from_u16(c).ok())
                .unwrap_or(status);
            let after = refused
                .parameters
                .and_then(|p| p.retry_after)
                .map(Duration::from_secs);
            let reason = format!(
                "Telegram: {}",
                refused.description.unwrap_or_else(|| code.to_string())
            );
            Err(SendError::from_status(code, after, reason))
        }
    }
}

pub(crate) async fn send(
    platforms: &Platforms,
    channel: Channel<'_>,
    to: &str,
    message: &Outbound,
) -> Result<Sent, SendError> {
    let chat: i64 = to
        .parse()
        .map_err(|_| SendError::permanent(format!("'{to}' is not a Telegram chat")))?;
    let refused = |e: ChannelError| SendError::permanent(e.to_string());
    let sent = match message {
        Outbound::Text(text) => {
            let url = method_url(platforms, channel, "sendMessage").map_err(refused)?;
            let response = platforms
                .http
                .post(url)
                .json(&json!({"chat_id": chat, "text": text}))
                .send()
                .await?;
            answer::<SentMessage>(response).await?
        }
        Outbound::File {
            kind,
            name,
            mime_type,
            content,
            ..
        } => {
            let (method, field) = match kind {
                MediaKind::Image => ("sendPhoto", "photo"),
                MediaKind::Audio => ("sendAudio", "audio"),
                MediaKind::Video => ("sendVideo", "video"),
                MediaKind::File => ("sendDocument", "document"),
            };
            let url = method_url(platforms, channel, method).map_err(refused)?;
            let part = file_part(name, mime_type, content)?;
            let form = Form::new()
                .text("chat_id", chat.to_string())
                .part(field, part);
            let response = platforms.http.post(url).multipart(form).send().await?;
            answer::<SentMessage>(response).await?
        }
    };
    Ok(Sent {
        platform_message_id: Some(sent.message_id.to_string()),
    })
}

pub(crate) async fn fetch_media(
    platforms: &Platforms,
    channel: Channel<'_>,
    file_id: &str,
) -> Result<Media, ChannelError> {
    let url = method_url(platforms, channel, "getFile")?;
    let response = platforms
        .http
        .post(url)
        .json(&json!({"file_id": file_id}))
        .send()
        .await?;
    let file: File = answer(response)
        .await
        .map_err(|e| ChannelError::Platform(e.to_string()))?;
    let path = file
        .file_path
        .ok_or_else(|| ChannelError::Platform("Telegram gave no file path".into()))?;
    let token = channel.credentials.get("botToken")?;
    let url = platforms.url(
        &platforms.endpoints.telegram,
        &format!("file/bot{token}/{path}"),
    )?;
    let content = read_media(platforms.http.get(url).send().await?).await?;
    let name = path.rsplit('/').next().map(str::to_owned);
    Ok(Media { content, name })
}

#[derive(Serialize)]
struct SetWebhook<'a> {
    url: &'a str,
    secret_token: &'a str,
    allowed_updates: [&'a str; 1],
}

pub(crate) async fn set_webhook(
    platforms: &Platforms,
    channel: Channel<'_>,
    registration: &WebhookRegistration,
) -> Result<(), ChannelError> {
    let url = method_url(platforms, channel, "setWebhook")?;
    let body = SetWebhook {
        url: &registration.url,
        secret_token: &registration.secret_token,
        allowed_updates: ["message"],
    };
    let response = platforms.http.post(url).json(&body).send().await?;
    answer::<bool>(response)
        .await
        .map(drop)
        .map_err(|e| ChannelError::Platform(e.to_string()))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use http::HeaderMap;
    use serde_json::json;
    use switchboard_domain::channel::ChannelConfig;

    use super::*;
    use crate::Credentials;

    fn config() -> ChannelConfig {
        serde_json::from_value(json!({
            "accessCode": "tg", "name": "tg", "type": "TELEGRAM", "calledRouteId": "1"
        }))
        .unwrap()
    }

    fn credentials() -> Credentials {
        Credentials::new(BTreeMap::from([
            ("botToken".into(), "123:abcdefghijklmnopqrstuvwxyz".into()),
            ("webhookSecret".into(), "s3cret".into()),
        ]))
    }

    fn deliver(secret: Option<&str>, body: serde_json::Value) -> Result<Accepted, ChannelError> {
        let mut headers = HeaderMap::new();
        if let Some(secret) = secret {
            headers.insert(SECRET_HEADER, secret.parse().unwrap());
        }
        let body = body.to_string();
        let config = config();
        let credentials = credentials();
        let request = WebhookRequest {
            method: &Method::POST,
            query: "",
            headers: &headers,
            body: body.as_bytes(),
        };
        accept(
            Channel {
                config: &config,
                credentials: &credentials,
            },
            &request,
        )
    }

    fn update(message: serde_json::Value) -> serde_json::Value {
        let mut message = message;
        message["message_id"] = json!(5);
        message["date"] = json!(1_700_000_000);
        message["chat"] = json!({"id": 42, "type": "private", "first_name": "Ann"});
        message["from"] =
            json!({"id": 42, "is_bot": false, "first_name": "Ann", "last_name": "Lee"});
        json!({"update_id": 9001, "message": message})
    }

    #[test]
    fn the_secret_token_must_match() {
        let body = update(json!({"text": "hi"}));
        assert!(matches!(
            deliver(None, body.clone()),
            Err(ChannelError::Forbidden(_))
        ));
        assert!(matches!(
            deliver(Some("wrong"), body.clone()),
            Err(ChannelError::Forbidden(_))
        ));
        let accepted = deliver(Some("s3cret"), body).unwrap();
        assert_eq!(
            accepted.inbound,
            vec![Inbound {
                platform_id: "9001".into(),
                customer: PlatformUser {
                    external_id: "42".into(),
                    name: "Ann Lee".into()
                },
                content: InboundContent::Text { text: "hi".into() },
            }]
        );
    }

    #[test]
    fn media_keep_the_largest_photo_and_captions_follow_as_text() {
        let body = update(json!({
            "photo": [{"file_id": "small", "file_unique_id": "a", "width": 90, "height": 90},
                      {"file_id": "large", "file_unique_id": "b", "width": 800, "height": 800}],
            "caption": "my parcel"
        }));
        let inbound = deliver(Some("s3cret"), body).unwrap().inbound;
        let contents: Vec<_> = inbound
            .iter()
            .map(|i| (i.platform_id.as_str(), &i.content))
            .collect();
        assert_eq!(
            contents,
            vec![
                (
                    "9001",
                    &InboundContent::Media {
                        kind: MediaKind::Image,
                        source: "large".into(),
                        name: String::new()
                    }
                ),
                (
                    "9001.caption",
                    &InboundContent::Text {
                        text: "my parcel".into()
                    }
                ),
            ]
        );
    }

    #[test]
    fn voice_places_and_stickers_have_their_forms() {
        let one = |message| {
            deliver(Some("s3cret"), update(message)).unwrap().inbound[0]
                .content
                .clone()
        };
        assert!(matches!(
            one(json!({"voice": {"file_id": "v", "file_unique_id": "v", "duration": 2}})),
            InboundContent::Media {
                kind: MediaKind::Audio,
                ..
            }
        ));
        assert_eq!(
            one(
                json!({"venue": {"location": {"latitude": 1.5, "longitude": 2.5}, "title": "Depot", "address": "1 Quay"}})
            ),
            InboundContent::Location {
                latitude: 1.5,
                longitude: 2.5,
                name: "Depot".into(),
                address: "1 Quay".into()
            }
        );
        assert_eq!(
            one(
                json!({"sticker": {"file_id": "s", "file_unique_id": "s", "type": "regular", "width": 1, "height": 1, "is_animated": false, "is_video": false, "emoji": "👍"}})
            ),
            InboundContent::Text {
                text: "[sticker 👍]".into()
            }
        );
    }

    #[test]
    fn group_chats_and_other_updates_deliver_nothing() {
        let mut group = update(json!({"text": "hi all"}));
        group["message"]["chat"] = json!({"id": -100, "type": "group", "title": "Team"});
        assert!(deliver(Some("s3cret"), group).unwrap().inbound.is_empty());
        let edited = json!({"update_id": 1, "edited_message": {"message_id": 1}});
        assert!(deliver(Some("s3cret"), edited).unwrap().inbound.is_empty());
        assert!(matches!(
            deliver(Some("s3cret"), json!({"message": {}})),
            Err(ChannelError::Malformed(_))
        ));
    }
}
