//! Fails a change that adds credentials: private keys, cloud and service
//! tokens, or passwords assigned to literals.

use ralph_plugin_sdk::{Check, CheckInput, CheckReport, Finding, PluginError, Severity, diff};

struct Secrets;

/// Whether `text` has `prefix` followed by at least `length` token characters.
fn has_token(text: &str, prefix: &str, length: usize) -> bool {
    text.match_indices(prefix).any(|(start, _)| {
        text[start + prefix.len()..]
            .chars()
            .take_while(|character| {
                character.is_ascii_alphanumeric() || *character == '_' || *character == '-'
            })
            .count()
            >= length
    })
}

/// The kind of secret on the line, if any.
fn secret_kind(text: &str) -> Option<&'static str> {
    let lower = text.to_lowercase();
    if text.contains("-----BEGIN") && text.contains("PRIVATE KEY") {
        return Some("a private key");
    }
    if has_token(text, "AKIA", 16) || has_token(text, "ASIA", 16) {
        return Some("an AWS access key id");
    }
    if has_token(text, "ghp_", 30) || has_token(text, "github_pat_", 30) {
        return Some("a GitHub token");
    }
    if has_token(text, "xoxb-", 20) || has_token(text, "xoxp-", 20) {
        return Some("a Slack token");
    }
    if has_token(text, "sk-", 32) {
        return Some("an API secret key");
    }
    let assigns_literal = |name: &str| {
        lower.match_indices(name).any(|(start, _)| {
            let rest = lower[start + name.len()..].trim_start_matches(|character: char| {
                character.is_ascii_alphanumeric() || character == '_'
            });
            let rest = rest.trim_start();
            (rest.starts_with('=') || rest.starts_with(':'))
                && rest[1..].trim_start().starts_with(['"', '\''])
                && rest[1..].trim().len() > 8
        })
    };
    if assigns_literal("password") || assigns_literal("secret") || assigns_literal("api_key") {
        return Some("a credential assigned to a literal");
    }
    None
}

impl Check for Secrets {
    fn run(input: CheckInput) -> Result<CheckReport, PluginError> {
        let findings: Vec<Finding> = diff::added_lines(&input.diff)
            .into_iter()
            .filter_map(|added| {
                secret_kind(&added.text).map(|kind| Finding {
                    severity: Severity::Error,
                    file: Some(added.file),
                    line: Some(added.line),
                    message: format!("The change adds {kind}; remove it and rotate the secret."),
                })
            })
            .collect();
        Ok(CheckReport {
            passed: findings.is_empty(),
            findings,
            scores: None,
        })
    }
}

ralph_plugin_sdk::export_check!(Secrets);
