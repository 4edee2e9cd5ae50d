//! Pull-request records: `.ralph/pulls/<N>.md` for issue `N`, written when
//! the loop finishes an issue.
//!
//! A record is markdown a person (or GitHub) reads — the title, `Closes #N`,
//! the branch, a summary, the proposals with their scores, the checks with
//! their results and, when specialists reviewed the winning proposal, their
//! findings — followed by the same data as JSON in an HTML
//! comment, `<!-- ralph:pull-request … -->`, which is what [`parse`] reads
//! back, exactly. Every `<` and `>` inside the JSON is written as `\u003c`
//! and `\u003e`, so the comment can neither end early nor be mistaken for
//! another; the last data comment in the file is the record.

use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ralph_marketplace::Layout;
use serde::{Deserialize, Serialize};

use crate::atomic;
use crate::issue::check_title;
use crate::local::numbered_files;

/// Opens the data comment of a record.
const DATA_START: &str = "<!-- ralph:pull-request";
/// Closes the data comment.
const DATA_END: &str = "-->";

/// What the loop records when it finishes an issue.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PullRequest {
    pub issue_number: u64,
    pub title: String,
    /// The branch holding the work, e.g. `ralph/4-backlog-command`.
    pub branch: String,
    pub summary: String,
    /// Every proposal of the final round, anonymised, best first.
    pub proposals: Vec<ProposalScore>,
    /// Every check run on the final implementation.
    pub checks: Vec<CheckResult>,
    /// What each specialist found reviewing the winning proposal before it
    /// was implemented; advisory only. Left out of the data when empty, so
    /// records written before reviews existed read back unchanged.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reviews: Vec<SpecialistReview>,
    /// What the branch changes against where it started: the real diff,
    /// not any bidder's estimate. Left out of the data when unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changes: Option<ChangeSummary>,
    /// The subjects of the branch's commits, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub commits: Vec<String>,
    /// The attempts of this loop that failed before the change succeeded,
    /// and why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failed_attempts: Vec<FailedAttempt>,
}

/// The branch's diff against its start, file by file (`git diff --numstat`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeSummary {
    pub files: Vec<ChangedFile>,
}

impl ChangeSummary {
    /// Lines added and removed across every file.
    pub fn totals(&self) -> (u64, u64) {
        self.files.iter().fold((0, 0), |(added, removed), file| {
            (added + file.added, removed + file.removed)
        })
    }
}

/// One file the branch changes; a binary file counts no lines.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangedFile {
    pub path: String,
    pub added: u64,
    pub removed: u64,
}

/// An attempt that failed: its round, the proposal's blind label and the
/// first lines of why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FailedAttempt {
    pub round: u32,
    pub label: String,
    pub reason: String,
}

/// One specialist's review of the winning proposal.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpecialistReview {
    /// The specialist's name, e.g. `change-risk`.
    pub specialist: String,
    /// What it found; empty when it found nothing (or failed).
    pub findings: Vec<ReviewFinding>,
    /// Why the review failed, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One finding of a review.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewFinding {
    pub severity: FindingSeverity,
    /// The file it concerns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// The 1-based line in `file`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    pub message: String,
}

/// How serious a finding is; the same names as the plugins' `severity`
/// (a test in the broker keeps them equal).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FindingSeverity {
    Info,
    Warning,
    Error,
}

impl FindingSeverity {
    pub const ALL: [FindingSeverity; 3] = [
        FindingSeverity::Info,
        FindingSeverity::Warning,
        FindingSeverity::Error,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FindingSeverity::Info => "info",
            FindingSeverity::Warning => "warning",
            FindingSeverity::Error => "error",
        }
    }
}

impl ReviewFinding {
    /// `file:line`, `file`, or nothing.
    pub fn place(&self) -> Option<String> {
        let file = self.file.as_deref()?;
        Some(match self.line {
            Some(line) => format!("{file}:{line}"),
            None => file.to_owned(),
        })
    }
}

/// One proposal's scores, under its anonymous label.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProposalScore {
    /// An anonymous label such as `proposal-a`, never a bidder id.
    pub label: String,
    pub total: f64,
    pub scores: DimensionScores,
}

/// The five scoring dimensions, each in [0, 1]; the same fields, with the
/// same JSON, as the broker's `scoring::Scores` (a test keeps them equal).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DimensionScores {
    pub spec_alignment: f64,
    pub technical_quality: f64,
    pub innovation: f64,
    pub risk: f64,
    pub efficiency: f64,
}

impl DimensionScores {
    /// The dimensions with their names, in the documented order.
    pub fn named(&self) -> [(&'static str, f64); 5] {
        [
            ("spec_alignment", self.spec_alignment),
            ("technical_quality", self.technical_quality),
            ("innovation", self.innovation),
            ("risk", self.risk),
            ("efficiency", self.efficiency),
        ]
    }
}

/// One check's result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckResult {
    pub name: String,
    pub category: CheckCategory,
    pub passed: bool,
    /// Whether it passed on the unchanged baseline; a check that failed
    /// there too did not count against the change unless it reported
    /// something new.
    #[serde(default = "passed_before_default")]
    pub passed_before: bool,
    #[serde(rename = "duration_ms", with = "milliseconds")]
    pub duration: Duration,
    pub summary: String,
}

fn passed_before_default() -> bool {
    true
}

impl CheckResult {
    /// The result as a person reads it.
    pub fn verdict(&self) -> &'static str {
        match (self.passed, self.passed_before) {
            (true, true) => "passed",
            (true, false) => "passed (failed before the change)",
            (false, false) => "failed before the change too",
            (false, true) => "failed",
        }
    }
}

/// What a check verifies; the same set, with the same JSON names, as the
/// broker's `checks::Category` (a test keeps them equal). This crate does
/// not depend on the broker, so that the broker may depend on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckCategory {
    Format,
    Lint,
    TypeCheck,
    DeadCode,
    Complexity,
    Test,
    Custom,
}

impl CheckCategory {
    pub const ALL: [CheckCategory; 7] = [
        CheckCategory::Format,
        CheckCategory::Lint,
        CheckCategory::TypeCheck,
        CheckCategory::DeadCode,
        CheckCategory::Complexity,
        CheckCategory::Test,
        CheckCategory::Custom,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CheckCategory::Format => "format",
            CheckCategory::Lint => "lint",
            CheckCategory::TypeCheck => "type_check",
            CheckCategory::DeadCode => "dead_code",
            CheckCategory::Complexity => "complexity",
            CheckCategory::Test => "test",
            CheckCategory::Custom => "custom",
        }
    }
}

mod milliseconds {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(u64::try_from(duration.as_millis()).unwrap_or(u64::MAX))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        u64::deserialize(deserializer).map(Duration::from_millis)
    }
}

/// A record that cannot be written or read, naming the file and the field.
#[derive(Debug, thiserror::Error)]
pub enum PullError {
    #[error("{location}: no pull-request record for issue #{number}")]
    NotFound { number: u64, location: String },
    #[error("{location}: no `{DATA_START} … {DATA_END}` data comment")]
    NoData { location: String },
    #[error("{location}: the data comment is not a valid record: {source}")]
    Json {
        location: String,
        source: serde_json::Error,
    },
    #[error("{location}: field `{field}`: {problem}")]
    Invalid {
        location: String,
        field: String,
        problem: String,
    },
    #[error("{location}: not UTF-8 text")]
    NotText { location: String },
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
}

impl PullError {
    /// Whether the record (or the request for it) is at fault, rather than
    /// the file system.
    pub fn is_bad_input(&self) -> bool {
        !matches!(self, PullError::Io { .. })
    }
}

impl PullRequest {
    /// The first field that breaks a rule: a one-line title, a branch
    /// without spaces, labels and check names present, scores in [0, 1], a
    /// finite total.
    pub fn validate(&self) -> Result<(), (String, String)> {
        let invalid = |field: String, problem: String| Err((field, problem));
        if let Err(problem) = check_title(&self.title) {
            return invalid("title".to_owned(), problem.to_string());
        }
        if self.branch.is_empty() || self.branch.contains(char::is_whitespace) {
            return invalid(
                "branch".to_owned(),
                "a branch name without spaces is needed".to_owned(),
            );
        }
        for (index, proposal) in self.proposals.iter().enumerate() {
            if proposal.label.trim().is_empty() {
                return invalid(format!("proposals[{index}].label"), "empty".to_owned());
            }
            if !proposal.total.is_finite() {
                return invalid(
                    format!("proposals[{index}].total"),
                    "not a number".to_owned(),
                );
            }
            for (name, score) in proposal.scores.named() {
                if !(0.0..=1.0).contains(&score) {
                    return invalid(
                        format!("proposals[{index}].scores.{name}"),
                        format!("{score} is outside [0, 1]"),
                    );
                }
            }
        }
        for (index, check) in self.checks.iter().enumerate() {
            if check.name.trim().is_empty() {
                return invalid(format!("checks[{index}].name"), "empty".to_owned());
            }
        }
        for (index, review) in self.reviews.iter().enumerate() {
            if review.specialist.trim().is_empty() {
                return invalid(format!("reviews[{index}].specialist"), "empty".to_owned());
            }
        }
        Ok(())
    }
}

/// The human part of a record: what a pull request's description shows.
pub fn markdown(record: &PullRequest) -> String {
    let mut text = String::new();
    let _ = writeln!(text, "# {}\n", record.title);
    let _ = writeln!(text, "Closes #{}\n", record.issue_number);
    let _ = writeln!(text, "Branch: `{}`\n", record.branch);
    let _ = writeln!(text, "## Summary\n\n{}\n", record.summary.trim_end());
    changes_markdown(&mut text, record);
    let _ = writeln!(text, "## Proposals\n");
    if record.proposals.is_empty() {
        let _ = writeln!(text, "None recorded.\n");
    } else {
        let _ = writeln!(
            text,
            "| rank | proposal | total | spec alignment | technical quality | innovation | risk | efficiency |\n\
             | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
        );
        for (index, proposal) in record.proposals.iter().enumerate() {
            let scores = proposal
                .scores
                .named()
                .map(|(_, score)| format!("{score:.3}"));
            let _ = writeln!(
                text,
                "| {} | {} | {:.3} | {} |",
                index + 1,
                cell(&proposal.label),
                proposal.total,
                scores.join(" | ")
            );
        }
        text.push('\n');
    }
    let _ = writeln!(text, "## Checks\n");
    if record.checks.is_empty() {
        let _ = writeln!(text, "None recorded.");
    } else {
        let _ = writeln!(
            text,
            "| check | category | result | duration | summary |\n| --- | --- | --- | ---: | --- |"
        );
        for check in &record.checks {
            let _ = writeln!(
                text,
                "| {} | {} | {} | {:.2} s | {} |",
                cell(&check.name),
                check.category.as_str(),
                check.verdict(),
                check.duration.as_secs_f64(),
                cell(&check.summary)
            );
        }
    }
    if !record.reviews.is_empty() {
        reviews_markdown(&mut text, &record.reviews);
    }
    text
}

/// The real change (files and lines), the commits, and the attempts that
/// failed on the way.
fn changes_markdown(text: &mut String, record: &PullRequest) {
    if let Some(changes) = &record.changes {
        let (added, removed) = changes.totals();
        let files = changes.files.len();
        let _ = writeln!(
            text,
            "## Changes\n\n{files} file{} changed, +{added} −{removed}\n",
            if files == 1 { "" } else { "s" }
        );
        for file in &changes.files {
            let _ = writeln!(
                text,
                "- `{}` (+{} −{})",
                cell(&file.path).replace('`', "'"),
                file.added,
                file.removed
            );
        }
        text.push('\n');
    }
    if !record.commits.is_empty() {
        let _ = writeln!(text, "## Commits\n");
        for subject in &record.commits {
            let _ = writeln!(text, "- {}", cell(subject));
        }
        text.push('\n');
    }
    if !record.failed_attempts.is_empty() {
        let _ = writeln!(
            text,
            "## Failed attempts\n\nWhat failed on the way, and why (the change above replaced it).\n\n\
             | round | proposal | why |\n| ---: | --- | --- |"
        );
        for attempt in &record.failed_attempts {
            let _ = writeln!(
                text,
                "| {} | {} | {} |",
                attempt.round,
                cell(&attempt.label),
                cell(&attempt.reason)
            );
        }
        text.push('\n');
    }
}

/// The "Specialist reviews" section: one row per finding, and one for a
/// specialist that found nothing or failed.
fn reviews_markdown(text: &mut String, reviews: &[SpecialistReview]) {
    let _ = writeln!(
        text,
        "\n## Specialist reviews\n\n\
         Advisory: the specialists reviewed the winning proposal before it was \
         implemented; their findings do not block the change.\n\n\
         | specialist | severity | where | finding |\n| --- | --- | --- | --- |"
    );
    for review in reviews {
        let specialist = cell(&review.specialist);
        if let Some(error) = &review.error {
            let finding = format!("review failed: {}", cell(error));
            row(text, [specialist.as_str(), "", "", &finding]);
        } else if review.findings.is_empty() {
            row(text, [specialist.as_str(), "", "", "no findings"]);
        }
        for finding in &review.findings {
            let place = finding
                .place()
                .map(|place| format!("`{}`", cell(&place).replace('`', "'")))
                .unwrap_or_default();
            row(
                text,
                [
                    specialist.as_str(),
                    finding.severity.as_str(),
                    &place,
                    &cell(&finding.message),
                ],
            );
        }
    }
}

/// A table row of cells already made with [`cell`]; an empty cell is `| |`.
fn row<const N: usize>(text: &mut String, cells: [&str; N]) {
    text.push('|');
    for value in cells {
        if value.is_empty() {
            text.push_str(" |");
        } else {
            let _ = write!(text, " {value} |");
        }
    }
    text.push('\n');
}

/// The whole record file: [`markdown`], then the data comment.
pub fn render(record: &PullRequest) -> Result<String, serde_json::Error> {
    let json = serde_json::to_string_pretty(record)?
        .replace('<', "\\u003c")
        .replace('>', "\\u003e");
    Ok(format!(
        "{}\n{DATA_START}\n{json}\n{DATA_END}\n",
        markdown(record)
    ))
}

/// Reads a record back from its file's text.
pub fn parse(location: &str, text: &str) -> Result<PullRequest, PullError> {
    let no_data = || PullError::NoData {
        location: location.to_owned(),
    };
    let start = text.rfind(DATA_START).ok_or_else(no_data)? + DATA_START.len();
    let length = text[start..].find(DATA_END).ok_or_else(no_data)?;
    let record: PullRequest =
        serde_json::from_str(&text[start..start + length]).map_err(|source| PullError::Json {
            location: location.to_owned(),
            source,
        })?;
    record
        .validate()
        .map_err(|(field, problem)| PullError::Invalid {
            location: location.to_owned(),
            field,
            problem,
        })?;
    Ok(record)
}

/// A table cell: one line, `|` escaped.
fn cell(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('|', "\\|")
}

/// The pull-request records of one repository.
#[derive(Clone, Debug)]
pub struct PullRequests {
    directory: PathBuf,
    tmp: PathBuf,
}

impl PullRequests {
    pub fn new(layout: &Layout) -> Self {
        PullRequests {
            directory: layout.pulls_dir(),
            tmp: layout.tmp_dir(),
        }
    }

    /// The record file of issue `number`.
    pub fn path(&self, number: u64) -> PathBuf {
        self.directory.join(format!("{number}.md"))
    }

    /// Writes (or replaces) the record of `record.issue_number`, atomically.
    /// Every string in it is redacted first: the record is shared with the
    /// team, and its summary, check summaries and reviews come from plugins
    /// and checks.
    pub fn write(&self, record: &PullRequest) -> Result<PathBuf, PullError> {
        let path = self.path(record.issue_number);
        let location = path.display().to_string();
        let invalid = |(field, problem)| PullError::Invalid {
            location: location.clone(),
            field,
            problem,
        };
        record.validate().map_err(invalid)?;
        let record = &ralph_secrets::host()
            .redact_fields(record)
            .map_err(|source| PullError::Json {
                location: location.clone(),
                source,
            })?;
        record.validate().map_err(invalid)?;
        let text = render(record).map_err(|source| PullError::Json { location, source })?;
        atomic::replace(&self.tmp, &path, &text).map_err(|error| PullError::Io {
            path: error.path,
            source: error.source,
        })?;
        Ok(path)
    }

    /// The record of issue `number`; its data must name that issue.
    pub fn read(&self, number: u64) -> Result<PullRequest, PullError> {
        let path = self.path(number);
        let location = path.display().to_string();
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                return Err(PullError::NotFound { number, location });
            }
            Err(source) => return Err(PullError::Io { path, source }),
        };
        let text = String::from_utf8(bytes).map_err(|_| PullError::NotText {
            location: location.clone(),
        })?;
        let record = parse(&location, &text)?;
        if record.issue_number != number {
            return Err(PullError::Invalid {
                location,
                field: "issue_number".to_owned(),
                problem: format!("{} does not match the file name", record.issue_number),
            });
        }
        Ok(record)
    }

    /// Every record, by issue number.
    pub fn list(&self) -> Result<Vec<PullRequest>, PullError> {
        numbered_files(&self.directory)
            .map_err(|source| io_error(&self.directory, source))?
            .into_iter()
            .map(|number| self.read(number))
            .collect()
    }
}

fn io_error(path: &Path, source: io::Error) -> PullError {
    PullError::Io {
        path: path.to_owned(),
        source,
    }
}

#[cfg(test)]
#[path = "pulls_tests.rs"]
mod tests;
