//! Writing what happened in a round to the event log (SPEC §2.2, §2.7).
//!
//! Every event the loop writes for a bidder in a round carries, besides the
//! fields the fold reads, the bidder's model `usage` in that round (its
//! `propose` call, consultations included), and a winner's `success` or
//! `failure` the `implementation_usage` of implementing it, when the
//! implementer uses a model. Both are additive fields the fold ignores.

use chrono::Utc;
use ralph_marketplace::deltas::{Case, WeightDelta, accuracy, weight_delta};
use ralph_marketplace::event::format_timestamp;
use ralph_marketplace::marketplace::RecordError;
use ralph_marketplace::store::Appended;
use ralph_marketplace::{Marketplace, Outcome};
use serde_json::{Map, Value, json};

use crate::metering::UsageRecord;

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
}

/// A bidder in a round: its id and the model usage of its `propose` call.
#[derive(Clone, Copy, Debug)]
pub struct BidderRound<'a> {
    pub id: &'a str,
    pub usage: Option<UsageRecord>,
}

/// What one implementation attempt measured, for the winner's event.
#[derive(Clone, Debug)]
pub struct Attempt {
    pub proposal_score: f64,
    pub implementation_score: f64,
    pub tests_passed: bool,
    pub code_quality_passed: bool,
    pub lines_changed: usize,
    pub files_affected: usize,
    /// The implementer's model usage, when it uses a model.
    pub implementation_usage: Option<UsageRecord>,
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
    });
    if let Some(object) = document.as_object_mut() {
        object.append(&mut extra);
    }
    // An event is shared with the team: no secret the host knows in it.
    let document = ralph_secrets::host().redact_json(document);
    let bytes = serde_json::to_vec(&document).unwrap_or_default();
    marketplace.record("the loop", &bytes)
}

/// The winner's implementation succeeded or failed.
pub fn implementation(
    marketplace: &Marketplace,
    place: Place,
    bidder: BidderRound<'_>,
    rank: usize,
    label: &str,
    attempt: &Attempt,
    succeeded: bool,
) -> Result<Appended, RecordError> {
    let case = match (place.kind, succeeded) {
        (RoundKind::Initial, true) => Case::InitialWinnerSucceeded,
        (RoundKind::Initial, false) => Case::InitialWinnerFailed,
        (RoundKind::Replan, true) => Case::ReplanSucceeded,
        (RoundKind::Replan, false) => Case::ReplanFailed,
    };
    let delta = weight_delta(
        case,
        Some((attempt.proposal_score, attempt.implementation_score)),
    );
    let mut extra = Map::new();
    extra.insert("rank".into(), json!(rank));
    extra.insert("proposal_id".into(), json!(label));
    extra.insert("proposal_score".into(), json!(attempt.proposal_score));
    extra.insert(
        "implementation_score".into(),
        json!(attempt.implementation_score),
    );
    extra.insert(
        "accuracy".into(),
        json!(accuracy(attempt.proposal_score, attempt.implementation_score).clamp(0.0, 1.0)),
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
    if let Some(usage) = attempt.implementation_usage {
        extra.insert("implementation_usage".into(), json!(usage));
    }
    let outcome = if succeeded {
        Outcome::Success
    } else {
        Outcome::Failure
    };
    write(marketplace, place, bidder, outcome, delta, extra)
}

/// A ranked proposal was not tried because another succeeded.
pub fn not_tried(
    marketplace: &Marketplace,
    place: Place,
    bidder: BidderRound<'_>,
    rank: usize,
    label: &str,
    proposal_score: f64,
) -> Result<Appended, RecordError> {
    let mut extra = Map::new();
    extra.insert("rank".into(), json!(rank));
    extra.insert("proposal_id".into(), json!(label));
    extra.insert("proposal_score".into(), json!(proposal_score));
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

/// A bidder's plugin faulted; its turn is lost, its weight unchanged.
pub fn plugin_error(
    marketplace: &Marketplace,
    place: Place,
    bidder: BidderRound<'_>,
    error: &str,
) -> Result<Appended, RecordError> {
    let mut extra = Map::new();
    extra.insert("error".into(), json!(error));
    let delta = WeightDelta {
        cases: Vec::new(),
        delta: 0.0,
    };
    write(marketplace, place, bidder, Outcome::Error, delta, extra)
}
