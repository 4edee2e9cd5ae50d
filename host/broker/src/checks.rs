//! Command checks: format, lint, type-check, dead-code, complexity, tests
//! and custom commands, each run on its own with a timeout (SPEC §4 step 5).
//!
//! Checks run once on the unchanged baseline and again on the change. A
//! check that fails on the change counts against it when it passed before,
//! or when it reports something the baseline did not (a new diagnostic, a
//! newly failing test: [`findings`]).

pub mod findings;

use std::io::Read;
use std::path::Path;
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::confinement::{Confinement, Launch, Role};

/// How much of a check's output is kept (its tail) for steps and records.
pub const OUTPUT_LIMIT: usize = 16 * 1024;
/// How much of each of a check's streams is read for its findings and kept
/// for its full-output file (the tail, when it says more).
pub const FULL_OUTPUT_LIMIT: usize = 4 * 1024 * 1024;
/// The timeout when the config gives none.
pub const DEFAULT_TIMEOUT_SECONDS: u64 = 600;

/// What kind of verification a check is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Format,
    Lint,
    TypeCheck,
    DeadCode,
    Complexity,
    Test,
    Custom,
}

impl Category {
    /// True for the quality checks that count toward technical quality
    /// (everything but tests).
    pub fn is_quality(self) -> bool {
        !matches!(self, Category::Test)
    }
}

/// One command check from `.ralph/config.json` (`checks`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandCheck {
    pub name: String,
    /// The program and its arguments; run in the worktree, no shell.
    pub argv: Vec<String>,
    pub category: Category,
    #[serde(default = "default_timeout")]
    pub timeout_seconds: u64,
}

fn default_timeout() -> u64 {
    DEFAULT_TIMEOUT_SECONDS
}

/// How one run of a check ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Passed,
    Failed {
        exit_code: Option<i32>,
    },
    TimedOut,
    /// The program could not be started (missing tool, bad argv).
    NotRun {
        reason: String,
    },
}

/// One run of one check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckRun {
    pub name: String,
    pub category: Category,
    pub verdict: Verdict,
    pub duration_ms: u64,
    /// The tail of standard output and standard error, one after the other.
    pub output: String,
    /// What it reported ([`findings::of_output`] of its whole output).
    #[serde(default)]
    pub findings: Vec<String>,
    /// Its whole output (up to [`FULL_OUTPUT_LIMIT`] per stream), for the
    /// full-output file of a failure report; never serialized.
    #[serde(skip)]
    pub full_output: String,
    /// Its standard output alone (up to [`FULL_OUTPUT_LIMIT`]): a `command`
    /// implementer's final answer; never serialized.
    #[serde(skip)]
    pub stdout: String,
}

impl CheckRun {
    /// A run that printed `output`, its findings read from it.
    pub fn new(
        name: &str,
        category: Category,
        verdict: Verdict,
        duration_ms: u64,
        output: String,
    ) -> CheckRun {
        CheckRun {
            name: name.to_owned(),
            category,
            findings: findings::of_output(&output),
            output: tail(&output, OUTPUT_LIMIT).to_owned(),
            full_output: output,
            stdout: String::new(),
            verdict,
            duration_ms,
        }
    }

    /// A check that could not run, with why.
    pub fn not_run(name: &str, category: Category, reason: String) -> CheckRun {
        CheckRun::new(name, category, Verdict::NotRun { reason }, 0, String::new())
    }

    pub fn passed(&self) -> bool {
        self.verdict == Verdict::Passed
    }

    /// This run with every secret the host knows redacted from its output
    /// and its reason: a check runs the proposal's code, which may print
    /// them.
    pub fn redacted(mut self, redactor: &ralph_secrets::Redactor) -> CheckRun {
        self.output = redactor.redact(&self.output);
        self.full_output = redactor.redact(&self.full_output);
        self.stdout = redactor.redact(&self.stdout);
        for finding in &mut self.findings {
            *finding = redactor.redact(finding);
        }
        if let Verdict::NotRun { reason } = &mut self.verdict {
            *reason = redactor.redact(reason);
        }
        self
    }
}

/// The last lines a running check printed, for a live view: its streams'
/// readers keep them up to date.
#[derive(Clone, Debug, Default)]
pub struct LastLines(Arc<Mutex<Vec<String>>>);

/// How many lines [`LastLines`] keeps.
pub const LAST_LINES: usize = 3;

impl LastLines {
    /// The last lines printed so far (untrusted text), oldest first.
    pub fn lines(&self) -> Vec<String> {
        self.0.lock().map(|lines| lines.clone()).unwrap_or_default()
    }

    /// Takes the last complete lines of `kept`, a stream's output so far
    /// (of the two streams, the one that printed last is shown).
    fn update(&self, kept: &[u8]) {
        let recent = &kept[kept.len().saturating_sub(2048)..];
        let text = String::from_utf8_lossy(recent);
        let complete = match text.rfind('\n') {
            Some(end) => &text[..end],
            None => return,
        };
        let lines: Vec<String> = complete
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(str::to_owned)
            .collect();
        if lines.is_empty() {
            return;
        }
        if let Ok(mut shown) = self.0.lock() {
            let start = lines.len().saturating_sub(LAST_LINES);
            *shown = lines[start..].to_vec();
        }
    }
}

/// Runs `check` in `directory`, confined as a check (see
/// [`crate::confinement`]), killing it (and everything it started) when its
/// timeout passes.
#[cfg(test)]
pub fn run(check: &CommandCheck, directory: &Path, confinement: &Confinement) -> CheckRun {
    run_watched(check, directory, confinement, None)
}

/// [`run`], keeping `watch` up to date with the check's last lines.
pub fn run_watched(
    check: &CommandCheck,
    directory: &Path,
    confinement: &Confinement,
    watch: Option<&LastLines>,
) -> CheckRun {
    let launch = Launch {
        role: Role::Check,
        directory,
        read_only: &[],
    };
    run_launched(check, confinement, &launch, watch)
}

/// Runs `check`'s argv as `launch` says (a check, or the `command`
/// implementer), killing it with everything it started at its timeout.
pub(crate) fn run_as(
    check: &CommandCheck,
    confinement: &Confinement,
    launch: &Launch<'_>,
) -> CheckRun {
    run_launched(check, confinement, launch, None)
}

fn run_launched(
    check: &CommandCheck,
    confinement: &Confinement,
    launch: &Launch<'_>,
    watch: Option<&LastLines>,
) -> CheckRun {
    let started = Instant::now();
    let finish = |verdict, output| {
        let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        CheckRun::new(&check.name, check.category, verdict, duration_ms, output)
    };
    let Some((program, arguments)) = check.argv.split_first() else {
        return finish(
            Verdict::NotRun {
                reason: "the check's argv is empty".to_owned(),
            },
            String::new(),
        );
    };
    let not_run = |error: std::io::Error| Verdict::NotRun {
        reason: format!("cannot run `{program}`: {error}"),
    };
    let mut child = match confinement
        .command(program, arguments, launch)
        .and_then(|mut command| command.spawn())
    {
        Ok(child) => child,
        Err(error) => return finish(not_run(error), String::new()),
    };
    let (sender, receiver) = mpsc::channel();
    let readers: Vec<_> = [
        child
            .stdout
            .take()
            .map(|stream| Box::new(stream) as Box<dyn Read + Send>),
        child
            .stderr
            .take()
            .map(|stream| Box::new(stream) as Box<dyn Read + Send>),
    ]
    .into_iter()
    .enumerate()
    .filter_map(|(index, stream)| stream.map(|stream| (index, stream)))
    .map(|(index, stream)| {
        let sender = sender.clone();
        let watch = watch.cloned();
        std::thread::spawn(move || {
            let text = read_watched(stream, FULL_OUTPUT_LIMIT, watch.as_ref());
            let _ = sender.send((index, text));
        })
    })
    .collect();
    drop(sender);

    let deadline = started + Duration::from_secs(check.timeout_seconds);
    let verdict = wait(&mut child, deadline, program, confinement);
    // Children that inherited the pipes may keep them open; kill the group
    // so the readers see the end of the streams.
    kill_group(&mut child);
    // Standard output first, then standard error, whichever ended first.
    let mut streams: Vec<(usize, String)> = receiver.iter().collect();
    streams.sort_by_key(|(index, _)| *index);
    for reader in readers {
        let _ = reader.join();
    }
    let stdout = streams
        .iter()
        .find(|(index, _)| *index == 0)
        .map(|(_, text)| text.clone())
        .unwrap_or_default();
    let output: Vec<String> = streams.into_iter().map(|(_, text)| text).collect();
    let mut run = finish(verdict, output.join("\n"));
    run.stdout = stdout;
    run
}

/// Waits for the check to end, killing it at `deadline` or as soon as the
/// user asks the loop to stop.
fn wait(
    child: &mut std::process::Child,
    deadline: Instant,
    program: &str,
    confinement: &Confinement,
) -> Verdict {
    loop {
        if confinement.stop_requested() {
            kill_group(child);
            return Verdict::NotRun {
                reason: format!("`{program}` was stopped: the loop was asked to stop"),
            };
        }
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return Verdict::Passed,
            Ok(Some(status)) => {
                return Verdict::Failed {
                    exit_code: status.code(),
                };
            }
            Ok(None) if Instant::now() >= deadline => {
                kill_group(child);
                return Verdict::TimedOut;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(error) => {
                kill_group(child);
                return Verdict::NotRun {
                    reason: format!("lost track of `{program}`: {error}"),
                };
            }
        }
    }
}

/// Kills the check's process group (the check and whatever it started).
pub(crate) fn kill_group(child: &mut std::process::Child) {
    #[cfg(unix)]
    if let Ok(id) = i32::try_from(child.id()) {
        let _ = nix::sys::signal::killpg(
            nix::unistd::Pid::from_raw(id),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Reads a stream to its end, keeping the last `limit` bytes.
pub(crate) fn read_tail(stream: impl Read, limit: usize) -> String {
    read_watched(stream, limit, None)
}

/// [`read_tail`], keeping `watch` up to date with the last lines read.
fn read_watched(mut stream: impl Read, limit: usize, watch: Option<&LastLines>) -> String {
    let mut kept: Vec<u8> = Vec::new();
    let mut buffer = [0u8; 8192];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(read) => {
                kept.extend_from_slice(&buffer[..read]);
                if let Some(watch) = watch {
                    watch.update(&kept);
                }
                if kept.len() > 2 * limit {
                    kept.drain(..kept.len() - limit);
                }
            }
        }
    }
    if kept.len() > limit {
        kept.drain(..kept.len() - limit);
    }
    String::from_utf8_lossy(&kept).into_owned()
}

/// The last `limit` bytes of `text`, on a character boundary.
pub fn tail(text: &str, limit: usize) -> &str {
    if text.len() <= limit {
        return text;
    }
    let mut start = text.len() - limit;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}

/// A check's result on the change, judged against its baseline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Judged {
    pub run: CheckRun,
    /// Whether it passed on the unchanged baseline (a check with no
    /// baseline run, a check plugin, counts as having passed).
    pub passed_before: bool,
    /// When it failed on the baseline too: what it reports now that it did
    /// not then (and a timeout where the baseline ended by itself).
    #[serde(default)]
    pub new_findings: Vec<String>,
}

impl Judged {
    /// A failure counts against the change if the baseline passed, or if
    /// the change made the check report something new.
    pub fn counts_against(&self) -> bool {
        !self.run.passed() && (self.passed_before || !self.new_findings.is_empty())
    }
}

/// Judges one run on the change against the same check's baseline run.
pub fn judge_one(baseline: &[CheckRun], run: CheckRun) -> Judged {
    // Everything after this (progress, failure reports, records) sees the
    // output redacted.
    let run = run.redacted(ralph_secrets::host());
    let before = baseline.iter().find(|before| before.name == run.name);
    let passed_before = before.is_none_or(CheckRun::passed);
    let new_findings = match before {
        Some(before) if !before.passed() && !run.passed() => {
            let mut new = findings::new_in(&before.findings, &run.findings);
            if run.verdict == Verdict::TimedOut && before.verdict != Verdict::TimedOut {
                new.insert(
                    0,
                    "timed out (it ended by itself on the baseline)".to_owned(),
                );
            }
            new
        }
        _ => Vec::new(),
    };
    Judged {
        run,
        passed_before,
        new_findings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pairs each run on the change with the same check's baseline run.
    fn judge(baseline: &[CheckRun], change: Vec<CheckRun>) -> Vec<Judged> {
        change
            .into_iter()
            .map(|run| judge_one(baseline, run))
            .collect()
    }

    /// The loop's default: bubblewrap where it works.
    fn sandbox(directory: &Path) -> Confinement {
        Confinement::new(crate::confinement::Sandbox::Bubblewrap, directory)
    }

    fn check(argv: &[&str], timeout_seconds: u64) -> CommandCheck {
        CommandCheck {
            name: "probe".to_owned(),
            argv: argv.iter().map(|part| (*part).to_owned()).collect(),
            category: Category::Test,
            timeout_seconds,
        }
    }

    #[test]
    fn a_passing_command_passes_and_its_output_is_kept() {
        let directory = tempfile::tempdir().expect("temp dir");
        let run = run(
            &check(&["sh", "-c", "echo hello; echo oops >&2"], 10),
            directory.path(),
            &sandbox(directory.path()),
        );
        assert_eq!(run.verdict, Verdict::Passed);
        assert!(
            run.output.contains("hello") && run.output.contains("oops"),
            "{}",
            run.output
        );
    }

    #[test]
    fn a_failing_command_fails_with_its_exit_code() {
        let directory = tempfile::tempdir().expect("temp dir");
        let run = run(
            &check(&["sh", "-c", "exit 3"], 10),
            directory.path(),
            &sandbox(directory.path()),
        );
        assert_eq!(run.verdict, Verdict::Failed { exit_code: Some(3) });
    }

    #[test]
    fn a_check_runs_in_the_worktree() {
        let directory = tempfile::tempdir().expect("temp dir");
        std::fs::write(directory.path().join("marker"), "").expect("write");
        let run = run(
            &check(&["test", "-f", "marker"], 10),
            directory.path(),
            &sandbox(directory.path()),
        );
        assert!(run.passed());
    }

    #[test]
    fn a_hanging_check_is_killed_with_everything_it_started() {
        let directory = tempfile::tempdir().expect("temp dir");
        let started = Instant::now();
        // The grandchild holds the output pipe open; only killing the
        // group lets the run end.
        let run = run(
            &check(&["sh", "-c", "sleep 30 & sleep 30"], 1),
            directory.path(),
            &sandbox(directory.path()),
        );
        assert_eq!(run.verdict, Verdict::TimedOut);
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn a_watched_check_shows_its_last_lines_while_it_runs() {
        let directory = tempfile::tempdir().expect("temp dir");
        let watch = LastLines::default();
        let seen = watch.clone();
        let watcher = std::thread::spawn(move || {
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(20) {
                if seen.lines().last().is_some_and(|line| line == "step 4") {
                    return seen.lines();
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            seen.lines()
        });
        let script = "for i in 1 2 3 4; do echo step $i; done; sleep 1; echo done";
        let run = run_watched(
            &check(&["sh", "-c", script], 20),
            directory.path(),
            &sandbox(directory.path()),
            Some(&watch),
        );
        assert!(run.passed(), "{run:?}");
        assert_eq!(
            watcher.join().expect("watcher"),
            ["step 2", "step 3", "step 4"]
        );
        assert_eq!(watch.lines(), ["step 3", "step 4", "done"]);
    }

    #[test]
    fn a_stop_ends_a_running_check_at_once() {
        let directory = tempfile::tempdir().expect("temp dir");
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let confinement = sandbox(directory.path()).stopping_on(stop.clone());
        let started = Instant::now();
        let stopper = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            stop.store(true, std::sync::atomic::Ordering::SeqCst);
        });
        let run = run(&check(&["sleep", "30"], 60), directory.path(), &confinement);
        stopper.join().expect("stopper");
        assert!(
            matches!(&run.verdict, Verdict::NotRun { reason } if reason.contains("stopped")),
            "{run:?}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn a_check_sees_no_credential_from_the_environment() {
        let directory = tempfile::tempdir().expect("temp dir");
        let confinement = Confinement::with_environment(
            crate::confinement::Sandbox::Bubblewrap,
            directory.path(),
            vec![
                ("PATH".into(), std::env::var_os("PATH").unwrap_or_default()),
                ("ANTHROPIC_API_KEY".into(), "sk-ant-planted-value".into()),
                ("GITHUB_TOKEN".into(), "ghp_planted_value".into()),
            ],
        );
        let run = run(&check(&["env"], 10), directory.path(), &confinement);
        assert!(run.passed(), "{run:?}");
        assert!(run.output.contains("PATH="), "{}", run.output);
        assert!(!run.output.contains("planted"), "{}", run.output);
    }

    #[test]
    fn a_check_writes_only_its_worktree_when_bubblewrap_works() {
        let directory = tempfile::tempdir().expect("temp dir");
        let outside = tempfile::tempdir().expect("temp dir");
        let target = outside.path().join("written-by-the-check");
        let confinement = sandbox(directory.path());
        let script = format!("echo x > inside; echo x > '{}'; true", target.display());
        let run = run(
            &check(&["sh", "-c", &script], 10),
            directory.path(),
            &confinement,
        );
        assert!(run.passed(), "{run:?}");
        assert!(directory.path().join("inside").exists(), "{run:?}");
        match confinement.kind() {
            crate::confinement::SandboxKind::Bubblewrap => {
                assert!(!target.exists(), "the check wrote outside its worktree");
            }
            kind => assert!(target.exists(), "{kind:?} runs the check unconfined"),
        }
    }

    #[test]
    fn a_missing_tool_is_reported_not_run() {
        let directory = tempfile::tempdir().expect("temp dir");
        let run = run(
            &check(&["ralph-no-such-tool"], 10),
            directory.path(),
            &sandbox(directory.path()),
        );
        match run.verdict {
            Verdict::NotRun { reason } => assert!(reason.contains("ralph-no-such-tool")),
            other => panic!("expected not run, got {other:?}"),
        }
        let empty = super::run(
            &check(&[], 10),
            directory.path(),
            &sandbox(directory.path()),
        );
        assert!(matches!(empty.verdict, Verdict::NotRun { .. }));
    }

    #[test]
    fn output_keeps_only_the_tail() {
        let directory = tempfile::tempdir().expect("temp dir");
        let script = "head -c 100000 /dev/zero | tr '\\0' a; echo END";
        let run = run(
            &check(&["sh", "-c", script], 10),
            directory.path(),
            &sandbox(directory.path()),
        );
        assert!(run.output.len() <= OUTPUT_LIMIT + 1);
        assert!(run.output.trim_end().ends_with("END"));
    }

    fn outcome(name: &str, passed: bool, output: &str) -> CheckRun {
        let verdict = if passed {
            Verdict::Passed
        } else {
            Verdict::Failed { exit_code: Some(1) }
        };
        CheckRun::new(name, Category::Lint, verdict, 1, output.to_owned())
    }

    #[test]
    fn only_failures_the_change_introduced_count_against_it() {
        let baseline = [outcome("lint", true, ""), outcome("flaky", false, "")];
        let judged = judge(
            &baseline,
            vec![
                outcome("lint", false, ""),
                outcome("flaky", false, ""),
                outcome("new", false, ""),
            ],
        );
        let against: Vec<bool> = judged.iter().map(Judged::counts_against).collect();
        assert_eq!(against, [true, false, true]);
    }

    #[test]
    fn a_check_failing_before_counts_against_the_change_only_for_what_it_reports_anew() {
        let old = "error: old problem\n --> src/a.rs:1:1\n";
        let baseline = [outcome("clippy", false, old)];
        let same = judge_one(
            &baseline,
            outcome("clippy", false, "error: old problem\n --> src/a.rs:7:1\n"),
        );
        assert!(!same.counts_against(), "{same:?}");
        let worse = judge_one(
            &baseline,
            outcome(
                "clippy",
                false,
                &format!("{old}error: new problem\n --> src/b.rs:2:1\n"),
            ),
        );
        assert!(worse.counts_against());
        assert_eq!(worse.new_findings, ["error: new problem (src/b.rs)"]);
        let mut hung = outcome("clippy", false, old);
        hung.verdict = Verdict::TimedOut;
        let hung = judge_one(&baseline, hung);
        assert!(hung.counts_against());
        assert!(hung.new_findings[0].starts_with("timed out"), "{hung:?}");
    }

    #[test]
    fn a_check_config_reads_from_json_with_a_default_timeout() {
        let check: CommandCheck = serde_json::from_str(
            r#"{"name": "clippy", "argv": ["cargo", "clippy"], "category": "lint"}"#,
        )
        .expect("valid");
        assert_eq!(check.timeout_seconds, DEFAULT_TIMEOUT_SECONDS);
        assert!(check.category.is_quality());
        assert!(
            serde_json::from_str::<CommandCheck>(
                r#"{"name": "x", "argv": ["x"], "category": "vibes"}"#
            )
            .is_err()
        );
    }
}
