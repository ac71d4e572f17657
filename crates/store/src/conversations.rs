//! Customers, conversations and messages of one tenant.

use sqlx::any::AnyRow;
use sqlx::Row;
use switchboard_domain::conversation::{
    Content, Conversation, ConversationState, Customer, Evaluation, Message, NewMessage, Sender,
};
use switchboard_domain::time::Timestamp;
use switchboard_domain::{
    ChannelId, ConversationId, CustomerId, EmployeeId, Rule, TenantId, ValidationError,
};

use crate::error::{Result, StoreError};
use crate::ids::now_millis;
use crate::scoped::{found, Param};
use crate::text::from_json;
use crate::{Backend, TenantScope};

/// The last sequence number of the conversation whose id is the SQL expression `$id`
/// (0 before its first message): the end of its messages' primary key. Storing a
/// message does not write its conversation's row (one page fewer to commit per batch's
/// conversation), so this is the one place the number comes from.
macro_rules! last_seq_of {
    ($id:literal) => {
        concat!(
            "COALESCE((SELECT MAX(m.seq) FROM messages m WHERE m.conversation_id = ",
            $id,
            "), 0)"
        )
    };
}
pub(crate) use last_seq_of;

/// A conversation's columns as read from `conversations` (not aliased); its last change
/// is its latest message's, when later than its row's. `$greatest` is the database's
/// two-argument maximum.
macro_rules! conversation_columns {
    ($greatest:literal) => {
        concat!(
            "id, channel_id, customer_id, state, agent_id, ",
            last_seq_of!("conversations.id"),
            " AS last_seq, ",
            "created_at, ",
            $greatest,
            "(updated_at, COALESCE((SELECT m.created_at FROM messages m WHERE m.conversation_id = conversations.id \
             ORDER BY m.seq DESC LIMIT 1), updated_at)) AS updated_at, ",
            "closed_at"
        )
    };
}

pub(crate) fn conversation_columns(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => conversation_columns!("MAX"),
        Backend::Postgres => conversation_columns!("GREATEST"),
    }
}

/// The condition on a `conversations` row that it is still open.
pub(crate) const OPEN_STATES: &str = "state NOT IN ('closed', 'abandoned', 'offlineMessage')";

pub(crate) const MESSAGE_COLUMNS: &str =
    "conversation_id, seq, sender_kind, sender_id, client_message_id, content, created_at";

/// A stored message, and whether it had been stored before under the same client id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    pub message: Message,
    pub duplicate: bool,
    /// The conversation's agent at the time.
    pub agent: Option<EmployeeId>,
    /// The message was queued for delivery through a messaging platform.
    pub queued_for_platform: bool,
}

impl TenantScope<'_> {
    /// The customer known on `channel` by `external_id`, created on first contact; its
    /// name follows the latest contact.
    pub async fn customer(
        &self,
        channel: ChannelId,
        external_id: &str,
        name: &str,
    ) -> Result<Customer> {
        upsert_customer(
            &self.store.write,
            self.store.next_id(),
            self.tenant,
            channel,
            external_id,
            name,
        )
        .await
    }

    /// The customer known on `channel` by `external_id`, if they wrote before.
    pub async fn known_customer(
        &self,
        channel: ChannelId,
        external_id: &str,
    ) -> Result<Option<Customer>> {
        let row = sqlx::query(
            "SELECT id, channel_id, external_id, name, created_at FROM customers \
             WHERE tenant_id = $1 AND channel_id = $2 AND external_id = $3",
        )
        .bind(self.tenant.0)
        .bind(channel.0)
        .bind(external_id)
        .fetch_optional(&self.store.read)
        .await?;
        row.map(|r| customer_from_row(&r)).transpose()
    }

    /// Starts a conversation of a customer of this tenant, queued, with no routing
    /// decision about it yet.
    pub async fn open_conversation(&self, customer: CustomerId) -> Result<Conversation> {
        let opening = self.opening(customer);
        self.open_and_record_routing(&[opening], &[]).await?;
        self.conversation(opening.conversation).await
    }

    pub async fn conversation(&self, id: ConversationId) -> Result<Conversation> {
        conversation_from_row(
            &self
                .row(
                    "conversations",
                    conversation_columns(self.store.backend),
                    id.0,
                )
                .await?,
        )
    }

    /// The customer's latest conversation that has not ended, if any.
    pub async fn open_conversation_of(&self, customer: CustomerId) -> Result<Option<Conversation>> {
        let columns = conversation_columns(self.store.backend);
        let sql = format!(
            "SELECT {columns} FROM conversations WHERE tenant_id = $1 AND customer_id = $2 \
             AND {OPEN_STATES} ORDER BY id DESC LIMIT 1"
        );
        let row = sqlx::query(&sql)
            .bind(self.tenant.0)
            .bind(customer.0)
            .fetch_optional(&self.store.read)
            .await?;
        row.map(|r| conversation_from_row(&r)).transpose()
    }

    /// The conversations an agent holds (assigned or in wrap-up), oldest first.
    pub async fn conversations_of_agent(&self, agent: EmployeeId) -> Result<Vec<Conversation>> {
        let columns = conversation_columns(self.store.backend);
        let sql = format!(
            "SELECT {columns} FROM conversations WHERE tenant_id = $1 AND agent_id = $2 \
             AND state IN ('assigned', 'wrapUp') ORDER BY id"
        );
        let rows = sqlx::query(&sql)
            .bind(self.tenant.0)
            .bind(agent.0)
            .fetch_all(&self.store.read)
            .await?;
        rows.iter().map(conversation_from_row).collect()
    }

    pub async fn customer_by_id(&self, id: CustomerId) -> Result<Customer> {
        let row = self
            .row(
                "customers",
                "id, channel_id, external_id, name, created_at",
                id.0,
            )
            .await?;
        customer_from_row(&row)
    }

    /// A customer's conversations, newest first, at most `limit`.
    pub async fn conversations_of_customer(
        &self,
        customer: CustomerId,
        limit: i64,
    ) -> Result<Vec<Conversation>> {
        let columns = conversation_columns(self.store.backend);
        let sql = format!(
            "SELECT {columns} FROM conversations WHERE tenant_id = $1 AND customer_id = $2 ORDER BY id DESC LIMIT $3"
        );
        let rows = sqlx::query(&sql)
            .bind(self.tenant.0)
            .bind(customer.0)
            .bind(limit)
            .fetch_all(&self.store.read)
            .await?;
        rows.iter().map(conversation_from_row).collect()
    }

    /// The ended conversations an agent served, newest first.
    pub async fn history_of_agent(
        &self,
        agent: EmployeeId,
        page: switchboard_domain::paging::PageRequest,
    ) -> Result<switchboard_domain::paging::Page<Conversation>> {
        let from_where = "FROM conversations WHERE tenant_id = $1 AND agent_id = $2 AND state IN ('closed', 'abandoned')";
        self.conversations_page(from_where, &[Param::Int(agent.0)], page)
            .await
    }

    /// Conversations in which customers left a message when nobody could serve them,
    /// newest first.
    pub async fn offline_messages(
        &self,
        page: switchboard_domain::paging::PageRequest,
    ) -> Result<switchboard_domain::paging::Page<Conversation>> {
        let from_where = "FROM conversations WHERE tenant_id = $1 AND state = 'offlineMessage' \
             AND EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = conversations.id)";
        self.conversations_page(from_where, &[], page).await
    }

    async fn conversations_page(
        &self,
        from_where: &str,
        params: &[Param<'_>],
        page: switchboard_domain::paging::PageRequest,
    ) -> Result<switchboard_domain::paging::Page<Conversation>> {
        let (rows, total) = self
            .page_ordered(
                from_where,
                conversation_columns(self.store.backend),
                params,
                page,
                "id DESC",
            )
            .await?;
        let items = rows
            .iter()
            .map(conversation_from_row)
            .collect::<Result<_>>()?;
        Ok(switchboard_domain::paging::Page::new(items, total, page))
    }

    /// Moves a conversation to `state`, with its agent (none once it leaves an agent).
    pub async fn set_conversation_state(
        &self,
        id: ConversationId,
        state: ConversationState,
        agent: Option<EmployeeId>,
    ) -> Result<Conversation> {
        let now = now_millis();
        let closed_at = (!state.is_open()).then_some(now);
        found(
            sqlx::query(
                "UPDATE conversations SET state = $1, agent_id = $2, updated_at = $3, closed_at = COALESCE(closed_at, $4) \
                 WHERE tenant_id = $5 AND id = $6",
            )
            .bind(state.as_str())
            .bind(agent.map(|a| a.0))
            .bind(now)
            .bind(closed_at)
            .bind(self.tenant.0)
            .bind(id.0)
            .execute(&self.store.write)
            .await?,
        )?;
        self.conversation(id).await
    }

    /// Stores a message with the conversation's next sequence number, committed before
    /// this returns. A message whose client id was stored before is not stored again:
    /// the earlier one comes back, marked as a duplicate. Appends made at the same time
    /// share one transaction (see `message_log`).
    pub async fn append_message(
        &self,
        conversation: ConversationId,
        message: NewMessage,
    ) -> Result<Appended> {
        self.enqueue_message(conversation, message).await
    }

    /// Hands a message to be stored at once, in the order of the calls, without waiting:
    /// the future answers once it is committed. For messages nobody waits for (routing's
    /// notices), which then share a transaction with whatever else is being stored.
    pub fn enqueue_message(
        &self,
        conversation: ConversationId,
        message: NewMessage,
    ) -> impl std::future::Future<Output = Result<Appended>> + Send + 'static {
        self.store
            .messages
            .submit(self.tenant, conversation, message)
    }

    /// Up to `limit` messages after sequence number `after`, in order.
    pub async fn messages_after(
        &self,
        conversation: ConversationId,
        after: i64,
        limit: i64,
    ) -> Result<Vec<Message>> {
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE tenant_id = $1 AND conversation_id = $2 AND seq > $3 \
             ORDER BY seq LIMIT $4"
        );
        let rows = sqlx::query(&sql)
            .bind(self.tenant.0)
            .bind(conversation.0)
            .bind(after)
            .bind(limit)
            .fetch_all(&self.store.read)
            .await?;
        rows.iter().map(message_from_row).collect()
    }
}

/// Creates the customer known on `channel` by `external_id` as `id`, or renames the one
/// known already; answers it as stored.
pub(crate) async fn upsert_customer<'e>(
    executor: impl sqlx::Executor<'e, Database = sqlx::Any>,
    id: i64,
    tenant: TenantId,
    channel: ChannelId,
    external_id: &str,
    name: &str,
) -> Result<Customer> {
    let row = sqlx::query(
        "INSERT INTO customers (id, tenant_id, channel_id, external_id, name, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (tenant_id, channel_id, external_id) DO UPDATE SET name = excluded.name \
         RETURNING id, channel_id, external_id, name, created_at",
    )
    .bind(id)
    .bind(tenant.0)
    .bind(channel.0)
    .bind(external_id)
    .bind(name)
    .bind(now_millis())
    .fetch_one(executor)
    .await?;
    customer_from_row(&row)
}

fn customer_from_row(row: &AnyRow) -> Result<Customer> {
    Ok(Customer {
        id: CustomerId(row.try_get("id")?),
        channel_id: ChannelId(row.try_get("channel_id")?),
        external_id: row.try_get("external_id")?,
        name: row.try_get("name")?,
        created_at: Timestamp(row.try_get("created_at")?),
    })
}

pub(crate) fn conversation_from_row(row: &AnyRow) -> Result<Conversation> {
    let state: String = row.try_get("state")?;
    Ok(Conversation {
        id: ConversationId(row.try_get("id")?),
        channel_id: ChannelId(row.try_get("channel_id")?),
        customer_id: CustomerId(row.try_get("customer_id")?),
        state: ConversationState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("conversation state '{state}'")))?,
        agent_id: row.try_get::<Option<i64>, _>("agent_id")?.map(EmployeeId),
        last_seq: row.try_get("last_seq")?,
        created_at: Timestamp(row.try_get("created_at")?),
        updated_at: Timestamp(row.try_get("updated_at")?),
        closed_at: row.try_get::<Option<i64>, _>("closed_at")?.map(Timestamp),
    })
}

pub(crate) fn message_from_row(row: &AnyRow) -> Result<Message> {
    let kind: String = row.try_get("sender_kind")?;
    let sender = match kind.as_str() {
        "customer" => Sender::Customer,
        "agent" => Sender::Agent {
            employee_id: EmployeeId(
                row.try_get::<Option<i64>, _>("sender_id")?
                    .unwrap_or_default(),
            ),
        },
        "bot" => Sender::Bot,
        "system" => Sender::System,
        other => return Err(StoreError::Corrupt(format!("sender kind '{other}'"))),
    };
    Ok(Message {
        conversation_id: ConversationId(row.try_get("conversation_id")?),
        seq: row.try_get("seq")?,
        sender,
        client_message_id: row.try_get("client_message_id")?,
        content: from_json::<Content>("message content", &row.try_get::<String, _>("content")?)?,
        created_at: Timestamp(row.try_get("created_at")?),
    })
}

impl TenantScope<'_> {
    /// Records the customer's evaluation of a conversation, replacing an earlier one. The
    /// agent evaluated is the last one who wrote; without one the evaluation is refused.
    pub async fn evaluate(
        &self,
        conversation: ConversationId,
        evaluation: &Evaluation,
    ) -> Result<EmployeeId> {
        let now = now_millis();
        let mut tx = self.store.write.begin().await?;
        let agent = sqlx::query(
            "SELECT sender_id FROM messages WHERE tenant_id = $1 AND conversation_id = $2 AND sender_kind = 'agent' \
             ORDER BY seq DESC LIMIT 1",
        )
        .bind(self.tenant.0)
        .bind(conversation.0)
        .fetch_optional(&mut *tx)
        .await?
        .and_then(|row| row.try_get::<Option<i64>, _>("sender_id").ok().flatten())
        .map(EmployeeId);
        let Some(agent) = agent else {
            let reason = "an evaluation is possible once an agent has answered".into();
            return Err(ValidationError::new("conversationId", Rule::NotAllowed { reason }).into());
        };
        sqlx::query(
            "INSERT INTO evaluations (conversation_id, tenant_id, agent_id, rating, comment, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (conversation_id) DO UPDATE SET \
             agent_id = excluded.agent_id, rating = excluded.rating, comment = excluded.comment, updated_at = excluded.updated_at",
        )
        .bind(conversation.0)
        .bind(self.tenant.0)
        .bind(agent.0)
        .bind(i64::from(evaluation.rating))
        .bind(&evaluation.comment)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(agent)
    }

    /// The conversation's evaluation, if the customer gave one.
    pub async fn evaluation(&self, conversation: ConversationId) -> Result<Option<Evaluation>> {
        let row = sqlx::query(
            "SELECT rating, comment FROM evaluations WHERE tenant_id = $1 AND conversation_id = $2",
        )
        .bind(self.tenant.0)
        .bind(conversation.0)
        .fetch_optional(&self.store.read)
        .await?;
        row.map(|r| {
            Ok(Evaluation {
                rating: u8::try_from(r.try_get::<i64, _>("rating")?).unwrap_or_default(),
                comment: r.try_get("comment")?,
            })
        })
        .transpose()
    }
}
