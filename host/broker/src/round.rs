//! One round of the marketplace: every bidder with budget proposes, the
//! proposals are scored blind and ranked, every specialist reviews the
//! winner (advisory only), only the winner is implemented and verified, and
//! what happened is recorded (SPEC §3–4).

use std::sync::Arc;

use ralph_issues::pulls::{FindingSeverity, ReviewFinding, SpecialistReview};
use ralph_models::Unavailable;
use ralph_runtime::{
    BidderPlugin, CheckInput, Finding, IssueSpec, PluginError, Proposal, ProposalRequest,
    Requirement as PluginRequirement, RoundContext, Severity,
};

use crate::checks::{self, Judged};
use crate::facts::{self, Work};
use crate::progress::{Progress, RankedProposal, Step};
use crate::protected;
use crate::recording::{self, Attempt, Place, RoundKind};
use crate::scoring::{self, Scores};
use crate::session::{LoopError, Session};
use crate::snapshot::Snapshot;

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
    /// A stop was requested mid-round; nothing was recorded for the
    /// unfinished attempt and the worktree is left as it was.
    Interrupted,
    /// A model provider stayed over its usage limit: nothing was recorded
    /// for the round and no budget was spent.
    ProviderUnavailable { reason: String },
}

/// A round's proposals, or why a model provider could not make them.
type Collected = Result<Vec<(String, Proposal)>, Unavailable>;

/// The round's end when a provider is unavailable: a usage limit ends the
/// loop for now; a refused key or an unknown model is the config's fault.
fn unavailable_end(unavailable: Unavailable) -> Result<RoundEnd, LoopError> {
    match unavailable {
        Unavailable::UsageLimited(reason) => Ok(RoundEnd::ProviderUnavailable { reason }),
        Unavailable::Misconfigured(reason) => Err(LoopError::BadInput(format!(
            "{reason}. Nothing was recorded for this round; fix the llm settings or the key and run the loop again"
        ))),
    }
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
                id: self.issue.number.to_string(),
                title: self.issue.title.clone(),
                body: self.issue.body.clone(),
            },
            requirements: self.remaining_for_plugins(),
            context: RoundContext {
                round: state.round,
                attempt: 1,
                failure_report: state.failure_report.as_deref().map(ralph_secrets::redact),
                previous_proposal: previous,
                persona: settings.persona,
                personality: settings.personality,
            },
            token_allowance: self.token_allowance(bot_id),
        }
    }

    fn remaining_for_plugins(&self) -> Vec<PluginRequirement> {
        self.issue
            .requirements()
            .into_iter()
            .filter(|requirement| !requirement.done)
            .map(|requirement| PluginRequirement {
                id: requirement.id.0.clone(),
                description: requirement.text.clone(),
                complexity: match requirement.complexity.value() {
                    0 | 1 => ralph_runtime::Complexity::Trivial,
                    2 => ralph_runtime::Complexity::Small,
                    3 => ralph_runtime::Complexity::Medium,
                    4 => ralph_runtime::Complexity::Large,
                    _ => ralph_runtime::Complexity::VeryLarge,
                },
            })
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
        let participants: Vec<(String, Arc<BidderPlugin>)> = self
            .bidders
            .iter()
            .filter(|(id, _)| self.budget_of(id) > 0)
            .cloned()
            .collect();
        let entries: Vec<_> = participants
            .iter()
            .map(|(id, plugin)| (plugin.clone(), self.request(state, id)))
            .collect();
        let runtime = self.round_runtime()?;
        let results = runtime.propose_round(&entries).await;
        // A usage limit or a refused key is the provider's fault, not the
        // bidders': nobody's turn is recorded as an error.
        if let Some(reason) = self.models.plugins_unavailable() {
            return Ok(Err(reason));
        }
        // A bidder whose deadline passed while its provider made it wait for
        // a usage limit did not fail either.
        for ((bot_id, plugin), metered) in participants.iter().zip(&results) {
            if matches!(metered.result, Err(PluginError::Timeout { .. }))
                && self.models.waited_for_usage_limit(bot_id)
            {
                return Ok(Err(Unavailable::UsageLimited(format!(
                    "the deadline of {} passed while its model provider made it wait for a usage limit; wait, or give the bidder a longer limits.deadline_ms",
                    plugin.name()
                ))));
            }
        }
        for ((id, _), metered) in participants.iter().zip(&results) {
            self.round_usage
                .entry(id.clone())
                .or_default()
                .add(metered.usage);
        }
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
                    recording::plugin_error(
                        &self.marketplace,
                        place,
                        self.bidder_round(&bot_id),
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
                        recording::resubmitted(
                            &self.marketplace,
                            place,
                            self.bidder_round(&bot_id),
                        )
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

    /// Scores and ranks proposals (best first), labelled in submission order.
    fn score(&self, proposals: Vec<(String, Proposal)>, work: &Work) -> Vec<Scored> {
        let texts: Vec<String> = proposals
            .iter()
            .map(|(_, proposal)| format!("{}\n{}", proposal.summary, proposal.pseudo_code))
            .collect();
        let distinctness = scoring::distinctness(&texts);
        let scored: Vec<Scored> = proposals
            .into_iter()
            .enumerate()
            .map(|(index, (bot_id, proposal))| {
                let applies = proposal
                    .patch
                    .as_deref()
                    .map(|patch| self.worktree.check_patch(patch).is_ok());
                let facts = facts::of_proposal(
                    work,
                    &proposal,
                    self.worktree.path(),
                    applies,
                    distinctness[index],
                );
                let scores = scoring::score(&facts);
                let total = scores.total(&self.marketplace.config().scoring_weights);
                Scored {
                    bot_id,
                    label: label(index),
                    proposal,
                    scores,
                    total,
                    distinctness: distinctness[index],
                }
            })
            .collect();
        let totals: Vec<f64> = scored.iter().map(|entry| entry.total).collect();
        let mut slots: Vec<Option<Scored>> = scored.into_iter().map(Some).collect();
        scoring::rank(&totals)
            .into_iter()
            .filter_map(|index| slots[index].take())
            .collect()
    }

    /// Runs one round.
    pub async fn round(
        &mut self,
        state: &RoundState,
        progress: &mut dyn Progress,
    ) -> Result<(RoundEnd, Vec<Scored>), LoopError> {
        let place = Place {
            issue: self.issue.number,
            round: state.round,
            kind: state.kind,
            iteration: self.used,
        };
        let work = Work::from_requirements(&self.issue.requirements());
        // Every round may call a provider the previous round found down.
        self.models.new_round();
        self.round_usage.clear();
        let proposals = match self.collect_proposals(state, place, progress).await? {
            Ok(proposals) => proposals,
            Err(unavailable) => return Ok((unavailable_end(unavailable)?, Vec::new())),
        };
        let ranked = self.score(proposals, &work);
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
        let Some(winner) = ranked.first() else {
            return Ok((RoundEnd::NoProposals, ranked));
        };
        if self.stop_requested() {
            return Ok((RoundEnd::Interrupted, ranked));
        }
        self.review(winner, progress).await?;
        if self.stop_requested() {
            return Ok((RoundEnd::Interrupted, ranked));
        }
        self.spend(&winner.bot_id);
        let place = Place {
            iteration: self.used,
            ..place
        };
        let end = self
            .implement_and_verify(winner, &work, place, progress)
            .await?;
        if let RoundEnd::Succeeded { .. } = &end {
            for (rank, entry) in ranked.iter().enumerate().skip(1) {
                recording::not_tried(
                    &self.marketplace,
                    place,
                    self.bidder_round(&entry.bot_id),
                    rank + 1,
                    &entry.label,
                    entry.total,
                )
                .map_err(LoopError::failed)?;
            }
        }
        Ok((end, ranked))
    }

    /// Every loaded specialist reviews the winning proposal, concurrently.
    /// The findings are reported and kept for the pull-request record; they
    /// are advisory: they change no score, event, weight or budget, and even
    /// an `error` finding does not stop the implementation (the checks
    /// decide). A specialist that fails is reported and the round goes on.
    async fn review(
        &mut self,
        winner: &Scored,
        progress: &mut dyn Progress,
    ) -> Result<(), LoopError> {
        self.round_reviews.clear();
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
        for (specialist, result) in self.specialists.iter().zip(results) {
            let specialist = specialist.name().to_owned();
            let label = winner.label.clone();
            let review = match result {
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

    /// Implements the winner in the worktree, runs every check, scores the
    /// result and records the winner's event.
    async fn implement_and_verify(
        &mut self,
        winner: &Scored,
        work: &Work,
        place: Place,
        progress: &mut dyn Progress,
    ) -> Result<RoundEnd, LoopError> {
        tracing::info!(label = %winner.label, "Implementing the winning proposal");
        progress.step(Step::Implementing {
            label: winner.label.clone(),
        });
        let implemented = self
            .implementer
            .implement(
                &self.worktree,
                &winner.proposal,
                self.models.implementer(),
                &self.confinement,
            )
            .await;
        let implementation_usage = implemented
            .usage
            .map(|usage| self.implementation_record(&usage));
        if let Err(error) = implemented.result {
            if let Some(unavailable) = self.models.implementer_unavailable() {
                self.worktree.discard_changes().map_err(LoopError::failed)?;
                self.refund(&winner.bot_id);
                return unavailable_end(unavailable);
            }
            return self.unimplemented(winner, place, error, implementation_usage, progress);
        }
        // What a change may touch (SPEC §5a): checked before any check runs
        // its code, and a violation is the bidder's failed attempt.
        if let Some(violation) =
            protected::check_change(&self.worktree, &self.protected).map_err(LoopError::failed)?
        {
            tracing::warn!(label = %winner.label, path = %violation.path, "Refused a change to a protected path");
            let error = violation.to_string();
            return self.unimplemented(winner, place, error, implementation_usage, progress);
        }
        // The change as checked: what is committed on success, whatever the
        // checks (which run its code) do to the worktree or the index.
        let checked = self.worktree.staged_tree().map_err(LoopError::failed)?;
        let stats = self.worktree.stats().map_err(LoopError::failed)?;
        let diff = self.worktree.diff().map_err(LoopError::failed)?;
        progress.step(Step::Implemented {
            label: winner.label.clone(),
            files: stats.files.len(),
            lines: stats.lines_changed(),
        });
        let Some(judged) = self.run_checks(&diff, &stats.files, progress).await else {
            return Ok(RoundEnd::Interrupted);
        };
        let against: Vec<&Judged> = judged.iter().filter(|j| j.counts_against()).collect();
        let succeeded = against.is_empty();
        let facts = facts::of_implementation(
            work,
            &winner.proposal.requirements_covered,
            &stats,
            &diff,
            &judged,
            self.worktree.path(),
            winner.distinctness,
        );
        let implementation_score =
            scoring::score(&facts).total(&self.marketplace.config().scoring_weights);
        progress.step(Step::Outcome {
            label: winner.label.clone(),
            succeeded,
            proposal_score: winner.total,
            implementation_score,
        });
        let mut attempt = attempt_of(winner.total, implementation_score, Some(&judged), &stats);
        attempt.implementation_usage = implementation_usage;
        recording::implementation(
            &self.marketplace,
            place,
            self.bidder_round(&winner.bot_id),
            1,
            &winner.label,
            &attempt,
            succeeded,
        )
        .map_err(LoopError::failed)?;
        self.last_checks = judged.clone();
        if !succeeded {
            self.worktree.discard_changes().map_err(LoopError::failed)?;
            let failures: Vec<String> = against
                .iter()
                .map(|j| format!("{}: {}", j.run.name, tail(&j.run.output, 600)))
                .collect();
            return Ok(RoundEnd::Failed {
                report: format!(
                    "proposal {} failed its checks:\n{}",
                    winner.label,
                    failures.join("\n")
                ),
            });
        }
        self.worktree
            .stage_tree(&checked)
            .map_err(LoopError::failed)?;
        self.finish_success(winner, work, progress)
    }

    /// The winner's change could not be made: a failed attempt.
    fn unimplemented(
        &mut self,
        winner: &Scored,
        place: Place,
        error: String,
        implementation_usage: Option<crate::metering::UsageRecord>,
        progress: &mut dyn Progress,
    ) -> Result<RoundEnd, LoopError> {
        progress.step(Step::ImplementationFailed {
            label: winner.label.clone(),
            error: error.clone(),
        });
        let mut attempt = attempt_of(
            winner.total,
            0.0,
            None,
            &crate::worktree::DiffStats::default(),
        );
        attempt.implementation_usage = implementation_usage;
        recording::implementation(
            &self.marketplace,
            place,
            self.bidder_round(&winner.bot_id),
            1,
            &winner.label,
            &attempt,
            false,
        )
        .map_err(LoopError::failed)?;
        self.worktree.discard_changes().map_err(LoopError::failed)?;
        Ok(RoundEnd::Failed {
            report: format!(
                "proposal {} could not be implemented: {error}",
                winner.label
            ),
        })
    }

    fn finish_success(
        &mut self,
        winner: &Scored,
        work: &Work,
        progress: &mut dyn Progress,
    ) -> Result<RoundEnd, LoopError> {
        let covered: Vec<(ralph_issues::RequirementId, String)> = work
            .covered(&winner.proposal.requirements_covered)
            .into_iter()
            .map(|requirement| (requirement.id.clone(), requirement.text.clone()))
            .collect();
        let message = format!(
            "{}\n\nProposal {} for issue #{}, chosen by Ralph's marketplace.\n",
            first_line(&winner.proposal.summary),
            winner.label,
            self.issue.number
        );
        self.worktree.commit(&message).map_err(LoopError::failed)?;
        let ids: Vec<ralph_issues::RequirementId> =
            covered.iter().map(|(id, _)| id.clone()).collect();
        if !ids.is_empty() {
            self.issue = self
                .issues
                .tick_requirements(self.issue.number, &ids)
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

    /// Runs every command check and check plugin on the change, one by one;
    /// `None` when a stop is requested between two checks.
    async fn run_checks(
        &mut self,
        diff: &str,
        files: &[String],
        progress: &mut dyn Progress,
    ) -> Option<Vec<Judged>> {
        let mut runs = Vec::new();
        for check in &self.command_checks {
            if self.stop_requested() {
                return None;
            }
            let check = check.clone();
            let directory = self.worktree.path().to_owned();
            let confinement = self.confinement.clone();
            let run =
                tokio::task::spawn_blocking(move || checks::run(&check, &directory, &confinement))
                    .await
                    .unwrap_or_else(|error| checks::CheckRun {
                        name: "check".into(),
                        category: checks::Category::Custom,
                        verdict: checks::Verdict::NotRun {
                            reason: error.to_string(),
                        },
                        duration_ms: 0,
                        output: String::new(),
                    });
            runs.push(run);
        }
        let input = CheckInput {
            diff: diff.to_owned(),
            changed_files: files.to_vec(),
            requirements: self.remaining_for_plugins(),
        };
        // Check plugins read a clean checkout of the change: its staged tree.
        let change = if self.check_plugins.is_empty() {
            None
        } else {
            self.worktree
                .staged_tree()
                .and_then(|tree| Snapshot::of(self.worktree.path(), &tree))
                .map_err(|error| {
                    tracing::warn!(%error, "Could not write out the change for the check plugins")
                })
                .ok()
        };
        for (name, plugin) in &self.check_plugins {
            if self.stop_requested() {
                return None;
            }
            let run = match &change {
                Some(change) => {
                    self.run_check_plugin(name, plugin, &input, change.path())
                        .await
                }
                None => not_run(name, "the change could not be written out for it"),
            };
            runs.push(run);
        }
        let judged = checks::judge(&self.baseline, runs);
        for entry in &judged {
            progress.step(Step::Check {
                name: entry.run.name.clone(),
                passed: entry.run.passed(),
                passed_before: entry.passed_before,
                counts_against: entry.counts_against(),
                duration_ms: entry.run.duration_ms,
                detail: tail(&entry.run.output, 400),
            });
        }
        Some(judged)
    }

    async fn run_check_plugin(
        &self,
        name: &str,
        plugin: &ralph_runtime::CheckPlugin,
        input: &CheckInput,
        view: &std::path::Path,
    ) -> checks::CheckRun {
        let started = std::time::Instant::now();
        let (verdict, output) = match self.runtime.run_check(plugin, input, view).await {
            Ok(outcome) => {
                let findings: Vec<String> = outcome
                    .value
                    .findings
                    .iter()
                    .map(|finding| {
                        let place = finding
                            .file
                            .as_ref()
                            .map(|file| format!("{file}:{} ", finding.line.unwrap_or(0)))
                            .unwrap_or_default();
                        format!("{:?}: {place}{}", finding.severity, finding.message)
                    })
                    .collect();
                let verdict = if outcome.value.passed {
                    checks::Verdict::Passed
                } else {
                    checks::Verdict::Failed { exit_code: None }
                };
                (verdict, findings.join("\n"))
            }
            // A faulting check plugin loses its turn; it does not decide.
            Err(error) => (
                checks::Verdict::NotRun {
                    reason: error.to_string(),
                },
                error.to_string(),
            ),
        };
        checks::CheckRun {
            name: name.to_owned(),
            category: checks::Category::Custom,
            verdict,
            duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            output,
        }
    }
}

/// A check that could not run, with why.
fn not_run(name: &str, reason: &str) -> checks::CheckRun {
    checks::CheckRun {
        name: name.to_owned(),
        category: checks::Category::Custom,
        verdict: checks::Verdict::NotRun {
            reason: reason.to_owned(),
        },
        duration_ms: 0,
        output: String::new(),
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
    proposal_score: f64,
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
        proposal_score,
        implementation_score,
        tests_passed: none_against(false),
        code_quality_passed: none_against(true),
        lines_changed: stats.lines_changed(),
        files_affected: stats.files.len(),
        implementation_usage: None,
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("")
}

/// The last `limit` bytes of `text`, on a character boundary.
fn tail(text: &str, limit: usize) -> String {
    if text.len() <= limit {
        return text.trim().to_owned();
    }
    let mut start = text.len() - limit;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    format!("…{}", text[start..].trim())
}
