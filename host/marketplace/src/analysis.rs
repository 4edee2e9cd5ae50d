//! The meta-analysis of SPEC §12, from the log alone: how well each scoring
//! dimension of a proposal predicted whether its implementation succeeded,
//! how well the total did (AUC, Brier score, calibration), how often ties
//! decided a round, how often the first proposal submitted won, how often a
//! person overrode the ranking, and the scoring weights the log supports.
//!
//! It reads the additive fields the loop writes on its events (SPEC §2.2):
//! `proposal_dimensions` and `proposal_score` on every ranked proposal,
//! `rank`, `proposal_id` (the blind label, given in submission order, so
//! `A` was submitted first) and `tie_break`. An implementation is a
//! `success` or `failure` event that carries its proposal's dimensions. A
//! round is an issue's `round` number. No I/O here.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::config::ScoringWeights;
use crate::projection::project_onto_capped_simplex;
use crate::statistics::{Bin, auc, brier, calibration, spearman};

/// The fewest implementations the analysis speaks on.
pub const MINIMUM_IMPLEMENTATIONS: usize = 20;
/// The bounds of a recommended scoring weight (SPEC §12).
pub const WEIGHT_BOUNDS: (f64, f64) = (0.05, 0.50);

/// The five proposal scores of SPEC §3, as an event keeps them.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
pub struct Dimensions {
    pub spec_alignment: f64,
    pub technical_quality: f64,
    pub innovation: f64,
    pub risk: f64,
    pub efficiency: f64,
}

impl Dimensions {
    fn named(&self) -> [(&'static str, f64); 5] {
        [
            ("spec_alignment", self.spec_alignment),
            ("technical_quality", self.technical_quality),
            ("innovation", self.innovation),
            ("risk", self.risk),
            ("efficiency", self.efficiency),
        ]
    }
}

/// What the analysis reads of one event; other fields are ignored.
#[derive(Clone, Debug, Deserialize)]
pub struct Record {
    pub issue_number: u64,
    pub outcome: String,
    #[serde(default)]
    pub round: Option<u64>,
    #[serde(default)]
    pub rank: Option<u64>,
    #[serde(default)]
    pub proposal_id: Option<String>,
    #[serde(default)]
    pub proposal_score: Option<f64>,
    #[serde(default)]
    pub proposal_dimensions: Option<Dimensions>,
    #[serde(default)]
    pub tie_break: Option<bool>,
    /// What each judge scored, under the model judge.
    #[serde(default)]
    pub judges: Option<Judges>,
}

/// The `judges` of an event: each judge's total for the proposal.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Judges {
    #[serde(default)]
    pub heuristic: Option<JudgeScore>,
    #[serde(default)]
    pub model: Option<JudgeScore>,
}

/// One judge's total (absent when it could not score).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct JudgeScore {
    #[serde(default)]
    pub score: Option<f64>,
}

impl Record {
    /// The proposal's total as `judge` scored it: the heuristic's is the
    /// `proposal_score` of an event without `judges`.
    fn judged_by(&self, judge: &str) -> Option<f64> {
        let judges = match &self.judges {
            None => return (judge == "heuristic").then_some(self.proposal_score?),
            Some(judges) => judges,
        };
        let entry = match judge {
            "heuristic" => judges.heuristic.as_ref(),
            _ => judges.model.as_ref(),
        };
        entry?.score.filter(|score| (0.0..=1.0).contains(score))
    }
}

impl Record {
    /// What the analysis reads of the event in `bytes`; `None` when they
    /// are not JSON or lack the fields it needs.
    pub fn read(bytes: &[u8]) -> Option<Record> {
        serde_json::from_slice(bytes).ok()
    }
}

/// One dimension's power to predict success.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Prediction {
    pub spearman: Option<f64>,
    pub auc: Option<f64>,
}

/// The total score, read as a probability of success.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Total {
    pub auc: Option<f64>,
    pub brier: Option<f64>,
    pub calibration: Vec<Bin>,
}

/// How well one judge's proposal totals predicted success, over the
/// implementations it scored.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct JudgeCalibration {
    pub implementations: usize,
    pub auc: Option<f64>,
    pub brier: Option<f64>,
    pub calibration: Vec<Bin>,
}

/// The judges [`Analysis::judges`] reports on.
pub const JUDGES: [&str; 2] = ["heuristic", "model"];

/// The meta-analysis (SPEC §12, `analyze --json`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Analysis {
    /// The implementations used.
    pub implementations: usize,
    pub dimensions: BTreeMap<&'static str, Prediction>,
    pub total: Total,
    /// The share of rounds whose top two totals were equal.
    pub tie_break_rate: Option<f64>,
    /// The share of rounds the first proposal submitted won...
    pub first_submitter_win_rate: Option<f64>,
    /// ...and what chance alone gives it: the mean of 1/N over those rounds.
    pub first_submitter_chance: Option<f64>,
    /// `override` events per ranked round.
    pub override_rate: Option<f64>,
    pub recommended_weights: BTreeMap<&'static str, f64>,
    /// Each judge that scored any of the implementations: `heuristic`
    /// (the facts alone) and `model` (the model judge's own scores, before
    /// they were combined), on the same log.
    pub judges: BTreeMap<&'static str, JudgeCalibration>,
}

/// Why there is no analysis yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "{have} implementation(s) in the log; the analysis needs at least {MINIMUM_IMPLEMENTATIONS}, so {} more",
    MINIMUM_IMPLEMENTATIONS - have
)]
pub struct TooFew {
    pub have: usize,
}

/// Analyses `records` (the log's events, oldest first), using only the
/// last `last` implementations when given; `current` are the weights in
/// use, kept where the log cannot tell better.
pub fn analyze(
    records: &[Record],
    last: Option<usize>,
    current: &ScoringWeights,
) -> Result<Analysis, TooFew> {
    let mut implementations: Vec<(&Dimensions, f64, bool, &Record)> = records
        .iter()
        .filter(|record| matches!(record.outcome.as_str(), "success" | "failure"))
        .filter_map(|record| {
            Some((
                record.proposal_dimensions.as_ref()?,
                record.proposal_score?,
                record.outcome == "success",
                record,
            ))
        })
        .collect();
    if let Some(last) = last {
        let skip = implementations.len().saturating_sub(last);
        implementations.drain(..skip);
    }
    if implementations.len() < MINIMUM_IMPLEMENTATIONS {
        return Err(TooFew {
            have: implementations.len(),
        });
    }
    let successes: Vec<bool> = implementations
        .iter()
        .map(|(_, _, success, _)| *success)
        .collect();
    let outcomes: Vec<f64> = successes.iter().map(|&s| f64::from(u8::from(s))).collect();
    let mut dimensions = BTreeMap::new();
    for index in 0..5 {
        let name = implementations[0].0.named()[index].0;
        let scores: Vec<f64> = implementations
            .iter()
            .map(|(dimensions, _, _, _)| dimensions.named()[index].1)
            .collect();
        dimensions.insert(
            name,
            Prediction {
                spearman: spearman(&scores, &outcomes),
                auc: auc(&scores, &successes),
            },
        );
    }
    let totals: Vec<f64> = implementations
        .iter()
        .map(|(_, total, _, _)| *total)
        .collect();
    let judges = JUDGES
        .into_iter()
        .filter_map(|judge| {
            let (scores, successes): (Vec<f64>, Vec<bool>) = implementations
                .iter()
                .filter_map(|(_, _, success, record)| Some((record.judged_by(judge)?, *success)))
                .unzip();
            (!scores.is_empty()).then(|| {
                (
                    judge,
                    JudgeCalibration {
                        implementations: scores.len(),
                        auc: auc(&scores, &successes),
                        brier: brier(&scores, &successes),
                        calibration: calibration(&scores, &successes),
                    },
                )
            })
        })
        .collect();
    let rounds = rounds(records);
    Ok(Analysis {
        implementations: implementations.len(),
        recommended_weights: recommend(&dimensions, current),
        judges,
        dimensions,
        total: Total {
            auc: auc(&totals, &successes),
            brier: brier(&totals, &successes),
            calibration: calibration(&totals, &successes),
        },
        tie_break_rate: share(rounds.values().map(|round| round.tie_break)),
        first_submitter_win_rate: share(rounds.values().map(|round| round.winner_was_first)),
        first_submitter_chance: mean(rounds.values().map(|round| 1.0 / round.proposals as f64)),
        override_rate: (!rounds.is_empty()).then(|| {
            records
                .iter()
                .filter(|record| record.outcome == "override")
                .count() as f64
                / rounds.len() as f64
        }),
    })
}

/// A ranked round, as its events tell it.
#[derive(Default)]
struct Round {
    proposals: usize,
    tie_break: bool,
    winner_was_first: bool,
}

/// A ranked round: its issue, the loop run (counted from 0 per issue) and
/// its round number.
pub type RoundKey = (u64, u64, u64);

/// The ranked round of each record (`None` for one without `round` and
/// `rank`). A loop run numbers its rounds from 1, so a second `rank` 1 for
/// an issue's round starts that issue's next run (the records are in time
/// order).
pub fn round_keys(records: &[Record]) -> Vec<Option<RoundKey>> {
    let mut won: std::collections::BTreeSet<RoundKey> = std::collections::BTreeSet::new();
    let mut runs: BTreeMap<u64, u64> = BTreeMap::new();
    records
        .iter()
        .map(|record| {
            let (Some(round), Some(rank)) = (record.round, record.rank) else {
                return None;
            };
            let run = runs.entry(record.issue_number).or_insert(0);
            if rank == 1 && won.contains(&(record.issue_number, *run, round)) {
                *run += 1;
            }
            let key = (record.issue_number, *run, round);
            if rank == 1 {
                won.insert(key);
            }
            Some(key)
        })
        .collect()
}

/// Every round with a ranking, by [`RoundKey`].
fn rounds(records: &[Record]) -> BTreeMap<RoundKey, Round> {
    let mut rounds: BTreeMap<RoundKey, Round> = BTreeMap::new();
    for (record, key) in records.iter().zip(round_keys(records)) {
        let Some(key) = key else {
            continue;
        };
        let entry = rounds.entry(key).or_default();
        entry.proposals += 1;
        if record.rank == Some(1) {
            entry.tie_break = record.tie_break.unwrap_or(false);
            entry.winner_was_first = record.proposal_id.as_deref() == Some("A");
        }
    }
    rounds
}

fn share(flags: impl Iterator<Item = bool>) -> Option<f64> {
    mean(flags.map(|flag| f64::from(u8::from(flag))))
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, count) = values.fold((0.0, 0usize), |(sum, count), value| {
        (sum + value, count + 1)
    });
    (count > 0).then(|| sum / count as f64)
}

/// The recommended scoring weights. Each dimension's raw weight is how far
/// its AUC lies above chance (`max(AUC − 0.5, 0)`, 0 when undefined); the
/// raw weights are scaled to sum to one and projected onto
/// [`WEIGHT_BOUNDS`] with the marketplace's own capped-simplex projection
/// (SPEC §2.4). When no dimension beats chance the current weights stay.
pub fn recommend(
    dimensions: &BTreeMap<&'static str, Prediction>,
    current: &ScoringWeights,
) -> BTreeMap<&'static str, f64> {
    let names: Vec<&'static str> = current.named().iter().map(|(name, _)| *name).collect();
    let raw: Vec<f64> = names
        .iter()
        .map(|name| {
            dimensions
                .get(name)
                .and_then(|prediction| prediction.auc)
                .map_or(0.0, |auc| (auc - 0.5).max(0.0))
        })
        .collect();
    let sum: f64 = raw.iter().sum();
    let mut weights: Vec<f64> = if sum > 0.0 {
        raw.iter().map(|value| value / sum).collect()
    } else {
        current.named().iter().map(|(_, weight)| *weight).collect()
    };
    project_onto_capped_simplex(&mut weights, WEIGHT_BOUNDS.0, WEIGHT_BOUNDS.1);
    names.into_iter().zip(weights).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weights() -> ScoringWeights {
        ScoringWeights {
            spec_alignment: 0.2,
            technical_quality: 0.2,
            innovation: 0.2,
            risk: 0.2,
            efficiency: 0.2,
        }
    }

    /// An implementation whose spec alignment predicts it and whose
    /// innovation is noise.
    fn implementation(index: usize, success: bool) -> Record {
        let noise = ((index * 37) % 11) as f64 / 10.0;
        let signal = if success { 0.7 } else { 0.3 } + (index % 3) as f64 * 0.05;
        serde_json::from_value(serde_json::json!({
            "issue_number": index, "outcome": if success { "success" } else { "failure" },
            "round": 1, "rank": 1, "proposal_id": if index.is_multiple_of(2) { "A" } else { "B" },
            "proposal_score": signal, "tie_break": index.is_multiple_of(5),
            "proposal_dimensions": {"spec_alignment": signal, "technical_quality": 0.5,
                "innovation": noise, "risk": 0.5, "efficiency": 0.5}
        }))
        .expect("a record")
    }

    #[test]
    fn under_twenty_implementations_it_says_how_many_more() {
        let records: Vec<Record> = (0..7)
            .map(|index| implementation(index, index.is_multiple_of(2)))
            .collect();
        let error = analyze(&records, None, &weights()).expect_err("too few");
        assert_eq!(error, TooFew { have: 7 });
        assert!(error.to_string().contains("13 more"), "{error}");
    }

    #[test]
    fn the_predictive_dimension_gets_the_higher_auc_and_weight() {
        let records: Vec<Record> = (0..40)
            .map(|index| implementation(index, index.is_multiple_of(2)))
            .collect();
        let analysis = analyze(&records, None, &weights()).expect("enough");
        let auc_of = |name: &str| analysis.dimensions[name].auc.unwrap_or(0.0);
        assert_eq!(auc_of("spec_alignment"), 1.0);
        assert!(auc_of("innovation") < 0.7, "{}", auc_of("innovation"));
        let recommended = &analysis.recommended_weights;
        assert!(
            recommended["spec_alignment"] > recommended["innovation"],
            "{recommended:?}"
        );
        let sum: f64 = recommended.values().sum();
        assert!((sum - 1.0).abs() < 1e-9, "{recommended:?}");
        assert!(
            recommended
                .values()
                .all(|w| (0.05 - 1e-12..=0.5 + 1e-12).contains(w))
        );
        assert_eq!(analysis.implementations, 40);
        assert_eq!(analysis.tie_break_rate, Some(0.2));
        assert_eq!(analysis.first_submitter_win_rate, Some(0.5));
        assert_eq!(analysis.first_submitter_chance, Some(1.0));
        assert_eq!(analysis.total.calibration.len(), 10);
    }

    #[test]
    fn last_keeps_only_the_newest_implementations() {
        let records: Vec<Record> = (0..30)
            .map(|index| implementation(index, index.is_multiple_of(2)))
            .collect();
        assert_eq!(
            analyze(&records, Some(25), &weights()).map(|a| a.implementations),
            Ok(25)
        );
        assert_eq!(
            analyze(&records, Some(10), &weights()).err(),
            Some(TooFew { have: 10 })
        );
    }

    #[test]
    fn a_second_run_on_an_issue_is_a_round_of_its_own() {
        let ranked = |rank: u64, label: &str| -> Record {
            serde_json::from_value(serde_json::json!({
                "issue_number": 7, "outcome": "ranked", "round": 1, "rank": rank,
                "proposal_id": label, "tie_break": false
            }))
            .expect("a record")
        };
        // Run one: A won over B; run two: B won over A, C.
        let records = [
            ranked(1, "A"),
            ranked(2, "B"),
            ranked(1, "B"),
            ranked(2, "A"),
            ranked(3, "C"),
        ];
        let rounds = rounds(&records);
        assert_eq!(rounds.len(), 2);
        let shares: Vec<(usize, bool)> = rounds
            .values()
            .map(|round| (round.proposals, round.winner_was_first))
            .collect();
        assert_eq!(shares, [(2, true), (3, false)]);
    }

    #[test]
    fn with_no_dimension_above_chance_the_current_weights_stay() {
        let dimensions: BTreeMap<&'static str, Prediction> = [
            "spec_alignment",
            "technical_quality",
            "innovation",
            "risk",
            "efficiency",
        ]
        .into_iter()
        .map(|name| {
            (
                name,
                Prediction {
                    spearman: None,
                    auc: Some(0.4),
                },
            )
        })
        .collect();
        let recommended = recommend(&dimensions, &weights());
        assert!(
            recommended.values().all(|w| (w - 0.2).abs() < 1e-12),
            "{recommended:?}"
        );
    }

    #[test]
    fn each_judge_is_calibrated_on_the_implementations_it_scored() {
        // The model's totals predict success; the heuristic's are noise.
        // Half the log predates the model judge (no `judges`): the
        // heuristic's total there is the proposal score.
        let records: Vec<Record> = (0..40usize)
            .map(|index| {
                let success = index.is_multiple_of(2);
                let mut record = implementation(index, success);
                let noise = ((index * 7) % 10) as f64 / 10.0;
                record.proposal_score = Some(noise);
                if index >= 20 {
                    let model = if success { 0.9 } else { 0.1 };
                    record.judges = serde_json::from_value(serde_json::json!({
                        "heuristic": {"score": noise, "dimensions": {}},
                        "model": {"score": model, "dimensions": {}}
                    }))
                    .expect("judges");
                }
                if index == 39 {
                    record.judges = serde_json::from_value(serde_json::json!({
                        "heuristic": {"score": noise}, "model": {"error": "garbage"}
                    }))
                    .expect("judges");
                }
                record
            })
            .collect();
        let analysis = analyze(&records, None, &weights()).expect("enough");
        let heuristic = &analysis.judges["heuristic"];
        let model = &analysis.judges["model"];
        assert_eq!(heuristic.implementations, 40);
        assert_eq!(
            model.implementations, 19,
            "the fallen-back one is not the model's"
        );
        assert_eq!(model.auc, Some(1.0));
        assert!(heuristic.auc.unwrap_or(1.0) < 0.7, "{heuristic:?}");
        assert!(model.brier < heuristic.brier, "{model:?} {heuristic:?}");
        let only_heuristic: Vec<Record> = records[..20].to_vec();
        let mut padded = only_heuristic.clone();
        padded.extend(only_heuristic);
        let analysis = analyze(&padded, None, &weights()).expect("enough");
        assert_eq!(
            analysis.judges.keys().copied().collect::<Vec<_>>(),
            ["heuristic"]
        );
    }
}
