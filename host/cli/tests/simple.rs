//! The simple loop through the real binary (SPEC §8), on temporary git
//! repositories, with a stand-in for Claude Code: a script that reads its
//! prompt, really edits files in the worktree and prints Claude Code's
//! stream-json. What it does on each call comes from a script file the test
//! writes; it keeps every prompt it got, so the test can read them.

mod common;

use std::path::{Path, PathBuf};

use common::{Repository, git, text};
use serde_json::{Value, json};

/// The stand-in agent and the folder it keeps its calls in.
struct Agent {
    state: tempfile::TempDir,
    program: PathBuf,
}

impl Agent {
    /// An agent that does `steps[n]` on its `n`-th call (the last step
    /// again after that). A step: `edits` (path → content, written in the
    /// worktree), `result` (its final answer), `cost` (US dollars),
    /// `echo` (text printed as a tool result before the answer),
    /// `limited_for` (refuse with a usage limit that resets in that many
    /// seconds), `sleep` (seconds to take), `hang` (touch `agent-hangs` and
    /// sleep), `wait_for` (a file
    /// in its state folder to wait for first). Each call touches
    /// `started-<n>` in its state folder.
    fn new(steps: &Value) -> Agent {
        let state = tempfile::tempdir().expect("temp dir");
        std::fs::write(state.path().join("script.json"), steps.to_string()).expect("script");
        let program = state.path().join("claude");
        let source = STAND_IN.replace("@STATE@", &state.path().to_string_lossy());
        std::fs::write(&program, source).expect("write the stand-in");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        Agent { state, program }
    }

    fn calls(&self) -> usize {
        std::fs::read_to_string(self.state.path().join("calls"))
            .map(|text| text.trim().parse().expect("a count"))
            .unwrap_or(0)
    }

    /// Waits until call `n` (1-based) has started.
    fn wait_until_started(&self, n: usize) {
        let marker = self.state.path().join(format!("started-{n}"));
        let waited = std::time::Instant::now();
        while !marker.exists() {
            assert!(waited.elapsed().as_secs() < 120, "call {n} never started");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// Lets a step with `wait_for: NAME` go on.
    fn release(&self, name: &str) {
        std::fs::write(self.state.path().join(name), "").expect("release");
    }

    /// The prompt of call `n` (1-based).
    fn prompt(&self, n: usize) -> String {
        std::fs::read_to_string(self.state.path().join(format!("prompt-{n}.md")))
            .expect("the prompt was kept")
    }
}

const STAND_IN: &str = r#"#!/usr/bin/env python3
import json, os, sys, time
STATE = "@STATE@"
steps = json.load(open(os.path.join(STATE, "script.json")))
counter = os.path.join(STATE, "calls")
n = int(open(counter).read()) if os.path.exists(counter) else 0
open(counter, "w").write(str(n + 1))
prompt = sys.stdin.read()
open(os.path.join(STATE, "prompt-%d.md" % (n + 1)), "w").write(prompt)
step = steps[min(n, len(steps) - 1)]
open(os.path.join(STATE, "started-%d" % (n + 1)), "w").close()
if "wait_for" in step:
    while not os.path.exists(os.path.join(STATE, step["wait_for"])):
        time.sleep(0.05)
def emit(event):
    print(json.dumps(event), flush=True)
emit({"type": "system", "subtype": "init", "session_id": "stand-in"})
if "echo" in step:
    emit({"type": "user", "message": {"content": [{"type": "tool_result", "content": step["echo"]}]}})
if "limited_for" in step:
    emit({"type": "rate_limit_event", "rate_limit_info": {"status": "rejected", "resetsAt": int(time.time()) + step["limited_for"], "rateLimitType": "five_hour"}})
    emit({"type": "result", "subtype": "success", "is_error": True, "result": "You've hit your limit", "total_cost_usd": 0, "num_turns": 1})
    sys.exit(1)
if "sleep" in step:
    time.sleep(step["sleep"])
if step.get("hang"):
    open("agent-hangs", "w").close()
    time.sleep(600)
for path, content in step.get("edits", {}).items():
    if os.path.dirname(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
    open(path, "w").write(content)
emit({"type": "assistant", "message": {"content": [{"type": "text", "text": "Working on it."}]}})
emit({"type": "result", "subtype": "success", "is_error": False, "result": step.get("result", ""), "total_cost_usd": step.get("cost", 0.01), "num_turns": 2, "usage": {"input_tokens": 100, "output_tokens": 50, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}})
"#;

/// A check that passes when `src/lib.rs` holds every one of `needles`.
fn contains_check(name: &str, needles: &[&str]) -> Value {
    let tests: Vec<String> = needles
        .iter()
        .map(|needle| {
            format!(
                "grep -q '{needle}' src/lib.rs || {{ echo 'FAILED: {needle} is missing'; exit 1; }}"
            )
        })
        .collect();
    json!({"name": name, "argv": ["sh", "-c", tests.join("; ")], "category": "test", "timeout_seconds": 60})
}

/// A repository whose issue #1 asks for `two` and `three` in src/lib.rs,
/// with `checks` and the stand-in `agent` as the simple loop's implementer.
fn repository(agent: &Agent, checks: Value) -> Repository {
    let config = json!({
        "checks": checks,
        "sandbox": {"kind": "none"},
        "simple": {
            "implementer": {"kind": "claude_code", "program": agent.program, "idle_timeout_seconds": 600, "timeout_seconds": 1800},
            "max_iterations": 4
        }
    });
    Repository::for_loop(
        &[("src/lib.rs", "pub fn one() -> u32 {\n    1\n}\n")],
        &config,
        &["Add `two`", "Add `three`"],
    )
}

fn report(done: &[&str], complete: bool) -> String {
    format!(
        "Done.\n\n```json\n{}\n```\n",
        json!({"done": done, "complete": complete, "notes": format!("did {}", done.join(" and "))})
    )
}

const TWO: &str = "pub fn one() -> u32 {\n    1\n}\n\npub fn two() -> u32 {\n    2\n}\n";
const THREE: &str = "pub fn one() -> u32 {\n    1\n}\n\npub fn two() -> u32 {\n    2\n}\n\npub fn three() -> u32 {\n    3\n}\n";

/// `ralph simple loop 1 --json ARGS`: its output and steps.
fn run_loop(repository: &Repository, args: &[&str]) -> (std::process::Output, Vec<Value>) {
    let mut all = vec!["simple", "loop", "1", "--json"];
    all.extend_from_slice(args);
    let output = repository.ralph(&all);
    let steps = text(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    (output, steps)
}

fn steps_named<'a>(steps: &'a [Value], name: &str) -> Vec<&'a Value> {
    steps.iter().filter(|step| step["step"] == name).collect()
}

/// The only session of the repository.
fn session(repository: &Repository) -> PathBuf {
    let all = repository.path().join(".ralph-sessions");
    let mut sessions: Vec<PathBuf> = std::fs::read_dir(&all)
        .expect("a sessions folder")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.is_dir())
        .collect();
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    sessions.remove(0)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

fn issue(repository: &Repository) -> String {
    read(&repository.path().join(".ralph/issues/1.md"))
}

#[test]
fn two_iterations_tick_both_checkboxes_and_write_the_record() {
    let agent = Agent::new(&json!([
        {"edits": {"src/lib.rs": TWO}, "result": report(&["task-1"], false), "cost": 0.25},
        {"edits": {"src/lib.rs": THREE}, "result": report(&["task-2"], true), "cost": 0.5},
    ]));
    let repository = repository(&agent, json!([contains_check("tests", &["one"])]));
    let (output, steps) = run_loop(&repository, &[]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(agent.calls(), 2);
    // The first prompt names both tasks by id; the second only the open one.
    assert!(
        agent
            .prompt(1)
            .contains("- task-1: Add `two`\n- task-2: Add `three`"),
        "{}",
        agent.prompt(1)
    );
    assert!(
        agent
            .prompt(2)
            .contains("### Open tasks\n- task-2: Add `three`"),
        "{}",
        agent.prompt(2)
    );
    assert!(
        agent
            .prompt(2)
            .contains("### Done already\n- task-1: Add `two`")
    );
    assert_eq!(steps_named(&steps, "iteration_started").len(), 2);
    let finished = steps_named(&steps, "finished");
    assert_eq!(finished[0]["status"], "complete");
    // The issue is ticked and finished; the record is written.
    let issue = issue(&repository);
    assert!(
        issue.contains("- [x] Add `two`") && issue.contains("- [x] Add `three`"),
        "{issue}"
    );
    let record = read(&repository.path().join(".ralph/pulls/1.md"));
    assert!(record.contains("Closes #1"), "{record}");
    // One commit an iteration, on the issue's branch, with its trailers.
    let log = git(
        repository.path(),
        &["log", "--format=%s%n%b", "ralph/1-add-numbers"],
    );
    assert!(
        log.contains("Add `two`") && log.contains("Add `three`"),
        "{log}"
    );
    assert!(log.contains("Ralph-Iteration: 2"), "{log}");
    // The session tells what happened.
    let session = session(&repository);
    let metadata = read(&session.join("metadata.yaml"));
    assert!(metadata.contains("state: COMPLETE"), "{metadata}");
    assert!(metadata.contains("loop: simple"), "{metadata}");
    assert!(metadata.contains("cost_usd: 0.75"), "{metadata}");
    let progress = read(&session.join("progress.md"));
    assert!(
        progress.contains("- [x] task-1 (Attempt 1, Iteration 1, qualified: "),
        "{progress}"
    );
    assert!(
        progress.contains("- [x] task-2 (Attempt 1, Iteration 2, qualified: "),
        "{progress}"
    );
    assert!(progress.contains("state: COMPLETE"), "{progress}");
    for file in [
        "plan.md",
        "plan.iteration-1.md",
        "plan.iteration-2.md",
        "tasks/task-1.md",
        "tasks/task-2.md",
        "reports/task-1-report.md",
        "reports/task-2-report.md",
        "iterations/1/metadata.yaml",
        "iterations/1/review.md",
        "iterations/2/metadata.yaml",
    ] {
        assert!(session.join(file).is_file(), "{file} is missing");
    }
    let iteration = read(&session.join("iterations/2/metadata.yaml"));
    for field in [
        "started_at:",
        "planning_completed_at:",
        "completed_at:",
        "tasks_defined: 2",
    ] {
        assert!(iteration.contains(field), "{field} in {iteration}");
    }
    let task = read(&session.join("tasks/task-1.md"));
    assert!(
        task.starts_with("---\nid: task-1\niteration: 1\ntype: Sequential\ncreated_at: "),
        "{task}"
    );
    // Sessions are git-ignored by setup.
    assert_eq!(
        git(
            repository.path(),
            &["status", "--porcelain", "--", ".ralph-sessions"]
        ),
        ""
    );
}

#[test]
fn a_failing_check_feeds_back_replans_and_then_succeeds() {
    let agent = Agent::new(&json!([
        // Says it added both, but `three` is missing: the check fails.
        {"edits": {"src/lib.rs": TWO}, "result": report(&["task-1", "task-2"], true)},
        {"edits": {"src/lib.rs": THREE}, "result": report(&["task-1", "task-2"], true)},
    ]));
    let repository = repository(&agent, json!([contains_check("tests", &["two", "three"])]));
    let (output, steps) = run_loop(&repository, &[]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(agent.calls(), 2);
    let replanned = steps_named(&steps, "replanned");
    assert_eq!(replanned.len(), 1, "{steps:?}");
    assert_eq!(replanned[0]["reset"], json!(["task-1", "task-2"]));
    // The second prompt carries the failing check's reason.
    assert!(
        agent.prompt(2).contains("FAILED: three is missing"),
        "{}",
        agent.prompt(2)
    );
    let session = session(&repository);
    // The feedback folder: feedbacks.md and the check's whole output.
    let feedbacks: Vec<PathBuf> = std::fs::read_dir(session.join("iterations/2/feedbacks"))
        .expect("a feedback folder")
        .map(|entry| entry.expect("entry").path())
        .collect();
    assert_eq!(feedbacks.len(), 1);
    let feedback = read(&feedbacks[0].join("feedbacks.md"));
    assert!(feedback.contains("FAILED: three is missing"), "{feedback}");
    let artifacts: Vec<String> = std::fs::read_dir(&feedbacks[0])
        .expect("read")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert!(
        artifacts.iter().any(|name| name.starts_with("tests")),
        "{artifacts:?}"
    );
    for file in [
        "iterations/2/replanning/delta.md",
        "iterations/2/replanning/rationale.md",
    ] {
        assert!(session.join(file).is_file(), "{file} is missing");
    }
    assert!(
        read(&session.join("iterations/2/replanning/delta.md"))
            .contains("task-2: failed → open again (attempt 2)")
    );
    assert!(read(&session.join("plan.md")).contains("## Replanning for iteration 2"));
    // The plan iteration 1 worked to is kept as it was.
    assert!(!read(&session.join("plan.iteration-1.md")).contains("Replanning"));
    assert!(read(&session.join("plan.iteration-2.md")).contains("Replanning for iteration 2"));
    let progress = read(&session.join("progress.md"));
    assert!(
        progress.contains("- [F] task-2 (Attempt 1, Iteration 1, failed: "),
        "{progress}"
    );
    assert!(
        progress.contains("- [x] task-2 (Attempt 2, Iteration 2, qualified: "),
        "{progress}"
    );
    // The rework's report is the second one.
    assert!(session.join("reports/task-2-report-r2.md").is_file());
}

#[test]
fn the_promise_in_echoed_input_or_with_a_failing_check_is_not_completion() {
    let echoed = format!(
        "I read the instructions, which say: output {} when done. Not done yet.",
        "<promise>COMPLETE</promise>"
    );
    let agent = Agent::new(&json!([
        // Both tasks, no JSON report, the promise only in the middle.
        {"edits": {"src/lib.rs": THREE}, "echo": "<promise>COMPLETE</promise>", "result": echoed},
        // The promise as the last line, but a check fails.
        {"edits": {"src/lib.rs": THREE}, "result": "All done.\n<promise>COMPLETE</promise>"},
    ]));
    let always_fails_after_the_first = json!({
        "name": "second-run-fails",
        "argv": ["sh", "-c", "git log --oneline | grep -q 'Add `two`' && { echo 'FAILED: broke on the second change'; exit 1; }; exit 0"],
        "category": "test",
        "timeout_seconds": 60
    });
    let repository = repository(&agent, json!([always_fails_after_the_first]));
    let (output, steps) = run_loop(&repository, &[]);
    // Never complete: attention-needed once the iterations are spent.
    assert_eq!(output.status.code(), Some(3), "{}", text(&output.stderr));
    let finished = steps_named(&steps, "finished");
    assert_eq!(finished[0]["status"], "attention_needed");
    let reason = finished[0]["reason"].as_str().expect("a reason");
    assert!(reason.contains("simple.max_iterations (4)"), "{reason}");
    // The first change passed and (without a report) ticked both tasks,
    // but the echoed promise did not complete the issue.
    let reported = steps_named(&steps, "reported");
    assert_eq!(reported[0]["complete"], false);
    assert!(issue(&repository).contains("- [x] Add `three`"));
    assert_eq!(agent.calls(), 4);
    assert!(!repository.path().join(".ralph/pulls/1.md").exists());
}

#[test]
fn a_usage_limit_is_waited_out_without_spending_an_iteration() {
    let agent = Agent::new(&json!([
        {"limited_for": 1},
        {"edits": {"src/lib.rs": THREE}, "result": report(&["task-1", "task-2"], true)},
    ]));
    let config_checks = json!([contains_check("tests", &["three"])]);
    let repository = repository(&agent, config_checks);
    let (output, steps) = run_loop(&repository, &[]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let waiting = steps_named(&steps, "waiting");
    assert_eq!(waiting.len(), 1, "{steps:?}");
    assert!(waiting[0]["seconds"].as_u64().expect("seconds") <= 2);
    // Both calls were iteration 1.
    assert!(agent.prompt(2).contains("## Iteration 1 of at most 4"));
    let finished = steps_named(&steps, "finished");
    assert_eq!(finished[0]["budget_used"], 1);
}

#[test]
fn max_cost_stops_resumably_and_the_next_run_resumes_the_session() {
    let agent = Agent::new(&json!([
        {"edits": {"src/lib.rs": TWO}, "result": report(&["task-1"], false), "cost": 0.05},
        {"edits": {"src/lib.rs": THREE}, "result": report(&["task-2"], true), "cost": 0.05},
    ]));
    let repository = repository(&agent, json!([contains_check("tests", &["one"])]));
    let (output, steps) = run_loop(&repository, &["--max-cost", "0.04"]);
    assert_eq!(output.status.code(), Some(3), "{}", text(&output.stderr));
    let finished = steps_named(&steps, "finished");
    assert_eq!(finished[0]["status"], "limit_reached");
    assert!(
        finished[0]["reason"]
            .as_str()
            .expect("reason")
            .contains("--max-cost 0.04")
    );
    assert_eq!(agent.calls(), 1);
    let session_dir = session(&repository);
    assert!(read(&session_dir.join("metadata.yaml")).contains("state: STOPPED"));
    // Still the loop's: a re-run resumes without `ready`.
    assert!(issue(&repository).contains("in-progress"));
    let (output, steps) = run_loop(&repository, &[]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let opened = steps_named(&steps, "session_opened");
    assert_eq!(opened[0]["resumed"], true);
    assert_eq!(session(&repository), session_dir);
    assert!(agent.prompt(2).contains("## Iteration 2 of at most 4"));
    assert!(read(&session_dir.join("metadata.yaml")).contains("cost_usd: 0.1"));
}

#[test]
fn an_interrupted_run_resumes_its_iteration() {
    let agent = Agent::new(&json!([
        {"hang": true},
        {"edits": {"src/lib.rs": THREE}, "result": report(&["task-1", "task-2"], true)},
    ]));
    let repository = repository(&agent, json!([contains_check("tests", &["three"])]));
    let child = repository
        .command(&["simple", "loop", "1", "--json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let marker = repository.path().join(".ralph/worktrees/1/agent-hangs");
    let waited = std::time::Instant::now();
    while !marker.exists() {
        assert!(waited.elapsed().as_secs() < 120, "the agent never ran");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let output = child.wait_with_output().expect("wait");
    assert_eq!(output.status.code(), Some(130), "{}", text(&output.stderr));
    let session_dir = session(&repository);
    assert!(read(&session_dir.join("metadata.yaml")).contains("state: STOPPED"));
    assert!(read(&session_dir.join("progress.md")).contains("- [/] task-1"));
    let (output, steps) = run_loop(&repository, &[]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(steps_named(&steps, "session_opened")[0]["resumed"], true);
    // The interrupted iteration is worked on again, not skipped.
    assert!(agent.prompt(2).contains("## Iteration 1 of at most 4"));
    assert_eq!(session(&repository), session_dir);
}

#[test]
fn the_patch_implementer_and_a_bad_simple_section_are_config_errors() {
    let repository = Repository::for_loop(
        &[("src/lib.rs", "pub fn one() {}\n")],
        &json!({"checks": []}),
        &["Add `two`"],
    );
    let output = repository.ralph(&["simple", "loop", "1"]);
    assert_eq!(output.status.code(), Some(2));
    let error = text(&output.stderr);
    assert!(
        error.contains("field `implementer`") && error.contains("simple.implementer"),
        "{error}"
    );
    std::fs::write(
        repository.path().join(".ralph/config.json"),
        r#"{"simple": {"max_iterations": "ten"}}"#,
    )
    .expect("config");
    let output = repository.ralph(&["simple", "loop", "1"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("simple.max_iterations"),
        "{}",
        text(&output.stderr)
    );
    // Nothing was touched: the issue is still only `ready`.
    assert!(
        issue(&repository).contains("labels: [ready]"),
        "{}",
        issue(&repository)
    );
}

#[test]
fn a_check_that_already_failed_before_the_change_must_pass_too() {
    // `three` is missing before any change; the first change adds only
    // `two`, so the check fails as it did on the baseline. The marketplace
    // would not count that against the change; the simple loop may not
    // commit or complete on it.
    let agent = Agent::new(&json!([
        {"edits": {"src/lib.rs": TWO}, "result": report(&["task-1", "task-2"], true)},
        {"edits": {"src/lib.rs": THREE}, "result": report(&["task-1", "task-2"], true)},
    ]));
    let repository = repository(&agent, json!([contains_check("tests", &["three"])]));
    let (output, steps) = run_loop(&repository, &[]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(agent.calls(), 2);
    assert_eq!(steps_named(&steps, "ticked").len(), 1);
    let log = git(
        repository.path(),
        &["log", "--format=%s", "main..ralph/1-add-numbers"],
    );
    assert_eq!(log.lines().count(), 1, "{log}");
    assert!(agent.prompt(2).contains("FAILED: three is missing"));
}

/// `ralph simple loop 1 --json`, started.
fn spawn_loop(repository: &Repository) -> std::process::Child {
    repository
        .command(&["simple", "loop", "1", "--json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn")
}

fn signal(repository: &Repository, args: &[&str]) -> std::process::Output {
    let mut all = vec!["signal"];
    all.extend_from_slice(args);
    repository.ralph(&all)
}

fn steps_of(output: &std::process::Output) -> Vec<Value> {
    text(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect()
}

#[test]
fn a_steer_sent_while_the_agent_works_reaches_the_next_prompt_once() {
    let agent = Agent::new(&json!([
        {"wait_for": "go", "edits": {"src/lib.rs": TWO}, "result": report(&["task-1"], false)},
        {"edits": {"src/lib.rs": THREE}, "result": report(&["task-2"], true)},
    ]));
    let repository = repository(&agent, json!([contains_check("tests", &["one"])]));
    let child = spawn_loop(&repository);
    agent.wait_until_started(1);
    let sent = signal(
        &repository,
        &["steer", "--issue", "1", "use", "a", "const", "fn"],
    );
    assert!(sent.status.success(), "{}", text(&sent.stderr));
    assert!(
        text(&sent.stdout).contains("sent STEER to session"),
        "{}",
        text(&sent.stdout)
    );
    agent.release("go");
    let output = child.wait_with_output().expect("wait");
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(!agent.prompt(1).contains("use a const fn"));
    assert!(
        agent
            .prompt(2)
            .contains("<<<steer\nuse a const fn\n>>>steer"),
        "{}",
        agent.prompt(2)
    );
    let steps = steps_of(&output);
    let shown = steps_named(&steps, "signal");
    assert_eq!(shown.len(), 1, "acted on once: {shown:?}");
    assert_eq!(shown[0]["kind"], "steer");
    let mailbox = session(&repository).join("signals");
    assert_eq!(
        std::fs::read_dir(mailbox.join("inputs"))
            .expect("inputs")
            .count(),
        0
    );
    assert_eq!(
        std::fs::read_dir(mailbox.join("processed"))
            .expect("processed")
            .count(),
        1
    );
}

#[test]
fn pause_holds_the_loop_after_the_step_in_hand_until_resume() {
    let agent = Agent::new(&json!([
        {"wait_for": "go", "edits": {"src/lib.rs": TWO}, "result": report(&["task-1"], false)},
        {"edits": {"src/lib.rs": THREE}, "result": report(&["task-2"], true)},
    ]));
    let repository = repository(&agent, json!([contains_check("tests", &["one"])]));
    let child = spawn_loop(&repository);
    agent.wait_until_started(1);
    let sent = signal(&repository, &["pause", "--issue", "1"]);
    assert!(sent.status.success(), "{}", text(&sent.stderr));
    agent.release("go");
    // The step in hand finishes; then the session is PAUSED and nothing
    // else starts.
    let metadata = session(&repository).join("metadata.yaml");
    let waited = std::time::Instant::now();
    while !read(&metadata).contains("state: PAUSED") {
        assert!(
            waited.elapsed().as_secs() < 120,
            "never paused: {}",
            read(&metadata)
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(agent.calls(), 1);
    assert!(issue(&repository).contains("- [x] Add `two`"));
    let sent = signal(&repository, &["resume", "--issue", "1"]);
    assert!(sent.status.success(), "{}", text(&sent.stderr));
    let output = child.wait_with_output().expect("wait");
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(agent.calls(), 2);
    let kinds: Vec<Value> = steps_named(&steps_of(&output), "signal")
        .iter()
        .map(|step| step["kind"].clone())
        .collect();
    assert_eq!(kinds, vec![json!("pause"), json!("resume")]);
}

#[test]
fn stop_ends_the_loop_at_once_with_130_and_a_rerun_resumes() {
    let agent = Agent::new(&json!([
        {"wait_for": "never"},
        {"edits": {"src/lib.rs": THREE}, "result": report(&["task-1", "task-2"], true)},
    ]));
    let repository = repository(&agent, json!([contains_check("tests", &["three"])]));
    let child = spawn_loop(&repository);
    agent.wait_until_started(1);
    let stopped = std::time::Instant::now();
    let sent = signal(&repository, &["stop", "--issue", "1", "--json"]);
    assert!(sent.status.success(), "{}", text(&sent.stderr));
    let answer: Value = serde_json::from_slice(&sent.stdout).expect("JSON");
    assert_eq!(answer["signal"], "stop");
    let output = child.wait_with_output().expect("wait");
    assert_eq!(output.status.code(), Some(130), "{}", text(&output.stderr));
    // The waiting agent was ended, not waited for.
    assert!(stopped.elapsed() < std::time::Duration::from_secs(30));
    let session_dir = session(&repository);
    assert!(read(&session_dir.join("metadata.yaml")).contains("state: STOPPED"));
    let (output, steps) = run_loop(&repository, &[]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(steps_named(&steps, "session_opened")[0]["resumed"], true);
    assert!(agent.prompt(2).contains("## Iteration 1 of at most 4"));
}

#[test]
fn a_signal_for_no_running_loop_is_an_error_naming_the_issue() {
    let agent = Agent::new(&json!([{"result": ""}]));
    let repository = repository(&agent, json!([]));
    let sent = signal(&repository, &["steer", "--issue", "1", "hello"]);
    assert_eq!(sent.status.code(), Some(2));
    assert!(
        text(&sent.stderr).contains("issue #1"),
        "{}",
        text(&sent.stderr)
    );
    let sent = signal(&repository, &["steer", "--issue", "1"]);
    assert_eq!(sent.status.code(), Some(2));
    assert!(
        text(&sent.stderr).contains("STEER needs a MESSAGE"),
        "{}",
        text(&sent.stderr)
    );
    let sent = signal(&repository, &["pause"]);
    assert_eq!(sent.status.code(), Some(2));
    assert!(
        text(&sent.stderr).contains("no loop is running"),
        "{}",
        text(&sent.stderr)
    );
}

#[test]
fn the_repositorys_pre_commit_hook_judges_every_change_as_a_check() {
    let with_todo = format!("{TWO}// TODO: three\n");
    let agent = Agent::new(&json!([
        {"edits": {"src/lib.rs": with_todo}, "result": report(&["task-1"], false)},
        {"edits": {"src/lib.rs": THREE}, "result": report(&["task-1", "task-2"], true)},
    ]));
    let repository = repository(&agent, json!([]));
    let hook = repository.path().join(".git/hooks/pre-commit");
    std::fs::create_dir_all(hook.parent().expect("hooks")).expect("mkdir");
    std::fs::write(
        &hook,
        "#!/bin/sh\nif grep -q TODO src/lib.rs; then echo 'pre-commit: remove the TODO first'; exit 1; fi\n",
    )
    .expect("hook");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let (output, steps) = run_loop(&repository, &[]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let hook_runs: Vec<&Value> = steps_named(&steps, "check")
        .into_iter()
        .filter(|step| step["name"] == "pre-commit hook")
        .collect();
    assert_eq!(hook_runs.len(), 2, "{steps:?}");
    assert_eq!(hook_runs[0]["passed"], false);
    assert_eq!(hook_runs[1]["passed"], true);
    assert!(
        agent
            .prompt(2)
            .contains("pre-commit: remove the TODO first"),
        "{}",
        agent.prompt(2)
    );
    // Only the clean change was committed.
    let log = git(
        repository.path(),
        &["log", "-p", "main..ralph/1-add-numbers"],
    );
    assert!(!log.contains("TODO"), "{log}");
}

#[test]
fn max_runtime_stops_before_the_next_iteration_resumably() {
    let agent = Agent::new(&json!([
        {"sleep": 1.5, "edits": {"src/lib.rs": TWO}, "result": report(&["task-1"], false)},
        {"edits": {"src/lib.rs": THREE}, "result": report(&["task-2"], true)},
    ]));
    let repository = repository(&agent, json!([contains_check("tests", &["one"])]));
    let (output, steps) = run_loop(&repository, &["--max-runtime", "1s"]);
    assert_eq!(output.status.code(), Some(3), "{}", text(&output.stderr));
    let finished = steps_named(&steps, "finished");
    assert_eq!(finished[0]["status"], "limit_reached");
    let reason = finished[0]["reason"].as_str().expect("a reason");
    assert!(reason.contains("--max-runtime 1 s"), "{reason}");
    assert_eq!(agent.calls(), 1);
    // The first iteration's work is kept; the next run resumes after it.
    assert!(issue(&repository).contains("- [x] Add `two`"));
    let (output, _) = run_loop(&repository, &[]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(agent.prompt(2).contains("## Iteration 2 of at most 4"));
}

#[test]
fn an_agents_answer_carrying_its_key_is_redacted_wherever_ralph_writes_it() {
    const KEY: &str = "sk-ant-api03-simpleloopleak0123456789abcdefABCDEF";
    let leaky = format!(
        "My key is {KEY}.\n\n```json\n{}\n```\n",
        json!({"done": ["task-1", "task-2"], "complete": true, "notes": format!("used {KEY}"), "plan": format!("keep {KEY}")})
    );
    let agent = Agent::new(&json!([
        {"edits": {"src/lib.rs": THREE}, "result": leaky},
    ]));
    let repository = repository(&agent, json!([contains_check("tests", &["three"])]));
    let output = repository
        .command(&["simple", "loop", "1", "--json"])
        .env("ANTHROPIC_API_KEY", KEY)
        .output()
        .expect("ralph runs");
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let mut places = vec![
        ("stdout".to_owned(), text(&output.stdout)),
        ("stderr".to_owned(), text(&output.stderr)),
        (
            "the branch's commits".to_owned(),
            git(
                repository.path(),
                &["log", "--format=%B", "ralph/1-add-numbers"],
            ),
        ),
    ];
    let mut pending = vec![
        repository.path().join(".ralph-sessions"),
        repository.path().join(".ralph"),
    ];
    while let Some(directory) = pending.pop() {
        for entry in std::fs::read_dir(&directory).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                if !path.ends_with("worktrees") {
                    pending.push(path);
                }
            } else {
                places.push((
                    path.display().to_string(),
                    text(&std::fs::read(&path).expect("read")),
                ));
            }
        }
    }
    for (place, content) in &places {
        assert!(!content.contains(KEY), "{place} holds the key:\n{content}");
    }
    let report = read(&session(&repository).join("reports/task-1-report.md"));
    assert!(report.contains("My key is [REDACTED]."), "{report}");
}
