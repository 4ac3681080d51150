//! Writers of one order take turns inside this process. A change is an optimistic
//! read-modify-write: with 50 clients patching one order at once, every round let one through
//! and sent the other 49 back to read again, and on SQLite (one writer, so one process) some ran
//! out of rounds and got 503. Queued here, writers in one process never collide; only writers in
//! other processes (PostgreSQL with several servers) still race, and the retries absorb that.

use std::hash::BuildHasher;

use tokio::sync::{Mutex, MutexGuard};

/// Turns are kept per stripe rather than per order, so that nothing grows with the number of
/// orders; with this many stripes two orders written at the same moment rarely share one.
const STRIPES: usize = 1024;

pub struct OrderTurns {
    stripes: Vec<Mutex<()>>,
    hasher: std::collections::hash_map::RandomState,
}

impl Default for OrderTurns {
    fn default() -> Self {
        OrderTurns {
            stripes: (0..STRIPES).map(|_| Mutex::new(())).collect(),
            hasher: Default::default(),
        }
    }
}

impl OrderTurns {
    /// Waits for this order's turn; the turn lasts as long as the guard.
    pub async fn take(&self, client_id: &str, order_id: &str) -> MutexGuard<'_, ()> {
        let stripe = self.hasher.hash_one((client_id, order_id)) as usize % STRIPES;
        self.stripes[stripe].lock().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn one_order_one_turn_at_a_time_others_unaffected() {
        let turns = OrderTurns::default();
        let held = turns.take("c1", "A").await;
        let same = tokio::time::timeout(Duration::from_millis(50), turns.take("c1", "A")).await;
        assert!(same.is_err(), "a second writer of A waits");
        drop(held);
        let again = tokio::time::timeout(Duration::from_millis(50), turns.take("c1", "A")).await;
        assert!(again.is_ok(), "and gets its turn once the first is done");
    }
}
