//! A person reviews a round's ranking before anything is implemented
//! (SPEC §11, `ralph marketplace loop --review`).
//!
//! After the specialists' review of the top proposal the round hands a
//! [`Reviewer`] a [`Ballot`]: the ranked proposals under their blind labels
//! (never a bidder id: the person judges blind too), each with its total,
//! its five dimension scores and its summary, and the specialists'
//! findings. The reviewer answers with a [`Decision`]:
//!
//! - [`Decision::Approve`]: the round goes on as it would without a person.
//! - [`Decision::Choose`]: that proposal is reviewed by the specialists,
//!   implemented and verified as the winner would be (its bidder is charged
//!   and gets the winner's event, under its real rank), and the ranking's
//!   #1 gets an `override` event (delta 0) naming the `chosen` label.
//! - [`Decision::Feedback`]: nobody is charged or penalised: every proposal
//!   gets a `ranked` event (delta 0), the text is kept as a feedback folder
//!   of the session, and a new round starts whose bidders get it with the
//!   steering.
//! - [`Decision::Quit`]: the round stops as on Ctrl-C: every proposal gets
//!   a `ranked` event, nothing is implemented, and running the loop again
//!   resumes.
//!
//! Without a reviewer (the default) the loop is autonomous and unchanged.

use ralph_issues::pulls::SpecialistReview;
use serde::Serialize;

use crate::progress::{Progress, Step};
use crate::recording::{self, Place, RoundKind};
use crate::round::{RoundEnd, RoundState};
use crate::scoring::{Scored, Scores};
use crate::session::{LoopError, Session};

/// What a person is shown of a round before it implements anything.
#[derive(Clone, Debug, Serialize)]
pub struct Ballot {
    pub round: u32,
    pub kind: RoundKind,
    /// The proposals, best first.
    pub proposals: Vec<Candidate>,
    /// The label of the proposal the specialists reviewed (the #1).
    pub reviewed: String,
    /// The specialists' reviews of it.
    pub reviews: Vec<SpecialistReview>,
    /// True when the top two totals are equal within 1e-9.
    pub tie_break: bool,
}

/// One ranked proposal on a [`Ballot`]. Its texts come from a plugin:
/// untrusted, to be cleaned before they reach a terminal.
#[derive(Clone, Debug, Serialize)]
pub struct Candidate {
    /// The blind label (`A`, `B`, …).
    pub label: String,
    pub total: f64,
    pub scores: Scores,
    pub summary: String,
    /// Whether the configured implementer can carry it out; only such a
    /// proposal can be chosen.
    pub implementable: bool,
}

/// What the person decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Implement the ranking's #1.
    Approve,
    /// Implement the proposal with this label instead.
    Choose(String),
    /// Implement nothing; run a new round whose bidders get this text.
    Feedback(String),
    /// Stop cleanly, as Ctrl-C does.
    Quit,
}

/// Asks a person about a round's ranking. `decide` may block (it reads a
/// terminal): the round calls it off the async executor. It should return
/// only decisions [`Ballot::check`] accepts, asking again otherwise; the
/// round checks once more and stops the loop on one it refuses.
pub trait Reviewer: Send + Sync {
    fn decide(&self, ballot: &Ballot) -> Decision;
}

/// Why [`Ballot::check`] refused a decision, for the person to read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("there is no proposal {0} in this round; choose one of {1}")]
    UnknownLabel(String, String),
    #[error("proposal {0} carries no change the configured implementer can carry out")]
    NotImplementable(String),
    #[error("the feedback is empty; write what the bidders should change")]
    EmptyFeedback,
}

impl Ballot {
    /// The ballot for `ranked` (best first) and the specialists' `reviews`
    /// of its #1.
    pub(crate) fn of(
        state: &RoundState,
        ranked: &[Scored],
        reviews: &[SpecialistReview],
        tie_break: bool,
    ) -> Ballot {
        Ballot {
            round: state.round,
            kind: state.kind,
            proposals: ranked
                .iter()
                .map(|entry| Candidate {
                    label: entry.label.clone(),
                    total: entry.total,
                    scores: entry.scores,
                    summary: entry.proposal.summary.clone(),
                    implementable: entry.implementable,
                })
                .collect(),
            reviewed: ranked
                .first()
                .map(|entry| entry.label.clone())
                .unwrap_or_default(),
            reviews: reviews.to_vec(),
            tie_break,
        }
    }

    /// `decision` as the round acts on it, or why it cannot: a label is
    /// matched whatever its case, choosing the #1 is approving, and a label
    /// must name an implementable proposal of the round.
    pub fn check(&self, decision: Decision) -> Result<Decision, Refused> {
        match decision {
            Decision::Choose(label) => {
                let wanted = label.trim();
                let Some(index) = self
                    .proposals
                    .iter()
                    .position(|candidate| candidate.label.eq_ignore_ascii_case(wanted))
                else {
                    let labels: Vec<&str> = self
                        .proposals
                        .iter()
                        .map(|candidate| candidate.label.as_str())
                        .collect();
                    return Err(Refused::UnknownLabel(wanted.to_owned(), labels.join(", ")));
                };
                let candidate = &self.proposals[index];
                if !candidate.implementable {
                    return Err(Refused::NotImplementable(candidate.label.clone()));
                }
                Ok(if index == 0 {
                    Decision::Approve
                } else {
                    Decision::Choose(candidate.label.clone())
                })
            }
            Decision::Feedback(text) if text.trim().is_empty() => Err(Refused::EmptyFeedback),
            other => Ok(other),
        }
    }
}

/// What the round does after the person's review.
pub(crate) enum Reviewed {
    /// Implement `ranked[index]`.
    Implement(usize),
    /// The round ends here; its events are written.
    Ended(RoundEnd),
}

impl Session {
    /// The person's review of `ranked` (SPEC §11), when the loop has a
    /// reviewer: which proposal to implement, or how the round ends.
    /// Without a reviewer it is always the #1.
    pub(crate) async fn human_review(
        &mut self,
        state: &RoundState,
        place: Place,
        ranked: &[Scored],
        tie_break: bool,
        progress: &mut dyn Progress,
    ) -> Result<Reviewed, LoopError> {
        let Some(reviewer) = self.reviewer.clone() else {
            return Ok(Reviewed::Implement(0));
        };
        let ballot = Ballot::of(state, ranked, &self.round_reviews, tie_break);
        tracing::info!(round = state.round, "Asking for a review of the ranking");
        progress.step(Step::ReviewAsked { round: state.round });
        let asked = ballot.clone();
        let decision = tokio::task::spawn_blocking(move || reviewer.decide(&asked))
            .await
            .map_err(LoopError::failed)?;
        let decision = match ballot.check(decision) {
            Ok(decision) => decision,
            Err(refused) => {
                self.record_all_ranked(place, ranked, tie_break)?;
                return Err(LoopError::Failed(format!(
                    "the review answered with a decision it may not make: {refused}"
                )));
            }
        };
        progress.step(Step::ReviewDecided {
            round: state.round,
            decision: decided(&decision).to_owned(),
            chosen: match &decision {
                Decision::Choose(label) => Some(label.clone()),
                _ => None,
            },
        });
        if self.stop_requested() {
            self.record_all_ranked(place, ranked, tie_break)?;
            return Ok(Reviewed::Ended(RoundEnd::Interrupted));
        }
        match decision {
            Decision::Approve => Ok(Reviewed::Implement(0)),
            Decision::Choose(label) => {
                let index = ranked
                    .iter()
                    .position(|entry| entry.label == label)
                    .unwrap_or(0);
                // The specialists review what will be implemented; their
                // first review's usage stays in the round's record.
                let first = self.review_usage;
                self.review(&ranked[index], progress).await?;
                self.review_usage.add(first);
                Ok(Reviewed::Implement(index))
            }
            Decision::Feedback(text) => {
                self.record_all_ranked(place, ranked, tie_break)?;
                let folder = self.journal.write_person_feedback(
                    &self.feedback_folder,
                    self.journal.metadata.iteration,
                    &ralph_secrets::redact(&text),
                )?;
                Ok(Reviewed::Ended(RoundEnd::Feedback { folder }))
            }
            Decision::Quit => {
                self.record_all_ranked(place, ranked, tie_break)?;
                Ok(Reviewed::Ended(RoundEnd::Interrupted))
            }
        }
    }

    /// A `ranked` event (delta 0) for every proposal; the #1's carries what
    /// the specialists' review of it used.
    fn record_all_ranked(
        &mut self,
        place: Place,
        ranked: &[Scored],
        tie_break: bool,
    ) -> Result<(), LoopError> {
        let usage = self.attempt_usage(None);
        self.record_ranked(place, ranked, 0, tie_break, Some(usage))
    }

    /// When the person chose `ranked[chosen]` over the #1: the #1's
    /// `override` event (delta 0) with its standing and the `chosen` label,
    /// written before the chosen one is implemented, so a round's `rank` 1
    /// comes first in the log as always. True when one was written (the #1
    /// then gets no other event).
    pub(crate) fn record_override(
        &mut self,
        place: Place,
        ranked: &[Scored],
        chosen: usize,
        tie_break: bool,
    ) -> Result<bool, LoopError> {
        let (Some(top), Some(picked)) = (ranked.first(), ranked.get(chosen)) else {
            return Ok(false);
        };
        if chosen == 0 {
            return Ok(false);
        }
        let bidder = self.bidder_round(&top.bot_id);
        let standing = top.standing(1, tie_break);
        recording::overridden(&self.marketplace, place, bidder, &standing, &picked.label)
            .map_err(LoopError::failed)?;
        Ok(true)
    }
}

/// The decision's name in the `review_decided` step.
fn decided(decision: &Decision) -> &'static str {
    match decision {
        Decision::Approve => "approve",
        Decision::Choose(_) => "choose",
        Decision::Feedback(_) => "feedback",
        Decision::Quit => "quit",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ballot() -> Ballot {
        let candidate = |label: &str, implementable: bool| Candidate {
            label: label.into(),
            total: 0.5,
            scores: Scores::default(),
            summary: format!("plan {label}"),
            implementable,
        };
        Ballot {
            round: 1,
            kind: RoundKind::Initial,
            proposals: vec![
                candidate("A", true),
                candidate("B", true),
                candidate("C", false),
            ],
            reviewed: "A".into(),
            reviews: Vec::new(),
            tie_break: false,
        }
    }

    #[test]
    fn choosing_another_implementable_label_is_accepted_whatever_its_case() {
        assert_eq!(
            ballot().check(Decision::Choose(" b ".into())),
            Ok(Decision::Choose("B".into()))
        );
    }

    #[test]
    fn choosing_the_top_proposal_is_approving_it() {
        assert_eq!(
            ballot().check(Decision::Choose("a".into())),
            Ok(Decision::Approve)
        );
    }

    #[test]
    fn an_unknown_label_is_refused_naming_the_labels() {
        let refused = ballot().check(Decision::Choose("Z".into()));
        assert_eq!(
            refused,
            Err(Refused::UnknownLabel("Z".into(), "A, B, C".into()))
        );
    }

    #[test]
    fn a_proposal_the_implementer_cannot_carry_out_cannot_be_chosen() {
        assert_eq!(
            ballot().check(Decision::Choose("C".into())),
            Err(Refused::NotImplementable("C".into()))
        );
    }

    #[test]
    fn empty_feedback_is_refused_and_other_decisions_pass() {
        assert_eq!(
            ballot().check(Decision::Feedback(" \n".into())),
            Err(Refused::EmptyFeedback)
        );
        for decision in [
            Decision::Approve,
            Decision::Quit,
            Decision::Feedback("smaller".into()),
        ] {
            assert_eq!(ballot().check(decision.clone()), Ok(decision));
        }
    }

    #[test]
    fn the_ballot_of_a_ranking_names_no_bidder() {
        let scored = |bot_id: &str, label: &str| Scored {
            bot_id: bot_id.into(),
            label: label.into(),
            proposal: ralph_runtime::Proposal {
                summary: format!("plan {label}"),
                pseudo_code: String::new(),
                requirements_covered: Vec::new(),
                files: Vec::new(),
                planned_tests: Vec::new(),
                patch: None,
                self_estimate: ralph_runtime::DimensionScores {
                    spec_alignment: 0.5,
                    technical_quality: 0.5,
                    innovation: 0.5,
                    risk: 0.5,
                    efficiency: 0.5,
                },
            },
            scores: Scores::default(),
            total: 0.5,
            distinctness: 1.0,
            implementable: true,
            judgement: None,
        };
        let state = RoundState {
            round: 3,
            kind: RoundKind::Replan,
            failure_report: None,
            failed_bidder: Some("bidder_7".into()),
            previous: Vec::new(),
        };
        let ranked = [scored("bidder_7", "B"), scored("bidder_9", "A")];
        let ballot = Ballot::of(&state, &ranked, &[], true);
        let labels: Vec<&str> = ballot.proposals.iter().map(|c| c.label.as_str()).collect();
        assert_eq!(labels, ["B", "A"]);
        assert_eq!((ballot.round, ballot.reviewed.as_str()), (3, "B"));
        let text = serde_json::to_string(&ballot).expect("JSON");
        assert!(!text.contains("bidder"), "{text}");
    }
}
