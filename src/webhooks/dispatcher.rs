//! The dispatcher: a task of `oms serve` that leases due deliveries from the outbox, sends them,
//! and records each attempt. Several processes may run one on the same PostgreSQL: a lease
//! (taken with `SKIP LOCKED`) gives each delivery to one of them, and only the oldest pending
//! delivery of an order (per endpoint) is ever leased, so one order's events arrive in order.
//! A process that dies holding a lease leaves it to expire; the delivery is then sent again, so
//! delivery is at least once, and exactly once while nothing crashes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::SecondsFormat;
use rand::Rng;
use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::sync::{Semaphore, mpsc};

use super::{MAX_RESPONSE_BYTES, WebhookSettings, guard, now_ms, signing};
use crate::store::OrderStore;
use crate::store::webhooks::{AttemptRecord, Claimed, Next};

/// Runs until the task is aborted.
pub async fn run(store: Arc<dyn OrderStore>, settings: WebhookSettings) {
    let (records, recorded) = mpsc::unbounded_channel();
    let dispatcher = match Dispatcher::new(store.clone(), settings, records) {
        Ok(d) => Arc::new(d),
        Err(error) => {
            tracing::error!(%error, "the webhook delivery client cannot be built; no deliveries");
            return;
        }
    };
    // Dropping the set (the dispatcher aborted) aborts the recorder and the purge with it.
    let mut helpers = tokio::task::JoinSet::new();
    helpers.spawn(record(store.clone(), recorded));
    helpers.spawn(purge(store, dispatcher.settings.keep));
    let slots_total = dispatcher.settings.concurrency.max(1);
    let slots = Arc::new(Semaphore::new(slots_total));
    loop {
        // Busy, it waits for half the slots, so that one lease statement takes many deliveries
        // instead of one each; idle, that is all of them at once.
        let Ok(half) = slots.acquire_many((slots_total as u32).div_ceil(2)).await else {
            return;
        };
        drop(half);
        let free = slots.available_permits() as u32;
        let now = now_ms();
        let lease_until = now + dispatcher.lease().as_millis() as i64;
        let claimed = match dispatcher
            .store
            .claim_deliveries(now, lease_until, free)
            .await
        {
            Ok(claimed) => claimed,
            Err(error) => {
                tracing::warn!(%error, "looking for webhook deliveries failed; retrying");
                tokio::time::sleep(dispatcher.settings.poll * 4).await;
                continue;
            }
        };
        let idle = (claimed.len() as u32) < free;
        for delivery in claimed {
            let Ok(slot) = slots.clone().acquire_owned().await else {
                return;
            };
            let dispatcher = dispatcher.clone();
            tokio::spawn(async move {
                dispatcher.deliver(delivery).await;
                drop(slot);
            });
        }
        if idle {
            tokio::time::sleep(dispatcher.settings.poll).await;
        }
    }
}

/// Writes the attempts as they come, all that have arrived in one transaction: one commit for
/// many deliveries, where a commit each would cost as much as the change that queued them.
async fn record(store: Arc<dyn OrderStore>, mut attempts: mpsc::UnboundedReceiver<AttemptRecord>) {
    let mut batch = Vec::new();
    while attempts.recv_many(&mut batch, RECORD_BATCH).await > 0 {
        // One order of row locks for every process: an endpoint disabled by two at once cannot
        // deadlock them.
        batch.sort_by(|a, b| (&a.endpoint_id, a.delivery_id).cmp(&(&b.endpoint_id, b.delivery_id)));
        if let Err(error) = store.record_attempts(&batch).await {
            // Their leases run out and they are sent again: at least once.
            tracing::warn!(%error, attempts = batch.len(), "recording webhook attempts failed");
        }
        batch.clear();
    }
}

/// Every ten minutes (the first time a minute after start), the deliveries that finished longer
/// than `keep` ago go, with their log, a batch at a time so that each delete stays short. With
/// several processes each purges; a row is deleted once whoever comes first.
async fn purge(store: Arc<dyn OrderStore>, keep: Duration) {
    const BATCH: u32 = 1000;
    let mut tick = tokio::time::interval_at(
        tokio::time::Instant::now() + Duration::from_secs(60),
        Duration::from_secs(600),
    );
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let before = now_ms() - keep.as_millis() as i64;
        loop {
            match store.purge_deliveries(before, BATCH).await {
                Ok(n) if n < u64::from(BATCH) => break,
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(%error, "purging finished webhook deliveries failed");
                    break;
                }
            }
        }
    }
}

/// Attempts one transaction records at most.
const RECORD_BATCH: usize = 256;

struct Dispatcher {
    store: Arc<dyn OrderStore>,
    settings: WebhookSettings,
    client: reqwest::Client,
    records: mpsc::UnboundedSender<AttemptRecord>,
}

impl Dispatcher {
    fn new(
        store: Arc<dyn OrderStore>,
        settings: WebhookSettings,
        records: mpsc::UnboundedSender<AttemptRecord>,
    ) -> reqwest::Result<Dispatcher> {
        let mut client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(Duration::from_secs(5)))
            .user_agent(concat!("oms-webhooks/", env!("CARGO_PKG_VERSION")))
            .no_proxy();
        if !settings.allow_private {
            client = client.dns_resolver(Arc::new(guard::PublicOnly));
        }
        Ok(Dispatcher {
            store,
            client: client.build()?,
            settings,
            records,
        })
    }

    /// How long a leased delivery stays with this process: its attempt, and time to record it.
    fn lease(&self) -> Duration {
        self.settings.timeout + Duration::from_secs(5)
    }

    async fn deliver(&self, delivery: Claimed) {
        let started = Instant::now();
        let attempted_at = now_ms();
        let outcome = self.send(&delivery).await;
        let latency_ms = started.elapsed().as_millis() as i64;
        let (status_code, error) = match outcome {
            Ok(status) if (200..300).contains(&status) => (Some(i32::from(status)), None),
            Ok(status) => (Some(i32::from(status)), Some(format!("answered {status}"))),
            Err(error) => (None, Some(error)),
        };
        let next = match &error {
            None => Next::Delivered,
            Some(error) => self.after_failure(&delivery, attempted_at, error),
        };
        if let Next::GiveUp { reason } = &next {
            tracing::warn!(endpoint = %delivery.endpoint_id, %reason, "webhook endpoint disabled");
        }
        let record = AttemptRecord {
            delivery_id: delivery.id,
            endpoint_id: delivery.endpoint_id.clone(),
            attempted_at,
            status_code,
            latency_ms,
            error,
            next,
        };
        // Only gone when the dispatcher is stopping: the lease runs out, the delivery is sent
        // again.
        let _ = self.records.send(record);
    }

    fn after_failure(&self, delivery: &Claimed, now: i64, error: &str) -> Next {
        let first_failed_at = delivery.first_failed_at.unwrap_or(now);
        let failing_for = now - first_failed_at;
        if failing_for >= self.settings.retry_for.as_millis() as i64 {
            return Next::GiveUp {
                reason: format!(
                    "deliveries failed for {} s after {} attempts; the last: {error}",
                    failing_for / 1000,
                    delivery.attempts + 1
                ),
            };
        }
        let pause = backoff(&self.settings, delivery.attempts as u32 + 1);
        Next::Retry {
            at: now + pause.as_millis() as i64,
            first_failed_at,
        }
    }

    /// Sends one delivery; the status it was answered with, or why there is none.
    async fn send(&self, delivery: &Claimed) -> Result<u16, String> {
        let url = reqwest::Url::parse(&delivery.url).map_err(|e| format!("bad URL: {e}"))?;
        if !self.settings.allow_private
            && let Some(ip) = guard::private_literal(&url)
        {
            return Err(format!("{ip} is a loopback, private or link-local address"));
        }
        let body = payload(delivery);
        let id = message_id(delivery);
        let timestamp = chrono::Utc::now().timestamp();
        let mut signature = signing::sign(&delivery.secret, &id, timestamp, &body);
        if let (Some(previous), Some(until)) =
            (&delivery.previous_secret, delivery.previous_secret_until)
            && until > now_ms()
        {
            signature.push(' ');
            signature.push_str(&signing::sign(previous, &id, timestamp, &body));
        }
        let response = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body)
            .send()
            .await
            .map_err(describe)?;
        let status = response.status().as_u16();
        drain(response).await;
        Ok(status)
    }
}

/// Reads a response to its end, or to [`MAX_RESPONSE_BYTES`], whichever comes first: a
/// receiver that answers without end costs a bounded read (the timeout covers the time).
async fn drain(mut response: reqwest::Response) {
    let mut read = 0;
    while let Ok(Some(chunk)) = response.chunk().await {
        read += chunk.len();
        if read >= MAX_RESPONSE_BYTES {
            break;
        }
    }
}

/// A failed request in a line: timeout, connection or other, with its innermost cause.
fn describe(error: reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    let mut cause: &dyn std::error::Error = &error;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    let mut text = format!("{kind}: {cause}");
    text.truncate(500);
    text
}

/// `base * 2^(attempt-1)`, at most `retry_max`, then a random point in its upper half: retries
/// of many deliveries that failed together spread out instead of arriving together.
///
/// A formula, not a retry crate (backon, backoff): those drive a loop inside one process, while
/// here the schedule lives in the outbox row (`attempts`, `next_attempt_at`), survives restarts
/// and is resumed by whichever process leases the delivery next, so only the n-th delay is
/// needed.
pub fn backoff(settings: &WebhookSettings, attempt: u32) -> Duration {
    let doubled = settings
        .retry_base
        .saturating_mul(1u32 << attempt.saturating_sub(1).min(20));
    let full = doubled
        .min(settings.retry_max)
        .max(Duration::from_millis(2));
    let half = full / 2;
    half + full.mul_f64(rand::thread_rng().gen_range(0.0..0.5))
}

/// The `webhook-id`: the same for every attempt and redelivery of one event, to every endpoint,
/// so that a receiver can tell a repeat from a new event.
pub fn message_id(delivery: &Claimed) -> String {
    let mut hash = Sha256::new();
    for part in [
        delivery.client_id.as_bytes(),
        delivery.order_id.as_bytes(),
        delivery.version.to_string().as_bytes(),
    ] {
        hash.update(part);
        hash.update([0]);
    }
    format!("msg_{}", &hex::encode(hash.finalize())[..32])
}

#[derive(Serialize)]
struct Payload<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    timestamp: String,
    data: Data<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Data<'a> {
    client_id: &'a str,
    order_id: &'a str,
    version: i64,
    changed_fields: &'a [String],
}

/// The body: the event's type and time, and which order and version it is about (the order
/// itself is read from the API, so that a late or repeated delivery never carries stale data).
fn payload(delivery: &Claimed) -> Vec<u8> {
    let payload = Payload {
        kind: &delivery.event_type,
        timestamp: delivery
            .occurred_at
            .to_rfc3339_opts(SecondsFormat::Secs, true),
        data: Data {
            client_id: &delivery.client_id,
            order_id: &delivery.order_id,
            version: delivery.version,
            changed_fields: &delivery.changed_fields.0,
        },
    };
    serde_json::to_vec(&payload).expect("the payload serializes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_up_to_the_cap() {
        let settings = WebhookSettings {
            retry_base: Duration::from_secs(5),
            retry_max: Duration::from_secs(3600),
            ..WebhookSettings::default()
        };
        for (attempt, full) in [(1, 5), (2, 10), (3, 20), (10, 2560), (11, 3600), (40, 3600)] {
            let full = Duration::from_secs(full);
            for _ in 0..20 {
                let pause = backoff(&settings, attempt);
                assert!(pause >= full / 2 && pause <= full, "{attempt}: {pause:?}");
            }
        }
    }

    #[test]
    fn the_default_schedule_retries_for_at_least_a_day() {
        let settings = WebhookSettings::default();
        assert!(settings.retry_for >= Duration::from_secs(24 * 3600));
    }
}
