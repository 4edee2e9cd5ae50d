//! Where a finished issue's pull request goes (SPEC §7): the one trait both
//! loops publish through. [`PullRequests`] keeps the record in
//! `.ralph/pulls/<N>.md`, which stands in for a pull request; a tracker with
//! pull requests (GitHub) also writes that record, then pushes the branch
//! and opens the pull request.

use std::path::PathBuf;

use crate::pulls::{PullError, PullRequest, PullRequests};
use crate::remote::RemoteError;

/// Where a published pull request went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Published {
    /// The local record.
    pub record: PathBuf,
    /// The pull request on the tracker, when it has pull requests.
    pub pull_request: Option<OpenedPullRequest>,
}

/// A pull request on the tracker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenedPullRequest {
    pub number: u64,
    pub url: String,
    /// Whether this publication opened it (else it was open already).
    pub opened: bool,
}

/// Why a pull request could not be published.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error(transparent)]
    Record(#[from] PullError),
    /// `git push` refused or failed.
    #[error("cannot push `{branch}` to the remote `{remote}`: {message}")]
    Push {
        branch: String,
        remote: String,
        message: String,
    },
    #[error(transparent)]
    Remote(#[from] RemoteError),
}

impl PublishError {
    /// Whether running again later may succeed with nothing changed (a
    /// rate limit past the wait budget, a lost connection).
    pub fn is_resumable(&self) -> bool {
        matches!(self, PublishError::Remote(remote) if remote.is_resumable())
    }
}

/// Publishes the pull request of a finished issue.
pub trait PullRequestPublisher: Send + Sync {
    /// Writes `record` to `.ralph/pulls/<N>.md` and, where the tracker has
    /// pull requests, pushes `record.branch` and opens one (or finds the
    /// one open from that branch).
    fn publish(&self, record: &PullRequest) -> Result<Published, PublishError>;
}

impl PullRequestPublisher for PullRequests {
    fn publish(&self, record: &PullRequest) -> Result<Published, PublishError> {
        Ok(Published {
            record: self.write(record)?,
            pull_request: None,
        })
    }
}
