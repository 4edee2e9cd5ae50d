//! Answers from the repository's own Rust conventions: its `Cargo.toml`
//! lints and dependencies, its test layout, and its style guide if any.

use ralph_plugin_sdk::{Capability, Finding, PluginError, Proposal, Severity, Specialist, host};

struct RustConventions;

/// The line budget a source file should stay under.
const FILE_LINES: u32 = 800;

fn manifest() -> String {
    host::read_file("Cargo.toml").unwrap_or_default()
}

fn test_layout() -> String {
    let top = host::list_files("").unwrap_or_default();
    if top.iter().any(|entry| entry == "tests/") {
        "Integration tests live in tests/; unit tests sit in a `tests` module at the end of each file.".to_owned()
    } else {
        "Unit tests sit in a `tests` module at the end of each file; add tests/ for integration tests.".to_owned()
    }
}

fn error_handling(manifest: &str) -> String {
    match (manifest.contains("thiserror"), manifest.contains("anyhow")) {
        (true, true) => "Use thiserror types in libraries where callers branch, anyhow with context at the edges.",
        (true, false) => "Use thiserror error enums.",
        (false, true) => "Use anyhow with context.",
        (false, false) => "Return Result with a dedicated error type; never unwrap input you do not control.",
    }
    .to_owned()
}

fn lints(manifest: &str) -> String {
    let mut rules = Vec::new();
    if manifest.contains("unsafe_code") {
        rules.push("unsafe code is denied");
    }
    if manifest.contains("unwrap_used") {
        rules.push("clippy warns on unwrap()");
    }
    if rules.is_empty() {
        "Keep `cargo fmt` and `cargo clippy -- -D warnings` clean.".to_owned()
    } else {
        format!("Workspace lints: {}.", rules.join(", "))
    }
}

impl Specialist for RustConventions {
    fn capabilities() -> &'static [Capability] {
        &[Capability::Repository]
    }

    fn ask(question: String) -> Result<String, PluginError> {
        let question = question.to_lowercase();
        let manifest = manifest();
        let mut answer = Vec::new();
        if question.contains("test") {
            answer.push(test_layout());
        }
        if question.contains("error") || question.contains("unwrap") {
            answer.push(error_handling(&manifest));
        }
        if question.contains("lint") || question.contains("style") || answer.is_empty() {
            answer.push(lints(&manifest));
            answer.push(format!(
                "Files stay under about {FILE_LINES} lines and functions under about 80."
            ));
        }
        Ok(answer.join(" "))
    }

    fn review(proposal: Proposal) -> Result<Vec<Finding>, PluginError> {
        let mut findings = Vec::new();
        if proposal.planned_tests.is_empty() {
            findings.push(Finding {
                severity: Severity::Warning,
                file: None,
                line: None,
                message: "The proposal plans no tests; every rule needs one.".to_owned(),
            });
        }
        for file in &proposal.files {
            if file.estimated_lines > FILE_LINES {
                findings.push(Finding {
                    severity: Severity::Warning,
                    file: Some(file.path.clone()),
                    line: None,
                    message: format!(
                        "About {} lines in one file; split it into modules named after concepts.",
                        file.estimated_lines
                    ),
                });
            }
        }
        if let Some(patch) = &proposal.patch {
            for (marker, message) in [
                (
                    ".unwrap()",
                    "The patch adds unwrap(); handle the error instead.",
                ),
                ("todo!(", "The patch leaves a todo!()."),
                ("unimplemented!(", "The patch leaves an unimplemented!()."),
            ] {
                if patch
                    .lines()
                    .any(|line| line.starts_with('+') && line.contains(marker))
                {
                    findings.push(Finding {
                        severity: Severity::Warning,
                        file: None,
                        line: None,
                        message: message.to_owned(),
                    });
                }
            }
        }
        Ok(findings)
    }
}

ralph_plugin_sdk::export_specialist!(RustConventions);
