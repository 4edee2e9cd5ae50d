//! `ralph marketplace sync` (SPEC §15): commits Ralph's new records,
//! rebases on the remote, pushes, and retries a refused push.
//!
//! What is committed: new event files in `.ralph/events/` and, for local
//! issues, the issue files and pull-request records (`.ralph/issues/`,
//! `.ralph/pulls/`) that differ from git, which only the loop holding an
//! issue's lease (or a person, with `spec` and `ready`) writes. Nothing
//! else is ever added. Anything else already staged is refused before
//! anything changes (exit 2), since the commit would carry it.
//!
//! Then the branch is rebased on the remote's (`--autostash`: changes of
//! yours that are not staged are put aside and back; untracked files stay
//! as they are) and pushed, never forced. A push the remote refuses
//! because another clone pushed first is tried again after a jittered,
//! growing pause, up to [`ATTEMPTS`] times. Event files have unique names
//! and never conflict; a conflict in an issue file stops the rebase, which
//! is undone, and sync says which files conflicted (the commit stays, so
//! nothing is lost).

use std::path::Path;
use std::time::Duration;

use ralph_marketplace::Layout;
use serde::Serialize;

use crate::lease::{random_u64, team_git, team_git_output};
use crate::worktree::{RALPH_EMAIL, RALPH_NAME};

/// How many times a refused push is tried.
pub const ATTEMPTS: u32 = 8;
/// The first pause after a refused push; each next one is twice as long
/// (at most [`LONGEST_PAUSE`]), shortened or lengthened by up to a half at
/// random so that clones racing each other spread out.
const FIRST_PAUSE: Duration = Duration::from_millis(200);
const LONGEST_PAUSE: Duration = Duration::from_secs(5);

/// The folders whose files sync commits.
const RECORD_FOLDERS: [&str; 3] = [".ralph/events/", ".ralph/issues/", ".ralph/pulls/"];

/// What a sync did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Synced {
    pub remote: String,
    pub branch: String,
    /// The files committed, relative to the repository.
    pub committed: Vec<String>,
    /// How many of them are new events.
    pub events: usize,
    /// The commit made, if anything was new.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// Commits of others brought in by the rebase.
    pub received: u64,
    /// Commits pushed (this sync's and earlier ones not pushed yet).
    pub pushed: u64,
    /// Pushes tried (0 when there was nothing to push).
    pub push_attempts: u32,
}

/// Why a sync did not happen or did not finish.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// Nothing changed: the repository is not in a state to sync (exit 2).
    #[error("{0}")]
    Refused(String),
    /// Something failed on the way; what was committed stays (exit 1).
    #[error("{0}")]
    Failed(String),
}

fn failed(error: impl std::fmt::Display) -> SyncError {
    SyncError::Failed(error.to_string())
}

fn text(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// Syncs `layout`'s repository with `remote`.
pub fn sync(layout: &Layout, remote: &str) -> Result<Synced, SyncError> {
    let repository = layout.repository();
    // Another sync of this clone (a loop's, with `team.sync`) goes first.
    let _turn = take_turn(layout)?;
    let branch = team_git(
        repository,
        &["symbolic-ref", "--quiet", "--short", "HEAD"],
        None,
    )
    .map(|output| text(&output))
    .map_err(|_| {
        SyncError::Refused(
            "HEAD is not on a branch (detached); check out the branch to sync, e.g. `git switch main`".to_owned(),
        )
    })?;
    if team_git(
        repository,
        &["rev-parse", "--verify", "--quiet", "HEAD"],
        None,
    )
    .is_err()
    {
        return Err(SyncError::Refused(format!(
            "the branch `{branch}` has no commit yet; commit `.ralph/config.json` first"
        )));
    }
    if let Some(operation) = operation_in_progress(repository) {
        return Err(SyncError::Refused(format!(
            "a {operation} is in progress here; finish or abort it first, then sync"
        )));
    }
    refuse_other_staged(repository)?;
    let records = new_records(repository)?;
    let events = records
        .iter()
        .filter(|path| path.starts_with(RECORD_FOLDERS[0]))
        .count();
    let commit = if records.is_empty() {
        None
    } else {
        Some(commit_records(repository, &records, events)?)
    };
    let mut synced = Synced {
        remote: remote.to_owned(),
        branch: branch.clone(),
        committed: records,
        events,
        commit,
        received: 0,
        pushed: 0,
        push_attempts: 0,
    };
    let tracking = format!("refs/remotes/{remote}/{branch}");
    let mut pause = FIRST_PAUSE;
    for attempt in 1..=ATTEMPTS {
        let remote_has_branch = fetch(repository, remote, &branch, &tracking)?;
        if remote_has_branch {
            synced.received += rebase(repository, &tracking)?;
            let ahead = count(repository, &format!("{tracking}..HEAD"))?;
            if ahead == 0 {
                return Ok(synced);
            }
            synced.pushed = ahead;
        } else {
            synced.pushed = count(repository, "HEAD")?;
        }
        synced.push_attempts = attempt;
        if push(repository, remote, &branch)? {
            // The remote's branch is this one now.
            let _ = team_git(repository, &["update-ref", &tracking, "HEAD"], None);
            return Ok(synced);
        }
        if attempt < ATTEMPTS {
            std::thread::sleep(jittered(pause));
            pause = (pause * 2).min(LONGEST_PAUSE);
        }
    }
    Err(SyncError::Failed(format!(
        "`{remote}` refused the push {ATTEMPTS} times: other clones kept pushing first; what was committed stays here, and the next `ralph marketplace sync` pushes it"
    )))
}

/// Waits for and takes the clone's sync lock (released when the file is
/// closed, also when the process dies).
fn take_turn(layout: &Layout) -> Result<std::fs::File, SyncError> {
    let path = layout.sync_lock_file();
    let io = |error: std::io::Error| SyncError::Failed(format!("{}: {error}", path.display()));
    ralph_marketplace::lock::wait_for(&path).map_err(io)
}

/// `pause`, shortened or lengthened by up to a half at random.
fn jittered(pause: Duration) -> Duration {
    let factor = 0.5 + (random_u64() % 1001) as f64 / 1000.0;
    pause.mul_f64(factor)
}

/// The git operation under way in the repository that a rebase would
/// disturb: a rebase, a merge, a cherry-pick or a revert.
fn operation_in_progress(repository: &Path) -> Option<&'static str> {
    [
        ("rebase-merge", "rebase"),
        ("rebase-apply", "rebase"),
        ("MERGE_HEAD", "merge"),
        ("CHERRY_PICK_HEAD", "cherry-pick"),
        ("REVERT_HEAD", "revert"),
    ]
    .into_iter()
    .find(|(name, _)| {
        team_git(repository, &["rev-parse", "--git-path", name], None)
            .map(|output| repository.join(text(&output)).exists())
            .unwrap_or(false)
    })
    .map(|(_, operation)| operation)
}

/// Refuses when the index holds changes outside Ralph's record folders.
fn refuse_other_staged(repository: &Path) -> Result<(), SyncError> {
    let output = team_git(
        repository,
        &["diff", "--cached", "--name-only", "-z", "--no-renames"],
        None,
    )
    .map_err(failed)?;
    let others: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .split('\0')
        .filter(|path| !path.is_empty())
        .filter(|path| !RECORD_FOLDERS.iter().any(|folder| path.starts_with(folder)))
        .map(str::to_owned)
        .collect();
    if others.is_empty() {
        return Ok(());
    }
    Err(SyncError::Refused(format!(
        "other changes are staged ({}); sync commits Ralph's records alone, so commit those first or unstage them (`git restore --staged <file>`); nothing was changed",
        others.join(", ")
    )))
}

/// Ralph's records that git does not have yet: new event files (regular
/// `.json` files directly in `.ralph/events/`), new or changed issue files
/// and pull-request records (`.md`).
fn new_records(repository: &Path) -> Result<Vec<String>, SyncError> {
    let mut arguments = vec![
        "status",
        "--porcelain=v1",
        "-z",
        "--untracked-files=all",
        "--no-renames",
        "--",
    ];
    arguments.extend(RECORD_FOLDERS);
    let output = team_git(repository, &arguments, None).map_err(failed)?;
    let mut records = Vec::new();
    for entry in String::from_utf8_lossy(&output.stdout).split('\0') {
        let (Some(code), Some(path)) = (entry.get(..2), entry.get(3..)) else {
            continue;
        };
        // Deleted or conflicted files are not records to add.
        if code.contains('D') || code.contains('U') {
            continue;
        }
        let events = RECORD_FOLDERS[0];
        let wanted = if let Some(name) = path.strip_prefix(events) {
            // An event is new, never an edit of one already committed.
            (code == "??" || code.starts_with('A'))
                && !name.contains('/')
                && name.ends_with(".json")
        } else {
            RECORD_FOLDERS[1..].iter().any(|folder| {
                path.strip_prefix(folder)
                    .is_some_and(|name| !name.contains('/') && name.ends_with(".md"))
            })
        };
        let regular = std::fs::symlink_metadata(repository.join(path))
            .is_ok_and(|metadata| metadata.file_type().is_file());
        if wanted && regular {
            records.push(path.to_owned());
        }
    }
    records.sort();
    Ok(records)
}

/// Commits `records` alone; the commit's id.
fn commit_records(
    repository: &Path,
    records: &[String],
    events: usize,
) -> Result<String, SyncError> {
    let mut add = vec!["add", "--"];
    add.extend(records.iter().map(String::as_str));
    team_git(repository, &add, None).map_err(failed)?;
    let others = records.len() - events;
    let mut message = format!(
        "ralph: record {events} event{}",
        if events == 1 { "" } else { "s" }
    );
    if others > 0 {
        message.push_str(&format!(
            " and {others} issue or pull-request record{}",
            if others == 1 { "" } else { "s" }
        ));
    }
    let identity = has_identity(repository);
    let name = format!("user.name={RALPH_NAME}");
    let email = format!("user.email={RALPH_EMAIL}");
    let mut arguments: Vec<&str> = Vec::new();
    if !identity {
        arguments.extend(["-c", &name, "-c", &email]);
    }
    arguments.extend(["commit", "--quiet", "--no-verify", "-m", &message]);
    team_git(repository, &arguments, None).map_err(failed)?;
    team_git(repository, &["rev-parse", "HEAD"], None)
        .map(|output| text(&output))
        .map_err(failed)
}

fn has_identity(repository: &Path) -> bool {
    ["user.name", "user.email"].iter().all(|key| {
        team_git(repository, &["config", "--get", key], None)
            .is_ok_and(|output| !text(&output).is_empty())
    })
}

/// Fetches the remote's `branch` into `tracking`; false when the remote
/// has no such branch yet.
fn fetch(repository: &Path, remote: &str, branch: &str, tracking: &str) -> Result<bool, SyncError> {
    let head = format!("refs/heads/{branch}");
    let listed = team_git(repository, &["ls-remote", "--", remote, &head], None).map_err(failed)?;
    if !String::from_utf8_lossy(&listed.stdout)
        .lines()
        .any(|line| line.ends_with(&format!("\t{head}")))
    {
        return Ok(false);
    }
    let refspec = format!("+{head}:{tracking}");
    team_git(
        repository,
        &[
            "fetch",
            "--quiet",
            "--no-tags",
            "--no-write-fetch-head",
            "--",
            remote,
            &refspec,
        ],
        None,
    )
    .map_err(failed)?;
    Ok(true)
}

/// How many commits `range` holds.
fn count(repository: &Path, range: &str) -> Result<u64, SyncError> {
    let output = team_git(repository, &["rev-list", "--count", range], None).map_err(failed)?;
    Ok(text(&output).parse().unwrap_or(0))
}

/// Rebases the branch on `tracking`; how many commits of others it brought
/// in. A conflict is undone (the branch and your changes are as before)
/// and named.
fn rebase(repository: &Path, tracking: &str) -> Result<u64, SyncError> {
    let incoming = count(repository, &format!("HEAD..{tracking}"))?;
    if incoming == 0 {
        return Ok(0);
    }
    // The rebased commits keep their author; the committer is you, or
    // Ralph where git knows no one.
    let name = format!("user.name={RALPH_NAME}");
    let email = format!("user.email={RALPH_EMAIL}");
    let mut arguments: Vec<&str> = Vec::new();
    if !has_identity(repository) {
        arguments.extend(["-c", &name, "-c", &email]);
    }
    arguments.extend(["rebase", "--quiet", "--autostash", "--no-verify", tracking]);
    let output = team_git_output(repository, &arguments).map_err(failed)?;
    if output.status.success() {
        return Ok(incoming);
    }
    let conflicted = team_git(
        repository,
        &["diff", "--name-only", "--diff-filter=U"],
        None,
    )
    .map(|output| text(&output).lines().map(str::to_owned).collect::<Vec<_>>())
    .unwrap_or_default();
    // No rebase was in progress before this one (sync refuses then), so
    // whatever is in progress now is this one's.
    if operation_in_progress(repository).is_some() {
        let _ = team_git(repository, &["rebase", "--abort"], None);
    }
    let stderr = String::from_utf8_lossy(&output.stderr).trim().to_owned();
    let tracking = tracking.strip_prefix("refs/remotes/").unwrap_or(tracking);
    Err(SyncError::Failed(if conflicted.is_empty() {
        format!("cannot rebase on {tracking}: {stderr}; nothing was lost: the branch is as before")
    } else {
        format!(
            "rebasing on {tracking} conflicts in {}; the rebase was undone, so the branch (with Ralph's commit) and your changes are as before: merge {tracking} by hand, then sync again",
            conflicted.join(", ")
        )
    }))
}

/// Pushes the branch to the remote, never forced: true when pushed, false
/// when the remote refused it because it moved on (try again).
fn push(repository: &Path, remote: &str, branch: &str) -> Result<bool, SyncError> {
    let refspec = format!("HEAD:refs/heads/{branch}");
    let output = team_git_output(
        repository,
        &[
            "push",
            "--porcelain",
            "--quiet",
            "--no-verify",
            "--",
            remote,
            &refspec,
        ],
    )
    .map_err(failed)?;
    if output.status.success() {
        return Ok(true);
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    // Refused because the branch moved on: `[rejected]` (not a fast
    // forward), or the remote lost the race for the ref's lock to another
    // push. Any other refusal (a protected branch, a hook) is final.
    let refused = stdout.lines().any(|line| {
        line.starts_with('!')
            && (line.contains("[rejected]")
                || (line.contains("[remote rejected]")
                    && (line.contains("lock")
                        || line.contains("failed to update ref")
                        || line.contains("incorrect old value"))))
    });
    if refused {
        tracing::info!("The push was refused (the remote moved on); trying again");
        return Ok(false);
    }
    Err(SyncError::Failed(format!(
        "cannot push to `{remote}`: {}",
        String::from_utf8_lossy(&output.stderr).trim()
    )))
}
