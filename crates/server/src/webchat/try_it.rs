//! "Try it" [002 §1.4.2 step 7]: from a channel, a tenant administrator opens a page that
//! simulates a customer of that web channel, to chat with the agents or the bot without
//! integrating anything. `GET /try/{channelConfigId}`: signed in as the channel's tenant
//! administrator, the page admits a fresh test customer and shows the widget; otherwise
//! it asks to sign in first.

use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, SET_COOKIE, X_CONTENT_TYPE_OPTIONS};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use switchboard_domain::channel::ChannelType;
use switchboard_domain::ChannelId;
use switchboard_store::WebChatAdmission;

use super::loader::{public_base, session_expires_at, WIDGET_SCRIPT, WIDGET_SESSION_HOURS};
use super::WIDGET_COOKIE;
use crate::api::IdPath;
use crate::auth::{new_token, token_hash, TenantAdmin};
use crate::error::ApiError;
use crate::AppState;

const SIGN_IN_PAGE: &str = r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Try the web chat</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:420px;margin:12vh auto;padding:0 16px}
label{display:block;margin:8px 0}input{display:block;width:100%;padding:6px}</style></head>
<body><h1>Try the web chat</h1><p>Sign in as the channel's tenant administrator.</p>
<form id="f"><label>Account <input name="account" required></label>
<label>Password <input name="password" type="password" required></label>
<button>Sign in</button><p id="e" role="alert"></p></form>
<script>
document.getElementById("f").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const response = await fetch("/api/v1/auth/login", {method: "POST", headers: {"content-type": "application/json"},
    body: JSON.stringify({account: form.get("account"), password: form.get("password")})});
  if (response.ok) { location.reload(); } else { document.getElementById("e").textContent = (await response.json()).message; }
});
</script></body></html>
"#;

pub async fn page(
    State(state): State<AppState>,
    admin: Result<TenantAdmin, ApiError>,
    IdPath(channel): IdPath<ChannelId>,
    headers: HeaderMap,
) -> Response {
    let Ok(admin) = admin else {
        return html(StatusCode::OK, SIGN_IN_PAGE.to_owned());
    };
    match admit(&state, &admin, channel, &headers).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

async fn admit(
    state: &AppState,
    admin: &TenantAdmin,
    channel_id: ChannelId,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let scope = state.store.tenant(admin.tenant);
    let channel = scope.channel(channel_id).await?;
    if channel.config.channel_type != ChannelType::Web {
        return Err(ApiError::NotFound);
    }
    let external_id = format!("try-{:08x}", rand::random::<u32>());
    let locale = match scope.tenant().await?.settings.locale {
        switchboard_domain::tenant::Locale::Zh => "zh",
        switchboard_domain::tenant::Locale::En => "en",
    };
    let token = new_token();
    scope
        .admit_to_web_chat(&WebChatAdmission {
            channel: channel_id,
            external_id: &external_id,
            name: "Test customer",
            locale,
            token_hash: &token_hash(&token),
            session_expires_at: session_expires_at(),
            signature: None,
        })
        .await?;
    let config = json!({
        "base": public_base(state, headers),
        "tenantSpaceId": admin.tenant,
        "channelConfigId": channel_id,
        "locale": locale,
        "customerName": "Test customer",
    });
    // The configuration is JSON; `</` is escaped so that no value can end the script.
    let config = config.to_string().replace("</", "<\\/");
    let title = escape(&channel.config.name);
    let body = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Try {title}</title>\
         <style>body{{font:15px/1.5 system-ui,sans-serif;max-width:640px;margin:10vh auto;padding:0 16px}}</style></head>\
         <body><h1>Trying channel {title}</h1><p>You are a test customer of this web channel. Open the chat at the lower right; \
         answer from the <a href=\"/workbench/\">workbench</a> as an agent of its skill queue.</p>\
         <script>window.__SWITCHBOARD_WIDGET__ = {config};</script><script>{WIDGET_SCRIPT}</script></body></html>"
    );
    let mut response = html(StatusCode::OK, body);
    let cookie = format!(
        "{WIDGET_COOKIE}={token}; Path=/; HttpOnly; Max-Age={}; SameSite=Lax{}",
        WIDGET_SESSION_HOURS * 3600,
        if state.config.cookie_secure {
            "; Secure"
        } else {
            ""
        }
    );
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(SET_COOKIE, value);
    }
    Ok(response)
}

fn html(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
