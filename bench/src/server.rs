//! The server under test: `switchboard serve --demo` in a data directory of its own, in
//! its own process, prepared through the API for the scenario (agents, queue limits).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub const PASSWORD: &str = "Load-test-passw0rd";
/// What the administrator gives new agents; they replace it at first sign-in.
pub const INITIAL: &str = "Load-initial-passw0rd";

pub struct Server {
    pub child: Child,
    pub base: String,
    pub demo: Value,
    pub operator_password: Option<String>,
    _data: tempfile::TempDir,
}

impl Server {
    /// Starts the binary and reads its banner for the address and the operator's
    /// one-time password.
    pub async fn start(binary: &Path, database_url: Option<&str>) -> Result<Self> {
        let data = tempfile::tempdir()?;
        let mut command = Command::new(binary);
        command
            .args(["serve", "--demo", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data.path())
            .env("SWITCHBOARD_LOG_FORMAT", "json")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true);
        if let Some(url) = database_url {
            command.args(["--database-url", url]);
        }
        let mut child = command
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let stdout = child.stdout.take().context("the server's output")?;
        let mut lines = BufReader::new(stdout).lines();
        let (mut base, mut operator_password) = (None, None);
        let banner = async {
            while let Some(line) = lines.next_line().await? {
                if let Some(url) = line.strip_prefix("Switchboard is listening on ") {
                    base = Some(url.trim().to_owned());
                }
                if let Some(rest) = line.trim().strip_prefix("One-time password: ") {
                    operator_password = rest.split_whitespace().next().map(str::to_owned);
                }
                if line.trim_start().starts_with("curl -s -b cookies") {
                    return anyhow::Ok(());
                }
            }
            bail!("the server stopped before it was ready")
        };
        tokio::time::timeout(Duration::from_secs(60), banner)
            .await
            .context("the server did not start within 60 s")??;
        // Keep reading so the server never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let demo_file = data.path().join("demo.json");
        let demo: Value = serde_json::from_str(&std::fs::read_to_string(&demo_file)?)?;
        Ok(Self {
            child,
            base: base.context("no address in the banner")?,
            demo,
            operator_password,
            _data: data,
        })
    }

    /// Starts the bare relay (`switchboard-relay`), which needs no preparing: any
    /// channel, key and agent will do.
    pub async fn start_relay(binary: &Path) -> Result<Self> {
        let mut child = Command::new(binary)
            .args(["--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let stdout = child.stdout.take().context("the relay's output")?;
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
            .await
            .context("the relay did not start within 10 s")??
            .context("the relay stopped before it was ready")?;
        let base = line
            .strip_prefix("relay listening on ")
            .context("no address in the relay's banner")?
            .trim()
            .to_owned();
        Ok(Self {
            child,
            base,
            demo: json!({"channelConfigId": "1", "channelSecretKey": "relay-key", "tenantSpaceId": "1"}),
            operator_password: None,
            _data: tempfile::tempdir()?,
        })
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    pub async fn stop(mut self) {
        if let Some(pid) = self.child.id() {
            let _ = Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status()
                .await;
        }
        let _ = tokio::time::timeout(Duration::from_secs(30), self.child.wait()).await;
    }
}

/// A signed-in API client.
#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub token: String,
    pub client: reqwest::Client,
}

impl Api {
    /// A client for the relay, which asks nobody who they are.
    pub fn anonymous(base: &str) -> Self {
        Self {
            base: base.to_owned(),
            token: "relay".into(),
            client: reqwest::Client::new(),
        }
    }

    pub async fn login(base: &str, account: &str, password: &str) -> Result<Self> {
        let client = reqwest::Client::new();
        let reply: Value = client
            .post(format!("{base}/api/v1/auth/login"))
            .json(&json!({"account": account, "password": password}))
            .send()
            .await?
            .error_for_status()
            .with_context(|| format!("signing in as {account}"))?
            .json()
            .await?;
        Ok(Self {
            base: base.to_owned(),
            token: reply["token"].as_str().context("no token")?.to_owned(),
            client,
        })
    }

    /// Signs in with a one-time password and replaces it.
    pub async fn first_login(base: &str, account: &str, one_time: &str) -> Result<Self> {
        let first = Self::login(base, account, one_time).await?;
        first
            .call(
                reqwest::Method::POST,
                "/api/v1/auth/password",
                Some(json!({"currentPassword": one_time, "newPassword": PASSWORD})),
            )
            .await?;
        Self::login(base, account, PASSWORD).await
    }

    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value> {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await?;
        let status = response.status();
        let text = response.text().await?;
        if !status.is_success() {
            bail!("{path}: {status} {text}");
        }
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

/// Raises the demo tenant's limits, opens its queue wide and creates the agents; answers
/// their accounts (one-time password [`INITIAL`]).
pub async fn prepare(server: &Server, agents: usize, capacity: u32) -> Result<Vec<String>> {
    let password = server
        .operator_password
        .as_deref()
        .context("no operator password (not a fresh start?)")?;
    let operator = Api::first_login(&server.base, "operator", password).await?;
    let tenant = server.demo["tenantSpaceId"].as_str().context("tenant id")?;
    let wanted = u32::try_from(agents + 10)?;
    operator
        .call(
            reqwest::Method::PUT,
            &format!("/api/v1/tenants/{tenant}/limits"),
            Some(json!({"voiceAgents": 0, "videoAgents": 0, "multimediaAgents": wanted, "versatileAgents": 0})),
        )
        .await?;
    let password = server.demo["admin"]["password"]
        .as_str()
        .context("admin password")?;
    let admin = Api::login(&server.base, "demo_admin", password).await?;
    let queues = admin
        .call(reqwest::Method::GET, "/api/v1/skill-queues", None)
        .await?;
    let mut queue = queues["items"][0].clone();
    let queue_id = queue["id"].as_str().context("queue id")?.to_owned();
    if let Some(fields) = queue.as_object_mut() {
        for key in ["id", "createdAt", "updatedAt"] {
            fields.remove(key);
        }
    }
    queue["maxQueued"] = json!(10_000);
    queue["maxWaitingSeconds"] = json!(60_000);
    queue["wrapUpSeconds"] = json!(0);
    admin
        .call(
            reqwest::Method::PUT,
            &format!("/api/v1/skill-queues/{queue_id}"),
            Some(queue),
        )
        .await?;
    let mut accounts = Vec::with_capacity(agents);
    for n in 0..agents {
        let account = format!("load_agent{n}");
        let body = json!({"account": account, "name": account, "role": "agent", "password": INITIAL,
            "agent": {"workNo": 1000 + n, "agentType": "multimedia", "maxConcurrentChats": capacity,
                "skills": [{"queueId": queue_id, "skillWeight": 1, "agentWeight": 1}]}});
        admin
            .call(reqwest::Method::POST, "/api/v1/employees", Some(body))
            .await?;
        accounts.push(account);
    }
    Ok(accounts)
}

/// A binary next to this one (the server, the relay), else in `target/release`.
pub fn sibling(name: &str) -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(name)))
        .unwrap_or_else(|| PathBuf::from("target/release").join(name))
}
