//! When to retry and how long to wait before the next attempt.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::config::RetryPolicy;

/// Statuses that mean "try again later": rate limited, or the service (or a
/// gateway in front of it) is overloaded or briefly broken. 529 is
/// Anthropic's "overloaded".
pub(crate) fn is_transient_status(status: u16) -> bool {
    matches!(status, 429 | 500 | 502 | 503 | 504 | 529)
}

/// A `Retry-After` header in seconds; an HTTP date or garbage is ignored
/// (the exponential backoff is used instead).
pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    let seconds: f64 = value.trim().parse().ok()?;
    (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds.min(86_400.0)))
}

/// The wait after failed attempt number `attempt` (1 for the first):
/// `initial_backoff * 2^(attempt - 1)`, capped at `max_backoff`, then
/// scaled by `jitter` in `[0.5, 1.0]` so that callers failing together do
/// not retry together.
pub(crate) fn backoff(policy: &RetryPolicy, attempt: u32, jitter: f64) -> Duration {
    let doublings = attempt.saturating_sub(1).min(30);
    let exponential = policy
        .initial_backoff
        .saturating_mul(1_u32 << doublings)
        .min(policy.max_backoff);
    exponential.mul_f64(jitter.clamp(0.5, 1.0))
}

/// A jitter factor in `[0.5, 1.0]` from the clock's nanoseconds, mixed so
/// that nearby instants give unrelated factors.
pub(crate) fn jitter_from_clock() -> f64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.subsec_nanos());
    // A multiplicative hash spreads the low-entropy nanoseconds over 32 bits.
    let mixed = nanos.wrapping_mul(0x9E37_79B9);
    0.5 + f64::from(mixed) / f64::from(u32::MAX) / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 10,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(1_000),
            max_total_wait: Duration::from_secs(10),
        }
    }

    #[test]
    fn the_backoff_doubles_up_to_its_cap() {
        let policy = policy();
        assert_eq!(backoff(&policy, 1, 1.0), Duration::from_millis(100));
        assert_eq!(backoff(&policy, 2, 1.0), Duration::from_millis(200));
        assert_eq!(backoff(&policy, 4, 1.0), Duration::from_millis(800));
        assert_eq!(backoff(&policy, 5, 1.0), Duration::from_millis(1_000));
        assert_eq!(backoff(&policy, 40, 1.0), Duration::from_millis(1_000));
        assert_eq!(backoff(&policy, 2, 0.5), Duration::from_millis(100));
        assert_eq!(backoff(&policy, 2, 0.0), Duration::from_millis(100));
    }

    #[test]
    fn the_jitter_stays_in_range() {
        for _ in 0..1_000 {
            let jitter = jitter_from_clock();
            assert!((0.5..=1.0).contains(&jitter), "{jitter}");
        }
    }

    #[test]
    fn retry_after_is_read_in_seconds_only() {
        assert_eq!(parse_retry_after("2"), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after(" 0.5 "), Some(Duration::from_millis(500)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(parse_retry_after("-1"), None);
        assert_eq!(parse_retry_after("NaN"), None);
    }

    #[test]
    fn only_transient_statuses_are_retried() {
        for status in [429, 500, 502, 503, 504, 529] {
            assert!(is_transient_status(status), "{status}");
        }
        for status in [200, 400, 401, 403, 404, 422, 501] {
            assert!(!is_transient_status(status), "{status}");
        }
    }
}
