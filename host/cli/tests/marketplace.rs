//! `ralph marketplace setup|status|record|verify|reset`, driven through the
//! real binary.

mod common;

use std::io::Write;
use std::process::Stdio;

use common::{Repository, event, text};

#[test]
fn setup_creates_the_marketplace_and_running_it_twice_changes_nothing() {
    let repository = Repository::set_up();
    for path in [
        ".ralph/config.json",
        ".ralph/events",
        ".ralph/.gitignore",
        ".claude/agents/broker.md",
        ".claude/agents/bidder.md",
        ".claude/agents/specialist.md",
    ] {
        assert!(repository.path().join(path).exists(), "{path} missing");
    }
    let before = repository.snapshot();
    let output = repository.ralph(&["marketplace", "setup"]);
    assert!(output.status.success());
    assert!(
        text(&output.stdout)
            .lines()
            .all(|line| line.starts_with("kept"))
    );
    assert_eq!(repository.snapshot(), before);
}

#[test]
fn status_json_is_the_spec_object_for_a_new_marketplace() {
    let repository = Repository::set_up();
    assert_eq!(
        repository.status_json(),
        serde_json::json!({
            "bots": {
                "bidder_1": {"weight": 0.3333333333333333, "efficiency": 0.5,
                             "successes": 0, "failures": 0, "allocation": 10},
                "bidder_2": {"weight": 0.3333333333333333, "efficiency": 0.5,
                             "successes": 0, "failures": 0, "allocation": 10},
                "bidder_3": {"weight": 0.3333333333333333, "efficiency": 0.5,
                             "successes": 0, "failures": 0, "allocation": 10}
            },
            "total_budget_pool": 30, "rounds_completed": 0, "event_count": 0,
            "excluded_events": [], "last_updated": null
        })
    );
}

#[test]
fn status_json_prints_exactly_the_cached_marketplace_json() {
    let repository = Repository::set_up();
    repository.write_event(
        "a.json",
        &event("2026-01-29T10:15:00Z", "bidder_1", "success", 0.1),
    );
    let first = repository.ralph(&["marketplace", "status", "--json"]);
    let cached = std::fs::read(repository.path().join(".ralph/marketplace.json")).expect("cache");
    assert_eq!(first.stdout, cached);
    let second = repository.ralph(&["marketplace", "status", "--json"]);
    assert_eq!(second.stdout, cached, "the cached answer is the same");
}

#[test]
fn the_human_status_is_a_table_within_80_columns() {
    let repository = Repository::set_up();
    repository.write_event(
        "a.json",
        &event("2026-01-29T10:15:00Z", "bidder_2", "success", 0.15),
    );
    let output = repository.ralph(&["marketplace", "status"]);
    assert!(output.status.success());
    let stdout = text(&output.stdout);
    for needle in [
        "bidder_1",
        "bidder_2",
        "efficiency",
        "budget",
        "Recent rounds",
        "issue #42",
    ] {
        assert!(stdout.contains(needle), "{needle} missing from:\n{stdout}");
    }
    assert!(
        stdout.lines().all(|line| line.chars().count() <= 80),
        "{stdout}"
    );
}

#[test]
fn record_appends_a_valid_event_under_its_canonical_name() {
    let repository = Repository::set_up();
    let mut child = repository
        .command(&["marketplace", "record", "--file", "-", "--json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(event("2026-01-29T10:15:00.123456Z", "bidder_2", "success", 0.15).as_bytes())
        .expect("write");
    let output = child.wait_with_output().expect("wait");
    assert!(output.status.success(), "{}", text(&output.stderr));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(
        report["file"],
        "2026-01-29T10-15-00-123456Z-bidder_2-success.json"
    );
    assert!(
        repository
            .events_dir()
            .join("2026-01-29T10-15-00-123456Z-bidder_2-success.json")
            .is_file()
    );
    let state = repository.status_json();
    assert_eq!(state["event_count"], 1);
    assert_eq!(state["bots"]["bidder_2"]["successes"], 1);
}

#[test]
fn record_refuses_an_invalid_event_and_writes_nothing() {
    let repository = Repository::set_up();
    let file = repository.path().join("event.json");
    for (json, field) in [
        (
            event("2026-01-29T10:15:00Z", "bidder_7", "success", 0.1),
            "bot_id",
        ),
        (
            event("2026-01-29T10:15:00Z", "bidder_1", "success", 3.0),
            "weight_delta",
        ),
        (
            event("2026-01-29T10:15:00Z", "bidder_1", "won", 0.1),
            "outcome",
        ),
        ("{".to_owned(), "invalid JSON"),
        (
            r#"{"timestamp": "2026-01-29T10:15:00Z", "issue_number": 1, "bot_id": "bidder_1",
                "outcome": "success", "weight_delta": 0.1,
                "usage": {"calls": -1, "input_tokens": 0, "output_tokens": 0}}"#
                .to_owned(),
            "usage.calls",
        ),
    ] {
        std::fs::write(&file, &json).expect("write");
        let before = repository.snapshot();
        let output = repository.ralph(&[
            "marketplace",
            "record",
            "--file",
            file.to_str().expect("utf-8"),
        ]);
        assert_eq!(output.status.code(), Some(2), "{json}");
        let stderr = text(&output.stderr);
        assert!(
            stderr.contains("event.json") && stderr.contains(field),
            "{stderr}"
        );
        assert_eq!(repository.snapshot(), before);
    }
}

#[test]
fn verify_is_clean_on_a_good_log_and_exits_1_on_a_bad_one() {
    let repository = Repository::set_up();
    repository.write_event(
        "good.json",
        &event("2026-01-29T10:15:00Z", "bidder_1", "success", 0.1),
    );
    let output = repository.ralph(&["marketplace", "verify"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stdout));
    assert!(text(&output.stdout).contains("result: ok"));

    repository.write_event(
        "stranger.json",
        &event("2026-01-29T10:16:00Z", "smart_bot_2", "success", 0.1),
    );
    repository.write_event("broken.json", "{\"timestamp\": ");
    let output = repository.ralph(&["marketplace", "verify", "--json"]);
    assert_eq!(output.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(report["event_count"], 1);
    assert_eq!(report["unknown_bots"]["smart_bot_2"], 1);
    let files: Vec<&str> = report["excluded_events"]
        .as_array()
        .expect("array")
        .iter()
        .map(|excluded| excluded["file"].as_str().expect("name"))
        .collect();
    assert_eq!(files, ["broken.json", "stranger.json"]);
}

#[test]
fn verify_reports_whether_the_cache_is_fresh() {
    let repository = Repository::set_up();
    let report = |repository: &Repository| -> serde_json::Value {
        let output = repository.ralph(&["marketplace", "verify", "--json"]);
        serde_json::from_slice(&output.stdout).expect("json")
    };
    assert_eq!(report(&repository)["cache"], "stale");
    repository.status_json();
    assert_eq!(report(&repository)["cache"], "fresh");
    repository.write_event(
        "new.json",
        &event("2026-01-29T10:15:00Z", "bidder_1", "failure", -0.15),
    );
    assert_eq!(report(&repository)["cache"], "stale");
}

#[test]
fn reset_moves_every_event_to_the_archive_and_restores_equal_weights() {
    let repository = Repository::set_up();
    repository.write_event(
        "a.json",
        &event("2026-01-29T10:15:00Z", "bidder_1", "success", 0.1),
    );
    repository.write_event("broken.json", "{");
    assert_ne!(repository.status_json()["event_count"], 0);

    let refused = repository.ralph(&["marketplace", "reset"]);
    assert_eq!(refused.status.code(), Some(2), "no terminal, no --yes");
    assert!(text(&refused.stderr).contains("--yes"));
    assert!(repository.events_dir().join("a.json").exists());

    let output = repository.ralph(&["marketplace", "reset", "--yes"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(
        std::fs::read_dir(repository.events_dir())
            .expect("events")
            .count(),
        0
    );
    let archives: Vec<_> = std::fs::read_dir(repository.path().join(".ralph/archive"))
        .expect("archive")
        .collect();
    assert_eq!(archives.len(), 1);
    let archive = archives[0].as_ref().expect("entry").path();
    assert!(archive.join("a.json").is_file() && archive.join("broken.json").is_file());
    let state = repository.status_json();
    assert_eq!(state["event_count"], 0);
    assert_eq!(state["bots"]["bidder_1"]["weight"], 1.0 / 3.0);
}

#[test]
fn the_repository_is_found_from_a_subdirectory() {
    let repository = Repository::set_up();
    let nested = repository.path().join("src/deep");
    std::fs::create_dir_all(&nested).expect("mkdir");
    let output = std::process::Command::new(common::RALPH)
        .args(["marketplace", "status", "--json"])
        .current_dir(&nested)
        .output()
        .expect("ralph runs");
    assert!(output.status.success(), "{}", text(&output.stderr));
}

#[test]
fn outside_a_repository_ralph_says_how_to_point_it_at_one() {
    let directory = tempfile::tempdir().expect("temp dir");
    let output = std::process::Command::new(common::RALPH)
        .args(["marketplace", "status"])
        .current_dir(directory.path())
        .output()
        .expect("ralph runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("--repo"));
}

#[test]
fn a_missing_config_says_to_run_setup() {
    let repository = Repository::empty();
    let output = repository.ralph(&["marketplace", "status"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("config.json") && stderr.contains("ralph marketplace setup"),
        "{stderr}"
    );
}

#[test]
fn help_teaches_the_commands() {
    let output = std::process::Command::new(common::RALPH)
        .args(["marketplace", "--help"])
        .output()
        .expect("ralph runs");
    let help = text(&output.stdout);
    for command in ["setup", "status", "record", "verify", "reset"] {
        assert!(help.contains(command), "{command} missing from help");
    }
}

/// Runs `ralph ARGS` on a pseudo-terminal (through `script`), typing `input`.
fn on_terminal(repository: &Repository, args: &str, input: &str) -> std::process::Output {
    let command = format!(
        "{} --repo {} {args}",
        common::RALPH,
        repository.path().display()
    );
    let mut child = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script(1) runs (util-linux)");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("type");
    child.wait_with_output().expect("wait")
}

#[test]
fn reset_on_a_terminal_asks_and_a_no_moves_nothing() {
    let repository = Repository::set_up();
    repository.write_event(
        "a.json",
        &event("2026-01-29T10:15:00Z", "bidder_1", "success", 0.1),
    );
    let declined = on_terminal(&repository, "marketplace reset", "n\n");
    assert_eq!(declined.status.code(), Some(1));
    let stdout = text(&declined.stdout);
    assert!(
        stdout.contains("[y/N]") && stdout.contains("cancelled"),
        "{stdout}"
    );
    assert!(repository.events_dir().join("a.json").exists());

    let accepted = on_terminal(&repository, "marketplace reset", "y\n");
    assert_eq!(
        accepted.status.code(),
        Some(0),
        "{}",
        text(&accepted.stdout)
    );
    assert!(!repository.events_dir().join("a.json").exists());
}

#[test]
fn reset_with_no_events_has_nothing_to_do() {
    let repository = Repository::set_up();
    let output = repository.ralph(&["marketplace", "reset", "--yes"]);
    assert!(output.status.success());
    assert!(text(&output.stdout).contains("nothing to reset"));
    assert!(!repository.path().join(".ralph/archive").exists());
}

#[test]
fn a_repo_that_is_not_a_directory_is_refused() {
    let repository = Repository::set_up();
    let output = std::process::Command::new(common::RALPH)
        .args(["--repo", "/nonexistent/ralph", "marketplace", "status"])
        .output()
        .expect("ralph runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("not a directory"));
    drop(repository);
}

#[test]
fn a_repo_inside_a_repository_is_refused_naming_its_root() {
    let repository = Repository::set_up();
    let inner = repository.path().join(".ralph");
    let output = std::process::Command::new(common::RALPH)
        .arg("--repo")
        .arg(&inner)
        .args(["marketplace", "setup"])
        .output()
        .expect("ralph runs");
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("not the root of a git repository"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "its repository's root is {}",
            repository.path().display()
        )),
        "{stderr}"
    );
    assert!(
        !inner.join(".ralph").exists(),
        "nothing is created inside .ralph"
    );
}

#[test]
fn an_unreadable_event_file_for_record_is_bad_input() {
    let repository = Repository::set_up();
    let output = repository.ralph(&["marketplace", "record", "--file", "/nonexistent/event.json"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("/nonexistent/event.json"));
}

#[test]
fn the_human_status_says_when_files_were_left_out() {
    let repository = Repository::set_up();
    repository.write_event("broken.json", "[]");
    let output = repository.ralph(&["marketplace", "status"]);
    assert!(output.status.success());
    assert!(text(&output.stdout).contains("1 event file left out"));
    assert!(text(&output.stderr).contains("broken.json"));
}

#[test]
fn status_still_answers_when_the_cache_cannot_be_written() {
    let repository = Repository::set_up();
    // A directory where the cache file should be: the write fails.
    std::fs::create_dir(repository.path().join(".ralph/marketplace.json")).expect("mkdir");
    repository.write_event(
        "a.json",
        &event("2026-01-29T10:15:00Z", "bidder_1", "success", 0.1),
    );
    let output = repository.ralph(&["marketplace", "status", "--json"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("could not write the cache"));
    let state: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(state["event_count"], 1);
}

#[test]
fn verify_exits_1_when_the_cache_disagrees_with_the_events() {
    let repository = Repository::set_up();
    repository.write_event(
        "a.json",
        &event("2026-01-29T10:15:00Z", "bidder_1", "success", 0.1),
    );
    repository.status_json();
    // Tamper with the cache and make its version vouch for the change.
    let state_path = repository.path().join(".ralph/marketplace.json");
    let tampered = std::fs::read_to_string(&state_path)
        .expect("cache")
        .replace("\"successes\": 1", "\"successes\": 7");
    std::fs::write(&state_path, &tampered).expect("write");
    let version_path = repository.path().join(".ralph/.state_version");
    let mut version: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&version_path).expect("version")).expect("json");
    version["state_digest"] = ralph_marketplace::cache::digest(tampered.as_bytes()).into();
    std::fs::write(&version_path, version.to_string()).expect("write");

    let output = repository.ralph(&["marketplace", "verify"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stdout).contains("cache: wrong"),
        "{}",
        text(&output.stdout)
    );
}

/// The one JSON line a command printed.
fn json_of(output: &std::process::Output) -> serde_json::Value {
    serde_json::from_str(text(&output.stdout).trim()).unwrap_or_else(|_| {
        panic!(
            "not one JSON line: {}\n{}",
            text(&output.stdout),
            text(&output.stderr)
        )
    })
}

#[test]
fn commands_that_report_speak_json_and_so_do_their_errors() {
    let repository = Repository::empty();
    let setup = json_of(&repository.ralph(&["marketplace", "setup", "--json"]));
    assert!(
        setup["created"]
            .as_array()
            .expect("created")
            .iter()
            .any(|path| path == ".ralph/config.json"),
        "{setup}"
    );
    let spec = repository
        .command(&["marketplace", "spec", "--json"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(b"# Add two\n\n- [ ] two\n")?;
            child.wait_with_output()
        })
        .expect("spec runs");
    let spec = json_of(&spec);
    assert_eq!(
        (spec["issue"].as_u64(), spec["action"].as_str()),
        (Some(1), Some("created"))
    );
    let ready = json_of(&repository.ralph(&["marketplace", "ready", "1", "--json"]));
    assert_eq!(ready["labels"], serde_json::json!(["ready"]), "{ready}");
    let reset = json_of(&repository.ralph(&["marketplace", "reset", "--yes", "--json"]));
    assert_eq!(reset["moved"], 0, "{reset}");
    let missing = repository.ralph(&["marketplace", "ready", "9", "--json"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(missing.stdout.is_empty(), "no result on standard output");
    let error: serde_json::Value =
        serde_json::from_slice(&missing.stderr).expect("one JSON error on standard error");
    assert_eq!(error["exit_code"], 2, "{error}");
    assert!(
        error["error"].as_str().unwrap_or("").contains("#9"),
        "{error}"
    );
}
