//! The weight-delta table (SPEC §2.7): what each situation is worth.
//!
//! Computed when an event is written and stored in it; the fold only adds the
//! stored `weight_delta`. The event's `case` names the rows that applied.

use serde::{Deserialize, Serialize};

/// The bonus for predicting the implementation score closely.
pub const ACCURACY_BONUS: f64 = 0.05;
/// How close a prediction must be to earn the bonus.
pub const ACCURACY_TOLERANCE: f64 = 0.15;

/// One row of the table: the situation a bidder's proposal ended in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Case {
    /// Initial round, ranked #1, implementation succeeds.
    InitialWinnerSucceeded,
    /// Initial round, ranked #1, implementation fails.
    InitialWinnerFailed,
    /// Ranked #2+, tried after #1 failed, succeeds.
    RunnerUpSucceeded,
    /// Ranked #2+, tried after #1 failed, also fails.
    RunnerUpFailed,
    /// Ranked but not tried because another proposal succeeded.
    NotTried,
    /// Replan round, the new proposal succeeds.
    ReplanSucceeded,
    /// Replan round, fails again.
    ReplanFailed,
    /// Replan round, resubmitted the same proposal.
    ReplanResubmitted,
    /// The accuracy bonus (success only, prediction within 0.15).
    AccuracyBonus,
    /// Delayed (SPEC §10): a defect traced back to the change.
    Defect,
    /// Delayed: the change was reverted within 14 days of its commit.
    Reverted,
    /// Delayed: a file it changed was edited more than 3 times in the 14
    /// days after.
    HighChurn,
}

impl Case {
    /// The delta this row is worth.
    pub fn delta(self) -> f64 {
        match self {
            Case::InitialWinnerSucceeded => 0.10,
            Case::InitialWinnerFailed => -0.15,
            Case::RunnerUpSucceeded => 0.08,
            Case::RunnerUpFailed => -0.18,
            Case::NotTried => -0.02,
            Case::ReplanSucceeded => 0.12,
            Case::ReplanFailed => -0.20,
            Case::ReplanResubmitted => -0.05,
            Case::AccuracyBonus => ACCURACY_BONUS,
            Case::Defect => -0.02,
            Case::Reverted => -0.10,
            Case::HighChurn => -0.03,
        }
    }

    /// True for the rows that describe a successful implementation.
    pub fn is_success(self) -> bool {
        matches!(
            self,
            Case::InitialWinnerSucceeded | Case::RunnerUpSucceeded | Case::ReplanSucceeded
        )
    }
}

/// `1 - |proposal_score - implementation_score|`.
pub fn accuracy(proposal_score: f64, implementation_score: f64) -> f64 {
    1.0 - (proposal_score - implementation_score).abs()
}

/// The rows that apply and their summed delta.
#[derive(Clone, Debug, PartialEq)]
pub struct WeightDelta {
    pub cases: Vec<Case>,
    pub delta: f64,
}

/// The delta for `case`, plus the accuracy bonus when the case is a success
/// and the scores (when both are known) are within 0.15 of each other.
pub fn weight_delta(case: Case, scores: Option<(f64, f64)>) -> WeightDelta {
    let mut cases = vec![case];
    let earns_bonus = case.is_success()
        && scores.is_some_and(|(proposal, implementation)| {
            // Compare with a hair of slack so 0.15 written in decimal counts.
            (proposal - implementation).abs() <= ACCURACY_TOLERANCE + 1e-12
        });
    if earns_bonus {
        cases.push(Case::AccuracyBonus);
    }
    let delta = cases.iter().map(|case| case.delta()).sum();
    WeightDelta { cases, delta }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delta_without_scores(case: Case) -> f64 {
        weight_delta(case, None).delta
    }

    #[test]
    fn initial_round_winner_succeeds_plus_0_10() {
        assert_eq!(delta_without_scores(Case::InitialWinnerSucceeded), 0.10);
    }

    #[test]
    fn initial_round_winner_fails_minus_0_15() {
        assert_eq!(delta_without_scores(Case::InitialWinnerFailed), -0.15);
    }

    #[test]
    fn runner_up_tried_after_the_winner_failed_succeeds_plus_0_08() {
        assert_eq!(delta_without_scores(Case::RunnerUpSucceeded), 0.08);
    }

    #[test]
    fn runner_up_tried_after_the_winner_failed_also_fails_minus_0_18() {
        assert_eq!(delta_without_scores(Case::RunnerUpFailed), -0.18);
    }

    #[test]
    fn ranked_but_not_tried_minus_0_02() {
        assert_eq!(delta_without_scores(Case::NotTried), -0.02);
    }

    #[test]
    fn replan_round_new_proposal_succeeds_plus_0_12() {
        assert_eq!(delta_without_scores(Case::ReplanSucceeded), 0.12);
    }

    #[test]
    fn replan_round_fails_again_minus_0_20() {
        assert_eq!(delta_without_scores(Case::ReplanFailed), -0.20);
    }

    #[test]
    fn replan_round_resubmitted_the_same_proposal_minus_0_05() {
        assert_eq!(delta_without_scores(Case::ReplanResubmitted), -0.05);
    }

    #[test]
    fn accuracy_bonus_plus_0_05_on_a_success_within_0_15() {
        let result = weight_delta(Case::InitialWinnerSucceeded, Some((0.87, 0.85)));
        assert_eq!(
            result.cases,
            [Case::InitialWinnerSucceeded, Case::AccuracyBonus]
        );
        assert!((result.delta - 0.15).abs() < 1e-15);
        let edge = weight_delta(Case::ReplanSucceeded, Some((0.80, 0.65)));
        assert!(
            (edge.delta - 0.17).abs() < 1e-15,
            "0.15 apart still earns it"
        );
    }

    #[test]
    fn no_accuracy_bonus_beyond_0_15() {
        let result = weight_delta(Case::RunnerUpSucceeded, Some((0.9, 0.7)));
        assert_eq!(result.cases, [Case::RunnerUpSucceeded]);
        assert_eq!(result.delta, 0.08);
    }

    #[test]
    fn no_accuracy_bonus_on_a_failure() {
        let result = weight_delta(Case::InitialWinnerFailed, Some((0.8, 0.8)));
        assert_eq!(result.cases, [Case::InitialWinnerFailed]);
        assert_eq!(result.delta, -0.15);
    }

    #[test]
    fn accuracy_is_one_minus_the_prediction_error() {
        assert!((accuracy(0.87, 0.85) - 0.98).abs() < 1e-12);
        assert_eq!(accuracy(0.5, 0.5), 1.0);
    }
}
