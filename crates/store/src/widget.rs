//! Web chat sessions of customers, and the record of accepted auth-v2 signatures that
//! keeps a signature from being used twice.

use sqlx::any::AnyRow;
use sqlx::Row;
use switchboard_domain::channel::{Channel, CALLED_ROUTE_FIELD};
use switchboard_domain::conversation::Customer;
use switchboard_domain::{ChannelId, ConversationId, CustomerId, QueueId, TenantId};

use crate::channels::{channel_columns, channel_with_secret_names};
use crate::conversations::{upsert_customer, OPEN_STATES};
use crate::error::{corrupt, Result};
use crate::ids::now_millis;
use crate::platform::Platform;
use crate::TenantScope;

/// What a `ccmessaging-token` stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WidgetSession {
    pub tenant: TenantId,
    pub channel: ChannelId,
    pub customer: CustomerId,
    pub locale: String,
}

/// What opening a web chat customer's conversation needs besides their session: the
/// conversation they have open, if any, and the skill queue their channel routes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChatOpening {
    pub open_conversation: Option<ConversationId>,
    pub queue: QueueId,
}

/// A web chat customer let in by the loader: who they are, the session their cookie will
/// stand for, and the auth-v2 signature that let them in, if one did.
pub struct WebChatAdmission<'a> {
    pub channel: ChannelId,
    pub external_id: &'a str,
    pub name: &'a str,
    pub locale: &'a str,
    pub token_hash: &'a str,
    pub session_expires_at: i64,
    pub signature: Option<UsedSignature>,
}

/// An accepted auth-v2 signature, refused again until `expires_at` (its window's end).
pub struct UsedSignature {
    pub signature: String,
    pub expires_at: i64,
}

/// What became of an admission.
#[derive(Debug, PartialEq, Eq)]
pub enum Admitted {
    Customer(Customer),
    /// Its signature was used before: nothing was stored.
    ReplayedSignature,
}

fn session_and_channel(row: &AnyRow) -> Result<(WidgetSession, Channel)> {
    let session = WidgetSession {
        tenant: TenantId(row.try_get("tenant_id")?),
        channel: ChannelId(row.try_get("channel_id")?),
        customer: CustomerId(row.try_get("customer_id")?),
        locale: row.try_get("locale")?,
    };
    Ok((session, channel_with_secret_names(row)?))
}

impl TenantScope<'_> {
    /// Records the signature as used, the customer (created on first contact, its name
    /// following the latest) and the session, in one transaction: under load a chat
    /// opening waits for SQLite's one write connection once here instead of three times.
    pub async fn admit_to_web_chat(&self, admission: &WebChatAdmission<'_>) -> Result<Admitted> {
        let mut tx = self.store.write.begin().await?;
        if let Some(used) = &admission.signature {
            let recorded = sqlx::query(
                "INSERT INTO used_signatures (signature, expires_at) VALUES ($1, $2) ON CONFLICT (signature) DO NOTHING",
            )
            .bind(used.signature.as_str())
            .bind(used.expires_at)
            .execute(&mut *tx)
            .await?;
            if recorded.rows_affected() == 0 {
                return Ok(Admitted::ReplayedSignature);
            }
        }
        let customer = upsert_customer(
            &mut *tx,
            self.store.next_id(),
            self.tenant,
            admission.channel,
            admission.external_id,
            admission.name,
        )
        .await?;
        sqlx::query(
            "INSERT INTO widget_sessions (token_hash, tenant_id, channel_id, customer_id, locale, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(admission.token_hash)
        .bind(self.tenant.0)
        .bind(admission.channel.0)
        .bind(customer.id.0)
        .bind(admission.locale)
        .bind(now_millis())
        .bind(admission.session_expires_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Admitted::Customer(customer))
    }
}

impl Platform<'_> {
    /// The unexpired session behind a token hash, if its tenant is enabled, with its
    /// channel: read by every widget request, so one statement.
    pub async fn widget_session(
        &self,
        token_hash: &str,
        now: i64,
    ) -> Result<Option<(WidgetSession, Channel)>> {
        let row = self.widget_session_row("", token_hash, now).await?;
        row.map(|r| session_and_channel(&r)).transpose()
    }

    /// [`Self::widget_session`] for a customer opening their chat, with what opening it
    /// needs read in the same statement: a new conversation reaches routing one round
    /// trip sooner.
    pub async fn widget_session_opening(
        &self,
        token_hash: &str,
        now: i64,
    ) -> Result<Option<(WidgetSession, Channel, ChatOpening)>> {
        let opening = format!(
            ", (SELECT c.id FROM conversations c WHERE c.tenant_id = w.tenant_id AND c.customer_id = w.customer_id \
               AND {OPEN_STATES} ORDER BY c.id DESC LIMIT 1) AS open_conversation_id, \
             (SELECT r.queue_id FROM channel_routes cr JOIN called_routes r ON r.id = cr.route_id AND r.tenant_id = cr.tenant_id \
               WHERE cr.channel_id = w.channel_id AND cr.field = '{CALLED_ROUTE_FIELD}') AS route_queue_id"
        );
        let row = self.widget_session_row(&opening, token_hash, now).await?;
        row.map(|r| {
            let (session, channel) = session_and_channel(&r)?;
            let queue = r
                .try_get::<Option<i64>, _>("route_queue_id")?
                .ok_or_else(|| corrupt("channel", "its called route is missing"))?;
            let opening = ChatOpening {
                open_conversation: r
                    .try_get::<Option<i64>, _>("open_conversation_id")?
                    .map(ConversationId),
                queue: QueueId(queue),
            };
            Ok((session, channel, opening))
        })
        .transpose()
    }

    async fn widget_session_row(
        &self,
        more_columns: &str,
        token_hash: &str,
        now: i64,
    ) -> Result<Option<AnyRow>> {
        let sql = format!(
            "SELECT w.tenant_id, w.channel_id, w.customer_id, w.locale, {}{more_columns} FROM widget_sessions w \
             JOIN tenants t ON t.id = w.tenant_id \
             JOIN channels ON channels.id = w.channel_id AND channels.tenant_id = w.tenant_id \
             WHERE w.token_hash = $1 AND w.expires_at > $2 AND t.disabled = 0",
            channel_columns(self.store.backend)
        );
        Ok(sqlx::query(&sql)
            .bind(token_hash)
            .bind(now)
            .fetch_optional(&self.store.read)
            .await?)
    }

    /// Drops expired widget sessions and signatures past their window.
    pub async fn purge_expired_widget_records(&self, now: i64) -> Result<u64> {
        let sessions = sqlx::query("DELETE FROM widget_sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.store.write)
            .await?;
        let signatures = sqlx::query("DELETE FROM used_signatures WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.store.write)
            .await?;
        Ok(sessions.rows_affected() + signatures.rows_affected())
    }
}
