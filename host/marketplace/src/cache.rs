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
//!
//! An append by Ralph keeps a proven cache proven without a listing
//! ([`extend`]): the names digest is a chain over the sorted names, so one
//! name that sorts after the last one extends it, and an event later than
//! every other one extends the fold by one step. Ralph's appends take an
//! exclusive lock, and the events directory is looked at right before and
//! right after the link: the extension is made only when the directory
//! had not changed since the cache was proven, and its stamp only when the
//! directory is still as the append left it once the file-system clock has
//! moved past it. What no check can see is another program (not Ralph)
//! changing `events/` between those two looks, one `link` call apart; on a
//! file system with multigrain timestamps (Linux 6.13 and later on ext4,
//! XFS, btrfs, tmpfs) that is the whole window, and any later change moves
//! the directory's time. `ralph marketplace verify` compares the cache with
//! a fold of every event.

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
/// 3 since the names digest is a chain and the last name is kept, so an
/// append can extend them.
const FORMAT: u32 = 3;
/// How long an append waits for the file-system clock to move past the
/// events directory's new time, so that its stamp can prove the cache.
const CLOCK_WAIT: std::time::Duration = std::time::Duration::from_millis(50);
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
    /// The last of the sorted names (the lines of
    /// [`crate::store::Listing::digest_lines`]), which an extension must
    /// sort after.
    #[serde(default)]
    pub last_line: Option<String>,
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

    /// True when `other` is the same directory at the same modification
    /// time (whatever either's `taken_ns`).
    pub fn same_directory(&self, other: &DirectoryStamp) -> bool {
        self.device == other.device
            && self.inode == other.inode
            && self.modified_ns == other.modified_ns
    }
}

/// The hex SHA-256 of `bytes`.
pub fn digest(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// The digest of a sorted list of event file names (the lines of
/// [`crate::store::Listing::digest_lines`]): a chain, `d₀ = SHA-256("")` and
/// `dᵢ₊₁ = SHA-256(dᵢ ‖ lineᵢ)`, so a line added at the end extends it
/// ([`extend_names_digest`]).
pub fn names_digest(sorted_names: &[String]) -> String {
    let start: [u8; 32] = Sha256::digest(b"").into();
    let chained = sorted_names
        .iter()
        .fold(start, |previous, line| chain(&previous, line));
    hex(&chained)
}

/// The names digest `digest` with `line` added at the end; `None` when
/// `digest` is not one.
pub fn extend_names_digest(digest: &str, line: &str) -> Option<String> {
    if digest.len() != 64 {
        return None;
    }
    let mut previous = [0u8; 32];
    for (index, byte) in previous.iter_mut().enumerate() {
        *byte = u8::from_str_radix(digest.get(index * 2..index * 2 + 2)?, 16).ok()?;
    }
    Some(hex(&chain(&previous, line)))
}

fn chain(previous: &[u8; 32], line: &str) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(previous);
    hasher.update(line.as_bytes());
    hasher.finalize().into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
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
    let taken_ns = file_system_time(tmp_dir)?;
    let mut stamp = directory_identity(events_dir)?;
    stamp.taken_ns = taken_ns;
    Some(stamp)
}

#[cfg(not(unix))]
fn stamp_now(_tmp_dir: &Path, _events_dir: &Path) -> Option<DirectoryStamp> {
    None
}

/// The file system's clock: the time of a new scratch file in `tmp_dir`.
fn file_system_time(tmp_dir: &Path) -> Option<i128> {
    let clock = write_synced_temporary(tmp_dir, b"").ok()?;
    let taken = fs::metadata(&clock).and_then(|metadata| metadata.modified());
    let _ = fs::remove_file(&clock);
    let taken_ns = taken
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_nanos();
    i128::try_from(taken_ns).ok()
}

/// A stamp for the events directory as an append left it (`after`, looked
/// at right after the link): once the file-system clock has moved past the
/// directory's time, the directory must still be as `after` saw it. `None`
/// when it changed or the clock did not move within [`CLOCK_WAIT`]; the
/// next reader then lists the names.
pub fn stamp_after_append(
    tmp_dir: &Path,
    events_dir: &Path,
    after: &DirectoryStamp,
) -> Option<DirectoryStamp> {
    let deadline = std::time::Instant::now() + CLOCK_WAIT;
    let taken_ns = loop {
        let now = file_system_time(tmp_dir)?;
        if now > after.modified_ns {
            break now;
        }
        if std::time::Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(std::time::Duration::from_micros(200));
    };
    let current = directory_identity(events_dir)?;
    current.same_directory(after).then_some(DirectoryStamp {
        taken_ns,
        ..current
    })
}

#[cfg(unix)]
pub(crate) fn directory_identity(events_dir: &Path) -> Option<DirectoryStamp> {
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
pub(crate) fn directory_identity(_events_dir: &Path) -> Option<DirectoryStamp> {
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
        last_line: sorted_names.last().cloned(),
    };
    write_pair(layout, &state_json, &version)
}

/// Writes the cache for `cached`'s events plus one appended event whose
/// digest line is `line` (it sorts after every other), now folded to
/// `state`. Returns the new version, or `None` (writing nothing) when
/// `line` does not sort last.
pub fn extend(
    layout: &Layout,
    cached: &Cached,
    state: &State,
    line: &str,
    stamp: Option<DirectoryStamp>,
) -> Result<Option<StateVersion>, StoreError> {
    let sorts_last = match &cached.version.last_line {
        Some(last) => line > last.as_str(),
        None => cached.version.event_files == 0,
    };
    let Some(names_digest) =
        extend_names_digest(&cached.version.names_digest, line).filter(|_| sorts_last)
    else {
        return Ok(None);
    };
    let state_json = state.to_json();
    let version = StateVersion {
        format: FORMAT,
        event_files: cached.version.event_files + 1,
        names_digest,
        config_digest: cached.version.config_digest.clone(),
        state_digest: digest(state_json.as_bytes()),
        stamp,
        last_line: Some(line.to_owned()),
    };
    write_pair(layout, &state_json, &version)?;
    Ok(Some(version))
}

/// `marketplace.json` first, so a reader pairing it with the old version
/// finds the digests differ.
fn write_pair(layout: &Layout, state_json: &str, version: &StateVersion) -> Result<(), StoreError> {
    replace_file(layout, &layout.state_file(), state_json.as_bytes())?;
    let mut version_json = serde_json::to_vec_pretty(version).unwrap_or_default();
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
