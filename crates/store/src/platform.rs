//! Installation-wide records: tenant spaces, the accounts people sign in with, and their
//! sessions. Sign-in looks accounts up by name across tenants; nothing here returns a
//! tenant's configuration.

use std::collections::BTreeMap;

use sqlx::any::AnyRow;
use sqlx::Row;
use switchboard_domain::employee::{check_agent_limits, EmployeeConfig, Role};
use switchboard_domain::paging::{Page, PageRequest};
use switchboard_domain::tenant::{ResourceLimits, Tenant, TenantSettings};
use switchboard_domain::time::Timestamp;
use switchboard_domain::{EmployeeId, TenantId};

use crate::error::{corrupt, Result, StoreError};
use crate::ids::now_millis;
use crate::scoped::{found, AnyQuery};
use crate::text::{from_json, like_pattern, to_json};
use crate::Store;

pub struct Platform<'a> {
    pub(crate) store: &'a Store,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountRole {
    Operator,
    Tenant(Role),
}

impl AccountRole {
    fn as_str(self) -> &'static str {
        match self {
            AccountRole::Operator => "operator",
            AccountRole::Tenant(role) => role.as_str(),
        }
    }

    fn parse(text: &str) -> Result<Self> {
        if text == "operator" {
            return Ok(AccountRole::Operator);
        }
        Role::parse(text)
            .map(AccountRole::Tenant)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown role '{text}'")))
    }
}

/// An account as sign-in and session checks need it.
#[derive(Debug, Clone)]
pub struct AccountRecord {
    pub id: i64,
    pub tenant_id: Option<TenantId>,
    pub account: String,
    pub role: AccountRole,
    pub password_hash: String,
    pub must_change_password: bool,
    /// The account's tenant space is disabled (always false for operators).
    pub tenant_disabled: bool,
}

/// An account to create, with its password already hashed.
pub struct NewAccount {
    pub config: EmployeeConfig,
    pub password_hash: String,
    pub must_change_password: bool,
}

const ACCOUNT_COLUMNS: &str =
    "a.id, a.tenant_id, a.config, a.role, a.password_hash, a.must_change_password, \
     COALESCE(t.disabled, 0) AS tenant_disabled";

impl Platform<'_> {
    pub async fn has_operator(&self) -> Result<bool> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM accounts WHERE role = 'operator'")
            .fetch_one(&self.store.read)
            .await?;
        Ok(row.try_get::<i64, _>("n")? > 0)
    }

    /// Creates a platform operator; `config.role` is ignored.
    pub async fn create_operator(&self, account: NewAccount) -> Result<i64> {
        let mut tx = self.store.write.begin().await?;
        let id = insert_account(self.store, &mut tx, None, AccountRole::Operator, &account).await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn account_by_name(&self, account: &str) -> Result<Option<AccountRecord>> {
        let sql = format!(
            "SELECT {ACCOUNT_COLUMNS} FROM accounts a LEFT JOIN tenants t ON t.id = a.tenant_id WHERE a.account_key = $1"
        );
        let row = sqlx::query(&sql)
            .bind(account.to_lowercase())
            .fetch_optional(&self.store.read)
            .await?;
        row.map(|r| account_record(&r)).transpose()
    }

    pub async fn set_password(
        &self,
        account_id: i64,
        password_hash: &str,
        must_change: bool,
    ) -> Result<()> {
        found(sqlx::query(
            "UPDATE accounts SET password_hash = $1, must_change_password = $2, updated_at = $3 WHERE id = $4",
        )
        .bind(password_hash)
        .bind(i64::from(must_change))
        .bind(now_millis())
        .bind(account_id)
        .execute(&self.store.write)
        .await?)?;
        Ok(())
    }

    pub async fn create_session(
        &self,
        token_hash: &str,
        account_id: i64,
        expires_at: i64,
    ) -> Result<()> {
        sqlx::query("INSERT INTO sessions (token_hash, account_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(token_hash)
            .bind(account_id)
            .bind(now_millis())
            .bind(expires_at)
            .execute(&self.store.write)
            .await?;
        Ok(())
    }

    /// The account behind an unexpired session.
    pub async fn session(&self, token_hash: &str, now: i64) -> Result<Option<AccountRecord>> {
        let sql = format!(
            "SELECT {ACCOUNT_COLUMNS} FROM sessions s JOIN accounts a ON a.id = s.account_id \
             LEFT JOIN tenants t ON t.id = a.tenant_id WHERE s.token_hash = $1 AND s.expires_at > $2"
        );
        let row = sqlx::query(&sql)
            .bind(token_hash)
            .bind(now)
            .fetch_optional(&self.store.read)
            .await?;
        row.map(|r| account_record(&r)).transpose()
    }

    pub async fn delete_session(&self, token_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.store.write)
            .await?;
        Ok(())
    }

    /// Ends every session of an account but the one given (after a password change).
    pub async fn delete_other_sessions(
        &self,
        account_id: i64,
        keep_token_hash: &str,
    ) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE account_id = $1 AND token_hash <> $2")
            .bind(account_id)
            .bind(keep_token_hash)
            .execute(&self.store.write)
            .await?;
        Ok(())
    }

    pub async fn purge_expired_sessions(&self, now: i64) -> Result<u64> {
        let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.store.write)
            .await?;
        Ok(done.rows_affected())
    }

    /// Tenants with conversations waiting or with an agent: routing restores them at
    /// start-up so that their timers run without waiting for a first request.
    pub async fn tenants_with_routed_conversations(&self) -> Result<Vec<TenantId>> {
        let rows = sqlx::query(
            "SELECT DISTINCT tenant_id FROM conversations WHERE state IN ('queued', 'assigned', 'wrapUp')",
        )
        .fetch_all(&self.store.read)
        .await?;
        rows.iter()
            .map(|row| Ok(TenantId(row.try_get("tenant_id")?)))
            .collect()
    }

    /// Creates a tenant space and its first administrator in one transaction.
    pub async fn create_tenant(
        &self,
        settings: &TenantSettings,
        limits: &ResourceLimits,
        admin: &NewAccount,
    ) -> Result<(Tenant, EmployeeId)> {
        let id = TenantId(self.store.next_id());
        let now = now_millis();
        let mut tx = self.store.write.begin().await?;
        sqlx::query(
            "INSERT INTO tenants (id, name, settings, limits, disabled, created_at) VALUES ($1, $2, $3, $4, 0, $5)",
        )
        .bind(id.0)
        .bind(settings.name.trim().to_lowercase())
        .bind(to_json(settings)?)
        .bind(to_json(limits)?)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(|e| StoreError::from_unique(e, &[("name", "name")]))?;
        let admin_id = insert_account(
            self.store,
            &mut tx,
            Some(id),
            AccountRole::Tenant(Role::TenantAdmin),
            admin,
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict { field } => StoreError::Conflict {
                field: format!("admin.{field}"),
            },
            other => other,
        })?;
        tx.commit().await?;
        let tenant = Tenant {
            tenant_space_id: id,
            settings: settings.clone(),
            limits: *limits,
            disabled: false,
            created_at: Timestamp(now),
        };
        Ok((tenant, EmployeeId(admin_id)))
    }

    pub async fn tenant(&self, id: TenantId) -> Result<Tenant> {
        let row = sqlx::query(
            "SELECT id, settings, limits, disabled, created_at FROM tenants WHERE id = $1",
        )
        .bind(id.0)
        .fetch_optional(&self.store.read)
        .await?
        .ok_or(StoreError::NotFound)?;
        tenant_from_row(&row)
    }

    pub async fn list_tenants(
        &self,
        page: PageRequest,
        name: Option<&str>,
    ) -> Result<Page<Tenant>> {
        const FILTER: &str = "FROM tenants WHERE ($1 = '' OR name LIKE $1 ESCAPE '\\')";
        let pattern = like_pattern(name);
        let total = count(
            &self.store.read,
            &format!("SELECT COUNT(*) AS n {FILTER}"),
            |q| q.bind(pattern.clone()),
        )
        .await?;
        let sql = format!("SELECT id, settings, limits, disabled, created_at {FILTER} ORDER BY id LIMIT $2 OFFSET $3");
        let rows = sqlx::query(&sql)
            .bind(&pattern)
            .bind(page.limit())
            .bind(page.offset())
            .fetch_all(&self.store.read)
            .await?;
        let items = rows.iter().map(tenant_from_row).collect::<Result<_>>()?;
        Ok(Page::new(items, total, page))
    }

    /// Disables (or enables again) a tenant space: its accounts can no longer sign in and
    /// their sessions stop working.
    pub async fn set_tenant_disabled(&self, id: TenantId, disabled: bool) -> Result<Tenant> {
        found(
            sqlx::query("UPDATE tenants SET disabled = $1 WHERE id = $2")
                .bind(i64::from(disabled))
                .bind(id.0)
                .execute(&self.store.write)
                .await?,
        )?;
        self.tenant(id).await
    }

    /// Changes a tenant's resource limits; refused if the tenant already has more agents
    /// of a type than the new limit.
    pub async fn set_tenant_limits(&self, id: TenantId, limits: &ResourceLimits) -> Result<Tenant> {
        let mut tx = self.store.write.begin().await?;
        self.store.lock_tenant(&mut tx, id).await?;
        let counts = agent_counts(&mut tx, id).await?;
        check_agent_limits(limits, &counts, "limits")?;
        found(
            sqlx::query("UPDATE tenants SET limits = $1 WHERE id = $2")
                .bind(to_json(limits)?)
                .bind(id.0)
                .execute(&mut *tx)
                .await?,
        )?;
        tx.commit().await?;
        self.tenant(id).await
    }

    /// Export tasks left pending or running by a stopped server, to resume them.
    pub async fn unfinished_exports(
        &self,
    ) -> Result<Vec<(TenantId, switchboard_domain::ExportId)>> {
        let rows = sqlx::query("SELECT tenant_id, id FROM export_tasks WHERE status IN ('pending', 'running') ORDER BY id")
            .fetch_all(&self.store.read)
            .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    TenantId(r.try_get("tenant_id")?),
                    switchboard_domain::ExportId(r.try_get("id")?),
                ))
            })
            .collect()
    }
}

pub(crate) async fn insert_account(
    store: &Store,
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    tenant: Option<TenantId>,
    role: AccountRole,
    account: &NewAccount,
) -> Result<i64> {
    let id = store.next_id();
    let now = now_millis();
    let agent = account.config.agent.as_ref();
    sqlx::query(
        "INSERT INTO accounts (id, tenant_id, account_key, role, name, config, password_hash, must_change_password, \
         work_no, agent_type, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)",
    )
    .bind(id)
    .bind(tenant.map(|t| t.0))
    .bind(account.config.account.to_lowercase())
    .bind(role.as_str())
    .bind(account.config.name.to_lowercase())
    .bind(to_json(&account.config)?)
    .bind(&account.password_hash)
    .bind(i64::from(account.must_change_password))
    .bind(agent.map(|a| i64::from(a.work_no)))
    .bind(agent.map(|a| a.agent_type.as_str()))
    .bind(now)
    .execute(&mut **tx)
    .await
    .map_err(|e| StoreError::from_unique(e, &[("account_key", "account"), ("work_no", "agent.workNo")]))?;
    Ok(id)
}

/// Agents per type in a tenant, as the writing transaction sees them.
pub(crate) async fn agent_counts(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    tenant: TenantId,
) -> Result<BTreeMap<switchboard_domain::employee::AgentType, u32>> {
    let rows = sqlx::query(
        "SELECT agent_type, COUNT(*) AS n FROM accounts WHERE tenant_id = $1 AND agent_type IS NOT NULL GROUP BY agent_type",
    )
    .bind(tenant.0)
    .fetch_all(&mut **tx)
    .await?;
    let mut counts = BTreeMap::new();
    for row in rows {
        let text: String = row.try_get("agent_type")?;
        let agent_type = switchboard_domain::employee::AgentType::parse(&text)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown agent type '{text}'")))?;
        let n: i64 = row.try_get("n")?;
        counts.insert(agent_type, u32::try_from(n).unwrap_or(u32::MAX));
    }
    Ok(counts)
}

fn account_record(row: &AnyRow) -> Result<AccountRecord> {
    let config: serde_json::Value = from_json("account", &row.try_get::<String, _>("config")?)?;
    Ok(AccountRecord {
        id: row.try_get("id")?,
        tenant_id: row.try_get::<Option<i64>, _>("tenant_id")?.map(TenantId),
        account: config["account"].as_str().unwrap_or_default().to_owned(),
        role: AccountRole::parse(&row.try_get::<String, _>("role")?)?,
        password_hash: row.try_get("password_hash")?,
        must_change_password: row.try_get::<i64, _>("must_change_password")? != 0,
        tenant_disabled: row.try_get::<i64, _>("tenant_disabled")? != 0,
    })
}

fn tenant_from_row(row: &AnyRow) -> Result<Tenant> {
    Ok(Tenant {
        tenant_space_id: TenantId(row.try_get("id")?),
        settings: from_json("tenant settings", &row.try_get::<String, _>("settings")?)?,
        limits: from_json("tenant limits", &row.try_get::<String, _>("limits")?)?,
        disabled: row.try_get::<i64, _>("disabled")? != 0,
        created_at: Timestamp(row.try_get("created_at")?),
    })
}

/// Runs a `SELECT COUNT(*) AS n …` query with the binds `bind` adds.
pub(crate) async fn count<'q>(
    pool: &sqlx::AnyPool,
    sql: &'q str,
    bind: impl FnOnce(AnyQuery<'q>) -> AnyQuery<'q>,
) -> Result<i64> {
    let row = bind(sqlx::query(sql)).fetch_one(pool).await?;
    row.try_get::<i64, _>("n")
        .map_err(|e| corrupt("row count", e))
}

impl crate::TenantScope<'_> {
    /// The tenant space itself.
    pub async fn tenant(&self) -> Result<Tenant> {
        self.store.platform().tenant(self.tenant).await
    }

    /// Changes the settings a tenant administrator may change (not the limits).
    pub async fn update_settings(&self, settings: &TenantSettings) -> Result<Tenant> {
        found(
            sqlx::query("UPDATE tenants SET name = $1, settings = $2 WHERE id = $3")
                .bind(settings.name.trim().to_lowercase())
                .bind(to_json(settings)?)
                .bind(self.tenant.0)
                .execute(&self.store.write)
                .await
                .map_err(|e| StoreError::from_unique(e, &[("name", "name")]))?,
        )?;
        self.tenant().await
    }
}
