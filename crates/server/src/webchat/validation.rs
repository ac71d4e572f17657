//! Token mode: asking the enterprise whether a customer's token is valid [002 §1.5.1].
//! Switchboard POSTs `{Token, userName, userId, tenantSpaceId}` to the tenant's
//! validation URL and admits the customer only on `{"retCode": 0}`.
//!
//! The request has a 5-second limit, follows no redirect and reads at most 64 KiB of
//! answer. An HTTPS endpoint is checked against the public roots, plus the tenant's own
//! CA certificate when one is configured. Private and loopback addresses are allowed:
//! a self-hosted installation's enterprise systems usually live on its own network.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::{json, Value};
use switchboard_domain::tenant::TokenValidation;
use switchboard_domain::TenantId;

pub const TIMEOUT: Duration = Duration::from_secs(5);
pub const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// Why a token was not accepted: for the log, and (in general terms) for the page.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the tenant has no token validation URL configured")]
    NotConfigured,
    #[error("the validation endpoint could not be reached: {0}")]
    Unreachable(String),
    #[error("the validation endpoint answered HTTP {0}")]
    HttpStatus(u16),
    #[error("the validation endpoint's answer is not JSON with a retCode")]
    NotJson,
    #[error("the validation endpoint refused the token (retCode {code}: {message})")]
    Rejected { code: String, message: String },
}

/// The identity the page claims, with the enterprise's token for it.
pub struct Claim<'a> {
    pub token: &'a str,
    pub user_name: &'a str,
    pub user_id: &'a str,
    pub tenant: TenantId,
}

#[derive(Default)]
pub struct TokenValidator {
    /// One client per distinct CA certificate (empty = public roots only).
    clients: Mutex<HashMap<String, reqwest::Client>>,
}

impl TokenValidator {
    pub async fn validate(
        &self,
        config: Option<&TokenValidation>,
        claim: &Claim<'_>,
    ) -> Result<(), Refusal> {
        let config = config.ok_or(Refusal::NotConfigured)?;
        let client = self.client(&config.ca_certificate)?;
        let body = json!({
            "Token": claim.token,
            "userName": claim.user_name,
            "userId": claim.user_id,
            "tenantSpaceId": claim.tenant.to_string(),
        });
        let mut response = client
            .post(&config.url)
            .json(&body)
            .send()
            .await
            .map_err(|e| Refusal::Unreachable(without_url(&e)))?;
        if !response.status().is_success() {
            return Err(Refusal::HttpStatus(response.status().as_u16()));
        }
        let mut answer = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| Refusal::Unreachable(without_url(&e)))?
        {
            answer.extend_from_slice(&chunk);
            if answer.len() > MAX_ANSWER_BYTES {
                return Err(Refusal::NotJson);
            }
        }
        judge(&answer)
    }

    fn client(&self, ca_certificate: &str) -> Result<reqwest::Client, Refusal> {
        let mut clients = self
            .clients
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(client) = clients.get(ca_certificate) {
            return Ok(client.clone());
        }
        let mut builder = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("Switchboard/", env!("CARGO_PKG_VERSION")));
        if !ca_certificate.is_empty() {
            let certificates = reqwest::Certificate::from_pem_bundle(ca_certificate.as_bytes())
                .map_err(|e| {
                    Refusal::Unreachable(format!("the tenant's CA certificate is unusable: {e}"))
                })?;
            for certificate in certificates {
                builder = builder.add_root_certificate(certificate);
            }
        }
        let client = builder
            .build()
            .map_err(|e| Refusal::Unreachable(e.to_string()))?;
        clients.insert(ca_certificate.to_owned(), client.clone());
        Ok(client)
    }
}

/// `retCode` 0 (a number, or the string "0") admits; anything else refuses.
fn judge(answer: &[u8]) -> Result<(), Refusal> {
    let value: Value = serde_json::from_slice(answer).map_err(|_| Refusal::NotJson)?;
    let code = match value.get("retCode") {
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) => s.clone(),
        _ => return Err(Refusal::NotJson),
    };
    if code == "0" {
        return Ok(());
    }
    let message = value
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .chars()
        .take(200)
        .collect();
    Err(Refusal::Rejected { code, message })
}

/// reqwest's errors name the URL, which may carry credentials in its query.
fn without_url(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    format!(
        "{kind}: {}",
        std::error::Error::source(error)
            .map(ToString::to_string)
            .unwrap_or_default()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_ret_code_zero_admits() {
        assert_eq!(
            judge(br#"{"retCode":0,"message":"validate success"}"#),
            Ok(())
        );
        assert_eq!(judge(br#"{"retCode":"0"}"#), Ok(()));
        assert!(matches!(
            judge(br#"{"retCode":1,"message":"expired"}"#),
            Err(Refusal::Rejected { .. })
        ));
        assert_eq!(judge(br#"{"message":"ok"}"#), Err(Refusal::NotJson));
        assert_eq!(judge(b"<html>ok</html>"), Err(Refusal::NotJson));
        assert_eq!(judge(br#"{"retCode":true}"#), Err(Refusal::NotJson));
    }
}
