//! Claude Code and Codex as implementers, against stand-in executables that
//! print the agents' real output shapes.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use ralph_broker::agents::{self, Agent, AgentReport, AgentSettings, TokenUsage};
use ralph_broker::confinement::{Confinement, Sandbox};
use ralph_broker::implementer::{ImplementError, Implementer, Task};
use ralph_broker::worktree::Worktree;
use ralph_runtime::{DimensionScores, Proposal, ReplayProvider};

/// Writing an executable while another thread starts a process can make
/// running it fail with "text file busy"; these tests take turns.
/// (An asynchronous lock, since one test holds it across `await`.)
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn one_at_a_time() -> tokio::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.blocking_lock()
}

/// A shell script named `name` in `directory`, made executable.
fn stand_in(directory: &Path, name: &str, body: &str) -> PathBuf {
    let path = directory.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}")).expect("write the stand-in");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    path
}

/// The loop's default confinement: bubblewrap where it works.
fn sandbox() -> Confinement {
    Confinement::new(Sandbox::Bubblewrap, Path::new("/nonexistent-repository"))
}

fn settings(program: &Path, idle_timeout_seconds: u64, timeout_seconds: u64) -> AgentSettings {
    AgentSettings {
        program: Some(program.to_string_lossy().into_owned()),
        extra_args: vec!["--model".to_owned(), "stand-in".to_owned()],
        idle_timeout_seconds,
        timeout_seconds,
    }
}

const CLAUDE_SUCCESS: &str = r#"cat > received-prompt.md
printf '%s\n' "$@" > received-arguments.txt
echo 'written by the agent' > edited.txt
cat <<'EOF'
{"type":"system","subtype":"init","cwd":"/tmp","session_id":"s1","tools":["Edit","Bash"],"model":"claude-sonnet-4-5","permissionMode":"acceptEdits"}
this line is not JSON
EOF
printf '\377\376 not UTF-8 either\n'
cat <<'EOF'
{"type":"assistant","message":{"id":"m1","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"text","text":"Writing edited.txt."},{"type":"tool_use","id":"t1","name":"Write","input":{"file_path":"edited.txt"}}]},"session_id":"s1"}
{"type":"user","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"File created"}]},"session_id":"s1"}
{"type":"stream_event","event":{"type":"ping"}}
[1, 2, 3]
{"type":"result","subtype":"success","is_error":false,"duration_ms":5120,"duration_api_ms":4800,"num_turns":3,"result":"Done: edited.txt written.","session_id":"s1","total_cost_usd":0.0421,"usage":{"input_tokens":12,"cache_creation_input_tokens":100,"cache_read_input_tokens":2000,"output_tokens":345,"server_tool_use":{"web_search_requests":0},"service_tier":"standard"},"permission_denials":[]}
EOF
"#;

#[test]
fn claude_code_edits_the_worktree_and_its_result_cost_and_usage_are_read() {
    let _turn = one_at_a_time();
    let bin = tempfile::tempdir().expect("temp dir");
    let worktree = tempfile::tempdir().expect("temp dir");
    let claude = stand_in(bin.path(), "claude", CLAUDE_SUCCESS);
    let report = agents::run(
        Agent::ClaudeCode,
        &settings(&claude, 10, 30),
        worktree.path(),
        "Implement the proposal.\n",
        &sandbox(),
    )
    .expect("the run succeeds");
    assert_eq!(
        report,
        AgentReport {
            result: Some("Done: edited.txt written.".to_owned()),
            cost_usd: Some(0.0421),
            usage: TokenUsage {
                input_tokens: 2112,
                cached_input_tokens: 2000,
                output_tokens: 345,
            },
            turns: Some(3),
            error: None,
            finished: true,
            skipped_lines: 4,
            limited_until: None,
        }
    );
    let read = |name: &str| std::fs::read_to_string(worktree.path().join(name)).expect(name);
    assert_eq!(read("edited.txt"), "written by the agent\n");
    assert_eq!(read("received-prompt.md"), "Implement the proposal.\n");
    assert_eq!(
        read("received-arguments.txt"),
        "-p\n--output-format\nstream-json\n--verbose\n--permission-mode\nacceptEdits\n--model\nstand-in\n"
    );
}

#[test]
fn an_error_result_fails_the_attempt_even_when_claude_code_exits_zero() {
    let _turn = one_at_a_time();
    let bin = tempfile::tempdir().expect("temp dir");
    let worktree = tempfile::tempdir().expect("temp dir");
    let claude = stand_in(
        bin.path(),
        "claude",
        r#"cat > /dev/null
echo '{"type":"system","subtype":"init","session_id":"s2"}'
echo '{"type":"result","subtype":"error_max_turns","is_error":true,"duration_ms":900,"num_turns":10,"session_id":"s2","total_cost_usd":0.5,"usage":{"input_tokens":5,"output_tokens":7}}'
"#,
    );
    let error = agents::run(
        Agent::ClaudeCode,
        &settings(&claude, 10, 30),
        worktree.path(),
        "x",
        &sandbox(),
    )
    .expect_err("an error result");
    assert_eq!(error, "Claude Code reported an error: error_max_turns");

    let api_error = stand_in(
        bin.path(),
        "claude-api-error",
        r#"echo '{"type":"result","subtype":"success","is_error":true,"result":"API Error: 401 invalid x-api-key","num_turns":1,"total_cost_usd":0}'
"#,
    );
    let error = agents::run(
        Agent::ClaudeCode,
        &settings(&api_error, 10, 30),
        worktree.path(),
        "x",
        &sandbox(),
    )
    .expect_err("is_error");
    assert_eq!(
        error,
        "Claude Code reported an error: API Error: 401 invalid x-api-key (success)"
    );
}

#[test]
fn a_malformed_or_missing_result_is_not_trusted() {
    let _turn = one_at_a_time();
    let bin = tempfile::tempdir().expect("temp dir");
    let worktree = tempfile::tempdir().expect("temp dir");
    let malformed = stand_in(
        bin.path(),
        "claude-malformed",
        r#"echo '{"type":"result","subtype":"success","is_error":false,"result":"done","total_cost_usd":"lots"}'
"#,
    );
    let error = agents::run(
        Agent::ClaudeCode,
        &settings(&malformed, 10, 30),
        worktree.path(),
        "x",
        &sandbox(),
    )
    .expect_err("malformed");
    assert!(
        error.starts_with("Claude Code reported an error: malformed `result` event"),
        "{error}"
    );
    let silent = stand_in(
        bin.path(),
        "claude-silent",
        "echo '{\"type\":\"system\",\"subtype\":\"init\"}'\necho 'bye' >&2\n",
    );
    let error = agents::run(
        Agent::ClaudeCode,
        &settings(&silent, 10, 30),
        worktree.path(),
        "x",
        &sandbox(),
    )
    .expect_err("no result");
    assert_eq!(
        error,
        "Claude Code exited without its final `result` event: bye"
    );
}

const CODEX_SUCCESS: &str = r#"test "$1 $2" = "exec --json" || exit 9
for last; do :; done
test "$last" = "-" || exit 8
cat > received-prompt.md
echo 'written by codex' > edited.txt
cat <<'EOF'
{"type":"thread.started","thread_id":"0199a213-81c0-7800-8aa1-bbab2a035a53"}
{"type":"turn.started"}
{"type":"item.started","item":{"id":"item_0","type":"command_execution","command":"bash -lc ls","aggregated_output":"","exit_code":null,"status":"in_progress"}}
garbage {"type":
{"type":"item.completed","item":{"id":"item_0","type":"command_execution","command":"bash -lc ls","aggregated_output":"src\n","exit_code":0,"status":"completed"}}
{"type":"item.completed","item":{"id":"item_1","type":"reasoning","text":"**Planning the edit**"}}
{"type":"item.completed","item":{"id":"item_2","type":"file_change","changes":[{"path":"edited.txt","kind":"add"}],"status":"completed"}}
{"type":"item.completed","item":{"id":"item_3","type":"agent_message","text":"Wrote edited.txt."}}
{"type":"session.configured","model":"gpt-5-codex"}
{"type":"turn.completed","usage":{"input_tokens":24763,"cached_input_tokens":24448,"output_tokens":122}}
EOF
"#;

#[test]
fn codex_edits_the_worktree_and_its_message_and_usage_are_read() {
    let _turn = one_at_a_time();
    let bin = tempfile::tempdir().expect("temp dir");
    let worktree = tempfile::tempdir().expect("temp dir");
    let codex = stand_in(bin.path(), "codex", CODEX_SUCCESS);
    let report = agents::run(
        Agent::Codex,
        &settings(&codex, 10, 30),
        worktree.path(),
        "Implement it.\n",
        &sandbox(),
    )
    .expect("the run succeeds");
    assert_eq!(
        report,
        AgentReport {
            result: Some("Wrote edited.txt.".to_owned()),
            cost_usd: None,
            usage: TokenUsage {
                input_tokens: 24763,
                cached_input_tokens: 24448,
                output_tokens: 122,
            },
            turns: Some(1),
            error: None,
            finished: true,
            skipped_lines: 2,
            limited_until: None,
        }
    );
    let read = |name: &str| std::fs::read_to_string(worktree.path().join(name)).expect(name);
    assert_eq!(read("edited.txt"), "written by codex\n");
    assert_eq!(read("received-prompt.md"), "Implement it.\n");
}

#[test]
fn a_non_zero_exit_fails_the_attempt_with_the_agents_own_message() {
    let _turn = one_at_a_time();
    let bin = tempfile::tempdir().expect("temp dir");
    let worktree = tempfile::tempdir().expect("temp dir");
    let codex = stand_in(
        bin.path(),
        "codex",
        r#"echo '{"type":"thread.started","thread_id":"t"}'
echo '{"type":"turn.started"}'
echo '{"type":"error","message":"stream disconnected before completion"}'
echo '{"type":"turn.failed","error":{"message":"You exceeded your current quota"}}'
exit 1
"#,
    );
    let error = agents::run(
        Agent::Codex,
        &settings(&codex, 10, 30),
        worktree.path(),
        "x",
        &sandbox(),
    )
    .expect_err("exit 1");
    assert_eq!(
        error,
        "Codex exited with 1: You exceeded your current quota"
    );
    let claude = stand_in(
        bin.path(),
        "claude",
        "echo 'Error: Invalid API key' >&2\nexit 2\n",
    );
    let error = agents::run(
        Agent::ClaudeCode,
        &settings(&claude, 10, 30),
        worktree.path(),
        "x",
        &sandbox(),
    )
    .expect_err("exit 2");
    assert_eq!(error, "Claude Code exited with 2: Error: Invalid API key");
}

#[test]
fn an_agent_that_goes_quiet_is_stopped_with_everything_it_started() {
    let _turn = one_at_a_time();
    let bin = tempfile::tempdir().expect("temp dir");
    let worktree = tempfile::tempdir().expect("temp dir");
    // The background sleep holds standard output open: only killing the
    // process group ends the run.
    let claude = stand_in(
        bin.path(),
        "claude",
        "echo '{\"type\":\"system\",\"subtype\":\"init\"}'\nsleep 30 &\nsleep 30\n",
    );
    let started = Instant::now();
    let error = agents::run(
        Agent::ClaudeCode,
        &settings(&claude, 1, 60),
        worktree.path(),
        "x",
        &sandbox(),
    )
    .expect_err("idle");
    assert_eq!(error, "Claude Code printed nothing for 1 s and was stopped");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn an_agent_that_keeps_talking_is_stopped_at_its_total_timeout() {
    let _turn = one_at_a_time();
    let bin = tempfile::tempdir().expect("temp dir");
    let worktree = tempfile::tempdir().expect("temp dir");
    let codex = stand_in(
        bin.path(),
        "codex",
        "while true; do echo '{\"type\":\"turn.started\"}'; sleep 0.2; done\n",
    );
    let started = Instant::now();
    let error = agents::run(
        Agent::Codex,
        &settings(&codex, 5, 1),
        worktree.path(),
        "x",
        &sandbox(),
    )
    .expect_err("total timeout");
    assert_eq!(error, "Codex ran past its 1 s limit and was stopped");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_missing_agent_binary_fails_the_attempt_naming_the_agent() {
    let worktree = tempfile::tempdir().expect("temp dir");
    let missing = worktree.path().join("no-such-claude");
    let error = agents::run(
        Agent::ClaudeCode,
        &settings(&missing, 10, 30),
        worktree.path(),
        "x",
        &sandbox(),
    )
    .expect_err("missing");
    assert!(
        error.starts_with(&format!(
            "Claude Code (`{}`) could not be started:",
            missing.display()
        )),
        "{error}"
    );
}

fn git(directory: &Path, arguments: &[&str]) {
    let status = Command::new("git")
        .args(arguments)
        .current_dir(directory)
        .env("GIT_AUTHOR_NAME", "test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .status()
        .expect("git runs");
    assert!(status.success(), "git {arguments:?}");
}

fn issue() -> ralph_issues::Issue {
    ralph_issues::Issue {
        number: 1,
        title: "Edit a file".into(),
        labels: Default::default(),
        tags: Default::default(),
        state: ralph_issues::IssueState::Open,
        body: "- [ ] Write edited.txt\n".into(),
    }
}

fn proposal() -> Proposal {
    Proposal {
        summary: "write edited.txt".into(),
        pseudo_code: String::new(),
        requirements_covered: Vec::new(),
        files: Vec::new(),
        planned_tests: Vec::new(),
        patch: None,
        self_estimate: DimensionScores {
            spec_alignment: 0.5,
            technical_quality: 0.5,
            innovation: 0.5,
            risk: 0.5,
            efficiency: 0.5,
        },
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_claude_code_implementer_changes_the_worktree_and_fails_on_an_error() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let repository = tempfile::tempdir().expect("temp dir");
    let root = repository.path();
    git(root, &["init", "--quiet", "--initial-branch=main"]);
    std::fs::write(root.join(".gitignore"), ".ralph/worktrees/\n").expect("write");
    git(root, &["add", "--all"]);
    git(root, &["commit", "--quiet", "-m", "start"]);
    let worktree = Worktree::open_or_create(root, &root.join(".ralph/worktrees/1"), "ralph/1")
        .expect("worktree");
    let bin = tempfile::tempdir().expect("temp dir");
    let claude = stand_in(bin.path(), "claude", CLAUDE_SUCCESS);
    let replay = serde_json::json!({"replay": "test", "responses": []}).to_string();
    let provider =
        ReplayProvider::from_json(Path::new("replay.json"), &replay).expect("replay provider");
    let implemented = Implementer::ClaudeCode(settings(&claude, 10, 30))
        .implement(
            &worktree,
            Task::new(&issue(), &proposal()),
            &provider,
            &sandbox(),
        )
        .await;
    implemented.result.expect("implemented");
    let usage = implemented.usage.expect("the agent's usage");
    assert_eq!(usage.reported_cost_usd, Some(0.0421));
    assert_eq!(
        (
            usage.tokens.calls,
            usage.tokens.input_tokens,
            usage.tokens.output_tokens
        ),
        (3, 2112, 345)
    );
    let prompt = std::fs::read_to_string(worktree.path().join("received-prompt.md"))
        .expect("the prompt reached the agent");
    assert!(prompt.contains("write edited.txt"), "{prompt}");
    assert!(worktree.path().join("edited.txt").exists());

    let failing = stand_in(bin.path(), "claude-failing", "exit 3\n");
    let error = Implementer::ClaudeCode(settings(&failing, 10, 30))
        .implement(
            &worktree,
            Task::new(&issue(), &proposal()),
            &provider,
            &sandbox(),
        )
        .await
        .result
        .expect_err("fails");
    assert_eq!(
        error,
        ImplementError::Implementer("Claude Code exited with 3: no error message".into()),
        "an agent's failure is the implementer's, not the proposal's"
    );

    let costly = stand_in(
        bin.path(),
        "claude-costly-error",
        r#"cat > /dev/null
echo '{"type":"result","subtype":"error_max_turns","is_error":true,"num_turns":10,"total_cost_usd":0.5,"usage":{"input_tokens":5,"output_tokens":7}}'
"#,
    );
    let failed = Implementer::ClaudeCode(settings(&costly, 10, 30))
        .implement(
            &worktree,
            Task::new(&issue(), &proposal()),
            &provider,
            &sandbox(),
        )
        .await;
    assert!(failed.result.is_err(), "{:?}", failed.result);
    let usage = failed.usage.expect("a failed run's usage is kept");
    assert_eq!(usage.reported_cost_usd, Some(0.5));
    assert_eq!(
        (
            usage.tokens.calls,
            usage.tokens.input_tokens,
            usage.tokens.output_tokens
        ),
        (10, 5, 7)
    );
}

#[test]
fn a_stop_ends_a_hanging_agent_at_once_and_keeps_what_it_reported() {
    let bin = tempfile::tempdir().expect("bin");
    let worktree = tempfile::tempdir().expect("worktree");
    // A turn's usage, then silence far past any test's patience.
    let hanging = stand_in(
        bin.path(),
        "codex-hanging",
        r#"cat > /dev/null
echo '{"type":"turn.completed","usage":{"input_tokens":40,"cached_input_tokens":0,"output_tokens":9}}'
exec sleep 600
"#,
    );
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let confinement = sandbox().stopping_on(stop.clone());
    let flag = stop.clone();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(500));
        flag.store(true, std::sync::atomic::Ordering::SeqCst);
    });
    let started = Instant::now();
    let (result, report) = agents::run_reporting(
        Agent::Codex,
        &settings(&hanging, 600, 600),
        worktree.path(),
        "go",
        &confinement,
    );
    let error = result.expect_err("stopped");
    assert!(error.contains("stopped on request"), "{error}");
    // Not the 600 s idle timeout: the stop ends it (a generous bound, for
    // a loaded machine).
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        (report.usage.input_tokens, report.usage.output_tokens),
        (40, 9),
        "what it reported before the stop is kept"
    );
}

#[test]
fn only_a_rejected_rate_limit_event_says_when_the_limit_resets() {
    let mut report = AgentReport::default();
    // Informational: the request was served.
    report.observe(
        Agent::ClaudeCode,
        r#"{"type":"rate_limit_event","rate_limit_info":{"status":"allowed_warning","resetsAt":1778565600}}"#,
    );
    assert_eq!(report.limited_until, None);
    report.observe(
        Agent::ClaudeCode,
        r#"{"type":"rate_limit_event","rate_limit_info":{"status":"rejected","resetsAt":1778565600,"rateLimitType":"five_hour"}}"#,
    );
    assert_eq!(report.limited_until, Some(1778565600));
    assert_eq!(report.skipped_lines, 0);
    // Rejected without a time: limited, until unknown (0).
    let mut report = AgentReport::default();
    report.observe(
        Agent::ClaudeCode,
        r#"{"type":"rate_limit_event","rate_limit_info":{"status":"rejected"}}"#,
    );
    assert_eq!(report.limited_until, Some(0));
}
