//! `ralph marketplace loop --review`: the person at the terminal reviews
//! each round's ranking before anything is implemented (SPEC §11,
//! `ralph_broker::human_review`).
//!
//! The ranking is shown on standard error (so `--json` keeps standard
//! output for its JSON lines) as a table of blind labels, totals and the
//! five dimension scores with each summary's first line, then the
//! specialists' findings, and the answer is read from standard input:
//! Enter (or `approve`) approves the #1, `choose B` (or just `B`)
//! implements proposal B instead, `feedback` sends the bidders a text for
//! a new round, `quit` stops as Ctrl-C does. A refused answer (an unknown
//! label, a plan the implementer cannot carry out) is said and asked
//! again. Every text that came from a plugin is cleaned of control
//! characters before it is shown, and the live view is paused while the
//! question is on the screen.

use std::io::{BufRead, IsTerminal};
use std::sync::{Arc, OnceLock};

use indicatif::MultiProgress;
use ralph_broker::human_review::{Ballot, Decision, Reviewer};
use ralph_issues::pulls::FindingSeverity;
use ralph_secrets::terminal;

use crate::exit::{Exit, Failure};
use crate::output::{Form, Stream};
use crate::render::cut;

/// The live view to pause while asking; set once the loop's display is
/// made (it is none with `--json` or without a terminal on standard
/// output).
#[derive(Clone, Default)]
pub struct Screen(Arc<OnceLock<MultiProgress>>);

impl Screen {
    /// The live view drawn by `multi` is the one to pause.
    pub fn show_on(&self, multi: MultiProgress) {
        let _ = self.0.set(multi);
    }

    /// Runs `ask` with the live view cleared, and draws it again after.
    fn paused<T>(&self, ask: impl FnOnce() -> T) -> T {
        match self.0.get() {
            Some(multi) => multi.suspend(ask),
            None => ask(),
        }
    }
}

/// Refuses `--review` unless a person can answer: standard input and
/// standard error must be a terminal. Checked before the loop does
/// anything.
pub fn require_terminal() -> Result<(), Failure> {
    let missing: Vec<&str> = [
        ("standard input", std::io::stdin().is_terminal()),
        ("standard error", std::io::stderr().is_terminal()),
    ]
    .into_iter()
    .filter(|(_, terminal)| !terminal)
    .map(|(name, _)| name)
    .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(Failure::message(
        Exit::BadInput,
        format!(
            "--review asks you about each ranking on a terminal, but {} {} not a terminal; run the loop in a terminal, or without --review to let it decide by itself",
            missing.join(" and "),
            if missing.len() == 1 { "is" } else { "are" }
        ),
    ))
}

/// The reviewer that asks on the terminal.
pub struct TerminalReviewer {
    pub screen: Screen,
}

impl Reviewer for TerminalReviewer {
    fn decide(&self, ballot: &Ballot) -> Decision {
        self.screen.paused(|| {
            let stdin = std::io::stdin();
            ask(ballot, &mut stdin.lock(), &mut |text| {
                crate::output::write(Stream::Stderr, Form::Human, text);
            })
        })
    }
}

/// The question, the answer read from `input` (asked again until
/// [`Ballot::check`] accepts it) and what is said to the person through
/// `say`. The end of the input quits.
pub fn ask(ballot: &Ballot, input: &mut dyn BufRead, say: &mut dyn FnMut(&str)) -> Decision {
    say(&ballot_text(ballot));
    loop {
        say(PROMPT);
        let Some(line) = read_line(input) else {
            say("\nNo answer (end of input): stopping the loop.\n");
            return Decision::Quit;
        };
        let decision = match parse(&line) {
            Ok(Answer::Decided(decision)) => decision,
            Ok(Answer::FeedbackFollows) => {
                say("Your feedback for the bidders (end it with an empty line):\n");
                Decision::Feedback(read_paragraph(input))
            }
            Err(message) => {
                say(&format!("{message}\n"));
                continue;
            }
        };
        match ballot.check(decision) {
            Ok(decision) => return decision,
            Err(refused) => say(&format!("{refused}\n")),
        }
    }
}

const PROMPT: &str = "approve [Enter] / choose <label> / feedback / quit > ";

/// What one line said.
#[derive(Debug, PartialEq, Eq)]
enum Answer {
    Decided(Decision),
    /// `feedback` alone: the text follows on the next lines.
    FeedbackFollows,
}

/// One line of answer: Enter, `approve`, `choose LABEL` (or `LABEL`
/// alone), `feedback [TEXT]`, `quit`; the words may be shortened to their
/// first letter but for a label.
fn parse(line: &str) -> Result<Answer, String> {
    let line = line.trim();
    let (word, rest) = line
        .split_once(char::is_whitespace)
        .map_or((line, ""), |(word, rest)| (word, rest.trim()));
    let decided = |decision| Ok(Answer::Decided(decision));
    match word.to_ascii_lowercase().as_str() {
        "" | "approve" | "y" | "yes" if rest.is_empty() => decided(Decision::Approve),
        "choose" | "c" if !rest.is_empty() => decided(Decision::Choose(rest.to_owned())),
        "choose" | "c" => Err("choose which? Write `choose` and a label, e.g. `choose B`".into()),
        "feedback" | "f" if rest.is_empty() => Ok(Answer::FeedbackFollows),
        "feedback" | "f" => decided(Decision::Feedback(rest.to_owned())),
        "quit" | "q" if rest.is_empty() => decided(Decision::Quit),
        _ if rest.is_empty() && word.chars().all(|c| c.is_ascii_alphanumeric()) => {
            decided(Decision::Choose(word.to_owned()))
        }
        _ => Err(format!(
            "`{}` is not an answer: press Enter to approve, or write `choose <label>`, `feedback` or `quit`",
            cut(&terminal::clean(line), 40)
        )),
    }
}

/// One line of `input` without its line end; `None` at its end.
fn read_line(input: &mut dyn BufRead) -> Option<String> {
    let mut line = String::new();
    match input.read_line(&mut line) {
        Ok(0) | Err(_) => None,
        Ok(_) => Some(line.trim_end_matches(['\n', '\r']).to_owned()),
    }
}

/// Lines up to an empty one (or the end of `input`), joined.
fn read_paragraph(input: &mut dyn BufRead) -> String {
    let mut lines = Vec::new();
    while let Some(line) = read_line(input) {
        if line.trim().is_empty() {
            break;
        }
        lines.push(line);
    }
    lines.join("\n")
}

/// The widest a summary's first line is shown.
const SUMMARY_WIDTH: usize = 48;

/// The ranking as the person reads it: one row per proposal, best first,
/// then the specialists' findings on the #1. Plugin text is cleaned and
/// cut to one line.
pub fn ballot_text(ballot: &Ballot) -> String {
    let one_line = |text: &str, width: usize| {
        let cleaned = terminal::clean(text);
        cut(cleaned.lines().next().unwrap_or("").trim(), width)
    };
    let mut text = format!(
        "\nRound {} ranking, best first (labels are blind; scores from 0 to 1):\n",
        ballot.round
    );
    text.push_str(&format!(
        "  {:<5} {:>6}  {:>5} {:>5} {:>5} {:>5} {:>5}  summary\n",
        "label", "total", "spec", "tech", "innov", "risk", "effic"
    ));
    for candidate in &ballot.proposals {
        let scores = &candidate.scores;
        let note = if candidate.implementable {
            ""
        } else {
            " (cannot be implemented)"
        };
        text.push_str(&format!(
            "  {:<5} {:>6.3}  {:>5.2} {:>5.2} {:>5.2} {:>5.2} {:>5.2}  {}{note}\n",
            cut(&candidate.label, 5),
            candidate.total,
            scores.spec_alignment,
            scores.technical_quality,
            scores.innovation,
            scores.risk,
            scores.efficiency,
            one_line(&candidate.summary, SUMMARY_WIDTH),
        ));
    }
    if ballot.tie_break {
        text.push_str("  (the top two tie: the earlier-submitted proposal ranks first)\n");
    }
    if ballot.reviews.is_empty() {
        text.push_str(&format!(
            "No specialist reviewed proposal {}.\n",
            ballot.reviewed
        ));
    } else {
        text.push_str(&format!(
            "The specialists' review of proposal {} (advisory):\n",
            ballot.reviewed
        ));
    }
    for review in &ballot.reviews {
        let specialist = one_line(&review.specialist, 30);
        if let Some(error) = &review.error {
            text.push_str(&format!(
                "  {specialist}: failed: {}\n",
                one_line(error, 60)
            ));
        } else if review.findings.is_empty() {
            text.push_str(&format!("  {specialist}: no findings\n"));
        }
        for finding in &review.findings {
            let severity = match finding.severity {
                FindingSeverity::Info => "info",
                FindingSeverity::Warning => "warning",
                FindingSeverity::Error => "error",
            };
            let place = match (&finding.file, finding.line) {
                (Some(file), Some(line)) => format!(" {}:{line}", one_line(file, 40)),
                (Some(file), None) => format!(" {}", one_line(file, 40)),
                _ => String::new(),
            };
            text.push_str(&format!(
                "  {specialist}: {severity}{place}: {}\n",
                one_line(&finding.message, 72)
            ));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use ralph_broker::human_review::Candidate;
    use ralph_broker::recording::RoundKind;
    use ralph_broker::scoring::Scores;
    use ralph_issues::pulls::{ReviewFinding, SpecialistReview};

    fn ballot(summary: &str) -> Ballot {
        let candidate = |label: &str, summary: &str, implementable| Candidate {
            label: label.into(),
            total: 0.75,
            scores: Scores {
                spec_alignment: 1.0,
                technical_quality: 0.5,
                innovation: 0.25,
                risk: 0.8,
                efficiency: 0.6,
            },
            summary: summary.into(),
            implementable,
        };
        Ballot {
            round: 2,
            kind: RoundKind::Initial,
            proposals: vec![
                candidate("B", summary, true),
                candidate("A", "add two, badly", true),
                candidate("C", "plan only", false),
            ],
            reviewed: "B".into(),
            reviews: vec![SpecialistReview {
                specialist: "change-risk".into(),
                findings: vec![ReviewFinding {
                    severity: FindingSeverity::Warning,
                    file: Some("src/lib.rs".into()),
                    line: Some(3),
                    message: "no test\u{1b}]0;owned\u{7} for two".into(),
                }],
                error: None,
            }],
            tie_break: false,
        }
    }

    fn answer(ballot: &Ballot, typed: &str) -> (Decision, String) {
        let mut said = String::new();
        let decision = ask(ballot, &mut typed.as_bytes(), &mut |text| {
            said.push_str(text)
        });
        (decision, said)
    }

    #[test]
    fn the_table_shows_labels_totals_dimensions_summaries_and_findings() {
        let text = ballot_text(&ballot("add two\nwith a second line"));
        assert!(
            text.contains("  B      0.750   1.00  0.50  0.25  0.80  0.60  add two\n"),
            "{text}"
        );
        assert!(!text.contains("second line"), "{text}");
        assert!(text.contains("plan only (cannot be implemented)"), "{text}");
        assert!(
            text.contains("change-risk: warning src/lib.rs:3: no test for two"),
            "{text}"
        );
    }

    #[test]
    fn control_sequences_in_a_summary_or_finding_are_not_shown() {
        let text = ballot_text(&ballot("add two\u{1b}[2J\u{1b}[H now"));
        assert!(!text.contains('\u{1b}'), "{text:?}");
        assert!(!text.contains('\u{7}'), "{text:?}");
        assert!(text.contains("add two now"), "{text}");
    }

    #[test]
    fn enter_approves() {
        assert_eq!(answer(&ballot("add two"), "\n").0, Decision::Approve);
    }

    #[test]
    fn a_label_chooses_that_proposal_and_the_top_label_approves() {
        let ballot = ballot("add two");
        assert_eq!(
            answer(&ballot, "choose a\n").0,
            Decision::Choose("A".into())
        );
        assert_eq!(answer(&ballot, "A\n").0, Decision::Choose("A".into()));
        assert_eq!(answer(&ballot, "c B\n").0, Decision::Approve);
    }

    #[test]
    fn an_unknown_or_unimplementable_label_is_refused_and_asked_again() {
        let (decision, said) = answer(&ballot("add two"), "choose Z\nchoose C\nq\n");
        assert_eq!(decision, Decision::Quit);
        assert!(said.contains("there is no proposal Z"), "{said}");
        assert!(said.contains("proposal C carries no change"), "{said}");
        assert_eq!(said.matches(PROMPT).count(), 3, "{said}");
    }

    #[test]
    fn feedback_is_read_up_to_an_empty_line_or_given_inline() {
        let ballot = ballot("add two");
        assert_eq!(
            answer(&ballot, "feedback\nsmaller steps\nand tests\n\nignored\n").0,
            Decision::Feedback("smaller steps\nand tests".into())
        );
        assert_eq!(
            answer(&ballot, "f use a constant\n").0,
            Decision::Feedback("use a constant".into())
        );
        let (decision, said) = answer(&ballot, "feedback\n\nq\n");
        assert_eq!(decision, Decision::Quit);
        assert!(said.contains("the feedback is empty"), "{said}");
    }

    #[test]
    fn nonsense_is_refused_and_the_end_of_input_quits() {
        let (decision, said) = answer(&ballot("add two"), "approve it now\n");
        assert_eq!(decision, Decision::Quit);
        assert!(said.contains("is not an answer"), "{said}");
        assert!(said.contains("end of input"), "{said}");
    }
}
