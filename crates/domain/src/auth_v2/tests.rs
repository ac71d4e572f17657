use chrono::{Duration, TimeZone, Utc};

use super::*;

const SECRET: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";

fn loader_body(extra: &str) -> String {
    format!(
        r#"{{"thirdUserName":"Zhang San","thirdUserId":"u-1001","tenantSpaceId":"913","channelConfigId":"869525871671777281","locale":"zh","timestamp":1700000000000{extra}}}"#
    )
}

fn at() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 8, 0, 0).unwrap() + Duration::milliseconds(123)
}

#[test]
fn normalize_keeps_unreserved_and_percent_encodes_utf8_bytes() {
    assert_eq!(normalize("aZ09-._~"), "aZ09-._~");
    assert_eq!(normalize("a b/张"), "a%20b%2F%E5%BC%A0");
    assert_eq!(normalize("{\"k\":1}"), "%7B%22k%22%3A1%7D");
}

#[test]
fn canonical_request_follows_the_reference_layout() {
    let request = Canonical {
        method: "post".into(),
        uri: "/x".into(),
        query: vec![("b".into(), "2".into()), ("a".into(), "1 1".into())],
        headers: vec![
            ("Host".into(), "h.example:8443".into()),
            ("content-type".into(), "application/json".into()),
        ],
        body: "{}".into(),
    };
    assert_eq!(
        request.canonical_request(),
        "POST\n/x\na=1%201&b=2\ncontent-type;host\ncontent-type:application%2Fjson\nhost:h.example%3A8443\n%7B%7D"
    );
    let no_query = Canonical {
        query: vec![],
        ..request
    };
    assert!(no_query
        .canonical_request()
        .starts_with("POST\n/x\ncontent-type;host\n"));
}

/// A signature computed independently (Python's hmac/hashlib over the same canonical
/// request) pins the algorithm: two HMAC-SHA256 rounds, the first one's lower-case hex
/// as the second one's key.
#[test]
fn signature_matches_an_independent_computation() {
    let request = Canonical {
        method: "POST".into(),
        uri: "/service-cloud/webclient/chat_client/js/newThirdPartyClient.js".into(),
        query: vec![],
        headers: vec![("host".into(), "cc.example.com".into())],
        body: "{\"a\":\"b\"}".into(),
    };
    let header = sign(
        "869525871671777281",
        SECRET,
        "2026-11-24T08:00:00.123Z",
        &request,
    );
    assert_eq!(
        header,
        "auth-v2/869525871671777281/2026-11-24T08:00:00.123Z/host/8402de9a9321a65b9f6c182c03a54067cc3479fa0e53d4dfc4f1bdfd58cf47f8"
    );
}

#[test]
fn both_timestamp_forms_parse_and_the_window_is_enforced() {
    let with_ms = Authorization::parse(&format!(
        "auth-v2/ak/2026-11-24T08:00:00.123Z/host/{}",
        "a".repeat(64)
    ))
    .unwrap();
    let without = Authorization::parse(&format!(
        "auth-v2/ak/2026-11-24T08:00:00Z/host/{}",
        "a".repeat(64)
    ))
    .unwrap();
    assert_eq!(with_ms.timestamp, at());
    assert_eq!(without.timestamp, at() - Duration::milliseconds(123));
    assert!(with_ms
        .check_time(at() + Duration::seconds(WINDOW_SECONDS))
        .is_ok());
    assert_eq!(
        with_ms.check_time(at() + Duration::seconds(WINDOW_SECONDS + 1)),
        Err(AuthError::Stale)
    );
    assert_eq!(
        with_ms.check_time(at() - Duration::seconds(WINDOW_SECONDS + 1)),
        Err(AuthError::Stale)
    );
}

#[test]
fn malformed_authorizations_are_refused() {
    let sig = "a".repeat(64);
    for bad in [
        String::new(),
        format!("auth-v1/ak/2026-11-24T08:00:00Z/host/{sig}"),
        format!("auth-v2//2026-11-24T08:00:00Z/host/{sig}"),
        format!("auth-v2/ak/2026-11-24 08:00:00/host/{sig}"),
        format!("auth-v2/ak/1700000000000/host/{sig}"),
        "auth-v2/ak/2026-11-24T08:00:00Z/host/xyz".to_owned(),
        format!("auth-v2/ak/2026-11-24T08:00:00Z/{sig}"),
        format!("auth-v2/ak/2026-11-24T08:00:00Z/host/{sig}/extra"),
    ] {
        assert!(
            matches!(Authorization::parse(&bad), Err(AuthError::Malformed(_))),
            "{bad}"
        );
    }
}

fn loader_request(body: &str, headers: &[(&str, &str)]) -> LoaderRequest<'static> {
    LoaderRequest {
        raw_body: Box::leak(body.to_owned().into_boxed_str()),
        paths: vec!["/service-cloud/webclient/chat_client/js/newThirdPartyClient.js".into()],
        headers: headers
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect(),
    }
}

fn signed_over(body: &str, headers: &[(&str, &str)]) -> String {
    let request = Canonical {
        method: "POST".into(),
        uri: "/service-cloud/webclient/chat_client/js/newThirdPartyClient.js".into(),
        query: vec![],
        headers: headers
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect(),
        body: body.to_owned(),
    };
    sign(
        "869525871671777281",
        SECRET,
        &format_timestamp(at()),
        &request,
    )
}

fn verify(header: &str, posted: &str, request_headers: &[(&str, &str)]) -> Result<(), AuthError> {
    let auth = Authorization::parse(header)?;
    auth.check_time(at())?;
    let candidates = loader_candidates(&auth, &loader_request(posted, request_headers))?;
    auth.matches_any(SECRET, &candidates)
}

#[test]
fn a_signer_of_the_whole_body_is_accepted() {
    let signed_body = loader_body("");
    let header = signed_over(&signed_body, &[("host", "cc.example.com")]);
    let posted = loader_body(&format!(",\"thirdPartAuthorization\":\"{header}\""));
    assert_eq!(
        verify(&header, &posted, &[("Host", "cc.example.com")]),
        Ok(())
    );
}

#[test]
fn a_signer_of_the_four_documented_fields_with_documented_headers_is_accepted() {
    let seed_payload = r#"{"thirdUserName":"Zhang San","thirdUserId":"u-1001","tenantSpaceId":"913","channelConfigId":"869525871671777281"}"#;
    let length = seed_payload.len().to_string();
    let header = signed_over(
        seed_payload,
        &[
            ("Content-Length", &length),
            ("Content-Type", "application/json;charset=UTF-8"),
        ],
    );
    let posted = loader_body(&format!(",\"thirdPartAuthorization\":\"{header}\""));
    let browser = [
        (
            "content-type",
            "application/x-www-form-urlencoded; charset=UTF-8",
        ),
        ("content-length", "999"),
    ];
    assert_eq!(verify(&header, &posted, &browser), Ok(()));
}

#[test]
fn a_changed_body_a_wrong_key_or_a_wrong_host_is_refused() {
    let header = signed_over(&loader_body(""), &[("host", "cc.example.com")]);
    let tampered = loader_body(&format!(",\"thirdPartAuthorization\":\"{header}\""))
        .replace("u-1001", "u-1002");
    assert_eq!(
        verify(&header, &tampered, &[("host", "cc.example.com")]),
        Err(AuthError::BadSignature)
    );
    let posted = loader_body(&format!(",\"thirdPartAuthorization\":\"{header}\""));
    assert_eq!(
        verify(&header, &posted, &[("host", "evil.example.com")]),
        Err(AuthError::BadSignature)
    );
    let auth = Authorization::parse(&header).unwrap();
    let candidates = loader_candidates(
        &auth,
        &loader_request(&posted, &[("host", "cc.example.com")]),
    )
    .unwrap();
    assert_eq!(
        auth.matches_any("another-secret-key-0123456789", &candidates),
        Err(AuthError::BadSignature)
    );
}
