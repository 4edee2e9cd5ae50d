//! The event log on disk: listing, reading and appending event files.
//!
//! An append never replaces a file and a reader never sees a partial one: the
//! event is written to `.ralph/tmp/`, synced, then hard-linked into
//! `.ralph/events/` under its canonical name (the link fails rather than
//! replace an existing name; on a clash the next microsecond is tried).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use chrono::{DateTime, TimeDelta, Utc};

use crate::event::{self, Event};
use crate::fold::EventFile;
use crate::layout::Layout;

/// How many microseconds an append moves forward before giving up.
const MAX_NAME_ATTEMPTS: i64 = 10_000;
/// Event files are small; a larger file is read whole all the same.
const READ_BUFFER: usize = 8 * 1024;

/// A failure of the event store, naming the path involved.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("{}: no free file name for this event after {MAX_NAME_ATTEMPTS} microseconds", path.display())]
    NoFreeName { path: PathBuf },
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

    /// The names of the event files (`*.json`, not hidden), sorted. A
    /// missing directory holds no events.
    pub fn list(&self) -> Result<Vec<String>, StoreError> {
        let entries = match fs::read_dir(&self.events) {
            Ok(entries) => entries,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(error) => return Err(StoreError::io(&self.events)(error)),
        };
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(StoreError::io(&self.events))?;
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            if name.starts_with('.') || !name.ends_with(".json") {
                continue;
            }
            let file_type = entry.file_type().map_err(StoreError::io(&self.events))?;
            if file_type.is_dir() {
                continue;
            }
            names.push(name);
        }
        names.sort_unstable();
        Ok(names)
    }

    /// Reads and parses the named event files, in parallel.
    pub fn read(&self, names: &[String]) -> Vec<EventFile> {
        self.map_files(names, |name, bytes| EventFile {
            name: name.to_owned(),
            event: match bytes {
                Ok(bytes) => Event::parse(bytes),
                Err(error) => Err(event::EventError {
                    field: None,
                    message: format!("cannot read the file: {error}"),
                }),
            },
        })
    }

    /// Reads the named files and hands each one's bytes to `work`, spread
    /// over the machine's cores; results come back in `names` order.
    pub fn map_files<T, F>(&self, names: &[String], work: F) -> Vec<T>
    where
        T: Send,
        F: Fn(&str, io::Result<&[u8]>) -> T + Sync,
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
        F: Fn(&str, io::Result<&[u8]>) -> T + Sync,
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
                                let read = read_into(&self.events.join(name), &mut buffer);
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
    /// canonical name; never replaces an existing file.
    pub fn append(
        &self,
        event: &Event,
        document: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<Appended, StoreError> {
        fs::create_dir_all(&self.events).map_err(StoreError::io(&self.events))?;
        fs::create_dir_all(&self.tmp).map_err(StoreError::io(&self.tmp))?;
        let mut document = document.clone();
        for attempt in 0..MAX_NAME_ATTEMPTS {
            let time = event.time + TimeDelta::microseconds(attempt);
            let timestamp = if attempt == 0 {
                event.timestamp.clone()
            } else {
                let timestamp = event::format_timestamp(&time);
                document.insert("timestamp".into(), timestamp.clone().into());
                timestamp
            };
            let file_name = event::file_name(&time, &event.bot_id, event.outcome);
            let path = self.events.join(&file_name);
            // A name seen taken is skipped before anything is written; the
            // link below still refuses one taken in the meantime.
            if path.symlink_metadata().is_ok() {
                continue;
            }
            if self.link_new(&document, &path)? {
                return Ok(Appended {
                    path,
                    file_name,
                    timestamp,
                });
            }
        }
        Err(StoreError::NoFreeName {
            path: self.events.clone(),
        })
    }

    /// Writes `document` to a synced temporary file and links it to `path`.
    /// Returns `false` when `path` already exists.
    fn link_new(
        &self,
        document: &serde_json::Map<String, serde_json::Value>,
        path: &Path,
    ) -> Result<bool, StoreError> {
        let mut bytes = serde_json::to_vec_pretty(document).unwrap_or_default();
        bytes.push(b'\n');
        let temporary = write_synced_temporary(&self.tmp, &bytes)?;
        let linked = fs::hard_link(&temporary, path);
        // The temporary name is ours alone; failing to remove it leaves
        // garbage in the ignored tmp/ directory, never a wrong event.
        let _ = fs::remove_file(&temporary);
        match linked {
            Ok(()) => {
                sync_directory(&self.events)?;
                Ok(true)
            }
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => Ok(false),
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
        let names = self.list()?;
        let stamp = now.format("%Y-%m-%dT%H-%M-%S-%6fZ").to_string();
        let mut target = archive_root.join(&stamp);
        let mut suffix = 1;
        while target.exists() {
            target = archive_root.join(format!("{stamp}-{suffix}"));
            suffix += 1;
        }
        fs::create_dir_all(&target).map_err(StoreError::io(&target))?;
        for name in &names {
            let destination = target.join(name);
            fs::rename(self.events.join(name), &destination)
                .map_err(StoreError::io(&destination))?;
        }
        sync_directory(&target)?;
        sync_directory(&self.events)?;
        Ok((target, names.len()))
    }
}

/// Reads the whole file at `path` into `buffer`, replacing its contents.
///
/// Plain reads into a reused buffer: `read_to_end` on a `File` would also
/// ask for the file's size and position, two more system calls per event.
fn read_into(path: &Path, buffer: &mut Vec<u8>) -> io::Result<()> {
    let mut file = File::open(path)?;
    buffer.resize(buffer.capacity().max(READ_BUFFER), 0);
    let mut filled = 0;
    loop {
        if filled == buffer.len() {
            buffer.resize(buffer.len() * 2, 0);
        }
        match file.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(read) => filled += read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    buffer.truncate(filled);
    Ok(())
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

    #[test]
    fn an_appended_event_lands_under_its_canonical_name() {
        let (_directory, store) = store();
        let (event, document) = parsed(EVENT);
        let appended = store.append(&event, &document).expect("append");
        assert_eq!(
            appended.file_name,
            "2026-01-29T10-15-00-123456Z-bidder_1-success.json"
        );
        assert_eq!(
            store.list().expect("list"),
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
        let second = store.append(&event, &document).expect("second");
        assert_eq!(
            second.file_name,
            "2026-01-29T10-15-00-123457Z-bidder_1-success.json"
        );
        assert_eq!(second.timestamp, "2026-01-29T10:15:00.123457Z");
        assert_eq!(fs::read(&first.path).expect("read"), before);
        let events = store.read(&store.list().expect("list"));
        assert_eq!(events.len(), 2);
        assert!(events.iter().all(|file| file.event.is_ok()));
    }

    #[test]
    fn listing_skips_hidden_and_non_json_files_and_directories() {
        let (_directory, store) = store();
        fs::create_dir_all(store.events_dir().join("nested.json")).expect("mkdir");
        for name in [".gitkeep", ".hidden.json", "notes.txt", "b.json", "a.json"] {
            fs::write(store.events_dir().join(name), "{}").expect("write");
        }
        assert_eq!(store.list().expect("list"), ["a.json", "b.json"]);
    }

    #[test]
    fn files_larger_than_the_read_buffer_are_read_whole() {
        let (_directory, store) = store();
        fs::create_dir_all(store.events_dir()).expect("mkdir");
        let big = EVENT.replace(
            "\"round\": 1",
            &format!("\"padding\": \"{}\"", "x".repeat(100_000)),
        );
        fs::write(store.events_dir().join("big.json"), &big).expect("write");
        fs::write(store.events_dir().join("small.json"), EVENT).expect("write");
        let names = store.list().expect("list");
        let sizes = store.map_files_on(1, &names, |_, bytes| bytes.map(<[u8]>::len).unwrap_or(0));
        assert_eq!(sizes, [big.len(), EVENT.len()]);
        assert!(store.read(&names).iter().all(|file| file.event.is_ok()));
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
        let now = Utc::now();
        let archive_root = directory.path().join(".ralph/archive");
        let (target, moved) = store.archive(&archive_root, now).expect("archive");
        assert_eq!(moved, 2);
        assert!(store.list().expect("list").is_empty());
        assert_eq!(fs::read_dir(&target).expect("archive").count(), 2);
        let (again, _) = store.archive(&archive_root, now).expect("archive again");
        assert_ne!(
            again, target,
            "a second archive at the same instant gets its own folder"
        );
    }
}
