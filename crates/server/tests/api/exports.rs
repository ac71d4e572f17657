use serde_json::{json, Value};

use crate::support::*;

const SECRET_KEY: &str = "S3cretKeyS3cretKeyS3cretKeyS3cretKey1234567";

#[tokio::test]
async fn an_export_of_2500_channels_yields_two_files_and_no_secret() {
    let app = TestApp::start().await;
    let (_, admin) = app.tenant("acme").await;
    let b = basics(&admin).await;
    for i in 1..2500 {
        let mut channel = web_channel(&format!("WEB{i:04}"), &b.route);
        channel["secrets"] = json!({"secretKey": SECRET_KEY});
        admin.post("/api/v1/channels", channel).await.expect(201);
    }
    let started = admin
        .post("/api/v1/channel-exports", json!({}))
        .await
        .expect(202);
    assert_eq!(started["total"], 2500);
    let id = started["id"].as_str().unwrap();
    let task = admin
        .get(&format!("/api/v1/channel-exports/{id}?waitSeconds=30"))
        .await
        .expect(200);
    assert_eq!(task["status"], "success", "{task}");
    let files = task["files"].as_array().unwrap();
    assert_eq!(files.len(), 2);
    let mut exported = 0;
    for file in files {
        let index = file["index"].as_u64().unwrap();
        let reply = admin
            .get(&format!("/api/v1/channel-exports/{id}/files/{index}"))
            .await;
        assert!(reply.headers["content-disposition"]
            .to_str()
            .unwrap()
            .contains("attachment"));
        let records = reply.expect(200);
        let records = records.as_array().unwrap();
        assert!(records.len() <= 2000);
        assert_eq!(records.len() as u64, file["records"].as_u64().unwrap());
        let text = Value::Array(records.clone()).to_string();
        assert!(
            !text.contains(SECRET_KEY) && !text.contains("secretKey") && !text.contains("secrets"),
            "no secret in an export"
        );
        assert!(records
            .iter()
            .all(|r| r["channelConfigId"].is_string() && r["type"] == "WEB"));
        exported += records.len();
    }
    assert_eq!(exported, 2500);
}

#[tokio::test]
async fn an_export_of_selected_channels_holds_exactly_those() {
    let app = TestApp::start().await;
    let (_, admin) = app.tenant("acme").await;
    let b = basics(&admin).await;
    let mut ids = vec![b.channel.clone()];
    for code in ["SHOP", "HELP", "BLOG"] {
        let created = admin
            .post("/api/v1/channels", web_channel(code, &b.route))
            .await
            .expect(201);
        ids.push(created["channelConfigId"].as_str().unwrap().to_owned());
    }
    let chosen = json!({"channelIds": [ids[3], ids[1], ids[1]]});
    let started = admin
        .post("/api/v1/channel-exports", chosen)
        .await
        .expect(202);
    assert_eq!(started["total"], 2, "duplicates are counted once");
    let id = started["id"].as_str().unwrap();
    admin
        .get(&format!("/api/v1/channel-exports/{id}?waitSeconds=30"))
        .await
        .expect(200);
    let records = admin
        .get(&format!("/api/v1/channel-exports/{id}/files/1"))
        .await
        .expect(200);
    let codes: Vec<&str> = records
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["accessCode"].as_str().unwrap())
        .collect();
    assert_eq!(codes, vec!["SHOP", "BLOG"]);
    admin
        .get(&format!("/api/v1/channel-exports/{id}/files/2"))
        .await
        .expect_error(404, "not_found", None);
    admin
        .post("/api/v1/channel-exports", json!({"channelIds": []}))
        .await
        .expect_error(422, "validation_failed", Some("channelIds"));
    admin
        .get(&format!("/api/v1/channel-exports/{id}?waitSeconds=31"))
        .await
        .expect_error(422, "validation_failed", Some("waitSeconds"));
}
