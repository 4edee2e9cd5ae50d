//! `ralph demo`: the main job on the bundled sample, offline.

mod common;

use std::path::Path;
use std::process::Output;

use common::chat_server::{ChatServer, Reply, Request};
use common::text;
use serde_json::Value;

#[test]
fn the_demo_shows_a_failure_a_replan_and_a_success_with_every_checkbox_ticked() {
    let directory = tempfile::tempdir().expect("temp dir");
    let root = directory.path().join("demo");
    let output = std::process::Command::new(common::RALPH)
        .args(["demo", "--json", "--dir"])
        .arg(&root)
        .output()
        .expect("ralph runs");
    assert!(
        output.status.success(),
        "{}\n{}",
        text(&output.stdout),
        text(&output.stderr)
    );
    let steps: Vec<Value> = text(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON object per line"))
        .collect();
    let named = |name: &str| steps.iter().filter(|step| step["step"] == name).count();
    let outcomes: Vec<&Value> = steps
        .iter()
        .filter(|step| step["step"] == "outcome")
        .collect();
    assert_eq!(outcomes.len(), 2);
    assert_eq!(outcomes[0]["succeeded"], false);
    assert_eq!(outcomes[1]["succeeded"], true);
    assert!(
        steps
            .iter()
            .any(|step| step["step"] == "round_started" && step["kind"] == "replan")
    );
    assert_eq!(named("finished"), 1);
    let issue = std::fs::read_to_string(root.join(".ralph/issues/1.md")).expect("issue");
    assert_eq!(issue.matches("- [x]").count(), 3, "{issue}");
    assert!(!issue.contains("- [ ]"));
    let state = &steps.last().expect("steps")["state"];
    assert_eq!(state["rounds_completed"], 2);
    assert!(root.join(".ralph/pulls/1.md").is_file());

    // Every bundled bidder is model-backed and replays its own answers, one
    // per round each.
    let replay: Value =
        serde_json::from_str(include_str!("../../../examples/demo/replay.json")).expect("replay");
    let answers = replay["responses"].as_array().expect("responses").len();
    let usage = usage_json(&root);
    assert_eq!(
        usage["total"]["calls"].as_u64(),
        Some(answers as u64),
        "{usage}"
    );
    for bidder in ["bidder_1", "bidder_2", "bidder_3"] {
        assert_eq!(
            usage["bidders"][bidder]["proposing"]["calls"].as_u64(),
            Some(2),
            "{usage}"
        );
    }
    assert_eq!(
        named("proposal_received"),
        answers,
        "every answer is a proposal"
    );
    let mut outcomes: Vec<String> = events(&root)
        .iter()
        .map(|event| event["outcome"].as_str().unwrap_or_default().to_owned())
        .collect();
    outcomes.sort();
    assert_eq!(
        outcomes,
        [
            "failure",
            "not_tried",
            "not_tried",
            "ranked",
            "ranked",
            "success"
        ],
        "the first winner's diff is tried and fails, the replan's succeeds"
    );
}

#[test]
fn the_demo_refuses_a_directory_with_files_in_it() {
    let directory = tempfile::tempdir().expect("temp dir");
    std::fs::write(directory.path().join("keep.txt"), "mine").expect("write");
    let output = std::process::Command::new(common::RALPH)
        .args(["demo", "--dir"])
        .arg(directory.path())
        .output()
        .expect("ralph runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("not empty"));
    assert_eq!(
        std::fs::read_to_string(directory.path().join("keep.txt")).expect("read"),
        "mine"
    );
}

/// `ralph demo --json --llm-provider openai --llm-base-url SERVER/v1` in a
/// new directory, with no key in the environment.
fn live_demo(server: &ChatServer, root: &Path) -> Output {
    let base_url = format!("{}/v1", server.base_url);
    std::process::Command::new(common::RALPH)
        .args(["demo", "--json", "--llm-provider", "openai"])
        .args(["--llm-model", "demo-model", "--llm-base-url", &base_url])
        .arg("--dir")
        .arg(root)
        .env_remove("OPENAI_API_KEY")
        .env_remove("ANTHROPIC_API_KEY")
        .output()
        .expect("ralph runs")
}

fn explain(output: &Output) -> String {
    format!("{}\n{}", text(&output.stdout), text(&output.stderr))
}

/// The user message of a chat request.
fn prompt_of(request: &Request) -> String {
    request.body["messages"]
        .as_array()
        .and_then(|messages| messages.iter().find(|message| message["role"] == "user"))
        .and_then(|message| message["content"].as_str())
        .unwrap_or_default()
        .to_owned()
}

/// Who asked: the bundled bidders name their strategy in the prompt, the
/// `model` implementer says what it implements.
fn asker(request: &Request) -> &'static str {
    let prompt = prompt_of(request);
    if prompt.contains("Smallest change:") {
        "smallest-change"
    } else if prompt.contains("Tests first:") {
        "tests-first"
    } else if prompt.contains("Plan the change as your persona would") {
        "persona-planner"
    } else if prompt.starts_with("Implement this proposal") {
        "implementer"
    } else {
        "unknown"
    }
}

/// The demo's library with both conversions, and its diff from the sample.
const CONVERSIONS: &str = "diff --git a/src/lib.rs b/src/lib.rs\n--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -5,6 +5,14 @@ pub fn kelvin_to_celsius(kelvin: f64) -> f64 {\n     kelvin - 273.15\n }\n \n+pub fn celsius_to_fahrenheit(celsius: f64) -> f64 {\n+    celsius * 9.0 / 5.0 + 32.0\n+}\n+\n+pub fn fahrenheit_to_celsius(fahrenheit: f64) -> f64 {\n+    (fahrenheit - 32.0) * 5.0 / 9.0\n+}\n+\n #[cfg(test)]\n mod tests {\n     use super::*;\n@@ -13,4 +21,10 @@ mod tests {\n     fn absolute_zero_is_minus_273_15_celsius() {\n         assert!((kelvin_to_celsius(0.0) + 273.15).abs() < 1e-9);\n     }\n+\n+    #[test]\n+    fn water_freezes_at_32_and_boils_at_212_fahrenheit() {\n+        assert!((celsius_to_fahrenheit(0.0) - 32.0).abs() < 1e-9);\n+        assert!((celsius_to_fahrenheit(100.0) - 212.0).abs() < 1e-9);\n+    }\n }\n";

/// What a capable model answers each asker: a plan in its strategy's
/// words and a correct diff; the implementer gets a diff alone.
fn capable_answer(request: &Request) -> String {
    let plan = match asker(request) {
        "smallest-change" => {
            "Add the two conversions next to the existing one and extend its tests."
        }
        "tests-first" => {
            "First the test of water's freezing and boiling points, then both conversions."
        }
        "persona-planner" => {
            "Implement F = C * 9/5 + 32 and its inverse beside kelvin_to_celsius, with a test."
        }
        _ => "The change:",
    };
    format!("{plan}\n\nCovers: R1, R2, R3\n\n```diff\n{CONVERSIONS}```\n")
}

fn usage_json(root: &Path) -> Value {
    let output = common::ralph_in(root, &["marketplace", "usage", "--json"]);
    assert!(output.status.success(), "{}", explain(&output));
    serde_json::from_slice(&output.stdout).expect("usage JSON")
}

fn events(root: &Path) -> Vec<Value> {
    std::fs::read_dir(root.join(".ralph/events"))
        .expect("events")
        .map(|entry| {
            let bytes = std::fs::read(entry.expect("entry").path()).expect("read");
            serde_json::from_slice(&bytes).expect("event JSON")
        })
        .collect()
}

#[test]
fn the_live_demo_with_a_capable_model_ticks_every_checkbox_and_meters_every_call() {
    let server = ChatServer::start(|_, request| Reply::chat(&capable_answer(request)));
    let directory = tempfile::tempdir().expect("temp dir");
    let root = directory.path().join("demo");
    let output = live_demo(&server, &root);
    assert_eq!(output.status.code(), Some(0), "{}", explain(&output));
    let issue = std::fs::read_to_string(root.join(".ralph/issues/1.md")).expect("issue");
    assert_eq!(issue.matches("- [x]").count(), 3, "{issue}");
    assert!(!issue.contains("- [ ]"), "{issue}");

    let requests = server.chats();
    let mut askers: Vec<&str> = requests.iter().map(asker).collect();
    askers.sort_unstable();
    assert_eq!(
        askers,
        ["persona-planner", "smallest-change", "tests-first"],
        "each bidder asks once; the winner's own diff needs no implementer call"
    );
    for request in &requests {
        assert_eq!(request.body["model"], "demo-model");
        assert!(
            prompt_of(request).contains("pub fn kelvin_to_celsius"),
            "the file the issue names is in the prompt"
        );
    }
    let usage = usage_json(&root);
    assert_eq!(
        usage["total"]["calls"].as_u64(),
        Some(requests.len() as u64),
        "{usage}"
    );
    for bidder in ["bidder_1", "bidder_2", "bidder_3"] {
        assert_eq!(
            usage["bidders"][bidder]["proposing"]["calls"].as_u64(),
            Some(1),
            "{usage}"
        );
    }
    let outcomes: Vec<Value> = events(&root)
        .iter()
        .map(|event| event["outcome"].clone())
        .collect();
    assert!(outcomes.contains(&Value::from("success")), "{outcomes:?}");
    assert!(!outcomes.contains(&Value::from("failure")), "{outcomes:?}");
}

#[test]
fn the_live_demo_with_a_model_that_bids_plans_alone_has_the_model_implementer_write_the_change() {
    let server = ChatServer::start(|_, request| {
        if asker(request) == "implementer" {
            Reply::chat(&format!("```diff\n{CONVERSIONS}```\n"))
        } else {
            Reply::chat(&format!(
                "Add both conversions to `src/lib.rs` beside `kelvin_to_celsius` ({}), with a test.",
                asker(request)
            ))
        }
    });
    let directory = tempfile::tempdir().expect("temp dir");
    let root = directory.path().join("demo");
    let output = live_demo(&server, &root);
    assert_eq!(output.status.code(), Some(0), "{}", explain(&output));
    let issue = std::fs::read_to_string(root.join(".ralph/issues/1.md")).expect("issue");
    assert_eq!(issue.matches("- [x]").count(), 3, "{issue}");

    let requests = server.chats();
    let mut askers: Vec<&str> = requests.iter().map(asker).collect();
    askers.sort_unstable();
    assert_eq!(
        askers,
        [
            "implementer",
            "persona-planner",
            "smallest-change",
            "tests-first"
        ]
    );
    let implementer = requests
        .iter()
        .find(|request| asker(request) == "implementer")
        .expect("asked");
    assert!(
        prompt_of(implementer).contains("pub fn kelvin_to_celsius"),
        "the implementer sees the file the plan names: {}",
        prompt_of(implementer)
    );
    let usage = usage_json(&root);
    assert_eq!(
        usage["total"]["calls"].as_u64(),
        Some(requests.len() as u64),
        "{usage}"
    );
}

#[test]
fn the_live_demo_against_a_model_that_answers_garbage_ends_blaming_no_bidder() {
    let server = ChatServer::start(|index, _| {
        Reply::chat(
            [
                "Sure! Here is a poem about rivers.",
                "{\"patch\": null}",
                "```\n??\n```",
            ][index % 3],
        )
    });
    let directory = tempfile::tempdir().expect("temp dir");
    let root = directory.path().join("demo");
    let output = live_demo(&server, &root);
    assert_eq!(
        output.status.code(),
        Some(3),
        "attention-needed (README, exit codes): {}",
        explain(&output)
    );
    let issue = std::fs::read_to_string(root.join(".ralph/issues/1.md")).expect("issue");
    assert!(issue.contains("attention-needed"), "{issue}");
    assert!(!issue.contains("- [x]"), "{issue}");

    let events = events(&root);
    assert!(!events.is_empty());
    for event in &events {
        assert_ne!(
            event["outcome"], "failure",
            "no bidder is charged a failure that is not its proposal's: {event}"
        );
        assert_eq!(event["weight_delta"], 0.0, "{event}");
    }
    assert!(
        events
            .iter()
            .any(|event| event["outcome"] == "error" && event["error_source"] == "implementer"),
        "the implementer's fault is recorded as such: {events:?}"
    );
    let requests = server.chats();
    assert!(
        requests
            .iter()
            .any(|request| asker(request) == "implementer"),
        "a plan-only winner goes to the model implementer"
    );
    let usage = usage_json(&root);
    assert_eq!(
        usage["total"]["calls"].as_u64(),
        Some(requests.len() as u64),
        "{usage}"
    );
}

#[test]
fn the_live_demo_against_a_model_whose_diffs_do_not_apply_blames_only_each_winners_own_diff() {
    // A diff whose context is not in the file: the proposal's own fault,
    // so the `model` implementer tries it as is and asks no model.
    let broken = "Change it.\n\n```diff\n--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -40,1 +40,1 @@\n-fn nothing_here() {}\n+fn still_nothing() {}\n```\n";
    let server = ChatServer::start(move |_, _| Reply::chat(broken));
    let directory = tempfile::tempdir().expect("temp dir");
    let root = directory.path().join("demo");
    let output = live_demo(&server, &root);
    assert_eq!(output.status.code(), Some(3), "{}", explain(&output));
    let requests = server.chats();
    assert!(
        requests
            .iter()
            .all(|request| asker(request) != "implementer"),
        "a proposal's own diff is never rewritten by the implementer's model"
    );
    let events = events(&root);
    let failures: Vec<&Value> = events
        .iter()
        .filter(|event| event["outcome"] == "failure")
        .collect();
    assert!(!failures.is_empty(), "{events:?}");
    for failure in failures {
        assert_eq!(
            failure["rank"], 1,
            "only a round's winner is tried: {failure}"
        );
    }
    let usage = usage_json(&root);
    assert_eq!(
        usage["total"]["calls"].as_u64(),
        Some(requests.len() as u64),
        "{usage}"
    );
}
