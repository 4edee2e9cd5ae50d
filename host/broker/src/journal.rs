//! The marketplace's session (SPEC §8): what a round does to the session
//! folder. A round is an iteration: it opens the tasks of the checkboxes
//! still unticked (`[/]`), the ranking completes its planning (the winner's
//! plan goes into `plan.md`, snapshotted as `plan.iteration-<N>.md`), and
//! its end ticks (`[x]`), fails (`[F]`, reopened by the replan round) or
//! reopens its tasks. Iterations are numbered across runs of the session,
//! so a resumed loop never overwrites an earlier run's.

use crate::recording::RoundKind;
use crate::round::RoundEnd;
use crate::scoring::Scored;
use crate::session::Session;
use crate::sessions::{IterationMetadata, TaskStatus, now};
use crate::workbench::LoopError;

impl Session {
    /// A round begins: the next iteration of the session, with the open
    /// tasks in progress (a replan round first reopens the failed ones).
    pub(crate) fn begin_iteration(&mut self, kind: RoundKind) -> Result<(), LoopError> {
        let iteration = self.journal.metadata.iteration + 1;
        self.journal.metadata.iteration = iteration;
        let mut board = self.journal.define_tasks(&self.bench.issue, iteration)?;
        if kind != RoundKind::Initial {
            board.reset_failed(iteration, &now());
        }
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
        for id in board.with_status(TaskStatus::InProgress) {
            let ticked = fronts
                .iter()
                .find(|front| front.id == id)
                .and_then(|front| {
                    checkboxes
                        .iter()
                        .find(|requirement| requirement.id.0 == front.requirement)
                })
                .is_some_and(|requirement| requirement.done);
            let status = match end {
                _ if ticked => TaskStatus::Done,
                RoundEnd::Failed { .. } => TaskStatus::Failed,
                _ => TaskStatus::Open,
            };
            board.set(&id, status, iteration, &at);
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
                    RoundEnd::ProviderUnavailable { .. } => "provider unavailable",
                }
                .to_owned(),
            );
            self.journal.write_iteration(&metadata)?;
        }
        self.journal.write_progress(&board)?;
        Ok(())
    }
}
