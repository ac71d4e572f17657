//! Runs the real `switchboard` binary: `serve --demo` from an empty directory, sign-in
//! with the credentials it prints, graceful shutdown on SIGTERM, idempotent restart.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

const PATIENCE: Duration = Duration::from_secs(60);

struct Running {
    child: Child,
    lines: Lines<BufReader<ChildStdout>>,
    printed: Vec<String>,
    base_url: String,
}

/// Starts `switchboard serve --demo` in `dir` and reads its banner up to the last line.
async fn serve_demo(dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> Running {
    let mut command = Command::new(env!("CARGO_BIN_EXE_switchboard"));
    command
        .args(["serve", "--demo", "--listen", "127.0.0.1:0"])
        .args(extra)
        .current_dir(dir)
        .env_remove("SWITCHBOARD_DATA_DIR")
        .env_remove("SWITCHBOARD_DATABASE_URL")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    let mut child = command.spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = Vec::new();
    tokio::time::timeout(PATIENCE, async {
        while let Some(line) = lines.next_line().await.unwrap() {
            let last = line.trim_start().starts_with("curl -s -b cookies");
            printed.push(line);
            if last {
                return;
            }
        }
        panic!("the banner ended early: {printed:?}");
    })
    .await
    .expect("the banner is printed");
    let base_url = printed[0]
        .strip_prefix("Switchboard is listening on ")
        .unwrap()
        .to_owned();
    Running {
        child,
        lines,
        printed,
        base_url,
    }
}

impl Running {
    fn said(&self, text: &str) -> bool {
        self.printed.iter().any(|line| line.contains(text))
    }

    async fn login(&self, account: &str, password: &str) -> reqwest::Response {
        reqwest::Client::new()
            .post(format!("{}/api/v1/auth/login", self.base_url))
            .json(&json!({"account": account, "password": password}))
            .send()
            .await
            .unwrap()
    }

    /// SIGTERM, then the process must exit cleanly on its own.
    async fn terminate(mut self) {
        let pid = self.child.id().unwrap().to_string();
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        assert!(status.success());
        let exit = tokio::time::timeout(PATIENCE, self.child.wait())
            .await
            .expect("stops after SIGTERM")
            .unwrap();
        assert!(exit.success(), "graceful exit, got {exit}");
        while let Ok(Some(_)) = self.lines.next_line().await {}
    }
}

fn demo_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[tokio::test]
async fn serve_demo_starts_from_nothing_and_its_printed_credentials_work() {
    let dir = tempfile::tempdir().unwrap();
    let first = serve_demo(dir.path(), &[], &[]).await;
    assert!(first.said("First start: platform operator account \"operator\" created."));
    assert!(
        dir.path().join("data/switchboard.db").exists(),
        "data in ./data by default"
    );
    let demo = demo_json(&dir.path().join("data/demo.json"));
    assert_eq!(demo["baseUrl"], first.base_url.as_str());
    assert_eq!(
        demo["channelSecretKey"].as_str().map(str::len),
        Some(43),
        "a key for the authorization mode"
    );
    let admin_password = demo["admin"]["password"].as_str().unwrap();
    assert!(
        first.said(&format!("demo_admin / {admin_password}")),
        "the printed credentials are the file's"
    );

    let login = first.login("demo_admin", admin_password).await;
    assert_eq!(login.status(), 200);
    let token = login.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let channels: Value = reqwest::Client::new()
        .get(format!("{}/api/v1/channels", first.base_url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(channels["items"][0]["accessCode"], "DEMO_WEB");
    assert_eq!(
        channels["items"][0]["channelConfigId"],
        demo["channelConfigId"]
    );
    for agent in demo["agents"].as_array().unwrap() {
        let reply = first
            .login(
                agent["account"].as_str().unwrap(),
                agent["password"].as_str().unwrap(),
            )
            .await;
        assert_eq!(reply.status(), 200);
    }
    first.terminate().await;

    let second = serve_demo(dir.path(), &[], &[]).await;
    assert!(!second.said("First start"), "the operator is created once");
    let again = demo_json(&dir.path().join("data/demo.json"));
    assert_eq!(
        again["tenantSpaceId"], demo["tenantSpaceId"],
        "the demo tenant is created once"
    );
    assert_eq!(
        second.login("demo_admin", admin_password).await.status(),
        200
    );
    second.terminate().await;
}

#[tokio::test]
async fn a_lost_demo_file_gets_fresh_working_passwords_for_the_same_tenant() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("elsewhere");
    let env = [("SWITCHBOARD_DATA_DIR", data.to_str().unwrap())];
    let first = serve_demo(dir.path(), &[], &env).await;
    let demo = demo_json(&data.join("demo.json"));
    first.terminate().await;
    std::fs::remove_file(data.join("demo.json")).unwrap();

    let second = serve_demo(dir.path(), &[], &env).await;
    let fresh = demo_json(&data.join("demo.json"));
    assert_eq!(fresh["tenantSpaceId"], demo["tenantSpaceId"]);
    assert_ne!(fresh["admin"]["password"], demo["admin"]["password"]);
    assert_eq!(
        second
            .login("demo_admin", fresh["admin"]["password"].as_str().unwrap())
            .await
            .status(),
        200
    );
    assert_eq!(
        second
            .login("demo_admin", demo["admin"]["password"].as_str().unwrap())
            .await
            .status(),
        401
    );
    second.terminate().await;
}

#[tokio::test]
async fn migrate_and_operator_password_reset_work_on_their_own() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_switchboard"))
            .args(args)
            .args(["--data-dir", data.to_str().unwrap()])
            .env_remove("SWITCHBOARD_DATABASE_URL")
            .output()
            .unwrap()
    };
    let migrated = run(&["migrate"]);
    assert!(migrated.status.success());
    assert!(String::from_utf8_lossy(&migrated.stdout).contains("up to date"));
    let no_operator = run(&["reset-operator-password"]);
    assert!(
        !no_operator.status.success(),
        "nothing to reset before the first serve"
    );

    let server = serve_demo(dir.path(), &["--data-dir", data.to_str().unwrap()], &[]).await;
    server.terminate().await;
    let reset = run(&["reset-operator-password"]);
    assert!(reset.status.success());
    let text = String::from_utf8_lossy(&reset.stdout).to_string();
    let password = text.trim().rsplit(' ').next().unwrap().to_owned();
    let server = serve_demo(dir.path(), &["--data-dir", data.to_str().unwrap()], &[]).await;
    let login = server.login("operator", &password).await;
    assert_eq!(login.status(), 200);
    assert_eq!(
        login.json::<Value>().await.unwrap()["passwordChangeRequired"],
        true
    );
    server.terminate().await;
}

#[tokio::test]
async fn a_bad_setting_stops_start_up_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("switchboard.toml");
    std::fs::write(&config, "listen = \"not an address\"\n").unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(["serve", "--config", config.to_str().unwrap()])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("switchboard.toml") && stderr.contains("listen"),
        "{stderr}"
    );
}

/// A client signed in with a bearer token.
struct Api {
    base: String,
    token: String,
    client: reqwest::Client,
}

impl Api {
    async fn login(running: &Running, account: &str, password: &str) -> Self {
        let reply: Value = running.login(account, password).await.json().await.unwrap();
        Self {
            base: running.base_url.clone(),
            token: reply["token"].as_str().unwrap().to_owned(),
            client: reqwest::Client::new(),
        }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        response.json().await.unwrap_or(Value::Null)
    }

    async fn ids(&self, path: &str, key: &str) -> Vec<String> {
        let list = self.call(reqwest::Method::GET, path, None).await;
        list.as_array()
            .unwrap()
            .iter()
            .map(|item| item[key].as_str().unwrap().to_owned())
            .collect()
    }
}

/// A customer of the demo channel opens a chat, signed in the authorization mode.
async fn open_chat(running: &Running, demo: &Value, user: &str) -> String {
    use switchboard_domain::auth_v2::{format_timestamp, sign, Canonical};
    const LOADER: &str = "/service-cloud/webclient/chat_client/js/newThirdPartyClient.js";
    let channel = demo["channelConfigId"].as_str().unwrap();
    let now = chrono::Utc::now();
    let data = json!({"thirdUserName": user, "thirdUserId": user, "tenantSpaceId": demo["tenantSpaceId"],
        "channelConfigId": channel, "locale": "en", "timestamp": now.timestamp_millis()});
    let host = running.base_url.trim_start_matches("http://").to_owned();
    let request = Canonical {
        method: "POST".into(),
        uri: LOADER.into(),
        query: vec![],
        headers: vec![("host".into(), host)],
        body: data.to_string(),
    };
    let secret = demo["channelSecretKey"].as_str().unwrap();
    let mut posted = data;
    posted["thirdPartAuthorization"] =
        json!(sign(channel, secret, &format_timestamp(now), &request));
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let loaded = client
        .post(format!("{}{LOADER}?&t=1", running.base_url))
        .body(posted.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(loaded.status(), 200);
    let opened: Value = client
        .post(format!(
            "{}/service-cloud/webchat/v1/conversation",
            running.base_url
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    opened["conversationId"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_kill_9_restart_keeps_queue_order_and_assignments() {
    let dir = tempfile::tempdir().unwrap();
    let first = serve_demo(dir.path(), &[], &[]).await;
    let demo = demo_json(&dir.path().join("data/demo.json"));
    let admin = Api::login(
        &first,
        "demo_admin",
        demo["admin"]["password"].as_str().unwrap(),
    )
    .await;
    // Long enough a wait that nobody times out while the test runs.
    let queues = admin
        .call(reqwest::Method::GET, "/api/v1/skill-queues", None)
        .await;
    let mut queue = queues["items"][0].clone();
    let queue_id = queue["id"].as_str().unwrap().to_owned();
    for key in ["id", "createdAt", "updatedAt"] {
        queue.as_object_mut().unwrap().remove(key);
    }
    queue["maxWaitingSeconds"] = json!(3600);
    queue["maxQueued"] = json!(200);
    admin
        .call(
            reqwest::Method::PUT,
            &format!("/api/v1/skill-queues/{queue_id}"),
            Some(queue),
        )
        .await;
    let agent = |n: usize| {
        let account = demo["agents"][n]["account"].as_str().unwrap().to_owned();
        let password = demo["agents"][n]["password"].as_str().unwrap().to_owned();
        (account, password)
    };
    // One agent on duty but busy, so that customers wait rather than being released.
    let (account, password) = agent(0);
    let standby = Api::login(&first, &account, &password).await;
    standby
        .call(
            reqwest::Method::POST,
            "/api/v1/agent/sign-in",
            Some(json!({})),
        )
        .await;
    standby
        .call(
            reqwest::Method::PUT,
            "/api/v1/agent/status",
            Some(json!({"status": "busy"})),
        )
        .await;

    let mut opened = Vec::new();
    for n in 0..105 {
        opened.push(open_chat(&first, &demo, &format!("customer-{n}")).await);
    }
    let (account, password) = agent(1);
    let serving = Api::login(&first, &account, &password).await;
    serving
        .call(
            reqwest::Method::POST,
            "/api/v1/agent/sign-in",
            Some(json!({})),
        )
        .await;
    let held = serving.ids("/api/v1/agent/conversations", "id").await;
    assert_eq!(held, opened[..5], "the agent took the first five, in order");
    let waiting_path = format!("/api/v1/skill-queues/{queue_id}/waiting");
    let before = admin.ids(&waiting_path, "conversationId").await;
    assert_eq!(before, opened[5..], "100 wait in arrival order");

    let mut first = first;
    first.child.kill().await.unwrap();
    let second = serve_demo(dir.path(), &[], &[]).await;
    let admin = Api::login(
        &second,
        "demo_admin",
        demo["admin"]["password"].as_str().unwrap(),
    )
    .await;
    assert_eq!(
        admin.ids(&waiting_path, "conversationId").await,
        before,
        "the same order"
    );
    let serving = Api::login(&second, &account, &password).await;
    assert_eq!(serving.ids("/api/v1/agent/conversations", "id").await, held);
    // Signing in again keeps them: full, the agent takes nothing more, nobody twice.
    serving
        .call(
            reqwest::Method::POST,
            "/api/v1/agent/sign-in",
            Some(json!({})),
        )
        .await;
    assert_eq!(serving.ids("/api/v1/agent/conversations", "id").await, held);
    assert_eq!(admin.ids(&waiting_path, "conversationId").await, before);
    let record = admin
        .ids(
            &format!("/api/v1/conversations/{}/contact-record", held[0]),
            "kind",
        )
        .await;
    assert_eq!(record, ["enqueued", "assigned"]);
    second.terminate().await;
}
