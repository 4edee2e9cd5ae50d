//! `ralph marketplace clean`: removes the worktrees of finished issues.
//!
//! A loop keeps its issue's worktree (`.ralph/worktrees/<N>/`, with its build
//! output) so that a stopped loop can resume and a failed one can be looked
//! at. Once the issue is closed (the loop finished it, or a person closed
//! it) or gone, the worktree is only disk space: `clean` removes it with
//! `git worktree remove`. The branch and its commits always stay, and so
//! do the loops' sessions (`.ralph-sessions/`), which tell what happened. An
//! issue a loop is working on right now (its lock is held) is never
//! touched; an open issue's worktree is kept unless `all` is asked for.

use std::path::Path;

use ralph_issues::IssueSource;
use ralph_marketplace::Layout;
use ralph_marketplace::lock::{IssueLeases, LeaseError, LocalLocks};
use serde::Serialize;

use crate::worktree::git;

/// What `clean` did, or would do, with one worktree.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Cleaned {
    pub issue: u64,
    /// The worktree, relative to the repository.
    pub worktree: String,
    /// Its size on disk before removal, in bytes.
    pub bytes: u64,
    /// Removed, or kept and why.
    #[serde(flatten)]
    pub action: Action,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    Removed,
    /// `--dry-run`: it would have been removed.
    WouldRemove,
    Kept {
        reason: String,
    },
}

/// Cleans the worktrees under `layout` of the issues in `issues`; `all`
/// includes open issues' (never one a loop holds); `dry_run` only says
/// what it would do.
pub fn clean(
    layout: &Layout,
    issues: &dyn IssueSource,
    all: bool,
    dry_run: bool,
) -> std::io::Result<Vec<Cleaned>> {
    let directory = layout.worktrees_dir();
    let mut numbers: Vec<u64> = match std::fs::read_dir(&directory) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .filter_map(|entry| entry.file_name().to_str()?.parse().ok())
            .collect(),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(error) => return Err(error),
    };
    numbers.sort_unstable();
    let locks = LocalLocks::new(layout);
    let mut cleaned = Vec::new();
    for number in numbers {
        let path = directory.join(number.to_string());
        let shown = layout.display(&path).to_string();
        let bytes = size_of(&path);
        let keep = |reason: String| Cleaned {
            issue: number,
            worktree: shown.clone(),
            bytes,
            action: Action::Kept { reason },
        };
        let open = issues
            .get(number)
            .map(|issue| issue.is_open())
            .unwrap_or(false);
        if open && !all {
            cleaned.push(keep(
                "the issue is open (a stopped loop resumes here); --all removes it".to_owned(),
            ));
            continue;
        }
        // Held while removing, so no loop starts on the issue meanwhile.
        let _lease = match locks.take(number) {
            Ok(taken) => taken.lease,
            Err(LeaseError::Held { .. }) => {
                cleaned.push(keep("a loop is working on the issue".to_owned()));
                continue;
            }
            Err(error) => {
                cleaned.push(keep(format!("its lock cannot be read: {error}")));
                continue;
            }
        };
        let action = if dry_run {
            Action::WouldRemove
        } else {
            match remove(layout, &path) {
                Ok(()) => Action::Removed,
                Err(reason) => Action::Kept { reason },
            }
        };
        cleaned.push(Cleaned {
            issue: number,
            worktree: shown,
            bytes,
            action,
        });
    }
    Ok(cleaned)
}

/// Removes the worktree at `path` (git forgets it; the branch stays).
fn remove(layout: &Layout, path: &Path) -> Result<(), String> {
    let text = path.to_string_lossy().into_owned();
    if let Err(error) = git(
        layout.repository(),
        &["worktree", "remove", "--force", &text],
        None,
    ) {
        // Not a worktree git knows (a copy, a half-made one): remove the
        // folder, and let git forget what it knew of it.
        if path.join(".git").exists() || path.exists() {
            std::fs::remove_dir_all(path).map_err(|io| format!("{error}; {io}"))?;
        }
        let _ = git(layout.repository(), &["worktree", "prune"], None);
    }
    Ok(())
}

/// The bytes of every file under `path` (links not followed).
fn size_of(path: &Path) -> u64 {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return 0;
    };
    if !meta.is_dir() {
        return meta.len();
    }
    std::fs::read_dir(path)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|entry| size_of(&entry.path()))
                .sum()
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::worktree::Worktree;
    use ralph_issues::LocalIssues;

    fn repository() -> (tempfile::TempDir, Layout) {
        let directory = crate::worktree::test_support::repository();
        let layout = Layout::new(directory.path());
        std::fs::create_dir_all(layout.issues_dir()).expect("mkdir");
        for (number, state) in [(1, "closed"), (2, "open")] {
            std::fs::write(
                layout.issues_dir().join(format!("{number}.md")),
                format!("---\ntitle: Issue {number}\nlabels: []\nstate: {state}\n---\n- [ ] x\n"),
            )
            .expect("issue");
            Worktree::open_or_create(
                directory.path(),
                &layout.worktrees_dir().join(number.to_string()),
                &format!("ralph/{number}"),
            )
            .expect("worktree");
        }
        (directory, layout)
    }

    #[test]
    fn a_finished_issues_worktree_goes_and_its_branch_stays() {
        let (directory, layout) = repository();
        let dry = clean(&layout, &LocalIssues::new(&layout), false, true).expect("dry run");
        assert_eq!(dry[0].action, Action::WouldRemove);
        assert!(
            layout.worktrees_dir().join("1").exists(),
            "a dry run removes nothing"
        );
        let cleaned = clean(&layout, &LocalIssues::new(&layout), false, false).expect("clean");
        assert_eq!(cleaned.len(), 2);
        assert_eq!(
            (cleaned[0].issue, &cleaned[0].action),
            (1, &Action::Removed)
        );
        assert!(cleaned[0].bytes > 0);
        assert!(matches!(&cleaned[1].action, Action::Kept { reason } if reason.contains("open")));
        assert!(!layout.worktrees_dir().join("1").exists());
        assert!(layout.worktrees_dir().join("2").exists());
        let branches = git(directory.path(), &["branch", "--list", "ralph/1"], None).expect("git");
        assert!(String::from_utf8_lossy(&branches.stdout).contains("ralph/1"));
        let all = clean(&layout, &LocalIssues::new(&layout), true, false).expect("clean all");
        assert_eq!(all[0].action, Action::Removed);
        assert!(!layout.worktrees_dir().join("2").exists());
    }

    #[test]
    fn a_worktree_a_loop_holds_is_kept() {
        let (_directory, layout) = repository();
        let _held = LocalLocks::new(&layout).take(1).expect("lock");
        let cleaned = clean(&layout, &LocalIssues::new(&layout), true, false).expect("clean");
        assert!(
            matches!(&cleaned[0].action, Action::Kept { reason } if reason.contains("loop")),
            "{cleaned:?}"
        );
        assert!(layout.worktrees_dir().join("1").exists());
    }
}
