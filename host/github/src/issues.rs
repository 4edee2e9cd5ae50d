//! The issue operations on [`Github`]: GitHub issues as Ralph's
//! [`Issue`]s.
//!
//! Pull requests are not issues here (GitHub lists them among issues with
//! a `pull_request` key; they are skipped). An issue's labels are Ralph's
//! six; other labels stay on GitHub and are ignored. A note is a comment.

use std::collections::BTreeSet;

use ralph_issues::issue::check_title;
use ralph_issues::requirements::{self, RequirementId};
use ralph_issues::{Draft, Issue, IssueState, Label, LabelChange, RemoteError, SourceError, Spec};
use reqwest::Method;
use serde_json::{Value, json};

use crate::github::Github;
use crate::wire::{CommentObject, IssueObject, LabelObject};

impl Github {
    /// The open issues, by number.
    pub async fn list_open_issues(&self) -> Result<Vec<Issue>, SourceError> {
        let subject = format!("the open issues of {}", self.repository());
        let objects: Vec<IssueObject> = self
            .client()
            .get_all(&self.repo_path(&["issues"]), &[("state", "open")], &subject)
            .await
            .map_err(|error| self.fail_repository(error))?;
        let mut issues = objects
            .into_iter()
            .filter(|object| object.pull_request.is_none())
            .map(|object| self.to_issue(object))
            .collect::<Result<Vec<_>, _>>()?;
        issues.sort_by_key(|issue| issue.number);
        Ok(issues)
    }

    /// One issue, open or closed; a pull request's number is not found.
    pub async fn issue(&self, number: u64) -> Result<Issue, SourceError> {
        let object = self.issue_object(number).await?;
        if object.pull_request.is_some() {
            return Err(RemoteError::NotFound {
                service: crate::failure::SERVICE.to_owned(),
                what: format!(
                    "{} (#{number} is a pull request, not an issue)",
                    self.issue_subject(number)
                ),
            }
            .into());
        }
        self.to_issue(object)
    }

    async fn issue_object(&self, number: u64) -> Result<IssueObject, RemoteError> {
        let number_text = number.to_string();
        let result = self
            .client()
            .get(
                &self.repo_path(&["issues", &number_text]),
                &[],
                &self.issue_subject(number),
            )
            .await;
        match result {
            Ok(object) => Ok(object),
            Err(error) => Err(self.explain_not_found(error).await),
        }
    }

    pub async fn create_issue(&self, draft: &Draft) -> Result<Issue, SourceError> {
        check_title(&draft.title).map_err(|source| SourceError::Title {
            number: None,
            source,
        })?;
        let labels: Vec<&str> = draft
            .labels
            .iter()
            .map(|label| label.as_str())
            .chain(draft.tags.iter().map(String::as_str))
            .collect();
        let body = json!({
            "title": self.client().redact(&draft.title),
            "body": self.client().redact(&draft.body),
            "labels": labels,
        });
        let subject = format!("a new issue in {}", self.repository());
        let object: IssueObject = self
            .client()
            .send(
                Method::POST,
                &self.repo_path(&["issues"]),
                Some(&body),
                &subject,
            )
            .await
            .map_err(|error| self.fail_repository(error))?;
        self.to_issue(object)
    }

    pub async fn update_issue_spec(&self, number: u64, spec: &Spec) -> Result<Issue, SourceError> {
        check_title(&spec.title).map_err(|source| SourceError::Title {
            number: Some(number),
            source,
        })?;
        self.issue(number).await?;
        let body = json!({
            "title": self.client().redact(&spec.title),
            "body": self.client().redact(&spec.body),
        });
        self.patch_issue(number, &body).await
    }

    /// Adds the labels of `change.add` the issue lacks (`POST …/labels`),
    /// then removes each of `change.remove` it has (`DELETE
    /// …/labels/{name}`). Other labels are left alone. GitHub has no
    /// request that does both at once, so the order is the one a stop in
    /// between leaves resumable: a failed addition changes nothing, and a
    /// failed removal leaves a label too many (`ready` next to
    /// `in-progress`), never an issue with neither.
    pub async fn set_issue_labels(
        &self,
        number: u64,
        change: &LabelChange,
    ) -> Result<Issue, SourceError> {
        let before = self.issue(number).await?;
        let number_text = number.to_string();
        let subject = self.issue_subject(number);
        let missing: Vec<&str> = change
            .add
            .difference(&before.labels)
            .map(|label| label.as_str())
            .collect();
        if !missing.is_empty() {
            let path = self.repo_path(&["issues", &number_text, "labels"]);
            self.client()
                .send::<Value>(
                    Method::POST,
                    &path,
                    Some(&json!({ "labels": missing })),
                    &subject,
                )
                .await?;
        }
        for label in change
            .remove
            .intersection(&before.labels)
            .filter(|label| !change.add.contains(label))
        {
            let path = self.repo_path(&["issues", &number_text, "labels", label.as_str()]);
            self.client()
                .send::<Value>(Method::DELETE, &path, None, &subject)
                .await?;
        }
        self.issue(number).await
    }

    /// Re-reads the issue and ticks the boxes in its body as it is now:
    /// only their bytes change. A box whose text is gone (someone edited
    /// it) is an error and nothing is written.
    pub async fn tick_issue_requirements(
        &self,
        number: u64,
        ids: &[RequirementId],
    ) -> Result<Issue, SourceError> {
        let current = self.issue(number).await?;
        let body = requirements::tick(&current.body, ids)
            .map_err(|source| SourceError::Tick { number, source })?;
        if body == current.body {
            return Ok(current);
        }
        self.patch_issue(number, &json!({ "body": body })).await
    }

    /// A comment on the issue; secrets the host knows are redacted.
    pub async fn comment_on_issue(&self, number: u64, note: &str) -> Result<Issue, SourceError> {
        if note.trim().is_empty() {
            return Err(SourceError::EmptyNote { number });
        }
        self.add_comment(number, note).await?;
        self.issue(number).await
    }

    /// A comment on an issue or a pull request (redacted), its id.
    pub async fn add_comment(&self, number: u64, text: &str) -> Result<u64, RemoteError> {
        let number_text = number.to_string();
        let body = json!({ "body": self.client().redact(text) });
        let result: Result<CommentObject, RemoteError> = self
            .client()
            .send(
                Method::POST,
                &self.repo_path(&["issues", &number_text, "comments"]),
                Some(&body),
                &self.issue_subject(number),
            )
            .await;
        match result {
            Ok(comment) => Ok(comment.id),
            Err(error) => Err(self.explain_not_found(error).await),
        }
    }

    pub async fn set_issue_state(
        &self,
        number: u64,
        state: IssueState,
    ) -> Result<Issue, SourceError> {
        self.issue(number).await?;
        self.patch_issue(number, &json!({ "state": state.as_str() }))
            .await
    }

    async fn patch_issue(&self, number: u64, body: &Value) -> Result<Issue, SourceError> {
        let number_text = number.to_string();
        let object: IssueObject = self
            .client()
            .send(
                Method::PATCH,
                &self.repo_path(&["issues", &number_text]),
                Some(body),
                &self.issue_subject(number),
            )
            .await?;
        self.to_issue(object)
    }

    fn to_issue(&self, object: IssueObject) -> Result<Issue, SourceError> {
        let state = match object.state.as_str() {
            "open" => IssueState::Open,
            "closed" => IssueState::Closed,
            other => {
                return Err(RemoteError::Unexpected {
                    method: "GET".to_owned(),
                    path: format!("/repos/{}/issues/{}", self.repository(), object.number),
                    message: format!("unknown issue state `{other}`"),
                }
                .into());
            }
        };
        Ok(Issue {
            number: object.number,
            title: object.title,
            labels: ralph_labels(&object.labels),
            tags: object
                .labels
                .iter()
                .map(|label| label.name.clone())
                .filter(|name| ralph_issues::is_tag(name))
                .collect(),
            state,
            body: object.body.unwrap_or_default(),
        })
    }
}

/// Ralph's labels among GitHub's; the others are ignored.
pub(crate) fn ralph_labels(labels: &[LabelObject]) -> BTreeSet<Label> {
    labels
        .iter()
        .filter_map(|label| label.name.parse().ok())
        .collect()
}
