//! Answers which Sentry issues are open, biggest first, and what an issue's
//! latest events say; reviews proposals for files that appear in open
//! issues' culprits.
//!
//! Questions take `key=value` settings: `query=` (Sentry search syntax
//! without spaces, default `is:unresolved`), `limit=` (default 10) and
//! `issue=` (an issue's short id such as `WEB-1A`, or its identifier) to
//! read that issue's latest events.

use std::cmp::Reverse;

use ralph_plugin_sdk::sentry::{self, SentryIssue};
use ralph_plugin_sdk::settings::Settings;
use ralph_plugin_sdk::{
    Capability, Finding, IntegrationError, PluginError, Proposal, Severity, Specialist,
};

struct Risk;

/// The query used when none is given.
const DEFAULT_QUERY: &str = "is:unresolved";
/// Issues listed when no limit is given.
const DEFAULT_LIMIT: u32 = 10;
/// Issues a review compares the proposal's files with.
const REVIEW_LIMIT: u32 = 100;
/// Events quoted for one issue.
const EVENTS_SHOWN: u32 = 5;
/// File stems too common to identify a culprit on their own.
const GENERIC_STEMS: &[&str] = &["mod", "lib", "main", "index", "__init__", "utils", "app"];

fn unavailable(error: &IntegrationError) -> String {
    format!(
        "I could not read Sentry ({}): {}",
        error.kind(),
        error.message()
    )
}

fn describe(issue: &SentryIssue) -> String {
    format!(
        "{} ({}, {} events, {} users, last seen {}): {} in {}",
        issue.short_id,
        issue.level,
        issue.count,
        issue.user_count,
        issue.last_seen,
        issue.title,
        issue.culprit
    )
}

fn issues_answer(query: &str, limit: u32) -> String {
    match sentry::issues(Some(query), limit) {
        Err(error) => unavailable(&error),
        Ok(mut issues) if !issues.is_empty() => {
            issues.sort_by_key(|issue| Reverse(issue.count));
            let mut answer = format!(
                "{} issue(s) match `{query}`, most events first:",
                issues.len()
            );
            for issue in &issues {
                answer.push_str(&format!("\n- {}", describe(issue)));
            }
            answer
        }
        Ok(_) => format!("No issues match `{query}`."),
    }
}

/// The identifier of the issue named `wanted` (a short id or an identifier).
fn issue_id(wanted: &str, query: &str) -> Result<String, IntegrationError> {
    let issues = sentry::issues(Some(query), REVIEW_LIMIT)?;
    Ok(issues
        .into_iter()
        .find(|issue| issue.short_id.eq_ignore_ascii_case(wanted))
        .map_or_else(|| wanted.to_owned(), |issue| issue.id))
}

fn events_answer(wanted: &str, query: &str) -> String {
    let events = issue_id(wanted, query).and_then(|id| sentry::latest_events(&id, EVENTS_SHOWN));
    match events {
        Err(error) => unavailable(&error),
        Ok(events) if events.is_empty() => format!("Issue {wanted} has no events."),
        Ok(events) => {
            let mut answer = format!("The latest {} event(s) of {wanted}:", events.len());
            for event in &events {
                answer.push_str(&format!(
                    "\n- {} ({}): {}",
                    event.date, event.platform, event.message
                ));
            }
            answer
        }
    }
}

/// Ways a culprit may name `path`: the path, its module path, its stem.
fn culprit_names(path: &str) -> Vec<String> {
    let mut names = vec![path.to_owned()];
    let without_extension = path.rsplit_once('.').map_or(path, |(stem, _)| stem);
    let module = without_extension
        .strip_prefix("src/")
        .unwrap_or(without_extension);
    if module.contains('/') {
        names.push(module.replace('/', "."));
        names.push(module.replace('/', "::"));
    }
    let stem = module.rsplit('/').next().unwrap_or(module);
    if stem.len() >= 4 && !GENERIC_STEMS.contains(&stem) {
        names.push(stem.to_owned());
    }
    names
}

fn culprits_of<'a>(path: &str, issues: &'a [SentryIssue]) -> Vec<&'a SentryIssue> {
    let names = culprit_names(path);
    issues
        .iter()
        .filter(|issue| {
            names
                .iter()
                .any(|name| issue.culprit.contains(name.as_str()))
        })
        .collect()
}

impl Specialist for Risk {
    fn capabilities() -> &'static [Capability] {
        &[Capability::Sentry]
    }

    fn ask(question: String) -> Result<String, PluginError> {
        let settings = Settings::parse(&question);
        let query = settings.get("query").unwrap_or(DEFAULT_QUERY);
        if let Some(wanted) = settings.get("issue") {
            return Ok(events_answer(wanted, query));
        }
        let limit = settings
            .get("limit")
            .and_then(|limit| limit.parse().ok())
            .unwrap_or(DEFAULT_LIMIT);
        Ok(issues_answer(query, limit))
    }

    fn review(proposal: Proposal) -> Result<Vec<Finding>, PluginError> {
        if proposal.files.is_empty() {
            return Ok(Vec::new());
        }
        let issues = match sentry::issues(Some(DEFAULT_QUERY), REVIEW_LIMIT) {
            Ok(issues) => issues,
            Err(error) => {
                return Ok(vec![Finding {
                    severity: Severity::Info,
                    file: None,
                    line: None,
                    message: format!("Not checked against open issues: {}.", unavailable(&error)),
                }]);
            }
        };
        let mut findings = Vec::new();
        for file in &proposal.files {
            for issue in culprits_of(&file.path, &issues) {
                findings.push(Finding {
                    severity: Severity::Warning,
                    file: Some(file.path.clone()),
                    line: None,
                    message: format!(
                        "Touches code behind open Sentry issue {} ({} events): {}; check the \
                         change does not make it worse.",
                        issue.short_id, issue.count, issue.title
                    ),
                });
            }
        }
        Ok(findings)
    }
}

ralph_plugin_sdk::export_specialist!(Risk);
