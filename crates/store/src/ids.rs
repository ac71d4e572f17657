use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// Makes 63-bit ids ordered by creation time, unique across nodes that have different
/// node numbers: 41 bits of milliseconds since 2020-01-01, 10 bits of node, 12 of sequence.
pub struct IdGenerator {
    node: i64,
    last: Mutex<(i64, i64)>,
}

const EPOCH_MS: i64 = 1_577_836_800_000;
const NODE_BITS: u32 = 10;
const SEQUENCE_BITS: u32 = 12;
pub const MAX_NODE: u16 = (1 << NODE_BITS) - 1;

impl IdGenerator {
    pub fn new(node: u16) -> Self {
        Self {
            node: i64::from(node & MAX_NODE),
            last: Mutex::new((0, 0)),
        }
    }

    pub fn next(&self) -> i64 {
        let mut last = self
            .last
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut now = now_millis() - EPOCH_MS;
        // A clock that steps back must not repeat ids: keep counting from the last instant.
        if now <= last.0 {
            now = last.0;
            last.1 += 1;
            if last.1 >= 1 << SEQUENCE_BITS {
                now += 1;
                last.1 = 0;
            }
        } else {
            last.1 = 0;
        }
        last.0 = now;
        (now << (NODE_BITS + SEQUENCE_BITS)) | (self.node << SEQUENCE_BITS) | last.1
    }
}

pub fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_positive_unique_and_increasing() {
        let ids = IdGenerator::new(3);
        let mut previous = 0;
        for _ in 0..10_000 {
            let id = ids.next();
            assert!(id > previous);
            previous = id;
        }
    }

    #[test]
    fn different_nodes_never_collide_in_the_same_millisecond() {
        let (a, b) = (IdGenerator::new(1), IdGenerator::new(2));
        let first: std::collections::HashSet<i64> = (0..1000).map(|_| a.next()).collect();
        assert!((0..1000).all(|_| !first.contains(&b.next())));
    }
}
