use serde_json::json;

use crate::support::*;

/// A tenant administrator of B gets 404 for every id of A — reading, changing, deleting
/// or exporting — and nothing of A changes.
#[tokio::test]
async fn no_tenant_can_read_change_delete_or_export_another_tenants_records() {
    let app = TestApp::start().await;
    let (_, a) = app.tenant("alpha").await;
    let (_, b) = app.tenant("beta").await;
    let ab = basics(&a).await;
    let bb = basics(&b).await;
    let employee = a
        .post("/api/v1/employees", agent("ann", 101, &ab.queue))
        .await
        .expect(201);
    let employee = employee["id"].as_str().unwrap().to_owned();
    let export = a
        .post("/api/v1/channel-exports", json!({}))
        .await
        .expect(202);
    let export = export["id"].as_str().unwrap().to_owned();
    a.get(&format!("/api/v1/channel-exports/{export}?waitSeconds=10"))
        .await
        .expect(200);

    let queue_body = json!({"name": "stolen", "type": "multimedia"});
    let route_body =
        json!({"accessCode": "999", "mediaType": "multimedia", "skillQueueId": bb.queue});
    let resources = [
        (format!("/api/v1/skill-queues/{}", ab.queue), queue_body),
        (format!("/api/v1/called-routes/{}", ab.route), route_body),
        (
            format!("/api/v1/employees/{employee}"),
            agent("mallory", 102, &bb.queue),
        ),
        (
            format!("/api/v1/channels/{}", ab.channel),
            web_channel("STOLEN", &bb.route),
        ),
    ];
    for (path, body) in &resources {
        b.get(path).await.expect_error(404, "not_found", None);
        b.put(path, body.clone())
            .await
            .expect_error(404, "not_found", None);
        b.delete(path).await.expect_error(404, "not_found", None);
    }
    b.get(&format!("/api/v1/channel-exports/{export}"))
        .await
        .expect_error(404, "not_found", None);
    b.get(&format!("/api/v1/channel-exports/{export}/files/1"))
        .await
        .expect_error(404, "not_found", None);
    b.post(
        "/api/v1/channel-exports",
        json!({"channelIds": [ab.channel]}),
    )
    .await
    .expect_error(404, "not_found", None);
    b.post(
        "/api/v1/channel-exports",
        json!({"channelIds": [ab.channel, bb.channel]}),
    )
    .await
    .expect_error(404, "not_found", None);
    b.post(
        "/api/v1/employees/batch-configure",
        json!({"selection": {"employeeIds": [employee]}, "maxConcurrentChats": 1}),
    )
    .await
    .expect_error(404, "not_found", None);

    // B cannot point its own records at A's queue or route either.
    let steal_route =
        json!({"accessCode": "777", "mediaType": "multimedia", "skillQueueId": ab.queue});
    b.post("/api/v1/called-routes", steal_route)
        .await
        .expect_error(422, "validation_failed", Some("skillQueueId"));
    b.post("/api/v1/channels", web_channel("STEAL", &ab.route))
        .await
        .expect_error(422, "validation_failed", Some("calledRouteId"));
    b.post("/api/v1/employees", agent("mallory", 102, &ab.queue))
        .await
        .expect_error(422, "validation_failed", Some("agent.skills[0].queueId"));

    // Lists show only the caller's own records.
    for path in [
        "/api/v1/skill-queues",
        "/api/v1/called-routes",
        "/api/v1/channels",
    ] {
        assert_eq!(b.get(path).await.expect(200)["total"], 1, "{path}");
    }
    let b_employees = b.get("/api/v1/employees").await.expect(200);
    assert_eq!(b_employees["total"], 1);
    assert_eq!(b_employees["items"][0]["account"], "beta_admin");

    // A's records are all unchanged.
    assert_eq!(
        a.get(&format!("/api/v1/skill-queues/{}", ab.queue))
            .await
            .expect(200)["name"],
        "mediaSkill"
    );
    assert_eq!(
        a.get(&format!("/api/v1/called-routes/{}", ab.route))
            .await
            .expect(200)["accessCode"],
        "10001"
    );
    assert_eq!(
        a.get(&format!("/api/v1/employees/{employee}"))
            .await
            .expect(200)["account"],
        "ann"
    );
    assert_eq!(
        a.get(&format!("/api/v1/channels/{}", ab.channel))
            .await
            .expect(200)["accessCode"],
        "WEBCHAT"
    );
    assert_eq!(
        a.get(&format!("/api/v1/channel-exports/{export}"))
            .await
            .expect(200)["status"],
        "success"
    );
}
