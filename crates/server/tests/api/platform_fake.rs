//! A local stand-in for the messaging platforms' APIs, answering as each documents:
//! Telegram under `/telegram/`, the Graph API (Messenger, WhatsApp) under `/graph/`, LINE
//! under `/line/` and `/line-data/`, WeChat under `/wechat/`. It records every call, and
//! can be told to refuse the next sends (a rate limit, a blocked bot) before it takes
//! them again.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::{json, Value};
use tokio::sync::Notify;

/// A PNG image the fake serves for every media download.
pub const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89";
/// The WhatsApp business number the fake answers for.
pub const WHATSAPP_NUMBER: &str = "5550001";

#[derive(Debug, Clone)]
pub struct Call {
    pub path: String,
    pub query: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// Whether the fake took it (false: refused as scripted).
    pub taken: bool,
}

impl Call {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    pub fn is_send(&self) -> bool {
        is_send(&self.path)
    }
}

#[derive(Default)]
struct Shared {
    calls: Mutex<Vec<Call>>,
    /// How the next sends are answered: refused as given, or taken (`None`).
    refusals: Mutex<VecDeque<Option<(StatusCode, Value)>>>,
    changed: Notify,
}

pub struct Fake {
    pub base: url::Url,
    shared: Arc<Shared>,
}

fn is_send(path: &str) -> bool {
    [
        "/sendMessage",
        "/sendPhoto",
        "/sendDocument",
        "/messages",
        "/message/push",
        "/message/reply",
        "/custom/send",
    ]
    .iter()
    .any(|suffix| path.ends_with(suffix))
}

impl Fake {
    pub async fn start() -> Self {
        let shared = Arc::new(Shared::default());
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .unwrap();
        let address = listener.local_addr().unwrap();
        let base = url::Url::parse(&format!("http://{address}/")).unwrap();
        let app = Router::new()
            .fallback(answer)
            .with_state((shared.clone(), base.clone()));
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { base, shared }
    }

    pub fn endpoints(&self) -> switchboard_channels::Endpoints {
        switchboard_channels::Endpoints::all_at(&self.base).unwrap()
    }

    /// The next `count` sends are answered `status` with `body`.
    pub fn refuse_next(&self, count: usize, status: u16, body: Value) {
        let mut refusals = self.shared.refusals.lock().unwrap();
        for _ in 0..count {
            refusals.push_back(Some((StatusCode::from_u16(status).unwrap(), body.clone())));
        }
    }

    /// The next `count` sends are taken before any refusal queued after this.
    pub fn take_next(&self, count: usize) {
        let mut refusals = self.shared.refusals.lock().unwrap();
        refusals.extend(std::iter::repeat_n(None, count));
    }

    /// Takes sends again.
    pub fn stop_refusing(&self) {
        self.shared.refusals.lock().unwrap().clear();
    }

    pub fn calls(&self) -> Vec<Call> {
        self.shared.calls.lock().unwrap().clone()
    }

    /// Waits (at most 20 s) until the calls satisfy `done`, and answers them.
    pub async fn wait_until(&self, what: &str, done: impl Fn(&[Call]) -> bool) -> Vec<Call> {
        let waited = tokio::time::timeout(Duration::from_secs(20), async {
            loop {
                let changed = self.shared.changed.notified();
                let calls = self.calls();
                if done(&calls) {
                    return calls;
                }
                changed.await;
            }
        })
        .await;
        waited.unwrap_or_else(|_| panic!("the platform never saw {what}: {:#?}", self.calls()))
    }

    /// Waits until a send whose JSON `field` (a JSON pointer) is `value` was taken, and
    /// answers every send with that value, taken or refused.
    pub async fn wait_for_sent(&self, pointer: &str, value: &str) -> Vec<Call> {
        let matching = |call: &Call| {
            call.is_send() && call.json().pointer(pointer).and_then(Value::as_str) == Some(value)
        };
        let calls = self
            .wait_until(&format!("a send of {value}"), |calls| {
                calls.iter().any(|c| matching(c) && c.taken)
            })
            .await;
        calls.into_iter().filter(matching).collect()
    }
}

/// The query of the `count`th call.
fn call_query(shared: &Shared, count: usize) -> String {
    shared.calls.lock().unwrap()[count - 1].query.clone()
}

async fn answer(
    State((shared, base)): State<(Arc<Shared>, url::Url)>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    let refusal = if is_send(&path) {
        shared.refusals.lock().unwrap().pop_front().flatten()
    } else {
        None
    };
    let call = Call {
        path: path.clone(),
        query: uri.query().unwrap_or_default().to_owned(),
        headers,
        body,
        taken: refusal.is_none(),
    };
    let count = {
        let mut calls = shared.calls.lock().unwrap();
        calls.push(call);
        calls.len()
    };
    shared.changed.notify_waiters();
    if let Some((status, body)) = refusal {
        let mut response = (status, axum::Json(body.clone())).into_response();
        if let Some(after) = body
            .pointer("/parameters/retry_after")
            .and_then(Value::as_u64)
        {
            response
                .headers_mut()
                .insert("retry-after", after.to_string().parse().unwrap());
        }
        return response;
    }
    let json = |value: Value| axum::Json(value).into_response();
    let image = || ([("content-type", "image/png")], PNG).into_response();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match segments.as_slice() {
        ["telegram", "file", _, ..] => image(),
        ["telegram", _, "getFile"] => json(
            json!({"ok": true, "result": {"file_id": "f", "file_unique_id": "u", "file_size": PNG.len(), "file_path": "photos/file_1.png"}}),
        ),
        ["telegram", _, "setWebhook"] => {
            json(json!({"ok": true, "result": true, "description": "Webhook was set"}))
        }
        ["telegram", _, _] => json(
            json!({"ok": true, "result": {"message_id": count, "date": 1_700_000_000, "chat": {"id": 1, "type": "private"}}}),
        ),
        ["graph", number, "messages"] if *number == WHATSAPP_NUMBER => json(
            json!({"messaging_product": "whatsapp", "contacts": [{"input": "x", "wa_id": "x"}], "messages": [{"id": format!("wamid.{count}")}]}),
        ),
        ["graph", _, "messages"] => {
            json(json!({"recipient_id": "PSID", "message_id": format!("m_{count}")}))
        }
        ["graph", "media-content", _] => image(),
        ["graph", _] if call_query(&shared, count).contains("fields=") => {
            json(json!({"first_name": "Pat", "last_name": "Doe", "id": "PSID"}))
        }
        ["graph", media] => json(
            json!({"url": base.join(&format!("graph/media-content/{media}")).unwrap().to_string(), "mime_type": "image/png", "id": media}),
        ),
        ["line", "v2", "bot", "profile", user] => json(
            json!({"displayName": "Lin", "userId": user, "pictureUrl": "https://profile.line-scdn.net/x"}),
        ),
        ["line", "v2", "bot", "message", _] => {
            json(json!({"sentMessages": [{"id": count.to_string(), "quoteToken": "q"}]}))
        }
        ["line-data", ..] => image(),
        ["wechat", "cgi-bin", "token"] => {
            json(json!({"access_token": format!("ACCESS{count}"), "expires_in": 7200}))
        }
        ["wechat", "cgi-bin", "media", "get"] => image(),
        ["wechat", ..] => json(json!({"errcode": 0, "errmsg": "ok"})),
        _ => (StatusCode::NOT_FOUND, "no such fake endpoint").into_response(),
    }
}
