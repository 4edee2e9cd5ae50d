//! [`GithubIssues`]: the GitHub issue source, for synchronous callers.

use std::future::Future;
use std::sync::Arc;

use ralph_issues::requirements::RequirementId;
use ralph_issues::{
    Draft, Issue, IssueSource, IssueState, Label, LabelChange, RemoteError, SourceError, Spec,
};

use crate::bridge::{Bridge, BridgeError};
use crate::github::Github;
use crate::trust::{ReadyTrust, TrustedComment};

/// GitHub issues as an [`IssueSource`]. Every call runs on the source's
/// own runtime (see [`crate::bridge`]), so it can be called from any
/// thread, inside or outside a tokio runtime.
#[derive(Debug)]
pub struct GithubIssues {
    github: Arc<Github>,
    bridge: Bridge,
}

impl GithubIssues {
    pub fn new(github: Github) -> Result<Self, BridgeError> {
        Ok(GithubIssues {
            github: Arc::new(github),
            bridge: Bridge::new()?,
        })
    }

    /// The async side, for callers that hold a runtime of their own for
    /// the whole run.
    pub fn github(&self) -> &Arc<Github> {
        &self.github
    }

    /// Runs `call` on the source's runtime and waits for it: any async
    /// method of [`Github`] (pull requests, review feedback) from a
    /// synchronous caller.
    pub fn run<T, F, Fut>(&self, call: F) -> Result<T, RemoteError>
    where
        F: FnOnce(Arc<Github>) -> Fut,
        Fut: Future<Output = Result<T, RemoteError>> + Send + 'static,
        T: Send + 'static,
    {
        self.bridge.run(call(Arc::clone(&self.github)))?
    }

    fn source<T, F, Fut>(&self, call: F) -> Result<T, SourceError>
    where
        F: FnOnce(Arc<Github>) -> Fut,
        Fut: Future<Output = Result<T, SourceError>> + Send + 'static,
        T: Send + 'static,
    {
        self.bridge.run(call(Arc::clone(&self.github)))?
    }

    /// Creates Ralph's labels the repository lacks; the ones created.
    pub fn ensure_labels(&self) -> Result<Vec<Label>, RemoteError> {
        self.run(|github| async move { github.ensure_labels().await })
    }

    /// Who added issue `number`'s `ready` label, and whether that counts.
    pub fn ready_trust(&self, number: u64) -> Result<ReadyTrust, RemoteError> {
        self.run(move |github| async move { github.ready_trust(number).await })
    }

    /// Issue `number`'s comments by users with write access.
    pub fn trusted_comments(&self, number: u64) -> Result<Vec<TrustedComment>, RemoteError> {
        self.run(move |github| async move { github.trusted_comments(number).await })
    }
}

impl IssueSource for GithubIssues {
    fn list_open(&self) -> Result<Vec<Issue>, SourceError> {
        self.source(|github| async move { github.list_open_issues().await })
    }

    fn get(&self, number: u64) -> Result<Issue, SourceError> {
        self.source(move |github| async move { github.issue(number).await })
    }

    fn create(&self, draft: &Draft) -> Result<Issue, SourceError> {
        let draft = draft.clone();
        self.source(move |github| async move { github.create_issue(&draft).await })
    }

    fn update_spec(&self, number: u64, spec: &Spec) -> Result<Issue, SourceError> {
        let spec = spec.clone();
        self.source(move |github| async move { github.update_issue_spec(number, &spec).await })
    }

    fn set_labels(&self, number: u64, change: &LabelChange) -> Result<Issue, SourceError> {
        let change = change.clone();
        self.source(move |github| async move { github.set_issue_labels(number, &change).await })
    }

    fn tick_requirements(&self, number: u64, ids: &[RequirementId]) -> Result<Issue, SourceError> {
        let ids = ids.to_vec();
        self.source(move |github| async move { github.tick_issue_requirements(number, &ids).await })
    }

    fn append_note(&self, number: u64, note: &str) -> Result<Issue, SourceError> {
        let note = note.to_owned();
        self.source(move |github| async move { github.comment_on_issue(number, &note).await })
    }

    fn close(&self, number: u64) -> Result<Issue, SourceError> {
        self.source(move |github| async move {
            github.set_issue_state(number, IssueState::Closed).await
        })
    }

    fn reopen(&self, number: u64) -> Result<Issue, SourceError> {
        self.source(
            move |github| async move { github.set_issue_state(number, IssueState::Open).await },
        )
    }

    /// Leaves the issue open: the pull request's `Closes #N` closes it
    /// when it is merged.
    fn finish(&self, number: u64) -> Result<Issue, SourceError> {
        self.get(number)
    }
}
