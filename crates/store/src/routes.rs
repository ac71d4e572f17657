//! Called routes of one tenant.

use std::collections::HashMap;

use sqlx::any::AnyRow;
use sqlx::Row;
use switchboard_domain::paging::{Page, PageRequest};
use switchboard_domain::queue::QueueType;
use switchboard_domain::route::{CalledRoute, CalledRouteConfig};
use switchboard_domain::time::Timestamp;
use switchboard_domain::{QueueId, RouteId, Rule, TenantId, ValidationError};

use crate::error::{Result, StoreError};
use crate::ids::now_millis;
use crate::queues::{queue_types, scalar};
use crate::scoped::{found, Param};
use crate::text::like_pattern;
use crate::TenantScope;

const UNIQUE: &[(&str, &str)] = &[("access_code", "accessCode"), ("code_key", "accessCode")];
const COLUMNS: &str =
    "id, access_code, extension_code, media_type, queue_id, created_at, updated_at";

impl TenantScope<'_> {
    pub async fn create_route(&self, config: &CalledRouteConfig) -> Result<CalledRoute> {
        let id = RouteId(self.store.next_id());
        let now = now_millis();
        let mut tx = self.store.write.begin().await?;
        let types = queue_types(&mut tx, self.tenant).await?;
        config.check_queue(types.get(&config.skill_queue_id).copied())?;
        sqlx::query(
            "INSERT INTO called_routes (id, tenant_id, access_code, extension_code, media_type, queue_id, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
        )
        .bind(id.0)
        .bind(self.tenant.0)
        .bind(&config.access_code)
        .bind(&config.extension_code)
        .bind(config.media_type.as_str())
        .bind(config.skill_queue_id.0)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(|e| StoreError::from_unique(e, UNIQUE))?;
        tx.commit().await?;
        Ok(CalledRoute {
            id,
            config: config.clone(),
            created_at: Timestamp(now),
            updated_at: Timestamp(now),
        })
    }

    pub async fn route(&self, id: RouteId) -> Result<CalledRoute> {
        route_from_row(&self.row("called_routes", COLUMNS, id.0).await?)
    }

    /// Routes whose access code (with extension) contains `code`, optionally of one queue.
    pub async fn list_routes(
        &self,
        page: PageRequest,
        code: Option<&str>,
        queue: Option<QueueId>,
    ) -> Result<Page<CalledRoute>> {
        const WHERE: &str = "FROM called_routes WHERE tenant_id = $1 \
             AND ($2 = '' OR (access_code || extension_code) LIKE $2 ESCAPE '\\') AND ($3 = 0 OR queue_id = $3)";
        let pattern = like_pattern(code);
        let queue = queue.map_or(0, |q| q.0);
        let (rows, total) = self
            .page(
                WHERE,
                COLUMNS,
                &[Param::Text(&pattern), Param::Int(queue)],
                page,
            )
            .await?;
        let items = rows.iter().map(route_from_row).collect::<Result<_>>()?;
        Ok(Page::new(items, total, page))
    }

    /// Replaces a route; its media type cannot change once created.
    pub async fn update_route(
        &self,
        id: RouteId,
        config: &CalledRouteConfig,
    ) -> Result<CalledRoute> {
        let mut tx = self.store.write.begin().await?;
        let existing = route_media_types(&mut tx, self.tenant).await?;
        match existing.get(&id) {
            None => return Err(StoreError::NotFound),
            Some(media) if *media != config.media_type => {
                return Err(ValidationError::new("mediaType", Rule::Immutable).into());
            }
            Some(_) => {}
        }
        let types = queue_types(&mut tx, self.tenant).await?;
        config.check_queue(types.get(&config.skill_queue_id).copied())?;
        sqlx::query(
            "UPDATE called_routes SET access_code = $1, extension_code = $2, queue_id = $3, updated_at = $4 \
             WHERE tenant_id = $5 AND id = $6",
        )
        .bind(&config.access_code)
        .bind(&config.extension_code)
        .bind(config.skill_queue_id.0)
        .bind(now_millis())
        .bind(self.tenant.0)
        .bind(id.0)
        .execute(&mut *tx)
        .await
        .map_err(|e| StoreError::from_unique(e, UNIQUE))?;
        tx.commit().await?;
        self.route(id).await
    }

    /// Deletes a route no channel refers to.
    pub async fn delete_route(&self, id: RouteId) -> Result<()> {
        let mut tx = self.store.write.begin().await?;
        let channels = scalar(
            &mut tx,
            "SELECT COUNT(DISTINCT channel_id) AS n FROM channel_routes WHERE tenant_id = $1 AND route_id = $2",
            self.tenant.0,
            id.0,
        )
        .await?;
        if channels > 0 {
            return Err(StoreError::InUse {
                reason: format!("the route is used by {channels} channel(s)"),
            });
        }
        found(
            sqlx::query("DELETE FROM called_routes WHERE tenant_id = $1 AND id = $2")
                .bind(self.tenant.0)
                .bind(id.0)
                .execute(&mut *tx)
                .await?,
        )?;
        tx.commit().await?;
        Ok(())
    }
}

pub(crate) async fn route_media_types(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    tenant: TenantId,
) -> Result<HashMap<RouteId, QueueType>> {
    let rows = sqlx::query("SELECT id, media_type FROM called_routes WHERE tenant_id = $1")
        .bind(tenant.0)
        .fetch_all(&mut **tx)
        .await?;
    rows.iter()
        .map(|r| {
            Ok((
                RouteId(r.try_get("id")?),
                parse_media(&r.try_get::<String, _>("media_type")?)?,
            ))
        })
        .collect()
}

fn parse_media(text: &str) -> Result<QueueType> {
    QueueType::parse(text).ok_or_else(|| StoreError::Corrupt(format!("media type '{text}'")))
}

fn route_from_row(row: &AnyRow) -> Result<CalledRoute> {
    Ok(CalledRoute {
        id: RouteId(row.try_get("id")?),
        config: CalledRouteConfig {
            access_code: row.try_get("access_code")?,
            extension_code: row.try_get("extension_code")?,
            media_type: parse_media(&row.try_get::<String, _>("media_type")?)?,
            skill_queue_id: QueueId(row.try_get("queue_id")?),
        },
        created_at: Timestamp(row.try_get("created_at")?),
        updated_at: Timestamp(row.try_get("updated_at")?),
    })
}
