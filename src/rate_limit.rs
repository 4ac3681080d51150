//! Per-client request rate: `governor`'s keyed limiter (GCRA), keyed by the verified token's
//! client id and applied where the token is verified (`auth`), so that every spelling of the
//! `Authorization` header that authenticates is also limited.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

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
}
