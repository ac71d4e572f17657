//! Employees of one tenant and their agent profiles. The `agent_skills` table mirrors each
//! profile's skill list, written in the same transaction, so queues can find their agents.

use std::collections::BTreeMap;

use sqlx::any::AnyRow;
use sqlx::Row;
use switchboard_domain::employee::{
    check_agent_limits, AgentProfile, AgentType, BatchAgentConfig, BatchSelection, Employee,
    EmployeeConfig, Role,
};
use switchboard_domain::paging::{Page, PageRequest};
use switchboard_domain::tenant::ResourceLimits;
use switchboard_domain::time::Timestamp;
use switchboard_domain::{EmployeeId, QueueId, Rule, TenantId, ValidationError};

use crate::error::{Result, StoreError};
use crate::ids::now_millis;
use crate::platform::{agent_counts, insert_account, AccountRole, NewAccount};
use crate::queues::queue_types;
use crate::scoped::{found, Param};
use crate::text::{from_json, like_pattern, to_json};
use crate::TenantScope;

#[derive(Debug, Clone, Default)]
pub struct EmployeeFilter {
    /// Part of the account or name, any case.
    pub text: Option<String>,
    pub role: Option<Role>,
    /// Only agents with this skill queue.
    pub queue: Option<QueueId>,
}

const COLUMNS: &str = "id, config, must_change_password, created_at, updated_at";
const UNIQUE: &[(&str, &str)] = &[("account_key", "account"), ("work_no", "agent.workNo")];

impl TenantScope<'_> {
    pub async fn create_employee(&self, account: &NewAccount) -> Result<Employee> {
        let mut tx = self.store.write.begin().await?;
        self.store.lock_tenant(&mut tx, self.tenant).await?;
        if let Some(agent) = &account.config.agent {
            self.check_agent(&mut tx, agent, None).await?;
        }
        let role = AccountRole::Tenant(account.config.role);
        let id = insert_account(self.store, &mut tx, Some(self.tenant), role, account).await?;
        write_skills(&mut tx, self.tenant, id, account.config.agent.as_ref()).await?;
        tx.commit().await?;
        self.employee(EmployeeId(id)).await
    }

    pub async fn employee(&self, id: EmployeeId) -> Result<Employee> {
        employee_from_row(&self.row("accounts", COLUMNS, id.0).await?)
    }

    pub async fn list_employees(
        &self,
        page: PageRequest,
        filter: &EmployeeFilter,
    ) -> Result<Page<Employee>> {
        const WHERE: &str = "FROM accounts WHERE tenant_id = $1 \
             AND ($2 = '' OR account_key LIKE $2 ESCAPE '\\' OR name LIKE $2 ESCAPE '\\') \
             AND ($3 = '' OR role = $3) \
             AND ($4 = 0 OR id IN (SELECT account_id FROM agent_skills WHERE tenant_id = $1 AND queue_id = $4))";
        let pattern = like_pattern(filter.text.as_deref());
        let role = filter.role.map(Role::as_str).unwrap_or_default();
        let queue = filter.queue.map_or(0, |q| q.0);
        let params = [Param::Text(&pattern), Param::Text(role), Param::Int(queue)];
        let (rows, total) = self.page(WHERE, COLUMNS, &params, page).await?;
        let items = rows.iter().map(employee_from_row).collect::<Result<_>>()?;
        Ok(Page::new(items, total, page))
    }

    /// Replaces an employee's configuration, and its password when one is given.
    pub async fn update_employee(
        &self,
        id: EmployeeId,
        config: &EmployeeConfig,
        password_hash: Option<&str>,
    ) -> Result<Employee> {
        let mut tx = self.store.write.begin().await?;
        self.store.lock_tenant(&mut tx, self.tenant).await?;
        let current = load_config(&mut tx, self.tenant, id).await?;
        if let Some(agent) = &config.agent {
            self.check_agent(&mut tx, agent, current.agent.as_ref().map(|a| a.agent_type))
                .await?;
        }
        update_account(&mut tx, self.tenant, id, config, password_hash).await?;
        write_skills(&mut tx, self.tenant, id.0, config.agent.as_ref()).await?;
        tx.commit().await?;
        self.employee(id).await
    }

    pub async fn delete_employee(&self, id: EmployeeId) -> Result<()> {
        self.delete_row("accounts", id.0).await
    }

    /// Applies one agent configuration to every selected agent, all or none.
    pub async fn batch_configure(
        &self,
        batch: &BatchAgentConfig,
        password_hash: Option<&str>,
    ) -> Result<Vec<Employee>> {
        let mut tx = self.store.write.begin().await?;
        self.store.lock_tenant(&mut tx, self.tenant).await?;
        let selected = select_agents(&mut tx, self.tenant, &batch.selection).await?;
        let types = queue_types(&mut tx, self.tenant).await?;
        let mut counts = agent_counts(&mut tx, self.tenant).await?;
        for (id, mut config) in selected.iter().cloned() {
            let Some(profile) = config.agent.as_ref() else {
                continue;
            };
            let updated = batch.apply_to(profile);
            updated.check_skills(|q| types.get(&q).copied())?;
            shift_count(&mut counts, profile.agent_type, updated.agent_type);
            config.agent = Some(updated);
            update_account(&mut tx, self.tenant, id, &config, password_hash).await?;
            write_skills(&mut tx, self.tenant, id.0, config.agent.as_ref()).await?;
        }
        check_agent_limits(
            &tenant_limits(&mut tx, self.tenant).await?,
            &counts,
            "agentType",
        )?;
        tx.commit().await?;
        let mut employees = Vec::with_capacity(selected.len());
        for (id, _) in selected {
            employees.push(self.employee(id).await?);
        }
        Ok(employees)
    }

    /// The skill rules and the tenant's agent limits for one agent profile; `previous`
    /// is the agent's type before this change, if it was an agent.
    async fn check_agent(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        agent: &AgentProfile,
        previous: Option<AgentType>,
    ) -> Result<()> {
        let types = queue_types(tx, self.tenant).await?;
        agent
            .check_skills(|q| types.get(&q).copied())
            .map_err(|e| e.within("agent"))?;
        let mut counts = agent_counts(tx, self.tenant).await?;
        match previous {
            Some(before) => shift_count(&mut counts, before, agent.agent_type),
            None => *counts.entry(agent.agent_type).or_default() += 1,
        }
        check_agent_limits(
            &tenant_limits(tx, self.tenant).await?,
            &counts,
            "agent.agentType",
        )?;
        Ok(())
    }
}

fn shift_count(counts: &mut BTreeMap<AgentType, u32>, from: AgentType, to: AgentType) {
    if from != to {
        let before = counts.entry(from).or_default();
        *before = before.saturating_sub(1);
        *counts.entry(to).or_default() += 1;
    }
}

async fn tenant_limits(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    tenant: TenantId,
) -> Result<ResourceLimits> {
    let row = sqlx::query("SELECT limits FROM tenants WHERE id = $1")
        .bind(tenant.0)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(StoreError::NotFound)?;
    from_json("tenant limits", &row.try_get::<String, _>("limits")?)
}

async fn load_config(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    tenant: TenantId,
    id: EmployeeId,
) -> Result<EmployeeConfig> {
    let row = sqlx::query("SELECT config FROM accounts WHERE tenant_id = $1 AND id = $2")
        .bind(tenant.0)
        .bind(id.0)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(StoreError::NotFound)?;
    from_json("employee", &row.try_get::<String, _>("config")?)
}

async fn select_agents(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    tenant: TenantId,
    selection: &BatchSelection,
) -> Result<Vec<(EmployeeId, EmployeeConfig)>> {
    let mut selected = Vec::new();
    match selection {
        BatchSelection::EmployeeIds(ids) => {
            for (i, id) in ids.iter().enumerate() {
                let config = load_config(tx, tenant, *id).await?;
                if config.agent.is_none() {
                    let reason = "this employee has no agent profile".into();
                    return Err(ValidationError::new(
                        format!("selection.employeeIds[{i}]"),
                        Rule::NotAllowed { reason },
                    )
                    .into());
                }
                if !selected.iter().any(|(seen, _)| seen == id) {
                    selected.push((*id, config));
                }
            }
        }
        BatchSelection::WorkNoRange { from, to } => {
            let rows = sqlx::query(
                "SELECT id, config FROM accounts WHERE tenant_id = $1 AND work_no BETWEEN $2 AND $3 ORDER BY work_no",
            )
            .bind(tenant.0)
            .bind(i64::from(*from))
            .bind(i64::from(*to))
            .fetch_all(&mut **tx)
            .await?;
            for row in rows {
                selected.push((
                    EmployeeId(row.try_get("id")?),
                    from_json("employee", &row.try_get::<String, _>("config")?)?,
                ));
            }
            if selected.is_empty() {
                let reason = "no agent has a work number in this range".into();
                return Err(ValidationError::new(
                    "selection.workNoRange",
                    Rule::Invalid { reason },
                )
                .into());
            }
        }
    }
    Ok(selected)
}

async fn update_account(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    tenant: TenantId,
    id: EmployeeId,
    config: &EmployeeConfig,
    password_hash: Option<&str>,
) -> Result<()> {
    let agent = config.agent.as_ref();
    found(sqlx::query(
        "UPDATE accounts SET account_key = $1, role = $2, name = $3, config = $4, work_no = $5, agent_type = $6, \
         updated_at = $7, password_hash = COALESCE($8, password_hash) WHERE tenant_id = $9 AND id = $10",
    )
    .bind(config.account.to_lowercase())
    .bind(config.role.as_str())
    .bind(config.name.to_lowercase())
    .bind(to_json(config)?)
    .bind(agent.map(|a| i64::from(a.work_no)))
    .bind(agent.map(|a| a.agent_type.as_str()))
    .bind(now_millis())
    .bind(password_hash)
    .bind(tenant.0)
    .bind(id.0)
    .execute(&mut **tx)
    .await
    .map_err(|e| StoreError::from_unique(e, UNIQUE))?)?;
    Ok(())
}

async fn write_skills(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    tenant: TenantId,
    account_id: i64,
    agent: Option<&AgentProfile>,
) -> Result<()> {
    sqlx::query("DELETE FROM agent_skills WHERE account_id = $1")
        .bind(account_id)
        .execute(&mut **tx)
        .await?;
    for (position, skill) in agent.iter().flat_map(|a| a.skills.iter()).enumerate() {
        sqlx::query(
            "INSERT INTO agent_skills (account_id, tenant_id, queue_id, position, skill_weight, agent_weight) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(account_id)
        .bind(tenant.0)
        .bind(skill.queue_id.0)
        .bind(i64::try_from(position).unwrap_or(i64::MAX))
        .bind(i64::from(skill.skill_weight))
        .bind(i64::from(skill.agent_weight))
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

fn employee_from_row(row: &AnyRow) -> Result<Employee> {
    Ok(Employee {
        id: EmployeeId(row.try_get("id")?),
        config: from_json("employee", &row.try_get::<String, _>("config")?)?,
        password_change_required: row.try_get::<i64, _>("must_change_password")? != 0,
        created_at: Timestamp(row.try_get("created_at")?),
        updated_at: Timestamp(row.try_get("updated_at")?),
    })
}
