//! Every messaging platform through the same two scenarios, against the local fake that
//! speaks its documented protocol: (1) handshake, forged and valid signatures, a
//! repeated delivery stored once, a text and an image reaching the agent, a reply
//! reaching the platform's send endpoint once, a rate limit followed by success; (2) a
//! backlog of replies held back by the platform, the server restarted in the middle, and
//! everything delivered once, in order.

use base64::Engine;
use hmac::{Hmac, Mac};
use reqwest::Method;
use serde_json::{json, Value};
use sha1::{Digest, Sha1};
use sha2::Sha256;

use crate::agent::next_event;
use crate::platform_fake::{Call, PNG, WHATSAPP_NUMBER};
use crate::telegram::{
    delivery_event, first_customer_text, media_message, platform, platform_at, Platform,
};

/// A request as a platform sends it.
#[derive(Clone)]
pub struct Delivery {
    method: Method,
    query: String,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

impl Delivery {
    fn post(headers: Vec<(&'static str, String)>, body: Vec<u8>) -> Self {
        Self {
            method: Method::POST,
            query: String::new(),
            headers,
            body,
        }
    }
}

/// What differs between platforms.
trait Driver {
    /// The type in webhook paths.
    fn kind(&self) -> &'static str;
    fn channel(&self) -> Value;
    /// A subscription handshake and the body that must come back, if the platform has one.
    fn handshake(&self) -> Option<(Delivery, String)>;
    fn text(&self, id: u32, text: &str) -> Delivery;
    fn image(&self, id: u32, fake: &url::Url) -> Delivery;
    /// The same delivery (or handshake) with its signature or token no longer matching.
    fn forge(&self, delivery: Delivery) -> Delivery;
    /// Where a sent text is in the body of a send.
    fn text_pointer(&self) -> &'static str;
    /// How the platform says "too many requests".
    fn rate_limited(&self) -> (u16, Value);
    /// Checks that a send went to the customer with the channel's credentials.
    fn check_send(&self, call: &Call);
    /// The customer's name as the agent sees it.
    fn customer_name(&self) -> &'static str;
}

fn hmac256(key: &[u8], body: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(body);
    mac.finalize().into_bytes().to_vec()
}

fn header<'a>(call: &'a Call, name: &str) -> &'a str {
    call.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

async fn deliver(
    platform: &Platform,
    driver: &dyn Driver,
    channel: &str,
    delivery: Delivery,
) -> (u16, String) {
    let mut path = format!("/webhooks/{}/{channel}", driver.kind());
    if !delivery.query.is_empty() {
        path = format!("{path}?{}", delivery.query);
    }
    platform
        .deliver(delivery.method, &path, &delivery.headers, delivery.body)
        .await
}

async fn round_trip(driver: &dyn Driver) {
    let platform = platform().await;
    let channel = platform.channel(driver.channel()).await;
    let (ann, mut socket) = platform.agent_on_duty().await;

    if let Some((handshake, expected)) = driver.handshake() {
        let (status, body) = deliver(&platform, driver, &channel, handshake.clone()).await;
        assert_eq!((status, body), (200, expected), "the handshake");
        let (status, _) = deliver(&platform, driver, &channel, driver.forge(handshake)).await;
        assert_eq!(status, 403, "a handshake with the wrong token or signature");
    }
    let hello = driver.text(1, "Where is my parcel?");
    let (status, _) = deliver(&platform, driver, &channel, driver.forge(hello.clone())).await;
    assert_eq!(status, 403, "a forged signature");
    for _ in 0..2 {
        let (status, _) = deliver(&platform, driver, &channel, hello.clone()).await;
        assert_eq!(status, 200, "first and repeated delivery");
    }
    let assigned = next_event(&mut socket, "assigned").await;
    let conversation = assigned["conversation"]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        first_customer_text(&ann, &mut socket, &conversation).await,
        "Where is my parcel?"
    );

    let (status, _) = deliver(
        &platform,
        driver,
        &channel,
        driver.image(2, &platform.fake.base),
    )
    .await;
    assert_eq!(status, 200);
    let heard = media_message(&mut socket).await;
    assert_eq!(heard["message"]["content"]["type"], "image", "{heard}");
    let file_id = heard["message"]["content"]["fileId"].as_str().unwrap();
    let download = reqwest::Client::new()
        .get(format!(
            "{}/api/v1/agent/conversations/{conversation}/files/{file_id}",
            platform.app.base
        ))
        .bearer_auth(ann.token.as_deref().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(download.bytes().await.unwrap().as_ref(), PNG);
    let messages = ann
        .get(&format!(
            "/api/v1/agent/conversations/{conversation}/messages"
        ))
        .await
        .expect(200);
    let from_customer = messages
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["sender"]["kind"] == "customer")
        .count();
    assert_eq!(from_customer, 2, "the repeated delivery is stored once");
    let panel = ann
        .get(&format!(
            "/api/v1/agent/conversations/{conversation}/customer"
        ))
        .await
        .expect(200);
    assert_eq!(panel["customer"]["name"], driver.customer_name());

    let path = format!("/api/v1/agent/conversations/{conversation}/messages");
    let reply = |client: &str, text: &str| json!({"clientMessageId": client, "content": {"type": "text", "text": text}});
    ann.post(&path, reply("a-1", "On its way!"))
        .await
        .expect(200);
    ann.post(&path, reply("a-1", "On its way!"))
        .await
        .expect(200);
    let sends = platform
        .fake
        .wait_for_sent(driver.text_pointer(), "On its way!")
        .await;
    assert_eq!(sends.len(), 1, "sent once: {sends:?}");
    driver.check_send(&sends[0]);

    let (status, refusal) = driver.rate_limited();
    platform.fake.refuse_next(1, status, refusal);
    ann.post(&path, reply("a-2", "Tracking: 1Z999"))
        .await
        .expect(200);
    let sends = platform
        .fake
        .wait_for_sent(driver.text_pointer(), "Tracking: 1Z999")
        .await;
    assert_eq!(
        sends.iter().map(|c| c.taken).collect::<Vec<_>>(),
        [false, true],
        "refused, then taken once"
    );
    loop {
        let sent = delivery_event(&mut socket, "sent").await;
        if sent["delivery"]["attempts"] == 2 {
            break;
        }
    }
    let deliveries = ann
        .get(&format!(
            "/api/v1/agent/conversations/{conversation}/deliveries"
        ))
        .await
        .expect(200);
    assert!(
        deliveries
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["state"] == "sent"),
        "{deliveries}"
    );
}

async fn backlog_across_restart(driver: &dyn Driver) {
    let mut platform = platform().await;
    let channel = platform.channel(driver.channel()).await;
    let (ann, mut socket) = platform.agent_on_duty().await;
    let (status, _) = deliver(&platform, driver, &channel, driver.text(1, "hi")).await;
    assert_eq!(status, 200);
    let assigned = next_event(&mut socket, "assigned").await;
    let conversation = assigned["conversation"]["id"].as_str().unwrap().to_owned();
    let pointer = driver.text_pointer();
    platform
        .fake
        .wait_until("the connected notice", |calls| {
            calls.iter().any(|c| {
                c.taken
                    && c.json()
                        .pointer(pointer)
                        .and_then(Value::as_str)
                        .is_some_and(|t| t.contains("connected to ann"))
            })
        })
        .await;
    let (status, refusal) = driver.rate_limited();
    platform.fake.refuse_next(1000, status, refusal);
    let path = format!("/api/v1/agent/conversations/{conversation}/messages");
    let texts: Vec<String> = (1..=5).map(|i| format!("backlog {i}")).collect();
    for (i, text) in texts.iter().enumerate() {
        let body =
            json!({"clientMessageId": format!("b-{i}"), "content": {"type": "text", "text": text}});
        ann.post(&path, body).await.expect(200);
    }
    platform
        .fake
        .wait_until("a refused first attempt", |calls| {
            calls.iter().any(|c| {
                !c.taken && c.json().pointer(pointer).and_then(Value::as_str) == Some("backlog 1")
            })
        })
        .await;
    drop(socket);
    platform.app.restart().await;
    platform.fake.stop_refusing();
    platform.fake.wait_for_sent(pointer, "backlog 5").await;
    let sent: Vec<String> = platform
        .texts_sent(pointer)
        .into_iter()
        .filter(|t| t.starts_with("backlog"))
        .collect();
    assert_eq!(sent, texts, "each once, in order");
}

struct Telegram;

impl Driver for Telegram {
    fn customer_name(&self) -> &'static str {
        "Ann"
    }
    fn kind(&self) -> &'static str {
        "telegram"
    }
    fn channel(&self) -> Value {
        json!({"accessCode": "TG", "name": "telegram", "type": "TELEGRAM",
            "secrets": {"botToken": "123456:ABCdefGhIJKlmNoPQRstuVWXyz0123456789", "webhookSecret": "hook-secret"}})
    }
    fn handshake(&self) -> Option<(Delivery, String)> {
        None
    }
    fn text(&self, id: u32, text: &str) -> Delivery {
        self.update(id, json!({"text": text}), "hook-secret")
    }
    fn image(&self, id: u32, _: &url::Url) -> Delivery {
        self.update(
            id,
            json!({"photo": [{"file_id": "AgAD", "file_unique_id": "u", "width": 1, "height": 1}]}),
            "hook-secret",
        )
    }
    fn forge(&self, delivery: Delivery) -> Delivery {
        Delivery {
            headers: vec![("x-telegram-bot-api-secret-token", "guess".into())],
            ..delivery
        }
    }
    fn text_pointer(&self) -> &'static str {
        "/text"
    }
    fn rate_limited(&self) -> (u16, Value) {
        (
            429,
            json!({"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 1", "parameters": {"retry_after": 1}}),
        )
    }
    fn check_send(&self, call: &Call) {
        assert_eq!(call.json()["chat_id"], 4242);
    }
}

impl Telegram {
    fn update(&self, id: u32, message: Value, secret: &str) -> Delivery {
        let mut message = message;
        message["message_id"] = json!(id);
        message["date"] = json!(1_700_000_000);
        message["chat"] = json!({"id": 4242, "type": "private", "first_name": "Ann"});
        message["from"] = json!({"id": 4242, "is_bot": false, "first_name": "Ann"});
        let body = json!({"update_id": 1000 + id, "message": message});
        Delivery::post(
            vec![("x-telegram-bot-api-secret-token", secret.into())],
            body.to_string().into_bytes(),
        )
    }
}

/// Facebook Messenger and WhatsApp: Meta's handshake and `X-Hub-Signature-256`.
fn meta_signed(body: Value) -> Delivery {
    let body = body.to_string().into_bytes();
    let signature = format!("sha256={}", hex::encode(hmac256(b"app-secret", &body)));
    Delivery::post(vec![("x-hub-signature-256", signature)], body)
}

fn meta_handshake() -> Option<(Delivery, String)> {
    let delivery = Delivery {
        method: Method::GET,
        query: "hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=1158201444".into(),
        headers: Vec::new(),
        body: Vec::new(),
    };
    Some((delivery, "1158201444".into()))
}

/// A body that no longer matches its signature, or a handshake with the wrong token.
fn meta_forge(delivery: Delivery) -> Delivery {
    let mut body = delivery.body.clone();
    body.extend_from_slice(b" ");
    Delivery {
        body,
        query: delivery.query.replace("verify-me", "guess"),
        ..delivery
    }
}

struct Facebook;

impl Facebook {
    fn event(&self, message: Value) -> Delivery {
        meta_signed(
            json!({"object": "page", "entry": [{"id": "111", "time": 1, "messaging": [
            {"sender": {"id": "PSID42"}, "recipient": {"id": "111"}, "timestamp": 1, "message": message}]}]}),
        )
    }
}

impl Driver for Facebook {
    fn customer_name(&self) -> &'static str {
        "Pat Doe"
    }
    fn kind(&self) -> &'static str {
        "facebook"
    }
    fn channel(&self) -> Value {
        json!({"accessCode": "FB", "name": "messenger", "type": "FACEBOOK",
            "facebook": {"appId": "7777", "pages": [{"pageId": "111", "name": "Shop"}]},
            "secrets": {"appSecret": "app-secret", "verifyToken": "verify-me", "pageTokens": {"111": "page-token"}}})
    }
    fn handshake(&self) -> Option<(Delivery, String)> {
        meta_handshake()
    }
    fn text(&self, id: u32, text: &str) -> Delivery {
        self.event(json!({"mid": format!("m_{id}"), "text": text}))
    }
    fn image(&self, id: u32, fake: &url::Url) -> Delivery {
        let url = fake.join("graph/media-content/photo").unwrap();
        self.event(json!({"mid": format!("m_{id}"),
            "attachments": [{"type": "image", "payload": {"url": url.to_string()}}]}))
    }
    fn forge(&self, delivery: Delivery) -> Delivery {
        meta_forge(delivery)
    }
    fn text_pointer(&self) -> &'static str {
        "/message/text"
    }
    fn rate_limited(&self) -> (u16, Value) {
        (
            400,
            json!({"error": {"message": "(#613) Calls to this api have exceeded the rate limit.", "type": "OAuthException", "code": 613, "fbtrace_id": "A"}}),
        )
    }
    fn check_send(&self, call: &Call) {
        assert_eq!(call.path, "/graph/111/messages");
        assert!(
            call.query.contains("access_token=page-token"),
            "{}",
            call.query
        );
        assert_eq!(call.json()["recipient"]["id"], "PSID42");
        assert_eq!(call.json()["messaging_type"], "RESPONSE");
    }
}

struct Whatsapp;

impl Whatsapp {
    fn message(&self, message: Value) -> Delivery {
        meta_signed(
            json!({"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [
            {"field": "messages", "value": {"messaging_product": "whatsapp",
                "metadata": {"display_phone_number": "15550001", "phone_number_id": WHATSAPP_NUMBER},
                "contacts": [{"profile": {"name": "Bo"}, "wa_id": "4915112345"}],
                "messages": [message]}}]}]}),
        )
    }
}

impl Driver for Whatsapp {
    fn customer_name(&self) -> &'static str {
        "Bo"
    }
    fn kind(&self) -> &'static str {
        "whatsapp"
    }
    fn channel(&self) -> Value {
        json!({"accessCode": "WA", "name": "whatsapp", "type": "WHATSAPP",
            "whatsapp": {"appId": "8888", "phoneNumberId": WHATSAPP_NUMBER},
            "secrets": {"appSecret": "app-secret", "verifyToken": "verify-me", "accessToken": "wa-token"}})
    }
    fn handshake(&self) -> Option<(Delivery, String)> {
        meta_handshake()
    }
    fn text(&self, id: u32, text: &str) -> Delivery {
        self.message(
            json!({"from": "4915112345", "id": format!("wamid.IN{id}"), "timestamp": "1",
            "type": "text", "text": {"body": text}}),
        )
    }
    fn image(&self, id: u32, _: &url::Url) -> Delivery {
        self.message(
            json!({"from": "4915112345", "id": format!("wamid.IN{id}"), "timestamp": "1",
            "type": "image", "image": {"id": "MEDIA1", "mime_type": "image/png", "sha256": "x"}}),
        )
    }
    fn forge(&self, delivery: Delivery) -> Delivery {
        meta_forge(delivery)
    }
    fn text_pointer(&self) -> &'static str {
        "/text/body"
    }
    fn rate_limited(&self) -> (u16, Value) {
        (
            429,
            json!({"error": {"message": "(#130429) Rate limit hit", "type": "OAuthException", "code": 130429, "fbtrace_id": "B"}}),
        )
    }
    fn check_send(&self, call: &Call) {
        assert_eq!(call.path, format!("/graph/{WHATSAPP_NUMBER}/messages"));
        assert_eq!(header(call, "authorization"), "Bearer wa-token");
        let body = call.json();
        assert_eq!(
            (body["to"].as_str(), body["messaging_product"].as_str()),
            (Some("4915112345"), Some("whatsapp"))
        );
    }
}

struct Line;

impl Line {
    fn event(&self, id: u32, message: Value) -> Delivery {
        let body = json!({"destination": "U0", "events": [{"type": "message", "mode": "active",
            "timestamp": 1, "webhookEventId": format!("01HEVENT{id}"), "deliveryContext": {"isRedelivery": false},
            "replyToken": format!("reply-{id}"), "source": {"type": "user", "userId": "U4af4980629"},
            "message": message}]})
        .to_string()
        .into_bytes();
        let signature =
            base64::engine::general_purpose::STANDARD.encode(hmac256(b"line-secret", &body));
        Delivery::post(vec![("x-line-signature", signature)], body)
    }
}

impl Driver for Line {
    fn customer_name(&self) -> &'static str {
        "Lin"
    }
    fn kind(&self) -> &'static str {
        "line"
    }
    fn channel(&self) -> Value {
        json!({"accessCode": "LN", "name": "line", "type": "LINE",
            "line": {"lineChannelId": "2000000001"},
            "secrets": {"channelSecret": "line-secret", "channelAccessToken": "line-token"}})
    }
    fn handshake(&self) -> Option<(Delivery, String)> {
        let body = br#"{"destination":"U0","events":[]}"#.to_vec();
        let signature =
            base64::engine::general_purpose::STANDARD.encode(hmac256(b"line-secret", &body));
        Some((
            Delivery::post(vec![("x-line-signature", signature)], body),
            String::new(),
        ))
    }
    fn text(&self, id: u32, text: &str) -> Delivery {
        self.event(
            id,
            json!({"id": format!("{id}00"), "type": "text", "quoteToken": "q", "text": text}),
        )
    }
    fn image(&self, id: u32, _: &url::Url) -> Delivery {
        self.event(
            id,
            json!({"id": format!("{id}00"), "type": "image", "quoteToken": "q",
            "contentProvider": {"type": "line"}}),
        )
    }
    fn forge(&self, delivery: Delivery) -> Delivery {
        Delivery {
            headers: vec![("x-line-signature", "AAAA".into())],
            ..delivery
        }
    }
    fn text_pointer(&self) -> &'static str {
        "/messages/0/text"
    }
    fn rate_limited(&self) -> (u16, Value) {
        (
            429,
            json!({"message": "The API rate limit has been exceeded. Try again later."}),
        )
    }
    fn check_send(&self, call: &Call) {
        assert_eq!(header(call, "authorization"), "Bearer line-token");
        let body = call.json();
        if call.path.ends_with("/push") {
            assert_eq!(body["to"], "U4af4980629");
            assert_eq!(header(call, "x-line-retry-key").len(), 36);
        } else {
            assert!(body["replyToken"].as_str().unwrap().starts_with("reply-"));
        }
    }
}

struct Wechat;

impl Wechat {
    fn signed_query() -> String {
        let mut parts = ["wxtoken", "1700000000", "n0nce"];
        parts.sort_unstable();
        let signature = hex::encode(Sha1::digest(parts.concat().as_bytes()));
        format!("signature={signature}&timestamp=1700000000&nonce=n0nce&openid=oUser1")
    }

    fn xml(&self, id: u32, fields: &str) -> Delivery {
        let body = format!(
            "<xml><ToUserName><![CDATA[gh_shop]]></ToUserName><FromUserName><![CDATA[oUser1]]></FromUserName>\
             <CreateTime>1700000000</CreateTime>{fields}<MsgId>{}</MsgId></xml>",
            24_000_000_000_000_000u64 + u64::from(id)
        );
        Delivery {
            method: Method::POST,
            query: Self::signed_query(),
            headers: vec![("content-type", "text/xml".into())],
            body: body.into_bytes(),
        }
    }
}

impl Driver for Wechat {
    fn customer_name(&self) -> &'static str {
        "WeChat user …oUser1"
    }
    fn kind(&self) -> &'static str {
        "wechat"
    }
    fn channel(&self) -> Value {
        json!({"accessCode": "WX", "name": "wechat", "type": "WECHAT",
            "wechat": {"appId": "wx1234567890abcdef"},
            "secrets": {"appSecret": "wxsecret", "token": "wxtoken"}})
    }
    fn handshake(&self) -> Option<(Delivery, String)> {
        let delivery = Delivery {
            method: Method::GET,
            query: format!("{}&echostr=5837397520", Self::signed_query()),
            headers: Vec::new(),
            body: Vec::new(),
        };
        Some((delivery, "5837397520".into()))
    }
    fn text(&self, id: u32, text: &str) -> Delivery {
        self.xml(
            id,
            &format!("<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{text}]]></Content>"),
        )
    }
    fn image(&self, id: u32, fake: &url::Url) -> Delivery {
        let picture = fake.join("wechat/picture").unwrap();
        self.xml(
            id,
            &format!("<MsgType><![CDATA[image]]></MsgType><PicUrl><![CDATA[{picture}]]></PicUrl><MediaId><![CDATA[media_1]]></MediaId>"),
        )
    }
    fn forge(&self, delivery: Delivery) -> Delivery {
        Delivery {
            query: delivery.query.replace("n0nce", "other"),
            ..delivery
        }
    }
    fn text_pointer(&self) -> &'static str {
        "/text/content"
    }
    fn rate_limited(&self) -> (u16, Value) {
        (200, json!({"errcode": -1, "errmsg": "system error"}))
    }
    fn check_send(&self, call: &Call) {
        assert_eq!(call.path, "/wechat/cgi-bin/message/custom/send");
        assert!(
            call.query.starts_with("access_token=ACCESS"),
            "{}",
            call.query
        );
        assert_eq!(call.json()["touser"], "oUser1");
        assert_eq!(call.json()["msgtype"], "text");
    }
}

/// LINE takes images only by URL: the server hands it a signed link under its public
/// URL, which serves the file to LINE and nothing to a link altered.
#[tokio::test]
async fn line_fetches_an_agents_image_from_a_signed_public_link() {
    const PUBLIC: &str = "https://cc.example.com";
    let platform = platform_at(Some(PUBLIC)).await;
    let channel = platform.channel(Line.channel()).await;
    let (ann, mut socket) = platform.agent_on_duty().await;
    let (status, _) = deliver(&platform, &Line, &channel, Line.text(1, "A photo?")).await;
    assert_eq!(status, 200);
    let assigned = next_event(&mut socket, "assigned").await;
    let conversation = assigned["conversation"]["id"].as_str().unwrap().to_owned();
    let stored = ann
        .post_raw(
            &format!("/api/v1/agent/conversations/{conversation}/files?name=label.png"),
            "image/png",
            PNG.to_vec(),
        )
        .await
        .expect(200);
    let image = json!({"clientMessageId": "img-1", "content": {"type": "image", "fileId": stored["fileId"], "name": "label.png"}});
    ann.post(
        &format!("/api/v1/agent/conversations/{conversation}/messages"),
        image,
    )
    .await
    .expect(200);
    let sends = platform
        .fake
        .wait_until("an image message", |calls| {
            calls
                .iter()
                .any(|c| c.taken && c.json().pointer("/messages/0/type") == Some(&json!("image")))
        })
        .await;
    let sent = sends
        .iter()
        .find(|c| c.json().pointer("/messages/0/type") == Some(&json!("image")))
        .unwrap()
        .json();
    let link = sent["messages"][0]["originalContentUrl"].as_str().unwrap();
    assert!(link.starts_with(&format!("{PUBLIC}/files/")), "{link}");
    let local = link.replace(PUBLIC, &platform.app.base);
    let fetched = reqwest::get(&local).await.unwrap();
    assert_eq!(fetched.status(), 200);
    assert_eq!(fetched.bytes().await.unwrap().as_ref(), PNG);
    let altered = local.replace("signature=", "signature=0");
    assert_eq!(reqwest::get(&altered).await.unwrap().status(), 404);
}

macro_rules! platform_tests {
    ($($name:ident: $driver:expr),* $(,)?) => {
        $(mod $name {
            use super::*;

            #[tokio::test]
            async fn inbound_reaches_an_agent_once_and_replies_the_platform_once() {
                round_trip(&$driver).await;
            }

            #[tokio::test]
            async fn a_backlog_of_replies_is_delivered_once_in_order_across_a_restart() {
                backlog_across_restart(&$driver).await;
            }
        })*
    };
}

platform_tests!(
    telegram: Telegram,
    facebook: Facebook,
    whatsapp: Whatsapp,
    line: Line,
    wechat: Wechat,
);
