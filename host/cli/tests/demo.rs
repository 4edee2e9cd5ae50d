//! `ralph demo`: the main job on the bundled sample, offline.

mod common;

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
