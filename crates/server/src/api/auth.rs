//! Sign-in, sign-out, the caller's own account and password change.

use std::net::SocketAddr;
use std::time::Instant;

use axum::extract::{ConnectInfo, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::Json;
use serde::{Deserialize, Serialize};
use switchboard_domain::employee::check_password;
use switchboard_domain::time::Timestamp;
use switchboard_domain::{Rule, TenantId, ValidationError};
use switchboard_store::{AccountRecord, AccountRole};
use utoipa::ToSchema;

use crate::auth::{new_token, password, token_hash, Caller, SESSION_COOKIE};
use crate::error::{ApiError, ApiResult};
use crate::json::ApiJson;
use crate::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LoginRequest {
    pub account: String,
    pub password: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Me {
    pub account_id: String,
    pub account: String,
    /// `operator`, `tenantAdmin`, `supervisor` or `agent`.
    pub role: String,
    pub tenant_space_id: Option<TenantId>,
    /// A one-time password must be changed before anything else is allowed.
    pub password_change_required: bool,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoginResponse {
    /// Send as `Authorization: Bearer <token>`; the same token is set as an HttpOnly cookie.
    pub token: String,
    pub expires_at: Timestamp,
    #[serde(flatten)]
    pub me: Me,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

/// Signs in with account and password. Repeated failures for an account or from an
/// address are refused for a while (429 with `Retry-After`).
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = super::ErrorBody), (status = 429, body = super::ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ApiJson(request): ApiJson<LoginRequest>,
) -> ApiResult<(HeaderMap, Json<LoginResponse>)> {
    let address = peer.ip();
    let name = request.account.trim();
    if let Some(retry_after) = state.throttle.blocked_for(name, address, Instant::now()) {
        return Err(ApiError::TooManyAttempts { retry_after });
    }
    let Some(account) = state.store.platform().account_by_name(name).await? else {
        password::verify(request.password, None).await?;
        state.throttle.record_failure(name, address, Instant::now());
        return Err(ApiError::BadCredentials);
    };
    if !password::verify(request.password, Some(account.password_hash.clone())).await? {
        state.throttle.record_failure(name, address, Instant::now());
        tracing::info!(account.id = account.id, "sign-in refused: wrong password");
        return Err(ApiError::BadCredentials);
    }
    if account.tenant_disabled {
        return Err(ApiError::TenantDisabled);
    }
    state.throttle.record_success(name);
    let token = new_token();
    let expires_at = switchboard_store::ids::now_millis()
        + i64::try_from(state.config.session_ttl.as_millis()).unwrap_or(i64::MAX / 2);
    state
        .store
        .platform()
        .create_session(&token_hash(&token), account.id, expires_at)
        .await?;
    let headers = session_cookie(&state, &token, state.config.session_ttl.as_secs())?;
    Ok((
        headers,
        Json(LoginResponse {
            token,
            expires_at: Timestamp(expires_at),
            me: me(&account),
        }),
    ))
}

/// Ends the current session.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", responses((status = 204), (status = 401, body = super::ErrorBody)))]
pub async fn logout(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<(StatusCode, HeaderMap)> {
    state
        .store
        .platform()
        .delete_session(&caller.token_hash)
        .await?;
    Ok((StatusCode::NO_CONTENT, session_cookie(&state, "", 0)?))
}

/// The signed-in account.
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth", responses((status = 200, body = Me), (status = 401, body = super::ErrorBody)))]
pub async fn who_am_i(caller: Caller) -> Json<Me> {
    Json(me(&caller.account))
}

/// Changes the caller's password (required first after a one-time password). Other
/// sessions of the account end.
#[utoipa::path(post, path = "/api/v1/auth/password", tag = "auth", request_body = PasswordChange,
    responses((status = 204), (status = 401, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn change_password(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    caller: Caller,
    ApiJson(change): ApiJson<PasswordChange>,
) -> ApiResult<StatusCode> {
    let account = &caller.account;
    if let Some(retry_after) =
        state
            .throttle
            .blocked_for(&account.account, peer.ip(), Instant::now())
    {
        return Err(ApiError::TooManyAttempts { retry_after });
    }
    if !password::verify(
        change.current_password.clone(),
        Some(account.password_hash.clone()),
    )
    .await?
    {
        state
            .throttle
            .record_failure(&account.account, peer.ip(), Instant::now());
        let reason = "this is not the current password".into();
        return Err(ValidationError::new("currentPassword", Rule::Invalid { reason }).into());
    }
    check_password("newPassword", &change.new_password)?;
    if change.new_password == change.current_password {
        let reason = "the new password must differ from the current one".into();
        return Err(ValidationError::new("newPassword", Rule::NotAllowed { reason }).into());
    }
    let hash = password::hash(change.new_password).await?;
    state
        .store
        .platform()
        .set_password(account.id, &hash, false)
        .await?;
    state
        .store
        .platform()
        .delete_other_sessions(account.id, &caller.token_hash)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

fn me(account: &AccountRecord) -> Me {
    let role = match account.role {
        AccountRole::Operator => "operator",
        AccountRole::Tenant(role) => role.as_str(),
    };
    Me {
        account_id: account.id.to_string(),
        account: account.account.clone(),
        role: role.to_owned(),
        tenant_space_id: account.tenant_id,
        password_change_required: account.must_change_password,
    }
}

/// The session cookie: HttpOnly so page scripts cannot read it, SameSite=Lax so other
/// sites cannot make the browser send it with their requests.
fn session_cookie(state: &AppState, token: &str, max_age_secs: u64) -> ApiResult<HeaderMap> {
    let secure = if state.config.cookie_secure {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}"
    );
    let mut headers = HeaderMap::new();
    headers.insert(
        SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(|e| ApiError::Internal(e.to_string()))?,
    );
    Ok(headers)
}
