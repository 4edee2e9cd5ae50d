//! What the loop reports as it works: one [`Step`] at a time, shown to people
//! as lines of text or to tools as newline-delimited JSON.
//!
//! Steps name proposals by their anonymous label (`A`, `B`, …), never by
//! bidder: what judges and logs read stays blind.

use std::io::Write;

use serde::Serialize;

use crate::recording::RoundKind;

/// One step of the loop.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step {
    Started {
        issue: u64,
        title: String,
        branch: String,
        worktree: String,
        pool: u64,
        requirements_left: usize,
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
    Ranked {
        ranking: Vec<RankedProposal>,
    },
    Implementing {
        label: String,
    },
    ImplementationFailed {
        label: String,
        error: String,
    },
    Implemented {
        label: String,
        files: usize,
        lines: usize,
    },
    Check {
        name: String,
        passed: bool,
        passed_before: bool,
        counts_against: bool,
        duration_ms: u64,
        detail: String,
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
    Finished {
        status: FinishStatus,
        reason: String,
        budget_used: u64,
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
}

/// Where steps go.
pub trait Progress: Send {
    fn step(&mut self, step: Step);
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
                line.push_str(&format!("\n  after: {}", cut(first_line(report), 70)));
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
        Step::Ranked { ranking } => {
            let order: Vec<String> = ranking
                .iter()
                .map(|proposal| format!("{} {:.3}", proposal.label, proposal.total))
                .collect();
            format!("  ranking: {}", order.join(" > "))
        }
        Step::Implementing { label } => format!("  implementing proposal {label}"),
        Step::ImplementationFailed { label, error } => {
            format!(
                "  proposal {label} could not be implemented: {}",
                first_line(error)
            )
        }
        Step::Implemented {
            label,
            files,
            lines,
        } => {
            format!("  proposal {label} implemented: {files} files, {lines} lines")
        }
        Step::Check {
            name,
            passed,
            passed_before,
            counts_against,
            duration_ms,
            ..
        } => {
            let note = match (*passed, *passed_before, *counts_against) {
                (false, false, _) => " (already failing before the change)",
                (_, _, true) => " (introduced by the change)",
                _ => "",
            };
            format!("  check {} {name} ({duration_ms} ms){note}", mark(*passed))
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
        Step::Finished {
            status,
            reason,
            budget_used,
        } => {
            let status = match status {
                FinishStatus::Complete => "Complete",
                FinishStatus::AttentionNeeded => "Attention needed",
                FinishStatus::Interrupted => "Interrupted",
                FinishStatus::ProviderUnavailable => "Provider unavailable",
            };
            format!("{status}: {reason} ({budget_used} iterations used)")
        }
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("")
}

/// `text` cut to `width` characters, with an ellipsis when cut.
fn cut(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_owned()
    } else {
        let kept: String = text.chars().take(width.saturating_sub(1)).collect();
        format!("{kept}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_step() -> Vec<Step> {
        let label = || "A".to_owned();
        vec![
            Step::Started {
                issue: 4,
                title: "Add two".into(),
                branch: "ralph/4-add-two".into(),
                worktree: ".ralph/worktrees/4".into(),
                pool: 30,
                requirements_left: 2,
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
                failure_report: Some("proposal A failed its checks:\ntests: 1 failed".into()),
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
            Step::Implementing { label: label() },
            Step::ImplementationFailed {
                label: label(),
                error: "patch does not apply\nat line 3".into(),
            },
            Step::Implemented {
                label: label(),
                files: 1,
                lines: 4,
            },
            Step::Check {
                name: "lint".into(),
                passed: false,
                passed_before: false,
                counts_against: false,
                duration_ms: 3,
                detail: String::new(),
            },
            Step::Check {
                name: "tests".into(),
                passed: false,
                passed_before: true,
                counts_against: true,
                duration_ms: 3,
                detail: String::new(),
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
            Step::Finished {
                status: FinishStatus::AttentionNeeded,
                reason: "the budget is spent".into(),
                budget_used: 30,
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
            "already failing before the change",
            "introduced by the change",
            "Attention needed",
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
}
