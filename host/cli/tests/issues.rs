//! `ralph marketplace spec|ready|backlog|pull-request` on the real binary:
//! issues in `.ralph/issues/`, records in `.ralph/pulls/`.

mod common;

use std::io::Write;
use std::process::{Output, Stdio};
use std::time::Duration;

use common::{Repository, text};
use ralph_issues::{
    CheckCategory, CheckResult, DimensionScores, ProposalScore, PullRequest, PullRequests,
};
use ralph_marketplace::Layout;

/// Runs `ralph --repo <repository> ARGS` with `input` on standard input.
fn with_input(repository: &Repository, args: &[&str], input: &str) -> Output {
    let mut child = repository
        .command(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ralph starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("ralph runs")
}

fn issue_file(repository: &Repository, number: u64) -> String {
    let path = repository.path().join(format!(".ralph/issues/{number}.md"));
    std::fs::read_to_string(path).expect("issue file")
}

fn succeeded(output: &Output) -> String {
    assert!(
        output.status.success(),
        "exit {:?}: {}",
        output.status.code(),
        text(&output.stderr)
    );
    text(&output.stdout)
}

fn create(repository: &Repository, spec: &str) -> String {
    succeeded(&with_input(repository, &["marketplace", "spec"], spec))
}

#[test]
fn spec_creates_an_issue_from_standard_input_and_prints_its_number() {
    let repository = Repository::empty();
    let spec = "# Backlog command\n\n- [ ] list open issues\n";
    assert_eq!(create(&repository, spec), "1\n");
    assert_eq!(
        issue_file(&repository, 1),
        format!("---\ntitle: Backlog command\nlabels: [in-refinement]\nstate: open\n---\n{spec}")
    );
    assert_eq!(create(&repository, "# Second\n"), "2\n");
}

#[test]
fn spec_front_matter_sets_the_title_labels_and_state() {
    let repository = Repository::empty();
    let spec = "---\ntitle: From front matter\nlabels: [ready, ralph]\n---\n# Heading\nbody\n";
    assert_eq!(create(&repository, spec), "1\n");
    assert_eq!(
        issue_file(&repository, 1),
        "---\ntitle: From front matter\nlabels: [ready, ralph]\nstate: open\n---\n# Heading\nbody\n"
    );
}

#[test]
fn spec_with_a_number_updates_title_and_body_and_keeps_the_labels() {
    let repository = Repository::empty();
    create(&repository, "# First draft\n- [ ] one\n");
    succeeded(&repository.ralph(&["marketplace", "ready", "1"]));
    let file = repository.path().join("spec.md");
    std::fs::write(&file, "# Refined\n- [ ] one\n- [ ] two\n").expect("spec");
    let file = file.to_str().expect("utf-8 path");
    let output = repository.ralph(&["marketplace", "spec", "1", "--file", file]);
    assert_eq!(succeeded(&output), "1\n");
    assert!(text(&output.stderr).contains("updated issue #1"));
    assert_eq!(
        issue_file(&repository, 1),
        "---\ntitle: Refined\nlabels: [ready]\nstate: open\n---\n# Refined\n- [ ] one\n- [ ] two\n"
    );
    let closing = "---\nlabels: [backlog-review]\nstate: closed\n---\nno heading\n";
    succeeded(&with_input(
        &repository,
        &["marketplace", "spec", "1"],
        closing,
    ));
    assert_eq!(
        issue_file(&repository, 1),
        "---\ntitle: Refined\nlabels: [backlog-review]\nstate: closed\n---\nno heading\n"
    );
}

#[test]
fn spec_without_a_title_or_for_an_unknown_issue_exits_2_and_writes_nothing() {
    let repository = Repository::empty();
    let output = with_input(&repository, &["marketplace", "spec"], "no title here\n");
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("<stdin>: the spec needs a title"));
    let output = with_input(&repository, &["marketplace", "spec", "9"], "# Title\n");
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains(".ralph/issues/9.md"));
    assert!(repository.snapshot().is_empty(), "nothing was written");
}

#[test]
fn malformed_spec_input_exits_2_naming_the_line_and_creates_nothing() {
    let repository = Repository::empty();
    let spec = "---\ntitle: T\npriority: high\n---\nbody\n";
    let output = with_input(&repository, &["marketplace", "spec"], spec);
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("<stdin>:3: unknown key `priority`"),
        "{stderr}"
    );
    assert!(output.stdout.is_empty());
    assert!(repository.snapshot().is_empty());
}

#[test]
fn ready_labels_the_issue_ready_and_removes_in_refinement() {
    let repository = Repository::empty();
    create(
        &repository,
        "---\nlabels: [in-refinement, ralph]\n---\n# T\n- [ ] a\n",
    );
    let output = succeeded(&repository.ralph(&["marketplace", "ready", "1"]));
    assert_eq!(output, "issue #1 is ready; labels: ready, ralph\n");
    assert!(issue_file(&repository, 1).contains("labels: [ready, ralph]\n"));
}

#[test]
fn ready_warns_about_an_issue_without_checkboxes() {
    let repository = Repository::empty();
    create(&repository, "# Only prose\n");
    let output = repository.ralph(&["marketplace", "ready", "1"]);
    succeeded(&output);
    assert!(text(&output.stderr).contains("has no checkboxes"));
}

#[test]
fn ready_refuses_an_unknown_or_closed_issue_with_exit_2() {
    let repository = Repository::empty();
    let output = repository.ralph(&["marketplace", "ready", "3"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains(".ralph/issues/3.md: issue #3 does not exist"));
    create(&repository, "---\nstate: closed\n---\n# Done\n");
    let before = repository.snapshot();
    let output = repository.ralph(&["marketplace", "ready", "1"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("issue #1 is closed"));
    assert_eq!(repository.snapshot(), before);
}

#[test]
fn backlog_lists_open_issues_and_flags_the_duplicate_pair() {
    let repository = Repository::empty();
    let body = "List the open issues with their status and flag likely duplicates.\n\
                - [x] a table within 80 columns\n- [ ] a JSON output\n";
    create(&repository, &format!("# Backlog command\n{body}"));
    create(
        &repository,
        "# Faster fold\nRead event files on several threads.\n",
    );
    create(&repository, &format!("# Backlog command, again\n{body}"));
    create(&repository, "---\nstate: closed\n---\n# Closed issue\n");
    succeeded(&repository.ralph(&["marketplace", "ready", "2"]));

    let table = succeeded(&repository.ralph(&["marketplace", "backlog"]));
    let rows: Vec<&str> = table.lines().collect();
    assert!(
        rows[0].contains("status") && rows[0].contains("title"),
        "{table}"
    );
    assert!(
        rows[1].contains("1  in-refinement") && rows[1].contains("1/2"),
        "{table}"
    );
    assert!(
        rows[2].contains("2  ready") && rows[2].contains("Faster fold"),
        "{table}"
    );
    assert!(rows[3].contains("Backlog command, again"), "{table}");
    assert!(!table.contains("Closed issue"));
    assert!(table.contains("Likely duplicates"), "{table}");
    assert!(table.contains("  #1 and #3: "), "{table}");
    assert!(!table.contains("#2 and"), "{table}");
    assert!(table.lines().all(|line| line.chars().count() <= 80));

    let json = succeeded(&repository.ralph(&["marketplace", "backlog", "--json"]));
    let json: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(json["entries"].as_array().map(Vec::len), Some(3));
    assert_eq!(json["entries"][1]["status"], "ready");
    assert_eq!(json["duplicates"][0]["first"], 1);
    assert_eq!(json["duplicates"][0]["second"], 3);
}

#[test]
fn a_malformed_issue_file_exits_2_naming_file_and_line_and_nothing_changes() {
    let repository = Repository::empty();
    create(&repository, "# Good\n- [ ] a\n");
    create(&repository, "# Soon broken\n- [ ] b\n");
    let broken = "---\ntitle: Soon broken\nlabels: [ready]\nstate: pending\n---\n- [ ] b\n";
    let path = repository.path().join(".ralph/issues/2.md");
    std::fs::write(&path, broken).expect("write");
    let spec = repository.path().join("spec.md");
    std::fs::write(&spec, "# New\n").expect("spec");
    let spec = spec.to_str().expect("utf-8 path");
    let before = repository.snapshot();
    for command in [
        &["marketplace", "backlog"][..],
        &["marketplace", "backlog", "--json"],
        &["marketplace", "ready", "2"],
        &["marketplace", "spec", "2", "--file", spec],
    ] {
        let output = repository.ralph(command);
        assert_eq!(output.status.code(), Some(2), "{command:?}");
        let stderr = text(&output.stderr);
        assert!(
            stderr.contains(".ralph/issues/2.md:4: key `state`: unknown state `pending`"),
            "{command:?}: {stderr}"
        );
        let root = repository.path().display().to_string();
        assert!(
            !stderr.contains(&root),
            "paths are shown relative to the repository: {stderr}"
        );
        assert!(output.stdout.is_empty(), "{command:?}");
        if command.contains(&"--json") {
            // In JSON mode the error is a JSON object on standard error.
            let error: serde_json::Value =
                serde_json::from_slice(&output.stderr).expect("a JSON error");
            assert_eq!(error["exit_code"], 2, "{error}");
        }
    }
    assert_eq!(repository.snapshot(), before, "a file changed");
}

fn record(number: u64, title: &str) -> PullRequest {
    let scores = DimensionScores {
        spec_alignment: 0.9,
        technical_quality: 0.8,
        innovation: 0.5,
        risk: 0.7,
        efficiency: 0.6,
    };
    PullRequest {
        issue_number: number,
        title: title.to_owned(),
        branch: format!("ralph/{number}-work"),
        summary: "What changed and why.".to_owned(),
        proposals: vec![ProposalScore {
            label: "proposal-a".to_owned(),
            total: 0.74,
            scores,
        }],
        checks: vec![
            CheckResult {
                name: "tests".to_owned(),
                category: CheckCategory::Test,
                passed: true,
                passed_before: true,
                duration: Duration::from_millis(2500),
                summary: "42 passed".to_owned(),
            },
            CheckResult {
                name: "fmt".to_owned(),
                category: CheckCategory::Format,
                passed: false,
                passed_before: false,
                duration: Duration::from_millis(300),
                summary: "baseline failure".to_owned(),
            },
        ],
        reviews: Vec::new(),
        changes: None,
        commits: Vec::new(),
        failed_attempts: Vec::new(),
    }
}

#[test]
fn pull_request_lists_records_and_shows_one() {
    let repository = Repository::empty();
    let empty = succeeded(&repository.ralph(&["marketplace", "pull-request"]));
    assert!(empty.starts_with("no pull-request records in .ralph/pulls"));
    let records = PullRequests::new(&Layout::new(repository.path()));
    records.write(&record(4, "Backlog command")).expect("write");
    records.write(&record(12, "Faster fold")).expect("write");

    let table = succeeded(&repository.ralph(&["marketplace", "pull-request"]));
    let rows: Vec<&str> = table.lines().collect();
    assert_eq!(rows.len(), 3, "{table}");
    assert!(rows[1].contains("4") && rows[1].contains("1/2"), "{table}");
    assert!(rows[1].contains("ralph/4-work") && rows[1].contains("Backlog command"));
    assert!(rows[2].contains("Faster fold"));

    let shown = succeeded(&repository.ralph(&["marketplace", "pull-request", "4"]));
    assert!(
        shown.starts_with("# Backlog command\n\nCloses #4\n"),
        "{shown}"
    );
    assert!(shown.contains("| 1 | proposal-a | 0.740 |"), "{shown}");
    assert!(
        shown.contains(
            "| fmt | format | failed before the change too | 0.30 s | baseline failure |"
        )
    );
    assert!(
        !shown.contains("ralph:pull-request"),
        "the data comment is not shown"
    );

    let json = succeeded(&repository.ralph(&["marketplace", "pull-request", "4", "--json"]));
    let parsed: PullRequest = serde_json::from_str(&json).expect("a record");
    assert_eq!(parsed, record(4, "Backlog command"));
    let list = succeeded(&repository.ralph(&["marketplace", "pull-request", "--json"]));
    let list: Vec<PullRequest> = serde_json::from_str(&list).expect("records");
    assert_eq!(list.len(), 2);
}

#[test]
fn pull_request_for_a_missing_or_broken_record_exits_2_naming_the_file() {
    let repository = Repository::empty();
    let output = repository.ralph(&["marketplace", "pull-request", "7"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains(".ralph/pulls/7.md: no pull-request record"));
    let pulls = repository.path().join(".ralph/pulls");
    std::fs::create_dir_all(&pulls).expect("mkdir");
    std::fs::write(pulls.join("7.md"), "# Hand-written\n").expect("write");
    for command in [
        &["marketplace", "pull-request", "7"][..],
        &["marketplace", "pull-request"],
    ] {
        let output = repository.ralph(command);
        assert_eq!(output.status.code(), Some(2), "{command:?}");
        assert!(text(&output.stderr).contains(".ralph/pulls/7.md: no `<!-- ralph:pull-request"));
    }
}

#[test]
fn spec_reads_standard_input_for_file_dash_and_refuses_an_unreadable_file() {
    let repository = Repository::empty();
    let output = with_input(
        &repository,
        &["marketplace", "spec", "--file", "-"],
        "# From a dash\n",
    );
    assert_eq!(succeeded(&output), "1\n");
    let missing = repository.path().join("missing.md");
    let missing = missing.to_str().expect("utf-8 path");
    let before = repository.snapshot();
    let output = repository.ralph(&["marketplace", "spec", "--file", missing]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("missing.md: cannot read the spec"));
    assert_eq!(repository.snapshot(), before);
}
