//! Ralph's issues: where they come from, their labels, their requirements,
//! the backlog and pull-request records.
//!
//! The loop and the commands use the [`IssueSource`] trait; [`LocalIssues`]
//! implements it on `.ralph/issues/<N>.md`. The [`issue_file`] format,
//! [`requirements`] extraction and ticking, and the [`backlog`] with its
//! duplicate detection are pure; [`pulls`] holds the pull-request record
//! format and [`PullRequests`], which keeps the records in `.ralph/pulls/`.

pub mod atomic;
pub mod backlog;
pub mod components;
pub mod issue;
pub mod issue_file;
pub mod local;
pub mod publish;
pub mod pulls;
pub mod remote;
pub mod requirements;
pub mod source;

pub use components::{Component, ComponentKind};
pub use issue::{Issue, IssueState, Label, is_tag};
pub use local::LocalIssues;
pub use publish::{OpenedPullRequest, PublishError, Published, PullRequestPublisher};
pub use pulls::{
    ChangeSummary, ChangedFile, CheckCategory, CheckResult, DimensionScores, FailedAttempt,
    FindingSeverity, ProposalScore, PullRequest, PullRequests, ReviewFinding, SpecialistReview,
};
pub use remote::{RateLimit, RejectedField, RemoteError};
pub use requirements::{Complexity, Requirement, RequirementId, RequirementKind};
pub use source::{Draft, IssueSource, LabelChange, SourceError, Spec};
