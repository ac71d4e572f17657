use serde_json::json;
use switchboard_server::bootstrap;

use crate::support::*;

#[tokio::test]
async fn the_operator_must_replace_the_one_time_password_before_anything_else() {
    let app = TestApp::start().await;
    let one_time = bootstrap::ensure_operator(&app.store)
        .await
        .unwrap()
        .unwrap();
    assert!(
        bootstrap::ensure_operator(&app.store)
            .await
            .unwrap()
            .is_none(),
        "created once"
    );
    let first = app.login("operator", &one_time).await;
    let me = first.get("/api/v1/auth/me").await.expect(200);
    assert_eq!(
        (me["role"].as_str(), me["passwordChangeRequired"].as_bool()),
        (Some("operator"), Some(true))
    );
    first
        .get("/api/v1/tenants")
        .await
        .expect_error(403, "password_change_required", None);
    let weak = json!({"currentPassword": one_time, "newPassword": "short"});
    first
        .post("/api/v1/auth/password", weak)
        .await
        .expect_error(422, "validation_failed", Some("newPassword"));
    let wrong = json!({"currentPassword": "not-it-at-all", "newPassword": PASSWORD});
    first
        .post("/api/v1/auth/password", wrong)
        .await
        .expect_error(422, "validation_failed", Some("currentPassword"));
    first
        .post(
            "/api/v1/auth/password",
            json!({"currentPassword": one_time, "newPassword": PASSWORD}),
        )
        .await
        .expect(204);
    first.get("/api/v1/tenants").await.expect(200);
    app.anonymous()
        .post(
            "/api/v1/auth/login",
            json!({"account": "operator", "password": one_time}),
        )
        .await
        .expect_error(401, "bad_credentials", None);
}

#[tokio::test]
async fn sign_in_sets_an_http_only_same_site_cookie_that_authenticates() {
    let app = TestApp::start().await;
    let (_, _) = app.tenant("acme").await;
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let login = client
        .post(format!("{}/api/v1/auth/login", app.base))
        .json(&json!({"account": "ACME_ADMIN", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let cookie = login.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("switchboard_session="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"),
        "{cookie}"
    );
    let me = client
        .get(format!("{}/api/v1/auth/me", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    let me: serde_json::Value = me.json().await.unwrap();
    assert_eq!(me["account"], "acme_admin");
    assert_eq!(me["role"], "tenantAdmin");
}

#[tokio::test]
async fn wrong_passwords_are_refused_and_repeated_failures_throttled() {
    let app = TestApp::start().await;
    app.tenant("acme").await;
    let anonymous = app.anonymous();
    anonymous
        .post(
            "/api/v1/auth/login",
            json!({"account": "nobody", "password": PASSWORD}),
        )
        .await
        .expect_error(401, "bad_credentials", None);
    for _ in 0..5 {
        anonymous
            .post(
                "/api/v1/auth/login",
                json!({"account": "acme_admin", "password": "Wrong-Passw0rd"}),
            )
            .await
            .expect_error(401, "bad_credentials", None);
    }
    let blocked = anonymous
        .post(
            "/api/v1/auth/login",
            json!({"account": "acme_admin", "password": PASSWORD}),
        )
        .await;
    let retry_after: u64 = blocked.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after > 0 && retry_after <= 900);
    blocked.expect_error(429, "too_many_attempts", None);
}

#[tokio::test]
async fn sign_out_ends_the_session() {
    let app = TestApp::start().await;
    let (_, admin) = app.tenant("acme").await;
    admin.get("/api/v1/tenant").await.expect(200);
    let reply = admin.post("/api/v1/auth/logout", json!({})).await;
    assert!(reply.headers["set-cookie"]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    reply.expect(204);
    admin
        .get("/api/v1/tenant")
        .await
        .expect_error(401, "unauthenticated", None);
}

#[tokio::test]
async fn every_route_checks_the_callers_role() {
    let app = TestApp::start().await;
    let (tenant, admin) = app.tenant("acme").await;
    let basics = basics(&admin).await;
    let created = admin
        .post("/api/v1/employees", agent("ann", 101, &basics.queue))
        .await
        .expect(201);
    assert!(
        created.get("oneTimePassword").is_none(),
        "a given password is not echoed"
    );
    let ann = app.login_first_time("ann", INITIAL).await;
    let operator = app.operator().await;
    let anonymous = app.anonymous();
    let tenant_routes = [
        "/api/v1/tenant",
        "/api/v1/skill-queues",
        "/api/v1/called-routes",
        "/api/v1/employees",
        "/api/v1/channels",
        &format!("/api/v1/channels/{}", basics.channel),
    ];
    for path in tenant_routes {
        anonymous
            .get(path)
            .await
            .expect_error(401, "unauthenticated", None);
        ann.get(path).await.expect_error(403, "forbidden", None);
        operator
            .get(path)
            .await
            .expect_error(403, "forbidden", None);
        admin.get(path).await.expect(200);
    }
    for path in [
        "/api/v1/tenants".to_owned(),
        format!("/api/v1/tenants/{tenant}"),
    ] {
        admin.get(&path).await.expect_error(403, "forbidden", None);
        ann.get(&path).await.expect_error(403, "forbidden", None);
        operator.get(&path).await.expect(200);
    }
    ann.post(
        "/api/v1/skill-queues",
        json!({"name": "mine", "type": "multimedia"}),
    )
    .await
    .expect_error(403, "forbidden", None);
    ann.get("/api/v1/auth/me").await.expect(200);
    let bogus = Session {
        token: Some("not-a-token".into()),
        ..anonymous
    };
    bogus
        .get("/api/v1/tenant")
        .await
        .expect_error(401, "unauthenticated", None);
}

#[tokio::test]
async fn a_disabled_tenant_cannot_sign_in_or_use_its_sessions() {
    let app = TestApp::start().await;
    let (tenant, admin) = app.tenant("acme").await;
    let operator = app.operator().await;
    let disabled = operator
        .post(&format!("/api/v1/tenants/{tenant}/disable"), json!({}))
        .await
        .expect(200);
    assert_eq!(disabled["disabled"], true);
    admin
        .get("/api/v1/tenant")
        .await
        .expect_error(403, "tenant_disabled", None);
    app.anonymous()
        .post(
            "/api/v1/auth/login",
            json!({"account": "acme_admin", "password": PASSWORD}),
        )
        .await
        .expect_error(403, "tenant_disabled", None);
    operator
        .post(&format!("/api/v1/tenants/{tenant}/enable"), json!({}))
        .await
        .expect(200);
    admin.get("/api/v1/tenant").await.expect(200);
}

#[tokio::test]
async fn an_administrator_reset_password_must_be_changed_and_ends_sessions() {
    let app = TestApp::start().await;
    let (_, admin) = app.tenant("acme").await;
    let basics = basics(&admin).await;
    let created = admin
        .post("/api/v1/employees", agent("ann", 101, &basics.queue))
        .await
        .expect(201);
    let id = created["id"].as_str().unwrap();
    let ann = app.login_first_time("ann", INITIAL).await;
    ann.get("/api/v1/auth/me").await.expect(200);
    let mut update = agent("ann", 101, &basics.queue);
    update["password"] = json!("An0ther-Passw0rd");
    let updated = admin
        .put(&format!("/api/v1/employees/{id}"), update)
        .await
        .expect(200);
    assert_eq!(updated["passwordChangeRequired"], true);
    assert!(updated.get("password").is_none());
    ann.get("/api/v1/auth/me")
        .await
        .expect_error(401, "unauthenticated", None);
    let again = app.login("ann", "An0ther-Passw0rd").await;
    assert_eq!(
        again.get("/api/v1/auth/me").await.expect(200)["passwordChangeRequired"],
        true
    );
}

#[tokio::test]
async fn a_generated_one_time_password_is_returned_once() {
    let app = TestApp::start().await;
    let (_, admin) = app.tenant("acme").await;
    let body = json!({"account": "sue", "name": "Sue", "role": "supervisor"});
    let created = admin.post("/api/v1/employees", body).await.expect(201);
    let one_time = created["oneTimePassword"].as_str().unwrap();
    let id = created["id"].as_str().unwrap();
    let fetched = admin
        .get(&format!("/api/v1/employees/{id}"))
        .await
        .expect(200);
    assert!(fetched.get("oneTimePassword").is_none() && fetched.get("password").is_none());
    assert_eq!(
        app.login("sue", one_time)
            .await
            .get("/api/v1/auth/me")
            .await
            .expect(200)["role"],
        "supervisor"
    );
}
