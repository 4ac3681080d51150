//! Searches may hold at most half of the store's connections at once; the rest stay for the
//! short statements (gets, creates, updates), which hold a connection for well under a
//! millisecond each.
//!
//! A search is the one statement a client can make long: tens of milliseconds over a large
//! window, up to the statement deadline for the largest allowed shape. Without a share, one
//! tenant's concurrent searches took every connection and every other tenant's gets queued
//! behind them into the acquire timeout (503). Half, not more: a search is CPU work on the
//! database's cores, so more of them at once does not finish them sooner, it only slows
//! everyone's statements. A search beyond the share waits for a place up to the acquire
//! timeout, then is 503 like any request the store cannot serve in time; the client that sent
//! too many is the one that waits.

use std::time::Duration;

use tokio::sync::{Semaphore, SemaphorePermit};

use super::StoreError;
use super::pool_wait::timed;

pub(super) struct SearchShare {
    places: Semaphore,
    wait: Duration,
}

impl SearchShare {
    /// Half of `connections` (at least one) for searches, each waiting at most `wait`.
    pub(super) fn new(connections: u32, wait: Duration) -> SearchShare {
        SearchShare {
            places: Semaphore::new((connections / 2).max(1) as usize),
            wait,
        }
    }

    /// A place among the running searches, held until the permit is dropped.
    pub(super) async fn enter(&self) -> Result<SemaphorePermit<'_>, StoreError> {
        let place = timed(
            "searches",
            tokio::time::timeout(self.wait, self.places.acquire()),
        );
        match place.await {
            Ok(Ok(permit)) => Ok(permit),
            Ok(Err(_closed)) => Err(StoreError::Unavailable("the store is closed".into())),
            Err(_elapsed) => Err(StoreError::Unavailable(
                "every connection searches may use is busy with searches".into(),
            )),
        }
    }

    #[cfg(test)]
    pub(super) fn places(&self) -> usize {
        self.places.available_permits()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn searches_get_half_the_connections_and_at_least_one() {
        assert_eq!(SearchShare::new(10, Duration::ZERO).places(), 5);
        assert_eq!(SearchShare::new(4, Duration::ZERO).places(), 2);
        assert_eq!(SearchShare::new(1, Duration::ZERO).places(), 1);
    }

    #[tokio::test]
    async fn a_search_beyond_the_share_waits_then_is_unavailable() {
        let share = SearchShare::new(2, Duration::from_millis(50));
        let held = share.enter().await.unwrap();
        assert!(matches!(
            share.enter().await,
            Err(StoreError::Unavailable(_))
        ));
        drop(held);
        assert!(share.enter().await.is_ok());
    }
}
