use std::net::SocketAddr;
use std::sync::Arc;

use reqwest::header::HeaderMap;
use reqwest::Method;
use serde_json::{json, Value};
use switchboard_server::{bootstrap, AppState, ServerConfig};
use switchboard_store::{Store, StoreOptions};
use tokio::sync::oneshot;

pub struct TestApp {
    pub base: String,
    pub store: Arc<Store>,
    dir: tempfile::TempDir,
    running: Option<Running>,
    config: ServerConfig,
    clock: Arc<dyn switchboard_server::Clock>,
}

/// The server task and the way to stop it.
struct Running {
    stop: oneshot::Sender<()>,
    served: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn open_store(dir: &tempfile::TempDir) -> Arc<Store> {
    let url = format!("sqlite://{}", dir.path().join("switchboard.db").display());
    let options = StoreOptions {
        secret_key: [9; 32],
        node_id: 0,
    };
    Arc::new(Store::open(&url, options).await.unwrap())
}

fn run(
    listener: tokio::net::TcpListener,
    store: Arc<Store>,
    config: ServerConfig,
    clock: Arc<dyn switchboard_server::Clock>,
) -> Running {
    let state = AppState::with_clock(store, config, clock);
    let (stop, stopped) = oneshot::channel::<()>();
    let served = tokio::spawn(switchboard_server::serve(listener, state, async move {
        let _ = stopped.await;
    }));
    Running { stop, served }
}

pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    /// Asserts the status and returns the body.
    pub fn expect(self, status: u16) -> Value {
        assert_eq!(self.status, status, "unexpected reply: {}", self.body);
        self.body
    }

    /// Asserts an API error with this status, code and (if given) field.
    pub fn expect_error(self, status: u16, code: &str, field: Option<&str>) -> Value {
        assert_eq!(
            (self.status, self.body["code"].as_str()),
            (status, Some(code)),
            "unexpected reply: {}",
            self.body
        );
        if let Some(field) = field {
            assert_eq!(
                self.body["field"].as_str(),
                Some(field),
                "unexpected field in {}",
                self.body
            );
        }
        assert!(
            self.body["message"].as_str().is_some_and(|m| !m.is_empty()),
            "an error explains itself: {}",
            self.body
        );
        self.body
    }
}

#[derive(Clone)]
pub struct Session {
    pub base: String,
    pub token: Option<String>,
    pub client: reqwest::Client,
}

impl Session {
    pub async fn send(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Reply {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.send(Method::POST, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Reply {
        self.send(Method::PUT, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.send(Method::DELETE, path, None).await
    }

    /// A raw body with a content type, for malformed requests.
    pub async fn post_raw(&self, path: &str, content_type: &str, body: Vec<u8>) -> Reply {
        let mut request = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", content_type)
            .body(body);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.json().await.unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
        }
    }
}

pub const PASSWORD: &str = "Str0ng-Passw0rd";
/// The password an administrator gives a new employee, to be changed at first sign-in.
pub const INITIAL: &str = "Initial-Passw0rd";

impl TestApp {
    pub async fn start() -> Self {
        Self::start_with_clock(Arc::new(switchboard_server::SystemClock)).await
    }

    /// A server whose routing timers follow `clock`.
    pub async fn start_with_clock(clock: Arc<dyn switchboard_server::Clock>) -> Self {
        Self::start_with(ServerConfig::default(), clock).await
    }

    /// A server with its own settings (platform endpoints at a local fake, say).
    pub async fn start_with(
        config: ServerConfig,
        clock: Arc<dyn switchboard_server::Clock>,
    ) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = open_store(&dir).await;
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let running = Some(run(listener, store.clone(), config.clone(), clock.clone()));
        Self {
            base,
            store,
            dir,
            running,
            config,
            clock,
        }
    }

    /// Stops the server as an operator would (requests and sends under way finish),
    /// closes the database, and starts again on it at the same address.
    pub async fn restart(&mut self) {
        let running = self.running.take().expect("the server runs");
        let _ = running.stop.send(());
        running.served.await.unwrap().unwrap();
        self.store.close().await;
        self.store = open_store(&self.dir).await;
        let address: SocketAddr = self.base.trim_start_matches("http://").parse().unwrap();
        let listener = tokio::net::TcpListener::bind(address).await.unwrap();
        self.running = Some(run(
            listener,
            self.store.clone(),
            self.config.clone(),
            self.clock.clone(),
        ));
    }

    pub fn anonymous(&self) -> Session {
        Session {
            base: self.base.clone(),
            token: None,
            client: reqwest::Client::new(),
        }
    }

    pub async fn login(&self, account: &str, password: &str) -> Session {
        let body = self
            .anonymous()
            .post(
                "/api/v1/auth/login",
                json!({"account": account, "password": password}),
            )
            .await
            .expect(200);
        Session {
            token: Some(body["token"].as_str().unwrap().to_owned()),
            ..self.anonymous()
        }
    }

    /// Signs in with a one-time password, replaces it with [`PASSWORD`] and signs in again.
    pub async fn login_first_time(&self, account: &str, one_time: &str) -> Session {
        let first = self.login(account, one_time).await;
        first
            .post(
                "/api/v1/auth/password",
                json!({"currentPassword": one_time, "newPassword": PASSWORD}),
            )
            .await
            .expect(204);
        self.login(account, PASSWORD).await
    }

    pub async fn operator(&self) -> Session {
        let one_time = match bootstrap::ensure_operator(&self.store).await.unwrap() {
            Some(password) => password,
            None => return self.login(bootstrap::OPERATOR_ACCOUNT, PASSWORD).await,
        };
        self.login_first_time(bootstrap::OPERATOR_ACCOUNT, &one_time)
            .await
    }

    /// A new tenant (limits: ten multimedia and two versatile agents) and its signed-in
    /// administrator `<name>_admin`.
    pub async fn tenant(&self, name: &str) -> (String, Session) {
        let body = json!({"name": name, "timeZone": "Asia/Shanghai",
            "limits": {"voiceAgents": 2, "videoAgents": 0, "multimediaAgents": 10, "versatileAgents": 2},
            "admin": {"account": format!("{name}_admin")}});
        let created = self
            .operator()
            .await
            .post("/api/v1/tenants", body)
            .await
            .expect(201);
        let one_time = created["admin"]["oneTimePassword"].as_str().unwrap();
        let admin = self
            .login_first_time(&format!("{name}_admin"), one_time)
            .await;
        (
            created["tenant"]["tenantSpaceId"]
                .as_str()
                .unwrap()
                .to_owned(),
            admin,
        )
    }
}

/// A multimedia queue, its called route and a WEB channel in the admin's tenant.
pub struct Basics {
    pub queue: String,
    pub route: String,
    pub channel: String,
}

pub async fn basics(admin: &Session) -> Basics {
    let queue = admin
        .post(
            "/api/v1/skill-queues",
            json!({"name": "mediaSkill", "type": "multimedia"}),
        )
        .await
        .expect(201);
    let queue = queue["id"].as_str().unwrap().to_owned();
    let route = admin
        .post(
            "/api/v1/called-routes",
            json!({"accessCode": "10001", "mediaType": "multimedia", "skillQueueId": queue}),
        )
        .await
        .expect(201);
    let route = route["id"].as_str().unwrap().to_owned();
    let channel = admin
        .post("/api/v1/channels", web_channel("WEBCHAT", &route))
        .await
        .expect(201);
    Basics {
        queue,
        route,
        channel: channel["channelConfigId"].as_str().unwrap().to_owned(),
    }
}

pub fn web_channel(code: &str, route: &str) -> Value {
    json!({"accessCode": code, "name": code.to_lowercase(), "type": "WEB", "calledRouteId": route})
}

pub fn agent(account: &str, work_no: u32, queue: &str) -> Value {
    json!({"account": account, "name": account, "role": "agent", "password": INITIAL,
        "agent": {"workNo": work_no, "agentType": "multimedia", "skills": [{"queueId": queue, "skillWeight": 1, "agentWeight": 1}]}})
}
