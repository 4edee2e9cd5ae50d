//! A token bucket per capability.
//!
//! A bucket holds up to `burst` tokens and gains `per_second` of them each
//! second; every call takes one. A call that finds the bucket empty reserves
//! the next token and waits for it, unless that token comes after the call's
//! deadline: then it fails at once and gives its reservation back.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use ralph_runtime::capabilities::Capability;
use serde::Deserialize;
use tokio::time::Instant;

use crate::config::RateLimits;

/// Calls per second, unless configured.
pub const DEFAULT_PER_SECOND: f64 = 5.0;
/// Calls allowed at once after a quiet spell, unless configured.
pub const DEFAULT_BURST: u32 = 10;

/// One capability's limit.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimit {
    pub per_second: f64,
    pub burst: u32,
}

impl Default for RateLimit {
    fn default() -> Self {
        Self {
            per_second: DEFAULT_PER_SECOND,
            burst: DEFAULT_BURST,
        }
    }
}

impl RateLimit {
    /// The field at fault and why, if the limit cannot work.
    pub(crate) fn validate(&self) -> Result<(), (&'static str, String)> {
        if !(self.per_second.is_finite() && self.per_second > 0.0) {
            return Err((
                "per_second",
                format!("must be a positive number, got {}", self.per_second),
            ));
        }
        if self.burst == 0 {
            return Err(("burst", "must be at least 1".to_owned()));
        }
        Ok(())
    }
}

/// Waiting for a token would pass the deadline.
#[derive(Debug, Clone, PartialEq)]
pub struct Throttled {
    /// How long the call would have had to wait.
    pub wait: Duration,
    pub limit: RateLimit,
}

struct BucketState {
    /// Below zero when callers have reserved tokens not yet earned.
    tokens: f64,
    updated: Instant,
}

/// One token bucket.
pub struct TokenBucket {
    limit: RateLimit,
    state: Mutex<BucketState>,
}

impl TokenBucket {
    /// A full bucket.
    pub fn new(limit: RateLimit) -> Self {
        Self {
            limit,
            state: Mutex::new(BucketState {
                tokens: f64::from(limit.burst),
                updated: Instant::now(),
            }),
        }
    }

    /// Takes a token, waiting for one until `deadline` at the latest.
    pub async fn acquire(&self, deadline: Instant) -> Result<(), Throttled> {
        let ready_at = self.reserve(deadline)?;
        tokio::time::sleep_until(ready_at).await;
        Ok(())
    }

    /// Reserves a token and says when it is earned.
    fn reserve(&self, deadline: Instant) -> Result<Instant, Throttled> {
        let now = Instant::now();
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let earned = now.duration_since(state.updated).as_secs_f64() * self.limit.per_second;
        state.tokens = (state.tokens + earned).min(f64::from(self.limit.burst));
        state.updated = now;
        state.tokens -= 1.0;
        if state.tokens >= 0.0 {
            return Ok(now);
        }
        // A rate so small that the wait does not fit a duration waits forever.
        let wait = Duration::try_from_secs_f64(-state.tokens / self.limit.per_second)
            .unwrap_or(Duration::MAX);
        match now.checked_add(wait) {
            Some(ready_at) if ready_at <= deadline => Ok(ready_at),
            _ => {
                state.tokens += 1.0;
                Err(Throttled {
                    wait,
                    limit: self.limit,
                })
            }
        }
    }
}

/// A bucket for each integration capability.
pub struct RateLimiters {
    buckets: BTreeMap<Capability, TokenBucket>,
}

impl RateLimiters {
    /// Buckets with the configured limits, the defaults elsewhere.
    pub fn new(limits: &RateLimits) -> Self {
        let configured = [
            (Capability::Aws, limits.aws),
            (Capability::Sentry, limits.sentry),
            (Capability::Alpaca, limits.alpaca),
            (Capability::HttpGet, limits.http_get),
        ];
        Self {
            buckets: configured
                .into_iter()
                .map(|(capability, limit)| {
                    (capability, TokenBucket::new(limit.unwrap_or_default()))
                })
                .collect(),
        }
    }

    /// Takes a token for `capability`; capabilities without a bucket are not limited.
    pub async fn acquire(
        &self,
        capability: Capability,
        deadline: Instant,
    ) -> Result<(), Throttled> {
        match self.buckets.get(&capability) {
            Some(bucket) => bucket.acquire(deadline).await,
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit(per_second: f64, burst: u32) -> RateLimit {
        RateLimit { per_second, burst }
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_within_the_limit_does_not_wait() {
        let bucket = TokenBucket::new(limit(1.0, 3));
        let start = Instant::now();
        for _ in 0..3 {
            bucket
                .acquire(start + Duration::from_secs(60))
                .await
                .expect("token");
        }
        assert_eq!(Instant::now(), start);
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_beyond_the_burst_waits_for_the_next_token() {
        let bucket = TokenBucket::new(limit(2.0, 1));
        let start = Instant::now();
        let deadline = start + Duration::from_secs(60);
        bucket.acquire(deadline).await.expect("first");
        bucket.acquire(deadline).await.expect("second");
        assert_eq!(Instant::now() - start, Duration::from_millis(500));
        bucket.acquire(deadline).await.expect("third");
        assert_eq!(Instant::now() - start, Duration::from_millis(1000));
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_whose_token_comes_after_its_deadline_fails_at_once() {
        let bucket = TokenBucket::new(limit(1.0, 1));
        let start = Instant::now();
        bucket
            .acquire(start + Duration::from_secs(5))
            .await
            .expect("first");
        let throttled = bucket
            .acquire(start + Duration::from_millis(500))
            .await
            .expect_err("throttled");
        assert_eq!(throttled.wait, Duration::from_secs(1));
        assert_eq!(Instant::now(), start);
        // The refused call gave its reservation back.
        bucket
            .acquire(start + Duration::from_secs(5))
            .await
            .expect("next");
        assert_eq!(Instant::now() - start, Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn a_vanishingly_small_rate_throttles_instead_of_overflowing() {
        let bucket = TokenBucket::new(limit(1e-300, 1));
        let deadline = Instant::now() + Duration::from_secs(3600);
        bucket.acquire(deadline).await.expect("the burst");
        let throttled = bucket.acquire(deadline).await.expect_err("throttled");
        assert_eq!(throttled.wait, Duration::MAX);
    }

    #[tokio::test(start_paused = true)]
    async fn tokens_refill_up_to_the_burst_only() {
        let bucket = TokenBucket::new(limit(10.0, 2));
        let start = Instant::now();
        tokio::time::sleep(Duration::from_secs(60)).await;
        let deadline = Instant::now();
        bucket.acquire(deadline).await.expect("first");
        bucket.acquire(deadline).await.expect("second");
        assert!(bucket.acquire(deadline).await.is_err());
        assert!(Instant::now() - start >= Duration::from_secs(60));
    }

    #[tokio::test(start_paused = true)]
    async fn each_capability_has_its_own_bucket() {
        let limits = RateLimits {
            sentry: Some(limit(1.0, 1)),
            ..RateLimits::default()
        };
        let limiters = RateLimiters::new(&limits);
        let now = Instant::now();
        limiters
            .acquire(Capability::Sentry, now)
            .await
            .expect("first");
        assert!(limiters.acquire(Capability::Sentry, now).await.is_err());
        limiters
            .acquire(Capability::Aws, now)
            .await
            .expect("aws is separate");
        limiters
            .acquire(Capability::Repository, now)
            .await
            .expect("not limited");
    }

    #[test]
    fn a_limit_that_cannot_work_names_its_field() {
        assert_eq!(limit(0.0, 1).validate().expect_err("zero").0, "per_second");
        assert_eq!(
            limit(f64::NAN, 1).validate().expect_err("nan").0,
            "per_second"
        );
        assert_eq!(limit(1.0, 0).validate().expect_err("burst").0, "burst");
        assert!(RateLimit::default().validate().is_ok());
    }
}
