//! The loops on GitHub (SPEC §7): opening the `github` issue source, and
//! publishing a finished issue's pull request: the local record, the
//! branch pushed to the configured remote, a pull request into the default
//! branch with `Closes #N` and the record, the issue and the pull request
//! assigned to the authenticated user.
//!
//! The push is the user's own `git push` of a branch the host committed;
//! the token is never handed to git, a check or an agent.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ralph_github::{Client, ClientConfig, Github, GithubIssues, Repository};
use ralph_issues::publish::{OpenedPullRequest, PublishError, Published, PullRequestPublisher};
use ralph_issues::pulls::{self, PullRequest, PullRequests};

use crate::issue_source::GithubSettings;
use crate::worktree::git;

/// The most characters GitHub takes in a pull request's body.
const BODY_LIMIT: usize = 65_536;
/// Where GitHub looks for the repository's pull-request template.
pub const TEMPLATE: &str = ".github/pull_request_template.md";

/// Opens the `github` source that `settings` name, with the token from
/// `GITHUB_TOKEN`, `GH_TOKEN` or `gh auth token`.
pub fn open(settings: &GithubSettings) -> Result<Arc<GithubIssues>, String> {
    let repository: Repository = settings
        .repository
        .parse()
        .map_err(|error| format!("issues.repository: {error}"))?;
    let credentials = ralph_github::token::discover().map_err(|error| error.to_string())?;
    let config = ClientConfig::new(&settings.api_url, credentials)
        .map_err(|error| format!("issues.api_url: {error}"))?;
    let client = Client::new(config).map_err(|error| error.to_string())?;
    GithubIssues::new(Github::new(client, repository))
        .map(Arc::new)
        .map_err(|error| error.to_string())
}

/// Publishes pull requests on GitHub, keeping the local record too.
pub struct GithubPublisher {
    pub issues: Arc<GithubIssues>,
    pub records: PullRequests,
    /// The repository's root (its checkout, where `git push` runs).
    pub repository: PathBuf,
    pub remote: String,
}

impl PullRequestPublisher for GithubPublisher {
    fn publish(&self, record: &PullRequest) -> Result<Published, PublishError> {
        let path = self.records.write(record)?;
        push(&self.repository, &self.remote, &record.branch)?;
        let body = body(&self.repository, record);
        let (issue, head, title) = (
            record.issue_number,
            record.branch.clone(),
            record.title.clone(),
        );
        let opened = self.issues.run(move |github| async move {
            let base = github.default_branch().await?;
            let pull = github
                .open_pull_request(&head, &base, &title, &body)
                .await?;
            let login = github.authenticated_user().await?;
            github.assign(issue, &login).await?;
            github.assign(pull.number, &login).await?;
            Ok(pull)
        })?;
        Ok(Published {
            record: path,
            pull_request: Some(OpenedPullRequest {
                number: opened.number,
                url: opened.url,
                opened: opened.opened,
            }),
        })
    }
}

/// Pushes `branch` to `remote` (creating or fast-forwarding it there).
fn push(repository: &Path, remote: &str, branch: &str) -> Result<(), PublishError> {
    let refspec = format!("refs/heads/{branch}:refs/heads/{branch}");
    git(repository, &["push", "--quiet", remote, &refspec], None)
        .map(|_| ())
        .map_err(|error| PublishError::Push {
            branch: branch.to_owned(),
            remote: remote.to_owned(),
            message: error.to_string(),
        })
}

/// The pull request's body: the repository's template when it has one,
/// then the record (its markdown, which says `Closes #N`, and its data).
/// Redacted (it is public) and within GitHub's limit.
pub fn body(repository: &Path, record: &PullRequest) -> String {
    let template = std::fs::read_to_string(repository.join(TEMPLATE))
        .ok()
        .filter(|text| !text.trim().is_empty());
    let mut body = String::new();
    if let Some(template) = template {
        body.push_str(template.trim_end());
        body.push_str("\n\n");
    }
    body.push_str(&pulls::render(record).unwrap_or_else(|_| pulls::markdown(record)));
    let mut body = ralph_secrets::redact(&body);
    if body.chars().count() > BODY_LIMIT {
        let note = format!(
            "\n\n… (cut to GitHub's limit; the whole record is `.ralph/pulls/{}.md`)",
            record.issue_number
        );
        body = body
            .chars()
            .take(BODY_LIMIT - note.chars().count())
            .collect();
        body.push_str(&note);
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(summary: &str) -> PullRequest {
        PullRequest {
            issue_number: 7,
            title: "Add a flag".to_owned(),
            branch: "ralph/7-add-a-flag".to_owned(),
            summary: summary.to_owned(),
            proposals: Vec::new(),
            checks: Vec::new(),
            reviews: Vec::new(),
            changes: None,
            commits: Vec::new(),
            failed_attempts: Vec::new(),
        }
    }

    #[test]
    fn the_body_fills_the_template_and_closes_the_issue() {
        let directory = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(directory.path().join(".github")).expect("mkdir");
        std::fs::write(directory.path().join(TEMPLATE), "## What\n\n## Why\n").expect("template");
        let body = body(directory.path(), &record("adds --flag"));
        assert!(
            body.starts_with("## What\n\n## Why\n\n# Add a flag\n"),
            "{body}"
        );
        assert!(body.contains("Closes #7\n"), "{body}");
        assert!(body.contains("adds --flag"), "{body}");
    }

    #[test]
    fn without_a_template_the_body_is_the_record() {
        let directory = tempfile::tempdir().expect("temp dir");
        let body = body(directory.path(), &record("adds --flag"));
        let record = record("adds --flag");
        assert_eq!(body, pulls::render(&record).expect("render"));
        assert!(body.contains("Closes #7\n") && body.contains("<!-- ralph:pull-request"));
    }

    #[test]
    fn a_body_past_githubs_limit_is_cut() {
        let directory = tempfile::tempdir().expect("temp dir");
        let body = body(directory.path(), &record(&"word ".repeat(20_000)));
        assert!(body.chars().count() <= BODY_LIMIT);
        assert!(body.ends_with("the whole record is `.ralph/pulls/7.md`)"));
    }
}
