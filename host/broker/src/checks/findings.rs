//! What a check reports, read out of its output so that two runs of it can
//! be compared: the baseline's and the change's (SPEC §4 step 5).
//!
//! A finding is one line that names one problem, without what moves when
//! code is edited above it (line and column numbers, timings), so the same
//! problem found before and after the change is the same finding:
//!
//! - cargo's JSON messages (`--message-format=json`): each error or warning
//!   diagnostic, as `error[E0308]: mismatched types (src/lib.rs)`;
//! - rustc's and clippy's human diagnostics, the same way (a header
//!   followed by its `-->` location);
//! - libtest's failing tests, as `test tests::it_works failed`;
//! - for any other output, each line that says something failed (`error`,
//!   `fail`, `panic`), its numbers blanked.
//!
//! Findings are compared as a multiset: two copies of one warning where the
//! baseline had one is a new finding.

use std::collections::BTreeMap;

/// The findings in a check's output, in the order they appear.
pub fn of_output(output: &str) -> Vec<String> {
    let structured = structured(output);
    if structured.is_empty() {
        failing_lines(output)
    } else {
        structured
    }
}

/// The findings of `after` that `before` does not have (counting repeats).
pub fn new_in(before: &[String], after: &[String]) -> Vec<String> {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for finding in before {
        *seen.entry(finding.as_str()).or_default() += 1;
    }
    after
        .iter()
        .filter(|finding| match seen.get_mut(finding.as_str()) {
            Some(count) if *count > 0 => {
                *count -= 1;
                false
            }
            _ => true,
        })
        .cloned()
        .collect()
}

/// Findings from cargo's JSON messages, rustc's human diagnostics and
/// libtest's results.
fn structured(output: &str) -> Vec<String> {
    let lines: Vec<&str> = output.lines().collect();
    let mut found = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let trimmed = line.trim();
        if trimmed.starts_with('{') {
            if let Some(finding) = json_message(trimmed) {
                found.push(finding);
            }
        } else if let Some(name) = failed_test(trimmed) {
            found.push(format!("test {name} failed"));
        } else if let Some(finding) = human_diagnostic(line, &lines[index + 1..]) {
            found.push(finding);
        }
    }
    found
}

/// A `compiler-message` of cargo's JSON output, as a finding; `None` for
/// any other line, notes, and summaries without a location.
fn json_message(line: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(line).ok()?;
    if value["reason"] != "compiler-message" {
        return None;
    }
    let message = &value["message"];
    let level = message["level"].as_str()?;
    if level != "error" && level != "warning" {
        return None;
    }
    let spans = message["spans"].as_array()?;
    let file = spans
        .iter()
        .find(|span| span["is_primary"] == true)
        .or_else(|| spans.first())?["file_name"]
        .as_str()?;
    let code = message["code"]["code"]
        .as_str()
        .map(|code| format!("[{code}]"))
        .unwrap_or_default();
    let text = message["message"].as_str()?;
    Some(format!("{level}{code}: {text} ({file})"))
}

/// The test's name in libtest's `test NAME ... FAILED` line.
fn failed_test(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("test ")?;
    let name = rest.strip_suffix(" ... FAILED")?;
    (!name.contains(' ')).then_some(name)
}

/// A human diagnostic: an `error…:` or `warning…:` header followed (before
/// the next header) by its `--> file:line:column`; a header with no
/// location is cargo's summary, not a finding.
fn human_diagnostic(line: &str, rest: &[&str]) -> Option<String> {
    let header = ["error", "warning"]
        .into_iter()
        .find(|level| line.starts_with(level))?;
    let after = &line[header.len()..];
    let (code, text) = match after.strip_prefix('[') {
        Some(coded) => {
            let (code, text) = coded.split_once("]: ")?;
            (format!("[{code}]"), text)
        }
        None => (String::new(), after.strip_prefix(": ")?),
    };
    let location = rest
        .iter()
        .take(4)
        .take_while(|next| !next.starts_with("error") && !next.starts_with("warning"))
        .find_map(|next| next.trim_start().strip_prefix("--> "))?;
    let file = location.split(':').next().unwrap_or(location);
    Some(format!("{header}{code}: {} ({file})", text.trim()))
}

/// Lines that say something failed, numbers blanked so that line numbers
/// and timings do not make an old failure look new.
fn failing_lines(output: &str) -> Vec<String> {
    output
        .lines()
        .map(str::trim)
        .filter(|line| {
            let lower = line.to_lowercase();
            ["error", "fail", "panic"]
                .iter()
                .any(|word| lower.contains(word))
        })
        .map(blank_numbers)
        .collect()
}

fn blank_numbers(line: &str) -> String {
    let mut blanked = String::with_capacity(line.len());
    let mut in_number = false;
    for character in line.chars() {
        if character.is_ascii_digit() {
            if !in_number {
                blanked.push('#');
            }
            in_number = true;
        } else {
            in_number = false;
            blanked.push(character);
        }
    }
    blanked
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLIPPY_JSON: &str = r#"{"reason":"compiler-artifact","package_id":"x"}
{"reason":"compiler-message","message":{"level":"error","code":{"code":"clippy::approx_constant"},"message":"approximate value of `f64::consts::PI` found","spans":[{"file_name":"src/lib.rs","line_start":12,"is_primary":true}]}}
{"reason":"compiler-message","message":{"level":"warning","code":null,"message":"unused variable: `x`","spans":[{"file_name":"tests/it.rs","line_start":3,"is_primary":true}]}}
{"reason":"compiler-message","message":{"level":"error","code":null,"message":"aborting due to 1 previous error","spans":[]}}
{"reason":"build-finished","success":false}"#;

    #[test]
    fn cargo_json_messages_give_one_finding_per_located_diagnostic() {
        assert_eq!(
            of_output(CLIPPY_JSON),
            vec![
                "error[clippy::approx_constant]: approximate value of `f64::consts::PI` found (src/lib.rs)",
                "warning: unused variable: `x` (tests/it.rs)",
            ]
        );
    }

    #[test]
    fn human_diagnostics_are_found_and_cargos_summaries_are_not() {
        let output = "\
error[E0308]: mismatched types
  --> src/lib.rs:4:5
   |
4  |     \"one\"
   |     ^^^^^ expected `u32`, found `&str`

warning: `demo` (lib) generated 1 warning
error: could not compile `demo` (lib) due to 1 previous error
error: this looks like you are trying to swap `a` and `b`
 --> src/main.rs:9:5
";
        assert_eq!(
            of_output(output),
            vec![
                "error[E0308]: mismatched types (src/lib.rs)",
                "error: this looks like you are trying to swap `a` and `b` (src/main.rs)",
            ]
        );
    }

    #[test]
    fn failing_tests_are_named() {
        let output = "running 3 tests\ntest tests::a ... ok\ntest tests::b ... FAILED\n\
                      test tests::c ... ignored\n\nfailures:\n    tests::b\n";
        assert_eq!(of_output(output), vec!["test tests::b failed"]);
    }

    #[test]
    fn other_output_gives_its_failing_lines_without_numbers() {
        let output = "checking 12 files\nFAIL: src/a.py line 40\nok\nError 3 of 7\n";
        assert_eq!(
            of_output(output),
            vec!["FAIL: src/a.py line #", "Error # of #"]
        );
    }

    #[test]
    fn the_same_finding_on_another_line_is_not_new_but_a_second_copy_is() {
        let before = of_output(
            "error[E0308]: mismatched types\n --> src/lib.rs:4:5\ntest tests::old ... FAILED\n",
        );
        let after = of_output(
            "error[E0308]: mismatched types\n --> src/lib.rs:9:5\n\
             error[E0308]: mismatched types\n --> src/lib.rs:20:1\n\
             test tests::old ... FAILED\ntest tests::new ... FAILED\n",
        );
        assert_eq!(
            new_in(&before, &after),
            vec![
                "error[E0308]: mismatched types (src/lib.rs)",
                "test tests::new failed",
            ]
        );
        assert!(new_in(&after, &before).is_empty());
    }
}
