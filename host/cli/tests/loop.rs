//! `ralph marketplace loop`, driven through the real binary on temporary git
//! repositories with scripted bidders (`host/broker/tests/scripted/`).

mod common;

use std::process::{Command, Output};

use common::{Repository, git, text};
use serde_json::{Value, json};

const LIBRARY: &str = "pub fn one() -> u32 {\n    1\n}\n";

/// A patch adding `fn NAME() -> u32 { VALUE }` after the last line of
/// `src/lib.rs`, whose current line count is `lines`.
fn add_function(lines: usize, name: &str, value: u32) -> String {
    format!(
        "--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -{lines},0 +{},4 @@\n+\n+pub fn {name}() -> u32 {{\n+    {value}\n+}}\n",
        lines + 1
    )
}

/// A git repository with a small library, a marketplace whose bidders are
/// the scripted test bidders, `checks`, and issue #1 with `checkboxes`.
fn repository(checks: Value, checkboxes: &[&str]) -> Repository {
    let config = json!({
        "num_bots": 3,
        "bidders": {
            "bidder_1": {"plugin": ralph_broker_fixtures::SCRIPTED_A_PATH, "grants": ["repository"]},
            "bidder_2": {"plugin": ralph_broker_fixtures::SCRIPTED_B_PATH, "grants": ["repository"]},
            "bidder_3": {"plugin": ralph_broker_fixtures::SCRIPTED_C_PATH, "grants": ["repository"]},
        },
        "specialists": [],
        "checks": checks,
    });
    let repository = Repository::for_loop(&[("src/lib.rs", LIBRARY)], &config, checkboxes);
    std::fs::create_dir_all(repository.path().join("ralph-script")).expect("mkdir");
    repository
}

/// Scripts bidder `letter` with one entry per round, committed: bidders
/// read a clean checkout of the commit a round works on.
fn script(repository: &Repository, letter: &str, rounds: Value) {
    repository.commit_file(&format!("ralph-script/{letter}.json"), &rounds.to_string());
}

/// Fails with the loop's output unless it exited 0.
fn assert_succeeded(output: &Output) {
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}\n{}",
        text(&output.stdout),
        text(&output.stderr)
    );
}

fn run_loop(repository: &Repository) -> (Output, Vec<Value>) {
    repository.loop_steps()
}

fn steps_named<'a>(steps: &'a [Value], name: &str) -> Vec<&'a Value> {
    steps.iter().filter(|step| step["step"] == name).collect()
}

fn events(repository: &Repository) -> Vec<Value> {
    repository.events()
}

fn outcomes(repository: &Repository) -> Vec<(String, String)> {
    events(repository)
        .iter()
        .map(|event| {
            (
                event["bot_id"].as_str().unwrap_or("").to_owned(),
                event["outcome"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

/// `bot:outcome` of every event, sorted, for comparing as a set.
fn sorted_outcomes(repository: &Repository) -> Vec<String> {
    let mut pairs: Vec<String> = outcomes(repository)
        .into_iter()
        .map(|(bot, outcome)| format!("{bot}:{outcome}"))
        .collect();
    pairs.sort();
    pairs
}

fn issue_text(repository: &Repository) -> String {
    std::fs::read_to_string(repository.path().join(".ralph/issues/1.md")).expect("issue")
}

/// A check that passes when `src/lib.rs` in the worktree contains `needle`
/// or does not change at all (so the baseline passes).
fn grep_check(name: &str, forbidden: &str) -> Value {
    json!({"name": name, "argv": ["sh", "-c", format!("! grep -q '{forbidden}' src/lib.rs")],
           "category": "test", "timeout_seconds": 20})
}

/// Issue #1 "Add two" with a check against `BUG`, and three proposals:
/// bidder_1's adds `two` and scores best, bidder_2's is a plan without a
/// patch, bidder_3's adds `two` claiming a far larger change.
fn two_ways_to_add_two() -> Repository {
    let repository = repository(json!([grep_check("no-bugs", "BUG")]), &["Add two"]);
    script(
        &repository,
        "a",
        json!([{"summary": "add two", "patch": add_function(3, "two", 2),
        "files": [["src/lib.rs", 4]], "tests": ["two returns 2"]}]),
    );
    script(
        &repository,
        "b",
        json!([{"summary": "plan only, no patch"}]),
    );
    script(
        &repository,
        "c",
        json!([{"summary": "add two, badly", "patch": add_function(3, "two", 2),
        "files": [["src/lib.rs", 400], ["src/other.rs", 200], ["a/b/c.rs", 90]]}]),
    );
    repository
}

#[test]
fn a_clean_success_ticks_every_checkbox_and_writes_a_pull_request_record() {
    let repository = two_ways_to_add_two();
    let (output, steps) = run_loop(&repository);
    assert_succeeded(&output);
    assert_eq!(steps_named(&steps, "finished")[0]["status"], "complete");
    assert!(issue_text(&repository).contains("- [x] Add two"));
    assert!(repository.path().join(".ralph/pulls/1.md").is_file());
    let record = std::fs::read_to_string(repository.path().join(".ralph/pulls/1.md")).expect("pr");
    assert!(record.contains("Closes #1"), "{record}");
    assert_eq!(
        sorted_outcomes(&repository),
        [
            "bidder_1:success",
            "bidder_2:not_tried",
            "bidder_3:not_tried"
        ]
    );
    let branch_file = git(
        repository.path(),
        &["show", "ralph/1-add-numbers:src/lib.rs"],
    );
    assert!(branch_file.contains("pub fn two()"), "{branch_file}");
    let labels = issue_text(&repository);
    assert!(!labels.contains("in-progress"), "{labels}");
}

#[test]
fn a_failure_starts_a_replan_round_that_can_succeed() {
    let repository = repository(json!([grep_check("no-bugs", "BUG")]), &["Add two"]);
    script(
        &repository,
        "a",
        json!([{"summary": "add two with a bug",
        "patch": add_function(3, "two", 2).replace("+    2", "+    2 // BUG"), "files": [["src/lib.rs", 4]],
        "tests": ["t"]},
        {"summary": "add two without the bug", "patch": add_function(3, "two", 2),
         "files": [["src/lib.rs", 4]], "tests": ["t"]}]),
    );
    script(&repository, "b", json!([{"summary": "nothing to offer"}]));
    script(
        &repository,
        "c",
        json!([{"summary": "nothing either, different words"}]),
    );
    let (output, steps) = run_loop(&repository);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stdout));
    let rounds = steps_named(&steps, "round_started");
    assert_eq!(rounds.len(), 2);
    assert_eq!(rounds[1]["kind"], "replan");
    assert!(
        rounds[1]["failure_report"]
            .as_str()
            .unwrap_or("")
            .contains("no-bugs")
    );
    let outcomes = outcomes(&repository);
    assert_eq!(outcomes[0], ("bidder_1".to_owned(), "failure".to_owned()));
    assert!(outcomes.contains(&("bidder_1".to_owned(), "success".to_owned())));
    let replan_success = events(&repository)
        .into_iter()
        .find(|event| event["outcome"] == "success")
        .expect("success event");
    assert_eq!(replan_success["round_kind"], "replan");
    assert!(
        replan_success["case"]
            .to_string()
            .contains("replan_succeeded")
    );
}

#[test]
fn a_failed_replan_round_labels_the_issue_attention_needed() {
    let repository = repository(json!([grep_check("no-bugs", "BUG")]), &["Add two"]);
    let buggy = add_function(3, "two", 2).replace("+    2", "+    2 // BUG");
    script(
        &repository,
        "a",
        json!([{"summary": "buggy one", "patch": buggy, "files": [["src/lib.rs", 4]]},
        {"summary": "buggy two", "patch": buggy.replace("two", "deux"), "files": [["src/lib.rs", 4]]}]),
    );
    script(&repository, "b", json!([{"summary": "no patch here"}]));
    script(&repository, "c", json!([{"summary": "nor here at all"}]));
    let (output, steps) = run_loop(&repository);
    assert_eq!(output.status.code(), Some(3), "{}", text(&output.stdout));
    assert_eq!(
        steps_named(&steps, "finished")[0]["status"],
        "attention_needed"
    );
    let issue = issue_text(&repository);
    assert!(issue.contains("attention-needed"), "{issue}");
    assert!(issue.contains("replan round failed"), "{issue}");
    assert!(issue.contains("- [ ] Add two"));
}

#[test]
fn a_spent_budget_stops_the_loop_with_attention_needed() {
    let repository = repository(json!([]), &["Add two", "Add three", "Add four"]);
    // A pool of 2 for 2 bidders, one iteration each: bidder_1 spends its
    // one winning round 1; round 2 falls to bidder_2, whose patch does not
    // apply and fails; then the pool is spent.
    let mut config: Value = serde_json::from_str(
        &std::fs::read_to_string(repository.path().join(".ralph/config.json")).expect("config"),
    )
    .expect("json");
    config["num_bots"] = json!(2);
    config["base_budget_per_bot"] = json!(1);
    config["bidders"]
        .as_object_mut()
        .expect("object")
        .remove("bidder_3");
    std::fs::write(
        repository.path().join(".ralph/config.json"),
        config.to_string(),
    )
    .expect("write");
    script(
        &repository,
        "a",
        json!([
        {"summary": "add two", "patch": add_function(3, "two", 2), "covers": 1},
        {"summary": "add three", "patch": add_function(7, "three", 3), "covers": 1}]),
    );
    script(
        &repository,
        "b",
        json!([{"summary": "a patch for another file", "covers": 1,
                "patch": "--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -90,1 +90,1 @@\n-nothing here\n+still nothing\n"}]),
    );
    let (output, steps) = run_loop(&repository);
    assert_eq!(output.status.code(), Some(3), "{}", text(&output.stdout));
    let finished = steps_named(&steps, "finished")[0];
    assert!(
        finished["reason"].as_str().unwrap_or("").contains("budget"),
        "{finished}"
    );
    assert_eq!(finished["budget_used"], 2);
    let issue = issue_text(&repository);
    assert!(
        issue.contains("- [x] Add two") && issue.contains("- [ ] Add three"),
        "{issue}"
    );
    assert!(
        issue.contains("attention-needed") && issue.contains("budget"),
        "{issue}"
    );
    assert_eq!(
        sorted_outcomes(&repository),
        ["bidder_1:success", "bidder_2:failure", "bidder_2:not_tried"]
    );
}

#[test]
fn a_bidder_that_traps_loses_its_turn_and_the_round_goes_on() {
    let repository = repository(json!([]), &["Add two"]);
    script(
        &repository,
        "a",
        json!([{"summary": "add two", "patch": add_function(3, "two", 2)}]),
    );
    script(&repository, "b", json!([{"summary": "boom", "trap": true}]));
    script(
        &repository,
        "c",
        json!([{"summary": "a plan with no patch at all"}]),
    );
    let (output, steps) = run_loop(&repository);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stdout));
    assert_eq!(steps_named(&steps, "proposal_failed").len(), 1);
    let error = events(&repository)
        .into_iter()
        .find(|event| event["outcome"] == "error")
        .expect("an error event");
    assert_eq!(error["bot_id"], "bidder_2");
    assert_eq!(error["weight_delta"], 0.0);
}

#[test]
fn a_check_that_hangs_is_killed_at_its_timeout_and_counts_as_failed() {
    let hang = json!({"name": "hangs", "category": "test", "timeout_seconds": 1,
        "argv": ["sh", "-c", "if grep -q two src/lib.rs; then sleep 60; fi"]});
    let repository = repository(json!([hang]), &["Add two"]);
    script(
        &repository,
        "a",
        json!([{"summary": "add two", "patch": add_function(3, "two", 2)}]),
    );
    script(&repository, "b", json!([{"summary": "no patch"}]));
    script(&repository, "c", json!([{"summary": "no patch either"}]));
    let started = std::time::Instant::now();
    let (output, steps) = run_loop(&repository);
    assert!(
        started.elapsed().as_secs() < 50,
        "the hang was not cut short"
    );
    assert_eq!(output.status.code(), Some(3), "{}", text(&output.stdout));
    let checks = steps_named(&steps, "check");
    assert!(
        checks
            .iter()
            .any(|check| check["name"] == "hangs" && check["passed"] == false)
    );
}

#[test]
fn the_users_dirty_worktree_and_branch_are_never_touched() {
    let repository = repository(json!([]), &["Add two"]);
    script(
        &repository,
        "a",
        json!([{"summary": "add two", "patch": add_function(3, "two", 2)}]),
    );
    script(&repository, "b", json!([{"summary": "no patch"}]));
    script(&repository, "c", json!([{"summary": "no patch either"}]));
    let root = repository.path();
    std::fs::write(
        root.join("src/lib.rs"),
        format!("{LIBRARY}// work in progress\n"),
    )
    .expect("edit");
    std::fs::write(root.join("notes.txt"), "mine").expect("untracked");
    let (output, _) = run_loop(&repository);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stdout));
    assert_eq!(
        std::fs::read_to_string(root.join("src/lib.rs")).expect("read"),
        format!("{LIBRARY}// work in progress\n")
    );
    assert_eq!(
        std::fs::read_to_string(root.join("notes.txt")).expect("read"),
        "mine"
    );
    assert_eq!(
        git(root, &["rev-parse", "--abbrev-ref", "HEAD"]).trim(),
        "main"
    );
}

#[test]
fn an_issue_that_is_not_ready_is_refused() {
    let repository = repository(json!([]), &["Add two"]);
    let issue = issue_text(&repository).replace("labels: [ready]", "labels: [in-refinement]");
    std::fs::write(repository.path().join(".ralph/issues/1.md"), issue).expect("write");
    let output = repository.ralph(&["marketplace", "loop", "1"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("not ready"),
        "{}",
        text(&output.stderr)
    );
    assert!(
        repository
            .events_dir()
            .read_dir()
            .expect("events")
            .next()
            .is_none()
    );
}

#[test]
fn a_bad_integrations_section_stops_the_loop_before_the_issue_is_touched() {
    let repository = repository(json!([]), &["Add two"]);
    configure(&repository, |config| {
        config["integrations"] = json!({"aws": {"regoin": "eu-west-1"}});
    });
    let before = issue_text(&repository);
    let output = repository.ralph(&["marketplace", "loop", "1"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("config.json"), "{stderr}");
    assert!(stderr.contains("integrations.aws.regoin"), "{stderr}");
    assert_eq!(issue_text(&repository), before);
    assert!(!repository.path().join(".ralph/worktrees/1").exists());
}

#[test]
fn an_interrupted_loop_stops_between_checks_and_resumes() {
    // The slow check marks when it starts (in the worktree, the only place
    // a sandboxed check may write) and runs for two seconds.
    let slow = json!({"name": "slow", "category": "test", "timeout_seconds": 30,
        "argv": ["sh", "-c", "if grep -q two src/lib.rs; then touch check-started; sleep 2; rm -f check-started; fi"]});
    let fast = json!({"name": "fast", "category": "lint", "argv": ["true"]});
    let repository = repository(json!([slow, fast]), &["Add two", "Add three"]);
    script(
        &repository,
        "a",
        json!([
        {"summary": "add two", "patch": add_function(3, "two", 2), "covers": 1},
        {"summary": "add three", "patch": add_function(7, "three", 3), "covers": 1}]),
    );
    script(
        &repository,
        "b",
        json!([{"summary": "no patch", "covers": 1}]),
    );
    script(
        &repository,
        "c",
        json!([{"summary": "no patch either", "covers": 1}]),
    );
    let child = repository
        .command(&["marketplace", "loop", "1", "--json"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let marker = repository.path().join(".ralph/worktrees/1/check-started");
    let started = std::time::Instant::now();
    while !marker.exists() {
        assert!(
            started.elapsed().as_secs() < 60,
            "the slow check never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    send_sigterm(child.id());
    let output = child.wait_with_output().expect("wait");
    assert_eq!(output.status.code(), Some(130), "{}", text(&output.stdout));
    let steps: Vec<Value> = text(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    let checks: Vec<&Value> = steps_named(&steps, "check");
    assert!(
        checks.is_empty(),
        "no check after the stop is judged: {checks:?}"
    );
    // The unfinished attempt changes no weight, but what the round used
    // is kept: every proposal is `ranked`, the winner's event first.
    let recorded = events(&repository);
    assert!(!recorded.is_empty(), "the round is recorded");
    for event in &recorded {
        assert_eq!(event["outcome"], "ranked", "{event}");
        assert_eq!(event["weight_delta"], 0.0, "{event}");
        assert!(event["proposal_dimensions"].is_object(), "{event}");
        assert!(event["tie_break"].is_boolean(), "{event}");
    }
    assert!(
        recorded.iter().any(|event| event["rank"] == 1),
        "the winner's unfinished attempt is recorded"
    );
    let worktree_file =
        std::fs::read_to_string(repository.path().join(".ralph/worktrees/1/src/lib.rs"))
            .expect("worktree left for inspection");
    assert!(worktree_file.contains("pub fn two()"));
    let issue = issue_text(&repository);
    assert!(
        issue.contains("in-progress") && issue.contains("ralph"),
        "{issue}"
    );

    let (output, _) = run_loop(&repository);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stdout));
    let issue = issue_text(&repository);
    assert!(
        issue.contains("- [x] Add two") && issue.contains("- [x] Add three"),
        "{issue}"
    );
    for file in std::fs::read_dir(repository.events_dir()).expect("events") {
        let bytes = std::fs::read(file.expect("entry").path()).expect("read");
        assert!(
            ralph_marketplace::Event::parse(&bytes).is_ok(),
            "a half-written event"
        );
    }
}

fn send_sigterm(id: u32) {
    let status = Command::new("kill")
        .args(["-TERM", &id.to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

#[test]
fn the_events_a_loop_writes_fold_to_the_status_it_printed() {
    let repository = repository(json!([grep_check("no-bugs", "BUG")]), &["Add two"]);
    script(
        &repository,
        "a",
        json!([{"summary": "buggy", "patch": add_function(3, "two", 2).replace("+    2", "+    2 // BUG")},
        {"summary": "fixed", "patch": add_function(3, "two", 2)}]),
    );
    script(&repository, "b", json!([{"summary": "no patch"}]));
    script(&repository, "c", json!([{"summary": "trap", "trap": true}]));
    let (output, steps) = run_loop(&repository);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stdout));
    let printed = &steps_named(&steps, "status")[0]["state"];
    std::fs::remove_file(repository.path().join(".ralph/marketplace.json")).expect("drop cache");
    assert_eq!(&repository.status_json(), printed);
    assert!(printed["event_count"].as_u64().unwrap_or(0) >= 4);
}

/// Changes the marketplace config of `repository` with `change`.
fn configure(repository: &Repository, change: impl FnOnce(&mut Value)) {
    let path = repository.path().join(".ralph/config.json");
    let mut config: Value =
        serde_json::from_slice(&std::fs::read(&path).expect("read the config")).expect("json");
    change(&mut config);
    std::fs::write(&path, serde_json::to_string_pretty(&config).expect("json")).expect("write");
}

fn usage_of(event: &Value) -> Value {
    event["usage"].clone()
}

/// Each scripted completion is `You plan changes.` (17 bytes) and `plan the
/// change` (15 bytes) with `max-tokens` 20: estimated at 8 + 20 = 28
/// tokens; the deterministic provider charges 6 in and 3 out. A cap of 40
/// lets two calls through (0 + 28, 9 + 28) and refuses the third (18 + 28).
#[test]
fn a_bidders_tokens_are_capped_per_round_and_recorded_with_their_cost() {
    let repository = repository(json!([]), &["Add two"]);
    configure(&repository, |config| {
        config["bidders"]["bidder_1"]["grants"] = json!(["repository", "complete"]);
        config["bidders"]["bidder_1"]["max_tokens_per_round"] = json!(40);
        config["bidders"]["bidder_2"]["grants"] = json!(["repository", "complete"]);
        config["metering"] = json!({
            "round_token_cap": 1000,
            "prices": {"*": {"input_per_million": 1000.0, "output_per_million": 2000.0}},
        });
    });
    script(
        &repository,
        "a",
        json!([{"summary": "add two", "patch": add_function(3, "two", 2),
        "files": [["src/lib.rs", 4]], "tests": ["two returns 2"], "completions": 10}]),
    );
    script(
        &repository,
        "b",
        json!([{"summary": "plan only, no patch", "completions": 2}]),
    );
    script(
        &repository,
        "c",
        json!([{"summary": "a plan with no patch at all"}]),
    );
    let (output, steps) = run_loop(&repository);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let refused: Vec<&Value> = steps_named(&steps, "proposal_received")
        .into_iter()
        .filter(|step| {
            step["summary"]
                .as_str()
                .unwrap_or("")
                .contains("[refused: PluginError::LimitExceeded")
        })
        .collect();
    assert_eq!(refused.len(), 1, "only bidder_1's third call is refused");
    let events = events(&repository);
    let of = |bot: &str| {
        events
            .iter()
            .find(|event| event["bot_id"] == bot)
            .map(usage_of)
            .unwrap_or_default()
    };
    assert_eq!(
        of("bidder_1"),
        json!({"calls": 2, "input_tokens": 12, "output_tokens": 6, "cost_usd": 0.024})
    );
    assert_eq!(
        of("bidder_2"),
        json!({"calls": 2, "input_tokens": 12, "output_tokens": 6, "cost_usd": 0.024})
    );
    assert_eq!(
        of("bidder_3"),
        json!({"calls": 0, "input_tokens": 0, "output_tokens": 0, "cost_usd": 0.0})
    );

    let usage = repository.ralph(&["marketplace", "usage", "--issue", "1", "--json"]);
    assert!(usage.status.success(), "{}", text(&usage.stderr));
    let report: Value = serde_json::from_slice(&usage.stdout).expect("usage JSON");
    assert_eq!(report["issue"], 1);
    assert_eq!(report["total"]["calls"], 4);
    assert_eq!(report["total"]["input_tokens"], 24);
    assert_eq!(report["total"]["cost_usd"], 0.048);
    assert_eq!(
        report["bidders"]["bidder_1"]["proposing"]["output_tokens"],
        6
    );
    let other = repository.ralph(&["marketplace", "usage", "--issue", "2", "--json"]);
    let other: Value = serde_json::from_slice(&other.stdout).expect("usage JSON");
    assert_eq!(other["total"]["records"], 0);

    let status = repository.ralph(&["marketplace", "status"]);
    let status = text(&status.stdout);
    assert!(status.contains("Model usage"), "{status}");
    let state = repository.status_json();
    let keys: Vec<&str> = state
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    assert!(
        !keys.contains(&"usage"),
        "status --json is the state only: {keys:?}"
    );
}

#[test]
fn the_model_implementers_usage_is_recorded_on_the_winners_event() {
    let repository = repository(json!([]), &["Add two"]);
    configure(&repository, |config| {
        config["implementer"] = json!({"kind": "model", "max_tokens": 50});
        config["metering"] = json!({
            "model": "stand-in",
            "prices": {"stand-in": {"input_per_million": 0.0, "output_per_million": 1000000.0}},
        });
    });
    for letter in ["a", "b", "c"] {
        script(
            &repository,
            letter,
            json!([{"summary": format!("plan {letter}")}]),
        );
    }
    let (output, _steps) = run_loop(&repository);
    assert_eq!(output.status.code(), Some(3), "{}", text(&output.stderr));
    let events = events(&repository);
    assert!(
        events.iter().all(|event| event["outcome"] != "failure"),
        "the implementer's model failing is no bidder's failure: {events:?}"
    );
    // The winner's attempt ended with the implementer's `error`.
    let failure = events
        .into_iter()
        .find(|event| event["outcome"] == "error")
        .expect("an error event");
    assert_eq!(failure["error_source"], "implementer", "{failure}");
    assert_eq!(failure["weight_delta"], 0.0, "{failure}");
    let usage = &failure["implementation_usage"];
    // The deterministic stand-in answers without a diff: asked twice, each
    // answer three words (three output tokens at a dollar each).
    assert_eq!(usage["calls"], 2, "{failure}");
    assert_eq!(usage["output_tokens"], 6, "{failure}");
    assert_eq!(usage["cost_usd"], 6.0, "{failure}");
    assert_eq!(
        failure["usage"],
        json!({"calls": 0, "input_tokens": 0, "output_tokens": 0, "cost_usd": 0.0})
    );
}

#[test]
fn the_configured_persona_and_personality_reach_the_bidder() {
    let repository = repository(json!([]), &["Add two"]);
    std::fs::create_dir_all(repository.path().join(".claude/agents")).expect("mkdir");
    std::fs::write(
        repository.path().join(".claude/agents/cautious.md"),
        "You are Carl, a cautious bidder.\nSmall steps only.\n",
    )
    .expect("persona");
    configure(&repository, |config| {
        config["bidders"]["bidder_1"]["persona"] = json!("cautious");
        config["bidders"]["bidder_1"]["personality"] = json!({"risk_tolerance": "conservative", "innovation_preference": "high",
                   "verbosity": "terse"});
    });
    script(
        &repository,
        "a",
        json!([{"summary": "add two", "patch": add_function(3, "two", 2), "echo_context": true}]),
    );
    script(
        &repository,
        "b",
        json!([{"summary": "plan b", "echo_context": true}]),
    );
    script(&repository, "c", json!([{"summary": "plan c"}]));
    let (output, steps) = run_loop(&repository);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let summaries: Vec<String> = steps_named(&steps, "proposal_received")
        .iter()
        .map(|step| step["summary"].as_str().unwrap_or("").to_owned())
        .collect();
    assert!(
        summaries.iter().any(|summary| summary
            == "add two [persona: You are Carl, a cautious bidder.] [personality: \
                RiskTolerance::Conservative/InnovationPreference::High/Verbosity::Terse]"),
        "{summaries:?}"
    );
    // bidder_2 names no persona: it gets the repository's default one
    // (`ralph marketplace setup` wrote .claude/agents/bidder.md).
    assert!(
        summaries
            .iter()
            .any(|summary| summary == "plan b [persona: ---] [personality: none]"),
        "{summaries:?}"
    );
}

#[test]
fn a_persona_the_config_names_must_exist() {
    let repository = repository(json!([]), &["Add two"]);
    configure(&repository, |config| {
        config["bidders"]["bidder_2"]["persona"] = json!("ghost");
    });
    let (output, _steps) = run_loop(&repository);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stdout));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("bidders.bidder_2.persona") && stderr.contains(".claude/agents/ghost.md"),
        "{stderr}"
    );
    assert!(events(&repository).is_empty());
}

/// Issue #1 where the winner fails the check in round 1 and succeeds in
/// the replan round with a patch that adds an `unwrap()`.
fn replanned_repository(specialists: Value) -> Repository {
    let repository = repository(json!([grep_check("no-bugs", "BUG")]), &["Add two"]);
    configure(&repository, |config| config["specialists"] = specialists);
    script(
        &repository,
        "a",
        json!([{"summary": "add two with a bug", "tests": ["t"],
        "patch": add_function(3, "two", 2).replace("+    2", "+    2 // BUG"),
        "files": [["src/lib.rs", 4]]},
        {"summary": "add two without the bug", "tests": ["t"],
         "patch": add_function(3, "two", 2).replace("+    2", "+    Some(2).unwrap()"),
         "files": [["src/lib.rs", 4]]}]),
    );
    script(&repository, "b", json!([{"summary": "nothing to offer"}]));
    script(
        &repository,
        "c",
        json!([{"summary": "nothing either, different words"}]),
    );
    repository
}

/// The name of every step, in order.
fn step_names(steps: &[Value]) -> Vec<String> {
    steps
        .iter()
        .map(|step| step["step"].as_str().unwrap_or("").to_owned())
        .collect()
}

#[test]
fn specialists_review_each_winner_before_it_is_implemented_and_change_nothing_recorded() {
    let plain = replanned_repository(json!([]));
    let (plain_output, plain_steps) = run_loop(&plain);
    assert_eq!(
        plain_output.status.code(),
        Some(0),
        "{}",
        text(&plain_output.stdout)
    );
    assert!(steps_named(&plain_steps, "reviewed").is_empty());

    let reviewed = replanned_repository(json!([
        {"plugin": "bundled:change-risk", "grants": ["repository"]},
        {"plugin": "bundled:rust-conventions", "grants": ["repository"]},
    ]));
    let (output, steps) = run_loop(&reviewed);
    assert_succeeded(&output);
    assert!(steps_named(&steps, "review_failed").is_empty(), "{steps:?}");

    // Two rounds, each reviewed by both specialists after the ranking and
    // before the implementation.
    let names = step_names(&steps);
    for (round, window) in names
        .split(|name| name == "round_started")
        .skip(1)
        .enumerate()
    {
        let ranked = window.iter().position(|name| name == "ranked");
        let implementing = window.iter().position(|name| name == "implementing");
        let reviews: Vec<usize> = window
            .iter()
            .enumerate()
            .filter(|(_, name)| *name == "reviewed")
            .map(|(index, _)| index)
            .collect();
        assert_eq!(reviews.len(), 2, "round {}: {window:?}", round + 1);
        assert!(
            reviews
                .iter()
                .all(|index| Some(*index) > ranked && Some(*index) < implementing),
            "round {}: {window:?}",
            round + 1
        );
    }
    let reviews = steps_named(&steps, "reviewed");
    assert_eq!(reviews.len(), 4);
    let of = |index: usize| {
        (
            reviews[index]["specialist"].as_str().unwrap_or(""),
            reviews[index]["findings"].to_string(),
        )
    };
    assert_eq!(of(0).0, "change-risk");
    assert!(
        of(0).1.contains(r#""severity":"info""#) && of(0).1.contains("Low risk: 1 file(s)"),
        "{}",
        of(0).1
    );
    assert_eq!(of(1), ("rust-conventions", "[]".to_owned()));
    assert_eq!(of(3).0, "rust-conventions");
    assert!(
        of(3).1.contains(r#""severity":"warning""#) && of(3).1.contains("unwrap()"),
        "{}",
        of(3).1
    );
    // Each names the proposal implemented after it.
    let implemented: Vec<&Value> = steps_named(&steps, "implementing")
        .iter()
        .map(|step| &step["label"])
        .collect();
    assert_eq!(implemented.len(), 2);
    for (index, review) in reviews.iter().enumerate() {
        assert_eq!(&review["label"], implemented[index / 2], "{review}");
    }

    // Reviews change no score, event, weight or budget. (Labels follow
    // the order proposals arrive in, so they are left out.)
    assert_eq!(sorted_outcomes(&reviewed), sorted_outcomes(&plain));
    assert_eq!(events(&reviewed).len(), events(&plain).len());
    let without_labels = |steps: &[Value], name: &str| -> Vec<Value> {
        steps_named(steps, name)
            .into_iter()
            .map(|step| {
                let mut step = step.clone();
                if let Some(object) = step.as_object_mut() {
                    object.remove("label");
                    // One repository's config was changed and not committed.
                    object.remove("to_commit");
                }
                if let Some(state) = step["state"].as_object_mut() {
                    state.remove("last_updated");
                }
                // Weights are sums over events folded in timestamp order;
                // they are compared to the last few bits.
                if let Some(bots) = step["state"]["bots"].as_object_mut() {
                    for bot in bots.values_mut() {
                        let weight = bot["weight"].as_f64().unwrap_or(f64::NAN);
                        bot["weight"] = json!(format!("{weight:.12}"));
                    }
                }
                step
            })
            .collect()
    };
    for name in ["outcome", "ticked", "status", "finished"] {
        assert_eq!(
            without_labels(&steps, name),
            without_labels(&plain_steps, name),
            "{name}"
        );
    }
    let totals = |steps: &[Value]| -> Vec<String> {
        let mut totals: Vec<String> = steps_named(steps, "proposal_received")
            .iter()
            .map(|step| step["total"].to_string())
            .collect();
        totals.sort();
        totals
    };
    assert_eq!(totals(&steps), totals(&plain_steps));

    // The record has the successful round's reviews, in the markdown and
    // in the data.
    let record =
        std::fs::read_to_string(reviewed.path().join(".ralph/pulls/1.md")).expect("record");
    let section = &record[record.find("## Specialist reviews").expect("a section")..];
    assert!(section.contains("| change-risk | info |"), "{section}");
    assert!(
        section.contains("| rust-conventions | warning | | The patch adds unwrap()"),
        "{section}"
    );
    let shown = reviewed.ralph(&["marketplace", "pull-request", "1", "--json"]);
    let data: Value = serde_json::from_slice(&shown.stdout).expect("json");
    assert_eq!(data["reviews"][0]["specialist"], "change-risk");
    assert_eq!(data["reviews"][1]["findings"][0]["severity"], "warning");
    let plain_record =
        std::fs::read_to_string(plain.path().join(".ralph/pulls/1.md")).expect("record");
    assert!(
        !plain_record.contains("Specialist reviews"),
        "{plain_record}"
    );
}

#[test]
fn a_review_that_fails_or_cannot_read_its_integration_does_not_stop_the_loop() {
    let repository = repository(json!([grep_check("no-bugs", "BUG")]), &["Add two"]);
    configure(&repository, |config| {
        config["specialists"] = json!([
            // At most 1 KiB out: its review of ten workflow files (a
            // finding each, about 110 bytes) is refused.
            {"plugin": "bundled:change-risk", "grants": ["repository"],
             "limits": {"output_kib": 1}},
            // Alpaca is neither approved nor configured, and there is no
            // terminal to ask on.
            {"plugin": "bundled:trading"},
        ]);
    });
    let mut files: Vec<Value> = (0..10)
        .map(|index| json!([format!(".github/workflows/deploy-{index}.yml"), 1]))
        .collect();
    files.push(json!(["src/orders.rs", 4]));
    script(
        &repository,
        "a",
        json!([{"summary": "add two for the orders", "patch": add_function(3, "two", 2),
        "files": files, "tests": ["two returns 2"]}]),
    );
    // The only proposal wins whatever it scores.
    script(&repository, "b", json!([{"summary": "trap", "trap": true}]));
    script(&repository, "c", json!([{"summary": "trap", "trap": true}]));
    let (output, steps) = run_loop(&repository);
    assert_succeeded(&output);
    let failed = steps_named(&steps, "review_failed");
    assert_eq!(failed.len(), 1, "{steps:?}");
    assert_eq!(failed[0]["specialist"], "change-risk");
    assert!(
        failed[0]["error"]
            .as_str()
            .unwrap_or("")
            .contains("more than its limit of 1024"),
        "{}",
        failed[0]
    );
    let reviewed = steps_named(&steps, "reviewed");
    assert_eq!(reviewed.len(), 1, "{steps:?}");
    assert_eq!(reviewed[0]["specialist"], "trading");
    let findings = reviewed[0]["findings"].as_array().expect("findings");
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0]["severity"], "info");
    assert!(
        findings[0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("(denied)"),
        "{}",
        findings[0]
    );
    assert_eq!(
        sorted_outcomes(&repository),
        ["bidder_1:success", "bidder_2:error", "bidder_3:error"]
    );
    let record =
        std::fs::read_to_string(repository.path().join(".ralph/pulls/1.md")).expect("record");
    assert!(
        record.contains("| change-risk | | | review failed: "),
        "{record}"
    );
    assert!(
        record.contains("| trading | info | | Touches trading code"),
        "{record}"
    );
}

#[test]
fn plans_the_patch_implementer_cannot_carry_out_charge_no_bidder_and_say_what_to_configure() {
    let repository = repository(json!([grep_check("no-bugs", "BUG")]), &["Add two"]);
    script(&repository, "a", json!([{"summary": "a plan, no patch"}]));
    script(&repository, "b", json!([{"summary": "another plan"}]));
    script(&repository, "c", json!([{"summary": "a third plan"}]));
    let (output, steps) = run_loop(&repository);
    assert_eq!(output.status.code(), Some(3), "{}", text(&output.stdout));
    let finished = steps_named(&steps, "finished")[0];
    let reason = finished["reason"].as_str().unwrap_or("");
    assert!(
        reason.contains("no proposal can be carried out by the `patch` implementer"),
        "{reason}"
    );
    assert!(reason.contains("the deterministic stand-in"), "{reason}");
    let recorded = events(&repository);
    assert_eq!(recorded.len(), 3, "{recorded:?}");
    for event in &recorded {
        assert_eq!(event["outcome"], "ranked", "{event}");
        assert_eq!(event["weight_delta"], 0.0, "{event}");
    }
    assert!(issue_text(&repository).contains("attention-needed"));
}

#[test]
fn the_efficiency_selection_lets_a_bidder_with_a_better_record_win_over_a_better_looking_proposal()
{
    // The same two proposals as the clean success above, where bidder_1's
    // scores higher and wins under the seed's rule; here bidder_1 has
    // failed four times before and bidder_3 succeeded four times.
    let repository = two_ways_to_add_two();
    configure(&repository, |config| {
        config["selection"] = json!("efficiency")
    });
    for index in 0..4 {
        for (bot, outcome, delta) in [
            ("bidder_1", "failure", -0.05),
            ("bidder_3", "success", 0.05),
        ] {
            let timestamp = format!("2026-11-01T10:00:0{index}.000000Z");
            repository.write_event(
                &format!("2026-11-01T10-00-0{index}-000000Z-{bot}-{outcome}.json"),
                &common::event(&timestamp, bot, outcome, delta),
            );
        }
    }
    let (output, _) = run_loop(&repository);
    assert_succeeded(&output);
    let outcomes = sorted_outcomes(&repository);
    assert!(
        outcomes.contains(&"bidder_3:success".to_owned())
            && !outcomes.contains(&"bidder_1:success".to_owned()),
        "{outcomes:?}"
    );
}
