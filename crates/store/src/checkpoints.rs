//! Checkpoints of SQLite's write-ahead log, off the message writer's path.
//!
//! A commit appends every page it changed to the log; a checkpoint copies the newest
//! version of each page back into the database file, and the first write after a
//! checkpoint that copied the whole log, with no reader still in it, starts the log from
//! its beginning again. SQLite's default does this inside whichever commit takes the log
//! past 1,000 pages, which under load is every few batches of messages.
//!
//! Here a task of its own copies what was committed every second or sooner (see
//! [`LONGEST_WAIT`]), with passive checkpoints that never stand in a writer's way.
//! Under a steady stream of commits those never copy the whole log (more is committed
//! while they copy), and SQLite writes the database file to disk (`fsync`) only in a
//! checkpoint that reaches the end of the log. So the log used to start over only when
//! a commit took it past SQLite's own limit and that commit copied the rest and wrote
//! out every page copied since the log last started: at 5,000 messages/s a 4–36 ms
//! `fsync` in the message writer every 1.5 s, the longest of steady chat's delays
//! (2026-12-02). Now, once the log is long, the task copies again until one pass finds
//! little new, writes the database file out itself, and hands the last few frames to
//! the message writer, which copies them between two batches on its own connection:
//! with no commit in between that copy reaches the end, its `fsync` has only those
//! frames' pages left to write, and the next commit starts the log over.

use std::fs::File;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::{AnyPool, Row};

/// How large the log may grow (about 320 MiB) before a commit checkpoints it itself: a
/// bound for when the handover fails, twice the length at which it is made.
pub(crate) const WRITER_CHECKPOINT_PAGES: u32 = 80_000;

/// When the log is to start over.
#[derive(Clone, Copy)]
struct Restart {
    /// From this length on, in frames.
    from_frames: i64,
    /// A pass that copied fewer new frames than this leaves about as few to the writer.
    little_left: i64,
    /// Passes at most, one after the other, to get there.
    passes: usize,
}

/// About 160 MiB of log, two seconds of steady chat at 5,000 messages/s (as long as
/// before): in interleaved runs its steady p99 was lower than with a quarter of it,
/// which starts over four times as often (6.6–9.1 against 7.8–11.7 ms, 2026-12-02).
const RESTART: Restart = Restart {
    from_frames: 40_000,
    little_left: 512,
    passes: 8,
};

/// The longest the task waits between two passes. A pass copies the newest version of
/// each page committed since the one before, and steady chat's commits change the same
/// few thousand pages again and again: passes a second apart copy less than four a
/// quarter of a second apart did, and the message writer shares the machine with them
/// less often. In ten interleaved pairs of runs steady chat's customer-to-agent p99 was
/// 3.9–6.4 ms (median 4.3) with passes a second apart, against 5.0–8.8 ms (median 5.6)
/// a quarter of a second apart (2026-12-03).
const LONGEST_WAIT: Duration = Duration::from_secs(1);

/// The shortest, for a log that is long already.
const SHORTEST_WAIT: Duration = Duration::from_millis(100);

/// How long the task waits before its next pass: [`LONGEST_WAIT`], unless the log, at
/// the rate it grew, is long enough to start over sooner. At the highest rates (65,000
/// frames a second) the log would otherwise pass [`WRITER_CHECKPOINT_PAGES`] between two
/// passes, and a commit would checkpoint it.
fn wait_before_next_pass(log: i64, frames_per_second: f64, restart: Restart) -> Duration {
    if frames_per_second <= 0.0 {
        return LONGEST_WAIT;
    }
    let left = (restart.from_frames - log).max(0) as f64;
    Duration::from_secs_f64(left / frames_per_second).clamp(SHORTEST_WAIT, LONGEST_WAIT)
}

/// The checkpoint the message writer is asked to finish between two batches.
#[derive(Default)]
pub(crate) struct Handover(AtomicBool);

impl Handover {
    /// Whether a checkpoint waits to be finished, clearing the request.
    pub(crate) fn take(&self) -> bool {
        // Read first: asked after every batch, it is rarely set.
        self.0.load(Ordering::Acquire) && self.0.swap(false, Ordering::AcqRel)
    }

    fn offer(&self) {
        self.0.store(true, Ordering::Release);
    }
}

/// Copies the log into the database file from the writer's connection `write`: there,
/// between transactions, no commit can come in while it copies. A reader still in the
/// log, or the checkpointing task's own pass, leaves it for the next request.
pub(crate) async fn finish(write: &AnyPool) {
    match checkpoint(write).await {
        Ok(pass) => tracing::trace!(
            pages = pass.log,
            copied = pass.copied,
            "write-ahead log checkpoint finished by the writer"
        ),
        Err(error) => {
            tracing::warn!(%error, "finishing a checkpoint of the write-ahead log failed")
        }
    }
}

/// The task copying the log into the database file (see [`wait_before_next_pass`]); it
/// stops when its pool is closed or it is dropped.
pub(crate) struct Checkpointer {
    pool: AnyPool,
    task: tokio::task::AbortHandle,
    /// The database file, to write out what the passes copied into it. Closing a file
    /// releases every lock the process holds on it, SQLite's connections' too, so it is
    /// closed only by [`Checkpointer::release_file`] once every connection is closed,
    /// and never if the store is dropped without closing.
    database: Mutex<Option<Arc<File>>>,
    handover: Arc<Handover>,
}

impl Checkpointer {
    /// `database` is `None` for a database in memory.
    pub(crate) fn start(pool: AnyPool, database: Option<File>) -> Self {
        let database = database.map(Arc::new);
        let handover = Arc::<Handover>::default();
        let task = tokio::spawn(copy_while_open(
            pool.clone(),
            database.clone(),
            handover.clone(),
        ));
        Self {
            pool,
            task: task.abort_handle(),
            database: Mutex::new(database),
            handover,
        }
    }

    /// The requests for the message writer to finish a checkpoint.
    pub(crate) fn handover(&self) -> Arc<Handover> {
        self.handover.clone()
    }

    pub(crate) async fn close(&self) {
        self.pool.close().await;
    }

    /// Closes the database file; to be called once no connection to it is open.
    pub(crate) fn release_file(&self) {
        self.task.abort();
        self.database
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.task.abort();
        let database = self
            .database
            .get_mut()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(file) = database.take() {
            // Connections may still be closing: see `database`.
            std::mem::forget(file);
        }
    }
}

/// What one passive checkpoint found: the log's length and how much of it is copied,
/// in frames; both -1 when another checkpoint was running.
#[derive(Clone, Copy)]
struct Pass {
    log: i64,
    copied: i64,
}

async fn checkpoint(pool: &AnyPool) -> Result<Pass, sqlx::Error> {
    let row = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
        .fetch_one(pool)
        .await?;
    Ok(Pass {
        log: row.try_get(1)?,
        copied: row.try_get(2)?,
    })
}

async fn copy_while_open(pool: AnyPool, database: Option<Arc<File>>, handover: Arc<Handover>) {
    let mut growth = Growth::new();
    let mut wait = LONGEST_WAIT;
    loop {
        tokio::time::sleep(wait).await;
        if pool.is_closed() {
            return;
        }
        match catch_up(&pool, database.as_ref(), &handover, RESTART).await {
            // Another checkpoint was running: the log's length is not known.
            Ok(caught) if caught.found < 0 => wait = SHORTEST_WAIT,
            Ok(caught) => {
                let frames_per_second = growth.observe(caught);
                wait = wait_before_next_pass(caught.left, frames_per_second, RESTART);
            }
            Err(_) if pool.is_closed() => return,
            Err(error) => {
                tracing::warn!(%error, "checkpointing the write-ahead log failed");
                wait = LONGEST_WAIT;
            }
        }
    }
}

/// How fast the log grows, from one catch-up to the next.
struct Growth {
    left: i64,
    left_at: tokio::time::Instant,
    frames_per_second: f64,
}

impl Growth {
    fn new() -> Self {
        Self {
            left: 0,
            left_at: tokio::time::Instant::now(),
            frames_per_second: 0.0,
        }
    }

    /// The rate since the last catch-up, given what this one found and left.
    fn observe(&mut self, caught: Caught) -> f64 {
        let elapsed = self.left_at.elapsed().as_secs_f64();
        self.frames_per_second = if caught.found >= self.left {
            (caught.found - self.left) as f64 / elapsed
        } else {
            // Started over in between, at a moment not known: it grew at least this
            // fast, and likely as fast as before.
            f64::max(self.frames_per_second, caught.found as f64 / elapsed)
        };
        (self.left, self.left_at) = (caught.left, tokio::time::Instant::now());
        self.frames_per_second
    }
}

/// The log's length, in frames, as a catch-up found it and as it left it.
#[derive(Clone, Copy, Debug)]
struct Caught {
    found: i64,
    /// No frames once it is handed over to start over.
    left: i64,
}

/// One pass; when the log is long, more until one copies little, then the pages
/// copied are written out and the rest is handed over.
async fn catch_up(
    pool: &AnyPool,
    database: Option<&Arc<File>>,
    handover: &Handover,
    restart: Restart,
) -> Result<Caught, sqlx::Error> {
    let mut last = checkpoint(pool).await?;
    tracing::trace!(
        pages = last.log,
        copied = last.copied,
        "write-ahead log checkpointed"
    );
    let found = last.log;
    if last.log < restart.from_frames {
        return Ok(Caught { found, left: found });
    }
    for _ in 0..restart.passes {
        let pass = checkpoint(pool).await?;
        // Less copied than is there (a reader still on an older snapshot), or a log
        // started over meanwhile: nothing to hand over.
        if pass.copied < pass.log || pass.log < last.log {
            return Ok(Caught {
                found,
                left: pass.log,
            });
        }
        let fresh = pass.copied - last.copied;
        last = pass;
        if fresh < restart.little_left {
            write_out(database).await?;
            handover.offer();
            return Ok(Caught { found, left: 0 });
        }
    }
    Ok(Caught {
        found,
        left: last.log,
    })
}

/// Writes the pages copied into the database file to disk, on a thread that may block.
async fn write_out(database: Option<&Arc<File>>) -> Result<(), sqlx::Error> {
    let Some(file) = database.cloned() else {
        return Ok(());
    };
    tokio::task::spawn_blocking(move || file.sync_data())
        .await
        .map_err(|joined| sqlx::Error::Io(std::io::Error::other(joined)))??;
    Ok(())
}

/// The database file `pool` is connected to, opened to write it out; `None` in memory.
pub(crate) async fn database_file(pool: &AnyPool) -> Result<Option<File>, sqlx::Error> {
    let path: String =
        sqlx::query_scalar("SELECT file FROM pragma_database_list WHERE name = 'main'")
            .fetch_one(pool)
            .await?;
    if path.is_empty() {
        return Ok(None);
    }
    Ok(Some(File::open(path)?))
}

#[cfg(test)]
mod tests {
    use sqlx::Executor;

    use super::*;

    /// A WAL database in a file, with a writer's pool and the checkpointing task's.
    async fn database() -> (tempfile::TempDir, AnyPool, AnyPool) {
        sqlx::any::install_default_drivers();
        let dir = tempfile::tempdir().expect("a temporary directory");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("log.db").display());
        let write = crate::sqlite_pool(1, 1024)
            .connect(&url)
            .await
            .expect("the writer");
        let checkpoints = crate::sqlite_pool(1, 1024)
            .connect(&url)
            .await
            .expect("the task");
        write
            .execute("CREATE TABLE notes (text TEXT NOT NULL)")
            .await
            .expect("a table");
        (dir, write, checkpoints)
    }

    async fn commit_notes(write: &AnyPool, commits: usize) {
        for _ in 0..commits {
            write
                .execute("INSERT INTO notes (text) VALUES (printf('%.2000c', 'x'))")
                .await
                .expect("a commit");
        }
    }

    const SOON: Restart = Restart {
        from_frames: 8,
        little_left: 64,
        passes: 4,
    };

    #[tokio::test]
    async fn a_long_log_is_handed_to_the_writer_which_lets_it_start_over() {
        let (_dir, write, checkpoints) = database().await;
        commit_notes(&write, 20).await;
        let database = database_file(&checkpoints)
            .await
            .expect("the file")
            .map(Arc::new);
        assert!(
            database.is_some(),
            "a file database has a file to write out"
        );
        let handover = Handover::default();
        let caught = catch_up(&checkpoints, database.as_ref(), &handover, SOON)
            .await
            .expect("the passes");
        assert!(caught.found >= SOON.from_frames, "{caught:?}");
        assert_eq!(caught.left, 0, "handed over to start over");
        assert!(
            handover.take(),
            "the log was long and nothing was left to copy"
        );
        assert!(!handover.take(), "a request is taken once");
        // Batches the writer committed before it saw the request (the first started
        // the log over, the checkpoint having copied it all): not copied yet.
        commit_notes(&write, 10).await;

        finish(&write).await;
        commit_notes(&write, 1).await;
        let after = checkpoint(&checkpoints).await.expect("a pass");
        assert!(
            (1..SOON.from_frames).contains(&after.log),
            "the commit after the writer's checkpoint starts the log over: {} frames",
            after.log
        );
        let notes: i64 = sqlx::query_scalar("SELECT count(*) FROM notes")
            .fetch_one(&write)
            .await
            .expect("the notes");
        assert_eq!(notes, 31);
    }

    #[tokio::test]
    async fn a_short_log_is_only_copied() {
        let (_dir, write, checkpoints) = database().await;
        commit_notes(&write, 1).await;
        let handover = Handover::default();
        let caught = catch_up(&checkpoints, None, &handover, SOON)
            .await
            .expect("the pass");
        assert!(!handover.take());
        assert!(caught.found > 0, "{caught:?}");
        assert_eq!(caught.left, caught.found, "left as it was");
        let pass = checkpoint(&checkpoints).await.expect("a pass");
        assert_eq!(pass.copied, pass.log, "the one pass copied it all");
    }

    #[test]
    fn the_next_pass_comes_before_the_log_is_long_enough_to_start_over() {
        let restart = RESTART;
        assert_eq!(
            wait_before_next_pass(1_000, 5_000.0, restart),
            LONGEST_WAIT,
            "slow growth: a second"
        );
        assert_eq!(
            wait_before_next_pass(0, 80_000.0, restart),
            Duration::from_millis(500),
            "the log reaches its length in half a second"
        );
        assert_eq!(
            wait_before_next_pass(restart.from_frames + 1, 80_000.0, restart),
            SHORTEST_WAIT,
            "long already"
        );
        assert_eq!(
            wait_before_next_pass(0, 0.0, restart),
            LONGEST_WAIT,
            "no growth"
        );
    }

    #[tokio::test]
    async fn a_database_in_memory_has_no_file_to_write_out() {
        sqlx::any::install_default_drivers();
        let memory = crate::sqlite_pool(1, 1024)
            .connect("sqlite::memory:")
            .await
            .expect("a database in memory");
        assert!(database_file(&memory).await.expect("the list").is_none());
    }
}
