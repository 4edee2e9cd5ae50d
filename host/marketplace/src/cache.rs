//! The cached state: `marketplace.json` and `.state_version` (SPEC §2.5).
//!
//! `.state_version` records what `marketplace.json` was folded from: the
//! number of entries in `events/` and a digest of their names, and for an
//! entry that is not a regular file its reason for exclusion (so a merge
//! that swaps one event for another, or a file turned into a symlink, is
//! noticed), a digest of the config, and a digest of
//! `marketplace.json` itself (so two writers racing cannot pair one's state
//! with the other's version). A stale cache is never used; deleting both
//! files is always safe.
//!
//! Listing 100,000 event names takes longer than `status` may, so the version
//! also records a *stamp* of the events directory: its identity and
//! modification time, and a file-system timestamp taken before the listing.
//! Any change to the directory's entries moves its modification time to at
//! least the current file-system time, so when the directory is unchanged and
//! its time is strictly older than the stamp, nothing can have changed since
//! the listing (the same reasoning as git's racily-clean index entries). When
//! that cannot be shown, the names are listed and their digest compared.

use std::fs;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::layout::Layout;
use crate::state::State;
use crate::store::{
    Follow, ReadError, StoreError, read_regular, sync_directory, write_synced_temporary,
};

/// 2 since entries that are not regular files are listed and excluded: a
/// cache folded by an older Ralph, which skipped them silently, is stale.
const FORMAT: u32 = 2;
/// The largest cache file read: the state lists every excluded file, so a
/// log of 100,000 broken files still fits.
const MAX_CACHE_BYTES: u64 = 64 * 1024 * 1024;

/// What `.state_version` holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateVersion {
    pub format: u32,
    pub event_files: u64,
    pub names_digest: String,
    pub config_digest: String,
    pub state_digest: String,
    #[serde(default)]
    pub stamp: Option<DirectoryStamp>,
}

/// The events directory as it was just before it was listed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectoryStamp {
    pub device: u64,
    pub inode: u64,
    pub modified_ns: i128,
    /// A file-system time taken before the directory was looked at.
    pub taken_ns: i128,
}

impl DirectoryStamp {
    /// True when this stamp proves the directory unchanged: same directory,
    /// same modification time, and that time strictly before the stamp.
    fn proves_unchanged(&self, current: Option<DirectoryStamp>) -> bool {
        current.is_some_and(|current| {
            current.device == self.device
                && current.inode == self.inode
                && current.modified_ns == self.modified_ns
                && self.modified_ns < self.taken_ns
        })
    }
}

/// The hex SHA-256 of `bytes`.
pub fn digest(bytes: &[u8]) -> String {
    let hash = Sha256::digest(bytes);
    hash.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The digest of a sorted list of event file names (the lines of
/// [`crate::store::Listing::digest_lines`]).
pub fn names_digest(sorted_names: &[String]) -> String {
    let mut hasher = Sha256::new();
    for name in sorted_names {
        hasher.update(name.as_bytes());
        hasher.update(b"\n");
    }
    hasher
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Why the cache cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Staleness {
    Missing,
    Unreadable(String),
    ConfigChanged,
    StateMismatch,
    EventsChanged,
}

impl std::fmt::Display for Staleness {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Staleness::Missing => formatter.write_str("no cache yet"),
            Staleness::Unreadable(reason) => write!(formatter, "the cache is unreadable: {reason}"),
            Staleness::ConfigChanged => formatter.write_str("the config changed"),
            Staleness::StateMismatch => {
                formatter.write_str("marketplace.json does not match .state_version")
            }
            Staleness::EventsChanged => formatter.write_str("the event files changed"),
        }
    }
}

/// A snapshot of the events directory to stamp a new version with: take it
/// *before* listing the directory.
pub struct PendingStamp {
    stamp: Option<DirectoryStamp>,
}

/// Takes a stamp of `events_dir`, using a scratch file in `tmp_dir` to read
/// the file system's clock. `None` inside when the platform cannot tell.
pub fn take_stamp(tmp_dir: &Path, events_dir: &Path) -> PendingStamp {
    PendingStamp {
        stamp: stamp_now(tmp_dir, events_dir),
    }
}

#[cfg(unix)]
fn stamp_now(tmp_dir: &Path, events_dir: &Path) -> Option<DirectoryStamp> {
    let clock = write_synced_temporary(tmp_dir, b"").ok()?;
    let taken = fs::metadata(&clock).and_then(|metadata| metadata.modified());
    let _ = fs::remove_file(&clock);
    let taken_ns = taken
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_nanos();
    let mut stamp = directory_identity(events_dir)?;
    stamp.taken_ns = i128::try_from(taken_ns).ok()?;
    Some(stamp)
}

#[cfg(not(unix))]
fn stamp_now(_tmp_dir: &Path, _events_dir: &Path) -> Option<DirectoryStamp> {
    None
}

#[cfg(unix)]
fn directory_identity(events_dir: &Path) -> Option<DirectoryStamp> {
    use std::os::unix::fs::MetadataExt;
    let metadata = fs::metadata(events_dir).ok()?;
    Some(DirectoryStamp {
        device: metadata.dev(),
        inode: metadata.ino(),
        modified_ns: i128::from(metadata.mtime()) * 1_000_000_000
            + i128::from(metadata.mtime_nsec()),
        taken_ns: 0,
    })
}

#[cfg(not(unix))]
fn directory_identity(_events_dir: &Path) -> Option<DirectoryStamp> {
    None
}

/// Reads the cached state if it is usable without listing the events: the
/// version and state agree, the config is the same, and the stamp proves the
/// events directory unchanged. Otherwise returns the version (if readable)
/// so the caller can compare names.
pub fn read_cached(layout: &Layout, config_digest: &str) -> Result<Cached, Staleness> {
    let version_bytes = read_cache_file(&layout.state_version_file())?;
    let version: StateVersion = serde_json::from_slice(&version_bytes)
        .map_err(|error| Staleness::Unreadable(format!(".state_version: {error}")))?;
    if version.format != FORMAT {
        return Err(Staleness::Unreadable(format!(
            ".state_version: format {} is not {FORMAT}",
            version.format
        )));
    }
    if version.config_digest != config_digest {
        return Err(Staleness::ConfigChanged);
    }
    let state_bytes = read_cache_file(&layout.state_file())?;
    if digest(&state_bytes) != version.state_digest {
        return Err(Staleness::StateMismatch);
    }
    let state: State = serde_json::from_slice(&state_bytes)
        .map_err(|error| Staleness::Unreadable(format!("marketplace.json: {error}")))?;
    let proven = version
        .stamp
        .is_some_and(|stamp| stamp.proves_unchanged(directory_identity(&layout.events_dir())));
    Ok(Cached {
        version,
        state,
        state_json: String::from_utf8_lossy(&state_bytes).into_owned(),
        proven,
    })
}

/// The bytes of a cache file Ralph wrote: a regular file (never a symlink,
/// FIFO or device, which a merge could have put there) within
/// [`MAX_CACHE_BYTES`].
pub(crate) fn read_cache_file(path: &Path) -> Result<Vec<u8>, Staleness> {
    match read_regular(path, MAX_CACHE_BYTES, Follow::Never) {
        Ok(bytes) => Ok(bytes),
        Err(ReadError::Io(error)) if error.kind() == std::io::ErrorKind::NotFound => {
            Err(Staleness::Missing)
        }
        Err(error) => Err(Staleness::Unreadable(format!(
            "{}: {error}",
            path.file_name().unwrap_or_default().to_string_lossy()
        ))),
    }
}

/// A readable, self-consistent cache.
#[derive(Clone, Debug)]
pub struct Cached {
    pub version: StateVersion,
    pub state: State,
    /// The exact text of `marketplace.json`.
    pub state_json: String,
    /// True when the directory stamp alone proves it fresh.
    pub proven: bool,
}

impl Cached {
    /// True when the listed `sorted_names` are the ones it was folded from.
    pub fn matches_names(&self, sorted_names: &[String]) -> bool {
        self.version.event_files == sorted_names.len() as u64
            && self.version.names_digest == names_digest(sorted_names)
    }
}

/// Writes `state` and its version atomically (each file replaced whole;
/// `marketplace.json` first so a reader pairing them checks the digest).
pub fn write(
    layout: &Layout,
    state: &State,
    sorted_names: &[String],
    config_digest: &str,
    stamp: PendingStamp,
) -> Result<(), StoreError> {
    let state_json = state.to_json();
    let version = StateVersion {
        format: FORMAT,
        event_files: sorted_names.len() as u64,
        names_digest: names_digest(sorted_names),
        config_digest: config_digest.to_owned(),
        state_digest: digest(state_json.as_bytes()),
        stamp: stamp.stamp,
    };
    replace_file(layout, &layout.state_file(), state_json.as_bytes())?;
    let mut version_json = serde_json::to_vec_pretty(&version).unwrap_or_default();
    version_json.push(b'\n');
    replace_file(layout, &layout.state_version_file(), &version_json)
}

/// Re-stamps a cache that was shown fresh by listing, so the next reader
/// can skip the listing.
pub fn restamp(layout: &Layout, cached: &Cached, stamp: PendingStamp) -> Result<(), StoreError> {
    let mut version = cached.version.clone();
    version.stamp = stamp.stamp;
    let mut version_json = serde_json::to_vec_pretty(&version).unwrap_or_default();
    version_json.push(b'\n');
    replace_file(layout, &layout.state_version_file(), &version_json)
}

pub(crate) fn replace_file(layout: &Layout, path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let temporary = write_synced_temporary(&layout.tmp_dir(), bytes)?;
    fs::rename(&temporary, path).map_err(|source| {
        let _ = fs::remove_file(&temporary);
        StoreError::Io {
            path: path.to_owned(),
            source,
        }
    })?;
    sync_directory(&layout.ralph_dir())
}
