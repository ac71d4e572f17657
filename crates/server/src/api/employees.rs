//! Employees and agents of the caller's tenant, with batch configuration of agents.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use switchboard_domain::employee::{BatchAgentConfig, Employee, EmployeeInput, Role};
use switchboard_domain::paging::Page;
use switchboard_domain::{EmployeeId, QueueId, Rule, TenantId, ValidationError};
use switchboard_routing::Event;
use switchboard_store::{EmployeeFilter, NewAccount};
use utoipa::ToSchema;

use super::{IdPath, ListQuery};
use crate::auth::{password, TenantAdmin};
use crate::error::{ApiError, ApiResult};
use crate::json::ApiJson;
use crate::AppState;

type QueryResult = Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>;

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedEmployee {
    #[serde(flatten)]
    pub employee: Employee,
    /// Only when the server generated the password; shown this once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub one_time_password: Option<String>,
}

/// Creates an employee, with an agent profile when `agent` is set. The password (given,
/// or generated and returned once) must be changed at first sign-in.
#[utoipa::path(post, path = "/api/v1/employees", tag = "employees", request_body = EmployeeInput,
    responses((status = 201, body = CreatedEmployee), (status = 409, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn create(
    admin: TenantAdmin,
    State(state): State<AppState>,
    ApiJson(input): ApiJson<EmployeeInput>,
) -> ApiResult<(StatusCode, Json<CreatedEmployee>)> {
    input.validate()?;
    let (config, given) = input.into_parts();
    let generated = given.is_none().then(password::one_time);
    let clear = given.or_else(|| generated.clone()).unwrap_or_default();
    let account = NewAccount {
        config,
        password_hash: password::hash(clear).await?,
        must_change_password: true,
    };
    let employee = state
        .store
        .tenant(admin.tenant)
        .create_employee(&account)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedEmployee {
            employee,
            one_time_password: generated,
        }),
    ))
}

/// Lists employees; `q` filters by account or name, `role` by role, `queueId` by skill queue.
#[utoipa::path(get, path = "/api/v1/employees", tag = "employees", params(ListQuery), responses((status = 200, body = Page<Employee>)))]
pub async fn list(
    admin: TenantAdmin,
    State(state): State<AppState>,
    query: QueryResult,
) -> ApiResult<Json<Page<Employee>>> {
    let query = ListQuery::from_request(query)?;
    let filter = EmployeeFilter {
        text: query.q.clone(),
        role: ListQuery::filter(query.role.as_deref(), "role", Role::parse)?,
        queue: ListQuery::filter(query.queue_id.as_deref(), "queueId", |v| {
            v.parse::<QueueId>().ok()
        })?,
    };
    Ok(Json(
        state
            .store
            .tenant(admin.tenant)
            .list_employees(query.paging()?, &filter)
            .await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/employees/{id}", tag = "employees", params(("id" = String, Path)), responses((status = 200, body = Employee), (status = 404, body = super::ErrorBody)))]
pub async fn get(
    admin: TenantAdmin,
    State(state): State<AppState>,
    IdPath(id): IdPath<EmployeeId>,
) -> ApiResult<Json<Employee>> {
    Ok(Json(state.store.tenant(admin.tenant).employee(id).await?))
}

/// Replaces an employee. A new password ends the account's sessions and must be changed
/// at its next sign-in. Administrators cannot change their own role.
#[utoipa::path(put, path = "/api/v1/employees/{id}", tag = "employees", params(("id" = String, Path)), request_body = EmployeeInput,
    responses((status = 200, body = Employee), (status = 404, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn update(
    admin: TenantAdmin,
    State(state): State<AppState>,
    IdPath(id): IdPath<EmployeeId>,
    ApiJson(input): ApiJson<EmployeeInput>,
) -> ApiResult<Json<Employee>> {
    input.validate()?;
    if id.0 == admin.caller.account.id && input.role != Role::TenantAdmin {
        let reason = "you cannot take the administrator role from yourself".into();
        return Err(ValidationError::new("role", Rule::NotAllowed { reason }).into());
    }
    let (config, new_password) = input.into_parts();
    let scope = state.store.tenant(admin.tenant);
    let mut employee = scope.update_employee(id, &config, None).await?;
    capacity_changed(&state, admin.tenant, &[&employee]);
    if let Some(clear) = new_password {
        reset_password(&state, id, clear).await?;
        employee.password_change_required = true;
    }
    Ok(Json(employee))
}

#[utoipa::path(delete, path = "/api/v1/employees/{id}", tag = "employees", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn delete(
    admin: TenantAdmin,
    State(state): State<AppState>,
    IdPath(id): IdPath<EmployeeId>,
) -> ApiResult<StatusCode> {
    if id.0 == admin.caller.account.id {
        let reason = "you cannot delete your own account".into();
        return Err(ValidationError::new("id", Rule::NotAllowed { reason }).into());
    }
    state.store.tenant(admin.tenant).delete_employee(id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Applies one agent configuration to the agents selected by employee ids or by a work
/// number range — all of them, or none if any would break a rule.
#[utoipa::path(post, path = "/api/v1/employees/batch-configure", tag = "employees", request_body = BatchAgentConfig,
    responses((status = 200, body = Vec<Employee>), (status = 404, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn batch_configure(
    admin: TenantAdmin,
    State(state): State<AppState>,
    ApiJson(batch): ApiJson<BatchAgentConfig>,
) -> ApiResult<Json<Vec<Employee>>> {
    batch.validate()?;
    let mut employees = state
        .store
        .tenant(admin.tenant)
        .batch_configure(&batch, None)
        .await?;
    capacity_changed(&state, admin.tenant, &employees.iter().collect::<Vec<_>>());
    if let Some(clear) = &batch.password {
        for employee in &mut employees {
            reset_password(&state, employee.id, clear.clone()).await?;
            employee.password_change_required = true;
        }
    }
    Ok(Json(employees))
}

/// A signed-in agent's new capacity applies at once; new skills at its next sign-in.
fn capacity_changed(state: &AppState, tenant: TenantId, employees: &[&Employee]) {
    for employee in employees {
        if let Some(agent) = &employee.config.agent {
            let event = Event::AgentCapacityChanged {
                agent: employee.id,
                capacity: agent.max_concurrent_chats,
            };
            state.routing.tell(tenant, event);
        }
    }
}

/// Sets a password chosen by an administrator: it must be changed at next sign-in, and
/// the account's current sessions end.
async fn reset_password(state: &AppState, id: EmployeeId, clear: String) -> Result<(), ApiError> {
    let hash = password::hash(clear).await?;
    state
        .store
        .platform()
        .set_password(id.0, &hash, true)
        .await?;
    state
        .store
        .platform()
        .delete_other_sessions(id.0, "")
        .await?;
    Ok(())
}
