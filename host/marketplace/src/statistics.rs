//! The statistics the meta-analysis reports (SPEC §12), as pure functions
//! over plain numbers: how well a score ranks successes above failures
//! (the AUC), how its order agrees with the outcome's (Spearman's rank
//! correlation), how far a score taken as a probability is from the
//! outcome (the Brier score), and the calibration table.
//!
//! Ties share the average of the ranks they span, so no input order
//! changes a result. The ranks and the moments come from `statrs`; the AUC
//! is the Mann–Whitney statistic over those ranks.

use serde::Serialize;
use statrs::statistics::{Data, OrderStatistics, RankTieBreaker, Statistics};

/// The 1-based ranks of `values`, ties sharing their average rank.
pub fn average_ranks(values: &[f64]) -> Vec<f64> {
    if values.iter().any(|value| value.is_nan()) {
        // statrs cannot order a NaN; no caller passes one (scores are
        // validated numbers), but a rank must never panic.
        return vec![f64::NAN; values.len()];
    }
    Data::new(values.to_vec()).ranks(RankTieBreaker::Average)
}

/// Pearson's correlation of `xs` and `ys`; `None` for fewer than two
/// pairs, unequal lengths, or a constant side.
fn pearson(xs: &[f64], ys: &[f64]) -> Option<f64> {
    if xs.len() != ys.len() || xs.len() < 2 {
        return None;
    }
    let (spread_x, spread_y) = (xs.std_dev(), ys.std_dev());
    if !(spread_x > 0.0 && spread_y > 0.0) {
        return None;
    }
    let correlation = xs.covariance(ys) / (spread_x * spread_y);
    correlation
        .is_finite()
        .then(|| correlation.clamp(-1.0, 1.0))
}

/// Spearman's rank correlation of `scores` and `outcomes` (each outcome
/// 1.0 for a success, 0.0 for a failure, or any number); `None` when it is
/// undefined (fewer than two, or one side constant).
pub fn spearman(scores: &[f64], outcomes: &[f64]) -> Option<f64> {
    pearson(&average_ranks(scores), &average_ranks(outcomes))
}

/// The area under the ROC curve of `scores` for `successes`: the chance
/// that a success picked at random scored higher than a failure picked at
/// random, a tie counting half. `None` without at least one of each.
pub fn auc(scores: &[f64], successes: &[bool]) -> Option<f64> {
    if scores.len() != successes.len() {
        return None;
    }
    let positives = successes.iter().filter(|&&success| success).count();
    let negatives = successes.len() - positives;
    if positives == 0 || negatives == 0 {
        return None;
    }
    let ranks = average_ranks(scores);
    let rank_sum: f64 = ranks
        .iter()
        .zip(successes)
        .filter(|(_, success)| **success)
        .map(|(rank, _)| rank)
        .sum();
    let positives = positives as f64;
    Some((rank_sum - positives * (positives + 1.0) / 2.0) / (positives * negatives as f64))
}

/// The Brier score of `probabilities` for `successes`: the mean squared
/// distance between each and its outcome (0 is perfect, 0.25 is a coin).
/// `None` for no pairs or unequal lengths.
pub fn brier(probabilities: &[f64], successes: &[bool]) -> Option<f64> {
    if probabilities.is_empty() || probabilities.len() != successes.len() {
        return None;
    }
    let total: f64 = probabilities
        .iter()
        .zip(successes)
        .map(|(probability, &success)| (probability - f64::from(u8::from(success))).powi(2))
        .sum();
    Some(total / probabilities.len() as f64)
}

/// One decile of the calibration table.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Bin {
    pub from: f64,
    pub to: f64,
    pub count: usize,
    /// `None` when no score fell in the bin.
    pub success_rate: Option<f64>,
}

/// The calibration table: ten bins of width 0.1 over [0, 1] (the last one
/// includes 1), each with how many `probabilities` fell in it and the share
/// of them that succeeded. Scores outside [0, 1] are clamped into it.
pub fn calibration(probabilities: &[f64], successes: &[bool]) -> Vec<Bin> {
    let mut counts = [(0usize, 0usize); 10];
    for (probability, &success) in probabilities.iter().zip(successes) {
        let bin = ((probability.clamp(0.0, 1.0) * 10.0) as usize).min(9);
        counts[bin].0 += 1;
        counts[bin].1 += usize::from(success);
    }
    counts
        .iter()
        .enumerate()
        .map(|(index, &(count, succeeded))| Bin {
            from: index as f64 / 10.0,
            to: (index + 1) as f64 / 10.0,
            count,
            success_rate: (count > 0).then(|| succeeded as f64 / count as f64),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ties_share_their_average_rank() {
        assert_eq!(average_ranks(&[3.0, 1.0, 3.0, 2.0]), [3.5, 1.0, 3.5, 2.0]);
    }

    #[test]
    fn a_score_that_separates_successes_from_failures_has_an_auc_of_one() {
        let scores = [0.9, 0.8, 0.2, 0.1];
        let successes = [true, true, false, false];
        assert_eq!(auc(&scores, &successes), Some(1.0));
        assert_eq!(auc(&[0.1, 0.2, 0.8, 0.9], &successes), Some(0.0));
        assert_eq!(auc(&[0.5; 4], &successes), Some(0.5));
    }

    #[test]
    fn the_auc_counts_a_tie_between_a_success_and_a_failure_as_half() {
        // Pairs (success, failure): (0.5, 0.5) ties, (0.5, 0.1) wins.
        assert_eq!(auc(&[0.5, 0.5, 0.1], &[true, false, false]), Some(0.75));
    }

    #[test]
    fn the_results_match_the_reference_libraries_examples() {
        // SciPy's `spearmanr([1, 2, 3, 4, 5], [5, 6, 7, 8, 7])`.
        let rho = spearman(&[1.0, 2.0, 3.0, 4.0, 5.0], &[5.0, 6.0, 7.0, 8.0, 7.0]);
        assert!(
            rho.is_some_and(|rho| (rho - 0.820_782_681_668_123_3).abs() < 1e-12),
            "{rho:?}"
        );
        // scikit-learn's `roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])`.
        assert_eq!(
            auc(&[0.1, 0.4, 0.35, 0.8], &[false, false, true, true]),
            Some(0.75)
        );
    }

    #[test]
    fn undefined_statistics_are_none() {
        assert_eq!(auc(&[0.1, 0.2], &[true, true]), None);
        assert_eq!(spearman(&[0.3], &[1.0]), None);
        assert_eq!(spearman(&[0.3, 0.3], &[0.0, 1.0]), None);
        assert_eq!(brier(&[], &[]), None);
    }

    #[test]
    fn the_brier_score_of_a_coin_is_a_quarter() {
        assert_eq!(brier(&[0.5, 0.5], &[true, false]), Some(0.25));
        assert_eq!(brier(&[1.0, 0.0], &[true, false]), Some(0.0));
    }

    #[test]
    fn the_calibration_table_has_ten_bins_and_puts_one_in_the_last() {
        let bins = calibration(&[0.05, 0.05, 0.95, 1.0], &[false, true, true, true]);
        assert_eq!(bins.len(), 10);
        assert_eq!((bins[0].count, bins[0].success_rate), (2, Some(0.5)));
        assert_eq!((bins[9].count, bins[9].success_rate), (2, Some(1.0)));
        assert_eq!(bins[5].success_rate, None);
        assert_eq!((bins[3].from, bins[3].to), (0.3, 0.4));
    }

    proptest! {
        #[test]
        fn reversing_the_scores_turns_the_auc_around(
            pairs in proptest::collection::vec((0.0f64..1.0, any::<bool>()), 2..60)
        ) {
            let (scores, successes): (Vec<f64>, Vec<bool>) = pairs.into_iter().unzip();
            let reversed: Vec<f64> = scores.iter().map(|score| -score).collect();
            if let (Some(forward), Some(backward)) = (auc(&scores, &successes), auc(&reversed, &successes)) {
                prop_assert!((forward + backward - 1.0).abs() < 1e-9);
                prop_assert!((0.0..=1.0).contains(&forward));
            }
        }

        #[test]
        fn spearman_ignores_monotone_transforms_and_order(
            pairs in proptest::collection::vec((0.0f64..1.0, 0.0f64..1.0), 2..60)
        ) {
            let (xs, ys): (Vec<f64>, Vec<f64>) = pairs.iter().copied().unzip();
            let transformed: Vec<f64> = xs.iter().map(|x| x.powi(3) * 7.0 + 1.0).collect();
            let mut reversed = pairs.clone();
            reversed.reverse();
            let (rx, ry): (Vec<f64>, Vec<f64>) = reversed.into_iter().unzip();
            let base = spearman(&xs, &ys);
            prop_assert_eq!(base.map(|r| (r * 1e9).round()), spearman(&transformed, &ys).map(|r| (r * 1e9).round()));
            prop_assert_eq!(base.map(|r| (r * 1e9).round()), spearman(&rx, &ry).map(|r| (r * 1e9).round()));
            if let Some(r) = base {
                prop_assert!((-1.0..=1.0).contains(&r));
            }
        }

        #[test]
        fn calibration_counts_every_score_once(
            pairs in proptest::collection::vec((0.0f64..=1.0, any::<bool>()), 0..80)
        ) {
            let (scores, successes): (Vec<f64>, Vec<bool>) = pairs.into_iter().unzip();
            let bins = calibration(&scores, &successes);
            prop_assert_eq!(bins.iter().map(|bin| bin.count).sum::<usize>(), scores.len());
        }
    }
}
