//! Fails a change that is too large or too broad to review well.

use ralph_plugin_sdk::{
    Check, CheckInput, CheckReport, Finding, PluginError, Severity, diff, neutral_scores,
};

struct DiffSize;

/// Changed lines above which a change fails.
const MAX_LINES: usize = 1000;
/// Changed files above which a change fails.
const MAX_FILES: usize = 25;

impl Check for DiffSize {
    fn run(input: CheckInput) -> Result<CheckReport, PluginError> {
        let stats = diff::stats(&input.diff);
        let files = stats.files.max(input.changed_files.len());
        let lines = stats.added + stats.removed;
        let mut findings = Vec::new();
        if lines > MAX_LINES {
            findings.push(Finding {
                severity: Severity::Error,
                file: None,
                line: None,
                message: format!(
                    "The change has {lines} changed lines, more than {MAX_LINES}; split it."
                ),
            });
        }
        if files > MAX_FILES {
            findings.push(Finding {
                severity: Severity::Error,
                file: None,
                line: None,
                message: format!(
                    "The change touches {files} files, more than {MAX_FILES}; split it."
                ),
            });
        }
        findings.push(Finding {
            severity: Severity::Info,
            file: None,
            line: None,
            message: format!(
                "{files} file(s), +{} -{} lines.",
                stats.added, stats.removed
            ),
        });
        let mut scores = neutral_scores();
        // Smaller changes are more efficient; 0 lines scores 1.0, the cap 0.0.
        let ratio = lines.min(MAX_LINES) as f32 / MAX_LINES as f32;
        scores.efficiency = 1.0 - ratio;
        scores.risk = 1.0 - ratio;
        Ok(CheckReport {
            passed: lines <= MAX_LINES && files <= MAX_FILES,
            findings,
            scores: Some(scores),
        })
    }
}

ralph_plugin_sdk::export_check!(DiffSize);
