//! Specialization (SPEC §13) through the real binary: events carry the
//! issue's type, the state keeps each bidder's record per type, and with
//! `bidders_per_round` below the number of bidders a round asks only the
//! best specialists for the type.

mod common;

use std::io::Write;
use std::process::Stdio;

use common::{Repository, text};
use serde_json::{Value, json};

const LIBRARY: &str = "pub fn one() -> u32 {\n    1\n}\n";

fn add_two() -> String {
    "--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -3,0 +4,4 @@\n+\n+pub fn two() -> u32 {\n+    2\n+}\n"
        .to_owned()
}

fn record(repository: &Repository, event: &Value) {
    let mut child = repository
        .command(&["marketplace", "record", "--file", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ralph runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(event.to_string().as_bytes())
        .expect("write");
    let output = child.wait_with_output().expect("record");
    assert!(output.status.success(), "{}", text(&output.stderr));
}

/// Issue #1 "Add numbers" (a feature, by its title's first word) with
/// three scripted bidders that all could add `two`, `extra` merged into
/// the config, and a history in which bidder_1 is strong on bugs but fails
/// features, and bidder_2 has succeeded at a feature.
fn repository(extra: Value) -> Repository {
    let bidder = |path: &str| json!({"plugin": path, "grants": ["repository"]});
    let mut config = json!({
        "num_bots": 3,
        "bidders": {
            "bidder_1": bidder(ralph_broker_fixtures::SCRIPTED_A_PATH),
            "bidder_2": bidder(ralph_broker_fixtures::SCRIPTED_B_PATH),
            "bidder_3": bidder(ralph_broker_fixtures::SCRIPTED_C_PATH),
        },
        "specialists": [],
        "checks": [],
    });
    if let (Some(config), Some(extra)) = (config.as_object_mut(), extra.as_object()) {
        config.extend(extra.clone());
    }
    let repository = Repository::for_loop(&[("src/lib.rs", LIBRARY)], &config, &["Add two"]);
    for letter in ["a", "b", "c"] {
        let script = json!([{"summary": format!("add two ({letter})"), "patch": add_two(),
                             "files": [["src/lib.rs", 4]]}]);
        repository.commit_file(&format!("ralph-script/{letter}.json"), &script.to_string());
    }
    let history = [
        (
            "2026-01-01T00:00:01Z",
            "bidder_1",
            "failure",
            -0.15,
            "feature",
        ),
        (
            "2026-01-01T00:00:02Z",
            "bidder_1",
            "failure",
            -0.15,
            "feature",
        ),
        ("2026-01-01T00:00:03Z", "bidder_1", "success", 0.1, "bug"),
        ("2026-01-01T00:00:04Z", "bidder_1", "success", 0.1, "bug"),
        ("2026-01-01T00:00:05Z", "bidder_1", "success", 0.1, "bug"),
        ("2026-01-01T00:00:06Z", "bidder_1", "success", 0.1, "bug"),
        ("2026-01-01T00:00:07Z", "bidder_1", "success", 0.1, "bug"),
        ("2026-01-01T00:00:08Z", "bidder_1", "success", 0.1, "bug"),
        (
            "2026-01-01T00:00:09Z",
            "bidder_2",
            "success",
            0.1,
            "feature",
        ),
    ];
    for (index, (timestamp, bot, outcome, delta, kind)) in history.into_iter().enumerate() {
        record(
            &repository,
            &json!({"timestamp": timestamp, "issue_number": 100 + index, "bot_id": bot,
                    "outcome": outcome, "weight_delta": delta, "issue_type": kind}),
        );
    }
    repository
}

fn new_events(repository: &Repository) -> Vec<Value> {
    repository
        .events()
        .into_iter()
        .filter(|event| event["issue_number"] == 1)
        .collect()
}

#[test]
fn the_state_keeps_each_bidders_record_per_type() {
    let repository = repository(json!({}));
    let status = repository.status_json();
    assert_eq!(
        status["bots"]["bidder_1"]["by_type"],
        json!({"bug": {"successes": 6, "failures": 0}, "feature": {"successes": 0, "failures": 2}})
    );
    assert_eq!(
        status["bots"]["bidder_2"]["by_type"],
        json!({"feature": {"successes": 1, "failures": 0}})
    );
    assert!(
        status["bots"]["bidder_3"].get("by_type").is_none(),
        "{status}"
    );
}

#[test]
fn one_seat_goes_to_the_best_specialist_for_the_issues_type() {
    let repository = repository(json!({"bidders_per_round": 1}));
    let status = repository.status_json();
    let weight = |bot: &str| status["bots"][bot]["weight"].as_f64().expect("weight");
    assert!(
        weight("bidder_1") > weight("bidder_2"),
        "by weight alone bidder_1 would take the seat: {status}"
    );
    let (output, steps) = repository.loop_steps();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let started = steps
        .iter()
        .find(|step| step["step"] == "round_started")
        .expect("a round");
    assert_eq!(started["bidders"], 1);
    let events = new_events(&repository);
    assert_eq!(events.len(), 1, "left-out bidders get no event: {events:?}");
    assert_eq!(events[0]["bot_id"], "bidder_2");
    assert_eq!(events[0]["outcome"], "success");
    assert_eq!(events[0]["issue_type"], "feature");
    let after = repository.status_json();
    assert_eq!(
        after["bots"]["bidder_2"]["by_type"]["feature"]["successes"],
        2
    );
}

#[test]
fn without_a_limit_every_bidder_proposes_and_dynamic_bidders_takes_three_of_three() {
    for extra in [json!({}), json!({"dynamic_bidders": true})] {
        let repository = repository(extra.clone());
        let (output, _) = repository.loop_steps();
        assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
        let mut bots: Vec<String> = new_events(&repository)
            .iter()
            .map(|event| event["bot_id"].as_str().unwrap_or("").to_owned())
            .collect();
        bots.sort();
        assert_eq!(bots, ["bidder_1", "bidder_2", "bidder_3"], "{extra}");
    }
}

#[test]
fn a_zero_seat_config_names_its_field() {
    let repository = repository(json!({}));
    let config_path = repository.path().join(".ralph/config.json");
    let mut config: Value =
        serde_json::from_str(&std::fs::read_to_string(&config_path).expect("config"))
            .expect("json");
    config["bidders_per_round"] = json!(0);
    std::fs::write(&config_path, config.to_string()).expect("write");
    let output = repository.ralph(&["marketplace", "status"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("bidders_per_round"),
        "{}",
        text(&output.stderr)
    );
}
