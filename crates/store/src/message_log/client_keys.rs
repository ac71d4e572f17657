//! What SQLite's writer task knows of the client ids stored in its conversations, so
//! that it tells a client's retry without a unique index on them.
//!
//! On SQLite one node with one writer task stores every message, so nothing it does
//! not know of can store a client id between its batches. A unique index on the client
//! key (conversation, kind of sender, client id) cost each message a second B-tree leaf
//! written to the log at its commit, and a batch's messages are in as many
//! conversations as it has messages: about half of what a batch wrote, and of the
//! writer's time. The writer reads a conversation's client keys once, when it first
//! stores a message in it, and adds those it stores; a key it may have seen sends the
//! batch the locking way, which reads the stored messages and tells duplicates for sure.
//! PostgreSQL, which a cluster's nodes share, keeps its unique index and remembers no
//! keys.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, RandomState};

use switchboard_domain::ConversationId;

use super::{client_key, Append};

/// Past this many keys in all the writer forgets them, and reads each conversation's
/// again the next time it stores a message in it: a key takes about 16 bytes.
const REMEMBERED_KEYS: usize = 1 << 20;

/// The hashes of the client keys stored in the conversations whose keys were read.
#[derive(Default)]
pub(super) struct ClientKeys {
    hasher: RandomState,
    by_conversation: HashMap<ConversationId, HashSet<u64>>,
    count: usize,
}

impl ClientKeys {
    fn hash(&self, append: &Append) -> u64 {
        let (_, kind, client_id) = client_key(append);
        self.hasher.hash_one((kind, client_id))
    }

    /// Whether `append`'s client key may be stored already: its hash is among its
    /// conversation's, or that conversation's keys are not known.
    pub(super) fn may_hold(&self, append: &Append) -> bool {
        self.by_conversation
            .get(&append.conversation)
            .is_none_or(|keys| keys.contains(&self.hash(append)))
    }

    /// Learns every client key stored in `conversation`, as `(kind, client id)` pairs.
    pub(super) fn learn<'a>(
        &mut self,
        conversation: ConversationId,
        keys: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) {
        let hashes: HashSet<u64> = keys
            .into_iter()
            .map(|key| self.hasher.hash_one(key))
            .collect();
        if self.count + hashes.len() > REMEMBERED_KEYS {
            self.clear();
        }
        self.count += hashes.len();
        if let Some(replaced) = self.by_conversation.insert(conversation, hashes) {
            self.count -= replaced.len();
        }
    }

    /// Adds the key of `append`, just committed, to its conversation's, if they are known.
    pub(super) fn stored(&mut self, append: &Append) {
        let hash = self.hash(append);
        if let Some(keys) = self.by_conversation.get_mut(&append.conversation) {
            if keys.insert(hash) {
                self.count += 1;
            }
        }
    }

    pub(super) fn forget(&mut self, conversation: ConversationId) {
        if let Some(keys) = self.by_conversation.remove(&conversation) {
            self.count -= keys.len();
        }
    }

    pub(super) fn clear(&mut self) {
        self.by_conversation.clear();
        self.count = 0;
    }
}

#[cfg(test)]
mod tests {
    use switchboard_domain::conversation::{Content, NewMessage, Sender};
    use switchboard_domain::TenantId;
    use tokio::sync::oneshot;

    use super::*;

    fn append(conversation: i64, client_id: &str) -> Append {
        Append {
            tenant: TenantId(1),
            conversation: ConversationId(conversation),
            message: NewMessage {
                sender: Sender::Customer,
                client_message_id: client_id.into(),
                content: Content::Text { text: "hi".into() },
            },
            reply: oneshot::channel().0,
        }
    }

    #[test]
    fn a_key_is_new_only_in_a_conversation_whose_keys_are_known() {
        let mut keys = ClientKeys::default();
        assert!(keys.may_hold(&append(7, "c1")), "nothing known of 7 yet");
        keys.learn(ConversationId(7), [("customer", "c1")]);
        assert!(keys.may_hold(&append(7, "c1")));
        assert!(!keys.may_hold(&append(7, "c2")));
        keys.stored(&append(7, "c2"));
        assert!(keys.may_hold(&append(7, "c2")));
        keys.stored(&append(8, "c1"));
        assert!(keys.may_hold(&append(8, "c3")), "8's keys were never read");
        keys.forget(ConversationId(7));
        assert!(keys.may_hold(&append(7, "c3")));
        assert_eq!(keys.count, 0);
    }

    #[test]
    fn past_its_bound_it_forgets_every_conversation() {
        let mut keys = ClientKeys::default();
        keys.learn(ConversationId(1), [("customer", "c1")]);
        keys.learn(ConversationId(1), [("customer", "c1"), ("agent", "c1")]);
        assert_eq!(keys.count, 2, "keys read again replace those of before");
        let many: Vec<String> = (0..REMEMBERED_KEYS).map(|n| format!("m-{n}")).collect();
        keys.learn(
            ConversationId(2),
            many.iter().map(|id| ("customer", id.as_str())),
        );
        assert_eq!(keys.count, REMEMBERED_KEYS);
        assert!(keys.may_hold(&append(1, "c2")), "1 was forgotten");
        assert!(!keys.may_hold(&append(2, "c2")));
    }
}
