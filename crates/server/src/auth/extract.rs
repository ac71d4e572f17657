use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use switchboard_domain::employee::Role;
use switchboard_domain::TenantId;
use switchboard_store::{AccountRecord, AccountRole};

use super::{cookie, token_hash};
use crate::error::ApiError;
use crate::AppState;

pub const SESSION_COOKIE: &str = "switchboard_session";

/// Any signed-in caller, even one that still has to change a one-time password.
#[derive(Debug, Clone)]
pub struct Caller {
    pub account: AccountRecord,
    pub token_hash: String,
}

impl Caller {
    /// The caller, unless a one-time password must be changed first.
    fn settled(self) -> Result<Self, ApiError> {
        if self.account.must_change_password {
            return Err(ApiError::PasswordChangeRequired);
        }
        Ok(self)
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer_token(parts)
            .or_else(|| cookie(&parts.headers, SESSION_COOKIE).map(str::to_owned))
            .ok_or(ApiError::Unauthenticated)?;
        let hash = token_hash(&token);
        let account = state
            .store
            .platform()
            .session(&hash, switchboard_store::ids::now_millis())
            .await?
            .ok_or(ApiError::Unauthenticated)?;
        if account.tenant_disabled {
            return Err(ApiError::TenantDisabled);
        }
        Ok(Caller {
            account,
            token_hash: hash,
        })
    }
}

/// The platform operator.
pub struct Operator(pub Caller);

impl FromRequestParts<AppState> for Operator {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let caller = Caller::from_request_parts(parts, state).await?.settled()?;
        match caller.account.role {
            AccountRole::Operator => Ok(Operator(caller)),
            AccountRole::Tenant(_) => Err(ApiError::Forbidden),
        }
    }
}

/// A tenant administrator, with the one tenant it may act on.
pub struct TenantAdmin {
    pub caller: Caller,
    pub tenant: TenantId,
}

impl FromRequestParts<AppState> for TenantAdmin {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let (caller, tenant) = tenant_caller(parts, state, &[Role::TenantAdmin]).await?;
        Ok(TenantAdmin { caller, tenant })
    }
}

/// A tenant administrator or supervisor: who may watch queues and contact records.
pub struct Supervisor {
    pub caller: Caller,
    pub tenant: TenantId,
}

impl FromRequestParts<AppState> for Supervisor {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let roles = [Role::TenantAdmin, Role::Supervisor];
        let (caller, tenant) = tenant_caller(parts, state, &roles).await?;
        Ok(Supervisor { caller, tenant })
    }
}

/// A settled caller of a tenant in one of `roles`, with its tenant.
async fn tenant_caller(
    parts: &mut Parts,
    state: &AppState,
    roles: &[Role],
) -> Result<(Caller, TenantId), ApiError> {
    let caller = Caller::from_request_parts(parts, state).await?.settled()?;
    match (caller.account.role, caller.account.tenant_id) {
        (AccountRole::Tenant(role), Some(tenant)) if roles.contains(&role) => Ok((caller, tenant)),
        _ => Err(ApiError::Forbidden),
    }
}

fn bearer_token(parts: &Parts) -> Option<String> {
    let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

/// An employee with an agent profile, signed in to the API (any tenant role).
pub struct AgentCaller {
    pub caller: Caller,
    pub tenant: TenantId,
    pub employee: switchboard_domain::employee::Employee,
    pub profile: switchboard_domain::employee::AgentProfile,
}

impl FromRequestParts<AppState> for AgentCaller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let caller = Caller::from_request_parts(parts, state).await?.settled()?;
        let (AccountRole::Tenant(_), Some(tenant)) =
            (caller.account.role, caller.account.tenant_id)
        else {
            return Err(ApiError::Forbidden);
        };
        let employee = state
            .store
            .tenant(tenant)
            .employee(switchboard_domain::EmployeeId(caller.account.id))
            .await?;
        let profile = employee.config.agent.clone().ok_or(ApiError::Forbidden)?;
        Ok(AgentCaller {
            caller,
            tenant,
            employee,
            profile,
        })
    }
}
