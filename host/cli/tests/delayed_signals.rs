//! `ralph marketplace signals` (SPEC §10) on a scripted git history: a
//! revert within and after 14 days, two `Caused-by` commits, churn just over
//! and just under the threshold. Exactly the events of §10, and running it
//! twice, or in a second clone, writes nothing new.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Repository, git, text};
use serde_json::{Value, json};

/// 2026-01-01T00:00:00Z.
const START: i64 = 1_767_225_600;
const DAY: i64 = 24 * 60 * 60;

/// Commits everything in `directory` with `message` at `day` (both author
/// and committer time); returns the commit's sha.
fn commit_at(directory: &Path, day: i64, message: &str) -> String {
    let when = format!("@{} +0000", START + day * DAY);
    let output = Command::new("git")
        .arg("-C")
        .arg(directory)
        .args(["-c", "user.name=Test", "-c", "user.email=test@localhost"])
        .args(["add", "--all"])
        .output()
        .expect("git add");
    assert!(output.status.success());
    let output = Command::new("git")
        .arg("-C")
        .arg(directory)
        .args(["-c", "user.name=Test", "-c", "user.email=test@localhost"])
        .args(["commit", "--quiet", "--allow-empty", "-m", message])
        .env("GIT_AUTHOR_DATE", &when)
        .env("GIT_COMMITTER_DATE", &when)
        .output()
        .expect("git commit");
    assert!(output.status.success(), "{}", text(&output.stderr));
    git(directory, &["rev-parse", "HEAD"]).trim().to_owned()
}

fn edit(directory: &Path, file: &str, day: i64, message: &str) -> String {
    let path = directory.join(file);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    let mut content = std::fs::read_to_string(&path).unwrap_or_default();
    content.push_str(&format!("// day {day}: {message}\n"));
    std::fs::write(&path, content).expect("write");
    commit_at(directory, day, message)
}

fn ralph_message(issue: u64) -> String {
    format!(
        "Add feature {issue}\n\nThe plan.\n\nRalph-Issue: {issue}\nRalph-Round: 1\nRalph-Proposal: A\n"
    )
}

/// The success event a loop wrote for issue `issue`'s round 1 winner, a
/// minute before its commit on day 0.
fn success(issue: u64, bot: &str) -> String {
    let at = chrono::DateTime::from_timestamp(START - 60 + issue as i64, 0)
        .expect("time")
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string();
    json!({"timestamp": at, "issue_number": issue, "bot_id": bot, "outcome": "success",
           "weight_delta": 0.1, "case": ["initial_winner_succeeded"], "round": 1,
           "rank": 1, "proposal_id": "A"})
    .to_string()
}

struct History {
    repository: Repository,
    ralph: BTreeMap<u64, String>,
    late_revert: String,
}

/// A repository on `main` whose history holds four Ralph commits (issues
/// 1–4 by bidder_1, bidder_2, bidder_3, bidder_1) and what happened after.
fn history() -> History {
    let repository = Repository::set_up();
    let root = repository.path();
    std::fs::remove_dir(root.join(".git")).expect("remove the placeholder .git");
    git(root, &["init", "--quiet", "--initial-branch=main"]);
    for (issue, bot) in [
        (1, "bidder_1"),
        (2, "bidder_2"),
        (3, "bidder_3"),
        (4, "bidder_1"),
    ] {
        let output = repository.ralph_with_input(
            &["marketplace", "record", "--file", "-"],
            success(issue, bot).as_bytes(),
        );
        assert!(output.status.success(), "{}", text(&output.stderr));
    }
    commit_at(root, -1, "start");
    let mut ralph = BTreeMap::new();
    for (issue, file) in [
        (1, "src/a.rs"),
        (2, "src/b.rs"),
        (3, "src/c.rs"),
        (4, "src/d.rs"),
    ] {
        ralph.insert(issue, edit(root, file, 0, &ralph_message(issue)));
    }
    // Churn: src/d.rs edited 4 times in the window (over), src/b.rs 3 times
    // (not over).
    for day in 1..=4 {
        edit(root, "src/d.rs", day, "tweak d");
    }
    for day in 1..=3 {
        edit(root, "src/b.rs", day, "tweak b");
    }
    // A revert of issue 1's commit on day 5 (within), of issue 2's on day 20
    // (after).
    edit(
        root,
        "src/a.rs",
        5,
        &format!(
            "Revert \"Add feature 1\"\n\nThis reverts commit {}.\n",
            ralph[&1]
        ),
    );
    let late_revert = edit(
        root,
        "src/b.rs",
        20,
        &format!(
            "Revert \"Add feature 2\"\n\nThis reverts commit {}.\n",
            ralph[&2]
        ),
    );
    // Two defects traced to issue 3's commit, one by an abbreviated sha.
    edit(
        root,
        "src/c.rs",
        16,
        &format!("Fix c\n\nCaused-by: {}\n", ralph[&3]),
    );
    edit(
        root,
        "src/c.rs",
        30,
        &format!("Fix c again\n\nCaused-by: {}\n", &ralph[&3][..10]),
    );
    History {
        repository,
        ralph,
        late_revert,
    }
}

fn signals(directory: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["marketplace", "signals", "--json"];
    args.extend_from_slice(extra);
    let output = common::ralph_in(directory, &args);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}\n{}",
        text(&output.stdout),
        text(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("JSON")
}

fn delayed_events(directory: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    std::fs::read_dir(directory.join(".ralph/events"))
        .expect("events")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            ["-revert.json", "-defect.json", "-churn.json"]
                .iter()
                .any(|end| name.ends_with(end))
        })
        .map(|path| {
            let bytes = std::fs::read(&path).expect("read");
            (PathBuf::from(path.file_name().expect("name")), bytes)
        })
        .collect()
}

#[test]
fn exactly_the_signals_of_the_history_are_recorded_once_in_every_clone() {
    let History {
        repository,
        ralph,
        late_revert,
    } = history();
    let root = repository.path();
    // A second clone, made before any signal is recorded.
    let other = tempfile::tempdir().expect("temp dir");
    git(
        other.path(),
        &["clone", "--quiet", root.to_str().expect("utf-8"), "clone"],
    );
    let clone = other.path().join("clone");

    let dry = signals(root, &["--dry-run"]);
    assert!(delayed_events(root).is_empty(), "a dry run records nothing");
    let first = signals(root, &[]);
    assert_eq!(dry["signals"].as_array().map(Vec::len), Some(4), "{dry}");

    let mut found: Vec<(String, String, String)> = first["signals"]
        .as_array()
        .expect("signals")
        .iter()
        .map(|signal| {
            assert_eq!(signal["recorded"], true, "{signal}");
            (
                signal["kind"].as_str().unwrap_or("").to_owned(),
                signal["commit"].as_str().unwrap_or("").to_owned(),
                signal["bot_id"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    found.sort();
    let expected = |kind: &str, issue: u64, bot: &str| {
        (kind.to_owned(), ralph[&issue].clone(), bot.to_owned())
    };
    assert_eq!(
        found,
        [
            expected("churn", 4, "bidder_1"),
            expected("defect", 3, "bidder_3"),
            expected("defect", 3, "bidder_3"),
            expected("revert", 1, "bidder_1"),
        ]
    );
    assert!(
        !first.to_string().contains(&late_revert),
        "a revert after 14 days is no signal"
    );

    // The events carry §2.7's deltas and fold into the weights.
    let written = delayed_events(root);
    assert_eq!(written.len(), 4);
    let deltas: Vec<f64> = written
        .values()
        .map(|bytes| {
            let event: Value = serde_json::from_slice(bytes).expect("event");
            event["weight_delta"].as_f64().expect("delta")
        })
        .collect();
    let mut sorted = deltas.clone();
    sorted.sort_by(f64::total_cmp);
    assert_eq!(sorted, [-0.1, -0.03, -0.02, -0.02]);
    let verify = repository.ralph(&["marketplace", "verify"]);
    assert!(verify.status.success(), "{}", text(&verify.stdout));

    // Again: nothing new.
    let again = signals(root, &[]);
    assert!(
        again["signals"]
            .as_array()
            .expect("signals")
            .iter()
            .all(|signal| signal["recorded"] == false),
        "{again}"
    );
    assert_eq!(delayed_events(root), written);

    // The other clone records the very same files.
    signals(&clone, &[]);
    assert_eq!(delayed_events(&clone), written);

    // --since leaves out what was signalled before it.
    let since = signals(root, &["--since", "2026-01-17", "--dry-run"]);
    assert_eq!(
        since["signals"].as_array().map(Vec::len),
        Some(2),
        "{since}"
    );
}

#[test]
fn a_bad_since_is_refused_naming_the_flag() {
    let History { repository, .. } = history();
    let output = repository.ralph(&["marketplace", "signals", "--since", "last week"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("--since"),
        "{}",
        text(&output.stderr)
    );
    assert!(delayed_events(repository.path()).is_empty());
}
