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

use ralph_issues::pulls::{ChangeSummary, ChangedFile, CheckCategory, CheckResult, PullRequest};
use ralph_issues::{Issue, IssueSource, Label, LabelChange, Published, PullRequestPublisher};
use ralph_marketplace::lock::{IssueLeases, Lease, LeaseError};
use ralph_marketplace::{ConfigError, Layout};
use ralph_runtime::Runtime;

use crate::attempt::{Checks, Workshop};
use crate::checks::{self, Judged};
use crate::confinement::{Confinement, Sandbox};
use crate::implementer::Implementer;
use crate::issue_source::{self, IssuesSettings, Tracker};
use crate::llm::Models;
use crate::plugins::CheckEntry;
use crate::progress::{FinishStatus, Progress, Step};
use crate::protected::ProtectedPaths;
use crate::session::load_entry;
use crate::sessions::LoopKind;
use crate::team::TeamSettings;
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
    /// Which loop works on the issue (for the advice its errors give).
    pub kind: LoopKind,
    pub implementer: Implementer,
    pub protected: ProtectedPaths,
    pub sandbox: Sandbox,
    pub models: Models,
    /// Where the issue lives.
    pub issues: IssuesSettings,
    /// Where the loop's lease is taken.
    pub team: TeamSettings,
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
    /// Where the finished issue's pull request goes.
    pub publisher: Box<dyn PullRequestPublisher>,
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
            kind,
            implementer,
            protected,
            sandbox,
            models,
            issues,
            team,
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
        // The issue's lease first (on the remote, or the local lock), so
        // the issue is read and changed by this loop alone; released when
        // the workbench is dropped, however the loop ends. Losing it sets
        // `stop`.
        let leases = team
            .leases(layout, Some(stop.clone()))
            .map_err(LoopError::BadInput)?;
        let lease = take_lease(leases.as_ref(), number, progress)?;
        let Tracker {
            issues, publisher, ..
        } = issue_source::open(layout, &issues).map_err(LoopError::BadInput)?;
        let issue_file = issues.location(number);
        let issue = issues.get(number).map_err(|error| {
            if error.is_bad_input() {
                LoopError::BadInput(error.to_string())
            } else {
                LoopError::failed(error)
            }
        })?;
        refuse_unless_ready(&issue, &issue_file, kind)?;
        // Who made it ready must be trusted to hand work to the loop (on
        // GitHub: write access), also when a run resumes it.
        issues.check_ready(number).map_err(|error| {
            if error.is_bad_input() {
                LoopError::BadInput(error.to_string())
            } else {
                LoopError::failed(error)
            }
        })?;
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
                publisher,
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

    /// Loads the configured checks: command checks as they are, check
    /// plugins through `runtime` (one that fails to load is said and left
    /// out; the loop goes on).
    pub async fn load_checks(
        &mut self,
        repository: &std::path::Path,
        lineup: &[CheckEntry],
        runtime: &Runtime,
        progress: &mut dyn Progress,
    ) {
        for check in lineup {
            match check {
                CheckEntry::Command(command) => self.checks.commands.push(command.clone()),
                CheckEntry::Plugin { name, entry } => {
                    let loaded = load_entry(
                        repository,
                        entry,
                        async |id, label, bytes, grants, limits| {
                            runtime.load_check(id, label, bytes, grants, limits).await
                        },
                    )
                    .await;
                    match loaded {
                        Ok(plugin) => self.checks.plugins.push((name.clone(), plugin)),
                        Err(error) => progress.step(Step::PluginFailedToLoad {
                            plugin: name.clone(),
                            error,
                        }),
                    }
                }
            }
        }
    }

    /// The issue's requirements not yet done, as plugins see them.
    pub fn open_requirements(&self) -> Vec<ralph_runtime::Requirement> {
        self.issue
            .requirements()
            .into_iter()
            .filter(|requirement| !requirement.done)
            .map(|requirement| ralph_runtime::Requirement {
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

    /// Runs the command checks on the unchanged worktree (the baseline).
    pub async fn run_baseline(&mut self, progress: &mut dyn Progress) {
        self.checks
            .run_baseline(&self.worktree, &self.confinement, progress)
            .await;
    }

    /// Ends this loop's work on the issue. Complete: the pull-request
    /// record `record` makes is written (its path returned), the issue's
    /// loop labels dropped and the issue finished. Attention needed: the
    /// label, and `reason` as a note on the issue. Otherwise (interrupted,
    /// the provider unavailable, a limit reached) the labels stay
    /// `in-progress` and `ralph`, so a re-run resumes.
    pub fn conclude(
        &mut self,
        layout: &Layout,
        status: FinishStatus,
        reason: &str,
        record: impl FnOnce(&Workbench) -> PullRequest,
        progress: &mut dyn Progress,
    ) -> Result<Option<Published>, LoopError> {
        let number = self.issue.number;
        let mut pull_request = None;
        match status {
            FinishStatus::Complete => {
                let published = self.publisher.publish(&record(self)).map_err(|error| {
                    if error.is_resumable() {
                        LoopError::Failed(format!(
                            "{error}; every change is committed on the branch, so running the loop again publishes it"
                        ))
                    } else {
                        LoopError::failed(error)
                    }
                })?;
                progress.step(Step::PullRequest {
                    record: layout.display(&published.record).to_string(),
                    number: published.pull_request.as_ref().map(|pull| pull.number),
                    url: published.pull_request.as_ref().map(|pull| pull.url.clone()),
                    opened: published
                        .pull_request
                        .as_ref()
                        .is_some_and(|pull| pull.opened),
                });
                pull_request = Some(published);
                self.issues
                    .set_labels(
                        number,
                        &LabelChange::add([]).removing([Label::InProgress, Label::Ralph]),
                    )
                    .map_err(LoopError::failed)?;
                // Finished: `backlog` no longer lists it as open work.
                self.issues.finish(number).map_err(LoopError::failed)?;
            }
            FinishStatus::AttentionNeeded => {
                self.issues
                    .set_labels(
                        number,
                        &LabelChange::add([Label::AttentionNeeded])
                            .removing([Label::InProgress, Label::Ralph]),
                    )
                    .map_err(LoopError::failed)?;
                self.issues
                    .append_note(
                        number,
                        &format!("Ralph stopped and needs attention: {reason}"),
                    )
                    .map_err(LoopError::failed)?;
            }
            FinishStatus::Interrupted
            | FinishStatus::ProviderUnavailable
            | FinishStatus::LimitReached => {}
        }
        self.issue = self.issues.get(number).map_err(LoopError::failed)?;
        Ok(pull_request)
    }

    /// The pull-request record of the branch as it stands: `summary`, the
    /// final change's `checks`, and the real change and commits from git
    /// (a record without them beats no record). No proposals, reviews or
    /// failed attempts: the marketplace adds its own.
    pub fn pull_request(&self, summary: String, checks: &[Judged]) -> PullRequest {
        let checks = checks
            .iter()
            .map(|judged| CheckResult {
                name: judged.run.name.clone(),
                category: category_of(judged.run.category),
                passed: judged.run.passed(),
                passed_before: judged.passed_before,
                duration: std::time::Duration::from_millis(judged.run.duration_ms),
                summary: check_summary(judged),
            })
            .collect();
        let start = self.worktree.start_point();
        let changes = start
            .as_ref()
            .ok()
            .and_then(|start| self.worktree.changes_since(start).ok())
            .map(|files| ChangeSummary {
                files: files
                    .into_iter()
                    .map(|(path, added, removed)| ChangedFile {
                        path,
                        added,
                        removed,
                    })
                    .collect(),
            });
        let commits = start
            .ok()
            .and_then(|start| self.worktree.subjects_since(&start).ok())
            .unwrap_or_default();
        PullRequest {
            issue_number: self.issue.number,
            title: self.issue.title.clone(),
            branch: self.worktree.branch().to_owned(),
            summary,
            proposals: Vec::new(),
            checks,
            reviews: Vec::new(),
            changes,
            commits,
            failed_attempts: Vec::new(),
        }
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
        LeaseError::Held { .. }
        | LeaseError::HeldOnRemote { .. }
        | LeaseError::Unreadable { .. } => LoopError::BadInput(error.to_string()),
        LeaseError::Io { .. } | LeaseError::Remote { .. } => LoopError::failed(error),
    })?;
    if let Some(holder) = taken.took_over {
        progress.step(if holder.expires.is_some() {
            Step::ExpiredLeaseTakenOver {
                issue: number,
                holder: holder.to_string(),
            }
        } else {
            Step::StaleLockTakenOver {
                issue: number,
                holder: holder.to_string(),
            }
        });
    }
    Ok(taken.lease)
}

/// An issue is worked on when it is open and `ready`, or `in-progress` and
/// `ralph` (a stopped loop being resumed), and has at least one checkbox
/// (the loop is done when every checkbox is ticked). `issue_file` is where
/// the issue lives, for the advice.
fn refuse_unless_ready(issue: &Issue, issue_file: &str, kind: LoopKind) -> Result<(), LoopError> {
    let number = issue.number;
    let group = kind.command();
    if !issue.is_open() {
        return Err(LoopError::BadInput(format!(
            "issue #{number} is closed ({issue_file}); to work on it again, reopen it (a local issue: `state: open` in its front matter; a GitHub issue: reopen it there), then run `ralph {group} ready {number}`"
        )));
    }
    let resuming = issue.has(Label::InProgress) && issue.has(Label::Ralph);
    if !(issue.has(Label::Ready) || resuming) {
        let labels: Vec<String> = issue.labels.iter().map(ToString::to_string).collect();
        return Err(LoopError::BadInput(format!(
            "issue #{number} is not ready (labels: {}); run `ralph {group} ready {number}` when its spec is complete",
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
            "issue #{number} has no checkboxes, so the loop could never tell when it is done; add `- [ ] …` items for what must be true to the body of {issue_file} (or `ralph {group} spec {number} --file SPEC`) and run the loop again"
        )));
    }
    Ok(())
}

/// Ralph's tracked state files (under `.ralph/`, not ignored) that differ
/// from what git has: what the user should commit. New events are shown as
/// their folder. Empty when git cannot tell.
pub(crate) fn uncommitted_state(layout: &Layout) -> Vec<String> {
    let Ok(output) = crate::worktree::git(
        layout.repository(),
        &[
            "status",
            "--porcelain=v1",
            "-z",
            "--untracked-files=all",
            "--",
            ".ralph",
        ],
        None,
    ) else {
        return Vec::new();
    };
    let events = format!("{}/", layout.display(&layout.events_dir()));
    let mut paths: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .split('\0')
        .filter_map(|entry| entry.get(3..))
        .filter(|path| !path.is_empty())
        .map(|path| {
            if path.starts_with(&events) {
                events.clone()
            } else {
                path.to_owned()
            }
        })
        .collect();
    paths.sort();
    paths.dedup();
    paths
}

/// One line on a check of the final change: its first reason when it
/// failed, what is new when it failed before too.
fn check_summary(judged: &Judged) -> String {
    if judged.run.passed() {
        return "passed".to_owned();
    }
    if !judged.passed_before && judged.new_findings.is_empty() {
        return "failed on the baseline already; nothing new".to_owned();
    }
    if let Some(first) = judged.new_findings.first() {
        return format!("new: {first}");
    }
    crate::feedback::reasons(&judged.run.output)
        .first()
        .and_then(|passage| passage.first().cloned())
        .or_else(|| {
            judged
                .run
                .output
                .lines()
                .rev()
                .find(|line| !line.trim().is_empty())
                .map(str::to_owned)
        })
        .unwrap_or_default()
}

fn category_of(category: checks::Category) -> CheckCategory {
    match category {
        checks::Category::Format => CheckCategory::Format,
        checks::Category::Lint => CheckCategory::Lint,
        checks::Category::TypeCheck => CheckCategory::TypeCheck,
        checks::Category::DeadCode => CheckCategory::DeadCode,
        checks::Category::Complexity => CheckCategory::Complexity,
        checks::Category::Test => CheckCategory::Test,
        checks::Category::Custom => CheckCategory::Custom,
    }
}
