//! Real model providers chosen by the `llm` section and the `--llm-*`
//! flags, driven through the real binary against a model server the test
//! starts on loopback.

mod common;

use std::process::{Command, Output};

use common::chat_server::{ChatServer, Reply};
use common::{Repository, text};
use serde_json::{Value, json};

const KEY: &str = "sk-live-key-that-must-never-leak-0123456789";
const LIBRARY: &str = "pub fn one() -> u32 {\n    1\n}\n";

/// The model's answer: a plan, then a diff adding `fn two()`.
const PLAN: &str = "Add `two` after `one`, returning 2.\n\n```diff\n--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -3,0 +4,4 @@\n+\n+pub fn two() -> u32 {\n+    2\n+}\n```\n";

/// A git repository whose two bidders both run the bundled persona-planner
/// (the model-backed bidder), with `llm` as the config's `llm` section and
/// issue #1 asking for `fn two`.
fn repository(llm: Value) -> Repository {
    repository_with(llm, json!({"kind": "patch"}))
}

fn repository_with(llm: Value, implementer: Value) -> Repository {
    let planner =
        json!({"plugin": "bundled:persona-planner", "grants": ["repository", "complete"]});
    let config = json!({
        "num_bots": 2,
        "bidders": {"bidder_1": planner, "bidder_2": planner},
        "specialists": [],
        "checks": [{"name": "no-bugs", "argv": ["sh", "-c", "! grep -q BUG src/lib.rs"],
                    "category": "test", "timeout_seconds": 20}],
        "llm": llm,
        "implementer": implementer,
    });
    Repository::for_loop(&[("src/lib.rs", LIBRARY)], &config, &["Add two"])
}

/// `ralph -vvv marketplace loop 1 --json EXTRA…` with `variable` set to the
/// key and the other provider's key unset.
fn run_loop(repository: &Repository, variable: &str, extra: &[&str]) -> Output {
    let mut args = vec!["-vvv", "marketplace", "loop", "1", "--json"];
    args.extend_from_slice(extra);
    repository
        .command(&args)
        .env_remove("ANTHROPIC_API_KEY")
        .env_remove("OPENAI_API_KEY")
        .env(variable, KEY)
        .output()
        .expect("ralph runs")
}

fn steps(output: &Output) -> Vec<Value> {
    text(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect()
}

fn finished(output: &Output) -> Value {
    steps(output)
        .into_iter()
        .find(|step| step["step"] == "finished")
        .unwrap_or(Value::Null)
}

/// Every event's outcome, sorted (which bidder's identical proposal arrives
/// first, and wins, is a race).
fn outcomes(repository: &Repository) -> Vec<String> {
    let mut outcomes: Vec<String> = std::fs::read_dir(repository.events_dir())
        .expect("events")
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            let event: Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
            Some(event["outcome"].as_str()?.to_owned())
        })
        .collect();
    outcomes.sort();
    outcomes
}

fn issue_text(repository: &Repository) -> String {
    std::fs::read_to_string(repository.path().join(".ralph/issues/1.md")).expect("issue")
}

/// The error of a `--json` run: the one JSON object on standard error with
/// an `error` (the other lines are logs).
fn error_of(output: &Output) -> String {
    let errors: Vec<String> = text(&output.stderr)
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter_map(|value| value["error"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(errors.len(), 1, "{}", text(&output.stderr));
    errors[0].clone()
}

fn explain(output: &Output) -> String {
    format!("{}\n{}", text(&output.stdout), text(&output.stderr))
}

#[test]
fn a_loop_on_an_openai_compatible_server_succeeds_records_and_never_shows_the_key() {
    let server = ChatServer::start(|_, _| Reply::chat(PLAN));
    let repository = repository(json!({
        "provider": "openai", "model": "test-model",
        "base_url": format!("{}/v1", server.base_url), "temperature": 0.2
    }));
    let recorded = repository.path().join("recorded.json");
    let output = run_loop(
        &repository,
        "OPENAI_API_KEY",
        &["--llm-record", recorded.to_str().expect("utf-8 path")],
    );
    assert_eq!(output.status.code(), Some(0), "{}", explain(&output));
    assert!(issue_text(&repository).contains("- [x] Add two"));
    assert_eq!(outcomes(&repository), ["not_tried", "success"]);

    let requests = server.requests();
    assert_eq!(requests.len(), 2, "one call per bidder");
    let bearer = format!("Bearer {KEY}");
    for request in &requests {
        assert_eq!(request.path, "/v1/chat/completions");
        assert_eq!(request.body["model"], "test-model");
        assert_eq!(request.body["temperature"], 0.2);
        assert_eq!(request.header("authorization"), Some(bearer.as_str()));
    }

    let replay: Value =
        serde_json::from_str(&std::fs::read_to_string(&recorded).expect("recorded")).expect("JSON");
    let responses = replay["responses"].as_array().expect("responses");
    assert_eq!(responses.len(), 2);
    for response in responses {
        assert_eq!(response["caller"], "persona-planner");
        assert_eq!(response["text"], PLAN);
        assert_eq!(response["output_tokens"], 40);
    }

    assert!(!text(&output.stdout).contains(KEY));
    assert!(
        !text(&output.stderr).contains(KEY),
        "the key is in the -vvv log"
    );
    assert!(
        !std::fs::read_to_string(&recorded)
            .expect("read")
            .contains(KEY)
    );
    for (path, bytes) in repository.snapshot() {
        assert!(
            !String::from_utf8_lossy(&bytes).contains(KEY),
            "the key is in {}",
            path.display()
        );
    }
}

#[test]
fn the_recorded_answers_replay_to_the_same_result_without_a_server() {
    let server = ChatServer::start(|_, _| Reply::chat(PLAN));
    let live = repository(json!({
        "provider": "openai", "model": "test-model",
        "base_url": format!("{}/v1", server.base_url), "record_file": "recorded.json"
    }));
    let output = run_loop(&live, "OPENAI_API_KEY", &[]);
    assert_eq!(output.status.code(), Some(0), "{}", explain(&output));
    let recording = std::fs::read(live.path().join("recorded.json")).expect("recorded");

    let replayed = repository(json!({"provider": "replay", "replay_file": "recorded.json"}));
    std::fs::write(replayed.path().join("recorded.json"), recording).expect("copy");
    let output = run_loop(&replayed, "OPENAI_API_KEY", &[]);
    assert_eq!(output.status.code(), Some(0), "{}", explain(&output));
    assert_eq!(outcomes(&replayed), outcomes(&live));
    assert_eq!(server.requests().len(), 2, "the replay calls no server");
}

#[test]
fn flags_override_the_config_provider() {
    let server = ChatServer::start(|_, _| Reply::chat(PLAN));
    let repository = repository(json!({"provider": "deterministic"}));
    let base_url = format!("{}/v1", server.base_url);
    let output = run_loop(
        &repository,
        "UNUSED_KEY",
        &[
            "--llm-provider",
            "openai",
            "--llm-base-url",
            &base_url,
            "--llm-model",
            "flag-model",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", explain(&output));
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].body["model"], "flag-model");
    assert_eq!(
        requests[0].header("authorization"),
        None,
        "a local server gets no key"
    );
}

#[test]
fn every_round_starts_with_the_providers_breaker_closed() {
    // Five model-backed bidders fail together in round 1 (HTTP 400 is not
    // retried), which opens the breaker (five consecutive failed calls);
    // the scripted bidder carries the round. Round 2 must call the server
    // again rather than fail fast.
    let server = ChatServer::start(|_, _| Reply::status(400, r#"{"error":{"message":"bad"}}"#));
    let repository = repository(json!({
        "provider": "openai", "model": "test-model",
        "base_url": format!("{}/v1", server.base_url)
    }));
    let root = repository.path();
    let planner =
        json!({"plugin": "bundled:persona-planner", "grants": ["repository", "complete"]});
    let path = root.join(".ralph/config.json");
    let mut config: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("config")).expect("JSON");
    config["num_bots"] = json!(6);
    config["bidders"] = json!({
        "bidder_1": {"plugin": ralph_broker_fixtures::SCRIPTED_A_PATH, "grants": ["repository"]},
        "bidder_2": planner, "bidder_3": planner, "bidder_4": planner,
        "bidder_5": planner, "bidder_6": planner,
    });
    std::fs::write(&path, config.to_string()).expect("config");
    std::fs::write(
        root.join(".ralph/issues/1.md"),
        "---\ntitle: Add two\nlabels: [ready]\nstate: open\n---\nAdd functions.\n\n- [ ] Add two\n- [ ] Add three\n",
    )
    .expect("issue");
    let add = |lines: usize, name: &str, value: u32| {
        format!(
            "--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -{lines},0 +{},4 @@\n+\n+pub fn {name}() -> u32 {{\n+    {value}\n+}}\n",
            lines + 1
        )
    };
    repository.commit_file(
        "ralph-script/a.json",
        &json!([
            {"summary": "add two", "patch": add(3, "two", 2), "covers": 1,
             "files": [["src/lib.rs", 4]], "tests": ["two"]},
            {"summary": "add three", "patch": add(7, "three", 3), "covers": 1,
             "files": [["src/lib.rs", 4]], "tests": ["three"]}
        ])
        .to_string(),
    );
    let output = run_loop(&repository, "OPENAI_API_KEY", &[]);
    assert_eq!(output.status.code(), Some(0), "{}", explain(&output));
    let rounds = steps(&output)
        .iter()
        .filter(|step| step["step"] == "round_started")
        .count();
    assert_eq!(rounds, 2);
    assert_eq!(server.requests().len(), 10, "five calls in each round");
    let stdout = text(&output.stdout);
    assert!(!stdout.contains("considered down"), "{stdout}");
}

#[test]
fn bad_flags_are_refused_before_anything_runs() {
    let repository = repository(json!({"provider": "deterministic"}));
    let before = issue_text(&repository);
    let output = run_loop(&repository, "UNUSED_KEY", &["--llm-provider", "gemini"]);
    assert_eq!(output.status.code(), Some(2), "{}", explain(&output));
    assert!(text(&output.stderr).contains("anthropic, openai, replay, deterministic"));
    let output = run_loop(
        &repository,
        "UNUSED_KEY",
        &["--llm-base-url", "localhost:11434"],
    );
    assert_eq!(output.status.code(), Some(2), "{}", explain(&output));
    assert!(
        text(&output.stderr).contains("base_url"),
        "{}",
        explain(&output)
    );
    assert_eq!(issue_text(&repository), before);
}

#[test]
fn a_refused_anthropic_key_stops_with_an_error_naming_the_provider_not_the_key() {
    let server = ChatServer::start(|_, _| {
        Reply::status(
            401,
            &format!(r#"{{"type":"error","error":{{"message":"invalid x-api-key {KEY}"}}}}"#),
        )
    });
    let repository = repository(json!({
        "provider": "anthropic", "model": "claude-test", "base_url": server.base_url
    }));
    let output = run_loop(&repository, "ANTHROPIC_API_KEY", &[]);
    assert_eq!(output.status.code(), Some(2), "{}", explain(&output));
    let stderr = text(&output.stderr);
    let error = error_of(&output);
    assert!(
        error.contains("anthropic") && error.contains("401"),
        "{stderr}"
    );
    assert!(!explain(&output).contains(KEY));
    assert_eq!(server.requests()[0].path, "/v1/messages");
    assert_eq!(server.requests()[0].header("x-api-key"), Some(KEY));
    assert!(outcomes(&repository).is_empty(), "no bidder is blamed");
    assert!(issue_text(&repository).contains("in-progress"), "resumable");
}

#[test]
fn a_missing_key_is_a_config_error_before_the_issue_is_touched() {
    let repository = repository(json!({"provider": "anthropic", "model": "claude-test"}));
    let before = issue_text(&repository);
    let output = run_loop(&repository, "UNUSED_KEY", &[]);
    assert_eq!(output.status.code(), Some(2), "{}", explain(&output));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("llm.provider"), "{stderr}");
    assert!(stderr.contains("ANTHROPIC_API_KEY"), "{stderr}");
    assert_eq!(issue_text(&repository), before);
    assert!(!repository.path().join(".ralph/worktrees/1").exists());
}

#[test]
fn a_usage_limit_wait_is_not_a_failed_proposal() {
    let server = ChatServer::start(|index, _| {
        if index == 0 {
            Reply::status(429, r#"{"error":{"message":"usage limit"}}"#)
                .with_header("retry-after", "1")
        } else {
            Reply::chat(PLAN)
        }
    });
    let repository = repository(json!({
        "provider": "openai", "model": "test-model",
        "base_url": format!("{}/v1", server.base_url)
    }));
    let output = run_loop(&repository, "OPENAI_API_KEY", &[]);
    assert_eq!(output.status.code(), Some(0), "{}", explain(&output));
    assert_eq!(outcomes(&repository), ["not_tried", "success"]);
    assert_eq!(server.requests().len(), 3);
}

#[test]
fn a_usage_limit_past_the_wait_budget_stops_the_loop_without_events_or_spending() {
    let limited = ChatServer::start(|_, _| {
        Reply::status(429, r#"{"error":{"message":"usage limit"}}"#)
            .with_header("retry-after", "3600")
    });
    let repository = repository(json!({
        "provider": "openai", "model": "test-model",
        "base_url": format!("{}/v1", limited.base_url)
    }));
    let output = run_loop(&repository, "OPENAI_API_KEY", &[]);
    assert_eq!(output.status.code(), Some(1), "{}", explain(&output));
    let finished = finished(&output);
    assert_eq!(finished["status"], "provider_unavailable", "{finished}");
    assert_eq!(finished["budget_used"], 0);
    assert!(
        finished["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("usage limit"),
        "{finished}"
    );
    assert!(outcomes(&repository).is_empty(), "nothing is recorded");
    assert!(issue_text(&repository).contains("in-progress"));

    // Later the limit is over: the same command resumes and finishes.
    let server = ChatServer::start(|_, _| Reply::chat(PLAN));
    let base_url = format!("{}/v1", server.base_url);
    let output = run_loop(
        &repository,
        "OPENAI_API_KEY",
        &["--llm-base-url", &base_url],
    );
    assert_eq!(output.status.code(), Some(0), "{}", explain(&output));
    assert_eq!(outcomes(&repository), ["not_tried", "success"]);
}

#[test]
fn a_usage_limit_wait_past_a_bidders_deadline_is_not_the_bidders_failure() {
    let server = ChatServer::start(|_, _| {
        Reply::status(429, r#"{"error":{"message":"usage limit"}}"#).with_header("retry-after", "3")
    });
    let repository = repository(json!({
        "provider": "openai", "model": "test-model",
        "base_url": format!("{}/v1", server.base_url)
    }));
    let path = repository.path().join(".ralph/config.json");
    let mut config: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("config")).expect("JSON");
    for id in ["bidder_1", "bidder_2"] {
        config["bidders"][id]["limits"] = json!({"deadline_ms": 1000});
    }
    std::fs::write(&path, config.to_string()).expect("config");
    let output = run_loop(&repository, "OPENAI_API_KEY", &[]);
    assert_eq!(output.status.code(), Some(1), "{}", explain(&output));
    let finished = finished(&output);
    assert_eq!(finished["status"], "provider_unavailable", "{finished}");
    assert!(
        finished["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("deadline_ms"),
        "{finished}"
    );
    assert!(outcomes(&repository).is_empty(), "no bidder is blamed");
}

#[test]
fn a_usage_limit_while_implementing_gives_the_iteration_back() {
    let limited = ChatServer::start(|_, _| {
        Reply::status(429, r#"{"error":{"message":"usage limit"}}"#)
            .with_header("retry-after", "3600")
    });
    // The bidders' stand-in answers carry no diff, so the model implementer
    // is asked for one, on its own server.
    let repository = repository_with(
        json!({"provider": "deterministic"}),
        json!({"kind": "model", "llm": {
            "provider": "openai", "model": "implementer-model",
            "base_url": format!("{}/v1", limited.base_url)}}),
    );
    let output = run_loop(&repository, "OPENAI_API_KEY", &[]);
    assert_eq!(output.status.code(), Some(1), "{}", explain(&output));
    let finished = finished(&output);
    assert_eq!(finished["status"], "provider_unavailable", "{finished}");
    assert_eq!(finished["budget_used"], 0);
    let chat = limited
        .requests()
        .into_iter()
        .find(|request| request.path.ends_with("/chat/completions"))
        .expect("a model call");
    assert_eq!(chat.body["model"], "implementer-model");
    // The winner is not blamed, and the bidders' answered calls are kept:
    // every proposal is `ranked`, with no weight change.
    let outcomes = outcomes(&repository);
    assert!(!outcomes.is_empty());
    assert!(
        outcomes.iter().all(|outcome| outcome == "ranked"),
        "{outcomes:?}"
    );
}

#[test]
fn the_demo_refuses_a_live_provider_without_a_key() {
    let directory = tempfile::tempdir().expect("temp dir");
    let output = Command::new(common::RALPH)
        .args([
            "demo",
            "--llm-provider",
            "anthropic",
            "--llm-model",
            "claude-test",
            "--dir",
        ])
        .arg(directory.path().join("demo"))
        .env_remove("ANTHROPIC_API_KEY")
        .output()
        .expect("ralph runs");
    assert_eq!(output.status.code(), Some(2), "{}", explain(&output));
    assert!(text(&output.stderr).contains("ANTHROPIC_API_KEY"));
}

#[test]
fn a_context_length_error_is_a_config_error_with_no_event_and_no_blame() {
    let small = ChatServer::start(|_, _| {
        Reply::status(
            400,
            r#"{"error":{"code":"context_length_exceeded","message":"This model's maximum context length is 4096 tokens"}}"#,
        )
    });
    let repository = repository_with(
        json!({"provider": "deterministic"}),
        json!({"kind": "model", "llm": {
            "provider": "openai", "model": "small-model",
            "base_url": format!("{}/v1", small.base_url)}}),
    );
    let output = run_loop(&repository, "OPENAI_API_KEY", &[]);
    assert_eq!(output.status.code(), Some(2), "{}", explain(&output));
    assert_eq!(chats(&small), 1, "a context overflow is never retried");
    let stderr = text(&output.stderr);
    // The error, not the -vvv log lines.
    let error = error_of(&output);
    assert!(error.contains("context window"), "{stderr}");
    assert_eq!(
        error.matches("maximum context length").count(),
        1,
        "the server's words appear once: {stderr}"
    );
    assert!(outcomes(&repository).is_empty(), "nothing is recorded");
}

/// How many model calls a server answered (not its probes).
fn chats(server: &ChatServer) -> usize {
    server.chats().len()
}

#[test]
fn a_context_window_the_server_reports_too_small_for_the_answer_stops_before_the_issue_is_touched()
{
    let server = ChatServer::start(|_, request| {
        if request.path == "/v1/models" {
            Reply::status(
                200,
                r#"{"object":"list","data":[{"id":"small-model","object":"model","max_model_len":2048}]}"#,
            )
        } else {
            Reply::chat(PLAN)
        }
    });
    let repository = repository_with(
        json!({"provider": "deterministic"}),
        json!({"kind": "model", "max_tokens": 4096, "llm": {
            "provider": "openai", "model": "small-model",
            "base_url": format!("{}/v1", server.base_url)}}),
    );
    let before = issue_text(&repository);
    let output = run_loop(&repository, "OPENAI_API_KEY", &[]);
    assert_eq!(output.status.code(), Some(2), "{}", explain(&output));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("implementer.max_tokens") && stderr.contains("2048 tokens"),
        "{stderr}"
    );
    assert_eq!(chats(&server), 0, "no model was called");
    assert!(outcomes(&repository).is_empty(), "nothing is recorded");
    assert_eq!(issue_text(&repository), before, "the issue is untouched");
}

#[test]
fn the_model_implementer_fits_a_large_file_into_the_window_llama_cpp_reports() {
    // About 20,000 tokens of code, in a window of 6,000.
    let mut library = String::from(LIBRARY);
    for index in 0..2000 {
        library.push_str(&format!("pub fn filler_{index}() -> u32 {{ {index} }}\n"));
    }
    let last = library.lines().count();
    let diff = format!(
        "```diff\n--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -{last},0 +{},4 @@\n+\n+pub fn two() -> u32 {{\n+    2\n+}}\n```\n",
        last + 1
    );
    let server = ChatServer::start(move |_, request| match request.path.as_str() {
        "/v1/models" => Reply::status(404, r#"{"error":"not found"}"#),
        "/props" => Reply::status(200, r#"{"default_generation_settings":{"n_ctx":6000}}"#),
        _ => Reply::chat(&diff),
    });
    let planner =
        json!({"plugin": "bundled:persona-planner", "grants": ["repository", "complete"]});
    let config = json!({
        "num_bots": 2,
        "bidders": {"bidder_1": planner, "bidder_2": planner},
        "specialists": [],
        "checks": [],
        "llm": {"provider": "deterministic"},
        "implementer": {"kind": "model", "max_tokens": 1024, "llm": {
            "provider": "openai", "model": "local",
            "base_url": format!("{}/v1", server.base_url)}},
    });
    let repository = Repository::for_loop(
        &[("src/lib.rs", &library)],
        &config,
        &["Add `two` to src/lib.rs"],
    );
    let output = run_loop(&repository, "OPENAI_API_KEY", &[]);
    assert_eq!(output.status.code(), Some(0), "{}", explain(&output));
    let requests = server.requests();
    let chat = requests
        .iter()
        .find(|request| request.path == "/v1/chat/completions")
        .expect("the implementer asked the model");
    let prompt: String = chat.body["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter_map(|message| message["content"].as_str())
        .collect();
    assert!(
        prompt.len() / 3 + 1024 <= 6000,
        "the prompt ({} bytes) fits the window with the answer",
        prompt.len()
    );
    assert!(
        prompt.contains("### src/lib.rs (excerpts of 2003 lines)"),
        "{prompt}"
    );
    assert!(prompt.contains("<<<issue"), "the issue is in the prompt");
    assert!(issue_text(&repository).contains("- [x] Add `two` to src/lib.rs"));
}

#[test]
fn a_bidder_on_its_own_model_is_priced_by_that_model() {
    let server = ChatServer::start(|_, _| Reply::chat(PLAN));
    let base_url = format!("{}/v1", server.base_url);
    let planner =
        json!({"plugin": "bundled:persona-planner", "grants": ["repository", "complete"]});
    let mut small = planner.clone();
    small["llm"] = json!({"model": "small-model"});
    let config = json!({
        "num_bots": 2,
        "bidders": {"bidder_1": planner, "bidder_2": small},
        "specialists": [],
        "checks": [],
        "llm": {"provider": "openai", "model": "big-model", "base_url": base_url},
        "metering": {"prices": {
            "big-model": {"input_per_million": 10.0, "output_per_million": 10.0},
            "small-model": {"input_per_million": 1.0, "output_per_million": 1.0}}},
    });
    let repository = Repository::for_loop(&[("src/lib.rs", LIBRARY)], &config, &["Add two"]);
    let output = run_loop(&repository, "OPENAI_API_KEY", &[]);
    assert_eq!(output.status.code(), Some(0), "{}", explain(&output));
    let models: Vec<String> = server
        .requests()
        .iter()
        .map(|request| request.body["model"].as_str().unwrap_or("").to_owned())
        .collect();
    assert!(models.contains(&"big-model".to_owned()) && models.contains(&"small-model".to_owned()));
    // Each answer is 120 tokens in and 40 out.
    let cost_of = |bot: &str| -> f64 {
        std::fs::read_dir(repository.events_dir())
            .expect("events")
            .filter_map(|entry| {
                let event: Value =
                    serde_json::from_slice(&std::fs::read(entry.ok()?.path()).ok()?).ok()?;
                (event["bot_id"] == bot).then(|| event["usage"]["cost_usd"].as_f64())?
            })
            .sum()
    };
    assert!(
        (cost_of("bidder_1") - 160.0 * 10.0 / 1e6).abs() < 1e-12,
        "{}",
        cost_of("bidder_1")
    );
    assert!(
        (cost_of("bidder_2") - 160.0 * 1.0 / 1e6).abs() < 1e-12,
        "{}",
        cost_of("bidder_2")
    );
}

#[test]
fn two_bidders_running_one_plugin_each_ask_their_own_model_and_are_metered_apart() {
    let first = ChatServer::start(|_, _| Reply::chat(PLAN));
    let second = ChatServer::start(|_, _| Reply::chat(PLAN));
    let bidder = |server: &ChatServer, model: &str| {
        json!({"plugin": "bundled:smallest-change", "grants": ["repository", "complete"],
               "llm": {"provider": "openai", "model": model,
                       "base_url": format!("{}/v1", server.base_url)}})
    };
    let config = json!({
        "num_bots": 2,
        "bidders": {"bidder_1": bidder(&first, "model-one"), "bidder_2": bidder(&second, "model-two")},
        "specialists": [],
        "checks": [{"name": "no-bugs", "argv": ["sh", "-c", "! grep -q BUG src/lib.rs"],
                    "category": "test", "timeout_seconds": 20}],
    });
    let repository = Repository::for_loop(&[("src/lib.rs", LIBRARY)], &config, &["Add two"]);
    let output = run_loop(&repository, "UNUSED_KEY", &[]);
    assert_eq!(output.status.code(), Some(0), "{}", explain(&output));
    assert_eq!(outcomes(&repository), ["not_tried", "success"]);

    for (server, model) in [(&first, "model-one"), (&second, "model-two")] {
        let requests = server.requests();
        assert_eq!(requests.len(), 1, "{model}: one call from its own bidder");
        assert_eq!(requests[0].body["model"], model);
    }
    let usage = repository.ralph(&["marketplace", "usage", "--json"]);
    assert!(usage.status.success(), "{}", explain(&usage));
    let usage: Value = serde_json::from_slice(&usage.stdout).expect("usage JSON");
    for bidder in ["bidder_1", "bidder_2"] {
        assert_eq!(
            usage["bidders"][bidder]["proposing"]["calls"], 1,
            "{bidder}: {usage}"
        );
    }
    assert_eq!(usage["total"]["calls"], 2, "{usage}");
}

#[test]
fn answers_without_text_or_not_json_are_still_metered_calls() {
    for (body, input_tokens) in [
        (
            r#"{"choices":[{"index":0,"message":{"role":"assistant","content":""}}],"usage":{"prompt_tokens":10,"completion_tokens":0}}"#,
            10,
        ),
        ("this is not JSON", 0),
    ] {
        let server = ChatServer::start(move |_, _| Reply::status(200, body));
        let repository = repository(json!({
            "provider": "openai", "model": "test-model",
            "base_url": format!("{}/v1", server.base_url)
        }));
        let output = run_loop(&repository, "OPENAI_API_KEY", &[]);
        assert!(
            matches!(output.status.code(), Some(1..=3)),
            "it ends by itself: {}",
            explain(&output)
        );
        let usage = repository.ralph(&["marketplace", "usage", "--json"]);
        let usage: Value = serde_json::from_slice(&usage.stdout).expect("usage JSON");
        let calls = chats(&server) as u64;
        assert!(calls > 0, "the bidders asked the model");
        assert_eq!(usage["total"]["calls"], calls, "{body}: {usage}");
        assert_eq!(
            usage["total"]["input_tokens"],
            calls * input_tokens,
            "{body}: {usage}"
        );
    }
}
