//! A set of timers by due time: what the server's timer loop and the simulation's virtual
//! clock both keep. Setting a key again moves it; timers due at the same instant come out
//! in the order they were set.

use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;

use crate::Millis;

#[derive(Debug)]
pub struct Deadlines<K> {
    by_due: BTreeMap<(Millis, u64), K>,
    by_key: HashMap<K, (Millis, u64)>,
    next_order: u64,
}

impl<K> Default for Deadlines<K> {
    fn default() -> Self {
        Self {
            by_due: BTreeMap::new(),
            by_key: HashMap::new(),
            next_order: 0,
        }
    }
}

impl<K: Copy + Eq + Hash> Deadlines<K> {
    pub fn set(&mut self, key: K, at: Millis) {
        self.cancel(key);
        self.next_order += 1;
        self.by_due.insert((at, self.next_order), key);
        self.by_key.insert(key, (at, self.next_order));
    }

    /// Answers whether the key was set.
    pub fn cancel(&mut self, key: K) -> bool {
        match self.by_key.remove(&key) {
            Some(due) => {
                self.by_due.remove(&due);
                true
            }
            None => false,
        }
    }

    /// When the earliest timer is due.
    pub fn next_due(&self) -> Option<Millis> {
        self.by_due.keys().next().map(|(at, _)| *at)
    }

    /// Takes the earliest timer if it is due at `now`, with the instant it was due.
    pub fn pop_due(&mut self, now: Millis) -> Option<(K, Millis)> {
        let (&(at, order), _) = self.by_due.first_key_value()?;
        if at > now {
            return None;
        }
        let key = self.by_due.remove(&(at, order))?;
        self.by_key.remove(&key);
        Some((key, at))
    }

    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }
}
