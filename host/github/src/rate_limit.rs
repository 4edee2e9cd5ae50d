//! GitHub's rate limits, as its REST documentation describes them ("Rate
//! limits for the REST API", "Best practices for using the REST API"):
//!
//! - an answer 403 or 429 with `retry-after` asks to wait that many
//!   seconds;
//! - else one with `x-ratelimit-remaining: 0` asks to wait until
//!   `x-ratelimit-reset` (UTC epoch seconds): the primary limit is used up;
//! - else a 429, or a 403 whose message speaks of a rate limit, is a
//!   secondary limit without a stated wait: wait at least a minute,
//!   doubling on each further one. Any other 403 is a refusal, not a limit.
//!
//! Every wait is taken from one [`WaitBudget`]; a wait that does not fit
//! is not waited for at all.

use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ralph_issues::RateLimit;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;

/// The first wait for a secondary limit that names no wait.
pub const SECONDARY_FIRST_WAIT: Duration = Duration::from_secs(60);
/// The shortest wait for a primary limit (its reset may already be past
/// by the clock here).
const PRIMARY_SHORTEST_WAIT: Duration = Duration::from_secs(1);
/// How many waits one request may take before its answer is reported.
pub const MOST_WAITS_PER_REQUEST: u32 = 8;

/// A wait GitHub asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Wait {
    pub limit: RateLimit,
    pub duration: Duration,
    /// When the limit is lifted: `x-ratelimit-reset`, or now plus the wait.
    pub resets_at: SystemTime,
}

/// The wait an answer asks for, or `None` when it is not a rate limit.
/// `unstated_waits` counts the earlier secondary limits without a stated
/// wait for the same request, for the exponential back-off.
pub fn wait_for(
    status: StatusCode,
    headers: &HeaderMap,
    message: &str,
    unstated_waits: u32,
    now: SystemTime,
) -> Option<Wait> {
    if status != StatusCode::FORBIDDEN && status != StatusCode::TOO_MANY_REQUESTS {
        return None;
    }
    let used_up = header(headers, "x-ratelimit-remaining") == Some("0");
    let limit = if used_up {
        RateLimit::Primary
    } else {
        RateLimit::Secondary
    };
    if let Some(seconds) = header(headers, "retry-after").and_then(|value| value.parse().ok()) {
        let duration = Duration::from_secs(seconds);
        return Some(Wait {
            limit,
            duration,
            resets_at: now + duration,
        });
    }
    if used_up {
        let reset = header(headers, "x-ratelimit-reset")
            .and_then(|value| value.parse().ok())
            .map(|seconds| UNIX_EPOCH + Duration::from_secs(seconds));
        if let Some(resets_at) = reset {
            let duration = resets_at
                .duration_since(now)
                .unwrap_or_default()
                .max(PRIMARY_SHORTEST_WAIT);
            return Some(Wait {
                limit,
                duration,
                resets_at: resets_at.max(now + duration),
            });
        }
    }
    let speaks_of_a_limit = message.to_ascii_lowercase().contains("rate limit");
    if status == StatusCode::TOO_MANY_REQUESTS || speaks_of_a_limit || used_up {
        let duration = SECONDARY_FIRST_WAIT * 2u32.saturating_pow(unstated_waits.min(10));
        return Some(Wait {
            limit,
            duration,
            resets_at: now + duration,
        });
    }
    None
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name)?.to_str().ok().map(str::trim)
}

/// The time a client may spend waiting for rate limits, over its life.
#[derive(Debug)]
pub struct WaitBudget {
    total: Duration,
    spent: Mutex<Duration>,
}

/// A wait that does not fit in what is left of the budget.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OverBudget {
    pub total: Duration,
    pub left: Duration,
}

impl WaitBudget {
    pub fn new(total: Duration) -> Self {
        WaitBudget {
            total,
            spent: Mutex::new(Duration::ZERO),
        }
    }

    /// Takes `wait` from the budget, or takes nothing when it does not fit.
    pub fn take(&self, wait: Duration) -> Result<(), OverBudget> {
        let mut spent = self
            .spent
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let left = self.total.saturating_sub(*spent);
        if wait > left {
            return Err(OverBudget {
                total: self.total,
                left,
            });
        }
        *spent += wait;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).expect("header"));
        }
        map
    }

    const NOW: Duration = Duration::from_secs(1_800_000_000);

    fn now() -> SystemTime {
        UNIX_EPOCH + NOW
    }

    #[test]
    fn retry_after_is_obeyed() {
        let wait = wait_for(
            StatusCode::FORBIDDEN,
            &headers(&[("retry-after", "7")]),
            "You have exceeded a secondary rate limit",
            0,
            now(),
        )
        .expect("a limit");
        assert_eq!(wait.limit, RateLimit::Secondary);
        assert_eq!(wait.duration, Duration::from_secs(7));
    }

    #[test]
    fn a_used_up_primary_limit_waits_until_its_reset() {
        let reset = (NOW.as_secs() + 90).to_string();
        let wait = wait_for(
            StatusCode::FORBIDDEN,
            &headers(&[
                ("x-ratelimit-remaining", "0"),
                ("x-ratelimit-reset", &reset),
            ]),
            "API rate limit exceeded",
            0,
            now(),
        )
        .expect("a limit");
        assert_eq!(wait.limit, RateLimit::Primary);
        assert_eq!(wait.duration, Duration::from_secs(90));
        assert_eq!(wait.resets_at, now() + Duration::from_secs(90));
    }

    #[test]
    fn a_secondary_limit_without_a_wait_backs_off_from_a_minute() {
        let waits: Vec<u64> = (0..3)
            .map(|earlier| {
                wait_for(
                    StatusCode::TOO_MANY_REQUESTS,
                    &HeaderMap::new(),
                    "",
                    earlier,
                    now(),
                )
                .expect("a limit")
                .duration
                .as_secs()
            })
            .collect();
        assert_eq!(waits, [60, 120, 240]);
    }

    #[test]
    fn a_plain_refusal_is_no_limit() {
        let refusal = wait_for(
            StatusCode::FORBIDDEN,
            &HeaderMap::new(),
            "Resource not accessible by integration",
            0,
            now(),
        );
        assert_eq!(refusal, None);
        let missing = wait_for(
            StatusCode::NOT_FOUND,
            &headers(&[("retry-after", "1")]),
            "",
            0,
            now(),
        );
        assert_eq!(missing, None);
    }

    #[test]
    fn the_budget_gives_waits_until_the_next_does_not_fit_and_then_gives_nothing() {
        let budget = WaitBudget::new(Duration::from_secs(10));
        assert_eq!(budget.take(Duration::from_secs(6)), Ok(()));
        assert_eq!(
            budget.take(Duration::from_secs(5)),
            Err(OverBudget {
                total: Duration::from_secs(10),
                left: Duration::from_secs(4)
            })
        );
        assert_eq!(budget.take(Duration::from_secs(4)), Ok(()));
    }

    proptest::proptest! {
        #[test]
        fn the_budget_never_gives_more_than_its_total_and_a_refusal_takes_nothing(
            total in 0u64..1_000,
            waits in proptest::collection::vec(0u64..400, 0..20),
        ) {
            let budget = WaitBudget::new(Duration::from_secs(total));
            let mut given = 0;
            for wait in waits {
                match budget.take(Duration::from_secs(wait)) {
                    Ok(()) => given += wait,
                    Err(over) => {
                        proptest::prop_assert_eq!(over.left, Duration::from_secs(total - given));
                        proptest::prop_assert!(wait > total - given);
                    }
                }
                proptest::prop_assert!(given <= total);
            }
        }
    }
}
