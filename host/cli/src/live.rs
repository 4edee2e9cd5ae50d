//! The live view of a loop on a terminal.
//!
//! Each step's plain line (the same text as without a terminal) scrolls up
//! as it happens; below them a few lines are redrawn in place: the round,
//! the budget left and each proposal's score as it arrives; what runs now
//! (the bidders proposing, the implementer, a check) with its elapsed time;
//! and the last lines a running check printed. When the loop finishes the
//! live lines go, and what scrolled stays. Every text shown is cleaned and
//! redacted first ([`output::shown`]): it comes from plugins and checks.

use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use ralph_broker::checks::LAST_LINES;
use ralph_broker::progress::{Activity, Progress, Step, cut, describe};

use crate::output::{self, Form};

/// A live view drawing to `target`.
pub struct Live {
    multi: MultiProgress,
    round: ProgressBar,
    activity: ProgressBar,
    output: Vec<ProgressBar>,
    view: View,
}

/// What the round line shows.
#[derive(Default)]
struct View {
    round: String,
    budget_left: u64,
    bidders: usize,
    /// Each proposal's label and its total, or why it has none.
    proposals: Vec<(String, String)>,
}

impl Live {
    /// The live view on standard output, redrawn ten times a second.
    pub fn on_stdout() -> Live {
        let live = Live::new(ProgressDrawTarget::stdout_with_hz(10));
        live.activity.enable_steady_tick(Duration::from_millis(120));
        live
    }

    /// The live view on `target` (a terminal, or a screen in memory).
    pub fn new(target: ProgressDrawTarget) -> Live {
        let multi = MultiProgress::with_draw_target(target);
        let line = ProgressStyle::with_template("{msg}").expect("a valid template");
        let spinner = ProgressStyle::with_template("{spinner} {msg} · {elapsed}")
            .expect("a valid template")
            .tick_chars("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏ ");
        let round = multi.add(ProgressBar::new_spinner().with_style(line.clone()));
        let activity = multi.add(ProgressBar::new_spinner().with_style(spinner));
        let output = (0..LAST_LINES)
            .map(|_| multi.add(ProgressBar::new_spinner().with_style(line.clone())))
            .collect();
        Live {
            multi,
            round,
            activity,
            output,
            view: View::default(),
        }
    }

    /// What draws the view, for pausing it while a question is asked.
    pub fn screen(&self) -> MultiProgress {
        self.multi.clone()
    }

    fn redraw_round(&self) {
        if self.view.round.is_empty() {
            return;
        }
        let mut text = format!(
            "{} · {} iterations left · proposals {}/{}",
            self.view.round,
            self.view.budget_left,
            self.view.proposals.len(),
            self.view.bidders
        );
        for (label, total) in &self.view.proposals {
            text.push_str(&format!("  {label} {total}"));
        }
        self.round.set_message(shown(&text));
    }

    fn set_output(&self, lines: &[String]) {
        for (index, bar) in self.output.iter().enumerate() {
            match lines.get(index) {
                Some(line) => bar.set_message(format!("    │ {}", cut(&shown(line), 96))),
                None => bar.set_message(""),
            }
        }
    }

    fn idle(&self, what: &str) {
        self.activity.set_message(shown(what));
        self.activity.reset_elapsed();
        self.set_output(&[]);
    }
}

impl Progress for Live {
    fn step(&mut self, step: Step) {
        // The live line shows a check starting; the other steps scroll up.
        if !matches!(step, Step::CheckStarted { .. }) {
            self.multi.println(shown(&describe(&step))).ok();
        }
        match &step {
            Step::RoundStarted {
                round,
                kind,
                bidders,
                budget_left,
                ..
            } => {
                self.view = View {
                    round: match kind {
                        ralph_broker::recording::RoundKind::Initial => format!("Round {round}"),
                        ralph_broker::recording::RoundKind::Replan => {
                            format!("Round {round} (replan)")
                        }
                    },
                    budget_left: *budget_left,
                    bidders: *bidders,
                    proposals: Vec::new(),
                };
                self.idle("proposing");
            }
            Step::ProposalReceived { label, total, .. } => {
                self.view
                    .proposals
                    .push((label.clone(), format!("{total:.3}")));
            }
            Step::ProposalFailed { label, .. } => {
                self.view
                    .proposals
                    .push((label.clone(), "error".to_owned()));
            }
            Step::ProposalRefused { label, .. } => {
                self.view
                    .proposals
                    .push((label.clone(), "refused".to_owned()));
            }
            Step::Implementing { subject, .. } => self.idle(&format!("implementing {subject}")),
            Step::CheckStarted { name } => self.idle(&format!("checking {name}")),
            Step::Check { .. } => self.idle("checks"),
            Step::ReviewAsked { .. } => self.idle("waiting for your review"),
            Step::Finished { .. } => {
                self.round.finish_and_clear();
                self.activity.finish_and_clear();
                for bar in &self.output {
                    bar.finish_and_clear();
                }
                return;
            }
            _ => {}
        }
        self.redraw_round();
    }

    fn activity(&mut self, activity: &Activity) {
        self.activity.set_message(shown(&activity.what));
        self.set_output(&activity.last_lines);
    }
}

fn shown(text: &str) -> String {
    output::shown(Form::Human, text)
}

#[cfg(test)]
mod tests {
    use indicatif::InMemoryTerm;
    use ralph_broker::progress::RankedProposal;
    use ralph_broker::recording::RoundKind;

    use super::*;

    fn screen() -> (InMemoryTerm, Live) {
        let terminal = InMemoryTerm::new(24, 100);
        let live = Live::new(ProgressDrawTarget::term_like(Box::new(terminal.clone())));
        (terminal, live)
    }

    fn check_started(name: &str) -> Step {
        Step::CheckStarted { name: name.into() }
    }

    #[test]
    fn a_person_sees_the_round_the_scores_the_running_check_and_its_last_lines() {
        let (terminal, mut live) = screen();
        live.step(Step::RoundStarted {
            round: 2,
            kind: RoundKind::Replan,
            bidders: 3,
            budget_left: 27,
            failure_report: None,
        });
        live.step(Step::ProposalReceived {
            label: "A".into(),
            total: 0.8125,
            summary: "add two".into(),
        });
        live.activity(&Activity {
            what: "waiting for 3 proposals".into(),
            elapsed: Duration::from_secs(4),
            last_lines: Vec::new(),
        });
        // Moment 1: proposals arriving.
        let first = terminal.contents();
        assert!(
            first.contains("Round 2, a replan: 3 bidders, 27 iterations left"),
            "{first}"
        );
        assert!(
            first.contains("Round 2 (replan) · 27 iterations left · proposals 1/3  A 0.812"),
            "{first}"
        );
        assert!(first.contains("waiting for 3 proposals"), "{first}");

        live.step(Step::ProposalFailed {
            label: "B".into(),
            error: "trapped".into(),
        });
        live.step(Step::Ranked {
            ranking: vec![RankedProposal {
                label: "A".into(),
                total: 0.8125,
            }],
        });
        live.step(check_started("tests"));
        live.activity(&Activity {
            what: "checking tests".into(),
            elapsed: Duration::from_secs(12),
            last_lines: vec![
                "test tests::one ... ok".into(),
                // A check's output is untrusted: colours and control
                // characters never reach the terminal.
                "test tests::two ... \u{1b}[31mFAILED\u{1b}[0m".into(),
            ],
        });
        // Moment 2: a check running, its last lines below it.
        let second = terminal.contents();
        assert!(
            second.contains("proposals 2/3  A 0.812  B error"),
            "{second}"
        );
        assert!(second.contains("checking tests ·"), "{second}");
        assert!(second.contains("    │ test tests::one ... ok"), "{second}");
        assert!(
            second.contains("    │ test tests::two ... FAILED"),
            "{second}"
        );
        assert!(!second.contains('\u{1b}'), "{second:?}");

        live.step(Step::Check {
            name: "tests".into(),
            passed: false,
            passed_before: true,
            counts_against: true,
            duration_ms: 12_000,
            detail: String::new(),
            new_findings: Vec::new(),
            reason: vec!["assertion failed: two() == 2".into()],
            full_output: Some(".ralph/feedback/1/round-2/tests.log".into()),
        });
        // Moment 3: the check finished, its reason and its file in the
        // scrolled lines, the live lines cleared of its output.
        let third = terminal.contents();
        assert!(
            third.contains("check FAIL tests (12000 ms) (introduced by the change)"),
            "{third}"
        );
        assert!(third.contains("assertion failed: two() == 2"), "{third}");
        assert!(
            third.contains("whole output: .ralph/feedback/1/round-2/tests.log"),
            "{third}"
        );
        assert!(!third.contains("│ test tests::one"), "{third}");

        live.step(Step::Finished {
            status: ralph_broker::progress::FinishStatus::AttentionNeeded,
            reason: "the replan round failed too".into(),
            budget_used: 3,
            to_commit: Vec::new(),
        });
        let last = terminal.contents();
        assert!(
            last.contains("Attention needed: the replan round failed too"),
            "{last}"
        );
        assert!(
            !last.contains("iterations left · proposals"),
            "the live lines go: {last}"
        );
    }
}
