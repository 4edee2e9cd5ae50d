//! Every path Ralph keeps state in, in one place.
//!
//! ```text
//! <repository>/
//! ├── .claude/agents/          agent definitions (tracked)
//! ├── .ralph-sessions/<id>/    the loops' sessions: plans, tasks, progress, feedback
//! │                            with the failing checks' output (ignored; see
//! │                            `ralph_broker::sessions`)
//! └── .ralph/
//!     ├── config.json          the marketplace config (tracked)
//!     ├── events/              the append-only event log (tracked)
//!     ├── archive/<time>/      events moved aside by `reset` (tracked)
//!     ├── issues/<N>.md        local issues: front matter and a markdown body (tracked)
//!     ├── pulls/<N>.md         pull-request records, one per issue number (tracked)
//!     ├── .gitignore           ignores the derived files below
//!     ├── marketplace.json     the folded state (derived, ignored)
//!     ├── .state_version       what marketplace.json was folded from (derived, ignored)
//!     ├── summary.json         usage totals and recent events, for `status` (derived, ignored)
//!     ├── meta_analysis.json   what `analyze` found in the log (derived, ignored)
//!     ├── report.html          what `report` writes by default (derived, ignored)
//!     ├── worktrees/<N>/       the git worktree an issue is implemented in (ignored)
//!     ├── locks/<N>.lock       the loop working on issue N: host, pid, start (ignored;
//!     │                        with a remote the loop also holds the ref
//!     │                        refs/ralph/leases/<N> there, `ralph_broker::lease`)
//!     ├── locks/events.lock    held while Ralph appends an event (ignored)
//!     ├── locks/sync.lock      held while `sync` commits, rebases and pushes (ignored)
//!     ├── approvals.json       the user's approvals of plugins' integrations (per user, ignored)
//!     ├── audit/<date>.jsonl   the integration calls plugins made (per user, ignored)
//!     └── tmp/                 files being written, before they are linked into place (ignored)
//! ```

use std::path::{Path, PathBuf};

/// The files ignored by `.ralph/.gitignore`.
pub const IGNORED: &[&str] = &[
    "marketplace.json",
    ".state_version",
    "summary.json",
    "meta_analysis.json",
    "report.html",
    "tmp/",
    "cache/",
    "worktrees/",
    "locks/",
    "approvals.json",
    "audit/",
    // Earlier versions kept failing checks' output here; it stays ignored.
    "feedback/",
];

/// The state paths of one repository.
#[derive(Clone, Debug)]
pub struct Layout {
    repository: PathBuf,
}

impl Layout {
    /// The layout of the repository rooted at `repository`.
    pub fn new(repository: impl Into<PathBuf>) -> Self {
        Layout {
            repository: repository.into(),
        }
    }

    pub fn repository(&self) -> &Path {
        &self.repository
    }

    pub fn ralph_dir(&self) -> PathBuf {
        self.repository.join(".ralph")
    }

    pub fn config_file(&self) -> PathBuf {
        self.ralph_dir().join("config.json")
    }

    pub fn events_dir(&self) -> PathBuf {
        self.ralph_dir().join("events")
    }

    pub fn archive_dir(&self) -> PathBuf {
        self.ralph_dir().join("archive")
    }

    /// Local issue files, `<N>.md`.
    pub fn issues_dir(&self) -> PathBuf {
        self.ralph_dir().join("issues")
    }

    /// Pull-request records, `<N>.md` for issue `N`.
    pub fn pulls_dir(&self) -> PathBuf {
        self.ralph_dir().join("pulls")
    }

    pub fn gitignore_file(&self) -> PathBuf {
        self.ralph_dir().join(".gitignore")
    }

    pub fn state_file(&self) -> PathBuf {
        self.ralph_dir().join("marketplace.json")
    }

    /// The usage totals and recent events `status` shows, cached.
    pub fn summary_file(&self) -> PathBuf {
        self.ralph_dir().join("summary.json")
    }

    pub fn state_version_file(&self) -> PathBuf {
        self.ralph_dir().join(".state_version")
    }

    /// Where `ralph marketplace report` writes by default.
    pub fn report_file(&self) -> PathBuf {
        self.ralph_dir().join("report.html")
    }

    pub fn tmp_dir(&self) -> PathBuf {
        self.ralph_dir().join("tmp")
    }

    pub fn worktrees_dir(&self) -> PathBuf {
        self.ralph_dir().join("worktrees")
    }

    /// The locks of the issues loops are working on, `<N>.lock`.
    pub fn locks_dir(&self) -> PathBuf {
        self.ralph_dir().join("locks")
    }

    /// The lock Ralph holds while it appends an event and extends the
    /// caches, so that two appends never extend the same cache.
    pub fn events_lock_file(&self) -> PathBuf {
        self.locks_dir().join("events.lock")
    }

    /// The lock `ralph marketplace sync` holds, so that two syncs of one
    /// clone take turns with git's index.
    pub fn sync_lock_file(&self) -> PathBuf {
        self.locks_dir().join("sync.lock")
    }

    /// The user's approvals of plugins' integration capabilities.
    pub fn approvals_file(&self) -> PathBuf {
        self.ralph_dir().join("approvals.json")
    }

    /// The integration audit log, one `<YYYY-MM-DD>.jsonl` file per UTC day.
    pub fn audit_dir(&self) -> PathBuf {
        self.ralph_dir().join("audit")
    }

    pub fn agents_dir(&self) -> PathBuf {
        self.repository.join(".claude").join("agents")
    }

    /// `path` relative to the repository, for messages.
    pub fn display<'a>(&self, path: &'a Path) -> std::path::Display<'a> {
        path.strip_prefix(&self.repository)
            .unwrap_or(path)
            .display()
    }
}

/// The root of the git repository containing `start`: the nearest ancestor
/// holding a `.git` directory or file.
pub fn find_repository_root(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .find(|directory| directory.join(".git").exists())
        .map(Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_lives_under_dot_ralph() {
        let layout = Layout::new("/repo");
        assert_eq!(layout.config_file(), Path::new("/repo/.ralph/config.json"));
        assert_eq!(layout.events_dir(), Path::new("/repo/.ralph/events"));
        assert_eq!(
            layout.state_file(),
            Path::new("/repo/.ralph/marketplace.json")
        );
        assert_eq!(layout.agents_dir(), Path::new("/repo/.claude/agents"));
        assert_eq!(layout.issues_dir(), Path::new("/repo/.ralph/issues"));
        assert_eq!(layout.pulls_dir(), Path::new("/repo/.ralph/pulls"));
        assert_eq!(
            layout.approvals_file(),
            Path::new("/repo/.ralph/approvals.json")
        );
        assert_eq!(layout.audit_dir(), Path::new("/repo/.ralph/audit"));
        assert!(IGNORED.contains(&"approvals.json") && IGNORED.contains(&"audit/"));
        assert_eq!(layout.report_file(), Path::new("/repo/.ralph/report.html"));
        assert!(IGNORED.contains(&"report.html"));
        let file = layout.events_dir().join("x.json");
        assert_eq!(layout.display(&file).to_string(), ".ralph/events/x.json");
    }

    #[test]
    fn the_repository_root_is_the_nearest_directory_with_git() {
        let directory = tempfile::tempdir().expect("temp dir");
        let nested = directory.path().join("a/b");
        std::fs::create_dir_all(&nested).expect("mkdir");
        assert_eq!(find_repository_root(&nested), None);
        std::fs::create_dir(directory.path().join(".git")).expect("mkdir");
        assert_eq!(
            find_repository_root(&nested).as_deref(),
            Some(directory.path())
        );
    }
}
