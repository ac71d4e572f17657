//! PostgreSQL's batch as one statement, without a transaction around it, judged on what
//! the writer task remembers of its conversations.
//!
//! The locking batch ([`super::run_batch`]) takes four round trips to the server: BEGIN
//! with the lock and the reads, the read of stored client ids, the writes, COMMIT. On
//! two cores shared with the generator and PostgreSQL's backends each is two wake-ups of
//! processes waiting for a turn. A writer task is the only one of its node to store
//! messages of its conversations, so it knows their last sequence numbers from its own
//! writes, and their state and agent from when it last read them. A batch is judged on
//! that and written by one statement that locks its conversations, checks that their
//! state and agent are still the ones it was judged on, and inserts only then,
//! committing as it ends; conversations it does not know yet are read first, in one
//! more statement.
//!
//! What else could have changed is guarded by the constraints: a sequence number or a
//! client id that another node of a cluster (or a client's retry) stored in the meantime
//! fails the write with a unique violation, and nothing of it is stored. A stale batch,
//! and one with an append to refuse (which may be a conversation changed since it was
//! read: an agent's first reply after the assignment), are stored the locking way,
//! which reads everything after the lock and tells duplicates; the task then forgets
//! their conversations and reads them again when it next needs them.

use std::collections::HashMap;

use sqlx::{AnyConnection, Row};
use switchboard_domain::delivery::DeliveryState;
use switchboard_domain::ConversationId;

use super::{
    answers, appends_stored, column_names, conversation_sequences, deliveries_of, delivery_insert,
    delivery_rows_json, json_rows, judge, message_rows_json, queued_flags, Append, Appended,
    ConversationSequence, Delivery, Outcome, Script, CONVERSATIONS_COLUMN, CONVERSATION_FIELDS,
    DELIVERY_ROW, MESSAGE_ROW, SEQUENCES_COLUMN,
};
use crate::conversations::last_seq_of;
use crate::error::{Result, StoreError};
use crate::ids::now_millis;
use crate::text::to_json;

/// Past this many conversations a writer task forgets them all and reads them again as
/// they come: a conversation takes about a hundred bytes.
const REMEMBERED: usize = 32_768;

/// What a writer task knows of the conversations it stored messages of.
#[derive(Default)]
pub(super) struct Remembered {
    conversations: HashMap<ConversationId, ConversationSequence>,
}

impl Remembered {
    fn forget(&mut self, ids: &[i64]) {
        for id in ids {
            self.conversations.remove(&ConversationId(*id));
        }
    }

    fn learn(&mut self, read: HashMap<ConversationId, ConversationSequence>) {
        if self.conversations.len() + read.len() > REMEMBERED {
            self.conversations.clear();
        }
        self.conversations.extend(read);
    }
}

/// The batch's answers, or `None` when it has to be stored the locking way.
pub(super) async fn run_batch(
    conn: &mut AnyConnection,
    batch: &[Append],
    remembered: &mut Remembered,
) -> Result<Option<Vec<Result<Appended>>>> {
    let now = now_millis();
    let ids = super::conversation_ids(batch);
    let unknown: Vec<i64> = ids
        .iter()
        .copied()
        .filter(|id| !remembered.conversations.contains_key(&ConversationId(*id)))
        .collect();
    if !unknown.is_empty() {
        let rows = read_conversations(&unknown)?.fetch_all(&mut *conn).await?;
        let row = rows
            .first()
            .ok_or_else(|| StoreError::Corrupt("the conversations' read answered no row".into()))?;
        let states: String = row.try_get(CONVERSATIONS_COLUMN)?;
        let sequences: String = row.try_get(SEQUENCES_COLUMN)?;
        remembered.learn(conversation_sequences(&states, &sequences)?);
    }
    let mut conversations: HashMap<ConversationId, ConversationSequence> = ids
        .iter()
        .filter_map(|id| {
            let id = ConversationId(*id);
            remembered.conversations.get(&id).map(|c| (id, c.clone()))
        })
        .collect();
    let outcomes = judge(batch, &HashMap::new(), &mut conversations);
    let refused = outcomes
        .iter()
        .any(|outcome| matches!(outcome, Outcome::UnknownConversation | Outcome::Ended));
    let deliveries = deliveries_of(batch, &outcomes, &conversations);
    if refused
        || !write_if_unchanged(conn, batch, &outcomes, &deliveries, &conversations, now).await?
    {
        remembered.forget(&ids);
        return Ok(None);
    }
    let queued = queued_flags(batch, &deliveries);
    remembered.learn(conversations);
    Ok(Some(answers(batch, &outcomes, &queued, now)))
}

/// The conversations `ids` and their last sequence numbers, as the locking batch reads
/// them (one JSON document each) but without the lock, in one statement whose text is
/// the same for any number of them.
fn read_conversations<'q>(ids: &[i64]) -> Result<Script<'q>> {
    let mut script = Script::new();
    script.bind(to_json(&ids)?)?;
    let fields = CONVERSATION_FIELDS.join(", ");
    let last_seq = last_seq_of!("ids.id");
    script.push(&format!(
        "WITH ids AS (SELECT value::bigint AS id FROM json_array_elements_text($1::json)) \
         SELECT (SELECT COALESCE(json_agg(json_build_array({fields})), '[]')::text \
                 FROM conversations c JOIN channels ch ON ch.id = c.channel_id \
                 WHERE c.id IN (SELECT id FROM ids)) AS {CONVERSATIONS_COLUMN}, \
                (SELECT COALESCE(json_agg(json_build_array(ids.id, {last_seq})), '[]')::text \
                 FROM ids) AS {SEQUENCES_COLUMN}"
    ));
    Ok(script)
}

/// Stores what the batch was judged to store, in one statement, if its conversations'
/// state and agent are still those it was judged on; answers whether they were.
async fn write_if_unchanged(
    conn: &mut AnyConnection,
    batch: &[Append],
    outcomes: &[Outcome],
    deliveries: &[Delivery],
    conversations: &HashMap<ConversationId, ConversationSequence>,
    now: i64,
) -> Result<bool> {
    let stored = appends_stored(batch, outcomes);
    if stored.is_empty() {
        return Ok(true);
    }
    let expected: Vec<_> = conversations
        .iter()
        .map(|(id, conversation)| {
            serde_json::json!({
                "id": id.0,
                "state": conversation.state.as_str(),
                "agent_id": conversation.agent.map(|agent| agent.0),
            })
        })
        .collect();
    let mut write = Script::new();
    write.bind(to_json(&expected)?)?;
    write.bind(message_rows_json(&stored, now)?)?;
    write.bind(delivery_rows_json(batch, deliveries)?)?;
    write.bind(DeliveryState::Pending.as_str())?;
    write.bind(now)?;
    write.push(&conditional_insert());
    match write.fetch_all(&mut *conn).await {
        Ok(rows) => Ok(rows
            .first()
            .map(|row| row.try_get::<bool, _>(UNCHANGED_COLUMN))
            .transpose()?
            .unwrap_or(false)),
        Err(StoreError::Database(sqlx::Error::Database(error))) if error.is_unique_violation() => {
            Ok(false)
        }
        Err(error) => Err(error),
    }
}

/// The column in which [`conditional_insert`] answers.
const UNCHANGED_COLUMN: &str = "unchanged";

/// The batch's conversations locked in id order (as every writer of them locks them)
/// where their state and agent are still those expected (`$1`), and only if all of them
/// are, the messages (`$2`) and deliveries (`$3`, pending `$4` as of `$5`) inserted.
/// Each conversation is looked up by its key: joined, a small table was read whole for
/// every batch.
fn conditional_insert() -> String {
    let expected = json_rows(
        1,
        "e",
        &[("id", "bigint"), ("state", "text"), ("agent_id", "bigint")],
    );
    let messages = json_rows(2, "v", &MESSAGE_ROW);
    let deliveries = json_rows(3, "d", &DELIVERY_ROW);
    let (message_names, delivery_names) = (column_names(&MESSAGE_ROW), column_names(&DELIVERY_ROW));
    let insert_deliveries = delivery_insert();
    format!(
        "WITH expected AS (SELECT * FROM {expected}), \
         locked AS (SELECT l.id FROM (SELECT * FROM expected ORDER BY id) AS e \
                    CROSS JOIN LATERAL (SELECT c.id FROM conversations c WHERE c.id = e.id \
                        AND c.state = e.state AND c.agent_id IS NOT DISTINCT FROM e.agent_id \
                        FOR NO KEY UPDATE) AS l), \
         verdict AS (SELECT (SELECT count(*) FROM locked) = (SELECT count(*) FROM expected) \
                     AS {UNCHANGED_COLUMN}), \
         stored AS (INSERT INTO messages ({message_names}) SELECT {message_names} FROM {messages} \
                    WHERE (SELECT {UNCHANGED_COLUMN} FROM verdict)), \
         queued AS ({insert_deliveries} SELECT {delivery_names}, $4, $5, $5, $5 FROM {deliveries} \
                    WHERE (SELECT {UNCHANGED_COLUMN} FROM verdict)) \
         SELECT {UNCHANGED_COLUMN} FROM verdict"
    )
}
