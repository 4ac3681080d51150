//! Deadlines for SQLite statements: PostgreSQL has `statement_timeout`, SQLite has a progress
//! handler, which it calls every few thousand steps of a statement and which can stop it.
//! Each checkout of a connection installs one that stops the statement once the deadline has
//! passed, or once the checkout was dropped: a request that timed out or whose client left
//! leaves no statement running for nobody (and its connection comes back at once).

use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use sqlx::pool::PoolConnection;
use sqlx::{Sqlite, SqliteConnection};

/// Virtual-machine steps between two looks at the clock: a few microseconds of work.
const STEPS_PER_CHECK: i32 = 10_000;

/// A pooled connection whose statements stop at a deadline or when it is dropped.
pub struct Deadlined {
    conn: PoolConnection<Sqlite>,
    dropped: Arc<AtomicBool>,
}

impl Deadlined {
    pub async fn new(
        mut conn: PoolConnection<Sqlite>,
        timeout: Duration,
    ) -> Result<Deadlined, sqlx::Error> {
        let deadline = Instant::now() + timeout;
        let dropped = Arc::new(AtomicBool::new(false));
        let gone = dropped.clone();
        conn.lock_handle()
            .await?
            .set_progress_handler(STEPS_PER_CHECK, move || {
                !gone.load(Ordering::Relaxed) && Instant::now() < deadline
            });
        Ok(Deadlined { conn, dropped })
    }
}

impl Drop for Deadlined {
    fn drop(&mut self) {
        self.dropped.store(true, Ordering::Relaxed);
    }
}

impl Deref for Deadlined {
    type Target = SqliteConnection;

    fn deref(&self) -> &SqliteConnection {
        &self.conn
    }
}

impl DerefMut for Deadlined {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        &mut self.conn
    }
}
