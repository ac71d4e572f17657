use std::time::Duration;

use futures_util::StreamExt;
use reqwest::Method;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::support::*;
use crate::webchat::{setup, user_data, Page, Setup, NEW_LOADER};

pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens the agent's event socket, then signs the agent in to routing.
pub async fn on_duty(app: &TestApp, agent: &Session) -> Socket {
    let socket = events(app, agent).await;
    agent
        .post("/api/v1/agent/sign-in", json!({}))
        .await
        .expect(200);
    socket
}

pub async fn events(app: &TestApp, agent: &Session) -> Socket {
    let url = format!(
        "{}/api/v1/agent/events",
        app.base.replace("http://", "ws://")
    );
    let mut request = url.into_client_request().unwrap();
    let bearer = format!("Bearer {}", agent.token.as_deref().unwrap());
    request
        .headers_mut()
        .insert("authorization", bearer.parse().unwrap());
    tokio_tungstenite::connect_async(request).await.unwrap().0
}

/// The next event of `kind`, skipping others; bounded in time.
pub async fn next_event(socket: &mut Socket, kind: &str) -> Value {
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let frame = socket.next().await.unwrap().unwrap();
            if let Ok(text) = frame.to_text() {
                let event: Value = serde_json::from_str(text).unwrap();
                if event["type"] == kind {
                    return event;
                }
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no {kind} event"))
}

pub async fn agent(app: &TestApp, setup: &Setup, account: &str, work_no: u32) -> Session {
    let queues = setup.admin.get("/api/v1/skill-queues").await.expect(200);
    let queue = queues["items"][0]["id"].as_str().unwrap();
    setup
        .admin
        .post(
            "/api/v1/employees",
            crate::support::agent(account, work_no, queue),
        )
        .await
        .expect(201);
    app.login_first_time(account, INITIAL).await
}

pub async fn customer(app: &TestApp, setup: &Setup, user: &str) -> (Page, String) {
    let page = Page::new(app, None);
    let mut data = user_data(setup, ("thirdUserToken", "good-token"));
    data["thirdUserId"] = json!(user);
    assert_eq!(page.load(NEW_LOADER, &data).await.0, 200);
    let (_, opened) = page.call(Method::POST, "conversation", None).await;
    (page, opened["conversationId"].as_str().unwrap().to_owned())
}

/// What the customer's widget gets, waiting for something new after `after`.
pub async fn customer_sees(page: &Page, conversation: &str, after: i64) -> Value {
    let path = format!("messages?conversationId={conversation}&after={after}&waitSeconds=10");
    page.call(Method::GET, &path, None).await.1
}

#[tokio::test]
async fn a_queued_customer_reaches_a_signed_in_agent_and_they_chat_both_ways() {
    let app = TestApp::start().await;
    let setup = setup(&app, json!({})).await;
    let queue = setup.admin.get("/api/v1/skill-queues").await.expect(200)["items"][0].clone();
    let mut fast = queue.clone();
    for key in ["id", "createdAt", "updatedAt"] {
        fast.as_object_mut().unwrap().remove(key);
    }
    fast["wrapUpSeconds"] = json!(1);
    setup
        .admin
        .put(
            &format!("/api/v1/skill-queues/{}", queue["id"].as_str().unwrap()),
            fast,
        )
        .await
        .expect(200);
    let ann = agent(&app, &setup, "ann", 101).await;

    let (page, conversation) = customer(&app, &setup, "u-1001").await;
    let queued = customer_sees(&page, &conversation, 0).await;
    assert_eq!(queued["messages"][0]["sender"]["kind"], "system");
    assert!(
        queued["messages"][0]["content"]["text"]
            .as_str()
            .unwrap()
            .contains("number 1"),
        "{queued}"
    );

    let mut socket = events(&app, &ann).await;
    let signed_in = ann
        .post("/api/v1/agent/sign-in", json!({}))
        .await
        .expect(200);
    assert_eq!(signed_in["status"], "idle");
    let assigned = next_event(&mut socket, "assigned").await;
    assert_eq!(assigned["conversation"]["id"], conversation.as_str());
    let connected = customer_sees(&page, &conversation, 1).await;
    assert!(
        connected["messages"][0]["content"]["text"]
            .as_str()
            .unwrap()
            .contains("connected to ann"),
        "{connected}"
    );
    assert_eq!(connected["state"], "assigned");

    let hello = json!({"conversationId": conversation, "clientMessageId": "c-1", "content": {"type": "text", "text": "Where is my order?"}});
    page.call(Method::POST, "messages", Some(hello)).await;
    let heard = next_event(&mut socket, "message").await;
    assert_eq!(heard["message"]["content"]["text"], "Where is my order?");
    let panel = ann
        .get(&format!(
            "/api/v1/agent/conversations/{conversation}/customer"
        ))
        .await
        .expect(200);
    assert_eq!(
        (
            panel["customer"]["name"].as_str(),
            panel["customer"]["externalId"].as_str()
        ),
        (Some("Zhang San"), Some("u-1001"))
    );
    assert_eq!(
        (panel["channelName"].as_str(), panel["channelType"].as_str()),
        (Some("shop"), Some("WEB"))
    );
    assert!(panel["earlier"].as_array().unwrap().is_empty());

    let rate = |rating: u8, comment: &str| json!({"conversationId": conversation, "rating": rating, "comment": comment});
    let (status, refused) = page
        .call(Method::POST, "evaluation", Some(rate(5, "fast")))
        .await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (409, Some("evaluation_not_allowed")),
        "not before an agent answered"
    );
    let reply =
        json!({"clientMessageId": "a-1", "content": {"type": "text", "text": "On its way!"}});
    let stored = ann
        .post(
            &format!("/api/v1/agent/conversations/{conversation}/messages"),
            reply.clone(),
        )
        .await
        .expect(200);
    assert_eq!(stored["duplicate"], false);
    assert_eq!(
        ann.post(
            &format!("/api/v1/agent/conversations/{conversation}/messages"),
            reply
        )
        .await
        .expect(200)["duplicate"],
        true
    );
    let answered = customer_sees(&page, &conversation, stored["seq"].as_i64().unwrap() - 1).await;
    assert_eq!(answered["messages"][0]["sender"]["kind"], "agent");
    assert_eq!(answered["messages"][0]["content"]["text"], "On its way!");
    assert_eq!(
        page.call(Method::POST, "evaluation", Some(rate(6, "")))
            .await
            .0,
        422
    );
    assert_eq!(
        page.call(Method::POST, "evaluation", Some(rate(5, "fast")))
            .await
            .0,
        200
    );
    let (status, last) = page
        .call(
            Method::POST,
            "evaluation",
            Some(rate(3, "a bit slow after all")),
        )
        .await;
    assert_eq!(
        (status, last["rating"].as_u64()),
        (200, Some(3)),
        "the last evaluation counts"
    );
    let history = ann
        .get(&format!(
            "/api/v1/agent/conversations/{conversation}/messages?after=0"
        ))
        .await
        .expect(200);
    assert_eq!(
        history.as_array().unwrap().len(),
        4,
        "queue notice, connected notice, question, answer"
    );

    let ended = ann
        .post(
            &format!("/api/v1/agent/conversations/{conversation}/end"),
            json!({}),
        )
        .await
        .expect(200);
    assert_eq!(ended["state"], "wrapUp");
    next_event(&mut socket, "wrapUpEnded").await;
    let closed = page
        .call(
            Method::GET,
            &format!("messages?conversationId={conversation}&after=0"),
            None,
        )
        .await
        .1;
    assert_eq!(closed["state"], "closed");
    assert!(ann
        .get("/api/v1/agent/conversations")
        .await
        .expect(200)
        .as_array()
        .unwrap()
        .is_empty());

    let history = ann.get("/api/v1/agent/history").await.expect(200);
    assert_eq!(
        (
            history["total"].as_i64(),
            history["items"][0]["id"].as_str()
        ),
        (Some(1), Some(conversation.as_str()))
    );
    let transcript = ann
        .get(&format!(
            "/api/v1/agent/conversations/{conversation}/messages?after=0"
        ))
        .await
        .expect(200);
    assert!(
        transcript
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["content"]["text"] == "On its way!"),
        "the transcript stays readable"
    );

    let replies = json!({"name": "acme", "timeZone": "UTC", "quickReplies": [{"title": "Greeting", "text": "Hello! How can I help?"}]});
    setup.admin.put("/api/v1/tenant", replies).await.expect(200);
    let offered = ann.get("/api/v1/agent/quick-replies").await.expect(200);
    assert_eq!(offered[0]["text"], "Hello! How can I help?");
}

#[tokio::test]
async fn a_full_agent_leaves_the_next_customer_waiting_until_a_slot_frees() {
    let app = TestApp::start().await;
    let setup = setup(&app, json!({})).await;
    let queue = setup.admin.get("/api/v1/skill-queues").await.expect(200)["items"][0].clone();
    let queue_id = queue["id"].as_str().unwrap().to_owned();
    let no_wrap_up = json!({"name": queue["name"], "type": "multimedia", "wrapUpSeconds": 0});
    setup
        .admin
        .put(&format!("/api/v1/skill-queues/{queue_id}"), no_wrap_up)
        .await
        .expect(200);
    let mut one_chat = crate::support::agent("ann", 101, &queue_id);
    one_chat["agent"]["maxConcurrentChats"] = json!(1);
    setup
        .admin
        .post("/api/v1/employees", one_chat)
        .await
        .expect(201);
    let ann = app.login_first_time("ann", INITIAL).await;

    let mut socket = on_duty(&app, &ann).await;
    let (_, first) = customer(&app, &setup, "u-1001").await;
    assert_eq!(
        next_event(&mut socket, "assigned").await["conversation"]["id"],
        first.as_str()
    );
    let (second_page, second) = customer(&app, &setup, "u-2002").await;
    let waiting = second_page
        .call(
            Method::GET,
            &format!("messages?conversationId={second}&after=0"),
            None,
        )
        .await
        .1;
    assert_eq!(waiting["state"], "queued", "the agent's one slot is taken");
    let loads = ann.get("/api/v1/agent/queues").await.expect(200);
    assert_eq!(
        (loads[0]["name"].as_str(), loads[0]["waiting"].as_u64()),
        (Some("mediaSkill"), Some(1)),
        "{loads}"
    );
    assert!(waiting["messages"][0]["content"]["text"]
        .as_str()
        .unwrap()
        .contains("number 1"));

    ann.post(
        &format!("/api/v1/agent/conversations/{first}/end"),
        json!({}),
    )
    .await
    .expect(200);
    assert_eq!(
        next_event(&mut socket, "assigned").await["conversation"]["id"],
        second.as_str(),
        "the freed slot serves the next"
    );

    ann.post("/api/v1/agent/sign-out", json!({}))
        .await
        .expect(204);
    let requeued = second_page
        .call(
            Method::GET,
            &format!("messages?conversationId={second}&after=0"),
            None,
        )
        .await
        .1;
    assert_eq!(
        requeued["state"], "queued",
        "signing out puts the conversation back in the queue"
    );
    ann.post("/api/v1/agent/sign-in", json!({}))
        .await
        .expect(200);
    assert_eq!(
        next_event(&mut socket, "assigned").await["conversation"]["id"],
        second.as_str()
    );
}

#[tokio::test]
async fn only_agents_use_the_agent_api_and_only_for_their_own_conversations() {
    let app = TestApp::start().await;
    let setup = setup(&app, json!({})).await;
    setup
        .admin
        .post("/api/v1/agent/sign-in", json!({}))
        .await
        .expect_error(403, "forbidden", None);
    let ann = agent(&app, &setup, "ann", 101).await;
    let bob = agent(&app, &setup, "bob", 102).await;
    let mut socket = on_duty(&app, &ann).await;
    let (_, conversation) = customer(&app, &setup, "u-1001").await;
    next_event(&mut socket, "assigned").await;
    bob.get(&format!(
        "/api/v1/agent/conversations/{conversation}/messages"
    ))
    .await
    .expect_error(404, "not_found", None);
    let reply = json!({"clientMessageId": "b-1", "content": {"type": "text", "text": "hi"}});
    bob.post(
        &format!("/api/v1/agent/conversations/{conversation}/messages"),
        reply,
    )
    .await
    .expect_error(404, "not_found", None);
    bob.post(
        &format!("/api/v1/agent/conversations/{conversation}/end"),
        json!({}),
    )
    .await
    .expect_error(404, "not_found", None);
    app.anonymous()
        .post("/api/v1/agent/sign-in", json!({}))
        .await
        .expect_error(401, "unauthenticated", None);
}

#[tokio::test]
async fn images_and_documents_travel_both_ways_and_only_as_safe_files() {
    let app = TestApp::start().await;
    let setup = setup(&app, json!({})).await;
    let ann = agent(&app, &setup, "ann", 101).await;
    let mut socket = on_duty(&app, &ann).await;
    let (page, conversation) = customer(&app, &setup, "u-1001").await;
    next_event(&mut socket, "assigned").await;

    let png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR".to_vec();
    let upload = |name: &str, body: Vec<u8>| {
        let url = format!(
            "{}/service-cloud/webchat/v1/files?conversationId={conversation}&name={name}",
            page.base
        );
        page.client.post(url).body(body).send()
    };
    let stored: Value = upload("../photo.png", png.clone())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (stored["name"].as_str(), stored["mimeType"].as_str()),
        (Some("photo.png"), Some("image/png"))
    );
    let file_id = stored["fileId"].as_str().unwrap().to_owned();
    let refused = upload("page.html", b"<html><script>alert(1)</script>".to_vec())
        .await
        .unwrap();
    assert_eq!(
        refused.status(),
        422,
        "HTML is not a file type customers may send"
    );
    let too_big = upload("big.txt", vec![b'a'; 10 * 1024 * 1024 + 2])
        .await
        .unwrap();
    assert_eq!(too_big.status(), 413);

    let image = json!({"conversationId": conversation, "clientMessageId": "img-1",
        "content": {"type": "image", "fileId": file_id, "name": "renamed-by-client.exe"}});
    let (status, sent) = page.call(Method::POST, "messages", Some(image)).await;
    assert_eq!(status, 200, "{sent}");
    assert_eq!(
        sent["message"]["content"]["name"], "photo.png",
        "the stored name, not the client's claim"
    );
    let heard = next_event(&mut socket, "message").await;
    assert_eq!(heard["message"]["content"]["type"], "image");
    let forged = json!({"conversationId": conversation, "clientMessageId": "img-2", "content": {"type": "image", "fileId": "no-such-file"}});
    assert_eq!(
        page.call(Method::POST, "messages", Some(forged)).await.0,
        422
    );

    let client = reqwest::Client::new();
    let seen = client
        .get(format!(
            "{}/api/v1/agent/conversations/{conversation}/files/{file_id}",
            app.base
        ))
        .bearer_auth(ann.token.as_deref().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(seen.headers()["content-type"], "image/png");
    assert_eq!(seen.headers()["x-content-type-options"], "nosniff");
    assert!(seen.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("sandbox"));
    assert_eq!(seen.bytes().await.unwrap().to_vec(), png);

    let pdf = client
        .post(format!(
            "{}/api/v1/agent/conversations/{conversation}/files?name=invoice.pdf",
            app.base
        ))
        .bearer_auth(ann.token.as_deref().unwrap())
        .body(b"%PDF-1.7 invoice".to_vec())
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let reply = json!({"clientMessageId": "a-file", "content": {"type": "file", "fileId": pdf["fileId"], "name": "x", "size": 1, "mimeType": "text/html"}});
    let stored = ann
        .post(
            &format!("/api/v1/agent/conversations/{conversation}/messages"),
            reply,
        )
        .await
        .expect(200);
    assert_eq!(stored["message"]["content"]["mimeType"], "application/pdf");
    let url = format!(
        "{}/service-cloud/webchat/v1/files/{}?conversationId={conversation}",
        page.base,
        pdf["fileId"].as_str().unwrap()
    );
    let got = page.client.get(url).send().await.unwrap();
    assert_eq!(
        got.headers()["content-type"],
        "application/octet-stream",
        "documents are downloaded, never rendered"
    );
    assert!(got.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment; filename*=UTF-8''invoice.pdf"));

    let stranger = Page::new(&app, None);
    let url = format!(
        "{}/service-cloud/webchat/v1/files/{file_id}?conversationId={conversation}",
        app.base
    );
    assert_eq!(
        stranger.client.get(url).send().await.unwrap().status(),
        401,
        "no session, no file"
    );
}

/// A customer's widget socket, opened with the session cookie the loader set.
async fn widget_socket(app: &TestApp, cookie: &str, conversation: &str, after: i64) -> Socket {
    let url = format!(
        "{}/service-cloud/webchat/v1/socket?conversationId={conversation}&after={after}",
        app.base.replace("http://", "ws://")
    );
    let mut request = url.into_client_request().unwrap();
    request
        .headers_mut()
        .insert("cookie", cookie.parse().unwrap());
    tokio_tungstenite::connect_async(request).await.unwrap().0
}

/// The next event of each of two kinds, whichever comes first.
async fn two_events(socket: &mut Socket, first: &str, second: &str) -> (Value, Value) {
    let (mut one, mut other) = (None, None);
    while one.is_none() || other.is_none() {
        let frame = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .unwrap_or_else(|_| panic!("no {first} and {second} events"))
            .unwrap()
            .unwrap();
        let event: Value = serde_json::from_str(frame.to_text().unwrap()).unwrap();
        if event["type"] == first && one.is_none() {
            one = Some(event);
        } else if event["type"] == second && other.is_none() {
            other = Some(event);
        }
    }
    (one.unwrap(), other.unwrap())
}

async fn send_frame(socket: &mut Socket, frame: Value) {
    use futures_util::SinkExt;
    let text = tokio_tungstenite::tungstenite::Message::text(frame.to_string());
    socket.send(text).await.unwrap();
}

#[tokio::test]
async fn the_widget_socket_carries_a_chat_both_ways_without_losing_or_repeating() {
    let app = TestApp::start().await;
    let setup = setup(&app, json!({})).await;
    let ann = agent(&app, &setup, "ann", 101).await;
    let mut desk = on_duty(&app, &ann).await;

    let page = Page::new(&app, None);
    let (status, headers, _) = page
        .load(
            NEW_LOADER,
            &user_data(&setup, ("thirdUserToken", "good-token")),
        )
        .await;
    assert_eq!(status, 200);
    let cookie = headers["set-cookie"].to_str().unwrap();
    let cookie = cookie.split(';').next().unwrap().to_owned();
    let (_, opened) = page.call(Method::POST, "conversation", None).await;
    let conversation = opened["conversationId"].as_str().unwrap().to_owned();
    next_event(&mut desk, "assigned").await;

    let mut widget = widget_socket(&app, &cookie, &conversation, 0).await;
    // Routing's notice is stored just after the assignment: before or after the socket
    // opened, it comes, and so does the state.
    let (connected, opened_as) = two_events(&mut widget, "message", "state").await;
    assert!(
        connected["message"]["content"]["text"]
            .as_str()
            .unwrap()
            .contains("connected to ann"),
        "{connected}"
    );
    assert_eq!(opened_as["state"], "assigned");

    let hello = json!({"type": "send", "clientMessageId": "w-1", "content": {"type": "text", "text": "Hello over the socket"}});
    send_frame(&mut widget, hello.clone()).await;
    // The customer's own message comes back as a message frame, before or after its ack.
    let (ack, echoed) = two_events(&mut widget, "ack", "message").await;
    assert_eq!(
        (ack["clientMessageId"].as_str(), ack["duplicate"].as_bool()),
        (Some("w-1"), Some(false))
    );
    let seq = ack["seq"].as_i64().unwrap();
    let heard = next_event(&mut desk, "message").await;
    assert_eq!(heard["message"]["content"]["text"], "Hello over the socket");
    assert_eq!(heard["message"]["seq"].as_i64(), Some(seq));
    assert_eq!(echoed["message"]["seq"].as_i64(), Some(seq));

    send_frame(&mut widget, hello).await;
    let again = next_event(&mut widget, "ack").await;
    assert_eq!(
        (again["seq"].as_i64(), again["duplicate"].as_bool()),
        (Some(seq), Some(true))
    );
    send_frame(
        &mut widget,
        json!({"type": "send", "clientMessageId": "w-2", "content": {"type": "text", "text": ""}}),
    )
    .await;
    let empty = next_event(&mut widget, "error").await;
    assert_eq!(
        (empty["code"].as_str(), empty["clientMessageId"].as_str()),
        (Some("validation_failed"), Some("w-2"))
    );
    // Sends need not wait for acks; the acks come in the order of the sends.
    for n in 0..5 {
        send_frame(
            &mut widget,
            json!({"type": "send", "clientMessageId": format!("p-{n}"),
            "content": {"type": "text", "text": format!("pipelined {n}")}}),
        )
        .await;
    }
    let (mut acked, mut echoed, mut last) = (0, 0, seq);
    while acked < 5 || echoed < 5 {
        let frame = widget.next().await.unwrap().unwrap();
        let event: Value = serde_json::from_str(frame.to_text().unwrap()).unwrap();
        match event["type"].as_str() {
            Some("ack") => {
                assert_eq!(event["clientMessageId"], format!("p-{acked}"));
                assert!(
                    event["seq"].as_i64().unwrap() > last,
                    "stored in the order sent"
                );
                last = event["seq"].as_i64().unwrap();
                acked += 1;
            }
            Some("message") => echoed += 1,
            _ => {}
        }
    }
    send_frame(&mut widget, json!({"type": "shout"})).await;
    assert_eq!(
        next_event(&mut widget, "error").await["code"],
        "malformed_json"
    );

    let reply =
        json!({"clientMessageId": "a-1", "content": {"type": "text", "text": "Hello back"}});
    let path = format!("/api/v1/agent/conversations/{conversation}/messages");
    let answer = ann.post(&path, reply).await.expect(200)["seq"]
        .as_i64()
        .unwrap();
    let answered = next_event(&mut widget, "message").await;
    assert_eq!(
        (
            answered["message"]["seq"].as_i64(),
            answered["message"]["sender"]["kind"].as_str()
        ),
        (Some(answer), Some("agent"))
    );

    // The agent may answer over its socket too.
    send_frame(
        &mut desk,
        json!({"type": "reply", "conversationId": conversation, "clientMessageId": "a-2",
        "content": {"type": "text", "text": "And over my socket"}}),
    )
    .await;
    let acked = next_event(&mut desk, "ack").await;
    assert_eq!(
        (
            acked["clientMessageId"].as_str(),
            acked["duplicate"].as_bool()
        ),
        (Some("a-2"), Some(false))
    );
    let over_socket = next_event(&mut widget, "message").await;
    assert_eq!(
        over_socket["message"]["content"]["text"],
        "And over my socket"
    );
    assert_eq!(over_socket["message"]["seq"], acked["seq"]);
    send_frame(
        &mut desk,
        json!({"type": "reply", "conversationId": "1", "clientMessageId": "a-3",
        "content": {"type": "text", "text": "Not mine"}}),
    )
    .await;
    assert_eq!(next_event(&mut desk, "error").await["code"], "not_found");
    send_frame(&mut desk, json!({"type": "dance"})).await;
    assert_eq!(
        next_event(&mut desk, "error").await["code"],
        "malformed_json"
    );
    let answer = acked["seq"].as_i64().unwrap();

    // A reconnecting widget asks for what follows the last message it showed.
    drop(widget);
    let mut resumed = widget_socket(&app, &cookie, &conversation, answer - 1).await;
    let first = next_event(&mut resumed, "message").await;
    assert_eq!(
        first["message"]["seq"].as_i64(),
        Some(answer),
        "only what came after"
    );
    assert_eq!(next_event(&mut resumed, "state").await["state"], "assigned");

    ann.post(
        &format!("/api/v1/agent/conversations/{conversation}/end"),
        json!({}),
    )
    .await
    .expect(200);
    let moved = next_event(&mut resumed, "state").await;
    assert_ne!(moved["state"], "assigned", "{moved}");

    let stranger = widget_socket_refused(&app, &conversation).await;
    assert_eq!(stranger, 401, "no cookie, no socket");
}

async fn widget_socket_refused(app: &TestApp, conversation: &str) -> u16 {
    let url = format!(
        "{}/service-cloud/webchat/v1/socket?conversationId={conversation}",
        app.base.replace("http://", "ws://")
    );
    match tokio_tungstenite::connect_async(url).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => response.status().as_u16(),
        other => panic!("expected a refusal, got {:?}", other.map(|_| ())),
    }
}
