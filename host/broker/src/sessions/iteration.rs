//! What an iteration leaves in the session besides the task board: the
//! feedback folders a failure writes (a person may add one by hand), the
//! REPLANNING step that acts on them (`replanning/{delta,rationale}.md`, a
//! plan section, failed tasks open again), the implementer's reports and
//! the iteration's review. Both loops write them through these functions.

use std::path::{Path, PathBuf};

use chrono::Utc;

use super::{IterationMetadata, SessionDir, SessionError, State, TaskBoard, now};
use crate::checks::Judged;

/// What one REPLANNING step acted on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Replanned {
    /// The feedback folders read, relative to the session, oldest first.
    pub folders: Vec<String>,
    /// Each folder's `feedbacks.md`, in the same order.
    pub texts: Vec<String>,
    /// The failed tasks that are open again.
    pub reset: Vec<String>,
}

/// A failed iteration, as its feedback folder tells it.
#[derive(Clone, Copy, Debug)]
pub struct Failure<'a> {
    /// The iteration that failed.
    pub iteration: u32,
    /// Its tasks, failed with it.
    pub tasks: &'a [String],
    /// The failure report (what the next attempt is told).
    pub report: &'a str,
    /// Each failing check's name and the file with its whole output.
    pub kept_output: &'a [(String, String)],
}

impl SessionDir {
    /// Where a failure of the iteration under way keeps its feedback: a
    /// folder of the next iteration, named after the time now
    /// (`iterations/<N+1>/feedbacks/<YYYYMMDD-hhmmss>`). It is made when
    /// something is written into it.
    pub fn next_feedback_folder(&self) -> PathBuf {
        self.path(&format!(
            "iterations/{}/feedbacks/{}",
            self.metadata.iteration + 1,
            Utc::now().format("%Y%m%d-%H%M%S")
        ))
    }

    /// `folder` relative to the session, and its time stamp (its name).
    fn feedback_place(&self, folder: &Path) -> Result<(String, String), SessionError> {
        let relative = folder
            .strip_prefix(self.root())
            .map(|path| path.to_string_lossy().into_owned())
            .map_err(|_| SessionError::new(folder, "the feedback folder is outside the session"))?;
        let stamp = folder
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        Ok((relative, stamp))
    }

    /// Writes `feedbacks.md` into `folder` (inside the session, where the
    /// failing checks' whole output already is) and returns the folder
    /// relative to the session.
    pub fn write_feedback(&self, folder: &Path, failure: &Failure) -> Result<String, SessionError> {
        let (relative, stamp) = self.feedback_place(folder)?;
        let artifacts: Vec<String> = failure
            .kept_output
            .iter()
            .map(|(name, file)| {
                let file_name = Path::new(file)
                    .file_name()
                    .map(|name| name.to_string_lossy().into_owned())
                    .unwrap_or_else(|| file.clone());
                format!("| {file_name} | the whole output of the check `{name}` |")
            })
            .collect();
        let tasks = if failure.tasks.is_empty() {
            "none".to_owned()
        } else {
            failure.tasks.join(", ")
        };
        self.write(
            &format!("{relative}/feedbacks.md"),
            &format!(
                "---\niteration: {}\ntimestamp: {}\nsource: ralph\n---\n\n# Feedback Batch: {stamp}\n\n## Critical Issues\nIteration {} failed; its tasks ({tasks}) failed with it.\n\n```text\n{}\n```\n\n## Artifacts Index\n| File | Description |\n| --- | --- |\n{}\n",
                failure.iteration + 1,
                now(),
                failure.iteration,
                failure.report.trim_end(),
                if artifacts.is_empty() {
                    "| (none) | |".to_owned()
                } else {
                    artifacts.join("\n")
                }
            ),
        )?;
        Ok(relative)
    }

    /// Writes `feedbacks.md` into `folder` with what the person reviewing
    /// iteration `iteration`'s ranking wrote (`loop --review`), and returns
    /// the folder relative to the session. The next iteration reads it as
    /// it reads any folder a person added: its bidders and implementer get
    /// the text with the steering.
    pub fn write_person_feedback(
        &self,
        folder: &Path,
        iteration: u32,
        text: &str,
    ) -> Result<String, SessionError> {
        let (relative, stamp) = self.feedback_place(folder)?;
        self.write(
            &format!("{relative}/feedbacks.md"),
            &format!(
                "---\niteration: {}\ntimestamp: {}\nsource: review\n---\n\n# Feedback Batch: {stamp}\n\n## From the review of iteration {iteration}'s ranking\nNothing was implemented; the bidders propose again with this feedback.\n\n{}\n",
                iteration + 1,
                now(),
                text.trim_end()
            ),
        )?;
        Ok(relative)
    }

    /// REPLANNING, when feedback waits (the loop's own after a failure, or
    /// a folder a person added): the failed tasks open again,
    /// `iterations/<N>/replanning/delta.md` and `rationale.md` say what
    /// changed and why, `plan.md` gets a section for it, and the folders
    /// are marked read. `None` when no feedback waits.
    pub fn replan(
        &mut self,
        number: u32,
        board: &mut TaskBoard,
    ) -> Result<Option<Replanned>, SessionError> {
        let unread = self.unread_feedbacks()?;
        if unread.is_empty() {
            return Ok(None);
        }
        self.set_state(State::Replanning)?;
        let reset = board.reset_failed(number, &now());
        let (folders, texts): (Vec<String>, Vec<String>) = unread.into_iter().unzip();
        let delta: Vec<String> = reset
            .iter()
            .map(|id| {
                format!(
                    "- {id}: failed → open again (attempt {})",
                    board.attempt(id)
                )
            })
            .collect();
        self.write(
            &format!("iterations/{number}/replanning/delta.md"),
            &format!(
                "# Delta for iteration {number}\n\n## Tasks\n{}\n\n## Plan\nA section \"Replanning for iteration {number}\" was added to plan.md.\n",
                if delta.is_empty() {
                    "- no task had failed; the feedback adds to the work".to_owned()
                } else {
                    delta.join("\n")
                }
            ),
        )?;
        let quoted: Vec<String> = folders
            .iter()
            .zip(&texts)
            .map(|(folder, text)| {
                format!(
                    "From `{folder}/feedbacks.md`:\n\n<<<feedback\n{}\n>>>feedback",
                    text.trim_end()
                )
            })
            .collect();
        self.write(
            &format!("iterations/{number}/replanning/rationale.md"),
            &format!(
                "# Rationale for iteration {number}\n\nThe plan changes because of this feedback: the next attempt must fix what it names before anything else.\n\n{}\n",
                quoted.join("\n\n")
            ),
        )?;
        let plan = self.read("plan.md")?.unwrap_or_default();
        self.write(
            "plan.md",
            &format!(
                "{}\n\n## Replanning for iteration {number}\nFeedback read: {}.\nOpen again: {}.\nFix first what the feedback names (see `iterations/{number}/replanning/rationale.md`).\n",
                plan.trim_end(),
                folders.join(", "),
                if reset.is_empty() { "none".to_owned() } else { reset.join(", ") }
            ),
        )?;
        self.metadata.feedbacks_read.extend(folders.clone());
        self.write_metadata()?;
        Ok(Some(Replanned {
            folders,
            texts,
            reset,
        }))
    }

    /// Writes `reports/<task>-report[-r<N>].md` for each of `tasks`: the
    /// implementer's final answer (untrusted text, between markers).
    pub fn write_reports(
        &self,
        tasks: &[String],
        board: &TaskBoard,
        number: u32,
        answer: &str,
    ) -> Result<(), SessionError> {
        for id in tasks {
            let attempt = board.attempt(id);
            self.write(
                &SessionDir::report_path(id, attempt),
                &format!(
                    "# Report: {id} (attempt {attempt}, iteration {number})\n\nThe implementer's final answer, as it gave it (untrusted text):\n\n<<<answer\n{}\n>>>answer\n",
                    answer.trim_end()
                ),
            )?;
        }
        Ok(())
    }

    /// `iterations/<N>/review.md`: how the iteration ended, its tasks, and
    /// the checks of the last change checked.
    pub fn write_review(
        &self,
        metadata: &IterationMetadata,
        board: &TaskBoard,
        checks: &[Judged],
    ) -> Result<(), SessionError> {
        let number = metadata.iteration;
        let lines: Vec<String> = board
            .lines
            .iter()
            .filter(|line| line.iteration == number)
            .map(|line| {
                format!(
                    "- {} ({:?}, attempt {})",
                    line.id, line.status, line.attempt
                )
            })
            .collect();
        let checks: Vec<String> = checks
            .iter()
            .map(|judged| {
                format!(
                    "- {}: {}",
                    judged.run.name,
                    if judged.counts_against() {
                        "counts against"
                    } else {
                        "passed"
                    }
                )
            })
            .collect();
        self.write(
            &format!("iterations/{number}/review.md"),
            &format!(
                "# Review of iteration {number}\n\nOutcome: {}\nStarted: {}\nCompleted: {}\nTasks done after it: {} of {}\n\n## Tasks this iteration\n{}\n\n## Checks of the last change checked\n{}\n",
                metadata.outcome.as_deref().unwrap_or("in progress"),
                metadata.started_at,
                metadata.completed_at.as_deref().unwrap_or("—"),
                metadata.tasks_done,
                metadata.tasks_defined,
                if lines.is_empty() { "- none".to_owned() } else { lines.join("\n") },
                if checks.is_empty() { "- none yet".to_owned() } else { checks.join("\n") }
            ),
        )
    }

    /// The feedback folders with a `feedbacks.md` not yet acted on, oldest
    /// first, each with its text: what the loop wrote after a failure and
    /// what a person added by hand.
    pub fn unread_feedbacks(&self) -> Result<Vec<(String, String)>, SessionError> {
        let mut found = Vec::new();
        let iterations = self.path("iterations");
        let Ok(entries) = std::fs::read_dir(&iterations) else {
            return Ok(found);
        };
        let mut numbers: Vec<u32> = entries
            .filter_map(Result::ok)
            .filter_map(|entry| entry.file_name().to_string_lossy().parse().ok())
            .collect();
        numbers.sort_unstable();
        for number in numbers {
            let folder = format!("iterations/{number}/feedbacks");
            let Ok(entries) = std::fs::read_dir(self.path(&folder)) else {
                continue;
            };
            let mut names: Vec<String> = entries
                .filter_map(Result::ok)
                .filter(|entry| entry.file_type().is_ok_and(|kind| kind.is_dir()))
                .map(|entry| entry.file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            for name in names {
                let relative = format!("{folder}/{name}");
                if self.metadata.feedbacks_read.contains(&relative) {
                    continue;
                }
                if let Some(text) = self.read(&format!("{relative}/feedbacks.md"))? {
                    found.push((relative, text));
                }
            }
        }
        Ok(found)
    }
}
