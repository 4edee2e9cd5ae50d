//! What the loop reports as it works: one [`Step`] at a time, shown to people
//! as lines of text or to tools as newline-delimited JSON.
//!
//! Steps name proposals by their anonymous label (`A`, `B`, …), never by
//! bidder: what judges and logs read stays blind.

use std::io::Write;

use ralph_issues::pulls::{FindingSeverity, ReviewFinding};
use serde::Serialize;

use crate::confinement::SandboxKind;
use crate::judge::Subject;
use crate::recording::RoundKind;

/// One step of the loop.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step {
    /// The issue's lock was left by a loop on this host that is gone; this
    /// loop took it over.
    StaleLockTakenOver {
        issue: u64,
        holder: String,
    },
    /// The issue's lease on the remote had expired (its loop stopped
    /// renewing it); this loop took it over.
    ExpiredLeaseTakenOver {
        issue: u64,
        holder: String,
    },
    Started {
        issue: u64,
        title: String,
        branch: String,
        worktree: String,
        pool: u64,
        requirements_left: usize,
    },
    /// How checks and agents run this loop (said once, at the start).
    Sandbox {
        kind: SandboxKind,
        message: String,
    },
    PluginFailedToLoad {
        plugin: String,
        error: String,
    },
    Baseline {
        check: String,
        passed: bool,
        duration_ms: u64,
    },
    RoundStarted {
        round: u32,
        kind: RoundKind,
        bidders: usize,
        budget_left: u64,
        failure_report: Option<String>,
    },
    ProposalReceived {
        label: String,
        total: f64,
        summary: String,
    },
    ProposalFailed {
        label: String,
        error: String,
    },
    ProposalRefused {
        label: String,
        reason: String,
    },
    /// The model judge scored proposals `labels` (or the change made for
    /// one); `fallback` says why its answer could not be used, and the
    /// heuristic's scores stand.
    Judged {
        subject: Subject,
        labels: Vec<String>,
        fallback: Option<String>,
    },
    Ranked {
        ranking: Vec<RankedProposal>,
    },
    /// A specialist reviewed the winning proposal `label` before it was
    /// implemented. Advisory: findings neither score nor block it.
    Reviewed {
        label: String,
        specialist: String,
        findings: Vec<ReviewFinding>,
    },
    /// A specialist's review of proposal `label` failed; the loop goes on.
    ReviewFailed {
        label: String,
        specialist: String,
        error: String,
    },
    /// The person running the loop is asked to review round `round`'s
    /// ranking before anything is implemented (`--review`).
    ReviewAsked {
        round: u32,
    },
    /// The person's decision on round `round`'s ranking: `approve`,
    /// `choose` (the `chosen` label), `feedback` or `quit`.
    ReviewDecided {
        round: u32,
        decision: String,
        chosen: Option<String>,
    },
    Implementing {
        label: String,
        /// What is implemented, for people: "proposal B", "iteration 2".
        subject: String,
    },
    /// The winner's change could not be made; `blamed` when that is its
    /// own fault (its patch does not apply), not the implementer's.
    ImplementationFailed {
        label: String,
        error: String,
        blamed: bool,
    },
    Implemented {
        label: String,
        subject: String,
        files: usize,
        lines: usize,
    },
    /// A check started on the change.
    CheckStarted {
        name: String,
    },
    /// A check on the change finished.
    Check {
        name: String,
        passed: bool,
        passed_before: bool,
        counts_against: bool,
        duration_ms: u64,
        /// The end of its output.
        detail: String,
        /// What it reports that it did not on the baseline (when it failed
        /// there too).
        new_findings: Vec<String>,
        /// When it counts against the change: the lines that say why.
        reason: Vec<String>,
        /// Where its whole output is kept, when it failed.
        full_output: Option<String>,
    },
    Outcome {
        label: String,
        succeeded: bool,
        proposal_score: f64,
        implementation_score: f64,
    },
    Ticked {
        requirements: Vec<String>,
    },
    /// The loop's session folder (SPEC §8): new, or an unfinished one
    /// resumed.
    SessionOpened {
        id: String,
        path: String,
        resumed: bool,
        iteration: u32,
    },
    /// The simple loop began an iteration on these tasks.
    IterationStarted {
        iteration: u32,
        max_iterations: u32,
        tasks: Vec<String>,
    },
    /// Feedback was read and the plan updated; these failed tasks are open
    /// again.
    Replanned {
        iteration: u32,
        feedbacks: Vec<String>,
        reset: Vec<String>,
    },
    /// What the implementer reported at the end of an iteration (its
    /// `notes` are untrusted text).
    Reported {
        done: Vec<String>,
        complete: bool,
        notes: String,
    },
    /// A live signal was claimed and acted on (its message is the
    /// person's text).
    Signal {
        kind: crate::signals::SignalKind,
        message: String,
    },
    /// The loop waits for a usage limit to reset; no iteration is spent.
    Waiting {
        reason: String,
        seconds: u64,
    },
    /// The finished issue's pull request: its record, and on GitHub the
    /// pull request itself.
    PullRequest {
        record: String,
        number: Option<u64>,
        url: Option<String>,
        /// Whether this run opened it (else it was open already).
        opened: bool,
    },
    Finished {
        status: FinishStatus,
        reason: String,
        budget_used: u64,
        /// Ralph's state files this loop changed that git does not yet
        /// have (events, the issue, the pull-request record), relative to
        /// the repository; `.ralph/events/` stands for its new events.
        to_commit: Vec<String>,
    },
}

/// A proposal's place in the ranking.
#[derive(Clone, Debug, Serialize)]
pub struct RankedProposal {
    pub label: String,
    pub total: f64,
}

/// How a loop ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishStatus {
    Complete,
    AttentionNeeded,
    Interrupted,
    /// The model provider stayed over its usage limit; nothing was recorded
    /// for the round and a re-run resumes.
    ProviderUnavailable,
    /// `--max-cost` or `--max-runtime` was reached; a re-run resumes.
    LimitReached,
}

/// What runs right now, told a few times a second while it runs (not a
/// step: nothing is recorded or printed as a line; a live view redraws it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Activity {
    /// What runs: `proposing`, `implementing proposal A`, `checking tests`.
    pub what: String,
    pub elapsed: std::time::Duration,
    /// The last lines a running check printed (untrusted text).
    pub last_lines: Vec<String>,
}

/// Where steps go.
pub trait Progress: Send {
    fn step(&mut self, step: Step);

    /// What runs now; only a live view shows it.
    fn activity(&mut self, _activity: &Activity) {}
}

/// One JSON object per line.
pub struct JsonLines<W: Write + Send>(pub W);

impl<W: Write + Send> Progress for JsonLines<W> {
    fn step(&mut self, step: Step) {
        if let Ok(line) = serde_json::to_string(&step) {
            let _ = writeln!(self.0, "{line}");
            let _ = self.0.flush();
        }
    }
}

/// Readable lines for a terminal or a log.
pub struct Lines<W: Write + Send>(pub W);

impl<W: Write + Send> Progress for Lines<W> {
    fn step(&mut self, step: Step) {
        let _ = writeln!(self.0, "{}", describe(&step));
        let _ = self.0.flush();
    }
}

/// Collects steps (for tests and for callers that render them later).
#[derive(Default)]
pub struct Recorded(pub Vec<Step>);

impl Progress for Recorded {
    fn step(&mut self, step: Step) {
        self.0.push(step);
    }
}

fn mark(passed: bool) -> &'static str {
    if passed { "ok  " } else { "FAIL" }
}

/// One line for a step.
pub fn describe(step: &Step) -> String {
    match step {
        Step::StaleLockTakenOver { issue, holder } => format!(
            "Took over the lock of issue #{issue} from a loop that no longer runs:\n  {holder}"
        ),
        Step::ExpiredLeaseTakenOver { issue, holder } => format!(
            "Took over the expired lease of issue #{issue} from a loop that stopped renewing it:\n  {holder}"
        ),
        Step::Started {
            issue,
            title,
            branch,
            pool,
            requirements_left,
            ..
        } => format!(
            "Issue #{issue}: {title}\n  branch {branch}, {requirements_left} requirements left, a pool of {pool} iterations"
        ),
        Step::Sandbox { kind, message } => match kind {
            SandboxKind::Unsandboxed => wrap(&format!("warning: {message}"), 78, "  "),
            SandboxKind::Bubblewrap | SandboxKind::Off => wrap(message, 78, "  "),
        },
        Step::PluginFailedToLoad { plugin, error } => {
            format!("  plugin {plugin} did not load: {error}")
        }
        Step::Baseline {
            check,
            passed,
            duration_ms,
        } => format!("  baseline {} {check} ({duration_ms} ms)", mark(*passed)),
        Step::RoundStarted {
            round,
            kind,
            bidders,
            budget_left,
            failure_report,
        } => {
            let kind = match kind {
                RoundKind::Initial => "",
                RoundKind::Replan => ", a replan",
            };
            let mut line =
                format!("Round {round}{kind}: {bidders} bidders, {budget_left} iterations left");
            if let Some(report) = failure_report {
                let lines: Vec<&str> = report.lines().collect();
                line.push_str(&format!("\n  after: {}", cut(first_line(report), 70)));
                for reason in lines.iter().skip(1).take(REASON_LINES) {
                    line.push_str(&format!("\n    {}", cut(reason.trim_end(), 74)));
                }
                if lines.len() > REASON_LINES + 1 {
                    line.push_str(&format!(
                        "\n    … {} more lines (the bidders read them all)",
                        lines.len() - REASON_LINES - 1
                    ));
                }
            }
            line
        }
        Step::ProposalReceived {
            label,
            total,
            summary,
        } => format!(
            "  proposal {label}: {total:.3}  {}",
            cut(first_line(summary), 56)
        ),
        Step::ProposalFailed { label, error } => format!("  proposal {label}: error: {error}"),
        Step::ProposalRefused { label, reason } => format!("  proposal {label}: refused: {reason}"),
        Step::Judged {
            subject,
            labels,
            fallback,
        } => {
            let what = match subject {
                Subject::Proposals => format!("proposals {}", labels.join(", ")),
                Subject::Implementation => format!("the change for proposal {}", labels.join(", ")),
            };
            match fallback {
                None => format!("  judge: the model scored {what}"),
                Some(reason) => format!("  judge: {reason}; the heuristic scores of {what} stand"),
            }
        }
        Step::Ranked { ranking } => {
            let order: Vec<String> = ranking
                .iter()
                .map(|proposal| format!("{} {:.3}", proposal.label, proposal.total))
                .collect();
            format!("  ranking: {}", order.join(" > "))
        }
        Step::Reviewed {
            label,
            specialist,
            findings,
        } => reviewed(label, specialist, findings),
        Step::ReviewAsked { round } => {
            format!("  asking for your review of round {round}'s ranking")
        }
        Step::ReviewDecided {
            decision, chosen, ..
        } => match (decision.as_str(), chosen) {
            ("choose", Some(label)) => {
                format!(
                    "  you chose proposal {} over the ranking's #1",
                    cut(label, 8)
                )
            }
            ("feedback", _) => {
                "  you sent feedback: a new round starts, nobody is charged".to_owned()
            }
            ("quit", _) => "  you stopped the loop at the review".to_owned(),
            _ => "  you approved the top proposal".to_owned(),
        },
        Step::ReviewFailed {
            label,
            specialist,
            error,
        } => format!(
            "  review of {label} by {} failed: {}",
            cut(specialist, 30),
            cut(first_line(error), 40)
        ),
        Step::Implementing { subject, .. } => format!("  implementing {subject}"),
        Step::ImplementationFailed {
            label,
            error,
            blamed: true,
        } => {
            format!(
                "  proposal {label} could not be implemented: {}",
                first_line(error)
            )
        }
        Step::ImplementationFailed {
            label,
            error,
            blamed: false,
        } => {
            format!(
                "  the implementer failed on proposal {label} (no bidder is charged): {}",
                first_line(error)
            )
        }
        Step::Implemented {
            subject,
            files,
            lines,
            ..
        } => format!("  {subject} implemented: {files} files, {lines} lines"),
        Step::CheckStarted { name } => format!("  checking {name} …"),
        Step::Check {
            name,
            passed,
            passed_before,
            counts_against,
            duration_ms,
            new_findings,
            reason,
            full_output,
            ..
        } => {
            let note = match (*passed, *passed_before, *counts_against) {
                (false, false, true) => " (failing before the change, and worse after it)",
                (false, false, false) => " (already failing before the change)",
                (_, _, true) => " (introduced by the change)",
                _ => "",
            };
            let mut text = format!("  check {} {name} ({duration_ms} ms){note}", mark(*passed));
            if *counts_against {
                let mut lines: Vec<String> = new_findings
                    .iter()
                    .map(|finding| format!("new: {finding}"))
                    .collect();
                lines.extend(reason.iter().cloned());
                for line in lines.iter().take(REASON_LINES) {
                    text.push_str(&format!("\n    {}", cut(line.trim_end(), 74)));
                }
                if lines.len() > REASON_LINES {
                    text.push_str(&format!(
                        "\n    … {} more lines",
                        lines.len() - REASON_LINES
                    ));
                }
            }
            if let (false, Some(file)) = (*passed, full_output) {
                text.push_str(&format!("\n    whole output: {file}"));
            }
            text
        }
        Step::Outcome {
            label,
            succeeded,
            proposal_score,
            implementation_score,
        } => format!(
            "  {} proposal {label}: proposed {proposal_score:.3}, implemented {implementation_score:.3}",
            if *succeeded { "success:" } else { "failure:" }
        ),
        Step::Ticked { requirements } => format!("  ticked: {}", requirements.join("; ")),
        Step::SessionOpened {
            id,
            path,
            resumed,
            iteration,
        } => {
            if *resumed {
                format!("Resuming session {id} after iteration {iteration} ({path})")
            } else {
                format!("Session {id} ({path})")
            }
        }
        Step::IterationStarted {
            iteration,
            max_iterations,
            tasks,
        } => format!(
            "Iteration {iteration} of at most {max_iterations}: {}",
            if tasks.is_empty() {
                "every task is done; asking for the completion signal".to_owned()
            } else {
                tasks.join(", ")
            }
        ),
        Step::Replanned {
            iteration,
            feedbacks,
            reset,
        } => format!(
            "  replanning for iteration {iteration} from {} feedback folder(s); reopened: {}",
            feedbacks.len(),
            if reset.is_empty() {
                "none".to_owned()
            } else {
                reset.join(", ")
            }
        ),
        Step::Reported {
            done,
            complete,
            notes,
        } => format!(
            "  the implementer reports done: {}{}{}",
            if done.is_empty() {
                "nothing".to_owned()
            } else {
                done.join(", ")
            },
            if *complete { "; complete" } else { "" },
            if notes.trim().is_empty() {
                String::new()
            } else {
                format!(" — {}", cut(notes.trim(), 200))
            }
        ),
        Step::Signal { kind, message } => {
            let what = match kind {
                crate::signals::SignalKind::Steer => "the next prompt carries it",
                crate::signals::SignalKind::Info => "added to the session's context",
                crate::signals::SignalKind::Pause => "pausing after the step in hand",
                crate::signals::SignalKind::Resume => "going on",
                crate::signals::SignalKind::Stop => "stopping now",
            };
            if message.trim().is_empty() {
                format!("Signal {}: {what}", kind.name())
            } else {
                format!(
                    "Signal {}: {what}: {}",
                    kind.name(),
                    cut(message.trim(), 200)
                )
            }
        }
        Step::Waiting { reason, seconds } => {
            format!("Waiting {seconds} s for a usage limit to reset (no iteration spent): {reason}")
        }
        Step::PullRequest {
            record,
            number,
            url,
            opened,
        } => match (number, url) {
            (Some(number), Some(url)) => format!(
                "Pull request #{number} {}: {url}\n  record: {record}",
                if *opened { "opened" } else { "updated" }
            ),
            _ => format!("Pull-request record: {record}"),
        },
        Step::Finished {
            status,
            reason,
            budget_used,
            to_commit,
        } => {
            let status = match status {
                FinishStatus::Complete => "Complete",
                FinishStatus::AttentionNeeded => "Attention needed",
                FinishStatus::Interrupted => "Interrupted",
                FinishStatus::ProviderUnavailable => "Provider unavailable",
                FinishStatus::LimitReached => "Limit reached",
            };
            let mut text = format!("{status}: {reason} ({budget_used} iterations used)");
            if !to_commit.is_empty() {
                text.push_str(
                    "\nCommit Ralph's state to keep it (the marketplace learns from its events):",
                );
                text.push_str(&format!("\n  git add {}", to_commit.join(" ")));
            }
            text
        }
    }
}

/// The lines of a failure's reason shown as text; `--json` has them all.
const REASON_LINES: usize = 12;

/// The findings a review shows as lines; `--json` has them all.
const FINDINGS_SHOWN: usize = 8;

/// A review's headline, then a line per finding, the most serious first.
fn reviewed(label: &str, specialist: &str, findings: &[ReviewFinding]) -> String {
    let count = match findings.len() {
        0 => "no findings".to_owned(),
        1 => "1 finding".to_owned(),
        many => format!("{many} findings"),
    };
    let mut text = format!("  review of {label} by {}: {count}", cut(specialist, 30));
    let mut ordered: Vec<&ReviewFinding> = findings.iter().collect();
    ordered.sort_by_key(|finding| std::cmp::Reverse(rank(finding.severity)));
    for finding in ordered.iter().take(FINDINGS_SHOWN) {
        let place = finding
            .place()
            .map(|place| format!("{place}: "))
            .unwrap_or_default();
        let line = format!(
            "{:<7} {place}{}",
            finding.severity.as_str(),
            first_line(&finding.message)
        );
        text.push_str(&format!("\n    {}", cut(&line, 76)));
    }
    if findings.len() > FINDINGS_SHOWN {
        text.push_str(&format!(
            "\n    … and {} more",
            findings.len() - FINDINGS_SHOWN
        ));
    }
    text
}

fn rank(severity: FindingSeverity) -> u8 {
    match severity {
        FindingSeverity::Info => 0,
        FindingSeverity::Warning => 1,
        FindingSeverity::Error => 2,
    }
}

/// `text` in lines of at most `width` characters (a longer word stays
/// whole), each starting with `indent`.
fn wrap(text: &str, width: usize, indent: &str) -> String {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let length = indent.chars().count() + line.chars().count() + word.chars().count();
        if !line.is_empty() && length + 1 > width {
            lines.push(format!("{indent}{line}"));
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(format!("{indent}{line}"));
    }
    lines.join("\n")
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("")
}

/// `text` cut to `width` characters, with an ellipsis when cut.
pub fn cut(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_owned()
    } else {
        let kept: String = text.chars().take(width.saturating_sub(1)).collect();
        format!("{kept}…")
    }
}

/// Awaits `work`, telling `progress` four times a second what runs, for how
/// long, and (for a check) the last lines it printed.
pub async fn watched<T>(
    work: impl std::future::Future<Output = T>,
    progress: &mut dyn Progress,
    what: &str,
    lines: Option<&crate::checks::LastLines>,
) -> T {
    let started = std::time::Instant::now();
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(250));
    tokio::pin!(work);
    loop {
        tokio::select! {
            done = &mut work => return done,
            _ = tick.tick() => progress.activity(&Activity {
                what: what.to_owned(),
                elapsed: started.elapsed(),
                last_lines: lines.map(crate::checks::LastLines::lines).unwrap_or_default(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_step() -> Vec<Step> {
        let label = || "A".to_owned();
        vec![
            Step::StaleLockTakenOver {
                issue: 4,
                holder: "pid 12 on host since 2026-01-29T10:15:00Z".into(),
            },
            Step::ExpiredLeaseTakenOver {
                issue: 4,
                holder: "pid 12 on host since 2026-01-29T10:15:00Z until 2026-01-29T12:15:00Z".into(),
            },
            Step::Started {
                issue: 4,
                title: "Add two".into(),
                branch: "ralph/4-add-two".into(),
                worktree: ".ralph/worktrees/4".into(),
                pool: 30,
                requirements_left: 2,
            },
            Step::Sandbox {
                kind: SandboxKind::Unsandboxed,
                message: "checks run unsandboxed: bubblewrap is not installed (no `bwrap` on PATH); only the environment is scrubbed".into(),
            },
            Step::Sandbox {
                kind: SandboxKind::Off,
                message: "checks run unsandboxed: the sandbox is off".into(),
            },
            Step::PluginFailedToLoad {
                plugin: "x.wasm".into(),
                error: "not a component".into(),
            },
            Step::Baseline {
                check: "tests".into(),
                passed: true,
                duration_ms: 12,
            },
            Step::RoundStarted {
                round: 2,
                kind: RoundKind::Replan,
                bidders: 3,
                budget_left: 29,
                failure_report: Some(format!(
                    "proposal A failed its checks:\ntests: failed (exit code 101)\n  {}\n{}",
                    "assertion failed: two() == 2 ".repeat(5),
                    "  line\n".repeat(14)
                )),
            },
            Step::ProposalReceived {
                label: label(),
                total: 0.8125,
                summary: "x".repeat(200),
            },
            Step::ProposalFailed {
                label: "B".into(),
                error: "trapped".into(),
            },
            Step::ProposalRefused {
                label: "C".into(),
                reason: "resubmitted".into(),
            },
            Step::Ranked {
                ranking: vec![RankedProposal {
                    label: label(),
                    total: 0.8125,
                }],
            },
            Step::Reviewed {
                label: label(),
                specialist: "change-risk".into(),
                findings: (0..10)
                    .map(|index| ReviewFinding {
                        severity: if index == 9 {
                            FindingSeverity::Error
                        } else {
                            FindingSeverity::Warning
                        },
                        file: (index % 2 == 0).then(|| "src/a/very/long/path/to/lib.rs".into()),
                        line: (index % 4 == 0).then_some(12),
                        message: format!("finding {index}: {}", "word ".repeat(30)),
                    })
                    .collect(),
            },
            Step::Reviewed {
                label: label(),
                specialist: "rust-conventions".into(),
                findings: Vec::new(),
            },
            Step::ReviewFailed {
                label: label(),
                specialist: "trading".into(),
                error: "trading: the deadline of 100 ms passed\nwhile reading".into(),
            },
            Step::Implementing {
                label: label(),
                subject: format!("proposal {}", label()),
            },
            Step::ImplementationFailed {
                label: label(),
                error: "patch does not apply\nat line 3".into(),
                blamed: true,
            },
            Step::Implemented {
                label: label(),
                subject: format!("proposal {}", label()),
                files: 1,
                lines: 4,
            },
            Step::CheckStarted {
                name: "lint".into(),
            },
            Step::Check {
                name: "lint".into(),
                passed: false,
                passed_before: false,
                counts_against: false,
                duration_ms: 3,
                detail: String::new(),
                new_findings: Vec::new(),
                reason: Vec::new(),
                full_output: Some(".ralph/feedback/4/round-2/lint.log".into()),
            },
            Step::Check {
                name: "clippy".into(),
                passed: false,
                passed_before: false,
                counts_against: true,
                duration_ms: 3,
                detail: String::new(),
                new_findings: vec!["error: approximate value of `PI` found (src/lib.rs)".into()],
                reason: Vec::new(),
                full_output: Some(".ralph/feedback/4/round-2/clippy.log".into()),
            },
            Step::Check {
                name: "tests".into(),
                passed: false,
                passed_before: true,
                counts_against: true,
                duration_ms: 3,
                detail: String::new(),
                new_findings: Vec::new(),
                reason: vec![
                    "thread 'tests::two' panicked at src/lib.rs:9:5:".into(),
                    format!("assertion failed: {}", "x".repeat(120)),
                ],
                full_output: Some(".ralph/feedback/4/round-2/tests.log".into()),
            },
            Step::Outcome {
                label: label(),
                succeeded: true,
                proposal_score: 0.8,
                implementation_score: 0.75,
            },
            Step::Ticked {
                requirements: vec!["Add two".into()],
            },
            Step::PullRequest {
                record: ".ralph/pulls/4.md".into(),
                number: Some(12),
                url: Some("https://github.com/octo/hello/pull/12".into()),
                opened: true,
            },
            Step::Finished {
                status: FinishStatus::AttentionNeeded,
                reason: "the budget is spent".into(),
                budget_used: 30,
                to_commit: vec![".ralph/events/".into(), ".ralph/issues/4.md".into()],
            },
        ]
    }

    #[test]
    fn every_step_reads_as_text_within_80_columns_and_names_no_bidder() {
        let mut lines = Lines(Vec::new());
        for step in every_step() {
            lines.step(step);
        }
        let text = String::from_utf8(lines.0).expect("utf-8");
        for line in text.lines() {
            assert!(line.chars().count() <= 80, "too wide: {line}");
        }
        assert!(!text.contains("bidder_"), "{text}");
        for needle in [
            "Round 2, a replan",
            "  warning: checks run unsandboxed: bubblewrap is not installed",
            "  checks run unsandboxed: the sandbox is off\n",
            "already failing before the change",
            "introduced by the change",
            "  after: proposal A failed its checks:\n    tests: failed (exit code 101)\n      assertion failed: two() == 2",
            "    … 4 more lines (the bidders read them all)",
            "  checking lint …",
            "    whole output: .ralph/feedback/4/round-2/lint.log",
            "failing before the change, and worse after it)\n    new: error: approximate value of `PI` found (src/lib.rs)",
            "    thread 'tests::two' panicked at src/lib.rs:9:5:\n    assertion failed: xxx",
            "Attention needed",
            "\n  git add .ralph/events/ .ralph/issues/4.md",
            "review of A by change-risk: 10 findings\n    error   finding 9:",
            "    warning src/a/very/long/path/to/lib.rs:12: finding 0: word",
            "    … and 2 more",
            "review of A by rust-conventions: no findings",
            "review of A by trading failed: trading: the deadline of 100 ms passed",
        ] {
            assert!(text.contains(needle), "{needle} missing from\n{text}");
        }
    }

    #[test]
    fn every_step_is_one_json_object_per_line_with_its_name() {
        let mut json = JsonLines(Vec::new());
        let mut recorded = Recorded::default();
        for step in every_step() {
            recorded.step(step.clone());
            json.step(step);
        }
        let text = String::from_utf8(json.0).expect("utf-8");
        assert_eq!(text.lines().count(), recorded.0.len());
        for line in text.lines() {
            let value: serde_json::Value = serde_json::from_str(line).expect("json");
            assert!(value["step"].is_string(), "{line}");
        }
    }

    #[test]
    fn a_review_is_json_with_the_specialist_and_every_finding() {
        let mut json = JsonLines(Vec::new());
        json.step(Step::Reviewed {
            label: "A".into(),
            specialist: "change-risk".into(),
            findings: vec![
                ReviewFinding {
                    severity: FindingSeverity::Warning,
                    file: Some("Cargo.toml".into()),
                    line: Some(3),
                    message: "Touches a manifest.".into(),
                },
                ReviewFinding {
                    severity: FindingSeverity::Info,
                    file: None,
                    line: None,
                    message: "Low risk.".into(),
                },
            ],
        });
        json.step(Step::ReviewFailed {
            label: "A".into(),
            specialist: "trading".into(),
            error: "trapped".into(),
        });
        let text = String::from_utf8(json.0).expect("utf-8");
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|line| serde_json::from_str(line).expect("json"))
            .collect();
        assert_eq!(
            lines[0],
            serde_json::json!({
                "step": "reviewed", "label": "A", "specialist": "change-risk",
                "findings": [
                    {"severity": "warning", "file": "Cargo.toml", "line": 3,
                     "message": "Touches a manifest."},
                    {"severity": "info", "message": "Low risk."},
                ],
            })
        );
        assert_eq!(
            lines[1],
            serde_json::json!({
                "step": "review_failed", "label": "A", "specialist": "trading",
                "error": "trapped",
            })
        );
    }

    #[test]
    fn finding_severities_are_the_plugins_with_the_same_names() {
        let plugin = [
            ralph_runtime::Severity::Info,
            ralph_runtime::Severity::Warning,
            ralph_runtime::Severity::Error,
        ];
        assert_eq!(plugin.len(), FindingSeverity::ALL.len());
        for (plugin, record) in plugin.into_iter().zip(FindingSeverity::ALL) {
            assert_eq!(
                serde_json::to_string(&plugin).expect("json"),
                serde_json::to_string(&record).expect("json")
            );
            assert_eq!(crate::round::severity_of(plugin), record);
        }
    }
}
