//! The simple loop (SPEC §8, `ralph simple loop N`): one implementer works
//! through the issue in iterations of plan → implement → commit → checks,
//! on the same issues, labels, worktree, checks and pull-request records
//! as the marketplace, and with the same attempt pipeline
//! ([`crate::attempt`]). Its working state is a session
//! ([`crate::sessions`]), resumed by the next run when it did not finish.
//!
//! An iteration:
//! 1. PLANNING: the tasks (one a checkbox) are made once; feedback not yet
//!    read (the last failure's, or a person's) moves the session to
//!    REPLANNING: the plan gets what failed, `replanning/{delta,rationale}.md`
//!    say what changed and why, and the failed tasks open again. The plan
//!    is snapshotted as `plan.iteration-<N>.md`.
//! 2. BATCHING, EXECUTING: the implementer gets the issue, the open tasks,
//!    the progress, the feedback and a fresh prompt (context rotation).
//! 3. REVIEWING: every check runs on the change (the repository's
//!    `pre-commit` hook first, as a check, confined like the others). All
//!    passing, also those that failed before the change: it is committed
//!    and the tasks the implementer reports done are ticked; otherwise it
//!    is discarded, and its failing checks' output becomes the next
//!    iteration's feedback.
//!
//! The loop is complete only when every checkbox is ticked, the checks
//! passed on the final commit, and the implementer said so in its report.
//! A usage limit an agent reports is waited out without spending an
//! iteration; `--max-cost` and `--max-runtime` stop it resumably.

pub mod brief;
pub mod config;
pub mod report;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use ralph_issues::Requirement;
use ralph_marketplace::Layout;
use ralph_models::Unavailable;
use ralph_runtime::Runtime;

use crate::attempt::{self, Ending, Request};
use crate::checks::{Category, CommandCheck, Judged};
use crate::implementer::{ImplementError, ImplementationUsage, Task};
use crate::llm::LlmOptions;
use crate::loop_config::LoopConfig;
use crate::metering::Metering;
use crate::progress::{FinishStatus, Progress, Step};
use crate::session::{Finished, integrations_of, runtime_options};
use crate::sessions::{
    Failure, IterationMetadata, LoopKind, SessionDir, State, TaskBoard, TaskFront, TaskStatus,
    checkboxes, now,
};
use crate::signals::{Listening, Mailbox, Signals};
use crate::workbench::{LoopError, Parts, Workbench, uncommitted_state};
use brief::{Brief, BriefTask};
pub use config::SimpleSettings;

/// What the simple loop needs besides the repository.
pub struct SimpleOptions {
    pub issue: u64,
    /// Set (by Ctrl-C or SIGTERM) to stop cleanly between steps.
    pub stop: Arc<AtomicBool>,
    pub llm: LlmOptions,
    /// Stop once this run's implementer cost reaches this many US dollars.
    pub max_cost_usd: Option<f64>,
    /// Stop once this run has worked this long (waits for a usage limit
    /// do not count).
    pub max_runtime: Option<Duration>,
    /// Start a new session even when an unfinished one exists.
    pub new_session: bool,
}

/// The longest wait for an agent's usage limit before trying again.
const LONGEST_WAIT: Duration = Duration::from_secs(6 * 3600);
/// The wait when an agent says it is limited but not until when.
const UNKNOWN_WAIT: Duration = Duration::from_secs(60);

/// Runs the simple loop on `options.issue` until it is complete, needs a
/// person, is stopped, or reaches a limit.
pub async fn run(
    layout: Layout,
    options: SimpleOptions,
    progress: &mut dyn Progress,
) -> Result<Finished, LoopError> {
    let LoopConfig {
        marketplace,
        lineup,
        implementer,
        protected,
        sandbox,
        models,
        metering,
        issues,
        team,
    } = LoopConfig::read_for(&layout, &options.llm, LoopKind::Simple)?;
    let settings = SimpleSettings::from_config(marketplace.config(), &layout.config_file())?;
    let integrations = integrations_of(&marketplace, &layout)?;
    let parts = Parts {
        kind: LoopKind::Simple,
        implementer,
        protected,
        sandbox,
        models,
        issues,
        team,
    };
    let opened = Workbench::open(
        &layout,
        options.issue,
        parts,
        options.stop.clone(),
        progress,
    )
    .await?;
    let mut bench = opened.bench;
    let repository = layout.repository().to_owned();
    let (session, is_resumed) = SessionDir::resume_or_create(
        &repository,
        options.issue,
        LoopKind::Simple,
        &opened.branch,
        options.new_session,
    )?;
    // From here on, signals are claimed at every step and every tick of a
    // long one.
    let signals = Signals::new(
        Mailbox::of(session.root()),
        options.stop.clone(),
        session.metadata.steering.clone(),
        session.metadata.info.clone(),
    );
    let mut listening = Listening {
        inner: progress,
        signals: signals.clone(),
    };
    let progress: &mut dyn Progress = &mut listening;
    let _watching = signals.watch();
    progress.step(Step::SessionOpened {
        id: session.id().to_owned(),
        path: layout.display(session.root()).to_string(),
        resumed: is_resumed,
        iteration: session.metadata.iteration,
    });
    progress.step(Step::Sandbox {
        kind: bench.confinement.kind(),
        message: bench.confinement.describe(),
    });
    let runtime = Runtime::new(
        runtime_options(&repository)
            .with_provider(bench.models.plugins())
            .with_integrations(integrations),
    )
    .map_err(LoopError::failed)?;
    bench
        .load_checks(&repository, &lineup.checks, &runtime, progress)
        .await;
    if let Some(hook) = pre_commit_hook(bench.worktree.path()) {
        bench.checks.commands.insert(0, hook);
    }
    bench.run_baseline(progress).await;
    let mut simple = SimpleLoop {
        layout,
        bench,
        session,
        runtime,
        settings,
        metering,
        signals,
        max_cost_usd: options.max_cost_usd,
        max_runtime: options.max_runtime,
        started: Instant::now(),
        waited: Duration::ZERO,
        run_cost_usd: 0.0,
        iterations_run: 0,
        last_checks: Vec::new(),
        last_notes: String::new(),
    };
    simple.run(progress).await
}

/// The repository's `pre-commit` hook as a check, when it has one: the
/// simple loop commits "with the hooks enabled", so the hook judges every
/// change, run like every other check (confined, its environment
/// scrubbed) rather than by `git commit` with the user's credentials.
fn pre_commit_hook(worktree: &std::path::Path) -> Option<CommandCheck> {
    let output = crate::worktree::git(
        worktree,
        &["rev-parse", "--git-path", "hooks/pre-commit"],
        None,
    )
    .ok()?;
    let relative = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    let hook = worktree.join(relative);
    let executable = {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(&hook)
            .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
    };
    executable.then(|| CommandCheck {
        name: "pre-commit hook".to_owned(),
        argv: ["git", "hook", "run", "pre-commit"]
            .map(str::to_owned)
            .to_vec(),
        category: Category::Custom,
        timeout_seconds: 1800,
    })
}

/// How one iteration ended, for the loop.
enum Turn {
    /// Go on with the next iteration.
    Next,
    /// Try the same iteration again (a usage limit was waited out).
    Again,
    /// The loop ends.
    End(FinishStatus, String),
}

/// The simple loop at work.
struct SimpleLoop {
    layout: Layout,
    bench: Workbench,
    session: SessionDir,
    runtime: Runtime,
    settings: SimpleSettings,
    metering: Metering,
    /// The session's live signals.
    signals: Signals,
    max_cost_usd: Option<f64>,
    max_runtime: Option<Duration>,
    started: Instant,
    /// Time spent waiting for usage limits: it counts toward no limit.
    waited: Duration,
    run_cost_usd: f64,
    iterations_run: u64,
    /// The checks of the last change that passed.
    last_checks: Vec<Judged>,
    /// The implementer's notes on the last change that passed.
    last_notes: String,
}

impl SimpleLoop {
    async fn run(&mut self, progress: &mut dyn Progress) -> Result<Finished, LoopError> {
        self.define_tasks()?;
        let (status, reason) = loop {
            self.between_steps(progress).await?;
            if let Some(end) = self.reason_to_stop() {
                break end;
            }
            match self.iteration(progress).await? {
                Turn::Next | Turn::Again => {}
                Turn::End(status, reason) => break (status, reason),
            }
        };
        self.finish(status, reason, progress)
    }

    /// Between two steps: claims the signals that wait, keeps what they
    /// said in the session, and holds while a PAUSE does (time that counts
    /// toward no limit).
    async fn between_steps(&mut self, progress: &mut dyn Progress) -> Result<(), LoopError> {
        self.signals.check(progress);
        if self.signals.paused() {
            let before = self.session.metadata.state;
            self.session.set_state(State::Paused)?;
            self.waited += self.signals.hold_while_paused(progress).await;
            self.session.metadata.state = before;
        }
        self.session.metadata.steering = self.signals.steering();
        self.session.metadata.info = self.signals.info();
        self.session.write_metadata()?;
        Ok(())
    }

    /// Why the loop stops before another iteration, if it does.
    fn reason_to_stop(&self) -> Option<(FinishStatus, String)> {
        if self.bench.stop_requested() {
            return Some((
                FinishStatus::Interrupted,
                "stopped on request; run the loop again to resume its session".to_owned(),
            ));
        }
        if let Some(limit) = self.max_cost_usd
            && self.run_cost_usd >= limit
        {
            return Some((
                FinishStatus::LimitReached,
                format!(
                    "--max-cost {limit} reached: this run's implementer cost ${:.4}; run the loop again to resume",
                    self.run_cost_usd
                ),
            ));
        }
        if let Some(limit) = self.max_runtime {
            let worked = self.started.elapsed().saturating_sub(self.waited);
            if worked >= limit {
                return Some((
                    FinishStatus::LimitReached,
                    format!(
                        "--max-runtime {} s reached after {} s of work; run the loop again to resume",
                        limit.as_secs(),
                        worked.as_secs()
                    ),
                ));
            }
        }
        None
    }

    /// The issue's checkboxes.
    fn checkboxes(&self) -> Vec<Requirement> {
        checkboxes(&self.bench.issue)
    }

    /// Makes a task of every checkbox that has none yet.
    fn define_tasks(&mut self) -> Result<(), LoopError> {
        let iteration = self.session.metadata.iteration.max(1);
        self.session.define_tasks(&self.bench.issue, iteration)?;
        Ok(())
    }

    fn requirement_text(&self, front: &TaskFront) -> String {
        self.session.requirement_text(&self.bench.issue, front)
    }

    /// Writes `progress.md` with the table of iterations.
    fn write_board(&self, board: &TaskBoard) -> Result<(), LoopError> {
        Ok(self.session.write_progress(board)?)
    }

    /// The tasks to work on: open, with their checkbox still unticked.
    fn open_tasks(&self, board: &TaskBoard) -> Vec<String> {
        self.session.open_tasks(&self.bench.issue, board)
    }

    /// The iteration to work on: the one a stop interrupted, else the next.
    fn next_iteration(&self) -> Result<u32, LoopError> {
        let last = self.session.metadata.iteration;
        Ok(match self.session.iteration(last)? {
            Some(metadata) if metadata.completed_at.is_none() => last,
            _ => last + 1,
        })
    }

    async fn iteration(&mut self, progress: &mut dyn Progress) -> Result<Turn, LoopError> {
        let number = self.next_iteration()?;
        if number > self.settings.max_iterations {
            let left = self.open_tasks(&self.session.board()?).len();
            return Ok(Turn::End(
                FinishStatus::AttentionNeeded,
                format!(
                    "reached simple.max_iterations ({}) with {left} task(s) open{}",
                    self.settings.max_iterations,
                    if left == 0 {
                        " and no completion signal from the implementer"
                    } else {
                        ""
                    }
                ),
            ));
        }
        // PLANNING (and REPLANNING when there is feedback to act on).
        self.session.metadata.iteration = number;
        let mut metadata = match self.session.iteration(number)? {
            Some(metadata) => metadata,
            None => IterationMetadata {
                iteration: number,
                started_at: now(),
                planning_completed_at: None,
                completed_at: None,
                tasks_defined: 0,
                tasks_done: 0,
                outcome: None,
            },
        };
        self.session.set_state(State::Planning)?;
        self.session.write_iteration(&metadata)?;
        let mut board = self.session.board()?;
        // What an interrupted attempt had under way is open again.
        for id in board.ids() {
            if board.current(&id).is_some_and(|line| {
                matches!(
                    line.status,
                    TaskStatus::InProgress | TaskStatus::PendingReview
                )
            }) {
                board.set(&id, TaskStatus::Open, number, &now());
            }
        }
        let feedback = self.replan(number, &mut board, progress)?;
        let plan = self.session.read("plan.md")?.unwrap_or_default();
        self.session
            .write_once(&format!("plan.iteration-{number}.md"), &plan)?;
        let offered = self.open_tasks(&board);
        metadata.tasks_defined = board.ids().len();
        metadata.planning_completed_at = Some(now());
        self.session.write_iteration(&metadata)?;
        // BATCHING: the open tasks are this iteration's.
        self.session.set_state(State::Batching)?;
        for id in &offered {
            board.set(id, TaskStatus::InProgress, number, &now());
        }
        self.write_board(&board)?;
        progress.step(Step::IterationStarted {
            iteration: number,
            max_iterations: self.settings.max_iterations,
            tasks: offered.clone(),
        });
        // EXECUTING, after a look at the signals (a STEER sent while the
        // plan was made reaches this prompt; a PAUSE holds here).
        self.between_steps(progress).await?;
        if self.bench.stop_requested() {
            return Ok(Turn::End(
                FinishStatus::Interrupted,
                "stopped on request; run the loop again to resume its session".to_owned(),
            ));
        }
        self.session.set_state(State::Executing)?;
        let fronts = self.session.tasks()?;
        let texts: Vec<(String, String)> = fronts
            .iter()
            .map(|front| (front.id.clone(), self.requirement_text(front)))
            .collect();
        let task_of = |id: &String| {
            texts
                .iter()
                .find(|(task, _)| task == id)
                .map(|(task, text)| BriefTask { id: task, text })
        };
        let done_ids = board.with_status(TaskStatus::Done);
        let progress_text = self.session.read("progress.md")?.unwrap_or_default();
        let brief = Brief {
            iteration: number,
            max_iterations: self.settings.max_iterations,
            open: offered.iter().filter_map(task_of).collect(),
            done: done_ids.iter().filter_map(task_of).collect(),
            progress: &progress_text,
            feedback,
            steering: self.signals.steering(),
            info: self.signals.info(),
        }
        .render();
        let feedback_dir = self.session.next_feedback_folder();
        let request = Request {
            task: Task::brief(&self.bench.issue, &brief),
            label: format!("iteration {number}"),
            subject: format!("iteration {number}"),
            requirements: self.bench.open_requirements(),
            feedback_dir: feedback_dir.clone(),
        };
        let report = self
            .bench
            .workshop(&self.layout, &self.runtime)
            .attempt(request, progress)
            .await;
        self.iterations_run += 1;
        self.charge(report.implementation.as_ref());
        let answer = report.answer.clone().unwrap_or_default();
        let turn = match report.ending {
            Ending::Stopped => {
                metadata.outcome = Some("stopped".to_owned());
                Turn::End(
                    FinishStatus::Interrupted,
                    "stopped on request; run the loop again to resume its session".to_owned(),
                )
            }
            Ending::Unavailable(Unavailable::UsageLimited(reason)) => {
                if let Some(until) = report.limited_until {
                    self.bench
                        .worktree
                        .discard_changes()
                        .map_err(LoopError::failed)?;
                    // No iteration is spent: the same one is tried again.
                    self.iterations_run -= 1;
                    self.wait_until(until, &reason, &mut board, number, progress)
                        .await?;
                    return Ok(if self.bench.stop_requested() {
                        Turn::End(
                            FinishStatus::Interrupted,
                            "stopped while waiting for a usage limit; run the loop again to resume"
                                .to_owned(),
                        )
                    } else {
                        Turn::Again
                    });
                }
                self.bench
                    .worktree
                    .discard_changes()
                    .map_err(LoopError::failed)?;
                metadata.outcome = Some("provider unavailable".to_owned());
                Turn::End(
                    FinishStatus::ProviderUnavailable,
                    format!("{reason}; run the loop again later to resume its session"),
                )
            }
            Ending::Unavailable(Unavailable::Misconfigured(reason)) => {
                return Err(LoopError::BadInput(format!(
                    "{reason}; fix the llm settings, the key or the model and run the loop again"
                )));
            }
            Ending::NotImplemented(ImplementError::Implementer(error)) => {
                self.bench
                    .worktree
                    .discard_changes()
                    .map_err(LoopError::failed)?;
                metadata.outcome = Some("implementer failed".to_owned());
                Turn::End(
                    FinishStatus::AttentionNeeded,
                    format!(
                        "the `{}` implementer failed in iteration {number}: {error}",
                        self.bench.implementer.kind()
                    ),
                )
            }
            Ending::NotImplemented(fault) => {
                self.bench
                    .worktree
                    .discard_changes()
                    .map_err(LoopError::failed)?;
                let text = format!("iteration {number}'s change could not be made: {fault}");
                self.failed(number, &offered, &mut board, &feedback_dir, &text, &[])?;
                metadata.outcome = Some("failed".to_owned());
                Turn::Next
            }
            Ending::Broken(error) => return Err(LoopError::Failed(error)),
            Ending::Checked(checked) => {
                self.session.set_state(State::Reviewing)?;
                for id in &offered {
                    board.set(id, TaskStatus::PendingReview, number, &now());
                }
                let reported = report::read(&answer);
                // Every check must pass, also one that failed before the
                // change: completion needs the checks passing on the final
                // commit, and only a passing change ticks anything.
                let failing: Vec<&Judged> = checked
                    .judged
                    .iter()
                    .filter(|judged| !judged.run.passed())
                    .collect();
                if failing.is_empty() {
                    self.bench
                        .worktree
                        .stage_tree(&checked.tree)
                        .map_err(LoopError::failed)?;
                    let done = self.done_tasks(&offered, &reported, &fronts);
                    self.succeeded(
                        number,
                        &done,
                        &offered,
                        &mut board,
                        &fronts,
                        &checked,
                        (&answer, &reported),
                    )?;
                    metadata.outcome = Some("succeeded".to_owned());
                    self.last_checks = checked.judged.clone();
                    self.last_notes = reported.notes.clone();
                    progress.step(Step::Reported {
                        done: done.clone(),
                        complete: reported.complete,
                        notes: reported.notes.clone(),
                    });
                    if let Some(ticked) = self.tick(&done, &fronts)? {
                        progress.step(Step::Ticked {
                            requirements: ticked,
                        });
                    }
                    let all_ticked = self.checkboxes().iter().all(|requirement| requirement.done);
                    if all_ticked && reported.complete {
                        metadata.tasks_done = board.with_status(TaskStatus::Done).len();
                        metadata.completed_at = Some(now());
                        self.session.write_iteration(&metadata)?;
                        self.write_board(&board)?;
                        return Ok(Turn::End(
                            FinishStatus::Complete,
                            "every checkbox is ticked, the checks pass on the final commit, and the implementer signalled completion".to_owned(),
                        ));
                    }
                    Turn::Next
                } else {
                    self.bench
                        .worktree
                        .discard_changes()
                        .map_err(LoopError::failed)?;
                    let text = crate::feedback::report(
                        &format!("iteration {number}'s change"),
                        &failing,
                        &checked.kept_output,
                    );
                    self.failed(
                        number,
                        &offered,
                        &mut board,
                        &feedback_dir,
                        &text,
                        &checked.kept_output,
                    )?;
                    self.session.write_reports(
                        &offered,
                        &board,
                        number,
                        &format_report(&answer, &report::read(&answer)),
                    )?;
                    metadata.outcome = Some("failed".to_owned());
                    Turn::Next
                }
            }
        };
        // An iteration that succeeded or failed is over; any other is
        // worked on again when the session resumes.
        if matches!(metadata.outcome.as_deref(), Some("succeeded" | "failed")) {
            metadata.completed_at = Some(now());
        }
        metadata.tasks_done = board.with_status(TaskStatus::Done).len();
        self.session.write_iteration(&metadata)?;
        self.write_board(&board)?;
        self.session
            .write_review(&metadata, &board, &self.last_checks)?;
        Ok(turn)
    }

    /// REPLANNING, when feedback waits (see [`SessionDir::replan`]);
    /// returns the feedback texts for the brief.
    fn replan(
        &mut self,
        number: u32,
        board: &mut TaskBoard,
        progress: &mut dyn Progress,
    ) -> Result<Vec<String>, LoopError> {
        let Some(replanned) = self.session.replan(number, board)? else {
            return Ok(Vec::new());
        };
        progress.step(Step::Replanned {
            iteration: number,
            feedbacks: replanned.folders,
            reset: replanned.reset,
        });
        Ok(replanned.texts)
    }

    /// The offered tasks the implementer reports done (by task id or
    /// requirement id); every offered task when it gave no report.
    fn done_tasks(
        &self,
        offered: &[String],
        reported: &report::Report,
        fronts: &[TaskFront],
    ) -> Vec<String> {
        match &reported.done {
            None => offered.to_vec(),
            Some(done) => offered
                .iter()
                .filter(|id| {
                    done.iter().any(|said| {
                        said == *id
                            || fronts
                                .iter()
                                .any(|front| &front.id == *id && front.requirement == *said)
                    })
                })
                .cloned()
                .collect(),
        }
    }

    /// A change that passed every check: committed, its tasks ticked on the
    /// board, the others open again, the reports and plan written.
    #[allow(clippy::too_many_arguments)]
    fn succeeded(
        &mut self,
        number: u32,
        done: &[String],
        offered: &[String],
        board: &mut TaskBoard,
        fronts: &[TaskFront],
        checked: &attempt::Checked,
        (answer, reported): (&str, &report::Report),
    ) -> Result<(), LoopError> {
        let texts: Vec<String> = done
            .iter()
            .filter_map(|id| fronts.iter().find(|front| &front.id == id))
            .map(|front| self.requirement_text(front))
            .collect();
        if !checked.stats.files.is_empty() {
            let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
            let message = crate::round::commit_message(&texts, &reported.notes);
            let trailers = [
                ("Ralph-Issue", self.bench.issue.number.to_string()),
                ("Ralph-Session", self.session.id().to_owned()),
                ("Ralph-Iteration", number.to_string()),
            ];
            self.bench
                .worktree
                .commit(&message, &trailers)
                .map_err(LoopError::failed)?;
        }
        let at = now();
        for id in offered {
            let status = if done.contains(id) {
                TaskStatus::Done
            } else {
                TaskStatus::Open
            };
            board.set(id, status, number, &at);
        }
        self.session
            .write_reports(done, board, number, &format_report(answer, reported))?;
        if let Some(plan) = &reported.plan {
            self.session.write(
                "plan.md",
                &format!(
                    "{}\n\n## The implementer's plan after iteration {number}\n{}\n",
                    self.session.read("plan.md")?.unwrap_or_default().trim_end(),
                    plan.trim_end()
                ),
            )?;
        }
        Ok(())
    }

    /// A change that failed: its tasks fail, and the feedback folder gets
    /// `feedbacks.md` (the kept output files are already in it).
    fn failed(
        &mut self,
        number: u32,
        offered: &[String],
        board: &mut TaskBoard,
        feedback_dir: &std::path::Path,
        report: &str,
        kept_output: &[(String, String)],
    ) -> Result<(), LoopError> {
        let at = now();
        for id in offered {
            board.set(id, TaskStatus::Failed, number, &at);
        }
        self.session.write_feedback(
            feedback_dir,
            &Failure {
                iteration: number,
                tasks: offered,
                report,
                kept_output,
            },
        )?;
        Ok(())
    }

    /// Ticks the checkboxes of `done` in the issue; their texts.
    fn tick(
        &mut self,
        done: &[String],
        fronts: &[TaskFront],
    ) -> Result<Option<Vec<String>>, LoopError> {
        let checkboxes = self.checkboxes();
        let ticked: Vec<&Requirement> = done
            .iter()
            .filter_map(|id| fronts.iter().find(|front| &front.id == id))
            .filter_map(|front| {
                checkboxes
                    .iter()
                    .find(|requirement| requirement.id.0 == front.requirement && !requirement.done)
            })
            .collect();
        if ticked.is_empty() {
            return Ok(None);
        }
        let ids: Vec<ralph_issues::RequirementId> = ticked
            .iter()
            .map(|requirement| requirement.id.clone())
            .collect();
        let texts = ticked
            .iter()
            .map(|requirement| requirement.text.clone())
            .collect();
        self.bench.issue = self
            .bench
            .issues
            .tick_requirements(self.bench.issue.number, &ids)
            .map_err(LoopError::failed)?;
        Ok(Some(texts))
    }

    /// Adds what the implementer cost (as it reported, or priced by the
    /// table for the configured model) to this run and the session.
    fn charge(&mut self, usage: Option<&ImplementationUsage>) {
        let Some(usage) = usage else {
            return;
        };
        let model = self.bench.models.implementer_model();
        let priced = self.metering.record(model, &usage.tokens).cost_usd;
        let cost = match (usage.reported_cost_usd, usage.configured_model) {
            (Some(cost), _) => cost,
            (None, true) => priced.unwrap_or(0.0),
            (None, false) => 0.0,
        };
        self.run_cost_usd += cost;
        self.session.metadata.cost_usd += cost;
    }

    /// Waits until `until` (seconds since the Unix epoch) for an agent's
    /// usage limit, stopping early on a stop; the tasks wait open.
    async fn wait_until(
        &mut self,
        until: u64,
        message: &str,
        board: &mut TaskBoard,
        number: u32,
        progress: &mut dyn Progress,
    ) -> Result<(), LoopError> {
        for id in board.with_status(TaskStatus::InProgress) {
            board.set(&id, TaskStatus::Open, number, &now());
        }
        self.write_board(board)?;
        let wait = if until == 0 {
            UNKNOWN_WAIT
        } else {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default();
            Duration::from_secs(until)
                .saturating_sub(now)
                .clamp(Duration::from_secs(1), LONGEST_WAIT)
        };
        progress.step(Step::Waiting {
            reason: message.to_owned(),
            seconds: wait.as_secs(),
        });
        self.session.set_state(State::Paused)?;
        let started = Instant::now();
        while started.elapsed() < wait && !self.bench.stop_requested() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.waited += started.elapsed();
        Ok(())
    }

    fn finish(
        &mut self,
        status: FinishStatus,
        reason: String,
        progress: &mut dyn Progress,
    ) -> Result<Finished, LoopError> {
        let summary = self.last_notes.clone();
        let checks = self.last_checks.clone();
        let pull_request = self.bench.conclude(
            &self.layout,
            status,
            &reason,
            |bench: &Workbench| bench.pull_request(summary, &checks),
            progress,
        )?;
        self.session.end(status, &reason)?;
        self.write_board(&self.session.board()?)?;
        tracing::info!(?status, reason = %reason, "Simple loop finished");
        progress.step(Step::Finished {
            status,
            reason: reason.clone(),
            budget_used: self.iterations_run,
            to_commit: uncommitted_state(&self.layout),
        });
        Ok(Finished {
            status,
            reason,
            pull_request,
        })
    }
}

/// The implementer's answer as the session keeps it: whole, with a word on
/// a report that could not be read.
fn format_report(answer: &str, reported: &report::Report) -> String {
    let mut text = answer.to_owned();
    if let Some(problem) = &reported.unreadable {
        text.push_str(&format!(
            "\n\n(The report's `json` block could not be read: {problem})"
        ));
    }
    text
}
