//! Writing a file so that a reader sees the old text or the new, never a
//! part: the text goes to a synced temporary file in `.ralph/tmp/`, which is
//! then renamed over the target (or linked to a new name, failing if it
//! exists).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A failed write, naming the path it failed on.
#[derive(Debug)]
pub struct WriteError {
    pub path: PathBuf,
    pub source: io::Error,
}

fn at(path: &Path) -> impl FnOnce(io::Error) -> WriteError + '_ {
    move |source| WriteError {
        path: path.to_owned(),
        source,
    }
}

/// Replaces (or creates) `target` with `text`.
pub fn replace(tmp: &Path, target: &Path, text: &str) -> Result<(), WriteError> {
    let temporary = write_temporary(tmp, target, text)?;
    let renamed = fs::rename(&temporary, target).map_err(at(target));
    if renamed.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    renamed?;
    sync_parent(target);
    Ok(())
}

/// Creates `target` with `text`; `Ok(false)` when `target` already exists
/// (nothing is written then).
pub fn create_new(tmp: &Path, target: &Path, text: &str) -> Result<bool, WriteError> {
    let temporary = write_temporary(tmp, target, text)?;
    let linked = fs::hard_link(&temporary, target);
    let _ = fs::remove_file(&temporary);
    match linked {
        Ok(()) => {
            sync_parent(target);
            Ok(true)
        }
        Err(error) if error.kind() == io::ErrorKind::AlreadyExists => Ok(false),
        Err(error) => Err(at(target)(error)),
    }
}

fn write_temporary(tmp: &Path, target: &Path, text: &str) -> Result<PathBuf, WriteError> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    fs::create_dir_all(tmp).map_err(at(tmp))?;
    if let Some(parent) = target.parent() {
        fs::create_dir_all(parent).map_err(at(parent))?;
    }
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_nanos())
        .unwrap_or_default();
    let stem = target
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = tmp.join(format!(
        "{stem}-{}-{nanos}-{}.tmp",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let written = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&temporary)
        .and_then(|mut file| {
            file.write_all(text.as_bytes())?;
            file.sync_all()
        });
    if let Err(error) = written {
        let _ = fs::remove_file(&temporary);
        return Err(at(&temporary)(error));
    }
    Ok(temporary)
}

/// Syncs the directory holding `path` where the platform allows it, so the
/// new name survives a crash.
fn sync_parent(path: &Path) {
    if let Some(parent) = path.parent()
        && let Ok(directory) = File::open(parent)
    {
        let _ = directory.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replacing_writes_the_whole_text_and_leaves_no_temporary_file() {
        let directory = tempfile::tempdir().expect("temp dir");
        let tmp = directory.path().join("tmp");
        let target = directory.path().join("issues/1.md");
        replace(&tmp, &target, "first").expect("write");
        replace(&tmp, &target, "second").expect("write");
        assert_eq!(fs::read_to_string(&target).expect("read"), "second");
        assert_eq!(fs::read_dir(&tmp).expect("tmp").count(), 0);
    }

    #[test]
    fn creating_never_replaces_an_existing_file() {
        let directory = tempfile::tempdir().expect("temp dir");
        let tmp = directory.path().join("tmp");
        let target = directory.path().join("1.md");
        assert!(create_new(&tmp, &target, "first").expect("create"));
        assert!(!create_new(&tmp, &target, "second").expect("exists"));
        assert_eq!(fs::read_to_string(&target).expect("read"), "first");
        assert_eq!(fs::read_dir(&tmp).expect("tmp").count(), 0);
    }
}
