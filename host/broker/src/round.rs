//! `ralph marketplace loop <issue>`: rounds until every requirement of the
//! issue is ticked, the budget is spent, or a replan round also fails
//! ([`run`]).
//!
//! One round of the marketplace: every bidder with budget proposes, the
//! proposals are scored blind and ranked, every specialist reviews the
//! winner (advisory only), only the winner is implemented and verified (one
//! [`crate::attempt`]), and what happened is recorded (SPEC §3–4).

use std::sync::Arc;

use ralph_issues::pulls::{FailedAttempt, FindingSeverity, ReviewFinding, SpecialistReview};
use ralph_marketplace::Layout;
use ralph_marketplace::config::Selection;
use ralph_marketplace::specialization::{self, IssueType};
use ralph_models::Unavailable;
use ralph_runtime::{
    BidderPlugin, Finding, IssueSpec, PluginError, Proposal, ProposalRequest,
    Requirement as PluginRequirement, RoundContext, Severity,
};

use crate::attempt;
use crate::checks::Judged;
use crate::facts::{self, Work};
use crate::feedback;
use crate::human_review::Reviewed;
use crate::implementer::{ImplementError, Task};
use crate::judge::{Candidate, Subject, change_text, proposal_text};
use crate::metering::UsageRecord;
use crate::progress::{FinishStatus, Progress, RankedProposal, Step, watched};
use crate::recording::{self, Attempt, AttemptUsage, ErrorSource, Place, RoundKind, Standing};
use crate::scoring::{self, Scored, Scores, tie_break};
use crate::session::{Finished, LoopError, LoopOptions, Session, open};
use crate::sessions::State;
use crate::signals::Listening;

/// What a round is told about the rounds before it.
#[derive(Clone, Debug)]
pub struct RoundState {
    pub round: u32,
    pub kind: RoundKind,
    pub failure_report: Option<String>,
    /// The bidder whose proposal just failed: it must propose anew.
    pub failed_bidder: Option<String>,
    /// Each bidder's proposal in the previous round.
    pub previous: Vec<(String, Proposal)>,
}

/// Runs the loop on issue `options.issue` of the repository at `layout`.
pub async fn run(
    layout: Layout,
    options: LoopOptions,
    progress: &mut dyn Progress,
) -> Result<Finished, LoopError> {
    let mut session = open(layout, &options, progress).await?;
    // From here on, signals are claimed at every step, and by a watcher
    // while a step blocks.
    let signals = session.signals.clone();
    let mut listening = Listening {
        inner: progress,
        signals: signals.clone(),
    };
    let progress: &mut dyn Progress = &mut listening;
    let _watching = signals.watch();
    let mut state = RoundState {
        round: 1,
        kind: RoundKind::Initial,
        failure_report: None,
        failed_bidder: None,
        previous: Vec::new(),
    };
    let (status, reason) = loop {
        session.between_rounds(&state, progress).await?;
        if let Some(stop) = session.reason_to_stop() {
            break stop;
        }
        session.begin_iteration(state.kind, progress)?;
        tracing::info!(round = state.round, kind = ?state.kind, "Starting round");
        progress.step(Step::RoundStarted {
            round: state.round,
            kind: state.kind,
            bidders: session.participants().len(),
            budget_left: session.budget_left(),
            failure_report: state.failure_report.clone(),
        });
        let (end, ranked) = session.round(&state, progress).await?;
        session.end_iteration(&end)?;
        if let (RoundEnd::Failed { report }, Some(winner)) = (&end, ranked.first()) {
            session.failed_attempts.push(FailedAttempt {
                round: state.round,
                label: winner.label.clone(),
                reason: attempt_reason(report),
            });
        }
        let implemented = !matches!(end, RoundEnd::Feedback { .. });
        match next_round(state, end, &ranked) {
            Ok(next) => {
                if next.kind == RoundKind::Initial && implemented {
                    session.last_ranking = ranked;
                    session.last_reviews = std::mem::take(&mut session.round_reviews);
                }
                state = next;
            }
            Err(stop) => break stop,
        }
    };
    session.finish(status, reason, progress)
}

impl Session {
    /// Before a round: claims the signals that wait, holds while a PAUSE
    /// does, and writes the session's state (EXECUTING, or REPLANNING for a
    /// replan round) with what the signals said.
    async fn between_rounds(
        &mut self,
        state: &RoundState,
        progress: &mut dyn Progress,
    ) -> Result<(), LoopError> {
        self.signals.check(progress);
        if self.signals.paused() {
            self.journal.set_state(State::Paused)?;
            self.signals.hold_while_paused(progress).await;
        }
        self.journal.metadata.steering = self.signals.steering();
        self.journal.metadata.info = self.signals.info();
        self.journal.set_state(match state.kind {
            RoundKind::Initial => State::Executing,
            _ => State::Replanning,
        })?;
        Ok(())
    }

    /// Why the loop should not start another round, if it should not.
    fn reason_to_stop(&self) -> Option<(FinishStatus, String)> {
        if self.stop_requested() {
            return Some((
                FinishStatus::Interrupted,
                "stopped on request; run the loop again to resume".to_owned(),
            ));
        }
        if self.remaining() == 0 {
            return Some((
                FinishStatus::Complete,
                "every requirement is ticked".to_owned(),
            ));
        }
        if self.budget_left() == 0 {
            return Some((
                FinishStatus::AttentionNeeded,
                format!("the budget of {} iterations is spent", self.used),
            ));
        }
        None
    }
}

/// The round after one that ended with `end`, or why the loop stops.
fn next_round(
    state: RoundState,
    end: RoundEnd,
    ranked: &[Scored],
) -> Result<RoundState, (FinishStatus, String)> {
    let previous = ranked
        .iter()
        .map(|entry| (entry.bot_id.clone(), entry.proposal.clone()))
        .collect();
    match end {
        RoundEnd::Interrupted => Err((
            FinishStatus::Interrupted,
            "stopped on request; the worktree is left as it was, and running the loop again resumes".to_owned(),
        )),
        RoundEnd::ProviderUnavailable { reason } => Err((
            FinishStatus::ProviderUnavailable,
            format!(
                "the model provider is unavailable: {reason}. No weight changed and no budget was spent (what the provider did answer is recorded); the issue stays in progress, so running the loop again later resumes"
            ),
        )),
        RoundEnd::Feedback { .. } => Ok(RoundState {
            round: state.round + 1,
            kind: state.kind,
            failure_report: state.failure_report,
            failed_bidder: state.failed_bidder,
            // A replan round's resubmissions are still measured against the
            // proposals that failed.
            previous: match state.kind {
                RoundKind::Initial => previous,
                RoundKind::Replan => state.previous,
            },
        }),
        RoundEnd::NoProposals => Err((
            FinishStatus::AttentionNeeded,
            "no bidder produced a usable proposal".to_owned(),
        )),
        RoundEnd::NothingImplementable { reason } | RoundEnd::ImplementerFailed { reason } => {
            Err((FinishStatus::AttentionNeeded, reason))
        }
        RoundEnd::Succeeded { ticked, .. } if ticked.is_empty() => Err((
            FinishStatus::AttentionNeeded,
            "the winning change passed its checks but completes no requirement".to_owned(),
        )),
        RoundEnd::Succeeded { .. } => Ok(RoundState {
            round: state.round + 1,
            kind: RoundKind::Initial,
            failure_report: None,
            failed_bidder: None,
            previous,
        }),
        RoundEnd::Failed { report } if state.kind == RoundKind::Replan => Err((
            FinishStatus::AttentionNeeded,
            format!("the replan round failed too: {report}"),
        )),
        RoundEnd::Failed { report } => Ok(RoundState {
            round: state.round + 1,
            kind: RoundKind::Replan,
            failure_report: Some(report),
            failed_bidder: ranked.first().map(|entry| entry.bot_id.clone()),
            previous,
        }),
    }
}

/// A failure report in one line for the record: the first lines after its
/// heading (or the heading, when it is all there is).
fn attempt_reason(report: &str) -> String {
    let lines: Vec<&str> = report.lines().map(str::trim).collect();
    match lines.as_slice() {
        [only] => (*only).to_owned(),
        [_, rest @ ..] => rest.iter().take(3).copied().collect::<Vec<_>>().join(" / "),
        [] => String::new(),
    }
}

/// How a round ended.
pub enum RoundEnd {
    /// The winner's change passed; these requirements were ticked.
    Succeeded {
        ticked: Vec<String>,
        summary: String,
    },
    /// The winner's change failed; the report goes to the replan round.
    Failed { report: String },
    /// No bidder produced a usable proposal.
    NoProposals,
    /// Proposals came, but the configured implementer can carry out none
    /// of them (plan-only proposals under the `patch` implementer).
    NothingImplementable { reason: String },
    /// The implementer, its agent or its model failed on the winner: an
    /// `error` for the winner (not its bidder's failure), and the loop stops.
    ImplementerFailed { reason: String },
    /// A stop was requested mid-round; the proposals are recorded as
    /// `ranked` (the winner's with what its unfinished attempt used), no
    /// weight changes, and the worktree is left as it was.
    Interrupted,
    /// A model provider stayed over its usage limit: no weight changed and
    /// no budget was spent; what the provider did answer is recorded.
    ProviderUnavailable { reason: String },
    /// A person reviewing the ranking sent feedback (`--review`): every
    /// proposal is recorded as `ranked`, nothing is spent, and the next
    /// round's bidders get the text, kept in the session's feedback
    /// `folder`.
    Feedback { folder: String },
}

/// A round's proposals, or why a model provider could not make them.
type Collected = Result<Vec<(String, Proposal)>, Unavailable>;

/// The round's end when a provider is unavailable: a usage limit ends the
/// loop for now; a refused key or an unknown model is the config's fault.
fn unavailable_end(unavailable: Unavailable) -> Result<RoundEnd, LoopError> {
    match unavailable {
        Unavailable::UsageLimited(reason) => Ok(RoundEnd::ProviderUnavailable { reason }),
        Unavailable::Misconfigured(reason) => Err(LoopError::BadInput(format!(
            "{reason}. Nothing was recorded for this round; fix the llm settings, the key or the model and run the loop again"
        ))),
    }
}

fn label(index: usize) -> String {
    let letter = char::from(b'A' + (index % 26) as u8);
    if index < 26 {
        letter.to_string()
    } else {
        format!("{letter}{}", index / 26)
    }
}

fn same_plan(left: &Proposal, right: &Proposal) -> bool {
    left.summary == right.summary
        && left.pseudo_code == right.pseudo_code
        && left.files == right.files
        && left.patch == right.patch
}

impl Session {
    /// The requests every bidder gets: the issue, the work left, its round.
    fn request(&self, state: &RoundState, bot_id: &str) -> ProposalRequest {
        let previous = state
            .previous
            .iter()
            .find(|(id, _)| id == bot_id)
            .map(|(_, proposal)| proposal.clone());
        let settings = self.settings.get(bot_id).cloned().unwrap_or_default();
        ProposalRequest {
            issue: IssueSpec {
                id: self.bench.issue.number.to_string(),
                title: self.bench.issue.title.clone(),
                body: self.bench.issue.body.clone(),
            },
            requirements: self.remaining_for_plugins(),
            context: RoundContext {
                round: state.round,
                attempt: 1,
                failure_report: state.failure_report.as_deref().map(ralph_secrets::redact),
                previous_proposal: previous,
                persona: settings.persona,
                personality: settings.personality,
                steering: self.guidance(),
            },
            token_allowance: self.token_allowance(bot_id),
        }
    }

    fn remaining_for_plugins(&self) -> Vec<PluginRequirement> {
        self.bench.open_requirements()
    }

    /// The issue's type (SPEC §13): from a `type:<name>` label, else its
    /// title's words.
    pub(crate) fn issue_type(&self) -> IssueType {
        let tags: Vec<String> = self.bench.issue.tags.iter().cloned().collect();
        IssueType::of(&tags, &self.bench.issue.title)
    }

    /// The bidders this round asks: those with budget left, and of them,
    /// under `bidders_per_round` or `dynamic_bidders`, the best specialists
    /// for the issue's type (SPEC §13). Left-out bidders get no event.
    pub(crate) fn participants(&self) -> Vec<(String, Arc<BidderPlugin>)> {
        let with_budget: Vec<(String, Arc<BidderPlugin>)> = self
            .bidders
            .iter()
            .filter(|(id, _)| self.budget_of(id) > 0)
            .cloned()
            .collect();
        let config = self.marketplace.config();
        let count = if config.dynamic_bidders {
            let checkboxes = self
                .bench
                .issue
                .requirements()
                .iter()
                .filter(|r| r.kind == ralph_issues::RequirementKind::Checkbox)
                .count();
            let tags: Vec<String> = self.bench.issue.tags.iter().cloned().collect();
            specialization::dynamic_count(
                checkboxes,
                &self.bench.issue.title,
                &tags,
                self.bidders.len(),
            )
        } else {
            config
                .bidders_per_round
                .map_or(usize::MAX, |count| count as usize)
        };
        if count >= with_budget.len() {
            return with_budget;
        }
        let Ok(loaded) = self.marketplace.state() else {
            return with_budget.into_iter().take(count).collect();
        };
        let ids: Vec<String> = with_budget.iter().map(|(id, _)| id.clone()).collect();
        let chosen = specialization::choose(&loaded.state, &ids, self.issue_type(), count);
        with_budget
            .into_iter()
            .filter(|(id, _)| chosen.contains(id))
            .collect()
    }

    /// Asks every bidder with budget, concurrently; returns the usable
    /// proposals in submission order (fastest first).
    async fn collect_proposals(
        &mut self,
        state: &RoundState,
        place: Place,
        progress: &mut dyn Progress,
    ) -> Result<Collected, LoopError> {
        let participants = self.participants();
        let entries: Vec<_> = participants
            .iter()
            .map(|(id, plugin)| (plugin.clone(), self.request(state, id)))
            .collect();
        let runtime = self.round_runtime()?;
        let what = format!("waiting for {} proposals", entries.len());
        let results = watched(runtime.propose_round(&entries), progress, &what, None).await;
        // A usage limit or a refused key is the provider's fault, not the
        // bidders': nobody's turn is recorded as an error.
        if let Some(reason) = self.bench.models.plugins_unavailable() {
            self.record_answered(place, &participants, &results, &reason)?;
            return Ok(Err(reason));
        }
        // A bidder whose deadline passed while its provider made it wait for
        // a usage limit did not fail either.
        for ((bot_id, plugin), metered) in participants.iter().zip(&results) {
            if matches!(metered.result, Err(PluginError::Timeout { .. }))
                && self.bench.models.waited_for_usage_limit(bot_id)
            {
                let reason = Unavailable::UsageLimited(format!(
                    "the deadline of {} passed while its model provider made it wait for a usage limit; wait, or give the bidder a longer limits.deadline_ms",
                    plugin.name()
                ));
                self.record_answered(place, &participants, &results, &reason)?;
                return Ok(Err(reason));
            }
        }
        self.charge_round(&participants, &results);
        let mut arrived: Vec<(std::time::Duration, String, Result<Proposal, String>)> =
            participants
                .iter()
                .zip(results)
                .map(|((id, _), metered)| match metered.result {
                    Ok(outcome) => (outcome.elapsed, id.clone(), Ok(outcome.value)),
                    Err(error) => (std::time::Duration::MAX, id.clone(), Err(error.to_string())),
                })
                .collect();
        arrived.sort_by_key(|(elapsed, _, _)| *elapsed);
        let mut usable = Vec::new();
        for (index, (_, bot_id, result)) in arrived.into_iter().enumerate() {
            let label = label(index);
            match result {
                Err(error) => {
                    progress.step(Step::ProposalFailed {
                        label,
                        error: error.clone(),
                    });
                    let bidder = self.bidder_round(&bot_id);
                    recording::bidder_error(
                        &self.marketplace,
                        place,
                        bidder,
                        ErrorSource::Plugin,
                        &error,
                    )
                    .map_err(LoopError::failed)?;
                }
                Ok(proposal) => {
                    let resubmitted = state.kind == RoundKind::Replan
                        && state
                            .previous
                            .iter()
                            .any(|(id, old)| *id == bot_id && same_plan(old, &proposal));
                    if resubmitted {
                        let bidder = self.bidder_round(&bot_id);
                        recording::resubmitted(&self.marketplace, place, bidder)
                            .map_err(LoopError::failed)?;
                        if state.failed_bidder.as_deref() == Some(bot_id.as_str()) {
                            progress.step(Step::ProposalRefused {
                                label,
                                reason: "its proposal failed and it resubmitted it unchanged"
                                    .into(),
                            });
                            continue;
                        }
                    }
                    usable.push((bot_id, proposal));
                }
            }
        }
        Ok(Ok(usable))
    }

    /// Adds what each participant used to its usage in this round.
    fn charge_round(
        &mut self,
        participants: &[(String, Arc<BidderPlugin>)],
        results: &[ralph_runtime::Metered<Proposal>],
    ) {
        for ((id, _), metered) in participants.iter().zip(results) {
            self.round_usage
                .entry(id.clone())
                .or_default()
                .add(metered.usage);
        }
    }

    /// A provider became unavailable during the proposals: the round stops,
    /// but every call the provider did answer is kept, as an `error` (delta
    /// 0, the provider's doing) for each bidder that used the model.
    fn record_answered(
        &mut self,
        place: Place,
        participants: &[(String, Arc<BidderPlugin>)],
        results: &[ralph_runtime::Metered<Proposal>],
        reason: &Unavailable,
    ) -> Result<(), LoopError> {
        self.charge_round(participants, results);
        for (id, _) in participants {
            let bidder = self.bidder_round(id);
            if bidder.usage.is_some_and(|usage| usage.calls > 0) {
                recording::bidder_error(
                    &self.marketplace,
                    place,
                    bidder,
                    ErrorSource::Provider,
                    reason.reason(),
                )
                .map_err(LoopError::failed)?;
            }
        }
        Ok(())
    }

    /// Scores and ranks proposals (best first), labelled in submission
    /// order: by the heuristic, combined with the model judge's scores when
    /// `scoring.judge` is `model`.
    async fn score(
        &mut self,
        proposals: Vec<(String, Proposal)>,
        work: &Work,
        progress: &mut dyn Progress,
    ) -> Vec<Scored> {
        let texts: Vec<String> = proposals
            .iter()
            .map(|(_, proposal)| format!("{}\n{}", proposal.summary, proposal.pseudo_code))
            .collect();
        let distinctness = scoring::distinctness(&texts);
        let weights = self.marketplace.config().scoring_weights;
        let mut scored: Vec<Scored> = proposals
            .into_iter()
            .enumerate()
            .map(|(index, (bot_id, proposal))| {
                let applies = proposal
                    .patch
                    .as_deref()
                    .map(|patch| self.bench.worktree.check_patch(patch).is_ok());
                let facts = facts::of_proposal(
                    work,
                    &proposal,
                    self.bench.worktree.path(),
                    applies,
                    distinctness[index],
                );
                let scores = scoring::score(&facts);
                Scored {
                    bot_id,
                    label: label(index),
                    implementable: self.bench.implementer.can_implement(&proposal),
                    proposal,
                    scores,
                    total: scores.total(&weights),
                    distinctness: distinctness[index],
                    judgement: None,
                }
            })
            .collect();
        if !scored.is_empty() {
            let candidates: Vec<Candidate> = scored
                .iter()
                .map(|entry| Candidate {
                    label: entry.label.clone(),
                    text: self.anonymised(&proposal_text(&entry.proposal)),
                })
                .collect();
            let heuristic: Vec<Scores> = scored.iter().map(|entry| entry.scores).collect();
            if let Some(judgements) = self
                .judge(Subject::Proposals, &candidates, &heuristic, progress)
                .await
            {
                for (entry, judgement) in scored.iter_mut().zip(judgements) {
                    entry.scores = judgement.scores();
                    entry.total = entry.scores.total(&weights);
                    entry.judgement = Some(judgement);
                }
            }
        }
        let totals: Vec<f64> = scored.iter().map(|entry| entry.total).collect();
        let selection = self.marketplace.config().selection;
        let efficiencies: Vec<f64> = match selection {
            Selection::Seed => Vec::new(),
            Selection::Efficiency => {
                let state = self.marketplace.state().map(|loaded| loaded.state);
                scored
                    .iter()
                    .map(|entry| {
                        state
                            .as_ref()
                            .ok()
                            .and_then(|state| {
                                state
                                    .bots
                                    .0
                                    .iter()
                                    .find(|(id, _)| *id == entry.bot_id)
                                    .map(|(_, bot)| bot.efficiency)
                            })
                            .unwrap_or(0.5)
                    })
                    .collect()
            }
        };
        let keys = scoring::selection_keys(&totals, &efficiencies, selection);
        let implementable: Vec<bool> = scored.iter().map(|entry| entry.implementable).collect();
        let mut slots: Vec<Option<Scored>> = scored.into_iter().map(Some).collect();
        scoring::rank_implementable(&keys, &implementable)
            .into_iter()
            .filter_map(|index| slots[index].take())
            .collect()
    }

    /// Runs one round. The ranking it returns is best first, but for a
    /// proposal a person chose over the #1 (`--review`), which is moved to
    /// the front: the round's implemented proposal always comes first.
    pub async fn round(
        &mut self,
        state: &RoundState,
        progress: &mut dyn Progress,
    ) -> Result<(RoundEnd, Vec<Scored>), LoopError> {
        let place = Place {
            issue: self.bench.issue.number,
            round: state.round,
            kind: state.kind,
            iteration: self.used,
            issue_type: self.issue_type(),
        };
        let work = Work::from_requirements(&self.bench.issue.requirements());
        // Every round may call a provider the previous round found down.
        self.bench.models.new_round();
        self.round_usage.clear();
        self.usage_recorded.clear();
        self.review_usage = ralph_runtime::ModelUsage::default();
        self.check_usage = ralph_runtime::ModelUsage::default();
        self.judge_usage = ralph_runtime::ModelUsage::default();
        let proposals = match self.collect_proposals(state, place, progress).await? {
            Ok(proposals) => proposals,
            Err(unavailable) => return Ok((unavailable_end(unavailable)?, Vec::new())),
        };
        let ranked = self.score(proposals, &work, progress).await;
        for entry in &ranked {
            progress.step(Step::ProposalReceived {
                label: entry.label.clone(),
                total: entry.total,
                summary: entry.proposal.summary.clone(),
            });
        }
        progress.step(Step::Ranked {
            ranking: ranked
                .iter()
                .map(|entry| RankedProposal {
                    label: entry.label.clone(),
                    total: entry.total,
                })
                .collect(),
        });
        self.planned(&ranked)?;
        let Some(winner) = ranked.first() else {
            return Ok((RoundEnd::NoProposals, ranked));
        };
        let tie_break = tie_break(&ranked);
        if !winner.implementable {
            let (provider, stand_in) = self.bench.models.plugins_provider();
            let hint = if stand_in {
                format!(
                    " The bidders were answered by {provider}, not a model: configure one in the `llm` section of .ralph/config.json or with --llm-provider (docs/models.md)."
                )
            } else {
                String::new()
            };
            let reason = format!(
                "no proposal can be carried out by the `{}` implementer: {} no patch. Configure the `model` implementer (or an agent: `claude_code`, `codex`, `command`) to have plans implemented; no bidder was charged.{hint}",
                self.bench.implementer.kind(),
                match ranked.len() {
                    1 => "the one proposal carries".to_owned(),
                    count => format!("all {count} proposals carry"),
                }
            );
            self.record_ranked(place, &ranked, 0, tie_break, None)?;
            return Ok((RoundEnd::NothingImplementable { reason }, ranked));
        }
        if self.stop_requested() {
            self.record_ranked(place, &ranked, 0, tie_break, None)?;
            return Ok((RoundEnd::Interrupted, ranked));
        }
        self.review(winner, progress).await?;
        if self.stop_requested() {
            let usage = self.attempt_usage(None);
            self.record_ranked(place, &ranked, 0, tie_break, Some(usage))?;
            return Ok((RoundEnd::Interrupted, ranked));
        }
        let chosen = match self
            .human_review(state, place, &ranked, tie_break, progress)
            .await?
        {
            Reviewed::Implement(chosen) => chosen,
            Reviewed::Ended(end) => return Ok((end, ranked)),
        };
        let winner = &ranked[chosen];
        self.spend(&winner.bot_id);
        let place = Place {
            iteration: self.used,
            ..place
        };
        // The ranking's #1 is written first, as `analyze` expects of a round.
        let overridden = self.record_override(place, &ranked, chosen, tie_break)?;
        let end = self
            .implement_and_verify(winner, chosen + 1, tie_break, &work, place, progress)
            .await?;
        // The winner's event is written; the others' now.
        self.record_runner_ups(place, &ranked, chosen, overridden, tie_break, &end)?;
        let mut ranked = ranked;
        ranked[..=chosen].rotate_right(1);
        Ok((end, ranked))
    }

    /// After `ranked[chosen]` was implemented: a `not_tried` event for each
    /// other proposal when it succeeded, else a `ranked` one; but not for
    /// the #1 when it has its `override` already (`overridden`).
    fn record_runner_ups(
        &mut self,
        place: Place,
        ranked: &[Scored],
        chosen: usize,
        overridden: bool,
        tie_break: bool,
        end: &RoundEnd,
    ) -> Result<(), LoopError> {
        for (index, entry) in ranked.iter().enumerate() {
            if index == chosen || (index == 0 && overridden) {
                continue;
            }
            let bidder = self.bidder_round(&entry.bot_id);
            let standing = entry.standing(index + 1, tie_break);
            if let RoundEnd::Succeeded { .. } = end {
                recording::not_tried(&self.marketplace, place, bidder, &standing)
            } else {
                recording::ranked(
                    &self.marketplace,
                    place,
                    bidder,
                    &standing,
                    &AttemptUsage::default(),
                )
            }
            .map_err(LoopError::failed)?;
        }
        Ok(())
    }

    /// Records a `ranked` event for every proposal from `ranked[skip]` on;
    /// the winner's (when not skipped) carries `winner_usage`, what its
    /// unfinished attempt used.
    pub(crate) fn record_ranked(
        &mut self,
        place: Place,
        ranked: &[Scored],
        skip: usize,
        tie_break: bool,
        winner_usage: Option<AttemptUsage>,
    ) -> Result<(), LoopError> {
        for (index, entry) in ranked.iter().enumerate().skip(skip) {
            let bidder = self.bidder_round(&entry.bot_id);
            // The winner's event keeps what the round's judging used too.
            let usage = if index == 0 {
                winner_usage.unwrap_or_else(|| self.attempt_usage(None))
            } else {
                AttemptUsage::default()
            };
            let standing = entry.standing(index + 1, tie_break);
            recording::ranked(&self.marketplace, place, bidder, &standing, &usage)
                .map_err(LoopError::failed)?;
        }
        Ok(())
    }

    /// What the round's winning attempt used besides its bidder's proposal:
    /// the implementer's usage, the reviews', the check plugins' and the
    /// model judge's.
    pub(crate) fn attempt_usage(&self, implementation: Option<UsageRecord>) -> AttemptUsage {
        let record = |usage: &ralph_runtime::ModelUsage| {
            (usage.calls > 0).then(|| self.metering.record(self.plugin_model(), usage))
        };
        AttemptUsage {
            implementation,
            review: record(&self.review_usage),
            check: record(&self.check_usage),
            judge: (self.judge_usage.calls > 0).then(|| {
                self.metering
                    .record(self.bench.models.judge_model(), &self.judge_usage)
            }),
        }
    }

    /// Every loaded specialist reviews the winning proposal, concurrently.
    /// The findings are reported and kept for the pull-request record; they
    /// are advisory: they change no score, event, weight or budget, and even
    /// an `error` finding does not stop the implementation (the checks
    /// decide). A specialist that fails is reported and the round goes on.
    pub(crate) async fn review(
        &mut self,
        winner: &Scored,
        progress: &mut dyn Progress,
    ) -> Result<(), LoopError> {
        self.round_reviews.clear();
        self.review_usage = ralph_runtime::ModelUsage::default();
        if self.specialists.is_empty() {
            return Ok(());
        }
        tracing::info!(
            label = %winner.label,
            specialists = self.specialists.len(),
            "Reviewing the winning proposal"
        );
        let results = self
            .round_runtime()?
            .review_all(&self.specialists, &winner.proposal)
            .await;
        for (specialist, metered) in self.specialists.iter().zip(results) {
            self.review_usage.add(metered.usage);
            let specialist = specialist.name().to_owned();
            let label = winner.label.clone();
            let review = match metered.result {
                Ok(outcome) => {
                    let findings: Vec<ReviewFinding> =
                        outcome.value.into_iter().map(finding_of).collect();
                    progress.step(Step::Reviewed {
                        label,
                        specialist: specialist.clone(),
                        findings: findings.clone(),
                    });
                    SpecialistReview {
                        specialist,
                        findings,
                        error: None,
                    }
                }
                Err(error) => {
                    let error = error.to_string();
                    tracing::warn!(specialist = %specialist, error = %error, "A review failed");
                    progress.step(Step::ReviewFailed {
                        label,
                        specialist: specialist.clone(),
                        error: error.clone(),
                    });
                    SpecialistReview {
                        specialist,
                        findings: Vec::new(),
                        error: Some(error),
                    }
                }
            };
            self.round_reviews.push(review);
        }
        Ok(())
    }

    /// Implements the winner (at `rank` in the round's ranking: 1 unless a
    /// person chose another) in the worktree, runs every check, scores the
    /// result and records the winner's event.
    async fn implement_and_verify(
        &mut self,
        winner: &Scored,
        rank: usize,
        tie_break: bool,
        work: &Work,
        place: Place,
        progress: &mut dyn Progress,
    ) -> Result<RoundEnd, LoopError> {
        tracing::info!(label = %winner.label, "Implementing the winning proposal");
        // INFO reaches the implementer only: it adds to what the session
        // knows without changing the plan the bidders made.
        let mut steering = self.guidance();
        steering.extend(
            self.signals
                .info()
                .into_iter()
                .map(|info| format!("For your information (the plan stays as it is): {info}")),
        );
        let request = attempt::Request {
            task: Task::new(&self.bench.issue, &winner.proposal).steered(&steering),
            label: winner.label.clone(),
            subject: format!("proposal {}", winner.label),
            requirements: self.remaining_for_plugins(),
            feedback_dir: self.feedback_folder.clone(),
        };
        let report = self
            .bench
            .workshop(self.marketplace.layout(), &self.runtime)
            .attempt(request, progress)
            .await;
        self.check_usage = report.check_usage;
        self.last_answer = report.answer.clone();
        let implementation_usage = report
            .implementation
            .map(|usage| self.implementation_record(&usage));
        let standing = winner.standing(rank, tie_break);
        let checked = match report.ending {
            attempt::Ending::Checked(checked) => checked,
            attempt::Ending::Stopped => {
                // Stopped mid-attempt: no one's fault, and what the attempt
                // used so far is kept.
                let bidder = self.bidder_round(&winner.bot_id);
                let usage = self.attempt_usage(implementation_usage);
                recording::ranked(&self.marketplace, place, bidder, &standing, &usage)
                    .map_err(LoopError::failed)?;
                return Ok(RoundEnd::Interrupted);
            }
            attempt::Ending::Unavailable(unavailable) => {
                self.bench
                    .worktree
                    .discard_changes()
                    .map_err(LoopError::failed)?;
                self.refund(&winner.bot_id);
                if let Unavailable::UsageLimited(_) = &unavailable {
                    let bidder = self.bidder_round(&winner.bot_id);
                    let usage = self.attempt_usage(implementation_usage);
                    recording::ranked(&self.marketplace, place, bidder, &standing, &usage)
                        .map_err(LoopError::failed)?;
                }
                return unavailable_end(unavailable);
            }
            attempt::Ending::NotImplemented(fault) => {
                return self.not_implemented(
                    winner,
                    &standing,
                    place,
                    fault,
                    implementation_usage,
                    progress,
                );
            }
            attempt::Ending::Broken(error) => return Err(LoopError::Failed(error)),
        };
        let succeeded = checked.succeeded();
        let facts = facts::of_implementation(
            work,
            &winner.proposal.requirements_covered,
            &checked.stats,
            &checked.diff,
            &checked.judged,
            self.bench.worktree.path(),
            winner.distinctness,
        );
        let heuristic = scoring::score(&facts);
        let candidate = Candidate {
            label: winner.label.clone(),
            text: self.anonymised(&change_text(&winner.proposal.summary, &checked.diff)),
        };
        let implementation_judgement = self
            .judge(
                Subject::Implementation,
                &[candidate],
                &[heuristic],
                progress,
            )
            .await
            .and_then(|judgements| judgements.into_iter().next());
        let implementation_dimensions = implementation_judgement
            .as_ref()
            .map_or(heuristic, |judgement| judgement.scores());
        let implementation_score =
            implementation_dimensions.total(&self.marketplace.config().scoring_weights);
        progress.step(Step::Outcome {
            label: winner.label.clone(),
            succeeded,
            proposal_score: winner.total,
            implementation_score,
        });
        let mut outcome = attempt_of(implementation_score, Some(&checked.judged), &checked.stats);
        outcome.implementation_dimensions = Some(implementation_dimensions);
        outcome.implementation_judgement = implementation_judgement;
        let bidder = self.bidder_round(&winner.bot_id);
        let usage = self.attempt_usage(implementation_usage);
        recording::implementation(
            &self.marketplace,
            place,
            bidder,
            &standing,
            &outcome,
            &usage,
            succeeded,
        )
        .map_err(LoopError::failed)?;
        self.last_checks = checked.judged.clone();
        self.kept_output = checked.kept_output.clone();
        if !succeeded {
            self.bench
                .worktree
                .discard_changes()
                .map_err(LoopError::failed)?;
            return Ok(RoundEnd::Failed {
                report: feedback::report(
                    &format!("proposal {}", winner.label),
                    &checked.against(),
                    &checked.kept_output,
                ),
            });
        }
        // What is committed is the change as checked, whatever the checks
        // (which run its code) did to the worktree or the index.
        self.bench
            .worktree
            .stage_tree(&checked.tree)
            .map_err(LoopError::failed)?;
        self.finish_success(winner, work, place, progress)
    }

    /// The winner's change could not be made. By its own fault (its patch
    /// does not apply, it touches a protected path) that is a failed
    /// attempt and a replan; by the implementer's, its agent's or its
    /// model's, an `error` that is not its bidder's, and the loop stops for
    /// a person.
    fn not_implemented(
        &mut self,
        winner: &Scored,
        standing: &Standing<'_>,
        place: Place,
        fault: ImplementError,
        implementation_usage: Option<UsageRecord>,
        progress: &mut dyn Progress,
    ) -> Result<RoundEnd, LoopError> {
        let blamed = matches!(fault, ImplementError::Proposal(_));
        let error = fault.to_string();
        progress.step(Step::ImplementationFailed {
            label: winner.label.clone(),
            error: error.clone(),
            blamed,
        });
        let bidder = self.bidder_round(&winner.bot_id);
        let usage = self.attempt_usage(implementation_usage);
        if blamed {
            let attempt = attempt_of(0.0, None, &crate::worktree::DiffStats::default());
            recording::implementation(
                &self.marketplace,
                place,
                bidder,
                standing,
                &attempt,
                &usage,
                false,
            )
        } else {
            recording::attempt_error(&self.marketplace, place, bidder, standing, &usage, &error)
        }
        .map_err(LoopError::failed)?;
        self.bench
            .worktree
            .discard_changes()
            .map_err(LoopError::failed)?;
        let label = &winner.label;
        Ok(if blamed {
            RoundEnd::Failed {
                report: format!("proposal {label} could not be implemented: {error}"),
            }
        } else {
            RoundEnd::ImplementerFailed {
                reason: format!(
                    "the `{}` implementer failed on proposal {label} (not the proposal's fault; no bidder was charged): {error}",
                    self.bench.implementer.kind()
                ),
            }
        })
    }

    fn finish_success(
        &mut self,
        winner: &Scored,
        work: &Work,
        place: Place,
        progress: &mut dyn Progress,
    ) -> Result<RoundEnd, LoopError> {
        let covered: Vec<(ralph_issues::RequirementId, String)> = work
            .covered(&winner.proposal.requirements_covered)
            .into_iter()
            .map(|requirement| (requirement.id.clone(), requirement.text.clone()))
            .collect();
        let texts: Vec<&str> = covered.iter().map(|(_, text)| text.as_str()).collect();
        let message = commit_message(&texts, &winner.proposal.summary);
        let trailers = [
            ("Ralph-Issue", self.bench.issue.number.to_string()),
            ("Ralph-Round", place.round.to_string()),
            ("Ralph-Proposal", winner.label.clone()),
        ];
        self.bench
            .worktree
            .commit(&message, &trailers)
            .map_err(LoopError::failed)?;
        let ids: Vec<ralph_issues::RequirementId> =
            covered.iter().map(|(id, _)| id.clone()).collect();
        if !ids.is_empty() {
            self.bench.issue = self
                .bench
                .issues
                .tick_requirements(self.bench.issue.number, &ids)
                .map_err(LoopError::failed)?;
        }
        let ticked: Vec<String> = covered.into_iter().map(|(_, text)| text).collect();
        progress.step(Step::Ticked {
            requirements: ticked.clone(),
        });
        Ok(RoundEnd::Succeeded {
            ticked,
            summary: winner.proposal.summary.clone(),
        })
    }
}

/// A plugin's severity under the name steps and records give it.
pub(crate) fn severity_of(severity: Severity) -> FindingSeverity {
    match severity {
        Severity::Info => FindingSeverity::Info,
        Severity::Warning => FindingSeverity::Warning,
        Severity::Error => FindingSeverity::Error,
    }
}

fn finding_of(finding: Finding) -> ReviewFinding {
    ReviewFinding {
        severity: severity_of(finding.severity),
        file: finding.file,
        line: finding.line,
        message: finding.message,
    }
}

/// What an implementation attempt measured, for the winner's event;
/// `judged` is `None` when nothing could be implemented (then neither tests
/// nor quality passed).
fn attempt_of(
    implementation_score: f64,
    judged: Option<&[Judged]>,
    stats: &crate::worktree::DiffStats,
) -> Attempt {
    let none_against = |quality: bool| {
        judged.is_some_and(|judged| {
            judged
                .iter()
                .filter(|j| j.run.category.is_quality() == quality)
                .all(|j| !j.counts_against())
        })
    };
    Attempt {
        implementation_score,
        implementation_dimensions: None,
        implementation_judgement: None,
        tests_passed: none_against(false),
        code_quality_passed: none_against(true),
        lines_changed: stats.lines_changed(),
        files_affected: stats.files.len(),
    }
}

/// The most characters of a commit's subject.
const SUBJECT_WIDTH: usize = 72;

/// A commit's message: the requirements it completes as the subject, the
/// proposal's summary (one paragraph, plain text) as the body.
pub(crate) fn commit_message(requirements: &[&str], summary: &str) -> String {
    let plain = |text: &str| -> String {
        text.split_whitespace()
            .map(|word| word.chars().filter(|c| !c.is_control()).collect::<String>())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut subject = plain(&requirements.join("; "));
    if subject.is_empty() {
        subject = plain(summary.lines().next().unwrap_or("A change"));
    }
    if subject.chars().count() > SUBJECT_WIDTH {
        subject = format!(
            "{}…",
            subject.chars().take(SUBJECT_WIDTH - 1).collect::<String>()
        );
    }
    let paragraph = summary.split("\n\n").next().unwrap_or("");
    let body: String = plain(paragraph).chars().take(1000).collect();
    if body.is_empty() {
        format!("{subject}\n")
    } else {
        format!("{subject}\n\n{body}\n")
    }
}
