use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn skill_queues_can_be_listed_updated_and_deleted_when_unused() {
    let app = TestApp::start().await;
    let (_, admin) = app.tenant("acme").await;
    let b = basics(&admin).await;
    let path = format!("/api/v1/skill-queues/{}", b.queue);
    let queue = admin.get(&path).await.expect(200);
    assert_eq!(
        (
            queue["maxWaitingSeconds"].as_u64(),
            queue["maxQueued"].as_u64(),
            queue["wrapUpSeconds"].as_u64()
        ),
        (Some(60), Some(100), Some(5))
    );
    let updated = admin
        .put(
            &path,
            json!({"name": "media2", "type": "multimedia", "maxQueued": 50}),
        )
        .await
        .expect(200);
    assert_eq!(
        (updated["name"].as_str(), updated["maxQueued"].as_u64()),
        (Some("media2"), Some(50))
    );
    admin
        .put(&path, json!({"name": "media2", "type": "voice"}))
        .await
        .expect_error(422, "validation_failed", Some("type"));
    admin.delete(&path).await.expect_error(409, "in_use", None);
    let spare = admin
        .post(
            "/api/v1/skill-queues",
            json!({"name": "spare", "type": "voice"}),
        )
        .await
        .expect(201);
    let listed = admin
        .get("/api/v1/skill-queues?type=voice")
        .await
        .expect(200);
    assert_eq!(
        (
            listed["total"].as_i64(),
            listed["items"][0]["name"].as_str()
        ),
        (Some(1), Some("spare"))
    );
    let spare_path = format!("/api/v1/skill-queues/{}", spare["id"].as_str().unwrap());
    admin.delete(&spare_path).await.expect(204);
    admin
        .get(&spare_path)
        .await
        .expect_error(404, "not_found", None);
    admin
        .get("/api/v1/skill-queues/not-a-number")
        .await
        .expect_error(404, "not_found", None);
}

#[tokio::test]
async fn called_routes_in_use_by_a_channel_cannot_be_deleted() {
    let app = TestApp::start().await;
    let (_, admin) = app.tenant("acme").await;
    let b = basics(&admin).await;
    let path = format!("/api/v1/called-routes/{}", b.route);
    admin.delete(&path).await.expect_error(409, "in_use", None);
    let moved = admin.put(&path, json!({"accessCode": "10002", "extensionCode": "1", "mediaType": "multimedia", "skillQueueId": b.queue})).await.expect(200);
    assert_eq!(moved["accessCode"], "10002");
    assert_eq!(
        admin
            .get("/api/v1/called-routes?q=100021")
            .await
            .expect(200)["total"],
        1
    );
    admin
        .delete(&format!("/api/v1/channels/{}", b.channel))
        .await
        .expect(204);
    admin.delete(&path).await.expect(204);
}

#[tokio::test]
async fn employees_are_filtered_paged_and_batch_configured() {
    let app = TestApp::start().await;
    let (_, admin) = app.tenant("acme").await;
    let b = basics(&admin).await;
    let mut ids = Vec::new();
    for (i, name) in ["ann", "bob", "cid"].iter().enumerate() {
        let created = admin
            .post("/api/v1/employees", agent(name, 1519 + i as u32, &b.queue))
            .await
            .expect(201);
        ids.push(created["id"].as_str().unwrap().to_owned());
    }
    let page = admin
        .get("/api/v1/employees?role=agent&pageSize=2&page=2")
        .await
        .expect(200);
    assert_eq!(
        (
            page["total"].as_i64(),
            page["items"].as_array().unwrap().len()
        ),
        (Some(3), 1)
    );
    assert_eq!(
        admin.get("/api/v1/employees?q=BO").await.expect(200)["items"][0]["account"],
        "bob"
    );
    assert_eq!(
        admin
            .get(&format!("/api/v1/employees?queueId={}", b.queue))
            .await
            .expect(200)["total"],
        3
    );

    let by_range = json!({"selection": {"workNoRange": {"from": 1519, "to": 1520}}, "maxConcurrentChats": 3, "platformRole": "qualityChecker"});
    let changed = admin
        .post("/api/v1/employees/batch-configure", by_range)
        .await
        .expect(200);
    let accounts: Vec<&str> = changed
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["account"].as_str().unwrap())
        .collect();
    assert_eq!(accounts, vec!["ann", "bob"]);
    assert!(changed
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["agent"]["maxConcurrentChats"] == 3
            && e["agent"]["platformRole"] == "qualityChecker"));
    let cid = admin
        .get(&format!("/api/v1/employees/{}", ids[2]))
        .await
        .expect(200);
    assert_eq!(
        cid["agent"]["maxConcurrentChats"], 5,
        "outside the range: unchanged"
    );

    let by_ids = json!({"selection": {"employeeIds": [ids[2]]}, "password": "Batch-Passw0rd"});
    let reset = admin
        .post("/api/v1/employees/batch-configure", by_ids)
        .await
        .expect(200);
    assert_eq!(reset[0]["passwordChangeRequired"], true);
    app.login("cid", "Batch-Passw0rd").await;

    let me = admin.get("/api/v1/auth/me").await.expect(200);
    let own = format!("/api/v1/employees/{}", me["accountId"].as_str().unwrap());
    admin
        .delete(&own)
        .await
        .expect_error(422, "validation_failed", Some("id"));
    let demote = json!({"account": "acme_admin", "name": "Admin", "role": "agent"});
    admin
        .put(&own, demote)
        .await
        .expect_error(422, "validation_failed", Some("role"));
    admin
        .delete(&format!("/api/v1/employees/{}", ids[0]))
        .await
        .expect(204);
    assert_eq!(
        admin.get("/api/v1/employees?role=agent").await.expect(200)["total"],
        2
    );
}

#[tokio::test]
async fn channel_secrets_are_write_only() {
    let app = TestApp::start().await;
    let (_, admin) = app.tenant("acme").await;
    let b = basics(&admin).await;
    let token = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";
    let telegram = json!({"accessCode": "TG", "name": "tg", "type": "TELEGRAM", "calledRouteId": b.route,
        "telegram": {"botUsername": "acme_bot"}, "secrets": {"botToken": token, "webhookSecret": "hook_secret-1"}});
    let created = admin
        .post("/api/v1/channels", telegram.clone())
        .await
        .expect(201);
    assert_eq!(created["secretsSet"], json!(["botToken", "webhookSecret"]));
    let id = created["channelConfigId"].as_str().unwrap();
    let path = format!("/api/v1/channels/{id}");
    for reply in [
        created.clone(),
        admin.get(&path).await.expect(200),
        admin
            .get("/api/v1/channels?type=TELEGRAM")
            .await
            .expect(200),
    ] {
        let text = reply.to_string();
        assert!(
            !text.contains(token) && !text.contains("hook_secret-1"),
            "{text}"
        );
    }
    let mut update = telegram.clone();
    update["secrets"] = json!({"webhookSecret": ""});
    update["name"] = json!("telegram");
    let updated = admin.put(&path, update.clone()).await.expect(200);
    assert_eq!(
        (updated["name"].as_str(), updated["secretsSet"].clone()),
        (Some("telegram"), json!(["botToken"]))
    );
    update["secrets"] = json!({"botToken": ""});
    admin.put(&path, update.clone()).await.expect_error(
        422,
        "validation_failed",
        Some("secrets.botToken"),
    );
    update["type"] = json!("WEB");
    update["secrets"] = json!({});
    update.as_object_mut().unwrap().remove("telegram");
    admin
        .put(&path, update)
        .await
        .expect_error(422, "validation_failed", Some("type"));
}

#[tokio::test]
async fn a_facebook_app_belongs_to_one_channel_of_the_installation() {
    let app = TestApp::start().await;
    let (_, a) = app.tenant("alpha").await;
    let (_, b) = app.tenant("beta").await;
    let (ab, bb) = (basics(&a).await, basics(&b).await);
    let facebook = |route: &str, page: &str| {
        json!({"accessCode": "FB", "name": "fb", "type": "FACEBOOK", "calledRouteId": route,
            "facebook": {"appId": "1000001", "signatureAlgorithm": "SHA-256", "pages": [{"pageId": page, "name": "Shop"}]},
            "secrets": {"appSecret": "app-secret", "verifyToken": "verify-me", "pageTokens": {page: "page-token"}}})
    };
    let created = a
        .post("/api/v1/channels", facebook(&ab.route, "501"))
        .await
        .expect(201);
    assert_eq!(created["facebook"]["signatureAlgorithm"], "SHA-256");
    b.post("/api/v1/channels", facebook(&bb.route, "502"))
        .await
        .expect_error(409, "conflict", Some("facebook.appId"));
}

#[tokio::test]
async fn tenant_settings_and_limits() {
    let app = TestApp::start().await;
    let (tenant, admin) = app.tenant("acme").await;
    let b = basics(&admin).await;
    let settings = json!({"name": "Acme Corp", "timeZone": "Europe/Berlin", "locale": "zh", "nonWorkingDays": ["2026-12-25", "2026-10-01"]});
    let updated = admin.put("/api/v1/tenant", settings).await.expect(200);
    assert_eq!(
        updated["nonWorkingDays"],
        json!(["2026-10-01", "2026-12-25"])
    );
    assert_eq!(updated["limits"]["multimediaAgents"], 10);
    admin
        .post("/api/v1/employees", agent("ann", 101, &b.queue))
        .await
        .expect(201);
    let operator = app.operator().await;
    let limits = |n: u32| json!({"voiceAgents": 0, "videoAgents": 0, "multimediaAgents": n, "versatileAgents": 0});
    operator
        .put(&format!("/api/v1/tenants/{tenant}/limits"), limits(0))
        .await
        .expect_error(422, "validation_failed", Some("limits"));
    operator
        .put(&format!("/api/v1/tenants/{tenant}/limits"), limits(1))
        .await
        .expect(200);
    admin
        .post("/api/v1/employees", agent("bob", 102, &b.queue))
        .await
        .expect_error(422, "validation_failed", Some("agent.agentType"));
    let found = operator.get("/api/v1/tenants?q=corp").await.expect(200);
    assert_eq!(found["items"][0]["name"], "Acme Corp");
    operator
        .get("/api/v1/tenants/123")
        .await
        .expect_error(404, "not_found", None);
    operator
        .post(
            "/api/v1/tenants",
            json!({"name": "ACME CORP", "admin": {"account": "other_admin"}}),
        )
        .await
        .expect_error(409, "conflict", Some("name"));
}
