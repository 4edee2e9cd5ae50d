//! The state directory as a careless or hostile hand leaves it (SPEC §2.2):
//! what is not a regular event file is excluded without being opened and
//! reported by `verify`; `record` refuses what the log would exclude and
//! never duplicates an event. Driven through the real binary.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

use common::{Repository, event, text};

/// A deadline far above what the command needs: passing it means a hang.
const GENEROUS: Duration = Duration::from_secs(20);

const NAME: &str = "2026-01-29T10-15-00-000000Z-bidder_1-success.json";

/// Waits for `child`, killing it after `deadline`; `None` when it had to be
/// killed.
fn wait_within(mut child: Child, deadline: Duration) -> Option<Output> {
    let started = Instant::now();
    while started.elapsed() < deadline {
        if child.try_wait().expect("wait").is_some() {
            return Some(child.wait_with_output().expect("output"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

/// Runs `ralph ARGS` on `repository`, failing the test if it does not end
/// within [`GENEROUS`].
fn run_bounded(repository: &Repository, args: &[&str]) -> Output {
    let child = repository
        .command(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    wait_within(child, GENEROUS)
        .unwrap_or_else(|| panic!("ralph {args:?} did not finish within {GENEROUS:?}"))
}

fn verify_json(repository: &Repository) -> (Option<i32>, serde_json::Value) {
    let output = run_bounded(repository, &["marketplace", "verify", "--json"]);
    let report = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|_| panic!("verify prints JSON: {}", text(&output.stdout)));
    (output.status.code(), report)
}

/// The reason `verify` gives for `name`, which it must list.
fn excluded_reason(report: &serde_json::Value, name: &str) -> String {
    report["excluded_events"]
        .as_array()
        .expect("an array")
        .iter()
        .find(|excluded| excluded["file"] == name)
        .unwrap_or_else(|| panic!("{name} is not reported: {report}"))["reason"]
        .as_str()
        .expect("a reason")
        .to_owned()
}

fn record(repository: &Repository, file: &Path) -> Output {
    repository.ralph(&[
        "marketplace",
        "record",
        "--json",
        "--file",
        file.to_str().expect("utf-8"),
    ])
}

#[test]
fn a_symlink_to_dev_zero_is_excluded_and_status_finishes() {
    let repository = Repository::set_up();
    std::os::unix::fs::symlink("/dev/zero", repository.events_dir().join(NAME)).expect("symlink");
    for args in [
        &["marketplace", "status", "--json"][..],
        &["marketplace", "status"][..],
        &["marketplace", "usage"][..],
    ] {
        let output = run_bounded(&repository, args);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{args:?}: {}",
            text(&output.stderr)
        );
        let stderr = text(&output.stderr);
        assert!(
            stderr.contains(NAME) && stderr.contains("symbolic link") || args[1] == "usage",
            "{args:?}: {stderr}"
        );
    }
    let state = repository.status_json();
    assert_eq!(state["event_count"], 0);
    assert!(excluded_reason(&state, NAME).contains("/dev/zero"));
    let (code, report) = verify_json(&repository);
    assert_eq!(code, Some(1));
    assert!(excluded_reason(&report, NAME).contains("not a regular file"));
}

#[test]
fn a_symlink_to_an_event_outside_the_repository_is_not_folded() {
    let repository = Repository::set_up();
    let outside = tempfile::tempdir().expect("outside");
    let target = outside.path().join(NAME);
    std::fs::write(
        &target,
        event("2026-01-29T10:15:00Z", "bidder_1", "success", 0.5),
    )
    .expect("write");
    std::os::unix::fs::symlink(&target, repository.events_dir().join(NAME)).expect("symlink");
    let state = repository.status_json();
    assert_eq!(state["event_count"], 0);
    assert_eq!(state["bots"]["bidder_1"]["successes"], 0);
    assert!(excluded_reason(&state, NAME).contains("symbolic link"));
}

#[test]
fn a_fifo_is_excluded_and_status_finishes() {
    let repository = Repository::set_up();
    let status = std::process::Command::new("mkfifo")
        .arg(repository.events_dir().join(NAME))
        .status()
        .expect("mkfifo");
    assert!(status.success());
    let output = run_bounded(&repository, &["marketplace", "status", "--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let (code, report) = verify_json(&repository);
    assert_eq!(code, Some(1));
    assert!(excluded_reason(&report, NAME).contains("FIFO"));
}

#[test]
fn a_directory_and_a_name_content_mismatch_are_reported_by_verify() {
    let repository = Repository::set_up();
    std::fs::create_dir(repository.events_dir().join("nested.json")).expect("mkdir");
    // A bidder_1 failure filed under bidder_2's success.
    let mismatched = "2026-01-29T10-15-00-000000Z-bidder_2-success.json";
    repository.write_event(
        mismatched,
        &event("2026-01-29T10:15:00Z", "bidder_1", "failure", -0.15),
    );
    let (code, report) = verify_json(&repository);
    assert_eq!(code, Some(1), "{report}");
    assert!(excluded_reason(&report, "nested.json").contains("a directory"));
    let reason = excluded_reason(&report, mismatched);
    assert!(
        reason.contains("bot_id") && reason.contains("bidder_2"),
        "{reason}"
    );
    assert_eq!(report["event_count"], 0);
    let human = repository.ralph(&["marketplace", "verify"]);
    assert_eq!(human.status.code(), Some(1));
    let stdout = text(&human.stdout);
    assert!(
        stdout.contains(".ralph/events/nested.json") && stdout.contains(mismatched),
        "{stdout}"
    );
}

#[test]
fn an_event_file_over_64_kib_is_excluded() {
    let repository = Repository::set_up();
    let padded = event("2026-01-29T10:15:00Z", "bidder_1", "success", 0.1)
        .replace('}', &format!(", \"padding\": \"{}\"}}", "x".repeat(70_000)));
    repository.write_event(NAME, &padded);
    let (code, report) = verify_json(&repository);
    assert_eq!(code, Some(1));
    assert!(excluded_reason(&report, NAME).contains("65536"));
}

#[test]
fn the_cache_never_hides_a_newly_excluded_file() {
    let repository = Repository::set_up();
    repository.write_event(
        NAME,
        &event("2026-01-29T10:15:00Z", "bidder_1", "success", 0.1),
    );
    assert_eq!(repository.status_json()["event_count"], 1);
    // The event file replaced by a symlink with the same name.
    let path = repository.events_dir().join(NAME);
    std::fs::remove_file(&path).expect("remove");
    std::os::unix::fs::symlink("/dev/zero", &path).expect("symlink");
    let state = repository.status_json();
    assert_eq!(state["event_count"], 0);
    assert!(excluded_reason(&state, NAME).contains("symbolic link"));
    // A directory appears next to a cached log.
    std::fs::create_dir(repository.events_dir().join("new.json")).expect("mkdir");
    assert!(excluded_reason(&repository.status_json(), "new.json").contains("directory"));
}

#[test]
fn a_cache_file_that_is_a_symlink_to_dev_zero_does_not_hang_status() {
    let repository = Repository::set_up();
    for name in ["marketplace.json", ".state_version"] {
        std::os::unix::fs::symlink("/dev/zero", repository.path().join(".ralph").join(name))
            .expect("symlink");
    }
    let output = run_bounded(&repository, &["marketplace", "status", "--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
}

#[test]
fn record_refuses_an_event_over_64_kib_without_reading_it_whole() {
    let repository = Repository::set_up();
    // 50 MB: the old `record` accepted it.
    let file = repository.path().join("huge.json");
    let mut writer = std::fs::File::create(&file).expect("create");
    let head =
        event("2026-01-29T10:15:00Z", "bidder_1", "success", 0.1).replace('}', ", \"padding\": \"");
    writer.write_all(head.as_bytes()).expect("write");
    let chunk = vec![b'x'; 1 << 20];
    for _ in 0..50 {
        writer.write_all(&chunk).expect("write");
    }
    writer.write_all(b"\"}").expect("write");
    drop(writer);
    let before = repository.snapshot();
    let output = record(&repository, &file);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("huge.json") && stderr.contains("65536"),
        "{stderr}"
    );
    assert_eq!(repository.snapshot(), before, "nothing written");
}

#[test]
fn record_refuses_an_event_that_would_be_written_over_64_kib() {
    let repository = Repository::set_up();
    // Compact, it fits; written pretty, one item per line, it would not.
    let items = vec!["1"; 30_000].join(",");
    let json = event("2026-01-29T10:15:00Z", "bidder_1", "success", 0.1)
        .replace('}', &format!(", \"list\": [{items}]}}"));
    assert!(json.len() < 65_536);
    let file = repository.path().join("list.json");
    std::fs::write(&file, json).expect("write");
    let output = record(&repository, &file);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("list.json"));
    assert_eq!(repository.status_json()["event_count"], 0);
}

#[test]
fn record_writes_the_timestamp_in_canonical_form() {
    let repository = Repository::set_up();
    let file = repository.path().join("event.json");
    std::fs::write(
        &file,
        event("2026-01-29T10:15:00+00:00", "bidder_1", "success", 0.1),
    )
    .expect("write");
    let output = record(&repository, &file);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(report["timestamp"], "2026-01-29T10:15:00.000000Z");
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(repository.events_dir().join(NAME)).expect("read"))
            .expect("json");
    assert_eq!(written["timestamp"], "2026-01-29T10:15:00.000000Z");
}

#[test]
fn an_identical_re_record_is_a_no_op_that_says_so() {
    let repository = Repository::set_up();
    let file = repository.path().join("event.json");
    std::fs::write(
        &file,
        event("2026-01-29T10:15:00Z", "bidder_1", "success", 0.1),
    )
    .expect("write");
    let first = record(&repository, &file);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    let first: serde_json::Value = serde_json::from_slice(&first.stdout).expect("json");
    assert_eq!(first["already_recorded"], false);
    // The retry spells the same event differently: key order, spacing and
    // the timestamp's form do not make it another event.
    std::fs::write(
        &file,
        r#"{"weight_delta": 0.1, "outcome": "success", "bot_id": "bidder_1",
            "issue_number": 42, "timestamp": "2026-01-29T10:15:00.000000Z"}"#,
    )
    .expect("write");
    let before = repository.snapshot();
    for json in [true, false] {
        let output = if json {
            record(&repository, &file)
        } else {
            repository.ralph(&[
                "marketplace",
                "record",
                "--file",
                file.to_str().expect("utf-8"),
            ])
        };
        assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
        let stdout = text(&output.stdout);
        assert!(
            stdout.contains("\"already_recorded\":true") || stdout.contains("already recorded"),
            "{stdout}"
        );
    }
    assert_eq!(repository.snapshot(), before, "nothing written");
    assert_eq!(repository.status_json()["event_count"], 1);
    // Another event at the same instant is still recorded.
    std::fs::write(
        &file,
        event("2026-01-29T10:15:00Z", "bidder_1", "success", 0.05),
    )
    .expect("write");
    let other = record(&repository, &file);
    let other: serde_json::Value = serde_json::from_slice(&other.stdout).expect("json");
    assert_eq!(other["already_recorded"], false);
    assert_eq!(repository.status_json()["event_count"], 2);
}
