//! Specialization (SPEC §13) through the real binary: events carry the
//! issue's type, the state keeps each bidder's record per type, and with
//! `bidders_per_round` below the number of bidders a round asks only the
//! best specialists for the type.

mod common;

use common::{Repository, scripted, text};
use serde_json::{Value, json};

fn record(repository: &Repository, event: &Value) {
    let output = repository.ralph_with_input(
        &["marketplace", "record", "--file", "-"],
        event.to_string().as_bytes(),
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
}

/// Issue #1 "Add numbers" (a feature, by its title's first word) with
/// three scripted bidders that all could add `two`, `extra` merged into
/// the config, and a history in which bidder_1 is strong on bugs but fails
/// features, and bidder_2 has succeeded at a feature.
fn repository(extra: Value) -> Repository {
    let repository = scripted::repository_with(extra, json!([]), &["Add two"]);
    for letter in ["a", "b", "c"] {
        let mut proposal = scripted::add_two();
        proposal["summary"] = json!(format!("add two ({letter})"));
        scripted::script(&repository, letter, json!([proposal]));
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

/// Sets issue #1's labels to `labels` (Ralph's and tags), committed.
fn label_issue(repository: &Repository, labels: &str) {
    let path = ".ralph/issues/1.md";
    let text = std::fs::read_to_string(repository.path().join(path)).expect("issue");
    repository.commit_file(
        path,
        &text.replace("labels: [ready]", &format!("labels: [{labels}]")),
    );
}

#[test]
fn a_type_label_wins_over_the_title() {
    let repository = repository(json!({}));
    label_issue(&repository, "ready, type:docs");
    let (output, _) = repository.loop_steps();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let events = new_events(&repository);
    assert!(!events.is_empty());
    assert!(
        events.iter().all(|event| event["issue_type"] == "docs"),
        "{events:?}"
    );
    let issue =
        std::fs::read_to_string(repository.path().join(".ralph/issues/1.md")).expect("issue");
    assert!(
        issue.contains("type:docs"),
        "the loop keeps the tag: {issue}"
    );
}

#[test]
fn a_complex_label_adds_a_bidder_under_dynamic_bidders() {
    for (labels, expected) in [("ready", 3), ("ready, complex", 4)] {
        let five = json!({
            "num_bots": 5,
            "dynamic_bidders": true,
            "bidders": {
                "bidder_1": {"plugin": ralph_broker_fixtures::SCRIPTED_A_PATH, "grants": ["repository"]},
                "bidder_2": {"plugin": ralph_broker_fixtures::SCRIPTED_B_PATH, "grants": ["repository"]},
                "bidder_3": {"plugin": ralph_broker_fixtures::SCRIPTED_C_PATH, "grants": ["repository"]},
                "bidder_4": {"plugin": ralph_broker_fixtures::SCRIPTED_A_PATH, "grants": ["repository"]},
                "bidder_5": {"plugin": ralph_broker_fixtures::SCRIPTED_B_PATH, "grants": ["repository"]},
            },
        });
        let repository = repository(five);
        if labels != "ready" {
            label_issue(&repository, labels);
        }
        let (output, steps) = repository.loop_steps();
        assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
        let started = steps
            .iter()
            .find(|step| step["step"] == "round_started")
            .expect("a round");
        assert_eq!(started["bidders"], expected, "{labels}");
        assert_eq!(new_events(&repository).len(), expected, "{labels}");
    }
}
