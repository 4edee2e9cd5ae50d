//! Bad input of every kind gets a message naming the file and the field; a
//! bad config stops the command with exit code 2; no existing file changes.

mod common;

use common::{Repository, event, text};

#[test]
fn each_bad_config_stops_with_exit_2_naming_the_file_and_the_field() {
    let cases = [
        (
            r#"{"scoring_weights": {"spec_alignment": 0.5, "technical_quality": 0.22,
                "innovation": 0.15, "risk": 0.21, "efficiency": 0.10}}"#,
            "scoring_weights",
        ),
        (
            r#"{"weight_constraints": {"min": 0.4, "max": 0.6}}"#,
            "weight_constraints.min",
        ),
        (
            r#"{"weight_constraints": {"min": 0.05, "max": 0.2}}"#,
            "weight_constraints.max",
        ),
        (r#"{"num_bots": 0}"#, "num_bots"),
        (r#"{"num_bots": "three"}"#, "num_bots"),
        (r#"{"base_budget_per_bot": 0}"#, "base_budget_per_bot"),
        (
            r#"{"min_allocation_per_bot": 11}"#,
            "min_allocation_per_bot",
        ),
        (r#"{"bidderz": 3}"#, "bidderz"),
        (r#"{"num_bots": 3"#, "invalid JSON"),
        // Sections only the loop used to read: every command refuses them.
        (r#"{"implementer": {"kind": "magic"}}"#, "implementer"),
        (r#"{"llm": {"provider": "gemini"}}"#, "llm.provider"),
        (
            r#"{"bidders": {"bidder_1": {"plugin": "bundled:no-such-bidder"}}}"#,
            "bidders.bidder_1",
        ),
        (r#"{"metering": {"model": " "}}"#, "metering.model"),
    ];
    for (config, field) in cases {
        let repository = Repository::set_up();
        std::fs::write(repository.path().join(".ralph/config.json"), config).expect("config");
        repository.write_event(
            "a.json",
            &event("2026-01-29T10:15:00Z", "bidder_1", "success", 0.1),
        );
        let before = repository.snapshot();
        for command in [
            &["marketplace", "status"][..],
            &["marketplace", "status", "--json"],
            &["marketplace", "verify"],
            &["marketplace", "reset", "--yes"],
        ] {
            let output = repository.ralph(command);
            assert_eq!(output.status.code(), Some(2), "{config} / {command:?}");
            let stderr = text(&output.stderr);
            assert!(
                stderr.contains(".ralph/config.json") && stderr.contains(field),
                "{config}: {stderr}"
            );
            assert!(output.stdout.is_empty());
        }
        assert_eq!(repository.snapshot(), before, "{config}: a file changed");
    }
}

#[test]
fn each_bad_event_is_excluded_with_a_warning_naming_the_file_and_the_field() {
    let repository = Repository::set_up();
    let good = event("2026-01-29T10:15:00Z", "bidder_1", "success", 0.1);
    let cases = [
        (
            "malformed.json",
            "{\"timestamp\": \"2026".to_owned(),
            "invalid JSON",
        ),
        (
            "missing.json",
            good.replace(r#", "weight_delta": 0.1"#, ""),
            "weight_delta",
        ),
        (
            "wrong-type.json",
            good.replace("42", "\"42\""),
            "issue_number",
        ),
        (
            "non-finite.json",
            good.replace("0.1}", "1e999}"),
            "weight_delta",
        ),
        (
            "out-of-range.json",
            good.replace("0.1}", "-1.25}"),
            "weight_delta",
        ),
        (
            "bad-score.json",
            good.replace("}", r#", "accuracy": 1.5}"#),
            "accuracy",
        ),
        (
            "unknown-outcome.json",
            good.replace("success", "victory"),
            "outcome",
        ),
        (
            "unknown-bot.json",
            good.replace("bidder_1", "bidder_9"),
            "bot_id",
        ),
        ("not-utc.json", good.replace("00Z", "00+01:00"), "timestamp"),
    ];
    for (name, json, _) in &cases {
        repository.write_event(name, json);
    }
    repository.write_event("fine.json", &good);
    let events_before: Vec<_> = repository
        .snapshot()
        .into_iter()
        .filter(|(path, _)| path.starts_with(repository.events_dir()))
        .collect();

    let output = repository.ralph(&["marketplace", "status", "--json"]);
    assert!(output.status.success(), "bad events do not stop status");
    let stderr = text(&output.stderr);
    for (name, _, field) in &cases {
        let line = stderr
            .lines()
            .find(|line| line.contains(name))
            .unwrap_or_else(|| panic!("no warning for {name} in:\n{stderr}"));
        assert!(
            line.contains(".ralph/events/") && line.contains(field),
            "{line}"
        );
    }
    let state: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(state["event_count"], 1);
    assert_eq!(
        state["excluded_events"].as_array().expect("array").len(),
        cases.len()
    );

    let output = repository.ralph(&["marketplace", "verify"]);
    assert_eq!(output.status.code(), Some(1));
    let stdout = text(&output.stdout);
    for (name, _, field) in &cases {
        assert!(
            stdout
                .lines()
                .any(|line| line.contains(name) && line.contains(field)),
            "{name}"
        );
    }
    let events_after: Vec<_> = repository
        .snapshot()
        .into_iter()
        .filter(|(path, _)| path.starts_with(repository.events_dir()))
        .collect();
    assert_eq!(events_after, events_before, "no event file was modified");
}

#[test]
fn verify_names_the_field_of_a_broken_plugin_section() {
    let repository = Repository::set_up();
    for (config, field) in [
        (r#"{"bidders": 3}"#, "bidders"),
        (
            r#"{"bidders": {"bidder_1": {"plugin": "bundled:nope"}}}"#,
            "bidders.bidder_1.plugin",
        ),
        (
            r#"{"checks": [{"name": "t", "argv": ["true"], "category": "vibes"}]}"#,
            "checks[0].category",
        ),
        (r#"{"implementer": {"kind": "magic"}}"#, "implementer"),
        (
            r#"{"metering": {"prices": {"m": {"input_per_million": -3, "output_per_million": 1}}}}"#,
            "metering.prices.m.input_per_million",
        ),
        (
            r#"{"metering": {"round_token_cap": 100, "model_name": "m"}}"#,
            "metering.model_name",
        ),
        (
            r#"{"bidders": {"bidder_1": {"plugin": "bundled:persona-planner",
                "personality": {"verbosity": "chatty"}}}}"#,
            "bidders.bidder_1.personality.verbosity",
        ),
    ] {
        std::fs::write(repository.path().join(".ralph/config.json"), config).expect("config");
        let output = repository.ralph(&["marketplace", "verify"]);
        assert_eq!(output.status.code(), Some(2), "{config}");
        let stderr = text(&output.stderr);
        assert!(
            stderr.contains(".ralph/config.json") && stderr.contains(field),
            "{config}: {stderr}"
        );
    }
}

#[test]
fn an_event_log_that_is_a_file_is_named_as_what_it_is_relative_to_the_repository() {
    let repository = Repository::set_up();
    let events = repository.events_dir();
    std::fs::remove_dir_all(&events).expect("remove events/");
    std::fs::write(&events, "not a log").expect("a file instead");
    for args in [
        &["marketplace", "status"][..],
        &["marketplace", "status", "--json"][..],
    ] {
        let output = repository.ralph(args);
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        let stderr = text(&output.stderr);
        assert!(
            stderr.contains(".ralph/events: a regular file, not a directory"),
            "{args:?}: {stderr}"
        );
        let root = repository.path().display().to_string();
        assert!(!stderr.contains(&root), "{args:?}: {stderr}");
    }
    assert_eq!(
        std::fs::read_to_string(&events).expect("kept"),
        "not a log",
        "nothing changed"
    );
}
