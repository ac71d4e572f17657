use crate::support::*;

#[tokio::test]
async fn health_and_readiness_answer() {
    let app = TestApp::start().await;
    assert_eq!(
        app.anonymous().get("/healthz").await.expect(200)["status"],
        "ok"
    );
    assert_eq!(
        app.anonymous().get("/readyz").await.expect(200)["status"],
        "ready"
    );
    app.anonymous()
        .get("/no/such/page")
        .await
        .expect_error(404, "not_found", None);
}

#[tokio::test]
async fn the_openapi_document_describes_every_route() {
    let app = TestApp::start().await;
    let document = app
        .anonymous()
        .get("/api/v1/openapi.json")
        .await
        .expect(200);
    let paths = document["paths"].as_object().unwrap();
    let expected = [
        ("/api/v1/auth/login", "post"),
        ("/api/v1/auth/logout", "post"),
        ("/api/v1/auth/me", "get"),
        ("/api/v1/auth/password", "post"),
        ("/api/v1/tenants", "post"),
        ("/api/v1/tenants/{id}/limits", "put"),
        ("/api/v1/tenant", "put"),
        ("/api/v1/skill-queues/{id}", "delete"),
        ("/api/v1/called-routes", "get"),
        ("/api/v1/employees/batch-configure", "post"),
        ("/api/v1/channels/{id}", "put"),
        ("/api/v1/channel-exports", "post"),
        ("/api/v1/channel-exports/{id}/files/{index}", "get"),
    ];
    for (path, method) in expected {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} is documented"
        );
    }
    let schemas = document["components"]["schemas"].as_object().unwrap();
    for schema in [
        "ChannelConfig",
        "SkillQueueConfig",
        "EmployeeInput",
        "ErrorBody",
        "SecretsInput",
    ] {
        assert!(schemas.contains_key(schema), "schema {schema}");
    }
    assert_eq!(switchboard_server::openapi().paths.paths.len(), paths.len());
}

#[tokio::test]
async fn the_workbench_is_served_with_safe_headers() {
    let app = TestApp::start().await;
    let client = reqwest::Client::new();
    for (path, kind) in [
        ("/workbench/", "text/html"),
        ("/workbench/app.js", "application/javascript"),
        ("/workbench/app.css", "text/css"),
        ("/", "text/html"),
    ] {
        let response = client
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with(kind),
            "{path}"
        );
        assert_eq!(response.headers()["x-content-type-options"], "nosniff");
        assert!(response.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'self'"));
    }
    let page = client
        .get(format!("{}/workbench/", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("/workbench/app.js"));
}
