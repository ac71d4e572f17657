//! Checkpoints of SQLite's write-ahead log, off the message writer's path.
//!
//! A commit appends every page it changed to the log; a checkpoint copies the newest
//! version of each page back into the database file, and a commit after a complete one
//! starts the log from its beginning again. SQLite's default does this inside whichever
//! commit takes the log past 1,000 pages, which under load is every few batches of
//! messages. Letting the log grow to `WRITER_CHECKPOINT_PAGES` (about 160 MiB, where
//! PostgreSQL's default allows 1 GiB) raised what the message writer stores by about a
//! fifth (`cargo bench -p switchboard-store`); so that the commit reaching that size does
//! not stall the messages behind it while it copies the whole log, a task of its own
//! copies what was committed every quarter second, with passive checkpoints that never
//! stand in a writer's way, and leaves that commit little to do.

use std::time::Duration;

use sqlx::{AnyPool, Row};

/// How large the log may grow before a commit checkpoints it itself.
pub(crate) const WRITER_CHECKPOINT_PAGES: u32 = 40_000;

/// How often the task copies what was committed.
const EVERY: Duration = Duration::from_millis(250);

/// The task copying the log into the database file every [`EVERY`]; it stops when its
/// pool is closed or it is dropped.
pub(crate) struct Checkpointer {
    pool: AnyPool,
    task: tokio::task::AbortHandle,
}

impl Checkpointer {
    pub(crate) fn start(pool: AnyPool) -> Self {
        let task = tokio::spawn(copy_while_open(pool.clone())).abort_handle();
        Self { pool, task }
    }

    pub(crate) async fn close(&self) {
        self.pool.close().await;
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn copy_while_open(pool: AnyPool) {
    let mut ticks = tokio::time::interval(EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if pool.is_closed() {
            return;
        }
        match sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .fetch_one(&pool)
            .await
        {
            Ok(row) => {
                let pages: i64 = row.try_get(1).unwrap_or_default();
                let copied: i64 = row.try_get(2).unwrap_or_default();
                tracing::trace!(pages, copied, "write-ahead log checkpointed");
            }
            Err(_) if pool.is_closed() => return,
            Err(error) => tracing::warn!(%error, "checkpointing the write-ahead log failed"),
        }
    }
}
