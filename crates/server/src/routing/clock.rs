//! Where routing reads the time and waits for its timers. The server runs on
//! [`SystemClock`]; tests drive a [`ManualClock`] to make minutes pass at once.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use switchboard_routing::Millis;
use tokio::sync::watch;

pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send>>;

pub trait Clock: Send + Sync {
    /// Milliseconds since the Unix epoch.
    fn now(&self) -> Millis;
    /// Completes once [`Clock::now`] has reached `at`.
    fn sleep_until(&self, at: Millis) -> Sleep;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Millis {
        switchboard_store::ids::now_millis()
    }

    fn sleep_until(&self, at: Millis) -> Sleep {
        let delay = u64::try_from(at - self.now()).unwrap_or(0);
        Box::pin(tokio::time::sleep(Duration::from_millis(delay)))
    }
}

/// A clock that moves only when told to.
pub struct ManualClock {
    now: AtomicI64,
    moved: watch::Sender<Millis>,
}

impl ManualClock {
    pub fn new(start: Millis) -> Self {
        Self {
            now: AtomicI64::new(start),
            moved: watch::Sender::new(start),
        }
    }

    pub fn advance(&self, by: Duration) {
        let by = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        let now = self.now.fetch_add(by, Ordering::SeqCst) + by;
        self.moved.send_replace(now);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Millis {
        self.now.load(Ordering::SeqCst)
    }

    fn sleep_until(&self, at: Millis) -> Sleep {
        let mut moved = self.moved.subscribe();
        Box::pin(async move {
            while *moved.borrow_and_update() < at {
                if moved.changed().await.is_err() {
                    return std::future::pending().await;
                }
            }
        })
    }
}
