//! Web chat sessions of customers, and the record of accepted auth-v2 signatures that
//! keeps a signature from being used twice.

use sqlx::Row;
use switchboard_domain::channel::Channel;
use switchboard_domain::conversation::Customer;
use switchboard_domain::{ChannelId, CustomerId, TenantId};

use crate::channels::{channel_columns, channel_with_secret_names};
use crate::conversations::upsert_customer;
use crate::error::Result;
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
        let sql = format!(
            "SELECT w.tenant_id, w.channel_id, w.customer_id, w.locale, {} FROM widget_sessions w \
             JOIN tenants t ON t.id = w.tenant_id \
             JOIN channels ON channels.id = w.channel_id AND channels.tenant_id = w.tenant_id \
             WHERE w.token_hash = $1 AND w.expires_at > $2 AND t.disabled = 0",
            channel_columns(self.store.backend)
        );
        let row = sqlx::query(&sql)
            .bind(token_hash)
            .bind(now)
            .fetch_optional(&self.store.read)
            .await?;
        row.map(|r| {
            let session = WidgetSession {
                tenant: TenantId(r.try_get("tenant_id")?),
                channel: ChannelId(r.try_get("channel_id")?),
                customer: CustomerId(r.try_get("customer_id")?),
                locale: r.try_get("locale")?,
            };
            Ok((session, channel_with_secret_names(&r)?))
        })
        .transpose()
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
