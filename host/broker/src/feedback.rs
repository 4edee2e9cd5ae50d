//! The failure report a failed change hands to the replan round (SPEC §4
//! step 6), and the full output it points to.
//!
//! The report keeps the *reason* of each check that counts against the
//! change — what it reports anew, the panic and assertion messages, the
//! compiler's errors — not merely the end of its output (which, with
//! `RUST_BACKTRACE=1`, is backtrace frames). It stays within
//! [`REPORT_BUDGET`] bytes, shared between the failing checks and cut at line
//! boundaries; each check's whole output is written to `<check>.log` in the
//! session's feedback folder for the next iteration
//! (`.ralph-sessions/<id>/iterations/<N>/feedbacks/<time>/`), and the report
//! names that file.

use std::path::{Path, PathBuf};

use crate::checks::{Judged, Verdict};

/// The most bytes a failure report takes (what reaches the bidders' prompts).
pub const REPORT_BUDGET: usize = 4 * 1024;
/// The most lines one passage of a check's output keeps.
const PASSAGE_LINES: usize = 12;
/// The most findings one check lists.
const FINDINGS_SHOWN: usize = 10;

/// Writes the whole output of every check in `judged` that failed to
/// `directory/<check>.log` (a feedback folder of the session, which git
/// ignores), returning each written file by check name.
pub fn save(directory: &Path, judged: &[Judged]) -> std::io::Result<Vec<(String, PathBuf)>> {
    let failed: Vec<&Judged> = judged.iter().filter(|j| !j.run.passed()).collect();
    if failed.is_empty() {
        return Ok(Vec::new());
    }
    std::fs::create_dir_all(directory)?;
    let mut written = Vec::new();
    for entry in failed {
        let path = directory.join(format!("{}.log", file_name(&entry.run.name)));
        let output = if entry.run.full_output.is_empty() {
            &entry.run.output
        } else {
            &entry.run.full_output
        };
        std::fs::write(&path, output)?;
        written.push((entry.run.name.clone(), path));
    }
    Ok(written)
}

/// A check's name as a file name: letters, digits, `-` and `_` kept.
fn file_name(name: &str) -> String {
    let kept: String = name
        .chars()
        .map(|character| {
            if character.is_ascii_alphanumeric() || "-_".contains(character) {
                character
            } else {
                '-'
            }
        })
        .collect();
    if kept.is_empty() {
        "check".to_owned()
    } else {
        kept
    }
}

/// The report on `subject`'s change ("proposal A"), from the checks that count
/// against it; `saved` gives each check's full-output file as it should be
/// shown (relative to the repository).
pub fn report(subject: &str, against: &[&Judged], saved: &[(String, String)]) -> String {
    let heading = format!("{subject} failed its checks:");
    let share = (REPORT_BUDGET.saturating_sub(heading.len() + 1)) / against.len().max(1);
    let mut report = heading;
    for judged in against {
        let file = saved
            .iter()
            .find(|(name, _)| *name == judged.run.name)
            .map(|(_, file)| file.as_str());
        report.push('\n');
        report.push_str(&check_report(judged, file, share));
    }
    report
}

/// One check's part of the report, within `budget` bytes.
fn check_report(judged: &Judged, file: Option<&str>, budget: usize) -> String {
    let name = &judged.run.name;
    let verdict = match &judged.run.verdict {
        Verdict::Passed => "passed".to_owned(),
        Verdict::Failed {
            exit_code: Some(code),
        } => format!("failed (exit code {code})"),
        Verdict::Failed { exit_code: None } => "failed".to_owned(),
        Verdict::TimedOut => "timed out".to_owned(),
        Verdict::NotRun { reason } => format!("could not run: {reason}"),
    };
    let mut lines = Vec::new();
    if judged.passed_before {
        lines.push(format!("{name}: {verdict}; it passed before the change"));
    } else {
        lines.push(format!(
            "{name}: {verdict}; it failed before the change too, and now also reports:"
        ));
        lines.extend(
            judged
                .new_findings
                .iter()
                .take(FINDINGS_SHOWN)
                .map(|finding| format!("  new: {finding}")),
        );
    }
    let mut passages = reasons(&judged.run.output);
    if passages.is_empty() {
        passages = vec![last_lines(&judged.run.output, PASSAGE_LINES)];
    }
    for passage in passages {
        lines.extend(passage.into_iter().map(|line| format!("  {line}")));
    }
    let closing = file.map(|file| format!("  (the whole output: {file})"));
    fit(lines, closing, budget)
}

/// `lines`, cut at a line boundary to fit `budget` bytes with `closing`
/// (always kept) after them.
fn fit(lines: Vec<String>, closing: Option<String>, budget: usize) -> String {
    let reserve = closing.as_ref().map_or(0, |closing| closing.len() + 1) + 16;
    let mut kept = String::new();
    let mut left_out = 0;
    for line in &lines {
        if left_out == 0 && kept.len() + line.len() + 1 + reserve <= budget {
            if !kept.is_empty() {
                kept.push('\n');
            }
            kept.push_str(line);
        } else {
            left_out += 1;
        }
    }
    if kept.is_empty() {
        // Even the first line is too long: keep its start.
        let first = lines.first().map(String::as_str).unwrap_or("");
        kept = cut(first, budget.saturating_sub(reserve)).to_owned();
    }
    if left_out > 0 {
        kept.push_str(&format!("\n  … {left_out} more lines"));
    }
    if let Some(closing) = closing {
        kept.push('\n');
        kept.push_str(&closing);
    }
    kept
}

/// The passages of `output` that say why it failed: each paragraph (lines
/// between blank lines) that names an error, a failure or a panic, without
/// backtrace frames, at most [`PASSAGE_LINES`] lines each.
pub fn reasons(output: &str) -> Vec<Vec<String>> {
    let mut passages = Vec::new();
    let mut paragraph: Vec<&str> = Vec::new();
    for line in output.lines().chain(std::iter::once("")) {
        if !line.trim().is_empty() {
            paragraph.push(line);
            continue;
        }
        if let Some(passage) = reason_in(&paragraph) {
            passages.push(passage);
        }
        paragraph.clear();
    }
    passages
}

/// The paragraph up to its backtrace, if it says why something failed.
fn reason_in(paragraph: &[&str]) -> Option<Vec<String>> {
    let start = paragraph.iter().position(|line| says_failure(line))?;
    let passage: Vec<String> = paragraph[start..]
        .iter()
        .take_while(|line| !starts_backtrace(line))
        .filter(|line| !is_summary(line))
        .take(PASSAGE_LINES)
        .map(|line| line.trim_end().to_owned())
        .collect();
    (!passage.is_empty()).then_some(passage)
}

fn says_failure(line: &str) -> bool {
    let lower = line.to_lowercase();
    (["error", "panicked", "assertion", "fail"]
        .iter()
        .any(|word| lower.contains(word)))
        && !is_summary(line)
}

/// cargo's and libtest's closing lines, which say only that something failed.
fn is_summary(line: &str) -> bool {
    let line = line.trim();
    line == "failures:"
        || line.starts_with("test result:")
        || line.starts_with("error: test failed")
        || line.starts_with("error: could not compile")
        || line.starts_with("error: aborting due to")
        || line.starts_with("error: 1 target failed")
        || line.starts_with("error: Recipe")
        || line.ends_with("targets failed:")
}

fn starts_backtrace(line: &str) -> bool {
    let line = line.trim();
    line == "stack backtrace:"
        || line.starts_with("note: run with `RUST_BACKTRACE")
        || line.starts_with("note: Some details are omitted")
}

fn last_lines(output: &str, count: usize) -> Vec<String> {
    let lines: Vec<&str> = output
        .lines()
        .filter(|line| !line.trim().is_empty())
        .collect();
    lines[lines.len().saturating_sub(count)..]
        .iter()
        .map(|line| line.trim_end().to_owned())
        .collect()
}

fn cut(text: &str, limit: usize) -> &str {
    if text.len() <= limit {
        return text;
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::{Category, CheckRun, judge_one};

    const BACKTRACE_FAILURE: &str = "\
running 2 tests
test tests::freezing ... FAILED
test tests::round_trip ... ok

failures:

---- tests::freezing stdout ----

thread 'tests::freezing' panicked at src/lib.rs:27:9:
assertion `left == right` failed: water freezes at 32 °F
  left: 23.0
 right: 32.0
stack backtrace:
   0: rust_begin_unwind
             at /rustc/library/std/src/panicking.rs:665:5
   1: core::panicking::panic_fmt
             at /rustc/library/core/src/panicking.rs:76:14
   2: demo::tests::freezing
             at ./src/lib.rs:27:9

failures:
    tests::freezing

test result: FAILED. 1 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s

error: test failed, to rerun pass `--lib`
";

    fn failed(name: &str, output: &str) -> CheckRun {
        CheckRun::new(
            name,
            Category::Test,
            Verdict::Failed {
                exit_code: Some(101),
            },
            5,
            output.to_owned(),
        )
    }

    #[test]
    fn the_assertion_message_is_kept_and_the_backtrace_is_not() {
        let passages = reasons(BACKTRACE_FAILURE);
        let text: Vec<String> = passages.concat();
        assert!(
            text.iter()
                .any(|line| line.contains("water freezes at 32 °F"))
        );
        assert!(text.iter().any(|line| line.contains("right: 32.0")));
        assert!(
            text.iter()
                .any(|line| line.contains("tests::freezing ... FAILED"))
        );
        assert!(!text.iter().any(|line| line.contains("rust_begin_unwind")));
        assert!(!text.iter().any(|line| line.contains("test result")));
    }

    #[test]
    fn the_report_names_the_check_the_reason_and_the_whole_output() {
        let judged = judge_one(&[], failed("tests", BACKTRACE_FAILURE));
        let report = report(
            "proposal A",
            &[&judged],
            &[("tests".into(), ".ralph/feedback/1/round-1/tests.log".into())],
        );
        assert!(report.starts_with("proposal A failed its checks:\ntests: failed (exit code 101); it passed before the change"), "{report}");
        assert!(
            report.contains("assertion `left == right` failed: water freezes"),
            "{report}"
        );
        assert!(
            report.ends_with("(the whole output: .ralph/feedback/1/round-1/tests.log)"),
            "{report}"
        );
    }

    #[test]
    fn a_check_failing_before_lists_what_is_new() {
        let baseline = [failed("clippy", "error: old\n --> src/a.rs:1:1\n")];
        let judged = judge_one(
            &baseline,
            failed(
                "clippy",
                "error: old\n --> src/a.rs:1:1\n\nerror: approximate value of `PI` found\n --> src/b.rs:3:9\n",
            ),
        );
        let report = report("proposal B", &[&judged], &[]);
        assert!(report.contains("failed before the change too"), "{report}");
        assert!(
            report.contains("new: error: approximate value of `PI` found (src/b.rs)"),
            "{report}"
        );
    }

    #[test]
    fn a_long_report_stays_within_its_budget_and_keeps_its_file() {
        let noisy: String = (0..2000)
            .map(|line| format!("error: problem number {line} in a long list\n\n"))
            .collect();
        let one = judge_one(&[], failed("lint", &noisy));
        let two = judge_one(&[], failed("tests", BACKTRACE_FAILURE));
        let saved = [
            ("lint".to_owned(), "lint.log".to_owned()),
            ("tests".to_owned(), "tests.log".to_owned()),
        ];
        let report = report("proposal C", &[&one, &two], &saved);
        assert!(report.len() <= REPORT_BUDGET, "{}", report.len());
        assert!(
            report.contains("more lines\n  (the whole output: lint.log)"),
            "{report}"
        );
        assert!(report.contains("water freezes"), "{report}");
    }

    #[test]
    fn output_without_a_recognised_reason_keeps_its_last_lines() {
        let judged = judge_one(
            &[],
            failed("custom", "step one\nstep two\nsomething went wrong\n"),
        );
        let report = report("proposal D", &[&judged], &[]);
        assert!(report.contains("  something went wrong"), "{report}");
    }

    #[test]
    fn the_whole_output_of_each_failed_check_is_saved() {
        let directory = tempfile::tempdir().expect("temp dir");
        let round = directory.path().join("feedback/1/round-2");
        let passed = judge_one(
            &[],
            CheckRun::new("fmt", Category::Format, Verdict::Passed, 1, String::new()),
        );
        let judged = [
            judge_one(&[], failed("unit tests", BACKTRACE_FAILURE)),
            passed,
        ];
        let written = save(&round, &judged).expect("saved");
        assert_eq!(written.len(), 1);
        assert_eq!(written[0].1, round.join("unit-tests.log"));
        let saved = std::fs::read_to_string(&written[0].1).expect("read");
        assert!(
            saved.contains("rust_begin_unwind"),
            "the whole output, backtrace included"
        );
    }
}
