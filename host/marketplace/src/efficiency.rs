//! A bidder's efficiency: its success rate with one imagined success and one
//! imagined failure (the mean of a Beta(1, 1) posterior; SPEC §2.3).

/// `(successes + 1) / (successes + failures + 2)`.
pub fn efficiency(successes: u64, failures: u64) -> f64 {
    (successes as f64 + 1.0) / (successes as f64 + failures as f64 + 2.0)
}

#[cfg(test)]
mod tests {
    use super::efficiency;

    #[test]
    fn an_untried_bidder_starts_at_one_half() {
        assert_eq!(efficiency(0, 0), 0.5);
    }

    #[test]
    fn evidence_moves_it_toward_the_success_rate() {
        assert_eq!(efficiency(3, 1), 4.0 / 6.0);
        assert!((efficiency(900, 100) - 0.9).abs() < 1e-3);
    }

    #[test]
    fn it_never_reaches_zero_or_one() {
        assert!(efficiency(0, 1_000_000) > 0.0);
        assert!(efficiency(1_000_000, 0) < 1.0);
    }
}
