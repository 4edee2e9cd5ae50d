//! Answers what a change touches: which of the named files exist, how large
//! they are, and whether they are sensitive (manifests, CI, state).

use ralph_plugin_sdk::{Capability, Finding, PluginError, Proposal, Severity, Specialist, host};

struct ChangeRisk;

/// Paths whose change affects everyone.
const SENSITIVE: &[&str] = &[
    "Cargo.toml",
    "Cargo.lock",
    ".github/",
    ".ralph/",
    "build.rs",
    "wit/",
];
/// More files than this in one proposal is a broad change.
const BROAD_FILES: usize = 8;
/// More estimated lines than this is a large change.
const LARGE_LINES: u32 = 500;

fn sensitive(path: &str) -> bool {
    SENSITIVE
        .iter()
        .any(|marker| path == *marker || path.starts_with(marker) || path.ends_with(marker))
}

/// What the repository says about one path.
fn describe(path: &str) -> String {
    match host::read_file(path) {
        Ok(text) => {
            let lines = text.lines().count();
            let note = if sensitive(path) { ", sensitive" } else { "" };
            format!("{path}: exists, {lines} lines{note}")
        }
        Err(_) => format!("{path}: new file"),
    }
}

impl Specialist for ChangeRisk {
    fn capabilities() -> &'static [Capability] {
        &[Capability::Repository]
    }

    fn ask(question: String) -> Result<String, PluginError> {
        let paths: Vec<&str> = question
            .split(|character: char| character.is_whitespace() || "`'\",;()".contains(character))
            .filter(|word| word.contains('/') || word.contains('.'))
            .filter(|word| !word.starts_with('/') && !word.contains(".."))
            .map(|word| word.trim_end_matches(['.', ':', '?']))
            .filter(|word| !word.is_empty())
            .collect();
        if paths.is_empty() {
            return Ok(
                "Name the files the change touches and I will say what they are.".to_owned(),
            );
        }
        Ok(paths
            .into_iter()
            .map(describe)
            .collect::<Vec<_>>()
            .join("; "))
    }

    fn review(proposal: Proposal) -> Result<Vec<Finding>, PluginError> {
        let mut findings = Vec::new();
        for file in proposal.files.iter().filter(|file| sensitive(&file.path)) {
            findings.push(Finding {
                severity: Severity::Warning,
                file: Some(file.path.clone()),
                line: None,
                message: "Touches a file that affects every build or the shared state.".to_owned(),
            });
        }
        if proposal.files.len() > BROAD_FILES {
            findings.push(Finding {
                severity: Severity::Warning,
                file: None,
                line: None,
                message: format!(
                    "Touches {} files; a broad change is hard to review.",
                    proposal.files.len()
                ),
            });
        }
        let total: u32 = proposal.files.iter().map(|file| file.estimated_lines).sum();
        if total > LARGE_LINES {
            findings.push(Finding {
                severity: Severity::Warning,
                file: None,
                line: None,
                message: format!("About {total} lines; consider splitting the change."),
            });
        }
        if findings.is_empty() {
            findings.push(Finding {
                severity: Severity::Info,
                file: None,
                line: None,
                message: format!(
                    "Low risk: {} file(s), about {total} lines.",
                    proposal.files.len()
                ),
            });
        }
        Ok(findings)
    }
}

ralph_plugin_sdk::export_specialist!(ChangeRisk);
