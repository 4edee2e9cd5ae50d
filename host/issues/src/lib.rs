//! Ralph's issues: where they come from, their labels, their requirements,
//! the backlog and pull-request records.
//!
//! The loop and the commands use the [`IssueSource`] trait; [`LocalIssues`]
//! implements it on `.ralph/issues/<N>.md`. The pure parts — the
//! [`issue_file`] format, [`requirements`] extraction and ticking, the
//! [`backlog`] with its duplicate detection, the [`pulls`] record format —
//! do no I/O of their own.

mod atomic;
pub mod components;
pub mod issue;
pub mod issue_file;
pub mod local;
pub mod requirements;
pub mod source;

pub use components::{Component, ComponentKind};
pub use issue::{Issue, IssueState, Label};
pub use local::LocalIssues;
pub use requirements::{Complexity, Requirement, RequirementId, RequirementKind};
pub use source::{Draft, IssueSource, LabelChange, SourceError, Spec};
