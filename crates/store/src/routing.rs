//! What routing keeps: where each conversation is (its queue and place in line, or its
//! agent) and the contact record, one event per routing decision. A decision's changes
//! and its events are written in one transaction.

use std::collections::HashMap;

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::error::ErrorKind;
use sqlx::{Executor, Row};
use switchboard_domain::conversation::{Conversation, ConversationState};
use switchboard_domain::time::Timestamp;
use switchboard_domain::{ChannelId, ConversationId, CustomerId, EmployeeId, QueueId};

use crate::conversations::{conversation_columns, conversation_from_row};
use crate::error::{Result, StoreError};
use crate::ids::now_millis;
use crate::scoped::{left_join_by_key, AnyQuery, Placeholders};
use crate::{Backend, TenantScope};

/// Rows written by one statement: eight values each stay well inside both databases'
/// limits on a statement's parameters.
const ROWS_PER_STATEMENT: usize = 1_000;

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

/// A conversation of a customer that starts queued in the transaction that stores
/// routing's first decisions about it: one write, not two, before its agent hears.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Opening {
    pub conversation: ConversationId,
    pub customer: CustomerId,
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
    /// Writes the moves and contact events of a burst of decisions, all or nothing, and
    /// answers the conversations it assigned, as their assignment left them.
    ///
    /// A burst can be thousands of decisions (agents freeing up in front of a deep
    /// queue), so the moves are written a statement per kind of move, not per decision.
    /// A conversation moved twice in the burst has its moves written in rounds, in the
    /// order decided: each move's condition on the conversation's state sees the one
    /// before it.
    pub async fn record_routing(&self, records: &[RoutingRecord]) -> Result<Vec<Conversation>> {
        self.open_and_record_routing(&[], records).await
    }

    /// A new conversation for `customer`, with its id, to be started by
    /// [`Self::open_and_record_routing`].
    pub fn opening(&self, customer: CustomerId) -> Opening {
        Opening {
            conversation: ConversationId(self.store.next_id()),
            customer,
        }
    }

    /// Starts the `opened` conversations, then stores `records` as
    /// [`Self::record_routing`] does, all in one transaction. A customer not of this
    /// tenant fails it whole.
    ///
    /// Nobody sees an opened conversation before the commit, so it is inserted where
    /// its moves in `records` take it rather than inserted queued and moved: for a
    /// burst of arrivals, one statement instead of three or four (each a round trip to
    /// PostgreSQL while routing holds the write connection).
    pub async fn open_and_record_routing(
        &self,
        opened: &[Opening],
        records: &[RoutingRecord],
    ) -> Result<Vec<Conversation>> {
        if records.is_empty() && opened.is_empty() {
            return Ok(Vec::new());
        }
        let now = now_millis();
        let backend = self.store.backend;
        let tenant = self.tenant.0;
        let landings = landings(opened, records, now);
        let moved: Vec<&RoutingRecord> = records
            .iter()
            .filter(|record| !landings.contains_key(&record.conversation))
            .collect();
        if moved.is_empty()
            && opened.len() <= ROWS_PER_STATEMENT
            && records.len() <= ROWS_PER_STATEMENT
        {
            return open_in_one_round_trip(self, opened, records, &landings, now).await;
        }
        let mut tx = match backend {
            Backend::Postgres if !moved.is_empty() => {
                self.store
                    .write
                    .begin_with(begin_locking_in_id_order(tenant, &moved))
                    .await?
            }
            _ => self.store.write.begin().await?,
        };
        let mut assigned =
            insert_conversations(&mut tx, backend, tenant, opened, &landings, now).await?;
        for round in rounds(&moved) {
            let mut moves = Moves::default();
            for (conversation, placement) in round {
                moves.add(conversation.0, placement);
            }
            assigned.extend(moves.write(&mut tx, backend, tenant, now).await?);
        }
        insert_contact_events(&mut tx, backend, self, records, now).await?;
        tx.commit().await?;
        Ok(assigned)
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

/// Where an opened conversation stands after the moves of its burst, as the statements
/// of [`Moves::write`] would leave it: each move applies only from the states its
/// statement's condition allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Landing {
    state: ConversationState,
    agent: Option<i64>,
    queue: Option<i64>,
    place: Option<i64>,
    queued_at: Option<i64>,
    closed_at: Option<i64>,
    /// The agent its last assignment in the burst went to (it may have moved on since).
    assigned_to: Option<i64>,
}

impl Landing {
    const OPENED: Self = Self {
        state: ConversationState::Queued,
        agent: None,
        queue: None,
        place: None,
        queued_at: None,
        closed_at: None,
        assigned_to: None,
    };

    fn after(self, placement: Placement, now: i64) -> Self {
        use ConversationState::{Assigned, Bot, Closed, OfflineMessage, Queued, WrapUp};
        let routed = matches!(self.state, Queued | Assigned | Bot);
        let released = |state| Self {
            state,
            agent: None,
            place: None,
            closed_at: self.closed_at.or(Some(now)),
            ..self
        };
        match placement {
            Placement::Queued { queue, place } if routed => Self {
                state: Queued,
                agent: None,
                queue: Some(queue.0),
                place: Some(place),
                queued_at: Some(now),
                ..self
            },
            Placement::Assigned { queue, agent } if routed => Self {
                state: Assigned,
                agent: Some(agent.0),
                queue: Some(queue.0),
                place: None,
                assigned_to: Some(agent.0),
                ..self
            },
            Placement::WrapUp if self.state == Assigned => Self {
                state: WrapUp,
                ..self
            },
            Placement::WrapUpDone if self.state == WrapUp => Self {
                state: Closed,
                closed_at: self.closed_at.or(Some(now)),
                ..self
            },
            Placement::Released {
                offline_message: false,
            } if routed => released(Closed),
            Placement::Released {
                offline_message: true,
            } if routed => released(OfflineMessage),
            _ => self,
        }
    }
}

/// Each opened conversation's landing after the moves of `records`, in their order.
fn landings(
    opened: &[Opening],
    records: &[RoutingRecord],
    now: i64,
) -> HashMap<ConversationId, Landing> {
    let mut landings: HashMap<ConversationId, Landing> = opened
        .iter()
        .map(|opening| (opening.conversation, Landing::OPENED))
        .collect();
    for record in records {
        if let (Some(landing), Some(placement)) =
            (landings.get_mut(&record.conversation), record.placement)
        {
            *landing = landing.after(placement, now);
        }
    }
    landings
}

/// Inserts the `opened` conversations where their burst's moves take them and answers
/// those a move assigned (see [`assigned_openings`]).
async fn insert_conversations(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    backend: Backend,
    tenant: i64,
    opened: &[Opening],
    landings: &HashMap<ConversationId, Landing>,
    now: i64,
) -> Result<Vec<Conversation>> {
    let mut assigned = Vec::new();
    for chunk in opened.chunks(ROWS_PER_STATEMENT) {
        let mut placeholders = Placeholders::starting_at(backend, 1);
        let sql = opened_insert(&mut placeholders, backend, chunk.len());
        let rows = bind_opened(sqlx::query(&sql), tenant, chunk, landings, now)
            .fetch_all(&mut **tx)
            .await
            .map_err(customer_refused)?;
        assigned.extend(assigned_openings(&rows, landings)?);
    }
    Ok(assigned)
}

/// A burst of arrivals alone (no conversation but the opened ones moved) in one round
/// trip: on PostgreSQL one statement, its own transaction, the insert with the contact
/// events in a data-modifying `WITH` (their references are checked at the end of the
/// statement, when the conversations are in), where a transaction takes four round
/// trips (BEGIN, the two inserts, COMMIT) while routing's arrivals wait behind it; on
/// SQLite, which has no such `WITH`, one script of the four, one hand-over to the
/// connection's thread instead of four.
async fn open_in_one_round_trip(
    scope: &TenantScope<'_>,
    opened: &[Opening],
    records: &[RoutingRecord],
    landings: &HashMap<ConversationId, Landing>,
    now: i64,
) -> Result<Vec<Conversation>> {
    let backend = scope.store.backend;
    let mut placeholders = Placeholders::starting_at(backend, 1);
    let insert = opened_insert(&mut placeholders, backend, opened.len());
    let events =
        (!records.is_empty()).then(|| contact_events_insert(&mut placeholders, records.len()));
    let sql = match (backend, events) {
        (Backend::Postgres, None) => insert,
        (Backend::Postgres, Some(events)) => {
            format!("WITH opened AS ({insert}), recorded AS ({events}) SELECT * FROM opened")
        }
        (Backend::Sqlite, None) => format!("BEGIN; {insert}; COMMIT"),
        (Backend::Sqlite, Some(events)) => format!("BEGIN; {insert}; {events}; COMMIT"),
    };
    let query = bind_opened(sqlx::query(&sql), scope.tenant.0, opened, landings, now);
    let query = bind_contact_events(query, scope, records, now);
    let mut conn = scope.store.write.acquire().await?;
    match query.fetch_all(&mut *conn).await {
        Ok(rows) => assigned_openings(&rows, landings),
        Err(err) => {
            if backend == Backend::Sqlite {
                // The script's transaction stays open after a failed statement.
                let _ = conn.execute("ROLLBACK").await;
            }
            Err(customer_refused(err))
        }
    }
}

/// `INSERT` of `rows` opened conversations, each with its customer's channel, answering
/// their rows; parameters (from `placeholders`) bound by [`bind_opened`]. A customer not
/// of the tenant leaves its conversation without a channel, which the column refuses:
/// the statement fails whole (see [`customer_refused`]).
fn opened_insert(placeholders: &mut Placeholders, backend: Backend, rows: usize) -> String {
    let now_at = placeholders.list(1);
    let tenant_at = placeholders.list(1);
    let values = placeholders.rows(rows, 8);
    let customers = left_join_by_key(
        backend,
        "customers",
        "c",
        &format!("c.id = v.column2 AND c.tenant_id = {tenant_at}"),
    );
    format!(
        "INSERT INTO conversations (id, tenant_id, channel_id, customer_id, state, agent_id, queue_id, \
         queue_place, queued_at, created_at, updated_at, closed_at) \
         SELECT v.column1, {tenant_at}, c.channel_id, v.column2, v.column3, v.column4, v.column5, \
         v.column6, v.column7, {now_at}, {now_at}, v.column8 \
         FROM (VALUES {values}) AS v {customers} \
         RETURNING id, channel_id, customer_id, state, agent_id, CAST(0 AS BIGINT) AS last_seq, \
         created_at, updated_at, closed_at"
    )
}

fn bind_opened<'q>(
    mut query: AnyQuery<'q>,
    tenant: i64,
    opened: &[Opening],
    landings: &HashMap<ConversationId, Landing>,
    now: i64,
) -> AnyQuery<'q> {
    query = query.bind(now).bind(tenant);
    for opening in opened {
        let landing = landings
            .get(&opening.conversation)
            .copied()
            .unwrap_or(Landing::OPENED);
        query = query
            .bind(opening.conversation.0)
            .bind(opening.customer.0)
            .bind(landing.state.as_str())
            .bind(landing.agent)
            .bind(landing.queue)
            .bind(landing.place)
            .bind(landing.queued_at)
            .bind(landing.closed_at);
    }
    query
}

/// The inserted conversations a move assigned, as that move left them (assigned, and
/// never closed before: routing assigns no closed conversation).
fn assigned_openings(
    rows: &[AnyRow],
    landings: &HashMap<ConversationId, Landing>,
) -> Result<Vec<Conversation>> {
    let mut assigned = Vec::new();
    for row in rows {
        let conversation = conversation_from_row(row)?;
        let agent = landings
            .get(&conversation.id)
            .and_then(|landing| landing.assigned_to);
        if let Some(agent) = agent {
            assigned.push(Conversation {
                state: ConversationState::Assigned,
                agent_id: Some(EmployeeId(agent)),
                closed_at: None,
                ..conversation
            });
        }
    }
    Ok(assigned)
}

/// The failure of an [`opened_insert`] whose customer is not of the tenant, as such.
fn customer_refused(err: sqlx::Error) -> StoreError {
    match &err {
        sqlx::Error::Database(db) if db.kind() == ErrorKind::NotNullViolation => {
            StoreError::NotFound
        }
        _ => StoreError::Database(err),
    }
}

/// A PostgreSQL transaction's start that locks the conversations of `records` in id
/// order, as the message writer locks them, so that the two never wait on each other in
/// a circle. One round trip with BEGIN: the ids (the store's own integers) and the
/// tenant are written out, since a simple query takes no parameters.
fn begin_locking_in_id_order(tenant: i64, records: &[&RoutingRecord]) -> String {
    let mut ids: Vec<i64> = records.iter().map(|r| r.conversation.0).collect();
    ids.sort_unstable();
    ids.dedup();
    let listed = ids
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "BEGIN; SELECT id FROM conversations WHERE tenant_id = {tenant} AND id IN ({listed}) \
         ORDER BY id FOR NO KEY UPDATE"
    )
}

/// The moves of `records` in rounds: the first move of each conversation, then the
/// second of those moved twice, and so on; within a round each conversation once.
fn rounds(records: &[&RoutingRecord]) -> Vec<Vec<(ConversationId, Placement)>> {
    let mut rounds: Vec<Vec<(ConversationId, Placement)>> = Vec::new();
    let mut moved: HashMap<ConversationId, usize> = HashMap::new();
    for record in records {
        let Some(placement) = record.placement else {
            continue;
        };
        let round = moved.entry(record.conversation).or_default();
        if rounds.len() == *round {
            rounds.push(Vec::new());
        }
        rounds[*round].push((record.conversation, placement));
        *round += 1;
    }
    rounds
}

/// One round's moves, by kind; each row starts with the conversation's id.
#[derive(Default)]
struct Moves {
    /// id, queue, place.
    queued: Vec<[i64; 3]>,
    /// id, agent, queue.
    assigned: Vec<[i64; 3]>,
    wrap_up: Vec<[i64; 1]>,
    wrap_up_done: Vec<[i64; 1]>,
    closed: Vec<[i64; 1]>,
    offline_message: Vec<[i64; 1]>,
}

/// Routing moves only a conversation that is still in routing's hands.
const ROUTED: &str = "state IN ('queued', 'assigned', 'bot')";

impl Moves {
    fn add(&mut self, id: i64, placement: Placement) {
        match placement {
            Placement::Queued { queue, place } => self.queued.push([id, queue.0, place]),
            Placement::Assigned { queue, agent } => self.assigned.push([id, agent.0, queue.0]),
            Placement::WrapUp => self.wrap_up.push([id]),
            Placement::WrapUpDone => self.wrap_up_done.push([id]),
            Placement::Released {
                offline_message: false,
            } => self.closed.push([id]),
            Placement::Released {
                offline_message: true,
            } => self.offline_message.push([id]),
        }
    }

    /// Writes the round's moves and answers the conversations it assigned.
    async fn write(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        backend: Backend,
        tenant: i64,
        now: i64,
    ) -> Result<Vec<Conversation>> {
        let update = ConversationUpdate {
            backend,
            tenant,
            now,
        };
        update
            .run(
                tx,
                "state = 'queued', agent_id = NULL, queue_id = v.column2, queue_place = v.column3, queued_at = {now}",
                ROUTED,
                &self.queued,
            )
            .await?;
        let assigned = update
            .returning(
                tx,
                "state = 'assigned', agent_id = v.column2, queue_id = v.column3, queue_place = NULL",
                ROUTED,
                &self.assigned,
                Some(conversation_columns(backend)),
            )
            .await?;
        update
            .run(tx, "state = 'wrapUp'", "state = 'assigned'", &self.wrap_up)
            .await?;
        update
            .run(
                tx,
                "state = 'closed', closed_at = COALESCE(closed_at, {now})",
                "state = 'wrapUp'",
                &self.wrap_up_done,
            )
            .await?;
        let released = |state: ConversationState| {
            format!(
                "state = '{}', agent_id = NULL, queue_place = NULL, closed_at = COALESCE(closed_at, {{now}})",
                state.as_str()
            )
        };
        update
            .run(
                tx,
                &released(ConversationState::Closed),
                ROUTED,
                &self.closed,
            )
            .await?;
        update
            .run(
                tx,
                &released(ConversationState::OfflineMessage),
                ROUTED,
                &self.offline_message,
            )
            .await?;
        assigned
            .iter()
            .map(conversation_from_row)
            .collect::<Result<_>>()
    }
}

/// Writes moves of one kind, `ROWS_PER_STATEMENT` conversations a statement.
struct ConversationUpdate {
    backend: Backend,
    tenant: i64,
    now: i64,
}

impl ConversationUpdate {
    /// `UPDATE conversations SET {set}, updated_at = now FROM (VALUES rows) AS v
    /// WHERE conversations.id = v.column1 AND {only_if}`, within the tenant; `{now}` in
    /// `set` is the time of the decisions.
    async fn run<const WIDTH: usize>(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        set: &str,
        only_if: &str,
        rows: &[[i64; WIDTH]],
    ) -> Result<()> {
        self.returning(tx, set, only_if, rows, None).await?;
        Ok(())
    }

    /// The statements of [`Self::run`], answering the moved rows' `columns` if given.
    async fn returning<const WIDTH: usize>(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        set: &str,
        only_if: &str,
        rows: &[[i64; WIDTH]],
        columns: Option<&str>,
    ) -> Result<Vec<AnyRow>> {
        let mut moved = Vec::new();
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            // Numbered on both databases, so that the time can be used twice.
            let mut placeholders = Placeholders::starting_at(self.backend, 1);
            let now_at = placeholders.list(1);
            let tenant_at = placeholders.list(1);
            let values = placeholders.rows(chunk.len(), WIDTH);
            let set = set.replace("{now}", &now_at);
            // Not aliased: SQLite's RETURNING names the table itself, whatever its alias.
            let mut sql = format!(
                "UPDATE conversations SET {set}, updated_at = {now_at} FROM (VALUES {values}) AS v \
                 WHERE conversations.id = v.column1 AND conversations.tenant_id = {tenant_at} AND {only_if}"
            );
            if let Some(columns) = columns {
                sql = format!("{sql} RETURNING {columns}");
            }
            let mut query = sqlx::query(&sql).bind(self.now).bind(self.tenant);
            for row in chunk {
                for value in row {
                    query = query.bind(*value);
                }
            }
            if columns.is_some() {
                moved.extend(query.fetch_all(&mut **tx).await?);
            } else {
                query.execute(&mut **tx).await?;
            }
        }
        Ok(moved)
    }
}

async fn insert_contact_events(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    backend: Backend,
    scope: &TenantScope<'_>,
    records: &[RoutingRecord],
    now: i64,
) -> Result<()> {
    for chunk in records.chunks(ROWS_PER_STATEMENT) {
        let sql = contact_events_insert(&mut Placeholders::new(backend), chunk.len());
        bind_contact_events(sqlx::query(&sql), scope, chunk, now)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// `INSERT` of `rows` contact events; parameters bound by [`bind_contact_events`].
fn contact_events_insert(placeholders: &mut Placeholders, rows: usize) -> String {
    format!(
        "INSERT INTO contact_events (id, tenant_id, conversation_id, at, kind, queue_id, agent_id, detail) \
         VALUES {}",
        placeholders.rows(rows, 8)
    )
}

fn bind_contact_events<'q>(
    mut query: AnyQuery<'q>,
    scope: &TenantScope<'_>,
    records: &[RoutingRecord],
    now: i64,
) -> AnyQuery<'q> {
    for record in records {
        query = query
            .bind(scope.store.next_id())
            .bind(scope.tenant.0)
            .bind(record.conversation.0)
            .bind(now)
            .bind(record.kind)
            .bind(record.queue.map(|q| q.0))
            .bind(record.agent.map(|a| a.0))
            .bind(record.detail.to_string());
    }
    query
}
