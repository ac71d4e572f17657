//! Switchboard's persistence. One [`Store`] over SQLite (the embedded default) or
//! PostgreSQL, chosen from the database URL; each backend has its own embedded,
//! append-only migrations, applied when the store opens.
//!
//! Tenant data is reached only through [`Store::tenant`], whose every query is bound to
//! that tenant: there is no method that reads a tenant's records without naming it.
//! Cross-record rules (does the queue exist, is it of the right type, the tenant's agent
//! limits) are checked inside the writing transaction with the domain's rule functions,
//! so concurrent changes cannot slip past them.

mod channels;
mod checkpoints;
mod conversations;
mod employees;
mod error;
mod exports;
mod files;
pub mod ids;
mod message_log;
mod platform;
mod platform_messages;
mod queues;
mod routes;
mod routing;
mod scoped;
mod sealing;
mod text;
mod widget;

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Connection, Executor};
use switchboard_domain::TenantId;

pub use channels::ChannelFilter;
pub use conversations::Appended;
pub use employees::EmployeeFilter;
pub use error::{Result, StoreError};
pub use ids::IdGenerator;
pub use message_log::{MessageListener, StoredMessage};
pub use platform::{AccountRecord, AccountRole, NewAccount, Platform};
pub use platform_messages::{DeliveryChange, DeliveryOutcome, DueDelivery, InboundEvent};
pub use queues::QueueFilter;
pub use routing::{ContactEvent, Opening, Placement, Routed, RoutingRecord};
pub use sealing::KEY_BYTES;
pub use widget::{Admitted, ChatOpening, UsedSignature, WebChatAdmission, WidgetSession};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct StoreOptions {
    /// Key that seals channel credentials; every node of an installation needs the same.
    pub secret_key: [u8; KEY_BYTES],
    /// Distinguishes nodes in generated ids; give each node of a cluster its own.
    pub node_id: u16,
}

pub struct Store {
    /// SQLite allows one writer at a time: writes go through a one-connection pool so
    /// they queue in the application instead of failing with SQLITE_BUSY. On PostgreSQL
    /// both are the same pool.
    write: AnyPool,
    read: AnyPool,
    /// SQLite's log checkpoints, on a connection of their own (see [`checkpoints`]).
    checkpoints: Option<checkpoints::Checkpointer>,
    backend: Backend,
    ids: IdGenerator,
    secrets: sealing::SecretBox,
    file_link_key: [u8; KEY_BYTES],
    messages: message_log::MessageLog,
}

impl Store {
    /// Opens the database at `url` (`sqlite://path` or `postgres://…`), creating a
    /// SQLite file if needed, and applies pending migrations. Messages are written by a
    /// task of its own, started here on the current Tokio runtime.
    pub async fn open(url: &str, options: StoreOptions) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError::UnsupportedUrl(redact_url(url)));
        };
        let connect = AnyConnectOptions::from_str(&sqlite_create_mode(url, backend))?;
        let (write, read, checkpoints) = match backend {
            Backend::Sqlite => {
                // Kept open for the store's life: sqlx closes a connection after 30
                // minutes by default, and the writer's cache with it.
                let write = sqlite_pool(1, WRITER_CACHE_KIB)
                    .max_lifetime(None)
                    .idle_timeout(None)
                    .connect_with(connect.clone())
                    .await?;
                let checkpoints = sqlite_pool(1, DEFAULT_CACHE_KIB)
                    .connect_with(connect.clone())
                    .await?;
                let read = sqlite_pool(4, DEFAULT_CACHE_KIB)
                    .connect_with(connect)
                    .await?;
                (write, read, Some(checkpoints))
            }
            Backend::Postgres => {
                let pool = AnyPoolOptions::new()
                    .max_connections(POSTGRES_CONNECTIONS)
                    // All opened here rather than on first use: a backend is a process
                    // PostgreSQL starts, and the first customers after a start would
                    // otherwise wait for one each (the load benchmark's slowest openings).
                    .min_connections(POSTGRES_CONNECTIONS)
                    .acquire_timeout(Duration::from_secs(10))
                    // sqlx pings every connection it hands out, a round trip per
                    // transaction; one busy a moment ago is alive, so only a connection
                    // idle for a while (the server may have gone away since) is checked.
                    .test_before_acquire(false)
                    .before_acquire(|conn, meta| {
                        Box::pin(async move {
                            if meta.idle_for > PING_CONNECTIONS_IDLE_FOR {
                                conn.ping().await?;
                            }
                            Ok(true)
                        })
                    })
                    .connect_with(connect)
                    .await?;
                (pool.clone(), pool, None)
            }
        };
        match backend {
            Backend::Sqlite => sqlx::migrate!("./migrations/sqlite").run(&write).await?,
            Backend::Postgres => sqlx::migrate!("./migrations/postgres").run(&write).await?,
        }
        let secrets = sealing::SecretBox::new(&options.secret_key);
        let file_link_key = sealing::derive_key(&options.secret_key, "file links");
        let checkpoints = match checkpoints {
            Some(pool) => {
                let database = checkpoints::database_file(&write).await?;
                Some(checkpoints::Checkpointer::start(pool, database))
            }
            None => None,
        };
        let handover = checkpoints
            .as_ref()
            .map(checkpoints::Checkpointer::handover);
        let messages = message_log::MessageLog::start(write.clone(), backend, handover);
        Ok(Self {
            messages,
            write,
            read,
            checkpoints,
            backend,
            ids: IdGenerator::new(options.node_id),
            secrets,
            file_link_key,
        })
    }

    /// Has `listener` hear of every message committed from now on (replacing an earlier
    /// listener).
    pub fn listen_to_messages(&self, listener: MessageListener) {
        self.messages.listen(listener);
    }

    /// The key that signs links to conversation files, the same on every node of an
    /// installation (derived from its secret key).
    pub fn file_link_key(&self) -> &[u8; KEY_BYTES] {
        &self.file_link_key
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Installation-wide records: tenant spaces, accounts for sign-in, sessions.
    pub fn platform(&self) -> Platform<'_> {
        Platform { store: self }
    }

    /// The records of one tenant, and only of it.
    pub fn tenant(&self, tenant: TenantId) -> TenantScope<'_> {
        TenantScope {
            store: self,
            tenant,
        }
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.read).await?;
        Ok(())
    }

    /// Stores what was handed over already (routing's notices, say), then closes.
    pub async fn close(&self) {
        self.messages.flush().await;
        self.write.close().await;
        if let Some(checkpoints) = &self.checkpoints {
            checkpoints.close().await;
        }
        self.read.close().await;
        if let Some(checkpoints) = &self.checkpoints {
            checkpoints.release_file();
        }
    }

    fn next_id(&self) -> i64 {
        self.ids.next()
    }

    /// Serialises writers of one tenant on PostgreSQL, for rules that count records
    /// (agent limits). SQLite has a single writer already.
    async fn lock_tenant(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        tenant: TenantId,
    ) -> Result<()> {
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT id FROM tenants WHERE id = $1 FOR UPDATE")
                .bind(tenant.0)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }
}

/// Every item of a paged listing, read a page of 500 at a time.
pub async fn all_pages<T, Fut>(
    mut fetch: impl FnMut(switchboard_domain::paging::PageRequest) -> Fut,
) -> Result<Vec<T>>
where
    Fut: std::future::Future<Output = Result<switchboard_domain::paging::Page<T>>>,
{
    let mut request = switchboard_domain::paging::PageRequest {
        page: 1,
        page_size: 500,
    };
    let mut all = Vec::new();
    loop {
        let page = fetch(request).await?;
        all.extend(page.items);
        if i64::from(request.page * request.page_size) >= page.total {
            return Ok(all);
        }
        request.page += 1;
    }
}

/// A handle on one tenant's records; see [`Store::tenant`].
pub struct TenantScope<'a> {
    store: &'a Store,
    tenant: TenantId,
}

impl TenantScope<'_> {
    pub fn id(&self) -> TenantId {
        self.tenant
    }
}

/// The PostgreSQL connections of a node, reads and writes together.
const POSTGRES_CONNECTIONS: u32 = 16;

/// A PostgreSQL connection idle for longer is checked before it is used.
const PING_CONNECTIONS_IDLE_FOR: Duration = Duration::from_secs(5);

/// SQLite's page cache per connection, SQLite's default.
const DEFAULT_CACHE_KIB: u32 = 2 * 1024;

/// The write connection's page cache. Each batch of messages changes a leaf of each index
/// keyed by conversation for every conversation in it; with the default cache those
/// pages were mostly gone by the next batch and read back from the file (a seventh of
/// the writer thread's time at 5,000 customer messages/s).
const WRITER_CACHE_KIB: u32 = 64 * 1024;

fn sqlite_pool(connections: u32, cache_kib: u32) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(connections)
        .acquire_timeout(Duration::from_secs(30))
        // The database is a file in this process: there is no connection to lose, and
        // the ping sqlx would send first costs a round trip to the connection's thread.
        .test_before_acquire(false)
        .after_connect(move |conn, _| {
            Box::pin(async move {
                // busy_timeout first, so that switching the journal waits out a busy file;
                // FULL: a commit is on disk before it is acknowledged, even on power loss.
                // temp_store: a message batch's multi-row statements keep a statement
                // journal of hundreds of KiB, which would otherwise be a file created,
                // written and deleted for every statement.
                for pragma in [
                    "PRAGMA busy_timeout = 5000",
                    "PRAGMA journal_mode = WAL",
                    "PRAGMA synchronous = FULL",
                    "PRAGMA foreign_keys = ON",
                    "PRAGMA temp_store = MEMORY",
                ] {
                    conn.execute(pragma).await?;
                }
                let checkpoint_at = format!(
                    "PRAGMA wal_autocheckpoint = {}",
                    checkpoints::WRITER_CHECKPOINT_PAGES
                );
                conn.execute(checkpoint_at.as_str()).await?;
                // A negative size is in KiB.
                let cache = format!("PRAGMA cache_size = -{cache_kib}");
                conn.execute(cache.as_str()).await?;
                Ok(())
            })
        })
}

fn sqlite_create_mode(url: &str, backend: Backend) -> String {
    if backend == Backend::Sqlite && !url.contains("mode=") && !url.contains(":memory:") {
        let separator = if url.contains('?') { '&' } else { '?' };
        return format!("{url}{separator}mode=rwc");
    }
    url.to_owned()
}

/// The URL without its password, for messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_redacted_for_messages() {
        assert_eq!(
            redact_url("postgres://bob:hunter2@db/x"),
            "postgres://bob:***@db/x"
        );
        assert_eq!(redact_url("postgres://bob@db/x"), "postgres://bob@db/x");
        assert_eq!(
            redact_url("sqlite://./data/switchboard.db"),
            "sqlite://./data/switchboard.db"
        );
    }

    /// The rebuilds of SQLite's messages table (its conversation checked at commit, then
    /// its client keys told by the writer) keep every message, and the keys still hold
    /// and still cascade.
    #[tokio::test]
    async fn sqlite_messages_survive_their_table_being_built_again() {
        use sqlx::Executor;

        sqlx::any::install_default_drivers();
        let dir = tempfile::tempdir().expect("a temporary directory");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("old.db").display());
        let pool = sqlite_pool(1, 1024)
            .connect(&url)
            .await
            .expect("the database");
        let mut migrator = sqlx::migrate!("./migrations/sqlite");
        let before_rebuild = migrator
            .migrations
            .iter()
            .position(|m| m.description.contains("checked at commit"))
            .expect("the rebuild's migration");
        let all = migrator.migrations.clone();
        migrator.migrations = all[..before_rebuild].to_vec().into();
        migrator
            .run(&pool)
            .await
            .expect("the schema before the rebuild");
        for statement in [
            "INSERT INTO tenants (id, name, settings, limits, created_at) VALUES (1, 't', '{}', '{}', 0)",
            "PRAGMA foreign_keys = OFF",
            "INSERT INTO conversations (id, tenant_id, channel_id, customer_id, state, created_at, updated_at) \
             VALUES (7, 1, 1, 1, 'queued', 0, 0)",
            "PRAGMA foreign_keys = ON",
            "INSERT INTO messages VALUES (7, 1, 1, 'customer', NULL, 'c1', '{}', 5), (7, 1, 2, 'agent', 3, 'c1', '{}', 6)",
        ] {
            pool.execute(statement).await.expect(statement);
        }
        migrator.migrations = all;
        migrator.run(&pool).await.expect("the rebuild");

        let kept: Vec<(i64, String)> =
            sqlx::query_as("SELECT seq, sender_kind FROM messages ORDER BY seq")
                .fetch_all(&pool)
                .await
                .expect("the messages");
        assert_eq!(kept, [(1, "customer".into()), (2, "agent".into())]);
        let orphan = "INSERT INTO messages VALUES (99, 1, 1, 'customer', NULL, 'x', '{}', 5)";
        assert!(pool.execute(orphan).await.is_err(), "the key still holds");
        let same_number = "INSERT INTO messages VALUES (7, 1, 2, 'customer', NULL, 'c2', '{}', 7)";
        assert!(
            pool.execute(same_number).await.is_err(),
            "sequence numbers still unique"
        );
        pool.execute("DELETE FROM conversations WHERE id = 7")
            .await
            .expect("the conversation deleted");
        let left: i64 = sqlx::query_scalar("SELECT count(*) FROM messages")
            .fetch_one(&pool)
            .await
            .expect("the count");
        assert_eq!(left, 0, "its messages went with it");
    }
}
