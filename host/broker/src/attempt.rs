//! How one attempt works, for every loop: the implementer makes the change
//! in the worktree; a change that touches a protected path is refused
//! before any check runs its code (SPEC §5a); the change as staged is what
//! is checked (and later committed, whatever the checks do to the
//! worktree); each check runs one by one, is judged against the baseline
//! and shown as it finishes, and the whole output of one that counts
//! against the change is kept on disk. A stop ends the implementer or the
//! running check at once.
//!
//! The attempt knows nothing of bidders, budgets or events: it returns a
//! [`Report`] and the loop decides what it means (the marketplace scores,
//! records and replans; the simple loop ticks what was done).

use std::path::PathBuf;
use std::sync::Arc;

use ralph_marketplace::Layout;
use ralph_models::Unavailable;
use ralph_runtime::{CheckInput, CheckPlugin, ModelUsage, Requirement, Runtime};

use crate::checks::{self, CheckRun, CommandCheck, Judged};
use crate::confinement::Confinement;
use crate::feedback;
use crate::implementer::{ImplementError, ImplementationUsage, Implementer, Task};
use crate::llm::Models;
use crate::progress::{Progress, Step, watched};
use crate::protected::{self, ProtectedPaths};
use crate::snapshot::Snapshot;
use crate::worktree::{DiffStats, Worktree};

/// What checks a change, and what the checks said before any change.
#[derive(Default)]
pub struct Checks {
    pub commands: Vec<CommandCheck>,
    /// Check plugins, by the name they report under.
    pub plugins: Vec<(String, Arc<CheckPlugin>)>,
    /// The command checks' runs on the unchanged worktree.
    pub baseline: Vec<CheckRun>,
}

impl Checks {
    /// Runs the command checks on the unchanged worktree, so that only
    /// failures a change introduces count against it.
    pub async fn run_baseline(
        &mut self,
        worktree: &Worktree,
        confinement: &Arc<Confinement>,
        progress: &mut dyn Progress,
    ) {
        for check in self.commands.clone() {
            if let Ok(run) = spawn_check(check, worktree, confinement, None).await {
                // What the check left behind is not part of any change.
                let _ = worktree.clean_untracked();
                progress.step(Step::Baseline {
                    check: run.name.clone(),
                    passed: run.passed(),
                    duration_ms: run.duration_ms,
                });
                self.baseline.push(run);
            }
        }
    }
}

/// Runs one command check in the worktree on a blocking thread, keeping
/// `lines` up to date with its last lines when given.
async fn spawn_check(
    check: CommandCheck,
    worktree: &Worktree,
    confinement: &Arc<Confinement>,
    lines: Option<checks::LastLines>,
) -> Result<CheckRun, tokio::task::JoinError> {
    let directory = worktree.path().to_owned();
    let confinement = confinement.clone();
    tokio::task::spawn_blocking(move || {
        checks::run_watched(&check, &directory, &confinement, lines.as_ref())
    })
    .await
}

/// What an attempt works with, borrowed from the loop.
pub struct Workshop<'a> {
    pub layout: &'a Layout,
    pub worktree: &'a Worktree,
    pub implementer: &'a Implementer,
    pub models: &'a Models,
    /// Builds every check and agent process, and carries the stop.
    pub confinement: &'a Arc<Confinement>,
    pub protected: &'a ProtectedPaths,
    pub checks: &'a Checks,
    /// Runs the check plugins.
    pub runtime: &'a Runtime,
}

/// One attempt to make.
pub struct Request<'a> {
    pub task: Task<'a>,
    /// The attempt's label in progress steps: a proposal's letter (`B`),
    /// or the simple loop's "iteration 2".
    pub label: String,
    /// What is implemented, for people: "proposal B", "iteration 2".
    pub subject: String,
    /// The requirements still open, for the check plugins.
    pub requirements: Vec<Requirement>,
    /// Where the whole output of a failing check is kept.
    pub feedback_dir: PathBuf,
}

/// How an attempt ended.
pub enum Ending {
    /// A stop ended it before its checks were all judged; nothing counts.
    Stopped,
    /// The implementer's model cannot answer now (a usage limit, an outage;
    /// [`Report::limited_until`] says when an agent's limit resets).
    Unavailable(Unavailable),
    /// The change could not be made: by the proposal's fault
    /// ([`ImplementError::Proposal`], also a protected path touched) or by
    /// the implementer's.
    NotImplemented(ImplementError),
    /// The change was made and every check judged it.
    Checked(Checked),
    /// Ralph could not go on with it (git or the file system failed).
    Broken(String),
}

/// A change made and checked.
pub struct Checked {
    /// The tree that was checked: what a success commits.
    pub tree: String,
    pub stats: DiffStats,
    pub diff: String,
    /// Every check's verdict against the baseline, in the order they ran.
    pub judged: Vec<Judged>,
    /// For each check that counts against the change, its name and the
    /// file its whole output was kept in (relative to the repository).
    pub kept_output: Vec<(String, String)>,
}

impl Checked {
    /// The checks that count against the change.
    pub fn against(&self) -> Vec<&Judged> {
        self.judged
            .iter()
            .filter(|judged| judged.counts_against())
            .collect()
    }

    /// True when no check counts against the change.
    pub fn succeeded(&self) -> bool {
        self.against().is_empty()
    }
}

/// What an attempt did and used.
pub struct Report {
    pub ending: Ending,
    /// What the implementer used, when it reported it (also when it failed).
    pub implementation: Option<ImplementationUsage>,
    /// The implementer's final answer (untrusted text, every secret the host
    /// knows redacted), when it gave one.
    pub answer: Option<String>,
    /// When the implementer's agent said its usage limit resets (seconds
    /// since the Unix epoch; 0 when it did not say), if it refused work for
    /// that.
    pub limited_until: Option<u64>,
    /// What the check plugins' model calls used.
    pub check_usage: ModelUsage,
}

impl Workshop<'_> {
    /// Makes and checks one change. The worktree holds the change
    /// afterwards, whatever the ending: the loop keeps or discards it.
    pub async fn attempt(&self, request: Request<'_>, progress: &mut dyn Progress) -> Report {
        let label = request.label.clone();
        let subject = request.subject.clone();
        progress.step(Step::Implementing {
            label: label.clone(),
            subject: subject.clone(),
        });
        let implementing = self.implementer.implement(
            self.worktree,
            request.task,
            self.models.implementer(),
            self.confinement,
        );
        let what = format!("implementing {subject}");
        let implemented = watched(implementing, progress, &what, None).await;
        // The answer goes into commits, session files and the pull-request
        // record: an agent may print the credential it keeps.
        let answer = implemented
            .answer
            .map(|answer| ralph_secrets::redact(&answer));
        let limited_until = match &implemented.result {
            Err(ImplementError::UsageLimited { until, .. }) => Some(*until),
            _ => None,
        };
        let report = |ending| Report {
            ending,
            implementation: implemented.usage,
            answer: answer.clone(),
            limited_until,
            check_usage: ModelUsage::default(),
        };
        if let Err(error) = implemented.result {
            if self.stop_requested() {
                // Stopped mid-attempt (an agent is ended at once).
                return report(Ending::Stopped);
            }
            if let ImplementError::UsageLimited { message, .. } = error {
                return report(Ending::Unavailable(Unavailable::UsageLimited(message)));
            }
            return report(match self.models.implementer_unavailable() {
                Some(unavailable) => Ending::Unavailable(unavailable),
                None => Ending::NotImplemented(error),
            });
        }
        // What a change may touch: checked before any check runs its code.
        match protected::check_change(self.worktree, self.protected) {
            Ok(None) => {}
            Ok(Some(violation)) => {
                tracing::warn!(%label, path = %violation.path, "Refused a change to a protected path");
                let fault = ImplementError::Proposal(violation.to_string());
                return report(Ending::NotImplemented(fault));
            }
            Err(error) => return report(Ending::Broken(error.to_string())),
        }
        let made = self.worktree.staged_tree().and_then(|tree| {
            let stats = self.worktree.stats()?;
            let diff = self.worktree.diff()?;
            Ok((tree, stats, diff))
        });
        let (tree, stats, diff) = match made {
            Ok(made) => made,
            Err(error) => return report(Ending::Broken(error.to_string())),
        };
        progress.step(Step::Implemented {
            label,
            subject,
            files: stats.files.len(),
            lines: stats.lines_changed(),
        });
        let input = CheckInput {
            diff: diff.clone(),
            changed_files: stats.files.clone(),
            requirements: request.requirements,
        };
        let mut usage = ModelUsage::default();
        let checked = self
            .run_checks(&input, &request.feedback_dir, &mut usage, progress)
            .await;
        let ending = match checked {
            None => Ending::Stopped,
            Some((judged, kept_output)) => Ending::Checked(Checked {
                tree,
                stats,
                diff,
                judged,
                kept_output,
            }),
        };
        Report {
            ending,
            implementation: implemented.usage,
            answer,
            limited_until: None,
            check_usage: usage,
        }
    }

    fn stop_requested(&self) -> bool {
        self.confinement.stop_requested()
    }

    /// Runs every command check and check plugin on the change, one by one,
    /// each judged and shown as it finishes, with the files the failing
    /// ones' output was kept in; `None` when a stop is requested.
    async fn run_checks(
        &self,
        input: &CheckInput,
        feedback_dir: &std::path::Path,
        usage: &mut ModelUsage,
        progress: &mut dyn Progress,
    ) -> Option<(Vec<Judged>, Vec<(String, String)>)> {
        let mut judged = Vec::new();
        let mut kept = Vec::new();
        for check in self.checks.commands.clone() {
            if self.stop_requested() {
                return None;
            }
            progress.step(Step::CheckStarted {
                name: check.name.clone(),
            });
            let name = check.name.clone();
            let watch = checks::LastLines::default();
            let running = spawn_check(check, self.worktree, self.confinement, Some(watch.clone()));
            let what = format!("checking {name}");
            let run = watched(running, progress, &what, Some(&watch))
                .await
                .unwrap_or_else(|error| {
                    CheckRun::not_run(&name, checks::Category::Custom, error.to_string())
                });
            // A check a stop ended (at once) or overtook is not judged.
            if self.stop_requested() {
                return None;
            }
            let (entry, file) = self.judge(run, feedback_dir, progress);
            judged.push(entry);
            kept.extend(file);
        }
        // Check plugins read a clean checkout of the change: its staged tree.
        let change = if self.checks.plugins.is_empty() {
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
        for (name, plugin) in &self.checks.plugins {
            if self.stop_requested() {
                return None;
            }
            progress.step(Step::CheckStarted { name: name.clone() });
            let run = match &change {
                Some(change) => {
                    let (run, used) = self
                        .run_check_plugin(name, plugin, input, change.path())
                        .await;
                    usage.add(used);
                    run
                }
                None => CheckRun::not_run(
                    name,
                    checks::Category::Custom,
                    "the change could not be written out for it".to_owned(),
                ),
            };
            let (entry, file) = self.judge(run, feedback_dir, progress);
            judged.push(entry);
            kept.extend(file);
        }
        Some((judged, kept))
    }

    /// Judges one check's run against the baseline, keeps its whole output
    /// when it counts against the change, and shows it.
    fn judge(
        &self,
        run: CheckRun,
        feedback_dir: &std::path::Path,
        progress: &mut dyn Progress,
    ) -> (Judged, Option<(String, String)>) {
        let entry = checks::judge_one(&self.checks.baseline, run);
        let kept = self
            .keep_output(feedback_dir, std::slice::from_ref(&entry))
            .into_iter()
            .next();
        progress.step(Step::Check {
            name: entry.run.name.clone(),
            passed: entry.run.passed(),
            passed_before: entry.passed_before,
            counts_against: entry.counts_against(),
            duration_ms: entry.run.duration_ms,
            detail: tail(&entry.run.output, 400),
            new_findings: entry.new_findings.clone(),
            reason: if entry.counts_against() {
                feedback::reasons(&entry.run.output).concat()
            } else {
                Vec::new()
            },
            full_output: kept.as_ref().map(|(_, file)| file.clone()),
        });
        (entry, kept)
    }

    /// Writes the whole output of the checks among `judged` that count
    /// against the change to `directory`; each file as shown, relative to
    /// the repository (none when it cannot be written: the loop goes on).
    fn keep_output(&self, directory: &std::path::Path, judged: &[Judged]) -> Vec<(String, String)> {
        match feedback::save(directory, judged) {
            Ok(written) => written
                .into_iter()
                .map(|(name, path)| (name, self.layout.display(&path).to_string()))
                .collect(),
            Err(error) => {
                tracing::warn!(%error, directory = %self.layout.display(directory), "Could not keep the checks' whole output");
                Vec::new()
            }
        }
    }

    /// Runs one check plugin, with the model usage charged to it.
    async fn run_check_plugin(
        &self,
        name: &str,
        plugin: &CheckPlugin,
        input: &CheckInput,
        view: &std::path::Path,
    ) -> (CheckRun, ModelUsage) {
        let started = std::time::Instant::now();
        let metered = self.runtime.run_check_metered(plugin, input, view).await;
        let usage = metered.usage;
        let mut findings = Vec::new();
        let (verdict, output) = match metered.result {
            Ok(outcome) => {
                let lines: Vec<String> = outcome
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
                // Compared without line numbers, as command checks' are.
                findings = outcome
                    .value
                    .findings
                    .iter()
                    .map(|finding| {
                        let file = finding.file.as_deref().unwrap_or("");
                        format!("{:?}: {} ({file})", finding.severity, finding.message)
                    })
                    .collect();
                let verdict = if outcome.value.passed {
                    checks::Verdict::Passed
                } else {
                    checks::Verdict::Failed { exit_code: None }
                };
                (verdict, lines.join("\n"))
            }
            // A faulting check plugin loses its turn; it does not decide.
            Err(error) => (
                checks::Verdict::NotRun {
                    reason: error.to_string(),
                },
                error.to_string(),
            ),
        };
        let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let mut run = CheckRun::new(name, checks::Category::Custom, verdict, duration_ms, output);
        run.findings = findings;
        (run, usage)
    }
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
