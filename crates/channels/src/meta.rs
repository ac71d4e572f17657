//! What Facebook Messenger and WhatsApp share, both being Meta webhooks
//! (developers.facebook.com/docs/graph-api/webhooks/getting-started): the subscription
//! handshake (`hub.mode`, `hub.verify_token`, `hub.challenge`), the signature of each
//! delivery over its raw body with the app secret (`X-Hub-Signature-256: sha256=…`, or the
//! legacy `X-Hub-Signature: sha1=…`), and the Graph API's error answers.

use http::Method;
use serde::Deserialize;
use switchboard_domain::channel::settings::SignatureAlgorithm;

use crate::signature::{hmac_sha1, hmac_sha256, same};
use crate::{Accepted, Answer, Channel, ChannelError, SendError, WebhookRequest};

/// What a wrong verify token is told: the text the product has always answered.
pub(crate) const WRONG_VERIFY_TOKEN: &str = "The token sent by facebook is not correct.";

/// A handshake answered, or the signed body of a delivery.
pub(crate) enum Checked<'a> {
    Handshake(Accepted),
    Delivery(&'a [u8]),
}

pub(crate) fn check<'a>(
    channel: Channel<'_>,
    algorithm: SignatureAlgorithm,
    request: &WebhookRequest<'a>,
) -> Result<Checked<'a>, ChannelError> {
    match *request.method {
        Method::GET => handshake(channel, request).map(Checked::Handshake),
        Method::POST => {
            verify_signature(channel, algorithm, request)?;
            Ok(Checked::Delivery(request.body))
        }
        ref other => Err(ChannelError::MethodNotAllowed(other.clone())),
    }
}

fn handshake(channel: Channel<'_>, request: &WebhookRequest<'_>) -> Result<Accepted, ChannelError> {
    let expected = channel.credentials.get("verifyToken")?;
    let query = request.query_pairs();
    let given = query.get("hub.verify_token").map(String::as_str);
    let subscribing = query.get("hub.mode").map(String::as_str) == Some("subscribe");
    if !subscribing || !given.is_some_and(|t| same(t.as_bytes(), expected.as_bytes())) {
        return Err(ChannelError::Forbidden(WRONG_VERIFY_TOKEN.into()));
    }
    let challenge = query
        .get("hub.challenge")
        .ok_or_else(|| ChannelError::Malformed("hub.challenge is missing".into()))?;
    Ok(Accepted::answer_only(Answer::text(challenge.clone())))
}

fn verify_signature(
    channel: Channel<'_>,
    algorithm: SignatureAlgorithm,
    request: &WebhookRequest<'_>,
) -> Result<(), ChannelError> {
    let secret = channel.credentials.get("appSecret")?.as_bytes();
    let (header, prefix, expected) = match algorithm {
        SignatureAlgorithm::Sha256 => (
            "x-hub-signature-256",
            "sha256=",
            hmac_sha256(secret, request.body),
        ),
        SignatureAlgorithm::Sha1 => ("x-hub-signature", "sha1=", hmac_sha1(secret, request.body)),
    };
    let given = request
        .header(header)
        .ok_or_else(|| ChannelError::Forbidden(format!("the request has no {header} header")))?;
    let signature = given
        .strip_prefix(prefix)
        .and_then(|h| hex::decode(h).ok())
        .ok_or_else(|| {
            ChannelError::Forbidden(format!("{header} is not '{prefix}' and a hex digest"))
        })?;
    if !same(&signature, &expected) {
        return Err(ChannelError::Forbidden(format!(
            "{header} does not match the body signed with the app secret"
        )));
    }
    Ok(())
}

/// A Graph API error answer: `{"error": {"message", "code", "error_subcode"}}`.
#[derive(Debug, Deserialize)]
struct GraphError {
    error: GraphErrorBody,
}

#[derive(Debug, Deserialize)]
struct GraphErrorBody {
    message: String,
    code: Option<i64>,
    error_subcode: Option<i64>,
}

/// Graph error codes that mean "slow down" (developers.facebook.com/docs/graph-api/
/// overview/rate-limiting and the WhatsApp Cloud API error codes) or "try again".
fn is_transient(code: i64) -> bool {
    matches!(
        code,
        1 | 2 | 4 | 17 | 32 | 341 | 613 | 80006 | 130429 | 131000 | 131016 | 131056 | 133004
    )
}

/// The body of the Graph API's answer to a send; a refusal as [`refusal`] reads it.
pub(crate) async fn sent<T: serde::de::DeserializeOwned>(
    response: reqwest::Response,
    platform: &str,
) -> Result<T, SendError> {
    let status = response.status();
    if !status.is_success() {
        return Err(refusal(response, platform).await);
    }
    response.json().await.map_err(|e| {
        SendError::permanent(format!(
            "{platform} answered {status} with an unreadable body: {e}"
        ))
    })
}

/// What a Graph API answer that was not a success means for a retry.
async fn refusal(response: reqwest::Response, platform: &str) -> SendError {
    let status = response.status();
    let after = crate::retry_after(response.headers());
    let body = response.text().await.unwrap_or_default();
    let Ok(GraphError { error }) = serde_json::from_str::<GraphError>(&body) else {
        return SendError::from_status(status, after, format!("{platform} answered {status}"));
    };
    let code = error.code.unwrap_or_default();
    let mut reason = format!("{platform}: {} (code {code}", error.message);
    if let Some(subcode) = error.error_subcode {
        reason.push_str(&format!(", subcode {subcode}"));
    }
    reason.push(')');
    if is_transient(code) {
        SendError::Retry { after, reason }
    } else {
        SendError::from_status(status, after, reason)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::BTreeMap;

    use http::HeaderMap;

    use super::*;
    use crate::Credentials;

    pub(crate) fn credentials() -> Credentials {
        Credentials::new(BTreeMap::from([
            ("appSecret".into(), "app-secret".into()),
            ("verifyToken".into(), "verify-me".into()),
            ("accessToken".into(), "wa-token".into()),
            ("pageToken:111".into(), "page-token".into()),
        ]))
    }

    pub(crate) fn signed(body: &[u8], algorithm: SignatureAlgorithm) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let (name, value) = match algorithm {
            SignatureAlgorithm::Sha256 => (
                "x-hub-signature-256",
                format!("sha256={}", hex::encode(hmac_sha256(b"app-secret", body))),
            ),
            SignatureAlgorithm::Sha1 => (
                "x-hub-signature",
                format!("sha1={}", hex::encode(hmac_sha1(b"app-secret", body))),
            ),
        };
        headers.insert(name, value.parse().unwrap());
        headers
    }
}
