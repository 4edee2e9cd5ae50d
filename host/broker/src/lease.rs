//! Leases on the git remote (SPEC §15): one loop per issue across every
//! clone.
//!
//! Before a loop works on issue N it creates the ref
//! `refs/ralph/leases/<N>` on the remote, pointing at a blob that holds
//! the holder as JSON: host, pid, start, a random id and `expires`. The
//! push carries `--force-with-lease=refs/ralph/leases/<N>:` (expected: no
//! such ref), so the remote refuses a second creation atomically, however
//! many loops try at once. A loop that finds the ref reads its holder: a
//! lease not yet expired stops it, naming the holder; an expired one is
//! taken over with `--force-with-lease=<ref>:<the oid read>`, so of two
//! loops taking over the same lease only one succeeds.
//!
//! While the loop runs, a thread renews the lease every third of its
//! duration: a new blob with a later expiry, pushed with force-with-lease
//! on the oid it pushed last. A renewal the remote refuses means another
//! loop took the lease over: the lease is lost, which is said, and the
//! loop is asked to stop (as Ctrl-C would). Dropping the lease, however
//! the loop ends, deletes the ref, again only while it is still this
//! loop's (force-with-lease on its own oid).
//!
//! The clone's local lock (`.ralph/locks/<N>.lock`) is taken first and held
//! too: it keeps `clean` and a second loop of the same clone away from the
//! issue's worktree without asking the remote.
//!
//! Git runs without hooks (`core.hooksPath=/dev/null`) and never prompts;
//! the remote's and the user's settings decide nothing here because every
//! refspec is written out in full.

use std::hash::{BuildHasher, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use chrono::{DateTime, Utc};
use ralph_marketplace::Layout;
use ralph_marketplace::lock::{Holder, IssueLeases, Lease, LeaseError, LocalLocks, Taken};
use serde::Serialize;

use crate::worktree::{GitError, git, git_output};

/// How often reading the leases is tried while they change under it.
const READ_TRIES: u32 = 5;

/// The refs leases live under, on the remote.
pub const LEASES_PREFIX: &str = "refs/ralph/leases/";
/// The largest holder read from a lease: a few hundred bytes are plenty.
const MAX_HOLDER_BYTES: u64 = 4 * 1024;
/// How often taking a lease is tried while other loops keep changing it.
const TAKE_ATTEMPTS: u32 = 5;

/// `git` with the options every lease and sync command runs with: no
/// hooks of the user's or the repository's.
pub(crate) fn team_git(
    directory: &Path,
    args: &[&str],
    input: Option<&[u8]>,
) -> Result<std::process::Output, GitError> {
    git(directory, &with_team_options(args), input)
}

/// [`team_git`] returning the output whether git succeeded or not.
pub(crate) fn team_git_output(
    directory: &Path,
    args: &[&str],
) -> Result<std::process::Output, GitError> {
    git_output(directory, &with_team_options(args), None)
}

fn with_team_options<'a>(args: &[&'a str]) -> Vec<&'a str> {
    let mut all = vec!["-c", "core.hooksPath=/dev/null"];
    all.extend_from_slice(args);
    all
}

/// The lease ref of issue `issue`.
pub fn lease_ref(issue: u64) -> String {
    format!("{LEASES_PREFIX}{issue}")
}

/// A random number, from the standard library's per-process random keys.
pub(crate) fn random_u64() -> u64 {
    let mut hasher = std::hash::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|elapsed| elapsed.as_nanos())
            .unwrap_or_default(),
    );
    hasher.finish()
}

/// `time` as RFC 3339 in UTC, to the second.
fn rfc3339(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// When `holder`'s lease ends; `None` when it does not say (or not
/// readably).
pub fn expiry_of(holder: &Holder) -> Option<DateTime<Utc>> {
    let expires = holder.expires.as_deref()?;
    DateTime::parse_from_rfc3339(expires)
        .ok()
        .map(|time| time.with_timezone(&Utc))
}

/// Leases as refs on one git remote, with the clone's local lock.
#[derive(Clone, Debug)]
pub struct RemoteLeases {
    layout: Layout,
    repository: PathBuf,
    local: LocalLocks,
    remote: String,
    duration: Duration,
    /// Set when a lease is lost, so the loop stops.
    stop: Option<Arc<AtomicBool>>,
    /// Sync the clone once the lease is taken and before it is released
    /// (`team.sync`).
    sync_around: bool,
}

/// How a push of a lease ref went.
enum Pushed {
    Done,
    /// The remote refused: the ref is not what was expected.
    Refused,
}

/// What the remote's ref must be for a push to go through.
enum Expect<'a> {
    Absent,
    Oid(&'a str),
}

impl RemoteLeases {
    pub fn new(
        layout: &Layout,
        remote: &str,
        duration: Duration,
        stop: Option<Arc<AtomicBool>>,
    ) -> RemoteLeases {
        RemoteLeases {
            layout: layout.clone(),
            repository: layout.repository().to_owned(),
            local: LocalLocks::new(layout),
            remote: remote.to_owned(),
            duration,
            stop,
            sync_around: false,
        }
    }

    /// These leases, syncing the clone with the remote right after a lease
    /// is taken (so the loop reads the issue as the team last left it) and
    /// right before it is released (so what the loop recorded is on the
    /// remote before another loop may take the issue).
    pub fn syncing(self, sync_around: bool) -> RemoteLeases {
        RemoteLeases {
            sync_around,
            ..self
        }
    }

    pub fn remote(&self) -> &str {
        &self.remote
    }

    /// The remote could not be reached or git failed: the error, with how
    /// to work without the remote.
    fn unreachable(&self, issue: u64, error: impl std::fmt::Display) -> LeaseError {
        self.remote_error(
            issue,
            format!(
                "{error}; the loop leases its issue on the remote so that no other clone works on it; to work on this clone alone, set `\"team\": {{\"leases\": \"local\"}}` in .ralph/config.json"
            ),
        )
    }

    fn remote_error(&self, issue: u64, error: impl std::fmt::Display) -> LeaseError {
        LeaseError::Remote {
            issue,
            remote: self.remote.clone(),
            message: error.to_string(),
        }
    }

    /// A holder for this process with a fresh expiry, written as a blob;
    /// the blob's id.
    fn write_holder(&self, holder: &Holder) -> Result<String, GitError> {
        let mut bytes = serde_json::to_vec(holder).unwrap_or_default();
        bytes.push(b'\n');
        let output = team_git(
            &self.repository,
            &["hash-object", "-w", "--stdin"],
            Some(&bytes),
        )?;
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    }

    /// Pushes `object` (or deletes the ref, with `None`) as issue
    /// `issue`'s lease, provided the remote's ref is as `expect` says.
    fn push(&self, issue: u64, object: Option<&str>, expect: Expect<'_>) -> Result<Pushed, String> {
        let reference = lease_ref(issue);
        let lease = match expect {
            Expect::Absent => format!("--force-with-lease={reference}:"),
            Expect::Oid(oid) => format!("--force-with-lease={reference}:{oid}"),
        };
        let refspec = format!("{}:{reference}", object.unwrap_or(""));
        let output = team_git_output(
            &self.repository,
            &[
                "push",
                "--porcelain",
                "--quiet",
                "--no-verify",
                &lease,
                "--",
                &self.remote,
                &refspec,
            ],
        )
        .map_err(|error| error.to_string())?;
        if output.status.success() {
            return Ok(Pushed::Done);
        }
        // `--porcelain` reports each ref as `FLAG\tFROM:TO\tSUMMARY`; `!`
        // is a refusal (the lease is not as expected, or another push won
        // the ref's lock). Anything else failed before the remote judged.
        let stdout = String::from_utf8_lossy(&output.stdout);
        let refused = stdout.lines().any(|line| {
            line.starts_with('!')
                && line
                    .split('\t')
                    .nth(1)
                    .is_some_and(|refs| refs.ends_with(&reference))
        });
        if refused {
            Ok(Pushed::Refused)
        } else {
            Err(String::from_utf8_lossy(&output.stderr).trim().to_owned())
        }
    }

    /// The lease of issue `issue` on the remote: its oid and its holder
    /// (or why the holder cannot be read). `None` when there is none.
    fn read(&self, issue: u64) -> Result<Option<RemoteLease>, String> {
        Ok(self.read_refs(&lease_ref(issue))?.pop())
    }

    /// The leases on the remote matching `pattern` (a ref or a glob):
    /// fetched into a namespace of this process, read, and the fetched
    /// refs deleted again.
    fn read_refs(&self, pattern: &str) -> Result<Vec<RemoteLease>, String> {
        // A lease released between the listing and the fetch fails the
        // fetch; by the next listing another loop may have made a new one.
        // Each try reads the remote afresh.
        let mut tries = 0;
        loop {
            tries += 1;
            match self.read_refs_once(pattern) {
                Err(error) if tries < READ_TRIES => {
                    tracing::debug!(%error, pattern, "A lease changed while it was read; reading again");
                }
                done => return done,
            }
        }
    }

    fn read_refs_once(&self, pattern: &str) -> Result<Vec<RemoteLease>, String> {
        if !self.has_refs(pattern)? {
            return Ok(Vec::new());
        }
        let namespace = format!(
            "refs/ralph/fetched/{}-{:016x}/",
            std::process::id(),
            random_u64()
        );
        let destination = match pattern.strip_prefix(LEASES_PREFIX) {
            Some(rest) => format!("+{pattern}:{namespace}{rest}"),
            None => return Err(format!("`{pattern}` is not a lease ref")),
        };
        let fetched = team_git(
            &self.repository,
            &[
                "fetch",
                "--quiet",
                "--no-tags",
                "--no-write-fetch-head",
                "--",
                &self.remote,
                &destination,
            ],
            None,
        );
        let leases = match fetched {
            Ok(_) => self.read_namespace(&namespace),
            // Released between the listing and the fetch: none now.
            Err(_) if !self.has_refs(pattern)? => Ok(Vec::new()),
            Err(error) => Err(error.to_string()),
        };
        self.delete_namespace(&namespace);
        leases
    }

    /// True when the remote has refs matching `pattern`.
    fn has_refs(&self, pattern: &str) -> Result<bool, String> {
        let listed = team_git(
            &self.repository,
            &["ls-remote", "--", &self.remote, pattern],
            None,
        )
        .map_err(|error| error.to_string())?;
        Ok(!listed.stdout.is_empty())
    }

    /// The leases fetched under `namespace`.
    fn read_namespace(&self, namespace: &str) -> Result<Vec<RemoteLease>, String> {
        let output = team_git(
            &self.repository,
            &[
                "for-each-ref",
                "--format=%(objectname) %(objecttype) %(objectsize) %(refname)",
                namespace,
            ],
            None,
        )
        .map_err(|error| error.to_string())?;
        let mut leases = Vec::new();
        for line in String::from_utf8_lossy(&output.stdout).lines() {
            let mut fields = line.splitn(4, ' ');
            let (Some(oid), Some(kind), Some(size), Some(name)) =
                (fields.next(), fields.next(), fields.next(), fields.next())
            else {
                continue;
            };
            let Some(issue) = name
                .strip_prefix(namespace)
                .and_then(|rest| rest.parse::<u64>().ok())
            else {
                continue;
            };
            let holder = self.holder_of(oid, kind, size.parse().unwrap_or(u64::MAX));
            leases.push(RemoteLease {
                issue,
                oid: oid.to_owned(),
                holder,
            });
        }
        leases.sort_by_key(|lease| lease.issue);
        Ok(leases)
    }

    /// The holder in the object `oid`, read as data: a blob of at most a
    /// few KiB holding a holder's JSON, or why not.
    fn holder_of(&self, oid: &str, kind: &str, size: u64) -> Result<Holder, String> {
        if kind != "blob" {
            return Err(format!("the ref points at a {kind}, not a holder"));
        }
        if size > MAX_HOLDER_BYTES {
            return Err(format!(
                "the holder is {size} bytes, more than {MAX_HOLDER_BYTES}"
            ));
        }
        let output = team_git(&self.repository, &["cat-file", "blob", oid], None)
            .map_err(|error| error.to_string())?;
        serde_json::from_slice::<Holder>(&output.stdout)
            .map_err(|error| format!("not a lease holder: {error}"))
    }

    fn delete_namespace(&self, namespace: &str) {
        let Ok(output) = team_git(
            &self.repository,
            &["for-each-ref", "--format=delete %(refname)", namespace],
            None,
        ) else {
            return;
        };
        let _ = team_git(
            &self.repository,
            &["update-ref", "--stdin"],
            Some(&output.stdout),
        );
    }

    /// Every lease on the remote, by issue.
    pub fn list(&self) -> Result<Vec<RemoteLease>, String> {
        self.read_refs(&format!("{LEASES_PREFIX}*"))
    }

    /// A holder of issue `issue` for this process, expiring one lease
    /// duration from now.
    fn new_holder(&self, issue: u64, id: &str, started_at: &str) -> Holder {
        let expires = Utc::now()
            + chrono::Duration::from_std(self.duration).unwrap_or(chrono::Duration::hours(2));
        Holder {
            started_at: started_at.to_owned(),
            id: Some(id.to_owned()),
            expires: Some(rfc3339(expires)),
            ..Holder::this_process(issue)
        }
    }

    /// Takes the remote lease of `issue` (the local lock is held already).
    fn take_remote(&self, issue: u64) -> Result<(Holder, String, Option<Holder>), LeaseError> {
        let id = format!("{:016x}", random_u64());
        let started_at = rfc3339(Utc::now());
        for _ in 0..TAKE_ATTEMPTS {
            let holder = self.new_holder(issue, &id, &started_at);
            let oid = self
                .write_holder(&holder)
                .map_err(|error| self.remote_error(issue, error))?;
            match self
                .push(issue, Some(&oid), Expect::Absent)
                .map_err(|error| self.unreachable(issue, error))?
            {
                Pushed::Done => return Ok((holder, oid, None)),
                Pushed::Refused => {}
            }
            let Some(RemoteLease {
                oid: old,
                holder: existing,
                ..
            }) = self
                .read(issue)
                .map_err(|error| self.remote_error(issue, error))?
            else {
                // Released meanwhile: create it again.
                continue;
            };
            let existing = existing.map_err(|reason| {
                self.remote_error(
                    issue,
                    format!(
                        "{} holds something that is not a lease ({reason}); if no loop works on the issue, delete it: git push {} :{}",
                        lease_ref(issue),
                        self.remote,
                        lease_ref(issue)
                    ),
                )
            })?;
            let expired = expiry_of(&existing).is_some_and(|expires| expires <= Utc::now());
            if !expired {
                return Err(LeaseError::HeldOnRemote {
                    issue,
                    holder: Box::new(existing),
                    remote: self.remote.clone(),
                });
            }
            match self
                .push(issue, Some(&oid), Expect::Oid(&old))
                .map_err(|error| self.remote_error(issue, error))?
            {
                Pushed::Done => return Ok((holder, oid, Some(existing))),
                Pushed::Refused => {}
            }
        }
        Err(self.remote_error(
            issue,
            format!("the lease kept changing while it was being taken ({TAKE_ATTEMPTS} tries); try again"),
        ))
    }
}

impl IssueLeases for RemoteLeases {
    fn take(&self, issue: u64) -> Result<Taken, LeaseError> {
        let local = self.local.take(issue)?;
        let (holder, oid, took_over) = self.take_remote(issue)?;
        let shared = Arc::new(Shared {
            current: Mutex::new(oid),
            released: Mutex::new(false),
            wake: Condvar::new(),
            lost: AtomicBool::new(false),
        });
        let renewal = {
            let leases = self.clone();
            let shared = shared.clone();
            let holder = holder.clone();
            std::thread::Builder::new()
                .name(format!("lease-{issue}"))
                .spawn(move || leases.renew_until_released(&holder, &shared))
                .map_err(|error| self.remote_error(issue, error))?
        };
        let mut lease = HeldLease {
            leases: self.clone(),
            holder,
            shared,
            renewal: Some(renewal),
            sync_on_release: false,
            _local: local.lease,
        };
        if self.sync_around {
            // Dropping the lease on failure releases it again.
            crate::sync::sync(&self.layout, &self.remote).map_err(|error| {
                self.remote_error(
                    issue,
                    format!("cannot sync this clone before the loop reads the issue: {error}"),
                )
            })?;
            lease.sync_on_release = true;
        }
        Ok(Taken {
            lease: Box::new(lease),
            took_over: took_over.or(local.took_over),
        })
    }
}

/// What the renewal thread and the lease share.
#[derive(Debug)]
struct Shared {
    /// The oid of the lease as last pushed.
    current: Mutex<String>,
    /// Set when the lease is dropped; `wake` tells the thread.
    released: Mutex<bool>,
    wake: Condvar,
    /// Set when a renewal was refused: the lease is another loop's now.
    lost: AtomicBool,
}

impl RemoteLeases {
    /// Renews `holder`'s lease every third of its duration until it is
    /// released or lost.
    fn renew_until_released(&self, holder: &Holder, shared: &Shared) {
        let interval = self.duration / 3;
        let issue = holder.issue;
        loop {
            {
                let released = shared
                    .released
                    .lock()
                    .unwrap_or_else(|poison| poison.into_inner());
                let (released, _) = shared
                    .wake
                    .wait_timeout_while(released, interval, |released| !*released)
                    .unwrap_or_else(|poison| poison.into_inner());
                if *released {
                    return;
                }
            }
            let renewed = self.new_holder(
                issue,
                holder.id.as_deref().unwrap_or_default(),
                &holder.started_at,
            );
            let current = shared
                .current
                .lock()
                .unwrap_or_else(|poison| poison.into_inner())
                .clone();
            let pushed = self
                .write_holder(&renewed)
                .map_err(|error| error.to_string())
                .and_then(|oid| {
                    self.push(issue, Some(&oid), Expect::Oid(&current))
                        .map(|pushed| (pushed, oid))
                });
            match pushed {
                Ok((Pushed::Done, oid)) => {
                    tracing::debug!(issue, oid, "Renewed the lease");
                    *shared
                        .current
                        .lock()
                        .unwrap_or_else(|poison| poison.into_inner()) = oid;
                }
                Ok((Pushed::Refused, _)) => {
                    shared.lost.store(true, Ordering::SeqCst);
                    tracing::error!(
                        "Lost the lease of issue #{issue} on `{}`: another loop took it over after it expired; stopping after the current step",
                        self.remote
                    );
                    if let Some(stop) = &self.stop {
                        stop.store(true, Ordering::SeqCst);
                    }
                    return;
                }
                Err(error) => tracing::warn!(
                    "Cannot renew the lease of issue #{issue} on `{}` (trying again in {}s): {error}",
                    self.remote,
                    interval.as_secs()
                ),
            }
        }
    }
}

/// A remote lease this process holds; dropping it stops the renewal and
/// deletes the ref while it is still this loop's, then drops the local
/// lock.
struct HeldLease {
    leases: RemoteLeases,
    holder: Holder,
    shared: Arc<Shared>,
    renewal: Option<JoinHandle<()>>,
    /// Sync before the release: `team.sync`, once the first sync went
    /// through.
    sync_on_release: bool,
    /// Dropped after the remote lease (fields drop after `drop` runs).
    _local: Box<dyn Lease>,
}

impl std::fmt::Debug for HeldLease {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("HeldLease")
            .field("remote", &self.leases.remote)
            .field("holder", &self.holder)
            .finish_non_exhaustive()
    }
}

impl Lease for HeldLease {
    fn holder(&self) -> &Holder {
        &self.holder
    }
}

impl Drop for HeldLease {
    fn drop(&mut self) {
        let issue = self.holder.issue;
        if self.sync_on_release && !self.shared.lost.load(Ordering::SeqCst) {
            // While the lease is still renewed: what this loop recorded
            // reaches the remote before another loop can take the issue.
            match crate::sync::sync(&self.leases.layout, &self.leases.remote) {
                Ok(synced) => tracing::info!(
                    issue,
                    events = synced.events,
                    pushed = synced.pushed,
                    "Synced before releasing the lease"
                ),
                Err(error) => tracing::warn!(
                    "Cannot sync before releasing the lease of issue #{issue}: {error}; run `ralph marketplace sync`"
                ),
            }
        }
        *self
            .shared
            .released
            .lock()
            .unwrap_or_else(|poison| poison.into_inner()) = true;
        self.shared.wake.notify_all();
        if let Some(renewal) = self.renewal.take() {
            let _ = renewal.join();
        }
        if self.shared.lost.load(Ordering::SeqCst) {
            return;
        }
        let current = self
            .shared
            .current
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .clone();
        match self.leases.push(issue, None, Expect::Oid(&current)) {
            Ok(Pushed::Done) => tracing::debug!(issue, "Released the lease"),
            Ok(Pushed::Refused) => tracing::warn!(
                "The lease of issue #{issue} on `{}` was taken over before it was released",
                self.leases.remote
            ),
            Err(error) => tracing::warn!(
                "Cannot release the lease of issue #{issue} on `{}` ({error}); it expires at {}",
                self.leases.remote,
                self.holder.expires.as_deref().unwrap_or("its expiry")
            ),
        }
    }
}

/// One lease on the remote, as `ralph marketplace leases` lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteLease {
    pub issue: u64,
    /// The blob the ref points at.
    pub oid: String,
    /// Its holder, or why it cannot be read.
    pub holder: Result<Holder, String>,
}

/// Where a listed lease is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LeaseKind {
    /// A ref on the remote.
    Remote,
    /// A lock file in `.ralph/locks/`.
    Local,
}

/// A lease or lock as listed: who holds which issue until when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Listed {
    pub issue: u64,
    pub kind: LeaseKind,
    /// The remote's name, for a remote lease.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holder: Option<Holder>,
    /// Why the holder cannot be read, when it cannot.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unreadable: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    /// A remote lease past its expiry (another loop may take it over), or
    /// a local lock whose process is gone.
    pub expired: bool,
}

/// The leases on `leases`' remote, listed.
pub fn list_remote(leases: &RemoteLeases) -> Result<Vec<Listed>, String> {
    let now = Utc::now();
    Ok(leases
        .list()?
        .into_iter()
        .map(|lease| {
            let (holder, unreadable) = match lease.holder {
                Ok(holder) => (Some(holder), None),
                Err(reason) => (None, Some(reason)),
            };
            let expired = holder
                .as_ref()
                .and_then(expiry_of)
                .is_some_and(|expires| expires <= now);
            Listed {
                issue: lease.issue,
                kind: LeaseKind::Remote,
                remote: Some(leases.remote.clone()),
                expires: holder.as_ref().and_then(|holder| holder.expires.clone()),
                holder,
                unreadable,
                expired,
            }
        })
        .collect())
}

/// The local locks of `layout`'s repository, listed.
pub fn list_local(layout: &Layout) -> std::io::Result<Vec<Listed>> {
    let locks = LocalLocks::new(layout);
    let mut numbers: Vec<u64> = match std::fs::read_dir(layout.locks_dir()) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .filter_map(|entry| {
                entry
                    .file_name()
                    .to_str()?
                    .strip_suffix(".lock")?
                    .parse()
                    .ok()
            })
            .collect(),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(error) => return Err(error),
    };
    numbers.sort_unstable();
    Ok(numbers
        .into_iter()
        .map(|issue| {
            let (holder, unreadable, expired) = match locks.read(issue) {
                Ok(holder) => {
                    let stale = holder.is_stale();
                    (Some(holder), None, stale)
                }
                Err(reason) => (None, Some(reason), false),
            };
            Listed {
                issue,
                kind: LeaseKind::Local,
                remote: None,
                holder,
                unreadable,
                expires: None,
                expired,
            }
        })
        .collect())
}
