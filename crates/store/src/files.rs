//! Files sent in conversations, kept in the database so that every node serves them.

use sqlx::Row;
use switchboard_domain::files::StoredFile;
use switchboard_domain::time::Timestamp;
use switchboard_domain::ConversationId;

use crate::error::{Result, StoreError};
use crate::ids::now_millis;
use crate::TenantScope;

impl TenantScope<'_> {
    /// Stores a file of a conversation of this tenant under `id` (an unguessable token).
    pub async fn store_file(
        &self,
        id: &str,
        conversation: ConversationId,
        name: &str,
        mime_type: &str,
        content: &[u8],
    ) -> Result<StoredFile> {
        let now = now_millis();
        let inserted = sqlx::query(
            "INSERT INTO files (id, tenant_id, conversation_id, name, mime_type, size, content, created_at) \
             SELECT $1, tenant_id, id, $2, $3, $4, $5, $6 FROM conversations WHERE tenant_id = $7 AND id = $8",
        )
        .bind(id)
        .bind(name)
        .bind(mime_type)
        .bind(i64::try_from(content.len()).unwrap_or(i64::MAX))
        .bind(content.to_vec())
        .bind(now)
        .bind(self.tenant.0)
        .bind(conversation.0)
        .execute(&self.store.write)
        .await?;
        crate::scoped::found(inserted)?;
        Ok(StoredFile {
            file_id: id.to_owned(),
            conversation_id: conversation,
            name: name.to_owned(),
            mime_type: mime_type.to_owned(),
            size: u64::try_from(content.len()).unwrap_or(u64::MAX),
            created_at: Timestamp(now),
        })
    }

    /// A file's description and content, if it belongs to `conversation` of this tenant.
    pub async fn file(
        &self,
        conversation: ConversationId,
        id: &str,
    ) -> Result<(StoredFile, Vec<u8>)> {
        let row = sqlx::query(
            "SELECT name, mime_type, size, content, created_at FROM files WHERE tenant_id = $1 AND conversation_id = $2 AND id = $3",
        )
        .bind(self.tenant.0)
        .bind(conversation.0)
        .bind(id)
        .fetch_optional(&self.store.read)
        .await?
        .ok_or(StoreError::NotFound)?;
        let file = StoredFile {
            file_id: id.to_owned(),
            conversation_id: conversation,
            name: row.try_get("name")?,
            mime_type: row.try_get("mime_type")?,
            size: u64::try_from(row.try_get::<i64, _>("size")?).unwrap_or_default(),
            created_at: Timestamp(row.try_get("created_at")?),
        };
        Ok((file, row.try_get("content")?))
    }
}
