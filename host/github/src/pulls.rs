//! Pull requests and their review feedback.
//!
//! GitHub's REST API has no "resolved" flag on review threads (only its
//! GraphQL API has). Here a review comment is **unresolved** while no one
//! of its thread (the comment and the replies whose `in_reply_to_id` is
//! its id) was written by the authenticated user: Ralph answers each
//! comment it addressed, so an answer marks it done. A change-requesting
//! review is unanswered while the pull request has no comment by the
//! authenticated user carrying [`review_marker`] for it. Only feedback by
//! users with write access counts; the authenticated user's own is never
//! feedback.

use std::collections::BTreeMap;

use ralph_issues::RemoteError;
use reqwest::Method;
use serde_json::json;

use crate::github::Github;
use crate::wire::{
    CommentObject, PullObject, RepositoryObject, ReviewCommentObject, ReviewObject, User,
};

/// An open pull request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PullRequest {
    pub number: u64,
    pub url: String,
    pub title: String,
    pub head: String,
    pub base: String,
    /// Whether this call opened it (else it was open already).
    pub opened: bool,
}

/// A review comment still to address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReviewComment {
    pub id: u64,
    pub author: String,
    pub body: String,
    /// The file it is on, and its line when GitHub still knows it.
    pub path: String,
    pub line: Option<u64>,
}

/// A review that requested changes and is still to answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangeRequest {
    pub review_id: u64,
    pub author: String,
    pub body: String,
}

/// A pull request's feedback still to address.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReviewFeedback {
    pub comments: Vec<ReviewComment>,
    pub change_requests: Vec<ChangeRequest>,
}

impl ReviewFeedback {
    pub fn is_empty(&self) -> bool {
        self.comments.is_empty() && self.change_requests.is_empty()
    }
}

/// The hidden line that marks a pull-request comment as the answer to
/// review `review_id`.
pub fn review_marker(review_id: u64) -> String {
    format!("<!-- ralph: answers review {review_id} -->")
}

impl Github {
    /// The login of the token's user (asked once).
    pub async fn authenticated_user(&self) -> Result<String, RemoteError> {
        if let Some(login) = Github::lock(&self.login).clone() {
            return Ok(login);
        }
        let user: User = self
            .client()
            .get(&["user"], &[], "the authenticated user")
            .await?;
        *Github::lock(&self.login) = Some(user.login.clone());
        Ok(user.login)
    }

    /// The repository's default branch.
    pub async fn default_branch(&self) -> Result<String, RemoteError> {
        let repository: RepositoryObject = self
            .client()
            .get(&self.repo_path(&[]), &[], &self.repository_subject())
            .await?;
        Ok(repository.default_branch)
    }

    /// The pull request open from `head` (a branch of this repository),
    /// if there is one.
    pub async fn open_pull_request_from(
        &self,
        head: &str,
    ) -> Result<Option<PullRequest>, RemoteError> {
        let qualified_head = format!("{}:{head}", self.repository().owner);
        let subject = format!("the pull requests of {}", self.repository());
        let open: Vec<PullObject> = self
            .client()
            .get_all(
                &self.repo_path(&["pulls"]),
                &[("state", "open"), ("head", &qualified_head)],
                &subject,
            )
            .await
            .map_err(|error| self.fail_repository(error))?;
        Ok(open
            .into_iter()
            .find(|pull| pull.head.name == head)
            .map(|existing| pull_request(existing, false)))
    }

    /// Opens a pull request from `head` (a branch of this repository) into
    /// `base`, or returns the one already open from `head`.
    pub async fn open_pull_request(
        &self,
        head: &str,
        base: &str,
        title: &str,
        body: &str,
    ) -> Result<PullRequest, RemoteError> {
        if let Some(existing) = self.open_pull_request_from(head).await? {
            return Ok(existing);
        }
        let request = json!({
            "title": self.client().redact(title),
            "head": head,
            "base": base,
            "body": self.client().redact(body),
        });
        let subject = format!(
            "a pull request from `{head}` into `{base}` in {}",
            self.repository()
        );
        let created: PullObject = self
            .client()
            .send(
                Method::POST,
                &self.repo_path(&["pulls"]),
                Some(&request),
                &subject,
            )
            .await?;
        Ok(pull_request(created, true))
    }

    /// Assigns `login` to issue or pull request `number`.
    pub async fn assign(&self, number: u64, login: &str) -> Result<(), RemoteError> {
        let number_text = number.to_string();
        let body = json!({ "assignees": [login] });
        let result = self
            .client()
            .send::<serde_json::Value>(
                Method::POST,
                &self.repo_path(&["issues", &number_text, "assignees"]),
                Some(&body),
                &self.issue_subject(number),
            )
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(error) => Err(self.explain_not_found(error).await),
        }
    }

    /// The pull request's unresolved review comments and unanswered
    /// change-requesting reviews by users with write access (see the
    /// module's documentation for what "unresolved" means here).
    pub async fn review_feedback(&self, pull: u64) -> Result<ReviewFeedback, RemoteError> {
        let me = self.authenticated_user().await?;
        let number = pull.to_string();
        let subject = self.pull_subject(pull);
        let comments: Vec<ReviewCommentObject> = self
            .client()
            .get_all(
                &self.repo_path(&["pulls", &number, "comments"]),
                &[],
                &subject,
            )
            .await
            .map_err(|error| self.fail_pull(error, pull))?;
        let reviews: Vec<ReviewObject> = self
            .client()
            .get_all(
                &self.repo_path(&["pulls", &number, "reviews"]),
                &[],
                &subject,
            )
            .await?;
        let answers: Vec<CommentObject> = self
            .client()
            .get_all(
                &self.repo_path(&["issues", &number, "comments"]),
                &[],
                &subject,
            )
            .await?;
        let mut feedback = ReviewFeedback::default();
        for comment in unanswered_threads(&comments, &me) {
            let author = login(comment.user.as_ref());
            if !author.is_empty() && self.permission(&author).await?.can_write() {
                feedback.comments.push(ReviewComment {
                    id: comment.id,
                    author,
                    body: comment.body.clone(),
                    path: comment.path.clone(),
                    line: comment.line,
                });
            }
        }
        for review in reviews
            .iter()
            .filter(|review| review.state == "CHANGES_REQUESTED")
        {
            let author = login(review.user.as_ref());
            if author.is_empty() || author == me || answered(&answers, &me, review.id) {
                continue;
            }
            if self.permission(&author).await?.can_write() {
                feedback.change_requests.push(ChangeRequest {
                    review_id: review.id,
                    author,
                    body: review.body.clone().unwrap_or_default(),
                });
            }
        }
        Ok(feedback)
    }

    /// Replies to review comment `comment_id` in its thread.
    pub async fn answer_review_comment(
        &self,
        pull: u64,
        comment_id: u64,
        text: &str,
    ) -> Result<u64, RemoteError> {
        let number = pull.to_string();
        let comment = comment_id.to_string();
        let body = json!({ "body": self.client().redact(text) });
        let subject = format!("review comment {comment_id} on {}", self.pull_subject(pull));
        let reply: ReviewCommentObject = self
            .client()
            .send(
                Method::POST,
                &self.repo_path(&["pulls", &number, "comments", &comment, "replies"]),
                Some(&body),
                &subject,
            )
            .await?;
        Ok(reply.id)
    }

    /// Answers change-requesting review `review_id` with a comment on the
    /// pull request (REST cannot reply to a review itself), marked with
    /// [`review_marker`].
    pub async fn answer_review(
        &self,
        pull: u64,
        review_id: u64,
        text: &str,
    ) -> Result<u64, RemoteError> {
        let text = format!("{}\n\n{}", text.trim_end(), review_marker(review_id));
        self.add_comment(pull, &text).await
    }

    fn fail_pull(&self, error: RemoteError, pull: u64) -> RemoteError {
        match error {
            RemoteError::NotFound { service, .. } => RemoteError::NotFound {
                service,
                what: self.pull_subject(pull),
            },
            other => other,
        }
    }
}

/// The first comment of each thread in which `me` wrote nothing, unless
/// `me` started it.
fn unanswered_threads<'a>(
    comments: &'a [ReviewCommentObject],
    me: &str,
) -> Vec<&'a ReviewCommentObject> {
    let mut threads: BTreeMap<u64, (Option<&ReviewCommentObject>, bool)> = BTreeMap::new();
    for comment in comments {
        let root = comment.in_reply_to_id.unwrap_or(comment.id);
        let thread = threads.entry(root).or_insert((None, false));
        if comment.in_reply_to_id.is_none() {
            thread.0 = Some(comment);
        }
        if login(comment.user.as_ref()) == me {
            thread.1 = true;
        }
    }
    threads
        .into_values()
        .filter_map(|(root, answered)| root.filter(|_| !answered))
        .collect()
}

fn answered(answers: &[CommentObject], me: &str, review_id: u64) -> bool {
    let marker = review_marker(review_id);
    answers.iter().any(|answer| {
        login(answer.user.as_ref()) == me
            && answer
                .body
                .as_deref()
                .is_some_and(|body| body.contains(&marker))
    })
}

fn login(user: Option<&User>) -> String {
    user.map(|user| user.login.clone()).unwrap_or_default()
}

fn pull_request(object: PullObject, opened: bool) -> PullRequest {
    PullRequest {
        number: object.number,
        url: object.html_url,
        title: object.title,
        head: object.head.name,
        base: object.base.name,
        opened,
    }
}
