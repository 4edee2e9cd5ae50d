//! Flags debug leftovers in added lines: `dbg!`, `todo!`, `unimplemented!`
//! fail the check; `TODO`, `FIXME`, `XXX` and `println!` in library code warn.

use ralph_plugin_sdk::{Check, CheckInput, CheckReport, Finding, PluginError, Severity, diff};

struct DebugMarkers;

const FAILING: &[(&str, &str)] = &[
    ("dbg!(", "a dbg!() call"),
    ("todo!(", "a todo!() placeholder"),
    ("unimplemented!(", "an unimplemented!() placeholder"),
];
const WARNING: &[(&str, &str)] = &[
    ("TODO", "a TODO comment"),
    ("FIXME", "a FIXME comment"),
    ("XXX", "an XXX comment"),
];

/// Whether `println!` is expected in this file: binaries, examples, tests.
fn prints_allowed(file: &str) -> bool {
    file.ends_with("main.rs")
        || file.contains("/bin/")
        || file.starts_with("examples/")
        || file.starts_with("tests/")
        || file.contains("/tests/")
}

impl Check for DebugMarkers {
    fn run(input: CheckInput) -> Result<CheckReport, PluginError> {
        let mut findings = Vec::new();
        for added in diff::added_lines(&input.diff) {
            let mut flag = |severity: Severity, what: &str| {
                findings.push(Finding {
                    severity,
                    file: Some(added.file.clone()),
                    line: Some(added.line),
                    message: format!("The change leaves {what}."),
                });
            };
            for (marker, what) in FAILING {
                if added.text.contains(marker) {
                    flag(Severity::Error, what);
                }
            }
            for (marker, what) in WARNING {
                if added.text.contains(marker) {
                    flag(Severity::Warning, what);
                }
            }
            if added.file.ends_with(".rs")
                && !prints_allowed(&added.file)
                && (added.text.contains("println!(") || added.text.contains("eprintln!("))
            {
                flag(Severity::Warning, "a println!() in library code");
            }
        }
        let passed = !findings
            .iter()
            .any(|finding| matches!(finding.severity, Severity::Error));
        Ok(CheckReport {
            passed,
            findings,
            scores: None,
        })
    }
}

ralph_plugin_sdk::export_check!(DebugMarkers);
