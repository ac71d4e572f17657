//! Channels of one tenant, their sealed credentials, the called routes they refer to and
//! the platform identifiers they claim installation-wide.

use std::collections::BTreeMap;

use sqlx::any::AnyRow;
use sqlx::Row;
use switchboard_domain::channel::secrets::SecretPlan;
use switchboard_domain::channel::{Channel, ChannelConfig, ChannelType};
use switchboard_domain::paging::{Page, PageRequest};
use switchboard_domain::time::Timestamp;
use switchboard_domain::{ChannelId, Rule, TenantId, ValidationError};

use crate::error::{Result, StoreError};
use crate::ids::now_millis;
use crate::routes::route_media_types;
use crate::scoped::Param;
use crate::text::{from_json, like_pattern, to_json};
use crate::{Backend, Platform, TenantScope};

#[derive(Debug, Clone, Default)]
pub struct ChannelFilter {
    /// Part of the access code or name, any case.
    pub text: Option<String>,
    pub channel_type: Option<ChannelType>,
}

const UNIQUE: &[(&str, &str)] = &[("access_code", "accessCode"), ("name", "name")];
const COLUMNS: &str = "id, config, created_at, updated_at";
const FILTER: &str = "FROM channels WHERE tenant_id = $1 \
     AND ($2 = '' OR lower(access_code) LIKE $2 ESCAPE '\\' OR lower(name) LIKE $2 ESCAPE '\\') \
     AND ($3 = '' OR channel_type = $3)";
/// Ids bound into one `IN (…)` list; well below either backend's parameter limit.
const ID_CHUNK: usize = 500;

type Tx<'t> = sqlx::Transaction<'t, sqlx::Any>;

impl TenantScope<'_> {
    pub async fn create_channel(
        &self,
        config: &ChannelConfig,
        secrets: &SecretPlan,
    ) -> Result<Channel> {
        let id = ChannelId(self.store.next_id());
        let now = now_millis();
        let mut tx = self.store.write.begin().await?;
        let routes = route_media_types(&mut tx, self.tenant).await?;
        config.check_routes(|r| routes.get(&r).copied())?;
        sqlx::query(
            "INSERT INTO channels (id, tenant_id, access_code, name, channel_type, config, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
        )
        .bind(id.0)
        .bind(self.tenant.0)
        .bind(&config.access_code)
        .bind(&config.name)
        .bind(config.channel_type.as_str())
        .bind(to_json(config)?)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(|e| StoreError::from_unique(e, UNIQUE))?;
        self.write_references(&mut tx, id, config, secrets).await?;
        tx.commit().await?;
        self.channel(id).await
    }

    /// The channel with the names of its credentials, in one statement: every platform
    /// delivery reads its channel (a widget request reads it with its session).
    pub async fn channel(&self, id: ChannelId) -> Result<Channel> {
        let row = self
            .row("channels", &channel_columns(self.store.backend), id.0)
            .await?;
        channel_with_secret_names(&row)
    }

    pub async fn list_channels(
        &self,
        page: PageRequest,
        filter: &ChannelFilter,
    ) -> Result<Page<Channel>> {
        let pattern = like_pattern(filter.text.as_deref());
        let kind = filter
            .channel_type
            .map(ChannelType::as_str)
            .unwrap_or_default();
        let (rows, total) = self
            .page(
                FILTER,
                &channel_columns(self.store.backend),
                &[Param::Text(&pattern), Param::Text(kind)],
                page,
            )
            .await?;
        let items = rows
            .iter()
            .map(channel_with_secret_names)
            .collect::<Result<_>>()?;
        Ok(Page::new(items, total, page))
    }

    /// Names of the credentials a channel has; `NotFound` if it is not this tenant's.
    pub async fn secret_names(&self, id: ChannelId) -> Result<Vec<String>> {
        let row = self
            .row("channels", secret_names_column(self.store.backend), id.0)
            .await?;
        secret_names_of(&row)
    }

    /// A credential in clear, for the code that talks to the platform.
    pub async fn channel_secret(&self, id: ChannelId, name: &str) -> Result<Option<String>> {
        let row = sqlx::query("SELECT sealed FROM channel_secrets WHERE tenant_id = $1 AND channel_id = $2 AND name = $3")
            .bind(self.tenant.0)
            .bind(id.0)
            .bind(name)
            .fetch_optional(&self.store.read)
            .await?;
        row.map(|r| {
            self.store
                .secrets
                .open(&seal_context(id, name), &r.try_get::<String, _>("sealed")?)
        })
        .transpose()
    }

    /// Every credential of a channel in clear, by name.
    pub async fn channel_secrets(&self, id: ChannelId) -> Result<BTreeMap<String, String>> {
        let rows = sqlx::query(
            "SELECT name, sealed FROM channel_secrets WHERE tenant_id = $1 AND channel_id = $2",
        )
        .bind(self.tenant.0)
        .bind(id.0)
        .fetch_all(&self.store.read)
        .await?;
        rows.iter()
            .map(|r| {
                let name: String = r.try_get("name")?;
                let sealed: String = r.try_get("sealed")?;
                let value = self.store.secrets.open(&seal_context(id, &name), &sealed)?;
                Ok((name, value))
            })
            .collect()
    }

    /// Replaces a channel's configuration and applies the credential changes; its type
    /// cannot change once created.
    pub async fn update_channel(
        &self,
        id: ChannelId,
        config: &ChannelConfig,
        secrets: &SecretPlan,
    ) -> Result<Channel> {
        let mut tx = self.store.write.begin().await?;
        let row = sqlx::query("SELECT channel_type FROM channels WHERE tenant_id = $1 AND id = $2")
            .bind(self.tenant.0)
            .bind(id.0)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        if row.try_get::<String, _>("channel_type")? != config.channel_type.as_str() {
            return Err(ValidationError::new("type", Rule::Immutable).into());
        }
        let routes = route_media_types(&mut tx, self.tenant).await?;
        config.check_routes(|r| routes.get(&r).copied())?;
        sqlx::query(
            "UPDATE channels SET access_code = $1, name = $2, config = $3, updated_at = $4 WHERE tenant_id = $5 AND id = $6",
        )
        .bind(&config.access_code)
        .bind(&config.name)
        .bind(to_json(config)?)
        .bind(now_millis())
        .bind(self.tenant.0)
        .bind(id.0)
        .execute(&mut *tx)
        .await
        .map_err(|e| StoreError::from_unique(e, UNIQUE))?;
        self.write_references(&mut tx, id, config, secrets).await?;
        tx.commit().await?;
        self.channel(id).await
    }

    pub async fn delete_channel(&self, id: ChannelId) -> Result<()> {
        self.delete_row("channels", id.0).await
    }

    /// How many of `ids` are channels of this tenant.
    pub async fn count_channels_among(&self, ids: &[ChannelId]) -> Result<usize> {
        let mut found = 0;
        for chunk in ids.chunks(ID_CHUNK) {
            let sql = format!(
                "SELECT COUNT(*) AS n FROM channels WHERE tenant_id = $1 AND id IN ({})",
                placeholders(2, chunk.len())
            );
            let mut query = sqlx::query(&sql).bind(self.tenant.0);
            for id in chunk {
                query = query.bind(id.0);
            }
            let n: i64 = query.fetch_one(&self.store.read).await?.try_get("n")?;
            found += usize::try_from(n).unwrap_or_default();
        }
        Ok(found)
    }

    pub async fn count_channels(&self) -> Result<usize> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM channels WHERE tenant_id = $1")
            .bind(self.tenant.0)
            .fetch_one(&self.store.read)
            .await?;
        Ok(usize::try_from(row.try_get::<i64, _>("n")?).unwrap_or_default())
    }

    /// Up to `limit` channels with ids above `after`, in id order: all of the tenant's,
    /// or only those among `ids` (which must be sorted).
    pub async fn channels_after(
        &self,
        ids: Option<&[ChannelId]>,
        after: ChannelId,
        limit: usize,
    ) -> Result<Vec<Channel>> {
        let rows = match ids {
            None => {
                let sql = format!("SELECT {COLUMNS} FROM channels WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3");
                sqlx::query(&sql)
                    .bind(self.tenant.0)
                    .bind(after.0)
                    .bind(i64::try_from(limit).unwrap_or(i64::MAX))
                    .fetch_all(&self.store.read)
                    .await?
            }
            Some(ids) => {
                let start = ids.partition_point(|id| *id <= after);
                let window = &ids[start..ids.len().min(start.saturating_add(limit))];
                let mut rows = Vec::with_capacity(window.len());
                for chunk in window.chunks(ID_CHUNK) {
                    let sql = format!(
                        "SELECT {COLUMNS} FROM channels WHERE tenant_id = $1 AND id IN ({}) ORDER BY id",
                        placeholders(2, chunk.len())
                    );
                    let mut query = sqlx::query(&sql).bind(self.tenant.0);
                    for id in chunk {
                        query = query.bind(id.0);
                    }
                    rows.extend(query.fetch_all(&self.store.read).await?);
                }
                rows
            }
        };
        rows.iter()
            .map(|row| channel_from_row(row, Vec::new()))
            .collect()
    }

    /// Route references, platform keys and credentials of a channel, rewritten whole.
    async fn write_references(
        &self,
        tx: &mut Tx<'_>,
        id: ChannelId,
        config: &ChannelConfig,
        secrets: &SecretPlan,
    ) -> Result<()> {
        sqlx::query("DELETE FROM channel_routes WHERE channel_id = $1")
            .bind(id.0)
            .execute(&mut **tx)
            .await?;
        for (field, route, _) in config.route_references() {
            sqlx::query("INSERT INTO channel_routes (channel_id, tenant_id, route_id, field) VALUES ($1, $2, $3, $4)")
                .bind(id.0)
                .bind(self.tenant.0)
                .bind(route.0)
                .bind(field)
                .execute(&mut **tx)
                .await?;
        }
        claim_keys(tx, self.tenant, id, config).await?;
        for name in &secrets.remove {
            sqlx::query("DELETE FROM channel_secrets WHERE channel_id = $1 AND name = $2")
                .bind(id.0)
                .bind(name)
                .execute(&mut **tx)
                .await?;
        }
        for (name, value) in &secrets.set {
            let sealed = self.store.secrets.seal(&seal_context(id, name), value)?;
            sqlx::query("DELETE FROM channel_secrets WHERE channel_id = $1 AND name = $2")
                .bind(id.0)
                .bind(name)
                .execute(&mut **tx)
                .await?;
            sqlx::query("INSERT INTO channel_secrets (channel_id, tenant_id, name, sealed) VALUES ($1, $2, $3, $4)")
                .bind(id.0)
                .bind(self.tenant.0)
                .bind(name)
                .bind(sealed)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }
}

/// Takes the channel's platform identifiers, refusing any another channel holds.
async fn claim_keys(
    tx: &mut Tx<'_>,
    tenant: TenantId,
    id: ChannelId,
    config: &ChannelConfig,
) -> Result<()> {
    sqlx::query("DELETE FROM channel_keys WHERE channel_id = $1")
        .bind(id.0)
        .execute(&mut **tx)
        .await?;
    for key in config.global_keys() {
        let holder =
            sqlx::query("SELECT channel_id FROM channel_keys WHERE kind = $1 AND value = $2")
                .bind(key.kind)
                .bind(&key.value)
                .fetch_optional(&mut **tx)
                .await?;
        if holder.is_some() {
            return Err(StoreError::Conflict { field: key.field });
        }
        sqlx::query("INSERT INTO channel_keys (kind, value, tenant_id, channel_id, field) VALUES ($1, $2, $3, $4, $5)")
            .bind(key.kind)
            .bind(&key.value)
            .bind(tenant.0)
            .bind(id.0)
            .bind(&key.field)
            .execute(&mut **tx)
            .await
            .map_err(|e| StoreError::from_unique(e, &[("channel_keys", key.field.as_str())]))?;
    }
    Ok(())
}

fn seal_context(id: ChannelId, name: &str) -> String {
    format!("channel:{id}:{name}")
}

/// `$first, $first+1, …` for `n` parameters.
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A `channels` row's columns with its credentials' names, read by
/// [`channel_with_secret_names`].
pub(crate) fn channel_columns(backend: Backend) -> String {
    format!(
        "channels.id, channels.config, channels.created_at, channels.updated_at, {}",
        secret_names_column(backend)
    )
}

pub(crate) fn channel_with_secret_names(row: &AnyRow) -> Result<Channel> {
    channel_from_row(row, secret_names_of(row)?)
}

/// The names of a `channels` row's credentials in order, as a JSON array named
/// `secret_names` (read by [`secret_names_of`]).
fn secret_names_column(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => {
            "(SELECT json_group_array(s.name ORDER BY s.name) FROM channel_secrets s \
             WHERE s.tenant_id = channels.tenant_id AND s.channel_id = channels.id) AS secret_names"
        }
        Backend::Postgres => {
            "(SELECT COALESCE(CAST(json_agg(s.name ORDER BY s.name) AS TEXT), '[]') FROM channel_secrets s \
             WHERE s.tenant_id = channels.tenant_id AND s.channel_id = channels.id) AS secret_names"
        }
    }
}

fn secret_names_of(row: &AnyRow) -> Result<Vec<String>> {
    from_json(
        "channel credential names",
        &row.try_get::<String, _>("secret_names")?,
    )
}

fn channel_from_row(row: &AnyRow, secrets_set: Vec<String>) -> Result<Channel> {
    Ok(Channel {
        channel_config_id: ChannelId(row.try_get("id")?),
        config: from_json("channel", &row.try_get::<String, _>("config")?)?,
        secrets_set,
        created_at: Timestamp(row.try_get("created_at")?),
        updated_at: Timestamp(row.try_get("updated_at")?),
    })
}

impl Platform<'_> {
    /// The tenant a channel belongs to, for requests that name only the channel (platform
    /// webhooks); `None` if there is no such channel or its tenant is disabled.
    pub async fn channel_tenant(&self, id: ChannelId) -> Result<Option<TenantId>> {
        let row = sqlx::query(
            "SELECT ch.tenant_id FROM channels ch JOIN tenants t ON t.id = ch.tenant_id \
             WHERE ch.id = $1 AND t.disabled = 0",
        )
        .bind(id.0)
        .fetch_optional(&self.store.read)
        .await?;
        row.map(|r| Ok(TenantId(r.try_get("tenant_id")?)))
            .transpose()
    }
}
