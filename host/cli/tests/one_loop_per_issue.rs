//! One loop per issue (SPEC §15's local lock) and the issues a loop refuses
//! before anything changes (SPEC §4), driven through the real binary with
//! the scripted test bidders.

mod common;

use std::process::Output;

use common::{Repository, git, text};
use serde_json::{Value, json};

const LIBRARY: &str = "pub fn one() -> u32 {\n    1\n}\n";
const PATCH: &str =
    "--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -3,0 +4,4 @@\n+\n+pub fn two() -> u32 {\n+    2\n+}\n";

/// A repository whose bidder_1 proposes adding `two()` and whose other
/// bidders propose nothing, with `checks`, and issue #1 asking for
/// `checkboxes`.
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
    let rounds = [
        (
            "a",
            json!([{"summary": "add two", "patch": PATCH, "files": [["src/lib.rs", 4]]}]),
        ),
        ("b", json!([{"summary": "plan only, no patch"}])),
        ("c", json!([{"summary": "nothing either, other words"}])),
    ];
    for (letter, rounds) in rounds {
        repository.commit_file(&format!("ralph-script/{letter}.json"), &rounds.to_string());
    }
    repository
}

fn issue_file(repository: &Repository) -> std::path::PathBuf {
    repository.path().join(".ralph/issues/1.md")
}

fn outcomes(repository: &Repository) -> Vec<String> {
    let mut outcomes: Vec<String> = std::fs::read_dir(repository.events_dir())
        .expect("events")
        .map(|entry| {
            let event: Value =
                serde_json::from_slice(&std::fs::read(entry.expect("entry").path()).expect("read"))
                    .expect("event JSON");
            format!("{}:{}", event["bot_id"], event["outcome"]).replace('"', "")
        })
        .collect();
    outcomes.sort();
    outcomes
}

fn describe(output: &Output) -> String {
    format!(
        "exit {:?}\n{}\n{}",
        output.status.code(),
        text(&output.stdout),
        text(&output.stderr)
    )
}

/// A process id that runs no process: a child that exited and was reaped.
fn gone_pid() -> u32 {
    let mut child = std::process::Command::new("true").spawn().expect("spawn");
    let pid = child.id();
    child.wait().expect("wait");
    pid
}

#[test]
fn two_loops_started_at_once_on_one_issue_run_exactly_once() {
    // The check takes two seconds, so the first loop is still working (it
    // runs the check for the baseline, then for the change) when the
    // second one starts.
    let slow = json!({"name": "slow", "category": "test", "timeout_seconds": 60,
        "argv": ["sh", "-c", "sleep 2; ! grep -q BUG src/lib.rs"]});
    let repository = repository(json!([slow]), &["Add two"]);
    let children: Vec<_> = (0..2)
        .map(|_| {
            repository
                .command(&["marketplace", "loop", "1"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    let outputs: Vec<Output> = children
        .into_iter()
        .map(|child| child.wait_with_output().expect("wait"))
        .collect();
    let ran: Vec<&Output> = outputs
        .iter()
        .filter(|output| output.status.code() == Some(0))
        .collect();
    let refused: Vec<&Output> = outputs
        .iter()
        .filter(|output| output.status.code() == Some(2))
        .collect();
    let all: Vec<String> = outputs.iter().map(describe).collect();
    assert_eq!((ran.len(), refused.len()), (1, 1), "{all:#?}");
    let message = text(&refused[0].stderr);
    assert!(
        message.contains("issue #1 is being worked on by pid")
            && message.contains(&ralph_marketplace::lock::host_name()),
        "{message}"
    );
    let commits = git(
        repository.path(),
        &["rev-list", "--count", "main..ralph/1-add-numbers"],
    );
    assert_eq!(commits.trim(), "1", "the change is committed once");
    assert_eq!(
        outcomes(&repository),
        [
            "bidder_1:success",
            "bidder_2:not_tried",
            "bidder_3:not_tried"
        ]
    );
    assert!(
        !repository.path().join(".ralph/locks/1.lock").exists(),
        "the lock is released at the end"
    );
}

#[test]
fn a_stale_lock_of_a_gone_loop_on_this_host_is_taken_over_with_a_message() {
    let repository = repository(json!([]), &["Add two"]);
    let locks = repository.path().join(".ralph/locks");
    std::fs::create_dir_all(&locks).expect("mkdir");
    let stale = json!({"issue": 1, "host": ralph_marketplace::lock::host_name(),
                       "pid": gone_pid(), "started_at": "2026-01-29T10:15:00Z"});
    std::fs::write(locks.join("1.lock"), stale.to_string()).expect("lock");
    let output = repository.ralph(&["marketplace", "loop", "1"]);
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains("Took over the lock of issue #1")
            && stdout.contains("since 2026-01-29T10:15:00Z"),
        "{stdout}"
    );
    assert!(!locks.join("1.lock").exists());
    let ignored = git(repository.path(), &["check-ignore", ".ralph/locks/1.lock"]);
    assert_eq!(
        ignored.trim(),
        ".ralph/locks/1.lock",
        "locks are git-ignored"
    );
}

#[test]
fn a_lock_held_by_a_running_loop_refuses_the_loop_before_anything_changes() {
    let repository = repository(json!([]), &["Add two"]);
    let locks = repository.path().join(".ralph/locks");
    std::fs::create_dir_all(&locks).expect("mkdir");
    // This test process is running: its lock is live.
    let live = json!({"issue": 1, "host": ralph_marketplace::lock::host_name(),
                      "pid": std::process::id(), "started_at": "2026-01-29T10:15:00Z"});
    std::fs::write(locks.join("1.lock"), live.to_string()).expect("lock");
    let before = std::fs::read_to_string(issue_file(&repository)).expect("issue");
    let output = repository.ralph(&["marketplace", "loop", "1"]);
    assert_eq!(output.status.code(), Some(2), "{}", describe(&output));
    assert!(
        text(&output.stderr).contains(&format!(
            "issue #1 is being worked on by pid {} on {} since 2026-01-29T10:15:00Z",
            std::process::id(),
            ralph_marketplace::lock::host_name()
        )),
        "{}",
        describe(&output)
    );
    assert_eq!(
        std::fs::read_to_string(issue_file(&repository)).expect("issue"),
        before
    );
    assert!(outcomes(&repository).is_empty());
    assert!(locks.join("1.lock").exists(), "the holder's lock stays");
}

#[test]
fn a_ready_issue_without_checkboxes_is_refused_before_anything_changes() {
    let repository = repository(json!([]), &[]);
    let before = std::fs::read_to_string(issue_file(&repository)).expect("issue");
    let output = repository.ralph(&["marketplace", "loop", "1"]);
    assert_eq!(output.status.code(), Some(2), "{}", describe(&output));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("issue #1 has no checkboxes")
            && stderr.contains("`- [ ] …`")
            && stderr.contains(".ralph/issues/1.md"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(issue_file(&repository)).expect("issue"),
        before
    );
    assert!(outcomes(&repository).is_empty());
    assert!(!repository.path().join(".ralph/pulls/1.md").exists());
    assert!(!repository.path().join(".ralph/worktrees/1").exists());
}

#[test]
fn a_closed_issue_is_refused_with_advice_that_works() {
    let repository = repository(json!([]), &["Add two"]);
    let open = std::fs::read_to_string(issue_file(&repository)).expect("issue");
    std::fs::write(
        issue_file(&repository),
        open.replace("state: open", "state: closed"),
    )
    .expect("close");
    let output = repository.ralph(&["marketplace", "loop", "1"]);
    assert_eq!(output.status.code(), Some(2), "{}", describe(&output));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("issue #1 is closed")
            && stderr.contains("`state: open`")
            && stderr.contains(".ralph/issues/1.md")
            && stderr.contains("ralph marketplace ready 1"),
        "{stderr}"
    );
    // Following the advice word for word makes the loop run.
    let closed = std::fs::read_to_string(issue_file(&repository)).expect("issue");
    std::fs::write(
        issue_file(&repository),
        closed.replace("state: closed", "state: open"),
    )
    .expect("reopen");
    let ready = repository.ralph(&["marketplace", "ready", "1"]);
    assert_eq!(ready.status.code(), Some(0), "{}", describe(&ready));
    let output = repository.ralph(&["marketplace", "loop", "1"]);
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
}
