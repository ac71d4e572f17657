//! What passes between the installation and the messaging platforms, kept so that
//! nothing is lost on the way: the inbox of messages platforms delivered (stored before
//! the platform is answered, recognised again by the platform's id) and the outbox of
//! replies to send (queued with the message, see `message_log`).

use sqlx::any::AnyRow;
use sqlx::Row;
use switchboard_domain::channel::ChannelType;
use switchboard_domain::conversation::Content;
use switchboard_domain::delivery::{DeliveryState, DeliveryStatus};
use switchboard_domain::time::Timestamp;
use switchboard_domain::{ChannelId, ConversationId, EmployeeId, TenantId};

use crate::error::{corrupt, Result};
use crate::ids::now_millis;
use crate::scoped::Placeholders;
use crate::text::from_json;
use crate::{Platform, TenantScope};

/// A message a platform delivered, waiting to join its conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundEvent {
    pub id: i64,
    pub tenant: TenantId,
    pub channel: ChannelId,
    pub platform_id: String,
    /// What the channel read from the platform's request, as the server wrote it.
    pub payload: String,
    /// Attempts that failed so far.
    pub attempts: u32,
}

/// A reply whose turn it is to be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueDelivery {
    pub tenant: TenantId,
    pub channel: ChannelId,
    pub conversation: ConversationId,
    pub seq: i64,
    /// Attempts made before this one.
    pub attempts: u32,
    /// Parts of a long text sent already.
    pub parts_sent: u32,
    /// The customer's id on the platform.
    pub recipient: String,
    pub content: Content,
}

/// How an attempt to send a reply ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryOutcome {
    Sent { platform_message_id: Option<String> },
    RetryAt { at: i64, error: String },
    Failed { error: String },
}

/// A delivery whose state changed, for its conversation's agent to hear of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryChange {
    pub tenant: TenantId,
    pub agent: Option<EmployeeId>,
    pub status: DeliveryStatus,
}

/// A pending reply with no earlier reply of its conversation still pending or being sent.
const HEAD_OF_LINE: &str = "d.state = 'pending' AND NOT EXISTS (SELECT 1 FROM deliveries e \
     WHERE e.conversation_id = d.conversation_id AND e.seq < d.seq AND e.state IN ('pending', 'sending'))";

const STATUS_COLUMNS: &str =
    "d.conversation_id, d.seq, d.state, d.attempts, d.last_error, d.updated_at";

impl TenantScope<'_> {
    /// Stores the messages of one platform request in one transaction; answers, for
    /// each, whether it is new (`false`: the platform delivered it before).
    pub async fn record_inbound(
        &self,
        channel: ChannelId,
        messages: &[(String, String)],
    ) -> Result<Vec<bool>> {
        let now = now_millis();
        let mut tx = self.store.write.begin().await?;
        let mut fresh = Vec::with_capacity(messages.len());
        for (platform_id, payload) in messages {
            let inserted = sqlx::query(
                "INSERT INTO inbound_events (id, tenant_id, channel_id, platform_id, payload, received_at, next_attempt_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (channel_id, platform_id) DO NOTHING",
            )
            .bind(self.store.next_id())
            .bind(self.tenant.0)
            .bind(channel.0)
            .bind(platform_id)
            .bind(payload)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            fresh.push(inserted.rows_affected() == 1);
        }
        tx.commit().await?;
        Ok(fresh)
    }

    /// Where the replies of a conversation stand, in order.
    pub async fn deliveries_of(&self, conversation: ConversationId) -> Result<Vec<DeliveryStatus>> {
        let sql = format!(
            "SELECT {STATUS_COLUMNS} FROM deliveries d WHERE d.tenant_id = $1 AND d.conversation_id = $2 ORDER BY d.seq"
        );
        let rows = sqlx::query(&sql)
            .bind(self.tenant.0)
            .bind(conversation.0)
            .fetch_all(&self.store.read)
            .await?;
        rows.iter().map(delivery_status).collect()
    }
}

impl Platform<'_> {
    /// Platform messages not yet in their conversations whose (next) attempt is due,
    /// oldest first.
    pub async fn pending_inbound(&self, now: i64, limit: i64) -> Result<Vec<InboundEvent>> {
        let rows = sqlx::query(
            "SELECT id, tenant_id, channel_id, platform_id, payload, attempts FROM inbound_events \
             WHERE processed_at IS NULL AND next_attempt_at <= $1 ORDER BY id LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(&self.store.read)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(InboundEvent {
                    id: row.try_get("id")?,
                    tenant: TenantId(row.try_get("tenant_id")?),
                    channel: ChannelId(row.try_get("channel_id")?),
                    platform_id: row.try_get("platform_id")?,
                    payload: row.try_get("payload")?,
                    attempts: count(row, "attempts")?,
                })
            })
            .collect()
    }

    /// When the earliest platform message waiting for another attempt is due.
    pub async fn next_inbound_at(&self) -> Result<Option<i64>> {
        let row = sqlx::query(
            "SELECT MIN(next_attempt_at) AS due FROM inbound_events WHERE processed_at IS NULL",
        )
        .fetch_one(&self.store.read)
        .await?;
        Ok(row.try_get("due")?)
    }

    /// Takes a due platform message for handling until `lease_until`, after which
    /// another node (or this one, after a crash) may take it again; `false` if another
    /// took it first.
    pub async fn claim_inbound(&self, id: i64, now: i64, lease_until: i64) -> Result<bool> {
        let claimed = sqlx::query(
            "UPDATE inbound_events SET next_attempt_at = $1 \
             WHERE id = $2 AND processed_at IS NULL AND next_attempt_at <= $3",
        )
        .bind(lease_until)
        .bind(id)
        .bind(now)
        .execute(&self.store.write)
        .await?;
        Ok(claimed.rows_affected() == 1)
    }

    pub async fn inbound_processed(&self, id: i64) -> Result<()> {
        sqlx::query("UPDATE inbound_events SET processed_at = $1, last_error = NULL WHERE id = $2")
            .bind(now_millis())
            .bind(id)
            .execute(&self.store.write)
            .await?;
        Ok(())
    }

    pub async fn inbound_failed(&self, id: i64, error: &str, next_attempt_at: i64) -> Result<()> {
        sqlx::query(
            "UPDATE inbound_events SET attempts = attempts + 1, last_error = $1, next_attempt_at = $2 WHERE id = $3",
        )
        .bind(error)
        .bind(next_attempt_at)
        .bind(id)
        .execute(&self.store.write)
        .await?;
        Ok(())
    }

    /// Forgets platform messages handled before `before`: platforms stop retrying long
    /// before.
    pub async fn purge_processed_inbound(&self, before: i64) -> Result<u64> {
        let done = sqlx::query(
            "DELETE FROM inbound_events WHERE processed_at IS NOT NULL AND processed_at < $1",
        )
        .bind(before)
        .execute(&self.store.write)
        .await?;
        Ok(done.rows_affected())
    }

    /// Replies due to be sent, each the first unsent one of its conversation, leaving
    /// out the `paused` channels.
    pub async fn due_deliveries(
        &self,
        now: i64,
        limit: i64,
        paused: &[ChannelId],
    ) -> Result<Vec<DueDelivery>> {
        let sql = format!(
            "SELECT d.conversation_id, d.seq, d.tenant_id, d.channel_id, d.attempts, d.parts_sent, cu.external_id, m.content \
             FROM deliveries d \
             JOIN messages m ON m.conversation_id = d.conversation_id AND m.seq = d.seq \
             JOIN conversations c ON c.id = d.conversation_id \
             JOIN customers cu ON cu.id = c.customer_id \
             WHERE {HEAD_OF_LINE} AND d.next_attempt_at <= $1{} \
             ORDER BY d.next_attempt_at, d.conversation_id, d.seq LIMIT $2",
            self.not_paused(paused, 3)
        );
        let mut query = sqlx::query(&sql).bind(now).bind(limit);
        for channel in paused {
            query = query.bind(channel.0);
        }
        let rows = query.fetch_all(&self.store.read).await?;
        rows.iter()
            .map(|row| {
                Ok(DueDelivery {
                    tenant: TenantId(row.try_get("tenant_id")?),
                    channel: ChannelId(row.try_get("channel_id")?),
                    conversation: ConversationId(row.try_get("conversation_id")?),
                    seq: row.try_get("seq")?,
                    attempts: count(row, "attempts")?,
                    parts_sent: count(row, "parts_sent")?,
                    recipient: row.try_get("external_id")?,
                    content: from_json("message content", &row.try_get::<String, _>("content")?)?,
                })
            })
            .collect()
    }

    /// When the earliest reply whose turn it is will be due, leaving out the `paused`
    /// channels.
    pub async fn next_delivery_at(&self, paused: &[ChannelId]) -> Result<Option<i64>> {
        let sql = format!(
            "SELECT MIN(d.next_attempt_at) AS due FROM deliveries d WHERE {HEAD_OF_LINE}{}",
            self.not_paused(paused, 1)
        );
        let mut query = sqlx::query(&sql);
        for channel in paused {
            query = query.bind(channel.0);
        }
        let row = query.fetch_one(&self.store.read).await?;
        Ok(row.try_get("due")?)
    }

    /// ` AND d.channel_id NOT IN (…)`, its parameters numbered from `first`.
    fn not_paused(&self, paused: &[ChannelId], first: usize) -> String {
        if paused.is_empty() {
            return String::new();
        }
        let mut placeholders = Placeholders::starting_at(self.store.backend, first);
        format!(
            " AND d.channel_id NOT IN ({})",
            placeholders.list(paused.len())
        )
    }

    /// Marks a reply as being sent; `false` if another worker took it first.
    pub async fn begin_delivery(&self, conversation: ConversationId, seq: i64) -> Result<bool> {
        let claimed = sqlx::query(
            "UPDATE deliveries SET state = 'sending', attempts = attempts + 1, updated_at = $1 \
             WHERE conversation_id = $2 AND seq = $3 AND state = 'pending'",
        )
        .bind(now_millis())
        .bind(conversation.0)
        .bind(seq)
        .execute(&self.store.write)
        .await?;
        Ok(claimed.rows_affected() == 1)
    }

    /// Records that the first `parts` parts of a long text reached the platform.
    pub async fn delivery_progress(
        &self,
        conversation: ConversationId,
        seq: i64,
        parts: u32,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE deliveries SET parts_sent = $1 WHERE conversation_id = $2 AND seq = $3",
        )
        .bind(i64::from(parts))
        .bind(conversation.0)
        .bind(seq)
        .execute(&self.store.write)
        .await?;
        Ok(())
    }

    /// Records how an attempt ended; answers where the reply stands now.
    pub async fn finish_delivery(
        &self,
        conversation: ConversationId,
        seq: i64,
        outcome: &DeliveryOutcome,
    ) -> Result<Option<DeliveryChange>> {
        let now = now_millis();
        let (state, next_at, error, platform_id) = match outcome {
            DeliveryOutcome::Sent {
                platform_message_id,
            } => (
                DeliveryState::Sent,
                now,
                None,
                platform_message_id.as_deref(),
            ),
            DeliveryOutcome::RetryAt { at, error } => {
                (DeliveryState::Pending, *at, Some(error.as_str()), None)
            }
            DeliveryOutcome::Failed { error } => {
                (DeliveryState::Failed, now, Some(error.as_str()), None)
            }
        };
        sqlx::query(
            "UPDATE deliveries SET state = $1, next_attempt_at = $2, last_error = $3, \
             platform_message_id = COALESCE($4, platform_message_id), updated_at = $5 \
             WHERE conversation_id = $6 AND seq = $7",
        )
        .bind(state.as_str())
        .bind(next_at)
        .bind(error)
        .bind(platform_id)
        .bind(now)
        .bind(conversation.0)
        .bind(seq)
        .execute(&self.store.write)
        .await?;
        self.delivery_change(conversation, seq).await
    }

    /// After a restart: a reply that was being sent when the server stopped may or may
    /// not have reached the platform. On channels whose platform recognises a repeated
    /// send (`idempotent`) it is sent again; elsewhere it is marked failed rather than
    /// risk the customer reading it twice, and the changes are answered for the agents.
    pub async fn recover_deliveries(
        &self,
        idempotent: &[ChannelType],
    ) -> Result<Vec<DeliveryChange>> {
        let now = now_millis();
        let interrupted = sqlx::query(
            "SELECT d.conversation_id, d.seq, ch.channel_type FROM deliveries d \
             JOIN channels ch ON ch.id = d.channel_id WHERE d.state = 'sending'",
        )
        .fetch_all(&self.store.read)
        .await?;
        let mut changes = Vec::new();
        for row in &interrupted {
            let conversation = ConversationId(row.try_get("conversation_id")?);
            let seq: i64 = row.try_get("seq")?;
            let channel_type: String = row.try_get("channel_type")?;
            let repeatable =
                ChannelType::parse(&channel_type).is_some_and(|t| idempotent.contains(&t));
            let outcome = if repeatable {
                DeliveryOutcome::RetryAt {
                    at: now,
                    error: "the server stopped while sending; sending again".into(),
                }
            } else {
                DeliveryOutcome::Failed {
                    error: "the server stopped while sending: the customer may or may not have received this reply".into(),
                }
            };
            changes.extend(self.finish_delivery(conversation, seq, &outcome).await?);
        }
        Ok(changes)
    }

    /// Applies a platform's report on a reply it took, if it moves the reply forward;
    /// answers where the reply stands then.
    pub async fn report_delivery(
        &self,
        channel: ChannelId,
        platform_message_id: &str,
        state: DeliveryState,
        error: Option<&str>,
    ) -> Result<Option<DeliveryChange>> {
        let row = sqlx::query(
            "SELECT conversation_id, seq, state FROM deliveries WHERE channel_id = $1 AND platform_message_id = $2",
        )
        .bind(channel.0)
        .bind(platform_message_id)
        .fetch_optional(&self.store.read)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let current: String = row.try_get("state")?;
        let current =
            DeliveryState::parse(&current).ok_or_else(|| corrupt("delivery state", &current))?;
        if !current.may_become(state) {
            return Ok(None);
        }
        let conversation: i64 = row.try_get("conversation_id")?;
        let seq: i64 = row.try_get("seq")?;
        sqlx::query(
            "UPDATE deliveries SET state = $1, last_error = COALESCE($2, last_error), updated_at = $3 \
             WHERE conversation_id = $4 AND seq = $5",
        )
        .bind(state.as_str())
        .bind(error)
        .bind(now_millis())
        .bind(conversation)
        .bind(seq)
        .execute(&self.store.write)
        .await?;
        self.delivery_change(ConversationId(conversation), seq)
            .await
    }

    async fn delivery_change(
        &self,
        conversation: ConversationId,
        seq: i64,
    ) -> Result<Option<DeliveryChange>> {
        let sql = format!(
            "SELECT {STATUS_COLUMNS}, d.tenant_id, c.agent_id FROM deliveries d \
             JOIN conversations c ON c.id = d.conversation_id WHERE d.conversation_id = $1 AND d.seq = $2"
        );
        let row = sqlx::query(&sql)
            .bind(conversation.0)
            .bind(seq)
            .fetch_optional(&self.store.read)
            .await?;
        row.map(|row| {
            Ok(DeliveryChange {
                tenant: TenantId(row.try_get("tenant_id")?),
                agent: row.try_get::<Option<i64>, _>("agent_id")?.map(EmployeeId),
                status: delivery_status(&row)?,
            })
        })
        .transpose()
    }
}

fn count(row: &AnyRow, column: &str) -> Result<u32> {
    let value: i64 = row.try_get(column)?;
    Ok(u32::try_from(value).unwrap_or(u32::MAX))
}

fn delivery_status(row: &AnyRow) -> Result<DeliveryStatus> {
    let state: String = row.try_get("state")?;
    Ok(DeliveryStatus {
        conversation_id: ConversationId(row.try_get("conversation_id")?),
        seq: row.try_get("seq")?,
        state: DeliveryState::parse(&state).ok_or_else(|| corrupt("delivery state", &state))?,
        attempts: count(row, "attempts")?,
        last_error: row.try_get("last_error")?,
        updated_at: Timestamp(row.try_get("updated_at")?),
    })
}
