//! The five scoring dimensions (SPEC §3), as pure functions of [`Facts`].
//!
//! A proposal and an implementation are described by the same [`Facts`]:
//! for a proposal they are its estimates (files it says it will touch, lines
//! it expects, tests it plans), for an implementation they are what was
//! measured (the diff, the tests it added, the checks that passed). Scoring
//! both with the same functions makes the two scores comparable, which is
//! what the accuracy bonus rewards. `docs/scoring.md` explains each formula.

use ralph_marketplace::config::{ScoringWeights, Selection};
use ralph_runtime::Proposal;
use serde::{Deserialize, Serialize};

/// Lines a requirement of each complexity is expected to take, indexed by
/// complexity from trivial (1) to very large (5).
pub const EXPECTED_LINES: [f64; 5] = [5.0, 20.0, 60.0, 150.0, 400.0];

/// What is known (estimated or measured) about one solution.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Facts {
    /// Unchecked requirements the solution covers, and how many there are.
    pub requirements_covered: usize,
    pub requirements_total: usize,
    /// Named components (files, modules) it touches, of those the issue names.
    pub components_covered: usize,
    pub components_total: usize,
    /// Implicit requirements (tests, docs) it meets, of those that apply.
    pub implicit_covered: usize,
    pub implicit_total: usize,
    /// Files it changes and lines it adds plus removes.
    pub files_affected: usize,
    pub lines_changed: usize,
    /// Files it changes that already exist or sit in an existing directory
    /// (the repository's own layout, as opposed to new structure).
    pub files_conforming: usize,
    /// Tests it adds or changes.
    pub tests: usize,
    /// Public items it removes or changes the signature of.
    pub breaking_changes: usize,
    /// The share of quality checks (format, lint, type check, dead code,
    /// complexity) expected to pass, or that passed, in [0, 1].
    pub quality_passing: f64,
    /// How different the approach is from the other proposals, in [0, 1]
    /// (1 - the largest similarity to another proposal).
    pub distinctness: f64,
    /// The lines the covered requirements are expected to take, from their
    /// complexity ([`EXPECTED_LINES`]).
    pub expected_lines: f64,
}

/// The five dimension scores, each in [0, 1].
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    pub spec_alignment: f64,
    pub technical_quality: f64,
    pub innovation: f64,
    pub risk: f64,
    pub efficiency: f64,
}

impl Scores {
    /// The weighted total with the config's scoring weights.
    pub fn total(&self, weights: &ScoringWeights) -> f64 {
        self.spec_alignment * weights.spec_alignment
            + self.technical_quality * weights.technical_quality
            + self.innovation * weights.innovation
            + self.risk * weights.risk
            + self.efficiency * weights.efficiency
    }
}

/// Scores `facts` on all five dimensions.
pub fn score(facts: &Facts) -> Scores {
    Scores {
        spec_alignment: spec_alignment(facts),
        technical_quality: technical_quality(facts),
        innovation: innovation(facts),
        risk: risk(facts),
        efficiency: efficiency(facts),
    }
}

/// `part / whole`, or 1 when there is nothing to cover.
fn coverage(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        1.0
    } else {
        (part as f64 / whole as f64).clamp(0.0, 1.0)
    }
}

/// Requirement checkboxes (60%), named components (25%), implicit
/// requirements (15%).
pub fn spec_alignment(facts: &Facts) -> f64 {
    0.60 * coverage(facts.requirements_covered, facts.requirements_total)
        + 0.25 * coverage(facts.components_covered, facts.components_total)
        + 0.15 * coverage(facts.implicit_covered, facts.implicit_total)
}

/// Pattern conformance (the share of files in the existing layout, 50%) and
/// the share of quality checks passing (50%).
pub fn technical_quality(facts: &Facts) -> f64 {
    let conformance = coverage(facts.files_conforming, facts.files_affected);
    0.5 * conformance + 0.5 * facts.quality_passing.clamp(0.0, 1.0)
}

/// Distinctness from the other proposals (50%) and simplicity (50%):
/// simplicity is 1 while the change stays within the expected size and
/// falls as it grows past it.
pub fn innovation(facts: &Facts) -> f64 {
    let expected = facts.expected_lines.max(1.0);
    let lines = (facts.lines_changed as f64).max(1.0);
    let simplicity = (expected / lines).min(1.0);
    0.5 * facts.distinctness.clamp(0.0, 1.0) + 0.5 * simplicity
}

/// Higher is safer: few files (40%), no breaking changes (30%), tests for
/// what it covers (30%).
pub fn risk(facts: &Facts) -> f64 {
    let spread = 1.0 / (1.0 + facts.files_affected.saturating_sub(1) as f64 / 4.0);
    let breaking = 1.0 / (1.0 + facts.breaking_changes as f64);
    let tested = coverage(facts.tests, facts.requirements_covered.max(1));
    0.4 * spread + 0.3 * breaking + 0.3 * tested
}

/// How well the size fits the work: 1 when the lines changed match the
/// expected lines, falling symmetrically (in log scale) as they differ; a
/// change twice or half the expected size scores `e^(-ln 2 / 2)` ≈ 0.71.
pub fn efficiency(facts: &Facts) -> f64 {
    let expected = facts.expected_lines.max(1.0);
    let lines = (facts.lines_changed as f64).max(1.0);
    (-(lines / expected).ln().abs() / 2.0).exp()
}

/// Word-set similarity of two texts (Jaccard index of their lowercase words
/// of three letters or more), in [0, 1].
pub fn similarity(left: &str, right: &str) -> f64 {
    let words = |text: &str| -> std::collections::BTreeSet<String> {
        text.split(|character: char| !character.is_alphanumeric() && character != '_')
            .filter(|word| word.chars().count() >= 3)
            .map(str::to_lowercase)
            .collect()
    };
    let (left, right) = (words(left), words(right));
    let union = left.union(&right).count();
    if union == 0 {
        return 1.0;
    }
    left.intersection(&right).count() as f64 / union as f64
}

/// For each text, 1 - its largest similarity to any other (1 when alone).
pub fn distinctness(texts: &[String]) -> Vec<f64> {
    texts
        .iter()
        .enumerate()
        .map(|(index, text)| {
            let closest = texts
                .iter()
                .enumerate()
                .filter(|(other, _)| *other != index)
                .map(|(_, other)| similarity(text, other))
                .fold(0.0, f64::max);
            1.0 - closest
        })
        .collect()
}

/// Orders proposals by total, highest first; a tie goes to the earlier
/// submission. `totals` are in submission order; returns indexes into it.
pub fn rank(totals: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..totals.len()).collect();
    order.sort_by(|left, right| {
        totals[*right]
            .total_cmp(&totals[*left])
            .then_with(|| left.cmp(right))
    });
    order
}

/// Like [`rank`], with every proposal the configured implementer can carry
/// out ranked above every one it cannot, whatever their totals: a plan-only
/// proposal never wins a round the `patch` implementer must implement.
pub fn rank_implementable(totals: &[f64], implementable: &[bool]) -> Vec<usize> {
    let mut order = rank(totals);
    // A stable sort keeps the order by total within each group.
    order.sort_by_key(|index| !implementable.get(*index).copied().unwrap_or(false));
    order
}

/// A proposal with its anonymous label and scores.
pub struct Scored {
    pub bot_id: String,
    pub label: String,
    pub proposal: Proposal,
    pub scores: Scores,
    pub total: f64,
    /// How different it was from the round's other proposals.
    pub distinctness: f64,
    /// Whether the configured implementer can carry it out.
    pub implementable: bool,
    /// What the heuristic and the model judge each said, under
    /// `scoring.judge: "model"` (`scores` are then their combination).
    pub judgement: Option<crate::judge::Judgement>,
}

impl Scored {
    /// Where it stood: `rank` 1 for the winner.
    pub(crate) fn standing(&self, rank: usize, tie_break: bool) -> crate::recording::Standing<'_> {
        crate::recording::Standing {
            rank,
            label: &self.label,
            proposal_score: self.total,
            proposal_dimensions: self.scores,
            tie_break,
            judgement: self.judgement.as_ref(),
        }
    }
}

/// True when the round's top two totals are equal within 1e-9 (SPEC §2.2):
/// the winner won by submission order.
/// What a round ranks its proposals by under `selection`: the totals
/// (`seed`), or each total × its bidder's efficiency (`efficiency`).
pub fn selection_keys(totals: &[f64], efficiencies: &[f64], selection: Selection) -> Vec<f64> {
    match selection {
        Selection::Seed => totals.to_vec(),
        Selection::Efficiency => totals
            .iter()
            .zip(efficiencies)
            .map(|(total, efficiency)| total * efficiency)
            .collect(),
    }
}

pub fn tie_break(ranked: &[Scored]) -> bool {
    match ranked {
        [first, second, ..] => (first.total - second.total).abs() <= 1e-9,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_efficiency_selection_weighs_each_total_by_its_bidders_efficiency() {
        let totals = [0.9, 0.6];
        let efficiencies = [0.2, 0.7];
        assert_eq!(
            selection_keys(&totals, &efficiencies, Selection::Seed),
            totals
        );
        let keys = selection_keys(&totals, &efficiencies, Selection::Efficiency);
        assert_eq!(rank(&keys), [1, 0], "{keys:?}");
        assert_eq!(rank(&totals), [0, 1]);
    }

    fn facts() -> Facts {
        Facts {
            requirements_covered: 2,
            requirements_total: 2,
            components_covered: 1,
            components_total: 1,
            implicit_covered: 1,
            implicit_total: 1,
            files_affected: 1,
            lines_changed: 40,
            files_conforming: 1,
            tests: 2,
            breaking_changes: 0,
            quality_passing: 1.0,
            distinctness: 1.0,
            expected_lines: 40.0,
        }
    }

    #[test]
    fn a_complete_small_tested_solution_scores_one_everywhere() {
        let scores = score(&facts());
        assert_eq!(
            scores,
            Scores {
                spec_alignment: 1.0,
                technical_quality: 1.0,
                innovation: 1.0,
                risk: 1.0,
                efficiency: 1.0
            }
        );
        assert!((scores.total(&ScoringWeights::default()) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn spec_alignment_weighs_checkboxes_components_and_implicit_requirements() {
        let half = Facts {
            requirements_covered: 1,
            components_covered: 0,
            implicit_covered: 0,
            ..facts()
        };
        assert!((spec_alignment(&half) - 0.30).abs() < 1e-12);
    }

    #[test]
    fn technical_quality_counts_conformance_and_passing_checks() {
        let new_layout = Facts {
            files_affected: 2,
            files_conforming: 1,
            quality_passing: 0.5,
            ..facts()
        };
        assert!((technical_quality(&new_layout) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn risk_rises_with_files_touched_and_breaking_changes() {
        let wide = Facts {
            files_affected: 9,
            ..facts()
        };
        let breaking = Facts {
            breaking_changes: 1,
            ..facts()
        };
        let untested = Facts {
            tests: 0,
            ..facts()
        };
        assert!((risk(&wide) - (0.4 / 3.0 + 0.6)).abs() < 1e-12);
        assert!((risk(&breaking) - 0.85).abs() < 1e-12);
        assert!((risk(&untested) - 0.7).abs() < 1e-12);
    }

    #[test]
    fn efficiency_falls_symmetrically_as_size_and_estimate_differ() {
        let double = Facts {
            lines_changed: 80,
            ..facts()
        };
        let half = Facts {
            lines_changed: 20,
            ..facts()
        };
        assert!((efficiency(&double) - efficiency(&half)).abs() < 1e-12);
        assert!((efficiency(&double) - (-(2f64.ln()) / 2.0).exp()).abs() < 1e-12);
    }

    #[test]
    fn innovation_rewards_distinct_and_simple_approaches() {
        let copy = Facts {
            distinctness: 0.0,
            ..facts()
        };
        let sprawling = Facts {
            lines_changed: 160,
            ..facts()
        };
        assert!((innovation(&copy) - 0.5).abs() < 1e-12);
        assert!((innovation(&sprawling) - 0.625).abs() < 1e-12);
    }

    #[test]
    fn identical_texts_are_not_distinct_and_unrelated_ones_are() {
        let texts = vec![
            "add a cache for parsed events".to_owned(),
            "add a cache for parsed events".to_owned(),
            "rewrite the projection with bisection".to_owned(),
        ];
        let result = distinctness(&texts);
        assert_eq!(result[0], 0.0);
        assert_eq!(result[2], 1.0);
        assert_eq!(distinctness(&texts[..1]), [1.0]);
    }

    #[test]
    fn ranking_is_by_total_with_ties_to_the_earlier_submission() {
        assert_eq!(rank(&[0.5, 0.9, 0.9, 0.1]), [1, 2, 0, 3]);
    }

    #[test]
    fn a_proposal_the_implementer_cannot_carry_out_never_outranks_one_it_can() {
        assert_eq!(
            rank_implementable(&[0.5, 0.9, 0.9, 0.1], &[true, false, true, true]),
            [2, 0, 3, 1]
        );
        assert_eq!(
            rank_implementable(&[0.5, 0.9], &[false, false]),
            rank(&[0.5, 0.9])
        );
    }

    #[test]
    fn scores_stay_in_the_unit_interval_for_extreme_facts() {
        let extreme = Facts {
            requirements_covered: 10,
            requirements_total: 1,
            lines_changed: 1_000_000,
            files_affected: 10_000,
            quality_passing: 7.0,
            distinctness: -3.0,
            expected_lines: 0.0,
            ..Facts::default()
        };
        let scores = score(&extreme);
        for value in [
            scores.spec_alignment,
            scores.technical_quality,
            scores.innovation,
            scores.risk,
            scores.efficiency,
        ] {
            assert!((0.0..=1.0).contains(&value), "{scores:?}");
        }
    }
}
