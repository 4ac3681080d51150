//! PostgreSQL connections: a `deadpool` pool over sqlx's `PgConnection`.
//!
//! sqlx's own pool pings every connection it takes back before anyone else may use it, a second
//! round trip beside a get's one statement. This manager pings only where it can matter: a
//! connection whose last operation ran to the end is idle at ReadyForQuery, and the store marks
//! it [`PgConn::settled`]; every other one (a request cancelled mid-statement by its timeout or
//! its client, an early return out of a transaction) is pinged before its next use, which also
//! flushes a pending rollback, and is dropped if that fails. So is one that sat idle long enough
//! for a database restart to have cut it, and one past its lifetime is replaced.

use std::ops::{Deref, DerefMut};
use std::time::{Duration, Instant};

use deadpool::Runtime;
use deadpool::managed::{self, Metrics, PoolError, QueueMode, RecycleError, RecycleResult};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{ConnectOptions, Connection};

use super::pool_wait::timed;

/// A connection idle this long is pinged before use: under load none is; after a quiet spell
/// (or a database restart) the first request finds out here instead of failing.
const IDLE_CHECK: Duration = Duration::from_secs(1);
/// How long the ping before reuse may take before the connection is dropped instead.
const RECYCLE_PING: Duration = Duration::from_secs(5);
/// A connection this old is replaced (sqlx's default too): a backend's caches only grow, and a
/// long-lived connection would never see a server-side failover or a changed setting.
const MAX_LIFETIME: Duration = Duration::from_secs(30 * 60);

pub(super) type PgPool = managed::Pool<PgManager>;

/// A pooled connection and whether its last operation finished.
pub(super) struct PgConn {
    conn: PgConnection,
    /// The server process behind it, for cancelling its statement.
    pid: i32,
    /// When the last operation marked [`PgConn::settled`] finished; `None` once checked out.
    settled_at: Option<Instant>,
    /// The checkout's operations returned, successfully or not: no statement can still be
    /// running on the server.
    returned: bool,
}

impl PgConn {
    /// Passes `result` through and, when it is a success, marks the connection as idle at
    /// ReadyForQuery, so it is reused without a ping. Call it on the checkout's LAST operation
    /// only: an operation started after it could be cancelled halfway, and the mark would let
    /// the half-used connection back in.
    pub(super) fn settled<T>(&mut self, result: Result<T, sqlx::Error>) -> Result<T, sqlx::Error> {
        self.settled_at = result.is_ok().then(Instant::now);
        self.returned = true;
        result
    }
}

impl Deref for PgConn {
    type Target = PgConnection;
    fn deref(&self) -> &PgConnection {
        &self.conn
    }
}

impl DerefMut for PgConn {
    fn deref_mut(&mut self) -> &mut PgConnection {
        &mut self.conn
    }
}

/// A connection checked out of the pool; back to it when dropped.
pub(super) struct Checkout(Option<managed::Object<PgManager>>);

impl Deref for Checkout {
    type Target = PgConn;
    fn deref(&self) -> &PgConn {
        self.0.as_ref().expect("present until drop")
    }
}

impl DerefMut for Checkout {
    fn deref_mut(&mut self) -> &mut PgConn {
        self.0.as_mut().expect("present until drop")
    }
}

/// An unsettled connection may hold a transaction abandoned halfway, and with it row locks that
/// other writers wait for; sqlx only queues its ROLLBACK for the connection's next use, so the
/// ping sends it now. One dropped before its operations returned (a request that timed out, or
/// whose client left) may also still run a statement, which is cancelled first, from a
/// connection of its own as PostgreSQL cancels; one whose operations returned an error runs
/// nothing, and opens no such connection. A connection that does not answer leaves the pool.
impl Drop for Checkout {
    fn drop(&mut self) {
        let Some(mut conn) = self.0.take() else {
            return;
        };
        if conn.settled_at.is_some() {
            return;
        }
        // Outside a runtime (process exit) the connection is simply dropped.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if !conn.returned
                    && let Some(pool) = managed::Object::pool(&conn)
                {
                    let cancelled = cancel(&pool.manager().connect, conn.pid);
                    if tokio::time::timeout(RECYCLE_PING, cancelled).await.is_err() {
                        tracing::warn!(pid = conn.pid, "could not cancel an abandoned statement");
                    }
                }
                let pinged = tokio::time::timeout(RECYCLE_PING, conn.conn.ping()).await;
                match pinged {
                    Ok(Ok(())) => conn.settled_at = Some(Instant::now()),
                    _ => drop(managed::Object::take(conn)),
                }
            });
        }
    }
}

/// Asks PostgreSQL to cancel what backend `pid` is running; an idle backend ignores it.
async fn cancel(connect: &PgConnectOptions, pid: i32) -> Result<(), sqlx::Error> {
    let mut conn = connect.connect().await?;
    sqlx::query("SELECT pg_cancel_backend($1)")
        .bind(pid)
        .execute(&mut conn)
        .await?;
    conn.close().await
}

pub(super) struct PgManager {
    connect: PgConnectOptions,
    max_lifetime: Duration,
}

impl managed::Manager for PgManager {
    type Type = PgConn;
    type Error = sqlx::Error;

    async fn create(&self) -> Result<PgConn, sqlx::Error> {
        let mut conn = self.connect.connect().await?;
        let pid = sqlx::query_scalar("SELECT pg_backend_pid()")
            .fetch_one(&mut conn)
            .await?;
        Ok(PgConn {
            conn,
            pid,
            settled_at: None,
            returned: false,
        })
    }

    async fn recycle(&self, conn: &mut PgConn, metrics: &Metrics) -> RecycleResult<sqlx::Error> {
        if metrics.age() >= self.max_lifetime {
            return Err(RecycleError::message("past its lifetime"));
        }
        let settled = conn.settled_at.take();
        conn.returned = false;
        if settled.is_none_or(|at| at.elapsed() >= IDLE_CHECK) {
            conn.conn.ping().await.map_err(RecycleError::Backend)?;
        }
        Ok(())
    }
}

/// A pool of at most `max_connections`, the most recently used handed out first (the warmest
/// backend), a checkout waiting at most `acquire_timeout`.
pub(super) fn pool(
    connect: PgConnectOptions,
    max_connections: u32,
    acquire_timeout: Duration,
) -> anyhow::Result<PgPool> {
    pool_with_lifetime(connect, max_connections, acquire_timeout, MAX_LIFETIME)
}

fn pool_with_lifetime(
    connect: PgConnectOptions,
    max_connections: u32,
    acquire_timeout: Duration,
    max_lifetime: Duration,
) -> anyhow::Result<PgPool> {
    let manager = PgManager {
        connect,
        max_lifetime,
    };
    Ok(managed::Pool::builder(manager)
        .max_size(max_connections.max(1) as usize)
        .queue_mode(QueueMode::Lifo)
        .wait_timeout(Some(acquire_timeout))
        .create_timeout(Some(acquire_timeout))
        .recycle_timeout(Some(RECYCLE_PING))
        .runtime(Runtime::Tokio1)
        .build()?)
}

/// A connection within the acquire timeout, as sqlx's pool would fail: `PoolTimedOut` when every
/// connection stayed busy, the connect error when none could be opened, `PoolClosed` after
/// the pool was closed.
pub(super) async fn acquire(pool: &PgPool) -> Result<Checkout, sqlx::Error> {
    let conn = timed("postgres", pool.get()).await.map_err(|e| match e {
        PoolError::Backend(e) => e,
        PoolError::Timeout(_) => sqlx::Error::PoolTimedOut,
        PoolError::Closed => sqlx::Error::PoolClosed,
        other => sqlx::Error::Protocol(other.to_string()),
    })?;
    Ok(Checkout(Some(conn)))
}

/// Against the PostgreSQL of the test suite (`TEST_DATABASE_URL`); like every PostgreSQL test,
/// these fail rather than skip when it is unreachable.
#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    fn options() -> PgConnectOptions {
        PgConnectOptions::from_str(&super::super::test_database_url()).expect("TEST_DATABASE_URL")
    }

    fn test_pool(max: u32, timeout: Duration) -> PgPool {
        pool(options(), max, timeout).unwrap()
    }

    async fn backend_pid(conn: &mut Checkout) -> i32 {
        let pid = sqlx::query_scalar("SELECT pg_backend_pid()")
            .fetch_one(&mut ***conn)
            .await;
        conn.settled(pid)
            .expect("PostgreSQL is required for the test suite")
    }

    #[tokio::test]
    async fn a_settled_connection_goes_back_and_is_handed_out_again() {
        let pool = test_pool(4, Duration::from_secs(5));
        let mut conn = acquire(&pool).await.expect("PostgreSQL is required");
        let pid = backend_pid(&mut conn).await;
        drop(conn);
        let status = pool.status();
        assert_eq!((status.size, status.available), (1, 1));
        let mut again = acquire(&pool).await.unwrap();
        assert_eq!(backend_pid(&mut again).await, pid);
        assert_eq!(pool.status().size, 1);
    }

    /// A request cancelled mid-statement (its timeout, or its client gone) must not leave the
    /// next user of the connection reading the old statement's answer.
    #[tokio::test]
    async fn a_connection_dropped_mid_statement_never_hands_its_answer_to_the_next_user() {
        let pool = test_pool(1, Duration::from_secs(5));
        let mut conn = acquire(&pool).await.expect("PostgreSQL is required");
        let slow =
            sqlx::query_scalar::<_, i32>("SELECT 7 FROM pg_sleep(0.3)").fetch_one(&mut **conn);
        assert!(
            tokio::time::timeout(Duration::from_millis(50), slow)
                .await
                .is_err(),
            "cancelled halfway"
        );
        drop(conn);
        let mut next = acquire(&pool).await.unwrap();
        let answer: i32 = sqlx::query_scalar("SELECT 42")
            .fetch_one(&mut **next)
            .await
            .unwrap();
        assert_eq!(answer, 42);
    }

    /// A transaction abandoned halfway is rolled back at once, not when the connection is next
    /// used: its locks would block other writers until then.
    #[tokio::test]
    async fn a_transaction_dropped_halfway_releases_its_locks_at_once() {
        let pool = test_pool(2, Duration::from_secs(5));
        let mut conn = acquire(&pool).await.expect("PostgreSQL is required");
        let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
            .fetch_one(&mut **conn)
            .await
            .unwrap();
        let mut tx = conn.begin().await.unwrap();
        sqlx::query("SELECT pg_advisory_xact_lock(4242)")
            .execute(&mut *tx)
            .await
            .unwrap();
        drop(tx);
        drop(conn);
        let mut admin = sqlx::PgConnection::connect_with(&options()).await.unwrap();
        let mut released = false;
        for _ in 0..50 {
            let held: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = $1",
            )
            .bind(pid)
            .fetch_one(&mut admin)
            .await
            .unwrap();
            if held == 0 {
                released = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(released, "the abandoned transaction still holds its lock");
    }

    /// A transaction abandoned halfway is rolled back before the connection serves anyone else.
    #[tokio::test]
    async fn a_transaction_dropped_halfway_leaves_nothing_open_for_the_next_user() {
        let pool = test_pool(1, Duration::from_secs(5));
        let mut conn = acquire(&pool).await.expect("PostgreSQL is required");
        let mut tx = conn.begin().await.unwrap();
        sqlx::query("CREATE TEMPORARY TABLE abandoned (x int)")
            .execute(&mut *tx)
            .await
            .unwrap();
        drop(tx);
        drop(conn);
        let mut next = acquire(&pool).await.unwrap();
        let rolled_back: bool =
            sqlx::query_scalar("SELECT to_regclass('pg_temp.abandoned') IS NULL")
                .fetch_one(&mut **next)
                .await
                .unwrap();
        assert!(rolled_back, "the abandoned transaction's table is gone");
    }

    /// A request that timed out, or whose client left, stops its statement on the server too.
    #[tokio::test]
    async fn a_statement_dropped_halfway_is_cancelled_on_the_server() {
        let pool = test_pool(2, Duration::from_secs(5));
        let mut conn = acquire(&pool).await.expect("PostgreSQL is required");
        let pid = conn.pid;
        let slow = sqlx::query("SELECT pg_sleep(30)").execute(&mut **conn);
        assert!(
            tokio::time::timeout(Duration::from_millis(200), slow)
                .await
                .is_err()
        );
        drop(conn);
        let mut admin = sqlx::PgConnection::connect_with(&options()).await.unwrap();
        let mut stopped = false;
        for _ in 0..100 {
            let running: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = $1 AND query LIKE '%pg_sleep%' \
                 AND state = 'active'",
            )
            .bind(pid)
            .fetch_one(&mut admin)
            .await
            .unwrap();
            if running == 0 {
                stopped = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(stopped, "the abandoned pg_sleep(30) still runs");
    }

    #[tokio::test]
    async fn a_checkout_beyond_the_limit_waits_then_times_out() {
        let pool = test_pool(1, Duration::from_millis(200));
        let held = acquire(&pool).await.expect("PostgreSQL is required");
        let started = Instant::now();
        let second = acquire(&pool).await;
        assert!(matches!(second, Err(sqlx::Error::PoolTimedOut)));
        assert!(started.elapsed() >= Duration::from_millis(200));
        assert_eq!(
            pool.status().size,
            1,
            "no second connection beyond the limit"
        );
        drop(held);
    }

    #[tokio::test]
    async fn an_unreachable_server_fails_the_checkout_at_once() {
        let pool = pool(
            options().host("127.0.0.1").port(1),
            2,
            Duration::from_secs(10),
        )
        .unwrap();
        let started = Instant::now();
        assert!(matches!(acquire(&pool).await, Err(sqlx::Error::Io(_))));
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(pool.status().size, 0);
    }

    /// What a database restart does to idle connections: the first checkout after a quiet
    /// second finds the cut one by its ping and opens a new one instead of failing.
    #[tokio::test]
    async fn an_idle_connection_cut_by_the_server_is_replaced() {
        let pool = test_pool(2, Duration::from_secs(5));
        let mut conn = acquire(&pool).await.expect("PostgreSQL is required");
        let pid = backend_pid(&mut conn).await;
        drop(conn);
        let mut admin = sqlx::PgConnection::connect_with(&options()).await.unwrap();
        sqlx::query("SELECT pg_terminate_backend($1)")
            .bind(pid)
            .execute(&mut admin)
            .await
            .unwrap();
        tokio::time::sleep(IDLE_CHECK + Duration::from_millis(100)).await;
        let mut fresh = acquire(&pool).await.expect("a new connection");
        assert_ne!(backend_pid(&mut fresh).await, pid);
        assert_eq!(pool.status().size, 1, "the cut one is no longer counted");
    }

    #[tokio::test]
    async fn a_connection_past_its_lifetime_is_replaced() {
        let pool = pool_with_lifetime(
            options(),
            2,
            Duration::from_secs(5),
            Duration::from_millis(100),
        )
        .unwrap();
        let mut conn = acquire(&pool).await.expect("PostgreSQL is required");
        let pid = backend_pid(&mut conn).await;
        tokio::time::sleep(Duration::from_millis(150)).await;
        drop(conn);
        let mut fresh = acquire(&pool).await.unwrap();
        assert_ne!(backend_pid(&mut fresh).await, pid);
    }

    #[tokio::test]
    async fn a_closed_pool_refuses_checkouts() {
        let pool = test_pool(2, Duration::from_secs(5));
        let mut conn = acquire(&pool).await.expect("PostgreSQL is required");
        backend_pid(&mut conn).await;
        drop(conn);
        pool.close();
        assert_eq!(pool.status().size, 0);
        assert!(matches!(acquire(&pool).await, Err(sqlx::Error::PoolClosed)));
    }
}
