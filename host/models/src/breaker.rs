//! A circuit breaker: after enough consecutive failed calls the provider is
//! considered down and fails fast, without a request, until it is reset.

use std::sync::atomic::{AtomicU32, Ordering};

#[derive(Debug)]
pub(crate) struct Breaker {
    threshold: u32,
    consecutive_failures: AtomicU32,
}

impl Breaker {
    /// A closed breaker that opens after `threshold` consecutive failures;
    /// zero never opens.
    pub(crate) fn new(threshold: u32) -> Self {
        Self {
            threshold,
            consecutive_failures: AtomicU32::new(0),
        }
    }

    /// `Err(failures)` when the breaker is open.
    pub(crate) fn check(&self) -> Result<(), u32> {
        let failures = self.consecutive_failures.load(Ordering::Acquire);
        if self.threshold > 0 && failures >= self.threshold {
            Err(failures)
        } else {
            Ok(())
        }
    }

    pub(crate) fn record_success(&self) {
        self.consecutive_failures.store(0, Ordering::Release);
    }

    /// Counts a failed call; returns the consecutive failures so far.
    pub(crate) fn record_failure(&self) -> u32 {
        self.consecutive_failures
            .fetch_add(1, Ordering::AcqRel)
            .saturating_add(1)
    }

    pub(crate) fn reset(&self) {
        self.record_success();
    }

    pub(crate) fn is_open(&self) -> bool {
        self.check().is_err()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_opens_after_the_threshold_and_closes_on_reset() {
        let breaker = Breaker::new(2);
        assert_eq!(breaker.check(), Ok(()));
        breaker.record_failure();
        assert_eq!(breaker.check(), Ok(()));
        breaker.record_failure();
        assert_eq!(breaker.check(), Err(2));
        breaker.reset();
        assert_eq!(breaker.check(), Ok(()));
    }

    #[test]
    fn a_success_clears_the_count() {
        let breaker = Breaker::new(2);
        breaker.record_failure();
        breaker.record_success();
        breaker.record_failure();
        assert!(!breaker.is_open());
    }

    #[test]
    fn a_zero_threshold_never_opens() {
        let breaker = Breaker::new(0);
        for _ in 0..10 {
            breaker.record_failure();
        }
        assert!(!breaker.is_open());
    }
}
