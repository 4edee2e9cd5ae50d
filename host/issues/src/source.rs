//! Where issues come from: the one trait the loop and the commands use.
//!
//! Local issue files ([`crate::local::LocalIssues`]) are the default; a
//! GitHub source implements the same trait. Nothing outside an
//! implementation may assume where issues are kept.

use std::collections::BTreeSet;
use std::io;
use std::path::PathBuf;

use crate::issue::{InvalidTitle, Issue, Label};
use crate::issue_file::Problem;
use crate::remote::RemoteError;
use crate::requirements::{RequirementId, TickError};

/// Everything the loop needs from an issue tracker.
///
/// Every method that changes an issue returns the issue as it is afterwards.
/// A change either happens whole or not at all. The trait is object safe:
/// the loop holds a `Box<dyn IssueSource>` chosen from the config.
pub trait IssueSource: Send + Sync {
    /// Where issue `number` lives, for messages: its file relative to the
    /// repository, or the tracker's name for it (`OWNER/NAME#N`).
    fn location(&self, number: u64) -> String {
        format!("issue #{number}")
    }

    /// The open issues, by number.
    fn list_open(&self) -> Result<Vec<Issue>, SourceError>;

    /// One issue, open or closed.
    fn get(&self, number: u64) -> Result<Issue, SourceError>;

    /// Refuses issue `number` when its `ready` label was added by someone
    /// the tracker does not trust to hand work to the loop (on GitHub: a
    /// user without write access), naming them. Whoever can write a local
    /// issue file is trusted.
    fn check_ready(&self, number: u64) -> Result<(), SourceError> {
        let _ = number;
        Ok(())
    }

    /// A new, open issue under a number no issue had before.
    fn create(&self, draft: &Draft) -> Result<Issue, SourceError>;

    /// Replaces an issue's title and body; labels and state stay.
    fn update_spec(&self, number: u64, spec: &Spec) -> Result<Issue, SourceError>;

    /// Removes `change.remove`, then adds `change.add`.
    fn set_labels(&self, number: u64, change: &LabelChange) -> Result<Issue, SourceError>;

    /// Ticks the checkboxes with these ids (see
    /// [`crate::requirements::tick`]); every other byte of the body stays.
    fn tick_requirements(&self, number: u64, ids: &[RequirementId]) -> Result<Issue, SourceError>;

    /// Adds a note at the end of the issue (on GitHub: a comment), e.g. why
    /// the loop stopped. The note must not be empty.
    fn append_note(&self, number: u64, note: &str) -> Result<Issue, SourceError>;

    /// Marks the issue closed.
    fn close(&self, number: u64) -> Result<Issue, SourceError>;

    /// Marks the issue open again.
    fn reopen(&self, number: u64) -> Result<Issue, SourceError>;

    /// The loop finished the issue: every checkbox is ticked and its work
    /// is on the branch. A local issue is closed (its pull-request record
    /// stands in for the pull request); a tracker whose pull requests close
    /// issues when merged overrides this to leave it open until then.
    fn finish(&self, number: u64) -> Result<Issue, SourceError> {
        self.close(number)
    }
}

/// A shared source is a source: the loop holds one handle, and what only
/// one tracker offers (GitHub's labels, review feedback) uses another.
impl<T: IssueSource + ?Sized> IssueSource for std::sync::Arc<T> {
    fn location(&self, number: u64) -> String {
        (**self).location(number)
    }
    fn check_ready(&self, number: u64) -> Result<(), SourceError> {
        (**self).check_ready(number)
    }
    fn list_open(&self) -> Result<Vec<Issue>, SourceError> {
        (**self).list_open()
    }
    fn get(&self, number: u64) -> Result<Issue, SourceError> {
        (**self).get(number)
    }
    fn create(&self, draft: &Draft) -> Result<Issue, SourceError> {
        (**self).create(draft)
    }
    fn update_spec(&self, number: u64, spec: &Spec) -> Result<Issue, SourceError> {
        (**self).update_spec(number, spec)
    }
    fn set_labels(&self, number: u64, change: &LabelChange) -> Result<Issue, SourceError> {
        (**self).set_labels(number, change)
    }
    fn tick_requirements(&self, number: u64, ids: &[RequirementId]) -> Result<Issue, SourceError> {
        (**self).tick_requirements(number, ids)
    }
    fn append_note(&self, number: u64, note: &str) -> Result<Issue, SourceError> {
        (**self).append_note(number, note)
    }
    fn close(&self, number: u64) -> Result<Issue, SourceError> {
        (**self).close(number)
    }
    fn reopen(&self, number: u64) -> Result<Issue, SourceError> {
        (**self).reopen(number)
    }
    fn finish(&self, number: u64) -> Result<Issue, SourceError> {
        (**self).finish(number)
    }
}

/// What a new issue starts with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Draft {
    pub title: String,
    pub labels: BTreeSet<Label>,
    /// Labels a person sets for Ralph to read (`type:<name>`, `complex`).
    pub tags: BTreeSet<String>,
    pub body: String,
}

/// An issue's spec: its title and body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spec {
    pub title: String,
    pub body: String,
}

/// Labels to remove and labels to add, in that order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LabelChange {
    pub add: BTreeSet<Label>,
    pub remove: BTreeSet<Label>,
}

impl LabelChange {
    pub fn add(labels: impl IntoIterator<Item = Label>) -> Self {
        LabelChange {
            add: labels.into_iter().collect(),
            remove: BTreeSet::new(),
        }
    }

    pub fn removing(mut self, labels: impl IntoIterator<Item = Label>) -> Self {
        self.remove.extend(labels);
        self
    }

    /// The change that turns `from` into `to`.
    pub fn between(from: &BTreeSet<Label>, to: &BTreeSet<Label>) -> Self {
        LabelChange {
            add: to.difference(from).copied().collect(),
            remove: from.difference(to).copied().collect(),
        }
    }

    /// `labels` after this change.
    pub fn apply(&self, labels: &BTreeSet<Label>) -> BTreeSet<Label> {
        labels
            .difference(&self.remove)
            .chain(&self.add)
            .copied()
            .collect()
    }
}

/// A failure of an issue source, naming the issue and where it is kept.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    #[error("{location}: issue #{number} does not exist")]
    NotFound { number: u64, location: String },
    #[error("{location}:{line}: {problem}")]
    Malformed {
        location: String,
        line: usize,
        problem: Problem,
    },
    #[error("{location}: not UTF-8 text")]
    NotText { location: String },
    #[error("issue #{number}: {source}")]
    Tick { number: u64, source: TickError },
    /// `number` is `None` for an issue being created.
    #[error("{}{source}", number.map(|number| format!("issue #{number}: ")).unwrap_or_default())]
    Title {
        number: Option<u64>,
        source: InvalidTitle,
    },
    #[error("issue #{number}: a note must not be empty")]
    EmptyNote { number: u64 },
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("{location}: no free issue number after {attempts} attempts")]
    NoFreeNumber { location: String, attempts: u32 },
    /// A source behind a network service (GitHub) failed.
    #[error(transparent)]
    Remote(#[from] RemoteError),
    /// The issue was made ready by someone not trusted to hand work to
    /// the loop.
    #[error("{location}: {reason}")]
    Untrusted { location: String, reason: String },
}

impl SourceError {
    /// Whether the caller asked for something wrong (an unknown issue, a
    /// malformed file, a bad title), rather than the source failing.
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            SourceError::NotFound { .. }
                | SourceError::Malformed { .. }
                | SourceError::NotText { .. }
                | SourceError::Tick { .. }
                | SourceError::Title { .. }
                | SourceError::EmptyNote { .. }
                | SourceError::Untrusted { .. }
        ) || matches!(self, SourceError::Remote(remote) if remote.is_bad_input())
    }

    /// Whether running again later may succeed with nothing changed (a
    /// rate limit past the wait budget, a lost connection): the caller
    /// stops resumably, spending nothing.
    pub fn is_resumable(&self) -> bool {
        matches!(self, SourceError::Remote(remote) if remote.is_resumable())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_label_change_removes_then_adds() {
        let labels = BTreeSet::from([Label::InRefinement, Label::Ralph]);
        let change = LabelChange::add([Label::Ready, Label::Ralph])
            .removing([Label::InRefinement, Label::Ralph]);
        assert_eq!(
            change.apply(&labels),
            BTreeSet::from([Label::Ready, Label::Ralph])
        );
    }

    #[test]
    fn the_change_between_two_label_sets_turns_one_into_the_other() {
        let from = BTreeSet::from([Label::InRefinement, Label::Ralph]);
        let to = BTreeSet::from([Label::Ready, Label::Ralph]);
        let change = LabelChange::between(&from, &to);
        assert_eq!(change.add, BTreeSet::from([Label::Ready]));
        assert_eq!(change.remove, BTreeSet::from([Label::InRefinement]));
        assert_eq!(change.apply(&from), to);
    }

    #[test]
    fn a_remote_failure_is_bad_input_or_resumable_as_the_remote_says() {
        let not_found = SourceError::from(RemoteError::NotFound {
            service: "GitHub".to_owned(),
            what: "issue #7 in octo/hello".to_owned(),
        });
        assert!(not_found.is_bad_input());
        assert!(!not_found.is_resumable());
        assert_eq!(
            not_found.to_string(),
            "issue #7 in octo/hello was not found on GitHub (404)"
        );
        let lost = SourceError::from(RemoteError::Transport {
            method: "GET".to_owned(),
            path: "/repos/octo/hello/issues".to_owned(),
            message: "connection refused".to_owned(),
        });
        assert!(lost.is_resumable());
        assert!(!lost.is_bad_input());
    }
}
