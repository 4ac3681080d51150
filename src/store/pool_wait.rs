//! Connection checkout with the queue made visible.
//!
//! sqlx reports a pool's size and idle connections, not who is waiting for one. A pool that is
//! too small shows up first as requests queueing here, long before acquire timeouts turn into
//! 503s, so every checkout goes through [`acquire`]: a gauge of the tasks waiting right now and a
//! histogram of how long each checkout took, both labelled with the pool's name.

use std::time::Instant;

use sqlx::pool::PoolConnection;
use sqlx::{Database, Pool};

/// Checks out a connection from `pool`, counted as `oms_db_pool_waiters{pool=name}` while it
/// waits and recorded in `oms_db_pool_acquire_seconds{pool=name}` once it has one (or gave up).
pub(super) async fn acquire<DB: Database>(
    pool: &Pool<DB>,
    name: &'static str,
) -> Result<PoolConnection<DB>, sqlx::Error> {
    timed(name, pool.acquire()).await
}

/// The same for any checkout: `checkout` is the wait being measured.
pub(super) async fn timed<T>(name: &'static str, checkout: impl Future<Output = T>) -> T {
    let started = Instant::now();
    let waiting = Waiting::start(name);
    let conn = checkout.await;
    drop(waiting);
    metrics::histogram!("oms_db_pool_acquire_seconds", "pool" => name)
        .record(started.elapsed().as_secs_f64());
    conn
}

/// One waiter on the gauge; leaves it on drop, so a request cancelled mid-wait (client gone,
/// timeout) does not leave a phantom waiter behind.
struct Waiting(&'static str);

impl Waiting {
    fn start(name: &'static str) -> Waiting {
        metrics::gauge!("oms_db_pool_waiters", "pool" => name).increment(1.0);
        Waiting(name)
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        metrics::gauge!("oms_db_pool_waiters", "pool" => self.0).decrement(1.0);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use sqlx::sqlite::SqlitePoolOptions;

    use super::*;

    /// The value of `metric{pool="name"}` in the process-wide exposition.
    fn sample(metric: &str, name: &str) -> Option<f64> {
        let text = crate::telemetry::metrics_handle().render();
        let prefix = format!("{metric}{{pool=\"{name}\"}} ");
        text.lines()
            .find_map(|line| line.strip_prefix(&prefix))
            .map(|value| value.parse().expect("a number"))
    }

    #[tokio::test]
    async fn a_task_queued_for_the_only_connection_is_counted_until_it_gets_it() {
        let name = "pool_wait_test";
        crate::telemetry::metrics_handle(); // installs the recorder before the first checkout
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect("sqlite::memory:")
            .await
            .unwrap();
        let held = acquire(&pool, name).await.unwrap();
        assert_eq!(sample("oms_db_pool_waiters", name), Some(0.0));

        let queued = tokio::spawn({
            let pool = pool.clone();
            async move { acquire(&pool, name).await.map(drop) }
        });
        let mut waiters = 0.0;
        for _ in 0..200 {
            waiters = sample("oms_db_pool_waiters", name).unwrap();
            if waiters == 1.0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(waiters, 1.0, "the second checkout is waiting");

        tokio::time::sleep(Duration::from_millis(50)).await;
        drop(held);
        queued.await.unwrap().unwrap();
        assert_eq!(sample("oms_db_pool_waiters", name), Some(0.0));
        assert_eq!(
            sample("oms_db_pool_acquire_seconds_count", name),
            Some(2.0),
            "both checkouts are timed"
        );
        let total = sample("oms_db_pool_acquire_seconds_sum", name).unwrap();
        assert!(total >= 0.05, "the queued checkout waited ~50 ms: {total}");
    }
}
