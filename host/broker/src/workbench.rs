//! What every loop on one issue works with, whichever loop it is: the issue
//! and where it comes from, the worktree it is implemented in, the checks
//! and their baseline, the implementer and its models, the confinement that
//! builds every process (and carries the stop), what a change may not
//! touch, and the loop's hold on the issue. What only the marketplace needs
//! (bidders, specialists, budgets, metering, the event log) is in
//! [`crate::session::Session`]; an attempt on the workbench is
//! [`crate::attempt`].

use std::sync::Arc;

use ralph_issues::{Issue, IssueSource};
use ralph_marketplace::Layout;
use ralph_marketplace::lock::Lease;
use ralph_runtime::Runtime;

use crate::attempt::{Checks, Workshop};
use crate::confinement::Confinement;
use crate::implementer::Implementer;
use crate::llm::Models;
use crate::protected::ProtectedPaths;
use crate::worktree::Worktree;

/// Everything one loop on one issue works with.
pub struct Workbench {
    pub issues: Box<dyn IssueSource>,
    /// The issue as last read or written.
    pub issue: Issue,
    pub worktree: Worktree,
    /// The checks and their baseline.
    pub checks: Checks,
    pub implementer: Implementer,
    pub models: Models,
    /// Builds every check and agent process (SPEC §16), and carries the
    /// stop that Ctrl-C or SIGTERM sets.
    pub confinement: Arc<Confinement>,
    /// What a change may not touch (SPEC §5a).
    pub protected: ProtectedPaths,
    /// This loop's hold on the issue: one loop per issue (SPEC §15).
    pub lease: Box<dyn Lease>,
}

impl Workbench {
    /// True once Ctrl-C or SIGTERM asked the loop to stop.
    pub fn stop_requested(&self) -> bool {
        self.confinement.stop_requested()
    }

    /// What one attempt on this workbench works with; `runtime` runs the
    /// check plugins.
    pub fn workshop<'a>(&'a self, layout: &'a Layout, runtime: &'a Runtime) -> Workshop<'a> {
        Workshop {
            layout,
            worktree: &self.worktree,
            implementer: &self.implementer,
            models: &self.models,
            confinement: &self.confinement,
            protected: &self.protected,
            checks: &self.checks,
            runtime,
        }
    }
}
