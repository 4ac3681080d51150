//! Per-client request rate: `governor`'s keyed limiter (GCRA), keyed by the verified token's
//! client id and applied where the token is verified (`auth`), so that every spelling of the
//! `Authorization` header that authenticates is also limited.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Clients remembered before those whose allowance has refilled are forgotten.
const FORGET_ABOVE: usize = 100_000;

/// `burst` requests at once per client, refilled at `per_second`.
pub struct ClientRateLimit {
    limiter: DefaultKeyedRateLimiter<String>,
}

impl ClientRateLimit {
    /// `None` when `per_second` is not positive: rate limiting is off.
    pub fn new(per_second: f64, burst: u32) -> Option<ClientRateLimit> {
        if per_second.is_nan() || per_second <= 0.0 {
            return None;
        }
        let period = Duration::from_secs_f64(1.0 / per_second);
        let burst = NonZeroU32::new(burst.max(1)).expect("at least 1");
        let quota = Quota::with_period(period)?.allow_burst(burst);
        Some(ClientRateLimit {
            limiter: RateLimiter::keyed(quota),
        })
    }

    /// `Err(wait)` when the client must wait before its next request.
    pub fn check(&self, client_id: &str) -> Result<(), Duration> {
        if self.limiter.len() > FORGET_ABOVE {
            self.limiter.retain_recent();
        }
        self.limiter
            .check_key(&client_id.to_string())
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }
}

/// Failed secret checks at the token endpoints, limited per API key and per source address:
/// after a burst of failures a key (or address) must wait before its next attempt, whatever
/// secret it brings, so guessing cannot go faster than the refill. A legitimate client asks
/// for a token every few hours and never comes near it.
pub struct FailureLimit {
    per_key: DefaultKeyedRateLimiter<String>,
    per_addr: DefaultKeyedRateLimiter<IpAddr>,
    /// Until when a key or address is refused outright. governor cannot be asked without
    /// spending a cell, and only failures may spend one.
    blocked: Mutex<HashMap<Blocked, Instant>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Blocked {
    Key(String),
    Addr(IpAddr),
}

/// Failures a key may have at once; then it waits, and gets one more per
/// [`KEY_FAILURE_PERIOD`].
pub const KEY_FAILURES: u32 = 10;
pub const KEY_FAILURE_PERIOD: Duration = Duration::from_secs(6);
/// Failures one source address may have at once (over all keys), then one per
/// [`ADDR_FAILURE_PERIOD`].
pub const ADDR_FAILURES: u32 = 30;
pub const ADDR_FAILURE_PERIOD: Duration = Duration::from_secs(2);

impl Default for FailureLimit {
    fn default() -> Self {
        // The failure that goes past the burst is the one that blocks, so the burst is one less
        // than the failures allowed: the next attempt after the last allowed failure waits.
        let quota = |failures: u32, period: Duration| {
            Quota::with_period(period)
                .expect("a positive period")
                .allow_burst(NonZeroU32::new(failures - 1).expect("at least two failures"))
        };
        FailureLimit {
            per_key: RateLimiter::keyed(quota(KEY_FAILURES, KEY_FAILURE_PERIOD)),
            per_addr: RateLimiter::keyed(quota(ADDR_FAILURES, ADDR_FAILURE_PERIOD)),
            blocked: Mutex::new(HashMap::new()),
        }
    }
}

impl FailureLimit {
    /// `Err(wait)` while the key or the address must wait before trying again.
    pub fn check(&self, api_key: &str, addr: Option<IpAddr>) -> Result<(), Duration> {
        let blocked = self.blocked.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let until = [
            Some(Blocked::Key(api_key.to_string())),
            addr.map(Blocked::Addr),
        ]
        .into_iter()
        .flatten()
        .filter_map(|b| blocked.get(&b).copied())
        .filter(|until| *until > now)
        .max();
        match until {
            Some(until) => Err(until - now),
            None => Ok(()),
        }
    }

    /// Records a failed check; from now on `check` refuses the key or address if this one
    /// went over its allowance.
    pub fn failed(&self, api_key: &str, addr: Option<IpAddr>) {
        let clock = DefaultClock::default();
        let mut over = Vec::new();
        if self.per_key.len() > FORGET_ABOVE {
            self.per_key.retain_recent();
        }
        if let Err(not_until) = self.per_key.check_key(&api_key.to_string()) {
            over.push((
                Blocked::Key(api_key.to_string()),
                not_until.wait_time_from(clock.now()),
            ));
        }
        if let Some(addr) = addr {
            if self.per_addr.len() > FORGET_ABOVE {
                self.per_addr.retain_recent();
            }
            if let Err(not_until) = self.per_addr.check_key(&addr) {
                over.push((Blocked::Addr(addr), not_until.wait_time_from(clock.now())));
            }
        }
        if over.is_empty() {
            return;
        }
        let mut blocked = self.blocked.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        if blocked.len() > FORGET_ABOVE {
            blocked.retain(|_, until| *until > now);
        }
        for (who, wait) in over {
            blocked.insert(who, now + wait.max(Duration::from_secs(1)));
        }
    }
}

/// The limiter as the auth extractors find it in the application state; `None` is off.
#[derive(Clone, Default)]
pub struct RateGate(pub Option<Arc<ClientRateLimit>>);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_gets_its_burst_then_waits_and_clients_are_apart() {
        let limit = ClientRateLimit::new(2.0, 3).unwrap();
        for _ in 0..3 {
            assert!(limit.check("a").is_ok());
        }
        let wait = limit.check("a").unwrap_err();
        assert!(wait <= Duration::from_millis(500), "{wait:?}");
        assert!(limit.check("b").is_ok(), "per client");
    }

    #[test]
    fn zero_turns_it_off() {
        assert!(ClientRateLimit::new(0.0, 10).is_none());
    }

    #[test]
    fn failures_block_a_key_after_its_burst_and_an_address_over_all_keys() {
        let limit = FailureLimit::default();
        let addr: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..KEY_FAILURES {
            assert!(limit.check("k1", None).is_ok());
            limit.failed("k1", None);
        }
        let wait = limit.check("k1", None).unwrap_err();
        assert!(
            wait > Duration::ZERO && wait <= KEY_FAILURE_PERIOD,
            "{wait:?}"
        );
        assert!(limit.check("k2", None).is_ok(), "per key");

        for i in 0..ADDR_FAILURES {
            let key = format!("guess{i}");
            assert!(limit.check(&key, Some(addr)).is_ok(), "attempt {i}");
            limit.failed(&key, Some(addr));
        }
        assert!(limit.check("fresh", Some(addr)).is_err(), "per address");
        assert!(
            limit
                .check("fresh", Some("192.0.2.2".parse().unwrap()))
                .is_ok()
        );
    }
}
