//! Group commit for messages. A writer task stores every append that is waiting when
//! it is free in a single transaction, and each caller hears back once that transaction
//! is committed. A sync to disk costs about the same for one message as for hundreds, so
//! under load the appends of a whole burst share one, instead of queueing behind a sync
//! each. SQLite has one writer task; PostgreSQL, which takes concurrent writers, two,
//! each with conversations of its own. A batch is judged on what its task remembers of
//! its conversations and written in one round trip to the database ([`optimistic`]).
//!
//! Each append is still judged on its own: a message whose conversation is unknown or has
//! ended is refused without touching the others, and a client message id seen before —
//! stored earlier or earlier in the same batch — answers the stored message, marked as a
//! duplicate. Should the batch's transaction fail as a whole, its appends are stored one
//! by one so that one bad message cannot sink the rest.
//!
//! Each writer task hands its committed batches, in order, to a task that announces them
//! to the listener and answers their callers, so that announcing one batch overlaps
//! storing the next.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Instant;

use sqlx::any::{AnyArguments, AnyRow};
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, AnyPool, Arguments, Executor, Row};
use switchboard_domain::channel::ChannelType;
use switchboard_domain::conversation::{ConversationState, Message, NewMessage, Sender};
use switchboard_domain::delivery::DeliveryState;
use switchboard_domain::time::Timestamp;
use switchboard_domain::{ChannelId, ConversationId, EmployeeId, Rule, TenantId, ValidationError};
use tokio::sync::{mpsc, oneshot};

use crate::checkpoints;
use crate::conversations::{last_seq_of, message_from_row, Appended, MESSAGE_COLUMNS};
use crate::error::{Result, StoreError};
use crate::ids::now_millis;
use crate::scoped::{join_by_key, Placeholders};
use crate::text::{from_json, to_json};
use crate::Backend;

mod client_keys;
mod optimistic;

/// At most this many appends share a transaction; eight parameters each stay well inside
/// both databases' limits on one statement.
const MAX_BATCH: usize = 512;

/// The number of rows a batch's statements are written for on SQLite: each list of rows
/// is padded to the next of these, so that the scripts' texts repeat and stay prepared.
/// sqlx keeps a hundred statements per connection; with a script for every pair of sizes
/// up to 512 they were parsed again batch after batch (an eighth of the writer thread in
/// steady chat); padded, the writer benchmark's bursts take 12–19 % less time. Padding
/// adds less than half as many rows again.
const STATEMENT_ROWS: [usize; 18] = [
    1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, MAX_BATCH,
];

/// The rows a statement for `len` of them is written for: see [`STATEMENT_ROWS`]. On
/// PostgreSQL exactly `len`, which its statements' texts do not depend on: they take
/// their rows as one JSON parameter ([`json_rows`]) or the ids written out ([`by_ids`]).
fn statement_rows(backend: Backend, len: usize) -> usize {
    let padded = STATEMENT_ROWS.iter().copied().find(|&rows| rows >= len);
    match backend {
        Backend::Sqlite => padded.unwrap_or(len),
        Backend::Postgres => len,
    }
}

/// `items`, then the last of them again up to `rows` in all: a key read twice answers
/// the same rows twice, which the reads' callers take once.
fn repeating_last<T>(items: &[T], rows: usize) -> impl Iterator<Item = &T> {
    let padding = rows.saturating_sub(items.len());
    items
        .iter()
        .chain(items.last().into_iter().cycle().take(padding))
}

/// `items` as `Some`, then `None` up to `rows` in all: rows of nulls, which the inserts
/// leave out.
fn padded_with_none<T>(items: &[T], rows: usize) -> impl Iterator<Item = Option<&T>> {
    items
        .iter()
        .map(Some)
        .chain(std::iter::repeat(None))
        .take(rows.max(items.len()))
}

enum Request {
    Append(Append),
    /// Answered once everything handed over before it is stored, and the writer's own
    /// connection given back to its pool (which closes only once all are back).
    Flush(oneshot::Sender<()>),
}

struct Append {
    tenant: TenantId,
    conversation: ConversationId,
    message: NewMessage,
    reply: oneshot::Sender<Result<Appended>>,
}

/// A message just committed, as the listener hears of it.
pub struct StoredMessage<'a> {
    pub tenant: TenantId,
    pub message: &'a Message,
    /// The conversation's agent when the message was stored.
    pub agent: Option<EmployeeId>,
    /// The message was queued for delivery through a messaging platform.
    pub queued_for_platform: bool,
}

/// Called for every message committed, each conversation's in commit order and before
/// its caller hears back, whether or not that caller still waits: what is stored is
/// always announced. It must not block, and may be called from two tasks at once.
pub type MessageListener = Arc<dyn Fn(StoredMessage<'_>) + Send + Sync>;

type ListenerSlot = Arc<RwLock<Option<MessageListener>>>;

/// Writer tasks on PostgreSQL, each with conversations of its own: one batch waits on
/// its round trip to the server and on its commit, so batches of different
/// conversations are written side by side. Each task's batch is a statement, and
/// PostgreSQL's work per statement is most of the machine's at 5,000 messages/s: two
/// tasks had a lower steady p99 than three (4.5–9.6 against 5.9–14 ms, 2026-12-02) and
/// one task's maximum was lower. SQLite has a single writer, hence a single task.
const POSTGRES_LANES: usize = 2;

/// The way in to the writer tasks.
pub(crate) struct MessageLog {
    /// One per writer task; a conversation's messages always take the same lane, so
    /// they are stored in the order handed over.
    lanes: Vec<mpsc::UnboundedSender<Request>>,
    listener: ListenerSlot,
}

impl MessageLog {
    /// Starts the writer tasks on the current Tokio runtime. On SQLite the writer
    /// finishes the checkpoints `handover` asks for between its batches.
    pub(crate) fn start(
        pool: AnyPool,
        backend: Backend,
        handover: Option<Arc<checkpoints::Handover>>,
    ) -> Self {
        let listener = ListenerSlot::default();
        let count = match backend {
            Backend::Sqlite => 1,
            Backend::Postgres => POSTGRES_LANES,
        };
        let lanes = (0..count)
            .map(|_| {
                let (appends, waiting) = mpsc::unbounded_channel();
                tokio::spawn(write_batches(
                    pool.clone(),
                    backend,
                    waiting,
                    listener.clone(),
                    handover.clone(),
                ));
                appends
            })
            .collect();
        Self { lanes, listener }
    }

    /// Waits until every message handed over so far is stored (or has failed).
    pub(crate) async fn flush(&self) {
        for lane in &self.lanes {
            let (done, flushed) = oneshot::channel();
            if lane.send(Request::Flush(done)).is_ok() {
                let _ = flushed.await;
            }
        }
    }

    fn lane_of(&self, conversation: ConversationId) -> &mpsc::UnboundedSender<Request> {
        // Ids are spread over the lanes by a multiplicative hash of their bits.
        let spread = (conversation.0 as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32;
        &self.lanes[usize::try_from(spread).unwrap_or_default() % self.lanes.len()]
    }

    pub(crate) fn listen(&self, listener: MessageListener) {
        *self
            .listener
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(listener);
    }

    /// Hands `message` to the writer at once; the future answers once it is committed,
    /// with the conversation's next sequence number. Messages handed over one after the
    /// other are stored in that order.
    pub(crate) fn submit(
        &self,
        tenant: TenantId,
        conversation: ConversationId,
        message: NewMessage,
    ) -> impl std::future::Future<Output = Result<Appended>> + Send + 'static {
        let (reply, answer) = oneshot::channel();
        let append = Append {
            tenant,
            conversation,
            message,
            reply,
        };
        let handed_over = self
            .lane_of(conversation)
            .send(Request::Append(append))
            .is_ok();
        async move {
            let closed = || StoreError::Database(sqlx::Error::PoolClosed);
            if !handed_over {
                return Err(closed());
            }
            answer.await.map_err(|_| closed())?
        }
    }
}

/// A committed batch on its way to being announced and answered.
struct Committed {
    batch: Vec<Append>,
    answers: Vec<Result<Appended>>,
    flushes: Vec<oneshot::Sender<()>>,
}

/// Committed batches waiting to be announced; past this the writer waits for them.
const ANNOUNCING: usize = 2;

/// Stores batches one after the other while a task of its own announces and answers the
/// committed ones, in commit order: telling agents and watchers of one batch overlaps
/// storing the next, and finishing a checkpoint too.
async fn write_batches(
    pool: AnyPool,
    backend: Backend,
    mut waiting: mpsc::UnboundedReceiver<Request>,
    listener: ListenerSlot,
    handover: Option<Arc<checkpoints::Handover>>,
) {
    let (committed, to_announce) = mpsc::channel(ANNOUNCING);
    let announcing = tokio::spawn(announce(to_announce, listener));
    let mut writer = Writer {
        pool,
        backend,
        own: None,
        remembered: optimistic::Remembered::new(backend),
    };
    let mut requests = Vec::with_capacity(MAX_BATCH);
    while waiting.recv_many(&mut requests, MAX_BATCH).await > 0 {
        let mut batch = Vec::with_capacity(requests.len());
        let mut flushes = Vec::new();
        for request in requests.drain(..) {
            match request {
                Request::Append(append) => batch.push(append),
                Request::Flush(done) => flushes.push(done),
            }
        }
        let started = std::time::Instant::now();
        let answers = writer.store_batch(&batch).await;
        if !flushes.is_empty() {
            writer.own = None;
        }
        tracing::debug!(
            appends = batch.len(),
            micros = started.elapsed().as_micros(),
            "messages committed"
        );
        let batch = Committed {
            batch,
            answers,
            flushes,
        };
        if committed.send(batch).await.is_err() {
            tracing::error!("the task announcing committed messages has stopped");
            return;
        }
        if handover.as_ref().is_some_and(|handover| handover.take()) {
            checkpoints::finish(&writer.pool).await;
        }
    }
    drop(committed);
    let _ = announcing.await;
}

/// Tells the listener of each message committed, then answers the callers and flushes.
async fn announce(mut committed: mpsc::Receiver<Committed>, listener: ListenerSlot) {
    while let Some(Committed {
        batch,
        answers,
        flushes,
    }) = committed.recv().await
    {
        let listener = listener
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone();
        if let Some(listener) = listener {
            let stored = batch.iter().zip(&answers).filter_map(|(append, answer)| {
                answer
                    .as_ref()
                    .ok()
                    .filter(|appended| !appended.duplicate)
                    .map(|appended| (append.tenant, appended))
            });
            for (tenant, appended) in stored {
                listener(StoredMessage {
                    tenant,
                    message: &appended.message,
                    agent: appended.agent,
                    queued_for_platform: appended.queued_for_platform,
                });
            }
        }
        for (append, answer) in batch.into_iter().zip(answers) {
            // A caller that gave up waiting does not undo what was committed.
            let _ = append.reply.send(answer);
        }
        for done in flushes {
            let _ = done.send(());
        }
    }
}

/// One writer task's way to the database.
struct Writer {
    pool: AnyPool,
    backend: Backend,
    /// On PostgreSQL, the task's connection, kept from one batch to the next with the
    /// moment it was last used: sqlx checks every connection given back to its pool with
    /// a round trip to the server, which was one more per batch for PostgreSQL's backends
    /// to wake up for. SQLite's one write connection is shared with routing and every
    /// other writer, so it goes back after each batch.
    own: Option<(PoolConnection<Any>, Instant)>,
    /// What the task knows of its conversations (see [`optimistic`]).
    remembered: optimistic::Remembered,
}

impl Writer {
    async fn store_batch(&mut self, batch: &[Append]) -> Vec<Result<Appended>> {
        if batch.is_empty() {
            return Vec::new();
        }
        match self.try_batch(batch).await {
            Ok(answers) => answers,
            Err(error) if batch.len() > 1 => {
                tracing::warn!(%error, appends = batch.len(), "a batch of messages failed; storing them one by one");
                let mut answers = Vec::with_capacity(batch.len());
                for append in batch {
                    answers.push(self.store_one(append).await);
                }
                answers
            }
            Err(error) => vec![Err(error)],
        }
    }

    async fn store_one(&mut self, append: &Append) -> Result<Appended> {
        let one = std::slice::from_ref(append);
        let answer = match self.try_batch(one).await {
            // Another node of a cluster stored the same client id between our read and
            // our write: reading again finds it.
            Err(StoreError::Conflict { .. }) => self.try_batch(one).await,
            other => other,
        };
        answer.and_then(|mut answers| answers.pop().unwrap_or(Err(StoreError::NotFound)))
    }

    /// The task's own connection if it has one that was busy a moment ago, else one from
    /// the pool, which checks a connection idle for a while (the server may have gone away
    /// since).
    async fn connection(&mut self) -> Result<PoolConnection<Any>> {
        match self.own.take() {
            Some((conn, used)) if used.elapsed() < crate::PING_CONNECTIONS_IDLE_FOR => Ok(conn),
            _ => Ok(self.pool.acquire().await?),
        }
    }

    /// Keeps `conn` for the next batch on PostgreSQL, or gives it back.
    fn done_with(&mut self, conn: PoolConnection<Any>) {
        if self.backend == Backend::Postgres {
            self.own = Some((conn, Instant::now()));
        }
    }

    async fn try_batch(&mut self, batch: &[Append]) -> Result<Vec<Result<Appended>>> {
        let mut conn = self.connection().await?;
        let judged =
            optimistic::run_batch(&mut conn, self.backend, batch, &mut self.remembered).await;
        // The batch's scripts begin and commit the transaction themselves.
        let outcome = match judged {
            Ok(Some(answers)) => {
                self.done_with(conn);
                return Ok(answers);
            }
            Ok(None) => {
                tracing::debug!(
                    appends = batch.len(),
                    "a batch to judge again on what is read after BEGIN"
                );
                run_batch(&mut conn, self.backend, batch).await
            }
            Err(error) => Err(error),
        };
        if outcome.is_err() {
            // Nothing to roll back when the failure came before BEGIN or with COMMIT,
            // which SQLite answers with an error and PostgreSQL with a warning; so on
            // PostgreSQL a failed rollback is a broken connection, not handed to anyone
            // else.
            let rolled_back = conn.execute("ROLLBACK").await;
            if rolled_back.is_err() && self.backend == Backend::Postgres {
                let _ = conn.close().await;
                return outcome;
            }
        }
        self.done_with(conn);
        outcome
    }
}

/// What became of one append before the commit.
enum Outcome {
    Stored {
        seq: i64,
        agent: Option<EmployeeId>,
    },
    StoredBefore(Message, Option<EmployeeId>),
    /// Its client id came earlier in the same batch, at `earlier`, stored as `seq`.
    SameAsEarlier {
        earlier: usize,
        seq: i64,
        agent: Option<EmployeeId>,
    },
    UnknownConversation,
    Ended,
}

/// A message's identity for deduplication: conversation, kind of sender, client id.
type ClientKey<'a> = (ConversationId, &'static str, &'a str);

fn client_key(append: &Append) -> ClientKey<'_> {
    (
        append.conversation,
        append.message.sender.kind(),
        append.message.client_message_id.as_str(),
    )
}

/// Reads what the batch needs, judges each append, writes, in one transaction, for a
/// batch that [`optimistic`]'s one round trip could not store: on SQLite as two scripts
/// (the reads after BEGIN, the writes before COMMIT), two round trips to the
/// connection's thread instead of six; on PostgreSQL in four round trips (BEGIN with the
/// reads that need only the conversations' ids, the stored messages, the writes, COMMIT).
async fn run_batch(
    conn: &mut AnyConnection,
    backend: Backend,
    batch: &[Append],
) -> Result<Vec<Result<Appended>>> {
    let now = now_millis();
    let ids = conversation_ids(batch);
    let mut reads = Scripts::new(backend, Some("BEGIN"));
    // On PostgreSQL the conversations are locked first, so that the reads after it see
    // every message committed by another node that held them before.
    // All three lists are written for the batch's size, the conversations too: one read
    // script per size on SQLite.
    let size = statement_rows(backend, batch.len());
    conversation_states(reads.next_literal(), backend, &ids, size)?;
    last_sequences(reads.next_literal(), backend, &ids, size)?;
    stored_messages(reads.next(), backend, batch, size)?;
    let mut stored_rows = Vec::new();
    let mut documents = ConversationDocuments::default();
    for script in reads.finish(None) {
        // On SQLite the reads answer in one list; the conversations and their sequence
        // numbers come as one row each.
        for row in script.fetch_all(&mut *conn).await? {
            if !documents.take(&row)? {
                stored_rows.push(row);
            }
        }
    }
    let mut conversations = documents.conversations()?;
    let stored_before = stored_by_key(batch, &stored_rows)?;
    let outcomes = judge(batch, &stored_before, &mut conversations);
    let mut writes = Scripts::new(backend, None);
    insert_messages(&mut writes, backend, batch, &outcomes, now)?;
    let queued = queue_deliveries(&mut writes, backend, batch, &outcomes, &conversations, now)?;
    for script in writes.finish(Some("COMMIT")) {
        script
            .execute(&mut *conn)
            .await
            .map_err(|e| StoreError::from_unique(e, &[("client", "clientMessageId")]))?;
    }
    Ok(answers(batch, &outcomes, &queued, now))
}

/// What becomes of each append, in order: stored with the next number of its
/// conversation, a duplicate of a message stored before or earlier in the batch, or
/// refused.
fn judge<'a>(
    batch: &'a [Append],
    stored_before: &HashMap<ClientKey<'a>, Message>,
    conversations: &mut HashMap<ConversationId, ConversationSequence>,
) -> Vec<Outcome> {
    let mut first_of: HashMap<ClientKey<'_>, (usize, i64)> = HashMap::with_capacity(batch.len());
    let mut outcomes = Vec::with_capacity(batch.len());
    for (index, append) in batch.iter().enumerate() {
        let key = client_key(append);
        let agent = conversations
            .get(&append.conversation)
            .and_then(|c| c.agent);
        let outcome = if let Some(message) = stored_before.get(&key) {
            Outcome::StoredBefore(message.clone(), agent)
        } else if let Some(&(earlier, seq)) = first_of.get(&key) {
            Outcome::SameAsEarlier {
                earlier,
                seq,
                agent,
            }
        } else {
            match conversations.get_mut(&append.conversation) {
                Some(conversation) if is_party(conversation, append) => {
                    if conversation.state.accepts(&append.message.sender) {
                        conversation.last_seq += 1;
                        first_of.insert(key, (index, conversation.last_seq));
                        Outcome::Stored {
                            seq: conversation.last_seq,
                            agent: conversation.agent,
                        }
                    } else {
                        Outcome::Ended
                    }
                }
                _ => Outcome::UnknownConversation,
            }
        };
        outcomes.push(outcome);
    }
    outcomes
}

/// Statements and their arguments, sent in as few round trips as the database allows.
struct Script<'q> {
    sql: String,
    args: AnyArguments<'q>,
}

impl<'q> Script<'q> {
    fn new() -> Self {
        Self {
            sql: String::new(),
            args: AnyArguments::default(),
        }
    }

    /// Nothing is bound: on PostgreSQL the text goes as a simple query, which may hold
    /// several statements (and is planned for its values every time).
    fn is_literal(&self) -> bool {
        self.args.len() == 0
    }

    /// Adds a statement; its parameters are bound after those of the ones before it.
    fn push(&mut self, sql: &str) {
        if !self.sql.is_empty() {
            self.sql.push_str(";\n");
        }
        self.sql.push_str(sql);
    }

    fn bind<T>(&mut self, value: T) -> Result<()>
    where
        T: 'q + sqlx::Encode<'q, Any> + sqlx::Type<Any>,
    {
        self.args
            .add(value)
            .map_err(|e| StoreError::Database(sqlx::Error::Encode(e)))
    }

    async fn fetch_all(self, conn: &mut AnyConnection) -> Result<Vec<AnyRow>> {
        if self.is_literal() {
            return Ok(conn.fetch_all(self.sql.as_str()).await?);
        }
        Ok(sqlx::query_with(&self.sql, self.args)
            .fetch_all(conn)
            .await?)
    }

    async fn execute(self, conn: &mut AnyConnection) -> std::result::Result<(), sqlx::Error> {
        if self.is_literal() {
            return conn.execute(self.sql.as_str()).await.map(drop);
        }
        sqlx::query_with(&self.sql, self.args)
            .execute(conn)
            .await
            .map(drop)
    }
}

/// A batch's statements: on SQLite all in one script (its connection runs a text's
/// statements in order, taking anonymous parameters in order), on PostgreSQL one script
/// each (its protocol takes one statement with parameters at a time), except that
/// statements without parameters go together.
struct Scripts<'q> {
    backend: Backend,
    scripts: Vec<Script<'q>>,
}

impl<'q> Scripts<'q> {
    /// The first script starts with `opening`.
    fn new(backend: Backend, opening: Option<&str>) -> Self {
        let mut scripts = Self {
            backend,
            scripts: Vec::new(),
        };
        if let Some(opening) = opening {
            scripts.next_literal().push(opening);
        }
        scripts
    }

    /// The script the next statement goes into.
    fn next(&mut self) -> &mut Script<'q> {
        self.next_joining(self.backend == Backend::Sqlite)
    }

    /// The script the next statement goes into when it binds nothing on PostgreSQL
    /// (BEGIN, COMMIT, the reads of [`by_ids`]): with the statements before it that bind
    /// nothing either, one round trip for all of them.
    fn next_literal(&mut self) -> &mut Script<'q> {
        let joins_literal = self.scripts.last().is_some_and(Script::is_literal);
        self.next_joining(self.backend == Backend::Sqlite || joins_literal)
    }

    fn next_joining(&mut self, joins_last: bool) -> &mut Script<'q> {
        if !joins_last || self.scripts.is_empty() {
            self.scripts.push(Script::new());
        }
        let last = self.scripts.len() - 1;
        &mut self.scripts[last]
    }

    /// The scripts to run, in order; the last ends with `closing`.
    fn finish(mut self, closing: Option<&str>) -> Vec<Script<'q>> {
        if let Some(closing) = closing {
            self.next_literal().push(closing);
        }
        self.scripts
    }
}

/// `ids` in a statement: on SQLite as parameters, bound to `script` (repeating the last
/// up to `size`), so that its text repeats and stays prepared; on PostgreSQL written out,
/// so that the statement needs no parameters and goes in the same round trip as the
/// statements around it that need none either. They are the store's own integers, never
/// text from outside. `rows`: as one-column rows for a VALUES list, else as a list.
fn by_ids(
    script: &mut Script<'_>,
    backend: Backend,
    ids: &[i64],
    size: usize,
    rows: bool,
) -> Result<String> {
    match backend {
        Backend::Sqlite => {
            let mut placeholders = Placeholders::new(backend);
            let text = if rows {
                placeholders.rows(size, 1)
            } else {
                placeholders.list(size)
            };
            for &id in repeating_last(ids, size) {
                script.bind(id)?;
            }
            Ok(text)
        }
        Backend::Postgres => Ok(ids
            .iter()
            .map(|id| {
                if rows {
                    format!("({id})")
                } else {
                    id.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join(", ")),
    }
}

fn answers(
    batch: &[Append],
    outcomes: &[Outcome],
    queued: &[bool],
    now: i64,
) -> Vec<Result<Appended>> {
    let stored = |index: usize, seq: i64| {
        let append = &batch[index];
        Message {
            conversation_id: append.conversation,
            seq,
            sender: append.message.sender,
            client_message_id: append.message.client_message_id.clone(),
            content: append.message.content.clone(),
            created_at: Timestamp(now),
        }
    };
    let appended = |message, duplicate, agent, queued_for_platform| {
        Ok(Appended {
            message,
            duplicate,
            agent,
            queued_for_platform,
        })
    };
    outcomes
        .iter()
        .enumerate()
        .map(|(index, outcome)| match outcome {
            Outcome::Stored { seq, agent } => {
                appended(stored(index, *seq), false, *agent, queued[index])
            }
            Outcome::SameAsEarlier {
                earlier,
                seq,
                agent,
            } => appended(stored(*earlier, *seq), true, *agent, false),
            Outcome::StoredBefore(message, agent) => appended(message.clone(), true, *agent, false),
            Outcome::UnknownConversation => Err(StoreError::NotFound),
            Outcome::Ended => {
                let reason = "the conversation has ended".into();
                Err(ValidationError::new("conversationId", Rule::NotAllowed { reason }).into())
            }
        })
        .collect()
}

/// Reads the messages of the batch's client keys that are stored already.
fn stored_messages<'q>(
    script: &mut Script<'q>,
    backend: Backend,
    batch: &'q [Append],
    size: usize,
) -> Result<()> {
    let columns = MESSAGE_COLUMNS
        .split(", ")
        .map(|column| format!("m.{column}"))
        .collect::<Vec<_>>()
        .join(", ");
    let messages = join_by_key(
        backend,
        "messages",
        "m",
        "m.conversation_id = k.column1 AND m.sender_kind = k.column2 AND m.client_message_id = k.column3",
    );
    let keys = match backend {
        Backend::Sqlite => {
            let rows = Placeholders::new(backend).rows(size, 3);
            for append in repeating_last(batch, size) {
                script.bind(append.conversation.0)?;
                script.bind(append.message.sender.kind())?;
                script.bind(append.message.client_message_id.as_str())?;
            }
            format!("(VALUES {rows}) AS k")
        }
        Backend::Postgres => {
            let rows: Vec<_> = batch
                .iter()
                .map(|append| {
                    serde_json::json!({
                        "column1": append.conversation.0,
                        "column2": append.message.sender.kind(),
                        "column3": append.message.client_message_id,
                    })
                })
                .collect();
            script.bind(to_json(&rows)?)?;
            json_rows(
                1,
                "k",
                &[
                    ("column1", "bigint"),
                    ("column2", "text"),
                    ("column3", "text"),
                ],
            )
        }
    };
    script.push(&format!(
        "SELECT m.tenant_id, {columns} FROM {keys} {messages}"
    ));
    Ok(())
}

/// A row source `alias` for PostgreSQL of one JSON parameter, a list of objects with the
/// named `columns`: a statement's text is then the same for any number of rows, prepared once
/// per connection, where a VALUES list of parameters is a statement of its own for each
/// size, more than a connection keeps prepared (a miss costs a round trip to prepare it
/// again). SQLite keeps its VALUES lists: its JSON functions cost more than they save.
/// `parameter` is the parameter's number.
fn json_rows(parameter: usize, alias: &str, columns: &[(&str, &str)]) -> String {
    let typed: Vec<String> = columns
        .iter()
        .map(|(name, kind)| format!("{name} {kind}"))
        .collect();
    format!(
        "json_to_recordset(${parameter}::json) AS {alias} ({})",
        typed.join(", ")
    )
}

/// The names of `columns` (name, type), separated by commas.
fn column_names(columns: &[(&str, &str)]) -> String {
    columns
        .iter()
        .map(|(name, _)| *name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Pushes SQLite's insert of `len` rows of `width` values from a VALUES list padded to
/// [`statement_rows`] with rows of nulls it leaves out, inserting only if `condition`
/// holds (its parameters come after the rows'); answers the padded size.
fn push_padded_insert(
    script: &mut Script<'_>,
    insert: &str,
    len: usize,
    width: usize,
    condition: Option<&str>,
) -> usize {
    let size = statement_rows(Backend::Sqlite, len);
    let rows = Placeholders::new(Backend::Sqlite).rows(size, width);
    let condition = condition.map(|c| format!(" AND {c}")).unwrap_or_default();
    script.push(&format!(
        "{insert} SELECT * FROM (VALUES {rows}) AS v WHERE v.column1 IS NOT NULL{condition}"
    ));
    size
}

/// A message's columns as a batch inserts them, with their types for PostgreSQL.
const MESSAGE_ROW: [(&str, &str); 8] = [
    ("conversation_id", "bigint"),
    ("tenant_id", "bigint"),
    ("seq", "bigint"),
    ("sender_kind", "text"),
    ("sender_id", "bigint"),
    ("client_message_id", "text"),
    ("content", "text"),
    ("created_at", "bigint"),
];

/// A delivery's columns that differ from row to row (the rest are the same for all).
const DELIVERY_ROW: [(&str, &str); 4] = [
    ("conversation_id", "bigint"),
    ("seq", "bigint"),
    ("tenant_id", "bigint"),
    ("channel_id", "bigint"),
];

/// The stored messages read by [`stored_messages`], by the key of the append they answer.
fn stored_by_key<'a>(
    batch: &'a [Append],
    found: &[AnyRow],
) -> Result<HashMap<ClientKey<'a>, Message>> {
    let mut stored = HashMap::with_capacity(found.len());
    for row in found {
        let message = message_from_row(row)?;
        let tenant = TenantId(row.try_get("tenant_id")?);
        let append = batch.iter().find(|a| {
            a.tenant == tenant
                && a.conversation == message.conversation_id
                && a.message.sender.kind() == message.sender.kind()
                && a.message.client_message_id == message.client_message_id
        });
        if let Some(append) = append {
            stored.insert(client_key(append), message);
        }
    }
    Ok(stored)
}

/// The conversation is the appender's tenant's, and, for an agent, the agent's own.
fn is_party(conversation: &ConversationSequence, append: &Append) -> bool {
    let own = match append.message.sender {
        Sender::Agent { employee_id } => conversation.agent == Some(employee_id),
        _ => true,
    };
    conversation.tenant == append.tenant && own
}

#[derive(Clone)]
struct ConversationSequence {
    tenant: TenantId,
    channel: ChannelId,
    /// Its channel sends what the customer is to read through a messaging platform.
    relays: bool,
    agent: Option<EmployeeId>,
    state: ConversationState,
    last_seq: i64,
}

/// The column in which [`conversation_states`] answers.
const CONVERSATIONS_COLUMN: &str = "conversations";

/// The column in which [`last_sequences`] answers.
const SEQUENCES_COLUMN: &str = "sequences";

/// What [`conversation_states`] reads of each conversation, in [`ConversationRecord`]'s order.
const CONVERSATION_FIELDS: [&str; 6] = [
    "c.id",
    "c.tenant_id",
    "c.channel_id",
    "ch.channel_type",
    "c.state",
    "c.agent_id",
];

/// The batch's conversations, each once, in id order (the order they are locked in).
fn conversation_ids(batch: &[Append]) -> Vec<i64> {
    let mut ids: Vec<i64> = batch.iter().map(|a| a.conversation.0).collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// Reads the state of the batch's conversations, locked against other writers on
/// PostgreSQL (SQLite has one writer already), as one JSON document: SQLite's
/// connection hands each row over to the writer task by itself, and a batch's hundreds
/// of conversations as rows were as many hand-overs between threads.
fn conversation_states(
    script: &mut Script<'_>,
    backend: Backend,
    ids: &[i64],
    size: usize,
) -> Result<()> {
    let listed = by_ids(script, backend, ids, size, false)?;
    let columns = CONVERSATION_FIELDS.join(", ");
    let from = format!(
        "FROM conversations c JOIN channels ch ON ch.id = c.channel_id WHERE c.id IN ({listed})"
    );
    script.push(&match backend {
        Backend::Sqlite => format!(
            "SELECT json_group_array(json_array({columns})) AS {CONVERSATIONS_COLUMN} {from}"
        ),
        // The weakest lock that keeps other writers of these rows out; message inserts
        // (key share on the conversation) go on. A locking read cannot aggregate itself.
        Backend::Postgres => {
            let locked_columns = CONVERSATION_FIELDS
                .map(|field| field.split_once('.').map_or(field, |(_, column)| column))
                .join(", ");
            format!(
                "SELECT COALESCE(json_agg(json_build_array({locked_columns})), '[]')::text AS {CONVERSATIONS_COLUMN} \
                 FROM (SELECT {columns} {from} ORDER BY c.id FOR NO KEY UPDATE OF c) AS locked"
            )
        }
    });
    Ok(())
}

/// Reads the last sequence number of each of the batch's conversations (see
/// [`last_seq_of`]) as one JSON document of `[id, seq]` pairs.
fn last_sequences(
    script: &mut Script<'_>,
    backend: Backend,
    ids: &[i64],
    size: usize,
) -> Result<()> {
    let rows = by_ids(script, backend, ids, size, true)?;
    let pair = concat!("v.column1, ", last_seq_of!("v.column1"));
    script.push(&match backend {
        Backend::Sqlite => format!(
            "SELECT json_group_array(json_array({pair})) AS {SEQUENCES_COLUMN} FROM (VALUES {rows}) AS v"
        ),
        Backend::Postgres => format!(
            "SELECT COALESCE(json_agg(json_build_array({pair})), '[]')::text AS {SEQUENCES_COLUMN} \
             FROM (VALUES {rows}) AS v"
        ),
    });
    Ok(())
}

/// The documents [`conversation_states`] and [`last_sequences`] answer, each in a column
/// of its own, in one row or two.
#[derive(Default)]
struct ConversationDocuments {
    states: String,
    sequences: String,
}

impl ConversationDocuments {
    /// Takes the documents `row` holds; answers whether it held any.
    fn take(&mut self, row: &AnyRow) -> Result<bool> {
        let mut held = false;
        for (column, document) in [
            (CONVERSATIONS_COLUMN, &mut self.states),
            (SEQUENCES_COLUMN, &mut self.sequences),
        ] {
            if row.try_column(column).is_ok() {
                *document = row.try_get(column)?;
                held = true;
            }
        }
        Ok(held)
    }

    fn conversations(&self) -> Result<HashMap<ConversationId, ConversationSequence>> {
        conversation_sequences(&self.states, &self.sequences)
    }
}

/// A conversation as [`conversation_states`] reads it.
#[derive(serde::Deserialize)]
struct ConversationRecord(i64, i64, i64, String, String, Option<i64>);

/// The batch's conversations from the documents of [`conversation_states`] and
/// [`last_sequences`].
fn conversation_sequences(
    states: &str,
    last_sequences: &str,
) -> Result<HashMap<ConversationId, ConversationSequence>> {
    let rows: Vec<ConversationRecord> = from_json("the batch's conversations", states)?;
    let last: HashMap<i64, i64> =
        from_json::<Vec<(i64, i64)>>("the batch's sequence numbers", last_sequences)?
            .into_iter()
            .collect();
    let mut sequences = HashMap::with_capacity(rows.len());
    for ConversationRecord(id, tenant, channel, channel_type, state, agent) in rows {
        let last_seq = *last.get(&id).ok_or_else(|| {
            StoreError::Corrupt(format!("no sequence number read for conversation {id}"))
        })?;
        let sequence = ConversationSequence {
            tenant: TenantId(tenant),
            channel: ChannelId(channel),
            relays: ChannelType::parse(&channel_type)
                .is_some_and(ChannelType::replies_through_platform),
            agent: agent.map(EmployeeId),
            state: ConversationState::parse(&state)
                .ok_or_else(|| StoreError::Corrupt(format!("conversation state '{state}'")))?,
            last_seq,
        };
        sequences.insert(ConversationId(id), sequence);
    }
    Ok(sequences)
}

fn insert_messages<'q>(
    scripts: &mut Scripts<'q>,
    backend: Backend,
    batch: &'q [Append],
    outcomes: &[Outcome],
    now: i64,
) -> Result<()> {
    let stored = appends_stored(batch, outcomes);
    if stored.is_empty() {
        return Ok(());
    }
    let script = scripts.next();
    match backend {
        Backend::Sqlite => {
            let size = push_padded_insert(
                script,
                &message_insert(),
                stored.len(),
                MESSAGE_ROW.len(),
                None,
            );
            bind_message_rows(script, &stored, size, now)?;
        }
        Backend::Postgres => {
            script.bind(message_rows_json(&stored, now)?)?;
            let (names, rows) = (column_names(&MESSAGE_ROW), json_rows(1, "v", &MESSAGE_ROW));
            script.push(&format!("{} SELECT {names} FROM {rows}", message_insert()));
        }
    }
    Ok(())
}

fn message_insert() -> String {
    format!("INSERT INTO messages ({})", column_names(&MESSAGE_ROW))
}

/// Binds the rows of SQLite's insert of `stored`, padded to `size` with rows of nulls.
fn bind_message_rows<'q>(
    script: &mut Script<'q>,
    stored: &[(&'q Append, i64)],
    size: usize,
    now: i64,
) -> Result<()> {
    for row in padded_with_none(stored, size) {
        let append = row.map(|&(append, _)| append);
        let content = append.map(|a| to_json(&a.message.content)).transpose()?;
        script.bind(append.map(|a| a.conversation.0))?;
        script.bind(append.map(|a| a.tenant.0))?;
        script.bind(row.map(|&(_, seq)| seq))?;
        script.bind(append.map(|a| a.message.sender.kind()))?;
        script.bind(append.and_then(sender_id_of))?;
        script.bind(append.map(|a| a.message.client_message_id.as_str()))?;
        script.bind(content)?;
        script.bind(row.map(|_| now))?;
    }
    Ok(())
}

/// The appends to store, each with its sequence number.
fn appends_stored<'a>(batch: &'a [Append], outcomes: &[Outcome]) -> Vec<(&'a Append, i64)> {
    batch
        .iter()
        .zip(outcomes)
        .filter_map(|(append, outcome)| match outcome {
            Outcome::Stored { seq, .. } => Some((append, *seq)),
            _ => None,
        })
        .collect()
}

fn sender_id_of(append: &Append) -> Option<i64> {
    match append.message.sender {
        Sender::Agent { employee_id } => Some(employee_id.0),
        _ => None,
    }
}

/// The messages `stored` as the JSON rows of [`MESSAGE_ROW`].
fn message_rows_json(stored: &[(&Append, i64)], now: i64) -> Result<String> {
    let mut rows = Vec::with_capacity(stored.len());
    for &(append, seq) in stored {
        rows.push(serde_json::json!({
            "conversation_id": append.conversation.0,
            "tenant_id": append.tenant.0,
            "seq": seq,
            "sender_kind": append.message.sender.kind(),
            "sender_id": sender_id_of(append),
            "client_message_id": append.message.client_message_id,
            "content": to_json(&append.message.content)?,
            "created_at": now,
        }));
    }
    to_json(&rows)
}

/// Queues for delivery every message stored for a customer on a messaging platform to
/// read; answers, for each append, whether it was queued.
fn queue_deliveries(
    scripts: &mut Scripts<'_>,
    backend: Backend,
    batch: &[Append],
    outcomes: &[Outcome],
    conversations: &HashMap<ConversationId, ConversationSequence>,
    now: i64,
) -> Result<Vec<bool>> {
    let deliveries = deliveries_of(batch, outcomes, conversations);
    let queued = queued_flags(batch, &deliveries);
    if deliveries.is_empty() {
        return Ok(queued);
    }
    let script = scripts.next();
    let keys = column_names(&DELIVERY_ROW);
    let insert = delivery_insert();
    let pending = DeliveryState::Pending.as_str();
    match backend {
        Backend::Sqlite => {
            let size = push_padded_insert(script, &insert, deliveries.len(), DELIVERY_WIDTH, None);
            bind_delivery_rows(script, batch, &deliveries, size, now)?;
        }
        Backend::Postgres => {
            script.bind(delivery_rows_json(batch, &deliveries)?)?;
            script.bind(pending)?;
            script.bind(now)?;
            let rows = json_rows(1, "v", &DELIVERY_ROW);
            script.push(&format!(
                "{insert} SELECT {keys}, $2, $3, $3, $3 FROM {rows}"
            ));
        }
    }
    Ok(queued)
}

/// The values of a delivery as SQLite's insert of [`delivery_insert`] takes them.
const DELIVERY_WIDTH: usize = DELIVERY_ROW.len() + 4;

/// Binds the rows of SQLite's insert of `deliveries`, pending as of `now`, padded to
/// `size` with rows of nulls.
fn bind_delivery_rows(
    script: &mut Script<'_>,
    batch: &[Append],
    deliveries: &[Delivery],
    size: usize,
    now: i64,
) -> Result<()> {
    let pending = DeliveryState::Pending.as_str();
    for delivery in padded_with_none(deliveries, size) {
        let append = delivery.map(|&(index, _, _)| &batch[index]);
        let at = delivery.map(|_| now);
        script.bind(append.map(|a| a.conversation.0))?;
        script.bind(delivery.map(|&(_, seq, _)| seq))?;
        script.bind(append.map(|a| a.tenant.0))?;
        script.bind(delivery.map(|&(_, _, channel)| channel.0))?;
        script.bind(delivery.map(|_| pending))?;
        script.bind(at)?;
        script.bind(at)?;
        script.bind(at)?;
    }
    Ok(())
}

/// A message to queue for delivery: its index in the batch, its sequence number, its
/// channel.
type Delivery = (usize, i64, ChannelId);

/// The messages stored for a customer on a messaging platform to read.
fn deliveries_of(
    batch: &[Append],
    outcomes: &[Outcome],
    conversations: &HashMap<ConversationId, ConversationSequence>,
) -> Vec<Delivery> {
    batch
        .iter()
        .zip(outcomes)
        .enumerate()
        .filter_map(|(index, (append, outcome))| match outcome {
            Outcome::Stored { seq, .. } if append.message.sender != Sender::Customer => {
                let conversation = conversations.get(&append.conversation)?;
                conversation
                    .relays
                    .then_some((index, *seq, conversation.channel))
            }
            _ => None,
        })
        .collect()
}

/// For each append, whether it is among `deliveries`.
fn queued_flags(batch: &[Append], deliveries: &[Delivery]) -> Vec<bool> {
    let mut queued = vec![false; batch.len()];
    for &(index, _, _) in deliveries {
        queued[index] = true;
    }
    queued
}

/// The insert of deliveries: [`DELIVERY_ROW`], then their state, next attempt and times.
fn delivery_insert() -> String {
    format!(
        "INSERT INTO deliveries ({}, state, next_attempt_at, created_at, updated_at)",
        column_names(&DELIVERY_ROW)
    )
}

/// `deliveries` as the JSON rows of [`DELIVERY_ROW`].
fn delivery_rows_json(batch: &[Append], deliveries: &[Delivery]) -> Result<String> {
    let rows: Vec<_> = deliveries
        .iter()
        .map(|&(index, seq, channel)| {
            serde_json::json!({
                "conversation_id": batch[index].conversation.0,
                "seq": seq,
                "tenant_id": batch[index].tenant.0,
                "channel_id": channel.0,
            })
        })
        .collect();
    to_json(&rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_batch_size_is_written_for_a_few_row_counts_only() {
        for len in 1..=MAX_BATCH {
            let rows = statement_rows(Backend::Sqlite, len);
            assert!(STATEMENT_ROWS.contains(&rows), "{len} → {rows}");
            assert!(rows >= len && rows * 2 < len * 3, "{len} → {rows}");
            assert_eq!(statement_rows(Backend::Postgres, len), len);
        }
    }

    #[test]
    fn padding_repeats_the_last_key_or_adds_nothing_but_nones() {
        let keys = [4, 7, 9];
        let repeated: Vec<_> = repeating_last(&keys, 4).copied().collect();
        assert_eq!(repeated, [4, 7, 9, 9]);
        assert_eq!(repeating_last(&keys, 3).count(), 3);
        let padded: Vec<_> = padded_with_none(&keys, 4).collect();
        assert_eq!(padded, [Some(&4), Some(&7), Some(&9), None]);
    }
}
