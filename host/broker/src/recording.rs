//! Writing what happened in a round to the event log (SPEC §2.2, §2.7).
//!
//! Every model call is in exactly one event (SPEC §2.2). A bidder's model
//! `usage` in a round (its `propose` call, consultations included) is on
//! the first event it gets in that round; the round winner's event (its
//! `success`, `failure` or `error`, or `ranked` when the attempt did not
//! finish) carries the `implementation_usage` of implementing it, the
//! `review_usage` of the specialists' reviews and the `check_usage` of the
//! check plugins. Every ranked proposal's event carries its `rank`,
//! `proposal_id` (the blind label), `proposal_score`, `proposal_dimensions`
//! and the round's `tie_break`; an implemented one's also its
//! `implementation_dimensions`; a #1 that a person passed over
//! (`loop --review`) gets an `override` naming the `chosen` label. Under
//! the model judge, the winner's event also carries the `judge_usage` of
//! scoring the round, and each ranked proposal's `judge: "model"` and
//! `judges` (what the heuristic and the model each scored; an implemented
//! one's `implementation_judges` too). All are additive fields the fold
//! ignores.

use chrono::Utc;
use ralph_marketplace::deltas::{Case, WeightDelta, accuracy, weight_delta};
use ralph_marketplace::event::format_timestamp;
use ralph_marketplace::marketplace::RecordError;
use ralph_marketplace::store::Appended;
use ralph_marketplace::{Marketplace, Outcome};
use serde_json::{Map, Value, json};

use crate::judge::Judgement;
use crate::metering::UsageRecord;
use crate::scoring::Scores;
use ralph_marketplace::config::ScoringWeights;

/// Whether a round is the first try at the work or a replan after a failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RoundKind {
    Initial,
    Replan,
}

/// Where an event happened.
#[derive(Clone, Copy, Debug)]
pub struct Place {
    pub issue: u64,
    pub round: u32,
    pub kind: RoundKind,
    /// Implementation attempts so far in this loop.
    pub iteration: u64,
    /// The issue's type (SPEC §13).
    pub issue_type: ralph_marketplace::specialization::IssueType,
}

/// A bidder in a round: its id and the model usage of its `propose` call.
#[derive(Clone, Copy, Debug)]
pub struct BidderRound<'a> {
    pub id: &'a str,
    pub usage: Option<UsageRecord>,
}

/// Where a proposal stood in its round's ranking.
#[derive(Clone, Copy, Debug)]
pub struct Standing<'a> {
    /// 1 for the winner.
    pub rank: usize,
    /// The blind label.
    pub label: &'a str,
    pub proposal_score: f64,
    pub proposal_dimensions: Scores,
    /// True when the round's top two totals were equal within 1e-9.
    pub tie_break: bool,
    /// Both judges' scores, under the model judge.
    pub judgement: Option<&'a Judgement>,
}

/// The usage of the round's winning attempt beyond its bidder's own.
#[derive(Clone, Copy, Debug, Default)]
pub struct AttemptUsage {
    /// The implementer's, when it uses a model.
    pub implementation: Option<UsageRecord>,
    /// The specialists' reviews of the winning proposal.
    pub review: Option<UsageRecord>,
    /// The check plugins run on the change.
    pub check: Option<UsageRecord>,
    /// The model judge's scoring of the round's proposals and change.
    pub judge: Option<UsageRecord>,
}

/// What one implementation attempt measured, for the winner's event.
#[derive(Clone, Debug)]
pub struct Attempt {
    pub implementation_score: f64,
    pub implementation_dimensions: Option<Scores>,
    /// Both judges' scores of the change, under the model judge.
    pub implementation_judgement: Option<Judgement>,
    pub tests_passed: bool,
    pub code_quality_passed: bool,
    pub lines_changed: usize,
    pub files_affected: usize,
}

/// What each judge said, as an event keeps it: `{"heuristic": {"score",
/// "dimensions"}, "model": {"score", "dimensions"} or {"error"}}`.
fn judges(judgement: &Judgement, weights: &ScoringWeights) -> Value {
    let scored = |scores: &Scores| json!({"score": scores.total(weights), "dimensions": scores});
    json!({
        "heuristic": scored(&judgement.heuristic),
        "model": match &judgement.model {
            Ok(scores) => scored(scores),
            Err(error) => json!({"error": error}),
        },
    })
}

fn insert_standing(
    extra: &mut Map<String, Value>,
    standing: &Standing<'_>,
    weights: &ScoringWeights,
) {
    if let Some(judgement) = standing.judgement {
        extra.insert("judge".into(), json!("model"));
        extra.insert("judges".into(), judges(judgement, weights));
    }
    extra.insert("rank".into(), json!(standing.rank));
    extra.insert("proposal_id".into(), json!(standing.label));
    extra.insert("proposal_score".into(), json!(standing.proposal_score));
    extra.insert(
        "proposal_dimensions".into(),
        json!(standing.proposal_dimensions),
    );
    extra.insert("tie_break".into(), json!(standing.tie_break));
}

fn insert_attempt_usage(extra: &mut Map<String, Value>, usage: &AttemptUsage) {
    for (field, record) in [
        ("implementation_usage", usage.implementation),
        ("review_usage", usage.review),
        ("check_usage", usage.check),
        ("judge_usage", usage.judge),
    ] {
        if let Some(record) = record.filter(|record| record.calls > 0 || record.cost_usd.is_some())
        {
            extra.insert(field.into(), json!(record));
        }
    }
}

/// Writes one event; returns where it landed.
fn write(
    marketplace: &Marketplace,
    place: Place,
    bidder: BidderRound<'_>,
    outcome: Outcome,
    delta: WeightDelta,
    mut extra: Map<String, Value>,
) -> Result<Appended, RecordError> {
    let bot_id = bidder.id;
    if let Some(usage) = bidder.usage {
        extra.insert("usage".into(), json!(usage));
    }
    let mut document = json!({
        "timestamp": format_timestamp(&Utc::now()),
        "issue_number": place.issue,
        "bot_id": bot_id,
        "outcome": outcome,
        "weight_delta": delta.delta,
        "case": delta.cases,
        "round": place.round,
        "round_kind": place.kind,
        "iteration_count": place.iteration,
        "issue_type": place.issue_type,
    });
    if let Some(object) = document.as_object_mut() {
        object.append(&mut extra);
    }
    // An event is shared with the team: no secret the host knows in it.
    let document = ralph_secrets::host().redact_json(document);
    let bytes = serde_json::to_vec(&document).unwrap_or_default();
    marketplace.record("the loop", &bytes)
}

/// The row of the weight-delta table (SPEC §2.7) for a round's winner
/// whose implementation succeeded or failed.
pub fn implementation_case(kind: RoundKind, succeeded: bool) -> Case {
    match (kind, succeeded) {
        (RoundKind::Initial, true) => Case::InitialWinnerSucceeded,
        (RoundKind::Initial, false) => Case::InitialWinnerFailed,
        (RoundKind::Replan, true) => Case::ReplanSucceeded,
        (RoundKind::Replan, false) => Case::ReplanFailed,
    }
}

/// The winner's implementation succeeded or failed.
pub fn implementation(
    marketplace: &Marketplace,
    place: Place,
    bidder: BidderRound<'_>,
    standing: &Standing<'_>,
    attempt: &Attempt,
    usage: &AttemptUsage,
    succeeded: bool,
) -> Result<Appended, RecordError> {
    let delta = weight_delta(
        implementation_case(place.kind, succeeded),
        Some((standing.proposal_score, attempt.implementation_score)),
    );
    let mut extra = Map::new();
    insert_standing(&mut extra, standing, &marketplace.config().scoring_weights);
    extra.insert(
        "implementation_score".into(),
        json!(attempt.implementation_score),
    );
    if let Some(dimensions) = attempt.implementation_dimensions {
        extra.insert("implementation_dimensions".into(), json!(dimensions));
    }
    if let Some(judgement) = &attempt.implementation_judgement {
        extra.insert(
            "implementation_judges".into(),
            judges(judgement, &marketplace.config().scoring_weights),
        );
    }
    extra.insert(
        "accuracy".into(),
        json!(accuracy(standing.proposal_score, attempt.implementation_score).clamp(0.0, 1.0)),
    );
    extra.insert(
        "metrics".into(),
        json!({
            "tests_passed": attempt.tests_passed,
            "code_quality_passed": attempt.code_quality_passed,
            "lines_changed": attempt.lines_changed,
            "files_affected": attempt.files_affected,
        }),
    );
    insert_attempt_usage(&mut extra, usage);
    let outcome = if succeeded {
        Outcome::Success
    } else {
        Outcome::Failure
    };
    write(marketplace, place, bidder, outcome, delta, extra)
}

/// The winner's attempt ended by a fault that is not its bidder's: the
/// implementer, its agent or its model provider failed. An `error`, delta 0.
pub fn attempt_error(
    marketplace: &Marketplace,
    place: Place,
    bidder: BidderRound<'_>,
    standing: &Standing<'_>,
    usage: &AttemptUsage,
    error: &str,
) -> Result<Appended, RecordError> {
    let mut extra = Map::new();
    insert_standing(&mut extra, standing, &marketplace.config().scoring_weights);
    extra.insert("error".into(), json!(error));
    extra.insert("error_source".into(), json!("implementer"));
    insert_attempt_usage(&mut extra, usage);
    write(
        marketplace,
        place,
        bidder,
        Outcome::Error,
        no_delta(),
        extra,
    )
}

/// A ranked proposal got no other event in its round (a runner-up in a
/// round that did not succeed, or a winner whose attempt did not finish);
/// delta 0. `usage` is set for the winner of an unfinished attempt.
pub fn ranked(
    marketplace: &Marketplace,
    place: Place,
    bidder: BidderRound<'_>,
    standing: &Standing<'_>,
    usage: &AttemptUsage,
) -> Result<Appended, RecordError> {
    let mut extra = Map::new();
    insert_standing(&mut extra, standing, &marketplace.config().scoring_weights);
    insert_attempt_usage(&mut extra, usage);
    write(
        marketplace,
        place,
        bidder,
        Outcome::Ranked,
        no_delta(),
        extra,
    )
}

/// A person chose another proposal than the ranking's #1 (SPEC §11): the
/// #1's `override` event, delta 0, with its standing and the `chosen`
/// label. It is the #1's only event in its round.
pub fn overridden(
    marketplace: &Marketplace,
    place: Place,
    bidder: BidderRound<'_>,
    standing: &Standing<'_>,
    chosen: &str,
) -> Result<Appended, RecordError> {
    let mut extra = Map::new();
    insert_standing(&mut extra, standing, &marketplace.config().scoring_weights);
    extra.insert("chosen".into(), json!(chosen));
    write(
        marketplace,
        place,
        bidder,
        Outcome::Override,
        no_delta(),
        extra,
    )
}

fn no_delta() -> WeightDelta {
    WeightDelta {
        cases: Vec::new(),
        delta: 0.0,
    }
}

/// A ranked proposal was not tried because another succeeded.
pub fn not_tried(
    marketplace: &Marketplace,
    place: Place,
    bidder: BidderRound<'_>,
    standing: &Standing<'_>,
) -> Result<Appended, RecordError> {
    let mut extra = Map::new();
    insert_standing(&mut extra, standing, &marketplace.config().scoring_weights);
    let delta = weight_delta(Case::NotTried, None);
    write(marketplace, place, bidder, Outcome::NotTried, delta, extra)
}

/// A bidder resubmitted its previous proposal unchanged in a replan round.
pub fn resubmitted(
    marketplace: &Marketplace,
    place: Place,
    bidder: BidderRound<'_>,
) -> Result<Appended, RecordError> {
    let delta = weight_delta(Case::ReplanResubmitted, None);
    write(
        marketplace,
        place,
        bidder,
        Outcome::Resubmitted,
        delta,
        Map::new(),
    )
}

/// Whose doing a bidder's `error` in a round was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorSource {
    /// Its plugin faulted (trap, deadline, bad output): its turn is lost.
    Plugin,
    /// A model provider stopped answering while it proposed (a usage
    /// limit): the calls the provider did answer are kept.
    Provider,
}

/// A bidder's turn ended in an `error`; its weight is unchanged.
pub fn bidder_error(
    marketplace: &Marketplace,
    place: Place,
    bidder: BidderRound<'_>,
    source: ErrorSource,
    error: &str,
) -> Result<Appended, RecordError> {
    let mut extra = Map::new();
    extra.insert("error".into(), json!(error));
    let source = match source {
        ErrorSource::Plugin => "plugin",
        ErrorSource::Provider => "provider",
    };
    extra.insert("error_source".into(), json!(source));
    write(
        marketplace,
        place,
        bidder,
        Outcome::Error,
        no_delta(),
        extra,
    )
}
