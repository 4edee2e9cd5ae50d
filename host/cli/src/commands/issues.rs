//! `ralph marketplace|simple spec|ready|backlog|pull-request`: issues and
//! pull-request records.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io::{IsTerminal, Read};
use std::path::Path;

use anyhow::{Context, anyhow};
use ralph_broker::issue_source::{self, IssuesSettings};
use ralph_issues::backlog::{self, Backlog, DUPLICATE_THRESHOLD};
use ralph_issues::issue::check_title;
use ralph_issues::issue_file::{self, FrontMatter};
use ralph_issues::pulls::{self, PullError};
use ralph_issues::{
    Draft, IssueSource, IssueState, Label, LabelChange, PullRequest, PullRequests, RequirementKind,
    SourceError, Spec,
};
use ralph_marketplace::Layout;

use crate::exit::{Exit, Failure, Outcome};
use crate::output::{self, errln, out, outln};
use crate::render::cut;

/// Table columns: issue number, status, ticked checkboxes; the title takes
/// the rest of 80.
const NUMBER_WIDTH: usize = 5;
const STATUS_WIDTH: usize = 16;
const DONE_WIDTH: usize = 7;
const BRANCH_WIDTH: usize = 26;
const LINE_WIDTH: usize = 80;

/// The repository's issue source, as `.ralph/config.json`'s `issues`
/// section names it (the local files when there is no config yet).
pub fn open_issues(layout: &Layout) -> Result<Box<dyn IssueSource>, Failure> {
    let settings = IssuesSettings::of(layout).map_err(Failure::bad_input)?;
    issue_source::open(layout, &settings)
        .map(|tracker| tracker.issues)
        .map_err(|message| Failure::bad_input(anyhow!(message)))
}

fn source_failure(error: SourceError) -> Failure {
    if error.is_bad_input() {
        Failure::bad_input(error)
    } else {
        Failure::problem(error)
    }
}

fn pull_failure(error: PullError) -> Failure {
    if error.is_bad_input() {
        Failure::bad_input(error)
    } else {
        Failure::problem(error)
    }
}

/// `spec [N] [--file F]`: creates issue N+1 or updates issue N.
pub fn spec(layout: &Layout, number: Option<u64>, file: Option<&Path>, json: bool) -> Outcome {
    let issues = open_issues(layout)?;
    let (source_name, text) = read_spec(file)?;
    let document = issue_file::split(&text).map_err(|error| {
        Failure::bad_input(anyhow!("{source_name}:{}: {}", error.line, error.problem))
    })?;
    let front_matter = document.front_matter.unwrap_or_default();
    let existing = match number {
        Some(number) => Some(issues.get(number).map_err(source_failure)?),
        None => None,
    };
    let title = front_matter
        .title
        .clone()
        .or_else(|| first_heading(document.body))
        .or_else(|| existing.as_ref().map(|issue| issue.title.clone()))
        .ok_or_else(|| {
            Failure::message(
                Exit::BadInput,
                format!(
                    "{source_name}: the spec needs a title: a `title:` line in front matter or a `# Heading`"
                ),
            )
        })?;
    check_title(&title).map_err(|error| Failure::bad_input(anyhow!("{source_name}: {error}")))?;
    let body = document.body.to_owned();
    let issue = match existing {
        None => create(issues.as_ref(), title, body, &front_matter)?,
        Some(issue) => update(
            issues.as_ref(),
            issue.number,
            Spec { title, body },
            &front_matter,
        )?,
    };
    let verb = if number.is_some() {
        "updated"
    } else {
        "created"
    };
    if json {
        output::json_line(
            &serde_json::json!({
                "issue": issue.number,
                "action": verb,
                "title": issue.title,
                "file": issues.location(issue.number),
            })
            .to_string(),
        );
        return Ok(Exit::Success);
    }
    errln!(
        "{verb} issue #{} in {}",
        issue.number,
        issues.location(issue.number)
    );
    outln!("{}", issue.number);
    Ok(Exit::Success)
}

/// The spec's text and a name for messages.
fn read_spec(file: Option<&Path>) -> Result<(String, String), Failure> {
    let bytes = match file {
        Some(path) if path != Path::new("-") => {
            let bytes = std::fs::read(path)
                .with_context(|| format!("{}: cannot read the spec", path.display()))
                .map_err(Failure::bad_input)?;
            return utf8(path.display().to_string(), bytes);
        }
        _ => {
            if std::io::stdin().is_terminal() {
                return Err(Failure::message(
                    Exit::BadInput,
                    "spec: pass --file FILE or pipe the spec on standard input",
                ));
            }
            let mut bytes = Vec::new();
            std::io::stdin()
                .read_to_end(&mut bytes)
                .context("cannot read the spec from standard input")
                .map_err(Failure::bad_input)?;
            bytes
        }
    };
    utf8("<stdin>".to_owned(), bytes)
}

fn utf8(name: String, bytes: Vec<u8>) -> Result<(String, String), Failure> {
    match String::from_utf8(bytes) {
        Ok(text) => Ok((name, text)),
        Err(_) => Err(Failure::message(
            Exit::BadInput,
            format!("{name}: the spec is not UTF-8 text"),
        )),
    }
}

/// The text of the first `# Heading` line outside fenced code.
fn first_heading(body: &str) -> Option<String> {
    let mut fenced = false;
    for line in body.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            fenced = !fenced;
        } else if !fenced && let Some(heading) = line.strip_prefix("# ") {
            let heading = heading.trim();
            if !heading.is_empty() {
                return Some(heading.to_owned());
            }
        }
    }
    None
}

fn create(
    issues: &dyn IssueSource,
    title: String,
    body: String,
    front_matter: &FrontMatter,
) -> Result<ralph_issues::Issue, Failure> {
    let labels = front_matter
        .labels
        .clone()
        .unwrap_or_else(|| BTreeSet::from([Label::InRefinement]));
    let draft = Draft {
        title,
        labels,
        tags: front_matter.tags.clone(),
        body,
    };
    let issue = issues.create(&draft).map_err(source_failure)?;
    if front_matter.state == Some(IssueState::Closed) {
        return issues.close(issue.number).map_err(source_failure);
    }
    Ok(issue)
}

fn update(
    issues: &dyn IssueSource,
    number: u64,
    spec: Spec,
    front_matter: &FrontMatter,
) -> Result<ralph_issues::Issue, Failure> {
    let mut issue = issues.update_spec(number, &spec).map_err(source_failure)?;
    if let Some(labels) = &front_matter.labels {
        let change = LabelChange::between(&issue.labels, labels);
        if change != LabelChange::default() {
            issue = issues.set_labels(number, &change).map_err(source_failure)?;
        }
    }
    match front_matter.state {
        Some(IssueState::Closed) if issue.is_open() => issues.close(number),
        Some(IssueState::Open) if !issue.is_open() => issues.reopen(number),
        _ => Ok(issue),
    }
    .map_err(source_failure)
}

/// `ready N`: labels the issue `ready` and removes `in-refinement` and
/// `attention-needed` (a person looked, and hands it back to the loop).
pub fn ready(layout: &Layout, number: u64, json: bool) -> Outcome {
    let issues = open_issues(layout)?;
    let issue = issues.get(number).map_err(source_failure)?;
    if !issue.is_open() {
        return Err(Failure::message(
            Exit::BadInput,
            format!(
                "{}: issue #{number} is closed; only an open issue can be ready",
                issues.location(number)
            ),
        ));
    }
    let change =
        LabelChange::add([Label::Ready]).removing([Label::InRefinement, Label::AttentionNeeded]);
    let issue = issues.set_labels(number, &change).map_err(source_failure)?;
    let has_checkboxes = ralph_issues::requirements::extract(&issue.body)
        .iter()
        .any(|requirement| requirement.kind == RequirementKind::Checkbox);
    let warning = (!has_checkboxes).then(|| {
        format!(
            "issue #{number} has no checkboxes; the loop finishes an issue when every checkbox is ticked"
        )
    });
    let labels: Vec<&str> = issue.labels.iter().map(|label| label.as_str()).collect();
    if json {
        output::json_line(
            &serde_json::json!({"issue": number, "labels": labels, "warning": warning}).to_string(),
        );
        return Ok(Exit::Success);
    }
    if let Some(warning) = warning {
        errln!("warning: {warning}");
    }
    outln!("issue #{number} is ready; labels: {}", labels.join(", "));
    Ok(Exit::Success)
}

/// `backlog [--json]`.
pub fn backlog(layout: &Layout, json: bool) -> Outcome {
    let issues = open_issues(layout)?;
    let open = issues.list_open().map_err(source_failure)?;
    let backlog = backlog::backlog(&open);
    if json {
        let text = serde_json::to_string_pretty(&backlog).map_err(Failure::problem)?;
        output::json_line(&text);
    } else {
        out!("{}", backlog_table(layout, &backlog));
    }
    Ok(Exit::Success)
}

/// `pull-request [N] [--json]`: every record, or one.
pub fn pull_request(layout: &Layout, number: Option<u64>, json: bool) -> Outcome {
    let records = PullRequests::new(layout);
    match number {
        Some(number) => {
            let record = records.read(number).map_err(pull_failure)?;
            if json {
                let text = serde_json::to_string_pretty(&record).map_err(Failure::problem)?;
                output::json_line(&text);
            } else {
                out!("{}", pulls::markdown(&record));
            }
        }
        None => {
            let list = records.list().map_err(pull_failure)?;
            if json {
                let text = serde_json::to_string_pretty(&list).map_err(Failure::problem)?;
                output::json_line(&text);
            } else {
                out!("{}", pull_request_table(layout, &list));
            }
        }
    }
    Ok(Exit::Success)
}

/// The backlog as a table within 80 columns, then the likely duplicates.
fn backlog_table(layout: &Layout, backlog: &Backlog) -> String {
    let mut text = String::new();
    if backlog.entries.is_empty() {
        let _ = writeln!(
            text,
            "no open issues in {}; create one with `ralph marketplace spec` (or `ralph simple spec`)",
            layout.display(&layout.issues_dir())
        );
        return text;
    }
    let title_width = LINE_WIDTH - NUMBER_WIDTH - STATUS_WIDTH - DONE_WIDTH - 6;
    let _ = writeln!(
        text,
        "{:>NUMBER_WIDTH$}  {:<STATUS_WIDTH$}{:>DONE_WIDTH$}  title",
        "#", "status", "done"
    );
    for entry in &backlog.entries {
        let done = format!("{}/{}", entry.checkboxes_done, entry.checkboxes_total);
        let _ = writeln!(
            text,
            "{:>NUMBER_WIDTH$}  {:<STATUS_WIDTH$}{:>DONE_WIDTH$}  {}",
            entry.number,
            entry.status.as_str(),
            done,
            cut(&entry.title, title_width)
        );
    }
    if !backlog.duplicates.is_empty() {
        let _ = writeln!(
            text,
            "\nLikely duplicates (similarity of at least {DUPLICATE_THRESHOLD:.2}):"
        );
        for pair in &backlog.duplicates {
            let _ = writeln!(
                text,
                "  #{} and #{}: {:.2}",
                pair.first, pair.second, pair.similarity
            );
        }
    }
    text
}

/// The records as a table within 80 columns.
fn pull_request_table(layout: &Layout, records: &[PullRequest]) -> String {
    let mut text = String::new();
    if records.is_empty() {
        let _ = writeln!(
            text,
            "no pull-request records in {}; the loop writes one when it finishes an issue",
            layout.display(&layout.pulls_dir())
        );
        return text;
    }
    let title_width = LINE_WIDTH - NUMBER_WIDTH - DONE_WIDTH - 9 - BRANCH_WIDTH - 8;
    let _ = writeln!(
        text,
        "{:>NUMBER_WIDTH$}  {:>DONE_WIDTH$}  {:>9}  {:<BRANCH_WIDTH$}  title",
        "issue", "checks", "proposals", "branch"
    );
    for record in records {
        let passed = record.checks.iter().filter(|check| check.passed).count();
        let checks = format!("{passed}/{}", record.checks.len());
        let _ = writeln!(
            text,
            "{:>NUMBER_WIDTH$}  {:>DONE_WIDTH$}  {:>9}  {:<BRANCH_WIDTH$}  {}",
            record.issue_number,
            checks,
            record.proposals.len(),
            cut(&record.branch, BRANCH_WIDTH),
            cut(&record.title, title_width)
        );
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use ralph_issues::backlog::{Entry, LikelyDuplicate, Status};

    fn assert_fits(text: &str) {
        for line in text.lines() {
            let width = line.chars().count();
            assert!(width <= LINE_WIDTH, "{width} columns: {line}");
        }
    }

    #[test]
    fn the_backlog_table_fits_in_80_columns() {
        let entry = Entry {
            number: 123_456,
            title: "a very long title ".repeat(10),
            status: Status::AttentionNeeded,
            labels: BTreeSet::new(),
            checkboxes_done: 120,
            checkboxes_total: 999,
        };
        let backlog = Backlog {
            entries: vec![entry],
            duplicates: vec![LikelyDuplicate {
                first: 123_456,
                second: 123_457,
                similarity: 0.5,
            }],
        };
        let text = backlog_table(&Layout::new("/repo"), &backlog);
        assert_fits(&text);
        assert!(text.contains("#123456 and #123457: 0.50"), "{text}");
    }

    #[test]
    fn the_pull_request_table_fits_in_80_columns() {
        let record = PullRequest {
            issue_number: 99_999,
            title: "a long title ".repeat(10),
            branch: "ralph/99999-a-very-long-branch-name-indeed".to_owned(),
            summary: String::new(),
            proposals: Vec::new(),
            checks: Vec::new(),
            reviews: Vec::new(),
            changes: None,
            commits: Vec::new(),
            failed_attempts: Vec::new(),
        };
        let text = pull_request_table(&Layout::new("/repo"), &[record]);
        assert_fits(&text);
        assert!(text.contains("ralph/99999-a-very-long-b…"), "{text}");
    }

    #[test]
    fn the_title_is_the_first_level_one_heading_outside_code() {
        assert_eq!(
            first_heading("```\n# not this\n```\n## nor this\n# This one\n# Not later"),
            Some("This one".to_owned())
        );
        assert_eq!(first_heading("no heading\n#hashtag\n"), None);
    }
}
