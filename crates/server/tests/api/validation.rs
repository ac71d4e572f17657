use serde_json::{json, Value};

use crate::support::*;

/// One bad request and the field it must be refused for.
struct Case {
    path: &'static str,
    body: Value,
    status: u16,
    code: &'static str,
    field: String,
}

fn case(path: &'static str, body: Value, field: &str) -> Case {
    Case {
        path,
        body,
        status: 422,
        code: "validation_failed",
        field: field.to_owned(),
    }
}

fn shape(path: &'static str, body: Value, field: &str) -> Case {
    Case {
        path,
        body,
        status: 422,
        code: "invalid_field",
        field: field.to_owned(),
    }
}

fn conflict(path: &'static str, body: Value, field: &str) -> Case {
    Case {
        path,
        body,
        status: 409,
        code: "conflict",
        field: field.to_owned(),
    }
}

fn with(mut base: Value, key: &str, value: Value) -> Value {
    base[key] = value;
    base
}

fn segments(n: usize) -> Value {
    let list: Vec<Value> = (0..n)
        .map(
            |i| json!({"start": format!("{:02}:00", i * 2), "end": format!("{:02}:00", i * 2 + 1)}),
        )
        .collect();
    json!({"workday": list, "nonWorkday": []})
}

async fn counts(admin: &Session) -> Vec<i64> {
    let mut totals = Vec::new();
    for path in [
        "/api/v1/skill-queues",
        "/api/v1/called-routes",
        "/api/v1/employees",
        "/api/v1/channels",
    ] {
        totals.push(admin.get(path).await.expect(200)["total"].as_i64().unwrap());
    }
    totals
}

#[tokio::test]
async fn every_configuration_rule_refuses_its_bad_value_and_names_the_field() {
    let app = TestApp::start().await;
    let (_, admin) = app.tenant("acme").await;
    let b = basics(&admin).await;
    let voice = admin
        .post(
            "/api/v1/skill-queues",
            json!({"name": "voiceSkill", "type": "voice"}),
        )
        .await
        .expect(201);
    let voice = voice["id"].as_str().unwrap().to_owned();
    let voice_route = admin
        .post(
            "/api/v1/called-routes",
            json!({"accessCode": "20001", "mediaType": "voice", "skillQueueId": voice}),
        )
        .await
        .expect(201);
    let voice_route = voice_route["id"].as_str().unwrap().to_owned();
    let before = counts(&admin).await;

    let queue = json!({"name": "sales", "type": "multimedia"});
    let route = json!({"accessCode": "30001", "mediaType": "multimedia", "skillQueueId": b.queue});
    let ann = agent("ann", 101, &b.queue);
    let web = web_channel("SHOP", &b.route);
    let cases = vec![
        case(
            "/api/v1/skill-queues",
            with(queue.clone(), "name", json!("q".repeat(21))),
            "name",
        ),
        case(
            "/api/v1/skill-queues",
            with(queue.clone(), "name", json!("my queue")),
            "name",
        ),
        case(
            "/api/v1/skill-queues",
            with(queue.clone(), "maxWaitingSeconds", json!(0)),
            "maxWaitingSeconds",
        ),
        case(
            "/api/v1/skill-queues",
            with(queue.clone(), "maxWaitingSeconds", json!(60001)),
            "maxWaitingSeconds",
        ),
        case(
            "/api/v1/skill-queues",
            with(queue.clone(), "maxQueued", json!(0)),
            "maxQueued",
        ),
        case(
            "/api/v1/skill-queues",
            with(queue.clone(), "maxQueued", json!(10001)),
            "maxQueued",
        ),
        case(
            "/api/v1/skill-queues",
            with(queue.clone(), "description", json!("d".repeat(51))),
            "description",
        ),
        case(
            "/api/v1/skill-queues",
            with(queue.clone(), "wrapUpSeconds", json!(3601)),
            "wrapUpSeconds",
        ),
        case(
            "/api/v1/skill-queues",
            with(
                queue.clone(),
                "policies",
                json!({"skillBusy": {"action": "transfer", "queueId": voice}}),
            ),
            "policies.skillBusy.queueId",
        ),
        shape(
            "/api/v1/skill-queues",
            with(queue.clone(), "type", json!("fax")),
            "type",
        ),
        shape(
            "/api/v1/skill-queues",
            with(queue.clone(), "maxQueued", json!(-1)),
            "maxQueued",
        ),
        conflict(
            "/api/v1/skill-queues",
            with(queue, "name", json!("mediaSkill")),
            "name",
        ),
        case(
            "/api/v1/called-routes",
            with(route.clone(), "accessCode", json!("12a")),
            "accessCode",
        ),
        case(
            "/api/v1/called-routes",
            with(route.clone(), "extensionCode", json!("x")),
            "extensionCode",
        ),
        case(
            "/api/v1/called-routes",
            with(route.clone(), "mediaType", json!("voice")),
            "skillQueueId",
        ),
        conflict(
            "/api/v1/called-routes",
            with(route, "accessCode", json!("10001")),
            "accessCode",
        ),
        case(
            "/api/v1/employees",
            with(ann.clone(), "account", json!("a b")),
            "account",
        ),
        case(
            "/api/v1/employees",
            with(ann.clone(), "password", json!("short")),
            "password",
        ),
        case(
            "/api/v1/employees",
            json!({"account": "ann", "name": "Ann", "role": "agent", "agent": {"workNo": 100, "agentType": "multimedia"}}),
            "agent.workNo",
        ),
        case(
            "/api/v1/employees",
            json!({"account": "ann", "name": "Ann", "role": "agent", "agent": {"workNo": 101, "agentType": "multimedia", "maxConcurrentChats": 61}}),
            "agent.maxConcurrentChats",
        ),
        case(
            "/api/v1/employees",
            json!({"account": "ann", "name": "Ann", "role": "agent", "agent": {"workNo": 101, "agentType": "multimedia",
            "skills": [{"queueId": b.queue, "skillWeight": 0, "agentWeight": 1}]}}),
            "agent.skills[0].skillWeight",
        ),
        case(
            "/api/v1/employees",
            json!({"account": "ann", "name": "Ann", "role": "agent", "agent": {"workNo": 101, "agentType": "multimedia",
            "skills": [{"queueId": b.queue, "skillWeight": 1, "agentWeight": 1}, {"queueId": voice, "skillWeight": 1, "agentWeight": 1}]}}),
            "agent.skills[1].queueId",
        ),
        case(
            "/api/v1/employees",
            json!({"account": "ann", "name": "Ann", "role": "agent", "agent": {"workNo": 101, "agentType": "audio",
            "skills": [{"queueId": b.queue, "skillWeight": 1, "agentWeight": 1}]}}),
            "agent.skills[0].queueId",
        ),
        case(
            "/api/v1/employees",
            json!({"account": "vic", "name": "Vic", "role": "agent", "agent": {"workNo": 101, "agentType": "video"}}),
            "agent.agentType",
        ),
        conflict(
            "/api/v1/employees",
            with(ann, "account", json!("ACME_ADMIN")),
            "account",
        ),
        case(
            "/api/v1/channels",
            with(web.clone(), "accessCode", json!("1SHOP")),
            "accessCode",
        ),
        case(
            "/api/v1/channels",
            with(web.clone(), "name", json!("n".repeat(65))),
            "name",
        ),
        case(
            "/api/v1/channels",
            with(web.clone(), "secrets", json!({"secretKey": "k".repeat(44)})),
            "secrets.secretKey",
        ),
        case(
            "/api/v1/channels",
            with(web.clone(), "workTime", segments(5)),
            "workTime.workday[4]",
        ),
        case(
            "/api/v1/channels",
            with(web.clone(), "queueReminder", json!({"intervalSeconds": 0})),
            "queueReminder.intervalSeconds",
        ),
        case(
            "/api/v1/channels",
            with(
                web.clone(),
                "chatbot",
                json!({"enabled": true, "name": "Ava"}),
            ),
            "transferKeywords",
        ),
        case(
            "/api/v1/channels",
            with(web.clone(), "calledRouteId", json!(voice_route)),
            "calledRouteId",
        ),
        case(
            "/api/v1/channels",
            with(web.clone(), "calledRouteId", json!("12345")),
            "calledRouteId",
        ),
        case(
            "/api/v1/channels",
            json!({"accessCode": "TG", "name": "tg", "type": "TELEGRAM", "calledRouteId": b.route}),
            "secrets.botToken",
        ),
        case(
            "/api/v1/channels",
            json!({"accessCode": "FB", "name": "fb", "type": "FACEBOOK", "calledRouteId": b.route,
            "facebook": {"appId": "42", "pages": [{"pageId": "7"}]}, "secrets": {"appSecret": "s", "verifyToken": "v"}}),
            "secrets.pageTokens.7",
        ),
        shape(
            "/api/v1/channels",
            with(web.clone(), "colour", json!("red")),
            "colour",
        ),
        shape(
            "/api/v1/channels",
            with(web.clone(), "type", json!("FAX")),
            "type",
        ),
        shape(
            "/api/v1/channels",
            with(
                web.clone(),
                "workTime",
                json!({"workday": [{"start": "08:00", "end": "24:30"}], "nonWorkday": []}),
            ),
            "workTime.workday[0].end",
        ),
        conflict(
            "/api/v1/channels",
            with(web, "accessCode", json!("WEBCHAT")),
            "accessCode",
        ),
    ];
    for c in cases {
        let reply = admin.post(c.path, c.body.clone()).await;
        assert_eq!(
            (
                reply.status,
                reply.body["code"].as_str(),
                reply.body["field"].as_str()
            ),
            (c.status, Some(c.code), Some(c.field.as_str())),
            "POST {} {} answered {}",
            c.path,
            c.body,
            reply.body
        );
    }
    assert_eq!(
        counts(&admin).await,
        before,
        "no refused request changed anything"
    );
}

#[tokio::test]
async fn tenant_rules_are_checked_for_the_operator_and_the_administrator() {
    let app = TestApp::start().await;
    let operator = app.operator().await;
    let tenant = |name: &str| json!({"name": name, "admin": {"account": format!("{name}_admin")}});
    let bad_zone = with(tenant("acme"), "timeZone", json!("Mars/Base"));
    operator
        .post("/api/v1/tenants", bad_zone)
        .await
        .expect_error(422, "validation_failed", Some("timeZone"));
    let bad_limit = with(
        tenant("acme"),
        "limits",
        json!({"voiceAgents": 0, "videoAgents": 0, "multimediaAgents": 100001, "versatileAgents": 0}),
    );
    operator
        .post("/api/v1/tenants", bad_limit)
        .await
        .expect_error(422, "validation_failed", Some("limits.multimediaAgents"));
    let bad_admin = json!({"name": "acme", "admin": {"account": "x"}});
    operator
        .post("/api/v1/tenants", bad_admin)
        .await
        .expect_error(422, "validation_failed", Some("admin.account"));
    let bad_password =
        json!({"name": "acme", "admin": {"account": "acme_admin", "password": "weak"}});
    operator
        .post("/api/v1/tenants", bad_password)
        .await
        .expect_error(422, "validation_failed", Some("admin.password"));
    assert_eq!(
        operator.get("/api/v1/tenants").await.expect(200)["total"],
        0
    );
    let (_, admin) = app.tenant("acme").await;
    let rename = json!({"name": "", "timeZone": "UTC"});
    admin
        .put("/api/v1/tenant", rename)
        .await
        .expect_error(422, "validation_failed", Some("name"));
    admin
        .get("/api/v1/skill-queues?pageSize=501")
        .await
        .expect_error(422, "validation_failed", Some("pageSize"));
    admin
        .get("/api/v1/skill-queues?type=fax")
        .await
        .expect_error(422, "validation_failed", Some("type"));
    admin
        .get("/api/v1/skill-queues?colour=red")
        .await
        .expect_error(422, "invalid_field", Some("query"));
}

#[tokio::test]
async fn malformed_unknown_and_oversized_bodies_are_refused_without_change() {
    let app = TestApp::start().await;
    let (_, admin) = app.tenant("acme").await;
    basics(&admin).await;
    let before = counts(&admin).await;
    let path = "/api/v1/skill-queues";
    admin
        .post_raw(path, "application/json", b"{\"name\": ".to_vec())
        .await
        .expect_error(400, "malformed_json", None);
    admin
        .post_raw(
            path,
            "application/json",
            b"{\"name\":\"q\",\"type\":\"voice\"} x".to_vec(),
        )
        .await
        .expect_error(400, "malformed_json", None);
    admin
        .post_raw(
            path,
            "text/plain",
            b"{\"name\":\"q\",\"type\":\"voice\"}".to_vec(),
        )
        .await
        .expect_error(415, "unsupported_media_type", None);
    let mut huge = b"{\"name\":\"q\",\"type\":\"voice\",\"description\":\"".to_vec();
    huge.extend(std::iter::repeat_n(b'x', 2 * 1024 * 1024));
    huge.extend(b"\"}");
    admin
        .post_raw(path, "application/json", huge)
        .await
        .expect_error(413, "payload_too_large", None);
    admin
        .post_raw(
            path,
            "application/json",
            br#"{"name":"q","type":"voice","policies":{"skillBusy":{"action":"transfer"}}}"#
                .to_vec(),
        )
        .await
        .expect_error(422, "invalid_field", Some("policies.skillBusy.queueId"));
    admin
        .post(path, json!({"type": "voice"}))
        .await
        .expect_error(422, "invalid_field", Some("name"));
    assert_eq!(counts(&admin).await, before);
}
