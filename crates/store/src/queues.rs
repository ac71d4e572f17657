//! Skill queues of one tenant.

use std::collections::HashMap;

use sqlx::any::AnyRow;
use sqlx::Row;
use switchboard_domain::paging::{Page, PageRequest};
use switchboard_domain::queue::{QueueType, SkillQueue, SkillQueueConfig};
use switchboard_domain::time::Timestamp;
use switchboard_domain::{QueueId, Rule, ValidationError};

use crate::error::{Result, StoreError};
use crate::ids::now_millis;
use crate::scoped::{found, Param};
use crate::text::{from_json, like_pattern, to_json};
use crate::TenantScope;

#[derive(Debug, Clone, Default)]
pub struct QueueFilter {
    /// Part of the name, any case.
    pub name: Option<String>,
    pub queue_type: Option<QueueType>,
}

const UNIQUE: &[(&str, &str)] = &[("name", "name")];
const COLUMNS: &str = "id, config, created_at, updated_at";

impl TenantScope<'_> {
    pub async fn create_queue(&self, config: &SkillQueueConfig) -> Result<SkillQueue> {
        let id = QueueId(self.store.next_id());
        let now = now_millis();
        let mut tx = self.store.write.begin().await?;
        let types = queue_types(&mut tx, self.tenant).await?;
        config.check_transfer_targets(Some(id), |q| types.get(&q).copied())?;
        sqlx::query(
            "INSERT INTO skill_queues (id, tenant_id, name, queue_type, config, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6)",
        )
        .bind(id.0)
        .bind(self.tenant.0)
        .bind(&config.name)
        .bind(config.queue_type.as_str())
        .bind(to_json(config)?)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(|e| StoreError::from_unique(e, UNIQUE))?;
        tx.commit().await?;
        Ok(SkillQueue {
            id,
            config: config.clone(),
            created_at: Timestamp(now),
            updated_at: Timestamp(now),
        })
    }

    pub async fn queue(&self, id: QueueId) -> Result<SkillQueue> {
        queue_from_row(&self.row("skill_queues", COLUMNS, id.0).await?)
    }

    pub async fn list_queues(
        &self,
        page: PageRequest,
        filter: &QueueFilter,
    ) -> Result<Page<SkillQueue>> {
        const WHERE: &str = "FROM skill_queues WHERE tenant_id = $1 AND ($2 = '' OR lower(name) LIKE $2 ESCAPE '\\') \
                             AND ($3 = '' OR queue_type = $3)";
        let pattern = like_pattern(filter.name.as_deref());
        let kind = filter.queue_type.map(QueueType::as_str).unwrap_or_default();
        let (rows, total) = self
            .page(
                WHERE,
                COLUMNS,
                &[Param::Text(&pattern), Param::Text(kind)],
                page,
            )
            .await?;
        let items = rows.iter().map(queue_from_row).collect::<Result<_>>()?;
        Ok(Page::new(items, total, page))
    }

    /// Replaces a queue's configuration; its type cannot change once created.
    pub async fn update_queue(&self, id: QueueId, config: &SkillQueueConfig) -> Result<SkillQueue> {
        let mut tx = self.store.write.begin().await?;
        let types = queue_types(&mut tx, self.tenant).await?;
        match types.get(&id) {
            None => return Err(StoreError::NotFound),
            Some(existing) if *existing != config.queue_type => {
                return Err(ValidationError::new("type", Rule::Immutable).into());
            }
            Some(_) => {}
        }
        config.check_transfer_targets(Some(id), |q| types.get(&q).copied())?;
        sqlx::query("UPDATE skill_queues SET name = $1, config = $2, updated_at = $3 WHERE tenant_id = $4 AND id = $5")
            .bind(&config.name)
            .bind(to_json(config)?)
            .bind(now_millis())
            .bind(self.tenant.0)
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .map_err(|e| StoreError::from_unique(e, UNIQUE))?;
        tx.commit().await?;
        self.queue(id).await
    }

    /// Deletes a queue no route, agent or other queue's overflow refers to.
    pub async fn delete_queue(&self, id: QueueId) -> Result<()> {
        let mut tx = self.store.write.begin().await?;
        let routes = scalar(
            &mut tx,
            "SELECT COUNT(*) AS n FROM called_routes WHERE tenant_id = $1 AND queue_id = $2",
            self.tenant.0,
            id.0,
        )
        .await?;
        let agents = scalar(
            &mut tx,
            "SELECT COUNT(*) AS n FROM agent_skills WHERE tenant_id = $1 AND queue_id = $2",
            self.tenant.0,
            id.0,
        )
        .await?;
        let overflowing = queue_configs(&mut tx, self.tenant)
            .await?
            .into_iter()
            .filter(|(other, config)| {
                *other != id && config.policies.transfer_targets().any(|(_, t)| t == id)
            })
            .count();
        if routes + agents > 0 || overflowing > 0 {
            let reason = format!(
                "the queue is used by {routes} called route(s), {agents} agent(s) and the overflow of {overflowing} queue(s)"
            );
            return Err(StoreError::InUse { reason });
        }
        found(
            sqlx::query("DELETE FROM skill_queues WHERE tenant_id = $1 AND id = $2")
                .bind(self.tenant.0)
                .bind(id.0)
                .execute(&mut *tx)
                .await?,
        )?;
        tx.commit().await?;
        Ok(())
    }
}

pub(crate) async fn queue_types(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    tenant: switchboard_domain::TenantId,
) -> Result<HashMap<QueueId, QueueType>> {
    let rows = sqlx::query("SELECT id, queue_type FROM skill_queues WHERE tenant_id = $1")
        .bind(tenant.0)
        .fetch_all(&mut **tx)
        .await?;
    rows.iter()
        .map(|r| {
            let text: String = r.try_get("queue_type")?;
            let kind = QueueType::parse(&text)
                .ok_or_else(|| StoreError::Corrupt(format!("queue type '{text}'")))?;
            Ok((QueueId(r.try_get("id")?), kind))
        })
        .collect()
}

async fn queue_configs(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    tenant: switchboard_domain::TenantId,
) -> Result<Vec<(QueueId, SkillQueueConfig)>> {
    let rows = sqlx::query("SELECT id, config FROM skill_queues WHERE tenant_id = $1")
        .bind(tenant.0)
        .fetch_all(&mut **tx)
        .await?;
    rows.iter()
        .map(|r| {
            Ok((
                QueueId(r.try_get("id")?),
                from_json("queue", &r.try_get::<String, _>("config")?)?,
            ))
        })
        .collect()
}

/// A `SELECT COUNT(*) AS n` scoped by tenant (`$1`) and one id (`$2`).
pub(crate) async fn scalar(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    sql: &str,
    tenant: i64,
    id: i64,
) -> Result<i64> {
    let row = sqlx::query(sql)
        .bind(tenant)
        .bind(id)
        .fetch_one(&mut **tx)
        .await?;
    Ok(row.try_get("n")?)
}

fn queue_from_row(row: &AnyRow) -> Result<SkillQueue> {
    Ok(SkillQueue {
        id: QueueId(row.try_get("id")?),
        config: from_json("queue", &row.try_get::<String, _>("config")?)?,
        created_at: Timestamp(row.try_get("created_at")?),
        updated_at: Timestamp(row.try_get("updated_at")?),
    })
}
