//! Sessions (SPEC §8): every run of a loop keeps its working state in
//! `.ralph-sessions/<YYMMDD-hhmmss>/` at the repository's root, git-ignored:
//!
//! ```text
//! metadata.yaml                 the session: id, issue, loop, state, times
//! plan.md                       the current plan
//! plan.iteration-<N>.md         the plan iteration N worked to (immutable)
//! progress.md                   task status, the single source of truth
//! tasks/<id>.md                 one file a task (front matter + sections)
//! reports/<task>-report[-r<N>].md   the implementer's report on a task
//! iterations/<N>/metadata.yaml  started_at, planning_completed_at, …
//! iterations/<N>/review.md      what the iteration did
//! iterations/<N>/feedbacks/<timestamp>/feedbacks.md (+ the failing
//!                               checks' whole output)
//! iterations/<N>/replanning/{delta,rationale}.md
//! ```
//!
//! Only the host writes `progress.md` and the metadata files. Every file is
//! written whole to a temporary file and renamed into place, so a crash
//! leaves the old text or the new. A file Ralph cannot read back (a
//! hand-edited `metadata.yaml` that no longer parses) is an error naming
//! it: nothing is overwritten.

use std::path::{Path, PathBuf};

use chrono::{DateTime, SecondsFormat, Utc};
use ralph_issues::{Issue, Requirement, RequirementKind, atomic};

use crate::progress::FinishStatus;
use serde::{Deserialize, Serialize};

mod iteration;

pub use iteration::{Failure, Replanned};

/// The folder of every session, at the repository's root.
pub const SESSIONS_DIR: &str = ".ralph-sessions";

/// Where a session's work stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum State {
    Initializing,
    Planning,
    Batching,
    Executing,
    Reviewing,
    Replanning,
    Paused,
    Complete,
    Stopped,
    AttentionNeeded,
}

impl State {
    /// The name the session's files give it.
    pub fn name(self) -> &'static str {
        match self {
            State::Initializing => "INITIALIZING",
            State::Planning => "PLANNING",
            State::Batching => "BATCHING",
            State::Executing => "EXECUTING",
            State::Reviewing => "REVIEWING",
            State::Replanning => "REPLANNING",
            State::Paused => "PAUSED",
            State::Complete => "COMPLETE",
            State::Stopped => "STOPPED",
            State::AttentionNeeded => "ATTENTION_NEEDED",
        }
    }
}

/// Which loop a session belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoopKind {
    Marketplace,
    Simple,
}

impl LoopKind {
    /// The loop's command group: `ralph marketplace …`, `ralph simple …`.
    pub fn command(self) -> &'static str {
        match self {
            LoopKind::Marketplace => "marketplace",
            LoopKind::Simple => "simple",
        }
    }
}

/// `metadata.yaml`: the session as a whole.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metadata {
    pub session_id: String,
    pub issue: u64,
    #[serde(rename = "loop")]
    pub loop_kind: LoopKind,
    pub state: State,
    /// The iteration under way, or the last one.
    pub iteration: u32,
    pub branch: String,
    pub created_at: String,
    pub updated_at: String,
    #[serde(default)]
    pub completed_at: Option<String>,
    /// Why the session stopped, when it did.
    #[serde(default)]
    pub reason: Option<String>,
    /// What the implementer reported it cost, in US dollars, over every run.
    #[serde(default)]
    pub cost_usd: f64,
    /// The feedback folders already acted on, relative to the session.
    #[serde(default)]
    pub feedbacks_read: Vec<String>,
    /// The STEER messages claimed so far, oldest first.
    #[serde(default)]
    pub steering: Vec<String>,
    /// The INFO messages claimed so far, oldest first.
    #[serde(default)]
    pub info: Vec<String>,
}

/// `iterations/<N>/metadata.yaml`: one iteration's timing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IterationMetadata {
    pub iteration: u32,
    pub started_at: String,
    #[serde(default)]
    pub planning_completed_at: Option<String>,
    #[serde(default)]
    pub completed_at: Option<String>,
    pub tasks_defined: usize,
    /// The tasks done when it ended.
    #[serde(default)]
    pub tasks_done: usize,
    /// How it ended: `succeeded`, `failed`, `stopped`, …
    #[serde(default)]
    pub outcome: Option<String>,
}

/// A task's status in `progress.md`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskStatus {
    /// `[ ]`
    Open,
    /// `[/]`
    InProgress,
    /// `[P]`: the change is made, its checks run.
    PendingReview,
    /// `[x]`
    Done,
    /// `[F]`
    Failed,
}

impl TaskStatus {
    fn mark(self) -> char {
        match self {
            TaskStatus::Open => ' ',
            TaskStatus::InProgress => '/',
            TaskStatus::PendingReview => 'P',
            TaskStatus::Done => 'x',
            TaskStatus::Failed => 'F',
        }
    }

    fn of_mark(mark: char) -> Option<TaskStatus> {
        Some(match mark {
            ' ' => TaskStatus::Open,
            '/' => TaskStatus::InProgress,
            'P' => TaskStatus::PendingReview,
            'x' => TaskStatus::Done,
            'F' => TaskStatus::Failed,
            _ => return None,
        })
    }

    /// The word `progress.md` puts before the time of the change.
    fn word(self) -> &'static str {
        match self {
            TaskStatus::Open => "reset",
            TaskStatus::InProgress => "started",
            TaskStatus::PendingReview => "checking",
            TaskStatus::Done => "qualified",
            TaskStatus::Failed => "failed",
        }
    }
}

/// One line of `progress.md`: a task's status in one attempt. A task's
/// current status is its last line; earlier lines are its history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskLine {
    pub id: String,
    pub status: TaskStatus,
    pub attempt: u32,
    pub iteration: u32,
    /// When the status was set (RFC 3339), none for a task never started.
    pub at: Option<String>,
}

impl TaskLine {
    fn render(&self) -> String {
        let when = self
            .at
            .as_ref()
            .map(|at| format!(", {}: {at}", self.status.word()))
            .unwrap_or_default();
        format!(
            "- [{}] {} (Attempt {}, Iteration {}{when})",
            self.status.mark(),
            self.id,
            self.attempt,
            self.iteration
        )
    }

    fn parse(line: &str) -> Option<TaskLine> {
        let rest = line.strip_prefix("- [")?;
        let mut characters = rest.chars();
        let status = TaskStatus::of_mark(characters.next()?)?;
        let rest = characters.as_str().strip_prefix("] ")?;
        let (id, rest) = rest.split_once(" (Attempt ")?;
        let inner = rest.strip_suffix(')')?;
        let mut parts = inner.splitn(3, ", ");
        let attempt = parts.next()?.parse().ok()?;
        let iteration = parts.next()?.strip_prefix("Iteration ")?.parse().ok()?;
        let at = parts
            .next()
            .and_then(|when| when.split_once(": "))
            .map(|(_, at)| at.to_owned());
        Some(TaskLine {
            id: id.to_owned(),
            status,
            attempt,
            iteration,
            at,
        })
    }
}

/// `progress.md` read back: every task line, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TaskBoard {
    pub lines: Vec<TaskLine>,
}

impl TaskBoard {
    /// The task ids, each once, in the order they first appear.
    pub fn ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = Vec::new();
        for line in &self.lines {
            if !ids.contains(&line.id) {
                ids.push(line.id.clone());
            }
        }
        ids
    }

    /// `id`'s current line.
    pub fn current(&self, id: &str) -> Option<&TaskLine> {
        self.lines.iter().rev().find(|line| line.id == id)
    }

    /// The ids whose current status is `status`.
    pub fn with_status(&self, status: TaskStatus) -> Vec<String> {
        self.ids()
            .into_iter()
            .filter(|id| self.current(id).is_some_and(|line| line.status == status))
            .collect()
    }

    /// Adds a task never started.
    pub fn add(&mut self, id: &str, iteration: u32) {
        self.lines.push(TaskLine {
            id: id.to_owned(),
            status: TaskStatus::Open,
            attempt: 1,
            iteration,
            at: None,
        });
    }

    /// Sets `id`'s status in its current attempt, at `at`.
    pub fn set(&mut self, id: &str, status: TaskStatus, iteration: u32, at: &str) {
        if let Some(line) = self.lines.iter_mut().rev().find(|line| line.id == id) {
            line.status = status;
            line.iteration = iteration;
            line.at = Some(at.to_owned());
        }
    }

    /// Resets every failed task for another attempt in `iteration`: the
    /// failed line stays as history, a new open line follows it. The ids
    /// reset, in order.
    pub fn reset_failed(&mut self, iteration: u32, at: &str) -> Vec<String> {
        let failed = self.with_status(TaskStatus::Failed);
        for id in &failed {
            let attempt = self.current(id).map_or(1, |line| line.attempt + 1);
            self.lines.push(TaskLine {
                id: id.clone(),
                status: TaskStatus::Open,
                attempt,
                iteration,
                at: Some(at.to_owned()),
            });
        }
        failed
    }

    /// `id`'s current attempt.
    pub fn attempt(&self, id: &str) -> u32 {
        self.current(id).map_or(1, |line| line.attempt)
    }

    fn parse(text: &str) -> TaskBoard {
        TaskBoard {
            lines: text.lines().filter_map(TaskLine::parse).collect(),
        }
    }
}

/// One row of `progress.md`'s table of iterations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IterationRow {
    pub iteration: u32,
    pub status: String,
    pub done: usize,
    pub tasks: usize,
    pub feedbacks: Vec<String>,
}

/// A task file's front matter.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskFront {
    pub id: String,
    pub iteration: u32,
    #[serde(rename = "type")]
    pub kind: String,
    pub created_at: String,
    /// The issue's requirement the task is (its checkbox).
    pub requirement: String,
}

/// A task: one of the issue's checkboxes.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskFile {
    pub front: TaskFront,
    pub title: String,
    pub files: Vec<String>,
    pub objective: String,
    pub success_criteria: Vec<String>,
    pub depends_on: Vec<String>,
}

impl TaskFile {
    fn render(&self) -> Result<String, SessionError> {
        let front = serde_saphyr::to_string(&self.front)
            .map_err(|error| SessionError::new(Path::new("tasks"), error.to_string()))?;
        let list = |items: &[String]| {
            if items.is_empty() {
                "- (none named)".to_owned()
            } else {
                items
                    .iter()
                    .map(|item| format!("- {item}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            }
        };
        let criteria: Vec<String> = self
            .success_criteria
            .iter()
            .map(|criterion| format!("- [ ] {criterion}"))
            .collect();
        Ok(format!(
            "---\n{}---\n\n# Task: {}\n\n## Title\n{}\n\n## Files\n{}\n\n## Objective\n{}\n\n## Success Criteria\n{}\n\n## Dependencies\ndepends_on: [{}]\n",
            front,
            self.front.id,
            self.title,
            list(&self.files),
            self.objective,
            criteria.join("\n"),
            self.depends_on.join(", ")
        ))
    }
}

/// A session file Ralph could not read or write.
#[derive(Debug, thiserror::Error)]
#[error("{}: {message}", path.display())]
pub struct SessionError {
    pub path: PathBuf,
    pub message: String,
}

impl SessionError {
    fn new(path: &Path, message: impl Into<String>) -> SessionError {
        SessionError {
            path: path.to_owned(),
            message: message.into(),
        }
    }

    fn io(path: &Path, error: &std::io::Error) -> SessionError {
        SessionError::new(path, error.to_string())
    }
}

impl From<SessionError> for crate::workbench::LoopError {
    fn from(error: SessionError) -> crate::workbench::LoopError {
        crate::workbench::LoopError::Failed(error.to_string())
    }
}

/// The time now, as the session's files write it.
pub fn now() -> String {
    stamp(Utc::now())
}

fn stamp(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// One session's folder, and its metadata as last written.
#[derive(Debug)]
pub struct SessionDir {
    root: PathBuf,
    pub metadata: Metadata,
}

impl SessionDir {
    /// The folder of every session of `repository`.
    pub fn all_in(repository: &Path) -> PathBuf {
        repository.join(SESSIONS_DIR)
    }

    /// Starts a new session for `issue`, named after the time now (UTC,
    /// `YYMMDD-hhmmss`; a clash takes the next free `-2`, `-3`, …).
    pub fn create(
        repository: &Path,
        issue: u64,
        loop_kind: LoopKind,
        branch: &str,
    ) -> Result<SessionDir, SessionError> {
        let all = SessionDir::all_in(repository);
        std::fs::create_dir_all(&all).map_err(|error| SessionError::io(&all, &error))?;
        // The folder ignores itself, also in a repository whose setup did
        // not add it to the root `.gitignore`.
        let ignore = all.join(".gitignore");
        if !ignore.exists() {
            std::fs::write(
                &ignore,
                "# Ralph's sessions: working state, never committed.\n*\n",
            )
            .map_err(|error| SessionError::io(&ignore, &error))?;
        }
        let base = Utc::now().format("%y%m%d-%H%M%S").to_string();
        let mut suffix = 1;
        let (id, root) = loop {
            let id = if suffix == 1 {
                base.clone()
            } else {
                format!("{base}-{suffix}")
            };
            let root = all.join(&id);
            match std::fs::create_dir(&root) {
                Ok(()) => break (id, root),
                Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => suffix += 1,
                Err(error) => return Err(SessionError::io(&root, &error)),
            }
        };
        let at = now();
        let session = SessionDir {
            root,
            metadata: Metadata {
                session_id: id,
                issue,
                loop_kind,
                state: State::Initializing,
                iteration: 0,
                branch: branch.to_owned(),
                created_at: at.clone(),
                updated_at: at,
                completed_at: None,
                reason: None,
                cost_usd: 0.0,
                feedbacks_read: Vec::new(),
                steering: Vec::new(),
                info: Vec::new(),
            },
        };
        session.write_metadata()?;
        Ok(session)
    }

    /// The session a run of `loop_kind` on `issue` works in: the newest
    /// unfinished one (unless `new`), else a new one; and whether it was
    /// resumed. Metadata that cannot be read is bad input naming the file.
    pub fn resume_or_create(
        repository: &Path,
        issue: u64,
        loop_kind: LoopKind,
        branch: &str,
        new: bool,
    ) -> Result<(SessionDir, bool), crate::workbench::LoopError> {
        let found = if new {
            None
        } else {
            SessionDir::unfinished(repository, issue, loop_kind).map_err(|error| {
                let another = match loop_kind {
                    LoopKind::Simple => {
                        format!(", or start another with `ralph simple loop {issue} --new`")
                    }
                    LoopKind::Marketplace => String::new(),
                };
                crate::workbench::LoopError::BadInput(format!(
                    "{error}; fix or remove that session's metadata.yaml{another}"
                ))
            })?
        };
        Ok(match found {
            Some(session) => (session, true),
            None => (
                SessionDir::create(repository, issue, loop_kind, branch)?,
                false,
            ),
        })
    }

    /// Opens the session `id` of `repository`.
    pub fn open(repository: &Path, id: &str) -> Result<SessionDir, SessionError> {
        let root = SessionDir::all_in(repository).join(id);
        let path = root.join("metadata.yaml");
        let metadata = read_yaml(&path)?;
        Ok(SessionDir { root, metadata })
    }

    /// The newest session of `loop_kind` on `issue` that did not finish
    /// (every state but COMPLETE), if any. A session whose metadata cannot
    /// be read is an error naming its file: it may be the one to resume.
    pub fn unfinished(
        repository: &Path,
        issue: u64,
        loop_kind: LoopKind,
    ) -> Result<Option<SessionDir>, SessionError> {
        let mut found = SessionDir::list(repository)?
            .into_iter()
            .filter(|session| {
                session.metadata.issue == issue
                    && session.metadata.loop_kind == loop_kind
                    && session.metadata.state != State::Complete
            })
            .collect::<Vec<_>>();
        Ok(found.pop())
    }

    /// Every session of `repository`, oldest first.
    pub fn list(repository: &Path) -> Result<Vec<SessionDir>, SessionError> {
        let all = SessionDir::all_in(repository);
        let entries = match std::fs::read_dir(&all) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(error) => return Err(SessionError::io(&all, &error)),
        };
        let mut ids: Vec<String> = entries
            .filter_map(Result::ok)
            .filter(|entry| entry.file_type().is_ok_and(|kind| kind.is_dir()))
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .filter(|name| !name.starts_with('.'))
            .collect();
        ids.sort();
        ids.iter()
            .map(|id| SessionDir::open(repository, id))
            .collect()
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn id(&self) -> &str {
        &self.metadata.session_id
    }

    /// `path` inside the session.
    pub fn path(&self, path: &str) -> PathBuf {
        self.root.join(path)
    }

    /// Moves the session to `state` and writes its metadata.
    pub fn set_state(&mut self, state: State) -> Result<(), SessionError> {
        self.metadata.state = state;
        if state == State::Complete {
            self.metadata.completed_at = Some(now());
        }
        self.write_metadata()
    }

    /// Ends the session as its loop ended: COMPLETE, ATTENTION_NEEDED, or
    /// STOPPED (a stop, an outage, a limit: a re-run resumes), with why.
    pub fn end(&mut self, status: FinishStatus, reason: &str) -> Result<(), SessionError> {
        self.metadata.reason = Some(reason.to_owned());
        self.set_state(match status {
            FinishStatus::Complete => State::Complete,
            FinishStatus::AttentionNeeded => State::AttentionNeeded,
            FinishStatus::Interrupted
            | FinishStatus::ProviderUnavailable
            | FinishStatus::LimitReached => State::Stopped,
        })
    }

    /// Writes `metadata.yaml` as it stands, with the time now.
    pub fn write_metadata(&self) -> Result<(), SessionError> {
        let mut metadata = self.metadata.clone();
        metadata.updated_at = now();
        self.write_yaml("metadata.yaml", &metadata)
    }

    /// Writes `text` to `path` inside the session, whole.
    pub fn write(&self, path: &str, text: &str) -> Result<(), SessionError> {
        let target = self.path(path);
        atomic::replace(&self.path(".tmp"), &target, text)
            .map_err(|error| SessionError::io(&error.path, &error.source))
    }

    /// Writes `text` to `path` unless it exists (snapshots are immutable).
    pub fn write_once(&self, path: &str, text: &str) -> Result<(), SessionError> {
        let target = self.path(path);
        atomic::create_new(&self.path(".tmp"), &target, text)
            .map(|_| ())
            .map_err(|error| SessionError::io(&error.path, &error.source))
    }

    /// The text of `path` inside the session; `None` when it does not exist.
    pub fn read(&self, path: &str) -> Result<Option<String>, SessionError> {
        let target = self.path(path);
        match std::fs::read_to_string(&target) {
            Ok(text) => Ok(Some(text)),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(SessionError::io(&target, &error)),
        }
    }

    fn write_yaml<T: Serialize>(&self, path: &str, value: &T) -> Result<(), SessionError> {
        let text = serde_saphyr::to_string(value)
            .map_err(|error| SessionError::new(&self.path(path), error.to_string()))?;
        self.write(path, &text)
    }

    /// `iterations/<N>/metadata.yaml`, if written.
    pub fn iteration(&self, iteration: u32) -> Result<Option<IterationMetadata>, SessionError> {
        let path = self.path(&format!("iterations/{iteration}/metadata.yaml"));
        if !path.exists() {
            return Ok(None);
        }
        read_yaml(&path).map(Some)
    }

    pub fn write_iteration(&self, metadata: &IterationMetadata) -> Result<(), SessionError> {
        self.write_yaml(
            &format!("iterations/{}/metadata.yaml", metadata.iteration),
            metadata,
        )
    }

    /// `progress.md` read back; empty when it is not written yet.
    pub fn board(&self) -> Result<TaskBoard, SessionError> {
        Ok(self
            .read("progress.md")?
            .map(|text| TaskBoard::parse(&text))
            .unwrap_or_default())
    }

    /// Writes `progress.md`: the legend, the tasks, the iterations and the
    /// state.
    pub fn write_board(
        &self,
        board: &TaskBoard,
        iterations: &[IterationRow],
    ) -> Result<(), SessionError> {
        let tasks: Vec<String> = board.lines.iter().map(TaskLine::render).collect();
        let rows: Vec<String> = iterations
            .iter()
            .map(|row| {
                let feedbacks = if row.feedbacks.is_empty() {
                    "N/A".to_owned()
                } else {
                    row.feedbacks.join(", ")
                };
                format!(
                    "| {} | {} | {}/{} | {feedbacks} |",
                    row.iteration, row.status, row.done, row.tasks
                )
            })
            .collect();
        let text = format!(
            "# Progress\n\n## Legend\n- `[ ]` Not started\n- `[/]` In progress\n- `[P]` Pending review\n- `[x]` Completed\n- `[F]` Failed\n\n\
             ## Tasks (Iteration {iteration})\n{}\n\n\
             ## Iterations\n| Iteration | Status | Tasks | Feedbacks |\n| --- | --- | --- | --- |\n{}\n\n\
             ## Current State\nstate: {}\niteration: {iteration}\n",
            tasks.join("\n"),
            rows.join("\n"),
            self.metadata.state.name(),
            iteration = self.metadata.iteration,
        );
        self.write("progress.md", &text)
    }

    /// Writes `tasks/<id>.md`.
    pub fn write_task(&self, task: &TaskFile) -> Result<(), SessionError> {
        self.write(&format!("tasks/{}.md", task.front.id), &task.render()?)
    }

    /// The task files, by id order.
    pub fn tasks(&self) -> Result<Vec<TaskFront>, SessionError> {
        let directory = self.path("tasks");
        let entries = match std::fs::read_dir(&directory) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(error) => return Err(SessionError::io(&directory, &error)),
        };
        let mut fronts = Vec::new();
        for entry in entries.filter_map(Result::ok) {
            let path = entry.path();
            if path.extension().is_none_or(|extension| extension != "md") {
                continue;
            }
            let text =
                std::fs::read_to_string(&path).map_err(|error| SessionError::io(&path, &error))?;
            let front = text
                .strip_prefix("---\n")
                .and_then(|rest| rest.split_once("\n---\n"))
                .map(|(front, _)| front)
                .ok_or_else(|| SessionError::new(&path, "no front matter between `---` lines"))?;
            let front: TaskFront = serde_saphyr::from_str(front)
                .map_err(|error| SessionError::new(&path, error.to_string()))?;
            fronts.push(front);
        }
        fronts.sort_by_key(|front| task_order(&front.id));
        Ok(fronts)
    }

    /// Where the implementer's report on `task` in `attempt` goes:
    /// `reports/<task>-report.md`, `-r<N>` from the second attempt.
    pub fn report_path(task: &str, attempt: u32) -> String {
        if attempt <= 1 {
            format!("reports/{task}-report.md")
        } else {
            format!("reports/{task}-report-r{attempt}.md")
        }
    }
}

impl SessionDir {
    /// Makes a task of every checkbox of `issue` that has none yet (all of
    /// them in a new session; those added to the issue since, in a resumed
    /// one), in `iteration`; writes `plan.md` when it is missing, and
    /// `progress.md`. A task whose checkbox is ticked already is done.
    pub fn define_tasks(&self, issue: &Issue, iteration: u32) -> Result<TaskBoard, SessionError> {
        let fronts = self.tasks()?;
        let mut board = self.board()?;
        let mut next = fronts.len() + 1;
        let mut added = false;
        for requirement in checkboxes(issue) {
            if fronts
                .iter()
                .any(|front| front.requirement == requirement.id.0)
            {
                continue;
            }
            let id = format!("task-{next}");
            next += 1;
            self.write_task(&TaskFile {
                front: TaskFront {
                    id: id.clone(),
                    iteration,
                    kind: "Sequential".to_owned(),
                    created_at: now(),
                    requirement: requirement.id.0.clone(),
                },
                title: requirement.text.clone(),
                files: requirement
                    .components
                    .iter()
                    .map(|component| component.name.clone())
                    .collect(),
                objective: requirement.text.clone(),
                success_criteria: vec![
                    requirement.text.clone(),
                    "Every check passes on the committed change".to_owned(),
                ],
                depends_on: Vec::new(),
            })?;
            board.add(&id, iteration);
            if requirement.done {
                board.set(&id, TaskStatus::Done, iteration, &now());
            }
            added = true;
        }
        if added || self.read("plan.md")?.is_none() {
            let tasks = self.tasks()?;
            let lines: Vec<String> = tasks
                .iter()
                .map(|front| format!("- {}: {}", front.id, self.requirement_text(issue, front)))
                .collect();
            if self.read("plan.md")?.is_none() {
                self.write(
                    "plan.md",
                    &format!(
                        "# Plan for #{}: {}\n\n{}\n\n## Tasks\n{}\n",
                        issue.number,
                        issue.title,
                        match self.metadata.loop_kind {
                            LoopKind::Simple => "One task a checkbox of the issue, worked through in iterations of plan → implement → commit → checks; a failure is fed back into the next iteration's plan.",
                            LoopKind::Marketplace => "One task a checkbox of the issue. Each round the bidders propose, the winner's plan is added below and implemented; a failure starts a replan round.",
                        },
                        lines.join("\n")
                    ),
                )?;
            }
            self.write_progress(&board)?;
        }
        Ok(board)
    }

    /// The checkbox text of `front`'s requirement in `issue`.
    pub fn requirement_text(&self, issue: &Issue, front: &TaskFront) -> String {
        checkboxes(issue)
            .into_iter()
            .find(|requirement| requirement.id.0 == front.requirement)
            .map_or_else(
                || "(no longer in the issue)".to_owned(),
                |requirement| requirement.text,
            )
    }

    /// Writes `progress.md` with the table of iterations.
    pub fn write_progress(&self, board: &TaskBoard) -> Result<(), SessionError> {
        let mut rows = Vec::new();
        for number in 1..=self.metadata.iteration {
            let Some(metadata) = self.iteration(number)? else {
                continue;
            };
            let feedbacks = std::fs::read_dir(self.path(&format!("iterations/{number}/feedbacks")))
                .map(|entries| {
                    let mut names: Vec<String> = entries
                        .filter_map(Result::ok)
                        .map(|entry| entry.file_name().to_string_lossy().into_owned())
                        .collect();
                    names.sort();
                    names
                })
                .unwrap_or_default();
            rows.push(IterationRow {
                iteration: number,
                status: metadata
                    .outcome
                    .clone()
                    .unwrap_or_else(|| "in progress".to_owned()),
                done: metadata.tasks_done,
                tasks: metadata.tasks_defined,
                feedbacks,
            });
        }
        self.write_board(board, &rows)
    }

    /// The tasks to work on: open, with their checkbox still unticked.
    pub fn open_tasks(&self, issue: &Issue, board: &TaskBoard) -> Vec<String> {
        let Ok(fronts) = self.tasks() else {
            return Vec::new();
        };
        let checkboxes = checkboxes(issue);
        board
            .with_status(TaskStatus::Open)
            .into_iter()
            .filter(|id| {
                task_checkbox(&fronts, &checkboxes, id).is_some_and(|requirement| !requirement.done)
            })
            .collect()
    }
}

/// The checkbox (among `checkboxes`) that task `id` works on.
pub fn task_checkbox<'a>(
    fronts: &[TaskFront],
    checkboxes: &'a [Requirement],
    id: &str,
) -> Option<&'a Requirement> {
    let front = fronts.iter().find(|front| front.id == id)?;
    checkboxes
        .iter()
        .find(|requirement| requirement.id.0 == front.requirement)
}

/// The checkboxes of `issue`.
pub fn checkboxes(issue: &Issue) -> Vec<Requirement> {
    issue
        .requirements()
        .into_iter()
        .filter(|requirement| requirement.kind == RequirementKind::Checkbox)
        .collect()
}

/// `task-2` before `task-10`.
fn task_order(id: &str) -> (u64, String) {
    let number = id
        .rsplit('-')
        .next()
        .and_then(|tail| tail.parse().ok())
        .unwrap_or(u64::MAX);
    (number, id.to_owned())
}

fn read_yaml<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, SessionError> {
    let text = std::fs::read_to_string(path).map_err(|error| SessionError::io(path, &error))?;
    serde_saphyr::from_str(&text).map_err(|error| SessionError::new(path, error.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_lines_read_back_as_written() {
        let mut board = TaskBoard::default();
        board.add("task-1", 1);
        board.add("task-2", 1);
        board.set("task-1", TaskStatus::Done, 1, "2026-12-03T10:00:00Z");
        board.set("task-2", TaskStatus::Failed, 1, "2026-12-03T10:30:00Z");
        assert_eq!(
            board.reset_failed(2, "2026-12-03T11:00:00Z"),
            vec!["task-2"]
        );
        let text: Vec<String> = board.lines.iter().map(TaskLine::render).collect();
        assert_eq!(
            text,
            vec![
                "- [x] task-1 (Attempt 1, Iteration 1, qualified: 2026-12-03T10:00:00Z)",
                "- [F] task-2 (Attempt 1, Iteration 1, failed: 2026-12-03T10:30:00Z)",
                "- [ ] task-2 (Attempt 2, Iteration 2, reset: 2026-12-03T11:00:00Z)",
            ]
        );
        assert_eq!(TaskBoard::parse(&text.join("\n")), board);
        assert_eq!(board.with_status(TaskStatus::Open), vec!["task-2"]);
        assert_eq!(board.attempt("task-2"), 2);
    }

    #[test]
    fn a_session_is_found_again_until_it_is_complete() {
        let repository = tempfile::tempdir().expect("temp dir");
        let mut session = SessionDir::create(repository.path(), 4, LoopKind::Simple, "ralph/4-x")
            .expect("create");
        let found = SessionDir::unfinished(repository.path(), 4, LoopKind::Simple)
            .expect("list")
            .expect("found");
        assert_eq!(found.metadata, session.metadata);
        assert!(
            SessionDir::unfinished(repository.path(), 4, LoopKind::Marketplace)
                .expect("list")
                .is_none()
        );
        session.set_state(State::Complete).expect("state");
        assert!(
            SessionDir::unfinished(repository.path(), 4, LoopKind::Simple)
                .expect("list")
                .is_none()
        );
    }

    #[test]
    fn a_metadata_file_that_does_not_parse_is_named_and_kept() {
        let repository = tempfile::tempdir().expect("temp dir");
        let session = SessionDir::create(repository.path(), 4, LoopKind::Simple, "ralph/4-x")
            .expect("create");
        let path = session.path("metadata.yaml");
        std::fs::write(&path, "session_id: [unclosed\n").expect("write");
        let error =
            SessionDir::unfinished(repository.path(), 4, LoopKind::Simple).expect_err("refused");
        assert_eq!(error.path, path);
        assert_eq!(
            std::fs::read_to_string(&path).expect("read"),
            "session_id: [unclosed\n"
        );
    }

    #[test]
    fn task_files_round_trip_their_front_matter() {
        let repository = tempfile::tempdir().expect("temp dir");
        let session = SessionDir::create(repository.path(), 4, LoopKind::Simple, "ralph/4-x")
            .expect("create");
        let task = |number: u32| TaskFile {
            front: TaskFront {
                id: format!("task-{number}"),
                iteration: 1,
                kind: "Sequential".to_owned(),
                created_at: "2026-12-03T10:00:00Z".to_owned(),
                requirement: format!("checkbox:0000000{number}"),
            },
            title: "Add `two`: it returns 2".to_owned(),
            files: vec!["src/lib.rs".to_owned()],
            objective: "Add `two`".to_owned(),
            success_criteria: vec!["Add `two`".to_owned(), "The checks pass".to_owned()],
            depends_on: Vec::new(),
        };
        for number in [10, 2] {
            session.write_task(&task(number)).expect("task");
        }
        let fronts = session.tasks().expect("tasks");
        assert_eq!(fronts, vec![task(2).front, task(10).front]);
    }
}
