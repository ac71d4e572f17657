//! Channel exports run as background tasks: the request records a pending task and
//! returns at once; a task writes its files (≤2,000 channels each) into the store and
//! ends `success` or `failed`. Tasks a stopped server left unfinished start again.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::broadcast;

use serde::Serialize;
use switchboard_domain::channel::{Channel, ChannelConfig};
use switchboard_domain::export::{ExportStatus, ExportTask, MAX_RECORDS_PER_FILE};
use switchboard_domain::time::Timestamp;
use switchboard_domain::{ChannelId, ExportId, TenantId};
use switchboard_store::{Store, StoreError};

#[derive(Clone)]
pub struct Exporter {
    store: Arc<Store>,
    /// Ids of tasks as they finish, for callers waiting on one.
    finished: broadcast::Sender<ExportId>,
}

/// One exported channel: its configuration and nothing secret — credentials are not
/// part of [`ChannelConfig`], and not even their names are written.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExportRecord<'a> {
    channel_config_id: ChannelId,
    #[serde(flatten)]
    config: &'a ChannelConfig,
    created_at: Timestamp,
    updated_at: Timestamp,
}

impl Exporter {
    pub fn new(store: Arc<Store>) -> Self {
        Self {
            store,
            finished: broadcast::channel(64).0,
        }
    }

    pub fn spawn(&self, tenant: TenantId, id: ExportId) {
        let store = self.store.clone();
        let finished = self.finished.clone();
        tokio::spawn(async move {
            if let Err(e) = run(&store, tenant, id).await {
                tracing::error!(tenant.id = %tenant, export.id = %id, error = %e, "channel export failed");
                let message = "the export could not be completed; the cause is in the server log";
                if let Err(e) = store
                    .tenant(tenant)
                    .finish_export(id, ExportStatus::Failed, Some(message))
                    .await
                {
                    tracing::error!(export.id = %id, error = %e, "recording the failed export failed");
                }
            }
            // Nobody may be waiting: a send without receivers is fine.
            let _ = finished.send(id);
        });
    }

    /// The task once it has finished, or as it is when `patience` runs out.
    pub async fn wait(
        &self,
        tenant: TenantId,
        id: ExportId,
        patience: Duration,
    ) -> Result<ExportTask, StoreError> {
        let mut finished = self.finished.subscribe();
        let deadline = tokio::time::Instant::now() + patience;
        loop {
            let task = self.store.tenant(tenant).export(id).await?;
            if matches!(task.status, ExportStatus::Success | ExportStatus::Failed) {
                return Ok(task);
            }
            match tokio::time::timeout_at(deadline, finished.recv()).await {
                Err(_) | Ok(Err(broadcast::error::RecvError::Closed)) => return Ok(task),
                Ok(Ok(_) | Err(broadcast::error::RecvError::Lagged(_))) => continue,
            }
        }
    }

    pub async fn resume_unfinished(&self) {
        match self.store.platform().unfinished_exports().await {
            Ok(tasks) => {
                for (tenant, id) in tasks {
                    tracing::info!(tenant.id = %tenant, export.id = %id, "resuming channel export");
                    self.spawn(tenant, id);
                }
            }
            Err(e) => tracing::error!(error = %e, "listing unfinished exports failed"),
        }
    }
}

async fn run(store: &Store, tenant: TenantId, id: ExportId) -> Result<(), StoreError> {
    let scope = store.tenant(tenant);
    let task = scope.export(id).await?;
    scope.start_export(id).await?;
    let mut after = ChannelId(0);
    let mut index = 0;
    loop {
        let batch = scope
            .channels_after(task.channel_ids.as_deref(), after, MAX_RECORDS_PER_FILE)
            .await?;
        let Some(last) = batch.last() else { break };
        after = last.channel_config_id;
        index += 1;
        let content = serde_json::to_string(&records(&batch))
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let count = u32::try_from(batch.len()).unwrap_or(u32::MAX);
        scope.add_export_file(id, index, count, &content).await?;
    }
    scope.finish_export(id, ExportStatus::Success, None).await
}

fn records(batch: &[Channel]) -> Vec<ExportRecord<'_>> {
    batch
        .iter()
        .map(|c| ExportRecord {
            channel_config_id: c.channel_config_id,
            config: &c.config,
            created_at: c.created_at,
            updated_at: c.updated_at,
        })
        .collect()
}
