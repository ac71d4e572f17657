//! A message batch judged on what the writer task remembers of its conversations, and
//! written, in one round trip to the database, only if they are still as remembered.
//!
//! The locking batch ([`super::run_batch`]) reads what it judges on after BEGIN: on
//! PostgreSQL four round trips to the server (BEGIN with the lock and the reads, the read
//! of stored client ids, the writes, COMMIT), on SQLite two to the connection's thread.
//! On two cores shared with the generator and the database each round trip is two
//! wake-ups of threads waiting for a turn. A writer task is the only one of its node to
//! store messages of its conversations, so it knows their last sequence numbers from its
//! own writes, and their state and agent from when it last read them. A batch is judged
//! on that and written by one script that checks that their state and agent are still
//! the ones it was judged on, and inserts only then: on PostgreSQL one statement that
//! locks the conversations and commits as it ends, on SQLite a transaction (its one
//! writer at a time keeps the conversations as checked until the commit). Conversations
//! the task does not know yet are read first, in one more round trip.
//!
//! What else could have changed is guarded by the constraints: a sequence number or a
//! client id that another node of a cluster (or a client's retry) stored in the meantime
//! fails the write with a unique violation, and nothing of it is stored. On SQLite, whose
//! one writer task stores every message, a client's retry is told by the keys the task
//! knows instead ([`ClientKeys`]); the sequence number still conflicts. A stale batch,
//! and one with an append to refuse (which may be a conversation changed since it was
//! read: an agent's first reply after the assignment), are stored the locking way,
//! which reads everything after BEGIN and tells duplicates; the task then forgets
//! their conversations and reads them again when it next needs them.

use std::collections::HashMap;

use sqlx::{AnyConnection, Row};
use switchboard_domain::delivery::DeliveryState;
use switchboard_domain::ConversationId;

use super::client_keys::ClientKeys;
use super::{
    answers, appends_stored, bind_delivery_rows, bind_message_rows, by_ids, column_names,
    conversation_states, deliveries_of, delivery_insert, delivery_rows_json, json_rows, judge,
    last_sequences, message_insert, message_rows_json, push_padded_insert, queued_flags,
    repeating_last, statement_rows, Append, Appended, ConversationDocuments, ConversationSequence,
    Delivery, Outcome, Script, CONVERSATIONS_COLUMN, CONVERSATION_FIELDS, DELIVERY_ROW,
    DELIVERY_WIDTH, MESSAGE_ROW, SEQUENCES_COLUMN,
};
use crate::conversations::last_seq_of;
use crate::error::{Result, StoreError};
use crate::ids::now_millis;
use crate::scoped::Placeholders;
use crate::text::{from_json, to_json};
use crate::Backend;

/// Past this many conversations a writer task forgets them all and reads them again as
/// they come: a conversation takes about a hundred bytes.
const REMEMBERED: usize = 32_768;

/// What a writer task knows of the conversations it stored messages of.
pub(super) struct Remembered {
    conversations: HashMap<ConversationId, ConversationSequence>,
    /// On SQLite, the client keys stored in them ([`ClientKeys`]).
    client_keys: Option<ClientKeys>,
}

impl Remembered {
    pub(super) fn new(backend: Backend) -> Self {
        Self {
            conversations: HashMap::new(),
            client_keys: (backend == Backend::Sqlite).then(ClientKeys::default),
        }
    }

    fn forget(&mut self, ids: &[i64]) {
        for id in ids {
            self.conversations.remove(&ConversationId(*id));
            if let Some(keys) = &mut self.client_keys {
                keys.forget(ConversationId(*id));
            }
        }
    }

    fn learn(&mut self, read: HashMap<ConversationId, ConversationSequence>) {
        if self.conversations.len() + read.len() > REMEMBERED {
            self.conversations.clear();
            if let Some(keys) = &mut self.client_keys {
                keys.clear();
            }
        }
        self.conversations.extend(read);
    }

    /// Whether a client key of the batch may be stored already, which only the locking
    /// way tells: on PostgreSQL the unique index answers instead.
    fn may_hold_any(&self, batch: &[Append]) -> bool {
        self.client_keys
            .as_ref()
            .is_some_and(|keys| batch.iter().any(|append| keys.may_hold(append)))
    }

    /// Learns the keys [`stored_client_keys`] read for the conversations `read`.
    fn learn_client_keys(
        &mut self,
        read: impl Iterator<Item = ConversationId>,
        document: &str,
    ) -> Result<()> {
        let Some(keys) = &mut self.client_keys else {
            return Ok(());
        };
        let stored: Vec<(i64, String, String)> = from_json("the stored client keys", document)?;
        let mut by_conversation: HashMap<ConversationId, Vec<(&str, &str)>> =
            read.map(|id| (id, Vec::new())).collect();
        for (conversation, kind, client_id) in &stored {
            if let Some(of_it) = by_conversation.get_mut(&ConversationId(*conversation)) {
                of_it.push((kind, client_id));
            }
        }
        for (conversation, of_it) in by_conversation {
            keys.learn(conversation, of_it);
        }
        Ok(())
    }

    /// What a committed batch changed: its conversations as judged, the keys it stored.
    fn committed(
        &mut self,
        batch: &[Append],
        outcomes: &[Outcome],
        conversations: HashMap<ConversationId, ConversationSequence>,
    ) {
        self.learn(conversations);
        if let Some(keys) = &mut self.client_keys {
            for (append, outcome) in batch.iter().zip(outcomes) {
                if matches!(outcome, Outcome::Stored { .. }) {
                    keys.stored(append);
                }
            }
        }
    }
}

/// The batch's answers, or `None` when it has to be stored the locking way.
pub(super) async fn run_batch(
    conn: &mut AnyConnection,
    backend: Backend,
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
        let mut documents = ConversationDocuments::default();
        let mut client_keys = None;
        for row in read_conversations(backend, &unknown)?
            .fetch_all(&mut *conn)
            .await?
        {
            if !documents.take(&row)? {
                client_keys = Some(row.try_get::<String, _>(CLIENT_KEYS_COLUMN)?);
            }
        }
        let read = documents.conversations()?;
        let found: Vec<ConversationId> = read.keys().copied().collect();
        remembered.learn(read);
        if let Some(client_keys) = client_keys {
            remembered.learn_client_keys(found.into_iter(), &client_keys)?;
        }
    }
    if remembered.may_hold_any(batch) {
        remembered.forget(&ids);
        return Ok(None);
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
        || !write_if_unchanged(
            conn,
            backend,
            batch,
            &outcomes,
            &deliveries,
            &conversations,
            now,
        )
        .await?
    {
        remembered.forget(&ids);
        return Ok(None);
    }
    let queued = queued_flags(batch, &deliveries);
    remembered.committed(batch, &outcomes, conversations);
    Ok(Some(answers(batch, &outcomes, &queued, now)))
}

/// The conversations `ids` and their last sequence numbers, as the locking batch reads
/// them (one JSON document each) but without the lock: on PostgreSQL in one statement
/// whose text is the same for any number of them.
fn read_conversations<'q>(backend: Backend, ids: &[i64]) -> Result<Script<'q>> {
    let mut script = Script::new();
    if backend == Backend::Sqlite {
        let size = statement_rows(backend, ids.len());
        conversation_states(&mut script, backend, ids, size)?;
        last_sequences(&mut script, backend, ids, size)?;
        stored_client_keys(&mut script, ids, size)?;
        return Ok(script);
    }
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

/// The column in which [`stored_client_keys`] answers.
const CLIENT_KEYS_COLUMN: &str = "client_keys";

/// On SQLite, the client keys stored in the conversations `ids`, as one JSON document
/// of `[conversation, kind of sender, client id]` rows: read through the messages' key,
/// whose first column is the conversation.
fn stored_client_keys(script: &mut Script<'_>, ids: &[i64], size: usize) -> Result<()> {
    let listed = by_ids(script, Backend::Sqlite, ids, size, false)?;
    script.push(&format!(
        "SELECT json_group_array(json_array(conversation_id, sender_kind, client_message_id)) \
         AS {CLIENT_KEYS_COLUMN} FROM messages WHERE conversation_id IN ({listed})"
    ));
    Ok(())
}

/// What a batch was judged to write, and on what.
struct Written<'a> {
    batch: &'a [Append],
    stored: Vec<(&'a Append, i64)>,
    deliveries: &'a [Delivery],
    /// Each conversation's id, state and agent as judged, in id order.
    expected: Vec<(i64, &'static str, Option<i64>)>,
    now: i64,
}

/// Stores what the batch was judged to store, in one round trip, if its conversations'
/// state and agent are still those it was judged on; answers whether they were.
async fn write_if_unchanged(
    conn: &mut AnyConnection,
    backend: Backend,
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
    let mut expected: Vec<_> = conversations
        .iter()
        .map(|(id, conversation)| {
            let agent = conversation.agent.map(|agent| agent.0);
            (id.0, conversation.state.as_str(), agent)
        })
        .collect();
    expected.sort_unstable_by_key(|&(id, _, _)| id);
    let written = Written {
        batch,
        stored,
        deliveries,
        expected,
        now,
    };
    let write = match backend {
        Backend::Postgres => postgres_write(&written)?,
        Backend::Sqlite => sqlite_write(&written)?,
    };
    match write.fetch_all(&mut *conn).await {
        Ok(rows) => {
            let Some(row) = rows.first() else {
                return Ok(false);
            };
            Ok(match backend {
                Backend::Postgres => row.try_get::<bool, _>(UNCHANGED_COLUMN)?,
                // SQLite answers a comparison as an integer.
                Backend::Sqlite => row.try_get::<i64, _>(UNCHANGED_COLUMN)? != 0,
            })
        }
        // On SQLite the conflict rolled the transaction back (`INSERT OR ROLLBACK`).
        Err(StoreError::Database(sqlx::Error::Database(error))) if error.is_unique_violation() => {
            Ok(false)
        }
        Err(error) => Err(error),
    }
}

/// PostgreSQL's write: one statement ([`conditional_insert`]).
fn postgres_write<'q>(written: &Written<'q>) -> Result<Script<'q>> {
    let expected: Vec<_> = written
        .expected
        .iter()
        .map(|&(id, state, agent)| serde_json::json!({"id": id, "state": state, "agent_id": agent}))
        .collect();
    let mut write = Script::new();
    write.bind(to_json(&expected)?)?;
    write.bind(message_rows_json(&written.stored, written.now)?)?;
    write.bind(delivery_rows_json(written.batch, written.deliveries)?)?;
    write.bind(DeliveryState::Pending.as_str())?;
    write.bind(written.now)?;
    write.push(&conditional_insert());
    Ok(write)
}

/// SQLite's write: one script of a transaction whose inserts hold only if the
/// conversations are as expected, and which answers whether they were: whether the
/// messages' insert stored any row. Every list in it is padded to the size of the
/// messages' (the conversations by repeating the last), so that there is a text for each
/// size only.
fn sqlite_write<'q>(written: &Written<'q>) -> Result<Script<'q>> {
    let backend = Backend::Sqlite;
    let Written {
        batch,
        ref stored,
        deliveries,
        ref expected,
        now,
    } = *written;
    // Every conversation has a message stored, so its list is never the longer one.
    let size = statement_rows(backend, stored.len().max(expected.len()));
    let unchanged = format!(
        "(SELECT count(*) FROM (VALUES {}) AS e JOIN conversations c ON c.id = e.column1 \
         AND c.state = e.column2 AND c.agent_id IS e.column3) = {size}",
        Placeholders::new(backend).rows(size, 3)
    );
    let bind_expected = |script: &mut Script<'q>| -> Result<()> {
        for &(id, state, agent) in repeating_last(expected, size) {
            script.bind(id)?;
            script.bind(state)?;
            script.bind(agent)?;
        }
        Ok(())
    };
    // A conflict rolls the transaction back: the inserts keep no statement journal to
    // undo only themselves (see the migration that checks messages' conversations at
    // commit), and the batch is stored again the locking way.
    let or_rollback = |insert: String| insert.replacen("INSERT", "INSERT OR ROLLBACK", 1);
    let mut write = Script::new();
    write.push("BEGIN");
    let rows = push_padded_insert(
        &mut write,
        &or_rollback(message_insert()),
        stored.len(),
        MESSAGE_ROW.len(),
        Some(&unchanged),
    );
    bind_message_rows(&mut write, stored, rows, now)?;
    bind_expected(&mut write)?;
    // The rows the insert just before it stored: the check is not made again.
    write.push(&format!("SELECT changes() > 0 AS {UNCHANGED_COLUMN}"));
    if !deliveries.is_empty() {
        let rows = push_padded_insert(
            &mut write,
            &or_rollback(delivery_insert()),
            deliveries.len(),
            DELIVERY_WIDTH,
            Some(&unchanged),
        );
        bind_delivery_rows(&mut write, batch, deliveries, rows, now)?;
        bind_expected(&mut write)?;
    }
    write.push("COMMIT");
    Ok(write)
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
