//! PostgreSQL connections, handed back without a round trip.
//!
//! sqlx's pool pings every connection it takes back (a Sync message and the server's answer)
//! before anyone else may use it. For a get by id that is a second round trip beside the one
//! statement, with a wake-up of the backend and of a task each time: on the benchmark's two
//! cores, a fifth of what a get cost. This pool skips it where it is not needed: a connection
//! whose last operation ran to the end is idle at ReadyForQuery, so the store marks it
//! [`Checkout::settled`] and it goes straight back. Any other release (a request cancelled by
//! its timeout or a client gone mid-statement, an early return out of a transaction) gets what
//! sqlx does for all of them: a ping first, which also flushes a pending rollback, and the
//! connection is closed if that fails.
//!
//! Like sqlx's pool it bounds the number of connections, times out a checkout, and pings a
//! connection that sat idle long enough for a database restart to have cut it.

use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{ConnectOptions, Connection};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::pool_wait::timed;

/// A connection idle this long is pinged before use: under load none is, after a quiet spell
/// (or a database restart) the first request finds out here instead of failing.
const IDLE_CHECK: Duration = Duration::from_secs(1);
/// How long the ping of an unsettled connection may take before the connection is dropped.
const RELEASE_PING: Duration = Duration::from_secs(5);
/// A connection this old is closed when it comes back (sqlx's default too): a backend's caches
/// only grow, and a long-lived connection keeps a server-side failover or a changed setting
/// from ever reaching it.
const MAX_LIFETIME: Duration = Duration::from_secs(30 * 60);

#[derive(Clone)]
pub(super) struct PgConnections {
    inner: Arc<Inner>,
}

struct Inner {
    connect: PgConnectOptions,
    acquire_timeout: Duration,
    permits: Arc<Semaphore>,
    /// Most recently used last: checkouts take the warmest connection.
    idle: Mutex<Vec<Idle>>,
    open: Arc<AtomicU32>,
    max_lifetime: Duration,
}

struct Idle {
    conn: Live,
    since: Instant,
}

/// An open connection, counted in `open` for as long as it exists.
struct Live {
    conn: PgConnection,
    opened: Instant,
    _counted: Counted,
}

struct Counted(Arc<AtomicU32>);

impl Live {
    fn new(conn: PgConnection, open: &Arc<AtomicU32>) -> Live {
        open.fetch_add(1, Ordering::Relaxed);
        Live {
            conn,
            opened: Instant::now(),
            _counted: Counted(open.clone()),
        }
    }

    /// Says goodbye to the server (Terminate) rather than just dropping the socket; the
    /// connection stays counted until it is gone.
    async fn close(self) {
        let Live { conn, _counted, .. } = self;
        let _ = conn.close().await;
        drop(_counted);
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl PgConnections {
    pub(super) fn new(
        connect: PgConnectOptions,
        max_connections: u32,
        acquire_timeout: Duration,
    ) -> PgConnections {
        PgConnections {
            inner: Arc::new(Inner {
                connect,
                acquire_timeout,
                permits: Arc::new(Semaphore::new(max_connections.max(1) as usize)),
                idle: Mutex::new(Vec::new()),
                open: Arc::new(AtomicU32::new(0)),
                max_lifetime: MAX_LIFETIME,
            }),
        }
    }

    #[cfg(test)]
    fn with_max_lifetime(mut self, max_lifetime: Duration) -> PgConnections {
        Arc::get_mut(&mut self.inner)
            .expect("set before first use")
            .max_lifetime = max_lifetime;
        self
    }

    /// A connection, within the acquire timeout: `PoolTimedOut` when every connection stayed
    /// busy, the connect error when none could be opened, `PoolClosed` after [`close`].
    pub(super) async fn acquire(&self) -> Result<Checkout, sqlx::Error> {
        timed("postgres", async {
            tokio::time::timeout(self.inner.acquire_timeout, self.checkout())
                .await
                .unwrap_or(Err(sqlx::Error::PoolTimedOut))
        })
        .await
    }

    async fn checkout(&self) -> Result<Checkout, sqlx::Error> {
        let permit = self
            .inner
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| sqlx::Error::PoolClosed)?;
        loop {
            let idle = self.inner.idle.lock().expect("idle list").pop();
            let conn = match idle {
                Some(mut idle) => {
                    if idle.since.elapsed() >= IDLE_CHECK && idle.conn.conn.ping().await.is_err() {
                        continue; // cut while idle; dropping it closes the socket
                    }
                    idle.conn
                }
                None => Live::new(self.inner.connect.connect().await?, &self.inner.open),
            };
            return Ok(Checkout {
                conn: Some(conn),
                permit: Some(permit),
                settled: false,
                inner: self.inner.clone(),
            });
        }
    }

    /// Connections open (idle or in use).
    pub(super) fn size(&self) -> u32 {
        self.inner.open.load(Ordering::Relaxed)
    }

    pub(super) fn idle(&self) -> usize {
        self.inner.idle.lock().expect("idle list").len()
    }

    /// No new checkouts; idle connections are closed politely, busy ones when they come back.
    pub(super) async fn close(&self) {
        self.inner.permits.close();
        let idle = std::mem::take(&mut *self.inner.idle.lock().expect("idle list"));
        for idle in idle {
            idle.conn.close().await;
        }
    }
}

/// A connection checked out of [`PgConnections`]; goes back when dropped.
pub(super) struct Checkout {
    conn: Option<Live>,
    permit: Option<OwnedSemaphorePermit>,
    settled: bool,
    inner: Arc<Inner>,
}

impl Checkout {
    /// Passes `result` through and, when it is a success, marks the connection as idle at
    /// ReadyForQuery, so it goes back without a ping. Call it on the checkout's LAST operation
    /// only: an operation started after it could be cancelled halfway, and the mark would let
    /// the half-used connection back in.
    pub(super) fn settled<T>(&mut self, result: Result<T, sqlx::Error>) -> Result<T, sqlx::Error> {
        self.settled = result.is_ok();
        result
    }
}

impl Deref for Checkout {
    type Target = PgConnection;
    fn deref(&self) -> &PgConnection {
        &self.conn.as_ref().expect("present until drop").conn
    }
}

impl DerefMut for Checkout {
    fn deref_mut(&mut self) -> &mut PgConnection {
        &mut self.conn.as_mut().expect("present until drop").conn
    }
}

impl Drop for Checkout {
    fn drop(&mut self) {
        let (Some(mut conn), permit) = (self.conn.take(), self.permit.take()) else {
            return;
        };
        let inner = self.inner.clone();
        let back = move |conn: Live| {
            if conn.opened.elapsed() >= inner.max_lifetime {
                if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                    runtime.spawn(conn.close());
                }
            } else if !inner.permits.is_closed() {
                let idle = Idle {
                    conn,
                    since: Instant::now(),
                };
                inner.idle.lock().expect("idle list").push(idle);
            }
            // The permit goes after the connection is in the list, so the checkout it wakes
            // finds it there instead of opening another.
            drop(permit);
        };
        if self.settled {
            back(conn);
            return;
        }
        // Outside a runtime (process exit) the connection is simply dropped, closing the socket.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Ok(Ok(())) = tokio::time::timeout(RELEASE_PING, conn.conn.ping()).await {
                    back(conn);
                }
            });
        }
    }
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

    async fn backend_pid(conn: &mut Checkout) -> i32 {
        let pid = sqlx::query_scalar("SELECT pg_backend_pid()")
            .fetch_one(&mut **conn)
            .await;
        conn.settled(pid)
            .expect("PostgreSQL is required for the test suite")
    }

    #[tokio::test]
    async fn a_settled_connection_goes_back_and_is_handed_out_again() {
        let pool = PgConnections::new(options(), 4, Duration::from_secs(5));
        let mut conn = pool.acquire().await.expect("PostgreSQL is required");
        let pid = backend_pid(&mut conn).await;
        assert_eq!((pool.size(), pool.idle()), (1, 0));
        drop(conn);
        assert_eq!((pool.size(), pool.idle()), (1, 1), "back at once, no ping");
        let mut again = pool.acquire().await.unwrap();
        assert_eq!(backend_pid(&mut again).await, pid);
        assert_eq!(pool.size(), 1);
    }

    /// A request cancelled mid-statement (its timeout, or its client gone) must not leave the
    /// next user of the connection reading the old statement's answer.
    #[tokio::test]
    async fn a_connection_dropped_mid_statement_never_hands_its_answer_to_the_next_user() {
        let pool = PgConnections::new(options(), 1, Duration::from_secs(5));
        let mut conn = pool.acquire().await.expect("PostgreSQL is required");
        let slow =
            sqlx::query_scalar::<_, i32>("SELECT 7 FROM pg_sleep(0.3)").fetch_one(&mut *conn);
        assert!(
            tokio::time::timeout(Duration::from_millis(50), slow)
                .await
                .is_err(),
            "cancelled halfway"
        );
        drop(conn);
        assert_eq!(pool.idle(), 0, "not back before its ping");
        let mut next = pool.acquire().await.unwrap();
        let answer: i32 = sqlx::query_scalar("SELECT 42")
            .fetch_one(&mut *next)
            .await
            .unwrap();
        assert_eq!(answer, 42);
    }

    #[tokio::test]
    async fn a_checkout_beyond_the_limit_waits_then_times_out() {
        let pool = PgConnections::new(options(), 1, Duration::from_millis(200));
        let held = pool.acquire().await.expect("PostgreSQL is required");
        let started = Instant::now();
        let second = pool.acquire().await;
        assert!(matches!(second, Err(sqlx::Error::PoolTimedOut)));
        assert!(started.elapsed() >= Duration::from_millis(200));
        assert_eq!(pool.size(), 1, "no second connection beyond the limit");
        drop(held);
    }

    #[tokio::test]
    async fn an_unreachable_server_fails_the_checkout_at_once() {
        let pool = PgConnections::new(
            options().host("127.0.0.1").port(1),
            2,
            Duration::from_secs(10),
        );
        let started = Instant::now();
        assert!(matches!(pool.acquire().await, Err(sqlx::Error::Io(_))));
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(pool.size(), 0);
    }

    /// What a database restart does to idle connections: the first checkout after a quiet
    /// second finds the cut one by its ping and opens a new one instead of failing.
    #[tokio::test]
    async fn an_idle_connection_cut_by_the_server_is_replaced() {
        let pool = PgConnections::new(options(), 2, Duration::from_secs(5));
        let mut conn = pool.acquire().await.expect("PostgreSQL is required");
        let pid = backend_pid(&mut conn).await;
        drop(conn);
        let mut admin = sqlx::PgConnection::connect_with(&options()).await.unwrap();
        sqlx::query("SELECT pg_terminate_backend($1)")
            .bind(pid)
            .execute(&mut admin)
            .await
            .unwrap();
        tokio::time::sleep(IDLE_CHECK + Duration::from_millis(100)).await;
        let mut fresh = pool.acquire().await.expect("a new connection");
        assert_ne!(backend_pid(&mut fresh).await, pid);
        assert_eq!(pool.size(), 1, "the cut one is no longer counted");
    }

    #[tokio::test]
    async fn a_connection_past_its_lifetime_is_closed_when_it_comes_back() {
        let pool = PgConnections::new(options(), 2, Duration::from_secs(5))
            .with_max_lifetime(Duration::from_millis(100));
        let mut conn = pool.acquire().await.expect("PostgreSQL is required");
        let pid = backend_pid(&mut conn).await;
        tokio::time::sleep(Duration::from_millis(150)).await;
        drop(conn);
        assert_eq!(pool.idle(), 0, "not kept");
        let mut fresh = pool.acquire().await.unwrap();
        assert_ne!(backend_pid(&mut fresh).await, pid);
    }

    #[tokio::test]
    async fn a_closed_pool_refuses_checkouts() {
        let pool = PgConnections::new(options(), 2, Duration::from_secs(5));
        let mut conn = pool.acquire().await.expect("PostgreSQL is required");
        backend_pid(&mut conn).await;
        drop(conn);
        pool.close().await;
        assert_eq!((pool.size(), pool.idle()), (0, 0));
        assert!(matches!(pool.acquire().await, Err(sqlx::Error::PoolClosed)));
    }
}
