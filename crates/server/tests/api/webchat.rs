use std::net::SocketAddr;

use axum::routing::post;
use axum::{Json, Router};
use reqwest::header::{HeaderMap, ORIGIN};
use serde_json::{json, Value};
use switchboard_domain::auth_v2::{format_timestamp, sign, Canonical};

use crate::support::*;

const SECRET_KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
const LOADER: &str = "/service-cloud/webclient/chat_client/js/thirdPartyClient.js";
pub const NEW_LOADER: &str = "/service-cloud/webclient/chat_client/js/newThirdPartyClient.js";

/// The enterprise's token validation endpoint, as the product documents specify it.
async fn enterprise() -> String {
    async fn validate(Json(body): Json<Value>) -> axum::response::Response {
        use axum::response::IntoResponse;
        match (body["Token"].as_str(), body["userId"].as_str()) {
            (Some("good-token"), Some(_)) => {
                Json(json!({"retCode": 0, "message": "validate success"})).into_response()
            }
            (Some("html-token"), _) => "<html>maintenance</html>".into_response(),
            _ => Json(json!({"retCode": 1, "message": "token expired"})).into_response(),
        }
    }
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let url = format!(
        "http://{}/rest/cc-messaging/v1/thirdparty/chatThirdPartyValidate",
        listener.local_addr().unwrap()
    );
    tokio::spawn(async move {
        let app = Router::new().route(
            "/rest/cc-messaging/v1/thirdparty/chatThirdPartyValidate",
            post(validate),
        );
        axum::serve(listener, app).await.unwrap();
    });
    url
}

pub struct Page {
    pub client: reqwest::Client,
    pub base: String,
    origin: Option<String>,
}

impl Page {
    pub fn new(app: &TestApp, origin: Option<&str>) -> Self {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .unwrap();
        Self {
            client,
            base: app.base.clone(),
            origin: origin.map(str::to_owned),
        }
    }

    fn headers(&self) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Some(origin) = &self.origin {
            headers.insert(ORIGIN, origin.parse().unwrap());
        }
        headers
    }

    /// Posts like the seed pages: a JSON string with jQuery's default form content type.
    pub async fn load(&self, path: &str, body: &Value) -> (u16, HeaderMap, String) {
        let response = self
            .client
            .post(format!("{}{path}?&t=1700000000000", self.base))
            .headers(self.headers())
            .header(
                "content-type",
                "application/x-www-form-urlencoded; charset=UTF-8",
            )
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        (
            response.status().as_u16(),
            response.headers().clone(),
            response.text().await.unwrap(),
        )
    }

    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self
            .client
            .request(
                method,
                format!("{}/service-cloud/webchat/v1/{path}", self.base),
            )
            .headers(self.headers());
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        (
            response.status().as_u16(),
            response.json().await.unwrap_or(Value::Null),
        )
    }
}

pub struct Setup {
    pub tenant: String,
    pub channel: String,
    pub admin: Session,
}

pub async fn setup(app: &TestApp, channel_extra: Value) -> Setup {
    let (tenant, admin) = app.tenant("acme").await;
    let b = basics(&admin).await;
    let url = enterprise().await;
    admin
        .put(
            "/api/v1/tenant",
            json!({"name": "acme", "timeZone": "UTC", "tokenValidation": {"url": url}}),
        )
        .await
        .expect(200);
    let mut channel = web_channel("SHOP", &b.route);
    for (key, value) in channel_extra.as_object().unwrap() {
        channel[key] = value.clone();
    }
    let channel = admin.post("/api/v1/channels", channel).await.expect(201);
    staff_the_queue(app, &admin, &b.queue).await;
    Setup {
        tenant,
        channel: channel["channelConfigId"].as_str().unwrap().to_owned(),
        admin,
    }
}

/// Signs in an agent of the queue who stays busy: with nobody on duty, the queue's
/// no-agents policy would release arriving customers instead of letting them wait.
pub async fn staff_the_queue(app: &TestApp, admin: &Session, queue: &str) {
    admin
        .post("/api/v1/employees", agent("standby", 999, queue))
        .await
        .expect(201);
    let standby = app.login_first_time("standby", INITIAL).await;
    standby
        .post("/api/v1/agent/sign-in", json!({}))
        .await
        .expect(200);
    standby
        .put("/api/v1/agent/status", json!({"status": "busy"}))
        .await
        .expect(200);
}

pub fn user_data(setup: &Setup, credentials: (&str, &str)) -> Value {
    let mut data = json!({"thirdUserName": "Zhang San", "thirdUserId": "u-1001", "tenantSpaceId": setup.tenant,
        "channelConfigId": setup.channel, "locale": "zh", "timestamp": 1_700_000_000_000_i64});
    data[credentials.0] = json!(credentials.1);
    data
}

#[tokio::test]
async fn token_mode_admits_a_validated_customer_who_then_chats() {
    let app = TestApp::start().await;
    let setup = setup(&app, json!({})).await;
    let page = Page::new(&app, Some("http://127.0.0.1:9999"));
    let data = user_data(&setup, ("thirdUserToken", "good-token"));

    let (status, headers, script) = page.load(LOADER, &data).await;
    assert_eq!(status, 200, "{script}");
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/javascript"));
    assert_eq!(
        headers["access-control-allow-origin"],
        "http://127.0.0.1:9999"
    );
    assert_eq!(headers["access-control-allow-credentials"], "true");
    assert!(
        script.contains("thirdValidate(thirdUserData)"),
        "the first script calls the page's thirdValidate"
    );

    let (status, headers, script) = page.load(NEW_LOADER, &data).await;
    assert_eq!(status, 200, "{script}");
    let cookie = headers["set-cookie"].to_str().unwrap();
    assert!(
        cookie.starts_with("ccmessaging-token=") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    assert!(
        script.starts_with("window.__SWITCHBOARD_WIDGET__ = {"),
        "{}",
        &script[..80.min(script.len())]
    );
    assert!(script.contains("\"locale\":\"zh\"") && script.contains("/service-cloud\""));

    let (status, opened) = page.call(reqwest::Method::POST, "conversation", None).await;
    assert_eq!(status, 200, "{opened}");
    let conversation = opened["conversationId"].as_str().unwrap().to_owned();
    assert_eq!(opened["state"], "queued");
    let send = json!({"conversationId": conversation, "clientMessageId": "m-1", "content": {"type": "text", "text": "你好"}});
    let (status, first) = page
        .call(reqwest::Method::POST, "messages", Some(send.clone()))
        .await;
    assert_eq!(
        (status, first["seq"].as_i64(), first["duplicate"].as_bool()),
        (200, Some(2), Some(false)),
        "{first}"
    );
    let (_, retried) = page
        .call(reqwest::Method::POST, "messages", Some(send))
        .await;
    assert_eq!(
        (retried["seq"].as_i64(), retried["duplicate"].as_bool()),
        (Some(2), Some(true)),
        "a retried send is stored once"
    );
    let (status, listed) = page
        .call(
            reqwest::Method::GET,
            &format!("messages?conversationId={conversation}&after=0"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        listed["messages"].as_array().unwrap().len(),
        2,
        "the queue notice, then the message"
    );
    assert_eq!(listed["messages"][0]["sender"]["kind"], "system");
    assert_eq!(listed["messages"][1]["content"]["text"], "你好");

    // A reload opens the same conversation again.
    let (_, reopened) = page.call(reqwest::Method::POST, "conversation", None).await;
    assert_eq!(reopened["conversationId"], conversation.as_str());
    assert_eq!(reopened["lastSeq"], 2);
}

#[tokio::test]
async fn a_waiting_poll_answers_as_soon_as_a_message_is_stored() {
    let app = TestApp::start().await;
    let setup = setup(&app, json!({})).await;
    let page = Page::new(&app, None);
    assert_eq!(
        page.load(
            NEW_LOADER,
            &user_data(&setup, ("thirdUserToken", "good-token"))
        )
        .await
        .0,
        200
    );
    let (_, opened) = page.call(reqwest::Method::POST, "conversation", None).await;
    let conversation = opened["conversationId"].as_str().unwrap().to_owned();
    let waiter = {
        let client = page.client.clone();
        let url = format!("{}/service-cloud/webchat/v1/messages?conversationId={conversation}&after=1&waitSeconds=30", page.base);
        tokio::spawn(async move {
            client
                .get(url)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        })
    };
    let send = json!({"conversationId": conversation, "clientMessageId": "m-1", "content": {"type": "text", "text": "hello"}});
    page.call(reqwest::Method::POST, "messages", Some(send))
        .await;
    let answer = tokio::time::timeout(std::time::Duration::from_secs(10), waiter)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(answer["messages"][0]["seq"], 2);
}

#[tokio::test]
async fn refused_tokens_keep_the_customer_out_with_a_clear_error() {
    let app = TestApp::start().await;
    let setup = setup(&app, json!({})).await;
    let page = Page::new(&app, None);
    for token in ["expired-token", "html-token"] {
        let (status, headers, body) = page
            .load(NEW_LOADER, &user_data(&setup, ("thirdUserToken", token)))
            .await;
        assert_eq!(status, 401, "{body}");
        assert!(headers.get("set-cookie").is_none());
        let error: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(error["code"], "token_rejected");
    }
    let (status, _) = page.call(reqwest::Method::POST, "conversation", None).await;
    assert_eq!(status, 401, "no session without admission");
    let mut unknown = user_data(&setup, ("thirdUserToken", "good-token"));
    unknown["channelConfigId"] = json!("12345");
    let (status, _, body) = page.load(NEW_LOADER, &unknown).await;
    assert_eq!(
        (
            status,
            serde_json::from_str::<Value>(&body).unwrap()["code"].as_str()
        ),
        (404, Some("unknown_channel"))
    );
    let (status, _, _) = page.load(NEW_LOADER, &json!({"thirdUserId": "u"})).await;
    assert_eq!(status, 400);
}

fn signed(setup: &Setup, secret: &str, at: chrono::DateTime<chrono::Utc>, host: &str) -> Value {
    let data = json!({"thirdUserName": "Zhang San", "thirdUserId": "u-1001", "tenantSpaceId": setup.tenant,
        "channelConfigId": setup.channel, "locale": "en", "timestamp": at.timestamp_millis()});
    let request = Canonical {
        method: "POST".into(),
        uri: NEW_LOADER.into(),
        query: vec![],
        headers: vec![("host".into(), host.into())],
        body: data.to_string(),
    };
    let authorization = sign(&setup.channel, secret, &format_timestamp(at), &request);
    let mut posted = data;
    posted["thirdPartAuthorization"] = json!(authorization);
    posted
}

#[tokio::test]
async fn authorization_mode_admits_a_signed_page_once_and_refuses_bad_or_stale_signatures() {
    let app = TestApp::start().await;
    let setup = setup(&app, json!({"secrets": {"secretKey": SECRET_KEY}})).await;
    let host = app.base.trim_start_matches("http://").to_owned();
    let page = Page::new(&app, None);
    let now = chrono::Utc::now();
    let good = signed(&setup, SECRET_KEY, now, &host);
    let (status, _, body) = page.load(NEW_LOADER, &good).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        page.call(reqwest::Method::POST, "conversation", None)
            .await
            .0,
        200
    );

    let code = |body: &str| {
        serde_json::from_str::<Value>(body).unwrap()["code"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (status, _, body) = Page::new(&app, None).load(NEW_LOADER, &good).await;
    assert_eq!(
        (status, code(&body)),
        (401, "replayed_signature".to_owned())
    );
    let stale = signed(
        &setup,
        SECRET_KEY,
        now - chrono::Duration::seconds(301),
        &host,
    );
    let (status, _, body) = page.load(NEW_LOADER, &stale).await;
    assert_eq!((status, code(&body)), (401, "stale_timestamp".to_owned()));
    let forged = signed(&setup, "another-key-another-key-0123", now, &host);
    let (status, _, body) = page.load(NEW_LOADER, &forged).await;
    assert_eq!((status, code(&body)), (401, "bad_signature".to_owned()));
    let mut tampered = signed(&setup, SECRET_KEY, now, &host);
    tampered["thirdUserId"] = json!("u-9999");
    let (status, _, body) = page.load(NEW_LOADER, &tampered).await;
    assert_eq!((status, code(&body)), (401, "bad_signature".to_owned()));

    let keyless = setup_channel_without_key(&setup).await;
    let (status, _, body) = page
        .load(NEW_LOADER, &signed(&keyless, SECRET_KEY, now, &host))
        .await;
    assert_eq!(
        (status, code(&body)),
        (401, "authorization_not_enabled".to_owned())
    );
}

async fn setup_channel_without_key(setup: &Setup) -> Setup {
    let routes = setup.admin.get("/api/v1/called-routes").await.expect(200);
    let route = routes["items"][0]["id"].as_str().unwrap();
    let channel = setup
        .admin
        .post("/api/v1/channels", web_channel("NOKEY", route))
        .await
        .expect(201);
    Setup {
        tenant: setup.tenant.clone(),
        channel: channel["channelConfigId"].as_str().unwrap().to_owned(),
        admin: setup.admin.clone(),
    }
}

#[tokio::test]
async fn a_channel_with_allowed_origins_refuses_other_origins() {
    let app = TestApp::start().await;
    let setup = setup(
        &app,
        json!({"web": {"allowedOrigins": ["http://shop.example.com"]}}),
    )
    .await;
    let data = user_data(&setup, ("thirdUserToken", "good-token"));
    let stranger = Page::new(&app, Some("http://evil.example.com"));
    let (status, _, body) = stranger.load(NEW_LOADER, &data).await;
    assert_eq!(status, 403, "{body}");
    let shop = Page::new(&app, Some("http://shop.example.com"));
    let (status, headers, _) = shop.load(NEW_LOADER, &data).await;
    assert_eq!(status, 200);
    assert_eq!(
        headers["access-control-allow-origin"],
        "http://shop.example.com"
    );
    let preflight = shop
        .client
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/service-cloud/webchat/v1/messages", app.base),
        )
        .header("origin", "http://shop.example.com")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 204);
    assert_eq!(
        preflight.headers()["access-control-allow-credentials"],
        "true"
    );
}

#[tokio::test]
async fn a_customer_cannot_reach_another_customers_conversation() {
    let app = TestApp::start().await;
    let setup = setup(&app, json!({})).await;
    let ann = Page::new(&app, None);
    assert_eq!(
        ann.load(
            NEW_LOADER,
            &user_data(&setup, ("thirdUserToken", "good-token"))
        )
        .await
        .0,
        200
    );
    let (_, opened) = ann.call(reqwest::Method::POST, "conversation", None).await;
    let conversation = opened["conversationId"].as_str().unwrap().to_owned();
    // Another customer of the same channel, admitted by signature.
    setup
        .admin
        .put(&format!("/api/v1/channels/{}", setup.channel), json!({"accessCode": "SHOP", "name": "shop", "type": "WEB",
            "calledRouteId": setup.admin.get("/api/v1/called-routes").await.expect(200)["items"][0]["id"], "secrets": {"secretKey": SECRET_KEY}}))
        .await
        .expect(200);
    let host = app.base.trim_start_matches("http://").to_owned();
    let mut other = signed(&setup, SECRET_KEY, chrono::Utc::now(), &host);
    other["thirdUserId"] = json!("u-2002");
    let request = Canonical {
        method: "POST".into(),
        uri: NEW_LOADER.into(),
        query: vec![],
        headers: vec![("host".into(), host.clone())],
        body: {
            let mut unsigned = other.clone();
            unsigned
                .as_object_mut()
                .unwrap()
                .remove("thirdPartAuthorization");
            unsigned.to_string()
        },
    };
    other["thirdPartAuthorization"] = json!(sign(
        &setup.channel,
        SECRET_KEY,
        &format_timestamp(chrono::Utc::now()),
        &request
    ));
    let bob = Page::new(&app, None);
    assert_eq!(bob.load(NEW_LOADER, &other).await.0, 200);
    let (status, _) = bob
        .call(
            reqwest::Method::GET,
            &format!("messages?conversationId={conversation}&after=0"),
            None,
        )
        .await;
    assert_eq!(status, 404);
    let send = json!({"conversationId": conversation, "clientMessageId": "x", "content": {"type": "text", "text": "hi"}});
    assert_eq!(
        bob.call(reqwest::Method::POST, "messages", Some(send))
            .await
            .0,
        404
    );
}

#[tokio::test]
async fn try_it_admits_a_test_customer_for_a_signed_in_administrator_only() {
    let app = TestApp::start().await;
    let setup = setup(&app, json!({})).await;
    let path = format!("{}/try/{}", app.base, setup.channel);
    let anonymous = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let page = anonymous
        .get(&path)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Sign in") && !page.contains("__SWITCHBOARD_WIDGET__"),
        "{page}"
    );

    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let login = json!({"account": "acme_admin", "password": PASSWORD});
    assert_eq!(
        browser
            .post(format!("{}/api/v1/auth/login", app.base))
            .json(&login)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let response = browser.get(&path).send().await.unwrap();
    assert!(response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .starts_with("ccmessaging-token="));
    let page = response.text().await.unwrap();
    assert!(
        page.contains("window.__SWITCHBOARD_WIDGET__ = {") && page.contains(&setup.channel),
        "the widget, for this channel"
    );
    let opened: Value = browser
        .post(format!(
            "{}/service-cloud/webchat/v1/conversation",
            app.base
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(opened["state"], "queued");

    let (_, other) = app.tenant("other").await;
    let foreign = other.get(&format!("/try/{}", setup.channel)).await;
    assert_eq!(foreign.status, 404, "another tenant's channel");
}
