//! The event log on disk: listing, reading and appending event files.
//!
//! An append never replaces a file and a reader never sees a partial one: the
//! event is written to `.ralph/tmp/`, synced, then hard-linked into
//! `.ralph/events/` under its canonical name (the link fails rather than
//! replace an existing name; on a clash the next microsecond is tried). An
//! append of an event the log already holds writes nothing.
//!
//! Reading trusts nothing in the directory (SPEC §2.2): the listing takes
//! each entry's own type (`lstat`), and anything that is not a regular file
//! is excluded unopened; a listed file is opened with `O_NOFOLLOW |
//! O_NONBLOCK`, checked again on the open handle, and read only up to
//! [`MAX_EVENT_BYTES`].

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use chrono::{DateTime, TimeDelta, Utc};

use crate::cache::{DirectoryStamp, directory_identity};
use crate::event::{self, Event};
use crate::fold::EventFile;
use crate::layout::Layout;

/// How many microseconds an append moves forward before giving up.
const MAX_NAME_ATTEMPTS: i64 = 10_000;
/// The read buffer an event file usually fits in.
const READ_BUFFER: usize = 8 * 1024;
/// The additive field a moved event keeps its original timestamp in.
pub const REQUESTED_TIMESTAMP: &str = "requested_timestamp";
/// The largest event file read or written (SPEC §2.2): 64 KiB.
pub const MAX_EVENT_BYTES: u64 = 64 * 1024;

/// A failure of the event store, naming the path involved.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("{}: no free file name for this event after {MAX_NAME_ATTEMPTS} microseconds", path.display())]
    NoFreeName { path: PathBuf },
    /// `what` it is instead: "a regular file", or a [`FileKind`].
    #[error("{}: {what}, not a directory; the event log must be a directory inside the repository", path.display())]
    NotADirectory { path: PathBuf, what: String },
    #[error("{}: the event would take {size} bytes, over the {MAX_EVENT_BYTES}-byte limit of an event file", path.display())]
    TooLarge { path: PathBuf, size: u64 },
}

impl StoreError {
    fn io(path: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
        move |source| StoreError::Io {
            path: path.to_owned(),
            source,
        }
    }
}

/// The event log of one repository.
#[derive(Clone, Debug)]
pub struct EventStore {
    events: PathBuf,
    tmp: PathBuf,
}

/// Where an appended event landed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Appended {
    pub path: PathBuf,
    pub file_name: String,
    /// The timestamp written, which is later than the event's own when its
    /// name was taken.
    pub timestamp: String,
    /// True when the log already held this very event (the same content,
    /// see [`EventStore::append`]): nothing was written.
    pub already_recorded: bool,
    /// The events directory right before and right after the link, when
    /// this append wrote the file and the platform can tell.
    pub directory: Option<DirectoryChange>,
}

/// The events directory as an append saw it around its link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DirectoryChange {
    pub before: DirectoryStamp,
    pub after: DirectoryStamp,
}

/// What reading the file `name` gave: its event, checked against its name.
pub fn event_file(name: &str, bytes: Result<&[u8], ReadError>) -> EventFile {
    EventFile {
        name: name.to_owned(),
        event: match bytes {
            Ok(bytes) => {
                Event::parse(bytes).and_then(|event| match event::name_mismatch(name, &event) {
                    None => Ok(event),
                    Some(error) => Err(error),
                })
            }
            Err(error) => Err(event::EventError {
                field: None,
                message: error.to_string(),
            }),
        },
    }
}

/// Whether [`EventStore::link_new`] linked the file.
enum Linked {
    Yes(Option<DirectoryChange>),
    /// The name was taken.
    Taken,
}

/// What is in the events directory: the regular `*.json` files to read,
/// and every other entry, which is never opened.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Listing {
    /// The names of regular files ending in `.json`, sorted.
    pub files: Vec<String>,
    /// Entries that are not regular files (symlinks, directories, FIFOs,
    /// devices, sockets) or whose names are not UTF-8, sorted by name.
    pub refused: Vec<Refused>,
}

/// An entry of the events directory left out without being opened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refused {
    /// The name, lossily decoded when it is not UTF-8.
    pub name: String,
    /// The name as the file system has it.
    pub os_name: std::ffi::OsString,
    pub reason: String,
}

impl Listing {
    /// How many entries were found, read or not.
    pub fn len(&self) -> usize {
        self.files.len() + self.refused.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// One line per entry, sorted: the name, and for a refused one its
    /// reason. What the cache's names digest covers, so turning a file into
    /// a symlink (or back) makes the cache stale.
    pub fn digest_lines(&self) -> Vec<String> {
        let mut lines: Vec<String> = self.files.clone();
        lines.extend(
            self.refused
                .iter()
                .map(|refused| format!("{}\0{}", refused.name, refused.reason)),
        );
        lines.sort_unstable();
        lines
    }
}

/// The kind of a directory entry that is not a regular file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    Symlink,
    Directory,
    Fifo,
    Socket,
    BlockDevice,
    CharacterDevice,
    Unknown,
}

impl FileKind {
    /// The kind of `file_type`, or `None` for a regular file.
    pub fn of(file_type: fs::FileType) -> Option<FileKind> {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_file() {
            None
        } else if file_type.is_symlink() {
            Some(FileKind::Symlink)
        } else if file_type.is_dir() {
            Some(FileKind::Directory)
        } else if file_type.is_fifo() {
            Some(FileKind::Fifo)
        } else if file_type.is_socket() {
            Some(FileKind::Socket)
        } else if file_type.is_block_device() {
            Some(FileKind::BlockDevice)
        } else if file_type.is_char_device() {
            Some(FileKind::CharacterDevice)
        } else {
            Some(FileKind::Unknown)
        }
    }
}

impl std::fmt::Display for FileKind {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(match self {
            FileKind::Symlink => "a symbolic link",
            FileKind::Directory => "a directory",
            FileKind::Fifo => "a FIFO (named pipe)",
            FileKind::Socket => "a socket",
            FileKind::BlockDevice => "a block device",
            FileKind::CharacterDevice => "a character device",
            FileKind::Unknown => "not a regular file",
        })
    }
}

/// Why a file's bytes were not read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{kind}, not a regular file, so it was not opened")]
    NotRegular { kind: FileKind },
    #[error("larger than the limit of {limit} bytes, so it was not read")]
    TooLarge { limit: u64 },
    #[error("cannot read the file: {0}")]
    Io(#[from] io::Error),
}

impl EventStore {
    pub fn new(layout: &Layout) -> Self {
        EventStore {
            events: layout.events_dir(),
            tmp: layout.tmp_dir(),
        }
    }

    pub fn events_dir(&self) -> &Path {
        &self.events
    }

    /// Lists the events directory without opening any entry: regular
    /// `*.json` files to read, and every entry that is not a regular file
    /// (hidden names, starting with `.`, and other regular files are left
    /// alone). A missing directory holds no events; a directory that is
    /// itself a symlink is refused.
    pub fn list(&self) -> Result<Listing, StoreError> {
        match fs::symlink_metadata(&self.events) {
            Ok(metadata) if metadata.is_dir() => {}
            Ok(metadata) => {
                return Err(StoreError::NotADirectory {
                    path: self.events.clone(),
                    what: FileKind::of(metadata.file_type())
                        .map_or_else(|| "a regular file".to_owned(), |kind| kind.to_string()),
                });
            }
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                return Ok(Listing::default());
            }
            Err(error) => return Err(StoreError::io(&self.events)(error)),
        }
        let entries = fs::read_dir(&self.events).map_err(StoreError::io(&self.events))?;
        let mut listing = Listing::default();
        for entry in entries {
            let entry = entry.map_err(StoreError::io(&self.events))?;
            let os_name = entry.file_name();
            let name = os_name.to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            // The entry's own type (lstat): a symlink is never followed.
            let file_type = entry.file_type().map_err(StoreError::io(&self.events))?;
            let kind = FileKind::of(file_type);
            let reason = match (kind, os_name.to_str()) {
                (Some(kind), _) => refusal(&entry.path(), kind),
                (None, None) => "the file name is not UTF-8, so it was not opened".to_owned(),
                (None, Some(_)) if !name.ends_with(".json") => continue,
                (None, Some(_)) => {
                    listing.files.push(name);
                    continue;
                }
            };
            listing.refused.push(Refused {
                name,
                os_name,
                reason,
            });
        }
        listing.files.sort_unstable();
        listing
            .refused
            .sort_unstable_by(|left, right| left.name.cmp(&right.name));
        Ok(listing)
    }

    /// Reads and parses every file of `listing`, in parallel, and adds the
    /// refused entries as files that failed: the whole directory as the fold
    /// sees it.
    pub fn read_listing(&self, listing: &Listing) -> Vec<EventFile> {
        let mut files = self.read(&listing.files);
        files.extend(listing.refused.iter().map(|refused| EventFile {
            name: refused.name.clone(),
            event: Err(event::EventError {
                field: None,
                message: refused.reason.clone(),
            }),
        }));
        files
    }

    /// Reads and parses the named event files, in parallel. A file whose
    /// name is canonical but disagrees with its content is an error.
    pub fn read(&self, names: &[String]) -> Vec<EventFile> {
        self.map_files(names, event_file)
    }

    /// Reads one named file as [`EventStore::read`] does, with its bytes;
    /// `None` when it cannot be read.
    pub fn read_with_bytes(&self, name: &str) -> Option<(EventFile, Vec<u8>)> {
        let names = [name.to_owned()];
        let mut read = self.map_files_on(1, &names, |name, bytes| {
            let kept = bytes.as_ref().ok().map(|bytes| bytes.to_vec());
            kept.map(|kept| (event_file(name, bytes), kept))
        });
        read.pop().flatten()
    }

    /// Reads the named files and hands each one's bytes to `work`, spread
    /// over the machine's cores; results come back in `names` order. A file
    /// is opened without following a symlink and without blocking, and read
    /// only when it is a regular file within [`MAX_EVENT_BYTES`].
    pub fn map_files<T, F>(&self, names: &[String], work: F) -> Vec<T>
    where
        T: Send,
        F: Fn(&str, Result<&[u8], ReadError>) -> T + Sync,
    {
        let threads = std::thread::available_parallelism()
            .map(usize::from)
            .unwrap_or(1)
            .clamp(1, 8);
        self.map_files_on(threads, names, work)
    }

    /// [`EventStore::map_files`] on exactly `threads` threads.
    pub fn map_files_on<T, F>(&self, threads: usize, names: &[String], work: F) -> Vec<T>
    where
        T: Send,
        F: Fn(&str, Result<&[u8], ReadError>) -> T + Sync,
    {
        let threads = threads.max(1);
        let chunk = names.len().div_ceil(threads).max(1);
        let work = &work;
        std::thread::scope(|scope| {
            let handles: Vec<_> = names
                .chunks(chunk)
                .map(|chunk| {
                    scope.spawn(move || {
                        let mut buffer = Vec::with_capacity(READ_BUFFER);
                        chunk
                            .iter()
                            .map(|name| {
                                let read = read_event_file(&self.events.join(name), &mut buffer);
                                work(name, read.map(|()| buffer.as_slice()))
                            })
                            .collect::<Vec<T>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|handle| match handle.join() {
                    Ok(results) => results,
                    Err(panic) => std::panic::resume_unwind(panic),
                })
                .collect()
        })
    }

    /// Appends `event`, whose full JSON document is `document`, under its
    /// canonical name and with its timestamp in canonical form; never
    /// replaces an existing file. When the name is taken, the next
    /// microsecond is tried, the document's timestamp moved with it and the
    /// original kept in `requested_timestamp`.
    ///
    /// An event is already in the log when one of the names this append
    /// tries holds exactly what it would write there: the same JSON content,
    /// compared as values (key order, spacing and number spelling aside),
    /// in a file of the size this append would write.
    /// Then nothing is written and `already_recorded` is set. Only the names
    /// an append of this event could have taken are compared, so a retry
    /// costs the same on a log of any size.
    pub fn append(
        &self,
        event: &Event,
        document: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<Appended, StoreError> {
        fs::create_dir_all(&self.events).map_err(StoreError::io(&self.events))?;
        fs::create_dir_all(&self.tmp).map_err(StoreError::io(&self.tmp))?;
        let mut document = document.clone();
        let mut buffer = Vec::with_capacity(READ_BUFFER);
        for attempt in 0..MAX_NAME_ATTEMPTS {
            let time = event.time + TimeDelta::microseconds(attempt);
            let timestamp = event::format_timestamp(&time);
            document.insert("timestamp".into(), timestamp.clone().into());
            if attempt == 1 {
                // A moved event keeps the instant it was recorded for, so it
                // is never taken for an event truly at its new instant.
                document
                    .entry(REQUESTED_TIMESTAMP)
                    .or_insert_with(|| event::format_timestamp(&event.time).into());
            }
            let file_name = event::file_name(&time, &event.bot_id, event.outcome);
            let path = self.events.join(&file_name);
            let appended = |already_recorded, directory| Appended {
                path: path.clone(),
                file_name: file_name.clone(),
                timestamp: timestamp.clone(),
                already_recorded,
                directory,
            };
            // A name seen taken is compared before anything is written; the
            // link below still refuses one taken in the meantime.
            if let Ok(metadata) = path.symlink_metadata() {
                if holds(&path, &metadata, &document, &mut buffer) {
                    return Ok(appended(true, None));
                }
                continue;
            }
            if let Linked::Yes(directory) = self.link_new(&document, &path)? {
                return Ok(appended(false, directory));
            }
            if let Ok(metadata) = path.symlink_metadata()
                && holds(&path, &metadata, &document, &mut buffer)
            {
                return Ok(appended(true, None));
            }
        }
        Err(StoreError::NoFreeName {
            path: self.events.clone(),
        })
    }

    /// Writes `document` to a synced temporary file and links it to `path`,
    /// looking at the events directory right before and right after.
    fn link_new(
        &self,
        document: &serde_json::Map<String, serde_json::Value>,
        path: &Path,
    ) -> Result<Linked, StoreError> {
        let bytes = encode(document);
        if bytes.len() as u64 > MAX_EVENT_BYTES {
            return Err(StoreError::TooLarge {
                path: path.to_owned(),
                size: bytes.len() as u64,
            });
        }
        let temporary = write_synced_temporary(&self.tmp, &bytes)?;
        let before = directory_identity(&self.events);
        let linked = fs::hard_link(&temporary, path);
        let after = directory_identity(&self.events);
        // The temporary name is ours alone; failing to remove it leaves
        // garbage in the ignored tmp/ directory, never a wrong event.
        let _ = fs::remove_file(&temporary);
        match linked {
            Ok(()) => {
                sync_directory(&self.events)?;
                let change = before
                    .zip(after)
                    .map(|(before, after)| DirectoryChange { before, after });
                Ok(Linked::Yes(change))
            }
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => Ok(Linked::Taken),
            Err(error) => Err(StoreError::io(path)(error)),
        }
    }

    /// Moves every event file into a new directory under `archive_root`
    /// named after `now`; returns it and how many files moved.
    pub fn archive(
        &self,
        archive_root: &Path,
        now: DateTime<Utc>,
    ) -> Result<(PathBuf, usize), StoreError> {
        let listing = self.list()?;
        let stamp = now.format("%Y-%m-%dT%H-%M-%S-%6fZ").to_string();
        let mut target = archive_root.join(&stamp);
        let mut suffix = 1;
        while target.exists() {
            target = archive_root.join(format!("{stamp}-{suffix}"));
            suffix += 1;
        }
        fs::create_dir_all(&target).map_err(StoreError::io(&target))?;
        // Renaming moves an entry without opening it, symlinks included.
        let names = listing.files.iter().map(std::ffi::OsString::from).chain(
            listing
                .refused
                .iter()
                .map(|refused| refused.os_name.clone()),
        );
        for name in names {
            let destination = target.join(&name);
            fs::rename(self.events.join(&name), &destination)
                .map_err(StoreError::io(&destination))?;
        }
        sync_directory(&target)?;
        sync_directory(&self.events)?;
        Ok((target, listing.len()))
    }
}

/// The bytes an event document is written as: pretty JSON and a newline.
pub fn encode(document: &serde_json::Map<String, serde_json::Value>) -> Vec<u8> {
    // Serialising a map of JSON values cannot fail.
    let mut bytes = serde_json::to_vec_pretty(document).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

/// True when the event file at `path` (whose `metadata` was just taken)
/// holds `document` (as JSON values). A file of another size than the
/// document's encoding is not read: every append writes [`encode`], whose
/// length key order and the input's spacing do not change.
fn holds(
    path: &Path,
    metadata: &fs::Metadata,
    document: &serde_json::Map<String, serde_json::Value>,
    buffer: &mut Vec<u8>,
) -> bool {
    metadata.len() == encode(document).len() as u64
        && read_event_file(path, buffer).is_ok()
        && serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(buffer)
            .is_ok_and(|stored| stored == *document)
}

/// Opens the event file at `path` and reads it into `buffer`: see
/// [`read_regular_into`].
fn read_event_file(path: &Path, buffer: &mut Vec<u8>) -> Result<(), ReadError> {
    read_regular_into(path, MAX_EVENT_BYTES, Follow::Never, buffer)
}

/// Whether opening a file may follow a symlink at its last component.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Follow {
    Never,
    /// Follow it, and then insist on a regular file all the same.
    ToARegularFile,
}

/// Reads the regular file at `path`, at most `limit` bytes, whole.
pub fn read_regular(path: &Path, limit: u64, follow: Follow) -> Result<Vec<u8>, ReadError> {
    let mut buffer = Vec::new();
    read_regular_into(path, limit, follow, &mut buffer)?;
    Ok(buffer)
}

/// Opens `path` without blocking (a FIFO opens at once instead of waiting
/// for a writer) and, with [`Follow::Never`], without following a symlink;
/// checks on the open handle (`fstat`, so nothing swapped in after a
/// listing slips through) that it is a regular file of at most `limit`
/// bytes, and reads it into `buffer`, never more than `limit` plus one byte.
pub fn read_regular_into(
    path: &Path,
    limit: u64,
    follow: Follow,
    buffer: &mut Vec<u8>,
) -> Result<(), ReadError> {
    use std::os::unix::fs::OpenOptionsExt;
    buffer.clear();
    let flags = match follow {
        Follow::Never => nix::libc::O_NOFOLLOW | nix::libc::O_NONBLOCK,
        Follow::ToARegularFile => nix::libc::O_NONBLOCK,
    };
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(flags)
        .open(path)
        .map_err(|error| match error.raw_os_error() {
            Some(nix::libc::ELOOP) if follow == Follow::Never => ReadError::NotRegular {
                kind: FileKind::Symlink,
            },
            _ => ReadError::Io(error),
        })?;
    let metadata = file.metadata()?;
    if let Some(kind) = FileKind::of(metadata.file_type()) {
        return Err(ReadError::NotRegular { kind });
    }
    if metadata.len() > limit {
        return Err(ReadError::TooLarge { limit });
    }
    // The file may grow after the check: read at most one byte past the cap.
    let mut limited = file.take(limit.saturating_add(1));
    let mut filled = 0;
    buffer.resize(READ_BUFFER.max(metadata.len() as usize + 1), 0);
    loop {
        if filled == buffer.len() {
            buffer.resize(buffer.len() * 2, 0);
        }
        match limited.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(read) => filled += read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(ReadError::Io(error)),
        }
    }
    buffer.truncate(filled);
    if filled as u64 > limit {
        return Err(ReadError::TooLarge { limit });
    }
    Ok(())
}

/// Why `path`, of `kind`, is left out; a symlink's target is named (read
/// with `readlink`, which opens nothing).
fn refusal(path: &Path, kind: FileKind) -> String {
    match (kind, fs::read_link(path)) {
        (FileKind::Symlink, Ok(target)) => format!(
            "a symbolic link (to {:?}), not a regular file, so it was not opened",
            target.to_string_lossy()
        ),
        _ => ReadError::NotRegular { kind }.to_string(),
    }
}

/// Creates a new file in `directory` holding `bytes`, synced to disk.
pub(crate) fn write_synced_temporary(
    directory: &Path,
    bytes: &[u8],
) -> Result<PathBuf, StoreError> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    fs::create_dir_all(directory).map_err(StoreError::io(directory))?;
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|duration| duration.as_nanos())
        .unwrap_or_default();
    let path = directory.join(format!(
        "{}-{}-{nanos}.tmp",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(StoreError::io(&path))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(StoreError::io(&path))?;
    Ok(path)
}

/// Makes a directory's entries durable (a no-op where directories cannot be
/// opened for syncing).
pub(crate) fn sync_directory(directory: &Path) -> Result<(), StoreError> {
    match File::open(directory) {
        Ok(handle) => handle.sync_all().or_else(|error| {
            // Some file systems refuse to sync a directory; the data is
            // already synced, so carry on.
            if error.kind() == io::ErrorKind::InvalidInput {
                Ok(())
            } else {
                Err(StoreError::io(directory)(error))
            }
        }),
        Err(error) => Err(StoreError::io(directory)(error)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, EventStore) {
        let directory = tempfile::tempdir().expect("temp dir");
        let store = EventStore::new(&Layout::new(directory.path()));
        (directory, store)
    }

    fn parsed(json: &str) -> (Event, serde_json::Map<String, serde_json::Value>) {
        let event = Event::parse(json.as_bytes()).expect("valid event");
        let document = serde_json::from_str(json).expect("object");
        (event, document)
    }

    const EVENT: &str = r#"{"timestamp": "2026-01-29T10:15:00.123456Z", "issue_number": 7,
        "bot_id": "bidder_1", "outcome": "success", "weight_delta": 0.1, "round": 1}"#;

    fn excluded_reason(store: &EventStore, name: &str) -> String {
        let listing = store.list().expect("list");
        let files = store.read_listing(&listing);
        let file = files
            .iter()
            .find(|file| file.name == name)
            .unwrap_or_else(|| panic!("{name} is neither read nor refused: {listing:?}"));
        file.event
            .as_ref()
            .expect_err("the file is excluded")
            .to_string()
    }

    fn mkfifo(path: &Path) {
        let status = std::process::Command::new("mkfifo")
            .arg(path)
            .status()
            .expect("mkfifo runs");
        assert!(status.success());
    }

    #[test]
    fn an_appended_event_lands_under_its_canonical_name() {
        let (_directory, store) = store();
        let (event, document) = parsed(EVENT);
        let appended = store.append(&event, &document).expect("append");
        assert_eq!(
            appended.file_name,
            "2026-01-29T10-15-00-123456Z-bidder_1-success.json"
        );
        assert!(!appended.already_recorded);
        assert_eq!(
            store.list().expect("list").files,
            std::slice::from_ref(&appended.file_name)
        );
        let read = store.read(&[appended.file_name]);
        assert_eq!(read[0].event.as_ref().expect("parses"), &event);
        let written: serde_json::Value =
            serde_json::from_slice(&fs::read(&appended.path).expect("read")).expect("json");
        assert_eq!(written["round"], 1, "additive fields are kept");
    }

    #[test]
    fn a_name_clash_takes_the_next_microsecond_and_replaces_nothing() {
        let (_directory, store) = store();
        let (event, document) = parsed(EVENT);
        let first = store.append(&event, &document).expect("first");
        let before = fs::read(&first.path).expect("read");
        let mut other = document.clone();
        other.insert("round".into(), 2.into());
        let second = store.append(&event, &other).expect("second");
        assert_eq!(
            second.file_name,
            "2026-01-29T10-15-00-123457Z-bidder_1-success.json"
        );
        assert_eq!(second.timestamp, "2026-01-29T10:15:00.123457Z");
        assert!(!second.already_recorded);
        let written: serde_json::Value =
            serde_json::from_slice(&fs::read(&second.path).expect("read")).expect("json");
        assert_eq!(written[REQUESTED_TIMESTAMP], "2026-01-29T10:15:00.123456Z");
        assert_eq!(fs::read(&first.path).expect("read"), before);
        let events = store.read(&store.list().expect("list").files);
        assert_eq!(events.len(), 2);
        assert!(events.iter().all(|file| file.event.is_ok()));
    }

    #[test]
    fn an_identical_append_is_a_no_op_that_says_so() {
        let (_directory, store) = store();
        let (event, document) = parsed(EVENT);
        let first = store.append(&event, &document).expect("first");
        // The same content in another key order and spacing.
        let (again, reordered) = parsed(
            r#"{"round": 1, "weight_delta": 0.10, "outcome": "success", "bot_id": "bidder_1",
                "issue_number": 7, "timestamp": "2026-01-29T10:15:00.123456Z"}"#,
        );
        let second = store.append(&again, &reordered).expect("second");
        assert!(second.already_recorded);
        assert_eq!(second.file_name, first.file_name);
        assert_eq!(store.list().expect("list").len(), 1);
    }

    #[test]
    fn an_identical_append_of_an_event_moved_by_a_clash_is_a_no_op() {
        let (_directory, store) = store();
        let (event, document) = parsed(EVENT);
        let mut occupant = document.clone();
        occupant.insert("round".into(), 9.into());
        store.append(&event, &occupant).expect("occupant");
        let moved = store.append(&event, &document).expect("moved");
        assert_eq!(moved.timestamp, "2026-01-29T10:15:00.123457Z");
        let retried = store.append(&event, &document).expect("retry");
        assert!(retried.already_recorded, "{retried:?}");
        assert_eq!(retried.file_name, moved.file_name);
        assert_eq!(store.list().expect("list").len(), 2);
    }

    #[test]
    fn an_event_moved_onto_the_instant_of_a_later_one_does_not_hide_it() {
        let (_directory, store) = store();
        // Two events the same but for their timestamps, one microsecond
        // apart; the first is moved onto the second's instant by a clash.
        let (event, document) = parsed(EVENT);
        let mut occupant = document.clone();
        occupant.insert("round".into(), 9.into());
        store.append(&event, &occupant).expect("occupant");
        store.append(&event, &document).expect("moved");
        let (later, later_document) = parsed(&EVENT.replace(".123456Z", ".123457Z"));
        let appended = store.append(&later, &later_document).expect("later");
        assert!(!appended.already_recorded, "{appended:?}");
        assert_eq!(store.list().expect("list").len(), 3);
    }

    #[test]
    fn the_timestamp_is_written_in_canonical_form() {
        let (_directory, store) = store();
        let (event, document) = parsed(&EVENT.replace(".123456Z", "+00:00"));
        let appended = store.append(&event, &document).expect("append");
        assert_eq!(appended.timestamp, "2026-01-29T10:15:00.000000Z");
        let written: serde_json::Value =
            serde_json::from_slice(&fs::read(&appended.path).expect("read")).expect("json");
        assert_eq!(written["timestamp"], "2026-01-29T10:15:00.000000Z");
    }

    #[test]
    fn an_event_over_64_kib_is_never_written() {
        let (_directory, store) = store();
        let padded = EVENT.replace(
            "\"round\": 1",
            &format!("\"padding\": \"{}\"", "x".repeat(70_000)),
        );
        let (event, document) = parsed(&padded);
        let error = store.append(&event, &document).expect_err("too large");
        assert!(matches!(error, StoreError::TooLarge { .. }), "{error}");
        assert!(store.list().expect("list").is_empty());
    }

    #[test]
    fn listing_skips_hidden_and_non_json_files_and_refuses_directories() {
        let (_directory, store) = store();
        fs::create_dir_all(store.events_dir().join("nested.json")).expect("mkdir");
        for name in [".gitkeep", ".hidden.json", "notes.txt", "b.json", "a.json"] {
            fs::write(store.events_dir().join(name), "{}").expect("write");
        }
        let listing = store.list().expect("list");
        assert_eq!(listing.files, ["a.json", "b.json"]);
        assert_eq!(listing.refused.len(), 1);
        assert_eq!(listing.refused[0].name, "nested.json");
        assert!(listing.refused[0].reason.contains("a directory"));
    }

    #[test]
    fn a_symlink_to_dev_zero_is_excluded_without_being_opened() {
        let (_directory, store) = store();
        fs::create_dir_all(store.events_dir()).expect("mkdir");
        let name = "2026-01-29T10-15-00-000000Z-bidder_1-success.json";
        std::os::unix::fs::symlink("/dev/zero", store.events_dir().join(name)).expect("symlink");
        let reason = excluded_reason(&store, name);
        assert!(
            reason.contains("symbolic link") && reason.contains("/dev/zero"),
            "{reason}"
        );
    }

    #[test]
    fn a_symlink_to_a_valid_event_outside_the_repository_is_not_folded() {
        let (directory, store) = store();
        fs::create_dir_all(store.events_dir()).expect("mkdir");
        let outside = tempfile::tempdir().expect("outside");
        let (event, _) = parsed(EVENT);
        let target = outside.path().join(event.file_name());
        fs::write(&target, EVENT).expect("write");
        std::os::unix::fs::symlink(&target, store.events_dir().join(event.file_name()))
            .expect("symlink");
        let listing = store.list().expect("list");
        assert!(listing.files.is_empty());
        let files = store.read_listing(&listing);
        assert_eq!(files.len(), 1);
        assert!(files[0].event.is_err());
        drop(directory);
    }

    #[test]
    fn a_fifo_is_excluded_without_being_opened() {
        let (_directory, store) = store();
        fs::create_dir_all(store.events_dir()).expect("mkdir");
        mkfifo(&store.events_dir().join("pipe.json"));
        let reason = excluded_reason(&store, "pipe.json");
        assert!(reason.contains("FIFO"), "{reason}");
    }

    #[test]
    fn a_fifo_swapped_in_after_the_listing_is_not_waited_on() {
        let (_directory, store) = store();
        fs::create_dir_all(store.events_dir()).expect("mkdir");
        let path = store.events_dir().join("a.json");
        fs::write(&path, EVENT).expect("write");
        let listing = store.list().expect("list");
        fs::remove_file(&path).expect("remove");
        mkfifo(&path);
        // Without O_NONBLOCK this open would wait for a writer for ever.
        let files = store.read(&listing.files);
        let error = files[0].event.as_ref().expect_err("a FIFO");
        assert!(error.to_string().contains("FIFO"), "{error}");
    }

    #[test]
    fn a_symlink_swapped_in_after_the_listing_is_not_followed() {
        let (_directory, store) = store();
        fs::create_dir_all(store.events_dir()).expect("mkdir");
        let path = store.events_dir().join("a.json");
        fs::write(&path, EVENT).expect("write");
        let listing = store.list().expect("list");
        fs::remove_file(&path).expect("remove");
        std::os::unix::fs::symlink("/dev/zero", &path).expect("symlink");
        let files = store.read(&listing.files);
        let error = files[0].event.as_ref().expect_err("a symlink");
        assert!(error.to_string().contains("symbolic link"), "{error}");
    }

    #[test]
    fn an_events_directory_that_is_a_symlink_is_refused() {
        let (directory, store) = store();
        let elsewhere = directory.path().join("elsewhere");
        fs::create_dir_all(&elsewhere).expect("mkdir");
        fs::create_dir_all(directory.path().join(".ralph")).expect("mkdir");
        std::os::unix::fs::symlink(&elsewhere, store.events_dir()).expect("symlink");
        let error = store.list().expect_err("a symlink");
        assert!(error.to_string().contains("symbolic link"), "{error}");
    }

    #[test]
    fn files_up_to_64_kib_are_read_whole_and_larger_ones_are_excluded_unread() {
        let (_directory, store) = store();
        fs::create_dir_all(store.events_dir()).expect("mkdir");
        let padded = |size: usize| {
            EVENT.replace(
                "\"round\": 1",
                &format!("\"padding\": \"{}\"", "x".repeat(size)),
            )
        };
        let big = padded(60_000);
        let too_big = padded(MAX_EVENT_BYTES as usize);
        fs::write(store.events_dir().join("big.json"), &big).expect("write");
        fs::write(store.events_dir().join("huge.json"), &too_big).expect("write");
        fs::write(store.events_dir().join("small.json"), EVENT).expect("write");
        let names = store.list().expect("list").files;
        let sizes = store.map_files_on(1, &names, |_, bytes| bytes.map(<[u8]>::len).ok());
        assert_eq!(sizes, [Some(big.len()), None, Some(EVENT.len())]);
        let reason = excluded_reason(&store, "huge.json");
        assert!(reason.contains("65536"), "{reason}");
    }

    #[test]
    fn a_canonical_name_that_disagrees_with_the_content_is_excluded() {
        let (_directory, store) = store();
        fs::create_dir_all(store.events_dir()).expect("mkdir");
        for (name, field) in [
            (
                "2026-01-29T10-15-00-123456Z-bidder_2-success.json",
                "bot_id",
            ),
            (
                "2026-01-29T10-15-00-123456Z-bidder_1-failure.json",
                "outcome",
            ),
            ("2026-01-29T10-15-00-123456Z-bidder_1-bogus.json", "outcome"),
            (
                "2026-01-29T10-16-00-123456Z-bidder_1-success.json",
                "timestamp",
            ),
        ] {
            fs::write(store.events_dir().join(name), EVENT).expect("write");
            let reason = excluded_reason(&store, name);
            assert!(
                reason.contains(field) && reason.contains("file name says"),
                "{name}: {reason}"
            );
        }
        let agreeing = "2026-01-29T10-15-00-123456Z-bidder_1-success.json";
        fs::write(store.events_dir().join(agreeing), EVENT).expect("write");
        let files = store.read(&[agreeing.to_owned(), "plain-name.json".to_owned()]);
        assert!(files[0].event.is_ok());
    }

    #[test]
    fn a_missing_events_directory_holds_no_events() {
        let (_directory, store) = store();
        assert!(store.list().expect("list").is_empty());
    }

    #[test]
    fn unreadable_files_are_reported_not_fatal() {
        let (_directory, store) = store();
        let events = store.read(&["absent.json".to_owned()]);
        let error = events[0].event.as_ref().expect_err("unreadable");
        assert!(error.message.contains("cannot read"), "{error}");
    }

    #[test]
    fn archiving_moves_every_event_and_deletes_nothing() {
        let (directory, store) = store();
        let (event, document) = parsed(EVENT);
        store.append(&event, &document).expect("append");
        fs::write(store.events_dir().join("broken.json"), "{").expect("write");
        std::os::unix::fs::symlink("/dev/zero", store.events_dir().join("zero.json"))
            .expect("symlink");
        let now = Utc::now();
        let archive_root = directory.path().join(".ralph/archive");
        let (target, moved) = store.archive(&archive_root, now).expect("archive");
        assert_eq!(moved, 3);
        assert!(store.list().expect("list").is_empty());
        assert_eq!(fs::read_dir(&target).expect("archive").count(), 3);
        let (again, _) = store.archive(&archive_root, now).expect("archive again");
        assert_ne!(
            again, target,
            "a second archive at the same instant gets its own folder"
        );
    }
}
