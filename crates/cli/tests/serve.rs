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
