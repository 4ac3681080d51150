//! Gets by id that queue for PostgreSQL are read together, in one statement.
//!
//! A point read costs PostgreSQL far more in waking a backend, reading the protocol messages and
//! starting the executor than in the index probe itself, and costs oms a send and a receive on
//! the socket. Under load, gets queue for the database anyway; reading everything that queued
//! with one `order_id IN (..)` turns that queue's round trips into one.
//!
//! Nothing waits to be batched when no batch is being read: a get then goes out at once, and
//! batches form from requests that arrived while an earlier batch was being read. Every read starts
//! after its request arrived, so a get still sees every write acknowledged before it was sent
//! (across servers too: this is not a cache).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::sync::{Notify, mpsc, oneshot};

use super::pg_pool::PgConnections;
use super::{StoreError, StoreResult, classify};

/// Batches in flight at once, while they are quick.
const LANES: usize = 2;
/// A batch goes out on a lane other than the first only when at least this many gets wait;
/// fewer wait for the batch in flight to end and grow meanwhile.
///
/// One lane left a core idle a sixth of the time: gets queued behind the batch being read while
/// the other core had nothing to do. Two lanes for any batch filled the cores but halved the
/// batches, and PostgreSQL's CPU per get rose by a fifth. Measured on the benchmark's two cores
/// (8 connections, 20,000 different orders, interleaved 8 s runs; the machine's speed varies by
/// a fifth from minute to minute): one lane 10.1k gets/s (6 runs, 17% idle, PostgreSQL 45 us a
/// get), two lanes for any batch 10.9k (3 runs, 54 us), the second lane from 3 waiting gets
/// 11.9k (6 runs, 7-10% idle, 46 us); from 2 or 4, 12.1k and 12.4k (3 runs each).
const SECOND_LANE_AT: usize = 3;
/// A batch still running after this gives up its lane, so that a cold row read from disk, a
/// lock or a slow network holds back only the gets that queued with it, not all that follow.
const SLOW_BATCH: Duration = Duration::from_millis(1);
/// Ids per statement at most; the rest wait for the next free lane.
pub(super) const MAX_BATCH: usize = 32;

/// The statement for `n` ids: `order_id IN ($2, ..)`, padded up to a power of two by repeating
/// the last id, so that a connection prepares six statements rather than one per batch size.
///
/// Not `order_id = ANY($2)` with an array: PostgreSQL cannot tell an array parameter's length
/// when it plans the statement once for every execution, assumes ten elements, finds that
/// dearer than planning each execution for the array it was given, and so plans every time:
/// a get cost PostgreSQL 2.4 times what it does now (pgbench, one id). A list of parameters has
/// a length the planner can see. One id is `order_id = $2`, the plain get.
fn statement(ids: usize) -> (&'static str, usize) {
    static STATEMENTS: OnceLock<Vec<String>> = OnceLock::new();
    let statements = STATEMENTS.get_or_init(|| {
        (0..=MAX_BATCH.trailing_zeros())
            .map(|power| {
                let list: Vec<String> = (0..1usize << power)
                    .map(|i| format!("${}", i + 2))
                    .collect();
                format!(
                    "SELECT order_id, doc::text FROM orders \
                     WHERE client_id = $1 AND order_id IN ({}) AND deleted_at IS NULL",
                    list.join(", ")
                )
            })
            .collect()
    });
    let padded = ids.max(1).next_power_of_two();
    (
        statements[padded.trailing_zeros() as usize].as_str(),
        padded,
    )
}

type Reply = oneshot::Sender<StoreResult<Option<String>>>;

struct Pending {
    client_id: String,
    order_id: String,
    reply: Reply,
}

/// Hands gets to the dispatcher task; dropping it (with the store) ends the task.
pub(super) struct GetBatcher {
    queue: mpsc::UnboundedSender<Pending>,
    /// Statements issued so far: the tests check that queued gets share one.
    #[cfg_attr(not(test), allow(dead_code))]
    statements: Arc<AtomicU64>,
}

impl GetBatcher {
    /// Starts the dispatcher on the current runtime.
    pub(super) fn start(pool: PgConnections) -> GetBatcher {
        let (queue, rx) = mpsc::unbounded_channel();
        let statements = Arc::new(AtomicU64::new(0));
        tokio::spawn(dispatch(rx, pool, statements.clone()));
        GetBatcher { queue, statements }
    }

    /// The stored document of a live order of this client, as JSON text.
    pub(super) async fn get(&self, client_id: &str, order_id: &str) -> StoreResult<Option<String>> {
        let (reply, answer) = oneshot::channel();
        let pending = Pending {
            client_id: client_id.to_string(),
            order_id: order_id.to_string(),
            reply,
        };
        let closed = || StoreError::Unavailable("the store is closed".into());
        self.queue.send(pending).map_err(|_| closed())?;
        answer.await.map_err(|_| closed())?
    }

    #[cfg(test)]
    fn statements(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }
}

/// Takes everything queued, up to [`MAX_BATCH`], when [`may_go`] lets it, and reads it in a task
/// of its own while the next batch gathers.
async fn dispatch(
    mut rx: mpsc::UnboundedReceiver<Pending>,
    pool: PgConnections,
    statements: Arc<AtomicU64>,
) {
    let lanes = Arc::new(Lanes::default());
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        take_queued(&mut rx, &mut batch);
        while !may_go(lanes.busy.load(Ordering::Acquire), batch.len()) {
            tokio::select! {
                biased;
                () = lanes.freed.notified() => {}
                more = rx.recv(), if batch.len() < MAX_BATCH => match more {
                    Some(pending) => {
                        batch.push(pending);
                        take_queued(&mut rx, &mut batch);
                    }
                    // The sender lives in the `GetBatcher` that every waiting caller borrows:
                    // once it is gone, nobody waits for this batch.
                    None => return,
                },
            }
        }
        let lane = Lane::take(&lanes);
        tokio::spawn(answer(batch, pool.clone(), lane, statements.clone()));
    }
}

/// Whether a batch of `waiting` gets goes out now, with `busy` batches in flight: at once on
/// the first lane, on another only when it is big enough to be worth a statement of its own.
fn may_go(busy: usize, waiting: usize) -> bool {
    busy == 0 || (busy < LANES && waiting >= SECOND_LANE_AT)
}

fn take_queued(rx: &mut mpsc::UnboundedReceiver<Pending>, batch: &mut Vec<Pending>) {
    while batch.len() < MAX_BATCH {
        match rx.try_recv() {
            Ok(next) => batch.push(next),
            Err(_) => break,
        }
    }
}

/// Batches in flight, and a signal to the dispatcher when one ends or gives up its lane. Only
/// the dispatcher takes lanes, so reading `busy` and then taking one cannot race.
#[derive(Default)]
struct Lanes {
    busy: AtomicUsize,
    freed: Notify,
}

/// One batch's lane, given back when dropped.
struct Lane(Arc<Lanes>);

impl Lane {
    fn take(lanes: &Arc<Lanes>) -> Lane {
        lanes.busy.fetch_add(1, Ordering::AcqRel);
        Lane(lanes.clone())
    }
}

impl Drop for Lane {
    fn drop(&mut self) {
        self.0.busy.fetch_sub(1, Ordering::AcqRel);
        // Stored if the dispatcher is not waiting yet, so this end is not missed.
        self.0.freed.notify_one();
    }
}

async fn answer(batch: Vec<Pending>, pool: PgConnections, lane: Lane, statements: Arc<AtomicU64>) {
    metrics::histogram!("oms_get_batch_size").record(batch.len() as f64);
    // A caller that gave up (timeout, client gone) no longer needs its row.
    let batch: Vec<Pending> = batch.into_iter().filter(|p| !p.reply.is_closed()).collect();
    if batch.is_empty() {
        return;
    }
    let mut lane = Some(lane);
    let result = {
        let read = read(&batch, &pool, &statements);
        tokio::pin!(read);
        tokio::select! {
            biased;
            result = &mut read => result,
            () = tokio::time::sleep(SLOW_BATCH) => {
                lane.take();
                read.await
            }
        }
    };
    drop(lane);
    match result {
        Ok(mut docs) => {
            // The same id twice in one batch: each caller gets its copy, and the last one
            // takes the document itself.
            let asked_again: Vec<bool> = (0..batch.len())
                .map(|i| {
                    let p = &batch[i];
                    batch[i + 1..]
                        .iter()
                        .any(|q| q.order_id == p.order_id && q.client_id == p.client_id)
                })
                .collect();
            for (p, again) in batch.into_iter().zip(asked_again) {
                let of_client = docs.get_mut(p.client_id.as_str());
                let doc = match (of_client, again) {
                    (Some(of_client), false) => of_client.remove(p.order_id.as_str()),
                    (Some(of_client), true) => of_client.get(p.order_id.as_str()).cloned(),
                    (None, _) => None,
                };
                let _ = p.reply.send(Ok(doc));
            }
        }
        Err(err) => {
            for p in batch {
                let _ = p.reply.send(Err(share(&err)));
            }
        }
    }
}

/// Documents by client and order id: one statement per client in the batch (almost always
/// one), on one connection.
async fn read(
    batch: &[Pending],
    pool: &PgConnections,
    statements: &AtomicU64,
) -> StoreResult<HashMap<String, HashMap<String, String>>> {
    let mut by_client: HashMap<&str, Vec<&str>> = HashMap::new();
    for p in batch {
        by_client
            .entry(p.client_id.as_str())
            .or_default()
            .push(p.order_id.as_str());
    }
    let mut conn = pool.acquire().await.map_err(classify)?;
    let mut docs = HashMap::with_capacity(by_client.len());
    for (client_id, order_ids) in by_client {
        let (sql, padded) = statement(order_ids.len());
        let mut query = sqlx::query_as(sql).bind(client_id);
        for i in 0..padded {
            query = query.bind(order_ids[i.min(order_ids.len() - 1)]);
        }
        statements.fetch_add(1, Ordering::Relaxed);
        let rows: Result<Vec<(String, String)>, _> = query.fetch_all(&mut *conn).await;
        let rows = conn.settled(rows).map_err(classify)?;
        docs.insert(client_id.to_string(), rows.into_iter().collect());
    }
    Ok(docs)
}

/// The batch's failure, for each of its callers.
fn share(err: &StoreError) -> StoreError {
    match err {
        StoreError::NotFound => StoreError::NotFound,
        StoreError::Conflict(kind) => StoreError::Conflict(*kind),
        StoreError::Unavailable(why) => StoreError::Unavailable(why.clone()),
        StoreError::Other(e) => StoreError::Other(anyhow::anyhow!("{e:#}")),
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use sqlx::Connection;
    use sqlx::postgres::{PgConnectOptions, PgConnection};

    use super::super::test_database_url;
    use super::*;

    /// A schema of its own with just what the statement reads, so the test needs no migrations
    /// and no other test's orders; `drop_schema` removes it.
    async fn store(max_connections: u32) -> (PgConnections, String) {
        let url = test_database_url();
        let schema = format!("get_batch_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::connect(&url)
            .await
            .expect("PostgreSQL is required for the test suite");
        for sql in [
            format!("CREATE SCHEMA {schema}"),
            format!(
                "CREATE TABLE {schema}.orders (client_id TEXT, order_id TEXT, doc JSONB, \
                 deleted_at TIMESTAMPTZ, PRIMARY KEY (client_id, order_id))"
            ),
            format!(
                "INSERT INTO {schema}.orders SELECT c, 'O' || i, jsonb_build_object('c', c, 'i', i), \
                 CASE WHEN i = 13 THEN now() END \
                 FROM generate_series(1, 40) i, unnest(ARRAY['a', 'b']) c"
            ),
        ] {
            sqlx::query(&sql).execute(&mut admin).await.unwrap();
        }
        let options = PgConnectOptions::from_str(&url)
            .unwrap()
            .options([("search_path", schema.as_str())]);
        let pool = PgConnections::new(options, max_connections, Duration::from_secs(5));
        (pool, schema)
    }

    async fn drop_schema(schema: &str) {
        let mut admin = PgConnection::connect(&test_database_url()).await.unwrap();
        sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
            .execute(&mut admin)
            .await
            .unwrap();
    }

    fn doc(client: &str, i: u32) -> Option<String> {
        Some(format!(r#"{{"c": "{client}", "i": {i}}}"#))
    }

    /// Many gets at once, mixed across two clients, with repeats, unknown ids, a deleted order
    /// and one client asking for the other's ids: each answer is the caller's own.
    #[tokio::test]
    async fn each_caller_gets_its_own_order_and_only_its_own() {
        let (pool, schema) = store(4).await;
        let batcher = Arc::new(GetBatcher::start(pool));
        let mut asks = Vec::new();
        for round in 0..3u32 {
            for i in 1..=45u32 {
                for client in ["a", "b", "c"] {
                    asks.push((client, format!("O{}", (i + round) % 46)));
                }
            }
        }
        let tasks: Vec<_> = asks
            .iter()
            .cloned()
            .map(|(client, id)| {
                let batcher = batcher.clone();
                tokio::spawn(async move { batcher.get(client, &id).await.unwrap() })
            })
            .collect();
        for ((client, id), task) in asks.iter().zip(tasks) {
            let n: u32 = id[1..].parse().unwrap();
            let expected = match *client {
                "c" => None,
                _ if n == 0 || n > 40 || n == 13 => None,
                _ => doc(client, n),
            };
            assert_eq!(task.await.unwrap(), expected, "{client} {id}");
        }
        assert!(batcher.statements() < asks.len() as u64);
        drop_schema(&schema).await;
    }

    /// Gets that arrive while the lane is busy go out together, in one statement.
    #[tokio::test(flavor = "current_thread")]
    async fn gets_queued_behind_a_busy_lane_share_one_statement() {
        let (pool, schema) = store(1).await;
        let held = pool.acquire().await.unwrap();
        let batcher = Arc::new(GetBatcher::start(pool));
        let ask = |id: &str| {
            let batcher = batcher.clone();
            let id = id.to_string();
            tokio::spawn(async move { batcher.get("a", &id).await.unwrap() })
        };
        // The first waits for the only connection, holding the lane.
        let first = ask("O1");
        tokio::task::yield_now().await;
        let queued: Vec<_> = (2..=11).map(|i| ask(&format!("O{i}"))).collect();
        tokio::task::yield_now().await;
        drop(held);
        assert_eq!(first.await.unwrap(), doc("a", 1));
        for (i, task) in (2..=11).zip(queued) {
            assert_eq!(task.await.unwrap(), doc("a", i));
        }
        assert_eq!(
            batcher.statements(),
            2,
            "one for the first, one for the ten behind it"
        );
        drop_schema(&schema).await;
    }

    /// A database that cannot be reached fails every get of the batch, each with the cause.
    #[tokio::test]
    async fn a_failed_batch_fails_each_of_its_gets_as_unavailable() {
        let options = PgConnectOptions::from_str("postgres://postgres@127.0.0.1:1/none").unwrap();
        let batcher = Arc::new(GetBatcher::start(PgConnections::new(
            options,
            1,
            Duration::from_secs(2),
        )));
        let tasks: Vec<_> = (0..5)
            .map(|i| {
                let batcher = batcher.clone();
                tokio::spawn(async move { batcher.get("a", &format!("O{i}")).await })
            })
            .collect();
        for task in tasks {
            let err = task.await.unwrap().unwrap_err();
            assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
        }
    }

    /// The first lane takes any batch; another only one that is worth its own statement.
    #[test]
    fn a_batch_goes_out_beside_another_only_when_enough_gets_wait() {
        assert!(may_go(0, 1));
        assert!(!may_go(1, 1));
        assert!(!may_go(1, SECOND_LANE_AT - 1));
        assert!(may_go(1, SECOND_LANE_AT));
        assert!(!may_go(LANES, MAX_BATCH), "no lane left");
    }

    #[test]
    fn statements_are_padded_to_powers_of_two() {
        assert_eq!(statement(1).1, 1);
        assert!(statement(1).0.contains("IN ($2)"));
        assert_eq!(statement(3).1, 4);
        assert!(statement(3).0.contains("IN ($2, $3, $4, $5)"));
        assert_eq!(statement(MAX_BATCH).1, MAX_BATCH);
        assert!(
            statement(MAX_BATCH)
                .0
                .contains(&format!("${})", MAX_BATCH + 1))
        );
    }
}
