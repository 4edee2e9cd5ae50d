//! [`Github`]: one repository on GitHub, through one [`Client`].

use std::collections::HashMap;
use std::sync::Mutex;

use ralph_issues::RemoteError;

use crate::client::{Client, ClientConfig, ClientSetupError};
use crate::repository::Repository;
use crate::trust::Permission;

/// One repository on GitHub. Its methods are async; [`crate::GithubIssues`]
/// offers them to synchronous callers.
#[derive(Debug)]
pub struct Github {
    client: Client,
    repository: Repository,
    /// Each login's permission, asked once.
    pub(crate) permissions: Mutex<HashMap<String, Permission>>,
    /// The authenticated user's login, asked once.
    pub(crate) login: Mutex<Option<String>>,
}

impl Github {
    pub fn new(client: Client, repository: Repository) -> Self {
        Github {
            client,
            repository,
            permissions: Mutex::new(HashMap::new()),
            login: Mutex::new(None),
        }
    }

    /// A client with `config` on `repository`.
    pub fn connect(config: ClientConfig, repository: Repository) -> Result<Self, ClientSetupError> {
        Ok(Github::new(Client::new(config)?, repository))
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn repository(&self) -> &Repository {
        &self.repository
    }

    /// The path segments of `/repos/{owner}/{repo}` followed by `rest`.
    pub(crate) fn repo_path<'a>(&'a self, rest: &[&'a str]) -> Vec<&'a str> {
        let mut segments = vec![
            "repos",
            self.repository.owner.as_str(),
            self.repository.name.as_str(),
        ];
        segments.extend_from_slice(rest);
        segments
    }

    /// "repository octo/hello", for messages.
    pub(crate) fn repository_subject(&self) -> String {
        format!("repository {}", self.repository)
    }

    /// "issue #5 in octo/hello", for messages.
    pub(crate) fn issue_subject(&self, number: u64) -> String {
        format!("issue #{number} in {}", self.repository)
    }

    /// "pull request #5 in octo/hello", for messages.
    pub(crate) fn pull_subject(&self, number: u64) -> String {
        format!("pull request #{number} in {}", self.repository)
    }

    /// A 404 on something inside the repository names the repository
    /// when it is the repository that is missing (or hidden from the
    /// token), and the thing asked for otherwise.
    pub(crate) async fn explain_not_found(&self, error: RemoteError) -> RemoteError {
        if !matches!(error, RemoteError::NotFound { .. }) {
            return error;
        }
        let subject = self.repository_subject();
        match self
            .client
            .get::<serde_json::Value>(&self.repo_path(&[]), &[], &subject)
            .await
        {
            Err(missing @ RemoteError::NotFound { .. }) => missing,
            _ => error,
        }
    }

    /// A 404 on a repository-wide request names the repository.
    pub(crate) fn fail_repository(&self, error: RemoteError) -> RemoteError {
        match error {
            RemoteError::NotFound { service, .. } => RemoteError::NotFound {
                service,
                what: self.repository_subject(),
            },
            other => other,
        }
    }

    pub(crate) fn lock<'a, T>(mutex: &'a Mutex<T>) -> std::sync::MutexGuard<'a, T> {
        mutex
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
