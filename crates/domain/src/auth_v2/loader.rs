//! What the web chat loader (`newThirdPartyClient.js`) accepts as signed. The enterprise
//! signs on its server, before the browser adds the signature to the body and picks its
//! own headers, so the verifier rebuilds what the signer could have seen:
//!
//! - the payload: the posted JSON without its `thirdPartAuthorization` member (what a
//!   signer of the whole body signed), or the JSON object of only `thirdUserName`,
//!   `thirdUserId`, `tenantSpaceId`, `channelConfigId`, in that order (what the product
//!   documents call the encoded parameters);
//! - each signed header: its value in this request, or for `content-type` the documents'
//!   `application/json;charset=UTF-8` and for `content-length` the payload's length;
//! - the path: as received, or as the enterprise addressed it through a proxy;
//! - no query string: the page adds `?&t=…` after signing.

use serde_json::Value;

use super::{AuthError, Authorization, Canonical};

/// The documents' fixed content type for signing.
pub const DOCUMENTED_CONTENT_TYPE: &str = "application/json;charset=UTF-8";
const AUTHORIZATION_FIELD: &str = "thirdPartAuthorization";
const SEED_FIELDS: [&str; 4] = [
    "thirdUserName",
    "thirdUserId",
    "tenantSpaceId",
    "channelConfigId",
];

/// One loader request as received.
pub struct LoaderRequest<'a> {
    /// The body exactly as posted.
    pub raw_body: &'a str,
    /// Paths the enterprise may have signed: the one received, and the public one.
    pub paths: Vec<String>,
    /// The request's headers (any case).
    pub headers: Vec<(String, String)>,
}

impl LoaderRequest<'_> {
    fn header(&self, name: &str) -> String {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    }
}

/// Every canonical request the signature may have been made over.
pub fn loader_candidates(
    auth: &Authorization,
    request: &LoaderRequest<'_>,
) -> Result<Vec<Canonical>, AuthError> {
    let parsed: Value = serde_json::from_str(request.raw_body)
        .map_err(|_| AuthError::Malformed("the body is not JSON"))?;
    let mut bodies = Vec::new();
    if let Some(without) = without_authorization(request.raw_body, &parsed) {
        bodies.push(without);
    }
    bodies.push(seed_payload(&parsed));
    let mut candidates = Vec::new();
    for path in &request.paths {
        for body in &bodies {
            for documented in [false, true] {
                let headers = auth
                    .signed_headers
                    .iter()
                    .map(|name| {
                        let value = match name.as_str() {
                            "content-type" if documented => DOCUMENTED_CONTENT_TYPE.to_owned(),
                            "content-length" if documented => body.len().to_string(),
                            _ => request.header(name),
                        };
                        (name.clone(), value)
                    })
                    .collect();
                let candidate = Canonical {
                    method: "POST".into(),
                    uri: path.clone(),
                    query: Vec::new(),
                    headers,
                    body: body.clone(),
                };
                if !candidates.contains(&candidate) {
                    candidates.push(candidate);
                }
            }
        }
    }
    Ok(candidates)
}

/// The raw body with its `"thirdPartAuthorization":"…"` member cut out, as text, so the
/// rest stays byte for byte what the signer saw.
fn without_authorization(raw: &str, parsed: &Value) -> Option<String> {
    let value = parsed.get(AUTHORIZATION_FIELD)?;
    let member = format!(
        "\"{AUTHORIZATION_FIELD}\":{}",
        serde_json::to_string(value).ok()?
    );
    [format!(",{member}"), format!("{member},"), member]
        .iter()
        .find(|needle| raw.contains(needle.as_str()))
        .map(|needle| raw.replacen(needle.as_str(), "", 1))
}

/// `{"thirdUserName":…,"thirdUserId":…,"tenantSpaceId":…,"channelConfigId":…}`.
fn seed_payload(parsed: &Value) -> String {
    let members: Vec<String> = SEED_FIELDS
        .iter()
        .map(|field| {
            let value = match parsed.get(field) {
                Some(Value::String(s)) => Value::String(s.clone()),
                Some(other) => Value::String(other.to_string()),
                None => Value::String(String::new()),
            };
            format!("\"{field}\":{value}")
        })
        .collect();
    format!("{{{}}}", members.join(","))
}
