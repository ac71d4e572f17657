//! Web chat sessions of customers, and the record of accepted auth-v2 signatures that
//! keeps a signature from being used twice.

use sqlx::Row;
use switchboard_domain::{ChannelId, CustomerId, TenantId};

use crate::error::{Result, StoreError};
use crate::ids::now_millis;
use crate::platform::Platform;

/// What a `ccmessaging-token` stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WidgetSession {
    pub tenant: TenantId,
    pub channel: ChannelId,
    pub customer: CustomerId,
    pub locale: String,
}

impl Platform<'_> {
    pub async fn create_widget_session(
        &self,
        token_hash: &str,
        session: &WidgetSession,
        expires_at: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO widget_sessions (token_hash, tenant_id, channel_id, customer_id, locale, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(token_hash)
        .bind(session.tenant.0)
        .bind(session.channel.0)
        .bind(session.customer.0)
        .bind(&session.locale)
        .bind(now_millis())
        .bind(expires_at)
        .execute(&self.store.write)
        .await?;
        Ok(())
    }

    /// The unexpired session behind a token hash, if its tenant is enabled.
    pub async fn widget_session(
        &self,
        token_hash: &str,
        now: i64,
    ) -> Result<Option<WidgetSession>> {
        let row = sqlx::query(
            "SELECT w.tenant_id, w.channel_id, w.customer_id, w.locale FROM widget_sessions w \
             JOIN tenants t ON t.id = w.tenant_id WHERE w.token_hash = $1 AND w.expires_at > $2 AND t.disabled = 0",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.store.read)
        .await?;
        row.map(|r| {
            Ok(WidgetSession {
                tenant: TenantId(r.try_get("tenant_id")?),
                channel: ChannelId(r.try_get("channel_id")?),
                customer: CustomerId(r.try_get("customer_id")?),
                locale: r.try_get("locale")?,
            })
        })
        .transpose()
    }

    /// Records a signature as used; `false` if it was used before (a replay).
    pub async fn use_signature(&self, signature: &str, expires_at: i64) -> Result<bool> {
        let inserted =
            sqlx::query("INSERT INTO used_signatures (signature, expires_at) VALUES ($1, $2)")
                .bind(signature)
                .bind(expires_at)
                .execute(&self.store.write)
                .await;
        match inserted {
            Ok(_) => Ok(true),
            Err(e) => match StoreError::from_unique(e, &[("signature", "signature")]) {
                StoreError::Conflict { .. } => Ok(false),
                other => Err(other),
            },
        }
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
