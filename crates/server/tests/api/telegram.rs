//! A Telegram channel end to end, against the local fake of the Bot API: updates
//! delivered to the webhook (secret checked, repeats stored once, media fetched with
//! getFile) reach an agent, and the agent's replies reach sendMessage once each, through
//! rate limits, refusals and a restart.

use std::sync::Arc;

use reqwest::Method;
use serde_json::{json, Value};
use switchboard_server::ServerConfig;

use crate::agent::{agent, events, next_event, Socket};
use crate::platform_fake::{Fake, PNG};
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
    let fake = Fake::start().await;
    let config = ServerConfig {
        platform_endpoints: fake.endpoints(),
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

fn secret(value: &str) -> Vec<(&'static str, String)> {
    vec![("x-telegram-bot-api-secret-token", value.to_owned())]
}

#[tokio::test]
async fn telegram_updates_reach_an_agent_once_and_replies_reach_telegram_once() {
    let platform = platform().await;
    let channel = telegram(&platform).await;
    let (ann, mut socket) = platform.agent_on_duty().await;
    let hook = format!("/webhooks/telegram/{channel}");
    let hello = update(9001, json!({"text": "Where is my parcel?"}));

    let (status, _) = platform
        .deliver(Method::POST, &hook, &[], hello.clone())
        .await;
    assert_eq!(status, 403, "no secret token");
    let (status, _) = platform
        .deliver(Method::POST, &hook, &secret("guess"), hello.clone())
        .await;
    assert_eq!(status, 403, "a wrong secret token");
    for _ in 0..2 {
        let (status, _) = platform
            .deliver(Method::POST, &hook, &secret(SECRET), hello.clone())
            .await;
        assert_eq!(status, 200, "first and repeated delivery");
    }
    let assigned = next_event(&mut socket, "assigned").await;
    let conversation = assigned["conversation"]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        first_customer_text(&ann, &mut socket, &conversation).await,
        "Where is my parcel?"
    );

    let photo = update(
        9002,
        json!({"photo": [{"file_id": "AgAD-small", "file_unique_id": "s", "width": 90, "height": 90},
                          {"file_id": "AgAD-large", "file_unique_id": "l", "width": 800, "height": 800}]}),
    );
    let (status, _) = platform
        .deliver(Method::POST, &hook, &secret(SECRET), photo)
        .await;
    assert_eq!(status, 200);
    let heard = next_event(&mut socket, "message").await;
    assert_eq!(heard["message"]["content"]["type"], "image");
    let file_id = heard["message"]["content"]["fileId"].as_str().unwrap();
    let get_file = platform
        .fake
        .calls()
        .into_iter()
        .find(|c| c.path.ends_with("/getFile"))
        .unwrap();
    assert_eq!(get_file.path, format!("/telegram/bot{BOT_TOKEN}/getFile"));
    assert_eq!(get_file.json()["file_id"], "AgAD-large");
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
    assert_eq!(from_customer, 2, "the repeated update is stored once");
    let panel = ann
        .get(&format!(
            "/api/v1/agent/conversations/{conversation}/customer"
        ))
        .await
        .expect(200);
    assert_eq!(panel["channelType"], "TELEGRAM");
    assert_eq!(panel["customer"]["name"], "Ann Lee");

    let reply = |client: &str, text: &str| json!({"clientMessageId": client, "content": {"type": "text", "text": text}});
    let path = format!("/api/v1/agent/conversations/{conversation}/messages");
    ann.post(&path, reply("a-1", "On its way!"))
        .await
        .expect(200);
    ann.post(&path, reply("a-1", "On its way!"))
        .await
        .expect(200);
    let sends = platform.fake.wait_for_sent("/text", "On its way!").await;
    assert_eq!(sends.len(), 1, "sent once: {sends:?}");
    assert_eq!(sends[0].json()["chat_id"], 4242);
    assert_eq!(
        sends[0].path,
        format!("/telegram/bot{BOT_TOKEN}/sendMessage")
    );

    platform.fake.refuse_next(
        1,
        429,
        json!({"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 1", "parameters": {"retry_after": 1}}),
    );
    ann.post(&path, reply("a-2", "Tracking: 1Z999"))
        .await
        .expect(200);
    let sends = platform
        .fake
        .wait_for_sent("/text", "Tracking: 1Z999")
        .await;
    assert_eq!(
        sends.iter().map(|c| c.taken).collect::<Vec<_>>(),
        [false, true],
        "refused with 429, then taken once"
    );

    platform.fake.refuse_next(
        1,
        403,
        json!({"ok": false, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}),
    );
    ann.post(&path, reply("a-3", "Anything else?"))
        .await
        .expect(200);
    let failed = next_event(&mut socket, "deliveryFailed").await;
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
        (Some("failed"), Some(1))
    );
    let tracking = deliveries
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["attempts"] == 2)
        .unwrap();
    assert_eq!(tracking["state"], "sent");
}

#[tokio::test]
async fn an_outbox_backlog_is_delivered_once_in_order_across_a_restart() {
    let mut platform = platform().await;
    let channel = telegram(&platform).await;
    let (ann, mut socket) = platform.agent_on_duty().await;
    let hook = format!("/webhooks/telegram/{channel}");
    let (status, _) = platform
        .deliver(
            Method::POST,
            &hook,
            &secret(SECRET),
            update(1, json!({"text": "hi"})),
        )
        .await;
    assert_eq!(status, 200);
    let assigned = next_event(&mut socket, "assigned").await;
    let conversation = assigned["conversation"]["id"].as_str().unwrap().to_owned();
    // The notices so far went out; from now on Telegram asks to slow down.
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
    platform.fake.refuse_next(
        1000,
        429,
        json!({"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 1", "parameters": {"retry_after": 1}}),
    );
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
            calls
                .iter()
                .any(|c| !c.taken && c.json()["text"] == "backlog 1")
        })
        .await;
    drop(socket);
    platform.app.restart().await;
    platform.fake.stop_refusing();
    platform.fake.wait_for_sent("/text", "backlog 5").await;
    let sent: Vec<String> = platform
        .texts_sent("/text")
        .into_iter()
        .filter(|t| t.starts_with("backlog"))
        .collect();
    assert_eq!(sent, texts, "each once, in order");
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
