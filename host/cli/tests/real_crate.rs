//! The loop on a real third-party crate: `semver` 1.0.28, copied from the
//! local cargo registry (it is one of Ralph's own dependencies, so the test
//! needs no network) into a test repository, with its own tests and clippy
//! as the checks and a scripted bidder proposing the changes.

mod common;

use std::path::{Path, PathBuf};

use common::chat_server::{ChatServer, Reply};
use common::{Repository, git, text};
use serde_json::{Value, json};

/// semver's sources in the registry cargo downloaded Ralph's dependencies
/// to.
fn semver_source() -> PathBuf {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")))
        .expect("CARGO_HOME or HOME");
    let registry = home.join("registry/src");
    std::fs::read_dir(&registry)
        .unwrap_or_else(|error| panic!("{}: {error}", registry.display()))
        .map(|entry| entry.expect("entry").path().join("semver-1.0.28"))
        .find(|path| path.join("src/lib.rs").is_file())
        .unwrap_or_else(|| panic!("semver 1.0.28 is not in {}", registry.display()))
}

/// semver's manifest without what needs the registry: its optional serde
/// dependency and its criterion benchmark.
fn offline_manifest(manifest: &str) -> String {
    let mut kept = Vec::new();
    let mut skipping = false;
    for line in manifest.lines() {
        if line.starts_with('[') {
            skipping = line.contains("dependencies") || line == "[[bench]]";
        }
        if !skipping && !line.starts_with("serde = ") {
            kept.push(line);
        }
    }
    kept.join("\n") + "\n"
}

fn copy_dir(from: &Path, to: &Path) -> Vec<(String, String)> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(from).expect("read dir") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        if path.is_dir() {
            for (inner, content) in copy_dir(&path, &to.join(&name)) {
                files.push((format!("{name}/{inner}"), content));
            }
        } else {
            files.push((name, std::fs::read_to_string(&path).expect("read")));
        }
    }
    files
}

/// A repository holding semver (its `src/` and `tests/`, `extra` appended
/// to `src/lib.rs`), `checks`, the scripted bidder A with `rounds`, and
/// issue #1 with one checkbox; the line count of `src/lib.rs`.
fn semver_repository(extra: &str, checks: Value, rounds: Value) -> (Repository, usize) {
    semver_repository_with(extra, checks, rounds, json!({"kind": "patch"}))
}

/// [`semver_repository`] with `implementer` as the config's implementer.
fn semver_repository_with(
    extra: &str,
    checks: Value,
    rounds: Value,
    implementer: Value,
) -> (Repository, usize) {
    let source = semver_source();
    let mut files: Vec<(String, String)> = Vec::new();
    for folder in ["src", "tests"] {
        for (path, content) in copy_dir(&source.join(folder), Path::new(folder)) {
            files.push((format!("{folder}/{path}"), content));
        }
    }
    let library = files
        .iter_mut()
        .find(|(path, _)| path == "src/lib.rs")
        .expect("src/lib.rs");
    library.1.push_str(extra);
    let lines = library.1.lines().count();
    let manifest = std::fs::read_to_string(source.join("Cargo.toml")).expect("semver's Cargo.toml");
    files.push(("Cargo.toml".into(), offline_manifest(&manifest)));
    files.push((".gitignore".into(), "/target\n".into()));
    let config = json!({
        "num_bots": 2,
        "bidders": {
            "bidder_1": {"plugin": ralph_broker_fixtures::SCRIPTED_A_PATH, "grants": ["repository"]},
            "bidder_2": {"plugin": ralph_broker_fixtures::SCRIPTED_B_PATH, "grants": ["repository"]},
        },
        "specialists": [],
        "checks": checks,
        "implementer": implementer,
    });
    let borrowed: Vec<(&str, &str)> = files
        .iter()
        .map(|(path, content)| (path.as_str(), content.as_str()))
        .collect();
    let repository = Repository::for_loop(&borrowed, &config, &["Add a helper"]);
    repository.commit_file("ralph-script/a.json", &rounds.to_string());
    // Bidder B offers a plan without a patch, which the patch implementer
    // cannot carry out: it never wins.
    repository.commit_file(
        "ralph-script/b.json",
        &json!([{"summary": "a plan only"}]).to_string(),
    );
    (repository, lines)
}

/// A patch adding `body` after the last line (`lines`) of `src/lib.rs`.
fn append(lines: usize, body: &str) -> String {
    let added: Vec<String> = body.lines().map(|line| format!("+{line}")).collect();
    format!(
        "--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -{lines},0 +{},{} @@\n{}\n",
        lines + 1,
        added.len(),
        added.join("\n")
    )
}

/// Bidder A's outcomes, in order.
fn outcomes(repository: &Repository) -> Vec<String> {
    repository
        .events()
        .iter()
        .filter(|event| event["bot_id"] == "bidder_1")
        .map(|event| event["outcome"].as_str().unwrap_or("").to_owned())
        .collect()
}

/// Runs the loop, which must succeed.
fn run_to_success(repository: &Repository) -> Vec<Value> {
    let (output, steps) = repository.loop_steps();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}\n{}",
        text(&output.stdout),
        text(&output.stderr)
    );
    steps
}

fn replan_report(steps: &[Value]) -> String {
    steps
        .iter()
        .filter(|step| step["step"] == "round_started")
        .nth(1)
        .and_then(|step| step["failure_report"].as_str())
        .unwrap_or_else(|| panic!("no replan round in {steps:#?}"))
        .to_owned()
}

#[test]
fn a_new_clippy_error_fails_the_change_though_clippy_failed_on_the_baseline() {
    // The baseline already fails clippy (approx_constant is an error by
    // default); the first change adds a second, different one.
    let old = "\n#[doc(hidden)]\npub fn ralph_baseline_pi() -> f64 {\n    3.14159\n}\n";
    let clippy = json!({"name": "clippy",
        "argv": ["cargo", "clippy", "--offline", "--all-targets", "--quiet", "--message-format=json"],
        "category": "lint", "timeout_seconds": 300});
    let (repository, lines) = semver_repository(old, json!([clippy]), json!([]));
    let bad = append(
        lines,
        "\n#[doc(hidden)]\npub fn ralph_euler() -> f64 {\n    2.71828\n}",
    );
    let good = append(
        lines,
        "\n#[doc(hidden)]\npub fn ralph_answer() -> u32 {\n    42\n}",
    );
    repository.commit_file(
        "ralph-script/a.json",
        &json!([{"summary": "add the helper, badly", "patch": bad},
                {"summary": "add the helper", "patch": good}])
        .to_string(),
    );
    let steps = run_to_success(&repository);
    let baseline = steps
        .iter()
        .find(|step| step["step"] == "baseline")
        .expect("a baseline step");
    assert_eq!(baseline["passed"], false, "{baseline}");
    let checks: Vec<&Value> = steps
        .iter()
        .filter(|step| step["step"] == "check")
        .collect();
    assert_eq!(checks[0]["counts_against"], true, "{:#}", checks[0]);
    let new = checks[0]["new_findings"].to_string();
    assert!(new.contains("consts::E"), "{new}");
    assert!(!new.contains("consts::PI"), "{new}");
    assert_eq!(checks[1]["counts_against"], false, "{:#}", checks[1]);
    let report = replan_report(&steps);
    assert!(
        report.contains("new: error[clippy::approx_constant]"),
        "{report}"
    );
    assert!(report.contains("consts::E"), "{report}");
    assert_eq!(outcomes(&repository), ["failure", "success"]);
    let branch = git(
        repository.path(),
        &["show", "ralph/1-add-numbers:src/lib.rs"],
    );
    assert!(branch.contains("ralph_answer") && !branch.contains("ralph_euler"));
}

#[test]
fn a_failing_assertions_message_reaches_the_replan_with_a_backtrace_on() {
    let tests = json!({"name": "tests",
        "argv": ["env", "RUST_BACKTRACE=1", "cargo", "test", "--offline", "--quiet", "--lib"],
        "category": "test", "timeout_seconds": 300});
    let (repository, lines) = semver_repository("", json!([tests]), json!([]));
    let test = |major: u64| {
        append(
            lines,
            &format!(
                "\n#[cfg(test)]\nmod ralph_tests {{\n    #[test]\n    fn the_major_version_is_read() {{\n        let version = crate::Version::parse(\"1.2.3\").unwrap();\n        assert_eq!(version.major, {major}, \"the major version of 1.2.3\");\n    }}\n}}"
            ),
        )
    };
    repository.commit_file(
        "ralph-script/a.json",
        &json!([{"summary": "test the parser, wrongly", "patch": test(2)},
                {"summary": "test the parser", "patch": test(1)}])
        .to_string(),
    );
    let steps = run_to_success(&repository);
    let report = replan_report(&steps);
    assert!(report.contains("the major version of 1.2.3"), "{report}");
    assert!(report.contains("left: 1"), "{report}");
    assert!(
        !report.contains("rust_begin_unwind") && !report.contains("panicking.rs"),
        "{report}"
    );
    // The report names the whole output, kept in the session's feedback
    // folder for the replan round's iteration.
    let file = report
        .split_whitespace()
        .map(|word| word.trim_matches(|c: char| "()".contains(c)))
        .find(|word| word.starts_with(".ralph-sessions/") && word.ends_with("/tests.log"))
        .unwrap_or_else(|| panic!("no kept output named in {report}"))
        .to_owned();
    assert!(file.contains("/iterations/2/feedbacks/"), "{file}");
    let whole = std::fs::read_to_string(repository.path().join(&file)).expect("the whole output");
    assert!(whole.contains("stack backtrace"), "{whole}");
    let folder = std::path::Path::new(&file).parent().expect("folder");
    let feedback = std::fs::read_to_string(repository.path().join(folder).join("feedbacks.md"))
        .expect("feedbacks.md");
    assert!(
        feedback.contains("the major version of 1.2.3"),
        "{feedback}"
    );
    let session = folder.ancestors().nth(4).expect("session");
    let rationale = std::fs::read_to_string(
        repository
            .path()
            .join(session)
            .join("iterations/2/replanning/rationale.md"),
    )
    .expect("rationale.md");
    assert!(
        rationale.contains("the major version of 1.2.3"),
        "{rationale}"
    );
    assert_eq!(outcomes(&repository), ["failure", "success"]);
    // The kept output is never something to commit.
    let status = git(
        repository.path(),
        &["status", "--porcelain", "--", ".ralph-sessions"],
    );
    assert!(status.trim().is_empty(), "{status}");
}

/// A check that always passes: these tests are about the implementer.
fn passing_check() -> Value {
    json!([{"name": "true", "argv": ["true"], "category": "test", "timeout_seconds": 30}])
}

#[test]
fn a_providers_context_length_error_exits_2_with_no_event() {
    // A server that does not say its window (no /models entry, no /props)
    // and refuses the prompt as too long, as a 4k-context model does with
    // semver's 10,000-token src/lib.rs.
    let server = ChatServer::start(|_, request| match request.path.as_str() {
        "/v1/chat/completions" => Reply::status(
            400,
            r#"{"error":{"code":"context_length_exceeded","message":"This model's maximum context length is 4096 tokens"}}"#,
        ),
        _ => Reply::status(404, r#"{"error":"not found"}"#),
    });
    let implementer = json!({"kind": "model", "llm": {
        "provider": "openai", "model": "small-model",
        "base_url": format!("{}/v1", server.base_url)}});
    let (repository, _) = semver_repository_with(
        "",
        passing_check(),
        json!([{"summary": "add a helper to src/lib.rs"}]),
        implementer,
    );
    let output = repository
        .command(&["marketplace", "loop", "1", "--json"])
        .env("OPENAI_API_KEY", "sk-test-key-0123456789")
        .output()
        .expect("ralph runs");
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("context window"), "{stderr}");
    assert_eq!(server.chats().len(), 1, "never retried");
    assert!(repository.events().is_empty(), "nothing is recorded");
    let issue =
        std::fs::read_to_string(repository.path().join(".ralph/issues/1.md")).expect("the issue");
    assert!(
        !issue.contains("attention-needed") && !issue.contains("- [x]"),
        "nobody is blamed: {issue}"
    );
}

#[test]
fn an_agent_that_hangs_stops_at_ctrl_c_and_its_reported_cost_is_kept() {
    let bin = tempfile::tempdir().expect("bin");
    let claude = bin.path().join("claude");
    // A stand-in Claude Code that edits the crate, reports its result and
    // cost, and then hangs, as a real one sometimes does after its result.
    std::fs::write(
        &claude,
        r#"#!/bin/sh
cat > /dev/null
printf '\n/// Added by the agent.\npub fn ralph_helper() -> u32 {\n    7\n}\n' >> src/lib.rs
cat <<'EOF'
{"type":"system","subtype":"init","session_id":"s1","model":"claude-sonnet-4-5"}
{"type":"result","subtype":"success","is_error":false,"num_turns":2,"result":"Added ralph_helper.","session_id":"s1","total_cost_usd":0.0421,"usage":{"input_tokens":1200,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":345}}
EOF
touch agent-hangs
exec sleep 600
"#,
    )
    .expect("write the stand-in");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&claude, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let implementer = json!({"kind": "claude_code", "program": claude,
        "idle_timeout_seconds": 600, "timeout_seconds": 1800});
    let (repository, _) = semver_repository_with(
        "",
        passing_check(),
        json!([{"summary": "add a helper to src/lib.rs"}]),
        implementer,
    );
    let child = repository
        .command(&["marketplace", "loop", "1", "--json"])
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
    let interrupted = std::time::Instant::now();
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let output = child.wait_with_output().expect("wait");
    // Not the agent's 600 s idle timeout (a generous bound for a loaded
    // machine; it takes well under a second).
    assert!(
        interrupted.elapsed() < std::time::Duration::from_secs(20),
        "{:?}",
        interrupted.elapsed()
    );
    assert_eq!(output.status.code(), Some(130), "{}", text(&output.stderr));
    let usage = repository.ralph(&["marketplace", "usage", "--json"]);
    let report: Value = serde_json::from_slice(&usage.stdout).expect("usage JSON");
    assert_eq!(report["total"]["cost_usd"], 0.0421, "{report:#}");
    assert_eq!(report["total"]["output_tokens"], 345, "{report:#}");
    // No weight moved for an attempt nobody finished.
    for event in repository.events() {
        assert_eq!(event["weight_delta"], 0.0, "{event}");
    }
}
