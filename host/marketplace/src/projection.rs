//! The Euclidean projection onto the capped simplex (SPEC §2.3, step 2).
//!
//! Given weights `v`, find `w` with `sum(w) = 1` and `min <= w_i <= max` that
//! is closest to `v`. The answer is `w_i = clamp(v_i - tau, min, max)` for the
//! one `tau` that makes the sum 1. The sum is a non-increasing, piecewise
//! linear function of `tau` whose kinks are at `v_i - max` and `v_i - min`;
//! we find the linear piece that crosses 1 and solve it exactly.

/// Projects `weights` in place onto `{ sum = 1, min <= w_i <= max }`.
///
/// Requires `min <= max` and `min * n <= 1 <= max * n` (the config guarantees
/// it); if the bounds are only feasible up to rounding, every weight ends at
/// the nearer bound.
pub fn project_onto_capped_simplex(weights: &mut [f64], min: f64, max: f64) {
    let count = weights.len();
    if count == 0 {
        return;
    }
    if min * count as f64 >= 1.0 {
        weights.fill(min);
        return;
    }
    if max * count as f64 <= 1.0 {
        weights.fill(max);
        return;
    }
    let tau = solve_tau(weights, min, max);
    for weight in weights.iter_mut() {
        *weight = (*weight - tau).clamp(min, max);
    }
}

/// The sum of the clamped weights for a given `tau`.
fn clamped_sum(weights: &[f64], tau: f64, min: f64, max: f64) -> f64 {
    weights
        .iter()
        .map(|weight| (weight - tau).clamp(min, max))
        .sum()
}

/// Finds `tau` with `clamped_sum(tau) = 1`.
fn solve_tau(weights: &[f64], min: f64, max: f64) -> f64 {
    let mut kinks: Vec<f64> = weights
        .iter()
        .flat_map(|weight| [weight - max, weight - min])
        .collect();
    kinks.sort_by(f64::total_cmp);
    // The sum is `n * max >= 1` left of the first kink and `n * min <= 1`
    // right of the last; find the last kink whose sum is still >= 1.
    let mut low = 0;
    let mut high = kinks.len() - 1;
    if clamped_sum(weights, kinks[high], min, max) >= 1.0 {
        return kinks[high];
    }
    // Invariant: sum(kinks[low]) >= 1 > sum(kinks[high]).
    while high - low > 1 {
        let middle = (low + high) / 2;
        if clamped_sum(weights, kinks[middle], min, max) >= 1.0 {
            low = middle;
        } else {
            high = middle;
        }
    }
    // Between kinks[low] and kinks[high] the sum is linear: weights clamped
    // at a bound stay there, the others move one-for-one with tau.
    let (left, right) = (kinks[low], kinks[high]);
    let middle = left + (right - left) / 2.0;
    let mut fixed = 0.0;
    let mut free_sum = 0.0;
    let mut free_count = 0usize;
    for weight in weights {
        let shifted = weight - middle;
        if shifted >= max {
            fixed += max;
        } else if shifted <= min {
            fixed += min;
        } else {
            free_sum += weight;
            free_count += 1;
        }
    }
    if free_count == 0 {
        // The sum is flat (and equal to 1) on this piece: any tau in it works.
        return left;
    }
    (free_sum + fixed - 1.0) / free_count as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn projected(weights: &[f64], min: f64, max: f64) -> Vec<f64> {
        let mut weights = weights.to_vec();
        project_onto_capped_simplex(&mut weights, min, max);
        weights
    }

    fn assert_close(actual: &[f64], expected: &[f64]) {
        assert_eq!(actual.len(), expected.len());
        for (a, e) in actual.iter().zip(expected) {
            assert!((a - e).abs() < 1e-12, "{actual:?} != {expected:?}");
        }
    }

    #[test]
    fn a_point_already_on_the_set_stays_put() {
        assert_close(&projected(&[0.2, 0.3, 0.5], 0.05, 0.6), &[0.2, 0.3, 0.5]);
    }

    #[test]
    fn an_increase_is_taken_equally_from_the_others() {
        let third = 1.0 / 3.0;
        assert_close(
            &projected(&[third + 0.1, third, third], 0.05, 0.6),
            &[
                third + 0.1 - 0.1 / 3.0,
                third - 0.1 / 3.0,
                third - 0.1 / 3.0,
            ],
        );
    }

    #[test]
    fn weights_past_the_cap_are_held_at_the_cap() {
        assert_close(&projected(&[0.9, 0.05, 0.05], 0.05, 0.6), &[0.6, 0.2, 0.2]);
    }

    #[test]
    fn weights_below_the_floor_are_held_at_the_floor() {
        assert_close(
            &projected(&[-0.5, 0.5, 0.5], 0.05, 0.6),
            &[0.05, 0.475, 0.475],
        );
    }

    #[test]
    fn bounds_that_leave_one_point_give_that_point() {
        assert_close(&projected(&[0.9, 0.0, 0.1], 0.25, 0.25), &[0.25; 4][..3]);
        assert_close(&projected(&[0.9, 0.0], 0.5, 0.7), &[0.5, 0.5]);
    }

    #[test]
    fn a_single_bot_always_has_all_the_weight() {
        assert_close(&projected(&[0.3], 0.05, 1.0), &[1.0]);
    }

    #[test]
    fn the_result_sums_to_one_within_the_bounds() {
        let result = projected(&[0.7, -0.2, 0.1, 0.45, 0.3], 0.05, 0.4);
        let sum: f64 = result.iter().sum();
        assert!((sum - 1.0).abs() < 1e-12, "{sum}");
        assert!(
            result.iter().all(|w| (0.05..=0.4).contains(w)),
            "{result:?}"
        );
    }
}
