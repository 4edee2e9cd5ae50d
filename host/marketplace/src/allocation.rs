//! The zero-sum budget: a fixed pool of iterations allocated whole (SPEC §2.4).

/// Tolerance for the floor and for ties between fractional parts.
const EPSILON: f64 = 1e-9;

/// Splits `pool` iterations between bidders by `weight * efficiency`.
///
/// Every bidder gets `minimum` first; the rest is shared in proportion to the
/// scores (all-zero scores count as all one), rounded down, and the units
/// left go one each to the largest fractional parts, ties (within 1e-9) to
/// the earlier bidder. The result always sums to `pool` when
/// `minimum * n <= pool`.
pub fn allocate(weights: &[f64], efficiencies: &[f64], pool: u64, minimum: u64) -> Vec<u64> {
    let count = weights.len();
    if count == 0 {
        return Vec::new();
    }
    let mut scores: Vec<f64> = weights
        .iter()
        .zip(efficiencies)
        .map(|(weight, efficiency)| weight * efficiency)
        .collect();
    if scores.iter().all(|score| *score == 0.0) {
        scores.fill(1.0);
    }
    let total: f64 = scores.iter().sum();
    let spare = pool.saturating_sub(minimum * count as u64);
    let quotas: Vec<f64> = scores
        .iter()
        .map(|score| spare as f64 * score / total)
        .collect();
    let mut allocations: Vec<u64> = quotas
        .iter()
        .map(|quota| minimum + (quota + EPSILON).floor().max(0.0) as u64)
        .collect();
    let mut fractions: Vec<f64> = quotas
        .iter()
        .map(|quota| quota - (quota + EPSILON).floor())
        .collect();
    let given: u64 = allocations.iter().sum();
    for _ in 0..pool.saturating_sub(given) {
        let winner = largest_fraction(&fractions);
        allocations[winner] += 1;
        fractions[winner] = f64::NEG_INFINITY;
    }
    allocations
}

/// The index of the largest fraction; a later one wins only by more than
/// the tolerance.
fn largest_fraction(fractions: &[f64]) -> usize {
    let mut best = 0;
    for (index, fraction) in fractions.iter().enumerate().skip(1) {
        if *fraction > fractions[best] + EPSILON {
            best = index;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::allocate;

    #[test]
    fn equal_bidders_share_the_pool_equally() {
        let third = 1.0 / 3.0;
        assert_eq!(allocate(&[third; 3], &[0.5; 3], 30, 1), [10, 10, 10]);
    }

    #[test]
    fn the_minimum_is_given_before_the_proportional_share() {
        // Scores 0.9 / 0.05 / 0.05 of a spare of 27: 24.3, 1.35, 1.35.
        assert_eq!(allocate(&[0.9, 0.05, 0.05], &[1.0; 3], 30, 1), [25, 3, 2]);
    }

    #[test]
    fn leftover_units_go_to_the_largest_fractional_parts() {
        // Quotas 6.75, 13.5, 6.75 + minimum 1: floors 7, 14, 7 = 28; the two
        // units left go to the 0.75 fractions.
        assert_eq!(allocate(&[0.25, 0.5, 0.25], &[1.0; 3], 30, 1), [8, 14, 8]);
    }

    #[test]
    fn ties_go_to_the_earlier_bidder() {
        let third = 1.0 / 3.0;
        // Quotas of 31/3 each: one unit left, to bidder 1.
        assert_eq!(allocate(&[third; 3], &[0.5; 3], 31, 0), [11, 10, 10]);
    }

    #[test]
    fn all_zero_scores_count_as_all_one() {
        assert_eq!(allocate(&[0.0; 3], &[0.5; 3], 30, 1), [10, 10, 10]);
    }

    #[test]
    fn a_zero_minimum_turns_the_guarantee_off() {
        assert_eq!(allocate(&[0.98, 0.01, 0.01], &[1.0; 3], 30, 0), [30, 0, 0]);
    }

    #[test]
    fn a_quota_a_hair_under_an_integer_counts_as_that_integer() {
        // 4 * 0.3 / (0.1 + 0.2 + 0.3) is 1.9999999999999996 in floating point:
        // the floor's 1e-9 tolerance gives it 2, so no leftover unit is needed.
        assert_eq!(allocate(&[0.1, 0.2, 0.3], &[1.0; 3], 4, 0), [1, 1, 2]);
    }
}
