//! In a real browser: the product's two integration pages, served unchanged (but for
//! their ids) by the example enterprise backend from their own origin, chat with an
//! agent in the workbench, in headless Chromium driven through WebDriver (Debian's
//! `chromium` and `chromium-driver`). Waits are event-driven: a MutationObserver or
//! PerformanceObserver inside the page answers when the condition holds.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use switchboard_server::bootstrap::{self, Demo};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::support::*;

const KEY: &str = "Abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
/// A real 1×1 PNG.
const ONE_PIXEL_PNG: &str =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=";
const PATIENCE: Duration = Duration::from_secs(30);

fn examples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/webchat")
}

/// What the browser tests need; `None` (with a notice) when something is missing and
/// services are not required.
fn prerequisites() -> Option<()> {
    let chromium =
        std::env::var("SWITCHBOARD_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let missing: Vec<&str> = [
        (!PathBuf::from(&chromium).exists()).then_some("chromium (apt-get install chromium)"),
        (which("chromedriver").is_none())
            .then_some("chromedriver (apt-get install chromium-driver)"),
        (which("python3").is_none()).then_some("python3"),
        (!examples().join("node_modules/jquery18").exists())
            .then_some("the example pages' libraries (npm install in examples/webchat)"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if missing.is_empty() {
        return Some(());
    }
    if std::env::var("SWITCHBOARD_REQUIRE_SERVICES").as_deref() == Ok("1") {
        panic!(
            "SWITCHBOARD_REQUIRE_SERVICES=1 but the browser test lacks: {}",
            missing.join(", ")
        );
    }
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED: browser test, missing {}",
        missing.join(", ")
    );
    None
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|dir| PathBuf::from(dir).join(program))
        .find(|p| p.exists())
}

/// Starts a process and reads its standard output up to the line containing `ready`.
async fn start(mut command: Command, ready: &str) -> (Child, String) {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(PATIENCE, async {
        loop {
            let line = lines
                .next_line()
                .await
                .unwrap()
                .expect("the process printed its ready line");
            if line.contains(ready) {
                return line;
            }
        }
    })
    .await
    .expect("the process starts");
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, line)
}

async fn chromedriver() -> (Child, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut command = Command::new("chromedriver");
    command.arg(format!("--port={port}"));
    let (child, _) = start(command, "started successfully").await;
    (child, port)
}

async fn session(port: u16) -> Client {
    // The WebDriver client speaks plain HTTP to chromedriver, but its TLS stack needs a
    // process-wide crypto provider chosen: the test build enables more than one.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let chromium =
        std::env::var("SWITCHBOARD_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let mut capabilities = serde_json::Map::new();
    capabilities.insert("unhandledPromptBehavior".into(), json!("accept"));
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({"binary": chromium, "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--disable-background-networking", "--no-first-run", "--disable-component-update", "--disable-sync"]}),
    );
    let client = ClientBuilder::rustls()
        .unwrap()
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .unwrap();
    client
        .update_timeouts(fantoccini::wd::TimeoutConfiguration::new(
            Some(PATIENCE),
            Some(PATIENCE),
            Some(Duration::ZERO),
        ))
        .await
        .unwrap();
    client
}

/// The example enterprise backend for the demo channel, with `extra` arguments.
async fn enterprise(app: &TestApp, demo: &Demo, extra: &[&str]) -> (Child, String) {
    let mut command = Command::new("python3");
    command
        .arg(examples().join("enterprise.py"))
        .args([
            "--switchboard",
            &app.base,
            "--port",
            "0",
            "--secret-key",
            KEY,
        ])
        .args([
            "--tenant",
            &demo.tenant_space_id.to_string(),
            "--channel",
            &demo.channel_config_id.to_string(),
        ])
        .args(extra);
    let (child, line) = start(command, "Enterprise example on").await;
    let base = line
        .split_whitespace()
        .nth(3)
        .unwrap()
        .trim_end_matches('/')
        .to_owned();
    (child, base)
}

/// Helpers every in-page script gets: `W(selector)` reaches into the widget's shadow root.
const PRELUDE: &str =
    "const W = (s) => { const h = document.querySelector('[data-switchboard-widget]'); \
    return h && h.shadowRoot ? h.shadowRoot.querySelector(s) : null; };";

/// Waits until the JavaScript expression `condition` holds in the page, re-checking on
/// every change of the document or the widget.
async fn until(client: &Client, condition: &str) {
    let script = format!(
        "{PRELUDE} const done = arguments[arguments.length - 1];
        const holds = () => {{ try {{ return !!({condition}); }} catch (e) {{ return false; }} }};
        if (holds()) {{ return done(true); }}
        const watched = new Set();
        const observer = new MutationObserver(() => {{ watch(); if (holds()) {{ observer.disconnect(); done(true); }} }});
        const watch = () => {{
          const host = document.querySelector('[data-switchboard-widget]');
          for (const node of [document, host && host.shadowRoot]) {{
            if (node && !watched.has(node)) {{ watched.add(node);
              observer.observe(node, {{subtree: true, childList: true, characterData: true, attributes: true}}); }}
          }}
        }};
        watch();"
    );
    execute(client, &script, vec![], true).await;
}

/// Waits until the page has finished a request to a URL containing `part`; answers its
/// HTTP status.
async fn request_finished(client: &Client, part: &str) -> u64 {
    let script = "const part = arguments[0]; const done = arguments[arguments.length - 1];
        const find = () => performance.getEntriesByType('resource').find(e => e.name.includes(part));
        const found = find(); if (found) { return done(found.responseStatus); }
        new PerformanceObserver((list, observer) => { const f = find(); if (f) { observer.disconnect(); done(f.responseStatus); } })
          .observe({type: 'resource', buffered: true});";
    let status = execute(client, script, vec![json!(part)], true).await;
    status
        .as_u64()
        .unwrap_or_else(|| panic!("the status of {part} is {status}"))
}

/// Runs a script in the page. The seed pages `alert()` on a refusal; an alert that opens
/// while a script runs cuts it short (an error, or a null answer for an async script)
/// whatever the prompt setting, so it is accepted and the script run again.
async fn execute(client: &Client, script: &str, args: Vec<Value>, asynchronous: bool) -> Value {
    for _ in 0..3 {
        let result = if asynchronous {
            client.execute_async(script, args.clone()).await
        } else {
            client.execute(script, args.clone()).await
        };
        match result {
            // An async script cut short by an accepted alert answers null; ours never do.
            Ok(Value::Null) if asynchronous => {}
            Ok(value) => return value,
            Err(fantoccini::error::CmdError::Standard(e))
                if e.error == fantoccini::error::ErrorStatus::UnexpectedAlertOpen =>
            {
                let _ = client.accept_alert().await;
            }
            Err(e) => panic!("running {script}: {e}"),
        }
    }
    panic!("alerts kept interrupting {script}");
}

async fn run(client: &Client, script: &str, args: Vec<Value>) -> Value {
    execute(client, &format!("{PRELUDE} {script}"), args, false).await
}

/// The widget shows a stored message (one with a sequence number) containing `text`.
fn delivered(text: &str) -> String {
    format!(
        "[...W('.sb-list').querySelectorAll('[data-seq]')].some(e => e.textContent.includes({}))",
        json!(text)
    )
}

async fn customer_sends(client: &Client, text: &str) {
    run(
        client,
        "const i = W('.sb-input'); i.value = arguments[0]; W('.sb-form').requestSubmit();",
        vec![json!(text)],
    )
    .await;
    until(client, &delivered(text)).await;
}

async fn agent_desk(driver: u16, app: &TestApp, demo: &Demo) -> Client {
    let agent = session(driver).await;
    agent
        .goto(&format!("{}/workbench/", app.base))
        .await
        .unwrap();
    until(&agent, "!document.getElementById('login').hidden").await;
    agent
        .find(Locator::Css("input[name=account]"))
        .await
        .unwrap()
        .send_keys(&demo.agents[0].account)
        .await
        .unwrap();
    agent
        .find(Locator::Css("input[name=password]"))
        .await
        .unwrap()
        .send_keys(&demo.agents[0].password)
        .await
        .unwrap();
    agent
        .find(Locator::Css("#login-form button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    until(&agent, "!document.getElementById('desk').hidden").await;
    agent
        .find(Locator::Id("sign-in"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    until(
        &agent,
        "document.getElementById('sign-in').textContent.includes('Sign out')",
    )
    .await;
    agent
}

/// The agent types a reply in the workbench and sends it.
async fn agent_replies(agent: &Client, text: &str) {
    agent
        .find(Locator::Id("reply-text"))
        .await
        .unwrap()
        .send_keys(text)
        .await
        .unwrap();
    agent
        .find(Locator::Css("#reply button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// The demo tenant, validating tokens with an example backend (answered with its base
/// URL) and with the third-party key [`KEY`] on its web channel.
async fn prepared() -> (TestApp, Demo, Child, String) {
    let app = TestApp::start().await;
    let demo = bootstrap::ensure_demo(&app.store, None).await.unwrap();
    let admin = app.login(&demo.admin.account, &demo.admin.password).await;
    let (backend, base) = enterprise(&app, &demo, &[]).await;
    let validation = format!("{base}/rest/cc-messaging/v1/thirdparty/chatThirdPartyValidate");
    let settings =
        json!({"name": "demo", "timeZone": "UTC", "tokenValidation": {"url": validation}});
    admin.put("/api/v1/tenant", settings).await.expect(200);
    let channel_path = format!("/api/v1/channels/{}", demo.channel_config_id);
    let mut channel = admin.get(&channel_path).await.expect(200);
    for key in ["channelConfigId", "secretsSet", "createdAt", "updatedAt"] {
        channel.as_object_mut().unwrap().remove(key);
    }
    channel["secrets"] = json!({"secretKey": KEY});
    admin.put(&channel_path, channel).await.expect(200);
    (app, demo, backend, base)
}

#[tokio::test]
async fn the_seed_pages_chat_with_an_agent_in_the_workbench() {
    if prerequisites().is_none() {
        return;
    }
    let (app, demo, _token_backend, token_base) = prepared().await;

    let (_driver, driver) = chromedriver().await;
    let agent = agent_desk(driver, &app, &demo).await;

    // Token mode, from the enterprise's origin.
    let customer = session(driver).await;
    let page = format!("{token_base}/token-mode/");
    customer.goto(&page).await.unwrap();
    until(&customer, "W('.sb-button')").await;
    run(&customer, "W('.sb-button').click();", vec![]).await;
    until(&customer, &delivered("Demo agent 1")).await;
    customer_sends(&customer, "Where is my order?").await;

    until(
        &agent,
        "document.querySelectorAll('#conversations li').length > 0",
    )
    .await;
    agent
        .find(Locator::Css("#conversations li"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    until(
        &agent,
        "document.getElementById('messages').textContent.includes('Where is my order?')",
    )
    .await;
    until(
        &agent,
        "document.getElementById('customer-name').textContent === 'Zhang San'",
    )
    .await;
    agent_replies(&agent, "On its way!").await;
    until(&customer, &delivered("On its way!")).await;

    // The customer rates the service, now that an agent has answered.
    run(
        &customer,
        "W('.sb-rate').click(); W('.sb-stars [data-rating=\"4\"]').click();
        W('.sb-comment').value = 'quick and kind'; W('.sb-rating-send').click();",
        vec![],
    )
    .await;
    until(
        &customer,
        "W('.sb-list').textContent.includes('Thank you for your evaluation')",
    )
    .await;

    // A picture from the customer reaches the agent's screen as an image.
    run(&customer, "const bytes = Uint8Array.from(atob(arguments[0]), c => c.charCodeAt(0));
        const transfer = new DataTransfer(); transfer.items.add(new File([bytes], 'dot.png', {type: 'image/png'}));
        const input = W('.sb-file'); input.files = transfer.files; input.dispatchEvent(new Event('change'));",
        vec![json!(ONE_PIXEL_PNG)]).await;
    until(&customer, "W('.sb-list').querySelector('[data-seq] img')").await;
    until(&agent, "document.querySelector('#messages img')").await;
    let loaded = execute(&agent, "const done = arguments[arguments.length - 1]; const image = document.querySelector('#messages img');
        if (image.complete) { done(image.naturalWidth); } else { image.onload = () => done(image.naturalWidth); image.onerror = () => done(-1); }",
        vec![], true).await;
    assert_eq!(loaded, json!(1), "the agent's browser loads the picture");

    // A reload shows the conversation once.
    customer.goto(&page).await.unwrap();
    until(&customer, &delivered("On its way!")).await;
    let shown = run(
        &customer,
        "return [...W('.sb-list').querySelectorAll('[data-seq]')].map(e => Number(e.dataset.seq));",
        vec![],
    )
    .await;
    let seqs: Vec<u64> = shown
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert_eq!(
        seqs,
        vec![1, 2, 3, 4],
        "the connected notice, the question, the answer and the picture, once each"
    );

    // The connection drops after the server stored a send: the retry stores nothing new.
    run(
        &customer,
        "const real = window.fetch; let cut = false;
        window.fetch = function (url, options) { const answer = real.apply(this, arguments);
          if (!cut && options && options.method === 'POST' && String(url).endsWith('/messages')) {
            cut = true; return answer.then(() => { throw new TypeError('connection cut'); }); }
          return answer; };",
        vec![],
    )
    .await;
    customer_sends(&customer, "Is it insured?").await;
    let tenant = app.store.tenant(demo.tenant_space_id);
    let agent_id = app
        .store
        .platform()
        .account_by_name(&demo.agents[0].account)
        .await
        .unwrap()
        .unwrap()
        .id;
    let held = tenant
        .conversations_of_agent(switchboard_domain::EmployeeId(agent_id))
        .await
        .unwrap();
    let stored = tenant.messages_after(held[0].id, 0, 100).await.unwrap();
    let asked = stored
        .iter()
        .filter(|m| {
            serde_json::to_string(&m.content)
                .unwrap()
                .contains("Is it insured?")
        })
        .count();
    assert_eq!(asked, 1, "a retried send is stored once");
    let evaluation = tenant.evaluation(held[0].id).await.unwrap().unwrap();
    assert_eq!(
        (evaluation.rating, evaluation.comment.as_str()),
        (4, "quick and kind")
    );
    until(
        &agent,
        "document.getElementById('messages').textContent.includes('Is it insured?')",
    )
    .await;

    // Authorization mode, from another origin and for another user.
    let (_signing_backend, signing_base) = enterprise(
        &app,
        &demo,
        &["--user-id", "u-2002", "--user-name", "Li Si"],
    )
    .await;
    let second = session(driver).await;
    second
        .goto(&format!("{signing_base}/authorization-mode/"))
        .await
        .unwrap();
    until(&second, "W('.sb-button')").await;
    run(&second, "W('.sb-button').click();", vec![]).await;
    until(&second, &delivered("Demo agent 1")).await;
    customer_sends(&second, "Hello from the signed page").await;
    until(
        &agent,
        "document.querySelectorAll('#conversations li').length > 1",
    )
    .await;

    for client in [customer, second, agent] {
        client.close().await.unwrap();
    }
}

#[tokio::test]
async fn refused_tokens_bad_signatures_and_stale_timestamps_keep_the_widget_out() {
    if prerequisites().is_none() {
        return;
    }
    let (app, demo, _validator, _) = prepared().await;
    let (_driver, driver) = chromedriver().await;

    // Tokens of another backend are not ones the validator issued.
    let (_stranger, stranger_base) = enterprise(&app, &demo, &[]).await;
    let (_forger, forger_base) = enterprise(
        &app,
        &demo,
        &["--secret-key", "WrongKeyWrongKeyWrongKey12345"],
    )
    .await;
    let (_late, late_base) = enterprise(&app, &demo, &["--clock-skew-seconds", "-600"]).await;
    let cases = [
        (format!("{stranger_base}/token-mode/"), "rejected token"),
        (
            format!("{forger_base}/authorization-mode/"),
            "bad signature",
        ),
        (
            format!("{late_base}/authorization-mode/"),
            "stale timestamp",
        ),
    ];
    for (page, case) in cases {
        let client = session(driver).await;
        client.goto(&page).await.unwrap();
        let status = request_finished(&client, "newThirdPartyClient.js").await;
        assert_eq!(status, 401, "{case}: the loader refuses");
        let widget = run(
            &client,
            "return !!document.querySelector('[data-switchboard-widget]');",
            vec![],
        )
        .await;
        assert_eq!(widget, json!(false), "{case}: no widget");
        client.close().await.unwrap();
    }
}

/// A Telegram customer (through the local fake of the Bot API) reaches the workbench, and
/// a reply Telegram refuses for good is flagged on the agent's screen with the reason.
#[tokio::test]
async fn a_reply_a_platform_refuses_is_flagged_in_the_workbench() {
    if prerequisites().is_none() {
        return;
    }
    let fake = crate::platform_fake::Fake::start().await;
    let config = switchboard_server::ServerConfig {
        platform_endpoints: fake.endpoints(),
        ..Default::default()
    };
    let app =
        TestApp::start_with(config, std::sync::Arc::new(switchboard_server::SystemClock)).await;
    let demo = bootstrap::ensure_demo(&app.store, None).await.unwrap();
    let admin = app.login(&demo.admin.account, &demo.admin.password).await;
    let web = admin
        .get(&format!("/api/v1/channels/{}", demo.channel_config_id))
        .await
        .expect(200);
    let telegram = json!({"accessCode": "TG", "name": "telegram", "type": "TELEGRAM",
        "calledRouteId": web["calledRouteId"],
        "secrets": {"botToken": "123456:ABCdefGhIJKlmNoPQRstuVWXyz0123456789", "webhookSecret": "hook"}});
    let channel = admin.post("/api/v1/channels", telegram).await.expect(201);

    let (_driver, driver) = chromedriver().await;
    let agent = agent_desk(driver, &app, &demo).await;
    let update = json!({"update_id": 1, "message": {"message_id": 1, "date": 1_700_000_000,
        "chat": {"id": 4242, "type": "private"}, "from": {"id": 4242, "is_bot": false, "first_name": "Ann"},
        "text": "Hello from Telegram"}});
    let delivered = reqwest::Client::new()
        .post(format!(
            "{}/webhooks/telegram/{}",
            app.base,
            channel["channelConfigId"].as_str().unwrap()
        ))
        .header("x-telegram-bot-api-secret-token", "hook")
        .json(&update)
        .send()
        .await
        .unwrap();
    assert_eq!(delivered.status(), 200);
    until(
        &agent,
        "document.querySelectorAll('#conversations li').length > 0",
    )
    .await;
    // The list is drawn anew on every event (deliveries included): click in one step.
    run(
        &agent,
        "document.querySelector('#conversations li').click();",
        vec![],
    )
    .await;
    until(
        &agent,
        "document.getElementById('messages').textContent.includes('Hello from Telegram')",
    )
    .await;
    fake.refuse_next(
        1,
        403,
        json!({"ok": false, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}),
    );
    agent_replies(&agent, "Are you still there?").await;
    until(
        &agent,
        "[...document.querySelectorAll('#messages li.agent small.delivery.failed')]
            .some(e => e.textContent.includes('blocked by the user'))",
    )
    .await;
    agent.close().await.unwrap();
}
