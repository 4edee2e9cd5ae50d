//! The marketplace's session (SPEC §8): what a round does to the session
//! folder. A round is an iteration: it opens the tasks of the checkboxes
//! still unticked (`[/]`), the ranking completes its planning (the winner's
//! plan goes into `plan.md`, snapshotted as `plan.iteration-<N>.md`), and
//! its end ticks (`[x]`), fails (`[F]`, reopened by the replan round) or
//! reopens its tasks. Iterations are numbered across runs of the session,
//! so a resumed loop never overwrites an earlier run's.
//!
//! A failed round writes its feedback folder (the failure report and the
//! failing checks' whole output) for the next iteration, whose REPLANNING
//! step reads it, with any folder a person added; a person's feedback
//! reaches that round's bidders and implementer with the steering.

use crate::progress::{Progress, Step};
use crate::recording::RoundKind;
use crate::round::RoundEnd;
use crate::scoring::Scored;
use crate::session::Session;
use crate::sessions::{Failure, IterationMetadata, TaskStatus, now, task_checkbox};
use crate::workbench::LoopError;

impl Session {
    /// A round begins: the next iteration of the session. Feedback that
    /// waits is replanned on (the failed tasks open again); the open tasks
    /// are in progress.
    pub(crate) fn begin_iteration(
        &mut self,
        kind: RoundKind,
        progress: &mut dyn Progress,
    ) -> Result<(), LoopError> {
        let iteration = self.journal.metadata.iteration + 1;
        self.journal.metadata.iteration = iteration;
        let mut board = self.journal.define_tasks(&self.bench.issue, iteration)?;
        self.round_feedback.clear();
        if let Some(replanned) = self.journal.replan(iteration, &mut board)? {
            for (folder, text) in replanned.folders.iter().zip(&replanned.texts) {
                if self.own_feedback.as_ref() != Some(folder) {
                    self.round_feedback.push(format!(
                        "Feedback a person left in the session (`{folder}/feedbacks.md`):\n{}",
                        text.trim_end()
                    ));
                }
            }
            progress.step(Step::Replanned {
                iteration,
                feedbacks: replanned.folders,
                reset: replanned.reset,
            });
        }
        if kind != RoundKind::Initial {
            board.reset_failed(iteration, &now());
        }
        self.feedback_folder = self.journal.next_feedback_folder();
        self.kept_output.clear();
        for id in self.journal.open_tasks(&self.bench.issue, &board) {
            board.set(&id, TaskStatus::InProgress, iteration, &now());
        }
        self.journal.write_iteration(&IterationMetadata {
            iteration,
            started_at: now(),
            planning_completed_at: None,
            completed_at: None,
            tasks_defined: board.ids().len(),
            tasks_done: board.with_status(TaskStatus::Done).len(),
            outcome: None,
        })?;
        self.journal.write_metadata()?;
        self.journal.write_progress(&board)?;
        Ok(())
    }

    /// The round's proposals are ranked: planning is complete, and the
    /// winner's plan (untrusted text, between markers) is the iteration's.
    pub(crate) fn planned(&mut self, ranked: &[Scored]) -> Result<(), LoopError> {
        let iteration = self.journal.metadata.iteration;
        let Some(mut metadata) = self.journal.iteration(iteration)? else {
            return Ok(());
        };
        metadata.planning_completed_at = Some(now());
        self.journal.write_iteration(&metadata)?;
        let plan = self.journal.read("plan.md")?.unwrap_or_default();
        let section = match ranked.first() {
            Some(winner) => format!(
                "## Iteration {iteration}: proposal {}\nThe winning bidder's plan, as it wrote it:\n\n<<<plan\n{}\n\n{}\n>>>plan\n",
                winner.label,
                winner.proposal.summary.trim_end(),
                winner.proposal.pseudo_code.trim_end()
            ),
            None => format!("## Iteration {iteration}\nNo usable proposal.\n"),
        };
        self.journal
            .write("plan.md", &format!("{}\n\n{section}", plan.trim_end()))?;
        let plan = self.journal.read("plan.md")?.unwrap_or_default();
        self.journal
            .write_once(&format!("plan.iteration-{iteration}.md"), &plan)?;
        Ok(())
    }

    /// The round ended: its tasks are ticked when their checkbox now is,
    /// failed when the winner's change failed, open again otherwise.
    pub(crate) fn end_iteration(&mut self, end: &RoundEnd) -> Result<(), LoopError> {
        let iteration = self.journal.metadata.iteration;
        let mut board = self.journal.board()?;
        let at = now();
        let fronts = self.journal.tasks()?;
        let checkboxes = crate::sessions::checkboxes(&self.bench.issue);
        let in_progress = board.with_status(TaskStatus::InProgress);
        for id in &in_progress {
            let ticked =
                task_checkbox(&fronts, &checkboxes, id).is_some_and(|requirement| requirement.done);
            let status = match end {
                _ if ticked => TaskStatus::Done,
                RoundEnd::Failed { .. } => TaskStatus::Failed,
                _ => TaskStatus::Open,
            };
            board.set(id, status, iteration, &at);
        }
        if let RoundEnd::Failed { report } = end {
            let folder = self.feedback_folder.clone();
            self.own_feedback = Some(self.journal.write_feedback(
                &folder,
                &Failure {
                    iteration,
                    tasks: &in_progress,
                    report,
                    kept_output: &self.kept_output,
                },
            )?);
        }
        if let Some(answer) = self.last_answer.take() {
            let reported: Vec<String> = in_progress
                .iter()
                .filter(|id| {
                    board
                        .current(id)
                        .is_some_and(|line| line.status != TaskStatus::Open)
                })
                .cloned()
                .collect();
            self.journal
                .write_reports(&reported, &board, iteration, &answer)?;
        }
        if let Some(mut metadata) = self.journal.iteration(iteration)? {
            metadata.completed_at = Some(at);
            metadata.tasks_done = board.with_status(TaskStatus::Done).len();
            metadata.outcome = Some(
                match end {
                    RoundEnd::Succeeded { .. } => "succeeded",
                    RoundEnd::Failed { .. } => "failed",
                    RoundEnd::NoProposals => "no proposals",
                    RoundEnd::NothingImplementable { .. } => "nothing implementable",
                    RoundEnd::ImplementerFailed { .. } => "implementer failed",
                    RoundEnd::Interrupted => "stopped",
                    RoundEnd::Feedback { .. } => "feedback",
                    RoundEnd::ProviderUnavailable { .. } => "provider unavailable",
                }
                .to_owned(),
            );
            self.journal.write_iteration(&metadata)?;
            self.journal
                .write_review(&metadata, &board, &self.last_checks)?;
        }
        self.journal.write_progress(&board)?;
        Ok(())
    }

    /// What the person running the loop said for this round: the STEER
    /// messages, then the feedback folders a person added. Untrusted text
    /// for every bidder's round context and the implementer's prompt.
    pub(crate) fn guidance(&self) -> Vec<String> {
        let mut guidance = self.signals.steering();
        guidance.extend(self.round_feedback.iter().cloned());
        guidance
    }
}
