//! A Telegram channel end to end, against the local fake of the Bot API: updates
//! delivered to the webhook (secret checked, repeats stored once, media fetched with
//! getFile) reach an agent, and the agent's replies reach sendMessage once each, through
//! rate limits, refusals and a restart.

use std::sync::Arc;

use reqwest::Method;
use serde_json::{json, Value};
use switchboard_server::ServerConfig;

use crate::agent::{agent, events, next_event, Socket};
use crate::platform_fake::Fake;
use crate::support::*;
use crate::webchat::setup;

const BOT_TOKEN: &str = "123456:ABCdefGhIJKlmNoPQRstuVWXyz0123456789";
const SECRET: &str = "hook-secret_42";

pub struct Platform {
    pub app: TestApp,
    pub fake: Fake,
    pub admin: Session,
    pub route: String,
}

/// A server whose platforms are the fake, a tenant with a staffed queue, its route.
pub async fn platform() -> Platform {
    platform_at(None).await
}

/// The same, with the public URL platforms reach the server at.
pub async fn platform_at(public_url: Option<&str>) -> Platform {
    let fake = Fake::start().await;
    let config = ServerConfig {
        platform_endpoints: fake.endpoints(),
        public_url: public_url.map(str::to_owned),
        ..ServerConfig::default()
    };
    let app = TestApp::start_with(config, Arc::new(switchboard_server::SystemClock)).await;
    let setup = setup(&app, json!({})).await;
    let routes = setup.admin.get("/api/v1/called-routes").await.expect(200);
    let route = routes["items"][0]["id"].as_str().unwrap().to_owned();
    Platform {
        app,
        fake,
        admin: setup.admin,
        route,
    }
}

impl Platform {
    /// Creates a channel; answers its id.
    pub async fn channel(&self, config: Value) -> String {
        let mut config = config;
        config["calledRouteId"] = json!(self.route);
        let created = self
            .admin
            .post("/api/v1/channels", config)
            .await
            .expect(201);
        created["channelConfigId"].as_str().unwrap().to_owned()
    }

    /// A signed-in agent of the queue with its event socket.
    pub async fn agent_on_duty(&self) -> (Session, Socket) {
        let setup = crate::webchat::Setup {
            tenant: String::new(),
            channel: String::new(),
            admin: self.admin.clone(),
        };
        let ann = agent(&self.app, &setup, "ann", 101).await;
        let socket = events(&self.app, &ann).await;
        ann.post("/api/v1/agent/sign-in", json!({}))
            .await
            .expect(200);
        (ann, socket)
    }

    /// Sends a request to a webhook as the platform would; answers status and body.
    pub async fn deliver(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, String)],
        body: Vec<u8>,
    ) -> (u16, String) {
        let client = reqwest::Client::new();
        let mut request = client.request(method, format!("{}{path}", self.app.base));
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let response = request.body(body).send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.text().await.unwrap())
    }

    /// The texts of the sends taken, in order.
    pub fn texts_sent(&self, pointer: &str) -> Vec<String> {
        self.fake
            .calls()
            .iter()
            .filter(|c| c.is_send() && c.taken)
            .filter_map(|c| {
                c.json()
                    .pointer(pointer)
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
            .collect()
    }
}

fn update(id: i64, message: Value) -> Vec<u8> {
    let mut message = message;
    message["message_id"] = json!(id);
    message["date"] = json!(1_700_000_000);
    message["chat"] = json!({"id": 4242, "type": "private", "first_name": "Ann"});
    message["from"] = json!({"id": 4242, "is_bot": false, "first_name": "Ann", "last_name": "Lee"});
    json!({"update_id": id, "message": message})
        .to_string()
        .into_bytes()
}

async fn telegram(platform: &Platform) -> String {
    platform
        .channel(
            json!({"accessCode": "TG", "name": "telegram", "type": "TELEGRAM",
            "telegram": {"botUsername": "shop_bot"},
            "secrets": {"botToken": BOT_TOKEN, "webhookSecret": SECRET}}),
        )
        .await
}

/// The customer's first message: stored before the agent was told of the conversation,
/// or announced to the agent after.
pub async fn first_customer_text(
    agent: &Session,
    socket: &mut Socket,
    conversation: &str,
) -> String {
    let messages = agent
        .get(&format!(
            "/api/v1/agent/conversations/{conversation}/messages"
        ))
        .await
        .expect(200);
    let stored = messages
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["sender"]["kind"] == "customer")
        .cloned();
    let message = match stored {
        Some(message) => message,
        None => next_event(socket, "message").await["message"].clone(),
    };
    message["content"]["text"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// The next message event carrying media; the customer's first text may still be
/// announced before it, as its event can follow the assignment.
pub async fn media_message(socket: &mut Socket) -> Value {
    loop {
        let heard = next_event(socket, "message").await;
        if heard["message"]["content"]["type"] != "text" {
            return heard;
        }
    }
}

/// The next `delivery` event reporting `state`.
pub async fn delivery_event(socket: &mut Socket, state: &str) -> Value {
    loop {
        let event = next_event(socket, "delivery").await;
        if event["delivery"]["state"] == state {
            return event;
        }
    }
}

/// An agent on duty, and the conversation a customer's first update (`message`) opens.
async fn conversation_from(
    platform: &Platform,
    channel: &str,
    message: Value,
) -> (Session, Socket, String) {
    let (ann, mut socket) = platform.agent_on_duty().await;
    let (status, _) = platform
        .deliver(
            Method::POST,
            &format!("/webhooks/telegram/{channel}"),
            &secret(SECRET),
            update(1, message),
        )
        .await;
    assert_eq!(status, 200);
    let assigned = next_event(&mut socket, "assigned").await;
    let conversation = assigned["conversation"]["id"].as_str().unwrap().to_owned();
    (ann, socket, conversation)
}

fn secret(value: &str) -> Vec<(&'static str, String)> {
    vec![("x-telegram-bot-api-secret-token", value.to_owned())]
}

/// What the scenarios every platform goes through (see `social`) leave out for Telegram:
/// the largest photo fetched with getFile, the customer's name, and a refusal that no
/// retry can help (a blocked bot) reported to the agent.
#[tokio::test]
async fn the_largest_photo_is_fetched_and_a_blocked_bot_is_reported_to_the_agent() {
    let platform = platform().await;
    let channel = telegram(&platform).await;
    let (ann, mut socket) = platform.agent_on_duty().await;
    let hook = format!("/webhooks/telegram/{channel}");
    let photo = update(
        9002,
        json!({"photo": [{"file_id": "AgAD-small", "file_unique_id": "s", "width": 90, "height": 90},
                          {"file_id": "AgAD-large", "file_unique_id": "l", "width": 800, "height": 800}],
               "caption": "my parcel"}),
    );
    let (status, _) = platform
        .deliver(Method::POST, &hook, &secret(SECRET), photo)
        .await;
    assert_eq!(status, 200);
    let assigned = next_event(&mut socket, "assigned").await;
    let conversation = assigned["conversation"]["id"].as_str().unwrap().to_owned();
    let messages = ann
        .get(&format!(
            "/api/v1/agent/conversations/{conversation}/messages"
        ))
        .await
        .expect(200);
    let mut from_customer: Vec<Value> = messages
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["sender"]["kind"] == "customer")
        .cloned()
        .collect();
    while from_customer.len() < 2 {
        from_customer.push(next_event(&mut socket, "message").await["message"].clone());
    }
    assert_eq!(from_customer[0]["content"]["type"], "image");
    assert_eq!(
        from_customer[1]["content"]["text"], "my parcel",
        "the caption follows the photo"
    );
    let get_file = platform
        .fake
        .calls()
        .into_iter()
        .find(|c| c.path.ends_with("/getFile"))
        .unwrap();
    assert_eq!(get_file.path, format!("/telegram/bot{BOT_TOKEN}/getFile"));
    assert_eq!(get_file.json()["file_id"], "AgAD-large");
    let panel = ann
        .get(&format!(
            "/api/v1/agent/conversations/{conversation}/customer"
        ))
        .await
        .expect(200);
    assert_eq!(panel["channelType"], "TELEGRAM");
    assert_eq!(panel["customer"]["name"], "Ann Lee");

    platform.fake.refuse_next(
        1,
        403,
        json!({"ok": false, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}),
    );
    let path = format!("/api/v1/agent/conversations/{conversation}/messages");
    let reply =
        json!({"clientMessageId": "a-3", "content": {"type": "text", "text": "Anything else?"}});
    ann.post(&path, reply).await.expect(200);
    let failed = delivery_event(&mut socket, "failed").await;
    assert_eq!(failed["delivery"]["conversationId"], conversation.as_str());
    assert!(
        failed["delivery"]["lastError"]
            .as_str()
            .unwrap()
            .contains("blocked by the user"),
        "{failed}"
    );
    let deliveries = ann
        .get(&format!(
            "/api/v1/agent/conversations/{conversation}/deliveries"
        ))
        .await
        .expect(200);
    let last = deliveries.as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["state"].as_str(), last["attempts"].as_u64()),
        (Some("failed"), Some(1)),
        "not tried again"
    );
}

#[tokio::test]
async fn the_webhook_is_registered_with_telegram_and_its_secret_created() {
    let platform = platform().await;
    let channel = platform
        .channel(
            json!({"accessCode": "TG", "name": "telegram", "type": "TELEGRAM",
            "secrets": {"botToken": BOT_TOKEN}}),
        )
        .await;
    let path = format!("/api/v1/channels/{channel}/telegram-webhook");
    platform
        .admin
        .post(&path, json!({}))
        .await
        .expect_error(422, "validation_failed", Some("url"));
    let url = format!("https://cc.example.com/webhooks/telegram/{channel}");
    let registered = platform
        .admin
        .post(&path, json!({"url": url}))
        .await
        .expect(200);
    assert_eq!(registered["url"], url.as_str());
    let call = platform
        .fake
        .calls()
        .into_iter()
        .find(|c| c.path.ends_with("/setWebhook"))
        .unwrap();
    let body = call.json();
    assert_eq!(body["url"], url.as_str());
    let secret_token = body["secret_token"].as_str().unwrap().to_owned();
    assert!(secret_token.len() >= 32);
    let stored = platform
        .admin
        .get(&format!("/api/v1/channels/{channel}"))
        .await
        .expect(200);
    assert!(stored["secretsSet"]
        .as_array()
        .unwrap()
        .contains(&json!("webhookSecret")));
    let (status, _) = platform
        .deliver(
            Method::POST,
            &format!("/webhooks/telegram/{channel}"),
            &secret(&secret_token),
            update(7, json!({"text": "hello"})),
        )
        .await;
    assert_eq!(status, 200, "the registered secret is the channel's");
}

/// A reply longer than Telegram's 4,096 characters goes in two messages; when the second
/// is refused, the retry sends only the second.
#[tokio::test]
async fn a_long_reply_goes_in_parts_and_a_retry_resumes_after_those_sent() {
    let platform = platform().await;
    let channel = telegram(&platform).await;
    let (ann, _socket, conversation) =
        conversation_from(&platform, &channel, json!({"text": "Tell me everything"})).await;
    platform
        .fake
        .wait_until("the connected notice", |calls| {
            calls.iter().any(|c| {
                c.taken
                    && c.json()["text"]
                        .as_str()
                        .is_some_and(|t| t.contains("connected to ann"))
            })
        })
        .await;
    platform.fake.take_next(1);
    platform.fake.refuse_next(
        1,
        429,
        json!({"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 1", "parameters": {"retry_after": 1}}),
    );
    let first = "a".repeat(4000);
    let second = "b".repeat(900);
    let long = format!("{first}\n{second}");
    let reply = json!({"clientMessageId": "long-1", "content": {"type": "text", "text": long}});
    ann.post(
        &format!("/api/v1/agent/conversations/{conversation}/messages"),
        reply,
    )
    .await
    .expect(200);
    let sends = platform.fake.wait_for_sent("/text", &second).await;
    assert_eq!(
        sends.iter().map(|c| c.taken).collect::<Vec<_>>(),
        [false, true],
        "the second part refused once, then taken"
    );
    let firsts = platform
        .texts_sent("/text")
        .into_iter()
        .filter(|t| *t == first)
        .count();
    assert_eq!(firsts, 1, "the first part is not sent again");
}

/// What breaks one of Switchboard's rules (a place off the globe) still reaches the
/// agent, as a text saying so, instead of being refused on every retry.
#[tokio::test]
async fn a_message_breaking_a_rule_is_kept_as_a_text_saying_so() {
    let platform = platform().await;
    let channel = telegram(&platform).await;
    let place = json!({"location": {"latitude": 95.0, "longitude": 10.0}});
    let (ann, mut socket, conversation) = conversation_from(&platform, &channel, place).await;
    let text = first_customer_text(&ann, &mut socket, &conversation).await;
    assert!(
        text.contains("could not be kept as sent") && text.contains("latitude"),
        "{text}"
    );
}
