//! Wakes whoever waits for a conversation's next message (long-polling widgets now, the
//! agent's sockets later). Waiters hold the `Notify`; the registry keeps weak references so
//! a conversation nobody watches costs nothing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use switchboard_domain::ConversationId;
use tokio::sync::Notify;

const FIRST_CLEANUP: usize = 1024;

pub struct ConversationHub {
    watched: Mutex<Watched>,
}

struct Watched {
    by_conversation: HashMap<ConversationId, Weak<Notify>>,
    cleanup_at: usize,
}

impl Default for ConversationHub {
    fn default() -> Self {
        Self {
            watched: Mutex::new(Watched {
                by_conversation: HashMap::new(),
                cleanup_at: FIRST_CLEANUP,
            }),
        }
    }
}

impl ConversationHub {
    /// The signal for `conversation`. Register interest (`notified()` + `enable()`) before
    /// reading the store, then wait: a message stored in between is not missed.
    pub fn watch(&self, conversation: ConversationId) -> Arc<Notify> {
        let mut watched = self.lock();
        if let Some(existing) = watched
            .by_conversation
            .get(&conversation)
            .and_then(Weak::upgrade)
        {
            return existing;
        }
        let notify = Arc::new(Notify::new());
        watched
            .by_conversation
            .insert(conversation, Arc::downgrade(&notify));
        if watched.by_conversation.len() >= watched.cleanup_at {
            watched
                .by_conversation
                .retain(|_, weak| weak.strong_count() > 0);
            watched.cleanup_at = (watched.by_conversation.len() * 2).max(FIRST_CLEANUP);
        }
        notify
    }

    /// A message was stored in `conversation`.
    pub fn notify(&self, conversation: ConversationId) {
        if let Some(notify) = self
            .lock()
            .by_conversation
            .get(&conversation)
            .and_then(Weak::upgrade)
        {
            notify.notify_waiters();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Watched> {
        self.watched
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn a_registered_waiter_is_woken_and_others_are_not() {
        let hub = ConversationHub::default();
        let notify = hub.watch(ConversationId(1));
        let waiting = notify.notified();
        tokio::pin!(waiting);
        waiting.as_mut().enable();
        hub.notify(ConversationId(2));
        assert!(
            tokio::time::timeout(Duration::from_millis(20), waiting.as_mut())
                .await
                .is_err()
        );
        hub.notify(ConversationId(1));
        tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .unwrap();
    }

    #[test]
    fn unwatched_conversations_are_forgotten() {
        let hub = ConversationHub::default();
        for n in 0..(FIRST_CLEANUP as i64 * 3) {
            drop(hub.watch(ConversationId(n)));
        }
        assert!(hub.lock().by_conversation.len() <= FIRST_CLEANUP);
    }
}
