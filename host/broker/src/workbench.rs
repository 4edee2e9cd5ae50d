//! What every loop on one issue works with, whichever loop it is: the issue
//! and where it comes from, the worktree it is implemented in, the checks
//! and their baseline, the implementer and its models, the confinement that
//! builds every process (and carries the stop), what a change may not
//! touch, and the loop's hold on the issue. What only the marketplace needs
//! (bidders, specialists, budgets, metering, the event log) is in
//! [`crate::session::Session`]; an attempt on the workbench is
//! [`crate::attempt`].

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use ralph_issues::{Issue, IssueSource, Label, LabelChange, LocalIssues};
use ralph_marketplace::lock::{IssueLeases, Lease, LeaseError, LocalLocks};
use ralph_marketplace::{ConfigError, Layout};
use ralph_runtime::Runtime;

use crate::attempt::{Checks, Workshop};
use crate::confinement::{Confinement, Sandbox};
use crate::implementer::Implementer;
use crate::llm::Models;
use crate::progress::{Progress, Step};
use crate::protected::ProtectedPaths;
use crate::worktree::{Worktree, branch_name};

/// Why the loop could not run or go on.
#[derive(Debug, thiserror::Error)]
pub enum LoopError {
    /// A bad config: exit code 2.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Bad input, such as an issue that is not ready: exit code 2.
    #[error("{0}")]
    BadInput(String),
    /// Something failed on the way (git, the file system): exit code 1.
    #[error("{0}")]
    Failed(String),
}

impl LoopError {
    pub fn failed(error: impl std::fmt::Display) -> LoopError {
        LoopError::Failed(error.to_string())
    }
}

/// What a loop's config gives its workbench.
pub struct Parts {
    pub implementer: Implementer,
    pub protected: ProtectedPaths,
    pub sandbox: Sandbox,
    pub models: Models,
}

/// A workbench just opened, and where its work goes.
pub struct Opened {
    pub bench: Workbench,
    pub branch: String,
    pub worktree_path: PathBuf,
}

/// Everything one loop on one issue works with.
pub struct Workbench {
    pub issues: Box<dyn IssueSource>,
    /// The issue as last read or written.
    pub issue: Issue,
    pub worktree: Worktree,
    /// The checks and their baseline.
    pub checks: Checks,
    pub implementer: Implementer,
    pub models: Models,
    /// Builds every check and agent process (SPEC §16), and carries the
    /// stop that Ctrl-C or SIGTERM sets.
    pub confinement: Arc<Confinement>,
    /// What a change may not touch (SPEC §5a).
    pub protected: ProtectedPaths,
    /// This loop's hold on the issue: one loop per issue (SPEC §15).
    pub lease: Box<dyn Lease>,
}

impl Workbench {
    /// Opens the workbench for issue `number`, in this order, so that a
    /// mistake stops the loop before the issue is touched: the `model`
    /// implementer's context window (from the config or its server; one too
    /// small for its answer is a config error naming
    /// `implementer.max_tokens`), the issue's lock, the issue (it must be
    /// ready), its labels (`in-progress`, `ralph`), the worktree on the
    /// issue's branch (with what an interrupted attempt left discarded),
    /// and the confinement, which stops on `stop`. No checks are loaded yet.
    pub async fn open(
        layout: &Layout,
        number: u64,
        parts: Parts,
        stop: Arc<AtomicBool>,
        progress: &mut dyn Progress,
    ) -> Result<Opened, LoopError> {
        let Parts {
            implementer,
            protected,
            sandbox,
            models,
        } = parts;
        let discovered = if implementer.needs_context_window() {
            models.implementer_context_window().await
        } else {
            None
        };
        let implementer = implementer
            .with_context_window(discovered)
            .map_err(|message| ConfigError::Invalid {
                path: layout.config_file(),
                field: "implementer.max_tokens".to_owned(),
                message,
            })?;
        // The issue's lock first, so the issue is read and changed by this
        // loop alone; released when the workbench is dropped, however the
        // loop ends.
        let lease = take_lease(&LocalLocks::new(layout), number, progress)?;
        let local_issues = LocalIssues::new(layout);
        let issue_file = layout.display(&local_issues.path(number)).to_string();
        let issues: Box<dyn IssueSource> = Box::new(local_issues);
        let issue = issues.get(number).map_err(|error| {
            if error.is_bad_input() {
                LoopError::BadInput(error.to_string())
            } else {
                LoopError::failed(error)
            }
        })?;
        refuse_unless_ready(&issue, &issue_file)?;
        let issue = issues
            .set_labels(
                number,
                &LabelChange::add([Label::InProgress, Label::Ralph])
                    .removing([Label::Ready, Label::AttentionNeeded]),
            )
            .map_err(LoopError::failed)?;
        let branch = branch_name(number, &issue.title);
        let worktree_path = layout.worktrees_dir().join(number.to_string());
        let worktree = Worktree::open_or_create(layout.repository(), &worktree_path, &branch)
            .map_err(LoopError::failed)?;
        // Whatever an interrupted attempt left uncommitted is not part of
        // any change; it stayed for inspection until now.
        worktree.discard_changes().map_err(LoopError::failed)?;
        let confinement =
            Arc::new(Confinement::new(sandbox, layout.repository()).stopping_on(stop));
        Ok(Opened {
            bench: Workbench {
                issues,
                issue,
                worktree,
                checks: Checks::default(),
                implementer,
                models,
                confinement,
                protected,
                lease,
            },
            branch,
            worktree_path,
        })
    }

    /// Runs the command checks on the unchanged worktree (the baseline).
    pub async fn run_baseline(&mut self, progress: &mut dyn Progress) {
        self.checks
            .run_baseline(&self.worktree, &self.confinement, progress)
            .await;
    }

    /// True once Ctrl-C or SIGTERM asked the loop to stop.
    pub fn stop_requested(&self) -> bool {
        self.confinement.stop_requested()
    }

    /// What one attempt on this workbench works with; `runtime` runs the
    /// check plugins.
    pub fn workshop<'a>(&'a self, layout: &'a Layout, runtime: &'a Runtime) -> Workshop<'a> {
        Workshop {
            layout,
            worktree: &self.worktree,
            implementer: &self.implementer,
            models: &self.models,
            confinement: &self.confinement,
            protected: &self.protected,
            checks: &self.checks,
            runtime,
        }
    }
}

fn take_lease(
    leases: &dyn IssueLeases,
    number: u64,
    progress: &mut dyn Progress,
) -> Result<Box<dyn Lease>, LoopError> {
    let taken = leases.take(number).map_err(|error| match error {
        LeaseError::Held { .. } | LeaseError::Unreadable { .. } => {
            LoopError::BadInput(error.to_string())
        }
        LeaseError::Io { .. } => LoopError::failed(error),
    })?;
    if let Some(holder) = taken.took_over {
        progress.step(Step::StaleLockTakenOver {
            issue: number,
            holder: holder.to_string(),
        });
    }
    Ok(taken.lease)
}

/// An issue is worked on when it is open and `ready`, or `in-progress` and
/// `ralph` (a stopped loop being resumed), and has at least one checkbox
/// (the loop is done when every checkbox is ticked). `issue_file` is where
/// the issue lives, for the advice.
fn refuse_unless_ready(issue: &Issue, issue_file: &str) -> Result<(), LoopError> {
    let number = issue.number;
    if !issue.is_open() {
        return Err(LoopError::BadInput(format!(
            "issue #{number} is closed; to work on it again, change `state: closed` to `state: open` in the front matter of {issue_file}, then run `ralph marketplace ready {number}`"
        )));
    }
    let resuming = issue.has(Label::InProgress) && issue.has(Label::Ralph);
    if !(issue.has(Label::Ready) || resuming) {
        let labels: Vec<String> = issue.labels.iter().map(ToString::to_string).collect();
        return Err(LoopError::BadInput(format!(
            "issue #{number} is not ready (labels: {}); run `ralph marketplace ready {number}` when its spec is complete",
            if labels.is_empty() {
                "none".to_owned()
            } else {
                labels.join(", ")
            }
        )));
    }
    let has_checkbox = issue
        .requirements()
        .iter()
        .any(|requirement| requirement.kind == ralph_issues::RequirementKind::Checkbox);
    if !has_checkbox {
        return Err(LoopError::BadInput(format!(
            "issue #{number} has no checkboxes, so the loop could never tell when it is done; add `- [ ] …` items for what must be true to the body of {issue_file} (or `ralph marketplace spec {number} --file SPEC`) and run the loop again"
        )));
    }
    Ok(())
}
