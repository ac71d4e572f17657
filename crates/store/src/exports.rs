//! Channel export tasks of one tenant and the files they produce. Files are kept in the
//! database so that any node of a cluster can serve them.

use sqlx::Row;
use switchboard_domain::export::{ExportFile, ExportStatus, ExportTask};
use switchboard_domain::time::Timestamp;
use switchboard_domain::{ChannelId, ExportId};

use crate::error::{Result, StoreError};
use crate::ids::now_millis;
use crate::scoped::found;
use crate::text::{from_json, to_json};
use crate::TenantScope;

impl TenantScope<'_> {
    /// Records a pending export of `channel_ids` (all channels when `None`).
    pub async fn create_export(
        &self,
        channel_ids: Option<Vec<ChannelId>>,
        total: usize,
    ) -> Result<ExportTask> {
        let id = ExportId(self.store.next_id());
        let now = now_millis();
        let selection: Option<Vec<i64>> = channel_ids
            .as_ref()
            .map(|ids| ids.iter().map(|c| c.0).collect());
        sqlx::query(
            "INSERT INTO export_tasks (id, tenant_id, status, selection, total, file_count, created_at) \
             VALUES ($1, $2, 'pending', $3, $4, 0, $5)",
        )
        .bind(id.0)
        .bind(self.tenant.0)
        .bind(to_json(&selection)?)
        .bind(i64::try_from(total).unwrap_or(i64::MAX))
        .bind(now)
        .execute(&self.store.write)
        .await?;
        self.export(id).await
    }

    pub async fn export(&self, id: ExportId) -> Result<ExportTask> {
        let row = sqlx::query(
            "SELECT status, selection, total, error, created_at, finished_at FROM export_tasks WHERE tenant_id = $1 AND id = $2",
        )
        .bind(self.tenant.0)
        .bind(id.0)
        .fetch_optional(&self.store.read)
        .await?
        .ok_or(StoreError::NotFound)?;
        let files = sqlx::query("SELECT file_index, records FROM export_files WHERE tenant_id = $1 AND task_id = $2 ORDER BY file_index")
            .bind(self.tenant.0)
            .bind(id.0)
            .fetch_all(&self.store.read)
            .await?
            .iter()
            .map(|r| {
                Ok(ExportFile {
                    index: u32::try_from(r.try_get::<i64, _>("file_index")?).unwrap_or_default(),
                    records: u32::try_from(r.try_get::<i64, _>("records")?).unwrap_or_default(),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let status_text: String = row.try_get("status")?;
        let selection: Option<Vec<i64>> =
            from_json("export selection", &row.try_get::<String, _>("selection")?)?;
        Ok(ExportTask {
            id,
            status: ExportStatus::parse(&status_text)
                .ok_or_else(|| StoreError::Corrupt(format!("export status '{status_text}'")))?,
            channel_ids: selection.map(|ids| ids.into_iter().map(ChannelId).collect()),
            total: u32::try_from(row.try_get::<i64, _>("total")?).unwrap_or_default(),
            files,
            error: row.try_get("error")?,
            created_at: Timestamp(row.try_get("created_at")?),
            finished_at: row.try_get::<Option<i64>, _>("finished_at")?.map(Timestamp),
        })
    }

    /// Marks an export running and drops any files a stopped run left behind.
    pub async fn start_export(&self, id: ExportId) -> Result<()> {
        let mut tx = self.store.write.begin().await?;
        sqlx::query("DELETE FROM export_files WHERE tenant_id = $1 AND task_id = $2")
            .bind(self.tenant.0)
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        self.set_status(&mut tx, id, ExportStatus::Running, None)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn add_export_file(
        &self,
        id: ExportId,
        index: u32,
        records: u32,
        content: &str,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO export_files (task_id, tenant_id, file_index, records, content) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id.0)
        .bind(self.tenant.0)
        .bind(i64::from(index))
        .bind(i64::from(records))
        .bind(content)
        .execute(&self.store.write)
        .await?;
        Ok(())
    }

    pub async fn finish_export(
        &self,
        id: ExportId,
        status: ExportStatus,
        error: Option<&str>,
    ) -> Result<()> {
        let mut tx = self.store.write.begin().await?;
        self.set_status(&mut tx, id, status, error).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn export_file(&self, id: ExportId, index: u32) -> Result<String> {
        let row = sqlx::query("SELECT content FROM export_files WHERE tenant_id = $1 AND task_id = $2 AND file_index = $3")
            .bind(self.tenant.0)
            .bind(id.0)
            .bind(i64::from(index))
            .fetch_optional(&self.store.read)
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok(row.try_get("content")?)
    }

    async fn set_status(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        id: ExportId,
        status: ExportStatus,
        error: Option<&str>,
    ) -> Result<()> {
        let finished =
            matches!(status, ExportStatus::Success | ExportStatus::Failed).then(now_millis);
        found(sqlx::query(
            "UPDATE export_tasks SET status = $1, error = $2, finished_at = $3, \
             file_count = (SELECT COUNT(*) FROM export_files WHERE task_id = $4) WHERE tenant_id = $5 AND id = $4",
        )
        .bind(status.as_str())
        .bind(error)
        .bind(finished)
        .bind(id.0)
        .bind(self.tenant.0)
        .execute(&mut **tx)
        .await?)?;
        Ok(())
    }
}
