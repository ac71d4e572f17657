//! The ACD wired into the server: decisions kept as contact records, queues watched by
//! supervisors, transfers, and the timers (silence, waiting, reconnect grace) driven by a
//! manual clock instead of waiting in real time.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use switchboard_server::ManualClock;

use crate::agent::{agent, customer, customer_sees, events, next_event, on_duty};
use crate::support::*;
use crate::webchat::{setup, Setup};

fn manual_clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(switchboard_store::ids::now_millis()))
}

async fn queue_id(setup: &Setup) -> String {
    let queues = setup.admin.get("/api/v1/skill-queues").await.expect(200);
    queues["items"][0]["id"].as_str().unwrap().to_owned()
}

async fn waiting(setup: &Setup, queue: &str) -> Vec<String> {
    let list = setup
        .admin
        .get(&format!("/api/v1/skill-queues/{queue}/waiting"))
        .await
        .expect(200);
    list.as_array()
        .unwrap()
        .iter()
        .map(|w| w["conversationId"].as_str().unwrap().to_owned())
        .collect()
}

async fn employee_id(setup: &Setup, account: &str) -> String {
    let list = setup.admin.get("/api/v1/employees").await.expect(200);
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["account"] == account)
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .unwrap()
}

async fn record_kinds(setup: &Setup, conversation: &str) -> Vec<String> {
    let record = setup
        .admin
        .get(&format!(
            "/api/v1/conversations/{conversation}/contact-record"
        ))
        .await
        .expect(200);
    record
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect()
}

/// Waits (bounded) until the customer's widget shows a message containing `text`.
async fn customer_gets(page: &crate::webchat::Page, conversation: &str, text: &str) -> Value {
    let mut after = 0;
    for _ in 0..20 {
        let seen = customer_sees(page, conversation, after).await;
        for message in seen["messages"].as_array().unwrap() {
            after = message["seq"].as_i64().unwrap();
            if message["content"]["text"]
                .as_str()
                .is_some_and(|t| t.contains(text))
            {
                return seen;
            }
        }
    }
    panic!("the customer never saw {text:?}");
}

#[tokio::test]
async fn queues_keep_their_order_for_supervisors_and_decisions_their_contact_record() {
    let app = TestApp::start().await;
    let setup = setup(&app, json!({})).await;
    let queue = queue_id(&setup).await;
    let mut conversations = Vec::new();
    for n in 0..3 {
        conversations.push(customer(&app, &setup, &format!("u-{n}")).await.1);
    }
    assert_eq!(waiting(&setup, &queue).await, conversations);

    let ann = agent(&app, &setup, "ann", 101).await;
    ann.post("/api/v1/agent/sign-in", json!({}))
        .await
        .expect(200);
    // Ann takes them in their order, up to her capacity.
    assert!(waiting(&setup, &queue).await.is_empty());
    for conversation in &conversations {
        assert_eq!(
            record_kinds(&setup, conversation).await,
            ["enqueued", "assigned"]
        );
    }
    // An agent (not a supervisor) may not watch.
    ann.get(&format!("/api/v1/skill-queues/{queue}/waiting"))
        .await
        .expect(403);
}

#[tokio::test]
async fn a_silent_customer_is_prompted_and_then_the_chat_ends_with_the_conclusion() {
    let clock = manual_clock();
    let app = TestApp::start_with_clock(clock.clone()).await;
    let timeout = json!({"customerTimeout": {"enabled": true, "promptAfterMinutes": 1,
        "prompt": "Still there?", "endAfterMinutes": 2, "conclusion": "Goodbye for now."}});
    let setup = setup(&app, timeout).await;
    let ann = agent(&app, &setup, "ann", 101).await;
    ann.post("/api/v1/agent/sign-in", json!({}))
        .await
        .expect(200);
    let (page, conversation) = customer(&app, &setup, "u-1").await;
    customer_gets(&page, &conversation, "connected to ann").await;

    clock.advance(Duration::from_secs(60));
    customer_gets(&page, &conversation, "Still there?").await;
    clock.advance(Duration::from_secs(60));
    let ended = customer_gets(&page, &conversation, "Goodbye for now.").await;
    assert_eq!(ended["state"], "wrapUp");
    let kinds = record_kinds(&setup, &conversation).await;
    assert!(kinds.ends_with(&["wrapUpStarted".to_owned()]), "{kinds:?}");
}

/// The agent's silence counts from the customer's last message after the agent's reply:
/// messages reach routing (folded, beside its commands) before a later command decides.
#[tokio::test]
async fn an_agent_silent_after_the_customer_wrote_loses_the_conversation() {
    let clock = manual_clock();
    let app = TestApp::start_with_clock(clock.clone()).await;
    let silence =
        json!({"agentTimeout": {"enabled": true, "afterSeconds": 30, "transferTo": "agent"}});
    let setup = setup(&app, silence).await;
    let ann = agent(&app, &setup, "ann", 101).await;
    let mut ann_events = on_duty(&app, &ann).await;
    let (page, conversation) = customer(&app, &setup, "u-1").await;
    next_event(&mut ann_events, "assigned").await;
    let bob = agent(&app, &setup, "bob", 102).await;
    let mut bob_events = on_duty(&app, &bob).await;
    let customer_writes = |id: &str, text: &str| {
        json!({"conversationId": conversation, "clientMessageId": id,
            "content": {"type": "text", "text": text}})
    };

    clock.advance(Duration::from_secs(20));
    let reply = json!({"clientMessageId": "a-1", "content": {"type": "text", "text": "Hello!"}});
    ann.post(
        &format!("/api/v1/agent/conversations/{conversation}/messages"),
        reply,
    )
    .await
    .expect(200);
    let (status, _) = page
        .call(Method::POST, "messages", Some(customer_writes("c-1", "Hi")))
        .await;
    assert_eq!(status, 200);
    // Past the 30 s from the assignment, within the 30 s from the customer's message.
    clock.advance(Duration::from_secs(20));
    bob.put("/api/v1/agent/status", json!({"status": "idle"}))
        .await
        .expect(200);
    let (status, _) = page
        .call(
            Method::POST,
            "messages",
            Some(customer_writes("c-2", "Still there?")),
        )
        .await;
    assert_eq!(status, 200);
    let heard = next_event(&mut ann_events, "message").await;
    assert_eq!(heard["message"]["content"]["text"], "Hi");
    let heard = next_event(&mut ann_events, "message").await;
    assert_eq!(heard["message"]["content"]["text"], "Still there?");

    clock.advance(Duration::from_secs(10));
    let away = next_event(&mut ann_events, "transferredAway").await;
    assert_eq!(away["reason"], "agentSilent");
    let taken = next_event(&mut bob_events, "assigned").await;
    assert_eq!(taken["conversation"]["id"], conversation.as_str());
    assert_eq!(
        record_kinds(&setup, &conversation).await,
        ["assigned", "transferred", "assigned"]
    );
}

#[tokio::test]
async fn waiting_past_the_maximum_releases_and_lets_the_customer_leave_a_message() {
    let clock = manual_clock();
    let app = TestApp::start_with_clock(clock.clone()).await;
    let setup = setup(&app, json!({"offlineMessages": true})).await;
    let queue = queue_id(&setup).await;
    let mut settings = setup
        .admin
        .get(&format!("/api/v1/skill-queues/{queue}"))
        .await
        .expect(200);
    for key in ["id", "createdAt", "updatedAt"] {
        settings.as_object_mut().unwrap().remove(key);
    }
    settings["maxWaitingSeconds"] = json!(30);
    setup
        .admin
        .put(&format!("/api/v1/skill-queues/{queue}"), settings)
        .await
        .expect(200);
    let (page, conversation) = customer(&app, &setup, "u-1").await;
    customer_gets(&page, &conversation, "number 1").await;
    // Someone who gives up waiting abandons the chat and leaves the queue.
    let (quitter, quitting) = customer(&app, &setup, "u-2").await;
    let (_, left) = quitter
        .call(
            Method::POST,
            "close",
            Some(json!({"conversationId": quitting})),
        )
        .await;
    assert_eq!(left["state"], "abandoned");
    assert_eq!(
        waiting(&setup, &queue).await,
        std::slice::from_ref(&conversation)
    );

    clock.advance(Duration::from_secs(30));
    let released = customer_gets(&page, &conversation, "leave a message").await;
    assert_eq!(released["state"], "offlineMessage");
    let note = json!({"conversationId": conversation, "clientMessageId": "offline-1",
        "content": {"type": "text", "text": "Please call me back."}});
    let (status, _) = page.call(Method::POST, "messages", Some(note)).await;
    assert_eq!(status, 200);
    let kinds = record_kinds(&setup, &conversation).await;
    assert_eq!(kinds, ["enqueued", "released"]);
    // Supervisors find the message to follow up on.
    let left = setup
        .admin
        .get("/api/v1/offline-messages")
        .await
        .expect(200);
    assert_eq!(left["items"][0]["id"], conversation.as_str());
    let transcript = setup
        .admin
        .get(&format!(
            "/api/v1/conversations/{conversation}/messages?after=0"
        ))
        .await
        .expect(200);
    let last = transcript.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["content"]["text"], "Please call me back.");
}

#[tokio::test]
async fn agents_transfer_to_a_queue_or_an_agent_and_bad_targets_are_refused() {
    let app = TestApp::start().await;
    let setup = setup(&app, json!({})).await;
    let vip = setup
        .admin
        .post(
            "/api/v1/skill-queues",
            json!({"name": "vip", "type": "multimedia"}),
        )
        .await
        .expect(201);
    let vip = vip["id"].as_str().unwrap();
    let ann = agent(&app, &setup, "ann", 101).await;
    setup
        .admin
        .post("/api/v1/employees", crate::support::agent("bob", 102, vip))
        .await
        .expect(201);
    let bob = app.login_first_time("bob", INITIAL).await;
    let bob_id = employee_id(&setup, "bob").await;
    let mut ann_events = events(&app, &ann).await;
    let mut bob_events = events(&app, &bob).await;
    ann.post("/api/v1/agent/sign-in", json!({}))
        .await
        .expect(200);
    let (page, conversation) = customer(&app, &setup, "u-1").await;
    next_event(&mut ann_events, "assigned").await;

    let targets = ann.get("/api/v1/agent/transfer-queues").await.expect(200);
    let names: Vec<_> = targets
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["mediaSkill", "vip"]);
    let path = format!("/api/v1/agent/conversations/{conversation}/transfer");
    let both = ann
        .post(&path, json!({"queueId": vip, "agentId": vip}))
        .await
        .expect(422);
    assert_eq!(both["field"], "queueId");
    // Bob is not signed in: not available.
    let absent = ann
        .post(&path, json!({"agentId": bob_id}))
        .await
        .expect(422);
    assert_eq!(absent["field"], "agentId");

    bob.post("/api/v1/agent/sign-in", json!({}))
        .await
        .expect(200);
    let moved = ann.post(&path, json!({"queueId": vip})).await.expect(200);
    assert_eq!(moved["agentId"], bob_id.as_str());
    next_event(&mut ann_events, "transferredAway").await;
    let taken = next_event(&mut bob_events, "assigned").await;
    assert_eq!(taken["conversation"]["id"], conversation.as_str());
    customer_gets(&page, &conversation, "connected to bob").await;
    let kinds = record_kinds(&setup, &conversation).await;
    assert_eq!(
        kinds,
        ["assigned", "transferRefused", "transferred", "assigned"]
    );
}

#[tokio::test]
async fn an_agent_whose_connection_drops_loses_its_conversations_after_the_grace() {
    let clock = manual_clock();
    let app = TestApp::start_with_clock(clock.clone()).await;
    let setup = setup(&app, json!({})).await;
    let queue = queue_id(&setup).await;
    let ann = agent(&app, &setup, "ann", 101).await;
    let mut socket = on_duty(&app, &ann).await;
    let (page, conversation) = customer(&app, &setup, "u-1").await;
    next_event(&mut socket, "assigned").await;
    drop(socket);

    // The server notices the drop on its own time, so the clock moves in steps; the
    // exact grace is the router's to prove (its unit tests).
    let mut waited = 0;
    while waiting(&setup, &queue).await.is_empty() {
        assert!(waited < 300, "still with the agent after {waited} s");
        clock.advance(Duration::from_secs(5));
        waited += 5;
    }
    assert!(waited >= 60, "requeued after {waited} s, within the grace");
    customer_gets(&page, &conversation, "number 1").await;
    assert_eq!(waiting(&setup, &queue).await, [conversation]);
}
