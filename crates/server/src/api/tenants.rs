//! Tenant spaces: the operator creates, lists, limits and disables them; a tenant
//! administrator reads and edits its own.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use switchboard_domain::employee::{check_account, check_password, EmployeeConfig, Role};
use switchboard_domain::paging::Page;
use switchboard_domain::tenant::{Locale, ResourceLimits, Tenant, TenantSettings};
use switchboard_domain::{EmployeeId, TenantId};
use switchboard_store::NewAccount;
use utoipa::ToSchema;

use super::{IdPath, ListQuery};
use crate::auth::{password, Operator, TenantAdmin};
use crate::error::ApiResult;
use crate::json::ApiJson;
use crate::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewTenant {
    pub name: String,
    #[serde(default = "utc")]
    pub time_zone: String,
    #[serde(default)]
    pub locale: Locale,
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    pub non_working_days: std::collections::BTreeSet<chrono::NaiveDate>,
    #[serde(default)]
    pub limits: ResourceLimits,
    pub admin: NewAdmin,
}

fn utc() -> String {
    "UTC".into()
}

/// The tenant's first administrator.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewAdmin {
    pub account: String,
    #[serde(default)]
    pub name: String,
    /// Omit to have a one-time password generated (returned once, in the response).
    pub password: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedTenant {
    pub tenant: Tenant,
    pub admin: CreatedAccount,
}

/// An account just created. The password must be changed at first sign-in.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedAccount {
    pub id: EmployeeId,
    pub account: String,
    /// Only when the server generated it; shown this once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub one_time_password: Option<String>,
}

/// Creates a tenant space with its resource limits and first administrator.
#[utoipa::path(post, path = "/api/v1/tenants", tag = "tenants (operator)", request_body = NewTenant,
    responses((status = 201, body = CreatedTenant), (status = 409, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn create(
    _: Operator,
    State(state): State<AppState>,
    ApiJson(new): ApiJson<NewTenant>,
) -> ApiResult<(StatusCode, Json<CreatedTenant>)> {
    let settings = TenantSettings {
        name: new.name,
        time_zone: new.time_zone,
        locale: new.locale,
        non_working_days: new.non_working_days,
        token_validation: None,
        quick_replies: Vec::new(),
    };
    settings.validate()?;
    new.limits.validate().map_err(|e| e.within("limits"))?;
    check_account(&new.admin.account).map_err(|e| e.within("admin"))?;
    if let Some(given) = &new.admin.password {
        check_password("admin.password", given)?;
    }
    let generated = new.admin.password.is_none().then(password::one_time);
    let clear = new
        .admin
        .password
        .or_else(|| generated.clone())
        .unwrap_or_default();
    let name = if new.admin.name.trim().is_empty() {
        new.admin.account.clone()
    } else {
        new.admin.name
    };
    let admin = NewAccount {
        config: EmployeeConfig {
            account: new.admin.account.clone(),
            name,
            role: Role::TenantAdmin,
            phone: String::new(),
            agent: None,
        },
        password_hash: password::hash(clear).await?,
        must_change_password: true,
    };
    let (tenant, admin_id) = state
        .store
        .platform()
        .create_tenant(&settings, &new.limits, &admin)
        .await?;
    tracing::info!(tenant.id = %tenant.tenant_space_id, "tenant space created");
    let admin = CreatedAccount {
        id: admin_id,
        account: new.admin.account,
        one_time_password: generated,
    };
    Ok((StatusCode::CREATED, Json(CreatedTenant { tenant, admin })))
}

/// Lists tenant spaces; `q` filters by name.
#[utoipa::path(get, path = "/api/v1/tenants", tag = "tenants (operator)", params(ListQuery), responses((status = 200, body = Page<Tenant>)))]
pub async fn list(
    _: Operator,
    State(state): State<AppState>,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Page<Tenant>>> {
    let query = ListQuery::from_request(query)?;
    Ok(Json(
        state
            .store
            .platform()
            .list_tenants(query.paging()?, query.q.as_deref())
            .await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/tenants/{id}", tag = "tenants (operator)", params(("id" = String, Path)), responses((status = 200, body = Tenant), (status = 404, body = super::ErrorBody)))]
pub async fn get(
    _: Operator,
    State(state): State<AppState>,
    IdPath(id): IdPath<TenantId>,
) -> ApiResult<Json<Tenant>> {
    Ok(Json(state.store.platform().tenant(id).await?))
}

/// Disables a tenant space: its accounts can no longer sign in or use their sessions.
#[utoipa::path(post, path = "/api/v1/tenants/{id}/disable", tag = "tenants (operator)", params(("id" = String, Path)), responses((status = 200, body = Tenant), (status = 404, body = super::ErrorBody)))]
pub async fn disable(
    _: Operator,
    State(state): State<AppState>,
    IdPath(id): IdPath<TenantId>,
) -> ApiResult<Json<Tenant>> {
    Ok(Json(
        state.store.platform().set_tenant_disabled(id, true).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/tenants/{id}/enable", tag = "tenants (operator)", params(("id" = String, Path)), responses((status = 200, body = Tenant), (status = 404, body = super::ErrorBody)))]
pub async fn enable(
    _: Operator,
    State(state): State<AppState>,
    IdPath(id): IdPath<TenantId>,
) -> ApiResult<Json<Tenant>> {
    Ok(Json(
        state
            .store
            .platform()
            .set_tenant_disabled(id, false)
            .await?,
    ))
}

/// Changes a tenant's resource limits; refused below what the tenant already uses.
#[utoipa::path(put, path = "/api/v1/tenants/{id}/limits", tag = "tenants (operator)", params(("id" = String, Path)), request_body = ResourceLimits,
    responses((status = 200, body = Tenant), (status = 422, body = super::ErrorBody)))]
pub async fn set_limits(
    _: Operator,
    State(state): State<AppState>,
    IdPath(id): IdPath<TenantId>,
    ApiJson(limits): ApiJson<ResourceLimits>,
) -> ApiResult<Json<Tenant>> {
    limits.validate()?;
    Ok(Json(
        state
            .store
            .platform()
            .set_tenant_limits(id, &limits)
            .await?,
    ))
}

/// The caller's own tenant space.
#[utoipa::path(get, path = "/api/v1/tenant", tag = "tenant", responses((status = 200, body = Tenant)))]
pub async fn own(admin: TenantAdmin, State(state): State<AppState>) -> ApiResult<Json<Tenant>> {
    Ok(Json(state.store.tenant(admin.tenant).tenant().await?))
}

/// Changes the name, time zone, locale and service calendar of the caller's tenant.
#[utoipa::path(put, path = "/api/v1/tenant", tag = "tenant", request_body = TenantSettings,
    responses((status = 200, body = Tenant), (status = 422, body = super::ErrorBody)))]
pub async fn update_own(
    admin: TenantAdmin,
    State(state): State<AppState>,
    ApiJson(settings): ApiJson<TenantSettings>,
) -> ApiResult<Json<Tenant>> {
    settings.validate()?;
    let tenant = state
        .store
        .tenant(admin.tenant)
        .update_settings(&settings)
        .await?;
    state
        .routing
        .tenant_configured(admin.tenant, &tenant.settings);
    Ok(Json(tenant))
}
