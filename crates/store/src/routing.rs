//! What routing keeps: where each conversation is (its queue and place in line, or its
//! agent) and the contact record, one event per routing decision. A decision's changes
//! and its events are written in one transaction.

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;
use switchboard_domain::conversation::ConversationState;
use switchboard_domain::time::Timestamp;
use switchboard_domain::{ChannelId, ConversationId, CustomerId, EmployeeId, QueueId};

use crate::error::{Result, StoreError};
use crate::ids::now_millis;
use crate::TenantScope;

/// How a routing decision moves a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// In line in `queue` at `place` (the router's order key).
    Queued {
        queue: QueueId,
        place: i64,
    },
    Assigned {
        queue: QueueId,
        agent: EmployeeId,
    },
    /// The agent wraps up: only a conversation still assigned changes.
    WrapUp,
    /// The wrap-up is over: only a conversation still in wrap-up closes.
    WrapUpDone,
    /// Routing gave up: closed, or open to an offline message.
    Released {
        offline_message: bool,
    },
}

/// One routing decision about a conversation.
#[derive(Debug, Clone, PartialEq)]
pub struct RoutingRecord {
    pub conversation: ConversationId,
    /// `enqueued`, `assigned`, `requeued`, `overflowed`, `transferred`, `released`, …
    pub kind: &'static str,
    pub queue: Option<QueueId>,
    pub agent: Option<EmployeeId>,
    pub detail: serde_json::Value,
    pub placement: Option<Placement>,
}

/// An entry of a conversation's contact record.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ContactEvent {
    pub at: Timestamp,
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue_id: Option<QueueId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<EmployeeId>,
    pub detail: serde_json::Value,
}

/// A conversation routing holds, as the store has it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Routed {
    pub id: ConversationId,
    pub channel: ChannelId,
    pub state: ConversationState,
    pub agent: Option<EmployeeId>,
    pub queue: Option<QueueId>,
    pub place: Option<i64>,
    pub queued_at: Option<i64>,
}

impl TenantScope<'_> {
    /// Writes a decision's moves and contact events, all or nothing.
    pub async fn record_routing(&self, records: &[RoutingRecord]) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        let now = now_millis();
        // Rows are locked in id order, as the message writer locks them, so that the two
        // never wait on each other in a circle on PostgreSQL; a stable sort keeps each
        // conversation's records in the order decided.
        let mut in_lock_order: Vec<&RoutingRecord> = records.iter().collect();
        in_lock_order.sort_by_key(|record| record.conversation.0);
        let mut tx = self.store.write.begin().await?;
        for record in in_lock_order {
            let id = record.conversation.0;
            let tenant = self.tenant.0;
            let update = match record.placement {
                None => None,
                Some(Placement::Queued { queue, place }) => Some(
                    sqlx::query(
                        "UPDATE conversations SET state = 'queued', agent_id = NULL, queue_id = $1, queue_place = $2, \
                         queued_at = $3, updated_at = $3 WHERE tenant_id = $4 AND id = $5 AND state IN ('queued', 'assigned', 'bot')",
                    )
                    .bind(queue.0)
                    .bind(place)
                    .bind(now),
                ),
                Some(Placement::Assigned { queue, agent }) => Some(
                    sqlx::query(
                        "UPDATE conversations SET state = 'assigned', agent_id = $1, queue_id = $2, queue_place = NULL, \
                         updated_at = $3 WHERE tenant_id = $4 AND id = $5 AND state IN ('queued', 'assigned', 'bot')",
                    )
                    .bind(agent.0)
                    .bind(queue.0)
                    .bind(now),
                ),
                Some(Placement::WrapUp) => Some(
                    sqlx::query(
                        "UPDATE conversations SET state = 'wrapUp', updated_at = $1 \
                         WHERE tenant_id = $2 AND id = $3 AND state = 'assigned'",
                    )
                    .bind(now),
                ),
                Some(Placement::WrapUpDone) => Some(
                    sqlx::query(
                        "UPDATE conversations SET state = 'closed', updated_at = $1, closed_at = COALESCE(closed_at, $1) \
                         WHERE tenant_id = $2 AND id = $3 AND state = 'wrapUp'",
                    )
                    .bind(now),
                ),
                Some(Placement::Released { offline_message }) => {
                    let state = if offline_message {
                        ConversationState::OfflineMessage
                    } else {
                        ConversationState::Closed
                    };
                    Some(
                        sqlx::query(
                            "UPDATE conversations SET state = $1, agent_id = NULL, queue_place = NULL, updated_at = $2, \
                             closed_at = COALESCE(closed_at, $2) WHERE tenant_id = $3 AND id = $4 \
                             AND state IN ('queued', 'assigned', 'bot')",
                        )
                        .bind(state.as_str())
                        .bind(now),
                    )
                }
            };
            if let Some(update) = update {
                update.bind(tenant).bind(id).execute(&mut *tx).await?;
            }
            sqlx::query(
                "INSERT INTO contact_events (id, tenant_id, conversation_id, at, kind, queue_id, agent_id, detail) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(self.store.next_id())
            .bind(tenant)
            .bind(id)
            .bind(now)
            .bind(record.kind)
            .bind(record.queue.map(|q| q.0))
            .bind(record.agent.map(|a| a.0))
            .bind(record.detail.to_string())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A conversation's routing history, oldest first.
    pub async fn contact_record(&self, conversation: ConversationId) -> Result<Vec<ContactEvent>> {
        self.conversation(conversation).await?;
        let rows = sqlx::query(
            "SELECT at, kind, queue_id, agent_id, detail FROM contact_events \
             WHERE tenant_id = $1 AND conversation_id = $2 ORDER BY id",
        )
        .bind(self.tenant.0)
        .bind(conversation.0)
        .fetch_all(&self.store.read)
        .await?;
        rows.iter().map(contact_event_from_row).collect()
    }

    /// The conversations routing must restore after a restart: those waiting, in their
    /// order, then those with an agent or wrapping up.
    pub async fn routed_conversations(&self) -> Result<Vec<Routed>> {
        let rows = sqlx::query(
            "SELECT id, channel_id, state, agent_id, queue_id, queue_place, queued_at FROM conversations \
             WHERE tenant_id = $1 AND state IN ('queued', 'assigned', 'wrapUp') \
             ORDER BY CASE WHEN state = 'queued' THEN 0 ELSE 1 END, queue_place, id",
        )
        .bind(self.tenant.0)
        .fetch_all(&self.store.read)
        .await?;
        rows.iter().map(routed_from_row).collect()
    }

    /// The agent who last served the customer before `conversation`, for last-agent mode.
    pub async fn last_agent_of(
        &self,
        customer: CustomerId,
        conversation: ConversationId,
    ) -> Result<Option<EmployeeId>> {
        let row = sqlx::query(
            "SELECT agent_id FROM contact_events WHERE tenant_id = $1 AND kind = 'assigned' AND conversation_id IN \
             (SELECT id FROM conversations WHERE tenant_id = $1 AND customer_id = $2 AND id <> $3) \
             ORDER BY id DESC LIMIT 1",
        )
        .bind(self.tenant.0)
        .bind(customer.0)
        .bind(conversation.0)
        .fetch_optional(&self.store.read)
        .await?;
        match row {
            Some(row) => Ok(row.try_get::<Option<i64>, _>("agent_id")?.map(EmployeeId)),
            None => Ok(None),
        }
    }
}

fn contact_event_from_row(row: &AnyRow) -> Result<ContactEvent> {
    let detail: String = row.try_get("detail")?;
    Ok(ContactEvent {
        at: Timestamp(row.try_get("at")?),
        kind: row.try_get("kind")?,
        queue_id: row.try_get::<Option<i64>, _>("queue_id")?.map(QueueId),
        agent_id: row.try_get::<Option<i64>, _>("agent_id")?.map(EmployeeId),
        detail: serde_json::from_str(&detail)
            .map_err(|e| StoreError::Corrupt(format!("contact event detail: {e}")))?,
    })
}

fn routed_from_row(row: &AnyRow) -> Result<Routed> {
    let state: String = row.try_get("state")?;
    Ok(Routed {
        id: ConversationId(row.try_get("id")?),
        channel: ChannelId(row.try_get("channel_id")?),
        state: ConversationState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("conversation state '{state}'")))?,
        agent: row.try_get::<Option<i64>, _>("agent_id")?.map(EmployeeId),
        queue: row.try_get::<Option<i64>, _>("queue_id")?.map(QueueId),
        place: row.try_get("queue_place")?,
        queued_at: row.try_get("queued_at")?,
    })
}
