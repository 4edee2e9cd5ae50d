//! One loop per issue: the lock a loop holds on its issue while it works.
//!
//! This is the local half of SPEC §15's lease. Before a loop works on issue
//! N it creates `.ralph/locks/<N>.lock` with `O_EXCL` (the create fails when
//! the file exists, so two processes can never both create it), holding who
//! took it: host name, process id and start time, as JSON. A second loop
//! finds the file and stops, naming the holder. A lock whose holder is on
//! this host and no longer running is stale: it is moved aside and taken
//! over, and the caller is told whose it was. The lock is released when the
//! [`Lease`] is dropped, so also when the loop fails or is interrupted; a
//! process killed outright leaves a stale lock, which the next loop takes
//! over.
//!
//! [`IssueLeases`] is the interface both halves implement: [`LocalLocks`]
//! here, and the broker's remote leases (a ref on the git remote, renewed
//! while the loop runs, `ralph_broker::lease`), whose holders also say
//! until when they hold the issue and carry an id of their own.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::layout::Layout;
use crate::store::{Follow, ReadError, read_regular};

/// The largest lock file read: a holder is a few dozen bytes.
const MAX_LOCK_BYTES: u64 = 4 * 1024;
/// How often, and how long apart, an unparsable lock is read again: its
/// creator may be between creating it and writing the holder.
const READ_ATTEMPTS: u32 = 20;
const READ_PAUSE: Duration = Duration::from_millis(50);
/// How many times taking a lock is tried when stale locks keep appearing.
const TAKE_ATTEMPTS: u32 = 5;

/// Who holds an issue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Holder {
    pub issue: u64,
    pub host: String,
    pub pid: u32,
    /// When the holder took the issue, RFC 3339 in UTC.
    pub started_at: String,
    /// A remote lease's own id, random: tells this holder's lease from any
    /// other, even of the same pid on the same host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Until when a remote lease holds the issue, RFC 3339 in UTC; once
    /// past, another loop may take it over.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
}

impl Holder {
    /// This process, now.
    pub fn this_process(issue: u64) -> Holder {
        Holder {
            issue,
            host: host_name(),
            pid: std::process::id(),
            started_at: chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            id: None,
            expires: None,
        }
    }

    /// True when the holder is a process of this host that no longer runs.
    pub fn is_stale(&self) -> bool {
        self.host == host_name() && !process_is_running(self.pid)
    }
}

impl std::fmt::Display for Holder {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            formatter,
            "pid {} on {} since {}",
            self.pid, self.host, self.started_at
        )?;
        if let Some(expires) = &self.expires {
            write!(formatter, " until {expires}")?;
        }
        Ok(())
    }
}

/// Why an issue could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LeaseError {
    /// Another loop works on the issue.
    #[error(
        "issue #{issue} is being worked on by {holder}; wait for that loop to finish or stop it \
         (if no loop is running there, delete {})",
        path.display()
    )]
    Held {
        issue: u64,
        holder: Box<Holder>,
        path: PathBuf,
    },
    /// The lock exists but does not say who holds it.
    #[error(
        "{}: issue #{issue} is locked, but the lock does not say by whom ({reason}); \
         if no loop is working on the issue, delete the file",
        path.display()
    )]
    Unreadable {
        issue: u64,
        path: PathBuf,
        reason: String,
    },
    /// Another loop, maybe on another machine, holds the issue's lease on
    /// the remote.
    #[error(
        "issue #{issue} is being worked on by {holder}, leased on the remote `{remote}` as \
         refs/ralph/leases/{issue}; wait for that loop to finish or stop it (a lease its loop \
         no longer renews is taken over once it expires)"
    )]
    HeldOnRemote {
        issue: u64,
        holder: Box<Holder>,
        remote: String,
    },
    /// The remote could not be asked (git failed, the network is down).
    #[error("cannot take the lease of issue #{issue} on the remote `{remote}`: {message}")]
    Remote {
        issue: u64,
        remote: String,
        message: String,
    },
    #[error("{}: cannot take the lock of issue #{issue}: {source}", path.display())]
    Io {
        issue: u64,
        path: PathBuf,
        source: io::Error,
    },
}

/// An issue held by this process; dropping it releases the issue.
pub trait Lease: Send + std::fmt::Debug {
    /// Who holds it: this process.
    fn holder(&self) -> &Holder;
}

/// A lease just taken, and the stale holder it replaced, if any.
#[derive(Debug)]
pub struct Taken {
    pub lease: Box<dyn Lease>,
    pub took_over: Option<Holder>,
}

/// Where leases on issues are taken.
pub trait IssueLeases {
    /// Takes issue `issue` for this process, or says who holds it.
    fn take(&self, issue: u64) -> Result<Taken, LeaseError>;
}

/// Leases as lock files in `.ralph/locks/` (git-ignored).
#[derive(Clone, Debug)]
pub struct LocalLocks {
    directory: PathBuf,
}

impl LocalLocks {
    pub fn new(layout: &Layout) -> Self {
        LocalLocks {
            directory: layout.locks_dir(),
        }
    }

    /// The lock file of issue `issue`.
    pub fn path(&self, issue: u64) -> PathBuf {
        self.directory.join(format!("{issue}.lock"))
    }

    /// Who works on `issue` now: the holder of its lock, unless that is a
    /// process of this host that is gone. `None` when no loop holds it (or
    /// its lock cannot be read).
    pub fn holder(&self, issue: u64) -> Option<Holder> {
        let path = self.path(issue);
        if !path.exists() {
            return None;
        }
        read_holder(issue, &path)
            .ok()
            .map(|(holder, _)| holder)
            .filter(|holder| !holder.is_stale())
    }
}

impl LocalLocks {
    /// The holder written in issue `issue`'s lock, stale or not, or why it
    /// cannot be read.
    pub fn read(&self, issue: u64) -> Result<Holder, String> {
        read_holder(issue, &self.path(issue))
            .map(|(holder, _)| holder)
            .map_err(|error| error.to_string())
    }
}

impl IssueLeases for LocalLocks {
    fn take(&self, issue: u64) -> Result<Taken, LeaseError> {
        let path = self.path(issue);
        let io_error = |source| LeaseError::Io {
            issue,
            path: path.clone(),
            source,
        };
        fs::create_dir_all(&self.directory).map_err(io_error)?;
        let holder = Holder::this_process(issue);
        let mut took_over = None;
        for _ in 0..TAKE_ATTEMPTS {
            match create_exclusive(&path, &holder) {
                Ok(file) => {
                    return Ok(Taken {
                        lease: Box::new(LocalLock { path, file, holder }),
                        took_over,
                    });
                }
                Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {}
                Err(error) => return Err(io_error(error)),
            }
            let (existing, identity) = read_holder(issue, &path)?;
            if !existing.is_stale() {
                return Err(LeaseError::Held {
                    issue,
                    holder: Box::new(existing),
                    path,
                });
            }
            if move_aside_if_unchanged(&path, identity).map_err(io_error)? {
                took_over = Some(existing);
            }
        }
        let (existing, _) = read_holder(issue, &path)?;
        Err(LeaseError::Held {
            issue,
            holder: Box::new(existing),
            path,
        })
    }
}

/// A lock file this process created; removed on drop.
#[derive(Debug)]
struct LocalLock {
    path: PathBuf,
    /// The created file, kept open: its identity tells ours from another's.
    file: File,
    holder: Holder,
}

impl Lease for LocalLock {
    fn holder(&self) -> &Holder {
        &self.holder
    }
}

impl Drop for LocalLock {
    fn drop(&mut self) {
        // Remove the file only while it is still the one this process
        // created: never another loop's lock.
        let ours = self
            .file
            .metadata()
            .ok()
            .map(|metadata| identity_of(&metadata));
        let there = fs::symlink_metadata(&self.path)
            .ok()
            .map(|metadata| identity_of(&metadata));
        if ours.is_some() && ours == there {
            // A lock that cannot be removed is stale once this process
            // ends, and the next loop takes it over.
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// A file's device and inode.
type Identity = (u64, u64);

fn identity_of(metadata: &fs::Metadata) -> Identity {
    use std::os::unix::fs::MetadataExt;
    (metadata.dev(), metadata.ino())
}

/// Creates `path` with `O_EXCL` (never following a symlink) and writes the
/// holder into it, synced.
fn create_exclusive(path: &Path, holder: &Holder) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .custom_flags(nix::libc::O_NOFOLLOW)
        .mode(0o644)
        .open(path)?;
    let mut bytes = serde_json::to_vec(holder).unwrap_or_default();
    bytes.push(b'\n');
    if let Err(error) = file.write_all(&bytes).and_then(|()| file.sync_all()) {
        let _ = fs::remove_file(path);
        return Err(error);
    }
    Ok(file)
}

/// The holder written in the lock at `path` and the file's identity. A lock
/// just created may not hold its holder yet: it is read again for a while.
fn read_holder(issue: u64, path: &Path) -> Result<(Holder, Identity), LeaseError> {
    let mut reason = String::new();
    for attempt in 0..READ_ATTEMPTS {
        if attempt > 0 {
            std::thread::sleep(READ_PAUSE);
        }
        let identity = match fs::symlink_metadata(path) {
            Ok(metadata) => identity_of(&metadata),
            Err(error) => {
                reason = error.to_string();
                continue;
            }
        };
        match read_regular(path, MAX_LOCK_BYTES, Follow::Never) {
            Ok(bytes) => match serde_json::from_slice::<Holder>(&bytes) {
                Ok(holder) => return Ok((holder, identity)),
                Err(error) => reason = format!("not a lock holder: {error}"),
            },
            Err(ReadError::Io(error)) if error.kind() == io::ErrorKind::NotFound => {
                reason = "the lock disappeared while being read".to_owned();
            }
            Err(error) => reason = error.to_string(),
        }
    }
    Err(LeaseError::Unreadable {
        issue,
        path: path.to_owned(),
        reason,
    })
}

/// Moves the stale lock at `path` aside and deletes it, when it is still
/// the file that was judged stale (`identity`); a fresh lock another loop
/// created in the meantime is put back. True when the stale lock went.
fn move_aside_if_unchanged(path: &Path, identity: Identity) -> io::Result<bool> {
    let aside = path.with_extension(format!("lock.stale-{}", std::process::id()));
    match fs::rename(path, &aside) {
        Ok(()) => {}
        // Another loop moved it first.
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(error) => return Err(error),
    }
    let moved = fs::symlink_metadata(&aside).map(|metadata| identity_of(&metadata))?;
    if moved != identity {
        // Not the stale file: put it back unless its place is taken again.
        let _ = fs::hard_link(&aside, path);
        fs::remove_file(&aside)?;
        return Ok(false);
    }
    fs::remove_file(&aside)?;
    Ok(true)
}

/// This machine's host name, or `localhost` when it cannot be read.
pub fn host_name() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|name| name.into_string().ok())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}

/// True when a process with this id runs on this host (or may: one that
/// exists but is not ours to signal counts as running).
fn process_is_running(pid: u32) -> bool {
    use nix::errno::Errno;
    use nix::sys::signal::kill;
    use nix::unistd::Pid;
    // 0 and ids past i32 name a process group or nothing: never a holder.
    let Ok(raw) = i32::try_from(pid) else {
        return false;
    };
    if raw <= 0 {
        return false;
    }
    !matches!(kill(Pid::from_raw(raw), None), Err(Errno::ESRCH))
}

/// Opens (creating it and its directory) and locks the lock file at
/// `path`, blocking while another process holds it; the lock is released
/// when the file is closed, also when the process dies.
pub fn wait_for(path: &Path) -> io::Result<File> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)?;
    file.lock()?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn locks() -> (tempfile::TempDir, LocalLocks) {
        let directory = tempfile::tempdir().expect("temp dir");
        let locks = LocalLocks::new(&Layout::new(directory.path()));
        (directory, locks)
    }

    /// A pid that is not running: a child that has exited and been reaped.
    fn gone_pid() -> u32 {
        let mut child = std::process::Command::new("true").spawn().expect("spawn");
        let pid = child.id();
        child.wait().expect("wait");
        pid
    }

    fn write_lock(locks: &LocalLocks, holder: &Holder) {
        fs::create_dir_all(&locks.directory).expect("mkdir");
        fs::write(
            locks.path(holder.issue),
            serde_json::to_vec(holder).expect("json"),
        )
        .expect("write lock");
    }

    #[test]
    fn a_lock_is_created_with_its_holder_and_removed_on_drop() {
        let (_directory, locks) = locks();
        let taken = locks.take(7).expect("take");
        assert!(taken.took_over.is_none());
        let written: Holder =
            serde_json::from_slice(&fs::read(locks.path(7)).expect("lock")).expect("holder");
        assert_eq!(&written, taken.lease.holder());
        assert_eq!(written.pid, std::process::id());
        assert_eq!(written.host, host_name());
        drop(taken);
        assert!(!locks.path(7).exists(), "released on drop");
    }

    #[test]
    fn a_second_take_of_a_held_issue_names_the_holder() {
        let (_directory, locks) = locks();
        let first = locks.take(3).expect("take");
        let error = locks.take(3).expect_err("held");
        let message = error.to_string();
        assert!(
            matches!(&error, LeaseError::Held { holder, .. } if **holder == *first.lease.holder()),
            "{message}"
        );
        assert!(
            message.contains(&format!(
                "issue #3 is being worked on by pid {}",
                std::process::id()
            )) && message.contains(&host_name()),
            "{message}"
        );
        assert!(locks.path(3).exists(), "the holder's lock stays");
        assert!(locks.take(4).is_ok(), "another issue is free");
    }

    #[test]
    fn a_stale_lock_on_this_host_is_taken_over_and_named() {
        let (_directory, locks) = locks();
        let stale = Holder {
            pid: gone_pid(),
            ..Holder::this_process(5)
        };
        write_lock(&locks, &stale);
        let taken = locks.take(5).expect("take over");
        assert_eq!(taken.took_over.as_ref(), Some(&stale));
        assert_eq!(taken.lease.holder().pid, std::process::id());
    }

    #[test]
    fn a_lock_held_on_another_host_is_never_taken_over() {
        let (_directory, locks) = locks();
        let remote = Holder {
            host: format!("{}-elsewhere", host_name()),
            pid: gone_pid(),
            ..Holder::this_process(6)
        };
        write_lock(&locks, &remote);
        let error = locks.take(6).expect_err("held elsewhere");
        assert!(error.to_string().contains("-elsewhere"), "{error}");
    }

    #[test]
    fn a_forged_holder_with_pid_0_counts_as_stale() {
        let (_directory, locks) = locks();
        write_lock(
            &locks,
            &Holder {
                pid: 0,
                ..Holder::this_process(8)
            },
        );
        assert!(
            locks
                .take(8)
                .expect("pid 0 is no holder")
                .took_over
                .is_some()
        );
    }

    #[test]
    fn an_unreadable_lock_is_refused_naming_the_file() {
        let (_directory, locks) = locks();
        fs::create_dir_all(&locks.directory).expect("mkdir");
        fs::write(locks.path(9), "garbage").expect("write");
        let error = locks.take(9).expect_err("unreadable");
        assert!(
            error.to_string().contains("9.lock") && error.to_string().contains("delete"),
            "{error}"
        );
        assert_eq!(fs::read(locks.path(9)).expect("kept"), b"garbage");
    }

    #[test]
    fn a_symlink_in_place_of_the_lock_is_not_followed() {
        let (directory, locks) = locks();
        fs::create_dir_all(&locks.directory).expect("mkdir");
        let target = directory.path().join("outside");
        std::os::unix::fs::symlink(&target, locks.path(2)).expect("symlink");
        let error = locks.take(2).expect_err("a symlink is no lock");
        assert!(matches!(error, LeaseError::Unreadable { .. }), "{error}");
        assert!(!target.exists(), "nothing written through the symlink");
    }

    #[test]
    fn dropping_a_lease_leaves_another_loops_lock_alone() {
        let (_directory, locks) = locks();
        let taken = locks.take(1).expect("take");
        // Someone replaced the file: a new lock of another holder.
        fs::remove_file(locks.path(1)).expect("remove");
        let other = Holder {
            host: "elsewhere".to_owned(),
            ..Holder::this_process(1)
        };
        write_lock(&locks, &other);
        drop(taken);
        assert!(locks.path(1).exists(), "the other lock stays");
    }

    #[test]
    fn a_running_process_is_running_and_a_reaped_one_is_not() {
        assert!(process_is_running(std::process::id()));
        assert!(!process_is_running(gone_pid()));
    }
}
