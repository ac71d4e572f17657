//! Tells whoever watches a conversation (long-polling widgets, widget sockets) that it
//! changed: a message was stored, or its state moved. Watchers hold an `Arc<Watch>`; the
//! registry keeps weak references so a conversation nobody watches costs nothing.
//!
//! A watch keeps the last few messages published, so a socket can forward them without
//! reading the store. Publishers may publish out of order (two requests committed in one
//! batch), so a watcher that finds a gap after the last message it sent reads the store
//! instead: the store is the truth, the watch a shortcut.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, Weak};

use switchboard_domain::conversation::Message;
use switchboard_domain::ConversationId;
use tokio::sync::futures::Notified;
use tokio::sync::Notify;

const FIRST_CLEANUP: usize = 1024;
/// Messages a watch keeps; a watcher further behind reads the store.
const RECENT: usize = 32;

pub struct ConversationHub {
    watched: Mutex<Watched>,
}

struct Watched {
    by_conversation: HashMap<ConversationId, Weak<Watch>>,
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

/// One conversation's signal and its latest messages.
#[derive(Default)]
pub struct Watch {
    notify: Notify,
    recent: Mutex<Recent>,
}

#[derive(Default)]
struct Recent {
    /// In sequence order.
    messages: VecDeque<Arc<Message>>,
    /// Counts changes other than messages (the conversation's state).
    changes: u64,
}

impl Watch {
    /// Register (`enable()`) before reading the store, then await: a change made in
    /// between is not missed.
    pub fn notified(&self) -> Notified<'_> {
        self.notify.notified()
    }

    /// The messages published after sequence number `seq`, when they follow it without a
    /// gap; `None` when the store must be read.
    pub fn after(&self, seq: i64) -> Option<Vec<Arc<Message>>> {
        let recent = self.lock();
        // A watcher is usually one message behind: start there, not at the oldest kept.
        let first_newer = recent.messages.partition_point(|m| m.seq <= seq);
        let newer: Vec<_> = recent.messages.range(first_newer..).cloned().collect();
        let contiguous = newer
            .iter()
            .zip(seq + 1..)
            .all(|(message, expected)| message.seq == expected);
        contiguous.then_some(newer)
    }

    /// How many changes other than messages were announced so far.
    pub fn changes(&self) -> u64 {
        self.lock().changes
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Recent> {
        self.recent
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl ConversationHub {
    /// The watch of `conversation`.
    pub fn watch(&self, conversation: ConversationId) -> Arc<Watch> {
        let mut watched = self.lock();
        if let Some(existing) = watched
            .by_conversation
            .get(&conversation)
            .and_then(Weak::upgrade)
        {
            return existing;
        }
        let watch = Arc::new(Watch::default());
        watched
            .by_conversation
            .insert(conversation, Arc::downgrade(&watch));
        if watched.by_conversation.len() >= watched.cleanup_at {
            watched
                .by_conversation
                .retain(|_, weak| weak.strong_count() > 0);
            watched.cleanup_at = (watched.by_conversation.len() * 2).max(FIRST_CLEANUP);
        }
        watch
    }

    /// A message was stored.
    pub fn publish(&self, message: &Message) {
        if let Some(watch) = self.watching(message.conversation_id) {
            {
                let mut recent = watch.lock();
                let at = recent.messages.partition_point(|m| m.seq < message.seq);
                if recent.messages.get(at).is_none_or(|m| m.seq != message.seq) {
                    recent.messages.insert(at, Arc::new(message.clone()));
                }
                if recent.messages.len() > RECENT {
                    recent.messages.pop_front();
                }
            }
            watch.notify.notify_waiters();
        }
    }

    /// The conversation changed otherwise (its state, its agent).
    pub fn changed(&self, conversation: ConversationId) {
        if let Some(watch) = self.watching(conversation) {
            watch.lock().changes += 1;
            watch.notify.notify_waiters();
        }
    }

    fn watching(&self, conversation: ConversationId) -> Option<Arc<Watch>> {
        self.lock()
            .by_conversation
            .get(&conversation)
            .and_then(Weak::upgrade)
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
        hub.changed(ConversationId(2));
        assert!(
            tokio::time::timeout(Duration::from_millis(20), waiting.as_mut())
                .await
                .is_err()
        );
        hub.changed(ConversationId(1));
        tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .unwrap();
        assert_eq!(notify.changes(), 1);
    }

    fn message(seq: i64) -> Message {
        use switchboard_domain::conversation::{Content, Sender};
        Message {
            conversation_id: ConversationId(1),
            seq,
            sender: Sender::Customer,
            client_message_id: format!("m{seq}"),
            content: Content::Text { text: "hi".into() },
            created_at: switchboard_domain::time::Timestamp(0),
        }
    }

    fn seqs(messages: Option<Vec<Arc<Message>>>) -> Option<Vec<i64>> {
        messages.map(|m| m.iter().map(|m| m.seq).collect())
    }

    #[test]
    fn published_messages_are_handed_on_only_without_a_gap() {
        let hub = ConversationHub::default();
        let watch = hub.watch(ConversationId(1));
        hub.publish(&message(6));
        assert_eq!(seqs(watch.after(5)), Some(vec![6]));
        assert_eq!(seqs(watch.after(4)), None, "5 is missing: read the store");
        // Published late, out of order: the gap closes.
        hub.publish(&message(5));
        assert_eq!(seqs(watch.after(4)), Some(vec![5, 6]));
        assert_eq!(seqs(watch.after(6)), Some(vec![]));
        for seq in 7..100 {
            hub.publish(&message(seq));
        }
        assert_eq!(seqs(watch.after(10)), None, "fell out of the recent ones");
        assert_eq!(seqs(watch.after(97)), Some(vec![98, 99]));
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
