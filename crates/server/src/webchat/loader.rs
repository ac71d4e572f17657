//! The compatibility loader [002 §1.5, §2.5]: `POST {ctx}/webclient/chat_client/js/
//! thirdPartyClient.js` and `…/newThirdPartyClient.js`, answering JavaScript, exactly as
//! the product's integration pages call them (any content type, the JSON of
//! `thirdUserData` as the body, credentials included).
//!
//! - `thirdPartyClient.js` (token mode's first call) answers a script that calls the
//!   page's own `thirdValidate(thirdUserData)`: the seed page defines it but never calls it.
//! - `newThirdPartyClient.js` admits the customer — by the enterprise's token validation
//!   (token mode) or by the auth-v2 signature in `thirdPartAuthorization` (authorization
//!   mode) — sets the `ccmessaging-token` cookie and answers the widget script.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, HOST, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{json, Value};
use switchboard_domain::auth_v2::{
    loader_candidates, Authorization, LoaderRequest, WINDOW_SECONDS,
};
use switchboard_domain::channel::{Channel, ChannelType};
use switchboard_domain::{ChannelId, TenantId};
use switchboard_store::{Admitted, UsedSignature, WebChatAdmission};

use super::validation::Claim;
use super::{cors, Refused, WIDGET_COOKIE};
use crate::auth::{new_token, token_hash};
use crate::AppState;

pub const LOADER_PATH: &str = "/webclient/chat_client/js/thirdPartyClient.js";
pub const NEW_LOADER_PATH: &str = "/webclient/chat_client/js/newThirdPartyClient.js";
pub const WIDGET_SCRIPT: &str = include_str!("../../../../web/widget/widget.js");
/// How long a customer's web chat session lasts without signing in again.
pub const WIDGET_SESSION_HOURS: i64 = 24;

/// The `thirdUserData` of the integration pages; unknown members are ignored.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct ThirdUserData {
    third_user_token: Option<String>,
    third_part_authorization: Option<String>,
    third_user_name: Option<String>,
    third_user_id: Option<String>,
    tenant_space_id: Option<Value>,
    channel_config_id: Option<Value>,
    locale: Option<String>,
}

struct Admission {
    data: ThirdUserData,
    tenant: TenantId,
    channel: Channel,
    user_id: String,
    user_name: String,
}

/// Token mode's first step: let the page call its own `thirdValidate`.
pub async fn third_party_client(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let origin = cors::origin(&headers).map(str::to_owned);
    let result = async {
        let admission = admission(&state, &body).await?;
        check_origin(&admission.channel, origin.as_deref())?;
        Ok::<_, Refused>(script(THIRD_VALIDATE_SCRIPT.to_owned()))
    }
    .await;
    finish(result, origin.as_deref())
}

const THIRD_VALIDATE_SCRIPT: &str = r#"/* Switchboard web chat loader */
(function () {
  if (typeof thirdValidate === "function" && typeof thirdUserData !== "undefined") {
    thirdValidate(thirdUserData);
  } else {
    console.error("Switchboard: the page defines no thirdValidate(thirdUserData); see Switchboard's docs/integration/web-chat.md");
  }
})();
"#;

/// Admits the customer and answers the widget.
pub async fn new_third_party_client(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let origin = cors::origin(&headers).map(str::to_owned);
    let result = admit(&state, &uri, &headers, &body, origin.as_deref()).await;
    finish(result, origin.as_deref())
}

async fn admit(
    state: &AppState,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
    origin: Option<&str>,
) -> Result<Response, Refused> {
    let admission = admission(state, body).await?;
    check_origin(&admission.channel, origin)?;
    let tenant = admission.tenant;
    let channel_id = admission.channel.channel_config_id;
    let signature = if let Some(authorization) = admission.data.third_part_authorization.as_deref()
    {
        Some(verify_signature(state, authorization, &admission, uri, headers, body).await?)
    } else if let Some(token) = admission.data.third_user_token.as_deref() {
        let settings = state
            .store
            .tenant(tenant)
            .tenant()
            .await
            .map_err(Refused::internal)?;
        let claim = Claim {
            token,
            user_name: &admission.user_name,
            user_id: &admission.user_id,
            tenant,
        };
        if let Err(refusal) = state
            .token_validator
            .validate(settings.settings.token_validation.as_ref(), &claim)
            .await
        {
            tracing::info!(tenant.id = %tenant, channel.id = %channel_id, reason = %refusal, "web chat token refused");
            return Err(Refused::new(
                StatusCode::UNAUTHORIZED,
                "token_rejected",
                "the enterprise did not accept this user's token",
            ));
        }
        None
    } else {
        return Err(Refused::new(
            StatusCode::UNAUTHORIZED,
            "credentials_missing",
            "send thirdUserToken (token mode) or thirdPartAuthorization (authorization mode)",
        ));
    };
    let locale = match admission.data.locale.as_deref() {
        Some("zh") => "zh",
        _ => "en",
    };
    let token = new_token();
    let admitted = state
        .store
        .tenant(tenant)
        .admit_to_web_chat(&WebChatAdmission {
            channel: channel_id,
            external_id: &admission.user_id,
            name: &admission.user_name,
            locale,
            token_hash: &token_hash(&token),
            session_expires_at: session_expires_at(),
            signature,
        })
        .await
        .map_err(Refused::internal)?;
    let customer = match admitted {
        Admitted::Customer(customer) => customer,
        Admitted::ReplayedSignature => {
            return Err(Refused::new(
                StatusCode::UNAUTHORIZED,
                "replayed_signature",
                "this authorization was used already; sign each request anew",
            ))
        }
    };
    tracing::info!(tenant.id = %tenant, channel.id = %channel_id, customer.id = %customer.id, "web chat customer admitted");
    let config = json!({
        "base": public_base(state, headers),
        "tenantSpaceId": tenant,
        "channelConfigId": channel_id,
        "locale": locale,
        "customerName": admission.user_name,
    });
    let mut response = script(format!(
        "window.__SWITCHBOARD_WIDGET__ = {config};\n{WIDGET_SCRIPT}"
    ));
    // Secure (and so SameSite=None, for pages of other sites) when served over HTTPS,
    // directly or behind a TLS proxy that says so.
    let forwarded_https = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"));
    let secure = state.config.cookie_secure || forwarded_https;
    let cookie = format!(
        "{WIDGET_COOKIE}={token}; Path=/; HttpOnly; Max-Age={}{}",
        WIDGET_SESSION_HOURS * 3600,
        if secure {
            "; Secure; SameSite=None"
        } else {
            "; SameSite=Lax"
        }
    );
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(SET_COOKIE, value);
    }
    Ok(response)
}

async fn admission(state: &AppState, body: &[u8]) -> Result<Admission, Refused> {
    let data: ThirdUserData = serde_json::from_slice(body).map_err(|_| {
        Refused::new(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            "the body must be the JSON of thirdUserData",
        )
    })?;
    let tenant = id_of(data.tenant_space_id.as_ref())
        .map(TenantId)
        .ok_or_else(|| Refused::field("tenantSpaceId"))?;
    let channel = id_of(data.channel_config_id.as_ref())
        .map(ChannelId)
        .ok_or_else(|| Refused::field("channelConfigId"))?;
    let user_id = data
        .third_user_id
        .clone()
        .unwrap_or_default()
        .trim()
        .to_owned();
    if user_id.is_empty() || user_id.chars().count() > 64 {
        return Err(Refused::field("thirdUserId"));
    }
    let user_name = data
        .third_user_name
        .clone()
        .unwrap_or_default()
        .trim()
        .chars()
        .take(64)
        .collect::<String>();
    let user_name = if user_name.is_empty() {
        user_id.clone()
    } else {
        user_name
    };
    let unknown = || {
        Refused::new(
            StatusCode::NOT_FOUND,
            "unknown_channel",
            "no web channel has this tenantSpaceId and channelConfigId",
        )
    };
    let channel = state
        .store
        .tenant(tenant)
        .channel(channel)
        .await
        .map_err(|_| unknown())?;
    if channel.config.channel_type != ChannelType::Web {
        return Err(unknown());
    }
    Ok(Admission {
        data,
        tenant,
        channel,
        user_id,
        user_name,
    })
}

fn check_origin(channel: &Channel, origin: Option<&str>) -> Result<(), Refused> {
    match origin {
        Some(origin) if !cors::allowed(channel, origin) => Err(Refused::new(
            StatusCode::FORBIDDEN,
            "origin_not_allowed",
            "this page's origin is not in the channel's allowed origins",
        )),
        _ => Ok(()),
    }
}

async fn verify_signature(
    state: &AppState,
    authorization: &str,
    admission: &Admission,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<UsedSignature, Refused> {
    let bad =
        |code: &'static str, message: &str| Refused::new(StatusCode::UNAUTHORIZED, code, message);
    let auth =
        Authorization::parse(authorization).map_err(|e| bad("bad_signature", &e.to_string()))?;
    auth.check_time(chrono::Utc::now())
        .map_err(|e| bad("stale_timestamp", &e.to_string()))?;
    let channel_id = admission.channel.channel_config_id;
    if auth.access_key != channel_id.to_string() {
        return Err(bad(
            "bad_signature",
            "the access key must be the channelConfigId",
        ));
    }
    let secret = state
        .store
        .tenant(admission.tenant)
        .channel_secret(channel_id, "secretKey")
        .await
        .map_err(Refused::internal)?
        .ok_or_else(|| {
            bad(
                "authorization_not_enabled",
                "this channel has no third-party authentication key",
            )
        })?;
    let raw_body =
        std::str::from_utf8(body).map_err(|_| bad("bad_signature", "the body is not UTF-8"))?;
    let request = LoaderRequest {
        raw_body,
        paths: vec![
            uri.path().to_owned(),
            format!("{}{NEW_LOADER_PATH}", state.config.context_path),
        ],
        headers: headers
            .iter()
            .filter_map(|(n, v)| Some((n.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect(),
    };
    let candidates =
        loader_candidates(&auth, &request).map_err(|e| bad("bad_signature", &e.to_string()))?;
    if let Err(e) = auth.matches_any(&secret, &candidates) {
        tracing::info!(tenant.id = %admission.tenant, channel.id = %channel_id, "web chat signature refused");
        return Err(bad("bad_signature", &e.to_string()));
    }
    let expires_at =
        (auth.timestamp + chrono::Duration::seconds(WINDOW_SECONDS)).timestamp_millis();
    // Recorded as used with the customer it admits, in one transaction.
    Ok(UsedSignature {
        signature: auth.signature,
        expires_at,
    })
}

/// When a widget session made now ends.
pub fn session_expires_at() -> i64 {
    switchboard_store::ids::now_millis() + WIDGET_SESSION_HOURS * 3_600_000
}

/// Where the widget reaches Switchboard: the host the page used (a proxy may forward it)
/// and the context path.
pub fn public_base(state: &AppState, headers: &HeaderMap) -> String {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(',').next().unwrap_or(v).trim().to_owned())
    };
    let host = header("x-forwarded-host")
        .or_else(|| header(HOST.as_str()))
        .unwrap_or_else(|| "localhost".into());
    let scheme = header("x-forwarded-proto").unwrap_or_else(|| {
        if state.config.cookie_secure {
            "https".into()
        } else {
            "http".into()
        }
    });
    format!("{scheme}://{host}{}", state.config.context_path)
}

fn id_of(value: Option<&Value>) -> Option<i64> {
    match value? {
        Value::String(s) => s.trim().parse().ok(),
        Value::Number(n) => n.as_i64(),
        _ => None,
    }
    .filter(|n| *n > 0)
}

fn script(body: String) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/javascript; charset=utf-8"),
    );
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn finish(result: Result<Response, Refused>, origin: Option<&str>) -> Response {
    let mut response = result.unwrap_or_else(IntoResponse::into_response);
    cors::allow(&mut response, origin);
    response
}
