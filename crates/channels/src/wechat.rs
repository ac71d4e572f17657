//! WeChat Official Account (developers.weixin.qq.com/doc/offiaccount). Every request
//! carries `signature`, `timestamp` and `nonce` in its query: the hex SHA-1 of the server
//! token, the timestamp and the nonce sorted and joined. The URL check echoes `echostr`;
//! messages arrive as XML and are answered `success` at once (WeChat waits 5 s and
//! retries three times; `MsgId` identifies a message across them), replies go through the
//! customer-service message API with an access token that is cached until it expires.
//!
//! In safe and compatible mode a message comes encrypted in `<Encrypt>`, signed by
//! `msg_signature`: with the channel's `encodingAesKey` it is checked and decrypted (see
//! `wechat_crypt`) and its plaintext copy, if any, is not trusted. Without the key, a
//! compatible-mode message is read from its plaintext copy.

use std::time::{Duration, Instant};

use http::Method;
use reqwest::multipart::Form;
use serde::Deserialize;
use serde_json::json;

use crate::signature::{same, sha1_hex};
use crate::wechat_crypt;
use crate::{
    file_part, read_media, Accepted, Answer, Channel, ChannelError, Inbound, InboundContent, Media,
    MediaKind, Outbound, PlatformUser, Platforms, SendError, Sent, WebhookRequest,
};

/// Texts are kept within 2,048 bytes, WeChat's limit on a text reply: 680 characters of
/// three UTF-8 bytes each (Chinese) fit.
pub(crate) const MAX_TEXT_CHARS: usize = 680;
/// WeChat access tokens live 7200 s; renew a while before.
const TOKEN_MARGIN: Duration = Duration::from_secs(300);

pub(crate) fn accept(
    channel: Channel<'_>,
    request: &WebhookRequest<'_>,
) -> Result<Accepted, ChannelError> {
    let token = channel.credentials.get("token")?;
    let query = request.query_pairs();
    let param = |name: &str| query.get(name).map(String::as_str).unwrap_or_default();
    let mut parts = [token, param("timestamp"), param("nonce")];
    parts.sort_unstable();
    let expected = sha1_hex(&parts.concat());
    if !same(param("signature").as_bytes(), expected.as_bytes()) {
        return Err(ChannelError::Forbidden(
            "signature does not match the channel's token, timestamp and nonce".into(),
        ));
    }
    match *request.method {
        Method::GET => Ok(Accepted::answer_only(Answer::text(param("echostr")))),
        Method::POST => {
            let envelope = parse(request.body)?;
            let message = match (
                &envelope.encrypt,
                channel.credentials.named("encodingAesKey"),
            ) {
                (Some(encrypted), Some(key)) => {
                    let expected = wechat_crypt::message_signature(
                        token,
                        param("timestamp"),
                        param("nonce"),
                        encrypted,
                    );
                    if !same(param("msg_signature").as_bytes(), expected.as_bytes()) {
                        return Err(ChannelError::Forbidden(
                            "msg_signature does not match the encrypted message".into(),
                        ));
                    }
                    let app_id = channel
                        .config
                        .wechat
                        .as_ref()
                        .map(|s| s.app_id.as_str())
                        .unwrap_or_default();
                    parse(wechat_crypt::decrypt(key, encrypted, app_id)?.as_bytes())?
                }
                (Some(_), None) if envelope.msg_type.is_none() => {
                    return Err(ChannelError::MissingCredential("encodingAesKey"))
                }
                _ => envelope,
            };
            Ok(Accepted::inbound(
                inbound(&message).into_iter().collect(),
                Answer::text("success"),
            ))
        }
        ref other => Err(ChannelError::MethodNotAllowed(other.clone())),
    }
}

fn parse(xml: &[u8]) -> Result<Message, ChannelError> {
    quick_xml::de::from_reader(xml)
        .map_err(|e| ChannelError::Malformed(format!("not a WeChat message: {e}")))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Message {
    from_user_name: Option<String>,
    msg_type: Option<String>,
    msg_id: Option<String>,
    content: Option<String>,
    media_id: Option<String>,
    recognition: Option<String>,
    #[serde(rename = "Location_X")]
    location_x: Option<f64>,
    #[serde(rename = "Location_Y")]
    location_y: Option<f64>,
    label: Option<String>,
    title: Option<String>,
    url: Option<String>,
    encrypt: Option<String>,
}

/// A message a follower sent; events (follow, menu clicks) carry none.
fn inbound(message: &Message) -> Option<Inbound> {
    let kind = message.msg_type.as_deref()?;
    let media = |kind| {
        message.media_id.as_ref().map(|id| InboundContent::Media {
            kind,
            source: id.clone(),
            name: String::new(),
        })
    };
    let content = match kind {
        "text" => Some(InboundContent::Text {
            text: message.content.clone().unwrap_or_default(),
        }),
        "image" => media(MediaKind::Image),
        "voice" => media(MediaKind::Audio),
        "video" | "shortvideo" => media(MediaKind::Video),
        "location" => Some(InboundContent::Location {
            latitude: message.location_x?,
            longitude: message.location_y?,
            name: String::new(),
            address: message.label.clone().unwrap_or_default(),
        }),
        "link" => Some(InboundContent::Text {
            text: format!(
                "{} {}",
                message.title.as_deref().unwrap_or_default(),
                message.url.as_deref().unwrap_or_default()
            )
            .trim()
            .to_owned(),
        }),
        "event" => None,
        other => Some(InboundContent::Text {
            text: match &message.recognition {
                Some(words) if !words.is_empty() => words.clone(),
                _ => format!("[{other}]"),
            },
        }),
    }?;
    Some(Inbound {
        platform_id: message.msg_id.clone()?,
        customer: PlatformUser {
            external_id: message.from_user_name.clone()?,
            name: String::new(),
        },
        content,
    })
}

/// Every API answer that is not a file: `errcode` 0 or absent means success.
#[derive(Debug, Deserialize)]
struct ApiAnswer {
    #[serde(default)]
    errcode: i64,
    #[serde(default)]
    errmsg: String,
    access_token: Option<String>,
    expires_in: Option<u64>,
    media_id: Option<String>,
}

/// An invalid or expired access token: fetch a new one and try once more.
fn token_expired(errcode: i64) -> bool {
    matches!(errcode, 40001 | 40014 | 42001)
}

fn refusal(answer: &ApiAnswer) -> SendError {
    let reason = format!("WeChat: {} (errcode {})", answer.errmsg, answer.errcode);
    match answer.errcode {
        // "System busy, try again later".
        -1 => SendError::Retry {
            after: None,
            reason,
        },
        // The per-minute and the daily call quotas.
        45009 | 45011 => SendError::Retry {
            after: Some(Duration::from_secs(60)),
            reason,
        },
        _ => SendError::Permanent { reason },
    }
}

impl Platforms {
    async fn wechat_token(&self, channel: Channel<'_>, renew: bool) -> Result<String, SendError> {
        let refused = |e: ChannelError| SendError::permanent(e.to_string());
        let app_id = channel
            .config
            .wechat
            .as_ref()
            .map(|s| s.app_id.clone())
            .ok_or_else(|| refused(ChannelError::MissingCredential("wechat settings")))?;
        if !renew {
            let tokens = self
                .wechat_tokens
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if let Some((token, until)) = tokens.get(&app_id) {
                if Instant::now() < *until {
                    return Ok(token.clone());
                }
            }
        }
        let secret = channel.credentials.get("appSecret").map_err(refused)?;
        let mut url = self
            .url(&self.endpoints.wechat, "cgi-bin/token")
            .map_err(refused)?;
        url.query_pairs_mut()
            .append_pair("grant_type", "client_credential")
            .append_pair("appid", &app_id)
            .append_pair("secret", secret);
        let answer: ApiAnswer = self
            .http
            .get(url)
            .send()
            .await?
            .json()
            .await
            .map_err(|e| SendError::retry(format!("WeChat answered unreadably: {e}")))?;
        let Some(token) = answer.access_token.clone() else {
            return Err(refusal(&answer));
        };
        let lifetime = Duration::from_secs(answer.expires_in.unwrap_or(7200));
        let until = Instant::now() + lifetime.saturating_sub(TOKEN_MARGIN);
        self.wechat_tokens
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(app_id, (token.clone(), until));
        Ok(token)
    }

    /// Calls the API with the cached token, renewing it once if WeChat says it expired.
    async fn wechat_call(
        &self,
        channel: Channel<'_>,
        call: impl Fn(String) -> Result<reqwest::RequestBuilder, SendError>,
    ) -> Result<ApiAnswer, SendError> {
        let mut renew = false;
        loop {
            let token = self.wechat_token(channel, renew).await?;
            let response = call(token)?.send().await?;
            let status = response.status();
            if !status.is_success() {
                let after = crate::retry_after(response.headers());
                return Err(SendError::from_status(
                    status,
                    after,
                    format!("WeChat answered {status}"),
                ));
            }
            let answer: ApiAnswer = response
                .json()
                .await
                .map_err(|e| SendError::retry(format!("WeChat answered unreadably: {e}")))?;
            match answer.errcode {
                0 => return Ok(answer),
                code if token_expired(code) && !renew => renew = true,
                _ => return Err(refusal(&answer)),
            }
        }
    }
}

pub(crate) async fn send(
    platforms: &Platforms,
    channel: Channel<'_>,
    to: &str,
    message: &Outbound,
) -> Result<Sent, SendError> {
    let refused = |e: ChannelError| SendError::permanent(e.to_string());
    let send_url = platforms
        .url(&platforms.endpoints.wechat, "cgi-bin/message/custom/send")
        .map_err(refused)?;
    let body = match message {
        Outbound::Text(text) => json!({"touser": to, "msgtype": "text", "text": {"content": text}}),
        Outbound::File {
            kind,
            name,
            mime_type,
            content,
            ..
        } => {
            let kind = match kind {
                MediaKind::Image => "image",
                MediaKind::Audio => "voice",
                MediaKind::Video => "video",
                MediaKind::File => {
                    return Err(SendError::permanent(
                        "WeChat's customer-service messages take images, voice and video, not documents",
                    ))
                }
            };
            let upload_url = platforms
                .url(&platforms.endpoints.wechat, "cgi-bin/media/upload")
                .map_err(refused)?;
            let uploaded = platforms
                .wechat_call(channel, |token| {
                    let mut url = upload_url.clone();
                    url.query_pairs_mut()
                        .append_pair("access_token", &token)
                        .append_pair("type", kind);
                    let part = file_part(name, mime_type, content)?;
                    Ok(platforms
                        .http
                        .post(url)
                        .multipart(Form::new().part("media", part)))
                })
                .await?;
            let media_id = uploaded
                .media_id
                .ok_or_else(|| SendError::retry("WeChat gave no media_id for an upload"))?;
            json!({"touser": to, "msgtype": kind, kind: {"media_id": media_id}})
        }
    };
    platforms
        .wechat_call(channel, |token| {
            let mut url = send_url.clone();
            url.query_pairs_mut().append_pair("access_token", &token);
            Ok(platforms.http.post(url).json(&body))
        })
        .await?;
    Ok(Sent {
        platform_message_id: None,
    })
}

pub(crate) async fn fetch_media(
    platforms: &Platforms,
    channel: Channel<'_>,
    media_id: &str,
) -> Result<Media, ChannelError> {
    let token = platforms
        .wechat_token(channel, false)
        .await
        .map_err(|e| ChannelError::Platform(e.to_string()))?;
    let mut url = platforms.url(&platforms.endpoints.wechat, "cgi-bin/media/get")?;
    url.query_pairs_mut()
        .append_pair("access_token", &token)
        .append_pair("media_id", media_id);
    let response = platforms.http.get(url).send().await?;
    let is_json = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.contains("json") || t.starts_with("text/plain"));
    if is_json {
        let answer: ApiAnswer = response.json().await?;
        return Err(ChannelError::Platform(format!(
            "WeChat: {} (errcode {})",
            answer.errmsg, answer.errcode
        )));
    }
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
    use crate::Credentials;

    const AES_KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";

    fn run(method: &Method, query: &str, body: &str) -> Result<Accepted, ChannelError> {
        let config: ChannelConfig = serde_json::from_value(json!({
            "accessCode": "wx", "name": "wx", "type": "WECHAT", "calledRouteId": "1",
            "wechat": {"appId": "wx1234567890abcdef"}
        }))
        .unwrap();
        let credentials = Credentials::new(BTreeMap::from([
            ("token".into(), "wxtoken".into()),
            ("appSecret".into(), "wxsecret".into()),
            ("encodingAesKey".into(), AES_KEY.into()),
        ]));
        let headers = HeaderMap::new();
        accept(
            Channel {
                config: &config,
                credentials: &credentials,
            },
            &WebhookRequest {
                method,
                query,
                headers: &headers,
                body: body.as_bytes(),
            },
        )
    }

    fn signed_query(extra: &str) -> String {
        let mut parts = ["wxtoken", "1700000000", "n0nce"];
        parts.sort_unstable();
        format!(
            "signature={}&timestamp=1700000000&nonce=n0nce{extra}",
            sha1_hex(&parts.concat())
        )
    }

    #[test]
    fn the_url_check_echoes_echostr_when_signed() {
        let accepted = run(&Method::GET, &signed_query("&echostr=5837"), "").unwrap();
        assert_eq!(accepted.answer.body, "5837");
        let forged = "signature=00&timestamp=1700000000&nonce=n0nce&echostr=5837";
        assert!(matches!(
            run(&Method::GET, forged, ""),
            Err(ChannelError::Forbidden(_))
        ));
    }

    #[test]
    fn xml_messages_are_read_and_answered_success() {
        let text = "<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[oUser1]]></FromUserName>\
                    <CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType>\
                    <Content><![CDATA[你好 & welcome]]></Content><MsgId>23456789012345678</MsgId></xml>";
        let accepted = run(&Method::POST, &signed_query(""), text).unwrap();
        assert_eq!(accepted.answer.body, "success");
        assert_eq!(
            accepted.inbound,
            vec![Inbound {
                platform_id: "23456789012345678".into(),
                customer: PlatformUser {
                    external_id: "oUser1".into(),
                    name: String::new()
                },
                content: InboundContent::Text {
                    text: "你好 & welcome".into()
                },
            }]
        );
        let place = "<xml><FromUserName>oUser1</FromUserName><MsgType>location</MsgType>\
                     <Location_X>23.134521</Location_X><Location_Y>113.358803</Location_Y><Scale>20</Scale>\
                     <Label><![CDATA[Guangzhou]]></Label><MsgId>2</MsgId></xml>";
        let accepted = run(&Method::POST, &signed_query(""), place).unwrap();
        assert!(matches!(
            accepted.inbound[0].content,
            InboundContent::Location { .. }
        ));
        let follow = "<xml><FromUserName>oUser1</FromUserName><MsgType>event</MsgType><Event>subscribe</Event></xml>";
        assert!(run(&Method::POST, &signed_query(""), follow)
            .unwrap()
            .inbound
            .is_empty());
    }

    #[test]
    fn safe_mode_messages_are_checked_and_decrypted() {
        let inner = "<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[oUser1]]></FromUserName>\
                     <CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType>\
                     <Content><![CDATA[secret hello]]></Content><MsgId>77</MsgId></xml>";
        let encrypted = wechat_crypt::tests::encrypt(AES_KEY, inner, "wx1234567890abcdef");
        let body = format!("<xml><ToUserName><![CDATA[gh_1]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>");
        let signed = wechat_crypt::message_signature("wxtoken", "1700000000", "n0nce", &encrypted);
        let query = signed_query(&format!("&encrypt_type=aes&msg_signature={signed}"));
        let accepted = run(&Method::POST, &query, &body).unwrap();
        assert_eq!(
            accepted.inbound[0].content,
            InboundContent::Text {
                text: "secret hello".into()
            }
        );
        let forged = signed_query("&encrypt_type=aes&msg_signature=0000");
        assert!(matches!(
            run(&Method::POST, &forged, &body),
            Err(ChannelError::Forbidden(_))
        ));
    }
}
